"""OpenText Workflow Service payloads (Flowable-based; OCP field names, see docs/systems/opentext_workflow.md)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from contentops.models.common import PartnerModel, UtcDateTime, UtcEndOfDay


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

    @model_validator(mode="before")
    @classmethod
    def _key_from_definition_id(cls, data: Any) -> Any:
        """Flowable's instance answers name the definition by ``processDefinitionId``
        (``key:version:id``), not always by key: the key is its first part."""
        if isinstance(data, dict) and not data.get("processDefinitionKey") and data.get("processDefinitionId"):
            return {**data, "processDefinitionKey": str(data["processDefinitionId"]).split(":")[0]}
        return data

    @classmethod
    def from_history(cls, body: Any) -> WorkflowInstance:
        """An instance from the history API (Flowable's historic process instance).

        That answer has no ``ended`` / ``completed`` flags and no ``processDefinitionKey``:
        ``endTime`` says it ended (what OpenText's UI checks), a ``deleteReason`` that it was
        deleted rather than completed, and the key is the first part of ``processDefinitionId``
        (``key:version:id``).
        """
        if not isinstance(body, dict):
            raise ValueError("a historic process instance is a JSON object")
        ended = body.get("endTime") is not None
        return cls.model_validate(
            {
                **body,
                "ended": ended,
                "completed": ended and not body.get("deleteReason"),
                "suspended": False if ended else bool(body.get("suspended")),
            }
        )

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


# --------------------------------------------------------------------------- what processes carry (modelled)


class CreativeRequest(PartnerModel):
    """A creative request captured in a ``creative_request_intake`` process (OWS-3; modelled).

    The requester says what the work is for: ``campaign_type`` (e.g. ``product_launch``),
    ``region`` (a region or country key, e.g. ``dach``, ``gb``), ``format`` (e.g. ``banner``),
    ``deadline`` (when the material goes live), optionally ``channel`` (a distribution key such
    as ``online``) and ``language``. Unknown variables of the process are kept, not rejected.
    """

    campaign_type: str = Field(min_length=1, max_length=100)
    region: str = Field(min_length=1, max_length=100)
    format: str = Field(min_length=1, max_length=100)
    deadline: UtcEndOfDay
    channel: str | None = Field(None, max_length=100)
    language: str | None = Field(None, max_length=20)


class IncomingLicense(PartnerModel):
    """The license an asset arrives with from another DAM (OWS-6; modelled). ``None`` = not stated."""

    regions: list[str] | None = None
    channels: list[str] | None = None
    valid_from: UtcDateTime | None = None
    valid_until: UtcEndOfDay | None = None
    editorial_only: bool | None = None
    holder: str | None = None
    reference: str | None = None


class IncomingAsset(PartnerModel):
    """One asset of a DAM ingest batch (a ``dam_ingest`` process's ``assets`` variable; modelled).

    ``source_dam`` + ``source_id`` identify it in the DAM it comes from (Bynder, Brandfolder…);
    ``version`` grows when the source changes it; ``license`` is what the source knows of its rights.
    """

    source_dam: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,49}$")
    source_id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,149}$")
    version: int = Field(1, ge=1)
    name: str = Field(min_length=1, max_length=255)
    content_type: str = Field(pattern=r"^[\w.+-]+/[\w.+-]+$")
    source_url: str | None = None
    description: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    license: IncomingLicense | None = None
    #: the user groups that may see the asset, as the source DAM grants them (empty = not stated)
    access_groups: list[str] = Field(default_factory=list)

    @property
    def reference(self) -> str:
        """The asset's reference in Smint.io: one asset per source asset, whatever its version."""
        return f"{self.source_dam}:{self.source_id}"
