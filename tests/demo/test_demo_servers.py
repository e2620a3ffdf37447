"""The small demo's virtual infrastructure: someone trying the Servers page on the demo sees hosts,
clusters and VMs that run the demo's own server installs, imported as a real export would be."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from seatledger.demo.builder import build_demo
from seatledger.progress import Reporter
from seatledger.services.core.context import Context
from seatledger.services.ledger import verify as ledger
from seatledger.services.ledger.state import verify_state
from seatledger.services.servers.service import ServerService
from seatledger.store.db import Database
from seatledger.store.models import ImportBatch, LedgerEntry


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database, str, list[str]]]:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite"
    stages: list[str] = []
    summary = build_demo(str(path), "small", progress=Reporter(stage=stages.append))
    db, _ = Database.open(path, create=False)
    yield db, summary, stages
    db.dispose()


def test_the_demo_runs_its_servers_on_hosts_in_three_clusters(
    built: tuple[Database, str, list[str]],
) -> None:
    db, summary, stages = built
    assert "Servers" in stages
    assert summary.endswith("; 7 hosts in 3 clusters running 11 VMs")
    topology = ServerService(Context.reader(db)).state().topology
    assert len(topology.hosts) == 7
    assert set(topology.clusters) == {"EU-Prod", "US-Prod", "APAC-Prod"}
    assert len(topology.vms) == 11
    position = ServerService(Context.reader(db)).position()
    assert (position.hosts, position.clusters, position.vms, position.running) == (7, 3, 11, 11)
    # The two servers of 64 cores stay physical; each VM is one of the demo's servers, so what
    # is installed on it counts.
    position = ServerService(Context.reader(db)).position()
    required = {line.product: line.required for line in position.lines}
    assert required["Windows Server"] > 0
    assert required["SQL Server"] > 0
    # Oracle on db-ams-00001, a VM of the EU cluster (hosts of 64, 40 and 56 cores), and on the
    # physical web-lon-00001 (32 cores), all AMD or Intel at 0.5: (64 + 40 + 56 + 32) x 0.5.
    assert required["Database Enterprise Edition"] == 96
    assert position.physical == 22


def test_the_topology_is_one_recorded_import_that_verifies(
    built: tuple[Database, str, list[str]],
) -> None:
    db, _, _ = built
    with db.read() as session:
        actions = session.scalars(
            select(LedgerEntry.action).where(LedgerEntry.action == "import.topology")
        ).all()
        batches = session.scalar(
            select(func.count()).select_from(ImportBatch).where(ImportBatch.kind == "topology")
        )
    assert len(actions) == 1
    assert batches == 1
    assert ledger.verify(db).ok
    assert verify_state(db).ok
