"""Deterministic sample report files from a handful of Lạng Sơn reporting units.

The main job needs something real to chew on without network: monthly report files, in
the unit-file layout, for the Lạng Sơn units of the registry while each existed (districts
until June 2025, the new communes from July 2025), January 2022 to September 2025.
Figures follow a plausible upward trend with noise; departments send xlsx, districts and
communes CSV (semicolon or comma, Vietnamese number format); one unit skips a month.
The same arguments always give the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import zipfile
from datetime import date, datetime
from pathlib import Path

from ingest.sources.unit_files import COLUMN_LABELS, HEADER_LABELS, SHEET_NAME, TITLE
from warehouse import reference

DEFAULT_START = "2022-01"
DEFAULT_END = "2025-09"  # three months past the July 2025 reorganisation
SAMPLE_PROVINCE = "20"  # Lạng Sơn
# (unit, period) pairs that did not report: completeness needs a gap to show
MISSING_REPORTS = {("20.183", "2024-11")}
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
REPORTERS = ["Nguyễn Văn An", "Hoàng Thị Bình", "Lương Văn Chung", "Vi Thị Dung", "Lộc Văn Đức"]


def months(start: str, end: str) -> list[str]:
    year, month = map(int, start.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= end:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def _rng(*parts: str) -> random.Random:
    seed = hashlib.sha256("|".join(parts).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def _vn_number(value: float) -> str:
    """Write a number the way Vietnamese spreadsheets do: 1.234 and 85,5."""
    if float(value).is_integer():
        return f"{int(value):,}".replace(",", ".")
    return f"{value:,.1f}".replace(",", "X").replace(".", ",").replace("X", ".")


def _figures(unit: reference.Unit, indicator_code: str, index: int) -> tuple[int, int]:
    rng = _rng("trend", unit.code, indicator_code)
    start_rate = rng.uniform(35, 70)
    slope = rng.uniform(0.3, 1.3)
    size = rng.randint(150, 900) * (3 if unit.group == "district" else 1)
    noise = _rng("month", unit.code, indicator_code, str(index))
    rate = min(99.5, max(1.0, start_rate + slope * index + noise.uniform(-2.5, 2.5)))
    denominator = max(20, int(size * noise.uniform(0.85, 1.15)))
    return round(denominator * rate / 100), denominator


def reported_indicators(unit: reference.Unit) -> list[reference.Indicator]:
    """The ratio indicators the sample reports for a unit (the template's ratio rows)."""
    return [i for i in reference.reported_indicators(unit) if i.kind == "ratio"]


def _rows(unit: reference.Unit, period: str, index: int) -> list[list[object]]:
    year, month = map(int, period.split("-"))
    sent = date(year + (month == 12), month % 12 + 1, 5)
    reporter = _rng("reporter", unit.code).choice(REPORTERS)
    rows: list[list[object]] = [
        [TITLE],
        [HEADER_LABELS["unit_code"], unit.code],
        [HEADER_LABELS["unit_name"], unit.name_vi],
        [HEADER_LABELS["period"], f"{month:02d}/{year}"],
        [HEADER_LABELS["reporter"], reporter],
        [HEADER_LABELS["sent_on"], sent.strftime("%d/%m/%Y")],
        [],
        list(COLUMN_LABELS.values()),
    ]
    for indicator in reported_indicators(unit):
        numerator, denominator = _figures(unit, indicator.code, index)
        value = round(100 * numerator / denominator, 1)
        rows.append([indicator.code, indicator.name_vi, numerator, denominator, value, None])
    return rows


def _write_csv(rows: list[list[object]], path: Path, delimiter: str) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(
            ["" if v is None else _vn_number(v) if isinstance(v, int | float) else v for v in row]
        )
    path.write_bytes(b"\xef\xbb\xbf" + buffer.getvalue().encode("utf-8"))


def _write_xlsx(rows: list[list[object]], path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = SHEET_NAME
    for row in rows:
        sheet.append(row)
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 48
    workbook.properties.created = datetime(2025, 1, 1)
    buffer = io.BytesIO()
    workbook.save(buffer)
    # openpyxl stamps the zip entries and docProps' "modified" with the current time:
    # rewrite both so the same arguments give the same bytes
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


def generate(out_dir: Path, start: str = DEFAULT_START, end: str = DEFAULT_END) -> list[Path]:
    """Write one report file per unit and month into ``out_dir``; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, period in enumerate(months(DEFAULT_START, end)):
        if period < start:
            continue
        for unit in reference.units().values():
            if unit.province_code != SAMPLE_PROVINCE or (unit.code, period) in MISSING_REPORTS:
                continue
            if (unit.valid_to and period > unit.valid_to[:7]) or period < unit.valid_from[:7]:
                continue
            rows = _rows(unit, period, index)
            stem = f"bao_cao_{unit.code}_{period}"
            if unit.group == "department":
                path = out_dir / f"{stem}.xlsx"
                _write_xlsx(rows, path)
            else:
                path = out_dir / f"{stem}.csv"
                _write_csv(rows, path, delimiter="," if unit.code.endswith("6") else ";")
            written.append(path)
    return written
