"""Unit report files: the layout, the reader and its validation, one verdict per file.

A report file (.xlsx, .xls, .xlsb, .ods or .csv, read by :mod:`ingest.workbook`) has a
header block (a label such as "Mã đơn vị", its value in a cell to its right), then a table
whose heading row holds "Mã chỉ tiêu" and the other columns, one row per indicator; notes
and signatures may follow it. Labels are matched without accents or case, and the English
gloss in brackets is ignored, so hand-edited files still read: a clerk may insert columns,
move the table, add an instructions sheet or keep last months' sheets beside this one.

Counts (numerator, denominator) are whole numbers; a value is read in its indicator's unit
(a cell formatted as a percentage holds 0.15 for 15 %). Whatever cannot be read for sure is
an error naming the cell, in Vietnamese and English. Entry point: :func:`read_report`, the
one path by which ``chiso validate-file`` and the inbox judge a file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.parsing import (
    ParseError,
    hidden_characters,
    normalize_label,
    parse_count,
    parse_date,
    parse_number,
    parse_period,
    reveal,
)
from ingest.registry import Registry, default_registry
from ingest.workbook import CellFacts, Sheet, column_letter, read_workbook
from warehouse import reference
from warehouse.calendar import LockGrant, lock_for
from warehouse.periods import next_month

if TYPE_CHECKING:
    from warehouse.settings import Settings

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
    numerator: int | None
    denominator: int | None
    value: float | None
    note: str | None
    cells: dict[str, str] = field(default_factory=dict)  # column key -> A1 reference


@dataclass
class Report:
    file_name: str
    file_format: str  # what the file is, read from its bytes (xlsx, xls, xlsb, ods, csv)
    sheet: str | None = None  # the sheet read (CSV: none)
    unit_code: str | None = None
    period: str | None = None
    reporter: str | None = None
    sent_on: date | None = None
    rows: list[ReportRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    header_cells: dict[str, str] = field(default_factory=dict)  # header key -> A1 reference

    @property
    def errors(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "error"]

    @property
    def warnings(self) -> list[Problem]:
        return [problem for problem in self.problems if problem.severity == "warning"]

    @property
    def is_valid(self) -> bool:
        return not self.errors


@lru_cache(maxsize=8192)  # every row of every file names the same few cells
def _cell(row: int, col: int) -> str:
    """A1-style reference for 0-based row and column indexes."""
    return f"{column_letter(col)}{row + 1}"


def find_table_header(rows: list[list[object]]) -> tuple[int, dict[str, int]] | None:
    """The table's heading row (0-based) and the column of each heading found in it: the
    first row holding "Mã chỉ tiêu", in whichever column."""
    for index, row in enumerate(rows):
        columns: dict[str, int] = {}
        for col, heading in enumerate(row):
            if not isinstance(heading, str):
                continue
            key = _COLUMN_KEYS.get(normalize_label(heading))
            if key and key not in columns:
                columns[key] = col
        if "indicator_code" in columns:
            return index, columns
    return None


def _has_table(rows: list[list[object]]) -> bool:
    found = find_table_header(rows)
    return found is not None and all(key in found[1] for key in _REQUIRED_COLUMNS)


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _header_fields(rows: list[list[object]], before: int) -> dict[str, tuple[object, str]]:
    """The header block above the table: each label found (in any column) -> its value,
    the first filled cell to its right, and that cell's reference."""
    found: dict[str, tuple[object, str]] = {}
    for index, row in enumerate(rows[:before]):
        for col, label in enumerate(row):
            if not isinstance(label, str) or not label.strip():
                continue
            key = _HEADER_KEYS.get(normalize_label(label))
            if key is None or key in found:
                continue
            value, where = None, _cell(index, col + 1)
            for right in range(col + 1, min(col + 4, len(row))):
                if _text(row[right]) is not None:
                    value, where = row[right], _cell(index, right)
                    break
            found[key] = (value, where)
    return found


_PERIOD_IN_NAME = (
    re.compile(r"(?<!\d)(?:t|thang)?[ _.-]*(\d{1,2})[ _./-]+(\d{4})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})[ _./-]+(\d{1,2})(?!\d)"),
)


def period_in_name(file_name: str) -> str | None:
    """The month a file's name says ("Bao cao T6-2025.xlsx", "2025_06 SNV.xlsx"), or None
    when it says none or several."""
    stem = normalize_label(Path(file_name).stem.replace("(", " ").replace(")", " "))
    text = Path(file_name).stem.lower()
    found = set()
    for candidate in (stem, text):
        for pattern_index, pattern in enumerate(_PERIOD_IN_NAME):
            for match in pattern.finditer(candidate):
                month, year = (match[1], match[2]) if pattern_index == 0 else (match[2], match[1])
                if 1 <= int(month) <= 12 and 2000 <= int(year) <= 2100:
                    found.add(f"{int(year):04d}-{int(month):02d}")
    return found.pop() if len(found) == 1 else None


@dataclass(frozen=True)
class _Candidate:
    sheet: Sheet
    header_row: int
    columns: dict[str, int]
    header: dict[str, tuple[object, str]]  # the header block above the table
    period: str | None


def _candidates(sheets: list[Sheet]) -> list[_Candidate]:
    """The sheets holding a report table: its heading row has every required column (an
    instructions sheet listing the indicator codes has not); failing that, the sheets with
    an indicator-code column, so the message can say which columns are missing."""
    found_in = [(sheet, find_table_header(sheet.rows)) for sheet in sheets]
    found_in = [(sheet, found) for sheet, found in found_in if found is not None]
    complete = [
        (sheet, found)
        for sheet, found in found_in
        if all(key in found[1] for key in _REQUIRED_COLUMNS)
    ]
    out = []
    for sheet, found in complete or found_in:
        header = _header_fields(sheet.rows, found[0])
        try:
            period = parse_period(header["period"][0]) if "period" in header else None
        except ParseError:
            period = None
        out.append(_Candidate(sheet, found[0], found[1], header, period))
    return out


def choose_sheet(sheets: list[Sheet], file_name: str) -> _Candidate | Problem:
    """The report sheet, found by its content: the one sheet with the report table (hidden
    sheets only when no visible one has it); among several, the one whose period is the
    month the file's name says. Otherwise a problem naming the sheets."""
    candidates = _candidates(sheets)
    if not candidates:
        names = ", ".join(f"'{sheet.name}'" for sheet in sheets if sheet.name is not None)
        listed_vi = f" (các trang: {names})" if names else ""
        listed_en = f" (sheets: {names})" if names else ""
        return Problem(
            f"không tìm thấy bảng báo cáo: không trang nào có dòng tiêu đề với cột "
            f"'Mã chỉ tiêu'{listed_vi}; hãy dùng mẫu báo cáo (chiso template)",
            f"no report table found: no sheet has a heading row with the 'Mã chỉ tiêu' "
            f"(indicator code) column{listed_en}; use the report template (chiso template)",
        )
    visible = [c for c in candidates if c.sheet.visible] or candidates
    if len(visible) == 1:
        return visible[0]
    named = period_in_name(file_name)
    matching = [c for c in visible if named and c.period == named]
    if len(matching) == 1:
        return matching[0]
    listed = ", ".join(
        f"'{c.sheet.name}' ({c.period[5:]}/{c.period[:4]})" if c.period else f"'{c.sheet.name}'"
        for c in visible
    )
    why_vi = (
        f"không có đúng một trang cho kỳ {named[5:]}/{named[:4]} ghi trong tên tệp"
        if named
        else "tên tệp không ghi kỳ báo cáo"
    )
    why_en = (
        f"not exactly one of them is for {named[5:]}/{named[:4]}, the period in the file name"
        if named
        else "the file name does not say the period"
    )
    return Problem(
        f"sổ tính có {len(visible)} trang báo cáo: {listed}, và {why_vi}; hãy chỉ để lại "
        f"trang của kỳ cần gửi, hoặc ghi kỳ vào tên tệp (vd. 'Bao cao 06-2025.xlsx')",
        f"the workbook has {len(visible)} report sheets: {listed}, and {why_en}; keep only "
        f"the sheet of the period you send, or put the period in the file name (e.g. "
        f"'Bao cao 06-2025.xlsx')",
    )


def read_report(
    path: Path,
    file_name: str | None = None,
    registry: Registry | None = None,
    received_on: date | None = None,
    settings: Settings | None = None,
    data: bytes | None = None,
) -> Report:
    """Read and validate one report file against the registry of reporting units (the
    warehouse's, with imported lists; else the built-in one of the configured provinces);
    ``received_on`` (default today) is when chiso got it, for the plausibility of the date
    sent; ``settings`` (default: read now) its size limits; ``data`` the file's bytes, if
    the caller has read them. Problems are collected, never raised."""
    from warehouse.settings import load_settings

    settings = settings or load_settings()
    registry = registry or default_registry()
    path = Path(path)
    file_name = file_name or path.name
    report = Report(file_name=file_name, file_format=Path(file_name).suffix.lower().lstrip("."))
    try:
        workbook = read_workbook(
            path,
            file_name,
            settings.max_file_bytes,
            settings.max_xlsx_expanded_bytes,
            recognised=_has_table,
            data=data,
        )
    except ParseError as exc:
        report.problems.append(Problem(exc.vi, exc.en))
        return report
    except Exception as exc:  # never a crash on a file: whatever else breaks, it is refused
        report.problems.append(
            Problem(
                f"không đọc được tệp ({type(exc).__name__}: {exc}); hãy mở bằng Excel, lưu "
                f"lại rồi gửi lại",
                f"the file cannot be read ({type(exc).__name__}: {exc}); open it in Excel, "
                f"save it again and resend it",
            )
        )
        return report
    report.file_format = workbook.file_format
    report.problems += [Problem(w.vi, w.en, severity="warning") for w in workbook.warnings]
    chosen = choose_sheet(workbook.sheets, file_name)
    if isinstance(chosen, Problem):
        report.problems.append(chosen)
        return report
    report.sheet = chosen.sheet.name
    _read_header(chosen.header, report, registry)
    _read_table(chosen, report, registry)
    _check_sent_on(report, received_on or date.today())
    named = period_in_name(file_name)
    if named and report.period and named != report.period:
        report.problems.append(
            Problem(
                f"tên tệp ghi kỳ {named[5:]}/{named[:4]} nhưng phần đầu báo cáo ghi kỳ "
                f"{report.period[5:]}/{report.period[:4]}; số liệu được tính cho kỳ ở phần "
                f"đầu — hãy kiểm tra lại",
                f"the file name says {named} but the header says {report.period}; the figures "
                f"count for the header's period — check it",
                report.header_cells.get("period"),
                "warning",
            )
        )
    return report


def _problem(report: Report, error: ParseError, cell: str, severity: str = "error") -> None:
    report.problems.append(Problem(error.vi, error.en, cell, severity))


def _read_header(found: dict[str, tuple[object, str]], report: Report, registry: Registry) -> None:
    report.header_cells = {key: where for key, (_, where) in found.items()}
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
            hidden = bool(hidden_characters(code))
            report.problems.append(
                Problem(
                    f"mã đơn vị {reveal(code)} không có trong danh mục đơn vị báo cáo"
                    + ("; mã chứa ký tự ẩn: hãy xóa ô và gõ lại mã" if hidden else ""),
                    f"unit code {reveal(code)} is not in the reporting-unit registry"
                    + (
                        "; it holds hidden characters: clear the cell and type it again"
                        if hidden
                        else ""
                    ),
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


def read_received(
    path: Path,
    file_name: str,
    registry: Registry,
    received_on: date,
    granted: list[LockGrant],
    settings: Settings | None = None,
    data: bytes | None = None,
) -> tuple[Report, LockGrant | None]:
    """A file as the inbox reads it on the day it was received: read and validated, then
    held against the reporting calendar's locks (with the exception that let it in)."""
    report = read_report(path, file_name, registry, received_on, settings, data)
    return report, check_lock(report, registry, received_on, granted)


def check_lock(
    report: Report, registry: Registry, received_on: date, granted: list[LockGrant]
) -> LockGrant | None:
    """Refuse a valid report for a locked period (an error naming the lock), unless an
    exception covers it (a warning naming the exception, which is returned to be recorded
    when the file loads). The inbox and ``chiso validate-file`` both ask this."""
    unit = registry.units.get(report.unit_code or "")
    if not report.is_valid or unit is None or report.period is None:
        return None
    lock = lock_for(
        unit.code, unit.served_province_code, unit.group, report.period, received_on, granted
    )
    if lock is None:
        return None
    period = f"{report.period[5:]}/{report.period[:4]}"
    until_vi, until_en = lock.accepted_until.strftime("%d/%m/%Y"), lock.accepted_until.isoformat()
    cell = report.header_cells.get("period")
    if lock.exception is None:
        report.problems.append(
            Problem(
                f"kỳ báo cáo {period} đã khóa sổ: số liệu kỳ này chỉ nhận đến hết ngày "
                f"{until_vi}, tệp được nhận ngày {received_on.strftime('%d/%m/%Y')}; nếu cần "
                f"sửa số liệu, hãy đề nghị cơ quan tổng hợp cấp ngoại lệ cho đơn vị và kỳ này",
                f"period {report.period} is locked: its figures were accepted until "
                f"{until_en}, and this file was received on {received_on.isoformat()}; to "
                f"correct them, ask the province's data office for an exception for this "
                f"unit and period",
                cell,
            )
        )
        return None
    granted_by = lock.exception
    report.problems.append(
        Problem(
            f"kỳ {period} đã khóa sổ từ sau ngày {until_vi}; tệp được nhận theo ngoại lệ "
            f"{granted_by.exception_id} ({granted_by.granted_by} cấp, đến hết ngày "
            f"{granted_by.valid_until.strftime('%d/%m/%Y')}: {granted_by.reason})",
            f"period {report.period} was locked after {until_en}; the file is accepted "
            f"through exception {granted_by.exception_id} (granted by {granted_by.granted_by}, "
            f"until {granted_by.valid_until.isoformat()}: {granted_by.reason})",
            cell,
            "warning",
        )
    )
    return granted_by


def _check_sent_on(report: Report, received_on: date) -> None:
    """The date sent is what the unit wrote; completeness counts from when chiso received
    the file. A date sent before the period ended, or after the file arrived, is named."""
    if report.sent_on is None or report.period is None:
        return
    cell = report.header_cells.get("sent_on")
    sent = report.sent_on.strftime("%d/%m/%Y")
    period_end = date.fromisoformat(f"{next_month(report.period)}-01")
    if report.sent_on < period_end:
        report.problems.append(
            Problem(
                f"ngày gửi {sent} trước khi kỳ {report.period[5:]}/{report.period[:4]} kết "
                f"thúc; hãy kiểm tra lại ngày gửi (hạn nộp tính theo ngày chiso nhận tệp)",
                f"the date sent {sent} is before the period {report.period} ended; check it "
                f"(deadlines count from the day chiso received the file)",
                cell,
                "warning",
            )
        )
    elif report.sent_on > received_on + timedelta(days=1):
        report.problems.append(
            Problem(
                f"ngày gửi {sent} sau ngày chiso nhận tệp "
                f"({received_on.strftime('%d/%m/%Y')}); hãy kiểm tra lại ngày gửi",
                f"the date sent {sent} is after chiso received the file "
                f"({received_on.isoformat()}); check it",
                cell,
                "warning",
            )
        )


_EXCEL_ERRORS = ("#DIV/0!", "#N/A", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#NULL!", "#ERROR")
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
_FIGURES = ("numerator", "denominator", "value")


def _visible(text: str) -> str:
    return "".join(ch for ch in text if ch not in hidden_characters(text))


def _looks_like_a_figure(value: object) -> bool:
    """Whether a cell holds a number (a note, a signature or a date does not)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if not isinstance(value, str) or not value.strip():
        return False
    try:
        return parse_number(value) is not None
    except ParseError:
        return False


class _Cells:
    """One table row's cells, with what the file says of them beyond their values."""

    __slots__ = ("index", "columns", "facts", "values")

    def __init__(self, rows, index: int, columns: dict[str, int], facts: CellFacts):
        row = rows[index]
        self.index, self.columns, self.facts = index, columns, facts
        self.values = {key: row[col] if col < len(row) else None for key, col in columns.items()}

    def position(self, key: str) -> tuple[int, int] | None:
        col = self.columns.get(key)
        return (self.index, col) if col is not None else None

    def ref(self, key: str) -> str | None:
        col = self.columns.get(key)
        return _cell(self.index, col) if col is not None else None

    def get(self, key: str) -> object:
        return self.values.get(key)

    def is_percent(self, key: str) -> bool:
        return bool(self.facts.percent) and self.position(key) in self.facts.percent

    def trouble(self, key: str) -> ParseError | None:
        """A cell whose value cannot be read at all: an uncalculated formula, an error."""
        value = self.values.get(key)
        facts = self.facts
        where = self.position(key) if facts.formula_without_value or facts.errors else None
        if where is not None and where in facts.formula_without_value:
            return ParseError(
                "ô chứa công thức chưa được tính (tệp lưu công thức mà không lưu kết quả); "
                "hãy mở tệp bằng Excel, để Excel tính xong rồi lưu lại — hoặc thay công thức "
                "bằng giá trị (Paste Values)",
                "the cell holds a formula saved without its value (never calculated); open "
                "the file in Excel, let it calculate and save it — or replace the formula "
                "with its value (Paste Values)",
            )
        error = facts.errors.get(where) if where is not None else None
        if error is None and isinstance(value, str) and value.strip().upper() in _EXCEL_ERRORS:
            error = value.strip()
        if error is not None:
            return ParseError(
                f"ô chứa lỗi Excel {error}; hãy sửa công thức hoặc điền số",
                f"the cell holds the Excel error {error}; fix the formula or type the number",
            )
        return None


def _read_count(cells: _Cells, key: str) -> int | None:
    if cells.is_percent(key) and cells.get(key) not in (None, ""):
        raise ParseError(
            "ô được định dạng phần trăm (%) nhưng cần số đếm (số nguyên không âm); hãy định "
            "dạng ô là Number và điền số đếm",
            "the cell is formatted as a percentage (%) but needs a count (a whole number, "
            "not negative); format it as Number and type the count",
        )
    return parse_count(cells.get(key))


def _read_value(cells: _Cells, indicator: reference.Indicator) -> float | None:
    """A value in the indicator's unit: percent (a %-formatted cell holds a fraction),
    count (whole), or a plain number (times, rank, yes/no: never a percentage)."""
    raw = cells.get("value")
    if raw in (None, ""):
        return None
    percent_cell = cells.is_percent("value")
    percent_text = isinstance(raw, str) and raw.strip().endswith("%")
    if indicator.unit == "percent":
        number = parse_number(raw)
        if percent_cell and isinstance(raw, int | float):
            return number * 100  # Excel stores 0.15 for the 15 % shown
        if not cells.facts.known and isinstance(raw, float) and number and -1 < number < 1:
            raise ParseError(
                f"không xác định được ô {raw:g} có định dạng phần trăm hay không (loại tệp "
                f"này không cho biết); hãy ghi rõ dạng chữ, vd. '{100 * raw:g}%', hoặc lưu "
                f"tệp dạng .xlsx",
                f"cannot tell whether {raw:g} is shown as a percentage (this file type does "
                f"not say); write it as text, e.g. '{100 * raw:g}%', or save the file as .xlsx",
            )
        return number
    if percent_cell or percent_text:
        raise ParseError(
            f"chỉ tiêu này đo bằng '{indicator.unit}', không phải phần trăm; hãy bỏ dấu % "
            f"(định dạng ô là Number) và điền giá trị",
            f"this indicator is measured in '{indicator.unit}', not percent; drop the % "
            f"(format the cell as Number) and type the value",
        )
    if indicator.unit == "count":
        count = parse_count(raw)
        return None if count is None else float(count)
    return parse_number(raw)


def _check_figures(report: Report, indicator, numbers: dict, cells: _Cells) -> None:
    """The rules on one row's figures: required cells, numerator <= denominator, limits."""
    numerator, denominator = numbers["numerator"], numbers["denominator"]
    if indicator.kind == "ratio":
        for key in ("numerator", "denominator"):
            if numbers[key] is None:
                label = COLUMN_LABELS[key].split(" (")[0].lower()
                report.problems.append(
                    Problem(
                        f"chỉ tiêu tỷ lệ cần {label}",
                        f"a ratio indicator needs its {key}",
                        cells.ref(key),
                    )
                )
        if numerator is not None and denominator is not None and numerator > denominator:
            report.problems.append(
                Problem(
                    f"tử số {numerator} lớn hơn mẫu số {denominator}",
                    f"numerator {numerator} is greater than denominator {denominator}",
                    cells.ref("numerator"),
                )
            )
            return
        value = 100 * numerator / denominator if numerator is not None and denominator else None
        where = cells.ref("numerator")
    else:
        value = numbers["value"]
        where = cells.ref("value")
        if value is None and "value" in cells.columns:
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


def _read_table(chosen: _Candidate, report: Report, registry: Registry) -> None:
    rows, header_row, columns = chosen.sheet.rows, chosen.header_row, chosen.columns
    missing = [COLUMN_LABELS[key] for key in _REQUIRED_COLUMNS if key not in columns]
    if missing:
        report.problems.append(
            Problem(
                f"bảng thiếu cột: {', '.join(missing)}",
                f"the table lacks the column(s): {', '.join(missing)}",
                _cell(header_row, columns["indicator_code"]),
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
        cells = _Cells(rows, index, columns, chosen.sheet.facts)
        code = _text(cells.get("indicator_code"))
        code_cell = cells.ref("indicator_code")
        has_figures = any(_looks_like_a_figure(cells.get(key)) for key in _FIGURES)
        if code is not None and hidden_characters(code) and _CODE.match(_visible(code)):
            report.problems.append(
                Problem(
                    f"mã chỉ tiêu {reveal(code)} chứa ký tự ẩn; hãy xóa ô và gõ lại mã",
                    f"the indicator code {reveal(code)} holds hidden characters; clear the "
                    f"cell and type the code again",
                    code_cell,
                )
            )
            continue
        if code is None or not _CODE.match(code):
            # a blank line, a section heading, notes, the place and date, signatures
            # (NGƯỜI LẬP BIỂU, THỦ TRƯỞNG ĐƠN VỊ): read as text; figures need a code
            if has_figures:
                said = f" ({reveal(code)} không phải mã chỉ tiêu)" if code else ""
                said_en = f" ({reveal(code)} is not an indicator code)" if code else ""
                report.problems.append(
                    Problem(
                        f"dòng có số liệu nhưng thiếu mã chỉ tiêu{said}; hãy ghi mã chỉ tiêu "
                        f"ở cột '{COLUMN_LABELS['indicator_code'].split(' (')[0]}', hoặc xóa "
                        f"dòng nếu đó là dòng tổng cộng",
                        f"the row has figures but no indicator code{said_en}; write the "
                        f"indicator code in its column, or delete the row if it is a total",
                        code_cell,
                    )
                )
            continue
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
        indicator = known[code]
        errors_before = len(report.errors)
        numbers: dict[str, float | int | None] = {}
        for key in _FIGURES:
            numbers[key] = None
            if key not in columns:
                continue
            trouble = cells.trouble(key)
            if trouble is not None and key == "value" and indicator.kind == "ratio":
                # chiso computes a ratio from its counts: the value cell is only shown
                report.problems.append(
                    Problem(
                        f"{trouble.vi} (không ảnh hưởng: chiso tự tính tỷ lệ từ tử số và mẫu số)",
                        f"{trouble.en} (no harm: chiso computes the ratio from the "
                        f"numerator and denominator)",
                        cells.ref(key),
                        "warning",
                    )
                )
                continue
            if trouble is not None:
                _problem(report, trouble, cells.ref(key))
                continue
            try:
                numbers[key] = (
                    _read_count(cells, key) if key != "value" else _read_value(cells, indicator)
                )
            except ParseError as exc:
                _problem(report, exc, cells.ref(key))
        if len(report.errors) == errors_before:  # a bad number is reported once
            _check_figures(report, indicator, numbers, cells)
        report.rows.append(
            ReportRow(
                source_row=index + 1,
                indicator_code=code,
                numerator=numbers["numerator"],
                denominator=numbers["denominator"],
                value=numbers["value"],
                note=_text(cells.get("note")),
                cells={key: cells.ref(key) for key in columns},
            )
        )
    if not seen and not report.errors:
        report.problems.append(
            Problem(
                "bảng không có dòng chỉ tiêu nào",
                "the table holds no indicator rows",
                _cell(header_row, columns["indicator_code"]),
            )
        )
