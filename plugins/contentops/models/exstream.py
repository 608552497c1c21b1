"""OpenText Exstream payloads: Design and Asset Service resources (DasResourceVersion field names),
domains and links, orchestration jobs; usage records and production feedback (modelled)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, PositiveInt

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

    @property
    def is_approved(self) -> bool:
        return self.state == "APPROVED"


class Domain(PartnerModel):
    """A DAS domain (a design repository: production or not, with or without approval workflow)."""

    id: str
    production: bool | None = None
    job_tracing: bool | None = Field(None, alias="jobTracing")
    workflow: bool | None = None
    restrict_approval: bool | None = Field(None, alias="restrictApproval")
    parent: str | None = None


class Link(PartnerModel):
    """One "uses" link: the subject (e.g. a communication) uses the object (e.g. an image)."""

    subject_id: str = Field(alias="subjectId")
    object_id: str = Field(alias="objectId")
    object_name: str | None = Field(None, alias="objectName")
    object_type: str | None = Field(None, alias="objectType")
    object_state: str | None = Field(None, alias="objectState")


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
