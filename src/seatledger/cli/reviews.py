"""``seatledger review``: access review campaigns from the command line.

``review start`` (administrators) names the scope and a reviewer per team; ``review list`` and
``review show`` print what the signed-in operator may see (a reviewer: the campaigns and seats of
the teams they review); ``review decide`` keeps or releases seats, or a whole team's undecided
ones, or moves one seat to another person (``--move-to`` an employee number or e-mail);
``review close`` carries the decisions out; ``review report`` writes every seat's
decision and outcome to a CSV file, or with ``--signed`` a closed campaign's signed report (a
folder and its zip, the same bundle as a vendor audit's, which ``seatledger verify`` checks).
All of them sign in, so a reviewer sees their own scope.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from seatledger.cli.output import EXIT_OK, clear_progress_line, progress_line, say
from seatledger.cli.session import key_passphrase, signed_in
from seatledger.domain import validation
from seatledger.domain.reviews import Decision, Recurrence
from seatledger.errors import NotFoundError, ValidationError
from seatledger.services.lookups import NamedItem
from seatledger.services.operators.session import ORGANIZATION_KEY, Services, read_setting
from seatledger.services.reviews.managers import managers_as_reviewers
from seatledger.services.reviews.report import write_csv


def cmd_review(args: argparse.Namespace) -> int:
    """Start, list, show, decide, close or report access review campaigns."""
    services = signed_in(args)
    command = args.review_command
    if command == "start":
        return _start(services, args)
    if command == "list":
        return _list(services)
    if command == "show":
        return _show(services, args)
    if command == "decide":
        return _decide(services, args)
    if command == "close":
        say(f"Campaign {args.campaign} closed: {services.reviews.close(args.campaign).message}")
        return EXIT_OK
    return _report(services, args)


def _named(items: Sequence[NamedItem], names: Sequence[str], what: str) -> list[int]:
    by_name = {item.name.lower(): item.id for item in items}
    unknown = [n for n in names if n.strip().lower() not in by_name]
    if unknown:
        raise NotFoundError(f"No {what} named '{unknown[0]}'.")
    return [by_name[n.strip().lower()] for n in names]


def _start(services: Services, args: argparse.Namespace) -> int:
    choices = services.reviews.choices()
    reviewers: dict[int, int] = {}
    if args.managers:
        by_managers = managers_as_reviewers(
            services.directory.team_managers(), choices.teams, choices.reviewers
        )
        reviewers.update(by_managers.chosen)
        for missing in by_managers.missing:
            say(f"  {missing}: administrators decide its seats unless --reviewer names someone")
    for pair in args.reviewer:
        team, sep, operator = pair.partition("=")
        if not sep:
            raise ValidationError(f"'{pair}' is not TEAM=OPERATOR.", "--reviewer")
        team_id = _named(choices.teams, [team], "team")[0]
        reviewers[team_id] = _named(choices.reviewers, [operator], "operator who may review")[0]
    products: list[int] = []
    for name in args.product:
        wanted = name.strip().lower()
        found = [
            p.id
            for p in choices.products
            if wanted in (p.name.lower(), f"{p.vendor} {p.name}".lower())
        ]
        if not found:
            raise NotFoundError(f"No product named '{name}'.")
        products.extend(found)
    due = validation.date(args.due, "--due")
    if due is None:
        raise ValidationError("Give the due date as YYYY-MM-DD.", "--due")
    campaign = services.reviews.start(
        args.name,
        due,
        reviewers=reviewers,
        vendors=_named(choices.vendors, args.vendor, "vendor"),
        products=products,
        teams=_named(choices.teams, args.team, "team"),
        recurrence=Recurrence(args.every),
    )
    info = services.reviews.campaign(campaign)
    say(f"Campaign {campaign} started: {info.name}, {info.progress}, due {info.due_on}.")
    return EXIT_OK


def _list(services: Services) -> int:
    campaigns = services.reviews.campaigns()
    if not campaigns:
        say("No access review campaigns.")
    for c in campaigns:
        late = "  OVERDUE" if c.overdue else ""
        say(
            f"{c.id:>5}  {c.status.label:<7} due {c.due_on}  {c.recurrence.label:<11} "
            f"{c.name}: {c.progress}{late}"
        )
    return EXIT_OK


def _team_id(services: Services, campaign: int, name: str | None) -> int | None:
    if name is None:
        return None
    for team_id, team in services.reviews.my_teams(campaign):
        if team.lower() == name.strip().lower():
            return team_id
    raise NotFoundError(f"You review no team named '{name}' in campaign {campaign}.")


def _show(services: Services, args: argparse.Namespace) -> int:
    info = services.reviews.campaign(args.campaign)
    say(f"{info.name} ({info.status.label.lower()}, due {info.due_on}): {info.progress}")
    for reviewer in services.reviews.reviewers(args.campaign):
        say(f"  {reviewer.team}: reviewed by {reviewer.operator}")
    rows = services.reviews.items(
        args.campaign,
        team_id=_team_id(services, args.campaign, args.team),
        undecided_only=args.undecided,
    )
    today = services.reviews.today()
    say(
        f"{'Item':>7}  {'Team':<16} {'Holder':<24} {'License':<32} {'Age':>5} "
        f"{'Last use':<10}  Decision"
    )
    for r in rows:
        used = r.last_use.isoformat() if r.last_use else "none seen"
        decided = f"{r.decision.label} by {r.decided_by}" if r.decision else "undecided"
        if r.move_to:
            decided += f" to {r.move_to}"
        if r.reason:
            decided += f": {r.reason}"
        say(
            f"{r.id:>7}  {r.team[:16]:<16} {r.holder[:24]:<24} {r.license[:32]:<32} "
            f"{r.age_days(today):>5} {used:<10}  {decided}"
        )
    return EXIT_OK


def _decide(services: Services, args: argparse.Namespace) -> int:
    if args.move_to is not None:
        return _move(services, args)
    decision = Decision.RELEASE if args.release else Decision.KEEP
    team = _team_id(services, args.campaign, args.team)
    if team is not None:
        count = services.reviews.decide_team(args.campaign, team, decision, args.reason)
    elif args.items:
        count = services.reviews.decide(args.campaign, args.items, decision, args.reason)
    else:
        raise ValidationError("Name the seats to decide (review items) or a --team.")
    verb = "to be released" if decision is Decision.RELEASE else "kept"
    say(f"{count:,} {'seat' if count == 1 else 'seats'} {verb} in campaign {args.campaign}.")
    return EXIT_OK


def _move(services: Services, args: argparse.Namespace) -> int:
    if args.team is not None or len(args.items) != 1:
        raise ValidationError(
            "Name one seat to move (its review item number); a move names one person per seat.",
            "--move-to",
        )
    person = services.reviews.find_person(args.move_to)
    name = services.reviews.move(args.campaign, args.items[0], person, args.reason)
    say(
        f"Seat {args.items[0]} of campaign {args.campaign} moves to {name} when the campaign "
        "closes."
    )
    return EXIT_OK


def _report(services: Services, args: argparse.Namespace) -> int:
    if args.signed:
        return _signed(services, args)
    info = services.reviews.campaign(args.campaign)
    rows = services.reviews.items(args.campaign)
    out = write_csv(rows, Path(args.out))
    say(f"{info.name}: {len(rows):,} seats written to {out}.")
    return EXIT_OK


def _signed(services: Services, args: argparse.Namespace) -> int:
    from seatledger.services.audits.signing import fingerprint_text  # noqa: PLC0415

    services.review_reports.check(args.campaign)  # refused before the passphrase is asked
    out = Path(args.out)
    if not out.is_dir():
        raise ValidationError(f"{out} is not a folder; a signed report is a folder and a zip.")
    passphrase = key_passphrase(new=services.signing.current() is None)
    try:
        result = services.review_reports.sign(
            args.campaign,
            passphrase=passphrase,
            out_dir=out,
            organization=read_setting(services.db, ORGANIZATION_KEY) or "SeatLedger",
            progress=progress_line("report"),
        )
    finally:
        clear_progress_line()
    say(f"Signed the report of access review {args.campaign}:")
    say(f"  bundle      {result.folder}")
    say(f"  zip         {result.zip_path}")
    say(f"  checkpoint  {result.checkpoint.size:,} entries, head {result.checkpoint.head}")
    say(f"  manifest    SHA-256 {result.manifest_sha256}")
    say(f"  key         SHA-256 {fingerprint_text(result.ed25519_fingerprint)}")
    say(f"Verify it with: seatledger verify {result.zip_path}")
    return EXIT_OK
