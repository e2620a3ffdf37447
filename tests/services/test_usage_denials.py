"""Refused checkouts from a FlexNet debug log: kept line by line, a finding where the pool was
too small, and the lines behind it.

The fixture is ``tests/data/flexlm_log/v11_16_mlm_two_days.log``: MATLAB is refused to dfox on
3/2 at 9:03:44 (line 21) and 9:40:27 (line 23) and to egray on 3/3 at 8:11:12 (line 43), each
"Licensed number of users already reached (-4)"; SIMULINK is refused to egray on 3/3 at 8:30:00
(line 44) because of an EXCLUDE list, which says nothing about the pool's size.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from seatledger.ingest import flexlm_log
from seatledger.ingest.formats import Kind
from seatledger.ingest.tabular import sniff
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Finding, FindingKind

LOG = Path(__file__).parents[1] / "data" / "flexlm_log" / "v11_16_mlm_two_days.log"
AS_OF = dt.date(2026, 3, 3)


def _utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


def _refused(services: Services, as_of: dt.date = AS_OF) -> list[Finding]:
    position = services.position.position(as_of)
    return [f for f in position.findings if f.kind is FindingKind.DENIED]


def _map(services: Services, *features: str) -> dict[str, int]:
    vendor = services.catalog.add_vendor("MathWorks")
    found = {}
    for feature in features:
        found[feature] = services.catalog.add_product(vendor, feature)
        services.rules.add(RuleInput(found[feature], feature))
    return found


def test_the_reader_keeps_every_denial_with_its_line_and_reason() -> None:
    log, records = flexlm_log.read_debug_log(sniff(LOG), [])
    list(records)
    read = [(d.line, d.when, d.feature, d.user, d.host, d.capacity, d.nth) for d in log.denials]
    assert read == [
        (21, _utc(2026, 3, 2, 9, 3, 44), "MATLAB", "dfox", "ws-110", True, 1),
        (23, _utc(2026, 3, 2, 9, 40, 27), "MATLAB", "dfox", "ws-110", True, 1),
        (43, _utc(2026, 3, 3, 8, 11, 12), "MATLAB", "egray", "ws-115", True, 1),
        (44, _utc(2026, 3, 3, 8, 30, 0), "SIMULINK", "egray", "ws-115", False, 1),
    ]
    assert "EXCLUDE list" in log.denials[3].reason


def test_the_same_refusal_twice_in_one_second_is_kept_twice(tmp_path: Path) -> None:
    path = tmp_path / "twice.log"
    line = (
        ' 9:03:44 (MLM) DENIED: "MATLAB" dfox@ws-110  (Licensed number of users already '
        "reached. (-4,342))\n"
    )
    path.write_text(" 8:00:00 (lmgrd) TIMESTAMP 3/2/2026\n" + line + line)
    log, records = flexlm_log.read_debug_log(sniff(path), [])
    list(records)
    assert [(d.line, d.nth) for d in log.denials] == [(2, 1), (3, 2)]


def test_a_full_pool_is_a_finding_with_the_lines_behind_it(admin: Services) -> None:
    products = _map(admin, "MATLAB", "SIMULINK")
    admin.imports.commit(LOG, ImportOptions(Kind.USAGE))
    [finding] = _refused(admin)
    assert finding.product_id == products["MATLAB"]  # SIMULINK's EXCLUDE is not about the pool
    assert finding.count == 3
    assert finding.text == (
        "the license server refused 3 checkouts in 90 days because every license was out "
        "(last 2026-03-03 08:11): more people needed it at once than it could serve"
    )
    rows = admin.position.finding_rows(finding, AS_OF, 0)
    assert [(h.kind, h.name, h.since, h.detail) for h in rows] == [
        ("user", "egray", "2026-03-03 08:11", f"refused on ws-115 ({LOG.name}, line 43)"),
        ("user", "dfox", "2026-03-02 09:40", f"refused on ws-110 ({LOG.name}, line 23)"),
        ("user", "dfox", "2026-03-02 09:03", f"refused on ws-110 ({LOG.name}, line 21)"),
    ]
    # Out of the 90-day window, and before the first refusal, there is nothing to say.
    assert _refused(admin, AS_OF + dt.timedelta(days=91)) == []
    assert _refused(admin, dt.date(2026, 3, 1)) == []


def test_a_longer_copy_of_the_log_keeps_each_refusal_once(admin: Services, tmp_path: Path) -> None:
    _map(admin, "MATLAB")
    admin.imports.commit(LOG, ImportOptions(Kind.USAGE))
    longer = tmp_path / LOG.name
    longer.write_text(
        LOG.read_text()
        + '11:00:00 (MLM) DENIED: "MATLAB" hlin@ws-120  (Licensed number of users already '
        "reached. (-4,342))\n"
    )
    admin.imports.commit(longer, ImportOptions(Kind.USAGE))
    [finding] = _refused(admin)
    assert finding.count == 4  # the three again, once each, and hlin's


def test_a_rule_added_after_the_import_maps_the_refusals_too(admin: Services) -> None:
    admin.imports.commit(LOG, ImportOptions(Kind.USAGE))
    assert _refused(admin) == []  # no rule maps MATLAB to a product yet
    products = _map(admin, "MATLAB")
    [finding] = _refused(admin)
    assert (finding.product_id, finding.count) == (products["MATLAB"], 3)
