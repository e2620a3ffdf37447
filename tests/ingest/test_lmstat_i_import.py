"""'lmutil lmstat -i' output imported as license file grants: through the service and the
command line (exit 0), or refused by file, line and field with nothing imported (exit 1 or 2).

Fixtures: ``tests/data/lmstat_i`` (its README says what each was modelled on); the figures were
counted by hand from them.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.conftest import PASSWORD

from seatledger import cli
from seatledger.ingest.formats import Kind
from seatledger.ingest.records import GrantRecord
from seatledger.ingest.tabular import ImportFileError
from seatledger.services.imports.options import ImportOptions
from seatledger.services.operators.session import Services

FIXTURES = Path(__file__).parents[1] / "data" / "lmstat_i"


def fixture(name: str) -> Path:
    return FIXTURES / f"{name}.txt"


def test_grants_need_the_server_they_are_of(admin: Services) -> None:
    with pytest.raises(ImportFileError, match="name the license server"):
        admin.imports.preview(fixture("v11_16_two_daemons"), ImportOptions(Kind.GRANTS))


def test_a_table_that_is_not_lmstat_i_is_not_read_as_grants(
    admin: Services, tmp_path: Path
) -> None:
    path = tmp_path / "grants.csv"
    path.write_text("Feature,Count,Expires\nMATLAB,40,2027-12-31\n")
    with pytest.raises(ImportFileError, match="is not the output of 'lmutil lmstat -i'"):
        admin.imports.preview(path, ImportOptions(Kind.GRANTS, server="27000@lic01"))


def test_offered_as_usage_it_is_named_with_what_to_do(admin: Services) -> None:
    with pytest.raises(ImportFileError, match=r"import grants FILE --server PORT@HOST"):
        admin.imports.preview(fixture("v11_16_two_daemons"), ImportOptions(Kind.USAGE))


def test_the_preview_samples_the_grants(admin: Services) -> None:
    options = ImportOptions(Kind.GRANTS, server="27000@lic01")
    preview = admin.imports.preview(fixture("windows_one_feature"), options)
    assert (preview.ok, preview.format_name, preview.records) == (True, "FlexNet lmstat -i", 2)
    assert preview.sample == [
        (10, ["CAD_DESIGNER", "2026.1", "6", "cadsrv", "2027-05-31"]),
        (11, ["CAD_DESIGNER", "2026.1", "2", "cadsrv", "permanent"]),  # 31-MAY-0
    ]
    preview = admin.imports.preview(fixture("v11_16_two_daemons"), options)
    assert preview.sample[4] == (
        14,
        ["MATLAB_Distrib_Comp_Engine", "52", "uncounted", "MLM", "2027-12-31"],
    )
    assert GrantRecord.__slots__ == ("line", "feature", "version", "count", "vendor", "expires")


# ----------------------------------------------------------------------------- command line


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def signed_in(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEATLEDGER_OPERATOR", "admin")
    monkeypatch.setenv("SEATLEDGER_PASSWORD", PASSWORD)


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    "case",
    [
        # Lines 10 to 17; MATLAB, Simulink, Signal_Toolbox, MATLAB_Distrib_Comp_Engine,
        # geo_seismic, geo_batch and geo_viewer: 7 features.
        ("v11_16_two_daemons", 8, "7 features match"),
        # Lines 7 to 12; solver_core, _pre, _post (twice), _mesh_adv, _hpc_pack: 5 features.
        ("expires_before_vendor", 6, "5 features match"),
        ("flexlm7_tabs", 4, "4 features match"),  # lines 9 to 12, one feature each
        ("windows_one_feature", 2, "1 feature matches"),  # lines 10 and 11, CAD_DESIGNER
    ],
    ids=lambda case: str(case[0]),
)
def test_a_complete_fixture_is_imported_by_the_command_line(
    admin: Services, db_url: str, capsys: pytest.CaptureFixture[str], case: tuple[str, int, str]
) -> None:
    name, rows, unmapped = case
    path = fixture(name)
    args = ("import", "grants", str(path), "--server", "27000@lic01", "--db", db_url)
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    assert f"{path.name}: FlexNet lmstat -i;" in out
    assert f"{path.name}: {rows} rows, {rows} new, 0 updated, 0 unchanged." in out
    assert f"  {unmapped} no normalization rule" in out  # no rule maps a feature yet
    batch = admin.imports.history()[0]
    assert (batch.kind, batch.rows, batch.inserted) == ("grants", rows, rows)
    code, out, err = _run(capsys, *args)
    assert code == 0, err
    assert f"{path.name} was imported before (same SHA-256); nothing changed." in out


@pytest.mark.usefixtures("signed_in")
@pytest.mark.parametrize(
    "case",
    [
        (
            "refused_cut_last_line",
            1,
            ("refused_cut_last_line.txt, line 17, line: is cut off",),
        ),
        (
            "refused_edited",
            1,
            (
                "refused_edited.txt, line 3, line: is not a line 'lmutil lmstat -i' writes",
                "refused_edited.txt, line 11, #licenses: is not a count of licenses",
                "refused_edited.txt, line 12, expires: is not an expiry lmstat writes",
            ),
        ),
        ("refused_lmstat_a_i", 2, ("refused_lmstat_a_i.txt holds 'lmutil lmstat -a' output",)),
    ],
    ids=lambda case: str(case[0]),
)
def test_a_refused_fixture_imports_nothing(
    admin: Services,
    db_url: str,
    capsys: pytest.CaptureFixture[str],
    case: tuple[str, int, tuple[str, ...]],
) -> None:
    name, code, said = case
    args = ("import", "grants", str(fixture(name)), "--server", "27000@lic01", "--db", db_url)
    got, out, err = _run(capsys, *args)
    assert got == 1, (out, err)  # refused by line (code 1) or whole (2): exit 1 either way
    for text in said:
        assert text in out + err
    if code == 1:
        assert "nothing was imported" in out
    assert admin.imports.history() == []
