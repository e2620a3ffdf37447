"""Normalization rules through the service: each edit is one ledger entry and re-maps at once."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import last_entry, ledger_size, sqlite_only
from seatledger.domain.normalization import MatchKind
from seatledger.domain.roles import Role
from seatledger.errors import NotFoundError, PermissionDenied, ValidationError
from seatledger.ingest.formats import Kind
from seatledger.services.imports.options import ImportOptions
from seatledger.services.imports.rules import RuleInput, Unmatched
from seatledger.services.operators.session import Services
from seatledger.store.models import NormalizationRule, Product, SoftwareTitle

# The rules' logic does not depend on the engine: their tests are sqlite_only.

INVENTORY = (
    "Host name,Publisher,Title,Version\n"
    "WS-1,Adobe,Adobe Acrobat DC,24.1\n"
    "WS-2,Adobe,Adobe Acrobat DC,24.2\n"
    "WS-3,Adobe,Adobe Acrobat DC,24.2\n"
    "WS-1,Adobe,Adobe Acrobat Reader,24.1\n"
    "WS-1,Microsoft Corporation,Microsoft Visio Professional 2021,16.0.1\n"
    "WS-2,Microsoft Corporation,Microsoft Visio Standard 2021,16.0.1\n"
    "WS-1,Igor Pavlov,7-Zip 23.01 (x64),23.01\n"
)


def mapped(services: Services) -> dict[tuple[str, str], str | None]:
    """(title, version) -> product name."""
    with services.db.read() as session:
        rows = session.execute(
            select(SoftwareTitle.title, SoftwareTitle.version, Product.name).outerjoin(
                Product, Product.id == SoftwareTitle.product_id
            )
        ).all()
    return {(r[0], r[1]): r[2] for r in rows}


@pytest.fixture
def inventory(admin: Services, tmp_path: Path) -> dict[str, int]:
    """The inventory above imported, and three products to map it to."""
    path = tmp_path / "inventory.csv"
    path.write_text(INVENTORY)
    admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    adobe = admin.catalog.add_vendor("Adobe")
    microsoft = admin.catalog.add_vendor("Microsoft")
    return {
        "acrobat": admin.catalog.add_product(adobe, "Acrobat Pro"),
        "acrobat 24.2": admin.catalog.add_product(adobe, "Acrobat Pro 24.2+"),
        "visio": admin.catalog.add_product(microsoft, "Visio"),
    }


@sqlite_only
def test_unmatched_lists_titles_with_versions_and_installs(
    admin: Services, inventory: dict[str, int]
) -> None:
    assert admin.rules.unmatched() == [
        Unmatched("Adobe", "Adobe Acrobat DC", 2, 3),
        Unmatched("Igor Pavlov", "7-Zip 23.01 (x64)", 1, 1),
        Unmatched("Adobe", "Adobe Acrobat Reader", 1, 1),
        Unmatched("Microsoft Corporation", "Microsoft Visio Professional 2021", 1, 1),
        Unmatched("Microsoft Corporation", "Microsoft Visio Standard 2021", 1, 1),
    ]
    assert len(admin.rules.unmatched(limit=2)) == 2


def test_add_maps_titles_at_once_in_one_ledger_entry(
    admin: Services, inventory: dict[str, int]
) -> None:
    size = ledger_size(admin.db)
    rule_id, remapped = admin.rules.add(RuleInput(inventory["acrobat"], " adobe acrobat dc "))
    assert remapped == 2  # two versions, three installs
    assert ledger_size(admin.db) == size + 1
    entry = last_entry(admin.db)
    assert (entry["action"], entry["entity_id"]) == ("rule.create", str(rule_id))
    assert entry["after"]["title"] == "adobe acrobat dc"
    assert entry["after"]["titles_remapped"] == 2
    assert mapped(admin)[("Adobe Acrobat DC", "24.1")] == "Acrobat Pro"
    assert mapped(admin)[("Adobe Acrobat Reader", "24.1")] is None
    assert admin.rules.unmatched()[0].title == "7-Zip 23.01 (x64)"
    [row] = admin.rules.rules()
    assert (row.id, row.product, row.vendor, row.kind, row.created_by) == (
        rule_id,
        "Acrobat Pro",
        "Adobe",
        MatchKind.EXACT,
        "admin",
    )


@sqlite_only
def test_wildcard_regex_version_range_and_priority(
    admin: Services, inventory: dict[str, int]
) -> None:
    admin.rules.add(
        RuleInput(
            inventory["visio"],
            r"Microsoft Visio (Professional|Standard) \d{4}",
            kind=MatchKind.REGEX,
        )
    )
    admin.rules.add(
        RuleInput(inventory["acrobat"], "Adobe Acrobat*", "ado*", kind=MatchKind.WILDCARD)
    )
    # A newer Acrobat DC is another product, whatever the broader rule says.
    admin.rules.add(
        RuleInput(inventory["acrobat 24.2"], "Adobe Acrobat DC", version_min="24.2", priority=5)
    )
    assert mapped(admin) == {
        ("Adobe Acrobat DC", "24.1"): "Acrobat Pro",
        ("Adobe Acrobat DC", "24.2"): "Acrobat Pro 24.2+",
        ("Adobe Acrobat Reader", "24.1"): "Acrobat Pro",
        ("Microsoft Visio Professional 2021", "16.0.1"): "Visio",
        ("Microsoft Visio Standard 2021", "16.0.1"): "Visio",
        ("7-Zip 23.01 (x64)", "23.01"): None,
    }
    assert [r.priority for r in admin.rules.rules()] == [5, 0, 0]


@sqlite_only
def test_add_many_maps_several_titles_in_one_entry(
    admin: Services, inventory: dict[str, int]
) -> None:
    size = ledger_size(admin.db)
    remapped = admin.rules.add_many(
        inventory["visio"],
        [
            ("Microsoft Corporation", "Microsoft Visio Professional 2021"),
            ("Microsoft Corporation", "Microsoft Visio Standard 2021"),
        ],
    )
    assert remapped == 2
    assert ledger_size(admin.db) == size + 1
    assert len(last_entry(admin.db)["after"]["rules"]) == 2
    assert {u.title for u in admin.rules.unmatched()} == {
        "Adobe Acrobat DC",
        "Adobe Acrobat Reader",
        "7-Zip 23.01 (x64)",
    }


def test_delete_maps_titles_back(admin: Services, inventory: dict[str, int]) -> None:
    rule_id, _ = admin.rules.add(RuleInput(inventory["acrobat"], "Adobe Acrobat DC"))
    size = ledger_size(admin.db)
    assert admin.rules.delete(rule_id, "mapped by mistake") == 2
    assert ledger_size(admin.db) == size + 1
    entry = last_entry(admin.db)
    assert (entry["action"], entry["reason"]) == ("rule.delete", "mapped by mistake")
    assert entry["before"]["title"] == "Adobe Acrobat DC"
    assert set(mapped(admin).values()) == {None}
    with pytest.raises(NotFoundError):
        admin.rules.delete(rule_id)


@sqlite_only
def test_later_imports_use_the_rules(
    admin: Services, inventory: dict[str, int], tmp_path: Path
) -> None:
    admin.rules.add(RuleInput(inventory["visio"], "Microsoft Visio*", kind=MatchKind.WILDCARD))
    path = tmp_path / "more.csv"
    path.write_text("Host name,Title,Version\nWS-9,Microsoft Visio Plan 2,16.1\n")
    admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    assert mapped(admin)[("Microsoft Visio Plan 2", "16.1")] == "Visio"


_BAD_RULES = [
    (RuleInput(999, "Anything"), "Choose the product"),
    (RuleInput(0, "   "), "needs a title"),
    (RuleInput(0, "Adobe (", kind=MatchKind.REGEX), "not a valid regular expression"),
    (RuleInput(0, "Acrobat", version_min="24", version_max="23"), "is empty"),
    (RuleInput(0, "A" * 501), "Title is 501 characters long; the limit is 500"),
    (RuleInput(0, "Acrobat", "P" * 301), "Publisher is 301 characters long; the limit is 300"),
    (RuleInput(0, "Acrobat", version_min="1" * 101), "Version from is 101 characters long"),
]


@sqlite_only
def test_bad_rules_are_refused_and_change_nothing(
    admin: Services, inventory: dict[str, int]
) -> None:
    size = ledger_size(admin.db)
    for data, message in _BAD_RULES:
        rule = (
            data if data.product_id else dataclasses.replace(data, product_id=inventory["acrobat"])
        )
        with pytest.raises(ValidationError, match=message):
            admin.rules.add(rule)
    assert ledger_size(admin.db) == size
    with admin.db.read() as session:
        assert session.scalars(select(NormalizationRule)).all() == []


@sqlite_only
def test_add_many_refuses_bad_titles_and_no_titles(
    admin: Services, inventory: dict[str, int]
) -> None:
    size = ledger_size(admin.db)
    with pytest.raises(ValidationError, match="at least one"):
        admin.rules.add_many(inventory["visio"], [])
    with pytest.raises(ValidationError, match="title"):
        admin.rules.add_many(inventory["visio"], [("Microsoft", "Visio"), ("Microsoft", " ")])
    with pytest.raises(ValidationError, match="500"):
        admin.rules.add_many(inventory["visio"], [("Microsoft", "V" * 501)])
    with pytest.raises(ValidationError, match="product"):
        admin.rules.add_many(999, [("Microsoft", "Visio")])
    assert ledger_size(admin.db) == size
    assert admin.rules.rules() == []


@sqlite_only
def test_roles_without_license_rights_cannot_edit_rules(
    as_role: Callable[[Role], Services], inventory: dict[str, int]
) -> None:
    admin = as_role(Role.ADMINISTRATOR)
    rule_id, _ = admin.rules.add(RuleInput(inventory["acrobat"], "Adobe Acrobat DC"))
    size = ledger_size(admin.db)
    for role in (Role.VIEWER, Role.AUDITOR):
        services = as_role(role)
        with pytest.raises(PermissionDenied):
            services.rules.add(RuleInput(inventory["visio"], "Microsoft Visio*"))
        with pytest.raises(PermissionDenied):
            services.rules.add_many(inventory["visio"], [("Microsoft", "Visio")])
        with pytest.raises(PermissionDenied):
            services.rules.delete(rule_id)
        assert len(services.rules.rules()) == 1  # reading is allowed
    assert ledger_size(admin.db) == size + 2  # the two operators made
    manager = as_role(Role.LICENSE_MANAGER)
    assert manager.rules.delete(rule_id) == 2
