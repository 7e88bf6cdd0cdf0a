"""Deterministic sample report files from a handful of Lạng Sơn reporting units.

The main job needs something real to chew on without network: monthly report files, in
the unit-file layout, for the Lạng Sơn units of the registry while each existed (districts
until June 2025, the new communes from July 2025), January 2022 to September 2025.
Figures follow a plausible upward trend with noise; departments send xlsx, districts and
communes CSV (semicolon or comma, Vietnamese number format); one unit skips a month.
The same arguments always give the same bytes.
"""

from __future__ import annotations

import hashlib
import random
import re
from datetime import date
from pathlib import Path

from ingest.template import report_rows, report_workbook, save_workbook, write_csv
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
    header = {
        "unit_code": unit.code,
        "unit_name": unit.name_vi,
        "period": f"{month:02d}/{year}",
        "reporter": _rng("reporter", unit.code).choice(REPORTERS),
        "sent_on": sent.strftime("%d/%m/%Y"),
    }
    figures = []
    for indicator in reported_indicators(unit):
        numerator, denominator = _figures(unit, indicator.code, index)
        figures.append((indicator, numerator, denominator, round(100 * numerator / denominator, 1)))
    return report_rows(header, figures)


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
                save_workbook(report_workbook(rows), path)
            else:
                path = out_dir / f"{stem}.csv"
                write_csv(rows, path, delimiter="," if unit.code.endswith("6") else ";")
            written.append(path)
    return written
