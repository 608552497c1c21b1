"""What every contentops operator shares: the run it works in, and its connections.

An operator's connection ids are its own arguments (``vip_conn_id="vip_eu"``), templated, so a
team can point one task at another connection; left ``None``, the DAG's Param of the same name
decides, and without one the hook's default connection. ``dry_run`` works the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    """

    #: the connection-id arguments this operator takes (names from :data:`RUN_OVERRIDES`)
    conn_id_fields: ClassVar[tuple[str, ...]] = ()
    template_fields: Sequence[str] = ("dry_run", "ledger_conn_id")

    def __init__(self, *, dry_run: bool | str | None = None, ledger_conn_id: str | None = None, **kwargs: Any) -> None:
        conn_ids = {name: kwargs.pop(name, None) for name in self.conn_id_fields}
        super().__init__(**kwargs)
        self.dry_run = dry_run
        self.ledger_conn_id = ledger_conn_id
        for name, value in conn_ids.items():
            setattr(self, name, value)

    def pipeline_run(self, context: Context) -> PipelineRun:
        """The task's run: the DAG's Params, with what this operator was given on top."""
        from contentops.pipelines.runtime import PipelineRun

        run = PipelineRun.from_context(context)
        for name in RUN_OVERRIDES:
            value = getattr(self, name, None)
            if value is None or value == "":
                continue
            run.params[name] = as_bool(value) if name == "dry_run" else value
        return run


def as_bool(value: bool | str) -> bool:
    """A templated boolean: Jinja renders ``{{ params.dry_run }}`` as the text ``"True"``."""
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in {"true", "1", "yes"}
