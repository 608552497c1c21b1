"""ExstreamHook against the Exstream sandbox over real HTTP: every operation, the product's error
bodies, token expiry mid-run, 429/5xx recovery and malformed usage handed to the quarantine."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from contentops.hooks.errors import (
    AuthenticationError,
    ConflictError,
    MalformedResponseError,
    NotFoundError,
    RequestRejectedError,
)
from contentops.hooks.exstream import COMMUNICATION, ExstreamHook
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
    assert list(hook.iter_resources("retail", types=["image"], states=["APPROVED"])) == []
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
    assert len(list(hook.iter_resources("insurance", types=["image"], page_size=3))) == 7


def _upload_approved(hook: ExstreamHook, tmp_path: Path, domain: str, name: str) -> Any:
    source = tmp_path / name
    source.write_bytes(images.png(name))
    resource = hook.upload_image(domain, source, name=name, content_type="image/png")
    hook.set_state(domain, resource.id, "REVIEW", "ready")
    return hook.set_state(domain, resource.id, "APPROVED", "approved")


def test_domains_versions_and_one_resource(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, _ = exstream()
    assert {d.id for d in hook.list_domains()} == {"retail", "insurance"}
    assert all(d.production and isinstance(d.workflow, str) for d in hook.list_domains())
    assert hook.version("design")["apiIdentifier"] == "das/v1"
    assert hook.version("orchestration")["major"] == "25"
    image = _upload_approved(hook, tmp_path, "retail", "one.png")
    assert hook.get_resource("retail", image.id).state == "APPROVED"
    with pytest.raises(NotFoundError):
        hook.get_resource("insurance", image.id)  # resources live in their domain


def test_invalid_transition_answers_the_product_error_body(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, _ = exstream()
    source = tmp_path / "d.png"
    source.write_bytes(images.png("d"))
    draft = hook.upload_image("retail", source, name="d.png", content_type="image/png")
    with pytest.raises(RequestRejectedError) as caught:
        hook.set_state("retail", draft.id, "APPROVED", "no review")
    assert caught.value.status == 400
    body = json.loads(caught.value.body_excerpt)
    assert body["details"].startswith("IllegalStateTransition") and "DRAFT to APPROVED" in body["message"]
    assert body["status"] == 400 and body["error"] == "Bad Request" and isinstance(body["timestamp"], int)
    assert body["errorCode"] is None  # a number where the product has one (an import conflict: 309016)
    hook.set_state("retail", draft.id, "REVIEW", "check")
    rejected = hook.set_state("retail", draft.id, "REJECTED", "off brand")
    assert rejected.state == "REJECTED" and rejected.state_comment == "off brand"


def test_an_image_under_embargo_is_not_approved_before_its_date_and_a_block_rejects_it(
    exstream: Callable[..., Any], tmp_path: Path
) -> None:
    """Modelled embargo (docs/systems/exstream.md): with ``valid_from`` ahead of the sandbox clock the
    image cannot reach APPROVED; once the clock passes it, it can. Blocking an image still in
    REVIEW (its rights ended before the launch) rejects it, as DRAFT is no step from REVIEW."""
    hook, running = exstream()
    source = tmp_path / "e.png"
    source.write_bytes(images.png("e"))
    launch = datetime.now(UTC) + timedelta(days=2)
    waiting = []
    for name in ("e1.png", "e2.png"):
        image = hook.upload_image("retail", source, name=name, content_type="image/png")
        hook.put_rights_metadata("retail", image.id, {"valid_from": launch.isoformat(), "rights_status": "embargoed"})
        waiting.append(hook.set_state("retail", image.id, "REVIEW", "campaign image, embargoed"))
    with pytest.raises(ConflictError) as caught:
        hook.set_state("retail", waiting[0].id, "APPROVED", "too early")
    assert "ResourceEmbargoed" in str(caught.value)
    blocked = hook.block("retail", waiting[1].id, "license ended before the launch")
    assert blocked.state == "REJECTED" and blocked.state_comment == "license ended before the launch"
    running.context.clock.advance((launch - datetime.now(UTC)).total_seconds() + 60)
    assert hook.set_state("retail", waiting[0].id, "APPROVED", "launch day").state == "APPROVED"


def test_replacing_content_makes_a_new_draft_version_and_review_follows_the_transitions(
    exstream: Callable[..., Any], tmp_path: Path
) -> None:
    hook, running = exstream()
    image = _upload_approved(hook, tmp_path, "retail", "logo.png")
    new = tmp_path / "logo-v2.png"
    new.write_bytes(images.png("logo v2"))
    replaced = hook.replace_content("retail", image.id, new, name="logo.png", content_type="image/png")
    assert replaced.version == image.version + 1 and replaced.state == "DRAFT"
    assert replaced.content is not None
    assert replaced.content.sha256 == hashlib.sha256(new.read_bytes()).hexdigest()
    # a communication in APPROVED reaches REVIEW through DRAFT; asking again changes nothing
    communication = hook.submit_for_review("retail", "comm-retail-welcome", "logo changed")
    assert communication.state == "REVIEW"
    writes = len(running.context.store.history(kind="resource", doc_id="comm-retail-welcome"))
    assert hook.submit_for_review("retail", "comm-retail-welcome", "logo changed").state == "REVIEW"
    assert len(running.context.store.history(kind="resource", doc_id="comm-retail-welcome")) == writes


def test_links_say_which_communications_use_an_image(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    banner = _upload_approved(hook, tmp_path, "retail", "banner.png")
    running.admin(
        "PUT",
        "exstream/links",
        json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [logo.id, banner.id]},
    )
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-statement", "objectIds": [logo.id]}
    )
    users = list(hook.iter_users_of("retail", logo.id, types=[COMMUNICATION], page_size=1))
    assert {u.id for u in users} == {"comm-retail-welcome", "comm-retail-statement"}
    assert [u.id for u in hook.iter_users_of("retail", banner.id, types=[COMMUNICATION])] == ["comm-retail-welcome"]
    assert list(hook.iter_users_of("retail", banner.id, types=[COMMUNICATION], states=["REVIEW"])) == []
    uses = {link.object_id: link.type_id for link in hook.iter_links("retail", "comm-retail-welcome", types=["image"])}
    assert uses == {logo.id: "image", banner.id: "image"}
    (communication_set,) = hook.iter_links("retail", "comm-retail-welcome", types=["exstrcommunicationset"], depth=2)
    assert communication_set.subject_id == "comm-retail-welcome" and communication_set.subject_version == 1


def test_on_demand_generation_renders_a_document_naming_the_approved_resources(
    exstream: Callable[..., Any], tmp_path: Path
) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    source = tmp_path / "draft.png"
    source.write_bytes(images.png("draft"))
    draft = hook.upload_image("retail", source, name="draft.png", content_type="image/png")
    running.admin(
        "PUT",
        "exstream/links",
        json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [logo.id, draft.id]},
    )
    full = hook.generate("retail", "comm-retail-welcome", "CustomerDriver", {"customerNumber": "C-1", "region": "de"})
    assert full.mime_type == "application/pdf" and full.content.startswith(b"%PDF-")
    assert f"({logo.id} version {logo.version})".replace("(", "\\(").replace(")", "\\)").encode() in full.content
    assert full.context.customer_number == "C-1" and full.context.queue_name == "welcome-letters"
    html = hook.generate(
        "retail", "comm-retail-welcome", "CustomerDriver", {"customerNumber": "C-2"}, accept="text/html"
    )
    assert html.mime_type == "text/html"
    assert f'data-resource-id="{logo.id}"'.encode() in html.content
    assert f'data-resource-id="{draft.id}"'.encode() not in html.content  # only APPROVED resources are used
    usage = running.context.store.all("usage")
    assert [(u["resourceId"], u["volume"], u["channel"]) for u in usage] == [(logo.id, 1, "ondemand")] * 2
    # the driver must belong to the communication, and only an APPROVED communication runs
    with pytest.raises(RequestRejectedError) as caught:
        hook.generate("retail", "comm-retail-welcome", "ClaimDriver", {})
    assert json.loads(caught.value.body_excerpt)["data"][0]["statusCode"] == "400"
    hook.submit_for_review("retail", "comm-retail-welcome", "image changed")
    with pytest.raises(ConflictError):
        hook.generate("retail", "comm-retail-welcome", "CustomerDriver", {})


def test_batch_jobs_and_usage_since_a_time_with_paging(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-statement", "objectIds": [logo.id]}
    )
    job = hook.submit_batch("retail", "StatementService", {"communicationId": "comm-retail-statement", "records": 250})
    assert job.job_id and job.id and not job.finished
    done = hook.get_job(job.job_id)
    assert done.state == "COMPLETED" and done.output_count == 250
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for day in range(5):
        running.admin(
            "POST",
            "exstream/production-batch",
            json={
                "domain": "retail",
                "communicationId": "comm-retail-statement",
                "records": 10 + day,
                "at": (start + timedelta(days=day)).isoformat(),
            },
        )
    window = list(
        hook.iter_usage("retail", since=start + timedelta(days=1), until=start + timedelta(days=4), page_size=2)
    )
    assert [u.volume for u in window] == [11, 12, 13]
    assert {u.stream for u in window} == {"statements"} and {u.region for u in window} == {"gb"}
    assert sum(u.volume for u in hook.iter_usage("retail", since=start)) == 250 + sum(range(10, 15))
    failed = hook.submit_batch("retail", "X", {"communicationId": "comm-unknown", "records": 1})
    assert hook.get_job(failed.job_id).state == "FAILED"


def test_malformed_usage_is_handed_over_and_the_rest_arrive(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [logo.id]}
    )
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    for _ in range(3):
        running.admin(
            "POST",
            "exstream/production-batch",
            json={"domain": "retail", "communicationId": "comm-retail-welcome", "records": 5, "at": at.isoformat()},
        )
    running.context.store.put(
        "usage",
        "usage-bad",
        {
            "id": "usage-bad",
            "domain": "retail",
            "resourceId": logo.id,
            "communicationId": "comm-retail-welcome",
            "stream": "welcome-letters",
            "volume": -3,
            "recordedAt": at.isoformat(),
        },
    )
    bad: list[tuple[str, Any]] = []
    good = list(
        hook.iter_usage("retail", since=at, page_size=2, on_invalid=lambda reason, raw: bad.append((reason, raw)))
    )
    assert len(good) == 3 and [raw["id"] for _, raw in bad] == ["usage-bad"]
    assert "volume" in bad[0][0]
    with pytest.raises(MalformedResponseError):  # without a quarantine the caller hears about it
        list(hook.iter_usage("retail", since=at))


def test_production_feedback_is_read_since_a_time(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "insurance", "disclosure.png")
    at = datetime(2026, 11, 24, 9, tzinfo=UTC)
    running.admin(
        "POST",
        "exstream/feedback",
        json={
            "domain": "insurance",
            "resourceId": logo.id,
            "action": "replace",
            "reason": "blurry in print",
            "at": at.isoformat(),
        },
    )
    running.admin(
        "POST",
        "exstream/feedback",
        json={
            "domain": "insurance",
            "resourceId": logo.id,
            "action": "retire",
            "reason": "product withdrawn",
            "at": (at + timedelta(hours=1)).isoformat(),
        },
    )
    items = list(hook.iter_feedback("insurance", since=at, until=at + timedelta(minutes=30)))
    assert [(f.resource_id, f.action, f.reason) for f in items] == [(logo.id, "replace", "blurry in print")]
    assert len(list(hook.iter_feedback("insurance", since=at))) == 2
    assert list(hook.iter_feedback("retail", since=at)) == []


def test_token_expiry_mid_run_and_faults_are_recovered(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream(token_ttl_seconds=600)
    for n in range(4):
        _upload_approved(hook, tmp_path, "retail", f"img{n}.png")
    seen = []
    for resource in hook.iter_resources("retail", types=["image"], page_size=2):
        seen.append(resource.id)
        if len(seen) == 1:
            running.admin("POST", "clock", json={"advance_seconds": 3600})  # the token dies mid-listing
    assert len(seen) == 4
    auth = hook.transport.auth
    assert auth is not None and auth.token_fetches == 2
    running.set_faults(fail_next=[429, 503, 502], retry_after_seconds=0)
    assert len(list(hook.iter_resources("retail", types=["image"]))) == 4
    assert running.context.faults.pending() == []
    statuses = running.admin("GET", "stats")["by_status"]
    assert statuses.get("429") == 1 and statuses.get("401") == 1


def test_json_token_bodies_and_gateway_faults(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> None:
    running = sandbox("exstream")
    conn = exstream_connection(running.url, backoff_initial=0.01, backoff_max=0.05, token_style="json")
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_EXSTREAM_DEFAULT", json.dumps(conn))
    hook = ExstreamHook()
    assert [d.id for d in hook.list_domains()] == ["retail", "insurance"]
    running.admin("POST", "tokens/revoke")  # the gateway refuses the token: one renewal, then on
    assert hook.version("orchestration")["versionString"]
    bad = exstream_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
    bad["password"] = "wrong-secret"
    monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_EXSTREAM_DEFAULT", json.dumps(bad))
    with pytest.raises(AuthenticationError):
        ExstreamHook().list_domains()
    unauthenticated = requests.get(f"{running.url}/design/api/v1/domains", timeout=10)
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["fault"]["faultstring"]


def test_served_malformed_usage_is_quarantined_record_by_record(exstream: Callable[..., Any], tmp_path: Path) -> None:
    hook, running = exstream()
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    running.admin(
        "PUT",
        "exstream/links",
        json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [logo.id]},
    )
    at = datetime(2026, 11, 20, 8, tzinfo=UTC)
    for n in range(12):
        running.admin(
            "POST",
            "exstream/production-batch",
            json={
                "domain": "retail",
                "communicationId": "comm-retail-welcome",
                "records": 1,
                "at": (at + timedelta(minutes=n)).isoformat(),
            },
        )
    running.set_faults(malformed_rate=0.5, seed=3)
    bad: list[Any] = []
    good = list(hook.iter_usage("retail", since=at, page_size=5, on_invalid=lambda _reason, raw: bad.append(raw)))
    assert bad and good and len(good) + len(bad) == 12
    assert {raw["id"] for raw in bad}.isdisjoint({u.id for u in good})


def test_a_batch_job_runs_on_the_sandbox_clock_and_a_rate_limited_generation_is_retried(
    exstream: Callable[..., Any], tmp_path: Path
) -> None:
    hook, running = exstream(options={"batch_seconds": 60})
    logo = _upload_approved(hook, tmp_path, "retail", "logo.png")
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [logo.id]}
    )
    job = hook.submit_batch("retail", "WelcomeService", {"communicationId": "comm-retail-welcome", "records": 3})
    assert hook.get_job(job.job_id).state == "RUNNING"
    assert running.context.store.all("usage") == []  # nothing is used before the batch ran
    running.admin("POST", "clock", json={"advance_seconds": 61})
    running.admin("POST", "tokens/revoke")  # keep the old token from outliving the clock jump unnoticed
    assert hook.get_job(job.job_id).state == "COMPLETED"
    assert [u["volume"] for u in running.context.store.all("usage")] == [3]
    running.set_faults(fail_next=[429], retry_after_seconds=0)  # the service did not act: safe to send again
    document = hook.generate("retail", "comm-retail-welcome", "CustomerDriver", {"customerNumber": "C-9"})
    assert document.content.startswith(b"%PDF-")
    assert len(running.context.store.all("usage")) == 2  # one generation, one usage record
