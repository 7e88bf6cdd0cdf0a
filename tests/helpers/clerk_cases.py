"""Report files as clerks really send them: each case one file, and what chiso must do.

A case is either accepted (with the figures it must yield, in the sheet it must read, and
any warning it must give) or rejected (at one cell, with a message in both languages). The
reader's tests (tests/ingest/test_clerk_files.py) and the inbox's
(tests/ingest/test_clerk_inbox.py) run every case; docs/REPORT_FILES.md names each one.
"""

from __future__ import annotations

import shutil
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from tests.helpers.clerk_files import ExcelError, Formula, Percent, base_rows, put, received, write

UNIT, PERIOD = "20.178", "2025-06"
# every case's file arrives on the day June's report is due, at 09:00 in Hà Nội
RECEIVED_AT = datetime(2025, 7, 5, 2, tzinfo=UTC)
RECEIVED_ON = date(2025, 7, 5)
FIRST = "cloud_system_rate"  # row 9 of the base report: 1469 / 1859
FIRST_FIGURES = (1469, 1859)


@dataclass(frozen=True)
class Said:
    """A message located at a cell, checked in both languages (substrings)."""

    cell: str | None
    en: str
    vi: str


@dataclass(frozen=True)
class Case:
    name: str
    what: str  # what the clerk did, for docs/REPORT_FILES.md
    build: Callable[[Path], Path]  # writes the file into a folder, returns its path
    rejected: Said | None = None
    warnings: tuple[Said, ...] = ()
    figures: dict[str, tuple] = field(default_factory=dict)  # indicator -> (num, den, value)
    sheet: str | None = "Báo cáo"
    period: str = PERIOD
    unit: str = UNIT

    def make(self, folder: Path) -> Path:
        """The case's file written into a folder, with the time it arrived."""
        return received(self.build(folder), RECEIVED_AT)

    @property
    def accepted(self) -> bool:
        return self.rejected is None


def _rows(*cells: tuple[str, object]) -> list[list[object]]:
    rows = base_rows()
    for cell, value in cells:
        rows = put(rows, cell, value)
    return rows


def _file(name: str, *cells: tuple[str, object]) -> Callable[[Path], Path]:
    return lambda folder: write(folder / name, _rows(*cells))


def _province_rows(value_cells: dict[str, object]) -> list[list[object]]:
    """The province's own report (unit 20), with its non-ratio indicators' values."""
    rows = base_rows()[:8]
    rows = put(put(rows, "B2", "20"), "B3", "Tỉnh Lạng Sơn")
    for code, value in value_cells.items():
        rows.append([code, code, None, None, value, None])
    return rows


def _sheets_per_month(name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        sheets = []
        for month, numerator in (("04", 1401), ("05", 1433), ("06", 1469)):
            rows = _rows(("B4", f"{month}/2025"), ("C9", numerator))
            sheets.append((f"T{int(month)}", rows))
        return write(folder / name, sheets)

    return build


def _instructions_first(folder: Path) -> Path:
    guide = [["Hướng dẫn điền báo cáo"], ["Mã chỉ tiêu", "Ý nghĩa"], [FIRST, "điện toán đám mây"]]
    return write(
        folder / "instructions_first.xlsx", [("Hướng dẫn", guide), ("Sheet2", base_rows())]
    )


def _footer(folder: Path) -> Path:
    rows = base_rows() + [
        [],
        [None, None, None, "Lạng Sơn, ngày 05 tháng 7 năm 2025"],
        [None, "NGƯỜI LẬP BIỂU", None, None, "THỦ TRƯỞNG ĐƠN VỊ"],
        [None, "(Ký, ghi rõ họ tên)", None, None, "(Ký tên, đóng dấu)"],
        [],
        [None, "Lương Văn Chung", None, None, "Hoàng Văn Đạt"],
        ["Ghi chú: số liệu tính đến hết ngày 30/6/2025"],
    ]
    return write(folder / "footer.xlsx", rows)


def _column_inserted(folder: Path) -> Path:
    rows = [[None, *row] for row in base_rows()]
    rows[0][1] = None
    rows[0][0] = "UBND TỈNH LẠNG SƠN"
    return write(folder / "column_inserted.xlsx", rows)


def _renamed(source_suffix: str, name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        original = write(folder / f"original_{name}{source_suffix}", base_rows())
        target = folder / name
        shutil.move(original, target)
        return target

    return build


def _encrypted(folder: Path) -> Path:
    import msoffcrypto

    plain = write(folder / "plain.xlsx", base_rows())
    target = folder / "encrypted.xlsx"
    with open(plain, "rb") as source, open(target, "wb") as out:
        msoffcrypto.OfficeFile(source).encrypt("matkhau", out)
    plain.unlink()
    return target


def _nfd(folder: Path) -> Path:
    import unicodedata

    rows = [
        [unicodedata.normalize("NFD", v) if isinstance(v, str) else v for v in row]
        for row in base_rows()
    ]
    return write(folder / "nfd.csv", rows)


def _ods_with(entry: str, data: bytes, name: str) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        path = write(folder / name, base_rows())
        with zipfile.ZipFile(path, "a") as archive:
            archive.writestr(entry, data)
        return path

    return build


def _ods_linked(folder: Path) -> Path:
    path = write(folder / "linked.ods", base_rows())
    with zipfile.ZipFile(path) as archive:
        parts = {item.filename: archive.read(item.filename) for item in archive.infolist()}
    parts["content.xml"] = parts["content.xml"].replace(
        b"<table:table-row",
        b'<table:table-source xlink:href="file:///C:/khac.ods" table:table-name="T"/>'
        b"<table:table-row",
        1,
    )
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _far_cell(folder: Path) -> Path:
    from openpyxl import load_workbook

    path = write(folder / "far_cell.xlsx", base_rows())
    workbook = load_workbook(path)
    workbook.active["XFD1048576"] = "x"
    workbook.save(path)
    return path


def _damaged_styles(folder: Path) -> Path:
    path = write(folder / "damaged_styles.xlsx", base_rows())
    with zipfile.ZipFile(path) as archive:
        parts = {item.filename: archive.read(item.filename) for item in archive.infolist()}
    parts["xl/styles.xml"] = b"<styleSheet><cellXfs><xf numFmtId="
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return path


def _bytes(name: str, data: bytes) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        (folder / name).write_bytes(data)
        return folder / name

    return build


GROWTH = "data_driven_service_growth_rate"  # percent, not a ratio: the value is read
MODULES = "smart_service_module_count"  # a count
MULTIPLE = "digital_shop_transaction_growth_multiple"  # times


def _province(name: str, values: dict[str, object]) -> Callable[[Path], Path]:
    return lambda folder: write(folder / name, _province_rows(values))


CASES: list[Case] = [
    # -- every format units have -----------------------------------------------------------
    *(
        Case(
            f"format_{suffix[1:]}",
            f"the report saved as {suffix}",
            _file(f"format{suffix}"),
            figures={FIRST: (*FIRST_FIGURES, 79.0)},
            sheet=None if suffix == ".csv" else "Báo cáo",
        )
        for suffix in (".xlsx", ".xls", ".xlsb", ".ods", ".csv")
    ),
    # -- counts are whole numbers ----------------------------------------------------------
    Case(
        "count_english_thousands",
        "a count typed '1,469' (an English thousands comma)",
        _file("count_comma.csv", ("C9", "1,469")),
        rejected=Said("C9", "'1,469' is ambiguous: 1469", "không rõ nghĩa: là 1469"),
    ),
    Case(
        "count_decimal_comma",
        "a count typed '1859,5'",
        _file("count_decimal.csv", ("D9", "1859,5")),
        rejected=Said("D9", "'1859,5' is not a whole number", "không phải là số nguyên"),
    ),
    Case(
        "count_fraction_cell",
        "a count cell holding 1469.4 (a formula's result, formatted to show 1469)",
        _file("count_fraction.xlsx", ("C9", 1469.4)),
        rejected=Said("C9", "'1469.4' is not a whole number", "không phải là số nguyên"),
    ),
    Case(
        "count_vietnamese_thousands",
        "counts typed the Vietnamese way ('1.469', '1.859,0')",
        _file("count_vn.csv", ("C9", "1.469"), ("D9", "1.859,0")),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    # -- the report sheet, found by its content -------------------------------------------
    Case(
        "sheet_per_month",
        "one sheet per month (T4, T5, T6), the file named for June",
        _sheets_per_month("Bao cao T6-2025.xlsx"),
        figures={FIRST: (1469, 1859, 79.0)},
        sheet="T6",
    ),
    Case(
        "sheet_per_month_unnamed",
        "one sheet per month (T4, T5, T6), the file name saying no month",
        _sheets_per_month("bao_cao.xlsx"),
        rejected=Said(
            None,
            "the workbook has 3 report sheets: 'T4' (04/2025), 'T5' (05/2025), 'T6' (06/2025)",
            "sổ tính có 3 trang báo cáo",
        ),
    ),
    Case(
        "report_on_second_sheet",
        "an instructions sheet first, the report on the second sheet",
        _instructions_first,
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet="Sheet2",
    ),
    Case(
        "no_report_sheet",
        "a workbook with no report table",
        lambda folder: write(folder / "empty.xlsx", [("Sheet1", [["xin chào"]])]),
        rejected=Said(None, "no report table found", "không tìm thấy bảng báo cáo"),
        sheet=None,
    ),
    # -- the layout moved about ------------------------------------------------------------
    Case(
        "footer_and_signatures",
        "place and date, NGƯỜI LẬP BIỂU, THỦ TRƯỞNG ĐƠN VỊ and a note under the table",
        _footer,
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
    ),
    Case(
        "total_row_without_code",
        "a total row under the table, with figures and no indicator code",
        _file("total_row.csv", ("B19", "Tổng cộng"), ("C19", 9999), ("D19", 12000)),
        rejected=Said(
            "A19", "the row has figures but no indicator code", "dòng có số liệu nhưng thiếu"
        ),
    ),
    Case(
        "column_inserted",
        "a column inserted before the header block and the table",
        _column_inserted,
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
    ),
    Case(
        "period_in_words",
        "the period written out: 'Tháng 6 năm 2025'",
        _file("period_words.csv", ("B4", "Tháng 6 năm 2025")),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    Case(
        "period_name_mismatch",
        "a file named for May ('Bao cao T5-2025.csv') whose header says June",
        _file("Bao cao T5-2025.csv"),
        warnings=(Said("B4", "the file name says 2025-05 but the header says 2025-06", "tên tệp"),),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    # -- the date sent -----------------------------------------------------------------------
    Case(
        "sent_before_period_end",
        "a date sent before the month ended (20/06/2025 for June)",
        _file("sent_early.csv", ("B6", "20/06/2025")),
        warnings=(Said("B6", "before the period 2025-06 ended", "trước khi kỳ 06/2025 kết thúc"),),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    Case(
        "sent_years_ahead",
        "a date sent decades ahead (05/07/2053)",
        _file("sent_ahead.csv", ("B6", "05/07/2053")),
        warnings=(Said("B6", "is after chiso received the file", "sau ngày chiso nhận tệp"),),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    # -- percent cells -----------------------------------------------------------------------
    *(
        Case(
            f"percent_cell_{suffix[1:]}",
            f"a growth rate in a cell formatted as % ({suffix}: it holds 0.15 for 15 %)",
            _province(f"percent{suffix}", {GROWTH: Percent(0.15)}),
            figures={GROWTH: (None, None, 15.0)},
            unit="20",
        )
        for suffix in (".xlsx", ".xls", ".ods")
    ),
    Case(
        "percent_text",
        "a growth rate typed '15%'",
        _province("percent_text.csv", {GROWTH: "15%"}),
        figures={GROWTH: (None, None, 15.0)},
        unit="20",
        sheet=None,
    ),
    Case(
        "percent_unknown_xlsb",
        "a growth rate of 0.15 in an .xlsb (which does not say whether it shows 15 %)",
        _province("percent.xlsb", {GROWTH: 0.15}),
        rejected=Said("E9", "cannot tell whether 0.15 is shown as a percentage", "không xác"),
        unit="20",
    ),
    Case(
        "percent_on_a_count",
        "a count of modules in a cell formatted as %",
        _province("percent_count.xlsx", {MODULES: Percent(0.12)}),
        rejected=Said("E9", "measured in 'count', not percent", "không phải phần trăm"),
        unit="20",
    ),
    Case(
        "percent_on_times",
        "a growth multiple typed '150%'",
        _province("percent_times.csv", {MULTIPLE: "150%"}),
        rejected=Said("E9", "measured in 'times', not percent", "không phải phần trăm"),
        unit="20",
    ),
    Case(
        "count_value",
        "a count of modules typed '12'",
        _province("count_value.csv", {MODULES: "12"}),
        figures={MODULES: (None, None, 12.0)},
        unit="20",
        sheet=None,
    ),
    # -- unclear messages made clear -----------------------------------------------------------
    Case(
        "encrypted_workbook",
        "a workbook protected with a password",
        _encrypted,
        rejected=Said(None, "password-protected (encrypted)", "đặt mật khẩu"),
    ),
    Case(
        "xls_named_xlsx",
        "an old .xls saved under an .xlsx name",
        _renamed(".xls", "renamed_xls.xlsx"),
        warnings=(Said(None, "but is Excel 97–2003 .xls", "thực chất là Excel 97–2003 .xls"),),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
    ),
    Case(
        "ods_named_xlsx",
        "an .ods (LibreOffice) saved under an .xlsx name",
        _renamed(".ods", "renamed_ods.xlsx"),
        warnings=(Said(None, "but is OpenDocument .ods", "thực chất là OpenDocument .ods"),),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
    ),
    Case(
        "uncalculated_formula",
        "a numerator that is a formula saved without its value (a generated file)",
        _file("formula.xlsx", ("C9", Formula("1400+69"))),
        rejected=Said("C9", "formula saved without its value", "công thức chưa được tính"),
    ),
    Case(
        "excel_error_value",
        "a numerator showing #DIV/0!",
        _file("div0.xlsx", ("C9", ExcelError("#DIV/0!"))),
        rejected=Said("C9", "the Excel error #DIV/0!", "lỗi Excel #DIV/0!"),
    ),
    Case(
        "decomposed_unicode",
        "every text decomposed (NFD), as some Mac and web tools write it",
        _nfd,
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    Case(
        "zero_width_space_in_count",
        "a zero-width space pasted inside a count",
        _file("zwsp.csv", ("C9", "14\u200b69")),
        rejected=Said("C9", "'14⟨U+200B ZERO WIDTH SPACE⟩69'", "ký tự ẩn"),
    ),
    Case(
        "zero_width_space_in_code",
        "a zero-width space after an indicator code",
        _file("zwsp_code.csv", ("A9", f"{FIRST}\u200b")),
        rejected=Said(
            "A9",
            f"the indicator code '{FIRST}⟨U+200B ZERO WIDTH SPACE⟩' holds hidden characters",
            "chứa ký tự ẩn",
        ),
    ),
    Case(
        "zero_width_space_in_unit_code",
        "a zero-width space after the unit code",
        _file("zwsp_unit.csv", ("B2", f"{UNIT}\u200b")),
        rejected=Said(
            "B2", f"unit code '{UNIT}⟨U+200B ZERO WIDTH SPACE⟩' is not in the", "chứa ký tự ẩn"
        ),
    ),
    Case(
        "narrow_nbsp_thousands",
        "thousands grouped with a narrow no-break space ('1\u202f469')",
        _file("nnbsp.csv", ("C9", "1\u202f469")),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
    Case(
        "narrow_nbsp_misplaced",
        "a narrow no-break space inside a number, not grouping thousands ('14\u202f69')",
        _file("nnbsp_bad.csv", ("C9", "14\u202f69")),
        rejected=Said("C9", "'14⟨U+202F NARROW NO-BREAK SPACE⟩69' is not a number", "không"),
    ),
    Case(
        "overflowing_number",
        "a denominator typed '1e400' (overflows to infinity)",
        _file("overflow.csv", ("D9", "1e400")),
        rejected=Said("D9", "'1e400' is not a number", "không phải là số"),
    ),
    Case(
        "huge_number",
        "a denominator of 10^20",
        _file("huge.xlsx", ("D9", 1e20)),
        rejected=Said("D9", "too large", "quá lớn"),
    ),
    Case(
        "ods_with_macros",
        "an .ods holding macros",
        _ods_with("Basic/Standard/Module1.xml", b"<x/>", "macros.ods"),
        rejected=Said(None, "contains macros", "chứa macro"),
    ),
    Case(
        "ods_linked",
        "an .ods linking to another file",
        _ods_linked,
        rejected=Said(None, "links to other files", "liên kết tới tệp khác"),
    ),
    Case(
        "stray_far_cell",
        "a stray value typed in cell XFD1048576 (the sheet's very last cell)",
        _far_cell,
        rejected=Said(None, "reaches cell XFD1048576", "kéo dài tới ô XFD1048576"),
    ),
    Case(
        "stray_far_cell_xls",
        "a stray value in cell IV65536 of an .xls (its very last cell)",
        _file("far_cell.xls", ("IV65536", "x")),
        rejected=Said(None, "reaches cell IV65536", "kéo dài tới ô IV65536"),
    ),
    Case(
        "damaged_styles",
        "an .xlsx whose styles part is cut short (a broken save)",
        _damaged_styles,
        rejected=Said(None, "open it in Excel, save it again", "lưu lại rồi gửi lại"),
    ),
    Case(
        "pdf_named_xlsx",
        "a scanned PDF saved as .xlsx",
        _bytes("scan.xlsx", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"),
        rejected=Said(None, "the file is a PDF", "tệp là PDF"),
    ),
    Case(
        "utf16_text",
        "Excel's 'Unicode Text' (UTF-16, tab-separated)",
        lambda folder: _utf16(folder),
        figures={FIRST: (*FIRST_FIGURES, 79.0)},
        sheet=None,
    ),
]


def _utf16(folder: Path) -> Path:
    text = "\r\n".join("\t".join("" if v is None else str(v) for v in row) for row in base_rows())
    path = folder / "unicode_text.csv"
    path.write_bytes(b"\xff\xfe" + text.encode("utf-16-le"))
    return path


BY_NAME = {case.name: case for case in CASES}
assert len(BY_NAME) == len(CASES), "case names are unique"


# -- docs/REPORT_FILES.md's table of cases, rendered from what the reader says -------------

DOC = Path(__file__).resolve().parents[2] / "docs" / "REPORT_FILES.md"
BEGIN, END = "<!-- clerk cases: begin -->", "<!-- clerk cases: end -->"


def _cell_text(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def doc_table(folder: Path) -> str:
    """The table of every case: what the clerk did, the verdict, the cell, the message."""
    from ingest.sources.unit_files import read_report

    lines = [
        "| case | what the clerk did | verdict | cell | what chiso says (Vietnamese / English) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for case in CASES:
        made = folder / case.name
        made.mkdir(parents=True, exist_ok=True)
        report = read_report(case.make(made), received_on=RECEIVED_ON)
        said = report.errors[:1] if case.rejected else report.warnings[:1]
        if case.rejected:
            said = [p for p in report.errors if p.cell == case.rejected.cell][:1]
        verdict = "rejected" if case.rejected else "accepted, warning" if said else "accepted"
        if said:
            cell = said[0].cell or "—"
            message = " / ".join(_cell_text(t) for t in (said[0].message_vi, said[0].message_en))
        else:
            rows = {row.indicator_code: row for row in report.rows}
            cell = ", ".join(
                f"{rows[code].cells['value' if figures[0] is None else 'numerator']}"
                for code, figures in case.figures.items()
            )
            message = "; ".join(
                f"reads `{code}` = "
                + (f"{figures[2]:g}" if figures[0] is None else f"{figures[0]} / {figures[1]}")
                for code, figures in case.figures.items()
            )
        lines.append(
            f"| `{case.name}` | {_cell_text(case.what)} | {verdict} | {cell} | {message} |"
        )
    return "\n".join(lines)


def doc_block(folder: Path) -> str:
    return f"{BEGIN}\n{doc_table(folder)}\n{END}"


if __name__ == "__main__":  # python -m tests.helpers.clerk_cases: rewrite the table in the doc
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        text = DOC.read_text(encoding="utf-8")
        start, end = text.index(BEGIN), text.index(END) + len(END)
        DOC.write_text(text[:start] + doc_block(Path(tmp)) + text[end:], encoding="utf-8")
    print(f"rewrote the table of cases in {DOC}")
