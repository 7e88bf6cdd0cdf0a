"""The report template: generated from the catalog, read back by the same reader."""

from __future__ import annotations

import pytest
from openpyxl import load_workbook

from ingest.sources.unit_files import read_report
from ingest.template import INSTRUCTIONS_SHEET, TemplateError, write_template
from tests.helpers.data import set_csv_cell
from warehouse import reference


def test_xlsx_template_has_a_row_per_indicator_of_the_group_and_guidance(tmp_path):
    path = write_template("district", "2025-06", tmp_path / "huyen.xlsx", "20")
    expected = [i.code for i in reference.indicators_for_group("district", "20")]
    workbook = load_workbook(path)
    sheet = workbook.worksheets[0]
    assert workbook.sheetnames == ["Báo cáo", INSTRUCTIONS_SHEET]
    codes = [row[0] for row in sheet.iter_rows(min_row=9, values_only=True)]
    assert codes == expected
    assert sheet["B4"].value == "06/2025"
    validations = {str(v.sqref): v.type for v in sheet.data_validations.dataValidation}
    assert validations["B2"] == "list" and validations[f"C9:D{8 + len(expected)}"] == "whole"
    guide = [row[0] for row in workbook[INSTRUCTIONS_SHEET].iter_rows(values_only=True)]
    assert "work_record_online_rate" in guide


def test_a_blank_template_names_every_missing_cell(tmp_path):
    report = read_report(write_template("department", "2025-06", tmp_path / "so.xlsx", "20"))
    messages = [str(problem) for problem in report.errors]
    assert any("Mã đơn vị" in m and "header block" in m for m in messages)
    assert "Ô C9: chỉ tiêu tỷ lệ cần tử số; cell C9: a ratio indicator needs its numerator" in (
        messages
    )


def test_a_filled_csv_template_validates(tmp_path):
    path = write_template("district", "2025-06", tmp_path / "huyen.csv", "20")
    count = len(reference.indicators_for_group("district", "20"))
    set_csv_cell(path, path, "B2", "20.183")
    for row in range(9, 9 + count):
        set_csv_cell(path, path, f"C{row}", "45")
        set_csv_cell(path, path, f"D{row}", "1.200")
    report = read_report(path)
    assert report.problems == []
    assert (report.unit_code, report.period, len(report.rows)) == ("20.183", "2025-06", count)
    assert {(row.numerator, row.denominator) for row in report.rows} == {(45, 1200)}


def test_a_group_without_targets_is_a_clear_error(tmp_path):
    with pytest.raises(TemplateError, match="groups with one"):
        write_template("school", "2025-06", tmp_path / "x.xlsx", province_code="14")
