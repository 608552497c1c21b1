"""Deterministic demo data of the Consonance sandbox: 240 works (titles) with their products.

Everything is computed from the work number ``n`` (1…240), so ids, ISBNs and titles are stable
across runs; dates are relative to the sandbox clock at seed time (like the Smint.io sandbox),
so "approaching publication" and "changed since" mean the same thing on any day.

Rules, for work number n:

- work id ``1000 + n``; product ids ``50000 + 10*n + k`` with k = 1 print, 2 ebook, 3 audio,
  4 new edition (revised / reissued);
- ISBN-13: print ``isbn13(n)`` (works 1-12 carry the ISBNs of the Smint.io sandbox's book
  assets), ebook ``isbn13(100000 + n)``, audio ``isbn13(200000 + n)``, new edition
  ``isbn13(300000 + n)``;
- formats: every work has a print product (``BB`` hardback for even n, ``BC`` paperback for
  odd n); n % 3 != 0 adds an ebook (``DG``); n % 4 == 0 a downloadable audiobook (``AJ``);
  n % 20 == 5 an audio CD (``AC``);
- publication date: n % 8 == 1 in 1-29 days (approaching publication, 30 works); works with
  a lifecycle event (below) 200-799 days ago; otherwise ``(37*n) % 1100 - 900`` days from seed time;
- publishing status ``02`` forthcoming (future), ``04`` active (past), ``07`` out of print
  (n % 25 == 7 and over a year old);
- lifecycle events of published works: n % 15 == 3 REVISED (a new print edition, edition type
  ``REV``), n % 15 == 8 REISSUED (a new print ISBN, the old one out of print), n % 15 == 13
  REPACKAGED (a new cover on print and ebook); event dates within the last 89 days, except
  n % 30 == 8: a reissue scheduled 20 days ahead;
- updated at ``(53*n) % 1440`` hours before seed time, or the event date when later;
- five imprints by n % 5; one main BISAC subject (a second when n % 4 == 0) plus a THEMA code;
- contributors: one author (``A01``); n % 6 == 0 adds an illustrator (``A12``); audio products
  add a narrator (``E07``); n % 9 == 0: part ``n // 9`` of one of three series;
- campaign (modelled): forthcoming works have ``<title> launch`` with the milestones cover reveal
  (60 days before publication), pre-order (30 days before) and launch (publication day);
- sales territories (modelled) by imprint: :data:`TERRITORIES`;
- public production data (:func:`production_runs`): works with n <= 12 or n % 8 == 1 have one
  printing of their print product (quantity, binding, cover, finish, interior), delivered a week
  before publication; every product has prices (:func:`prices`) in GBP and AUD;
- contracts (:func:`build_contracts`, id ``40000 + n``) with the rights licensed for the work,
  and the author as a person record (:func:`build_people`, the contributor's id);
- production (modelled, :func:`build_production`): works with n <= 12 or n % 8 == 1 have the
  production tasks :data:`PRODUCTION_TASKS` (ids ``60000 + 10*n + k``, due the given days
  before publication, ``done`` when past, else ``in_progress`` / ``not_started``) and two
  manuscript versions (ids ``70000 + 10*n + v``: v1 ``superseded``, v2 ``in_copyedit``).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

WORKS = 240
IMPRINTS = (
    ("1", "Harbour Lane Press"),
    ("2", "Northlight Books"),
    ("3", "Quill & Compass"),
    ("4", "Little Fern"),
    ("5", "Meridian Audio"),
)
BISAC = (
    ("FIC000000", "FICTION / General"),
    ("FIC022000", "FICTION / Mystery & Detective / General"),
    ("FIC027000", "FICTION / Romance / General"),
    ("FIC028000", "FICTION / Science Fiction / General"),
    ("FIC009000", "FICTION / Fantasy / General"),
    ("BIO000000", "BIOGRAPHY & AUTOBIOGRAPHY / General"),
    ("HIS000000", "HISTORY / General"),
    ("CKB000000", "COOKING / General"),
    ("JUV000000", "JUVENILE FICTION / General"),
    ("SCI000000", "SCIENCE / General"),
    ("BUS000000", "BUSINESS & ECONOMICS / General"),
    ("TRV000000", "TRAVEL / General"),
)
FIRST = ("Ada", "Bram", "Clara", "Dev", "Elena", "Femi", "Greta", "Hugo", "Ines", "Jonah", "Kiri", "Lars", "Maya")
LAST = ("Okafor", "Lindqvist", "Moreau", "Haddad", "Sato", "Brennan", "Castillo", "Novak", "Whitfield", "Iyer", "Rossi")
ADJECTIVES = ("Silent", "Northern", "Glass", "Hidden", "Last", "Amber", "Winter", "Salt", "Paper", "Iron", "Quiet")
NOUNS = ("Harbour", "Orchard", "Cartographer", "Lighthouse", "Archive", "Garden", "River", "Observatory", "Bridge")
#: Sales territories of each imprint's works, by imprint id (modelled).
TERRITORIES = {"1": ["worldwide"], "2": ["gb", "ie"], "3": ["us", "ca"], "4": ["worldwide"], "5": ["europe"]}
SERIES = (("7001", "The Tidewater Mysteries"), ("7002", "Atlas of Small Kingdoms"), ("7003", "Kitchen Seasons"))
FORMS = {
    "BB": ("PhysicalBookProduct", "Hardback", "HB"),
    "BC": ("PhysicalBookProduct", "Paperback", "PB"),
    "DG": ("ElectronicBookProduct", "eBook", "EB"),
    "AJ": ("ElectronicAudioProduct", "Audio download", "AUD"),
    "AC": ("PhysicalAudioProduct", "Audio CD", "CD"),
}


def isbn13(n: int) -> str:
    """The same demo ISBN-13 scheme as the Smint.io sandbox (prefix 97819, valid check digit)."""
    body = f"97819{n:07d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def isbn10_dashes(isbn: str) -> str:
    return f"{isbn[:3]}-{isbn[3]}-{isbn[4:8]}-{isbn[8:12]}-{isbn[12]}"


def work_id(n: int) -> str:
    return str(1000 + n)


def product_id(n: int, k: int) -> str:
    return str(50000 + 10 * n + k)


def publication_offset(n: int) -> int:
    """Days from seed time to the work's first publication."""
    if n % 8 == 1:
        return n % 29 + 1
    if n % 15 in (3, 8, 13):  # titles with a lifecycle event were first published long ago
        return -(200 + (n * 17) % 600)
    return (37 * n) % 1100 - 900


def _title(n: int) -> str:
    return f"The {ADJECTIVES[n % len(ADJECTIVES)]} {NOUNS[(n * 5) % len(NOUNS)]}" + (
        f" {n // 99 + 1}" if n > 98 else ""
    )


def _person(pid: int, first: str, last: str) -> dict[str, Any]:
    return {
        "__typename": "Person",
        "id": str(pid),
        "name": f"{first} {last}",
        "personName": f"{first} {last}",
        "personNameInverted": f"{last}, {first}",
        "keyNames": last,
    }


def _product(
    n: int, k: int, form: str, isbn: str, pub: date, status: str, imprint: dict[str, str], title: str, **extra: Any
) -> dict[str, Any]:
    typename, edition_name, edition_code = FORMS[form]
    product: dict[str, Any] = {
        "id": product_id(n, k),
        "__typename": typename,
        "workId": work_id(n),
        "fullTitle": title,
        "titlePrefix": "The" if title.startswith("The ") else None,
        "titleWithoutPrefix": title.removeprefix("The "),
        "subtitle": None,
        "isbn": {"isbn13": isbn, "isbn10": None, "isbnWithDashes": isbn10_dashes(isbn)},
        "publicationDate": pub.isoformat(),
        "plannedPublicationDate": pub.isoformat(),
        "onix21ProductFormCode": form,
        "onixPublishingStatusCode": status,
        "onixEditionTypeCodes": [],
        "editionStatement": None,
        "inHouseEdition": {"name": edition_name, "code": edition_code},
        "imprint": imprint,
        "formatAssetPairings": [],
    }
    if typename == "PhysicalBookProduct":
        product.update({"productHeight": 234 if form == "BB" else 198, "productWidth": 153 if form == "BB" else 129})
        product["approximatePageCount"] = 180 + (n * 13) % 400
    product.update(extra)
    return product


def build(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(works, products) of the seed, dates relative to ``now``."""
    today = now.date()
    works: list[dict[str, Any]] = []
    products: list[dict[str, Any]] = []
    for n in range(1, WORKS + 1):
        imprint_id, imprint_name = IMPRINTS[n % len(IMPRINTS)]
        imprint = {"id": imprint_id, "name": imprint_name}
        title = _title(n)
        offset = publication_offset(n)
        pub = today + timedelta(days=offset)
        status = "02" if offset > 0 else ("07" if n % 25 == 7 and offset < -365 else "04")
        author = _person(9000 + n, FIRST[n % len(FIRST)], LAST[(n * 7) % len(LAST)])
        authorship = f"by {author['name']}"
        work_products = [
            _product(n, 1, "BB" if n % 2 == 0 else "BC", isbn13(n), pub, status, imprint, title),
        ]
        if n % 3 != 0:
            work_products.append(_product(n, 2, "DG", isbn13(100000 + n), pub, status, imprint, title))
        if n % 4 == 0 or n % 20 == 5:
            form = "AC" if n % 20 == 5 else "AJ"
            work_products.append(_product(n, 3, form, isbn13(200000 + n), pub, status, imprint, title))
        contributions: list[dict[str, Any]] = [
            {
                "id": str(30000 + 10 * n),
                "sequenceNumber": 1,
                "onixContributorRoleCode": "A01",
                "onixContributorRole": {"code": "A01", "description": "By (author)"},
                "contributor": author,
                "productIds": [p["id"] for p in work_products],
            }
        ]
        if n % 6 == 0:
            illustrator = _person(9500 + n, FIRST[(n + 3) % len(FIRST)], LAST[(n + 2) % len(LAST)])
            contributions.append(
                {
                    "id": str(30000 + 10 * n + 1),
                    "sequenceNumber": 2,
                    "onixContributorRoleCode": "A12",
                    "onixContributorRole": {"code": "A12", "description": "Illustrated by"},
                    "contributor": illustrator,
                    "productIds": [p["id"] for p in work_products],
                }
            )
            authorship += f", illustrated by {illustrator['name']}"
        audio = [p for p in work_products if p["onix21ProductFormCode"] in ("AJ", "AC")]
        if audio:
            narrator = _person(9800 + n, FIRST[(n + 5) % len(FIRST)], LAST[(n + 4) % len(LAST)])
            contributions.append(
                {
                    "id": str(30000 + 10 * n + 2),
                    "sequenceNumber": len(contributions) + 1,
                    "onixContributorRoleCode": "E07",
                    "onixContributorRole": {"code": "E07", "description": "Read by"},
                    "contributor": narrator,
                    "productIds": [p["id"] for p in audio],
                }
            )
        subjects = [{"scheme": "BISAC", "code": BISAC[n % len(BISAC)][0], "description": BISAC[n % len(BISAC)][1]}]
        subjects[0]["main"] = True
        if n % 4 == 0:
            second = BISAC[(n * 7 + 1) % len(BISAC)]
            if second[0] != subjects[0]["code"]:
                subjects.append({"scheme": "BISAC", "code": second[0], "description": second[1], "main": False})
        subjects.append({"scheme": "THEMA", "code": "FB", "description": "Fiction: general and literary", "main": True})
        updated = now - timedelta(hours=(53 * n) % 1440)
        events: list[dict[str, Any]] = []
        edition_number = 1
        edition_statement = None
        if offset < -60 and n % 15 in (3, 8, 13):
            event_day = today - timedelta(days=(11 * n) % 90)
            if n % 30 == 8:
                event_day = today + timedelta(days=20)  # a reissue already scheduled
            print_product = work_products[0]
            if n % 15 == 3:
                edition_number, edition_statement = 2, "Revised edition"
                revised = _product(
                    n,
                    4,
                    print_product["onix21ProductFormCode"],
                    isbn13(300000 + n),
                    event_day,
                    "04" if event_day <= today else "02",
                    imprint,
                    title,
                    onixEditionTypeCodes=["REV"],
                    editionStatement="Revised edition",
                )
                work_products.append(revised)
                events.append(
                    {
                        "kind": "REVISED",
                        "eventDate": event_day.isoformat(),
                        "productIds": [revised["id"]],
                        "description": "Revised and updated edition",
                    }
                )
            elif n % 15 == 8:
                reissue = _product(
                    n,
                    4,
                    "BC",
                    isbn13(300000 + n),
                    event_day,
                    "04" if event_day <= today else "02",
                    imprint,
                    title,
                    editionStatement="Reissue",
                )
                if event_day <= today:
                    print_product["onixPublishingStatusCode"] = "07"
                work_products.append(reissue)
                events.append(
                    {
                        "kind": "REISSUED",
                        "eventDate": event_day.isoformat(),
                        "productIds": [reissue["id"]],
                        "description": "Reissued in paperback",
                    }
                )
            else:
                covered = [p["id"] for p in work_products if p["onix21ProductFormCode"] in ("BB", "BC", "DG")]
                events.append(
                    {
                        "kind": "REPACKAGED",
                        "eventDate": event_day.isoformat(),
                        "productIds": covered,
                        "description": "New cover design",
                    }
                )
            event_time = datetime.combine(event_day, now.timetz())
            updated = max(updated, min(event_time, now))
        series = []
        if n % 9 == 0:
            series_id, series_name = SERIES[(n // 9) % len(SERIES)]
            series.append(
                {"id": str(8000 + n), "partNumber": str(n // 9), "series": {"id": series_id, "name": series_name}}
            )
        campaign: dict[str, Any] = {"campaign": None, "campaignMilestones": []}
        if offset > 0:
            campaign = {
                "campaign": f"{title} launch",
                "campaignMilestones": [
                    {"name": name, "date": (pub - timedelta(days=before)).isoformat()}
                    for name, before in (("cover reveal", 60), ("pre-order", 30), ("launch", 0))
                ],
            }
        for product in work_products:
            product["updatedAt"] = updated.isoformat()
            product["authorshipDescription"] = authorship
        works.append(
            {
                "id": work_id(n),
                "title": title,
                "subtitle": "A Novel" if n % 7 == 0 else None,
                "authorshipDescription": authorship,
                "contributorPrettyList": ", ".join(c["contributor"]["name"] for c in contributions),
                "editionNumber": edition_number,
                "editionStatement": edition_statement,
                "contributions": contributions,
                "subjectCodes": subjects,
                "seriesMemberships": series,
                "imprint": imprint,
                "updatedAt": updated.isoformat(),
                "lifecycleEvents": events,
                **campaign,
                "territories": TERRITORIES[imprint_id],
                "productIds": [p["id"] for p in work_products],
                "productionRuns": production_runs(n, work_products, pub),
            }
        )
        products.extend(work_products)
    return works, products


#: (k, name, days before publication it is due) of a work's production schedule (modelled)
PRODUCTION_TASKS = ((1, "Cover design", 120), (2, "Jacket copy", 90), (3, "Typesetting", 60))
ASSIGNEES = ("Priya Natarajan", "Tom Achterberg", "Lucia Ferreira")


def has_production(n: int) -> bool:
    return n <= 12 or n % 8 == 1


def task_id(n: int, k: int) -> str:
    return str(60000 + 10 * n + k)


def manuscript_id(n: int, v: int) -> str:
    return str(70000 + 10 * n + v)


def build_production(now: datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(production tasks, manuscripts) of the works that have them, dates relative to ``now``."""
    today = now.date()
    tasks: list[dict[str, Any]] = []
    manuscripts: list[dict[str, Any]] = []
    for n in range(1, WORKS + 1):
        if not has_production(n):
            continue
        pub = today + timedelta(days=publication_offset(n))
        for k, name, before in PRODUCTION_TASKS:
            due = pub - timedelta(days=before)
            status = "done" if due < today else ("in_progress" if k == 1 else "not_started")
            tasks.append(
                {
                    "id": task_id(n, k),
                    "workId": work_id(n),
                    "name": name,
                    "dueDate": due.isoformat(),
                    "status": status,
                    "assignee": ASSIGNEES[(n + k) % len(ASSIGNEES)],
                }
            )
        for v, status in ((1, "superseded"), (2, "in_copyedit")):
            manuscripts.append({"id": manuscript_id(n, v), "workId": work_id(n), "version": v, "status": status})
    return tasks, manuscripts


#: GBP recommended retail price by ONIX form (the AUD price is derived from it)
RRP_GBP = {"BB": 20.0, "BC": 9.99, "DG": 6.99, "AJ": 14.99, "AC": 19.99}


def prices(product: dict[str, Any]) -> list[dict[str, Any]]:
    """A product's prices: consumer RRP (ONIX price type 02, qualifier 05) in GBP and AUD."""
    gbp = RRP_GBP.get(str(product.get("onix21ProductFormCode")), 9.99)
    return [
        {
            "id": f"{product['id']}{k}",
            "amount": amount,
            "currencyCode": currency,
            "onixPriceTypeCode": "02",
            "onixPriceTypeQualifierCode": "05",
        }
        for k, (currency, amount) in enumerate((("GBP", gbp), ("AUD", round(gbp * 1.9, 2))), start=1)
    ]


def production_runs(n: int, work_products: list[dict[str, Any]], pub: date) -> list[dict[str, Any]]:
    """The printings of a work's print product (public production data), for works that have a
    production schedule."""
    if not has_production(n):
        return []
    printed = [p for p in work_products if p["onix21ProductFormCode"] in ("BB", "BC")]
    ids = [p["id"] for p in printed]
    run_id = str(80000 + 10 * n + 1)
    hardback = any(p["onix21ProductFormCode"] == "BB" for p in printed)
    return [
        {
            "id": run_id,
            "name": "First printing",
            "deliveryDate": (pub - timedelta(days=7)).isoformat(),
            "productIds": ids,
            "quantities": [
                {
                    "id": f"{run_id}1",
                    "name": "Print run",
                    "description": "Initial print run",
                    "quantity": 3000 + 500 * (n % 5),
                    "receivedQuantity": None,
                    "productId": ids[0] if ids else None,
                }
            ],
            "bindings": [
                {
                    "id": f"{run_id}2",
                    "widthOfBoard": "3mm" if hardback else None,
                    "pageBindingMethod": "Sewn" if hardback else "Perfect bound",
                    "trimmingMethod": "Trimmed",
                    "endpapers": "Plain" if hardback else None,
                    "caseSpineStyle": "Square" if hardback else None,
                    "description": "Cased" if hardback else "Limp",
                    "bindingInstructions": None,
                    "productIds": ids,
                }
            ],
            "covers": [
                {
                    "id": f"{run_id}3",
                    "paper": "Jacket, 150gsm gloss" if hardback else "Cover board, 240gsm",
                    "coverType": "Jacket" if hardback else "Cover",
                    "coverColoursOutside": "4",
                    "coverColoursOutsideDescription": "CMYK",
                    "coverNotes": None,
                    "productIds": ids,
                }
            ],
            "embellishments": [],
            "finishes": [
                {"id": f"{run_id}4", "name": "Matt laminate", "description": "Matt laminate", "productIds": ids}
            ],
            "interiors": [
                {
                    "id": f"{run_id}5",
                    "paper": "Munken Premium Cream 80gsm",
                    "textColour": "1",
                    "textColourDescription": "Black",
                    "textPrintInstructions": None,
                    "fsc": "FSC Mix",
                    "productIds": ids,
                }
            ],
        }
    ]


#: rights a publisher licenses from the author, and the author's share of each
LICENSED_RIGHTS = (("Volume rights", 100.0), ("eBook", 25.0), ("Audio", 50.0), ("Translation", 80.0))


def contract_id(n: int) -> str:
    return str(40000 + n)


def build_contracts(works: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One author contract per work, with the rights it licenses (audio only for works with an
    audio product)."""
    contracts = []
    for index, work in enumerate(works, start=1):
        has_audio = index % 4 == 0 or index % 20 == 5  # the works with an audio product
        rights = [r for r in LICENSED_RIGHTS if r[0] != "Audio" or has_audio]
        author = work["contributions"][0]["contributor"]
        contracts.append(
            {
                "id": contract_id(index),
                "workId": work["id"],
                "contractName": f"{work['title']}: author agreement",
                "description": "Author agreement",
                "client": {"name": author["name"]},
                "signedDate": "2023-01-15",
                "term": "Full term of copyright",
                "licensedRights": [
                    {"id": f"{contract_id(index)}{k}", "rightType": name, "authorCut": cut}
                    for k, (name, cut) in enumerate(rights, start=1)
                ],
            }
        )
    return contracts


def build_people(works: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A person record per contributor (id = the contributor's id), with the works they contributed to."""
    people: dict[str, dict[str, Any]] = {}
    for work in works:
        for contribution in work.get("contributions") or []:
            contributor = contribution["contributor"]
            if contributor.get("__typename") != "Person":
                continue
            person = people.setdefault(
                contributor["id"],
                {
                    "id": contributor["id"],
                    "name": contributor["name"],
                    "biographicalNote": f"{contributor['name']} writes and lives by the sea.",
                    "contributions": [],
                },
            )
            role = (contribution.get("onixContributorRole") or {}).get("description")
            person["contributions"].append({"workTitle": work["title"], "role": role})
    return list(people.values())
