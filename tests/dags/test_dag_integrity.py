"""Every DAG file imports cleanly, fast, and without touching the network."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dags

DAGS_FOLDER = Path(__file__).resolve().parents[2] / "dags"
DAG_FILES = sorted(p for p in DAGS_FOLDER.glob("*.py") if not p.name.startswith("_"))
#: Example DAGs of the documentation (docs/examples/): they must import and parse as lightly as ours.
EXAMPLES_FOLDER = DAGS_FOLDER.parent / "docs" / "examples"
EXAMPLE_FILES = sorted(p for p in EXAMPLES_FOLDER.glob("*.py") if not p.name.startswith("_"))
#: Modules a DAG file must not pull in at parse time: the scheduler's parser runs every file
#: often, so heavy or side-effecting imports belong inside the tasks.
HEAVY_AT_PARSE = ("pandas", "contentops.ledger", "contentops_sandbox", "matplotlib")


class _NoNetwork(socket.socket):
    def connect(self, address: Any) -> None:  # pragma: no cover - only hit by a faulty DAG file
        raise AssertionError(f"DAG file opened a network connection at import: {address}")


@pytest.fixture
def dagbag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_FOLDER))


def test_no_import_errors(dagbag: Any) -> None:
    assert dagbag.import_errors == {}


@pytest.mark.skipif(not DAG_FILES, reason="dags/ holds no DAG file yet")
def test_every_dag_is_scheduled_tagged_and_documented(dagbag: Any) -> None:
    assert len(dagbag.dag_ids) == len(DAG_FILES)
    for dag_id in dagbag.dag_ids:
        dag = dagbag.dags[dag_id]
        assert dag.timetable.__class__.__name__ != "NullTimetable", f"{dag_id} has no schedule"
        assert dag.tags, f"{dag_id} has no tags"
        assert dag.doc_md, f"{dag_id} has no documentation"


def test_every_task_retries_by_the_partner_retry_policy(dagbag: Any) -> None:
    from contentops.retries import PARTNER_RETRY_POLICY

    for dag_id in dagbag.dag_ids:
        for task in dagbag.dags[dag_id].tasks:
            assert task.retry_policy is PARTNER_RETRY_POLICY, f"{dag_id}.{task.task_id}"
            assert task.retries >= 1, f"{dag_id}.{task.task_id}"


def test_every_step_that_removes_assets_tells_delivery_compliance(dagbag: Any) -> None:
    """A task whose operator removes assets at their source (``removal_counts``) lists the
    removals alias among its outlets, and ``delivery_compliance`` is scheduled on the Asset it
    resolves to: a removal in one pipeline reaches every partner at once."""
    from contentops.assets import ASSET_REMOVALS, REMOVALS

    removing = [
        f"{dag_id}.{task.task_id}"
        for dag_id in dagbag.dag_ids
        for task in dagbag.dags[dag_id].tasks
        if getattr(getattr(task, "operator_class", type(task)), "removal_counts", ())  # mapped ones too
    ]
    assert {"exstream_template_sync.collect_feedback", "title_metadata_push.surface_latest"} <= set(removing)
    assert "vip_catalog_sync.register_catalogue" in removing
    for name in removing:
        dag_id, task_id = name.split(".", 1)
        assert REMOVALS in dagbag.dags[dag_id].get_task(task_id).outlets, name
    assert ASSET_REMOVALS in dagbag.dags["delivery_compliance"].timetable.asset_condition.objects


def test_every_run_writes_its_report_and_a_failed_step_fails_the_run(dagbag: Any) -> None:
    """The report runs whatever happened before it; the verdict, downstream of every task, is the
    run's only leaf and passes only when no task failed (contentops.verdict)."""
    from contentops.verdict import VERDICT_TASK_ID

    for dag_id in dagbag.dag_ids:
        dag = dagbag.dags[dag_id]
        assert dag.get_task("report").trigger_rule == "all_done", dag_id
        verdict = dag.get_task(VERDICT_TASK_ID)
        assert verdict.trigger_rule == "none_failed", dag_id
        assert [leaf.task_id for leaf in dag.leaves] == [VERDICT_TASK_ID], dag_id
        assert verdict.upstream_task_ids == {t.task_id for t in dag.tasks} - {VERDICT_TASK_ID}, dag_id


def test_the_documented_examples_import_without_errors() -> None:
    from airflow.dag_processing.dagbag import DagBag

    assert EXAMPLE_FILES, "docs/examples/ holds no example DAG"
    examples = DagBag(dag_folder=str(EXAMPLES_FOLDER))
    assert examples.import_errors == {}
    assert len(examples.dag_ids) >= len(EXAMPLE_FILES)
    for dag_id in examples.dag_ids:
        dag = examples.dags[dag_id]
        assert dag.doc_md and dag.tags, dag_id
        for task in dag.tasks:  # examples retry by the same policy as the project's DAGs
            assert task.retries >= 1, f"{dag_id}.{task.task_id}"


@pytest.mark.parametrize("path", DAG_FILES + EXAMPLE_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_file_parses_light_without_network(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import airflow.sdk  # noqa: F401 - the SDK itself is allowed; load it before the snapshot

    monkeypatch.setattr(socket, "socket", _NoNetwork)
    heavy_before = {name for name in sys.modules if name.startswith(HEAVY_AT_PARSE)}
    for name in heavy_before:  # a fresh parse: forget what other tests imported
        monkeypatch.delitem(sys.modules, name)
    module_name = f"_integrity_{path.stem}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.modules.pop(module_name, None)
    pulled_in = sorted(name for name in sys.modules if name.startswith(HEAVY_AT_PARSE))
    assert not pulled_in, f"{path.name} imports {pulled_in} at parse time; import them inside the tasks"


def test_every_run_tells_the_team_when_it_fails(dagbag: Any) -> None:
    """Every DAG's on_failure_callback and every task's carry the alert notifier (contentops.alerts);
    with the shipped settings (no channel) no DAG carries a workflow deadline."""
    from contentops.alerts.notify import ContentopsNotifier

    for dag_id in dagbag.dag_ids:
        dag = dagbag.dags[dag_id]
        assert dag.has_on_failure_callback, dag_id
        assert [c.event for c in dag.on_failure_callback if isinstance(c, ContentopsNotifier)] == ["run_failed"]
        assert not dag.deadline, dag_id
        for task in dag.tasks:
            callbacks = task.on_failure_callback or []
            callbacks = callbacks if isinstance(callbacks, list) else [callbacks]
            assert [c.event for c in callbacks if isinstance(c, ContentopsNotifier)] == ["action_needed"], task
