"""Access review benchmarks on the large demo (issue 18's budgets).

- **reviewer view**: what the Access reviews page reads when a reviewer opens a campaign of
  about 100,000 seats (their campaigns with progress, their teams, the first page of their
  team's seats with each seat's evidence of use), median of several runs after a warm-up,
  beside the same statements run in plain ``sqlite3`` (progress, rows, grouped evidence);
  budget 150 ms;
- **move picker**: the search the "Move to…" picker runs as a reviewer types (a page of the
  people a seat may move to), median over the seats moved below; no budget of its own, kept
  well under the view's;
- **close**: closing that campaign with 10,000 seats decided for release and 100 for a move to
  another person (the releases through the seat service, the moves and the closing entry in one
  transaction), beside a raw ``sqlite3`` UPDATE of the same 10,000 assignments in one
  transaction on the same copy; budget 10 s;
- **signed report**: the closed campaign's signed bundle (its helper checks the whole ledger
  first, as a vendor audit's export does), beside ``ledger verify``'s own check of the chain on
  the same copy; no budget of its own.

Run alone: ``python bench/reviews.py`` (uses the cached large demo; writes only to a copy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LARGE = HERE / ".cache" / "large.sqlite"
WORK = HERE / ".cache" / "work-reviews.sqlite"
CAMPAIGN_SEATS = 100_000
RELEASES = 10_000
MOVES = 100
PASSWORD = "harbor lantern velvet 42"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _raw_view(raw: sqlite3.Connection, campaign: int, reviewer: int, limit: int) -> None:
    """The reviewer view's work in plain sqlite3: the reviewer's teams and progress, the first
    rows of their seats, and the same grouped evidence statements for those seats."""
    raw.execute(
        "SELECT r.team_id, count(*), sum(i.decision != '') FROM review_reviewer r "
        "JOIN review_item i ON i.campaign_id = r.campaign_id AND i.team_id = r.team_id "
        "WHERE r.operator_id = ? GROUP BY r.team_id",
        (reviewer,),
    ).fetchall()
    rows = raw.execute(
        "SELECT i.id, s.person_id, s.device_id, e.product_id, coalesce(p.name, d.hostname), "
        "v.name, pr.name, e.name, s.started_at, i.decision, i.reason, i.decided_by "
        "FROM review_item i JOIN seat_assignment s ON s.id = i.assignment_id "
        "JOIN entitlement e ON e.id = s.entitlement_id JOIN product pr ON pr.id = e.product_id "
        "JOIN vendor v ON v.id = pr.vendor_id LEFT JOIN person p ON p.id = s.person_id "
        "LEFT JOIN device d ON d.id = s.device_id WHERE i.campaign_id = ? AND i.team_id IN "
        "(SELECT team_id FROM review_reviewer WHERE campaign_id = ? AND operator_id = ?) "
        "ORDER BY i.team_id, i.id LIMIT ?",
        (campaign, campaign, reviewer, limit),
    ).fetchall()
    people = sorted({r[1] for r in rows if r[1] is not None})
    marks = ",".join("?" * len(people))
    raw.execute(
        "SELECT d.owner_id, t.product_id, max(coalesce(d.last_seen, i.first_seen)) "
        "FROM installation i JOIN device d ON d.id = i.device_id "
        "JOIN software_title t ON t.id = i.title_id WHERE i.removed_on IS NULL "
        f"AND d.owner_id IN ({marks}) AND t.product_id IS NOT NULL "
        "GROUP BY d.owner_id, t.product_id",
        people,
    ).fetchall()
    raw.execute(
        "SELECT person_id, product_id, server != '', max(coalesce(checkin, seen_at, checkout)) "
        f"FROM usage_session WHERE person_id IN ({marks}) GROUP BY 1, 2, 3",
        people,
    ).fetchall()


def main(argv: list[str] | None = None) -> int:
    """Measure the reviewer view and the close; print each beside its raw baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats of the reviewer view")
    parser.add_argument("--keep", action="store_true", help="keep the copy (for profiling)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    from seatledger.domain.reviews import Decision
    from seatledger.domain.roles import Role
    from seatledger.errors import KnownError
    from seatledger.services.audits.signing import TEST_KDF, SigningService
    from seatledger.services.operators.accounts import sign_in
    from seatledger.services.operators.session import Services
    from seatledger.services.operators.workspace import upgrade_database
    from seatledger.store.db import HEAD_REVISION, Database
    from seatledger.ui.pages.reviews import SHOWN

    _say(f"Copying {LARGE.name} ...")
    for stale in WORK.parent.glob(WORK.name + "*"):
        stale.unlink()
    shutil.copyfile(LARGE, WORK)
    db, _ = Database.open(WORK, create=False)
    try:
        actor = sign_in(db, "admin", "demo")
        if db.current_revision() != HEAD_REVISION:
            _say("Upgrading the copy ...")
            upgrade_database(db, actor)
            db.dispose()
            db, _ = Database.open(WORK, create=False)
        admin = Services.for_actor(db, actor)
        admin.operators.create("rita", "Rita Reviewer", Role.REVIEWER, PASSWORD)
        rita = Services.for_actor(db, sign_in(db, "rita", PASSWORD))
        with sqlite3.connect(WORK) as raw:
            per_team = raw.execute(
                "SELECT p.team_id, count(*) FROM seat_assignment s JOIN person p "
                "ON p.id = s.person_id WHERE s.ended_at IS NULL AND p.team_id IS NOT NULL "
                "GROUP BY p.team_id ORDER BY p.team_id"
            ).fetchall()
        teams: list[int] = []
        total = 0
        for team, seats in per_team:
            if total >= CAMPAIGN_SEATS:
                break
            teams.append(int(team))
            total += int(seats)
        _say(f"Starting a campaign over {len(teams)} teams (about {total:,} seats) ...")
        began = time.perf_counter()
        campaign = admin.reviews.start(
            "Bench",
            admin.reviews.today() + dt.timedelta(days=30),
            reviewers={teams[0]: rita.actor.id},
            teams=teams,
        )
        started = time.perf_counter() - began
        seats = admin.reviews.campaign(campaign).seats

        def view() -> int:
            rita.reviews.campaigns()
            rita.reviews.my_teams(campaign)
            return len(rita.reviews.items(campaign, limit=SHOWN + 1))

        shown = view()  # warm-up
        times = []
        for _ in range(args.runs):
            began = time.perf_counter()
            view()
            times.append(time.perf_counter() - began)
        with sqlite3.connect(WORK) as raw:
            raw_times = []
            for _ in range(args.runs):
                began = time.perf_counter()
                _raw_view(raw, campaign, rita.actor.id, SHOWN + 1)
                raw_times.append(time.perf_counter() - began)
        view_ms, raw_view = statistics.median(times), statistics.median(raw_times)

        if args.keep:  # a second campaign, left open, for profiling the view
            admin.reviews.start(
                "Profile",
                admin.reviews.today() + dt.timedelta(days=30),
                reviewers={teams[0]: rita.actor.id},
                teams=teams,
            )
        items = [row.id for row in admin.reviews.items(campaign, limit=RELEASES + 4 * MOVES)]
        admin.reviews.decide(campaign, items[:RELEASES], Decision.RELEASE, "Bench: not used")
        picker_times: list[float] = []
        chosen: set[int] = set()
        for item in items[RELEASES:]:
            if len(chosen) >= MOVES:
                break
            began = time.perf_counter()
            found = admin.reviews.move_candidates(campaign, item, "a", limit=51)
            picker_times.append(time.perf_counter() - began)
            target = next((c.id for c in found if c.id not in chosen), None)
            if target is None:
                continue
            try:
                admin.reviews.move(campaign, item, target, "Bench: handover")
            except KnownError:  # a device's seat: it moves to no person
                continue
            chosen.add(target)
        began = time.perf_counter()
        result = admin.reviews.close(campaign)
        closed = time.perf_counter() - began
        with tempfile.TemporaryDirectory(dir=WORK.parent) as folder:
            SigningService(admin.ctx, TEST_KDF).create(PASSWORD, "Bench")
            began = time.perf_counter()
            bundle = admin.review_reports.sign(
                campaign, passphrase=PASSWORD, out_dir=Path(folder), kdf=TEST_KDF
            )
            signed = time.perf_counter() - began
            began = time.perf_counter()
            chain = admin.ledger.verify()
            chain_check = time.perf_counter() - began
            assert chain.ok, chain
    finally:
        db.dispose()
    # The raw limit: the same number of assignments ended in one UPDATE and commit.
    with sqlite3.connect(WORK) as raw:
        ids = [
            r[0]
            for r in raw.execute(
                "SELECT id FROM seat_assignment WHERE ended_at IS NULL ORDER BY id LIMIT ?",
                (RELEASES,),
            )
        ]
        began = time.perf_counter()
        for start in range(0, len(ids), 900):
            chunk = ids[start : start + 900]
            marks = ",".join("?" * len(chunk))
            raw.execute(
                f"UPDATE seat_assignment SET ended_at = ? WHERE id IN ({marks})",
                ["2026-12-07 00:00:00", *chunk],
            )
        raw.commit()
        raw_close = time.perf_counter() - began
    if not args.keep:
        for stale in WORK.parent.glob(WORK.name + "*"):
            stale.unlink()
    for backup in WORK.parent.glob("work-reviews.before-upgrade-*"):
        backup.unlink()
    print(f"campaign of {seats:,} seats started in {started:.2f} s")
    print(
        f"reviewer view ({shown:,} of their team's seats listed): {_ms(view_ms)} "
        f"(the same statements in plain sqlite3 {_ms(raw_view)}, ratio "
        f"{view_ms / raw_view:.1f}x); "
        f"budget 150 ms: {'met' if view_ms <= 0.150 else 'NOT met'}"
    )
    picker = statistics.median(picker_times)
    print(
        f"move picker search (a page of people, {len(picker_times)} searches): {_ms(picker)} "
        f"median (ratio to the raw view {picker / raw_view:.1f}x)"
    )
    print(
        f"close with {result.released:,} releases and {result.moved:,} moves: {closed:.2f} s "
        f"(raw UPDATE of as many seats {raw_close:.2f} s, ratio {closed / raw_close:.1f}x); "
        f"budget 10 s: {'met' if closed <= 10 else 'NOT met'}"
    )
    print(
        f"signed report ({bundle.checkpoint.size:,} ledger entries checked): {signed:.2f} s "
        f"(the chain check alone {chain_check:.2f} s, ratio {signed / chain_check:.1f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
