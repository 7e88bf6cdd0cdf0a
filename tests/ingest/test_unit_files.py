"""The unit report reader: sample files read clean; broken files get precise, bilingual errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import load_workbook

from chiso.samples.report_files import generate, reported_indicators
from ingest.registry import default_registry
from ingest.sources.unit_files import read_report
from tests.helpers.data import set_csv_cell


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("samples")
    return {path.name: path for path in generate(out, start="2025-05", end="2025-06")}


def _csv(samples, tmp_path, edit) -> Path:
    text = samples["bao_cao_20.178_2025-06.csv"].read_text(encoding="utf-8-sig")
    path = tmp_path / "report.csv"
    path.write_text(edit(text), encoding="utf-8")
    return path


def test_every_sample_file_reads_clean(samples):
    for name, path in samples.items():
        report = read_report(path)
        assert report.problems == [], name
        assert report.period in ("2025-05", "2025-06")
        unit = default_registry().units[report.unit_code]
        assert [row.indicator_code for row in report.rows] == [
            indicator.code for indicator in reported_indicators(unit)
        ]


def test_vietnamese_numbers_in_csv_are_read_as_thousands(samples, tmp_path):
    path = tmp_path / "vn.csv"
    set_csv_cell(samples["bao_cao_20.178_2025-06.csv"], path, "D9", "1.138")
    set_csv_cell(path, path, "E9", "82,7")
    row = read_report(path).rows[0]
    assert (row.denominator, row.value) == (1138, 82.7)


def test_comma_delimited_csv_reads_the_same(samples):
    report = read_report(samples["bao_cao_20.186_2025-06.csv"])
    assert report.is_valid and report.unit_code == "20.186"


def test_xlsx_header_and_rows(samples):
    report = read_report(samples["bao_cao_20.SNV_2025-06.xlsx"])
    assert (report.unit_code, report.period, report.file_format) == ("20.SNV", "2025-06", "xlsx")
    assert report.sent_on.isoformat() == "2025-07-05"
    assert "work_record_online_rate" in {row.indicator_code for row in report.rows}


def test_a_word_in_a_number_cell_names_the_cell_in_both_languages(samples, tmp_path):
    path = tmp_path / "bad.xlsx"
    workbook = load_workbook(samples["bao_cao_20.SNV_2025-06.xlsx"])
    workbook.active["C9"] = "abc"
    workbook.save(path)
    report = read_report(path)
    assert not report.is_valid
    (problem,) = report.errors
    assert problem.cell == "C9"
    assert str(problem) == "Ô C9: 'abc' không phải là số; cell C9: 'abc' is not a number"
    assert problem.located("Báo cáo") == (
        "trang/sheet 'Báo cáo', dòng/row 9 — "
        "Ô C9: 'abc' không phải là số; cell C9: 'abc' is not a number"
    )


def test_unknown_unit_and_indicator_are_errors(samples, tmp_path):
    path = _csv(
        samples,
        tmp_path,
        lambda t: t.replace(";20.178", ";99.999").replace("work_record_online_rate", "wrong"),
    )
    messages = [str(p) for p in read_report(path).errors]
    assert any("'99.999'" in m and "reporting-unit registry" in m for m in messages)
    assert any("'wrong'" in m and "indicator catalog" in m for m in messages)


def test_missing_period_and_duplicate_indicator(samples, tmp_path):
    def edit(text: str) -> str:
        lines = text.splitlines()
        lines = [line for line in lines if not line.startswith("Kỳ báo cáo")]
        return "\n".join([*lines, lines[-1]]) + "\n"

    messages = [str(p) for p in read_report(_csv(samples, tmp_path, edit)).errors]
    assert any("Kỳ báo cáo" in m and "header block" in m for m in messages)
    assert any("appears twice" in m for m in messages)


def test_negative_number_is_an_error(samples, tmp_path):
    path = tmp_path / "negative.csv"
    set_csv_cell(samples["bao_cao_20.178_2025-06.csv"], path, "C9", "-941")
    (problem,) = read_report(path).errors
    assert problem.cell == "C9" and "negative" in problem.message_en


def test_file_without_table_heading(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("Mã đơn vị;20.178\nKỳ báo cáo;06/2025\nxin chào\n", encoding="utf-8")
    messages = [str(p) for p in read_report(path).errors]
    assert any("Mã chỉ tiêu" in m for m in messages)


def test_invalid_utf8_and_unsupported_types_are_rejected_clearly(tmp_path):
    latin = tmp_path / "latin.csv"
    latin.write_bytes("Mã đơn vị;20.178\n".encode("utf-16-le"))
    assert "UTF-8" in str(read_report(latin).errors[0])
    cp1258 = tmp_path / "cp1258.csv"
    cp1258.write_bytes(b"M\xe3 \xf0\xa5n v\xd2;20.178\n")  # Windows-1258 bytes
    assert "UTF-8" in str(read_report(cp1258).errors[0])
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(b"%PDF-1.4")
    assert ".xlsx" in str(read_report(pdf).errors[0])
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a workbook")
    assert "the file is damaged (its zip structure cannot be read)" in str(
        read_report(broken).errors[0]
    )


def test_a_report_from_an_abolished_district_is_rejected(samples, tmp_path):
    path = tmp_path / "late.csv"
    set_csv_cell(samples["bao_cao_20.178_2025-06.csv"], path, "B4", "08/2025")
    (problem,) = read_report(path).errors
    assert problem.cell == "B4"
    assert "did not exist in 2025-08" in problem.message_en
    assert "không tồn tại trong kỳ 2025-08" in problem.message_vi


def test_oversized_files_and_zip_bombs_are_refused_before_parsing(samples, monkeypatch):
    xlsx = samples["bao_cao_20.SNV_2025-06.xlsx"]
    monkeypatch.setenv("CHISO_MAX_FILE_BYTES", "1000")
    assert "the file is too large" in read_report(xlsx).errors[0].message_en
    monkeypatch.setenv("CHISO_MAX_FILE_BYTES", str(10**7))
    monkeypatch.setenv("CHISO_MAX_XLSX_EXPANDED_BYTES", "5000")  # the sample unpacks to more
    (problem,) = read_report(xlsx).errors
    assert problem.message_en.startswith("the file expands to") and "over the limit" in (
        problem.message_en
    )


def test_macros_and_odd_file_names_are_refused(samples, tmp_path):
    import shutil
    import zipfile

    renamed = tmp_path / "bao_cao.xlsx"
    shutil.copy(samples["bao_cao_20.SNV_2025-06.xlsx"], renamed)
    with zipfile.ZipFile(renamed, "a") as archive:
        archive.writestr("xl/vbaProject.bin", b"\x00macro")
    assert "contains macros" in read_report(renamed).errors[0].message_en
    odd = read_report(samples["bao_cao_20.178_2025-06.csv"], "bao\x07cao.csv")
    assert "control characters" in odd.errors[0].message_en
    sneaky = read_report(samples["bao_cao_20.178_2025-06.csv"], "../../etc/bao_cao.csv")
    assert "path components" in sneaky.errors[0].message_en


def test_external_links_a_huge_shared_strings_table_and_a_gigantic_line_are_refused(
    samples, tmp_path, monkeypatch
):
    import shutil
    import zipfile

    linked = tmp_path / "lien_ket.xlsx"
    shutil.copy(samples["bao_cao_20.SNV_2025-06.xlsx"], linked)
    with zipfile.ZipFile(linked, "a") as archive:
        archive.writestr("xl/externalLinks/externalLink1.xml", b"<externalLink/>")
    assert "external links" in read_report(linked).errors[0].message_en

    # a shared-strings table of 40 MB that compresses to a few hundred KB
    strings = tmp_path / "chuoi.xlsx"
    shutil.copy(samples["bao_cao_20.SNV_2025-06.xlsx"], strings)
    with zipfile.ZipFile(strings, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/sharedStrings2.xml", b"<si><t>x</t></si>" * 2_500_000)
    monkeypatch.setenv("CHISO_MAX_XLSX_EXPANDED_BYTES", str(20 * 1024 * 1024))
    assert strings.stat().st_size < 1024 * 1024
    refused = read_report(strings).errors[0]
    assert "expands to" in refused.message_en and "giải nén" in refused.message_vi

    # one gigantic line (under the file-size limit)
    line = tmp_path / "mot_dong.csv"
    line.write_text("x;" * 2_000_000, encoding="utf-8")
    error = read_report(line).errors[0]
    assert "a line of 4,000,000 characters" in error.message_en and "dài" in error.message_vi
