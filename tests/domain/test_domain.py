"""Pure domain rules: canonical JSON, the ledger hash chain, the limit rule, metrics, validation
and roles.  No database, no widgets."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from decimal import Decimal

import pytest

from seatledger.domain import validation
from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.ledger import (
    GENESIS_HASH,
    Problem,
    StoredEntry,
    entry_hash,
    make_body,
    verify_chain,
)
from seatledger.domain.licensing import (
    LimitState,
    Metric,
    check_assignment,
    units_for_device,
)
from seatledger.domain.roles import Permission, Role, allows, can_write
from seatledger.errors import ValidationError

TODAY = dt.date(2026, 6, 15)

# ------------------------------------------------------------------------------ canonical JSON


def test_canonical_sorts_keys_and_drops_whitespace() -> None:
    value = {"b": 1, "a": [1, 2, {"d": True, "c": None}], "C": "x"}
    assert canonical_bytes(value) == b'{"C":"x","a":[1,2,{"c":null,"d":true}],"b":1}'


def test_canonical_orders_ascii_keys_by_code_point() -> None:
    # RFC 8785 §3.2.3 sorts by UTF-16 code units; for ASCII that is plain code-point order,
    # so upper case, then "_", then lower case.
    value = {"b": 0, "a": 0, "_": 0, "B": 0, "10": 0, "1": 0}
    assert canonical_bytes(value) == b'{"1":0,"10":0,"B":0,"_":0,"a":0,"b":0}'


def test_canonical_keeps_non_ascii_as_utf8() -> None:
    data = canonical_bytes({"name": "Zoë Ødegård €✓ 𝄞"})
    assert data == '{"name":"Zoë Ødegård €✓ 𝄞"}'.encode()
    assert b"\\u" not in data


def test_canonical_matches_rfc8785_string_and_literal_example() -> None:
    # The RFC 8785 §3.2.2 sample without its (float) numbers: the input string is
    # "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/" and literals [null, true, false].
    value = {"string": '€$\x0f\nA\'B"\\\\"/', "literals": [None, True, False]}
    expected = r"""{"literals":[null,true,false],"string":"€$\u000f\nA'B\"\\\\\"/"}"""
    assert canonical_bytes(value) == expected.encode("utf-8")


def test_canonical_escapes_only_what_rfc8785_requires() -> None:
    # Control characters: the short forms where JSON has one, else lower-case \u00xx;
    # DEL (U+007F) and "/" are not escaped.
    value = {"s": "\b\t\n\f\r\x01\x1f\x7f/"}
    assert canonical_bytes(value) == rb'{"s":"\b\t\n\f\r\u0001\u001f' + b'\x7f/"}'


def test_canonical_integers_and_nesting() -> None:
    value = {"n": [0, -1, 10_000_000], "empty": {}, "list": []}
    assert canonical_bytes(value) == b'{"empty":{},"list":[],"n":[0,-1,10000000]}'
    assert json.loads(canonical_bytes(value)) == value


@pytest.mark.parametrize(
    "value",
    [
        {"price": 1.5},
        {"nested": {"deep": [1, 2, 0.0]}},
        {"nan": float("nan")},
    ],
)
def test_canonical_refuses_floats(value: dict[str, object]) -> None:
    with pytest.raises(TypeError, match="float"):
        canonical_bytes(value)


def test_canonical_float_error_names_the_path() -> None:
    with pytest.raises(TypeError, match=r"\$\.a\[1\]"):
        canonical_bytes({"a": [1, 2.5]})


@pytest.mark.parametrize("key", ["naïve", "ключ", "€"])
def test_canonical_refuses_non_ascii_keys(key: str) -> None:
    with pytest.raises(TypeError, match="ASCII"):
        canonical_bytes({"outer": {key: 1}})


def test_canonical_refuses_non_string_keys_and_other_types() -> None:
    with pytest.raises(TypeError, match="ASCII"):
        canonical_bytes({1: "x"})  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="Decimal"):
        canonical_bytes({"cost": Decimal("1.50")})
    with pytest.raises(TypeError, match="date"):
        canonical_bytes({"when": dt.date(2026, 1, 1)})


# ---------------------------------------------------------------------------------- hash chain


def _by_hand(seq: int, prev: bytes, body: bytes) -> bytes:
    return hashlib.sha256(
        b"seatledger/ledger/v1\x00" + seq.to_bytes(8, "big") + prev + body
    ).digest()


def test_entry_hash_is_sha256_over_tag_seq_prev_and_body() -> None:
    body = b'{"a":1}'
    assert bytes(32) == GENESIS_HASH
    first = entry_hash(1, GENESIS_HASH, body)
    assert first == _by_hand(1, bytes(32), body)
    second = entry_hash(2, first, b'{"a":2}')
    assert second == _by_hand(2, first, b'{"a":2}')
    assert len(first) == 32


def test_entry_hash_depends_on_every_input() -> None:
    body = b'{"a":1}'
    base = entry_hash(5, GENESIS_HASH, body)
    assert entry_hash(6, GENESIS_HASH, body) != base
    assert entry_hash(5, b"\x01" * 32, body) != base
    assert entry_hash(5, GENESIS_HASH, b'{"a":2}') != base


def test_make_body_is_canonical_and_complete() -> None:
    body = make_body(
        seq=3,
        ts="2026-06-15T10:00:00.000000Z",
        operator="ada",
        role="administrator",
        action="vendor.create",
        entity_type="vendor",
        entity_id="7",
        reason="new supplier",
        before=None,
        after={"name": "Contoso"},
    )
    decoded = json.loads(body)
    assert body == canonical_bytes(decoded)
    assert decoded["v"] == 1
    searchable = {k: decoded[k] for k in ("seq", "ts", "operator", "action", "entity", "entity_id")}
    assert searchable == {
        "seq": 3,
        "ts": "2026-06-15T10:00:00.000000Z",
        "operator": "ada",
        "action": "vendor.create",
        "entity": "vendor",
        "entity_id": "7",
    }
    change = decoded.get("what", decoded)
    assert change["role"] == "administrator"
    assert change["reason"] == "new supplier"
    assert change["before"] is None
    assert change["after"] == {"name": "Contoso"}


ENTRY_FIELDS = (
    "seq",
    "ts",
    "operator",
    "action",
    "entity_type",
    "entity_id",
    "body",
    "prev_hash",
    "hash",
)


def _with(entry: StoredEntry, **changes: object) -> StoredEntry:
    """A copy of a stored entry with some fields changed (as raw SQL would leave it)."""
    fields = {name: getattr(entry, name) for name in ENTRY_FIELDS}
    return StoredEntry(**(fields | changes))


def _chain(count: int) -> list[StoredEntry]:
    entries = []
    prev = GENESIS_HASH
    for seq in range(1, count + 1):
        ts = f"2026-06-15T10:00:{seq:02}.000000Z"
        body = make_body(
            seq=seq,
            ts=ts,
            operator="ada",
            role="administrator",
            action="vendor.create",
            entity_type="vendor",
            entity_id=str(seq),
            reason="",
            before=None,
            after={"quantity": seq},
        )
        digest = entry_hash(seq, prev, body)
        entries.append(
            StoredEntry(seq, ts, "ada", "vendor.create", "vendor", str(seq), body, prev, digest)
        )
        prev = digest
    return entries


def test_verify_chain_accepts_an_intact_chain() -> None:
    entries = _chain(10)
    verdict = verify_chain(entries, expected_size=10, expected_head=entries[-1].hash)
    assert verdict.ok
    assert verdict.entries == 10
    assert verdict.head == entries[-1].hash


def test_verify_chain_accepts_empty_ledger() -> None:
    verdict = verify_chain([], expected_size=0, expected_head=GENESIS_HASH)
    assert verdict.ok
    assert verdict.entries == 0


def test_verify_chain_detects_edited_body() -> None:
    entries = _chain(10)
    body = entries[4].body.replace(b'"quantity":5', b'"quantity":500')
    assert body != entries[4].body
    entries[4] = _with(entries[4], body=body)
    verdict = verify_chain(entries, expected_size=10, expected_head=_chain(10)[-1].hash)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (5, Problem.EDITED)
    assert verdict.entries == 4
    assert verdict.failure.message().startswith("entry 5 is edited")


def test_verify_chain_detects_edited_indexed_column() -> None:
    entries = _chain(10)
    entries[6] = _with(entries[6], operator="mallory")
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (7, Problem.COLUMNS)


@pytest.mark.parametrize("column", ["ts", "action", "entity_type", "entity_id"])
def test_verify_chain_checks_every_indexed_column(column: str) -> None:
    entries = _chain(4)
    entries[1] = _with(entries[1], **{column: "forged"})
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (2, Problem.COLUMNS)
    assert verify_chain(entries, check_columns=False).ok


def test_verify_chain_detects_missing_entry() -> None:
    entries = _chain(10)
    del entries[3]
    verdict = verify_chain(entries, expected_size=10)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (4, Problem.MISSING)
    assert "expected entry 4, found entry 5" in verdict.failure.detail


def test_verify_chain_detects_swapped_sequence_numbers() -> None:
    # Storage returns rows by seq: swapping the seq of entries 5 and 6 puts 6's body first.
    entries = _chain(10)
    fifth, sixth = entries[4], entries[5]
    entries[4] = _with(sixth, seq=5)
    entries[5] = _with(fifth, seq=6)
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (5, Problem.REORDERED)


def test_verify_chain_detects_a_repeated_sequence_number() -> None:
    entries = _chain(5)
    entries.insert(3, entries[2])
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert verdict.failure.problem is Problem.REORDERED
    assert verdict.failure.seq == 4


def test_verify_chain_detects_broken_previous_hash() -> None:
    entries = _chain(5)
    entries[2] = _with(entries[2], prev_hash=b"\x00" * 32)
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (3, Problem.REORDERED)


def test_verify_chain_detects_truncated_tail() -> None:
    full = _chain(10)
    verdict = verify_chain(full[:7], expected_size=10, expected_head=full[-1].hash)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (8, Problem.TRUNCATED)
    assert verdict.failure.detail == "7 entries present, 10 recorded"
    assert verdict.entries == 7


def test_verify_chain_detects_rechained_log_against_the_recorded_head() -> None:
    full = _chain(6)
    rewritten = _chain(6)
    # A consistent rewrite from entry 4 on: new body, every later hash recomputed.
    prev = rewritten[2].hash
    for index in range(3, 6):
        entry = rewritten[index]
        body = entry.body.replace(b'"quantity":', b'"quantity":9') if index == 3 else entry.body
        digest = entry_hash(entry.seq, prev, body)
        rewritten[index] = _with(entry, body=body, prev_hash=prev, hash=digest)
        prev = digest
    assert verify_chain(rewritten).ok  # self-consistent on its own
    verdict = verify_chain(rewritten, expected_size=6, expected_head=full[-1].hash)
    assert verdict.failure is not None
    assert (verdict.failure.seq, verdict.failure.problem) == (6, Problem.EDITED)
    assert "recorded head" in verdict.failure.detail


def test_verify_chain_detects_unreadable_body() -> None:
    entries = _chain(3)
    body = b"not json"
    digest = entry_hash(3, entries[1].hash, body)
    entries[2] = _with(entries[2], body=body, hash=digest)
    verdict = verify_chain(entries)
    assert verdict.failure is not None
    assert verdict.failure.seq == 3
    # Hash-consistent garbage cannot match the indexed columns either way.
    assert verdict.failure.problem in {Problem.UNREADABLE, Problem.COLUMNS}


# ------------------------------------------------------------------------------- limit rule


def _state(
    quantity: int = 10,
    used: int = 0,
    metric: Metric = Metric.PER_USER,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> LimitState:
    return LimitState("Contoso PDF Studio", metric, quantity, used, start, end)


def test_limit_allows_up_to_the_quantity() -> None:
    assert check_assignment(_state(used=7), 3, TODAY, override=False).allowed
    assert check_assignment(_state(used=0), 10, TODAY, override=False).allowed


def test_limit_refuses_beyond_quantity_with_used_free_needed() -> None:
    decision = check_assignment(_state(used=8), 3, TODAY, override=False)
    assert not decision.allowed
    assert not decision.over_commit
    assert decision.message == "Contoso PDF Studio allows 10 seats: 8 used, 2 free, 3 needed."


def test_limit_message_counts_one_right_in_the_singular() -> None:
    decision = check_assignment(_state(quantity=1, used=1), 1, TODAY, override=False)
    assert decision.message == "Contoso PDF Studio allows 1 seat: 1 used, 0 free, 1 needed."
    per_core = check_assignment(
        _state(quantity=1, used=0, metric=Metric.PER_CORE), 2, TODAY, override=False
    )
    assert per_core.message.startswith("Contoso PDF Studio allows 1 core: ")


def test_limit_message_uses_the_metric_unit() -> None:
    decision = check_assignment(
        _state(quantity=16, used=12, metric=Metric.PER_CORE), 8, TODAY, override=False
    )
    assert "allows 16 cores: 12 used, 4 free, 8 needed" in decision.message
    decision = check_assignment(
        _state(quantity=2, used=2, metric=Metric.PER_DEVICE), 1, TODAY, override=False
    )
    assert "allows 2 devices" in decision.message


def test_limit_free_never_shown_negative_when_already_over() -> None:
    decision = check_assignment(_state(quantity=3, used=5), 1, TODAY, override=False)
    assert "5 used, 0 free, 1 needed" in decision.message


def test_limit_refuses_expired_term() -> None:
    decision = check_assignment(_state(end=TODAY - dt.timedelta(days=1)), 1, TODAY, override=False)
    assert not decision.allowed
    assert "expired on 2026-06-14" in decision.message
    # Expiry is not something an over-commit can override.
    assert not check_assignment(_state(end=dt.date(2026, 6, 14)), 1, TODAY, override=True).allowed


def test_limit_allows_the_last_day_and_the_first_day_of_the_term() -> None:
    assert check_assignment(_state(start=TODAY, end=TODAY), 1, TODAY, override=False).allowed


def test_limit_refuses_term_not_started() -> None:
    decision = check_assignment(
        _state(start=TODAY + dt.timedelta(days=1)), 1, TODAY, override=False
    )
    assert not decision.allowed
    assert "starts on 2026-06-16" in decision.message


def test_limit_site_license_is_unlimited() -> None:
    decision = check_assignment(
        _state(quantity=0, used=5000, metric=Metric.SITE), 1000, TODAY, override=False
    )
    assert decision.allowed
    assert not decision.over_commit


def test_limit_override_allows_as_recorded_over_commit() -> None:
    decision = check_assignment(_state(quantity=3, used=3), 2, TODAY, override=True)
    assert decision.allowed
    assert decision.over_commit
    assert "3 used, 0 free, 2 needed" in decision.message


def test_limit_override_within_limit_is_not_an_over_commit() -> None:
    decision = check_assignment(_state(quantity=3, used=0), 2, TODAY, override=True)
    assert decision.allowed
    assert not decision.over_commit


# ------------------------------------------------------------------------------------ metrics


@pytest.mark.parametrize(
    ("metric", "processors", "cores", "minimum", "units"),
    [
        (Metric.PER_CORE, 2, 8, 4, 8),
        (Metric.PER_CORE, 1, 2, 4, 4),
        (Metric.PER_CORE, 2, 48, 16, 48),
        (Metric.PER_CORE, 4, 8, 16, 64),
        (Metric.PER_CORE, 1, 6, 0, 6),
        (Metric.PER_CORE, 0, 0, 0, 1),
        (Metric.PER_PROCESSOR, 2, 32, 16, 2),
        (Metric.PER_PROCESSOR, 0, 0, 0, 1),
        (Metric.PER_DEVICE, 4, 64, 16, 1),
        (Metric.PER_USER, 4, 64, 0, 1),
        (Metric.CONCURRENT, 1, 1, 0, 1),
        (Metric.SITE, 2, 8, 0, 1),
    ],
)
def test_units_for_device(
    metric: Metric, processors: int, cores: int, minimum: int, units: int
) -> None:
    assert units_for_device(metric, processors, cores, minimum) == units


def test_metric_holders_and_limits() -> None:
    device_metrics = {m for m in Metric if m.assigns_to_device}
    assert device_metrics == {Metric.PER_DEVICE, Metric.PER_CORE, Metric.PER_PROCESSOR}
    assert {m for m in Metric if m.unlimited} == {Metric.SITE}
    assert Metric("named_user") is Metric.PER_USER
    assert all(m.label for m in Metric)


# --------------------------------------------------------------------------------- validation


def test_name_is_trimmed() -> None:
    assert validation.name("  Contoso  ", "Vendor name") == "Contoso"


@pytest.mark.parametrize("value", ["", "   ", "\t\n"])
def test_name_refuses_empty(value: str) -> None:
    with pytest.raises(ValidationError, match="Vendor name must not be empty") as info:
        validation.name(value, "Vendor name")
    assert info.value.field == "Vendor name"


def test_name_refuses_over_long() -> None:
    assert validation.name("x" * 200, "Vendor name") == "x" * 200
    with pytest.raises(ValidationError, match="201 characters long; the limit is 200"):
        validation.name("x" * 201, "Vendor name")
    with pytest.raises(ValidationError, match="the limit is 64"):
        validation.name("x" * 65, "Operator name", max_len=64)


def test_name_refuses_control_characters() -> None:
    with pytest.raises(ValidationError, match="control characters"):
        validation.name("Con\x00toso", "Vendor name")


def test_optional_text() -> None:
    assert validation.optional_text(None, "Notes") == ""
    assert validation.optional_text("  hi ", "Notes") == "hi"
    with pytest.raises(ValidationError, match="Notes is 2001 characters"):
        validation.optional_text("x" * 2001, "Notes")


@pytest.mark.parametrize(("value", "expected"), [(0, 0), (5, 5), ("12", 12), (" 7 ", 7)])
def test_count_accepts_whole_numbers(value: object, expected: int) -> None:
    assert validation.count(value, "Quantity") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "at least 0, not -1"),
        ("-3", "at least 0, not -3"),
        ("ten", "whole number, not 'ten'"),
        ("2.5", "whole number, not '2.5'"),
        (2.5, "whole number, not '2.5'"),
        ("", "whole number, not ''"),
        (True, "whole number"),
        (10_000_001, "at most 10000000"),
    ],
)
def test_count_refuses(value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        validation.count(value, "Quantity")
    assert info.value.field == "Quantity"
    assert str(info.value).startswith("Quantity")


def test_term_refuses_end_before_start() -> None:
    validation.term(dt.date(2026, 1, 1), dt.date(2026, 1, 1))
    validation.term(None, dt.date(2026, 1, 1))
    with pytest.raises(
        ValidationError, match="Term end 2025-12-31 is before term start 2026-01-01"
    ):
        validation.term(dt.date(2026, 1, 1), dt.date(2025, 12, 31))


@pytest.mark.parametrize("value", ["ada@example.com", "a.b+c@mail.example.org", "", None])
def test_email_accepts(value: str | None) -> None:
    assert validation.email(value) == (value or "")


@pytest.mark.parametrize(
    "value", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@@b.c"]
)
def test_email_refuses(value: str) -> None:
    with pytest.raises(ValidationError, match="is not an email address") as info:
        validation.email(value)
    assert info.value.field == "Email"


@pytest.mark.parametrize(
    ("value", "expected"), [("usd", "USD"), (" EUR ", "EUR"), ("", "EUR"), (None, "EUR")]
)
def test_currency_accepts(value: str | None, expected: str) -> None:
    assert validation.currency(value) == expected


@pytest.mark.parametrize("value", ["EURO", "E1R", "€", "US", "U S"])
def test_currency_refuses(value: str) -> None:
    with pytest.raises(ValidationError, match="three-letter code"):
        validation.currency(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12.3456", Decimal("12.3456")),
        ("0", Decimal(0)),
        (Decimal("99.5"), Decimal("99.5")),
        ("", None),
        (None, None),
    ],
)
def test_money_accepts(value: object, expected: Decimal | None) -> None:
    assert validation.money(value, "Unit cost") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("12.34567", "more than 4 decimals"),
        ("0.00001", "more than 4 decimals"),
        ("-1", "zero or more"),
        ("NaN", "zero or more"),
        ("Infinity", "zero or more"),
        ("12,50", "must be an amount"),
        ("ten", "must be an amount"),
        # The column is NUMERIC(14, 4): larger amounts would fail inside PostgreSQL.
        ("10000000000", "less than 10,000,000,000"),
    ],
)
def test_money_refuses(value: str, message: str) -> None:
    with pytest.raises(ValidationError, match=message) as info:
        validation.money(value, "Unit cost")
    assert info.value.field == "Unit cost"


def test_money_largest_amount_fits_the_column() -> None:
    assert validation.money("9999999999.9999", "Unit cost") == Decimal("9999999999.9999")


def test_date_parses_iso_only() -> None:
    assert validation.date("2026-02-28", "Start") == dt.date(2026, 2, 28)
    assert validation.date("", "Start") is None
    assert validation.date(dt.date(2026, 1, 1), "Start") == dt.date(2026, 1, 1)
    for text in ("28/02/2026", "2026-02-30", "tomorrow"):
        with pytest.raises(ValidationError, match="YYYY-MM-DD"):
            validation.date(text, "Start")


# -------------------------------------------------------------------------------------- roles

P = Permission
EXPECTED_GRANTS = {
    Role.ADMINISTRATOR: set(Permission),
    Role.LICENSE_MANAGER: {
        P.READ,
        P.EDIT_LICENSES,
        P.ASSIGN_SEATS,
        P.EDIT_DIRECTORY,
        P.ACKNOWLEDGE_ALERTS,
    },
    Role.AUDITOR: {P.READ, P.RUN_AUDITS, P.ACKNOWLEDGE_ALERTS},
    Role.VIEWER: {P.READ},
    Role.REVIEWER: {P.READ, P.REVIEW_ACCESS},
}


@pytest.mark.parametrize("role", list(Role))
@pytest.mark.parametrize("permission", list(Permission))
def test_roles_matrix(role: Role, permission: Permission) -> None:
    assert allows(role, permission) == (permission in EXPECTED_GRANTS[role])


def test_only_administrators_over_commit_or_manage_operators() -> None:
    for permission in (P.OVER_COMMIT, P.MANAGE_OPERATORS, P.MANAGE_SETTINGS, P.MANAGE_REVIEWS):
        assert [r for r in Role if allows(r, permission)] == [Role.ADMINISTRATOR]


def test_can_write_and_labels() -> None:
    assert {r for r in Role if can_write(r)} == {Role.ADMINISTRATOR, Role.LICENSE_MANAGER}
    assert Role.LICENSE_MANAGER.label == "License manager"
