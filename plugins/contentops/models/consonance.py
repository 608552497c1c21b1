"""Consonance payloads: GraphQL works and products, the REST v4 product, and our modelled writes.

Sourced (shared/api-notes/smintio-consonance-vip.md §2, the public GraphQL examples): the
GraphQL field names — products ``fullTitle``, ``subtitle``, ``isbn {isbn13 isbn10 isbnWithDashes}``,
``publicationDate``, ``plannedPublicationDate``, ``onix21ProductFormCode``,
``onixPublishingStatusCode``, ``inHouseEdition {name code}``, ``authorshipDescription``, the
product ``__typename`` (``PhysicalBookProduct``, ``ElectronicBookProduct``,
``ElectronicAudioProduct``, ``PhysicalAudioProduct``, ``GenericProduct``); works ``title``,
``subtitle``, ``contributions {…}``, ``subjectCodes(schemesIn: [BISAC]) {code description}``,
``seriesMemberships {series {…}}``, ``supportingResources {url caption}``, ``products``; mutation
payloads carrying ``errors {field messages}``; and the REST v4 product (``full_title``,
``pub_date``, ``product_form``, ``isbn``, ``imprint``, …) in its ``current_page`` /
``per_page`` / ``total_pages`` envelope.

Also public (the production request form, custom report and legal / people examples): a work's
``imprint {id name}`` and ``productionRuns``, a product's ``prices(priceSearch:) {amount}``,
``contract(contractSearch:) {licensedRights}`` and ``person(id:)``.

Modelled (not public; docs/systems/consonance.md): ``updatedAt`` on works and products, a
product's ``imprint``, ``editionStatement`` and ``onixEditionTypeCodes``, a work's
``lifecycleEvents`` (revised / reissued / repackaged), the extra fields of a supporting resource
we attach (``reference``, ``resourceType``, ``usageRights``), format asset pairings and license
terms.

Python attributes are snake_case; the wire names are the camelCase GraphQL names (aliases), so
``Product.model_validate(node)`` reads a GraphQL node as sent and ``model_dump(by_alias=True)``
writes it back the same way.
"""

from __future__ import annotations

import re
from datetime import date
from enum import StrEnum
from typing import Annotated, Any

from pydantic import AliasChoices, BeforeValidator, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

from contentops.models.common import PartnerModel, UtcDateTime

__all__ = [
    "PRODUCT_FORMATS",
    "ConsonanceModel",
    "Contract",
    "Contribution",
    "Contributor",
    "FormatAssetPairing",
    "Imprint",
    "InHouseEdition",
    "Isbn",
    "LicenseStatus",
    "LicenseTerms",
    "LicensedRight",
    "LifecycleEvent",
    "LifecycleEventKind",
    "Manuscript",
    "OnixCode",
    "PersonDetails",
    "Price",
    "Product",
    "ProductFormat",
    "ProductType",
    "ProductionRun",
    "ProductionTask",
    "ResourceAttachment",
    "RestProduct",
    "RestProductPage",
    "Series",
    "SeriesMembership",
    "SubjectCode",
    "SupportingResource",
    "TitleEvent",
    "UsageRightsSummary",
    "Work",
]

_ISBN13 = re.compile(r"^97[89]\d{10}$")


class ConsonanceModel(PartnerModel):
    """GraphQL objects: camelCase on the wire, snake_case in Python, unknown fields kept."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, alias_generator=to_camel)


def _id(value: Any) -> Any:
    """Consonance ids are integers in REST and ``ID`` strings in GraphQL: keep them as strings."""
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


#: An id as a string (REST sends integers, GraphQL ``ID`` strings).
ConsonanceId = Annotated[str, BeforeValidator(_id)]


class ProductType(StrEnum):
    """The GraphQL product types (``__typename``)."""

    PHYSICAL_BOOK = "PhysicalBookProduct"
    ELECTRONIC_BOOK = "ElectronicBookProduct"
    ELECTRONIC_AUDIO = "ElectronicAudioProduct"
    PHYSICAL_AUDIO = "PhysicalAudioProduct"
    GENERIC = "GenericProduct"


class ProductFormat(StrEnum):
    """The format families the title scenarios speak of (print jacket, ebook cover, audio thumbnail)."""

    PRINT = "print"
    EBOOK = "ebook"
    AUDIO = "audio"
    OTHER = "other"


#: Product type -> format family.
PRODUCT_FORMATS: dict[ProductType, ProductFormat] = {
    ProductType.PHYSICAL_BOOK: ProductFormat.PRINT,
    ProductType.ELECTRONIC_BOOK: ProductFormat.EBOOK,
    ProductType.ELECTRONIC_AUDIO: ProductFormat.AUDIO,
    ProductType.PHYSICAL_AUDIO: ProductFormat.AUDIO,
    ProductType.GENERIC: ProductFormat.OTHER,
}

#: ONIX 2.1 product form code (first letter) -> product type, for REST products that carry no
#: ``__typename`` (B… books, D/E… digital text, A… audio: downloadable ``AJ`` or physical).
_FORM_TYPES: dict[str, ProductType] = {"B": ProductType.PHYSICAL_BOOK, "D": ProductType.ELECTRONIC_BOOK}


def product_type_for_form(code: str | None) -> ProductType:
    """The product type a REST product's ONIX form code implies."""
    if not code:
        return ProductType.GENERIC
    if code.upper() in ("AJ", "AN", "AE"):
        return ProductType.ELECTRONIC_AUDIO
    if code.upper().startswith("A"):
        return ProductType.PHYSICAL_AUDIO
    if code.upper().startswith("E"):
        return ProductType.ELECTRONIC_BOOK
    return _FORM_TYPES.get(code[:1].upper(), ProductType.GENERIC)


class Isbn(ConsonanceModel):
    isbn13: str | None = None
    isbn10: str | None = None
    isbn_with_dashes: str | None = None

    @field_validator("isbn13")
    @classmethod
    def _isbn13_shape(cls, value: str | None) -> str | None:
        if value is not None and not _ISBN13.match(value):
            raise ValueError(f"not an ISBN-13: {value!r}")
        return value


class OnixCode(ConsonanceModel):
    """``{code description}`` objects (ONIX code list entries, subject codes)."""

    code: str | None = None
    description: str | None = None


class InHouseEdition(ConsonanceModel):
    name: str | None = None
    code: str | None = None


class Imprint(ConsonanceModel):
    """A work's imprint (public: the production request form example reads ``work.imprint``);
    a product's imprint is modelled."""

    id: ConsonanceId | None = None
    name: str


class Contributor(ConsonanceModel):
    """A person or an organisation (``__typename`` ``Person`` / ``Organisation``)."""

    id: ConsonanceId | None = None
    typename: str | None = Field(None, alias="__typename")
    name: str | None = None
    person_name: str | None = None
    person_name_inverted: str | None = None
    key_names: str | None = None
    organisation_name: str | None = None


class Contribution(ConsonanceModel):
    id: ConsonanceId | None = None
    sequence_number: int | None = None
    onix_contributor_role_code: str | None = None
    onix_contributor_role: OnixCode | None = None
    contributor: Contributor | None = None
    product_ids: list[ConsonanceId] = Field(default_factory=list)


class SubjectCode(ConsonanceModel):
    """A subject classification (the hook asks for BISAC: ``subjectCodes(schemesIn: [BISAC])``)."""

    code: str
    description: str | None = None
    main: bool | None = None


class Series(ConsonanceModel):
    id: ConsonanceId | None = None
    name: str | None = None
    subtitle: str | None = None


class SeriesMembership(ConsonanceModel):
    id: ConsonanceId | None = None
    part_number: str | None = None
    series: Series | None = None

    @field_validator("part_number", mode="before")
    @classmethod
    def _part(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value


class UsageRightsSummary(ConsonanceModel):
    """Modelled: the usage rights we attach with an asset (CON-1, CON-6): per edition, territory, print run."""

    summary: str
    license_reference: str | None = None
    valid_until: UtcDateTime | None = None
    territories: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)
    editions: list[str] = Field(default_factory=list)
    print_run: int | None = None


class SupportingResource(ConsonanceModel):
    """``supportingResources {url caption}`` (sourced) plus what we attach (modelled)."""

    url: str
    caption: str | None = None
    id: ConsonanceId | None = None
    reference: str | None = None
    resource_type: str | None = None
    asset_id: str | None = None
    asset_version: int | None = None
    product_ids: list[ConsonanceId] = Field(default_factory=list)
    usage_rights: UsageRightsSummary | None = None


class LifecycleEventKind(StrEnum):
    """The title lifecycle events that make Smint.io surface new assets and retire old ones (CON-8)."""

    REVISED = "REVISED"
    REISSUED = "REISSUED"
    REPACKAGED = "REPACKAGED"


class LifecycleEvent(ConsonanceModel):
    """Modelled: one revision, reissue or repackaging of a work, with the products it concerns."""

    kind: LifecycleEventKind
    event_date: date
    product_ids: list[ConsonanceId] = Field(default_factory=list)
    description: str | None = None


class FormatAssetPairing(ConsonanceModel):
    """Modelled (CON-5): the approved asset a format (product) uses, and when it may be released."""

    id: ConsonanceId | None = None
    reference: str
    product_id: ConsonanceId
    asset_id: str
    asset_version: int = 1
    role: str
    release_date: date | None = None
    embargo_until: date | None = None


class LicenseStatus(StrEnum):
    """Where a title asset's license stands (CON-2)."""

    ACTIVE = "ACTIVE"
    RENEWED = "RENEWED"
    ENDED = "ENDED"
    REPLACEMENT_PENDING = "REPLACEMENT_PENDING"
    UNDER_REVIEW = "UNDER_REVIEW"


class LicenseTerms(ConsonanceModel):
    """Modelled (CON-2): the license terms, expiry and permitted usage of an asset used by a title."""

    id: ConsonanceId | None = None
    reference: str
    work_id: ConsonanceId
    product_id: ConsonanceId | None = None
    asset_id: str
    license_reference: str | None = None
    status: LicenseStatus
    valid_from: UtcDateTime | None = None
    valid_until: UtcDateTime | None = None
    permitted_usage: str | None = None
    territories: list[str] = Field(default_factory=list)
    channels: list[str] = Field(default_factory=list)


class Price(ConsonanceModel):
    """One price of a product (public: ``prices(priceSearch:) {amount}``)."""

    id: ConsonanceId | None = None
    amount: float | None = None


class Product(ConsonanceModel):
    """A product (one format of a work, with its ISBN). Only ``id`` and ``fullTitle`` are required."""

    id: ConsonanceId
    typename: ProductType | None = Field(None, alias="__typename")
    full_title: str = Field(min_length=1)
    subtitle: str | None = None
    title_prefix: str | None = None
    title_without_prefix: str | None = None
    isbn: Isbn | None = None
    publication_date: date | None = None
    planned_publication_date: date | None = None
    onix21_product_form_code: str | None = None
    onix_publishing_status_code: str | None = None
    onix_edition_type_codes: list[str] = Field(default_factory=list)
    edition_statement: str | None = None
    in_house_edition: InHouseEdition | None = None
    authorship_description: str | None = None
    gbp_consumer_price: list[Price] = Field(default_factory=list)
    imprint: Imprint | None = None
    updated_at: UtcDateTime | None = None
    format_asset_pairings: list[FormatAssetPairing] = Field(default_factory=list)
    work: Work | None = None

    @property
    def rrp_gbp(self) -> float | None:
        """The GBP consumer price (ONIX price type 02, qualifier 05), when Consonance has one."""
        return next((p.amount for p in self.gbp_consumer_price if p.amount is not None), None)

    @property
    def isbn13(self) -> str | None:
        return self.isbn.isbn13 if self.isbn else None

    @property
    def product_type(self) -> ProductType:
        return self.typename or product_type_for_form(self.onix21_product_form_code)

    @property
    def format(self) -> ProductFormat:
        """print / ebook / audio, from the product type (or the ONIX form code)."""
        return PRODUCT_FORMATS[self.product_type]

    @property
    def effective_publication_date(self) -> date | None:
        """The publication date, else the planned one (a forthcoming title may have only that)."""
        return self.publication_date or self.planned_publication_date


class Work(ConsonanceModel):
    """A work (the title) with its contributors, BISAC subjects, series, resources and products."""

    id: ConsonanceId
    title: str = Field(min_length=1)
    subtitle: str | None = None
    authorship_description: str | None = None
    contributor_pretty_list: str | None = None
    edition_number: int | None = None
    edition_statement: str | None = None
    contributions: list[Contribution] = Field(default_factory=list)
    subject_codes: list[SubjectCode] = Field(default_factory=list)
    series_memberships: list[SeriesMembership] = Field(default_factory=list)
    supporting_resources: list[SupportingResource] = Field(default_factory=list)
    imprint: Imprint | None = None
    updated_at: UtcDateTime | None = None
    lifecycle_events: list[LifecycleEvent] = Field(default_factory=list)
    license_terms: list[LicenseTerms] = Field(default_factory=list)
    production_runs: list[ProductionRun] = Field(default_factory=list)
    products: list[Product] = Field(default_factory=list)

    @property
    def bisac_codes(self) -> list[str]:
        return [subject.code for subject in self.subject_codes]

    @property
    def contributor_names(self) -> list[str]:
        """Contributor names in sequence order."""
        ordered = sorted(self.contributions, key=lambda c: c.sequence_number or 0)
        return [c.contributor.name for c in ordered if c.contributor and c.contributor.name]

    def product(self, product_id: str) -> Product | None:
        return next((p for p in self.products if p.id == product_id), None)


class TitleEvent(ConsonanceModel):
    """A lifecycle event together with the work it happened to (what the hook yields)."""

    work: Work
    event: LifecycleEvent

    @property
    def products(self) -> list[Product]:
        """The work's products the event concerns (all of them when it names none)."""
        if not self.event.product_ids:
            return list(self.work.products)
        return [p for p in self.work.products if p.id in self.event.product_ids]


# --------------------------------------------------------------------------- REST v4


class RestProduct(PartnerModel):
    """A product of the REST v4 Product API (snake_case fields, sourced from its docs page)."""

    id: ConsonanceId
    work_id: ConsonanceId | None = None
    full_title: str = Field(min_length=1)
    subtitle: str | None = None
    pub_date: date | None = None
    publishing_status: str | None = None
    product_form: str | None = None
    edition_type_codes: list[str] = Field(default_factory=list)
    edition_statement: str | None = None
    in_house_format: str | None = None
    in_house_edition: str | None = None
    isbn: str | None = None
    imprint: str | None = None
    authorship: str | None = None
    updated_at: UtcDateTime | None = Field(None, validation_alias=AliasChoices("updated_at", "updatedAt"))

    @field_validator("edition_type_codes", mode="before")
    @classmethod
    def _codes(cls, value: Any) -> Any:
        if value is None:
            return []
        return [c for c in value.split(",") if c] if isinstance(value, str) else value

    def to_product(self) -> Product:
        """The same product as the GraphQL shape, so callers see one type whatever the API."""
        isbn = self.isbn if self.isbn and _ISBN13.match(self.isbn) else None  # e.g. "No ISBN"
        return Product(
            id=self.id,
            typename=product_type_for_form(self.product_form),
            full_title=self.full_title,
            subtitle=self.subtitle,
            isbn=Isbn(isbn13=isbn) if isbn else None,
            publication_date=self.pub_date,
            onix21_product_form_code=self.product_form,
            onix_publishing_status_code=self.publishing_status,
            onix_edition_type_codes=self.edition_type_codes,
            edition_statement=self.edition_statement,
            in_house_edition=InHouseEdition(name=self.in_house_edition) if self.in_house_edition else None,
            authorship_description=self.authorship,
            imprint=Imprint(name=self.imprint) if self.imprint else None,
            updated_at=self.updated_at,
            work=Work(id=self.work_id, title=self.full_title) if self.work_id else None,
        )


class RestProductPage(PartnerModel):
    """The REST v4 page envelope: ``current_page``, ``per_page``, ``total_pages``, ``url``, ``products``."""

    current_page: int
    per_page: int
    total_pages: int
    url: str | None = None
    products: list[Any] = Field(default_factory=list)


# --------------------------------------------------------------------------- production (modelled)


class ResourceAttachment(ConsonanceModel):
    """An approved asset attached to a production task or a manuscript (modelled: the shape of
    these attachments is not public), keyed by our own ``reference``."""

    id: ConsonanceId | None = None
    reference: str
    url: str
    caption: str | None = None
    resource_type: str | None = None
    asset_id: str | None = None
    asset_version: int | None = None
    usage_rights: UsageRightsSummary | None = None


class ProductionTask(ConsonanceModel):
    """A task of a work's production schedule ("Cover design", "Jacket copy", "Typesetting" …)
    with its due date, status, assignee and the resources attached to it (modelled)."""

    id: ConsonanceId
    work_id: ConsonanceId
    name: str = Field(min_length=1)
    due_date: date | None = None
    status: str | None = None
    assignee: str | None = None
    attached_resources: list[ResourceAttachment] = Field(default_factory=list)


class Manuscript(ConsonanceModel):
    """A manuscript version of a work in the editorial workflow, with its attached resources (modelled)."""

    id: ConsonanceId
    work_id: ConsonanceId
    version: int
    status: str | None = None
    attached_resources: list[ResourceAttachment] = Field(default_factory=list)


# --------------------------------------------------------------------------- public production, contracts, people


class ProductionRunPart(ConsonanceModel):
    """A binding, cover, finish, embellishment or interior of a production run (public; every
    other field the run part has is kept as an extra)."""

    id: ConsonanceId | None = None
    name: str | None = None
    description: str | None = None
    product_ids: list[ConsonanceId] = Field(default_factory=list)


class ProductionQuantity(ConsonanceModel):
    id: ConsonanceId | None = None
    name: str | None = None
    quantity: int | None = None
    received_quantity: int | None = None
    product_id: ConsonanceId | None = None


class ProductionRun(ConsonanceModel):
    """One printing of a work's products (public production data: ``work.productionRuns``)."""

    id: ConsonanceId
    name: str | None = None
    delivery_date: date | None = None
    product_ids: list[ConsonanceId] = Field(default_factory=list)
    quantities: list[ProductionQuantity] = Field(default_factory=list)
    bindings: list[ProductionRunPart] = Field(default_factory=list)
    covers: list[ProductionRunPart] = Field(default_factory=list)
    finishes: list[ProductionRunPart] = Field(default_factory=list)
    embellishments: list[ProductionRunPart] = Field(default_factory=list)
    interiors: list[ProductionRunPart] = Field(default_factory=list)

    @property
    def print_quantity(self) -> int | None:
        """The run's ordered quantity (the sum of its quantities), when it states one."""
        amounts = [q.quantity for q in self.quantities if q.quantity is not None]
        return sum(amounts) if amounts else None


class LicensedRight(ConsonanceModel):
    """A right a contract licenses (public: ``licensedRights {id rightType authorCut}``)."""

    id: ConsonanceId | None = None
    right_type: str | None = None
    author_cut: float | None = None


class ContractWork(ConsonanceModel):
    title: str | None = None


class Contract(ConsonanceModel):
    """A contract (public: ``contract(contractSearch: {idEq})``) with the rights it licenses."""

    id: ConsonanceId
    contract_name: str | None = None
    signed_date: date | None = None
    pub_before_date: date | None = None
    work: ContractWork | None = None
    licensed_rights: list[LicensedRight] = Field(default_factory=list)

    @property
    def right_types(self) -> list[str]:
        return [r.right_type for r in self.licensed_rights if r.right_type]


class PersonContribution(ConsonanceModel):
    work_title: str | None = None
    role: str | None = None


class PersonDetails(ConsonanceModel):
    """A person (public: ``person(id:)``): name, biographical note, the works they contributed to."""

    id: ConsonanceId
    name: str | None = None
    biographical_note: str | None = None
    contributions: list[PersonContribution] = Field(default_factory=list)


# the title models refer to each other and to the production runs defined above them
Work.model_rebuild()
Product.model_rebuild()
TitleEvent.model_rebuild()
