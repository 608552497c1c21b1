"""The matching rule: which assets belong to a title, each attributed to the first rule that matches."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from contentops.mapping.titles.identifiers import normalize_isbn
from contentops.mapping.titles.records import TitleProduct, TitleRecord
from contentops.models.smintio import Asset


class MatchRule(StrEnum):
    """How an asset is found to belong to a title."""

    ISBN = "isbn"
    TITLE_REF = "title_ref"
    LEDGER_XREF = "ledger_xref"


DEFAULT_MATCH_RULES: tuple[MatchRule, ...] = (MatchRule.ISBN, MatchRule.TITLE_REF, MatchRule.LEDGER_XREF)


def parse_match_rules(value: str | Sequence[str] | None) -> tuple[MatchRule, ...]:
    """``"isbn,title_ref"`` or ``["isbn", "ledger_xref"]`` -> rules in that order (duplicates dropped).

    ``None`` gives the default order; an empty or unknown rule is an error (a typo must not
    silently match nothing).
    """
    if value is None:
        return DEFAULT_MATCH_RULES
    items = [part.strip() for part in value.split(",")] if isinstance(value, str) else [str(v).strip() for v in value]
    items = [item for item in items if item]
    if not items:
        raise ValueError("at least one matching rule is needed: " + ", ".join(r.value for r in MatchRule))
    rules: list[MatchRule] = []
    for item in items:
        try:
            rule = MatchRule(item.lower())
        except ValueError:
            raise ValueError(
                f"unknown matching rule {item!r}; known: {', '.join(r.value for r in MatchRule)}"
            ) from None
        if rule not in rules:
            rules.append(rule)
    return tuple(rules)


def as_strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple | set):
        return [str(v) for v in value if v is not None]
    return [str(value)]


def asset_isbns(asset: Asset) -> set[str]:
    """The valid ISBNs an asset carries: metadata ``isbn`` / ``isbns`` and ``isbn:`` tags."""
    found = as_strings(asset.metadata.get("isbn")) + as_strings(asset.metadata.get("isbns"))
    found += [tag.split(":", 1)[1] for tag in asset.tags if tag.lower().startswith("isbn:")]
    return {isbn for value in found if (isbn := normalize_isbn(value))}


def asset_title_refs(asset: Asset) -> set[str]:
    """The title references an asset carries: ``consonance_work_id`` / ``title_ref`` metadata, ``title-ref:`` tags."""
    found = as_strings(asset.metadata.get("consonance_work_id")) + as_strings(asset.metadata.get("title_ref"))
    found += [tag.split(":", 1)[1] for tag in asset.tags if tag.lower().startswith("title-ref:")]
    return {ref.strip() for ref in found if ref.strip()}


@dataclass(frozen=True)
class AssetMatch:
    """An asset found for a title, by which rule, and (for an ISBN match) the edition it named."""

    asset: Asset
    rule: MatchRule
    product: TitleProduct | None = None


def match_assets(
    title: TitleRecord,
    assets: Iterable[Asset],
    rules: Sequence[MatchRule] = DEFAULT_MATCH_RULES,
    *,
    xref_asset_ids: Collection[str] = (),
) -> list[AssetMatch]:
    """The assets of ``title``, each attributed to the first rule (in ``rules`` order) that matches it.

    ``xref_asset_ids`` are the assets the ledger cross-references with the title (looked up by
    the caller, so this stays pure).
    """
    isbns = set(title.isbns)
    refs = title.refs
    xrefs = set(xref_asset_ids)
    matches: list[AssetMatch] = []
    for asset in assets:
        for rule in rules:
            if rule is MatchRule.ISBN:
                hit = sorted(asset_isbns(asset) & isbns)
                if hit:
                    matches.append(AssetMatch(asset, rule, title.product_by_isbn(hit[0])))
                    break
            elif rule is MatchRule.TITLE_REF:
                if asset_title_refs(asset) & refs:
                    matches.append(AssetMatch(asset, rule))
                    break
            elif rule is MatchRule.LEDGER_XREF and asset.id in xrefs:
                matches.append(AssetMatch(asset, rule))
                break
    return matches
