"""Rights rules, table-driven from realistic stock license terms.

The terms imitate what the big providers sell (values invented, shapes as in api-notes §1.5):
a Getty royalty-free web-only EU grant, an iStock worldwide perpetual grant, a Shutterstock
grant capped at 500 downloads, an Adobe Stock editorial-only grant, a worldwide grant that
excludes the US, and a term whose permission lists are simply missing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from contentops.models import (
    ApprovalStatus,
    Asset,
    ComplianceCriteria,
    ComplianceStatus,
    IntendedUse,
    LicenseTerm,
    ReasonCode,
    RightsDecision,
    SweepStatus,
    Target,
    TargetSystem,
    UsageRights,
    Verdict,
)
from contentops.rights import (
    ChannelCatalogue,
    LanguageCatalogue,
    RegionCatalogue,
    assess_for_sweep,
    evaluate,
    expires_within,
    expiry,
    may_derive,
    meets_compliance,
    usable_until,
)

pytestmark = pytest.mark.unit

ON = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
EVERYTHING = {
    "allowed_distributions": ["any"],
    "allowed_geographies": ["worldwide"],
    "allowed_languages": ["any"],
    "allowed_industries": ["any"],
    "allowed_usages": ["any"],
    "allowed_sizes": ["any"],
    "allowed_placements": ["any"],
}


def term(sequence_number: int = 1, **fields: Any) -> LicenseTerm:
    return LicenseTerm.model_validate({"sequence_number": sequence_number, **fields})


def rights(*terms: LicenseTerm, **fields: Any) -> UsageRights:
    fields.setdefault("license_state", "completed")
    fields.setdefault("content_is_editorial_use", False)
    fields.setdefault("asset_id", "asset-1")
    return UsageRights(terms=terms, **fields)


def use(**fields: Any) -> IntendedUse:
    fields.setdefault("on_date", ON)
    return IntendedUse(**fields)


GETTY_RF_WEB_EU = rights(
    term(
        allowed_distributions=["online"],
        allowed_geographies=["eu"],
        allowed_languages=["any"],
        allowed_industries=["any"],
        allowed_usages=["advertising", "marketing", "corporate"],
        valid_from="2024-01-01",
    )
)
ISTOCK_WORLDWIDE_PERPETUAL = rights(term(**EVERYTHING))
SHUTTERSTOCK_500 = rights(term(**EVERYTHING), max_downloads=500, current_downloads=499)
ADOBE_EDITORIAL = rights(term(**EVERYTHING, is_editorial_use=True))
WORLDWIDE_EXCEPT_US = rights(term(**{**EVERYTHING, "restricted_geographies": ["us"]}))
UNKNOWN_LISTS = rights(term(valid_until="2030-12-31"))


CASES: list[tuple[str, UsageRights, IntendedUse, Verdict, set[ReasonCode]]] = [
    ("getty web in Germany", GETTY_RF_WEB_EU, use(channel="web", region="de", language="de"), Verdict.ALLOWED, set()),
    ("getty social in France", GETTY_RF_WEB_EU, use(channel="social_media", region="FR"), Verdict.ALLOWED, set()),
    ("getty web in Benelux", GETTY_RF_WEB_EU, use(channel="web", region="benelux"), Verdict.ALLOWED, set()),
    (
        "getty web in US",
        GETTY_RF_WEB_EU,
        use(channel="web", region="us"),
        Verdict.REFUSED,
        {ReasonCode.REGION_NOT_ALLOWED},
    ),
    (
        "getty web in DACH (ch not EU)",
        GETTY_RF_WEB_EU,
        use(channel="web", region="dach"),
        Verdict.REFUSED,
        {ReasonCode.REGION_NOT_ALLOWED},
    ),
    (
        "getty print in Germany",
        GETTY_RF_WEB_EU,
        use(channel="print", region="de"),
        Verdict.REFUSED,
        {ReasonCode.CHANNEL_NOT_ALLOWED},
    ),
    (
        "getty editorial usage",
        GETTY_RF_WEB_EU,
        use(usage="editorial", region="de"),
        Verdict.REFUSED,
        {ReasonCode.USAGE_NOT_ALLOWED},
    ),
    (
        "getty before valid_from",
        GETTY_RF_WEB_EU,
        use(channel="web", region="de", on_date=datetime(2023, 12, 31, tzinfo=UTC)),
        Verdict.REFUSED,
        {ReasonCode.NOT_YET_VALID},
    ),
    (
        "istock anywhere",
        ISTOCK_WORLDWIDE_PERPETUAL,
        use(channel="tv", region="jp", language="ja", industry="finance"),
        Verdict.ALLOWED,
        set(),
    ),
    (
        "istock worldwide use",
        ISTOCK_WORLDWIDE_PERPETUAL,
        use(region="worldwide", channel="any"),
        Verdict.ALLOWED,
        set(),
    ),
    (
        "istock in 2090",
        ISTOCK_WORLDWIDE_PERPETUAL,
        use(region="de", on_date=datetime(2090, 1, 1, tzinfo=UTC)),
        Verdict.ALLOWED,
        set(),
    ),
    ("shutterstock last download", SHUTTERSTOCK_500, use(region="de", planned_downloads=1), Verdict.ALLOWED, set()),
    (
        "shutterstock over the cap",
        SHUTTERSTOCK_500,
        use(region="de", planned_downloads=2),
        Verdict.REFUSED,
        {ReasonCode.DOWNLOAD_LIMIT_REACHED},
    ),
    (
        "adobe editorial, commercial use",
        ADOBE_EDITORIAL,
        use(region="de"),
        Verdict.REFUSED,
        {ReasonCode.EDITORIAL_ONLY},
    ),
    ("adobe editorial, editorial use", ADOBE_EDITORIAL, use(region="de", editorial=True), Verdict.ALLOWED, set()),
    ("except-US in US", WORLDWIDE_EXCEPT_US, use(region="us"), Verdict.REFUSED, {ReasonCode.REGION_RESTRICTED}),
    ("except-US in Canada", WORLDWIDE_EXCEPT_US, use(region="ca"), Verdict.ALLOWED, set()),
    (
        "except-US in North America",
        WORLDWIDE_EXCEPT_US,
        use(region="north_america"),
        Verdict.REFUSED,
        {ReasonCode.REGION_RESTRICTED},
    ),
    (
        "except-US worldwide",
        WORLDWIDE_EXCEPT_US,
        use(region="worldwide"),
        Verdict.REFUSED,
        {ReasonCode.REGION_RESTRICTED},
    ),
    ("unknown lists, region asked", UNKNOWN_LISTS, use(region="de"), Verdict.UNKNOWN, {ReasonCode.UNKNOWN_REGION}),
    ("unknown lists, channel asked", UNKNOWN_LISTS, use(channel="web"), Verdict.UNKNOWN, {ReasonCode.UNKNOWN_CHANNEL}),
    ("unknown lists, nothing asked but the date", UNKNOWN_LISTS, use(), Verdict.ALLOWED, set()),
]


@pytest.mark.parametrize(
    ("rights_", "use_", "verdict", "codes"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
def test_realistic_terms(rights_: UsageRights, use_: IntendedUse, verdict: Verdict, codes: set[ReasonCode]) -> None:
    decision = evaluate(rights_, use_)
    assert decision.verdict is verdict, decision.summary()
    assert decision.codes == codes
    assert decision.asset_id == "asset-1"
    assert decision.allowed is (verdict is Verdict.ALLOWED)
    if decision.allowed:
        assert decision.granted_by_term == 1 and decision.reasons == ()
    else:
        assert decision.granted_by_term is None


def test_refusal_reason_names_dimension_wanted_value_and_license_values() -> None:
    decision = evaluate(GETTY_RF_WEB_EU, use(channel="web", region="us"))
    (reason,) = decision.reasons
    assert (reason.dimension, reason.wanted, reason.listed, reason.term) == ("region", "us", ("eu",), 1)
    assert "us" in reason.message and "eu" in reason.message

    restricted = evaluate(WORLDWIDE_EXCEPT_US, use(region="us")).reasons[0]
    assert restricted.listed == ("us",) and "restricted_geographies" in restricted.message

    capped = evaluate(SHUTTERSTOCK_500, use(planned_downloads=5)).reasons[0]
    assert (capped.dimension, capped.wanted, capped.listed) == ("downloads", "504", ("500",))


def test_a_restriction_beats_an_allowance_of_the_same_key() -> None:
    both = rights(term(allowed_geographies=["de"], restricted_geographies=["de"]))
    assert evaluate(both, use(region="de")).codes == {ReasonCode.REGION_RESTRICTED}


def test_an_empty_or_missing_allowed_list_is_unknown() -> None:
    # Smint.io's public sample license carries empty lists and its cores read them as "not stated"
    assert evaluate(rights(term(allowed_geographies=[])), use(region="de")).verdict is Verdict.UNKNOWN
    assert evaluate(rights(term(allowed_geographies=None)), use(region="de")).verdict is Verdict.UNKNOWN
    # a restriction is decisive even when the permission is unknown
    decision = evaluate(rights(term(restricted_geographies=["europe"])), use(region="de"))
    assert decision.verdict is Verdict.REFUSED and decision.codes == {ReasonCode.REGION_RESTRICTED}


def test_terms_are_alternatives() -> None:
    web_eu = term(1, allowed_distributions=["online"], allowed_geographies=["eu"])
    print_world = term(2, allowed_distributions=["print"], allowed_geographies=["worldwide"])
    both = rights(web_eu, print_world)

    granted = evaluate(both, use(channel="print", region="us"))
    assert granted.allowed and granted.granted_by_term == 2

    refused = evaluate(both, use(channel="web", region="us"))
    assert refused.verdict is Verdict.REFUSED
    assert {reason.term for reason in refused.reasons} == {1, 2}
    assert refused.codes == {ReasonCode.REGION_NOT_ALLOWED, ReasonCode.CHANNEL_NOT_ALLOWED}


def test_no_term_allows_and_one_is_undecided_gives_unknown() -> None:
    refusing = term(1, allowed_geographies=["us"])
    undecided = term(2, allowed_geographies=None)
    decision = evaluate(rights(refusing, undecided), use(region="de"))
    assert decision.verdict is Verdict.UNKNOWN
    assert decision.codes == {ReasonCode.REGION_NOT_ALLOWED, ReasonCode.UNKNOWN_REGION}


def test_term_without_sequence_number_is_reported_by_position() -> None:
    decision = evaluate(
        rights(term(allowed_geographies=["us"]), LicenseTerm(allowed_geographies=["fr"])), use(region="de")
    )
    assert sorted(reason.term for reason in decision.reasons if reason.term is not None) == [1, 2]


@pytest.mark.parametrize(
    ("fields", "verdict", "codes"),
    [
        ({"license_state": "cancelled"}, Verdict.REFUSED, {ReasonCode.LICENSE_NOT_COMPLETED}),
        ({"license_state": None}, Verdict.UNKNOWN, {ReasonCode.UNKNOWN_LICENSE_STATE}),
        ({"content_is_editorial_use": None}, Verdict.UNKNOWN, {ReasonCode.UNKNOWN_EDITORIAL_USE}),
        ({"offering_is_editorial_use": True}, Verdict.REFUSED, {ReasonCode.EDITORIAL_ONLY}),
        ({"max_users": 10, "current_users": None}, Verdict.UNKNOWN, {ReasonCode.UNKNOWN_USER_COUNT}),
        ({"max_reuses": 3, "current_reuses": 3}, Verdict.ALLOWED, set()),
        ({"max_reuses": 3, "current_reuses": 4}, Verdict.REFUSED, {ReasonCode.REUSE_LIMIT_REACHED}),
    ],
)
def test_license_level_checks(fields: dict[str, Any], verdict: Verdict, codes: set[ReasonCode]) -> None:
    decision = evaluate(rights(term(**EVERYTHING), **fields), use(region="de"))
    assert decision.verdict is verdict, decision.summary()
    assert decision.codes == codes


def test_a_license_without_terms_is_unknown() -> None:
    decision = evaluate(rights(), use(region="de"))
    assert decision.verdict is Verdict.UNKNOWN and decision.codes == {ReasonCode.NO_LICENSE_TERMS}


def test_refusal_wins_over_unknown_across_license_and_terms() -> None:
    decision = evaluate(rights(term(), license_state="cancelled"), use(region="de"))
    assert decision.verdict is Verdict.REFUSED
    assert decision.codes == {ReasonCode.LICENSE_NOT_COMPLETED, ReasonCode.UNKNOWN_REGION}


def test_dates_validity_and_use_period() -> None:
    dated = rights(term(**EVERYTHING, valid_until="2026-06-30", to_be_used_until="2026-03-31"))
    assert evaluate(dated, use(on_date=datetime(2026, 3, 31, 23, 0, tzinfo=UTC))).allowed  # bare date = whole day
    later = evaluate(dated, use(on_date=datetime(2026, 4, 1, tzinfo=UTC)))
    assert later.codes == {ReasonCode.USE_PERIOD_ENDED}
    after = evaluate(dated, use(on_date=datetime(2026, 7, 1, tzinfo=UTC)))
    assert after.codes == {ReasonCode.USE_PERIOD_ENDED, ReasonCode.EXPIRED}
    assert {reason.dimension for reason in after.reasons} == {"to_be_used_until", "valid_until"}


def test_naive_on_date_is_read_as_utc() -> None:
    assert use(on_date=datetime(2026, 1, 1)).on_date == datetime(2026, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    ("allowed", "wanted", "verdict"),
    [
        (["language_english", "language_german"], "de-AT", Verdict.ALLOWED),
        (["language_english"], "en_GB", Verdict.ALLOWED),
        (["language_english"], "fr", Verdict.REFUSED),
        (["language_hindustani"], "ur", Verdict.ALLOWED),
        (["language_mandarin_chinese"], "zh-Hant-TW", Verdict.ALLOWED),
        (["any"], "sv", Verdict.ALLOWED),
        (["en"], "en", Verdict.ALLOWED),
        (["language_klingon"], "de", Verdict.UNKNOWN),
        (["language_english"], "klingon", Verdict.UNKNOWN),
    ],
)
def test_language_keys_map_to_iso_639_1(allowed: list[str], wanted: str, verdict: Verdict) -> None:
    assert evaluate(rights(term(allowed_languages=allowed)), use(language=wanted)).verdict is verdict


def test_restricted_language_refuses() -> None:
    decision = evaluate(
        rights(term(allowed_languages=["any"], restricted_languages=["language_french"])), use(language="fr")
    )
    assert decision.codes == {ReasonCode.LANGUAGE_RESTRICTED}


@pytest.mark.parametrize(
    ("key", "canonical"),
    [("Germany", "de"), ("geography_germany", "de"), ("DE", "de"), ("United Kingdom", "gb"), ("world", "worldwide")],
)
def test_region_keys_resolve(key: str, canonical: str) -> None:
    assert RegionCatalogue().canonical(key) == canonical


def test_region_hierarchy() -> None:
    regions = RegionCatalogue()
    assert regions.leaves("dach") == {"de", "at", "ch"}
    assert regions.leaves("eu") < regions.leaves("europe") < regions.leaves("emea")
    assert {"us", "ca"} <= regions.leaves("north_america")
    assert "jp" in regions.leaves("apac") and "sa" not in regions.leaves("apac")
    assert regions.leaves("europe") <= regions.leaves("worldwide")
    assert not regions.is_known("atlantis") and regions.is_known("geography_europe")


def test_unresolvable_region_is_unknown_unless_a_wildcard_decides() -> None:
    eu_only = rights(term(allowed_geographies=["eu"]))
    assert evaluate(eu_only, use(region="atlantis")).codes == {ReasonCode.UNKNOWN_REGION}
    assert evaluate(ISTOCK_WORLDWIDE_PERPETUAL, use(region="atlantis")).allowed
    mystery = rights(term(allowed_geographies=["geography_mystery_zone"]))
    assert evaluate(mystery, use(region="de")).verdict is Verdict.UNKNOWN
    mystery_restricted = rights(term(allowed_geographies=["worldwide"], restricted_geographies=["mystery_zone"]))
    assert evaluate(mystery_restricted, use(region="de")).verdict is Verdict.UNKNOWN


def test_region_catalogue_from_config_extends_or_replaces() -> None:
    config = {
        "groups": {"launch_markets": ["de", "fr", "us"], "dach": ["de", "at", "ch", "li"]},
        "aliases": {"Deutschland": "de"},
    }
    extended = RegionCatalogue.from_config(config)
    assert extended.leaves("launch_markets") == {"de", "fr", "us"}
    assert extended.leaves("dach") == {"de", "at", "ch", "li"}
    assert extended.canonical("deutschland") == "de"
    assert extended.leaves("europe") == RegionCatalogue().leaves("europe")  # defaults kept

    grant = rights(term(allowed_geographies=["launch_markets"]))
    assert evaluate(grant, use(region="us"), regions=extended).allowed
    assert evaluate(grant, use(region="us")).verdict is Verdict.UNKNOWN  # default catalogue cannot resolve it

    replaced = RegionCatalogue.from_config({"groups": {"home": ["de"]}, "closed": True}, extend=False)
    assert not replaced.is_known("fr") and replaced.leaves("home") == {"de"}


def test_region_catalogue_validated_from_a_settings_mapping_extends_the_defaults() -> None:
    loaded = RegionCatalogue.model_validate({"groups": {"launch_markets": ["de", "us"]}})
    assert loaded.leaves("launch_markets") == {"de", "us"} and loaded.leaves("dach") == {"de", "at", "ch"}
    assert loaded.is_wildcard("worldwide") and loaded.closed
    alone = RegionCatalogue.model_validate({"groups": {"home": ["de"]}, "extend_defaults": False})
    assert alone.groups == {"home": ("de",)} and not alone.is_wildcard("worldwide")
    assert RegionCatalogue.model_validate(RegionCatalogue().model_dump()) == RegionCatalogue()


def test_region_catalogue_rejects_cycles() -> None:
    with pytest.raises(ValidationError, match="cycle"):
        RegionCatalogue.from_config({"groups": {"a": ["b"], "b": ["a"]}})


def test_channel_catalogue_can_be_overridden() -> None:
    web_only = rights(term(allowed_distributions=["digital"]))
    assert evaluate(web_only, use(channel="email")).allowed  # digital -> online ⊃ email
    assert evaluate(web_only, use(channel="print")).verdict is Verdict.REFUSED
    custom = ChannelCatalogue.from_config({"groups": {"online": ["web"]}})
    assert evaluate(web_only, use(channel="email"), channels=custom).verdict is Verdict.REFUSED


def test_language_catalogue_defaults() -> None:
    assert LanguageCatalogue().canonical("language_bengali") == "bn"


# --------------------------------------------------------------------------- expiry


def test_expiry_is_the_earliest_end_and_usable_until_the_latest() -> None:
    two = rights(
        term(1, valid_until="2027-01-31", to_be_used_until="2026-12-31"),
        term(2, valid_until="2028-06-30"),
    )
    assert expiry(two) == datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert usable_until(two) == datetime(2028, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert expiry(ISTOCK_WORLDWIDE_PERPETUAL) is None and usable_until(ISTOCK_WORLDWIDE_PERPETUAL) is None
    with_perpetual = rights(term(1, valid_until="2027-01-31"), term(2))
    assert expiry(with_perpetual) is not None and usable_until(with_perpetual) is None
    assert usable_until(rights()) is None


def test_expires_within() -> None:
    ends = rights(term(valid_until="2026-06-30"))
    assert expires_within(ends, ON, 30)
    assert not expires_within(ends, ON, 10)
    assert expires_within(ends, datetime(2026, 8, 1, tzinfo=UTC), 0)  # already lapsed counts
    assert not expires_within(ISTOCK_WORLDWIDE_PERPETUAL, ON, 10_000)


# --------------------------------------------------------------------------- sweep


def test_sweep_ok_expiring_expired_follow_the_as_of_date() -> None:
    ends = rights(term(**EVERYTHING, valid_until="2026-06-30"))
    early = assess_for_sweep(ends, datetime(2026, 1, 1, tzinfo=UTC), 30)
    assert early.status is SweepStatus.OK and early.findings == {SweepStatus.OK}
    assert early.expires_at == datetime(2026, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)

    soon = assess_for_sweep(ends, ON, 30)
    assert soon.status is SweepStatus.EXPIRING and soon.needs_action
    assert soon.reasons[0].code is ReasonCode.EXPIRING and soon.reasons[0].term == 1

    gone = assess_for_sweep(ends, datetime(2026, 7, 2, tzinfo=UTC), 30)
    assert gone.status is SweepStatus.EXPIRED
    assert ReasonCode.EXPIRED in {reason.code for reason in gone.reasons}
    assert gone.asset_id == "asset-1"


def test_sweep_partial_lapse_is_not_expired_while_another_term_runs() -> None:
    mixed = rights(term(1, valid_until="2025-12-31"), term(2))
    assessment = assess_for_sweep(mixed, ON, 30)
    assert assessment.status is SweepStatus.OK and assessment.expires_at is None


def test_sweep_limit_reached_at_the_cap_and_unknown_counter_is_missing_metadata() -> None:
    at_cap = rights(term(**EVERYTHING), max_downloads=500, current_downloads=500)
    assessment = assess_for_sweep(at_cap, ON, 30)
    assert assessment.status is SweepStatus.LIMIT_REACHED
    assert {reason.code for reason in assessment.reasons} == {ReasonCode.DOWNLOAD_LIMIT_REACHED}

    unknown = assess_for_sweep(rights(term(**EVERYTHING), max_users=5), ON, 30)
    assert unknown.status is SweepStatus.METADATA_MISSING
    assert {reason.code for reason in unknown.reasons} == {ReasonCode.UNKNOWN_USER_COUNT}


def test_sweep_reports_every_finding_with_the_most_severe_as_status() -> None:
    bad = rights(term(valid_until="2025-01-01"), max_downloads=1, current_downloads=1, license_state=None)
    assessment = assess_for_sweep(bad, ON, 30)
    assert assessment.status is SweepStatus.EXPIRED
    assert assessment.findings == {SweepStatus.EXPIRED, SweepStatus.LIMIT_REACHED, SweepStatus.METADATA_MISSING}


def test_sweep_cancelled_license_is_expired_and_no_terms_is_missing_metadata() -> None:
    assert assess_for_sweep(rights(term(), license_state="refunded"), ON, 30).status is SweepStatus.EXPIRED
    empty = assess_for_sweep(rights(), ON, 30)
    assert empty.status is SweepStatus.METADATA_MISSING
    assert {reason.code for reason in empty.reasons} == {ReasonCode.NO_LICENSE_TERMS}


def test_sweep_required_metadata_checks_the_asset() -> None:
    asset = Asset(id="asset-9", approval_status=ApprovalStatus.APPROVED, metadata={"campaign_code": "", "owner": "x"})
    assessment = assess_for_sweep(
        rights(term(), asset_id=None), ON, 30, asset=asset, required_metadata=("campaign_code", "owner", "region")
    )
    assert assessment.status is SweepStatus.METADATA_MISSING
    assert {reason.dimension for reason in assessment.reasons} == {"campaign_code", "region"}
    assert assessment.asset_id == "asset-9"
    with pytest.raises(ValueError, match="asset"):
        assess_for_sweep(rights(term()), ON, 30, required_metadata=("owner",))


# --------------------------------------------------------------------------- derivatives


def test_may_derive() -> None:
    assert may_derive(ISTOCK_WORLDWIDE_PERPETUAL, "de", "de", ON).allowed
    editorial = may_derive(ADOBE_EDITORIAL, "de", "de", ON)
    assert editorial.verdict is Verdict.REFUSED and ReasonCode.DERIVATIVES_NOT_ALLOWED in editorial.codes
    no_mods = rights(term(**EVERYTHING, restricted_usages=["Modification"]))
    assert may_derive(no_mods, "de", "de", ON).codes == {ReasonCode.DERIVATIVES_NOT_ALLOWED}
    assert evaluate(no_mods, use(region="de")).allowed  # using it unaltered is fine
    no_french = rights(term(**{**EVERYTHING, "restricted_languages": ["language_french"]}))
    assert may_derive(no_french, "fr", "fr", ON).codes == {ReasonCode.LANGUAGE_RESTRICTED}
    assert may_derive(no_french, "de", "fr", ON).allowed
    assert may_derive(GETTY_RF_WEB_EU, "en", "us", ON).codes == {ReasonCode.REGION_NOT_ALLOWED}
    assert may_derive(UNKNOWN_LISTS, "de", None, ON).verdict is Verdict.UNKNOWN


# --------------------------------------------------------------------------- compliance (EXS-5)

CRITERIA = ComplianceCriteria(
    eligible_categories=frozenset({"icon", "disclosure_graphic", "legal_artwork"}),
    required_compliance_status=ComplianceStatus.COMPLIANT,
    max_age_days=365,
    required_metadata=("legal_entity",),
)


def asset(**fields: Any) -> Asset:
    base: dict[str, Any] = {
        "id": "asset-c",
        "approval_status": "approved",
        "compliance_status": "compliant",
        "categories": ["Disclosure_Graphic"],
        "created_at": "2026-01-10T00:00:00Z",
        "metadata": {"legal_entity": "ACME Bank AG"},
    }
    base.update(fields)
    return Asset.model_validate(base)


@pytest.mark.parametrize(
    ("fields", "rights_", "verdict", "codes"),
    [
        ({}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.ALLOWED, set()),
        ({"categories": [], "tags": ["icon"]}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.ALLOWED, set()),
        ({"approval_status": "in_review"}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.REFUSED, {ReasonCode.NOT_APPROVED}),
        (
            {"categories": ["lifestyle"]},
            ISTOCK_WORLDWIDE_PERPETUAL,
            Verdict.REFUSED,
            {ReasonCode.CATEGORY_NOT_ELIGIBLE},
        ),
        ({"compliance_status": "pending"}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.REFUSED, {ReasonCode.NOT_COMPLIANT}),
        ({"compliance_status": None}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.UNKNOWN, {ReasonCode.NOT_COMPLIANT}),
        ({"created_at": "2024-01-01T00:00:00Z"}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.REFUSED, {ReasonCode.TOO_OLD}),
        ({"created_at": None}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.UNKNOWN, {ReasonCode.UNKNOWN_AGE}),
        ({"metadata": {}}, ISTOCK_WORLDWIDE_PERPETUAL, Verdict.REFUSED, {ReasonCode.METADATA_MISSING}),
        ({}, ADOBE_EDITORIAL, Verdict.REFUSED, {ReasonCode.EDITORIAL_ONLY}),
        ({}, None, Verdict.UNKNOWN, {ReasonCode.UNKNOWN_EDITORIAL_USE}),
    ],
)
def test_meets_compliance(
    fields: dict[str, Any], rights_: UsageRights | None, verdict: Verdict, codes: set[ReasonCode]
) -> None:
    decision = meets_compliance(asset(**fields), rights_, CRITERIA, ON)
    assert decision.verdict is verdict, decision.summary()
    assert decision.codes == codes
    assert decision.asset_id == "asset-c"


def test_default_compliance_criteria_only_require_approval_and_no_editorial() -> None:
    lenient = ComplianceCriteria()
    assert meets_compliance(
        asset(categories=[], compliance_status=None), ISTOCK_WORLDWIDE_PERPETUAL, lenient, ON
    ).allowed
    assert not meets_compliance(asset(approval_status="draft"), ISTOCK_WORLDWIDE_PERPETUAL, lenient, ON).allowed


# --------------------------------------------------------------------------- domain types


def test_decision_round_trips_through_json_and_summarises() -> None:
    decision = evaluate(GETTY_RF_WEB_EU, use(channel="print", region="us"))
    again = RightsDecision.model_validate_json(decision.model_dump_json())
    assert again == decision
    assert decision.summary().startswith("refused: ")
    assert evaluate(ISTOCK_WORLDWIDE_PERPETUAL, use()).summary() == "allowed"


def test_target_implies_an_intended_use() -> None:
    target = Target(system=TargetSystem.VIP, channel="web", region="dach", language="de", recipient="team-dach")
    implied = target.intended_use(ON, planned_downloads=1)
    assert (implied.channel, implied.region, implied.language, implied.planned_downloads) == ("web", "dach", "de", 1)
    assert evaluate(GETTY_RF_WEB_EU, implied).codes == {ReasonCode.REGION_NOT_ALLOWED}
    with pytest.raises(ValidationError):
        Target(system="fax")  # type: ignore[arg-type]


def test_domain_types_are_frozen_and_strict() -> None:
    with pytest.raises(ValidationError):
        IntendedUse(on_date=ON, chanel="web")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        use().region = "us"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        IntendedUse(on_date=ON, planned_downloads=-1)


def test_sweep_assessment_expires_at_is_utc() -> None:
    assessment = assess_for_sweep(rights(term(valid_until="2026-06-10T10:00:00+02:00")), ON, 30)
    assert assessment.expires_at == datetime(2026, 6, 10, 8, 0, tzinfo=UTC)
    assert assessment.expires_at - ON < timedelta(days=30)


def test_compliance_editorial_check_accepts_content_with_one_commercial_grant() -> None:
    mixed = rights(term(1, **EVERYTHING, is_editorial_use=True), term(2, **EVERYTHING, is_editorial_use=False))
    assert meets_compliance(asset(), mixed, CRITERIA, ON).allowed
    assert evaluate(mixed, use(region="de")).granted_by_term == 2
