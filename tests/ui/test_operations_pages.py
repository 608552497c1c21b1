"""The plugin's operations pages in a real browser, on the shared ``make run`` stack.

A partner files a request case the intake cannot route; it is quarantined as the intake
quarantines it (the hook's validation, ``partner_cases.quarantine_case``). In headless Chromium:
the Quarantine page lists it; the partner fixes the case; **Replay** queues it and triggers a
``quarantine_replay`` run, which answers the case in a worker — delivered once, as a second
replay run shows. The "Where did it go" page then shows the delivery with links to the run and
its report. Screenshots of each step under ``test-artifacts/ui/operations/``.
"""

from __future__ import annotations

import re
import shutil
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from deploy.airflow_stack import BROWSER_STACK, AirflowApi, DemoStack, failed_tasks
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait
from ui.test_airflow_ui import api, browser, demo  # noqa: F401 - the browser module's fixtures, reused

from contentops.ledger import Ledger

pytestmark = [pytest.mark.deploy, pytest.mark.e2e, BROWSER_STACK]

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "test-artifacts" / "ui" / "operations"
REPLAY_DAG = "quarantine_replay"
DACH = "GC00000001PT"  # the Trading Grid sandbox's partner directory: a DACH partner
ASSET = "asset-spring-08"  # approved, worldwide online license (tests/e2e/test_campaign_release.py)


class Shots:
    def __init__(self, driver: WebDriver) -> None:
        self.driver, self.count = driver, 0
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)

    def shot(self, name: str) -> None:
        self.count += 1
        self.driver.save_screenshot(str(ARTIFACTS / f"{self.count:02d}-{name}.png"))


def _quarantine_as_the_intake_does(ledger: Ledger, case: dict[str, Any]) -> int:
    from contentops.hooks.base import validate_or_hand_over
    from contentops.models.trading_grid import PartnerCase
    from contentops.pipelines import partner_cases
    from contentops.pipelines.runtime import PipelineRun
    from contentops.pipelines.window import RunWindow

    now = datetime.now(UTC)
    window = RunWindow(now - timedelta(hours=1), now)
    run = PipelineRun("partner_case_intake", f"ui__{uuid.uuid4().hex[:8]}", window, ledger=ledger)
    parsed = validate_or_hand_over(
        PartnerCase, case, "Trading Grid case", lambda reason, raw: partner_cases.quarantine_case(run, reason, raw)
    )
    assert parsed is None, "the case must fail validation"
    return next(r.id for r in ledger.quarantined(source="trading_grid") if r.ref == f"{case['id']}@r1")


def _sign_in(browser: WebDriver, demo: DemoStack, api: AirflowApi) -> None:  # noqa: F811
    """The session cookie Airflow's login sets, holding the admin's token from ``/auth/token``:
    the pages are plain HTML, and loading Airflow's own single-page app on a busy 2-core machine
    only to log in can outlast the page-load timeout (the browser module logs in through it)."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    token = str(api.session.headers["Authorization"]).removeprefix("Bearer ")
    browser.set_page_load_timeout(300)  # a loaded machine: the first page also starts the renderer
    browser.get(f"{demo.url}/contentops/where")  # the cookie's site; answers 401 until it is set
    browser.add_cookie({"name": COOKIE_NAME_JWT_TOKEN, "value": token, "path": "/"})


@pytest.mark.ui
def test_a_quarantined_case_replayed_from_the_ui_is_delivered_once_and_shows_where_it_went(
    demo: DemoStack,  # noqa: F811
    api: AirflowApi,  # noqa: F811
    browser: WebDriver,  # noqa: F811
) -> None:
    wait = WebDriverWait(browser, 120, poll_frequency=0.5)
    shots = Shots(browser)
    api.wait_for_dag(REPLAY_DAG)
    api.unpause(REPLAY_DAG)
    grid = demo.info["sandboxes"]["trading_grid"]
    filed = {"type": "asset_request", "partner_company_id": DACH, "subject": "Spring visuals", "details": {}}
    case = requests.post(f"{grid}/_sandbox/trading_grid/cases", json=filed, timeout=10).json()
    ledger = Ledger(f"sqlite:///{demo.var / 'ledger.sqlite'}")
    ledger.migrate()
    try:
        row = _quarantine_as_the_intake_does(ledger, case)

        # 1. the quarantine page lists the row with its reason
        _sign_in(browser, demo, api)
        browser.get(f"{demo.url}/contentops/quarantine")
        listed = wait.until(ec.visibility_of_element_located((By.ID, f"q-{row}")))
        assert "which kind of asset" in listed.text and f"{case['id']}@r1" in listed.text
        shots.shot("quarantine")

        # 2. the partner fixes the case; 3. Replay queues it and triggers a replay run
        fix = {"details": {"asset_kind": "image", "asset_id": ASSET}}
        requests.patch(f"{grid}/_sandbox/trading_grid/cases/{case['id']}", json=fix, timeout=10).raise_for_status()
        listed.find_element(By.CSS_SELECTOR, "form.replay button").click()
        flash = wait.until(ec.visibility_of_element_located((By.ID, "flash"))).text
        shots.shot("replay-queued")
        found = re.search(rf"queued for replay in {REPLAY_DAG} run (\S+)", flash)
        assert found, flash
        run = api.wait_for_run(REPLAY_DAG, found[1], timeout=600)
        assert run["state"] == "success", failed_tasks(api, REPLAY_DAG, found[1])

        # 4. the row is resolved, the case answered with the asset: one delivery, one effect
        browser.get(f"{demo.url}/contentops/quarantine?all=1")
        resolved = wait.until(ec.visibility_of_element_located((By.ID, f"q-{row}")))
        assert "resolved" in resolved.text
        shots.shot("replayed-resolved")
        target = f"trading_grid_case:{case['id']}"
        (delivery,) = ledger.deliveries(target_prefix=target)
        assert delivery.asset_id == ASSET and delivery.status == "delivered"
        effects = [e for e in ledger.effects(asset_id=ASSET) if e["target"] == target]
        assert [(e["action"], e["status"]) for e in effects] == [("create", "done")]

        # 5. a second replay run of the same row delivers nothing more
        again = api.trigger(REPLAY_DAG, conf={"quarantine_ids": [row]})
        assert api.wait_for_run(REPLAY_DAG, again, timeout=600)["state"] == "success"
        assert [e for e in ledger.effects(asset_id=ASSET) if e["target"] == target] == effects
        outcomes = [e.action for e in ledger.audit_trail(subject=f"quarantine #{row}") if e.run_id == again]
        assert outcomes == ["replay_already_resolved"]

        # 6. where did it go: the delivery, its run and the run's report
        browser.get(f"{demo.url}/contentops/where?asset_id={ASSET}")
        table = wait.until(
            ec.visibility_of_element_located((By.CSS_SELECTOR, "table[data-partner='trading_grid_case']"))
        )
        # the replay run that delivered it: the one the page triggered, or a scheduled run of the
        # replay DAG that took the queued request first (max one run at a time)
        by_run = str(effects[0]["run_id"])
        assert by_run in {r["dag_run_id"] for r in api.runs(REPLAY_DAG)}
        assert case["id"] in table.text and by_run in table.text
        link = table.find_element(By.CSS_SELECTOR, "a.run").get_attribute("href") or ""
        assert link.endswith(f"/dags/{REPLAY_DAG}/runs/{quote(by_run, safe='')}"), link
        shots.shot("where-did-it-go")
        table.find_element(By.CSS_SELECTOR, "a.report").click()
        wait.until(lambda d: "Quarantine replay" in d.find_element(By.TAG_NAME, "body").text)
        shots.shot("replay-run-report")
        assert len(list(ARTIFACTS.glob("*.png"))) == shots.count
    finally:
        ledger.dispose()


def test_the_pages_answer_only_with_airflow_permissions(demo: DemoStack, api: AirflowApi) -> None:  # noqa: F811
    anonymous = requests.Session()
    for path in ("quarantine", "quarantine/export.csv", "quarantine/export.json", "where?asset_id=" + ASSET):
        assert anonymous.get(f"{demo.url}/contentops/{path}", timeout=60).status_code in (401, 403), path
    for action in ("replay", "resolve"):
        refused = anonymous.post(f"{demo.url}/contentops/quarantine/1/{action}", data={"note": "x"}, timeout=60)
        assert refused.status_code in (401, 403), action
    # with the admin's token: the export answers, as CSV
    exported = api.session.get(f"{demo.url}/contentops/quarantine/export.csv?all=1", timeout=60)
    assert exported.status_code == 200 and exported.text.startswith("id,created_at,source,kind,ref,reason")
