"""Building blocks shared by every model: base configs, UTC datetimes, localized values.

Two base classes, on purpose:

* :class:`PartnerModel` parses what partner systems send. Partners add fields without notice,
  so unknown fields are *allowed and kept* (``model_extra``): a re-serialised payload loses
  nothing, and a new field never breaks a pipeline.
* :class:`DomainModel` is for the integration's own types. They are frozen (safe to share
  between tasks and to hash) and forbid unknown fields, so a typo in our own code fails loudly.

Datetimes are always timezone-aware UTC (:data:`UtcDateTime`): a naive value is *assumed* to be
UTC (the Smint.io notes say the API sends ISO-8601 date-times; a naive one can only be UTC or
wrong), an aware one is converted. Comparing naive and aware datetimes raises in Python, so
normalising once at the boundary removes a whole class of bugs from the rules.

Localized values follow the Smint.io shape ``[{"culture": "en", "value": "..."}]`` (sourced:
api-notes §1.5); metadata elements follow ``{"culture": "en", "metadata_element": {"key",
"name", "url"?}}`` (sourced: api-notes §1.4).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, RootModel, ValidationError

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_FALLBACK_CULTURES",
    "DomainModel",
    "EndOfDayIfDateOnly",
    "LocalizedMetadataElement",
    "LocalizedString",
    "LocalizedValue",
    "MetadataElement",
    "MetadataKeyList",
    "OnInvalid",
    "PartnerModel",
    "UtcDateTime",
    "UtcEndOfDay",
    "as_utc",
    "describe_validation_error",
    "metadata_keys",
    "metadata_names",
    "pick_localized",
    "utc_fields",
    "validated_or_skipped",
]

OnInvalid = Callable[[str, Any], None]
"""Called with (reason, raw payload) for a partner record that failed validation: the caller
quarantines it (see :meth:`contentops.ledger.Ledger.quarantine`) and the iteration goes on."""


def describe_validation_error(exc: ValidationError, limit: int = 3) -> str:
    """The first few validation errors as one line (``field.path: message; …``)."""
    parts = []
    for error in exc.errors()[:limit]:
        location = ".".join(str(p) for p in error.get("loc", ())) or "(root)"
        parts.append(f"{location}: {error.get('msg')}")
    more = len(exc.errors()) - limit
    return "; ".join(parts) + (f" (+{more} more)" if more > 0 else "")


M = TypeVar("M", bound=BaseModel)


def validated_or_skipped(model: type[M], raw: Any, what: str, on_invalid: OnInvalid | None, *, system: str) -> M | None:
    """``raw`` as ``model``, or ``None`` for a record that fails validation: handed to
    ``on_invalid`` as ``("invalid <what>: <errors>", raw)`` (the caller quarantines it) or, without
    a callback, logged as skipped. One malformed partner record never stops a listing."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        reason = f"invalid {what}: {describe_validation_error(exc)}"
        if on_invalid is not None:
            on_invalid(reason, raw)
        else:
            log.warning("%s: skipped %s", system, reason)
        return None


#: Cultures tried, in order, when the wanted one is missing. English first because Smint.io
#: content is always available in English (providers deliver English metadata) [I].
DEFAULT_FALLBACK_CULTURES: tuple[str, ...] = ("en",)

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def as_utc(value: datetime) -> datetime:
    """Return ``value`` as an aware UTC datetime; a naive value is taken to be UTC already."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def _end_of_day_if_date_only(value: Any) -> Any:
    """A bare date as an *end* of validity means "through that whole day" (inclusive).

    ``valid_until: "2026-03-31"`` read as midnight would end the license a day early.
    """
    if isinstance(value, str) and _DATE_ONLY.match(value.strip()):
        value = date.fromisoformat(value.strip())
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time.max, tzinfo=UTC)
    return value


#: An aware UTC datetime; accepts ISO-8601 strings, dates (midnight UTC) and epoch seconds.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]


def utc_fields(values: dict[str, Any], names: tuple[str, ...]) -> None:
    """Put the named datetimes of a validated model's ``__dict__`` into UTC, as :data:`UtcDateTime`
    would (a naive one is taken to be UTC already).

    For the models the license feed validates by the hundred per page: their datetime fields are
    plain ``datetime`` (same inputs accepted and rejected, same errors) and one call per model
    does what a validator per field did — one Python call a record instead of one per value."""
    for name in names:
        value = values[name]
        if value is not None and value.tzinfo is not UTC:
            values[name] = as_utc(value)


#: Like :data:`UtcDateTime`, but a bare date means the *end* of that day (for ``valid_until``-style fields).
UtcEndOfDay = Annotated[datetime, BeforeValidator(_end_of_day_if_date_only), AfterValidator(as_utc)]

#: :data:`UtcEndOfDay` without the conversion to UTC, for a model that converts its dates itself
#: (:func:`utc_fields`)
EndOfDayIfDateOnly = Annotated[datetime, BeforeValidator(_end_of_day_if_date_only)]


class PartnerModel(BaseModel):
    """Base for partner payloads: unknown fields are kept, not dropped and not rejected."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class DomainModel(BaseModel):
    """Base for the integration's own values: immutable and strict about field names."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- localized strings


class LocalizedValue(PartnerModel):
    """One ``{"culture": "en", "value": "..."}`` entry."""

    culture: str | None = None
    value: str | None = None


def _language_part(culture: str) -> str:
    return culture.replace("_", "-").split("-", 1)[0].lower()


def pick_localized(
    values: Iterable[LocalizedValue] | LocalizedString | None,
    culture: str | None = None,
    fallbacks: Sequence[str] = DEFAULT_FALLBACK_CULTURES,
) -> str | None:
    """Pick the best value for ``culture`` from a localized list.

    Order: exact culture (case-insensitive), then the same language (``de-CH`` matches ``de``
    and vice versa), then each fallback culture the same way, then the first non-empty value.
    ``None`` only when there is no non-empty value at all: a caller that needs *some* label
    gets one, and "no value" stays distinguishable from "empty string".
    """
    if values is None:
        return None
    entries = [entry for entry in values if entry.value not in (None, "")]
    if not entries:
        return None
    for wanted in ([culture] if culture else []) + list(fallbacks):
        wanted_norm = wanted.replace("_", "-").lower()
        for entry in entries:
            if entry.culture and entry.culture.replace("_", "-").lower() == wanted_norm:
                return entry.value
        for entry in entries:
            if entry.culture and _language_part(entry.culture) == _language_part(wanted):
                return entry.value
    return entries[0].value


class LocalizedString(RootModel[list[LocalizedValue]]):
    """A Smint.io localized string: a list of ``{"culture", "value"}``; use :meth:`pick` to read it."""

    root: list[LocalizedValue] = Field(default_factory=list)

    def __iter__(self):  # type: ignore[override]  # iterate the entries, not pydantic fields
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def pick(self, culture: str | None = None, fallbacks: Sequence[str] = DEFAULT_FALLBACK_CULTURES) -> str | None:
        """The value for ``culture`` with fallback; see :func:`pick_localized`."""
        return pick_localized(self.root, culture, fallbacks)

    def cultures(self) -> list[str]:
        """The cultures present, in payload order."""
        return [entry.culture for entry in self.root if entry.culture]


# --------------------------------------------------------------------------- metadata elements


class MetadataElement(PartnerModel):
    """``{"key": "getty", "name": "Getty Images", "url": ...}``.

    ``key`` is optional because keyword elements carry a name only (api-notes §1.5).
    """

    key: str | None = None
    name: str | None = None
    url: str | None = None


class LocalizedMetadataElement(PartnerModel):
    """``{"culture": "en", "metadata_element": {...}}``: one metadata element in one culture."""

    culture: str | None = None
    metadata_element: MetadataElement


def metadata_keys(elements: Iterable[LocalizedMetadataElement] | None) -> list[str]:
    """The distinct keys of a localized metadata-element list, in first-seen order."""
    seen: dict[str, None] = {}
    for element in elements or ():
        key = element.metadata_element.key
        if key:
            seen.setdefault(key, None)
    return list(seen)


def metadata_names(
    elements: Iterable[LocalizedMetadataElement] | None,
    culture: str | None = None,
    fallbacks: Sequence[str] = DEFAULT_FALLBACK_CULTURES,
) -> list[str]:
    """Display names for ``culture`` (with fallback), one per key (or per name for key-less keywords)."""
    grouped: dict[str, list[LocalizedValue]] = {}
    for element in elements or ():
        item = element.metadata_element
        identity = item.key or item.name
        if not identity:
            continue
        grouped.setdefault(identity, []).append(LocalizedValue(culture=element.culture, value=item.name))
    names = (pick_localized(values, culture, fallbacks) for values in grouped.values())
    return [name for name in names if name]


def _to_key(item: Any) -> Any:
    """Accept ``"key"``, ``{"key": ...}`` or ``{"metadata_element": {"key": ...}}`` as a key."""
    if isinstance(item, dict):
        inner = item.get("metadata_element", item)
        if isinstance(inner, dict) and isinstance(inner.get("key"), str):
            return inner["key"]
    return item


def _keys_from_any(value: Any) -> Any:
    if value is None or not isinstance(value, list):
        return value
    return [_to_key(item) for item in value]


#: A list of metadata keys (license-term lists such as ``allowed_geographies``). Sourced as plain
#: key arrays; element objects are also accepted and reduced to their key, since the same keys
#: appear as elements in generic metadata. ``None`` stays ``None`` ("we do not know").
MetadataKeyList = Annotated[list[str], BeforeValidator(_keys_from_any)]
