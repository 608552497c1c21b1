"""SourceDamHook against the source DAM the Workflow sandbox serves, over real HTTP."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import AuthenticationError, NotFoundError
from contentops.hooks.source_dam import SourceDamHook
from contentops_sandbox.connections import source_dam_connection

pytestmark = pytest.mark.contract

ROUTE = "GET /source-dam/v1/batches/{}/assets"


@pytest.fixture
def dam(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[SourceDamHook, Any]]:
    def start(**extra: Any) -> tuple[SourceDamHook, Any]:
        running = sandbox("workflow")
        conn = source_dam_connection(running.url, backoff_initial=0.01, backoff_max=0.05, **extra)
        monkeypatch.setenv("AIRFLOW_CONN_SOURCE_DAM_DEFAULT", json.dumps(conn))
        return SourceDamHook(), running

    return start


def test_a_batch_is_read_page_by_page_with_the_dams_names_as_an_incoming_asset(dam: Callable[..., Any]) -> None:
    hook, running = dam(page_size=2)
    assets = [
        {"id": f"by-{n}", "url": f"https://dam.example/{n}", "name": f"Asset {n}", "version": 2} for n in range(5)
    ]
    running.admin("PUT", "source-dam/batches/b-1", json={"assets": assets})
    listed = list(hook.iter_batch_assets("b-1"))
    assert [a["source_id"] for a in listed] == [f"by-{n}" for n in range(5)]
    assert listed[0] == {"source_id": "by-0", "source_url": "https://dam.example/0", "name": "Asset 0", "version": 2}
    assert running.context.stats.by_route[ROUTE.format("b-1")] == 3  # 2 + 2 + 1
    assert len(list(hook.iter_batch_assets("b-1", page_size=100))) == 5


def test_an_unknown_batch_and_a_wrong_token(dam: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    hook, running = dam()
    with pytest.raises(NotFoundError):
        list(hook.iter_batch_assets("nope"))
    assert hook.test_connection()[0]
    conn = {**source_dam_connection(running.url, backoff_max=0.05), "password": "wrong"}
    monkeypatch.setenv("AIRFLOW_CONN_SOURCE_DAM_DEFAULT", json.dumps(conn))
    refused = SourceDamHook()
    with pytest.raises(AuthenticationError):
        list(refused.iter_batch_assets("nope"))
    ok, message = refused.test_connection()
    assert not ok and "401" in message
