"""Which ledger entries a vendor's bundle discloses, and which words withhold an entry's content.

A bundle for one vendor carries the entries that bear on that vendor's figures and nothing of the
rest of the organization:

- the vendor itself, its products, their licenses (purchases, changes and every seat assignment,
  which the ledger records against the license) and the releases of those seats;
- the imports that fed them: the inventory and usage imports whose rows are installs or checkouts
  of those products, and, for a bundle with server lines, the hypervisor exports (by their hash
  alone where they list hosts and VMs, which are in ``servers.csv`` by pseudonym);
- this audit's steps and those of the vendor's earlier audits, the data settings (they shape the
  position), the signing identities (created, imported or rotated with the old key's
  endorsement), and the creation and role changes of every operator who wrote one of those
  entries;
- the entries of the people and devices holding those seats: their names, e-mail addresses,
  employee numbers and host names are salted commitments (:mod:`seatledger.domain.commitments`),
  so the vendor sees when a holder joined or left, and a pseudonym.

The entries are proved against the signed Merkle root with one multiproof, so the bundle grows
with what it discloses, not with the ledger.

Entries written before personal fields were committed may still carry names typed by their
authors (a reason naming a colleague, a file named after another vendor): their content is
withheld whenever it contains a person's name, e-mail address or employee number, the host name of
a person's device, or another vendor's name (:class:`~seatledger.domain.redaction.PhraseScanner`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from seatledger.domain.redaction import words
from seatledger.store import models as m
from seatledger.store.models_audit import Audit
from seatledger.store.models_servers import ServerHost, ServerPlacement, ServerVm

# Operator entries that bear on the disclosed ones: who they are and what they may do.
_OPERATOR_ACTIONS = frozenset({"operator.create", "operator.update"})
_CHUNK = 5000  # entity ids named in one query


@dataclass(frozen=True, slots=True)
class Disclosure:
    """The entries to disclose (ascending seqs) and the server names that withhold content
    besides :func:`phrases` (which the export's helper process reads: a quarter of a million
    on the large demo)."""

    seqs: list[int]
    phrases: list[str]


def plan(
    session: Session,
    *,
    vendor_id: int,
    product_ids: Iterable[int],
    audit_id: int,
    size: int,
    topology: bool = False,
) -> Disclosure:
    """The disclosure of a one-vendor bundle over ledger entries 1..size (``topology``: with
    the topology imports its server lines rest on)."""
    pids = sorted(set(product_ids))
    licenses = set(
        _ids(session, select(m.Entitlement.id).where(m.Entitlement.product_id.in_(pids)))
    )
    seats, holders, machines = _seats_of(session, licenses)
    installs = (
        select(m.Installation.import_id)
        .join(m.SoftwareTitle, m.SoftwareTitle.id == m.Installation.title_id)
        .where(m.SoftwareTitle.product_id.in_(pids))
        .distinct()
    )
    imports = set(_ids(session, installs))
    usage = select(m.UsageSession.import_id).where(m.UsageSession.product_id.in_(pids)).distinct()
    imports.update(_ids(session, usage))
    if topology:
        imports.update(
            _ids(session, select(m.ImportBatch.id).where(m.ImportBatch.kind == "topology"))
        )
    wanted: dict[str, set[str]] = {
        "vendor": {str(vendor_id)},
        "product": {str(p) for p in pids},
        "entitlement": {str(i) for i in licenses},
        "seat": {str(i) for i in seats},
        # The seats' holders: when they joined, left or moved (names are commitments; an
        # older entry naming them is withheld).
        "person": {str(i) for i in holders},
        "device": {str(i) for i in machines},
        "import": {str(i) for i in imports},
        # This audit and the vendor's earlier ones (their signatures name the checkpoints).
        "audit": {str(audit_id)}
        | {str(i) for i in session.scalars(select(Audit.id).where(Audit.vendor_id == vendor_id))},
    }
    seqs: set[int] = set()
    operators: set[str] = set()
    for entity_type, ids in wanted.items():
        if not ids:
            continue
        for seq, entity_id, operator in _entries(session, entity_type, size, ids=ids):
            if entity_id in ids:
                seqs.add(seq)
                operators.add(operator)
    # The data settings shape the position; the signing identities (created, imported,
    # rotated with the old key's endorsement) are who signs.
    for entity_type in ("setting", "signing_identity"):
        seqs.update(seq for seq, _entity_id, _operator in _entries(session, entity_type, size))
    names = {int(i): str(n) for i, n in session.execute(select(m.Operator.id, m.Operator.name))}
    bearing = {str(i) for i, name in names.items() if name in operators}
    for seq, entity_id, action in _entries(session, "operator", size, column="action"):
        if entity_id in bearing and action in _OPERATOR_ACTIONS:
            seqs.add(seq)
    # The exports' entries name every host and VM, other vendors' servers too; the people's
    # and vendors' phrases are read by the export's helper (see phrases()).
    return Disclosure(sorted(seqs), _server_names(session) if topology else [])


def _server_names(session: Session) -> list[str]:
    """Every host, vCenter and VM name the server tables hold (a topology import's entry lists
    the rows it wrote: disclosed, its content would name them in the clear)."""
    names: set[str] = set()
    for query in (
        select(ServerHost.name),
        select(ServerHost.vcenter),
        select(ServerVm.name),
        select(ServerPlacement.vm_name).distinct(),
        select(ServerPlacement.host).distinct(),
    ):
        names.update(value for value in session.scalars(query) if value)
    return sorted(names)


def phrases(session: Session, vendor_id: int) -> list[str]:
    """People's names, e-mails and employee numbers, people's devices' host names, operators'
    full names, and the names of the other vendors (unless the audited vendor's name holds
    them)."""
    found: list[str] = []
    conn = session.connection()  # plain rows: a large organization has a million of these
    for name, email, employee in conn.execute(
        select(m.Person.name, m.Person.email, m.Person.employee_id)
    ):
        found.extend(value for value in (name, email, employee) if value)
    found.extend(
        conn.scalars(select(m.Device.hostname).where(m.Device.owner_id.is_not(None))).all()
    )
    found.extend(name for name in session.scalars(select(m.Operator.full_name)).all() if name)
    own = session.scalar(select(m.Vendor.name).where(m.Vendor.id == vendor_id)) or ""
    own_words = " " + " ".join(words(own)) + " "
    for name in session.scalars(select(m.Vendor.name).where(m.Vendor.id != vendor_id)):
        if " " + " ".join(words(name)) + " " not in own_words:
            found.append(name)
    return found


def _ids(session: Session, query: object) -> Iterator[int]:
    for value in session.scalars(query):  # type: ignore[call-overload]
        if value is not None:
            yield int(value)


def _seats_of(session: Session, licenses: set[int]) -> tuple[set[int], set[int], set[int]]:
    """The seats of ``licenses`` and the people and devices holding them, in one read."""
    seats: set[int] = set()
    people: set[int] = set()
    devices: set[int] = set()
    ordered = sorted(licenses)
    for start in range(0, len(ordered), 5000):
        query = select(
            m.SeatAssignment.id, m.SeatAssignment.person_id, m.SeatAssignment.device_id
        ).where(m.SeatAssignment.entitlement_id.in_(ordered[start : start + 5000]))
        for seat, person, device in session.connection().execute(query):
            seats.add(int(seat))
            if person is not None:
                people.add(int(person))
            if device is not None:
                devices.add(int(device))
    return seats, people, devices


def _entries(
    session: Session,
    entity_type: str,
    size: int,
    *,
    column: str = "operator",
    ids: set[str] | None = None,
) -> Iterator[tuple[int, str, str]]:
    """(seq, entity id, operator or action) of every entry of one entity type up to ``size``,
    or with ``ids`` of those entities only, picked a chunk of ids at a time through the (type,
    id, seq) index: the work grows with the entries disclosed, not with the ledger."""
    third = m.LedgerEntry.action if column == "action" else m.LedgerEntry.operator
    query = select(m.LedgerEntry.seq, m.LedgerEntry.entity_id, third).where(
        m.LedgerEntry.entity_type == entity_type, m.LedgerEntry.seq <= size
    )
    chunks = [query] if ids is None else []
    ordered = sorted(ids or ())
    for start in range(0, len(ordered), _CHUNK):
        chunks.append(query.where(m.LedgerEntry.entity_id.in_(ordered[start : start + _CHUNK])))
    for chunk in chunks:
        # Through the connection, not the ORM session: a large ledger holds a million seat
        # entries, which the session would buffer whole (hundreds of megabytes); the cursor
        # streams.
        for seq, entity_id, value in session.connection().execute(chunk):
            yield int(seq), str(entity_id), str(value)
