"""What one partner connection's transport is tuned by: timeouts, retries, pacing.

Kept apart from the transport so a hook can build, validate and show these settings (from the
connection's extra) without a session.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TransportSettings(BaseModel):
    """Per-connection transport settings (from the Airflow connection's extra)."""

    base_url: str
    connect_timeout: float = Field(10.0, gt=0)
    read_timeout: float = Field(60.0, gt=0)
    max_attempts: int = Field(6, ge=1, le=50)
    backoff_initial: float = Field(0.5, ge=0)
    backoff_max: float = Field(30.0, ge=0)
    max_retry_after: float = Field(300.0, ge=0, description="Longest Retry-After honoured as given.")
    rate_limit_per_second: float | None = Field(None, gt=0)
    rate_limit_burst: int = Field(1, ge=1)
    rate_limit_scope: Literal["host", "task"] = Field(
        "host",
        description="host: every task process of this host on the connection shares one bucket (a file under "
        "rate_limit_dir); task: each hook instance paces alone.",
    )
    rate_limit_dir: str | None = Field(
        None, description="Folder of the shared buckets; empty = $CONTENTOPS_RATE_LIMIT_DIR or the temp dir's."
    )
    #: names the shared bucket (the hook sets it to its connection id); the base URL is added to it
    rate_limit_key: str = ""
    verify_ssl: bool | str = Field(
        True, description="Used only when the transport makes its own session (a hook's comes from the connection)."
    )
    allow_redirects: bool = True
    user_agent: str = "contentops/0.1 (+https://github.com/contentops)"
