"""What every pipeline task needs: its run, window, hooks, ledger, quarantine and report.

A task builds a :class:`PipelineRun` from its Airflow context and gets, lazily, the hooks of
the systems it talks to (connection ids from the DAG's Params, defaulting to each hook's
default connection), the ledger, and helpers that keep the promises the project makes:

- :meth:`PipelineRun.deliver_once` wraps every partner write in the ledger's plan → begin →
  send → complete protocol, so a retry, a re-run or a backfill sends only what is missing;
- :meth:`PipelineRun.quarantine` keeps a bad partner record with its reason and moves on;
- :meth:`PipelineRun.record` adds a decision to the run's audit trail, from which the final
  task builds the run report (:meth:`PipelineRun.write_report`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, overload

from contentops.ledger import Action, DeliveryPlan, Ledger
from contentops.pipelines.window import RunWindow, run_window
from contentops.reporting import ReportRow, RunReport
from contentops.targets import Target

if TYPE_CHECKING:  # the hooks import Airflow's connection machinery: only for readers and type checkers
    from contentops.hooks.consonance import ConsonanceHook
    from contentops.hooks.exstream import ExstreamHook
    from contentops.hooks.opentext_workflow import OpenTextWorkflowHook
    from contentops.hooks.smintio import SmintioHook
    from contentops.hooks.source_dam import SourceDamHook
    from contentops.hooks.trading_grid import TradingGridHook
    from contentops.hooks.vip import VipHook

log = logging.getLogger(__name__)

#: system name -> (hook class path, Param naming its connection id)
HOOKS: dict[str, tuple[str, str]] = {
    "smintio": ("contentops.hooks.smintio.SmintioHook", "smintio_conn_id"),
    "vip": ("contentops.hooks.vip.VipHook", "vip_conn_id"),
    "consonance": ("contentops.hooks.consonance.ConsonanceHook", "consonance_conn_id"),
    "workflow": ("contentops.hooks.opentext_workflow.OpenTextWorkflowHook", "workflow_conn_id"),
    "trading_grid": ("contentops.hooks.trading_grid.TradingGridHook", "trading_grid_conn_id"),
    "exstream": ("contentops.hooks.exstream.ExstreamHook", "exstream_conn_id"),
    "source_dam": ("contentops.hooks.source_dam.SourceDamHook", "source_dam_conn_id"),
}


#: Audit subject and action of a run's unknown conf keys; at most this many are named.
UNKNOWN_CONF_SUBJECT = "run conf"
UNKNOWN_CONF = "unknown_conf_keys"
UNKNOWN_CONF_SHOWN = 20


@dataclass(frozen=True)
class Delivered:
    """Outcome of :meth:`PipelineRun.deliver_once`."""

    action: Action
    remote_id: str | None
    key: str


class PipelineRun:
    """One DAG run as seen from inside one of its tasks."""

    def __init__(
        self,
        dag_id: str,
        run_id: str,
        window: RunWindow,
        params: Mapping[str, Any] | None = None,
        *,
        ledger: Ledger | None = None,
        context: Mapping[str, Any] | None = None,
    ) -> None:
        self.dag_id = dag_id
        self.run_id = run_id
        self.window = window
        self.params = dict(params or {})
        self._ledger = ledger
        self._hooks: dict[str, Any] = {}
        self._context = context
        self._pending: list[tuple[str, str, dict[str, Any]]] | None = None  # batched_records

    @classmethod
    def from_context(cls, context: Mapping[str, Any], *, default_span: timedelta = timedelta(days=1)) -> PipelineRun:
        dag_run = context["dag_run"]
        run = cls(
            dag_run.dag_id,
            dag_run.run_id,
            run_window(context, default_span=default_span),
            context.get("params") or {},
            context=context,
        )
        dag = context.get("dag")
        if dag is not None:
            run.report_unknown_conf(getattr(dag_run, "conf", None) or {}, set(dag.params.keys()))
        return run

    def report_unknown_conf(self, conf: Mapping[str, Any], declared: set[str]) -> list[str]:
        """Keys of the trigger's conf that are not Params of the DAG: Airflow runs with them (a
        typo such as ``dry_rn`` is silently not a dry run), so each task logs them and the run's
        report lists them, once, in one bounded row. Returns them."""
        unknown = sorted(str(key) for key in conf if key not in declared)
        if not unknown:
            return []
        shown = ", ".join(repr(key[:64]) for key in unknown[:UNKNOWN_CONF_SHOWN])
        more = len(unknown) - UNKNOWN_CONF_SHOWN
        described = shown + (f" and {more} more" if more > 0 else "")
        log.warning("The run's conf has keys that are not Params of %s; they are ignored: %s", self.dag_id, described)
        trail = self.ledger.audit_trail(subject=UNKNOWN_CONF_SUBJECT, run_id=self.run_id)
        if not any(entry.action == UNKNOWN_CONF for entry in trail):
            self.record(
                UNKNOWN_CONF_SUBJECT, "dag_run.conf", UNKNOWN_CONF, f"not Params of this DAG, ignored: {described}"
            )
        return unknown

    @property
    def dry_run(self) -> bool:
        return bool(self.params.get("dry_run"))

    @cached_property
    def ledger(self) -> Ledger:
        if self._ledger is not None:
            return self._ledger
        from contentops.hooks.ledger import LedgerHook

        return LedgerHook(self.params.get("ledger_conn_id") or LedgerHook.default_conn_name).get_ledger()

    @overload
    def hook(self, system: Literal["smintio"]) -> SmintioHook: ...
    @overload
    def hook(self, system: Literal["vip"]) -> VipHook: ...
    @overload
    def hook(self, system: Literal["consonance"]) -> ConsonanceHook: ...
    @overload
    def hook(self, system: Literal["workflow"]) -> OpenTextWorkflowHook: ...
    @overload
    def hook(self, system: Literal["trading_grid"]) -> TradingGridHook: ...
    @overload
    def hook(self, system: Literal["exstream"]) -> ExstreamHook: ...
    @overload
    def hook(self, system: Literal["source_dam"]) -> SourceDamHook: ...
    @overload
    def hook(self, system: str) -> Any: ...

    def hook(self, system: str) -> Any:
        """The hook of ``system``, built once per task, on the connection the Params name.

        Typed per system (``run.hook("vip")`` is a :class:`~contentops.hooks.vip.VipHook` to a
        reader, an IDE and a type checker); the hook modules are imported only when asked for."""
        if system not in self._hooks:
            import importlib

            class_path, param = HOOKS[system]
            module_name, _, class_name = class_path.rpartition(".")
            hook_class = getattr(importlib.import_module(module_name), class_name)
            hook = hook_class(self.params.get(param) or hook_class.default_conn_name)
            if hasattr(hook, "on_degraded"):  # a partner feature we modelled and it lacks: say so in the report
                hook.on_degraded = lambda operation, warning, _system=system: self.record(
                    operation, _system, "degraded", warning
                )
            self._hooks[system] = hook
        return self._hooks[system]

    # -- bad input -------------------------------------------------------------------------
    def quarantine(self, source: str, kind: str, reason: str, raw: Any, *, ref: str | None = None) -> int:
        """Keep a partner record we cannot use, verbatim, with the reason; the run goes on."""
        quarantine_id = self.ledger.quarantine(source, kind, reason, raw, run_id=self.run_id, ref=ref)
        log.warning("Quarantined %s %s from %s (#%d): %s", kind, ref or "", source, quarantine_id, reason)
        self.record(ref or f"quarantine-{quarantine_id}", f"{source}:{kind}", "quarantined", reason)
        return quarantine_id

    def quarantine_callback(self, source: str, kind: str) -> Callable[[str, Any], None]:
        """An ``on_invalid`` callback for hook iterators."""

        def on_invalid(reason: str, raw: Any) -> None:
            ref = (raw.get("uuid") or raw.get("id")) if isinstance(raw, dict) else None
            self.quarantine(source, kind, reason, raw, ref=str(ref) if ref else None)

        return on_invalid

    # -- decisions and effects ---------------------------------------------------------------
    def record(self, subject: str, target: str | Target, action: str, reason: str = "", **details: Any) -> None:
        """Add one decision or effect to the run's audit trail (and so to its report)."""
        entry = (action, subject, {"target": str(target), "reason": reason, **details})
        if self._pending is not None:
            self._pending.append(entry)
            if len(self._pending) >= self.RECORD_BATCH:
                self._flush_records()
            return
        self.ledger.audit(self.dag_id, *entry, run_id=self.run_id)

    #: how many entries :meth:`batched_records` holds before it writes them
    RECORD_BATCH = 1000

    @contextmanager
    def batched_records(self) -> Iterator[None]:
        """Within it, :meth:`record` collects the entries and writes them a thousand at a time in
        one transaction (and the rest on leaving, an exception included): a step deciding
        thousands of assets does not commit each decision alone. Only for a step that does not
        read back what it records."""
        if self._pending is not None:  # nested: the outer block writes
            yield
            return
        self._pending = []
        try:
            yield
        finally:
            try:
                self._flush_records()
            finally:
                self._pending = None

    def _flush_records(self) -> None:
        pending = self._pending or []
        if self._pending is not None:
            self._pending = []
        self.ledger.audit_many(self.dag_id, pending, run_id=self.run_id)  # stamped with this moment

    def deliver_once(
        self,
        asset_id: str,
        version: str | int,
        target: str | Target,
        send: Callable[[DeliveryPlan], str],
        *,
        license_ref: str | None = None,
        pipeline: str | None = None,
    ) -> Delivered:
        """Send one effect exactly once: ``send(plan)`` gets the plan (create/update, remote id,
        idempotency key to pass to the partner) and returns the remote id."""
        pipeline = pipeline or self.dag_id
        plan = self.ledger.plan(pipeline, asset_id, version, str(target))
        if plan.action is Action.SKIP or self.dry_run:
            return Delivered(plan.action if not self.dry_run else Action.SKIP, plan.remote_id, plan.key)
        self.ledger.begin(plan, run_id=self.run_id, license_ref=license_ref)
        try:
            remote_id = send(plan)
        except Exception as exc:
            self.ledger.fail(plan.key, f"{type(exc).__name__}: {exc}")
            raise
        self.ledger.complete(plan.key, remote_id, license_ref=license_ref)
        return Delivered(plan.action, remote_id, plan.key)

    # -- the end of a run ----------------------------------------------------------------------
    def build_report(self, title: str, notes: list[str] | None = None) -> RunReport:
        from contentops.verdict import failed_tasks

        notes = list(notes or [])
        failed: list[str] = []
        if self._context is not None:
            try:
                failed = failed_tasks(self._context)
            except Exception as exc:  # the report is still written; it says what it could not tell
                log.warning("Could not read the run's task states for the report: %s", exc)
                notes.append(f"The run's task states could not be read ({type(exc).__name__}): see the grid.")
        report = RunReport(self.dag_id, self.run_id, title, notes=notes, failed_tasks=failed)
        report.notes.append(
            f"Window {self.window.describe()}" + (" — dry run: nothing was changed" if self.dry_run else "")
        )
        for entry in self.ledger.audit_trail(run_id=self.run_id, pipeline=self.dag_id):
            details = entry.details or {}
            report.add(
                ReportRow(
                    asset_id=entry.subject,
                    target=str(details.get("target", "")),
                    action=entry.action,
                    reason=str(details.get("reason", "")),
                    license=str(details.get("license", "")),
                    expires=str(details.get("expires", "")),
                    detail=str(details.get("detail", "")),
                )
            )
        return report

    def write_report(
        self, title: str, *, notes: list[str] | None = None, api_base_url: str | None = None
    ) -> dict[str, Any]:
        """Write the run's report, store its counts, log the summary line and where to open it.

        Before the report is written, the ledger's open quarantine is checked against the alert
        threshold (``contentops.alerts.quarantine``); what that check says becomes a note."""
        report = self.build_report(title, notes)
        from contentops.alerts.quarantine import check_quarantine_growth

        alert_note = check_quarantine_growth(self.ledger, self.dag_id, self.run_id, self._context)
        if alert_note:
            report.notes.append(alert_note)
        html_path, csv_path = report.write()
        self.ledger.record_run(
            self.dag_id,
            self.run_id,
            report.counts,
            window_start=self.window.start,
            window_end=self.window.end,
            report_path=str(html_path),
        )
        if report.failed_tasks:
            log.error("%s", report.summary_line())
        else:
            log.info("%s", report.summary_line())
        log.info("Run report: %s (CSV: %s)", html_path, csv_path)
        api_base_url = api_base_url or _airflow_base_url()
        if api_base_url:
            from urllib.parse import quote

            log.info(
                "Run report in the UI: %s/contentops/reports/%s/%s",
                api_base_url.rstrip("/"),
                quote(self.dag_id, safe=""),
                quote(self.run_id, safe=""),
            )
        return {"counts": report.counts, "report": str(html_path)}


def _airflow_base_url() -> str | None:
    """Airflow's own public URL (``[api] base_url``), when it is configured."""
    try:
        from airflow.sdk import conf

        return conf.get("api", "base_url", fallback=None) or None
    except Exception:  # outside Airflow there is simply no UI link
        return None
