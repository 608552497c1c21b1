"""Consonance models: GraphQL names in, typed values out; REST products become the same type."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from contentops.models.consonance import (
    LifecycleEventKind,
    ProductFormat,
    ProductType,
    RestProduct,
    TitleEvent,
    Work,
)

pytestmark = pytest.mark.unit

WORK = {
    "id": 1004,
    "title": "The Salt Archive",
    "imprint": {"id": 4, "name": "Little Fern"},
    "contributions": [
        {"sequenceNumber": 2, "contributor": {"__typename": "Person", "name": "B Second"}},
        {"sequenceNumber": 1, "contributor": {"__typename": "Person", "name": "A First"}, "productIds": [50041]},
    ],
    "subjectCodes": [{"code": "FIC022000", "description": "FICTION / Mystery & Detective / General"}],
    "lifecycleEvents": [{"kind": "REPACKAGED", "eventDate": "2026-11-01", "productIds": [50042]}],
    "products": [
        {
            "id": 50041,
            "__typename": "PhysicalBookProduct",
            "fullTitle": "The Salt Archive",
            "isbn": {"isbn13": "9781900000048"},
        },
        {
            "id": 50042,
            "__typename": "ElectronicBookProduct",
            "fullTitle": "The Salt Archive",
            "plannedPublicationDate": "2027-01-05",
        },
        {"id": 50043, "fullTitle": "The Salt Archive", "onix21ProductFormCode": "AJ"},
    ],
    "someFieldWeDoNotKnow": True,
}


def test_a_graphql_work_reads_with_its_real_field_names() -> None:
    work = Work.model_validate(WORK)
    assert work.id == "1004" and work.imprint and work.imprint.id == "4"  # integer ids become strings
    assert work.contributor_names == ["A First", "B Second"]  # in sequence order
    assert work.bisac_codes == ["FIC022000"]
    assert [p.format for p in work.products] == [ProductFormat.PRINT, ProductFormat.EBOOK, ProductFormat.AUDIO]
    assert work.products[2].product_type is ProductType.ELECTRONIC_AUDIO  # from the ONIX form code
    assert work.products[1].effective_publication_date == date(2027, 1, 5)  # planned date when unpublished
    assert work.model_extra == {"someFieldWeDoNotKnow": True}  # kept, not dropped
    assert work.model_dump(by_alias=True)["subjectCodes"][0]["code"] == "FIC022000"
    event = TitleEvent(work=work, event=work.lifecycle_events[0])
    assert event.event.kind is LifecycleEventKind.REPACKAGED and [p.id for p in event.products] == ["50042"]


@pytest.mark.parametrize(
    "broken",
    [
        {**WORK, "title": None},
        {**WORK, "title": ""},
        {**WORK, "products": [{"id": 1, "fullTitle": "x", "isbn": {"isbn13": "12345"}}]},
        {**WORK, "products": [{"id": 1, "fullTitle": "x", "publicationDate": "31/02/2026"}]},
        {**WORK, "lifecycleEvents": [{"kind": "REBORN", "eventDate": "2026-01-01"}]},
    ],
)
def test_malformed_titles_fail_validation(broken: dict) -> None:
    with pytest.raises(ValidationError):
        Work.model_validate(broken)


def test_a_rest_product_becomes_the_graphql_product_type() -> None:
    rest = RestProduct.model_validate(
        {
            "id": 50012,
            "work_id": 1001,
            "full_title": "The Northern Garden",
            "pub_date": "2026-11-27",
            "product_form": "DG",
            "isbn": "No ISBN",
            "imprint": "Northlight Books",
            "edition_type_codes": "REV,ILL",
        }
    )
    product = rest.to_product()
    assert product.format is ProductFormat.EBOOK and product.isbn13 is None  # "No ISBN" is no ISBN
    assert product.work and product.work.id == "1001" and product.imprint and product.imprint.name == "Northlight Books"
    assert product.onix_edition_type_codes == ["REV", "ILL"]
