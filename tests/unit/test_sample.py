from chiso.samples.report_files import MISSING_REPORTS, SAMPLE_PROVINCE, generate, months
from ingest.sources.unit_files import read_report
from warehouse import reference


def test_same_arguments_give_the_same_bytes(tmp_path):
    first = generate(tmp_path / "a")
    second = generate(tmp_path / "b")
    assert [p.name for p in first] == [p.name for p in second]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(first, second, strict=True))


def test_covers_every_unit_and_at_least_twelve_months(tmp_path):
    files = generate(tmp_path)
    reports = [read_report(path) for path in files]
    assert all(report.is_valid for report in reports)
    periods = {report.period for report in reports}
    assert len(periods) >= 12
    seen = {(report.unit_code, report.period) for report in reports}
    expected = {
        (unit.code, period)
        for unit in reference.units().values()
        for period in periods
        if unit.province_code == SAMPLE_PROVINCE
        and (unit.valid_from or "0")[:7] <= period <= (unit.valid_to or "9")[:7]
    }
    assert expected - seen == MISSING_REPORTS
    assert seen <= expected
    # districts stop when the district level is abolished; new communes start after it
    assert max(p for u, p in seen if u == "20.178") == "2025-06"
    assert min(p for u, p in seen if u == "20.05977") == "2025-07"
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
