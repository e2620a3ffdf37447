"""Reading exported tables: CSV in whatever encoding and delimiter Excel or a tool chose, and XLSX.

The first pass over the raw bytes (:func:`sniff`) hashes the file, tells its encoding (BOM,
UTF-8, else Windows-1252) and refuses what is not a table at all (binary files, old ``.xls``).
:func:`read_table` then streams rows with the line each starts on, so every problem can be
reported as "file, line, column: reason".  Nothing here touches the database.
"""

from __future__ import annotations

import codecs
import csv
import dataclasses
import hashlib
import io
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from seatledger.errors import KnownError
from seatledger.progress import Progress

CHUNK = 1 << 20
FIELD_LIMIT = 131_072  # characters in one cell; longer is not a table an export tool wrote
DELIMITERS = (",", ";", "\t", "|")
_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_CP1252_UNDEFINED = b"\x81\x8d\x8f\x90\x9d"


class ImportFileError(KnownError):
    """A file that cannot be read as a table at all; the message names it and says why."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input, where it is and why.  ``line`` 0 is the file as a whole."""

    line: int
    column: str
    value: str
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line else "file"
        if self.column:
            where += f", {self.column}"
        shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
        return f"{where}: {self.reason}" + (f" (value '{shown}')" if self.value else "")


@dataclass(frozen=True, slots=True)
class FileFacts:
    """What the first pass learned about a file."""

    path: Path
    size: int
    sha256: str
    encoding: str  # a Python codec name, or "xlsx"
    kind: str  # "csv", "xlsx" or "text"

    @property
    def encoding_label(self) -> str:
        """The encoding as people call it."""
        return {
            "utf-8-sig": "UTF-8 with BOM",
            "utf-8": "UTF-8",
            "utf-16": "UTF-16 (Excel Unicode text)",
            "cp1252": "Windows-1252",
            "xlsx": "Excel workbook",
        }.get(self.encoding, self.encoding)


def sniff(path: Path, progress: Progress | None = None) -> FileFacts:
    """Hash the file and tell its encoding; refuse files that are not text tables or XLSX.

    Raises:
        ImportFileError: the file is missing, empty, binary, an old Excel workbook, or text that
            no encoding reads (the message names the line).
    """
    try:
        size = path.stat().st_size
        handle = path.open("rb")
    except FileNotFoundError:
        raise ImportFileError(f"{path.name}: no such file ({path}).") from None
    except IsADirectoryError:
        raise ImportFileError(f"{path.name} is a folder, not a file.") from None
    except OSError as exc:
        raise ImportFileError(f"{path.name} cannot be read: {exc.strerror}.") from None
    if size == 0:
        handle.close()
        raise ImportFileError(f"{path.name} is empty.")
    digest = hashlib.sha256()
    with handle:
        chunk = handle.read(CHUNK)
        kind, encoding = _classify(path, chunk)
        check = _TextCheck(path.name, encoding, chunk) if kind == "csv" else None
        done = 0
        while chunk:
            digest.update(chunk)
            done += len(chunk)
            if check is not None:
                check.feed(chunk)
            if progress is not None:
                progress(done, size)
            chunk = handle.read(CHUNK)
    if check is not None:
        encoding = check.finish()
    return FileFacts(path, size, digest.hexdigest(), encoding, kind)


class _TextCheck:
    """Reads a text file's bytes once to settle its encoding and find what no reader can take.

    UTF-8 is tried first; the first byte that is not UTF-8 turns the whole file to
    Windows-1252, unless other lines hold UTF-8 characters: then the file mixes both (a line
    pasted from a Windows-1252 source into a UTF-8 file) and either reading would garble names,
    so it is refused, naming the line and its bytes.  Every refusal names the line it is on.
    """

    def __init__(self, name: str, encoding: str, head: bytes) -> None:
        self.name = name
        self.encoding = encoding
        self.bom = encoding == "utf-8" and head.startswith(codecs.BOM_UTF8)
        self.skip = len(codecs.BOM_UTF8) if self.bom else 0
        self.decoder = codecs.getincrementaldecoder(encoding)()
        self.lines = 0  # line breaks before the current chunk
        self.not_utf8_line = 0
        self.not_utf8_bytes = b""  # the bytes around the first one that is not UTF-8
        self.utf8_line = 0  # first line holding a UTF-8 character beyond ASCII
        self.undefined_line = 0  # first byte Windows-1252 does not define

    def feed(self, chunk: bytes) -> None:
        if self.encoding == "utf-16":
            self._feed_utf16(chunk)
            return
        nul = chunk.find(b"\x00")
        if nul >= 0:
            self._nul(self.lines + chunk.count(b"\n", 0, nul) + 1)
        if not self.undefined_line:
            found = [p for p in (chunk.find(bytes([b])) for b in _CP1252_UNDEFINED) if p >= 0]
            if found:
                self.undefined_line = self.lines + chunk.count(b"\n", 0, min(found)) + 1
        if (
            not self.utf8_line
            and not chunk.isascii()  # the pattern needs a byte >= 0x80: skip plain text fast
            and (found_utf8 := _UTF8_MULTIBYTE.search(chunk, self.skip))
        ):
            self.utf8_line = self.lines + chunk.count(b"\n", 0, found_utf8.start()) + 1
        if self.encoding == "utf-8":
            data, self.skip = chunk[self.skip :], 0
            try:
                self.decoder.decode(data)
            except UnicodeDecodeError as exc:
                self.encoding = "cp1252"
                self.not_utf8_line = self.lines + data.count(b"\n", 0, exc.start) + 1
                seen = bytes(exc.object)  # with the bytes the decoder held from before
                begins = seen.rfind(b"\n", 0, exc.start) + 1
                ends = seen.find(b"\n", exc.start)
                ends = len(seen) if ends < 0 else ends
                # The bad bytes with a few of their neighbours on the same line.
                self.not_utf8_bytes = seen[
                    max(begins, exc.start - 12) : min(ends, exc.end + 12)
                ].rstrip(b"\r")
        self.lines += chunk.count(b"\n")

    def _feed_utf16(self, chunk: bytes) -> None:
        try:
            text = self.decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            before = bytes(exc.object[: exc.start]).decode(exc.encoding, errors="replace")
            raise ImportFileError(
                f"{self.name}, line {self.lines + before.count(chr(10)) + 1}: the bytes are not "
                f"valid UTF-16 ({exc.reason}); is the file damaged?"
            ) from None
        nul = text.find("\x00")
        if nul >= 0:
            self._nul(self.lines + text.count("\n", 0, nul) + 1)
        self.lines += text.count("\n")

    def _nul(self, line: int) -> None:
        raise ImportFileError(
            f"{self.name} holds binary data (NUL bytes, the first on line {line}); it is not a "
            "CSV or text export. Export the data as CSV or XLSX."
        )

    def finish(self) -> str:
        """The encoding, once the whole file was fed."""
        if self.encoding in {"utf-8", "utf-16"}:
            try:
                self.decoder.decode(b"", final=True)
            except UnicodeDecodeError:
                raise ImportFileError(
                    f"{self.name}, line {self.lines + 1}: the file ends in the middle of a "
                    "character; it looks truncated."
                ) from None
        if self.encoding == "cp1252" and self.utf8_line:
            shown = self.not_utf8_bytes.decode("cp1252", errors="replace").strip()
            raise ImportFileError(
                f"{self.name} mixes encodings: line {self.utf8_line} holds UTF-8 text, but line "
                f"{self.not_utf8_line} holds bytes that are not UTF-8 "
                f"({self.not_utf8_bytes.hex(' ')}, '{shown}' if read as Windows-1252), as if "
                "pasted from another program. Reading the file either way would garble names. "
                f"Retype line {self.not_utf8_line} in a UTF-8 editor, or save the file as CSV "
                "UTF-8 again, and import it."
            )
        if self.encoding == "cp1252" and self.undefined_line:
            raise ImportFileError(
                f"{self.name} is neither UTF-8 (line {self.not_utf8_line}) nor Windows-1252 "
                f"(line {self.undefined_line} holds a byte Windows-1252 does not define). Save "
                "it as CSV UTF-8 and import that."
            )
        if self.encoding == "utf-8" and self.bom:
            return "utf-8-sig"
        return self.encoding


# A character beyond ASCII as UTF-8 writes it (a lead byte and its continuation bytes); runs of
# Windows-1252 letters almost never form one ("Ã©" does, which is mojibake already).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|\xe0[\xa0-\xbf][\x80-\xbf]|[\xe1-\xec\xee\xef][\x80-\xbf]{2}"
    rb"|\xed[\x80-\x9f][\x80-\xbf]|\xf0[\x90-\xbf][\x80-\xbf]{2}|[\xf1-\xf3][\x80-\xbf]{3}"
    rb"|\xf4[\x80-\x8f][\x80-\xbf]{2}"
)


def _classify(path: Path, head: bytes) -> tuple[str, str]:
    if head.startswith(_XLSX_MAGIC):
        return "xlsx", "xlsx"
    if head.startswith(_OLE_MAGIC):
        raise ImportFileError(
            f"{path.name} is an Excel 97-2003 workbook (.xls) or a password-protected workbook; "
            "save it as .xlsx (without a password) or CSV and import that."
        )
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        # UTF-16 writes the delimiters, digits and line breaks of a table with a NUL byte each;
        # none in the first kilobyte means the mark is wrong and UTF-16 would read nonsense.
        body = head[2:1026]
        if len(body) >= 64 and b"\x00" not in body:
            raise ImportFileError(
                f"{path.name} starts with a UTF-16 byte-order mark, but its text is not UTF-16 "
                "(it is 8-bit text, such as UTF-8 or Windows-1252): the mark is wrong. Save the "
                "file again as CSV UTF-8 and import that."
            )
        return "csv", "utf-16"
    if head.startswith(codecs.BOM_UTF8):
        body = head[3:1027]
        if len(body) >= 64 and body.count(b"\x00") * 3 > len(body):
            raise ImportFileError(
                f"{path.name} starts with a UTF-8 byte-order mark, but its text is UTF-16 (every "
                "other byte is NUL): the mark is wrong. Save the file again as CSV UTF-8 and "
                "import that."
            )
        return "csv", "utf-8"
    sample = head[:4096]
    bad = sum(1 for byte in sample if byte < 9 or 13 < byte < 32)
    # NUL bytes get their own message, naming the line, from the full pass.
    if bad > len(sample) // 10 and b"\x00" not in sample:
        raise ImportFileError(f"{path.name} is a binary file, not a CSV or text export.")
    return "csv", "utf-8"


class CellRows(Protocol):
    """A table's data rows as bare cell lists, for a loop too hot to number every row.

    Blank rows come through too (a blank line as ``[]``).  :meth:`line` tells where the row
    last read starts, for the rows a problem is reported on; ``base + read`` is the same line
    for a loop that keeps every row's (two attribute reads, no call).
    """

    def __iter__(self) -> Iterator[list[str]]: ...

    def line(self, cells: list[str]) -> int:
        """The line the row just read (``cells``) starts on."""
        ...

    @property
    def base(self) -> int:
        """What :attr:`read` counts from."""
        ...

    @property
    def read(self) -> int:
        """The line the row just read starts on, less :attr:`base`."""
        ...


@dataclass
class Table:
    """A table being read: its header, and its rows as (line number, cells).

    ``rows`` skips blank rows; ``cells`` gives the same rows unnumbered, blank ones included.
    Both read the same file: a reader takes one of them.
    """

    facts: FileFacts
    delimiter: str  # "," ";" "\t" "|", or "" for a workbook
    header: list[str]
    header_line: int
    rows: Iterator[tuple[int, list[str]]]
    sheet: str = ""
    skipped_preamble: list[str] = field(default_factory=list)
    closer: Callable[[], None] = lambda: None
    cells: CellRows | None = None  # None: number them from ``rows``

    def __post_init__(self) -> None:
        if self.cells is None:
            self.cells = _Numbered(self.rows)

    def close(self) -> None:
        """Release the file; reading the rows to their end does so too."""
        self.closer()

    @property
    def delimiter_label(self) -> str:
        """The delimiter as people call it."""
        return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe", "": "—"}[self.delimiter]


HOST_GIVEN = "Host name"
"""The header of the column :func:`with_host` adds to a one-machine export."""


def with_host(table: Table, host: str) -> Table:
    """The table with a column naming one host on every row (a one-machine export has none).

    A registry or ``Win32_Product`` listing run on one machine names no machine; the user names
    it (``--host``, or the wizard's field).  Blank rows stay blank; line numbers are unchanged.
    """
    width = len(table.header)

    def pad(cells: list[str]) -> list[str]:
        # PowerShell writes a key with no value at all as ",,,": a blank row, not the host's.
        return [*cells, *[""] * (width - len(cells)), host] if any(map(str.strip, cells)) else cells

    assert table.cells is not None
    return dataclasses.replace(
        table,
        header=[*table.header, HOST_GIVEN],
        rows=((line, pad(cells)) for line, cells in table.rows),
        cells=_Padded(table.cells, pad),
    )


class _Padded:
    """Cell rows with a column added, reporting the lines of the rows underneath."""

    def __init__(self, inner: CellRows, pad: Callable[[list[str]], list[str]]) -> None:
        self._inner = inner
        self._pad = pad

    def __iter__(self) -> Iterator[list[str]]:
        return map(self._pad, self._inner)

    def line(self, cells: list[str]) -> int:
        return self._inner.line(cells)

    @property
    def base(self) -> int:
        return self._inner.base

    @property
    def read(self) -> int:
        return self._inner.read


def read_table(facts: FileFacts, problems: list[Problem], sheet: str | None = None) -> Table:
    """Open the table the first pass described; row problems are appended to ``problems``.

    Structural problems that stop reading (an unclosed quote, a field beyond any sensible size)
    are appended as they are met; the rows iterator then ends.  ``sheet`` names the worksheet
    of a workbook to read (its first one when None); a text file ignores it.

    Raises:
        ImportFileError: no header row, a workbook that cannot be opened, or one without the
            sheet named.
    """
    if facts.kind == "xlsx":
        return _read_xlsx(facts, problems, sheet)
    stream = _open_text(facts)
    preamble: list[str] = []
    first = stream.readline()
    if facts.encoding == "cp1252":
        # A UTF-8 BOM on a file whose later bytes are not UTF-8, seen as Windows-1252.
        first = first.removeprefix(codecs.BOM_UTF8.decode("cp1252"))
    line_no = 1
    delimiter = ""
    # Windows PowerShell's Export-Csv writes "#TYPE <class>" first; Excel may write "sep=;".
    while first.startswith("#TYPE") or first.lower().startswith("sep="):
        preamble.append(first.rstrip("\r\n"))
        if first.lower().startswith("sep=") and len(first.rstrip("\r\n")) == 5:
            delimiter = first[4]
        first = stream.readline()
        line_no += 1
    while first and not first.strip():
        first = stream.readline()
        line_no += 1
    if not first:
        stream.close()
        raise ImportFileError(f"{facts.path.name} has no header row (it holds no data).")
    delimiter = delimiter or sniff_delimiter(first)
    header_reader = csv.reader([first], delimiter=delimiter)
    try:
        header = [cell.strip().lstrip("\ufeff") for cell in next(header_reader)]
    except csv.Error as exc:
        stream.close()
        raise ImportFileError(
            f"{facts.path.name}, line {line_no}: the header row cannot be read ({exc})."
        ) from None
    header_line = line_no
    rows = _CsvRows(stream, delimiter, header_line, problems)
    return Table(
        facts,
        delimiter,
        header,
        header_line,
        rows.numbered(),
        skipped_preamble=preamble,
        closer=stream.close,
        cells=rows,
    )


def _open_text(facts: FileFacts) -> IO[str]:
    raw = facts.path.open("rb")
    return io.TextIOWrapper(raw, encoding=facts.encoding, newline="", errors="strict")


def sniff_delimiter(line: str) -> str:
    """The delimiter a header line uses: the candidate found most often outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda d: (counts[d], d == ","))
    return best if counts[best] else ","


class _CsvRows:
    """The data rows of a CSV file, numbered (:meth:`numbered`) or bare (iterating).

    A structural problem (an unclosed quote, a huge field, undecodable bytes) ends the rows and
    is appended to ``problems`` with the line the unreadable row starts on.
    """

    def __init__(
        self, stream: IO[str], delimiter: str, header_line: int, problems: list[Problem]
    ) -> None:
        csv.field_size_limit(FIELD_LIMIT)
        self.stream = stream
        self.reader = csv.reader(stream, delimiter=delimiter, strict=True)
        self.base = header_line + 1
        self.problems = problems
        self.read = 0  # lines of the rows before the one being read (iterating)

    def numbered(self) -> Iterator[tuple[int, list[str]]]:
        """(line, cells) of every row that is not blank."""
        reader, base = self.reader, self.base
        start = base
        try:
            # A plain for loop (not next() per row): this runs a million times per large export.
            for cells in reader:
                line = start
                start = base + reader.line_num
                # Excel writes ",,," for an empty row; a row's first cell is usually filled
                # (then the row is not blank, without joining its cells).
                if (cells and cells[0].strip()) or "".join(cells).strip():
                    yield line, cells
        except (csv.Error, UnicodeDecodeError) as exc:
            self._stopped(start, exc)
        finally:
            self.stream.close()

    def __iter__(self) -> Iterator[list[str]]:
        reader = self.reader
        self.read = 0
        try:
            for cells in reader:
                yield cells
                self.read = reader.line_num  # the next row starts on the line after this one
        except (csv.Error, UnicodeDecodeError) as exc:
            self._stopped(self.base + self.read, exc)
        finally:
            self.stream.close()

    def line(self, cells: list[str]) -> int:
        """The line the row just read starts on: the one after the rows before it (a quoted
        field may span lines).  Cheap enough for every row of a million (provenance)."""
        del cells
        return self.base + self.read

    def _stopped(self, start: int, exc: Exception) -> None:
        if isinstance(exc, UnicodeDecodeError):
            self.problems.append(
                Problem(start, "", "", f"the bytes are not valid {exc.encoding} ({exc.reason})")
            )
        else:
            assert isinstance(exc, csv.Error)
            self.problems.append(_csv_problem(start, exc))


class _Numbered:
    """Bare cells from numbered rows (a workbook's), remembering the last row's line."""

    base = 0

    def __init__(self, rows: Iterator[tuple[int, list[str]]]) -> None:
        self.rows = rows
        self.read = 0  # the last row's line

    def __iter__(self) -> Iterator[list[str]]:
        for line, cells in self.rows:
            self.read = line
            yield cells

    def line(self, cells: list[str]) -> int:
        del cells
        return self.read


def _csv_problem(start: int, exc: csv.Error) -> Problem:
    text = str(exc)
    if "field larger than field limit" in text:
        return Problem(
            start,
            "",
            "",
            f"a field is longer than {FIELD_LIMIT:,} characters; the rest of the file was not "
            "read (is a quote left open?)",
        )
    if "unexpected end of data" in text or "EOF" in text:
        return Problem(
            start,
            "",
            "",
            "a quoted field is never closed; the file ends inside it (truncated, or a stray quote)",
        )
    return Problem(start, "", "", f"the row cannot be read as CSV ({text}); reading stopped")


def sheet_names(facts: FileFacts) -> list[str]:
    """The worksheets of a workbook, in order ([] for a text file).

    Raises:
        ImportFileError: the workbook cannot be opened.
    """
    if facts.kind != "xlsx":
        return []
    from openpyxl import load_workbook  # noqa: PLC0415 (only for workbooks)

    try:
        with facts.path.open("rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            book = load_workbook(handle, read_only=True, data_only=True)
            names = list(book.sheetnames)
            book.close()
    except Exception as exc:  # a damaged workbook fails in any of openpyxl's layers
        raise ImportFileError(
            f"{facts.path.name} looks like an Excel workbook but cannot be opened ({_reason(exc)})."
        ) from None
    return names


def _read_xlsx(facts: FileFacts, problems: list[Problem], name: str | None = None) -> Table:
    from openpyxl import load_workbook  # noqa: PLC0415 (only for workbooks)

    # A file object, not the path: openpyxl refuses paths whose extension is not .xlsx.
    handle = facts.path.open("rb")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, styles: not our business
            book = load_workbook(handle, read_only=True, data_only=True)
        if not book.worksheets:
            raise ValueError("it has no worksheet")
        if name is not None and name not in book.sheetnames:
            present = ", ".join(book.sheetnames)
            book.close()
            handle.close()
            raise ImportFileError(
                f"{facts.path.name} has no sheet '{name}' (its sheets: {present})."
            )
        sheet = book.worksheets[0] if name is None else book[name]
        rows = sheet.iter_rows(values_only=True)
        line = 0
        header: list[str] = []
        for values in rows:
            line += 1
            header = [_cell_text(v).strip() for v in values]
            if any(header):
                break
    except ImportFileError:
        raise
    except Exception as exc:  # a damaged workbook fails in any of openpyxl's layers
        handle.close()
        raise ImportFileError(
            f"{facts.path.name} looks like an Excel workbook but cannot be opened ({_reason(exc)})."
            " Is it damaged, password-protected or another kind of zip file?"
        ) from None
    if not any(header):
        book.close()
        handle.close()
        which = "the first sheet" if name is None else f"the sheet '{name}'"
        raise ImportFileError(f"{facts.path.name}: {which} has no header row.")
    while header and not header[-1]:
        header.pop()
    width = len(header)

    def close() -> None:
        book.close()
        handle.close()

    def body() -> Iterator[tuple[int, list[str]]]:
        number = line
        try:
            # Only the header's columns: a sheet may declare all 16,384, and nothing reads
            # cells under no header.  A row ends at its last filled cell; the rest are empty.
            for values in sheet.iter_rows(min_row=line + 1, max_col=width, values_only=True):
                number += 1
                cells = [_cell_text(v) for v in values]
                cells += [""] * (width - len(cells))
                if any(c.strip() for c in cells):
                    yield number, cells
        except Exception as exc:  # a damaged sheet fails while it is being read
            problems.append(
                Problem(number, "", "", f"the sheet cannot be read from here on ({_reason(exc)})")
            )
        finally:
            close()

    return Table(facts, "", header, line, body(), sheet=sheet.title, closer=close)


def _reason(exc: Exception) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _cell_text(value: object) -> str:
    """A workbook cell as text; dates as ISO, whole floats without ".0"."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):
        text = str(isoformat())
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value)
