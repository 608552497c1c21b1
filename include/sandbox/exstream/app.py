"""The OpenText Exstream sandbox: the Design and Asset Service (DAS) resources contentops manages.

Judged by the published exchanges under ``tests/conformance/published/exstream/`` (each names its
public source: opentext/ocp-communication's Postman collection, its Communications SDK and the
export packages it ships); ``docs/systems/exstream.md`` has the table of facts.

Sourced: the OCP token; ``GET /design/api/v1/version`` (``{apiIdentifier, major, minor, patch,
versionString}``, the numbers as strings); every DAS answer ``{"status": "success", "details",
"data"}`` — ``data`` ONE resource for a single-resource write (upload ``POST
/resources/{domain}/content?name=&type=[&subtype=]`` answering 201, state change ``PUT
/resources/{domain}/{id}/state`` with ``auditedComment`` and the transitions DRAFT→REVIEW,
REVIEW→APPROVED, APPROVED→DRAFT (a new version), REVIEW→REJECTED, content replacement ``PUT
/resources/{domain}/{id}/content``), a list plus ``page`` ``{pageSize, pageOffset, totalElements,
totalPages, currentPageNumber}`` for lists; resources listed with ``filter.types`` /
``filter.states`` (comma-separated, as the SDK sends them) / ``filter.latestVersion`` and
``offset`` / ``count``; domains (``DasDomain``: ``workflow`` a string); links (``DasLink``:
``linkSubjectId``, ``subjectVersion``, ``linkObjectId``, ``typeId``) at ``GET /links/{domain}?
linkSubjectId=&linkDepth=&filter.types=`` and the resources that use one at ``GET
/links/{domain}/resources?linkObjectId=&linkDepth=&rfilter.types=&rfilter.states=``; the
communication-set manifest ``GET /manifests/{domain}/communication-set/{id}`` (``{dsnlist:
[{name, prodDsn, resourceId, type}], queueList: [{driver, name, prodFile, use}]}``, not enveloped);
package import ``POST /import/das/{domain}?commit=`` (multipart ``exportPackage`` zip laid out
as OpenText's export packages are — ``resources/``, ``content/``, ``links/links.json`` — and an
optional ``conflictSettings`` part with ``policies.generalPolicy`` ERROR | REPLACE | SKIP |
AUTO_RENAME) answering the ``ImportResponse`` in ``data``, or 409 with ``errorCode`` 309016 for
a conflict under ERROR; resource dates as epoch milliseconds (as in the export packages);
on-demand generation ``POST /orchestration/api/v1/inputs/ondemand/{domain}/generate`` with the
``communicationId`` and ``driverDataSource`` headers (the JSON "full response" with ``status``
``"success"`` and a list in ``data``, or the raw document for ``Accept: application/pdf`` /
``text/html``; orchestration errors ``{"status": "error", "details", "data": [{"errorMessage",
"statusCode" (a string), "engineOutputContext"}]}``); ``GET /orchestration/api/v1/version``; the
service errors' Spring shape (``ExstreamErrorResponse``: ``timestamp``, ``status``, ``message``,
``error``, ``details``, ``errorCode`` a number or null, ``path``); gateway faults as on every OCP
service.

Modelled (every path in :data:`PATHS`; values the public material does not show): the largest
``count`` served (1000, the highest OpenText's collection asks for; more, or less than 1, answers
400) and the default (100, the SDK's own); the values of a domain's ``workflow`` and of a
manifest entry's ``type`` / ``use`` / ``prodFile``; batch submission's answer (``data[0].jobId``,
from a third party's client) and batch job status ``GET /orchestration/api/v1/jobs/{jobId}``;
resource metadata (rights expiry, regions, segments, source asset) read and replaced at
``/resources/{domain}/{id}/metadata``; one resource ``GET /resources/{domain}/{id}`` (answered like
the single-resource writes); the content digest a resource carries (``content.sha256``); usage
data ``GET /orchestration/api/v1/usage/{domain}?filter.since=&filter.until=``; production feedback
``GET /design/api/v1/feedback/{domain}?filter.since=``; an embargo: an image whose metadata names
a ``valid_from`` after the sandbox clock cannot be moved to APPROVED (409 ``ResourceEmbargoed``), so
no communication uses it before. DAS publishes no idempotency key, and the
sandbox honours none: an upload sent twice makes two resources, as the product would.

Generation really renders: a one-page PDF (or HTML) that names the communication and every
APPROVED image it uses (following its links down: communication → document → page → image;
images in another state are left out), and each image used leaves a usage record. A
communication that is not APPROVED is not generated. Each seeded communication has its
communication set (linked from the communication, as in OpenText's sample package), whose
manifest names the driver to send as ``driverDataSource``.

Operator side (``/_sandbox/exstream/…``): ``PUT links`` (what a communication uses),
``POST production-batch`` (run a production batch now or "at" a past time, leaving usage),
``POST feedback`` (production flags a resource for replacement or retirement).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import time
import uuid
import zipfile
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from contentops_sandbox.core import SandboxConfig, SandboxContext, SandboxError, create_sandbox_app
from contentops_sandbox.opentext_common import add_ocp_token_routes, ocp_error_body

BASE = "/design/api/v1"
ORCHESTRATION = "/orchestration/api/v1"
PATHS = {
    "version": f"{BASE}/version",
    "resources": f"{BASE}/resources/{{domain}}",
    "upload": f"{BASE}/resources/{{domain}}/content",
    "resource": f"{BASE}/resources/{{domain}}/{{resource_id}}",
    "state": f"{BASE}/resources/{{domain}}/{{resource_id}}/state",
    "metadata": f"{BASE}/resources/{{domain}}/{{resource_id}}/metadata",
    "domains": f"{BASE}/domains",
    "content": f"{BASE}/resources/{{domain}}/{{resource_id}}/content",
    "links": f"{BASE}/links/{{domain}}",
    "linked_resources": f"{BASE}/links/{{domain}}/resources",
    "feedback": f"{BASE}/feedback/{{domain}}",
    "manifest": f"{BASE}/manifests/{{domain}}/communication-set/{{communication_set_id}}",
    "import": f"{BASE}/import/{{package_type}}/{{domain}}",
    "orchestration_version": f"{ORCHESTRATION}/version",
    "generate": f"{ORCHESTRATION}/inputs/ondemand/{{domain}}/generate",
    "batch": f"{ORCHESTRATION}/inputs/batch/{{domain}}/{{service}}",
    "job": f"{ORCHESTRATION}/jobs/{{job_id}}",
    "usage": f"{ORCHESTRATION}/usage/{{domain}}",
}
DOMAINS = ("retail", "insurance")
TRANSITIONS = {("DRAFT", "REVIEW"), ("REVIEW", "APPROVED"), ("APPROVED", "DRAFT"), ("REVIEW", "REJECTED")}


def _embargoed_until(resource: dict[str, Any], now: datetime) -> str | None:
    """The ``valid_from`` of a resource's rights metadata while it lies after ``now`` (modelled), else None."""
    valid_from = (resource.get("metadata") or {}).get("valid_from")
    if not valid_from:
        return None
    try:
        moment = datetime.fromisoformat(str(valid_from).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return str(valid_from) if now < moment else None


COMMUNICATION = "exstrapplication"
COMMUNICATION_SET = "exstrcommunicationset"
DATA_SOURCE = "exstrdatasource"
OUTPUT_QUEUE = "exstroutputqueue"
IMAGE = "image"
LANGUAGE = "exstrlanguage"
LOCALE = "exstrlocale"
#: The locales every communication set of a domain is localized into: (locale name, language name,
#: language tag). Names and their link shape as OpenText's Claim Estimate Letter package shows them
#: (``exstrlocale`` "en_US" links to ``exstrlanguage`` "English", whose content names "en-US"; the
#: communication set links to its locales); the German and French ones are ours.
LOCALES = (("en_US", "English", "en-US"), ("de_DE", "German", "de-DE"), ("fr_FR", "French", "fr-FR"))
#: The metadata keys a localized version selects images by (*modelled*: contentops' default keys,
#: ``include/config/mappings/exstream_resources.yaml``).
LOCALIZED_KEYS = {"source": "source_asset", "master": "master_asset", "language": "language", "region": "region"}
#: The largest ``count`` a DAS list serves (modelled: the highest OpenText's collection sends) and
#: the default when none is given (the SDK's PageInfo default).
MAX_COUNT = 1000
DEFAULT_COUNT = 100
#: A domain's ``workflow`` (a string in the SDK's DasDomain; the values are not published).
DOMAIN_WORKFLOW = "default"
IMPORT_POLICIES = ("ERROR", "REPLACE", "SKIP", "AUTO_RENAME")
#: The errorCode DAS answers a 409 import conflict under the ERROR policy with (OpenText's SDK).
IMPORT_CONFLICT_CODE = 309016
#: Export packages the sandbox unpacks at most (entries, bytes uncompressed).
IMPORT_MAX_ENTRIES = 5000
IMPORT_MAX_BYTES = 200 * 1024 * 1024
#: The seeded communications: id -> (domain, name, driver data source, stream, region).
COMMUNICATIONS: dict[str, tuple[str, str, str, str, str]] = {
    "comm-retail-welcome": ("retail", "Welcome letter", "CustomerDriver", "welcome-letters", "de"),
    "comm-retail-statement": ("retail", "Monthly statement", "StatementDriver", "statements", "gb"),
    "comm-insurance-claim": ("insurance", "Claim acknowledgement", "ClaimDriver", "claims", "us"),
}
FEEDBACK_ACTIONS = ("replace", "retire")


class StateBody(BaseModel):
    state: str
    auditedComment: str | None = None
    locked: bool = False


class LinksBody(BaseModel):
    domain: str
    subjectId: str
    objectIds: list[str] = Field(default_factory=list)


class ProductionBatchBody(BaseModel):
    domain: str
    communicationId: str
    records: int = Field(1, ge=1, le=10_000_000)
    region: str | None = None
    at: datetime | None = Field(None, description="When the batch ran (default: the sandbox clock's now).")
    service: str = "ProductionService"


class FeedbackBody(BaseModel):
    domain: str
    resourceId: str
    action: str
    reason: str = Field(min_length=1)
    createdBy: str = "production-operator"
    at: datetime | None = None


def _ms(moment: datetime) -> int:
    """A DAS date: epoch milliseconds, as the resources in OpenText's export packages carry them."""
    return int(moment.timestamp() * 1000)


def _resource(
    resource_id: str,
    *,
    domain: str,
    name: str,
    type: str,
    state: str,
    by: str,
    at: int,
    version: int = 1,
    metadata: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """A resource as DAS lists it (``DasResourceVersion`` fields), plus the sandbox's ``domain``."""
    return {
        "id": resource_id,
        "version": version,
        "name": name,
        "type": type,
        "state": state,
        "stateComment": "",
        "description": description,
        "domain": domain,
        "createdBy": by,
        "createdDate": at,
        "lastModifiedBy": by,
        "lastModifiedDate": at,
        "metadata": metadata if metadata is not None else {"subtype": None},
        "locked": False,
    }


def _link_id(domain: str, subject_id: str, object_id: str) -> str:
    return f"{domain}:{subject_id}:{object_id}"


def _seed(context: SandboxContext) -> None:
    context.store.put_many(
        "domain",
        [
            (
                d,
                {
                    "id": d,
                    "production": True,
                    "jobTracing": True,
                    "workflow": DOMAIN_WORKFLOW,
                    "restrictApproval": False,
                    "parent": None,
                },
            )
            for d in DOMAINS
        ],
    )
    now = _ms(context.clock.now())
    resources: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    for domain in DOMAINS:
        resources.append(
            _resource(
                f"oq-{domain}-pdf",
                domain=domain,
                name="PDF Queue",
                type=OUTPUT_QUEUE,
                state="APPROVED",
                by="designer",
                at=now,
                metadata={"subtype": None, "driver": "PDF"},
                description="PDF Queue",
            )
        )
        for locale, language, tag in LOCALES:
            language_id, locale_id = f"lang-{domain}-{tag[:2]}", f"loc-{domain}-{locale}"
            resources.append(
                {
                    **_resource(
                        language_id,
                        domain=domain,
                        name=language,
                        type=LANGUAGE,
                        state="APPROVED",
                        by="designer",
                        at=now,
                    ),
                    "metadata": None,  # as the package's language resources: no metadata
                    "_languageTag": tag,  # the content's m_strAccessibilityLanguage
                }
            )
            resources.append(
                {
                    **_resource(
                        locale_id, domain=domain, name=locale, type=LOCALE, state="APPROVED", by="designer", at=now
                    ),
                    "metadata": None,
                }
            )
            links.append({"domain": domain, "subjectId": locale_id, "objectId": language_id, "linkType": "uses"})
    for comm_id, (domain, name, driver, stream, region) in COMMUNICATIONS.items():
        for locale, _, _ in LOCALES:  # the communication set is localized into the domain's locales
            links.append(
                {
                    "domain": domain,
                    "subjectId": f"cs-{comm_id}",
                    "objectId": f"loc-{domain}-{locale}",
                    "linkType": "uses",
                }
            )
        resources.append(
            _resource(
                comm_id,
                domain=domain,
                name=name,
                type=COMMUNICATION,
                state="APPROVED",
                by="designer",
                at=now,
                metadata={"subtype": None, "driverDataSource": driver, "stream": stream, "region": region},
            )
        )
        # the communication set (what the communication is built from: its data source and queue)
        resources.append(
            _resource(
                f"cs-{comm_id}",
                domain=domain,
                name=f"{name} set",
                type=COMMUNICATION_SET,
                state="APPROVED",
                by="designer",
                at=now,
            )
        )
        resources.append(
            _resource(
                f"ds-{comm_id}",
                domain=domain,
                name=f"{name} driver",
                type=DATA_SOURCE,
                state="APPROVED",
                by="designer",
                at=now,
                metadata={"subtype": None, "prodDsn": driver},
            )
        )
        for subject, target in (
            (comm_id, f"cs-{comm_id}"),
            (f"cs-{comm_id}", f"ds-{comm_id}"),
            (f"cs-{comm_id}", f"oq-{domain}-pdf"),
        ):
            links.append({"domain": domain, "subjectId": subject, "objectId": target, "linkType": "uses"})
    context.store.put_many("resource", [(r["id"], r) for r in resources])
    context.store.put_many(
        "link", [(_link_id(link["domain"], link["subjectId"], link["objectId"]), link) for link in links]
    )


#: Exstream's numeric error codes the public material shows (the others answer ``errorCode: null``).
ERROR_CODES = {"ImportConflict": IMPORT_CONFLICT_CODE}


def exstream_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Gateway faults (401/403/429/5xx) as on every OCP service; the services' own errors in
    Exstream's Spring shape (``ExstreamErrorResponse`` in OpenText's SDK: ``errorCode`` is a
    number). The sandbox's own name for the error leads ``details``."""
    if status in (401, 403, 429) or status >= 500:
        return ocp_error_body(status, code, message)
    return {
        "timestamp": int(time.time() * 1000),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "details": f"{code}: {message}",
        "errorCode": ERROR_CODES.get(code),
        "path": None,
    }


def _aware(moment: datetime | None) -> datetime | None:
    """Naive times are UTC (what the clients send is compared with the sandbox clock's aware now)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _orchestration_error(status: int, message: str, **context: Any) -> SandboxError:
    """The orchestration service's error shape (``OrchestrationErrorResonse`` in OpenText's SDK:
    ``status`` "error", ``statusCode`` a string)."""
    return SandboxError(
        status,
        {
            "status": "error",
            "details": message,
            "data": [
                {
                    "errorMessage": message,
                    "statusCode": str(status),
                    "engineOutputContext": {"queueName": None, "fileName": None, "customerNumber": None, **context},
                }
            ],
        },
    )


def _pdf_text(text: str) -> str:
    return (
        text.replace("\\", "\\\\")
        .replace("(", "\\(")
        .replace(")", "\\)")
        .encode("latin-1", "replace")
        .decode("latin-1")
    )


def render_pdf(title: str, lines: list[str]) -> bytes:
    """A valid one-page PDF (Helvetica) with a title and lines of text."""
    ops = ["BT", "/F1 16 Tf", "50 790 Td", f"({_pdf_text(title)}) Tj", "/F1 11 Tf"]
    for line in lines:
        ops += ["0 -18 Td", f"({_pdf_text(line)}) Tj"]
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def render_html(title: str, lines: list[str], used: list[dict[str, Any]], language: str | None = None) -> bytes:
    """The same document as HTML; each image used is an element naming its resource id and version
    (and, in a localized version, the language it was chosen for)."""
    from html import escape

    items = "".join(
        f'<li data-resource-id="{escape(r["id"])}" data-version="{r["version"]}">{escape(r["name"])}</li>' for r in used
    )
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    lang = f' lang="{escape(language)}"' if language else ""
    return (
        f'<!doctype html><html{lang}><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f'<body><h1>{escape(title)}</h1>{paragraphs}<ul class="resources">{items}</ul></body></html>'
    ).encode()


def _single(resource: dict[str, Any]) -> dict[str, Any]:
    """A single-resource answer (``ExstreamDataResponse<DasResourceVersion>``: ``data`` is ONE object)."""
    return {"status": "success", "details": None, "data": resource}


def _envelope(data: list[dict[str, Any]], offset: int, count: int, total: int) -> dict[str, Any]:
    """A list answer (``ExstreamPageResponse``): the items and the ``page`` (``SimplePage``)."""
    return {
        "status": "success",
        "details": None,
        "data": data,
        "page": {
            "pageSize": count,
            "pageOffset": offset,
            "totalElements": total,
            "totalPages": -(-total // count) if count else 0,
            "currentPageNumber": offset // count if count else 0,
        },
    }


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app(
        "exstream", config, error_body=exstream_error_body, seed=_seed, title="OpenText Exstream sandbox"
    )
    add_ocp_token_routes(app, ctx)

    def resource_or_404(domain: str, resource_id: str) -> dict[str, Any]:
        resource = ctx.store.get("resource", resource_id)
        if resource is None or resource["domain"] != domain:
            raise ctx.error(404, "ResourceNotFound", f"resource {resource_id} not found in {domain}")
        return resource

    def page_args(request: Request) -> tuple[int, int]:
        """``offset`` / ``count`` of a DAS list: 400 in the service's own shape when out of range."""
        values = []
        for name, default in (("offset", 0), ("count", DEFAULT_COUNT)):
            raw = request.query_params.get(name)
            try:
                values.append(int(raw) if raw not in (None, "") else default)
            except ValueError:
                raise ctx.error(400, "InvalidParameter", f"{name} must be a whole number") from None
        offset, count = values
        if offset < 0:
            raise ctx.error(400, "InvalidParameter", "offset must not be negative")
        if not 1 <= count <= MAX_COUNT:
            raise ctx.error(400, "InvalidParameter", f"count must be between 1 and {MAX_COUNT}")
        return offset, count

    def multi(request: Request, name: str) -> set[str]:
        """A multi-valued filter: comma-separated (as OpenText's SDK sends it) and/or repeated."""
        return {v.strip() for raw in request.query_params.getlist(name) for v in raw.split(",") if v.strip()}

    def public(resource: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in resource.items() if not key.startswith("_")}

    @app.get(PATHS["version"])
    def version() -> dict[str, Any]:
        # the numbers are strings (BackendServiceVersionInfo; the export packages' versionConfig)
        return {"apiIdentifier": "das/v1", "major": "25", "minor": "4", "patch": "0", "versionString": "25.4.0.1"}

    @app.get(PATHS["resources"])
    def list_resources(request: Request, domain: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        offset, count = page_args(request)
        types, states = multi(request, "filter.types"), multi(request, "filter.states")
        items = [
            public(r)
            for r in ctx.store.all("resource")
            if r["domain"] == domain and (not types or r["type"] in types) and (not states or r["state"] in states)
        ]
        # filter.latestVersion: the sandbox keeps only the latest version of a resource
        return _envelope(items[offset : offset + count], offset, count, len(items))

    async def read_file(file: UploadFile) -> tuple[str, int, bytes]:
        digest, size, head = hashlib.sha256(), 0, b""
        while chunk := await file.read(1 << 16):
            digest.update(chunk)
            if len(head) < 4096:
                head += chunk[: 4096 - len(head)]
            size += len(chunk)
        return digest.hexdigest(), size, head

    @app.post(PATHS["upload"], status_code=201)
    async def upload(
        request: Request,
        domain: str,
        file: UploadFile,
        name: str = Query(min_length=1),
        type: str = Query(min_length=1),
        subtype: str | None = Query(None),
    ) -> dict[str, Any]:
        """A new resource, in DRAFT (201). There is no idempotency key: sent twice, made twice."""
        subject = ctx.require_bearer(request)
        if domain not in DOMAINS:
            raise ctx.error(404, "DomainNotFound", f"domain {domain} not found")
        sha256, size, _ = await read_file(file)
        resource_id = f"res-{ctx.store.next_id('resource')}"
        resource = {
            **_resource(
                resource_id,
                domain=domain,
                name=name,
                type=type,
                state="DRAFT",
                by=subject,
                at=_ms(ctx.clock.now()),
                metadata={"subtype": subtype},
            ),
            "content": {"sha256": sha256, "size": size},
        }
        ctx.store.put("resource", resource_id, resource, action="upload")
        return _single(public(resource))

    @app.put(PATHS["state"])
    def change_state(request: Request, domain: str, resource_id: str, body: StateBody) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if body.state == resource["state"]:
            return _single(public(resource))
        if (resource["state"], body.state) not in TRANSITIONS:
            raise ctx.error(
                400, "IllegalStateTransition", f"cannot move {resource_id} from {resource['state']} to {body.state}"
            )
        valid_from = _embargoed_until(resource, ctx.clock.now())
        if body.state == "APPROVED" and valid_from is not None:
            # modelled: an image under embargo cannot be approved (so used) before its valid_from
            raise ctx.error(409, "ResourceEmbargoed", f"resource {resource_id} is valid only from {valid_from}")
        resource = {
            **resource,
            "state": body.state,
            "stateComment": body.auditedComment or "",
            "locked": body.locked,
            "version": resource["version"] + (1 if resource["state"] == "APPROVED" else 0),
            "lastModifiedBy": subject,
            "lastModifiedDate": _ms(ctx.clock.now()),
        }
        ctx.store.put("resource", resource_id, resource, action=f"state:{body.state}")
        return _single(public(resource))

    @app.get(PATHS["metadata"])
    def get_metadata(request: Request, domain: str, resource_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return resource_or_404(domain, resource_id)["metadata"]

    @app.put(PATHS["metadata"])
    def put_metadata(request: Request, domain: str, resource_id: str, body: dict[str, Any]) -> JSONResponse:
        ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if resource["metadata"] == body:
            return JSONResponse(body)
        ctx.store.put("resource", resource_id, {**resource, "metadata": body}, action="metadata")
        return JSONResponse(body)

    # -- domains, one resource, content replacement -------------------------------------------
    @app.get(PATHS["domains"])
    def list_domains(request: Request) -> dict[str, Any]:
        ctx.require_bearer(request)
        offset, count = page_args(request)
        domains = ctx.store.all("domain")
        return _envelope(domains[offset : offset + count], offset, count, len(domains))

    @app.get(PATHS["resource"])
    def get_resource(request: Request, domain: str, resource_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return _single(public(resource_or_404(domain, resource_id)))

    @app.put(PATHS["content"])
    async def replace_content(request: Request, domain: str, resource_id: str, file: UploadFile) -> dict[str, Any]:
        """New content makes a new version, back in DRAFT: it has to be reviewed and approved again."""
        subject = ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if resource.get("locked"):
            raise ctx.error(409, "ResourceLocked", f"resource {resource_id} is locked")
        sha256, size, _ = await read_file(file)
        if size == 0:
            raise ctx.error(400, "EmptyContent", "the uploaded file is empty")
        resource = {
            **resource,
            "version": resource["version"] + 1,
            "state": "DRAFT",
            "stateComment": "",
            "lastModifiedBy": subject,
            "lastModifiedDate": _ms(ctx.clock.now()),
            "content": {"sha256": sha256, "size": size},
        }
        ctx.store.put("resource", resource_id, resource, action="content")
        return _single(public(resource))

    # -- links ------------------------------------------------------------------------------------
    def links_of(domain: str) -> list[dict[str, Any]]:
        return [link for link in ctx.store.all("link") if link["domain"] == domain]

    def walk(domain: str, start: str, depth: int, *, down: bool) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        """(link, resource reached) pairs up to ``depth`` links from ``start``: down = what it uses,
        up = what uses it; each resource once, nearest first."""
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        frontier, seen = [start], {start}
        links = links_of(domain)
        for _ in range(depth):
            following = []
            for link in links:
                origin, reached = (
                    (link["subjectId"], link["objectId"]) if down else (link["objectId"], link["subjectId"])
                )
                if origin in frontier and reached not in seen:
                    target = ctx.store.get("resource", reached)
                    if target is None:
                        continue
                    seen.add(reached)
                    following.append(reached)
                    found.append((link, target))
            if not following:
                break
            frontier = following
        return found

    def das_link(link: dict[str, Any], target: dict[str, Any]) -> dict[str, Any]:
        subject = ctx.store.get("resource", link["subjectId"]) or {}
        return {
            "linkSubjectId": link["subjectId"],
            "subjectVersion": subject.get("version", 1),
            "linkObjectId": target["id"],
            "typeId": target["type"],
        }

    def depth_of(request: Request) -> int:
        raw = request.query_params.get("linkDepth") or "1"
        if not raw.isdigit() or int(raw) < 1:
            raise ctx.error(400, "InvalidParameter", "linkDepth must be a positive whole number")
        return int(raw)

    @app.get(PATHS["links"])
    def list_links(request: Request, domain: str, linkSubjectId: str = Query(min_length=1)) -> dict[str, Any]:
        """What a resource uses (``DasLink`` items); depth beyond 1 follows the links on."""
        ctx.require_bearer(request)
        offset, count = page_args(request)
        resource_or_404(domain, linkSubjectId)
        types = multi(request, "filter.types")
        found = [
            das_link(link, target)
            for link, target in walk(domain, linkSubjectId, depth_of(request), down=True)
            if not types or target["type"] in types
        ]
        return _envelope(found[offset : offset + count], offset, count, len(found))

    @app.get(PATHS["linked_resources"])
    def resources_linking_to(request: Request, domain: str, linkObjectId: str = Query(min_length=1)) -> dict[str, Any]:
        """The resources that use a resource (e.g. the communications that show an image)."""
        ctx.require_bearer(request)
        offset, count = page_args(request)
        resource_or_404(domain, linkObjectId)
        types, states = multi(request, "rfilter.types"), multi(request, "rfilter.states")
        found = [
            public(user)
            for _, user in walk(domain, linkObjectId, depth_of(request), down=False)
            if (not types or user["type"] in types) and (not states or user["state"] in states)
        ]
        return _envelope(found[offset : offset + count], offset, count, len(found))

    # -- communication-set manifests and package import ----------------------------------------
    @app.get(PATHS["manifest"])
    def manifest(request: Request, domain: str, communication_set_id: str) -> dict[str, Any]:
        """The data sources (``prodDsn``: the ``driverDataSource`` to send) and output queues of a
        communication set; the bare ``DasManifest``, no envelope."""
        ctx.require_bearer(request)
        resource = resource_or_404(domain, communication_set_id)
        if resource["type"] != COMMUNICATION_SET:
            raise ctx.error(404, "ManifestNotFound", f"{communication_set_id} is not a communication set")
        return manifest_of(resource)

    def manifest_of(communication_set: dict[str, Any]) -> dict[str, Any]:
        dsnlist, queues = [], []
        for _, target in walk(communication_set["domain"], communication_set["id"], 1, down=True):
            meta = target.get("metadata") or {}
            if target["type"] == DATA_SOURCE:
                dsnlist.append(
                    {
                        "name": target["name"],
                        "prodDsn": meta.get("prodDsn") or target.get("_prodDsn") or target["name"],
                        "resourceId": target["id"],
                        "type": "driver",
                    }
                )
            elif target["type"] == OUTPUT_QUEUE:
                queues.append(
                    {
                        "driver": meta.get("driver") or target.get("_driver") or "PDF",
                        "name": target["name"],
                        "prodFile": target["name"],
                        "use": "production",
                    }
                )
        return {"dsnlist": dsnlist, "queueList": queues}

    def drivers_of(communication: dict[str, Any]) -> set[str]:
        """The driver names a communication takes: its communication sets' ``prodDsn`` values."""
        names = set()
        for _, target in walk(communication["domain"], communication["id"], 2, down=True):
            if target["type"] == COMMUNICATION_SET:
                names |= {d["prodDsn"] for d in manifest_of(target)["dsnlist"]}
        return names

    @app.post(PATHS["import"])
    async def import_package(request: Request, domain: str, package_type: str) -> dict[str, Any]:
        """Import an export package (what OpenText's collection calls first): its resources, their
        content and links land in the domain; ``commit=false`` only answers what would happen."""
        subject = ctx.require_bearer(request)
        if domain not in DOMAINS:
            raise ctx.error(404, "DomainNotFound", f"domain {domain} not found")
        if package_type.upper() not in ("DAS", "MIGRATOR"):
            raise ctx.error(400, "InvalidPackageType", "the package type is das or migrator")
        if package_type.upper() == "MIGRATOR":
            raise ctx.error(400, "InvalidPackageType", "the sandbox imports DAS export packages only")
        commit = (request.query_params.get("commit") or "false").lower() == "true"
        form = await request.form()
        package = form.get("exportPackage")
        if package is None or isinstance(package, str):
            raise ctx.error(400, "MissingPackage", "the multipart field exportPackage (the export zip) is required")
        policy = "ERROR"
        settings = form.get("conflictSettings")
        if settings is not None:
            raw = await settings.read() if not isinstance(settings, str) else settings.encode()
            try:
                policy = str(((json.loads(raw or b"{}") or {}).get("policies") or {}).get("generalPolicy") or "ERROR")
            except (ValueError, AttributeError):
                raise ctx.error(400, "InvalidConflictSettings", "conflictSettings is not JSON") from None
            if policy not in IMPORT_POLICIES:
                raise ctx.error(400, "InvalidConflictSettings", f"generalPolicy must be one of {list(IMPORT_POLICIES)}")
        resources, contents, links, package_id = read_package(await package.read())
        now = _ms(ctx.clock.now())
        stamp = ctx.clock.now().strftime("%Y%m%d_%H%M%S")
        imported, ignored, conflicted, existing = [], [], [], []
        writes: list[dict[str, Any]] = []
        renamed: dict[str, str] = {}
        for item in resources:
            found = {
                "id": item["id"],
                "name": item["name"],
                "newName": None,
                "type": item["type"],
                "version": int(item.get("version") or 1),
                "state": item.get("state") or "DRAFT",
            }
            if item.get("systemResource") or item.get("hidden"):
                ignored.append(found)
                continue
            current = ctx.store.get("resource", item["id"])
            if current is None:
                imported.append(found)
                writes.append(imported_resource(item, domain, subject, now, contents))
            elif current["domain"] == domain and int(current["version"]) == found["version"]:
                existing.append(found)
            elif policy == "SKIP":
                conflicted.append({**found, "userSelectedAction": policy, "performedAction": "SKIP"})
            elif policy == "REPLACE" and current["domain"] == domain:
                conflicted.append({**found, "userSelectedAction": policy, "performedAction": "REPLACE"})
                replaced = imported_resource(item, domain, subject, now, contents)
                writes.append(
                    {**replaced, "version": int(current["version"]) + 1, "createdDate": current["createdDate"]}
                )
            elif policy in ("AUTO_RENAME", "REPLACE"):
                new_id = str(uuid.uuid4())
                renamed[item["id"]] = new_id
                new_name = f"{item['name']}_{stamp}"
                conflicted.append(
                    {**found, "newName": new_name, "userSelectedAction": policy, "performedAction": "AUTO_RENAME"}
                )
                copy = imported_resource(item, domain, subject, now, contents)
                writes.append({**copy, "id": new_id, "name": new_name, "version": 1})
            else:
                conflicted.append({**found, "userSelectedAction": policy, "performedAction": None})
        if policy == "ERROR" and conflicted:
            raise ctx.error(
                409,
                "ImportConflict",
                f"{len(conflicted)} resources of the package conflict with the domain's; "
                "nothing was imported (choose SKIP, REPLACE or AUTO_RENAME)",
            )
        if commit:
            skipped = {c["id"] for c in conflicted if c["performedAction"] == "SKIP"}
            for resource in writes:
                ctx.store.put("resource", resource["id"], resource, action="import")
            for link in links:
                subject_id = renamed.get(link["linkSubjectId"], link["linkSubjectId"])
                object_id = renamed.get(link["linkObjectId"], link["linkObjectId"])
                if link["linkSubjectId"] in skipped:
                    continue  # links from skipped resources are ignored; links to them are added
                ctx.store.put(
                    "link",
                    _link_id(domain, subject_id, object_id),
                    {"domain": domain, "subjectId": subject_id, "objectId": object_id, "linkType": "uses"},
                )
        return {
            "status": "success",
            "details": None,
            "data": {
                "exportPackageUUID": package_id,
                "policies": {"generalPolicy": policy},
                "importedResources": imported,
                "ignoredResources": ignored,
                "conflictedResources": conflicted,
                "existingResources": existing,
            },
        }

    def read_package(
        raw: bytes,
    ) -> tuple[list[dict[str, Any]], dict[str, tuple[bytes, dict[str, Any]]], list[dict[str, Any]], str]:
        """(resources, content by "type-id-version", links, package uuid) of an export zip."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(raw))
        except zipfile.BadZipFile:
            raise ctx.error(400, "InvalidPackage", "exportPackage is not a zip file") from None
        entries = archive.infolist()
        if len(entries) > IMPORT_MAX_ENTRIES or sum(e.file_size for e in entries) > IMPORT_MAX_BYTES:
            raise ctx.error(400, "InvalidPackage", "the export package is too large for the sandbox")
        resources: list[dict[str, Any]] = []
        contents: dict[str, tuple[bytes, dict[str, Any]]] = {}
        links: list[dict[str, Any]] = []
        try:
            for entry in entries:
                name = entry.filename
                if re.fullmatch(r"resources/[^/]+\.json", name):
                    item = json.loads(archive.read(entry))
                    if not isinstance(item, dict) or not all(
                        isinstance(item.get(k), str) for k in ("id", "name", "type")
                    ):
                        raise ValueError(f"{name} is not a resource record")
                    resources.append(item)
                elif m := re.fullmatch(r"content/(.+)-CONTENT\.bin", name):
                    contents.setdefault(m.group(1), (b"", {}))
                    contents[m.group(1)] = (archive.read(entry), contents[m.group(1)][1])
                elif m := re.fullmatch(r"content/(.+)-CONTENT\.json", name):
                    contents.setdefault(m.group(1), (b"", {}))
                    contents[m.group(1)] = (contents[m.group(1)][0], json.loads(archive.read(entry)))
                elif name == "links/links.json":
                    links = [
                        link
                        for link in json.loads(archive.read(entry))
                        if isinstance(link, dict) and link.get("linkSubjectId") and link.get("linkObjectId")
                    ]
        except (ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise ctx.error(400, "InvalidPackage", f"the export package cannot be read: {exc}") from None
        if not resources:
            raise ctx.error(400, "InvalidPackage", "the export package holds no resources/*.json")
        package_id = str(uuid.uuid5(uuid.NAMESPACE_OID, hashlib.sha256(raw).hexdigest()))
        return resources, contents, links, package_id

    def imported_resource(
        item: dict[str, Any], domain: str, subject: str, now: int, contents: dict[str, tuple[bytes, dict[str, Any]]]
    ) -> dict[str, Any]:
        version = int(item.get("version") or 1)
        data, described = contents.get(f"{item['type']}-{item['id']}-{version}", (b"", {}))
        resource = {
            **_resource(
                item["id"],
                domain=domain,
                name=item["name"],
                type=item["type"],
                state=item.get("state") or "DRAFT",
                by=str(item.get("createdBy") or subject),
                at=int(item["createdDate"]) if isinstance(item.get("createdDate"), int) else now,
                version=version,
                metadata=item.get("metadata") or {"subtype": None},
                description=str(item.get("description") or ""),
            ),
            "lastModifiedBy": subject,
            "lastModifiedDate": now,
            "content": {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data)},
        }
        if described.get("mimetype"):
            resource["content"]["mimeType"] = described["mimetype"]
        if item["type"] in (DATA_SOURCE, OUTPUT_QUEUE) and data:
            try:
                settings = json.loads(data)
            except ValueError:
                settings = {}
            if isinstance(settings, dict) and settings.get("m_strFileSpec"):
                resource["_prodDsn"] = str(settings["m_strFileSpec"])  # the driver name the manifest gives
            if item["type"] == OUTPUT_QUEUE and "empower" in item["name"].lower():
                resource["_driver"] = "Empower"
        return resource

    # -- orchestration: on-demand generation, batches, jobs ------------------------------------------
    @app.get(PATHS["orchestration_version"])
    def orchestration_version() -> dict[str, Any]:
        return {
            "apiIdentifier": "orchestration/v1",
            "major": "25",
            "minor": "4",
            "patch": "0",
            "versionString": "25.4.0.1",
        }

    def communication_for(domain: str, communication_id: str | None) -> dict[str, Any]:
        if not communication_id:
            raise _orchestration_error(400, "the communicationId header is required")
        communication = ctx.store.get("resource", communication_id)
        if communication is None or communication["domain"] != domain or communication["type"] != COMMUNICATION:
            raise _orchestration_error(404, f"communication {communication_id} not found in {domain}")
        if communication["state"] != "APPROVED":
            raise _orchestration_error(
                409, f"communication {communication_id} is {communication['state']}, only APPROVED ones run"
            )
        return communication

    def images_of(communication: dict[str, Any]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(APPROVED images the communication uses, linked images left out because not APPROVED),
        following its links down (communication → document → page → image)."""
        used, left_out = [], []
        for _, image in walk(communication["domain"], communication["id"], 10, down=True):
            if image["type"] == IMAGE:
                (used if image["state"] == "APPROVED" else left_out).append(image)
        return used, left_out

    def locales_of(communication: dict[str, Any]) -> list[tuple[dict[str, Any], str]]:
        """(locale resource, language tag) of each locale the communication's sets are localized into."""
        found = []
        for _, locale in walk(communication["domain"], communication["id"], 2, down=True):
            if locale["type"] != LOCALE:
                continue
            for _, language in walk(communication["domain"], locale["id"], 1, down=True):
                if language["type"] == LANGUAGE:
                    found.append((locale, str(language.get("_languageTag") or "")))
        return found

    def localized_version(communication: dict[str, Any], driver: dict[str, Any]) -> tuple[dict[str, Any], str] | None:
        """The localized version the driver data asks for (*modelled*: its ``locale`` — a locale's
        name such as ``de_DE`` — or ``language`` — ``de`` or ``de-DE``; OpenText's communications
        scope their locale to a variable, ``m_scopedLocale``). ``None``: no locale asked, the
        communication as designed. A locale the communication is not localized into answers 400."""
        asked = driver.get("locale") or driver.get("language")
        if not asked:
            return None
        wanted = str(asked).replace("-", "_").lower()
        for locale, tag in locales_of(communication):
            if wanted in (locale["name"].lower(), tag.replace("-", "_").lower(), tag.split("-")[0].lower()):
                return locale, tag
        raise _orchestration_error(400, f"communication {communication['id']} has no localized version for {asked}")

    def localize(images: list[dict[str, Any]], language: str, region: str | None) -> list[dict[str, Any]]:
        """Each image as the localized version shows it (*modelled*): the APPROVED image of the same
        domain whose metadata names the image's source asset as its master and ``language`` as its
        language (the driver's region preferred, then the newest); the image itself when none."""
        keys = LOCALIZED_KEYS
        shown = []
        for image in images:
            source = (image.get("metadata") or {}).get(keys["source"])
            candidates = [
                r
                for r in ctx.store.all("resource")
                if source
                and r["domain"] == image["domain"]
                and r["type"] == IMAGE
                and r["state"] == "APPROVED"
                and (r.get("metadata") or {}).get(keys["master"]) == source
                and str((r.get("metadata") or {}).get(keys["language"]) or "").lower() == language
            ]
            candidates.sort(
                key=lambda r: (
                    bool(region) and (r.get("metadata") or {}).get(keys["region"]) == region,
                    r.get("lastModifiedDate") or 0,
                ),
                reverse=True,
            )
            shown.append(candidates[0] if candidates else image)
        return shown

    def record_usage(
        communication: dict[str, Any],
        images: list[dict[str, Any]],
        *,
        volume: int,
        channel: str,
        region: str | None,
        at: datetime,
        job_id: str | None = None,
    ) -> None:
        meta = communication.get("metadata") or {}
        for image in images:
            usage_id = f"usage-{ctx.store.next_id('usage')}"
            ctx.store.put(
                "usage",
                usage_id,
                {
                    "id": usage_id,
                    "domain": communication["domain"],
                    "resourceId": image["id"],
                    "resourceName": image["name"],
                    "resourceVersion": image["version"],
                    "communicationId": communication["id"],
                    "communicationName": communication["name"],
                    "stream": meta.get("stream") or communication["name"],
                    "channel": channel,
                    "jobId": job_id,
                    "region": region or meta.get("region"),
                    "volume": volume,
                    "recordedAt": at.isoformat(),
                },
                action="usage",
            )

    @app.post(PATHS["generate"])
    async def generate(request: Request, domain: str) -> Response:
        ctx.require_bearer(request)
        communication = communication_for(domain, request.headers.get("communicationId"))
        driver_name = request.headers.get("driverDataSource")
        expected = drivers_of(communication)
        if not driver_name:
            raise _orchestration_error(400, "the driverDataSource header is required")
        if expected and driver_name not in expected:
            raise _orchestration_error(
                400, f"driver data source {driver_name} is not part of communication {communication['id']}"
            )
        raw = await request.body()
        try:
            driver = json.loads(raw) if raw else {}
        except ValueError:
            raise _orchestration_error(400, "the driver data is not valid JSON") from None
        if not isinstance(driver, dict):
            raise _orchestration_error(400, "the driver data must be a JSON object")
        customer = str(driver.get("customerNumber") or (driver.get("customer") or {}).get("number") or "")
        used, left_out = images_of(communication)
        region = driver.get("region") if isinstance(driver.get("region"), str) else None
        localized = localized_version(communication, driver)
        language = localized[1].split("-")[0].lower() if localized else None
        if language:
            used = localize(used, language, region)
        lines = [
            f"Communication {communication['id']} version {communication['version']}",
            f"Customer {customer or '(none)'}",
            *([f"Localized version {localized[0]['name']} ({localized[1]})"] if localized else []),
            "Resources used:",
            *[f"- {image['name']} ({image['id']} version {image['version']})" for image in used],
        ]
        if left_out:
            lines.append("Left out (not approved): " + ", ".join(image["id"] for image in left_out))
        accept = (request.headers.get("accept") or "").split(",")[0].strip().lower()
        wanted = (
            accept
            if accept in ("application/pdf", "text/html")
            else (communication.get("metadata") or {}).get("outputType") or "application/pdf"
        )
        document = (
            render_html(communication["name"], lines, used, localized[1] if localized else None)
            if wanted == "text/html"
            else render_pdf(communication["name"], lines)
        )
        record_usage(communication, used, volume=1, channel="ondemand", region=region, at=ctx.clock.now())
        stream = (communication.get("metadata") or {}).get("stream") or communication["name"]
        extension = "html" if wanted == "text/html" else "pdf"
        file_name = f"{communication['id']}-{customer or 'document'}.{extension}"
        if accept in ("application/pdf", "text/html"):
            return Response(
                document, media_type=wanted, headers={"Content-Disposition": f'attachment; filename="{file_name}"'}
            )
        return JSONResponse(
            {
                "status": "success",
                "details": None,
                "data": [
                    {
                        "content": base64.b64encode(document).decode(),
                        "mimeType": wanted,
                        "engineOutputContext": {"queueName": stream, "fileName": file_name, "customerNumber": customer},
                    }
                ],
            }
        )

    def run_job(job: dict[str, Any]) -> dict[str, Any]:
        """Run a submitted batch: usage for every APPROVED image, or FAILED if the communication may not run."""
        at = datetime.fromisoformat(job["productionDate"]) if job.get("productionDate") else ctx.clock.now()
        try:
            communication = communication_for(job["domain"], job.get("communicationId"))
        except SandboxError as exc:
            job = {**job, "state": "FAILED", "errorMessage": exc.body["details"], "completedAt": at.isoformat()}
        else:
            used, _ = images_of(communication)
            record_usage(
                communication,
                used,
                volume=int(job["records"]),
                channel="batch",
                region=job.get("region"),
                at=at,
                job_id=job["jobId"],
            )
            job = {**job, "state": "COMPLETED", "outputCount": int(job["records"]), "completedAt": at.isoformat()}
        ctx.store.put("job", job["jobId"], job, action=f"job:{job['state']}")
        return job

    def submit_job(domain: str, service: str, body: dict[str, Any], at: datetime | None = None) -> dict[str, Any]:
        if domain not in DOMAINS:
            raise _orchestration_error(404, f"domain {domain} not found")
        number = ctx.store.next_id("job")
        records = body.get("records", 1)
        if not isinstance(records, int) or records < 1:
            raise _orchestration_error(400, "records must be a positive integer")
        job = {
            "jobId": f"job-{number}",
            "id": f"batch-{number}",
            "domain": domain,
            "service": service,
            "communicationId": body.get("communicationId"),
            "records": records,
            "region": body.get("region"),
            "productionDate": at.isoformat() if at else None,
            "state": "QUEUED",
            "submittedAt": ctx.clock.now().isoformat(),
            "completeAfter": ctx.clock.now().timestamp() + float(config.options.get("batch_seconds", 0)),
        }
        ctx.store.put("job", job["jobId"], job, action="job:QUEUED")
        return job

    def public_job(job: dict[str, Any]) -> dict[str, Any]:
        return {key: value for key, value in job.items() if key != "completeAfter"}

    @app.post(PATHS["batch"], status_code=202)
    async def submit_batch(request: Request, domain: str, service: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        try:
            body = await request.json()
        except ValueError:
            raise _orchestration_error(400, "the batch descriptor is not valid JSON") from None
        if not isinstance(body, dict):
            raise _orchestration_error(400, "the batch descriptor must be a JSON object")
        job = submit_job(domain, service, body)
        return {"status": "success", "details": None, "data": [{"jobId": job["jobId"], "id": job["id"]}]}

    @app.get(PATHS["job"])
    def job_status(request: Request, job_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        job = ctx.store.get("job", job_id)
        if job is None:
            raise _orchestration_error(404, f"job {job_id} not found")
        if job["state"] in ("QUEUED", "RUNNING") and ctx.clock.now().timestamp() >= job["completeAfter"]:
            job = run_job(job)
        elif job["state"] == "QUEUED":
            job = {**job, "state": "RUNNING"}
            ctx.store.put("job", job_id, job, action="job:RUNNING")
        return {"status": "success", "details": None, "data": public_job(job)}

    # -- usage and production feedback (modelled) ------------------------------------------------
    def since_until(request: Request) -> tuple[datetime | None, datetime | None]:
        bounds = []
        for name in ("filter.since", "filter.until"):
            value = request.query_params.get(name)
            try:
                bounds.append(_aware(datetime.fromisoformat(value.replace("Z", "+00:00"))) if value else None)
            except ValueError:
                raise ctx.error(400, "InvalidParameter", f"{name} must be an ISO-8601 date-time") from None
        return bounds[0], bounds[1]

    def in_window(moment: str, since: datetime | None, until: datetime | None) -> bool:
        at = _aware(datetime.fromisoformat(moment))
        assert at is not None
        return (since is None or at >= since) and (until is None or at < until)

    @app.get(PATHS["usage"])
    def list_usage(
        request: Request, domain: str, offset: int = Query(0, ge=0), count: int = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        """Usage records recorded in [filter.since, filter.until), oldest first."""
        ctx.require_bearer(request)
        since, until = since_until(request)
        records = sorted(
            (
                u
                for u in ctx.store.all("usage")
                if u.get("domain") == domain and in_window(u["recordedAt"], since, until)
            ),
            key=lambda u: (u["recordedAt"], u["id"]),
        )
        page = [dict(u) for u in records[offset : offset + count]]
        for n, record in enumerate(page):
            if ctx.faults.should_malform():
                page[n] = {**record, "volume": "many", "resourceId": None}
        return _envelope(page, offset, count, len(records))

    @app.get(PATHS["feedback"])
    def list_feedback(
        request: Request, domain: str, offset: int = Query(0, ge=0), count: int = Query(100, ge=1, le=1000)
    ) -> dict[str, Any]:
        """Production feedback given in [filter.since, filter.until), oldest first."""
        ctx.require_bearer(request)
        since, until = since_until(request)
        items = sorted(
            (
                f
                for f in ctx.store.all("feedback")
                if f["domain"] == domain and in_window(f["createdDate"], since, until)
            ),
            key=lambda f: (f["createdDate"], f["id"]),
        )
        page = [dict(f) for f in items[offset : offset + count]]
        for n, item in enumerate(page):
            if ctx.faults.should_malform():
                page[n] = {**item, "action": "shred"}
        return _envelope(page, offset, count, len(items))

    # -- operator side ---------------------------------------------------------------------------
    @app.put("/_sandbox/exstream/links")
    def put_links(body: LinksBody) -> dict[str, Any]:
        """Set what a resource (a communication) uses, as the designer would; a communication's
        link to its communication set stays."""
        resource_or_404(body.domain, body.subjectId)
        for object_id in body.objectIds:
            resource_or_404(body.domain, object_id)
        for link in links_of(body.domain):
            if link["subjectId"] == body.subjectId and link["objectId"] not in body.objectIds:
                target = ctx.store.get("resource", link["objectId"]) or {}
                if target.get("type") != COMMUNICATION_SET:
                    ctx.store.delete("link", _link_id(body.domain, link["subjectId"], link["objectId"]))
        for object_id in body.objectIds:
            link_id = _link_id(body.domain, body.subjectId, object_id)
            if ctx.store.get("link", link_id) is None:
                ctx.store.put(
                    "link",
                    link_id,
                    {"domain": body.domain, "subjectId": body.subjectId, "objectId": object_id, "linkType": "uses"},
                )
        return {"subjectId": body.subjectId, "objectIds": body.objectIds}

    @app.post("/_sandbox/exstream/production-batch")
    def production_batch(body: ProductionBatchBody) -> dict[str, Any]:
        """Run a production batch now (at ``at``, if given): usage for every APPROVED image it shows."""
        job = submit_job(
            body.domain,
            body.service,
            {"communicationId": body.communicationId, "records": body.records, "region": body.region},
            at=_aware(body.at),
        )
        return public_job(run_job(job))

    @app.post("/_sandbox/exstream/feedback")
    def give_feedback(body: FeedbackBody) -> dict[str, Any]:
        """Production flags a resource for replacement or retirement (EXS-3)."""
        if body.action not in FEEDBACK_ACTIONS:
            raise ctx.error(400, "InvalidFeedback", f"action must be one of {list(FEEDBACK_ACTIONS)}")
        resource = resource_or_404(body.domain, body.resourceId)
        feedback_id = f"fb-{ctx.store.next_id('feedback')}"
        item = {
            "id": feedback_id,
            "domain": body.domain,
            "resourceId": resource["id"],
            "resourceName": resource["name"],
            "resourceVersion": resource["version"],
            "action": body.action,
            "reason": body.reason,
            "createdBy": body.createdBy,
            "createdDate": (_aware(body.at) or ctx.clock.now()).isoformat(),
        }
        ctx.store.put("feedback", feedback_id, item, action="feedback")
        return item

    return app
