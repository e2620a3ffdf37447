"""Access review benchmarks on the large demo (issue 18's budgets).

- **reviewer view**: what the Access reviews page reads when a reviewer opens a campaign of
  about 100,000 seats (their campaigns with progress, their teams, the first page of their
  team's seats with each seat's evidence of use), median of several runs after a warm-up,
  beside a raw ``sqlite3`` read of the same item rows without the evidence; budget 150 ms;
- **close**: closing that campaign with 10,000 seats decided for release (the releases through
  the seat service and the closing entry), beside a raw ``sqlite3`` UPDATE of the same 10,000
  assignments in one transaction on the same copy; budget 10 s.

Run alone: ``python bench/reviews.py`` (uses the cached large demo; writes only to a copy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LARGE = HERE / ".cache" / "large.sqlite"
WORK = HERE / ".cache" / "work-reviews.sqlite"
CAMPAIGN_SEATS = 100_000
RELEASES = 10_000
PASSWORD = "harbor lantern velvet 42"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    """Measure the reviewer view and the close; print each beside its raw baseline."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repeats of the reviewer view")
    parser.add_argument("--keep", action="store_true", help="keep the copy (for profiling)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(HERE.parent / "src"))
    from seatledger.domain.reviews import Decision  # noqa: PLC0415
    from seatledger.domain.roles import Role  # noqa: PLC0415
    from seatledger.services.operators.accounts import sign_in  # noqa: PLC0415
    from seatledger.services.operators.session import Services  # noqa: PLC0415
    from seatledger.services.operators.workspace import upgrade_database  # noqa: PLC0415
    from seatledger.store.db import HEAD_REVISION, Database  # noqa: PLC0415
    from seatledger.ui.pages.reviews import SHOWN  # noqa: PLC0415

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
                raw.execute(
                    "SELECT i.id, i.assignment_id, i.decision FROM review_item i "
                    "JOIN seat_assignment s ON s.id = i.assignment_id "
                    "WHERE i.campaign_id = ? AND i.team_id = ? ORDER BY i.id LIMIT ?",
                    (campaign, teams[0], SHOWN + 1),
                ).fetchall()
                raw_times.append(time.perf_counter() - began)
        view_ms, raw_view = statistics.median(times), statistics.median(raw_times)

        if args.keep:  # a second campaign, left open, for profiling the view
            admin.reviews.start(
                "Profile",
                admin.reviews.today() + dt.timedelta(days=30),
                reviewers={teams[0]: rita.actor.id},
                teams=teams,
            )
        items = [row.id for row in admin.reviews.items(campaign, limit=RELEASES)]
        admin.reviews.decide(campaign, items, Decision.RELEASE, "Bench: not used")
        began = time.perf_counter()
        result = admin.reviews.close(campaign)
        closed = time.perf_counter() - began
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
            raw.execute(
                f"UPDATE seat_assignment SET ended_at = ? WHERE id IN ({','.join('?' * len(chunk))})",
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
        f"(raw read of the rows {_ms(raw_view)}, ratio {view_ms / raw_view:.1f}x); "
        f"budget 150 ms: {'met' if view_ms <= 0.150 else 'NOT met'}"
    )
    print(
        f"close with {result.released:,} releases: {closed:.2f} s "
        f"(raw UPDATE of as many seats {raw_close:.2f} s, ratio {closed / raw_close:.1f}x); "
        f"budget 10 s: {'met' if closed <= 10 else 'NOT met'}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
