"""Services on both engines: one ledger entry per write, nothing on failure, roles, seat limits."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from conftest import PASSWORD, last_entry, ledger_size
from seatledger.domain.commitments import PERSONAL_FIELDS, is_commitment
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import (
    AuthenticationError,
    KnownError,
    LimitExceeded,
    NotFoundError,
    PermissionDenied,
    ValidationError,
)
from seatledger.services import details
from seatledger.services.catalog.queries import EntitlementQuery
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.ledger import activity
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database
from seatledger.store.models import Base, Entitlement, Operator, SeatAssignment

PRODUCTION_HASHER = operators._hasher
TODAY = dt.date.today()


# ------------------------------------------------------------------------------------ helpers


def state(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table: what a refused write must leave exactly as it was."""

    def plain(value: Any) -> Any:
        return bytes(value) if isinstance(value, memoryview) else value

    with db.engine.connect() as conn:
        return {
            table: [
                tuple(plain(v) for v in row)
                for row in conn.execute(text(f"SELECT * FROM {table} ORDER BY 1"))
            ]
            for table in sorted(Base.metadata.tables)
        }


def seats_used(db: Database, entitlement_id: int) -> int:
    with db.read() as session:
        entitlement = session.get(Entitlement, entitlement_id)
        assert entitlement is not None
        return entitlement.seats_used


def assert_seats_used_consistent(db: Database) -> None:
    """seats_used is the sum of units of open assignments, for every entitlement."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT e.id, e.seats_used, COALESCE(SUM(s.units), 0) FROM entitlement e "
                "LEFT JOIN seat_assignment s ON s.entitlement_id = e.id AND s.ended_at IS NULL "
                "GROUP BY e.id, e.seats_used"
            )
        ).all()
    for entitlement_id, used, total in rows:
        assert used == total, f"entitlement {entitlement_id}: seats_used {used}, open units {total}"


def entitlement(admin: Services, product: int, **fields: Any) -> int:
    return admin.catalog.add_entitlement(EntitlementInput(product_id=product, **fields))


def product_of(admin: Services, entitlement_id: int) -> int:
    data, _ = details.entitlement(admin.ctx, entitlement_id)
    return data.product_id


def edited(admin: Services, entitlement_id: int, **changes: Any) -> EntitlementInput:
    data, _ = details.entitlement(admin.ctx, entitlement_id)
    return dataclasses.replace(data, **changes)


# ------------------------------------------------------------------ one write, one ledger entry


@dataclass
class Expect:
    action: str
    entity: str
    entity_id: str | None = None
    before: Any = None
    after: dict[str, Any] = field(default_factory=dict)
    reason: str = ""


Act = Callable[[], Expect]
Write = Callable[[Services, Services, Any], Act]  # (admin, acting operator, org) -> act


def fresh_license(
    admin: Services, org: Any, metric: Metric = Metric.PER_USER, quantity: int = 3, **extra: Any
) -> int:
    """A new entitlement of the org's product: a case then never depends on another's seats."""
    return entitlement(
        admin, product_of(admin, org.acrobat), metric=metric, quantity=quantity, **extra
    )


def fresh_person(admin: Services, tag: str) -> int:
    return admin.directory.add_person(PersonInput(f"T-{tag}", f"Temp {tag}"))


def _vendor(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.catalog.add_vendor("  Fabrikam  ", website="https://fabrikam.example")
        after = {"name": "Fabrikam", "website": "https://fabrikam.example"}
        return Expect("vendor.create", "vendor", str(new), None, after)

    return act


def _product(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.catalog.add_product(org.vendor, "Mail Server")
        after = {"vendor_id": org.vendor, "name": "Mail Server"}
        return Expect("product.create", "product", str(new), None, after)

    return act


def _entitlement(admin: Services, s: Services, org: Any) -> Act:
    product = product_of(admin, org.acrobat)

    def act() -> Expect:
        new = entitlement(
            s, product, metric=Metric.PER_DEVICE, quantity=10, unit_cost=Decimal("12.50"),
            currency="usd", term_end=dt.date(2030, 1, 31), po_reference="PO-9",
        )  # fmt: skip
        after = {
            "metric": "per_device", "quantity": 10, "unit_cost": "12.50", "currency": "USD",
            "term_end": "2030-01-31", "po_reference": "PO-9", "product_id": product,
        }  # fmt: skip
        return Expect("entitlement.create", "entitlement", str(new), None, after)

    return act


def _entitlement_update(admin: Services, s: Services, org: Any) -> Act:
    license_id = fresh_license(admin, org, quantity=3)

    def act() -> Expect:
        s.catalog.update_entitlement(
            license_id, edited(admin, license_id, quantity=5), reason="true-up"
        )
        return Expect(
            "entitlement.update", "entitlement", str(license_id),
            {"quantity": 3}, {"quantity": 5}, "true-up",
        )  # fmt: skip

    return act


def _team(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.directory.add_team("Research", "CC-300")
        return Expect(
            "team.create", "team", str(new), None, {"name": "Research", "cost_centre": "CC-300"}
        )

    return act


def _person(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.directory.add_person(
            PersonInput("E100", "Zoë Ødegård", "zoe@example.com", org.team)
        )
        after = {
            "employee_id": "E100",
            "name": "Zoë Ødegård",
            "status": "active",
            "team_id": org.team,
        }
        return Expect("person.create", "person", str(new), None, after)

    return act


def _person_update(admin: Services, s: Services, org: Any) -> Act:
    person = admin.directory.add_person(PersonInput("E200", "Typo Person", "old@example.com"))

    def act() -> Expect:
        s.directory.update_person(
            person, PersonInput("E200", "Typo Person", "new@example.com"), reason="typo"
        )
        return Expect(
            "person.update", "person", str(person),
            {"email": "old@example.com"}, {"email": "new@example.com"}, "typo",
        )  # fmt: skip

    return act


def _person_leave(admin: Services, s: Services, org: Any) -> Act:
    person = fresh_person(admin, "leaver")

    def act() -> Expect:
        s.directory.mark_left(person, dt.date(2026, 3, 31), reason="resigned")
        return Expect(
            "person.leave", "person", str(person),
            {"status": "active", "date_left": None}, {"status": "left", "date_left": "2026-03-31"},
            "resigned",
        )  # fmt: skip

    return act


def _device(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.directory.add_device(DeviceInput("ws-42", "SN42", org.people[0], 1, 4, "Linux"))
        after = {"hostname": "ws-42", "processors": 1, "cores": 4, "owner_id": org.people[0]}
        return Expect("device.create", "device", str(new), None, after)

    return act


def _device_update(admin: Services, s: Services, org: Any) -> Act:
    device = admin.directory.add_device(DeviceInput("ws-77", "SN77", None, 1, 2))

    def act() -> Expect:
        s.directory.update_device(
            device, DeviceInput("ws-77", "SN77", None, 1, 16), reason="upgrade"
        )
        return Expect(
            "device.update", "device", str(device), {"cores": 2}, {"cores": 16}, "upgrade"
        )

    return act


def _assign(admin: Services, s: Services, org: Any) -> Act:
    license_id = fresh_license(admin, org, quantity=3)

    def act() -> Expect:
        result = s.seats.assign(license_id, people=[org.people[0]], note="laptop")
        after = {
            "seats_used": 1, "quantity": 3, "units": 1, "people": [org.people[0]],
            "assignments": result.assignment_ids,
        }  # fmt: skip
        return Expect("seat.assign", "entitlement", str(license_id), {"seats_used": 0}, after)

    return act


def _bulk_assign(admin: Services, s: Services, org: Any) -> Act:
    license_id = fresh_license(admin, org, Metric.PER_CORE, 16, min_cores_per_processor=4)

    def act() -> Expect:
        result = s.seats.assign(license_id, devices=org.devices, reason="new cluster")
        after = {
            "seats_used": 12,
            "units": 12,
            "devices": org.devices,
            "assignments": result.assignment_ids,
        }
        return Expect(
            "seat.bulk_assign",
            "entitlement",
            str(license_id),
            {"seats_used": 0},
            after,
            "new cluster",
        )

    return act


def _release(admin: Services, s: Services, org: Any) -> Act:
    license_id = fresh_license(admin, org)
    [seat] = admin.seats.assign(license_id, people=[org.people[0]]).assignment_ids

    def act() -> Expect:
        assert s.seats.release([seat], reason="not needed") == 1
        before = {"seats_used": {str(license_id): 1}}
        after = {
            "released": [seat],
            "entitlements": {str(license_id): 1},
            "seats_used": {str(license_id): 0},
        }
        return Expect("seat.release", "seat", str(seat), before, after, "not needed")

    return act


def _bulk_release(admin: Services, s: Services, org: Any) -> Act:
    users = fresh_license(admin, org)
    cores = fresh_license(admin, org, Metric.PER_CORE, 16, min_cores_per_processor=4)
    seats = admin.seats.assign(users, people=org.people[:2]).assignment_ids
    seats += admin.seats.assign(cores, devices=[org.devices[1]]).assignment_ids

    def act() -> Expect:
        assert s.seats.release(seats) == 3
        before = {"seats_used": {str(users): 2, str(cores): 4}}
        after = {
            "released": seats,
            "entitlements": {str(users): 2, str(cores): 4},
            "seats_used": {str(users): 0, str(cores): 0},
        }
        return Expect("seat.bulk_release", "seat", "", before, after)

    return act


def _release_departed(admin: Services, s: Services, org: Any) -> Act:
    person = fresh_person(admin, "departed")
    license_id = fresh_license(admin, org)
    [seat] = admin.seats.assign(license_id, people=[person]).assignment_ids
    admin.directory.mark_left(person, TODAY)

    def act() -> Expect:
        assert s.seats.release_departed() == 1
        before = {"seats_used": {str(license_id): 1}}
        after = {
            "released": [seat],
            "entitlements": {str(license_id): 1},
            "seats_used": {str(license_id): 0},
        }
        return Expect(
            "seat.release_departed",
            "seat",
            str(seat),
            before,
            after,
            "People who left the organization",
        )

    return act


def _operator_create(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        new = s.operators.create("vera", "Vera Viewer", Role.VIEWER, "vera lantern harbor")
        after = {"name": "vera", "full_name": "Vera Viewer", "role": "viewer"}
        return Expect("operator.create", "operator", str(new), None, after)

    return act


def _operator_role(admin: Services, s: Services, org: Any) -> Act:
    other = admin.operators.create("max", "", Role.VIEWER, "max lantern harbor")

    def act() -> Expect:
        s.operators.set_role(other, Role.AUDITOR, True, reason="audit season")
        before = {"name": "max", "role": "viewer", "active": True}
        after = {"name": "max", "role": "auditor", "active": True}
        return Expect("operator.update", "operator", str(other), before, after, "audit season")

    return act


def _operator_password(admin: Services, s: Services, org: Any) -> Act:
    def act() -> Expect:
        s.operators.set_password(s.actor.id, "a new password")
        return Expect(
            "operator.password", "operator", str(s.actor.id), None, {"password": "changed"}
        )

    return act


WRITES: list[tuple[Role, str, Write]] = [
    (Role.LICENSE_MANAGER, "add vendor", _vendor),
    (Role.LICENSE_MANAGER, "add product", _product),
    (Role.LICENSE_MANAGER, "add entitlement", _entitlement),
    (Role.LICENSE_MANAGER, "update entitlement", _entitlement_update),
    (Role.LICENSE_MANAGER, "add team", _team),
    (Role.LICENSE_MANAGER, "add person", _person),
    (Role.LICENSE_MANAGER, "update person", _person_update),
    (Role.LICENSE_MANAGER, "mark left", _person_leave),
    (Role.LICENSE_MANAGER, "add device", _device),
    (Role.LICENSE_MANAGER, "update device", _device_update),
    (Role.LICENSE_MANAGER, "assign", _assign),
    (Role.LICENSE_MANAGER, "bulk assign", _bulk_assign),
    (Role.LICENSE_MANAGER, "release", _release),
    (Role.LICENSE_MANAGER, "bulk release", _bulk_release),
    (Role.LICENSE_MANAGER, "release departed", _release_departed),
    (Role.LICENSE_MANAGER, "own password", _operator_password),
    (Role.ADMINISTRATOR, "create operator", _operator_create),
    (Role.ADMINISTRATOR, "change role", _operator_role),
    (Role.ADMINISTRATOR, "own password", _operator_password),
]


def test_every_write_is_one_attributed_ledger_entry(
    admin: Services, as_role: Callable[[Role], Services], org: Any
) -> None:
    for role, name, write in WRITES:
        acting = as_role(role)
        act = write(admin, acting, org)
        size = ledger_size(admin.db)
        started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        told: list[frozenset[str]] = []
        unsubscribe = acting.subscribe(told.append)

        expected = act()

        unsubscribe()
        case = f"{role.value}: {name}"
        assert told == [frozenset({expected.entity})], case  # once, after the commit
        assert ledger_size(admin.db) == size + 1, case
        entry = last_entry(admin.db)
        assert entry["seq"] == size + 1, case
        assert (entry["operator"], entry["role"]) == (acting.actor.name, role.value), case
        assert (entry["action"], entry["entity"]) == (expected.action, expected.entity), case
        if expected.entity_id is not None:
            assert entry["entity_id"] == expected.entity_id, case
        assert entry["reason"] == expected.reason, case
        # Personal fields are stored as commitments; the organization reads them opened.
        shown = activity.ledger_entry(admin.ctx, entry["seq"])["entry"]["what"]
        assert shown["before"] == expected.before, case
        assert shown["after"] | expected.after == shown["after"], (case, shown["after"])
        for personal in PERSONAL_FIELDS.get(entry["entity"], ()):
            if (entry["after"] or {}).get(personal):
                assert is_commitment(entry["after"][personal]), (case, personal)
        stamp = dt.datetime.strptime(entry["ts"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.UTC)
        assert started <= stamp <= dt.datetime.now(dt.UTC), case
    assert ledger.verify(admin.db).ok
    assert_seats_used_consistent(admin.db)


# ------------------------------------------------------------------ failures leave no trace


Failing = Callable[[Services, Any], Callable[[], object]]


def _duplicate_vendor(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.catalog.add_vendor("CONTOSO software")


def _duplicate_product(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.catalog.add_product(org.vendor, "pdf studio")


def _product_of_missing_vendor(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.catalog.add_product(999, "Ghost")


def _entitlement_of_missing_product(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: entitlement(admin, 999, metric=Metric.PER_USER, quantity=1)


def _bad_currency(admin: Services, org: Any) -> Callable[[], object]:
    product = product_of(admin, org.acrobat)
    return lambda: entitlement(admin, product, metric=Metric.PER_USER, quantity=1, currency="EURO")


def _term_backwards(admin: Services, org: Any) -> Callable[[], object]:
    product = product_of(admin, org.acrobat)
    return lambda: entitlement(
        admin, product, metric=Metric.PER_USER, quantity=1,
        term_start=dt.date(2026, 2, 1), term_end=dt.date(2026, 1, 1),
    )  # fmt: skip


def _huge_unit_cost(admin: Services, org: Any) -> Callable[[], object]:
    product = product_of(admin, org.acrobat)
    return lambda: entitlement(
        admin, product, metric=Metric.PER_USER, quantity=1, unit_cost=Decimal("12345678901")
    )


def _negative_quantity(admin: Services, org: Any) -> Callable[[], object]:
    product = product_of(admin, org.acrobat)
    return lambda: entitlement(admin, product, metric=Metric.PER_USER, quantity=-1)


def _duplicate_employee(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.directory.add_person(PersonInput("E001", "Someone Else"))


def _bad_email(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.directory.add_person(PersonInput("E200", "Eve", "eve-at-example"))


def _duplicate_hostname(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.directory.add_device(DeviceInput("DB-01"))


def _fewer_cores_than_processors(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.directory.add_device(DeviceInput("ws-1", processors=4, cores=2))


def _over_limit(admin: Services, org: Any) -> Callable[[], object]:
    license_id = fresh_license(admin, org, quantity=3)
    return lambda: admin.seats.assign(license_id, people=org.people[:4])


def _duplicate_assignment(admin: Services, org: Any) -> Callable[[], object]:
    license_id = fresh_license(admin, org)
    admin.seats.assign(license_id, people=[org.people[0]])
    return lambda: admin.seats.assign(license_id, people=[org.people[1], org.people[0]])


def _released_twice(admin: Services, org: Any) -> Callable[[], object]:
    seats = admin.seats.assign(fresh_license(admin, org), people=org.people[:2]).assignment_ids
    admin.seats.release(seats[:1])
    return lambda: admin.seats.release(seats)


def _quantity_below_use(admin: Services, org: Any) -> Callable[[], object]:
    license_id = fresh_license(admin, org)
    admin.seats.assign(license_id, people=org.people[:2])
    data = edited(admin, license_id, quantity=1)
    return lambda: admin.catalog.update_entitlement(license_id, data)


def _nothing_changed(admin: Services, org: Any) -> Callable[[], object]:
    data = edited(admin, org.acrobat)
    return lambda: admin.catalog.update_entitlement(org.acrobat, data)


def _left_twice(admin: Services, org: Any) -> Callable[[], object]:
    person = fresh_person(admin, "twice")
    admin.directory.mark_left(person, TODAY)
    return lambda: admin.directory.mark_left(person, TODAY)


def _duplicate_operator(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.operators.create("admin", "", Role.VIEWER, PASSWORD)


def _short_password(admin: Services, org: Any) -> Callable[[], object]:
    return lambda: admin.operators.create("tiny", "", Role.VIEWER, "abc")


def _over_commit_without_reason(admin: Services, org: Any) -> Callable[[], object]:
    license_id = fresh_license(admin, org)
    admin.seats.assign(license_id, people=org.people[:3])
    return lambda: admin.seats.assign(
        license_id, people=[org.people[3]], over_commit=True, reason="  "
    )


FAILURES: dict[str, tuple[Failing, type[KnownError], str]] = {
    "duplicate vendor": (_duplicate_vendor, ValidationError, "already exists"),
    "duplicate product": (_duplicate_product, ValidationError, "already has a product named"),
    "missing vendor": (_product_of_missing_vendor, NotFoundError, "Vendor 999 does not exist."),
    "missing product": (
        _entitlement_of_missing_product,
        NotFoundError,
        "Product 999 does not exist.",
    ),
    "bad currency": (_bad_currency, ValidationError, "three-letter code"),
    "term backwards": (_term_backwards, ValidationError, "is before term start"),
    "huge unit cost": (_huge_unit_cost, ValidationError, "Unit cost must be less than"),
    "negative quantity": (_negative_quantity, ValidationError, "Quantity must be at least 0"),
    "duplicate employee id": (
        _duplicate_employee,
        ValidationError,
        "Employee ID 'E001' already belongs",
    ),
    "bad email": (_bad_email, ValidationError, "is not an email address"),
    "duplicate hostname": (
        _duplicate_hostname,
        ValidationError,
        "A device named 'DB-01' already exists.",
    ),
    "cores < processors": (
        _fewer_cores_than_processors,
        ValidationError,
        "Cores (2) cannot be fewer",
    ),
    "limit exceeded": (_over_limit, LimitExceeded, "allows 3 seats: 0 used, 3 free, 4 needed."),
    "duplicate assignment": (
        _duplicate_assignment,
        ValidationError,
        "Person 1 already hold a seat",
    ),
    "released twice": (_released_twice, ValidationError, "is already released or does not exist"),
    "quantity below use": (
        _quantity_below_use,
        ValidationError,
        "Quantity 1 is below the 2 in use",
    ),
    "nothing changed": (_nothing_changed, ValidationError, "Nothing changed."),
    "left twice": (_left_twice, ValidationError, "already marked as left"),
    "duplicate operator": (
        _duplicate_operator,
        ValidationError,
        "An operator named 'admin' already exists.",
    ),
    "short password": (_short_password, ValidationError, "needs at least 12"),
    "over-commit without reason": (
        _over_commit_without_reason,
        ValidationError,
        "An over-commit needs a reason.",
    ),
}


def test_a_failed_write_leaves_nothing(admin: Services, org: Any) -> None:
    for name, (setup, error, message) in FAILURES.items():
        act = setup(admin, org)
        before = state(admin.db)
        told: list[frozenset[str]] = []
        unsubscribe = admin.subscribe(told.append)
        with pytest.raises(error) as info:
            act()
        unsubscribe()
        assert message in str(info.value), name
        assert state(admin.db) == before, name
        assert told == [], name  # rolled back: nothing to refresh
    assert ledger.verify(admin.db).ok


# -------------------------------------------------------------------------------------- roles


def _all_writes(admin: Services, org: Any) -> dict[str, Callable[[Services], object]]:
    [seat] = admin.seats.assign(org.acrobat, people=[org.people[4]]).assignment_ids
    product = product_of(admin, org.acrobat)
    return {
        "add_vendor": lambda s: s.catalog.add_vendor("Fabrikam"),
        "add_product": lambda s: s.catalog.add_product(org.vendor, "Mail"),
        "add_entitlement": lambda s: entitlement(s, product, metric=Metric.PER_USER, quantity=1),
        "update_entitlement": lambda s: s.catalog.update_entitlement(
            org.acrobat, edited(admin, org.acrobat, quantity=9)
        ),
        "add_team": lambda s: s.directory.add_team("Ops"),
        "add_person": lambda s: s.directory.add_person(PersonInput("E77", "Sam")),
        "update_person": lambda s: s.directory.update_person(
            org.people[0], PersonInput("E001", "Renamed")
        ),
        "mark_left": lambda s: s.directory.mark_left(org.people[0], TODAY),
        "add_device": lambda s: s.directory.add_device(DeviceInput("ws-9")),
        "update_device": lambda s: s.directory.update_device(
            org.devices[0], DeviceInput("db-99", processors=2, cores=8)
        ),
        "assign": lambda s: s.seats.assign(org.acrobat, people=[org.people[0]]),
        "bulk assign": lambda s: s.seats.assign(org.sql_server, devices=org.devices),
        "over-commit": lambda s: s.seats.assign(
            org.acrobat, people=[org.people[0]], over_commit=True, reason="x"
        ),
        "release": lambda s: s.seats.release([seat]),
        "release_departed": lambda s: s.seats.release_departed(),
        "create operator": lambda s: s.operators.create("eve", "", Role.ADMINISTRATOR, "pass-eve"),
        "set_role": lambda s: s.operators.set_role(admin.actor.id, Role.VIEWER, True),
        "set another's password": lambda s: s.operators.set_password(admin.actor.id, "hijacked"),
    }


def test_viewers_and_auditors_change_nothing(
    admin: Services, as_role: Callable[[Role], Services], org: Any
) -> None:
    writes = _all_writes(admin, org)
    for role, is_a in ((Role.VIEWER, "a viewer"), (Role.AUDITOR, "an auditor")):
        reader = as_role(role)
        before = state(admin.db)
        for name, write in writes.items():
            with pytest.raises(PermissionDenied) as info:
                write(reader)
            message = str(info.value)
            allowed_messages = (
                f"{reader.actor.name} is {is_a} and may not ",
                "Only an administrator",
            )
            assert message.startswith(allowed_messages), (role, name, message)
        assert state(admin.db) == before, role


def test_viewer_may_change_their_own_password(as_role: Callable[[Role], Services]) -> None:
    viewer = as_role(Role.VIEWER)
    viewer.operators.set_password(viewer.actor.id, "my new password")
    assert operators.sign_in(viewer.db, viewer.actor.name, "my new password") == viewer.actor
    with pytest.raises(AuthenticationError):
        operators.sign_in(viewer.db, viewer.actor.name, PASSWORD)


def test_license_manager_assigns_but_neither_over_commits_nor_manages_operators(
    admin: Services, as_role: Callable[[Role], Services], org: Any
) -> None:
    manager = as_role(Role.LICENSE_MANAGER)
    manager.seats.assign(org.acrobat, people=org.people[:3])
    before = state(admin.db)
    with pytest.raises(PermissionDenied, match="Only an administrator may assign beyond"):
        manager.seats.assign(org.acrobat, people=[org.people[3]], over_commit=True, reason="urgent")
    with pytest.raises(LimitExceeded):
        manager.seats.assign(org.acrobat, people=[org.people[3]])
    with pytest.raises(PermissionDenied, match="may not manage operators"):
        manager.operators.create("eve", "", Role.ADMINISTRATOR, "pass-eve")
    with pytest.raises(PermissionDenied, match="may not manage operators"):
        manager.operators.set_role(manager.actor.id, Role.ADMINISTRATOR, True)
    with pytest.raises(PermissionDenied, match="may not change other operators' passwords"):
        manager.operators.set_password(admin.actor.id, "hijacked")
    assert state(admin.db) == before


# ------------------------------------------------------------------------------------- limits


def test_limit_message_states_used_free_needed(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:2])
    with pytest.raises(LimitExceeded) as info:
        admin.seats.assign(org.acrobat, people=org.people[2:4])
    assert (
        str(info.value) == "Contoso Software PDF Studio allows 3 seats: 2 used, 1 free, 2 needed."
    )
    assert (info.value.free, info.value.needed) == (1, 2)
    assert seats_used(admin.db, org.acrobat) == 2
    # The last free seat can still be taken, and then nothing more.
    assert not admin.seats.assign(org.acrobat, people=[org.people[2]]).over_commit
    assert seats_used(admin.db, org.acrobat) == 3
    with pytest.raises(LimitExceeded, match="3 used, 0 free, 1 needed"):
        admin.seats.assign(org.acrobat, people=[org.people[3]])


def test_assignment_outside_the_term_is_refused(admin: Services, org: Any) -> None:
    terms = [
        (None, TODAY - dt.timedelta(days=1), "expired on"),
        (TODAY + dt.timedelta(days=1), None, "starts on"),
    ]
    for start, end, message in terms:
        license_id = fresh_license(admin, org, quantity=50, term_start=start, term_end=end)
        before = state(admin.db)
        with pytest.raises(LimitExceeded, match=message):
            admin.seats.assign(license_id, people=[org.people[0]])
        # Not even an administrator's over-commit assigns outside the term.
        with pytest.raises(LimitExceeded, match=message):
            admin.seats.assign(
                license_id, people=[org.people[0]], over_commit=True, reason="please"
            )
        assert state(admin.db) == before


def test_assignment_refuses_the_wrong_holders(admin: Services, org: Any) -> None:
    admin.directory.mark_left(org.people[2], TODAY)
    with pytest.raises(
        ValidationError,
        match=re.escape("Person 3 left the organization; seats go to active people only."),
    ):
        admin.seats.assign(org.acrobat, people=[org.people[2]])
    with pytest.raises(ValidationError, match=r"licensed per person \(Named user\); choose people"):
        admin.seats.assign(org.acrobat, devices=[org.devices[0]])
    with pytest.raises(ValidationError, match=r"licensed per device \(Per core\); choose devices"):
        admin.seats.assign(org.sql_server, people=[org.people[0]])
    with pytest.raises(ValidationError, match="Choose people or devices"):
        admin.seats.assign(org.acrobat)
    with pytest.raises(NotFoundError, match=re.escape("Person 999 does not exist.")):
        admin.seats.assign(org.acrobat, people=[999])
    with pytest.raises(NotFoundError, match="License 999 does not exist"):
        admin.seats.assign(999, people=[org.people[0]])


def test_site_license_has_no_cap(admin: Services, org: Any) -> None:
    product = product_of(admin, org.acrobat)
    site = entitlement(admin, product, metric=Metric.SITE, quantity=0)
    result = admin.seats.assign(site, people=org.people)
    assert (len(result.assignment_ids), result.over_commit) == (5, False)
    assert seats_used(admin.db, site) == 5


def test_over_commit_by_an_administrator_is_recorded(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:3])
    result = admin.seats.assign(
        org.acrobat, people=[org.people[3]], over_commit=True, reason="audit in progress"
    )
    assert result.over_commit
    assert result.message == "Contoso Software PDF Studio allows 3 seats: 3 used, 0 free, 1 needed."
    with admin.db.read() as session:
        row = session.get(SeatAssignment, result.assignment_ids[0])
        assert row is not None
        assert (row.over_commit, row.over_commit_reason) == (True, "audit in progress")
        earlier = session.scalars(
            select(SeatAssignment.over_commit).where(SeatAssignment.id != row.id)
        )
        assert set(earlier) == {False}
    entry = last_entry(admin.db)
    assert entry["reason"] == "audit in progress"
    assert entry["after"]["over_commit"] == result.message
    assert entry["after"]["seats_used"] == 4
    assert seats_used(admin.db, org.acrobat) == 4
    [row_] = EntitlementQuery(admin.ctx).entitlements([org.acrobat]).values()
    assert (row_.over_limit, row_.free) == (True, -1)
    assert EntitlementQuery(admin.ctx, over_limit_only=True).keys() == [org.acrobat]


def test_bulk_assignment_is_all_or_nothing(admin: Services, org: Any) -> None:
    admin.directory.mark_left(org.people[2], TODAY)
    before = state(admin.db)
    with pytest.raises(ValidationError, match="left the organization"):
        admin.seats.assign(org.acrobat, people=[org.people[0], org.people[1], org.people[2]])
    assert state(admin.db) == before
    assert seats_used(admin.db, org.acrobat) == 0
    # Nobody was half-assigned: the two active people can still get their seats.
    admin.seats.assign(org.acrobat, people=[org.people[0], org.people[1]])
    assert seats_used(admin.db, org.acrobat) == 2
    # Beyond the limit: not even the seats that would fit are assigned.
    before = state(admin.db)
    with pytest.raises(LimitExceeded, match="2 used, 1 free, 2 needed"):
        admin.seats.assign(org.acrobat, people=[org.people[3], org.people[4]])
    assert state(admin.db) == before


def test_per_core_units_respect_the_minimum_per_processor(admin: Services, org: Any) -> None:
    big, small = org.devices  # 2 processors x 8 cores; 1 processor x 2 cores; minimum 4 per CPU
    # What the assign dialog previews is what the assignment counts.
    assert admin.seats.units_for_devices(org.sql_server, [big, small, 999]) == {big: 8, small: 4}
    first = admin.seats.assign(org.sql_server, devices=[big])
    assert first.units == 8
    second = admin.seats.assign(org.sql_server, devices=[small])
    assert second.units == 4
    assert seats_used(admin.db, org.sql_server) == 12
    with admin.db.read() as session:
        units = dict(session.execute(select(SeatAssignment.device_id, SeatAssignment.units)).all())
    assert units == {big: 8, small: 4}
    extra = admin.directory.add_device(DeviceInput("db-03", processors=1, cores=6))
    with pytest.raises(LimitExceeded) as info:
        admin.seats.assign(org.sql_server, devices=[extra])
    assert "allows 16 cores: 12 used, 4 free, 6 needed." in str(info.value)


def test_release_restores_seats(admin: Services, org: Any) -> None:
    seats = admin.seats.assign(org.acrobat, people=org.people[:3]).assignment_ids
    cores = admin.seats.assign(org.sql_server, devices=org.devices).assignment_ids
    assert admin.seats.release([seats[0]]) == 1
    assert seats_used(admin.db, org.acrobat) == 2
    assert admin.seats.release([seats[1], seats[2], *cores]) == 4
    assert seats_used(admin.db, org.acrobat) == 0
    assert seats_used(admin.db, org.sql_server) == 0
    with admin.db.read() as session:
        ended = session.scalars(select(SeatAssignment).order_by(SeatAssignment.id)).all()
        assert all(s.ended_at is not None and s.released_by == admin.actor.id for s in ended)
    # The seat is free again.
    admin.seats.assign(org.acrobat, people=[org.people[3]])
    assert seats_used(admin.db, org.acrobat) == 1
    # Releasing again is refused and changes nothing.
    seat = seats[0]
    size = ledger_size(admin.db)
    with pytest.raises(
        ValidationError, match=f"Seat {seat} is already released or does not exist."
    ):
        admin.seats.release([seat])
    with pytest.raises(ValidationError, match=re.escape("Choose seats to release.")):
        admin.seats.release([])
    assert ledger_size(admin.db) == size
    assert seats_used(admin.db, org.acrobat) == 1


def test_release_departed_releases_only_people_who_left(admin: Services, org: Any) -> None:
    product = product_of(admin, org.acrobat)
    site = entitlement(admin, product, metric=Metric.SITE, quantity=0)
    admin.seats.assign(org.acrobat, people=org.people[:3])
    admin.seats.assign(site, people=org.people[:2])
    admin.seats.assign(org.sql_server, devices=org.devices)
    admin.directory.mark_left(org.people[0], TODAY)
    admin.directory.mark_left(org.people[2], TODAY)
    size = ledger_size(admin.db)
    assert admin.seats.departed_holdings() == (2, 3)  # what the confirmation states

    assert admin.seats.release_departed(reason="quarterly clean-up") == 3

    assert ledger_size(admin.db) == size + 1
    entry = last_entry(admin.db)
    assert entry["action"] == "seat.release_departed"
    assert entry["reason"] == "quarterly clean-up"
    assert len(entry["after"]["released"]) == 3
    assert entry["after"]["entitlements"] == {str(org.acrobat): 2, str(site): 1}
    assert seats_used(admin.db, org.acrobat) == 1
    assert seats_used(admin.db, site) == 1
    assert seats_used(admin.db, org.sql_server) == 12
    with admin.db.read() as session:
        holders = session.scalars(
            select(SeatAssignment.person_id).where(
                SeatAssignment.ended_at.is_(None), SeatAssignment.person_id.is_not(None)
            )
        ).all()
    assert holders == [org.people[1], org.people[1]]
    with pytest.raises(ValidationError, match=re.escape("No one who left holds a seat.")):
        admin.seats.release_departed()
    assert admin.seats.departed_holdings() == (0, 0)


def test_seat_dates_come_from_the_session_clock(database: Database) -> None:
    actor = operators.create_first_administrator(database, "admin", "Ada Admin", PASSWORD)
    moment = dt.datetime(2031, 5, 6, 12, tzinfo=dt.UTC)
    services = Services.for_actor(database, actor, clock=lambda: moment)
    assert services.seats.today() == moment.astimezone().date()
    with pytest.raises(NotFoundError, match=re.escape("License 999 does not exist.")):
        services.seats.units_for_devices(999, [])


# ------------------------------------------------------------------------ committed changes


def test_subscribers_hear_once_per_commit_and_can_leave(admin: Services, org: Any) -> None:
    told: list[frozenset[str]] = []
    unsubscribe = admin.subscribe(told.append)
    admin.seats.assign(org.acrobat, people=org.people[:2])
    admin.directory.add_team("Legal", "CC-200")
    assert told == [frozenset({"entitlement"}), frozenset({"team"})]
    unsubscribe()
    unsubscribe()  # twice is harmless
    admin.directory.add_team("Sales", "CC-300")
    assert len(told) == 2


def test_a_failing_subscriber_does_not_undo_or_hide_the_commit(
    admin: Services, org: Any, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(_types: frozenset[str]) -> None:
        raise RuntimeError("listener bug")

    told: list[frozenset[str]] = []
    admin.subscribe(broken)
    admin.subscribe(told.append)
    team = admin.directory.add_team("Legal", "CC-200")  # no error reaches the caller
    assert team in {t.id for t in admin.directory.teams()}
    assert told == [frozenset({"team"})]  # the others still hear
    assert "A subscriber failed" in caplog.text


def test_services_reach_every_read_the_screens_need(admin: Services, org: Any) -> None:
    reads = admin.reads
    assert list(reads.entitlements().keys()) == list(EntitlementQuery(admin.ctx).keys())
    assert len(reads.people(status="active").keys()) == 5
    assert len(reads.devices().keys()) == 2
    assert reads.counts().licenses == 2
    assert reads.entitlement_row(org.acrobat).quantity == 3
    assert reads.person(org.people[0])[1] == "active"
    assert reads.device(org.devices[0]).hostname == "db-01"
    assert reads.person_ids(["E002"]) == [org.people[1]]
    assert reads.device_ids(["DB-02"]) == [org.devices[1]]
    size = ledger_size(admin.db)
    assert admin.ledger.size() == size == len(reads.activity().keys())
    assert reads.ledger_entry(size)["entry"]["seq"] == size
    assert admin.ledger.verify().ok
    reader = Services.reader(admin.db)
    assert reader.actor.role is Role.VIEWER
    assert reader.reads.counts() == reads.counts()


def test_seats_used_always_matches_open_assignments(admin: Services, org: Any) -> None:
    rng = random.Random(20261128)
    product = product_of(admin, org.acrobat)
    devices = org.devices + [
        admin.directory.add_device(
            DeviceInput(f"node-{n}", processors=rng.randint(1, 4), cores=rng.randint(4, 32))
        )
        for n in range(4)
    ]
    people = org.people + [
        admin.directory.add_person(PersonInput(f"X{n}", f"Extra {n}")) for n in range(5)
    ]
    licenses = {
        org.acrobat: "people",
        org.sql_server: "devices",
        entitlement(admin, product, metric=Metric.PER_PROCESSOR, quantity=6): "devices",
        entitlement(admin, product, metric=Metric.CONCURRENT, quantity=4): "people",
    }
    outcomes = {"assigned": 0, "refused": 0, "released": 0}
    for _ in range(60):
        license_id = rng.choice(list(licenses))
        pool = people if licenses[license_id] == "people" else devices
        roll = rng.random()
        try:
            if roll < 0.55:
                holders = rng.sample(pool, rng.randint(1, 3))
                over = rng.random() < 0.15
                if licenses[license_id] == "people":
                    admin.seats.assign(license_id, people=holders, over_commit=over, reason="r")
                else:
                    admin.seats.assign(license_id, devices=holders, over_commit=over, reason="r")
                outcomes["assigned"] += 1
            elif roll < 0.9:
                with admin.db.read() as session:
                    open_ids = session.scalars(
                        select(SeatAssignment.id).where(SeatAssignment.ended_at.is_(None))
                    ).all()
                if open_ids:
                    admin.seats.release(
                        rng.sample(list(open_ids), min(len(open_ids), rng.randint(1, 3)))
                    )
                    outcomes["released"] += 1
            else:
                admin.directory.mark_left(rng.choice(people), TODAY)
                admin.seats.release_departed()
        except KnownError:
            outcomes["refused"] += 1
        assert_seats_used_consistent(admin.db)
    assert all(outcomes.values()), outcomes  # the sequence exercised each path
    assert ledger.verify(admin.db).ok


# --------------------------------------------------------------------------- entitlement edits


def test_entitlement_update_refuses_quantity_below_use(admin: Services, org: Any) -> None:
    admin.seats.assign(org.acrobat, people=org.people[:2])
    with pytest.raises(
        ValidationError, match=re.escape("Quantity 1 is below the 2 in use; release seats first.")
    ) as info:
        admin.catalog.update_entitlement(org.acrobat, edited(admin, org.acrobat, quantity=1))
    assert info.value.field == "Quantity"
    admin.catalog.update_entitlement(org.acrobat, edited(admin, org.acrobat, quantity=2))
    assert details.entitlement_row(admin.ctx, org.acrobat).quantity == 2
    with pytest.raises(ValidationError, match="metric cannot change while seats are assigned"):
        admin.catalog.update_entitlement(
            org.acrobat, edited(admin, org.acrobat, metric=Metric.CONCURRENT)
        )


# ----------------------------------------------------------------------------------- operators


def test_last_administrator_cannot_be_demoted_or_deactivated(admin: Services) -> None:
    me = admin.actor.id
    for role, active in [
        (Role.VIEWER, True),
        (Role.LICENSE_MANAGER, True),
        (Role.ADMINISTRATOR, False),
    ]:
        with pytest.raises(
            ValidationError,
            match=re.escape("admin is the last active administrator; appoint another first."),
        ):
            admin.operators.set_role(me, role, active)
    other = admin.operators.create("root2", "", Role.ADMINISTRATOR, "root2 lantern harbor")
    admin.operators.set_role(me, Role.VIEWER, True)
    roles = {o.name: (o.role, o.active) for o in admin.operators.list()}
    assert roles == {"admin": (Role.VIEWER, True), "root2": (Role.ADMINISTRATOR, True)}
    second = Services.for_actor(
        admin.db, operators.sign_in(admin.db, "root2", "root2 lantern harbor")
    )
    with pytest.raises(ValidationError, match="root2 is the last active administrator"):
        second.operators.set_role(other, Role.AUDITOR, True)


def test_a_deactivated_administrator_can_be_given_another_role(admin: Services) -> None:
    former = admin.operators.create("former", "", Role.ADMINISTRATOR, "former lantern harbor")
    admin.operators.set_role(former, Role.ADMINISTRATOR, False, reason="left the company")
    # 'former' is no longer an active administrator: changing their role leaves 'admin' in charge.
    admin.operators.set_role(former, Role.VIEWER, False, reason="tidy up roles")
    roles = {o.name: (o.role, o.active) for o in admin.operators.list()}
    assert roles["former"] == (Role.VIEWER, False)
    assert roles["admin"] == (Role.ADMINISTRATOR, True)


def test_sign_in_failures_all_look_the_same(admin: Services) -> None:
    admin.operators.create("bob", "", Role.LICENSE_MANAGER, "bob lantern harbor")
    admin.operators.create("gone", "", Role.LICENSE_MANAGER, "gones-password")
    gone = next(o.id for o in admin.operators.list() if o.name == "gone")
    admin.operators.set_role(gone, Role.LICENSE_MANAGER, False)
    messages = []
    for name, password in [
        ("bob", "wrong"),
        ("nobody", "bob lantern harbor"),
        ("gone", "gones-password"),
    ]:
        with pytest.raises(AuthenticationError) as info:
            operators.sign_in(admin.db, name, password)
        messages.append(str(info.value).replace(name, "<name>"))
    assert messages == ["Wrong operator name or password for '<name>'."] * 3
    assert operators.sign_in(admin.db, " bob ", "bob lantern harbor").name == "bob"


def test_passwords_are_stored_as_argon2id(admin: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(operators, "_hasher", PRODUCTION_HASHER)
    admin.operators.create("carol", "", Role.AUDITOR, "carols-password")
    with admin.db.read() as session:
        stored = dict(session.execute(select(Operator.name, Operator.password_hash)).all())
    assert stored["carol"].startswith("$argon2id$")
    assert stored["admin"].startswith("$argon2id$")
    assert all("password" not in value for value in stored.values())
    assert operators.sign_in(admin.db, "carol", "carols-password").role is Role.AUDITOR


def test_first_administrator_only_once(database: Database) -> None:
    assert not operators.has_operators(database)
    operators.create_first_administrator(database, "root", "", "root lantern harbor")
    assert operators.has_operators(database)
    with pytest.raises(ValidationError, match="already has an administrator"):
        operators.create_first_administrator(database, "intruder", "", "intruder lantern harbor")
    entry = last_entry(database)
    assert (entry["seq"], entry["operator"], entry["action"]) == (1, "root", "operator.create")
    assert ledger_size(database) == 1
