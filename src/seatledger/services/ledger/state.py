"""Whether the rows a report counts are what the ledger says: replay the ledger, compare the rows.

Every service call records what it made of the rows it wrote (the snapshots of
:mod:`seatledger.services.core.snapshots`, the seat entries of
:func:`~seatledger.services.seats.service.assigned`, the rows an import added or changed).  This
module streams the ledger in seq order (keyset batches, never a long read transaction), replays
those entries into the state they imply for operators, teams, vendors, products, entitlements,
people, devices, seat assignments and the server topology (hosts, VMs and where each ran, as the
topology imports' entries and the hard partitions record them), then reads those tables a batch
at a time and names every
row that differs: the table, the row and the field, a row no entry made, and a row an entry made
that is gone.  The comparison of each value is :func:`seatledger.domain.state.compare_value`.

What imports maintain in bulk is not replayed: installs, usage sessions, license file grants,
software titles and their mapping, and the last-seen dates imports refresh (:data:`NOT_COVERED`
says so wherever the result is shown).  Memory grows with the rows replayed (seats are kept in
arrays, eight bytes a field), never with the ledger.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from array import array
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, false, func, literal_column, select, text
from sqlalchemy.orm import InstrumentedAttribute

from seatledger.domain.commitments import PERSONAL_FIELDS, commitment
from seatledger.domain.ledger import (
    GENESIS_HASH,
    Failure,
    Problem,
    StoredEntry,
    Verdict,
    verify_chain,
    verify_entries,
)
from seatledger.domain.licensing import Metric
from seatledger.domain.state import (
    Difference,
    Kind,
    compare_row,
    identical,
    is_commitment,
    shown,
    utc_micros,
)
from seatledger.errors import KnownError, LedgerIntegrityError
from seatledger.progress import Progress
from seatledger.services.core import snapshots
from seatledger.store import ledger_store
from seatledger.store.db import Database
from seatledger.store.models import (
    Device,
    Entitlement,
    Installation,
    Operator,
    Person,
    Product,
    SeatAssignment,
    SoftwareTitle,
    Team,
    Vendor,
)
from seatledger.store.models_servers import (
    HOST_FIELDS,
    VM_FIELDS,
    ServerHost,
    ServerPlacement,
    ServerVm,
)
from seatledger.text import agree, plural

SEAT = "seat_assignment"
SEAT_FIELDS = (
    "entitlement_id",
    "person_id",
    "device_id",
    "units",
    "started_at",
    "ended_at",
    "assigned_by",
    "released_by",
    "over_commit",
    "over_commit_reason",
    "note",
)
# A person's directory account state (0030): only directory imports set it, and their entries
# record it, so a row no entry gave a state has none (an entry from before 0030, or of an HR
# import or an edit by hand, leaves it unrecorded: None, not "not compared").
ACCOUNT = "account_disabled"
# The fields compared, table by table, in the order tables are read.
FIELDS: dict[str, tuple[str, ...]] = {
    "operator": (*snapshots.OPERATOR, "active"),
    "team": snapshots.TEAM,
    "vendor": snapshots.VENDOR,
    "product": snapshots.PRODUCT,
    "entitlement": (*snapshots.ENTITLEMENT, "seats_used"),
    "person": (*snapshots.PERSON, ACCOUNT),
    "device": snapshots.DEVICE,
    SEAT: SEAT_FIELDS,
}
_MODELS: dict[str, Any] = {
    "operator": Operator,
    "team": Team,
    "vendor": Vendor,
    "product": Product,
    "entitlement": Entitlement,
    "person": Person,
    "device": Device,
    SEAT: SeatAssignment,
}
_SERVER_MODELS: dict[str, Any] = {
    "server_host": ServerHost,
    "server_vm": ServerVm,
    "server_placement": ServerPlacement,
}
# The row each kind of row belongs to, for narrowing differences to an audit's scope.
_PARENT = {"product": "vendor_id", "entitlement": "product_id", SEAT: "entitlement_id"}
NOT_COVERED = (
    "installs (an inventory import records its file's SHA-256 and counts, not each install)",
    "usage sessions and refused checkouts (likewise, for license-server and usage imports)",
    "license file grants and software titles with their mapping to products",
    "vendor statements' lines (a statement import's entry lists them; they are not replayed)",
    "devices', server hosts' and VMs' last-seen dates and people's last HR import (every "
    "import refreshes them)",
)
# Server topology, replayed from the topology imports' entries and the hard partitions: each
# table's key (hosts by name, VMs by identity, placements by VM and start) and its fields.
SERVER_FIELDS: dict[str, tuple[str, ...]] = {
    "server_host": (*HOST_FIELDS, "source"),
    "server_vm": (*VM_FIELDS, "hard_partition_cores"),
    "server_placement": ("vm_name", "host", "vcpus", "ended", "import_id"),
}
KEPT = 1000  # differences kept to show; all are counted
READ_BATCH = 20_000
ATTEMPTS = 3  # replays when the ledger grew while the rows were read
_T = TypeVar("_T")
_TIMES = frozenset({"started_at", "ended_at"})
_OPERATORS = frozenset({"assigned_by", "released_by"})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_NONE = -(2**63)  # "no value" in the seat arrays (no holder, still open, nobody released it)
_UNKNOWN = _NONE + 1  # the ledger did not record this field of the seat
_CHANGED_COUNTS = ("inserted", "updated", "flagged")
_decode = json.JSONDecoder().decode  # bodies are canonical UTF-8: no encoding to detect
_UNRECORDED = object()  # equal to no stored value: a seat whose units no entry recorded


@dataclass
class StateReport:
    """What comparing the rows with the ledger found."""

    entries: int = 0  # ledger entries replayed
    rows: Counter[str] = field(default_factory=Counter)  # rows compared, by table
    differences: list[Difference] = field(default_factory=list)  # the first KEPT
    total: int = 0  # every difference
    by_table: Counter[str] = field(default_factory=Counter)
    # (table, field): rows whose field no entry recorded (older entries carried fewer fields).
    unrecorded: Counter[tuple[str, str]] = field(default_factory=Counter)
    sealed: int = 0  # values the ledger holds as commitments, not compared
    # The kept salts of the commitments, by table, then (row id, field): a committed value is
    # compared by committing the stored one with its salt (an erased field's is sealed).
    salts: Callable[[str, str, str], bytes | None] = lambda _type, _id, _field: None
    not_covered: tuple[str, ...] = NOT_COVERED
    products: dict[int, int] = field(default_factory=dict)  # entitlement -> product, as stored
    unreplayable: int = 0  # imports recorded before their entries said which rows they wrote

    @property
    def ok(self) -> bool:
        """True when every row compared is what the ledger says."""
        return self.total == 0

    def add(self, found: list[Difference]) -> None:
        """Count differences, keeping the first few to show."""
        for difference in found:
            self.total += 1
            self.by_table[difference.table] += 1
            if len(self.differences) < KEPT:
                self.differences.append(difference)

    def summary(self) -> str:
        """One line, without a full stop: how many rows and differences."""
        rows = sum(self.rows.values())
        if self.ok:
            return (
                f"State verified: {rows:,} rows are what the ledger's {self.entries:,} entries say"
            )
        tables = ", ".join(f"{n:,} in {t}" for t, n in sorted(self.by_table.items()))
        return (
            f"State BROKEN: {plural(self.total, 'difference')} between the database and the "
            "ledger "
            f"({tables})"
        )

    def coverage(self) -> list[str]:
        """Lines saying what was not compared, and why."""
        lines = [
            f"{table}.{name}: {plural(count, 'row')} not compared (no entry recorded this field)"
            for (table, name), count in sorted(self.unrecorded.items())
        ]
        if self.sealed:
            lines.append(f"{self.sealed:,} values held as commitments, not compared")
        if self.unreplayable and not self.ok:
            lines.append(
                f"{plural(self.unreplayable, 'import')} {agree(self.unreplayable, 'was')} "
                "recorded before imports' entries named the rows they wrote: rows they added "
                "or changed show above as differences the ledger cannot settle"
            )
        lines += [f"not covered: {what}" for what in self.not_covered]
        return lines

    def in_scope(
        self, vendor_id: int, product_ids: set[int], *, servers: bool = True
    ) -> list[Difference]:
        """The kept differences that bear on one vendor's audit: its vendor, its products,
        their entitlements and seats, and any person, device, team or operator (people and
        devices are counted by every vendor's metrics; operators sign); the server tables'
        where the vendor has server rules (``servers``).  Only the first :data:`KEPT` are
        kept: when ``total`` is larger, others may bear on it too."""
        found = []
        for d in self.differences:
            moved = d.field in _PARENT.values() and d.recorded  # moved to or from the scope
            if d.table in SERVER_FIELDS:
                keep = servers
            elif d.table == "vendor":
                keep = d.row == vendor_id
            elif d.table == "product":
                keep = d.row in product_ids or vendor_id in (d.parent, moved)
            elif d.table == "entitlement":
                keep = d.parent in product_ids or moved in product_ids
            elif d.table == SEAT:
                keep = any(
                    self.products.get(e) in product_ids for e in (d.parent, moved) if e is not None
                )
            else:
                keep = True
            if keep:
                found.append(d)
        return found


class _Seats:
    """The seats the ledger made, by id, in arrays (a million seats in tens of megabytes)."""

    def __init__(self) -> None:
        self.made = bytearray()
        self.entitlement = array("q")
        self.person = array("q")
        self.device = array("q")
        self.units = array("q")
        self.started = array("q")
        self.ended = array("q")
        self.assigned_by = array("q")
        self.released_by = array("q")
        self.over_commit = bytearray()
        self.reasons: dict[int, str] = {}  # over-commits' reasons (rare)
        self.notes: dict[int, str] = {}

    def _grow(self, seat: int) -> None:
        more = seat + 1 - len(self.made)
        if more <= 0:
            return
        more = max(more, len(self.made) // 2, 1024)
        self.made.extend(bytes(more))
        self.over_commit.extend(bytes(more))
        for column in (
            self.entitlement,
            self.person,
            self.device,
            self.units,
            self.started,
            self.ended,
            self.assigned_by,
            self.released_by,
        ):
            column.extend(array("q", [_NONE]) * more)

    def assign(  # noqa: PLR0917 (one seat's fields, as one entry records them)
        self,
        seat: int,
        entitlement: int,
        person: int | None,
        device: int | None,
        units: int | None,
        started: int,
        by: int,
        over_commit: bool,
        reason: str,
        note: str,
    ) -> None:
        self._grow(seat)
        self.made[seat] = 1
        self.entitlement[seat] = entitlement
        self.person[seat] = _NONE if person is None else person
        self.device[seat] = _NONE if device is None else device
        self.units[seat] = _UNKNOWN if units is None else units
        self.started[seat] = started
        self.ended[seat] = _NONE
        self.assigned_by[seat] = by
        self.released_by[seat] = _NONE
        self.over_commit[seat] = over_commit
        if over_commit:
            self.reasons[seat] = reason
        if note:
            self.notes[seat] = note

    def release(self, seat: int, ended: int, by: int) -> None:
        if seat < len(self.made) and self.made[seat]:
            self.ended[seat] = ended
            self.released_by[seat] = by

    def recorded(self, seat: int) -> dict[str, Any]:
        """What the ledger says seat ``seat`` is (fields it did not record are left out)."""
        row: dict[str, Any] = {
            "entitlement_id": self.entitlement[seat],
            "person_id": _value(self.person[seat]),
            "device_id": _value(self.device[seat]),
            "started_at": self.started[seat],
            "ended_at": _value(self.ended[seat]),
            "assigned_by": self.assigned_by[seat],
            "released_by": _value(self.released_by[seat]),
            "over_commit": bool(self.over_commit[seat]),
            "over_commit_reason": self.reasons.get(seat, ""),
            "note": self.notes.get(seat, ""),
        }
        if self.units[seat] != _UNKNOWN:
            row["units"] = self.units[seat]
        return row

    def values(self, seat: int) -> tuple[Any, ...] | None:
        """What the ledger says seat ``seat`` is, in :data:`SEAT_FIELDS` order (times in
        microseconds), marking it compared; None if no entry made it."""
        if seat >= len(self.made) or not self.made[seat]:
            return None
        self.made[seat] |= 2  # compared: not gone
        none = _NONE
        units, person, device = self.units[seat], self.person[seat], self.device[seat]
        ended, released = self.ended[seat], self.released_by[seat]
        return (
            self.entitlement[seat],
            None if person == none else person,
            None if device == none else device,
            _UNRECORDED if units == _UNKNOWN else units,
            self.started[seat],
            None if ended == none else ended,
            self.assigned_by[seat],
            None if released == none else released,
            self.over_commit[seat] == 1,
            self.reasons.get(seat, ""),
            self.notes.get(seat, ""),
        )

    def ids(self) -> Iterator[int]:
        return (seat for seat, made in enumerate(self.made) if made)

    def used(self) -> tuple[Counter[int], set[int]]:
        """Units of open seats by entitlement, and the entitlements with a seat of unknown
        units (their count cannot be replayed)."""
        used: Counter[int] = Counter()
        unknown: set[int] = set()
        for seat in self.ids():
            if self.ended[seat] == _NONE:
                units = self.units[seat]
                if units == _UNKNOWN:
                    unknown.add(self.entitlement[seat])
                else:
                    used[self.entitlement[seat]] += units
        return used, unknown


def _value(stored: int) -> int | None:
    return None if stored == _NONE else stored


def _moment(ts: str) -> int:
    return utc_micros(dt.datetime.fromisoformat(ts))


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a handler reads of one entry."""

    entity_id: str
    ts: str
    operator: str
    reason: str
    after: dict[str, Any]


class _Servers:
    """The server topology the ledger implies: hosts by name, VMs by identity, placements by
    VM and start (the import entries record what each export wrote, ``after["server_rows"]``)."""

    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, Any]] = {}
        self.vms: dict[str, dict[str, Any]] = {}
        self.placements: dict[tuple[str, int], dict[str, Any]] = {}
        self.open: dict[str, tuple[str, int]] = {}  # VM identity -> its open placement
        self.unrecorded = 0  # topology imports whose entries do not say what they wrote

    def imported(self, e: _Entry) -> None:
        """``import.topology``: the hosts and VMs an export added or changed, the VMs it
        removed, the placements it ended and opened."""
        rows = e.after.get("server_rows")
        if not isinstance(rows, dict):
            self.unrecorded += 1
            return
        at, source = str(rows["at"]), rows["source"]
        for name, *values in rows["server_host"]:
            self.hosts[name] = {**dict(zip(HOST_FIELDS, values, strict=True)), "source": source}
        for identity in rows["server_vm_removed"]:
            self.vms.pop(identity, None)
        for identity, *values, new in rows["server_vm"]:
            before = self.vms.get(identity)
            pinned = None if new or before is None else before["hard_partition_cores"]
            self.vms[identity] = {
                **dict(zip(VM_FIELDS, values, strict=True)),
                "hard_partition_cores": pinned,
            }
        for identity in rows["server_placement_closed"]:
            key = self.open.pop(identity, None)
            if key is not None:
                self.placements[key]["ended"] = at
        started = _moment(at)
        for identity, vm_name, host, vcpus in rows["server_placement_opened"]:
            key = (identity, started)
            self.placements[key] = {
                "vm_name": vm_name,
                "host": host,
                "vcpus": vcpus,
                "ended": None,
                "import_id": int(e.entity_id),
            }
            self.open[identity] = key

    def partition(self, e: _Entry) -> None:
        """``server.hard_partition``: the cores a VM is pinned to (older entries name the VM
        by name alone)."""
        identity = e.after.get("identity")
        if identity is None:
            named = [i for i, vm in self.vms.items() if vm["name"] == e.after.get("vm")]
            identity = named[0] if len(named) == 1 else None
        if identity in self.vms:
            self.vms[identity]["hard_partition_cores"] = e.after.get("hard_partition_cores")


class Replay:
    """The state the ledger's entries imply, built one entry at a time (in seq order)."""

    def __init__(self) -> None:
        self.servers = _Servers()
        self.rows: dict[str, dict[int, dict[str, Any]]] = {
            table: {} for table in FIELDS if table != SEAT
        }
        self.seats = _Seats()
        self.operators: dict[str, int] = {}  # names are unique and never change
        self.unreplayable = 0  # imports whose entries do not say what they wrote

    def entry(  # noqa: PLR0917 (the stored columns of one entry)
        self,
        seq: int,
        action: str,
        entity_id: str,
        ts: str,
        operator: str,
        body: bytes,
    ) -> None:
        """Apply one entry (entries of actions that write none of these rows are skipped).

        Raises:
            LedgerIntegrityError: the entry's body is not what SeatLedger writes for its action
                (a chain recomputed over a hand-written body verifies; it does not replay).
        """
        handler = _HANDLERS.get(action)
        if handler is None:
            return
        try:
            what = _decode(body.decode())["what"]
            after = what.get("after")
            if isinstance(after, dict):
                reason = str(what.get("reason") or "")
                handler(self, _Entry(entity_id, ts, operator, reason, after))
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            raise LedgerIntegrityError(
                f"Entry {seq} cannot be replayed: its body is not what SeatLedger writes for "
                f"{action} ({type(exc).__name__}: {exc}).",
                seq,
            ) from exc

    def merge(self, table: str, row: str | int, values: Mapping[str, Any]) -> None:
        """Record what the ledger says of some fields of one row."""
        self.rows[table].setdefault(int(row), {}).update(values)

    def operator_create(self, e: _Entry) -> None:
        """``operator.create``: an active operator with a name and a role."""
        self.merge("operator", e.entity_id, {**e.after, "active": True})
        if isinstance(e.after.get("name"), str):
            self.operators[e.after["name"]] = int(e.entity_id)

    def assign(self, e: _Entry) -> None:
        """``seat.assign``, ``seat.bulk_assign``: new seats of the entry's entitlement."""
        after = e.after
        ids = after.get("assignments") or []
        people, devices = after.get("people"), after.get("devices")
        holders = people or devices or []
        each = after.get("units_each")
        if not isinstance(each, list):
            total = after.get("units")
            if len(ids) == 1:
                each = [total]
            elif total == len(ids):
                each = [1] * len(ids)
            else:
                each = [None] * len(ids)  # several seats of different units, not recorded
        over = "over_commit" in after
        started, by = _moment(e.ts), self.operators.get(e.operator, _UNKNOWN)
        for seat, holder, units in zip(ids, holders, each, strict=False):
            self.seats.assign(
                int(seat),
                int(e.entity_id),
                int(holder) if people else None,
                None if people else int(holder),
                units if isinstance(units, int) else None,
                started,
                by,
                over,
                e.reason if over else "",
                str(after.get("note", "")),
            )

    def release(self, e: _Entry) -> None:
        """``seat.release`` and its bulk forms: seats ended now, by the entry's operator."""
        ended, by = _moment(e.ts), self.operators.get(e.operator, _UNKNOWN)
        for seat in e.after.get("released") or []:
            self.seats.release(int(seat), ended, by)

    def review_close(self, e: _Entry) -> None:
        """``review.close``: the seats its access review moved to another person (the holder's
        seat ended and the person's seat of the same license began at the close)."""
        moved = e.after.get("moved") or []
        if not moved:
            return
        at, by = _moment(e.ts), self.operators.get(e.operator, _UNKNOWN)
        note = str(e.after.get("moved_note", ""))
        for move in moved:
            self.seats.release(int(move["seat"]), at, by)
            self.seats.assign(
                int(move["new_seat"]),
                int(move["entitlement"]),
                int(move["to_person"]),
                None,
                1,
                at,
                by,
                False,
                "",
                note,
            )

    def imported(self, e: _Entry) -> None:
        """``import.people``, ``devices``, ``entitlements``, ``snipeit``: the rows the import
        added or changed, and the people it flagged (an entry written before imports recorded
        their rows, yet changed some, is counted as one that cannot be replayed)."""
        if "written" not in e.after and any(e.after.get(n) for n in _CHANGED_COUNTS):
            self.unreplayable += 1
        self.inventory(e)

    def inventory(self, e: _Entry) -> None:
        """``import.inventory``: the devices it added by host name (its installs are not
        replayed; an older entry that added none says nothing of devices either)."""
        written = e.after.get("written")
        if isinstance(written, dict):
            for table, made in written.items():
                if table in self.rows and isinstance(made, dict):
                    for row, values in made.items():
                        self.merge(table, row, values)
        for person in e.after.get("flagged_missing") or []:
            self.merge("person", person, {"status": "missing"})

    def topology(self, e: _Entry) -> None:
        """``import.topology``: the server rows an export wrote."""
        self.servers.imported(e)

    def partition(self, e: _Entry) -> None:
        """``server.hard_partition``: a VM pinned to cores (or no longer)."""
        self.servers.partition(e)


def _changed(table: str) -> Callable[[Replay, _Entry], None]:
    """The handler of an entry whose ``after`` is the fields of one row of ``table``."""

    def handler(replay: Replay, e: _Entry) -> None:
        replay.merge(table, e.entity_id, e.after)

    return handler


_HANDLERS: dict[str, Callable[[Replay, _Entry], None]] = {
    "operator.create": Replay.operator_create,
    "operator.update": _changed("operator"),
    "team.create": _changed("team"),
    "vendor.create": _changed("vendor"),
    "product.create": _changed("product"),
    "entitlement.create": _changed("entitlement"),
    "entitlement.update": _changed("entitlement"),
    "person.create": _changed("person"),
    "person.update": _changed("person"),
    "person.leave": _changed("person"),
    "device.create": _changed("device"),
    "device.update": _changed("device"),
    "seat.assign": Replay.assign,
    "seat.bulk_assign": Replay.assign,
    "seat.release": Replay.release,
    "seat.bulk_release": Replay.release,
    "seat.release_departed": Replay.release,
    "review.close": Replay.review_close,  # the seats an access review moved
    "import.people": Replay.imported,
    "import.devices": Replay.imported,
    "import.inventory": Replay.inventory,
    "import.entitlements": Replay.imported,
    "import.snipeit": Replay.imported,
    "import.topology": Replay.topology,
    "server.hard_partition": Replay.partition,
}
# Entries whose body may be needed; the others are skipped unread.
REPLAYED = frozenset(_HANDLERS)


def check_ledger_and_state(
    db: Database, progress: Progress | None = None
) -> tuple[Verdict, StateReport | None]:
    """Verify the chain and the rows in one pass over the ledger (what signing a report needs).

    Each entry is replayed once the chain has accepted it, so a broken ledger is reported as
    such (with no state: a broken ledger says nothing reliable of the rows).

    Raises:
        Cancelled: ``progress`` was cancelled.
        StateChanged: the ledger grew during every attempt.
    """

    def attempt(size: int, head: bytes) -> tuple[tuple[Verdict, StateReport | None], bool]:
        replay = Replay()
        step = _stepper(progress, "Verifying the ledger", size)
        with db.engine.connect() as conn:
            verdict = verify_chain(
                _replayed(ledger_store.stream(conn, upto=size, progress=step), replay),
                expected_size=size,
                expected_head=head,
            )
        if not verdict.ok:
            return (verdict, None), True
        report = StateReport(entries=verdict.entries, unreplayable=replay.unreplayable)
        _compare(db, replay, report, progress)
        return (verdict, report), False

    return _settled(db, attempt, "the rows", "try again")


def _settled(
    db: Database, attempt: Callable[[int, bytes], tuple[_T, bool]], what: str, again: str
) -> _T:
    """Run ``attempt`` over the ledger up to its size and head until no entry was appended
    meanwhile, :data:`ATTEMPTS` times at most; ``attempt`` returns its result and whether the
    result stands however the ledger grew (a broken chain is broken whatever came after).

    Raises:
        StateChanged: the ledger grew during every attempt (``what`` was being compared,
            ``again`` says what to do about it).
    """
    for _ in range(ATTEMPTS):
        with db.read() as session:
            size, head = ledger_store.head(session)
        result, final = attempt(size, head)
        if final:
            return result
        with db.read() as session:
            if ledger_store.head(session)[0] == size:
                return result
    raise StateChanged(
        f"The ledger kept growing while {what} were compared with it; {again} when "
        "nobody is changing the database."
    )


def _stepper(progress: Progress | None, stage: str, size: int) -> Callable[[int], None] | None:
    """Start ``stage`` and report the entries streamed so far, of ``size``."""
    if progress is None:
        return None
    progress.stage(stage)
    progress(0, size)
    return lambda done: progress(min(done, size), size)


def _replayed(entries: Iterator[StoredEntry], replay: Replay) -> Iterator[StoredEntry]:
    """Pass entries on to the chain check, replaying each one it accepted."""
    for row in entries:
        yield row
        seq, ts, operator, action, _type, entity_id, body = row[:7]
        if action in REPLAYED:
            replay.entry(seq, action, entity_id, ts, operator, bytes(body))


class StateChanged(KnownError):
    """The ledger kept growing while the rows were read; the check could not settle."""


def verify_state(db: Database, progress: Progress | None = None) -> StateReport:
    """Replay the whole ledger and compare every row it accounts for with the database.

    Reads the ledger up to the head recorded when it starts, then the tables a batch at a time;
    if entries were appended meanwhile (someone kept working), it starts again, a few times.

    Raises:
        Cancelled: ``progress`` was cancelled.
        StateChanged: the ledger grew during every attempt.
    """
    return _settled(
        db, lambda size, _head: (_attempt(db, size, progress), False), "the rows", "verify again"
    )


def _attempt(db: Database, size: int, progress: Progress | None) -> StateReport:
    replay = Replay()
    step = _stepper(progress, "Replaying the ledger", size)
    count = 0
    with db.engine.connect() as conn:
        for seq, ts, operator, action, _type, entity_id, body, _prev, _hash in ledger_store.stream(
            conn, upto=size, progress=step
        ):
            count += 1
            if action in REPLAYED:
                replay.entry(seq, action, entity_id, ts, operator, bytes(body))
    report = StateReport(entries=count, unreplayable=replay.unreplayable)
    _compare(db, replay, report, progress)
    return report


def _count_seats(replay: Replay) -> None:
    """Give each replayed license the seats its replayed seats use (where they are all known)."""
    used, unknown = replay.seats.used()
    for row_id, row in replay.rows["entitlement"].items():
        if row_id not in unknown:
            row["seats_used"] = used.get(row_id, 0)


def _compare(db: Database, replay: Replay, report: StateReport, progress: Progress | None) -> None:
    seats = replay.seats
    names = {number: name for name, number in replay.operators.items()}
    _count_seats(replay)
    with db.read() as session:
        totals = {table: _count(session, _MODELS[table]) for table in FIELDS}
        report.salts = ledger_store.salt_lookup(session, PERSONAL_FIELDS)
    total = sum(totals.values())
    if progress is not None:
        progress.stage("Comparing rows with the ledger")
        progress(0, total)
    done = 0
    for table, fields in FIELDS.items():
        recorded = replay.rows.get(table)
        if table == SEAT:
            done = _compare_seats(db, seats, names, report, _Count(progress, done, total))
        for batch in _stored(db, table, fields) if table != SEAT else ():
            for row_id, stored in batch:
                found = _recorded(report, table, row_id, stored, recorded)
                if found is not None:
                    _compared(report, table, row_id, stored, *found)
            done += len(batch)
            if progress is not None:
                progress(min(done, total), total)
        gone = (
            [seat for seat in seats.ids() if not seats.made[seat] & 2]
            if table == SEAT
            else sorted(recorded or {})
        )
        for row_id in gone:
            rec = seats.recorded(row_id) if table == SEAT else (recorded or {})[row_id]
            report.add(
                [
                    Difference(
                        table, row_id, Kind.MISSING_ROW, parent=rec.get(_PARENT.get(table, ""))
                    )
                ]
            )
    _compare_servers(db, replay.servers, report)


def _compare_servers(db: Database, servers: _Servers, report: StateReport) -> None:
    """Compare the server tables with the topology the ledger implies (hosts by name, VMs by
    identity, placements by VM and start); each difference names the row by its name too."""
    if servers.unrecorded:
        report.not_covered = (
            *report.not_covered,
            f"server hosts, VMs and placements ({plural(servers.unrecorded, 'topology import')} "
            f"{agree(servers.unrecorded, 'was')} recorded before imports' entries named the "
            "rows they wrote)",
        )
        return
    tables: list[tuple[str, dict[Any, dict[str, Any]], Any]] = [
        ("server_host", dict(servers.hosts), ServerHost.__table__.c.name),
        ("server_vm", dict(servers.vms), ServerVm.__table__.c.identity),
        ("server_placement", dict(servers.placements), None),
    ]
    placement = ServerPlacement.__table__.c
    for table, recorded, key_column in tables:
        fields = SERVER_FIELDS[table]
        model: Table = _SERVER_MODELS[table].__table__
        keys = (
            [key_column] if key_column is not None else [placement.vm_identity, placement.started]
        )
        columns = [model.c.id, *keys, *(model.c[name] for name in fields)]
        with db.read() as session:
            rows = session.execute(select(*columns).order_by(model.c.id)).all()
        for row in rows:
            row_id = int(row[0])
            if key_column is not None:
                key: Any = row[1]
                label = str(key)
                values = row[2:]
            else:
                key = (row[1], utc_micros(row[2]))
                label = f"{row[1]} from {shown(row[2])}"
                values = row[3:]
            report.rows[table] += 1
            stored = dict(zip(fields, values, strict=True))
            rec = recorded.pop(key, None)
            if rec is None:
                report.add([Difference(table, row_id, Kind.UNRECORDED_ROW, label=label)])
                continue
            found, _unrecorded, _sealed = compare_row(table, row_id, stored, rec, fields)
            report.add([dataclasses.replace(d, label=label) for d in found])
        for key in recorded:
            label = str(key) if key_column is not None else f"{key[0]} from {_shown_micros(key[1])}"
            report.add([Difference(table, 0, Kind.MISSING_ROW, label=label)])


def _shown_micros(micros: int) -> str:
    return shown(_EPOCH + dt.timedelta(microseconds=micros))


def _recorded(
    report: StateReport,
    table: str,
    row_id: int,
    stored: dict[str, Any],
    recorded: dict[int, dict[str, Any]] | None,
) -> tuple[dict[str, Any], Any] | None:
    """Count a stored row and take what the ledger recorded of it out of ``recorded``, with the
    row it belongs to; None, the row reported unrecorded, when the ledger recorded nothing."""
    report.rows[table] += 1
    rec = recorded.pop(row_id, None) if recorded is not None else None
    parent = stored.get(_PARENT.get(table, ""))
    if table == "entitlement":
        report.products[row_id] = stored["product_id"]
    if rec is None:
        report.add([Difference(table, row_id, Kind.UNRECORDED_ROW, parent=parent)])
        return None
    return rec, parent


def _compared(  # noqa: PLR0917 (one row: where, both sides, what it belongs to)
    report: StateReport,
    table: str,
    row_id: int,
    stored: Mapping[str, Any],
    recorded: Mapping[str, Any],
    parent: int | None,
    names: Mapping[int, str] | None = None,
) -> None:
    seal = None
    if table == "person" and ACCOUNT not in recorded:
        recorded = {**recorded, ACCOUNT: None}
    if table in PERSONAL_FIELDS:
        salts, entity_id = report.salts, str(row_id)

        def seal(field_name: str, value: Any) -> str | None:
            salted = salts(table, entity_id, field_name)
            return None if salted is None else commitment(salted, value)

    found, unrecorded, sealed = compare_row(
        table, row_id, stored, recorded, FIELDS[table], parent, seal
    )
    if names is not None:
        found = [_shown(d, names) for d in found]
    report.add(found)
    report.sealed += sealed
    for name in unrecorded:
        report.unrecorded[(table, name)] += 1


@dataclass
class _Count:
    """Rows compared so far, of all tables', reported as progress."""

    progress: Progress | None
    done: int
    total: int

    def add(self, rows: int) -> int:
        self.done += rows
        if self.progress is not None:
            self.progress(min(self.done, self.total), self.total)
        return self.done


_SEAT_SQL = (
    f"SELECT id, {', '.join(SEAT_FIELDS)} FROM seat_assignment WHERE id > :after "
    "ORDER BY id LIMIT :limit"
)


def _seat_compared(
    report: StateReport,
    seats: _Seats,
    key: Sequence[Any],
    values: tuple[Any, ...],
    names: Mapping[int, str],
) -> None:
    """Compare a stored seat (``key``: its id and license; ``values`` as :func:`identical`
    takes them, times in microseconds) with the replayed one, field by field."""
    stored = dict(zip(SEAT_FIELDS, values, strict=True))
    for name in _TIMES:
        if stored[name] is not None:
            stored[name] = _EPOCH + dt.timedelta(microseconds=stored[name])
    seat = int(key[0])
    _compared(report, SEAT, seat, stored, seats.recorded(seat), key[1], names)


def _compare_seats(
    db: Database, seats: _Seats, names: Mapping[int, str], report: StateReport, count: _Count
) -> int:
    """Compare the seat table (a million rows on the large demo) with the replayed seats.

    Rows are read as the driver gives them (no ORM conversions) and their times turned into
    microseconds; a row whose values are identical to the replay's needs no comparison (an
    identical value compares the same under any rule), the others go field by field through
    :func:`~seatledger.domain.state.compare_row`, as every other table does.
    """
    after = 0
    while True:
        with db.read() as session:
            rows = session.execute(text(_SEAT_SQL), {"after": after, "limit": READ_BATCH}).all()
        if not rows:
            return count.done
        for row in rows:
            seat = int(row[0])
            values = (*row[1:5], _micros(row[5]), _micros(row[6]), *row[7:])
            recorded = seats.values(seat)
            if recorded is None:
                report.add([Difference(SEAT, seat, Kind.UNRECORDED_ROW, parent=row[1])])
            elif not identical(values, recorded):
                _seat_compared(report, seats, row[:2], values, names)
        report.rows[SEAT] += len(rows)
        count.add(len(rows))
        after = int(rows[-1][0])


def _micros(value: Any) -> int | None:
    """A stored time as microseconds (SQLite gives naive UTC text, PostgreSQL datetimes)."""
    if value is None:
        return None
    moment = value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(value)
    return utc_micros(moment)


def _shown(difference: Difference, names: Mapping[int, str]) -> Difference:
    """A seat's difference as people read it: times as times (the replay keeps microseconds),
    operators by name."""
    stored, recorded = difference.stored, difference.recorded
    if difference.field in _TIMES and isinstance(recorded, int):
        recorded = _EPOCH + dt.timedelta(microseconds=recorded)
    elif difference.field in _OPERATORS:
        stored, recorded = (
            value if value is None else names.get(value, f"operator {value}")
            for value in (stored, recorded)
        )
    return dataclasses.replace(difference, stored=stored, recorded=recorded)


def _count(session: Any, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _stored(
    db: Database, table: str, fields: tuple[str, ...]
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The table's rows by id, a batch per short read transaction (keyset paging)."""
    model: Table = _MODELS[table].__table__
    columns = [model.c.id, *(model.c[name] for name in fields)]
    after = 0
    while True:
        with db.read() as session:
            rows = session.execute(
                select(*columns).where(model.c.id > after).order_by(model.c.id).limit(READ_BATCH)
            ).all()
        if not rows:
            return
        yield [(int(row[0]), dict(zip(fields, row[1:], strict=True))) for row in rows]
        after = int(rows[-1][0])


# ------------------------------------------------------------------------- one audit's scope

# Entries read whole for a scoped check, whatever their entity: few, and any may write a row
# in scope (an import writes people, devices and licenses; operators sign; teams hold people;
# a product or license recorded as the vendor's is in scope wherever it is stored).
_WHOLE_TYPES = ("operator", "team", "import", "vendor", "product")
# Metrics whose count goes by person (an install counts its device's owner).
_BY_PERSON = frozenset({Metric.PER_USER.value, Metric.SUBSCRIPTION.value})
_LICENSE_ACTIONS = ("entitlement.create", "entitlement.update")
_ASSIGN_ACTIONS = ("seat.assign", "seat.bulk_assign")
_IN_CHUNK = 5000
# Each entry with the hash stored with the entry before it (none before the first).
_ENTRY_SELECT = (
    "SELECT e.seq, e.ts, e.operator, e.action, e.entity_type, e.entity_id, e.body, "
    "e.prev_hash, e.hash, p.hash FROM ledger_entry e LEFT JOIN ledger_entry p "
    "ON p.seq = e.seq - 1 WHERE"
)


def check_scope(
    db: Database,
    vendor_id: int,
    product_ids: set[int],
    progress: Progress | None = None,
    *,
    servers: bool = False,
) -> tuple[Verdict, StateReport]:
    """Check what one vendor's audit counts against the ledger, reading only its scope.

    The ledger: its entries are numbered 1..size without a gap (a count, not a read), and every
    entry in scope (below) is checked as :func:`verify_chain` checks it (its hash recomputed
    from its body, its link to the hash stored before it, its indexed columns), then replayed.
    The rows: the vendor, its products (``product_ids``, or all of the vendor's when empty),
    their licenses and the licenses' seats, the devices holding those seats or running those
    products, the people holding the seats (and owning those devices, when a license counts
    users; everyone, when one is a site license), every team and operator (operators sign),
    each compared with what the replayed entries say, as :func:`verify_state` compares the
    whole database; with ``servers`` (the vendor has server rules), the server topology too.
    A product, license or seat moved out of the scope with raw SQL is found from the ledger's
    side (its entries say it is in scope).

    Entries outside the scope are not read: an edited body there is ``ledger verify``'s to
    find (the bundle export checks the whole chain beside the audit's own work).

    Returns the verdict over the entries in scope (``entries`` counts them) and the rows'
    report (``differences`` are all in scope).

    Raises:
        Cancelled: ``progress`` was cancelled.
        StateChanged: the ledger grew during every attempt.
    """

    def attempt(size: int, head: bytes) -> tuple[tuple[Verdict, StateReport], bool]:
        with db.read() as session:
            gap = ledger_store.first_gap(session, size)
        if gap is not None:
            return (Verdict(0, head, Failure(gap, Problem.MISSING)), StateReport()), True
        scoped = _Scoped(db, size, vendor_id, product_ids, progress, servers=servers)
        failed = scoped.replay()
        if failed is not None:
            return (Verdict(scoped.checked, head, failed), StateReport()), True
        report = StateReport(entries=scoped.checked, unreplayable=scoped.replayed.unreplayable)
        scoped.compare(report)
        return (Verdict(scoped.checked, head, None), report), False

    return _settled(db, attempt, "the rows in scope", "try again")


class _Scoped:
    """One attempt of :func:`check_scope`: the entries in scope, then the rows."""

    def __init__(
        self,
        db: Database,
        size: int,
        vendor_id: int,
        product_ids: set[int],
        progress: Progress | None,
        *,
        servers: bool,
    ) -> None:
        self.db = db
        self.servers = servers
        self.size = size
        self.vendor_id = vendor_id
        self.asked = set(product_ids)
        self.progress = progress
        self.replayed = Replay()
        self.checked = 0
        self.before: dict[int, bytes | None] = {}  # the hash stored before each entry read
        self.products: set[int] = set()
        self.licenses: set[int] = set()
        self.seats: set[int] = set()
        self.devices: set[int] = set()
        self.people: set[int] | None = set()  # None: every person

    # ---------------------------------------------------------------- entries

    def _entries(self, where: str) -> list[tuple[Any, ...]]:
        """The entries up to the size that ``where`` selects (SQL of our own: constants and
        integers only), in seq order (sorted here: an ORDER BY would lead SQLite to the
        (type, seq) index instead of the (type, id, seq) one that picks the entries)."""
        sql = f"{_ENTRY_SELECT} e.seq <= {int(self.size)} AND {where}"
        with self.db.engine.connect() as conn:
            rows = sorted(conn.exec_driver_sql(sql).fetchall(), key=itemgetter(0))
        before = self.before
        for row in rows:
            before[row[0]] = (
                GENESIS_HASH if row[0] == 1 else None if row[9] is None else _as_bytes(row[9])
            )
        return [(*row[:6], *map(_as_bytes, row[6:9])) for row in rows]

    def _by_id(self, entity_type: str, ids: Iterable[int | str]) -> list[tuple[Any, ...]]:
        """The entries of ``entity_type`` about ``ids`` (in seq order within each chunk of
        ids), picked by the database through the (type, id, seq) index: the work grows with
        the entries in scope, not with the ledger."""
        ordered = sorted({str(i) for i in ids})
        found: list[tuple[Any, ...]] = []
        for start in range(0, len(ordered), _IN_CHUNK):
            listed = ", ".join(f"'{_id_text(i)}'" for i in ordered[start : start + _IN_CHUNK])
            found += self._entries(f"e.entity_type = '{entity_type}' AND e.entity_id IN ({listed})")
        return found

    def replay(self) -> Failure | None:
        """Read, check and replay every entry in scope; the first that fails, if any."""
        step = _stepper(self.progress, "Checking the ledger entries in scope", 4)
        entries: dict[int, tuple[Any, ...]] = {}

        def take(rows: Iterable[tuple[Any, ...]]) -> None:
            for row in rows:
                entries[row[0]] = row

        take(self._entries(f"e.entity_type IN ({_listed(_WHOLE_TYPES)})"))
        take(self._entries("e.action = 'review.close'"))  # few; they may move seats in scope
        take(
            self._entries(
                f"e.entity_type = 'entitlement' AND e.action IN ({_listed(_LICENSE_ACTIONS)})"
            )
        )
        if self.servers:  # the topology imports are read whole above; the partitions here
            take(self._entries("e.action = 'server.hard_partition'"))
        if step is not None:
            step(1)
        # The scope as the ledger says it and as stored: a row moved out of it is still in it.
        early = Replay()
        for key in sorted(entries):
            seq, ts, operator, action, _type, entity_id, body = entries[key][:7]
            if action in REPLAYED and _type in {"vendor", "product", "entitlement", "import"}:
                early.entry(seq, action, entity_id, ts, operator, body)
        metrics = self._scope_from(early)
        holders: set[int] = set()
        for row in self._by_id("entitlement", self.licenses):
            if row[3] not in _ASSIGN_ACTIONS:
                continue
            entries[row[0]] = row
            # Decoded again when replayed: keeping every decoded body until then held a few
            # hundred megabytes for a vendor with a million seats.
            with suppress(ValueError, TypeError, KeyError, AttributeError):  # named when replayed
                after = _decode(row[6].decode())["what"]["after"]
                self.seats.update(int(s) for s in after.get("assignments") or [])
                if after.get("people"):
                    holders.update(int(p) for p in after["people"])
                else:
                    self.devices.update(int(d) for d in after.get("devices") or [])
        holders |= self._stored_seats()
        if step is not None:
            step(2)
        take(self._by_id("seat", [*self.seats, ""]))  # "": a release of several seats
        owners = self._devices_of_products(owners=bool(metrics & _BY_PERSON))
        take(self._by_id("device", self.devices))
        if Metric.SITE.value in metrics:  # everyone on staff counts
            self.people = None
            take(self._entries("e.entity_type = 'person'"))
        else:
            self.people = holders | owners
            take(self._by_id("person", self.people))
        if step is not None:
            step(3)
        ordered = [entries[seq] for seq in sorted(entries)]
        entries.clear()
        failure = verify_entries(ordered, self.before.get)
        if failure is not None:
            return failure
        self.checked = len(ordered)
        replay = self.replayed
        for n, (seq, ts, operator, action, _type, entity_id, body, _prev, _hash) in enumerate(
            ordered
        ):
            ordered[n] = ()  # each body let go once replayed: the replay grows as they go
            if action in REPLAYED:
                replay.entry(seq, action, entity_id, ts, operator, body)
        if step is not None:
            step(4)
        return None

    def _scope_from(self, early: Replay) -> set[str]:
        """The products and licenses in scope, from the rows and from the ledger; returns the
        licenses' metrics (as stored and as recorded)."""
        with self.db.read() as session:
            if self.asked:
                self.products = set(self.asked)
            else:
                self.products = set(
                    session.scalars(select(Product.id).where(Product.vendor_id == self.vendor_id))
                )
                self.products |= {
                    row_id
                    for row_id, values in early.rows["product"].items()
                    if values.get("vendor_id") == self.vendor_id
                }
            stored = session.execute(
                select(Entitlement.id, Entitlement.metric).where(
                    _among(Entitlement.product_id, sorted(self.products))
                )
            ).all()
        recorded = {
            row_id: values
            for row_id, values in early.rows["entitlement"].items()
            if values.get("product_id") in self.products
        }
        self.licenses = {int(row_id) for row_id, _metric in stored} | set(recorded)
        metrics = {str(metric) for _id, metric in stored}
        metrics |= {str(v.get("metric")) for v in recorded.values()}
        return metrics

    def _stored_seats(self) -> set[int]:
        """Add the stored seats of the licenses in scope; returns the people holding them (the
        devices holding them are added to the scope's)."""
        ordered = sorted(self.licenses)
        people: set[int] = set()
        with self.db.read() as session:
            for start in range(0, len(ordered), _IN_CHUNK):
                rows = session.execute(
                    select(
                        SeatAssignment.id, SeatAssignment.person_id, SeatAssignment.device_id
                    ).where(
                        _among(SeatAssignment.entitlement_id, ordered[start : start + _IN_CHUNK])
                    )
                )
                for seat, person, device in rows:
                    self.seats.add(int(seat))
                    if person is not None:
                        people.add(int(person))
                    if device is not None:
                        self.devices.add(int(device))
        return people

    def _devices_of_products(self, *, owners: bool) -> set[int]:
        """Add the devices running one of the products; returns their owners when ``owners``
        (a user metric counts the owner of an install)."""
        products = sorted(self.products)
        found: set[int] = set()
        with self.db.read() as session:
            for start in range(0, len(products), _IN_CHUNK):
                titles = select(SoftwareTitle.id).where(
                    _among(SoftwareTitle.product_id, products[start : start + _IN_CHUNK])
                )
                found.update(
                    session.scalars(
                        select(Installation.device_id)
                        .where(Installation.title_id.in_(titles))
                        .distinct()
                    )
                )
            self.devices |= found
            people: set[int] = set()
            if owners:
                ordered = sorted(self.devices)
                for start in range(0, len(ordered), _IN_CHUNK):
                    people.update(
                        p
                        for p in session.scalars(
                            select(Device.owner_id).where(
                                _among(Device.id, ordered[start : start + _IN_CHUNK])
                            )
                        )
                        if p is not None
                    )
        return people

    # ---------------------------------------------------------------- rows

    def compare(self, report: StateReport) -> None:
        """Compare the rows in scope with the replay (see :func:`_compare`)."""
        replay = self.replayed
        names = {number: name for name, number in replay.operators.items()}
        _count_seats(replay)
        only = {"person": self.people, "device": self.devices}
        with self.db.read() as session:
            report.salts = ledger_store.salt_lookup(session, PERSONAL_FIELDS, only)
        scope: dict[str, set[int] | None] = {
            "operator": None,
            "team": None,
            "vendor": {self.vendor_id},
            "product": self.products,
            "entitlement": self.licenses,
            "person": self.people,
            "device": self.devices,
        }
        if self.progress is not None:
            self.progress.stage("Comparing the rows in scope with the ledger")
        tables = len(FIELDS)
        for done, (table, fields) in enumerate(FIELDS.items()):
            if table == SEAT:
                self._compare_seats(report, names)
            else:
                self._compare_table(report, table, fields, scope[table])
            if self.progress is not None:
                self.progress(done + 1, tables)
        if self.servers:
            _compare_servers(self.db, replay.servers, report)

    def _compare_table(
        self, report: StateReport, table: str, fields: tuple[str, ...], ids: set[int] | None
    ) -> None:
        recorded = self.replayed.rows[table]
        if ids is not None:
            recorded = {row_id: recorded[row_id] for row_id in ids if row_id in recorded}
        batches = (
            _stored(self.db, table, fields)
            if ids is None
            else _stored_ids(self.db, table, fields, ids)
        )
        for batch in batches:
            for row_id, stored in batch:
                found = _recorded(report, table, row_id, stored, recorded)
                if found is not None and not _plainly_same(
                    report, table, row_id, stored, found[0], fields
                ):
                    _compared(report, table, row_id, stored, *found)
        for row_id in sorted(recorded):
            parent = recorded[row_id].get(_PARENT.get(table, ""))
            report.add([Difference(table, row_id, Kind.MISSING_ROW, parent=parent)])

    def _compare_seats(self, report: StateReport, names: Mapping[int, str]) -> None:
        seats = self.replayed.seats
        ordered = sorted(self.seats)
        found: set[int] = set()
        for start in range(0, len(ordered), _IN_CHUNK):
            listed = ", ".join(str(int(seat)) for seat in ordered[start : start + _IN_CHUNK])
            sql = f"SELECT id, {', '.join(SEAT_FIELDS)} FROM seat_assignment WHERE id IN ({listed})"
            with self.db.read() as session:
                rows = session.connection().exec_driver_sql(sql).fetchall()
            for row in rows:
                seat = int(row[0])
                found.add(seat)
                values = (*row[1:5], _micros(row[5]), _micros(row[6]), *row[7:])
                recorded = seats.values(seat)
                if recorded is None or seats.entitlement[seat] not in self.licenses:
                    if row[1] in self.licenses:  # made outside the scope, or by no entry
                        report.add([Difference(SEAT, seat, Kind.UNRECORDED_ROW, parent=row[1])])
                        report.rows[SEAT] += 1
                    continue
                report.rows[SEAT] += 1
                if not identical(values, recorded):
                    _seat_compared(report, seats, row[:2], values, names)
        for seat in ordered:
            made = seat < len(seats.made) and seats.made[seat]
            if made and seat not in found and seats.entitlement[seat] in self.licenses:
                rec = seats.recorded(seat)
                report.add([Difference(SEAT, seat, Kind.MISSING_ROW, parent=rec["entitlement_id"])])


def _plainly_same(  # noqa: PLR0917 (one row: where, both sides, what to compare)
    report: StateReport,
    table: str,
    row_id: int,
    stored: Mapping[str, Any],
    recorded: Mapping[str, Any],
    fields: tuple[str, ...],
) -> bool:
    """Whether every field of a row is recorded and plainly equal (a committed one: the stored
    value commits to the same digest with its kept salt); anything else is left to
    :func:`_compared`, which names it (the fast path for the many rows that are as recorded)."""
    for name in fields:
        if name not in recorded:
            return False
        value, kept = recorded[name], stored[name]
        if isinstance(value, dict):
            salted = report.salts(table, str(row_id), name)
            if salted is None or kept is None or not is_commitment(value):
                return False
            if commitment(salted, kept) != value["commit"]:
                return False
        elif value != kept or type(value) is not type(kept):
            return False
    return True


def _as_bytes(value: Any) -> Any:
    """A stored blob as bytes (a value stored as text is left so, for the check to name)."""
    return value if isinstance(value, bytes | str) else bytes(value)


def _among(
    column: ColumnElement[Any] | InstrumentedAttribute[Any], ids: Sequence[int]
) -> ColumnElement[bool]:
    """``column IN (ids)`` with the integers written into the statement: bound one by one,
    thousands of parameters are named again at every execution (a quarter of a scope check's
    reading time)."""
    if not ids:
        return false()
    listed = ", ".join(str(int(i)) for i in ids)
    clause: ColumnElement[bool] = column.op("IN", is_comparison=True)(literal_column(f"({listed})"))
    return clause


def _id_text(value: str) -> str:
    """An entity id as an SQL literal's text (ids are integers, or empty)."""
    return str(int(value)) if value else ""


def _listed(names: Iterable[str]) -> str:
    """Constant names as an SQL list."""
    return ", ".join(f"'{name}'" for name in names)


def _stored_ids(
    db: Database, table: str, fields: tuple[str, ...], ids: set[int]
) -> Iterator[list[tuple[int, dict[str, Any]]]]:
    """The rows of ``table`` with these ids, a batch per short read transaction."""
    model: Table = _MODELS[table].__table__
    columns = [model.c.id, *(model.c[name] for name in fields)]
    ordered = sorted(ids)
    for start in range(0, len(ordered), _IN_CHUNK):
        with db.read() as session:
            rows = session.execute(
                select(*columns)
                .where(_among(model.c.id, ordered[start : start + _IN_CHUNK]))
                .order_by(model.c.id)
            ).all()
        yield [(int(row[0]), dict(zip(fields, row[1:], strict=True))) for row in rows]
