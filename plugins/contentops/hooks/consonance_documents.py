"""Every GraphQL document the Consonance hook sends, split into public and modelled ones.

Why the split: a GraphQL server refuses a whole document for one field it does not have. The
public documents select only what Consonance's public examples show (the schema written from
them is ``include/sandbox/consonance/schema/public.graphql``), so the lookups the pipelines
cannot do without — a product by ISBN, a work by id, the titles publishing soon — work against
the real service. Everything we modelled (change tracking, lifecycle events, campaigns, sales
territories, our attachments' details, license terms, paging, the production schedule, every
write) lives in *modelled* documents of its own: when Consonance refuses one, the hook carries
on without it and says so (see :meth:`contentops.hooks.consonance.ConsonanceHook.degradations`).

Values whose GraphQL type the public examples never name (ISBNs, dates) are written into the
document as literals, as the examples do, never declared as variables of a type we would have
to guess; the hook validates them first (an ISBN is 13 digits, a date is a ``date``), so a
literal cannot change the document. Public documents declare variables only of the type the
examples declare for the same argument (``Int!`` for ``idEq`` and ``person(id:)``).

tests/conformance/test_consonance.py validates every document here against the SDL: the public
ones against the public schema alone, the modelled ones against public + modelled.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

_PLACEHOLDER = re.compile(r"@([a-z_]+)@")


@dataclass(frozen=True)
class Document:
    """One GraphQL document: its text (with ``@name@`` literal placeholders), whether it is
    modelled, and what a run loses when Consonance refuses it (the warning's second half)."""

    name: str
    text: str
    modelled: bool
    loses: str = ""

    @property
    def placeholders(self) -> set[str]:
        return set(_PLACEHOLDER.findall(self.text))

    def render(self, **literals: str) -> str:
        """The document with each ``@name@`` replaced by a GraphQL string literal of its value.

        The values are checked by the hook before they get here (digits, ISO dates); JSON's
        string syntax is GraphQL's for them. A placeholder left without a value is an error."""
        missing = self.placeholders - set(literals)
        if missing:
            raise ValueError(f"{self.name} needs values for {sorted(missing)}")
        return _PLACEHOLDER.sub(lambda m: json.dumps(str(literals[m.group(1)])), self.text)


# -- public selections (public.graphql) ---------------------------------------------------------
PUBLIC_PRODUCT = """
fragment PublicProduct on Product {
  __typename id fullTitle subtitle titlePrefix titleWithoutPrefix
  isbn { isbn13 isbn10 isbnWithDashes }
  publicationDate plannedPublicationDate onix21ProductFormCode onixPublishingStatusCode
  inHouseEdition { name code } authorshipDescription
  gbpConsumerPrice: prices(priceSearch: {currencyCodeIn: [GBP], onixPriceTypeCodeIn: [_02],
                                         onixPriceTypeQualifierCodeIn: [_05]}) { amount }
}"""
PUBLIC_WORK = """
fragment PublicWork on Work {
  id title subtitle authorshipDescription contributorPrettyList editionNumber editionStatement
  imprint { id name }
  contributions {
    id sequenceNumber onixContributorRoleCode onixContributorRole { description } productIds
    contributor {
      __typename id name
      ... on Person { personName personNameInverted keyNames }
      ... on Organisation { organisationName }
    }
  }
  subjectCodes(schemesIn: [BISAC]) { code description main }
  seriesMemberships { id partNumber series { id name subtitle } }
  supportingResources { url caption }
  productionRuns { id name deliveryDate productIds }
}"""
PRODUCTION_RUN = """
fragment ProductionRunFields on ProductionRun {
  id name deliveryDate productIds
  quantities { id name description quantity receivedQuantity productId }
  bindings { id description pageBindingMethod trimmingMethod endpapers caseSpineStyle widthOfBoard productIds }
  covers { id coverType paper coverColoursOutside coverColoursOutsideDescription coverNotes productIds }
  finishes { id name description productIds }
  embellishments { id name description productIds }
  interiors { id paper textColour textColourDescription fsc productIds }
}"""

# -- modelled selections (modelled.graphql) -----------------------------------------------------
_USAGE_RIGHTS = "usageRights { summary licenseReference validUntil territories channels editions printRun }"
_LICENSE_TERMS = """licenseTerms {
    id reference workId productId assetId licenseReference status validFrom validUntil permittedUsage
    territories channels
  }"""
_PAIRINGS = "formatAssetPairings { id reference productId assetId assetVersion role releaseDate embargoUntil }"
MODELLED_PRODUCT = f"""
fragment ModelledProduct on Product {{
  id updatedAt imprint {{ id name }} editionStatement onixEditionTypeCodes
  {_PAIRINGS}
}}"""
MODELLED_WORK = f"""
fragment ModelledWork on Work {{
  id updatedAt
  lifecycleEvents {{ kind eventDate productIds description }}
  campaign campaignMilestones {{ name date }} territories
  supportingResources {{
    url caption id reference resourceType assetId assetVersion productIds {_USAGE_RIGHTS}
  }}
  {_LICENSE_TERMS}
}}"""
_PAGE_INFO = "pageInfo { hasNextPage endCursor }"
_ATTACHED = f"""
fragment AttachedFields on AttachedResource {{
  id reference url caption resourceType assetId assetVersion {_USAGE_RIGHTS}
}}"""
_TASK = """
fragment TaskFields on ProductionTask {
  id workId name dueDate status assignee attachedResources { ...AttachedFields }
}"""
_MANUSCRIPT = """
fragment ManuscriptFields on Manuscript {
  id workId version status attachedResources { ...AttachedFields }
}"""
_FULL = PUBLIC_WORK + PUBLIC_PRODUCT + MODELLED_WORK + MODELLED_PRODUCT
_FULL_WORK = "...PublicWork ...ModelledWork products { ...PublicProduct ...ModelledProduct }"
_FULL_PRODUCT = "...PublicProduct ...ModelledProduct work { ...PublicWork ...ModelledWork }"


def _public(name: str, text: str) -> Document:
    return Document(name, text.strip(), modelled=False)


def _modelled(name: str, text: str, loses: str) -> Document:
    return Document(name, text.strip(), modelled=True, loses=loses)


def _mutation(name: str, root: str, payload: str, loses: str, fragments: str = "") -> Document:
    text = f"""
mutation {name}($input: {name}Input!) {{
  {root}(input: $input) {{
    {payload}
    changed
    errors {{ field messages }}
  }}
}}{fragments}"""
    return _modelled(name, text, loses)


_DOCUMENTS: tuple[Document, ...] = (
    # public: the lookups that must work against the real service
    _public("Ping", 'query Ping { product(productSearch: {isbn13Eq: "0000000000000"}) { id } }'),
    _public(
        "ProductByIsbn",
        f"""
query ProductByIsbn {{
  product(productSearch: {{isbn13Eq: @isbn@}}) {{
    ...PublicProduct
    work {{ ...PublicWork products {{ ...PublicProduct }} }}
  }}
}}{PUBLIC_WORK}{PUBLIC_PRODUCT}""",
    ),
    _public(
        "WorkById",
        f"""
query WorkById($id: Int!) {{
  work(workSearch: {{idEq: $id}}) {{ ...PublicWork products {{ ...PublicProduct }} }}
}}{PUBLIC_WORK}{PUBLIC_PRODUCT}""",
    ),
    _public(
        "ProductsPublishedAfter",
        f"""
query ProductsPublishedAfter {{
  products(productSearch: {{publicationDateGt: @after@}}) {{ ...PublicProduct work {{ ...PublicWork }} }}
}}{PUBLIC_WORK}{PUBLIC_PRODUCT}""",
    ),
    _public(
        "WorkProductionRuns",
        f"""
query WorkProductionRuns($id: Int!) {{
  work(workSearch: {{idEq: $id}}) {{ id productionRuns {{ ...ProductionRunFields }} }}
}}{PRODUCTION_RUN}""",
    ),
    _public(
        "ContractRights",
        """
query ContractRights($id: Int!) {
  contract(contractSearch: {idEq: $id}) {
    id contractName signedDate pubBeforeDate work { title }
    licensedRights { id rightType authorCut }
  }
}""",
    ),
    _public(
        "PersonById",
        """
query PersonById($id: Int!) {
  person(id: $id) { id name biographicalNote contributions { workTitle role } }
}""",
    ),
    # modelled: optional, each refused on its own
    _modelled(
        "ProductByIsbnModelled",
        f"""
query ProductByIsbnModelled {{
  product(productSearch: {{isbn13Eq: @isbn@}}) {{
    ...ModelledProduct work {{ ...ModelledWork products {{ ...ModelledProduct }} }}
  }}
}}{MODELLED_WORK}{MODELLED_PRODUCT}""",
        "the title is read without its change stamp, lifecycle events, campaign, sales territories, "
        "our attachments' details, license terms and format pairings",
    ),
    _modelled(
        "WorkByIdModelled",
        f"""
query WorkByIdModelled($id: Int!) {{
  work(workSearch: {{idEq: $id}}) {{ ...ModelledWork products {{ ...ModelledProduct }} }}
}}{MODELLED_WORK}{MODELLED_PRODUCT}""",
        "the title is read without its change stamp, lifecycle events, campaign, sales territories, "
        "our attachments' details, license terms and format pairings",
    ),
    _modelled(
        "WorksChangedSince",
        f"""
query WorksChangedSince($first: Int, $after: String, $since: String) {{
  worksConnection(first: $first, after: $after, workSearch: {{updatedAtGteq: $since}}) {{
    nodes {{ {_FULL_WORK} }}
    {_PAGE_INFO}
  }}
}}{_FULL}""",
        "no changed titles are found this run (Consonance offers no change tracking)",
    ),
    _modelled(
        "ProductsChangedSince",
        f"""
query ProductsChangedSince($first: Int, $after: String, $since: String) {{
  productsConnection(first: $first, after: $after, productSearch: {{updatedAtGteq: $since}}) {{
    nodes {{ {_FULL_PRODUCT} }}
    {_PAGE_INFO}
  }}
}}{_FULL}""",
        "no changed products are found this run (Consonance offers no change tracking)",
    ),
    _modelled(
        "LifecycleEvents",
        f"""
query LifecycleEvents($first: Int, $after: String, $from: String, $to: String, $kinds: [LifecycleEventKind!]) {{
  worksConnection(first: $first, after: $after,
                  workSearch: {{lifecycleEventDateGteq: $from, lifecycleEventDateLteq: $to,
                               lifecycleEventKindIn: $kinds}}) {{
    nodes {{ {_FULL_WORK} }}
    {_PAGE_INFO}
  }}
}}{_FULL}""",
        "no revisions, reissues or repackagings are seen this run",
    ),
    _modelled(
        "WorkProduction",
        f"""
query WorkProduction($id: Int!) {{
  work(workSearch: {{idEq: $id}}) {{
    id productionTasks {{ ...TaskFields }} manuscripts {{ ...ManuscriptFields }}
  }}
}}{_TASK}{_MANUSCRIPT}{_ATTACHED}""",
        "production tasks and manuscripts are not read",
    ),
    _modelled(
        "ProductionTaskById",
        f"""
query ProductionTaskById($id: ID!) {{
  productionTask(id: $id) {{ ...TaskFields }}
}}{_TASK}{_ATTACHED}""",
        "the production task is not found",
    ),
    _modelled(
        "ManuscriptById",
        f"""
query ManuscriptById($id: ID!) {{
  manuscript(id: $id) {{ ...ManuscriptFields }}
}}{_MANUSCRIPT}{_ATTACHED}""",
        "the manuscript is not found",
    ),
    _mutation(
        "AttachResourceToProductionTask",
        "attachResourceToProductionTask",
        "attachedResource { ...AttachedFields }",
        "the asset is not attached to the production task",
        _ATTACHED,
    ),
    _mutation(
        "AttachResourceToManuscript",
        "attachResourceToManuscript",
        "attachedResource { ...AttachedFields }",
        "the asset is not attached to the manuscript",
        _ATTACHED,
    ),
    _mutation(
        "AttachSupportingResource",
        "attachSupportingResource",
        "supportingResource { id url caption reference resourceType assetId assetVersion productIds "
        + _USAGE_RIGHTS
        + " }",
        "the asset is not attached to the title",
    ),
    _mutation(
        "RecordFormatAssetPairing",
        "recordFormatAssetPairing",
        _PAIRINGS.replace("formatAssetPairings", "formatAssetPairing"),
        "the format is not paired with the asset",
    ),
    _mutation(
        "RecordLicenseTerms",
        "recordLicenseTerms",
        _LICENSE_TERMS,
        "the license terms are not recorded on the title",
    ),
)

#: name -> document, every document the hook can send
DOCUMENTS: dict[str, Document] = {document.name: document for document in _DOCUMENTS}

#: example values of every literal placeholder (tests render each document with them)
SAMPLE_LITERALS: dict[str, str] = {"isbn": "9781234567897", "after": "2000-01-01"}


def rendered(name: str, **literals: Any) -> str:
    """The text of document ``name`` with its literals filled in."""
    return DOCUMENTS[name].render(**{key: str(value) for key, value in literals.items()})
