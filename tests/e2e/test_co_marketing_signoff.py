"""co_marketing_signoff end to end (OTG-7): dag.test() against the Smint.io and Trading Grid sandboxes.

The demo's brand logos are the kit. Partners answer through the Trading Grid sandbox's operator
side; effects are asserted on the sign-off requests in Trading Grid, on the assets in Smint.io
and in the ledger.
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

DACH_PARTNERS = ("GC00000001PT", "GC00000006PT", "GC00000011PT")  # the directory's DACH partners
DACH_LOGO = "asset-logo-03"  # its license covers Europe; the other logos are expired, editorial or unclear


@pytest.fixture
def env(
    connect: Callable[..., Any], ledger_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, Any]:
    smintio = connect("smintio", options={"seeded_transactions": 120})
    grid = connect("trading_grid")
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    ledger = Ledger(ledger_url)
    ledger.migrate()
    return {"smintio": smintio, "grid": grid, "ledger": ledger}


def _run(**conf: Any) -> Any:
    dag = load_dag("co_marketing_signoff")
    as_of = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    run = dag.test(run_conf={"as_of": as_of, "communities": ["community-dach", "community-north_america"], **conf})
    assert run.state == "success"
    return run


def _answer(grid: Any, ref: str, **answer: Any) -> None:
    grid.admin("POST", f"trading_grid/signoffs/{ref}/responses", json=answer)


def _effects(env: dict[str, Any]) -> dict[str, int]:
    return {
        "signoffs": len(env["grid"].context.store.history(kind="signoff")),
        "assets": len(env["smintio"].context.store.history(kind="asset")),
        "ledger_effects": len(env["ledger"].effects()),
        "quarantine": len(env["ledger"].quarantined()),
    }


def test_kit_goes_out_for_signoff_and_answers_land_on_the_assets(airflow_db: Path, env: dict[str, Any]) -> None:
    grid, smintio, ledger = env["grid"], env["smintio"], env["ledger"]
    first = _run()
    (signoff,) = grid.context.store.all("signoff")  # North America may use none of the logos
    assert signoff["community"] == "community-dach"
    assert [i["asset_id"] for i in signoff["items"]] == [DACH_LOGO]
    assert sorted(signoff["partners"]) == sorted(DACH_PARTNERS)
    refusals = {
        e.subject
        for e in ledger.audit_trail(run_id=first.run_id)
        if e.action.startswith("rights_") and (e.details or {}).get("target") == "trading_grid_signoff:community-dach"
    }
    assert {"asset-logo-02", "asset-logo-04"} <= refusals and DACH_LOGO not in refusals
    assert ledger.lookup("co_marketing_signoff", "smintio", DACH_LOGO, "trading_grid:community-dach") == signoff["ref"]

    ref = signoff["ref"]
    _answer(grid, ref, partner_company_id=DACH_PARTNERS[0], decision="approved", login_id="anna@partner.example")
    _answer(grid, ref, partner_company_id=DACH_PARTNERS[1], decision="maybe")  # not a decision
    _answer(grid, ref, partner_company_id="GC00000002PT", decision="approved")  # was not asked
    _answer(grid, ref, partner_company_id=DACH_PARTNERS[2], decision="changes_requested", comment="Darker blue")
    _run()
    metadata = {a["id"]: a for a in smintio.context.store.all("asset")}[DACH_LOGO]["metadata"]
    assert metadata[f"co_marketing_signoff:community-dach:{DACH_PARTNERS[0]}"].startswith("approved by anna@")
    assert metadata[f"co_marketing_signoff:community-dach:{DACH_PARTNERS[2]}"].endswith("Darker blue")
    assert f"co_marketing_signoff:community-dach:{DACH_PARTNERS[1]}" not in metadata
    reasons = {q.ref: q.reason for q in ledger.quarantined(source="trading_grid")}
    assert set(reasons) == {f"{ref}#1", f"{ref}#2"}
    assert "decision" in reasons[f"{ref}#1"] and "was not asked" in reasons[f"{ref}#2"]

    before = _effects(env)
    _run()  # a re-run changes nothing, although the answers changed the logo's metadata
    assert _effects(env) == before

    _answer(grid, ref, partner_company_id=DACH_PARTNERS[1], decision="approved")
    _answer(grid, ref, partner_company_id=DACH_PARTNERS[2], decision="approved", comment="Fine now")
    _run()
    logo = {a["id"]: a for a in smintio.context.store.all("asset")}[DACH_LOGO]
    assert "co-marketing:signed-off:community-dach" in logo["tags"]
    assert logo["metadata"][f"co_marketing_signoff:community-dach:{DACH_PARTNERS[2]}"].startswith("approved")
    before = _effects(env)
    _run()
    assert _effects(env) == before
    assert [h["action"] for h in grid.context.store.history(kind="signoff") if h["action"] == "request"] == [
        "request"
    ]  # the kit went out once


# -- the review loop: files, changes requested, the revision on the same request ----------------
CHANGES_TAG = "co-marketing:changes-requested:community-dach"


def _smintio_reader(smintio: Any, monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]) -> Any:
    """A Smint.io hook of the test's own (its own refresh token: the DAG's tasks rotate theirs)."""
    from contentops.hooks.smintio import SmintioHook

    smintio.context.tokens.register_refresh_token("reader-refresh-token", "reader", "smintio.full")
    conn = smintio_connection(smintio.url, refresh_token="reader-refresh-token")
    monkeypatch.setenv("AIRFLOW_CONN_SMINTIO_READER", json.dumps(conn))
    return SmintioHook("smintio_reader", refresh_token_store=token_store("smintio"))


def _served_sha256(reader: Any, asset_id: str, binary_id: str) -> str:
    served = io.BytesIO()
    reader.download_asset_binary(asset_id, binary_id, served)
    assert served.getvalue(), f"{asset_id} serves a file"
    return hashlib.sha256(served.getvalue()).hexdigest()


def _logo(smintio: Any) -> dict[str, Any]:
    return smintio.context.store.get("asset", DACH_LOGO)


def _signoff_writes(grid: Any, action: str) -> int:
    return sum(1 for h in grid.context.store.history(kind="signoff") if h["action"] == action)


def _kit_deliveries(ledger: Ledger) -> list[Any]:
    return list(ledger.deliveries(pipeline="co_marketing_signoff", asset_id="kit:brand-kit", status="delivered"))


def _changes_requested(grid: Any, smintio: Any) -> str:
    """The kit goes out; one DACH partner asks for a change of the logo."""
    _run()
    (signoff,) = grid.context.store.all("signoff")
    _answer(grid, signoff["ref"], partner_company_id=DACH_PARTNERS[0], decision="approved")
    _answer(
        grid,
        signoff["ref"],
        partner_company_id=DACH_PARTNERS[2],
        decision="changes_requested",
        asset_id=DACH_LOGO,
        login_id="lena@partner.example",
        comment="Darker blue, please",
    )
    _run()
    return str(signoff["ref"])


def test_partners_receive_the_files_they_sign_off_once(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    """OTG-7: the sign-off request carries the files themselves — every file of each asset in it,
    the bytes Smint.io serves (SHA-256 equal) — once per asset version; a re-run attaches nothing."""
    grid, smintio, ledger = env["grid"], env["smintio"], env["ledger"]
    _run()
    (signoff,) = grid.context.store.all("signoff")
    reader = _smintio_reader(smintio, monkeypatch, token_store)
    logo = _logo(smintio)
    assert logo["binaries"]
    expected = {f"{DACH_LOGO}-v{logo['version']}-{b['id']}": b["id"] for b in logo["binaries"]}
    attachments = signoff.get("attachments") or {}
    assert set(attachments) == set(expected)  # the refused logos' files never reach the partners
    for ref, binary_id in expected.items():
        assert attachments[ref]["sha256"] == _served_sha256(reader, DACH_LOGO, binary_id)
        assert attachments[ref]["size"] > 0
    # the files are part of the kit's one delivery to the community
    (delivery,) = _kit_deliveries(ledger)
    assert delivery.target == "trading_grid_signoff:community-dach" and delivery.remote_id == signoff["ref"]

    writes = _signoff_writes(grid, "attachment")
    assert writes == len(expected)
    before = _effects(env)
    _run()
    assert _effects(env) == before
    assert _signoff_writes(grid, "attachment") == writes


def test_changes_requested_put_the_asset_back_into_review(airflow_db: Path, env: dict[str, Any]) -> None:
    """OTG-7: a "changes requested" answer takes the logo back into review in Smint.io (not
    approved, so nothing releases it meanwhile) with the partner's comment; the community's kit
    is held until the changes are approved — and a re-run changes nothing."""
    grid, smintio, ledger = env["grid"], env["smintio"], env["ledger"]
    ref = _changes_requested(grid, smintio)
    logo = _logo(smintio)
    assert logo["approval_status"] == "in_review"
    assert CHANGES_TAG in logo["tags"]
    last = logo["approval_history"][-1]
    assert (last["from"], last["to"]) == ("approved", "in_review")
    assert "lena@partner.example" in last["comment"] and "Darker blue, please" in last["comment"]
    assert ref in last["comment"]
    assert logo["metadata"][f"co_marketing_signoff:community-dach:{DACH_PARTNERS[2]}"].endswith("Darker blue, please")
    assert "co-marketing:signed-off:community-dach" not in logo["tags"]
    held = [d for d in ledger.where_did_it_go(DACH_LOGO) if d.target.startswith("smintio_signoff_changes:")]
    assert [d.target for d in held] == [f"smintio_signoff_changes:community-dach:{DACH_PARTNERS[2]}"]

    before = _effects(env)
    _run()  # held: no kit without the logo goes out, the answer is not applied twice
    assert _effects(env) == before
    assert _signoff_writes(grid, "request") == 1
    assert _logo(smintio)["approval_status"] == "in_review"


def test_revised_version_goes_out_on_the_same_signoff_once(
    airflow_db: Path, env: dict[str, Any], monkeypatch: pytest.MonkeyPatch, token_store: Callable[[str], Any]
) -> None:
    """OTG-7: once the brand team approves a revised version, the partners get its files and our
    answer on the same sign-off request (its next revision), once; the earlier answers no longer
    count, and the sign-off completes when every partner approved the revision."""
    grid, smintio, ledger = env["grid"], env["smintio"], env["ledger"]
    ref = _changes_requested(grid, smintio)
    (first,) = _kit_deliveries(ledger)

    # the brand team uploads a darker logo (a new file version) and approves it
    logo = _logo(smintio)
    revised_version = logo["version"] + 1
    binaries = [{**b, "version": revised_version} for b in logo["binaries"]]
    now = smintio.context.clock.now().isoformat()
    smintio.context.store.put(
        "asset",
        DACH_LOGO,
        {**logo, "version": revised_version, "binaries": binaries, "approval_status": "approved", "updated_at": now},
    )
    _run()

    (signoff,) = grid.context.store.all("signoff")  # the same request, no second one
    assert signoff["ref"] == ref and signoff["revision"] == 2
    assert _signoff_writes(grid, "request") == 1
    reader = _smintio_reader(smintio, monkeypatch, token_store)
    for binary in binaries:
        attached = signoff["attachments"][f"{DACH_LOGO}-v{revised_version}-{binary['id']}"]
        assert attached["sha256"] == _served_sha256(reader, DACH_LOGO, binary["id"])
    (answer,) = signoff["comments"]
    assert answer["body"].startswith("Revised:") and f"version {revised_version}" in answer["body"]
    assert "Darker blue, please" in answer["body"]
    assert CHANGES_TAG not in _logo(smintio)["tags"]
    (revision,) = _kit_deliveries(ledger)  # the community's slot now holds the revised kit, on the same request
    assert revision.remote_id == first.remote_id == ref and revision.version != first.version

    before = _effects(env)
    _run()  # once: a re-run sends nothing more
    assert _effects(env) == before

    # the answers to the first revision do not count for the second
    _answer(grid, ref, partner_company_id=DACH_PARTNERS[2], decision="approved", comment="Much better")
    _run()
    assert "co-marketing:signed-off:community-dach" not in _logo(smintio)["tags"]
    for partner in DACH_PARTNERS[:2]:
        _answer(grid, ref, partner_company_id=partner, decision="approved")
    _run()
    signed = _logo(smintio)
    assert "co-marketing:signed-off:community-dach" in signed["tags"]
    assert signed["approval_status"] == "approved"
    before = _effects(env)
    _run()
    assert _effects(env) == before
