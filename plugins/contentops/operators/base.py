"""What every contentops operator shares: the run it works in, and its connections.

An operator's connection ids are its own arguments (``vip_conn_id="vip_eu"``), templated, so a
team can point one task at another connection; left ``None``, the DAG's Param of the same name
decides, and without one the hook's default connection. ``dry_run`` works the same way, and so
does every name a subclass lists in ``param_fields`` (settings the pipelines read from the run's
Params, such as ``lead_days``): the operator's value, when given, wins over the DAG's Param.

``dry_run``, ``ledger_conn_id`` and every name in ``conn_id_fields`` and ``param_fields`` are
templated without the subclass listing them again (:meth:`ContentOpsOperator.__init_subclass__`),
so ``"{{ params.vip_conn_id }}"`` works on any of them. Jinja renders text, so the values are
converted back (:func:`as_bool`, :func:`as_int`, :func:`as_list`) where a step needs a number, a
flag or a list.
"""

from __future__ import annotations

import ast
import json
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, ClassVar

from airflow.sdk import BaseOperator

if TYPE_CHECKING:
    from airflow.sdk import Context

    from contentops.pipelines.runtime import PipelineRun

#: Operator attributes that, when set, override the DAG's Param of the same name.
RUN_OVERRIDES: tuple[str, ...] = (
    "smintio_conn_id",
    "vip_conn_id",
    "consonance_conn_id",
    "workflow_conn_id",
    "trading_grid_conn_id",
    "exstream_conn_id",
    "ledger_conn_id",
    "dry_run",
)


class ContentOpsOperator(BaseOperator):
    """Base class: subclasses name their connection-id arguments in ``conn_id_fields``.

    ``execute`` of a subclass calls :meth:`pipeline_run` and one step of
    :mod:`contentops.pipelines`; it returns a small JSON-able summary (ids and counts), which
    becomes the task's XCom.

    ``param_fields`` maps further arguments that override the DAG's Param of the same name to
    the converter that turns their rendered text back into a value (e.g. ``{"lead_days":
    as_int}``). ``default_span`` is the window a run without a data interval looks back over
    (an hourly DAG's operators take ``timedelta(hours=1)``).
    """

    #: the connection-id arguments this operator takes (names from :data:`RUN_OVERRIDES`)
    conn_id_fields: ClassVar[tuple[str, ...]] = ()
    #: further arguments that override the DAG's Param of the same name -> their converter (a
    #: subclass may list names only: their values are taken as rendered)
    param_fields: ClassVar[dict[str, Callable[[Any], Any]] | tuple[str, ...]] = {}
    template_fields: Sequence[str] = ("dry_run", "ledger_conn_id")
    #: the names of this step's counts that mean assets were removed at their source (retired
    #: or withdrawn in Smint.io); see :meth:`announce_removals`
    removal_counts: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """Template ``dry_run``, ``ledger_conn_id``, the connection ids and the Param overrides of
        every subclass, after its own fields (a subclass listing its own cannot forget them)."""
        super().__init_subclass__(**kwargs)
        if not isinstance(cls.param_fields, dict):  # a plain list of names: taken as rendered
            cls.param_fields = {name: _as_given for name in cls.param_fields}
        own = tuple(cls.__dict__.get("template_fields", cls.template_fields))
        shared = ("dry_run", "ledger_conn_id", *cls.conn_id_fields, *cls.param_fields)
        extra = [name for name in dict.fromkeys(shared) if name not in own]
        cls.template_fields = (*own, *extra)

    def __init__(
        self,
        *,
        dry_run: bool | str | None = None,
        ledger_conn_id: str | None = None,
        default_span: timedelta | None = None,
        **kwargs: Any,
    ) -> None:
        conn_ids = {name: kwargs.pop(name, None) for name in self.conn_id_fields}
        overrides = {name: kwargs.pop(name, None) for name in self.param_fields}
        super().__init__(**kwargs)
        self.dry_run = dry_run
        self.ledger_conn_id = ledger_conn_id
        self.default_span = default_span or timedelta(days=1)
        for name, value in {**conn_ids, **overrides}.items():
            setattr(self, name, value)

    def pipeline_run(self, context: Context) -> PipelineRun:
        """The task's run: the DAG's Params, with what this operator was given on top."""
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context, default_span=self.default_span)
        for name in RUN_OVERRIDES:
            value = getattr(self, name, None)
            if value is None or value == "":
                continue
            run.params[name] = as_bool(value) if name == "dry_run" else value
        for name, convert in self.param_fields.items():  # type: ignore[union-attr]
            value = getattr(self, name, None)
            if value is None or value == "":
                continue
            run.params[name] = convert(value)
        return run

    def announce_removals(self, context: Context, run: PipelineRun, counts: Mapping[str, Any]) -> bool:
        """When the DAG lists ``contentops-asset-removals`` (:data:`contentops.assets.REMOVALS`)
        among this task's ``outlets`` and the step removed something (its ``removal_counts``),
        emit ``contentops://asset-removals``, on which ``delivery_compliance`` takes every
        partner's copy back. Returns whether an event was added."""
        from contentops.assets import REMOVALS, announce_removals

        if REMOVALS not in (self.outlets or []):
            return False
        removed = {name: int(counts.get(name) or 0) for name in self.removal_counts}
        return announce_removals(context["outlet_events"], removed, dry_run=run.dry_run)


def _as_given(value: Any) -> Any:
    return value


def as_bool(value: bool | str) -> bool:
    """A templated boolean: Jinja renders ``{{ params.dry_run }}`` as the text ``"True"``."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes"}


def as_int(value: int | str | None) -> int | None:
    """A templated integer: ``"{{ params.page_size }}"`` renders as ``"100"``; a null Param as
    ``"None"`` (or ``""``), which is ``None`` again."""
    if value is None or isinstance(value, int):
        return value
    text = str(value).strip()
    if text in {"", "None", "null"}:
        return None
    return int(text)


def as_list(value: Sequence[Any] | str | None) -> list[Any]:
    """A templated list: ``"{{ params.providers }}"`` renders a list Param as its Python text
    (``"['getty']"``); JSON and comma-separated text are read too. ``None`` is empty."""
    if value is None:
        return []
    if not isinstance(value, str):
        return list(value)
    text = value.strip()
    if text in {"", "None", "null"}:
        return []
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = ast.literal_eval(text)
        return list(parsed)
    return [part.strip() for part in text.split(",") if part.strip()]


def batches(value: Any) -> list[list[str]]:
    """A step's batches of ids as an XCom: lists of text (the pipelines may return tuples)."""
    return [[str(item) for item in batch] for batch in value or []]
