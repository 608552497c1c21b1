"""The names the hooks give what they read and write, and the collector calls behind them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from urllib.parse import urlsplit

import pytest

from contentops import lineage

pytestmark = pytest.mark.unit


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Any:
    from airflow.sdk import lineage as sdk_lineage

    fresh = sdk_lineage.HookLineageCollector()
    monkeypatch.setattr(sdk_lineage, "get_hook_lineage_collector", lambda: fresh)
    return fresh


def _hook(system: str, base_url: str = "https://api.example.com:8443/v1", **attributes: Any) -> Any:
    return SimpleNamespace(system=system, base_url=lambda: base_url, **attributes)


def test_every_partner_system_has_a_valid_scheme_of_its_own() -> None:
    schemes = list(lineage.SCHEMES.values())
    assert len(set(schemes)) == len(schemes)
    for scheme in schemes:
        assert urlsplit(f"{scheme}://h/p").scheme == scheme  # no "_": a URI scheme cannot hold one
    assert lineage.scheme_of("trading_grid") == "trading-grid"
    with pytest.raises(ValueError, match="ledger"):
        lineage.scheme_of("ledger")


def test_segments_are_quoted_so_an_id_cannot_add_path_levels() -> None:
    assert lineage.asset_uri("vip", "Host:8080", "items", "ITM 1/2", "media", "a?b#c") == (
        "vip://host:8080/items/ITM%201%2F2/media/a%3Fb%23c"
    )
    with pytest.raises(ValueError):
        lineage.asset_uri("vip", "", "items", "x")
    with pytest.raises(ValueError):
        lineage.asset_uri("vip", "host")


def test_the_namespace_is_the_tenant_or_the_api_host_never_user_info() -> None:
    assert lineage.namespace_of(_hook("smintio", tenant="acme")) == "acme"
    assert lineage.namespace_of(_hook("vip", "https://api.example.com:8443/v1")) == "api.example.com:8443"
    assert lineage.namespace_of(_hook("vip", "https://user:secret@api.example.com/v1")) == "api.example.com"


def test_reads_and_writes_reach_the_collector_as_inputs_and_outputs(collector: Any) -> None:
    hook = _hook("exstream", "http://127.0.0.1:9000")
    lineage.read(hook, "domains", "retail", "usage")
    lineage.wrote(hook, "domains", "retail", "resources", "r-1")
    lineage.wrote(hook, "domains", "retail", "resources", "r-1")  # counted, not listed twice
    collected = collector.collected_assets
    assert [i.asset.uri for i in collected.inputs] == ["exstream://127.0.0.1:9000/domains/retail/usage"]
    assert [(o.asset.uri, o.count) for o in collected.outputs] == [
        ("exstream://127.0.0.1:9000/domains/retail/resources/r-1", 2)
    ]
    assert collected.outputs[0].context is hook


def test_reporting_never_fails_the_call_it_describes(collector: Any) -> None:
    def broken() -> str:
        raise RuntimeError("connection vanished")

    lineage.wrote(SimpleNamespace(system="vip", base_url=broken), "items", "x")
    lineage.read(SimpleNamespace(system="unknown", base_url=lambda: "https://h"), "x")
    assert not collector.has_collected


def test_airflow_refuses_an_asset_uri_of_ours_without_namespace_or_path() -> None:
    from airflow.sdk import Asset

    assert Asset(uri="vip://host/items/ITM-1/media/a").uri == "vip://host/items/ITM-1/media/a"
    for bad in ("vip://host", "vip://host/", "smintio:///assets/a"):
        with pytest.raises(ValueError, match="needs a"):
            Asset(uri=bad)


def test_openlineage_names_our_assets_by_scheme_and_namespace() -> None:
    from airflow.providers.openlineage.utils.utils import translate_airflow_asset
    from airflow.sdk import Asset

    dataset = translate_airflow_asset(Asset(uri="trading-grid://grid.example.com/communities/c-1/posts/kit"), None)
    assert dataset is not None
    assert (dataset.namespace, dataset.name) == ("trading-grid://grid.example.com", "communities/c-1/posts/kit")
