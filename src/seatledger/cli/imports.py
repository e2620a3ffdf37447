"""``seatledger import``: preview a file, then commit it unless it has problems or ``--dry-run``."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
from pathlib import Path

from seatledger.cli.output import (
    EXIT_FAILED,
    EXIT_OK,
    clear_progress_line,
    err,
    progress_line,
    say,
)
from seatledger.cli.servers import (
    STATEMENT_KINDS,
    TOPOLOGY_KINDS,
    cmd_import_statement,
    cmd_import_topology,
)
from seatledger.cli.session import reader, signed_in
from seatledger.errors import KnownError
from seatledger.ingest.formats import Kind
from seatledger.ingest.snapshot_text import taken_at_of
from seatledger.ingest.tabular import ImportFileError
from seatledger.ingest.values import DateOrder
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.service import ImportRejected
from seatledger.text import plural


def cmd_import(args: argparse.Namespace) -> int:
    """Preview a file, then commit it unless it has problems or --dry-run was given.

    A file refused whole (not the format it says, cut short, several runs appended) exits 1 as a
    file with problems does: 0 means committed, or a dry run that found nothing wrong.
    """
    try:
        return _import(args)
    except (ImportFileError, ImportRejected) as exc:
        err(str(exc))
        return EXIT_FAILED


def _import(args: argparse.Namespace) -> int:
    if args.kind in TOPOLOGY_KINDS:
        return cmd_import_topology(args)
    if args.kind in STATEMENT_KINDS:
        return cmd_import_statement(args)
    if len(args.file) > 1:
        raise KnownError(f"One file at a time for {args.kind} (given {len(args.file)}).")
    path = Path(args.file[0])
    kind = Kind(args.kind)
    if args.rejects and not args.skip_invalid:
        raise KnownError("--rejects names where --skip-invalid writes the refused rows; give both.")
    service = (reader(args) if args.dry_run else signed_in(args)).imports
    mapping = None
    if args.mapping:
        saved_kind, mapping = service.mapping(args.mapping)
        if saved_kind is not kind:
            raise KnownError(
                f"Mapping '{args.mapping}' is for {saved_kind.value}, not {kind.value}."
            )
    rejects = Path(args.rejects) if args.rejects else path.with_name(f"{path.stem}.rejects.csv")
    taken_at = _moment(args.taken_at) if args.taken_at else None
    options = ImportOptions(
        kind,
        mapping=mapping,
        mapping_name=args.mapping,
        date_order=DateOrder(args.date_order) if args.date_order else None,
        full_export=args.full,
        host=args.host,
        server=args.server,
        taken_at=taken_at,
        skip_invalid=args.skip_invalid,
        rejects=rejects if args.skip_invalid else None,
    )
    preview = service.preview(path, options, progress_line("Reading"))
    clear_progress_line()
    facts = preview.facts
    say(
        f"{facts.path.name}: {preview.format_name}; {facts.encoding_label}; "
        + (f"{preview.delimiter} delimited; " if preview.delimiter.strip() else "")
        + f"{preview.rows:,} rows; SHA-256 {facts.sha256[:16]}…"
    )
    if preview.date_note:
        say(preview.date_note)
    skipping = args.skip_invalid and preview.skippable
    if preview.problem_count:
        lead = (
            f"{plural(preview.refused_rows, 'row')} will be refused and written to {rejects}"
            if skipping
            else "nothing was imported"
        )
        say(f"{plural(preview.problem_count, 'problem')}; {lead}:")
        for problem in preview.problems[:50]:
            say(f"  {facts.path.name}, {problem}")
        if preview.problem_count > 50:
            say(f"  ...and {preview.problem_count - 50:,} more")
        if not skipping:
            return EXIT_FAILED
    if args.dry_run:
        if preview.already_imported is not None:
            say(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        refused = f", {preview.refused_rows:,} refused" if preview.problem_count else ""
        verdict = "No problems" if not preview.problem_count else "Valid rows"
        say(f"{verdict}: {preview.records:,} records would be imported{refused} (dry run).")
        return EXIT_OK
    options = dataclasses.replace(options, date_order=preview.date_order)
    result = service.commit(
        path, options, expected_sha256=facts.sha256, progress=progress_line("Importing")
    )
    clear_progress_line()
    say(result.summary())
    for note in result.notes:
        say(f"  {note}")
    return EXIT_OK


def _moment(text: str) -> dt.datetime:
    """``--taken-at``: 'YYYY-MM-DD HH:MM' (or with seconds), the license server's time."""
    moment = taken_at_of(text)
    if moment is None:
        raise KnownError(
            f"--taken-at '{text}' is not a time: give 'YYYY-MM-DD HH:MM' (or with seconds), the "
            "license server's time when the snapshot was taken."
        )
    return moment
