"""``chiso units import``: a province's list of schools checked row by row, imported whole or
not at all, re-imported without change, and a changed list recorded."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from chiso.cli import main
from chiso.samples.unit_lists import HEADINGS, list_rows, write_lists
from ingest.registry import for_settings
from ingest.sources.unit_files import read_report


def _write(path: Path, rows: list[list[str]], headings=HEADINGS) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([headings, *rows])
    return path


def _members(settings) -> dict[str, tuple]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        rows = conn.execute(
            "select unit_code, unit_name_vi, parent_unit_code, valid_to_on "
            "from raw.unit_list_members"
        ).fetchall()
    finally:
        conn.close()
    return {row[0]: row[1:] for row in rows}


def _import(path: Path, *extra: str) -> int:
    return main(["units", "import", str(path), "--group", "school", "--province", "20", *extra])


def test_a_valid_list_is_imported_once_and_its_units_report(settings, tmp_path, capsys):
    path, group, province = next(
        item for item in write_lists(tmp_path, ("20",)) if item[1] == "school"
    )
    rows = list_rows("20", "school")
    assert _import(path) == 0
    assert f"{len(rows)} added" in capsys.readouterr().out
    members = _members(settings)
    assert len(members) == len(rows) > 400  # about the size of Lạng Sơn's real list
    assert members["20.MN05977"][1] == "20.05977"  # in Phường Đông Kinh, by code and name
    # the same list again changes nothing and records nothing
    assert _import(path) == 0
    assert "nothing changed" in capsys.readouterr().out
    # the registry now knows the schools: a school's report file reads against it
    registry = for_settings(settings)
    assert registry.units["20.MN05977"].group == "school"
    landed = list((settings.landing_dir / "unit_lists").glob("*.csv"))
    assert len(landed) == 1 and landed[0].read_bytes() == path.read_bytes()


def test_a_changed_list_records_what_was_added_closed_and_renamed(settings, tmp_path, capsys):
    first = _write(
        tmp_path / "v1.csv",
        [
            ["TH1", "Trường Tiểu học Một", "05977", "Phường Đông Kinh", "", ""],
            ["TH2", "Trường Tiểu học Hai", "05977", "", "", ""],
            ["TH3", "Trường Tiểu học Ba", "", "Phường Đông Kinh", "", ""],
        ],
    )
    assert _import(first, "--effective-on", "2025-01-01") == 0
    second = _write(
        tmp_path / "v2.csv",
        [
            ["TH1", "Trường Tiểu học Một", "05977", "Phường Đông Kinh", "", ""],
            ["TH2", "Trường Tiểu học Số Hai", "05977", "", "", ""],
            ["TH4", "Trường Tiểu học Bốn", "05977", "", "01/09/2025", ""],
        ],
    )
    assert _import(second, "--effective-on", "2025-09-01") == 0
    assert "1 added, 1 closed, 1 renamed" in capsys.readouterr().out
    members = _members(settings)
    assert members["20.TH3"][2].isoformat() == "2025-08-31"  # closed, never deleted
    assert members["20.TH2"][0] == "Trường Tiểu học Số Hai"
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    changes = conn.execute(
        "select unit_code, change, old_value, new_value from raw.unit_list_changes "
        "order by import_id, unit_code, change"
    ).fetchall()
    imports = conn.execute("select count(*) from raw.unit_list_imports").fetchone()[0]
    conn.close()
    assert changes[3:] == [
        ("20.TH2", "renamed", "Trường Tiểu học Hai", "Trường Tiểu học Số Hai"),
        ("20.TH3", "closed", None, "2025-08-31"),
        ("20.TH4", "added", None, "Trường Tiểu học Bốn"),
    ]
    assert imports == 2
    registry = for_settings(settings)
    assert not registry.units["20.TH3"].exists_in("2025-09")


def test_a_list_with_bad_rows_is_refused_whole_with_every_row_named(settings, tmp_path, capsys):
    bad = _write(
        tmp_path / "bad.csv",
        [
            ["TH1", "Trường Tiểu học Một", "05977", "", "", ""],  # fine
            ["TH1", "Trường trùng mã", "05977", "", "", ""],  # duplicate code
            ["TH5", "", "05977", "", "", ""],  # no name
            ["TH6", "Trường Xa", "99999", "", "", ""],  # no such commune
            ["TH7", "Trường Sai Ngày", "05977", "", "31/02/2025", ""],  # no such date
            ["TH8", "Trường Đảo Ngày", "05977", "", "01/09/2025", "01/01/2025"],  # to < from
            ["TH9", "Trường Lệch", "05977", "Xã Mẫu Sơn", "", ""],  # code and name disagree
            ["SNV", "Trường trùng sở", "05977", "", "", ""],  # the code of a department
            ["TH10", "Trường Tỉnh Khác", "00004", "", "", ""],  # a commune of Hà Nội
        ],
    )
    assert _import(bad) == 1
    err = capsys.readouterr().err
    for row, column in [
        (3, "Mã đơn vị"),
        (4, "Tên đơn vị"),
        (5, "Mã xã"),
        (6, "Ngày bắt đầu"),
        (7, "Ngày kết thúc"),
        (8, "Xã"),
        (9, "Mã đơn vị"),
        (10, "Mã xã"),
    ]:
        assert f"dòng {row}, cột '{column}" in err and f"row {row}, column '{column}" in err
    assert "dòng 2," not in err
    assert "8 problem(s), nothing imported" in err
    assert not settings.warehouse_path.exists() or _members(settings) == {}


@pytest.mark.parametrize(
    ("headings", "message"),
    [
        (["Tên", "Xã"], "no heading row with 'Mã đơn vị'"),
        (["Mã đơn vị", "Tên đơn vị"], "no 'Mã xã' (commune code) or 'Xã' (commune) column"),
    ],
)
def test_a_list_without_the_columns_says_which_are_needed(
    settings, tmp_path, capsys, headings, message
):
    path = _write(tmp_path / "cols.csv", [["TH1", "Trường"]], headings=headings)
    assert _import(path) == 1
    assert message in capsys.readouterr().err


def test_an_imported_school_reports_and_an_unknown_one_is_refused(settings, tmp_path):
    from chiso.samples.report_files import generate

    path, _, _ = next(item for item in write_lists(tmp_path, ("20",)) if item[1] == "school")
    assert _import(path) == 0
    files = generate(tmp_path / "files", start="2024-10", end="2024-10", lists=True)
    school = next(f for f in files if ".MN05977_" in f.name)
    assert read_report(school, registry=for_settings(settings)).is_valid
    unknown = read_report(school)  # the built-in registry has no schools
    assert "20.MN05977" in str(unknown.errors[0]) and "registry" in str(unknown.errors[0])


@pytest.mark.parametrize("suffix", [".xls", ".ods"])
def test_a_list_kept_in_an_old_excel_or_libreoffice_file_imports_the_same(
    settings, tmp_path, capsys, suffix
):
    """The list reader is the report files' reader: every format a province keeps."""
    from tests.helpers.clerk_files import write

    rows = list_rows("20", "school")
    path = write(tmp_path / f"truong{suffix}", [("Danh sách", [list(HEADINGS), *rows])])
    assert _import(path) == 0
    assert f"{len(rows)} added" in capsys.readouterr().out
    assert _members(settings)["20.MN05977"][1] == "20.05977"
