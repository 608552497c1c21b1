"""ConsonanceHook against the Consonance sandbox over real HTTP (GraphQL and the REST v4 fallback)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contentops.hooks.consonance import ConsonanceHook
from contentops.hooks.errors import AuthenticationError, GraphQLError, RequestRejectedError
from contentops.models.consonance import LicenseStatus, LifecycleEventKind, ProductFormat, UsageRightsSummary
from contentops_sandbox.connections import consonance_connection
from contentops_sandbox.consonance import seed
from contentops_sandbox.consonance.app import DEMO_API_KEY

pytestmark = pytest.mark.contract

RIGHTS = UsageRightsSummary(
    summary="getty royalty-free; print and online; worldwide; print run up to 20,000",
    license_reference="lpt-123",
    valid_until=datetime(2027, 6, 30, tzinfo=UTC),
    territories=["WORLD"],
    channels=["print", "online"],
    editions=["hardback", "ebook"],
    print_run=20000,
)


@pytest.fixture
def consonance(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    """``consonance(api="rest", **sandbox_config)`` -> (hook, running sandbox)."""

    def start(api: str = "graphql", key: str | None = None, running: Any = None, **config: Any) -> tuple[Any, Any]:
        running = running or sandbox("consonance", **config)
        conn = consonance_connection(running.url, api=api, backoff_initial=0.01, backoff_max=0.05)
        if key is not None:
            conn["password"] = key
        conn_id = f"consonance_{api}_{'bad' if key else 'ok'}"
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))
        return ConsonanceHook(conn_id), running

    return start


def _works(running: Any) -> list[dict[str, Any]]:
    return running.context.store.all("work")


def _products(running: Any) -> list[dict[str, Any]]:
    return running.context.store.all("product")


def _graphql_calls(running: Any) -> int:
    return running.context.stats.by_route["POST /graphql"]


def test_works_changed_since_arrive_across_pages_with_their_title_context(consonance: Callable[..., Any]) -> None:
    hook, running = consonance()
    since = running.context.clock.now() - timedelta(days=10)
    expected = {w["id"] for w in _works(running) if datetime.fromisoformat(w["updatedAt"]) >= since}
    assert len(expected) > 14  # the seed spreads changes over 60 days: several pages here
    works = list(hook.iter_works_changed_since(since, page_size=7))
    assert {w.id for w in works} == expected and len(works) == len(expected)
    assert _graphql_calls(running) == math.ceil(len(expected) / 7)  # one request per page, no more
    for work in works:
        assert work.title and work.imprint and work.imprint.name in {name for _, name in seed.IMPRINTS}
        assert work.bisac_codes and all(len(code) == 9 for code in work.bisac_codes)  # BISAC only, THEMA left out
        assert work.contributor_names and work.products
        assert {p.format for p in work.products} <= {ProductFormat.PRINT, ProductFormat.EBOOK, ProductFormat.AUDIO}

    # a change made now shows up in the next incremental read, and only it
    changed_at = running.context.clock.advance(60)  # clearly after the seed's own "now"
    running.admin("PATCH", "consonance/works/1005", json={"subtitle": "A new subtitle"})
    later = list(hook.iter_works_changed_since(changed_at - timedelta(seconds=1)))
    assert [w.id for w in later] == ["1005"] and later[0].subtitle == "A new subtitle"
    running.admin("PATCH", f"consonance/products/{seed.product_id(7, 2)}", json={"onixPublishingStatusCode": "04"})
    (product,) = hook.iter_products_changed_since(changed_at - timedelta(seconds=1), page_size=1)
    assert product.id == seed.product_id(7, 2) and product.format is ProductFormat.EBOOK
    assert product.work and product.work.id == seed.work_id(7) and product.work.title
    assert [w.id for w in hook.iter_works_changed_since(changed_at - timedelta(seconds=1))] == ["1005", "1007"]


def test_titles_approaching_publication_with_format_imprint_and_bisac(consonance: Callable[..., Any]) -> None:
    hook, running = consonance()
    today = running.context.clock.now().date()
    expected = {
        p["id"]
        for p in _products(running)
        if today <= date.fromisoformat(p["publicationDate"]) <= today + timedelta(30)
    }
    products = list(hook.iter_titles_approaching_publication(today, 30, page_size=20))
    assert {p.id for p in products} == expected and len(products) == len(expected)
    assert {p.format for p in products} == {ProductFormat.PRINT, ProductFormat.EBOOK, ProductFormat.AUDIO}
    for product in products:
        assert today <= (product.effective_publication_date or date.min) <= today + timedelta(30)
        assert product.isbn13 and product.onix_publishing_status_code == "02"  # forthcoming
        assert product.work and product.work.title and product.work.bisac_codes and product.work.contributor_names
    narrowed = list(hook.iter_titles_approaching_publication(today, 3))
    assert {p.id for p in narrowed} < expected


def test_lifecycle_events_revised_reissued_repackaged(consonance: Callable[..., Any]) -> None:
    hook, running = consonance()
    today = running.context.clock.now().date()
    since = today - timedelta(days=90)
    events = list(hook.iter_lifecycle_events(since, today, page_size=5))
    stored = [
        (w["id"], e["kind"])
        for w in _works(running)
        for e in w["lifecycleEvents"]
        if since <= date.fromisoformat(e["eventDate"]) <= today
    ]
    assert sorted((e.work.id, e.event.kind.value) for e in events) == sorted(stored)
    assert {e.event.kind for e in events} == set(LifecycleEventKind)
    revised = next(e for e in events if e.event.kind is LifecycleEventKind.REVISED)
    (new_edition,) = revised.products
    assert "REV" in new_edition.onix_edition_type_codes and new_edition.isbn13
    reissues = list(hook.iter_lifecycle_events(since, kinds=[LifecycleEventKind.REISSUED]))
    assert reissues and {e.event.kind for e in reissues} == {LifecycleEventKind.REISSUED}
    assert any(e.event.event_date > today for e in reissues)  # a reissue already scheduled

    running.admin(
        "POST",
        "consonance/works/1002/events",
        json={
            "kind": "REPACKAGED",
            "eventDate": today.isoformat(),
            "productIds": ["50021"],
            "description": "New cover",
        },
    )
    (fresh,) = [e for e in hook.iter_lifecycle_events(today, today) if e.work.id == "1002"]
    assert fresh.event.description == "New cover" and [p.id for p in fresh.products] == ["50021"]


def test_work_and_product_by_isbn(consonance: Callable[..., Any]) -> None:
    hook, _ = consonance()
    product = hook.get_product_by_isbn(seed.isbn13(4))
    assert product is not None and product.id == seed.product_id(4, 1) and product.format is ProductFormat.PRINT
    assert product.work and product.work.id == seed.work_id(4)
    work = hook.get_work_by_isbn(seed.isbn13(100004))  # the ebook's ISBN finds the same title
    assert work is not None and work.id == seed.work_id(4)
    assert {p.isbn13 for p in work.products} >= {seed.isbn13(4), seed.isbn13(100004), seed.isbn13(200004)}
    assert hook.get_product_by_isbn("9780000000002") is None
    assert hook.get_work("999999") is None
    assert hook.test_connection()[0]


def test_writes_are_idempotent_by_our_reference(consonance: Callable[..., Any]) -> None:
    hook, running = consonance()
    work_id, print_id = seed.work_id(4), seed.product_id(4, 1)
    first = hook.attach_supporting_resource(
        work_id,
        reference="ref-cover-4",
        url="https://tenant.smint.io/asset-book-4-cover",
        caption="Front cover",
        resource_type="FRONT_COVER",
        asset_id="asset-book-4-cover",
        usage_rights=RIGHTS,
        product_ids=[print_id],
    )
    again = hook.attach_supporting_resource(
        work_id,
        reference="ref-cover-4",
        url="https://tenant.smint.io/asset-book-4-cover",
        caption="Front cover",
        resource_type="FRONT_COVER",
        asset_id="asset-book-4-cover",
        usage_rights=RIGHTS,
        product_ids=[print_id],
    )
    assert first.changed and not again.changed and again.record.id == first.record.id
    newer = hook.attach_supporting_resource(
        work_id,
        reference="ref-cover-4",
        url="https://tenant.smint.io/asset-book-4-cover?v=2",
        caption="Front cover",
        resource_type="FRONT_COVER",
        asset_id="asset-book-4-cover",
        asset_version=2,
        usage_rights=RIGHTS,
        product_ids=[print_id],
    )
    assert newer.changed and newer.record.id == first.record.id and newer.record.asset_version == 2
    assert [h["action"] for h in running.context.store.history(kind="supporting_resource")] == ["create", "update"]

    release = running.context.clock.now().date() + timedelta(days=14)
    for _ in range(2):
        pairing = hook.record_format_asset_pairing(
            print_id, reference="pair-4-jacket", asset_id="asset-book-4-jacket", role="jacket", release_date=release
        )
    assert pairing.record.release_date == release and not pairing.changed
    for _ in range(2):
        terms = hook.record_license_terms(
            work_id,
            reference="license-asset-book-4-cover",
            asset_id="asset-book-4-cover",
            status=LicenseStatus.RENEWED,
            valid_until=datetime(2027, 6, 30, tzinfo=UTC),
            permitted_usage="print and online, worldwide",
            territories=["WORLD"],
        )
    assert terms.record.status is LicenseStatus.RENEWED and not terms.changed
    assert len(running.context.store.history(kind="format_asset_pairing")) == 1
    assert len(running.context.store.history(kind="license_terms")) == 1

    work = hook.get_work(work_id)
    assert work is not None
    (resource,) = work.supporting_resources
    assert resource.url.endswith("?v=2") and resource.usage_rights and resource.usage_rights.print_run == 20000
    assert work.license_terms[0].valid_until == datetime(2027, 6, 30, tzinfo=UTC)
    assert work.product(print_id).format_asset_pairings[0].asset_id == "asset-book-4-jacket"  # type: ignore[union-attr]

    with pytest.raises(RequestRejectedError) as refused:
        hook.record_license_terms(
            "999999", reference="x", asset_id="a", status="ENDED", valid_until=datetime(2026, 1, 1, tzinfo=UTC)
        )
    assert "work not found" in str(refused.value)


def test_graphql_errors_are_raised_typed_not_returned_as_data(consonance: Callable[..., Any]) -> None:
    hook, _ = consonance()
    with pytest.raises(GraphQLError) as unknown_field:
        hook.query("query { works { id titel } }")
    (error,) = unknown_field.value.errors
    assert "titel" in error["message"] and error["locations"] == [{"line": 1, "column": 20}]
    assert "path" not in error  # a request error (the document was refused), not a failed field
    assert unknown_field.value.status == 200  # refused with HTTP 200: still an error
    with pytest.raises(GraphQLError) as missing_variable:
        hook.query("query Find($isbn: String!) { product(productSearch: {isbn13Eq: $isbn}) { id } }", {})
    assert "$isbn" in str(missing_variable.value)
    with pytest.raises(GraphQLError, match="Syntax Error"):
        hook.query("query { works { id ")
    with pytest.raises(GraphQLError, match="Invalid cursor"):
        hook.query('query { worksConnection(after: "bm9wZQ==") { nodes { id } } }')


def test_rest_fallback_pages_through_the_product_api(consonance: Callable[..., Any]) -> None:
    hook, running = consonance(api="rest")
    today = running.context.clock.now().date()
    expected = {
        p["id"]
        for p in _products(running)
        if today <= date.fromisoformat(p["publicationDate"]) <= today + timedelta(30)
    }
    products = list(hook.iter_titles_approaching_publication(today, 30, page_size=9))
    assert {p.id for p in products} == expected
    assert running.context.stats.by_route["GET /api/v4/products.json"] == math.ceil(len(expected) / 9)
    assert _graphql_calls(running) == 0
    assert {p.format for p in products} == {ProductFormat.PRINT, ProductFormat.EBOOK, ProductFormat.AUDIO}
    assert all(p.work and p.work.id for p in products)
    since = running.context.clock.now() - timedelta(days=3)
    changed = {p.id for p in hook.iter_products_changed_since(since, page_size=25)}
    assert changed == {p["id"] for p in _products(running) if datetime.fromisoformat(p["updatedAt"]) >= since}
    product = hook.get_product_by_isbn(seed.isbn13(7))
    assert product is not None and product.work and product.work.id == seed.work_id(7)
    assert hook.test_connection()[0]
    # writes exist only in GraphQL: a REST connection still records them there
    written = hook.record_license_terms(
        seed.work_id(7), reference="r", asset_id="a", status="ACTIVE", valid_until=datetime(2027, 1, 1, tzinfo=UTC)
    )
    assert written.changed and _graphql_calls(running) == 1


def test_a_429_storm_and_5xx_are_ridden_out(consonance: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = consonance()
    caplog.set_level(logging.DEBUG)
    since = running.context.clock.now() - timedelta(days=5)
    expected = {w["id"] for w in _works(running) if datetime.fromisoformat(w["updatedAt"]) >= since}
    running.set_faults(fail_next=[429, 429, 429, 429, 503], retry_after_seconds=0)
    assert {w.id for w in hook.iter_works_changed_since(since, page_size=4)} == expected
    assert running.context.stats.by_status[429] == 4 and running.context.stats.by_status[503] == 1
    # a write hit by server errors is resent (it is keyed by our reference) and lands once
    running.set_faults(fail_next=[502, 500, 503])
    result = hook.attach_supporting_resource(
        seed.work_id(9),
        reference="ref-9",
        url="https://tenant.smint.io/a9",
        resource_type="AUTHOR_PHOTO",
        asset_id="asset-9",
        usage_rights=RIGHTS,
    )
    assert result.changed
    assert len(running.context.store.history(kind="supporting_resource")) == 1
    assert "attempt 1 of" in caplog.text
    assert DEMO_API_KEY not in caplog.text  # nor in any retry or debug line


def test_a_refused_key_says_so_without_showing_it(
    consonance: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    bad_key = "ffffffffffffffffffffffffffffffff"
    hook, running = consonance(key=bad_key)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationError) as caught:
        hook.get_product_by_isbn(seed.isbn13(1))
    message = str(caught.value)
    assert "not authorized" in message and "credentials" in message and "API key" in message
    assert bad_key not in message
    ok, text = hook.test_connection()
    assert not ok and bad_key not in text
    rest, _ = consonance(api="rest", key=bad_key, running=running)
    with pytest.raises(AuthenticationError) as rest_caught:
        list(rest.iter_products_changed_since(datetime.now(UTC)))
    assert "401" in str(rest_caught.value) and bad_key not in str(rest_caught.value)
    assert bad_key not in caplog.text


def test_a_malformed_title_is_quarantined_while_the_rest_arrive(
    consonance: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    hook, running = consonance()
    caplog.set_level(logging.DEBUG)
    cutoff = running.context.clock.advance(60) - timedelta(seconds=1)  # after the seed's own "now"
    running.admin("PATCH", "consonance/works/1010", json={"subtitle": "fine"})
    running.admin("PUT", "consonance/works/4242", json={"title": None, "imprint": {"name": "Ghost"}})
    running.admin("PATCH", "consonance/works/1011", json={"subtitle": "also fine"})
    bad: list[tuple[str, Any]] = []
    good = list(hook.iter_works_changed_since(cutoff, page_size=1, on_invalid=lambda r, raw: bad.append((r, raw))))
    assert [w.id for w in good] == ["1010", "1011"]
    ((reason, raw),) = bad
    assert "title" in reason and raw["id"] == "4242"

    # the REST fallback quarantines the same way (here: records broken by the sandbox's fault switch)
    rest, _ = consonance(api="rest", running=running)
    running.set_faults(malformed_rate=0.2, seed=3)
    rest_bad: list[str] = []
    arrived = list(
        rest.iter_products_changed_since(cutoff - timedelta(days=30), on_invalid=lambda r, _: rest_bad.append(r))
    )
    assert rest_bad and arrived and all("full_title" in r for r in rest_bad)
    assert DEMO_API_KEY not in caplog.text


def test_a_works_production_tasks_and_manuscripts_are_read(consonance: Callable[..., Any]) -> None:
    """CON-3 (modelled): the production schedule and the manuscripts of a work, as seeded."""
    hook, running = consonance()
    production = hook.get_production(seed.work_id(1))
    assert production is not None
    tasks, manuscripts = production
    stored = {t["id"]: t for t in running.context.store.all("production_task") if t["workId"] == seed.work_id(1)}
    assert {t.id: t.name for t in tasks} == {i: t["name"] for i, t in stored.items()}
    assert {t.name for t in tasks} == {name for _, name, _ in seed.PRODUCTION_TASKS}
    for task in tasks:
        assert task.work_id == seed.work_id(1) and task.assignee in seed.ASSIGNEES
        assert task.due_date == date.fromisoformat(stored[task.id]["dueDate"]) and task.attached_resources == []
    assert sorted(m.version for m in manuscripts) == [1, 2]
    assert {m.status for m in manuscripts} == {"superseded", "in_copyedit"}

    assert not seed.has_production(14)
    assert hook.get_production(seed.work_id(14)) == ([], [])  # a work without a schedule
    assert hook.get_production("999999") is None
    one = hook.get_production_task(seed.task_id(1, 1))
    assert one is not None and one.name == "Cover design" and one.work_id == seed.work_id(1)
    assert hook.get_production_task("1") is None
    manuscript = hook.get_manuscript(seed.manuscript_id(1, 2))
    assert manuscript is not None and manuscript.version == 2
    assert hook.get_manuscript("1") is None


def test_attaching_to_a_task_or_manuscript_is_idempotent_by_our_reference(consonance: Callable[..., Any]) -> None:
    """CON-3 (modelled): one attachment per task / manuscript and reference; a repeat changes
    nothing, a new asset version updates the same attachment; unknown targets are refused."""
    hook, running = consonance()
    task_id, manuscript_id = seed.task_id(2, 1), seed.manuscript_id(2, 2)

    def to_task(version: int = 1) -> Any:
        return hook.attach_to_production_task(
            task_id,
            reference="req-cover-2",
            url=f"https://tenant.smint.io/asset-book-2-cover?v={version}",
            resource_type="cover",
            asset_id="asset-book-2-cover",
            asset_version=version,
            usage_rights=RIGHTS,
            caption="Cover for the design brief",
        )

    first, again = to_task(), to_task()
    assert first.changed and not again.changed and again.record.id == first.record.id
    newer = to_task(2)
    assert newer.changed and newer.record.id == first.record.id and newer.record.asset_version == 2
    assert [h["action"] for h in running.context.store.history(kind="production_task_attachment")] == [
        "create",
        "update",
    ]
    task = hook.get_production_task(task_id)
    assert task is not None
    (attached,) = task.attached_resources
    assert attached.reference == "req-cover-2" and attached.url.endswith("?v=2")
    assert attached.usage_rights is not None and attached.usage_rights.license_reference == "lpt-123"

    for _ in range(2):
        written = hook.attach_to_manuscript(
            manuscript_id,
            reference="req-photo-2",
            url="https://tenant.smint.io/asset-book-2-author_photo",
            resource_type="author_photo",
            asset_id="asset-book-2-author_photo",
            usage_rights=RIGHTS,
        )
    assert not written.changed
    assert len(running.context.store.history(kind="manuscript_attachment")) == 1
    manuscript = hook.get_manuscript(manuscript_id)
    assert manuscript is not None and [a.asset_id for a in manuscript.attached_resources] == [
        "asset-book-2-author_photo"
    ]
    # the title record itself is untouched: these attachments belong to the task and the manuscript
    assert running.context.store.all("supporting_resource") == []

    with pytest.raises(RequestRejectedError, match="production task not found"):
        hook.attach_to_production_task(
            "1", reference="x", url="https://x", resource_type="cover", asset_id="a", usage_rights=RIGHTS
        )
    with pytest.raises(RequestRejectedError, match="manuscript not found"):
        hook.attach_to_manuscript(
            "1", reference="x", url="https://x", resource_type="cover", asset_id="a", usage_rights=RIGHTS
        )
