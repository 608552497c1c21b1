"""OpenText Exstream against OpenText's published contract (``published/exstream/*.json``).

Each ExstreamHook method a pipeline calls runs through the replay server against the published
exchange (what opentext/ocp-communication's collection, SDK and export packages show), and the
sandbox's answer to the same request is held to the same shape. Modelled operations (no public
source) have exchanges too, marked ``modelled``: their envelopes follow the published ones.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from conformance.published import Exchange, ReplayServer, assert_same_shape, load

from contentops.hooks.errors import PartnerServerError
from contentops.hooks.exstream import COMMUNICATION, MAX_PAGE_SIZE, ExstreamHook
from contentops.models.exstream import Domain, Link, Resource
from contentops_sandbox.connections import exstream_connection

IMAGE_ID = "5f0c8d52-6a0e-4b7e-9d51-2b9c6f3e7a10"
COMM_ID = "e0421aa8-c1ce-41d9-a10a-cb830ebd4beb"
PNG = b"\x89PNG\r\n\x1a\nexample"
GATEWAY_FAULT = {
    "fault": {"faultstring": "Bad Gateway", "detail": {"errorcode": "messaging.adaptors.http.flow.BadGateway"}}
}


def exstream(*names: str) -> list[Exchange]:
    return [load("exstream", name) for name in names]


@pytest.fixture
def hook_at(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], ExstreamHook]:
    """An ExstreamHook whose connection points at ``url`` (the replay server or a sandbox)."""

    def make(url: str) -> ExstreamHook:
        conn = exstream_connection(url, backoff_initial=0.01, backoff_max=0.02, max_attempts=3)
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_EXSTREAM_DEFAULT", json.dumps(conn))
        hook = ExstreamHook()
        assert hook.transport.settings.base_url == url  # read now: a later hook_at() moves the variable
        return hook

    return make


@pytest.fixture
def served(sandbox: Callable[..., Any], hook_at: Callable[[str], ExstreamHook]) -> Iterator[tuple[Any, ExstreamHook]]:
    """The Exstream sandbox and a hook on it."""
    running = sandbox("exstream")
    yield running, hook_at(running.url)


def bearer(running: Any) -> dict[str, str]:
    token = running.context.tokens.issue("contentops-demo", with_refresh=False).access_token
    return {"Authorization": f"Bearer {token}"}


def ask(running: Any, exchange: Exchange, *, path: str | None = None, **kwargs: Any) -> requests.Response:
    """The published request, sent to the sandbox (``path`` with the sandbox's own ids)."""
    kwargs.setdefault("params", exchange.query)
    if exchange.request_body is not None and "files" not in kwargs:
        kwargs.setdefault("json", exchange.request_body)
    headers = {**exchange.request_headers, **bearer(running), **kwargs.pop("headers", {})}
    return requests.request(
        exchange.method, running.url + (path or exchange.path), headers=headers, timeout=10, **kwargs
    )


def sandbox_image(running: Any, hook: ExstreamHook, name: str = "banner.png", state: str = "DRAFT") -> Resource:
    image = hook.upload_image("retail", io.BytesIO(PNG), name=name, content_type="image/png")
    for step in {"DRAFT": [], "REVIEW": ["REVIEW"], "APPROVED": ["REVIEW", "APPROVED"]}[state]:
        image = hook.set_state("retail", image.id, step, "ready")
    return image


# -- 1. single-resource writes: data is ONE object, status "success" ---------------------------------
def test_upload_reads_the_one_resource_the_service_answers(replay: Callable[..., ReplayServer], hook_at: Any) -> None:
    server = replay(*exstream("token", "upload"))
    hook = hook_at(server.url)
    resource = hook.upload_image("retail", io.BytesIO(PNG), name="banner.png", content_type="image/png")
    assert (resource.id, resource.state, resource.version) == (IMAGE_ID, "DRAFT", 1)
    (sent,) = server.requests_to("POST", "/design/api/v1/resources/retail/content")
    assert sent.query == {"name": ["banner.png"], "type": ["image"]}
    assert sent.headers["Content-Type"].startswith("multipart/form-data") and b'name="file"' in sent.body
    assert server.unmatched == []


def test_state_changes_and_content_replacement_read_one_resource(
    replay: Callable[..., ReplayServer], hook_at: Any
) -> None:
    server = replay(*exstream("token", "state", "content"))
    hook = hook_at(server.url)
    assert hook.set_state("retail", IMAGE_ID, "REVIEW", "campaign image").state == "REVIEW"
    assert hook.block("retail", IMAGE_ID, "license expired").id == IMAGE_ID  # the same published call
    replaced = hook.replace_content("retail", IMAGE_ID, io.BytesIO(PNG), name="banner.png", content_type="image/png")
    assert replaced.version == 2
    body = server.requests_to("PUT", f"/design/api/v1/resources/retail/{IMAGE_ID}/state")[0].json()
    assert body == {"state": "REVIEW", "auditedComment": "campaign image", "locked": False}
    assert server.unmatched == []


def test_the_sandbox_answers_single_resource_writes_as_published(served: tuple[Any, ExstreamHook]) -> None:
    running, _ = served
    upload, state, content = exstream("upload", "state", "content")
    created = ask(running, upload, files={"file": ("banner.png", PNG, "image/png")})
    assert created.status_code == 201
    assert_same_shape(created.json(), upload)
    resource_id = created.json()["data"]["id"]
    moved = ask(running, state, path=f"/design/api/v1/resources/retail/{resource_id}/state")
    assert moved.status_code == 200
    assert_same_shape(moved.json(), state)
    replaced = ask(
        running,
        content,
        path=f"/design/api/v1/resources/retail/{resource_id}/content",
        files={"file": ("banner.png", PNG + b"2", "image/png")},
    )
    assert replaced.status_code == 200
    assert_same_shape(replaced.json(), content)


def test_an_upload_whose_answer_is_lost_is_not_made_twice(replay: Callable[..., ReplayServer], hook_at: Any) -> None:
    """The gateway fails after DAS wrote: the retry finds the image instead of uploading again."""
    lost = replace(load("exstream", "upload"), status=502, body=GATEWAY_FAULT)
    server = replay(*exstream("token", "resources"), lost)
    hook = hook_at(server.url)
    resource = hook.upload_image(
        "retail", io.BytesIO(PNG), name="banner.png", content_type="image/png", idempotency_key="k-1"
    )
    assert resource.id == IMAGE_ID
    assert len(server.requests_to("POST", "/design/api/v1/resources/retail/content")) == 1
    (listed,) = server.requests_to("GET", "/design/api/v1/resources/retail")
    assert listed.query["filter.types"] == ["image"]


def test_a_resumed_upload_answers_with_what_the_earlier_attempt_created(
    replay: Callable[..., ReplayServer], hook_at: Any
) -> None:
    server = replay(*exstream("token", "resources", "upload"))
    hook = hook_at(server.url)
    resource = hook.upload_image(
        "retail", io.BytesIO(PNG), name="banner.png", content_type="image/png", idempotency_key="k", resume=True
    )
    assert resource.id == IMAGE_ID and server.requests_to("POST", "/design/api/v1/resources/retail/content") == []


def test_without_a_key_a_failed_upload_is_neither_retried_nor_looked_up(
    replay: Callable[..., ReplayServer], hook_at: Any
) -> None:
    lost = replace(load("exstream", "upload"), status=502, body=GATEWAY_FAULT)
    server = replay(*exstream("token", "resources"), lost)
    with pytest.raises(PartnerServerError):
        hook_at(server.url).upload_image("retail", io.BytesIO(PNG), name="banner.png", content_type="image/png")
    assert len(server.requests_to("POST", "/design/api/v1/resources/retail/content")) == 1
    assert server.requests_to("GET", "/design/api/v1/resources/retail") == []


# -- 5. links and 6. domains ------------------------------------------------------------------------
def test_links_are_das_links(replay: Callable[..., ReplayServer], hook_at: Any) -> None:
    server = replay(*exstream("token", "links"))
    (link,) = hook_at(server.url).iter_links("retail", COMM_ID, types=["exstrcommunicationset"], depth=2)
    assert link == Link(
        linkSubjectId=COMM_ID,
        subjectVersion=5,
        linkObjectId="619bd602-05de-4c30-829b-7ed074263dff",
        typeId="exstrcommunicationset",
    )
    (sent,) = server.received[1:]
    assert sent.query["filter.types"] == ["exstrcommunicationset"] and sent.query["linkDepth"] == ["2"]


def test_the_sandbox_answers_links_as_published(served: tuple[Any, ExstreamHook]) -> None:
    running, hook = served
    image = sandbox_image(running, hook, state="APPROVED")
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [image.id]}
    )
    (links,) = exstream("links")
    answer = ask(running, links, params={"linkSubjectId": "comm-retail-welcome", "linkDepth": 2})
    assert_same_shape(answer.json(), links)
    assert {(item["linkObjectId"], item["typeId"]) for item in answer.json()["data"]} >= {
        (image.id, "image"),
        ("cs-comm-retail-welcome", "exstrcommunicationset"),
    }


def test_domain_workflow_is_a_string(replay: Callable[..., ReplayServer], hook_at: Any, served: Any) -> None:
    server = replay(*exstream("token", "domains"))
    (domain,) = hook_at(server.url).list_domains()
    assert domain == Domain(id="retail", production=True, jobTracing=False, workflow="default", restrictApproval=False)
    running, _ = served
    (published,) = exstream("domains")
    assert_same_shape(ask(running, published).json(), published)


# -- every method the pipelines call, and the connection test ----------------------------------------
def test_the_connection_test_calls_the_published_version_endpoint(
    replay: Callable[..., ReplayServer], hook_at: Any, served: Any
) -> None:
    server = replay(*exstream("token", "version"))
    ok, message = hook_at(server.url).test_connection()
    assert ok, message
    assert [r.path for r in server.received] == ["/tenants/demo/oauth2/token", "/design/api/v1/version"]
    running, _ = served
    (version,) = exstream("version")
    assert_same_shape(ask(running, version).json(), version)


def test_get_resource_and_submit_for_review(replay: Callable[..., ReplayServer], hook_at: Any, served: Any) -> None:
    """``get_resource`` (modelled path) answers like the single-resource writes; ``submit_for_review``
    reads it, then moves the resource by the published transitions."""
    server = replay(*exstream("token", "resource", "state"))
    hook = hook_at(server.url)
    assert hook.get_resource("retail", IMAGE_ID).state == "APPROVED"
    assert hook.submit_for_review("retail", IMAGE_ID, "image changed").state == "REVIEW"
    states = [r.json()["state"] for r in server.requests_to("PUT", f"/design/api/v1/resources/retail/{IMAGE_ID}/state")]
    assert states == ["DRAFT", "REVIEW"]  # APPROVED goes to REVIEW through DRAFT
    running, sandbox_hook = served
    image = sandbox_image(running, sandbox_hook, state="APPROVED")
    (resource,) = exstream("resource")
    assert_same_shape(ask(running, resource, path=f"/design/api/v1/resources/retail/{image.id}").json(), resource)


def test_put_rights_metadata(replay: Callable[..., ReplayServer], hook_at: Any, served: Any) -> None:
    server = replay(*exstream("token", "metadata"))
    written = {"source_asset": "asset-spring-08", "valid_until": "2027-01-31"}
    assert hook_at(server.url).put_rights_metadata("retail", IMAGE_ID, written) == written
    running, hook = served
    image = sandbox_image(running, hook)
    (metadata,) = exstream("metadata")
    answer = ask(running, metadata, path=f"/design/api/v1/resources/retail/{image.id}/metadata")
    assert_same_shape(answer.json(), metadata)


def test_iter_users_of_follows_links_up_to_the_communications(
    replay: Callable[..., ReplayServer], hook_at: Any, served: Any
) -> None:
    server = replay(*exstream("token", "linked_resources"))
    (user,) = hook_at(server.url).iter_users_of("retail", IMAGE_ID, types=[COMMUNICATION], states=["APPROVED"])
    assert (user.id, user.type) == (COMM_ID, COMMUNICATION)
    (sent,) = server.received[1:]
    # as OpenText's collection asks: deep links, comma-joined filters, pages of 1000
    assert sent.query["linkDepth"] == ["10"] and sent.query["count"] == ["1000"]
    assert sent.query["rfilter.types"] == [COMMUNICATION] and sent.query["rfilter.states"] == ["APPROVED"]
    running, hook = served
    image = sandbox_image(running, hook, state="APPROVED")
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [image.id]}
    )
    (published,) = exstream("linked_resources")
    collection_request = {  # the collection's request, verbatim but for the ids
        "linkObjectId": image.id,
        "linkDepth": 10,
        "rfilter.types": "exstrapplication",
        "rfilter.states": "APPROVED",
        "offset": 0,
        "count": 1000,
        "fetchApproval": "false",
    }
    answer = ask(running, published, params=collection_request)
    assert answer.status_code == 200, answer.text
    assert_same_shape(answer.json(), published)
    assert [r["id"] for r in answer.json()["data"]] == ["comm-retail-welcome"]


def test_usage_and_feedback_read_through_the_published_envelope(
    replay: Callable[..., ReplayServer], hook_at: Any, served: Any
) -> None:
    server = replay(*exstream("token", "usage", "feedback"))
    hook = hook_at(server.url)
    since = datetime(2026, 11, 20, tzinfo=UTC)
    (record,) = hook.iter_usage("retail", since=since, until=since + timedelta(days=1))
    assert (record.resource_id, record.volume) == (IMAGE_ID, 250)
    (item,) = hook.iter_feedback("retail", since=since)
    assert (item.resource_id, item.action) == (IMAGE_ID, "replace")
    running, sandbox_hook = served
    image = sandbox_image(running, sandbox_hook, state="APPROVED")
    running.admin(
        "PUT",
        "exstream/links",
        json={"domain": "retail", "subjectId": "comm-retail-statement", "objectIds": [image.id]},
    )
    at = since.isoformat()
    running.admin(
        "POST",
        "exstream/production-batch",
        json={"domain": "retail", "communicationId": "comm-retail-statement", "at": at},
    )
    running.admin(
        "POST",
        "exstream/feedback",
        json={"domain": "retail", "resourceId": image.id, "action": "replace", "reason": "blurry", "at": at},
    )
    usage, feedback = exstream("usage", "feedback")
    assert_same_shape(ask(running, usage, params={"filter.since": at}).json(), usage)
    assert_same_shape(ask(running, feedback, params={"filter.since": at}).json(), feedback)


# -- list limits, envelopes, errors --------------------------------------------------------------------
def test_the_sandbox_serves_the_collections_list_requests_and_refuses_bigger_pages(
    served: tuple[Any, ExstreamHook],
) -> None:
    running, _ = served
    (resources,) = exstream("resources")
    collection = {"filter.types": "exstrapplication", "filter.states": "APPROVED", "filter.latestVersion": "true"}
    answer = ask(running, resources, params={**collection, "count": 100, "offset": 0})
    assert answer.status_code == 200 and len(answer.json()["data"]) == 2  # the retail communications
    assert_same_shape(answer.json(), resources)
    several = ask(running, resources, params={"filter.types": "exstrapplication,exstrcommunicationset"})
    assert {r["type"] for r in several.json()["data"]} == {"exstrapplication", "exstrcommunicationset"}
    assert ask(running, resources, params={"count": 1000}).status_code == 200
    for count in (0, 1001):
        refused = ask(running, resources, params={"count": count})
        assert refused.status_code == 400
        assert refused.json()["status"] == 400 and "count" in refused.json()["message"]


def test_the_hook_never_asks_a_bigger_page_than_the_collection_does(
    replay: Callable[..., ReplayServer], hook_at: Any
) -> None:
    server = replay(*exstream("token", "resources"))
    assert [r.id for r in hook_at(server.url).iter_resources("retail", types=["image"], page_size=5000)] == [IMAGE_ID]
    (sent,) = server.received[1:]
    assert sent.query["count"] == [str(MAX_PAGE_SIZE)]


def test_the_sandbox_answers_generation_and_its_errors_as_published(served: tuple[Any, ExstreamHook]) -> None:
    running, _ = served
    generate, error = exstream("generate", "generate_error")
    headers = {"communicationId": "comm-retail-welcome", "driverDataSource": "CustomerDriver"}
    done = ask(running, generate, path="/orchestration/api/v1/inputs/ondemand/retail/generate", headers=headers)
    assert done.status_code == 200
    assert_same_shape(done.json(), generate)
    failed = ask(
        running,
        error,
        path="/orchestration/api/v1/inputs/ondemand/retail/generate",
        headers={"communicationId": "comm-retail-welcome"},
    )
    assert failed.status_code == 400
    assert_same_shape(failed.json(), error)


# -- import and manifest: the collection's first steps, served by the sandbox -------------------------
def export_package(*, version: int = 1, image_name: str = "logo.png") -> bytes:
    """A small package laid out as OpenText's export packages are: a communication, its set and data
    source, a document that shows an image."""
    resources = [
        ("exstrapplication", "a0000000-0000-4000-8000-000000000001", "Welcome pack", {}),
        ("exstrcommunicationset", "a0000000-0000-4000-8000-000000000002", "Welcome set", {}),
        ("exstrdatasource", "a0000000-0000-4000-8000-000000000003", "Welcome JSON Driver", {}),
        ("exstrdocument", "a0000000-0000-4000-8000-000000000004", "Welcome document", {}),
        ("image", "a0000000-0000-4000-8000-000000000005", image_name, None),
    ]
    links = [(1, 2), (1, 4), (2, 3), (4, 5)]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for kind, rid, name, metadata in resources:
            record = {
                "createdBy": "tenantadmin@exstream.role",
                "createdDate": 1664909622525,
                "id": rid,
                "lastModifiedBy": "tenantadmin@exstream.role",
                "lastModifiedDate": 1664909636822,
                "locked": False,
                "name": name,
                "state": "APPROVED",
                "stateComment": "",
                "type": kind,
                "version": version,
                **({"metadata": metadata} if metadata is not None else {}),
            }
            archive.writestr(f"resources/{kind}-{rid}-{version}.json", json.dumps(record))
            content = json.dumps({"m_strFileSpec": "WelcomeDriver"}) if kind == "exstrdatasource" else f"{name}"
            archive.writestr(f"content/{kind}-{rid}-{version}-CONTENT.bin", content)
        archive.writestr(
            "links/links.json",
            json.dumps(
                [
                    {
                        "linkSubjectId": resources[s - 1][1],
                        "subjectVersion": version,
                        "linkObjectId": resources[o - 1][1],
                    }
                    for s, o in links
                ]
            ),
        )
        archive.writestr("metadata.json", json.dumps({"exportOptions": "Versions:LATEST_APPROVED"}))
    return buffer.getvalue()


def test_the_sandbox_imports_a_package_and_serves_the_collections_flow(served: tuple[Any, ExstreamHook]) -> None:
    running, hook = served
    imported, conflict, manifest, links = exstream("import", "import_conflict", "manifest", "links")
    dry = ask(running, imported, params={"commit": "false"}, files={"exportPackage": ("p.zip", export_package())})
    assert dry.status_code == 200 and len(dry.json()["data"]["importedResources"]) == 5
    assert running.context.store.get("resource", "a0000000-0000-4000-8000-000000000001") is None  # a dry run
    answer = ask(running, imported, files={"exportPackage": ("p.zip", export_package())})
    assert answer.status_code == 200
    assert_same_shape(answer.json(), imported)
    comm, communication_set = "a0000000-0000-4000-8000-000000000001", "a0000000-0000-4000-8000-000000000002"
    # the collection: the communication's set (links, depth 2), its manifest, the driver name
    found = ask(
        running,
        links,
        params={"linkSubjectId": comm, "linkDepth": 2, "filter.types": "exstrcommunicationset"},
    ).json()
    assert [item["linkObjectId"] for item in found["data"]] == [communication_set]
    served_manifest = ask(
        running, manifest, path=f"/design/api/v1/manifests/retail/communication-set/{communication_set}"
    )
    assert_same_shape(served_manifest.json(), manifest)
    assert [d["prodDsn"] for d in served_manifest.json()["dsnlist"]] == ["WelcomeDriver"]
    document = hook.generate("retail", comm, "WelcomeDriver", {"customerNumber": "C-1"}, accept="text/html")
    assert b'data-resource-id="a0000000-0000-4000-8000-000000000005"' in document.content  # via the document
    # the same package again: existing; a newer one under ERROR: 409 309016 and nothing written
    again = ask(running, imported, files={"exportPackage": ("p.zip", export_package())}).json()["data"]
    assert len(again["existingResources"]) == 5 and again["importedResources"] == []
    newer = export_package(version=2, image_name="logo-v2.png")
    refused = ask(running, conflict, files={"exportPackage": ("p.zip", newer)})
    assert refused.status_code == 409
    assert_same_shape(refused.json(), conflict)
    assert running.context.store.get("resource", "a0000000-0000-4000-8000-000000000005")["name"] == "logo.png"
    settings = json.dumps({"policies": {"generalPolicy": "SKIP"}}).encode()
    skipped = ask(
        running,
        imported,
        files={"exportPackage": ("p.zip", newer), "conflictSettings": ("conflictSettings.json", settings)},
    ).json()["data"]
    assert {c["performedAction"] for c in skipped["conflictedResources"]} == {"SKIP"}
    settings = json.dumps({"policies": {"generalPolicy": "REPLACE"}}).encode()
    ask(running, imported, files={"exportPackage": ("p.zip", newer), "conflictSettings": ("c.json", settings)})
    image = running.context.store.get("resource", "a0000000-0000-4000-8000-000000000005")
    assert (image["name"], image["version"]) == ("logo-v2.png", 2)


# -- languages and locales (the localized versions of EXS-6) --------------------------------------------
LANGUAGE_ID, LOCALE_ID = "a5fca589-01ec-41bc-9af5-a82454eedf4b", "cda3c689-9c6d-4a5a-945b-d4768b090f54"
ESTIMATE_SET_ID = "c9f0104b-036e-414e-9d3f-2ec0a5ed3ae6"


def test_language_and_locale_resources_read_as_published(
    replay: Callable[..., ReplayServer], hook_at: Any, served: tuple[Any, ExstreamHook]
) -> None:
    server = replay(*exstream("token", "languages"))
    found = list(hook_at(server.url).iter_resources("retail", types=["exstrlanguage", "exstrlocale"]))
    assert [(r.id, r.type, r.name, r.metadata) for r in found] == [
        (LANGUAGE_ID, "exstrlanguage", "English", {}),
        (LOCALE_ID, "exstrlocale", "en_US", {}),
    ]
    assert server.unmatched == []
    running, _ = served
    (languages,) = exstream("languages")
    answer = ask(running, languages)
    assert answer.status_code == 200
    assert_same_shape(answer.json(), languages)
    names = {(r["type"], r["name"]) for r in answer.json()["data"]}
    assert {("exstrlanguage", "English"), ("exstrlocale", "en_US")} <= names  # the names OpenText's package uses
    assert all(r["state"] == "APPROVED" for r in answer.json()["data"])


def test_a_communication_sets_locales_link_to_their_languages_as_published(
    replay: Callable[..., ReplayServer], hook_at: Any, served: tuple[Any, ExstreamHook]
) -> None:
    server = replay(*exstream("token", "locale_links"))
    links = list(
        hook_at(server.url).iter_links("retail", ESTIMATE_SET_ID, types=["exstrlocale", "exstrlanguage"], depth=2)
    )
    assert [(link.subject_id, link.object_id, link.type_id) for link in links] == [
        (ESTIMATE_SET_ID, LOCALE_ID, "exstrlocale"),
        (LOCALE_ID, LANGUAGE_ID, "exstrlanguage"),
    ]
    running, _ = served
    (published,) = exstream("locale_links")
    answer = ask(
        running,
        published,
        params={"linkSubjectId": "cs-comm-retail-welcome", "linkDepth": 2, "filter.types": "exstrlocale,exstrlanguage"},
    )
    assert answer.status_code == 200
    assert_same_shape(answer.json(), published)
    data = answer.json()["data"]
    locales = {item["linkObjectId"] for item in data if item["typeId"] == "exstrlocale"}
    assert {item["linkSubjectId"] for item in data if item["typeId"] == "exstrlocale"} == {"cs-comm-retail-welcome"}
    assert {item["linkSubjectId"] for item in data if item["typeId"] == "exstrlanguage"} == locales  # locale → language


def test_the_sandbox_generates_a_localized_version_per_locale_and_refuses_one_it_lacks(
    served: tuple[Any, ExstreamHook],
) -> None:
    """Modelled (no public source shows how a localized version picks its images): the driver's
    ``locale`` selects the communication set's locale; each image shows the APPROVED image whose
    metadata names it as master and the locale's language. The error is the published shape."""
    running, hook = served
    master = sandbox_image(running, hook, name="master.png", state="APPROVED")
    hook.put_rights_metadata("retail", master.id, {"source_asset": "asset-1"})
    german = sandbox_image(running, hook, name="german.png", state="APPROVED")
    hook.put_rights_metadata(
        "retail", german.id, {"source_asset": "asset-1-de", "master_asset": "asset-1", "language": "de"}
    )
    running.admin(
        "PUT", "exstream/links", json={"domain": "retail", "subjectId": "comm-retail-welcome", "objectIds": [master.id]}
    )

    def shown(driver: dict[str, Any]) -> bytes:
        return hook.generate("retail", "comm-retail-welcome", "CustomerDriver", driver, accept="text/html").content

    assert f'data-resource-id="{german.id}"'.encode() in shown({"locale": "de_DE"})
    assert f'data-resource-id="{german.id}"'.encode() in shown({"language": "de"})
    assert f'data-resource-id="{master.id}"'.encode() in shown({"locale": "en_US"})
    assert f'data-resource-id="{master.id}"'.encode() in shown({})
    (error,) = exstream("generate_error")
    refused = ask(
        running,
        error,
        path="/orchestration/api/v1/inputs/ondemand/retail/generate",
        headers={"communicationId": "comm-retail-welcome", "driverDataSource": "CustomerDriver"},
        json={"locale": "ja_JP"},
    )
    assert refused.status_code == 400
    assert_same_shape(refused.json(), error)
