"""Data settings: the snapshot interval and the import age warning are the organization's, set by
an administrator (ledgered), and drive the position's session ends and the freshness warnings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import PASSWORD, last_entry
from seatledger import cli
from seatledger.domain.licensing import Metric
from seatledger.domain.roles import Role
from seatledger.errors import PermissionDenied, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.audits import service as audit_service
from seatledger.services.audits.bundle.model import Trigger
from seatledger.services.catalog.service import EntitlementInput
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.services.settings.service import DataSettings
from seatledger.services.usage.sessions import sampling_interval

TODAY = dt.date.today()
HR = "Employee ID,Full Name,Email Address\nE1,Ann Lee,ann@example.com\n"


def test_the_defaults_and_a_ledgered_change(admin: Services) -> None:
    assert admin.settings.data() == DataSettings(sampling_hours=24, freshness_days=30)
    admin.settings.save_data(DataSettings(sampling_hours=4, freshness_days=30), "every 4 hours")
    entry = last_entry(admin.db)
    assert (entry["action"], entry["reason"]) == ("settings.data", "every 4 hours")
    assert (entry["before"], entry["after"]) == ({"sampling_hours": 24}, {"sampling_hours": 4})
    assert admin.settings.data().sampling_hours == 4
    with admin.db.read() as session:
        assert sampling_interval(session) == dt.timedelta(hours=4)  # what the position reads


def test_only_administrators_change_them_within_bounds(
    admin: Services, as_role: Callable[[Role], Services]
) -> None:
    with pytest.raises(PermissionDenied):
        as_role(Role.LICENSE_MANAGER).settings.save_data(DataSettings(12, 30))
    with pytest.raises(ValidationError, match="Snapshot interval"):
        admin.settings.save_data(DataSettings(0, 30))
    with pytest.raises(ValidationError, match="Import age warning"):
        admin.settings.save_data(DataSettings(24, 5000))
    assert admin.settings.data() == DataSettings()


def test_imports_older_than_the_setting_are_warned_about(admin: Services, tmp_path: Path) -> None:
    hr = tmp_path / "hr.csv"
    hr.write_text(HR, encoding="utf-8")
    admin.imports.commit(hr, ImportOptions(Kind.PEOPLE))
    later = TODAY + dt.timedelta(days=40)
    ages = {s.kind: s for s in admin.settings.sources(later)}
    assert (ages["people"].age_days, ages["people"].stale) == (40, True)
    assert ages["inventory"].newest is None
    assert not ages["inventory"].stale  # never imported is said apart, not "old"

    vendor = admin.catalog.add_vendor("Contoso")
    audit = admin.audits.start(vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    admin.audits.set_scope(audit, vendor_id=vendor, as_of=later, shelf_days=90)
    topics = {w.topic: w.text for w in admin.audits.freshness(audit)}
    assert topics["people"].startswith("The newest HR import is 40 days old on the audit date")
    admin.settings.save_data(DataSettings(freshness_days=60))
    assert "people" not in {w.topic for w in admin.audits.freshness(audit)}


def test_the_command_line_shows_and_sets_them(
    admin: Services, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)
    url = admin.db.url
    assert cli.main(["settings", "--db", url]) == 0
    out = capsys.readouterr().out
    assert "Snapshot interval: 24 hours\nImport age warning: after 30 days\n" in out
    assert "  inventory     never imported" in out
    assert cli.main(["settings", "set", "--sampling-hours", "6", "--db", url]) == 0
    assert "Snapshot interval: 6 hours" in capsys.readouterr().out
    assert cli.main(["settings", "set", "--db", url]) == 2
    assert "Give --sampling-hours and/or --freshness-days" in capsys.readouterr().err


def test_each_kind_of_import_is_warned_about_missing_or_old_in_its_own_words(
    admin: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    vendor = admin.catalog.add_vendor("Contoso")
    product = admin.catalog.add_product(vendor, "Sim")
    audit = admin.audits.start(vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)

    def texts(newest: dict[str, dt.datetime]) -> list[tuple[str, str]]:
        monkeypatch.setattr(
            audit_service, "_latest_import", lambda _s, kinds, _day: newest.get(kinds[0])
        )
        return [(w.topic, w.text) for w in admin.audits.freshness(audit)]

    # Nothing imported: inventory is missed, HR is not; usage only once a license is concurrent.
    none = "No inventory was imported by the audit date: installs are not counted."
    assert texts({}) == [("inventory", none)]
    admin.catalog.add_entitlement(EntitlementInput(product, Metric.CONCURRENT, 2))
    assert texts({}) == [
        ("inventory", none),
        (
            "usage",
            "No license-server usage was imported by the audit date: concurrent licenses show "
            "no checkouts.",
        ),
    ]
    old = dt.datetime.combine(TODAY - dt.timedelta(days=31), dt.time(9), tzinfo=dt.UTC)
    on = f"31 days old on the audit date ({old.date().isoformat()})"
    assert texts({"inventory": old, "people": old, "usage": old}) == [
        ("inventory", f"The newest inventory import is {on}; installs since then are not counted."),
        (
            "people",
            f"The newest HR import is {on}; people who left since still count as staff and "
            "their seats are not findings.",
        ),
        ("usage", f"The newest usage import is {on}; later checkouts are not counted."),
    ]
    fresh = old + dt.timedelta(days=1)  # 30 days: the setting's limit, not over it
    assert texts({"inventory": fresh, "people": fresh, "usage": fresh}) == []
