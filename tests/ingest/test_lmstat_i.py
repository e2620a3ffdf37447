"""'lmutil lmstat -i' output: what a license file grants, read exactly or refused by line.

The fixtures are SeatLedger's own, in ``tests/data/lmstat_i`` (its README says which public
outputs each was modelled on).  Every figure asserted here was counted by hand from the file, with
the arithmetic in the comments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from seatledger.ingest import flexlm_grants
from seatledger.ingest.tabular import ImportFileError, Problem, sniff

FIXTURES = Path(__file__).parents[1] / "data" / "lmstat_i"
D = dt.date


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.txt"


def read(name: str) -> tuple[flexlm_grants.GrantList, list[Problem]]:
    problems: list[Problem] = []
    return flexlm_grants.read_grants(sniff(fixture(name)), problems), problems


def grants(name: str) -> list[tuple[int, str, str, int | None, str, dt.date | None]]:
    listing, problems = read(name)
    assert problems == []
    return [(g.line, g.feature, g.version, g.count, g.vendor, g.expires) for g in listing.grants]


# ----------------------------------------------------------------------------- the reader


def test_two_daemons_vendor_before_expiry() -> None:
    listing, _ = read("v11_16_two_daemons")
    # Line 2 under the banner: "Mon 11/30/2026 09:12".
    assert (listing.taken_at, listing.dated_on) == (
        dt.datetime(2026, 11, 30, 9, 12, tzinfo=dt.UTC),
        2,
    )
    # The table starts on line 10, after the heading (8) and its underscores (9).
    assert grants("v11_16_two_daemons") == [
        (10, "MATLAB", "52", 40, "MLM", D(2027, 12, 31)),
        (11, "MATLAB", "52", 10, "MLM", D(2027, 6, 30)),  # a second INCREMENT of one feature
        (12, "Simulink", "52", 15, "MLM", D(2027, 12, 31)),
        (13, "Signal_Toolbox", "52", 5, "MLM", None),  # permanent(no expiration date)
        (14, "MATLAB_Distrib_Comp_Engine", "52", None, "MLM", D(2027, 12, 31)),  # uncounted
        (15, "geo_seismic", "2026.06", 40, "geolmd", None),  # 1-jan-0: a year of 0
        (16, "geo_batch", "2026.06", 50, "geolmd", None),  # 01-jan-0000
        (17, "geo_viewer", "2026.06", None, "geolmd", D(2027, 3, 15)),  # 0: uncounted
    ]


def test_expiry_before_vendor_with_no_banner() -> None:
    listing, _ = read("expires_before_vendor")
    assert (listing.taken_at, listing.dated_on) == (None, 0)  # the note alone: no time
    assert grants("expires_before_vendor") == [
        (7, "solver_core", "2026.12", 400, "fealmd", D(2026, 12, 31)),
        (8, "solver_pre", "2026.12", 25, "fealmd", D(2026, 12, 31)),
        (9, "solver_post", "2026.12", 25, "fealmd", D(2026, 12, 31)),
        (10, "solver_post", "2026.12", 5, "fealmd", D(2026, 9, 30)),
        (11, "solver_mesh_adv", "2026.09", 1, "fealmd", D(2026, 9, 30)),
        (12, "solver_hpc_pack", "2026.09", 1, "fealmd", None),
    ]


def test_flexlm_7_tabs_and_truncated_names() -> None:
    # "Feature<tabs>Version<tab>  # licenses    Expires<tabs>Vendor"; FLEXlm cut feature names
    # to 23 characters ("%-23.23s"): cad_translator_step_iges_pack is what the file says.
    assert grants("flexlm7_tabs") == [
        (9, "cad_modeler", "6.300", 12, "cadlmd", None),  # 1-jan-00
        (10, "cad_render", "6.300", 4, "cadlmd", D(2027, 3, 31)),
        (11, "cad_viewer", "6.300", None, "cadlmd", None),  # 0 and 1-jan-0
        (12, "cad_translator_step_ige", "6.200", 2, "cadlmd", D(2027, 3, 31)),
    ]


def test_one_feature_from_windows() -> None:
    listing, _ = read("windows_one_feature")  # CR LF line ends, upper-case months
    assert listing.taken_at == dt.datetime(2026, 12, 3, 16, 40, tzinfo=dt.UTC)
    assert grants("windows_one_feature") == [
        (10, "CAD_DESIGNER", "2026.1", 6, "cadsrv", D(2027, 5, 31)),
        (11, "CAD_DESIGNER", "2026.1", 2, "cadsrv", None),  # 31-MAY-0
    ]


def test_a_cut_last_line_is_refused_even_where_it_reads() -> None:
    listing, problems = read("refused_cut_last_line")
    assert [str(p).split(" (value")[0] for p in problems] == [
        "line 17, line: is cut off: the file ends in the middle of it (lmstat ends every line); "
        "save the whole output of 'lmutil lmstat -i' again"
    ]
    assert len(listing.grants) == 7  # lines 10 to 16


def test_an_edited_file_is_refused_by_line_and_field() -> None:
    _, problems = read("refused_edited")
    assert [(p.line, p.column, p.value) for p in problems] == [
        (3, "line", "(copied from lic01 for the true-up)"),
        (11, "#licenses", "15+5"),
        (12, "expires", "31-dec-27"),  # two digits: not read as a century
    ]


@pytest.mark.parametrize(
    ("table", "said"),
    [
        ("MATLAB  52  40  MLM\n", "line 10, line: is not a feature line"),
        ("MATLAB  52  40  MLM  31-feb-2027\n", "line 10, expires: is not an expiry"),
        ("MATLAB  52  40  MLM  31-dez-2027\n", "line 10, expires: is not an expiry"),
        ("MATLAB  52  -4  MLM  31-dec-2027\n", "line 10, #licenses: is not a count"),
        ("", "file: lists no feature under its heading"),
    ],
)
def test_lines_that_are_not_feature_lines_are_refused(
    tmp_path: Path, table: str, said: str
) -> None:
    head = fixture("v11_16_two_daemons").read_text().splitlines(keepends=True)[:9]
    path = tmp_path / "lmstat-i.txt"
    path.write_text("".join(head) + table)
    problems: list[Problem] = []
    flexlm_grants.read_grants(sniff(path), problems)
    assert [str(p) for p in problems if str(p).startswith(said)] != [], problems
    assert len(problems) == 1


def test_lmstat_a_and_i_together_are_refused_as_a_whole() -> None:
    with pytest.raises(ImportFileError, match="holds 'lmutil lmstat -a' output"):
        read("refused_lmstat_a_i")
