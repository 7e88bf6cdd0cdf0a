from chiso.samples.report_files import (
    MISSING_REPORTS,
    generate,
    months,
    reported_indicators,
    reports_in,
)
from ingest.registry import default_registry
from ingest.sources.unit_files import read_report
from warehouse.calendar import schedule


def test_same_arguments_give_the_same_bytes(tmp_path):
    first = generate(tmp_path / "a", start="2024-11", end="2025-01")
    second = generate(tmp_path / "b", start="2024-11", end="2025-01")
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_covers_every_reporting_unit_as_often_as_its_group_reports(tmp_path):
    files = generate(tmp_path, start="2024-10", end="2025-09")
    reports = [read_report(path) for path in files]
    assert all(report.is_valid for report in reports)
    periods = {report.period for report in reports}
    assert len(periods) == 12
    seen = {(report.unit_code, report.period) for report in reports}
    reporting = [u for u in default_registry().units.values() if reported_indicators(u)]
    owed = {
        (u.code, p)
        for u in reporting
        for p in periods
        if u.exists_in(p) and schedule(u.served_province_code, u.group).owes(p)
    }
    expected = {(u.code, p) for u in reporting for p in periods if reports_in(u, p)}
    assert seen == expected
    # gaps: the named one, and about one unit-month in sixty, never more than one in twenty
    assert MISSING_REPORTS & owed and owed - seen >= MISSING_REPORTS & owed
    assert 0 < len(owed - seen) < len(owed) / 20
    # every group that a target measures from unit reports sends files; communes once a
    # year, October's figures (the reporting calendar)
    groups = {default_registry().units[u].group for u, _ in seen}
    assert groups == {"province", "department", "district", "commune"}
    assert {p for u, p in seen if default_registry().units[u].group == "commune"} == {"2024-10"}
    # districts stop when the district level is abolished; new communes start after it
    assert max(p for u, p in seen if u == "20.178") == "2025-06"
    assert not any(
        u == "20.05977" for u, _ in seen
    )  # a new commune: its first yearly report is 2025-10
    assert {path.suffix for path in files} == {".csv", ".xlsx"}


def test_figures_trend_upward_and_stay_consistent(tmp_path):
    files = generate(tmp_path, start="2022-01", end="2025-06")
    by_unit: dict[str, list[float]] = {}
    for path in sorted(files):
        report = read_report(path)
        for row in report.rows:
            assert 0 <= row.numerator <= row.denominator
            if row.indicator_code == "work_record_online_rate":
                by_unit.setdefault(report.unit_code, []).append(row.numerator / row.denominator)
    for rates in by_unit.values():
        if len(rates) >= 12:
            assert sum(rates[-6:]) / 6 > sum(rates[:6]) / 6


def test_months_helper():
    assert months("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]


def test_the_cli_defaults_are_the_generators():
    from chiso.cli import files
    from chiso.samples import report_files

    assert (files.SAMPLE_START, files.SAMPLE_END) == (
        report_files.DEFAULT_START,
        report_files.DEFAULT_END,
    )
