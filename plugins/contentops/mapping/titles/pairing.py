"""Format pairing (CON-5): which edition of a title an asset belongs to, with its release timing."""

from __future__ import annotations

import re
from datetime import date, timedelta

from pydantic import Field

from contentops.mapping.titles.records import FORMAT_ALIASES, BookFormat, TitleProduct, TitleRecord
from contentops.models.common import DomainModel
from contentops.models.smintio import Asset


class PairingRules(DomainModel):
    """Which roles stand for which format, which roles compete, and the timing and channels of a format.

    ``primary_roles``: the image that *is* a format's face (print jacket, ebook cover, audio
    thumbnail). ``singular_roles``: roles of which a title has one current asset per format
    (these, and only these, can be outdated). ``channels``: the Smint.io license distribution
    key each format is used on (for the rights gate). ``announce_days``: how long before
    publication marketing may use the assets (the pre-publication window).
    """

    primary_roles: dict[BookFormat, tuple[str, ...]] = Field(
        default_factory=lambda: {
            BookFormat.PRINT: ("jacket", "print_jacket"),
            BookFormat.EBOOK: ("cover", "ebook_cover"),
            BookFormat.AUDIO: ("audio_thumbnail", "audio_cover"),
        }
    )
    singular_roles: frozenset[str] = frozenset(
        {"jacket", "print_jacket", "cover", "ebook_cover", "audio_thumbnail", "audio_cover", "author_photo"}
    )
    channels: dict[BookFormat, str] = Field(
        default_factory=lambda: {BookFormat.PRINT: "print", BookFormat.EBOOK: "online", BookFormat.AUDIO: "online"}
    )
    announce_days: int = Field(default=90, ge=0)


class TitlePushSettings(DomainModel):
    """``include/config/title_metadata_push.yaml``: the pairing rules (roles per format, which roles
    compete, the channel of each format, the announcement window). The matching rule and the
    lead time are Params of the DAG (per run, from the form)."""

    pairing: PairingRules = Field(default_factory=PairingRules)


def asset_role(asset: Asset) -> str:
    """The asset's role for a title (``cover``, ``jacket``, ``author_photo``, ``promo`` ...):
    its ``asset_role`` metadata, else its first category, else ``other``."""
    role = asset.metadata.get("asset_role")
    if isinstance(role, str) and role.strip():
        return role.strip().lower()
    if asset.categories:
        return asset.categories[0].strip().lower()
    return "other"


def asset_format(asset: Asset, rules: PairingRules | None = None) -> BookFormat | None:
    """The format an asset is for: its own ``format`` metadata, else its role; ``None`` = any format."""
    rules = rules or PairingRules()
    stated = asset.metadata.get("format")
    if isinstance(stated, str) and stated.strip():
        found = FORMAT_ALIASES.get(re.sub(r"[\s\-]+", "_", stated.strip().lower()))
        if found is not None:
            return found
    role = asset_role(asset)
    for fmt, roles in rules.primary_roles.items():
        if role in roles:
            return fmt
    return None


class FormatPairing(DomainModel):
    """An asset paired with one edition of a title (or with the title as a whole: ``format=None``)."""

    format: BookFormat | None
    isbn: str | None = None
    product_id: str | None = None
    release_date: date | None = None
    announce_from: date | None = None


def pair_with_format(title: TitleRecord, asset: Asset, rules: PairingRules | None = None) -> FormatPairing | None:
    """The edition ``asset`` belongs to, with its release timing; ``None`` when the asset is for a
    format the title has no edition of (nothing to pair it with)."""
    rules = rules or PairingRules()
    fmt = asset_format(asset, rules)
    if fmt is None:
        release = title.first_publication_date
        return FormatPairing(
            format=None,
            release_date=release,
            announce_from=release - timedelta(days=rules.announce_days) if release else None,
        )
    product = title.product_for(fmt)
    if product is None:
        return None
    release = product.publication_date
    return FormatPairing(
        format=fmt,
        isbn=product.isbn,
        product_id=product.product_id,
        release_date=release,
        announce_from=release - timedelta(days=rules.announce_days) if release else None,
    )


def pairing_for_product(title: TitleRecord, product: TitleProduct, rules: PairingRules | None = None) -> FormatPairing:
    """The pairing with one named edition (an attachment on request names its ISBN)."""
    rules = rules or PairingRules()
    release = product.publication_date
    return FormatPairing(
        format=product.format,
        isbn=product.isbn,
        product_id=product.product_id,
        release_date=release,
        announce_from=release - timedelta(days=rules.announce_days) if release else None,
    )
