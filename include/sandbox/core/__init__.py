"""Machinery every sandbox shares: document store, faults, rate limit, tokens, server."""

from contentops_sandbox.core.app import SandboxConfig, SandboxContext, SandboxError, create_sandbox_app
from contentops_sandbox.core.server import SandboxServer
from contentops_sandbox.core.store import DocumentStore

__all__ = [
    "DocumentStore",
    "SandboxConfig",
    "SandboxContext",
    "SandboxError",
    "SandboxServer",
    "create_sandbox_app",
]
