"""Partner cases and co-marketing kits: case validation, request matching, kit fingerprints."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from contentops.models.smintio import Asset
from contentops.models.trading_grid import PartnerCase
from contentops.pipelines.co_marketing import asset_fingerprint, kit_fingerprint
from contentops.pipelines.partner_cases import find_matches

pytestmark = pytest.mark.unit


def _case(case_type: str, **details: Any) -> PartnerCase:
    return PartnerCase.model_validate(
        {
            "id": "CASE-000001",
            "type": case_type,
            "status": "open",
            "partner_company_id": "GC00000001PT",
            "subject": "s",
            "details": details,
            "created_at": "2026-11-25T00:00:00Z",
            "updated_at": "2026-11-25T00:00:00Z",
        }
    )


def _asset(asset_id: str, **fields: Any) -> Asset:
    return Asset.model_validate({"id": asset_id, "approval_status": "approved", **fields})


APPROVED = [
    _asset("logo-1", categories=["logo"]),
    _asset("logo-1-de", categories=["logo"], master_asset_id="logo-1", language="de"),
    _asset("visual-1", campaign="summer"),
    _asset("visual-1-es", campaign="summer", master_asset_id="visual-1", language="es-MX"),
    _asset("visual-2", campaign="winter"),
]


@pytest.mark.parametrize(
    ("case_type", "details", "expected"),
    [
        ("asset_request", {"asset_kind": "logo"}, ["logo-1"]),  # masters only
        ("asset_request", {"asset_kind": "image", "campaign": "summer"}, ["visual-1"]),
        ("asset_request", {"asset_kind": "image"}, []),  # neither campaign nor asset: nothing to match
        ("asset_request", {"asset_kind": "image", "asset_id": "visual-2"}, ["visual-2"]),
        ("asset_request", {"asset_kind": "localized_artwork", "language": "es"}, ["visual-1-es"]),
        ("asset_request", {"asset_kind": "localized_artwork", "asset_id": "logo-1", "language": "es"}, []),
        ("asset_request", {"asset_kind": "localized_artwork", "asset_id": "logo-1", "language": "DE"}, ["logo-1-de"]),
        ("asset_request", {"asset_kind": "localized_artwork"}, []),  # no language: a human decides
        ("rights_clarification", {"asset_id": "visual-2"}, ["visual-2"]),
        ("rights_clarification", {"asset_id": "not-approved"}, []),
    ],
)
def test_requests_match_approved_assets(case_type: str, details: dict[str, Any], expected: list[str]) -> None:
    assert [a.id for a in find_matches(_case(case_type, **details), APPROVED)] == expected


@pytest.mark.parametrize(
    ("case_type", "details", "message"),
    [
        ("broken_link", {}, "must name the asset"),
        ("quality_problem", {"asset_id": ""}, "at least 1 character"),
        ("asset_request", {}, "which kind of asset"),
        ("asset_request", {"asset_kind": "video"}, "asset_kind"),
        ("complaint", {"asset_id": "a"}, "type"),
    ],
)
def test_cases_that_cannot_be_routed_are_invalid(case_type: str, details: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _case(case_type, **details)


def test_rights_clarification_without_an_asset_is_valid() -> None:
    assert _case("rights_clarification").details.asset_id is None  # a person answers it


def test_kit_fingerprint_follows_the_files_not_the_metadata() -> None:
    logo = _asset("logo-1", name="Logo", binaries=[{"id": "b1", "name": "logo.png", "content_type": "image/png"}])
    signed = logo.model_copy(update={"metadata": {"co_marketing_signoff:x": "approved"}, "tags": ["t"], "version": 7})
    new_file = logo.model_copy(update={"binaries": [*logo.binaries, *logo.binaries]})
    assert asset_fingerprint(signed) == asset_fingerprint(logo) != asset_fingerprint(new_file)
    other = _asset("logo-2")
    assert kit_fingerprint([logo, other]) == kit_fingerprint([other, signed]) != kit_fingerprint([logo])
