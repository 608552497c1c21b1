"""The retry policy of contentops tasks: which partner errors are worth another task try."""

from __future__ import annotations

from datetime import timedelta

import pytest
from airflow.sdk import RetryAction

from contentops.hooks import errors
from contentops.retries import PARTNER_RETRY_POLICY, RATE_LIMITED_DELAY, task_defaults

pytestmark = pytest.mark.unit


def _decide(exc: BaseException) -> tuple[RetryAction, timedelta | None]:
    decision = PARTNER_RETRY_POLICY.evaluate(exc, try_number=1, max_tries=3)
    return decision.action, decision.retry_delay


@pytest.mark.parametrize(
    "error",
    [
        errors.InvalidConnectionError,
        errors.RequestRejectedError,
        errors.GraphQLError,  # a rejected query is a rejected request
        errors.NotFoundError,
        errors.DownloadRefusedError,
        errors.DownloadTooLargeError,
    ],
)
def test_a_refused_request_fails_at_once(error: type[errors.PartnerAPIError]) -> None:
    assert _decide(error("refused", system="vip")) == (RetryAction.FAIL, None)


def test_rate_limited_past_the_hooks_back_off_waits_longer_than_the_task_delay() -> None:
    assert _decide(errors.RateLimitedError("429", system="smintio", retry_after=30)) == (
        RetryAction.RETRY,
        RATE_LIMITED_DELAY,
    )


@pytest.mark.parametrize(
    "exc",
    [
        errors.PartnerServerError("503", system="exstream"),
        errors.PartnerUnavailableError("down", system="exstream"),
        errors.ConflictError("409", system="trading_grid"),
        errors.AuthenticationError("refresh token refused", system="smintio"),  # a rotation race heals
        errors.MalformedResponseError("shape", system="consonance"),
        ValueError("a bug of ours"),
    ],
)
def test_the_rest_keeps_the_tasks_own_retries(exc: BaseException) -> None:
    assert _decide(exc) == (RetryAction.DEFAULT, None)


def test_task_defaults_carry_the_policy() -> None:
    from contentops.alerts.notify import ContentopsNotifier

    defaults = task_defaults(retry_delay=timedelta(minutes=2))
    callback = defaults.pop("on_failure_callback")
    assert defaults == {"retries": 2, "retry_delay": timedelta(minutes=2), "retry_policy": PARTNER_RETRY_POLICY}
    # a task that fails for good tells the team when a person must act (contentops.alerts)
    assert isinstance(callback, ContentopsNotifier) and callback.event == "action_needed"


def test_a_settings_file_that_does_not_validate_fails_at_once() -> None:
    from contentops.config import SettingsError

    assert _decide(SettingsError("include/config/mappings/consonance_titles.yaml: unknown key")) == (
        RetryAction.FAIL,
        None,
    )
