"""ExstreamHook.upload_image with an idempotency key: a replay or a retried 5xx makes one resource."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import PartnerServerError
from contentops.hooks.exstream import ExstreamHook
from contentops_sandbox.connections import exstream_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def exstream(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> tuple[ExstreamHook, Any]:
    running = sandbox("exstream")
    conn = exstream_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_EXSTREAM_DEFAULT", json.dumps(conn))
    return ExstreamHook(), running


def _images(running: Any) -> list[dict[str, Any]]:
    return [r for r in running.context.store.all("resource") if r["name"] == "banner.png"]


def test_an_upload_with_a_key_is_retried_through_5xx_and_replayed_without_a_second_resource(
    exstream: tuple[ExstreamHook, Any],
) -> None:
    hook, running = exstream
    hook.version()  # token first, so the faults below hit the upload
    running.set_faults(fail_next=[503, 502])
    first = hook.upload_image(
        "retail", io.BytesIO(b"png-bytes"), name="banner.png", content_type="image/png", idempotency_key="k-1"
    )
    again = hook.upload_image(
        "retail", io.BytesIO(b"png-bytes"), name="banner.png", content_type="image/png", idempotency_key="k-1"
    )
    assert again.id == first.id and len(_images(running)) == 1


def test_an_upload_without_a_key_is_not_replayed_after_a_5xx(exstream: tuple[ExstreamHook, Any]) -> None:
    hook, running = exstream
    hook.version()
    running.set_faults(fail_next=[503])
    with pytest.raises(PartnerServerError):
        hook.upload_image("retail", io.BytesIO(b"png-bytes"), name="banner.png", content_type="image/png")
    assert _images(running) == []
