"""A seat change is a fixed handful of statements, however many seats it touches (both engines).

The role check, the limit, the seats, the ledger entry and the alert rules of one assignment or
release run as a few statements built once: a seat is assigned within milliseconds because no
rule reads a row again that the change already holds, and nothing is read per holder.
"""

from __future__ import annotations

from conftest import last_entry, statements
from seatledger.domain.alerts import AlertSettings, Rule
from seatledger.domain.licensing import Metric
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators.session import Services

# role and ledger head, license, holders, seats, count, entry, head, the rules' settings (with
# the burst rule's newest seat changes and whether its alert is open, in the same read)
ASSIGN_STATEMENTS = 8
RELEASE_STATEMENTS = 9  # role and head, seats and licenses, end, count, entry, head, rules
HOLDERS = 40


def test_one_seat_or_forty_take_the_same_few_statements(admin: Services) -> None:
    # Working hours are left out: the test may run at night, when that rule raises an alert.
    admin.alerts.save_settings(AlertSettings(enabled=frozenset(Rule) - {Rule.AFTER_HOURS}))
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=100)
    )
    people = [
        admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}"))
        for n in range(HOLDERS + 1)
    ]

    with statements(admin) as one:
        (seat,) = admin.seats.assign(license_id, people=people[:1]).assignment_ids
    with statements(admin) as many:
        seats = admin.seats.assign(license_id, people=people[1:]).assignment_ids
    assert len(one) == len(many) == ASSIGN_STATEMENTS, one
    assert last_entry(admin.db)["after"]["seats_used"] == HOLDERS + 1

    with statements(admin) as one:
        admin.seats.release([seat])
    with statements(admin) as many:
        admin.seats.release(seats)
    assert len(one) == len(many) == RELEASE_STATEMENTS, one
    assert last_entry(admin.db)["after"]["seats_used"] == {str(license_id): 0}

    verdict = ledger.verify(admin.db)
    assert verdict.ok, verdict.failure


def test_the_rules_still_see_the_count_the_change_leaves(admin: Services) -> None:
    """The limit rules take the license from the change instead of reading it: what they
    raise and clear must be what a fresh read would give."""
    admin.alerts.save_settings(AlertSettings(enabled=frozenset({Rule.LIMIT, Rule.WARNING})))
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Diagram Studio")
    license_id = admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=10)
    )
    people = [admin.directory.add_person(PersonInput(f"E{n:03}", f"Person {n}")) for n in range(12)]

    seats = admin.seats.assign(license_id, people=people[:8]).assignment_ids
    assert [a.rule for a in admin.alerts.alerts()] == []
    seats += admin.seats.assign(license_id, people=people[8:9]).assignment_ids
    warning = admin.alerts.alerts()
    assert [(a.rule, a.subject) for a in warning] == [
        (Rule.WARNING, "Contoso Diagram Studio is at 90 % of its limit: 9 of 10 used")
    ]
    seats += admin.seats.assign(
        license_id, people=people[9:12], over_commit=True, reason="audit season"
    ).assignment_ids
    assert {a.rule for a in admin.alerts.alerts()} == {Rule.WARNING, Rule.LIMIT}

    admin.seats.release(seats[-3:])  # back to 9 of 10: the limit ends, the warning holds
    with admin.db.engine.connect() as conn:
        open_keys = sorted(
            key
            for (key,) in conn.exec_driver_sql(
                "SELECT dedupe_key FROM alert WHERE cleared_at IS NULL"
            )
        )
    assert open_keys == [f"warning:{license_id}"]
    admin.seats.release(seats[:2])  # 7 of 10: under the warning level
    with admin.db.engine.connect() as conn:
        still_open = conn.exec_driver_sql(
            "SELECT count(*) FROM alert WHERE cleared_at IS NULL"
        ).scalar()
    assert still_open == 0
