"""Alert settings, the webhook notifier against a real HTTP server, the quarantine crossing on a real
ledger, and which failures ask a person to act."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from alert_servers import WEBHOOK_PATH, WEBHOOK_TOKEN, Webhook, webhook_server

from contentops.alerts.notify import Alert, ContentopsNotifier, action_needed, deliver, must_fix
from contentops.alerts.quarantine import STATE_CURSOR, check_quarantine_growth
from contentops.alerts.settings import AlertSettings, load_alert_settings
from contentops.alerts.webhook import WebhookError, WebhookNotifier
from contentops.config import PROJECT_CONFIG_DIR, SettingsError
from contentops.hooks.errors import AuthenticationError, InvalidConnectionError, PartnerServerError
from contentops.ledger import Ledger

pytestmark = pytest.mark.unit


@pytest.fixture
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    folder.mkdir()
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(folder))
    return folder


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[Webhook]:
    with webhook_server() as hook:
        monkeypatch.setenv("AIRFLOW_CONN_CONTENTOPS_CHAT", json.dumps(hook.connection()))
        yield hook


# -- settings ---------------------------------------------------------------------------------
def test_no_file_or_an_empty_file_means_alerts_off(config_dir: Path) -> None:
    assert not load_alert_settings().enabled
    (config_dir / "alerts.yaml").write_text("# nothing yet\n")
    settings = load_alert_settings()
    assert not settings.enabled and not settings.wants("run_failed")


def test_a_channel_switches_alerts_on_and_events_can_be_switched_off(config_dir: Path) -> None:
    (config_dir / "alerts.yaml").write_text(
        "email:\n  to: ops@example.com\nevents:\n  run_failed: false\nworkflow_sla_hours:\n  default: 72\n"
        "  campaign_release: 48\n  rights_expiry_sweep: 0\n"
    )
    settings = load_alert_settings()
    assert settings.email is not None and settings.email.to == ["ops@example.com"]
    assert settings.email.conn_id == "smtp_default"
    assert settings.wants("action_needed") and not settings.wants("run_failed")
    assert settings.sla_hours("campaign_release") == 48
    assert settings.sla_hours("workflow_intake") == 72
    assert settings.sla_hours("rights_expiry_sweep") is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("emial:\n  to: [ops@example.com]\n", "emial"),
        ("email:\n  to: [ops@example.com]\nevents:\n  run_faild: true\n", "run_faild"),
        ("webhooks:\n  - conn: chat\n", "conn_id"),
        ("email:\n  to: []\n", "to"),
        ("quarantine_threshold: -1\n", "quarantine_threshold"),
        ("workflow_sla_hours:\n  campaign_release: -2\n", "campaign_release"),
    ],
)
def test_a_bad_key_is_an_error_naming_it(config_dir: Path, text: str, key: str) -> None:
    (config_dir / "alerts.yaml").write_text(text)
    with pytest.raises(SettingsError) as caught:
        load_alert_settings()
    assert "alerts.yaml" in str(caught.value) and key in str(caught.value)


def test_the_shipped_settings_file_validates_and_sends_nothing() -> None:
    from contentops.config import load_settings

    settings = load_settings("alerts", AlertSettings, directory=PROJECT_CONFIG_DIR)
    assert not settings.enabled


# -- webhook notifier -------------------------------------------------------------------------
def test_the_webhook_notifier_posts_json_through_its_connection(chat: Webhook) -> None:
    WebhookNotifier(conn_id="contentops_chat", payload={"text": "run {{ run_id }} failed"})({"run_id": "r1"})
    ((path, headers, body),) = chat.posts
    assert path == WEBHOOK_PATH
    assert headers["Authorization"] == f"Bearer {WEBHOOK_TOKEN}"
    assert headers["Content-Type"] == "application/json"
    assert body == {"text": "run r1 failed"}


def test_a_refused_post_names_the_connection_and_status_but_not_the_secret_url(chat: Webhook) -> None:
    chat.status = 403
    with pytest.raises(WebhookError) as caught:
        WebhookNotifier(conn_id="contentops_chat", payload={"text": "x"}).notify({})
    message = str(caught.value)
    assert "contentops_chat" in message and "403" in message
    assert WEBHOOK_PATH not in message and WEBHOOK_TOKEN not in message


def test_an_unreachable_webhook_does_not_leak_its_url(monkeypatch: pytest.MonkeyPatch, chat: Webhook) -> None:
    conn = chat.connection() | {"port": 9}  # discard port: nothing listens
    monkeypatch.setenv("AIRFLOW_CONN_CONTENTOPS_CHAT", json.dumps(conn))
    with pytest.raises(WebhookError) as caught:
        WebhookNotifier(conn_id="contentops_chat", payload={"text": "x"}).notify({})
    assert "contentops_chat" in str(caught.value) and WEBHOOK_PATH not in str(caught.value)


def test_one_failing_channel_does_not_stop_the_others(monkeypatch: pytest.MonkeyPatch, chat: Webhook) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_BROKEN_CHAT", json.dumps({"conn_type": "http", "host": ""}))
    settings = AlertSettings.model_validate({"webhooks": [{"conn_id": "broken_chat"}, {"conn_id": "contentops_chat"}]})
    sent, failures = deliver(Alert("run_failed", "[contentops] Run failed: d (r)", [("DAG", "d")]), settings)
    assert sent == 1 and len(failures) == 1 and "broken_chat" in failures[0]
    assert [body["event"] for _, _, body in chat.posts] == ["run_failed"]


# -- which failures ask a person to act -------------------------------------------------------
def test_only_errors_a_person_must_fix_are_action_needed() -> None:
    assert must_fix(InvalidConnectionError("no host", system="vip"))
    assert must_fix(AuthenticationError("401", system="vip"))
    assert must_fix(SettingsError("alerts.yaml does not validate"))
    assert must_fix(PartnerServerError("503", system="vip")) is None
    assert must_fix(RuntimeError("boom")) is None
    context = {"exception": PartnerServerError("503", system="vip"), "run_id": "r"}
    assert action_needed(context) is None
    alert = action_needed({"exception": AuthenticationError("401", system="vip"), "run_id": "r"})
    assert alert is not None and "Check the connection's credentials" in alert.text()


def test_alerts_off_sends_nothing(config_dir: Path, chat: Webhook) -> None:
    ContentopsNotifier("run_failed")({"run_id": "r1", "dag_run": {"dag_id": "d", "run_id": "r1"}})
    assert chat.posts == []
    (config_dir / "alerts.yaml").write_text("webhooks:\n  - conn_id: contentops_chat\n")
    ContentopsNotifier("run_failed")({"run_id": "r1", "dag_run": {"dag_id": "d", "run_id": "r1"}})
    assert [body["subject"] for _, _, body in chat.posts] == ["[contentops] Run failed: d (r1)"]


def test_an_alert_masks_the_secrets_airflow_knows(config_dir: Path, chat: Webhook) -> None:
    from airflow.sdk.log import mask_secret

    mask_secret("s3cr3t-value-77")
    (config_dir / "alerts.yaml").write_text("webhooks:\n  - conn_id: contentops_chat\n")
    error = AuthenticationError("token s3cr3t-value-77 refused", system="vip")
    ContentopsNotifier("action_needed")({"exception": error, "dag_run": {"dag_id": "d", "run_id": "r"}})
    ((_, _, body),) = chat.posts
    assert "s3cr3t-value-77" not in json.dumps(body) and "token *** refused" in body["text"]


# -- quarantine growth ------------------------------------------------------------------------
def test_quarantine_growth_is_told_once_per_crossing(config_dir: Path, chat: Webhook, tmp_path: Path) -> None:
    (config_dir / "alerts.yaml").write_text("webhooks:\n  - conn_id: contentops_chat\nquarantine_threshold: 2\n")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    rows = [ledger.quarantine("vip", "product", "bad", {"n": n}) for n in range(2)]
    assert check_quarantine_growth(ledger, "d", "r1") is None  # at the threshold: not above
    rows.append(ledger.quarantine("consonance", "title", "bad", {"n": 3}))
    assert "the team was told" in (check_quarantine_growth(ledger, "d", "r2") or "")
    ((_, _, body),) = chat.posts
    assert body["event"] == "quarantine_growth" and body["facts"]["By source"] == "consonance 1, vip 2"
    assert "told before" in (check_quarantine_growth(ledger, "d", "r3") or "")
    assert len(chat.posts) == 1, "still above: not told again"

    ledger.resolve_quarantine(rows[0], "fixed")
    assert check_quarantine_growth(ledger, "d", "r4") is None
    assert ledger.get_cursor(STATE_CURSOR) == "below"
    ledger.quarantine("vip", "product", "bad", {"n": 4})
    check_quarantine_growth(ledger, "d", "r5")
    assert len(chat.posts) == 2, "a new crossing is told again"


def test_a_quarantine_alert_that_reached_no_channel_is_tried_again(
    config_dir: Path, chat: Webhook, tmp_path: Path
) -> None:
    (config_dir / "alerts.yaml").write_text("webhooks:\n  - conn_id: contentops_chat\nquarantine_threshold: 0\n")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    ledger.quarantine("vip", "product", "bad", {})
    chat.status = 500
    assert "reached no channel" in (check_quarantine_growth(ledger, "d", "r1") or "")
    chat.status = 200
    check_quarantine_growth(ledger, "d", "r2")
    assert len(chat.posts) == 2 and ledger.get_cursor(STATE_CURSOR) == "above"


def test_a_bad_settings_file_is_said_in_the_report_and_fails_nothing(config_dir: Path, tmp_path: Path) -> None:
    (config_dir / "alerts.yaml").write_text("quarantine_treshold: 3\n")
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.sqlite'}")
    ledger.migrate()
    note = check_quarantine_growth(ledger, "d", "r1")
    assert note and note.startswith("Alerts are off:") and "quarantine_treshold" in note


def test_the_provider_lists_its_notifiers() -> None:
    from contentops.provider_info import get_provider_info

    assert get_provider_info()["notifications"] == [
        "contentops.alerts.webhook.WebhookNotifier",
        "contentops.alerts.notify.ContentopsNotifier",
    ]
