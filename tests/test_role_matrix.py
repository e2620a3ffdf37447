"""The role matrix: every service method and every command, for every role, from one table.

:data:`SERVICE_TABLE` names what each public method of every service the :class:`Services`
facade holds needs: a permission of :mod:`seatledger.domain.roles` (whose grants say which roles
have it), ``READ`` (any operator, and it changes nothing) or :data:`SELF` (any signed-in operator,
for themselves).  :data:`COMMAND_TABLE` does the same for every ``seatledger`` command.  The
methods and the commands are found by introspection (the facade's attributes, the argparse
tree), so one added without an entry here fails :func:`test_every_method_has_an_entry` or
:func:`test_every_command_has_an_entry`.

Each entry is called, with plausible arguments on a small seeded database (built once, copied per
call), as each role.  Where the table refuses the role, the call must raise
:class:`PermissionDenied` and leave the ledger head and every table's row count as they were;
where it allows it, the call must not be refused for permission (it may fail for a reason of the
data, which the entry then names); a ``READ`` entry changes nothing for anyone.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import functools
import inspect
import re
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import PASSWORD, Org, _hash_fast, _keep_private, _make_org
from seatledger import cli
from seatledger.cli.parser import build_parser
from seatledger.domain.alerts import AlertSettings
from seatledger.domain.licensing import Metric
from seatledger.domain.reviews import Decision as ReviewDecision
from seatledger.domain.roles import Permission, Role, allows
from seatledger.errors import KnownError, PermissionDenied
from seatledger.ingest.formats import Kind
from seatledger.progress import Reporter
from seatledger.services.audits.bundle.model import BundleResult, Checkpoint, Decision, Trigger
from seatledger.services.audits.service import Step
from seatledger.services.audits.signing import TEST_KDF, SigningService
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.core.context import Actor
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators import accounts
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column
from seatledger.services.servers.importing import TopologySource
from seatledger.services.settings.service import DataSettings
from seatledger.services.usage.history import Scope
from seatledger.store.db import Database
from seatledger.store.models import LedgerCommitment

READ = Permission.READ
SELF = "any signed-in operator, for themselves"
CAMPAIGN_READERS = frozenset({Role.ADMINISTRATOR, Role.AUDITOR, Role.REVIEWER})
"""Who sees an access review campaign: administrators and auditors all, a reviewer those that
give them a team (the seed's campaign gives the reviewer one)."""
Need = Permission | str | frozenset[Role]
NEW_PASSWORD = "Tangerine-orbit-quiver-1947"
PASSPHRASE = "a long enough passphrase"
DATA = Path(__file__).parent / "data"
TODAY = dt.date.today()
RVTOOLS = sorted((DATA / "rvtools").glob("RVTools_*.csv"))
MLS = DATA / "mls" / "mls_2026-11-30.xlsx"


@dataclass
class World:
    """What the seed made, by id, and a folder for files a call writes."""

    org: Org
    operators: dict[Role, tuple[int, str]]
    second_admin: int
    viewer_pro: int
    seat: int
    rule: int
    draft_audit: int
    attested_audit: int
    alert: int
    campaign: int
    review_item: int
    run: int
    candidate: int
    identity: int
    commitment: str
    vm: str
    inputs: Path  # files calls read (shared by every copy)
    out: Path  # a folder of the copy's own, for files calls write


@dataclass(frozen=True)
class Entry:
    """What a call needs, how to make it, and the refusal its data earns where allowed."""

    need: Need
    call: Callable[[Services, World], object]
    refused_for_data: str = ""  # an allowed role's call fails with this (not for permission)


def _position(s: Services) -> Any:
    return s.position.position(TODAY)


def _finding(s: Services, w: World) -> Any:
    return next(f for f in _position(s).findings if f.product_id in _products(s, w))


def _products(s: Services, w: World) -> set[int]:
    return {p for p, _ in s.catalog.products(w.org.vendor)}


def _fake_bundle(w: World) -> BundleResult:
    return BundleResult(
        folder=w.out / "audit",
        zip_path=w.out / "audit.zip",
        checkpoint=Checkpoint(1, "00" * 32),
        manifest_sha256="ab" * 32,
        ed25519_fingerprint="cd" * 32,
        certificate_fingerprint="ef" * 32,
    )


def _all_rows(query: Any) -> object:
    return query.rows(query.keys())


def _acknowledge_first_warning(s: Services, audit_id: int) -> None:
    warning = s.audits.freshness(audit_id)[0]
    s.audits.acknowledge(audit_id, warning.topic, warning.text)


def _warning_percent(s: Services) -> int:
    with s.db.read() as session:
        return s.dashboard.warning_percent(session)


def _sign(s: Services, w: World) -> object:
    """Sign the attested audit, cancelled as soon as it starts: what a role may do is decided by
    then, and writing bundles is what the bundle tests are for (it would double this module's
    time)."""
    cancelled = Reporter()
    cancelled.cancel()
    return s.audits.sign(
        w.attested_audit,
        _position(s),
        passphrase=PASSPHRASE,
        out_dir=w.out,
        organization="SeatLedger",
        progress=cancelled,
    )


def _people_file(folder: Path, employee: str) -> Path:
    path = folder / f"people-{employee}.csv"
    if not path.exists():
        path.write_text(f"employee_id,name,email\n{employee},Nina New,{employee}@example.com\n")
    return path


def _entitlement(s: Services, w: World) -> EntitlementInput:
    return dataclasses.replace(s.reads.entitlement(w.viewer_pro)[0], quantity=12)


SERVICE_TABLE: dict[str, Entry] = {
    # The facade's own.
    "backup": Entry(Permission.MANAGE_SETTINGS, lambda s, w: s.backup(w.out / "copy.sqlite")),
    "subscribe": Entry(READ, lambda s, w: s.subscribe(lambda _: None)()),
    # What was bought.
    "catalog.add_entitlement": Entry(
        Permission.EDIT_LICENSES,
        lambda s, w: s.catalog.add_entitlement(
            EntitlementInput(product_id=min(_products(s, w)), metric=Metric.PER_USER, quantity=2)
        ),
    ),
    "catalog.add_product": Entry(
        Permission.EDIT_LICENSES, lambda s, w: s.catalog.add_product(w.org.vendor, "Form Filler")
    ),
    "catalog.add_vendor": Entry(
        Permission.EDIT_LICENSES, lambda s, w: s.catalog.add_vendor("Fabrikam")
    ),
    "catalog.products": Entry(READ, lambda s, w: s.catalog.products()),
    "catalog.update_entitlement": Entry(
        Permission.EDIT_LICENSES,
        lambda s, w: s.catalog.update_entitlement(
            w.viewer_pro, _entitlement(s, w), "bought two more"
        ),
    ),
    "catalog.vendors": Entry(READ, lambda s, w: s.catalog.vendors()),
    # Who holds seats.
    "directory.add_device": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.directory.add_device(
            dataclasses.replace(s.reads.device(w.org.devices[0]), hostname="db-03", serial="SN3")
        ),
    ),
    "directory.add_person": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.directory.add_person(
            dataclasses.replace(
                s.reads.person(w.org.people[0])[0], employee_id="E777", email="e777@example.com"
            )
        ),
    ),
    "directory.add_team": Entry(
        Permission.EDIT_DIRECTORY, lambda s, w: s.directory.add_team("Legal")
    ),
    "directory.mark_left": Entry(
        Permission.EDIT_DIRECTORY, lambda s, w: s.directory.mark_left(w.org.people[4], TODAY)
    ),
    "directory.organization": Entry(READ, lambda s, w: s.directory.organization(w.org.people[0])),
    "directory.set_organization": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.directory.set_organization(w.org.people[1], w.org.people[0], "CC-7"),
    ),
    "directory.team_managers": Entry(READ, lambda s, w: s.directory.team_managers()),
    "directory.teams": Entry(READ, lambda s, w: s.directory.teams()),
    "directory.update_device": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.directory.update_device(
            w.org.devices[1], dataclasses.replace(s.reads.device(w.org.devices[1]), cores=4)
        ),
    ),
    "directory.update_person": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.directory.update_person(
            w.org.people[1], dataclasses.replace(s.reads.person(w.org.people[1])[0], name="P. One")
        ),
    ),
    # Seats.
    "seats.assign": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.seats.assign(w.viewer_pro, people=[w.org.people[3]])
    ),
    "seats.assign#over_commit": Entry(
        Permission.OVER_COMMIT,
        lambda s, w: s.seats.assign(
            w.org.acrobat, people=[w.org.people[3]], reason="project", over_commit=True
        ),
    ),
    "seats.departed_holdings": Entry(READ, lambda s, w: s.seats.departed_holdings()),
    "seats.release": Entry(Permission.ASSIGN_SEATS, lambda s, w: s.seats.release([w.seat])),
    "seats.release_departed": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.seats.release_departed()
    ),
    "seats.today": Entry(READ, lambda s, w: s.seats.today()),
    "seats.units_for_devices": Entry(
        READ, lambda s, w: s.seats.units_for_devices(w.org.sql_server, w.org.devices)
    ),
    # Operators.
    "operators.create": Entry(
        Permission.MANAGE_OPERATORS,
        lambda s, w: s.operators.create("newcomer", "New Comer", Role.VIEWER, NEW_PASSWORD),
    ),
    "operators.list": Entry(READ, lambda s, w: s.operators.list()),
    "operators.set_password": Entry(
        Permission.MANAGE_OPERATORS,
        lambda s, w: s.operators.set_password(
            w.operators[Role.VIEWER][0] if s.actor.role is not Role.VIEWER else w.second_admin,
            NEW_PASSWORD,
        ),
    ),
    "operators.set_password#own": Entry(
        SELF, lambda s, w: s.operators.set_password(s.actor.id, NEW_PASSWORD)
    ),
    "operators.set_role": Entry(
        Permission.MANAGE_OPERATORS,
        lambda s, w: s.operators.set_role(
            w.operators[Role.VIEWER][0], Role.AUDITOR, active=True, reason="moved"
        ),
    ),
    # Normalization rules.
    "rules.add": Entry(
        Permission.EDIT_LICENSES,
        lambda s, w: s.rules.add(RuleInput(min(_products(s, w)), "PDF Studio 2026")),
    ),
    "rules.add_many": Entry(
        Permission.EDIT_LICENSES,
        lambda s, w: s.rules.add_many(min(_products(s, w)), [("Contoso", "PDF Studio Lite")]),
    ),
    "rules.delete": Entry(Permission.EDIT_LICENSES, lambda s, w: s.rules.delete(w.rule, "wrong")),
    "rules.rules": Entry(READ, lambda s, w: s.rules.rules()),
    "rules.unmatched": Entry(READ, lambda s, w: s.rules.unmatched()),
    # Audits.
    "audits.acknowledge": Entry(
        Permission.RUN_AUDITS, lambda s, w: _acknowledge_first_warning(s, w.draft_audit)
    ),
    "audits.approve": Entry(
        Permission.RUN_AUDITS, lambda s, w: s.audits.approve(w.attested_audit, "admin2", PASSWORD)
    ),
    "audits.attest": Entry(
        Permission.RUN_AUDITS, lambda s, w: s.audits.attest(w.draft_audit, "Complete.")
    ),
    "audits.audits": Entry(READ, lambda s, w: s.audits.audits()),
    "audits.check_verifies": Entry(
        READ, lambda s, w: s.audits.check_verifies(s.audits.get(w.attested_audit))
    ),
    "audits.data_ages": Entry(READ, lambda s, w: s.audits.data_ages(w.draft_audit)),
    "audits.decide": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.audits.decide(
            w.attested_audit, _finding(s, w), Decision.ACCEPT, explanation="Known."
        ),
    ),
    "audits.decisions": Entry(READ, lambda s, w: s.audits.decisions(w.attested_audit)),
    "audits.due": Entry(READ, lambda s, w: s.audits.due()),
    "audits.freshness": Entry(READ, lambda s, w: s.audits.freshness(w.draft_audit)),
    "audits.concurrency_basis": Entry(READ, lambda s, w: s.audits.concurrency_basis(w.draft_audit)),
    "audits.get": Entry(READ, lambda s, w: s.audits.get(w.draft_audit)),
    "audits.position_scope": Entry(
        READ, lambda s, w: s.audits.position_scope(s.audits.get(w.draft_audit))
    ),
    "audits.previous_checkpoint": Entry(
        READ, lambda s, w: s.audits.previous_checkpoint(w.draft_audit)
    ),
    "audits.products": Entry(READ, lambda s, w: s.audits.products(w.org.vendor)),
    "audits.record_signed": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.audits.record_signed(w.attested_audit, _fake_bundle(w)),
    ),
    "audits.report_input": Entry(
        READ, lambda s, w: s.audits.report_input(w.attested_audit, _position(s), "SeatLedger")
    ),
    "audits.report_usage": Entry(
        READ, lambda s, w: s.audits.report_usage(s.audits.get(w.attested_audit), _position(s).rows)
    ),
    "audits.schedules": Entry(READ, lambda s, w: s.audits.schedules()),
    "audits.scoped": Entry(
        READ, lambda s, w: s.audits.scoped(s.audits.get(w.attested_audit), _position(s))
    ),
    "audits.set_schedule": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.audits.set_schedule(w.org.vendor, 3, TODAY + dt.timedelta(days=90)),
    ),
    "audits.set_scope": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.audits.set_scope(
            w.draft_audit, vendor_id=w.org.vendor, as_of=TODAY, shelf_days=60
        ),
    ),
    "audits.set_step": Entry(
        Permission.RUN_AUDITS, lambda s, w: s.audits.set_step(w.draft_audit, Step.FRESHNESS)
    ),
    "audits.servers": Entry(READ, lambda s, w: s.audits.servers(s.audits.get(w.attested_audit))),
    "audits.sign": Entry(Permission.RUN_AUDITS, _sign, "cancelled"),
    "audits.start": Entry(
        Permission.RUN_AUDITS, lambda s, w: s.audits.start(w.org.vendor, Trigger.VENDOR_REQUEST)
    ),
    "audits.teams": Entry(READ, lambda s, w: s.audits.teams()),
    "audits.today": Entry(READ, lambda s, w: s.audits.today()),
    "audits.vendor_of_entitlement": Entry(
        READ, lambda s, w: s.audits.vendor_of_entitlement(w.org.acrobat)
    ),
    "audits.vendor_of_product": Entry(
        READ, lambda s, w: s.audits.vendor_of_product(min(_products(s, w)))
    ),
    "audits.vendors": Entry(READ, lambda s, w: s.audits.vendors()),
    # The dashboard and alerts.
    "dashboard.figures": Entry(READ, lambda s, w: s.dashboard.figures()),
    "dashboard.warning_percent": Entry(READ, lambda s, w: _warning_percent(s)),
    "alerts.acknowledge": Entry(
        Permission.ACKNOWLEDGE_ALERTS, lambda s, w: s.alerts.acknowledge(w.alert, "Bought more.")
    ),
    "alerts.alert": Entry(READ, lambda s, w: s.alerts.alert(w.alert)),
    "alerts.alerts": Entry(READ, lambda s, w: s.alerts.alerts(include_acknowledged=True)),
    "alerts.open_count": Entry(READ, lambda s, w: s.alerts.open_count()),
    "alerts.save_settings": Entry(
        Permission.MANAGE_SETTINGS,
        lambda s, w: s.alerts.save_settings(AlertSettings(timezone="UTC", warning_percent=80)),
    ),
    "alerts.settings": Entry(READ, lambda s, w: s.alerts.settings()),
    # The reads the screens share.
    "reads.activity": Entry(READ, lambda s, w: _all_rows(s.reads.activity())),
    "reads.counts": Entry(READ, lambda s, w: s.reads.counts()),
    "reads.device": Entry(READ, lambda s, w: s.reads.device(w.org.devices[0])),
    "reads.device_ids": Entry(READ, lambda s, w: s.reads.device_ids(["db-01"])),
    "reads.devices": Entry(READ, lambda s, w: _all_rows(s.reads.devices())),
    "reads.entitlement": Entry(READ, lambda s, w: s.reads.entitlement(w.org.acrobat)),
    "reads.entitlement_row": Entry(READ, lambda s, w: s.reads.entitlement_row(w.org.acrobat)),
    "reads.entitlements": Entry(READ, lambda s, w: _all_rows(s.reads.entitlements())),
    "reads.ledger_entry": Entry(READ, lambda s, w: s.reads.ledger_entry(1)),
    "reads.people": Entry(READ, lambda s, w: _all_rows(s.reads.people())),
    "reads.person": Entry(READ, lambda s, w: s.reads.person(w.org.people[0])),
    "reads.person_ids": Entry(READ, lambda s, w: s.reads.person_ids(["E001"])),
    "reads.seats": Entry(READ, lambda s, w: _all_rows(s.reads.seats(w.org.acrobat))),
    # The ledger.
    "ledger.checkpoint": Entry(READ, lambda s, w: s.ledger.checkpoint()),
    "ledger.reveal": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.ledger.reveal(w.commitment, "The vendor asked who holds seat 1."),
    ),
    "ledger.size": Entry(READ, lambda s, w: s.ledger.size()),
    "ledger.verify": Entry(READ, lambda s, w: s.ledger.verify()),
    "ledger.verify_state": Entry(READ, lambda s, w: s.ledger.verify_state()),
    # Data settings.
    "settings.data": Entry(READ, lambda s, w: s.settings.data()),
    "settings.save_data": Entry(
        Permission.MANAGE_SETTINGS,
        lambda s, w: s.settings.save_data(DataSettings(sampling_hours=12), "hourly snapshots"),
    ),
    "settings.sources": Entry(READ, lambda s, w: s.settings.sources(TODAY)),
    # Renewals (the calendar is a file the operator names: it changes no data).
    "renewals.due": Entry(READ, lambda s, w: s.renewals.due()),
    "renewals.terms": Entry(READ, lambda s, w: s.renewals.terms()),
    "renewals.today": Entry(READ, lambda s, w: s.renewals.today()),
    "renewals.upcoming": Entry(READ, lambda s, w: s.renewals.upcoming(90)),
    "renewals.write_calendar": Entry(
        READ, lambda s, w: s.renewals.write_calendar(w.out / "renewals.ics")
    ),
    # Access reviews: a reviewer decides the seats of the teams the campaign gave them.
    "reviews.campaign": Entry(CAMPAIGN_READERS, lambda s, w: s.reviews.campaign(w.campaign)),
    "reviews.campaigns": Entry(READ, lambda s, w: s.reviews.campaigns()),
    "reviews.choices": Entry(READ, lambda s, w: s.reviews.choices()),
    "reviews.close": Entry(Permission.MANAGE_REVIEWS, lambda s, w: s.reviews.close(w.campaign)),
    "reviews.decide": Entry(
        Permission.REVIEW_ACCESS,
        lambda s, w: s.reviews.decide(w.campaign, [w.review_item], ReviewDecision.KEEP),
    ),
    "reviews.decide_team": Entry(
        Permission.REVIEW_ACCESS,
        lambda s, w: s.reviews.decide_team(w.campaign, w.org.team, ReviewDecision.KEEP),
    ),
    "reviews.find_person": Entry(READ, lambda s, w: s.reviews.find_person("E004")),
    "reviews.items": Entry(READ, lambda s, w: s.reviews.items(w.campaign)),
    # A move to Person 4, of Finance (the reviewer's team): the reviewer and administrators.
    "reviews.move": Entry(
        Permission.REVIEW_ACCESS,
        lambda s, w: s.reviews.move(w.campaign, w.review_item, w.org.people[3], "Handover"),
    ),
    # A move to Nina New, in no team: outside the reviewer's scope, so administrators only.
    "reviews.move#outside_scope": Entry(
        Permission.MANAGE_REVIEWS,
        lambda s, w: s.reviews.move(
            w.campaign, w.review_item, s.reviews.find_person("E900"), "To the new hire"
        ),
    ),
    # The picker's search: whoever decides the seat's team (a reviewer: within their teams).
    "reviews.move_candidates": Entry(
        frozenset({Role.ADMINISTRATOR, Role.REVIEWER}),
        lambda s, w: s.reviews.move_candidates(w.campaign, w.review_item, "Person"),
    ),
    "reviews.my_teams": Entry(READ, lambda s, w: s.reviews.my_teams(w.campaign)),
    "reviews.overdue": Entry(READ, lambda s, w: s.reviews.overdue()),
    "reviews.reviewers": Entry(READ, lambda s, w: s.reviews.reviewers(w.campaign)),
    # The seed's campaign is open: an administrator is refused for that, nothing is written.
    "review_reports.check": Entry(
        Permission.MANAGE_REVIEWS,
        lambda s, w: s.review_reports.check(w.campaign),
        refused_for_data="is open; close it before its report is signed",
    ),
    "review_reports.sign": Entry(
        Permission.MANAGE_REVIEWS,
        lambda s, w: s.review_reports.sign(
            w.campaign, passphrase=PASSPHRASE, out_dir=w.out, kdf=TEST_KDF
        ),
        refused_for_data="is open; close it before its report is signed",
    ),
    "reviews.start": Entry(
        Permission.MANAGE_REVIEWS,
        lambda s, w: s.reviews.start(
            "Second look",
            TODAY + dt.timedelta(days=30),
            reviewers={w.org.team: w.operators[Role.REVIEWER][0]},
        ),
    ),
    "reviews.today": Entry(READ, lambda s, w: s.reviews.today()),
    # Reclaiming idle seats.
    "reclaim.candidates": Entry(READ, lambda s, w: s.reclaim.candidates(w.run)),
    "reclaim.exclude": Entry(
        Permission.ASSIGN_SEATS,
        lambda s, w: s.reclaim.exclude("person", w.org.people[2], "On leave."),
    ),
    "reclaim.exclusions": Entry(READ, lambda s, w: s.reclaim.exclusions()),
    "reclaim.finish": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.reclaim.finish(w.run), "grace period runs until"
    ),
    "reclaim.include": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.reclaim.include("person", w.org.people[1])
    ),
    "reclaim.keep": Entry(
        Permission.ASSIGN_SEATS,
        lambda s, w: s.reclaim.keep(
            w.run, [c.id for c in s.reclaim.candidates(w.run)][:1], "Needs it."
        ),
    ),
    "reclaim.reclaimed_by_month": Entry(READ, lambda s, w: s.reclaim.reclaimed_by_month()),
    "reclaim.remove_rule": Entry(
        Permission.ASSIGN_SEATS,
        lambda s, w: s.reclaim.remove_rule(s.reads.entitlement(w.viewer_pro)[0].product_id),
    ),
    "reclaim.rules": Entry(READ, lambda s, w: s.reclaim.rules()),
    "reclaim.runs": Entry(READ, lambda s, w: s.reclaim.runs()),
    "reclaim.set_rule": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.reclaim.set_rule(min(_products(s, w)), 60, 7)
    ),
    "reclaim.start_run": Entry(Permission.ASSIGN_SEATS, lambda s, w: s.reclaim.start_run()),
    "reclaim.today": Entry(READ, lambda s, w: s.reclaim.today()),
    "reclaim.write_notices": Entry(
        Permission.ASSIGN_SEATS, lambda s, w: s.reclaim.write_notices(w.run, w.out)
    ),
    # Imports: what a file brings decides the permission (people: the directory).
    "imports.commit#again": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.imports.commit(_people_file(w.inputs, "E900"), ImportOptions(Kind.PEOPLE)),
    ),
    "imports.commit": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.imports.commit(_people_file(w.inputs, "E901"), ImportOptions(Kind.PEOPLE)),
    ),
    "imports.history": Entry(READ, lambda s, w: s.imports.history()),
    "imports.mapping": Entry(READ, lambda s, w: s.imports.mapping("HR export")),
    "imports.mappings": Entry(READ, lambda s, w: s.imports.mappings()),
    "imports.preview": Entry(
        READ,
        lambda s, w: s.imports.preview(_people_file(w.inputs, "E901"), ImportOptions(Kind.PEOPLE)),
    ),
    "imports.save_mapping": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.imports.save_mapping(
            "Another export", Kind.PEOPLE, {"employee_id": "Badge"}
        ),
    ),
    # The license position and usage.
    "position.finding_rows": Entry(
        READ, lambda s, w: s.position.finding_rows(_finding(s, w), TODAY, 90)
    ),
    "position.holders": Entry(
        READ,
        lambda s, w: s.position.holders(
            min(_products(s, w)), Metric.PER_USER, Column.ASSIGNED, TODAY
        ),
    ),
    "position.position": Entry(READ, lambda s, w: _position(s)),
    "position.sources": Entry(READ, lambda s, w: s.position.sources(_position(s))),
    "usage_history.entitlements": Entry(READ, lambda s, w: s.usage_history.entitlements()),
    "usage_history.find_scope": Entry(
        READ, lambda s, w: s.usage_history.find_scope(license_id=w.org.acrobat)
    ),
    "usage_history.product_series": Entry(
        READ,
        lambda s, w: s.usage_history.product_series(
            sorted(_products(s, w)), TODAY - dt.timedelta(days=30), TODAY
        ),
    ),
    "usage_history.products": Entry(READ, lambda s, w: s.usage_history.products()),
    "usage_history.series": Entry(
        READ,
        lambda s, w: s.usage_history.series(
            Scope(entitlement_id=w.org.acrobat), TODAY - dt.timedelta(days=30), TODAY
        ),
    ),
    "usage_history.team_costs": Entry(READ, lambda s, w: s.usage_history.team_costs()),
    "usage_history.teams": Entry(READ, lambda s, w: s.usage_history.teams()),
    "usage_history.today": Entry(READ, lambda s, w: s.usage_history.today()),
    "usage_history.vendors": Entry(READ, lambda s, w: s.usage_history.vendors()),
    # The signing identity: creating the first is an auditor's too (it comes with the first
    # signing); replacing it is an administrator's; opening it needs only its passphrase.
    "signing.approve_key_lost": Entry(
        Permission.MANAGE_SIGNING_KEYS,
        lambda s, w: s.signing.approve_key_lost("another long passphrase", "SeatLedger"),
    ),
    "signing.create": Entry(
        Permission.RUN_AUDITS,
        lambda s, w: s.signing.create(PASSPHRASE, "SeatLedger"),
        "already exists",
    ),
    "signing.current": Entry(READ, lambda s, w: s.signing.current()),
    "signing.history": Entry(READ, lambda s, w: s.signing.history()),
    "signing.import_pkcs12": Entry(
        Permission.MANAGE_SIGNING_KEYS,
        lambda s, w: s.signing.import_pkcs12(
            b"not a PKCS#12", "x", "another long passphrase", current_passphrase=PASSPHRASE
        ),
        "PKCS#12",
    ),
    "signing.key_lost_request": Entry(READ, lambda s, w: s.signing.key_lost_request()),
    "signing.public_key_pem": Entry(READ, lambda s, w: s.signing.public_key_pem(w.identity)),
    "signing.request_key_lost": Entry(
        Permission.MANAGE_SIGNING_KEYS,
        lambda s, w: s.signing.request_key_lost("Lost again."),
        "already",
    ),
    "signing.rotate": Entry(
        Permission.MANAGE_SIGNING_KEYS,
        lambda s, w: s.signing.rotate(
            PASSPHRASE, "another long passphrase", "SeatLedger", "yearly"
        ),
    ),
    "signing.unlock": Entry(READ, lambda s, w: s.signing.unlock(PASSPHRASE)),
    "signing.unlock_or_create": Entry(
        READ, lambda s, w: s.signing.unlock_or_create(PASSPHRASE, "SeatLedger")
    ),
    "signing.withdraw_key_lost": Entry(
        Permission.MANAGE_SIGNING_KEYS, lambda s, w: s.signing.withdraw_key_lost("Found it.")
    ),
    # Servers.
    "servers.import_topology": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS),
    ),
    "servers.import_statement": Entry(
        Permission.EDIT_LICENSES, lambda s, w: s.servers.import_statement(MLS)
    ),
    "servers.lines_of": Entry(READ, lambda s, w: s.servers.lines_of(TODAY, w.org.vendor)),
    "servers.position": Entry(READ, lambda s, w: s.servers.position()),
    "servers.preview_import": Entry(
        READ, lambda s, w: s.servers.preview_import(RVTOOLS, TopologySource.RVTOOLS)
    ),
    "servers.preview_statement": Entry(READ, lambda s, w: s.servers.preview_statement(MLS)),
    "servers.set_hard_partition": Entry(
        Permission.EDIT_DIRECTORY,
        lambda s, w: s.servers.set_hard_partition(w.vm, 4, "LPAR capped at 4 cores"),
    ),
    "servers.state": Entry(READ, lambda s, w: s.servers.state()),
}

# What the facade holds that is not a service call: the session's context (for the services
# themselves), who is signed in, the database, and the constructors.
NOT_CALLS = frozenset({"ctx", "actor", "db", "for_actor", "reader"})


def discovered_methods() -> set[str]:
    """Every public method of the facade and of every service it holds, as ``service.method``."""
    found: set[str] = set()
    for name, member in inspect.getmembers(Services):
        if name.startswith("_") or name in NOT_CALLS:
            continue
        if inspect.isfunction(member):
            found.add(name)
    fields = {f.name for f in dataclasses.fields(Services) if not f.name.startswith("_")}
    properties = {
        n for n, m in inspect.getmembers(Services) if isinstance(m, property) and n not in NOT_CALLS
    }
    services = Services.reader(_NoDatabase())  # type: ignore[arg-type]
    for attribute in sorted((fields | properties) - NOT_CALLS):
        service = getattr(services, attribute)
        for name, member in inspect.getmembers(type(service)):
            if not name.startswith("_") and callable(member):
                found.add(f"{attribute}.{name}")
    return found


class _NoDatabase:
    """Enough of a database to build the facade without opening one (nothing is called)."""


# ---------------------------------------------------------------------------------- the seed


@dataclass
class Seed:
    path: Path
    world: World


@pytest.fixture(scope="module")
def seed(tmp_path_factory: pytest.TempPathFactory, migrated_sqlite_template: Path) -> Seed:
    """A small organization with one of everything the calls touch, built once per module."""
    folder = tmp_path_factory.mktemp("matrix")
    path = folder / "seed.sqlite"
    shutil.copyfile(migrated_sqlite_template, path)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _keep_private(monkeypatch, tmp_path_factory.mktemp("home"))
        _hash_fast(monkeypatch)
        db, _ = Database.open(path)
        try:
            world = _build(db, folder)
        finally:
            db.dispose()
    return Seed(path, world)


def _build(db: Database, folder: Path) -> World:
    actor = accounts.create_first_administrator(db, "admin", "Ada Admin", PASSWORD)
    admin = Services.for_actor(db, actor)
    org = _make_org(admin)
    operators = {Role.ADMINISTRATOR: (actor.id, "admin")}
    for role in Role:
        if role is not Role.ADMINISTRATOR:
            name = f"op-{role.value}"
            operators[role] = (admin.operators.create(name, name.title(), role, PASSWORD), name)
    second = admin.operators.create("admin2", "Second Admin", Role.ADMINISTRATOR, PASSWORD)
    viewer = admin.catalog.add_product(org.vendor, "PDF Viewer Pro")
    viewer_pro = admin.catalog.add_entitlement(
        EntitlementInput(product_id=viewer, metric=Metric.PER_USER, quantity=10)
    )
    long_ago = dt.datetime.now(dt.UTC) - dt.timedelta(days=60)
    Services.for_actor(db, actor, lambda: long_ago).seats.assign(viewer_pro, people=org.people[:2])
    seats = admin.seats.assign(org.acrobat, people=org.people[:3])
    assert seats.assignment_ids
    admin.directory.mark_left(org.people[2], TODAY - dt.timedelta(days=3))  # holds a seat
    admin.seats.assign(org.acrobat, people=[org.people[4]], reason="pilot", over_commit=True)
    admin.reclaim.exclude("person", org.people[1], "Board member.")
    rule, _ = admin.rules.add(RuleInput(viewer, "PDF Viewer Pro 9"))
    draft = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    attested = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    admin.audits.attest(attested, "Complete.")
    identity = SigningService(admin.ctx, TEST_KDF).create(PASSPHRASE, "SeatLedger")
    campaign = admin.reviews.start(
        "Q1", TODAY + dt.timedelta(days=14), reviewers={org.team: operators[Role.REVIEWER][0]}
    )
    item = admin.reviews.items(campaign)[0].id
    admin.reclaim.set_rule(viewer, 30, 7)
    run = admin.reclaim.start_run()
    admin.imports.commit(_people_file(folder, "E900"), ImportOptions(Kind.PEOPLE))
    _people_file(folder, "E901")  # imported by the calls
    (folder / "not.p12").write_bytes(b"not a PKCS#12 file")
    admin.imports.save_mapping("HR export", Kind.PEOPLE, {"employee_id": "Employee ID"})
    topology = admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS)
    assert topology
    vm = admin.servers.state().topology.vms[0].name
    second_admin = Services.for_actor(db, accounts.sign_in(db, "admin2", PASSWORD))
    second_admin.signing.request_key_lost("The passphrase left with Bob.")
    [alert] = [a.id for a in admin.alerts.alerts()][:1]
    with db.read() as session:
        commitment = session.scalars(select(LedgerCommitment.commitment)).first()
        seat = min(seats.assignment_ids)
    assert commitment is not None
    return World(
        org=org,
        operators=operators,
        second_admin=second,
        viewer_pro=viewer_pro,
        seat=seat,
        rule=rule,
        draft_audit=draft,
        attested_audit=attested,
        alert=alert,
        campaign=campaign,
        review_item=item,
        run=run,
        candidate=admin.reclaim.candidates(run)[0].id,
        identity=identity.id,
        commitment=commitment,
        vm=vm,
        inputs=folder,
        out=folder,
    )


# ---------------------------------------------------------------------------------- the matrix


def _state(db: Database) -> tuple[Any, ...]:
    """The ledger head and every table's row count, in one statement."""
    with db.engine.connect() as conn:
        statement = _COUNTS.get(db.url)
        if statement is None:
            names = conn.execute(
                text("SELECT name FROM sqlite_master WHERE type = 'table'")
            ).scalars()
            tables = sorted(n for n in names if not n.startswith("sqlite"))
            counts = ", ".join(f'(SELECT count(*) FROM "{n}")' for n in tables)
            head = "(SELECT hex(head) || ':' || size FROM ledger_head)"
            statement = _COUNTS[db.url] = text(f"SELECT {head}, {counts}")
        return tuple(conn.execute(statement).one())


_COUNTS: dict[str, Any] = {}


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def allowed(need: Need, role: Role) -> bool:
    """What the table says of the role."""
    if isinstance(need, frozenset):
        return role in need
    return need == SELF or (isinstance(need, Permission) and allows(role, need))


def reads_only(need: Need) -> bool:
    """Whether the table says the call changes nothing, for anyone."""
    return need == READ or isinstance(need, frozenset)


class _Copies:
    """Fresh copies of the seed for one test, each with its own folder for written files."""

    def __init__(self, seed: Seed, folder: Path) -> None:
        self._seed = seed
        self._folder = folder
        self._open: list[Database] = []

    def take(self) -> tuple[Database, World]:
        n = len(self._open)
        path = self._folder / f"copy{n}.sqlite"
        shutil.copyfile(self._seed.path, path)
        out = self._folder / f"out{n}"
        out.mkdir()
        db, _ = Database.open(path, create=False, upgrade=False)
        self._open.append(db)
        return db, dataclasses.replace(self._seed.world, out=out)

    def close(self) -> None:
        for db in self._open:
            db.dispose()


@pytest.fixture
def copies(seed: Seed, tmp_path: Path) -> Iterator[_Copies]:
    made = _Copies(seed, tmp_path)
    yield made
    made.close()


def _signed_in(db: Database, world: World, role: Role) -> Services:
    operator, name = world.operators[role]
    return Services.for_actor(db, Actor(operator, name, role))


_A_BEFORE_VOWEL = re.compile(r"\ba (?=[aeiou])", re.IGNORECASE)


def _misworded(message: str) -> str:
    """A refusal's wording fault ("is a auditor"), or "" if none."""
    if _A_BEFORE_VOWEL.search(message) or "another program" in message:
        return f"refused in faulty words: {message}"
    return ""


def _outcome(entry: Entry, role: Role, services: Services, world: World) -> str:
    """What went wrong with one call as one role ("" if it did as the table says)."""
    may = allowed(entry.need, role)
    refused_for_data = entry.refused_for_data
    try:
        entry.call(services, world)
    except PermissionDenied as exc:
        if may:
            return f"refused for permission though the table allows it: {exc}"
        return _misworded(str(exc))
    except KnownError as exc:
        if not may:
            return f"failed with {type(exc).__name__} ({exc}) instead of a permission refusal"
        if refused_for_data and refused_for_data in str(exc):
            return ""
        return f"allowed, but failed: {type(exc).__name__}: {exc}"
    return "" if may else "the table refuses it, yet the call went through"


@pytest.mark.parametrize("name", sorted(SERVICE_TABLE))
def test_service_call_for_every_role(name: str, copies: _Copies) -> None:
    entry = SERVICE_TABLE[name]
    problems: list[str] = []
    shared: tuple[Database, World] | None = None
    for role in Role:
        may = allowed(entry.need, role)
        if may and not reads_only(entry.need):
            db, world = copies.take()  # an allowed change: on a database of its own
        else:
            shared = shared or copies.take()
            db, world = shared
        services = _signed_in(db, world, role)
        before, written = _state(db), _files(world.out)
        problem = _outcome(entry, role, services, world)
        if problem:
            problems.append(f"{role.value}: {problem}")
        if (not may or reads_only(entry.need)) and _state(db) != before:
            problems.append(f"{role.value}: changed the ledger or a table though it may not")
        if not may and _files(world.out) != written:
            problems.append(f"{role.value}: wrote files though it was refused")
    assert not problems, f"{name} (needs {entry.need}): " + "; ".join(problems)


def test_every_method_has_an_entry() -> None:
    """A method added to a service without a line in the table fails here."""
    covered = {name.split("#")[0] for name in SERVICE_TABLE}
    assert discovered_methods() - covered == set(), "add them to SERVICE_TABLE"
    assert covered - discovered_methods() == set(), "the table names methods that are gone"


def test_every_role_may_read() -> None:
    """What the table calls reading is open to every role (viewers and reviewers included)."""
    assert all(allows(role, READ) for role in Role)
    readers = [name for name, entry in SERVICE_TABLE.items() if entry.need == READ]
    assert "reads.people" in readers
    assert "ledger.verify" in readers


# ---------------------------------------------------------------------------------- commands

NO_SIGN_IN = "anyone who can open the database, without signing in (changes nothing)"
OWN_DATABASE = "makes a database of its own (refuses one that exists, without touching it)"
NO_DATABASE = "reads a bundle or builds a demo, not a database an operator signs in to"
NEW_KEY_PASSPHRASE = "another long passphrase"


@dataclass(frozen=True)
class Command:
    """What a command needs, and its arguments on the seeded database (``--db`` is added)."""

    need: Need
    argv: Callable[[World], list[str]]
    refused_for_data: str = ""
    environment: tuple[tuple[str, str], ...] = ()  # variables set for this command only


def _due() -> str:
    return (TODAY + dt.timedelta(days=30)).isoformat()


COMMAND_TABLE: dict[str, Command] = {
    "init": Command(OWN_DATABASE, lambda w: ["init", "--operator", "someone"]),
    "demo": Command(OWN_DATABASE, lambda w: ["demo"]),
    "restore": Command(OWN_DATABASE, lambda w: ["restore", str(w.inputs / "seed.sqlite")]),
    "verify": Command(NO_DATABASE, lambda w: ["verify", str(w.out / "no-bundle.zip")]),
    # Upgrading is recorded as the operator's; at the newest schema there is nothing to do.
    "upgrade": Command(SELF, lambda w: ["upgrade"]),
    "backup": Command(
        Permission.MANAGE_SETTINGS, lambda w: ["backup", "--out", str(w.out / "b.sqlite")]
    ),
    "settings show": Command(NO_SIGN_IN, lambda w: ["settings", "show"]),
    "settings set": Command(
        Permission.MANAGE_SETTINGS, lambda w: ["settings", "set", "--sampling-hours", "12"]
    ),
    "ledger verify": Command(NO_SIGN_IN, lambda w: ["ledger", "verify"]),
    "ledger tail": Command(NO_SIGN_IN, lambda w: ["ledger", "tail"]),
    "ledger reveal": Command(
        Permission.RUN_AUDITS,
        lambda w: [
            "ledger",
            "reveal",
            w.commitment,
            "--reason",
            "asked",
            "--out",
            str(w.out / "o"),
        ],
    ),
    "licenses": Command(NO_SIGN_IN, lambda w: ["licenses"]),
    "renewals": Command(NO_SIGN_IN, lambda w: ["renewals", "--ics", str(w.out / "r.ics")]),
    "alerts": Command(NO_SIGN_IN, lambda w: ["alerts", "--all"]),
    "alerts ack": Command(
        Permission.ACKNOWLEDGE_ALERTS, lambda w: ["alerts", "ack", str(w.alert), "--note", "Done."]
    ),
    "operator add": Command(
        Permission.MANAGE_OPERATORS, lambda w: ["operator", "add", "newcomer", "--role", "viewer"]
    ),
    "operator password": Command(SELF, lambda w: ["operator", "password"]),
    "operator password#for": Command(
        Permission.MANAGE_OPERATORS, lambda w: ["operator", "password", "--for", "admin2"]
    ),
    "vendor add": Command(Permission.EDIT_LICENSES, lambda w: ["vendor", "add", "Fabrikam"]),
    "product add": Command(
        Permission.EDIT_LICENSES,
        lambda w: ["product", "add", "--vendor", "Contoso Software", "Form Filler"],
    ),
    "entitlement add": Command(
        Permission.EDIT_LICENSES,
        lambda w: [
            *("entitlement", "add", "--vendor", "Contoso Software", "--product", "PDF Studio"),
            *("--metric", "named_user", "--quantity", "2"),
        ],
    ),
    "person add": Command(Permission.EDIT_DIRECTORY, lambda w: ["person", "add", "E777", "Eve"]),
    "seat assign": Command(
        Permission.ASSIGN_SEATS, lambda w: ["seat", "assign", str(w.viewer_pro), "--person", "E004"]
    ),
    "seat assign#over-commit": Command(
        Permission.OVER_COMMIT,
        lambda w: [
            *("seat", "assign", str(w.org.acrobat), "--person", "E004"),
            *("--over-commit", "--reason", "project"),
        ],
    ),
    "seat release": Command(Permission.ASSIGN_SEATS, lambda w: ["seat", "release", str(w.seat)]),
    "seat release-departed": Command(
        Permission.ASSIGN_SEATS, lambda w: ["seat", "release-departed"]
    ),
    "import": Command(
        Permission.EDIT_DIRECTORY, lambda w: ["import", "people", str(w.inputs / "people-E901.csv")]
    ),
    "import#again": Command(
        Permission.EDIT_DIRECTORY, lambda w: ["import", "people", str(w.inputs / "people-E900.csv")]
    ),
    "reconcile": Command(NO_SIGN_IN, lambda w: ["reconcile"]),
    "servers": Command(NO_SIGN_IN, lambda w: ["servers"]),
    "partition": Command(
        Permission.EDIT_DIRECTORY, lambda w: ["partition", w.vm, "--cores", "4", "--reason", "LPAR"]
    ),
    "chart": Command(
        NO_SIGN_IN,
        lambda w: ["chart", "--license", str(w.org.acrobat), "--out", str(w.out / "c.svg")],
    ),
    # Stopped by a wrong passphrase once the role has passed every step (signing bundles is
    # what the audit tests are for; here it would double this module's time).
    "audit run": Command(
        Permission.RUN_AUDITS,
        lambda w: [
            *("audit", "run", "--resume", str(w.attested_audit)),
            *("--out", str(w.out / "bundles"), "--charts", "0"),
        ],
        "passphrase",
        (("SEATLEDGER_KEY_PASSPHRASE", "not the passphrase at all"),),
    ),
    "audit list": Command(NO_SIGN_IN, lambda w: ["audit", "list"]),
    "audit schedule": Command(
        Permission.RUN_AUDITS,
        lambda w: ["audit", "schedule", "--vendor", "Contoso Software", "--every", "3m"],
    ),
    "review start": Command(
        Permission.MANAGE_REVIEWS,
        lambda w: [
            *("review", "start", "Second look", "--due", _due()),
            *("--reviewer", "Finance=op-reviewer"),
        ],
    ),
    "review list": Command(READ, lambda w: ["review", "list"]),
    "review show": Command(CAMPAIGN_READERS, lambda w: ["review", "show", str(w.campaign)]),
    "review decide": Command(
        Permission.REVIEW_ACCESS,
        lambda w: ["review", "decide", str(w.campaign), str(w.review_item), "--keep"],
    ),
    "review decide#move_to": Command(
        Permission.REVIEW_ACCESS,
        lambda w: [
            *("review", "decide", str(w.campaign), str(w.review_item)),
            *("--move-to", "p4@example.com", "--reason", "Handover"),
        ],
    ),
    "review close": Command(
        Permission.MANAGE_REVIEWS, lambda w: ["review", "close", str(w.campaign)]
    ),
    "review report": Command(
        CAMPAIGN_READERS,
        lambda w: ["review", "report", str(w.campaign), "--out", str(w.out / "review.csv")],
    ),
    "review report#signed": Command(
        Permission.MANAGE_REVIEWS,
        lambda w: ["review", "report", str(w.campaign), "--out", str(w.out), "--signed"],
        refused_for_data="is open; close it before its report is signed",
    ),
    "reclaim list": Command(NO_SIGN_IN, lambda w: ["reclaim", "list"]),
    "reclaim rule": Command(
        Permission.ASSIGN_SEATS, lambda w: ["reclaim", "rule", "PDF Studio", "--idle-days", "60"]
    ),
    "reclaim exclude": Command(
        Permission.ASSIGN_SEATS,
        lambda w: ["reclaim", "exclude", "person", "E003", "--reason", "On leave."],
    ),
    "reclaim include": Command(
        Permission.ASSIGN_SEATS, lambda w: ["reclaim", "include", "person", "E002"]
    ),
    "reclaim run": Command(Permission.ASSIGN_SEATS, lambda w: ["reclaim", "run"]),
    "reclaim notices": Command(
        Permission.ASSIGN_SEATS,
        lambda w: ["reclaim", "notices", str(w.run), "--out", str(w.out / "notices")],
    ),
    "reclaim keep": Command(
        Permission.ASSIGN_SEATS,
        lambda w: ["reclaim", "keep", str(w.run), str(w.candidate), "--reason", "Needs it."],
    ),
    "reclaim finish": Command(
        Permission.ASSIGN_SEATS, lambda w: ["reclaim", "finish", str(w.run)], "grace period"
    ),
    "signing show": Command(NO_SIGN_IN, lambda w: ["signing", "show"]),
    "signing create": Command(
        Permission.RUN_AUDITS,
        lambda w: ["signing", "create", "--organization", "SeatLedger"],
        "already exists",
    ),
    "signing import": Command(
        Permission.MANAGE_SIGNING_KEYS,
        lambda w: ["signing", "import", str(w.inputs / "not.p12")],
        "PKCS#12",
    ),
    "signing rotate": Command(
        Permission.MANAGE_SIGNING_KEYS, lambda w: ["signing", "rotate", "--reason", "yearly"]
    ),
    "signing key-lost show": Command(NO_SIGN_IN, lambda w: ["signing", "key-lost", "show"]),
    "signing key-lost request": Command(
        Permission.MANAGE_SIGNING_KEYS,
        lambda w: ["signing", "key-lost", "request", "--reason", "The passphrase is lost."],
        "already",
    ),
    "signing key-lost approve": Command(
        Permission.MANAGE_SIGNING_KEYS, lambda w: ["signing", "key-lost", "approve"]
    ),
    "signing key-lost withdraw": Command(
        Permission.MANAGE_SIGNING_KEYS, lambda w: ["signing", "key-lost", "withdraw"]
    ),
}


def discovered_commands() -> set[str]:
    """Every command a user can type, as its words ("signing key-lost approve"); a positional
    ``action`` with choices ("vendor add", "settings set") counts each choice."""
    found: set[str] = set()

    def walk(parser: argparse.ArgumentParser, words: str) -> None:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if words and (not subs or not subs[0].required):
            action = next(
                (a for a in parser._actions if a.dest == "action" and not a.option_strings),
                None,
            )
            choices = list(action.choices or ()) if action is not None else []
            found.update(f"{words} {c}" for c in choices) if choices else found.add(words)
        for sub in subs:
            for name, child in sub.choices.items():
                walk(child, f"{words} {name}".strip())

    walk(build_parser(), "")
    return found


@functools.cache
def _parser() -> argparse.ArgumentParser:
    return build_parser()


def test_every_command_has_an_entry() -> None:
    """A command added to the parser without a line in the table fails here."""
    covered = {name.split("#")[0] for name in COMMAND_TABLE}
    assert discovered_commands() - covered == set(), "add them to COMMAND_TABLE"
    assert covered - discovered_commands() == set(), "the table names commands that are gone"


@pytest.fixture
def command_env(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """The passwords commands read, and a record of the errors the commands ended with."""
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    monkeypatch.setenv("SEATLEDGER_NEW_PASSWORD", NEW_PASSWORD)
    monkeypatch.setenv("SEATLEDGER_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SEATLEDGER_NEW_KEY_PASSPHRASE", NEW_KEY_PASSPHRASE)
    monkeypatch.setenv("SEATLEDGER_PKCS12_PASSWORD", "x")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    errors: list[BaseException] = []
    real = cli._command

    def recorded(name: str | None) -> Callable[[argparse.Namespace], int]:
        handler = real(name)

        def run(args: argparse.Namespace) -> int:
            try:
                return handler(args)
            except KnownError as exc:
                errors.append(exc)
                raise

        return run

    monkeypatch.setattr(cli, "_command", recorded)
    monkeypatch.setattr(cli, "build_parser", _parser)  # built once, not for every command
    return errors


@pytest.mark.parametrize("name", sorted(COMMAND_TABLE))
def test_command_for_every_role(
    name: str,
    copies: _Copies,
    command_env: list[BaseException],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = COMMAND_TABLE[name]
    for variable, value in entry.environment:
        monkeypatch.setenv(variable, value)
    if entry.need in (OWN_DATABASE, NO_DATABASE, NO_SIGN_IN):
        db, world = copies.take()
        before, written = _state(db), _files(world.out)
        argv = entry.argv(world)
        status = cli.main(argv if entry.need == NO_DATABASE else [*argv, "--db", db.url])
        output = capsys.readouterr()
        assert "Traceback" not in output.err
        if entry.need == NO_SIGN_IN:
            assert status == cli.EXIT_OK, output.err
        else:
            assert status != cli.EXIT_OK
            assert _files(world.out) == written
        assert _state(db) == before, f"{name} changed the database"
        assert not any(isinstance(e, PermissionDenied) for e in command_env)
        return
    problems: list[str] = []
    shared: tuple[Database, World] | None = None
    for role in Role:
        may = allowed(entry.need, role)
        if may and not reads_only(entry.need):
            db, world = copies.take()
        else:
            shared = shared or copies.take()
            db, world = shared
        before, written = _state(db), _files(world.out)
        command_env.clear()
        argv = [*entry.argv(world), "--db", db.url, "--operator", world.operators[role][1]]
        status = cli.main(argv)
        output = capsys.readouterr()
        refused = [e for e in command_env if isinstance(e, PermissionDenied)]
        if may and refused:
            problems.append(f"{role.value}: refused for permission: {refused[0]}")
        elif may and status != cli.EXIT_OK and entry.refused_for_data not in output.err:
            problems.append(f"{role.value}: allowed, but failed: {output.err.strip()}")
        elif not may and not refused:
            problems.append(f"{role.value}: not refused for permission: {output.err.strip()}")
        elif not may and _misworded(output.err):
            problems.append(f"{role.value}: {_misworded(output.err)}")
        if not may and status == cli.EXIT_OK:
            problems.append(f"{role.value}: refused, yet exit status 0")
        if (not may or reads_only(entry.need)) and _state(db) != before:
            problems.append(f"{role.value}: changed the ledger or a table though it may not")
        if not may and _files(world.out) != written:
            problems.append(f"{role.value}: wrote files though it was refused")
        if "Traceback" in output.err:
            problems.append(f"{role.value}: a traceback")
    assert not problems, f"{name} (needs {entry.need}): " + "; ".join(problems)
