"""ISBNs and tag-safe slugs: the identifiers a title and its assets are matched and tagged by."""

from __future__ import annotations

import re


def _isbn13_check_digit(first12: str) -> str:
    total = sum(int(digit) * (1 if i % 2 == 0 else 3) for i, digit in enumerate(first12))
    return str((10 - total % 10) % 10)


def normalize_isbn(value: object) -> str | None:
    """The ISBN-13 digits of ``value`` (hyphens and spaces dropped, an ISBN-10 converted), or
    ``None`` when it is not a valid ISBN. Consonance's REST sample carries ``"No ISBN"``; a
    matching rule must never match on that."""
    if value is None:
        return None
    text = re.sub(r"[\s\-]", "", str(value)).upper()
    if re.fullmatch(r"97[89]\d{10}", text):
        return text if _isbn13_check_digit(text[:12]) == text[12] else None
    if re.fullmatch(r"\d{9}[\dX]", text):
        total = sum((10 - i) * (10 if ch == "X" else int(ch)) for i, ch in enumerate(text))
        if total % 11:
            return None
        first12 = "978" + text[:9]
        return first12 + _isbn13_check_digit(first12)
    return None


def slug(value: str) -> str:
    """A tag-safe lower-case token: ``"Penguin Random House"`` -> ``"penguin-random-house"``."""
    return re.sub(r"[^a-z0-9]+", "-", value.strip().lower()).strip("-")
