"""The package is an Airflow provider: Airflow finds it and every connection type resolves."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from importlib.metadata import distribution, entry_points
from pathlib import Path

import pytest

from contentops.provider_info import get_provider_info

pytestmark = pytest.mark.unit


def test_entry_point_and_distribution_name_match() -> None:
    (entry,) = [ep for ep in entry_points(group="apache_airflow_provider") if ep.value.startswith("contentops.")]
    info = entry.load()()
    assert info["package-name"] == distribution("contentops").metadata["Name"]


def test_every_connection_type_names_an_importable_hook_with_matching_attributes() -> None:
    info = get_provider_info()
    conn_types = info["connection-types"]
    assert conn_types, "the provider registers no connection type"
    for entry in conn_types:
        module_name, _, class_name = entry["hook-class-name"].rpartition(".")
        hook = getattr(importlib.import_module(module_name), class_name)
        assert hook.conn_type == entry["connection-type"]
        assert hook.hook_name == entry["hook-name"]
        assert callable(getattr(hook, "test_connection", None))
        for field in entry.get("conn-fields", {}).values():
            assert "schema" in field and "label" in field


def test_airflow_lists_the_provider_and_its_connection_types(tmp_path: Path) -> None:
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": str(Path(sys.executable).parent),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    airflow = str(Path(sys.executable).parent / "airflow")
    providers = subprocess.run(
        [airflow, "providers", "list", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "contentops" in {p["package_name"] for p in json.loads(providers.stdout)}
    hooks = subprocess.run(
        [airflow, "providers", "hooks", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    registered = {h["connection_type"] for h in json.loads(hooks.stdout)}
    expected = {entry["connection-type"] for entry in get_provider_info()["connection-types"]}
    assert expected <= registered


def test_consonance_connection_form_asks_for_instance_key_and_api() -> None:
    (entry,) = [e for e in get_provider_info()["connection-types"] if e["connection-type"] == "consonance"]
    assert entry["hook-class-name"] == "contentops.hooks.consonance.ConsonanceHook"
    behaviour = entry["ui-field-behaviour"]
    assert behaviour["relabeling"] == {"host": "Instance URL", "password": "API key"}
    assert "login" in behaviour["hidden-fields"]
    assert set(entry["conn-fields"]["api"]["schema"]["enum"]) == {"graphql", "rest", None}


def test_airflow_shows_the_providers_integrations_hooks_operators_sensors_and_triggers(tmp_path: Path) -> None:
    env = {
        "AIRFLOW_HOME": str(tmp_path),
        "PATH": str(Path(sys.executable).parent),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    }
    shown = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "providers", "get", "contentops", "--full", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    (info,) = json.loads(shown.stdout)
    assert info["versions"] == [distribution("contentops").version]
    integrations = {i["integration-name"] for i in info["integrations"]}
    assert {
        "Smint.io",
        "VIP",
        "OpenText Workflow Service",
        "OpenText Trading Grid",
        "OpenText Exstream",
        "Consonance",
    } <= (integrations)
    modules = {
        m
        for section in ("hooks", "operators", "sensors", "triggers")
        for entry in info[section]
        for m in entry["python-modules"]
    }
    assert {"contentops.operators.smintio", "contentops.operators.vip", "contentops.operators.consonance"} <= modules
    for entry in info["hooks"] + info["operators"] + info["sensors"] + info["triggers"]:
        assert entry["integration-name"] in integrations
    for module in modules:
        importlib.import_module(module)
    hook_classes = {e["hook-class-name"].rpartition(".")[0] for e in info["connection-types"]}
    assert hook_classes <= modules  # every connection type's hook is listed under its integration


def test_the_provider_wheel_ships_the_provider_alone(tmp_path: Path) -> None:
    """Users of the provider get no sandbox, launcher or test tool: those are their own
    distribution (include/pyproject.toml), installed by `make run` / `make test`."""
    import shutil
    import zipfile

    project, source = Path(__file__).resolve().parents[2], tmp_path / "source"
    # a copy of what the build reads, so that no build/ folder of an earlier build is packed
    shutil.copytree(project, source, ignore=shutil.ignore_patterns(".venv", ".git", "build", "var", "*.egg-info"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(source)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("contentops-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert {name.split("/")[0] for name in names} == {"contentops", wheel.name.split("-py3")[0] + ".dist-info"}
    requires = [line.split(":", 1)[1].strip() for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    runtime = [r for r in requires if "extra ==" not in r]
    assert not [r for r in runtime if r.lower().startswith(("pytest", "selenium", "hypothesis", "ruff"))]
    assert any(
        r.replace(" ", "").startswith("apache-airflow<4,>=3.3.2") or r.startswith("apache-airflow>=3.3.2")
        for r in runtime
    )
