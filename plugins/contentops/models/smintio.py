"""Smint.io payloads: the Content Licensing Consumer API (CLAPI-C) and the modelled asset side.

CLAPI-C shapes and field names are *sourced* from the public integration cores (see
``shared/api-notes/smintio-consonance-vip.md`` §1.3-1.5). Their types are partly inferred: the
OpenAPI spec is not public, so every field is optional unless a sync cannot work without it.

Null means unknown. Smint.io's own guidance is "never turn a null into false/true: we do not
know" (api-notes §1.5). So nothing here defaults a missing permission list or flag to a value
that could later read as "allowed": lists and flags default to ``None``, and the rules in
:mod:`contentops.rights` treat ``None`` as *unknown*.

The asset side (:class:`Asset`, :class:`AssetBinary`, :class:`ApprovalStatus`,
:class:`ComplianceStatus`) is *modelled*: the Smint.io Portals backend API is not public
(api-notes §1.7), so these are the fields our pipelines need, named plausibly, and the sandbox
serves exactly this shape.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import AliasChoices, Field, ModelWrapValidatorHandler, NonNegativeInt, model_validator

from contentops.models.common import (
    EndOfDayIfDateOnly,
    LocalizedMetadataElement,
    LocalizedString,
    LocalizedValue,
    PartnerModel,
    UtcDateTime,
    _keys_from_any,
    metadata_keys,
    pick_localized,
    utc_fields,
)

__all__ = [
    "COMPLETED_STATE",
    "ApprovalStatus",
    "Asset",
    "AssetBinary",
    "Campaign",
    "ComplianceStatus",
    "ContentElement",
    "GenericMetadata",
    "ImageDetails",
    "LicenseDownloadConstraints",
    "LicenseOption",
    "LicensePurchaseTransaction",
    "LicenseTerm",
    "LicenseText",
    "Offering",
    "ReleaseDetails",
    "SyncBinary",
    "SyncLicensePurchaseTransactionQueryResult",
]

#: The only LPT ``state`` value seen in the sourced fixture (api-notes §1.5): the purchase is done.
COMPLETED_STATE = "completed"


# --------------------------------------------------------------------------- license parts


class LicenseText(PartnerModel):
    """``license_text``: the effective license wording, localized."""

    effective_text: LocalizedString | None = None
    effective_text_is_safe_html: bool | None = None


class LicenseOption(PartnerModel):
    """One entry of ``offering.options`` (sourced from an older Picturepark integration)."""

    option_name: LocalizedString | None = None
    license_text: LicenseText | None = None


class LicenseTerm(PartnerModel):
    """One ``license_terms[]`` entry: one alternative grant with its usage dimensions.

    Every list holds metadata keys resolvable through :class:`GenericMetadata`. ``None`` = the
    payload did not say (unknown). An empty list is read as ``None`` too: Smint.io's public sample
    of a purchased standard license carries every list empty, and both public integration cores
    drop empty lists as "not stated" — so ``[]`` never means "nothing is allowed". Dates: ``valid_from`` is when
    the grant starts; ``valid_until`` when it ends; ``to_be_used_until`` the last day a new use may
    start. Bare dates on end fields mean "through that day".
    """

    sequence_number: int | None = None
    name: LocalizedString | None = None
    exclusivities: list[str] | None = None
    allowed_usages: list[str] | None = None
    restricted_usages: list[str] | None = None
    allowed_sizes: list[str] | None = None
    restricted_sizes: list[str] | None = None
    allowed_placements: list[str] | None = None
    restricted_placements: list[str] | None = None
    allowed_distributions: list[str] | None = None
    restricted_distributions: list[str] | None = None
    allowed_geographies: list[str] | None = None
    restricted_geographies: list[str] | None = None
    allowed_industries: list[str] | None = None
    restricted_industries: list[str] | None = None
    allowed_languages: list[str] | None = None
    restricted_languages: list[str] | None = None
    usage_limits: list[str] | None = None
    #: the three dates are put into UTC by ``_key_lists`` (as :data:`UtcDateTime` would)
    valid_from: datetime | None = None
    valid_until: EndOfDayIfDateOnly | None = None
    to_be_used_until: EndOfDayIfDateOnly | None = None
    is_editorial_use: bool | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _key_lists(cls, data: Any, handler: ModelWrapValidatorHandler[LicenseTerm]) -> LicenseTerm:
        """Element objects in the key lists reduced to their key, empty lists read as "not stated",
        and the dates put into UTC.

        One call per term, not two per list (16 lists) and one per date: the sweep validates
        every term of every page, and per-field validators were most of that cost. Same result
        as :data:`~contentops.models.common.MetadataKeyList` with an ``value or None`` after it,
        and as :data:`~contentops.models.common.UtcDateTime` / ``UtcEndOfDay`` for the dates."""
        if isinstance(data, LicenseTerm):
            return handler(data)  # validated already
        if isinstance(data, dict):
            with_elements = [
                name
                for name in _KEY_LISTS
                # inline, no call per list: most lists are empty or missing
                if (value := data.get(name))
                and isinstance(value, list)
                and any(isinstance(item, dict) for item in value)
            ]
            if with_elements:  # a copy: the raw record stays as served (a quarantine keeps it)
                data = {**data, **{name: _keys_from_any(data[name]) for name in with_elements}}
        term = handler(data)
        values = term.__dict__
        for name in _KEY_LISTS:
            if values[name] == []:
                values[name] = None
        utc_fields(values, _TERM_DATES)
        return term


#: the metadata-key lists of a :class:`LicenseTerm` (see ``LicenseTerm._key_lists``)
_KEY_LISTS: tuple[str, ...] = (
    "exclusivities",
    "allowed_usages",
    "restricted_usages",
    "allowed_sizes",
    "restricted_sizes",
    "allowed_placements",
    "restricted_placements",
    "allowed_distributions",
    "restricted_distributions",
    "allowed_geographies",
    "restricted_geographies",
    "allowed_industries",
    "restricted_industries",
    "allowed_languages",
    "restricted_languages",
    "usage_limits",
)


#: the dates of a :class:`LicenseTerm`, put into UTC by ``LicenseTerm._key_lists``
_TERM_DATES: tuple[str, ...] = ("valid_from", "valid_until", "to_be_used_until")


class LicenseDownloadConstraints(PartnerModel):
    """``license_download_constraints``: the caps the counters on the LPT are checked against.

    ``None`` means the license declares no cap for that counter.
    """

    effective_max_downloads: NonNegativeInt | None = None
    effective_max_users: NonNegativeInt | None = None
    effective_max_reuses: NonNegativeInt | None = None


class ReleaseDetails(PartnerModel):
    """``content_element.release_details``: model/property releases and provider remarks.

    Release states are generic-metadata keys (``release_states``); their values are not public.
    """

    model_release_state: str | None = None
    property_release_state: str | None = None
    provider_allowed_use_comment: LocalizedString | None = None
    provider_release_comment: LocalizedString | None = None
    provider_usage_constraints: LocalizedString | None = None


class ImageDetails(PartnerModel):
    """Image facts; ``content_element`` and ``offering`` each carry a different subset."""

    type: str | None = None
    aspect_ratio: float | None = None
    orientation: str | None = None
    width: NonNegativeInt | None = None
    height: NonNegativeInt | None = None
    resolution_megapixels: float | None = None


# --------------------------------------------------------------------------- content + offering


class ContentElement(PartnerModel):
    """``content_element``: the licensed item as the provider describes it."""

    uuid: str
    provider: str | None = None
    content_type: str | None = None
    content_category: str | None = None
    editorial_segments: list[Any] | None = None
    name: LocalizedString | None = None
    description: LocalizedString | None = None
    image_details: ImageDetails | None = None
    events: list[Any] | None = None
    contributors: list[LocalizedMetadataElement] | None = None
    copyright_notices: LocalizedString | None = None
    collections: list[Any] | None = None
    is_premium: bool | None = None
    is_editorial_use: bool | None = None
    is_editorial: bool | None = None
    is_ai: bool | None = None
    created_at: UtcDateTime | None = None
    provider_urls: list[LocalizedMetadataElement] | None = None
    keywords: list[LocalizedMetadataElement] | None = None
    categories: list[LocalizedMetadataElement] | None = None
    previews: list[dict[str, Any]] | None = None
    release_details: ReleaseDetails | None = None

    def category_keys(self) -> list[str]:
        """The category metadata keys (``categories[].metadata_element.key``)."""
        return metadata_keys(self.categories)


class Offering(PartnerModel):
    """``offering``: what was bought (license type, size, price) and its own terms/constraints."""

    license_uuid: str | None = None
    provider_configuration_uuid: str | None = None
    provider_configuration_name: LocalizedString | None = None
    provider_configuration_contact_person: dict[str, Any] | None = None
    contract_uuid: str | None = None
    contract_name: LocalizedString | None = None
    contract_description: LocalizedString | None = None
    offering_uuid: str | None = None
    offering_name: LocalizedString | None = None
    offering_label: LocalizedString | None = None
    has_options: bool | None = None
    options: list[LicenseOption] | None = None
    license_type: str | None = None
    license_urls: list[LocalizedMetadataElement] | None = None
    media_type: str | None = None
    size: str | None = None
    format: str | None = None
    #: The licensed size in pixels (width x height): a number in the public sample, not a text.
    resolution: NonNegativeInt | None = None
    is_premium: bool | None = None
    is_editorial_use: bool | None = None
    is_editorial: bool | None = None
    image_details: ImageDetails | None = None
    total_price_eur: float | None = None
    total_price_usd: float | None = None
    licensee_uuid: str | None = None
    licensee_name: str | None = None
    license_text: LicenseText | None = None
    license_terms: list[LicenseTerm] | None = None
    license_download_constraints: LicenseDownloadConstraints | None = None
    has_layout_file: bool | None = None


class LicensePurchaseTransaction(PartnerModel):
    """One license purchase transaction (LPT): the unit of the CLAPI-C sync.

    ``uuid`` is required (it is the sync identity); everything else may be missing and then
    reads as unknown. ``version`` grows when the LPT changes (re-sync = update, not duplicate).
    """

    uuid: str
    cart_purchase_transaction_uuid: str | None = None
    reused_license_purchase_transaction_uuid: str | None = None
    state: str | None = None
    project_uuid: str | None = None
    project_name: LocalizedString | None = None
    collection_uuid: str | None = None
    collection_name: LocalizedString | None = None
    collection_content_element_uuid: str | None = None
    collection_content_element_created_at: datetime | None = None
    collection_content_element_created_by_user_uuid: str | None = None
    collection_content_element_created_by_user_name: str | None = None
    total_price_eur: float | None = None
    total_price_usd: float | None = None
    content_element: ContentElement | None = None
    offering: Offering | None = None
    purchased_at: datetime | None = None
    completed_at: datetime | None = None
    purchased_by_user_uuid: str | None = None
    purchased_by_user_name: str | None = None
    licensee_uuid: str | None = None
    licensee_name: str | None = None
    license_text: LicenseText | None = None
    license_terms: list[LicenseTerm] | None = None
    license_download_constraints: LicenseDownloadConstraints | None = None
    has_potentially_restrictive_license_terms: bool | None = None
    current_downloads: NonNegativeInt | None = None
    current_users: NonNegativeInt | None = None
    current_reuses: NonNegativeInt | None = None
    #: Only ``True`` may be synced: the newer public core treats a missing value as "no".
    can_be_synced: bool | None = None
    version: int | None = None
    created_at: datetime | None = None
    last_updated_at: datetime | None = None

    @model_validator(mode="after")
    def _dates_in_utc(self) -> LicensePurchaseTransaction:
        """Every date of the transaction in UTC, as :data:`~contentops.models.common.UtcDateTime`
        would: one call per record instead of one per date (the feed validates them by the page)."""
        utc_fields(self.__dict__, _LPT_DATES)
        return self

    def effective_terms(self) -> list[LicenseTerm]:
        """The LPT's own terms, else the offering's; ``[]`` when neither says anything."""
        if self.license_terms:
            return list(self.license_terms)
        if self.offering is not None and self.offering.license_terms:
            return list(self.offering.license_terms)
        return []

    def effective_download_constraints(self) -> LicenseDownloadConstraints | None:
        """The LPT's download constraints, else the offering's, else ``None`` (no cap declared)."""
        if self.license_download_constraints is not None:
            return self.license_download_constraints
        if self.offering is not None:
            return self.offering.license_download_constraints
        return None


#: the dates of a :class:`LicensePurchaseTransaction`, put into UTC by its ``_dates_in_utc``
_LPT_DATES: tuple[str, ...] = (
    "collection_content_element_created_at",
    "purchased_at",
    "completed_at",
    "created_at",
    "last_updated_at",
)


class SyncLicensePurchaseTransactionQueryResult(PartnerModel):
    """One page of ``getLicensePurchaseTransactionsForSync``.

    Items stay raw JSON values (normally objects) on purpose: a caller validates each one with
    :class:`LicensePurchaseTransaction` and quarantines the bad ones, instead of one malformed
    item (even a ``null`` or a string) failing the whole page and the cursor never advancing.
    """

    count: NonNegativeInt
    continuation_uuid: str | None = None
    license_purchase_transactions: list[Any] = Field(default_factory=list)


class SyncBinary(PartnerModel):
    """One entry of ``getLicensePurchaseTransactionBinariesForSync``.

    ``download_url`` is signed and valid for up to an hour; ``version`` > 1 means the binary
    was updated. More than one binary per LPT = a compound asset (api-notes §1.5).
    """

    uuid: str
    content_type: str | None = None
    binary_type: str | None = None
    name: LocalizedString | None = None
    description: LocalizedString | None = None
    usage: LocalizedString | None = None
    download_url: str | None = None
    recommended_file_name: str | None = None
    culture: str | None = None
    version: int | None = None


class GenericMetadata(PartnerModel):
    """``SyncGenericMetadata``: the key catalogues (providers, license geographies, languages, ...)."""

    providers: list[LocalizedMetadataElement] = Field(default_factory=list)
    content_types: list[LocalizedMetadataElement] = Field(default_factory=list)
    binary_types: list[LocalizedMetadataElement] = Field(default_factory=list)
    content_categories: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_types: list[LocalizedMetadataElement] = Field(default_factory=list)
    release_states: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_exclusivities: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_usages: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_sizes: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_placements: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_distributions: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_geographies: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_industries: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_languages: list[LocalizedMetadataElement] = Field(default_factory=list)
    license_usage_limits: list[LocalizedMetadataElement] = Field(default_factory=list)

    def name_of(self, catalogue: str, key: str, culture: str | None = None) -> str | None:
        """Display name of ``key`` in ``catalogue`` (e.g. ``"license_geographies"``), culture with fallback."""
        if catalogue not in type(self).model_fields:
            raise ValueError(f"unknown generic-metadata catalogue {catalogue!r}")
        elements: list[LocalizedMetadataElement] = getattr(self, catalogue)
        values = [
            LocalizedValue(culture=element.culture, value=element.metadata_element.name)
            for element in elements
            if element.metadata_element.key == key
        ]
        return pick_localized(values, culture)


# --------------------------------------------------------------------------- asset side (modelled)


class ApprovalStatus(StrEnum):
    """Where an asset is in its review life cycle (modelled; Portals states are not public)."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REJECTED = "rejected"
    RETIRED = "retired"


class ComplianceStatus(StrEnum):
    """Outcome of a compliance review for regulated channels (modelled)."""

    PENDING = "pending"
    COMPLIANT = "compliant"
    NON_COMPLIANT = "non_compliant"


class AssetBinary(PartnerModel):
    """One file of an asset (modelled): enough to stream it and to verify it arrived intact."""

    id: str = Field(validation_alias=AliasChoices("id", "uuid"))
    name: str | None = None
    content_type: str | None = None
    binary_type: str | None = None
    size_bytes: NonNegativeInt | None = None
    sha256: str | None = None
    download_url: str | None = None
    culture: str | None = None
    version: int | None = None


class Asset(PartnerModel):
    """A Smint.io asset as the pipelines see it (modelled on the Portals backend).

    ``license_purchase_transaction_uuid`` links the asset to its license (rights come from the
    LPT, see :meth:`contentops.models.domain.UsageRights.from_lpt`). ``master_asset_id`` is set on
    derivatives (localized variants, resizes) and names the asset they were made from.
    ``approval_status`` is required: an asset whose status we do not know cannot be released.
    """

    id: str = Field(validation_alias=AliasChoices("id", "uuid"))
    version: int = 1
    name: str | None = None
    description: str | None = None
    content_type: str | None = None
    approval_status: ApprovalStatus
    compliance_status: ComplianceStatus | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    categories: list[str] = Field(default_factory=list)
    campaign: str | None = None
    master_asset_id: str | None = None
    language: str | None = None
    region: str | None = None
    license_purchase_transaction_uuid: str | None = None
    binaries: list[AssetBinary] = Field(default_factory=list)
    created_at: UtcDateTime | None = None
    updated_at: UtcDateTime | None = None

    @property
    def is_derivative(self) -> bool:
        """True for a localized variant / derivative of another asset."""
        return self.master_asset_id is not None

    @property
    def is_approved(self) -> bool:
        return self.approval_status is ApprovalStatus.APPROVED


class Campaign(PartnerModel):
    """A campaign as planned in Smint.io (modelled): when it releases, where, for whom.

    ``client`` names the agency client the campaign is run for (its approval model applies,
    OWS-7); ``segments`` are the customer segments Exstream picks the campaign's images by.
    """

    id: str
    name: str | None = None
    release_date: UtcDateTime | None = None
    regions: list[str] = Field(default_factory=list)
    segments: list[str] = Field(default_factory=list)
    client: str | None = None
    status: str | None = None


class AssetComment(PartnerModel):
    """A comment on an asset (modelled Portals backend): what a reviewer or brand manager said.

    ``external_ref`` is set on comments an integration mirrored from another system, so each is
    mirrored once and never mirrored back."""

    id: str
    asset_id: str
    text: str
    author: str | None = None
    external_ref: str | None = None
    created_at: UtcDateTime | None = None
