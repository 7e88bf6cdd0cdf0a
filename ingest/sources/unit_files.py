"""Unit report files (xlsx / csv): the layout, the reader and its validation.

A report file has a header block (one label per row in column A, its value in column B),
then a table whose heading row starts with "Mã chỉ tiêu" and holds one row per indicator.
Labels are matched without accents or case, and the English gloss in brackets is ignored,
so hand-edited files still read. Entry point: :func:`read_report`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ingest.parsing import ParseError, normalize_label, parse_date, parse_number, parse_period
from ingest.registry import Registry, default_registry
from warehouse import reference

TITLE = "BÁO CÁO CHỈ SỐ CHUYỂN ĐỔI SỐ (Digital transformation indicator report)"
SHEET_NAME = "Báo cáo"

# header key -> label written in files (Vietnamese, English gloss in brackets)
HEADER_LABELS = {
    "unit_code": "Mã đơn vị (unit code)",
    "unit_name": "Tên đơn vị (unit name)",
    "period": "Kỳ báo cáo (period, MM/YYYY)",
    "reporter": "Người báo cáo (reporter)",
    "sent_on": "Ngày gửi (date sent, dd/mm/yyyy)",
}
# table column key -> heading written in files
COLUMN_LABELS = {
    "indicator_code": "Mã chỉ tiêu (indicator code)",
    "indicator_name": "Tên chỉ tiêu (indicator)",
    "numerator": "Tử số (numerator)",
    "denominator": "Mẫu số (denominator)",
    "value": "Giá trị (value, %)",
    "note": "Ghi chú (note)",
}
_HEADER_KEYS = {normalize_label(label): key for key, label in HEADER_LABELS.items()}
_COLUMN_KEYS = {normalize_label(label): key for key, label in COLUMN_LABELS.items()}
_REQUIRED_COLUMNS = ("indicator_code", "numerator", "denominator")
SUPPORTED_SUFFIXES = (".xlsx", ".csv")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a file, located by cell, said in Vietnamese and English."""

    message_vi: str
    message_en: str
    cell: str | None = None
    severity: str = "error"  # or "warning": reported, but the file is still accepted

    @property
    def row(self) -> int | None:
        """The spreadsheet row of the cell (1-based), if the problem has a cell."""
        return int("".join(ch for ch in self.cell if ch.isdigit())) if self.cell else None

    def located(self, sheet: str | None) -> str:
        """The message with its sheet and row, for people reading a list of problems."""
        where = [f"trang/sheet '{sheet}'"] if sheet else []
        where += [f"dòng/row {self.row}"] if self.row else []
        return f"{', '.join(where)} — {self}" if where else str(self)

    def __str__(self) -> str:
        where_vi = f"Ô {self.cell}: " if self.cell else ""
        where_en = f"cell {self.cell}: " if self.cell else ""
        return f"{where_vi}{self.message_vi}; {where_en}{self.message_en}"


@dataclass(frozen=True)
class ReportRow:
    source_row: int
    indicator_code: str
    numerator: float | None
    denominator: float | None
    value: float | None
    note: str | None


@dataclass
class Report:
    file_name: str
    file_format: str
    sheet: str | None = None  # the xlsx sheet read (CSV: none)
    unit_code: str | None = None
    period: str | None = None
    reporter: str | None = None
    sent_on: date | None = None
    rows: list[ReportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def is_valid(self) -> bool:
        return not self.errors


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell(row: int, col: int) -> str:
    """A1-style reference for 0-based row and column indexes."""
    return f"{_column_letter(col)}{row + 1}"


def _read_xlsx(path: Path) -> tuple[str, list[list[object]]]:
    """The report sheet's cells; formula cells give their cached values, never evaluated."""
    from openpyxl import load_workbook

    workbook = load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = (
            workbook[SHEET_NAME] if SHEET_NAME in workbook.sheetnames else workbook.worksheets[0]
        )
        return sheet.title, [list(row) for row in sheet.iter_rows(values_only=True)]
    finally:
        workbook.close()


MAX_CSV_LINE = 10_000  # characters: a report row is a few hundred


def _read_csv(path: Path) -> list[list[object]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"tệp không ở dạng UTF-8 (byte {exc.start}); hãy lưu lại dưới dạng CSV UTF-8",
            f"the file is not UTF-8 (byte {exc.start}); save it again as CSV UTF-8",
        ) from None
    longest = max((len(line) for line in text.splitlines()), default=0)
    if longest > MAX_CSV_LINE:
        raise ParseError(
            f"tệp có một dòng dài {longest:,} ký tự (tối đa {MAX_CSV_LINE:,}): không phải "
            f"mẫu báo cáo",
            f"the file has a line of {longest:,} characters (at most "
            f"{MAX_CSV_LINE:,}): not a report",
        )
    best: list[list[object]] = []
    for delimiter in (";", ",", "\t"):
        rows: list[list[object]] = [
            list(row) for row in csv.reader(io.StringIO(text), delimiter=delimiter)
        ]
        found = _find_table_header(rows)
        if found is not None and len(found[1]) >= len(_REQUIRED_COLUMNS):
            return rows
        best = best or rows
    return best


def _find_table_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    for index, row in enumerate(rows):
        columns = {}
        for col, heading in enumerate(row):
            key = _COLUMN_KEYS.get(normalize_label(heading))
            if key and key not in columns:
                columns[key] = col
        if "indicator_code" in columns:
            return index, columns
    return None


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _unsafe(path: Path, file_name: str, suffix: str) -> Problem | None:
    """Refuse, before parsing, what must never be parsed: odd names, huge files, zip bombs."""
    from warehouse.settings import load_settings

    settings = load_settings()
    if any(ch in file_name for ch in "/\\") or any(
        ord(ch) < 32 or ord(ch) == 127 for ch in file_name
    ):
        return Problem(
            "tên tệp chứa đường dẫn hoặc ký tự điều khiển; hãy đặt lại tên tệp",
            "the file name has path components or control characters; rename the file",
        )
    if suffix not in SUPPORTED_SUFFIXES:
        return Problem(
            f"loại tệp '{suffix}' không được hỗ trợ, chỉ nhận .xlsx hoặc .csv",
            f"file type '{suffix}' is not supported; send .xlsx or .csv",
        )
    size = path.stat().st_size
    if size > settings.max_file_bytes:
        return Problem(
            f"tệp quá lớn ({size:,} byte, tối đa {settings.max_file_bytes:,})",
            f"the file is too large ({size:,} bytes, at most {settings.max_file_bytes:,})",
        )
    if suffix == ".xlsx":
        import zipfile

        try:
            with zipfile.ZipFile(path) as archive:
                expanded = sum(item.file_size for item in archive.infolist())
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return Problem(
                "tệp không phải là sổ tính Excel .xlsx hợp lệ",
                "the file is not a valid Excel .xlsx workbook",
            )
        if expanded > settings.max_xlsx_expanded_bytes:
            return Problem(
                f"tệp xlsx giải nén ra {expanded:,} byte, vượt giới hạn "
                f"{settings.max_xlsx_expanded_bytes:,}",
                f"the xlsx expands to {expanded:,} bytes, over the limit of "
                f"{settings.max_xlsx_expanded_bytes:,}",
            )
        if any(name.startswith("xl/externalLinks/") for name in names):
            return Problem(
                "tệp liên kết tới sổ tính khác (external links); hãy dán giá trị rồi lưu lại",
                "the workbook links to other workbooks (external links); paste the values "
                "and save it again",
            )
        if "xl/vbaProject.bin" in names:
            return Problem(
                "tệp chứa macro (xlsm đổi tên); hãy lưu lại dưới dạng .xlsx",
                "the workbook contains macros (a renamed xlsm); save it again as .xlsx",
            )
    return None


def read_report(
    path: Path, file_name: str | None = None, registry: Registry | None = None
) -> Report:
    """Read and validate one report file against the registry of reporting units (the
    warehouse's, with imported lists; else the built-in one of the configured provinces);
    problems are collected, never raised."""
    registry = registry or default_registry()
    path = Path(path)
    file_name = file_name or path.name
    suffix = Path(file_name).suffix.lower()
    report = Report(file_name=file_name, file_format=suffix.lstrip("."))
    refused = _unsafe(path, file_name, suffix)
    if refused:
        report.problems.append(refused)
        return report
    try:
        if suffix == ".xlsx":
            report.sheet, rows = _read_xlsx(path)
        else:
            rows = _read_csv(path)
    except ParseError as exc:
        report.problems.append(Problem(exc.vi, exc.en))
        return report
    except Exception as exc:  # a corrupt workbook: openpyxl/zipfile raise many kinds
        report.problems.append(
            Problem(
                f"không đọc được tệp ({type(exc).__name__}: {exc})",
                f"the file cannot be read ({type(exc).__name__}: {exc})",
            )
        )
        return report
    _read_header(rows, report, registry)
    _read_table(rows, report, registry)
    return report


def _problem(report: Report, error: ParseError, cell: str, severity: str = "error") -> None:
    report.problems.append(Problem(error.vi, error.en, cell, severity))


def _read_header(rows: list[list[object]], report: Report, registry: Registry) -> None:
    found: dict[str, tuple[object, str]] = {}
    for index, row in enumerate(rows):
        if not row:
            continue
        key = _HEADER_KEYS.get(normalize_label(row[0]))
        if key and key not in found:
            found[key] = (row[1] if len(row) > 1 else None, _cell(index, 1))
    for key in ("unit_code", "period"):
        if key not in found or _text(found[key][0]) is None:
            label = HEADER_LABELS[key]
            report.problems.append(
                Problem(
                    f"thiếu '{label.split(' (')[0]}' ở phần đầu báo cáo",
                    f"the header block has no '{label}'",
                    found[key][1] if key in found else None,
                )
            )
    if "unit_code" in found and (code := _text(found["unit_code"][0])):
        if code not in registry:
            report.problems.append(
                Problem(
                    f"mã đơn vị '{code}' không có trong danh mục đơn vị báo cáo",
                    f"unit code '{code}' is not in the reporting-unit registry",
                    found["unit_code"][1],
                )
            )
        report.unit_code = code
    if "period" in found and _text(found["period"][0]):
        try:
            report.period = parse_period(found["period"][0])
        except ParseError as exc:
            _problem(report, exc, found["period"][1])
    unit = registry.get(report.unit_code)
    if unit and report.period and not unit.exists_in(report.period):
        report.problems.append(
            Problem(
                f"đơn vị '{unit.code}' ({unit.name_vi}) không tồn tại trong kỳ "
                f"{report.period} (hiệu lực {unit.valid_from or '…'} đến "
                f"{unit.valid_to or '…'})",
                f"unit '{unit.code}' did not exist in {report.period} (valid "
                f"{unit.valid_from or '…'} to {unit.valid_to or '…'})",
                found["period"][1],
            )
        )
    if "reporter" in found:
        report.reporter = _text(found["reporter"][0])
    if "sent_on" in found:
        try:
            report.sent_on = parse_date(found["sent_on"][0])
        except ParseError as exc:
            _problem(report, exc, found["sent_on"][1])


def _check_figures(report: Report, indicator, numbers: dict, cells: dict, get) -> None:
    """The rules on one row's figures: required cells, numerator <= denominator, limits."""
    numerator, denominator = numbers["numerator"], numbers["denominator"]
    if indicator.kind == "ratio":
        for key in ("numerator", "denominator"):
            if numbers[key] is None and get(key) in (None, ""):
                label = COLUMN_LABELS[key].split(" (")[0].lower()
                report.problems.append(
                    Problem(
                        f"chỉ tiêu tỷ lệ cần {label}",
                        f"a ratio indicator needs its {key}",
                        cells[key],
                    )
                )
        if numerator is not None and denominator is not None and numerator > denominator:
            report.problems.append(
                Problem(
                    f"tử số {numerator:g} lớn hơn mẫu số {denominator:g}",
                    f"numerator {numerator:g} is greater than denominator {denominator:g}",
                    cells["numerator"],
                )
            )
            return
        value = 100 * numerator / denominator if numerator is not None and denominator else None
        where = cells["numerator"]
    else:
        value = numbers["value"]
        where = cells.get("value")
        if value is None and "value" in cells and get("value") in (None, ""):
            report.problems.append(
                Problem("chỉ tiêu này cần giá trị", "this indicator needs a value", where)
            )
    low, high = indicator.min_value, indicator.max_value
    limits = f"[{'…' if low is None else f'{low:g}'}, {'…' if high is None else f'{high:g}'}]"
    if value is not None and (
        (low is not None and value < low) or (high is not None and value > high)
    ):
        report.problems.append(
            Problem(
                f"giá trị {value:g} nằm ngoài giới hạn {limits} của chỉ tiêu",
                f"value {value:g} is outside the indicator's limits {limits}",
                where,
            )
        )


def _read_table(rows: list[list[object]], report: Report, registry: Registry) -> None:
    header = _find_table_header(rows)
    if header is None:
        report.problems.append(
            Problem(
                "không tìm thấy dòng tiêu đề bảng bắt đầu bằng 'Mã chỉ tiêu'",
                "no table heading row starting with 'Mã chỉ tiêu' (indicator code) was found",
            )
        )
        return
    header_row, columns = header
    missing = [COLUMN_LABELS[key] for key in _REQUIRED_COLUMNS if key not in columns]
    if missing:
        report.problems.append(
            Problem(
                f"bảng thiếu cột: {', '.join(missing)}",
                f"the table lacks the column(s): {', '.join(missing)}",
                _cell(header_row, 0),
            )
        )
        return
    known = reference.indicators()
    unit = registry.get(report.unit_code)
    applicable = (
        {i.code for i in reference.indicators_for_group(unit.group, unit.province_code)}
        if unit
        else None
    )
    seen: dict[str, str] = {}
    for index in range(header_row + 1, len(rows)):
        row = rows[index]

        def get(key: str, row: list[object] = row) -> object:
            col = columns.get(key)
            return row[col] if col is not None and col < len(row) else None

        code = _text(get("indicator_code"))
        if code is None:
            if any(_text(cell) for cell in row):
                report.problems.append(
                    Problem(
                        "dòng có số liệu nhưng thiếu mã chỉ tiêu",
                        "the row has figures but no indicator code",
                        _cell(index, columns["indicator_code"]),
                    )
                )
            continue
        code_cell = _cell(index, columns["indicator_code"])
        if code not in known:
            report.problems.append(
                Problem(
                    f"mã chỉ tiêu '{code}' không có trong danh mục chỉ tiêu",
                    f"indicator code '{code}' is not in the indicator catalog",
                    code_cell,
                )
            )
            continue
        if code in seen:
            report.problems.append(
                Problem(
                    f"chỉ tiêu '{code}' xuất hiện hai lần (lần đầu ở ô {seen[code]})",
                    f"indicator '{code}' appears twice (first at cell {seen[code]})",
                    code_cell,
                )
            )
            continue
        seen[code] = code_cell
        if unit is not None and applicable is not None and code not in applicable:
            report.problems.append(
                Problem(
                    f"chỉ tiêu '{code}' không áp dụng cho nhóm đơn vị '{unit.group}' "
                    f"của tỉnh {unit.province_code}",
                    f"indicator '{code}' does not apply to {unit.group} units of province "
                    f"{unit.province_code}",
                    code_cell,
                )
            )
            continue
        cells = {key: _cell(index, columns[key]) for key in columns}
        errors_before = len(report.errors)
        numbers: dict[str, float | None] = {}
        for key in ("numerator", "denominator", "value"):
            try:
                numbers[key] = parse_number(get(key))
            except ParseError as exc:
                _problem(report, exc, cells[key])
                numbers[key] = None
                continue
            if numbers[key] is not None and numbers[key] < 0:
                report.problems.append(
                    Problem(
                        f"số âm {numbers[key]:g} không hợp lệ",
                        f"negative number {numbers[key]:g} is not allowed",
                        cells[key],
                    )
                )
        if len(report.errors) == errors_before:  # a bad number is reported once
            _check_figures(report, known[code], numbers, cells, get)
        report.rows.append(
            ReportRow(
                source_row=index + 1,
                indicator_code=code,
                numerator=numbers["numerator"],
                denominator=numbers["denominator"],
                value=numbers["value"],
                note=_text(get("note")),
            )
        )
    if not seen and not report.errors:
        report.problems.append(
            Problem(
                "bảng không có dòng chỉ tiêu nào",
                "the table holds no indicator rows",
                _cell(header_row, 0),
            )
        )
