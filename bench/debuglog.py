"""A year of FlexNet debug log imported as usage, beside a raw executemany of the same sessions.

``bench/run.py --only debuglog`` calls :func:`debuglog_rows`; alone, ``python bench/debuglog.py
[LINES]`` prints the same figures (5,000,000 lines by default).  The log is synthetic: 50 features,
2,000 users, one vendor daemon, a year of working days with sessions across midnight, TIMESTAMP
lines every six hours, denials, and the daemon restarted on the first of each month.  It is
written once into ``bench/.cache``.

- import: ``services.imports.commit`` of the log into a small demo database whose normalization
  rules map the 50 features to products (a child process: its own peak RSS, VmHWM);
- raw baseline: plain sqlite3 executemany of the very sessions the reader yields into the same
  ``usage_session`` table and indexes (the demo's DDL), one transaction, WAL and synchronous=FULL;
  only executemany and the commit are timed;
- position: ``PositionService.position`` on the last day of the log (the concurrent peak over 90
  days of sessions), in the same child after the import.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache"
LINES = 5_000_000
FEATURES = 50
USERS = 2_000
YEAR = 2025
SEED = 2026
CHUNK = 50_000


def _features() -> list[str]:
    return [f"SIM_FEATURE_{n:02d}" for n in range(FEATURES)]


def write_log(path: Path, lines: int) -> None:
    """A year of one vendor daemon's debug log, about ``lines`` lines long."""
    rng = random.Random(SEED)
    features = _features()
    weights = [1 / (n + 1) ** 0.7 for n in range(FEATURES)]
    users = [f"user{n:04d}" for n in range(USERS)]
    hosts = [f"ws-{n:04d}" for n in range(USERS)]
    days = 365
    per_day = lines / days
    sessions_per_day = int((per_day - 8) / 2.04)  # 2 lines a session, 1 denial in 50
    pending: dict[int, list[tuple[int, str]]] = {}
    start = dt.date(YEAR, 1, 1)
    temporary = path.with_suffix(".tmp")
    with temporary.open("w", encoding="ascii", newline="\n") as out:
        out.write(f"{0:2d}:00:01 (lmgrd) TIMESTAMP {start.month}/{start.day}/{start.year}\n")
        for day in range(days):
            date = start + dt.timedelta(days=day)
            events = pending.pop(day, [])
            stamp = f"{date.month}/{date.day}/{date.year}"
            for hour in (0, 6, 12, 18):
                events.append((hour * 3600 + 2, f"(lmgrd) TIMESTAMP {stamp}"))
                events.append((hour * 3600 + 3, f"(MLM) TIMESTAMP {stamp}"))
            if date.day == 1 and day:
                events.append((3 * 3600, "(lmgrd) REStarted MLM (internet tcp_port 27010 pid 77)"))
            chosen = rng.choices(range(FEATURES), weights, k=sessions_per_day)
            for feature in chosen:
                who = rng.randrange(USERS)
                host = hosts[who] if rng.random() < 0.9 else hosts[(who + 7) % USERS]
                begin = int(rng.triangular(6.5 * 3600, 21 * 3600, 9 * 3600))
                end = begin + int(rng.expovariate(1 / 5400)) + 30
                licenses = "  (4 licenses)" if feature % 17 == 3 else "  "
                name = features[feature]
                events.append((begin, f'(MLM) OUT: "{name}" {users[who]}@{host}{licenses}'))
                checkin = f'(MLM) IN: "{name}" {users[who]}@{host}{licenses}'
                if end < 86_400:
                    events.append((end, checkin))
                else:
                    pending.setdefault(day + end // 86_400, []).append((end % 86_400, checkin))
                if rng.random() < 0.02:
                    other = users[rng.randrange(USERS)]
                    events.append(
                        (
                            begin,
                            f'(MLM) DENIED: "{name}" {other}@ws-x  (Licensed number of users '
                            "already reached. (-4,342))",
                        )
                    )
            events.sort(key=lambda event: event[0])
            out.writelines(
                f"{secs // 3600:2d}:{secs // 60 % 60:02d}:{secs % 60:02d} {text}\n"
                for secs, text in events
            )
    temporary.replace(path)


def log_file(lines: int) -> Path:
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"debuglog-{lines}.log"
    if not path.exists():
        write_log(path, lines)
    return path


def demo_database(path: Path) -> None:
    """A small demo (an administrator to sign in as, the usage table and its indexes)."""
    from seatledger.demo.builder import build_demo

    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    build_demo(str(path), "small", seed=SEED)


_CHILD = r"""
import datetime as dt, json, sys, time
from pathlib import Path
from seatledger.ingest.formats import Kind
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.workspace import Workspace
from seatledger.services.core.context import Context
from seatledger.services.position.engine import PositionService
from seatledger.store.db import Database
db, log, features = sys.argv[1], Path(sys.argv[2]), json.loads(sys.argv[3])
services = Workspace.open(db, create=False).sign_in("admin", "demo")
vendor = services.catalog.add_vendor("Bench Simulations")
for name in features:
    services.rules.add(RuleInput(services.catalog.add_product(vendor, name), name))
out = {}
started, cpu = time.perf_counter(), time.process_time()
result = services.imports.commit(log, ImportOptions(Kind.USAGE))
out["seconds"] = time.perf_counter() - started
out["cpu_seconds"] = time.process_time() - cpu
out["summary"] = result.summary()
out["notes"] = list(result.notes[:3])
out["rows"] = result.rows
status = Path("/proc/self/status").read_text()
out["max_rss_mib"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
database, _ = Database.open(db, create=False, upgrade=False)
as_of = dt.date(int(sys.argv[4]), 12, 31)
started, cpu = time.perf_counter(), time.process_time()
position = PositionService(Context.reader(database)).position(as_of)
out["position_seconds"] = time.perf_counter() - started
out["position_cpu_seconds"] = time.process_time() - cpu
out["position_rows"] = len(position.rows)
print(json.dumps(out))
"""


def _sessions(path: Path) -> Iterator[list[tuple[Any, ...]]]:
    """The reader's sessions as the importer's rows, in chunks (reading is not timed)."""
    from seatledger.ingest.flexlm_log import read_debug_log
    from seatledger.ingest.tabular import sniff

    def stamp(value: dt.datetime | None) -> str | None:
        return None if value is None else value.strftime("%Y-%m-%d %H:%M:%S.%f")

    _, records = read_debug_log(sniff(path), [])
    chunk: list[tuple[Any, ...]] = []
    for r in records:
        chunk.append(
            (r.feature, r.user, r.host, stamp(r.checkout), stamp(r.checkin), r.units, None,
             None, 1, r.server, r.handle, None)
        )  # fmt: skip
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def raw_baseline(log: Path, demo: Path) -> tuple[float, float, int]:
    """Seconds (wall and CPU) of a raw executemany of the log's sessions into usage_session
    (same indexes)."""
    source = sqlite3.connect(f"file:{demo}?mode=ro", uri=True)
    try:
        ddl = [
            sql
            for (sql,) in source.execute(
                "SELECT sql FROM sqlite_master WHERE tbl_name = 'usage_session' "
                "AND sql IS NOT NULL ORDER BY type DESC"
            )
        ]
    finally:
        source.close()
    path = CACHE / "raw-usage.sqlite"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    rows = 0
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = OFF")
        for statement in ddl:
            conn.execute(statement)
        sql = (
            "INSERT INTO usage_session (feature, user_name, host, checkout, checkin, units, "
            "product_id, person_id, import_id, server, handle, seen_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        elapsed = cpu = 0.0
        conn.execute("BEGIN")
        for chunk in _sessions(log):
            started, cpu_started = time.perf_counter(), time.process_time()
            conn.executemany(sql, chunk)
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            rows += len(chunk)
        started, cpu_started = time.perf_counter(), time.process_time()
        conn.execute("COMMIT")
        elapsed += time.perf_counter() - started
        cpu += time.process_time() - cpu_started
    finally:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return elapsed, cpu, rows


def measure(lines: int, say: Callable[[str], None]) -> dict[str, Any]:
    say(f"Writing a {lines:,}-line debug log (once) ...")
    log = log_file(lines)
    demo = CACHE / "debuglog-demo.sqlite"
    say("Building a small demo to import into ...")
    demo_database(demo)
    say("Importing the log ...")
    done = subprocess.run(
        [sys.executable, "-c", _CHILD, str(demo), str(log), json.dumps(_features()), str(YEAR)],
        check=True,
        capture_output=True,
        text=True,
    )
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    say("Raw executemany of the same sessions ...")
    found["raw_seconds"], found["raw_cpu_seconds"], found["raw_rows"] = raw_baseline(log, demo)
    found["lines"] = lines
    # What other sessions of a shared machine take from the wall clock is not in the CPU seconds.
    found["load"] = Path("/proc/loadavg").read_text().split()[:3]
    found["bytes"] = log.stat().st_size
    for suffix in ("", "-wal", "-shm"):
        Path(f"{demo}{suffix}").unlink(missing_ok=True)
    return found


def debuglog_rows(row: Callable[..., Any], lines: int = LINES) -> list[Any]:
    """The figures as bench/run.py's rows."""
    found = measure(lines, lambda text: print(text, file=sys.stderr, flush=True))
    ratio = found["raw_seconds"] / found["seconds"]
    cpu_ratio = found["raw_cpu_seconds"] / found["cpu_seconds"]
    return [
        row(
            f"import a {lines:,}-line FlexNet debug log ({found['rows']:,} sessions, "
            f"{FEATURES} features, {USERS:,} users)",
            f"{found['seconds']:.1f} s ({found['cpu_seconds']:.1f} s CPU), peak RSS "
            f"{found['max_rss_mib']:.0f} MiB",
            f"raw executemany of the {found['raw_rows']:,} sessions: {found['raw_seconds']:.1f} s "
            f"({found['raw_cpu_seconds']:.1f} s CPU)",
            f"{ratio:.0%} of raw speed ({cpu_ratio:.0%} in CPU seconds)",
            ">= 50 % of raw speed, <= 300 MB",
        ),
        row(
            "position over the log's last 90 days (concurrent peaks)",
            f"{found['position_seconds']:.2f} s ({found['position_cpu_seconds']:.2f} s CPU)",
            "-",
            "-",
            "<= 2 s",
        ),
    ]


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else LINES
    print(json.dumps(measure(size, lambda text: print(text, file=sys.stderr)), indent=2))
