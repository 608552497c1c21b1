"""partner_case_intake end to end (OTG-2, OTG-6): dag.test() against the Trading Grid, Smint.io and
Workflow sandboxes.

Partners file cases through the Trading Grid sandbox's operator side; effects are asserted where
they land: answers, links and statuses of the cases in Trading Grid, flags on the assets in
Smint.io, intake workflows in the Workflow sandbox, deliveries, cross-references, processes and
quarantine in the ledger.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger
from contentops_sandbox.connections import smintio_connection

pytestmark = pytest.mark.e2e

#: Partner directory of the sandbox: GC0000000nPT is in region REGIONS[n % 5]
EMEA, DACH, NORTH_AMERICA, APAC, LATAM = (f"GC{n:08d}PT" for n in range(5))
CHOSEN_BY_REVIEWERS = "asset-summer-02"  # worldwide, any channel


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": 120})
    workflow = connect("workflow")
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "creative_request_intake": {
                "outcome": "fulfilled",
                "after_seconds": 3600,  # reviewers answer only once the test moves the clock
                "variables": {"asset_id": CHOSEN_BY_REVIEWERS},
            }
        },
    )
    grid = connect("trading_grid")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {"smintio": smintio, "workflow": workflow, "grid": grid, "ledger": ledger}


def _file(grid: Any, partner: str, case_type: str, subject: str, **details: Any) -> str:
    body = {"type": case_type, "partner_company_id": partner, "subject": subject, "details": details}
    return str(grid.admin("POST", "trading_grid/cases", json=body)["id"])


def _dag() -> Any:
    return load_dag("partner_case_intake")


def _run(as_of: datetime) -> Any:
    run = _dag().test(run_conf={"as_of": as_of.isoformat()})
    assert run.state == "success"
    return run


def _cases(grid: Any) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in grid.context.store.all("case")}


def _comments(grid: Any, case_id: str) -> list[dict[str, Any]]:
    return [c for c in grid.context.store.all("case_comment") if c["case_id"] == case_id]


def _assets(smintio: Any) -> dict[str, dict[str, Any]]:
    return {a["id"]: a for a in smintio.context.store.all("asset")}


def _effects(env: dict[str, Any]) -> dict[str, int]:
    """How many writes each system has seen: a re-run must not add any."""
    return {
        "grid": len(env["grid"].context.store.history(kind="case"))
        + len(env["grid"].context.store.history(kind="case_comment")),
        "smintio": len(env["smintio"].context.store.history(kind="asset")),
        "workflow": len(env["workflow"].context.store.all("instance")),
        "ledger_effects": len(env["ledger"].effects()),
        "quarantine": len(env["ledger"].quarantined()),
    }


def test_partner_cases_are_routed_answered_and_followed_up(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    grid, smintio, workflow, ledger = env["grid"], env["smintio"], env["workflow"], env["ledger"]
    logos = _file(grid, DACH, "asset_request", "Logos for our shop window", asset_kind="logo")
    images = _file(
        grid, NORTH_AMERICA, "asset_request", "Summer visuals", asset_kind="image", campaign="summer-refresh"
    )
    localized = _file(
        grid,
        LATAM,
        "asset_request",
        "Spanish artwork",
        asset_kind="localized_artwork",
        asset_id="asset-summer-02",
        language="es",
    )
    clarify = _file(grid, EMEA, "rights_clarification", "May we still use this?", asset_id="asset-spring-04")
    broken = _file(
        grid, APAC, "broken_link", "Download link is dead", asset_id="asset-summer-07", url="https://x.invalid"
    )
    quality = _file(grid, DACH, "quality_problem", "Banding in the sky", asset_id="asset-holiday-01")
    unknown_asset = _file(grid, EMEA, "wrong_metadata", "Wrong caption", asset_id="asset-nope", field="caption")
    no_asset = _file(grid, APAC, "missing_file", "The zip is empty")  # names no asset
    gossip = _file(grid, EMEA, "complaint", "Not a case type we know")
    as_of = datetime.now(UTC) + timedelta(minutes=1)

    first = _run(as_of)

    cases = _cases(grid)
    # OTG-2: the DACH partner gets the one logo licensed for Europe; the others are explained
    assert cases[logos]["status"] == "resolved"
    delivered = [lk["asset_id"] for lk in cases[logos]["links"] if lk["relation"] == "delivered"]
    assert delivered == ["asset-logo-03"]
    (delivery,) = [c for c in _comments(grid, logos) if c["ref"].startswith("delivery-")]
    assert delivery["attachments"][0]["asset_id"] == "asset-logo-03" and delivery["attachments"][0]["license"]
    assert "Not available to you" in next(c["body"] for c in _comments(grid, logos) if c["ref"] == "delivered-r1")
    assert [d.target for d in ledger.where_did_it_go("asset-logo-03")] == [f"trading_grid_case:{logos}"]
    # images: only summer visuals whose license covers North America, at most three
    sent = {lk["asset_id"] for lk in cases[images]["links"] if lk["relation"] == "delivered"}
    assert sent and len(sent) <= 3 and "asset-summer-01" not in sent  # summer-01 is licensed for Europe only
    assert CHOSEN_BY_REVIEWERS in sent
    # no Spanish artwork exists yet: the request goes to the brand team's intake workflow
    assert cases[localized]["status"] == "in_progress"
    (instance,) = workflow.context.store.all("instance")
    assert instance["processDefinitionKey"] == "creative_request_intake"
    assert instance["businessKey"] == f"creative_request_intake:{localized}:v1"
    assert instance["variables"]["region"] == "latam" and instance["variables"]["language"] == "es"
    # the clarification is answered from the license: it expired
    assert cases[clarify]["status"] == "resolved"
    answer = next(c["body"] for c in _comments(grid, clarify) if c["ref"] == "clarified-r1")
    assert "may not be used in emea" in answer and "expired" in answer.lower()
    # OTG-6: reports flag the asset for correction and link the case to it
    assets = _assets(smintio)
    for case_id, asset_id in ((broken, "asset-summer-07"), (quality, "asset-holiday-01")):
        assert cases[case_id]["status"] == "in_progress"
        assert {"needs-correction", f"tg-case:{case_id}"} <= set(assets[asset_id]["tags"])
        assert assets[asset_id]["metadata"][f"partner_case:{case_id}"].startswith(cases[case_id]["type"])
        assert [(lk["asset_id"], lk["relation"]) for lk in cases[case_id]["links"]] == [(asset_id, "affected")]
        assert ledger.lookup("partner_case", "trading_grid", case_id, "smintio") == asset_id
    assert assets["asset-holiday-01"]["approval_status"] == "in_review"  # a quality problem holds the asset
    assert assets["asset-summer-07"]["approval_status"] == "approved"  # a broken link does not
    assert cases[unknown_asset]["status"] == "waiting_on_partner"
    # malformed cases are quarantined with their reason; the rest were handled
    quarantined = {q.ref: q.reason for q in ledger.quarantined(source="trading_grid")}
    assert set(quarantined) == {f"{no_asset}@r1", f"{gossip}@r1"}
    assert "must name the asset" in quarantined[f"{no_asset}@r1"] and "type" in quarantined[f"{gossip}@r1"]
    assert cases[no_asset]["status"] == cases[gossip]["status"] == "open"
    summary = ledger.run_summary("partner_case_intake", first.run_id)
    assert summary and Path(summary["report_path"]).is_file() and summary["counts"]

    # a re-run of the same window changes nothing anywhere
    before = _effects(env)
    _run(as_of)
    assert _effects(env) == before

    # the editors correct both assets in Smint.io; the reviewers pick an asset for the request
    from contentops.hooks.smintio import SmintioHook
    from contentops.models.smintio import ApprovalStatus

    # an editor of our own, with a refresh token of its own (the DAG's tasks rotate theirs)
    smintio.context.tokens.register_refresh_token("editor-refresh-token", "editor", "smintio.full")
    editor_conn = smintio_connection(smintio.url, refresh_token="editor-refresh-token")
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_EDITOR", json.dumps(editor_conn))
    editor = SmintioHook("smintio_editor", refresh_token_store=token_store("smintio"))
    editor.update_metadata("asset-summer-07", tags_remove=[f"tg-case:{broken}"])
    editor.update_metadata("asset-holiday-01", tags_remove=[f"tg-case:{quality}"])
    workflow.context.clock.advance(3601)
    _run(as_of)  # the corrected-but-unapproved asset keeps its case open
    cases = _cases(grid)
    assert cases[broken]["status"] == "resolved" and cases[quality]["status"] == "in_progress"
    assert "corrected" in [lk["relation"] for lk in cases[broken]["links"]]
    assert "needs-correction" not in _assets(smintio)["asset-summer-07"]["tags"]
    assert cases[localized]["status"] == "resolved"
    assert [lk["asset_id"] for lk in cases[localized]["links"] if lk["relation"] == "delivered"] == [
        CHOSEN_BY_REVIEWERS
    ]
    assert ledger.process(f"creative_request_intake:{localized}:v1").status == "applied"  # type: ignore[union-attr]

    editor.set_approval("asset-holiday-01", ApprovalStatus.APPROVED, "Re-exported without banding")
    _run(as_of)
    assert _cases(grid)[quality]["status"] == "resolved"
    before = _effects(env)
    _run(as_of)
    assert _effects(env) == before
    assert len(workflow.context.store.all("instance")) == 1  # one workflow for the one request that needed it


def test_dry_run_decides_without_writing(airflow_db: Path, env: dict[str, Any]) -> None:
    grid = env["grid"]
    case_id = _file(grid, APAC, "broken_link", "Dead link", asset_id="asset-summer-07")
    before = _effects(env)
    run = _dag().test(run_conf={"as_of": (datetime.now(UTC) + timedelta(minutes=1)).isoformat(), "dry_run": True})
    assert run.state == "success"
    assert _effects(env) == before
    assert _cases(grid)[case_id]["status"] == "open"


def test_reviewers_answers_and_refusals_reach_the_partner(airflow_db: Path, env: dict[str, Any]) -> None:
    grid, workflow = env["grid"], env["workflow"]
    workflow.admin(
        "PUT",
        "workflow/auto-complete",
        json={
            "creative_request_intake": {
                "outcome": "fulfilled",
                "after_seconds": 0,
                "variables": {
                    "answer": "Licensed worldwide for print until further notice.",
                    "reason": "no logo may be used in your region",
                },
                "by_variable": {
                    "request_type": {"rights_clarification": "answered"},
                    "asset_kind": {"logo": "declined"},
                },
            }
        },
    )
    # asset-logo-01's license says nothing about regions or channels: the rules cannot decide
    unclear = _file(grid, EMEA, "rights_clarification", "Print use?", asset_id="asset-logo-01")
    declined = _file(grid, NORTH_AMERICA, "asset_request", "Logos please", asset_kind="logo")
    as_of = datetime.now(UTC) + timedelta(minutes=1)
    _run(as_of)
    cases = _cases(grid)
    assert cases[unclear]["status"] == cases[declined]["status"] == "in_progress"
    assert len(workflow.context.store.all("instance")) == 2
    _run(as_of)  # the reviewers answered meanwhile
    cases = _cases(grid)
    assert cases[unclear]["status"] == "resolved"
    assert [c["body"] for c in _comments(grid, unclear) if c["ref"] == "answered-r1"] == [
        "Licensed worldwide for print until further notice."
    ]
    assert cases[declined]["status"] == "rejected"
    assert "no logo may be used in your region" in next(
        c["body"] for c in _comments(grid, declined) if c["ref"] == "declined-r1"
    )
    assert not [lk for lk in cases[declined]["links"] if lk["relation"] == "delivered"]
    assert env["ledger"].deliveries(target_prefix="trading_grid_case:") == []  # nothing was handed out


def test_a_case_listed_malformed_is_fetched_again_and_handled_not_lost(airflow_db: Path, env: dict[str, Any]) -> None:
    """The listing serves the first case of every page malformed; the window then moves on.
    Fetched again by its id, each such case is answered and its quarantine row resolved, while a
    case that is malformed in itself stays quarantined."""
    grid, ledger = env["grid"], env["ledger"]
    requests_ = [_file(grid, DACH, "asset_request", f"Logos {n}", asset_kind="logo") for n in range(3)]
    gossip = _file(grid, EMEA, "complaint", "Not a case type we know")
    grid.set_faults(malformed_rate=1.0)

    _run(datetime.now(UTC) + timedelta(minutes=1))

    answered = {case_id for case_id in requests_ if _comments(grid, case_id)}
    assert answered == set(requests_)
    assert {c["status"] for i, c in _cases(grid).items() if i in requests_} == {"resolved"}
    open_rows = {q.ref for q in ledger.quarantined(source="trading_grid")}
    assert open_rows == {f"{gossip}@r1"}
    healed = [q for q in ledger.quarantined(source="trading_grid", include_resolved=True) if q.resolved_at]
    assert healed and all(q.ref.rsplit("@r", 1)[0] in requests_ for q in healed)


def _smintio_reader(smintio: Any, monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]) -> Any:
    """A Smint.io hook of the test's own (its own refresh token: the DAG's tasks rotate theirs)."""
    from contentops.hooks.smintio import SmintioHook

    smintio.context.tokens.register_refresh_token("reader-refresh-token", "reader", "smintio.full")
    conn = smintio_connection(smintio.url, refresh_token="reader-refresh-token")
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_READER", json.dumps(conn))
    return SmintioHook("smintio_reader", refresh_token_store=token_store("smintio"))


def _attachment_writes(grid: Any) -> int:
    return sum(1 for h in grid.context.store.history(kind="case") if h["action"] == "attachment")


def test_requested_asset_package_is_attached_to_the_case_once(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    """OTG-2: the partner gets the files themselves in the case — the bytes Smint.io serves for each
    delivered asset version, only for the assets the partner's rights allow — and a re-run
    attaches nothing more."""
    grid, smintio, ledger = env["grid"], env["smintio"], env["ledger"]
    logos = _file(grid, DACH, "asset_request", "Logos for our shop window", asset_kind="logo")
    images = _file(
        grid, NORTH_AMERICA, "asset_request", "Summer visuals", asset_kind="image", campaign="summer-refresh"
    )
    as_of = datetime.now(UTC) + timedelta(minutes=1)

    _run(as_of)

    reader = _smintio_reader(smintio, monkeypatch, token_store)
    cases, assets = _cases(grid), _assets(smintio)
    attached_total = 0
    for case_id in (logos, images):
        assert cases[case_id]["status"] == "resolved"
        delivered = {lk["asset_id"] for lk in cases[case_id]["links"] if lk["relation"] == "delivered"}
        assert delivered
        attachments = cases[case_id].get("attachments") or {}
        expected_refs = set()
        for asset_id in delivered:
            asset = assets[asset_id]
            assert asset["binaries"], f"{asset_id} has files to hand over"
            for binary in asset["binaries"]:
                ref = f"{asset_id}-v{asset['version']}-{binary['id']}"
                expected_refs.add(ref)
                served = io.BytesIO()
                reader.download_asset_binary(asset_id, binary["id"], served)
                content = served.getvalue()
                assert attachments[ref]["sha256"] == hashlib.sha256(content).hexdigest()
                assert attachments[ref]["size"] == len(content) > 0
        # nothing but the delivered assets' files: a refused asset's files never reach the partner
        assert set(attachments) == expected_refs
        attached_total += len(attachments)
    images_attached = " ".join(cases[images]["attachments"])
    assert "asset-summer-01" not in images_attached  # licensed for Europe only: refused in North America
    # one delivery per asset and case in the ledger, the files included
    assert [d.target for d in ledger.where_did_it_go("asset-logo-03")] == [f"trading_grid_case:{logos}"]

    # a re-run attaches nothing more and changes nothing anywhere
    writes = _attachment_writes(grid)
    assert writes == attached_total
    before = _effects(env)
    _run(as_of)
    assert _effects(env) == before
    assert _attachment_writes(grid) == writes
    assert {cid: c.get("attachments") for cid, c in _cases(grid).items()} == {
        cid: c.get("attachments") for cid, c in cases.items()
    }
