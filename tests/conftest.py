"""Fixtures shared by the whole suite.

``sandbox`` starts any partner sandbox on a free loopback port with its own state
directory, so contract and end-to-end tests talk real HTTP to a real server; ``demo_stack`` is
one ``make run`` per worker for the modules that drive a whole Airflow.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests
import sqlalchemy as sa
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from contentops.ledger import Ledger
from contentops_sandbox.core import SandboxConfig, SandboxContext, SandboxServer
from contentops_sandbox.core.faults import FaultSettings
from contentops_sandbox.registry import SANDBOXES

# Property tests judge behaviour, never speed: on a loaded 2-core CI machine (xdist workers beside
# whole Airflow stacks) input generation and examples take longer, which is no finding.
hypothesis_settings.register_profile("contentops", deadline=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.load_profile("contentops")


def _validate_checking_each_schema_once(instance: Any, schema: Any, cls: Any = None, *args: Any, **kwargs: Any) -> None:
    """``jsonschema.validate``, except that a schema found valid once is not checked again.

    Airflow validates every Param through ``jsonschema.validate``, which checks the Param's schema
    against the JSON Schema meta-schema before each use; a ``dag.test()`` run of a DAG with a
    dozen Params does that thousands of times (when it serializes the DAG and at every task):
    about a sixth of such a test's CPU time. The instance is still validated every time; an invalid
    schema still raises ``SchemaError`` every time (only schemas that passed are remembered)."""
    validator_class = cls if cls is not None else jsonschema.validators.validator_for(schema)
    try:
        key: tuple[Any, str] | None = (validator_class, json.dumps(schema, sort_keys=True, default=repr))
    except TypeError:  # keys that cannot be sorted: checked every time, as jsonschema does
        key = None
    if key is None or key not in _VALID_SCHEMAS:
        validator_class.check_schema(schema)
        if key is not None:
            _VALID_SCHEMAS.add(key)
    error = jsonschema.exceptions.best_match(validator_class(schema, *args, **kwargs).iter_errors(instance))
    if error is not None:
        raise error


_VALID_SCHEMAS: set[tuple[Any, str]] = set()
jsonschema.validate = _validate_checking_each_schema_once  # Param.resolve imports it at each call


# Airflow gets a throwaway home (and SQLite metadata database) for the whole test session,
# set before anything imports Airflow.
_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="contentops-airflow-"))
os.environ["AIRFLOW_HOME"] = str(_AIRFLOW_HOME)
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_AIRFLOW_HOME / 'airflow.db'}"
# one Fernet key for every process of the session (workers, `python -c` children): Airflow keeps
# an Asset watcher's trigger arguments encrypted, and a process with a key of its own cannot read
# what another wrote (cryptography.fernet.InvalidToken when a child parses the DAGs again)
_TEST_FERNET_KEY = base64.urlsafe_b64encode(hashlib.sha256(b"contentops tests").digest()).decode()
os.environ["AIRFLOW__CORE__FERNET_KEY"] = _TEST_FERNET_KEY
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(Path(__file__).resolve().parents[1] / "dags")
# the project's DAGs, the example DAGs of docs/examples, plus the test-only DAGs end-to-end tests
# run with dag.test()
os.environ["AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST"] = json.dumps(
    [
        {
            "name": name,
            "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
            "kwargs": {"path": str(path)},
        }
        for name, path in (
            ("dags-folder", Path(__file__).resolve().parents[1] / "dags"),
            ("examples", Path(__file__).resolve().parents[1] / "docs" / "examples"),
            ("test-dags", Path(__file__).resolve().parent / "e2e" / "dags"),
        )
    ]
)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that stops the shared ``make run`` runs after every other test, so the modules that
    share that stack start it once (a restart costs a minute of a 2-core machine).

    Under ``--dist loadgroup`` (``make test``) every test of an ``xdist_group`` must carry its
    group in its node id, or pytest-xdist spreads the group over workers: two Airflow stacks at
    once, and modules that share one ``make run`` running out of order."""
    items.sort(key=lambda item: item.get_closest_marker("stops_the_shared_demo") is not None)  # stable
    if not config.getoption("loadgroup", default=False):
        return
    spread = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
    if spread:
        raise pytest.UsageError(f"pytest-xdist left {len(spread)} tests ungrouped ({spread[0]}): check the pytest pin")


#: Airflow's two copies of its secrets masker (the Task SDK's and airflow-core's).
_SECRETS_MASKER_MODULES = (
    "airflow.sdk._shared.secrets_masker.secrets_masker",
    "airflow._shared.secrets_masker.secrets_masker",
)


@pytest.fixture(autouse=True)
def _secrets_masked_for_one_test_only() -> Iterator[None]:
    """What a test gives Airflow's secrets masker to mask is forgotten when the test ends.

    A task process starts with the masker of a fresh process; a pytest-xdist worker runs hundreds
    of tasks, and every token and connection secret of every earlier test stayed in its masker,
    which compiles one regular expression of all of them at each new secret: after a dozen
    end-to-end tests a fifth of a test's CPU time, growing with every test. Everything masked
    while the test runs is masked until it ends, as before; what was masked before it stays."""
    before = {}
    for name in _SECRETS_MASKER_MODULES:
        module = sys.modules.get(name)
        if module is not None:
            masker = module._secrets_masker()
            before[name] = (set(masker.patterns), masker.replacer)
    yield
    for name, (patterns, replacer) in before.items():
        masker = sys.modules[name]._secrets_masker()
        if masker.patterns != patterns:
            masker.patterns, masker.replacer = patterns, replacer


@pytest.fixture(scope="session")
def airflow_db(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """Airflow's metadata database for dag.test() runs, migrated once per test session.

    ``airflow db migrate`` costs each pytest-xdist worker tens of seconds of a busy 2-core machine:
    the first worker to ask migrates a template the others copy (each worker still has a SQLite
    file of its own). The template lives in the session's shared temporary folder, so a new
    session (or another Airflow version) never reuses it."""
    shared = tmp_path_factory.getbasetemp() if worker_id == "master" else tmp_path_factory.getbasetemp().parent
    template = shared / "airflow-migrated.db"
    database = _AIRFLOW_HOME / "airflow.db"
    with (shared / "airflow-migrated.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if template.exists() and not database.exists():
            shutil.copyfile(template, database)
            return _AIRFLOW_HOME
        # the first worker; or a database this worker already opened, which is migrated in place
        airflow = Path(sys.executable).parent / "airflow"
        subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True, timeout=300)
        if not template.exists():
            shutil.copyfile(database, shared / "airflow-migrated.db.part")
            (shared / "airflow-migrated.db.part").rename(template)
    _sync_each_dag_bundle_once()
    return _AIRFLOW_HOME


def _sync_each_dag_bundle_once() -> None:
    """``dag.test()`` writes its bundle's DAGs to the worker's metadata database once, not at every call.

    Each ``dag.test()`` parses every DAG file of the tested DAG's bundle and writes all of those
    DAGs to the metadata database (so that sibling DAGs, e.g. what a DAG triggers, exist there):
    ~0.45 s of CPU per call for the project's fourteen DAGs, several hundred calls per session. A
    worker keeps one metadata database for the whole session and no test removes DAGs from it, so
    once a bundle's files were written unchanged (same files, same modification times, same DAGs
    and tasks, no import error) to this database, writing them again changes nothing a test reads.
    The DAG a test runs is still serialized from the test's own DAG object at every call, and a
    bundle whose files or DAGs differ, or another database, is written again."""
    from airflow import settings
    from airflow.dag_processing import dagbag as dagbag_module

    original = dagbag_module.sync_bag_to_db
    if getattr(original, "contentops_sync_once", False):
        return
    written: set[tuple[Any, ...]] = set()

    def sync_bag_to_db(dagbag: Any, bundle_name: str, bundle_version: str | None, **kwargs: Any) -> None:
        key = (
            str(settings.engine.url) if settings.engine is not None else None,
            bundle_name,
            bundle_version,
            tuple(sorted((path, str(changed)) for path, changed in dagbag.file_last_changed.items())),
            tuple(sorted((dag_id, dag.fileloc, tuple(sorted(dag.task_dict))) for dag_id, dag in dagbag.dags.items())),
        )
        if kwargs or dagbag.import_errors or key not in written:
            original(dagbag, bundle_name, bundle_version, **kwargs)
            if not kwargs and not dagbag.import_errors:
                written.add(key)

    sync_bag_to_db.contentops_sync_once = True  # type: ignore[attr-defined]
    dagbag_module.sync_bag_to_db = sync_bag_to_db


@pytest.fixture(scope="session")
def demo_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """``make run`` on free ports, one per pytest-xdist worker (a ``deploy.airflow_stack.SharedDemo``:
    ``demo_stack.get()`` gives the running stack). The backfill and browser modules are in xdist
    groups of their own, so ``make test`` runs them side by side on two stacks; on one worker
    (``-n 0``, ``PYTEST_WORKERS=1``) they share one."""
    from deploy.airflow_stack import SharedDemo

    shared = SharedDemo(tmp_path_factory.mktemp("make-run"))
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture
def token_store() -> Callable[[str], Any]:
    """Factory: ``token_store("smintio")`` gives a fresh in-memory refresh-token store.

    Tests outside a task have no Variable backend. (Built here, not at import: importing the
    hooks imports Airflow, which must not happen before AIRFLOW_HOME is set above.)
    """
    from contentops.hooks.base import RefreshTokenStore

    class MemoryTokenStore(RefreshTokenStore):
        def __init__(self, system: str) -> None:
            super().__init__(system, "test")
            self.saved: list[str] = []

        def load(self) -> str | None:
            return self.saved[-1] if self.saved else None

        def save(self, token: str) -> None:
            self.saved.append(token)

    return MemoryTokenStore


@dataclass
class RunningSandbox:
    """A sandbox served for one test: its URL, its live context, and admin shortcuts."""

    name: str
    server: SandboxServer
    context: SandboxContext

    @property
    def url(self) -> str:
        return self.server.url

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        response = requests.request(method, f"{self.url}/_sandbox/{path.lstrip('/')}", timeout=10, **kwargs)
        response.raise_for_status()
        return response.json()

    def set_faults(self, **faults: Any) -> None:
        self.context.faults.replace(FaultSettings(**faults))


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[Callable[..., RunningSandbox]]:
    """Factory: ``sandbox("smintio", rate_limit_per_second=20, options={...})``."""
    started: list[RunningSandbox] = []

    def start(name: str, **config: Any) -> RunningSandbox:
        config.setdefault("state_dir", tmp_path / f"sandbox-{name}-{len(started)}")
        app = SANDBOXES[name].load()(SandboxConfig(**config))
        server = SandboxServer(app).start()
        running = RunningSandbox(name, server, app.state.sandbox)
        running.context.config.public_url = server.url
        started.append(running)
        return running

    yield start
    for running in started:
        running.server.stop()


# -- ledger: SQLite and the machine's PostgreSQL -------------------------------------------
PG_URL = os.environ.get("CONTENTOPS_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def postgres_available() -> bool:
    try:
        engine = sa.create_engine(PG_URL)
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
        engine.dispose()
    except sa.exc.OperationalError:
        return False
    return True


@pytest.fixture(scope="session")
def pg_server() -> str:
    if not postgres_available():
        pytest.skip(f"PostgreSQL not reachable at {PG_URL} (set CONTENTOPS_TEST_PG_URL)")
    return PG_URL


@pytest.fixture
def pg_database(pg_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards; yields its URL."""
    name = f"contentops_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(pg_server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(pg_server).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ledger.sqlite'}"
    return request.getfixturevalue("pg_database")


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Ledger]:
    instance = Ledger(ledger_url)
    instance.migrate()
    yield instance
    instance.dispose()
