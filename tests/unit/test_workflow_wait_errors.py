"""Which errors end a workflow wait and which a later look can heal (pure logic, no HTTP)."""

from __future__ import annotations

from typing import Any

import pytest

from contentops.hooks.errors import (
    AuthenticationError,
    InvalidConnectionError,
    MalformedResponseError,
    NotFoundError,
    PartnerServerError,
    PartnerUnavailableError,
    RateLimitedError,
    RequestRejectedError,
)
from contentops.sensors.workflow import WorkflowInstanceSensor
from contentops.triggers.workflow import is_transient

S = "opentext_workflow"


@pytest.mark.parametrize(
    "error",
    [
        PartnerServerError("503", system=S),
        PartnerUnavailableError("down", system=S),
        RateLimitedError("429", system=S),
        AuthenticationError("refused", system=S),
        MalformedResponseError("html", system=S),
    ],
)
def test_errors_a_later_look_may_heal(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        NotFoundError("gone", system=S),
        InvalidConnectionError("no host", system=S),
        RequestRejectedError("bad", system=S),
        ValueError("a bug"),
    ],
)
def test_errors_that_end_the_wait(error: Exception) -> None:
    assert not is_transient(error)


def sensor_reading(outcome: Any) -> WorkflowInstanceSensor:
    sensor = WorkflowInstanceSensor(task_id="wait", instance_id="pi-1", deferrable=False)

    def read() -> dict[str, Any]:
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sensor._instance = read  # type: ignore[method-assign]
    return sensor


def test_a_poke_that_meets_a_transient_error_is_not_yet() -> None:
    assert sensor_reading(PartnerServerError("503", system=S)).poke({}) is False
    assert sensor_reading({"id": "pi-1", "ended": True}).poke({}) is True
    with pytest.raises(NotFoundError):
        sensor_reading(NotFoundError("gone", system=S)).poke({})
