"""The argument tree of ``seatledger``: every command, its actions and options.

:func:`build_parser` is what the README's command reference and the tests read; which module runs
each command is :data:`seatledger.cli.COMMANDS`.
"""

from __future__ import annotations

import argparse
from typing import Any

from seatledger import __version__

_LARGEST = 2**63 - 1  # SQLite's INTEGER and PostgreSQL's bigint stop here


def _whole(text: str) -> int:
    """A whole number a database can hold: argparse's ``int`` takes any size, and a number past
    64 bits ended in a traceback from the driver (``reclaim finish 9223372036854775808``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text[:40]!r}") from None
    if not -_LARGEST - 1 <= value <= _LARGEST:
        raise argparse.ArgumentTypeError(f"{text[:40]} is out of range (at most {_LARGEST})")
    return value


def _db_arg(parser: argparse.ArgumentParser, default: str | None = argparse.SUPPRESS) -> None:
    # Sub-commands SUPPRESS the default, else their None would overwrite a --db given before them.
    parser.add_argument(
        "--db",
        default=default,
        help="database file path or SQLAlchemy URL (default: SEATLEDGER_DB or the data folder)",
    )


def _auth_args(parser: argparse.ArgumentParser) -> None:
    _db_arg(parser)
    parser.add_argument(
        "--operator", help="operator to act as (default: SEATLEDGER_OPERATOR)", default=None
    )


def _acting(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command run as an operator: ``--db`` and ``--operator``."""
    parser: argparse.ArgumentParser = sub.add_parser(name, **kwargs)
    _auth_args(parser)
    return parser


def _reading(sub: Any, name: str, **kwargs: Any) -> argparse.ArgumentParser:
    """A sub-command that reads the database and needs nobody signed in: ``--db`` alone."""
    parser: argparse.ArgumentParser = sub.add_parser(name, **kwargs)
    _db_arg(parser)
    return parser


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for the README's CLI reference and tests)."""
    parser = argparse.ArgumentParser(
        prog="seatledger",
        description="Software licenses and seats with a tamper-evident ledger.",
    )
    parser.add_argument("--version", action="version", version=f"seatledger {__version__}")
    _db_arg(parser, default=None)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    init = _acting(sub, "init", help="create a new database and its first administrator")
    init.add_argument("--full-name", default="")

    demo = sub.add_parser("demo", help="build a demo database")
    demo.add_argument("--db", required=True, help="file to create (must not exist)")
    demo.add_argument("--size", choices=("small", "large", "xlarge"), default="small")
    demo.add_argument("--seed", type=_whole, default=2026)

    upgrade = _acting(
        sub,
        "upgrade",
        help="upgrade a database written by an older SeatLedger (a backup copy is made first)",
    )
    upgrade.add_argument(
        "--dry-run",
        action="store_true",
        help="run the upgrade on a copy (SQLite) or roll it back (PostgreSQL) and report",
    )

    backup = _acting(
        sub, "backup", help="copy the whole database to a file (administrators; a ledger entry)"
    )
    backup.add_argument("--out", required=True, help="the file to write (replaced whole)")
    restore = sub.add_parser(
        "restore", help="make a new database from a backup, verified before it is used"
    )
    restore.add_argument("backup", help="a file 'seatledger backup' wrote")
    restore.add_argument("--db", required=True, help="the new database file (must not exist)")

    settings = _acting(
        sub,
        "settings",
        help="show the data settings; 'set' changes them (administrators; ledgered)",
    )
    settings.add_argument("action", nargs="?", choices=("show", "set"), default="show")
    settings.add_argument(
        "--sampling-hours",
        type=_whole,
        default=None,
        metavar="N",
        help="hours between two lmstat snapshots of a server (a checkout no snapshot has shown "
        "for longer ended at its last sighting; default 24)",
    )
    settings.add_argument(
        "--freshness-days",
        type=_whole,
        default=None,
        metavar="N",
        help="warn when the newest import of a kind is older than N days (default 30)",
    )
    settings.add_argument("--reason", default="")

    ledger = sub.add_parser("ledger", help="the activity ledger")
    ledger_sub = ledger.add_subparsers(dest="ledger_command", metavar="ACTION", required=True)
    _reading(
        ledger_sub,
        "verify",
        help="verify the hash chain, then the rows it accounts for; exit 1 if either fails",
    )
    tail = _reading(ledger_sub, "tail", help="print the newest entries")
    tail.add_argument("-n", type=_whole, default=20)
    reveal = _acting(
        ledger_sub,
        "reveal",
        help="open one committed personal field to a vendor (auditors; recorded with the reason)",
    )
    reveal.add_argument("commitment", help="the commitment's 64 hex digits, as a bundle shows it")
    reveal.add_argument("--reason", required=True, help="why it is revealed, and to whom")
    reveal.add_argument("--out", required=True, help="the opening file to hand over (JSON)")

    licenses = _reading(sub, "licenses", help="list licenses with seats used and free")
    licenses.add_argument("--search", default="")

    renewals = _reading(
        sub, "renewals", help="renewal reminders: what needs a decision now and in the coming days"
    )
    renewals.add_argument(
        "--days", type=_whole, default=90, help="list the reminders of the next N days (default 90)"
    )
    renewals.add_argument(
        "--ics",
        default="",
        metavar="FILE",
        help="also write the reminders of the next two years to an iCalendar file for your "
        "calendar program (importing it again updates the events)",
    )

    alerts = _reading(sub, "alerts", help="list open alerts (--all: acknowledged too); ack one")
    alerts.add_argument("--all", action="store_true", help="acknowledged alerts too")
    alerts_sub = alerts.add_subparsers(dest="alerts_command", metavar="ACTION")
    ack = _acting(alerts_sub, "ack", help="acknowledge an alert with a note (recorded)")
    ack.add_argument("alert", type=_whole, help="alert id")
    ack.add_argument("--note", required=True, help="what was done about it")

    operator = sub.add_parser("operator", help="manage operators (administrators)")
    op_sub = operator.add_subparsers(dest="op_command", metavar="ACTION", required=True)
    op_add = _acting(op_sub, "add", help="add an operator; asks for their password")
    op_add.add_argument("name")
    op_add.add_argument(
        "--role",
        choices=("administrator", "license_manager", "auditor", "viewer", "reviewer"),
        required=True,
    )
    op_add.add_argument("--full-name", default="")
    op_password = _acting(
        op_sub,
        "password",
        help="change your own password (or, as an administrator, reset another's with --for); "
        "the new one from SEATLEDGER_NEW_PASSWORD or asked twice",
    )
    op_password.add_argument("--for", dest="target", default="", metavar="NAME")

    vendor = sub.add_parser("vendor", help="add a vendor")
    vendor.add_argument("action", choices=("add",))
    _auth_args(vendor)
    vendor.add_argument("name")

    product = sub.add_parser("product", help="add a product")
    product.add_argument("action", choices=("add",))
    _auth_args(product)
    product.add_argument("--vendor", required=True, help="vendor name")
    product.add_argument("name")

    ent = sub.add_parser("entitlement", help="record a purchase")
    ent.add_argument("action", choices=("add",))
    _auth_args(ent)
    ent.add_argument("--vendor", required=True)
    ent.add_argument("--product", required=True)
    ent.add_argument("--metric", required=True, help="named_user, per_device, per_core, ...")
    ent.add_argument("--quantity", required=True)
    ent.add_argument("--start", default="")
    ent.add_argument("--end", default="")
    ent.add_argument("--unit-cost", default="")
    ent.add_argument("--currency", default="EUR")
    ent.add_argument("--po", default="")
    ent.add_argument(
        "--min-cores",
        default="0",
        metavar="N",
        help="per_core: count at least N cores per processor (contracts often say 16)",
    )
    ent.add_argument(
        "--core-factor",
        default="",
        metavar="F",
        help="per_core: licenses per core, e.g. 0.5 for some processor families (default 1)",
    )
    ent.add_argument(
        "--notice-days",
        default="",
        metavar="DAYS",
        help="days before the term ends that remind, e.g. '180, 90, 30' (the default)",
    )
    ent.add_argument(
        "--cancel-by",
        default="",
        metavar="DATE",
        help="the vendor's last day to cancel or change before the contract renews",
    )
    ent.add_argument(
        "--unit-table",
        default="",
        metavar="RATES",
        help="per_core: units per core by processor, from the contract's table, e.g. "
        "'Xeon=0.5; EPYC=0.5; POWER10=1' (core factors) or 'Xeon=70; POWER10=120' (IBM PVUs); "
        "a device whose processor model has no rate is counted apart",
    )

    person = sub.add_parser("person", help="add a person")
    person.add_argument("action", choices=("add",))
    _auth_args(person)
    person.add_argument("employee_id")
    person.add_argument("name")
    person.add_argument("--email", default="")

    seat = sub.add_parser("seat", help="assign or release seats")
    seat_sub = seat.add_subparsers(dest="seat_command", metavar="ACTION", required=True)
    assign = _acting(seat_sub, "assign", help="assign seats of a license to people or devices")
    assign.add_argument("license", type=_whole, help="license (entitlement) id")
    assign.add_argument("--person", action="append", default=[], help="employee id (repeatable)")
    assign.add_argument("--device", action="append", default=[], help="host name (repeatable)")
    assign.add_argument("--reason", default="")
    assign.add_argument("--over-commit", action="store_true", help="administrators, with --reason")
    release = _acting(seat_sub, "release", help="release seats by assignment id")
    release.add_argument("assignment", type=_whole, nargs="+")
    release.add_argument("--reason", default="")
    departed = _acting(seat_sub, "release-departed", help="release every seat of people who left")
    departed.add_argument("--reason", default="People who left the organization")

    kinds = (
        *("people", "devices", "inventory", "entitlements", "usage", "snipeit", "grants"),
        *("rvtools", "hyperv", "mls", "ilmt"),
    )
    imp = sub.add_parser(
        "import",
        help="import a CSV, XLSX, lmstat or rlmstat file (grants: 'lmstat -i' output; rvtools, "
        "hyperv: an export's files together; mls: a Microsoft License Statement, ilmt: an ILMT "
        "audit snapshot zip, as evidence); exit 1, committing nothing, if it has problems",
    )
    imp.add_argument("kind", choices=kinds)
    imp.add_argument("file", nargs="+", help="the file (rvtools, hyperv: all the export's files)")
    _auth_args(imp)
    imp.add_argument("--mapping", default="", help="a column mapping saved by name in the app")
    imp.add_argument("--dry-run", action="store_true", help="check the file, write nothing")
    imp.add_argument(
        "--date-order",
        choices=("dmy", "mdy"),
        default=None,
        help="read 03/04/2026 day first (dmy) or month first (mdy) when the file cannot tell",
    )
    imp.add_argument(
        "--full",
        action="store_true",
        help="people: a full HR export; flag active people who are not in it",
    )
    imp.add_argument(
        "--host",
        default="",
        help="inventory: the machine an export of one machine lists (it has no host column)",
    )
    imp.add_argument(
        "--server",
        default="",
        metavar="PORT@HOST",
        help="grants: the license server (or license file) 'lmstat -i' read; its newer import "
        "replaces the grants",
    )
    imp.add_argument(
        "--taken-at",
        default="",
        metavar="'YYYY-MM-DD HH:MM'",
        help="usage: when an LM-X, lsmon or DSLS snapshot was taken (the license server's time); "
        "they print none, and are otherwise dated by the latest time they show; rvtools, "
        "hyperv: when the export was taken (UTC; default: now)",
    )
    imp.add_argument(
        "--skip-invalid",
        action="store_true",
        help="commit the valid rows; write the refused ones (with line and reason) to --rejects",
    )
    imp.add_argument(
        "--rejects",
        default="",
        metavar="FILE",
        help="with --skip-invalid: where the refused rows go (default FILE.rejects.csv beside it)",
    )

    rec = _reading(sub, "reconcile", help="print the effective license position and findings")
    rec.add_argument("--as-of", default="", help="date (YYYY-MM-DD); default today")
    rec.add_argument("--format", choices=("table", "json", "csv"), default="table")
    rec.add_argument("--shelf-days", type=_whole, default=90, help="shelfware: no use in N days")
    rec.add_argument("--out", default="", help="write to FILE (.csv, .xlsx or .json) instead")

    servers = _reading(
        sub,
        "servers",
        help="the server position: what Windows Server, SQL Server, Oracle, IBM and RHEL "
        "require on the imported hosts and VMs against what was bought; what-if options "
        "recompute it without writing",
    )
    servers.add_argument("--as-of", default="", help="date (YYYY-MM-DD); default today")
    servers.add_argument("--format", choices=("table", "json"), default="table")
    servers.add_argument(
        "--out",
        default="",
        help="write a row per host and VM behind each figure to FILE (.csv or .xlsx) instead",
    )
    servers.add_argument("--move", action="append", default=[], metavar="VM=HOST")
    servers.add_argument(
        "--hard-partition", action="append", default=[], metavar="VM=CORES", help="pin a VM"
    )
    servers.add_argument("--off", action="append", default=[], metavar="VM")
    servers.add_argument("--remove-host", action="append", default=[], metavar="HOST")
    servers.add_argument("--sql-enterprise-sa", action="store_true")
    servers.add_argument(
        "--oracle-reach", choices=("cluster", "vcenter", "everywhere"), default="cluster"
    )
    servers.add_argument(
        "--edition",
        action="append",
        default=[],
        metavar="HOST_OR_CLUSTER=EDITION",
        help="license a host, cluster or physical server with Windows Server standard or "
        "datacenter instead of the cheaper edition (what-if)",
    )

    partition = _acting(
        sub,
        "partition",
        help="record that a VM runs in an approved hard partition (LPAR, capped zone, pinned "
        "KVM or Oracle VM guest) pinned to N physical cores, or --none; a ledger entry",
    )
    partition.add_argument("vm")
    partition.add_argument("--cores", type=_whole, default=None)
    partition.add_argument("--none", action="store_true", help="it is not a hard partition")
    partition.add_argument("--reason", required=True, help="the technology and its evidence")

    chart = _reading(sub, "chart", help="draw usage against the limit over time to a PNG or SVG")
    chart.add_argument("--license", type=_whole, default=None, help="license (entitlement) id")
    chart.add_argument("--vendor", default=None, help="vendor name (all its products)")
    chart.add_argument("--product", default=None, help="product name, or 'Vendor Product'")
    chart.add_argument("--team", default=None, help="team name or cost centre: its people's seats")
    chart.add_argument("--from", dest="start", default="", help="first day (YYYY-MM-DD)")
    chart.add_argument("--to", dest="end", default="", help="last day (YYYY-MM-DD); default today")
    chart.add_argument("--width", type=_whole, default=1200, help="pixels (default 1200)")
    chart.add_argument("--height", type=_whole, default=600, help="pixels (default 600)")
    chart.add_argument("--out", required=True, help="FILE.png or FILE.svg")

    ver = sub.add_parser(
        "verify", help="verify an audit or access review report bundle; exit 1 if it does not"
    )
    ver.add_argument("bundle", help="the bundle folder or its .zip")
    ver.add_argument("--pubkey", default="", help="the Ed25519 public key (PEM) you pinned")
    ver.add_argument("--previous", default="", help="the previous report's manifest.json")
    ver.add_argument(
        "--opening", default="", help="an opening file: check it opens a commitment in the bundle"
    )

    _audit_parser(sub)
    _review_parser(sub)
    _reclaim_parser(sub)

    signing = sub.add_parser("signing", help="the organization's report-signing identity")
    signing_sub = signing.add_subparsers(dest="signing_command", metavar="ACTION", required=True)
    sig_show = _reading(signing_sub, "show", help="fingerprints of the identity and past ones")
    sig_show.add_argument("--pubkey-out", default="", help="write the Ed25519 public key (PEM)")
    sig_create = _acting(signing_sub, "create", help="create the identity (passphrase asked)")
    sig_create.add_argument(
        "--organization",
        default="",
        help="the organization reports are signed for (default: the one the database names)",
    )
    sig_import = _acting(signing_sub, "import", help="take the organization's PKCS#12")
    sig_import.add_argument("file", help="the .p12/.pfx (password: SEATLEDGER_PKCS12_PASSWORD)")
    sig_import.add_argument("--reason", default="")
    sig_rotate = _acting(signing_sub, "rotate", help="retire the identity and create another")
    sig_rotate.add_argument(
        "--organization",
        default="",
        help="the organization reports are signed for (default: the one the database names)",
    )
    sig_rotate.add_argument("--reason", required=True)
    lost = signing_sub.add_parser(
        "key-lost",
        help="replace an identity whose passphrase is lost: one administrator requests, "
        "another approves",
    )
    lost_sub = lost.add_subparsers(dest="key_lost_command", metavar="STEP", required=True)
    _reading(lost_sub, "show", help="the pending request, if any")
    lost_request = _acting(lost_sub, "request", help="declare the key lost (with a reason)")
    lost_request.add_argument("--reason", required=True)
    lost_approve = _acting(
        lost_sub, "approve", help="as a second administrator: approve and create the new identity"
    )
    lost_approve.add_argument(
        "--organization",
        default="",
        help="the organization reports are signed for (default: the lost identity's)",
    )
    lost_approve.add_argument(
        "--p12", default="", help="take the organization's PKCS#12 instead of generating a key"
    )
    lost_withdraw = _acting(lost_sub, "withdraw", help="withdraw or turn down the request")
    lost_withdraw.add_argument("--reason", default="")
    return parser


def _audit_parser(sub: Any) -> None:
    audit = sub.add_parser("audit", help="run, list or schedule license audits")
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    run = _acting(audit_sub, "run", help="run a whole audit without the window; sign its bundle")
    run.add_argument("--vendor", default="", help="vendor name (not with --resume)")
    run.add_argument("--product", action="append", default=[], help="product name (repeatable)")
    run.add_argument("--as-of", default="", help="date (YYYY-MM-DD); default today")
    run.add_argument(
        "--resume",
        type=_whole,
        default=None,
        metavar="AUDIT",
        help="finish an unsigned audit (one a killed or failed run left) with its own scope",
    )
    run.add_argument(
        "--attest", default="", help="the attestation statement (a resumed audit may have one)"
    )
    run.add_argument("--out", required=True, help="folder the bundle and its .zip go in")
    run.add_argument(
        "--trigger",
        choices=("vendor_request", "scheduled", "suspicion"),
        default="vendor_request",
    )
    run.add_argument("--reason", default="", help="why (required on suspicion)")
    run.add_argument("--shelf-days", type=_whole, default=90, help="shelfware: no use in N days")
    run.add_argument("--charts", type=_whole, default=4, help="usage charts of the top N products")
    _reading(audit_sub, "list", help="audits and the scheduled ones due")
    schedule = _acting(audit_sub, "schedule", help="audit a vendor periodically")
    schedule.add_argument("--vendor", required=True)
    schedule.add_argument("--every", required=True, help="3m, 1q, 1y...")
    schedule.add_argument("--next", default="", help="next due date; default one interval away")
    schedule.add_argument("--off", action="store_true", help="stop the schedule")


def _review_parser(sub: Any) -> None:
    review = sub.add_parser(
        "review",
        help="access review campaigns: reviewers keep, release or move their teams' seats",
    )
    actions = review.add_subparsers(dest="review_command", metavar="ACTION", required=True)
    start = _acting(actions, "start", help="start a campaign (administrators; a ledger entry)")
    start.add_argument("name", help="what the campaign is called")
    start.add_argument("--due", required=True, help="the day decisions are due (YYYY-MM-DD)")
    start.add_argument(
        "--reviewer",
        action="append",
        default=[],
        metavar="TEAM=OPERATOR",
        help="who reviews a team's seats (repeatable); other seats: administrators",
    )
    start.add_argument(
        "--managers",
        action="store_true",
        help="each team's manager reviews its seats (the person most of it reports to, where "
        "an operator account that may review is theirs); --reviewer overrides a team",
    )
    start.add_argument("--vendor", action="append", default=[], help="only this vendor's seats")
    start.add_argument("--product", action="append", default=[], help="only this product's")
    start.add_argument("--team", action="append", default=[], help="only this team's seats")
    start.add_argument(
        "--every",
        choices=("monthly", "quarterly", "half-yearly", "yearly"),
        default="",
        help="recurrence: closing the campaign starts the next one, due a period later",
    )
    _acting(actions, "list", help="the campaigns you may see, with their progress")
    show = _acting(actions, "show", help="a campaign's seats (a reviewer: their teams')")
    show.add_argument("campaign", type=_whole)
    show.add_argument("--team", default=None, help="only this team's seats")
    show.add_argument("--undecided", action="store_true", help="only seats not decided yet")
    decide = _acting(
        actions,
        "decide",
        help="keep or release seats (review items), or a team's undecided ones, or move one "
        "seat to another person",
    )
    decide.add_argument("campaign", type=_whole)
    decide.add_argument("items", type=_whole, nargs="*", help="review item numbers ('show' lists)")
    verdict = decide.add_mutually_exclusive_group(required=True)
    verdict.add_argument("--keep", action="store_true")
    verdict.add_argument("--release", action="store_true")
    verdict.add_argument(
        "--move-to",
        default=None,
        metavar="PERSON",
        help="move the one seat named to this person (employee number or e-mail) on close",
    )
    decide.add_argument("--team", default=None, help="every undecided seat of this team")
    decide.add_argument("--reason", default="", help="why (required to release or move)")
    close = _acting(
        actions, "close", help="carry out the decisions and close the campaign (administrators)"
    )
    close.add_argument("campaign", type=_whole)
    report = _acting(
        actions,
        "report",
        help="write every seat's decision and outcome as CSV, or a closed campaign's signed "
        "report (--signed)",
    )
    report.add_argument("campaign", type=_whole)
    report.add_argument(
        "--out", required=True, help="the CSV file to write (--signed: the folder to write into)"
    )
    report.add_argument(
        "--signed",
        action="store_true",
        help="write the signed bundle (folder and zip) that 'seatledger verify' checks "
        "(administrators; the signing-key passphrase: SEATLEDGER_KEY_PASSPHRASE or a prompt)",
    )


def _reclaim_parser(sub: Any) -> None:
    reclaim = sub.add_parser(
        "reclaim", help="reclaim idle seats: rules per product, runs, notices, keeps, release"
    )
    actions = reclaim.add_subparsers(dest="reclaim_command", metavar="ACTION", required=True)
    _reading(actions, "list", help="rules, exclusions, runs and seats reclaimed")
    rule = _acting(actions, "rule", help="set or remove a product's rule (a ledger entry)")
    rule.add_argument("product", help="the product ('Vendor Product' or its name)")
    rule.add_argument("--idle-days", type=_whole, default=90, help="no use in this many days")
    rule.add_argument("--grace-days", type=_whole, default=14, help="days the holder may keep it")
    rule.add_argument("--remove", action="store_true", help="remove the product's rule")
    for name, text in (("exclude", "leave their seats alone"), ("include", "undo an exclusion")):
        action = _acting(actions, name, help=f"a person, team or product: {text}")
        action.add_argument("kind", choices=("person", "team", "product"))
        action.add_argument("name", help="employee ID, team name or product")
        if name == "exclude":
            action.add_argument("--reason", required=True)
    _acting(actions, "run", help="start a run over the idle seats; list its candidates")
    notices = _acting(actions, "notices", help="write notices.csv and .eml drafts to a folder")
    notices.add_argument("run", type=_whole)
    notices.add_argument("--out", required=True, help="the folder to write")
    notices.add_argument("--sender", default="", help="the From address of the drafts")
    keep = _acting(actions, "keep", help="keep candidates (the holder or manager asked)")
    keep.add_argument("run", type=_whole)
    keep.add_argument("candidates", type=_whole, nargs="+", help="candidate numbers ('run' lists)")
    keep.add_argument("--reason", required=True)
    finish = _acting(actions, "finish", help="release what was not kept once the grace is over")
    finish.add_argument("run", type=_whole)
