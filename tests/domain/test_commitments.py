"""Personal fields as salted commitments: hidden, checkable one at a time, stable per person."""

from __future__ import annotations

import hashlib

from seatledger.domain.canonical import canonical_bytes
from seatledger.domain.commitments import (
    TAG,
    check_opening,
    commit_fields,
    commitments_in,
    keyed,
    opened,
    salt,
)
from seatledger.domain.ledger import NewEntry, committed_body, make_body

KEY = keyed(bytes(range(32)))  # derived salts, as the demo makes them


def _salt(entity_type: str, entity_id: str, field: str) -> bytes:
    return salt(bytes(range(32)), entity_type, entity_id, field)


def test_personal_fields_are_committed_and_the_rest_kept() -> None:
    after = {"name": "Nia Murphy", "email": "", "employee_id": "E1", "team_id": 3}
    committed, openings = commit_fields(KEY, "person", "15", after)
    assert committed["email"] == ""  # nothing to hide
    assert committed["team_id"] == 3
    assert {o.field for o in openings} == {"name", "employee_id"}
    name = committed["name"]["commit"]
    expected = hashlib.sha256(TAG + _salt("person", "15", "name") + b'"Nia Murphy"').hexdigest()
    assert name == expected
    assert "Nia" not in canonical_bytes(committed).decode()
    # The same field of the same person gives the same pseudonym; another field or person not.
    again, _ = commit_fields(KEY, "person", "15", {"name": "Nia Murphy"})
    other, _ = commit_fields(KEY, "person", "16", {"name": "Nia Murphy"})
    assert again["name"] == committed["name"] != other["name"]
    # Other entity types and non-dict payloads pass through.
    assert commit_fields(KEY, "entitlement", "1", after) == (after, [])
    assert commit_fields(KEY, "person", "1", None) == (None, [])


def test_one_opening_proves_its_value_and_nothing_else() -> None:
    committed, _ = commit_fields(KEY, "person", "15", {"name": "Nia Murphy", "employee_id": "E1"})
    digest = committed["name"]["commit"]
    name_salt = _salt("person", "15", "name").hex()
    assert check_opening(digest, name_salt, "Nia Murphy")
    assert not check_opening(digest, name_salt, "Nia Murphey")
    assert not check_opening(digest, _salt("person", "15", "employee_id").hex(), "Nia Murphy")
    assert not check_opening(digest, "not hex", "Nia Murphy")
    # The organization's screens open what they keep; an erased value reads as a pseudonym.
    body = {"what": {"after": committed}}
    assert sorted(commitments_in(body)) == sorted(c["commit"] for c in committed.values())
    shown = opened(body, {digest: "Nia Murphy"})
    assert shown["what"]["after"]["name"] == "Nia Murphy"
    assert shown["what"]["after"]["employee_id"].startswith("C-")


def test_a_body_with_commitments_is_an_ordinary_canonical_body() -> None:
    entry: NewEntry = {
        "ts": "2026-01-01T00:00:00Z",
        "operator": "admin",
        "role": "administrator",
        "action": "person.create",
        "entity_type": "person",
        "entity_id": "7",
        "reason": "",
        "before": None,
        "after": {"name": "Nia Murphy"},
    }
    body, openings = committed_body(seq=3, salts=KEY, **entry)
    assert b"Nia" not in body
    assert [o.value for o in openings] == ["Nia Murphy"]
    assert committed_body(seq=3, salts=None, **entry) == (make_body(seq=3, **entry), [])
