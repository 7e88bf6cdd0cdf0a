"""The dbt project as dbt's own review tools judge one (dbt-project-evaluator, dbt-score):
read from the manifest and the warehouse the session's demo built."""

from __future__ import annotations

import json
import re

import duckdb
import pytest

from tests.helpers.project import PROJECT_ROOT
from warehouse.backends.duckdb import base_tables

pytestmark = pytest.mark.slow
MODELS = PROJECT_ROOT / "dbt_project" / "models"


@pytest.fixture(scope="module")
def manifest(demo) -> dict:
    return json.loads((demo.data / "dbt" / "target" / "manifest.json").read_text())


@pytest.fixture(scope="module")
def published(demo) -> set[str]:
    """The marts the demo published (without its _publication record)."""
    conn = duckdb.connect(str(demo.published), read_only=True)
    try:
        return set(base_tables(conn))
    finally:
        conn.close()


def _models(manifest: dict) -> dict[str, dict]:
    return {
        node["name"]: node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model"
    }


def test_every_column_of_every_model_is_described(demo, manifest):
    conn = duckdb.connect(str(demo.data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        missing = []
        for name, node in _models(manifest).items():
            built = [
                row[0]
                for row in conn.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [node["schema"], node["alias"] or name],
                ).fetchall()
            ]
            assert built, f"{name} is not in the warehouse"
            described = {c for c, spec in node["columns"].items() if spec.get("description")}
            missing += [f"{name}.{column}" for column in built if column not in described]
    finally:
        conn.close()
    assert not missing, "columns without a description:\n" + "\n".join(missing)


def test_every_model_has_a_tested_grain(manifest):
    grains: dict[str, set] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] != "test" or not node.get("attached_node"):
            continue
        test = node.get("test_metadata", {}).get("name")
        if test in ("primary_key", "unique", "unique_combination"):
            grains.setdefault(node["attached_node"].split(".")[-1], set()).add(test)
    assert set(_models(manifest)) - set(grains) == set()


def test_models_read_raw_data_only_through_declared_sources(manifest):
    for path in MODELS.rglob("*.sql"):
        text = path.read_text(encoding="utf-8")
        assert "get_relation" not in text, path
        assert not re.search(r"\braw\.", text), f"{path} names a raw table without source()"
    sources = {node["name"] for node in manifest["sources"].values()}
    assert {"snapshot_target_progress", "unit_report_values"} <= sources
    for node in _models(manifest).values():
        folder = node["original_file_path"].split("/")[1]
        reads_sources = any(dep.startswith("source.") for dep in node["depends_on"]["nodes"])
        assert reads_sources == (folder == "staging"), node["name"]  # only staging does


def test_the_portal_sources_declare_their_freshness(manifest):
    portal = {
        node["name"]: node
        for node in manifest["sources"].values()
        if node["source_name"] == "portal" and node["name"].startswith("portal_766")
    }
    assert set(portal) == {"portal_766_scores", "portal_766_national"}
    for node in portal.values():
        assert node["loaded_at_field"] == "fetched_at"
        assert node["freshness"]["warn_after"]["count"] and node["freshness"]["error_after"]


def test_every_published_mart_has_a_declared_consumer(published, manifest):
    read = {
        dependency.split(".")[-1]
        for exposure in manifest["exposures"].values()
        for dependency in exposure["depends_on"]["nodes"]
    }
    assert published <= read
    exposures = {exposure["name"] for exposure in manifest["exposures"].values()}
    assert exposures >= {"monthly_report", "bi_dashboards"}


def test_every_published_mart_is_under_an_enforced_contract(published, manifest):
    """The marts are BI's interface: names and types declared, and dbt refuses a build
    whose columns differ (the types written so that DuckDB and PostgreSQL agree)."""
    models = _models(manifest)
    for table in published:
        node = models[table]
        assert node["config"]["contract"]["enforced"], table
        untyped = [name for name, column in node["columns"].items() if not column["data_type"]]
        assert not untyped, f"{table}: {untyped}"


def test_runs_leave_the_unit_tests_out_and_chiso_runs_them_all(demo, demo_copy, manifest):
    """A run's build has no unit test (they test the code, not the month: dbt's guidance is
    development and CI); ``chiso dbt-unit-tests`` runs every one on the built warehouse."""
    import subprocess

    from tests.helpers.project import VENV_BIN
    from tests.helpers.runs import chiso_environment

    run_results = json.loads((demo.data / "dbt" / "target" / "run_results.json").read_text())
    kinds = {result["unique_id"].split(".")[0] for result in run_results["results"]}
    assert "unit_test" not in kinds and {"model", "test"} <= kinds
    expected = len(manifest["unit_tests"])
    assert expected >= 15
    env = chiso_environment(demo_copy, CHISO_PROVINCES="20,08,14")  # as the demo served
    done = subprocess.run(
        [str(VENV_BIN / "chiso"), "dbt-unit-tests"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert f"dbt unit tests: {expected} passed, 0 failed" in done.stdout


def test_chiso_dbt_unit_tests_without_a_built_warehouse_says_what_to_do(tmp_path):
    import subprocess

    from tests.helpers.project import VENV_BIN
    from tests.helpers.runs import chiso_environment

    done = subprocess.run(
        [str(VENV_BIN / "chiso"), "dbt-unit-tests"],
        env=chiso_environment(tmp_path / "data"),
        capture_output=True,
        text=True,
    )
    assert done.returncode != 0
    assert "no work warehouse" in done.stderr and "chiso demo, or chiso run" in done.stderr


def test_completeness_counts_each_report_from_when_it_was_received(demo):
    """The sample's files say they were sent on the 5th (on time); about one in twenty
    arrived days later (its time in the inbox). Those are late: the receipt counts, in
    Hà Nội's calendar, never the date a clerk typed."""
    conn = duckdb.connect(str(demo.data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        conn.execute(f"attach '{demo.published}' as published (read_only)")
        rows = conn.execute(
            """
            with files as (
                select unit_code, period, min(sent_on) as sent_on,
                    min(cast(received_at at time zone 'Asia/Ho_Chi_Minh' as date)) as received_on
                from raw.unit_report_files group by unit_code, period
            )
            select c.reporting_status, c.first_received_on = f.received_on, f.sent_on <= c.due_on
            from published.main.reporting_completeness as c
            inner join files as f using (unit_code, period)
            """
        ).fetchall()
    finally:
        conn.close()
    assert rows and all(matches for _, matches, _ in rows)
    late_though_dated_on_time = [r for r in rows if r[0] == "received_late" and r[2]]
    assert len(late_though_dated_on_time) > len(rows) / 40
    assert {r[0] for r in rows} == {"received_on_time", "received_late"}


def test_the_reminders_owe_what_completeness_counts(demo, monkeypatch):
    """Who owes a month is said twice, on purpose: in SQL for the marts, in Python for the
    reminders (which run before the month is built). On the demo they agree, every
    province and every month of 2025."""
    from chiso.reminders import owed_reports
    from ingest.registry import from_warehouse

    monkeypatch.setenv("CHISO_PROVINCES", "20,08,14")
    conn = duckdb.connect(str(demo.data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        registry = from_warehouse(conn, ("20", "08", "14"))
    finally:
        conn.close()
    published = duckdb.connect(str(demo.published), read_only=True)
    try:
        counted = set(
            published.execute(
                "select c.province_code, c.period, c.unit_code from reporting_completeness c "
                "join dim_unit u using (unit_code) where c.period >= '2025-01'"
            ).fetchall()
        )
    finally:
        published.close()
    owed = {
        (unit.province_code, period, unit.code)
        for province in ("20", "08", "14")
        for period in [f"2025-{month:02d}" for month in range(1, 10)]
        for unit in owed_reports(registry, province, period)
    }
    assert counted and owed == counted


def test_a_mistyped_figure_is_an_outlier_and_a_gate_warning(demo):
    """The sample's Sở Xây dựng of Lạng Sơn typed September 2025's first figure a tenth
    of what it is: an outlier on both tests, a warning of the gate, a follow-up line."""
    conn = duckdb.connect(str(demo.published), read_only=True)
    try:
        flagged = conn.execute(
            "select unit_code, period, is_change_outlier, is_out_of_bounds, follow_up_vi "
            "from figure_outliers where is_outlier"
        ).fetchall()
        judged = conn.execute("select count(*) from figure_outliers").fetchone()[0]
    finally:
        conn.close()
    assert [row[:4] for row in flagged] == [("20.SXD", "2025-09", True, True)]
    follow_up = flagged[0][4]
    assert follow_up.startswith("Kỳ 09/2025: ") and "Đề nghị đơn vị kiểm tra lại" in follow_up
    assert judged > 100  # every series with history was judged; one stood out
    gate = json.loads((demo.data / "gate" / "latest.json").read_text(encoding="utf-8"))
    (warning,) = [c for c in gate["checks"] if c["check"].startswith("figure_outliers_none")]
    assert warning["tier"] == "warning" and not warning["passed"]
