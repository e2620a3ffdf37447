"""Demo databases: a small organization to try SeatLedger on, and one at the large design size.

The year of history is planned in memory first (who joins and leaves, what was bought, which seat
goes to whom and when), then written in one pass over the timeline inside one write transaction:
rows go in with ``executemany`` of tuples in chunks.  Every ledger entry holds the before and after
values the services' own builders make (:mod:`seatledger.services.core.snapshots`,
:func:`~seatledger.services.seats.service.assigned`,
:func:`~seatledger.services.directory.service.left`), its body is made by
:func:`~seatledger.domain.ledger.committed_body` and the entries are linked by
:func:`~seatledger.domain.ledger.chain`, as :func:`seatledger.store.ledger_store.append` links
one, so the ledger verifies and reads like a year of real use.  Every seat passes the rule the
seat service applies (:func:`~seatledger.domain.licensing.check_assignment`); the few licenses
over their limit got there by an administrator's over-commit with a recorded reason.

Events fall on weekdays between 08:00 and 18:00 UTC in the year before today, so terms expire and
people leave relative to the day the demo is built: the same seed on the same day gives the same
ledger.
"""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
import heapq
import math
import multiprocessing
import operator
import os
import random
from array import array
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal, NamedTuple

from sqlalchemy import Connection, create_engine, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from seatledger.demo.inventory import add_inventory
from seatledger.demo.servers import add_servers
from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.commitments import Opening, keyed
from seatledger.domain.ledger import (
    GENESIS_HASH,
    Chained,
    StoredEntry,
    Unchained,
    chain,
    committed_body,
)
from seatledger.domain.licensing import LimitState, Metric, check_assignment, units_for_device
from seatledger.domain.merkle import BLOCK, Frontier, leaf_hash
from seatledger.domain.roles import Role
from seatledger.errors import KnownError
from seatledger.progress import SILENT, Progress
from seatledger.services.core import snapshots
from seatledger.services.core.forking import can_fork, die_with_parent
from seatledger.services.directory.service import left
from seatledger.services.operators.accounts import hash_password
from seatledger.services.operators.session import DEMO_KEY, ORGANIZATION_KEY
from seatledger.services.seats.service import assigned
from seatledger.store.bulk import Bulk
from seatledger.store.db import Database, building, to_url

ORGANIZATION = "Fabrikam Engineering"
EMAIL_DOMAIN = "fabrikam.example"
PASSWORD = "demo"  # noqa: S105 (the documented password of every demo operator)
BODY_CHUNK = 20_000  # entries per batch of ledger bodies, and seat rows per insert of the walk
PARALLEL_FROM = 100_000  # seat assignments from which bodies are built in a worker process
SQLITE_CACHE_KIB = 32_768  # page cache while the bulk build runs (SQLite's default is 2 MiB)

_SECOND = 1_000_000
_HOUR = 3600 * _SECOND
WORKDAY = 10 * _HOUR  # the working day, 08:00-18:00 UTC, in microseconds
_DAY_OPENS = 8 * _HOUR

# Operators as (name, full name, role); ids are their position + 1.
OPERATORS = (
    ("admin", "Ada Administrator", Role.ADMINISTRATOR),
    ("manager", "Max Manager", Role.LICENSE_MANAGER),
    ("auditor", "Aud Auditor", Role.AUDITOR),
    ("viewer", "Vic Viewer", Role.VIEWER),
)
ADMIN, MANAGER = 1, 2

# Events of the timeline, in the order they sort at an equal moment.
_CREATE, _ASSIGN, _RELEASE, _LEAVE = range(4)
# Rows recorded in the ledger as created.
_OPERATOR, _TEAM, _VENDOR, _PRODUCT, _ENTITLEMENT, _PERSON, _DEVICE = range(7)
# Why a seat was released.
_OPEN, _CHURN, _LEFT, _TERM_END = range(4)
_RELEASE_REASONS = ("", "No longer needed", "Left the organization", "Term ended")
_ASSIGN_REASONS = ("", "", "", "Onboarding", "", "Request REQ-", "", "Team move", "", "")
_OVER_COMMIT_REASONS = (
    "Month-end close needs the extra seats; true-up PO raised",
    "Go-live of project Atlas; purchase order pending with the reseller",
    "Audit preparation, approved by the CIO until the renewal",
)

# ------------------------------------------------------------------------------- organization

# Departments: (code, name, share of people).  Large demos have one team per department and site.
DEPARTMENTS = (
    ("ENG", "Engineering", 0.28),
    ("DES", "Design", 0.05),
    ("SAL", "Sales", 0.13),
    ("MKT", "Marketing", 0.07),
    ("FIN", "Finance", 0.07),
    ("HR", "Human Resources", 0.04),
    ("IT", "IT Operations", 0.06),
    ("SUP", "Customer Support", 0.12),
    ("LEG", "Legal", 0.03),
    ("DAT", "Data & Analytics", 0.07),
    ("PRC", "Procurement", 0.03),
    ("FAC", "Facilities", 0.05),
)
SITES = (
    ("AMS", "Amsterdam"),
    ("BER", "Berlin"),
    ("LON", "London"),
    ("NYC", "New York"),
    ("SFO", "San Francisco"),
    ("SIN", "Singapore"),
    ("TYO", "Tokyo"),
    ("SYD", "Sydney"),
    ("MUC", "Munich"),
    ("PAR", "Paris"),
)
_FIRST_NAMES = """
Aaliyah Aarav Ada Adebayo Aiko Akira Alejandro Alessia Alice Amara Amelia Ana Anders Andrea Anika
Arjun Astrid Ayesha Beatriz Benjamin Bilal Bjorn Camille Carlos Charlotte Chen Chiara Chloe Daniel
David Dmitri Elena Elif Emeka Emil Emma Eva Fatima Felix Finn Freya Gabriel Giulia Grace Hana
Hannah Hassan Helena Hiroshi Ibrahim Ines Ingrid Isabel Ivan Jakob James Jana Javier Ji-woo Jonas
Jose Julia Kai Kamala Karim Katarzyna Kenji Khalid Lars Laura Leila Leon Lena Liam Lin Lucas Lucia
Luka Maja Malik Marco Maria Mateo Mei Mia Mohammed Nadia Naoko Nia Niklas Noah Nora Olga Oliver
Omar Oscar Paula Pedro Priya Rafael Ravi Rosa Ruth Sakura Samir Sara Sebastian Sofia Sven Tariq
Thomas Tomasz Valentina Victor Wei Yara Yusuf Zara Zoe
"""
_LAST_NAMES = """
Abadi Adeyemi Andersen Bakker Bauer Becker Bianchi Brown Carvalho Chen Costa Dubois Eriksson
Fernandes Fischer Garcia Gonzalez Gupta Haddad Hansen Hoffmann Horvath Ivanova Jansen Jensen
Johansson Kaur Keller Khan Kim Kowalski Kumar Larsen Laurent Lee Lindqvist Lopez Martin Martinez
Meyer Moreau Muller Murphy Nakamura Nguyen Nielsen Novak O'Brien Okafor Olsen Patel Perez Petrov
Popescu Rahman Ramos Ricci Richter Rodriguez Romano Rossi Sato Schmidt Schneider Schulz Silva
Singh Smith Suzuki Svensson Takahashi Tanaka Taylor Thompson Varga Visser Wagner Walker Wang Weber
Williams Wilson Wojcik Yamamoto Yilmaz Young Zhang Zimmermann
"""
FIRST_NAMES = tuple(_FIRST_NAMES.split())
LAST_NAMES = tuple(_LAST_NAMES.split())

# ------------------------------------------------------------------------------------ catalog

# Term structures of a product's purchases.
_CURRENT = "current"  # one purchase whose term runs well past today
_EXPIRING = "expiring"  # one purchase ending within 60 days
_PERPETUAL = "perpetual"  # no end date
_RENEWED = "renewed"  # a term that ended during the year, and its renewal
_EXTRA = "extra"  # a main purchase, and additional seats bought during the year
_EXPIRED = "expired"  # ended during the year, not renewed: some seats still in use
_PREBOOKED = "prebooked"  # ends within 60 days; its renewal, starting after that, is recorded
# How full a license is.
_NORMAL, _NEAR_FULL, _SHELFWARE, _OVER = "normal", "near_full", "shelfware", "over"
# Where seats go.
_PEOPLE, _CLIENTS, _SERVERS = "people", "clients", "servers"
_WINDOWS, _LINUX, _ESXI = "servers:windows", "servers:linux", "servers:esxi"

# The well-known titles both demos buy.  Columns: vendor | product | metric[/minimum cores per
# processor] | yearly list price | seats go to: pool and share of it | only these departments (*:
# everyone) | term structure | how full.
_TITLES = """
Microsoft   | Microsoft 365 E3                | user_subscription | 432.00 USD | people 0.93  | *
            | renewed   | near_full
Microsoft   | Visio Plan 2                    | user_subscription | 180.00 USD | people 0.06  | *
            | current   | shelfware
Microsoft   | Project Plan 3                  | user_subscription | 360.00 USD | people 0.12
            | ENG IT DES  | expiring  | normal
Microsoft   | SQL Server 2022 Enterprise      | per_core/4    | 6874.00 USD | servers:windows 0.3
            | *         | perpetual | near_full
Microsoft   | Windows Server 2022 Datacenter  | per_core/8    | 385.00 USD | servers:windows 0.95
            | *         | current   | normal
Microsoft   | Visual Studio Enterprise        | named_user    | 2999.00 USD | people 0.15 | ENG
            | extra     | normal
Adobe       | Acrobat Pro                     | named_user    | 239.88 USD | people 0.3   | *
            | renewed   | normal
Adobe       | Creative Cloud All Apps         | named_user    | 1079.88 USD | people 0.5  | DES MKT
            | current   | near_full
Autodesk    | AutoCAD                         | user_subscription | 2030.00 USD | people 0.12
            | ENG FAC   | expiring  | normal
Autodesk    | Revit                           | user_subscription | 2910.00 USD | people 0.06
            | ENG FAC   | current   | shelfware
Atlassian   | Jira Software Cloud Premium     | user_subscription | 171.00 USD | people 0.7
            | ENG DES IT SUP DAT | renewed | normal
Atlassian   | Confluence Cloud Premium        | user_subscription | 121.00 USD | people 0.55  | *
            | renewed   | normal
JetBrains   | IntelliJ IDEA Ultimate          | named_user    | 719.00 EUR | people 0.5   | ENG DAT
            | extra     | normal
JetBrains   | PyCharm Professional            | named_user    | 299.00 EUR | people 0.3   | ENG DAT
            | current   | shelfware
Oracle      | Database Enterprise Edition     | per_core/16   | 11875.00 USD | servers:linux 0.15
            | *         | perpetual | normal
Oracle      | Java SE Universal Subscription  | site          | 180.00 USD | people 0.6
            | ENG DAT IT | current  | normal
Broadcom    | VMware vSphere Foundation       | per_core/16   | 135.00 USD | servers:esxi 1.0 | *
            | renewed   | near_full
Broadcom    | VMware Horizon Enterprise       | concurrent    | 290.00 USD | people 0.4   | SUP FIN
            | expired   | normal
Salesforce  | Sales Cloud Enterprise          | user_subscription | 1980.00 USD | people 0.8
            | SAL MKT   | current   | near_full
Zoom        | Zoom Workplace Business         | user_subscription | 219.90 USD | people 0.45 | *
            | expiring  | shelfware
Slack Technologies | Slack Business+          | user_subscription | 150.00 USD | people 0.85 | *
            | current   | normal
Tableau     | Tableau Creator                 | named_user    | 900.00 USD | people 0.3   | DAT
            | current   | over
Tableau     | Tableau Viewer                  | named_user    | 180.00 USD | people 0.3
            | FIN SAL DAT | extra   | normal
SAP         | S/4HANA Professional User       | named_user    | 3200.00 EUR | people 0.7  | FIN PRC
            | current   | near_full
Figma       | Figma Professional              | named_user    | 180.00 USD | people 0.5   | DES MKT
            | current   | over
GitHub      | GitHub Enterprise Cloud         | named_user    | 252.00 USD | people 0.8
            | ENG DAT IT | renewed  | normal
Red Hat     | Red Hat Enterprise Linux Server | per_processor | 650.00 USD | servers:linux 0.95
            | *         | current   | normal
Veeam       | Veeam Backup & Replication      | per_device    | 520.00 USD | servers 0.45 | *
            | expired   | normal
CrowdStrike | Falcon Insight XDR              | per_device    | 59.99 USD  | clients 0.95 | *
            | renewed   | near_full
MathWorks   | MATLAB                          | concurrent    | 2350.00 EUR | people 0.15 | ENG DAT
            | prebooked | shelfware
"""
VENDOR_SITES = {
    "Microsoft": "https://www.microsoft.com",
    "Adobe": "https://www.adobe.com",
    "Autodesk": "https://www.autodesk.com",
    "Atlassian": "https://www.atlassian.com",
    "JetBrains": "https://www.jetbrains.com",
    "Oracle": "https://www.oracle.com",
    "Broadcom": "https://www.broadcom.com",
    "Salesforce": "https://www.salesforce.com",
    "Zoom": "https://www.zoom.com",
    "Slack Technologies": "https://slack.com",
    "Tableau": "https://www.tableau.com",
    "SAP": "https://www.sap.com",
    "Figma": "https://www.figma.com",
    "GitHub": "https://github.com",
    "Red Hat": "https://www.redhat.com",
    "Veeam": "https://www.veeam.com",
    "CrowdStrike": "https://www.crowdstrike.com",
    "MathWorks": "https://www.mathworks.com",
}
RESELLERS = (
    "SoftwareOne",
    "Crayon",
    "Insight",
    "CDW",
    "SHI International",
    "Bechtle",
    "Computacenter",
    "Softcat",
    "Direct from vendor",
)
# Generated vendors and products for the large demo.
_VENDOR_WORDS = """
Blue North Silver Quantum Bright Iron Cedar Nimbus Vertex Cobalt Harbor Summit Lumen Arc Pine
Stellar Ridge Falcon Orbit Sage Granite Amber Polar Crimson Delta Ember Helix Kite Lantern
Meridian Nova Onyx Prism Quill Raven Tidal Umber Willow Zephyr
"""
_VENDOR_ENDINGS = ("soft", "ware", "logic", "works", "data", "labs", "stack", "sys", "byte", "flow")
_VENDOR_FORMS = (" Software", " Systems", " Technologies", " Inc.", " GmbH", " Labs", " Ltd", "")
_PRODUCT_WORDS = """
Atlas Beacon Cascade Compass Dynamo Echo Forge Horizon Keystone Lattice Matrix Mosaic Nexus Pilot
Pulse Radius Relay Sentinel Signal Spectrum Sphere Strata Tempo Vector Vista
"""
# A category of product: the metric it is usually sold under, and where its seats go.
_CATEGORIES = (
    ("Analytics", Metric.PER_USER, _PEOPLE),
    ("Reporting", Metric.SUBSCRIPTION, _PEOPLE),
    ("CRM", Metric.SUBSCRIPTION, _PEOPLE),
    ("Designer", Metric.PER_USER, _PEOPLE),
    ("Studio", Metric.PER_USER, _PEOPLE),
    ("CAD", Metric.SUBSCRIPTION, _PEOPLE),
    ("Workflow", Metric.SUBSCRIPTION, _PEOPLE),
    ("Collaboration", Metric.SUBSCRIPTION, _PEOPLE),
    ("Survey", Metric.SITE, _PEOPLE),
    ("Modeler", Metric.CONCURRENT, _PEOPLE),
    ("Simulation", Metric.CONCURRENT, _PEOPLE),
    ("Endpoint Protection", Metric.PER_DEVICE, _CLIENTS),
    ("Device Manager", Metric.PER_DEVICE, _CLIENTS),
    ("Backup", Metric.PER_DEVICE, _SERVERS),
    ("Monitor", Metric.PER_DEVICE, _SERVERS),
    ("Database Server", Metric.PER_CORE, _SERVERS),
    ("Data Integration", Metric.PER_CORE, _SERVERS),
    ("Application Server", Metric.PER_PROCESSOR, _SERVERS),
    ("Secure Gateway", Metric.PER_PROCESSOR, _SERVERS),
)
_EDITIONS = ("", " Professional", " Enterprise", " Standard", " Premium", " Cloud")
_PRICES = {  # yearly list price range per unit
    Metric.PER_USER: (20, 2500),
    Metric.SUBSCRIPTION: (20, 2000),
    Metric.CONCURRENT: (300, 5000),
    Metric.PER_DEVICE: (15, 400),
    Metric.PER_CORE: (100, 8000),
    Metric.PER_PROCESSOR: (500, 15000),
    Metric.SITE: (2, 50),
}
# Generated products' term structures and fills, with their weights.
_TERMS = {_CURRENT: 22, _RENEWED: 6, _EXTRA: 58, _EXPIRED: 4, _EXPIRING: 6, _PERPETUAL: 2}
_TERMS_PREBOOKED = 2
_FILLS = {_NORMAL: 7275, _NEAR_FULL: 1200, _SHELFWARE: 1500, _OVER: 25}


@dataclass(frozen=True, slots=True)
class _Title:
    """A well-known product, as the demos buy it."""

    vendor: str
    name: str
    metric: Metric
    min_cores: int
    cost: str
    currency: str
    pool: str
    share: float  # of the pool (after the department filter) holding a seat
    departments: tuple[str, ...]
    terms: str
    fill: str


def _titles() -> tuple[_Title, ...]:
    names = {code: name for code, name, _ in DEPARTMENTS}
    rows = _TITLES.strip().replace("\n            |", " |").splitlines()
    titles = []
    for row in rows:
        vendor, name, metric, price, pool, departments, terms, fill = (
            cell.strip() for cell in row.split("|")
        )
        metric_name, _, min_cores = metric.partition("/")
        cost, currency = price.split()
        pool_name, share = pool.split()
        wanted = () if departments == "*" else tuple(names[c] for c in departments.split())
        titles.append(
            _Title(
                vendor,
                name,
                Metric(metric_name),
                int(min_cores or 0),
                cost,
                currency,
                pool_name,
                float(share),
                wanted,
                terms,
                fill,
            )
        )
    return tuple(titles)


TITLES = _titles()


@dataclass(frozen=True, slots=True)
class _Profile:
    """How big a demo is."""

    people: int
    joiners: float  # share of people who join during the year
    leavers: int
    leavers_holding: int  # leavers whose seats nobody released (a finding for later)
    teams_per_department: int
    servers: int
    shared_desktops: int
    vendors: int  # including the real ones
    products: int  # including the well-known titles
    seats: int  # seat assignments to plan, open and released (0: only the titles' own)
    big_renewal: int  # a title with more holders is not renewed during the year
    churn: float = 0.04  # share of a license's seats released again during the year


PROFILES: dict[str, _Profile] = {
    "small": _Profile(200, 0.15, 8, 3, 1, 40, 20, 18, 30, 0, 10**9),
    "large": _Profile(50_000, 0.15, 1_000, 300, 10, 18_000, 32_000, 300, 5_000, 1_000_000, 2_000),
    "xlarge": _Profile(
        200_000, 0.15, 4_000, 1_200, 10, 72_000, 128_000, 600, 20_000, 6_700_000, 8_000, 0.4
    ),
}
_SEAT_MARGIN = 1.02  # plans this much more, for holders who cannot take a seat when asked


# ----------------------------------------------------------------------------------- timeline


class _Timeline:
    """The working time of the year before ``today``: a moment ``u`` is microseconds of it.

    Day ``u // WORKDAY`` is a weekday, the rest is time since 08:00 UTC that day.  Working time is
    dense, so "any moment between two events" is a uniform random integer.
    """

    def __init__(self, today: dt.date) -> None:
        first = today - dt.timedelta(days=365)
        every = (first + dt.timedelta(days=n) for n in range(365))
        self.today = today
        self.days = [day for day in every if day.weekday() < 5]
        self.end = len(self.days) * WORKDAY
        self._text = [day.isoformat() for day in self.days]
        self._midnight = [dt.datetime.combine(day, dt.time(), dt.UTC) for day in self.days]

    def at(self, day: dt.date) -> int:
        """The first working moment on or after ``day`` (``end`` from today on)."""
        return bisect.bisect_left(self.days, day) * WORKDAY

    def after(self, day: dt.date) -> int:
        """The first working moment after ``day``."""
        return bisect.bisect_right(self.days, day) * WORKDAY

    def date(self, u: int) -> dt.date:
        """The day of moment ``u``."""
        return self.days[u // WORKDAY]

    def stamps(self, u: int) -> tuple[str, str]:
        """Moment ``u`` as a ledger timestamp (what ``services.context.iso`` writes) and as the
        text SQLAlchemy stores in a SQLite DATETIME column."""
        day, rest = divmod(u, WORKDAY)
        seconds, micro = divmod(rest + _DAY_OPENS, _SECOND)
        minutes, second = divmod(seconds, 60)
        hour, minute = divmod(minutes, 60)
        clock = f"{hour:02d}:{minute:02d}:{second:02d}.{micro:06d}"
        text = self._text[day]
        return f"{text}T{clock}Z", f"{text} {clock}"

    def moment(self, u: int) -> dt.datetime:
        """Moment ``u`` as an aware UTC datetime."""
        day, rest = divmod(u, WORKDAY)
        return self._midnight[day] + dt.timedelta(microseconds=rest + _DAY_OPENS)


# --------------------------------------------------------------------------------------- plan


@dataclass(slots=True)
class _Person:
    created: int
    employee_id: str
    name: str
    email: str
    team_id: int
    department: int
    left: int = -1  # when marked as left, or -1
    cleaned_up: bool = True  # their seats were released when they left


@dataclass(slots=True)
class _Device:
    created: int
    hostname: str
    serial: str
    owner_id: int | None
    processors: int
    cores: int
    os: str
    pool: str

    def recorded(self) -> tuple[Any, ...]:
        """What the device service records: the ``device`` table's columns after ``id``, in order
        (the row and the creation entry's snapshot both take them so)."""
        return (
            self.hostname,
            self.serial,
            self.owner_id,
            self.processors,
            self.cores,
            self.processor_model,
            self.os,
        )

    @property
    def processor_model(self) -> str:
        """The processor inventory would report, as its vendor names it (from the OS and the
        core count, so the drawn organization is the same as before models were recorded)."""
        if self.pool != _CLIENTS:
            return _SERVER_CPUS[(self.cores // 2) % len(_SERVER_CPUS)]
        if self.os.startswith("macOS"):
            return {8: "Apple M2", 10: "Apple M2 Pro", 12: "Apple M3 Pro"}.get(
                self.cores, "Apple M3 Max"
            )
        return _CLIENT_CPUS[self.cores % len(_CLIENT_CPUS)]


_SERVER_CPUS = (
    "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz",
    "Intel(R) Xeon(R) Silver 4314 CPU @ 2.40GHz",
    "AMD EPYC 7543 32-Core Processor",
)
_CLIENT_CPUS = (
    "13th Gen Intel(R) Core(TM) i7-1365U",
    "Intel(R) Core(TM) i5-10310U CPU @ 1.70GHz",
    "AMD Ryzen 7 PRO 7840U w/ Radeon 780M Graphics",
)


@dataclass(slots=True)
class _Product:
    vendor_id: int
    name: str
    created: int = 0


@dataclass(frozen=True, slots=True)
class _Kind:
    """What every purchase of one product shares."""

    product_id: int
    label: str  # vendor and product, as the seat service names a license
    metric: Metric
    min_cores: int
    cost: str  # list price of the current year's terms
    currency: str
    pool: str
    departments: tuple[str, ...]  # only people of these departments; empty for everyone


@dataclass(slots=True, eq=False)
class _Entitlement:
    """An entitlement being planned; ``id`` is given once all are sorted by recording time."""

    kind: _Kind
    label: str
    name: str
    term_start: dt.date | None
    term_end: dt.date | None
    cost: str
    po_reference: str
    reseller: str
    created: int
    holders: int  # seats to plan
    fill: str
    generated: bool
    renews: _Entitlement | None = None  # the purchase whose term this one continues
    beside: _Entitlement | None = None  # the main purchase these additional seats were bought for
    feeds: str = ""  # _RENEWED or _EXTRA: a later purchase needs to know ``moved``
    moved: list[int] = field(default_factory=list)  # holders moving to, or kept from, it
    id: int = 0
    quantity: int = 0
    used: int = 0


@dataclass
class _Plan:
    """Everything a demo holds, before it is written."""

    timeline: _Timeline
    teams: list[tuple[str, str]]
    vendors: list[tuple[str, str]]
    products: list[_Product]
    licenses: list[_Entitlement]
    people: list[_Person]
    devices: list[_Device]
    # Seat assignments (seat id = index + 1 once sorted by start): start, license id, holder (a
    # person id, or minus a device id), units, end (-1 while open) and why it ended.
    starts: array[int] = field(default_factory=lambda: array("q"))
    license_ids: array[int] = field(default_factory=lambda: array("l"))
    holders: array[int] = field(default_factory=lambda: array("l"))
    units: array[int] = field(default_factory=lambda: array("l"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    end_reasons: array[int] = field(default_factory=lambda: array("b"))

    def sort_seats(self) -> None:
        """Put the assignments in the order they were made, so ids follow time."""
        if len(self.starts) < 2:
            return
        pick = operator.itemgetter(*sorted(range(len(self.starts)), key=self.starts.__getitem__))
        for name in ("starts", "license_ids", "holders", "units", "ends", "end_reasons"):
            values = getattr(self, name)
            setattr(self, name, array(values.typecode, pick(values)))


def _nice(value: float) -> int:
    """Round a quantity up the way licenses are bought (in 5s, 10s, 50s)."""
    number = math.ceil(value)
    step = 1 if number < 20 else 5 if number < 100 else 10 if number < 1000 else 50
    return -(-number // step) * step


class _Planner:
    """Draws a demo organization and its year of history from one seeded generator."""

    def __init__(self, profile: _Profile, seed: int, today: dt.date) -> None:
        self.profile = profile
        self.rng = random.Random(seed)  # noqa: S311 (demo data, not secrets)
        self.timeline = _Timeline(today)
        self.end = self.timeline.end
        self.pools: dict[str, Sequence[int]] = {}
        self.people: list[_Person] = []
        self._by_departments: dict[tuple[str, ...], array[int]] = {}

    def plan(self) -> _Plan:
        """Draw the whole demo."""
        teams, team_ids = self._teams()
        self.people = self._people(team_ids)
        devices = self._devices()
        self.pools = {
            _PEOPLE: range(1, len(self.people) + 1),
            _CLIENTS: [n + 1 for n, d in enumerate(devices) if d.pool == _CLIENTS],
            _SERVERS: [n + 1 for n, d in enumerate(devices) if d.pool.startswith(_SERVERS)],
        }
        for pool in (_WINDOWS, _LINUX, _ESXI):
            self.pools[pool] = [n + 1 for n, d in enumerate(devices) if d.pool == pool]
        vendors, products, licenses = self._catalog()
        plan = _Plan(self.timeline, teams, vendors, products, licenses, self.people, devices)
        for lic in licenses:  # in recording order: a renewal comes after what it renews
            self._seats(plan, lic)
        plan.sort_seats()
        return plan

    # ---------------------------------------------------------------------------- people

    def _teams(self) -> tuple[list[tuple[str, str]], list[list[int]]]:
        """Teams as (name, cost centre), and the team ids of each department."""
        teams: list[tuple[str, str]] = []
        by_department: list[list[int]] = []
        per = self.profile.teams_per_department
        for d, (_, department, _) in enumerate(DEPARTMENTS):
            ids = []
            for s in range(per):
                name = department if per == 1 else f"{department} {SITES[s][1]}"
                teams.append((name, f"CC-{1000 + (d + 1) * 100 + s * 10}"))
                ids.append(len(teams))
            by_department.append(ids)
        return teams, by_department

    def _people(self, team_ids: list[list[int]]) -> list[_Person]:
        """Everyone, in the order they were recorded: the first import, then who joined."""
        rng, count = self.rng, self.profile.people
        joiners = round(count * self.profile.joiners)
        initial = count - joiners
        moments = [3 * WORKDAY + n * (5 * WORKDAY) // initial for n in range(initial)]
        moments += sorted(
            rng.randrange(10 * WORKDAY, self.end - 3 * WORKDAY) for _ in range(joiners)
        )
        weights = [share for _, _, share in DEPARTMENTS]
        departments = rng.choices(range(len(DEPARTMENTS)), weights, k=count)
        mailboxes: dict[str, int] = {}
        people = []
        for n, (moment, department) in enumerate(zip(moments, departments, strict=True)):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            local = f"{first}.{last}".lower().replace("'", "")
            taken = mailboxes.get(local, 0)
            mailboxes[local] = taken + 1
            email = f"{local}{taken + 1 if taken else ''}@{EMAIL_DOMAIN}"
            team = rng.choice(team_ids[department])
            people.append(
                _Person(moment, f"E{10_001 + n}", f"{first} {last}", email, team, department)
            )
        self._leavers(people)
        return people

    def _leavers(self, people: list[_Person]) -> None:
        rng, end = self.rng, self.end
        recent = end - 25 * WORKDAY  # those still holding seats left recently
        eligible = [n for n, p in enumerate(people) if p.created < recent - 40 * WORKDAY]
        for k, n in enumerate(rng.sample(eligible, self.profile.leavers)):
            person = people[n]
            if k < self.profile.leavers_holding:
                person.left = rng.randrange(recent, end - WORKDAY)
                person.cleaned_up = False
            else:
                person.left = rng.randrange(person.created + 30 * WORKDAY, end - WORKDAY)

    def _devices(self) -> list[_Device]:
        """A laptop or desktop for everyone, shared desktops and servers, by recording time."""
        rng, end, people = self.rng, self.end, self.people
        counters: dict[str, int] = {}

        def host(prefix: str, site: str) -> str:
            counters[prefix] = counters.get(prefix, 0) + 1
            return f"{prefix}-{site}-{counters[prefix]:05d}"

        def serial(brand: str) -> str:
            letters = "BCDFGHJKLMNPQRSTVWXYZ0123456789"
            if brand == "lenovo":
                return "PF" + "".join(rng.choices(letters, k=6))
            if brand == "apple":
                return "".join(rng.choices(letters, k=10))
            if brand == "hp":
                return "5CG" + "".join(rng.choices("0123456789", k=4) + rng.choices(letters, k=3))
            if brand == "hpe":
                return "CZ" + "".join(rng.choices("0123456789", k=8))
            return "".join(rng.choices(letters, k=7))  # a Dell service tag

        desktop_os = ("Windows 11 Enterprise 23H2", "Windows 10 Enterprise 22H2")
        devices: list[_Device] = []
        order = list(range(len(people)))
        rng.shuffle(order)
        laptops = round(len(people) * 0.85)
        for k, n in enumerate(order):
            created = min(people[n].created + rng.randrange(WORKDAY // 4, 2 * WORKDAY), end - 1)
            site = rng.choice(SITES)[0]
            if k < laptops:
                brand = rng.choices(("dell", "lenovo", "apple"), (45, 35, 20))[0]
                if brand == "apple":
                    os, cores = "macOS 14 Sonoma", rng.choice((8, 10, 12, 14))
                else:
                    os = rng.choices(("Windows 11 Enterprise 23H2", "Ubuntu 22.04 LTS"), (9, 1))[0]
                    cores = rng.choice((4, 6, 8, 10, 12))
                name, number = host("LT", site), serial(brand)
            else:
                os, cores = rng.choices(desktop_os, (8, 2))[0], rng.choice((6, 8, 12, 16, 24))
                name, number = host("DT", site), serial("hp")
            devices.append(_Device(created, name, number, n + 1, 1, cores, os, _CLIENTS))
        setup = 2 * WORKDAY
        for _ in range(self.profile.shared_desktops):
            created = setup + rng.randrange(6 * WORKDAY)
            name = host("DT", rng.choice(SITES)[0])
            os, cores = rng.choice(desktop_os), rng.choice((4, 6, 8))
            devices.append(_Device(created, name, serial("hp"), None, 1, cores, os, _CLIENTS))
        roles = {
            _WINDOWS: ("sql", "app", "file", "rds"),
            _LINUX: ("db", "web", "k8s", "etl"),
            _ESXI: ("esx",),
        }
        systems = {
            _WINDOWS: ("Windows Server 2022 Datacenter", "Windows Server 2019 Datacenter"),
            _LINUX: ("Red Hat Enterprise Linux 9.3", "Red Hat Enterprise Linux 8.9"),
            _ESXI: ("VMware ESXi 8.0 U2",),
        }
        for _ in range(self.profile.servers):
            pool = rng.choices((_WINDOWS, _LINUX, _ESXI), (45, 35, 20))[0]
            if rng.random() < 0.85:
                created = setup + rng.randrange(6 * WORKDAY)
            else:
                created = rng.randrange(10 * WORKDAY, end - 3 * WORKDAY)
            name = host(rng.choice(roles[pool]), rng.choice(SITES)[0].lower())
            per_socket = rng.choice((8, 12, 16, 20, 24, 28, 32))
            number = serial(rng.choice(("dell", "hpe")))
            os = rng.choice(systems[pool])
            devices.append(_Device(created, name, number, None, 2, 2 * per_socket, os, pool))
        devices.sort(key=lambda d: d.created)
        return devices

    # --------------------------------------------------------------------------- catalog

    def _catalog(self) -> tuple[list[tuple[str, str]], list[_Product], list[_Entitlement]]:
        """Vendors, products and licenses; ids follow the order they were recorded in."""
        profile = self.profile
        vendors: list[tuple[str, str]] = []
        vendor_ids: dict[str, int] = {}
        products: list[_Product] = []
        licenses: list[_Entitlement] = []
        for title in TITLES:
            if title.vendor not in vendor_ids:
                vendors.append((title.vendor, VENDOR_SITES[title.vendor]))
                vendor_ids[title.vendor] = len(vendors)
            products.append(_Product(vendor_ids[title.vendor], title.name))
            holders = round(title.share * self._pool_size(title.pool, title.departments))
            terms = title.terms
            if terms == _RENEWED and holders > profile.big_renewal:
                terms = _CURRENT  # its enterprise agreement was renewed before the year began
            kind = _Kind(
                len(products),
                f"{title.vendor} {title.name}",
                title.metric,
                title.min_cores,
                title.cost,
                title.currency,
                title.pool,
                title.departments,
            )
            licenses += self._purchases(kind, holders, terms, title.fill, generated=False)
        self._generate(vendors, products, licenses)
        # Vendors and their products are recorded over the first two working days; products
        # are in vendor order, so recording them in list order keeps ids in recording order.
        spacing = 2 * WORKDAY // (len(vendors) + len(products))
        for n, product in enumerate(products):
            product.created = 60 * _SECOND + (n + product.vendor_id) * spacing
        for lic in licenses:
            lic.created = max(lic.created, products[lic.kind.product_id - 1].created + _SECOND)
        licenses.sort(key=lambda lic: lic.created)
        for n, lic in enumerate(licenses):
            lic.id = n + 1
        return vendors, products, licenses

    def _generate(
        self, vendors: list[tuple[str, str]], products: list[_Product], licenses: list[_Entitlement]
    ) -> None:
        """Add generated vendors and products up to the profile's counts, and their seats."""
        rng, profile = self.rng, self.profile
        real_vendors = len(vendors)
        names = set(VENDOR_SITES)
        words, endings = _VENDOR_WORDS.split(), _VENDOR_ENDINGS
        while len(vendors) < profile.vendors:
            name = rng.choice(words) + rng.choice(endings) + rng.choice(_VENDOR_FORMS)
            if name not in names:
                names.add(name)
                vendors.append((name, f"https://www.{name.split(' ')[0].lower()}.example"))
        spare = len(vendors) - real_vendors
        drawn: list[tuple[int, str, Metric, str]] = []
        taken: set[tuple[int, str]] = set()
        product_words = _PRODUCT_WORDS.split()
        while len(products) + len(drawn) < profile.products:
            # Every generated vendor gets a product first; the rest go to vendors at random.
            k = len(drawn)
            vendor_id = real_vendors + 1 + (k if k < spare else rng.randrange(spare))
            category, metric, pool = rng.choice(_CATEGORIES)
            name = f"{rng.choice(product_words)} {category}{rng.choice(_EDITIONS)}"
            if (vendor_id, name) not in taken:
                taken.add((vendor_id, name))
                drawn.append((vendor_id, name, metric, pool))
        drawn.sort(key=lambda g: g[0])
        first_generated = len(licenses)
        for vendor_id, name, metric, pool in drawn:
            products.append(_Product(vendor_id, name))
            departments: tuple[str, ...] = ()
            if pool == _PEOPLE and rng.random() < 0.5:
                picks = sorted(rng.sample(range(len(DEPARTMENTS)), rng.randint(1, 3)))
                departments = tuple(DEPARTMENTS[d][1] for d in picks)
            low, high = _PRICES[metric]
            kind = _Kind(
                len(products),
                f"{vendors[vendor_id - 1][0]} {name}",
                metric,
                rng.choice((0, 4, 8, 16)) if metric is Metric.PER_CORE else 0,
                f"{rng.randint(low, high)}.{rng.choice(('00', '00', '50', '99'))}",
                rng.choices(("USD", "EUR", "GBP"), (6, 3, 1))[0],
                pool,
                departments,
            )
            terms = rng.choices([*_TERMS, _PREBOOKED], [*_TERMS.values(), _TERMS_PREBOOKED])[0]
            if terms == _PERPETUAL and not metric.assigns_to_device:
                terms = _CURRENT
            fill = rng.choices(list(_FILLS), list(_FILLS.values()))[0]
            if fill == _OVER and (metric.assigns_to_device or metric.unlimited):
                fill = _NEAR_FULL
            holders = max(1, round(rng.lognormvariate(0, 1.3) * 100))
            licenses += self._purchases(kind, holders, terms, fill, generated=True)
        # Scale the generated seats so that all seats add up to the profile's count.
        wanted = profile.seats * _SEAT_MARGIN - sum(
            lic.holders for lic in licenses[:first_generated]
        )
        drawn_seats = sum(lic.holders for lic in licenses[first_generated:])
        scale = max(wanted, 0) / drawn_seats if drawn_seats else 0.0
        for lic in licenses[first_generated:]:
            size = self._pool_size(lic.kind.pool, lic.kind.departments)
            lic.holders = min(round(lic.holders * scale), round(size * 0.9)) if lic.holders else 0

    def _pool_size(self, pool: str, departments: tuple[str, ...]) -> int:
        return len(self._department_pool(departments)) if departments else len(self.pools[pool])

    def _department_pool(self, departments: tuple[str, ...]) -> array[int]:
        """The ids of the people in ``departments`` (in department order, then id order)."""
        pools = self._by_departments
        if not pools:
            for d, (_, name, _) in enumerate(DEPARTMENTS):
                ids = (n + 1 for n, p in enumerate(self.people) if p.department == d)
                pools[(name,)] = array("l", ids)
        if departments not in pools:
            joined = array("l")
            for name in departments:
                joined.extend(pools[(name,)])
            pools[departments] = joined
        return pools[departments]

    def _purchases(
        self, kind: _Kind, holders: int, terms: str, fill: str, *, generated: bool
    ) -> list[_Entitlement]:
        """The licenses bought for one product under its term structure."""
        rng, timeline = self.rng, self.timeline
        today, day = timeline.today, dt.timedelta(days=1)

        def buy(
            start: dt.date | None, end: dt.date | None, seats: int, how_full: str, name: str = ""
        ) -> _Entitlement:
            if start is not None and start > timeline.days[10]:
                # Recorded when the order was placed, days to weeks before the term starts.
                placed = timeline.at(start - day * rng.randint(3, 25))
                created = min(max(placed, 10 * WORKDAY), self.end - WORKDAY)
                created += rng.randrange(WORKDAY)
            else:
                created = 2 * WORKDAY + rng.randrange(WORKDAY)
            year = (start or today).year
            price = Decimal(kind.cost) * (100 + 4 * (year - today.year)) / 100  # yearly uplift
            return _Entitlement(
                kind=kind,
                label=f"{kind.label} ({name})" if name else kind.label,
                name=name,
                term_start=start,
                term_end=end,
                cost=str(price.quantize(Decimal("0.01"))),
                po_reference=f"PO-{year}-{rng.randrange(1, 999_999):06d}",
                reseller=rng.choice(RESELLERS),
                created=created,
                holders=seats,
                fill=how_full,
                generated=generated,
            )

        def term_name(start: dt.date) -> str:
            return f"{start.year}/{(start.year + 1) % 100:02d} term"

        if terms in {_RENEWED, _PREBOOKED}:
            if terms == _RENEWED:
                old_end = today - day * rng.randint(20, 300)
            else:
                old_end = today + day * rng.randint(10, 50)
            old_start, new_start = old_end - day * 364, old_end + day
            old = buy(old_start, old_end, holders, _NORMAL, term_name(old_start))
            new = buy(new_start, new_start + day * 364, holders, fill, term_name(new_start))
            new.renews, old.feeds = old, _RENEWED
            if terms == _PREBOOKED:
                # The renewal is signed; its term starts after today, so it has no seats yet.
                old.fill, new.fill, new.holders = fill, _NORMAL, 0
                new.created = self.end - rng.randrange(2, 8) * WORKDAY
            return [old, new]
        if terms == _EXPIRING:
            end = today + day * rng.randint(5, 55)
            return [buy(end - day * 364, end, holders, fill)]
        if terms == _EXPIRED:
            end = today - day * rng.randint(15, 200)
            return [buy(end - day * (3 * 365 - 1), end, max(holders // 2, 1), _NORMAL)]
        if terms == _PERPETUAL:
            start = today - day * rng.randint(400, 2000)
            return [buy(start, None, holders, fill, "Perpetual with Software Assurance")]
        end = today + day * rng.randint(70, 700)
        start = end - day * (364 if (end - today).days < 300 else 3 * 365 - 1)
        if terms == _EXTRA:
            main_seats = round(holders * 0.8)
            main = buy(start, end, main_seats, _NORMAL)
            extra_start = today - day * rng.randint(40, 200)
            extra = buy(extra_start, end, holders - main_seats, fill, "Additional seats")
            extra.beside, main.feeds = main, _EXTRA
            return [main, extra]
        return [buy(start, end, holders, fill)]

    # ----------------------------------------------------------------------------- seats

    def _candidates(self, lic: _Entitlement) -> list[int]:
        """Holders to try, in order: those moving over from the renewed term come first."""
        kind, rng = lic.kind, self.rng
        if kind.departments and not kind.metric.assigns_to_device:
            pool: Sequence[int] = self._department_pool(kind.departments)
        else:
            pool = self.pools[kind.pool]
        drawn = rng.sample(pool, min(len(pool), lic.holders + lic.holders // 8 + 3))
        first: list[int] = []
        if lic.renews is not None:
            first, lic.renews.moved = lic.renews.moved, []
        avoid = set(first)
        if lic.beside is not None:
            avoid.update(lic.beside.moved)  # nobody gets a second seat of the same product
            lic.beside.moved = []
        return first + [h for h in drawn if h not in avoid] if avoid else drawn

    def _seats(self, plan: _Plan, lic: _Entitlement) -> None:
        """Plan the seats of one license, then the quantity that was bought."""
        rng, end, timeline = self.rng, self.end, self.timeline
        random_ = rng.random
        metric, min_cores = lic.kind.metric, lic.kind.min_cores
        lo = max(lic.created + _SECOND, timeline.at(lic.term_start) if lic.term_start else 0)
        hi = min(timeline.after(lic.term_end) if lic.term_end else end, end)
        by_device = metric.assigns_to_device
        people, devices = plan.people, plan.devices
        expires = hi < end
        over = lic.fill == _OVER
        # At the end of a term most seats move to the renewal; without one, half stay in use.
        at_term_end = 0.9 if lic.feeds == _RENEWED else 0.5
        churn = 0.0 if over or lic.fill == _NEAR_FULL else self.profile.churn
        rollout_max = 15 * WORKDAY
        keep_all, keep_moving = lic.feeds == _EXTRA, lic.feeds == _RENEWED
        starts, stops = plan.starts.append, plan.ends.append
        taken = plan.holders.append
        unit_list, reasons, license_ids = (
            plan.units.append,
            plan.end_reasons.append,
            plan.license_ids,
        )
        added: list[tuple[int, int]] = []  # (2 x moment, units) and (2 x moment + 1, -units)
        released: list[tuple[int, int]] = []
        planned, wanted, used = 0, lic.holders, 0
        for holder in self._candidates(lic) if wanted and hi > lo else ():
            if planned == wanted:
                break
            leaver: _Person | None = None
            if by_device:
                device = devices[holder - 1]
                start_lo, start_hi = device.created + 1, hi
                units = units_for_device(metric, device.processors, device.cores, min_cores)
            else:
                person = people[holder - 1]
                start_lo, start_hi, units = person.created + 1, hi, 1
                if person.left >= 0:
                    if over:
                        continue  # keeps the over-commit the only way past the limit
                    leaver = person
                    start_hi = hi if hi < person.left else person.left
            start_lo = start_lo if start_lo > lo else lo
            span = start_hi - start_lo
            if span < 2:
                continue
            rollout = (span if span < rollout_max else rollout_max) if random_() < 0.6 else span
            start = start_lo + int(random_() * rollout)
            stop, why = -1, _OPEN
            if not over:
                if leaver is not None and leaver.cleaned_up:
                    stop, why = leaver.left + 1 + rng.randrange(2 * WORKDAY), _LEFT
                elif expires and random_() < at_term_end:
                    stop, why = max(start + 1, hi - rng.randrange(3 * WORKDAY)), _TERM_END
                elif random_() < churn:
                    stop, why = start + 1 + int(random_() * (end - start - 1)), _CHURN
                if stop >= end:
                    stop, why = -1, _OPEN
            if keep_all or (keep_moving and why == _TERM_END):
                lic.moved.append(holder)
            planned += 1
            starts(start)
            taken(-holder if by_device else holder)
            unit_list(units)
            stops(stop)
            reasons(why)
            added.append((2 * start, units))
            if stop >= 0:
                released.append((2 * stop + 1, -units))
            else:
                used += units
        license_ids.extend(array("l", [lic.id]) * planned)
        lic.used = used
        peak = used
        if released:  # assignments before releases at the same moment, as walked
            peak = running = 0
            for _, delta in sorted(added + released):
                running += delta
                peak = running if running > peak else peak
        lic.quantity = self._quantity(lic, peak)

    def _quantity(self, lic: _Entitlement, peak: int) -> int:
        """What was bought: at least the peak use, but where an over-commit went past it."""
        rng, used = self.rng, lic.used
        if lic.kind.metric.unlimited:
            return _nice(len(self.people))  # a site license sized by headcount
        if lic.fill == _OVER:
            return max(peak - max(1, round(peak * 0.08)), 1)
        if lic.renews is not None and lic.holders == 0:
            return lic.renews.quantity
        if lic.fill == _NEAR_FULL:
            return max(peak, math.ceil(used / rng.uniform(0.9, 0.99)), 1)
        if lic.fill == _SHELFWARE:
            return max(peak, _nice(max(used, 1) / rng.uniform(0.15, 0.45)))
        return max(peak, _nice(max(used, 1) / rng.uniform(0.65, 0.88)))


# ------------------------------------------------------------------------------------- writer


# How a queued entry carries its before/after values; compact tuples pickle fast to the worker.
_GENERIC, _ASSIGNED, _RELEASED, _LEFT_ORG = range(4)


# The demo's salts come from a constant key, so a seed still builds the same ledger; each is
# kept beside its value like any other (a demo's people are invented; nothing real is hidden).
DEMO_COMMITMENT_KEY = hashlib.sha256(b"seatledger demo commitment key").digest()
DEMO_SALTS = keyed(DEMO_COMMITMENT_KEY)


def _entries(specs: Sequence[tuple[Any, ...]], openings: list[Opening]) -> Iterator[Unchained]:
    """The entries of a batch of queued specs, with their canonical bodies (personal fields
    committed as ledger_store.append commits them; what they hide is added to ``openings``).

    A spec is (seq, ts, operator index, action, entity type, entity id, reason, shape, data); the
    before/after values are built here by the services' own builders.
    """
    for seq, ts, actor, action, entity_type, entity_id, reason, shape, data in specs:
        if shape == _ASSIGNED:
            used, quantity, seat_id, units, holder, over_commit = data
            before, after = assigned(
                seats_used=used,
                quantity=quantity,
                assignment_ids=[seat_id],
                units=units,
                people=[holder] if holder > 0 else None,
                devices=[-holder] if holder < 0 else None,
                over_commit=over_commit or None,
            )
        elif shape == _RELEASED:
            # Not what SeatService.release writes (it also records the seat counts before and
            # after); kept as the demo has always written it, so a seed still builds the same
            # ledger.
            seat_id, license_id, units = data
            before, after = None, {"released": [seat_id], "entitlements": {str(license_id): units}}
        elif shape == _LEFT_ORG:
            before, after = left("active", data)
        else:
            before, after = data
        name, _, role = OPERATORS[actor - 1]
        body, hidden = committed_body(
            seq=seq,
            salts=DEMO_SALTS,
            ts=ts,
            operator=name,
            role=role.value,
            action=action,
            entity_type=entity_type,
            entity_id=entity_id,
            reason=reason,
            before=before,
            after=after,
        )
        openings.extend(hidden)
        yield seq, ts, name, action, entity_type, entity_id, body


class _Chain:
    """Makes the entries of consecutive batches and links them, as ledger_store.append does.

    One instance follows one ledger from its first entry, batch after batch.
    """

    def __init__(self) -> None:
        self.prev = GENESIS_HASH
        self.edge = Frontier()

    def add(self, specs: Sequence[tuple[Any, ...]]) -> _Made:
        """The next batch as stored rows (:class:`StoredEntry` order), the Merkle block roots
        it completes and the tree's right edge after it, as ledger_store.append keeps them."""
        openings: list[Opening] = []
        rows = chain(_entries(specs, openings), self.prev)
        self.prev = rows[-1][-1]
        edge, blocks = self.edge, []
        for row in rows:
            block = edge.append(leaf_hash(row[-1]))
            if block is not None:
                blocks.append((row[0] // BLOCK - 1, block))
        hidden = [
            (
                o.commitment,
                o.entity_type,
                o.entity_id,
                o.field,
                canonical_bytes(o.value).decode(),
                o.salt,
            )
            for o in openings
        ]
        return _Made(rows, blocks, edge.to_bytes(), hidden)


class _Made(NamedTuple):
    rows: list[Chained]
    blocks: list[tuple[int, bytes]]
    edge: bytes
    openings: list[tuple[str, str, str, str, str, bytes]]


_worker_chain = _Chain()  # a worker process's chain; its one worker takes the batches in order


def _start_worker_chain(parent: int) -> None:
    global _worker_chain  # noqa: PLW0603 (state of the worker process, set as it starts)
    die_with_parent(parent)  # a killed build must not leave its worker waiting forever
    _worker_chain = _Chain()


def _add_in_worker(specs: Sequence[tuple[Any, ...]]) -> _Made:
    return _worker_chain.add(specs)


def _password_hashes() -> list[str]:
    return [hash_password(PASSWORD) for _ in OPERATORS]


class _Writer(Bulk):
    """Bulk inserts of tuples, with the values each backend stores, and deferred indexes."""

    def __init__(self, conn: Connection, timeline: _Timeline) -> None:
        super().__init__(conn)
        self.timeline = timeline

    def moment(self, u: int) -> Any:
        """A DATETIME column value."""
        return self.timeline.stamps(u)[1] if self.sqlite else self.timeline.moment(u)


_SEAT_COLUMNS = (
    "id, entitlement_id, person_id, device_id, units, started_at, ended_at, assigned_by, "
    "released_by, over_commit, over_commit_reason, note"
)
_LEDGER_COLUMNS = ", ".join(StoredEntry._fields)
_ENTITLEMENT_COLUMNS = (
    "id, product_id, name, metric, quantity, min_cores_per_processor, term_start, term_end, "
    "unit_cost, currency, po_reference, reseller, notes, seats_used, retired"
)


@dataclass
class _Counts:
    entries: int = 0
    seats: int = 0
    open_seats: int = 0
    over_commits: int = 0


class _Builder:
    """Writes a plan: the rows in their final state, then the timeline of ledger entries."""

    def __init__(
        self,
        plan: _Plan,
        out: _Writer,
        progress: Progress,
        passwords: list[str],
        pool: ProcessPoolExecutor | None,
    ) -> None:
        self.plan = plan
        self.out = out
        self.progress = progress
        self.passwords = passwords
        self.pool = pool
        self.counts = _Counts()
        self.seq = 0
        self.head = GENESIS_HASH
        self.total = 0
        self.specs: list[tuple[Any, ...]] = []
        self.chain = _Chain()
        self.pending: deque[Future[_Made] | _Made] = deque()
        self.edge = b""
        self.committed: set[str] = set()
        self.created: list[tuple[int, int, int, int]] = []

    def write_rows(self) -> None:
        """Every row but seats and the ledger, in its final state (seat counts included)."""
        plan, out = self.plan, self.out
        operators = [
            (n + 1, name, full, role.value, self.passwords[n], out.flag(True), out.moment(n))
            for n, (name, full, role) in enumerate(OPERATORS)
        ]
        out.insert(
            "operator", "id, name, full_name, role, password_hash, active, created_at", operators
        )
        out.insert("setting", "key, value", [(DEMO_KEY, "1"), (ORGANIZATION_KEY, ORGANIZATION)])
        out.insert("team", "id, name, cost_centre", [(n + 1, *t) for n, t in enumerate(plan.teams)])
        out.insert(
            "vendor",
            "id, name, website, notes",
            [(n + 1, name, site, "") for n, (name, site) in enumerate(plan.vendors)],
        )
        out.insert(
            "product",
            "id, vendor_id, name, notes",
            [(n + 1, p.vendor_id, p.name, "") for n, p in enumerate(plan.products)],
        )
        out.insert(
            "entitlement",
            _ENTITLEMENT_COLUMNS,
            [self._entitlement_row(lic) for lic in plan.licenses],
        )
        self.progress.stage("People and devices")
        self.progress(0, len(plan.people) + len(plan.devices))
        out.insert(
            "person",
            "id, employee_id, name, email, team_id, status, date_left",
            [
                (
                    n + 1,
                    p.employee_id,
                    p.name,
                    p.email,
                    p.team_id,
                    "left" if p.left >= 0 else "active",
                    out.day(plan.timeline.date(p.left)) if p.left >= 0 else None,
                )
                for n, p in enumerate(plan.people)
            ],
        )
        # Nobody in the demo changes team: one membership each, held since always.
        out.insert(
            "person_team",
            "id, person_id, team_id, valid_from, valid_to",
            [(n + 1, n + 1, p.team_id, None, None) for n, p in enumerate(plan.people)],
        )
        self.progress(len(plan.people), len(plan.people) + len(plan.devices))
        out.insert(
            "device",
            "id, hostname, serial, owner_id, processors, cores, processor_model, os",
            [(n + 1, *d.recorded()) for n, d in enumerate(plan.devices)],
        )
        out.advance_sequences(
            (
                "operator",
                "team",
                "vendor",
                "product",
                "entitlement",
                "person",
                "person_team",
                "device",
            )
        )

    def _entitlement_row(self, lic: _Entitlement) -> tuple[Any, ...]:
        out = self.out
        return (
            lic.id,
            lic.kind.product_id,
            lic.name,
            lic.kind.metric.value,
            lic.quantity,
            lic.kind.min_cores,
            out.day(lic.term_start),
            out.day(lic.term_end),
            out.money(lic.cost),
            lic.kind.currency,
            lic.po_reference,
            lic.reseller,
            "",
            lic.used,
            out.flag(False),
        )

    # ----------------------------------------------------------------------------- ledger

    def _creations(self) -> list[tuple[int, int, int, int]]:
        """(moment, _CREATE, what, index) of every recorded row, in recording order."""
        plan = self.plan
        first_product: dict[int, int] = {}
        for product in plan.products:
            first_product.setdefault(product.vendor_id, product.created)
        events = [(n, _CREATE, _OPERATOR, n) for n in range(len(OPERATORS))]
        events += [(30 * _SECOND + n, _CREATE, _TEAM, n) for n in range(len(plan.teams))]
        events += [  # a vendor is recorded just before its first product
            (first_product[n + 1] - _SECOND // 2, _CREATE, _VENDOR, n)
            for n in range(len(plan.vendors))
        ]
        events += [(p.created, _CREATE, _PRODUCT, n) for n, p in enumerate(plan.products)]
        events += [(lic.created, _CREATE, _ENTITLEMENT, n) for n, lic in enumerate(plan.licenses)]
        events += [(p.created, _CREATE, _PERSON, n) for n, p in enumerate(plan.people)]
        events += [(d.created, _CREATE, _DEVICE, n) for n, d in enumerate(plan.devices)]
        events.sort()
        return events

    def _entry(
        self,
        ts: str,
        actor: int,
        action: str,
        entity_id: int,
        *,
        shape: int,
        data: Any,
        reason: str,
    ) -> None:
        """Queue the ledger entry of an event; its body is made in batches.

        The entity is the one the service writing ``action`` names: the license for an
        assignment, the seat for a release, else what the action's prefix says.
        """
        entity_type = "entitlement" if action == "seat.assign" else action.partition(".")[0]
        self.seq += 1
        spec = (self.seq, ts, actor, action, entity_type, str(entity_id), reason, shape, data)
        self.specs.append(spec)
        if len(self.specs) >= BODY_CHUNK:
            self._send()

    def _send(self) -> None:
        """Hand the queued entries over to be made and chained; write the batches that are."""
        specs, self.specs = self.specs, []
        if specs:
            work = self.pool.submit(_add_in_worker, specs) if self.pool else self.chain.add(specs)
            self.pending.append(work)
        while len(self.pending) > (2 if self.pool else 0):
            self._write_entries()

    def _write_entries(self) -> None:
        """Write the oldest batch of made entries."""
        work = self.pending.popleft()
        rows, blocks, self.edge, openings = work.result() if isinstance(work, Future) else work
        self.head = rows[-1][-1]
        self.out.insert("ledger_entry", _LEDGER_COLUMNS, rows)
        if blocks:
            self.out.insert("ledger_block", "idx, hash", blocks)
        fresh = [o for o in openings if o[0] not in self.committed]
        if fresh:
            self.committed.update(o[0] for o in fresh)
            self.out.insert(
                "ledger_commitment", "commitment, entity_type, entity_id, field, value, salt", fresh
            )
        self.progress(rows[-1][0], self.total)

    def _events(self) -> Iterator[tuple[int, ...]]:
        plan = self.plan
        starts, ends = plan.starts, plan.ends
        releases = sorted((n for n in range(len(ends)) if ends[n] >= 0), key=ends.__getitem__)
        leaves = sorted((p.left, _LEAVE, n) for n, p in enumerate(plan.people) if p.left >= 0)
        self.total = len(self.created) + len(starts) + len(releases) + len(leaves)
        return heapq.merge(
            self.created,
            ((starts[n], _ASSIGN, n) for n in range(len(starts))),
            ((ends[n], _RELEASE, n) for n in releases),
            leaves,
        )

    def write_history(self) -> None:
        """Walk the timeline: an entry per recorded row, assignment, release and leaver."""
        self.progress.stage("Seats and ledger")
        self._walk()
        for lic in self.plan.licenses:
            if self.used[lic.id] != lic.used:
                raise AssertionError(
                    f"license {lic.id}: walked {self.used[lic.id]}, not {lic.used}"
                )
        self.out.insert(
            "ledger_head", "id, size, head, frontier", [(1, self.seq, self.head, self.edge)]
        )
        self.out.advance_sequences(("seat_assignment",))
        self.counts.entries = self.seq

    def _walk(self) -> None:
        plan, out = self.plan, self.out
        timeline, licenses, devices = plan.timeline, plan.licenses, plan.devices
        license_ids, holders, units_of = plan.license_ids, plan.holders, plan.units
        ends, end_reasons = plan.ends, plan.end_reasons
        stamps, entry, put, sqlite = timeline.stamps, self._entry, out.insert, out.sqlite
        self.used = used = [0] * (len(licenses) + 1)
        counts, seat_rows = self.counts, []
        self.created = self._creations()
        for event in self._events():
            u, what = event[0], event[1]
            if what == _ASSIGN:
                n = event[2]
                seat_id = n + 1
                lic = licenses[license_ids[n] - 1]
                holder, units, before = holders[n], units_of[n], used[lic.id]
                over_commit = ""
                if lic.fill == _OVER or before + units > lic.quantity:
                    # Past the limit only through the seat service's rule, as an over-commit.
                    state = LimitState(
                        lic.label,
                        lic.kind.metric,
                        lic.quantity,
                        before,
                        lic.term_start,
                        lic.term_end,
                    )
                    decision = check_assignment(state, units, timeline.date(u), override=True)
                    if decision.over_commit and lic.fill != _OVER:
                        raise AssertionError(f"the demo plan breaks a limit: {decision.message}")
                    over_commit = decision.message if decision.over_commit else ""
                used[lic.id] = before + units
                if over_commit:
                    reason = _OVER_COMMIT_REASONS[counts.over_commits % len(_OVER_COMMIT_REASONS)]
                    counts.over_commits += 1
                    actor = ADMIN
                else:
                    reason = _ASSIGN_REASONS[n % len(_ASSIGN_REASONS)]
                    if reason.endswith("-"):
                        reason += str(100_000 + n % 900_000)
                    actor = ADMIN if n % 9 == 0 else MANAGER
                ts, started = stamps(u)
                data = (before, lic.quantity, seat_id, units, holder, over_commit)
                entry(ts, actor, "seat.assign", lic.id, shape=_ASSIGNED, data=data, reason=reason)
                stop = ends[n]
                seat_rows.append(
                    (
                        seat_id,
                        lic.id,
                        holder if holder > 0 else None,
                        -holder if holder < 0 else None,
                        units,
                        started if sqlite else timeline.moment(u),
                        None if stop < 0 else out.moment(stop),
                        actor,
                        None if stop < 0 else ADMIN if n % 5 == 0 else MANAGER,
                        int(bool(over_commit)) if sqlite else bool(over_commit),
                        reason if over_commit else "",
                        "",
                    )
                )
                counts.seats += 1
                counts.open_seats += stop < 0
                if len(seat_rows) >= BODY_CHUNK:
                    put("seat_assignment", _SEAT_COLUMNS, seat_rows)
                    seat_rows = []
            elif what == _RELEASE:
                n = event[2]
                lic_id, units = license_ids[n], units_of[n]
                used[lic_id] -= units
                by = ADMIN if n % 5 == 0 else MANAGER
                reason = _RELEASE_REASONS[end_reasons[n]]
                ts = stamps(u)[0]
                released = (n + 1, lic_id, units)
                entry(ts, by, "seat.release", n + 1, shape=_RELEASED, data=released, reason=reason)
            elif what == _LEAVE:
                day = timeline.date(u)
                reason = "Left the organization (HR offboarding)"
                entry(
                    stamps(u)[0],
                    MANAGER,
                    "person.leave",
                    event[2] + 1,
                    shape=_LEFT_ORG,
                    data=day,
                    reason=reason,
                )
            else:
                self._create(stamps(u)[0], event[2], event[3], devices)
        put("seat_assignment", _SEAT_COLUMNS, seat_rows)
        self._send()
        while self.pending:
            self._write_entries()

    def _create(self, ts: str, what: int, n: int, devices: list[_Device]) -> None:
        """The entry of a recorded row, with the snapshot its service writes."""
        plan = self.plan
        by = MANAGER if n % 4 else ADMIN  # who recorded it

        def entry(actor: int, action: str, entity_id: int, after: Any, reason: str = "") -> None:
            self._entry(
                ts, actor, action, entity_id, shape=_GENERIC, data=(None, after), reason=reason
            )

        values = snapshots.values
        if what == _OPERATOR:
            name, full, role = OPERATORS[n]
            if n == 0:  # as create_first_administrator writes it
                after = values(snapshots.FIRST_ADMINISTRATOR, name, role.value)
                entry(ADMIN, "operator.create", 1, after, "first administrator of a new database")
            else:
                after = values(snapshots.OPERATOR, name, full, role.value)
                entry(ADMIN, "operator.create", n + 1, after)
        elif what == _TEAM:
            entry(ADMIN, "team.create", n + 1, values(snapshots.TEAM, *plan.teams[n]))
        elif what == _VENDOR:
            name, site = plan.vendors[n]
            entry(by, "vendor.create", n + 1, values(snapshots.VENDOR, name, site, ""))
        elif what == _PRODUCT:
            p = plan.products[n]
            after = values(snapshots.PRODUCT, p.vendor_id, p.name, "")
            entry(by, "product.create", n + 1, after)
        elif what == _ENTITLEMENT:
            lic = plan.licenses[n]
            after = values(
                snapshots.ENTITLEMENT,
                lic.kind.product_id,
                lic.name,
                lic.kind.metric.value,
                lic.quantity,
                lic.kind.min_cores,
                lic.term_start,
                lic.term_end,
                lic.cost,
                lic.kind.currency,
                lic.po_reference,
                lic.reseller,
                "",
                False,
                Decimal("1.000"),  # the column's default, as the catalog service writes it
                None,  # one factor for every core
                None,  # the organization's notice periods
                None,  # no cancel-by date
            )
            entry(by, "entitlement.create", lic.id, after)
        elif what == _PERSON:
            person = plan.people[n]
            after = values(
                snapshots.PERSON,
                person.employee_id,
                person.name,
                person.email,
                person.team_id,
                "active",
                None,  # not left
                None,  # first day not given
            )
            entry(by, "person.create", n + 1, after)
        else:
            after = values(snapshots.DEVICE, *devices[n].recorded())
            entry(by, "device.create", n + 1, after)


# -------------------------------------------------------------------------------------- entry


def _drop_everything(db: str) -> None:
    """Undo a failed build in a server database that was empty before it (so a retry can run)."""
    engine = create_engine(to_url(db))
    try:
        with engine.begin() as conn:
            for table in inspect(conn).get_table_names():
                conn.exec_driver_sql(f'DROP TABLE IF EXISTS "{table}" CASCADE')
            conn.exec_driver_sql("DROP FUNCTION IF EXISTS ledger_refuse_change() CASCADE")
    except (SQLAlchemyError, ModuleNotFoundError):
        pass  # the build's own error says what went wrong
    finally:
        engine.dispose()


def _refuse_existing(db: str) -> Path | None:
    """Refuse a target that holds anything; return the SQLite file the build will create."""
    url = to_url(db)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise KnownError("A demo needs a database file: name one with --db.")
        path = Path(parsed.database)
        if path.exists():
            raise KnownError(
                f"{path} already exists. A demo is built into a new database and never "
                "overwrites one: choose a new file name."
            )
        return path
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            tables = inspect(conn).get_table_names()
    except (SQLAlchemyError, ModuleNotFoundError):
        return None  # Database.open says why it cannot connect
    finally:
        engine.dispose()
    if tables:
        shown = parsed.render_as_string(hide_password=True)
        raise KnownError(
            f"{shown} already holds tables ({', '.join(sorted(tables)[:3])}, ...). A demo is "
            "built into an empty database and never overwrites one."
        )
    return None


def build_demo(
    db: str,
    size: Literal["small", "large", "xlarge"],
    *,
    seed: int = 2026,
    progress: Progress = SILENT,
) -> str:
    """Create a new demo database at ``db`` and return a one-line summary of what it holds.

    Args:
        db: a SQLite file path (which must not exist) or the URL of an empty database.
        size: ``small`` (200 people, 40 licenses, two thousand seats) or ``large`` (the large
            row of PERF.md: 50,000 people, 100,000 devices, 5,000 products, a million seats).
        seed: seeds the generator; the same seed on the same day builds the same ledger.
        progress: told each stage and how far it is; cancelling it removes the new file.

    Raises:
        KnownError: the target exists, holds tables or cannot be opened.
    """
    report = progress
    if size not in PROFILES:
        raise KnownError(f"Unknown demo size '{size}': use small or large.")
    new_file = _refuse_existing(db)
    pool = _body_pool(PROFILES[size])
    # A new SQLite file is built under a hidden name and takes its own only when complete.
    target = building(new_file) if new_file is not None else nullcontext(db)
    try:
        with target as where:
            # Argon2 takes a while: the worker, if any, hashes while this process plans.
            hashing = pool.submit(_password_hashes) if pool else None
            report.stage("Planning")
            report(0, 1)
            plan = _Planner(PROFILES[size], seed, dt.datetime.now(dt.UTC).date()).plan()
            report(1, 1)
            passwords = hashing.result() if hashing else _password_hashes()
            database, _ = Database.open(where)
            try:
                counts = _write(database, plan, report, passwords, pool)
                inventory = add_inventory(database, size, seed, report)
                servers = add_servers(database, size, report)
            finally:
                database.dispose()
    except BaseException:
        if new_file is None:  # a server database that was empty: empty it again
            _drop_everything(db)
        raise
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    left = sum(1 for p in plan.people if p.left >= 0)
    return (
        f"{len(plan.people):,} people ({left:,} left), {len(plan.devices):,} devices, "
        f"{len(plan.vendors):,} vendors, {len(plan.products):,} products, "
        f"{len(plan.licenses):,} licenses, {counts.seats:,} seat assignments "
        f"({counts.open_seats:,} open, {counts.over_commits:,} over-commits), "
        f"{counts.entries + 3 + bool(servers):,} ledger entries; {inventory}"
        + (f"; {servers}" if servers else "")
    )


def _body_pool(profile: _Profile) -> ProcessPoolExecutor | None:
    """A worker process for the ledger bodies of a large demo, or None to make them here.

    Canonical bodies are most of the build's work and the machines we design for have two
    cores.  The worker is forked at once, while this process is small and holds no database
    connection; only a single-threaded process on Linux forks (forking beside other threads, a
    GUI's for one, can deadlock), and a frozen app is left alone.
    """
    if profile.seats < PARALLEL_FROM or not can_fork():
        return None
    context = multiprocessing.get_context("fork")
    pool = ProcessPoolExecutor(
        1, mp_context=context, initializer=_start_worker_chain, initargs=(os.getpid(),)
    )
    pool.submit(int).result()
    return pool


def _write(
    database: Database,
    plan: _Plan,
    report: Progress,
    passwords: list[str],
    pool: ProcessPoolExecutor | None,
) -> _Counts:
    """Write the plan in one write transaction."""
    engine = database.engine.execution_options(seatledger_write=True)
    with engine.connect() as conn:
        raw = conn.connection.driver_connection if database.dialect == "sqlite" else None
        if raw is not None:
            # A new file: nothing is lost if the machine stops before the commit.
            raw.execute("PRAGMA synchronous = OFF")
            raw.execute(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
            # Every id written is one the plan gave out, so the three parent lookups per seat
            # prove nothing (tests/demo/test_demo.py checks the result with foreign_key_check).
            raw.execute("PRAGMA foreign_keys = OFF")
        try:
            with conn.begin():
                out = _Writer(conn, plan.timeline)
                builder = _Builder(plan, out, report, passwords, pool)
                out.defer_indexes(("ledger_entry", "seat_assignment", "person", "device"))
                builder.write_rows()
                builder.write_history()
                report.stage("Indexes")
                report(0, 1)
                out.restore_indexes()
                report(1, 1)
        finally:
            if raw is not None:
                raw.execute("PRAGMA synchronous = FULL")
                raw.execute("PRAGMA cache_size = -2000")
                raw.execute("PRAGMA foreign_keys = ON")
    return builder.counts
