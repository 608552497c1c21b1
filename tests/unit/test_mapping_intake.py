"""contentops.mapping.intake: which assets answer a creative request, what an incoming DAM license allows."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from contentops import rights
from contentops.mapping import intake
from contentops.models.domain import Verdict
from contentops.models.opentext_workflow import CreativeRequest, IncomingAsset
from contentops.models.smintio import Asset

pytestmark = pytest.mark.unit

AS_OF = datetime(2026, 11, 25, 12, tzinfo=UTC)


def request(**fields: Any) -> CreativeRequest:
    body = {"campaign_type": "Product_Launch", "region": "gb", "format": "banner", "deadline": "2026-12-24"}
    body.update(fields)
    return CreativeRequest.model_validate(body)


def asset(**fields: Any) -> Asset:
    body: dict[str, Any] = {
        "id": "a-1",
        "approval_status": "approved",
        "tags": ["campaign_type:product_launch"],
        "categories": ["Banner"],
    }
    body.update(fields)
    return Asset.model_validate(body)


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({}, None),
        ({"approval_status": "in_review"}, "not approved (status in_review)"),
        ({"tags": ["campaign_type:holiday"]}, "not made for campaign type Product_Launch"),
        ({"categories": ["social"]}, "not in format banner"),
        ({"categories": [], "metadata": {"format": "banner"}}, None),
        ({"region": "apac"}, "made for region apac"),
        ({"region": "GB"}, None),
    ],
)
def test_what_answers_a_request(fields: dict, why: str | None) -> None:
    assert intake.mismatch(request(), asset(**fields)) == why


def test_language_only_matters_when_both_sides_name_one() -> None:
    assert intake.mismatch(request(language="de"), asset(language="en-GB")) == "made for language en-GB"
    assert intake.mismatch(request(language="de"), asset(language="de-CH")) is None
    assert intake.mismatch(request(), asset(language="fr")) is None


def test_a_request_is_checked_now_and_on_its_deadline() -> None:
    uses = intake.request_uses(request(channel="online"), AS_OF)
    assert [u.on_date for u in uses] == [AS_OF, datetime(2026, 12, 24, 23, 59, 59, 999999, tzinfo=UTC)]
    assert all(u.region == "gb" and u.channel == "online" for u in uses)
    past = intake.request_uses(request(deadline="2026-11-01"), AS_OF)
    assert [u.on_date for u in past] == [AS_OF]


def incoming(licence: dict | None) -> IncomingAsset:
    return IncomingAsset.model_validate(
        {"source_dam": "bynder", "source_id": "b-1", "name": "x", "content_type": "image/png", "license": licence}
    )


@pytest.mark.parametrize(
    ("licence", "verdict"),
    [
        ({"regions": ["worldwide"], "valid_until": "2027-06-30", "editorial_only": False}, Verdict.ALLOWED),
        ({"regions": ["worldwide"], "valid_until": "2026-11-01", "editorial_only": False}, Verdict.REFUSED),
        ({"regions": ["worldwide"], "valid_from": "2027-01-01", "editorial_only": False}, Verdict.REFUSED),
        ({"regions": ["worldwide"], "editorial_only": True}, Verdict.REFUSED),
        ({"regions": ["worldwide"]}, Verdict.UNKNOWN),  # editorial use not stated
        (None, Verdict.UNKNOWN),  # no license at all
    ],
)
def test_an_incoming_license_clears_commercial_use_only_when_it_says_so(licence: dict | None, verdict: Verdict) -> None:
    decision = rights.evaluate(intake.incoming_rights(incoming(licence)), intake.onboarding_use(AS_OF))
    assert decision.verdict is verdict


def test_an_incoming_license_keeps_its_regions_and_channels() -> None:
    usage = intake.incoming_rights(incoming({"regions": ["europe"], "channels": ["online"], "editorial_only": False}))
    use = intake.onboarding_use(AS_OF).model_copy(update={"region": "us"})
    assert rights.evaluate(usage, use).verdict is Verdict.REFUSED
    assert (
        rights.evaluate(usage, use.model_copy(update={"region": "de", "channel": "print"})).verdict is Verdict.REFUSED
    )
    assert rights.evaluate(usage, use.model_copy(update={"region": "de", "channel": "online"})).allowed
    unknown_regions = intake.incoming_rights(incoming({"editorial_only": False}))
    assert rights.evaluate(unknown_regions, use.model_copy(update={"region": "de"})).verdict is Verdict.UNKNOWN
    assert incoming(None).reference == "bynder:b-1"
