"""Properties of the rights rules that must hold for *any* license, checked with hypothesis.

Verdicts are ranked allowed < unknown < refused ("how far from usable"). The rules must be
monotone in that order: more restrictions never help, more grants never hurt.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contentops.models import IntendedUse, LicenseTerm, SweepStatus, UsageRights, Verdict
from contentops.rights import RegionCatalogue, assess_for_sweep, evaluate, expiry, term_end, usable_until

pytestmark = pytest.mark.unit

RANK = {Verdict.ALLOWED: 0, Verdict.UNKNOWN: 1, Verdict.REFUSED: 2}
REGION_KEYS = [
    "de",
    "fr",
    "us",
    "ca",
    "jp",
    "gb",
    "ch",
    "europe",
    "eu",
    "dach",
    "north_america",
    "apac",
    "worldwide",
    "mystery_zone",
]
CHANNEL_KEYS = ["web", "email", "print", "tv", "online", "any", "intranet"]
LANGUAGE_KEYS = ["language_english", "language_german", "language_french", "any", "language_klingon", "de", "en"]
INDUSTRY_KEYS = ["finance", "tobacco", "any", "pharma"]
LISTS = {
    "geographies": REGION_KEYS,
    "distributions": CHANNEL_KEYS,
    "languages": LANGUAGE_KEYS,
    "industries": INDUSTRY_KEYS,
}
USE_FIELD = {"geographies": "region", "distributions": "channel", "languages": "language", "industries": "industry"}

PROPERTY_SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

moments = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2032, 12, 31), timezones=st.just(UTC))


def key_list(keys: list[str]) -> st.SearchStrategy[list[str] | None]:
    return st.none() | st.lists(st.sampled_from(keys), max_size=4)


@st.composite
def terms(draw: st.DrawFn, number: int = 1) -> LicenseTerm:
    fields: dict[str, Any] = {"sequence_number": number}
    for suffix, keys in LISTS.items():
        fields[f"allowed_{suffix}"] = draw(key_list(keys))
        fields[f"restricted_{suffix}"] = draw(st.none() | st.lists(st.sampled_from(keys), max_size=2))
    fields["valid_from"] = draw(st.none() | moments)
    fields["valid_until"] = draw(st.none() | moments)
    fields["to_be_used_until"] = draw(st.none() | moments)
    fields["is_editorial_use"] = draw(st.none() | st.booleans())
    return LicenseTerm.model_validate(fields)


@st.composite
def usage_rights(draw: st.DrawFn, min_terms: int = 0) -> UsageRights:
    count = draw(st.integers(min_value=min_terms, max_value=3))
    cap = draw(st.none() | st.integers(min_value=0, max_value=10))
    return UsageRights(
        asset_id="a",
        terms=tuple(draw(terms(number)) for number in range(1, count + 1)),
        license_state=draw(st.sampled_from(["completed", "completed", "completed", None, "cancelled"])),
        content_is_editorial_use=draw(st.none() | st.booleans()),
        max_downloads=cap,
        current_downloads=draw(st.none() | st.integers(min_value=0, max_value=12)),
    )


@st.composite
def uses(draw: st.DrawFn) -> IntendedUse:
    return IntendedUse(
        on_date=draw(moments),
        region=draw(st.sampled_from(REGION_KEYS)),
        channel=draw(st.sampled_from(CHANNEL_KEYS)),
        language=draw(st.sampled_from(["de", "en", "fr", "ja", "en-GB"])),
        industry=draw(st.none() | st.sampled_from(INDUSTRY_KEYS)),
        editorial=draw(st.booleans()),
        planned_downloads=draw(st.none() | st.integers(min_value=0, max_value=3)),
    )


def with_term(rights: UsageRights, index: int, **update: Any) -> UsageRights:
    changed = list(rights.terms)
    changed[index] = changed[index].model_copy(update=update)
    return rights.model_copy(update={"terms": tuple(changed)})


@PROPERTY_SETTINGS
@given(usage_rights(min_terms=1), uses(), st.data())
def test_adding_a_restriction_never_makes_a_use_more_usable(
    rights: UsageRights, use: IntendedUse, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(rights.terms) - 1))
    suffix = data.draw(st.sampled_from(sorted(LISTS)))
    key = data.draw(st.sampled_from(LISTS[suffix]))
    field = f"restricted_{suffix}"
    tightened = with_term(rights, index, **{field: [*(getattr(rights.terms[index], field) or []), key]})
    assert RANK[evaluate(tightened, use).verdict] >= RANK[evaluate(rights, use).verdict]


@PROPERTY_SETTINGS
@given(usage_rights(min_terms=1), uses(), st.data())
def test_adding_an_allowed_key_never_makes_a_use_less_usable(
    rights: UsageRights, use: IntendedUse, data: st.DataObject
) -> None:
    index = data.draw(st.integers(min_value=0, max_value=len(rights.terms) - 1))
    suffix = data.draw(st.sampled_from(sorted(LISTS)))
    field = f"allowed_{suffix}"
    current = getattr(rights.terms[index], field)
    if current is None:  # None -> [key] is learning a fact, not widening a grant
        return
    widened = with_term(rights, index, **{field: [*current, data.draw(st.sampled_from(LISTS[suffix]))]})
    assert RANK[evaluate(widened, use).verdict] <= RANK[evaluate(rights, use).verdict]


@PROPERTY_SETTINGS
@given(usage_rights(), terms(number=9), uses())
def test_adding_an_alternative_term_never_makes_a_use_less_usable(
    rights: UsageRights, extra: LicenseTerm, use: IntendedUse
) -> None:
    if not rights.terms:  # no terms at all is "unknown"; one refusing term is legitimately worse
        return
    more = rights.model_copy(update={"terms": (*rights.terms, extra)})
    assert RANK[evaluate(more, use).verdict] <= RANK[evaluate(rights, use).verdict]


@PROPERTY_SETTINGS
@given(usage_rights(), uses(), st.sampled_from(sorted(LISTS)))
def test_a_missing_permission_list_never_yields_allowed(rights: UsageRights, use: IntendedUse, suffix: str) -> None:
    unknown = rights.model_copy(
        update={"terms": tuple(term.model_copy(update={f"allowed_{suffix}": None}) for term in rights.terms)}
    )
    if getattr(use, USE_FIELD[suffix]) is None:
        use = use.model_copy(update={USE_FIELD[suffix]: LISTS[suffix][0]})
    assert evaluate(unknown, use).verdict is not Verdict.ALLOWED


@PROPERTY_SETTINGS
@given(usage_rights(min_terms=1), uses())
def test_a_restricted_region_is_always_refused_whatever_is_allowed(rights: UsageRights, use: IntendedUse) -> None:
    assert use.region is not None
    blocked = rights.model_copy(
        update={
            "terms": tuple(
                term.model_copy(update={"restricted_geographies": [*(term.restricted_geographies or []), use.region]})
                for term in rights.terms
            )
        }
    )
    decision = evaluate(blocked, use)
    assert decision.verdict is Verdict.REFUSED
    assert any(reason.dimension == "region" for reason in decision.reasons)


@PROPERTY_SETTINGS
@given(usage_rights(min_terms=1), uses(), st.sampled_from(["europe", "dach", "north_america", "worldwide"]), st.data())
def test_restricting_a_group_refuses_every_member(
    rights: UsageRights, use: IntendedUse, group: str, data: st.DataObject
) -> None:
    member = data.draw(st.sampled_from(sorted(RegionCatalogue().leaves(group) - {"*"})))
    blocked = rights.model_copy(
        update={"terms": tuple(term.model_copy(update={"restricted_geographies": [group]}) for term in rights.terms)}
    )
    assert evaluate(blocked, use.model_copy(update={"region": member})).verdict is Verdict.REFUSED


@PROPERTY_SETTINGS
@given(usage_rights())
def test_expiry_is_never_after_any_term_end(rights: UsageRights) -> None:
    ends = [end for term in rights.terms if (end := term_end(term)) is not None]
    first = expiry(rights)
    if not ends:
        assert first is None
    else:
        assert first is not None and all(first <= end for end in ends) and first in ends


@PROPERTY_SETTINGS
@given(usage_rights(min_terms=1), uses(), st.integers(min_value=1, max_value=4000))
def test_nothing_is_allowed_after_the_last_term_ends(rights: UsageRights, use: IntendedUse, minutes: int) -> None:
    last = usable_until(rights)
    if last is None:
        return
    later = use.model_copy(update={"on_date": last + timedelta(minutes=minutes)})
    assert evaluate(rights, later).verdict is not Verdict.ALLOWED


@PROPERTY_SETTINGS
@given(terms(), uses(), st.integers(min_value=1, max_value=4000))
def test_single_term_nothing_is_allowed_after_expiry(term: LicenseTerm, use: IntendedUse, minutes: int) -> None:
    rights = UsageRights(terms=(term,), license_state="completed", content_is_editorial_use=False)
    first = expiry(rights)
    if first is None:
        return
    later = use.model_copy(update={"on_date": first + timedelta(minutes=minutes)})
    assert evaluate(rights, later).verdict is not Verdict.ALLOWED


@PROPERTY_SETTINGS
@given(usage_rights(), uses())
def test_every_decision_explains_itself(rights: UsageRights, use: IntendedUse) -> None:
    decision = evaluate(rights, use)
    if decision.allowed:
        assert decision.reasons == ()
        assert decision.granted_by_term in {term.sequence_number for term in rights.terms}
    else:
        assert decision.reasons and all(reason.message for reason in decision.reasons)
        assert decision.granted_by_term is None


@PROPERTY_SETTINGS
@given(usage_rights(), uses())
def test_key_spelling_does_not_change_the_decision(rights: UsageRights, use: IntendedUse) -> None:
    def shout(keys: list[str] | None) -> list[str] | None:
        return None if keys is None else [f" {key.upper()} " for key in keys]

    loud_terms = tuple(
        term.model_copy(
            update={
                f"{side}_{suffix}": shout(getattr(term, f"{side}_{suffix}"))
                for side in ("allowed", "restricted")
                for suffix in LISTS
            }
        )
        for term in rights.terms
    )
    loud_use = use.model_copy(
        update={field: value.upper() for field in ("region", "channel", "language") if (value := getattr(use, field))}
    )
    loud = evaluate(rights.model_copy(update={"terms": loud_terms}), loud_use)
    assert loud.verdict is evaluate(rights, use).verdict


@PROPERTY_SETTINGS
@given(usage_rights(), uses(), st.integers(min_value=0, max_value=120))
def test_a_usable_asset_is_never_swept_as_expired(rights: UsageRights, use: IntendedUse, horizon: int) -> None:
    if evaluate(rights, use).allowed:
        assert SweepStatus.EXPIRED not in assess_for_sweep(rights, use.on_date, horizon).findings


@PROPERTY_SETTINGS
@given(st.sampled_from(["europe", "eu", "dach", "emea", "apac", "latam", "north_america", "nordics"]), moments)
def test_a_group_grant_covers_each_member_and_the_members_cover_the_group(group: str, on: datetime) -> None:
    regions = RegionCatalogue()
    members = sorted(regions.leaves(group))
    by_group = UsageRights(
        terms=(LicenseTerm(allowed_geographies=[group]),), license_state="completed", content_is_editorial_use=False
    )
    by_members = by_group.model_copy(update={"terms": (LicenseTerm(allowed_geographies=members),)})
    for member in members[:: max(1, len(members) // 6)]:
        assert evaluate(by_group, IntendedUse(on_date=on, region=member)).allowed
    assert evaluate(by_members, IntendedUse(on_date=on, region=group)).allowed
    assert not evaluate(by_members, IntendedUse(on_date=on, region="worldwide")).allowed
