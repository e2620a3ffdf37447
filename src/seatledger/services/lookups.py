"""Resolving natural keys (employee ids, host names) to ids for the CLI and imports."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select

from seatledger.errors import NotFoundError
from seatledger.services.core.context import Context
from seatledger.store.models import Device, Person


def person_ids(ctx: Context, employee_ids: Sequence[str]) -> list[int]:
    """Person ids for employee ids, in order; names the first unknown one."""
    if not employee_ids:
        return []
    with ctx.read() as session:
        found = dict(
            session.execute(
                select(Person.employee_id, Person.id).where(Person.employee_id.in_(employee_ids))
            ).all()
        )
    for key in employee_ids:
        if key not in found:
            raise NotFoundError(f"No person with employee ID '{key}'.")
    return [found[key] for key in employee_ids]


def device_ids(ctx: Context, hostnames: Sequence[str]) -> list[int]:
    """Device ids for host names (in any case), in order; names the first unknown one."""
    if not hostnames:
        return []
    wanted = [name.strip().lower() for name in hostnames]
    with ctx.read() as session:
        found: dict[str, int] = dict(
            session.execute(
                select(func.lower(Device.hostname), Device.id).where(
                    func.lower(Device.hostname).in_(wanted)
                )
            ).all()
        )
    for key, name in zip(wanted, hostnames, strict=True):
        if key not in found:
            raise NotFoundError(f"No device with host name '{name}'.")
    return [found[key] for key in wanted]
