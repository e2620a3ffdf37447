"""The effective license position and its findings on a small hand-computed organization.

Hand count (as of today):
- Draw, per device, 3 owned at 100 EUR: seats on D1 and D2; installed on D2, D3 and D4.
  Needed = {D1, D2, D3, D4} = 4; unlicensed = D3, D4; short 1; true-up 100.00.
- Code, named user, 5 owned: seats for P1 and P2; installed on D1 (P1's) and D3 (P3's).
  Needed = {P1, P2, P3} = 3; unlicensed = D3 (P3 holds no seat); over-licensed 2.
- Core, per core with 16 per processor, 40 owned: seat on S1 (2 × 12 cores -> 32); installed on
  S1 and S2 (1 × 8 cores -> 16).  Needed 48; short 8.
- Sim, concurrent, 2 owned: three checkouts overlap at 10:30 -> peak 3; short 1.
- Chat: installed on D4, nothing bought -> per device, 1 needed, 1 unlicensed.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import PASSWORD
from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.normalization import MatchKind
from seatledger.ingest.formats import Kind
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.directory.service import DeviceInput, PersonInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import (
    Column,
    FindingKind,
    PositionRow,
    PositionService,
    short_of_rights,
)
from seatledger.store import ledger_store

TODAY = dt.date.today()


class World:
    products: dict[str, int]
    entitlements: dict[str, int]
    people: dict[str, int]
    devices: dict[str, int]


@pytest.fixture
def world(admin: Services, tmp_path: Path) -> World:
    w = World()
    vendor = admin.catalog.add_vendor("Contoso")
    w.products = {n: admin.catalog.add_product(vendor, n) for n in ("Draw", "Code", "Core", "Sim")}
    year = {"term_start": TODAY - dt.timedelta(days=10), "term_end": TODAY + dt.timedelta(days=300)}
    w.entitlements = {
        "Draw": admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=w.products["Draw"],
                metric=Metric.PER_DEVICE,
                quantity=3,
                unit_cost=Decimal(100),
                **year,
            )
        ),
        "Code": admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=w.products["Code"], metric=Metric.PER_USER, quantity=5, **year
            )
        ),
        "Core": admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=w.products["Core"],
                metric=Metric.PER_CORE,
                quantity=40,
                min_cores_per_processor=16,
                **year,
            )
        ),
        "Sim": admin.catalog.add_entitlement(
            EntitlementInput(
                product_id=w.products["Sim"], metric=Metric.CONCURRENT, quantity=2, **year
            )
        ),
    }
    w.people = {
        f"P{n}": admin.directory.add_person(PersonInput(f"E{n}", f"Person {n}", f"p{n}@x.example"))
        for n in (1, 2, 3)
    }
    w.devices = {
        "D1": admin.directory.add_device(DeviceInput("D1", owner_id=w.people["P1"])),
        "D2": admin.directory.add_device(DeviceInput("D2")),
        "D3": admin.directory.add_device(DeviceInput("D3", owner_id=w.people["P3"])),
        "D4": admin.directory.add_device(DeviceInput("D4")),
        "S1": admin.directory.add_device(DeviceInput("S1", processors=2, cores=12)),
        "S2": admin.directory.add_device(DeviceInput("S2", processors=1, cores=8)),
    }
    admin.seats.assign(w.entitlements["Draw"], devices=[w.devices["D1"], w.devices["D2"]])
    admin.seats.assign(w.entitlements["Code"], people=[w.people["P1"], w.people["P2"]])
    admin.seats.assign(w.entitlements["Core"], devices=[w.devices["S1"]])
    for name in ("Draw", "Code", "Core"):
        admin.rules.add(RuleInput(w.products[name], f"{name}*", kind=MatchKind.WILDCARD))
    chat = admin.catalog.add_product(vendor, "Chat")
    admin.rules.add(RuleInput(chat, "Chat"))
    admin.rules.add(RuleInput(w.products["Sim"], "SIM_FEATURE"))
    inventory = tmp_path / "inventory.csv"
    inventory.write_text(
        "Computer Name,Application Title,Application Version\n"
        "D2,Draw 2024,1.0\nD3,Draw 2024,1.0\nD4,Draw Pro,2.0\n"
        "D1,Code Studio,3\nD3,Code Studio,3\n"
        "S1,Core Server,16\nS2,Core Server,16\n"
        "D4,Chat,1\nD4,Free Viewer,9\n",
        encoding="utf-8",
    )
    admin.imports.commit(inventory, ImportOptions(Kind.INVENTORY))
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "User,Feature,Host,Checkout,Checkin\n"
        f"p1,SIM_FEATURE,h1,{day}T09:00:00Z,{day}T11:00:00Z\n"
        f"p2,SIM_FEATURE,h2,{day}T10:00:00Z,{day}T12:00:00Z\n"
        f"p3,SIM_FEATURE,h3,{day}T10:30:00Z,{day}T10:45:00Z\n"
        f"p3,SIM_FEATURE,h3,{day}T13:00:00Z,\n",
        encoding="utf-8",
    )
    admin.imports.commit(usage, ImportOptions(Kind.USAGE))
    return w


def _row(rows: list[PositionRow], product: str, metric: Metric | None = None) -> PositionRow:
    return next(r for r in rows if r.product == product and (metric is None or r.metric is metric))


def test_position_matches_the_hand_count(admin: Services, world: World) -> None:
    rows = PositionService(admin.ctx).position(TODAY).rows
    draw = _row(rows, "Draw")
    assert (draw.owned, draw.assigned, draw.needed, draw.unlicensed) == (3, 2, 4, 2)
    assert (draw.available, draw.shortfall, draw.true_up) == (-1, 1, Decimal("100.00"))
    code = _row(rows, "Code")
    assert (code.owned, code.assigned, code.needed, code.unlicensed) == (5, 2, 3, 1)
    assert code.over_licensed == 2
    core = _row(rows, "Core")
    assert (core.owned, core.assigned, core.needed, core.shortfall) == (40, 32, 48, 8)
    assert core.true_up is None  # no unit cost known
    sim = _row(rows, "Sim")
    assert (sim.owned, sim.needed, sim.shortfall) == (2, 3, 1)
    # Headers say how many rows are short and by how much: Draw 1, Core 8, Sim 1 and Chat 1,
    # installed and never bought (issue 17: "1 short of rights" beside a row at -6 read as one
    # seat short).
    assert short_of_rights(rows) == "4 rows short of rights, by 11 units"
    assert short_of_rights([draw]) == "1 row short of rights, by 1 unit"
    chat = _row(rows, "Chat")
    assert (chat.metric, chat.bought, chat.owned, chat.needed, chat.unlicensed) == (
        Metric.PER_DEVICE,
        False,
        0,
        1,
        1,
    )
    assert short_of_rights([code, chat]) == "1 row short of rights, by 1 unit"
    assert short_of_rights([code]) == "no row short of rights"
    assert not any(r.product == "Free Viewer" for r in rows)  # unmapped titles are not products


def test_every_number_drills_down_to_its_rows(admin: Services, world: World) -> None:
    service = PositionService(admin.ctx)
    pid = world.products["Draw"]
    needed, total = service.holders(pid, Metric.PER_DEVICE, Column.NEEDED, TODAY)
    assert total == 4
    assert sorted(h.name for h in needed) == ["D1", "D2", "D3", "D4"]
    loose, _ = service.holders(pid, Metric.PER_DEVICE, Column.UNLICENSED, TODAY)
    assert sorted(h.name for h in loose) == ["D3", "D4"]
    assigned, _ = service.holders(pid, Metric.PER_DEVICE, Column.ASSIGNED, TODAY)
    assert sorted(h.name for h in assigned) == ["D1", "D2"]
    seated, _ = service.holders(world.products["Code"], Metric.PER_USER, Column.ASSIGNED, TODAY)
    day = TODAY.isoformat()  # a seat is held since it started; a device's says its units
    assert [(h.kind, h.name, h.detail, h.since, bool(h.seat)) for h in assigned + seated] == [
        ("device", "D1", "seat on , 1 unit", day, True),
        ("device", "D2", "seat on , 1 unit", day, True),
        ("person", "Person 1", "seat on ", day, True),
        ("person", "Person 2", "seat on ", day, True),
    ]
    owned, _ = service.holders(pid, Metric.PER_DEVICE, Column.OWNED, TODAY)
    assert [h.kind for h in owned] == ["entitlement"]
    users, _ = service.holders(world.products["Code"], Metric.PER_USER, Column.UNLICENSED, TODAY)
    assert [h.name for h in users] == ["D3"]


def test_findings_name_what_an_audit_must_resolve(admin: Services, world: World) -> None:
    admin.directory.mark_left(world.people["P2"], TODAY)
    position = PositionService(admin.ctx).position(TODAY, shelf_days=0)
    kinds = {(f.kind, f.product) for f in position.findings}
    assert (FindingKind.OVER_DEPLOYED, "Draw") in kinds
    assert (FindingKind.OVER_DEPLOYED, "Core") in kinds
    assert (FindingKind.OVER_DEPLOYED, "Sim") in kinds
    assert (FindingKind.UNLICENSED, "Draw") in kinds
    assert (FindingKind.DEPARTED, "Code") in kinds
    shelf = {f.product: f for f in position.findings if f.kind is FindingKind.SHELFWARE}
    assert shelf["Draw"].count == 1  # D1 holds a seat and runs nothing
    assert shelf["Code"].count == 1  # P2 holds a seat, owns no device running it, never used it
    service = PositionService(admin.ctx)
    rows = service.finding_rows(shelf["Draw"], TODAY, 0)
    assert [h.name for h in rows] == ["D1"]
    departed = next(f for f in position.findings if f.kind is FindingKind.DEPARTED)
    assert [h.name for h in service.finding_rows(departed, TODAY, 0)] == ["Person 2"]


def test_the_position_as_of_an_earlier_date_uses_history(admin: Services, world: World) -> None:
    rows = PositionService(admin.ctx).position(TODAY - dt.timedelta(days=1)).rows
    draw = _row(rows, "Draw")
    assert (draw.owned, draw.assigned, draw.needed) == (3, 0, 0)  # nothing held or seen yet
    later = PositionService(admin.ctx).position(TODAY + dt.timedelta(days=400)).rows
    assert _row(later, "Draw").owned == 0  # the term has ended by then


def _cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_reconcile_prints_the_position_as_json(
    admin: Services, world: World, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _cli(capsys, "reconcile", "--db", db_url, "--format", "json")
    assert code == 0
    body = json.loads(out)
    draw = next(r for r in body["rows"] if r["product"] == "Draw")
    assert (draw["owned"], draw["needed"], draw["true_up"]) == (3, 4, "100.00")
    assert {f["kind"] for f in body["findings"]} >= {"over_deployed", "unlicensed_install"}
    code, out = _cli(capsys, "reconcile", "--db", db_url, "--as-of", "2000-01-01")
    assert code == 0
    assert "Effective license position on 2000-01-01" in out


def test_exports_never_let_a_spreadsheet_run_a_cell(
    admin: Services,
    world: World,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    vendor = admin.catalog.add_vendor("=cmd|' /C calc'!A0")
    product = admin.catalog.add_product(vendor, "@SUM(1+1)")
    admin.catalog.add_entitlement(
        EntitlementInput(product_id=product, metric=Metric.PER_USER, quantity=1, po_reference="-1")
    )
    csv_path, xlsx_path = tmp_path / "position.csv", tmp_path / "position.xlsx"
    assert _cli(capsys, "reconcile", "--db", db_url, "--out", str(csv_path))[0] == 0
    assert _cli(capsys, "reconcile", "--db", db_url, "--out", str(xlsx_path))[0] == 0
    text = csv_path.read_text(encoding="utf-8-sig")
    assert "'=cmd|' /C calc'!A0,'@SUM(1+1)" in text
    assert "\n=" not in text
    assert ",=" not in text
    assert ",@" not in text
    from openpyxl import load_workbook

    sheet = load_workbook(xlsx_path).worksheets[0]
    cells = {c.value: c.data_type for row in sheet.iter_rows() for c in row}
    assert cells["'=cmd|' /C calc'!A0"] == "s"
    assert cells["'@SUM(1+1)"] == "s"
    assert -1 in cells  # Draw's available stays a number, not escaped text


def test_import_command_commits_nothing_when_a_file_has_problems(  # noqa: PLR0917 (fixtures)
    admin: Services,
    world: World,
    db_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    with admin.db.read() as session:
        size = ledger_store.head(session)[0]
    bad = tmp_path / "bad.csv"
    # Not Jamf's headers: Jamf leaves the computer's name empty under its first row on purpose.
    bad.write_text("Computer,Software\nD1,Draw\n,Draw\nD2,\n", encoding="utf-8")
    code, out = _cli(capsys, "import", "inventory", str(bad), "--db", db_url)
    assert code == 1
    assert "line 3" in out
    assert "line 4" in out
    assert "nothing was imported" in out
    good = tmp_path / "good.csv"
    good.write_text("Computer Name,Application Title\nD9,Draw\n", encoding="utf-8")
    code, out = _cli(capsys, "import", "inventory", str(good), "--db", db_url, "--dry-run")
    assert code == 0
    assert "would be imported" in out
    with admin.db.read() as session:
        assert ledger_store.head(session)[0] == size
    code, out = _cli(capsys, "import", "inventory", str(good), "--db", db_url)
    assert code == 0
    assert "1 new" in out
    with admin.db.read() as session:
        assert ledger_store.head(session)[0] == size + 1


def test_unmatched_license_server_features_are_listed_and_mapped(
    admin: Services, world: World, tmp_path: Path
) -> None:
    day = (TODAY - dt.timedelta(days=1)).isoformat()
    usage = tmp_path / "more-usage.csv"
    usage.write_text(
        "User,Feature,Host,Checkout,Checkin\n"
        f"p1,SIM_PRO,h1,{day}T10:20:00Z,{day}T10:50:00Z\n"
        f"p2,SIM_PRO,h2,{day}T10:25:00Z,{day}T10:40:00Z\n",
        encoding="utf-8",
    )
    admin.imports.commit(usage, ImportOptions(Kind.USAGE))
    loose = [u for u in admin.rules.unmatched() if u.source == "license server"]
    assert [(u.title, u.installs) for u in loose] == [("SIM_PRO", 2)]
    before = _row(PositionService(admin.ctx).position(TODAY).rows, "Sim").needed
    admin.rules.add_many(world.products["Sim"], [("", "SIM_PRO")])
    assert not [u for u in admin.rules.unmatched() if u.source == "license server"]
    after = _row(PositionService(admin.ctx).position(TODAY).rows, "Sim").needed
    assert (before, after) == (3, 5)  # at 10:30 yesterday, three SIM and two SIM_PRO checkouts
