"""Every real-world variant is accepted with the right values; every rule rejects exactly."""

from __future__ import annotations

import json
from datetime import date

import duckdb
import pytest

from chiso.samples.report_files import generate_variants
from ingest.inbox import ingest_inbox
from ingest.sources.unit_files import read_report


@pytest.fixture(scope="module")
def variants(tmp_path_factory):
    return generate_variants(tmp_path_factory.mktemp("variants"))


# name -> (numerator, denominator, value) of the first indicator row read, and its row
DIRTY = {
    "vn_numbers": ((1234, 2345, 52.6), 9),
    "space_thousands": ((1234, 2345, 79.0), 9),
    "comma_no_bom": ((1469, 1859, 79.0), 9),
    "extra_column": ((1469, 1859, 79.0), 9),
    "blank_merged_rows": ((1469, 1859, 79.0), 12),
    "date_cell": ((1469, 1859, 79.0), 9),
    "date_serial": ((1469, 1859, 79.0), 9),
    "formula_value": ((1469, 1859, None), 9),  # the formula is not evaluated
}

BROKEN = {
    "unknown_unit": ("B2", "unit code '20.999' is not in the reporting-unit registry"),
    "bad_period": ("B4", "period '13/2025' is not a valid month"),
    "abolished_unit_period": (
        "B4",
        "unit '20.178' did not exist in 2025-08 (valid … to 2025-06-30)",
    ),
    "unknown_indicator": ("A9", "indicator code 'ty_le_khong_co' is not in the indicator catalog"),
    "indicator_not_for_group": (
        "A9",
        "indicator 'agency_24_7_service_rate' does not apply to district units of province 20",
    ),
    "numerator_above_denominator": ("C9", "numerator 1500 is greater than denominator 1000"),
    "not_a_number": ("D9", "'một nghìn' is not a number"),
    "missing_numerator": ("C9", "a ratio indicator needs its numerator"),
    "negative": ("D9", "negative number -5 is not allowed: a count is not negative"),
    "duplicate_row": ("A19", "indicator 'cloud_system_rate' appears twice (first at cell A9)"),
}


@pytest.mark.parametrize("name", sorted(DIRTY))
def test_dirty_variants_are_read_with_the_right_values(variants, name):
    report = read_report(variants["dirty"][name])
    if name == "formula_value":  # an uncalculated formula where chiso computes the value
        (warning,) = report.problems
        assert (warning.cell, warning.severity) == ("E9", "warning")
        assert "formula saved without its value" in warning.message_en
    else:
        assert report.problems == []
    assert (report.unit_code, report.period, report.sent_on) == (
        "20.178",
        "2025-06",
        date(2025, 7, 5),
    )
    first = report.rows[0]
    expected, source_row = DIRTY[name]
    assert (first.numerator, first.denominator, first.value) == expected
    assert first.source_row == source_row and first.indicator_code == "cloud_system_rate"
    assert len(report.rows) == 10


def test_reordered_rows_are_matched_by_code(variants):
    straight = read_report(variants["dirty"]["extra_column"]).rows
    reordered = read_report(variants["dirty"]["reordered"]).rows
    key = lambda row: (row.indicator_code, row.numerator, row.denominator)  # noqa: E731
    assert sorted(map(key, reordered)) == sorted(map(key, straight))
    assert reordered[0].indicator_code == "work_record_online_rate"


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_each_rule_rejects_with_the_exact_cell_and_message(variants, name):
    report = read_report(variants["broken"][name])
    assert [(p.cell, p.message_en) for p in report.errors] == [BROKEN[name]]
    assert report.errors[0].message_vi  # and in Vietnamese


def test_the_inbox_quarantines_every_broken_file_and_loads_every_dirty_one(settings, variants):
    import shutil

    for kind in ("dirty", "broken"):
        for path in variants[kind].values():
            # copy2: the time each file arrived comes with it (the inbox reads it as receipt)
            shutil.copy2(path, settings.inbox_dir / f"{kind}_{path.name}")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert sorted(summary.quarantined) == sorted(f"broken_{n}.csv" for n in BROKEN)
    reports = {
        json.loads((folder / "errors.json").read_text(encoding="utf-8"))["file"]: folder
        for folder in (settings.quarantine_dir / "unit_files").iterdir()
    }
    for name, (cell, message) in BROKEN.items():
        folder = reports[f"broken_{name}.csv"]
        assert (folder / f"broken_{name}.csv").is_file()
        assert f"cell {cell}: {message}" in (folder / "errors.txt").read_text(encoding="utf-8")
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    loaded = {
        row[0]
        for row in conn.execute("select source_file_name from raw.unit_report_files").fetchall()
    }
    conn.close()
    assert not any(name.startswith("broken_") for name in loaded)
    # the dirty files that differ in bytes land and load (several are the same figures)
    assert {f"dirty_{p.name}" for p in variants["dirty"].values()} >= loaded
    assert summary.loaded_files == len(loaded) >= len(DIRTY)
