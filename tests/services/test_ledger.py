"""Tamper detection on a real ledger (both engines): each kind of rewrite is caught by the service
and by ``seatledger ledger verify``, naming the entry and the problem.  Verification streams."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Connection, text

from seatledger import cli
from seatledger.domain.ledger import Problem, entry_hash
from seatledger.domain.licensing import Metric
from seatledger.domain.merkle import BLOCK
from seatledger.errors import Cancelled
from seatledger.progress import Reporter
from seatledger.services import details
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.ledger import scan as ledger_scan_pass
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store import ledger_store
from seatledger.store.db import Database

LEDGER_SIZE = 30


def build_ledger(admin: Services, org: Any) -> int:
    """Thirty entries of every kind through the services (on top of the ``org`` fixture's 14)."""
    seats = admin.seats
    seats.assign(org.acrobat, people=[org.people[0]])
    second = seats.assign(org.acrobat, people=[org.people[1]]).assignment_ids
    seats.assign(org.acrobat, people=[org.people[2]])
    seats.assign(org.sql_server, devices=[org.devices[0]])
    seats.release(second, reason="moved to another team")
    vendor = admin.catalog.add_vendor("Fabrikam")
    product = admin.catalog.add_product(vendor, "Office Suite")
    site = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.SITE, quantity=0, name="Campus")
    )
    seats.assign(site, people=org.people)
    admin.directory.mark_left(org.people[4], dt.date.today(), reason="resigned")
    seats.release_departed()
    current, _ = details.entitlement(admin.ctx, org.acrobat)
    admin.catalog.update_entitlement(
        org.acrobat, dataclasses.replace(current, quantity=5), reason="true-up"
    )
    admin.directory.add_team("Engineering", "CC-200")
    admin.directory.add_device(DeviceInput("ws-01", "SN9", org.people[0], 1, 4))
    admin.directory.update_person(
        org.people[0], PersonInput("E001", "Person One", "one@example.com")
    )
    admin.catalog.add_vendor("Northwind")
    with admin.db.read() as session:
        size, _ = ledger_store.head(session)
    return size


@pytest.fixture
def built(admin: Services, org: Any) -> Database:
    """A database with a 30-entry ledger and its guard triggers dropped (an attacker's view)."""
    assert build_ledger(admin, org) == LEDGER_SIZE
    db = admin.db
    suffix = " ON ledger_entry" if db.dialect == "postgresql" else ""
    with db.engine.begin() as conn:
        for trigger in ("ledger_no_update", "ledger_no_delete"):
            conn.execute(text(f"DROP TRIGGER {trigger}{suffix}"))
        for trigger in ("ledger_block_no_update", "ledger_block_no_delete"):
            conn.execute(text(f"DROP TRIGGER {trigger}{suffix.replace('entry', 'block')}"))
    return db


def _cli_verify(db: Database, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(["ledger", "verify", "--db", db.url])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def _rows(db: Database) -> dict[int, tuple[bytes, bytes, bytes]]:
    with db.engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, body, prev_hash, hash FROM ledger_entry")).all()
    return {int(r[0]): (bytes(r[1]), bytes(r[2]), bytes(r[3])) for r in rows}


def _seq_of(db: Database, action: str) -> int:
    with db.engine.connect() as conn:
        seq = conn.execute(
            text("SELECT min(seq) FROM ledger_entry WHERE action = :a"), {"a": action}
        ).scalar()
    assert seq is not None
    return int(seq)


# ----------------------------------------------------------------------------------- tampering


@dataclass(frozen=True)
class Expected:
    seq: int
    problem: Problem
    detail: str = ""


def edit_body(db: Database) -> Expected:
    seq = _seq_of(db, "entitlement.create")
    body = _rows(db)[seq][0]
    forged = body.replace(b'"quantity":3', b'"quantity":300')
    assert forged != body
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE ledger_entry SET body = :b WHERE seq = :s"), {"b": forged, "s": seq}
        )
    return Expected(seq, Problem.EDITED)


def edit_indexed_column(db: Database) -> Expected:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET operator = 'mallory' WHERE seq = 10"))
    return Expected(10, Problem.COLUMNS)


def delete_middle(db: Database) -> Expected:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entry WHERE seq = 15"))
    return Expected(15, Problem.MISSING, "expected entry 15, found entry 16")


def swap_two(db: Database) -> Expected:
    with db.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entry SET seq = -1 WHERE seq = 12"))
        conn.execute(text("UPDATE ledger_entry SET seq = 12 WHERE seq = 13"))
        conn.execute(text("UPDATE ledger_entry SET seq = 13 WHERE seq = -1"))
    return Expected(12, Problem.REORDERED)


def truncate_tail(db: Database) -> Expected:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entry WHERE seq > :n"), {"n": LEDGER_SIZE - 3})
    return Expected(LEDGER_SIZE - 2, Problem.TRUNCATED, f"{LEDGER_SIZE - 3} entries present")


def delete_head_record(db: Database) -> Expected:
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_head"))
    return Expected(1, Problem.TRUNCATED, "head record is missing")


def rechain_tail(db: Database) -> Expected:
    # Edit entry 20 and recompute every hash after it: the chain is self-consistent again and
    # only the recorded head betrays it.  An attacker who also rewrites the head record is caught
    # only by an external, signed checkpoint (see test_rewritten_head_needs_a_checkpoint).
    _rechain_from(db, 20)
    return Expected(LEDGER_SIZE, Problem.EDITED, "recorded head")


def _rechain_from(db: Database, start: int) -> bytes:
    rows = _rows(db)
    prev = rows[start - 1][2]
    with db.engine.begin() as conn:
        for seq in range(start, LEDGER_SIZE + 1):
            body = rows[seq][0]
            if seq == start:
                body = body.replace(b'"reason":"', b'"reason":"forged ', 1)
                assert body != rows[seq][0]
            digest = entry_hash(seq, prev, body)
            conn.execute(
                text("UPDATE ledger_entry SET body = :b, prev_hash = :p, hash = :h WHERE seq = :s"),
                {"b": body, "p": prev, "h": digest, "s": seq},
            )
            prev = digest
    return prev


def edit_tree_edge(db: Database) -> Expected:
    # The tree's right edge stored with the head: a forged root would prove forged entries.
    with db.engine.begin() as conn:
        edge = bytes(conn.execute(text("SELECT frontier FROM ledger_head")).scalar_one())
        forged = bytes(32) + edge[32:]
        conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": forged})
    return Expected(LEDGER_SIZE, Problem.TREE, "right edge")


def add_tree_block(db: Database) -> Expected:
    # A block root for entries the ledger does not hold yet (LEDGER_SIZE < 32).
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO ledger_block (idx, hash) VALUES (0, :h)"), {"h": bytes(32)})
    return Expected(1, Problem.TREE, "entries 1-32, which are not recorded")


TAMPERS: dict[str, Callable[[Database], Expected]] = {
    "edited body": edit_body,
    "edited indexed column": edit_indexed_column,
    "deleted entry": delete_middle,
    "swapped entries": swap_two,
    "truncated tail": truncate_tail,
    "deleted head record": delete_head_record,
    "re-chained tail": rechain_tail,
    "edited tree edge": edit_tree_edge,
    "forged tree block": add_tree_block,
}


def _snapshot(db: Database) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    with db.engine.connect() as conn:
        entries = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM ledger_entry"))]
        head = [dict(r._mapping) for r in conn.execute(text("SELECT * FROM ledger_head"))]
        assert not conn.execute(text("SELECT * FROM ledger_block")).all()  # fewer than 32
    return entries, head


def _restore(db: Database, snapshot: tuple[list[dict[str, Any]], list[dict[str, Any]]]) -> None:
    entries, head = snapshot
    with db.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entry"))
        conn.execute(text("DELETE FROM ledger_head"))
        conn.execute(text("DELETE FROM ledger_block"))
        conn.execute(
            text(
                "INSERT INTO ledger_entry (seq, ts, operator, action, entity_type, entity_id, "
                "body, prev_hash, hash) VALUES (:seq, :ts, :operator, :action, :entity_type, "
                ":entity_id, :body, :prev_hash, :hash)"
            ),
            entries,
        )
        conn.execute(
            text(
                "INSERT INTO ledger_head (id, size, head, frontier) "
                "VALUES (:id, :size, :head, :frontier)"
            ),
            head,
        )


def test_each_kind_of_tampering_is_detected_and_named(
    built: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    intact = ledger.verify(built)
    assert intact.ok
    assert intact.entries == LEDGER_SIZE
    with built.read() as session:
        assert intact.head == ledger_store.head(session)[1]
    code, output = _cli_verify(built, capsys)
    assert code == 0, output
    assert f"Ledger intact: {LEDGER_SIZE} entries, head {intact.head.hex()}" in output
    with built.read() as session:
        _size, _head, root = ledger_store.checkpoint(session)
    assert f", Merkle root {root.hex()} (verified in" in output  # what a report would sign

    original = _snapshot(built)
    for kind, tamper in TAMPERS.items():
        expected = tamper(built)

        verdict = ledger.verify(built)
        assert verdict.failure is not None, kind
        found = (verdict.failure.seq, verdict.failure.problem)
        assert found == (expected.seq, expected.problem), kind
        assert expected.detail in verdict.failure.detail, kind

        code, output = _cli_verify(built, capsys)
        assert code == 1, (kind, output)
        assert "Ledger BROKEN" in output, kind
        assert f"entry {expected.seq} is {expected.problem.value}" in output, (kind, output)

        _restore(built, original)
        assert ledger.verify(built) == intact, f"restoring after {kind}"


def test_rewritten_head_needs_a_checkpoint(built: Database) -> None:
    """A full rewrite (tail re-chained and head record updated) passes the internal checks.

    That is why reports carry a signed checkpoint: the head an auditor saw before no longer
    matches, which is the only thing that reveals it.
    """
    checkpoint = ledger.verify(built).head
    new_head = _rechain_from(built, 20)
    with built.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_head SET head = :h"), {"h": new_head})
    verdict = ledger.verify(built)
    assert verdict.failure is not None  # the tree's right edge still holds the old hashes
    assert verdict.failure.problem is Problem.TREE
    with built.engine.begin() as conn:  # ... until the attacker rebuilds it too
        edge = ledger_store.rebuild_frontier(conn, LEDGER_SIZE).to_bytes()
        conn.execute(text("UPDATE ledger_head SET frontier = :f"), {"f": edge})
    verdict = ledger.verify(built)
    assert verdict.ok
    assert verdict.entries == LEDGER_SIZE
    assert verdict.head != checkpoint


# ---------------------------------------------------------------------------------- streaming


def test_verification_streams_in_batches_and_can_be_cancelled(
    built: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 7)
    seen: list[int | str] = []
    reporter = Reporter(lambda done, _total: seen.append(done), stage=seen.append)

    assert ledger.verify(built, progress=reporter).ok
    # One pass: the tree's blocks are checked from the same batches as the chain.
    assert seen == [7, 14, 21, 28, 30]

    with built.engine.connect() as conn:
        assert [entry[0] for entry in ledger_store.stream(conn)] == list(range(1, LEDGER_SIZE + 1))
        assert [entry[0] for entry in ledger_store.stream(conn, upto=9)] == list(range(1, 10))

    calls: list[int] = []

    def cancel_after_two(done: int, total: int) -> None:
        calls.append(done)
        assert total == LEDGER_SIZE
        if len(calls) == 2:
            cancelling.cancel()  # the user cancels: the next report raises

    cancelling = Reporter(cancel_after_two)
    with pytest.raises(Cancelled, match="cancelled"):
        ledger.verify(built, progress=cancelling)
    assert calls == [7, 14]
    assert ledger.verify(built).ok


def test_verification_pauses_the_cycle_collector_and_leaves_it_as_it_found_it(
    built: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each batch's rows are thousands of tuples: with the collector running, its full passes
    # over every object the program holds cost a quarter of the time (see collector_paused).
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 7)
    during: list[bool] = []
    assert gc.isenabled()
    assert ledger.verify(built, progress=Reporter(lambda _d, _t: during.append(gc.isenabled()))).ok
    assert during == [False] * 5
    assert gc.isenabled()
    gc.disable()
    try:
        assert ledger.verify(built).ok
        assert not gc.isenabled()  # a caller's choice is left alone
    finally:
        gc.enable()


def _driver_in_transaction(conn: Connection) -> bool:
    raw = conn.connection.driver_connection
    if isinstance(raw, sqlite3.Connection):
        return raw.in_transaction
    return str(raw.info.transaction_status.name) != "IDLE"  # type: ignore[union-attr]


def test_stream_holds_no_transaction_between_batches(
    built: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A verification of a million entries must not pin one long transaction (SQLite's WAL could
    # not checkpoint; PostgreSQL would keep an idle-in-transaction session).
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 7)
    with built.engine.connect() as conn:
        entries = ledger_store.stream(conn)
        for _ in range(8):  # the first batch and one entry of the second
            next(entries)
            assert not _driver_in_transaction(conn)
        assert sum(1 for _ in entries) == LEDGER_SIZE - 8


def test_stream_issues_one_bounded_query_per_batch(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    actor = operators.create_first_administrator(sqlite_db, "admin", "", "secret lantern harbor")
    admin = Services.for_actor(sqlite_db, actor)
    for n in range(LEDGER_SIZE - 1):
        admin.catalog.add_vendor(f"Vendor {n}")
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 8)
    statements: list[str] = []
    with sqlite_db.engine.connect() as conn:
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        raw.set_trace_callback(statements.append)
        try:
            entries = list(ledger_store.stream(conn))
        finally:
            raw.set_trace_callback(None)
    selects = [s for s in statements if "FROM ledger_entry" in s]
    assert len(entries) == LEDGER_SIZE
    # 8 + 8 + 8 + 6 rows, then one empty query ends the stream.
    assert len(selects) == 5
    assert all("LIMIT 8" in s for s in selects)


# ------------------------------------------------------------------------------ helper process


def _tamper(db: Database, sql: str, **values: Any) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(sql), values)


@pytest.mark.parametrize("victim", ["body", "column", "block"])
def test_a_started_helper_checks_the_second_half_as_one_pass_would(
    admin: Services, monkeypatch: pytest.MonkeyPatch, victim: str
) -> None:
    # The window's process has threads, so it may not fork: the second half of a large ledger
    # goes to a fresh interpreter instead, which must name the same entry a single pass names.
    for number in range(100):
        admin.catalog.add_vendor(f"Vendor {number}")
    db = admin.db
    size = ledger.verify(db).entries
    assert size >= 3 * BLOCK  # the helper's half holds whole blocks
    monkeypatch.setattr(ledger, "PARALLEL_FROM", 10)
    monkeypatch.setattr(ledger, "can_fork", lambda: False)
    started: list[list[str]] = []
    popen = subprocess.Popen

    def recorded(command: list[str], **kwargs: Any) -> Any:
        started.append(command)
        return popen(command, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", recorded)
    verdict = ledger.verify(db)
    assert verdict.ok
    assert verdict.entries == size
    assert started
    assert started[-1][1:3] == ["-m", "seatledger.services.ledger.scan"]

    suffix = " ON ledger_entry" if db.dialect == "postgresql" else ""
    _tamper(db, f"DROP TRIGGER ledger_no_update{suffix}")
    _tamper(db, f"DROP TRIGGER ledger_block_no_update{suffix.replace('entry', 'block')}")
    seq = size - 5  # in the helper's half
    if victim == "body":
        with db.engine.connect() as conn:
            body = bytes(
                conn.execute(
                    text("SELECT body FROM ledger_entry WHERE seq = :s"), {"s": seq}
                ).scalar_one()
            )
        _tamper(
            db,
            "UPDATE ledger_entry SET body = :b WHERE seq = :s",
            b=body.replace(b'"v":1', b'"v":2'),
            s=seq,
        )
        expected = (seq, Problem.EDITED)
    elif victim == "column":
        _tamper(db, "UPDATE ledger_entry SET entity_id = 'x' WHERE seq = :s", s=seq)
        expected = (seq, Problem.COLUMNS)
    else:
        block = size // BLOCK - 1
        _tamper(db, "UPDATE ledger_block SET hash = :h WHERE idx = :i", h=bytes(32), i=block)
        expected = (block * BLOCK + 1, Problem.TREE)
    helped = ledger.verify(db)
    assert helped.failure is not None
    assert (helped.failure.seq, helped.failure.problem) == expected
    monkeypatch.setattr(ledger, "PARALLEL_FROM", 10**9)
    assert ledger.verify(db) == helped  # one pass says the same


@pytest.mark.parametrize("helper", ["cannot start", "fails"])
def test_without_a_working_helper_this_process_checks_everything(
    admin: Services, monkeypatch: pytest.MonkeyPatch, helper: str
) -> None:
    for number in range(100):
        admin.catalog.add_vendor(f"Vendor {number}")
    db = admin.db
    size = ledger.verify(db).entries
    monkeypatch.setattr(ledger, "PARALLEL_FROM", 10)
    monkeypatch.setattr(ledger, "can_fork", lambda: False)
    executable = "/nonexistent/python" if helper == "cannot start" else shutil.which("false")
    assert executable is not None
    monkeypatch.setattr(ledger.sys, "executable", executable)
    seen: list[int] = []
    verdict = ledger.verify(db, progress=Reporter(lambda done, _total: seen.append(done)))
    assert verdict.ok
    assert verdict.entries == size
    assert seen[-1] == size
    suffix = " ON ledger_entry" if db.dialect == "postgresql" else ""
    _tamper(db, f"DROP TRIGGER ledger_no_update{suffix}")
    _tamper(db, "UPDATE ledger_entry SET entity_id = 'x' WHERE seq = :s", s=size - 1)
    verdict = ledger.verify(db)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (size - 1, Problem.COLUMNS)


ODD_IDS = ['quote " inside', "back\\slash", "new\nline", "tab\tand\x01", "Zoë Ångström", "日本"]


def test_columns_that_need_json_escapes_verify_and_their_edits_are_caught(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Storage concatenates the indexed columns without JSON escaping for the fast check; an
    # entry whose columns need escapes is checked the exact way, in whichever batch it falls.
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 4)
    with database.write() as session:
        for number in range(12):
            odd = ODD_IDS[number % len(ODD_IDS)] if number % 2 else str(number)
            ledger_store.append(
                session,
                ts=f"2026-01-01T00:00:{number:02d}.000000Z",
                operator="op\\erator" if number == 7 else "admin",
                role="administrator",
                action="vendor.create",
                entity_type="vendor",
                entity_id=odd,
                reason="",
                before=None,
                after={"name": f"Vendor {number}"},
            )
    verdict = ledger.verify(database)
    assert verdict.ok, verdict.failure
    assert verdict.entries == 12
    suffix = " ON ledger_entry" if database.dialect == "postgresql" else ""
    _tamper(database, f"DROP TRIGGER ledger_no_update{suffix}")
    _tamper(database, "UPDATE ledger_entry SET entity_id = :v WHERE seq = 6", v="back\\slash ")
    verdict = ledger.verify(database)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (6, Problem.COLUMNS)


def test_a_body_with_a_backslash_is_vouched_for_by_its_prefixes_not_entry_by_entry(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A Windows path in a reason puts a backslash in the body: where the body holds the columns'
    # prefix then proves nothing (see intact_located), so that batch is read again with the
    # prefixes themselves; its plain columns are vouched for there, never entry by entry.
    monkeypatch.setattr(ledger_store, "STREAM_BATCH", 4)
    with database.write() as session:
        for number in range(12):
            ledger_store.append(
                session,
                ts=f"2026-01-01T00:00:{number:02d}.000000Z",
                operator="admin",
                role="administrator",
                action="vendor.create",
                entity_type="vendor",
                entity_id=str(number),
                reason="installed under C:\\Program Files\\Vendor" if number == 6 else "",
                before=None,
                after={"name": f"Vendor {number}"},
            )
    one_by_one: list[int] = []
    exact = ledger_scan_pass.verify_chain

    def counted(entries: Any, **kwargs: Any) -> Any:
        listed = list(entries)
        one_by_one.extend(entry[0] for entry in listed)
        return exact(listed, **kwargs)

    monkeypatch.setattr(ledger_scan_pass, "verify_chain", counted)
    verdict = ledger.verify(database)
    assert verdict.ok, verdict.failure
    assert verdict.entries == 12
    assert one_by_one == []
    suffix = " ON ledger_entry" if database.dialect == "postgresql" else ""
    _tamper(database, f"DROP TRIGGER ledger_no_update{suffix}")
    _tamper(database, "UPDATE ledger_entry SET operator = 'auditor' WHERE seq = 6")
    verdict = ledger.verify(database)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (6, Problem.COLUMNS)
    assert one_by_one == [5, 6, 7, 8]  # the batch that holds the edit, entry by entry
