"""Writing imported records: upsert by natural key, inside the caller's one write transaction.

People are keyed by employee id, devices by host name (or serial, for a renamed machine),
installs by device and title, purchases by vendor, product, metric and PO reference, usage by
feature, user, host and checkout.  Bulk paths write tuples through the driver
(:mod:`seatledger.store.bulk`); the caller rolls everything back if any problem was found.
"""

from __future__ import annotations

import datetime as dt
import queue
import threading
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.pool import SingletonThreadPool

from seatledger.domain.licensing import Metric
from seatledger.domain.normalization import Normalizer, RawTitle
from seatledger.ingest import flexlm, flexlm_grants
from seatledger.ingest.flexlm_log import Denial
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import (
    DeviceRecord,
    EntitlementRecord,
    InstallChunk,
    Installs,
    PersonRecord,
    Record,
    UsageRecord,
)
from seatledger.ingest.tabular import Problem
from seatledger.services.core import snapshots
from seatledger.services.directory import memberships
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import load_normalizer
from seatledger.store.bulk import Bulk
from seatledger.store.models import Entitlement, LicenseGrant, Product, Vendor
from seatledger.text import agree, plural


@dataclass
class Applied:
    """Counts of what an import changed."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    flagged: int = 0
    removed: int = 0
    notes: list[str] = field(default_factory=list)
    # Inventory imports: how many of the inserted installs are of each title (the alert rule
    # for unlicensed installs reads these instead of scanning a million new rows again).
    inserted_by_title: dict[int, int] = field(default_factory=dict)
    # The highest install id before the import: every install it inserted has a higher one
    # (not consecutive: PostgreSQL spends a sequence value on each upsert that conflicts).
    installs_before: int = 0
    # What the import made of each row it added or changed, as the services' snapshots, by
    # table and id: the ledger entry records it, so the rows can be replayed from the ledger.
    made: dict[str, dict[str, Any]] = field(default_factory=dict)
    missing: list[int] = field(default_factory=list)  # people a full HR export flagged
    # HR imports: the periods opened or changed, as [person, team, manager, cost centre, from].
    organization: list[list[Any]] = field(default_factory=list)

    def snapshot(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """Record what row ``row_id`` of ``table`` is after this import."""
        self.made.setdefault(table, {})[str(row_id)] = values


def apply(  # noqa: PLR0917 (the parts of one commit, passed straight through)
    session: Session,
    options: ImportOptions,
    batch_id: int,
    now: dt.datetime,
    records: Iterator[Record],
    problems: list[Problem],
    snapshot: flexlm.Snapshot | None,
    *,
    given: frozenset[str],
    denials: list[Denial] | None = None,
) -> Applied:
    """Write ``records`` of ``options.kind``; problems found against the database are appended.

    ``given`` names the fields the file has columns for: a field it has no column for keeps
    what is stored (a purchases file without a currency does not turn USD into EUR).
    """
    bulk = Bulk(session.connection())
    kind = options.kind
    if kind is Kind.PEOPLE:
        return _people(
            bulk,
            batch_id,
            records,
            full=options.full_export,
            dates="date_left" in given,
            joined="date_joined" in given,
            today=now.astimezone(dt.UTC).date(),
        )
    if kind is Kind.DEVICES:
        return _devices(bulk, batch_id, records)
    if kind is Kind.INVENTORY:
        raise ValueError("inventories are written by apply_inventory, from chunks")
    if kind is Kind.USAGE:
        return _usage(session, bulk, batch_id, records, snapshot, denials)
    if kind is Kind.SNIPEIT:
        given = frozenset(_SNIPEIT_FIELDS.get(key, key) for key in given)
    return _entitlements(session, batch_id, records, problems, given)


_SNIPEIT_FIELDS = {
    "name": "product",
    "seats": "quantity",
    "purchase_date": "term_start",
    "expiration_date": "term_end",
    "purchase_cost": "unit_cost",
    "order_number": "po_reference",
    "supplier": "reseller",
}


def _lower_map(rows: Any) -> dict[str, int]:
    return {str(key).lower(): int(value) for value, key in rows}


# -- people ---------------------------------------------------------------------------------------


def _people(
    bulk: Bulk,
    batch_id: int,
    records: Iterator[Record],
    *,
    full: bool,
    dates: bool,
    joined: bool = False,
    today: dt.date,
) -> Applied:
    """Upsert HR records; a team change holds from the file's effective date, else ``today``."""
    done = Applied()
    teams = _lower_map(bulk.execute("SELECT id, name FROM team"))
    next_team = bulk.max_id("team")
    # Positional on purpose: this runs once per person (millions in a full import); the tuple is
    # unpacked by name where it is used, below ("person_id, _, name, email, ...").
    existing: dict[str, tuple[Any, ...]] = {
        str(row[1]).lower(): tuple(row)
        for row in bulk.execute(
            "SELECT id, employee_id, name, email, team_id, status, date_left, date_joined, "
            "account_disabled, account_import_id, account_line FROM person"
        )
    }
    next_id = bulk.max_id("person")
    inserts: list[tuple[Any, ...]] = []
    updates: list[tuple[Any, ...]] = []
    seen: list[tuple[int, int]] = []
    new_teams: list[tuple[Any, ...]] = []
    moves: list[memberships.Move] = []
    org: list[tuple[int, PersonRecord]] = []  # moves whose manager or cost centre the file gives
    for record in records:
        assert isinstance(record, PersonRecord)
        done.rows += 1
        team_id: int | None = None
        if record.team:
            team_id = teams.get(record.team.lower())
            if team_id is None:
                next_team += 1
                team_id = teams[record.team.lower()] = next_team
                new_teams.append((team_id, record.team, ""))
        old = existing.get(record.employee_id.lower())
        if old is None:
            status = "left" if record.left else "active"
            next_id += 1
            inserts.append(
                (
                    next_id,
                    record.employee_id,
                    record.name,
                    record.email,
                    team_id,
                    status,
                    bulk.day(record.date_left),
                    bulk.day(record.date_joined),
                    batch_id,
                    batch_id,
                    record.line,
                    record.account_disabled,
                    None if record.account_disabled is None else batch_id,
                    None if record.account_disabled is None else record.line,
                )
            )
            done.inserted += 1
            done.flagged += status == "left"
            moves.append(
                memberships.Move(next_id, team_id, record.team_since or record.date_joined)
            )
            org.append((len(moves) - 1, record))
            done.snapshot(
                "person",
                next_id,
                snapshots.values(
                    snapshots.PERSON,
                    record.employee_id,
                    record.name,
                    record.email,
                    team_id,
                    status,
                    record.date_left,
                    record.date_joined,
                )
                # A directory's account state; none from an HR file (the ledger's state check
                # reads a state no entry recorded as none: an HR import's entry stays as it was).
                | (
                    {}
                    if record.account_disabled is None
                    else {"account_disabled": record.account_disabled}
                ),
            )
            continue
        person_id, employee_id, name, email, old_team, old_status, old_left, old_joined = old[:8]
        # A directory's account state; a file that does not say keeps what is stored, and the
        # import and line that first said the state as it is stay with it ("disabled since").
        old_disabled, account_import, account_line = old[8:]
        disabled = old_disabled if record.account_disabled is None else record.account_disabled
        if disabled is not None and (old_disabled is None or bool(old_disabled) != disabled):
            account_import, account_line = batch_id, record.line
        status = old_status
        if record.left is True:
            status = "left"
        elif record.left is False or old_status == "missing":
            status = "active"
        if dates:
            date_left = bulk.day(record.date_left)  # a planned leaving date too
        elif old_status == "left" and status != "left":
            date_left = None  # back: the old leaving date no longer holds
        else:
            date_left = old_left
        # A first day the file does not give stays as it was.
        date_joined = bulk.day(record.date_joined) if joined else old_joined
        new = (record.name, record.email or email, team_id if record.team else old_team, status)
        if (
            new != (name, email, old_team, old_status)
            or str(date_left) != str(old_left)
            or str(date_joined) != str(old_joined)
            or account_import != old[9]
        ):
            updates.append(
                (
                    *new,
                    date_left,
                    date_joined,
                    batch_id,
                    batch_id,
                    record.line,
                    disabled,
                    account_import,
                    account_line,
                    person_id,
                )
            )
            if new[2] != old_team or _gives_org(record):
                moves.append(memberships.Move(person_id, new[2], record.team_since or today))
                org.append((len(moves) - 1, record))
            done.snapshot(
                "person",
                person_id,
                snapshots.values(snapshots.PERSON, employee_id, *new, date_left, date_joined)
                | {"account_disabled": None if disabled is None else bool(disabled)},
            )
            done.updated += 1
            done.flagged += status == "left" and old_status != "left"
        else:
            seen.append((batch_id, person_id))
            done.unchanged += 1
            if _gives_org(record):
                moves.append(memberships.Move(person_id, old_team, record.team_since or today))
                org.append((len(moves) - 1, record))
    bulk.insert("team", "id, name, cost_centre", new_teams)
    bulk.insert(
        "person",
        "id, employee_id, name, email, team_id, status, date_left, date_joined, seen_import_id, "
        "source_import_id, source_line, account_disabled, account_import_id, account_line",
        inserts,
    )
    bulk.many(
        "UPDATE person SET name = ?, email = ?, team_id = ?, status = ?, date_left = ?, "
        "date_joined = ?, seen_import_id = ?, source_import_id = ?, source_line = ?, "
        "account_disabled = ?, account_import_id = ?, account_line = ? WHERE id = ?",
        updates,
    )
    bulk.many("UPDATE person SET seen_import_id = ? WHERE id = ?", seen)
    bulk.advance_sequences(["team", "person"])
    if org:
        _with_managers(moves, org, existing.values(), inserts, done)
    periods = memberships.record(bulk, moves)
    if org and periods:
        # A person whose row is as it was but whose manager or cost centre changed is updated.
        moved = {p.person_id for p in periods}
        also = sum(person_id in moved for _, person_id in seen)
        done.unchanged -= also
        done.updated += also
        done.organization = [
            [p.person_id, p.team_id, p.manager_id, p.cost_centre, _iso(p.day)] for p in periods
        ]
        done.notes.append(
            f"{plural(len(periods), 'person')} now with another team, manager or cost "
            "centre (from the file's effective date, else today)."
        )
    for team in new_teams:
        done.snapshot("team", team[0], snapshots.values(snapshots.TEAM, *team[1:]))
    if new_teams:
        # Every team counted is named or counted: five by name, then how many more.
        more = len(new_teams) - 5
        done.notes.append(
            f"{plural(len(new_teams), 'new team')}: "
            + ", ".join(t[1] for t in new_teams[:5])
            + (f" and {more} more" if more > 0 else "")
        )
    if full:
        unseen = "WHERE status = 'active' AND (seen_import_id IS NULL OR seen_import_id <> ?)"
        done.missing = [
            int(i)
            for (i,) in bulk.execute(f"SELECT id FROM person {unseen} ORDER BY id", (batch_id,))
        ]
        gone = bulk.execute(f"UPDATE person SET status = 'missing' {unseen}", (batch_id,)).rowcount
        if gone:
            done.flagged += gone
            done.notes.append(
                f"{gone} active people are not in this full HR export and are flagged as missing."
            )
    return done


def _gives_org(record: PersonRecord) -> bool:
    return record.manager is not None or record.cost_centre is not None


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _with_managers(
    moves: list[memberships.Move],
    org: list[tuple[int, PersonRecord]],
    existing: Iterable[tuple[Any, ...]],
    inserts: list[tuple[Any, ...]],
    done: Applied,
) -> None:
    """Give the moves of ``org`` the manager (by employee number or e-mail, among the people
    stored and those this file adds) and cost centre their rows name.  A manager who matches no
    one leaves the manager held as it was, and is said in a note with the lines."""
    people: dict[str, int] = {}
    for row in (*existing, *inserts):
        person_id, employee_id, _, email = row[:4]
        people.setdefault(str(employee_id).lower(), int(person_id))
        if email:
            people.setdefault(str(email).lower(), int(person_id))
    unmatched: list[int] = []
    for at, record in org:
        given = record.manager is not None
        manager_id: int | None = None
        if record.manager:
            manager_id = people.get(record.manager.lower())
            if manager_id is None:
                unmatched.append(record.line)
                given = False
        moves[at] = moves[at]._replace(
            manager_id=manager_id, manager_given=given, cost_centre=record.cost_centre
        )
    if unmatched:
        lines = ", ".join(str(n) for n in unmatched[:10]) + (", ..." if len(unmatched) > 10 else "")
        done.notes.append(
            f"{plural(len(unmatched), 'manager')} matched no person's employee number or e-mail "
            f"(line {lines}); their people keep the manager they had."
        )


# -- devices --------------------------------------------------------------------------------------


def _person_lookup(bulk: Bulk) -> dict[str, int]:
    """People by email, email local part and employee id (lower case), for owners and users."""
    found: dict[str, int] = {}
    for person_id, employee_id, email in bulk.execute("SELECT id, employee_id, email FROM person"):
        found.setdefault(str(employee_id).lower(), person_id)
        if email:
            address = str(email).lower()
            found[address] = person_id
            found.setdefault(address.split("@", 1)[0], person_id)
    return found


def _owner(people: dict[str, int], text: str) -> int | None:
    value = text.strip().lower()
    if not value:
        return None
    if value in people:
        return people[value]
    value = value.rsplit("\\", 1)[-1]  # DOMAIN\user
    return people.get(value) or people.get(value.split("@", 1)[0])


# BIOS placeholders and test values many machines share; a rename is never matched by them.
_PLACEHOLDER_SERIALS = frozenset(
    {
        "",
        "na",
        "none",
        "null",
        "unknown",
        "notspecified",
        "notapplicable",
        "defaultstring",
        "tobefilledbyoem",
        "systemserialnumber",
        "chassisserialnumber",
        "serialnumber",
        "invalid",
        "123456789",
        "0123456789",
        "1234567890",
    }
)


def _serial_key(serial: str) -> str:
    """A serial compared loosely; empty for a placeholder no machine can be told by."""
    key = "".join(ch for ch in serial.lower() if ch.isalnum())
    return "" if key in _PLACEHOLDER_SERIALS or not key.strip("0") else key


def _devices(bulk: Bulk, batch_id: int, records: Iterator[Record]) -> Applied:
    done = Applied()
    people = _person_lookup(bulk)
    by_host: dict[str, list[Any]] = {}
    by_serial: dict[str, list[Any]] = {}
    shared: set[str] = set()
    for row in bulk.execute(
        "SELECT id, hostname, serial, os, processors, cores, owner_id, last_seen, "
        "processor_model FROM device"
    ):
        values = list(row)
        by_host[str(values[1]).lower()] = values
        if key := _serial_key(str(values[2] or "")):
            if key in by_serial:
                shared.add(key)
            by_serial[key] = values
    rows = [r for r in records if isinstance(r, DeviceRecord)]
    listed: dict[str, int] = {}
    for record in rows:
        if key := _serial_key(record.serial):
            listed[key] = listed.get(key, 0) + 1
    shared.update(key for key, times in listed.items() if times > 1)
    listed_hosts = {r.hostname.lower() for r in rows}
    next_id = bulk.max_id("device")
    inserts: list[tuple[Any, ...]] = []
    updates: dict[int, tuple[Any, ...]] = {}
    renamed: list[int] = []
    changed: set[int] = set()
    set_by: dict[int, int] = {}  # the line that last changed each stored device's own fields
    unknown_owners: list[str] = []
    for record in rows:
        done.rows += 1
        owner_id = _owner(people, record.owner)
        if record.owner and owner_id is None:
            unknown_owners.append(record.owner)
        # A date the file does not give stays as it was (empty for a new device), never today.
        last_seen = bulk.day(record.last_seen) if record.last_seen is not None else None
        host = record.hostname.lower()
        old = by_host.get(host)
        key = _serial_key(record.serial)
        if old is None and key and key not in shared:
            # A machine renamed since: its serial, under a name this file no longer lists.
            candidate = by_serial.get(key)
            if (
                candidate is not None
                and candidate[0] not in updates
                and str(candidate[1]).lower() not in listed_hosts
            ):
                old = candidate
                by_host.pop(str(old[1]).lower(), None)
                renamed.append(old[0])
        if old is None:
            next_id += 1
            row = [
                next_id,
                record.hostname,
                record.serial,
                record.os,
                record.processors,  # None when the file does not say: unknown, not 1 × 4
                record.cores,
                owner_id,
                last_seen,
                record.processor_model or None,  # None: not given
            ]
            inserts.append((*row, batch_id, record.line))
            by_host[host] = row
            done.inserted += 1
            continue
        new = [
            old[0],
            record.hostname,
            record.serial or old[2],
            record.os or old[3],
            record.processors if record.processors is not None else old[4],
            record.cores if record.cores is not None else old[5],
            owner_id if owner_id is not None else old[6],
            last_seen if last_seen is not None else old[7],
            record.processor_model or old[8],
        ]
        compared = [*range(7), 8]  # what a person would call a change (not the last sighting)
        if [str(new[i]) for i in compared] != [str(old[i]) for i in compared]:
            changed.add(old[0])
            set_by[old[0]] = record.line
            done.updated += 1
        else:
            done.unchanged += 1
        updates[old[0]] = (*new[1:], new[0])
        by_host[host] = new
    # Renamed machines give up their old names first: another row may be taking one of them.
    bulk.many(
        "UPDATE device SET hostname = ? WHERE id = ?",
        [(f"\x01renaming {device_id}", device_id) for device_id in renamed],
    )
    bulk.many(
        "UPDATE device SET hostname = ?, serial = ?, os = ?, processors = ?, cores = ?, "
        "owner_id = ?, last_seen = ?, processor_model = ? WHERE id = ?",
        list(updates.values()),
    )
    bulk.insert(
        "device",
        "id, hostname, serial, os, processors, cores, owner_id, last_seen, processor_model, "
        "source_import_id, source_line",
        inserts,
    )
    bulk.advance_sequences(["device"])
    # As stored: an UPDATE of a row this file inserts ran before the insert, so changed nothing.
    final = {row[0]: row[:9] for row in inserts}
    bulk.many(
        "UPDATE device SET source_import_id = ?, source_line = ? WHERE id = ?",
        [(batch_id, line, i) for i, line in sorted(set_by.items()) if i not in final],
    )
    for device_id in sorted(changed - final.keys()):
        final[device_id] = (device_id, *updates[device_id][:-1])
    for device_id, row in sorted(final.items()):
        _, hostname, serial, os_name, processors, cores, owner_id, _, model = row
        done.snapshot(
            "device",
            device_id,
            snapshots.values(
                snapshots.DEVICE, hostname, serial, owner_id, processors, cores, model, os_name
            ),
        )
    if unknown_owners:
        done.notes.append(
            f"{plural(len(unknown_owners), 'primary user')} {agree(len(unknown_owners), 'is')} "
            "not among the people (e.g. "
            f"{unknown_owners[0]}); those devices keep no owner. Import the HR list first."
        )
    return done


# -- installed software ---------------------------------------------------------------------------


def apply_inventory(
    session: Session,
    batch_id: int,
    now: dt.datetime,
    chunks: Iterator[InstallChunk],
    expected_rows: int = 0,
) -> Applied:
    """Write an inventory's installs, read as chunks of indexes (the million-row path).

    New devices and titles are added as the chunks name them.  Installs of devices that have
    none yet (new devices, or a first inventory) only gain rows: they are written as the file
    is read, by a writer thread (SQLite works with the GIL released, so reading the next chunk
    and writing this one share the two cores), a pair listed twice keeping the last date given.
    The other devices' pairs are then compared set-based through a staging table (reactivate
    what was removed, insert what is new, mark removed what the same tool no longer lists).
    ``expected_rows`` (an estimate of the file's rows) and the first chunk's share of new
    installs decide whether the title index is rebuilt, not kept up.
    """
    import numpy as np  # noqa: PLC0415 (numbers for a million rows; not needed at start-up)

    done = Applied()
    bulk = Bulk(session.connection())
    today = bulk.day(now.date())
    devices = _lower_map(bulk.execute("SELECT id, hostname FROM device"))
    titles: dict[tuple[str, str, str], int] = {}
    unmapped: set[int] = set()  # titles no rule maps
    for i, p, t, v, product in bulk.execute(
        "SELECT id, publisher, title, version, product_id FROM software_title"
    ):
        titles[(str(p), str(t), str(v))] = int(i)
        if product is None:
            unmapped.add(int(i))
    normalizer: Normalizer = load_normalizer(session)
    # Devices with open installs: theirs are staged and compared once the file is read (the
    # open-installs index answers this; one whose installs were all removed starts afresh).
    known = np.array(
        [
            int(d)
            for (d,) in bulk.execute(
                "SELECT id FROM device WHERE EXISTS (SELECT 1 FROM installation i "
                "WHERE i.device_id = device.id AND i.removed_on IS NULL)"
            )
        ],
        dtype=np.int64,
    )
    table_rows = done.installs_before = bulk.max_id("installation")
    decided = False  # whether to rebuild the title index: on the first chunk (see below)
    next_device = first_device = bulk.max_id("device")
    next_title = bulk.max_id("software_title")
    device_of = array("q")  # the reader's host index -> device id
    title_of = array("q")  # the reader's title index -> title id
    listed = _Listed(np)  # known devices' pairs
    fresh = _Listed(np)  # the others' pairs, as written (to count them)
    found: Installs | None = None
    day_values: list[Any] = []  # the reader's date index -> the stored value
    with _Writer(bulk) as writer:
        for chunk in chunks:
            found = chunk.found
            new_devices: list[tuple[Any, ...]] = []
            new_titles: list[tuple[Any, ...]] = []
            host_of = np.frombuffer(chunk.host_of, np.int32)
            lines = np.frombuffer(chunk.lines, np.int64) + chunk.line_base
            first_lines = _first_lines(np, host_of, lines, len(device_of))
            for at, host in enumerate(found.hosts[len(device_of) :]):
                device_id = devices.get(host.lower())
                if device_id is None:
                    next_device += 1
                    device_id = devices[host.lower()] = next_device
                    # Hardware unknown; the host name is the row's that first named it.
                    new_devices.append(
                        (device_id, host, "", "", None, None, today, batch_id, first_lines.get(at))
                    )
                    done.snapshot(
                        "device",
                        device_id,
                        snapshots.values(snapshots.DEVICE, host, "", None, None, None, None, ""),
                    )
                device_of.append(device_id)
            for key in found.titles[len(title_of) :]:
                title_id = titles.get(key)
                if title_id is None:
                    next_title += 1
                    title_id = titles[key] = next_title
                    product = normalizer.product_of(RawTitle(*key))
                    new_titles.append((title_id, *key, product))
                    if product is None:
                        unmapped.add(title_id)
                title_of.append(title_id)
            day_values += [bulk.day(d) for d in found.dates[len(day_values) :]]
            done.rows += len(chunk)
            device_ids = np.array(device_of, dtype=np.int64)[host_of]
            title_ids = np.array(title_of, dtype=np.int64)[np.frombuffer(chunk.title_of, np.int32)]
            keys = device_ids << 32 | title_ids
            days = np.array(chunk.date_of, dtype=np.int32) if chunk.date_of else None
            staged = np.isin(device_ids, known)
            listed.add(keys[staged], None if days is None else days[staged], lines[staged])
            new = ~staged
            fresh.add(keys[new], None)  # counted only: their dates go with the writer
            if not decided:
                # The title index takes the new rows in random order; past a quarter of the
                # table, building it again over every row costs less (1M into an empty
                # inventory: 9.0 s -> 5.5 s).  The new rows are guessed from the file's size and
                # the first chunk's share of them; the writer has not started writing yet.
                decided = True
                share = float(new.mean()) if len(new) else 0.0
                if expected_rows * share * 4 > table_rows:
                    bulk.defer_indexes(["installation"], only=["ix_installation_title"])
            writer.send(
                new_devices,
                new_titles,
                _by_day(np, keys[new], None if days is None else days[new], day_values, lines[new]),
                today,
                batch_id,
            )
    bulk.restore_indexes()
    bulk.advance_sequences(["device", "software_title"])
    fresh_keys, _, _ = fresh.distinct()
    done.inserted = len(fresh_keys)
    mask = (1 << 32) - 1
    done.inserted_by_title = _counts(np, fresh_keys & mask)
    pairs, pair_days, pair_lines = listed.distinct()
    if len(pairs):
        _write_known(
            bulk,
            done,
            batch_id,
            today,
            lambda: _install_rows(pairs, pair_days, day_values, pair_lines),
            len(pairs),
        )
    distinct_titles = _distinct(np, np.concatenate([pairs & mask, fresh_keys & mask])).tolist()
    unmatched = len(unmapped.intersection(distinct_titles))
    bulk.advance_sequences(["installation"])
    created = next_device - first_device
    if created:
        done.notes.append(
            f"{plural(created, 'device')} {agree(created, 'was')} new and "
            f"{agree(created, 'was')} added by host name."
        )
    if unmatched:
        done.notes.append(
            f"{plural(unmatched, 'title')} {agree(unmatched, 'matches')} no normalization rule; "
            "map them under Software titles."
        )
    return done


def _first_lines(np: Any, host_of: Any, lines: Any, known: int) -> dict[int, int]:
    """The line of the chunk's first row naming each host it names first (host indexes from
    ``known`` on), by index less ``known``: a new device's source.  A host the reader met only
    in a row it refused has none."""
    fresh = host_of >= known
    if not fresh.any():
        return {}
    hosts, first = np.unique(host_of[fresh], return_index=True)
    return dict(zip((hosts - known).tolist(), lines[fresh][first].tolist(), strict=True))


def _by_day(
    np: Any, keys: Any, days: Any | None, day_values: list[Any], lines: Any
) -> list[tuple[Any, Any, Any]]:
    """A chunk's pairs, each once with the last date the chunk gives it and the line of its
    last row, grouped by that date (the stored value) and in key order within each group:
    (date, keys, lines) with the keys and lines as int64 arrays."""
    chunk = _Listed(np)
    chunk.add(keys, days, lines)
    distinct, last, at = chunk.distinct()
    assert at is not None
    if last is None:
        return [(None, distinct, at)] if len(distinct) else []
    order = np.argsort(last, kind="stable")
    distinct, last, at = distinct[order], last[order], at[order]
    bounds = [*np.flatnonzero(_firsts(np, last)).tolist(), len(last)]
    return [(day_values[int(last[a])], distinct[a:b], at[a:b]) for a, b in pairwise(bounds)]


def _packed(keys: Any, lines: Any) -> tuple[str, tuple[int, int, int, int]] | None:
    """Packed keys and their lines as one JSON array of int64s, each line above its device
    above its title in as few bits as this group needs, with the (title bits, device mask,
    title mask, line shift) that unpack them; None when the three do not fit in 63 bits."""
    devices, titles = keys >> 32, keys & 0xFFFFFFFF
    title_bits = max(int(titles.max()).bit_length(), 1)
    device_bits = max(int(devices.max()).bit_length(), 1)
    shift = title_bits + device_bits
    if shift + int(lines.max()).bit_length() > 63:
        return None
    packed = lines << shift | devices << title_bits | titles
    text = "[" + ",".join(map(str, packed.tolist())) + "]"
    return text, (title_bits, (1 << device_bits) - 1, (1 << title_bits) - 1, shift)


class _Writer:
    """Writes an inventory's new devices, titles and fresh installs on a thread of its own, a
    chunk at a time, while the caller reads the next chunk.

    On SQLite each group of a chunk's installs (those with the same install date) is one
    statement over a JSON array of packed keys: SQLite expands it in C with the GIL released,
    so the reading thread is not held up row by row (an executemany from this thread, which
    takes the GIL back for every row, ran at half its single-threaded speed), and it costs a
    third of an executemany.  PostgreSQL takes the rows by executemany.

    Chunks are written in the order sent (a chunk's devices and titles before its installs,
    which PostgreSQL checks at once); at most two wait.  Leaving the ``with`` block waits for
    the writer and raises what it raised; leaving it by an exception stops the writer first, so
    the transaction rolls back with nobody writing.
    """

    # A pair this path meets again is one an earlier chunk of the same file wrote: its last
    # row's date (when it gives one) and line are the ones kept.
    _CONFLICT = (
        " ON CONFLICT (device_id, title_id) WHERE removed_on IS NULL DO UPDATE "
        "SET install_date = COALESCE(excluded.install_date, installation.install_date), "
        "source_line = excluded.source_line"
    )
    _COLUMNS = (
        "INSERT INTO installation (device_id, title_id, first_seen, removed_on, install_date, "
        "import_id, source_line) "
    )
    _ROWS = _COLUMNS + "VALUES (?, ?, ?, NULL, ?, ?, ?)" + _CONFLICT
    _JSON = (
        _COLUMNS + "SELECT (value >> ?) & ?, value & ?, ?, NULL, ?, ?, value >> ? "
        "FROM json_each(?) WHERE true" + _CONFLICT  # WHERE: SQLite's upsert-after-SELECT rule
    )

    def __init__(self, bulk: Bulk) -> None:
        self._bulk = bulk
        self._json = bulk.sqlite and _has_json_each(bulk)
        self._queue: queue.Queue[tuple[Any, ...] | None] = queue.Queue(maxsize=2)
        self._error: BaseException | None = None
        self._stop = False
        # An in-memory SQLite database lives in one thread's connection: written inline.
        self._inline = isinstance(bulk.conn.engine.pool, SingletonThreadPool)
        self._thread = threading.Thread(target=self._run, name="inventory-writer", daemon=True)

    def __enter__(self) -> _Writer:
        if not self._inline:
            self._thread.start()
        return self

    def send(self, *work: Any) -> None:
        """Queue one chunk: (new devices, new titles, installs by day, today, batch id)."""
        if self._inline:
            self._write(*work)
            return
        if self._error is not None:
            raise self._error
        self._queue.put(work)

    def __exit__(self, kind: object, value: object, traceback: object) -> None:
        if self._inline:
            return
        if kind is not None:
            self._stop = True
        self._queue.put(None)
        self._thread.join()
        if kind is None and self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (work := self._queue.get()) is not None:
            if self._stop or self._error is not None:
                continue
            try:
                self._write(*work)
            except BaseException as exc:  # raised in the caller's thread
                self._error = exc

    def _write(
        self,
        new_devices: list[tuple[Any, ...]],
        new_titles: list[tuple[Any, ...]],
        by_day: list[tuple[Any, Any, Any]],
        today: Any,
        batch_id: int,
    ) -> None:
        bulk = self._bulk
        bulk.insert(
            "device",
            "id, hostname, serial, os, processors, cores, last_seen, source_import_id, source_line",
            new_devices,
        )
        bulk.insert("software_title", "id, publisher, title, version, product_id", new_titles)
        for day, keys, lines in by_day:
            packed = _packed(keys, lines) if self._json else None
            if packed is not None:
                text, (title_bits, devices, titles, shift) = packed
                bulk.execute(
                    self._JSON, (title_bits, devices, titles, today, day, batch_id, shift, text)
                )
            else:
                rows = (
                    (k >> 32, k & 0xFFFFFFFF, today, day, batch_id, n)
                    for k, n in zip(keys.tolist(), lines.tolist(), strict=True)
                )
                bulk.stream(self._ROWS, rows)


def _has_json_each(bulk: Bulk) -> bool:
    """Whether this SQLite has JSON built in (3.38 and later always do)."""
    try:
        bulk.execute("SELECT COUNT(*) FROM json_each('[1]')").scalar()
    except OperationalError:  # an older SQLite without JSON: rows by executemany
        return False
    return True


def _install_rows(
    keys: Any, days: Any, day_values: list[Any], lines: Any
) -> Iterator[tuple[Any, ...]]:
    """(device, title, install date, line) of packed keys, in key order."""
    devices = (keys >> 32).tolist()
    titles = (keys & ((1 << 32) - 1)).tolist()
    dates = [day_values[d] for d in days.tolist()] if days is not None else [None] * len(devices)
    return zip(devices, titles, dates, lines.tolist(), strict=True)


def _write_known(  # noqa: PLR0917 (one step of apply_inventory, sharing its state)
    bulk: Bulk,
    done: Applied,
    batch_id: int,
    today: Any,
    rows: Callable[[], Iterator[tuple[Any, ...]]],
    count: int,
) -> None:
    """Installs of devices that have some: insert what is new (a title found again after it was
    removed is a new install: the earlier one stays in the past), and mark removed what an
    earlier export of the same tool listed and this one does not.

    ``rows`` gives (device, title, install date, line) in key order, each time it is called.
    An install already open keeps the import and line that first listed it.
    """
    before = bulk.max_id("installation")
    changed = bulk.stream(
        "INSERT INTO installation (device_id, title_id, first_seen, removed_on, install_date, "
        "import_id, source_line) VALUES (?, ?, ?, NULL, ?, ?, ?) "
        "ON CONFLICT (device_id, title_id) WHERE removed_on IS NULL DO NOTHING",
        ((device, title, today, day, batch_id, n) for device, title, day, n in rows()),
    )
    # New rows take ids past the highest, as this transaction is the only writer.
    inserted = int(
        bulk.execute("SELECT COUNT(*) FROM installation WHERE id > ?", (before,)).scalar() or 0
    )
    done.inserted += inserted
    done.updated += changed - inserted
    done.unchanged += count - changed
    if inserted:
        by_title = done.inserted_by_title
        for title, new in bulk.execute(
            "SELECT title_id, COUNT(*) FROM installation WHERE id > ? GROUP BY title_id",
            (before,),
        ):
            by_title[int(title)] = by_title.get(int(title), 0) + int(new)
    # An export lists everything its tool found on each device it covers, so what an earlier
    # export of the same tool found there and this one no longer lists was removed.  Another
    # tool's finds stay: two discovery tools rarely see the same software.
    earlier = bulk.execute(
        "SELECT 1 FROM import_batch WHERE kind = 'inventory' AND id <> ? AND format = "
        "(SELECT format FROM import_batch WHERE id = ?) LIMIT 1",
        (batch_id, batch_id),
    ).first()
    if earlier is None:
        return  # the first export of this tool: nothing of its can have gone
    key = "PRIMARY KEY (device_id, title_id)"
    bulk.execute(
        "CREATE TEMP TABLE import_stage (device_id INTEGER NOT NULL, title_id INTEGER NOT NULL, "
        f"{key}) " + ("WITHOUT ROWID" if bulk.sqlite else "ON COMMIT DROP")
    )
    bulk.stream(
        "INSERT INTO import_stage (device_id, title_id) VALUES (?, ?)",
        ((device, title) for device, title, _, _ in rows()),
    )
    done.removed = bulk.execute(
        "UPDATE installation SET removed_on = ? WHERE removed_on IS NULL "
        "AND device_id IN (SELECT DISTINCT device_id FROM import_stage) AND NOT EXISTS ("
        "SELECT 1 FROM import_stage s WHERE s.device_id = installation.device_id "
        "AND s.title_id = installation.title_id) "
        "AND import_id IN (SELECT id FROM import_batch WHERE kind = 'inventory' AND format = "
        "(SELECT format FROM import_batch WHERE id = ?))",
        (today, batch_id),
    ).rowcount
    if bulk.sqlite:
        bulk.execute("DROP TABLE import_stage")


def _distinct(np: Any, values: Any) -> Any:
    """Distinct int64 values, ascending: a plain sort, as numpy 2.4's ``unique`` takes 1.35 s
    for a million keys that sort in 0.02 s."""
    ordered = np.sort(values)
    return ordered[_firsts(np, ordered)]


def _counts(np: Any, values: Any) -> dict[int, int]:
    """How often each int64 value occurs (a sort, as in :func:`_distinct`)."""
    ordered = np.sort(values)
    starts = np.flatnonzero(_firsts(np, ordered))
    sizes = np.diff(np.append(starts, len(ordered)))
    return dict(zip(ordered[starts].tolist(), sizes.tolist(), strict=True))


def _firsts(np: Any, ordered: Any) -> Any:
    """Where each run of equal values in sorted ``ordered`` begins, as a mask."""
    first = np.ones(len(ordered), dtype=bool)
    first[1:] = ordered[1:] != ordered[:-1]
    return first


class _Listed:
    """The (device, title) pairs a file lists, packed in one int64 each, with their dates and
    lines.

    Each pair counts once, with the last install date the file gives it (a date index, 0 for
    none) and the line of its last row.  Rows are compacted now and then, so memory follows the
    distinct pairs, not the rows.
    """

    COMPACT_AT = 4_000_000

    def __init__(self, np: Any) -> None:
        self.np = np
        self.keys: list[Any] = []
        self.days: list[Any] = []
        self.lines: list[Any] = []
        self.dated = False
        self.lined = False
        self.rows = 0

    def add(self, keys: Any, days: Any | None, lines: Any | None = None) -> None:
        """Rows in file order: packed keys and, when the file has the column, date indexes;
        ``lines`` where they are kept (not for pairs only counted)."""
        self.keys.append(keys)
        if days is not None:
            self.dated = True
            self.days.append(days)
        if lines is not None:
            self.lined = True
            self.lines.append(lines)
        self.rows += len(keys)
        if self.rows >= self.COMPACT_AT:
            self.distinct()

    def distinct(self) -> tuple[Any, Any | None, Any | None]:
        """The distinct keys in ascending order, their dates (None: no date column) and the
        lines of their last rows (None: not kept)."""
        np = self.np
        keys = np.concatenate(self.keys) if self.keys else np.empty(0, np.int64)
        if not self.dated and not self.lined:
            keys = _distinct(np, keys)
            self.keys, self.rows = [keys], len(keys)
            return keys, None, None
        if not self.dated:  # lines only: a pair's last row is its highest line, in any order
            order = np.argsort(keys)
            keys = keys[order]
            first = _firsts(np, keys)
            out_keys = keys[first]
            lines = np.concatenate(self.lines)[order]
            out_lines = np.maximum.reduceat(lines, np.flatnonzero(first)) if len(keys) else lines
            self.keys, self.lines, self.rows = [out_keys], [out_lines], len(out_keys)
            return out_keys, None, out_lines
        order = np.argsort(keys, kind="stable")  # a pair's rows stay in file order
        keys = keys[order]
        first = _firsts(np, keys)
        out_keys = keys[first]
        out_days = out_lines = None
        if self.dated:
            days = np.concatenate(self.days)[order]
            group = np.cumsum(first) - 1
            out_days = np.zeros(len(out_keys), dtype=np.int32)
            dated = np.flatnonzero(days)
            if len(dated):
                groups = group[dated]
                last = np.ones(len(dated), dtype=bool)  # the last dated row of its pair
                last[:-1] = groups[1:] != groups[:-1]
                out_days[groups[last]] = days[dated[last]]
            self.days = [out_days]
        if self.lined:
            lines = np.concatenate(self.lines)[order]
            final = np.ones(len(keys), dtype=bool)  # the last row of its pair
            final[:-1] = first[1:]
            out_lines = lines[final]
            self.lines = [out_lines]
        self.keys, self.rows = [out_keys], len(out_keys)
        return out_keys, out_days, out_lines


# -- usage ----------------------------------------------------------------------------------------


def _usage(  # noqa: PLR0917 (the parts of one usage import, passed straight through)
    session: Session,
    bulk: Bulk,
    batch_id: int,
    records: Iterator[Record],
    snapshot: flexlm.Snapshot | None,
    denials: list[Denial] | None = None,
) -> Applied:
    done = Applied()
    people = _person_lookup(bulk)
    normalizer = load_normalizer(session)
    products: dict[tuple[str, str], int | None] = {}
    before_max = bulk.max_id("usage_session")
    unknown_users: dict[str, int] = {}  # user name -> the first line naming it
    owners: dict[str, int | None] = {}  # a log names a few thousand users millions of times
    seen = bulk.stamp(snapshot.taken_at) if snapshot is not None else None
    shown: set[tuple[str, str]] = set()  # a snapshot's (server, feature) of its checkouts

    def rows() -> Iterator[tuple[Any, ...]]:
        # One row at a time into the driver: a year of debug log (2.4M sessions) is never a
        # list of tuples at once.
        for record in records:
            assert isinstance(record, UsageRecord)
            done.rows += 1
            # By feature alone, as rules.remap re-maps stored sessions (they keep no publisher).
            key = ("", record.feature)
            if key not in products:
                products[key] = normalizer.product_of(RawTitle("", record.feature))
            user = record.user
            if user in owners:
                person_id = owners[user]
            else:
                person_id = owners[user] = _owner(people, user)
            if person_id is None:
                unknown_users.setdefault(record.user, record.line)
            if seen is not None:
                shown.add((record.server.lower(), record.feature))
            yield (
                record.feature,
                record.user,
                record.host,
                bulk.stamp(record.checkout),
                bulk.stamp(record.checkin),
                record.units,
                products[key],
                person_id,
                batch_id,
                record.server,
                record.handle,
                seen,
                record.line,
            )

    # A snapshot's sighting moves seen_at forward only: an older snapshot imported late does not
    # make a checkout look older than a newer one showed it.
    latest = "max" if bulk.sqlite else "GREATEST"
    bulk.stream(
        "INSERT INTO usage_session (feature, user_name, host, checkout, checkin, units, "
        "product_id, person_id, import_id, server, handle, seen_at, source_line) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (feature, user_name, host, checkout, server, handle) DO UPDATE SET "
        "import_id = excluded.import_id, source_line = excluded.source_line, "
        "checkin = COALESCE(excluded.checkin, usage_session.checkin), "
        f"seen_at = COALESCE({latest}(excluded.seen_at, usage_session.seen_at), "
        "excluded.seen_at, usage_session.seen_at)",
        rows(),
    )
    done.inserted = int(
        bulk.execute("SELECT COUNT(*) FROM usage_session WHERE id > ?", (before_max,)).scalar() or 0
    )
    done.unchanged = done.rows - done.inserted
    if denials:  # complete now that the records were read
        _denials(bulk, batch_id, denials, products, normalizer, people, owners)
    if snapshot is not None and snapshot.by_server:
        # Each server's own features only: a file cut before a server's later features, or a
        # feature one server serves and another does not, closes nothing it did not list; a
        # server none of whose features may close (its only block ends the file) closes nothing.
        taken = bulk.stamp(snapshot.taken_at)
        for server, listed in sorted(snapshot.by_server.items()):
            if not listed:
                continue
            features = sorted(listed)
            done.updated += bulk.execute(
                "UPDATE usage_session SET checkin = ? WHERE checkin IS NULL AND import_id <> ? "
                "AND checkout <= ? AND (seen_at IS NULL OR seen_at < ?) "
                f"AND feature IN ({', '.join('?' * len(features))}) AND lower(server) = ?",
                (taken, batch_id, taken, taken, *features, server.lower()),
            ).rowcount
    elif snapshot is not None and snapshot.features:
        # Checkouts an earlier snapshot of the same server showed that this one does not were
        # returned meanwhile; one that began after this snapshot was taken, or that a newer
        # snapshot showed (a newer file imported first), was not.  Another server's checkouts
        # of the same feature are not this snapshot's to close.
        features = sorted(snapshot.features)
        servers = sorted(_checkout_servers(snapshot))
        taken = bulk.stamp(snapshot.taken_at)
        done.updated = bulk.execute(
            "UPDATE usage_session SET checkin = ? WHERE checkin IS NULL AND import_id <> ? "
            "AND checkout <= ? AND (seen_at IS NULL OR seen_at < ?) "
            f"AND feature IN ({', '.join('?' * len(features))}) "
            f"AND lower(server) IN ({', '.join('?' * len(servers))})",
            (taken, batch_id, taken, taken, *features, *servers),
        ).rowcount
    if snapshot is not None:
        _snapshot_rows(bulk, batch_id, snapshot, shown)
        done.notes.extend(snapshot.notes)
    if unknown_users:
        example = min(unknown_users)
        where = f", line {unknown_users[example]}" if unknown_users[example] > 0 else ""
        done.notes.append(
            f"{plural(len(unknown_users), 'user name')} {agree(len(unknown_users), 'matches')} "
            f"no person (e.g. {example}{where})."
        )
    unmatched = sum(1 for value in products.values() if value is None)
    if unmatched:
        done.notes.append(
            f"{plural(unmatched, 'feature')} {agree(unmatched, 'matches')} no normalization rule."
        )
    return done


def _denials(  # noqa: PLR0917 (the usage import's lookups, shared)
    bulk: Bulk,
    batch_id: int,
    denials: list[Denial],
    products: dict[tuple[str, str], int | None],
    normalizer: Normalizer,
    people: dict[str, int],
    owners: dict[str, int | None],
) -> None:
    """A debug log's refused checkouts, each with its line; a log imported again (a longer
    copy) keeps each refusal once."""

    def rows() -> Iterator[tuple[Any, ...]]:
        for d in denials:
            key = ("", d.feature)
            if key not in products:
                products[key] = normalizer.product_of(RawTitle("", d.feature))
            if d.user in owners:
                person_id = owners[d.user]
            else:
                person_id = owners[d.user] = _owner(people, d.user)
            yield (
                d.feature,
                d.user,
                d.host,
                bulk.stamp(d.when),
                d.daemon,
                d.nth,
                bulk.flag(d.capacity),
                d.reason,
                products[key],
                person_id,
                batch_id,
                d.line,
            )

    bulk.stream(
        "INSERT INTO usage_denial (feature, user_name, host, denied_at, server, nth, capacity, "
        "reason, product_id, person_id, import_id, line) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT (feature, user_name, host, denied_at, server, nth) DO NOTHING",
        rows(),
    )


def _snapshot_rows(
    bulk: Bulk, batch_id: int, snapshot: flexlm.Snapshot, shown: set[tuple[str, str]]
) -> None:
    """Record that ``snapshot`` looked at each of its servers' features at its instant (those
    it showed nothing in use of too): what the position's concurrency figure rests on.  The
    same snapshot imported again adds nothing."""
    if snapshot.taken_at.year < 1990:  # a reader's "no snapshot" (a file refused by line)
        return
    listed: dict[str, set[str]] = defaultdict(set)
    for server, feature in shown:
        listed[server].add(feature)
    if snapshot.by_server:
        for server, features in snapshot.by_server.items():
            listed[server.lower()].update(features)
    else:
        servers = (_checkout_servers(snapshot) - {""}) | set(listed)
        for server in servers or {""}:
            listed[server].update(snapshot.features)
    taken = bulk.stamp(snapshot.taken_at)
    bulk.stream(
        "INSERT INTO usage_snapshot (import_id, server, feature, taken_at, recovered) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (feature, server, taken_at) DO NOTHING",
        (
            (batch_id, server[:255], feature[:200], taken, bulk.flag(False))
            for server, features in sorted(listed.items())
            for feature in sorted(features)
        ),
    )


def _checkout_servers(snapshot: flexlm.Snapshot) -> set[str]:
    """The servers a snapshot is of, as its checkout lines name them ("host/port").

    The status line says "27000@lic01" (a triad: three, comma-separated); checkout lines say
    "lic01/27000".  Checkouts stored before servers were recorded have "" and are this
    snapshot's too.
    """
    named = {""}
    for server in snapshot.servers:
        port, _, host = server.partition("@")
        if host:
            named.add(f"{host}/{port}".lower())
    return named


# -- license file grants --------------------------------------------------------------------------


def apply_grants(
    session: Session,
    server: str,
    batch_id: int,
    listing: flexlm_grants.GrantList,
    problems: list[Problem],
) -> Applied:
    """Replace ``server``'s grants with the ones ``listing`` holds (the newest import counts).

    A grant like one the server had (same daemon, feature, version, count and expiry) counts
    as unchanged, the others as new, and those it no longer lists as no longer present.
    """
    del problems  # an 'lmstat -i' output is checked whole by its reader
    done = Applied()
    name = server.strip()
    same_server = func.lower(LicenseGrant.server) == name.lower()
    before = list(session.scalars(select(LicenseGrant).where(same_server)))
    kept = Counter(
        _grant_key(g.vendor_daemon, g.feature, g.version, g.count, g.expires) for g in before
    )
    for grant in before:
        session.delete(grant)
    session.flush()
    for record in listing.grants:
        done.rows += 1
        key = _grant_key(
            record.vendor, record.feature, record.version, record.count, record.expires
        )
        if kept[key]:
            kept[key] -= 1
            done.unchanged += 1
        else:
            done.inserted += 1
        session.add(
            LicenseGrant(
                server=name,
                vendor_daemon=record.vendor,
                feature=record.feature,
                version=record.version,
                count=record.count,
                expires=record.expires,
                line=record.line,
                import_id=batch_id,
                listed_at=listing.taken_at,
            )
        )
    done.removed = sum(kept.values())
    session.flush()
    earlier = max((g.listed_at for g in before if g.listed_at is not None), default=None)
    if earlier is not None and listing.taken_at is not None:
        earlier = earlier if earlier.tzinfo is not None else earlier.replace(tzinfo=dt.UTC)
        if earlier > listing.taken_at:
            done.notes.append(
                f"This output was listed on {listing.taken_at:%Y-%m-%d %H:%M}, before the one it "
                f"replaces ({earlier:%Y-%m-%d %H:%M}): the newest import of {name} counts."
            )
    normalizer = load_normalizer(session)
    features = {g.feature for g in listing.grants}
    unmatched = sorted(f for f in features if normalizer.product_of(RawTitle("", f)) is None)
    if unmatched:
        done.notes.append(
            f"{plural(len(unmatched), 'feature')} {agree(len(unmatched), 'matches')} no "
            f"normalization rule (e.g. {unmatched[0]}); a grant is compared with the purchases "
            "once a rule maps its feature to a product."
        )
    return done


def _grant_key(
    vendor: str, feature: str, version: str, count: int | None, expires: dt.date | None
) -> tuple[str, str, str, int | None, dt.date | None]:
    return (vendor.lower(), feature, version, count, expires)


# -- entitlements ---------------------------------------------------------------------------------


_RECORD_FIELD = {"min_cores_per_processor": "min_cores"}  # where the record's name differs
_COUNTED_LABELS = {
    "core_factor": "Core factor",
    "min_cores_per_processor": "Minimum cores",
    "unit_table": "Units per core by processor",
}


def _entitlements(
    session: Session,
    batch_id: int,
    records: Iterator[Record],
    problems: list[Problem],
    given: frozenset[str],
) -> Applied:
    done = Applied()
    vendors = {v.name.lower(): v for v in session.scalars(select(Vendor))}
    products = {(p.vendor_id, p.name.lower()): p for p in session.scalars(select(Product))}
    owned = {
        (e.product_id, e.metric, e.po_reference.lower()): e
        for e in session.scalars(select(Entitlement))
    }
    made: list[Vendor | Product | Entitlement] = []  # recorded once all are flushed
    for record in records:
        assert isinstance(record, EntitlementRecord)
        done.rows += 1
        vendor = vendors.get(record.vendor.lower())
        if vendor is None:
            vendor = vendors[record.vendor.lower()] = Vendor(
                name=record.vendor, website="", notes=""
            )
            session.add(vendor)
            session.flush()
            made.append(vendor)
        product = products.get((vendor.id, record.product.lower()))
        if product is None:
            product = Product(vendor_id=vendor.id, name=record.product, notes="")
            products[(vendor.id, record.product.lower())] = product
            session.add(product)
            session.flush()
            made.append(product)
        key = (product.id, record.metric.value, record.po_reference.lower())
        entitlement = owned.get(key)
        values: dict[str, Any] = {
            "quantity": record.quantity,
            "term_start": record.term_start,
            "term_end": record.term_end,
            "unit_cost": record.unit_cost,
            "currency": record.currency,
            "reseller": record.reseller,
            "min_cores_per_processor": record.min_cores,
            "core_factor": record.core_factor,
            "unit_table": record.unit_table,
            "notice_days": record.notice_days,
            "cancel_by": record.cancel_by,
        }
        if entitlement is None:
            entitlement = Entitlement(
                product_id=product.id,
                name=f"{record.product} ({record.po_reference})"[:200],
                metric=record.metric.value,
                po_reference=record.po_reference,
                notes="",
                seats_used=0,
                retired=False,
                import_id=batch_id,
                source_line=record.line,
                **(values | {"currency": record.currency or "EUR"}),
            )
            owned[key] = entitlement
            session.add(entitlement)
            made.append(entitlement)
            done.inserted += 1
            continue
        if record.quantity < entitlement.seats_used and not Metric(entitlement.metric).unlimited:
            problems.append(
                Problem(
                    record.line,
                    "Quantity",
                    str(record.quantity),
                    f"is below the {plural(entitlement.seats_used, 'seat')} in use on this "
                    "purchase; "
                    "release seats first",
                )
            )
            continue
        edits: dict[str, Any] = {}
        for name, value in values.items():
            if _RECORD_FIELD.get(name, name) not in given or (name == "currency" and not value):
                continue  # the file does not say: what is stored stands
            current = getattr(entitlement, name)
            if isinstance(current, Decimal) and value is not None:
                same = Decimal(current) == Decimal(value)
            else:
                same = current == value
            if not same:
                edits[name] = value
        counted = edits.keys() & {"min_cores_per_processor", "core_factor", "unit_table"}
        if counted and entitlement.seats_used and Metric(entitlement.metric) is Metric.PER_CORE:
            name = min(counted)  # one problem per row, the same one every run
            value = edits[name]
            problems.append(
                Problem(
                    record.line,
                    _COUNTED_LABELS[name],
                    value or "" if name == "unit_table" else f"{Decimal(value).normalize():f}",
                    f"changes what the {plural(entitlement.seats_used, 'unit')} in use on this "
                    "purchase count; release the seats first",
                )
            )
            continue
        for name, value in edits.items():
            setattr(entitlement, name, value)
        if edits:
            entitlement.import_id, entitlement.source_line = batch_id, record.line
            made.append(entitlement)
        changed = bool(edits)
        done.updated += changed
        done.unchanged += not changed
    session.flush()
    for row in made:
        if isinstance(row, Vendor):
            done.snapshot("vendor", row.id, snapshots.vendor(row))
        elif isinstance(row, Product):
            done.snapshot("product", row.id, snapshots.product(row))
        else:
            done.snapshot("entitlement", row.id, snapshots.entitlement(row))
    return done
