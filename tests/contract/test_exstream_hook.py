"""ExstreamHook against the Exstream sandbox over real HTTP."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from contentops.hooks.errors import RequestRejectedError
from contentops.hooks.exstream import ExstreamHook
from contentops_sandbox.connections import exstream_connection
from contentops_sandbox.smintio import images

pytestmark = pytest.mark.contract


@pytest.fixture
def exstream(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    def start(**config: Any) -> tuple[ExstreamHook, Any]:
        running = sandbox("exstream", **config)
        conn = exstream_connection(running.url, backoff_initial=0.01, backoff_max=0.05, token_style="form")
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_EXSTREAM_DEFAULT", json.dumps(conn))
        return ExstreamHook(), running

    return start


def test_upload_approve_block_and_list_by_state(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    ok, message = hook.test_connection()
    assert ok, message
    source = tmp_path / "logo.png"
    source.write_bytes(images.png("logo"))
    resource = hook.upload_image("retail", source, name="logo.png", content_type="image/png")
    stored = running.context.store.get("resource", resource.id)
    assert resource.state == "DRAFT" and stored["content"]["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    hook.set_state("retail", resource.id, "REVIEW", "new campaign logo")
    approved = hook.set_state("retail", resource.id, "APPROVED", "brand approved")
    hook.put_rights_metadata("retail", resource.id, {"valid_until": "2027-01-31", "regions": ["emea"]})
    assert [r.id for r in hook.iter_resources("retail", types=["image"], states=["APPROVED"])] == [approved.id]
    blocked = hook.block("retail", resource.id, "license expired")
    assert blocked.state == "DRAFT" and blocked.state_comment == "license expired"
    assert list(hook.iter_resources("retail", states=["APPROVED"])) == []
    with pytest.raises(RequestRejectedError) as caught:
        hook.set_state("retail", resource.id, "APPROVED", "skip the review")
    assert "IllegalStateTransition" in str(caught.value)


def test_resources_page_through_the_envelope(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    source = tmp_path / "x.png"
    source.write_bytes(images.png("x"))
    for n in range(7):
        hook.upload_image("insurance", source, name=f"x{n}.png", content_type="image/png")
    running.set_faults(fail_next=[503], retry_after_seconds=0)
    assert len(list(hook.iter_resources("insurance", page_size=3))) == 7
