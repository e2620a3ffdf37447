"""``seatledger reconcile`` (the effective license position), ``chart`` (usage against the limit,
to a file) and ``verify`` (an audit report bundle, no database needed)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import os
import sys
from pathlib import Path

from seatledger.cli.output import EXIT_OK, say
from seatledger.cli.session import reader
from seatledger.domain import validation
from seatledger.errors import KnownError
from seatledger.text import plural


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Print or write the effective license position and its findings."""
    from seatledger.services.position import export  # noqa: PLC0415

    services = reader(args)
    as_of = validation.date(args.as_of, "--as-of") or dt.date.today()
    position = services.position.position(as_of, args.shelf_days)
    if args.out:
        out = Path(args.out)
        sources = services.position.sources(position)
        written = export.export_position(position, out, sources)
        say(f"Wrote the position on {as_of} ({plural(len(position.rows), 'row')}) to {written}.")
        if out.suffix.lower() == ".csv":
            say(f"Wrote the sources behind its figures to {export.sources_path(out)}.")
        return EXIT_OK
    servers = services.servers.position(as_of)  # hosts and VMs, where a topology is stored
    if args.format == "json":
        body = export.position_json(position)
        if servers.hosts:
            body["servers"] = servers.as_json()
        say(json.dumps(body, indent=2))
        return EXIT_OK
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(export.POSITION_HEADERS)
        for row in position.rows:
            writer.writerow(
                [
                    "" if v is None else export.safe_text(v) if isinstance(v, str) else v
                    for v in export.position_cells(row)
                ]
            )
        return EXIT_OK
    say(f"Effective license position on {as_of}")
    header = (
        f"{'Product':<44} {'Metric':<22} {'Owned':>9} {'Assigned':>9} {'Needed':>9} "
        f"{'Avail.':>8} {'Unlic.':>7} {'True-up':>14}"
    )
    say(header)
    say("-" * len(header))
    for row in position.rows:
        owned = "unlim." if row.owned is None else f"{row.owned:,}"
        available = "" if row.available is None else f"{row.available:,}"
        if row.unknown_hardware and available:
            available = "<=" + available  # devices of unknown hardware are left out
        true_up = row.true_up
        cost = "?" if true_up is None else (f"{true_up:,.2f} {row.currency}" if true_up else "")
        if row.true_ups:  # bought in several currencies: priced in each, never averaged
            cost = row.true_ups_text()
        # ">=": devices whose cores are unknown are left out (a finding names them).
        needed = f">={row.needed:,}" if row.unknown_hardware else f"{row.needed:,}"
        say(
            f"{row.title[:44]:<44} {row.metric_label[:22]:<22} "
            f"{owned:>9} {row.assigned:>9,} {needed:>9} {available:>8} "
            f"{row.unlicensed:>7,} {cost:>14}"
        )
    from seatledger.services.position.engine import short_of_rights  # noqa: PLC0415

    say(f"{plural(len(position.rows), 'row')}; {short_of_rights(position.rows)}.")
    if position.basis:
        say("")
        say("What each concurrent-use figure rests on:")
        titles = {row.product_id: row.title for row in position.rows}
        for pid, basis in position.basis.items():
            say(f"  {titles.get(pid, f'product {pid}')}: {basis.text()}")
    say("")
    say(f"Findings ({len(position.findings):,}):")
    width = max([30, *(len(finding.kind.label) for finding in position.findings)])
    for finding in position.findings:  # the kinds in one column, 30 wide or the longest
        say(f"  {finding.kind.label:<{width}} {finding.title}: {finding.text}")
    if servers.hosts:
        say("")
        say(
            f"Servers ({plural(servers.hosts, 'host')}, {plural(servers.vms, 'VM')}; "
            "'seatledger servers' says why):"
        )
        for line in servers.lines:
            lacking = f", {line.short:,} short" if line.short else ""
            say(
                f"  {line.product[:40]:<40} {line.required:>9,} {line.unit} required, "
                f"{line.purchased:,} bought{lacking}"
            )
        for text in servers.findings:
            say(f"  finding: {text}")
    return EXIT_OK


def cmd_chart(args: argparse.Namespace) -> int:
    """Draw a scope's usage against its limit to a PNG or SVG file, without a window."""
    out = Path(args.out)
    if out.suffix.lower() not in {".png", ".svg"}:
        raise KnownError(f"--out {args.out}: charts are written as .png or .svg.")
    if not 200 <= args.width <= 10_000 or not 150 <= args.height <= 10_000:
        raise KnownError("--width and --height must be between 200 and 10,000 pixels.")
    service = reader(args).usage_history
    end = validation.date(args.end, "--to") or service.today()
    start = validation.date(args.start, "--from") or end - dt.timedelta(days=364)
    scope = service.find_scope(
        license_id=args.license, vendor=args.vendor, product=args.product, team=args.team
    )
    series = service.series(scope, start, end)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a file, never a window
    from seatledger.charts.usage import render_usage_chart  # noqa: PLC0415 (Qt only here)

    render_usage_chart(series, out, args.width, args.height)
    say(f"Wrote the usage of {series.label}, {start} to {end}, to {out}.")
    say(f"Forecast: {series.forecast.method}")
    return EXIT_OK


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify an audit report bundle (no database needed)."""
    from seatledger.services.audits.bundle import verify_bundle  # noqa: PLC0415
    from seatledger.services.audits.bundle.verify import verify  # noqa: PLC0415

    try:
        pinned = Path(args.pubkey).read_bytes() if args.pubkey else None
        old = old_sig = None
        if args.previous:
            old = Path(args.previous).read_bytes()
            sig = Path(args.previous).with_name(verify_bundle.SIGNATURE)
            old_sig = sig.read_bytes() if sig.is_file() else None
        result = verify(
            Path(args.bundle),
            pubkey=pinned,
            previous_manifest=old,
            previous_signature=old_sig,
            opening=Path(args.opening).read_bytes() if args.opening else None,
        )
    except (verify_bundle.BundleError, OSError) as exc:
        raise KnownError(f"Cannot verify {args.bundle}: {exc}") from None
    from seatledger.services.reviews.signed import describe  # noqa: PLC0415

    if what := describe(result.manifest or {}):
        say(what)
    for line in verify_bundle.verdict_lines(result):
        say(line)
    return verify_bundle.exit_status(result)  # 0 verified, 1 not, 3 intact but unpinned
