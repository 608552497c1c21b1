"""Every sandbox, its app factory and the fixed local port it listens on by default.

Each factory has the signature ``create_app(config: SandboxConfig) -> FastAPI`` and keeps
its live state on ``app.state.sandbox`` (a :class:`~contentops_sandbox.core.SandboxContext`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import FastAPI

from contentops_sandbox.core import SandboxConfig


@dataclass(frozen=True)
class SandboxSpec:
    name: str
    factory: str
    port: int
    conn_id: str

    def load(self) -> Callable[[SandboxConfig], FastAPI]:
        module, _, attr = self.factory.partition(":")
        return getattr(importlib.import_module(module), attr)


SANDBOXES: dict[str, SandboxSpec] = {
    spec.name: spec
    for spec in (
        SandboxSpec("smintio", "contentops_sandbox.smintio.app:create_app", 8701, "smintio_default"),
        SandboxSpec(
            "workflow", "contentops_sandbox.opentext_workflow.app:create_app", 8704, "opentext_workflow_default"
        ),
        SandboxSpec("vip", "contentops_sandbox.vip.app:create_app", 8702, "vip_default"),
        SandboxSpec(
            "trading_grid", "contentops_sandbox.trading_grid.app:create_app", 8705, "opentext_trading_grid_default"
        ),
        SandboxSpec("exstream", "contentops_sandbox.exstream.app:create_app", 8706, "opentext_exstream_default"),
        SandboxSpec("consonance", "contentops_sandbox.consonance.app:create_app", 8703, "consonance_default"),
    )
}
