"""Audits as records: every step in the ledger, resume state, decisions, schedules, due audits."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from conftest import PASSWORD, Org, ledger_size
from seatledger.domain.roles import Role
from seatledger.errors import AuthenticationError, PermissionDenied, ValidationError
from seatledger.services.audits.bundle.model import BundleResult, Checkpoint, Decision, Trigger
from seatledger.services.audits.service import AuditService, Status, Step, add_months, finding_key
from seatledger.services.operators.session import Services
from seatledger.services.position.engine import Finding, FindingKind, PositionService
from seatledger.store.models import LedgerEntry

TODAY = dt.date.today()


def _last_action(services: Services) -> tuple[str, str]:
    with services.db.read() as session:
        entry = session.scalars(select(LedgerEntry).order_by(LedgerEntry.seq.desc())).first()
    assert entry is not None
    return entry.action, entry.entity_id


@pytest.fixture
def departed(admin: Services, org: Org) -> Finding:
    """A seat of PDF Studio held by someone who left: one finding in Contoso's scope."""
    admin.seats.assign(org.acrobat, people=[org.people[0]])
    admin.directory.mark_left(org.people[0], TODAY - dt.timedelta(days=3))
    position = PositionService(admin.ctx).position(TODAY)
    [finding] = [f for f in position.findings if f.kind is FindingKind.DEPARTED]
    return finding


def test_start_records_a_draft_at_its_first_step(admin: Services, org: Org) -> None:
    before = ledger_size(admin.db)
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    assert ledger_size(admin.db) == before + 1
    assert _last_action(admin) == ("audit.start", str(audit_id))
    audit = admin.audits.get(audit_id)
    assert audit.status is Status.DRAFT
    assert audit.step is Step.SCOPE
    assert audit.owner == "admin"
    assert audit.vendor == "Contoso Software"
    assert audit.scope.products == ()
    assert [a.id for a in admin.audits.audits()] == [audit_id]


def test_suspicion_needs_a_reason(admin: Services, org: Org) -> None:
    with pytest.raises(ValidationError, match="needs a reason"):
        admin.audits.start(org.vendor, Trigger.SUSPICION)
    audit_id = admin.audits.start(
        org.vendor, Trigger.SUSPICION, reason="Seats look too few", product_ids=[_pdf(admin)]
    )
    audit = admin.audits.get(audit_id)
    assert audit.trigger_reason == "Seats look too few"
    assert audit.products == ("PDF Studio",)


def _pdf(services: Services) -> int:
    return next(i for i, n in services.audits.products(_vendor(services)) if n == "PDF Studio")


def _vendor(services: Services) -> int:
    return services.audits.vendors()[0][0]


def test_scheduled_needs_a_schedule(admin: Services, org: Org) -> None:
    with pytest.raises(ValidationError, match="no audit schedule"):
        admin.audits.start(org.vendor, Trigger.SCHEDULED)


def test_scope_products_must_be_the_vendors(admin: Services, org: Org) -> None:
    other = admin.catalog.add_vendor("Fabrikam")
    product = admin.catalog.add_product(other, "Paint")
    with pytest.raises(ValidationError, match="not this vendor"):
        admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST, product_ids=[product])


def test_every_step_is_a_ledger_entry_and_resume_state(
    admin: Services, org: Org, departed: Finding
) -> None:
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    size = ledger_size(admin.db)
    admin.audits.set_scope(audit_id, vendor_id=org.vendor, as_of=TODAY, shelf_days=60)
    admin.audits.set_step(audit_id, Step.FRESHNESS)
    warnings = admin.audits.freshness(audit_id)
    assert [w.topic for w in warnings] == ["inventory"]
    assert not warnings[0].acknowledged
    admin.audits.acknowledge(audit_id, "inventory", warnings[0].text)
    assert admin.audits.freshness(audit_id)[0].acknowledged_by == "admin"
    admin.audits.set_step(audit_id, Step.POSITION)
    admin.audits.set_step(audit_id, Step.FINDINGS)
    admin.audits.decide(
        audit_id, departed, Decision.REMEDIATE, owner="IT desk", due=TODAY + dt.timedelta(days=7)
    )
    admin.audits.set_step(audit_id, Step.ATTESTATION)
    admin.audits.attest(audit_id, "The position is complete to my knowledge.")
    admin.audits.set_step(audit_id, Step.SIGN)
    assert ledger_size(admin.db) == size + 9
    # a fresh service (the wizard reopened) sees where it stopped
    audit = AuditService(admin.ctx).get(audit_id)
    assert audit.step is Step.SIGN
    assert audit.status is Status.IN_REVIEW
    assert audit.shelf_days == 60
    decided = admin.audits.decisions(audit_id)[finding_key(departed)]
    assert decided.decision is Decision.REMEDIATE
    assert decided.owner == "IT desk"
    assert decided.decided_by == "admin"


def test_decisions_are_validated(admin: Services, org: Org, departed: Finding) -> None:
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    size = ledger_size(admin.db)
    due = TODAY + dt.timedelta(days=30)
    with pytest.raises(ValidationError, match="who remediates"):
        admin.audits.decide(audit_id, departed, Decision.REMEDIATE, due=due)
    with pytest.raises(ValidationError, match="date"):
        admin.audits.decide(audit_id, departed, Decision.REMEDIATE, owner="IT")
    with pytest.raises(ValidationError, match="reason for the dispute"):
        admin.audits.decide(audit_id, departed, Decision.DISPUTE)
    with pytest.raises(ValidationError, match="Explain"):
        admin.audits.decide(audit_id, departed, Decision.ACCEPT, explanation="  ")
    with pytest.raises(ValidationError, match="before the audit date"):
        admin.audits.decide(
            audit_id, departed, Decision.REMEDIATE, owner="IT", due=TODAY - dt.timedelta(days=1)
        )
    assert ledger_size(admin.db) == size
    admin.audits.decide(audit_id, departed, Decision.DISPUTE, explanation="She came back.")
    admin.audits.decide(audit_id, departed, Decision.ACCEPT, explanation="Released Monday.")
    decided = admin.audits.decisions(audit_id)
    assert len(decided) == 1
    assert decided[finding_key(departed)].decision is Decision.ACCEPT
    assert ledger_size(admin.db) == size + 2


def test_acknowledging_a_warning_that_is_not_there_is_refused(admin: Services, org: Org) -> None:
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    with pytest.raises(ValidationError, match="no such"):
        admin.audits.acknowledge(audit_id, "inventory", "Something else")


def test_second_approver_is_another_operator_who_may_audit(
    admin: Services, org: Org, as_role: Callable[[Role], Services]
) -> None:
    auditor = as_role(Role.AUDITOR)
    as_role(Role.VIEWER)
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    with pytest.raises(ValidationError, match="Attest"):
        admin.audits.approve(audit_id, auditor.actor.name, PASSWORD)
    admin.audits.attest(audit_id, "Complete.")
    with pytest.raises(ValidationError, match="another operator"):
        admin.audits.approve(audit_id, "admin", PASSWORD)
    with pytest.raises(ValidationError, match="may not approve"):
        admin.audits.approve(audit_id, "op-viewer", PASSWORD)
    with pytest.raises(AuthenticationError):
        admin.audits.approve(audit_id, auditor.actor.name, "wrong")
    admin.audits.approve(audit_id, auditor.actor.name, PASSWORD)
    audit = admin.audits.get(audit_id)
    assert audit.approver == "op-auditor"
    assert audit.approved_at is not None
    assert _last_action(admin) == ("audit.approve", str(audit_id))


def test_roles(org: Org, as_role: Callable[[Role], Services]) -> None:
    auditor = as_role(Role.AUDITOR)
    audit_id = auditor.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    assert auditor.audits.get(audit_id).owner == "op-auditor"
    for role in (Role.LICENSE_MANAGER, Role.VIEWER):
        with pytest.raises(PermissionDenied):
            as_role(role).audits.start(org.vendor, Trigger.VENDOR_REQUEST)
        assert as_role(role).audits.get(audit_id).id == audit_id  # anyone may read


def _signed(admin: Services, audit_id: int, size: int, tmp_path: Path) -> None:
    result = BundleResult(
        folder=tmp_path / f"audit-{audit_id}",
        zip_path=tmp_path / f"audit-{audit_id}.zip",
        checkpoint=Checkpoint(size, f"{size:064x}"),
        manifest_sha256="ab" * 32,
        ed25519_fingerprint="cd" * 32,
        certificate_fingerprint="ef" * 32,
    )
    admin.audits.record_signed(audit_id, result)


def test_signing_keeps_the_checkpoint_for_the_next_audit(
    admin: Services, org: Org, tmp_path: Path
) -> None:
    first = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    with pytest.raises(ValidationError, match="Attest"):
        admin.audits.set_step(first, Step.SIGN)
    admin.audits.attest(first, "Complete.")
    _signed(admin, first, 12, tmp_path)
    signed = admin.audits.get(first)
    assert signed.status is Status.SIGNED
    assert signed.checkpoint == Checkpoint(12, f"{12:064x}")
    assert signed.manifest_sha256 == "ab" * 32
    with pytest.raises(ValidationError, match="signed"):
        admin.audits.attest(first, "Again")
    second = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST)
    assert admin.audits.previous_checkpoint(second) == Checkpoint(12, f"{12:064x}")
    assert admin.audits.previous_checkpoint(first) is None
    other = admin.catalog.add_vendor("Fabrikam")
    third = admin.audits.start(other, Trigger.VENDOR_REQUEST)
    assert admin.audits.previous_checkpoint(third) is None


def test_schedules_due_and_overdue(admin: Services, org: Org, tmp_path: Path) -> None:
    other = admin.catalog.add_vendor("Fabrikam")
    later = admin.catalog.add_vendor("Northwind")
    admin.audits.set_schedule(org.vendor, 3, TODAY - dt.timedelta(days=5))
    admin.audits.set_schedule(other, 6, TODAY + dt.timedelta(days=10))
    admin.audits.set_schedule(later, 12, TODAY + dt.timedelta(days=60))
    assert _last_action(admin)[0] == "audit_schedule.set"
    due = admin.audits.due(TODAY)
    assert [(d.vendor, d.overdue, d.audit_id) for d in due] == [
        ("Contoso Software", True, None),
        ("Fabrikam", False, None),
    ]
    assert "overdue since" in due[0].text
    audit_id = admin.audits.start(org.vendor, Trigger.SCHEDULED, as_of=TODAY)
    audit = admin.audits.get(audit_id)
    assert audit.due_on == TODAY - dt.timedelta(days=5)
    assert admin.audits.due(TODAY)[0].audit_id == audit_id
    admin.audits.attest(audit_id, "Complete.")
    _signed(admin, audit_id, 20, tmp_path)
    schedule = next(s for s in admin.audits.schedules() if s.vendor_id == org.vendor)
    assert schedule.next_due == add_months(TODAY - dt.timedelta(days=5), 3)
    assert [d.vendor for d in admin.audits.due(TODAY)] == ["Fabrikam"]
    # editing a schedule replaces it; inactive ones are never due
    admin.audits.set_schedule(other, 6, TODAY, active=False)
    assert admin.audits.due(TODAY) == []
    assert len(admin.audits.schedules()) == 3


def test_add_months() -> None:
    assert add_months(dt.date(2026, 1, 31), 1) == dt.date(2026, 2, 28)
    assert add_months(dt.date(2026, 11, 15), 3) == dt.date(2027, 2, 15)
    assert add_months(dt.date(2026, 12, 1), 12) == dt.date(2027, 12, 1)


def test_report_input_lists_open_findings_and_unacknowledged_warnings(
    admin: Services, org: Org, departed: Finding
) -> None:
    audit_id = admin.audits.start(org.vendor, Trigger.VENDOR_REQUEST, as_of=TODAY)
    position = PositionService(admin.ctx).position(TODAY)
    with pytest.raises(ValidationError, match="attestation"):
        admin.audits.report_input(audit_id, position, "Contoso Ltd")
    admin.audits.attest(audit_id, "Complete.")
    report = admin.audits.report_input(audit_id, position, "Contoso Ltd")
    assert {r.product for r in report.positions} <= {"PDF Studio", "Database Server"}
    assert [f.resolution.decision for f in report.findings] == [Decision.OPEN]
    [pending] = report.acknowledgements
    assert (pending.topic, pending.acknowledged_by, pending.acknowledged_at) == (
        "inventory",
        "",
        None,
    )
    assert report.attestation.operator == "admin"
    assert report.attestation.full_name == "Ada Admin"
    assert report.previous is None
    admin.audits.decide(audit_id, departed, Decision.ACCEPT, explanation="Released today.")
    warning = admin.audits.freshness(audit_id)[0]
    admin.audits.acknowledge(audit_id, warning.topic, warning.text)
    report = admin.audits.report_input(audit_id, position, "Contoso Ltd")
    assert [f.resolution.decision for f in report.findings] == [Decision.ACCEPT]
    assert [(a.topic, a.acknowledged_by) for a in report.acknowledgements] == [
        ("inventory", "admin")
    ]


def test_dashboard_counts_the_audits_whose_date_has_come(admin: Services, org: Org) -> None:
    assert admin.dashboard.figures().audits_due == 0
    admin.audits.set_schedule(org.vendor, 3, TODAY)
    other = admin.catalog.add_vendor("Fabrikam")
    admin.audits.set_schedule(other, 3, TODAY + dt.timedelta(days=3))  # due soon, not yet
    assert admin.dashboard.figures().audits_due == 1
