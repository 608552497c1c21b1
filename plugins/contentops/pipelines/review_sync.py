"""Keep an open review workflow and its Smint.io asset in step, both ways (OWS-5).

One way to do it, for every review whose subject is a Smint.io asset — the localization's
regional review of a variant and the campaign approval of an asset (the default model and the
agency clients' models):

- each reviewer comment of the workflow lands on the asset once, with an ``external_ref``
  naming the instance and the comment;
- each Smint.io comment written by a person lands on the workflow once, marked
  :data:`MIRROR_MARK`; a comment we mirrored from the workflow (it has an ``external_ref``) is
  never sent back, and a comment we wrote into the workflow is never taken for a reviewer's;
- the asset's approval status and version reach the workflow as the variables
  ``smintio_status`` / ``smintio_version``, once per status and version, while the instance runs.

Each write goes through :meth:`PipelineRun.deliver_once` under a ``pipeline`` name of the
caller's choosing that does not depend on the DAG that runs the sync, so a review synced by one
DAG today and by the workflow-outcomes pipeline tomorrow writes nothing twice.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from contentops.targets import TargetSystem

if TYPE_CHECKING:
    from contentops.pipelines.runtime import PipelineRun

#: the mark on a Smint.io comment mirrored into a workflow
MIRROR_MARK = "[Smint.io]"
#: ledger target of the reviewer comments written to a Smint.io asset
SMINTIO_COMMENTS = TargetSystem.SMINTIO.of("comments")
#: ledger targets of the writes to a review's workflow instance (comments: one target per instance)
WORKFLOW_COMMENTS = TargetSystem.WORKFLOW.of("comments")
WORKFLOW_SMINTIO_STATUS = TargetSystem.WORKFLOW.of("smintio_status")


def mirrored_into_workflow(run: PipelineRun, asset_id: str) -> set[str]:
    """Ids of the workflow comments we wrote (Smint.io comments mirrored), so they never go back."""
    return {
        str(effect["remote_id"])
        for effect in run.ledger.effects(asset_id=asset_id)
        if str(effect["target"]).startswith(WORKFLOW_COMMENTS.prefix) and effect["remote_id"]
    }


def reviewer_comments(run: PipelineRun, instance: Any, asset_id: str) -> list[str]:
    """What the reviewers said on the workflow (not the comments we mirrored into it), oldest first."""
    ours = mirrored_into_workflow(run, asset_id)
    return [
        str(c.get("message"))
        for c in run.hook("workflow").comments(instance.id)
        if str(c.get("id")) not in ours and c.get("message")
    ]


def sync_review_with_asset(
    run: PipelineRun, instance: Any, asset_id: str, *, pipeline: str, reviewer: str = "reviewer"
) -> Counter[str]:
    """Sync one review instance with its Smint.io asset both ways; the comments mirrored, counted.

    ``reviewer`` is the author given to a workflow comment that names none; ``pipeline`` the
    ledger name the writes are kept under (stable whichever DAG calls this)."""
    counts: Counter[str] = Counter()
    if run.dry_run:
        return counts
    workflow = run.hook("workflow")
    smintio = run.hook("smintio")
    ours = mirrored_into_workflow(run, asset_id)
    for comment in workflow.comments(instance.id):
        comment_id = str(comment.get("id"))
        if comment_id in ours or not comment.get("message"):
            continue

        def to_smintio(_plan: Any, comment: dict[str, Any] = comment, comment_id: str = comment_id) -> str:
            return smintio.add_comment(
                asset_id,
                str(comment["message"]),
                author=str(comment.get("author") or reviewer),
                external_ref=f"ows:{instance.id}:{comment_id}",
            ).id

        sent = run.deliver_once(asset_id, f"ows-{comment_id}", SMINTIO_COMMENTS, to_smintio, pipeline=pipeline)
        if sent.action.value != "skip":
            counts["comments_to_smintio"] += 1
    asset = smintio.get_asset(asset_id)
    for smintio_comment in smintio.comments(asset_id):
        if smintio_comment.external_ref:  # mirrored from the workflow: it came from there
            continue

        def to_workflow(_plan: Any, comment: Any = smintio_comment) -> str:
            message = f"{MIRROR_MARK} {comment.author or 'Smint.io user'}: {comment.text}"
            return str(workflow.add_comment(instance.id, message).get("id"))

        target = TargetSystem.WORKFLOW.of("comments", instance.id)
        sent = run.deliver_once(asset_id, f"smintio-{smintio_comment.id}", target, to_workflow, pipeline=pipeline)
        if sent.action.value != "skip":
            counts["comments_to_workflow"] += 1
    status = asset.approval_status.value

    def push_status(_plan: Any) -> str:
        workflow.set_variables(instance.id, {"smintio_status": status, "smintio_version": asset.version})
        return str(instance.id)

    if not instance.ended:  # an ended instance takes no variables any more (the runtime API answers 404)
        run.deliver_once(
            asset_id, f"status-{status}-v{asset.version}", WORKFLOW_SMINTIO_STATUS, push_status, pipeline=pipeline
        )
    return counts
