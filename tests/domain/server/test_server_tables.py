"""The vendor tables as data files: the shipped ones load with their dates and sources, and a
malformed one is refused naming the file, the line and the field."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest

from seatledger.domain.server import tables
from seatledger.domain.server.tables import TableError
from seatledger.resources import resource_path

HEAD = "# table: T\n# effective: 2025-06-01\n# source: https://example.com/t.pdf\n"


def _write(tmp_path: Path, text: str, name: str = "factors.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_tables_carry_their_name_date_and_source() -> None:
    oracle = tables.shipped_core_factors()
    pvu = tables.shipped_pvu_table()
    for info in (oracle.info, pvu.info):
        assert isinstance(info.effective, dt.date)
        assert info.source.startswith(("Oracle, https://", "IBM Passport Advantage, https://"))
    assert oracle.info.file == "oracle-core-factors.csv"
    assert pvu.info.cited == (
        f"IBM Processor Value Unit [PVU] table per core of {pvu.info.effective.isoformat()}"
    )
    assert resource_path("licensing", tables.ORACLE_FILE).is_file()


def test_a_table_file_of_ones_own_is_read_in_order(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD + "vendor,processor,core_factor\nIntel,Xeon*Gold,0.25\nIntel,Xeon,0.5\n\n",
    )
    table = tables.load_core_factor_table(path)
    assert table.info == tables.TableInfo(
        "T", dt.date(2025, 6, 1), "https://example.com/t.pdf", "factors.csv"
    )
    assert table.factor_for("Intel Xeon Gold 6338") == Decimal("0.25")  # the first row that fits
    assert table.factor_for("Intel Xeon E5-2690") == Decimal("0.5")
    assert table.factor_for("AMD EPYC 7543") is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "# table: T\n# source: s\nvendor,processor,core_factor\nIntel,Xeon,0.5\n",
            "factors.csv: says no effective",
        ),
        (
            "# table: T\n# effective: 1 June 2025\n# source: s\nvendor,processor,core_factor\n",
            "factors.csv, line 2, effective ('1 June 2025'): is not a date written YYYY-MM-DD",
        ),
        (
            HEAD + "# author: me\nvendor,processor,core_factor\n",
            "factors.csv, line 4 ('# author: me'): is not '# table: …'",
        ),
        (
            HEAD + "# table: again\n",
            "factors.csv, line 4, table ('again'): is given twice (line 1)",
        ),
        (
            HEAD + "vendor,cpu,factor\nIntel,Xeon,0.5\n",
            "factors.csv, line 4 ('vendor,cpu,factor'): is not the header "
            "'vendor,processor,core_factor'",
        ),
        (
            HEAD + "vendor,processor,core_factor\nIntel,Xeon,0.5\nAMD,EPYC,half\n",
            "factors.csv, line 6, core_factor ('half'): is not a number above 0 and at most 1",
        ),
        (
            HEAD + "vendor,processor,core_factor\nIntel,Xeon,1.5\n",
            "factors.csv, line 5, core_factor ('1.5'): is not a number above 0 and at most 1",
        ),
        (
            HEAD + "vendor,processor,core_factor\nIntel,,0.5\n",
            "factors.csv, line 5, processor: is empty",
        ),
        (
            HEAD + "vendor,processor,core_factor\nIntel,Xeon,0.5\nIntel,XEON,0.25\n",
            "factors.csv, line 6, processor ('XEON'): is rated twice",
        ),
        (
            HEAD + "vendor,processor,core_factor\nIntel,Xeon\n",
            "factors.csv, line 5 ('Intel,Xeon'): has 2 fields; the header has 3",
        ),
        (HEAD + "vendor,processor,core_factor\n", "factors.csv: has a header but no rows"),
        (HEAD, "factors.csv: has no header row"),
    ],
)
def test_a_malformed_core_factor_table_is_refused_where_it_is_wrong(
    tmp_path: Path, text: str, message: str
) -> None:
    path = _write(tmp_path, text)
    with pytest.raises(TableError) as caught:
        tables.load_core_factor_table(path)
    assert str(caught.value).startswith(message)


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Intel,Xeon,two,70\n", "line 5, max_sockets ('two'): is not the sockets"),
        ("Intel,Xeon,0,70\n", "line 5, max_sockets ('0'): is not the sockets"),
        ("Intel,Xeon,2,70.5\n", "line 5, pvu_per_core ('70.5'): is not a whole number"),
        ("Intel,Xeon,2,5000\n", "line 5, pvu_per_core ('5000'): is not a number above 0"),
        ("Intel,Xeon,2,70\nIntel,Xeon,2,100\n", "line 6, processor ('Xeon'): is rated twice"),
        ("Intel,Xeon,>4,120\nAMD,EPYC,>2,120\n", "line 6, max_sockets ('>2'): the table already"),
        ("Intel,Xeon,>4,120\nAMD,EPYC,8,120\n", "pvu.csv: a tier of 8 sockets lies inside '>4'"),
    ],
)
def test_a_malformed_pvu_table_is_refused_where_it_is_wrong(
    tmp_path: Path, rows: str, message: str
) -> None:
    path = _write(tmp_path, HEAD + "vendor,processor,max_sockets,pvu_per_core\n" + rows, "pvu.csv")
    with pytest.raises(TableError, match=r"^pvu\.csv") as caught:
        tables.load_pvu_table(path)
    assert message in str(caught.value)


def test_a_missing_or_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TableError, match=r"^gone.csv: no such file"):
        tables.load_core_factor_table(tmp_path / "gone.csv")
    bad = tmp_path / "latin.csv"
    bad.write_bytes(b"# table: caf\xe9\n")
    with pytest.raises(TableError, match=r"^latin.csv cannot be read as UTF-8"):
        tables.load_core_factor_table(bad)


def test_pvu_tiers_apply_by_sockets(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        HEAD + "vendor,processor,max_sockets,pvu_per_core\nX,Xeon,2,70\nX,Xeon,>2,120\n"
        "Y,EPYC,2,70\n",
        "pvu.csv",
    )
    table = tables.load_pvu_table(path)
    assert table.rate_for("Xeon", 1) == (Decimal(70), "")
    assert table.rate_for("Xeon", 3) == (Decimal(120), "")
    assert table.rate_for("EPYC", 4) == (None, "")  # rated for 2-socket servers only
    assert table.rate_for("EPYC", None) == (Decimal(70), "")  # one rate: nothing to choose
    assert table.rate_for("POWER10", 2) == (None, "")
