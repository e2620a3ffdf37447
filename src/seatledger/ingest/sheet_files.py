"""The files of an export made of several tables, opened one by one: what the RVTools and
Hyper-V readers share around :mod:`seatledger.ingest.sheets`.

Each file is sniffed (its SHA-256 kept for the import's record) before its tables are opened;
if reading the files fails with an :class:`ImportFileError`, every table opened so far is closed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType

from seatledger.ingest.sheets import Sheet
from seatledger.ingest.tabular import FileFacts, ImportFileError, sniff


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
