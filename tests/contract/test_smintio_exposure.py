"""SmintioHook's exposure methods (collections, access, an asset's own license) against the sandbox."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import RequestRejectedError
from contentops.hooks.smintio import SmintioHook
from contentops_sandbox.connections import smintio_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def smintio(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> tuple[SmintioHook, Any]:
    running = sandbox("smintio", options={"seeded_transactions": 12})
    conn = smintio_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_DEFAULT", json.dumps(conn))
    return SmintioHook(refresh_token_store=token_store("smintio")), running


def test_a_collection_by_reference_takes_an_asset_once_and_lets_it_go(smintio: tuple[SmintioHook, Any]) -> None:
    hook, running = smintio
    first = hook.upsert_collection_by_reference("creative-request:pi-1", name="Launch banners")
    again = hook.upsert_collection_by_reference("creative-request:pi-1", name="Launch banners")
    assert again["id"] == first["id"] and first["asset_ids"] == []
    hook.add_to_collection(first["id"], "asset-summer-01")
    hook.add_to_collection(first["id"], "asset-summer-01")
    assert hook.get_collection(first["id"])["asset_ids"] == ["asset-summer-01"]
    hook.remove_from_collection(first["id"], "asset-summer-01")
    hook.remove_from_collection(first["id"], "asset-summer-01")  # not in it: nothing changes
    assert hook.get_collection(first["id"])["asset_ids"] == []
    assert len(running.context.store.history(kind="collection")) == 3  # created, added, removed


def test_access_and_an_own_license_on_an_asset(smintio: tuple[SmintioHook, Any]) -> None:
    hook, running = smintio
    asset = hook.set_access("asset-summer-01", visibility="restricted", groups=["brand_team", "agency"])
    version = asset.version
    assert running.context.store.get("asset", "asset-summer-01")["access"] == {
        "visibility": "restricted",
        "groups": ["agency", "brand_team"],
    }
    same = hook.set_access("asset-summer-01", visibility="restricted", groups=["agency", "brand_team"])
    assert same.version == version  # the same access again changes nothing
    with pytest.raises(RequestRejectedError):
        hook.set_access("asset-summer-01", visibility="restricted", groups=[])
    licensed = hook.set_asset_license("asset-summer-01", {"reference": "lic-1", "regions": ["europe"]})
    assert licensed.license_purchase_transaction_uuid == "lic-1"
    assert running.context.store.get("asset", "asset-summer-01")["license"]["regions"] == ["europe"]
