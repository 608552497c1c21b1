"""Latest vs outdated (CON-8): among the approved assets of one singular (role, format) slot, the
newest generation is the latest and the others are outdated; nothing else is ever outdated.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from contentops.mapping.titles.pairing import PairingRules, asset_format, asset_role
from contentops.mapping.titles.records import BookFormat
from contentops.models.smintio import ApprovalStatus, Asset


def _edition(asset: Asset) -> int:
    for key in ("edition_number", "edition"):
        value = asset.metadata.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int):
            return value
        if isinstance(value, str) and value.strip().isdigit():
            return int(value.strip())
    return 0


def generation(asset: Asset) -> tuple[int, float, int, str]:
    """How new an asset is within its slot: edition, then creation time, then version (id breaks ties)."""
    created = asset.created_at.timestamp() if asset.created_at else float("-inf")
    return (_edition(asset), created, asset.version, asset.id)


@dataclass(frozen=True)
class Refresh:
    """What a revised title surfaces: the latest approved asset per slot, and the outdated ones
    (asset id -> the asset that supersedes it)."""

    latest: tuple[str, ...]
    outdated: dict[str, str]


def select_latest(
    assets: Iterable[Asset], rules: PairingRules | None = None, *, formats: Collection[BookFormat] | None = None
) -> Refresh:
    """Among approved assets of singular roles, per (role, format) slot: the newest is the latest,
    the other approved ones are outdated. Nothing else is ever outdated.

    ``formats`` limits the refresh to the slots of those formats (a repackaged paperback leaves
    the ebook cover alone); slots of no particular format (the author photo) always take part.
    """
    rules = rules or PairingRules()
    slots: dict[tuple[str, BookFormat | None], list[Asset]] = {}
    for asset in assets:
        if asset.approval_status is not ApprovalStatus.APPROVED or asset.is_derivative:
            continue
        role = asset_role(asset)
        if role not in rules.singular_roles:
            continue
        fmt = asset_format(asset, rules)
        if formats is not None and fmt is not None and fmt not in formats:
            continue
        slots.setdefault((role, fmt), []).append(asset)
    latest: list[str] = []
    outdated: dict[str, str] = {}
    for members in slots.values():
        members.sort(key=generation)
        newest = members[-1]
        latest.append(newest.id)
        for older in members[:-1]:
            outdated[older.id] = newest.id
    return Refresh(latest=tuple(sorted(latest)), outdated=dict(sorted(outdated.items())))
