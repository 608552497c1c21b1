"""campaign_release end to end: dag.test() against the Smint.io, Workflow, VIP, Trading Grid and
Exstream sandboxes; effects asserted where they land (sandbox state) and in the ledger.

The demo campaign ``spring-launch-2027`` has twelve assets, linked in order to the seeded
licenses (asset-spring-0N <-> license N-1, license 11 is not syncable so 12 takes license 12):

| asset | license situation | released? |
|---|---|---|
| 01, 12 | worldwide, online + print, ends in 7 days | yes |
| 02 | europe only, online | no: the regions asked for are not licensed |
| 03 | worldwide, any channel, ends in 90 days | yes |
| 04 | expired | no |
| 05 | europe, gb restricted | no |
| 06 | social media only | no: channel |
| 07 | download limit reached | no |
| 08 | 12 of 500 downloads | yes |
| 09 | unknown regions / channels | no (unknown is never allowed) |
| 10 | perpetual | yes |
| 11 | editorial use only | no |

01-08 are approved; 09-12 are drafts and go through the approval workflow first.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops_sandbox.connections import (
    exstream_connection,
    opentext_workflow_connection,
    smintio_connection,
    trading_grid_connection,
    vip_connection,
)

pytestmark = pytest.mark.e2e

SEEDED = 24
CAMPAIGN = "spring-launch-2027"
ITEM = "ITM-1001"  # the VIP catalog item the campaign's visuals show (include/config/campaign_release.yaml)
HOLIDAY_ITEM = "ITM-3001"
AUDIENCE = {"distributor", "retailer", "regional_team", "agency", "publishing_partner"}
KIT = f"kit-{CAMPAIGN}"
LETTER = "comm-retail-welcome"  # an Exstream communication of the release's default domain
RELEASED = {"asset-spring-01", "asset-spring-03", "asset-spring-08", "asset-spring-10", "asset-spring-12"}
DRAFTS = {"asset-spring-09", "asset-spring-10", "asset-spring-11", "asset-spring-12"}
REGION_REFUSED = "asset-spring-02"  # licensed for europe only: emea and north_america are not covered


def _env(
    sandbox: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    *,
    faults: dict[str, list[int]] | None = None,
    **config: Any,
) -> dict[str, Any]:
    """Every sandbox the release talks to, connections to them, and a fresh ledger."""
    faults = faults or {}

    def start(name: str, **options: Any) -> Any:
        return sandbox(name, **config, **options)

    systems = {
        "smintio": start("smintio", options={"seeded_transactions": SEEDED}),
        "workflow": start("workflow"),
        "vip": start("vip"),
        "grid": start("trading_grid"),
        "exstream": start("exstream"),
    }
    systems["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "asset_approval": {"outcome": "approved", "after_seconds": 0},
            "client_approval_northwind": {"outcome": "approved", "after_seconds": 0},
            "client_usage_review_northwind": {"outcome": "approved", "after_seconds": 0},
        },
    )
    connections = {
        "SMINTIO_DEFAULT": smintio_connection(systems["smintio"].url, backoff_max=0.05),
        "OPENTEXT_WORKFLOW_DEFAULT": opentext_workflow_connection(systems["workflow"].url, backoff_max=0.05),
        "VIP_DEFAULT": vip_connection(systems["vip"].url, backoff_max=0.05),
        "OPENTEXT_TRADING_GRID_DEFAULT": trading_grid_connection(systems["grid"].url, backoff_max=0.05),
        "OPENTEXT_EXSTREAM_DEFAULT": exstream_connection(systems["exstream"].url, backoff_max=0.05),
    }
    for name, conn in connections.items():
        monkeypatch.setenv(f"AIRFLOW_CONN_{name}", json.dumps(conn))
    ledger_url = f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    monkeypatch.setenv(
        "AIRFLOW_CONN_CONTENTOPS_LEDGER", json.dumps({"conn_type": "contentops_ledger", "extra": {"url": ledger_url}})
    )
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    for name, running in systems.items():
        statuses = faults.get(running.name) or faults.get(name)
        if statuses:
            running.set_faults(fail_next=statuses, retry_after_seconds=0)
    return {**systems, "ledger": ledger}


@pytest.fixture
def env(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Any]:
    return _env(sandbox, monkeypatch, tmp_path)


class _MidRun(threading.Thread):
    """As soon as a sandbox route has been called, every access token of the sandbox is revoked
    and the given faults are armed for its next calls (so they hit the deliveries, not a login)."""

    def __init__(self, running: Any, route_prefix: str, faults: list[int]) -> None:
        super().__init__(daemon=True)
        self.running = running
        self.route_prefix = route_prefix
        self.faults = faults
        self.revoked = -1
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.005):
            routes = self.running.context.stats.snapshot()["by_route"]
            if any(route.startswith(self.route_prefix) for route in routes):
                self.running.set_faults(fail_next=self.faults, retry_after_seconds=0)
                self.revoked = self.running.context.tokens.revoke_all()
                return

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


def _dag() -> Any:
    return load_dag("campaign_release")


def _release_cycle(logical_date: datetime, conf: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """A campaign_release run, then what follows it in production: workflow_outcomes applies the
    approvals that ended (the release does not wait for them) and its Asset event starts
    campaign_release again, which delivers what was approved. Both release runs."""
    first = _dag().test(logical_date=logical_date, run_conf=conf or {})
    applied = load_dag("workflow_outcomes").test(logical_date=logical_date)
    assert applied.state == "success"
    # a second later: dag.test() replaces a run of the same logical date
    return first, _dag().test(logical_date=logical_date + timedelta(seconds=1), run_conf=conf or {})


def _effects(ledger: Ledger, *runs: Any) -> list[dict[str, Any]]:
    """The ledger's effects of these runs (a release cycle's two runs)."""
    return [e for run in runs for e in ledger.effects(run_id=run.run_id)]


def _release(logical_date: datetime, conf: dict[str, Any] | None = None) -> Any:
    """:func:`_release_cycle`'s last run (the one that delivered what was approved)."""
    return _release_cycle(logical_date, conf)[1]


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _vip_items(env: dict[str, Any], item: str = ITEM) -> dict[str, dict[str, Any]]:
    """The campaign assets' media on a VIP catalog item (agencies' deliverables left out), by asset."""
    media = env["vip"].context.store.all("media")
    return {m["asset_id"]: m for m in media if m["item_id"] == item and not m.get("agency")}


def _kits(env: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["community"]: p for p in env["grid"].context.store.all("post") if p["ref"] == KIT}


def _resources(env: dict[str, Any], domain: str = "retail") -> dict[str, dict[str, Any]]:
    return {
        r["metadata"]["source_asset"]: r
        for r in env["exstream"].context.store.all("resource")
        if r["domain"] == domain and (r.get("metadata") or {}).get("source_asset")
    }


def test_default_params_release_the_demo_campaign_to_every_target(airflow_db: Path, env: dict[str, Any]) -> None:
    run = _release(_now(), {})
    assert run.state == "success"
    ledger: Ledger = env["ledger"]

    # OWS-1: the drafts went through one approval workflow each, the outcome is in Smint.io
    instances = env["workflow"].context.store.all("instance")
    assert {i["variables"]["asset_id"] for i in instances} == DRAFTS
    assert {i["processDefinitionKey"] for i in instances} == {"asset_approval"}
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert all(assets[a]["approval_status"] == "approved" for a in DRAFTS)

    # VIP-1/3/5/8: each released asset is media of the catalog item it shows, with its controls,
    # campaign tag and file — together the campaign's hand-off to VIP
    items = _vip_items(env)
    assert set(items) == RELEASED
    assert len(env["vip"].context.store.all("media")) == len(RELEASED)  # on no other item
    # VIP-1/7: available to every active party of the retailer data (distributors, retailers,
    # regional teams, agencies, publishing partners) of the campaign's regions, and to no one else
    parties = env["vip"].context.store.all("party")
    expected = {
        p["id"] for p in parties if p["region"] in ("emea", "north_america") and p["active"] and p["kind"] in AUDIENCE
    }
    assert all(set(i["available_to"]) == expected for i in items.values())
    assert {p["kind"] for p in parties if p["id"] in expected} >= {"distributor", "retailer", "agency"}
    item = items["asset-spring-03"]
    assert item["usage_controls"]["regions"] == ["emea", "north_america"]
    assert item["usage_controls"]["channels"] == ["online"]
    assert item["usage_controls"]["valid_until"]  # the license's end travels with the item
    assert f"campaign:{CAMPAIGN}" in item["campaign_tags"] and item["approval_status"] == "approved"
    assert "license" in item["license_summary"] and item["content"]["size"] > 0
    assert items["asset-spring-10"]["usage_controls"]["valid_until"] is None  # perpetual

    # OTG-1/5: a launch kit per community of the campaign's regions, addressed to its partners
    kits = _kits(env)
    assert set(kits) == {"community-emea", "community-north_america"}
    for kit in kits.values():
        assert kit["kind"] == "launch_kit" and set(kit["asset_ids"]) == RELEASED
        assert set(kit["attachments"]) == RELEASED and kit["partners"]

    # EXS-1/2/4: approved image resources with rights metadata Exstream picks images by
    resources = _resources(env)
    assert set(resources) == RELEASED
    assert {r["state"] for r in resources.values()} == {"APPROVED"}
    meta = resources["asset-spring-01"]["metadata"]
    assert meta["campaign"] == CAMPAIGN and meta["segments"] and meta["regions"] == ["emea", "north_america"]
    assert meta["valid_until"]

    # refusals with reasons; the region-refused asset went nowhere
    refusals = [e for e in ledger.audit_trail(run_id=run.run_id) if e.action == "refused"]
    about = [e for e in refusals if e.subject == REGION_REFUSED]
    assert about and all("region" in (e.details or {}).get("reason", "") for e in about)
    assert ledger.where_did_it_go(REGION_REFUSED) == []
    # the ledger says where each released asset went, under the names the rights sweep reads
    targets = {d.target for d in ledger.where_did_it_go("asset-spring-08")}
    assert targets == {
        f"vip:{ITEM}",
        "trading_grid:community-emea",
        "trading_grid:community-north_america",
        "exstream:retail",
    }
    summary = ledger.run_summary("campaign_release", run.run_id)
    assert summary and Path(summary["report_path"]).is_file()
    report = Path(summary["report_path"]).read_text()
    assert f"{CAMPAIGN}: release" in report and REGION_REFUSED in report


def _file_reads(env: dict[str, Any], what: str = "content") -> dict[str, int]:
    """Smint.io's file downloads so far (its request log), by asset; ``what="asset"``: its reads
    of the assets' metadata."""
    reads: dict[str, int] = {}
    for route, count in env["smintio"].context.stats.snapshot()["by_route"].items():
        method, _, path = route.partition(" ")
        parts = path.strip("/").split("/")  # backend/v1/assets/<asset>/binaries/<binary>/content
        if method != "GET" or parts[:3] != ["backend", "v1", "assets"] or len(parts) < 4:
            continue
        if (what == "content" and parts[-1] == "content") or (what == "asset" and len(parts) == 4):
            reads[parts[3]] = reads.get(parts[3], 0) + count
    return reads


def test_each_assets_file_is_read_from_smintio_once_per_version_for_every_target(
    airflow_db: Path, env: dict[str, Any], tmp_path: Path
) -> None:
    """The deliver tasks of VIP, Trading Grid (two communities) and Exstream share one staged copy of
    each asset version's file: Smint.io serves it once, not once per target system; the copy is
    gone after the run; a re-run reads nothing, a new version is read once more."""
    started = _dag().test(logical_date=_now())
    assert started.state == "success"
    # ... and its metadata read once by the deliveries of every system together
    ready = RELEASED - DRAFTS  # approved from the start: delivered by this run
    assert {a: n for a, n in _file_reads(env, "asset").items() if a in ready} == dict.fromkeys(ready, 1)
    assert load_dag("workflow_outcomes").test(logical_date=_now()).state == "success"  # the drafts approved
    before = _file_reads(env, "asset")
    first = _dag().test(logical_date=_now() + timedelta(seconds=1))  # delivers what was approved since
    assert first.state == "success"
    after = _file_reads(env, "asset")
    assert {a: after[a] - before.get(a, 0) for a in RELEASED & DRAFTS} == dict.fromkeys(RELEASED & DRAFTS, 1)
    assert _file_reads(env) == dict.fromkeys(RELEASED, 1)
    # every target got the file: VIP media content, both kits' attachments, the Exstream images
    items, kits, resources = _vip_items(env), _kits(env), _resources(env)
    assert set(items) == set(resources) == RELEASED and all(i["content"]["size"] > 0 for i in items.values())
    assert {c: set(k["attachments"]) for c, k in kits.items()} == {
        "community-emea": RELEASED,
        "community-north_america": RELEASED,
    }
    sha = {a: i["content"]["sha256"] for a, i in items.items()}
    assert {a: r["content"]["sha256"] for a, r in resources.items()} == sha  # the same bytes everywhere
    ledger: Ledger = env["ledger"]
    assert all(len(ledger.where_did_it_go(asset)) == 4 for asset in RELEASED)
    assert not any((tmp_path / "staging").rglob("*-v*"))  # no staged copy left behind

    again = _dag().test(logical_date=_now())
    assert again.state == "success"
    assert _file_reads(env) == dict.fromkeys(RELEASED, 1)  # nothing read again
    assert [e for e in ledger.effects(run_id=again.run_id)] == []
    # released, held everywhere, nothing pending: the plan skipped the stages that would find nothing
    states = _states(again)
    assert {t for t, s in states.items() if s == "skipped"} == {
        "collect",
        "start_approvals",
        "hand_over_approvals",
        "gate",
        "deliver",
        "finalize",
    }, states
    assert states["plan"] == states["report"] == states["verdict"] == "success", states
    (quiet,) = [e for e in ledger.audit_trail(run_id=again.run_id) if e.action == "nothing_due"]
    assert quiet.subject == f"campaign:{CAMPAIGN}" and (quiet.details or {}).get("assets") == 12
    summary = ledger.run_summary("campaign_release", again.run_id)
    assert summary and "nothing due" in Path(summary["report_path"]).read_text()

    smintio = env["smintio"].context.store
    asset = smintio.get("asset", "asset-spring-08")
    smintio.put("asset", asset["id"], {**asset, "version": asset["version"] + 1})
    third = _dag().test(logical_date=_now())
    assert third.state == "success"
    assert _states(third)["gate"] == _states(third)["finalize"] == "success"  # a new version is due
    assert _file_reads(env) == {**dict.fromkeys(RELEASED, 1), "asset-spring-08": 2}
    updates = [e for e in ledger.effects(run_id=third.run_id) if e["action"] == "update"]
    assert len(updates) == 4 and {e["asset_id"] for e in updates} == {"asset-spring-08"}


def _states(run: Any) -> dict[str, str]:
    """Each task's state in a run (a mapped task's: its instances', when they all agree)."""
    found: dict[str, set[str]] = {}
    for ti in run.get_task_instances():
        found.setdefault(ti.task_id, set()).add(str(getattr(ti.state, "value", ti.state)))
    return {task: states.pop() if len(states) == 1 else "mixed" for task, states in found.items()}


def _effects_by_key(ledger: Ledger) -> dict[str, int]:
    return {e["idempotency_key"]: e["attempts"] for e in ledger.effects()}


def test_an_unapproved_asset_is_released_only_if_its_workflow_approves_it(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "asset_approval": {
                "outcome": "approved",
                "after_seconds": 0,
                "by_variable": {"asset_id": {"asset-spring-10": "rejected"}},
            }
        },
    )
    conf = {"targets": ["vip"], "batch_size": 2}  # small batches: mapped tasks
    started, run = _release_cycle(_now(), conf)
    assert started.state == run.state == "success"
    mapped: dict[str, set[int]] = {}
    for ti in started.get_task_instances():
        mapped.setdefault(ti.task_id, set()).add(ti.map_index)
    assert len(mapped["start_approvals"]) == 2  # four drafts, two per batch
    assert "wait_for_approval" not in mapped  # the run waits for none: workflow_outcomes applies them
    assert len(mapped["deliver"]) == 2  # the three approved from the start, two per batch
    mapped = {}
    for ti in run.get_task_instances():
        mapped.setdefault(ti.task_id, set()).add(ti.map_index)
    assert len(mapped["deliver"]) == 1  # only what was approved since (10 is rejected below): VIP holds the rest
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert assets["asset-spring-10"]["approval_status"] == "rejected"  # OWS-1: the outcome is in Smint.io
    assert assets["asset-spring-12"]["approval_status"] == "approved"
    assert assets["asset-spring-12"]["approval_history"][-1]["comment"].startswith("Approval workflow")
    items = _vip_items(env)
    assert "asset-spring-12" in items and "asset-spring-10" not in items
    assert env["ledger"].where_did_it_go("asset-spring-10") == []
    reasons = [
        (e.details or {}).get("reason", "")
        for e in env["ledger"].audit_trail(subject="asset-spring-10")
        if e.action == "refused"
    ]
    assert any("rejected" in reason for reason in reasons)

    # a second trigger starts no second workflow and delivers nothing twice
    again = _release(_now(), conf)
    assert again.state == "success"
    assert len(env["workflow"].context.store.all("instance")) == len(DRAFTS)
    creates = [h for h in env["vip"].context.store.history(kind="media") if h["action"] == "create"]
    assert len(creates) == len(items)


@pytest.mark.parametrize("down", ["exstream", "vip"])
def test_a_target_failing_on_the_first_run_gets_only_what_is_missing_on_the_next(
    airflow_db: Path, env: dict[str, Any], down: str
) -> None:
    env[down].set_faults(error_rate=1.0)  # one target is down for the whole first run
    first = _release(_now(), {})
    assert first.state == "failed"
    # the other targets got everything; the one that was down got nothing
    delivered = {"vip": set(_vip_items(env)), "exstream": set(_resources(env))}
    assert delivered[down] == set() and delivered[{"vip": "exstream", "exstream": "vip"}[down]] == RELEASED
    assert {c: set(k["attachments"]) for c, k in _kits(env).items()} == {
        "community-emea": RELEASED,
        "community-north_america": RELEASED,
    }
    ledger: Ledger = env["ledger"]
    assert ledger.run_summary("campaign_release", first.run_id)  # the report is written even so
    done_first = {e["idempotency_key"]: e for e in ledger.effects() if e["status"] == "done"}
    assert done_first

    env[down].set_faults()
    second_cycle = _release_cycle(_now(), {})
    second = second_cycle[1]
    assert second.state == "success"
    assert set(_vip_items(env)) == set(_resources(env)) == RELEASED
    # nothing went twice: one item creation per VIP item, one attachment per kit and asset,
    # one upload per Exstream resource, no effect of the first run sent again
    vip_history = env["vip"].context.store.history(kind="media")
    assert len([h for h in vip_history if h["action"] == "create"]) == len(RELEASED)
    assert len([h for h in vip_history if h["action"] == "content"]) == len(RELEASED)
    attachments = [h for h in env["grid"].context.store.history(kind="post") if h["action"] == "attachment"]
    assert len(attachments) == 2 * len(RELEASED)
    uploads = [h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "upload"]
    assert len(uploads) == len(RELEASED)
    after = {e["idempotency_key"]: e for e in ledger.effects()}
    assert all(
        (after[key]["attempts"], after[key]["run_id"]) == (effect["attempts"], effect["run_id"])
        for key, effect in done_first.items()
    )
    sent_second = {e["target"].split(":")[0] for e in _effects(ledger, *second_cycle)}
    assert sent_second == {down}  # only the target that was down got anything
    assert len(env["workflow"].context.store.all("instance")) == len(DRAFTS)  # no second approval


def test_a_new_asset_version_updates_what_was_delivered(airflow_db: Path, env: dict[str, Any]) -> None:
    first = _release(_now(), {})
    assert first.state == "success"
    smintio = env["smintio"].context.store
    asset = smintio.get("asset", "asset-spring-03")
    smintio.put("asset", asset["id"], {**asset, "version": asset["version"] + 1, "name": "spring visual 3, recut"})
    old_content = _vip_items(env)["asset-spring-03"]["content"]["sha256"]
    resource_id = _resources(env)["asset-spring-03"]["id"]
    # a letter template uses the image Exstream got from the first release
    env["exstream"].admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": LETTER, "objectIds": [resource_id]}
    )

    second_cycle = _release_cycle(_now(), {})
    second = second_cycle[1]
    assert second.state == "success"
    items = _vip_items(env)
    assert set(items) == RELEASED  # an update of the item, not a second one
    item = env["vip"].context.store.get("media", f"{ITEM}/asset-spring-03")
    assert item["version"] == asset["version"] + 1
    assert [h["version"] for h in item["history"]] == [asset["version"]]
    assert item["content"]["sha256"] != old_content  # the new version's file was uploaded
    # EXS-8: Exstream gets the new file as a new version of the same resource, which waits in
    # review with the template that uses it — the next production run cannot show it unreviewed
    resource = _resources(env)["asset-spring-03"]
    assert resource["id"] == resource_id
    assert resource["version"] == 2 and resource["state"] == "REVIEW"
    assert resource["metadata"]["asset_version"] == asset["version"] + 1
    states = {r["id"]: r["state"] for r in env["exstream"].context.store.all("resource")}
    assert states[LETTER] == "REVIEW"
    instances = env["workflow"].context.store.all("instance")
    (review,) = [i for i in instances if i["processDefinitionKey"] == "template_review"]
    assert review["businessKey"] == f"template_review:retail/{resource_id}:v{asset['version'] + 1}"
    assert len(_resources(env)) == len(RELEASED)
    slots = {d.target: d.version for d in env["ledger"].where_did_it_go("asset-spring-03")}
    assert set(slots.values()) == {str(asset["version"] + 1)}
    updates = [e for e in _effects(env["ledger"], *second_cycle) if e["action"] == "update"]
    assert {e["asset_id"] for e in updates} == {"asset-spring-03"}
    assert len(updates) == 4  # VIP, two communities, Exstream

    # the template sync applies the reviewers' approval: image and template are APPROVED again
    env["workflow"].admin(
        "PUT", "workflow/auto-complete", json={"template_review": {"outcome": "approved", "after_seconds": 0}}
    )
    synced = load_dag("exstream_template_sync").test(logical_date=_now(), run_conf={"domains": ["retail"]})
    assert synced.state == "success"
    states = {r["id"]: r["state"] for r in env["exstream"].context.store.all("resource")}
    assert states[resource_id] == states[LETTER] == "APPROVED"


def _postpone(env: dict[str, Any], campaign: str = CAMPAIGN, days: int = 365) -> None:
    """Move a campaign's release date a year out: a run selecting by date after its seeded date
    would otherwise catch it up as overdue (test_campaign_release_ahead.py covers that)."""
    store = env["smintio"].context.store
    found = store.get("campaign", campaign)
    later = datetime.fromisoformat(found["release_date"].replace("Z", "+00:00")) + timedelta(days=days)
    store.put("campaign", campaign, {**found, "release_date": later.isoformat()})


def test_the_scheduled_path_releases_the_campaign_whose_release_date_is_in_the_interval(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    _postpone(env)  # only holiday is due: spring (seeded to release before it) is a year out
    holiday = env["smintio"].context.store.get("campaign", "holiday-2026")
    released = datetime.fromisoformat(holiday["release_date"].replace("Z", "+00:00"))
    # a daily run at 04:00 covers the day before; the run after the release day covers it
    day_after = (released + timedelta(days=1)).replace(hour=5, minute=0, second=0, microsecond=0)
    run = _release(day_after, {"campaign": None})
    assert run.state == "success"
    planned = [e.subject for e in env["ledger"].audit_trail(run_id=run.run_id) if e.action == "release_planned"]
    assert planned == ["campaign:holiday-2026"]

    # OWS-7: the campaign is run for the agency client northwind, whose own approval model applies
    instances = [
        i
        for i in env["workflow"].context.store.all("instance")
        if i["processDefinitionKey"] != "client_usage_review_northwind"  # see the OWS-7 test below
    ]
    assert instances and {i["processDefinitionKey"] for i in instances} == {"client_approval_northwind"}
    assert {i["variables"]["asset_id"] for i in instances} == {
        "asset-holiday-04",
        "asset-holiday-05",
        "asset-holiday-06",
    }
    # holiday assets: 01 perpetual, 02 editorial only, 03/06 end before the release, 04 europe
    # only (so dach but not emea), 05 worldwide
    items = _vip_items(env, HOLIDAY_ITEM)
    assert set(items) == {"asset-holiday-01", "asset-holiday-04", "asset-holiday-05"}
    assert items["asset-holiday-04"]["usage_controls"]["regions"] == ["dach"]
    assert items["asset-holiday-04"]["approval_status"] == "restricted"  # not every region of the campaign
    dach = {p["id"] for p in env["vip"].context.store.all("party") if p["region"] == "dach"}
    assert items["asset-holiday-04"]["available_to"] and set(items["asset-holiday-04"]["available_to"]) <= dach
    assert items["asset-holiday-01"]["approval_status"] == "approved"
    kits = {p["community"]: p for p in env["grid"].context.store.all("post") if p["ref"] == "kit-holiday-2026"}
    assert set(kits["community-dach"]["asset_ids"]) == set(items)
    assert "asset-holiday-04" not in kits["community-emea"]["asset_ids"]
    assert _vip_items(env) == {}  # spring is not due

    # holiday arrived after its date (selected late); once delivered everywhere it is recorded as
    # released, so a later run selecting by date has nothing to do (nothing due, nothing overdue)
    trail = env["ledger"].audit_trail(subject="campaign:holiday-2026", run_id=run.run_id)
    assert [(e.details or {}).get("late") for e in trail if e.action == "release_planned"] == [True]
    released = [e for e in env["ledger"].audit_trail(run_id=run.run_id) if e.action == "released"]
    assert [e.subject for e in released] == ["campaign:holiday-2026"]
    quiet = _release(day_after + timedelta(days=3), {"campaign": None})
    assert quiet.state == "success"
    assert not [e for e in env["ledger"].audit_trail(run_id=quiet.run_id) if e.action == "release_planned"]


def test_an_asset_goes_onto_the_catalog_items_it_names_and_an_item_vip_lacks_is_refused(
    airflow_db: Path, env: dict[str, Any]
) -> None:
    store = env["smintio"].context.store
    named = store.get("asset", "asset-spring-08")
    metadata = {**named.get("metadata", {}), "vip_items": ["ITM-1002", "ITM-9999"]}  # 9999: not sold through VIP
    store.put("asset", named["id"], {**named, "metadata": metadata})
    run = _release(_now(), {"targets": ["vip"]})
    assert run.state == "success"  # an unknown item is refused with its reason, the rest goes on
    media = {(m["item_id"], m["asset_id"]) for m in env["vip"].context.store.all("media")}
    assert media == {(ITEM, a) for a in RELEASED - {"asset-spring-08"}} | {("ITM-1002", "asset-spring-08")}
    ledger: Ledger = env["ledger"]
    slots = {d.target: d.status for d in ledger.where_did_it_go("asset-spring-08")}
    assert {t for t, status in slots.items() if status == "delivered"} == {"vip:ITM-1002"}  # what the sweep reads
    refused = [
        (e.details or {}).get("reason", "")
        for e in ledger.audit_trail(subject="asset-spring-08", run_id=run.run_id)
        if e.action == "refused" and (e.details or {}).get("target") == "vip:ITM-9999"
    ]
    assert refused and "item catalog" in refused[0]


def test_regulated_exstream_domains_get_only_compliant_assets(airflow_db: Path, env: dict[str, Any]) -> None:
    store = env["smintio"].context.store
    compliant = store.get("asset", "asset-spring-08")
    store.put(
        "asset", compliant["id"], {**compliant, "categories": ["disclosure_graphic"], "compliance_status": "compliant"}
    )
    conf = {"targets": ["exstream"], "exstream_domains": ["retail", "insurance"]}
    run = _release(_now(), conf)
    assert run.state == "success"
    assert set(_resources(env, "retail")) == RELEASED
    assert set(_resources(env, "insurance")) == {"asset-spring-08"}  # EXS-5
    refused = [
        e
        for e in env["ledger"].audit_trail(run_id=run.run_id, subject="asset-spring-03")
        if e.action == "refused" and (e.details or {}).get("target") == "exstream:insurance"
    ]
    assert refused and "compliance" in refused[0].details["reason"]


def test_dry_run_decides_and_reports_without_sending_anything(airflow_db: Path, env: dict[str, Any]) -> None:
    conf = {"dry_run": True, "regions": ["emea", "uk_and_ireland"]}
    run = _release(_now(), conf)
    assert run.state == "success"
    assert env["workflow"].context.store.all("instance") == []
    assert env["vip"].context.store.all("media") == []
    assert env["grid"].context.store.all("post") == [] and _resources(env) == {}
    assert env["ledger"].effects() == []
    trail = env["ledger"].audit_trail(run_id=run.run_id)
    cleared = {e.subject for e in trail if e.action == "cleared"}
    # the drafts are not approved in a dry run; the europe-only license is good for the UK and Ireland
    assert cleared == (RELEASED - DRAFTS) | {REGION_REFUSED}
    (vip,) = [
        e
        for e in trail
        if e.action == "cleared" and e.subject == REGION_REFUSED and e.details["target"] == f"vip:{ITEM}"
    ]
    assert vip.details["regions"] == ["uk_and_ireland"]
    # no Trading Grid community serves the UK and Ireland: recorded, no launch kit there
    assert [e.details["reason"] for e in trail if e.action == "no_community"] == [
        "no Trading Grid community with authorized partners for uk_and_ireland: no launch kit there"
    ]


def test_faults_and_expiring_tokens_change_nothing_in_the_outcome(
    airflow_db: Path, sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # 5xx and 429 on logins, tokens that expire after a few seconds (many times in the run; one
    # second flaked on a loaded 2-core machine, where a request renewed once could still arrive
    # after its fresh token's second was up), and, once the deliveries have begun, every access
    # token revoked and more 5xx / 429 on the deliveries themselves
    logins = {"smintio": [503, 429], "workflow": [429, 503], "vip": [502], "trading_grid": [429], "exstream": [503]}
    env = _env(sandbox, monkeypatch, tmp_path, token_ttl_seconds=3, faults=logins)
    mid_run = [
        _MidRun(env["vip"], f"PUT /api/v1/items/{ITEM}/media/", [503, 429, 502]),
        _MidRun(env["smintio"], "GET /backend/v1/assets/asset-spring-01/binaries/", [503, 429]),
        _MidRun(env["grid"], f"PUT /communities/v1/communities/community-emea/posts/{KIT}/attachments/", [502, 429]),
        _MidRun(env["exstream"], "POST /design/api/v1/resources/retail/content", [503, 429, 503]),
    ]
    for watcher in mid_run:
        watcher.start()
    run = _release(_now(), {})
    for watcher in mid_run:
        watcher.stop()
    assert run.state == "success"
    assert all(watcher.revoked >= 0 for watcher in mid_run)  # every mid-run fault was armed
    assert all(not s.context.faults.pending() for s in env.values() if hasattr(s, "context"))  # and hit

    # the same outcome as without faults, nothing twice
    assert set(_vip_items(env)) == RELEASED
    assert all(i["content"] for i in _vip_items(env).values())
    assert {c: set(k["attachments"]) for c, k in _kits(env).items()} == {
        "community-emea": RELEASED,
        "community-north_america": RELEASED,
    }
    assert set(_resources(env)) == RELEASED
    uploads = [h for h in env["exstream"].context.store.history(kind="resource") if h["action"] == "upload"]
    assert len(uploads) == len(RELEASED)
    assert len(env["workflow"].context.store.all("instance")) == len(DRAFTS)
    creates = [h for h in env["vip"].context.store.history(kind="media") if h["action"] == "create"]
    assert len(creates) == len(RELEASED)


def test_scheduled_runs_and_backfills_release_by_release_date_whatever_the_form_says(env: dict[str, Any]) -> None:
    from contentops.pipelines import campaign
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    _postpone(env)  # the form's campaign is not due (nor overdue) in the window: only holiday is
    holiday = env["smintio"].context.store.get("campaign", "holiday-2026")
    day = datetime.fromisoformat(holiday["release_date"].replace("Z", "+00:00")).replace(hour=4, minute=0)
    window = RunWindow(day, day + timedelta(days=1))
    assert campaign.by_release_date("scheduled") and campaign.by_release_date("backfill")
    assert not campaign.by_release_date("manual")
    run = PipelineRun("campaign_release", "run-1", window, {}, ledger=env["ledger"])  # one hook, one login
    for scheduled, expected in ((True, ["holiday-2026"]), (False, [CAMPAIGN])):
        planned = campaign.plan_release(
            run,
            campaign=CAMPAIGN,  # the form's default: a scheduled run ignores it
            targets=["vip"],
            regions=[],
            release_date=None,
            exstream_domains=[],
            scheduled=scheduled,
        )
        assert planned["campaigns"] == expected
        plan = campaign.plans_of(run)[expected[0]]
        assert plan.regions == tuple(env["smintio"].context.store.get("campaign", expected[0])["regions"])


def test_the_rights_sweep_finds_what_campaign_release_delivered(airflow_db: Path, env: dict[str, Any]) -> None:
    released = _release(_now(), {})
    assert released.state == "success"
    env["workflow"].admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "rights_renewal": {
                "outcome": "renew",
                "after_seconds": 0,
                "variables": {"valid_until": "2027-06-30T00:00:00+00:00"},
            },
            "compliance_exception": {"outcome": "cleared", "after_seconds": 0},
        },
    )
    swept = load_dag("rights_expiry_sweep").test(logical_date=_now(), run_conf={})
    assert swept.state == "success"
    # the sweep does not wait for its renewals: workflow_outcomes applies them once they ended
    assert load_dag("workflow_outcomes").test(logical_date=_now()).state == "success"
    # asset-spring-01's license ends within the sweep's horizon: it is renewed, and every copy the
    # campaign release delivered gets the new end date
    item = env["vip"].context.store.get("media", f"{ITEM}/asset-spring-01")
    assert item["usage_controls"]["valid_until"].startswith("2027-06-30")
    renewed = _resources(env)["asset-spring-01"]["metadata"]
    assert renewed["valid_until"].startswith("2027-06-30")
    assert renewed["campaign"] == CAMPAIGN and renewed["segments"]  # still selectable by campaign and segment
    guidance = [p for p in env["grid"].context.store.all("post") if p["kind"] == "usage_guidance"]
    assert {p["community"] for p in guidance if p["asset_ids"] == ["asset-spring-01"]} == {
        "community-emea",
        "community-north_america",
    }


def _deliverable(
    env: dict[str, Any], token_store: Callable[[str], Any], master: str, agency: str | None, name: str
) -> str:
    """An agency's final deliverable as the agency makes it in Smint.io: a variant uploaded against
    its master, tagged as a final deliverable with the agency named (as the agency's own user)."""
    from contentops.hooks.smintio import SmintioHook

    env["smintio"].context.tokens.register_refresh_token(f"token-{name}", "agency.user", "smintio.full")
    session = token_store("smintio")
    session.save(f"token-{name}")
    hook = SmintioHook(refresh_token_store=session)
    variant = hook.upload_variant(
        master,
        BytesIO(f"final artwork {name}".encode()),
        name=f"{name}.png",
        language=None,
        region=None,
        content_type="image/png",
        idempotency_key=f"deliverable-{name}",
    )
    hook.update_metadata(variant.id, {"agency": agency} if agency else {}, tags_add=["deliverable:final"])
    return variant.id


def test_agencies_final_deliverables_go_to_publishers_media_partners_and_franchise_networks(
    airflow_db: Path, env: dict[str, Any], token_store: Callable[[str], Any]
) -> None:
    # VIP-7: the external partners final deliverables are for, in and out of the campaign's regions
    for kind, region, active in (
        ("publishing_partner", "north_america", True),  # the seed has none in the campaign's regions
        ("media_partner", "emea", True),
        ("franchise_network", "north_america", True),
        ("franchise_network", "emea", False),
        ("media_partner", "apac", True),
    ):
        env["vip"].admin("POST", "vip/parties", json={"name": f"{kind} {region}", "kind": kind, "region": region})
        if not active:
            (latest,) = [p for p in env["vip"].context.store.all("party") if p["name"] == f"{kind} {region}"]
            env["vip"].context.store.put("party", latest["id"], {**latest, "active": False})
    # deliverables of the agency, each derived from one master of the campaign
    good = _deliverable(env, token_store, "asset-spring-03", "Bluefin Agency", "hero-banner")  # worldwide
    editorial = _deliverable(env, token_store, "asset-spring-11", "Bluefin Agency", "press-cut")  # editorial only
    europe = _deliverable(env, token_store, "asset-spring-02", "Bluefin Agency", "eu-banner")  # europe only
    anonymous = _deliverable(env, token_store, "asset-spring-10", None, "no-agency")  # no agency named

    run = _release(_now(), {})
    assert run.state == "success"
    ledger: Ledger = env["ledger"]
    vip = env["vip"].context.store
    parties = {p["id"]: p for p in vip.all("party")}
    expected = {
        p["id"]
        for p in parties.values()
        if p["region"] in ("emea", "north_america")
        and p["active"]
        and p["kind"] in ("publishing_partner", "media_partner", "franchise_network")
    }
    assert {parties[p]["kind"] for p in expected} == {"publishing_partner", "media_partner", "franchise_network"}

    # only the deliverable whose master's license allows a derivative there goes: media of the item
    # its masters show, with the agency on it, available only to those partners
    items = {m["asset_id"]: m for m in vip.all("media") if m.get("agency")}
    assert set(items) == {good}
    item = items[good]
    assert item["item_id"] == ITEM and set(item["available_to"]) == expected
    assert item["agency"] == "Bluefin Agency" and item["derived_from"] == ["asset-spring-03"]
    assert item["usage_controls"]["regions"] == ["emea", "north_america"]
    master_item = _vip_items(env)["asset-spring-03"]
    assert item["usage_controls"]["valid_until"] == master_item["usage_controls"]["valid_until"]  # inherited
    assert item["content"]["size"] > 0
    # deliverables are no campaign assets of their own: not among the campaign's media, kits or Exstream
    assert set(_vip_items(env)) == RELEASED
    assert all(good not in kit["asset_ids"] for kit in _kits(env).values()) and good not in _resources(env)
    assert [d.target for d in ledger.where_did_it_go(good)] == [f"vip:{ITEM}"]

    def refusals(asset: str) -> list[str]:
        return [
            (e.details or {}).get("reason", "")
            for e in ledger.audit_trail(subject=asset, run_id=run.run_id)
            if e.action == "refused"
        ]

    assert refusals(editorial) and all("derivative" in r for r in refusals(editorial))
    assert refusals(europe) and all("region" in r for r in refusals(europe))
    assert any("agency" in r for r in refusals(anonymous))
    assert all(ledger.where_did_it_go(a) == [] for a in (editorial, europe, anonymous))

    # once: a second run sends nothing again
    again = _release(_now(), {})
    assert again.state == "success"
    creates = [h for h in vip.history(kind="media") if h["action"] == "create" and h["id"] == f"{ITEM}/{good}"]
    assert len(creates) == 1
    assert not [e for e in ledger.effects(run_id=again.run_id) if e["asset_id"] == good]


class _OnStart(threading.Thread):
    """As soon as ``count`` instances of a workflow model exist, set the Workflow sandbox's
    auto-complete rules (as a client that answers once its approvals were escalated). Should they
    never all start, the rules are set after a minute all the same, so the run ends (and the
    test fails on what is missing instead of waiting for ever)."""

    def __init__(self, running: Any, model: str, count: int, rules: dict[str, Any]) -> None:
        super().__init__(daemon=True)
        self.running, self.model, self.count, self.rules = running, model, count, rules
        self.fired = False
        self.halt = threading.Event()

    def run(self) -> None:
        for _ in range(1200):
            if self.halt.wait(0.05):
                return
            instances = self.running.context.store.all("instance")
            if len([i for i in instances if i["processDefinitionKey"] == self.model]) >= self.count:
                self.fired = True
                break
        self.running.admin("PUT", "workflow/auto-complete", json=self.rules)

    def stop(self) -> None:
        self.halt.set()
        self.join(timeout=5)


def test_an_agency_client_gets_its_own_usage_review_and_escalation_workflows(
    airflow_db: Path, env: dict[str, Any], token_store: Callable[[str], Any]
) -> None:
    from contentops.hooks.smintio import SmintioHook
    from contentops.pipelines import campaign
    from contentops.pipelines.licenses import sync_license_index
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    settings = campaign.load_release_settings()
    northwind = settings.approval.client("northwind")
    assert northwind and northwind.usage_review and northwind.escalation
    workflow = env["workflow"]
    reviews = {
        "outcome": "approved",
        "after_seconds": 0,
        "by_variable": {"asset_id": {"asset-holiday-04": "declined"}},  # the client declines one
    }
    # the client does not answer its approvals for now
    workflow.admin("PUT", "workflow/auto-complete", json={"client_usage_review_northwind": reviews})

    def instances(model: str) -> dict[str, dict[str, Any]]:
        return {
            i["variables"]["asset_id"]: i
            for i in workflow.context.store.all("instance")
            if i["processDefinitionKey"] == model
        }

    # an earlier run (a day's window ending now) starts the client's approvals and usage reviews
    now = _now()
    early = PipelineRun("campaign_release", "early", RunWindow(now - timedelta(days=1), now), {}, ledger=env["ledger"])
    # its own Smint.io session (refresh tokens rotate: the DAG run below keeps the connection's own)
    env["smintio"].context.tokens.register_refresh_token("early-run-token", "contentops", "smintio.full")
    session = token_store("smintio")
    session.save("early-run-token")
    early._hooks["smintio"] = SmintioHook(refresh_token_store=session)
    sync_license_index(early)
    campaign.plan_release(
        early,
        campaign="holiday-2026",
        targets=["vip"],
        regions=[],
        release_date=None,
        exstream_domains=[],
        scheduled=False,
    )
    collected = campaign.collect(early, settings=settings)
    for batch in collected["approval_batches"]:
        campaign.start_approvals(early, batch, settings)
    approvals = instances(northwind.approval)
    assert set(approvals) == {"asset-holiday-04", "asset-holiday-05", "asset-holiday-06"}
    assert not any(i["ended"] for i in approvals.values())
    # usage review: the assets whose license has restrictions the client signs off, in its own model
    usage = instances(northwind.usage_review)
    needed = {
        e.subject: (e.details or {}).get("reason", "")
        for e in env["ledger"].audit_trail(run_id="early")
        if e.action == "usage_review_needed"
    }
    assert set(usage) == set(needed) and {"asset-holiday-02", "asset-holiday-04"} <= set(needed)
    assert "editorial" in needed["asset-holiday-02"] and "asset-holiday-05" not in needed  # worldwide, any use
    assert instances(northwind.escalation) == {}  # still within the SLA at the end of that window

    # the release day's run: the approvals are still open far beyond the SLA by its window, so the
    # client's escalation starts (once per asset version); the client then answers
    _postpone(env)  # spring would be overdue by then and caught up: keep the run to holiday
    holiday = env["smintio"].context.store.get("campaign", "holiday-2026")
    released = datetime.fromisoformat(holiday["release_date"].replace("Z", "+00:00"))
    day_after = (released + timedelta(days=1)).replace(hour=5, minute=0, second=0, microsecond=0)
    answer = {northwind.approval: {"outcome": "approved", "after_seconds": 0}, northwind.usage_review: reviews}
    client = _OnStart(workflow, northwind.escalation, len(approvals), answer)
    client.start()
    run = _release(day_after, {"campaign": None, "targets": ["vip"]})
    client.stop()
    assert run.state == "success" and client.fired
    escalations = instances(northwind.escalation)
    assert set(escalations) == set(approvals)
    for asset_id, escalation in escalations.items():
        assert escalation["businessKey"] == f"{northwind.escalation}:{asset_id}:v1"
        assert escalation["variables"]["approval_instance"] == approvals[asset_id]["id"]
        assert escalation["variables"]["client"] == "northwind"
    assert instances(northwind.approval).keys() == approvals.keys()  # the same approvals, none restarted
    assert all(instances(northwind.approval)[a]["id"] == i["id"] for a, i in approvals.items())

    # the declined usage review keeps its asset out (approved and rights-cleared as it is);
    # the approved ones go as the rights gate says
    items = _vip_items(env, HOLIDAY_ITEM)
    assert set(items) == {"asset-holiday-01", "asset-holiday-05"}
    assets = {a["id"]: a for a in env["smintio"].context.store.all("asset")}
    assert assets["asset-holiday-04"]["approval_status"] == "approved"  # the approval is the approval's
    refused = [
        (e.details or {}).get("reason", "")
        for e in env["ledger"].audit_trail(subject="asset-holiday-04", run_id=run.run_id)
        if e.action == "refused"
    ]
    assert refused == [f"client usage review ({northwind.usage_review}): declined; not released"]

    # again: no second escalation, approval or review
    count = len(workflow.context.store.all("instance"))
    again = _release(day_after, {"campaign": None, "targets": ["vip"]})
    assert again.state == "success"
    assert len(workflow.context.store.all("instance")) == count
    started = [e for e in env["ledger"].audit_trail(run_id=again.run_id) if e.action == "escalation_started"]
    assert started == []
