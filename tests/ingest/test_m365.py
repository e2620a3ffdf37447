"""Reading the Microsoft 365 active user detail report: its two spellings, its products, its dates
exactly, and every problem by line and column (``tests/data/m365``; its README names the pages
the columns follow)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from seatledger.ingest import m365
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import Problem, read_table, sniff

DATA = Path(__file__).parents[1] / "data" / "m365"
GRAPH_HEADER = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,"
    "Has Exchange License,Has OneDrive License,Has SharePoint License,"
    "Has Skype For Business License,Has Yammer License,Has Teams License,"
    "Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,"
    "Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date,"
    "Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,"
    "Skype For Business License Assign Date,Yammer License Assign Date,"
    "Teams License Assign Date,Assigned Products,Report Period"
)


def _row(
    upn: str,
    *,
    refreshed: str = "2026-11-30",
    deleted: str = "False",
    deleted_on: str = "",
    exchange: str = "",
    teams: str = "",
    products: str = "MICROSOFT 365 E3",
) -> str:
    flags = ",".join(["True"] * 6)
    activity = f"{exchange},,,,,{teams}"
    assigned = ",".join(["2024-03-01"] * 6)
    return (
        f"{refreshed},{upn},Someone,{deleted},{deleted_on},{flags},{activity},{assigned},"
        f'"{products}",30'
    )


def _read(path: Path) -> tuple[m365.ActiveUserReport, list[UsageRecord], list[Problem]]:
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    layout = m365.layout_of(table.header)
    assert layout is not None
    report = m365.ActiveUserReport(table, layout, problems)
    return report, list(report.records()), problems


def _file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "ActiveUserDetail.csv"
    path.write_text("\n".join([GRAPH_HEADER, *rows]) + "\n", encoding="utf-8-sig")
    return path


def _noon(day: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(12), tzinfo=dt.UTC)


def test_both_spellings_of_the_header_are_the_report() -> None:
    graph = m365.layout_of(GRAPH_HEADER.split(","))
    admin_center = m365.layout_of(GRAPH_HEADER.lower().split(","))
    assert graph is not None
    assert graph == admin_center
    assert [w for w, _ in graph.activity] == list(m365.WORKLOADS)
    assert (graph.upn, graph.refreshed, graph.products, graph.period) == (1, 0, 23, 24)
    # "(UTC)" after a last activity date, and another tool's name for the refresh date.
    other = ["Data as of", "User principal name", "Exchange last activity date (UTC)"]
    layout = m365.layout_of([*other, "Products assigned"])
    assert layout is not None
    assert layout.activity == (("Exchange", 2),)
    # A generic usage file and a mailbox report (no assigned products) are not this report.
    assert m365.layout_of(["user", "product", "host", "checkout", "checkin"]) is None
    mailbox = "Report Refresh Date,User Principal Name,Display Name,Last Activity Date"
    assert m365.layout_of(mailbox.split(",")) is None


def test_assigned_products_split_where_microsoft_joins_them() -> None:
    cell = (
        "POWER BI (FREE)+OFFICE 365 E5 WITHOUT AUDIO CONFERENCING+ENTERPRISE MOBILITY + "
        "SECURITY E5+MICROSOFT POWER AUTOMATE FREE+Power BI (free)"
    )
    assert m365.products_of(cell) == [
        "POWER BI (FREE)",
        "OFFICE 365 E5 WITHOUT AUDIO CONFERENCING",
        "ENTERPRISE MOBILITY + SECURITY E5",
        "MICROSOFT POWER AUTOMATE FREE",
    ]
    assert m365.products_of("") == []


def test_the_graph_file_with_its_bom_reads_as_counted_by_hand() -> None:
    """Lines 2-13 of the fixture: 15 records (see tests/services/test_m365_usage.py)."""
    report, records, problems = _read(DATA / "graph_powershell_bom.csv")
    assert problems == []
    assert report.rows_read == 12
    anna = [r for r in records if r.user == "anna.berg@northwind.example"]
    assert [(r.line, r.feature, r.host, r.checkout) for r in anna] == [
        (2, "MICROSOFT 365 E3", "Exchange", _noon("2026-11-29")),
        (2, "MICROSOFT 365 E3", "OneDrive", _noon("2026-11-27")),
        (2, "MICROSOFT 365 E3", "SharePoint", _noon("2026-11-20")),
        (2, "MICROSOFT 365 E3", "Teams", _noon("2026-11-29")),
    ]
    assert all(r.checkin == r.checkout for r in records)  # a day's use, never a span
    ines = {(r.feature, r.host) for r in records if r.user.startswith("ines.")}
    assert ines == {
        ("ENTERPRISE MOBILITY + SECURITY E5", "SharePoint"),
        ("MICROSOFT 365 E3", "SharePoint"),
    }
    assert len(records) == 4 + 1 + 2 + 2 + 2 + 2 + 1 + 1  # Anna ... Liam
    users = {r.user.split("@")[0] for r in records}
    # Chloé and Kira: products, no activity.  Henrik: activity, no product.  Farid: deleted.
    assert not users & {"chloe.dubois", "kira.moreau", "henrik.jensen", "farid.haddad"}


def test_dates_are_read_exactly_and_empty_stays_empty(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        _row("a@x.example", exchange="2026-11-02"),
        _row("b@x.example", exchange="", teams=""),
        _row("c@x.example", exchange="11/02/2026"),  # line 4
        _row("d@x.example", teams="2026-02-30"),  # line 5
        _row("e@x.example", teams="1601-01-01"),  # line 6: a tool's "never"
        _row("f@x.example", exchange="2026-12-01"),  # line 7: after the refresh date
        _row("g@x.example", refreshed=""),  # line 8
        _row("h@x.example", deleted="maybe"),  # line 9
    )
    report, records, problems = _read(path)
    assert [(r.user, r.checkout) for r in records] == [("a@x.example", _noon("2026-11-02"))]
    assert [(p.line, p.column, p.value) for p in problems] == [
        (4, "Exchange Last Activity Date", "11/02/2026"),
        (5, "Teams Last Activity Date", "2026-02-30"),
        (6, "Teams Last Activity Date", "1601-01-01"),
        (7, "Exchange Last Activity Date", "2026-12-01"),
        (8, "Report Refresh Date", ""),
        (9, "Is Deleted", "maybe"),
    ]
    reasons = [p.reason for p in problems]
    assert reasons[0] == "is not a date written YYYY-MM-DD, as the report writes"
    assert reasons[1] == reasons[0]
    assert reasons[2].startswith("is not a plausible date (before 1990 or after ")
    assert reasons[3] == "is after the report's refresh date 2026-11-30"
    assert reasons[4] == "is empty; every row has the report's date"
    assert report.rows_read == 8


def test_deleted_users_are_reported_not_used(tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        _row("gone@x.example", deleted="True", deleted_on="2026-11-10", exchange="2026-11-09"),
        _row("here@x.example", exchange="2026-11-09"),
    )
    report, records, problems = _read(path)
    assert problems == []
    assert [r.user for r in records] == ["here@x.example"]
    assert report.notes[-1] == (
        "1 user is deleted in Microsoft 365 (gone@x.example, line 2, deleted 2026-11-10): not "
        "counted as use."
    )


def test_concealed_names_are_refused_naming_the_line_and_the_setting() -> None:
    _, records, problems = _read(DATA / "refused_concealed_names.csv")
    assert records == []
    line, whole = problems
    assert (line.line, line.column, line.value) == (
        2,
        "User Principal Name",
        "42141783744109A65697456C80D36746",
    )
    assert line.reason == (
        "is a concealed name, not a user principal name: Microsoft 365 conceals the names in "
        "its reports while 'Display concealed user, group, and site names in all reports' is on "
        "(Microsoft 365 admin center > Settings > Org settings > Services > Reports). Turn it "
        "off, export the report again and import the new file"
    )
    assert whole == Problem(
        0,
        "",
        "",
        "10 of the 10 users are concealed IDs, which match no person: a report with concealed "
        "names is refused whole",
    )


@pytest.mark.parametrize("upn", ["", "jdoe", "x" * 190 + "@northwind.example"])
def test_a_row_without_a_principal_name_is_a_problem(tmp_path: Path, upn: str) -> None:
    _, records, problems = _read(_file(tmp_path, _row(upn, exchange="2026-11-02")))
    assert records == []
    assert [(p.line, p.column) for p in problems] == [(2, "User Principal Name")]
