"""A directory's disabled account of someone HR employs (issue 13, defect 6).

HR decides employment; the directory's ``Enabled`` (AD) or ``AccountEnabled`` (Entra ID) is the
account's state, stored per person with the import line that said it, and replayable from the
ledger.  Hand count of the organization below:

- HR: E1 Ann Lee and E2 Bo Chen active; E3 Cy Diaz active, then terminated by a second HR file.
- Seats (named user): Ann holds one of Code and one of Draw (2 seats); Bo one of Code; Cy one
  of Code (taken before HR said Cy left).
- AD: Ann disabled (line 2), Bo enabled (line 3), Cy disabled (line 4).

Findings "account disabled, still holds seats": Ann only (Cy left: a leaver finding, not this
one; Bo is enabled) -> one per license she holds: Code 1 seat, Draw 1 seat, 2 seats in all, each
naming her, her seat and ad.csv line 2.  AD later says Ann is enabled -> no such finding.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select, update

from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.queries import PeopleColumn, PeopleQuery
from seatledger.services.directory.service import PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.ledger.state import check_ledger_and_state
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Finding, FindingKind, PositionService
from seatledger.store.models import Person, SeatAssignment

TODAY = dt.date.today()
AD_HEADER = (
    '"DistinguishedName","EmployeeID","Enabled","Name","SamAccountName","UserPrincipalName",'
    '"mail"\r\n'
)


def _ad(path: Path, ann: str, bo: str = "True", cy: str = "False") -> Path:
    path.write_text(
        AD_HEADER
        + f'"CN=Ann","E1","{ann}","Ann Lee","alee","alee@corp.example","ann@example.org"\r\n'
        + f'"CN=Bo","E2","{bo}","Bo Chen","bchen","bchen@corp.example","bo@example.org"\r\n'
        + f'"CN=Cy","E3","{cy}","Cy Diaz","cdiaz","cdiaz@corp.example","cy@example.org"\r\n'
        + '"CN=krbtgt",,"False","krbtgt","krbtgt","krbtgt@corp.example",\r\n',
        encoding="utf-8",
    )
    return path


def _hr(path: Path, cy: str) -> Path:
    path.write_text(
        "Employee ID,Full name,Email,Employment Status\n"
        "E1,Ann Lee,ann@example.org,Active\n"
        "E2,Bo Chen,bo@example.org,Active\n"
        f"E3,Cy Diaz,cy@example.org,{cy}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
def organization(admin: Services, tmp_path: Path) -> dict[str, int]:
    """The hand-counted organization above, before any directory import: license ids by name,
    person ids by employee number."""
    admin.imports.commit(_hr(tmp_path / "hr.csv", "Active"), ImportOptions(Kind.PEOPLE))
    with admin.db.read() as session:
        people = dict(session.execute(select(Person.employee_id, Person.id)).all())
    vendor = admin.catalog.add_vendor("Contoso")
    licenses = {}
    for name in ("Code", "Draw"):
        licenses[name] = admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=admin.catalog.add_product(vendor, name),
                metric=Metric.PER_USER,
                quantity=5,
                term_start=TODAY - dt.timedelta(days=10),
                term_end=TODAY + dt.timedelta(days=300),
            )
        )
    admin.seats.assign(licenses["Code"], people=[people["E1"], people["E2"], people["E3"]])
    admin.seats.assign(licenses["Draw"], people=[people["E1"]])
    admin.imports.commit(_hr(tmp_path / "hr2.csv", "Terminated"), ImportOptions(Kind.PEOPLE))
    return licenses | people


def _findings(admin: Services, kind: FindingKind) -> list[Finding]:
    found = PositionService(admin.ctx).position(TODAY, shelf_days=0).findings
    return [f for f in found if f.kind is kind]


def _seat(admin: Services, license_id: int, employee_id: str) -> int:
    with admin.db.read() as session:
        return int(
            session.scalar(
                select(SeatAssignment.id)
                .join(Person, Person.id == SeatAssignment.person_id)
                .where(
                    SeatAssignment.entitlement_id == license_id, Person.employee_id == employee_id
                )
            )
            or 0
        )


def _state_ok(admin: Services) -> bool:
    verdict, report = check_ledger_and_state(admin.db)
    assert verdict.ok
    assert report is not None
    return report.ok


def test_an_employed_persons_disabled_account_is_a_finding_naming_seats_and_line(
    admin: Services, organization: dict[str, int], tmp_path: Path
) -> None:
    result = admin.imports.commit(_ad(tmp_path / "ad.csv", "False"), ImportOptions(Kind.PEOPLE))
    assert result.not_people == 1  # krbtgt
    with admin.db.read() as session:
        state = {
            e: (s, d, line)
            for e, s, d, line in session.execute(
                select(
                    Person.employee_id, Person.status, Person.account_disabled, Person.account_line
                )
            )
        }
    # HR decides employment (Cy left, Ann stays); the directory's account state is stored.
    assert state == {
        "E1": ("active", True, 2),
        "E2": ("active", False, 3),
        "E3": ("left", True, 4),
    }
    disabled = _findings(admin, FindingKind.DISABLED_ACCOUNT)
    assert sorted((f.product, f.count) for f in disabled) == [("Code", 1), ("Draw", 1)]
    assert sum(f.count for f in disabled) == 2  # Ann's two seats
    code = next(f for f in disabled if f.product == "Code")
    assert code.entitlement_id == organization["Code"]
    seat = _seat(admin, organization["Code"], "E1")
    assert code.text.startswith(
        f"1 seat of Code held by 1 person HR still employs whose directory account is disabled: "
        f"Ann Lee (E1): seat {seat}, disabled per ad.csv (SHA-256 "
    )
    assert code.text.endswith("), line 2")
    # Cy left: a leaver finding for Code's seat, not this one; Ann is no leaver.
    [departed] = _findings(admin, FindingKind.DEPARTED)
    assert (departed.product, departed.count) == ("Code", 1)
    rows = PositionService(admin.ctx).finding_rows(code, TODAY, 0)
    assert [(h.name, h.seat) for h in rows] == [("Ann Lee", seat)]
    assert "employed (HR), directory account disabled per ad.csv (SHA-256 " in rows[0].detail
    assert rows[0].detail.endswith("), line 2")
    assert _state_ok(admin)  # the ledger replays the account state


def test_enabled_again_by_a_later_import_the_finding_is_gone(
    admin: Services, organization: dict[str, int], tmp_path: Path
) -> None:
    admin.imports.commit(_ad(tmp_path / "ad.csv", "False"), ImportOptions(Kind.PEOPLE))
    assert len(_findings(admin, FindingKind.DISABLED_ACCOUNT)) == 2
    again = admin.imports.commit(_ad(tmp_path / "ad2.csv", "True"), ImportOptions(Kind.PEOPLE))
    assert again.updated == 1  # Ann's account; Bo and Cy are as they were
    assert _findings(admin, FindingKind.DISABLED_ACCOUNT) == []
    with admin.db.read() as session:
        ann = session.execute(
            select(Person.status, Person.account_disabled, Person.account_line).where(
                Person.employee_id == "E1"
            )
        ).one()
    assert tuple(ann) == ("active", False, 2)
    assert _state_ok(admin)


def test_an_hr_import_keeps_the_account_state_and_the_ledger_catches_an_edit(
    admin: Services, organization: dict[str, int], tmp_path: Path
) -> None:
    admin.imports.commit(_ad(tmp_path / "ad.csv", "False"), ImportOptions(Kind.PEOPLE))
    # An HR file says nothing of accounts: Ann's stays disabled (and changes her name).
    (tmp_path / "hr3.csv").write_text(
        "Employee ID,Full name,Email,Employment Status\nE1,Ann Lee-Park,ann@example.org,Active\n",
        encoding="utf-8",
    )
    admin.imports.commit(tmp_path / "hr3.csv", ImportOptions(Kind.PEOPLE))
    assert len(_findings(admin, FindingKind.DISABLED_ACCOUNT)) == 2
    assert _state_ok(admin)
    # A state written behind the ledger's back is a difference: where an import recorded one
    # (Bo), and where no entry did (Dee, added by hand: no directory said, so none).
    dee = admin.directory.add_person(PersonInput("E4", "Dee Ng", "dee@example.org"))
    assert _state_ok(admin)
    with admin.db.write() as session:
        session.execute(
            update(Person).where(Person.employee_id.in_(["E2", "E4"])).values(account_disabled=True)
        )
    _verdict, report = check_ledger_and_state(admin.db)
    assert report is not None
    assert sorted((d.table, d.row, d.field, d.stored, d.recorded) for d in report.differences) == [
        ("person", organization["E2"], "account_disabled", True, False),
        ("person", dee, "account_disabled", True, None),
    ]


def test_the_people_list_shows_and_filters_disabled_accounts(
    admin: Services, organization: dict[str, int], tmp_path: Path
) -> None:
    admin.imports.commit(_ad(tmp_path / "ad.csv", "False"), ImportOptions(Kind.PEOPLE))
    query = admin.reads.people(status=PeopleQuery.DISABLED)
    keys = query.keys()
    rows = query.rows(keys)
    assert [rows[k][PeopleColumn.NAME] for k in keys] == ["Ann Lee"]  # Cy left: not employed
    row = rows[keys[0]]
    assert row[PeopleQuery.ACCOUNT_DISABLED] is True
    assert row[PeopleQuery.ACCOUNT_SOURCE].startswith("ad.csv (SHA-256 ")
    assert row[PeopleQuery.ACCOUNT_SOURCE].endswith("), line 2")
    every = admin.reads.people()
    states = {
        r[PeopleColumn.NAME]: r[PeopleQuery.ACCOUNT_DISABLED]
        for r in every.rows(every.keys()).values()
    }
    assert states == {"Ann Lee": True, "Bo Chen": False, "Cy Diaz": True}


def test_an_entra_id_export_sets_the_account_state(admin: Services, tmp_path: Path) -> None:
    path = tmp_path / "entra.csv"
    path.write_text(
        "UserPrincipalName,DisplayName,Mail,AccountEnabled,EmployeeId\n"
        "ann@corp.example,Ann Lee,ann@example.org,False,E1\n"
        "bo@corp.example,Bo Chen,bo@example.org,True,E2\n"
        "cy@corp.example,Cy Diaz,cy@example.org,,E3\n",
        encoding="utf-8",
    )
    admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    with admin.db.read() as session:
        state = dict(session.execute(select(Person.employee_id, Person.account_disabled)).all())
        status = set(session.scalars(select(Person.status)))
    assert state == {"E1": True, "E2": False, "E3": None}  # an empty cell says nothing
    assert status == {"active"}
    assert _state_ok(admin)


def test_reconcile_prints_the_finding(
    admin: Services,
    organization: dict[str, int],
    tmp_path: Path,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    admin.imports.commit(_ad(tmp_path / "ad.csv", "False"), ImportOptions(Kind.PEOPLE))
    capsys.readouterr()
    assert cli.main(["reconcile", "--db", db_url, "--shelf-days", "0"]) == 0
    out = capsys.readouterr().out
    said = [line for line in out.splitlines() if "Account disabled, still holds seats" in line]
    assert len(said) == 2  # Code and Draw
    assert all("Ann Lee (E1): seat " in line and "), line 2" in line for line in said)
    assert "Cy Diaz" not in "".join(said)
    listed = out.split("Findings (", 1)[1].splitlines()[1:]
    findings = listed[: next((i for i, line in enumerate(listed) if not line.strip()), None)]
    assert len(findings) > 2
    # "  " + the kinds padded to the longest (35) + " ": every title starts at column 38.
    assert all(line[37] == " " and line[38] != " " for line in findings), findings
