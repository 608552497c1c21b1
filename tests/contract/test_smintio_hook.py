"""SmintioHook against the Smint.io sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import io
import json
import logging
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import (
    AuthenticationError,
    ConflictError,
    InvalidConnectionError,
    RefreshTokenSpentError,
    RequestRejectedError,
)
from contentops.hooks.smintio import SmintioHook
from contentops.ledger import Ledger
from contentops.models.smintio import ApprovalStatus
from contentops_sandbox.connections import smintio_connection
from contentops_sandbox.smintio import images, seed

pytestmark = pytest.mark.contract

SEEDED = 120  # small seed for speed: 10 of each license situation
SYNCABLE = SEEDED - SEEDED // 12  # index % 12 == 11 is not syncable


@pytest.fixture
def smintio(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> Callable[..., tuple[SmintioHook, Any]]:
    def start(**config: Any) -> tuple[SmintioHook, Any]:
        config.setdefault("options", {}).setdefault("seeded_transactions", SEEDED)
        running = sandbox("smintio", **config)
        conn = smintio_connection(running.url, backoff_initial=0.01, backoff_max=0.05, max_attempts=5)
        monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
        return SmintioHook(refresh_token_store=token_store("smintio")), running

    return start


def test_pages_every_license_once_and_skips_unsyncable(smintio: Callable[..., Any]) -> None:
    hook, _ = smintio()
    pages = list(hook.iter_transaction_pages(limit=25))
    uuids = [lpt.uuid for page in pages for lpt in page.transactions]
    assert len(uuids) == len(set(uuids)) == SYNCABLE
    assert sum(page.skipped for page in pages) == SEEDED - SYNCABLE
    assert pages[-1].raw_count == 0 and pages[-1].continuation_uuid == pages[-2].continuation_uuid
    expired = [lpt for page in pages for lpt in page.transactions if lpt.uuid == seed.stable_uuid("lpt", 3)]
    assert expired and expired[0].license_terms[0].valid_until is not None


def test_resumes_from_a_stored_cursor_and_sees_changes_with_higher_version(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    cursor = None
    for page in hook.iter_transaction_pages(limit=50):
        cursor = page.continuation_uuid
    assert list(hook.iter_license_purchase_transactions(cursor)) == []
    changed = seed.stable_uuid("lpt", 7)
    running.admin("POST", f"smintio/lpt/{changed}", json={"valid_until": "2026-12-01T00:00:00Z"})
    (again,) = list(hook.iter_license_purchase_transactions(cursor))
    assert again.uuid == changed and again.version == 2


def test_token_is_refreshed_mid_paging_and_the_rotated_refresh_token_kept(smintio: Callable[..., Any]) -> None:
    hook, running = smintio(token_ttl_seconds=3600)
    store = hook.refresh_token_store  # type: ignore[assignment]
    seen = 0
    for page in hook.iter_transaction_pages(limit=20):
        seen += len(page.transactions)
        if seen and len(store.saved) == 1:
            running.context.clock.advance(4000)  # every access token issued so far is now expired
    assert seen == SYNCABLE
    assert len(store.saved) == 2  # the first token and the one after expiry, each rotating the refresh token
    assert running.context.stats.by_status.get(401, 0) == 1


def test_spent_refresh_token_is_an_authentication_error(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    hook, _ = smintio()
    hook.generic_metadata()
    stale = SmintioHook(refresh_token_store=token_store("smintio"))  # presents the spent demo refresh token again
    with pytest.raises(AuthenticationError) as caught:
        stale.generic_metadata()
    assert "invalid_grant" in str(caught.value)
    assert "demo-secret" not in str(caught.value) and "demo-refresh-token" not in str(caught.value)


def test_recovers_from_5xx_and_429_storms(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    running.set_faults(fail_next=[503, 429, 502, 429], retry_after_seconds=0)
    assert len(list(hook.iter_license_purchase_transactions(limit=100))) == SYNCABLE
    statuses = running.context.stats.by_status
    assert statuses[503] == 1 and statuses[429] == 2 and statuses[502] == 1


def test_malformed_records_are_quarantined_and_the_rest_arrive(smintio: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = smintio()
    running.set_faults(malformed_rate=0.1, seed=3)
    ledger = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}")
    ledger.migrate()

    def on_invalid(reason: str, raw: Any) -> None:
        ledger.quarantine("smintio", "license_purchase_transaction", reason, raw, run_id="r1")

    pages = list(hook.iter_transaction_pages(limit=30, on_invalid=on_invalid))
    good = sum(len(p.transactions) for p in pages)
    bad = ledger.quarantined(run_id="r1")
    assert bad and good + len(bad) + sum(p.skipped for p in pages) == SEEDED
    assert all("invalid license purchase transaction" in row.reason for row in bad)
    assert any("license_terms" in row.reason or "uuid" in row.reason for row in bad)


def test_expired_signed_url_is_replaced_by_a_fresh_one(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    lpt = next(hook.iter_license_purchase_transactions(limit=5))
    (binary, *_) = hook.binaries(lpt.cart_purchase_transaction_uuid or "", lpt.uuid)
    running.context.clock.advance(2 * 3600)  # the URL's hour is over (tokens too)
    sink = io.BytesIO()
    result = hook.download_binary(lpt, binary, sink)
    assert sink.getvalue() == images.png(binary.uuid)
    assert result.size == len(sink.getvalue())
    assert running.context.stats.by_route.get(f"GET /consumer/v1/downloads/{binary.uuid}") == 2


def test_cut_download_is_retried(smintio: Callable[..., Any]) -> None:
    hook, running = smintio()
    running.set_faults(drop_download_after_bytes=100)
    lpt = next(hook.iter_license_purchase_transactions(limit=5))
    (binary, *_) = hook.binaries(lpt.cart_purchase_transaction_uuid or "", lpt.uuid)
    sink = io.BytesIO()
    hook.download_binary(lpt, binary, sink)
    assert sink.getvalue() == images.png(binary.uuid)


def test_200_mb_binary_streams_in_constant_memory(smintio: Callable[..., Any], tmp_path: Path) -> None:
    size = 200 * 1024 * 1024
    hook, _ = smintio(options={"seeded_transactions": 12, "large_binary_bytes": size})
    lpt = next(lpt for lpt in hook.iter_license_purchase_transactions() if lpt.uuid == seed.stable_uuid("lpt", 0))
    (binary,) = hook.binaries(lpt.cart_purchase_transaction_uuid or "", lpt.uuid)
    tracemalloc.start()
    try:
        result = hook.download_binary(lpt, binary, tmp_path / "big.png")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert result.size == size == (tmp_path / "big.png").stat().st_size
    assert peak < 8 * 1024 * 1024  # chunks, never the 200 MB file


def test_portals_writes(smintio: Callable[..., Any], tmp_path: Path) -> None:
    hook, _ = smintio()
    draft = hook.get_asset("asset-spring-10")
    assert draft.approval_status is ApprovalStatus.DRAFT
    approved = hook.set_approval(draft.id, ApprovalStatus.APPROVED, "approved by brand review")
    assert approved.is_approved and approved.version == draft.version + 1
    with pytest.raises(ValueError):
        hook.set_approval(draft.id, "nonsense", "x")  # refused before anything is sent
    tagged = hook.update_metadata(draft.id, {"imprint": "Northwind"}, tags_add=["title:demo"], tags_remove=[])
    assert tagged.metadata["imprint"] == "Northwind" and "title:demo" in tagged.tags
    assert hook.update_metadata(draft.id, {"imprint": "Northwind"}, tags_add=["title:demo"]).version == tagged.version
    source = tmp_path / "de.png"
    source.write_bytes(images.png("localized"))
    variant = hook.upload_variant(
        draft.id,
        source,
        name="de.png",
        language="de",
        region="dach",
        content_type="image/png",
        idempotency_key="co-variant-1",
    )
    replay = hook.upload_variant(
        draft.id,
        source,
        name="de.png",
        language="de",
        region="dach",
        content_type="image/png",
        idempotency_key="co-variant-1",
    )
    assert variant.id == replay.id and variant.master_asset_id == draft.id and variant.is_derivative
    retired = hook.retire_asset("asset-summer-01", "rights expired")
    assert retired.approval_status is ApprovalStatus.RETIRED
    with pytest.raises(ConflictError) as caught:
        hook.set_approval("asset-summer-01", ApprovalStatus.APPROVED, "bring it back")
    assert caught.value.status == 409 and "invalid_transition" in str(caught.value)
    with pytest.raises(RequestRejectedError):
        hook.set_approval(draft.id, ApprovalStatus.APPROVED, "")  # the sandbox validates the comment
    changed = {a.id for a in hook.iter_assets(changed_since=draft.updated_at, page_size=7)}
    assert {draft.id, variant.id, "asset-summer-01"} <= changed
    assert "asset-holiday-01" not in changed
    assert len(list(hook.iter_assets(filters={"campaign": "holiday-2026"}, page_size=4))) == 6


def test_no_secret_reaches_the_logs(smintio: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = smintio()
    caplog.set_level(logging.DEBUG)
    running.set_faults(fail_next=[503])
    list(hook.iter_license_purchase_transactions(limit=100))
    running.context.clock.advance(4000)
    hook.generic_metadata()
    access_tokens = [doc.id for doc in running.context.store.documents("access_token")]
    text = caplog.text
    assert "demo-secret" not in text and "demo-refresh-token" not in text
    assert all(token not in text for token in access_tokens)
    assert all(token not in text for token in hook.refresh_token_store.saved)  # type: ignore[attr-defined]


def test_connection_test_button_never_spends_the_refresh_token(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    """The Test button runs outside any task, under a throw-away connection id, where a rotated
    token cannot be stored for the tasks: pressing it twice must leave the connection's refresh
    token to the next task run (the sandbox spends a refresh token on use, like Smint.io)."""
    _, running = smintio()
    for _ in range(2):
        ok, message = SmintioHook(refresh_token_store=token_store("smintio")).test_connection()
        assert ok, message
    assert running.context.store.get("refresh_token", "demo-refresh-token")["used"] is False
    assert "refresh token was not used" in message
    assert running.context.store.count("access_token") == 0
    task = SmintioHook(refresh_token_store=token_store("smintio"))  # the next task run
    assert task.generic_metadata().providers


def test_connection_test_button_through_airflow_under_a_throwaway_connection_id(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """What Airflow's API server does on Test: the form's values under a random connection id,
    the hook found by its connection type, no task and so no Variable to keep a token in."""
    from airflow.models.connection import Connection

    running = sandbox("smintio", options={"seeded_transactions": 12})
    fields = smintio_connection(running.url)
    conn = Connection(conn_id="transient4f2a9c", **{**fields, "extra": json.dumps(fields["extra"])})
    monkeypatch.setenv("AIRFLOW_CONN_TRANSIENT4F2A9C", conn.get_uri())
    for _ in range(2):
        ok, message = conn.test_connection()
        assert ok, message
    assert running.context.store.get("refresh_token", "demo-refresh-token")["used"] is False


def test_connection_test_button_names_a_refused_client_and_a_wrong_clapi_host(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    running = sandbox("smintio", options={"seeded_transactions": 12})
    for extra, password, expected in (
        ({}, "wrong-secret", "refused the client id or secret"),
        ({"clapi_url": f"{running.url}/elsewhere/v1"}, "demo-secret", "check the tenant"),
    ):
        conn = {**smintio_connection(running.url, **extra), "password": password}
        monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
        ok, message = SmintioHook(refresh_token_store=token_store("smintio")).test_connection()
        assert not ok and expected in message, message
        assert "wrong-secret" not in message
    assert running.context.store.get("refresh_token", "demo-refresh-token")["used"] is False


def test_a_refused_stored_token_falls_back_to_the_connections_own(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    smintio()
    store = token_store("smintio")
    store.saved.append("stale-rotated-token-from-an-old-authorization")
    hook = SmintioHook(refresh_token_store=store)
    assert hook.generic_metadata().providers  # the connection's (re-authorized) token worked
    assert store.saved[-1] not in ("stale-rotated-token-from-an-old-authorization", "demo-refresh-token")


def test_assets_registered_by_reference_once_and_updated_in_place(smintio: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = smintio()
    created = hook.upsert_asset_by_reference(
        "vip:vip-cat-002",
        name="Spring key visual (German)",
        content_type="image/png",
        metadata={"source": "vip"},
        tags=["vip:localized_version"],
        region="dach",
        language="de",
        master_asset_id="asset-spring-01",
    )
    assert created.approval_status is ApprovalStatus.IN_REVIEW and created.master_asset_id == "asset-spring-01"
    again = hook.upsert_asset_by_reference(
        "vip:vip-cat-002",
        name="Spring key visual (German)",
        content_type="image/png",
        metadata={"source": "vip"},
        tags=["vip:localized_version"],
        region="dach",
        language="de",
        master_asset_id="asset-spring-01",
        approval_status="approved",  # counts on creation only
    )
    assert (
        again.id == created.id
        and again.version == created.version
        and again.approval_status is ApprovalStatus.IN_REVIEW
    )
    changed = hook.upsert_asset_by_reference(
        "vip:vip-cat-002", name="Spring key visual (German), v2", content_type="image/png", region="dach"
    )
    assert changed.id == created.id and changed.version == created.version + 1 and changed.metadata == {}
    source = tmp_path / "de.png"
    source.write_bytes(images.png("de"))
    with_file = hook.upload_asset_content(created.id, source, content_type="image/png", file_name="de.png")
    (binary,) = with_file.binaries
    assert (
        binary.sha256 == hashlib.sha256(source.read_bytes()).hexdigest() and binary.size_bytes == source.stat().st_size
    )
    assert hook.upload_asset_content(created.id, source, content_type="image/png").version == with_file.version
    registered = [a for a in running.context.store.all("asset") if a.get("external_reference") == "vip:vip-cat-002"]
    assert len(registered) == 1  # one asset, however often it was registered
    with pytest.raises(RequestRejectedError) as caught:
        hook.upsert_asset_by_reference("bynder:x", name="x", content_type="image/png", master_asset_id="asset-none")
    assert "unknown_master" in str(caught.value)
    with pytest.raises(RequestRejectedError):
        hook.upsert_asset_by_reference("has space", name="x", content_type="image/png")


def test_uploaded_files_are_served_back_byte_for_byte(smintio: Callable[..., Any], tmp_path: Path) -> None:
    """A variant's and a referenced asset's file come back exactly as uploaded; seeded ones stay generated."""
    hook, running = smintio()
    partner_file = tmp_path / "fr.jpg"
    partner_file.write_bytes(b"\xff\xd8\xff\xe0" + bytes(range(256)) * 300)  # not what the sandbox would make
    variant = hook.upload_variant(
        "asset-spring-03",
        partner_file,
        name="fr.jpg",
        language="fr",
        region="emea",
        content_type="image/jpeg",
        idempotency_key="co-variant-bytes",
    )
    (binary,) = variant.binaries
    sink = io.BytesIO()
    result = hook.download_asset_binary(variant.id, binary.id, sink)
    assert sink.getvalue() == partner_file.read_bytes()
    assert result.sha256 == binary.sha256 == hashlib.sha256(partner_file.read_bytes()).hexdigest()
    stored = Path(running.context.config.state_dir) / "smintio-content" / "sha256" / binary.sha256
    assert stored.read_bytes() == partner_file.read_bytes()  # on disk in the sandbox's state, not in memory

    registered = hook.upsert_asset_by_reference("vip:vip-cat-900", name="Onboarded", content_type="image/png")
    for content in (images.png("first upload"), images.png("second upload", 80, 60)):
        source = tmp_path / "onboarded.png"
        source.write_bytes(content)
        current = hook.upload_asset_content(registered.id, source, content_type="image/png", file_name="onboarded.png")
        sink = io.BytesIO()
        hook.download_asset_binary(current.id, current.binaries[0].id, sink)
        assert sink.getvalue() == content  # the newest upload, never a generated image

    seeded = hook.get_asset("asset-spring-01")
    sink = io.BytesIO()
    hook.download_asset_binary(seeded.id, seeded.binaries[0].id, sink)
    assert sink.getvalue() == images.png(f"{seeded.binaries[0].id}:v{seeded.version}")


def test_tasks_side_by_side_share_the_rotated_refresh_token(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    """Two tasks (mapped, or parallel backfill days) start with the same stored refresh token;
    the first to refresh spends it, the second is refused and takes the newly stored one."""
    smintio()
    store = token_store("smintio")  # one store for both: the Variable every task reads
    first, second = SmintioHook(refresh_token_store=store), SmintioHook(refresh_token_store=store)
    assert first.transport and second.transport  # both took the connection's token before either refreshed
    assert first.generic_metadata().providers
    rotated_by_first = store.saved[-1]
    assert second.generic_metadata().providers  # refused with the spent token, then the stored one worked
    assert store.saved[-1] != rotated_by_first  # and it rotated again, for the next task
    assert len(store.saved) == 2


def test_a_refused_refresh_waits_for_the_token_another_task_is_still_storing(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    """The second task is refused while the first has its new token from the partner but has not
    stored it yet: the second reads the store again until the new token shows up."""
    smintio()
    shared = token_store("smintio")

    class StoredLate(type(shared)):  # type: ignore[misc]
        """The stored token as the second task sees it: the first task's token one read late."""

        reads = 0

        def load(self) -> str | None:
            return None  # both tasks started with the connection's token

        def reload(self) -> str | None:
            self.reads += 1
            return None if self.reads == 1 else shared.load()

        def save(self, token: str) -> None:
            shared.save(token)

    first, second = SmintioHook(refresh_token_store=shared), SmintioHook(refresh_token_store=StoredLate("smintio"))
    assert first.transport and second.transport
    assert first.generic_metadata().providers  # spends the connection's token
    assert second.generic_metadata().providers  # refused, nothing newer yet, then the first task's token
    assert len(shared.saved) == 2 and shared.saved[0] != shared.saved[1]


def test_a_lost_answer_to_the_refresh_grant_fails_at_once_naming_the_connection(
    smintio: Callable[..., Any], token_store: Callable[[str], Any]
) -> None:
    """Smint.io executes the refresh grant (the refresh token is spent) and the connection drops
    before its answer arrives, so the rotated token is lost. The hook presents the token once
    more, knowing that, and on its refusal fails at once — a connection error a person must fix
    (authorise again), naming the connection — never with a bare refusal nor in a refresh loop."""
    hook, running = smintio()
    running.set_faults(lose_token_answers=1)
    with pytest.raises(RefreshTokenSpentError) as caught:
        hook.generic_metadata()
    text = str(caught.value)
    assert "answer never arrived" in text and "'smintio_default'" in text and "authorise the client again" in text
    assert isinstance(caught.value, InvalidConnectionError)  # the task fails at once (no retries)
    assert "demo-secret" not in text and "demo-refresh-token" not in text
    assert running.context.store.get("refresh_token", "demo-refresh-token")["used"] is True  # the grant was executed
    grants = running.context.stats.snapshot()["by_route"]
    assert sum(n for route, n in grants.items() if route == "POST /connect/token") == 2  # lost, then refused
    assert not [route for route in grants if not route.endswith("/connect/token")]  # no API call was made
    assert hook.refresh_token_store.saved == []  # type: ignore[attr-defined]  # nothing half-stored

    # the next task run is refused just as clearly, naming the connection (no 401 loop either)
    with pytest.raises(AuthenticationError) as again:
        SmintioHook(refresh_token_store=token_store("smintio")).generic_metadata()
    assert "'smintio_default'" in str(again.value) and "invalid_grant" in str(again.value)


def test_a_refresh_grant_refused_before_it_ran_is_presented_again(smintio: Callable[..., Any]) -> None:
    """A 502 on the grant does not say whether the partner executed it: the same token is presented
    once more, and as it was not spent, that works."""
    hook, running = smintio()
    running.set_faults(fail_next=[502])
    assert hook.generic_metadata().providers
    assert running.context.stats.snapshot()["by_route"]["POST /connect/token"] == 2
    assert len(hook.refresh_token_store.saved) == 1  # type: ignore[attr-defined]
