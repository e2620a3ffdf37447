"""``seatledger import rvtools|hyperv FILE…`` and ``seatledger servers``: the server topology
and the position the vendors' rules give it."""

from __future__ import annotations

import argparse
from pathlib import Path

from seatledger.cli.output import EXIT_FAILED, EXIT_OK, say
from seatledger.cli.session import reader, signed_in
from seatledger.errors import KnownError
from seatledger.ingest.snapshot_text import taken_at_of
from seatledger.services.servers.importing import TopologySource
from seatledger.text import plural

TOPOLOGY_KINDS = {"rvtools": TopologySource.RVTOOLS, "hyperv": TopologySource.HYPERV}


def cmd_import_topology(args: argparse.Namespace) -> int:
    """Preview an RVTools or Hyper-V export, then store it unless it has problems or --dry-run."""
    source = TOPOLOGY_KINDS[args.kind]
    paths = [Path(name) for name in args.file]
    for flag in ("mapping", "host", "server", "rejects"):
        if getattr(args, flag):
            raise KnownError(f"--{flag} is not read for {source.label}; leave it out.")
    if args.full or args.skip_invalid or args.date_order:
        raise KnownError(
            f"{source.label} is read whole (no --full, --skip-invalid or --date-order): a VM "
            "left out would read as one that is gone."
        )
    taken_at = None
    if args.taken_at:
        taken_at = taken_at_of(args.taken_at)
        if taken_at is None:
            raise KnownError(
                f"--taken-at '{args.taken_at}' is not a time: give 'YYYY-MM-DD HH:MM' (UTC), "
                "when the export was taken."
            )
    service = (reader(args) if args.dry_run else signed_in(args)).servers
    preview = service.preview_import(paths, source)
    say(f"{', '.join(preview.files)}: {preview.summary()}; SHA-256 {preview.sha256[:16]}…")
    for sheet, where in preview.sheets.items():
        say(f"  {sheet}: {where}")
    for note in preview.notes:
        say(f"  {note}")
    if preview.problems:
        say(f"{plural(len(preview.problems), 'problem')}; nothing was imported:")
        for problem in preview.problems[:50]:
            say(f"  {problem}")
        if len(preview.problems) > 50:
            say(f"  ...and {len(preview.problems) - 50:,} more")
        return EXIT_FAILED
    if args.dry_run:
        if preview.already_imported is not None:
            say(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        say("No problems: the export would be imported (dry run).")
        return EXIT_OK
    result = service.import_topology(paths, source, taken_at=taken_at)
    say(result.summary())
    return EXIT_OK
