"""How contentops tasks retry: Airflow's ``retry_policy``, decided by the partner error's type.

The hooks already retry what a retry can fix within one call (5xx, connection errors, 429 with
``Retry-After``), so a task that still fails is past that. What is worth another task try then
depends on the error, not on a blanket count:

- a connection that cannot work (incomplete, malformed), a payload the partner rejected, an
  object that does not exist, a download off the partner's origin, a settings file in
  ``include/config`` that does not validate: the same try fails the same way — fail now, with
  the hook's hint in the log, instead of retrying for minutes;
- still rate limited after the hook's own back-off: the partner needs a longer pause than the
  task's usual delay — retry after :data:`RATE_LIMITED_DELAY`;
- anything else (the partner down or failing, a conflict, a malformed answer): the task's own
  ``retries`` and ``retry_delay``. Refused credentials too: with rotating refresh tokens, two
  tasks refreshing at the same moment can leave one holding a token the partner has just
  replaced, and the next try, reading the newest stored token, succeeds.

Exceptions are named by path, so a DAG file that imports this module does not import the hooks.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from airflow.sdk import ExceptionRetryPolicy, RetryAction, RetryRule

_ERRORS = "contentops.hooks.errors"
RATE_LIMITED_DELAY = timedelta(minutes=5)

PARTNER_RETRY_POLICY = ExceptionRetryPolicy(
    rules=[
        RetryRule(
            exception=[
                f"{_ERRORS}.InvalidConnectionError",
                f"{_ERRORS}.RequestRejectedError",
                f"{_ERRORS}.NotFoundError",
                f"{_ERRORS}.DownloadRefusedError",
                "contentops.config.SettingsError",
            ],
            action=RetryAction.FAIL,
            reason="this request cannot succeed as it is (connection, payload, object, origin or settings file)",
        ),
        RetryRule(
            exception=f"{_ERRORS}.RateLimitedError",
            action=RetryAction.RETRY,
            retry_delay=RATE_LIMITED_DELAY,
            reason="still rate limited after the hook's back-off",
        ),
    ]
)


def task_defaults(retry_delay: timedelta, retries: int = 2) -> dict[str, Any]:
    """``default_args`` of a contentops DAG: ``retries`` tries after ``retry_delay``, under
    :data:`PARTNER_RETRY_POLICY`; a task that fails for good for a reason a person must fix
    (a connection, credentials, a payload, a settings file) tells the team at once
    (``contentops.alerts``), with the hook's hint, instead of waiting for someone to read the log."""
    from contentops.alerts.notify import ContentopsNotifier

    return {
        "retries": retries,
        "retry_delay": retry_delay,
        "retry_policy": PARTNER_RETRY_POLICY,
        "on_failure_callback": ContentopsNotifier("action_needed"),
    }
