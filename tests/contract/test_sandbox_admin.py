"""The sandboxes' admin API shows what a partner was asked to do, never a credential that works.

Tokens are stored under their own value, so a history listing of token writes used to hand out
live access and refresh tokens to anyone who could read ``/_sandbox/history``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import requests

pytestmark = pytest.mark.contract


@pytest.mark.parametrize("name", ["smintio", "trading_grid"])
def test_history_shows_token_writes_without_the_tokens(sandbox: Callable[..., Any], name: str) -> None:
    running = sandbox(name)
    issued = running.context.tokens.issue("contentops-demo", "api")
    assert issued.refresh_token

    history = requests.get(f"{running.url}/_sandbox/history", timeout=10).json()
    token_writes = [entry for entry in history if entry["kind"] in {"access_token", "refresh_token"}]

    assert {entry["kind"] for entry in token_writes} == {"access_token", "refresh_token"}
    assert all(entry["id"].startswith("sha256:") for entry in token_writes)
    text = str(history)
    assert issued.access_token not in text and issued.refresh_token not in text
    # and the token still works: only the listing is redacted
    assert running.context.tokens.subject_of(issued.access_token) == "contentops-demo"
