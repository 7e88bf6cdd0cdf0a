"""Deterministic sample report files from every reporting unit of the served provinces.

The main job needs something real to chew on without network: report files, in the
unit-file layout, from the units of the registry (the sample lists of schools and health
facilities included, :mod:`chiso.samples.unit_lists`) while each existed, January 2022 to
September 2025, for every group that a target in its province measures from unit reports.
Groups report as ``seeds/reporting_calendar.csv`` says: the province, departments and
districts every month, communes, schools and health facilities once a year (October's
figures, due 20 November); schools and health facilities from 2023 (when the province
started collecting from them). Figures follow a plausible upward trend with noise; about
one department in four sends xlsx, the rest CSV (semicolon or comma, Vietnamese number
format); each file's modification time is when it would have arrived (the inbox reads it
as the receipt), on the day it says it was sent (the due day), a few days later for about
one in twenty; about one unit-month in sixty does not report, and a district in November
2024 and Tuyên Quang's Sở Nội vụ in September 2025 do not either; about one report in
eighty is sent again a few days later with its first figure corrected, and Lạng Sơn's Sở
Xây dựng mistypes September 2025's first figure (a tenth of it). The same arguments
always give the same bytes.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest.registry import Registry, Unit
from ingest.template import report_rows, report_workbook, save_workbook, write_csv
from warehouse import calendar, reference
from warehouse.periods import months
from warehouse.settings import load_settings

DEFAULT_START = "2022-01"
DEFAULT_END = "2025-09"  # three months past the July 2025 reorganisation
FIRST_YEAR = {"school": "2023", "health_facility": "2023"}  # collected from these units since
# (unit, period) pairs that did not report: completeness needs a gap to show
MISSING_REPORTS = {("20.183", "2024-11"), ("08.SNV", "2025-09")}
MISSING_SHARE = 60  # about one unit-month in this many is not reported
# (unit, period) whose first figure was mistyped, a tenth of what it should be: the
# outliers (mart figure_outliers) and the inbox's jump warnings need one to show
MISTYPED_REPORTS = {("20.SXD", "2025-09")}
CORRECTION_SHARE = 80  # about one report in this many is sent again, corrected, days later
_ZIP_TIME = (2025, 1, 1, 0, 0, 0)
_MODIFIED = re.compile(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)")
REPORTERS = ["Nguyễn Văn An", "Hoàng Thị Bình", "Lương Văn Chung", "Vi Thị Dung", "Lộc Văn Đức"]


def _rng(*parts: str) -> random.Random:
    seed = hashlib.sha256("|".join(parts).encode()).digest()
    return random.Random(int.from_bytes(seed[:8], "big"))


def reports_in(unit: Unit, period: str) -> bool:
    """Whether the sample has the unit send a report for the month."""
    rule = calendar.schedule(unit.served_province_code, unit.group)
    if rule is None or not rule.owes(period):
        return False
    if period[:4] < FIRST_YEAR.get(unit.group, "0000") or not unit.exists_in(period):
        return False
    if (unit.code, period) in MISSING_REPORTS:
        return False
    return _rng("gap", unit.code, period).randrange(MISSING_SHARE) != 0


def _figures(unit: Unit, indicator_code: str, index: int) -> tuple[int, int]:
    rng = _rng("trend", unit.code, indicator_code)
    start_rate = rng.uniform(35, 70)
    slope = rng.uniform(0.3, 1.3)
    size = rng.randint(150, 900) * (3 if unit.group == "district" else 1)
    if unit.group in ("commune", "school", "health_facility"):
        size = rng.randint(20, 120)
    noise = _rng("month", unit.code, indicator_code, str(index))
    rate = min(99.5, max(1.0, start_rate + slope * index + noise.uniform(-2.5, 2.5)))
    denominator = max(5, int(size * noise.uniform(0.85, 1.15)))
    return round(denominator * rate / 100), denominator


def reported_indicators(unit: Unit) -> list[reference.Indicator]:
    """The ratio indicators the sample reports for a unit (the template's ratio rows)."""
    return [
        i
        for i in reference.indicators_for_group(unit.group, unit.province_code)
        if i.kind == "ratio"
    ]


def _sent_on(unit: Unit, period: str) -> date:
    """The day the report is due (the reporting calendar's), when the sample sends it."""
    return calendar.schedule(unit.served_province_code, unit.group).due_on(period)


def _receive(path: Path, unit: Unit, period: str, days_later: int = 0) -> None:
    """Give a sample file the time it would have arrived (its modification time, which
    the inbox reads as when it was received): during office hours on the day it says it
    was sent, or a few days later for about one file in twenty; a correction
    ``days_later`` days after the report it corrects."""
    rng = _rng("received", unit.code, period)
    day = _sent_on(unit, period) + timedelta(
        days=rng.randint(1, 6) if rng.randrange(20) == 0 else 0
    )
    moment = datetime(day.year, day.month, day.day, 1, tzinfo=UTC)  # 08:00 in Hà Nội
    moment += timedelta(seconds=rng.randrange(9 * 3600), days=days_later)
    os.utime(path, (moment.timestamp(), moment.timestamp()))


def correction_days(unit: Unit, period: str) -> int:
    """Days after its report that the sample sends a correction of it (0: none)."""
    rng = _rng("correction", unit.code, period)
    return rng.randint(1, 4) if rng.randrange(CORRECTION_SHARE) == 0 else 0


def _rows(unit: Unit, period: str, index: int, corrected_after: int = 0) -> list[list[object]]:
    """A report's rows; ``corrected_after`` days later, its correction: the first
    indicator's numerator set right, the rest sent again unchanged."""
    year, month = map(int, period.split("-"))
    sent = _sent_on(unit, period) + timedelta(days=corrected_after)
    header = {
        "unit_code": unit.code,
        "unit_name": unit.name_vi,
        "period": f"{month:02d}/{year}",
        "reporter": _rng("reporter", unit.code).choice(REPORTERS),
        "sent_on": sent.strftime("%d/%m/%Y"),
    }
    figures = []
    for position, indicator in enumerate(reported_indicators(unit)):
        numerator, denominator = _figures(unit, indicator.code, index)
        if position == 0 and (unit.code, period) in MISTYPED_REPORTS and not corrected_after:
            numerator //= 10
        if corrected_after and position == 0:
            change = max(1, denominator // _rng("fix", unit.code, period).randint(20, 50))
            numerator = (
                numerator - change if numerator + change > denominator else numerator + change
            )
        figures.append((indicator, numerator, denominator, round(100 * numerator / denominator, 1)))
    return report_rows(header, figures)


def _registry(provinces: tuple[str, ...] | None, lists: bool = False) -> Registry:
    from chiso.samples.unit_lists import sample_registry
    from ingest.registry import built_in

    provinces = provinces or load_settings().provinces
    return sample_registry(provinces) if lists else built_in(provinces)


def generate(
    out_dir: Path,
    start: str = DEFAULT_START,
    end: str = DEFAULT_END,
    provinces: tuple[str, ...] | None = None,
    lists: bool = False,
) -> list[Path]:
    """Write the sample's report files for the months from ``start`` to ``end`` into
    ``out_dir`` (the provinces this instance serves unless told); return their paths.
    ``lists``: the units of the sample lists report too (import them first:
    :func:`chiso.samples.unit_lists.write_lists`)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    registry = _registry(provinces, lists)
    units = sorted(
        (u for u in registry.units.values() if reported_indicators(u)), key=lambda u: u.code
    )
    written = []
    for index, period in enumerate(months(DEFAULT_START, end)):
        if period < start:
            continue
        for unit in units:
            if not reports_in(unit, period):
                continue
            later = correction_days(unit, period)
            for days, suffix in [(0, "")] + ([(later, "_ban_sua")] if later else []):
                rows = _rows(unit, period, index, corrected_after=days)
                stem = f"bao_cao_{unit.code}_{period}{suffix}"
                if unit.group == "department" and _rng("format", unit.code).randrange(4) == 0:
                    path = out_dir / f"{stem}.xlsx"
                    save_workbook(report_workbook(rows), path)
                else:
                    path = out_dir / f"{stem}.csv"
                    write_csv(rows, path, delimiter="," if unit.code.endswith("6") else ";")
                _receive(path, unit, period, days_later=days)
                written.append(path)
    return written


# --- dirty and broken files ------------------------------------------------------------
# Real report files are typed by hand and re-saved. These variants of one district's June
# 2025 report (rows 9 onward are its indicators; C = numerator, D = denominator) are what
# the reader must accept (DIRTY) or reject with a precise message (BROKEN).

VARIANT_UNIT, VARIANT_PERIOD = "20.178", "2025-06"


def variant_rows() -> list[list[object]]:
    """The rows of the variants' report: district 20.178, June 2025."""
    unit = _registry(("20",)).units[VARIANT_UNIT]
    return _rows(unit, VARIANT_PERIOD, months(DEFAULT_START, VARIANT_PERIOD).index(VARIANT_PERIOD))


def _set(rows: list[list[object]], cell: str, value: object) -> list[list[object]]:
    column, row = ord(cell[0]) - ord("A"), int(cell[1:]) - 1
    rows = [list(r) for r in rows]
    rows[row] += [None] * (column + 1 - len(rows[row]))
    rows[row][column] = value
    return rows


def _dirty(out: Path) -> dict[str, Path]:
    from openpyxl.styles import Font

    rows = variant_rows()
    files: dict[str, Path] = {}

    def csv_file(name: str, content: list[list[object]], **kwargs) -> None:
        files[name] = out / f"{name}.csv"
        write_csv(content, files[name], **kwargs)

    def xlsx_file(name: str, workbook) -> None:
        files[name] = out / f"{name}.xlsx"
        save_workbook(workbook, files[name])

    # numbers typed as text the Vietnamese way: thousands dots, decimal comma, a % sign
    csv_file("vn_numbers", _set(_set(_set(rows, "C9", "1.234"), "D9", "2.345,0"), "E9", "52,6%"))
    # thousands separated by spaces (and a no-break space), plain integers elsewhere
    csv_file("space_thousands", _set(_set(rows, "C9", "1 234"), "D9", "2\u00a0345"))
    # comma-delimited, no BOM
    files["comma_no_bom"] = out / "comma_no_bom.csv"
    write_csv(rows, files["comma_no_bom"], delimiter=",")
    files["comma_no_bom"].write_bytes(files["comma_no_bom"].read_bytes()[3:])
    # indicator rows in another order, an extra note column in the middle
    table = rows[8:]
    csv_file("reordered", rows[:8] + table[::-1])
    extra = [r[:2] + ["ghi chú thêm"] + r[2:] for r in rows[7:]]
    extra[0][2] = "Ghi chú thêm"
    csv_file("extra_column", rows[:7] + extra)
    # blank and merged rows above the header, trailing empty rows and columns
    workbook = report_workbook([[], [], ["UBND TỈNH LẠNG SƠN"], *rows, [], [], []])
    sheet = workbook.active
    sheet.merge_cells("A3:F3")
    sheet["A3"].font = Font(bold=True)
    sheet["J40"] = " "
    xlsx_file("blank_merged_rows", workbook)
    # the date sent as an Excel date, and as a serial number
    as_date = report_workbook(rows)
    as_date.active["B6"] = datetime(2025, 7, 5)
    xlsx_file("date_cell", as_date)
    serial = report_workbook(_set(rows, "B6", 45843))
    xlsx_file("date_serial", serial)
    # a formula in the value column: read as its cached value (none here), never evaluated
    formulas = report_workbook(_set(rows, "E9", "=C9/D9*100"))
    xlsx_file("formula_value", formulas)
    return files


def _broken(out: Path) -> dict[str, Path]:
    rows = variant_rows()
    cases = {
        "unknown_unit": _set(rows, "B2", "20.999"),
        "bad_period": _set(rows, "B4", "13/2025"),
        "abolished_unit_period": _set(rows, "B4", "08/2025"),
        "unknown_indicator": _set(rows, "A9", "ty_le_khong_co"),
        "indicator_not_for_group": _set(rows, "A9", "agency_24_7_service_rate"),
        "numerator_above_denominator": _set(_set(rows, "C9", 1500), "D9", 1000),
        "not_a_number": _set(rows, "D9", "một nghìn"),
        "missing_numerator": _set(rows, "C9", None),
        "negative": _set(rows, "D9", -5),
        "duplicate_row": rows + [rows[8]],
    }
    files = {}
    for name, content in cases.items():
        files[name] = out / f"{name}.csv"
        write_csv(content, files[name])
    return files


def generate_variants(out_dir: Path) -> dict[str, dict[str, Path]]:
    """Write the dirty files (to accept) and the broken ones (one per rule, to reject), each
    with the time it would have arrived (the district's June 2025 report)."""
    dirty, broken = out_dir / "dirty", out_dir / "broken"
    dirty.mkdir(parents=True, exist_ok=True)
    broken.mkdir(parents=True, exist_ok=True)
    written = {"dirty": _dirty(dirty), "broken": _broken(broken)}
    unit = _registry(None).units[VARIANT_UNIT]
    for path in [*written["dirty"].values(), *written["broken"].values()]:
        _receive(path, unit, VARIANT_PERIOD)
    return written
