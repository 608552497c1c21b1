"""OpenText Exstream: approved images as template resources, blocked when their rights end.

Sourced (docs/systems/exstream.md): the Design and Asset Service under ``/design/api/v1`` —
resources listed with ``filter.types`` / ``filter.states`` and ``offset`` / ``count`` in the
``page`` envelope, multipart upload, state changes with ``auditedComment`` — and the OCP token.
Modelled: resource metadata carrying the rights (expiry, regions, source asset).

Connection (conn_type ``opentext_exstream``): host = the communication host (e.g.
``https://communication.us.api.opentext.com``), login/password = client id/secret, extra
``tenant_id`` (token from ``token_url`` or ``{token_host}/tenants/{tenant_id}/oauth2/token``,
``token_host`` defaulting to the host).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, ClassVar

from contentops.hooks.auth import Auth
from contentops.hooks.base import PartnerHook
from contentops.hooks.opentext import ocp_auth
from contentops.models.exstream import Resource


class ExstreamHook(PartnerHook):
    conn_name_attr: ClassVar[str] = "exstream_conn_id"
    default_conn_name: ClassVar[str] = "opentext_exstream_default"
    conn_type: ClassVar[str] = "opentext_exstream"
    hook_name: ClassVar[str] = "OpenText Exstream"
    system: ClassVar[str] = "exstream"
    health_path: ClassVar[str | None] = "version"
    default_paths: ClassVar[dict[str, str]] = {
        "version": "design/api/v1/version",
        "resources": "design/api/v1/resources/{domain}",
        "upload": "design/api/v1/resources/{domain}/content",
        "state": "design/api/v1/resources/{domain}/{resource_id}/state",
        "metadata": "design/api/v1/resources/{domain}/{resource_id}/metadata",
    }

    def __init__(self, exstream_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(exstream_conn_id, **kwargs)

    def build_auth(self, conn: Any) -> Auth | None:
        return ocp_auth(str(self.extra.get("token_host") or self.base_url()), conn, self.extra, system=self.system)

    def iter_resources(
        self, domain: str, *, types: list[str] | None = None, states: list[str] | None = None, page_size: int = 50
    ) -> Iterator[Resource]:
        # repeated keys (filter.types=a&filter.types=b): requests sends a list value that way
        params = {"filter.types": types or [], "filter.states": states or []}
        for item in self.transport.iter_offset(
            self.path("resources", domain=domain),
            items=lambda p: p["data"],
            page_size=page_size,
            params=params,
            total=lambda p: p["page"]["totalElements"],
        ):
            yield Resource.model_validate(item)

    def upload_image(self, domain: str, source: Path | IO[bytes], *, name: str, content_type: str) -> Resource:
        response = self.transport.upload(
            "POST",
            self.path("upload", domain=domain),
            source,
            field="file",
            filename=name,
            content_type=content_type,
            params={"name": name, "type": "image"},
        )
        return Resource.model_validate(response.json()["data"][0])

    def set_state(self, domain: str, resource_id: str, state: str, comment: str) -> Resource:
        body = self.transport.json(
            "PUT",
            self.path("state", domain=domain, resource_id=resource_id),
            json={"state": state, "auditedComment": comment, "locked": False},
        )
        return Resource.model_validate(body["data"][0])

    def block(self, domain: str, resource_id: str, reason: str) -> Resource:
        """Take an image out of APPROVED so no communication can use it in the next run."""
        return self.set_state(domain, resource_id, "DRAFT", reason)

    def put_rights_metadata(self, domain: str, resource_id: str, metadata: dict[str, Any]) -> dict[str, Any]:
        return dict(
            self.transport.json("PUT", self.path("metadata", domain=domain, resource_id=resource_id), json=metadata)
        )
