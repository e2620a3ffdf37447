"""Topology imports: an RVTools or Hyper-V export stored whole (one ledger entry) or refused by
file, line and column; the same files again change nothing; later exports continue, end and
start placements.

Figures counted by hand from ``tests/data/rvtools`` (see its README): 6 hosts (3 × 32, 2 × 16
and 1 × 12 cores: 140), 2 clusters, 8 VMs besides the template (6 running, 1 off, 1
suspended); and ``tests/data/hyperv``: 3 hosts (2 × 40 and 1 × 8 cores), 1 cluster, 7 VMs (4
running).
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.conftest import last_entry, ledger_size

from seatledger.domain.roles import Role
from seatledger.errors import PermissionDenied, ValidationError
from seatledger.services.imports.service import ImportRejected
from seatledger.services.operators.session import Services
from seatledger.services.servers.importing import TopologySource
from seatledger.store.models_servers import ServerHost, ServerPlacement, ServerVm

DATA = Path(__file__).parents[1] / "data"
RVTOOLS = sorted((DATA / "rvtools").glob("RVTools_tab*.csv"))
HYPERV = sorted((DATA / "hyperv").glob("*.csv"))
MONDAY = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)


def test_an_rvtools_export_is_stored_as_one_ledger_entry(admin: Services) -> None:
    preview = admin.servers.preview_import(RVTOOLS, TopologySource.RVTOOLS)
    assert preview.ok
    assert (preview.hosts, preview.clusters, preview.vms, preview.running, preview.cores) == (
        6,
        2,
        8,
        6,
        140,
    )
    assert ledger_size(admin.db) == 1  # the preview wrote nothing
    result = admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS, taken_at=MONDAY)
    assert (result.hosts_new, result.vms_new, result.placements_opened) == (6, 8, 6)
    assert ledger_size(admin.db) == 2
    entry = last_entry(admin.db)
    assert entry["action"] == "import.topology"
    assert entry["after"]["sha256"] == preview.sha256
    assert entry["after"]["hosts"] == 6
    with admin.db.read() as session:
        oracle = session.scalar(select(ServerHost).where(ServerHost.name == "esx11.corp.example"))
        assert oracle is not None
        assert (oracle.sockets, oracle.cores_per_socket, oracle.cluster) == (2, 8, "Oracle")
        sql = session.scalar(select(ServerVm).where(ServerVm.name == "sql01"))
        assert sql is not None
        assert (sql.vcpus, sql.host, sql.power) == (8, "esx03.corp.example", "poweredOn")
        assert session.scalar(select(ServerVm).where(ServerVm.name == "tmpl-ws2022")) is None
    again = admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS)
    assert again.already_imported
    assert ledger_size(admin.db) == 2


def test_a_later_export_moves_a_vm_and_keeps_its_history(admin: Services, tmp_path: Path) -> None:
    admin.servers.import_topology(RVTOOLS, TopologySource.RVTOOLS, taken_at=MONDAY)
    moved = _copy_with(tmp_path, "sql01", {"Host": "esx01.corp.example"})
    later = MONDAY + dt.timedelta(days=30)
    result = admin.servers.import_topology(moved, TopologySource.RVTOOLS, taken_at=later)
    assert (result.vms_changed, result.vms_unchanged) == (1, 7)
    assert (result.placements_closed, result.placements_opened) == (1, 1)
    with admin.db.read() as session:
        rows = session.execute(
            select(ServerPlacement.host, ServerPlacement.started, ServerPlacement.ended)
            .where(ServerPlacement.vm_name == "sql01")
            .order_by(ServerPlacement.started)
        ).all()
    assert [(r.host, r.ended is None) for r in rows] == [
        ("esx03.corp.example", False),
        ("esx01.corp.example", True),
    ]
    with pytest.raises(ValidationError, match="cannot run backwards"):
        admin.servers.import_topology(
            _copy_with(tmp_path / "b", "win-app01", {"Host": "esx02.corp.example"}),
            TopologySource.RVTOOLS,
            taken_at=MONDAY,
        )


def test_a_bad_row_refuses_the_whole_export(admin: Services, tmp_path: Path) -> None:
    bad = _copy_with(tmp_path, "win-app02", {"Host": "esx99.corp.example"})
    preview = admin.servers.preview_import(bad, TopologySource.RVTOOLS)
    assert not preview.ok
    assert any("esx99" in str(p) and p.line == 3 for p in preview.problems)
    with pytest.raises(ImportRejected, match="nothing was imported"):
        admin.servers.import_topology(bad, TopologySource.RVTOOLS)
    assert ledger_size(admin.db) == 1
    with admin.db.read() as session:
        assert session.scalar(select(ServerHost)) is None


def test_a_hyperv_export_is_stored(admin: Services) -> None:
    result = admin.servers.import_topology(HYPERV, TopologySource.HYPERV, taken_at=MONDAY)
    assert (result.hosts_new, result.vms_new, result.placements_opened) == (3, 7, 4)
    with admin.db.read() as session:
        sql = session.scalar(select(ServerVm).where(ServerVm.name == "SQL01"))
        assert sql is not None
        assert (sql.cluster, sql.vcpus) == ("HVCL01", 8)


def test_viewers_and_auditors_cannot_import(as_role: Callable[[Role], Services]) -> None:
    for role in (Role.VIEWER, Role.AUDITOR):
        with pytest.raises(PermissionDenied):
            as_role(role).servers.import_topology(RVTOOLS, TopologySource.RVTOOLS)


def _copy_with(folder: Path, vm: str, changes: dict[str, str]) -> list[Path]:
    """The RVTools fixture in ``folder`` with one vInfo row's cells changed."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in RVTOOLS:
        target = folder / path.name
        shutil.copyfile(path, target)
        paths.append(target)
    info = folder / "RVTools_tabvInfo.csv"
    with info.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    header = rows[0]
    for row in rows[1:]:
        if row[0] == vm:
            for column, value in changes.items():
                row[header.index(column)] = value
    with info.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return paths
