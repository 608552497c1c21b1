"""TradingGridHook against the Trading Grid sandbox over real HTTP."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import pytest

from contentops.hooks.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RequestRejectedError,
)
from contentops.hooks.trading_grid import TradingGridHook
from contentops_sandbox.connections import trading_grid_connection

pytestmark = pytest.mark.contract


@pytest.fixture
def grid(sandbox: Callable[..., Any], monkeypatch: pytest.MonkeyPatch) -> Callable[..., tuple[Any, Any]]:
    def start(password: str = "demo-secret", **config: Any) -> tuple[TradingGridHook, Any]:
        running = sandbox("trading_grid", **config)
        conn = trading_grid_connection(running.url, backoff_initial=0.01, backoff_max=0.05)
        conn["password"] = password
        monkeypatch.setenv("AIRFLOW_CONN_OPENTEXT_TRADING_GRID_DEFAULT", json.dumps(conn))
        return TradingGridHook(), running

    return start


def test_company_partner_directory_and_entitlements(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    assert hook.company()["companyId"] == "GC00804444LX"
    partners = list(hook.iter_partners(page_size=4))
    assert len(partners) == len({p.partner_company_id for p in partners}) == 15
    assert running.context.stats.by_route["GET /TGCommunityServices/v1/companies/GC00804444LX/partnerDirectory"] == 4
    assert [p.region for p in hook.iter_partners(name="dach")] == ["dach"] * 3
    assert {e["name"] for e in hook.entitlements()} >= {"brand-assets:emea", "brand-assets:dach"}


def test_posts_are_published_once_per_reference(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    communities = {c.id for c in hook.communities()}
    assert "community-emea" in communities
    first = hook.put_post(
        "community-emea",
        "guidance-asset-1",
        title="Usage update",
        body="Expires 1 Dec",
        kind="usage_guidance",
        asset_ids=["asset-1"],
    )
    again = hook.put_post(
        "community-emea",
        "guidance-asset-1",
        title="Usage update",
        body="Expires 1 Dec",
        kind="usage_guidance",
        asset_ids=["asset-1"],
    )
    assert first == again
    assert len(hook.posts("community-emea")) == 1
    assert [h["action"] for h in running.admin("GET", "history", params={"kind": "post"})] == ["publish"]
    with pytest.raises(RequestRejectedError) as caught:
        hook.put_post("community-emea", "x", title="t", body="b", kind="gossip")
    assert "InvalidPostKind" in str(caught.value)


def test_basic_token_flow_faults_and_secrets(grid: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = grid(token_ttl_seconds=60)
    caplog.set_level(logging.DEBUG)
    running.set_faults(fail_next=[502, 429], retry_after_seconds=0)
    assert hook.communities()
    running.context.clock.advance(120)  # the token expired mid-run: fetched again
    assert hook.communities()
    assert hook.transport.auth.token_fetches == 2  # type: ignore[union-attr]
    assert "demo-secret" not in caplog.text
    wrong, _ = grid(password="not-the-secret")
    with pytest.raises(AuthenticationError) as caught:
        wrong.communities()
    assert "not-the-secret" not in str(caught.value)


# -- Community Management users and roles (sourced paths) -----------------------------------------
def test_users_roles_and_entitlements(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    users = list(hook.iter_users(page_size=2))
    assert (
        len(users) == 3
        and running.context.stats.by_route["GET /TGCommunityServices/v1/companies/GC00804444LX/users"] == 2
    )
    (ops,) = hook.iter_users(login_id="brand.ops@contentops.example")
    assert hook.get_user(ops.user_id) == hook.get_user(ops.login_id) == ops
    created = hook.create_user(
        {
            "loginId": "new.partner.manager@contentops.example",
            "loginPassword": "Secret-Pa55word",
            "firstName": "New",
            "lastName": "Manager",
            "type": "Web",
            "contactInformation": {"email": "new.partner.manager@contentops.example"},
            "userPasswordHint": {"pwdHintQuestionAnswer1": {"question": "q", "answer": "a"}},
        }
    )
    assert created.unique_id == created.user_id and created.email == "new.partner.manager@contentops.example"
    stored = running.context.store.get("user", created.user_id)
    assert "loginPassword" not in stored and "userPasswordHint" not in stored  # never kept
    with pytest.raises(ConflictError):
        hook.create_user({"loginId": created.login_id, "loginPassword": "x", "firstName": "A", "lastName": "B"})
    assert hook.update_user(created.login_id, {"lastName": "Lead"}).last_name == "Lead"
    assert [r.role_name for r in hook.user_roles(created.login_id)] == []
    for _ in range(2):  # a PUT: the second one changes nothing
        roles = hook.change_user_roles(created.login_id, ["TGMS Reports", "Community Projects Admin"])
    assert [r.role_name for r in roles] == ["TGMS Reports", "Community Projects Admin"]
    assert [h["action"] for h in running.admin("GET", "history", params={"kind": "user", "id": created.user_id})] == [
        "create",
        "update",
        "roles:Add",
    ]
    roles = hook.change_user_roles(created.login_id, ["TGMS Reports"], action="Remove")
    assert [r.role_name for r in roles] == ["Community Projects Admin"]
    with pytest.raises(NotFoundError):  # roles are found by loginId only
        hook.user_roles(created.user_id)
    assert {e["name"] for e in hook.user_entitlements(created.login_id)} >= {"brand-assets:emea"}
    hook.delete_user(created.user_id)
    with pytest.raises(NotFoundError) as caught:
        hook.get_user(created.login_id)
    assert "UserNotFound" in str(caught.value)


# -- partner cases (modelled) -----------------------------------------------------------------------
def _file(running: Any, **case: Any) -> dict[str, Any]:
    body = {
        "type": "broken_link",
        "partner_company_id": "GC00000001PT",
        "subject": "Link does not open",
        "details": {"asset_id": "asset-summer-01", "url": "https://example.invalid/x"},
        **case,
    }
    return dict(running.admin("POST", "trading_grid/cases", json=body))


def test_cases_are_listed_since_a_time_with_paging_and_bad_ones_quarantined(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    _file(running, subject="before the window")
    since = running.context.clock.advance(60)
    running.context.clock.advance(1)
    filed = [_file(running, subject=f"case {n}") for n in range(5)]
    _file(running, type="asset_request", details={"asset_kind": "logo"})
    _file(running, type="quality_problem", details={})  # names no asset: cannot be routed
    _file(running, type="gossip")
    invalid: list[tuple[str, Any]] = []
    cases = list(hook.iter_cases(updated_since=since, page_size=3, on_invalid=lambda r, raw: invalid.append((r, raw))))
    assert [c.id for c in cases] == [c["id"] for c in filed] + [cases[-1].id]
    assert cases[-1].details.asset_kind == "logo"
    assert len(invalid) == 2
    assert "must name the asset" in invalid[0][0] and "type" in invalid[1][0]
    assert running.context.stats.by_route["GET /communities/v1/cases"] == 3
    only = list(hook.iter_cases(types=["asset_request"], on_invalid=lambda r, raw: None))
    assert [c.type for c in only] == ["asset_request"]
    with pytest.raises(ValueError, match="validation error"):  # without a callback a bad case is an error
        list(hook.iter_cases(updated_since=since, types=["gossip"]))
    bad = invalid[0][1]["id"]
    assert hook.get_case(bad, on_invalid=lambda r, raw: invalid.append((r, raw))) is None and len(invalid) == 3
    later = running.context.clock.advance(60)
    assert list(hook.iter_cases(updated_since=later)) == []
    assert [
        c.id
        for c in hook.iter_cases(updated_since=since, updated_until=later, statuses=["open"], types=["broken_link"])
    ] == [c["id"] for c in filed]


def test_case_comments_links_and_status_life_cycle(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    case_id = _file(running)["id"]
    for _ in range(2):  # by our reference: the second call adds nothing
        hook.put_case_comment(
            case_id, "ack", "We flagged the asset for correction.", [{"asset_id": "asset-summer-01", "version": 2}]
        )
        hook.link_case_asset(case_id, system="smintio", asset_id="asset-summer-01", relation="affected", version=2)
        hook.set_case_status(case_id, "in_progress", "flagged in Smint.io")
    (comment,) = hook.case_comments(case_id)
    assert comment.author == "contentops-demo" and comment.attachments[0]["asset_id"] == "asset-summer-01"
    case = hook.get_case(case_id)
    assert case.status == "in_progress" and [(lk.asset_id, lk.relation) for lk in case.links] == [
        ("asset-summer-01", "affected")
    ]
    actions = [h["action"] for h in running.admin("GET", "history", params={"kind": "case", "id": case_id})]
    assert actions == ["filed", "commented", "link", "status:in_progress"]
    with pytest.raises(ConflictError) as caught:
        hook.set_case_status(case_id, "closed")  # in_progress -> closed skips resolved
    assert "InvalidTransition" in str(caught.value)
    with pytest.raises(RequestRejectedError):
        hook.link_case_asset(case_id, system="smintio", asset_id="a", relation="likes")
    hook.set_case_status(case_id, "resolved")
    running.admin("POST", f"trading_grid/cases/{case_id}/comments", json={"body": "Still broken"})
    reopened = hook.get_case(case_id)
    assert reopened.status == "open" and reopened.revision == 2  # the partner's reply reopens it
    assert [c.body for c in hook.case_comments(case_id)][-1] == "Still broken"
    with pytest.raises(NotFoundError):
        hook.get_case("CASE-999999")


def test_token_expiry_and_faults_mid_listing(grid: Callable[..., Any], caplog: pytest.LogCaptureFixture) -> None:
    hook, running = grid(token_ttl_seconds=60)
    for n in range(6):
        _file(running, subject=f"case {n}")
    caplog.set_level(logging.WARNING)
    listing = hook.iter_cases(page_size=2)
    first = [next(listing), next(listing)]
    running.context.clock.advance(120)  # the token expires between two pages
    running.set_faults(fail_next=[503, 429, 502], retry_after_seconds=0)
    rest = list(listing)
    assert len(first + rest) == 6 and len({c.id for c in first + rest}) == 6
    assert hook.transport.auth.token_fetches == 2  # type: ignore[union-attr]
    statuses = running.context.stats.by_status
    assert statuses[503] == statuses[429] == statuses[502] == 1 and statuses[401] >= 1
    assert "retrying" in caplog.text


def test_malformed_cases_from_the_service_are_handed_over_not_fatal(grid: Callable[..., Any]) -> None:
    hook, running = grid(faults={"malformed_rate": 1.0})
    for n in range(4):
        _file(running, subject=f"case {n}")
    invalid: list[Any] = []
    cases = list(hook.iter_cases(page_size=2, on_invalid=lambda reason, raw: invalid.append(raw)))
    # every page's first case arrives without its type: quarantined, the others arrive
    assert len(cases) == 2 and len(invalid) == 2 and all("type" not in raw for raw in invalid)


# -- co-marketing sign-off (modelled) ---------------------------------------------------------------
def test_signoff_requests_and_partner_answers(grid: Callable[..., Any]) -> None:
    hook, running = grid()
    items = [{"asset_id": "asset-logo-03", "version": "abc123", "name": "Brand logo 3"}]
    for _ in range(2):
        request = hook.put_signoff(
            "logo-kit-dach-abc123", community="community-dach", title="Logo kit", items=items, message="Please sign off"
        )
    assert request.status == "pending" and len(request.partners) == 3  # the DACH partners
    assert [h["action"] for h in running.admin("GET", "history", params={"kind": "signoff"})] == ["request"]
    for partner in request.partners:
        running.admin(
            "POST",
            "trading_grid/signoffs/logo-kit-dach-abc123/responses",
            json={"partner_company_id": partner, "decision": "approved", "login_id": "p@example.com"},
        )
    assert hook.get_signoff("logo-kit-dach-abc123").status == "approved"
    assert [s.ref for s in hook.iter_signoffs()] == ["logo-kit-dach-abc123"]
    with pytest.raises(NotFoundError):
        hook.put_signoff("x", community="community-mars", title="t", items=items)
