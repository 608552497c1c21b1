"""Replaying a quarantined localized return: the loop's own checks and take-in step, once.

The localization return loop quarantines a return it refuses (``localized_return`` rows, ref
``<source>:<return id>``) and tells its sender. Once the sender has fixed it — the file is
there now, the master's license allows the language, the record reads correctly — an operator
replays the row (:mod:`contentops.quarantine`): the return is read again from its partner by its
id and put through the same checks (:func:`~contentops.pipelines.localization.check_return`) and
the same take-in step (:func:`~contentops.pipelines.localization.take_in_one`: download confined
to the partner's origin, the bytes sniffed, the variant uploaded to Smint.io, its regional review
started, the sender told ``in_review``). The loop's next runs sync and apply that review as any
other. Every write goes through the loop's own ledger slots, so a replay that passes takes the
return in exactly once however often it is asked for.

A return that fails again is not quarantined a second time: the replay says why, and the row
keeps its place with that reason (its sender is told once per status, as by the loop).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from pydantic import ValidationError

from contentops.hooks.base import describe_validation_error
from contentops.hooks.errors import MalformedResponseError, NotFoundError
from contentops.pipelines import localization
from contentops.pipelines.runtime import PipelineRun
from contentops.returns import LocalizedReturn, Refusal, RefusalCode, ReturnPolicy

#: the quarantine kind of a refused return (``source`` is ``vip`` or ``trading_grid``)
KIND = "localized_return"
#: the statuses a quarantined return has at its partner: still undecided, or what the loop told
#: its sender when it refused it. A return decided otherwise since (in review, accepted) is not
#: taken in again.
REPLAYABLE_STATUSES = {
    source: statuses | {"quarantined", "rejected"} for source, statuses in localization.OPEN_STATUSES.items()
}


def replay_return(run: PipelineRun, ref: str | None, *, policy: ReturnPolicy | None = None) -> tuple[bool, str]:
    """Read the return ``ref`` names again and take it in if it passes now.

    ``(True, what happened)`` when it was taken in (or was already, by an earlier replay), else
    ``(False, the reason it fails now)``. ``run`` is a run of the loop (its ledger slots)."""
    policy = policy or ReturnPolicy()
    source, _, return_id = (ref or "").partition(":")
    if source not in REPLAYABLE_STATUSES or not return_id.strip():
        return False, f"no return reference to read it again by ({ref!r})"
    partner = run.hook(source)
    fetch = partner.get_return if source == "vip" else partner.get_submission
    try:
        record = fetch(return_id)
    except NotFoundError:
        return False, f"{source} no longer has return {return_id}"
    except ValidationError as exc:
        return False, f"the return could not be read: {describe_validation_error(exc)}"
    except MalformedResponseError as exc:
        return False, f"the return could not be read: {exc}"
    if record.status not in REPLAYABLE_STATUSES[source]:
        return False, f"decided at {source} since (status {record.status}): nothing to take in"
    item = localization.candidate_of(source, record)

    from contentops.pipelines.licenses import sync_license_index

    sync_license_index(run)  # as the loop does first: the master's rights are decided on current licenses
    refusal, master = localization.check_return(run, run.hook("smintio"), item, policy)
    if refusal is not None and refusal.code is RefusalCode.LICENSE_UNKNOWN and localization.license_feed_owes(run):
        # as the loop holds it: the license may be one the feed served malformed; nobody is told yet
        return False, f"{refusal.describe()}; the license feed has records in quarantine"
    if refusal is not None:
        localization.tell_partner(run, source, return_id, refusal.partner_status, refusal.message)
        return False, refusal.describe()
    localization.accept_for_review(run, item, master)
    refused: list[Refusal] = []

    def keep_row(run: PipelineRun, item: LocalizedReturn, refusal: Refusal, raw: object) -> None:
        refused.append(refusal)
        localization.tell_partner(run, item.source, item.return_id, refusal.partner_status, refusal.message)

    with tempfile.TemporaryDirectory(prefix="contentops-replay-") as folder:
        localization.take_in_one(run, item, Path(folder), policy, refuse=keep_row)
    if refused:
        return False, refused[0].describe()
    return True, f"return {item.ref} taken in: a variant of {item.master_asset_id}, in regional review"
