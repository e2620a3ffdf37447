"""The Microsoft 365 active user detail report as usage evidence of a user subscription.

Hand count, from ``tests/data/m365/graph_powershell_bom.csv`` (refreshed 2026-11-30; lines 2-13):

- Northwind buys 10 subscriptions of Microsoft 365 E3; on 2026-08-01 seats go to Anna, Bruno,
  Chloé, Farid, Grace, Inés and Liam (7 assigned).  Everyone but Jonas is a person here.
- The report's E3 users and their last activity: Anna 11-29 (four workloads), Bruno 10-02,
  Chloé none, Dev 11-28 (Exchange, Teams), Farid deleted on 11-10, Grace 11-30, Inés 11-12,
  Jonas 11-03 (no such person), Liam 11-01.  Emma and Kira hold only Office 365 E1 (and Power BI
  free), Henrik no product at all.
- Records: Anna 4, Bruno 1, Dev 2, Emma 2 (E1 and Power BI, Exchange), Grace 2 (E3 and Teams
  Exploratory), Inés 2 (EMS E5 and E3, SharePoint), Jonas 1, Liam 1: 15.  Chloé and Kira have
  products and no activity, Henrik activity and no product, Farid is deleted: none.

As of 2026-11-30 the position's 90-day window (from 2026-09-02) sees E3 used by Anna, Bruno, Dev,
Grace, Inés and Liam.  Needed = seats {A, B, C, F, G, I, L} ∪ users {A, B, D, G, I, L} = 8 of 10
owned; Dev uses it without a seat (1).  Shelfware over 30 days (use from 2026-11-01 on): Bruno
(last 10-02), Chloé (none) and Farid (deleted: his activity is not use) = 3 seats; over 90
days Bruno's 10-02 counts: 2 seats.  Liam's 11-01, the window's first day, counts.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from conftest import PASSWORD
from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.errors import ValidationError
from seatledger.ingest.formats import Kind
from seatledger.ingest.m365 import FORMAT_NAME
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.imports.service import ImportRejected
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column, FindingKind, PositionService
from seatledger.store.models import UsageSession

DATA = Path(__file__).parents[1] / "data" / "m365"
GRAPH = DATA / "graph_powershell_bom.csv"
ADMIN_CENTER = DATA / "admin_center_export.csv"
CONCEALED = DATA / "refused_concealed_names.csv"
REFRESHED = dt.date(2026, 11, 30)
PEOPLE = {
    "anna.berg": "Anna Berg",
    "bruno.costa": "Bruno Costa",
    "chloe.dubois": "Chloé Dubois",
    "dev.patel": "Dev Patel",
    "emma.fischer": "Emma Fischer",
    "farid.haddad": "Farid Haddad",
    "grace.ito": "Grace Ito",
    "henrik.jensen": "Henrik Jensen",
    "ines.kowalski": "Inés Kowalski",
    "kira.moreau": "Kira Moreau",
    "liam.novak": "Liam Novak",
}
SEATED = ("anna.berg", "bruno.costa", "chloe.dubois", "farid.haddad", "grace.ito")
SEATED += ("ines.kowalski", "liam.novak")


def _organization(admin: Services) -> int:
    """Northwind's people, its E3 purchase and seats given on 2026-08-01; the E3 product's id."""
    admin.ctx.clock = lambda: dt.datetime(2026, 8, 1, 9, tzinfo=dt.UTC)
    ids = {
        login: admin.directory.add_person(PersonInput(f"N{n}", name, f"{login}@northwind.example"))
        for n, (login, name) in enumerate(PEOPLE.items(), 1)
    }
    vendor = admin.catalog.add_vendor("Microsoft")
    e3 = admin.catalog.add_product(vendor, "Microsoft 365 E3")
    bought = admin.catalog.add_entitlement(
        EntitlementInput(
            product_id=e3,
            metric=Metric.SUBSCRIPTION,
            quantity=10,
            term_start=dt.date(2026, 7, 1),
            term_end=dt.date(2027, 6, 30),
        )
    )
    admin.seats.assign(bought, people=[ids[login] for login in SEATED])
    admin.rules.add(RuleInput(e3, "MICROSOFT 365 E3"))
    return e3


def test_the_report_makes_seats_without_activity_shelfware(admin: Services) -> None:
    e3 = _organization(admin)
    service = PositionService(admin.ctx)
    before = service.position(REFRESHED, shelf_days=30)
    [row] = before.rows
    assert (row.owned, row.assigned, row.needed) == (10, 7, 7)
    assert not before.findings  # no usage evidence yet: nothing to call unused

    preview = admin.imports.preview(GRAPH, ImportOptions(Kind.USAGE))
    assert (preview.format_name, preview.facts.encoding_label) == (FORMAT_NAME, "UTF-8 with BOM")
    assert (preview.ok, preview.rows, preview.records) == (True, 12, 15)
    result = admin.imports.commit(GRAPH, ImportOptions(Kind.USAGE))
    assert (result.rows, result.inserted, result.unchanged) == (12, 15, 0)
    assert result.notes[:4] == (
        "Microsoft 365 activity refreshed 2026-11-30, period 30 days: each workload's last "
        "activity date is recorded as use of every product the user is assigned, on that day.",
        "2 users have products assigned and no activity in the report (e.g. "
        "chloe.dubois@northwind.example, line 4): no use, so their seats of those products may "
        "be shelfware.",
        "1 user was active with no product assigned (henrik.jensen@northwind.example, line 9): "
        "that activity is use of no product and is not recorded.",
        "1 user is deleted in Microsoft 365 (farid.haddad@northwind.example, line 7, deleted "
        "2026-11-10): not counted as use.",
    )
    assert "1 user name matches no person (e.g. jonas.larsen@northwind.example, line 11)." in (
        result.notes
    )
    # E1, Power BI (free), Teams Exploratory and EMS E5 have no rule: not products here.
    assert "4 features match no normalization rule." in result.notes

    after = service.position(REFRESHED, shelf_days=30)
    [row] = after.rows
    assert (row.owned, row.assigned, row.needed, row.available) == (10, 7, 8, 2)
    found = {f.kind: f for f in after.findings}
    assert set(found) == {FindingKind.SHELFWARE, FindingKind.USED_WITHOUT_SEAT}
    assert found[FindingKind.SHELFWARE].count == 3
    shelf = service.finding_rows(found[FindingKind.SHELFWARE], REFRESHED, 30)
    assert sorted(h.name for h in shelf) == ["Bruno Costa", "Chloé Dubois", "Farid Haddad"]
    assert found[FindingKind.USED_WITHOUT_SEAT].count == 1
    loose = service.finding_rows(found[FindingKind.USED_WITHOUT_SEAT], REFRESHED, 30)
    assert [h.name for h in loose] == ["Dev Patel"]
    needed, total = service.holders(e3, Metric.SUBSCRIPTION, Column.NEEDED, REFRESHED)
    assert total == 8
    assert next(h.detail for h in needed if h.name == "Dev Patel") == (
        "used it (license server or service activity)"
    )

    # Over 90 days Bruno's use on 2026-10-02 counts: only Chloé and Farid are left.
    [shelf_90] = [
        f
        for f in service.position(REFRESHED, shelf_days=90).findings
        if f.kind is FindingKind.SHELFWARE
    ]
    assert shelf_90.count == 2


def test_a_day_of_activity_is_use_on_that_day_and_never_a_checkout(admin: Services) -> None:
    """Each workload's last activity date is one instant, noon UTC of the day: the position as
    of the day before Grace's Teams use (11-30) does not see it, and no two uses overlap."""
    e3 = _organization(admin)
    admin.imports.commit(GRAPH, ImportOptions(Kind.USAGE))
    with admin.db.read() as session:
        rows = session.execute(
            select(
                UsageSession.feature,
                UsageSession.host,
                UsageSession.checkout,
                UsageSession.checkin,
            ).where(UsageSession.user_name == "grace.ito@northwind.example")
        ).all()
        spans = session.scalar(
            select(func.count())
            .select_from(UsageSession)
            .where(UsageSession.checkin != UsageSession.checkout)
        )
    noon = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
    assert sorted((f, h, _utc(o), _utc(i) if i else None) for f, h, o, i in rows) == [
        ("MICROSOFT 365 E3", "Teams", noon, noon),
        ("MICROSOFT TEAMS EXPLORATORY", "Teams", noon, noon),
    ]
    assert spans == 0
    day_before = PositionService(admin.ctx).position(REFRESHED - dt.timedelta(days=1), 30)
    [row] = day_before.rows
    assert (row.product_id, row.needed) == (e3, 8)
    [shelf] = [f for f in day_before.findings if f.kind is FindingKind.SHELFWARE]
    assert shelf.count == 4  # Bruno, Chloé, Farid, and Grace, whose use comes a day later


def test_the_admin_center_export_and_a_later_report_add_up(admin: Services) -> None:
    """October's admin center export (sentence-case headers, no BOM, no report period) then
    November's Graph file: 15 + 15 records, of which one is in both (Bruno's Exchange use on
    2026-10-02, still his last), so 29 stored; the October file again changes nothing."""
    _organization(admin)
    october = admin.imports.commit(ADMIN_CENTER, ImportOptions(Kind.USAGE))
    assert (october.rows, october.inserted) == (10, 15)
    assert october.notes[0] == (
        "Microsoft 365 activity refreshed 2026-10-31: each workload's last activity date is "
        "recorded as use of every product the user is assigned, on that day."
    )
    november = admin.imports.commit(GRAPH, ImportOptions(Kind.USAGE))
    assert (november.rows, november.inserted, november.unchanged) == (12, 14, 1)
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(UsageSession)) == 29
    again = admin.imports.commit(ADMIN_CENTER, ImportOptions(Kind.USAGE))
    assert again.already_imported


def test_a_report_with_concealed_names_is_refused_naming_the_setting(
    admin: Services, tmp_path: Path
) -> None:
    _organization(admin)
    preview = admin.imports.preview(CONCEALED, ImportOptions(Kind.USAGE))
    assert not preview.ok
    assert not preview.skippable
    first = preview.problems[0]
    assert (first.line, first.column, first.value) == (
        2,
        "User Principal Name",
        "42141783744109A65697456C80D36746",
    )
    assert "'Display concealed user, group, and site names in all reports' is on" in first.reason
    assert "Settings > Org settings > Services > Reports" in first.reason
    assert preview.problem_count == 2  # the line, and the file: 10 of 10 rows concealed
    with pytest.raises(ImportRejected):
        admin.imports.commit(CONCEALED, ImportOptions(Kind.USAGE))
    rejects = tmp_path / "rejects.csv"
    with pytest.raises(ValidationError, match="Microsoft 365 activity report"):
        admin.imports.commit(
            CONCEALED, ImportOptions(Kind.USAGE, skip_invalid=True, rejects=rejects)
        )
    with admin.db.read() as session:
        assert session.scalar(select(func.count()).select_from(UsageSession)) == 0
    assert admin.imports.history() == []


def test_the_command_line_imports_a_report_and_refuses_a_concealed_one(
    admin: Services,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    _organization(admin)
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    report = shutil.copy(GRAPH, tmp_path / "ActiveUserDetail.csv")
    code = cli.main(["import", "usage", str(report), "--db", db_url])
    out = capsys.readouterr().out
    assert code == 0
    assert "ActiveUserDetail.csv: 12 rows, 15 new, 0 updated, 0 unchanged." in out
    code = cli.main(["import", "usage", str(CONCEALED), "--db", db_url])
    captured = capsys.readouterr()
    assert code == 1
    text = captured.out + captured.err
    assert "line 2, User Principal Name: is a concealed name" in text
    assert "Display concealed user, group, and site names in all reports" in text
    assert len(admin.imports.history()) == 1


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
