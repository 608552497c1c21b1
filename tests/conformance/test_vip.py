"""VIP judged by the published exchanges of ``published/vip/``.

What is public about VIP's REST API is its modules (item catalog, order management, pricing,
payments, retailer data) and its ADFS authorization; paths and payloads are not, so each
exchange names the connector page's section for its module and says what is modelled. They are
the fixed contract all the same: (a) every hook method the pipelines call runs through them
over real HTTP (the replay server), sending exactly the published request; (b) the sandbox
answers the same requests in the published shapes.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime
from io import BytesIO
from typing import Any

import pytest
import requests
from conformance.published import Exchange, ReplayServer, assert_same_shape, load, load_all

from contentops.hooks.vip import VipHook
from contentops.models.vip import UsageControls
from contentops_sandbox.connections import vip_connection

MEDIA = ("ITM-1001", "asset-spring-01")


def _hook(server_url: str, monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any], **extra: Any) -> VipHook:
    conn = vip_connection(server_url, backoff_initial=0.01, backoff_max=0.05, **extra)
    monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(conn))
    return VipHook(refresh_token_store=token_store("vip"))


def _replayed(
    replay: Callable[..., ReplayServer],
    monkeypatch: pytest.MonkeyPatch,
    token_store: Callable[[str], Any],
    *names: str,
) -> tuple[VipHook, ReplayServer]:
    server = replay(load("vip", "token"), *(load("vip", n) for n in names))
    return _hook(server.url, monkeypatch, token_store), server


def _sent_as_published(server: ReplayServer, exchange: Exchange) -> None:
    """The hook sent the published request: its path, query and JSON body."""
    (sent,) = server.requests_to(exchange.method, exchange.path)
    assert {k: v[0] for k, v in sent.query.items() if k in exchange.query} == exchange.query
    if isinstance(exchange.request_body, dict):
        assert sent.json() == exchange.request_body
    assert not server.unmatched


def test_every_vip_exchange_names_the_connector_page_and_says_what_is_modelled() -> None:
    exchanges = load_all("vip")
    assert len(exchanges) >= 12
    for exchange in exchanges:
        for source in exchange.sources:
            assert source.repo == "https://docs.oneteg.com/documentation-home/vip-connector"
            assert "modelled" in source.shows, exchange.name


def _test_button_server(replay: Callable[..., ReplayServer], items: Exchange | None = None) -> ReplayServer:
    """What the Test button meets: an unknown refresh token refused, the catalog asking for a token."""
    return replay(load("vip", "token_unknown_refresh_token"), items or load("vip", "list_items_without_token"))


def test_the_connection_test_checks_client_and_item_catalog_without_spending_the_refresh_token(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    server = _test_button_server(replay)
    hook = _hook(server.url, monkeypatch, token_store)
    ok, message = hook.test_connection()
    assert ok, message
    (token_request,) = server.requests_to("POST", "/adfs/oauth2/token")
    sent = token_request.body.decode()
    assert "refresh_token=contentops-connection-test-" in sent
    assert hook.extra["refresh_token"] not in sent  # the stored token is never presented
    (catalog,) = server.requests_to("GET", "/api/v1/items")
    assert "Authorization" not in catalog.headers and catalog.query == {"offset": ["0"], "limit": ["1"]}
    assert not server.unmatched


def test_every_path_is_overridable_by_connection_extra(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    """VIP's paths are modelled: a deployment whose VIP answers elsewhere names its own paths."""
    elsewhere = dataclasses.replace(load("vip", "list_items_without_token"), path="/vip/rest/catalog/items")
    server = _test_button_server(replay, elsewhere)
    hook = _hook(server.url, monkeypatch, token_store, paths={"items": "vip/rest/catalog/items"})
    assert hook.test_connection()[0] and not server.unmatched
    assert set(VipHook.default_paths) >= {"parties", "items", "media", "all_media", "media_review"}


def test_parties_of_a_region_come_from_the_retailer_data(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    hook, server = _replayed(replay, monkeypatch, token_store, "list_retailers")
    (party,) = hook.iter_parties(region="emea")
    assert (party.id, party.kind, party.region, party.active) == ("rtl-001", "distributor", "emea", True)
    _sent_as_published(server, load("vip", "list_retailers"))


def test_approved_assets_become_media_of_catalog_items(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    names = ("put_media", "get_media", "upload_media_content", "restrict_media", "withdraw_media")
    hook, server = _replayed(replay, monkeypatch, token_store, *names)
    published = load("vip", "put_media").request_body
    media = hook.put_media(
        *MEDIA,
        asset_id=published["asset_id"],
        version=published["version"],
        file_name=published["file_name"],
        content_type=published["content_type"],
        usage_controls=UsageControls.model_validate(published["usage_controls"]),
        available_to=published["available_to"],
        approval_status=published["approval_status"],
        campaign_tags=published["campaign_tags"],
        license_summary=published["license_summary"],
    )
    assert (media.item_id, media.ref, media.status) == (*MEDIA, "active")
    assert hook.get_media(*MEDIA).available_to == published["available_to"]
    uploaded = hook.upload_media_content(*MEDIA, BytesIO(b"\x89PNG..."), "image/png")
    assert uploaded.content is not None and uploaded.content.size == 2048
    renewed = UsageControls(
        regions=["emea", "north_america"], channels=["online"], valid_until=datetime(2027, 6, 30, tzinfo=UTC)
    )
    assert hook.restrict_media(*MEDIA, renewed).approval_status == "restricted"
    assert hook.withdraw_media(*MEDIA, "rights expired").status == "withdrawn"
    for name in names:
        _sent_as_published(server, load("vip", name))


def test_returns_are_media_regional_teams_attached_and_are_reviewed_by_vips_media_id(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    hook, server = _replayed(replay, monkeypatch, token_store, "list_returns", "get_return", "review_return")
    (returned,) = hook.iter_returns()
    assert (returned.id, returned.item_id, returned.master_asset_id) == ("med-1", "ITM-1001", "asset-spring-01")
    assert (returned.attached_by, returned.language, returned.region, returned.status) == (
        "rtl-008",
        "de",
        "dach",
        "received",
    )
    assert hook.get_return("med-1").item_id == "ITM-1001"
    assert hook.set_return_status("med-1", "accepted", "Approved as asset-v-1 version 1").status == "accepted"
    for name in ("list_returns", "get_return", "review_return"):
        _sent_as_published(server, load("vip", name))


def test_content_vip_holds_is_the_media_of_the_catalogue_kinds(
    replay: Callable[..., ReplayServer], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    hook, server = _replayed(replay, monkeypatch, token_store, "list_catalog")
    (entry,) = hook.iter_catalog()
    assert (entry.id, entry.kind, entry.item_id) == ("vip-cat-001", "master_package", "ITM-1001")
    assert entry.status == "approved"
    assert entry.master_entry_id is None and entry.download_url.endswith("/api/v1/item-media/vip-cat-001/content")
    _sent_as_published(server, load("vip", "list_catalog"))


# -- the sandbox answers the same requests in the published shapes -------------------------------
def _ask(session: requests.Session, base: str, exchange: Exchange, **overrides: Any) -> Any:
    body = exchange.request_body
    kwargs: dict[str, Any] = {"params": exchange.query or None}
    if exchange.request_headers.get("Content-Type") == "application/json":
        kwargs["json"] = body
    elif exchange.method == "PUT":
        kwargs["data"] = overrides.pop("data")
        kwargs["headers"] = {"Content-Type": exchange.request_headers["Content-Type"]}
    response = session.request(exchange.method, base + exchange.path, timeout=10, **kwargs)
    assert response.status_code == exchange.status, response.text
    return response.json()


def test_the_sandbox_answers_every_published_request_in_the_published_shape(sandbox: Callable[..., Any]) -> None:
    running = sandbox("vip")
    token = requests.post(
        f"{running.url}/adfs/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": "contentops-demo",
            "client_secret": "demo-secret",
            "refresh_token": "vip-demo-refresh-token",
        },
        timeout=10,
    )
    assert_same_shape(token.json(), load("vip", "token"))
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
    published = load("vip", "list_returns").body["items"][0]
    attached = {k: v for k, v in published.items() if k not in ("id", "download_url")}
    assert running.admin("POST", "vip/returns", json=attached)["id"] == "med-1"
    running.admin("PUT", "vip/returns/med-1/content", data=b"\x89PNG...", headers={"Content-Type": "image/png"})
    for name in (
        "list_items",
        "list_retailers",
        "put_media",
        "get_media",
        "upload_media_content",
        "restrict_media",
        "withdraw_media",
        "list_returns",
        "get_return",
        "review_return",
        "list_catalog",
    ):
        exchange = load("vip", name)
        answer = _ask(session, running.url, exchange, data=b"\x89PNG...")
        assert_same_shape(answer, exchange)
