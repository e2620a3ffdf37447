"""The demo's discovered software and license-server usage, written as two recorded imports.

After the demo's seats exist, this adds what a discovery tool would have found: the licensed
products installed where their seats are (most of them), some installs nobody holds a seat for,
seats whose holder shows no install (shelfware), and the everyday free software every machine
carries, which no rule maps.  Normalization rules map each product's raw titles; concurrent
products get three months of license-server checkouts.  Each step is one ledger entry, as an
administrator's import would be.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections import defaultdict
from itertools import count, repeat
from typing import Any

from sqlalchemy import select

from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Permission, Role
from seatledger.progress import Progress
from seatledger.services.alerts.service import AlertService
from seatledger.services.core.context import Actor, Context
from seatledger.store.bulk import Bulk
from seatledger.store.db import Database
from seatledger.store.models import ImportBatch, LedgerEntry, Operator

# Free and everyday software, as Windows' Uninstall keys name it: (publisher, title, versions).
EVERYDAY = (
    ("Google LLC", "Google Chrome", ("131.0.6778.86", "130.0.6723.117", "129.0.6668.90")),
    ("Mozilla", "Mozilla Firefox (x64 en-US)", ("133.0", "132.0.2")),
    ("Microsoft Corporation", "Microsoft Edge", ("131.0.2903.70", "130.0.2849.80")),
    ("Microsoft Corporation", "Microsoft Teams", ("24295.605.3225.8804",)),
    ("Microsoft Corporation", "Microsoft OneDrive", ("24.216.1027.0003",)),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2015-2022 Redistributable (x64)",
        ("14.40.33810.0", "14.38.33135.0"),
    ),
    (
        "Microsoft Corporation",
        "Microsoft Visual C++ 2015-2022 Redistributable (x86)",
        ("14.40.33810.0",),
    ),
    ("Microsoft Corporation", "Microsoft .NET Runtime - 8.0.11 (x64)", ("8.0.11.34221",)),
    ("Microsoft Corporation", "Microsoft Update Health Tools", ("5.72.0.0",)),
    ("Microsoft Corporation", "Microsoft Visual Studio Code", ("1.95.3", "1.94.2")),
    ("Igor Pavlov", "7-Zip 24.08 (x64)", ("24.08",)),
    ("Igor Pavlov", "7-Zip 23.01 (x64)", ("23.01",)),
    ("Notepad++ Team", "Notepad++ (64-bit x64)", ("8.7.1", "8.6.9")),
    ("VideoLAN", "VLC media player", ("3.0.21",)),
    ("Zoom Video Communications, Inc.", "Zoom Workplace (64-bit)", ("6.2.11",)),
    ("The Git Development Community", "Git", ("2.47.0",)),
    ("Python Software Foundation", "Python 3.12.7 (64-bit)", ("3.12.7150.0",)),
    ("Node.js Foundation", "Node.js", ("22.11.0",)),
    ("Simon Tatham", "PuTTY release 0.81 (64-bit)", ("0.81.0.0",)),
    ("Martin Prikryl", "WinSCP 6.3.5", ("6.3.5",)),
    ("Dominik Reichl", "KeePass Password Safe 2.57.1", ("2.57.1",)),
    ("Adobe Inc.", "Adobe Acrobat Reader (64-bit)", ("24.004.20220",)),
    ("Oracle Corporation", "Java 8 Update 431 (64-bit)", ("8.0.4310.10",)),
    ("Cisco Systems, Inc.", "Cisco Secure Client - AnyConnect VPN", ("5.1.6.103",)),
    ("Slack Technologies Inc.", "Slack (Machine - MSI)", ("4.41.97",)),
    ("dotPDN LLC", "paint.net", ("5.1.1",)),
    ("The GIMP Team", "GIMP 2.10.38", ("2.10.38",)),
    ("Audacity Team", "Audacity 3.7.0", ("3.7.0",)),
    ("Greenshot", "Greenshot 1.2.10.6", ("1.2.10.6",)),
    ("Microsoft Corporation", "Windows PC Health Check", ("3.7.2204.15001",)),
    ("Intel Corporation", "Intel(R) Graphics Driver", ("31.0.101.5590",)),
    ("Realtek Semiconductor Corp.", "Realtek Audio Driver", ("6.0.9549.1",)),
    ("Dell Inc.", "Dell Command | Update", ("5.4.0",)),
    ("Lenovo", "Lenovo Vantage Service", ("4.0.89.0",)),
    ("WinMerge Developers", "WinMerge 2.16.44.0 x64", ("2.16.44.0",)),
    ("Wireshark development team", "Wireshark 4.4.2 x64", ("4.4.2",)),
)
_EVERYDAY_PER_DEVICE = {"small": 9, "large": 41, "xlarge": 41}  # about 5M and 20M installs
_PACK = 20  # bits of a title id in a packed (device, title) key
_SHELF = 0.08  # seats whose holder shows no install
_UNLICENSED = 0.03  # of licensed installs, one more on a device with no seat
_CONCURRENT_PRODUCTS = 40
_BUSIEST = 60
_SQLITE_CACHE_KIB = 65_536
_BLOCK = 20_000  # devices whose everyday titles are drawn at once


def _titles_of(vendor: str, product: str, seed: int) -> list[tuple[str, str, str]]:
    """The raw titles discovery tools report for a product: two spellings, a few versions."""
    rng = random.Random(f"{seed}/{vendor}/{product}")  # noqa: S311 (demo data, not secrets)
    major = rng.choice((2023, 2024, 2025))
    versions = [f"{major - 2000}.{minor}.{rng.randrange(100, 9999)}" for minor in (1, 2)]
    return [
        (vendor, product, versions[0]),
        (vendor, product, versions[1]),
        (
            f"{vendor} Inc." if not vendor.endswith(("Inc.", "Ltd", "GmbH")) else vendor,
            f"{product} (64-bit)",
            versions[1],
        ),
    ]


def after_last_entry(database: Database) -> tuple[Actor, dt.datetime]:
    """The demo's first administrator, and the time of its ledger's last entry: what the demo's
    recorded imports are made by, and dated after."""
    with database.read() as session:
        admin = session.execute(select(Operator.id, Operator.name).order_by(Operator.id)).first()
        last = session.scalar(select(LedgerEntry.ts).order_by(LedgerEntry.seq.desc()).limit(1))
    assert admin is not None
    assert last is not None
    actor = Actor(admin[0], admin[1], Role.ADMINISTRATOR)
    return actor, dt.datetime.strptime(last, "%Y-%m-%dT%H:%M:%S.%f%z")


def add_inventory(database: Database, size: str, seed: int, report: Progress) -> str:
    """Add discovered installs, rules and usage to a freshly built demo; a one-line summary."""
    rng = random.Random(seed + 7)  # noqa: S311 (demo data, not secrets)
    admin, start = after_last_entry(database)
    # Right after the demo's last entry, a microsecond apart: the same seed on the same day
    # builds the same ledger, and nothing is dated after the build.
    ticks = iter(range(1, 100))

    def clock() -> dt.datetime:
        return start + dt.timedelta(microseconds=next(ticks))

    ctx = Context(database, admin, clock)
    # The alert rules watch the demo's imports as they watch real ones: the licenses over or
    # near their limits, new installs without a seat, checkouts after leaving are raised by
    # the imports that show them (a bulk-built demo otherwise shows "Open alerts 0" beside
    # licenses over their limit).
    AlertService(ctx)
    today = dt.datetime.now(dt.UTC).date()
    report.stage("Inventory")
    report(0, 3)
    with ctx.change(
        Permission.EDIT_LICENSES, "rule.create", "normalization_rule", "map titles"
    ) as change:
        bulk = Bulk(change.session.connection())
        products = [
            (pid, vendor, name)
            for pid, name, vendor in bulk.execute(
                "SELECT p.id, p.name, v.name FROM product p JOIN vendor v ON v.id = p.vendor_id "
                "WHERE EXISTS (SELECT 1 FROM entitlement e WHERE e.product_id = p.id) "
                "ORDER BY p.id"
            )
        ]
        titles: list[tuple[Any, ...]] = []
        rules: list[tuple[Any, ...]] = []
        product_titles: dict[int, list[int]] = {}
        stamp = bulk.stamp(change.now)
        for pid, vendor, name in products:
            ids = []
            for publisher, title, version in _titles_of(vendor, name, seed):
                titles.append((len(titles) + 1, publisher, title, version, pid))
                ids.append(len(titles))
            product_titles[pid] = ids
            rules.append((pid, "exact", "", name, "", "", 0, admin.name, stamp))
            rules.append((pid, "exact", "", f"{name} (64-bit)", "", "", 0, admin.name, stamp))
        for (pid,) in bulk.execute(
            "SELECT DISTINCT product_id FROM entitlement WHERE metric = ? ORDER BY product_id",
            (Metric.CONCURRENT.value,),
        ):
            name = next(n for p, _, n in products if p == pid)
            rules.append((pid, "exact", "", _feature(name), "", "", 0, admin.name, stamp))
        for publisher, title, versions in EVERYDAY:
            for version in versions:
                titles.append((len(titles) + 1, publisher, title, version, None))
        bulk.insert("software_title", "id, publisher, title, version, product_id", titles)
        bulk.insert(
            "normalization_rule",
            "product_id, kind, publisher, title, version_min, version_max, priority, created_by, "
            "created_at",
            rules,
        )
        bulk.advance_sequences(["software_title", "normalization_rule"])
        change.entity_id = "demo"
        change.after = {"rules": len(rules), "titles_mapped": len(titles) - _everyday_count()}
    report(1, 3)

    with ctx.change(
        Permission.EDIT_DIRECTORY, "import.inventory", "import", "import inventory"
    ) as change:
        bulk = Bulk(change.session.connection())
        if bulk.sqlite:  # millions of rows and two index builds: give SQLite a bigger cache
            bulk.execute(f"PRAGMA cache_size = -{_SQLITE_CACHE_KIB}")
        devices = [int(d) for (d,) in bulk.execute("SELECT id FROM device ORDER BY id")]
        owned: dict[int, list[int]] = defaultdict(list)
        for device_id, owner_id in bulk.execute(
            "SELECT id, owner_id FROM device WHERE owner_id IS NOT NULL ORDER BY id"
        ):
            owned[int(owner_id)].append(int(device_id))
        # (device, title) packed in one int: a million licensed installs stay small in memory.
        licensed: set[int] = set()
        holders = bulk.execute(
            "SELECT e.product_id, s.device_id, s.person_id FROM seat_assignment s "
            "JOIN entitlement e ON e.id = s.entitlement_id WHERE s.ended_at IS NULL ORDER BY s.id"
        )
        while chunk := holders.fetchmany(50_000):
            for pid, device_id, person_id in chunk:
                if rng.random() < _SHELF:
                    continue
                choices = product_titles.get(int(pid))
                if not choices:
                    continue
                targets = (
                    [int(device_id)] if device_id is not None else owned.get(int(person_id), [])
                )
                for target in targets:
                    licensed.add(target << _PACK | rng.choice(choices))
                if rng.random() < _UNLICENSED:
                    licensed.add(rng.choice(devices) << _PACK | rng.choice(choices))
        batch = _batch(
            "inventory", "demo-inventory.csv", "Demo discovery export", admin.name, change.now
        )
        change.session.add(batch)
        change.session.flush()
        report(2, 3)
        import numpy as np  # noqa: PLC0415 (five million rows; not needed at start-up)

        days = [bulk.day(today - dt.timedelta(days=n)) for n in range(300)]
        everyday = [t[0] for t in titles if t[4] is None]
        per_device = min(_EVERYDAY_PER_DEVICE.get(size, 9), len(everyday))
        keys = _installed(devices, everyday, per_device, licensed, seed)
        licensed.clear()
        # One stream in (device, title) order, indexes built once at the end: the fastest way
        # SQLite (and PostgreSQL) take millions of rows.
        bulk.defer_indexes(["installation"])
        # First seen on one of the last 300 days: spread by arithmetic, not a random draw per
        # row (five million draws cost more than writing the rows).
        device_ids, title_ids = keys >> _PACK, keys & ((1 << _PACK) - 1)
        first_seen = np.array(days, dtype=object)[(device_ids * 7 + title_ids * 13) % len(days)]
        # Each install is the row of the export it stands for, under a header line.
        bulk.stream(
            "INSERT INTO installation (device_id, title_id, first_seen, install_date, import_id, "
            "source_line) VALUES (?, ?, ?, NULL, ?, ?)",
            zip(
                device_ids.tolist(),
                title_ids.tolist(),
                first_seen.tolist(),
                repeat(batch.id),
                count(2),
                strict=False,
            ),
        )
        total = len(keys)
        bulk.restore_indexes()
        if bulk.sqlite:
            bulk.execute("PRAGMA cache_size = -2000")
        batch.rows = batch.inserted = total
        batch.sha256 = hashlib.sha256(f"demo/{seed}/{total}".encode()).hexdigest()
        bulk.execute("UPDATE device SET last_seen = ?", (bulk.day(today - dt.timedelta(days=1)),))
        change.entity_id = str(batch.id)
        change.after = {"file": batch.file_name, "rows": total, "inserted": total}
        # What an inventory import hands the unlicensed-installs rule beside its entry: every
        # install is new (the table was empty), counted per title.
        counts = np.bincount(title_ids)
        change.extra["inserted_by_title"] = {
            int(title): int(counts[title]) for title in np.flatnonzero(counts).tolist()
        }
        change.extra["installs_before"] = 0
    sessions = _usage(ctx, rng, today)
    report(3, 3)
    return f"{total:,} installs, {len(rules):,} rules, {sessions:,} license checkouts"


def _installed(
    devices: list[int], everyday: list[int], per_device: int, licensed: set[int], seed: int
) -> Any:
    """Every install as a packed (device, title) key, ascending: the licensed ones and, on each
    device, ``per_device`` everyday titles drawn without repeats (numpy, a block at a time)."""
    import numpy as np  # noqa: PLC0415 (see add_inventory)

    gen = np.random.default_rng(seed + 11)
    choices = np.array(everyday, dtype=np.int64)
    parts = [np.fromiter(licensed, dtype=np.int64, count=len(licensed))]
    for start in range(0, len(devices), _BLOCK):
        block = np.array(devices[start : start + _BLOCK], dtype=np.int64)
        drawn = np.argsort(gen.random((len(block), len(choices))), axis=1)[:, :per_device]
        parts.append((block[:, None] << _PACK | choices[drawn]).ravel())
    keys = np.sort(np.concatenate(parts))  # np.unique is 60x slower on int64 in numpy 2.4
    keep = np.ones(len(keys), dtype=bool)
    keep[1:] = keys[1:] != keys[:-1]
    return keys[keep]


def _feature(product: str) -> str:
    """The license-server feature name of a concurrent product (FlexLM style)."""
    return "".join(ch for ch in product.upper() if ch.isalnum())[:30]


def _everyday_count() -> int:
    return sum(len(versions) for _, _, versions in EVERYDAY)


def _usage(ctx: Context, rng: random.Random, today: dt.date) -> int:
    """Three months of license-server checkouts of the concurrent products."""
    with ctx.change(Permission.EDIT_DIRECTORY, "import.usage", "import", "import usage") as change:
        bulk = Bulk(change.session.connection())
        concurrent = bulk.execute(
            "SELECT e.product_id, p.name, SUM(e.quantity) FROM entitlement e JOIN product p ON "
            "p.id = e.product_id WHERE e.metric = ? AND (e.term_end IS NULL OR e.term_end >= ?) "
            "AND (e.term_start IS NULL OR e.term_start <= ?) GROUP BY e.product_id, p.name "
            "ORDER BY e.product_id",
            (Metric.CONCURRENT.value, bulk.day(today), bulk.day(today)),
        ).all()[:_CONCURRENT_PRODUCTS]
        people = bulk.execute(
            "SELECT id, email FROM person WHERE status = 'active' ORDER BY id"
        ).all()
        batch = _batch(
            "usage",
            "lmgrd-demo.log",  # every checkout dated at both ends, as a debug log gives them
            "FlexNet debug log",
            ctx.actor.name,
            change.now,
            sha256=hashlib.sha256(b"demo").hexdigest(),
        )
        change.session.add(batch)
        change.session.flush()
        rows: list[tuple[Any, ...]] = []
        for pid, name, quantity in concurrent:
            feature = _feature(str(name))
            users = rng.sample(people, min(len(people), max(int(quantity) * 3, 5)))
            for back in range(90, 0, -1):
                day = today - dt.timedelta(days=back)
                if day.weekday() >= 5:
                    continue
                # Mostly within the limit; now and then a few over it (a finding to resolve).
                # A product's day is at most _BUSIEST checkouts: the peak is what counts.
                top = min(int(quantity) + max(int(quantity) // 20, 1), _BUSIEST)
                busy = rng.randint(top // 3, top)
                for person_id, email in rng.sample(users, min(busy, len(users))):
                    start = dt.datetime.combine(day, dt.time(8), tzinfo=dt.UTC) + dt.timedelta(
                        minutes=rng.randrange(0, 300)
                    )
                    end = start + dt.timedelta(minutes=rng.randrange(30, 420))
                    rows.append(
                        (
                            feature,
                            str(email).split("@")[0],
                            f"ws-{person_id:05d}",
                            bulk.stamp(start),
                            bulk.stamp(end),
                            1,
                            pid,
                            person_id,
                            batch.id,
                            len(rows) + 1,  # the line of the snapshot it stands for
                        )
                    )
        bulk.defer_indexes(["usage_session"])
        bulk.insert(
            "usage_session",
            "feature, user_name, host, checkout, checkin, units, product_id, person_id, import_id, "
            "source_line",
            rows,
        )
        bulk.restore_indexes()
        batch.rows = batch.inserted = len(rows)
        change.entity_id = str(batch.id)
        change.after = {"file": batch.file_name, "rows": len(rows), "inserted": len(rows)}
    return len(rows)


def _batch(
    kind: str, file_name: str, fmt: str, operator: str, now: dt.datetime, *, sha256: str = ""
) -> ImportBatch:
    """The import batch the demo's generated rows stand for: counts zero until they are in."""
    return ImportBatch(
        kind=kind,
        file_name=file_name,
        sha256=sha256,
        format=fmt,
        rows=0,
        inserted=0,
        updated=0,
        unchanged=0,
        flagged=0,
        operator=operator,
        imported_at=now,
    )
