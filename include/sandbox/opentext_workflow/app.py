"""The OpenText Workflow Service sandbox (``/workflow/v1``, Flowable-based OCP flavour).

Sourced (OpenText's public demo apps, admin UI code and Postman collections, Flowable's REST
resources; docs/systems/opentext_workflow.md has the table): the paths below,
``offset``/``count``/``sort``/``order`` paging, HAL ``_embedded`` + ``_links.next``, the task
list's ``page.totalElements`` and its ``name`` / ``candidateOrAssigned`` filters, the start body
(``processDefinitionKey``, ``name``, ``variables``, ``returnVariables``), task actions (``claim``,
``complete`` with ``outcome`` and ``variables``, ``delegate``, ``resolve``), instance
suspend/activate (PUT) and terminate (DELETE), instance variables and comments as HAL pages
(``_embedded.variables`` / ``_embedded.comments``), ``PUT …/variables/{name}``, the history API
``/workflow-history/v1/historic-process-instances/{id}`` (``endTime`` says the instance ended),
and Flowable's rule that a runtime instance is gone (404) once it has ended.

Modelled: ``businessKey`` on start and as a list filter (Flowable's name; OCP does not document
it), the time filters ``startedAfter`` / ``startedBefore`` on instances and ``createdAfter`` /
``createdBefore`` on tasks (Flowable's names; ``after`` inclusive, ``before`` exclusive, so
consecutive windows tile), the ``outcome`` field on a finished instance (runtime and history),
ended instances still listed by ``GET /process-instances`` and their comments still readable and
writable (Flowable keeps comments with the history),
an unassigned task counting as every user's candidate, and the process models themselves: each
model is a sequence of user tasks (:data:`MODELS`); completing the last one, or completing any
with a rejecting outcome, ends the instance with that outcome.

Operator side: ``PUT /_sandbox/workflow/auto-complete`` sets rules
``{"<model key>": {"outcome": "approved", "after_seconds": 0, "variables": {…},
"by_variable": {"<variable>": {"<value>": "<outcome>"}}}}`` that finish
instances of a model once they are that old on the sandbox clock (checked whenever an instance or
task is read), so demos and end-to-end tests see workflows really end. A ``by_variable`` value
may also be ``{"outcome": …, "after_seconds": …}``: that instance's reviewer answers later (or
sooner) than the rest, e.g. one slow renewal among prompt takedowns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import FastAPI, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app
from contentops_sandbox.opentext_common import add_ocp_token_routes, ocp_error_body
from contentops_sandbox.opentext_workflow.source_dam import add_source_dam_routes

BASE = "/workflow/v1"
HISTORY = "/workflow-history/v1"
#: key -> (name, user tasks in order, outcomes that end the instance early)
MODELS: dict[str, tuple[str, tuple[str, ...], frozenset[str]]] = {
    "asset_approval": (
        "Asset approval",
        ("Legal review", "Brand review", "Marketing sign-off"),
        frozenset({"rejected"}),
    ),
    # an agency client's own approval model (OWS-7): which model a campaign uses is configuration
    "client_approval_northwind": (
        "Northwind asset approval",
        ("Client brand review", "Agency sign-off"),
        frozenset({"rejected"}),
    ),
    # the same client's usage review (license restrictions it signs off) and the escalation of
    # its approvals still open after its SLA (OWS-7)
    "client_usage_review_northwind": (
        "Northwind usage review",
        ("Client usage sign-off",),
        frozenset({"declined"}),
    ),
    "client_escalation_northwind": (
        "Northwind approval escalation",
        ("Account director follow-up",),
        frozenset(),
    ),
    "rights_renewal": ("Rights renewal, replacement or takedown", ("Rights decision",), frozenset()),
    # a renewal still open after the configured days is escalated (issue 13 item 2)
    "rights_renewal_escalation": ("Rights renewal escalation", ("Rights owner follow-up",), frozenset()),
    "compliance_exception": ("Compliance exception", ("Remediate", "Verify"), frozenset({"removed"})),
    "regional_localization_review": ("Regional localization review", ("Regional review",), frozenset({"rejected"})),
    "creative_request_intake": ("Creative request intake", ("Triage request",), frozenset()),
    "asset_onboarding": (
        "Asset onboarding",
        ("Enrich metadata", "Validate rights", "Categorize"),
        frozenset({"rejected"}),
    ),
    "compliance_review": ("Usage compliance review", ("Review usage",), frozenset()),
    # a changed image and the Exstream communications that use it, reviewed before production
    "template_review": ("Template review", ("Review templates",), frozenset({"rejected"})),
    # a batch handed over from another DAM (its assets are in the variables), and the
    # onboarding each incoming asset goes through before Smint.io exposes it
    "dam_ingest": ("DAM ingest batch", ("Hand over batch",), frozenset()),
    "dam_onboarding": (
        "DAM onboarding",
        ("Enrich metadata", "Validate rights", "Categorize"),
        frozenset({"rejected"}),
    ),
}


class Variable(BaseModel):
    name: str = Field(min_length=1)
    value: Any = None
    type: str | None = None


class StartBody(BaseModel):
    processDefinitionKey: str = Field(min_length=1)
    name: str | None = None
    businessKey: str | None = None
    outcome: str | None = None
    variables: list[Variable] = Field(default_factory=list)
    returnVariables: bool = False


class TaskAction(BaseModel):
    action: str
    assignee: str | None = None
    outcome: str | None = None
    variables: list[Variable] = Field(default_factory=list)


class InstanceAction(BaseModel):
    action: str
    comment: dict[str, Any] | None = None


class CommentBody(BaseModel):
    message: str = Field(min_length=1)
    includeUserIds: bool | None = None


def _seed(context: SandboxContext) -> None:
    for n, (key, (name, _, _)) in enumerate(MODELS.items(), start=1):
        context.store.put(
            "model", key, {"id": f"model-{n}", "key": key, "name": name, "version": 1, "modelType": "json"}
        )
    # option "auto_complete": rules to start with (the demo lets reviewers "answer" after a minute)
    context.store.put("rules", "auto-complete", dict(context.config.options.get("auto_complete") or {}))


def _hal(request: Request, key: str, items: list[dict[str, Any]], offset: int, count: int, total: int) -> dict:
    """One HAL page: the items, ``_links`` (``next`` while more follow) and Spring's ``page`` block."""
    body: dict[str, Any] = {
        "_embedded": {key: items},
        "_links": {"self": {"href": str(request.url)}},
        "page": {"size": count, "totalElements": total, "totalPages": -(-total // count), "number": offset // count},
    }
    if offset + count < total:
        query = dict(request.query_params)
        query.update(offset=str(offset + count), count=str(count))
        body["_links"]["next"] = {"href": request.url.path + "?" + "&".join(f"{k}={v}" for k, v in query.items())}
    return body


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app(
        "workflow", config, error_body=ocp_error_body, seed=_seed, title="OpenText Workflow Service sandbox"
    )
    add_ocp_token_routes(app, ctx)

    def now() -> str:
        return ctx.clock.now().isoformat()

    def instance_or_404(instance_id: str) -> dict[str, Any]:
        instance = ctx.store.get("instance", instance_id)
        if instance is None:
            raise ctx.error(404, "ObjectNotFoundException", f"process instance {instance_id} not found")
        return instance

    def open_tasks(instance_id: str) -> list[dict[str, Any]]:
        return [t for t in ctx.store.all("task") if t["processInstanceId"] == instance_id and not t.get("ended")]

    def create_task(instance: dict[str, Any], step: int) -> None:
        _, tasks, _ = MODELS[instance["processDefinitionKey"]]
        task_id = f"task-{ctx.store.next_id('task')}"
        ctx.store.put(
            "task",
            task_id,
            {
                "id": task_id,
                "name": tasks[step],
                "processInstanceId": instance["id"],
                "processDefinitionKey": instance["processDefinitionKey"],
                "assignee": None,
                "owner": None,
                "createTime": now(),
                "claimTime": None,
                "priority": 50,
                "dueDate": None,
                "suspended": False,
                "delegationState": None,
                "parentTaskId": None,
                "step": step,
            },
        )

    def finish(instance: dict[str, Any], outcome: str | None, variables: dict[str, Any], completed: bool) -> None:
        for task in open_tasks(instance["id"]):
            ctx.store.put("task", task["id"], {**task, "ended": True})
        ctx.store.put(
            "instance",
            instance["id"],
            {
                **instance,
                "ended": True,
                "completed": completed,
                "outcome": outcome,
                "endTime": now(),
                # Flowable keeps why an instance was deleted; a completed one has none
                "deleteReason": None if completed else "terminated",
                "variables": {**instance.get("variables", {}), **variables},
            },
        )

    def complete_task(task: dict[str, Any], outcome: str | None, variables: dict[str, Any]) -> None:
        instance = instance_or_404(task["processInstanceId"])
        _, tasks, early = MODELS[instance["processDefinitionKey"]]
        ctx.store.put("task", task["id"], {**task, "ended": True, "outcome": outcome})
        merged = {**instance.get("variables", {}), **variables}
        if outcome is not None:
            merged[f"{task['name']} outcome"] = outcome
        instance = {**instance, "variables": merged}
        ctx.store.put("instance", instance["id"], instance)
        if outcome in early or task["step"] + 1 >= len(tasks):
            finish(instance, outcome, {}, completed=True)
        else:
            create_task(instance, task["step"] + 1)

    def apply_rules(instance: dict[str, Any]) -> dict[str, Any]:
        """Finish an instance if an auto-complete rule says it is old enough."""
        if instance.get("ended") or instance.get("suspended"):
            return instance
        rule = (ctx.store.get("rules", "auto-complete") or {}).get(instance["processDefinitionKey"])
        if not rule:
            return instance
        outcome, after = rule["outcome"], float(rule.get("after_seconds", 0))
        for variable, outcomes in (rule.get("by_variable") or {}).items():
            value = instance.get("variables", {}).get(variable)
            if isinstance(value, str | int) and value in outcomes:
                chosen = outcomes[value]
                # a value may name its own delay too: one slow reviewer among prompt ones
                if isinstance(chosen, dict):
                    outcome, after = chosen.get("outcome", outcome), float(chosen.get("after_seconds", after))
                else:
                    outcome = chosen
        age = (ctx.clock.now() - datetime.fromisoformat(instance["startTime"])).total_seconds()
        if age < after:
            return instance
        for task in sorted(open_tasks(instance["id"]), key=lambda t: t["step"]):
            ctx.store.put("task", task["id"], {**task, "ended": True, "outcome": outcome})
        finish(instance, outcome, dict(rule.get("variables") or {}), completed=True)
        return instance_or_404(instance["id"])

    def running_or_404(instance_id: str) -> dict[str, Any]:
        """The instance while it runs: like Flowable, the runtime API no longer knows it once it
        has ended (the history API does)."""
        instance = apply_rules(instance_or_404(instance_id))
        if instance.get("ended"):
            raise ctx.error(
                404, "FlowableObjectNotFoundException", f"Could not find a process instance with id '{instance_id}'."
            )
        return instance

    def wire_variables(instance: dict[str, Any]) -> list[dict[str, Any]]:
        return [
            {"name": k, "type": _variable_type(v), "value": v, "scope": "local", "encryption": False}
            for k, v in instance.get("variables", {}).items()
        ]

    def public(instance: dict[str, Any], with_variables: bool = True) -> dict[str, Any]:
        body = {k: v for k, v in instance.items() if k not in ("comments", "deleteReason")}
        body["variables"] = (
            [{"name": k, "value": v} for k, v in instance.get("variables", {}).items()] if with_variables else []
        )
        return body

    def historic(instance: dict[str, Any], with_variables: bool) -> dict[str, Any]:
        """Flowable's historic process instance (its fields), plus the modelled ``outcome``."""
        end = instance.get("endTime")
        duration = (
            int((datetime.fromisoformat(end) - datetime.fromisoformat(instance["startTime"])).total_seconds() * 1000)
            if end
            else None
        )
        return {
            "id": instance["id"],
            "name": instance.get("name"),
            "businessKey": instance.get("businessKey"),
            "processDefinitionId": instance.get("processDefinitionId")
            or f"{instance['processDefinitionKey']}:1:{instance['processDefinitionKey']}",
            "processDefinitionName": instance.get("processDefinitionName"),
            "startTime": instance["startTime"],
            "endTime": end,
            "durationInMillis": duration,
            "startUserId": instance.get("startUserId"),
            "deleteReason": instance.get("deleteReason"),
            "superProcessInstanceId": None,
            "tenantId": None,
            "variables": wire_variables(instance) if with_variables else [],
            "outcome": instance.get("outcome"),
        }

    @app.get(f"{BASE}/runtime/models")
    def models(
        request: Request, key: str | None = None, offset: int = Query(0, ge=0), count: int = Query(10, ge=1, le=1000)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [m for m in ctx.store.all("model") if key is None or m["key"] == key]
        return _hal(request, "models", items[offset : offset + count], offset, count, len(items))

    @app.post(f"{BASE}/process-instances", status_code=201)
    def start(request: Request, body: StartBody) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        if body.processDefinitionKey not in MODELS:
            raise ctx.error(
                400, "FlowableObjectNotFoundException", f"no process definition with key {body.processDefinitionKey}"
            )
        instance_id = f"pi-{ctx.store.next_id('instance')}"
        name, _, _ = MODELS[body.processDefinitionKey]
        model = ctx.store.get("model", body.processDefinitionKey) or {"id": body.processDefinitionKey}
        instance = {
            "id": instance_id,
            "processDefinitionId": f"{body.processDefinitionKey}:1:{model['id']}",
            "processDefinitionKey": body.processDefinitionKey,
            "processDefinitionName": name,
            "name": body.name or name,
            "businessKey": body.businessKey,
            "startTime": now(),
            "endTime": None,
            "startUserId": subject,
            "suspended": False,
            "ended": False,
            "completed": False,
            "outcome": None,
            "dueDate": None,
            "variables": {v.name: v.value for v in body.variables},
            "comments": [],
        }
        ctx.store.put("instance", instance_id, instance, action="start")
        create_task(instance, 0)
        return public(apply_rules(instance), body.returnVariables)

    @app.get(f"{BASE}/process-instances")
    def list_instances(
        request: Request,
        processDefinitionKey: str | None = None,
        businessKey: str | None = None,
        startedAfter: datetime | None = None,
        startedBefore: datetime | None = None,
        offset: int = Query(0, ge=0),
        count: int = Query(10, ge=1, le=1000),
        sort: str = "startTime",
        order: str = "desc",
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [
            apply_rules(i)
            for i in ctx.store.all("instance")
            if (processDefinitionKey is None or i["processDefinitionKey"] == processDefinitionKey)
            and (businessKey is None or i.get("businessKey") == businessKey)
            and (startedAfter is None or datetime.fromisoformat(i["startTime"]) >= startedAfter)
            and (startedBefore is None or datetime.fromisoformat(i["startTime"]) < startedBefore)
        ]
        items.sort(key=lambda i: str(i.get(sort) or ""), reverse=order == "desc")
        page = [public(i) for i in items[offset : offset + count]]
        return _hal(request, "process-instances", page, offset, count, len(items))

    @app.get(f"{BASE}/process-instances/{{instance_id}}")
    def get_instance(request: Request, instance_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return public(running_or_404(instance_id))

    @app.get(f"{HISTORY}/historic-process-instances/{{instance_id}}")
    def get_historic_instance(request: Request, instance_id: str, includeProcessVariables: bool = False) -> dict:
        ctx.require_bearer(request)
        return historic(apply_rules(instance_or_404(instance_id)), includeProcessVariables)

    @app.put(f"{BASE}/process-instances/{{instance_id}}")
    def act_on_instance(request: Request, instance_id: str, body: InstanceAction) -> dict[str, Any]:
        author = ctx.require_bearer(request)
        instance = running_or_404(instance_id)
        if body.action not in ("suspend", "activate"):
            raise ctx.error(400, "FlowableIllegalArgumentException", f"unknown action {body.action}")
        comments = instance.get("comments", [])
        if body.comment and body.comment.get("message"):
            comments = [*comments, new_comment(instance_id, body.comment["message"], author)]
        instance = {**instance, "suspended": body.action == "suspend", "comments": comments}
        ctx.store.put("instance", instance_id, instance, action=body.action)
        return public(instance)

    @app.delete(f"{BASE}/process-instances/{{instance_id}}", status_code=204)
    def terminate(request: Request, instance_id: str) -> Response:
        ctx.require_bearer(request)
        finish(running_or_404(instance_id), "terminated", {}, completed=False)
        return Response(status_code=204)

    @app.get(f"{BASE}/process-instances/{{instance_id}}/variables")
    def get_variables(
        request: Request, instance_id: str, offset: int = Query(0, ge=0), count: int = Query(10, ge=1, le=1000)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = wire_variables(running_or_404(instance_id))
        return _hal(request, "variables", items[offset : offset + count], offset, count, len(items))

    @app.post(f"{BASE}/process-instances/{{instance_id}}/variables", status_code=201)
    def set_variables(request: Request, instance_id: str, body: list[Variable]) -> list[dict[str, Any]]:
        ctx.require_bearer(request)
        instance = running_or_404(instance_id)
        instance = {**instance, "variables": {**instance.get("variables", {}), **{v.name: v.value for v in body}}}
        ctx.store.put("instance", instance_id, instance, action="variables")
        return [w for w in wire_variables(instance) if w["name"] in {v.name for v in body}]

    @app.put(f"{BASE}/process-instances/{{instance_id}}/variables/{{name}}")
    def set_variable(request: Request, instance_id: str, name: str, body: Variable) -> dict[str, Any]:
        ctx.require_bearer(request)
        if body.name != name:
            raise ctx.error(400, "FlowableIllegalArgumentException", "the body's name must match the path's")
        instance = running_or_404(instance_id)
        instance = {**instance, "variables": {**instance.get("variables", {}), name: body.value}}
        ctx.store.put("instance", instance_id, instance, action="variable")
        (variable,) = [w for w in wire_variables(instance) if w["name"] == name]
        return variable

    def new_comment(instance_id: str, message: str, author: str) -> dict[str, Any]:
        return {
            "id": f"c-{ctx.store.next_id('comment')}",
            "author": author,
            "time": now(),
            "message": message,
            "processInstanceId": instance_id,
        }

    @app.get(f"{BASE}/process-instances/{{instance_id}}/comments")
    def get_comments(
        request: Request, instance_id: str, offset: int = Query(0, ge=0), count: int = Query(10, ge=1, le=1000)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        items = [
            {"author": None, "processInstanceId": instance_id, **c}
            for c in instance_or_404(instance_id).get("comments", [])
        ]
        return _hal(request, "comments", items[offset : offset + count], offset, count, len(items))

    @app.post(f"{BASE}/process-instances/{{instance_id}}/comments", status_code=201)
    def add_comment(request: Request, instance_id: str, body: CommentBody) -> dict[str, Any]:
        author = ctx.require_bearer(request)
        instance = instance_or_404(instance_id)  # Flowable keeps comments in its history: an ended one takes them too
        comment = new_comment(instance_id, body.message, author)
        ctx.store.put(
            "instance",
            instance_id,
            {**instance, "comments": [*instance.get("comments", []), comment]},
            action="comment",
        )
        return comment

    @app.get(f"{BASE}/tasks")
    def list_tasks(
        request: Request,
        processDefinitionKey: str | None = None,
        processInstanceId: str | None = None,
        name: str | None = None,
        assignee: str | None = None,
        candidateOrAssigned: str | None = None,
        unassigned: bool = False,
        createdAfter: datetime | None = None,
        createdBefore: datetime | None = None,
        includeProcessVariables: bool = False,
        offset: int = Query(0, ge=0),
        count: int = Query(10, ge=1, le=1000),
        sort: str = "createTime",
        order: str = "desc",
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        for instance in ctx.store.all("instance"):
            apply_rules(instance)
        items = [
            t
            for t in ctx.store.all("task")
            if not t.get("ended")
            and (processDefinitionKey is None or t["processDefinitionKey"] == processDefinitionKey)
            and (processInstanceId is None or t["processInstanceId"] == processInstanceId)
            and (name is None or t["name"] == name)
            and (assignee is None or t.get("assignee") == assignee)
            and (candidateOrAssigned is None or t.get("assignee") in (None, candidateOrAssigned))
            and (not unassigned or t.get("assignee") is None)
            and (createdAfter is None or datetime.fromisoformat(t["createTime"]) >= createdAfter)
            and (createdBefore is None or datetime.fromisoformat(t["createTime"]) < createdBefore)
        ]
        items.sort(key=lambda t: str(t.get(sort) or ""), reverse=order == "desc")
        page = []
        for task in items[offset : offset + count]:
            body = {k: v for k, v in task.items() if k != "step"}
            if includeProcessVariables:
                body["variables"] = public(instance_or_404(task["processInstanceId"]))["variables"]
            page.append(body)
        return _hal(request, "tasks", page, offset, count, len(items))

    @app.post(f"{BASE}/tasks/{{task_id}}")
    def act_on_task(request: Request, task_id: str, body: TaskAction) -> Response:
        user = ctx.require_bearer(request)
        task = ctx.store.get("task", task_id)
        if task is None or task.get("ended"):
            raise ctx.error(404, "FlowableObjectNotFoundException", f"task {task_id} not found")
        if body.action == "claim":
            if task.get("assignee") and task["assignee"] != (body.assignee or user):
                raise ctx.error(409, "FlowableTaskAlreadyClaimedException", f"task {task_id} is already claimed")
            ctx.store.put("task", task_id, {**task, "assignee": body.assignee or user, "claimTime": now()})
        elif body.action == "delegate":
            if not body.assignee:
                raise ctx.error(400, "FlowableIllegalArgumentException", "delegate needs an assignee")
            owner = task.get("owner") or task.get("assignee") or user
            ctx.store.put(
                "task", task_id, {**task, "owner": owner, "assignee": body.assignee, "delegationState": "pending"}
            )
        elif body.action == "resolve":
            # Flowable: the delegate hands the task back to its owner, who completes it
            if task.get("delegationState") != "pending":
                raise ctx.error(400, "FlowableException", f"task {task_id} is not delegated")
            back_to = task.get("owner") or body.assignee or user
            ctx.store.put("task", task_id, {**task, "assignee": back_to, "delegationState": "resolved"})
        elif body.action == "complete":
            complete_task(task, body.outcome, {v.name: v.value for v in body.variables})
        else:
            raise ctx.error(400, "FlowableIllegalArgumentException", f"unknown action {body.action}")
        return Response(status_code=200)

    @app.put("/_sandbox/workflow/auto-complete")
    def set_rules(rules: dict[str, dict[str, Any]]) -> JSONResponse:
        unknown = set(rules) - set(MODELS)
        if unknown:
            return JSONResponse({"error": f"unknown models {sorted(unknown)}"}, 400)
        ctx.store.put("rules", "auto-complete", rules)
        return JSONResponse(rules)

    add_source_dam_routes(app, ctx)  # the source DAM ingest batches are read from (source_dam.py)
    return app


def _variable_type(value: Any) -> str:
    """Flowable's REST variable type of a JSON value (``string``, ``boolean``, ``integer``, …)."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str) or value is None:
        return "string"
    return "json"
