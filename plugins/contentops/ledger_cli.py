"""``python -m contentops.ledger_cli``: ask the ledger what happened.

    python -m contentops.ledger_cli where <asset id>      # where did this asset go, when, under which license?
    python -m contentops.ledger_cli quarantine [--source smintio] [--all] [--export csv|json]
    python -m contentops.ledger_cli resolve <id> --note "fixed by hand in Smint.io"
    python -m contentops.ledger_cli replay <id>             # queue it for the quarantine_replay DAG
    python -m contentops.ledger_cli replay <id> --here      # or replay it in this process, now
    python -m contentops.ledger_cli audit <subject>
    python -m contentops.ledger_cli claims                # workflow starts claimed, no instance recorded
    python -m contentops.ledger_cli release-claim <business key>
    python -m contentops.ledger_cli upgrade               # migrate the schema now (tasks do it on first use)

The ledger is found as tasks find it (the ``contentops_ledger`` connection, then
``CONTENTOPS_LEDGER_URL``), or given with ``--url``. Outside Airflow, where the connection is
often not visible, the local demo ledger ``$CONTENTOPS_HOME/ledger.sqlite`` is read if it
exists, and the CLI says so. It never creates a ledger: a URL without one is an error.

``replay`` queues the row for the ``quarantine_replay`` DAG, which replays it in a worker with
the connections and rotated refresh tokens every task uses (as the UI's Quarantine page does);
``replay --here`` runs the row's pipeline step in this process instead, against the partner
connections visible here — for a shell that holds them (a worker's, the local demo's).
"""

from __future__ import annotations

import argparse
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from contentops import quarantine as quarantine_ops
from contentops.ledger import Ledger


def _configured_url() -> str:
    from contentops.config import contentops_home
    from contentops.hooks.errors import InvalidConnectionError
    from contentops.hooks.ledger import LedgerHook

    try:
        return LedgerHook().sqlalchemy_url()
    except InvalidConnectionError as exc:
        local = contentops_home() / "ledger.sqlite"
        if not local.is_file():
            raise SystemExit(f"{exc} Or pass --url.") from None
        sys.stderr.write(f"(no ledger connection visible here: reading the local ledger {local})\n")
        return f"sqlite:///{local}"


def _ledger(url: str | None, *, upgrade: bool = True) -> Ledger:
    """The ledger at ``url`` (or the configured one), upgraded as a task would; never a new one."""
    url = url or _configured_url()
    parsed = make_url(url)
    file = parsed.database if parsed.get_backend_name() == "sqlite" else None
    if file not in (None, "", ":memory:") and not Path(str(file)).is_file():
        raise SystemExit(f"no ledger at {file}")
    ledger = Ledger(url)
    if ledger.schema_version() == 0:
        raise SystemExit(f"no ledger schema in {ledger!r}")
    if upgrade:
        ledger.migrate()
    return ledger


def _operator() -> str:
    """Who resolved or replayed a row from the shell (kept with the row's note and the audit)."""
    try:
        return f"{getpass.getuser()} (ledger_cli)"
    except OSError:
        return "ledger_cli"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m contentops.ledger_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="SQLAlchemy URL of the ledger")
    commands = parser.add_subparsers(dest="command", required=True)
    where = commands.add_parser("where", help="every target an asset was delivered to")
    where.add_argument("asset_id")
    quarantine = commands.add_parser("quarantine", help="unresolved quarantined partner records")
    quarantine.add_argument("--source")
    quarantine.add_argument("--all", action="store_true", help="resolved rows too")
    quarantine.add_argument("--export", choices=("csv", "json"), help="every field, raw payload included")
    resolve = commands.add_parser("resolve", help="close a quarantine row with a note saying why")
    resolve.add_argument("quarantine_id", type=int)
    resolve.add_argument("--note", required=True)
    replay = commands.add_parser("replay", help="read a quarantined record again and take it in if it now validates")
    replay.add_argument("quarantine_id", type=int)
    replay.add_argument("--here", action="store_true", help="replay in this process instead of queueing it")
    audit = commands.add_parser("audit", help="the audit trail of a subject (asset id)")
    audit.add_argument("subject")
    commands.add_parser("claims", help="workflow starts claimed without a recorded instance (stuck or failed)")
    release = commands.add_parser(
        "release-claim", help="free a claim without an instance; the next run looks the partner up and starts"
    )
    release.add_argument("business_key")
    commands.add_parser("upgrade", help="migrate the ledger's schema to this release's latest version")
    args = parser.parse_args(argv)
    out = sys.stdout
    if args.command == "upgrade":
        ledger = _ledger(args.url, upgrade=False)
        before = ledger.schema_version()
        after = ledger.migrate()
        out.write(f"{ledger!r}: schema version {before} -> {after}{' (already current)' if after == before else ''}\n")
        return 0
    ledger = _ledger(args.url)
    if args.command == "where":
        rows = ledger.where_did_it_go(args.asset_id)
        if not rows:
            out.write(f"{args.asset_id} was not delivered anywhere\n")
        for row in rows:
            out.write(
                f"{row.updated_at:%Y-%m-%d %H:%M} {row.status:<10} {row.target:<40} version {row.version} "
                f"remote {row.remote_id} license {row.license_ref or '-'} ({row.pipeline})\n"
            )
    elif args.command == "quarantine":
        records = ledger.quarantined(source=args.source, include_resolved=args.all)
        if args.export:
            out.write(quarantine_ops.export(records, args.export))
            return 0
        for record in records:
            replayable = "replayable" if quarantine_ops.replayer_for(record) else "resolve by hand"
            state = f"resolved {record.resolved_at:%Y-%m-%d %H:%M}" if record.resolved_at else replayable
            out.write(
                f"#{record.id} {record.created_at:%Y-%m-%d %H:%M} {record.source}/{record.kind} "
                f"{record.ref or '-'} [{state}]: {record.reason}\n"
            )
    elif args.command == "resolve":
        try:
            done = quarantine_ops.resolve(ledger, args.quarantine_id, args.note, by=_operator())
        except ValueError as exc:
            raise SystemExit(str(exc)) from None
        if not done:
            out.write(f"#{args.quarantine_id}: no open quarantine row (nothing resolved)\n")
            return 1
        out.write(f"#{args.quarantine_id}: resolved\n")
    elif args.command == "replay" and not args.here:
        record = quarantine_ops.find(ledger, args.quarantine_id)
        if record is None or record.resolved_at is not None:
            out.write(f"#{args.quarantine_id}: no open quarantine row (nothing queued)\n")
            return 1
        if quarantine_ops.replayer_for(record) is None:
            out.write(f"#{record.id}: not replayable: no pipeline step reads a {record.source} {record.kind} again\n")
            return 1
        quarantine_ops.request_replay(ledger, record.id, by=_operator())
        out.write(
            f"#{record.id}: queued; the next {quarantine_ops.REPLAY_DAG_ID} run replays it "
            f"(now: airflow dags trigger {quarantine_ops.REPLAY_DAG_ID})\n"
        )
    elif args.command == "replay":
        result = quarantine_ops.replay(ledger, args.quarantine_id, by=_operator())
        out.write(f"#{result.quarantine_id}: {result.outcome.value.replace('_', ' ')}: {result.detail}\n")
        return 0 if result.outcome is quarantine_ops.Outcome.TAKEN_IN else 1
    elif args.command == "claims":
        now = datetime.now(UTC)
        claims = ledger.claims()
        if not claims:
            out.write("no open claims\n")
        for claim in claims:
            lease = "released" if claim.lease_over(now) else f"held until {claim.lease_until:%Y-%m-%d %H:%M:%S} UTC"
            out.write(
                f"{claim.business_key} ({claim.definition}) run {claim.run_id or '-'} {lease}"
                f"{f'; last error: {claim.last_error}' if claim.last_error else ''}\n"
            )
    elif args.command == "release-claim":
        if not ledger.release_claim(args.business_key):
            out.write(f"{args.business_key}: no claim without an instance (nothing released)\n")
            return 1
        out.write(f"{args.business_key}: released; the next run looks the partner up by it and starts or adopts\n")
    else:
        for entry in ledger.audit_trail(subject=args.subject):
            out.write(f"{entry.at:%Y-%m-%d %H:%M} {entry.pipeline} {entry.action} {json.dumps(entry.details)}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
