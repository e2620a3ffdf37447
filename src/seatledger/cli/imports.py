"""``seatledger import``: preview a file, then commit it unless it has problems or ``--dry-run``."""

from __future__ import annotations

import argparse
from pathlib import Path

from seatledger.cli.output import EXIT_FAILED, EXIT_OK, clear_progress_line, progress_line, say
from seatledger.cli.session import reader, signed_in
from seatledger.errors import KnownError
from seatledger.ingest.formats import Kind
from seatledger.ingest.values import DateOrder
from seatledger.services.imports.options import ImportOptions
from seatledger.text import plural


def cmd_import(args: argparse.Namespace) -> int:
    """Preview a file, then commit it unless it has problems or --dry-run was given."""
    path = Path(args.file)
    kind = Kind(args.kind)
    service = (reader(args) if args.dry_run else signed_in(args)).imports
    mapping = None
    if args.mapping:
        saved_kind, mapping = service.mapping(args.mapping)
        if saved_kind is not kind:
            raise KnownError(
                f"Mapping '{args.mapping}' is for {saved_kind.value}, not {kind.value}."
            )
    options = ImportOptions(
        kind,
        mapping=mapping,
        mapping_name=args.mapping,
        date_order=DateOrder(args.date_order) if args.date_order else None,
        full_export=args.full,
        host=args.host,
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
    if preview.problem_count:
        say(f"{plural(preview.problem_count, 'problem')}; nothing was imported:")
        for problem in preview.problems[:50]:
            say(f"  {facts.path.name}, {problem}")
        if preview.problem_count > 50:
            say(f"  ...and {preview.problem_count - 50:,} more")
        return EXIT_FAILED
    if args.dry_run:
        if preview.already_imported is not None:
            say(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        say(f"No problems: {preview.records:,} records would be imported (dry run).")
        return EXIT_OK
    options = ImportOptions(
        kind,
        mapping=mapping,
        mapping_name=args.mapping,
        date_order=preview.date_order,
        full_export=args.full,
        host=args.host,
    )
    result = service.commit(
        path, options, expected_sha256=facts.sha256, progress=progress_line("Importing")
    )
    clear_progress_line()
    say(result.summary())
    for note in result.notes:
        say(f"  {note}")
    return EXIT_OK
