"""Each blocking check of the gate, on a real build tampered the way bad data would."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from chiso.pipeline import stage_publish, write_candidate
from expectations.frames import run_suites
from expectations.suites import load_suites, suite_parameters
from warehouse.backends import open_warehouse
from warehouse.backends.duckdb import base_tables, file_facts, sources_path
from warehouse.budget import GateBudget
from warehouse.settings import GiB, MiB, load_settings

MART_SUITES = [suite for suite in load_suites() if "source" not in suite["meta"]]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def good_build(demo, tmp_path_factory):
    """A published file from the sample, as of September 2025 (in a copy of the demo's
    data directory: some tests load rows into its raw tables)."""
    data = Path(shutil.copytree(demo.data, tmp_path_factory.mktemp("gate") / "data"))
    return data / "published" / "chiso.duckdb"


def _gate(path, previous_rows=None, suites=MART_SUITES, baseline=None):
    parameters = suite_parameters(*file_facts(path), "2025-09", previous_rows)
    checks = run_suites(path, suites, parameters, baseline=baseline)
    return {c.check for c in checks if not c.passed and c.tier == "blocking"}


def _tampered(good_build, tmp_path, *statements):
    path = tmp_path / "candidate.duckdb"
    shutil.copy(good_build, path)
    conn = duckdb.connect(str(path))
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return path


def test_the_untouched_build_passes_every_blocking_check(good_build, tmp_path):
    conn = duckdb.connect(str(good_build), read_only=True)
    rows = conn.execute("select count(*) from indicator_observations").fetchone()[0]
    conn.close()
    assert _gate(_tampered(good_build, tmp_path), {"indicator_observations": rows}) == set()


def test_an_out_of_range_value_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build,
        tmp_path,
        "update indicator_observations set value = 130 where unit_code = '20.178' "
        "and period = '2025-06'",
    )
    assert _gate(path) == {"value_not_above_indicator_maximum"}


def test_a_broken_reconciliation_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build,
        tmp_path,
        "update province_indicator_observations set numerator = numerator + 1 "
        "where period = '2025-05' and unit_group = 'district'",
    )
    assert _gate(path) == {"province_numerators_reconcile"}


def test_a_missing_month_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build, tmp_path, "delete from indicator_observations where period = '2024-03'"
    )
    assert "every_month_covered" in _gate(path)


def test_a_collapse_in_row_count_is_blocked(good_build, tmp_path):
    path = _tampered(
        good_build, tmp_path, "delete from indicator_observations where period < '2025-01'"
    )
    conn = duckdb.connect(str(good_build), read_only=True)
    before = conn.execute("select count(*) from indicator_observations").fetchone()[0]
    conn.close()
    failed = _gate(path, {"indicator_observations": before})
    assert "row_count_within_band_of_last_publication" in failed


def test_the_quality_report_shows_the_row_count_trend():
    from expectations.results import GateResult

    history = [
        {"run_id": "20250801T000000Z_2025-07", "as_of_period": "2025-07", "row_counts": {"a": 100}},
        {"run_id": "20250901T000000Z_2025-08", "as_of_period": "2025-08", "row_counts": {"a": 200}},
    ]
    gate = GateResult("r", "2025-09", row_counts={"a": 150, "b": 3}, history=history)
    report = gate.report()
    assert "| a | 100 | 200 | 150 | -25.0 % |" in report
    assert "| b |  |  | 3 | new |" in report


def test_against_the_last_publication_only_changed_months_are_rechecked_row_by_row(
    good_build, tmp_path
):
    unchanged = _tampered(good_build, tmp_path)
    parameters = suite_parameters(*file_facts(unchanged), "2025-09", None)
    suites = [s for s in MART_SUITES if s["name"] == "indicator_observations"]
    checks = run_suites(unchanged, suites, parameters, baseline=good_build)
    rows = [c for c in checks if c.check == "ratio_numerator_le_denominator"]
    assert rows[0].passed and "rows of the 0 of 45 period values changed" in rows[0].detail
    coverage = [c for c in checks if c.check == "every_month_covered"]
    assert coverage[0].passed  # the whole table, aggregated per month, every time

    path = tmp_path / "changed.duckdb"
    shutil.copy(good_build, path)
    conn = duckdb.connect(str(path))
    conn.execute(
        "update indicator_observations set numerator = denominator + 1 "
        "where unit_code = '20.178' and period = '2025-06'"
    )
    conn.close()
    checks = run_suites(path, suites, parameters, baseline=good_build)
    failed = [c for c in checks if not c.passed and c.tier == "blocking"]
    assert [c.check for c in failed] == ["ratio_numerator_le_denominator"]
    assert "rows of the 1 of 45 period values changed" in failed[0].detail

    # a new limit in the catalog re-checks every month, changed or not
    conn = duckdb.connect(str(unchanged))
    conn.execute("update dim_indicator set max_value = 50 where kind = 'ratio'")
    conn.close()
    failed = _gate(unchanged, suites=suites, baseline=good_build)
    assert failed == {"value_not_above_indicator_maximum"}


ONE_FIGURE = "unit_code = '20.SNGV' and indicator_code = 'agency_database_national_connection_rate'"
PLANTED = (  # a figure no gate would pass, planted in March 2025 of both files below
    f"update indicator_observations set numerator = denominator + 1 where {ONE_FIGURE} "
    "and period = '2025-03'"
)
CORRECTION = (  # a unit's late correction to November 2024: {} is the corrected numerator
    "update indicator_observations set numerator = {} where " + ONE_FIGURE + " "
    "and period = '2024-11'"
)
AS_OF = (  # a figure of the as-of month: {} is its numerator
    "update indicator_observations set numerator = {} where " + ONE_FIGURE + " "
    "and period = '2025-09'"
)


def test_a_late_correction_is_checked_in_its_month_and_the_as_of_month_only(good_build, tmp_path):
    """A correction to November 2024 reaches the marts with September 2025: the gate reads
    the rows of those two months, a batch each (a budget that holds one month at a time),
    blocks bad data in either, and reads no other month's rows: the figure planted in March
    2025 of both files, which the checks block wherever they read it, is not read."""
    suites = [s for s in MART_SUITES if s["name"] == "indicator_observations"]
    budget = GateBudget(256 * MiB, 1, tmp_path / "spill", GiB)  # 1 byte: a month a batch
    (tmp_path / "baseline").mkdir()
    baseline = _tampered(good_build, tmp_path / "baseline", PLANTED)
    parameters = suite_parameters(*file_facts(baseline), "2025-09", None)
    conn = duckdb.connect(str(baseline), read_only=True)
    planted = f"select count(*) from indicator_observations where {ONE_FIGURE} and numerator > "
    assert conn.execute(planted + "denominator and period = '2025-03'").fetchone() == (1,)
    conn.close()

    def gate(correction: str, as_of: str) -> dict[str, str]:
        path = _tampered(baseline, tmp_path, CORRECTION.format(correction), AS_OF.format(as_of))
        checks = run_suites(path, suites, parameters, baseline=baseline, budget=budget)
        return {c.check: c.detail for c in checks if not c.passed and c.tier == "blocking"} | {
            "note": next(c.detail for c in checks if c.check == "ratio_numerator_le_denominator")
        }

    good = gate("numerator - 1", "numerator - 1")
    assert set(good) == {"note"}, good  # March's planted figure: not read
    assert good["note"].endswith(
        "(rows of the 2 of 45 period values changed since the last publication, which passed "
        "these checks: 2024-11, 2025-09, in 2 batches of whole period values)"
    )
    bad_correction = gate("denominator + 5", "numerator - 1")
    assert set(bad_correction) == {"note", "ratio_numerator_le_denominator"}
    assert "1 unexpected row(s), e.g. " in bad_correction["note"]
    assert " in period 2024-11 (rows of the 2 of 45" in bad_correction["note"]
    bad_as_of = gate("numerator - 1", "denominator + 5")
    assert set(bad_as_of) == {"note", "ratio_numerator_le_denominator"}
    assert " in period 2025-09 (rows of the 2 of 45" in bad_as_of["note"]
    assert "2025-03" not in bad_correction["note"] + bad_as_of["note"]

    # a first publication (no baseline) reads every month, a batch at a time: March too
    checks = run_suites(baseline, suites, parameters, budget=budget)
    (failed,) = [c for c in checks if not c.passed and c.tier == "blocking"]
    assert failed.check == "ratio_numerator_le_denominator"
    assert failed.detail.endswith(
        " in period 2025-03 (every period, in 45 batches of whole period values)"
    )


def test_raw_rows_that_break_the_validators_promise_are_blocked(good_build, monkeypatch):
    """Figures loaded since the last publication are checked in raw, before publication:
    here a row written past the file validator (numerator over denominator)."""
    data_dir = good_build.parent.parent
    monkeypatch.setenv("CHISO_DATA_DIR", str(data_dir))
    settings = load_settings()
    conn = duckdb.connect(str(settings.warehouse_path))
    conn.execute(
        "insert into raw.unit_report_files select * replace ('tampered' as file_sha256, "
        "now() as loaded_at) from raw.unit_report_files limit 1"
    )
    conn.execute(
        "insert into raw.unit_report_values select * replace ('tampered' as file_sha256, "
        "denominator + 5 as numerator) from raw.unit_report_values where numerator is not null "
        "limit 1"
    )
    conn.close()
    try:
        candidate = write_candidate(open_warehouse(settings), "tampered_run", "2025-09")
        path = Path(candidate.location)
        assert _gate(path, suites=load_suites()) == {"raw_numerator_le_denominator"}
    finally:
        conn = duckdb.connect(str(settings.warehouse_path))
        conn.execute("delete from raw.unit_report_values where file_sha256 = 'tampered'")
        conn.execute("delete from raw.unit_report_files where file_sha256 = 'tampered'")
        conn.close()
        for path in settings.candidate_dir.glob("tampered_run*"):
            path.unlink()


def test_a_first_publications_raw_rows_are_checked_a_batch_of_months_at_a_time(
    good_build, tmp_path
):
    """A first publication's raw rows are the whole history (22.8 M figures nationally):
    the raw suite reads them in batches of whole months within the budget, never at once,
    and a bad row is blocked, named by its month."""
    (suite,) = [s for s in load_suites() if s["name"] == "raw_unit_reports"]
    path = _tampered(good_build, tmp_path)
    warehouse = good_build.parent.parent / "warehouse" / "chiso.duckdb"
    conn = duckdb.connect(str(sources_path(path)))
    conn.execute(f"attach '{warehouse}' as work (read_only)")
    conn.execute(
        "create table raw_unit_reports as select period, unit_code, indicator_code, "
        "numerator, denominator, source_row from work.raw.unit_report_values"
    )
    months = conn.execute("select count(distinct period) from raw_unit_reports").fetchone()[0]
    conn.execute(  # one figure past the validator, in March 2025
        "update raw_unit_reports set numerator = denominator + 5 where rowid = (select min(rowid)"
        " from raw_unit_reports where period = '2025-03' and denominator is not null)"
    )
    conn.close()
    assert months > 12
    budget = GateBudget(256 * MiB, 1, tmp_path / "spill", GiB)  # 1 byte: a month a batch
    parameters = suite_parameters(*file_facts(path), "2025-09", None)
    checks = run_suites(path, [suite], parameters, budget=budget)
    (failed,) = [c for c in checks if not c.passed]
    assert failed.check == "raw_numerator_le_denominator" and failed.tier == "blocking"
    assert failed.detail.endswith(
        f" in period 2025-03 (every period, in {months} batches of whole period values)"
    )


def test_a_candidate_without_its_raw_rows_is_blocked(good_build, tmp_path):
    path = _tampered(good_build, tmp_path)
    assert not sources_path(path).exists()
    raw_suites = [s for s in load_suites() if "source" in s["meta"]]
    assert _gate(path, suites=raw_suites) == {f"{s['name']}_rows_available" for s in raw_suites}


def test_every_published_table_and_raw_source_has_a_suite(good_build):
    conn = duckdb.connect(str(good_build), read_only=True)
    tables = set(base_tables(conn))
    conn.close()
    suites = load_suites()
    assert tables <= {s["meta"].get("table") for s in suites}
    sources = {s["meta"]["source"] for s in suites if "source" in s["meta"]}
    assert {"unit_report_values", "portal_766_scores", "portal_766_national"} <= sources
    for suite in suites:  # every check named, every severity one the gate knows
        for expectation in suite["expectations"]:
            assert expectation["meta"]["check"]
            assert expectation["severity"] in ("critical", "warning", "info")


def test_data_docs_keep_the_pages_of_the_last_runs_only(tmp_path):
    from expectations.context import prune_docs

    runs = [f"202611{day:02d}T060000123456Z_2025-09" for day in range(1, 13)]
    for run in runs:
        for suite in ("indicator_observations", "indicator_observations/partitions"):
            (tmp_path / "validations" / suite / run / "x").mkdir(parents=True)
    prune_docs(tmp_path, keep=10)
    left = sorted(p.name for p in (tmp_path / "validations/indicator_observations").iterdir())
    assert left == sorted(runs[2:] + ["partitions"])
    assert (
        sorted(
            p.name for p in (tmp_path / "validations/indicator_observations/partitions").iterdir()
        )
        == runs[2:]
    )


def test_raw_rows_loaded_between_candidate_and_publish_are_checked_by_the_next_run(
    good_build, tmp_path, monkeypatch
):
    """In Airflow an ingest task may load between the candidate and publish tasks: the next
    run's raw suites must still see those rows (the cut is the candidate's, not the
    publication's time)."""
    data_dir = tmp_path / "data"
    shutil.copytree(good_build.parent.parent, data_dir)
    monkeypatch.setenv("CHISO_DATA_DIR", str(data_dir))
    settings = load_settings()
    backend = open_warehouse(settings)
    first = write_candidate(backend, "29990101T000000000000Z_2025-09", "2025-09")
    conn = duckdb.connect(str(settings.warehouse_path))
    conn.execute(
        "insert into raw.unit_report_files select * replace ('late' as file_sha256, "
        "now() as loaded_at) from raw.unit_report_files limit 1"
    )
    conn.execute(
        "insert into raw.unit_report_values select * replace ('late' as file_sha256, "
        "denominator + 5 as numerator) from raw.unit_report_values where numerator is not null "
        "limit 1"
    )
    conn.close()
    stage_publish(settings, first)
    second = write_candidate(backend, "29990102T000000000000Z_2025-09", "2025-09")
    raw_suites = [s for s in load_suites() if s["name"] == "raw_unit_reports"]
    assert _gate(Path(second.location), suites=raw_suites) == {"raw_numerator_le_denominator"}


def test_a_publish_retried_after_its_swap_publishes_nothing_twice(
    good_build, tmp_path, monkeypatch
):
    """A worker lost after the swap, before Airflow heard the task end: the publish is
    retried, finds its own run published, and leaves it (its candidate is gone by then)."""
    data_dir = tmp_path / "data"
    shutil.copytree(good_build.parent.parent, data_dir)
    monkeypatch.setenv("CHISO_DATA_DIR", str(data_dir))
    settings = load_settings()
    backend = open_warehouse(settings)
    before = len(backend.publications())
    made = write_candidate(backend, "29990103T000000000000Z_2025-09", "2025-09")
    published = stage_publish(settings, made)
    assert stage_publish(settings, made) == published
    after = backend.publications()
    assert len(after) == before + 1 and after[-1]["run_id"] == made.run_id
