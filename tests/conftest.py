"""Fixtures shared by the whole suite.

``sandbox`` starts any partner sandbox on a free loopback port with its own state
directory, so contract and end-to-end tests talk real HTTP to a real server.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import requests

from contentops_sandbox.core import SandboxConfig, SandboxContext, SandboxServer
from contentops_sandbox.core.faults import FaultSettings
from contentops_sandbox.registry import SANDBOXES

os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


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
