"""ExstreamHook.upload_image with an idempotency key: DAS publishes no idempotency key (and the
sandbox honours none), so a retried, resumed or in-doubt upload finds what an earlier attempt
created — by the upload's name, in the published resource list — instead of creating it twice."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
import requests

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


def _upload(hook: ExstreamHook, **kwargs: Any) -> Any:
    return hook.upload_image("retail", io.BytesIO(b"png-bytes"), name="banner.png", content_type="image/png", **kwargs)


def test_an_upload_with_a_key_is_retried_through_5xx_and_resumed_without_a_second_resource(
    exstream: tuple[ExstreamHook, Any],
) -> None:
    hook, running = exstream
    hook.version()  # token first, so the faults below hit the upload
    running.set_faults(fail_next=[503, 502])
    first = _upload(hook, idempotency_key="k-1")
    assert len(_images(running)) == 1
    # the task failed after the write (e.g. on the metadata): its retry resumes the same key
    again = _upload(hook, idempotency_key="k-1", resume=True)
    assert again.id == first.id and len(_images(running)) == 1


def test_the_sandbox_honours_no_idempotency_key_as_the_product_publishes_none(
    exstream: tuple[ExstreamHook, Any],
) -> None:
    hook, running = exstream
    _upload(hook, idempotency_key="k-1")
    _upload(hook, idempotency_key="k-1")  # not resumed: a deliberate second upload
    assert len(_images(running)) == 2


def test_a_resumed_upload_finds_the_resource_whose_answer_was_lost(exstream: tuple[ExstreamHook, Any]) -> None:
    hook, running = exstream
    hook.version()
    # the earlier attempt reached the service, which created the image; its answer never arrived
    token = running.context.tokens.issue("contentops-demo", with_refresh=False)
    lost = requests.post(
        f"{running.url}/design/api/v1/resources/retail/content",
        params={"name": "banner.png", "type": "image"},
        files={"file": ("banner.png", b"png-bytes", "image/png")},
        headers={"Authorization": f"Bearer {token.access_token}"},
        timeout=10,
    )
    assert lost.status_code == 201 and lost.json()["status"] == "success"
    resumed = _upload(hook, idempotency_key="k-2", resume=True)
    assert resumed.id == lost.json()["data"]["id"] and len(_images(running)) == 1


def test_an_upload_without_a_key_is_not_replayed_after_a_5xx(exstream: tuple[ExstreamHook, Any]) -> None:
    hook, running = exstream
    hook.version()
    running.set_faults(fail_next=[503])
    with pytest.raises(PartnerServerError):
        hook.upload_image("retail", io.BytesIO(b"png-bytes"), name="banner.png", content_type="image/png")
    assert _images(running) == []
