"""Loading the plugin and the hooks imports no web stack, no pandas and no Alembic.

Every Airflow process that loads plugins imports :mod:`contentops.plugin` — the scheduler, the
triggerer, the dag-processor, and each task process as soon as a hook reports lineage (the SDK's
hook-lineage collector loads all plugins). Only the API server uses the plugin's FastAPI app, and
only a report or a migration uses pandas or Alembic; imported at module level they cost every one
of those processes ~90 MB and ~1,000 modules. These tests pin *which modules are loaded* (in a
fresh interpreter, as Airflow starts one), not how long anything takes; and that the API server
still gets the same app.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

#: top-level packages none of those processes may load through contentops
HEAVY = ("pandas", "numpy", "alembic", "fastapi", "starlette", "cadwyn", "uvicorn")

DAGS = Path(__file__).resolve().parents[2] / "dags"


def run_fresh(script: str, tmp_path: Path) -> dict[str, object]:
    """Run ``script`` in a new interpreter (an Airflow home of its own, no example plugins);
    it prints one JSON object as its last line."""
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(tmp_path / "plugins"),
    }
    prelude = (
        f"import json, sys\nHEAVY = {HEAVY!r}\ndef loaded():\n    return sorted(h for h in HEAVY if h in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", prelude + script], env=env, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_hooks_and_loaded_plugins_import_nothing_heavy(tmp_path: Path) -> None:
    """A task process: the hooks, the SDK's plugin load (what the first lineage report does)
    and core's plugin load (what the scheduler and the triggerer do)."""
    seen = run_fresh(
        "from contentops.hooks.smintio import SmintioHook\n"
        "from contentops.hooks.vip import VipHook\n"
        "from contentops.hooks.exstream import ExstreamHook\n"
        "from contentops.hooks.trading_grid import TradingGridHook\n"
        "from contentops.hooks.ledger import LedgerHook\n"
        "after_hooks = loaded()\n"
        "from airflow.sdk.lineage import get_hook_lineage_collector\n"
        "get_hook_lineage_collector()\n"
        "from airflow.sdk import plugins_manager as sdk_plugins\n"
        "from airflow import plugins_manager\n"
        "plugins_manager.ensure_plugins_loaded()\n"
        "names = sorted({p.name for m in (sdk_plugins, plugins_manager) for p in m._get_plugins()[0]})\n"
        "print(json.dumps({'after_hooks': after_hooks, 'after_plugins': loaded(), 'plugins': names,\n"
        "                  'plugin_module': 'contentops.plugin' in sys.modules}))\n",
        tmp_path,
    )
    assert seen["plugin_module"] is True and "contentops" in seen["plugins"]  # the plugin was loaded …
    assert seen["after_hooks"] == []
    assert seen["after_plugins"] == []  # … and brought nothing heavy with it


def test_pipelines_ledger_and_dag_files_import_nothing_heavy(tmp_path: Path) -> None:
    """What the dag-processor parses, and what every pipeline imports (the run's report, the
    ledger and its migrations' version constants); pandas only with a report's counts."""
    seen = run_fresh(
        "import runpy, glob\n"
        "import contentops.ledger, contentops.reporting, contentops.pipelines.runtime, contentops.quarantine\n"
        "import contentops.pipelines.workflow_outcomes, contentops.pipelines.usage_reconciliation\n"
        "modules = loaded()\n"
        f"for f in sorted(glob.glob({str(DAGS)!r} + '/*.py')):\n"
        "    runpy.run_path(f, run_name='dag_file')\n"
        "dags = loaded()\n"
        "from contentops.reporting import ReportRow, RunReport\n"
        "report = RunReport('d', 'r', 't')\n"
        "report.add(ReportRow('a-1', 'vip', 'delivered'))\n"
        "counts = report.counts\n"
        "print(json.dumps({'modules': modules, 'dags': dags, 'counts': counts, 'after_report': loaded()}))\n",
        tmp_path,
    )
    assert seen["modules"] == []
    assert seen["dags"] == []
    assert seen["counts"] == {"delivered": 1}
    assert "pandas" in seen["after_report"]  # imported where it is used


def test_the_api_server_gets_the_same_app_built_once(tmp_path: Path) -> None:
    """What the API server mounts (``plugins_manager.get_fastapi_plugins``): the contentops app
    under ``/contentops`` with its routes, the same object however often it is read."""
    seen = run_fresh(
        "from airflow import plugins_manager\n"
        "before = loaded()\n"
        "apps, _ = plugins_manager.get_fastapi_plugins()\n"
        "ours = [a for a in apps if a.get('url_prefix') == '/contentops']\n"
        "from contentops.plugin import ContentopsPlugin\n"
        "again = ContentopsPlugin.fastapi_apps[0]['app'] is ours[0]['app']\n"
        "again = again and ContentopsPlugin().fastapi_apps[0]['app'] is ours[0]['app']\n"
        "app = ours[0]['app']\n"
        "print(json.dumps({'before': before, 'count': len(ours), 'name': ours[0]['name'],\n"
        "                  'type': type(app).__module__ + '.' + type(app).__name__,\n"
        "                  'routes': sorted(r.path for r in app.routes), 'same': again}))\n",
        tmp_path,
    )
    assert seen["before"] == []
    assert seen["count"] == 1 and seen["name"] == "contentops reports"
    assert seen["type"] == "fastapi.applications.FastAPI"
    assert {
        "/reports/{dag_id}/{run_id}",
        "/reports/{dag_id}/{run_id}/report.csv",
        "/quarantine",
        "/quarantine/export.csv",
        "/quarantine/export.json",
        "/quarantine/{quarantine_id}/resolve",
        "/quarantine/{quarantine_id}/replay",
        "/where",
    } <= set(seen["routes"])
    assert seen["same"] is True


def test_the_license_page_worker_imports_no_airflow(tmp_path: Path) -> None:
    """The license sync's page worker is a process of its own so it has a core and an interpreter
    to itself; it starts once per long feed, and Airflow's import alone is ~120 MB and ~1,400
    modules. What it runs (the page store, the ledger, the sweep's finding) must not pull it in."""
    seen = run_fresh(
        "import contentops.pipelines.page_worker, contentops.pipelines.licenses, contentops.ledger\n"
        "import contentops.pipelines.license_pages, contentops.pipelines.sweep_findings\n"
        "print(json.dumps({'airflow': sorted(m for m in sys.modules if m.split('.')[0] == 'airflow')[:5],\n"
        "                  'heavy': loaded()}))\n",
        tmp_path,
    )
    assert seen == {"airflow": [], "heavy": []}
