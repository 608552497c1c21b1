"""A license term validated the fast way (one validator per term) equals the plain way (a
validator per key list and field, as the model was written before) — for the sandbox's generated
records as served, and for any key-list values, malformed ones included (the same errors then)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, field_validator

from contentops.models import LicensePurchaseTransaction, LicenseTerm
from contentops.models.common import LocalizedString, MetadataKeyList, PartnerModel, UtcDateTime, UtcEndOfDay
from contentops.models.smintio import _KEY_LISTS
from contentops_sandbox.smintio import seed

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 4, 18, tzinfo=UTC)


class PlainTerm(PartnerModel):
    """The term model as it was: ``MetadataKeyList`` fields, each with a validator of its own."""

    sequence_number: int | None = None
    name: LocalizedString | None = None
    exclusivities: MetadataKeyList | None = None
    allowed_usages: MetadataKeyList | None = None
    restricted_usages: MetadataKeyList | None = None
    allowed_sizes: MetadataKeyList | None = None
    restricted_sizes: MetadataKeyList | None = None
    allowed_placements: MetadataKeyList | None = None
    restricted_placements: MetadataKeyList | None = None
    allowed_distributions: MetadataKeyList | None = None
    restricted_distributions: MetadataKeyList | None = None
    allowed_geographies: MetadataKeyList | None = None
    restricted_geographies: MetadataKeyList | None = None
    allowed_industries: MetadataKeyList | None = None
    restricted_industries: MetadataKeyList | None = None
    allowed_languages: MetadataKeyList | None = None
    restricted_languages: MetadataKeyList | None = None
    usage_limits: MetadataKeyList | None = None
    valid_from: UtcDateTime | None = None
    valid_until: UtcEndOfDay | None = None
    to_be_used_until: UtcEndOfDay | None = None
    is_editorial_use: bool | None = None

    @field_validator(*_KEY_LISTS)
    @classmethod
    def _empty_is_not_stated(cls, value: list[str] | None) -> list[str] | None:
        return value or None


def outcome(model: type[PartnerModel], raw: Any) -> Any:
    """What validating ``raw`` gives: the values and which fields were set, or the errors."""
    try:
        term = model.model_validate(raw)
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors()]
    return term.model_dump(), term.model_fields_set


def generated_terms(count: int = 120) -> list[dict[str, Any]]:
    """The terms of the sandbox's generated records (its generator mode), decoded as served."""
    records = json.loads(json.dumps([seed.make_lpt(i, NOW, prefix="gen") for i in range(count)]))
    terms = [term for record in records for term in record.get("license_terms") or []]
    terms += [term for record in records for term in (record.get("offering") or {}).get("license_terms") or []]
    return terms


def test_generated_terms_validate_the_same_both_ways() -> None:
    terms = generated_terms()
    assert terms
    for raw in terms:
        assert outcome(LicenseTerm, raw) == outcome(PlainTerm, raw)


def test_generated_records_keep_their_terms_as_the_plain_way_reads_them() -> None:
    for index in range(60):
        raw = json.loads(json.dumps(seed.make_lpt(index, NOW, prefix="gen")))
        lpt = LicensePurchaseTransaction.model_validate(raw)
        plain = [PlainTerm.model_validate(term).model_dump() for term in raw.get("license_terms") or []]
        assert [term.model_dump() for term in lpt.license_terms or []] == plain


key = st.text(alphabet="abcdefgh_", min_size=0, max_size=6)
key_item = st.one_of(
    key,
    st.fixed_dictionaries({"key": key}),
    st.fixed_dictionaries({"metadata_element": st.fixed_dictionaries({"key": key, "name": key})}),
    st.fixed_dictionaries({"name": key}),  # an element without a key: malformed as a key
    st.integers(),
    st.none(),
)
key_list = st.one_of(st.none(), st.lists(key_item, max_size=4), key, st.integers())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=500),
    changes=st.dictionaries(st.sampled_from(_KEY_LISTS), key_list, max_size=5),
    dropped=st.sets(st.sampled_from(_KEY_LISTS), max_size=3),
)
def test_any_key_lists_validate_the_same_both_ways(index: int, changes: dict[str, Any], dropped: set[str]) -> None:
    record = json.loads(json.dumps(seed.make_lpt(index, NOW, prefix="gen")))
    raw = {**record["license_terms"][0], **changes}
    for name in dropped:
        raw.pop(name, None)
    served = json.dumps(raw)
    assert outcome(LicenseTerm, raw) == outcome(PlainTerm, raw)
    assert json.dumps(raw) == served  # the raw record is left as served (a quarantine keeps it)


def test_a_term_passed_as_a_model_is_taken_as_it_is() -> None:
    term = LicenseTerm(allowed_usages=[{"key": "advertising"}], restricted_usages=[])
    assert term.allowed_usages == ["advertising"]
    assert term.restricted_usages is None
    assert LicenseTerm.model_validate(term) is term
