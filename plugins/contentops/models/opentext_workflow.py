"""OpenText Workflow Service payloads (Flowable-based; OCP field names, see docs/systems/opentext_workflow.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from contentops.models.common import PartnerModel, UtcDateTime


def _variables(value: Any) -> dict[str, Any]:
    """``[{"name": …, "value": …}]`` (the wire shape) or a mapping → a mapping."""
    if value is None:
        return {}
    if isinstance(value, dict):
        return value
    return {item["name"]: item.get("value") for item in value if isinstance(item, dict) and "name" in item}


class ProcessModel(PartnerModel):
    id: str
    key: str
    name: str | None = None
    version: int | None = None


class WorkflowInstance(PartnerModel):
    """A process instance; ``ended`` / ``completed`` / ``suspended`` tell its state."""

    id: str
    process_definition_key: str = Field(alias="processDefinitionKey")
    name: str | None = None
    business_key: str | None = Field(None, alias="businessKey")
    start_time: UtcDateTime | None = Field(None, alias="startTime")
    end_time: UtcDateTime | None = Field(None, alias="endTime")
    suspended: bool = False
    ended: bool = False
    completed: bool = False
    outcome: str | None = None
    variables: dict[str, Any] = Field(default_factory=dict)

    _normalise_variables = field_validator("variables", mode="before")(_variables)

    @property
    def state(self) -> str:
        if self.ended:
            return "completed" if self.completed else "terminated"
        return "suspended" if self.suspended else "running"


class WorkflowTask(PartnerModel):
    id: str
    name: str
    process_instance_id: str = Field(alias="processInstanceId")
    assignee: str | None = None
    create_time: UtcDateTime | None = Field(None, alias="createTime")
    variables: dict[str, Any] = Field(default_factory=dict)

    _normalise_variables = field_validator("variables", mode="before")(_variables)
