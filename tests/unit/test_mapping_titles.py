"""contentops.mapping.titles: title metadata and tags, format pairing, rights gate and summary,
the matching rule, and latest-vs-outdated selection — table tests and properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contentops.mapping.titles import (
    DEFAULT_MATCH_RULES,
    BookFormat,
    Contributor,
    FormatPairing,
    MatchRule,
    Milestone,
    PairingRules,
    PublicationPhase,
    RevisionKind,
    Subject,
    TitleMappingError,
    TitleProduct,
    TitleRecord,
    approaching_publication,
    asset_format,
    asset_isbns,
    attachment_version,
    build_attachment,
    format_of,
    match_assets,
    metadata_update,
    normalize_isbn,
    pair_with_format,
    pairing_reference,
    parse_match_rules,
    publication_phase,
    push_version,
    resource_reference,
    rights_gate,
    rights_summary,
    select_latest,
    tag_changes,
    title_from_work,
    title_metadata,
    title_tags,
    usage_rights_record,
    valid_products,
)
from contentops.models.domain import ReasonCode, UsageRights, Verdict
from contentops.models.smintio import ApprovalStatus, Asset, LicenseTerm

pytestmark = pytest.mark.unit

AS_OF = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
PRINT_ISBN = "9781900000017"
EBOOK_ISBN = "9781900000024"
AUDIO_ISBN = "9781900000031"
OTHER_ISBN = "9781900000048"


def _isbn13(body12: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body12))
    return body12 + str((10 - total % 10) % 10)


def make_title(**changes: Any) -> TitleRecord:
    fields: dict[str, Any] = {
        "work_id": "w-1",
        "revision": "r1",
        "title": "The Salt Road",
        "subtitle": "A Novel",
        "reference": "SALT-01",
        "contributors": (
            Contributor(name="Ada Quill", role="A01", role_name="By (author)", sequence=1),
            Contributor(name="Ben Marsh", role="B06", role_name="Translated by", sequence=2),
        ),
        "imprint": "Harbour Books",
        "subjects": (Subject(code="fic019000", description="FICTION / Literary"),),
        "campaign": "Spring Fiction 2027",
        "milestones": (
            Milestone(name="launch", on=date(2027, 3, 1)),
            Milestone(name="cover reveal", on=date(2026, 12, 1)),
        ),
        "products": (
            TitleProduct(
                product_id="p-print", isbn=PRINT_ISBN, format=BookFormat.PRINT, publication_date=date(2027, 3, 1)
            ),
            TitleProduct(
                product_id="p-ebook", isbn=EBOOK_ISBN, format=BookFormat.EBOOK, publication_date=date(2027, 2, 15)
            ),
            TitleProduct(
                product_id="p-audio", isbn=AUDIO_ISBN, format=BookFormat.AUDIO, publication_date=date(2027, 4, 1)
            ),
        ),
        "territories": ("gb", "ie"),
    }
    fields.update(changes)
    return TitleRecord(**fields)


def make_asset(asset_id: str = "a-1", **changes: Any) -> Asset:
    body: dict[str, Any] = {"id": asset_id, "approval_status": "approved", "metadata": {}, "tags": []}
    body.update(changes)
    return Asset.model_validate(body)


def make_rights(**term: Any) -> UsageRights:
    fields: dict[str, Any] = {
        "sequence_number": 1,
        "allowed_geographies": ["worldwide"],
        "restricted_geographies": [],
        "allowed_distributions": ["any"],
        "restricted_distributions": [],
        "is_editorial_use": False,
    }
    fields.update(term)
    return UsageRights(
        asset_id="a-1",
        license_purchase_transaction_uuid="lpt-1",
        provider="getty",
        license_state="completed",
        terms=(LicenseTerm.model_validate(fields),),
    )


# =========================================================================== ISBNs and formats


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("9781900000017", "9781900000017"),
        ("978-1-900000-01-7", "9781900000017"),
        (" 978 1900000017 ", "9781900000017"),
        ("0-306-40615-2", "9780306406157"),  # ISBN-10 converted
        ("080442957X", "9780804429573"),  # check digit X
        ("9781900000018", None),  # wrong check digit
        ("0306406153", None),  # wrong ISBN-10 check digit
        ("No ISBN", None),  # Consonance's REST sample
        ("", None),
        (None, None),
        ("1234567890123", None),  # 13 digits, not a Bookland prefix
    ],
)
def test_normalize_isbn(raw: str | None, expected: str | None) -> None:
    assert normalize_isbn(raw) == expected


@given(st.from_regex(r"97[89][0-9]{9}", fullmatch=True), st.integers(min_value=0, max_value=9))
def test_isbn_check_digit_is_enforced(body: str, digit: int) -> None:
    valid = _isbn13(body)
    candidate = body + str(digit)
    assert normalize_isbn(candidate) == (valid if candidate == valid else None)
    hyphenated = "-".join([valid[:3], valid[3:4], valid[4:9], valid[9:12], valid[12]])
    assert normalize_isbn(hyphenated) == valid
    assert normalize_isbn(normalize_isbn(valid)) == valid  # idempotent


@pytest.mark.parametrize(
    ("product_type", "form", "expected"),
    [
        ("PhysicalBookProduct", None, BookFormat.PRINT),
        ("ElectronicBookProduct", None, BookFormat.EBOOK),
        ("ElectronicAudioProduct", None, BookFormat.AUDIO),
        ("PhysicalAudioProduct", None, BookFormat.AUDIO),
        ("GenericProduct", None, None),
        (None, "BC", BookFormat.PRINT),
        (None, "BB", BookFormat.PRINT),
        (None, "EA", BookFormat.EBOOK),
        (None, "DG", BookFormat.EBOOK),
        (None, "AJ", BookFormat.AUDIO),
        (None, "ZZ", None),
        (None, None, None),
    ],
)
def test_format_of_product(product_type: str | None, form: str | None, expected: BookFormat | None) -> None:
    assert format_of(product_type, form) is expected


def test_products_with_an_invalid_isbn_make_the_title_unusable() -> None:
    good = TitleProduct(product_id="p", isbn="978-1-900000-01-7")
    assert valid_products([good])[0].isbn == PRINT_ISBN
    with pytest.raises(TitleMappingError, match="invalid ISBN"):
        valid_products([good, TitleProduct(product_id="q", isbn="9781900000018")])


# =========================================================================== publication phase


@pytest.mark.parametrize(
    ("publication", "as_of", "expected"),
    [
        (None, date(2026, 11, 25), PublicationPhase.UNSCHEDULED),
        (date(2027, 6, 1), date(2026, 11, 25), PublicationPhase.ANNOUNCED),
        (date(2027, 2, 23), date(2026, 11, 25), PublicationPhase.PREPUBLICATION),  # exactly 90 days ahead
        (date(2027, 2, 24), date(2026, 11, 25), PublicationPhase.ANNOUNCED),  # 91 days ahead
        (date(2026, 11, 25), date(2026, 11, 25), PublicationPhase.PUBLISHED),
        (date(2020, 1, 1), date(2026, 11, 25), PublicationPhase.PUBLISHED),
    ],
)
def test_publication_phase(publication: date | None, as_of: date, expected: PublicationPhase) -> None:
    assert publication_phase(publication, as_of, 90) is expected


def test_approaching_publication_looks_ahead_from_the_run_date_only() -> None:
    title = make_title()  # first edition out 2027-02-15
    assert approaching_publication(title, AS_OF, 90)
    assert not approaching_publication(title, AS_OF, 30)
    assert not approaching_publication(title, datetime(2027, 5, 1, tzinfo=UTC), 90)  # all published already


# =========================================================================== metadata and tags (CON-4, CON-7)


def test_title_metadata_carries_every_title_field_for_an_edition() -> None:
    title = make_title(edition_number=2)
    print_edition = title.product_for(BookFormat.PRINT)
    metadata = title_metadata(title, print_edition, AS_OF, lead_days=90)
    assert metadata["book_title"] == "The Salt Road" and metadata["book_subtitle"] == "A Novel"
    assert metadata["authors"] == ["Ada Quill"]
    assert [c["name"] for c in metadata["contributors"]] == ["Ada Quill", "Ben Marsh"]
    assert metadata["imprint"] == "Harbour Books"
    assert metadata["format"] == "print" and metadata["isbn"] == PRINT_ISBN
    assert metadata["publication_date"] == "2027-03-01"
    assert metadata["bisac_subjects"] == [{"code": "FIC019000", "description": "FICTION / Literary"}]
    assert metadata["campaign_milestones"] == [
        {"name": "cover reveal", "date": "2026-12-01"},
        {"name": "launch", "date": "2027-03-01"},
    ]
    assert metadata["publication_phase"] == "announced"  # 96 days ahead of a 90-day window
    assert metadata["consonance_work_id"] == "w-1" and metadata["title_revision"] == "r1"
    assert metadata["edition_number"] == 2


def test_title_metadata_carries_the_public_price_and_print_delivery_when_known() -> None:
    print_edition = TitleProduct(product_id="p-print", isbn=PRINT_ISBN, format=BookFormat.PRINT, rrp_gbp=16.99)
    title = make_title(products=(print_edition,), print_delivery=date(2027, 2, 20))
    metadata = title_metadata(title, print_edition, AS_OF, lead_days=90)
    assert metadata["rrp_gbp"] == 16.99 and metadata["print_delivery_date"] == "2027-02-20"
    whole = title_metadata(title, None, AS_OF, lead_days=90)
    assert "rrp_gbp" not in whole and whole["print_delivery_date"] == "2027-02-20"  # a price is per edition
    assert "print_delivery_date" not in title_metadata(make_title(), None, AS_OF, lead_days=90)


def test_title_metadata_for_the_whole_title_never_claims_one_edition() -> None:
    metadata = title_metadata(make_title(), None, AS_OF, lead_days=90)
    assert "format" not in metadata and "isbn" not in metadata
    assert metadata["isbns"] == [PRINT_ISBN, EBOOK_ISBN, AUDIO_ISBN]
    assert metadata["formats"] == ["print", "ebook", "audio"]
    assert metadata["publication_phase"] == "prepublication"  # the ebook is out in 82 days


def test_title_tags_name_book_isbn_imprint_author_subject_campaign_and_format() -> None:
    title = make_title()
    assert title_tags(title, title.product_for(BookFormat.EBOOK)) == [
        "book:the-salt-road",
        f"isbn:{EBOOK_ISBN}",
        "imprint:harbour-books",
        "author:ada-quill",
        "bisac:FIC019000",
        "campaign:spring-fiction-2027",
        "format:ebook",
    ]
    whole = title_tags(title)
    assert {f"isbn:{PRINT_ISBN}", f"isbn:{EBOOK_ISBN}", f"isbn:{AUDIO_ISBN}"} <= set(whole)
    assert not any(tag.startswith("format:") for tag in whole)


def test_a_revision_removes_only_the_tags_we_pushed_before() -> None:
    old = make_title()
    asset = make_asset(tags=["brand", "isbn:" + PRINT_ISBN])
    first = metadata_update(old, asset, None, AS_OF, lead_days=90)
    after_first = make_asset(tags=[*asset.tags, *first.tags_add], metadata={**asset.metadata, **first.metadata})
    renamed = make_title(revision="r2", imprint="Lighthouse Press", campaign=None)
    second = metadata_update(renamed, after_first, None, AS_OF, lead_days=90)
    assert set(second.tags_remove) == {"imprint:harbour-books", "campaign:spring-fiction-2027"}
    assert "imprint:lighthouse-press" in second.tags_add
    assert "brand" not in second.tags_remove
    assert second.metadata["title_tags"] == title_tags(renamed)


tag = st.sampled_from(["a", "b", "c", "d", "e", "f", "g"])


@given(st.lists(tag), st.lists(tag), st.lists(tag))
def test_tag_changes_properties(current: list[str], previous: list[str], wanted: list[str]) -> None:
    add, remove = tag_changes(current, previous, wanted)
    result = [t for t in current if t not in remove] + [t for t in add if t not in current]
    assert set(wanted) <= set(result)  # everything wanted is there
    assert not set(remove) & set(wanted)  # never removes what is wanted
    assert set(remove) <= set(previous)  # only what we pushed before
    assert set(current) - set(previous) <= set(result)  # foreign tags untouched
    assert tag_changes(result, wanted, wanted) == ([], [])  # applying it again changes nothing


def test_push_version_changes_with_the_revision_and_the_publication_phase_only() -> None:
    title = make_title()
    product = title.product_for(BookFormat.PRINT)
    same_phase_later = AS_OF + timedelta(days=2)
    assert push_version(title, product, AS_OF, lead_days=90) == push_version(
        title, product, same_phase_later, lead_days=90
    )
    assert push_version(title, product, AS_OF, lead_days=90) != push_version(
        title, product, AS_OF + timedelta(days=10), lead_days=90
    )  # entered the pre-publication window
    assert push_version(title, product, AS_OF, lead_days=90) != push_version(
        make_title(revision="r2"), product, AS_OF, lead_days=90
    )


# =========================================================================== pairing (CON-5)


@pytest.mark.parametrize(
    ("asset_fields", "expected_format", "expected_isbn", "release"),
    [
        ({"metadata": {"asset_role": "jacket"}}, BookFormat.PRINT, PRINT_ISBN, date(2027, 3, 1)),
        ({"categories": ["cover"]}, BookFormat.EBOOK, EBOOK_ISBN, date(2027, 2, 15)),
        ({"metadata": {"asset_role": "audio_thumbnail"}}, BookFormat.AUDIO, AUDIO_ISBN, date(2027, 4, 1)),
        ({"metadata": {"asset_role": "author_photo"}}, None, None, date(2027, 2, 15)),
        ({"metadata": {"asset_role": "promo", "format": "Audiobook"}}, BookFormat.AUDIO, AUDIO_ISBN, date(2027, 4, 1)),
        ({"metadata": {"asset_role": "cover", "format": "print"}}, BookFormat.PRINT, PRINT_ISBN, date(2027, 3, 1)),
    ],
)
def test_assets_pair_with_their_edition_and_its_release_timing(
    asset_fields: dict[str, Any], expected_format: BookFormat | None, expected_isbn: str | None, release: date
) -> None:
    pairing = pair_with_format(make_title(), make_asset(**asset_fields))
    assert pairing is not None
    assert pairing.format is expected_format and pairing.isbn == expected_isbn
    assert pairing.release_date == release
    assert pairing.announce_from == release - timedelta(days=90)


def test_an_asset_for_a_format_the_title_lacks_pairs_with_nothing() -> None:
    print_only = make_title(products=(TitleProduct(product_id="p", isbn=PRINT_ISBN, format=BookFormat.PRINT),))
    assert pair_with_format(print_only, make_asset(metadata={"asset_role": "audio_thumbnail"})) is None
    assert asset_format(make_asset(metadata={"asset_role": "promo"})) is None


def test_the_earliest_edition_of_a_format_sets_the_timing() -> None:
    title = make_title(
        products=(
            TitleProduct(product_id="pb", format=BookFormat.PRINT, publication_date=date(2027, 9, 1)),
            TitleProduct(product_id="hb", format=BookFormat.PRINT, publication_date=date(2027, 3, 1)),
        )
    )
    pairing = pair_with_format(title, make_asset(metadata={"asset_role": "jacket"}))
    assert pairing is not None and pairing.product_id == "hb"


# =========================================================================== rights (CON-1, CON-6)


def _pairing(title: TitleRecord, role: str) -> FormatPairing:
    pairing = pair_with_format(title, make_asset(metadata={"asset_role": role}))
    assert pairing is not None
    return pairing


@pytest.mark.parametrize(
    ("term", "role", "verdict", "code"),
    [
        ({}, "jacket", Verdict.ALLOWED, None),
        ({"allowed_geographies": ["europe"]}, "jacket", Verdict.ALLOWED, None),  # gb + ie are in europe
        (
            {"allowed_geographies": ["europe"], "restricted_geographies": ["gb"]},
            "jacket",
            Verdict.REFUSED,
            ReasonCode.REGION_RESTRICTED,
        ),
        ({"allowed_geographies": ["dach"]}, "jacket", Verdict.REFUSED, ReasonCode.REGION_NOT_ALLOWED),
        ({"allowed_distributions": ["online"]}, "jacket", Verdict.REFUSED, ReasonCode.CHANNEL_NOT_ALLOWED),
        ({"allowed_distributions": ["online"]}, "cover", Verdict.ALLOWED, None),  # ebook is online
        # valid today, ended before the print edition is released
        ({"valid_until": "2027-01-31"}, "jacket", Verdict.REFUSED, ReasonCode.EXPIRED),
        ({"valid_until": "2020-01-31"}, "cover", Verdict.REFUSED, ReasonCode.EXPIRED),
        ({"allowed_geographies": None}, "jacket", Verdict.UNKNOWN, ReasonCode.UNKNOWN_REGION),
        ({"is_editorial_use": True}, "jacket", Verdict.REFUSED, ReasonCode.EDITORIAL_ONLY),
        # a title-wide asset must be usable on every edition's channel
        ({"allowed_distributions": ["online"]}, "author_photo", Verdict.REFUSED, ReasonCode.CHANNEL_NOT_ALLOWED),
    ],
)
def test_rights_gate(term: dict[str, Any], role: str, verdict: Verdict, code: ReasonCode | None) -> None:
    title = make_title()
    decision = rights_gate(make_rights(**term), title, _pairing(title, role), AS_OF, asset_id="a-1")
    assert decision.verdict is verdict, decision.summary()
    if code is not None:
        assert code in decision.codes


def test_rights_gate_without_a_license_or_territories() -> None:
    title = make_title()
    unknown = rights_gate(None, title, _pairing(title, "jacket"), AS_OF)
    assert unknown.verdict is Verdict.UNKNOWN and ReasonCode.NO_LICENSE_TERMS in unknown.codes
    nowhere = make_title(territories=())  # territories not stated: must be cleared worldwide
    europe_only = make_rights(allowed_geographies=["europe"])
    assert rights_gate(europe_only, nowhere, _pairing(nowhere, "jacket"), AS_OF).verdict is Verdict.REFUSED
    assert rights_gate(make_rights(), nowhere, _pairing(nowhere, "jacket"), AS_OF).allowed


def test_edition_territories_win_over_the_title_territories() -> None:
    title = make_title(
        products=(TitleProduct(product_id="us", isbn=PRINT_ISBN, format=BookFormat.PRINT, territories=("us", "ca")),)
    )
    europe_only = make_rights(allowed_geographies=["europe"])
    decision = rights_gate(europe_only, title, _pairing(title, "jacket"), AS_OF)
    assert decision.verdict is Verdict.REFUSED and ReasonCode.REGION_NOT_ALLOWED in decision.codes


def test_rights_summary_states_terms_territories_and_expiry() -> None:
    summary = rights_summary(
        make_rights(allowed_geographies=["europe", "us"], valid_until="2027-06-30", usage_limits=["print_run_50000"]),
        license_version=3,
    )
    assert summary["license"] == "lpt-1" and summary["license_version"] == 3 and summary["known"]
    assert summary["territories"] == ["europe", "us"]
    assert summary["expires"].startswith("2027-06-30")
    assert summary["terms"][0]["usage_limits"] == ["print_run_50000"]
    unknown = rights_summary(make_rights(allowed_geographies=None))
    assert unknown["territories"] is None  # unknown stays unknown, never "everywhere"
    assert rights_summary(None) == {"license": None, "known": False}


def test_attachment_version_follows_content_not_asset_metadata() -> None:
    title = make_title()
    asset = make_asset(metadata={"asset_role": "jacket"}, license_purchase_transaction_uuid="lpt-1")
    pairing = _pairing(title, "jacket")
    base = attachment_version(build_attachment(title, asset, pairing, make_rights(), license_version=1))
    retagged = make_asset(
        metadata={"asset_role": "jacket", "book_title": "x"}, license_purchase_transaction_uuid="lpt-1", tags=["t"]
    )
    assert attachment_version(build_attachment(title, retagged, pairing, make_rights(), license_version=1)) == base
    renewed = attachment_version(build_attachment(title, asset, pairing, make_rights(), license_version=2))
    moved = make_title(
        products=(
            TitleProduct(
                product_id="p-print", isbn=PRINT_ISBN, format=BookFormat.PRINT, publication_date=date(2027, 5, 1)
            ),
        )
    )
    later = attachment_version(
        build_attachment(moved, asset, _pairing(moved, "jacket"), make_rights(), license_version=1)
    )
    assert len({base, renewed, later}) == 3
    attachment = build_attachment(title, asset, pairing, make_rights(), match_rule="isbn")
    assert attachment.slot == "w-1:print" and attachment.role == "jacket"
    assert attachment.payload()["release_date"] == "2027-03-01"


# =========================================================================== matching


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, DEFAULT_MATCH_RULES),
        ("isbn", (MatchRule.ISBN,)),
        ("ledger_xref, ISBN", (MatchRule.LEDGER_XREF, MatchRule.ISBN)),
        (["title_ref", "isbn", "title_ref"], (MatchRule.TITLE_REF, MatchRule.ISBN)),
    ],
)
def test_parse_match_rules(raw: Any, expected: tuple[MatchRule, ...]) -> None:
    assert parse_match_rules(raw) == expected


@pytest.mark.parametrize("raw", ["", " , ", [], "isbn,by_colour"])
def test_parse_match_rules_refuses_nothing_or_typos(raw: Any) -> None:
    with pytest.raises(ValueError, match="rule"):
        parse_match_rules(raw)


def test_match_assets_by_each_rule_in_order() -> None:
    title = make_title()
    assets = [
        make_asset("by-meta", metadata={"isbn": "978-1-900000-03-1"}),
        make_asset("by-tag", tags=[f"isbn:{PRINT_ISBN}"]),
        make_asset("by-ref", metadata={"title_ref": "SALT-01"}),
        make_asset("by-work", tags=["title-ref:w-1"]),
        make_asset("by-xref"),
        make_asset("both", metadata={"consonance_work_id": "w-1", "isbn": EBOOK_ISBN}),
        make_asset("other-title", metadata={"isbn": OTHER_ISBN, "title_ref": "OTHER"}),
        make_asset("bad-isbn", metadata={"isbn": "9781900000018"}),
    ]
    matches = {m.asset.id: m for m in match_assets(title, assets, xref_asset_ids={"by-xref"})}
    assert set(matches) == {"by-meta", "by-tag", "by-ref", "by-work", "by-xref", "both"}
    assert matches["by-meta"].rule is MatchRule.ISBN and matches["by-meta"].product.format is BookFormat.AUDIO
    assert matches["by-ref"].rule is MatchRule.TITLE_REF and matches["by-ref"].product is None
    assert matches["by-xref"].rule is MatchRule.LEDGER_XREF
    assert matches["both"].rule is MatchRule.ISBN  # the first rule in order claims it
    reordered = {m.asset.id: m.rule for m in match_assets(title, assets, (MatchRule.TITLE_REF, MatchRule.ISBN))}
    assert reordered["both"] is MatchRule.TITLE_REF
    assert "by-xref" not in reordered  # a rule left out matches nothing
    only_isbn = {m.asset.id for m in match_assets(title, assets, (MatchRule.ISBN,))}
    assert only_isbn == {"by-meta", "by-tag", "both"}


def test_asset_isbns_reads_metadata_lists_and_tags() -> None:
    asset = make_asset(metadata={"isbns": [PRINT_ISBN, "junk"], "isbn": None}, tags=["isbn:978-1-900000-02-4"])
    assert asset_isbns(asset) == {PRINT_ISBN, EBOOK_ISBN}


@given(
    st.lists(
        st.tuples(
            st.sampled_from([PRINT_ISBN, OTHER_ISBN, None]),
            st.sampled_from(["w-1", "w-2", None]),
            st.booleans(),
        ),
        max_size=12,
    ),
    st.permutations(list(MatchRule)),
)
def test_every_asset_is_matched_at_most_once_and_only_for_its_title(
    specs: list[tuple[str | None, str | None, bool]], rules: list[MatchRule]
) -> None:
    assets, xrefs = [], set()
    for n, (isbn, ref, xref) in enumerate(specs):
        metadata = {k: v for k, v in (("isbn", isbn), ("title_ref", ref)) if v}
        assets.append(make_asset(f"a{n}", metadata=metadata))
        if xref:
            xrefs.add(f"a{n}")
    matches = match_assets(make_title(), assets, rules, xref_asset_ids=xrefs)
    ids = [m.asset.id for m in matches]
    assert len(ids) == len(set(ids))
    for match in matches:
        n = int(match.asset.id[1:])
        isbn, ref, xref = specs[n]
        claims = {MatchRule.ISBN: isbn == PRINT_ISBN, MatchRule.TITLE_REF: ref == "w-1", MatchRule.LEDGER_XREF: xref}
        assert claims[match.rule]
        assert not any(claims[r] for r in rules[: rules.index(match.rule)])  # no earlier rule claimed it
    unmatched = set(range(len(specs))) - {int(i[1:]) for i in ids}
    for n in unmatched:
        isbn, ref, xref = specs[n]
        assert isbn != PRINT_ISBN and ref != "w-1" and not xref


# =========================================================================== latest vs outdated (CON-8)


def _dated(asset_id: str, role: str, days_ago: int, status: str = "approved", **extra: Any) -> Asset:
    metadata = {"asset_role": role, **extra.pop("metadata", {})}
    return make_asset(
        asset_id, approval_status=status, created_at=AS_OF - timedelta(days=days_ago), metadata=metadata, **extra
    )


def test_select_latest_retires_only_older_approved_assets_of_singular_slots() -> None:
    assets = [
        _dated("jacket-old", "jacket", 400),
        _dated("jacket-new", "jacket", 5),
        _dated("jacket-draft", "jacket", 1, status="draft"),  # newer, but not approved: ignored
        _dated("cover-1", "cover", 300),
        _dated("photo-old", "author_photo", 900),
        _dated("photo-new", "author_photo", 30),
        _dated("promo-1", "promo", 400),
        _dated("promo-2", "promo", 5),  # plural role: both stay
        _dated("jacket-retired", "jacket", 800, status="retired"),
        _dated("jacket-var", "jacket", 900, master_asset_id="jacket-new"),  # a derivative: not competing
    ]
    refresh = select_latest(assets)
    assert refresh.latest == ("cover-1", "jacket-new", "photo-new")
    assert refresh.outdated == {"jacket-old": "jacket-new", "photo-old": "photo-new"}


def test_the_edition_outranks_creation_time() -> None:
    older_but_second_edition = _dated("j2", "jacket", 100, metadata={"edition_number": 2})
    newer_first_edition = _dated("j1", "jacket", 1, metadata={"edition_number": "1"})
    refresh = select_latest([newer_first_edition, older_but_second_edition])
    assert refresh.outdated == {"j1": "j2"}


def test_different_formats_do_not_compete() -> None:
    refresh = select_latest(
        [
            _dated("c-ebook", "cover", 10),
            _dated("c-print", "cover", 300, metadata={"format": "print"}),
        ]
    )
    assert refresh.outdated == {}


@settings(max_examples=60)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["jacket", "cover", "author_photo", "promo", "stock"]),
            st.sampled_from(["approved", "approved", "draft", "in_review", "retired"]),
            st.integers(min_value=0, max_value=50),
        ),
        max_size=15,
    )
)
def test_select_latest_properties(specs: list[tuple[str, str, int]]) -> None:
    assets = [_dated(f"a{n}", role, days, status=status) for n, (role, status, days) in enumerate(specs)]
    by_id = {a.id: a for a in assets}
    refresh = select_latest(assets)
    assert not set(refresh.latest) & set(refresh.outdated)
    rules = PairingRules()
    for old, new in refresh.outdated.items():
        assert by_id[old].approval_status is ApprovalStatus.APPROVED
        assert by_id[new].approval_status is ApprovalStatus.APPROVED
        assert by_id[old].metadata["asset_role"] == by_id[new].metadata["asset_role"] in rules.singular_roles
        assert new in refresh.latest
    approved_singular = {
        a.id
        for a in assets
        if a.approval_status is ApprovalStatus.APPROVED and a.metadata["asset_role"] in rules.singular_roles
    }
    assert set(refresh.latest) | set(refresh.outdated) == approved_singular
    # one latest per slot
    assert len({by_id[i].metadata["asset_role"] for i in refresh.latest}) == len(refresh.latest)


# =========================================================================== from a Consonance work


def _work_payload(**changes: Any) -> dict[str, Any]:
    """A work as Consonance's GraphQL API sends it (camelCase, products inline)."""

    def product(pid: str, typename: str, form: str, isbn: str, **extra: Any) -> dict[str, Any]:
        return {
            "id": pid,
            "__typename": typename,
            "fullTitle": "The Salt Road",
            "isbn": {"isbn13": isbn},
            "publicationDate": "2027-03-01",
            "onix21ProductFormCode": form,
            "onixPublishingStatusCode": "02",
            "inHouseEdition": {"name": "Hardback", "code": "HB"},
            **extra,
        }

    work: dict[str, Any] = {
        "id": 1001,
        "title": "The Salt Road",
        "subtitle": "A Novel",
        "editionNumber": 1,
        "imprint": {"id": "1", "name": "Harbour Books"},
        "updatedAt": "2026-11-24T10:00:00Z",
        "contributions": [
            {
                "sequenceNumber": 2,
                "onixContributorRoleCode": "A12",
                "onixContributorRole": {"code": "A12", "description": "Illustrated by"},
                "contributor": {"__typename": "Person", "name": "Ben Marsh"},
            },
            {
                "sequenceNumber": 1,
                "onixContributorRoleCode": "A01",
                "onixContributorRole": {"code": "A01", "description": "By (author)"},
                "contributor": {"__typename": "Person", "name": "Ada Quill"},
            },
        ],
        "subjectCodes": [
            {"scheme": "BISAC", "code": "FIC019000", "description": "FICTION / Literary", "main": True},
            {"scheme": "THEMA", "code": "FB", "description": "Fiction", "main": True},
        ],
        "lifecycleEvents": [],
        "products": [
            product("501", "PhysicalBookProduct", "BB", PRINT_ISBN),
            product("502", "ElectronicBookProduct", "DG", EBOOK_ISBN, publicationDate="2027-02-15"),
            product("503", "ElectronicAudioProduct", "AJ", AUDIO_ISBN),
        ],
    }
    work.update(changes)
    return work


@pytest.fixture
def work_model() -> Any:
    from contentops.models.consonance import Work

    return Work


def test_title_from_work_maps_every_field(work_model: Any) -> None:
    title = title_from_work(work_model.model_validate(_work_payload()), as_of=AS_OF)
    assert title.work_id == "1001" and title.title == "The Salt Road" and title.subtitle == "A Novel"
    assert [c.name for c in sorted(title.contributors, key=lambda c: c.sequence)] == ["Ada Quill", "Ben Marsh"]
    assert title.imprint == "Harbour Books"
    assert [(s.code, s.scheme) for s in title.subjects] == [("FIC019000", "BISAC"), ("FB", "THEMA")]
    assert "bisac:FB" not in title_tags(title)  # only BISAC subjects become tags
    assert {p.format for p in title.products} == {BookFormat.PRINT, BookFormat.EBOOK, BookFormat.AUDIO}
    assert title.product_for(BookFormat.EBOOK).publication_date == date(2027, 2, 15)
    assert title.revision_kind is RevisionKind.NEW and not title.needs_refresh


def test_the_revision_follows_content_not_update_stamps(work_model: Any) -> None:
    base = title_from_work(work_model.model_validate(_work_payload()), as_of=AS_OF)
    touched = title_from_work(work_model.model_validate(_work_payload(updatedAt="2026-11-25T02:00:00Z")), as_of=AS_OF)
    renamed = title_from_work(work_model.model_validate(_work_payload(subtitle="A Story")), as_of=AS_OF)
    assert base.revision == touched.revision != renamed.revision


def test_a_reissue_makes_the_new_edition_current_from_its_date(work_model: Any) -> None:
    payload = _work_payload()
    payload["products"][0]["onixPublishingStatusCode"] = "07"
    payload["products"].append(
        {
            "id": "504",
            "__typename": "PhysicalBookProduct",
            "fullTitle": "The Salt Road",
            "isbn": {"isbn13": OTHER_ISBN},
            "publicationDate": "2026-11-01",
            "onix21ProductFormCode": "BC",
            "onixPublishingStatusCode": "04",
        }
    )
    payload["lifecycleEvents"] = [{"kind": "REISSUED", "eventDate": "2026-11-01", "productIds": ["504"]}]
    work = work_model.model_validate(payload)
    title = title_from_work(work, as_of=AS_OF)
    assert title.revision_kind is RevisionKind.REISSUED and title.needs_refresh
    assert title.revision_formats == (BookFormat.PRINT,)
    assert title.product_for(BookFormat.PRINT).isbn == OTHER_ISBN
    before = title_from_work(work, as_of=datetime(2026, 10, 1, tzinfo=UTC))  # a backfill before the reissue
    assert before.revision_kind is RevisionKind.NEW


def test_an_unusable_work_says_why(work_model: Any) -> None:
    payload = _work_payload()
    payload["products"][1]["isbn"] = {"isbn13": "9781900000025"}  # right shape, wrong check digit
    with pytest.raises(TitleMappingError, match="invalid ISBN"):
        title_from_work(work_model.model_validate(payload), as_of=AS_OF)
    milestones = _work_payload(campaignMilestones=[{"name": "launch"}])
    with pytest.raises(TitleMappingError, match="milestone"):
        title_from_work(work_model.model_validate(milestones), as_of=AS_OF)


def test_campaign_and_milestones_are_read_when_consonance_sends_them(work_model: Any) -> None:
    payload = _work_payload(
        campaign="Spring Fiction 2027",
        campaignMilestones=[{"name": "cover reveal", "date": "2026-12-01"}, {"name": "launch", "date": "2027-03-01"}],
        territories=["gb", "ie"],
    )
    title = title_from_work(work_model.model_validate(payload), as_of=AS_OF)
    assert title.campaign == "Spring Fiction 2027"
    assert [m.name for m in title.milestones] == ["cover reveal", "launch"]
    assert title.territories == ("gb", "ie")
    assert "campaign:spring-fiction-2027" in title_tags(title)


# =========================================================================== what the title record keeps


def test_usage_rights_record_per_edition_territory_and_print_run() -> None:
    title = make_title()
    asset = make_asset(metadata={"asset_role": "jacket"}, license_purchase_transaction_uuid="lpt-1")
    rights = make_rights(
        allowed_geographies=["europe"],
        allowed_distributions=["print"],
        valid_until="2027-06-30",
        usage_limits=["print_run_50000", "print_run_20000", "web_views_1000"],
    )
    record = usage_rights_record(build_attachment(title, asset, _pairing(title, "jacket"), rights))
    assert record["license_reference"] == "lpt-1"
    assert record["territories"] == ["europe"] and record["channels"] == ["print"]
    assert record["valid_until"].startswith("2027-06-30")
    assert record["editions"] == [f"print {PRINT_ISBN}"]
    assert record["print_run"] == 20000  # the smallest stated
    assert "europe" in record["summary"] and "2027-06-30" in record["summary"]
    unknown = usage_rights_record(build_attachment(title, asset, _pairing(title, "author_photo"), None))
    assert unknown["summary"] == "No license terms known" and unknown["editions"] == ["all editions"]
    assert unknown["print_run"] is None


def test_references_keep_one_resource_per_asset_and_one_pairing_per_singular_role() -> None:
    title = make_title()
    jacket_v1 = build_attachment(
        title, make_asset("j1", metadata={"asset_role": "jacket"}), _pairing(title, "jacket"), None
    )
    jacket_v2 = build_attachment(
        title, make_asset("j2", metadata={"asset_role": "jacket"}), _pairing(title, "jacket"), None
    )
    promo_a = build_attachment(
        title, make_asset("p1", metadata={"asset_role": "promo"}), _pairing(title, "promo"), None
    )
    promo_b = build_attachment(
        title, make_asset("p2", metadata={"asset_role": "promo"}), _pairing(title, "promo"), None
    )
    assert pairing_reference(jacket_v1) == pairing_reference(jacket_v2)  # a new jacket replaces the pairing
    assert pairing_reference(promo_a) != pairing_reference(promo_b)  # promo graphics add up
    assert resource_reference("j1") == resource_reference("j1") != resource_reference("j2")


# =========================================================================== settings


def test_the_project_settings_file_is_the_default_pairing() -> None:
    from contentops.config import PROJECT_CONFIG_DIR, load_settings
    from contentops.mapping.titles import TitlePushSettings

    assert load_settings("title_metadata_push", TitlePushSettings, directory=PROJECT_CONFIG_DIR).pairing == (
        PairingRules()
    )


def test_pairing_settings_change_the_pairing_and_refuse_nonsense(tmp_path: Any) -> None:
    from contentops.config import SettingsError, load_settings
    from contentops.mapping.titles import TitlePushSettings

    (tmp_path / "title_metadata_push.yaml").write_text(
        "pairing:\n  primary_roles:\n    print: [dust_jacket]\n"
        "  channels:\n    print: print_media\n  announce_days: 30\n"
    )
    rules = load_settings("title_metadata_push", TitlePushSettings, directory=tmp_path).pairing
    pairing = pair_with_format(make_title(), make_asset(metadata={"asset_role": "dust_jacket"}), rules)
    assert pairing is not None and pairing.format is BookFormat.PRINT
    assert pairing.announce_from == date(2027, 3, 1) - timedelta(days=30)
    assert asset_format(make_asset(metadata={"asset_role": "jacket"}), rules) is None  # no longer a print face
    for bad in ("pairing:\n  announce_days: -1\n", "pairing:\n  channels:\n    vinyl: print\n", "pairing:\n  x: 1\n"):
        (tmp_path / "title_metadata_push.yaml").write_text(bad)
        with pytest.raises(SettingsError):
            load_settings("title_metadata_push", TitlePushSettings, directory=tmp_path)


def test_the_attach_target_defaults_to_the_title_and_refuses_unknown_kinds() -> None:
    from contentops.mapping.titles import AttachTarget, parse_attach_target

    assert parse_attach_target(None) is AttachTarget.TITLE and parse_attach_target("") is AttachTarget.TITLE
    assert parse_attach_target(" Production_Task ") is AttachTarget.PRODUCTION_TASK
    assert parse_attach_target("manuscript").label == "manuscript"
    with pytest.raises(ValueError, match="unknown attach target 'chapter'"):
        parse_attach_target("chapter")


def test_attach_requests_on_a_smintio_asset_come_from_metadata_and_tags_each_once() -> None:
    from contentops.mapping.titles import AttachTarget, asset_attach_requests, attach_target_ledger

    asset = make_asset(
        metadata={"consonance_task": ["60011", " 60012 "], "consonance_manuscript": 70012},
        tags=["consonance-task:60011", "Consonance-Task:60013", "consonance-manuscript:", "title-ref:1001"],
    )
    assert asset_attach_requests(asset) == [
        (AttachTarget.PRODUCTION_TASK, "60011"),
        (AttachTarget.PRODUCTION_TASK, "60012"),
        (AttachTarget.PRODUCTION_TASK, "60013"),
        (AttachTarget.MANUSCRIPT, "70012"),
    ]
    assert asset_attach_requests(make_asset()) == []
    # never the title target the rights expiry sweep follows (``consonance:<work>``)
    assert attach_target_ledger(AttachTarget.PRODUCTION_TASK, "60011") == "consonance_production_task:60011"
    assert not attach_target_ledger(AttachTarget.MANUSCRIPT, "70012").startswith("consonance:")
