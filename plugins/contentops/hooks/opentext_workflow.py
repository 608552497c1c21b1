"""OpenText Workflow Service: approvals, renewals, exceptions and reviews as process instances.

Sourced (see docs/systems/opentext_workflow.md): ``/workflow/v1`` paths, ``offset``/``count``
paging with HAL ``_embedded`` and ``_links.next``, instance variables and comments as HAL pages,
the start body, task actions, the instance fields, and the history API
(``/workflow-history/v1/historic-process-instances/{id}``) that OpenText's own UI reads to learn
whether an instance has ended — the Flowable engine underneath forgets a runtime instance (404)
once it has ended. Modelled: ``businessKey`` (Flowable's name) to find the instance started for
a given asset and version, ``outcome`` on a finished instance, and the time filters
``startedAfter`` / ``startedBefore`` (instances) and ``createdAfter`` / ``createdBefore``
(tasks), Flowable's names, to list what arrived in a run's window.

Connection (conn_type ``opentext_workflow``): host = the OpenText Cloud Platform host
(``https://na-1-dev.api.opentext.com``), login/password = client id/secret, extra
``tenant_id`` (and optionally ``token_style``, ``token_path``, ``workflow_path``,
``history_path``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import quote

from contentops import lineage
from contentops.hooks.auth import Auth
from contentops.hooks.base import PartnerHook
from contentops.hooks.errors import MalformedResponseError, NotFoundError
from contentops.hooks.opentext import ocp_auth
from contentops.models.common import as_utc
from contentops.models.opentext_workflow import ProcessModel, WorkflowInstance, WorkflowTask


def _wire_time(moment: datetime) -> str:
    """UTC with a ``Z``: no ``+`` that a next-page link could turn into a space."""
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _in_window(moment: datetime | None, after: datetime | None, before: datetime | None) -> bool:
    """Whether ``moment`` lies in ``[after, before)`` (an open bound lets anything through)."""
    if moment is None:
        return after is None and before is None
    return (after is None or moment >= as_utc(after)) and (before is None or moment < as_utc(before))


def _wire_variables(variables: dict[str, Any] | None) -> list[dict[str, Any]]:
    return [{"name": name, "value": value} for name, value in (variables or {}).items()]


def _variable_type(value: Any) -> str:
    """The variable type OpenText's UI sends with a value (``string``, ``boolean``, ``integer``,
    ``double``, ``json``)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str) or value is None:
        return "string"
    return "json"


def _typed_variable(name: str, value: Any) -> dict[str, Any]:
    """One variable as OpenText's admin UI writes it: name, type, scope and value."""
    return {"name": name, "type": _variable_type(value), "scope": "local", "value": value}


class OpenTextWorkflowHook(PartnerHook):
    """Process models, instances and tasks of OpenText Workflow Service."""

    conn_name_attr: ClassVar[str] = "workflow_conn_id"
    default_conn_name: ClassVar[str] = "opentext_workflow_default"
    conn_type: ClassVar[str] = "opentext_workflow"
    hook_name: ClassVar[str] = "OpenText Workflow Service"
    system: ClassVar[str] = "opentext_workflow"
    health_path: ClassVar[str | None] = "models"
    default_paths: ClassVar[dict[str, str]] = {
        "models": "runtime/models",
        "instances": "process-instances",
        "instance": "process-instances/{instance_id}",
        "instance_variables": "process-instances/{instance_id}/variables",
        "instance_comments": "process-instances/{instance_id}/comments",
        "historic_instance": "historic-process-instances/{instance_id}",
        "tasks": "tasks",
        "task": "tasks/{task_id}",
    }

    def __init__(self, workflow_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(workflow_conn_id, **kwargs)

    def host_url(self) -> str:
        return super().base_url()

    def base_url(self) -> str:
        return self.host_url() + str(self.extra.get("workflow_path") or "/workflow/v1")

    def history_url(self) -> str:
        """The history API's root: a sibling of ``/workflow/v1`` on the same host."""
        return self.host_url() + str(self.extra.get("history_path") or "/workflow-history/v1")

    def build_auth(self, conn: Any) -> Auth | None:
        return ocp_auth(self.host_url(), conn, self.extra, system=self.system)

    # -- models and instances ----------------------------------------------------------------
    def list_models(self, key: str | None = None) -> list[ProcessModel]:
        params = {"key": key} if key else None
        return [
            ProcessModel.model_validate(m) for m in self._iter_hal_offset(self.path("models"), "models", 100, params)
        ]

    def start_instance(
        self,
        definition_key: str,
        *,
        name: str,
        business_key: str | None = None,
        variables: dict[str, Any] | None = None,
    ) -> WorkflowInstance:
        """Start a process instance. Not idempotent by itself: see :func:`start_workflow_once`."""
        body: dict[str, Any] = {
            "processDefinitionKey": definition_key,
            "name": name,
            "variables": _wire_variables(variables),
            "returnVariables": True,
        }
        if business_key:
            body["businessKey"] = business_key
        instance = WorkflowInstance.model_validate(self.transport.json("POST", self.path("instances"), json=body))
        lineage.wrote(self, "process-instances", instance.id)
        return instance

    def find_instances(
        self, *, business_key: str | None = None, definition_key: str | None = None, page_size: int = 50
    ) -> list[WorkflowInstance]:
        params: dict[str, Any] = {"sort": "startTime", "order": "desc"}
        if business_key:
            params["businessKey"] = business_key
        if definition_key:
            params["processDefinitionKey"] = definition_key
        found = (
            WorkflowInstance.model_validate(i)
            for i in self._iter_hal_offset(self.path("instances"), "process-instances", page_size, params)
        )
        # businessKey is Flowable's filter, not one OpenText shows: should the service ignore it,
        # an instance started for another asset must not pass for this one
        return [i for i in found if business_key is None or i.business_key == business_key]

    def iter_instances(
        self,
        definition_key: str | None = None,
        *,
        started_after: datetime | None = None,
        started_before: datetime | None = None,
        page_size: int = 50,
    ) -> Iterator[WorkflowInstance]:
        """Instances (running or ended) started in ``[started_after, started_before)``, oldest first."""
        params: dict[str, Any] = {"sort": "startTime", "order": "asc"}
        if definition_key:
            params["processDefinitionKey"] = definition_key
        if started_after is not None:
            params["startedAfter"] = _wire_time(started_after)
        if started_before is not None:
            params["startedBefore"] = _wire_time(started_before)
        for item in self._iter_hal_offset(self.path("instances"), "process-instances", page_size, params):
            instance = WorkflowInstance.model_validate(item)
            # the time filters are Flowable's names (modelled): the window is enforced here too
            if _in_window(instance.start_time, started_after, started_before):
                yield instance

    def get_instance(self, instance_id: str) -> WorkflowInstance:
        """The instance, running or ended.

        The runtime API answers while it runs; once it has ended the engine (Flowable) answers
        404 there, and the history API has it, with ``endTime`` set — the same call OpenText's
        own UI makes to tell whether an instance has ended. A 404 from both means it never existed.
        """
        lineage.read(self, "process-instances", instance_id)
        try:
            return WorkflowInstance.model_validate(
                self.transport.json("GET", self.path("instance", instance_id=instance_id))
            )
        except NotFoundError:
            return self.get_historic_instance(instance_id)

    def get_historic_instance(self, instance_id: str) -> WorkflowInstance:
        """The instance as the history API keeps it (with its variables)."""
        url = self.history_url() + "/" + self.path("historic_instance", instance_id=instance_id)
        body = self.transport.json("GET", url, params={"includeProcessVariables": "true"})
        return WorkflowInstance.from_history(body)

    def suspend(self, instance_id: str, comment: str | None = None) -> WorkflowInstance:
        return self._act(instance_id, "suspend", comment)

    def activate(self, instance_id: str, comment: str | None = None) -> WorkflowInstance:
        return self._act(instance_id, "activate", comment)

    def _act(self, instance_id: str, action: str, comment: str | None) -> WorkflowInstance:
        body: dict[str, Any] = {"action": action}
        if comment:
            body["comment"] = {"includeUserIds": False, "message": comment, "type": "comment"}
        instance = WorkflowInstance.model_validate(
            self.transport.json("PUT", self.path("instance", instance_id=instance_id), json=body)
        )
        lineage.wrote(self, "process-instances", instance_id)
        return instance

    def terminate(self, instance_id: str) -> None:
        self.transport.request("DELETE", self.path("instance", instance_id=instance_id), expected={404})
        lineage.wrote(self, "process-instances", instance_id)

    def variables(self, instance_id: str, *, page_size: int = 100) -> dict[str, Any]:
        """The instance's variables by name (a HAL page of ``_embedded.variables``, paged by offset)."""
        items = self._iter_hal_offset(self.path("instance_variables", instance_id=instance_id), "variables", page_size)
        return {item["name"]: item.get("value") for item in items if isinstance(item, dict) and "name" in item}

    def set_variable(self, instance_id: str, name: str, value: Any, *, type_: str | None = None) -> None:
        """Write one variable (``PUT …/variables/{name}``, as OpenText's admin UI does)."""
        body = _typed_variable(name, value)
        if type_:
            body["type"] = type_
        path = self.path("instance_variables", instance_id=instance_id) + "/" + quote(name, safe="")
        self.transport.json("PUT", path, json=body)
        lineage.wrote(self, "process-instances", instance_id)

    def set_variables(self, instance_id: str, variables: dict[str, Any]) -> None:
        """Create or overwrite variables (``POST …/variables``, each with its type and scope)."""
        self.transport.json(
            "POST",
            self.path("instance_variables", instance_id=instance_id),
            json=[_typed_variable(name, value) for name, value in variables.items()],
            idempotent=True,
        )
        lineage.wrote(self, "process-instances", instance_id)

    def comments(self, instance_id: str, *, page_size: int = 100) -> list[dict[str, Any]]:
        """The instance's comments (``id``, ``author``, ``time``, ``message``), oldest first as the
        service lists them (a HAL page of ``_embedded.comments``, paged by offset)."""
        path = self.path("instance_comments", instance_id=instance_id)
        return [c for c in self._iter_hal_offset(path, "comments", page_size) if isinstance(c, dict)]

    def _iter_hal_offset(
        self, path: str, key: str, page_size: int, params: dict[str, Any] | None = None
    ) -> Iterator[Any]:
        """Items of a HAL list (``_embedded.<key>``) paged by ``offset``/``count``, until a short
        page or ``page.totalElements``.

        That is how OpenText's own UIs page every list (instances, tasks, variables, comments);
        a ``_links.next`` is only shown for tasks, so the hook does not depend on one."""

        def items(page: Any) -> list[Any]:
            if not isinstance(page, dict):
                raise MalformedResponseError("expected a HAL object", system=self.system, url=path)
            return list((page.get("_embedded") or {}).get(key) or [])

        def total(page: Any) -> int | None:
            value = (page.get("page") or {}).get("totalElements") if isinstance(page, dict) else None
            return value if isinstance(value, int) else None

        return self.transport.iter_offset(path, items=items, page_size=page_size, total=total, params=params)

    def add_comment(self, instance_id: str, message: str) -> dict[str, Any]:
        """Add a comment; the created comment (``id``, ``author``, ``time``, ``message``), or ``{}``
        when the service answers without a body."""
        created = self.transport.json(
            "POST",
            self.path("instance_comments", instance_id=instance_id),
            json={"includeUserIds": False, "message": message},
        )
        lineage.wrote(self, "process-instances", instance_id)
        return dict(created) if isinstance(created, dict) else {}

    # -- tasks ------------------------------------------------------------------------------
    def iter_tasks(self, *, page_size: int = 50, **filters: Any) -> Iterator[WorkflowTask]:
        params = {"sort": "createTime", "order": "asc", **filters}
        lineage.read(self, "tasks")
        for item in self._iter_hal_offset(self.path("tasks"), "tasks", page_size, params):
            yield WorkflowTask.model_validate(item)

    def iter_new_tasks(
        self,
        definition_key: str,
        *,
        created_after: datetime | None = None,
        created_before: datetime | None = None,
        page_size: int = 50,
    ) -> Iterator[WorkflowTask]:
        """Open tasks of a process created in ``[created_after, created_before)``, oldest first,
        each with its process variables (the request or batch they carry)."""
        filters: dict[str, Any] = {"processDefinitionKey": definition_key, "includeProcessVariables": "true"}
        if created_after is not None:
            filters["createdAfter"] = _wire_time(created_after)
        if created_before is not None:
            filters["createdBefore"] = _wire_time(created_before)
        for task in self.iter_tasks(page_size=page_size, **filters):
            if _in_window(task.create_time, created_after, created_before):  # modelled filters: enforced here too
                yield task

    def claim_task(self, task_id: str, assignee: str) -> None:
        self.transport.request(
            "POST", self.path("task", task_id=task_id), json={"action": "claim", "assignee": assignee}
        )

    def complete_task(self, task_id: str, outcome: str, variables: dict[str, Any] | None = None) -> None:
        self.transport.request(
            "POST",
            self.path("task", task_id=task_id),
            json={"action": "complete", "outcome": outcome, "variables": _wire_variables(variables)},
        )
        lineage.wrote(self, "tasks", task_id)
