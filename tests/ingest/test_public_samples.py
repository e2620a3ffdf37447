"""Exports laid out as public samples of each tool show them: read exactly, or refused by name.

Each file in ``tests/data/public`` keeps the layout of a sample found in public material (a vendor
manual, an issue thread pasting real output, a published script's ``Export-Csv``); its README
names the source and the trait.  The names and figures are ours, and every figure asserted here
was counted by hand from the file (arithmetic in the comments), not taken from SeatLedger.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from seatledger.errors import KnownError
from seatledger.ingest import flexlm, flexlm_log
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import UsageRecord
from seatledger.ingest.tabular import ImportFileError, Problem, sniff
from seatledger.ingest.values import ValueProblem, employed
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services
from seatledger.store.models import Device, Entitlement, Installation, Person, SoftwareTitle

PUBLIC = Path(__file__).parents[1] / "data" / "public"


def _lmstat(name: str) -> tuple[flexlm.Snapshot, list[UsageRecord], list[str]]:
    problems: list[Problem] = []
    snapshot, records = flexlm.read_lmstat(sniff(PUBLIC / name), problems)
    found = list(records)
    return snapshot, found, [str(p) for p in problems]


def _checkouts(records: list[UsageRecord]) -> list[tuple[int, str, str, str, int, str]]:
    return [
        (r.line, r.feature, r.user, r.host, r.units, f"{r.checkout:%Y-%m-%d %H:%M}")
        for r in records
    ]


# ------------------------------------------------------------------------- lmstat -a samples


def test_an_lmutil_of_2006_on_windows_is_read() -> None:
    """ARM's knowledge article: v10.8.8.0, CRLF, 'License file(s) on licbox C:...' (no colon)."""
    snapshot, records, problems = _lmstat("lmstat_arm_v10_8_crlf.txt")
    assert problems == []
    assert snapshot.taken_at == dt.datetime(2009, 6, 2, 13, 50, tzinfo=dt.UTC)
    # rvd_arm: 1 of 10 in use, one line; rvd_rtos and rvd_trace: 0 of 10.
    assert _checkouts(records) == [(21, "rvd_arm", "pkumar", "devpc7", 1, "2009-06-02 13:01")]


def test_a_machine_account_and_a_cloud_host_are_read_as_written() -> None:
    """flexlm_exporter #80 (a cameo daemon, v11.19.0): the user 'twc-node2$' (a computer
    account), a host 'ip-10-1-2-3.ec2.internal', a display 'JavaDisplay', a vendor_string
    holding '|' and '\\u0020'."""
    snapshot, records, problems = _lmstat("lmstat_cameo_v11_19_machine_account.txt")
    assert problems == []
    assert snapshot.taken_at == dt.datetime(2023, 10, 2, 18, 32, tzinfo=dt.UTC)
    assert _checkouts(records) == [
        (20, "CC777Connections", "twc-node2$", "twc-node2", 1, "2023-09-24 13:21"),
        (21, "CC777Connections", "root", "ip-10-1-2-3.ec2.internal", 1, "2023-10-02 08:03"),
        (22, "CC777Connections", "jlambert", "wks-114", 1, "2023-10-02 09:47"),
    ]


def test_lingering_checkouts_count_their_licenses() -> None:
    """flexlm_exporter #10: '  (linger: 885098 / 1340160)' after the start and after ', 16
    licenses'; a display glued to the host ('UFRTR1LT00873750.0')."""
    _, records, problems = _lmstat("lmstat_v11_14_linger.txt")
    assert problems == []
    # 1 + 16 + 1 + 16 = 34, the "34 licenses in use" of line 15.
    assert [(r.line, r.user, r.units, r.handle) for r in records] == [
        (20, "hlefevre", 1, "1401"),
        (21, "hlefevre", 16, "1402"),
        (22, "biggs", 1, "101"),
        (23, "mkoch", 16, "1501"),
    ]
    assert sum(r.units for r in records) == 34


def test_a_queued_request_is_no_checkout() -> None:
    """flexlm_exporter #60 (v11.14 triad): the master indented two spaces and the other two at
    the margin, no blank line before 'Feature usage info:', and a request '... queued for 1
    license' under a feature whose 4 licenses are all in use."""
    snapshot, records, problems = _lmstat("lmstat_v11_14_triad_queued.txt")
    assert problems == []
    assert snapshot.servers == ("27096@eda-a", "27096@eda-b", "27096@eda-c")
    # anair twice (handles 201 and 305, a minute apart), bwu, cdiaz: 4 = "4 licenses in use";
    # edoe on line 25 waits and holds nothing.
    assert [(r.line, r.user, r.handle) for r in records] == [
        (21, "anair", "201"),
        (22, "anair", "305"),
        (23, "bwu", "410"),
        (24, "cdiaz", "512"),
    ]


def test_a_feature_line_at_the_margin_and_a_checkout_of_two() -> None:
    """flexlm_exporter #175 (COMSOL, v11.19.5): two blank lines after a heading, the feature line
    '"ACDC" v6.3, ...' at the margin; LicenseStatus v3.5's note: '..., start Sun 9/16 8:21, 2
    licenses'."""
    _, records, problems = _lmstat("lmstat_comsol_feature_at_margin.txt")
    assert problems == []
    assert _checkouts(records) == [
        (21, "ACDC", "matlab", "CLN-5CG3471WVY", 1, "2025-04-22 11:07"),
        # COMSOL: 2 + 1 = the 3 in use of line 25.
        (31, "COMSOL", "user11", "comp11", 2, "2025-04-22 08:21"),
        (32, "COMSOL", "matlab", "CLN-5CG3471WVY", 1, "2025-04-22 11:07"),
    ]


def test_license_pools_saved_by_windows_powershell_redirection() -> None:
    """flexlm_exporter #211 (MATLAB, a nodelocked and a floating pool, blank lines between all
    lines) saved with Windows PowerShell 5.1's '>' (UTF-16LE with BOM, CRLF)."""
    snapshot, records, problems = _lmstat("lmstat_matlab_pools_powershell_utf16.txt")
    assert problems == []
    assert snapshot.taken_at == dt.datetime(2026, 3, 20, 14, 2, tzinfo=dt.UTC)
    # 2 nodelocked + 2 floating = the "4 licenses in use" of line 14.
    assert [(r.line, r.user, r.host) for r in records] == [
        (22, "USER41", "SCU138559"),
        (24, "USER42", "F1U134710"),  # its display DAP130608 is not its host
        (32, "USER47", "SCU147152"),
        (34, "USER48", "F1U130219"),
    ]
    assert Counter(r.checkout.date() for r in records)[dt.date(2026, 3, 19)] == 1


def test_token_pools_name_the_product_after_the_display() -> None:
    """flexlm_exporter #213: a token pool's checkout names the product it was taken for after
    the display ('MSCONE:NASTRAN', 'ratl_DOORS_NG').  Before: read as users 'jdoe workstation1'
    and 'asmith ws-cae-02' (on host '/dev/pts/4'), 'bjones pc-dev01', 'mwilson pc-dev02'."""
    _, records, problems = _lmstat("lmstat_token_pools_subfeature.txt")
    assert problems == []
    assert [(r.line, r.feature, r.user, r.host, r.units) for r in records] == [
        # MSCONE: 5 + 8 = the 13 in use of line 16.
        (21, "MSCONE", "jdoe", "workstation1", 5),
        (22, "MSCONE", "asmith", "ws-cae-02", 8),
        # TLSTOK: 12 + 25 = the 37 in use of line 24; the display repeats the host (any case).
        (29, "TLSTOK", "bjones", "pc-dev01", 12),
        (30, "TLSTOK", "mwilson", "pc-dev02", 25),
    ]


def test_a_user_and_a_display_without_a_host() -> None:
    """flexlm_exporter #212 (MLM v11.19.7, a line of one space between all lines): 'tia4108
    /dev/pts/1 (v48)' names a user and a display.  Before: stored on host '/dev/pts/1'."""
    snapshot, records, problems = _lmstat("lmstat_v11_19_7_user_and_display_only.txt")
    assert problems == []
    # 1 reservation + 3 checkouts = the 4 in use of line 29.
    assert [(r.line, r.user, r.host) for r in records] == [
        (51, "aaa130219", "aaa130219"),
        (53, "tia4108", ""),
        (55, "f1u133029", "f1u133029"),
    ]
    assert snapshot.notes == (
        "line 53: user 'tia4108' on no host: '/dev/pts/1' is a display, not a host",
    )


def test_citrix_license_files_listed_on_a_second_line() -> None:
    """Citrix Licensing's lmstat page (v9.2): 'License files on ctxlic01:' (no '(s)'), the second
    file on a line of its own at the margin, two trailing spaces on every line."""
    snapshot, records, problems = _lmstat("lmstat_citrix_v9_2_two_license_files.txt")
    assert problems == []
    assert snapshot.servers == ("27000@ctxlic01",)
    assert [(r.line, r.user, r.handle) for r in records] == [
        (14, "xa-srv01", "2301"),
        (15, "xa-srv02", "2402"),
    ]


def test_citrix_documentation_excerpt_without_the_banner_is_refused_by_name() -> None:
    """The page's excerpt starts at 'License server status:': nothing dates the snapshot."""
    with pytest.raises(KnownError, match="no line 'Flexible License Manager status on <date>'"):
        _lmstat("lmstat_citrix_v9_2_doc_no_banner.txt")


# ------------------------------------------------------------ directory and HR people files


def _people(admin: Services) -> dict[str, tuple[str, str, str, dt.date | None]]:
    with admin.db.read() as session:
        rows = session.execute(
            select(Person.employee_id, Person.name, Person.email, Person.status, Person.date_left)
        ).all()
    return {r.employee_id: (r.name, r.email, r.status, r.date_left) for r in rows}


def test_a_select_object_subset_of_get_aduser_is_a_directory(admin: Services) -> None:
    """'Get-ADUser -Properties Name,SamAccountName,EmailAddress,Enabled | Select-Object ... |
    Export-Csv -NoTypeInformation -Encoding UTF8' (a published course script): no EmployeeID,
    no UserPrincipalName, no DistinguishedName.  Before: 7 people, Guest, krbtgt and Marc
    Tremblay (Enabled False) marked as leavers."""
    path = PUBLIC / "ad_select_object_subset.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    # 7 rows: Administrator, Guest, krbtgt, svc-backup are accounts; 3 people.
    assert (result.rows, result.inserted, result.not_people) == (7, 3, 4)
    assert _people(admin) == {
        "adubois": ("Amélie Dubois", "amelie.dubois@contoso.example", "active", None),
        # Enabled False: the account is disabled, HR has not said he left.
        "mtremblay": ("Marc Tremblay", "marc.tremblay@contoso.example", "active", None),
        "jlcote": ("Jean-Luc Côté", "", "active", None),
    }
    assert any(n.startswith("1 account is disabled in the directory") for n in result.notes)


def test_an_account_expiration_date_is_not_a_leaving_day(admin: Services) -> None:
    """'Get-ADUser -Properties *' columns in their alphabetical order, AccountExpirationDate set
    for Rita Okafor (3/31/2025).  Before: she was stored as left on 2025-03-31."""
    path = PUBLIC / "ad_account_expiration_date.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert (result.rows, result.inserted) == (2, 2)
    assert _people(admin) == {
        "E2001": ("Rita Okafor", "rita.okafor@contoso.example", "active", None),
        "E2002": ("Tomás Ruiz", "tomas.ruiz@contoso.example", "active", None),
    }
    assert any(n.startswith("1 account is past its expiration date") for n in result.notes)


def test_an_entra_id_export_is_a_directory_keyed_by_user_principal_name(
    admin: Services,
) -> None:
    """'Get-MgUser -All -Property ... | Select-Object UserPrincipalName, DisplayName, UserType,
    CreatedDateTime, AccountEnabled, Id, Mail | Export-Csv' (a published incident-response
    module).  Before: refused as '0 rows' with no Employee ID column."""
    path = PUBLIC / "entra_get_mguser.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    # 3 rows: two members, one guest (#EXT#) who is no person of ours.
    assert (result.rows, result.inserted, result.not_people) == (3, 2, 1)
    assert _people(admin) == {
        "a.dubois@contoso.example": ("Amélie Dubois", "a.dubois@contoso.example", "active", None),
        # AccountEnabled False: a disabled account, not a leaver.
        "m.tremblay@contoso.example": (
            "Marc Tremblay",
            "m.tremblay@contoso.example",
            "active",
            None,
        ),
    }


def test_a_file_without_an_id_column_says_how_many_rows_it_holds(
    admin: Services, tmp_path: Path
) -> None:
    """Refused for a missing column, the file's rows are still counted (not "0 rows")."""
    path = tmp_path / "entra_no_upn.csv"
    path.write_text("DisplayName,Mail\nAnn Lee,ann@example.org\nBo Chen,bo@example.org\n")
    preview = admin.imports.preview(path, ImportOptions(Kind.PEOPLE))
    assert preview.rows == 2
    assert [str(p) for p in preview.problems] == [
        "file, Employee ID: no column feeds this field; map one or use a saved mapping"
    ]


def test_an_hr_export_with_status_phrases_and_date_of_columns(admin: Services) -> None:
    """The layout of a widely used public HR data set: 'Employee_Name' as 'Last, First', EmpID,
    DateofHire, DateofTermination, EmploymentStatus 'Active', 'Voluntarily Terminated',
    'Terminated for Cause'.  Before: refused, the statuses unknown."""
    path = PUBLIC / "hr_dataset_status_phrases.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert (result.rows, result.inserted) == (4, 4)
    assert _people(admin) == {
        "10026": ("Okafor, Rita", "", "active", None),
        "10084": ("Ruiz, Tomás", "", "left", dt.date(2016, 6, 16)),
        "10196": ("Nakamura, Ken", "", "left", dt.date(2012, 9, 24)),
        "10088": ("Berg, Anna", "", "left", dt.date(2014, 1, 10)),
    }


@pytest.mark.parametrize(
    ("status", "here"),
    [
        ("Voluntarily Terminated", False),
        ("Terminated for Cause", False),
        ("Involuntary Termination", False),
        ("Terminated - Resigned", False),
        ("Active", True),
    ],
)
def test_a_status_phrase_of_leaving_is_read(status: str, here: bool) -> None:
    assert employed(status) is here


@pytest.mark.parametrize("status", ["Not terminated", "Active - terminated", "Pre-termination"])
def test_a_status_phrase_saying_both_is_refused(status: str) -> None:
    with pytest.raises(ValueProblem):
        employed(status)


# ---------------------------------------------------------------- single-PC software exports


def _installs(admin: Services) -> list[tuple[str, str, str, int]]:
    with admin.db.read() as session:
        rows = session.execute(
            select(Device.hostname, SoftwareTitle.title, SoftwareTitle.version)
            .add_columns(Installation.source_line)
            .join(Installation, Installation.device_id == Device.id)
            .join(SoftwareTitle, SoftwareTitle.id == Installation.title_id)
            .order_by(Installation.source_line)
        ).all()
    return [(r[0], r[1], r[2], r[3]) for r in rows]


def test_a_local_registry_listing_of_both_hives(admin: Services) -> None:
    """'Get-ItemProperty HKLM:\\...\\Uninstall\\*, HKLM:\\...\\Wow6432Node\\...\\Uninstall\\* |
    Select-Object DisplayName, DisplayVersion, Publisher, InstallDate | Export-Csv' with no
    Where-Object (as several published scripts): keys without a value at all (',,,', lines 3
    and 6) and one install listed by both hives (lines 7 and 8).  Before: refused, lines 3 and
    6 'DisplayName is empty' (the host given with --host filled the blank rows)."""
    path = PUBLIC / "registry_uninstall_local_two_hives.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.INVENTORY, host="PC-0417"))
    # 8 lines under the header: 2 blank, 6 rows, 5 installs and 1 repeated.
    assert (result.rows, result.inserted, result.repeated) == (6, 5, 1)
    assert "1 repeated (the same as an earlier line)" in result.summary()
    assert [(line, title) for _, title, _, line in _installs(admin)] == [
        (2, "7-Zip 23.01 (x64)"),
        (4, "Microsoft Visual C++ 2015-2022 Redistributable (x64) - 14.38.33135"),
        (5, "Adobe Acrobat (64-bit)"),
        (8, "Microsoft Update Health Tools"),  # the later of the two lines
        (9, "Notepad++ (64-bit x64)"),
    ]


def test_uninstall_keys_without_a_display_name_are_no_programs(admin: Services) -> None:
    """Through Invoke-Command every row has PSComputerName: a key without a DisplayName is
    ',,,,"PC-0417"' (line 4), or has a version alone (line 6).  Before: refused by line."""
    path = PUBLIC / "registry_uninstall_remote_nameless_keys.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.INVENTORY))
    # 5 rows: 3 installs (7-Zip on two machines, Acrobat), 2 keys without a program.
    assert (result.rows, result.inserted, result.repeated) == (5, 3, 0)
    assert (
        "2 Uninstall keys have no DisplayName (first on line 4): Windows lists no program for "
        "such a key, so none is imported."
    ) in result.notes
    assert _installs(admin) == [
        ("PC-0417", "7-Zip 23.01 (x64)", "23.01", 3),
        ("PC-0417", "Adobe Acrobat (64-bit)", "24.002.20933", 5),
        ("PC-0418", "7-Zip 23.01 (x64)", "23.01", 7),
    ]


def test_a_nameless_row_elsewhere_is_still_a_problem(admin: Services, tmp_path: Path) -> None:
    """Only a registry listing's keys may lack a title: an SCCM row without one is refused."""
    path = tmp_path / "sccm.csv"
    path.write_text(
        '"Netbios_Name0","DisplayName0","Publisher0","Version0"\n'
        '"PC-1","7-Zip","Igor Pavlov","23.01"\n"PC-1",,,"1.0"\n'
    )
    preview = admin.imports.preview(path, ImportOptions(Kind.INVENTORY))
    assert [str(p) for p in preview.problems] == [
        "line 3, DisplayName0 (Title): is empty; every row needs one"
    ]


def test_win32_product_of_one_machine(admin: Services) -> None:
    """'Get-WmiObject Win32_Product | Select-Object Name, Vendor, Version, InstallDate |
    Export-Csv' run on the machine: a #TYPE line, InstallDate as yyyyMMdd."""
    path = PUBLIC / "win32_product_local.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.INVENTORY, host="PC-0417"))
    assert (result.rows, result.inserted) == (3, 3)
    with admin.db.read() as session:
        days = session.scalars(
            select(Installation.install_date).order_by(Installation.source_line)
        ).all()
    assert days == [dt.date(2024, 1, 12), dt.date(2024, 3, 8), dt.date(2024, 2, 20)]


# ------------------------------------------------------------------------------- Snipe-IT


def test_snipeit_mock_licenses_with_notes_over_several_lines(admin: Services) -> None:
    """Snipe-IT's own sample_csvs/MOCK_LICENSES.csv layout: 'purchase_order' with an underscore,
    '$79.66', notes holding blank lines inside quotes (a row spans three lines), an empty
    manufacturer and supplier."""
    path = PUBLIC / "snipeit_mock_licenses_multiline_notes.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.SNIPEIT))
    assert (result.rows, result.inserted) == (3, 3)
    with admin.db.read() as session:
        rows = session.execute(
            select(
                Entitlement.quantity,
                Entitlement.unit_cost,
                Entitlement.currency,
                Entitlement.po_reference,
                Entitlement.term_start,
                Entitlement.term_end,
            ).order_by(Entitlement.id)
        ).all()
    assert [tuple(r) for r in rows] == [
        # $79.66 for 80 seats: 0.99575, stored to 4 places; the purchase order 53008.
        (80, Decimal("0.9958"), "USD", "53008", dt.date(2012, 7, 13), dt.date(2016, 1, 27)),
        # $17.47 / 5 = 3.494
        (5, Decimal("3.494"), "USD", "57537", dt.date(2002, 3, 5), dt.date(2016, 9, 10)),
        # No purchase order: the order number stands in; $97.34 / 32 = 3.041875.
        (32, Decimal("3.0419"), "USD", "220460709-6", dt.date(2011, 2, 8), dt.date(2016, 5, 7)),
    ]


# --------------------------------------------------------------------- Microsoft 365 reports


@pytest.mark.parametrize(
    "name", ["m365_teams_user_activity_detail.csv", "m365_office_activations_user_detail.csv"]
)
def test_another_microsoft_365_report_is_named_not_read(admin: Services, name: str) -> None:
    """Graph's getTeamsUserActivityUserDetail and getOffice365ActivationsUserDetail CSVs (their
    documented headers) start as the active user detail report does but name no workload's
    last activity.  Before: "no column feeds this field" for User, Product and Checkout."""
    with pytest.raises(ImportFileError) as refused:
        admin.imports.preview(PUBLIC / name, ImportOptions(Kind.USAGE))
    message = str(refused.value)
    assert message.startswith(
        f"{name} is a Microsoft 365 usage report other than the active user detail report"
    )
    assert "Get-MgReportOffice365ActiveUserDetail" in message


def test_names_lost_to_an_ascii_export_are_refused_by_line(admin: Services, tmp_path: Path) -> None:
    """Windows PowerShell 5.1's Export-Csv writes ASCII unless given -Encoding UTF8 (its
    documentation: "The default value is ASCII"): 'Amélie' arrives as 'Am?lie'.  Before: the
    names HR gave were overwritten with the '?' ones, exit 0."""
    hr = tmp_path / "hr.csv"
    hr.write_text(
        "Employee ID,Full Name,Email Address,Employment Status\n"
        "E2001,Amélie Dubois,amelie.dubois@contoso.example,Active\n"
        "E2002,Jürgen Weiß,juergen.weiss@contoso.example,Active\n",
        encoding="utf-8",
    )
    admin.imports.commit(hr, ImportOptions(Kind.PEOPLE))
    preview = admin.imports.preview(
        PUBLIC / "ad_export_csv_default_ascii.csv", ImportOptions(Kind.PEOPLE)
    )
    lossy = "holds '?' where a letter was: the file was saved in an encoding without that letter"
    assert [(p.line, p.column, p.value) for p in preview.problems] == [
        (3, "Name (Full name)", "Am?lie Dubois"),
        (4, "Name (Full name)", "J?rgen Wei?"),
    ]
    assert all(p.reason.startswith(lossy) for p in preview.problems)
    assert {name for name, *_ in _people(admin).values()} == {"Amélie Dubois", "Jürgen Weiß"}


def test_an_employee_number_written_with_a_number_sign(admin: Services) -> None:
    """BambooHR labels its employee number "Employee #" (docs/import-formats.md 1.1).  Before:
    refused, no column feeds Employee ID ('#' was dropped, leaving "employee")."""
    path = PUBLIC / "hr_bamboohr_employee_number_sign.csv"
    result = admin.imports.commit(path, ImportOptions(Kind.PEOPLE))
    assert (result.rows, result.inserted) == (2, 2)
    assert _people(admin) == {
        "101": ("Ann Lee", "ann.lee@example.org", "active", None),
        # Inactive, with a termination date of 10/31/2026.
        "102": ("Bo Chen", "bo.chen@example.org", "left", dt.date(2026, 10, 31)),
    }


def test_runs_appended_to_one_file_are_refused_by_name() -> None:
    """ARM's article suggests a script running lmstat at intervals to estimate the peak; with
    '>>' the runs pile up in one file (status lines 2 and 28, 13:50 and 14:05).  Before: read
    as one snapshot of 13:50 holding jlee's checkout of 14:00, every checkout of every run open
    at once."""
    with pytest.raises(ImportFileError, match=r"holds 2 runs of 'lmutil lmstat -a'") as refused:
        _lmstat("lmstat_two_runs_appended.txt")
    assert "their status lines are lines 2, 28" in str(refused.value)


@pytest.mark.parametrize(
    ("name", "server", "lines"),
    [
        # Windows, 'lsmon eng-lic03 >> file' twice, each run ending at its "Press Enter to
        # continue" prompt.  Before: the 5 clients read twice ('#2' handles), 10, exit 0.
        ("lsmon_windows_two_runs_appended.txt", "eng-lic03", "4, 129"),
        # UNIX, 'lsmon [Poll-interval] [Server-host]' (Sentinel RMS's documentation): a run a
        # poll, one under the other.  Before: refused as an edited feature block.
        ("lsmon_unix_poll_interval_two_polls.txt", "lic-plm.corp.example", "4, 83"),
    ],
)
def test_lsmon_runs_in_one_file_are_refused_by_name(
    admin: Services, name: str, server: str, lines: str
) -> None:
    with pytest.raises(ImportFileError) as refused:
        admin.imports.preview(PUBLIC / name, ImportOptions(Kind.USAGE))
    message = str(refused.value)
    assert f"holds several runs of lsmon against {server} appended" in message
    assert f"lines {lines})" in message


def test_a_thousands_dot_of_a_german_excel_is_refused_by_line(admin: Services) -> None:
    """A purchase list re-saved by a German Excel (docs/import-formats.md 0: ';', dd.MM.yyyy,
    '#.##0' amounts): '1.200' is 1,200 EUR there and 1.2 in an English file.  Before: 25
    Acrobat seats stored at 1.20 EUR each, exit 0."""
    path = PUBLIC / "purchases_german_excel_thousands.csv"
    preview = admin.imports.preview(path, ImportOptions(Kind.ENTITLEMENTS))
    assert [(p.line, p.column, p.value) for p in preview.problems] == [
        (2, "Unit Price (Unit cost)", "1.200")
    ]
    assert preview.problems[0].reason.startswith("is ambiguous: 1.200 is 1200 where '.' groups")


def test_a_debug_log_of_fully_qualified_user_names() -> None:
    """On Linux hosts joined to AD with SSSD's use_fully_qualified_names, a user is
    'jdoe@corp.example' and lmgrd logs 'jdoe@corp.example@node017'.  Before: every such OUT,
    IN and DENIED line refused as 'not a whole OUT line'."""
    problems: list[Problem] = []
    log, records = flexlm_log.read_debug_log(
        sniff(PUBLIC / "flexlm_log_sssd_qualified_users.log"), problems
    )
    sessions = sorted(
        (r.line, r.feature, r.user, r.host, f"{r.checkout:%H:%M:%S}", r.checkin) for r in records
    )
    assert [str(p) for p in problems] == []

    def at(hms: str) -> dt.datetime:
        return dt.datetime.fromisoformat(f"2026-03-02T{hms}+00:00")

    assert sessions == [
        (8, "MATLAB", "jdoe@corp.example", "node017", "08:14:02", at("09:14:03")),
        (9, "MATLAB", "bkim", "ws-102", "08:20:40", None),  # still out at the end
        (
            10,
            "Parallel_Computing_Toolbox",
            "jdoe@corp.example",
            "node017",
            "08:21:05",
            at("09:14:02"),
        ),
    ]
    assert [(d.line, d.user, d.host, d.capacity) for d in log.denials] == [
        (13, "rlopez@corp.example", "node018", True)
    ]
