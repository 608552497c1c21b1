"""``make run`` as a user runs it, and its Airflow UI in a real browser.

One stack (``make run`` on free ports with a state folder of its own, so it can run next to a
``make run`` on the default ports; ``demo_stack``, shared with the backfill tests when they run
on the same worker, reviewers answering at once):

- every sandbox the registry lists and Airflow standalone come up, the connections point at the
  sandboxes, the banner tells where and how to log in;
- in headless Chromium (Debian's ``chromium`` and ``chromium-driver``, installed by ``make
  test``) driven by Selenium: log in, open ``campaign_release``, fill its trigger form, trigger,
  watch the run succeed, open the report task's log and find the run summary line — a
  screenshot of each step under ``test-artifacts/ui/``;
- Ctrl-C stops everything it started (the module's last test).
"""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from deploy.airflow_stack import BROWSER_STACK, AirflowApi, DemoStack, SharedDemo, failed_tasks
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import WebDriverWait

from contentops.ledger import Ledger
from contentops_sandbox.registry import SANDBOXES

pytestmark = [pytest.mark.deploy, pytest.mark.e2e, BROWSER_STACK]

PROJECT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT / "test-artifacts" / "ui"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DAG_ID = "campaign_release"
CAMPAIGN = "spring-launch-2027"
RELEASED_ASSET = "asset-spring-08"  # approved, worldwide online license (tests/e2e/test_campaign_release.py)


@pytest.fixture(scope="module")
def demo(demo_stack: SharedDemo) -> DemoStack:
    return demo_stack.get()


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "`make test` installs Debian's chromium + chromium-driver"
    profile = tempfile.mkdtemp(prefix="contentops-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Steps:
    """Numbered screenshots of each step, kept as test artifacts."""

    def __init__(self, driver: WebDriver) -> None:
        self.driver = driver
        self.count = 0
        shutil.rmtree(ARTIFACTS, ignore_errors=True)
        ARTIFACTS.mkdir(parents=True)

    def shot(self, name: str) -> Path:
        self.count += 1
        path = ARTIFACTS / f"{self.count:02d}-{name}.png"
        self.driver.save_screenshot(str(path))
        return path


def _button(scope: WebDriver | WebElement, text: str) -> WebElement:
    matches = [b for b in scope.find_elements(By.CSS_SELECTOR, "button") if b.text.strip() == text]
    assert matches, f"no button {text!r}"
    return matches[0]


def _replace(field: WebElement, value: str) -> None:
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(Keys.DELETE)
    field.send_keys(value)


@pytest.fixture(scope="module")
def api(demo: DemoStack) -> AirflowApi:
    return demo.api()


def test_the_banner_tells_where_to_go_and_how_to_log_in(demo: DemoStack) -> None:
    banner = demo.output.read_text()
    assert demo.url in banner
    assert f"admin / {demo.password}" in banner
    for name, url in demo.info["sandboxes"].items():
        assert f"{url}/_sandbox/docs" in banner, name
    assert "Ctrl-C stops everything" in banner


def test_every_registered_sandbox_serves_its_seeded_state(demo: DemoStack) -> None:
    assert set(demo.info["sandboxes"]) == set(SANDBOXES)
    for name, url in demo.info["sandboxes"].items():
        stats = requests.get(f"{url}/_sandbox/stats", timeout=10)
        assert stats.status_code == 200, (name, stats.text)
    # the demo data is there: Smint.io's license feed has seeded transactions
    state = Path(demo.var / "sandbox")
    assert any(state.iterdir()), "the sandboxes keep their seeded state under var/sandbox"


def test_every_sandbox_has_its_airflow_connection(api: AirflowApi, demo: DemoStack) -> None:
    listed = api.request("GET", "connections", params={"limit": 100})["connections"]
    connections = {c["connection_id"]: c for c in listed}
    for name, spec in SANDBOXES.items():
        assert spec.conn_id in connections, f"no connection for sandbox {name}"
        port = demo.info["sandboxes"][name].rsplit(":", 1)[1]
        assert f":{port}" in json.dumps(connections[spec.conn_id]), f"{spec.conn_id} does not point at {name}"
    assert "contentops_ledger" in connections


def test_the_project_dags_are_there(api: AirflowApi) -> None:
    dag = api.wait_for_dag("rights_expiry_sweep")
    assert dag["is_paused"] is True  # --paused; `make run` itself starts them unpaused


@pytest.mark.ui
def test_trigger_campaign_release_from_its_form_and_read_the_summary(
    demo: DemoStack, api: AirflowApi, browser: WebDriver
) -> None:
    wait = WebDriverWait(browser, 120, poll_frequency=0.5)
    steps = Steps(browser)
    api.wait_for_dag(DAG_ID)
    # unpausing makes the scheduler run the latest interval first (one run at a time): let it
    # start now, while the browser logs in; the form's "unpause on trigger" then has nothing to do
    api.unpause(DAG_ID)

    # 1. log in
    browser.get(f"{demo.url}/")
    wait.until(ec.visibility_of_element_located((By.NAME, "username"))).send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(demo.password)
    steps.shot("login")
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    wait.until(lambda d: "/auth/login" not in d.current_url)

    # 2. the DAG's page, 3. its trigger form with the Params
    browser.get(f"{demo.url}/dags/{DAG_ID}")
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "button[aria-label='Trigger Dag']")))
    steps.shot("dag")
    browser.find_element(By.CSS_SELECTOR, "button[aria-label='Trigger Dag']").click()
    form = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog][data-state=open]")))
    campaign = wait.until(ec.visibility_of_element_located((By.NAME, "element_campaign")))
    assert campaign.get_attribute("value") == CAMPAIGN  # the Param's default is in the form
    _replace(campaign, CAMPAIGN)
    _replace(form.find_element(By.NAME, "element_regions"), "emea\nnorth_america")
    _replace(form.find_element(By.NAME, "element_targets"), "vip\ntrading_grid")
    advanced = _button(form, "Advanced Options")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", advanced)
    advanced.click()
    run_id = f"ui__{uuid.uuid4().hex[:10]}"
    wait.until(ec.visibility_of_element_located((By.NAME, "dagRunId"))).send_keys(run_id)
    steps.shot("trigger-form")
    trigger = _button(form, "Trigger")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", trigger)
    trigger.click()
    wait.until(ec.invisibility_of_element(form))
    steps.shot("triggered")

    # the run carries what the form said; wait for it (approvals are answered at once)
    run = api.request("GET", f"dags/{DAG_ID}/dagRuns/{run_id}")
    assert run["conf"]["regions"] == ["emea", "north_america"]
    assert run["conf"]["targets"] == ["vip", "trading_grid"]
    run = api.wait_for_run(DAG_ID, run_id, timeout=900)
    assert run["state"] == "success", failed_tasks(api, DAG_ID, run_id)

    # 4. the run in the UI shows success
    browser.get(f"{demo.url}/dags/{DAG_ID}/runs/{run_id}")
    wait.until(lambda d: run_id in d.find_element(By.TAG_NAME, "body").text)
    wait.until(lambda d: "success" in d.find_element(By.TAG_NAME, "body").text.lower())
    steps.shot("run-succeeded")

    # 5. the report task's log holds the run summary line
    browser.get(f"{demo.url}/dags/{DAG_ID}/runs/{run_id}/tasks/report")
    summary = f"{DAG_ID} run {run_id} summary:"
    wait.until(lambda d: summary in d.find_element(By.TAG_NAME, "body").text)
    line = next(ln for ln in browser.find_element(By.TAG_NAME, "body").text.splitlines() if summary in ln)
    steps.shot("task-log-summary")
    counts = dict(part.split("=", 1) for part in line.split("summary:", 1)[1].split() if "=" in part)
    assert int(counts.get("delivered", 0)) > 0, line
    # and the ledger of `make run` says where the released assets went (the tour's `ledger_cli where`)
    ledger = Ledger(f"sqlite:///{demo.var / 'ledger.sqlite'}")
    try:
        targets = {d.target for d in ledger.where_did_it_go(RELEASED_ASSET)}
    finally:
        ledger.dispose()
    assert targets == {
        "vip:ITM-1001",  # the catalog item the campaign's visuals show
        "trading_grid:community-emea",
        "trading_grid:community-north_america",
    }
    assert len(list(ARTIFACTS.glob("*.png"))) == steps.count


@pytest.mark.stops_the_shared_demo
def test_ctrl_c_stops_everything_it_started(demo: DemoStack) -> None:
    demo.watch.scan()
    assert len(demo.watch.seen) >= 5  # launcher, sandboxes, standalone and its components
    code = demo.interrupt()
    assert code == 0, demo.log_tail()
    assert demo.watch.survivors() == []
    assert not (demo.var / "run.json").exists()
    assert "Stopped." in demo.output.read_text()
