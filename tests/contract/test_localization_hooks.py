"""The hook parts of the localization loop against their sandboxes over real HTTP: VIP return
files, Trading Grid partner submissions and replies, Smint.io asset comments."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

from contentops.hooks.errors import AuthenticationError, DownloadRefusedError
from contentops.hooks.smintio import SmintioHook
from contentops.hooks.trading_grid import TradingGridHook
from contentops.hooks.vip import VipHook
from contentops_sandbox.connections import smintio_connection, trading_grid_connection, vip_connection
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.contract

PNG = images.png("contract-localized")


def test_vip_return_file_downloads_from_vips_own_host_only(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    vip = sandbox("vip")
    other = sandbox("vip")  # a second server on another local port
    monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(vip_connection(vip.url, backoff_max=0.05)))
    hook = VipHook(refresh_token_store=token_store("vip"))
    created = vip.admin(
        "POST",
        "vip/returns",
        json={
            "item_id": "ITM-1001",
            "source_media_ref": "asset-spring-03",
            "attached_by": "rtl-008",
            "file_name": "de.png",
            "content_type": "image/png",
        },
    )
    requests.put(
        f"{vip.url}/_sandbox/vip/returns/{created['id']}/content",
        data=PNG,
        headers={"Content-Type": "image/png"},
        timeout=10,
    ).raise_for_status()
    (listed,) = list(hook.iter_returns())
    assert listed.size == len(PNG) and listed.download_url.startswith(vip.url)
    sink = io.BytesIO()
    result = hook.download_partner_file(listed.download_url, sink, max_bytes=1_000_000)
    assert result.sha256 == hashlib.sha256(PNG).hexdigest() and sink.getvalue() == PNG

    other.context.stats.reset()
    with pytest.raises(DownloadRefusedError):
        hook.download_partner_file(f"{other.url}/api/v1/item-media/{created['id']}/content", io.BytesIO())
    requests.put(
        f"{vip.url}/_sandbox/vip/returns/{created['id']}/content",
        data=b"",
        params={"redirect_to": f"{other.url}/stolen"},
        timeout=10,
    ).raise_for_status()
    with pytest.raises(DownloadRefusedError):
        hook.download_partner_file(listed.download_url, io.BytesIO())
    assert other.context.stats.snapshot()["total"] == 0  # nothing ever reached the other server

    assert hook.set_return_status(created["id"], "in_review", "in regional review").status == "in_review"


def test_trading_grid_submissions_since_and_replies_once(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = sandbox("trading_grid")
    monkeypatch.setenv(
        "AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT",
        json.dumps(trading_grid_connection(grid.url, backoff_max=0.05)),
    )
    hook = TradingGridHook()
    submitted = []
    for n in range(3):
        created = grid.admin(
            "POST",
            "trading_grid/submissions",
            json={
                "partnerCompanyId": "GC00000001PT",
                "masterAssetId": "asset-spring-03",
                "language": "fr",
                "file": {"name": f"fr-{n}.png", "contentType": "image/png"},
            },
        )
        requests.put(
            f"{grid.url}/_sandbox/trading_grid/submissions/{created['id']}/file",
            data=PNG,
            headers={"Content-Type": "image/png"},
            timeout=10,
        ).raise_for_status()
        submitted.append(created["id"])
    grid.admin("POST", "trading_grid/submissions", json={"partnerCompanyId": "GC1", "masterAssetId": "x"})  # no file
    invalid: list[str] = []
    listed = list(hook.iter_submissions(page_size=2, on_invalid=lambda reason, raw: invalid.append(reason)))
    assert [s.id for s in listed] == submitted and len(invalid) == 1 and "file" in invalid[0]
    assert listed[0].file.download_url.startswith(grid.url) and listed[0].file.size == len(PNG)
    sink = io.BytesIO()
    hook.download_partner_file(listed[0].file.download_url, sink)
    assert sink.getvalue() == PNG

    first = hook.reply_to_submission(submitted[0], "decision", status="accepted", message="ok", asset_id="v", version=2)
    again = hook.reply_to_submission(submitted[0], "decision", status="accepted", message="ok", asset_id="v", version=2)
    assert first.ref == again.ref == "decision"
    stored = grid.context.store.get("submission", submitted[0])
    assert stored["status"] == "accepted" and len(stored["replies"]) == 1
    assert (
        len([h for h in grid.context.store.history(kind="submission", doc_id=submitted[0]) if h["action"] == "reply"])
        == 1
    )


def test_smintio_comments_are_listed_and_mirrored_once(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    smintio = sandbox("smintio", options={"seeded_transactions": 12})
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(smintio_connection(smintio.url, backoff_max=0.05)))
    hook = SmintioHook(refresh_token_store=token_store("smintio"))
    version = hook.get_asset("asset-spring-03").version
    own = hook.add_comment("asset-spring-03", "Crop is off")
    mirrored = hook.add_comment("asset-spring-03", "Fine for DACH", author="reviewer", external_ref="ows:pi-1:c-1")
    replay = hook.add_comment("asset-spring-03", "Fine for DACH", author="reviewer", external_ref="ows:pi-1:c-1")
    assert replay.id == mirrored.id and own.author == "demo-user" and own.external_ref is None
    assert [c.text for c in hook.comments("asset-spring-03")] == ["Crop is off", "Fine for DACH"]
    assert hook.get_asset("asset-spring-03").version == version  # comments are not asset changes


def test_extra_download_origins_come_from_the_connection(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    grid = sandbox("trading_grid")
    cdn = sandbox("trading_grid")  # stands in for the partner's CDN: its files need no token
    conn = trading_grid_connection(grid.url, download_origins=f" {cdn.url} , https://files.example.com ")
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT", json.dumps(conn))
    hook = TradingGridHook()
    assert hook.download_origins() == [grid.url, cdn.url, "https://files.example.com"]
    with pytest.raises(DownloadRefusedError):
        hook.download_partner_file("https://elsewhere.example.com/a.png", io.BytesIO())
    cdn.context.stats.reset()
    with pytest.raises(AuthenticationError):  # reached, but without our token: the CDN says 401
        hook.download_partner_file(f"{cdn.url}/communities/v1/submissions/sub-1/file", io.BytesIO())
    assert cdn.context.stats.snapshot()["by_status"] == {"401": 1}
