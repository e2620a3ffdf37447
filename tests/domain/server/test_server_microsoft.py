"""Windows Server and SQL Server rules against the worked examples of Microsoft's licensing guides
(and the figures of SAM tools' documentation that restate them), each computed by hand in the
test; docs/server-licensing.md cites every source."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from seatledger.domain.server import microsoft as ms
from seatledger.domain.server.microsoft import Edition
from seatledger.domain.server.topology import Host, Placement

# A 16-core license of Standard at about 1,070 and of Datacenter at about 6,200 (the prices a
# reseller's Windows Server 2022/2025 guide quotes), as prices of one core license.
STANDARD_CORE = Decimal("66.875")  # 1,070 / 16
DATACENTER_CORE = Decimal("387.5")  # 6,200 / 16
DAY0 = dt.datetime(2026, 1, 5, 9, 0, tzinfo=dt.UTC)


def day(n: int) -> dt.datetime:
    return DAY0 + dt.timedelta(days=n)


@pytest.mark.parametrize(
    ("processors", "cores_per_processor", "packs"),
    [
        (1, 2, 8),
        (1, 4, 8),
        (1, 6, 8),
        (1, 8, 8),
        (1, 10, 8),
        (2, 2, 8),
        (2, 4, 8),
        (2, 6, 8),
        (2, 8, 8),
        (2, 10, 10),
        (4, 2, 16),
        (4, 4, 16),
        (4, 6, 16),
        (4, 8, 16),
        (4, 10, 20),
    ],
)
def test_windows_core_licenses_reproduce_the_datasheet_table(
    processors: int, cores_per_processor: int, packs: int
) -> None:
    """Windows Server 2016 Licensing Datasheet, table "Number of 2-core pack licenses needed
    (minimum 8 cores/processor; 16 cores/server)": by hand, 1 × 10 cores is 10 < 16, so 16
    cores, 8 packs; 2 × 10 is 20, 10 packs; 4 × 4 is 16 but 8 per processor makes 32, 16 packs;
    4 × 10 is 40, 20 packs."""
    host = Host("h", processors, cores_per_processor)
    licenses = ms.windows_core_licenses(host)
    assert ms.two_core_packs(licenses) == packs
    assert licenses == 2 * packs


def test_minimums_per_processor_and_per_server() -> None:
    """A Windows Server licensing FAQ's two servers: 2 processors × 4 cores need the 16 of the
    server minimum; 4 processors × 4 cores meet the server minimum (16) but not 8 per
    processor, so 32."""
    assert ms.windows_core_licenses(Host("a", 2, 4)) == 16
    assert ms.windows_core_licenses(Host("b", 4, 4)) == 32
    # Beyond the minimums every physical core counts: 2 × 12 is 24 (12 packs).
    assert ms.windows_core_licenses(Host("c", 2, 12)) == 24


def test_standard_stacks_for_every_two_more_vms_datacenter_does_not() -> None:
    """Licensing guide, "Standard edition": two OSEs when all cores are licensed, "for every two
    additional VMs, all the cores in the server have to be licensed again"."""
    host = Host("esx01", 2, 8)
    standard = [ms.windows_edition_licenses(host, n, Edition.STANDARD) for n in range(6)]
    assert standard == [0, 16, 16, 32, 32, 48]
    datacenter = [ms.windows_edition_licenses(host, n, Edition.DATACENTER) for n in range(6)]
    assert datacenter == [0, 16, 16, 16, 16, 16]
    with pytest.raises(ValueError, match="0 or more OSEs"):
        ms.windows_edition_licenses(host, -1, Edition.DATACENTER)


def test_cheapest_edition_turns_to_datacenter_beyond_ten_vms() -> None:
    """ "Datacenter only starts to become cost effective if the customer wishes to run more than
    10 VMs per server" (a partner's summary of the licensing guide).  By hand on a 16-core host:
    10 VMs are 5 Standard licensings × 1,070 = 5,350 < 6,200; 11 VMs are 6 × 1,070 = 6,420 >
    6,200."""
    host = Host("esx01", 2, 8)
    ten = ms.cheapest_windows_edition(host, 10, STANDARD_CORE, DATACENTER_CORE)
    assert ten.edition is Edition.STANDARD
    assert (ten.standard_cost, ten.datacenter_cost) == (Decimal(5350), Decimal(6200))
    assert ten.licenses == 80
    assert "Standard is cheaper by 850.00" in ten.reason
    eleven = ms.cheapest_windows_edition(host, 11, STANDARD_CORE, DATACENTER_CORE)
    assert eleven.edition is Edition.DATACENTER
    assert (eleven.standard_cost, eleven.datacenter_cost) == (Decimal(6420), Decimal(6200))
    assert eleven.cost == Decimal(6200)
    assert eleven.licenses == 16
    assert "Datacenter is cheaper by 220.00" in eleven.reason
    assert "16 core licenses × 6 for 11 Windows Server OSEs" in eleven.reason


def test_equal_cost_picks_datacenter_and_no_windows_picks_nothing() -> None:
    host = Host("esx01", 2, 8)
    tie = ms.cheapest_windows_edition(host, 4, Decimal(10), Decimal(20))
    assert tie.edition is Edition.DATACENTER
    assert "both cost the same" in tie.reason
    none = ms.cheapest_windows_edition(host, 0, STANDARD_CORE, DATACENTER_CORE)
    assert none.edition is None
    assert (none.licenses, none.cost) == (0, Decimal(0))


def test_the_reason_says_when_the_minimum_counted() -> None:
    small = ms.cheapest_windows_edition(Host("tiny", 1, 4), 2, STANDARD_CORE, DATACENTER_CORE)
    assert "its 4 cores counted at the minimum" in small.reason
    full = ms.cheapest_windows_edition(Host("big", 2, 8), 2, STANDARD_CORE, DATACENTER_CORE)
    assert "counted at the minimum" not in full.reason


def test_a_cluster_licenses_every_host_for_every_vm_that_may_move_there() -> None:
    """Three hosts of 2 × 8 cores and 12 Windows VMs free to move: each host must be licensed
    for 12, so Standard would be 6 licensings × 16 × 3 hosts = 288 core licenses (19,260) and
    Datacenter 16 × 3 = 48 (18,600): Datacenter on every host."""
    hosts = [Host(f"esx0{i}", 2, 8, cluster="prod") for i in range(1, 4)]
    choice = ms.cheapest_windows_for_cluster(hosts, 12, STANDARD_CORE, DATACENTER_CORE)
    assert [c.edition for c in choice.hosts] == [Edition.DATACENTER] * 3
    assert choice.standard_cost == Decimal(19260)
    assert choice.datacenter_cost == Decimal(18600)
    assert choice.cost == Decimal(18600)
    assert choice.reason.count("\n") == 2


def test_reassignment_within_90_days_is_a_finding() -> None:
    """Product Terms: a license is reassigned to another server at most once in 90 days without
    License Mobility.  sql01 moves on day 10 (its first move), again on day 40 (30 days later: a
    finding) and on day 131 (91 days after day 40: allowed); staying on a host is no move."""
    history = [
        Placement("sql01", "esx01", day(0), day(10)),
        Placement("sql01", "esx02", day(10), day(40)),
        Placement("sql01", "esx03", day(40), day(131)),
        Placement("sql01", "esx03", day(131), day(140)),  # a restart on the same host
        Placement("sql01", "esx04", day(140)),  # 100 days after day 40
        Placement("web01", "esx01", day(0), day(5)),
        Placement("web01", "esx02", day(5)),
    ]
    found = ms.reassignments_too_soon(history)
    assert [(r.vm, r.from_host, r.to_host, r.days) for r in found] == [
        ("sql01", "esx02", "esx03", 30)
    ]
    assert "30 days after its move on 2026-01-15" in found[0].reason
    assert ms.reassignments_too_soon(history, mobility=True) == []


def test_a_host_stays_licensed_for_vms_that_left_it_within_90_days() -> None:
    """A SAM vendor's example (Matrix42, SQL Server Enterprise without mobility): VM1-VM3 run on
    the host, VM4 is off, VM5 moved away 30 days ago and VM6 95 days ago: the host is licensed
    for VM1, VM2, VM3 and VM5."""
    now = day(200)
    history = [
        *(Placement(f"VM{i}", "esx01", day(0)) for i in (1, 2, 3)),
        Placement("VM5", "esx01", day(0), now - dt.timedelta(days=30)),
        Placement("VM5", "esx02", now - dt.timedelta(days=30)),
        Placement("VM6", "esx01", day(0), now - dt.timedelta(days=95)),
        Placement("VM6", "esx02", now - dt.timedelta(days=95)),
    ]
    assert ms.vms_within_reassignment_window(history, "esx01", now) == (
        "VM1",
        "VM2",
        "VM3",
        "VM5",
    )


def test_sql_physical_cores_with_four_per_processor() -> None:
    """SQL Server licensing guide, physical environments: all cores, at least 4 per processor.
    The host of Matrix42's example (4 dual-core processors, 8 cores) needs 4 × 4 = 16 core
    licenses by the rule; "a 7 core server … would still need 4 licenses" (a DBA's summary of
    the 2-core packs): 7 core licenses, 4 packs."""
    assert ms.sql_physical_core_licenses(Host("esx", 4, 2)) == 16
    seven = ms.sql_physical_core_licenses(Host("box", 1, 7))
    assert (seven, ms.two_core_packs(seven)) == (7, 4)
    assert ms.sql_physical_core_licenses(Host("two", 2, 12)) == 24


def test_sql_per_vm_has_a_minimum_of_four() -> None:
    """ "Licensing individual virtual machines": the virtual cores of the VM, at least four."""
    assert [ms.sql_vm_core_licenses(n) for n in (1, 2, 4, 6)] == [4, 4, 4, 6]
    with pytest.raises(ValueError, match="1 virtual core or more"):
        ms.sql_vm_core_licenses(0)


def test_enterprise_with_sa_licenses_the_host_when_that_is_fewer() -> None:
    """ "Licensing for maximum virtualization": Enterprise core licenses with SA on all physical
    cores cover unlimited VMs.  A 2 × 8 host: five 4-vCPU VMs need 20 per VM, the host 16, so
    the host; three 2-vCPU VMs need 3 × 4 = 12 per VM, fewer than 16."""
    host = Host("esx01", 2, 8)
    five = ms.sql_server_per_core(host, [4] * 5, enterprise_with_sa=True)
    assert (five.per_vm, five.per_host, five.licenses) == (20, 16, 16)
    assert "unlimited VMs is fewer than per VM" in five.reason
    three = ms.sql_server_per_core(host, [2, 2, 2], enterprise_with_sa=True)
    assert (three.per_vm, three.per_host, three.licenses) == (12, 16, 12)
    standard = ms.sql_server_per_core(host, [4] * 5, enterprise_with_sa=False)
    assert (standard.per_host, standard.licenses) == (None, 20)
    assert "needs Enterprise with Software Assurance" in standard.reason


def test_server_plus_cal() -> None:
    """Server + CAL: a server license per OSE running SQL Server and a CAL per user or device."""
    assert ms.sql_server_plus_cal(3, 120, 15) == ms.ServerCal(3, 135)
    with pytest.raises(ValueError, match="0 or more"):
        ms.sql_server_plus_cal(-1, 1)


def test_an_edition_chosen_instead_of_the_cheaper_one() -> None:
    """A 2 × 16-core host running 2 Windows VMs: Standard once, 32 at 66.875 = 2,140.00, is
    cheaper than Datacenter's 32 at 387.50 = 12,400.00; licensed with Datacenter by choice it
    is those 32 Datacenter core licenses and their 12,400.00, and the reason says so."""
    host = Host("esx01", 2, 16)
    cheaper = ms.cheapest_windows_edition(host, 2, STANDARD_CORE, DATACENTER_CORE)
    assert (cheaper.edition, cheaper.licenses, cheaper.cost) == (
        Edition.STANDARD,
        32,
        Decimal("2140.000"),
    )
    chosen = ms.cheapest_windows_edition(
        host, 2, STANDARD_CORE, DATACENTER_CORE, edition=Edition.DATACENTER
    )
    assert (chosen.edition, chosen.licenses, chosen.cost) == (
        Edition.DATACENTER,
        32,
        Decimal("12400.0"),
    )
    assert "Standard is cheaper by 10,260.00; licensed with Datacenter as chosen instead" in (
        chosen.reason
    )
