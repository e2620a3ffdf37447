"""Two writers on one database (both engines): the seat limit and the ledger chain hold."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

from sqlalchemy import text

from conftest import PASSWORD
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import LimitExceeded
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import PersonInput
from seatledger.services.ledger import verify as ledger
from seatledger.services.operators import accounts as operators
from seatledger.services.operators.session import Services
from seatledger.store.db import Database

ROUNDS = 4
QUANTITY = 3


def _run_in_threads(
    url: str, operator_names: list[str], work: Callable[[int, Services], Any]
) -> list[Any]:
    """Run ``work(index, services)`` in one thread per operator, each with its own engine."""
    results: list[Any] = [None] * len(operator_names)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        db, _ = Database.open(url)
        try:
            services = Services.for_actor(
                db, operators.sign_in(db, operator_names[index], PASSWORD)
            )
            results[index] = work(index, services)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)
        finally:
            db.dispose()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(len(operator_names))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a writer hung"
    if errors:
        raise errors[0]
    return results


def _seqs(db: Database) -> list[int]:
    with db.engine.connect() as conn:
        return list(conn.execute(text("SELECT seq FROM ledger_entry ORDER BY seq")).scalars())


def test_two_writers_racing_for_the_last_seats(
    admin: Services, as_role: Callable[[Role], Services]
) -> None:
    manager = as_role(Role.LICENSE_MANAGER)
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Floating CAD")
    licenses = [
        admin.catalog.add_entitlement(
            EntitlementInput(product_id=product, metric=Metric.CONCURRENT, quantity=QUANTITY)
        )
        for _ in range(ROUNDS)
    ]
    people = [
        [
            admin.directory.add_person(PersonInput(f"T{w}-{n}", f"Writer {w} person {n}"))
            for n in range(QUANTITY)
        ]
        for w in range(2)
    ]
    barrier = threading.Barrier(2, timeout=30)

    def work(index: int, services: Services) -> Counter[str]:
        outcome: Counter[str] = Counter()
        for license_id in licenses:
            for person in people[index]:
                barrier.wait()  # both writers ask at the same moment
                try:
                    services.seats.assign(license_id, people=[person])
                    outcome["assigned"] += 1
                except LimitExceeded:
                    outcome["refused"] += 1
        return outcome

    size_before = len(_seqs(admin.db))
    first, second = _run_in_threads(admin.db.url, [admin.actor.name, manager.actor.name], work)

    total = first + second
    assert total == Counter(assigned=ROUNDS * QUANTITY, refused=ROUNDS * QUANTITY)
    with admin.db.engine.connect() as conn:
        used = conn.execute(text("SELECT seats_used, quantity FROM entitlement ORDER BY id")).all()
        open_seats = conn.execute(
            text(
                "SELECT entitlement_id, count(*) FROM seat_assignment WHERE ended_at IS NULL "
                "GROUP BY entitlement_id ORDER BY entitlement_id"
            )
        ).all()
    assert [tuple(r) for r in used] == [(QUANTITY, QUANTITY)] * ROUNDS
    assert [tuple(r) for r in open_seats] == [(lic, QUANTITY) for lic in licenses]

    seqs = _seqs(admin.db)
    assert seqs == list(range(1, len(seqs) + 1))
    assert len(seqs) == size_before + ROUNDS * QUANTITY  # one entry per seat, none for refusals
    verdict = ledger.verify(admin.db)
    assert verdict.ok, verdict.failure
    assert verdict.entries == len(seqs)


def test_concurrent_appends_keep_the_chain(
    admin: Services, as_role: Callable[[Role], Services]
) -> None:
    manager = as_role(Role.LICENSE_MANAGER)
    per_writer = 15

    def work(index: int, services: Services) -> list[int]:
        return [services.directory.add_team(f"Team {index}-{n}") for n in range(per_writer)]

    size_before = len(_seqs(admin.db))
    made = _run_in_threads(admin.db.url, [admin.actor.name, manager.actor.name], work)

    assert len(set(made[0]) | set(made[1])) == 2 * per_writer
    seqs = _seqs(admin.db)
    assert seqs == list(range(1, size_before + 2 * per_writer + 1))
    verdict = ledger.verify(admin.db)
    assert verdict.ok, verdict.failure
    with admin.db.engine.connect() as conn:
        by_operator: dict[str, int] = dict(
            conn.execute(
                text(
                    "SELECT operator, count(*) FROM ledger_entry WHERE action = 'team.create' "
                    "GROUP BY operator"
                )
            ).all()
        )
    assert by_operator == {admin.actor.name: per_writer, manager.actor.name: per_writer}
