"""0031: the snapshots an older database recorded only as its checkouts' last sightings.

Before 0031 a snapshot left its instant in ``usage_session.seen_at`` of the checkouts it showed
(the newest sighting kept).  The upgrade rebuilds one ``usage_snapshot`` row per server (as
checkouts name it, in lower case), feature and distinct last sighting, marked ``recovered``:
a lower bound, since a snapshot that was no checkout's last sighting left no trace.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import create_engine, text
from tests.conftest import alembic_upgrade

from seatledger.services.usage.snapshots import Sightings


def test_upgrade_to_0031_recovers_a_snapshot_per_server_feature_and_last_sighting(
    db_url: str,
) -> None:
    alembic_upgrade(db_url, "0030")
    t1, t2 = "2026-03-04 10:30:00", "2026-03-05 10:30:00"
    checkouts = [
        # user, server, last sighting, import: two checkouts the 10:30 snapshot of 3/4 showed
        # last (the server spelt two ways), one the next day's, one from a debug log.
        ("ann", "LIC01/27000", t1, 1),
        ("bob", "lic01/27000", t1, 2),
        ("cy", "lic01/27000", t2, 3),
        ("dee", "", None, 4),
    ]
    engine = create_engine(db_url)
    with engine.begin() as conn:
        for user, server, seen, batch in checkouts:
            conn.execute(
                text(
                    "INSERT INTO usage_session (feature, user_name, host, checkout, units, "
                    "import_id, server, handle, seen_at) VALUES ('MATLAB', :u, 'ws', "
                    "'2026-03-01 09:00:00', 1, :i, :s, '', :seen)"
                ),
                {"u": user, "i": batch, "s": server, "seen": seen},
            )
    engine.dispose()
    alembic_upgrade(db_url, "0031")
    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT import_id, server, feature, taken_at, recovered FROM usage_snapshot "
                    "ORDER BY taken_at"
                )
            ).all()
    finally:
        engine.dispose()
    assert [(i, s, f, str(t)[:16], bool(r)) for i, s, f, t, r in rows] == [
        (2, "lic01/27000", "MATLAB", "2026-03-04 10:30", True),
        (3, "lic01/27000", "MATLAB", "2026-03-05 10:30", True),
    ]


def test_recovered_snapshots_are_counted_as_a_lower_bound() -> None:
    taken = dt.datetime(2026, 3, 5, 10, 30, tzinfo=dt.UTC)
    seen = Sightings(2, ("lic01/27000",), taken, taken, taken, "lic01/27000", recovered=True)
    assert seen.of == "at least 2 snapshots of lic01/27000"
