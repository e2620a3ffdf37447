"""The file readers on their own (no database): encodings, delimiters, bad input, formats, dates.

Every reader either returns rows and problems that name the line, or raises a
:class:`~seatledger.errors.KnownError` whose message names the file; nothing else escapes.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import io
import random
import re
import zipfile
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seatledger.errors import KnownError
from seatledger.ingest import flexlm
from seatledger.ingest.formats import FIELDS, FORMATS, Kind, detect, normal
from seatledger.ingest.records import (
    DeviceRecord,
    InstallRecord,
    PersonRecord,
    Record,
    RowReader,
    UsageRecord,
)
from seatledger.ingest.tabular import (
    FIELD_LIMIT,
    ImportFileError,
    Problem,
    Table,
    read_table,
    sniff,
)
from seatledger.ingest.values import (
    Ambiguous,
    DateOrder,
    DateReader,
    ValueProblem,
    amount,
    employed,
    whole,
)

FAST = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


# ------------------------------------------------------------------------------------ helpers


def write(folder: Path, name: str, data: bytes | str, encoding: str = "utf-8") -> Path:
    path = folder / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))
    return path


def read(path: Path) -> tuple[Table, list[tuple[int, list[str]]], list[Problem]]:
    """The table, all its rows and the problems met while reading them."""
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    return table, list(table.rows), problems


def records(
    path: Path, kind: Kind, order: DateOrder | None = None
) -> tuple[list[Record], list[Problem], DateReader]:
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    detection = detect(kind, table.header)
    assert detection.complete, detection.missing
    dates = DateReader(order)
    found = list(RowReader(table, detection, dates, problems).records())
    return found, problems, dates


def messages(problems: Sequence[Problem]) -> list[str]:
    return [str(p) for p in problems]


def read_everything(path: Path) -> None:
    """Run a file through every reader a preview would use; only KnownError may escape."""
    facts = sniff(path)
    problems: list[Problem] = []
    if facts.kind == "csv":
        with contextlib.suppress(ImportFileError):
            flexlm.read_lmstat(facts, problems)
    table = read_table(facts, problems)
    for kind in Kind:
        detection = detect(kind, table.header)
        if not detection.complete:
            continue
        list(RowReader(table, detection, DateReader(), problems).records())
        break
    else:
        list(table.rows)


# ----------------------------------------------------------------------------- encodings


def test_utf8_with_and_without_bom(tmp_path: Path) -> None:
    text = "Employee ID,Full name\nE1,Zoë Müller\n"
    for encoding, label in (("utf-8", "UTF-8"), ("utf-8-sig", "UTF-8 with BOM")):
        path = write(tmp_path, f"{encoding}.csv", text, encoding)
        table, rows, problems = read(path)
        assert table.facts.encoding_label == label
        assert table.header == ["Employee ID", "Full name"]
        assert rows == [(2, ["E1", "Zoë Müller"])]
        assert problems == []


def test_windows_1252_is_read_as_windows_1252(tmp_path: Path) -> None:
    """Excel's "CSV" on a Western-European Windows writes cp1252: é is 0xE9, € is 0x80."""
    path = write(
        tmp_path, "hr.csv", "Employee ID;Full name;Budget\r\nE1;René Côté;€ 12\r\n", "cp1252"
    )
    table, rows, problems = read(path)
    assert table.facts.encoding == "cp1252"
    assert table.facts.encoding_label == "Windows-1252"
    assert table.delimiter == ";"
    assert rows == [(2, ["E1", "René Côté", "€ 12"])]
    assert problems == []


def test_windows_1252_detected_after_a_megabyte_of_ascii(tmp_path: Path) -> None:
    """The first non-UTF-8 byte may come long after the first chunk."""
    body = "".join(f"E{n},Person {n}\n" for n in range(80_000))
    path = write(tmp_path, "late.csv", "Employee ID,Full name\n" + body + "E9,Renée\n", "cp1252")
    assert path.stat().st_size > 1 << 20
    _, rows, problems = read(path)
    assert rows[-1] == (80_002, ["E9", "Renée"])
    assert problems == []


def test_excel_unicode_text_is_utf16_tab_separated(tmp_path: Path) -> None:
    """Excel's "Unicode Text (*.txt)" is UTF-16 LE with a BOM, tab separated, CRLF."""
    text = "Employee ID\tFull name\tEmail address\r\nE1\t李雷\tli@example.com\r\nE2\tJosé\t\r\n"
    path = write(tmp_path, "unicode.txt", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    table, rows, problems = read(path)
    assert table.facts.encoding == "utf-16"
    assert table.delimiter_label == "tab"
    assert table.header == ["Employee ID", "Full name", "Email address"]
    assert rows == [(2, ["E1", "李雷", "li@example.com"]), (3, ["E2", "José", ""])]
    assert problems == []


def test_utf16_big_endian(tmp_path: Path) -> None:
    path = write(tmp_path, "be.txt", "a\tb\nx\ty\n", "utf-16-be")
    path.write_bytes(codecs.BOM_UTF16_BE + path.read_bytes())
    _, rows, _ = read(path)
    assert rows == [(2, ["x", "y"])]


def test_byte_not_in_windows_1252_names_its_line(tmp_path: Path) -> None:
    """0x81 is neither UTF-8 (alone) nor a Windows-1252 character: say where it is."""
    path = write(tmp_path, "odd.csv", b"Employee ID,Full name\nE1,M\xfcller\nE2,Bad \x81 byte\n")
    with pytest.raises(ImportFileError, match=r"odd\.csv.*line 3"):
        read(path)


def test_utf8_bom_then_windows_1252_bytes(tmp_path: Path) -> None:
    """A BOM does not become part of the first header (which would then match nothing)."""
    path = write(tmp_path, "bom.csv", b"\xef\xbb\xbfEmployee ID,Full name\nE1,M\xfcller\n")
    table, rows, _ = read(path)
    assert table.header == ["Employee ID", "Full name"]
    assert rows == [(2, ["E1", "Müller"])]


# ----------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_delimiter_is_sniffed_from_the_header(tmp_path: Path, delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows([["Host name", "Serial number", "OS"], ["pc-1", "SN,1;2|3\t4", "Windows 11"]])
    path = write(tmp_path, "d.csv", buffer.getvalue())
    table, rows, _ = read(path)
    assert table.delimiter == delimiter
    assert rows == [(2, ["pc-1", "SN,1;2|3\t4", "Windows 11"])]


def test_excel_sep_line_and_powershell_type_line_are_skipped(tmp_path: Path) -> None:
    path = write(tmp_path, "sep.csv", "sep=;\nEmployee ID;Full name\nE1;Ann, Jr\n")
    table, rows, _ = read(path)
    assert (table.delimiter, table.header_line, rows) == (";", 2, [(3, ["E1", "Ann, Jr"])])
    path = write(
        tmp_path,
        "ad.csv",
        '#TYPE Microsoft.ActiveDirectory.Management.ADUser\n"Name","SamAccountName"\n"A","a"\n',
    )
    table, rows, _ = read(path)
    assert table.skipped_preamble == ["#TYPE Microsoft.ActiveDirectory.Management.ADUser"]
    assert (table.header, rows) == (["Name", "SamAccountName"], [(3, ["A", "a"])])


def test_quoted_newlines_keep_line_numbers_right(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "q.csv",
        'Host name,Title\r\npc-1,"two\r\nlines"\r\n\r\npc-2,"three\nli\nnes"\npc-3,x',
    )
    _, rows, problems = read(path)
    assert [line for line, _ in rows] == [2, 5, 8]
    assert rows[1][1] == ["pc-2", "three\nli\nnes"]
    assert problems == []


def test_blank_lines_before_the_header_count(tmp_path: Path) -> None:
    path = write(tmp_path, "blank.csv", "\n\nEmployee ID,Full name\nE1,Ann\n")
    table, rows, _ = read(path)
    assert table.header_line == 3
    assert rows == [(4, ["E1", "Ann"])]


# ------------------------------------------------------------------------------ bad input


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match=r"empty\.csv is empty"):
        sniff(write(tmp_path, "empty.csv", b""))


def test_blank_file_has_no_header(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no header row"):
        read(write(tmp_path, "blank.csv", "\r\n  \n\n"))


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        sniff(tmp_path / "nope.csv")
    with pytest.raises(ImportFileError, match="folder"):
        sniff(tmp_path)


def test_file_ending_inside_a_quoted_field(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.csv", 'Employee ID,Full name\nE1,Ann\nE2,"Bo')
    _, rows, problems = read(path)
    assert rows == [(2, ["E1", "Ann"])]
    assert messages(problems) == [
        "line 3: a quoted field is never closed; the file ends inside it (truncated, or a stray "
        "quote)"
    ]


def test_file_ending_inside_a_utf8_character_names_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "cut.csv", "Employee ID,Full name\nE1,Ann\nE2,Zoë".encode()[:-1])
    with pytest.raises(ImportFileError, match=r"cut\.csv.*line 3.*truncated"):
        sniff(path)


def test_utf16_file_cut_mid_character_names_the_line(tmp_path: Path) -> None:
    data = "a\tb\r\nx\ty\r\nz\tw".encode("utf-16")
    with pytest.raises(ImportFileError, match=r"cut\.txt.*line 3"):
        read(write(tmp_path, "cut.txt", data[:-1]))


def test_unclosed_quote_in_the_middle(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'Employee ID,Full name\nE1,"Ann\nE2,Bob\nE3,Cy\n')
    _, rows, problems = read(path)
    assert rows == []
    assert len(problems) == 1
    assert str(problems[0]).startswith("line 2: a quoted field is never closed")


def test_stray_quote_inside_a_field(tmp_path: Path) -> None:
    path = write(tmp_path, "q.csv", 'Employee ID,Full name\nE1,Ann\nE2,"Bob" Jr\nE3,Cy\n')
    _, rows, problems = read(path)
    assert rows == [(2, ["E1", "Ann"])]
    assert str(problems[0]).startswith("line 3: the row cannot be read as CSV")


def test_huge_field_names_the_line_and_the_limit(tmp_path: Path) -> None:
    path = write(tmp_path, "big.csv", "a,b\n1,2\n3," + "x" * (FIELD_LIMIT + 10) + "\n5,6\n")
    _, rows, problems = read(path)
    assert rows == [(2, ["1", "2"])]
    assert len(problems) == 1
    assert str(problems[0]).startswith("line 3: a field is longer than 131,072 characters")


def test_huge_field_in_the_header(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="line 1"):
        read(write(tmp_path, "big.csv", "a," + "x" * (FIELD_LIMIT + 10) + "\n1,2\n"))


def test_nul_bytes_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "nul.csv", b"Employee ID,Full name\nE1,Ann\nE2,B\x00b\n")
    with pytest.raises(ImportFileError, match=r"nul\.csv.*NUL.*line 3"):
        sniff(path)


def test_nul_character_in_utf16_text_names_the_line(tmp_path: Path) -> None:
    """PostgreSQL cannot store U+0000; a UTF-16 file may still hold one."""
    path = write(tmp_path, "nul.txt", "a\tb\nx\ty\nz\tw\x00\n", "utf-16")
    with pytest.raises(ImportFileError, match=r"nul\.txt.*NUL.*line 3"):
        sniff(path)


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("random.csv", random.Random(7).randbytes(5000), "binary"),
        (
            "image.png",
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10" + bytes(range(256)),
            "binary",
        ),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "97-2003"),
        ("elf", b"\x7fELF\x02\x01\x01" + bytes(100) + b"\x01\x02\x03" * 50, "binary"),
    ],
)
def test_binary_files_are_refused(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    with pytest.raises(ImportFileError, match=reason) as caught:
        read(write(tmp_path, name, data))
    assert name in str(caught.value)


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)
    return buffer.getvalue()


@pytest.mark.parametrize("name", ["photos.zip", "export.xlsx", "noextension", "report.docx"])
def test_zip_that_is_not_a_workbook(tmp_path: Path, name: str) -> None:
    data = _zip({"word/document.xml": b"<w/>", "readme.txt": b"hello"})
    with pytest.raises(ImportFileError, match="workbook") as caught:
        read(write(tmp_path, name, data))
    assert name in str(caught.value)


def test_truncated_and_corrupt_workbooks(tmp_path: Path) -> None:
    good = _workbook(tmp_path / "good.xlsx", [["Employee ID", "Full name"], ["E1", "Ann"]])
    data = good.read_bytes()
    with pytest.raises(ImportFileError, match=r"cut\.xlsx"):
        read(write(tmp_path, "cut.xlsx", data[: len(data) // 2]))
    broken = _zip(
        {
            "[Content_Types].xml": b"<Types/>",
            "xl/workbook.xml": b"<workbook><sheets><sheet",
        }
    )
    with pytest.raises(ImportFileError, match=r"broken\.xlsx"):
        read(write(tmp_path, "broken.xlsx", broken))


def _workbook(path: Path, rows: list[list[object]]) -> Path:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Export"
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def test_workbook_dates_numbers_and_short_rows(tmp_path: Path) -> None:
    path = _workbook(
        tmp_path / "hr.xlsx",
        [
            [],
            ["Employee ID", "Full name", "Termination date", "Cores", None],
            ["E1", "Ann", dt.date(2026, 3, 4), 16.0],
            [None, None, None, None],
            ["E2", "Bob", dt.datetime(2026, 3, 5, 10, 30), None],
            ["E3"],
        ],
    )
    table, rows, problems = read(path)
    assert table.facts.encoding_label == "Excel workbook"
    assert (table.sheet, table.header_line) == ("Export", 2)
    assert table.header == ["Employee ID", "Full name", "Termination date", "Cores"]
    assert rows == [
        (3, ["E1", "Ann", "2026-03-04", "16"]),
        (5, ["E2", "Bob", "2026-03-05T10:30:00", ""]),
        (6, ["E3", "", "", ""]),
    ]
    assert problems == []


def test_workbook_without_a_header(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no header row"):
        read(_workbook(tmp_path / "empty.xlsx", [[], [None, None]]))


def test_row_width_problems(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "w.csv",
        "Employee ID,Full name,Email address\n"
        "E1,Ann,ann@example.com\n"
        "E2,Bob\n"
        "E3,Cy,cy@example.com,surprise\n"
        "E4,Di,di@example.com,,\n",
    )
    found, problems, _ = records(path, Kind.PEOPLE)
    assert [r.line for r in found] == [2, 5]
    assert messages(problems) == [
        "line 3: the row has 2 fields; the header has 3 (a field is missing or a quote is "
        "misplaced)",
        "line 4: the row has 4 fields; the header has 3 (value 'surprise')",
    ]


def test_duplicate_keys_with_conflicting_values_name_both_lines(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "dup.csv",
        "Employee ID,Full name\nE1,Ann\nE2,Bob\nE1,Ann\nE1,Anne\n",
    )
    found, problems, _ = records(path, Kind.PEOPLE)
    assert [r.line for r in found] == [2, 3]  # an exact repeat (line 4) is no problem
    assert messages(problems) == [
        "line 5, Employee ID: appears again with other values (first on line 2) (value 'E1')"
    ]


def test_duplicate_hostnames(tmp_path: Path) -> None:
    path = write(tmp_path, "dup.csv", "Host name,Serial number\npc-1,A\nPC-1,B\n")
    _, problems, _ = records(path, Kind.DEVICES)
    assert messages(problems) == [
        "line 3, Host name: appears again with other values (first on line 2) (value 'PC-1')"
    ]


def test_problems_name_line_column_and_value(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "bad.csv",
        "Employee ID,Full name,Email address,Employment status,Termination date\n"
        "E1,Ann,ann.example.com,Active,\n"
        "E2,Bob,bob@example.com,Gone fishing,\n"
        "E3,Cy,cy@example.com,Terminated,2026-02-30\n"
        ",Di,,,\n"
        "E5,,,,\n",
    )
    found, problems, _ = records(path, Kind.PEOPLE)
    assert found == []
    text = messages(problems)
    assert text[0] == "line 2, Email address: is not an email address (value 'ann.example.com')"
    assert text[1].startswith("line 3, Employment status: not a status")
    assert text[2].startswith("line 4, Termination date: not a real date")
    assert text[3] == "line 5, Employee ID: is empty; every row needs one"
    assert text[4].startswith("line 6, Full name: is empty")


def test_overlong_cells_are_problems_not_crashes(tmp_path: Path) -> None:
    path = write(tmp_path, "long.csv", f"Host name,Title\npc-1,{'x' * 600}\n{'h' * 300},Word\n")
    found, problems, _ = records(path, Kind.INVENTORY)
    assert found == []
    assert messages(problems)[0].startswith("line 2, Title: is 600 characters long")
    assert messages(problems)[1].startswith("line 3, Host name: is 300 characters long")


# ------------------------------------------------------------------------ property-based

_HEADER_CELL = (
    st.text(
        alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 _",
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool)
)
_CELL = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(",;\t|\"'\r\n €éüß中 ")),
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\x00"),
    ),
    max_size=20,
)


@st.composite
def _tables(draw: st.DrawFn) -> list[list[str]]:
    width = draw(st.integers(2, 5))
    header = draw(st.lists(_HEADER_CELL, min_size=width, max_size=width, unique=True))
    body = draw(st.lists(st.lists(_CELL, min_size=width, max_size=width), max_size=8))
    return [header, *body]


def _line_breaks(text: str) -> int:
    return len(re.findall(r"\r\n|\r|\n", text))


@FAST
@given(
    table=_tables(),
    delimiter=st.sampled_from([",", ";", "\t", "|"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_any_csv_round_trips(
    tmp_path: Path, table: list[list[str]], delimiter: str, encoding: str, terminator: str
) -> None:
    buffer = io.StringIO()
    # csv.writer quotes only the terminator's own characters: a lone CR needs quoting too.
    quoting = (
        csv.QUOTE_ALL if any("\r" in cell for row in table for cell in row) else csv.QUOTE_MINIMAL
    )
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator=terminator, quoting=quoting)
    starts = []
    for row in table:
        starts.append(_line_breaks(buffer.getvalue()) + 1)
        writer.writerow(row)
    text = buffer.getvalue()
    if encoding == "cp1252":
        try:
            data = text.encode("cp1252")
        except UnicodeEncodeError:
            assume(False)
            raise
        # cp1252 bytes that happen to form UTF-8 characters cannot be told apart (from UTF-8,
        # or from a UTF-8 file with a line pasted from cp1252, which is refused).
        decoded = data.decode("utf-8", errors="replace")
        assume(all(ord(c) < 128 or c == "\ufffd" for c in decoded))
    else:
        data = text.encode(encoding)
    path = write(tmp_path, "t.csv", data)
    got, rows, problems = read(path)
    assert problems == []
    assert got.delimiter == delimiter
    assert got.header == table[0]
    expected = [
        (start, row)
        for start, row in zip(starts[1:], table[1:], strict=True)
        if any(cell.strip() for cell in row)  # a row of empty cells is a blank line
    ]
    assert rows == expected


@FAST
@given(data=st.binary(max_size=3000))
def test_arbitrary_bytes_never_crash(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, "junk.csv", data)
    with contextlib.suppress(KnownError):
        read_everything(path)


@FAST
@given(
    prefix=st.sampled_from(
        [
            b"Employee ID,Full name,Termination date,Employment status\n",
            b"Host name;Serial number;Cores;Last seen\r\n",
            b"PSComputerName,DisplayName,DisplayVersion,Publisher,InstallDate\n",
            b"Vendor,Product,Metric,Quantity,PO reference,Start date,Unit cost\n",
            b"User,Product,Checkout,Checkin\n",
            b"Flexible License Manager status on Wed 11/25/2026 10:30\nUsers of X:  (Total of 1 "
            b"license issued;  Total of 1 license in use)\n",
            b"\xff\xfeE\x00m\x00p\x00",
            b"PK\x03\x04",
        ]
    ),
    data=st.binary(max_size=1500),
)
def test_valid_header_then_junk_never_crashes(tmp_path: Path, prefix: bytes, data: bytes) -> None:
    path = write(tmp_path, "junk.csv", prefix + data)
    with contextlib.suppress(KnownError):
        read_everything(path)


_DATEISH = st.one_of(
    st.text(max_size=30),
    st.from_regex(
        r"\d{1,5}[-/.]\d{1,3}[-/.]\d{1,5}"
        r"([ T]\d{1,3}:\d{1,3}(:\d{1,3})?( ?[AaPp][Mm]|Z|[+-]\d\d:?\d\d)?)?",
        fullmatch=True,
    ),
    st.from_regex(r"\d{6,9}", fullmatch=True),
)


@FAST
@given(values=st.lists(_DATEISH, max_size=6), order=st.sampled_from([None, *DateOrder]))
def test_date_reader_raises_only_value_problems(values: list[str], order: DateOrder | None) -> None:
    reader = DateReader(order)
    for number, value in enumerate(values, 2):
        try:
            moment = reader.moment(value, number, "Date")
        except ValueProblem:
            continue
        assert moment is None or (moment.tzinfo is dt.UTC and 1899 <= moment.year <= 2201)


_NUMBERISH = st.one_of(
    st.text(max_size=20),
    st.from_regex(r"[-+€$ ]?[0-9][0-9,. \u00a0]{0,12}( ?(EUR|USD|€))?", fullmatch=True),
    st.sampled_from(["9" * 4301, "1" + "0" * 5000, "1," + ",".join(["000"] * 1500)]),
    st.from_regex(r"[0-9]?[eE][+-]?[0-9]{1,25}", fullmatch=True),
)


@FAST
@given(value=_NUMBERISH)
def test_whole_and_amount_raise_only_value_problems(value: str) -> None:
    try:
        number = whole(value)
    except ValueProblem:
        pass
    else:
        assert number is None or 0 <= number <= 10_000_000
    try:
        money = amount(value)
    except ValueProblem:
        pass
    else:
        assert money is None or (money.is_finite() and 0 <= money < Decimal(10) ** 10)
        assert money is None or money.as_tuple().exponent == -4


@FAST
@given(value=st.text(max_size=20))
def test_employed_raises_only_value_problems(value: str) -> None:
    with contextlib.suppress(ValueProblem):
        employed(value)


# ---------------------------------------------------------------------------------- values


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-04", dt.date(2026, 3, 4)),
        ("2026-3-4", dt.date(2026, 3, 4)),
        ("20260304", dt.date(2026, 3, 4)),
        ("04.03.2026", dt.date(2026, 3, 4)),
        ("4.3.2026 17:05", dt.date(2026, 3, 4)),
        ("2026-03-04T23:30:00-02:00", dt.date(2026, 3, 5)),
        ("2026-03-04 10:00:00Z", dt.date(2026, 3, 4)),
        ("04/04/2026", dt.date(2026, 4, 4)),
        ("  ", None),
    ],
)
def test_dates_in_the_shapes_exports_use(text: str, expected: dt.date | None) -> None:
    assert DateReader().date(text) == expected


def test_slash_date_that_cannot_be_told_apart_is_ambiguous() -> None:
    reader = DateReader()
    with pytest.raises(Ambiguous):
        reader.date("03/04/2026", 7, "Start date")
    assert reader.ambiguous == [(7, "Start date", "03/04/2026")]
    assert reader.order is None


def test_a_day_above_12_settles_the_order() -> None:
    reader = DateReader()
    assert reader.date("25/03/2026", 9) == dt.date(2026, 3, 25)
    assert reader.order is DateOrder.DAY_FIRST
    assert reader.decided_at == "line 9: 25/03/2026"
    assert reader.date("03/04/2026") == dt.date(2026, 4, 3)
    with pytest.raises(ValueProblem, match=r"month first.*line 9: 25/03/2026.*day first"):
        reader.date("12/31/2026", 12)


def test_the_chosen_order_reads_slashes() -> None:
    assert DateReader(DateOrder.MONTH_FIRST).date("03/04/2026") == dt.date(2026, 3, 4)
    assert DateReader(DateOrder.DAY_FIRST).date("03/04/26") == dt.date(2026, 4, 3)
    with pytest.raises(ValueProblem, match="the chosen order"):
        DateReader(DateOrder.MONTH_FIRST).date("25/03/2026")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2026-02-30", "not a real date"),
        ("31.02.2026", "not a real date"),
        ("13/13/2026", "neither part can be a month"),
        ("1850-01-01", "out of range"),
        ("next Tuesday", "not a date"),
        ("13/01/2026 13:00 PM", "1 to 12"),
        ("2026-01-01T10:00+25:00", "not a real date"),
    ],
)
def test_bad_dates_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueProblem, match=reason):
        DateReader().moment(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("16", 16),
        ("1,024", 1024),
        ("16.0", 16),
        ("16.00", 16),
        ("1 024", 1024),
        ("", None),
        ("2\u00a0048", 2048),
    ],
)
def test_whole_numbers(text: str, expected: int | None) -> None:
    assert whole(text) == expected


@pytest.mark.parametrize(
    "text", ["1,5", "12,34", "-3", "2.5", "x", "1e3", "9" * 5000, "1.000", "2.048", "16.000"]
)
def test_not_whole_numbers(text: str) -> None:
    with pytest.raises(ValueProblem):
        whole(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,234.50", "1234.5000"),
        ("1.234,50", "1234.5000"),
        ("€ 12", "12.0000"),
        ("12,5", "12.5000"),
        ("1,234", "1234.0000"),
        ("USD 99.99", "99.9900"),
    ],
)
def test_amounts(text: str, expected: str) -> None:
    assert amount(text) == Decimal(expected)


@pytest.mark.parametrize("text", ["1.200", "12.500", "$1.200", "999.999 EUR"])
def test_an_amount_with_a_dot_before_three_digits_is_ambiguous(text: str) -> None:
    """1,200 in a German export, 1.2 in an English one: a thousand times off either way."""
    with pytest.raises(ValueProblem, match="is ambiguous"):
        amount(text)


@pytest.mark.parametrize(
    ("text", "expected"), [("1.200.000", "1200000"), ("0.125", "0.125"), ("1234.567", "1234.567")]
)
def test_amounts_a_dot_before_three_digits_does_not_make_ambiguous(
    text: str, expected: str
) -> None:
    assert amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Active", True), ("Terminated", False), ("TRUE", True), ("False", False), ("", None)],
)
def test_employment_status(text: str, expected: bool | None) -> None:
    assert employed(text) is expected


# --------------------------------------------------------------------------------- formats

_SAMPLES: list[tuple[str, Kind, str, dict[str, str], str]] = [
    (
        "Microsoft Intune devices",
        Kind.DEVICES,
        "Device ID,Device name,Enrollment date,Last check-in,OS version,Serial number,"
        "Manufacturer,Model,Primary user UPN,Primary user email address,"
        "Primary user display name,OS,Total storage\n"
        "0d1,LT-0042,2025-01-10 08:00,2026-03-01 09:12,10.0.22631,5CG1234,HP,EliteBook,"
        "ann@corp.example,ann@example.com,Ann,Windows,512\n",
        {
            "hostname": "Device name",
            "owner": "Primary user UPN",
            "last_seen": "Last check-in",
            "os": "OS",
            "serial": "Serial number",
        },
        "LT-0042",
    ),
    (
        "Microsoft Configuration Manager devices",
        Kind.DEVICES,
        "Netbios_Name0,SerialNumber0,Operating_System_Name_and0,NumberOfCores0,User_Name0\n"
        "SRV-01,VMware-42 1a,Microsoft Windows NT Server 10.0,8,svc\n",
        {"hostname": "Netbios_Name0", "serial": "SerialNumber0", "cores": "NumberOfCores0"},
        "SRV-01",
    ),
    (
        "Lansweeper assets",
        Kind.DEVICES,
        "AssetName,Domain,Username,Userdomain,IPAddress,Lastseen,Manufacturer,Model,Serialnumber\n"
        "WS-7,CORP,ann,CORP,10.0.0.7,2026-03-01 08:00:00,Dell,OptiPlex,ABC123\n",
        {
            "hostname": "AssetName",
            "owner": "Username",
            "last_seen": "Lastseen",
            "serial": "Serialnumber",
        },
        "WS-7",
    ),
    (
        "Jamf Pro computers",
        Kind.DEVICES,
        "Computer Name,Serial Number,Operating System Version,Last Inventory Update,"
        "Email Address,Username,Total Number of Cores,Number of Processors\n"
        "MAC-1,C02XYZ,14.3.1,2026-03-01 07:00:00,ann@example.com,ann,10,1\n",
        {
            "hostname": "Computer Name",
            "owner": "Email Address",
            "os": "Operating System Version",
            "cores": "Total Number of Cores",
            "processors": "Number of Processors",
        },
        "MAC-1",
    ),
    (
        "Microsoft Intune discovered apps",
        Kind.INVENTORY,
        "ApplicationKey,ApplicationName,ApplicationPublisher,ApplicationShortVersion,"
        "ApplicationVersion,DeviceId,DeviceName,OSDescription,OSVersion,Platform,UserId,"
        "EmailAddress,UserName\n"
        "k1,Microsoft Visio,Microsoft Corporation,16.0,16.0.17328.20162,d1,LT-0042,Windows,"
        "10.0,Windows,u1,ann@example.com,Ann\n",
        {
            "hostname": "DeviceName",
            "title": "ApplicationName",
            "publisher": "ApplicationPublisher",
            "version": "ApplicationVersion",
        },
        "Microsoft Visio",
    ),
    (
        "PowerShell registry Uninstall keys",
        Kind.INVENTORY,
        "#TYPE Selected.System.Management.Automation.PSCustomObject\n"
        '"DisplayName","DisplayVersion","Publisher","InstallDate","PSComputerName"\n'
        '"7-Zip 23.01 (x64)","23.01","Igor Pavlov","20240105","WS-7"\n',
        {
            "hostname": "PSComputerName",
            "title": "DisplayName",
            "version": "DisplayVersion",
            "publisher": "Publisher",
            "install_date": "InstallDate",
        },
        "7-Zip 23.01 (x64)",
    ),
    (
        "PowerShell Win32_Product",
        Kind.INVENTORY,
        '"Name","Vendor","Version","Caption","IdentifyingNumber","InstallDate","PSComputerName"\n'
        '"Microsoft SQL Server 2019","Microsoft Corporation","15.0.2000.5","SQL","{A}",'
        '"20240201","SRV-01"\n',
        {
            "hostname": "PSComputerName",
            "title": "Name",
            "publisher": "Vendor",
            "version": "Version",
            "install_date": "InstallDate",
        },
        "Microsoft SQL Server 2019",
    ),
    (
        "Active Directory (Get-ADUser | Export-Csv)",
        Kind.PEOPLE,
        "#TYPE Microsoft.ActiveDirectory.Management.ADUser\n"
        '"DistinguishedName","Enabled","GivenName","Name","ObjectClass","ObjectGUID",'
        '"SamAccountName","SID","Surname","UserPrincipalName","mail","Department"\n'
        '"CN=Ann Lee,OU=Staff,DC=corp","False","Ann","Ann Lee","user","g1","alee","S-1",'
        '"Lee","alee@corp.example","ann.lee@example.com","Finance"\n',
        {
            "employee_id": "SamAccountName",
            "name": "Name",
            "email": "mail",
            "status": "Enabled",
            "team": "Department",
        },
        "alee",
    ),
    (
        "HR export",
        Kind.PEOPLE,
        "Employee ID,Full Name,Email Address,Department,Employment Status\n"
        "E1,Ann Lee,ann@example.com,Finance,Active\n",
        {
            "employee_id": "Employee ID",
            "name": "Full Name",
            "email": "Email Address",
            "team": "Department",
            "status": "Employment Status",
        },
        "E1",
    ),
    (
        "Snipe-IT licenses",
        Kind.SNIPEIT,
        "ID,Name,Product Key,Expiration Date,Licensed To Email,Licensed To Name,Manufacturer,"
        "Seats,Purchase Date,Purchase Cost,Order Number,Supplier\n"
        '3,Visio Pro,XXXX,2027-01-31,,,Microsoft,25,2026-02-01,"2,500.00",PO-9,Insight\n',
        {
            "name": "Name",
            "vendor": "Manufacturer",
            "seats": "Seats",
            "order_number": "Order Number",
            "purchase_cost": "Purchase Cost",
        },
        "Visio Pro",
    ),
    (
        "Snipe-IT license import template",
        Kind.SNIPEIT,
        "Name,Email,Username,Item name,manufacturer,purchase cost,purchase_order,order number,"
        "seats\n"
        "Ann Lee,ann@example.com,alee,Visio Pro,Microsoft,$250.00,PO-9,INV-3,5\n",
        {
            "name": "Item name",
            "vendor": "manufacturer",
            "purchase_order": "purchase_order",
            "order_number": "order number",
        },
        "Visio Pro",
    ),
    (
        "Snipe-IT users",
        Kind.PEOPLE,
        "First Name,Last Name,email,Username,Location,Employee Number\n"
        "Ann,Lee,ann@example.com,alee,Oslo,E1\n",
        {"employee_id": "Employee Number", "email": "email", "first_name": "First Name"},
        "E1",
    ),
    (
        "Jamf Pro computers (a row per application)",
        Kind.DEVICES,
        "Computer Name,Serial Number,Email Address,Application Title\n"
        "NW-MB-1,C02X1,ann@example.com,Safari.app\n,,,Xcode.app\n",
        {"hostname": "Computer Name", "owner": "Email Address"},
        "NW-MB-1",
    ),
    (
        "Jamf Pro computers (a row per group)",
        Kind.DEVICES,
        "Computer Name,Serial Number,Computer Group\nNW-MB-1,C02X1,All Managed\n,,Design\n",
        {"hostname": "Computer Name", "serial": "Serial Number"},
        "NW-MB-1",
    ),
    (
        "Active Directory (Get-ADUser | Select-Object | Export-Csv)",
        Kind.PEOPLE,
        '"Name","SamAccountName","EmailAddress","Enabled"\n'
        '"Ann Lee","alee","ann.lee@example.com","False"\n',
        {"employee_id": "SamAccountName", "email": "EmailAddress", "status": "Enabled"},
        "alee",
    ),
    (
        "Microsoft Entra ID users (Get-MgUser | Export-Csv)",
        Kind.PEOPLE,
        '"UserPrincipalName","DisplayName","AccountEnabled","Mail"\n'
        '"ann@example.com","Ann Lee","True","ann.lee@example.com"\n',
        {"employee_id": "UserPrincipalName", "email": "Mail", "status": "AccountEnabled"},
        "ann@example.com",
    ),
    (
        "Jamf Pro mobile devices",
        Kind.DEVICES,
        "Display Name,Serial Number,iOS Version,Email Address,Last Inventory Update\n"
        "Ann's iPad,DMPX1,17.5.1,ann@example.com,2026-11-20 08:00:00\n",
        {"hostname": "Display Name", "os": "iOS Version", "owner": "Email Address"},
        "Ann's iPad",
    ),
    (
        "Jamf School devices",
        Kind.DEVICES,
        "DeviceUDID;LastConnected;LocationName;Name;OsVersion;OwnerEmail;OwnerUsername;"
        "SerialNumber;Username\n"
        "00008101-0001;2026-11-20T08:00:00Z;North;Ann's iPad;iOS 26.1;ann@example.com;ann;DMPX2;\n",
        {"hostname": "Name", "owner": "OwnerEmail", "last_seen": "LastConnected"},
        "Ann's iPad",
    ),
]


@pytest.mark.parametrize(
    ("name", "kind", "text", "columns", "key"), _SAMPLES, ids=[s[0] for s in _SAMPLES]
)
def test_known_formats_are_recognized_and_read(  # noqa: PLR0917 (the sample's parts)
    tmp_path: Path, name: str, kind: Kind, text: str, columns: dict[str, str], key: str
) -> None:
    path = write(tmp_path, "export.csv", text)
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    detection = detect(kind, table.header)
    assert detection.format_name == name
    assert detection.complete
    for field_key, header in columns.items():
        assert table.header[detection.columns[field_key]] == header, field_key
    found = list(RowReader(table, detection, DateReader(), problems).records())
    assert messages(problems) == []
    assert len(found) == 1
    assert key in {
        getattr(found[0], f)
        for f in ("employee_id", "hostname", "title", "product")
        if hasattr(found[0], f)
    }


def test_every_known_format_has_a_sample() -> None:
    assert {f.name for f in FORMATS} - {s[0] for s in _SAMPLES} == {
        "Microsoft Configuration Manager installed software",
        "Lansweeper installed software",
        "Jamf Pro applications",
        "PowerShell registry Uninstall keys (one machine)",  # tests/ingest/test_public_samples
    }


def test_formats_are_only_recognized_for_their_kind() -> None:
    header = ["Device name", "Primary user UPN", "Serial number"]
    assert detect(Kind.DEVICES, header).format_name == "Microsoft Intune devices"
    assert detect(Kind.INVENTORY, header).format_name == "columns matched by name"


def test_intune_device_record(tmp_path: Path) -> None:
    found, _, _ = records(write(tmp_path, "i.csv", _SAMPLES[0][2]), Kind.DEVICES)
    assert found == [
        DeviceRecord(
            2, "LT-0042", "5CG1234", "Windows", None, None, "ann@corp.example", dt.date(2026, 3, 1)
        )
    ]


def test_ad_export_disabled_account_is_no_leaver(tmp_path: Path) -> None:
    """HR is the authority on employment: a disabled account says nothing of it (not left),
    and is read as the account's state."""
    found, _, _ = records(write(tmp_path, "ad.csv", _SAMPLES[7][2]), Kind.PEOPLE)
    assert found == [
        PersonRecord(
            3,
            "alee",
            "Ann Lee",
            "ann.lee@example.com",
            "Finance",
            None,
            None,
            account_disabled=True,
        )
    ]


def test_registry_install_date_is_compact(tmp_path: Path) -> None:
    found, _, _ = records(write(tmp_path, "r.csv", _SAMPLES[5][2]), Kind.INVENTORY)
    assert found == [
        InstallRecord(3, "WS-7", "Igor Pavlov", "7-Zip 23.01 (x64)", "23.01", dt.date(2024, 1, 5))
    ]


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Employee ID", "employee_id"),
        ("Employee Number", "employee_id"),
        ("Full Name", "name"),
        ("Email Address", "email"),
        ("E-mail", "email"),
        ("Department", "team"),
        ("Employment Status", "status"),
        ("Last working day", "date_left"),
    ],
)
def test_people_synonyms(header: str, field: str) -> None:
    detection = detect(Kind.PEOPLE, ["Other", header])
    assert detection.columns[field] == 1


def test_first_and_last_name_make_a_name(tmp_path: Path) -> None:
    path = write(tmp_path, "p.csv", "Staff ID,Given name,Surname\nS1,Ann,Lee\n")
    found, problems, _ = records(path, Kind.PEOPLE)
    assert problems == []
    assert found[0].name == "Ann Lee"  # type: ignore[union-attr]


def test_unknown_layout_reports_missing_required_fields() -> None:
    detection = detect(Kind.ENTITLEMENTS, ["Supplier", "Product", "Amount", "Remarks"])
    assert detection.format_name == "columns matched by name"
    assert not detection.complete
    assert [f.label for f in detection.missing] == ["Vendor", "Metric", "Quantity", "PO reference"]
    assert detection.unused == ("Amount", "Remarks")


def test_people_without_any_name_column_is_missing_the_name() -> None:
    detection = detect(Kind.PEOPLE, ["Employee ID", "Email"])
    assert [f.label for f in detection.missing] == ["Full name"]


def test_saved_mapping_maps_only_what_it_says() -> None:
    header = ["Wer", "Personalnummer", "Abteilung"]
    assert not detect(Kind.PEOPLE, header).complete
    detection = detect(
        Kind.PEOPLE,
        header,
        {"employee_id": "personalnummer", "name": "Wer", "team": "Abteilung"},
        "SAP HR",
    )
    assert detection.complete
    assert detection.format_name == "saved mapping 'SAP HR'"
    assert detection.columns == {"employee_id": 1, "name": 0, "team": 2}


def test_every_field_label_normalizes_to_one_of_its_synonyms() -> None:
    for kind, fields in FIELDS.items():
        keys = [f.key for f in fields]
        assert len(keys) == len(set(keys)), kind
        for spec in fields:
            assert normal(spec.label) in spec.synonyms


# ------------------------------------------------------------------------- records by kind


def test_usage_rows_read_checkout_and_checkin(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.csv",
        "User,Product,Host,Checkout,Checkin\n"
        "ann,MATLAB,ws-1,2026-03-02 09:00,2026-03-02 11:30\n"
        "bob,MATLAB,ws-2,2026-03-02 10:00,\n"
        "cy,MATLAB,ws-3,,\n"
        "di,MATLAB,ws-4,2026-03-02 10:00,2026-03-02 09:00\n",
    )
    found, problems, _ = records(path, Kind.USAGE)
    assert found == [
        UsageRecord(
            2,
            "ann",
            "MATLAB",
            "ws-1",
            dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC),
            dt.datetime(2026, 3, 2, 11, 30, tzinfo=dt.UTC),
        ),
        UsageRecord(3, "bob", "MATLAB", "ws-2", dt.datetime(2026, 3, 2, 10, tzinfo=dt.UTC), None),
    ]
    assert messages(problems) == [
        "line 4, Checkout: is empty; every session has a checkout time",
        "line 5, Checkin: is before the checkout (value '2026-03-02T09:00:00+00:00')",
    ]


def test_empty_checkout_is_reported_even_after_an_ambiguous_date(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u.csv",
        "User,Product,Checkout\nann,MATLAB,03/04/2026 09:00\nbob,MATLAB,\n",
    )
    _, problems, dates = records(path, Kind.USAGE)
    assert dates.ambiguous_count == 1
    assert messages(problems) == ["line 3, Checkout: is empty; every session has a checkout time"]


def test_entitlement_rows(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "e.csv",
        "Vendor,Product,License type,Qty,PO number,Start date,End date,Unit price,Currency,"
        "Core factor\n"
        'Contoso,PDF Studio,Named user,25,PO-1,2026-01-01,2026-12-31,"1,200.00",usd,\n'
        "Contoso,DB Server,Per core,16,PO-2,2026-01-01,2025-12-31,,EUR,0.5\n"
        "Contoso,DB Server,Per gigabyte,16,PO-3,,,,EUR,\n"
        "Contoso,DB Server,Per core,16,PO-4,,,,EURO,\n"
        "Contoso,DB Server,Per core,16,PO-5,,,,EUR,5000\n",
    )
    found, problems, _ = records(path, Kind.ENTITLEMENTS)
    assert len(found) == 1
    first = found[0]
    assert (first.quantity, first.unit_cost, first.currency) == (  # type: ignore[union-attr]
        25,
        Decimal("1200.0000"),
        "USD",
    )
    text = messages(problems)
    assert text[0] == "line 3, End date: is before the start 2026-01-01 (value '2025-12-31')"
    assert text[1].startswith("line 4, License type (Metric): not a metric")
    assert text[2].startswith("line 5, Currency: is 4 characters long")
    assert text[3].startswith("line 6, Core factor:")
    assert len(text) == 4


# ----------------------------------------------------------------------------------- lmstat

LMSTAT = """lmutil - Copyright (c) 1989-2023 Flexera. All Rights Reserved.
Flexible License Manager status on Wed 1/7/2026 10:30

[Detecting lmgrd processes...]
License server status: 27000@lic01
    License file(s) on lic01: /opt/lic/license.dat:

Users of MATLAB:  (Total of 10 licenses issued;  Total of 3 licenses in use)

  "MATLAB" v41, vendor: MLM, expiry: 31-dec-2026
  floating license

    ann ws-1 ws-1 (v41) (lic01/27000 301), start Wed 1/7 9:14
    bob ws-2 /dev/pts/3 (v41) (lic01/27000 402), start Tue 12/30 17:02, 2 licenses

Users of Simulink:  (Total of 5 licenses issued;  Total of 0 licenses in use)

"""


def test_lmstat_snapshot(tmp_path: Path) -> None:
    path = write(tmp_path, "lmstat.txt", LMSTAT)
    problems: list[Problem] = []
    snapshot, found = flexlm.read_lmstat(sniff(path), problems)
    assert snapshot.taken_at == dt.datetime(2026, 1, 7, 10, 30, tzinfo=dt.UTC)
    assert snapshot.features == {"MATLAB": (10, 3), "Simulink": (5, 0)}
    assert list(found) == [
        UsageRecord(
            13,
            "ann",
            "MATLAB",
            "ws-1",
            dt.datetime(2026, 1, 7, 9, 14, tzinfo=dt.UTC),
            None,
            "MLM",
            1,
            server="lic01/27000",
            handle="301",
        ),
        # December in a January snapshot is last year's.
        UsageRecord(
            14,
            "bob",
            "MATLAB",
            "ws-2",
            dt.datetime(2025, 12, 30, 17, 2, tzinfo=dt.UTC),
            None,
            "MLM",
            2,
            server="lic01/27000",
            handle="402",
        ),
    ]
    assert problems == []


def test_lmstat_leap_day_of_last_year(tmp_path: Path) -> None:
    text = LMSTAT.replace("1/7/2025", "1/7/2025").replace("Wed 1/7/2026", "Tue 1/6/2025")
    text = text.replace("Tue 12/30 17:02", "Thu 2/29 17:02")
    problems: list[Problem] = []
    _, found = flexlm.read_lmstat(sniff(write(tmp_path, "lm.txt", text)), problems)
    assert problems == []
    assert [r.checkout.date() for r in found][1] == dt.date(2024, 2, 29)


def test_lmstat_values_too_long_to_store_are_problems(tmp_path: Path) -> None:
    text = LMSTAT.replace("    ann ws-1 ws-1", f"    {'a' * 201} ws-1 ws-1").replace(
        ", 2 licenses", f", {'9' * 30} licenses"
    )
    problems: list[Problem] = []
    _, found = flexlm.read_lmstat(sniff(write(tmp_path, "lm.txt", text)), problems)
    assert list(found) == []
    assert [(p.line, p.column, p.reason) for p in problems] == [
        (13, "user", "is longer than 200 characters"),
        (14, "licenses", "is not a count"),
    ]


def test_lmstat_without_status_line(tmp_path: Path) -> None:
    path = write(tmp_path, "lm.txt", "Users of MATLAB:  (Total of 1 license issued)\n")
    with pytest.raises(ImportFileError, match=r"lm\.txt.*Flexible License Manager status"):
        flexlm.read_lmstat(sniff(path), [])


def test_csv_mentioning_users_of_is_not_lmstat() -> None:
    head = "User,Product,Checkout,Note\nann,MATLAB,2026-01-01,Users of MATLAB: see ticket\n"
    assert not flexlm.looks_like_lmstat(head)
    assert flexlm.looks_like_lmstat(LMSTAT[:300])


def test_ad_service_account_falls_back_to_sam_account_name(tmp_path: Path) -> None:
    """Get-ADUser leaves EmployeeID and mail empty on accounts without them."""
    path = write(
        tmp_path,
        "ad.csv",
        "#TYPE Microsoft.ActiveDirectory.Management.ADUser\r\n"
        '"Department","DistinguishedName","EmployeeID","Enabled","Name","SamAccountName",'
        '"UserPrincipalName","mail"\r\n'
        '"Sales","CN=Ann","E1","True","Ann Lee","alee","alee@corp.example","ann@example.com"\r\n'
        ',"CN=svc",,"True","svc-backup","svc-backup","svc-backup@corp.example",\r\n',
    )
    found, problems, _ = records(path, Kind.PEOPLE)
    assert problems == []
    # A service account (no employee number, a service's name) is not a person.
    assert [(r.employee_id, r.email) for r in found] == [  # type: ignore[union-attr]
        ("E1", "ann@example.com"),
    ]


def test_configuration_manager_device_query_columns() -> None:
    header = [
        "ResourceID",
        "Netbios_Name0",
        "Resource_Domain_OR_Workgr0",
        "User_Name0",
        "User_Principal_Name0",
        "Manufacturer0",
        "Model0",
        "SerialNumber0",
        "Caption0",
        "Version0",
        "NumberOfProcessors0",
        "NumberOfCores0",
        "NumberOfLogicalProcessors0",
        "LastHWScan",
    ]
    detection = detect(Kind.DEVICES, header)
    assert detection.format_name == "Microsoft Configuration Manager devices"
    assert {k: header[i] for k, i in detection.columns.items()} == {
        "hostname": "Netbios_Name0",
        "serial": "SerialNumber0",
        "os": "Caption0",
        "processors": "NumberOfProcessors0",
        "cores": "NumberOfCores0",
        "owner": "User_Principal_Name0",
        "last_seen": "LastHWScan",
    }


DATA = Path(__file__).parents[1] / "data"
_DATA_KINDS = {
    "people": Kind.PEOPLE,
    "devices": Kind.DEVICES,
    "inventory": Kind.INVENTORY,
    "entitlements": Kind.ENTITLEMENTS,
    "snipeit": Kind.SNIPEIT,
    "usage": Kind.USAGE,
}
_DATA_FILES = sorted(
    p.name for p in DATA.glob("*") if re.split(r"[_.]", p.name, maxsplit=1)[0] in _DATA_KINDS
)


@pytest.mark.parametrize("name", _DATA_FILES)
def test_sample_exports_read_without_problems(name: str) -> None:
    """The sample of every documented export (tests/data) reads whole, every row a record."""
    kind = _DATA_KINDS[re.split(r"[_.]", name, maxsplit=1)[0]]
    problems: list[Problem] = []
    table = read_table(sniff(DATA / name), problems)
    detection = detect(kind, table.header)
    assert detection.complete, detection.missing
    reader = RowReader(table, detection, DateReader(), problems)
    found = list(reader.records())
    assert messages(problems) == []
    assert found
    assert len(found) + len(reader.not_people) == reader.rows_read


def test_rows_of_only_delimiters_are_blank(tmp_path: Path) -> None:
    """Excel writes ',,,' for a formatted but empty row: it is not a row with empty fields."""
    path = write(
        tmp_path, "x.csv", "Employee ID,Full name\r\nE1,Ann\r\n,\r\n , \r\nE2,Bob\r\n,\r\n"
    )
    found, problems, _ = records(path, Kind.PEOPLE)
    assert problems == []
    assert [r.line for r in found] == [2, 5]


def test_unnamed_trailing_header_cells_may_be_missing_from_rows(tmp_path: Path) -> None:
    """A header ending in a delimiter has an unnamed last column rows need not repeat."""
    path = write(tmp_path, "x.csv", "Employee ID;Full name;\nE1;Ann\nE2;Bob;\n")
    found, problems, _ = records(path, Kind.PEOPLE)
    assert problems == []
    assert [r.line for r in found] == [2, 3]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("On Leave", True), ("Onboarding", True), ("Inactive", False), ("Deceased", False)],
)
def test_more_employment_statuses(text: str, expected: bool) -> None:
    assert employed(text) is expected


def test_lmstat_vendor_lines_without_an_expiry_still_name_the_vendor(tmp_path: Path) -> None:
    """Some lmstat versions end the feature line at the vendor (seen in public parser tests)."""
    text = re.sub(r"(vendor: \w+),[^\n]*", r"\1", LMSTAT)
    problems: list[Problem] = []
    _, found = flexlm.read_lmstat(sniff(write(tmp_path, "lm.txt", text)), problems)
    records = list(found)
    assert records
    assert all(r.publisher for r in records)
