"""The server tables against the ledger (both engines): topology imports and hard partitions
replay exactly, and a host, VM or placement changed, added or deleted with raw SQL is named.

The estate is the RVTools fixture of ``test_server_position`` plus a second export a month later
(sql01 moved to esx01: one placement ended, one opened; the template removed) and a hard
partition.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.services.test_server_position import (  # noqa: F401 (estate: the fixture)
    _export,
    estate,
)

from seatledger.domain.state import Kind
from seatledger.errors import StateIntegrityError
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.ledger import state as ledger_state
from seatledger.services.ledger.state import check_ledger_and_state
from seatledger.services.operators.session import Services
from seatledger.services.servers.importing import TopologySource
from seatledger.store.db import Database

LATER = dt.datetime(2026, 12, 2, 8, 0, tzinfo=dt.UTC)


def _sql(db: Database, statement: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(text(statement))


@pytest.fixture
def moved(estate: Services, tmp_path: Path) -> Services:  # noqa: F811 (the fixture)
    paths = _export(tmp_path / "later", {"sql01": {"Host": "esx01.corp.example"}})
    estate.servers.import_topology(paths, TopologySource.RVTOOLS, taken_at=LATER)
    estate.servers.set_hard_partition("ora-db01", 8, "Solaris zone capped at 8 cores")
    return estate


def test_imports_and_partitions_replay_exactly(moved: Services) -> None:
    report = moved.ledger.verify_state()
    assert report.ok, [d.message() for d in report.differences]
    assert report.rows["server_host"] == 6
    assert report.rows["server_vm"] == 8
    assert report.rows["server_placement"] == 7  # 6 running, sql01's first stint ended
    assert not [line for line in report.coverage() if "placements" in line]


def test_topology_imported_before_entries_named_their_rows_is_said_not_covered(
    moved: Services,
) -> None:
    """An import entry from before its rows were recorded (as in an upgraded database): the
    server tables are said not to be covered, and no row is called a difference."""
    replay = ledger_state.Replay()
    body = json.dumps({"what": {"after": {"files": ["RVTools.xlsx"], "hosts": 6, "vms": 8}}})
    replay.entry(2, "import.topology", "1", "2026-11-02T08:00:00+00:00", "admin", body.encode())
    report = ledger_state.StateReport()
    ledger_state._compare_servers(moved.db, replay.servers, report)
    assert report.ok
    assert report.coverage()[-1] == (
        "not covered: server hosts, VMs and placements (1 topology import was recorded before "
        "imports' entries named the rows they wrote)"
    )


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        (
            "UPDATE server_host SET cores_per_socket = 24 WHERE name = 'esx11.corp.example'",
            "server_host 4 (esx11.corp.example): cores_per_socket is 24 in the database, "
            "the ledger says 8",
        ),
        (
            "UPDATE server_vm SET hard_partition_cores = 2 WHERE name = 'ora-db01'",
            "hard_partition_cores is 2 in the database, the ledger says 8",
        ),
        (
            "UPDATE server_vm SET host = 'esx12.corp.example' WHERE name = 'ora-db01'",
            "host is esx12.corp.example in the database, the ledger says esx11.corp.example",
        ),
        (
            "DELETE FROM server_placement WHERE vm_name = 'sql01' AND ended IS NOT NULL",
            "server_placement uuid:",
        ),
        (
            "INSERT INTO server_host (name, sockets, cores_per_socket, source, import_id, "
            "seen_at) VALUES ('esx99', 1, 4, 'rvtools', 1, '2026-12-01 00:00:00')",
            "server_host 7 (esx99) is in the database, but no ledger entry made it",
        ),
    ],
)
def test_a_server_row_changed_behind_the_ledger_s_back_is_named(
    moved: Services, statement: str, expected: str
) -> None:
    _sql(moved.db, statement)
    verdict, report = check_ledger_and_state(moved.db)
    assert verdict.ok  # the chain cannot see it
    assert report is not None
    assert report.total == 1, [d.message() for d in report.differences]
    [difference] = report.differences
    assert expected in difference.message()
    assert difference.table.startswith("server_")
    if statement.startswith("DELETE"):
        assert difference.kind is Kind.MISSING_ROW
        assert "is not in the database, but the ledger made it" in difference.message()


def test_a_changed_host_blocks_the_audits_of_server_vendors_only(moved: Services) -> None:
    _sql(moved.db, "UPDATE server_host SET sockets = 1 WHERE name = 'esx01.corp.example'")
    vendors = {item[1]: item[0] for item in moved.audits.vendors()}
    contoso = moved.catalog.add_vendor("Contoso")
    microsoft = moved.audits.start(vendors["Microsoft"], Trigger.VENDOR_REQUEST)
    with pytest.raises(StateIntegrityError, match=r"server_host 1 \(esx01.corp.example\)"):
        moved.audits.check_verifies(moved.audits.get(microsoft))
    other = moved.audits.start(contoso, Trigger.VENDOR_REQUEST)
    moved.audits.check_verifies(moved.audits.get(other))  # not its servers: signs
