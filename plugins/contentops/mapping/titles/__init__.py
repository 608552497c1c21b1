"""Consonance titles <-> Smint.io assets: what a title tells its assets, and what an asset tells its title.

Pure functions over a system-neutral :class:`TitleRecord` (built from Consonance's work and
products by :func:`title_from_consonance`) and Smint.io :class:`~contentops.models.smintio.Asset`\\ s.
No Airflow, no HTTP, no clock: every function that depends on time takes the moment it decides
for (the run's data interval end), so a backfill reproduces its decisions.

The choices, and why
====================

* **Metadata and tags (CON-4, CON-7).** A title pushes its title, subtitle, contributors,
  imprint, format, ISBN, publication date, BISAC subjects and campaign milestones onto each
  matching asset as flat metadata keys, plus searchable tags (``book:``, ``isbn:``,
  ``imprint:``, ``author:``, ``bisac:``, ``campaign:``, ``format:``). The tags we pushed are
  remembered on the asset (metadata ``title_tags``), so a later revision removes exactly the
  tags it no longer wants and never a tag someone else set.
* **Publication phase.** ``announced`` → ``prepublication`` (within the lead window before the
  publication date) → ``published``. It is part of what is pushed, so a title that *approaches
  publication* is pushed again even when nothing else changed (CON-4: "as a title nears publication").
* **Format pairing (CON-5).** Print jacket ↔ print (``PhysicalBookProduct``), ebook cover ↔
  ebook (``ElectronicBookProduct``), audio thumbnail ↔ audio (``ElectronicAudioProduct``). An
  asset's own ``format`` metadata wins, then its role; an asset of no particular format (author
  photo, promo graphic, licensed stock without a format) belongs to the title as a whole. Each
  pairing carries the release timing of its edition: the publication date, and the date from
  which marketing may use it (``announce_from``).
* **Rights gate (CON-1, CON-6).** An asset is attached only when :func:`contentops.rights.evaluate`
  allows its license for every territory the edition is sold in, on the edition's channel, both
  on the run's date and on the publication date. No known license, or territories the title
  does not state (then the asset must be cleared worldwide), is not "allowed".
* **Matching rule.** Explicit and ordered: by ISBN in the asset's metadata or ``isbn:`` tags, by
  title reference (``consonance_work_id`` / ``title_ref`` metadata, ``title-ref:`` tags), by
  cross-reference in the ledger (assets attached to the title before, e.g. on request). Each
  asset is attributed to the first rule that matches it; leaving a rule out disables it.
* **Latest vs outdated (CON-8).** Only *singular* roles (the primary image of a format, the
  author photo) compete: among the approved assets of one (role, format) slot, the newest
  generation (edition, then creation time, then version) is the latest; the other approved
  ones of that slot are outdated. Drafts, assets in review, retired assets and plural roles
  (promo graphics, stock) are never outdated.

Modules
=======
:mod:`~contentops.mapping.titles.records` (the neutral title), :mod:`~contentops.mapping.titles.consonance`
(built from a Consonance work), :mod:`~contentops.mapping.titles.identifiers`,
:mod:`~contentops.mapping.titles.phase`, :mod:`~contentops.mapping.titles.metadata` (what is written on
an asset, by the field mapping of :mod:`~contentops.mapping.titles.fields`),
:mod:`~contentops.mapping.titles.pairing`, :mod:`~contentops.mapping.titles.clearance` (rights),
:mod:`~contentops.mapping.titles.attachments`, :mod:`~contentops.mapping.titles.matching`,
:mod:`~contentops.mapping.titles.refresh` and :mod:`~contentops.mapping.titles.attach_targets`.
Import the public names from this package.
"""

from __future__ import annotations

from contentops.mapping.titles.attach_targets import (
    ATTACH_REQUEST_KEYS,
    AttachTarget,
    asset_attach_requests,
    attach_target_ledger,
    parse_attach_target,
)
from contentops.mapping.titles.attachments import (
    Attachment,
    attachment_version,
    build_attachment,
    pairing_reference,
    resource_reference,
    usage_rights_record,
)
from contentops.mapping.titles.clearance import rights_gate, rights_summary
from contentops.mapping.titles.consonance import title_from_mapping, title_from_work, valid_products
from contentops.mapping.titles.fields import DEFAULT_SMINTIO_KEYS, TITLE_FIELDS, TitleFieldMapping
from contentops.mapping.titles.identifiers import normalize_isbn, slug
from contentops.mapping.titles.matching import (
    DEFAULT_MATCH_RULES,
    AssetMatch,
    MatchRule,
    asset_isbns,
    asset_title_refs,
    match_assets,
    parse_match_rules,
)
from contentops.mapping.titles.metadata import (
    MetadataUpdate,
    metadata_update,
    push_version,
    tag_changes,
    title_metadata,
    title_tags,
)
from contentops.mapping.titles.pairing import (
    FormatPairing,
    PairingRules,
    TitlePushSettings,
    asset_format,
    asset_role,
    pair_with_format,
    pairing_for_product,
)
from contentops.mapping.titles.phase import PublicationPhase, approaching_publication, publication_phase
from contentops.mapping.titles.records import (
    FORMAT_ALIASES,
    ONIX_FORM_FORMATS,
    OUT_OF_PRINT,
    PRODUCT_TYPE_FORMATS,
    REFRESH_KINDS,
    BookFormat,
    Contributor,
    Milestone,
    RevisionKind,
    Subject,
    TitleMappingError,
    TitleProduct,
    TitleRecord,
    format_of,
)
from contentops.mapping.titles.refresh import Refresh, generation, select_latest

__all__ = [
    "ATTACH_REQUEST_KEYS",
    "DEFAULT_MATCH_RULES",
    "DEFAULT_SMINTIO_KEYS",
    "FORMAT_ALIASES",
    "ONIX_FORM_FORMATS",
    "OUT_OF_PRINT",
    "PRODUCT_TYPE_FORMATS",
    "REFRESH_KINDS",
    "TITLE_FIELDS",
    "AssetMatch",
    "AttachTarget",
    "Attachment",
    "BookFormat",
    "Contributor",
    "FormatPairing",
    "MatchRule",
    "MetadataUpdate",
    "Milestone",
    "PairingRules",
    "PublicationPhase",
    "Refresh",
    "RevisionKind",
    "Subject",
    "TitleFieldMapping",
    "TitleMappingError",
    "TitleProduct",
    "TitlePushSettings",
    "TitleRecord",
    "approaching_publication",
    "asset_attach_requests",
    "asset_format",
    "asset_isbns",
    "asset_role",
    "asset_title_refs",
    "attach_target_ledger",
    "attachment_version",
    "build_attachment",
    "format_of",
    "generation",
    "match_assets",
    "metadata_update",
    "normalize_isbn",
    "pair_with_format",
    "pairing_for_product",
    "pairing_reference",
    "parse_attach_target",
    "parse_match_rules",
    "publication_phase",
    "push_version",
    "resource_reference",
    "rights_gate",
    "rights_summary",
    "select_latest",
    "slug",
    "tag_changes",
    "title_from_mapping",
    "title_from_work",
    "title_metadata",
    "title_tags",
    "usage_rights_record",
    "valid_products",
]
