"""OpenText Exstream payloads: Design and Asset Service resources (``DasResourceVersion``), domains
(``DasDomain``) and links (``DasLink``) as OpenText's Communications SDK types them, orchestration
jobs; usage records and production feedback (modelled)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt, field_validator

from contentops.models.common import PartnerModel, UtcDateTime


class ResourceContent(PartnerModel):
    """The digest of a resource's content (modelled: the sandbox reports it; DAS may not)."""

    sha256: str | None = None
    size: int | None = None


class Resource(PartnerModel):
    id: str
    version: int
    name: str
    type: str
    state: str
    state_comment: str | None = Field(None, alias="stateComment")
    metadata: dict[str, Any] = Field(default_factory=dict)
    locked: bool = False
    content: ResourceContent | None = None

    @field_validator("metadata", mode="before")
    @classmethod
    def _no_metadata(cls, value: Any) -> Any:
        return {} if value is None else value  # a resource without metadata (the packages' images)

    @property
    def is_approved(self) -> bool:
        return self.state == "APPROVED"


class Domain(PartnerModel):
    """A DAS domain (``DasDomain``): a design repository, production or not. ``workflow`` is a
    string in the SDK (which workflow the domain's resources go through); its values are not
    published."""

    id: str
    production: bool | None = None
    job_tracing: bool | None = Field(None, alias="jobTracing")
    workflow: str | None = None
    restrict_approval: bool | None = Field(None, alias="restrictApproval")
    parent: str | None = None


class Link(PartnerModel):
    """One DAS link (``DasLink``): a version of the subject (e.g. a communication) uses the object
    (not versioned), whose resource type is ``typeId``."""

    subject_id: str = Field(alias="linkSubjectId")
    subject_version: int | None = Field(None, alias="subjectVersion")
    object_id: str = Field(alias="linkObjectId")
    type_id: str | None = Field(None, alias="typeId")


class EngineOutputContext(PartnerModel):
    queue_name: str | None = Field(None, alias="queueName")
    file_name: str | None = Field(None, alias="fileName")
    customer_number: str | None = Field(None, alias="customerNumber")


class BatchJob(PartnerModel):
    """A batch production job (status modelled: no public status endpoint)."""

    job_id: str = Field(alias="jobId")
    id: str | None = None
    state: Literal["QUEUED", "RUNNING", "COMPLETED", "FAILED"] | str = "QUEUED"
    domain: str | None = None
    communication_id: str | None = Field(None, alias="communicationId")
    output_count: int | None = Field(None, alias="outputCount")
    error_message: str | None = Field(None, alias="errorMessage")
    completed_at: UtcDateTime | None = Field(None, alias="completedAt")

    @property
    def finished(self) -> bool:
        return self.state in ("COMPLETED", "FAILED")


class UsageRecord(PartnerModel):
    """Which resource appeared in which communication stream, when, how often, where (modelled, EXS-7)."""

    id: str = Field(min_length=1)
    domain: str
    resource_id: str = Field(alias="resourceId", min_length=1)
    resource_version: int | None = Field(None, alias="resourceVersion")
    communication_id: str = Field(alias="communicationId", min_length=1)
    stream: str = Field(min_length=1)
    channel: str | None = None
    job_id: str | None = Field(None, alias="jobId")
    region: str | None = None
    volume: PositiveInt
    recorded_at: UtcDateTime = Field(alias="recordedAt")


class ProductionFeedback(PartnerModel):
    """Production flags a resource: replace it or retire it, and why (modelled, EXS-3)."""

    id: str = Field(min_length=1)
    domain: str
    resource_id: str = Field(alias="resourceId", min_length=1)
    resource_version: int | None = Field(None, alias="resourceVersion")
    action: Literal["replace", "retire"]
    reason: str = Field(min_length=1)
    created_by: str | None = Field(None, alias="createdBy")
    created_date: UtcDateTime = Field(alias="createdDate")
