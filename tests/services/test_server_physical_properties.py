"""Adding a physical server never lowers a requirement (issue 19's property, for servers that
run their OS directly): drawn by Hypothesis over a small topology and any physical servers, the
position is computed in memory (no database)."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from seatledger.domain.server.topology import VM, Host, PhysicalServer, Topology
from seatledger.services.servers.position import ServerState, compute

PRODUCTS = (
    ("Microsoft", "SQL Server 2022 Standard", 1),
    ("Oracle", "Oracle Database Enterprise Edition", 2),
    ("IBM", "Db2", 3),
)
XEON = "Intel(R) Xeon(R) Gold 6226R CPU @ 2.90GHz"
TOPOLOGY = Topology.of(
    [Host("h1", 2, 16, XEON, "c1"), Host("h2", 2, 16, XEON, "c1"), Host("h3", 1, 8, XEON)],
    [
        VM("win1", 4, "h1", "c1", os="Windows Server 2022 Standard"),
        VM("win2", 2, "h3", os="Windows Server 2019 Datacenter"),
        VM("rhel1", 2, "h2", "c1", os="Red Hat Enterprise Linux 9"),
        VM("db1", 8, "h2", "c1", os="Windows Server 2022 Standard"),
    ],
)
VM_PRODUCTS = {"db1": frozenset(PRODUCTS)}


@st.composite
def servers(draw: st.DrawFn, name: str) -> tuple[PhysicalServer, frozenset[tuple[str, str, int]]]:
    processors = draw(st.one_of(st.none(), st.integers(1, 4)))
    per_socket = draw(st.integers(1, 40))
    cores = draw(st.sampled_from((None, (processors or 1) * per_socket, per_socket + 1)))
    server = PhysicalServer(
        name,
        draw(
            st.sampled_from(
                (
                    "Windows Server 2022 Datacenter",
                    "Microsoft Windows Server 2019 Standard",
                    "Red Hat Enterprise Linux 9.3",
                    "SUSE Linux Enterprise Server 15",
                )
            )
        ),
        processors,
        cores,
        draw(st.sampled_from((XEON, "AMD EPYC 7313", None))),
    )
    return server, frozenset(draw(st.lists(st.sampled_from(PRODUCTS), max_size=3)))


def _state(physical: list[tuple[PhysicalServer, frozenset[tuple[str, str, int]]]]) -> ServerState:
    return ServerState(
        dt.date(2026, 12, 7),
        TOPOLOGY,
        VM_PRODUCTS,
        (),
        (),
        physical=tuple(server for server, _ in physical),
        physical_products={server.name: found for server, found in physical},
    )


@settings(max_examples=150, deadline=None)
@given(
    st.integers(0, 4).flatmap(lambda n: st.tuples(*(servers(f"p{i}") for i in range(n)))),
    servers("added"),
)
def test_adding_a_physical_server_never_lowers_a_requirement(
    existing: tuple[tuple[PhysicalServer, frozenset[tuple[str, str, int]]], ...],
    added: tuple[PhysicalServer, frozenset[tuple[str, str, int]]],
) -> None:
    before = compute(_state(list(existing)))
    after = compute(_state([*existing, added]))
    for line in before.lines:
        grown = after.line(line.family, line.product)
        assert grown is not None
        assert grown.required >= line.required, (line.family, line.product)
        assert len(grown.unknown) >= len(line.unknown)
    assert after.physical == before.physical + 1
