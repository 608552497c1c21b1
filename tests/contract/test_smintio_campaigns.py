"""SmintioHook's campaign side against the Smint.io sandbox: campaigns by release date, asset files."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from contentops.hooks.smintio import SmintioHook
from contentops_sandbox.connections import smintio_connection
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.contract


@pytest.fixture
def smintio(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> tuple[SmintioHook, Any]:
    running = sandbox("smintio", options={"seeded_transactions": 24})
    conn = smintio_connection(running.url, backoff_initial=0.01, backoff_max=0.05, max_attempts=5)
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
    return SmintioHook(refresh_token_store=token_store("smintio")), running


def test_campaigns_are_selected_by_release_date(smintio: tuple[SmintioHook, Any]) -> None:
    hook, _ = smintio
    everything = {c.id: c for c in hook.iter_campaigns(page_size=2)}  # paged
    assert set(everything) == {"spring-launch-2027", "holiday-2026", "summer-refresh"}
    spring = everything["spring-launch-2027"]
    assert spring.release_date is not None and spring.regions and spring.segments
    assert everything["holiday-2026"].client == "northwind"
    day = spring.release_date.replace(hour=0, minute=0)
    in_window = [c.id for c in hook.iter_campaigns(release_from=day, release_to=day + timedelta(days=1))]
    assert in_window == ["spring-launch-2027"]
    assert hook.get_campaign("summer-refresh").regions == everything["summer-refresh"].regions


def test_an_asset_file_is_streamed_for_its_current_version(smintio: tuple[SmintioHook, Any]) -> None:
    hook, _ = smintio
    asset = hook.get_asset("asset-spring-01")
    sink = io.BytesIO()
    result = hook.download_asset_binary(asset.id, asset.binaries[0].id, sink)
    expected = images.png(f"{asset.binaries[0].id}:v{asset.version}")
    assert sink.getvalue() == expected and result.sha256 == hashlib.sha256(expected).hexdigest()
    changed = hook.update_metadata(asset.id, {"note": "recoloured"})  # a new version of the asset
    again = io.BytesIO()
    hook.download_asset_binary(asset.id, asset.binaries[0].id, again)
    assert changed.version == asset.version + 1 and again.getvalue() != sink.getvalue()
