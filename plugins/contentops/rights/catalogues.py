"""Key catalogues: which atomic keys a Smint.io metadata key stands for.

:class:`RegionCatalogue` resolves geography keys to sets of ISO-3166 countries,
:class:`LanguageCatalogue` language keys to ISO 639-1, :class:`ChannelCatalogue` is an open
catalogue of distribution keys. Coverage and overlap are computed on leaves, so every rule
compares like with like; all three are data, overridable from config.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Self

from pydantic import Field, PrivateAttr, model_validator

from contentops.models.common import DomainModel
from contentops.rights.region_table import region_data

_ANY_SENTINEL = "*"  # a leaf only wildcards cover: "worldwide" is more than the countries we list


@lru_cache(maxsize=4096)
def normalize_key(key: str) -> str:
    """Lower-case, trimmed, with ``-`` and spaces as ``_``: ``"North-America"`` -> ``"north_america"``."""
    return re.sub(r"[\s\-]+", "_", str(key).strip().lower())


# =========================================================================== catalogues


def _merge_catalogue_data(defaults: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Config on top of defaults: groups/aliases by name, wildcards/prefixes added, flags replaced."""
    merged = {**defaults, **overrides}
    for mapping_field in ("groups", "aliases"):
        merged[mapping_field] = {**(defaults.get(mapping_field) or {}), **(overrides.get(mapping_field) or {})}
    for list_field in ("wildcards", "prefixes"):
        if list_field in defaults or list_field in overrides:
            merged[list_field] = [*(defaults.get(list_field) or ()), *(overrides.get(list_field) or ())]
    return merged


class KeyCatalogue(DomainModel):
    """A hierarchy of metadata keys: groups of members, aliases, wildcards.

    ``leaves(key)`` is the set of atomic keys a key stands for (a country for regions); coverage
    and overlap are computed on leaves, so ``["de", "at", "ch"]`` covers ``dach``. In a *closed*
    catalogue a key is known only if it is a group, a group member, an alias or matches
    ``leaf_pattern``; an unknown key makes decisions unknown. In an *open* catalogue every key is
    its own leaf (flat dimensions whose keys we cannot enumerate).
    """

    groups: dict[str, tuple[str, ...]] = Field(default_factory=dict)
    aliases: dict[str, str] = Field(default_factory=dict)
    wildcards: frozenset[str] = frozenset({"any"})
    prefixes: tuple[str, ...] = ()
    closed: bool = False
    leaf_pattern: str | None = None

    _leaf_cache: dict[str, frozenset[str]] = PrivateAttr(default_factory=dict)

    @classmethod
    def _default_data(cls) -> dict[str, Any]:
        """The built-in catalogue of the class (empty for a plain :class:`KeyCatalogue`)."""
        return {}

    @model_validator(mode="before")
    @classmethod
    def _prepare(cls, data: Any) -> Any:
        """Merge onto the class defaults (unless ``extend_defaults: false``), then normalise keys.

        Merging here, not only in :meth:`from_config`, means a settings loader that just calls
        ``model_validate`` on a YAML mapping gets the same "add to the defaults" behaviour.
        """
        if not isinstance(data, Mapping):
            return data
        data = dict(data)
        if data.pop("extend_defaults", True):
            data = _merge_catalogue_data(cls._default_data(), data)
        if data.get("groups") is not None:
            data["groups"] = {
                normalize_key(name): tuple(normalize_key(member) for member in members)
                for name, members in dict(data["groups"]).items()
            }
        if data.get("aliases") is not None:
            data["aliases"] = {normalize_key(alias): normalize_key(key) for alias, key in dict(data["aliases"]).items()}
        if data.get("wildcards") is not None:
            data["wildcards"] = frozenset(normalize_key(key) for key in data["wildcards"])
        if data.get("prefixes") is not None:
            data["prefixes"] = tuple(dict.fromkeys(normalize_key(prefix) for prefix in data["prefixes"]))
        return data

    @model_validator(mode="after")
    def _no_cycles(self) -> Self:
        for group in self.groups:
            self._expand(group, ())
        return self

    def _expand(self, key: str, path: tuple[str, ...]) -> frozenset[str]:
        if key in path:
            raise ValueError(f"region/key group cycle: {' -> '.join((*path, key))}")
        if key in self.wildcards:
            return self.all_leaves() | {_ANY_SENTINEL}
        members = self.groups.get(key)
        if members is None:
            return frozenset({key})
        leaves: set[str] = set()
        for member in members:
            leaves |= self._expand(self.canonical(member), (*path, key))
        return frozenset(leaves)

    @classmethod
    def from_config(cls, data: Mapping[str, Any], *, extend: bool = True) -> Self:
        """Build from a config mapping (``groups``, ``aliases``, ``wildcards``, ``prefixes``, ...).

        With ``extend`` (default) the config adds to the built-in defaults of the class, so a
        user only writes the groups they need (a group or alias of the same name replaces the
        default one); without it the config replaces them. ``model_validate`` of a mapping does the
        same; the mapping may carry ``extend_defaults: false`` instead of the keyword.
        """
        return cls.model_validate({**dict(data), "extend_defaults": extend})

    def canonical(self, key: str) -> str:
        """Resolve aliases and known prefixes: ``"geography_germany"`` -> ``"de"``."""
        norm = normalize_key(key)
        if norm in self.aliases:
            return self.aliases[norm]
        for prefix in self.prefixes:
            if norm.startswith(prefix) and len(norm) > len(prefix):
                stripped = norm[len(prefix) :]
                return self.aliases.get(stripped, stripped)
        return norm

    def is_wildcard(self, key: str) -> bool:
        return self.canonical(key) in self.wildcards

    def all_leaves(self) -> frozenset[str]:
        """Every atomic key the catalogue lists."""
        cached = self._leaf_cache.get("\x00all")
        if cached is None:
            members = {self.canonical(member) for group in self.groups.values() for member in group}
            cached = frozenset(member for member in members if member not in self.groups)
            cached |= frozenset(key for key in self.aliases.values() if key not in self.groups)
            cached -= self.wildcards
            self._leaf_cache["\x00all"] = cached
        return cached

    def is_known(self, key: str) -> bool:
        """Can the catalogue tell what ``key`` covers?"""
        if not self.closed:
            return True
        canon = self.canonical(key)
        if canon in self.wildcards or canon in self.groups or canon in self.all_leaves():
            return True
        return bool(self.leaf_pattern and re.fullmatch(self.leaf_pattern, canon))

    def leaves(self, key: str) -> frozenset[str]:
        """The atomic keys ``key`` stands for (itself when it is atomic or unknown)."""
        canon = self.canonical(key)
        cached = self._leaf_cache.get(canon)
        if cached is None:
            cached = self._expand(canon, ())
            self._leaf_cache[canon] = cached
        return cached


class RegionCatalogue(KeyCatalogue):
    """Geography keys -> ISO-3166 countries. ``RegionCatalogue()`` is the built-in default."""

    @classmethod
    def _default_data(cls) -> dict[str, Any]:
        return region_data()


class LanguageCatalogue(KeyCatalogue):
    """Smint.io license-language keys -> ISO 639-1; cultures (``en-GB``) read as their language.

    ``language_hindustani`` covers both Hindi and Urdu (``hi``, ``ur``), the two standard forms.
    """

    @classmethod
    def _default_data(cls) -> dict[str, Any]:
        return {
            "groups": {"hindustani": ["hi", "ur"]},
            "aliases": {
                "english": "en",
                "german": "de",
                "french": "fr",
                "spanish": "es",
                "mandarin_chinese": "zh",
                "mandarin": "zh",
                "chinese": "zh",
                "hindi": "hi",
                "urdu": "ur",
                "arabic": "ar",
                "malay": "ms",
                "russian": "ru",
                "bengali": "bn",
                "portuguese": "pt",
            },
            "wildcards": ["any", "all"],
            "prefixes": ["language_"],
            "closed": True,
            "leaf_pattern": "[a-z]{2}",
        }

    def canonical(self, key: str) -> str:
        norm = normalize_key(key)
        if re.fullmatch(r"[a-z]{2}_[a-z0-9_]+", norm):  # a culture: en_gb, zh_hant_tw
            norm = norm[:2]
        return super().canonical(norm)


class ChannelCatalogue(KeyCatalogue):
    """Distribution (channel) keys: open, with a few modelled groups (``online`` ⊃ ``web`` ...)."""

    @classmethod
    def _default_data(cls) -> dict[str, Any]:
        return {
            "groups": {
                "online": ["web", "social_media", "email", "mobile_app", "online_advertising", "ecommerce"],
                "print": ["print_advertising", "packaging", "publication", "point_of_sale", "direct_mail"],
                "broadcast": ["tv", "film", "radio"],
            },
            "aliases": {"digital": "online", "website": "web", "social": "social_media", "newsletter": "email"},
            "wildcards": ["any", "all", "all_media", "unlimited", "unrestricted"],
            "prefixes": ["distribution_"],
            "closed": False,
        }


DEFAULT_REGIONS = RegionCatalogue()
DEFAULT_CHANNELS = ChannelCatalogue()
LANGUAGES = LanguageCatalogue()
FLAT = KeyCatalogue(wildcards=frozenset({"any", "all", "unlimited", "unrestricted"}))
