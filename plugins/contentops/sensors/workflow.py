"""Wait for a workflow's outcome without holding a worker slot (deferrable)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator

from contentops.triggers.workflow import WorkflowInstanceTrigger, is_transient


class WorkflowFailedError(RuntimeError):
    """The instance could not be read, or was terminated without an outcome."""


class WorkflowInstanceSensor(BaseSensorOperator):
    """Returns ``{"instance_id", "outcome", "variables", "completed"}`` once the instance has ended.

    ``instance_id`` is templated (typically an XCom of the task that started the workflow).
    The wait happens in the triggerer (``deferrable=True``, the default); with
    ``deferrable=False`` it pokes like a classic sensor.
    """

    template_fields: Sequence[str] = ("instance_id", "workflow_conn_id", "poll_interval")

    def __init__(
        self,
        *,
        instance_id: str,
        workflow_conn_id: str = "opentext_workflow_default",
        poll_interval: float | str = 30.0,
        deferrable: bool = True,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("timeout", timedelta(days=14).total_seconds())
        super().__init__(**kwargs)
        self.instance_id = instance_id
        self.workflow_conn_id = workflow_conn_id
        self.poll_interval = poll_interval
        self.deferrable = deferrable

    def _instance(self) -> dict[str, Any]:
        """The instance, read with one hook per task try: pokes reuse its token."""
        from contentops.hooks.opentext_workflow import OpenTextWorkflowHook

        hook = getattr(self, "_workflow_hook", None)
        if hook is None:
            hook = self._workflow_hook = OpenTextWorkflowHook(self.workflow_conn_id)
        return hook.get_instance(self.instance_id).model_dump(mode="json")

    def poke(self, context: Any) -> bool:
        """Ended yet? An error a later poke may heal (the partner down, 5xx, 429) is "not yet"."""
        try:
            return bool(self._instance().get("ended"))
        except Exception as exc:
            if not is_transient(exc):
                raise
            self.log.warning("Reading workflow %s failed (%s); poking again later", self.instance_id, exc)
            return False

    def execute(self, context: Any) -> Any:
        if not self.instance_id:
            return None  # nothing was started (e.g. a dry run)
        try:
            instance: dict[str, Any] = self._instance()
        except Exception as exc:
            if not is_transient(exc):
                raise
            instance = {}  # the trigger looks again
        if instance.get("ended"):
            return self._result(instance)
        if not self.deferrable:
            super().execute(context)
            return self._result(self._instance())
        self.defer(
            trigger=WorkflowInstanceTrigger(self.instance_id, self.workflow_conn_id, float(self.poll_interval)),
            method_name="execute_complete",
            timeout=timedelta(seconds=float(self.timeout)),
        )
        return None

    def execute_complete(self, context: Any, event: dict[str, Any]) -> dict[str, Any]:
        if event.get("status") != "ended":
            raise WorkflowFailedError(f"waiting for workflow {self.instance_id} failed: {event.get('message')}")
        return self._result(event["instance"])

    def _result(self, instance: dict[str, Any]) -> dict[str, Any]:
        result = {
            "instance_id": instance["id"],
            "outcome": instance.get("outcome"),
            "variables": instance.get("variables") or {},
            "completed": bool(instance.get("completed")),
        }
        self.log.info("Workflow %s ended: outcome %s", instance["id"], result["outcome"])
        return result
