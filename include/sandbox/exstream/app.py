"""The OpenText Exstream sandbox: the Design and Asset Service (DAS) resources contentops manages.

Sourced (opentext/ocp-communication collection and SDK, shared/api-notes/opentext.md §3): the
OCP token, ``/design/api/v1`` resources listed with ``filter.types`` / ``filter.states`` and
``offset`` / ``count`` in the ``{"status", "details", "data", "page": {…}}`` envelope, upload
``POST /resources/{domain}/content?name=&type=`` (multipart field ``file``), state changes
``PUT /resources/{domain}/{id}/state`` with ``auditedComment`` and the transitions DRAFT→REVIEW,
REVIEW→APPROVED, APPROVED→DRAFT, REVIEW→REJECTED; ``GET /design/api/v1/version``.

Also sourced: domains (``GET /design/api/v1/domains``), content replacement
``PUT /resources/{domain}/{id}/content`` (multipart ``file``), links — what a resource uses
(``GET /links/{domain}?linkSubjectId=``) and which resources use it
(``GET /links/{domain}/resources?linkObjectId=&rfilter.types=&rfilter.states=``) —, on-demand
generation ``POST /orchestration/api/v1/inputs/ondemand/{domain}/generate`` with the
``communicationId`` and ``driverDataSource`` headers (JSON "full response", or the raw document
for ``Accept: application/pdf`` / ``text/html``; orchestration errors shaped
``{"status", "details", "data": [{"errorMessage", "statusCode", "engineOutputContext"}]}``),
batch submission ``POST /orchestration/api/v1/inputs/batch/{domain}/{service}`` answering
``data[0].jobId`` / ``data[0].id``, and ``GET /orchestration/api/v1/version``. Service errors
(e.g. an illegal state transition) come in Exstream's Spring shape ``{"timestamp", "status",
"error", "message", "details", "errorCode"}``; gateway faults as on every OCP service.

Modelled (every path in :data:`PATHS`): resource metadata (rights expiry, regions, segments,
source asset) read and replaced at ``/resources/{domain}/{id}/metadata``; one resource
``GET /resources/{domain}/{id}``; the content digest a resource carries (``content.sha256``);
batch job status ``GET /orchestration/api/v1/jobs/{jobId}``; usage data
``GET /orchestration/api/v1/usage/{domain}?filter.since=&filter.until=`` (which resource appeared in
which communication stream, when, in what volume, in which region); production feedback
``GET /design/api/v1/feedback/{domain}?filter.since=`` (a resource flagged for replacement or
retirement, with a reason); an ``Idempotency-Key`` header on upload (a replayed upload answers
with the resource the first one created, never a second resource).

Generation really renders: a one-page PDF (or HTML) that names the communication and every
APPROVED image resource it links to (images in another state are left out), and each image used
leaves a usage record. A communication that is not APPROVED is not generated.

Operator side (``/_sandbox/exstream/…``): ``PUT links`` (what a communication uses),
``POST production-batch`` (run a production batch now or "at" a past time, leaving usage),
``POST feedback`` (production flags a resource for replacement or retirement).
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
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
    "orchestration_version": f"{ORCHESTRATION}/version",
    "generate": f"{ORCHESTRATION}/inputs/ondemand/{{domain}}/generate",
    "batch": f"{ORCHESTRATION}/inputs/batch/{{domain}}/{{service}}",
    "job": f"{ORCHESTRATION}/jobs/{{job_id}}",
    "usage": f"{ORCHESTRATION}/usage/{{domain}}",
}
DOMAINS = ("retail", "insurance")
TRANSITIONS = {("DRAFT", "REVIEW"), ("REVIEW", "APPROVED"), ("APPROVED", "DRAFT"), ("REVIEW", "REJECTED")}
COMMUNICATION = "exstrapplication"
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


def _seed(context: SandboxContext) -> None:
    context.store.put_many(
        "domain",
        [
            (d, {"id": d, "production": True, "jobTracing": True, "workflow": True, "restrictApproval": False})
            for d in DOMAINS
        ],
    )
    now = context.clock.now().isoformat()
    context.store.put_many(
        "resource",
        [
            (
                comm_id,
                {
                    "id": comm_id,
                    "version": 1,
                    "name": name,
                    "type": COMMUNICATION,
                    "state": "APPROVED",
                    "stateComment": "seeded",
                    "domain": domain,
                    "createdBy": "designer",
                    "createdDate": now,
                    "lastModifiedBy": "designer",
                    "lastModifiedDate": now,
                    "metadata": {"subtype": None, "driverDataSource": driver, "stream": stream, "region": region},
                    "locked": False,
                },
            )
            for comm_id, (domain, name, driver, stream, region) in COMMUNICATIONS.items()
        ],
    )


def exstream_error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Gateway faults (401/403/429/5xx) as on every OCP service; the services' own errors in
    Exstream's Spring shape (``ExstreamErrorResponse`` in OpenText's SDK)."""
    if status in (401, 403, 429) or status >= 500:
        return ocp_error_body(status, code, message)
    return {
        "timestamp": int(time.time() * 1000),
        "status": status,
        "error": HTTPStatus(status).phrase,
        "message": message,
        "details": message,
        "errorCode": code,
    }


def _aware(moment: datetime | None) -> datetime | None:
    """Naive times are UTC (what the clients send is compared with the sandbox clock's aware now)."""
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _orchestration_error(status: int, message: str, **context: Any) -> SandboxError:
    """The orchestration service's error shape (OrchestrationErrorResonse in OpenText's SDK)."""
    return SandboxError(
        status,
        {
            "status": status,
            "details": message,
            "data": [{"errorMessage": message, "statusCode": status, "engineOutputContext": context}],
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


def render_html(title: str, lines: list[str], used: list[dict[str, Any]]) -> bytes:
    """The same document as HTML; each image used is an element naming its resource id and version."""
    from html import escape

    items = "".join(
        f'<li data-resource-id="{escape(r["id"])}" data-version="{r["version"]}">{escape(r["name"])}</li>' for r in used
    )
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in lines)
    return (
        f'<!doctype html><html><head><meta charset="utf-8"><title>{escape(title)}</title></head>'
        f'<body><h1>{escape(title)}</h1>{paragraphs}<ul class="resources">{items}</ul></body></html>'
    ).encode()


def _envelope(data: list[dict[str, Any]], offset: int, count: int, total: int) -> dict[str, Any]:
    return {
        "status": 200,
        "details": "OK",
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

    @app.get(PATHS["version"])
    def version() -> dict[str, Any]:
        return {"apiIdentifier": "design", "major": 25, "minor": 4, "patch": 0, "versionString": "25.4.0"}

    @app.get(PATHS["resources"])
    def list_resources(
        request: Request, domain: str, offset: int = Query(0, ge=0), count: int = Query(20, ge=1, le=200)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        types = request.query_params.getlist("filter.types")
        states = request.query_params.getlist("filter.states")
        items = [
            r
            for r in ctx.store.all("resource")
            if r["domain"] == domain and (not types or r["type"] in types) and (not states or r["state"] in states)
        ]
        return _envelope(items[offset : offset + count], offset, count, len(items))

    @app.post(PATHS["upload"], status_code=201)
    async def upload(
        request: Request, domain: str, file: UploadFile, name: str = Query(min_length=1), type: str = Query("image")
    ) -> dict[str, Any]:
        subject = ctx.require_bearer(request)
        if domain not in DOMAINS:
            raise ctx.error(404, "DomainNotFound", f"domain {domain} not found")
        key = request.headers.get("idempotency-key")
        seen = ctx.store.get("idempotency", key) if key else None
        if seen is not None and (earlier := ctx.store.get("resource", seen["resource_id"])) is not None:
            return _envelope([earlier], 0, 1, 1)  # a replay: the resource the first upload created
        digest, size = hashlib.sha256(), 0
        while chunk := await file.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        resource_id = f"res-{ctx.store.next_id('resource')}"
        resource = {
            "id": resource_id,
            "version": 1,
            "name": name,
            "type": type,
            "state": "DRAFT",
            "stateComment": None,
            "domain": domain,
            "createdBy": subject,
            "createdDate": ctx.clock.now().isoformat(),
            "lastModifiedBy": subject,
            "lastModifiedDate": ctx.clock.now().isoformat(),
            "metadata": {"subtype": None},
            "locked": False,
            "content": {"sha256": digest.hexdigest(), "size": size},
        }
        ctx.store.put("resource", resource_id, resource, action="upload")
        if key:
            ctx.store.put("idempotency", key, {"resource_id": resource_id})
        return _envelope([resource], 0, 1, 1)

    @app.put(PATHS["state"])
    def change_state(request: Request, domain: str, resource_id: str, body: StateBody) -> dict[str, Any]:
        ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if body.state == resource["state"]:
            return _envelope([resource], 0, 1, 1)
        if (resource["state"], body.state) not in TRANSITIONS:
            raise ctx.error(
                400, "IllegalStateTransition", f"cannot move {resource_id} from {resource['state']} to {body.state}"
            )
        resource = {
            **resource,
            "state": body.state,
            "stateComment": body.auditedComment,
            "locked": body.locked,
            "version": resource["version"] + (1 if resource["state"] == "APPROVED" else 0),
        }
        ctx.store.put("resource", resource_id, resource, action=f"state:{body.state}")
        return _envelope([resource], 0, 1, 1)

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
    def list_domains(
        request: Request, offset: int = Query(0, ge=0), count: int = Query(20, ge=1, le=200)
    ) -> dict[str, Any]:
        ctx.require_bearer(request)
        domains = [{**d, "parent": None} for d in ctx.store.all("domain")]
        return _envelope(domains[offset : offset + count], offset, count, len(domains))

    @app.get(PATHS["resource"])
    def get_resource(request: Request, domain: str, resource_id: str) -> dict[str, Any]:
        ctx.require_bearer(request)
        return _envelope([resource_or_404(domain, resource_id)], 0, 1, 1)

    @app.put(PATHS["content"])
    async def replace_content(request: Request, domain: str, resource_id: str, file: UploadFile) -> dict[str, Any]:
        """New content makes a new version, back in DRAFT: it has to be reviewed and approved again."""
        subject = ctx.require_bearer(request)
        resource = resource_or_404(domain, resource_id)
        if resource.get("locked"):
            raise ctx.error(409, "ResourceLocked", f"resource {resource_id} is locked")
        digest, size = hashlib.sha256(), 0
        while chunk := await file.read(1 << 16):
            digest.update(chunk)
            size += len(chunk)
        if size == 0:
            raise ctx.error(400, "EmptyContent", "the uploaded file is empty")
        resource = {
            **resource,
            "version": resource["version"] + 1,
            "state": "DRAFT",
            "stateComment": None,
            "lastModifiedBy": subject,
            "lastModifiedDate": ctx.clock.now().isoformat(),
            "content": {"sha256": digest.hexdigest(), "size": size},
        }
        ctx.store.put("resource", resource_id, resource, action="content")
        return _envelope([resource], 0, 1, 1)

    # -- links ------------------------------------------------------------------------------------
    def links_of(domain: str) -> list[dict[str, Any]]:
        return [link for link in ctx.store.all("link") if link["domain"] == domain]

    @app.get(PATHS["links"])
    def list_links(
        request: Request,
        domain: str,
        linkSubjectId: str = Query(min_length=1),
        linkDepth: int = Query(1, ge=1),
        offset: int = Query(0, ge=0),
        count: int = Query(50, ge=1, le=200),
    ) -> dict[str, Any]:
        """What a resource uses (the objects it links to); depth beyond 1 follows the links on."""
        ctx.require_bearer(request)
        resource_or_404(domain, linkSubjectId)
        types = request.query_params.getlist("filter.types")
        found: list[dict[str, Any]] = []
        frontier, seen = [linkSubjectId], {linkSubjectId}
        for _ in range(linkDepth):
            following = []
            for link in links_of(domain):
                if link["subjectId"] in frontier and link["objectId"] not in seen:
                    target = ctx.store.get("resource", link["objectId"])
                    if target is None:
                        continue
                    seen.add(link["objectId"])
                    following.append(link["objectId"])
                    if not types or target["type"] in types:
                        found.append(
                            {
                                "subjectId": link["subjectId"],
                                "objectId": target["id"],
                                "objectName": target["name"],
                                "objectType": target["type"],
                                "objectState": target["state"],
                            }
                        )
            frontier = following
        return _envelope(found[offset : offset + count], offset, count, len(found))

    @app.get(PATHS["linked_resources"])
    def resources_linking_to(
        request: Request,
        domain: str,
        linkObjectId: str = Query(min_length=1),
        linkDepth: int = Query(1, ge=1),
        offset: int = Query(0, ge=0),
        count: int = Query(50, ge=1, le=200),
    ) -> dict[str, Any]:
        """The resources that use a resource (e.g. the communications that show an image)."""
        ctx.require_bearer(request)
        resource_or_404(domain, linkObjectId)
        types = request.query_params.getlist("rfilter.types")
        states = request.query_params.getlist("rfilter.states")
        found: list[dict[str, Any]] = []
        frontier, seen = [linkObjectId], {linkObjectId}
        for _ in range(linkDepth):
            following = []
            for link in links_of(domain):
                if link["objectId"] in frontier and link["subjectId"] not in seen:
                    user = ctx.store.get("resource", link["subjectId"])
                    if user is None:
                        continue
                    seen.add(user["id"])
                    following.append(user["id"])
                    if (not types or user["type"] in types) and (not states or user["state"] in states):
                        found.append(user)
            frontier = following
        return _envelope(found[offset : offset + count], offset, count, len(found))

    # -- orchestration: on-demand generation, batches, jobs ------------------------------------------
    @app.get(PATHS["orchestration_version"])
    def orchestration_version() -> dict[str, Any]:
        return {"apiIdentifier": "orchestration", "major": 25, "minor": 4, "patch": 0, "versionString": "25.4.0"}

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
        """(APPROVED images the communication uses, linked images left out because not APPROVED)."""
        used, left_out = [], []
        for link in links_of(communication["domain"]):
            if link["subjectId"] != communication["id"]:
                continue
            image = ctx.store.get("resource", link["objectId"])
            if image is None or image["type"] == COMMUNICATION:
                continue
            (used if image["state"] == "APPROVED" else left_out).append(image)
        return used, left_out

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
        expected_driver = (communication.get("metadata") or {}).get("driverDataSource")
        if not driver_name:
            raise _orchestration_error(400, "the driverDataSource header is required")
        if expected_driver and driver_name != expected_driver:
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
        lines = [
            f"Communication {communication['id']} version {communication['version']}",
            f"Customer {customer or '(none)'}",
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
            render_html(communication["name"], lines, used)
            if wanted == "text/html"
            else render_pdf(communication["name"], lines)
        )
        region = driver.get("region") if isinstance(driver.get("region"), str) else None
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
                "status": 200,
                "details": "OK",
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
        return {"status": 202, "details": "Accepted", "data": [{"jobId": job["jobId"], "id": job["id"]}]}

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
        return {"status": 200, "details": "OK", "data": public_job(job)}

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
        """Set what a resource (a communication) uses, as the designer would."""
        resource_or_404(body.domain, body.subjectId)
        for object_id in body.objectIds:
            resource_or_404(body.domain, object_id)
        for link in links_of(body.domain):
            if link["subjectId"] == body.subjectId and link["objectId"] not in body.objectIds:
                ctx.store.delete("link", f"{body.domain}:{link['subjectId']}:{link['objectId']}")
        for object_id in body.objectIds:
            link_id = f"{body.domain}:{body.subjectId}:{object_id}"
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
