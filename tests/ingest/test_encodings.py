"""Names survive every encoding an export may use, or the file is refused by line: no mojibake."""

from __future__ import annotations

import codecs
import csv
import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from seatledger.ingest.tabular import ImportFileError, Problem, read_table, sniff

NAMES = st.lists(
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEZ éèêëàâäôöüûçñßøåÆŒŁżœ€’"),
        min_size=1,
        max_size=12,
    )
    .map(str.strip)
    .filter(bool),
    min_size=1,
    max_size=8,
)


def _csv(names: list[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["Employee ID", "Full name"])
    for number, name in enumerate(names, start=1):
        writer.writerow([f"E{number}", name])
    return buffer.getvalue()


def _holds_utf8_characters(data: bytes) -> bool:
    """Whether some bytes form a UTF-8 character beyond ASCII (the rest need not be UTF-8)."""
    return any(ord(c) > 127 and c != "\ufffd" for c in data.decode("utf-8", errors="replace"))


def _names(path: Path) -> list[str]:
    problems: list[Problem] = []
    table = read_table(sniff(path), problems)
    try:
        rows = [cells[1] for _, cells in table.rows]
    finally:
        table.close()
    assert problems == []
    return rows


@settings(max_examples=150, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=NAMES, encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_names_round_trip_in_every_encoding_or_are_refused_by_line(
    tmp_path: Path, names: list[str], encoding: str
) -> None:
    text = _csv(names)
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        assume(False)
        raise
    if encoding == "cp1252":
        try:
            data.decode("utf-8")
            assume(data.isascii())  # every byte also reads as UTF-8: no reader can tell
        except UnicodeDecodeError:
            pass
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    if encoding == "cp1252" and _holds_utf8_characters(data):
        # Windows-1252 letters that also form UTF-8 characters ("Ã©"): told apart by line only.
        with pytest.raises(ImportFileError, match="line"):
            _names(path)
        return
    assert _names(path) == names


@settings(max_examples=100, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    names=NAMES, pasted=st.sampled_from(["Zoë", "Müller", "Café", "Ångström"]), bom=st.booleans()
)
def test_a_line_pasted_from_windows_1252_into_utf8_is_refused_by_its_line(
    tmp_path: Path, names: list[str], pasted: str, bom: bool
) -> None:
    assume(any(not name.isascii() for name in names))  # the file is UTF-8 beyond doubt
    head = (codecs.BOM_UTF8 if bom else b"") + _csv(names).encode("utf-8")
    path = tmp_path / "people.csv"
    path.write_bytes(head + f"E99,{pasted}\r\n".encode("cp1252"))
    line = len(names) + 2
    with pytest.raises(ImportFileError, match=rf"line {line} holds bytes that are not UTF-8"):
        _names(path)


def test_the_refusal_shows_the_bytes_and_how_they_would_read(tmp_path: Path) -> None:
    path = tmp_path / "hr.csv"
    path.write_bytes(
        codecs.BOM_UTF8
        + "Employee ID,Full name\nE1,René Côté\n".encode()
        + "E2,Zoë Müller\n".encode("cp1252")
        + "E3,Łukasz Żółć\n".encode()
    )
    with pytest.raises(ImportFileError) as info:
        sniff(path)
    message = str(info.value)
    assert message.startswith("hr.csv mixes encodings: line 2 holds UTF-8 text, but line 3")
    assert "eb 20 4d fc 6c" in message  # ë, space, M, ü, l as Windows-1252 writes them
    assert "'E2,Zoë Müller' if read as Windows-1252" in message
