"""Smint.io judged by its public material (``published/smintio/``).

Every SmintioHook method the pipelines call runs here against the published exchange of its
request over real HTTP (a replay server), and the sandbox answers the same request in the same
shape. CLAPI-C answers and the token endpoint are written from Smint.io's public integration
cores; the CLAPI-C sync paths and the whole Portals backend are modelled (their exchanges name
``docs/systems/smintio.md`` as source and say "modelled").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
from conformance.published import Exchange, Received, ReplayServer, assert_same_shape, load

from contentops.hooks.smintio import SmintioHook
from contentops.models.smintio import ApprovalStatus
from contentops_sandbox.connections import smintio_connection
from contentops_sandbox.smintio import seed

CURSOR = "3fa85f64-5717-4562-b3fc-2c963f66afa6"


class BodyReplayServer(ReplayServer):
    """A replay server that also tells requests apart by their body: every field of a published
    request body (form or JSON object) must be in what was sent. So a refresh with the
    connection's own token and one with a token that cannot exist get different answers, and a
    write is only answered when the hook sent what the exchange shows."""

    def match(self, received: Received) -> Exchange | None:
        for exchange in self.exchanges:
            if exchange.method != received.method or exchange.path != received.path:
                continue
            if not all(received.query.get(k, [None])[0] == v for k, v in exchange.query.items()):
                continue
            if isinstance(exchange.request_body, dict) and not _sent_fields_include(received, exchange.request_body):
                continue
            return exchange
        return None


def _sent_fields_include(received: Received, published: dict[str, Any]) -> bool:
    if "json" in received.headers.get("Content-Type", ""):
        sent = received.json()
    else:
        sent = {key: values[0] for key, values in parse_qs(received.body.decode(errors="replace")).items()}
    return isinstance(sent, dict) and all(sent.get(key) == value for key, value in published.items())


@pytest.fixture
def published() -> Iterator[Callable[..., BodyReplayServer]]:
    """Factory: ``published("generic_metadata", ...)`` serves those exchanges (and the token refresh)."""
    started: list[BodyReplayServer] = []

    def start(*names: str) -> BodyReplayServer:
        server = BodyReplayServer([load("smintio", name) for name in (*names, "token_refresh")])
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def hook_at(monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]) -> Callable[[str], SmintioHook]:
    def connect(url: str) -> SmintioHook:
        conn = smintio_connection(url, max_attempts=1)
        monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
        return SmintioHook(refresh_token_store=token_store("smintio"))

    return connect


class Sandbox:
    """The Smint.io sandbox asked the published requests, with a token of its own."""

    def __init__(self, running: Any) -> None:
        self.running = running
        answer = requests.post(
            f"{running.url}/connect/token",
            data={
                "grant_type": "refresh_token",
                "refresh_token": "demo-refresh-token",
                "client_id": "contentops-demo",
                "client_secret": "demo-secret",
            },
            timeout=10,
        )
        answer.raise_for_status()
        self.token = answer.json()["access_token"]
        self.refresh_token = answer.json()["refresh_token"]  # the rotated one: the demo token is spent

    def ask(
        self,
        exchange: Exchange,
        *,
        path: str | None = None,
        query: dict[str, str] | None = None,
        content: bytes | None = None,
        token: bool = True,
    ) -> requests.Response:
        headers = {**exchange.request_headers, **({"Authorization": f"Bearer {self.token}"} if token else {})}
        body = exchange.request_body
        form = "form-urlencoded" in headers.get("Content-Type", "")
        return requests.request(
            exchange.method,
            f"{self.running.url}{path or exchange.path}",
            params=exchange.query if query is None else query,
            headers=headers,
            json=None if form or content is not None else body,
            data=content if content is not None else (body if form else None),
            timeout=10,
        )

    def assert_answers_like(self, exchange: Exchange, **kwargs: Any) -> requests.Response:
        answer = self.ask(exchange, **kwargs)
        assert answer.status_code == exchange.status, answer.text
        if "json" in exchange.response_headers.get("Content-Type", "json"):
            assert_same_shape(answer.json(), exchange)
        else:
            assert answer.headers["Content-Type"] == exchange.response_headers["Content-Type"]
        return answer


@pytest.fixture
def smintio_sandbox(sandbox: Callable[..., Any]) -> Sandbox:
    return Sandbox(sandbox("smintio", options={"seeded_transactions": 24}))


# -- the connection form's Test button ---------------------------------------------------------
def test_connection_test_passes_on_public_endpoints_without_spending_the_refresh_token(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    """Good credentials against what Smint.io publishes: the token endpoint and CLAPI-C's Pusher
    authorization. The modelled generic-metadata path is not published (404 here): the test
    passes and names the path to override; the connection's refresh token is never sent."""
    server = published("token_unknown_refresh_token", "pusher_auth_without_token")
    ok, message = hook_at(server.url).test_connection()
    assert ok, message
    assert "'paths'" in message and "generic_metadata" in message
    tokens_sent = [parse_qs(r.body.decode()).get("refresh_token") for r in server.requests_to("POST", "/connect/token")]
    assert tokens_sent and ["demo-refresh-token"] not in tokens_sent
    smintio_sandbox.assert_answers_like(load("smintio", "pusher_auth_without_token"), token=False)
    probe = load("smintio", "token_unknown_refresh_token")
    unknown = {"refresh_token": "no-such-token", "client_id": "contentops-demo", "client_secret": "demo-secret"}
    answer = requests.post(
        f"{smintio_sandbox.running.url}/connect/token", data={**probe.request_body, **unknown}, timeout=10
    )
    assert answer.status_code == probe.status
    assert_same_shape(answer.json(), probe)


def test_the_refresh_grant_and_its_rotated_token(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    """Every call first refreshes with the connection's token (the form the cores post) and keeps
    the rotated refresh token the answer carries; the sandbox answers the grant the same way."""
    server = published("generic_metadata")
    hook = hook_at(server.url)
    hook.generic_metadata()
    (sent,) = server.requests_to("POST", "/connect/token")
    form = {key: values[0] for key, values in parse_qs(sent.body.decode()).items()}
    assert form == {
        "grant_type": "refresh_token",
        "refresh_token": "demo-refresh-token",
        "client_id": "contentops-demo",
        "client_secret": "demo-secret",
    }
    assert hook.refresh_token_store.saved == ["published-rotated-refresh-token"]  # type: ignore[attr-defined]
    answer = requests.post(
        f"{smintio_sandbox.running.url}/connect/token",
        data={**form, "refresh_token": smintio_sandbox.refresh_token},
        timeout=10,
    )
    assert answer.status_code == 200
    assert_same_shape(answer.json(), load("smintio", "token_refresh"))
    assert answer.json()["refresh_token"] != smintio_sandbox.refresh_token


# -- CLAPI-C -----------------------------------------------------------------------------------
def test_generic_metadata(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("generic_metadata")
    metadata = hook_at(server.url).generic_metadata()
    assert metadata.name_of("providers", "getty", "de") == "Getty Images DE"
    assert metadata.name_of("license_languages", "language_english") == "English"
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "generic_metadata"))


def test_license_feed_pages_parse_the_published_transaction(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    """iter_transaction_pages (smintio_license_sync): the published LPT is valid, nothing is
    quarantined, and the empty last page's cursor is the one to keep."""
    server = published("license_purchase_transactions_end", "license_purchase_transactions")
    quarantined: list[str] = []
    pages = list(
        hook_at(server.url).iter_transaction_pages(limit=10, on_invalid=lambda reason, _: quarantined.append(reason))
    )
    assert quarantined == []
    assert [len(page.transactions) for page in pages] == [1, 0]
    assert pages[-1].continuation_uuid == CURSOR
    (lpt,) = pages[0].transactions
    assert lpt.offering is not None and lpt.offering.resolution == 24000000
    assert lpt.content_element is not None and lpt.content_element.keywords
    assert lpt.effective_terms()[0].valid_from is not None
    assert [
        r.query.get("limit") for r in server.requests_to("GET", "/consumer/v1/sync/license-purchase-transactions")
    ] == [
        ["10"],
        ["10"],
    ]
    first = smintio_sandbox.assert_answers_like(load("smintio", "license_purchase_transactions"))
    cursor = first.json()["continuation_uuid"]
    while (
        page := smintio_sandbox.ask(
            load("smintio", "license_purchase_transactions"), query={"limit": "10", "continuation_uuid": cursor}
        ).json()
    )["count"]:
        cursor = page["continuation_uuid"]
    assert_same_shape(page, load("smintio", "license_purchase_transactions_end"))


def test_a_transaction_not_known_to_be_syncable_is_skipped(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook]
) -> None:
    server = published("license_purchase_transactions_end", "license_purchase_transactions_syncability_unknown")
    pages = list(hook_at(server.url).iter_transaction_pages(limit=10))
    assert [page.transactions for page in pages] == [[], []]
    assert pages[0].skipped == 1 and pages[-1].continuation_uuid == CURSOR


def test_binaries(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("binaries")
    (binary,) = hook_at(server.url).binaries("2210", "41022")
    assert binary.download_url and binary.recommended_file_name == "tulips-at-sunrise.jpg" and binary.version == 1
    assert binary.description and not server.unmatched
    cart, lpt = seed.stable_uuid("cart", 0), seed.stable_uuid("lpt", 0)
    smintio_sandbox.assert_answers_like(
        load("smintio", "binaries"),
        path=f"/consumer/v1/sync/cart-purchase-transactions/{cart}/license-purchase-transactions/{lpt}/binaries",
    )


# -- Portals backend (modelled: the exchanges name docs/systems/smintio.md) -----------------------
def test_get_asset_and_iter_assets(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("get_asset", "list_assets")
    hook = hook_at(server.url)
    asset = hook.get_asset("asset-spring-01")
    assert asset.id == "asset-spring-01" and asset.approval_status is ApprovalStatus.APPROVED and asset.binaries
    listed = list(hook.iter_assets(filters={"campaign": "holiday-2026"}))
    assert {a.campaign for a in listed} == {"holiday-2026"} and len(listed) == 6
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "get_asset"))
    smintio_sandbox.assert_answers_like(load("smintio", "list_assets"))


def test_approval_metadata_and_retirement(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("set_approval", "update_metadata", "retire_asset")
    hook = hook_at(server.url)
    assert (
        hook.set_approval("asset-spring-01", "in_review", "Back to review").approval_status is ApprovalStatus.IN_REVIEW
    )
    updated = hook.update_metadata("asset-spring-02", {"exstream_usage": {"documents": 3}}, tags_add=["review"])
    assert updated.metadata["exstream_usage"] == {"documents": 3} and "review" in updated.tags
    assert hook.retire_asset("asset-spring-04", "License expired").approval_status is ApprovalStatus.RETIRED
    assert not server.unmatched  # the hook sent what each exchange shows (bodies matched)
    for name in ("set_approval", "update_metadata", "retire_asset"):
        smintio_sandbox.assert_answers_like(load("smintio", name))


def test_comments(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("add_comment", "comments")
    hook = hook_at(server.url)
    added = hook.add_comment(
        "asset-spring-05", "Please brighten the sky", author="Regional reviewer", external_ref="ows:task-17:comment-1"
    )
    assert added.asset_id == "asset-spring-05" and added.external_ref == "ows:task-17:comment-1"
    assert [c.text for c in hook.comments("asset-spring-05")] == ["Please brighten the sky"]
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "add_comment"))
    smintio_sandbox.assert_answers_like(load("smintio", "comments"))


def test_variants_and_asset_files(
    published: Callable[..., BodyReplayServer],
    hook_at: Callable[[str], SmintioHook],
    smintio_sandbox: Sandbox,
    tmp_path: Any,
) -> None:
    server = published("upload_variant", "download_asset_binary")
    hook = hook_at(server.url)
    source = tmp_path / "variant.png"
    source.write_bytes(b"\x89PNG variant bytes")
    variant = hook.upload_variant(
        "asset-spring-03",
        source,
        name="Spring visual (German)",
        language="de",
        region="dach",
        content_type="image/png",
        idempotency_key="localization:asset-spring-03:de-dach",
    )
    assert variant.master_asset_id == "asset-spring-03" and variant.is_derivative
    (sent,) = server.requests_to("POST", "/backend/v1/assets/asset-spring-03/variants")
    assert sent.headers["Idempotency-Key"] == "localization:asset-spring-03:de-dach"
    assert sent.body == b"\x89PNG variant bytes"
    local = tmp_path / "file.png"
    hook.download_asset_binary("asset-spring-06", "asset-spring-06-main", local)
    assert local.read_bytes() == b"PNG-BYTES"
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "upload_variant"), content=b"\x89PNG variant bytes")
    smintio_sandbox.assert_answers_like(load("smintio", "download_asset_binary"))


def test_assets_by_reference_and_their_content(
    published: Callable[..., BodyReplayServer],
    hook_at: Callable[[str], SmintioHook],
    smintio_sandbox: Sandbox,
    tmp_path: Any,
) -> None:
    server = published("upsert_asset_by_reference", "upload_asset_content")
    hook = hook_at(server.url)
    asset = hook.upsert_asset_by_reference(
        "vip:vip-cat-002",
        name="Spring key visual (German)",
        content_type="image/png",
        metadata={"source": "vip"},
        tags=["vip:localized_version"],
        region="dach",
        language="de",
        master_asset_id="asset-spring-01",
    )
    source = tmp_path / "spring-de.png"
    source.write_bytes(b"\x89PNG main file bytes")
    stored = hook.upload_asset_content(asset.id, source, content_type="image/png", file_name="spring-de.png")
    assert stored.binaries and stored.binaries[0].sha256 and stored.binaries[0].size_bytes == len(source.read_bytes())
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "upsert_asset_by_reference"))
    smintio_sandbox.assert_answers_like(load("smintio", "upload_asset_content"), content=b"\x89PNG main file bytes")


def test_campaigns(
    published: Callable[..., BodyReplayServer], hook_at: Callable[[str], SmintioHook], smintio_sandbox: Sandbox
) -> None:
    server = published("get_campaign", "list_campaigns")
    hook = hook_at(server.url)
    assert hook.get_campaign("holiday-2026").client == "northwind"
    assert {c.id for c in hook.iter_campaigns()} == {"spring-launch-2027", "holiday-2026", "summer-refresh"}
    assert not server.unmatched
    smintio_sandbox.assert_answers_like(load("smintio", "get_campaign"))
    smintio_sandbox.assert_answers_like(load("smintio", "list_campaigns"))
