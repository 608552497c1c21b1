"""TradingGridHook's launch-kit side against the Trading Grid sandbox: authorized partners, attachments."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import RequestRejectedError
from contentops.hooks.trading_grid import TradingGridHook
from contentops_sandbox.connections import trading_grid_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def grid(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> tuple[TradingGridHook, Any]:
    running = sandbox("trading_grid")
    conn = trading_grid_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT", json.dumps(conn))
    return TradingGridHook(), running


def test_entitlements_name_the_partners_they_authorize(grid: tuple[TradingGridHook, Any]) -> None:
    hook, _ = grid
    by_community = {e["community"]: e["partners"] for e in hook.entitlements()}
    dach = {p.partner_company_id for p in hook.iter_partners() if p.region == "dach"}
    assert set(by_community["community-dach"]) == dach and dach
    assert not set(by_community["community-dach"]) & set(by_community["community-emea"])


def test_a_launch_kit_carries_its_partners_and_attachments_once(grid: tuple[TradingGridHook, Any]) -> None:
    hook, running = grid
    partners = next(e["partners"] for e in hook.entitlements() if e["community"] == "community-apac")
    post = hook.put_post(
        "community-apac",
        "kit-x",
        title="Kit",
        body="Launch kit",
        kind="launch_kit",
        asset_ids=["a1"],
        partners=partners,
    )
    assert post.model_extra and post.model_extra["partners"] == partners
    for _ in range(2):  # a replay attaches nothing new
        kit = hook.put_attachment(
            "community-apac", "kit-x", "a1", io.BytesIO(b"banner-bytes"), name="a1.png", content_type="image/png"
        )
    attachment = (kit.model_extra or {})["attachments"]["a1"]
    assert attachment["size"] == len(b"banner-bytes") and attachment["content_type"] == "image/png"
    assert [h["action"] for h in running.context.store.history(kind="post")] == ["publish", "attachment"]
    with pytest.raises(RequestRejectedError):
        hook.put_post("community-apac", "kit-y", title="Kit", body="b", kind="launch_kit", partners=["GC-nobody"])
