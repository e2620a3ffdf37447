"""The metrics engine against hand-computed cases (metrics as defined in docs/glossary.md)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from seatledger.domain import metrics
from seatledger.domain.licensing import (
    Metric,
    UnitTable,
    core_rate,
    units_for_device,
    unknown_hardware,
)
from seatledger.domain.metrics import Deployment, Machine, Session

T0 = dt.datetime(2026, 3, 2, 8, 0)


def at(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


def test_per_device_counts_devices_not_installs() -> None:
    # Device 1 has the product twice (two versions), device 2 once: two rights.
    assert metrics.unique_devices([1, 1, 2]) == 2
    assert metrics.unique_devices([]) == 0


def test_named_user_counts_people_not_installs() -> None:
    # One person with three installs is one right.
    assert metrics.unique_people([7, 7, 7, 9]) == 2


def test_concurrent_peak_over_a_day() -> None:
    sessions = [
        Session("ana", at(0), at(4)),  # 08-12
        Session("ben", at(1), at(2)),  # 09-10
        Session("cy", at(1.5), at(3)),  # 09:30-11  -> three at once from 09:30
        Session("dee", at(2), at(5)),  # 10-13: ben hands over at 10, still three
        Session("eve", at(6), None),  # 14-, still out at the period end
    ]
    peak = metrics.concurrent_peak(sessions, at(0), at(10))
    assert peak == metrics.Peak(3, at(1.5))


def test_concurrent_handover_at_the_same_instant_is_not_an_overlap() -> None:
    sessions = [Session("a", at(0), at(1)), Session("b", at(1), at(2))]
    assert metrics.concurrent_peak(sessions, at(0), at(3)).count == 1


def test_concurrent_peak_clips_to_the_period() -> None:
    sessions = [Session("a", at(-5), at(-1)), Session("b", at(-1), at(1))]
    assert metrics.concurrent_peak(sessions, at(0), at(3)) == metrics.Peak(1, at(0))


def test_per_core_with_minimum_per_processor_and_core_factor() -> None:
    small = Machine(1, processors=2, cores=8)  # 2 x 16 minimum = 32 cores counted
    big = Machine(2, processors=2, cores=48)  # 48 cores
    assert metrics.per_core([small, big], min_cores_per_processor=16) == 32 + 48
    # A 0.5 core factor halves, each device rounded up on its own: ceil(7*0.5)=4, ceil(48*.5)=24
    odd = Machine(3, processors=1, cores=7)
    assert metrics.per_core([odd, big], core_factor=Decimal("0.5")) == 4 + 24
    # The same device listed twice is counted once.
    assert metrics.per_core([big, big]) == 48


def test_per_processor_counts_sockets() -> None:
    assert metrics.per_processor([Machine(1, 2, 16), Machine(2, 1, 4), Machine(1, 2, 16)]) == 3


def test_units_per_core_follow_the_processor_model_by_the_purchases_table() -> None:
    """IBM's PVU: 70 per core of an Intel Xeon, 120 per core of a POWER10.  A 2 x 16-core Xeon
    needs 32 x 70 = 2,240 PVUs; an 8-core POWER10 8 x 120 = 960: 3,200 together."""
    table = UnitTable.parse("Xeon=70; POWER10=120")
    assert table is not None
    xeon = core_rate(Decimal(1), table, "Intel(R) Xeon(R) Gold 6338 CPU @ 2.00GHz")
    power = core_rate(Decimal(1), table, "IBM POWER10")
    assert (xeon, power) == (Decimal(70), Decimal(120))
    assert units_for_device(Metric.PER_CORE, 2, 32, 0, xeon) == 2_240
    assert units_for_device(Metric.PER_CORE, 1, 8, 0, power) == 960
    # A processor the table does not rate, or a model nobody recorded, has no rate: such a
    # device is counted apart, never at a guessed one; without a table the factor applies.
    assert core_rate(Decimal(1), table, "AMD EPYC 7763") is None
    assert core_rate(Decimal(1), table, None) is None
    assert core_rate(Decimal("0.5"), None, None) == Decimal("0.5")
    assert unknown_hardware(Metric.PER_CORE, 1, 8, 0, rate_known=False) == "processor model"


def test_a_unit_table_matches_whole_words_or_patterns_and_says_what_it_cannot_read() -> None:
    table = UnitTable.parse(" Xeon = 0,5 ;EPYC*7003*=0.5\n*=1")
    assert table is not None
    assert table.text == "Xeon=0.5; EPYC*7003*=0.5; *=1"
    assert table.rate_for("intel xeon") == Decimal("0.5")
    assert table.rate_for("Intel Xeonic 9") == Decimal(1)  # a word, not a prefix
    assert table.rate_for("AMD EPYC 7003 series") == Decimal("0.5")
    assert table.rate_for("AMD EPYC 9004") == Decimal(1)
    assert UnitTable.parse("  ") is None
    for text, message in [
        ("Xeon 0.5", "is not 'processor class=units per core'"),
        ("Xeon=0", "above 0"),
        ("Xeon=lots", "above 0"),
        ("Xeon=1; xeon=2", "rated twice"),
    ]:
        with pytest.raises(ValueError, match=message):
            UnitTable.parse(text)


def test_subscriptions_report_both_mismatches() -> None:
    use = metrics.subscriptions(allocated=[1, 2, 3], using=[2, 3, 4])
    assert use.needed == 4
    assert use.allocated_unused == {1}
    assert use.used_unallocated == {4}


def test_site_and_employee_metrics_count_all_staff() -> None:
    assert metrics.required(Metric.SITE, Deployment(users=(1, 2), staff=1200)) == 1200


def test_required_dispatches_every_metric() -> None:
    deployment = Deployment(
        installs=(1, 1, 2),
        users=(5, 5, 6),
        machines=(Machine(1, 2, 8), Machine(2, 1, 4)),
        sessions=(Session("a", at(0), at(2)), Session("b", at(1), at(3))),
        staff=300,
        min_cores_per_processor=4,
        period=(at(0), at(8)),
    )
    expected = {
        Metric.PER_DEVICE: 2,
        Metric.PER_USER: 2,
        Metric.CONCURRENT: 2,
        Metric.PER_CORE: 8 + 4,
        Metric.PER_PROCESSOR: 3,
        Metric.SUBSCRIPTION: 2,
        Metric.SITE: 300,
    }
    assert {metric: metrics.required(metric, deployment) for metric in Metric} == expected


def test_concurrent_needs_a_period() -> None:
    with pytest.raises(ValueError, match="period"):
        metrics.required(Metric.CONCURRENT, Deployment())
