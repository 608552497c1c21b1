"""Alerts end to end: a project DAG run with dag.test() tells the team by mail (a real SMTP server
the test reads) and through a chat webhook (a real HTTP server), as include/config/alerts.yaml says."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alert_servers import SMTP_PASSWORD, WEBHOOK_PATH, WEBHOOK_TOKEN, Mailbox, Webhook, smtp_server, webhook_server
from e2e.project_dags import load_dag

from contentops.alerts.quarantine import STATE_CURSOR
from contentops.ledger import Ledger

pytestmark = pytest.mark.e2e


@pytest.fixture
def mailbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Mailbox]:
    with smtp_server() as box:
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_ALERTS", json.dumps(box.connection()))
        yield box


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    with webhook_server() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_CONTENTOPS_CHAT", json.dumps(hook.connection()))
        yield hook


@pytest.fixture
def alerts_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[[str], Path]:
    """Write ``alerts.yaml`` into a settings folder of the test's own and point CONTENTOPS_CONFIG_DIR at it."""

    def write(extra: str = "") -> Path:
        folder = tmp_path / "config"
        folder.mkdir(exist_ok=True)
        (folder / "alerts.yaml").write_text(
            "email:\n  conn_id: smtp_alerts\n  to: [ops@example.com, oncall@example.com]\n"
            "webhooks:\n  - conn_id: contentops_chat\n" + extra
        )
        monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(folder))
        return folder

    return write


def _secrets(*connections: dict[str, Any]) -> list[str]:
    found = [SMTP_PASSWORD, WEBHOOK_TOKEN]
    for conn in connections:
        found += [conn.get("password") or "", str((conn.get("extra") or {}).get("refresh_token") or "")]
    return [s for s in found if s]


def test_a_failed_run_mails_the_team_and_posts_to_the_chat(
    airflow_db: Path,
    connect: Callable[..., Any],
    ledger_url: str,
    mailbox: Mailbox,
    chat: Webhook,
    alerts_config: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """smintio_license_sync on a connection that cannot work: the task fails at once, and the team
    gets two alerts on each channel — the task's (what a person must fix, with the hook's hint)
    and the run's (the DAG's on_failure_callback) — without any secret in them."""
    connect("smintio", extra={"paths": {"no_such_operation": "/nowhere"}})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    alerts_config("")
    dag = load_dag("smintio_license_sync", retries=None)

    run = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert run.state == "failed"

    messages = mailbox.wait_for(2)
    subjects = sorted(str(m["Subject"]) for m in messages)
    assert len(messages) == 2, subjects
    assert subjects[0].startswith("[contentops] Action needed: smintio_license_sync.sync_licenses failed — ")
    assert subjects[1] == f"[contentops] Run failed: smintio_license_sync ({run.run_id})"
    assert mailbox.recipients == [["ops@example.com", "oncall@example.com"]] * 2
    assert mailbox.logins == ["alerts", "alerts"]
    by_subject = {str(m["Subject"]): Mailbox.body(m) for m in messages}
    action = by_subject[subjects[0]]
    assert "InvalidConnectionError" in action and "Complete the Airflow connection" in action
    assert "sync_licenses" in by_subject[subjects[1]]

    assert [path for path, _, _ in chat.posts] == [WEBHOOK_PATH] * 2
    assert all(headers.get("Authorization") == f"Bearer {WEBHOOK_TOKEN}" for _, headers, _ in chat.posts)
    events = sorted(body["event"] for _, _, body in chat.posts)
    assert events == ["action_needed", "run_failed"]
    assert all(body["text"].startswith(body["subject"]) for _, _, body in chat.posts)

    smintio = json.loads(os.environ["AIRFLOW_CONN_SMINTIO_DEFAULT"])
    sent = [Mailbox.body(m) + str(m["Subject"]) for m in messages] + [json.dumps(b) for _, _, b in chat.posts]
    for secret in _secrets(smintio):
        assert not any(secret in text for text in sent), "a secret reached an alert"


def test_quarantine_growth_is_told_once_per_crossing(
    airflow_db: Path,
    connect: Callable[..., Any],
    ledger_url: str,
    mailbox: Mailbox,
    chat: Webhook,
    alerts_config: Callable[[str], Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Runs that quarantine malformed licenses push the open quarantine above the threshold: the
    first such run tells the team, the next one (still above) does not; the run's report says so."""
    running = connect("smintio", options={"seeded_transactions": 60})
    running.set_faults(malformed_rate=0.1, seed=5)
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    alerts_config("quarantine_threshold: 0\n")
    dag = load_dag("smintio_license_sync")

    first = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"page_size": 7})
    assert first.state == "success"
    messages = mailbox.wait_for(1)
    assert len(messages) == 1 and str(messages[0]["Subject"]).startswith("[contentops] Quarantine above 0: ")
    assert "smintio" in Mailbox.body(messages[0]) and first.run_id in Mailbox.body(messages[0])
    assert [body["event"] for _, _, body in chat.posts] == ["quarantine_growth"]

    second = dag.test(logical_date=datetime(2026, 11, 24, 11, tzinfo=UTC), run_conf={"page_size": 7})
    assert second.state == "success"
    ledger = Ledger(ledger_url)
    assert ledger.count_quarantined() > 0, "still above the threshold"
    assert len(mailbox.wait_for(2, timeout=1.0)) == 1, "still above the threshold: no second alert"
    assert len(chat.posts) == 1
    summary = ledger.run_summary("smintio_license_sync", second.run_id)
    assert summary and "the team was told before" in Path(summary["report_path"]).read_text()

    running.set_faults()  # every record valid again: the quarantine heals, the crossing is over
    third = dag.test(logical_date=datetime(2026, 11, 24, 12, tzinfo=UTC), run_conf={"page_size": 7})
    assert third.state == "success" and ledger.count_quarantined() == 0
    assert ledger.get_cursor(STATE_CURSOR) == "below"
    assert len(mailbox.messages) == 1 and len(chat.posts) == 1


def test_a_dag_that_waits_on_people_gets_a_deadline_whose_miss_mails_the_team(
    airflow_db: Path, mailbox: Mailbox, chat: Webhook, alerts_config: Callable[[str], Path]
) -> None:
    """With a workflow SLA set, localization_return_loop (it waits on its reviews) carries a
    DeadlineAlert on the run's queued time; a DAG without workflow waits carries none — nor does
    campaign_release any more (it starts its approvals and finishes; workflow_outcomes applies
    them). The deadline's callback, run the way Airflow's triggerer runs it (CallbackTrigger, with
    the context the scheduler gives a missed deadline), mails the team and posts to the chat."""
    import asyncio

    from airflow.models.callback import CallbackState
    from airflow.sdk import DeadlineReference
    from airflow.serialization.serialized_objects import DagSerialization
    from airflow.triggers.callback import CallbackTrigger

    alerts_config("workflow_sla_hours:\n  default: 72\n  localization_return_loop: 48\n")
    waiting = load_dag("localization_return_loop")
    (deadline,) = waiting.deadline
    assert deadline.reference == DeadlineReference.DAGRUN_QUEUED_AT
    assert deadline.interval.total_seconds() == 48 * 3600
    assert deadline.callback.path == "contentops.alerts.notify.ContentopsNotifier"
    assert deadline.callback.kwargs == {"event": "workflow_overdue", "sla_hours": 48.0}
    assert DagSerialization.serialize_dag(waiting)["deadline"], "the deadline reaches the scheduler"
    assert not load_dag("smintio_license_sync").deadline
    assert not load_dag("campaign_release").deadline

    # what Deadline.handle_miss gives the callback: the run as the REST API's DAGRunResponse (JSON)
    from airflow.api_fastapi.core_api.datamodels.dag_run import DAGRunResponse

    assert {"dag_run_id", "dag_id", "queued_at"} <= set(DAGRunResponse.model_fields)
    context = {
        "dag_run": {
            "dag_id": "localization_return_loop",
            "dag_run_id": "scheduled__2026-11-24",
            "queued_at": "2026-11-24T10:00",
        },
        "deadline": {"id": "d-1", "deadline_time": "2026-11-26T10:00:00+00:00"},
    }
    trigger = CallbackTrigger(deadline.callback.path, {**deadline.callback.kwargs, "context": context})

    async def run() -> list[Any]:
        return [event.payload async for event in trigger.run()]

    events = asyncio.run(run())
    assert events[-1]["state"] == CallbackState.SUCCESS, events
    (message,) = mailbox.wait_for(1)
    assert (
        str(message["Subject"])
        == "[contentops] Overdue: localization_return_loop (scheduled__2026-11-24) still waits on people"
    )
    body = Mailbox.body(message)
    assert "48 hours" in body and "2026-11-26T10:00:00+00:00" in body
    assert [b["event"] for _, _, b in chat.posts] == ["workflow_overdue"]


def test_without_settings_a_failed_run_sends_nothing(
    airflow_db: Path,
    connect: Callable[..., Any],
    ledger_url: str,
    mailbox: Mailbox,
    chat: Webhook,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """No alerts.yaml (or the shipped one, all commented out): alerts are off, the run fails as before."""
    connect("smintio", extra={"paths": {"no_such_operation": "/nowhere"}})
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(tmp_path / "no-settings"))
    run = load_dag("smintio_license_sync", retries=None).test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC))
    assert run.state == "failed"
    assert mailbox.wait_for(1, timeout=1.0) == [] and chat.posts == []


def test_a_missing_connection_asks_a_person_to_act(
    airflow_db: Path,
    ledger_url: str,
    chat: Webhook,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A run naming a connection nobody defined: the task's alert says a connection is missing and
    names it (no retries here, as if they were spent)."""
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "alerts.yaml").write_text("webhooks:\n  - conn_id: contentops_chat\nevents:\n  run_failed: false\n")
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(folder))
    monkeypatch.setenv("CONTENTOPS_HOME", str(tmp_path))
    dag = load_dag("smintio_license_sync", retries=0)

    run = dag.test(logical_date=datetime(2026, 11, 24, 10, tzinfo=UTC), run_conf={"smintio_conn_id": "smintio_nowhere"})
    assert run.state == "failed"
    ((_, _, body),) = chat.posts
    assert body["event"] == "action_needed"
    # the hook turns a missing connection into InvalidConnectionError naming it (failed at once)
    assert body["facts"]["Why"] == "the Airflow connection is incomplete or wrong"
    assert "'smintio_nowhere' is not defined" in body["facts"]["Error"] and body["facts"]["Task"] == "sync_licenses"
