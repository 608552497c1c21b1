"""The license feed's fast paths give what the plain ways give, for the sandbox's generated records
(its generator mode) and for malformed ones (the same errors and quarantines then):

- a license term validated with one validator per term equals the term model as it was written
  before (a validator per key list and per field);
- a feed page validated in one pass from its bytes parses as the page decoded and then validated
  record by record."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError, field_validator

from contentops.hooks.smintio import SmintioHook
from contentops.models import LicensePurchaseTransaction, LicenseTerm
from contentops.models.common import LocalizedString, MetadataKeyList, PartnerModel, UtcDateTime, UtcEndOfDay
from contentops.models.smintio import _KEY_LISTS
from contentops.models.smintio_feed import PageBytes, ValidatedPage, decode_transaction_page, validate_page
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


# --------------------------------------------------------------------------- a whole feed page


class Served:
    """A feed page's response as the hook's decoding sees it: its bytes, and their plain decoding."""

    def __init__(self, body: Any) -> None:
        self.content = json.dumps(body).encode()

    def json(self) -> Any:
        return json.loads(self.content)


def parsed(page: Any) -> tuple[Any, list[tuple[str, Any]]]:
    """The parsed page and what it quarantined (reason, record as served)."""
    quarantined: list[tuple[str, Any]] = []
    result = SmintioHook.parse_transaction_page(HOOK, page, on_invalid=lambda r, raw: quarantined.append((r, raw)))
    return result, quarantined


HOOK: Any = None  # parse_transaction_page reads nothing of the hook's connection
FIELDS: list[tuple[Any, ...]] = [
    ("uuid",),
    ("version",),
    ("state",),
    ("can_be_synced",),
    ("purchased_at",),
    ("last_updated_at",),
    ("current_downloads",),
    ("total_price_eur",),
    ("project_name",),
    ("content_element",),
    ("content_element", "uuid"),
    ("content_element", "created_at"),
    ("content_element", "is_editorial_use"),
    ("offering", "resolution"),
    ("offering", "license_terms"),
    ("license_terms",),
    ("license_terms", 0, "valid_from"),
    ("license_terms", 0, "valid_until"),
    ("license_terms", 0, "to_be_used_until"),
    ("license_terms", 0, "allowed_geographies"),
    ("license_terms", 0, "sequence_number"),
    ("license_download_constraints", "effective_max_users"),
]
json_value = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-3, max_value=2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(["", "true", "0", "1.5", "2026-03-31", "2026-03-31T10:00:00+02:00", "2026-03-31T10:00:00"]),
        st.text(max_size=6),
    ),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=4), inner, max_size=3)),
    max_leaves=6,
)


def put(record: Any, path: tuple[Any, ...], value: Any) -> None:
    for step in path[:-1]:
        if not isinstance(record, dict | list):
            return
        try:
            record = record[step]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(record, dict) or (isinstance(record, list) and isinstance(path[-1], int) and path[-1] < len(record)):
        record[path[-1]] = value


def page_of(records: list[Any]) -> dict[str, Any]:
    return {"count": len(records), "continuation_uuid": "cursor-2", "license_purchase_transactions": records}


def test_a_generated_page_takes_the_fast_path_and_parses_as_the_plain_way() -> None:
    records = json.loads(json.dumps([seed.make_lpt(i, NOW, prefix="gen") for i in range(100)]))
    decoded = decode_transaction_page(Served(page_of(records)))
    assert isinstance(validate_page(decoded), ValidatedPage)  # every generated record is valid: one pass
    fast, plain = parsed(decoded), parsed(Served(page_of(records)).json())
    assert fast == plain
    assert fast[0].transactions and fast[0].skipped  # some synced, some not (can_be_synced false)


def test_the_reader_reads_only_a_pages_head_and_leaves_its_records_to_the_processing() -> None:
    records = json.loads(json.dumps([seed.make_lpt(i, NOW, prefix="gen") for i in range(3)]))
    records[1]["purchased_at"] = "tomorrow"  # a malformed record does not stop the reader
    decoded = decode_transaction_page(Served(page_of(records)))
    assert isinstance(decoded, PageBytes)
    assert (decoded.head.count, decoded.head.continuation_uuid) == (3, "cursor-2")
    result, quarantined = parsed(decoded)
    assert result.invalid == 1 and len(quarantined) == 1 and result.continuation_uuid == "cursor-2"


def test_a_page_whose_head_does_not_read_comes_decoded_as_before() -> None:
    served = Served({"count": "many", "license_purchase_transactions": []})
    assert decode_transaction_page(served) == served.json()


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.integers(min_value=0, max_value=2000),
    changes=st.lists(st.tuples(st.integers(min_value=0, max_value=4), st.sampled_from(FIELDS), json_value), max_size=4),
    replaced=st.dictionaries(st.integers(min_value=0, max_value=4), st.one_of(st.none(), st.text(max_size=3))),
)
def test_any_page_parses_the_same_fast_or_plain(
    start: int, changes: list[tuple[int, tuple[Any, ...], Any]], replaced: dict[int, Any]
) -> None:
    records: list[Any] = json.loads(json.dumps([seed.make_lpt(start + i, NOW, prefix="gen") for i in range(5)]))
    for index, path, value in changes:
        put(records[index], path, value)
    for index, value in replaced.items():
        records[index] = value
    served = Served(page_of(records))
    assert parsed(decode_transaction_page(served)) == parsed(served.json())


# --------------------------------------------------------------------------- dates: one call per model


class PlainDates(PartnerModel):
    """A transaction's dates as they were validated before: a validator per field."""

    collection_content_element_created_at: UtcDateTime | None = None
    purchased_at: UtcDateTime | None = None
    completed_at: UtcDateTime | None = None
    created_at: UtcDateTime | None = None
    last_updated_at: UtcDateTime | None = None


LPT_DATES = list(PlainDates.model_fields)
TERM_DATES = ["valid_from", "valid_until", "to_be_used_until"]
date_value = st.one_of(
    st.none(),
    st.sampled_from(
        [
            "2026-03-31",  # a bare date: midnight, or the end of that day on an end field
            " 2026-03-31 ",
            "2026-02-30",  # a bare date that is no date: the same error as before
            "2026-03-31T10:00:00",  # naive: taken as UTC
            "2026-03-31T10:00:00Z",
            "2026-03-31T10:00:00.123456+00:00",
            "2026-03-31T23:30:00+02:00",  # an offset: converted (the day changes)
            "2026-03-31T00:30:00-05:30",
            "2026-03-31 10:00",
            "31/03/2026",
            "tomorrow",
            "",
            "2026-13-01T00:00:00Z",
        ]
    ),
    st.integers(min_value=-(2**31), max_value=2**33),  # epoch seconds (or milliseconds)
    st.floats(min_value=-1e10, max_value=1e10, allow_nan=False),
    st.booleans(),
    st.datetimes(timezones=st.one_of(st.none(), st.timezones())),
    st.dates(),
)


def dates_outcome(model: type[Any], raw: Any, names: list[str]) -> Any:
    """The dates validating ``raw`` gives — as ``repr`` (so the time zone object counts too) — or
    the errors about them."""
    try:
        validated = model.model_validate(raw)
    except ValidationError as exc:
        return [(e["type"], e["loc"], e["msg"]) for e in exc.errors() if e["loc"][-1] in names]
    return {name: repr(getattr(validated, name)) for name in names}


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=500),
    dates=st.fixed_dictionaries({}, optional=dict.fromkeys(LPT_DATES, date_value)),
)
def test_a_transactions_dates_validate_as_a_validator_per_field_did(index: int, dates: dict[str, Any]) -> None:
    record = {**json.loads(json.dumps(seed.make_lpt(index, NOW, prefix="gen"))), **dates}
    expected = dates_outcome(PlainDates, {name: record.get(name) for name in LPT_DATES}, LPT_DATES)
    assert dates_outcome(LicensePurchaseTransaction, record, LPT_DATES) == expected
    if not isinstance(expected, list):  # valid: every date aware, in UTC itself
        lpt = LicensePurchaseTransaction.model_validate(record)
        assert all(getattr(lpt, name) is None or getattr(lpt, name).tzinfo is UTC for name in LPT_DATES)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(min_value=0, max_value=500),
    dates=st.fixed_dictionaries({}, optional=dict.fromkeys(TERM_DATES, date_value)),
)
def test_a_terms_dates_validate_as_a_validator_per_field_did(index: int, dates: dict[str, Any]) -> None:
    raw = {**json.loads(json.dumps(seed.make_lpt(index, NOW, prefix="gen")))["license_terms"][0], **dates}
    assert dates_outcome(LicenseTerm, raw, TERM_DATES) == dates_outcome(PlainTerm, raw, TERM_DATES)


@pytest.mark.parametrize(
    ("served", "valid_until"),
    [
        ("2026-03-31", datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=UTC)),  # through that whole day
        ("2026-03-31T10:00:00", datetime(2026, 3, 31, 10, tzinfo=UTC)),  # naive: UTC
        ("2026-03-31T10:00:00Z", datetime(2026, 3, 31, 10, tzinfo=UTC)),
        ("2026-04-01T01:30:00+02:00", datetime(2026, 3, 31, 23, 30, tzinfo=UTC)),
    ],
)
def test_a_term_read_from_the_feeds_bytes_has_its_dates_in_utc(served: str, valid_until: datetime) -> None:
    record = json.loads(json.dumps(seed.make_lpt(7, NOW, prefix="gen")))
    record["license_terms"][0]["valid_until"] = served
    page = ValidatedPage.model_validate_json(json.dumps(page_of([record])))
    (lpt,) = page.license_purchase_transactions
    assert lpt.license_terms is not None
    assert lpt.license_terms[0].valid_until == valid_until and lpt.license_terms[0].valid_until.tzinfo is UTC


def test_a_date_that_is_no_date_is_quarantined_with_the_reason_it_had() -> None:
    record = json.loads(json.dumps(seed.make_lpt(8, NOW, prefix="gen")))
    record["purchased_at"] = "tomorrow"
    record["license_terms"][0]["valid_until"] = "2026-02-30"
    served = Served(page_of([record]))
    result, quarantined = parsed(decode_transaction_page(served))
    assert result.invalid == 1 and not result.transactions
    ((reason, raw),) = quarantined
    assert raw == record
    assert reason == (
        "invalid license purchase transaction: purchased_at: Input should be a valid datetime or date, "
        "input is too short; license_terms.0.valid_until: Value error, day is out of range for month"
    )
