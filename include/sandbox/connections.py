"""The Airflow connections of the local demo: every partner connection pointing at its sandbox.

They are ordinary connections of each hook's connection type — the same ones a user creates
for the real services, with the real hosts and credentials instead (see docs/systems/).
``make run`` imports them with ``airflow connections import``; tests pass them as
``AIRFLOW_CONN_<ID>`` environment variables. The credentials are the sandboxes' seeded demo
credentials and open nothing outside this machine.
"""

from __future__ import annotations

from typing import Any

from contentops_sandbox.smintio.push import DEMO_CHANNEL_ID, PUSHER_APP_KEY

#: Transport settings for the demo: small backoffs, a rate just under the sandboxes' default.
DEMO_TRANSPORT: dict[str, Any] = {"backoff_max": 2.0, "max_attempts": 6}


def smintio_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "smintio",
        "host": "demo",
        "login": "contentops-demo",
        "password": "demo-secret",
        "extra": {
            "refresh_token": "demo-refresh-token",
            "token_url": f"{url}/connect/token",
            "clapi_url": f"{url}/consumer/v1",
            "portals_url": f"{url}/backend/v1",
            # live license changes: the sandbox's Pusher-like websocket and the demo tenant's channel
            "pusher_url": f"{url.replace('http', 'ws', 1)}/app/{PUSHER_APP_KEY}",
            "channel_id": DEMO_CHANNEL_ID,
            **DEMO_TRANSPORT,
            **extra,
        },
    }


def opentext_workflow_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "opentext_workflow",
        "host": url,
        "login": "contentops-demo",
        "password": "demo-secret",
        "extra": {"tenant_id": "demo", **DEMO_TRANSPORT, **extra},
    }


def vip_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "vip",
        "host": url,
        "login": "contentops-demo",
        "password": "demo-secret",
        "extra": {"refresh_token": "vip-demo-refresh-token", **DEMO_TRANSPORT, **extra},
    }


def trading_grid_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "opentext_trading_grid",
        "host": url,
        "login": "contentops-demo",
        "password": "demo-secret",
        "extra": {"company_id": "GC00804444LX", **DEMO_TRANSPORT, **extra},
    }


def exstream_connection(url: str, **extra: Any) -> dict[str, Any]:
    return {
        "conn_type": "opentext_exstream",
        "host": url,
        "login": "contentops-demo",
        "password": "demo-secret",
        "extra": {"tenant_id": "demo", **DEMO_TRANSPORT, **extra},
    }


def consonance_connection(url: str, *, api: str = "graphql", **extra: Any) -> dict[str, Any]:
    """The Consonance sandbox: host = instance URL, password = API key, extra ``api`` = graphql | rest."""
    return {
        "conn_type": "consonance",
        "host": url,
        "password": "c0e6a7d2b9f4418e8d3a5b7c9e1f2a3b",
        "extra": {"api": api, **DEMO_TRANSPORT, **extra},
    }


def source_dam_connection(url: str, **extra: Any) -> dict[str, Any]:
    """The source DAM ingest batches are read from; the Workflow sandbox serves it (``url``)."""
    from contentops_sandbox.opentext_workflow.source_dam import DEMO_API_TOKEN

    return {"conn_type": "source_dam", "host": url, "password": DEMO_API_TOKEN, "extra": {**DEMO_TRANSPORT, **extra}}


def demo_connections(urls: dict[str, str], ledger_url: str) -> dict[str, dict[str, Any]]:
    """Connection id -> connection (Airflow's JSON import format) for the given sandbox URLs."""
    connections: dict[str, dict[str, Any]] = {
        "contentops_ledger": {"conn_type": "contentops_ledger", "extra": {"url": ledger_url}},
    }
    if "smintio" in urls:
        connections["smintio_default"] = smintio_connection(urls["smintio"])
    if "vip" in urls:
        connections["vip_default"] = vip_connection(urls["vip"])
    if "trading_grid" in urls:
        connections["opentext_trading_grid_default"] = trading_grid_connection(urls["trading_grid"])
    if "exstream" in urls:
        connections["opentext_exstream_default"] = exstream_connection(urls["exstream"])
    if "consonance" in urls:
        connections["consonance_default"] = consonance_connection(urls["consonance"])
    if "workflow" in urls:
        connections["opentext_workflow_default"] = opentext_workflow_connection(urls["workflow"])
        connections["source_dam_default"] = source_dam_connection(urls["workflow"])
    return connections
