"""The files of an export made of several tables, opened one by one: what the RVTools and
Hyper-V readers share around :mod:`seatledger.ingest.sheets`.

Each file is sniffed (its SHA-256 kept for the import's record) before its tables are opened;
if reading the files fails with an :class:`ImportFileError`, every table opened so far is closed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType

from seatledger.ingest.sheets import Layout, Sheet, open_sheet
from seatledger.ingest.tabular import FileFacts, ImportFileError, Problem, read_table, sniff


class SheetFiles:
    """The sheets opened so far, by kind, and the digests of the files read; used as a context
    manager, it closes every sheet's table when an :class:`ImportFileError` leaves it."""

    def __init__(self) -> None:
        self.sheets: dict[str, Sheet] = {}
        self._digests: list[str] = []

    @property
    def digests(self) -> tuple[str, ...]:
        """The SHA-256 of each file read, in the order given."""
        return tuple(self._digests)

    def files(self, paths: Sequence[Path]) -> Iterator[tuple[Path, FileFacts]]:
        """Each path with what sniffing it found, its digest kept."""
        for path in paths:
            facts = sniff(path)
            self._digests.append(facts.sha256)
            yield path, facts

    def open_table(
        self,
        path: Path,
        facts: FileFacts,
        problems: list[Problem],
        *,
        kind_of: Callable[[list[str]], str | None],
        layouts: Mapping[str, Layout],
        refused: str,
    ) -> Sheet:
        """A file read as one table, its kind told from its header by ``kind_of``.

        Raises:
            ImportFileError: the header is of no kind (``refused``: why, after the file's name).
        """
        table = read_table(facts, problems)
        kind = kind_of(table.header)
        if kind is None:
            table.close()
            raise ImportFileError(f"{path.name} {refused}")
        return open_sheet(kind, path.name, table, layouts[kind])

    def __enter__(self) -> SheetFiles:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if isinstance(error, ImportFileError):
            for opened in self.sheets.values():
                opened.table.close()
