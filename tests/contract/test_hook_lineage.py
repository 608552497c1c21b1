"""The lineage partner hooks report over real HTTP: what a call wrote once the partner accepted
it, never a write the partner refused (against the VIP sandbox)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import RequestRejectedError
from contentops.hooks.vip import VipHook
from contentops.models.vip import UsageControls
from contentops_sandbox.connections import vip_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Any:
    from airflow.sdk import lineage as sdk_lineage

    fresh = sdk_lineage.HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: fresh)
    return fresh


def _put(hook: VipHook, available_to: list[str]) -> Any:
    return hook.put_media(
        "ITM-1001",
        "asset-spring-01",
        asset_id="asset-spring-01",
        version=1,
        file_name="spring-01.png",
        content_type="image/png",
        usage_controls=UsageControls(regions=["emea"], channels=["online"]),
        available_to=available_to,
    )


def test_vip_media_written_is_an_output_and_a_refused_write_is_not(
    sandbox: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    token_store: Callable[[str], Any],
    collector: Any,
) -> None:
    running = sandbox("vip")
    monkeypatch.setenv("AIRFLOW_CONN_VIP_DEFAULT", json.dumps(vip_connection(running.url, backoff_max=0.05)))
    hook = VipHook(refresh_token_store=token_store("vip"))
    with pytest.raises(RequestRejectedError):
        _put(hook, ["rtl-999"])  # VIP does not know the party
    assert not collector.has_collected

    _put(hook, ["rtl-001"])
    list(hook.iter_parties(region="emea"))
    host = running.url.split("://", 1)[1]
    collected = collector.collected_assets
    assert [o.asset.uri for o in collected.outputs] == [f"vip://{host}/items/ITM-1001/media/asset-spring-01"]
    assert [i.asset.uri for i in collected.inputs] == [f"vip://{host}/retailers"]
