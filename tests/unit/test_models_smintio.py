"""Smint.io payload models: a realistic full LPT parses; malformed ones fail with a clear error."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from contentops.models import (
    ApprovalStatus,
    Asset,
    GenericMetadata,
    LicensePurchaseTransaction,
    LocalizedString,
    SyncBinary,
    SyncLicensePurchaseTransactionQueryResult,
    UsageRights,
)
from contentops.models.common import metadata_keys, metadata_names, pick_localized

pytestmark = pytest.mark.unit


def loc(en: str, de: str | None = None) -> list[dict[str, str]]:
    values = [{"culture": "en", "value": en}]
    if de is not None:
        values.append({"culture": "de", "value": de})
    return values


def element(key: str | None, name: str, culture: str = "en", url: str | None = None) -> dict[str, Any]:
    inner: dict[str, Any] = {"name": name}
    if key is not None:
        inner["key"] = key
    if url is not None:
        inner["url"] = url
    return {"culture": culture, "metadata_element": inner}


def full_lpt() -> dict[str, Any]:
    """A complete LPT as CLAPI-C sends it (field names from api-notes §1.5; values invented)."""
    term = {
        "sequence_number": 1,
        "name": loc("Web use in the EU", "Webnutzung in der EU"),
        "exclusivities": ["non_exclusive"],
        "allowed_usages": ["advertising", "marketing"],
        "restricted_usages": ["sensitive_use"],
        "allowed_sizes": ["any"],
        "restricted_sizes": [],
        "allowed_placements": ["any"],
        "restricted_placements": None,
        "allowed_distributions": ["online"],
        "restricted_distributions": ["print"],
        "allowed_geographies": ["eu"],
        "restricted_geographies": [],
        "allowed_industries": ["any"],
        "restricted_industries": ["tobacco"],
        "allowed_languages": ["language_english", "language_german"],
        "restricted_languages": [],
        "usage_limits": ["unlimited_impressions"],
        "to_be_used_until": "2027-06-30",
        "valid_from": "2025-01-01T00:00:00+02:00",
        "valid_until": "2030-12-31T23:59:59Z",
        "is_editorial_use": False,
    }
    return {
        "uuid": "lpt-0001",
        "cart_purchase_transaction_uuid": "cpt-0001",
        "reused_license_purchase_transaction_uuid": None,
        "state": "completed",
        "project_uuid": "proj-77",
        "project_name": loc("Spring campaign", "Frühjahrskampagne"),
        "collection_uuid": "coll-1",
        "collection_name": loc("Hero images"),
        "collection_content_element_uuid": "cce-1",
        "collection_content_element_created_at": "2025-02-01T09:00:00Z",
        "collection_content_element_created_by_user_uuid": "user-1",
        "collection_content_element_created_by_user_name": "Ada Editor",
        "total_price_eur": 49.0,
        "total_price_usd": 53.5,
        "content_element": {
            "uuid": "2:0:61019726",
            "provider": "getty",
            "content_type": "image",
            "content_category": "creative",
            "editorial_segments": [],
            "name": loc("Cyclist at dawn", "Radfahrer im Morgengrauen"),
            "description": loc("A cyclist on an empty road at dawn"),
            "image_details": {"type": "photo", "aspect_ratio": 1.5, "orientation": "landscape"},
            "events": [],
            "contributors": [element("c-9", "Jane Photographer")],
            "copyright_notices": loc("© Jane Photographer / Getty Images"),
            "collections": [],
            "is_premium": False,
            "is_editorial_use": False,
            "is_editorial": False,
            "is_ai": False,
            "created_at": "2024-11-05T12:00:00Z",
            "provider_urls": [element("getty", "Getty Images", url="https://example.invalid/61019726")],
            "keywords": [element(None, "cycling"), element(None, "Radfahren", culture="de"), element(None, "dawn")],
            "categories": [element("sports", "Sports"), element("sports", "Sport", culture="de")],
            "previews": [
                {"culture": "en", "preview": {"thumbnail": {"width": 200, "height": 133, "media_type": "image/jpeg"}}}
            ],
            "release_details": {
                "model_release_state": "model_released",
                "property_release_state": "not_applicable",
                "provider_allowed_use_comment": loc("Commercial use allowed"),
                "provider_release_comment": None,
                "provider_usage_constraints": loc("No use in political campaigns"),
            },
        },
        "offering": {
            "license_uuid": "image_standard",
            "provider_configuration_uuid": "pc-1",
            "provider_configuration_name": loc("Getty (enterprise)"),
            "provider_configuration_contact_person": {"name": "Account Manager"},
            "contract_uuid": "contract-1",
            "contract_name": loc("Enterprise agreement"),
            "contract_description": loc("Premium access"),
            "offering_uuid": "off-1",
            "offering_name": loc("Royalty free, large"),
            "offering_label": loc("RF L"),
            "has_options": True,
            "options": [{"option_name": loc("Extended print run"), "license_text": {"effective_text": loc("...")}}],
            "license_type": "royalty_free",
            "license_urls": [element("eula", "EULA", url="https://example.invalid/eula")],
            "media_type": "image/jpeg",
            "size": "large",
            "format": "fixed",
            "resolution": 16650000,
            "is_premium": False,
            "is_editorial_use": False,
            "is_editorial": False,
            "image_details": {"width": 5000, "height": 3333, "resolution_megapixels": 16.7},
            "total_price_eur": 49.0,
            "total_price_usd": 53.5,
            "licensee_uuid": "lic-1",
            "licensee_name": "ACME Publishing",
            "license_text": {"effective_text": loc("Offering license"), "effective_text_is_safe_html": True},
            "license_terms": [{"sequence_number": 1, "allowed_geographies": ["worldwide"]}],
            "license_download_constraints": {"effective_max_downloads": 10},
            "has_layout_file": False,
        },
        "purchased_at": "2025-02-03T10:15:00+01:00",
        "completed_at": "2025-02-03T10:16:00+01:00",
        "purchased_by_user_uuid": "user-1",
        "purchased_by_user_name": "Ada Editor",
        "licensee_uuid": "lic-1",
        "licensee_name": "ACME Publishing",
        "license_text": {
            "effective_text": loc("You may use ...", "Sie dürfen ..."),
            "effective_text_is_safe_html": True,
        },
        "license_terms": [term],
        "license_download_constraints": {
            "effective_max_downloads": 500,
            "effective_max_users": 25,
            "effective_max_reuses": None,
        },
        "has_potentially_restrictive_license_terms": True,
        "current_downloads": 12,
        "current_users": 3,
        "current_reuses": 0,
        "can_be_synced": True,
        "version": 4,
        "created_at": "2025-02-03T10:15:00Z",
        "last_updated_at": "2025-03-01T08:00:00Z",
        "a_field_added_by_smintio_later": {"nested": [1, 2]},
    }


def test_full_lpt_parses_with_nested_types_and_utc_dates() -> None:
    lpt = LicensePurchaseTransaction.model_validate(full_lpt())

    assert lpt.uuid == "lpt-0001"
    assert lpt.state == "completed"
    assert lpt.content_element is not None
    assert lpt.content_element.provider == "getty"
    assert lpt.content_element.name is not None
    assert lpt.content_element.name.pick("de") == "Radfahrer im Morgengrauen"
    assert lpt.content_element.category_keys() == ["sports"]
    assert lpt.content_element.release_details is not None
    assert lpt.content_element.release_details.model_release_state == "model_released"
    assert lpt.offering is not None and lpt.offering.license_type == "royalty_free"
    assert lpt.offering.options is not None and lpt.offering.options[0].option_name is not None

    term = lpt.license_terms[0] if lpt.license_terms else None
    assert term is not None
    assert term.allowed_geographies == ["eu"]
    assert term.restricted_placements is None
    assert term.restricted_sizes is None  # empty = not stated, as Smint.io's cores read it
    # +02:00 becomes UTC; a bare end date means the whole day.
    assert term.valid_from == datetime(2024, 12, 31, 22, 0, tzinfo=UTC)
    assert term.to_be_used_until == datetime(2027, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
    assert lpt.purchased_at == datetime(2025, 2, 3, 9, 15, tzinfo=UTC)
    for moment in (lpt.purchased_at, lpt.created_at, lpt.last_updated_at, term.valid_until):
        assert moment is not None and moment.utcoffset() is not None and moment.utcoffset().total_seconds() == 0

    constraints = lpt.effective_download_constraints()
    assert constraints is not None
    assert (constraints.effective_max_downloads, constraints.effective_max_users) == (500, 25)
    assert constraints.effective_max_reuses is None


def test_unknown_fields_are_kept_through_a_round_trip() -> None:
    lpt = LicensePurchaseTransaction.model_validate(full_lpt())
    dumped = lpt.model_dump(mode="json")
    assert dumped["a_field_added_by_smintio_later"] == {"nested": [1, 2]}
    assert LicensePurchaseTransaction.model_validate(dumped) == lpt


def test_missing_permissions_and_flags_stay_none() -> None:
    lpt = LicensePurchaseTransaction.model_validate(
        {"uuid": "lpt-min", "license_terms": [{"sequence_number": 1}], "content_element": {"uuid": "ce"}}
    )
    term = lpt.effective_terms()[0]
    for field in ("allowed_geographies", "allowed_distributions", "allowed_languages", "restricted_geographies"):
        assert getattr(term, field) is None
    assert term.is_editorial_use is None
    assert lpt.content_element is not None and lpt.content_element.is_editorial_use is None
    assert lpt.current_downloads is None and lpt.can_be_synced is None


def test_term_lists_accept_metadata_element_objects_as_keys() -> None:
    lpt = LicensePurchaseTransaction.model_validate(
        {
            "uuid": "lpt-el",
            "license_terms": [
                {"allowed_geographies": [{"key": "europe"}, {"culture": "en", "metadata_element": {"key": "us"}}]}
            ],
        }
    )
    assert lpt.effective_terms()[0].allowed_geographies == ["europe", "us"]


def test_terms_and_constraints_fall_back_to_the_offering() -> None:
    payload = full_lpt()
    payload["license_terms"] = []
    payload["license_download_constraints"] = None
    lpt = LicensePurchaseTransaction.model_validate(payload)
    assert [term.allowed_geographies for term in lpt.effective_terms()] == [["worldwide"]]
    constraints = lpt.effective_download_constraints()
    assert constraints is not None and constraints.effective_max_downloads == 10


def test_usage_rights_from_lpt_carries_terms_caps_counters_and_flags() -> None:
    rights = UsageRights.from_lpt(LicensePurchaseTransaction.model_validate(full_lpt()))
    assert rights.asset_id == "lpt-0001"
    assert rights.content_element_uuid == "2:0:61019726"
    assert rights.provider == "getty"
    assert rights.license_state == "completed"
    assert [term.sequence_number for term in rights.terms] == [1]
    assert (rights.max_downloads, rights.max_users, rights.max_reuses) == (500, 25, None)
    assert (rights.current_downloads, rights.current_users, rights.current_reuses) == (12, 3, 0)
    assert rights.editorial_only is False
    assert UsageRights.model_validate_json(rights.model_dump_json()) == rights


def test_usage_rights_editorial_flag_any_true_wins_and_all_none_is_unknown() -> None:
    base = {"uuid": "x", "content_element": {"uuid": "c"}, "offering": {}}
    assert UsageRights.from_lpt(LicensePurchaseTransaction.model_validate(base)).editorial_only is None
    payload = copy.deepcopy(base)
    payload["content_element"]["is_editorial_use"] = False
    payload["offering"]["is_editorial_use"] = True
    assert UsageRights.from_lpt(LicensePurchaseTransaction.model_validate(payload)).editorial_only is True


@pytest.mark.parametrize(
    ("mutate", "location"),
    [
        (lambda p: p.pop("uuid"), ("uuid",)),
        (lambda p: p.update(license_terms={"sequence_number": 1}), ("license_terms",)),
        (lambda p: p.update(current_downloads=-3), ("current_downloads",)),
        (lambda p: p.update(current_users="several"), ("current_users",)),
        (lambda p: p["license_terms"][0].update(valid_until="next spring"), ("license_terms", 0, "valid_until")),
        (lambda p: p["license_terms"][0].update(allowed_geographies="eu"), ("license_terms", 0, "allowed_geographies")),
        (lambda p: p["content_element"].pop("uuid"), ("content_element", "uuid")),
        (lambda p: p["content_element"].update(name="plain string"), ("content_element", "name")),
        (
            lambda p: p["license_download_constraints"].update(effective_max_downloads="lots"),
            ("license_download_constraints", "effective_max_downloads"),
        ),
    ],
)
def test_malformed_lpt_is_rejected_with_the_offending_location(mutate: Any, location: tuple[Any, ...]) -> None:
    payload = full_lpt()
    mutate(payload)
    with pytest.raises(ValidationError) as caught:
        LicensePurchaseTransaction.model_validate(payload)
    locations = [error["loc"] for error in caught.value.errors()]
    assert any(loc_[: len(location)] == location for loc_ in locations), locations
    assert "LicensePurchaseTransaction" in str(caught.value)


def test_query_page_keeps_items_raw_so_one_bad_item_can_be_quarantined() -> None:
    good = full_lpt()
    bad = {"cart_purchase_transaction_uuid": "no-uuid-here"}
    page = SyncLicensePurchaseTransactionQueryResult.model_validate(
        {"count": 3, "continuation_uuid": "cursor-2", "license_purchase_transactions": [good, bad, None]}
    )
    assert page.count == 3 and page.continuation_uuid == "cursor-2"

    parsed, quarantined = [], []
    for item in page.license_purchase_transactions:
        try:
            parsed.append(LicensePurchaseTransaction.model_validate(item))
        except ValidationError as exc:
            quarantined.append((item, exc))
    assert [lpt.uuid for lpt in parsed] == ["lpt-0001"]
    assert [item for item, _ in quarantined] == [bad, None]
    assert all("uuid" in str(exc) or "dict" in str(exc) for _, exc in quarantined)


def test_query_page_needs_a_count() -> None:
    with pytest.raises(ValidationError):
        SyncLicensePurchaseTransactionQueryResult.model_validate({"license_purchase_transactions": []})


def test_sync_binary_parses() -> None:
    binary = SyncBinary.model_validate(
        {
            "uuid": "bin-1",
            "content_type": "image",
            "binary_type": "download",
            "name": loc("Main file"),
            "description": None,
            "usage": loc("Print"),
            "download_url": "https://example.invalid/dl?sig=abc",
            "recommended_file_name": "cyclist.jpg",
            "culture": "en",
            "version": 2,
        }
    )
    assert binary.version == 2 and binary.recommended_file_name == "cyclist.jpg"
    with pytest.raises(ValidationError):
        SyncBinary.model_validate({"download_url": "https://example.invalid"})


def test_generic_metadata_resolves_names_with_culture_fallback() -> None:
    metadata = GenericMetadata.model_validate(
        {
            "providers": [element("getty", "Getty Images EN"), element("getty", "Getty Images DE", culture="de")],
            "license_geographies": [element("europe", "Europe")],
            "some_new_catalogue": [],
        }
    )
    assert metadata.name_of("providers", "getty", "de") == "Getty Images DE"
    assert metadata.name_of("providers", "getty", "fr") == "Getty Images EN"
    assert metadata.name_of("license_geographies", "europe") == "Europe"
    assert metadata.name_of("license_geographies", "asia") is None
    assert metadata.license_languages == []
    assert metadata.model_extra == {"some_new_catalogue": []}
    with pytest.raises(ValueError, match="some_new_catalogue"):
        metadata.name_of("some_new_catalogue", "x")


def test_pick_localized_order_exact_then_language_then_fallback_then_first() -> None:
    values = LocalizedString.model_validate(
        [{"culture": "de-CH", "value": "Grüezi"}, {"culture": "fr", "value": "Bonjour"}, {"culture": "en", "value": ""}]
    )
    assert values.pick("de-CH") == "Grüezi"
    assert values.pick("de") == "Grüezi"  # same language
    assert values.pick("it", fallbacks=("fr",)) == "Bonjour"
    assert values.pick("it") == "Grüezi"  # English is empty: the first non-empty value
    assert pick_localized(None, "en") is None
    assert pick_localized(LocalizedString.model_validate([{"culture": "en", "value": ""}])) is None


def test_metadata_helpers_dedupe_keys_and_pick_names() -> None:
    lpt = LicensePurchaseTransaction.model_validate(full_lpt())
    assert lpt.content_element is not None
    assert metadata_keys(lpt.content_element.categories) == ["sports"]
    assert metadata_names(lpt.content_element.categories, "de") == ["Sport"]
    assert metadata_names(lpt.content_element.keywords, "en") == ["cycling", "Radfahren", "dawn"]
    assert metadata_keys(None) == []


def test_asset_accepts_uuid_alias_and_enforces_known_approval_states() -> None:
    asset = Asset.model_validate(
        {
            "uuid": "asset-1",
            "version": 3,
            "approval_status": "approved",
            "master_asset_id": "asset-0",
            "updated_at": "2025-05-01T10:00:00+02:00",
            "brand_new_field": True,
        }
    )
    assert asset.id == "asset-1" and asset.is_derivative and asset.is_approved
    assert asset.approval_status is ApprovalStatus.APPROVED
    assert asset.updated_at == datetime(2025, 5, 1, 8, 0, tzinfo=UTC)
    assert asset.model_extra == {"brand_new_field": True}

    with pytest.raises(ValidationError) as caught:
        Asset.model_validate({"id": "asset-2", "approval_status": "maybe"})
    assert caught.value.errors()[0]["loc"] == ("approval_status",)
    with pytest.raises(ValidationError):
        Asset.model_validate({"id": "asset-3"})  # unknown status is not silently "draft"
