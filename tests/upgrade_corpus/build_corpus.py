"""Build the upgrade corpus: one small demo database per schema state that was ever on main.

Run from the repository root with the project's Python:

    python tests/upgrade_corpus/build_corpus.py            # every state, manifest rewritten
    python tests/upgrade_corpus/build_corpus.py --only S3  # one state, its manifest entry replaced

A *schema state* starts with every commit (first-parent history of ``--ref``, default main)
that changed ``src/seatledger/store/migrations/``; the database of a state is built by the code
of the state's LAST commit (the one just before the next migration change, or ``--ref`` for the
newest state).  For each state this script:

1. extracts that commit with ``git archive`` into a temporary folder under /tmp (no worktree, so
   the shared .git is left alone);
2. runs that version's ``python -m seatledger demo --db FILE --size small`` with its default seed;
3. runs a probe under that version's ``PYTHONPATH`` that reads the new file through that
   version's own code (``Database.open(upgrade=False)``, ``ledger.verify``, ``EntitlementQuery``
   (``LicenseQuery`` before the rename), ``PositionService`` where it exists) and prints the
   figures as neutral JSON;
4. runs that version's ``seatledger licenses --db FILE`` and checks its Qty/Used columns against
   the probe's figures;
5. checkpoints the WAL, switches the file to journal_mode=DELETE and VACUUMs it (plain sqlite3),
   so no -wal/-shm is left beside it (the app switches it back to WAL when it opens the file);
6. checks with plain sqlite3 (read-only) that ``alembic_version`` holds the expected revision,
   the integrity check passes and the row counts and ledger head are those the probe read;
7. writes ``S<N>-<revision>-<shortsha>.sqlite`` here and its entry in ``manifest.json``.

A state whose demo build fails is reported and recorded in the manifest with the reason; the
others are still built.  The demo generators date everything relative to the UTC day of the
build (wall clock), so a rebuild on another day gives other dates, ledger hashes and file
hashes: tests must use the dates stored in the manifest (``demo.today``), never "today".
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
# Schema states change with the revisions only (env.py and the like may change without one).
MIGRATIONS = "src/seatledger/store/migrations/versions/"
MANIFEST = HERE / "manifest.json"
MAX_BYTES = 15 * 1024 * 1024  # a small demo is 2-3 MB; a file above this is a mistake
SHELF_DAYS = 90  # PositionService.position's default (and `seatledger reconcile --shelf-days`)

# Runs under the old version's PYTHONPATH: argv = [db file, demo day (YYYY-MM-DD)].  Only APIs
# that exist in every version since the first commit are used unconditionally; the position
# service (0003-era code) only when its module exists.
PROBE = r"""
import datetime as dt
import json
import sys

import seatledger
from seatledger.store.db import Database

try:  # services/ as feature packages
    from seatledger.services.catalog import queries
    from seatledger.services.core.context import Context
    from seatledger.services.ledger import verify as ledger
except ImportError:  # the flat services/ of the versions before
    from seatledger.services import ledger, queries
    from seatledger.services.context import Context

# The entitlements list was LicenseQuery(...).licenses(keys) before the code said "entitlement".
EntitlementQuery = getattr(queries, "EntitlementQuery", None) or queries.LicenseQuery

path, day = sys.argv[1], dt.date.fromisoformat(sys.argv[2])
out = {"code_file": seatledger.__file__}
try:
    from seatledger.cli import build_parser
    out["demo_default_seed"] = getattr(
        build_parser().parse_args(["demo", "--db", "x"]), "seed", None
    )
except Exception as exc:  # noqa: BLE001
    out["demo_default_seed"] = f"unknown ({exc!r})"

db, _ = Database.open(path, create=False, upgrade=False)
try:
    out["alembic_revision"] = db.current_revision()
    with db.engine.connect() as conn:
        tables = [
            r[0]
            for r in conn.exec_driver_sql(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        out["row_counts"] = {
            t: conn.exec_driver_sql(f'SELECT COUNT(*) FROM "{t}"').scalar() for t in tables
        }
        size, head = conn.exec_driver_sql("SELECT size, head FROM ledger_head WHERE id = 1").one()
    out["ledger"] = {"size": size, "head": bytes(head).hex()}
    verdict = ledger.verify(db)
    out["ledger"]["verify"] = {
        "function": "seatledger.services.ledger.verify(db)",
        "intact": verdict.failure is None,
        "entries": verdict.entries,
        "head": verdict.head.hex() if verdict.head is not None else None,
        "failure": None if verdict.failure is None else verdict.failure.message(),
    }

    ctx = Context.reader(db)
    query = EntitlementQuery(ctx)
    keys = list(query.keys())
    rows = (query.entitlements if hasattr(query, "entitlements") else query.licenses)(keys)
    out["licenses"] = [
        {
            "id": r.id,
            "product": r.product,
            "name": r.name,
            "quantity": r.quantity,
            "used": r.used,
        }
        for r in sorted(rows.values(), key=lambda r: r.id)
    ]
    out["licenses_display_order"] = keys

    try:
        try:
            from seatledger.services.position.engine import PositionService
        except ImportError:
            from seatledger.services.position import PositionService
    except ImportError:
        out["position"] = None
    else:
        shelf_days = int(sys.argv[3])
        position = PositionService(ctx).position(day, shelf_days)

        def text(value):
            return None if value is None else str(value)

        out["position"] = {
            "as_of": position.as_of.isoformat(),
            "shelf_days": position.shelf_days,
            "facts": dict(position.facts),
            "rows": sorted(
                (
                    {
                        "product_id": r.product_id,
                        "vendor": r.vendor,
                        "product": r.product,
                        "metric": r.metric.value,
                        "bought": r.bought,
                        "owned": r.owned,
                        "assigned": r.assigned,
                        "needed": r.needed,
                        "available": r.available,
                        "shortfall": r.shortfall,
                        "over_licensed": r.over_licensed,
                        "unlicensed": r.unlicensed,
                        "unit_cost": text(r.unit_cost),
                        "true_up": text(r.true_up),
                        "currency": r.currency,
                    }
                    for r in position.rows
                ),
                key=lambda r: (r["product_id"], r["metric"]),
            ),
            "findings": sorted(
                (
                    {
                        "kind": f.kind.value,
                        "product_id": f.product_id,
                        "entitlement_id": f.entitlement_id,
                        "count": f.count,
                        "text": f.text,
                    }
                    for f in position.findings
                ),
                key=lambda f: (f["kind"], f["product_id"], f["entitlement_id"] or 0, f["text"]),
            ),
        }
finally:
    db.engine.dispose()
print(json.dumps(out))
"""

KEY_MEANINGS = {
    "state": "S<N>: the Nth commit on main that changed the migrations starts state N",
    "state_started_by": "the commit that changed the migrations and so started the state",
    "commit": "the last commit of the state; its code built the file and computed the figures",
    "revision_expected": "head of that commit's migration chain (revision nobody revises)",
    "alembic_revision": "SELECT version_num FROM alembic_version in the built file",
    "sha256 / size_bytes": "of the committed file (after VACUUM, journal_mode=DELETE)",
    "demo.today": (
        "UTC date the demo was built on: the demo generators date every row and ledger entry "
        "relative to it (wall clock); use it as 'today' when recomputing"
    ),
    "row_counts": "SELECT COUNT(*) of every table in sqlite_master (alembic_version included)",
    "ledger.size / ledger.head": "ledger_head.size and ledger_head.head (hex) as stored",
    "ledger.verify": "that version's seatledger.services.ledger.verify(db) on the file",
    "schema": (
        "tables and named indexes, and fingerprint = SHA-256 of the tables' columns (PRAGMA "
        "table_info), indexes (index_list/index_info), foreign keys and constraint names: "
        "independent of the order alembic's batch mode wrote the constraints in"
    ),
    "licenses.rows": (
        "what that version's `seatledger licenses` lists (non-retired entitlements), sorted by "
        "id: id = entitlement.id; product = product.name; name = entitlement.name (the "
        "license's own label, often empty); quantity = entitlement.quantity (rights bought); "
        "used = entitlement.seats_used (the stored count of seats/units in use, shown as "
        "'Used'; Free = quantity - used)"
    ),
    "position.rows": (
        "one per (product_id, metric) from PositionService.position, sorted by (product_id, "
        "metric): owned = rights owned by entitlements in term on as_of (null: unlimited/"
        "site); assigned = rights assigned by seats open on as_of; needed = rights the metric "
        "counts over seat holders, installs and usage; available = owned - needed (null when "
        "unlimited, negative when short); shortfall = max(needed - owned, 0); over_licensed = "
        "max(owned - needed, 0); unlicensed = installs without a seat; bought = false when "
        "nothing in term was bought (row exists from installs/seats); unit_cost = average unit "
        "cost (decimal string); true_up = shortfall * unit_cost (decimal string, null when no "
        "cost is known)"
    ),
    "position.findings": (
        "PositionService.position(...).findings: kind (FindingKind value), product_id, "
        "entitlement_id, count (rows behind it), text (its sentence), sorted by "
        "(kind, product_id, entitlement_id, text)"
    ),
    "position.facts": "Position.facts: installs, seats and staff counted on as_of",
}


NOTES = [
    "The revision alone does not name the schema: 0004-0006 were committed as empty scaffolding "
    "(59f9c8b) and filled in later (6ccd520, 50436c7, c760309, 5953e47) without new revision "
    "ids, so the states S3 to S7 all store '0006', each with a different schema (compare "
    "schema.tables/indexes/fingerprint); S3's schema is S2's with the revision stamped 0006. "
    "Migration 0007 (8b15648) creates what the scaffolded ones left out.",
    "The demo generators use the wall clock: every date and ledger timestamp is relative to the "
    "UTC build day (demo.today), so compute positions and anything date-dependent as of "
    "demo.today. The same code on the same day builds the same rows (password hashes apart) "
    "and ledger; the file's bytes (sha256) differ per build (random Argon2 salts in "
    "operator.password_hash).",
    "The builds run with PYTHONHASHSEED=0: alembic's batch mode writes the entitlement table's "
    "constraints in set order, so the CREATE TABLE text otherwise differs between builds.",
    "A state whose last commit cannot build the demo is kept in the manifest with status "
    "'failed' and its error, and has no file.",
]


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout.strip()


REPO = Path(
    subprocess.run(
        ["git", "rev-parse", "--show-toplevel"],
        check=True,
        capture_output=True,
        text=True,
        cwd=HERE,
    ).stdout.strip()
)


def states(ref: str) -> list[dict[str, str]]:
    """The schema states on ``ref``'s first-parent history, oldest first."""
    history = git("rev-list", "--first-parent", "--reverse", ref).split()
    starts = git("log", "--first-parent", "--reverse", "--format=%H", ref, "--", MIGRATIONS).split()
    found = []
    for n, start in enumerate(starts, 1):
        # the commit before the next state's first, or the ref itself for the newest state
        last = history[history.index(starts[n]) - 1] if n < len(starts) else git("rev-parse", ref)
        found.append({"state": f"S{n}", "start": start, "last": last})
    return found


def extract(commit: str, target: Path) -> None:
    """The commit's tree at ``target`` (git archive: nothing is added to the shared .git)."""
    data = subprocess.run(
        ["git", "archive", "--format=tar", commit], check=True, capture_output=True, cwd=REPO
    ).stdout
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(target, filter="data")


def head_revision(tree: Path) -> str:
    """The migration chain's head in an extracted tree (the revision no other one revises)."""
    revisions, downs = set(), set()
    for path in (tree / MIGRATIONS).glob("*.py"):
        source = path.read_text(encoding="utf-8")
        rev = re.search(r'^revision\s*=\s*["\']([^"\']+)["\']', source, re.M)
        down = re.search(r'^down_revision\s*=\s*["\']([^"\']+)["\']', source, re.M)
        if rev:
            revisions.add(rev.group(1))
        if down:
            downs.add(down.group(1))
    heads = sorted(revisions - downs)
    if len(heads) != 1:
        raise RuntimeError(f"{tree}: migration heads {heads}")
    return heads[0]


def run_old(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the project's Python with the old tree's src first on the path, inside the tree."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree / "src")
    env.pop("SEATLEDGER_DB", None)
    env["QT_QPA_PLATFORM"] = "offscreen"
    # Alembic's batch mode (0003 recreates entitlement) writes constraints in set order: a
    # fixed hash seed makes the schema text the same on every rebuild.
    env["PYTHONHASHSEED"] = "0"
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=tree, env=env, check=False
    )


def parse_licenses_cli(text: str) -> dict[int, tuple[int, int]]:
    """``seatledger licenses`` lines as {id: (qty, used)} (fixed columns, as cmd_licenses)."""
    found = {}
    for line in text.splitlines()[1:]:
        if not line.strip():
            continue
        # f"{id:>6}  {title:<48} {metric:<18} {qty:>7} {used:>7} {free:>7}  {end}{flag}"
        found[int(line[0:6])] = (int(line[76:83]), int(line[84:91]))
    return found


def finalize(path: Path) -> None:
    """WAL checkpointed into the file, rollback journal, vacuumed; nothing left beside it."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        mode = conn.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        if mode.lower() != "delete":
            raise RuntimeError(f"{path}: journal_mode is {mode}")
        conn.execute("VACUUM")
    finally:
        conn.close()
    for suffix in ("-wal", "-shm", "-journal"):
        if Path(f"{path}{suffix}").exists():
            raise RuntimeError(f"{path}{suffix} was left behind")


def inspect_plain(path: Path) -> dict[str, Any]:
    """What plain sqlite3 sees in the finished file (read-only: the file is not touched)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        revision = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        foreign = conn.execute("PRAGMA foreign_key_check").fetchall()
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {t: conn.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in tables}
        size, head = conn.execute("SELECT size, head FROM ledger_head WHERE id = 1").fetchone()
        structure = {t: _structure(conn, t) for t in tables}
    finally:
        conn.close()
    return {
        "revisions": [r[0] for r in revision],
        "integrity": integrity,
        "foreign_key_violations": len(foreign),
        "journal_mode": mode,
        "row_counts": counts,
        "ledger": {"size": size, "head": bytes(head).hex()},
        "schema": {
            "tables": tables,
            "indexes": sorted(
                f"{t}.{i['name']}" for t in tables for i in structure[t]["indexes"] if i["name"]
            ),
            "fingerprint": hashlib.sha256(
                json.dumps(structure, sort_keys=True).encode()
            ).hexdigest(),
        },
    }


def _structure(conn: sqlite3.Connection, table: str) -> dict[str, Any]:
    """A table's columns, indexes and foreign keys, independent of how its SQL text is ordered
    (alembic's batch mode writes constraints in set order, which differs between runs)."""
    columns = [
        [name, kind, notnull, default, pk]
        for _, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")')
    ]
    indexes = []
    for _, name, unique, origin, partial in conn.execute(f'PRAGMA index_list("{table}")'):
        cols = [r[2] for r in conn.execute(f'PRAGMA index_info("{name}")')]
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (name,)).fetchone()
        where = sql[0].split(" WHERE ", 1)[1] if sql and sql[0] and " WHERE " in sql[0] else ""
        auto = name.startswith("sqlite_autoindex_")
        indexes.append(
            {
                "name": "" if auto else name,
                "columns": cols,
                "unique": bool(unique),
                "origin": origin,
                "partial": bool(partial),
                "where": where,
            }
        )
    foreign = sorted(
        [r[2], r[3], r[4], r[6]] for r in conn.execute(f'PRAGMA foreign_key_list("{table}")')
    )
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()[0]
    return {
        "columns": columns,
        "constraints": sorted(re.findall(r"CONSTRAINT (\w+)", sql)),
        "indexes": sorted(
            (i for i in indexes if i["name"]),
            key=lambda i: i["name"],
        )
        + sorted((i for i in indexes if not i["name"]), key=lambda i: (i["columns"], i["origin"])),
        "foreign_keys": foreign,
    }


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def build_state(state: dict[str, str], work: Path) -> dict[str, Any]:
    """Build one state's file; its manifest entry (with ``error`` set when the build failed)."""
    last, start = state["last"], state["start"]
    short = git("rev-parse", "--short=7", last)
    entry: dict[str, Any] = {
        "state": state["state"],
        "state_started_by": git("log", "-1", "--format=%h %s", start)[:120],
        "commit": short,
        "commit_full": last,
        "commit_subject": git("log", "-1", "--format=%s", last)[:120],
        "commit_date": git("log", "-1", "--format=%cI", last),
    }
    if "override_of" in state:
        entry["commit_override"] = (
            f"built with {short} instead of the state's last commit "
            f"{state['override_of'][:7]} (--commit {state['state']}={short})"
        )
    tree = work / short
    extract(last, tree)
    revision = head_revision(tree)
    entry["revision_expected"] = revision
    name = f"{state['state']}-{revision}-{short}.sqlite"
    entry["file"] = name
    built = work / f"{name}.build"
    built.mkdir()
    db = built / name

    today = dt.datetime.now(dt.UTC).date()
    demo = run_old(tree, "-m", "seatledger", "demo", "--db", str(db), "--size", "small")
    after = dt.datetime.now(dt.UTC).date()
    entry["demo"] = {
        "command": f"PYTHONPATH=<{short}>/src python -m seatledger demo --db FILE --size small",
        "size": "small",
        "today": today.isoformat(),
        "wall_clock": (
            "build_demo plans with dt.datetime.now(dt.UTC).date() (and add_inventory, where "
            "it exists, dates installs and usage from it): dates and ledger hashes depend on "
            "the build day; operators' Argon2 password hashes use random salts, so the file's "
            "bytes differ on every build"
        ),
        "output": [
            re.sub(r" in [0-9.]+ s:", ":", line)
            for line in demo.stdout.replace(str(db), "FILE").strip().splitlines()[:1]
        ],
    }
    if today != after:
        entry["demo"]["warning"] = f"built across midnight UTC ({today} -> {after})"
    if demo.returncode != 0 or not db.exists():
        tail = (demo.stderr.strip() or demo.stdout.strip()).splitlines()[-8:]
        entry["status"] = "failed"
        entry["error"] = f"demo exited {demo.returncode}: " + " | ".join(tail)
        entry["error"] = entry["error"].replace(str(tree), f"<{short}>")
        return entry

    probe_file = work / "probe.py"
    probe_file.write_text(PROBE, encoding="utf-8")
    probe = run_old(tree, str(probe_file), str(db), today.isoformat(), str(SHELF_DAYS))
    if probe.returncode != 0:
        entry["status"] = "failed"
        entry["error"] = "probe failed: " + " | ".join(probe.stderr.strip().splitlines()[-8:])
        entry["error"] = entry["error"].replace(str(tree), f"<{short}>")
        return entry
    figures = json.loads(probe.stdout.strip().splitlines()[-1])
    if not figures["code_file"].startswith(str(tree)):
        raise RuntimeError(f"the probe ran {figures['code_file']}, not the code of {short}")
    entry["demo"]["seed"] = figures["demo_default_seed"]

    cli = run_old(tree, "-m", "seatledger", "licenses", "--db", str(db))
    if cli.returncode != 0:
        raise RuntimeError(f"{short}: seatledger licenses failed: {cli.stderr.strip()}")
    shown = parse_licenses_cli(cli.stdout)
    listed = {r["id"]: (r["quantity"], r["used"]) for r in figures["licenses"]}
    if shown != listed:
        raise RuntimeError(f"{short}: `seatledger licenses` and LicenseQuery disagree")

    finalize(db)
    plain = inspect_plain(db)
    problems = []
    if plain["revisions"] != [revision] or figures["alembic_revision"] != revision:
        problems.append(f"alembic_version {plain['revisions']}, expected {revision}")
    if plain["integrity"] != "ok":
        problems.append(f"integrity_check: {plain['integrity']}")
    if plain["row_counts"] != figures["row_counts"] or plain["ledger"] != {
        k: figures["ledger"][k] for k in ("size", "head")
    }:
        problems.append("plain sqlite3 and the old code read different counts or ledger head")
    if not figures["ledger"]["verify"]["intact"]:
        problems.append(f"ledger does not verify: {figures['ledger']['verify']['failure']}")
    if problems:
        raise RuntimeError(f"{name}: " + "; ".join(problems))

    size = db.stat().st_size
    entry.update(
        {
            "status": "ok",
            "alembic_revision": figures["alembic_revision"],
            "size_bytes": size,
            "sha256": sha256(db),
            "journal_mode": plain["journal_mode"],
            "foreign_key_violations": plain["foreign_key_violations"],
            "row_counts": figures["row_counts"],
            "ledger": figures["ledger"],
            "schema": plain["schema"],
            "licenses": {
                "source": (
                    "seatledger.services.queries.LicenseQuery(Context.reader(db)): keys() "
                    "then licenses(keys) -> LicenseRow.id/.product/.name/.quantity/.used; the "
                    "same query `seatledger licenses --db FILE` prints (its Qty and Used "
                    "columns were checked equal)"
                ),
                "display_order": figures["licenses_display_order"],
                "rows": figures["licenses"],
            },
        }
    )
    position = figures["position"]
    if position is None:
        entry["position"] = {
            "function": None,
            "reason": "this version has no seatledger.services.position (added with 0003)",
        }
    else:
        entry["position"] = {
            "function": "seatledger.services.position.PositionService(Context.reader(db))"
            ".position(as_of, shelf_days)",
            "arguments": {"as_of": today.isoformat(), "shelf_days": SHELF_DAYS},
            **position,
        }
    if size > MAX_BYTES:
        entry["status"] = "too_large"
        entry["error"] = f"{size:,} bytes: over {MAX_BYTES:,}; not kept in the corpus"
        return entry
    shutil.copyfile(db, HERE / name)
    return entry


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ref", default="main", help="history to read the states from")
    parser.add_argument("--only", action="append", default=[], help="S<N> (repeatable)")
    parser.add_argument(
        "--commit",
        action="append",
        default=[],
        metavar="S<N>=SHA",
        help="build a state with another commit OF THAT STATE than its last one (recorded in "
        "the manifest as commit_override; for a last commit that cannot build)",
    )
    args = parser.parse_args(argv)

    found = states(args.ref)
    for override in args.commit:
        name, _, sha = override.partition("=")
        state = next((s for s in found if s["state"] == name), None)
        if state is None or not sha:
            parser.error(f"--commit {override}: no state {name}")
        full = git("rev-parse", "--verify", f"{sha}^{{commit}}")
        same = git("diff", "--name-only", state["start"], full, "--", MIGRATIONS)
        between = git("rev-list", "--first-parent", f"{state['start']}^..{state['last']}")
        if full not in between.split() or same:
            parser.error(f"--commit {override}: {sha} is not a commit of {name}")
        state["override_of"] = state["last"]
        state["last"] = full
    wanted = [s for s in found if not args.only or s["state"] in args.only]
    old = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else None
    entries = {e["state"]: e for e in (old["files"] if old and args.only else [])}
    for stale in HERE.glob("S*-*-*.sqlite"):
        if not args.only or stale.name.split("-", 1)[0] in args.only:
            stale.unlink()

    failed = 0
    with tempfile.TemporaryDirectory(prefix="seatledger-corpus-", dir="/tmp") as tmp:
        for state in wanted:
            short = state["last"][:7]
            say(f"{state['state']}: building with {short} ...")
            entry = build_state(state, Path(tmp))
            entries[state["state"]] = entry
            if entry["status"] == "ok":
                say(
                    f"  {entry['file']}: revision {entry['alembic_revision']}, "
                    f"{entry['size_bytes']:,} bytes, ledger {entry['ledger']['size']:,} entries, "
                    f"{sum(entry['row_counts'].values()):,} rows in "
                    f"{len(entry['row_counts'])} tables",
                )
            else:
                failed += 1
                say(f"  {state['state']} FAILED: {entry['error']}")

    manifest = {
        "about": (
            "Demo databases built by the SeatLedger code of each schema state ever on main; "
            "figures read by that same code. Rebuild: python tests/upgrade_corpus/build_corpus.py"
        ),
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "keys": KEY_MEANINGS,
        "notes": NOTES,
        "files": [entries[s["state"]] for s in found if s["state"] in entries],
    }
    MANIFEST.write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n", "utf-8")
    say(f"Wrote {MANIFEST.relative_to(REPO)} ({len(manifest['files'])} states, {failed} failed).")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
