from ingest.sample import MISSING_REPORTS, generate, months
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
    expected = {(unit, period) for unit in reference.units() for period in periods}
    assert expected - seen == MISSING_REPORTS
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
        assert sum(rates[-6:]) / 6 > sum(rates[:6]) / 6


def test_months_helper():
    assert months("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
