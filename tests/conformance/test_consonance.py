"""Consonance judged by its public GraphQL material (GeneralProducts/consonance-graphql).

- Every document the hook can send validates (graphql-core) against the schema written from the
  public examples — the public ones against ``public.graphql`` alone, the modelled ones against
  public + ``modelled.graphql`` — and each modelled one really needs the modelled part.
- Every public example query is valid in ``public.graphql`` and a sandbox serving only the public
  schema answers it in the shape the example reads (``published/consonance/example_*.json``,
  ``legal_*``, ``people_*``).
- The hook's methods the pipelines call run against a replay of published exchanges
  (``hook_*.json``) whose server, like a real one with only the public schema, refuses any
  document that is not valid there: the public lookups work, the modelled extras degrade with a
  warning (log, :attr:`ConsonanceHook.degradations`, the run report) instead of failing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from conformance.published import Exchange, Received, ReplayServer, assert_same_shape, load, load_all
from graphql import GraphQLSchema, OperationDefinitionNode, parse, print_ast, validate

from contentops.hooks import consonance as consonance_hook
from contentops.hooks.consonance import ConsonanceHook
from contentops.ledger import Ledger
from contentops.mapping.titles import title_from_work
from contentops.models.consonance import UsageRightsSummary
from contentops.pipelines.runtime import PipelineRun
from contentops.pipelines.window import RunWindow
from contentops_sandbox.connections import consonance_connection
from contentops_sandbox.consonance.app import DEMO_API_KEY
from contentops_sandbox.consonance.graphql import bare_schema

#: the lookups the pipelines cannot do without: they must be public documents
MUST_WORK = ("Ping", "ProductByIsbn", "WorkById", "ProductsPublishedAfter")
#: values for the literal placeholders of documents (ISBN-13, ISO date)
LITERALS = {"isbn": "9781900000017", "after": "2000-01-01"}
AUTH = {"Authorization": f"Bearer {DEMO_API_KEY}"}


# -- the documents -------------------------------------------------------------------------------
def _documents() -> dict[str, Any]:
    return dict(consonance_hook.DOCUMENTS)


def _text(document: Any) -> str:
    """A document's text with its literals filled in (a plain string on a hook without literals)."""
    if isinstance(document, str):
        return document
    return document.render(**{key: LITERALS[key] for key in document.placeholders})


def _is_modelled(document: Any) -> bool:
    return bool(getattr(document, "modelled", False))


def _problems(schema: GraphQLSchema, text: str) -> list[str]:
    return [error.message for error in validate(schema, parse(text))]


@pytest.mark.parametrize("name", sorted(_documents()))
def test_every_document_the_hook_sends_is_valid_in_the_schema_it_may_rely_on(name: str) -> None:
    document = _documents()[name]
    schema = bare_schema(public_only=not _is_modelled(document))
    assert _problems(schema, _text(document)) == [], f"{name} asks for what the schema it relies on lacks"


def test_the_lookups_the_pipelines_need_are_public_documents() -> None:
    documents = _documents()
    for name in MUST_WORK:
        assert name in documents and not _is_modelled(documents[name]), name
        assert _problems(bare_schema(public_only=True), _text(documents[name])) == [], name


def test_public_documents_declare_variables_only_of_types_the_examples_declare() -> None:
    """The examples declare ``$workId: Int!`` / ``$contractId: Int!`` / ``$personId: Int!``; a
    date or an ISBN goes in as a literal, as they write it, never as a variable of a type we
    would have to guess."""
    for name, document in _documents().items():
        if _is_modelled(document):
            continue
        for definition in parse(_text(document)).definitions:
            if isinstance(definition, OperationDefinitionNode):
                types = {print_ast(v.type) for v in definition.variable_definitions or ()}
                assert types <= {"Int!"}, f"{name} declares {types}"


def test_each_modelled_document_really_needs_the_modelled_schema() -> None:
    """Otherwise it would be optional for nothing: it belongs with the public ones."""
    modelled = {n: d for n, d in _documents().items() if _is_modelled(d)}
    assert modelled
    for name, document in modelled.items():
        assert _problems(bare_schema(public_only=True), _text(document)), f"{name} is public: make it required"


def test_literal_placeholders_take_only_what_cannot_change_the_document() -> None:
    document = _documents()["ProductByIsbn"]
    assert '"9781900000017"' in document.render(isbn="9781900000017")
    assert '\\"' in document.render(isbn='1" } evil { x')  # escaped, stays one string
    with pytest.raises(ValueError, match="isbn"):
        document.render()


# -- the public examples against the public-only sandbox ------------------------------------------
EXAMPLES = [e for e in load_all("consonance") if not e.name.startswith("hook_")]


@pytest.fixture
def public_sandbox(sandbox: Callable[..., Any]) -> Any:
    return sandbox("consonance", options={"public_only": True})


@pytest.mark.parametrize("exchange", EXAMPLES, ids=[e.name for e in EXAMPLES])
def test_each_public_example_is_valid_in_the_public_schema_and_answered_in_its_shape(
    exchange: Exchange, public_sandbox: Any
) -> None:
    body = exchange.request_body
    assert _problems(bare_schema(public_only=True), body["query"]) == []
    answer = requests.post(f"{public_sandbox.url}/graphql", json=body, headers=AUTH, timeout=10).json()
    assert "errors" not in answer, answer.get("errors")
    assert_same_shape(answer, exchange)


def test_the_examples_cover_every_root_field_of_the_public_schema() -> None:
    queried = set()
    for exchange in EXAMPLES:
        for definition in parse(exchange.request_body["query"]).definitions:
            queried |= {s.name.value for s in definition.selection_set.selections}  # type: ignore[attr-defined]
    assert queried == set(bare_schema(public_only=True).query_type.fields)  # type: ignore[union-attr]


@pytest.mark.parametrize("name", [e.name for e in load_all("consonance") if e.name.startswith("hook_")])
def test_the_hooks_published_exchanges_are_answered_by_the_sandbox_in_their_shape(
    name: str, public_sandbox: Any
) -> None:
    exchange = load("consonance", name)
    answer = requests.post(f"{public_sandbox.url}/graphql", json=exchange.request_body, headers=AUTH, timeout=10)
    assert "errors" not in answer.json()
    if name != "hook_products_published_after":  # one ISBN, one work: the seed has them
        assert_same_shape(answer.json(), exchange)
    else:
        assert_same_shape(answer.json()["data"]["products"][:1], exchange.body["data"]["products"])


def test_the_public_only_sandbox_refuses_a_modelled_field_the_way_graphql_does(public_sandbox: Any) -> None:
    answer = requests.post(
        f"{public_sandbox.url}/graphql",
        json={"query": "query { work(workSearch: {idEq: 1001}) { id updatedAt } }"},
        headers=AUTH,
        timeout=10,
    ).json()
    assert "data" not in answer and "updatedAt" in answer["errors"][0]["message"]


# -- the hook against a replay of the published exchanges --------------------------------------------
class GraphQLReplay(ReplayServer):
    """Answers a GraphQL POST by its ``operationName`` with the published exchange of that
    operation; a document with no exchange is validated against the public schema and, when
    invalid, refused as a server with only the public schema refuses it (errors, no data)."""

    refused: list[str]

    def match(self, received: Received) -> Exchange | None:
        body = received.json() or {}
        for exchange in self.exchanges:
            if (exchange.request_body or {}).get("operationName") == body.get("operationName"):
                return exchange
        problems = _problems(bare_schema(public_only=True), str(body.get("query") or ""))
        if not problems:
            return None
        self.refused.append(str(body.get("operationName")))
        return Exchange(
            system="consonance",
            name="refusal",
            sources=(),
            method="POST",
            path="/graphql",
            query={},
            request_headers={},
            request_body=None,
            status=200,
            response_headers={"Content-Type": "application/json"},
            body={"errors": [{"message": m, "locations": []} for m in problems]},
        )


@pytest.fixture
def replayed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., tuple[ConsonanceHook, GraphQLReplay]]]:
    servers: list[GraphQLReplay] = []

    def start(*names: str) -> tuple[ConsonanceHook, GraphQLReplay]:
        server = GraphQLReplay([load("consonance", n) for n in names])
        server.refused = []
        server.start()
        servers.append(server)
        conn = consonance_connection(server.url, backoff_initial=0.01, backoff_max=0.05)
        conn["password"] = DEMO_API_KEY
        monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_REPLAY", json.dumps(conn))
        return ConsonanceHook("consonance_replay"), server

    yield start
    for server in servers:
        server.stop()


def _sent(server: GraphQLReplay, operation: str) -> dict[str, Any]:
    (body,) = [r.json() for r in server.received if (r.json() or {}).get("operationName") == operation]
    return body


def test_a_work_by_isbn_from_the_published_exchange_with_the_modelled_extras_refused(
    replayed: Callable[..., tuple[ConsonanceHook, GraphQLReplay]], caplog: pytest.LogCaptureFixture
) -> None:
    hook, server = replayed("hook_product_by_isbn")
    warnings: list[tuple[str, str]] = []
    hook.on_degraded = lambda operation, warning: warnings.append((operation, warning))
    with caplog.at_level(logging.WARNING, logger="contentops.hooks.consonance"):
        work = hook.get_work_by_isbn("9781900000017")
    assert work is not None and work.id == "1001" and work.title == "The Northern Garden"
    assert work.imprint is not None and work.imprint.name == "Northlight Books"
    assert work.bisac_codes == ["FIC022000"] and work.contributor_names == ["Bram Novak"]
    assert [p.isbn13 for p in work.products] == ["9781900000017", "9781901000016"]
    assert work.products[0].rrp_gbp == 16.99
    title = title_from_work(work)  # what the title pipelines make of the public fields
    assert title.imprint == "Northlight Books" and title.print_delivery == date(2027, 3, 3)
    assert title.product_by_isbn("9781900000017").rrp_gbp == 16.99  # type: ignore[union-attr]
    assert _sent(server, "ProductByIsbn") == load("consonance", "hook_product_by_isbn").request_body
    assert server.refused == ["ProductByIsbnModelled"] and not server.unmatched
    assert [op for op, _ in warnings] == ["ProductByIsbnModelled"]
    assert "refused the modelled query ProductByIsbnModelled" in caplog.text
    assert "lifecycle events" in hook.degradations["ProductByIsbnModelled"]
    hook.get_work_by_isbn("9781900000017")  # refused once: not asked again
    assert server.refused == ["ProductByIsbnModelled"]


def test_a_work_by_id_and_its_public_production_runs(
    replayed: Callable[..., tuple[ConsonanceHook, GraphQLReplay]],
) -> None:
    hook, server = replayed("hook_work_by_id", "hook_work_production_runs")
    work = hook.get_work("1001")
    assert work is not None and work.series_memberships[0].series.name == "The Tidewater Mysteries"  # type: ignore[union-attr]
    assert work.supporting_resources[0].caption == "Front cover"
    assert _sent(server, "WorkById")["variables"] == {"id": 1001}
    (run,) = hook.get_production_runs("1001") or []
    assert run.delivery_date == date(2027, 3, 3) and run.print_quantity == 3500
    assert run.bindings[0].description == "Limp" and run.covers[0].model_extra["coverType"] == "Cover"
    assert hook.get_work("not-a-number") is None  # Consonance ids are integers: nothing sent
    assert server.refused == ["WorkByIdModelled"] and not server.unmatched


def test_titles_approaching_publication_from_the_public_products_list(
    replayed: Callable[..., tuple[ConsonanceHook, GraphQLReplay]],
) -> None:
    hook, server = replayed("hook_products_published_after")
    (product,) = hook.iter_titles_approaching_publication(date(2027, 3, 1), 30)
    assert product.isbn13 == "9781900000017" and product.work is not None
    assert product.work.imprint.name == "Northlight Books"  # type: ignore[union-attr]
    assert _sent(server, "ProductsPublishedAfter") == load("consonance", "hook_products_published_after").request_body
    assert not server.refused and not server.unmatched


def test_contract_rights_a_person_and_the_connection_test(
    replayed: Callable[..., tuple[ConsonanceHook, GraphQLReplay]],
) -> None:
    hook, server = replayed("hook_contract_rights", "hook_person_by_id", "hook_ping")
    contract = hook.get_contract("40001")
    assert contract is not None and contract.right_types == ["Volume rights", "eBook"]
    person = hook.get_person("9001")
    assert person is not None and person.contributions[0].work_title == "The Northern Garden"
    assert hook.test_connection()[0]
    assert not server.refused and not server.unmatched


def test_modelled_reads_degrade_and_modelled_writes_refuse_at_once(
    replayed: Callable[..., tuple[ConsonanceHook, GraphQLReplay]],
) -> None:
    hook, server = replayed()
    assert list(hook.iter_works_changed_since(datetime(2027, 1, 1, tzinfo=UTC))) == []
    assert list(hook.iter_lifecycle_events(date(2027, 1, 1))) == []
    assert hook.get_production("1001") == ([], [])
    assert hook.get_production_task("60011") is None
    with pytest.raises(consonance_hook.ModelledFeatureUnavailableError, match="not attached to the title"):
        hook.attach_supporting_resource(
            "1001",
            reference="r-1",
            url="https://assets.example.org/a.jpg",
            resource_type="cover",
            asset_id="a-1",
            usage_rights=UsageRightsSummary(summary="cleared"),
        )
    assert set(hook.degradations) == {
        "WorksChangedSince",
        "LifecycleEvents",
        "WorkProduction",
        "ProductionTaskById",
        "AttachSupportingResource",
    }
    assert len(server.received) == 5 and not server.unmatched


# -- the same against the sandboxes, and the run report ----------------------------------------------
def _hook(sandbox: Any, monkeypatch: pytest.MonkeyPatch, conn_id: str) -> ConsonanceHook:
    conn = consonance_connection(sandbox.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
    return ConsonanceHook(conn_id)


def test_against_the_full_sandbox_nothing_degrades_and_the_modelled_fields_arrive(
    sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = _hook(sandbox("consonance"), monkeypatch, "consonance_full")
    work = hook.get_work_by_isbn("9781900000017")
    assert work is not None and work.updated_at is not None and work.model_extra["territories"] == ["gb", "ie"]
    assert work.imprint is not None and work.products[0].updated_at is not None
    assert list(hook.iter_works_changed_since(datetime.now(UTC) - timedelta(days=30), page_size=50))
    assert hook.degradations == {}


def test_against_the_public_only_sandbox_the_lookups_work_and_the_run_report_says_what_degraded(
    public_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    conn = consonance_connection(public_sandbox.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_PUBLIC", json.dumps(conn))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    end = datetime.now(UTC)
    run = PipelineRun(
        "title_metadata_push",
        "run-1",
        RunWindow(end - timedelta(days=1), end),
        {"consonance_conn_id": "consonance_public"},
        ledger=ledger,
    )
    hook = run.hook("consonance")
    with caplog.at_level(logging.WARNING, logger="contentops.hooks.consonance"):
        work = hook.get_work_by_isbn("9781900000017")
        changed = list(hook.iter_works_changed_since(end - timedelta(days=30)))
        soon = list(hook.iter_titles_approaching_publication(end.date(), 30))
    assert work is not None and work.title and work.imprint is not None and work.products
    assert work.updated_at is None  # the modelled stamp is what was lost
    assert changed == [] and soon and all(p.work is not None for p in soon)
    assert "refused the modelled query WorksChangedSince" in caplog.text
    rows = [r for r in run.build_report("Title metadata push").rows if r.action == "degraded"]
    assert {r.asset_id for r in rows} == {"ProductByIsbnModelled", "WorksChangedSince"}
    assert all(r.target == "consonance" and "Consonance refused" in r.reason for r in rows)


def test_the_rights_sweep_goes_on_when_consonance_refuses_the_modelled_license_terms_write(
    public_sandbox: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from contentops.pipelines.rights_sweep import record_consonance_terms

    conn = consonance_connection(public_sandbox.url, backoff_initial=0.01, backoff_max=0.05)
    monkeypatch.setenv("AIRFLOW_CONN_CONSONANCE_PUBLIC", json.dumps(conn))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    ledger.migrate()
    end = datetime.now(UTC)
    run = PipelineRun(
        "rights_expiry_sweep",
        "run-1",
        RunWindow(end - timedelta(days=1), end),
        {"consonance_conn_id": "consonance_public"},
        ledger=ledger,
    )
    run.deliver_once("asset-1", 1, "consonance:1001", lambda _plan: "resource-1")  # attached earlier
    counts = record_consonance_terms(run, "asset-1", "expired", {}, "instance-1")
    assert counts == {"consonance_terms_unavailable": 1}
    (row,) = [r for r in run.build_report("Rights expiry sweep").rows if r.action == "degraded"]
    assert row.asset_id == "RecordLicenseTerms" and "license terms are not recorded" in row.reason
