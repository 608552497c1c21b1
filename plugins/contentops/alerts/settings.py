"""``include/config/alerts.yaml``: who is told, through which channels, past which thresholds.

Alerts are off unless the file names a channel: no file, an empty file or a file without
``email`` and ``webhooks`` sends nothing, so a fresh checkout, the demo and the tests stay quiet.
A typo is a :class:`~contentops.config.SettingsError` naming the file and the key (every level
forbids unknown keys), never a silently ignored setting.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from contentops.config import load_settings

#: the file's name under the settings folder (``CONTENTOPS_CONFIG_DIR`` or ``include/config``)
SETTINGS_NAME = "alerts"


class EmailChannel(BaseModel):
    """Mail through Airflow's SMTP provider (``SmtpNotifier``) on an SMTP connection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conn_id: str = "smtp_default"
    to: list[str] = Field(min_length=1)
    cc: list[str] = Field(default_factory=list)
    #: the sender; when empty, the SMTP connection's extra ``from_email``
    from_email: str | None = None

    @field_validator("to", "cc", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value


class WebhookChannel(BaseModel):
    """A chat tool's incoming webhook, posted to through an HTTP connection."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    conn_id: str


class Events(BaseModel):
    """Which events are sent (all of them unless switched off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: a DAG run ended failed
    run_failed: bool = True
    #: a task failed for a reason a person must fix (connection, credentials, payload, object)
    action_needed: bool = True
    #: the ledger's open quarantine rose above ``quarantine_threshold``
    quarantine_growth: bool = True
    #: a run waiting on people is still running ``workflow_sla_hours`` after it was queued
    workflow_overdue: bool = True


class AlertSettings(BaseModel):
    """The whole file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    email: EmailChannel | None = None
    webhooks: list[WebhookChannel] = Field(default_factory=list)
    events: Events = Field(default_factory=Events)
    #: open (unresolved) quarantine rows across all sources above which the team is told, once per crossing
    quarantine_threshold: int | None = Field(None, ge=0)
    #: hours after a run was queued by which a DAG that waits on people (workflow sensors) should be done:
    #: ``default`` for every such DAG, or a DAG id for that DAG; 0 switches a DAG's deadline off
    workflow_sla_hours: dict[str, float] = Field(default_factory=dict)

    @field_validator("workflow_sla_hours")
    @classmethod
    def _non_negative(cls, value: dict[str, float]) -> dict[str, float]:
        for dag_id, hours in value.items():
            if hours < 0:
                raise ValueError(f"{dag_id}: hours must be 0 (off) or more, not {hours}")
        return value

    @property
    def enabled(self) -> bool:
        """Alerts go out only when a channel is named."""
        return self.email is not None or bool(self.webhooks)

    def wants(self, event: str) -> bool:
        return self.enabled and bool(getattr(self.events, event))

    def sla_hours(self, dag_id: str) -> float | None:
        """The workflow SLA of ``dag_id`` in hours, or None when it has none."""
        hours = self.workflow_sla_hours.get(dag_id, self.workflow_sla_hours.get("default"))
        return hours or None


def load_alert_settings() -> AlertSettings:
    """Read the alert settings now (callers read them when an alert fires, so an edit needs no re-deploy)."""
    return load_settings(SETTINGS_NAME, AlertSettings)
