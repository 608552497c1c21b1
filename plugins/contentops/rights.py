"""Rights rules: may an asset be used like this, when does its license lapse, is it compliant?

Pure functions over :mod:`contentops.models` values: no Airflow, no HTTP, no clock (every
function takes the date it decides for, so a backfill reproduces past decisions).

How a license is read (the choices, and why)
============================================

* **Terms are alternative grants.** A Smint.io LPT carries ``license_terms[]``; a use is
  *allowed* when at least one term allows every dimension of it, *refused* when every term
  refuses it, and *unknown* when no term allows it and at least one cannot be decided.
* **Per dimension** (region, channel, language, industry, usage, size, placement) a term has an
  ``allowed_*`` and a ``restricted_*`` list of metadata keys:

  - ``restricted_*`` wins: a restricted key that overlaps the wanted value refuses the term.
  - ``allowed_*`` must *cover* the wanted value (all of it: a use in ``europe`` is not covered
    by ``["de", "fr"]``). Wildcard keys (``any``, ``worldwide`` ...) cover everything.
  - ``allowed_* = None`` is **unknown**, never allowed ("null means we do not know", Smint.io's
    own guidance, api-notes §1.5). An empty list is read as ``None`` by the model: Smint.io's
    integration cores treat ``[]`` as "not stated" (see :class:`~contentops.models.smintio.LicenseTerm`).
  - ``restricted_* = None`` means no restriction is declared. Restrictions are limits, not
    permissions: reading a missing limit as "unknown" would make almost every real license
    undecidable, and a missing *permission* is already unknown.
  - A key the catalogue cannot resolve (e.g. a region key we have never seen) makes the
    answer unknown when it could change it, never allowed.
  - A dimension the :class:`~contentops.models.domain.IntendedUse` leaves ``None`` is not checked.
* **Dates.** ``valid_from <= on_date <= valid_until`` and ``on_date <= to_be_used_until``. A
  missing date means *no limit* on that side: Smint.io terms for royalty-free stock commonly
  carry no end date (perpetual), and the end date is a limit, not a permission. What *is*
  unknown is a license with no terms at all (neither on the LPT nor on its offering).
  Bare dates on end fields are inclusive (see :data:`contentops.models.common.UtcEndOfDay`).
* **Editorial use.** "Editorial use only" (``is_editorial_use``) flags on the term, the content
  element or the offering: any ``True`` refuses a commercial use; all ``None`` is unknown.
* **Counters.** ``current + planned > effective_max`` refuses (downloads, users, reuses). A
  missing cap is no cap; a cap with a missing counter is unknown.
* **License state.** Only ``"completed"`` (the one sourced value) grants anything; another
  state refuses, a missing state is unknown.

Catalogues
==========
Smint.io geography/language keys are metadata keys. :class:`RegionCatalogue` resolves
geography keys to sets of ISO-3166 countries (``worldwide`` ⊃ ``europe``/``emea``/``apac``/
``dach``/... ⊃ countries; ``germany``, ``de``, ``geography_de`` all mean ``de``).
:class:`LanguageCatalogue` maps ``language_english`` ... ``any`` to ISO 639-1.
:class:`ChannelCatalogue` is an open catalogue of distribution keys with a few groups. All
three are data, overridable from config with ``from_config``. The region and language keys are
*modelled* (the real key lists live in the tenant's generic metadata, not in public sources),
except the Smint.io language keys, which are sourced (api-notes §1.4).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Self

from pydantic import Field, PrivateAttr, model_validator

from contentops.models.common import DomainModel, as_utc
from contentops.models.domain import (
    ComplianceCriteria,
    IntendedUse,
    Reason,
    ReasonCode,
    RightsDecision,
    SweepAssessment,
    SweepStatus,
    UsageReconciliation,
    UsageRights,
    UsageThresholds,
    UsageVolume,
    Verdict,
)
from contentops.models.smintio import COMPLETED_STATE, Asset, LicenseTerm

__all__ = [
    "DERIVATIVE_RESTRICTION_KEYS",
    "ChannelCatalogue",
    "KeyCatalogue",
    "LanguageCatalogue",
    "RegionCatalogue",
    "assess_for_sweep",
    "evaluate",
    "evaluate_derivative",
    "expires_within",
    "expiry",
    "may_derive",
    "meets_compliance",
    "normalize_key",
    "reconcile_usage",
    "sign_off_restrictions",
    "term_end",
    "usable_until",
]

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


def _codes(text: str) -> list[str]:
    """Space-separated ISO codes -> list (keeps the region tables readable)."""
    return text.split()


def _region_data() -> dict[str, Any]:
    """Default region hierarchy (modelled): ISO-3166 alpha-2 countries grouped the usual ways."""
    europe = _codes(
        "ad al at ax ba be bg by ch cy cz de dk ee es fi fo fr gb gg gi gr hr hu ie im is it je li lt lu lv "
        "mc md me mk mt nl no pl pt ro rs ru se si sj sk sm tr ua va xk"
    )
    eu = _codes("at be bg cy cz de dk ee es fi fr gr hr hu ie it lt lu lv mt nl pl pt ro se si sk")
    middle_east = _codes("ae bh eg il iq ir jo kw lb om ps qa sa sy tr ye")
    africa = _codes(
        "ao bf bi bj bw cd cf cg ci cm cv dj dz eg eh er et ga gh gm gn gq gw ke km lr ls ly ma mg ml mr mu mw "
        "mz na ne ng re rw sc sd sh sl sn so ss st sz td tg tn tz ug yt za zm zw"
    )
    north_america = _codes("us ca mx bm gl pm")
    central_america = _codes("bz cr gt hn ni pa sv")
    caribbean = _codes("ag ai aw bb bl bq bs cu cw dm do gd gp ht jm kn ky lc mf mq ms pr sx tc tt vc vg vi")
    south_america = _codes("ar bo br cl co ec fk gf gy pe py sr uy ve")
    asia = _codes(
        "af am az bd bh bn bt cn ge hk id il in iq ir jo jp kg kh kp kr kw kz la lb lk mm mn mo mv my np om "
        "ph pk ps qa sa sg sy th tj tl tm tr tw uz vn ye ae"
    )
    oceania = _codes("as au ck fj fm gu ki mh mp nc nf nr nu nz pf pg pn pw sb tk to tv vu wf ws")
    west_asia = set(middle_east) | {"am", "az", "ge"}
    apac = sorted(set(asia) - west_asia) + oceania
    return {
        "groups": {
            "europe": europe,
            "eu": eu,
            "eea": [*eu, "is", "li", "no"],
            "dach": ["de", "at", "ch"],
            "benelux": ["be", "nl", "lu"],
            "nordics": ["dk", "fi", "is", "no", "se", "fo", "ax"],
            "uk_and_ireland": ["gb", "ie", "im", "gg", "je"],
            "middle_east": middle_east,
            "africa": africa,
            "emea": ["europe", "middle_east", "africa"],
            "north_america": north_america,
            "central_america": central_america,
            "caribbean": caribbean,
            "south_america": south_america,
            "latam": ["mx", "central_america", "caribbean", "south_america"],
            "americas": ["north_america", "central_america", "caribbean", "south_america"],
            "asia": asia,
            "oceania": oceania,
            "apac": apac,
            "antarctica": ["aq"],
        },
        "aliases": {
            "world": "worldwide",
            "global": "worldwide",
            "all_countries": "worldwide",
            "european_union": "eu",
            "european_economic_area": "eea",
            "latin_america": "latam",
            "asia_pacific": "apac",
            "europe_middle_east_africa": "emea",
            "scandinavia": "nordics",
            "uk": "gb",
            "united_kingdom": "gb",
            "great_britain": "gb",
            "germany": "de",
            "austria": "at",
            "switzerland": "ch",
            "france": "fr",
            "italy": "it",
            "spain": "es",
            "portugal": "pt",
            "netherlands": "nl",
            "belgium": "be",
            "luxembourg": "lu",
            "ireland": "ie",
            "denmark": "dk",
            "sweden": "se",
            "norway": "no",
            "finland": "fi",
            "iceland": "is",
            "poland": "pl",
            "czechia": "cz",
            "czech_republic": "cz",
            "hungary": "hu",
            "greece": "gr",
            "romania": "ro",
            "russia": "ru",
            "ukraine": "ua",
            "turkey": "tr",
            "turkiye": "tr",
            "usa": "us",
            "united_states": "us",
            "united_states_of_america": "us",
            "canada": "ca",
            "mexico": "mx",
            "brazil": "br",
            "argentina": "ar",
            "chile": "cl",
            "colombia": "co",
            "china": "cn",
            "hong_kong": "hk",
            "taiwan": "tw",
            "japan": "jp",
            "south_korea": "kr",
            "korea": "kr",
            "india": "in",
            "indonesia": "id",
            "malaysia": "my",
            "singapore": "sg",
            "thailand": "th",
            "philippines": "ph",
            "vietnam": "vn",
            "australia": "au",
            "new_zealand": "nz",
            "south_africa": "za",
            "nigeria": "ng",
            "kenya": "ke",
            "egypt": "eg",
            "israel": "il",
            "saudi_arabia": "sa",
            "united_arab_emirates": "ae",
            "uae": "ae",
        },
        "wildcards": ["worldwide", "any"],
        "prefixes": ["geography_", "region_", "country_", "territory_"],
        "closed": True,
    }


class RegionCatalogue(KeyCatalogue):
    """Geography keys -> ISO-3166 countries. ``RegionCatalogue()`` is the built-in default."""

    @classmethod
    def _default_data(cls) -> dict[str, Any]:
        return _region_data()


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


_DEFAULT_REGIONS = RegionCatalogue()
_DEFAULT_CHANNELS = ChannelCatalogue()
_LANGUAGES = LanguageCatalogue()
_FLAT = KeyCatalogue(wildcards=frozenset({"any", "all", "unlimited", "unrestricted"}))

#: ``restricted_usages`` keys that forbid altering the content (derivatives, localized variants). Modelled.
DERIVATIVE_RESTRICTION_KEYS: frozenset[str] = frozenset(
    {
        "modification",
        "modifications",
        "alteration",
        "alterations",
        "derivative",
        "derivatives",
        "derivative_works",
        "adaptation",
        "no_modification",
        "no_derivatives",
    }
)


# =========================================================================== dimensions


@dataclass(frozen=True)
class _Dimension:
    """One usage dimension: which IntendedUse field it reads and which term lists it checks."""

    name: str  # used in reasons: "region"
    use_field: str  # IntendedUse attribute
    lists: str  # term list suffix: allowed_<lists> / restricted_<lists>
    not_allowed: ReasonCode
    restricted: ReasonCode
    unknown: ReasonCode


_DIMENSIONS: tuple[_Dimension, ...] = (
    _Dimension(
        "region",
        "region",
        "geographies",
        ReasonCode.REGION_NOT_ALLOWED,
        ReasonCode.REGION_RESTRICTED,
        ReasonCode.UNKNOWN_REGION,
    ),
    _Dimension(
        "channel",
        "channel",
        "distributions",
        ReasonCode.CHANNEL_NOT_ALLOWED,
        ReasonCode.CHANNEL_RESTRICTED,
        ReasonCode.UNKNOWN_CHANNEL,
    ),
    _Dimension(
        "language",
        "language",
        "languages",
        ReasonCode.LANGUAGE_NOT_ALLOWED,
        ReasonCode.LANGUAGE_RESTRICTED,
        ReasonCode.UNKNOWN_LANGUAGE,
    ),
    _Dimension(
        "industry",
        "industry",
        "industries",
        ReasonCode.INDUSTRY_NOT_ALLOWED,
        ReasonCode.INDUSTRY_RESTRICTED,
        ReasonCode.UNKNOWN_INDUSTRY,
    ),
    _Dimension(
        "usage", "usage", "usages", ReasonCode.USAGE_NOT_ALLOWED, ReasonCode.USAGE_RESTRICTED, ReasonCode.UNKNOWN_USAGE
    ),
    _Dimension(
        "size", "size", "sizes", ReasonCode.SIZE_NOT_ALLOWED, ReasonCode.SIZE_RESTRICTED, ReasonCode.UNKNOWN_SIZE
    ),
    _Dimension(
        "placement",
        "placement",
        "placements",
        ReasonCode.PLACEMENT_NOT_ALLOWED,
        ReasonCode.PLACEMENT_RESTRICTED,
        ReasonCode.UNKNOWN_PLACEMENT,
    ),
)


@dataclass(frozen=True)
class _Outcome:
    verdict: Verdict
    reasons: tuple[Reason, ...] = ()


_ALLOWED = _Outcome(Verdict.ALLOWED)


def _worst(outcomes: Iterable[_Outcome]) -> _Outcome:
    """All must allow: refused beats unknown beats allowed; reasons of the non-allowed kept."""
    outcomes = list(outcomes)
    reasons = tuple(reason for outcome in outcomes for reason in outcome.reasons)
    verdicts = {outcome.verdict for outcome in outcomes}
    if Verdict.REFUSED in verdicts:
        return _Outcome(Verdict.REFUSED, reasons)
    if Verdict.UNKNOWN in verdicts:
        return _Outcome(Verdict.UNKNOWN, reasons)
    return _ALLOWED


def _best(outcomes: Sequence[_Outcome]) -> _Outcome:
    """Alternatives: one allowing is enough; else unknown if any is undecided; refused only if all refuse."""
    verdicts = {outcome.verdict for outcome in outcomes}
    if Verdict.ALLOWED in verdicts:
        return _ALLOWED
    reasons = tuple(reason for outcome in outcomes for reason in outcome.reasons)
    return _Outcome(Verdict.UNKNOWN if Verdict.UNKNOWN in verdicts else Verdict.REFUSED, reasons)


def _fmt(keys: Sequence[str]) -> str:
    return "[" + ", ".join(keys) + "]"


def _check_dimension(
    dimension: _Dimension,
    wanted: str,
    allowed: list[str] | None,
    restricted: list[str] | None,
    catalogue: KeyCatalogue,
    term: int,
) -> _Outcome:
    """Decide one dimension of one term: restricted wins, allowed must cover, None is unknown."""
    lists = dimension.lists

    def reason(code: ReasonCode, message: str, listed: Sequence[str]) -> Reason:
        return Reason(
            code=code,
            message=f"term {term}: {message}",
            term=term,
            dimension=dimension.name,
            wanted=wanted,
            listed=tuple(listed),
        )

    wanted_known = catalogue.is_known(wanted)
    wanted_leaves = catalogue.leaves(wanted)

    def overlaps(key: str) -> bool:
        return catalogue.is_wildcard(key) or bool(catalogue.leaves(key) & wanted_leaves)

    blocked = [key for key in restricted or () if overlaps(key)]
    if blocked:
        return _Outcome(
            Verdict.REFUSED,
            (
                reason(
                    dimension.restricted,
                    f"{dimension.name} '{wanted}' falls under restricted_{lists} {_fmt(blocked)}",
                    restricted or (),
                ),
            ),
        )
    # Keys we cannot place: an unresolvable license key, or any key when the wanted value is unresolvable.
    undecided_restricted = [key for key in restricted or () if not (wanted_known and catalogue.is_known(key))]

    if allowed is None:
        return _Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"allowed_{lists} is not stated, so {dimension.name} '{wanted}' cannot be confirmed",
                    (),
                ),
            ),
        )
    covered: set[str] = set()
    for key in allowed:
        covered |= catalogue.leaves(key)
    if any(catalogue.is_wildcard(key) for key in allowed) or wanted_leaves <= covered:
        if not undecided_restricted:
            return _ALLOWED
        return _Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"cannot tell whether {dimension.name} '{wanted}' falls under restricted_{lists} "
                    f"{_fmt(undecided_restricted)}",
                    restricted or (),
                ),
            ),
        )
    undecided_allowed = [key for key in allowed if not (wanted_known and catalogue.is_known(key))]
    if undecided_allowed:
        return _Outcome(
            Verdict.UNKNOWN,
            (
                reason(
                    dimension.unknown,
                    f"cannot tell whether {dimension.name} '{wanted}' is within allowed_{lists} "
                    f"{_fmt(undecided_allowed)}",
                    allowed,
                ),
            ),
        )
    return _Outcome(
        Verdict.REFUSED,
        (
            reason(
                dimension.not_allowed,
                f"{dimension.name} '{wanted}' is not within allowed_{lists} {_fmt(allowed)}",
                allowed,
            ),
        ),
    )


def term_end(term: LicenseTerm) -> datetime | None:
    """When a term stops granting *new* use: the earlier of ``valid_until`` and ``to_be_used_until``."""
    ends = [end for end in (term.valid_until, term.to_be_used_until) if end is not None]
    return min(ends) if ends else None


def _check_dates(term: LicenseTerm, on_date: datetime, number: int) -> _Outcome:
    checks: list[tuple[bool, ReasonCode, str, str, datetime | None]] = [
        (
            term.valid_from is not None and on_date < term.valid_from,
            ReasonCode.NOT_YET_VALID,
            "valid_from",
            "is before the term starts",
            term.valid_from,
        ),
        (
            term.valid_until is not None and on_date > term.valid_until,
            ReasonCode.EXPIRED,
            "valid_until",
            "is after the term expired",
            term.valid_until,
        ),
        (
            term.to_be_used_until is not None and on_date > term.to_be_used_until,
            ReasonCode.USE_PERIOD_ENDED,
            "to_be_used_until",
            "is after the last date a use may start",
            term.to_be_used_until,
        ),
    ]
    reasons = tuple(
        Reason(
            code=code,
            message=f"term {number}: {on_date.date().isoformat()} {text} ({field} {limit.isoformat()})",
            term=number,
            dimension=field,
            wanted=on_date.isoformat(),
            listed=(limit.isoformat(),),
        )
        for failed, code, field, text, limit in checks
        if failed and limit is not None
    )
    return _Outcome(Verdict.REFUSED, reasons) if reasons else _ALLOWED


def _editorial_flag(term: LicenseTerm, rights: UsageRights) -> bool | None:
    """Is this term editorial-use only? Any True wins; all unknown stays unknown."""
    flags = (term.is_editorial_use, rights.editorial_only)
    if any(flag is True for flag in flags):
        return True
    if any(flag is False for flag in flags):
        return False
    return None


def _check_editorial(
    term: LicenseTerm, rights: UsageRights, use: IntendedUse, number: int, derivative: bool
) -> _Outcome:
    flag = _editorial_flag(term, rights)
    if flag is True and derivative:
        return _Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.DERIVATIVES_NOT_ALLOWED,
                    message=f"term {number}: editorial-use-only content may not be altered into a derivative",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    if use.editorial:
        return _ALLOWED
    if flag is True:
        return _Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.EDITORIAL_ONLY,
                    message=f"term {number}: licensed for editorial use only; this use is commercial",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    if flag is None:
        return _Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.UNKNOWN_EDITORIAL_USE,
                    message=f"term {number}: the license does not say whether it is editorial-use only",
                    term=number,
                    dimension="editorial",
                ),
            ),
        )
    return _ALLOWED


def _check_derivative_usages(term: LicenseTerm, number: int) -> _Outcome:
    blocked = [key for key in term.restricted_usages or () if normalize_key(key) in DERIVATIVE_RESTRICTION_KEYS]
    if not blocked:
        return _ALLOWED
    return _Outcome(
        Verdict.REFUSED,
        (
            Reason(
                code=ReasonCode.DERIVATIVES_NOT_ALLOWED,
                message=f"term {number}: restricted_usages {_fmt(blocked)} forbid altering the content",
                term=number,
                dimension="usage",
                listed=tuple(term.restricted_usages or ()),
            ),
        ),
    )


def _term_outcome(
    term: LicenseTerm,
    number: int,
    rights: UsageRights,
    use: IntendedUse,
    catalogues: Mapping[str, KeyCatalogue],
    derivative: bool,
) -> _Outcome:
    outcomes = [_check_dates(term, use.on_date, number), _check_editorial(term, rights, use, number, derivative)]
    if derivative:
        outcomes.append(_check_derivative_usages(term, number))
    for dimension in _DIMENSIONS:
        wanted = getattr(use, dimension.use_field)
        if wanted is None or str(wanted).strip() == "":
            continue
        outcomes.append(
            _check_dimension(
                dimension,
                str(wanted),
                getattr(term, f"allowed_{dimension.lists}"),
                getattr(term, f"restricted_{dimension.lists}"),
                catalogues.get(dimension.name, _FLAT),
                number,
            )
        )
    return _worst(outcomes)


def _license_outcome(rights: UsageRights) -> _Outcome:
    state = rights.license_state
    if state is None:
        return _Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.UNKNOWN_LICENSE_STATE, message="the license state is not stated", dimension="state"
                ),
            ),
        )
    if normalize_key(state) != COMPLETED_STATE:
        return _Outcome(
            Verdict.REFUSED,
            (
                Reason(
                    code=ReasonCode.LICENSE_NOT_COMPLETED,
                    message=f"the license purchase is '{state}', not '{COMPLETED_STATE}'",
                    dimension="state",
                    wanted=COMPLETED_STATE,
                    listed=(state,),
                ),
            ),
        )
    return _ALLOWED


_COUNTERS: tuple[tuple[str, str, str, ReasonCode, ReasonCode], ...] = (
    (
        "downloads",
        "max_downloads",
        "current_downloads",
        ReasonCode.DOWNLOAD_LIMIT_REACHED,
        ReasonCode.UNKNOWN_DOWNLOAD_COUNT,
    ),
    ("users", "max_users", "current_users", ReasonCode.USER_LIMIT_REACHED, ReasonCode.UNKNOWN_USER_COUNT),
    ("reuses", "max_reuses", "current_reuses", ReasonCode.REUSE_LIMIT_REACHED, ReasonCode.UNKNOWN_REUSE_COUNT),
)


def _counter_outcome(rights: UsageRights, planned: Callable[[str], int]) -> _Outcome:
    """``current + planned > max`` refuses; a cap with an unknown counter is unknown."""
    outcomes: list[_Outcome] = []
    for name, max_field, current_field, limit_code, unknown_code in _COUNTERS:
        cap = getattr(rights, max_field)
        if cap is None:
            continue
        current = getattr(rights, current_field)
        if current is None:
            outcomes.append(
                _Outcome(
                    Verdict.UNKNOWN,
                    (
                        Reason(
                            code=unknown_code,
                            message=f"the license caps {name} at {cap} but the current count is not known",
                            dimension=name,
                            listed=(str(cap),),
                        ),
                    ),
                )
            )
            continue
        wanted = current + planned(name)
        if wanted > cap:
            outcomes.append(
                _Outcome(
                    Verdict.REFUSED,
                    (
                        Reason(
                            code=limit_code,
                            message=f"{name}: {current} used + {planned(name)} planned exceeds the cap of {cap}",
                            dimension=name,
                            wanted=str(wanted),
                            listed=(str(cap),),
                        ),
                    ),
                )
            )
    return _worst(outcomes)


def _term_number(term: LicenseTerm, index: int) -> int:
    """The term's ``sequence_number``, else its 1-based position."""
    return term.sequence_number if term.sequence_number is not None else index + 1


def _decide(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None,
    channels: KeyCatalogue | None,
    *,
    derivative: bool = False,
) -> RightsDecision:
    catalogues: dict[str, KeyCatalogue] = {
        "region": regions or _DEFAULT_REGIONS,
        "channel": channels or _DEFAULT_CHANNELS,
        "language": _LANGUAGES,
    }
    planned = {"downloads": use.planned_downloads, "users": use.planned_users, "reuses": use.planned_reuses}
    license_level = [_license_outcome(rights), _counter_outcome(rights, lambda name: planned[name] or 0)]

    granted_by: int | None = None
    if not rights.terms:
        terms_outcome = _Outcome(
            Verdict.UNKNOWN,
            (
                Reason(
                    code=ReasonCode.NO_LICENSE_TERMS,
                    message="the license carries no terms (neither on the purchase nor on the offering)",
                ),
            ),
        )
    else:
        per_term = [
            (
                _term_number(term, index),
                _term_outcome(term, _term_number(term, index), rights, use, catalogues, derivative),
            )
            for index, term in enumerate(rights.terms)
        ]
        granting = [number for number, outcome in per_term if outcome.verdict is Verdict.ALLOWED]
        if granting:
            granted_by = granting[0]
        terms_outcome = _best([outcome for _, outcome in per_term])

    final = _worst([*license_level, terms_outcome])
    return RightsDecision(
        verdict=final.verdict,
        reasons=final.reasons,
        asset_id=rights.asset_id,
        granted_by_term=granted_by if final.verdict is Verdict.ALLOWED else None,
    )


# =========================================================================== public rules


def evaluate(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None = None,
    *,
    channels: KeyCatalogue | None = None,
) -> RightsDecision:
    """May ``rights`` be used for ``use``? See the module docstring for how each part is read.

    ``regions`` / ``channels`` default to the built-in catalogues; pass the ones loaded from
    config to override. The decision names the granting term, or every reason it was not granted.
    """
    return _decide(rights, use, regions, channels)


def expiry(rights: UsageRights) -> datetime | None:
    """The first date any term lapses: the earliest ``valid_until`` / ``to_be_used_until``.

    Conservative on purpose (reminders and partner guidance want the first change). Because
    terms are alternatives, a use may still be allowed after this date through another term;
    :func:`usable_until` is the date after which *nothing* is allowed. ``None`` = no term has an end.
    """
    ends = [end for term in rights.terms if (end := term_end(term)) is not None]
    return min(ends) if ends else None


def usable_until(rights: UsageRights) -> datetime | None:
    """The date after which no term grants a new use (latest term end).

    ``None`` when at least one term has no end (perpetual) or there are no terms (nothing known).
    """
    if not rights.terms:
        return None
    ends = [term_end(term) for term in rights.terms]
    if any(end is None for end in ends):
        return None
    return max(end for end in ends if end is not None)


def expires_within(rights: UsageRights, as_of: datetime, days: int) -> bool:
    """Does some term lapse on or before ``as_of + days`` (including terms that already lapsed)?"""
    first = expiry(rights)
    return first is not None and first <= as_utc(as_of) + timedelta(days=days)


def _missing_metadata(asset: Asset, required: Iterable[str]) -> list[str]:
    """Required keys absent or empty in ``asset.metadata`` (top-level asset fields count too)."""
    missing = []
    for key in required:
        value = asset.metadata.get(key)
        if value is None and key in type(asset).model_fields:
            value = getattr(asset, key)
        if value is None or value == "" or value == [] or value == {}:
            missing.append(key)
    return missing


def assess_for_sweep(
    rights: UsageRights,
    as_of: datetime,
    horizon_days: int,
    *,
    asset: Asset | None = None,
    required_metadata: Sequence[str] = (),
) -> SweepAssessment:
    """What the rights expiry sweep must do about one asset on ``as_of``.

    Findings (all are reported; the headline status is the most severe):

    * ``expired`` - no term grants a new use any more (every term ended), or the license is no
      longer in the completed state;
    * ``limit_reached`` - a counter reached its cap (``current >= max``: no further use fits);
    * ``expiring`` - a term still in force ends within ``horizon_days``;
    * ``metadata_missing`` - no terms, unknown license state or counter, or a ``required_metadata``
      key missing on ``asset``;
    * ``ok`` - none of these.

    ``expires_at`` is the next end of a term still in force, or when everything ended, the last end.
    """
    as_of = as_utc(as_of)
    findings: set[SweepStatus] = set()
    reasons: list[Reason] = []
    expires_at: datetime | None = None

    license_state = _license_outcome(rights)
    if license_state.verdict is Verdict.REFUSED:
        findings.add(SweepStatus.EXPIRED)
    elif license_state.verdict is Verdict.UNKNOWN:
        findings.add(SweepStatus.METADATA_MISSING)
    reasons.extend(license_state.reasons)

    if not rights.terms:
        findings.add(SweepStatus.METADATA_MISSING)
        reasons.append(Reason(code=ReasonCode.NO_LICENSE_TERMS, message="the license carries no terms"))
    else:
        running = [
            (_term_number(term, index), end)
            for index, term in enumerate(rights.terms)
            if (end := term_end(term)) is None or end >= as_of
        ]
        if not running:
            findings.add(SweepStatus.EXPIRED)
            expires_at = usable_until(rights)
            reasons.extend(
                reason
                for index, term in enumerate(rights.terms)
                for reason in _check_dates(term, as_of, _term_number(term, index)).reasons
            )
        else:
            ends = [(end, number) for number, end in running if end is not None]
            if ends:
                expires_at, number = min(ends)
                if expires_at <= as_of + timedelta(days=horizon_days):
                    findings.add(SweepStatus.EXPIRING)
                    reasons.append(
                        Reason(
                            code=ReasonCode.EXPIRING,
                            message=f"term {number} ends on {expires_at.date().isoformat()}, "
                            f"within {horizon_days} days of {as_of.date().isoformat()}",
                            term=number,
                            dimension="valid_until",
                            wanted=as_of.isoformat(),
                            listed=(expires_at.isoformat(),),
                        )
                    )

    # current >= max: no room for one more use, whatever this run plans.
    for name, max_field, current_field, limit_code, unknown_code in _COUNTERS:
        cap, current = getattr(rights, max_field), getattr(rights, current_field)
        if cap is None:
            continue
        if current is None:
            findings.add(SweepStatus.METADATA_MISSING)
            reasons.append(
                Reason(
                    code=unknown_code,
                    message=f"the license caps {name} at {cap} but the current count is not known",
                    dimension=name,
                    listed=(str(cap),),
                )
            )
        elif current >= cap:
            findings.add(SweepStatus.LIMIT_REACHED)
            reasons.append(
                Reason(
                    code=limit_code,
                    message=f"{name}: {current} used, the cap of {cap} is reached",
                    dimension=name,
                    wanted=str(current),
                    listed=(str(cap),),
                )
            )

    if required_metadata:
        if asset is None:
            raise ValueError("required_metadata needs the asset to check")
        for key in _missing_metadata(asset, required_metadata):
            findings.add(SweepStatus.METADATA_MISSING)
            reasons.append(
                Reason(code=ReasonCode.METADATA_MISSING, message=f"metadata '{key}' is missing", dimension=key)
            )

    return SweepAssessment.from_findings(
        findings,
        reasons,
        expires_at,
        rights.asset_id if rights.asset_id is not None else (asset.id if asset else None),
    )


def may_derive(
    rights: UsageRights,
    language: str | None,
    region: str | None,
    as_of: datetime,
    *,
    regions: KeyCatalogue | None = None,
) -> RightsDecision:
    """May a localized variant / derivative be made and used in ``language`` and ``region``?

    The same rules as :func:`evaluate` for a commercial use in that language and region on
    ``as_of``, plus: editorial-use-only content may not be altered, and a term whose
    ``restricted_usages`` contain a modification key (:data:`DERIVATIVE_RESTRICTION_KEYS`) grants nothing.
    """
    use = IntendedUse(on_date=as_utc(as_of), language=language, region=region)
    return _decide(rights, use, regions, None, derivative=True)


def evaluate_derivative(
    rights: UsageRights,
    use: IntendedUse,
    regions: KeyCatalogue | None = None,
    *,
    channels: KeyCatalogue | None = None,
) -> RightsDecision:
    """May a derivative made from content under ``rights`` be used for ``use``?

    A derivative (an agency's final deliverable, a resize, a localized variant) carries its
    master's license: the same rules as :func:`evaluate`, plus the derivative rules of
    :func:`may_derive` (editorial-use-only content may not be altered; a modification key in
    ``restricted_usages`` grants nothing).
    """
    return _decide(rights, use, regions, channels, derivative=True)


def sign_off_restrictions(rights: UsageRights, channels: KeyCatalogue | None = None) -> tuple[str, ...]:
    """The license's usage restrictions a client has to sign off before its agency uses the content.

    Editorial-use-only content, a term with ``restricted_usages``, or a license whose every term
    names only specific distribution channels (no wildcard, not unknown): each such restriction
    is one line saying why. Empty = nothing to sign off (the rights gate still decides the use).
    """
    catalogue = channels or _DEFAULT_CHANNELS
    found: list[str] = []
    if _editorial_status(rights) is True:
        found.append("licensed for editorial use only")
    restricted = sorted({key for term in rights.terms for key in term.restricted_usages or ()})
    if restricted:
        found.append(f"restricted usages: {_fmt(restricted)}")
    limited = [
        term.allowed_distributions
        for term in rights.terms
        if term.allowed_distributions and not any(catalogue.is_wildcard(key) for key in term.allowed_distributions)
    ]
    if rights.terms and len(limited) == len(rights.terms):
        channels_named = sorted({key for keys in limited for key in keys})
        found.append(f"limited to the channels {_fmt(channels_named)}")
    return tuple(found)


def _editorial_status(rights: UsageRights) -> bool | None:
    """Is the content editorial-use only as a whole? False as soon as one term grants commercial use."""
    if not rights.terms:
        return rights.editorial_only
    flags = {_editorial_flag(term, rights) for term in rights.terms}
    if False in flags:
        return False
    if flags == {True}:
        return True
    return None


def meets_compliance(
    asset: Asset,
    rights: UsageRights | None,
    criteria: ComplianceCriteria,
    as_of: datetime,
) -> RightsDecision:
    """Does ``asset`` meet the compliance criteria of a regulated channel (EXS-5)?

    Content criteria only (category, approval, compliance review, editorial, age, metadata);
    whether the license allows the use is :func:`evaluate`'s job and both must pass.
    """
    as_of = as_utc(as_of)
    outcomes: list[_Outcome] = []

    def refuse(code: ReasonCode, message: str, **details: Any) -> None:
        outcomes.append(_Outcome(Verdict.REFUSED, (Reason(code=code, message=message, **details),)))

    def unknown(code: ReasonCode, message: str, **details: Any) -> None:
        outcomes.append(_Outcome(Verdict.UNKNOWN, (Reason(code=code, message=message, **details),)))

    if criteria.required_approval_status is not None and asset.approval_status != criteria.required_approval_status:
        refuse(
            ReasonCode.NOT_APPROVED,
            f"approval status is '{asset.approval_status.value}', '{criteria.required_approval_status.value}' required",
            dimension="approval_status",
            wanted=criteria.required_approval_status.value,
            listed=(asset.approval_status.value,),
        )
    required_compliance = criteria.required_compliance_status
    if required_compliance is not None:
        if asset.compliance_status is None:
            unknown(ReasonCode.NOT_COMPLIANT, "compliance status is not known", dimension="compliance_status")
        elif asset.compliance_status != required_compliance:
            refuse(
                ReasonCode.NOT_COMPLIANT,
                f"compliance status is '{asset.compliance_status.value}', '{required_compliance.value}' required",
                dimension="compliance_status",
                wanted=required_compliance.value,
                listed=(asset.compliance_status.value,),
            )
    if criteria.eligible_categories:
        eligible = {normalize_key(key) for key in criteria.eligible_categories}
        carried = [*asset.categories, *asset.tags]
        if not eligible & {normalize_key(key) for key in carried}:
            refuse(
                ReasonCode.CATEGORY_NOT_ELIGIBLE,
                f"none of the asset's categories/tags {_fmt(carried)} is eligible {_fmt(sorted(eligible))}",
                dimension="category",
                listed=tuple(sorted(eligible)),
            )
    if criteria.forbid_editorial_use:
        editorial = _editorial_status(rights) if rights is not None else None
        if editorial is True:
            refuse(ReasonCode.EDITORIAL_ONLY, "editorial-use-only content is not allowed here", dimension="editorial")
        elif editorial is None:
            unknown(ReasonCode.UNKNOWN_EDITORIAL_USE, "whether the content is editorial-use only is not known")
    if criteria.max_age_days is not None:
        if asset.created_at is None:
            unknown(ReasonCode.UNKNOWN_AGE, "the asset's creation date is not known", dimension="created_at")
        elif as_of - asset.created_at > timedelta(days=criteria.max_age_days):
            refuse(
                ReasonCode.TOO_OLD,
                f"created {asset.created_at.date().isoformat()}, older than {criteria.max_age_days} days",
                dimension="created_at",
                wanted=asset.created_at.isoformat(),
                listed=(str(criteria.max_age_days),),
            )
    for key in _missing_metadata(asset, criteria.required_metadata):
        refuse(ReasonCode.METADATA_MISSING, f"metadata '{key}' is missing", dimension=key)

    final = _worst(outcomes)
    return RightsDecision(verdict=final.verdict, reasons=final.reasons, asset_id=asset.id)


_DATE_CODES = frozenset({ReasonCode.EXPIRED, ReasonCode.USE_PERIOD_ENDED, ReasonCode.NOT_YET_VALID})
_REGION_CODES = frozenset({ReasonCode.REGION_NOT_ALLOWED, ReasonCode.REGION_RESTRICTED})


def reconcile_usage(
    rights: UsageRights | None,
    usages: Sequence[UsageVolume],
    thresholds: UsageThresholds,
    *,
    asset_id: str | None = None,
    regions: KeyCatalogue | None = None,
) -> UsageReconciliation:
    """Compare an asset's production usage in a period with its license and the thresholds (EXS-7, OWS-8).

    Findings, each with its reason:

    * ``usage_over_threshold`` - more uses in the period than ``thresholds.max_volume``;
    * ``usage_after_expiry`` - a day on which no license term allowed a use (ended, or not yet
      valid): the license was *refused* for that date, not merely unknown;
    * ``usage_outside_region`` - usage in a region every term refuses (not allowed or restricted);
      an unknown region key is not a finding (it cannot be told apart from a catalogue gap);
    * ``downloads_over_threshold`` - the license's download counter exceeds ``thresholds.max_downloads``;
    * ``no_license_known`` - usage of an asset whose license we do not know.

    The date and region checks ask :func:`evaluate` one dimension at a time, so a usage outside the
    regions on an expired license yields both findings, each with the license's own reasons.
    """
    by_day: dict[str, dict[str, int]] = {}
    for usage in usages:
        day = as_utc(usage.on_date).date().isoformat()
        streams = by_day.setdefault(day, {})
        streams[usage.stream] = streams.get(usage.stream, 0) + usage.volume
    total = sum(usage.volume for usage in usages)
    findings: list[Reason] = []
    if thresholds.max_volume is not None and total > thresholds.max_volume:
        findings.append(
            Reason(
                code=ReasonCode.USAGE_OVER_THRESHOLD,
                message=f"{total} uses in the period exceed the review threshold of {thresholds.max_volume}",
                dimension="volume",
                wanted=str(total),
                listed=(str(thresholds.max_volume),),
            )
        )
    if rights is None:
        if usages:
            findings.append(
                Reason(
                    code=ReasonCode.NO_LICENSE_KNOWN,
                    message=f"{total} uses of an asset whose license is not known",
                    wanted=str(total),
                )
            )
        return UsageReconciliation(asset_id=asset_id, total_volume=total, by_day=by_day, findings=tuple(findings))

    if thresholds.check_expiry:
        refused_days: dict[str, tuple[int, tuple[Reason, ...]]] = {}
        for usage in usages:
            day = as_utc(usage.on_date).date().isoformat()
            decision = evaluate(rights, IntendedUse(on_date=usage.on_date))
            dated = tuple(r for r in decision.reasons if r.code in _DATE_CODES)
            if decision.verdict is Verdict.REFUSED and dated:
                volume, _ = refused_days.get(day, (0, dated))
                refused_days[day] = (volume + usage.volume, dated)
        for day, (volume, reasons) in sorted(refused_days.items()):
            findings.append(
                Reason(
                    code=ReasonCode.USAGE_AFTER_EXPIRY,
                    message=f"{volume} uses on {day}, when no license term allowed a use ({reasons[0].message})",
                    term=reasons[0].term,
                    dimension="on_date",
                    wanted=day,
                    listed=reasons[0].listed,
                )
            )
    if thresholds.check_regions:
        refused_regions: dict[str, tuple[int, tuple[Reason, ...]]] = {}
        for usage in usages:
            if not usage.region:
                continue
            decision = evaluate(rights, IntendedUse(on_date=usage.on_date, region=usage.region), regions)
            placed = tuple(r for r in decision.reasons if r.code in _REGION_CODES)
            if decision.verdict is Verdict.REFUSED and placed:
                volume, _ = refused_regions.get(usage.region, (0, placed))
                refused_regions[usage.region] = (volume + usage.volume, placed)
        for region, (volume, reasons) in sorted(refused_regions.items()):
            findings.append(
                Reason(
                    code=ReasonCode.USAGE_OUTSIDE_REGION,
                    message=f"{volume} uses in region '{region}', outside the licensed regions ({reasons[0].message})",
                    term=reasons[0].term,
                    dimension="region",
                    wanted=region,
                    listed=reasons[0].listed,
                )
            )
    if (
        thresholds.max_downloads is not None
        and rights.current_downloads is not None
        and rights.current_downloads > thresholds.max_downloads
    ):
        findings.append(
            Reason(
                code=ReasonCode.DOWNLOADS_OVER_THRESHOLD,
                message=f"the license was downloaded {rights.current_downloads} times, "
                f"over the review threshold of {thresholds.max_downloads}",
                dimension="downloads",
                wanted=str(rights.current_downloads),
                listed=(str(thresholds.max_downloads),),
            )
        )
    return UsageReconciliation(asset_id=asset_id, total_volume=total, by_day=by_day, findings=tuple(findings))
