"""Localized returns: may a file a regional team or partner sent back be taken in at all?

Regional teams (VIP) and trading partners (Trading Grid) send back localized variants,
translations and resized derivatives of our masters. Everything in such a return is partner
input and is checked here *before* anything is downloaded, stored or shown to a reviewer:

* the **file name** must be a plain name that cannot leave the folder it is written to and
  cannot pass for something else, read as a user's operating system reads it (after Unicode
  compatibility folding): no ``/`` or ``\\`` nor a look-alike of either (fullwidth, division or
  fraction slash …), no ``..``, no drive letter or ``:`` (an NTFS alternate data stream,
  ``banner.png:evil.exe``), no NUL or control character, no extension of an executable type
  as the one a system goes by, the last (``banner.jpg.exe``), and not longer than the limit in
  UTF-8 bytes (what file systems count);
* the **declared content type** must be on the allow-list, and the first bytes of the file
  (its magic number, sniffed after download) must say the same thing — a "png" that is HTML or
  a zip archive is refused, however it is labelled;
* the **size** must stay under the limit (the declared size before the download; the transport
  stops a download that grows beyond it);
* the **download URL** must point at the partner's own configured origin (scheme, host *and*
  port): another local port, a link-local or cloud-metadata address (``169.254.169.254``) or
  any other host is refused without a request being sent;
* the **master id** must be an id, not empty, ``.`` or a path (which would make the lookup
  read something else, e.g. the asset list), and the **language / region** must not be blank;
* the **master** it claims to derive from must exist, and its license must allow a derivative
  in the return's language and region on the run's date (:func:`contentops.rights.may_derive`).

Refusals carry a code, a message the partner can act on, and whether the input was unsafe
(quarantined, the partner told it was quarantined) or merely not allowed (rejected).

Pure Python: no Airflow, no HTTP, no clock.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from contentops import rights
from contentops.models.domain import UsageRights, Verdict
from contentops.origins import Origin, host_address
from contentops.origins import origin_of as _origin_of

__all__ = [
    "DEFAULT_ALLOWED_CONTENT_TYPES",
    "LocalizedReturn",
    "Origin",
    "Refusal",
    "RefusalCode",
    "ReturnPolicy",
    "check_content",
    "check_download_url",
    "check_file_name",
    "check_master",
    "check_master_id",
    "check_metadata",
    "normalize_content_type",
    "origin_of",
    "sniff_content_type",
]

#: What a localized variant, translation or resized derivative may be (images and PDF documents).
DEFAULT_ALLOWED_CONTENT_TYPES: frozenset[str] = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/webp", "image/tiff", "application/pdf"}
)
#: Host names that are cloud metadata services whatever they resolve to.
_METADATA_HOSTS = frozenset({"metadata", "metadata.google.internal", "metadata.azure.internal", "instance-data"})
_CONTENT_TYPE_ALIASES = {"image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg", "image/x-png": "image/png"}
_WINDOWS_RESERVED = re.compile(r"^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)(\..*)?$", re.IGNORECASE)
#: Characters that read as a path separator but that Unicode compatibility folding (NFKC) keeps.
_SEPARATOR_LOOKALIKES = frozenset("\u2215\u2044\u29f8\u29f5\u2216\u29f9\u2571\u2572\u27cb\u27cd\u1735\u3033\u2cc6")
#: Extensions a user's system runs or opens as code (Windows, macOS, Linux, scripts, installers).
EXECUTABLE_EXTENSIONS: frozenset[str] = frozenset(
    {
        "exe", "com", "bat", "cmd", "scr", "pif", "cpl", "msi", "msp", "mst", "dll", "sys", "drv", "ocx",
        "lnk", "url", "hta", "js", "jse", "vbs", "vbe", "wsf", "wsh", "wsc", "ps1", "psm1", "psd1", "reg",
        "inf", "scf", "jar", "class", "app", "command", "pkg", "dmg", "sh", "bash", "zsh", "csh", "run",
        "bin", "elf", "apk", "appx", "msix", "py", "pyw", "pl", "rb", "php", "application", "gadget", "chm",
        "iso", "img", "vhd", "vhdx", "docm", "xlsm", "pptm", "svg", "html", "htm", "xht", "xhtml", "mht",
    }
)  # fmt: skip
#: A master id: what an asset id looks like (letters, digits and ``-_.:~``), not only dots.
_MASTER_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:~-]{0,254}$")
#: How many leading bytes :func:`sniff_content_type` needs.
SNIFF_BYTES = 512


class RefusalCode(StrEnum):
    UNSAFE_FILE_NAME = "unsafe_file_name"
    CONTENT_TYPE_NOT_ALLOWED = "content_type_not_allowed"
    CONTENT_MISMATCH = "content_mismatch"
    FILE_TOO_LARGE = "file_too_large"
    EMPTY_FILE = "empty_file"
    INVALID_URL = "invalid_url"
    FORBIDDEN_ADDRESS = "forbidden_address"
    FOREIGN_HOST = "foreign_host"
    MISSING_LOCALE = "missing_locale"
    INVALID_LOCALE = "invalid_locale"
    INVALID_MASTER_ID = "invalid_master_id"
    FILE_NOT_FOUND = "file_not_found"
    MASTER_NOT_FOUND = "master_not_found"
    LICENSE_UNKNOWN = "license_unknown"
    DERIVATIVE_NOT_ALLOWED = "derivative_not_allowed"


#: Codes that mean the input itself was unsafe or malformed: it is quarantined, not just rejected.
UNSAFE_CODES = frozenset(
    {
        RefusalCode.UNSAFE_FILE_NAME,
        RefusalCode.CONTENT_TYPE_NOT_ALLOWED,
        RefusalCode.CONTENT_MISMATCH,
        RefusalCode.FILE_TOO_LARGE,
        RefusalCode.EMPTY_FILE,
        RefusalCode.INVALID_URL,
        RefusalCode.FORBIDDEN_ADDRESS,
        RefusalCode.FOREIGN_HOST,
        RefusalCode.INVALID_LOCALE,
        RefusalCode.INVALID_MASTER_ID,
    }
)


@dataclass(frozen=True)
class Refusal:
    """Why a return is not taken in; ``message`` is what the partner is told."""

    code: RefusalCode
    message: str

    @property
    def unsafe(self) -> bool:
        return self.code in UNSAFE_CODES

    @property
    def partner_status(self) -> str:
        """``quarantined`` for unsafe input, ``rejected`` for a return that is merely not allowed."""
        return "quarantined" if self.unsafe else "rejected"

    def describe(self) -> str:
        return f"{self.code.value}: {self.message}"


@dataclass(frozen=True)
class ReturnPolicy:
    """The limits a return is held to (defaults suit images and PDFs; a DAG Param may lower the size)."""

    allowed_content_types: frozenset[str] = DEFAULT_ALLOWED_CONTENT_TYPES
    max_bytes: int = 50 * 1024 * 1024
    #: in UTF-8 bytes, as file systems count (255 on most); leaves room for a suffix
    max_name_length: int = 200


@dataclass(frozen=True)
class LocalizedReturn:
    """A return from either source, in one shape (built from the partner's payload)."""

    source: str
    return_id: str
    master_asset_id: str
    file_name: str
    content_type: str
    size: int | None
    download_url: str
    language: str | None = None
    region: str | None = None
    partner: str | None = None
    kind: str = "localized_variant"

    @property
    def ref(self) -> str:
        """Unique across sources: ``vip:ret-3``, ``trading_grid:sub-7``."""
        return f"{self.source}:{self.return_id}"


# ---------------------------------------------------------------------------- file name


def check_file_name(name: str, policy: ReturnPolicy | None = None) -> Refusal | None:
    """A name that cannot escape the folder it is written to nor pass for another kind of file,
    read as a user's system reads it, or why not."""
    policy = policy or ReturnPolicy()

    def refuse(why: str) -> Refusal:
        return Refusal(RefusalCode.UNSAFE_FILE_NAME, f"file name {name!r} {why}")

    if not name or not name.strip():
        return refuse("is empty")
    if "\x00" in name:
        return refuse("contains a NUL byte")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        return refuse("contains control characters")
    if len(name.encode("utf-8")) > policy.max_name_length:
        return refuse(f"is longer than {policy.max_name_length} bytes (UTF-8)")
    # what a file system, a shell or a user's eye makes of it: fullwidth and other compatibility
    # forms folded (a fullwidth solidus is a "/", a one-dot leader a ".")
    folded = unicodedata.normalize("NFKC", name)
    if any(ch in "/\\" or ch in _SEPARATOR_LOOKALIKES for ch in folded):
        return refuse("contains a path separator or a character that looks like one")
    if folded in (".", "..") or folded.startswith(".."):
        return refuse("refers to a parent folder")
    if re.match(r"^[A-Za-z]:", folded):
        return refuse("names a drive")
    if ":" in folded:
        return refuse("contains ':' (an alternate data stream on Windows)")
    if folded.startswith("."):
        return refuse("is a hidden file name")
    if folded != folded.strip() or folded.endswith("."):
        return refuse("starts or ends with a space or dot")
    if _WINDOWS_RESERVED.match(folded) or _WINDOWS_RESERVED.match(folded.split(".", 1)[0].rstrip()):
        return refuse("is a reserved device name")
    stem, dot, extension = folded.lower().rpartition(".")
    if dot and stem and extension in EXECUTABLE_EXTENSIONS:
        return refuse(f"ends in the extension of an executable type (.{extension}), whatever comes before it")
    return None


# ---------------------------------------------------------------------------- master and locale


def check_master_id(master_asset_id: str) -> Refusal | None:
    """An id the master lookup can only read that one asset by: not empty, not ``.``/``..``, no
    path, no space — anything else would make the lookup read something else (the asset list)."""
    if not _MASTER_ID.match(master_asset_id or "") or set(master_asset_id) == {"."}:
        return Refusal(
            RefusalCode.INVALID_MASTER_ID,
            f"master asset id {master_asset_id!r} is not an asset id (letters, digits and -_.:~ only)",
        )
    return None


def check_locale(language: str | None, region: str | None) -> Refusal | None:
    """At least one of language and region, and neither only blanks (which would otherwise pass
    as "given" here and as "no constraint" in the license check)."""
    for what, value in (("language", language), ("region", region)):
        if value is not None and (not value.strip() or value != value.strip()):
            return Refusal(RefusalCode.INVALID_LOCALE, f"the {what} {value!r} is blank or padded with spaces")
    if not language and not region:
        return Refusal(RefusalCode.MISSING_LOCALE, "a localized return must name its language or region")
    return None


# ---------------------------------------------------------------------------- content type


def normalize_content_type(value: str | None) -> str:
    """``Image/JPG; charset=x`` -> ``image/jpeg``."""
    base = (value or "").split(";", 1)[0].strip().lower()
    return _CONTENT_TYPE_ALIASES.get(base, base)


def sniff_content_type(head: bytes) -> str | None:
    """The content type the first bytes prove, or None if they match nothing we know."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return "application/zip"
    if head.startswith(b"\x1f\x8b"):
        return "application/gzip"
    if head.startswith(b"\x7fELF") or head.startswith(b"MZ"):
        return "application/x-executable"
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")):
        return "text/html"
    if text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text):
        return "image/svg+xml"
    if text.startswith(b"<?xml"):
        return "application/xml"
    return None


def _check_declared_type(content_type: str, policy: ReturnPolicy) -> Refusal | None:
    declared = normalize_content_type(content_type)
    if declared not in policy.allowed_content_types:
        allowed = ", ".join(sorted(policy.allowed_content_types))
        return Refusal(
            RefusalCode.CONTENT_TYPE_NOT_ALLOWED, f"content type {content_type!r} is not accepted (allowed: {allowed})"
        )
    return None


def _check_size(size: int | None, policy: ReturnPolicy) -> Refusal | None:
    if size is None:
        return None
    if size <= 0:
        return Refusal(RefusalCode.EMPTY_FILE, "the file is empty")
    if size > policy.max_bytes:
        return Refusal(RefusalCode.FILE_TOO_LARGE, f"the file has {size} bytes; the limit is {policy.max_bytes}")
    return None


def check_content(head: bytes, size: int, declared: str, policy: ReturnPolicy | None = None) -> Refusal | None:
    """After the download: the bytes must be what the partner declared, and within the limits."""
    policy = policy or ReturnPolicy()
    too_big = _check_size(size, policy)
    if too_big is not None:
        return too_big
    sniffed = sniff_content_type(head)
    expected = normalize_content_type(declared)
    if sniffed != expected:
        found = sniffed or "unrecognised bytes"
        return Refusal(
            RefusalCode.CONTENT_MISMATCH, f"declared {expected} but the file's content is {found}; it was not used"
        )
    return _check_declared_type(sniffed, policy)


# ---------------------------------------------------------------------------- download URL


def origin_of(url: str) -> Origin | None:
    """The origin of an absolute http(s) URL, or None if it is not one (nor one with a control character or space)."""
    if not url or any(ord(ch) < 0x21 for ch in url):
        return None
    return _origin_of(url)


def _forbidden_address(host: str) -> str | None:
    """Why a host may never be fetched from, whatever is configured (metadata services, link-local)."""
    if host in _METADATA_HOSTS:
        return "is a cloud metadata service"
    address = host_address(host)
    if address is None:
        return None
    if address.is_link_local:
        return "is a link-local address (cloud metadata services live there)"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return "is not a routable host address"
    return None


def check_download_url(url: str, allowed: Iterable[Origin | str]) -> Refusal | None:
    """The URL must be http(s), carry no credentials, and point at one of ``allowed`` exactly."""
    origin = origin_of(url)
    if origin is None:
        return Refusal(RefusalCode.INVALID_URL, "the download URL is not an absolute http(s) URL without credentials")
    why = _forbidden_address(origin.host)
    if why is not None:
        return Refusal(RefusalCode.FORBIDDEN_ADDRESS, f"the download host {origin.host} {why}")
    origins = {o if isinstance(o, Origin) else origin_of(o) for o in allowed}
    if origin not in origins:
        return Refusal(
            RefusalCode.FOREIGN_HOST,
            f"files are only taken from the partner's own host; {origin} is not it",
        )
    return None


# ---------------------------------------------------------------------------- all of it


def check_metadata(
    item: LocalizedReturn, allowed_origins: Iterable[Origin | str], policy: ReturnPolicy | None = None
) -> Refusal | None:
    """Everything that can be checked before a byte is downloaded (the first refusal found)."""
    policy = policy or ReturnPolicy()
    for refusal in (
        check_master_id(item.master_asset_id),
        check_file_name(item.file_name, policy),
        _check_declared_type(item.content_type, policy),
        _check_size(item.size, policy),
        check_download_url(item.download_url, allowed_origins),
        check_locale(item.language, item.region),
    ):
        if refusal is not None:
            return refusal
    return None


def check_master(
    item: LocalizedReturn,
    *,
    master_exists: bool,
    master_rights: UsageRights | None,
    as_of: datetime,
    regions: rights.KeyCatalogue | None = None,
) -> Refusal | None:
    """The claimed master must exist and its license allow this derivative on ``as_of``."""
    invalid = check_master_id(item.master_asset_id) or check_locale(item.language, item.region)
    if invalid is not None:
        return invalid
    if not master_exists:
        return Refusal(RefusalCode.MASTER_NOT_FOUND, f"master asset {item.master_asset_id} does not exist")
    if master_rights is None:
        return Refusal(
            RefusalCode.LICENSE_UNKNOWN,
            f"no license is known for master asset {item.master_asset_id}; derivatives cannot be cleared",
        )
    decision = rights.may_derive(master_rights, item.language, item.region, as_of, regions=regions)
    if decision.verdict is Verdict.ALLOWED:
        return None
    where = " / ".join(v for v in (item.language, item.region) if v)
    reasons = "; ".join(reason.message for reason in decision.reasons) or "no term grants it"
    if decision.verdict is Verdict.REFUSED:
        return Refusal(
            RefusalCode.DERIVATIVE_NOT_ALLOWED,
            f"the license of {item.master_asset_id} does not allow a derivative for {where}: {reasons}",
        )
    return Refusal(
        RefusalCode.LICENSE_UNKNOWN,
        f"the license of {item.master_asset_id} cannot be confirmed to allow a derivative for {where}: {reasons}",
    )
