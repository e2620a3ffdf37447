"""Database errors are told apart by SQLite's result code and PostgreSQL's SQLSTATE."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import IntegrityError

from seatledger.store.faults import Fault, classify

SCHEMA = (
    "CREATE TABLE a (id INTEGER PRIMARY KEY, x INTEGER UNIQUE, y INTEGER NOT NULL DEFAULT 1 "
    "CHECK (y > 0))",
    "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES a (id))",
)


@pytest.mark.parametrize(
    ("statement", "fault"),
    [
        ("INSERT INTO a (id, x) VALUES (2, 1)", Fault.UNIQUE),
        ("INSERT INTO a (id, x) VALUES (1, 5)", Fault.UNIQUE),
        ("INSERT INTO b (id, a_id) VALUES (1, 9)", Fault.FOREIGN_KEY),
        ("INSERT INTO a (id, x, y) VALUES (3, 3, -1)", Fault.CHECK),
        ("INSERT INTO a (id, x, y) VALUES (4, 4, NULL)", Fault.NOT_NULL),
    ],
)
def test_constraint_failures_by_code_on_both_engines(
    db_url: str, statement: str, fault: Fault
) -> None:
    engine = create_engine(db_url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", lambda dbapi, _: dbapi.execute("PRAGMA foreign_keys = ON"))
    try:
        with engine.begin() as conn:
            for ddl in SCHEMA:
                conn.exec_driver_sql(ddl)
            conn.exec_driver_sql("INSERT INTO a (id, x) VALUES (1, 1)")
        with engine.connect() as conn, pytest.raises(IntegrityError) as info:
            conn.execute(text(statement))
        assert classify(info.value) is fault
    finally:
        engine.dispose()


def test_files_that_cannot_be_databases(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello " * 200)
    with pytest.raises(sqlite3.DatabaseError) as info:
        sqlite3.connect(tmp_path / "notes.txt").execute("SELECT 1 FROM sqlite_master")
    assert classify(info.value) is Fault.NOT_A_DATABASE
    with pytest.raises(sqlite3.OperationalError) as missing:
        sqlite3.connect(tmp_path / "no-such-folder" / "x.sqlite")
    assert classify(missing.value) is Fault.CANNOT_OPEN


def test_a_message_alone_says_nothing() -> None:
    assert classify(RuntimeError("database is locked")) is Fault.OTHER
