"""Which text a vendor's bundle must withhold: phrases found as whole words, in any spelling."""

from __future__ import annotations

from seatledger.domain.redaction import PhraseScanner


def test_a_name_is_found_in_an_e_mail_a_reason_or_json_but_not_in_part() -> None:
    scanner = PhraseScanner(["Nia Murphy", "E10001", "Salesforce", "  "])
    assert len(scanner) == 3
    assert scanner.find('{"reason":"moved to Nia Murphy\'s team"}') == ("nia", "murphy")
    assert scanner.find("nia.murphy@fabrikam.example") == ("nia", "murphy")
    assert scanner.find("NIA-MURPHY") == ("nia", "murphy")
    assert scanner.find('"employee_id":"e10001"') == ("e10001",)
    assert scanner.find("salesforce-export.csv") == ("salesforce",)
    # Part of a phrase, or a phrase inside a longer word, is not the phrase.
    assert scanner.find("Murphy's law") is None
    assert scanner.find("Nia") is None
    assert scanner.find("E100012 and Salesforcex") is None
    assert PhraseScanner([]).find("anything at all") is None
