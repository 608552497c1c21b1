"""VipHook against the VIP sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import ConflictError, RequestRejectedError
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


def test_recipients_by_region_across_pages(vip: Callable[..., Any]) -> None:
    hook, running = vip()
    everyone = list(hook.iter_recipients(page_size=5))
    assert len(everyone) == len({r.id for r in everyone}) == 24
    emea = list(hook.iter_recipients(region="emea", page_size=2))
    assert emea and all(r.region == "emea" for r in emea)
    assert running.context.stats.by_route["GET /api/v1/recipients"] == 5 + 2


def test_package_and_item_are_created_once_and_updated_by_version(vip: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = vip()
    package = hook.put_package(
        "campaign-spring-emea",
        name="Spring launch EMEA",
        campaign="spring-launch-2027",
        recipients=["rcp-001", "rcp-007"],
    )
    assert (
        hook.put_package(
            "campaign-spring-emea",
            name="Spring launch EMEA",
            campaign="spring-launch-2027",
            recipients=["rcp-001", "rcp-007"],
        )
        == package
    )
    item = hook.put_item(
        "campaign-spring-emea",
        "asset-spring-01",
        asset_id="asset-spring-01",
        version=1,
        file_name="spring-01.png",
        content_type="image/png",
        usage_controls=CONTROLS,
        campaign_tags=["spring"],
        license_summary="getty royalty-free, EMEA, online",
    )
    assert item.status == "active" and item.usage_controls.regions == ["emea", "dach"]
    source = tmp_path / "spring-01.png"
    source.write_bytes(images.png("spring-01"))
    uploaded = hook.upload_item_content("campaign-spring-emea", "asset-spring-01", source, "image/png")
    assert uploaded.content and uploaded.content.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
    assert hook.deliveries("campaign-spring-emea")[0]["status"] == "delivered"
    updated = hook.put_item(
        "campaign-spring-emea",
        "asset-spring-01",
        asset_id="asset-spring-01",
        version=2,
        file_name="spring-01.png",
        content_type="image/png",
        usage_controls=CONTROLS,
    )
    assert updated.version == 2 and updated.content is None  # the new file is still to come
    assert hook.get_package("campaign-spring-emea").items == ["asset-spring-01"]  # an update, not a second item
    with pytest.raises(ConflictError):
        hook.put_item(
            "campaign-spring-emea",
            "asset-spring-01",
            asset_id="asset-spring-01",
            version=1,
            file_name="spring-01.png",
            content_type="image/png",
            usage_controls=CONTROLS,
        )
    history = running.admin("GET", "history", params={"kind": "item"})
    assert [h["action"] for h in history] == ["create", "content", "update"]


def test_withdraw_and_restrict(vip: Callable[..., Any]) -> None:
    hook, _ = vip()
    hook.put_package("p", name="p", campaign=None, recipients=["rcp-002"])
    hook.put_item(
        "p", "a-1", asset_id="a-1", version=1, file_name="a.png", content_type="image/png", usage_controls=CONTROLS
    )
    narrowed = UsageControls(regions=["dach"], channels=["online"], valid_until=datetime(2026, 12, 1, tzinfo=UTC))
    restricted = hook.restrict_item("p", "a-1", narrowed)
    assert restricted.approval_status == "restricted" and restricted.usage_controls.regions == ["dach"]
    gone = hook.withdraw_item("p", "a-1", "license expired")
    assert gone.status == "withdrawn"
    assert hook.withdraw_item("p", "a-1", "license expired").status == "withdrawn"  # repeating is harmless


def test_validation_errors_carry_the_partners_answer(vip: Callable[..., Any]) -> None:
    hook, _ = vip()
    with pytest.raises(RequestRejectedError) as caught:
        hook.put_package("p", name="p", campaign=None, recipients=["rcp-999"])
    assert "unknown_recipient" in str(caught.value)
    hook.put_package("p", name="p", campaign=None, recipients=[])
    with pytest.raises(RequestRejectedError) as caught:
        hook.put_item(
            "p",
            "a",
            asset_id="a",
            version=1,
            file_name="a.png",
            content_type="image/png",
            usage_controls=UsageControls(regions=["atlantis"], channels=["online"]),
        )
    assert "unknown_region" in str(caught.value)


def test_returns_since_with_malformed_ones_quarantined(vip: Callable[..., Any]) -> None:
    hook, running = vip()
    for n in range(5):
        running.admin(
            "POST",
            "vip/returns",
            json={
                "master_asset_id": f"asset-spring-0{n + 1}",
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
    assert len(good) == 5 and len(bad) == 1 and "master_asset_id" in bad[0][0]
    later = list(hook.iter_returns(since=good[-1].received_at, on_invalid=lambda *_: None))
    assert [r.id for r in later] == []
    rejected = hook.set_return_status(good[0].id, "rejected", "file name escapes its folder")
    assert rejected.status == "rejected"


def test_faults_and_token_rotation(vip: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = vip(token_ttl_seconds=60)
    caplog.set_level(logging.DEBUG)
    running.set_faults(fail_next=[503, 429], retry_after_seconds=0)
    assert len(list(hook.iter_recipients(page_size=50))) == 24
    running.context.clock.advance(120)
    assert len(list(hook.iter_recipients(page_size=50))) == 24
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
    assert running.context.stats.by_route["GET /api/v1/catalog"] == 2
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
