"""Outputs SeatLedger cannot import are named for what they are, not read as a strange table."""

from __future__ import annotations

import codecs
import re
from pathlib import Path

import pytest

from seatledger.ingest.formats import Kind
from seatledger.ingest.tabular import ImportFileError, sniff
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services

LMSTAT_I = """lmutil - Copyright (c) 1989-2019 Flexera. All Rights Reserved.
Flexible License Manager status on Tue 3/3/2026 10:05

NOTE: lmstat -i does not give information from the server,
      but only reads the license file.  For this reason,
      lmstat -a is recommended instead.

Feature                         Version     #licenses    Vendor        Expires
_______                         _________   _________    ______        ________
MATLAB                          43          25           MLM           31-dec-2026
"""

DEBUG_LOG = """ 9:30:12 (lmgrd) -----------------------------------------------
 9:30:12 (lmgrd) FlexNet Licensing (v11.16.2.0 build 242433 x64_lsb) started on lic01 (3/3/2026)
10:01:42 (MLM) OUT: "MATLAB" jdoe@ws-1
10:15:03 (MLM) IN: "MATLAB" jdoe@ws-1
10:20:00 (MLM) DENIED: "MATLAB" bob@ws-2  (Licensed number of users already reached. (-4,342))
"""

# 'rlmutil rlmhostid': RLM's banner, no pool or usage status ('rlmutil rlmstat -a' is read as
# usage: tests/ingest/test_rlmstat.py).
RLM = """rlmhostid v12.4
Copyright (C) 2006-2018, Reprise Software, Inc. All rights reserved.

Hostid of this machine: 0050569a1b2c
"""


@pytest.mark.parametrize(
    ("text", "named"),
    [
        (LMSTAT_I, "FlexNet 'lmutil lmstat -i' output"),
        (RLM, "Reprise RLM output with no license pool or usage status"),
        ("LM-X End-user Utility v5.4\nLicense server: lic01\n", "LM-X ('lmxendutil -licstat')"),
        ("Sentinel RMS Development Kit 9.7\n|- Feature Information\n", "Sentinel RMS ('lsmon')"),
        (
            "Seat,User,Email,Asset,Location\nSeat 1,Ann Lee,ann@x.example,,\n",
            "a Snipe-IT seat list",
        ),
        # 'lmutil lmstat -v' of a recent and an old lmutil (as
        # tests/data/lmstat/refused_lmstat_v_flexera.txt, _macrovision.txt): read as a table, they
        # gave "User: no column feeds this field".
        (
            "lmutil - Copyright (c) 1989-2019 Flexera. All Rights Reserved.\n"
            "lmstat v11.16.4.0 build 271080 x64_lsb\n",
            "FlexNet 'lmutil' output with no status of the license server",
        ),
        (
            "lmutil - Copyright (c) 1989-2007 Macrovision Europe Ltd. and/or Macrovision "
            "Corporation. All Rights Reserved.\nlmstat\n",
            "FlexNet 'lmutil' output with no status of the license server",
        ),
    ],
)
def test_license_server_outputs_it_cannot_import_are_named(
    admin: Services, tmp_path: Path, text: str, named: str
) -> None:
    path = tmp_path / "server.txt"
    path.write_text(text, encoding="utf-8")
    for kind in (Kind.USAGE, Kind.ENTITLEMENTS):
        with pytest.raises(ImportFileError, match=rf"^server\.txt is {re.escape(named)}"):
            admin.imports.preview(path, ImportOptions(kind))


def test_a_debug_log_is_usage_and_named_as_such_when_offered_as_another_kind(
    admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "server.txt"
    path.write_text(DEBUG_LOG, encoding="utf-8")
    with pytest.raises(
        ImportFileError,
        match=r"^server\.txt is a FlexNet \(lmgrd or vendor daemon\) debug log, which holds",
    ):
        admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
    preview = admin.imports.preview(path, ImportOptions(Kind.USAGE))
    assert preview.problem_count == 0
    assert preview.records == 1


def test_a_utf16_mark_on_8_bit_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF16_LE + b"Employee ID,Full name\r\n" * 4)
    with pytest.raises(ImportFileError, match="UTF-16 byte-order mark, but its text is not UTF-16"):
        sniff(path)


def test_a_utf8_mark_on_utf16_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(codecs.BOM_UTF8 + "Employee ID,Full name\r\n".encode("utf-16-le") * 4)
    with pytest.raises(ImportFileError, match="UTF-8 byte-order mark, but its text is UTF-16"):
        sniff(path)


def test_real_utf16_with_its_mark_is_read(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_bytes(("Employee ID,Full name\r\nE1,山田 太郎\r\n" * 4).encode("utf-16"))
    assert sniff(path).encoding == "utf-16"
