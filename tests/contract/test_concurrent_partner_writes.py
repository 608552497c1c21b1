"""Deliveries of one campaign run in parallel (mapped tasks on several workers): media attached to
one VIP catalog item or files added to one launch kit at the same time must all land, none lost
to another."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from contentops.hooks.trading_grid import TradingGridHook
from contentops.hooks.vip import VipHook
from contentops.models.vip import UsageControls
from contentops_sandbox.connections import trading_grid_connection, vip_connection

pytestmark = pytest.mark.contract

WRITERS = 8
ITEMS = 24


def test_media_attached_to_one_catalog_item_at_once_all_land(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    running = sandbox("vip")
    monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(vip_connection(running.url, backoff_max=0.05)))
    hook = VipHook(refresh_token_store=token_store("vip"))
    controls = UsageControls(regions=["emea"], channels=["online"])

    def put(n: int) -> None:
        hook.put_media(
            "ITM-1001",
            f"a-{n}",
            asset_id=f"a-{n}",
            version=1,
            file_name="f.png",
            content_type="image/png",
            usage_controls=controls,
            available_to=["rtl-001"],
        )

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(put, range(ITEMS)))
    assert sorted(m["ref"] for m in running.context.store.all("media") if m["item_id"] == "ITM-1001") == sorted(
        f"a-{n}" for n in range(ITEMS)
    )
    assert all(hook.get_media("ITM-1001", f"a-{n}").status == "active" for n in range(ITEMS))


def test_files_attached_to_one_launch_kit_at_once_are_all_kept(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    running = sandbox("trading_grid")
    conn = trading_grid_connection(running.url, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT", json.dumps(conn))
    hook = TradingGridHook()
    hook.put_post("community-emea", "kit", title="Kit", body="Launch kit", kind="launch_kit")

    def attach(n: int) -> None:
        hook.put_attachment(
            "community-emea", "kit", f"a-{n}", io.BytesIO(b"x" * (n + 1)), name=f"{n}.png", content_type="image/png"
        )

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(attach, range(ITEMS)))
    (kit,) = [p for p in hook.posts("community-emea") if p.ref == "kit"]
    assert set((kit.model_extra or {})["attachments"]) == {f"a-{n}" for n in range(ITEMS)}
