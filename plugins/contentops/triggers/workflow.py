"""Wait for a workflow instance to end, in the triggerer: polls only, never starts anything.

A trigger that wrote to the partner could send twice when the triggerer restarts; starting is
done on the worker (:func:`contentops.pipelines.workflows.start_workflow_once`), the trigger
only reads the instance until it has ended.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent


class WorkflowInstanceTrigger(BaseTrigger):
    def __init__(self, instance_id: str, conn_id: str = "opentext_workflow_default", poll_interval: float = 30.0):
        super().__init__()
        self.instance_id = instance_id
        self.conn_id = conn_id
        self.poll_interval = poll_interval

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "contentops.triggers.workflow.WorkflowInstanceTrigger",
            {"instance_id": self.instance_id, "conn_id": self.conn_id, "poll_interval": self.poll_interval},
        )

    def _read(self) -> dict[str, Any]:
        from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

        instance = OpenTextWorkflowHook(self.conn_id).get_instance(self.instance_id)
        return instance.model_dump(mode="json", by_alias=False)

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while True:
            try:
                instance = await asyncio.to_thread(self._read)
            except Exception as exc:
                yield TriggerEvent(
                    {"status": "error", "instance_id": self.instance_id, "message": f"{type(exc).__name__}: {exc}"}
                )
                return
            if instance.get("ended"):
                yield TriggerEvent({"status": "ended", "instance": instance})
                return
            self.log.info(
                "Workflow instance %s still running; next look in %.0f s", self.instance_id, self.poll_interval
            )
            await asyncio.sleep(self.poll_interval)
