"""Attach targets on request (CON-3): a title, a manuscript or a production task an editor named."""

from __future__ import annotations

from enum import StrEnum

from contentops.mapping.titles.matching import as_strings
from contentops.models.smintio import Asset
from contentops.targets import TargetSystem


class AttachTarget(StrEnum):
    """What an approved asset is attached to on request: the title record (and the edition its
    ISBN names), a manuscript, or a production task of the title's schedule."""

    TITLE = "title"
    MANUSCRIPT = "manuscript"
    PRODUCTION_TASK = "production_task"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


#: Smint.io-side requests: metadata key and tag prefix naming a Consonance target per kind
ATTACH_REQUEST_KEYS: dict[AttachTarget, tuple[str, str]] = {
    AttachTarget.PRODUCTION_TASK: ("consonance_task", "consonance-task:"),
    AttachTarget.MANUSCRIPT: ("consonance_manuscript", "consonance-manuscript:"),
}


def parse_attach_target(value: object) -> AttachTarget:
    """The form's target kind; empty means the title (what the form did before it had a choice)."""
    text = str(value or "").strip().lower() or AttachTarget.TITLE.value
    try:
        return AttachTarget(text)
    except ValueError:
        allowed = ", ".join(t.value for t in AttachTarget)
        raise ValueError(f"unknown attach target {value!r} (one of {allowed})") from None


def asset_attach_requests(asset: Asset) -> list[tuple[AttachTarget, str]]:
    """The Consonance production tasks and manuscripts an editor asked (in Smint.io) to attach the
    asset to: ``consonance_task`` / ``consonance_manuscript`` metadata (one id or a list) and
    ``consonance-task:<id>`` / ``consonance-manuscript:<id>`` tags; each target once, in that order."""
    found: dict[tuple[AttachTarget, str], None] = {}
    for kind, (key, prefix) in ATTACH_REQUEST_KEYS.items():
        ids = as_strings(asset.metadata.get(key))
        ids += [tag[len(prefix) :] for tag in asset.tags if tag.lower().startswith(prefix)]
        for target_id in ids:
            if target_id.strip():
                found.setdefault((kind, target_id.strip()), None)
    return list(found)


#: the ledger's target kind per attach target: not ``consonance``, which names a title record's
#: attachments (the rights sweep records license terms on those)
ATTACH_TARGET_SYSTEMS: dict[AttachTarget, TargetSystem] = {
    AttachTarget.TITLE: TargetSystem.CONSONANCE_TITLE,
    AttachTarget.MANUSCRIPT: TargetSystem.CONSONANCE_MANUSCRIPT,
    AttachTarget.PRODUCTION_TASK: TargetSystem.CONSONANCE_PRODUCTION_TASK,
}


def attach_target_ledger(kind: AttachTarget, target_id: str) -> str:
    """The ledger target of an asset attached to a manuscript or production task
    (``consonance_manuscript:<id>``, ``consonance_production_task:<id>``): not ``consonance:…``,
    which names a title record (the rights sweep records license terms on those)."""
    return str(ATTACH_TARGET_SYSTEMS[kind].of(target_id))
