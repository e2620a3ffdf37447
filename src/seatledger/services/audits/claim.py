"""Which process is signing an audit: a claim in the database, so no two sign one audit at once.

Signing an audit reads the whole ledger and writes a bundle before the audit's "signed" entry;
two processes finishing the same unsigned audit (two windows, a scheduled ``audit run --resume``
and a person, on one machine or on two against one PostgreSQL) would both write one.  Before it
writes anything, a signer claims the audit: a row ``audit_signing.<id>`` in the setting table,
naming its host, process, operator and start, inserted in one write transaction (writers are
serialized on both engines, so exactly one of two racing processes inserts it).  The other is
refused with who holds the claim; every change to the audit is refused likewise while it is held.

The claim is not a ledger entry: it changes no license data and no audit, it only says who may
write the bundle.  It ends with the signing: the "signed" entry deletes it in its transaction, a
failed or cancelled signing deletes it on the way out.  A claim left by a process that was killed
is taken over: on its own host, as soon as no such process runs; from another host (where that
cannot be seen), once it is older than :data:`LAPSES_AFTER`.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete
from sqlalchemy.orm import Session

from seatledger.errors import KnownError
from seatledger.services.core.context import Context, utc_now
from seatledger.store.models import Setting

LAPSES_AFTER = dt.timedelta(hours=12)
"""A claim from another host older than this is taken over (its process cannot be seen)."""


class AuditBeingSigned(KnownError):
    """Another process is signing the audit (or this one is, in another window or task)."""


@dataclass(frozen=True, slots=True)
class Claim:
    """Who is signing an audit."""

    host: str
    pid: int
    operator: str
    since: dt.datetime

    @classmethod
    def mine(cls, operator: str) -> Claim:
        """A claim by this process, now."""
        return cls(socket.gethostname(), os.getpid(), operator, utc_now())

    @classmethod
    def parse(cls, value: str) -> Claim | None:
        """The claim a setting row holds (None: not one this version wrote)."""
        try:
            data = json.loads(value)
            return cls(
                str(data["host"]),
                int(data["pid"]),
                str(data["operator"]),
                dt.datetime.fromisoformat(str(data["since"])),
            )
        except (ValueError, KeyError, TypeError):
            return None

    def stored(self) -> str:
        """The claim as its setting row holds it."""
        return json.dumps(
            {
                "host": self.host,
                "pid": self.pid,
                "operator": self.operator,
                "since": self.since.isoformat(),
            },
            sort_keys=True,
        )

    @property
    def is_mine(self) -> bool:
        """Whether this process holds the claim."""
        return self.host == socket.gethostname() and self.pid == os.getpid()

    def lapsed(self, now: dt.datetime) -> bool:
        """Whether the claiming process is gone, as far as this host can tell."""
        if self.host == socket.gethostname():
            return not _running(self.pid)
        return now - self.since > LAPSES_AFTER

    def refusal(self, audit_id: int) -> AuditBeingSigned:
        """The error that names who is signing the audit and what to do."""
        who = "this SeatLedger process" if self.is_mine else "another SeatLedger process"
        since = self.since.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        return AuditBeingSigned(
            f"Audit {audit_id} is being signed by {who} (process {self.pid} on {self.host}, "
            f"operator {self.operator}, since {since}). Wait for it to finish, then see "
            "'seatledger audit list': it signs the audit, or leaves it to be resumed."
        )


def key(audit_id: int) -> str:
    """The setting row that holds the claim on an audit."""
    return f"audit_signing.{audit_id}"


def holder(session: Session, audit_id: int) -> Claim | None:
    """Who else is signing the audit now (None: nobody, this process, or a lapsed claim)."""
    row = session.get(Setting, key(audit_id))
    found = None if row is None else Claim.parse(row.value)
    if found is None or found.is_mine or found.lapsed(utc_now()):
        return None
    return found


def refuse_if_claimed(session: Session, audit_id: int) -> None:
    """Refuse a change to an audit another process is signing."""
    found = holder(session, audit_id)
    if found is not None:
        raise found.refusal(audit_id)


def end(session: Session, audit_id: int) -> None:
    """Delete the claim on the audit in ``session``'s transaction (the audit is signed)."""
    session.execute(delete(Setting).where(Setting.key == key(audit_id)))


@contextmanager
def signing(ctx: Context, audit_id: int) -> Iterator[None]:
    """Hold the claim on the audit while the block signs it; refuse if someone else holds it.

    Raises:
        AuditBeingSigned: another process (or another task of this one) is signing it.
    """
    mine = Claim.mine(ctx.actor.name)
    with ctx.db.write() as session:
        row = session.get(Setting, key(audit_id))
        if row is None:
            session.add(Setting(key=key(audit_id), value=mine.stored()))
        else:
            found = Claim.parse(row.value)
            if found is not None and not found.lapsed(mine.since):
                raise found.refusal(audit_id)
            row.value = mine.stored()  # a killed signer's claim: taken over
    try:
        yield
    finally:
        with ctx.db.write() as session:
            session.execute(
                delete(Setting).where(Setting.key == key(audit_id), Setting.value == mine.stored())
            )


def _running(pid: int) -> bool:
    """Whether a process with this id runs on this host (a zombie does not)."""
    if sys.platform == "win32":  # signal 0 would interrupt it there: the claim lapses by age
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    return not fields or fields[0] not in ("Z", "X")
