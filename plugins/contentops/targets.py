"""Where an effect goes: one type for the ledger's delivery targets.

Every delivery slot and audit entry names a target: a kind of destination (``vip``,
``trading_grid``, ``exstream``, a workflow, a Smint.io write …) and, mostly, a key within it
(the VIP catalog item, the community, the Exstream domain). The ledger stores the target as the
text ``<system>:<key>`` (``vip:ITEM-1``, ``exstream:retail/res-7``), or the bare ``<system>``
when there is no key; the rights expiry sweep and the reports read those strings back, so the
text form is a contract. :class:`Target` builds and reads that text in one place instead of
each pipeline formatting and slicing it by hand.

Pure Python, no Airflow: the domain modules and the tests use it as they are.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["RESOURCE_SEPARATOR", "SEPARATOR", "Target", "TargetSystem"]

#: between the system and the key in the ledger's text form
SEPARATOR = ":"
#: between a container and a resource inside it (``exstream:<domain>/<resource>``)
RESOURCE_SEPARATOR = "/"

_SYSTEM = re.compile(r"[a-z][a-z0-9_]*")


class TargetSystem(StrEnum):
    """The kinds of target the pipelines write to (the part before the first ``:``).

    A member is the text itself (``TargetSystem.VIP == "vip"``), so ledger queries by kind use
    :attr:`prefix` and targets are made with :meth:`of`.
    """

    # deliveries of content to a partner
    VIP = "vip"
    TRADING_GRID = "trading_grid"
    TRADING_GRID_KIT = "trading_grid_kit"
    TRADING_GRID_SIGNOFF = "trading_grid_signoff"
    TRADING_GRID_GUIDANCE = "trading_grid_guidance"
    TRADING_GRID_CASE = "trading_grid_case"
    TRADING_GRID_CASE_UPDATE = "trading_grid_case_update"
    TRADING_GRID_CASE_LINK = "trading_grid_case_link"
    TRADING_GRID_CASE_LINK_CORRECTED = "trading_grid_case_link_corrected"
    TRADING_GRID_CASE_RIGHTS = "trading_grid_case_rights"
    EXSTREAM = "exstream"
    EXSTREAM_REVIEW = "exstream_review"
    EXSTREAM_REVIEW_OUTCOME = "exstream_review_outcome"
    EXSTREAM_BLOCK = "exstream_block"
    CONSONANCE = "consonance"
    CONSONANCE_RETIRED = "consonance_retired"
    CONSONANCE_TERMS = "consonance_terms"
    # attachments an editor asked for on request (not a title record's ``consonance:<work>``)
    CONSONANCE_TITLE = "consonance_title"
    CONSONANCE_MANUSCRIPT = "consonance_manuscript"
    CONSONANCE_PRODUCTION_TASK = "consonance_production_task"
    # writes back to Smint.io
    SMINTIO = "smintio"
    SMINTIO_METADATA = "smintio_metadata"
    SMINTIO_TITLE = "smintio_title"
    SMINTIO_CURRENT = "smintio_current"
    SMINTIO_RETIRED = "smintio_retired"
    SMINTIO_SIGNOFF = "smintio_signoff"
    SMINTIO_SIGNOFF_COMPLETE = "smintio_signoff_complete"
    SMINTIO_SIGNOFF_CHANGES = "smintio_signoff_changes"
    SMINTIO_SIGNOFF_RESENT = "smintio_signoff_resent"
    SMINTIO_COMPLIANCE_REVIEW = "smintio_compliance_review"
    SMINTIO_TEMPLATE_REVIEW = "smintio_template_review"
    SMINTIO_FEEDBACK = "smintio_feedback"
    SMINTIO_USAGE = "smintio_usage"
    SMINTIO_CORRECTION = "smintio_correction"
    SMINTIO_CORRECTION_CLOSED = "smintio_correction_closed"
    # OpenText Workflow Service
    WORKFLOW = "workflow"
    WORKFLOW_TASK = "workflow_task"
    WORKFLOW_COMMENT = "workflow_comment"
    # decisions that name no partner object (audit only)
    APPROVAL = "approval"
    USAGE_REVIEW = "usage_review"
    CAMPAIGN = "campaign"
    LICENSE = "license"

    @property
    def prefix(self) -> str:
        """What every keyed target of this kind starts with (for the ledger's ``target_prefix``)."""
        return f"{self.value}{SEPARATOR}"

    def of(self, *parts: object) -> Target:
        """A target of this kind; several parts make one key joined by ``:`` (``consonance:<work>:<format>``)."""
        return Target(self.value, SEPARATOR.join(str(p) for p in parts))

    def key_of(self, text: str) -> str | None:
        """The key of ``text`` when it is a target of this kind, else None."""
        target = Target.parse(text)
        return target.key if target.system == self.value else None


@dataclass(frozen=True, order=True)
class Target:
    """One destination: a system (see :class:`TargetSystem`; others are allowed) and a key in it.

    ``str(target)`` is the ledger's text form and :meth:`parse` reads it back, so
    ``Target.parse(str(t)) == t`` for every target.
    """

    system: str
    key: str = ""

    def __post_init__(self) -> None:
        system = str(self.system)
        if not _SYSTEM.fullmatch(system):
            raise ValueError(f"a target system is lower-case letters, digits and '_': {system!r}")
        object.__setattr__(self, "system", system)  # a TargetSystem member is stored as its text
        object.__setattr__(self, "key", str(self.key))

    def __str__(self) -> str:
        return f"{self.system}{SEPARATOR}{self.key}" if self.key else self.system

    @classmethod
    def parse(cls, text: str) -> Target:
        """The target a ledger string names (``vip:ITEM-1`` -> ``Target("vip", "ITEM-1")``).

        Only the first ``:`` separates system and key: keys may hold more (``consonance:W1:pdf``).
        """
        system, _, key = str(text).partition(SEPARATOR)
        return cls(system, key)

    @property
    def bare(self) -> bool:
        """True for a target naming only its system (``vip``: no catalog item known)."""
        return not self.key

    @property
    def prefix(self) -> str:
        """The text the ledger's ``target_prefix`` query takes for this target and what lies inside it."""
        return str(self)

    def at(self, resource: object) -> Target:
        """A resource inside this target (``exstream:<domain>`` -> ``exstream:<domain>/<resource>``)."""
        return Target(self.system, f"{self.key}{RESOURCE_SEPARATOR}{resource}")

    def matches(self, text: str) -> bool:
        """Is ``text`` (a ledger row's target) exactly this target?"""
        return str(text) == str(self)
