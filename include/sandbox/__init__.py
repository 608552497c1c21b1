"""Stateful look-alike servers for the partner systems contentops talks to.

None of the real services can be reached from a developer's or CI's machine, so each one
gets a sandbox: a real HTTP server (FastAPI + uvicorn) that behaves like the product's API
(auth with expiring tokens, paging, 429 + Retry-After, the product's error bodies, state on
disk, switchable faults). The hooks talk to a sandbox exactly as they would to the real
service; only the Airflow connection differs.

Shared machinery lives in :mod:`contentops_sandbox.core`; each system has its own
sub-package with a ``create_app(config)`` factory, listed in
:mod:`contentops_sandbox.registry`.
"""
