"""``seatledger import rvtools|hyperv FILE…`` and ``seatledger servers``: the server topology
and the position the vendors' rules give it."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Sequence
from pathlib import Path

from seatledger.cli.output import EXIT_FAILED, EXIT_OK, say
from seatledger.cli.session import reader, signed_in
from seatledger.domain import validation
from seatledger.domain.server.microsoft import Edition
from seatledger.domain.server.topology import Reach
from seatledger.errors import KnownError
from seatledger.ingest.snapshot_text import taken_at_of
from seatledger.services.position.export import export_table
from seatledger.services.servers import position
from seatledger.services.servers.importing import TopologySource
from seatledger.services.servers.position import ServerPosition, WhatIf
from seatledger.services.servers.statements import StatementKind
from seatledger.text import plural

TOPOLOGY_KINDS = {"rvtools": TopologySource.RVTOOLS, "hyperv": TopologySource.HYPERV}
STATEMENT_KINDS = {"mls": StatementKind.MLS, "ilmt": StatementKind.ILMT}


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
    if _refused(preview.problems):
        return EXIT_FAILED
    if args.dry_run:
        if preview.already_imported is not None:
            say(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        say("No problems: the export would be imported (dry run).")
        return EXIT_OK
    result = service.import_topology(paths, source, taken_at=taken_at)
    say(result.summary())
    return EXIT_OK


def _refused(problems: Sequence[object]) -> bool:
    """Say a preview's problems (the first 50) and that nothing was imported; False if none."""
    if not problems:
        return False
    say(f"{plural(len(problems), 'problem')}; nothing was imported:")
    for problem in problems[:50]:
        say(f"  {problem}")
    if len(problems) > 50:
        say(f"  ...and {len(problems) - 50:,} more")
    return True


def cmd_import_statement(args: argparse.Namespace) -> int:
    """Preview a vendor statement (a Microsoft License Statement, an ILMT audit snapshot), then
    store it unless it has problems, is older than the newest of its kind stored, or
    --dry-run; print the findings it raises."""
    kind = STATEMENT_KINDS[args.kind]
    if len(args.file) != 1:
        raise KnownError(f"Give one {kind.label} (one file) at a time.")
    for flag in ("mapping", "host", "server", "rejects", "taken_at", "date_order"):
        if getattr(args, flag):
            raise KnownError(f"--{flag.replace('_', '-')} is not read for {kind.label}.")
    if args.full or args.skip_invalid:
        raise KnownError(f"{kind.label} is read whole (no --full or --skip-invalid).")
    path = Path(args.file[0])
    service = (reader(args) if args.dry_run else signed_in(args)).servers
    preview = service.preview_statement(path, kind)
    say(f"{preview.file}: {preview.summary()}; SHA-256 {preview.sha256[:16]}…")
    for note in preview.notes:
        say(f"  {note}")
    if _refused(preview.problems):
        return EXIT_FAILED
    if preview.already_imported is not None:
        say(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}; nothing changes.")
        return EXIT_OK
    if preview.newer_stored is not None:
        say(
            f"Refused: a statement calculated on {preview.newer_stored:%Y-%m-%d} is stored "
            "already; the newer one is the evidence."
        )
        return EXIT_FAILED
    if args.dry_run:
        say("No problems: the statement would be imported (dry run).")
        return EXIT_OK
    result = service.import_statement(path, kind)
    say(result.summary())
    source = "License Statement" if kind is StatementKind.MLS else "ILMT audit snapshot"
    for finding in service.position().findings:
        if source in finding:
            say(f"  finding: {finding}")
    return EXIT_OK


def cmd_servers(args: argparse.Namespace) -> int:
    """Print the server position (and, with what-if options, the same after them)."""
    services = reader(args)
    as_of = validation.date(args.as_of, "--as-of") or dt.date.today()
    whatif = WhatIf(
        moves=_pairs(args.move, "--move", "VM=HOST"),
        hard_partitions={
            vm: _whole(cores, vm)
            for vm, cores in _pairs(args.hard_partition, "--hard-partition", "VM=CORES").items()
        },
        powered_off=frozenset(args.off),
        removed_hosts=frozenset(args.remove_host),
        sql_enterprise_sa=args.sql_enterprise_sa,
        oracle_reach=Reach(args.oracle_reach),
        # --edition HOST_OR_CLUSTER=standard|datacenter (read where the parser offers it)
        editions=editions_of(getattr(args, "edition", None) or []),
    )
    state = services.servers.state(as_of)
    try:
        before = position.compute(state)
        after = position.compute(state, whatif) if not whatif.empty else None
    except ValueError as exc:
        raise KnownError(str(exc)) from None
    if args.out:
        shown = after or before
        headers, rows = shown.table()
        written = export_table(headers, rows, Path(args.out))
        say(f"Wrote the server position on {as_of} ({plural(len(rows), 'row')}) to {written}.")
        return EXIT_OK
    if args.format == "json":
        body: dict[str, object] = {"position": before.as_json()}
        if after is not None:
            body["whatif"] = after.as_json()
        say(json.dumps(body, indent=2))
        return EXIT_OK
    say(f"Server position on {as_of}: {before.estate}")
    if not before.hosts and not before.physical:
        say(
            "No servers: import a hypervisor export (seatledger import rvtools|hyperv), or a "
            "device inventory that gives servers their OS (seatledger import inventory)."
        )
        return EXIT_OK
    _table(before)
    if after is not None:
        say("")
        say(f"What if {'; '.join(after.whatif)} (nothing is written):")
        _table(after, before)
    return EXIT_OK


def _table(shown: ServerPosition, before: ServerPosition | None = None) -> None:
    header = f"{'Product':<40} {'Unit':<14} {'Required':>9} {'Bought':>9} {'Short':>7}"
    if before is not None:
        header += f" {'Was':>9}"
    say(header)
    say("-" * len(header))
    for line in shown.lines:
        text = (
            f"{line.title[:40]:<40} {line.unit:<14} {line.required:>9,} {line.purchased:>9,} "
            f"{f'{line.short:,}' if line.short else '':>7}"
        )
        was = None if before is None else before.line(line.family, line.product)
        if before is not None:
            text += f" {was.required if was is not None else 0:>9,}"
        say(text)
        say(f"    {line.reason}")
        if before is not None and line.cost is not None:
            old = was.cost if was is not None and was.cost is not None else 0
            if line.cost != old:
                say(
                    f"    Cost at these prices {line.cost:,.2f}, was {old:,.2f} "
                    f"({line.cost - old:+,.2f})."
                )
    for finding in shown.findings:
        say(f"  finding: {finding}")


def editions_of(given: list[str]) -> dict[str, Edition]:
    """``--edition`` values: each host, cluster or physical server and the edition it takes."""
    editions = {}
    for name, value in _pairs(given, "--edition", "HOST_OR_CLUSTER=standard|datacenter").items():
        edition = next((e for e in Edition if e.value.casefold() == value.casefold()), None)
        if edition is None:
            raise KnownError(f"--edition {name}={value}: the edition is standard or datacenter.")
        editions[name] = edition
    return editions


def _pairs(given: list[str], option: str, shape: str) -> dict[str, str]:
    pairs = {}
    for text in given:
        name, sep, value = text.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise KnownError(f"{option} '{text}' is not {shape}.")
        pairs[name.strip()] = value.strip()
    return pairs


def _whole(text: str, vm: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise KnownError(f"--hard-partition {vm}={text}: the cores are a whole number from 1.")
    return int(text)


def cmd_partition(args: argparse.Namespace) -> int:
    """Record (or clear) a VM's approved hard partition: one ledger entry."""
    if (args.cores is None) == (not args.none):
        raise KnownError("Give --cores N (the physical cores it is pinned to) or --none.")
    services = signed_in(args)
    services.servers.set_hard_partition(args.vm, None if args.none else args.cores, args.reason)
    if args.none:
        say(f"{args.vm} is no longer recorded as a hard partition.")
    else:
        say(f"{args.vm} is recorded as a hard partition of {plural(args.cores, 'core')}.")
    return EXIT_OK
