"""The Microsoft License Statement's two sheets of figures, read and checked against each other.

Sources of the layout (docs/import-formats.md §18.1 cites them in full):

- the sheets of a statement (Organization Summary, License Summary, Transaction Summary, License
  Agreement, Transaction Data, Pivot Data): ServiceNow's "Importing Microsoft entitlements from
  a Microsoft License Statement (MLS)"; "License Summary: the quantity of licenses purchased, by
  product and version, with the entitlements gained through upgrades and SA":
  itassetmanagement.net, "Understanding the Microsoft Licensing Statement"; its figures
  (Effective Quantity, Active SA Quantity, Unresolved Quantity): Microsoft's VLSC "License
  Summary FAQ";
- the Pivot Data sheet (row 10's headers, only All Countries rows the total; "Pivot-Daten" in
  German, "Pivotdata" in Danish, only English headers read by Flexera): Flexera's "Uploading
  Purchases from Microsoft License Statement" (English and German pages).

No public copy of a License Summary sheet's header row was found: the fixtures
(``tests/data/mls/build.py``) write the fields those pages name, and the reader goes by names.

Figures, by hand, from build.py's rows:

- mls_2026-11-30.xlsx: License Summary rows 7-10 say Windows Server Standard 2022 80, Datacenter
  2022 24, SQL Server Enterprise 2022 1, Office Professional Plus 2021 50; Pivot Data's All
  Countries rows 11, 12, 14, 15 say the same (row 13, Datacenter in Germany, 10, is a
  breakdown): 4 products agree.
- mls_disagree_2026-12-01.xlsx: the same Pivot Data; the summary says Datacenter 30 (row 8)
  against Pivot Data's 24 (row 12), lists Visio Professional 5 (row 10) that Pivot Data does not,
  and lacks Office Professional Plus (Pivot Data row 15): three problems.
- mls_summary_2026-12-15.xlsx: License Summary only, per agreement and Total: Standard 50 + 30
  = 80 (row 7), Datacenter 24 + 0 = 24 (row 8); the Total column is read.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from seatledger.ingest import mls
from seatledger.ingest.tabular import Problem

DATA = Path(__file__).parents[1] / "data" / "mls"


def _read(name: str) -> tuple[mls.MlsStatement, list[str]]:
    problems: list[Problem] = []
    statement = mls.read_mls(DATA / name, problems)
    return statement, [str(p) for p in problems]


def test_both_sheets_agreeing_are_read_from_pivot_data_and_say_so() -> None:
    statement, problems = _read("mls_2026-11-30.xlsx")
    assert problems == []
    assert statement.sheet == "Pivot Data"
    assert [(ln.line, ln.quantity) for ln in statement.lines] == [
        (11, 80),
        (12, 24),
        (14, 1),
        (15, 50),
    ]
    assert statement.notes[-1] == (
        "4 products of the License Summary sheet agree with the Pivot Data sheet's All Countries "
        "rows."
    )


def test_a_summary_disagreeing_with_pivot_data_names_both_sheets_and_lines() -> None:
    _, problems = _read("mls_disagree_2026-12-01.xlsx")
    file = "mls_disagree_2026-12-01.xlsx"
    assert problems == [
        f"line 8, Effective Quantity ({file}, sheet License Summary): Windows Server Datacenter - "
        "2 Core License Pack, version 2022: the License Summary sheet says 30 (line 8), the Pivot "
        "Data sheet's All Countries rows add up to 24 (line 12): the two sheets disagree (value "
        "'30')",
        f"line 10, Licensed Product ({file}, sheet License Summary): Visio Professional, version "
        "2021: 5 on the License Summary sheet, on no All Countries row of the Pivot Data sheet: "
        "the two sheets disagree (value 'Visio Professional')",
        f"line 15, License Product Family ({file}, sheet Pivot Data): Office Professional Plus, "
        "version 2021: 50 on the Pivot Data sheet (line 15), not on the License Summary sheet: "
        "the two sheets disagree (value 'Office Professional Plus')",
    ]


def test_a_statement_of_only_a_license_summary_is_read_from_its_total() -> None:
    statement, problems = _read("mls_summary_2026-12-15.xlsx")
    assert problems == []
    assert statement.sheet == "License Summary"
    assert statement.calculated_on == dt.date(2026, 12, 15)
    assert [(ln.line, ln.family, ln.version, ln.quantity) for ln in statement.lines] == [
        (7, "Windows Server Standard - 2 Core License Pack", "2022", 80),
        (8, "Windows Server Datacenter - 2 Core License Pack", "2022", 24),
    ]
    assert statement.notes == [
        "No Pivot Data sheet: the products were read from the License Summary sheet alone."
    ]


def test_a_statement_of_only_pivot_data_says_nothing_checked_it() -> None:
    statement, problems = _read("mls_de_2026-10-31.xlsx")
    assert problems == []
    assert statement.notes == [
        "No License Summary sheet: the products were read from the Pivot-Daten sheet alone "
        "(nothing to check them against)."
    ]


def test_a_header_it_does_not_know_is_named_by_sheet_and_cell() -> None:
    statement, problems = _read("mls_extra_column.xlsx")
    assert problems == [
        "line 10, cell L10 (mls_extra_column.xlsx, sheet Pivot Data): is a column header "
        "SeatLedger does not know on this sheet: nothing is imported while a column's meaning is "
        "unknown (say which field it is and it is added) (value 'Licensing Program')"
    ]
    assert len(statement.lines) == 2  # read, but a caller imports nothing while problems remain


def test_a_localized_statement_in_words_it_does_not_know_is_refused_by_cell() -> None:
    """A recognised sheet (Pivot-Daten) whose family and quantity headers are not known: each
    unknown header is named by its cell, nothing is read, nothing is skipped unseen."""
    statement, problems = _read("mls_de_unknown.xlsx")
    assert statement.lines == []
    shown = [p.split(": is a column header")[0] for p in problems]
    assert shown == [
        "line 10, cell B10 (mls_de_unknown.xlsx, sheet Pivot-Daten)",
        "line 10, cell D10 (mls_de_unknown.xlsx, sheet Pivot-Daten)",
    ]
    assert "(value 'Produktfamilie')" in problems[0]
    assert "(value 'Effektive Menge')" in problems[1]
