"""The main job end to end on real components: DuckDB, dbt, Great Expectations."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest

from chiso.pipeline import GateFailed, run
from chiso.samples.report_files import generate, reported_indicators
from ingest.inbox import ingest_inbox
from ingest.landing import sha256_file
from ingest.registry import default_registry
from ingest.sources.unit_files import read_report
from tests.helpers.clerk_files import received
from tests.helpers.data import expected_progress_pairs, set_csv_cell, table_contents
from warehouse import reference
from warehouse.lock import LockedError, run_lock

pytestmark = pytest.mark.slow
QUIET = lambda _: None  # noqa: E731


def test_run_publishes_every_target_for_every_unit_with_its_status(settings, sample_inbox):
    summary = run("2025-06", settings, log=QUIET)
    assert summary.gate_passed is True
    assert summary.published == str(settings.published_path)
    assert set(summary.stage_seconds) == {"ingest", "build", "gate", "publish"}
    assert not settings.candidate_path(summary.run_id).exists()
    # the run let go of dbt's database: its buffers are freed, and another process can open it
    opening = f"import duckdb; duckdb.connect({str(settings.warehouse_path)!r}, read_only=True)"
    opened = subprocess.run([sys.executable, "-c", opening], capture_output=True, text=True)
    assert opened.returncode == 0, opened.stderr

    first = table_contents(settings.published_path)
    assert set(first) == {
        "dim_admin_unit_crosswalk",
        "dim_admin_unit",
        "dim_document",
        "dim_indicator",
        "dim_label",
        "dim_target",
        "dim_unit",
        "indicator_observations",
        "province_indicator_observations",
        "target_progress",
        "target_progress_history",
        "unit_scorecard",
        "province_pillar_overview",
        "reporting_completeness",
        "reporting_rates",
        "reporting_exceptions",
        "figure_revisions",
        "figure_outliers",
        "portal_766_scores",
        "portal_national_figures",
        "service_provision",
        "dti_scores",
    }
    conn = duckdb.connect(str(settings.published_path), read_only=True)
    progress = conn.execute(
        "select target_id, unit_code, deadline_on, as_of_period, status, latest_period, "
        "indicator_code from target_progress"
    ).fetchall()
    conn.close()
    assert {row[:2] for row in progress} == expected_progress_pairs("2025-06")
    assert {row[3] for row in progress} == {"2025-06"}
    # only Lạng Sơn units report in the sample, from January 2022: 2021 targets have no
    # figure; 2022 targets are judged at their deadline; 2025 and 2030 targets by pace,
    # except for the department merged away in March 2025
    units = default_registry().units
    for _, unit_code, deadline_on, _, status, latest_period, indicator_code in progress:
        if unit_code is None:
            assert status == "no_units_registered"  # schools, health facilities: no list
            continue
        # the sample writes the ratio indicators of each unit's group (no counts, growth)
        reported = {i.code for i in reported_indicators(units[unit_code])}
        ended = units[unit_code].valid_to
        if ended and ended < min(deadline_on, date(2025, 6, 30)):
            assert status == "unit_abolished"  # e.g. merged into Sở KH&CN on 1 March 2025
        elif (
            units[unit_code].province_code != "20"
            or deadline_on.year == 2021
            or indicator_code not in reported  # portal, DTI, statistics: none in this test
        ):
            assert status == "no_report"
        elif deadline_on.year == 2022:
            assert status in ("achieved", "not_achieved")
            assert "2022-10" <= latest_period <= "2022-12"  # December, unless a gap
        else:
            assert status not in ("no_report", "insufficient_data", "unit_abolished")

    gate = json.loads((settings.gate_dir / "latest.json").read_text(encoding="utf-8"))
    assert gate["passed"] and gate["run_id"] == summary.run_id
    assert {c["source"] for c in gate["checks"]} == {"dbt", "great_expectations"}
    # a rerun of the month, on both warehouses: tests/warehouse/test_backends.py


def _by_hand(target_id: str, unit_code: str, as_of: str, files: list[Path]) -> dict:
    """target_progress's method (DESIGN.md) restated in plain Python over the sample files."""
    import calendar
    from datetime import date

    from warehouse.reference import read_seed
    from warehouse.settings import load_settings

    def month_end(period: str) -> date:
        year, month = map(int, period.split("-"))
        return date(year, month, calendar.monthrange(year, month)[1])

    target = next(t for t in reference.targets() if t["target_id"] == target_id)
    seeds = load_settings().dbt_project_dir / "seeds"
    document = next(
        d for d in read_seed(seeds, "documents") if d["document_id"] == target["document_id"]
    )
    document_on, deadline = (
        date.fromisoformat(document["issued_on"]),
        date.fromisoformat(target["deadline_on"]),
    )
    series = {}
    for path in files:
        report = read_report(path)
        if report.unit_code != unit_code:
            continue
        for row in report.rows:
            if row.indicator_code == target["indicator_code"]:
                end = month_end(report.period)
                if document_on <= end <= min(month_end(as_of), deadline):
                    series[end] = 100 * row.numerator / row.denominator
    (t0, y0), (t, y) = min(series.items()), max(series.items())
    goal = float(target["target_value"])
    closed = (y - y0) / (goal - y0)
    elapsed = (t - t0).days / (deadline - t0).days
    return {"baseline": y0, "latest": y, "closed": closed, "elapsed": elapsed, "goal": goal}


def test_progress_matches_two_cases_computed_by_hand(settings, tmp_path):
    files = generate(settings.inbox_dir)
    copies = [Path(shutil.copy(path, tmp_path)) for path in files]
    run("2025-06", settings, log=QUIET)
    conn = duckdb.connect(str(settings.published_path), read_only=True)

    def published(target_id, unit_code):
        return conn.execute(
            "select baseline_value, latest_value, gap_closed_share, time_elapsed_share, "
            "pace_ratio, status from target_progress where target_id = ? and unit_code = ?",
            [target_id, unit_code],
        ).fetchone()

    # a district toward "80% of work records online by 2025" (KH 226, 18 Nov 2021), as of
    # June 2025, its last month before the district level was abolished
    case = "ls_kh226_2021__work_record_online_rate__district"
    hand = _by_hand(case, "20.178", "2025-06", copies)
    baseline, latest, closed, elapsed, pace, status = published(case, "20.178")
    assert (baseline, latest) == pytest.approx((hand["baseline"], hand["latest"]))
    assert (closed, elapsed) == pytest.approx((hand["closed"], hand["elapsed"]))
    assert pace == pytest.approx(hand["closed"] / hand["elapsed"])
    if hand["baseline"] < hand["goal"] <= hand["latest"]:
        assert status == "achieved"
    else:
        ratio = hand["closed"] / hand["elapsed"]
        expected = "on_track" if ratio >= 0.95 else "needs_acceleration" if ratio >= 0.6 else None
        assert status == (expected or ("off_track" if ratio >= 0 else "deteriorating"))

    # a department toward "50% of reports online by end 2022" (CT 04, 27 Apr 2022): judged
    # at the deadline on its December 2022 figure
    case = "ls_ct04_2022__report_online_rate__department"
    hand = _by_hand(case, "20.STP", "2025-06", copies)
    baseline, latest, *_, status = published(case, "20.STP")
    conn.close()
    assert (baseline, latest) == pytest.approx((hand["baseline"], hand["latest"]))
    assert status == ("achieved" if hand["latest"] >= hand["goal"] else "not_achieved")


def test_the_july_2025_boundary_keeps_both_schemes_apart(settings, sample_inbox):
    run("2025-09", settings, log=QUIET)
    conn = duckdb.connect(str(settings.published_path), read_only=True)

    def rows(sql):
        return conn.execute(sql).fetchall()

    # figures: districts report monthly until June 2025, old communes yearly (October's
    # figures) until 2024, a new commune has no year yet; no unit spans the boundary
    spans = dict(
        (row[0], row[1:])
        for row in rows(
            "select unit_code, min(period), max(period) from indicator_observations "
            "where unit_code in ('20.178', '20.178.05977', '20.05977') group by unit_code"
        )
    )
    assert spans == {"20.178": ("2022-01", "2025-06"), "20.178.05977": ("2022-10", "2024-10")}
    districts = rows("select count(*) from dim_unit where unit_group = 'district'")[0][0]
    assert districts == 11  # Lạng Sơn's, from the administrative-unit library
    # a 2022 district target stays with its (pre-2025) districts, judged at its deadline
    judged = rows(
        "select unit_scheme, status, latest_period from target_progress "
        "where target_id = 'ls_ct04_2022__work_record_online_rate__district'"
    )
    assert len(judged) == districts
    assert all(
        scheme == "pre_2025"
        and status in ("achieved", "not_achieved")
        and latest >= "2022-10"
        and latest <= "2022-12"
        for scheme, status, latest in judged
    )
    # a 2025 district target: the districts were abolished before it could be judged;
    # their figures are kept, they get no verdict
    abolished = rows(
        "select status, observation_count, latest_period from target_progress "
        "where target_id = 'ls_kh226_2021__work_record_online_rate__district'"
    )
    assert [status for status, *_ in abolished] == ["unit_abolished"] * districts
    assert all(count >= 35 and latest >= "2025-04" for _, count, latest in abolished)
    # the 2025 commune target: the old communes ended before it could be judged; the new
    # communes start their own series (nothing yet: their first yearly report is October's)
    communes = rows(
        "select unit_scheme, status, count(*), max(latest_period) from target_progress "
        "where target_id = 'ls_kh226_2021__work_record_online_rate__commune' group by all"
    )
    assert sorted(communes) == [
        ("post_2025", "no_report", 65, None),
        ("pre_2025", "unit_abolished", 194, "2024-10"),
    ]
    assert rows(
        "select count(*) from dim_admin_unit where admin_unit_id in "
        "('pre_2025-district-178', 'post_2025-commune-05977')"
    ) == [(2,)]
    conn.close()


def _broken_june_correction(tmp_path: Path) -> Path:
    """A "correction" for June where dossiers processed online outnumber those received."""
    generate(tmp_path / "june", start="2025-06", end="2025-06")
    source = tmp_path / "june" / "bao_cao_20.178_2025-06.csv"
    broken = tmp_path / "bao_cao_20.178_2025-06_sua.csv"
    set_csv_cell(source, broken, "C9", "999.999")  # numerator far above the denominator
    return broken


def test_a_broken_file_is_quarantined_and_nothing_of_it_reaches_raw(settings, tmp_path):
    broken = _broken_june_correction(tmp_path)
    shutil.copy(broken, settings.inbox_dir / broken.name)
    summary = ingest_inbox(settings, log=QUIET)
    assert summary.quarantined == [broken.name] and summary.loaded_files == 0
    (folder,) = (settings.quarantine_dir / "unit_files").iterdir()
    errors = json.loads((folder / "errors.json").read_text(encoding="utf-8"))["errors"]
    denominator = read_report(broken).rows[0].denominator
    assert [(e["cell"], e["en"]) for e in errors] == [
        ("C9", f"numerator 999999 is greater than denominator {denominator:g}")
    ]
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    assert conn.execute("select count(*) from raw.unit_report_values").fetchone() == (0,)
    conn.close()


def test_broken_figures_past_the_validator_fail_the_gate_and_leave_the_published_file(
    settings, sample_inbox
):
    run("2025-06", settings, log=QUIET)
    published_before = sha256_file(settings.published_path)
    # figures the file validator never saw (loaded by an older release, or another source)
    conn = duckdb.connect(str(settings.warehouse_path))
    conn.execute(
        "insert into raw.unit_report_values select 'f' || file_sha256, source_row, "
        "source_file_name, unit_code, period, sent_on + 15, indicator_code, "
        "denominator * 1000, denominator, reported_value, note, load_id, "
        "received_at + interval 1 day, sheet "
        "from raw.unit_report_values where unit_code = '20.178' and period = '2025-06'"
    )
    conn.close()

    messages: list[str] = []
    with pytest.raises(GateFailed) as failure:
        run("2025-06", settings, log=messages.append)
    assert "numerator_not_above_denominator" in str(failure.value)
    assert "stg_unit_reports__values" in str(failure.value)
    # the failing rows themselves are shown (dbt stores them in schema audit)
    assert "failing rows (sample): [{" in str(failure.value)
    assert "'unit_code': '20.178'" in str(failure.value)
    assert any(m.strip().startswith("BLOCKING") for m in messages)
    assert sha256_file(settings.published_path) == published_before
    assert list(settings.candidate_dir.iterdir()) == []  # dbt failed: no candidate at all
    gate = json.loads((settings.gate_dir / "latest.json").read_text(encoding="utf-8"))
    assert gate["passed"] is False


def test_great_expectations_blocks_on_critical_and_only_warns_on_warning(settings, tmp_path):
    from expectations.frames import run_suites
    from expectations.suites import load_suites, suite_parameters
    from warehouse.backends.duckdb import file_facts

    path = tmp_path / "candidate.duckdb"
    conn = duckdb.connect(str(path))
    conn.execute(
        """
        create table indicator_observations as
        select * from (values
            ('20.178', 'work_record_online_rate', '2025-06', 90.0, 100.0, 90.0, 1),
            ('20.183', 'work_record_online_rate', '2025-6',  120.0, 100.0, 120.0, 5)
        ) as t(unit_code, indicator_code, period, numerator, denominator, value,
               submission_count);
        create table dim_indicator as
        select 'work_record_online_rate' as indicator_code, 'ratio' as kind,
               0.0 as min_value, 100.0 as max_value;
        """
    )
    conn.close()
    suites = [s for s in load_suites() if s["name"] == "indicator_observations"]
    parameters = suite_parameters(*file_facts(path), "2025-06", None)
    checks = {check.check: check for check in run_suites(path, suites, parameters)}
    failed = {name for name, check in checks.items() if not check.passed}
    assert failed == {
        "period_is_a_month",
        "ratio_numerator_le_denominator",
        "value_not_above_indicator_maximum",
        "few_resubmissions",
    }
    assert checks["few_resubmissions"].tier == "warning"
    assert checks["ratio_numerator_le_denominator"].tier == "blocking"
    assert checks["ratio_numerator_le_denominator"].detail.startswith("1 unexpected row(s)")


def test_a_second_run_is_refused_while_the_lock_is_held(settings):
    with run_lock(settings.lock_path, "test holder"), pytest.raises(LockedError) as held:
        run("2025-06", settings, log=QUIET)
    assert "test holder" in str(held.value)
    assert not settings.published_path.exists()


def test_sha256_helper_matches_hashlib(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(b"chiso")
    assert sha256_file(path) == hashlib.sha256(b"chiso").hexdigest()


def test_a_run_computes_the_month_before_its_date_in_vietnam_time(settings):
    from datetime import UTC, datetime

    from chiso.tasks import resolve_period

    assert resolve_period("2025-06", datetime(2026, 1, 1, tzinfo=UTC)) == "2025-06"
    assert resolve_period(None, datetime(2026, 3, 10, tzinfo=UTC)) == "2026-02"
    assert resolve_period(None, datetime(2026, 1, 10, tzinfo=UTC)) == "2025-12"
    # 18:00 UTC on 30 June is 01:00 on 1 July in Hà Nội: June has closed
    assert resolve_period(None, datetime(2025, 6, 30, 18, tzinfo=UTC)) == "2025-06"


def test_a_corrected_file_supersedes_the_first_while_both_stay_in_raw(
    settings, sample_inbox, tmp_path
):
    run("2025-06", settings, log=QUIET)
    generate(tmp_path / "june", start="2025-06", end="2025-06")
    correction = settings.inbox_dir / "bao_cao_20.178_2025-06_dinh_chinh.csv"
    set_csv_cell(tmp_path / "june" / "bao_cao_20.178_2025-06.csv", correction, "C9", "7")
    # received later, though its "date sent" is earlier: the later receipt wins
    set_csv_cell(correction, correction, "B6", "01/07/2025")
    received(correction, datetime(2025, 7, 10, 3, tzinfo=UTC))  # after the original
    indicator = read_report(correction).rows[0].indicator_code
    run("2025-06", settings, log=QUIET)

    conn = duckdb.connect(str(settings.published_path), read_only=True)
    row = conn.execute(
        "select numerator, submission_count, source_file_name from indicator_observations "
        "where unit_code = '20.178' and period = '2025-06' and indicator_code = ?",
        [indicator],
    ).fetchone()
    conn.close()
    assert row == (7, 2, correction.name)
    conn = duckdb.connect(str(settings.warehouse_path))  # dbt, in-process, holds it open
    files = conn.execute(
        "select count(*) from raw.unit_report_files where unit_code = '20.178' "
        "and period = '2025-06'"
    ).fetchone()
    conn.close()
    assert files == (2,)


def test_history_holds_one_row_per_target_unit_and_snapshot_month(settings, sample_inbox):
    from chiso.snapshot import snapshot

    run("2025-08", settings, log=QUIET)
    snapshot(settings, "2025-08", log=QUIET)
    run("2025-09", settings, log=QUIET)
    snapshot(settings, "2025-09", log=QUIET)
    run("2025-09", settings, log=QUIET)  # reads both snapshots back
    snapshot(settings, "2025-09", log=QUIET)  # the history mart is not in a snapshot: no-op
    conn = duckdb.connect(str(settings.published_path), read_only=True)
    per_month = dict(
        conn.execute(
            "select snapshot_period, count(*) from target_progress_history group by all"
        ).fetchall()
    )
    keys = conn.execute(
        "select count(*), count(distinct (snapshot_period, target_id, unit_code)) "
        "from target_progress_history"
    ).fetchone()
    conn.close()
    assert per_month == {
        "2025-08": len(expected_progress_pairs("2025-08")),
        "2025-09": len(expected_progress_pairs("2025-09")),
    }
    assert keys[0] == keys[1]
