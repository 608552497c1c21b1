"""The rights sweep's asset exceptions (OWS-4): which reasons an asset gives, and which it does not."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contentops.models.smintio import Asset
from contentops.pipelines.sweep_exceptions import (
    METADATA_MISSING,
    NO_LICENSE,
    POLICY_VIOLATION,
    SweepExceptionSettings,
    asset_exceptions,
    load_exception_settings,
)

AS_OF = datetime(2026, 6, 1, tzinfo=UTC)
REQUIRE_LEGAL_ENTITY = SweepExceptionSettings.model_validate({"required_metadata": ["legal_entity", "categories"]})


def asset(**fields: Any) -> Asset:
    base: dict[str, Any] = {
        "id": "asset-x",
        "approval_status": "approved",
        "compliance_status": "compliant",
        "categories": ["logo"],
        "created_at": "2026-01-10T00:00:00Z",
        "metadata": {"legal_entity": "ACME Bank AG"},
        "license_purchase_transaction_uuid": "lpt-1",
    }
    base.update(fields)
    return Asset.model_validate(base)


def test_a_complete_licensed_compliant_asset_has_no_exception() -> None:
    assert asset_exceptions(asset(), REQUIRE_LEGAL_ENTITY, AS_OF) == {}


@pytest.mark.parametrize(
    ("fields", "reasons"),
    [
        ({"metadata": {"legal_entity": ""}}, {METADATA_MISSING}),
        ({"categories": []}, {METADATA_MISSING}),
        ({"license_purchase_transaction_uuid": None}, {NO_LICENSE}),
        ({"compliance_status": "non_compliant"}, {POLICY_VIOLATION}),
        ({"metadata": {}, "license_purchase_transaction_uuid": None}, {METADATA_MISSING, NO_LICENSE}),
    ],
)
def test_each_reason_is_found_on_its_own(fields: dict[str, Any], reasons: set[str]) -> None:
    assert set(asset_exceptions(asset(**fields), REQUIRE_LEGAL_ENTITY, AS_OF)) == reasons


def test_only_approved_assets_are_checked() -> None:
    broken = {"metadata": {}, "license_purchase_transaction_uuid": None, "compliance_status": "non_compliant"}
    for status in ("draft", "in_review", "retired"):
        assert asset_exceptions(asset(approval_status=status, **broken), REQUIRE_LEGAL_ENTITY, AS_OF) == {}


def test_a_configured_policy_refusal_is_a_violation_but_an_unknown_answer_is_not() -> None:
    settings = SweepExceptionSettings.model_validate({"policy": {"max_age_days": 30, "forbid_editorial_use": False}})
    found = asset_exceptions(asset(), settings, AS_OF)
    assert set(found) == {POLICY_VIOLATION} and "older than 30 days" in found[POLICY_VIOLATION]
    pending = SweepExceptionSettings.model_validate(
        {"policy": {"required_compliance_status": "compliant", "forbid_editorial_use": False}}
    )
    assert asset_exceptions(asset(compliance_status=None), pending, AS_OF) == {}


def test_the_shipped_settings_load_and_require_nothing_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONTENTOPS_CONFIG_DIR", raising=False)
    assert load_exception_settings().required_metadata == ()


def test_a_typo_in_the_settings_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "rights_expiry_sweep.yaml").write_text("required_metdata: [x]\n", encoding="utf-8")
    monkeypatch.setenv("CONTENTOPS_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ValueError, match="required_metdata"):
        load_exception_settings()
