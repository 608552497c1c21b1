"""VipHook against the VIP sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import ConflictError, NotFoundError, RequestRejectedError
from contentops.hooks.vip import VipHook
from contentops.models.vip import UsageControls
from contentops_sandbox.connections import vip_connection
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.contract

CONTROLS = UsageControls(regions=["emea", "dach"], channels=["online"], valid_until=datetime(2027, 3, 1, tzinfo=UTC))


@pytest.fixture
def vip(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> Callable[..., tuple[VipHook, Any]]:
    def start(**config: Any) -> tuple[VipHook, Any]:
        running = sandbox("vip", **config)
        conn = vip_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
        monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(conn))
        return VipHook(refresh_token_store=token_store("vip")), running

    return start


def test_parties_by_region_and_type_across_pages(vip: Callable[..., Any]) -> None:
    hook, running = vip()
    everyone = list(hook.iter_parties(page_size=5))
    assert len(everyone) == len({p.id for p in everyone}) == 24
    emea = list(hook.iter_parties(region="emea", page_size=2))
    assert emea and all(p.region == "emea" for p in emea)
    retailers = list(hook.iter_parties(kind="retailer"))
    assert retailers and {p.kind for p in retailers} == {"retailer"}
    assert running.context.stats.by_route["GET /api/v1/retailers"] == 5 + 2 + 1


def test_the_connection_test_lists_one_catalog_item(vip: Callable[..., Any]) -> None:
    hook, running = vip()
    assert hook.test_connection()[0]
    assert running.context.stats.by_route["GET /api/v1/items"] == 1
    assert [i.id for i in hook.iter_items(page_size=2)][:2] == ["ITM-1001", "ITM-1002"]


def _put(hook: VipHook, version: int = 1, **fields: Any) -> Any:
    body: dict[str, Any] = {
        "asset_id": "asset-spring-01",
        "version": version,
        "file_name": "spring-01.png",
        "content_type": "image/png",
        "usage_controls": CONTROLS,
        "available_to": ["rtl-001", "rtl-007"],
        **fields,
    }
    return hook.put_media("ITM-1001", "asset-spring-01", **body)


def test_media_is_attached_once_and_updated_by_version(vip: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = vip()
    media = _put(hook, campaign_tags=["spring"], license_summary="getty royalty-free, EMEA, online")
    assert media.status == "active" and media.item_id == "ITM-1001" and media.usage_controls.regions == ["emea", "dach"]
    assert media.available_to == ["rtl-001", "rtl-007"]
    assert _put(hook, campaign_tags=["spring"], license_summary="getty royalty-free, EMEA, online") == media
    source = tmp_path / "spring-01.png"
    source.write_bytes(images.png("spring-01"))
    uploaded = hook.upload_media_content("ITM-1001", "asset-spring-01", source, "image/png")
    assert uploaded.content and uploaded.content.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    updated = _put(hook, version=2)
    assert updated.version == 2 and updated.content is None  # the new file is still to come
    assert hook.get_media("ITM-1001", "asset-spring-01").version == 2  # an update, not a second media
    with pytest.raises(ConflictError):
        _put(hook, version=1)
    history = running.admin("GET", "history", params={"kind": "media"})
    assert [h["action"] for h in history] == ["create", "content", "update"]


def test_withdraw_and_restrict(vip: Callable[..., Any]) -> None:
    hook, _ = vip()
    _put(hook)
    narrowed = UsageControls(regions=["dach"], channels=["online"], valid_until=datetime(2026, 12, 1, tzinfo=UTC))
    restricted = hook.restrict_media("ITM-1001", "asset-spring-01", narrowed)
    assert restricted.approval_status == "restricted" and restricted.usage_controls.regions == ["dach"]
    gone = hook.withdraw_media("ITM-1001", "asset-spring-01", "license expired")
    assert gone.status == "withdrawn"
    assert hook.withdraw_media("ITM-1001", "asset-spring-01", "license expired").status == "withdrawn"  # harmless


def test_validation_errors_carry_the_partners_answer(vip: Callable[..., Any]) -> None:
    hook, _ = vip()
    with pytest.raises(RequestRejectedError) as caught:
        _put(hook, available_to=["rtl-999"])
    assert "unknown_party" in str(caught.value)
    with pytest.raises(RequestRejectedError) as caught:
        _put(hook, usage_controls=UsageControls(regions=["atlantis"], channels=["online"]))
    assert "unknown_region" in str(caught.value)
    with pytest.raises(NotFoundError):
        hook.put_media(
            "ITM-9999",
            "a",
            asset_id="a",
            version=1,
            file_name="a.png",
            content_type="image/png",
            usage_controls=CONTROLS,
            available_to=[],
        )


def test_returns_are_media_regional_teams_attached_since_a_cursor(vip: Callable[..., Any]) -> None:
    hook, running = vip()
    for n in range(5):
        running.admin(
            "POST",
            "vip/returns",
            json={
                "item_id": "ITM-1001",
                "source_media_ref": f"asset-spring-0{n + 1}",
                "attached_by": "rtl-008",
                "file_name": f"de-{n}.png",
                "content_type": "image/png",
                "size": 1200,
                "download_url": f"{running.url}/files/{n}",
                "language": "de",
                "region": "dach",
            },
        )
    running.admin("POST", "vip/returns", json={"file_name": "no-master.png"})  # malformed: required fields missing
    bad: list[tuple[str, Any]] = []
    good = list(hook.iter_returns(page_size=2, on_invalid=lambda reason, raw: bad.append((reason, raw))))
    assert len(good) == 5 and len(bad) == 1 and "source_media_ref" in bad[0][0]
    first = good[0]
    assert (first.item_id, first.master_asset_id, first.attached_by) == ("ITM-1001", "asset-spring-01", "rtl-008")
    assert first.status == "received"
    # the content VIP holds (the catalogue kinds) is not a return, nor are returns catalogue content
    assert not {r.id for r in good} & {e.id for e in hook.iter_catalog(on_invalid=lambda *_: None)}
    later = list(hook.iter_returns(since=good[-1].received_at, on_invalid=lambda *_: None))
    assert [r.id for r in later] == []
    rejected = hook.set_return_status(first.id, "rejected", "file name escapes its folder")
    assert rejected.status == "rejected" and hook.get_return(first.id).status == "rejected"


def test_faults_and_token_rotation(vip: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = vip(token_ttl_seconds=60)
    caplog.set_level(logging.DEBUG)
    running.set_faults(fail_next=[503, 429], retry_after_seconds=0)
    assert len(list(hook.iter_parties(page_size=50))) == 24
    running.context.clock.advance(120)
    assert len(list(hook.iter_parties(page_size=50))) == 24
    store = hook.refresh_token_store  # type: ignore[assignment]
    assert len(store.saved) == 2
    assert "demo-secret" not in caplog.text and all(t not in caplog.text for t in store.saved)


def test_catalog_lists_changes_by_window_and_streams_files_from_vip_only(
    vip: Callable[..., Any], tmp_path: Path
) -> None:
    from contentops.hooks.errors import DownloadRefusedError

    hook, running = vip()
    seeded = list(hook.iter_catalog(page_size=4))
    assert len(seeded) == len({e.id for e in seeded}) == 6
    assert {e.kind for e in seeded} == {"master_package", "localized_version", "deliverable"}
    assert all(e.download_url.startswith(running.url) for e in seeded)
    assert all(e.item_id for e in seeded)
    assert running.context.stats.by_route["GET /api/v1/item-media"] == 2
    since = running.context.clock.advance(3600)
    running.admin("PUT", "vip/catalog/vip-cat-002", json={"title": "Spring key visual (German), v2", "new_file": True})
    running.admin("PUT", "vip/catalog/vip-cat-bad", json={"title": "escapes", "file_name": "../../etc/passwd"})
    bad: list[tuple[str, Any]] = []
    changed = list(hook.iter_catalog(changed_since=since, on_invalid=lambda reason, raw: bad.append((reason, raw))))
    assert [(e.id, e.version) for e in changed] == [("vip-cat-002", 2)]
    assert len(bad) == 1 and bad[0][1]["id"] == "vip-cat-bad" and "file_name" in bad[0][0]
    assert {e.id for e in hook.iter_catalog(changed_before=since)} == {e.id for e in seeded} - {"vip-cat-002"}
    sink = tmp_path / "de.png"
    result = hook.download_catalog_content(changed[0], sink)
    assert result.sha256 == changed[0].sha256 == hashlib.sha256(sink.read_bytes()).hexdigest()
    first = next(e for e in seeded if e.id == "vip-cat-002")
    assert changed[0].sha256 != first.sha256  # the new file, not the first one
    elsewhere = changed[0].model_copy(update={"download_url": "http://files.example.invalid/de.png"})
    before = running.context.stats.total
    with pytest.raises(DownloadRefusedError):
        hook.download_catalog_content(elsewhere, tmp_path / "x.png")
    assert running.context.stats.total == before  # nothing was sent, the token never left


def test_connection_test_button_never_spends_the_refresh_token(
    vip: Callable[..., tuple[VipHook, Any]], token_store: Callable[[str], Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """VIP rotates refresh tokens like Smint.io: pressing Test twice (outside any task, where a
    new token could not be kept) leaves the connection's token to the next task run; a wrong
    secret is named as such."""
    _, running = vip()
    refresh_token = json.loads(os.environ["AIRFLOW_CONN_VIP_DEFAULT"])["extra"]["refresh_token"]
    for _ in range(2):
        ok, message = VipHook(refresh_token_store=token_store("vip")).test_connection()
        assert ok, message
    assert "refresh token was not used" in message
    assert running.context.store.get("refresh_token", refresh_token)["used"] is False
    assert running.context.store.count("access_token") == 0
    assert list(VipHook(refresh_token_store=token_store("vip")).iter_items())  # the next task run

    wrong = {**json.loads(os.environ["AIRFLOW_CONN_VIP_DEFAULT"]), "password": "wrong-secret"}
    monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(wrong))
    ok, message = VipHook(refresh_token_store=token_store("vip")).test_connection()
    assert not ok and "refused the client id or secret" in message and "wrong-secret" not in message
