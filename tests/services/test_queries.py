"""Read queries the pickers rely on."""

from __future__ import annotations

from typing import Any

from seatledger.services.directory.queries import DeviceQuery, PeopleQuery
from seatledger.services.operators.session import Services


def test_assign_picker_hides_people_who_already_hold_a_seat(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:2])
    shown = list(PeopleQuery(admin.ctx, without_seat_of=org.acrobat).keys())
    assert sorted(shown) == sorted(org.people[2:])
    # A released seat makes its holder pickable again.
    seats = admin.seats.assign(org.acrobat, people=[org.people[2]]).assignment_ids
    admin.seats.release(seats)
    keys = PeopleQuery(admin.ctx, without_seat_of=org.acrobat).keys()
    assert org.people[2] in list(keys)


def test_assign_picker_hides_devices_that_already_hold_a_seat(admin: Services, org: Any) -> None:
    admin.seats.assign(org.sql_server, devices=[org.devices[0]])
    shown = list(DeviceQuery(admin.ctx, without_seat_of=org.sql_server).keys())
    assert shown == [org.devices[1]]
    assert len(DeviceQuery(admin.ctx).keys()) == 2
