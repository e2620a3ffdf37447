"""The command-line commands that work on a database (see :mod:`seatledger.cli`)."""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from seatledger.cli import EXIT_FAILED, EXIT_OK, _entries, _err, _opened, _print
from seatledger.domain import validation
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import KnownError
from seatledger.paths import default_database
from seatledger.services import ledger
from seatledger.services.catalog import EntitlementInput
from seatledger.services.context import Context
from seatledger.services.directory import PersonInput
from seatledger.services.lookups import device_ids, person_ids
from seatledger.services.operators import (
    create_first_administrator,
    has_operators,
    hash_password,
    sign_in,
)
from seatledger.services.queries import ActivityQuery, LicenseQuery
from seatledger.services.session import Services
from seatledger.services.workspace import describe_upgrade, upgrade_database
from seatledger.store.db import HEAD_REVISION, Database, OpenResult


def _database(args: argparse.Namespace, *, create: bool = False, upgrade: bool = True) -> Database:
    return _open_database(args, create=create, upgrade=upgrade)[0]


def _open_database(
    args: argparse.Namespace, *, create: bool = False, upgrade: bool = True
) -> tuple[Database, OpenResult]:
    """Open ``--db``; with ``upgrade``, an older schema is left for a signed-in upgrade."""
    target = args.db or default_database()
    is_file = "://" not in target
    if is_file and create and not args.db:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    if is_file and not create and not Path(target).exists():
        raise KnownError(f"{target} does not exist. Create it with 'seatledger init' or the app.")
    database, opened = Database.open(target, create=create, upgrade=upgrade)
    _opened.append(database)
    return database, opened


def _password(prompt: str) -> str:
    env = os.environ.get("SEATLEDGER_PASSWORD")
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise KnownError("No password: set SEATLEDGER_PASSWORD or run in a terminal.")
    return getpass.getpass(prompt)


def _operator_name(args: argparse.Namespace) -> str:
    name = args.operator or os.environ.get("SEATLEDGER_OPERATOR")
    if not name:
        raise KnownError("Name the operator with --operator or SEATLEDGER_OPERATOR.")
    return str(name)


def _services(args: argparse.Namespace) -> Services:
    """Sign in; a database written by an older SeatLedger is upgraded first, as that operator."""
    db, opened = _open_database(args)
    name = _operator_name(args)
    actor = sign_in(db, name, _password(f"Password for {name}: "))
    if opened.pending_upgrade is not None:
        # On standard error, so that the command's own output stays as scripts expect it.
        _err(describe_upgrade(upgrade_database(db, actor), db.display_name))
    return Services.for_actor(db, actor)


def cmd_upgrade(args: argparse.Namespace) -> int:
    """Upgrade a database written by an older SeatLedger, or try it on a copy (--dry-run)."""
    db, opened = _open_database(args)
    if opened.pending_upgrade is None:
        _print(f"{db.display_name} is at schema {HEAD_REVISION} already; nothing to do.")
        return EXIT_OK
    name = _operator_name(args)
    actor = sign_in(db, name, _password(f"Password for {name}: "))
    report = upgrade_database(db, actor, dry_run=args.dry_run)
    _print(describe_upgrade(report, db.display_name))
    if report.backup_sha256 is not None:
        _print(f"Backup SHA-256: {report.backup_sha256}")
    _print("Rows per table (before -> after):")
    for table, (before, after) in report.rows.items():
        shown = "new table" if before is None else f"{before:,}"
        _print(f"  {table:<22} {shown:>12} -> {after:,}")
    return EXIT_OK


def cmd_init(args: argparse.Namespace) -> int:
    """Create a database and its administrator."""

    name = validation.name(_operator_name(args), "Operator name", max_len=64)
    password = _password(f"New password for {name}: ")
    hash_password(password)  # refuse a weak password before anything is created
    db = _database(args, create=True)
    if has_operators(db):
        raise KnownError(f"{db.display_name} already has operators; sign in instead.")
    create_first_administrator(db, name, args.full_name, password)
    _print(f"Created {db.display_name} with administrator {name}.")
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    """Build a demo database."""
    from seatledger.services.demo import build_demo  # noqa: PLC0415

    def progress(stage: str, done: int, total: int) -> None:
        _progress(stage)(done, total)

    started = dt.datetime.now()
    summary = build_demo(args.db, args.size, seed=args.seed, progress=progress)
    seconds = (dt.datetime.now() - started).total_seconds()
    _clear_progress()
    shown = Database.display_name_of(args.db)
    _print(f"Built {args.size} demo {shown} in {seconds:.1f} s: {summary}")
    _print("Operators admin, manager, auditor and viewer; password 'demo'.")
    return EXIT_OK


def cmd_ledger(args: argparse.Namespace) -> int:
    """Verify or show the ledger (never upgrades: reading must not change the file)."""
    db = _database(args, upgrade=False)
    if args.ledger_command == "tail":
        query = ActivityQuery(Context.reader(db))
        keys = list(query.keys()[: args.n])
        rows = query.rows(keys)
        for key in keys:
            seq, ts, operator, action, entity, reason, summary = rows[key]
            _print(f"{seq:>8}  {ts}  {operator:<12} {action:<22} {entity:<16} {reason}  {summary}")
        return EXIT_OK
    started = dt.datetime.now()
    verdict = ledger.verify(db)
    seconds = (dt.datetime.now() - started).total_seconds()
    if verdict.failure is None:
        _print(
            f"Ledger intact: {_entries(verdict.entries)}, head {verdict.head.hex()} "
            f"(verified in {seconds:.2f} s)."
        )
        return EXIT_OK
    _print(f"Ledger BROKEN: {verdict.failure.message()}.")
    _print(f"The {_entries(verdict.entries)} before it verify.")
    return EXIT_FAILED


def cmd_licenses(args: argparse.Namespace) -> int:
    """Print the licenses table."""
    db = _database(args, upgrade=False)
    query = LicenseQuery(Context.reader(db), args.search)
    keys = query.keys()
    rows = query.licenses(keys)
    today = dt.date.today()
    header = f"{'ID':>6}  {'License':<48} {'Metric':<18} {'Qty':>7} {'Used':>7} {'Free':>7}"
    _print(header + "  Term end")
    for key in keys:
        r = rows[key]
        flag = " OVER" if r.over_limit else (" EXPIRED" if r.expired(today) else "")
        end = r.term_end.isoformat() if r.term_end else "—"
        free = "—" if r.metric.unlimited else str(r.free)
        _print(
            f"{r.id:>6}  {r.title[:48]:<48} {r.metric.label:<18} {r.quantity:>7} {r.used:>7} "
            f"{free:>7}  {end}{flag}"
        )
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    """List the open alerts (or every alert), or acknowledge one with a note."""
    from seatledger.services.alerts import AlertService  # noqa: PLC0415

    if getattr(args, "alerts_command", None) == "ack":
        _services(args).alerts.acknowledge(args.alert, args.note)
        _print(f"Alert {args.alert} acknowledged.")
        return EXIT_OK
    db = _database(args, upgrade=False)
    rows = AlertService(Context.reader(db)).alerts(include_acknowledged=args.all)
    if not rows:
        _print("No alerts." if args.all else "No open alerts.")
        return EXIT_OK
    _print(f"{'ID':>6}  {'Raised (UTC)':<16}  {'Severity':<8}  {'Rule':<28}  Subject")
    for a in rows:
        state = "open" if a.open else f"acknowledged by {a.acknowledged_by}: {a.note}"
        caused = f"by {a.operator or '—'}, ledger entry {a.ledger_seq or '—'}"
        _print(
            f"{a.id:>6}  {a.raised_at:%Y-%m-%d %H:%M}  {a.severity.label:<8}  "
            f"{a.rule.label:<28}  {a.subject}  [{caused}; {state}]"
        )
    return EXIT_OK


def cmd_operator(args: argparse.Namespace) -> int:
    """Add an operator."""

    services = _services(args)
    password = os.environ.get("SEATLEDGER_NEW_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise KnownError("Set SEATLEDGER_NEW_PASSWORD for the new operator's password.")
        password = getpass.getpass(f"Password for the new operator {args.name}: ")
    services.operators.create(args.name, args.full_name, Role(args.role), password)
    _print(f"Added operator {args.name} ({args.role}).")
    return EXIT_OK


def _find(items: Sequence[object], name: str, what: str) -> int:
    for item in items:
        if getattr(item, "name", "").lower() == name.lower():
            return int(getattr(item, "id"))  # noqa: B009
    raise KnownError(f"No {what} named '{name}'.")


def cmd_catalog(args: argparse.Namespace) -> int:
    """Add a vendor, product, entitlement or person."""

    services = _services(args)
    if args.command == "vendor":
        new_id = services.catalog.add_vendor(args.name)
    elif args.command == "product":
        vendor_id = _find(services.catalog.vendors(), args.vendor, "vendor")
        new_id = services.catalog.add_product(vendor_id, args.name)
    elif args.command == "entitlement":
        vendor_id = _find(services.catalog.vendors(), args.vendor, "vendor")
        products = services.catalog.products(vendor_id)
        vendor_name = next(v.name for v in services.catalog.vendors() if v.id == vendor_id)
        product_id = _find(products, f"{vendor_name} {args.product}", "product")
        try:
            metric = Metric(args.metric)
        except ValueError:
            choices = ", ".join(m.value for m in Metric)
            raise KnownError(f"Unknown metric '{args.metric}'; use one of {choices}.") from None
        new_id = services.catalog.add_entitlement(
            EntitlementInput(
                product_id=product_id,
                metric=metric,
                quantity=validation.count(args.quantity, "Quantity"),
                term_start=validation.date(args.start, "Start"),
                term_end=validation.date(args.end, "End"),
                unit_cost=validation.money(args.unit_cost, "Unit cost"),
                currency=args.currency,
                po_reference=args.po,
            )
        )
    else:
        new_id = services.directory.add_person(PersonInput(args.employee_id, args.name, args.email))
    _print(f"Added {args.command} {new_id}.")
    return EXIT_OK


def cmd_seat(args: argparse.Namespace) -> int:
    """Assign or release seats."""

    services = _services(args)
    if args.seat_command == "assign":
        people = person_ids(services.ctx, args.person)
        devices = device_ids(services.ctx, args.device)
        result = services.seats.assign(
            args.license,
            people=people,
            devices=devices,
            reason=args.reason,
            over_commit=args.over_commit,
        )
        _print(f"Assigned {len(result.assignment_ids)} seat(s) ({result.units} units).")
        if result.over_commit:
            _print(f"Recorded as an over-commit exception: {result.message}")
    elif args.seat_command == "release":
        count = services.seats.release(args.assignment, args.reason)
        _print(f"Released {count} seat(s).")
    else:
        count = services.seats.release_departed(args.reason)
        _print(f"Released {count} seat(s) held by people who left.")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    """Preview a file, then commit it unless it has problems or --dry-run was given."""
    from seatledger.ingest.formats import Kind  # noqa: PLC0415
    from seatledger.ingest.values import DateOrder  # noqa: PLC0415
    from seatledger.services.imports import ImportOptions, ImportService  # noqa: PLC0415

    path = Path(args.file)
    kind = Kind(args.kind)
    if args.dry_run:
        service = ImportService(Context.reader(_database(args, upgrade=False)))
    else:
        service = _services(args).imports
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
    )
    preview = service.preview(path, options, _progress("Reading"))
    _clear_progress()
    facts = preview.facts
    _print(
        f"{facts.path.name}: {preview.format_name}; {facts.encoding_label}; "
        + (f"{preview.delimiter} delimited; " if preview.delimiter.strip() else "")
        + f"{preview.rows:,} rows; SHA-256 {facts.sha256[:16]}…"
    )
    if preview.date_note:
        _print(preview.date_note)
    if preview.problem_count:
        _print(f"{preview.problem_count:,} problem(s); nothing was imported:")
        for problem in preview.problems[:50]:
            _print(f"  {facts.path.name}, {problem}")
        if preview.problem_count > 50:
            _print(f"  ...and {preview.problem_count - 50:,} more")
        return EXIT_FAILED
    if args.dry_run:
        if preview.already_imported is not None:
            _print(f"Imported before on {preview.already_imported:%Y-%m-%d %H:%M}.")
        _print(f"No problems: {preview.records:,} records would be imported (dry run).")
        return EXIT_OK
    options = ImportOptions(
        kind,
        mapping=mapping,
        mapping_name=args.mapping,
        date_order=preview.date_order,
        full_export=args.full,
    )
    result = service.commit(
        path, options, expected_sha256=facts.sha256, progress=_progress("Importing")
    )
    _clear_progress()
    _print(result.summary())
    for note in result.notes:
        _print(f"  {note}")
    return EXIT_OK


def _progress(stage: str) -> Callable[[int, int], Any]:
    """A progress line on a terminal (a log file, say a scheduled run's, gets only results);
    it never cancels (True, for the callers that read a cancel from it)."""

    def report(done: int, total: int) -> bool:
        if sys.stderr.isatty():
            sys.stderr.write(f"\r{stage}: {done:,}/{total:,}".ljust(60))
            sys.stderr.flush()
        return True

    return report


def _clear_progress() -> None:
    """Wipe the progress line, so what is printed next starts on a clean line."""
    if sys.stderr.isatty():
        sys.stderr.write("\r" + " " * 60 + "\r")
        sys.stderr.flush()


def cmd_reconcile(args: argparse.Namespace) -> int:
    """Print or write the effective license position and its findings."""
    from seatledger.services import export  # noqa: PLC0415
    from seatledger.services.position import PositionService  # noqa: PLC0415

    db = _database(args, upgrade=False)
    as_of = validation.date(args.as_of, "--as-of") or dt.date.today()
    position = PositionService(Context.reader(db)).position(as_of, args.shelf_days)
    if args.out:
        written = export.export_position(position, Path(args.out))
        _print(f"Wrote the position on {as_of} ({len(position.rows):,} rows) to {written}.")
        return EXIT_OK
    if args.format == "json":
        _print(json.dumps(export.position_json(position), indent=2))
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
    _print(f"Effective license position on {as_of}")
    header = (
        f"{'Product':<44} {'Metric':<22} {'Owned':>9} {'Assigned':>9} {'Needed':>9} "
        f"{'Avail.':>8} {'Unlic.':>7} {'True-up':>14}"
    )
    _print(header)
    _print("-" * len(header))
    for row in position.rows:
        owned = "unlim." if row.owned is None else f"{row.owned:,}"
        available = "" if row.available is None else f"{row.available:,}"
        true_up = row.true_up
        cost = "?" if true_up is None else (f"{true_up:,.2f} {row.currency}" if true_up else "")
        _print(
            f"{row.title[:44]:<44} {row.metric_label[:22]:<22} "
            f"{owned:>9} {row.assigned:>9,} {row.needed:>9,} {available:>8} "
            f"{row.unlicensed:>7,} {cost:>14}"
        )
    short = sum(1 for r in position.rows if r.shortfall)
    _print(f"{len(position.rows):,} rows; {short:,} short of rights.")
    _print("")
    _print(f"Findings ({len(position.findings):,}):")
    for finding in position.findings:
        _print(f"  {finding.kind.label:<30} {finding.title}: {finding.text}")
    return EXIT_OK


def key_passphrase(*, new: bool = False) -> str:
    """The signing key's passphrase: ``SEATLEDGER_KEY_PASSPHRASE`` or a prompt (twice if new)."""
    from seatledger.services.signing import PASSPHRASE_ENV  # noqa: PLC0415

    env = os.environ.get(PASSPHRASE_ENV)
    if env is not None:
        return env
    if not sys.stdin.isatty():
        raise KnownError(f"No signing-key passphrase: set {PASSPHRASE_ENV} or run in a terminal.")
    first = getpass.getpass("New signing-key passphrase: " if new else "Signing-key passphrase: ")
    if new and getpass.getpass("Repeat it: ") != first:
        raise KnownError("The two passphrases differ; nothing was created.")
    return first


def cmd_verify(args: argparse.Namespace) -> int:
    """Verify an audit report bundle (no database needed)."""
    from seatledger.services.bundle import verify_bundle  # noqa: PLC0415
    from seatledger.services.bundle.verify import verify  # noqa: PLC0415

    try:
        pinned = Path(args.pubkey).read_bytes() if args.pubkey else None
        old = old_sig = None
        if args.previous:
            old = Path(args.previous).read_bytes()
            sig = Path(args.previous).with_name(verify_bundle.SIGNATURE)
            old_sig = sig.read_bytes() if sig.is_file() else None
        result = verify(
            Path(args.bundle), pubkey=pinned, previous_manifest=old, previous_signature=old_sig
        )
    except (verify_bundle.BundleError, OSError) as exc:
        raise KnownError(f"Cannot verify {args.bundle}: {exc}") from None
    for line in verify_bundle.verdict_lines(result):
        _print(line)
    return EXIT_OK if result.ok else EXIT_FAILED


def cmd_signing(args: argparse.Namespace) -> int:
    """Show, create, import or rotate the report-signing identity."""
    from seatledger.services.session import ORGANIZATION_KEY, read_setting  # noqa: PLC0415
    from seatledger.services.signing import SigningService, fingerprint_text  # noqa: PLC0415

    if args.signing_command == "show":
        service = SigningService(Context.reader(_database(args, upgrade=False)))
        history = service.history()
        if not history:
            _print("No signing identity yet; it is created on first signing.")
            return EXIT_OK
        for info in history:
            state = "active" if info.active else f"retired {info.retired_at:%Y-%m-%d}"
            _print(f"Identity {info.id} ({state}, {info.origin} {info.created_at:%Y-%m-%d}):")
            _print(f"  organization       {info.organization}")
            until = f"{info.certificate_not_after:%Y-%m-%d}"
            _print(f"  certificate        {info.certificate_subject}, until {until}")
            _print(f"  manifest key       SHA-256 {fingerprint_text(info.ed25519_fingerprint)}")
            _print(f"  PDF certificate    SHA-256 {fingerprint_text(info.certificate_fingerprint)}")
        if args.pubkey_out:
            Path(args.pubkey_out).write_bytes(service.public_key_pem(history[0].id))
            _print(f"Wrote the manifest key of identity {history[0].id} to {args.pubkey_out}.")
        return EXIT_OK
    services = _services(args)
    service = SigningService(services.ctx)
    organization = getattr(args, "organization", "") or read_setting(services.db, ORGANIZATION_KEY)
    if args.signing_command == "import":
        data = Path(args.file).read_bytes()
        p12_password = os.environ.get("SEATLEDGER_PKCS12_PASSWORD")
        if p12_password is None and sys.stdin.isatty():
            p12_password = getpass.getpass(f"Password of {Path(args.file).name}: ")
        identity = service.import_pkcs12(data, p12_password, key_passphrase(new=True), args.reason)
    elif args.signing_command == "rotate":
        identity = service.rotate(key_passphrase(new=True), organization, args.reason)
    else:
        identity = service.create(key_passphrase(new=True), organization)
    _print(f"Signing identity {identity.id} for {identity.organization}:")
    _print(f"  manifest key       SHA-256 {fingerprint_text(identity.ed25519_fingerprint)}")
    _print(f"  PDF certificate    SHA-256 {fingerprint_text(identity.certificate_fingerprint)}")
    return EXIT_OK


def cmd_chart(args: argparse.Namespace) -> int:
    """Draw a scope's usage against its limit to a PNG or SVG file, without a window."""
    from seatledger.services.usage_history import UsageHistoryService  # noqa: PLC0415

    out = Path(args.out)
    if out.suffix.lower() not in {".png", ".svg"}:
        raise KnownError(f"--out {args.out}: charts are written as .png or .svg.")
    if not 200 <= args.width <= 10_000 or not 150 <= args.height <= 10_000:
        raise KnownError("--width and --height must be between 200 and 10,000 pixels.")
    db = _database(args, upgrade=False)
    service = UsageHistoryService(Context.reader(db))
    end = validation.date(args.end, "--to") or service.today()
    start = validation.date(args.start, "--from") or end - dt.timedelta(days=364)
    scope = service.find_scope(
        license_id=args.license, vendor=args.vendor, product=args.product, team=args.team
    )
    series = service.series(scope, start, end)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a file, never a window
    from seatledger.charts.usage import render_usage_chart  # noqa: PLC0415 (Qt only here)

    render_usage_chart(series, out, args.width, args.height)
    _print(f"Wrote the usage of {series.label}, {start} to {end}, to {out}.")
    _print(f"Forecast: {series.forecast.method}")
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    """Run, list or schedule audits (:mod:`seatledger.audit_commands`)."""
    from seatledger import audit_commands  # noqa: PLC0415

    return audit_commands.run(args)
