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


# Modelled on the outputs public license-server exporters test against (omnivector-solutions/
# license-manager's lm-agent fixtures for LM-X, a DSLS Prometheus exporter's parser, an lsmon
# parser's tests): written for SeatLedger, names and counts ours.
LMX_LICSTAT = """LM-X End-user Utility v4.9.3
Copyright (C) 2002-2019 X-Formation. All rights reserved.

++++++++++++++++++++++++++++++++++++++++
LM-X License Server on 6200@cae-lic02:

Server version: v4.9.3 Uptime: 5 day(s) 2 hour(s) 11 min(s) 40 sec(s)
----------------------------------------
Feature: SolverPro Version: 2025.0 Vendor: CAEVENDOR
Start date: 2025-01-01 Expire date: 2026-12-31
Key type: EXCLUSIVE License sharing: HOST USER VIRTUAL

1 of 4 license(s) used:

1 license(s) used by jdoe@cae-ws-12 [10.1.2.12]
    Login time: 2026-03-03 08:10   Checkout time: 2026-03-03 08:11
    Shared on username: jdoe   Shared on hostname: cae-ws-12
"""

DSLS_USAGE = """admin >connect dsls01 4085
    Software version: 6.424.2
    Ready: yes
admin >getLicenseUsage -csv
Editor,EditorId,Feature,Model,Commercial Type,Max Release Number,Max Release Date,Pricing \
Structure,Max Casual Duration,Expiration Date,Customer ID,Count,Inuse,Tokens,Casual Usage (mn),\
Host,User,Internal ID,Active Process,Client Code Version,Session ID,Granted Since,Last Used At,\
Granted At,Queue Position,
Dassault Systemes,5E756A80,MD2,NamedUser,STD,427,2026-12-31 00:59:00,YLC,0,2026-12-31 \
00:59:00,20417,5,1,,,eng-ws-07 (0a1b.0)/10.2.0.7,mlarsen,MD2,CATIA/CNEXT.exe ( 9120),6.427,\
3F1A22,2026-03-03 08:02:11,2026-03-03 09:40:18,2026-03-03 08:02:11,,
admin >quit
"""

LSMON = """  Sentinel RMS Development Kit 9.7.0.0021 Application Monitor
  Copyright (C) 2019 SafeNet, Inc.

 [Contacting Sentinel RMS Development Kit server on host "eng-lic03"]


 |- Feature Information
   |- Feature name                   : "PLANT_DESIGN"
   |- Feature version                : "12.0"
   |- Maximum concurrent user(s)     : 10
   |- Unreserved tokens in use       : 1

   |- Client Information
     |- User name                    : akim
     |- Host name                    : eng-ws-40
Press Enter to continue . . .
"""


def _named(admin: Services, tmp_path: Path, text: str) -> str:
    """What the import says of a file, offered as usage and as purchases (the same)."""
    path = tmp_path / "server.txt"
    path.write_text(text, encoding="utf-8")
    said: set[str] = set()
    for kind in (Kind.USAGE, Kind.ENTITLEMENTS):
        with pytest.raises(ImportFileError) as refused:
            admin.imports.preview(path, ImportOptions(kind))
        said.add(str(refused.value))
    (message,) = said
    return message


def test_lmx_licstat_output_offered_as_another_kind_is_named_as_usage(
    admin: Services, tmp_path: Path
) -> None:
    # As usage it is read (tests/ingest/test_lmx.py); as purchases it is named.
    path = tmp_path / "server.txt"
    path.write_text(LMX_LICSTAT, encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
    assert str(refused.value) == (
        "server.txt is X-Formation LM-X 'lmxendutil -licstat' output, which holds license "
        "usage: import it as usage ('seatledger import usage FILE'), which reads its checkouts."
    )
    assert admin.imports.preview(path, ImportOptions(Kind.USAGE)).records == 1


def test_dsls_license_usage_offered_as_another_kind_is_named_as_usage(
    admin: Services, tmp_path: Path
) -> None:
    # As usage it is read (tests/ingest/test_dsls.py); as purchases it is named, the table
    # alone too (saved as a .csv, not read as a table of unknown columns).
    path = tmp_path / "server.txt"
    table = DSLS_USAGE.partition("admin >getLicenseUsage -csv\n")[2].partition("admin >quit")[0]
    for text in (DSLS_USAGE, table):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ImportFileError) as refused:
            admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
        assert str(refused.value) == (
            "server.txt is Dassault Systèmes DSLS license usage ('DSLicSrv -admin', "
            "'getLicenseUsage'), which holds license usage: import it as usage ('seatledger "
            "import usage FILE'), which reads its sessions."
        )
    path.write_text(DSLS_USAGE, encoding="utf-8")
    assert admin.imports.preview(path, ImportOptions(Kind.USAGE)).records == 1
    # The table alone names no server: refused as usage, saying what to save instead.
    path.write_text(table, encoding="utf-8")
    with pytest.raises(ImportFileError, match=r"line 1: the license usage table names no"):
        admin.imports.preview(path, ImportOptions(Kind.USAGE))


def test_sentinel_lsmon_output_offered_as_another_kind_is_named_as_usage(
    admin: Services, tmp_path: Path
) -> None:
    # As usage it is read (tests/ingest/test_sentinel.py); as purchases it is named.
    path = tmp_path / "server.txt"
    path.write_text(LSMON, encoding="utf-8")
    with pytest.raises(ImportFileError) as refused:
        admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
    assert str(refused.value) == (
        "server.txt is Sentinel RMS 'lsmon' output, which holds license usage: import it as "
        "usage ('seatledger import usage FILE'), which reads its clients."
    )
    # This one has no 'Reserved tokens in use' line (cut short): refused by its line as usage.
    preview = admin.imports.preview(path, ImportOptions(Kind.USAGE))
    assert [(p.line, p.column) for p in preview.problems] == [(7, "reserved tokens in use")]
