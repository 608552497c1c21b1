"""Consonance (consonance.app): the publisher's title records — works, products (formats, ISBNs) —
and the approved assets and license terms we attach to them.

Sourced (GeneralProducts/consonance-graphql examples; shared/api-notes/smintio-consonance-vip.md
§2; docs/systems/consonance.md): the GraphQL API at ``POST {instance}/graphql`` with
``Authorization: Bearer <API key>``, and what ``include/sandbox/consonance/schema/public.graphql``
writes down from the public examples — ``product(productSearch: {isbn13Eq})``,
``work(workSearch: {idEq})``, ``products(productSearch: {publicationDateGt})``, a work's
``imprint``, ``productionRuns``, a product's ``prices(priceSearch:)``,
``contract(contractSearch:) {licensedRights}``, ``person(id:)``; the REST v4 Product API
``GET {instance}/api/v4/products.json`` with ``Authorization: Token token=<key>``, ``q[...]``
filters and the ``current_page`` / ``per_page`` / ``total_pages`` envelope.

**Modelled** (``schema/modelled.graphql``; not public): change tracking (``updatedAt``,
``updatedAtGteq``), paging (``worksConnection`` / ``productsConnection``), lifecycle events,
campaigns, sales territories, the details of the resources we attach, license terms, format
pairings, the production schedule (tasks, manuscripts) and every write (upserts keyed by our own
``reference``). A GraphQL server refuses a whole document for one field it lacks, so these live
in documents of their own (:mod:`contentops.hooks.consonance_documents`): the public lookups
never depend on them, and when Consonance refuses one the hook goes on without it — a warning in
the task log, an entry in :attr:`ConsonanceHook.degradations` and, through ``on_degraded`` (set by
:meth:`contentops.pipelines.runtime.PipelineRun.hook`), a ``degraded`` row in the run report. A
refused write raises :class:`ModelledFeatureUnavailableError` (nothing can be written that way).

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
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property
from typing import Any, ClassVar, Generic, TypeVar

from airflow.sdk import Connection
from pydantic import BaseModel, ValidationError

from contentops import lineage
from contentops.hooks.auth import Auth, StaticHeaderAuth
from contentops.hooks.base import OnInvalid, PartnerHook, describe_validation_error
from contentops.hooks.consonance_documents import DOCUMENTS, rendered
from contentops.hooks.errors import (
    GraphQLError,
    InvalidConnectionError,
    MalformedResponseError,
    PartnerAPIError,
    RequestRejectedError,
)
from contentops.hooks.transport import HttpTransport
from contentops.models.consonance import (
    Contract,
    FormatAssetPairing,
    LicenseStatus,
    LicenseTerms,
    LifecycleEventKind,
    Manuscript,
    PersonDetails,
    Product,
    ProductionRun,
    ProductionTask,
    ResourceAttachment,
    RestProduct,
    RestProductPage,
    SupportingResource,
    TitleEvent,
    UsageRightsSummary,
    Work,
)
from contentops.targets import TargetSystem

__all__ = ["DOCUMENTS", "ConsonanceHook", "ModelledFeatureUnavailableError", "Written", "ledger_target"]

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

API_FLAVOURS = ("graphql", "rest")

_ISBN13 = re.compile(r"^\d{13}$")

#: graphql-ruby's codes for a document its schema refuses (static validation)
_REFUSAL_CODES = {
    "undefinedfield",
    "argumentnotaccepted",
    "undefinedtype",
    "missingrequiredarguments",
    "selectionmismatch",
    "variablemismatch",
    "variablenotdefined",
    "argumentliteralsincompatible",
    "parseerror",
    "graphql_validation_failed",
}
#: how graphql-js / graphql-core and graphql-ruby word the same refusals
_REFUSAL_WORDS = re.compile(
    r"Cannot query field|doesn't exist on type|doesn't accept argument|Unknown argument|Unknown type|"
    r"is not defined by type|isn't a defined input type|Field is not defined on|Syntax Error|Parse error",
    re.IGNORECASE,
)


def is_refusal(errors: list[dict[str, Any]]) -> bool:
    """Whether a GraphQL ``errors`` array refuses the document itself (a request error: a field,
    argument or type the schema lacks), not a problem met while running it.

    graphql-js / graphql-core report request errors without a ``path``; graphql-ruby (what
    Consonance runs on, by its error codes) gives static-validation codes; both word them alike."""
    if not errors:
        return False
    for error in errors:
        code = str((error.get("extensions") or {}).get("code") or "").lower()
        if code in _REFUSAL_CODES or _REFUSAL_WORDS.search(str(error.get("message") or "")):
            continue
        if "path" not in error and not code:
            continue
        return False
    return True


class ModelledFeatureUnavailableError(RequestRejectedError):
    """Consonance refused a modelled write: its schema lacks what we modelled, so retrying
    cannot help (the retry policy fails a refused request at once)."""

    hint = "This Consonance instance does not offer the modelled write; see docs/systems/consonance.md."


def _merged(public: Any, modelled: Any) -> Any:
    """The public record with the modelled answer's fields laid over it: objects key by key,
    lists of records by ``id`` (or position, when the public items carry no id)."""
    if isinstance(public, dict) and isinstance(modelled, dict):
        merged = dict(public)
        for key, value in modelled.items():
            merged[key] = _merged(public[key], value) if key in public else value
        return merged
    if isinstance(public, list) and isinstance(modelled, list):
        if all(isinstance(i, dict) and i.get("id") is not None for i in [*public, *modelled]):
            by_id = {str(item["id"]): item for item in modelled}
            return [_merged(item, by_id.get(str(item["id"]), {})) for item in public]
        if len(public) == len(modelled):
            return [_merged(a, b) for a, b in zip(public, modelled, strict=True)]
        return modelled
    return public if modelled is None else modelled


def _int_id(value: str | int) -> int | None:
    """A Consonance id as the ``Int`` the public ``idEq`` / ``person(id:)`` take, or None."""
    text = str(value).strip()
    return int(text) if text.isdigit() else None


@dataclass(frozen=True)
class Written(Generic[M]):
    """What a write left in Consonance, and whether it changed anything (False on a repeat)."""

    record: M
    changed: bool


def ledger_target(work_id: str) -> str:
    """The ledger target of assets attached to a work (``consonance:<work id>``).

    Deliveries recorded under this target are what the rights expiry sweep follows to record
    license terms on the title (CON-2); a title push records its attachments under it."""
    return str(TargetSystem.CONSONANCE.of(work_id))


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
        key = self._api_key(self.connection)
        return self.make_transport(StaticHeaderAuth("Authorization", f"Token token={key}", secret=key))

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
    #: called with (operation, warning) when Consonance refuses a modelled document (the
    #: pipeline runtime records it in the run report)
    on_degraded: Callable[[str, str], None] | None = None

    @cached_property
    def degradations(self) -> dict[str, str]:
        """operation -> the warning given when Consonance refused it (once per hook)."""
        return {}

    def _graphql(
        self,
        operation: str,
        variables: dict[str, Any] | None = None,
        *,
        literals: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> dict[str, Any]:
        return self.transport.graphql(
            self.path("graphql"), rendered(operation, **(literals or {})), variables, operation_name=operation, **kwargs
        )

    def _degrade(self, operation: str, exc: GraphQLError) -> None:
        """Say once, in the log and to ``on_degraded``, what a refused modelled document costs."""
        if operation in self.degradations:
            return
        first = str((exc.errors[0] if exc.errors else {}).get("message") or exc)
        kind = "write" if DOCUMENTS[operation].text.startswith("mutation") else "query"
        warning = (
            f"Consonance refused the modelled {kind} {operation} ({first}): {DOCUMENTS[operation].loses}; "
            "the public lookups go on (docs/systems/consonance.md)"
        )
        self.degradations[operation] = warning
        log.warning("%s", warning)
        if self.on_degraded is not None:
            self.on_degraded(operation, warning)

    def _optional(
        self, operation: str, variables: dict[str, Any] | None = None, *, literals: dict[str, str] | None = None
    ) -> dict[str, Any] | None:
        """A modelled query's ``data``, or None when Consonance refuses the document (said once;
        not asked again by this hook)."""
        if operation in self.degradations:
            return None
        try:
            return self._graphql(operation, variables, literals=literals)
        except GraphQLError as exc:
            if not is_refusal(exc.errors):
                raise
            self._degrade(operation, exc)
            return None

    def _optional_nodes(self, operation: str, root: str, variables: dict[str, Any], page_size: int) -> Iterator[Any]:
        """The nodes of a modelled paged query, page by page; none when Consonance refuses it."""
        if operation in self.degradations:
            return
        nodes = self.transport.iter_graphql_connection(
            self.path("graphql"),
            rendered(operation),
            connection=lambda data: data.get(root),
            variables=variables,
            page_size=page_size,
            operation_name=operation,
        )
        try:
            yield from nodes
        except GraphQLError as exc:
            if not is_refusal(exc.errors):
                raise
            self._degrade(operation, exc)

    def _with_modelled(
        self,
        public: Any,
        operation: str,
        variables: dict[str, Any] | None = None,
        *,
        literals: dict[str, str] | None = None,
        root: str,
    ) -> Any:
        """``public`` (a record from a public query) with what the modelled ``operation`` adds."""
        if not isinstance(public, dict):
            return public
        data = self._optional(operation, variables, literals=literals)
        modelled = (data or {}).get(root)
        return _merged(public, modelled) if isinstance(modelled, dict) else public

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
        after ``since`` — the incremental feed of a title metadata push. GraphQL only; modelled
        (no public query tells what changed): none, with a warning, when Consonance refuses it."""
        lineage.read(self, "works")
        nodes = self._optional_nodes("WorksChangedSince", "worksConnection", {"since": since.isoformat()}, page_size)
        yield from self._each_valid(Work, nodes, "work", on_invalid)

    def iter_products_changed_since(
        self, since: datetime, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Product]:
        """Products (formats) changed at or after ``since``; with ``api=rest`` from the Product API
        (then ``product.work`` holds only the work id and title). Modelled over GraphQL."""
        lineage.read(self, "products")
        if self.api == "rest":
            yield from self._rest_products({"q[updated_at_gteq]": since.isoformat()}, page_size, on_invalid)
            return
        nodes = self._optional_nodes(
            "ProductsChangedSince", "productsConnection", {"since": since.isoformat()}, page_size
        )
        yield from self._each_valid(Product, nodes, "product", on_invalid)

    def iter_titles_approaching_publication(
        self, as_of: date, within_days: int, *, page_size: int = 50, on_invalid: OnInvalid | None = None
    ) -> Iterator[Product]:
        """Products publishing from ``as_of`` through ``as_of + within_days`` (inclusive), each with
        its work (title, contributors, imprint, BISAC) — the CON-4 trigger. Pass the run's data
        interval end as ``as_of`` so a backfill sees what that day saw.

        Over GraphQL this is the public ``products(productSearch: {publicationDateGt})`` (the
        examples' filter, one list: they show no paging), narrowed to the window here."""
        if within_days < 0:
            raise ValueError("within_days must be zero or more")
        end = as_of + timedelta(days=within_days)
        lineage.read(self, "products")
        if self.api == "rest":
            params = {"q[pub_date_gteq]": as_of.isoformat(), "q[pub_date_lteq]": end.isoformat()}
            yield from self._rest_products(params, page_size, on_invalid)
            return
        after = (as_of - timedelta(days=1)).isoformat()
        raws = self._graphql("ProductsPublishedAfter", literals={"after": after}).get("products") or []
        for product in self._each_valid(Product, raws, "product", on_invalid):
            published = product.publication_date
            if published is not None and as_of <= published <= end:
                yield product

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
        GraphQL only; modelled: none, with a warning, when Consonance refuses it."""
        variables: dict[str, Any] = {
            "from": since.isoformat(),
            "to": until.isoformat() if until else None,
            "kinds": [LifecycleEventKind(k).value for k in kinds] if kinds else None,
        }
        wanted = set(variables["kinds"] or [k.value for k in LifecycleEventKind])
        lineage.read(self, "works")
        nodes = self._optional_nodes("LifecycleEvents", "worksConnection", variables, page_size)
        for work in self._each_valid(Work, nodes, "work", on_invalid):
            for event in sorted(work.lifecycle_events, key=lambda e: e.event_date):
                if (
                    event.kind.value in wanted
                    and event.event_date >= since
                    and (until is None or event.event_date <= until)
                ):
                    yield TitleEvent(work=work, event=event)

    def _product_raw(self, isbn13: str) -> dict[str, Any] | None:
        """The public product (with its work) and, when Consonance has them, its modelled fields."""
        if not _ISBN13.match(isbn13 or ""):
            return None  # not an ISBN-13: no product has it (and it never goes into a document)
        raw = self._graphql("ProductByIsbn", literals={"isbn": isbn13}).get("product")
        return self._with_modelled(raw, "ProductByIsbnModelled", literals={"isbn": isbn13}, root="product")

    def get_product_by_isbn(self, isbn13: str) -> Product | None:
        """The product with this ISBN-13 (with its work and the work's products), or None."""
        if self.api == "rest":
            return next(self._rest_products({"q[isbn_eq]": isbn13}, 1, None), None)
        raw = self._product_raw(isbn13)
        return None if raw is None else Product.model_validate(raw)

    def get_work_by_isbn(self, isbn13: str) -> Work | None:
        """The work one of whose products has this ISBN-13 (any format), or None. GraphQL only."""
        raw = self._product_raw(isbn13)
        if raw is None:
            return None
        product = Product.model_validate(raw)
        if product.work is None:
            raise MalformedResponseError(f"product {product.id} came without its work", system=self.system)
        return product.work

    def get_work(self, work_id: str) -> Work | None:
        """One work with its products (public), and — when Consonance has them — its supporting
        resources' details, license terms and the other modelled fields; or None."""
        number = _int_id(work_id)
        if number is None:
            return None  # Consonance ids are integers: no work has this one
        raw = self._graphql("WorkById", {"id": number}).get("work")
        raw = self._with_modelled(raw, "WorkByIdModelled", {"id": number}, root="work")
        lineage.read(self, "works", work_id)
        return None if raw is None else Work.model_validate(raw)

    def get_production_runs(self, work_id: str) -> list[ProductionRun] | None:
        """A work's production runs (public production data: printings with quantity, binding,
        covers, finishes, interiors and delivery date), or None when there is no such work."""
        number = _int_id(work_id)
        raw = None if number is None else self._graphql("WorkProductionRuns", {"id": number}).get("work")
        if raw is None:
            return None
        return [ProductionRun.model_validate(r) for r in raw.get("productionRuns") or []]

    def get_contract(self, contract_id: str) -> Contract | None:
        """A contract with the rights it licenses (``licensedRights``: right type, author's cut),
        or None."""
        number = _int_id(contract_id)
        raw = None if number is None else self._graphql("ContractRights", {"id": number}).get("contract")
        return None if raw is None else Contract.model_validate(raw)

    def get_person(self, person_id: str) -> PersonDetails | None:
        """A person (contributor) with biographical note and the works they contributed to, or None."""
        number = _int_id(person_id)
        raw = None if number is None else self._graphql("PersonById", {"id": number}).get("person")
        return None if raw is None else PersonDetails.model_validate(raw)

    def get_production(self, work_id: str) -> tuple[list[ProductionTask], list[Manuscript]] | None:
        """A work's production tasks and manuscripts (modelled), each with its attached resources;
        None when there is no such work, and none of either (with a warning) when Consonance
        refuses the modelled query."""
        number = _int_id(work_id)
        if number is None:
            return None
        data = self._optional("WorkProduction", {"id": number})
        if data is None:
            return [], []
        raw = data.get("work")
        if raw is None:
            return None
        tasks = [ProductionTask.model_validate(t) for t in raw.get("productionTasks") or []]
        manuscripts = [Manuscript.model_validate(m) for m in raw.get("manuscripts") or []]
        return tasks, manuscripts

    def get_production_task(self, task_id: str) -> ProductionTask | None:
        """One production task (its work id, due date, status, assignee, attachments), or None
        (also when Consonance refuses the modelled query, with a warning)."""
        raw = (self._optional("ProductionTaskById", {"id": task_id}) or {}).get("productionTask")
        return None if raw is None else ProductionTask.model_validate(raw)

    def get_manuscript(self, manuscript_id: str) -> Manuscript | None:
        """One manuscript version (its work id, status, attachments), or None (also when
        Consonance refuses the modelled query, with a warning)."""
        raw = (self._optional("ManuscriptById", {"id": manuscript_id}) or {}).get("manuscript")
        return None if raw is None else Manuscript.model_validate(raw)

    # -- writes (modelled mutations, upserts keyed by our reference) -------------------------
    def _mutate(
        self,
        operation: str,
        root: str,
        record: str,
        model: type[M],
        payload: dict[str, Any],
        *,
        target: tuple[str, ...],
    ) -> Written[M]:
        """Run a write mutation; ``target`` is the path of what it writes (see :mod:`contentops.lineage`)."""
        if operation in self.degradations:  # refused before: it cannot succeed now
            raise ModelledFeatureUnavailableError(self.degradations[operation], system=self.system)
        try:
            data = self._graphql(operation, {"input": payload}, idempotent=True)
        except GraphQLError as exc:
            if not is_refusal(exc.errors):
                raise
            self._degrade(operation, exc)
            raise ModelledFeatureUnavailableError(
                self.degradations[operation], system=self.system, status=exc.status
            ) from None
        result = data.get(root)
        if not isinstance(result, dict):
            raise MalformedResponseError(f"{root} answered without a payload", system=self.system)
        if result.get("errors"):
            problems = "; ".join(f"{e.get('field')}: {', '.join(e.get('messages') or [])}" for e in result["errors"])
            raise RequestRejectedError(f"{root} refused: {problems}", system=self.system, status=200)
        written = Written(model.model_validate(result.get(record)), bool(result.get("changed")))
        lineage.wrote(self, *target)
        return written

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
            "AttachSupportingResource",
            "attachSupportingResource",
            "supportingResource",
            SupportingResource,
            payload,
            target=("works", work_id),
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
            "RecordFormatAssetPairing",
            "recordFormatAssetPairing",
            "formatAssetPairing",
            FormatAssetPairing,
            payload,
            target=("products", product_id),
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
        return self._mutate(
            "RecordLicenseTerms", "recordLicenseTerms", "licenseTerms", LicenseTerms, payload, target=("works", work_id)
        )

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
            target=("production-tasks", task_id),
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
            "AttachResourceToManuscript",
            "attachResourceToManuscript",
            "attachedResource",
            ResourceAttachment,
            payload,
            target=("manuscripts", manuscript_id),
        )
