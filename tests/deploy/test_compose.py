"""docker-compose.yaml is a valid, complete distributed deployment (validated without an engine)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.e2e

PROJECT = Path(__file__).resolve().parents[2]
AIRFLOW_SERVICES = {
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "airflow-worker",
    "airflow-init",
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    binary = shutil.which("docker-compose")
    assert binary, "docker-compose is installed by `make test` (Debian package docker-compose)"
    result = subprocess.run(
        [binary, "-f", str(PROJECT / "docker-compose.yaml"), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT,
    )
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_every_component_is_there(config: dict[str, Any]) -> None:
    assert AIRFLOW_SERVICES | {"postgres", "redis", "sandboxes"} <= set(config["services"])


def test_airflow_runs_celery_on_postgres_and_redis_from_one_image(config: dict[str, Any]) -> None:
    services = config["services"]
    images = {services[name]["image"] for name in AIRFLOW_SERVICES | {"sandboxes"}}
    assert images == {"contentops-airflow:0.1.0"}
    for name in AIRFLOW_SERVICES:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:6379")
        assert "/contentops" in env["AIRFLOW_CONN_CONTENTOPS_LEDGER"]  # the ledger has its own database
        targets = {v["target"] if isinstance(v, dict) else v.split(":")[1] for v in services[name]["volumes"]}
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets
    assert services["airflow-worker"]["command"] == ["celery", "worker"]


def test_image_installs_the_project(config: dict[str, Any]) -> None:
    dockerfile = (PROJECT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "pip install" in dockerfile and "/opt/contentops" in dockerfile
