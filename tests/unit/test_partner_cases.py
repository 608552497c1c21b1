"""Partner cases and co-marketing kits: case validation, request matching, the files a request's
answer attaches, kit fingerprints."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from contentops.hooks.transport import DownloadResult
from contentops.models.smintio import Asset
from contentops.models.trading_grid import PartnerCase
from contentops.pipelines.co_marketing import asset_fingerprint, kit_fingerprint
from contentops.pipelines.partner_cases import _attach_files, _Context, find_matches

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


class _Smintio:
    """Serves each binary's bytes the way the hook does: written to the sink, digest returned."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files

    def download_asset_binary(self, asset_id: str, binary_id: str, sink: Path) -> DownloadResult:
        content = self.files[binary_id]
        sink.write_bytes(content)
        return DownloadResult(len(content), hashlib.sha256(content).hexdigest(), None)


class _Grid:
    """Keeps what each case attachment carried (its bytes read while the scratch file exists)."""

    def __init__(self) -> None:
        self.attached: list[tuple[str, str, str, str, bytes]] = []

    def put_case_attachment(self, case_id: str, ref: str, source: Path, *, name: str, content_type: str) -> None:
        self.attached.append((case_id, ref, name, content_type, source.read_bytes()))


def _files_ctx(files: dict[str, bytes]) -> tuple[_Context, _Grid]:
    ctx, grid = _Context(run=None), _Grid()  # type: ignore[arg-type]  # attaching files needs no run
    ctx.grid, ctx.smintio = grid, _Smintio(files)
    return ctx, grid


def test_every_file_of_the_asset_version_is_attached_to_the_case_under_its_reference() -> None:
    files = {"main": b"\x89PNG main", "print": b"%PDF print"}
    asset = _asset(
        "visual-1",
        version=3,
        binaries=[
            {"id": "main", "name": "visual.png", "content_type": "image/png"},
            {"id": "print", "sha256": hashlib.sha256(files["print"]).hexdigest()},
        ],
    )
    ctx, grid = _files_ctx(files)
    _attach_files(ctx, _case("asset_request", asset_kind="image"), asset)
    assert grid.attached == [
        ("CASE-000001", "visual-1-v3-main", "visual.png", "image/png", files["main"]),
        ("CASE-000001", "visual-1-v3-print", "visual-1-print", "application/octet-stream", files["print"]),
    ]


def test_a_file_that_does_not_match_its_stated_sha256_is_not_handed_over() -> None:
    asset = _asset("visual-1", binaries=[{"id": "main", "sha256": hashlib.sha256(b"the approved file").hexdigest()}])
    ctx, grid = _files_ctx({"main": b"something else"})
    with pytest.raises(ValueError, match="does not match the SHA-256"):
        _attach_files(ctx, _case("asset_request", asset_kind="image"), asset)
    assert grid.attached == []


def test_an_asset_without_files_is_not_delivered_as_an_empty_package() -> None:
    ctx, grid = _files_ctx({})
    with pytest.raises(ValueError, match="has no file to deliver"):
        _attach_files(ctx, _case("asset_request", asset_kind="image"), _asset("visual-1"))
    assert grid.attached == []
