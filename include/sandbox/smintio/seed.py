"""Deterministic demo data of the Smint.io sandbox: licenses (LPTs) and assets.

License purchase transactions are made by :func:`make_lpt` from an index, so the seeded
ones and the million generated ones of the generator mode come from the same code. Every
12 consecutive indexes cover the license situations the pipelines must handle:

| index % 12 | situation | terms |
|---|---|---|
| 0 | expires in 7 days | worldwide, online + print |
| 1 | expires in 30 days | europe, online |
| 2 | expires in 90 days | worldwide, any channel |
| 3 | expired 10 days ago | worldwide, online |
| 4 | region-restricted | allowed europe, restricted gb |
| 5 | channel-restricted | worldwide, allowed social_media only |
| 6 | download limit reached | 10 of 10 downloads |
| 7 | download limit not reached | 12 of 500 downloads |
| 8 | unknown values | allowed geographies and distributions empty (not stated) |
| 9 | perpetual | worldwide, any channel, no end date |
| 10 | editorial use only | worldwide, editorial |
| 11 | not syncable | ``can_be_synced: false`` |

Providers cycle getty, istock, shutterstock, adobestock; every fifth license is a compound
asset with three binaries. Dates are relative to the sandbox clock at seed time.

Assets (the modelled Portals side), linked to licenses by ``license_purchase_transaction_uuid``:

| ids | what |
|---|---|
| ``asset-spring-01..12`` | campaign ``spring-launch-2027``: 8 approved, 4 draft |
| ``asset-summer-01..08`` | campaign ``summer-refresh``: approved |
| ``asset-holiday-01..06`` | campaign ``holiday-2026``: 3 approved, 3 in review |
| ``asset-book-<isbn>-<role>`` | cover, jacket, author_photo, promo for the ISBNs of :func:`demo_isbns` |
| ``asset-logo-01..04``, ``asset-disclosure-01..04`` | brand logos and disclosure graphics (compliance) |

Campaigns (modelled Portals side, :func:`make_campaigns`): the three campaigns above with a
release date relative to the seed time (spring in 3 days, holiday in 10, summer in 45), the
regions and Exstream segments they are planned for, and the agency client whose approval
model applies (``holiday-2026`` is run for the agency client ``northwind``).
"""

from __future__ import annotations

import hashlib
import itertools
import uuid
from datetime import datetime, timedelta
from typing import Any

PROVIDERS = ("getty", "istock", "shutterstock", "adobestock")
CAMPAIGNS = {
    "spring-launch-2027": ("spring", 12, 8),
    "summer-refresh": ("summer", 8, 8),
    "holiday-2026": ("holiday", 6, 3),
}
BOOK_ROLES = ("cover", "jacket", "author_photo", "promo")
BOOK_FORMATS = {"cover": "ebook", "jacket": "print", "author_photo": "print", "promo": "audio"}


def stable_uuid(*parts: object) -> str:
    return str(uuid.UUID(hashlib.md5("/".join(map(str, parts)).encode()).hexdigest()))  # noqa: S324 - ids, not security


def isbn13(n: int) -> str:
    """The ``n``-th demo ISBN-13 (prefix 978-1-9xxxx), with a valid check digit."""
    body = f"97819{n:07d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def demo_isbns(count: int = 12) -> list[str]:
    return [isbn13(n) for n in range(1, count + 1)]


def _loc(value: str) -> list[dict[str, str]]:
    return [{"culture": "en", "value": value}]


def _term(seq: int, **fields: Any) -> dict[str, Any]:
    term: dict[str, Any] = {
        "sequence_number": seq,
        "name": _loc(f"License term {seq}"),
        "exclusivities": [],
        "allowed_usages": ["any"],
        "restricted_usages": [],
        "allowed_sizes": ["any"],
        "restricted_sizes": [],
        "allowed_placements": ["any"],
        "restricted_placements": [],
        "allowed_distributions": ["any"],
        "restricted_distributions": [],
        "allowed_geographies": ["worldwide"],
        "restricted_geographies": [],
        "allowed_industries": ["any"],
        "restricted_industries": [],
        "allowed_languages": ["any"],
        "restricted_languages": [],
        "usage_limits": [],
        "valid_from": None,
        "valid_until": None,
        "to_be_used_until": None,
        "is_editorial_use": False,
    }
    term.update(fields)
    return term


def _iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def make_lpt(index: int, now: datetime, *, version: int = 1, prefix: str = "lpt") -> dict[str, Any]:
    """The license purchase transaction number ``index`` as CLAPI-C serves it."""
    kind = index % 12
    provider = PROVIDERS[index % len(PROVIDERS)]
    lpt_uuid = stable_uuid(prefix, index)
    purchased = now - timedelta(days=200 - index % 150)
    editorial = kind == 10
    terms = [_term(1, valid_from=_iso(purchased))]
    constraints = {"effective_max_downloads": None, "effective_max_users": None, "effective_max_reuses": None}
    current_downloads = index % 7
    if kind == 0:
        terms[0].update(allowed_distributions=["online", "print"], valid_until=_iso(now + timedelta(days=7)))
    elif kind == 1:
        terms[0].update(
            allowed_geographies=["europe"], allowed_distributions=["online"], valid_until=_iso(now + timedelta(days=30))
        )
    elif kind == 2:
        terms[0].update(valid_until=_iso(now + timedelta(days=90)))
    elif kind == 3:
        terms[0].update(allowed_distributions=["online"], valid_until=_iso(now - timedelta(days=10)))
    elif kind == 4:
        terms[0].update(allowed_geographies=["europe"], restricted_geographies=["gb"])
    elif kind == 5:
        terms[0].update(allowed_distributions=["social_media"])
    elif kind == 6:
        constraints["effective_max_downloads"] = 10
        current_downloads = 10
    elif kind == 7:
        constraints["effective_max_downloads"] = 500
        current_downloads = 12
    elif kind == 8:
        terms[0].update(allowed_geographies=[], allowed_distributions=[])  # empty = not stated (as the cores read it)
    elif kind == 10:
        terms[0].update(is_editorial_use=True)
    element_uuid = f"2:0:{61019726 + index}"
    number = 61019726 + index
    buyer = stable_uuid("user", index % 3)
    license_text = {"effective_text": _loc("Standard license for the demo brand"), "effective_text_is_safe_html": False}
    width, height = (6000, 4000) if index % 2 else (4000, 6000)
    return {
        "uuid": lpt_uuid,
        "cart_purchase_transaction_uuid": stable_uuid("cart", index // 3),
        "reused_license_purchase_transaction_uuid": None,
        "state": "completed",
        "project_uuid": stable_uuid("project", index % 5),
        "project_name": _loc(f"Brand project {index % 5}"),
        "collection_uuid": stable_uuid("collection", index % 5),
        "collection_name": _loc("Cart"),
        "collection_content_element_uuid": stable_uuid("collection-element", index),
        "collection_content_element_created_at": _iso(purchased - timedelta(minutes=5)),
        "collection_content_element_created_by_user_uuid": buyer,
        "collection_content_element_created_by_user_name": f"Demo buyer {index % 3}",
        "total_price_eur": 0.0,
        "total_price_usd": 0.0,
        "content_element": {
            "uuid": element_uuid,
            "provider": provider,
            "content_type": "image",
            "content_category": "creative",
            "editorial_segments": [],
            "name": _loc(f"{provider.title()} image {index}"),
            "description": _loc(f"Licensed stock image number {index} from {provider}"),
            "image_details": {
                "type": "photo",
                "aspect_ratio": round(width / height, 4),
                "orientation": ("horizontal" if width > height else "vertical"),
            },
            "events": [],
            "contributors": [
                {"culture": "en", "metadata_element": {"key": f"2:{number}", "name": "Demo Photographer"}}
            ],
            "copyright_notices": _loc(f"Demo Photographer / {provider}"),
            "collections": [],
            "provider_urls": [
                {
                    "culture": "en",
                    "metadata_element": {
                        "key": provider,
                        "name": provider.title(),
                        "url": f"https://{provider}.example/{number}",
                    },
                }
            ],
            "keywords": [
                {"culture": "en", "metadata_element": {"key": f"kw{index % 9}", "name": f"keyword {index % 9}"}}
            ],
            "categories": [],
            "previews": [
                {
                    "culture": "en",
                    "preview": {
                        size: {
                            "width": px,
                            "height": px * height // width,
                            "media_type": "image/jpeg",
                            "url": f"https://previews.{provider}.example/{px}/{number}.jpg",
                        }
                        for size, px in (("thumbnail", 240), ("preview", 1000))
                    },
                }
            ],
            "is_editorial_use": editorial,
            "is_editorial": editorial,
            "is_premium": index % 13 == 0,
            "release_details": {
                "model_release_state": "released",
                "property_release_state": "not_applicable",
                "provider_allowed_use_comment": [],
                "provider_release_comment": [],
                "provider_usage_constraints": [],
            },
            "created_at": _iso(purchased - timedelta(days=30)),
        },
        "offering": {
            "license_uuid": "image_standard",
            "provider_configuration_uuid": stable_uuid("provider-configuration", provider),
            "provider_configuration_name": _loc(provider.title()),
            "contract_uuid": stable_uuid("contract", provider),
            "contract_name": _loc("Standard License"),
            "contract_description": [],
            "offering_uuid": stable_uuid("offering", provider),
            "offering_name": _loc("Standard license"),
            "offering_label": _loc("Standard"),
            "has_options": False,
            "options": [],
            "license_type": "royalty_free",
            "license_urls": [
                {
                    "culture": "en",
                    "metadata_element": {
                        "key": provider,
                        "name": "License terms",
                        "url": f"https://{provider}.example/license",
                    },
                }
            ],
            "media_type": "image/jpeg",
            "size": "large",
            "format": "fixed",
            "resolution": width * height,
            "is_premium": index % 13 == 0,
            "is_editorial_use": editorial,
            "is_editorial": editorial,
            "image_details": {"width": width, "height": height, "resolution_megapixels": width * height // 1_000_000},
            "total_price_eur": 0.0,
            "total_price_usd": 0.0,
            "licensee_uuid": stable_uuid("licensee"),
            "licensee_name": "Contentops Demo Brand",
            "license_text": license_text,
            "license_terms": [],  # the license's own terms decide (an offering's would be the fallback)
            "has_layout_file": False,
        },
        "license_text": license_text,
        "license_terms": terms,
        "license_download_constraints": constraints,
        "has_potentially_restrictive_license_terms": kind in (4, 5, 6, 10),
        "current_downloads": current_downloads,
        "current_users": 1,
        "current_reuses": 0,
        "can_be_synced": kind != 11,
        "purchased_at": _iso(purchased),
        "completed_at": _iso(purchased + timedelta(minutes=3)),
        "purchased_by_user_uuid": buyer,
        "purchased_by_user_name": f"Demo buyer {index % 3}",
        "licensee_uuid": stable_uuid("licensee"),
        "licensee_name": "Contentops Demo Brand",
        "version": version,
        "created_at": _iso(purchased),
        "last_updated_at": _iso(purchased),
        "_binary_count": 3 if index % 5 == 0 else 1,
    }


def binaries_of(lpt: dict[str, Any]) -> list[dict[str, Any]]:
    """The binaries of a license (compound assets have several); without signed URLs yet."""
    count = int(lpt.get("_binary_count") or 1)
    name = (lpt.get("content_element") or {}).get("uuid", lpt["uuid"]).replace(":", "-")
    return [
        {
            "uuid": stable_uuid("binary", lpt["uuid"], n),
            "content_type": "image",
            "binary_type": "main" if n == 0 else f"variant_{n}",
            "name": _loc(f"{name} part {n + 1}"),
            "description": _loc("The licensed file" if n == 0 else f"Alternative crop {n}"),
            "usage": _loc("Master file" if n == 0 else "Alternative crop"),
            "recommended_file_name": f"{name}-{n + 1}.png",
            "culture": "en",
            "version": 1,
        }
        for n in range(count)
    ]


def make_assets(now: datetime, lpt_uuid_of: list[str]) -> list[dict[str, Any]]:
    """The demo assets, each linked to one of the given license uuids (in order, cycling)."""
    assets: list[dict[str, Any]] = []
    licenses = itertools.cycle(lpt_uuid_of or [None])

    def asset(asset_id: str, name: str, status: str, **fields: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": asset_id,
            "version": 1,
            "name": name,
            "content_type": "image/png",
            "approval_status": status,
            "compliance_status": None,
            "metadata": {},
            "tags": [],
            "categories": [],
            "campaign": None,
            "master_asset_id": None,
            "language": None,
            "region": None,
            "license_purchase_transaction_uuid": next(licenses),
            "binaries": [{"id": f"{asset_id}-main", "name": f"{asset_id}.png", "content_type": "image/png"}],
            "created_at": _iso(now - timedelta(days=40)),
            "updated_at": _iso(now - timedelta(days=20)),
        }
        body.update(fields)
        return body

    for campaign, (short, count, approved) in CAMPAIGNS.items():
        for n in range(1, count + 1):
            status = "approved" if n <= approved else ("draft" if short == "spring" else "in_review")
            assets.append(
                asset(
                    f"asset-{short}-{n:02d}",
                    f"{campaign} visual {n}",
                    status,
                    campaign=campaign,
                    tags=[f"campaign:{campaign}"],
                    categories=["campaign_visual"],
                )
            )
    for isbn in demo_isbns():
        for role in BOOK_ROLES:
            assets.append(
                asset(
                    f"asset-book-{isbn}-{role}",
                    f"{role.replace('_', ' ')} for {isbn}",
                    "approved",
                    tags=[f"isbn:{isbn}"],
                    categories=[role],
                    metadata={"asset_role": role, "format": BOOK_FORMATS[role], "isbn": isbn},
                )
            )
    for n in range(1, 5):
        assets.append(
            asset(
                f"asset-logo-{n:02d}",
                f"Brand logo {n}",
                "approved",
                categories=["logo", "icon"],
                compliance_status="compliant",
                tags=["brand"],
            )
        )
        assets.append(
            asset(
                f"asset-disclosure-{n:02d}",
                f"Disclosure graphic {n}",
                "approved" if n <= 3 else "in_review",
                categories=["disclosure_graphic"],
                compliance_status="compliant" if n <= 2 else "pending",
                tags=["regulated"],
            )
        )
    return assets


#: campaign -> (days from seed time to release, regions, segments, agency client or None)
CAMPAIGN_PLANS: dict[str, tuple[int, list[str], list[str], str | None]] = {
    "spring-launch-2027": (3, ["emea", "north_america"], ["retail_customers", "new_customers"], None),
    "holiday-2026": (10, ["emea", "dach"], ["retail_customers"], "northwind"),
    "summer-refresh": (45, ["north_america", "apac"], ["retail_customers"], None),
}


def make_campaigns(now: datetime) -> list[dict[str, Any]]:
    """The demo campaigns (modelled): release date, regions, segments and agency client."""
    release_day = now.replace(hour=9, minute=0, second=0, microsecond=0)
    return [
        {
            "id": campaign,
            "name": campaign.replace("-", " ").title(),
            "release_date": _iso(release_day + timedelta(days=days)),
            "regions": regions,
            "segments": segments,
            "client": client,
            "status": "planned",
        }
        for campaign, (days, regions, segments, client) in CAMPAIGN_PLANS.items()
    ]
