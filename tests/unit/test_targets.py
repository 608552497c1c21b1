"""The delivery-target type writes and reads the ledger's target text (``<system>:<key>``) unchanged."""

from __future__ import annotations

import pytest

from contentops.targets import Target, TargetSystem

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("target", "text"),
    [
        (TargetSystem.VIP.of("ITM-1"), "vip:ITM-1"),
        (TargetSystem.TRADING_GRID.of("community-emea"), "trading_grid:community-emea"),
        (TargetSystem.TRADING_GRID_KIT.of("community-emea"), "trading_grid_kit:community-emea"),
        (TargetSystem.EXSTREAM.of("retail"), "exstream:retail"),
        (TargetSystem.EXSTREAM.of("retail").at("res-7"), "exstream:retail/res-7"),
        (TargetSystem.CONSONANCE.of("W-1", "pdf"), "consonance:W-1:pdf"),
        (TargetSystem.SMINTIO_SIGNOFF.of("c-1", "p-2"), "smintio_signoff:c-1:p-2"),
        (TargetSystem.WORKFLOW.of("asset_approval"), "workflow:asset_approval"),
        (TargetSystem.WORKFLOW.of("comments", "inst-9"), "workflow:comments:inst-9"),
        (TargetSystem.TRADING_GRID_CASE_LINK_CORRECTED.of("C-1"), "trading_grid_case_link_corrected:C-1"),
        (TargetSystem.CONSONANCE_PRODUCTION_TASK.of("60011"), "consonance_production_task:60011"),
        (Target("trading_grid", "return_status"), "trading_grid:return_status"),
        (Target(TargetSystem.VIP), "vip"),
        (Target("approval"), "approval"),
    ],
)
def test_the_text_form_is_the_ledgers_and_reads_back(target: Target, text: str) -> None:
    assert str(target) == text
    assert Target.parse(text) == target
    assert Target.parse(str(target)) == target


def test_only_the_first_separator_splits_system_from_key() -> None:
    target = Target.parse("consonance:W-1:epub")
    assert target.system == "consonance" and target.key == "W-1:epub"
    assert Target.parse("exstream:retail/res-7").key == "retail/res-7"


def test_a_system_member_and_its_text_make_the_same_target() -> None:
    assert Target(TargetSystem.VIP, "ITM-1") == Target("vip", "ITM-1")
    assert hash(Target(TargetSystem.VIP, "ITM-1")) == hash(Target("vip", "ITM-1"))
    assert type(Target(TargetSystem.VIP, "ITM-1").system) is str  # stored as text: JSON and the ledger see "vip"
    assert Target("vip", "ITM-1") != Target("vip", "ITM-2")
    assert Target("vip", "ITM-1") != Target("trading_grid", "ITM-1")


def test_a_bare_target_names_only_its_system() -> None:
    assert Target("vip").bare and Target.parse("vip").bare
    assert not TargetSystem.VIP.of("ITM-1").bare
    assert Target.parse("vip:").bare  # an empty key is no key


@pytest.mark.parametrize("text", ["", ":ITM-1", "VIP:ITM-1", "vip item:ITM-1", "1vip:x"])
def test_a_malformed_system_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="target system"):
        Target.parse(text)


def test_prefixes_select_a_kind_or_one_target_and_what_lies_inside_it() -> None:
    assert TargetSystem.VIP.prefix == "vip:"
    domain = TargetSystem.EXSTREAM.of("retail")
    assert domain.prefix == "exstream:retail"
    assert domain.at("res-7").prefix.startswith(domain.prefix)
    # a prefix is not an identity: ``matches`` tells the exact target from its longer neighbours
    assert domain.matches("exstream:retail")
    assert not domain.matches("exstream:retail2") and not domain.matches("exstream:retail/res-7")


def test_key_of_reads_the_key_only_for_its_own_kind() -> None:
    assert TargetSystem.VIP.key_of("vip:ITM-1") == "ITM-1"
    assert TargetSystem.VIP.key_of("trading_grid:ITM-1") is None
    assert TargetSystem.TRADING_GRID.key_of("trading_grid_kit:c-1") is None  # not fooled by a longer kind


def test_targets_are_immutable_and_sort_by_system_then_key() -> None:
    target = TargetSystem.VIP.of("ITM-1")
    with pytest.raises(AttributeError):
        target.key = "ITM-2"  # type: ignore[misc]
    unsorted = [Target("vip", "b"), Target("exstream", "z"), Target("vip", "a")]
    assert [str(t) for t in sorted(unsorted)] == ["exstream:z", "vip:a", "vip:b"]


def test_the_named_target_builders_keep_the_ledgers_text() -> None:
    """Ledger rows already written name these targets: the builders must give the same text."""
    from contentops.hooks.consonance import ledger_target
    from contentops.mapping.titles import AttachTarget, attach_target_ledger
    from contentops.pipelines.licenses import cursor_name

    assert ledger_target("W-1") == "consonance:W-1"
    assert cursor_name("smintio_default") == "smintio:smintio_default:license_purchase_transactions"
    assert [attach_target_ledger(kind, "7") for kind in AttachTarget] == [
        "consonance_title:7",
        "consonance_manuscript:7",
        "consonance_production_task:7",
    ]
