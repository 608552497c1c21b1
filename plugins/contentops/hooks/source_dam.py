"""A source DAM content is onboarded from (OWS-6): Bynder, Brandfolder or one like them.

An ingest batch (a ``dam_ingest`` process in OpenText Workflow Service) names the DAM and the
batch; its assets are read from the DAM's own listing, page by page. Bynder and Brandfolder
authenticate API clients with a token sent as a Bearer header and list assets by page; the
paths and the fields below are **modelled** (docs/systems/opentext_workflow.md, "source DAM"),
overridable per connection (extra ``paths``), like every partner path.

Connection (conn_type ``source_dam``, default id ``source_dam_default``): host = the DAM's API
base URL, password = the API token, extra ``page_size`` (assets per listing page, default 50),
plus the transport settings every partner connection has.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar

from airflow.sdk import Connection

from contentops import lineage
from contentops.hooks.auth import Auth, StaticHeaderAuth
from contentops.hooks.base import PartnerHook
from contentops.hooks.errors import InvalidConnectionError, MalformedResponseError, PartnerAPIError


class SourceDamHook(PartnerHook):
    conn_name_attr: ClassVar[str] = "source_dam_conn_id"
    default_conn_name: ClassVar[str] = "source_dam_default"
    conn_type: ClassVar[str] = "source_dam"
    hook_name: ClassVar[str] = "Source DAM (Bynder, Brandfolder)"
    system: ClassVar[str] = "source_dam"
    default_paths: ClassVar[dict[str, str]] = {"batch_assets": "source-dam/v1/batches/{batch_id}/assets"}

    def __init__(self, source_dam_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(source_dam_conn_id, **kwargs)

    def build_auth(self, conn: Connection) -> Auth | None:
        if not conn.password:
            raise InvalidConnectionError(f"connection {self.conn_id!r} has no API token", system=self.system)
        return StaticHeaderAuth("Authorization", f"Bearer {conn.password}", secret=conn.password)

    #: a batch no DAM holds: the connection test asks for it, and a 404 proves token and path
    PROBE_BATCH: ClassVar[str] = "contentops-connection-test"

    def test_connection(self) -> tuple[bool, str]:
        """One listing call for a batch that cannot exist: a 404 means the token was accepted and
        the listing path answers; 401/403 (a refused token) or anything else fails the test."""
        try:
            path = self.path("batch_assets", batch_id=self.PROBE_BATCH)
            response = self.transport.request("GET", path, params={"page": 1, "per": 1}, expected=(404,))
        except PartnerAPIError as exc:
            return False, str(exc)
        if response.status_code != 404:
            return False, f"the listing answered {response.status_code} for a batch that cannot exist: check the path"
        return True, f"The source DAM at {self.transport.redact_url(self.base_url())} accepted the API token"

    def iter_batch_assets(self, batch_id: str, *, page_size: int | None = None) -> Iterator[dict[str, Any]]:
        """The assets of one ingest batch, as the pipelines read an incoming asset
        (``source_id``, ``source_url`` …; unknown fields kept), every page until ``next_page`` is
        null. The page size is the connection's extra ``page_size`` unless given (default 50)."""
        page_size = page_size or int(self.extra.get("page_size") or 50)
        page: int | None = 1
        path = self.path("batch_assets", batch_id=batch_id)
        lineage.read(self, "batches", batch_id)
        while page is not None:
            body = self.transport.json("GET", path, params={"page": page, "per": page_size}) or {}
            data, meta = body.get("data"), body.get("meta") or {}
            if not isinstance(data, list):
                raise MalformedResponseError("the batch listing has no 'data' list", system=self.system)
            for item in data:
                yield _as_incoming(item) if isinstance(item, dict) else item
            following = meta.get("next_page")
            page = int(following) if following and data else None


def _as_incoming(item: dict[str, Any]) -> dict[str, Any]:
    """The DAM's names for an asset's id and address, as an incoming asset names them."""
    renamed = {k: v for k, v in item.items() if k not in ("id", "url")}
    if item.get("id") is not None:
        renamed["source_id"] = str(item["id"])
    if item.get("url") is not None:
        renamed["source_url"] = item["url"]
    return renamed
