"""Validation of localized returns: hostile file names, content types, sizes, URLs, and masters
whose license does not allow the derivative."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contentops.models import LicenseTerm, UsageRights
from contentops.returns import (
    LocalizedReturn,
    RefusalCode,
    ReturnPolicy,
    check_content,
    check_download_url,
    check_file_name,
    check_master,
    check_master_id,
    check_metadata,
    origin_of,
    sniff_content_type,
)

pytestmark = pytest.mark.unit

PARTNER = "http://127.0.0.1:8702"
ON = datetime(2026, 11, 25, tzinfo=UTC)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 40
HTML = b"  <!DOCTYPE html><html><script>alert(1)</script></html>"
ZIP = b"PK\x03\x04" + b"\x00" * 40


def a_return(**fields: Any) -> LocalizedReturn:
    values: dict[str, Any] = {
        "source": "vip",
        "return_id": "ret-1",
        "master_asset_id": "asset-spring-03",
        "file_name": "spring-03-de.png",
        "content_type": "image/png",
        "size": 2048,
        "download_url": f"{PARTNER}/api/v1/returns/ret-1/content",
        "language": "de",
        "region": "dach",
    }
    values.update(fields)
    return LocalizedReturn(**values)


def license_with(**term_fields: Any) -> UsageRights:
    term: dict[str, Any] = {
        "sequence_number": 1,
        "allowed_distributions": ["any"],
        "allowed_geographies": ["worldwide"],
        "allowed_languages": ["any"],
        "allowed_usages": ["any"],
        "is_editorial_use": False,
    }
    term.update(term_fields)
    return UsageRights(
        asset_id="asset-spring-03",
        license_state="completed",
        content_is_editorial_use=False,
        terms=(LicenseTerm.model_validate(term),),
    )


@pytest.mark.parametrize(
    "name",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "..\\..\\windows\\system32\\config",
        "C:\\temp\\x.png",
        "c:x.png",
        "img.png\x00.html",
        "sub/dir.png",
        "..",
        "..png",
        ".htaccess",
        "",
        "   ",
        "name\r\nX-Header: 1.png",
        "CON.png",
        "trailing.png.",
        "a" * 300 + ".png",
        "right\u202eto-left.png",
    ],
)
def test_names_that_could_leave_their_folder_are_refused(name: str) -> None:
    refusal = check_file_name(name)
    assert refusal is not None and refusal.code is RefusalCode.UNSAFE_FILE_NAME and refusal.unsafe


@pytest.mark.parametrize("name", ["spring-03-de.png", "Frühling_Banner (DE) 1200x628.jpg", "a.b.c.pdf"])
def test_plain_names_pass(name: str) -> None:
    assert check_file_name(name) is None


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (b"GIF89a....", "image/gif"),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
        (b"II*\x00rest", "image/tiff"),
        (b"%PDF-1.7", "application/pdf"),
        (ZIP, "application/zip"),
        (HTML, "text/html"),
        (b"\xef\xbb\xbf<svg xmlns='http://www.w3.org/2000/svg'/>", "image/svg+xml"),
        (b"\x7fELF\x02\x01", "application/x-executable"),
        (b"just some text", None),
    ],
)
def test_sniffing_reads_the_magic_not_the_label(head: bytes, expected: str | None) -> None:
    assert sniff_content_type(head) == expected


@pytest.mark.parametrize("head", [HTML, ZIP, JPEG, b"plain text"])
def test_declared_png_that_is_something_else_is_refused(head: bytes) -> None:
    refusal = check_content(head, len(head), "image/png")
    assert (
        refusal is not None
        and refusal.code is RefusalCode.CONTENT_MISMATCH
        and refusal.partner_status == ("quarantined")
    )


def test_matching_content_passes_and_aliases_are_normalised() -> None:
    assert check_content(PNG, len(PNG), "image/png") is None
    assert check_content(JPEG, len(JPEG), "Image/JPG; charset=binary") is None


def test_content_over_the_limit_or_empty_is_refused() -> None:
    policy = ReturnPolicy(max_bytes=10)
    assert check_content(PNG, 11, "image/png", policy).code is RefusalCode.FILE_TOO_LARGE  # type: ignore[union-attr]
    assert check_content(b"", 0, "image/png").code is RefusalCode.EMPTY_FILE  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("http://127.0.0.1:8799/file.png", RefusalCode.FOREIGN_HOST),  # another local port
        ("https://127.0.0.1:8702/file.png", RefusalCode.FOREIGN_HOST),  # another scheme
        ("http://localhost:8702/file.png", RefusalCode.FOREIGN_HOST),  # another name for the host
        ("http://evil.example.com/file.png", RefusalCode.FOREIGN_HOST),
        ("http://169.254.169.254/latest/meta-data/iam", RefusalCode.FORBIDDEN_ADDRESS),
        ("http://[fe80::1]:8702/x", RefusalCode.FORBIDDEN_ADDRESS),
        ("http://[::ffff:169.254.169.254]/", RefusalCode.FORBIDDEN_ADDRESS),
        ("http://metadata.google.internal/computeMetadata/v1/", RefusalCode.FORBIDDEN_ADDRESS),
        ("http://0.0.0.0:8702/x", RefusalCode.FORBIDDEN_ADDRESS),
        ("http://user:pw@127.0.0.1:8702/x", RefusalCode.INVALID_URL),
        ("file:///etc/passwd", RefusalCode.INVALID_URL),
        ("ftp://127.0.0.1:8702/x", RefusalCode.INVALID_URL),
        ("/api/v1/returns/ret-1/content", RefusalCode.INVALID_URL),
        ("http://127.0.0.1:8702\\@evil.example.com/", RefusalCode.INVALID_URL),
        ("http://127.0.0.1:99999/x", RefusalCode.INVALID_URL),
    ],
)
def test_download_urls_only_from_the_partners_own_origin(url: str, code: RefusalCode) -> None:
    refusal = check_download_url(url, [PARTNER])
    assert refusal is not None and refusal.code is code


def test_the_partners_own_origin_passes_with_or_without_a_default_port() -> None:
    assert check_download_url(f"{PARTNER}/api/v1/returns/ret-1/content?sig=x", [PARTNER]) is None
    assert check_download_url("https://Files.Example.com/a.png", ["https://files.example.com:443"]) is None
    assert origin_of("https://files.example.com/a") == origin_of("https://files.example.com:443/b")


def test_metadata_checks_stop_at_the_first_problem_and_need_a_locale() -> None:
    assert check_metadata(a_return(), [PARTNER]) is None
    assert check_metadata(a_return(file_name="../../etc/passwd"), [PARTNER]).code is RefusalCode.UNSAFE_FILE_NAME  # type: ignore[union-attr]
    assert check_metadata(a_return(content_type="text/html"), [PARTNER]).code is (  # type: ignore[union-attr]
        RefusalCode.CONTENT_TYPE_NOT_ALLOWED
    )
    oversized = check_metadata(a_return(size=10**12), [PARTNER])
    assert oversized is not None and oversized.code is RefusalCode.FILE_TOO_LARGE
    assert check_metadata(a_return(language=None, region=None), [PARTNER]).code is RefusalCode.MISSING_LOCALE  # type: ignore[union-attr]


def test_master_must_exist_and_have_a_known_license() -> None:
    missing = check_master(a_return(), master_exists=False, master_rights=None, as_of=ON)
    assert missing is not None and missing.code is RefusalCode.MASTER_NOT_FOUND and missing.partner_status == "rejected"
    unknown = check_master(a_return(), master_exists=True, master_rights=None, as_of=ON)
    assert unknown is not None and unknown.code is RefusalCode.LICENSE_UNKNOWN


def test_license_that_allows_derivatives_in_that_language_and_region_passes() -> None:
    assert check_master(a_return(), master_exists=True, master_rights=license_with(), as_of=ON) is None


@pytest.mark.parametrize(
    ("term_fields", "language", "region", "mentions"),
    [
        ({"restricted_usages": ["no_derivatives"]}, "de", "dach", "forbid altering"),
        ({"is_editorial_use": True}, "de", "dach", "editorial"),
        ({"allowed_languages": ["language_english", "language_german"]}, "fr", "emea", "language"),
        ({"allowed_geographies": ["europe"], "restricted_geographies": ["gb"]}, "en", "uk_and_ireland", "gb"),
        ({"allowed_geographies": ["dach"]}, "en", "north_america", "north_america"),
    ],
)
def test_license_that_forbids_the_derivative_refuses_with_its_reason(
    term_fields: dict[str, Any], language: str, region: str, mentions: str
) -> None:
    item = a_return(language=language, region=region)
    refusal = check_master(item, master_exists=True, master_rights=license_with(**term_fields), as_of=ON)
    assert refusal is not None and refusal.code is RefusalCode.DERIVATIVE_NOT_ALLOWED
    assert not refusal.unsafe and refusal.partner_status == "rejected"
    assert mentions in refusal.message


def test_the_same_license_allows_another_language_and_region() -> None:
    german_only = license_with(allowed_languages=["language_german"], allowed_geographies=["dach"])
    assert (
        check_master(a_return(language="de", region="dach"), master_exists=True, master_rights=german_only, as_of=ON)
        is None
    )
    assert check_master(a_return(language="fr", region="dach"), master_exists=True, master_rights=german_only, as_of=ON)


# ---------------------------------------------------------------------------- hostile returns (issue 16)


@pytest.mark.parametrize(
    "name",
    [
        "banner.jpg.exe",  # a user's system goes by the last extension
        "banner.png.scr",
        "Banner.PDF.Exe",
        "banner.png:evil.exe",  # an NTFS alternate data stream
        "banner.png:Zone.Identifier",
        "banner\uff1aevil.png",  # fullwidth colon folds to ':'
        "..\u2215..\u2215etc\u2215passwd.png",  # division slash
        "reports\u2044q3.png",  # fraction slash
        "sub\uff0fdir.png",  # fullwidth solidus folds to '/'
        "sub\uff3cdir.png",  # fullwidth reverse solidus folds to '\'
        "sub\u29f8dir.png",  # big solidus
        "\u2025png",  # two dot leader folds to '..'
        "\uff0ehtaccess",  # fullwidth full stop folds to '.'
        "COM1.png",
        "ä" * 101 + ".png",  # 105 characters, 206 bytes in UTF-8: over the 200-byte limit
    ],
)
def test_names_read_as_a_users_system_reads_them_are_refused(name: str) -> None:
    refusal = check_file_name(name)
    assert refusal is not None and refusal.code is RefusalCode.UNSAFE_FILE_NAME and refusal.unsafe


@pytest.mark.parametrize(
    "name", ["ä" * 98 + ".png", "a" * 196 + ".png", "acme.com banner.png", "spring.v2.final.jpg", "Ω-visual.webp"]
)
def test_long_or_dotted_names_within_the_byte_limit_pass(name: str) -> None:
    assert check_file_name(name) is None


@pytest.mark.parametrize("master", ["", ".", "..", "...", " ", "a/b", "../assets", "asset 1", "?q=1", "a\x00"])
def test_a_master_id_that_is_not_an_id_is_refused_before_any_lookup(master: str) -> None:
    assert check_master_id(master) is not None
    refusal = check_metadata(a_return(master_asset_id=master), [PARTNER])
    assert refusal is not None and refusal.code is RefusalCode.INVALID_MASTER_ID and refusal.unsafe
    rights = license_with()
    assert check_master(a_return(master_asset_id=master), master_exists=True, master_rights=rights, as_of=ON)


@pytest.mark.parametrize("master", ["asset-spring-03", "m-1", "3f0c8a4e-9d1b-4b7a-8e2f-0a1b2c3d4e5f", "getty:1234"])
def test_asset_ids_pass(master: str) -> None:
    assert check_master_id(master) is None


@pytest.mark.parametrize(
    ("language", "region"), [(" ", None), (None, "\t"), ("  ", "  "), ("de", " "), (" de", "dach"), ("\u3000", None)]
)
def test_a_blank_language_or_region_is_invalid_in_both_checks(language: str | None, region: str | None) -> None:
    item = a_return(language=language, region=region)
    refusal = check_metadata(item, [PARTNER])
    assert refusal is not None and refusal.code is RefusalCode.INVALID_LOCALE
    refusal = check_master(item, master_exists=True, master_rights=license_with(), as_of=ON)
    assert refusal is not None and refusal.code is RefusalCode.INVALID_LOCALE
