"""The Consonance sandbox: title management (works, products) over GraphQL and the REST v4 Product API.

GraphQL is served by graphql-core from two SDL files (``schema/``): ``public.graphql``, written
from Consonance's public examples (GeneralProducts/consonance-graphql: products, works, imprint,
production runs, prices, contracts and licensed rights, people), and ``modelled.graphql``, our
``extend`` declarations for what no public source shows — paging (``worksConnection`` /
``productsConnection``), change tracking (``updatedAt``, ``updatedAtGteq``), lifecycle events,
campaigns, sales territories, our attachments' details, license terms, format pairings, the
production schedule (tasks, manuscripts) and every mutation (upserts by the caller's
``reference``). The option ``public_only`` serves ``public.graphql`` alone: every modelled name is
then refused the GraphQL way (``errors``, no ``data``), as the real service would refuse it.

Resolvers (:data:`RESOLVERS`) read the sandbox store; a field without one reads the record's key
of the same name. REST: ``GET /api/v4/products.json`` with ``Authorization: Token token=<key>``,
``q[...]`` filters and the ``current_page`` / ``per_page`` / ``total_pages`` / ``url`` /
``products`` envelope (page parameter ``page`` and the filters ``q[updated_at_gteq]``,
``q[pub_date_gteq]``, ``q[pub_date_lteq]``, ``q[work_id_eq]`` are modelled). See
docs/systems/consonance.md.

A missing or wrong API key gets HTTP 401 with ``{"errors": [...]}`` and code
``UNAUTHENTICATED``. Operator side under ``/_sandbox/consonance/…``: add or change works,
products and lifecycle events exactly as given (hostile ones too), and a seed summary.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import JSONResponse, PlainTextResponse

from contentops_sandbox.consonance import seed as seed_data
from contentops_sandbox.consonance.graphql import FieldError, Resolver, executable_schema, run
from contentops_sandbox.core import SandboxConfig, SandboxContext, create_sandbox_app

#: what a resolver gets as its third argument (graphql-core's resolve info; ``.context["data"]``)
ExecutionContext = Any

PATHS = {"graphql": "/graphql", "products": "/api/v4/products.json"}
DEMO_API_KEY = "c0e6a7d2b9f4418e8d3a5b7c9e1f2a3b"
MAX_PAGE = 100
PUBLISHING_STATUSES = {
    "02": "Forthcoming",
    "04": "Active",
    "07": "Out of print",
}
PRODUCT_TYPES = (
    "PhysicalBookProduct",
    "ElectronicBookProduct",
    "ElectronicAudioProduct",
    "PhysicalAudioProduct",
    "GenericProduct",
)
FORM_DESCRIPTIONS = {
    "BB": "Hardback",
    "BC": "Paperback",
    "DG": "Electronic book text",
    "AJ": "Downloadable audio file",
    "AC": "CD-Audio",
}


def error_body(status: int, code: str, message: str) -> dict[str, Any]:
    """Errors the GraphQL way, for every route (the frame's 429 / injected faults included)."""
    return {"errors": [{"message": message, "extensions": {"code": code.upper()}}]}


# -- search ------------------------------------------------------------------------------

WORK_SEARCH = {
    "idEq": "ID",
    "idIn": "[ID!]",
    "titleCont": "String",
    "updatedAtGteq": "ISO8601DateTime",
    "updatedAtLt": "ISO8601DateTime",
    "lifecycleEventDateGteq": "ISO8601Date",
    "lifecycleEventDateLteq": "ISO8601Date",
    "lifecycleEventKindIn": "[LifecycleEventKind!]",
    "imprintIdEq": "ID",
}
PRODUCT_SEARCH = {
    "idEq": "ID",
    "idIn": "[ID!]",
    "isbn13Eq": "String",
    "isbn13In": "[String!]",
    "onix21ProductFormCodeIn": "[String!]",
    "publicationDateGt": "ISO8601Date",
    "publicationDateGteq": "ISO8601Date",
    "publicationDateLteq": "ISO8601Date",
    "publicationDateLt": "ISO8601Date",
    "updatedAtGteq": "ISO8601DateTime",
    "workIdEq": "ID",
}


def _check_search(search: Any, allowed: dict[str, str], name: str) -> dict[str, Any]:
    if search is None:
        return {}
    if not isinstance(search, dict):
        raise FieldError(f"{name} must be an input object")
    unknown = sorted(set(search) - set(allowed))
    if unknown:
        raise FieldError(f"InputObject '{name}' doesn't accept argument '{unknown[0]}'", "argumentNotAccepted")
    return search


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _moment(value: Any) -> datetime | None:
    try:
        moment = datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _search_moment(search: dict[str, Any], key: str) -> datetime | None:
    if search.get(key) is None:
        return None
    moment = _moment(search[key])
    if moment is None:
        raise FieldError(f"{key}: not an ISO 8601 date-time: {search[key]!r}")
    return moment


def _search_day(search: dict[str, Any], key: str) -> date | None:
    if search.get(key) is None:
        return None
    day = _day(search[key])
    if day is None:
        raise FieldError(f"{key}: not an ISO 8601 date: {search[key]!r}")
    return day


def product_matches(product: dict[str, Any], search: dict[str, Any]) -> bool:
    if search.get("idEq") is not None and str(product.get("id")) != str(search["idEq"]):
        return False
    if search.get("idIn") is not None and str(product.get("id")) not in {str(i) for i in search["idIn"]}:
        return False
    isbn = (product.get("isbn") or {}).get("isbn13") if isinstance(product.get("isbn"), dict) else None
    if search.get("isbn13Eq") is not None and isbn != search["isbn13Eq"]:
        return False
    if search.get("isbn13In") is not None and isbn not in search["isbn13In"]:
        return False
    if search.get("onix21ProductFormCodeIn") is not None and (
        product.get("onix21ProductFormCode") not in search["onix21ProductFormCodeIn"]
    ):
        return False
    if search.get("workIdEq") is not None and str(product.get("workId")) != str(search["workIdEq"]):
        return False
    published = _day(product.get("publicationDate") or product.get("plannedPublicationDate"))
    for key, keep in (
        ("publicationDateGt", lambda d, bound: d > bound),
        ("publicationDateGteq", lambda d, bound: d >= bound),
        ("publicationDateLteq", lambda d, bound: d <= bound),
        ("publicationDateLt", lambda d, bound: d < bound),
    ):
        bound = _search_day(search, key)
        if bound is not None and (published is None or not keep(published, bound)):
            return False
    since = _search_moment(search, "updatedAtGteq")
    updated = _moment(product.get("updatedAt"))
    return not (since is not None and (updated is None or updated < since))


def work_matches(work: dict[str, Any], search: dict[str, Any]) -> bool:
    if search.get("idEq") is not None and str(work.get("id")) != str(search["idEq"]):
        return False
    if search.get("idIn") is not None and str(work.get("id")) not in {str(i) for i in search["idIn"]}:
        return False
    if search.get("titleCont") and str(search["titleCont"]).lower() not in str(work.get("title") or "").lower():
        return False
    if search.get("imprintIdEq") is not None and str((work.get("imprint") or {}).get("id")) != str(
        search["imprintIdEq"]
    ):
        return False
    updated = _moment(work.get("updatedAt"))
    since = _search_moment(search, "updatedAtGteq")
    if since is not None and (updated is None or updated < since):
        return False
    until = _search_moment(search, "updatedAtLt")
    if until is not None and (updated is None or updated >= until):
        return False
    event_keys = ("lifecycleEventDateGteq", "lifecycleEventDateLteq", "lifecycleEventKindIn")
    if any(search.get(k) is not None for k in event_keys):
        low = _search_day(search, "lifecycleEventDateGteq")
        high = _search_day(search, "lifecycleEventDateLteq")
        kinds = search.get("lifecycleEventKindIn")
        found = False
        for event in work.get("lifecycleEvents") or []:
            day = _day(event.get("eventDate")) if isinstance(event, dict) else None
            if day is None or (low and day < low) or (high and day > high):
                continue
            if kinds is not None and event.get("kind") not in kinds:
                continue
            found = True
        if not found:
            return False
    return True


# -- the schema --------------------------------------------------------------------------


def _cursor(kind: str, item_id: str) -> str:
    return base64.b64encode(f"{kind}:{item_id}".encode()).decode()


def _after(kind: str, cursor: Any) -> int | None:
    if cursor is None:
        return None
    try:
        decoded = base64.b64decode(str(cursor), validate=True).decode()
        prefix, _, value = decoded.partition(":")
        if prefix != kind:
            raise ValueError(prefix)
        return int(value)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise FieldError(f"Invalid cursor: {cursor!r}", "invalidCursor") from None


def _int_id(item: dict[str, Any]) -> int:
    try:
        return int(str(item.get("id")))
    except ValueError:
        return 0


def _connection(kind: str, items: list[dict[str, Any]], args: dict[str, Any]) -> dict[str, Any]:
    first = args.get("first")
    if first is not None and first < 0:
        raise FieldError("first must be zero or more", "argumentLiteralsIncompatible")
    size = min(first if first is not None else 25, MAX_PAGE)
    after = _after(kind, args.get("after"))
    remaining = [i for i in items if after is None or _int_id(i) > after]
    page = remaining[:size]
    end = _cursor(kind, str(page[-1]["id"])) if page else None
    return {
        "nodes": page,
        "edges": [{"cursor": _cursor(kind, str(i["id"])), "node": i} for i in page],
        "pageInfo": {
            "hasNextPage": len(remaining) > size,
            "hasPreviousPage": after is not None,
            "startCursor": _cursor(kind, str(page[0]["id"])) if page else None,
            "endCursor": end,
        },
        "totalCount": len(items),
    }


class Data:
    """Per-request view of the store: every document read once, malformed ones served as asked."""

    def __init__(self, ctx: SandboxContext) -> None:
        self.ctx = ctx
        self._works: list[dict[str, Any]] | None = None
        self._products: dict[str, dict[str, Any]] | None = None
        self._by_kind: dict[str, list[dict[str, Any]]] = {}

    def works(self) -> list[dict[str, Any]]:
        if self._works is None:
            self._works = sorted(self.ctx.store.all("work"), key=_int_id)
        return self._works

    def work(self, work_id: Any) -> dict[str, Any] | None:
        return self.ctx.store.get("work", str(work_id))

    def products(self) -> dict[str, dict[str, Any]]:
        if self._products is None:
            self._products = {str(p["id"]): p for p in sorted(self.ctx.store.all("product"), key=_int_id)}
        return self._products

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        if kind not in self._by_kind:
            self._by_kind[kind] = self.ctx.store.all(kind)
        return self._by_kind[kind]

    def malformed(self, item: dict[str, Any], field: str, value: Any = None) -> dict[str, Any]:
        """A copy broken the way a flaky partner breaks records, when the faults say so."""
        return {**item, field: value} if self.ctx.faults.should_malform() else item


def _data(ctx: ExecutionContext) -> Data:
    return ctx.context["data"]


def _works_matching(c: ExecutionContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    data = _data(c)
    work_search = _check_search(args.get("workSearch"), WORK_SEARCH, "WorkSearch")
    product_search = _check_search(args.get("productSearch"), PRODUCT_SEARCH, "ProductSearch")
    products = data.products()
    works = [w for w in data.works() if work_matches(w, work_search)]
    if product_search:
        works = [
            w
            for w in works
            if any(product_matches(products[p], product_search) for p in w.get("productIds") or [] if p in products)
        ]
    return works


def _products_matching(c: ExecutionContext, args: dict[str, Any]) -> list[dict[str, Any]]:
    data = _data(c)
    search = _check_search(args.get("productSearch"), PRODUCT_SEARCH, "ProductSearch")
    found = [p for p in data.products().values() if product_matches(p, search)]
    work_search = _check_search(args.get("workSearch"), WORK_SEARCH, "WorkSearch")
    if work_search:
        found = [p for p in found if (w := data.work(p.get("workId"))) is not None and work_matches(w, work_search)]
    price_search = args.get("priceSearch")
    if price_search:
        found = [p for p in found if any(price_matches(x, price_search) for x in _all_prices(p))]
    return found


def _works_connection(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
    page = _connection("Work", _works_matching(c, args), args)
    page["nodes"] = [_data(c).malformed(w, "title") for w in page["nodes"]]
    return page


def _products_connection(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
    page = _connection("Product", _products_matching(c, args), args)
    page["nodes"] = [_data(c).malformed(p, "fullTitle") for p in page["nodes"]]
    return page


def _one(items: list[dict[str, Any]], what: str) -> dict[str, Any] | None:
    if len(items) > 1:
        raise FieldError(f"{what} matched {len(items)} records; narrow the search", "tooManyResults")
    return items[0] if items else None


def _work_products(work: dict[str, Any], args: dict[str, Any], c: ExecutionContext) -> list[dict[str, Any]]:
    search = _check_search(args.get("productSearch"), PRODUCT_SEARCH, "ProductSearch")
    products = _data(c).products()
    return [products[p] for p in work.get("productIds") or [] if p in products and product_matches(products[p], search)]


def _subject_codes(work: dict[str, Any], args: dict[str, Any], _: ExecutionContext) -> list[dict[str, Any]]:
    schemes = args.get("schemesIn")
    main_only = bool(args.get("mainOnly"))
    codes = [s for s in work.get("subjectCodes") or [] if isinstance(s, dict)]
    return [
        {**s, "__typename": s.get("scheme", "BISAC").title()}
        for s in codes
        if (schemes is None or s.get("scheme") in schemes) and (not main_only or s.get("main"))
    ]


def _children(kind: str, key: str) -> Any:
    def resolve(parent: dict[str, Any], _: dict[str, Any], c: ExecutionContext) -> list[dict[str, Any]]:
        return [item for item in _data(c).of_kind(kind) if str(item.get(key)) == str(parent.get("id"))]

    return resolve


def _product_height(field: str) -> Any:
    factors = {"MM": 1.0, "CM": 0.1, "IN": 1 / 25.4}

    def resolve(product: dict[str, Any], args: dict[str, Any], _: ExecutionContext) -> float | None:
        value = product.get(field)
        return None if value is None else round(float(value) * factors[args.get("unit") or "MM"], 2)

    return resolve


def _code_object(field: str, names: dict[str, str]) -> Any:
    def resolve(product: dict[str, Any], _: dict[str, Any], __: ExecutionContext) -> dict[str, Any] | None:
        code = product.get(field)
        return None if code is None else {"code": code, "description": names.get(code)}

    return resolve


# -- mutations -----------------------------------------------------------------------------


def _user_errors(**problems: str) -> list[dict[str, Any]]:
    return [{"field": name, "messages": [message]} for name, message in problems.items()]


def _upsert(c: ExecutionContext, kind: str, doc_id: str, fields: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or update by our reference; an unchanged repeat writes nothing."""
    store = _data(c).ctx.store
    existing = store.get(kind, doc_id)
    if existing is not None and {k: existing.get(k) for k in fields} == fields:
        return existing, False
    now = _data(c).ctx.clock.now().isoformat()
    stored_id = existing["id"] if existing else f"{kind[:2]}-{store.next_id(kind)}"
    document = {**(existing or {"createdAt": now}), **fields, "id": stored_id, "updatedAt": now}
    store.put(kind, doc_id, document, action="update" if existing else "create")
    return document, True


def _attach_supporting_resource(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
    data = _data(c)
    given = args["input"]
    work = data.work(given["workId"])
    if work is None:
        return {"supportingResource": None, "changed": False, "errors": _user_errors(workId="work not found")}
    unknown = [p for p in given.get("productIds") or [] if str(p) not in (work.get("productIds") or [])]
    if unknown:
        return {
            "supportingResource": None,
            "changed": False,
            "errors": _user_errors(productIds=f"not products of work {work['id']}: {unknown}"),
        }
    fields = {
        "workId": str(work["id"]),
        "reference": given["reference"],
        "url": given["url"],
        "caption": given.get("caption"),
        "resourceType": given["resourceType"],
        "assetId": given["assetId"],
        "assetVersion": given.get("assetVersion") or 1,
        "productIds": [str(p) for p in given.get("productIds") or []],
        "usageRights": given.get("usageRights"),
    }
    resource, changed = _upsert(c, "supporting_resource", f"{work['id']}:{given['reference']}", fields)
    return {"supportingResource": resource, "changed": changed, "errors": []}


def _record_pairing(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
    data = _data(c)
    given = args["input"]
    product = data.products().get(str(given["productId"]))
    if product is None:
        return {"formatAssetPairing": None, "changed": False, "errors": _user_errors(productId="product not found")}
    release, embargo = given.get("releaseDate"), given.get("embargoUntil")
    if release and embargo and embargo > release:
        return {
            "formatAssetPairing": None,
            "changed": False,
            "errors": _user_errors(embargoUntil="must not be after the release date"),
        }
    fields = {
        "productId": str(product["id"]),
        "workId": str(product.get("workId")),
        "reference": given["reference"],
        "assetId": given["assetId"],
        "assetVersion": given.get("assetVersion") or 1,
        "role": given["role"],
        "releaseDate": release,
        "embargoUntil": embargo,
    }
    pairing, changed = _upsert(c, "format_asset_pairing", f"{product['id']}:{given['reference']}", fields)
    return {"formatAssetPairing": pairing, "changed": changed, "errors": []}


def _record_license_terms(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
    data = _data(c)
    given = args["input"]
    work = data.work(given["workId"])
    if work is None:
        return {"licenseTerms": None, "changed": False, "errors": _user_errors(workId="work not found")}
    product_id = given.get("productId")
    if product_id is not None and str(product_id) not in (work.get("productIds") or []):
        return {
            "licenseTerms": None,
            "changed": False,
            "errors": _user_errors(productId=f"not a product of work {work['id']}"),
        }
    valid_from, valid_until = _moment(given.get("validFrom")), _moment(given.get("validUntil"))
    if valid_from and valid_until and valid_until < valid_from:
        return {"licenseTerms": None, "changed": False, "errors": _user_errors(validUntil="before validFrom")}
    fields = {
        "workId": str(work["id"]),
        "productId": str(product_id) if product_id is not None else None,
        "reference": given["reference"],
        "assetId": given["assetId"],
        "licenseReference": given.get("licenseReference"),
        "status": given["status"],
        "validFrom": given.get("validFrom"),
        "validUntil": given.get("validUntil"),
        "permittedUsage": given.get("permittedUsage"),
        "territories": given.get("territories") or [],
        "channels": given.get("channels") or [],
    }
    terms, changed = _upsert(c, "license_terms", f"{work['id']}:{given['reference']}", fields)
    return {"licenseTerms": terms, "changed": changed, "errors": []}


def _attach_resource_to(kind: str, id_field: str, record: str) -> Any:
    """The modelled mutations attaching an approved asset to a production task or a manuscript:
    one attachment per (parent, our reference); an unchanged repeat writes nothing."""

    def resolve(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any]:
        given = args["input"]
        parent = _data(c).ctx.store.get(kind, str(given[id_field]))
        if parent is None:
            problem = {id_field: f"{kind.replace('_', ' ')} not found"}
            return {record: None, "attachedResource": None, "changed": False, "errors": _user_errors(**problem)}
        fields = {
            id_field: str(parent["id"]),
            "workId": str(parent.get("workId")),
            "reference": given["reference"],
            "url": given["url"],
            "caption": given.get("caption"),
            "resourceType": given["resourceType"],
            "assetId": given["assetId"],
            "assetVersion": given.get("assetVersion") or 1,
            "usageRights": given.get("usageRights"),
        }
        attached, changed = _upsert(c, f"{kind}_attachment", f"{parent['id']}:{given['reference']}", fields)
        return {record: parent, "attachedResource": attached, "changed": changed, "errors": []}

    return resolve


def _all_prices(product: dict[str, Any]) -> list[dict[str, Any]]:
    """The product's stored prices, else the seed's rule for them (operator-added products too)."""
    return product.get("prices") or seed_data.prices(product)


def _prices(product: dict[str, Any], args: dict[str, Any], _: ExecutionContext) -> list[dict[str, Any]]:
    return [p for p in _all_prices(product) if price_matches(p, args.get("priceSearch"))]


def price_matches(price: dict[str, Any], search: dict[str, Any] | None) -> bool:
    """``priceSearch``: ``amountLteq``, ``currencyCodeIn``, ``onixPriceTypeCodeIn`` (``_02``),
    ``onixPriceTypeQualifierCodeIn`` (``_05``) — ONIX codes are enum values with a leading ``_``."""
    search = search or {}
    if search.get("amountLteq") is not None and not float(price.get("amount") or 0) <= float(search["amountLteq"]):
        return False
    if search.get("currencyCodeIn") is not None and price.get("currencyCode") not in search["currencyCodeIn"]:
        return False
    codes = (
        ("onixPriceTypeCodeIn", "onixPriceTypeCode"),
        ("onixPriceTypeQualifierCodeIn", "onixPriceTypeQualifierCode"),
    )
    return all(search.get(key) is None or f"_{price.get(field)}" in search[key] for key, field in codes)


def _marketing_texts(owner: dict[str, Any], args: dict[str, Any], _: ExecutionContext) -> list[dict[str, Any]]:
    texts = [t for t in owner.get("marketingTexts") or [] if isinstance(t, dict)]
    variants = args.get("variantIn")
    return [t for t in texts if variants is None or t.get("variant") in variants]


def _products_of(parent: dict[str, Any], _: dict[str, Any], c: ExecutionContext) -> list[dict[str, Any]]:
    products = _data(c).products()
    return [products[str(p)] for p in parent.get("productIds") or [] if str(p) in products]


def _by_id(kind: str, key: str = "id") -> Resolver:
    def resolve(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any] | None:
        value = args.get(key)
        return None if value is None else _data(c).ctx.store.get(kind, str(value))

    return resolve


def _contract(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any] | None:
    search = args.get("contractSearch") or {}
    return None if search.get("idEq") is None else _data(c).ctx.store.get("contract", str(search["idEq"]))


def _publication_string(field: str) -> Resolver:
    def resolve(product: dict[str, Any], args: dict[str, Any], _: ExecutionContext) -> str | None:
        day = _day(product.get(field))
        if day is None:
            return None
        return day.strftime(args.get("directives") or "%Y-%m-%d")

    return resolve


def _contacts(_: Any, args: dict[str, Any], c: ExecutionContext) -> list[dict[str, Any]]:
    """The people as contacts (``contactSearch: {personNameCont}``); the sandbox keeps no addresses."""
    wanted = str((args.get("contactSearch") or {}).get("personNameCont") or "").lower()
    return [
        {
            "id": p["id"],
            "name": p["name"],
            "keyNames": p["name"].split()[-1],
            "notes": [],
            "addresses": [],
            "emails": [],
            "phones": [],
        }
        for p in _data(c).of_kind("person")
        if wanted in str(p.get("name") or "").lower()
    ]


def _organisation(_: Any, args: dict[str, Any], c: ExecutionContext) -> dict[str, Any] | None:
    """The imprints as organisations (``organisationSearch: {nameEq}``)."""
    wanted = (args.get("organisationSearch") or {}).get("nameEq")
    for imprint_id, name in seed_data.IMPRINTS:
        if name == wanted:
            return {"id": imprint_id, "organisationName": name, "organisationCountry": "GB"}
    return None


#: "Type.field" -> resolver; fields without one read the parent mapping's key of the same name
RESOLVERS: dict[str, Resolver] = {
    "Query.works": lambda _, a, c: _works_matching(c, a),
    "Query.work": lambda _, a, c: _one(_works_matching(c, a), "workSearch"),
    "Query.products": lambda _, a, c: _products_matching(c, a),
    "Query.product": lambda _, a, c: _one(_products_matching(c, a), "productSearch"),
    "Query.contract": _contract,
    "Query.person": _by_id("person"),
    "Query.contacts": _contacts,
    "Query.organisation": _organisation,
    "Query.worksConnection": _works_connection,
    "Query.productsConnection": _products_connection,
    "Query.productionTask": _by_id("production_task"),
    "Query.manuscript": _by_id("manuscript"),
    "Work.subjectCodes": _subject_codes,
    "Work.products": _work_products,
    "Work.marketingTexts": _marketing_texts,
    "Work.supportingResources": _children("supporting_resource", "workId"),
    "Work.licenseTerms": _children("license_terms", "workId"),
    "Work.productionTasks": _children("production_task", "workId"),
    "Work.manuscripts": _children("manuscript", "workId"),
    "Contract.work": lambda contract, _, c: _data(c).work(contract.get("workId")),
    "ProductionTask.work": lambda task, _, c: _data(c).work(task.get("workId")),
    "ProductionTask.attachedResources": _children("production_task_attachment", "productionTaskId"),
    "Manuscript.work": lambda manuscript, _, c: _data(c).work(manuscript.get("workId")),
    "Manuscript.attachedResources": _children("manuscript_attachment", "manuscriptId"),
    "Mutation.attachSupportingResource": _attach_supporting_resource,
    "Mutation.recordFormatAssetPairing": _record_pairing,
    "Mutation.recordLicenseTerms": _record_license_terms,
    "Mutation.attachResourceToProductionTask": _attach_resource_to(
        "production_task", "productionTaskId", "productionTask"
    ),
    "Mutation.attachResourceToManuscript": _attach_resource_to("manuscript", "manuscriptId", "manuscript"),
}
_PRODUCTION_PARTS = ("Binding", "Cover", "Embellishment", "Finish", "Interior")
for _part in (f"Production{name}" for name in _PRODUCTION_PARTS):
    RESOLVERS[f"{_part}.products"] = _products_of
for _type in PRODUCT_TYPES:
    RESOLVERS[f"{_type}.work"] = lambda p, _, c: _data(c).work(p.get("workId"))
    RESOLVERS[f"{_type}.prices"] = _prices
    RESOLVERS[f"{_type}.marketingTexts"] = _marketing_texts
    RESOLVERS[f"{_type}.onix21ProductForm"] = _code_object("onix21ProductFormCode", FORM_DESCRIPTIONS)
    RESOLVERS[f"{_type}.onixPublishingStatus"] = _code_object("onixPublishingStatusCode", PUBLISHING_STATUSES)
    RESOLVERS[f"{_type}.publicationDateString"] = _publication_string("publicationDate")
    RESOLVERS[f"{_type}.plannedPublicationDateString"] = _publication_string("plannedPublicationDate")
    RESOLVERS[f"{_type}.formatAssetPairings"] = _children("format_asset_pairing", "productId")
RESOLVERS["PhysicalBookProduct.productHeight"] = _product_height("productHeight")
RESOLVERS["PhysicalBookProduct.productWidth"] = _product_height("productWidth")
RESOLVERS["PhysicalBookProduct.productThickness"] = _product_height("productThickness")

# -- REST v4 -----------------------------------------------------------------------------


def rest_product(product: dict[str, Any], work: dict[str, Any] | None) -> dict[str, Any]:
    """A product in the REST v4 shape (snake_case, ids as integers)."""
    work = work or {}
    isbn = product.get("isbn") if isinstance(product.get("isbn"), dict) else {}

    def as_int(value: Any) -> Any:
        return int(value) if isinstance(value, str) and value.isdigit() else value

    return {
        "id": as_int(product.get("id")),
        "work_id": as_int(product.get("workId")),
        "full_title": product.get("fullTitle"),
        "subtitle": product.get("subtitle") or work.get("subtitle"),
        "pub_date": product.get("publicationDate"),
        "publishing_status": product.get("onixPublishingStatusCode"),
        "product_form": product.get("onix21ProductFormCode"),
        "edition_type_codes": ",".join(product.get("onixEditionTypeCodes") or []),
        "edition_statement": product.get("editionStatement"),
        "in_house_format": (product.get("inHouseEdition") or {}).get("name"),
        "in_house_edition": (product.get("inHouseEdition") or {}).get("name"),
        "isbn": (isbn or {}).get("isbn13") or "No ISBN",
        "imprint": (product.get("imprint") or work.get("imprint") or {}).get("name"),
        "authorship": product.get("authorshipDescription"),
        "work_type_name": "Book",
        "subjects": [
            {"code": s.get("code"), "description": s.get("description")}
            for s in work.get("subjectCodes") or []
            if isinstance(s, dict)
        ],
        "supportingresources": [],
        "updated_at": product.get("updatedAt"),
    }


def _rest_filters(request: Request) -> dict[str, str]:
    return {
        key[2:-1]: value for key, value in request.query_params.items() if key.startswith("q[") and key.endswith("]")
    }


def _rest_matches(product: dict[str, Any], work: dict[str, Any] | None, q: dict[str, str]) -> bool:
    shaped = rest_product(product, work)
    checks = {
        "id_eq": lambda v: str(shaped["id"]) == v,
        "isbn_eq": lambda v: shaped["isbn"] == v,
        "pub_date_eq": lambda v: shaped["pub_date"] == v,
        "pub_date_gteq": lambda v: (shaped["pub_date"] or "") >= v,
        "pub_date_lteq": lambda v: bool(shaped["pub_date"]) and shaped["pub_date"] <= v,
        "work_id_eq": lambda v: str(shaped["work_id"]) == v,
        "work_title_cont": lambda v: v.lower() in str((work or {}).get("title") or "").lower(),
        "full_title": lambda v: shaped["full_title"] == v,
        "updated_at_gteq": lambda v: (
            (m := _moment(shaped["updated_at"])) is not None and (bound := _moment(v)) is not None and m >= bound
        ),
    }
    # like Ransack, conditions it does not know are ignored
    return all(check(q[key]) for key, check in checks.items() if key in q)


# -- the app -----------------------------------------------------------------------------


def _seed(context: SandboxContext) -> None:
    works, products = seed_data.build(context.clock.now())
    context.store.put_many("work", [(w["id"], w) for w in works])
    context.store.put_many("product", [(p["id"], p) for p in products])
    context.store.put_many("contract", [(c["id"], c) for c in seed_data.build_contracts(works)])
    context.store.put_many("person", [(p["id"], p) for p in seed_data.build_people(works)])
    tasks, manuscripts = seed_data.build_production(context.clock.now())
    context.store.put_many("production_task", [(t["id"], t) for t in tasks])
    context.store.put_many("manuscript", [(m["id"], m) for m in manuscripts])


def create_app(config: SandboxConfig) -> FastAPI:
    app, ctx = create_sandbox_app("consonance", config, error_body=error_body, seed=_seed, title="Consonance sandbox")
    public_only = bool(config.options.get("public_only"))
    schema = executable_schema(RESOLVERS, public_only=public_only)
    api_keys = set(config.options.get("api_keys") or [DEMO_API_KEY])

    def unauthenticated(message: str) -> JSONResponse:
        return JSONResponse(
            {"errors": [{"message": message, "locations": [], "extensions": {"code": "UNAUTHENTICATED"}}]},
            status_code=401,
        )

    @app.post(PATHS["graphql"])
    async def graphql(request: Request) -> JSONResponse:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return unauthenticated("Authorization: Bearer <API key> is required")
        if key.strip() not in api_keys:
            return unauthenticated("The API key is not valid for this instance")
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return JSONResponse(
                {"errors": [{"message": "Expected a JSON object body", "extensions": {"code": "BAD_REQUEST"}}]}, 400
            )
        answer = run(schema, body.get("query"), body.get("variables"), body.get("operationName"), {"data": Data(ctx)})
        return JSONResponse(answer)

    @app.get(PATHS["products"], response_model=None)
    def rest_products(
        request: Request, page: int = Query(1, ge=1), per_page: int = Query(25, ge=1, le=MAX_PAGE)
    ) -> JSONResponse | PlainTextResponse:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        key = credentials.strip().removeprefix("token=").strip('"')
        if scheme.lower() != "token" or key not in api_keys:
            return PlainTextResponse(
                "HTTP Token: Access denied.\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Token realm="Application"'},
            )
        q = _rest_filters(request)
        data = Data(ctx)
        works = {str(w["id"]): w for w in data.works()}
        matching = [p for p in data.products().values() if _rest_matches(p, works.get(str(p.get("workId"))), q)]
        total_pages = max(1, math.ceil(len(matching) / per_page))
        chosen = matching[(page - 1) * per_page : page * per_page]
        products = []
        for product in chosen:
            shaped = rest_product(product, works.get(str(product.get("workId"))))
            products.append(data.malformed(shaped, "full_title"))
        return JSONResponse(
            {
                "current_page": page,
                "per_page": per_page,
                "total_pages": total_pages,
                "url": str(request.url),
                "products": products,
            }
        )

    # -- operator side ---------------------------------------------------------------------
    def now() -> str:
        return ctx.clock.now().isoformat()

    @app.put("/_sandbox/consonance/works/{work_id}")
    def put_work(work_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Create or replace a work exactly as given; ``products`` (optional) are stored with it."""
        products = body.pop("products", None)
        work = {**body, "id": work_id, "updatedAt": body.get("updatedAt") or now()}
        if isinstance(products, list):
            ids = []
            for product in products:
                pid = str(product.get("id") or f"{work_id}{len(ids) + 1}")
                ctx.store.put("product", pid, {**product, "id": pid, "workId": work_id, "updatedAt": work["updatedAt"]})
                ids.append(pid)
            work["productIds"] = ids
        work.setdefault("productIds", [])
        ctx.store.put("work", work_id, work, action="operator")
        return work

    @app.patch("/_sandbox/consonance/works/{work_id}")
    def patch_work(work_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change fields of a work (its updatedAt moves to now unless given)."""
        work = ctx.store.get("work", work_id)
        if work is None:
            raise ctx.error(404, "not_found", f"no work {work_id}")
        work = {**work, **body, "id": work_id, "updatedAt": body.get("updatedAt") or now()}
        ctx.store.put("work", work_id, work, action="operator")
        return work

    @app.patch("/_sandbox/consonance/products/{product_id}")
    def patch_product(product_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Change fields of a product; it and its work count as changed now."""
        product = ctx.store.get("product", product_id)
        if product is None:
            raise ctx.error(404, "not_found", f"no product {product_id}")
        moment = body.get("updatedAt") or now()
        product = {**product, **body, "id": product_id, "updatedAt": moment}
        ctx.store.put("product", product_id, product, action="operator")
        work = ctx.store.get("work", str(product.get("workId")))
        if work is not None:
            ctx.store.put("work", work["id"], {**work, "updatedAt": moment}, action="operator")
        return product

    @app.post("/_sandbox/consonance/works/{work_id}/events", status_code=201)
    def add_event(work_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Record a lifecycle event (``kind``, ``eventDate``, ``productIds``, ``description``)."""
        work = ctx.store.get("work", work_id)
        if work is None:
            raise ctx.error(404, "not_found", f"no work {work_id}")
        work = {**work, "lifecycleEvents": [*(work.get("lifecycleEvents") or []), body], "updatedAt": now()}
        ctx.store.put("work", work_id, work, action="operator")
        return work

    @app.get("/_sandbox/consonance/summary")
    def summary(approaching_days: int = 30) -> dict[str, Any]:
        """What the seed holds: counts by format, imprint, lifecycle event, and titles approaching publication."""
        data = Data(ctx)
        today = ctx.clock.now().date()
        horizon = today + timedelta(days=approaching_days)
        products = list(data.products().values())
        return {
            "works": len(data.works()),
            "products": len(products),
            "by_type": dict(Counter(str(p.get("__typename")) for p in products)),
            "by_imprint": dict(Counter(str((w.get("imprint") or {}).get("name")) for w in data.works())),
            "events": dict(Counter(e.get("kind") for w in data.works() for e in w.get("lifecycleEvents") or [])),
            "approaching_publication": sum(
                1 for p in products if (d := _day(p.get("publicationDate"))) is not None and today <= d <= horizon
            ),
        }

    return app
