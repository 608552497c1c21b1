"""Wait for a workflow instance to end, in the triggerer: polls only, never starts anything.

A trigger that wrote to the partner could send twice when the triggerer restarts; starting is
done on the worker (:func:`contentops.pipelines.workflows.start_workflow_once`), the trigger
only reads the instance until it has ended.

A wait can last up to the sensor's timeout (14 days by default), so the trigger keeps one hook
— one session and one OAuth token, renewed only when it expires or is refused — for all its
polls, reads an ended instance from the history API (the hook does: the runtime API answers 404
once an instance has ended), and rides out errors a later poll can heal (the partner down, 5xx,
429, a token refused once). Only what no later poll can change ends the wait as an error: the
instance does not exist, the connection is incomplete, the request is refused as such. The
wait's own timeout bounds the rest.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

if TYPE_CHECKING:
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook


def is_transient(exc: BaseException) -> bool:
    """Whether a later poll may succeed where this one failed.

    Partner errors are, except those no later poll can change: the instance does not exist, the
    connection is incomplete, the request is refused as such. Anything that is not a partner
    error (a bug, an answer our model cannot read) is not either.
    """
    from contentops.hooks.errors import InvalidConnectionError, NotFoundError, PartnerAPIError, RequestRejectedError

    permanent = (InvalidConnectionError, NotFoundError, RequestRejectedError)
    return isinstance(exc, PartnerAPIError) and not isinstance(exc, permanent)


def _is_refused_credentials(exc: BaseException) -> bool:
    from contentops.hooks.errors import AuthenticationError

    return isinstance(exc, AuthenticationError)


class WorkflowInstanceTrigger(BaseTrigger):
    def __init__(self, instance_id: str, conn_id: str = "opentext_workflow_default", poll_interval: float = 30.0):
        super().__init__()
        self.instance_id = instance_id
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self._hook: OpenTextWorkflowHook | None = None

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "contentops.triggers.workflow.WorkflowInstanceTrigger",
            {"instance_id": self.instance_id, "conn_id": self.conn_id, "poll_interval": self.poll_interval},
        )

    @property
    def hook(self) -> OpenTextWorkflowHook:
        """One hook for the whole wait: its transport keeps the session and the token across polls."""
        if self._hook is None:
            from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

            self._hook = OpenTextWorkflowHook(self.conn_id)
        return self._hook

    def _read(self) -> dict[str, Any]:
        return self.hook.get_instance(self.instance_id).model_dump(mode="json", by_alias=False)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        failures = 0
        while True:
            try:
                instance = await asyncio.to_thread(self._read)
            except Exception as exc:
                if not is_transient(exc):
                    yield TriggerEvent(
                        {"status": "error", "instance_id": self.instance_id, "message": f"{type(exc).__name__}: {exc}"}
                    )
                    return
                failures += 1
                if _is_refused_credentials(exc):
                    self._hook = None  # read the connection again: an admin may have replaced the secret
                self.log.warning(
                    "Reading workflow instance %s failed (%d in a row, %s); next look in %.0f s",
                    self.instance_id,
                    failures,
                    type(exc).__name__,
                    self.poll_interval,
                )
            else:
                failures = 0
                if instance.get("ended"):
                    yield TriggerEvent({"status": "ended", "instance": instance})
                    return
                self.log.info(
                    "Workflow instance %s still running; next look in %.0f s", self.instance_id, self.poll_interval
                )
            await asyncio.sleep(self.poll_interval)
