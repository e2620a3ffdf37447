"""Provenance by line: every install and checkout keeps the import and the line of its file it
was read from, the position's drill-down names them (file, SHA-256, line) and the audit
bundle's sources.csv lists, per product, the imports and lines its figures rest on.

The lines below are counted by hand from the files written here (line 1 is the header).
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from sqlalchemy import select, text

from seatledger.domain.licensing import Metric
from seatledger.ingest.formats import Kind
from seatledger.services.audits.bundle.tables import (
    Pseudonyms,
    TableScope,
    line_ranges,
    write_tables,
)
from seatledger.services.imports.importers import _packed
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Column, PositionService
from seatledger.services.position.sources import LINE_NOT_RECORDED
from seatledger.store.db import Database
from seatledger.store.models import Device, Installation, SoftwareTitle, UsageSession

TODAY = dt.date.today()

# Line 1 the header; WS-1 twice (lines 2 and 8: the last row listing a pair is its line); a
# quoted publisher spanning lines 4 and 5 (the row starts on 4); a blank row on line 6.
INVENTORY = (
    "Host name,Title,Publisher,Install date\n"
    "WS-1,Word,Microsoft,2026-01-02\n"
    "WS-2,Word,Microsoft,\n"
    'WS-3,Word,"Micro\nsoft",\n'
    ",,,\n"
    "WS-4,Word,Microsoft,2026-01-05\n"
    "WS-1,Word,Microsoft,2026-01-03\n"
)


def _write(folder: Path, name: str, data: str) -> tuple[Path, str]:
    path = folder / name
    path.write_bytes(data.encode("utf-8"))
    return path, hashlib.sha256(data.encode("utf-8")).hexdigest()


def _lines(db: Database) -> dict[tuple[str, str, str], tuple[int, int | None]]:
    """(host, title, publisher) -> (import id, line) of the open installs."""
    with db.read() as session:
        rows = session.execute(
            select(
                Device.hostname,
                SoftwareTitle.title,
                SoftwareTitle.publisher,
                Installation.import_id,
                Installation.source_line,
            )
            .join(Installation, Installation.device_id == Device.id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .where(Installation.removed_on.is_(None))
        ).all()
    return {(h, t, p): (i, n) for h, t, p, i, n in rows}


def _word(admin: Services) -> int:
    vendor = admin.catalog.add_vendor("Microsoft")
    word = admin.catalog.add_product(vendor, "Word")
    admin.rules.add(RuleInput(word, "Word"))
    return word


def test_installs_keep_the_line_of_the_row_that_listed_them(
    admin: Services, tmp_path: Path
) -> None:
    path, _ = _write(tmp_path, "inventory-2026-11.csv", INVENTORY)
    first = admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    a = first.batch_id
    assert _lines(admin.db) == {
        ("WS-1", "Word", "Microsoft"): (a, 8),
        ("WS-2", "Word", "Microsoft"): (a, 3),
        ("WS-3", "Word", "Micro\nsoft"): (a, 4),
        ("WS-4", "Word", "Microsoft"): (a, 7),
    }
    # The same tool's next export: WS-1 is known now, so its rows take the staged path; an
    # install already open keeps the import and line that first listed it, a new one gets this
    # file's line.
    second = (
        "Host name,Title,Publisher,Install date\n"
        "WS-1,Excel,Microsoft,\n"
        "WS-1,Word,Microsoft,\n"
        "WS-9,Visio,Microsoft,\n"
    )
    path, _ = _write(tmp_path, "inventory-2026-12.csv", second)
    b = admin.imports.commit(path, ImportOptions(Kind.INVENTORY)).batch_id
    lines = _lines(admin.db)
    assert lines[("WS-1", "Word", "Microsoft")] == (a, 8)
    assert lines[("WS-1", "Excel", "Microsoft")] == (b, 2)
    assert lines[("WS-9", "Visio", "Microsoft")] == (b, 4)


def test_packing_falls_back_when_a_line_does_not_fit() -> None:
    """Keys and lines share one int64 on SQLite's fast path only when they fit in 63 bits."""
    keys = np.array([(5 << 32) | 7, (100_000 << 32) | 9_000], dtype=np.int64)
    packed = _packed(keys, np.array([2, 1_000_000], dtype=np.int64))
    assert packed is not None
    listing, (title_bits, devices, titles, shift) = packed
    values = [int(v) for v in listing.strip("[]").split(",")]
    assert [((v >> title_bits) & devices, v & titles, v >> shift) for v in values] == [
        (5, 7, 2),
        (100_000, 9_000, 1_000_000),
    ]
    assert _packed(keys, np.array([2, 1 << 40], dtype=np.int64)) is None


def test_sessions_keep_their_line_and_take_the_newest_listing(
    admin: Services, tmp_path: Path
) -> None:
    start = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(8), tzinfo=dt.UTC)
    stamp = [(start + dt.timedelta(hours=h)).isoformat() for h in range(6)]
    usage = (
        "user,product,host,checkout,checkin\n"
        f"ann,Word,WS-1,{stamp[0]},{stamp[2]}\n"
        f"bob,Word,WS-2,{stamp[1]},\n"
        f"cy,Word,WS-3,{stamp[3]},{stamp[4]}\n"
    )
    path, _ = _write(tmp_path, "usage-1.csv", usage)
    a = admin.imports.commit(path, ImportOptions(Kind.USAGE)).batch_id
    # bob's checkout again, now returned, two lines further down in a newer file.
    again = (
        "user,product,host,checkout,checkin\n"
        f"dee,Word,WS-4,{stamp[4]},{stamp[5]}\n"
        f"eve,Word,WS-5,{stamp[4]},{stamp[5]}\n"
        f"bob,Word,WS-2,{stamp[1]},{stamp[3]}\n"
    )
    path, _ = _write(tmp_path, "usage-2.csv", again)
    b = admin.imports.commit(path, ImportOptions(Kind.USAGE)).batch_id
    with admin.db.read() as session:
        rows = dict(session.execute(select(UsageSession.user_name, UsageSession.source_line)).all())
        owners = dict(session.execute(select(UsageSession.user_name, UsageSession.import_id)).all())
    assert rows == {"ann": 2, "bob": 4, "cy": 4, "dee": 2, "eve": 3}
    assert owners == {"ann": a, "bob": b, "cy": a, "dee": b, "eve": b}


def test_the_drill_down_names_file_hash_and_line(admin: Services, tmp_path: Path) -> None:
    word = _word(admin)
    path, sha = _write(tmp_path, "inventory-2026-11.csv", INVENTORY)
    batch = admin.imports.commit(path, ImportOptions(Kind.INVENTORY)).batch_id
    service = PositionService(admin.ctx)
    needed, total = service.holders(word, Metric.PER_DEVICE, Column.NEEDED, TODAY)
    assert total == 4
    where = f"inventory-2026-11.csv (SHA-256 {sha[:12]}…)"
    assert {h.name: h.source for h in needed} == {
        "WS-1": f"{where}, line 8",
        "WS-2": f"{where}, line 3",
        "WS-3": f"{where}, line 4",
        "WS-4": f"{where}, line 7",
    }
    loose, _ = service.holders(word, Metric.PER_DEVICE, Column.UNLICENSED, TODAY)
    assert {h.name: h.source for h in loose}["WS-2"] == f"{where}, line 3"

    # Installs imported before lines were kept say so; nothing is invented for them.
    with admin.db.engine.begin() as conn:
        conn.execute(
            text("UPDATE installation SET source_line = NULL WHERE import_id = :b"), {"b": batch}
        )
    needed, _ = service.holders(word, Metric.PER_DEVICE, Column.NEEDED, TODAY)
    assert {h.source for h in needed} == {f"{where}, {LINE_NOT_RECORDED}"}
    assert LINE_NOT_RECORDED.startswith("line not recorded (imported before")


def test_checkouts_in_the_drill_down_name_their_line(admin: Services, tmp_path: Path) -> None:
    word = _word(admin)
    start = dt.datetime.combine(TODAY - dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC)
    usage = (
        "user,product,host,checkout,checkin\n"
        f"ann,Word,WS-1,{start.isoformat()},{(start + dt.timedelta(hours=1)).isoformat()}\n"
        f"bob,Word,WS-2,{(start + dt.timedelta(hours=2)).isoformat()},\n"
    )
    path, sha = _write(tmp_path, "lmstat-usage.csv", usage)
    admin.imports.commit(path, ImportOptions(Kind.USAGE))
    rows, total = PositionService(admin.ctx).holders(word, Metric.CONCURRENT, Column.NEEDED, TODAY)
    assert total == 2
    assert {h.name: h.source for h in rows} == {
        "ann on WS-1": f"lmstat-usage.csv (SHA-256 {sha[:12]}…), line 2",
        "bob on WS-2": f"lmstat-usage.csv (SHA-256 {sha[:12]}…), line 3",
    }


class _Folder:
    """The bundle's tables written into a plain folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @contextmanager
    def file(self, name: str) -> Iterator[Callable[[bytes], None]]:
        with (self.folder / name).open("wb") as handle:
            yield handle.write


def _csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_bundle_lists_the_imports_and_lines_behind_each_product(
    admin: Services, tmp_path: Path
) -> None:
    word = _word(admin)
    inventory, inventory_sha = _write(tmp_path, "inventory-2026-11.csv", INVENTORY)
    installs = admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY)).batch_id
    start = dt.datetime.combine(TODAY - dt.timedelta(days=2), dt.time(9), tzinfo=dt.UTC)
    old = start - dt.timedelta(days=200)  # outside the concurrent window: not evidence
    usage = (
        "user,product,host,checkout,checkin\n"
        f"ann,Word,WS-1,{start.isoformat()},{(start + dt.timedelta(hours=1)).isoformat()}\n"
        f"old,Word,WS-1,{old.isoformat()},{(old + dt.timedelta(hours=1)).isoformat()}\n"
        f"bob,Word,WS-2,{start.isoformat()},\n"
        f"cy,Word,WS-3,{start.isoformat()},\n"
    )
    sessions_file, usage_sha = _write(tmp_path, "usage.csv", usage)
    checkouts = admin.imports.commit(sessions_file, ImportOptions(Kind.USAGE)).batch_id
    folder = tmp_path / "bundle"
    folder.mkdir()
    with admin.db.read() as session:
        counts = write_tables(
            session, _Folder(folder), TableScope(0, (word,), ()), TODAY, Pseudonyms(None)
        )

    deployments = _csv(folder / "deployments.csv")
    assert {(r["Device"], r["Import id"], r["Line"]) for r in deployments} == {
        ("WS-1", str(installs), "8"),
        ("WS-2", str(installs), "3"),
        ("WS-3", str(installs), "4"),
        ("WS-4", str(installs), "7"),
    }
    sources = _csv(folder / "sources.csv")
    assert counts["sources"] == len(sources) == 2
    assert [
        (
            r["Product"],
            r["Evidence"],
            r["Import id"],
            r["File"],
            r["SHA-256"],
            r["Rows"],
            r["Rows without a line"],
            r["Lines"],
        )
        for r in sources
    ] == [
        (
            "Word",
            "installs",
            str(installs),
            "inventory-2026-11.csv",
            inventory_sha,
            "4",
            "0",
            "3-4, 7-8",
        ),
        ("Word", "checkouts", str(checkouts), "usage.csv", usage_sha, "3", "0", "2, 4-5"),
    ]


def test_line_ranges() -> None:
    assert line_ranges([9, 2, 3, 4, 4, 0, 11]) == ["2-4", "9", "11"]
    assert line_ranges([0, 0]) == []


def test_a_pair_listed_twice_without_dates_keeps_its_last_line(
    admin: Services, tmp_path: Path
) -> None:
    """Without a date column the pairs are collapsed another way (the highest line wins), for
    new devices and for devices with installs alike."""
    path, _ = _write(tmp_path, "a.csv", "Host name,Title\nWS-1,Word\nWS-2,Word\nWS-1,Word\n")
    a = admin.imports.commit(path, ImportOptions(Kind.INVENTORY)).batch_id
    path, _ = _write(
        tmp_path, "b.csv", "Host name,Title\nWS-2,Excel\nWS-2,Word\nWS-2,Excel\nWS-2,Excel\n"
    )
    b = admin.imports.commit(path, ImportOptions(Kind.INVENTORY)).batch_id
    assert _lines(admin.db) == {
        ("WS-1", "Word", ""): (a, 4),
        ("WS-2", "Word", ""): (a, 3),
        ("WS-2", "Excel", ""): (b, 5),
    }
