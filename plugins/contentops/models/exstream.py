"""OpenText Exstream Design and Asset Service payloads (DasResourceVersion field names)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from contentops.models.common import PartnerModel


class Resource(PartnerModel):
    id: str
    version: int
    name: str
    type: str
    state: str
    state_comment: str | None = Field(None, alias="stateComment")
    metadata: dict[str, Any] = Field(default_factory=dict)
    locked: bool = False
