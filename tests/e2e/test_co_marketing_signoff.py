"""co_marketing_signoff end to end (OTG-7): dag.test() against the Smint.io and Trading Grid sandboxes.

The demo's brand logos are the kit. Partners answer through the Trading Grid sandbox's operator
side; effects are asserted on the sign-off requests in Trading Grid, on the assets in Smint.io
and in the ledger.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from e2e.project_dags import load_dag

from contentops.ledger import Ledger

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
