"""Consonance (consonance.app): the publisher's title records — works, products (formats, ISBNs) —
and the approved assets and license terms we attach to them.

Sourced (shared/api-notes/smintio-consonance-vip.md §2, docs/systems/consonance.md): the GraphQL
API at ``POST {instance}/graphql`` with ``Authorization: Bearer <API key>``, its root fields
``product(productSearch: {isbn13Eq})`` / ``work(workSearch: {idEq})`` / ``works`` / ``products``
and their field names, mutation payloads with ``errors {field messages}``; the REST v4 Product
API ``GET {instance}/api/v4/products.json`` with ``Authorization: Token token=<key>``,
``q[...]`` filters and the ``current_page`` / ``per_page`` / ``total_pages`` envelope.

**Modelled** (not public): GraphQL paging — the public examples fetch whole lists, so the hook
pages the Relay connections ``worksConnection`` / ``productsConnection`` (``first`` / ``after``,
``pageInfo {hasNextPage endCursor}``); the search inputs ``updatedAtGteq``,
``publicationDateGteq`` / ``Lteq``, ``lifecycleEvent…``; ``imprint``, ``updatedAt``,
``lifecycleEvents``, ``campaign``, ``campaignMilestones`` and ``territories`` (sales territories)
on works; all three mutations (``attachSupportingResource``, ``recordFormatAssetPairing``,
``recordLicenseTerms``), each an upsert keyed by our own ``reference`` so that repeating one
changes nothing; the REST page parameter ``page`` and the filters ``q[updated_at_gteq]``,
``q[pub_date_gteq]`` / ``q[pub_date_lteq]``. Also modelled: Consonance keeps a production
schedule (tasks per work) and tracks manuscripts in its editorial workflow, but their API shape
is not public — the hook reads ``productionTasks {id name dueDate status assignee
attachedResources}`` and ``manuscripts {id version status attachedResources}`` of a work, the
root fields ``productionTask(id:)`` / ``manuscript(id:)``, and attaches approved assets with the
mutations ``attachResourceToProductionTask`` / ``attachResourceToManuscript`` (upserts keyed by
our ``reference``, like the other writes). Every GraphQL document the hook sends is in
:data:`DOCUMENTS`; every path in :attr:`ConsonanceHook.default_paths`.

Connection (conn_type ``consonance``): host = the instance URL (``https://web.consonance.app``),
password = the API key, extra ``api`` = ``graphql`` (default) or ``rest``. With ``rest`` the reads
the Product API can serve (products changed since, approaching publication, product by ISBN)
go to REST; works, lifecycle events and every write exist only in GraphQL and always use it.

For pipelines (e.g. a title metadata push): reads yield typed models
(:class:`~contentops.models.consonance.Work`, :class:`~contentops.models.consonance.Product`,
:class:`~contentops.models.consonance.TitleEvent`) and hand malformed records to ``on_invalid``
(quarantine) while the rest arrive; writes return a :class:`Written` with the record and whether
anything changed. Call writes inside :meth:`contentops.pipelines.runtime.PipelineRun.deliver_once`
with the plan's idempotency key (or another stable reference of ours) as ``reference``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from airflow.sdk import Connection
from pydantic import BaseModel, ValidationError

from contentops.hooks.auth import Auth, StaticHeaderAuth
from contentops.hooks.base import OnInvalid, PartnerHook, describe_validation_error
from contentops.hooks.errors import (
    InvalidConnectionError,
    MalformedResponseError,
    PartnerAPIError,
    RequestRejectedError,
)
from contentops.hooks.transport import HttpTransport
from contentops.models.consonance import (
    FormatAssetPairing,
    LicenseStatus,
    LicenseTerms,
    LifecycleEventKind,
    Manuscript,
    Product,
    ProductionTask,
    ResourceAttachment,
    RestProduct,
    RestProductPage,
    SupportingResource,
    TitleEvent,
    UsageRightsSummary,
    Work,
)

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

API_FLAVOURS = ("graphql", "rest")

# -- every GraphQL document the hook sends ----------------------------------------------------
_PRODUCT_FIELDS = """
fragment ProductFields on Product {
  __typename id fullTitle subtitle titlePrefix titleWithoutPrefix
  isbn { isbn13 isbn10 isbnWithDashes }
  publicationDate plannedPublicationDate onix21ProductFormCode onixPublishingStatusCode
  onixEditionTypeCodes editionStatement inHouseEdition { name code } authorshipDescription
  imprint { id name } updatedAt
  formatAssetPairings { id reference productId assetId assetVersion role releaseDate embargoUntil }
}"""
_WORK_FIELDS = """
fragment WorkFields on Work {
  id title subtitle authorshipDescription contributorPrettyList editionNumber editionStatement updatedAt
  imprint { id name }
  contributions {
    id sequenceNumber onixContributorRoleCode onixContributorRole { code description } productIds
    contributor {
      __typename id name
      ... on Person { personName personNameInverted keyNames }
      ... on Organisation { organisationName }
    }
  }
  subjectCodes(schemesIn: [BISAC]) { code description main }
  seriesMemberships { id partNumber series { id name subtitle } }
  supportingResources {
    id url caption reference resourceType assetId assetVersion productIds
    usageRights { summary licenseReference validUntil territories channels editions printRun }
  }
  lifecycleEvents { kind eventDate productIds description }
  campaign campaignMilestones { name date } territories
  licenseTerms {
    id reference workId productId assetId licenseReference status validFrom validUntil permittedUsage
    territories channels
  }
}"""
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"
_ATTACHED = """
fragment AttachedFields on AttachedResource {
  id reference url caption resourceType assetId assetVersion
  usageRights { summary licenseReference validUntil territories channels editions printRun }
}"""
_TASK_FIELDS = """
fragment TaskFields on ProductionTask {
  id workId name dueDate status assignee attachedResources { ...AttachedFields }
}"""
_MANUSCRIPT_FIELDS = """
fragment ManuscriptFields on Manuscript {
  id workId version status attachedResources { ...AttachedFields }
}"""

DOCUMENTS: dict[str, str] = {
    "Ping": 'query Ping { products(productSearch: {isbn13Eq: "0000000000000"}) { id } }',
    "WorksChangedSince": f"""
query WorksChangedSince($first: Int, $after: String, $since: ISO8601DateTime) {{
  worksConnection(first: $first, after: $after, workSearch: {{updatedAtGteq: $since}}) {{
    nodes {{ ...WorkFields products {{ ...ProductFields }} }}
    {_PAGE_INFO}
  }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "ProductsChangedSince": f"""
query ProductsChangedSince($first: Int, $after: String, $since: ISO8601DateTime) {{
  productsConnection(first: $first, after: $after, productSearch: {{updatedAtGteq: $since}}) {{
    nodes {{ ...ProductFields work {{ ...WorkFields }} }}
    {_PAGE_INFO}
  }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "ProductsPublishing": f"""
query ProductsPublishing($first: Int, $after: String, $from: ISO8601Date, $to: ISO8601Date) {{
  productsConnection(first: $first, after: $after,
                     productSearch: {{publicationDateGteq: $from, publicationDateLteq: $to}}) {{
    nodes {{ ...ProductFields work {{ ...WorkFields }} }}
    {_PAGE_INFO}
  }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "LifecycleEvents": f"""
query LifecycleEvents($first: Int, $after: String, $from: ISO8601Date, $to: ISO8601Date,
                      $kinds: [LifecycleEventKind!]) {{
  worksConnection(first: $first, after: $after,
                  workSearch: {{lifecycleEventDateGteq: $from, lifecycleEventDateLteq: $to,
                               lifecycleEventKindIn: $kinds}}) {{
    nodes {{ ...WorkFields products {{ ...ProductFields }} }}
    {_PAGE_INFO}
  }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "ProductByIsbn": f"""
query ProductByIsbn($isbn: String!) {{
  product(productSearch: {{isbn13Eq: $isbn}}) {{
    ...ProductFields
    work {{ ...WorkFields products {{ ...ProductFields }} }}
  }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "WorkById": f"""
query WorkById($id: ID!) {{
  work(workSearch: {{idEq: $id}}) {{ ...WorkFields products {{ ...ProductFields }} }}
}}{_WORK_FIELDS}{_PRODUCT_FIELDS}""",
    "WorkProduction": f"""
query WorkProduction($id: ID!) {{
  work(workSearch: {{idEq: $id}}) {{
    id productionTasks {{ ...TaskFields }} manuscripts {{ ...ManuscriptFields }}
  }}
}}{_TASK_FIELDS}{_MANUSCRIPT_FIELDS}{_ATTACHED}""",
    "ProductionTaskById": f"""
query ProductionTaskById($id: ID!) {{
  productionTask(id: $id) {{ ...TaskFields }}
}}{_TASK_FIELDS}{_ATTACHED}""",
    "ManuscriptById": f"""
query ManuscriptById($id: ID!) {{
  manuscript(id: $id) {{ ...ManuscriptFields }}
}}{_MANUSCRIPT_FIELDS}{_ATTACHED}""",
    "AttachResourceToProductionTask": f"""
mutation AttachResourceToProductionTask($input: AttachResourceToProductionTaskInput!) {{
  attachResourceToProductionTask(input: $input) {{
    attachedResource {{ ...AttachedFields }}
    changed
    errors {{ field messages }}
  }}
}}{_ATTACHED}""",
    "AttachResourceToManuscript": f"""
mutation AttachResourceToManuscript($input: AttachResourceToManuscriptInput!) {{
  attachResourceToManuscript(input: $input) {{
    attachedResource {{ ...AttachedFields }}
    changed
    errors {{ field messages }}
  }}
}}{_ATTACHED}""",
    "AttachSupportingResource": """
mutation AttachSupportingResource($input: AttachSupportingResourceInput!) {
  attachSupportingResource(input: $input) {
    supportingResource {
      id url caption reference resourceType assetId assetVersion productIds
      usageRights { summary licenseReference validUntil territories channels editions printRun }
    }
    changed
    errors { field messages }
  }
}""",
    "RecordFormatAssetPairing": """
mutation RecordFormatAssetPairing($input: RecordFormatAssetPairingInput!) {
  recordFormatAssetPairing(input: $input) {
    formatAssetPairing { id reference productId assetId assetVersion role releaseDate embargoUntil }
    changed
    errors { field messages }
  }
}""",
    "RecordLicenseTerms": """
mutation RecordLicenseTerms($input: RecordLicenseTermsInput!) {
  recordLicenseTerms(input: $input) {
    licenseTerms {
      id reference workId productId assetId licenseReference status validFrom validUntil permittedUsage
      territories channels
    }
    changed
    errors { field messages }
  }
}""",
}


@dataclass(frozen=True)
class Written(Generic[M]):
    """What a write left in Consonance, and whether it changed anything (False on a repeat)."""

    record: M
    changed: bool


def ledger_target(work_id: str) -> str:
    """The ledger target of assets attached to a work (``consonance:<work id>``).

    Deliveries recorded under this target are what the rights expiry sweep follows to record
    license terms on the title (CON-2); a title push records its attachments under it."""
    return f"consonance:{work_id}"


class ConsonanceHook(PartnerHook):
    """Consonance titles over GraphQL (primary) or the REST v4 Product API (reads, by connection)."""

    conn_name_attr: ClassVar[str] = "consonance_conn_id"
    default_conn_name: ClassVar[str] = "consonance_default"
    conn_type: ClassVar[str] = "consonance"
    hook_name: ClassVar[str] = "Consonance"
    system: ClassVar[str] = "consonance"
    default_paths: ClassVar[dict[str, str]] = {
        "graphql": "graphql",
        "products": "api/v4/products.json",
    }

    def __init__(self, consonance_conn_id: str | None = None, **kwargs: Any) -> None:
        super().__init__(consonance_conn_id, **kwargs)

    # -- connection --------------------------------------------------------------------------
    @property
    def api(self) -> str:
        """``graphql`` or ``rest``: which API serves the reads both can serve."""
        flavour = str(self.extra.get("api") or "graphql").lower()
        if flavour not in API_FLAVOURS:
            raise InvalidConnectionError(f"extra 'api' must be one of {API_FLAVOURS}", system=self.system)
        return flavour

    def _api_key(self, conn: Connection) -> str:
        if not conn.password:
            raise InvalidConnectionError(
                f"connection {self.conn_id!r} needs the Consonance API key (password)", system=self.system
            )
        return str(conn.password)

    def build_auth(self, conn: Connection) -> Auth | None:
        key = self._api_key(conn)
        return StaticHeaderAuth("Authorization", f"Bearer {key}", secret=key)

    @cached_property
    def rest_transport(self) -> HttpTransport:
        """The REST v4 API authenticates differently (``Token token=``): a transport of its own."""
        from airflow.sdk.log import mask_secret

        key = self._api_key(self.connection)
        return HttpTransport(
            self.transport_settings(),
            StaticHeaderAuth("Authorization", f"Token token={key}", secret=key),
            system=self.system,
            on_secret=mask_secret,
        )

    def test_connection(self) -> tuple[bool, str]:
        """One cheap authenticated call to the configured API (the connection form's Test button)."""
        try:
            if self.api == "rest":
                self.rest_transport.json("GET", self.path("products"), params={"per_page": 1})
            else:
                self._graphql("Ping")
        except PartnerAPIError as exc:
            return False, str(exc)
        return True, f"Connected to Consonance ({self.api}) at {self.transport.redact_url(self.base_url())}"

    # -- plumbing ----------------------------------------------------------------------------
    def _graphql(self, operation: str, variables: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
        return self.transport.graphql(
            self.path("graphql"), DOCUMENTS[operation], variables, operation_name=operation, **kwargs
        )

    def _connection_nodes(self, operation: str, root: str, variables: dict[str, Any], page_size: int) -> Iterator[Any]:
        return self.transport.iter_graphql_connection(
            self.path("graphql"),
            DOCUMENTS[operation],
            connection=lambda data: data.get(root),
            variables=variables,
            page_size=page_size,
            operation_name=operation,
        )

    def _validated(self, model: type[M], raw: Any, kind: str, on_invalid: OnInvalid | None) -> M | None:
        """The record as ``model``, or None after handing it to ``on_invalid`` (quarantine)."""
        try:
            if raw is None:
                raise ValueError("null record")
            return model.model_validate(raw)
        except (ValidationError, ValueError) as exc:
            detail = describe_validation_error(exc) if isinstance(exc, ValidationError) else str(exc)
            reason = f"invalid Consonance {kind}: {detail}"
            if on_invalid is not None:
                on_invalid(reason, raw)
            else:
                log.warning("consonance: skipped %s", reason)
            return None

    def _each_valid(self, model: type[M], raws: Iterable[Any], kind: str, on_invalid: OnInvalid | None) -> Iterator[M]:
        """The records that validate as ``model``; the others went to ``on_invalid`` (see :meth:`_validated`)."""
        for raw in raws:
            record = self._validated(model, raw, kind, on_invalid)
            if record is not None:
                yield record

    def _rest_products(self, params: dict[str, Any], page_size: int, on_invalid: OnInvalid | None) -> Iterator[Product]:
        def items(page: Any) -> list[Any]:
            try:
                return RestProductPage.model_validate(page).products
            except ValidationError as exc:
                raise MalformedResponseError(
                    f"not a REST v4 product page: {describe_validation_error(exc)}", system=self.system
                ) from None

        raws = self.rest_transport.iter_page_numbers(
            self.path("products"),
            items=items,
            per_page=page_size,
            total_pages=lambda page: page.get("total_pages"),
            params=params,
        )
        for product in self._each_valid(RestProduct, raws, "product", on_invalid):
            yield product.to_product()

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run an ad-hoc GraphQL *query* (not a mutation) and return its ``data``.

        For reads the typed methods do not cover; errors raise like every other call."""
        if document.lstrip().startswith("mutation"):
            raise ValueError("query() runs queries only; writes have typed methods")
        return self.transport.graphql(self.path("graphql"), document, variables)

    # -- reads -------------------------------------------------------------------------------
    def iter_works_changed_since(
        self, since: datetime, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Work]:
        """Works (with contributors, BISAC subjects, series, resources and products) changed at or
        after ``since`` — the incremental feed of a title metadata push. GraphQL only."""
        nodes = self._connection_nodes("WorksChangedSince", "worksConnection", {"since": since.isoformat()}, page_size)
        yield from self._each_valid(Work, nodes, "work", on_invalid)

    def iter_products_changed_since(
        self, since: datetime, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Product]:
        """Products (formats) changed at or after ``since``; with ``api=rest`` from the Product API
        (then ``product.work`` holds only the work id and title)."""
        if self.api == "rest":
            yield from self._rest_products({"q[updated_at_gteq]": since.isoformat()}, page_size, on_invalid)
            return
        nodes = self._connection_nodes(
            "ProductsChangedSince", "productsConnection", {"since": since.isoformat()}, page_size
        )
        yield from self._each_valid(Product, nodes, "product", on_invalid)

    def iter_titles_approaching_publication(
        self, as_of: date, within_days: int, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Product]:
        """Products publishing from ``as_of`` through ``as_of + within_days`` (inclusive), each with
        its work (title, contributors, imprint, BISAC) — the CON-4 trigger. Pass the run's data
        interval end as ``as_of`` so a backfill sees what that day saw."""
        if within_days < 0:
            raise ValueError("within_days must be zero or more")
        start, end = as_of.isoformat(), (as_of + timedelta(days=within_days)).isoformat()
        if self.api == "rest":
            params = {"q[pub_date_gteq]": start, "q[pub_date_lteq]": end}
            yield from self._rest_products(params, page_size, on_invalid)
            return
        nodes = self._connection_nodes(
            "ProductsPublishing", "productsConnection", {"from": start, "to": end}, page_size
        )
        yield from self._each_valid(Product, nodes, "product", on_invalid)

    def iter_lifecycle_events(
        self,
        since: date,
        until: date | None = None,
        *,
        kinds: list[LifecycleEventKind] | None = None,
        page_size: int = 50,
        on_invalid: OnInvalid | None = None,
    ) -> Iterator[TitleEvent]:
        """Revisions, reissues and repackagings dated ``since`` … ``until`` (inclusive), each with
        its work and products (CON-4, CON-8: surface the latest assets, retire outdated ones).
        GraphQL only."""
        variables: dict[str, Any] = {
            "from": since.isoformat(),
            "to": until.isoformat() if until else None,
            "kinds": [LifecycleEventKind(k).value for k in kinds] if kinds else None,
        }
        wanted = set(variables["kinds"] or [k.value for k in LifecycleEventKind])
        nodes = self._connection_nodes("LifecycleEvents", "worksConnection", variables, page_size)
        for work in self._each_valid(Work, nodes, "work", on_invalid):
            for event in sorted(work.lifecycle_events, key=lambda e: e.event_date):
                if (
                    event.kind.value in wanted
                    and event.event_date >= since
                    and (until is None or event.event_date <= until)
                ):
                    yield TitleEvent(work=work, event=event)

    def get_product_by_isbn(self, isbn13: str) -> Product | None:
        """The product with this ISBN-13 (with its work and the work's products), or None."""
        if self.api == "rest":
            return next(self._rest_products({"q[isbn_eq]": isbn13}, 1, None), None)
        raw = self._graphql("ProductByIsbn", {"isbn": isbn13}).get("product")
        return None if raw is None else Product.model_validate(raw)

    def get_work_by_isbn(self, isbn13: str) -> Work | None:
        """The work one of whose products has this ISBN-13 (any format), or None. GraphQL only."""
        raw = self._graphql("ProductByIsbn", {"isbn": isbn13}).get("product")
        if raw is None:
            return None
        product = Product.model_validate(raw)
        if product.work is None:
            raise MalformedResponseError(f"product {product.id} came without its work", system=self.system)
        return product.work

    def get_work(self, work_id: str) -> Work | None:
        """One work with its products, supporting resources and license terms, or None."""
        raw = self._graphql("WorkById", {"id": work_id}).get("work")
        return None if raw is None else Work.model_validate(raw)

    def get_production(self, work_id: str) -> tuple[list[ProductionTask], list[Manuscript]] | None:
        """A work's production tasks and manuscripts (modelled), each with its attached resources,
        or None when there is no such work."""
        raw = self._graphql("WorkProduction", {"id": work_id}).get("work")
        if raw is None:
            return None
        tasks = [ProductionTask.model_validate(t) for t in raw.get("productionTasks") or []]
        manuscripts = [Manuscript.model_validate(m) for m in raw.get("manuscripts") or []]
        return tasks, manuscripts

    def get_production_task(self, task_id: str) -> ProductionTask | None:
        """One production task (its work id, due date, status, assignee, attachments), or None."""
        raw = self._graphql("ProductionTaskById", {"id": task_id}).get("productionTask")
        return None if raw is None else ProductionTask.model_validate(raw)

    def get_manuscript(self, manuscript_id: str) -> Manuscript | None:
        """One manuscript version (its work id, status, attachments), or None."""
        raw = self._graphql("ManuscriptById", {"id": manuscript_id}).get("manuscript")
        return None if raw is None else Manuscript.model_validate(raw)

    # -- writes (modelled mutations, upserts keyed by our reference) -------------------------
    def _mutate(self, operation: str, root: str, record: str, model: type[M], payload: dict[str, Any]) -> Written[M]:
        data = self._graphql(operation, {"input": payload}, idempotent=True)
        result = data.get(root)
        if not isinstance(result, dict):
            raise MalformedResponseError(f"{root} answered without a payload", system=self.system)
        if result.get("errors"):
            problems = "; ".join(f"{e.get('field')}: {', '.join(e.get('messages') or [])}" for e in result["errors"])
            raise RequestRejectedError(f"{root} refused: {problems}", system=self.system, status=200)
        return Written(model.model_validate(result.get(record)), bool(result.get("changed")))

    def attach_supporting_resource(
        self,
        work_id: str,
        *,
        reference: str,
        url: str,
        resource_type: str,
        asset_id: str,
        usage_rights: UsageRightsSummary,
        asset_version: int = 1,
        caption: str | None = None,
        product_ids: list[str] | None = None,
    ) -> Written[SupportingResource]:
        """Link an approved asset to a title (work; optionally only some of its products) as a
        supporting resource carrying its usage-rights summary (CON-1, CON-6).

        ``reference`` is ours (e.g. the delivery's idempotency key): repeating the call with the
        same values changes nothing; a new ``asset_version`` updates the same resource."""
        payload = {
            "workId": work_id,
            "reference": reference,
            "url": url,
            "caption": caption,
            "resourceType": resource_type,
            "assetId": asset_id,
            "assetVersion": asset_version,
            "productIds": product_ids or [],
            "usageRights": usage_rights.model_dump(mode="json", by_alias=True),
        }
        return self._mutate(
            "AttachSupportingResource", "attachSupportingResource", "supportingResource", SupportingResource, payload
        )

    def record_format_asset_pairing(
        self,
        product_id: str,
        *,
        reference: str,
        asset_id: str,
        role: str,
        release_date: date | None,
        asset_version: int = 1,
        embargo_until: date | None = None,
    ) -> Written[FormatAssetPairing]:
        """Pair a format (product: print jacket, ebook cover, audio thumbnail …) with its approved
        asset and release timing (CON-5). Idempotent by ``reference``."""
        payload = {
            "productId": product_id,
            "reference": reference,
            "assetId": asset_id,
            "assetVersion": asset_version,
            "role": role,
            "releaseDate": release_date.isoformat() if release_date else None,
            "embargoUntil": embargo_until.isoformat() if embargo_until else None,
        }
        return self._mutate(
            "RecordFormatAssetPairing", "recordFormatAssetPairing", "formatAssetPairing", FormatAssetPairing, payload
        )

    def record_license_terms(
        self,
        work_id: str,
        *,
        reference: str,
        asset_id: str,
        status: LicenseStatus | str,
        valid_until: datetime | None,
        valid_from: datetime | None = None,
        license_reference: str | None = None,
        permitted_usage: str | None = None,
        territories: list[str] | None = None,
        channels: list[str] | None = None,
        product_id: str | None = None,
    ) -> Written[LicenseTerms]:
        """Record the license terms, expiry and permitted usage of an asset a title uses (CON-2).

        One record per ``reference`` (e.g. ``license-<asset id>``): a renewal or an end updates it."""
        payload = {
            "workId": work_id,
            "productId": product_id,
            "reference": reference,
            "assetId": asset_id,
            "licenseReference": license_reference,
            "status": LicenseStatus(status).value,
            "validFrom": valid_from.isoformat() if valid_from else None,
            "validUntil": valid_until.isoformat() if valid_until else None,
            "permittedUsage": permitted_usage,
            "territories": territories or [],
            "channels": channels or [],
        }
        return self._mutate("RecordLicenseTerms", "recordLicenseTerms", "licenseTerms", LicenseTerms, payload)

    def _attach_payload(
        self,
        *,
        reference: str,
        url: str,
        resource_type: str,
        asset_id: str,
        usage_rights: UsageRightsSummary,
        asset_version: int,
        caption: str | None,
    ) -> dict[str, Any]:
        return {
            "reference": reference,
            "url": url,
            "caption": caption,
            "resourceType": resource_type,
            "assetId": asset_id,
            "assetVersion": asset_version,
            "usageRights": usage_rights.model_dump(mode="json", by_alias=True),
        }

    def attach_to_production_task(
        self,
        task_id: str,
        *,
        reference: str,
        url: str,
        resource_type: str,
        asset_id: str,
        usage_rights: UsageRightsSummary,
        asset_version: int = 1,
        caption: str | None = None,
    ) -> Written[ResourceAttachment]:
        """Attach an approved asset to a production task ("Cover design" …) with its usage-rights
        summary (CON-3). Idempotent by ``reference``; a new ``asset_version`` updates it."""
        payload = {
            "productionTaskId": task_id,
            **self._attach_payload(
                reference=reference,
                url=url,
                resource_type=resource_type,
                asset_id=asset_id,
                usage_rights=usage_rights,
                asset_version=asset_version,
                caption=caption,
            ),
        }
        return self._mutate(
            "AttachResourceToProductionTask",
            "attachResourceToProductionTask",
            "attachedResource",
            ResourceAttachment,
            payload,
        )

    def attach_to_manuscript(
        self,
        manuscript_id: str,
        *,
        reference: str,
        url: str,
        resource_type: str,
        asset_id: str,
        usage_rights: UsageRightsSummary,
        asset_version: int = 1,
        caption: str | None = None,
    ) -> Written[ResourceAttachment]:
        """Attach an approved asset to a manuscript version with its usage-rights summary (CON-3).
        Idempotent by ``reference``; a new ``asset_version`` updates it."""
        payload = {
            "manuscriptId": manuscript_id,
            **self._attach_payload(
                reference=reference,
                url=url,
                resource_type=resource_type,
                asset_id=asset_id,
                usage_rights=usage_rights,
                asset_version=asset_version,
                caption=caption,
            ),
        }
        return self._mutate(
            "AttachResourceToManuscript", "attachResourceToManuscript", "attachedResource", ResourceAttachment, payload
        )
