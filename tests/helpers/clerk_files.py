"""Report files the way clerks' software writes them: one layout, any format, any sheets.

``write(path, sheets)`` writes a workbook whose format is the path's suffix (.xlsx through
openpyxl, .xls through xlwt, .ods through odfpy, .xlsb through pyxlsbwriter, .csv through
chiso's own writer), each sheet a list of rows. A cell may be a :class:`Percent` (shown as
a percentage: Excel keeps the fraction), a :class:`Formula` (saved without its value, as
generated files are) or an :class:`ExcelError`. ``base_rows()`` is the variant district's
June 2025 report (rows 9 onward its indicators; C numerator, D denominator, E value).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from chiso.samples.report_files import variant_rows
from ingest.template import write_csv


@dataclass(frozen=True)
class Percent:
    fraction: float  # 0.15 for the 15 % the clerk sees


@dataclass(frozen=True)
class Formula:
    text: str  # e.g. "C9*2", saved with no value


@dataclass(frozen=True)
class ExcelError:
    code: str = "#DIV/0!"


def base_rows() -> list[list[object]]:
    return [list(row) for row in variant_rows()]


def put(rows: list[list[object]], cell: str, value: object) -> list[list[object]]:
    """A copy of ``rows`` with one cell (A1 style) set."""
    letters = "".join(ch for ch in cell if ch.isalpha())
    col = 0
    for letter in letters:
        col = col * 26 + ord(letter) - 64
    col -= 1
    row = int(cell[len(letters) :]) - 1
    rows = [list(r) for r in rows]
    while len(rows) <= row:
        rows.append([])
    rows[row] += [None] * (col + 1 - len(rows[row]))
    rows[row][col] = value
    return rows


def received(path: Path, when: datetime) -> Path:
    """Set when a file arrived in the inbox (its modification time)."""
    os.utime(path, (when.timestamp(), when.timestamp()))
    return path


def write(path: Path, sheets: list[tuple[str, list[list[object]]]] | list[list[object]]) -> Path:
    if sheets and not isinstance(sheets[0], tuple):
        sheets = [("Báo cáo", sheets)]
    writer = {
        ".xlsx": _xlsx,
        ".xls": _xls,
        ".ods": _ods,
        ".xlsb": _xlsb,
        ".csv": _csv,
    }[path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    writer(path, sheets)
    return path


def _csv(path: Path, sheets) -> None:
    ((_, rows),) = sheets
    write_csv(rows, path)


def _xlsx(path: Path, sheets) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    for name, rows in sheets:
        sheet = workbook.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(r, c)
                if isinstance(value, Percent):
                    cell.value, cell.number_format = value.fraction, "0%"
                elif isinstance(value, Formula):
                    cell.value = f"={value.text}"
                elif isinstance(value, ExcelError):
                    cell.value = value.code
                    cell.data_type = "e"
                else:
                    cell.value = value
    workbook.save(path)


def _xls(path: Path, sheets) -> None:
    import xlwt

    workbook = xlwt.Workbook(encoding="utf-8")
    percent = xlwt.easyxf(num_format_str="0%")
    day = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    for name, rows in sheets:
        sheet = workbook.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is None:
                    continue
                if isinstance(value, Percent):
                    sheet.write(r, c, value.fraction, percent)
                elif isinstance(value, Formula):
                    sheet.write(r, c, xlwt.Formula(value.text))
                elif isinstance(value, date):
                    sheet.write(r, c, value, day)
                else:
                    sheet.write(r, c, value)
    workbook.save(str(path))


def _ods(path: Path, sheets) -> None:
    from odf.opendocument import OpenDocumentSpreadsheet
    from odf.table import Table, TableCell, TableRow
    from odf.text import P

    document = OpenDocumentSpreadsheet()
    for name, rows in sheets:
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if value is None:
                    cell = TableCell()
                elif isinstance(value, Percent):
                    cell = TableCell(valuetype="percentage", value=value.fraction)
                elif isinstance(value, Formula):
                    cell = TableCell(formula=f"of:={value.text}")
                elif isinstance(value, bool | ExcelError):
                    raise TypeError(f"not written to .ods here: {value!r}")
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value)
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        document.spreadsheet.addElement(table)
    document.save(str(path))


def _xlsb(path: Path, sheets) -> None:
    from pyxlsbwriter import XlsbWriter

    with XlsbWriter(str(path)) as workbook:
        for name, rows in sheets:
            workbook.add_sheet(name)
            width = max((len(row) for row in rows), default=0)
            workbook.write_sheet(
                [[_plain(value) for value in row] + [None] * (width - len(row)) for row in rows]
            )


def _plain(value: object) -> object:
    if isinstance(value, Percent):
        return value.fraction
    if isinstance(value, Formula | ExcelError):
        raise TypeError(f"not written to .xlsb here: {value!r}")
    return value
