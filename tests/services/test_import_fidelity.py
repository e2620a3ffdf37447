"""Figures come from the file or nowhere: placeholders are refused by line or stay unknown."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from seatledger.ingest.formats import Kind, detect
from seatledger.ingest.records import DeviceRecord, RowReader
from seatledger.ingest.tabular import ImportFileError, Problem, read_table, sniff
from seatledger.ingest.values import DateReader
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.store.models import Device, Entitlement, Person


def _problems(admin: Services, path: Path, kind: Kind) -> list[str]:
    preview = admin.imports.preview(path, ImportOptions(kind))
    return [str(problem) for problem in preview.problems]


@pytest.mark.parametrize("placeholder", ["1970-01-01", "1980-06-30", "2083-03-08"])
def test_a_device_last_seen_on_a_placeholder_date_is_refused_by_line(
    admin: Services, tmp_path: Path, placeholder: str
) -> None:
    path = tmp_path / "devices.csv"
    path.write_text(
        f"Device name,Serial number,Last check-in\nWS-1,SN1,2026-11-30\nWS-2,SN2,{placeholder}\n",
        encoding="utf-8",
    )
    problems = _problems(admin, path, Kind.DEVICES)
    assert len(problems) == 1
    assert problems[0].startswith("line 3, Last check-in")
    assert "not a plausible date for when this was seen" in problems[0]


def test_an_install_date_of_1970_is_refused_and_a_real_one_kept(
    admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(
        "Device name,Application,Publisher,Version,Install date\n"
        "WS-1,Visio,Microsoft,16.0,2024-05-02\n"
        "WS-2,Visio,Microsoft,16.0,1970-01-01\n",
        encoding="utf-8",
    )
    problems = _problems(admin, path, Kind.INVENTORY)
    assert [p.split(":")[0] for p in problems] == ["line 3, Install date"]


def test_contract_terms_may_lie_far_ahead(admin: Services, tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(
        "Vendor,Product,Metric,Quantity,Start date,End date,PO number\n"
        "Microsoft,Visio Plan 2,named user,10,1989-01-01,2099-12-31,PO-1\n",
        encoding="utf-8",
    )
    assert _problems(admin, path, Kind.ENTITLEMENTS) == []


def _device_records(path: Path) -> tuple[list[DeviceRecord], list[Problem]]:
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    try:
        detection = detect(Kind.DEVICES, table.header)
        assert detection.complete, detection.missing
        found = list(RowReader(table, detection, DateReader(None), problems).records())
    finally:
        table.close()
    assert all(isinstance(r, DeviceRecord) for r in found)
    return [r for r in found if isinstance(r, DeviceRecord)], problems


def test_jamf_last_seen_is_the_last_inventory_update_and_minus_one_cores_are_unknown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "jamf.csv"
    path.write_text(
        "Computer Name,Serial Number,Email Address,Operating System Version,"
        "Number of Processors,Total Number of Cores,Last Inventory Update,Last Check-in\n"
        "MB-1,C02X1,ann@example.org,14.5,1,8,2026-11-30 09:12:00,2015-03-02 10:00:00\n"
        "MB-2,C02X2,bob@example.org,14.5,'-1,'-1,2026-11-29 17:40:00,2026-11-29 17:40:00\n"
        "MB-3,C02X3,cy@example.org,14.5,,Unknown,2026-11-28 08:00:00,\n",
        encoding="utf-8",
    )
    found, problems = _device_records(path)
    assert problems == []
    assert [(r.hostname, r.processors, r.cores, r.last_seen) for r in found] == [
        ("MB-1", 1, 8, dt.date(2026, 11, 30)),
        ("MB-2", None, None, dt.date(2026, 11, 29)),
        ("MB-3", None, None, dt.date(2026, 11, 28)),
    ]


def test_a_device_file_without_last_seen_dates_invents_none(
    admin: Services, tmp_path: Path
) -> None:
    dated = tmp_path / "intune.csv"
    dated.write_text(
        "Device name,Serial number,Last check-in\nWS-1,SN1,2026-11-30\n", encoding="utf-8"
    )
    admin.imports.commit(dated, ImportOptions(Kind.DEVICES))
    undated = tmp_path / "assets.csv"
    undated.write_text("Device name,Serial number\nWS-1,SN1\nWS-2,SN2\n", encoding="utf-8")
    admin.imports.commit(undated, ImportOptions(Kind.DEVICES))
    with admin.db.read() as session:
        seen = dict(session.execute(select(Device.hostname, Device.last_seen)).all())
    # WS-1 keeps the date a file gave; WS-2 has none, not the day of the import.
    assert seen == {"WS-1": dt.date(2026, 11, 30), "WS-2": None}


def test_every_row_read_is_accounted_for(admin: Services, tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_text(
        "Employee ID,Full name,Email\n"
        "E1,Ann Lee,ann@example.org\n"
        "E2,Bo Chen,bo@example.org\n"
        "E1,Ann Lee,ann@example.org\n",
        encoding="utf-8",
    )
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert (result.rows, result.inserted, result.updated, result.unchanged) == (3, 2, 0, 0)
    assert result.repeated == 1
    assert result.rows == result.inserted + result.updated + result.unchanged + result.repeated
    assert result.summary().endswith(", 1 repeated (the same as an earlier line).")


@pytest.mark.parametrize(
    ("cost", "currency", "problem"),
    [
        ("abc", "", "not an amount"),
        ("NaN", "USD", "not an amount"),
        ("12.50 EUR", "USD", "is in EUR but the row's currency is USD"),
        ("$5 EUR", "", "names two currencies (EUR and USD)"),
    ],
)
def test_prices_that_are_not_prices_are_refused(
    admin: Services, tmp_path: Path, cost: str, currency: str, problem: str
) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(
        "Vendor,Product,Metric,Quantity,Unit cost,Currency,PO number\n"
        f"Microsoft,Visio Plan 2,named user,10,{cost},{currency},PO-1\n",
        encoding="utf-8",
    )
    problems = _problems(admin, path, Kind.ENTITLEMENTS)
    assert len(problems) == 1
    assert problems[0].startswith("line 2, Unit cost")
    assert problem in problems[0]


def test_a_currency_symbol_decides_the_currency(admin: Services, tmp_path: Path) -> None:
    path = tmp_path / "purchases.csv"
    path.write_text(
        "Vendor,Product,Metric,Quantity,Unit cost,Currency,PO number\n"
        "Adobe,Acrobat Pro,named user,10,$79.66,,PO-1\n"
        "Adobe,Photoshop,named user,5,£20,GBP,PO-2\n",
        encoding="utf-8",
    )
    admin.imports.commit(path, ImportOptions(Kind.ENTITLEMENTS))
    with admin.db.read() as session:
        found = session.execute(
            select(Entitlement.po_reference, Entitlement.unit_cost, Entitlement.currency).order_by(
                Entitlement.po_reference
            )
        ).all()
    assert [(po, str(cost), cur) for po, cost, cur in found] == [
        ("PO-1", "79.6600", "USD"),
        ("PO-2", "20.0000", "GBP"),
    ]


REGISTRY = (
    '"DisplayName","DisplayVersion","Publisher","InstallDate"\r\n'
    '"Microsoft Visio - en-us","16.0.18129.20158","Microsoft Corporation","20250406"\r\n'
    '"Google Chrome","131.0.6778.86","Google LLC","20260918"\r\n'
)


def test_an_export_of_one_machine_is_imported_for_the_host_the_user_names(
    admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "uninstall.csv"
    path.write_text(REGISTRY, encoding="utf-8")
    problems = _problems(admin, path, Kind.INVENTORY)
    assert problems == [
        "file, Host name: no column feeds this field; map one or use a saved mapping; an "
        "export of one machine names none: give its host name"
    ]
    result = admin.imports.commit(path, ImportOptions(Kind.INVENTORY, host="NW-LT-0102"))
    assert (result.rows, result.inserted) == (2, 2)
    with admin.db.read() as session:
        hosts = session.scalars(select(Device.hostname)).all()
    assert hosts == ["NW-LT-0102"]


def test_a_host_name_is_refused_for_a_file_that_names_its_hosts(
    admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "inventory.csv"
    path.write_text(
        "Device name,Application,Publisher,Version\nWS-1,Visio,Microsoft,16.0\n", encoding="utf-8"
    )
    with pytest.raises(ImportFileError, match=r"names its hosts itself \(column 'Device name'\)"):
        admin.imports.preview(path, ImportOptions(Kind.INVENTORY, host="WS-9"))


AD_HEADER = (
    "#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n"
    '"DistinguishedName","EmployeeID","Enabled","Name","SamAccountName","UserPrincipalName",'
    '"mail"\r\n'
)


def test_the_directory_does_not_decide_who_left_and_lists_no_service_accounts(
    admin: Services, tmp_path: Path
) -> None:
    hr = tmp_path / "hr.csv"
    hr.write_text(
        "Employee ID,Full name,Email,Employment Status\n"
        "E1,Ann Lee,ann@example.org,Active\n"
        "E2,Bo Chen,bo@example.org,Terminated\n",
        encoding="utf-8",
    )
    admin.imports.commit(hr, ImportOptions(Kind.PEOPLE))
    ad = tmp_path / "ad.csv"
    ad.write_text(
        AD_HEADER
        + '"CN=Ann","E1","False","Ann Lee","alee","alee@corp.example","ann@example.org"\r\n'
        + '"CN=Bo","E2","True","Bo Chen","bchen","bchen@corp.example","bo@example.org"\r\n'
        + '"CN=krbtgt",,"False","krbtgt","krbtgt","krbtgt@corp.example",\r\n'
        + '"CN=Administrator",,"True","Administrator","Administrator","a@corp.example",\r\n'
        + '"CN=svc-backup",,"True","svc-backup","svc-backup","svc@corp.example",\r\n',
        encoding="utf-8",
    )
    result = admin.imports.commit(ad, ImportOptions(Kind.PEOPLE))
    assert result.rows == 5
    assert result.not_people == 3
    assert ", 3 not people (built-in or service accounts)." in result.summary()
    with admin.db.read() as session:
        status = dict(session.execute(select(Person.employee_id, Person.status)).all())
    # HR said Ann works here and Bo left; the directory's accounts change neither.
    assert status == {"E1": "active", "E2": "left"}
