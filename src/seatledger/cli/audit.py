"""``seatledger audit``: run a whole audit without the window, list audits, schedule them.

``audit run`` goes through the same steps as the wizard, each one a ledger entry: it starts the
audit, reaches the freshness step (warnings are reported, not acknowledged), computes the
position, leaves every finding open, attests with the given statement in the operator's name and
signs the bundle.  The usage charts are drawn here with :mod:`seatledger.charts.report` (they need
Qt, which services may not use) from the series the audit service reads.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

from seatledger.cli.output import EXIT_OK, clear_progress_line, progress_line, say
from seatledger.cli.session import key_passphrase, reader, signed_in
from seatledger.domain import validation
from seatledger.errors import KnownError, NotFoundError
from seatledger.services.audits.bundle.model import Chart, Trigger
from seatledger.services.audits.service import AuditInfo, Status, Step, add_months
from seatledger.services.operators.session import ORGANIZATION_KEY, Services, read_setting
from seatledger.services.position.engine import PositionRow
from seatledger.text import plural


def cmd_audit(args: argparse.Namespace) -> int:
    """Run, list or schedule audits."""
    if args.audit_command == "list":
        return _list(args)
    if args.audit_command == "schedule":
        return _schedule(args)
    return _run(args)


def _vendor_id(services: Services, name: str) -> int:
    wanted = name.strip().lower()
    for vendor_id, vendor in services.audits.vendors():
        if vendor.lower() == wanted:
            return vendor_id
    raise NotFoundError(f"No vendor named '{name}'.")


def _product_ids(services: Services, vendor_id: int, names: Sequence[str]) -> list[int]:
    products = {n.lower(): i for i, n in services.audits.products(vendor_id)}
    unknown = [n for n in names if n.strip().lower() not in products]
    if unknown:
        raise NotFoundError(f"The vendor has no product named {', '.join(unknown)}.")
    return [products[n.strip().lower()] for n in names]


def _list(args: argparse.Namespace) -> int:
    services = reader(args)
    audits = services.audits.audits()
    if not audits:
        say("No audits yet.")
    for a in audits:
        due = a.due_on.isoformat() if a.due_on else ""
        say(
            f"{a.id:>5}  {a.status.label:<10} {a.vendor:<24} {a.trigger.label:<15} "
            f"as of {a.as_of}  {a.owner:<12} step {a.step.label:<16} {due}"
        )
        if a.checkpoint is not None:
            say(f"       checkpoint {a.checkpoint.size} {a.checkpoint.head}  {a.bundle_path}")
    due_list = services.audits.due()
    if due_list:
        say("")
        say("Scheduled audits due:")
        for d in due_list:
            say(f"  {d.text}")
    return EXIT_OK


_EVERY = re.compile(r"^\s*(\d+)\s*(m|mo|months?|q|y|years?)?\s*$", re.IGNORECASE)


def months_of(text: str) -> int:
    """``3m``, ``3``, ``1q`` or ``1y`` as a number of months."""
    found = _EVERY.match(text)
    if found is None:
        raise KnownError(f"--every {text}: write a number of months (3m), quarters (1q) or years.")
    count, unit = int(found[1]), (found[2] or "m").lower()
    return count * (3 if unit == "q" else 12 if unit.startswith("y") else 1)


def _schedule(args: argparse.Namespace) -> int:
    services = signed_in(args)
    vendor_id = _vendor_id(services, args.vendor)
    months = months_of(args.every)
    next_due = validation.date(args.next, "--next") or add_months(services.audits.today(), months)
    services.audits.set_schedule(vendor_id, months, next_due, active=not args.off)
    state = "off" if args.off else f"every {months} months, next due {next_due}"
    say(f"Audits of {args.vendor}: {state}.")
    return EXIT_OK


def _resumed(services: Services, args: argparse.Namespace) -> AuditInfo:
    """The unsigned audit ``--resume`` names, checked against the options given with it."""
    if args.vendor or args.product or args.as_of:
        raise KnownError(
            "--resume finishes an audit with its own vendor, products and date: leave out "
            "--vendor, --product and --as-of."
        )
    audit = services.audits.get(args.resume)
    if audit.status is Status.SIGNED:
        raise KnownError(
            f"Audit {audit.id} is signed already (bundle {audit.bundle_path}); "
            "start a new audit with --vendor."
        )
    return audit


def _run(args: argparse.Namespace) -> int:
    services = signed_in(args)
    audits = services.audits
    if args.resume is None and not args.vendor:
        raise KnownError("Name the vendor to audit (--vendor), or an audit to finish (--resume).")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise KnownError(f"--out {args.out}: a file is in the way; name a folder.")
    resumed = _resumed(services, args) if args.resume is not None else None
    statement = args.attest.strip()
    if not statement and (resumed is None or not resumed.attested_by):
        raise KnownError("--attest: write the attestation statement.")
    if resumed is None:
        vendor_id = _vendor_id(services, args.vendor)
        as_of = validation.date(args.as_of, "--as-of") or audits.today()
        trigger = Trigger(args.trigger)
        audit_id = audits.start(
            vendor_id,
            trigger,
            reason=args.reason,
            as_of=as_of,
            product_ids=_product_ids(services, vendor_id, args.product),
            shelf_days=args.shelf_days,
        )
        audit = audits.get(audit_id)
        say(f"Audit {audit_id}: {audit.scope_text}, as of {as_of} ({trigger.label.lower()}).")
        _hint_unsigned(services, audit)
    else:
        audit, audit_id, as_of = resumed, resumed.id, resumed.as_of
        say(
            f"Audit {audit_id} resumed: {audit.scope_text}, as of {as_of}, "
            f"{audit.status.label.lower()} at {audit.step.label.lower()}."
        )
    audits.set_step(audit_id, Step.FRESHNESS)  # a role that may not run audits stops here
    try:
        out.mkdir(parents=True, exist_ok=True)  # as a scheduled job would want
    except OSError as exc:
        why = exc.strerror or str(exc)
        raise KnownError(
            f"--out {args.out}: cannot create the folder: {why}. Audit {audit_id} is left "
            f"unsigned: finish it with --resume {audit_id}."
        ) from exc
    for warning in audits.freshness(audit_id):
        say(f"  not acknowledged: {warning.topic}: {warning.text}")
    for product, rests_on in audits.concurrency_basis(audit_id):
        say(f"  concurrency of {product}: {rests_on}")
    audits.set_step(audit_id, Step.POSITION)
    try:
        position = services.position.position(
            as_of, audit.shelf_days, progress_line("position"), audits.position_scope(audit)
        )
    finally:
        clear_progress_line()
    rows, findings = audits.scoped(audit, position)
    say(
        f"  position: {plural(len(rows), 'row')}; {plural(len(findings), 'finding')}, "
        "all left open."
    )
    audits.set_step(audit_id, Step.FINDINGS)
    audits.set_step(audit_id, Step.ATTESTATION)
    if statement:
        audits.attest(audit_id, statement)
    else:
        say(f"  attested by {audit.attested_by} before; the statement stands.")
    audits.set_step(audit_id, Step.SIGN)
    passphrase = key_passphrase(new=services_need_new_key(services))
    organization = read_setting(services.db, ORGANIZATION_KEY) or "SeatLedger"
    with tempfile.TemporaryDirectory(prefix="seatledger-charts-") as folder:
        charts = report_charts(services, audit, rows, Path(folder), top=args.charts)
        try:
            result = audits.sign(
                audit_id,
                position,
                passphrase=passphrase,
                out_dir=out,
                organization=organization,
                charts=charts,
                progress=progress_line("bundle"),
            )
        finally:
            clear_progress_line()
    from seatledger.services.audits.signing import fingerprint_text  # noqa: PLC0415

    say(f"Signed audit {audit_id}:")
    say(f"  bundle      {result.folder}")
    say(f"  zip         {result.zip_path}")
    say(f"  checkpoint  {plural(result.checkpoint.size, 'entry')}, head {result.checkpoint.head}")
    seal = result.sealed_by
    if seal is None:
        say("  ledger      every entry re-hashed and its tree checked before signing")
    else:
        at = seal.checked_at.strftime("%Y-%m-%d %H:%M UTC")
        say(
            f"  ledger      rests on the whole check of {at} (entries 1-{seal.checkpoint.size:,});"
            " the entries since and every disclosed entry checked now"
        )
    say(f"  manifest    SHA-256 {result.manifest_sha256}")
    say(f"  key         SHA-256 {fingerprint_text(result.ed25519_fingerprint)}")
    return EXIT_OK


def _hint_unsigned(services: Services, started: AuditInfo) -> None:
    """Name the unsigned audits of the same vendor a killed or failed run may have left."""
    left = [
        a.id
        for a in services.audits.audits()
        if a.vendor_id == started.vendor_id and a.id != started.id and a.status is not Status.SIGNED
    ]
    if left:
        say(
            f"  note: {plural(len(left), 'unsigned audit')} of this vendor "
            f"({', '.join(str(i) for i in left)}): finish one with --resume AUDIT."
        )


def services_need_new_key(services: Services) -> bool:
    """Whether signing will create the identity (the passphrase is then asked twice)."""
    return services.signing.current() is None


def report_charts(
    services: Services, audit: AuditInfo, rows: Sequence[PositionRow], folder: Path, *, top: int
) -> list[Chart]:
    """The report's usage charts of the ``top`` products, drawn into ``folder`` (none if 0)."""
    if not top:
        return []
    from seatledger.charts.report import render_report_charts  # noqa: PLC0415 (Qt only here)

    series = services.audits.report_usage(audit, rows, top=top)
    return [Chart(path, caption) for path, caption in render_report_charts(series, folder)]
