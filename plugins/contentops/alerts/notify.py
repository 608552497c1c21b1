"""Tell the team: one alert, built from Airflow's callback context, sent to every configured channel.

:class:`ContentopsNotifier` is the single notifier every contentops DAG carries, in three places:

- the DAG's ``on_failure_callback`` (added by :func:`contentops.verdict.seal`): *run_failed*;
- every task's ``on_failure_callback`` (``contentops.retries.task_defaults``): *action_needed*,
  sent only when the error is one a person must fix (:func:`must_fix`) — other failures are
  covered by the run's own alert;
- the ``DeadlineAlert`` of DAGs that wait on people (``seal``): *workflow_overdue*, run by the
  triggerer.

It is cheap to build (a DAG file builds it at parse time): the settings file is read and the
channel notifiers (Airflow's SMTP provider's ``SmtpNotifier``, :class:`WebhookNotifier`) are
built only when an alert fires, so an edit of ``alerts.yaml`` needs no re-parse (except the
deadline's hours). Every value in an alert goes through Airflow's secrets masker, and the
alert never carries connection fields.
"""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk import BaseNotifier

log = logging.getLogger(__name__)

#: the events the notifier sends, by the name ``alerts.yaml``'s ``events`` switch uses
EVENTS = ("run_failed", "action_needed", "quarantine_growth", "workflow_overdue")
SUBJECT_PREFIX = "[contentops]"

#: errors a retry cannot fix and a person must (names, so this module does not import the hooks)
_MUST_FIX = {
    "InvalidConnectionError": "the Airflow connection is incomplete or wrong",
    "AuthenticationError": "the partner refused the connection's credentials",
    "RequestRejectedError": "the partner rejected what was sent",
    "GraphQLError": "the partner rejected what was sent",
    "NotFoundError": "the object asked for does not exist on the partner's side",
    "DownloadRefusedError": "a file would have been fetched from outside the partner's origin",
    "DownloadTooLargeError": "a file exceeds its size limit",
    "AirflowNotFoundException": "a connection (or variable) the task needs is not defined",
    "SettingsError": "a settings file in include/config does not validate",
}


@dataclass
class Alert:
    """What a person reads: a subject line and labelled facts, the same on every channel."""

    event: str
    subject: str
    facts: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        return "\n".join([self.subject, *(f"{label}: {value}" for label, value in self.facts)])

    def html(self) -> str:
        rows = "".join(
            f"<tr><th align='left'>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
            for label, value in self.facts
        )
        return f"<p>{html.escape(self.subject)}</p><table>{rows}</table>"

    def masked(self) -> Alert:
        """The alert with every secret Airflow knows of (connection passwords, tokens) masked."""
        return Alert(self.event, _mask(self.subject), [(label, _mask(value)) for label, value in self.facts])


def _mask(text: str) -> str:
    try:
        from airflow.sdk.log import redact
    except ImportError:  # pragma: no cover - an SDK without the masker: nothing registered to mask
        return text
    masked = redact(text)
    return masked if isinstance(masked, str) else text


# -- reading Airflow's callback contexts ---------------------------------------------------------
def _get(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _run_ids(context: Mapping[str, Any]) -> tuple[str, str]:
    """(dag_id, run_id) from a task, DAG or deadline callback context."""
    dag_run, ti = context.get("dag_run"), context.get("ti")
    dag_id = _get(dag_run, "dag_id") or _get(ti, "dag_id") or _get(context.get("dag"), "dag_id") or "?"
    # a missed deadline's dag_run is the REST API's DAGRunResponse, which names the run id dag_run_id
    run_id = (
        _get(dag_run, "run_id") or _get(dag_run, "dag_run_id") or _get(ti, "run_id") or context.get("run_id") or "?"
    )
    return str(dag_id), str(run_id)


def _report_link(dag_id: str, run_id: str) -> str | None:
    from urllib.parse import quote

    try:
        from airflow.sdk import conf

        base = conf.get("api", "base_url", fallback=None)
    except Exception:  # outside Airflow there is no UI to link to
        base = None
    if not base:
        return None
    return f"{base.rstrip('/')}/contentops/reports/{quote(dag_id, safe='')}/{quote(run_id, safe='')}"


def _links(facts: list[tuple[str, str]], dag_id: str, run_id: str, ti: Any = None) -> None:
    report = _report_link(dag_id, run_id)
    if report:
        facts.append(("Run report", report))
    log_url = _get(ti, "log_url")
    if log_url:
        facts.append(("Task log", str(log_url)))


def must_fix(error: BaseException | None) -> str | None:
    """Why a person must fix ``error`` (a retry would fail the same way), or None when they need not."""
    if error is None:
        return None
    for kind in type(error).__mro__:
        if kind.__name__ in _MUST_FIX:
            return _MUST_FIX[kind.__name__]
    return None


def run_failed(context: Mapping[str, Any], **_: Any) -> Alert:
    dag_id, run_id = _run_ids(context)
    ti = context.get("ti")
    facts = [("DAG", dag_id), ("Run", run_id)]
    if _get(ti, "task_id"):
        facts.append(("Failed task", str(_get(ti, "task_id"))))
    if context.get("reason"):
        facts.append(("Reason", str(context["reason"])))
    _links(facts, dag_id, run_id, ti)
    return Alert("run_failed", f"{SUBJECT_PREFIX} Run failed: {dag_id} ({run_id})", facts)


def action_needed(context: Mapping[str, Any], **_: Any) -> Alert | None:
    error = context.get("exception")
    why = must_fix(error) if isinstance(error, BaseException) else None
    if why is None:
        return None
    dag_id, run_id = _run_ids(context)
    ti = context.get("ti")
    task_id = str(_get(ti, "task_id") or "?")
    system = getattr(error, "system", None)
    facts = [("DAG", dag_id), ("Run", run_id), ("Task", task_id), ("Why", why)]
    if system:
        facts.append(("System", str(system)))
    facts.append(("Error", f"{type(error).__name__}: {error}"))
    hint = getattr(error, "hint", None)
    if hint:
        facts.append(("What to do", str(hint)))
    _links(facts, dag_id, run_id, ti)
    return Alert("action_needed", f"{SUBJECT_PREFIX} Action needed: {dag_id}.{task_id} failed — {why}", facts)


def workflow_overdue(context: Mapping[str, Any], *, sla_hours: float | None = None, **_: Any) -> Alert:
    dag_id, run_id = _run_ids(context)
    dag_run = context.get("dag_run")
    facts = [("DAG", dag_id), ("Run", run_id)]
    queued = _get(dag_run, "queued_at") or _get(dag_run, "start_date")
    if queued:
        facts.append(("Queued at", str(queued)))
    if sla_hours is not None:
        facts.append(("SLA", f"{sla_hours:g} hours"))
    deadline = _get(context.get("deadline"), "deadline_time")
    if deadline:
        facts.append(("Deadline", str(deadline)))
    facts.append(("What to do", "The run still waits on people (approvals, reviews): chase the open workflows."))
    _links(facts, dag_id, run_id)
    return Alert("workflow_overdue", f"{SUBJECT_PREFIX} Overdue: {dag_id} ({run_id}) still waits on people", facts)


BUILDERS = {"run_failed": run_failed, "action_needed": action_needed, "workflow_overdue": workflow_overdue}


# -- sending ---------------------------------------------------------------------------------
def deliver(alert: Alert, settings: Any, context: Mapping[str, Any] | None = None) -> tuple[int, list[str]]:
    """Send ``alert`` (masked) to every channel of ``settings``: (channels that took it, failures).

    A channel that fails is logged (its kind and connection id, never its address) and the
    others are still tried."""
    alert = alert.masked()
    # without the DAG: a channel renders what it fills in itself (the SMTP connection's sender) with
    # Airflow's default template environment (a DAG callback under dag.test() holds a serialized DAG)
    channel_context = {key: value for key, value in (context or {}).items() if key != "dag"}
    sent, failures = 0, []
    for name, notifier in _channel_notifiers(alert, settings):
        try:
            # notify() directly: the text is final, and a partner's answer quoted in it must not be
            # read as a Jinja template
            notifier.notify(channel_context)
            sent += 1
        except Exception as exc:
            failures.append(f"{name}: {type(exc).__name__}: {_mask(str(exc))}")
            log.error("Alert %r not sent through %s: %s", alert.event, name, failures[-1])
    if sent:
        log.info("Alert %r sent through %d channel(s): %s", alert.event, sent, alert.subject)
    return sent, failures


def _channel_notifiers(alert: Alert, settings: Any) -> list[tuple[str, BaseNotifier]]:
    from contentops.alerts.webhook import WebhookNotifier

    channels: list[tuple[str, BaseNotifier]] = []
    email = settings.email
    if email is not None:
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        channels.append(
            (
                f"email ({email.conn_id})",
                SmtpNotifier(
                    to=list(email.to),
                    cc=list(email.cc) or None,
                    from_email=email.from_email,
                    subject=alert.subject,
                    html_content=alert.html(),
                    smtp_conn_id=email.conn_id,
                ),
            )
        )
    for hook in settings.webhooks:
        payload = {"text": alert.text(), "event": alert.event, "subject": alert.subject, "facts": dict(alert.facts)}
        channels.append((f"webhook ({hook.conn_id})", WebhookNotifier(conn_id=hook.conn_id, payload=payload)))
    return channels


class ContentopsNotifier(BaseNotifier):
    """Build the ``event`` alert from Airflow's callback context and send it where ``alerts.yaml`` says.

    Works as a task or DAG ``on_failure_callback`` (sync, :meth:`notify`) and as a
    ``DeadlineAlert`` ``AsyncCallback`` run by the triggerer (:meth:`async_notify`; the
    callback's kwargs — ``event``, ``sla_hours`` — are this class's arguments).
    """

    def __init__(self, event: str, *, sla_hours: float | None = None, **kwargs: Any) -> None:
        if event not in BUILDERS:
            raise ValueError(f"unknown alert event {event!r}; one of {sorted(BUILDERS)}")
        super().__init__(**kwargs)
        self.event = event
        self.sla_hours = sla_hours

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        """Nothing to render: the alert's text is built from the context, and is final (a DAG
        callback under ``dag.test()`` gets a serialized DAG, which has no template environment)."""
        return None

    def notify(self, context: Any) -> None:
        from contentops.alerts.settings import load_alert_settings

        settings = load_alert_settings()
        if not settings.wants(self.event):
            return
        alert = BUILDERS[self.event](context, sla_hours=self.sla_hours)
        if alert is None:
            return
        sent, failures = deliver(alert, settings, context)
        if failures and not sent:
            raise RuntimeError(f"alert {alert.event!r} reached no channel: " + "; ".join(failures))

    async def async_notify(self, context: Any) -> None:
        await asyncio.to_thread(self.notify, context)
