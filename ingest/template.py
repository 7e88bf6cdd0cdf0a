"""Report files as units fill them: the layout, the blank template, and the writers.

One layout for every report file (``ingest/sources/unit_files.py`` reads it back): a
header block, then a table with one row per indicator. The template for a unit group is
generated from the indicator catalog and the targets: the rows are the indicators that a
target sets for the group, measured from unit reports. ``chiso template`` writes it.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from ingest.registry import Registry, default_registry
from ingest.sources.unit_files import COLUMN_LABELS, HEADER_LABELS, SHEET_NAME, TITLE
from warehouse import reference
from warehouse.errors import UsageError

INSTRUCTIONS_SHEET = "Hướng dẫn"
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")


def report_rows(
    header: dict[str, object], figures: Iterable[tuple[reference.Indicator, object, object]]
) -> list[list[object]]:
    """The layout: header block, blank row, table heading, one row per (indicator, numerator,
    denominator). The value column is left for chiso to compute for ratios."""
    rows: list[list[object]] = [[TITLE]]
    rows += [[label, header.get(key)] for key, label in HEADER_LABELS.items()]
    rows += [[], list(COLUMN_LABELS.values())]
    for indicator, numerator, denominator, *rest in figures:
        value = rest[0] if rest else None
        rows.append([indicator.code, indicator.name_vi, numerator, denominator, value, None])
    return rows


def vn_number(value: float) -> str:
    """A number the way Vietnamese spreadsheets write it: 1.234 and 85,5."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")


def write_csv(rows: list[list[object]], path: Path, delimiter: str = ";") -> None:
    """UTF-8 with BOM (Excel opens it right), Vietnamese number format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            ["" if v is None else vn_number(v) if isinstance(v, int | float) else v for v in row]
        )
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def save_workbook(workbook, path: Path) -> None:
    """Save with fixed timestamps: the same content gives the same bytes."""
    workbook.properties.created = datetime(2025, 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    with (
        zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as source,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for item in source.infolist():
            info = zipfile.ZipInfo(item.filename, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            data = source.read(item.filename)
            if item.filename == "docProps/core.xml":
                data = _MODIFIED.sub(rb"\g<1>2025-01-01T00:00:00Z\g<2>", data)
            target.writestr(info, data)


def report_workbook(rows: list[list[object]]):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    for row in rows:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 48
    for column in "CDEF":
        sheet.column_dimensions[column].width = 16
    return workbook


class TemplateError(UsageError, ValueError):
    pass


def template_indicators(group: str, province_code: str) -> list[reference.Indicator]:
    indicators = reference.indicators_for_group(group, province_code)
    if not indicators:
        raise TemplateError(
            f"no target sets a unit-reported indicator for group '{group}' in province "
            f"'{province_code}'; groups with one: "
            + ", ".join(sorted(reference.groups_with_targets(province_code)))
        )
    return indicators


def _instructions(group: str, province_code: str, indicators) -> list[list[str]]:
    lines = [
        ["Hướng dẫn điền báo cáo / How to fill in the report"],
        [],
        ["1. Điền mã đơn vị (chọn trong danh sách), kỳ báo cáo MM/YYYY, người báo cáo, ngày gửi."],
        ["   Fill in the unit code (pick from the list), the period MM/YYYY, reporter, date."],
        ["2. Với chỉ tiêu tỷ lệ: điền tử số và mẫu số (số nguyên, không âm); chiso tự tính %."],
        ["   Ratio indicators: fill numerator and denominator (whole, not negative); chiso"],
        ["   computes the percentage. Tử số không được lớn hơn mẫu số."],
        ["3. Số viết kiểu Việt Nam (1.234,5) hoặc kiểu quốc tế đều được; không dùng công thức."],
        ["   Vietnamese (1.234,5) or plain numbers are both read; do not use formulas."],
        ["4. Kiểm tra tệp trước khi gửi: chiso validate-file <tệp>."],
        ["   Check the file before sending: chiso validate-file <file>."],
        [],
        [f"Nhóm đơn vị / unit group: {group}; tỉnh / province: {province_code}"],
        [],
        ["Mã chỉ tiêu", "Tử số là", "Mẫu số là", "Loại trừ"],
    ]
    for indicator in indicators:
        row = reference.indicator_row(indicator.code)
        lines.append(
            [indicator.code, row["numerator_vi"], row["denominator_vi"], row["exclusion_vi"]]
        )
    return lines


def write_template(
    group: str,
    period: str,
    out: Path,
    province_code: str,
    registry: Registry | None = None,
    unit_code: str | None = None,
) -> Path:
    """Write the blank template (xlsx or csv, by ``out``'s suffix) for a group and month;
    in xlsx, the unit-code cell lists the registry's units of the group that month. With
    ``unit_code``, the template of that unit: its code and name filled in."""
    from openpyxl.worksheet.datavalidation import DataValidation

    indicators = template_indicators(group, province_code)
    year, month = period.split("-")
    header: dict[str, object] = {"period": f"{month}/{year}"}
    unit = (registry or default_registry()).get(unit_code) if unit_code else None
    if unit is not None:
        header |= {"unit_code": unit.code, "unit_name": unit.name_vi}
    rows = report_rows(header, [(i, None, None) for i in indicators])
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() == ".csv":
        write_csv(rows, out)
        return out
    if out.suffix.lower() != ".xlsx":
        raise TemplateError(f"write the template as .xlsx or .csv, not {out.suffix!r}")
    workbook = report_workbook(rows)
    sheet = workbook[SHEET_NAME]
    codes = [
        unit.code
        for unit in (registry or default_registry()).in_province(province_code)
        if (unit.group, unit.province_code) == (group, province_code) and unit.exists_in(period)
    ]
    if codes and len(",".join(codes)) < 250:  # Excel's limit for an inline list
        unit_list = DataValidation(type="list", formula1=f'"{",".join(codes)}"', allow_blank=True)
        unit_list.error = "Mã đơn vị không có trong danh mục / unknown unit code"
        sheet.add_data_validation(unit_list)
        unit_list.add("B2")
    first, last = len(rows) - len(indicators) + 1, len(rows)
    whole = DataValidation(type="whole", operator="greaterThanOrEqual", formula1="0")
    whole.error = "Số nguyên không âm / a whole number, not negative"
    sheet.add_data_validation(whole)
    whole.add(f"C{first}:D{last}")
    guide = workbook.create_sheet(INSTRUCTIONS_SHEET)
    for line in _instructions(group, province_code, indicators):
        guide.append(line)
    guide.column_dimensions["A"].width = 40
    save_workbook(workbook, out)
    return out
