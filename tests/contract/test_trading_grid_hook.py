"""TradingGridHook against the Trading Grid sandbox over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import AuthenticationError, RequestRejectedError
from contentops.hooks.trading_grid import TradingGridHook
from contentops_sandbox.connections import trading_grid_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def grid(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    def start(password: str = "demo-secret", **config: Any) -> tuple[TradingGridHook, Any]:
        running = sandbox("trading_grid", **config)
        conn = trading_grid_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
        conn["password"] = password
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT", json.dumps(conn))
        return TradingGridHook(), running

    return start


def test_company_partner_directory_and_entitlements(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    assert hook.company()["companyId"] == "GC00804444LX"
    partners = list(hook.iter_partners(page_size=4))
    assert len(partners) == len({p.partner_company_id for p in partners}) == 15
    assert running.context.stats.by_route["GET /TGCommunityServices/v1/companies/GC00804444LX/partnerDirectory"] == 4
    assert [p.region for p in hook.iter_partners(name="dach")] == ["dach"] * 3
    assert {e["name"] for e in hook.entitlements()} >= {"brand-assets:emea", "brand-assets:dach"}


def test_posts_are_published_once_per_reference(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    communities = {c.id for c in hook.communities()}
    assert "community-emea" in communities
    first = hook.put_post(
        "community-emea",
        "guidance-asset-1",
        title="Usage update",
        body="Expires 1 Dec",
        kind="usage_guidance",
        asset_ids=["asset-1"],
    )
    again = hook.put_post(
        "community-emea",
        "guidance-asset-1",
        title="Usage update",
        body="Expires 1 Dec",
        kind="usage_guidance",
        asset_ids=["asset-1"],
    )
    assert first == again
    assert len(hook.posts("community-emea")) == 1
    assert [h["action"] for h in running.admin("GET", "history", params={"kind": "post"})] == ["publish"]
    with pytest.raises(RequestRejectedError) as caught:
        hook.put_post("community-emea", "x", title="t", body="b", kind="gossip")
    assert "InvalidPostKind" in str(caught.value)


def test_basic_token_flow_faults_and_secrets(grid: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = grid(token_ttl_seconds=60)
    caplog.set_level(logging.DEBUG)
    running.set_faults(fail_next=[502, 429], retry_after_seconds=0)
    assert hook.communities()
    running.context.clock.advance(120)  # the token expired mid-run: fetched again
    assert hook.communities()
    assert hook.transport.auth.token_fetches == 2  # type: ignore[union-attr]
    assert "demo-secret" not in caplog.text
    wrong, _ = grid(password="not-the-secret")
    with pytest.raises(AuthenticationError) as caught:
        wrong.communities()
    assert "not-the-secret" not in str(caught.value)
