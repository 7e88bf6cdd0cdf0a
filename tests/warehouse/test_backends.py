"""One pipeline, two warehouses: every guarantee of write-audit-publish, checked on DuckDB
and on PostgreSQL alike (real dbt, real Great Expectations, a real PostgreSQL server), and
the marts the two publish compared row by row."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
from dataclasses import dataclass

import pytest

from chiso.samples.portal_replay import ingest_sample_sources
from chiso.samples.report_files import generate
from tests.helpers.data import published_marts
from tests.helpers.postgres_server import fresh_database
from tests.helpers.project import VENV_BIN
from tests.helpers.runs import chiso_environment
from warehouse.backends import open_warehouse
from warehouse.backends.base import RENAMED_MARTS
from warehouse.settings import Settings, load_settings

pytestmark = pytest.mark.slow
QUIET = lambda _: None  # noqa: E731
MONTH = "2025-06"
MARTS: dict[str, dict] = {}  # each backend's first publication, for the comparison
POSTGRES_ONLY = pytest.mark.parametrize("published", ["postgres"], indirect=True)


@dataclass
class Published:
    backend: str
    env: dict[str, str]
    settings: Settings
    first: str  # run ids
    second: str
    first_marts: dict
    second_marts: dict


def chiso(env: dict[str, str], *arguments: str, **extra: str) -> subprocess.CompletedProcess:
    """The command as a user runs it (dbt keeps DuckDB open in the process it ran in)."""
    return subprocess.run(
        [str(VENV_BIN / "chiso"), *arguments], env={**env, **extra}, capture_output=True, text=True
    )


def _run(env: dict[str, str]) -> str:
    out = chiso(env, "run", "--period", MONTH)
    assert out.returncode == 0, (out.stdout[-3000:], out.stderr[-3000:])
    return json.loads((env_data(env) / "gate" / "latest.json").read_text())["run_id"]


def env_data(env: dict[str, str]):
    from pathlib import Path

    return Path(env["CHISO_DATA_DIR"])


def _settings(env: dict[str, str], monkeypatch) -> Settings:
    for name in [n for n in __import__("os").environ if n.startswith("CHISO_")]:
        monkeypatch.delenv(name)
    for name, value in env.items():
        if name.startswith("CHISO_"):
            monkeypatch.setenv(name, value)
    return load_settings()


@pytest.fixture(scope="session", params=["duckdb", "postgres"])
def published(request, tmp_path_factory):
    """The sample (report files, portal answers, exports) published twice for June 2025."""
    backend = request.param
    data = tmp_path_factory.mktemp(f"backend_{backend}") / "data"
    extra = {"CHISO_WAREHOUSE": backend, "CHISO_DATA_DOCS": "0"}
    if backend == "postgres":
        extra |= fresh_database(request.getfixturevalue("pg_server"), "backends")
    env = chiso_environment(data, **extra)
    with pytest.MonkeyPatch.context() as monkeypatch:
        settings = _settings(env, monkeypatch)
        settings.ensure_dirs()
        generate(settings.inbox_dir, end=MONTH)
        ingest_sample_sources(settings, "2022-01", MONTH, log=QUIET)
        first = _run(env)
        first_marts = published_marts(settings)
        second = _run(env)
        second_marts = published_marts(settings)
    MARTS[backend] = first_marts
    return Published(backend, env, settings, first, second, first_marts, second_marts)


@pytest.fixture
def on(published, monkeypatch) -> Published:
    """The published fixture, with this process's settings pointing at it."""
    _settings(published.env, monkeypatch)
    return published


def test_a_run_publishes_and_a_rerun_of_the_month_gives_identical_marts(on):
    assert on.first != on.second
    assert on.second_marts == on.first_marts
    assert len(on.first_marts) == 22 and all(
        on.first_marts[table] for table in ("target_progress", "indicator_observations")
    )
    records = open_warehouse(on.settings).publications()
    assert [r["run_id"] for r in records] == [on.first, on.second]
    assert records[-1]["path"] == open_warehouse(on.settings).published_location
    assert records[-1]["gate"]["blocking_failures"] == 0
    assert "indicator_observations" in records[-1]["suites"]
    with open_warehouse(on.settings).published() as reader:
        assert reader.publication()["run_id"] == on.second
        assert set(RENAMED_MARTS) & set(reader.tables) == set()  # views, never snapshotted
        for old, new in RENAMED_MARTS.items():  # a renamed mart's old name reads the same rows
            query = "select * from {} except all select * from {}"
            assert reader.execute(query.format(old, new)).fetchall() == []
            assert reader.execute(query.format(new, old)).fetchall() == []
            assert reader.execute(f"select count(*) from {old}").fetchone()[0] > 0


@POSTGRES_ONLY
def test_postgresql_publishes_the_same_marts_as_duckdb_row_by_row(on):
    duckdb_marts = MARTS.get("duckdb")
    if duckdb_marts is None:  # only when the DuckDB half was deselected (-k)
        pytest.skip("the DuckDB run did not run in this session")
    assert set(on.first_marts) == set(duckdb_marts)
    for table, rows in duckdb_marts.items():
        assert on.first_marts[table] == rows, table


@POSTGRES_ONLY
def test_on_postgresql_every_table_a_run_loads_or_builds_has_planner_statistics(on):
    """The run analyzes ``raw`` before dbt and dbt analyzes each table it builds, so no
    model or test is planned against a table the planner believes empty (autovacuum's
    ANALYZE comes later: it had turned the demo's build into nested loops, 90 s for 20)."""
    conn = open_warehouse(on.settings).raw()
    try:
        rows = conn.execute(
            "select schemaname, relname, last_analyze is not null from pg_stat_user_tables "
            "where schemaname in ('raw', 'staging', 'published') and n_live_tup > 0"
        ).fetchall()
    finally:
        conn.close()
    schemas = {schema for schema, _, _ in rows}
    assert {"raw", "staging", "published"} <= schemas
    unanalyzed = [f"{schema}.{table}" for schema, table, analyzed in rows if not analyzed]
    assert not unanalyzed, unanalyzed


def test_a_rerun_of_the_month_rechecks_no_month_row_by_row(on):
    """The second run built the same marts as the first: its gate compared every month with
    the publication by row counts and hashes, and read no row into a check."""
    gate = json.loads((env_data(on.env) / "gate" / f"{on.second}.json").read_text())
    (ratio,) = [c for c in gate["checks"] if c["check"] == "ratio_numerator_le_denominator"]
    assert re.fullmatch(
        r"passed \(rows of the 0 of \d+ period values changed since the last publication, "
        r"which passed these checks\)",
        ratio["detail"],
    )


@POSTGRES_ONLY  # DuckDB: tests/expectations/test_gate.py
def test_on_postgresql_the_gate_reads_the_months_a_candidate_changed(on):
    """Through Great Expectations' SQL path: a figure broken in March 2025 of a candidate is
    blocked, its month the only one the row checks read."""
    from contextlib import closing

    from expectations.sql import run_suites_sql
    from expectations.suites import load_suites, suite_parameters
    from warehouse.settings import environment_for

    backend = open_warehouse(on.settings)
    suites = [s for s in load_suites() if s["name"] == "indicator_observations"]
    parameters = suite_parameters("2022-01", ["indicator_observations"], MONTH, None)
    with closing(backend.raw()) as conn, environment_for(backend.gx_environment()):
        conn.execute("drop schema if exists gate_test cascade")
        conn.execute("create schema gate_test")
        for table in ("indicator_observations", "dim_indicator"):
            conn.execute(f"create table gate_test.{table} as select * from published.{table}")

        def ratio() -> str:
            checks = run_suites_sql(
                backend.gx_connection_string(),
                suites,
                parameters,
                "gate_test",
                "published",
                lambda sql: conn.execute(sql).fetchall(),
                backend.row_hash,
            )
            (check,) = [c for c in checks if c.check == "ratio_numerator_le_denominator"]
            return f"{check.passed} {check.detail}"

        try:
            assert ratio().startswith("True passed (rows of the 0 of ")
            conn.execute(
                "update gate_test.indicator_observations set numerator = denominator + 5 "
                "where ctid = (select ctid from gate_test.indicator_observations "
                "where period = '2025-03' and numerator is not null limit 1)"
            )
            blocked = ratio()
            assert blocked.startswith("False 1 unexpected row(s), e.g. "), blocked
            assert blocked.endswith(
                "period values changed since the last publication, which passed these "
                "checks: 2025-03)"
            )
            assert " (rows of the 1 of " in blocked
        finally:
            conn.execute("drop schema gate_test cascade")


def test_a_failing_gate_names_the_check_and_leaves_what_is_published(on):
    """A portal month missing one province passes every dbt test; the gate's coverage check
    blocks it, on either engine."""
    backend = open_warehouse(on.settings)
    where = "period = '2025-05' and province_code = '20'"
    conn = backend.raw()
    try:
        removed = conn.execute(f"select * from raw.portal_766_scores where {where}").fetchall()
        assert removed
        conn.execute(f"delete from raw.portal_766_scores where {where}")
    finally:
        conn.close()
    try:
        out = chiso(on.env, "run", "--period", MONTH)
    finally:
        conn = backend.raw()
        try:
            marks = ", ".join("?" * len(removed[0]))
            conn.executemany(f"insert into raw.portal_766_scores values ({marks})", removed)
        finally:
            conn.close()
    assert out.returncode == 1, out.stdout[-2000:]
    assert "BLOCKING [great_expectations] every_province_scored_each_period on " in out.stdout
    assert "every_province_scored_each_period on portal_766_scores" in out.stderr
    assert "NOT PUBLISHED" in out.stderr and "is unchanged" in out.stderr
    assert "The rejected candidate is kept at " in out.stderr  # a file, or a schema
    with backend.published() as reader:
        assert reader.publication()["run_id"] == on.second
    assert published_marts(on.settings) == on.second_marts
    assert [r["run_id"] for r in backend.publications()][-1] == on.second


@POSTGRES_ONLY  # DuckDB: tests/chiso/test_crashes.py, then the rerun too
def test_a_run_killed_just_before_the_swap_changes_nothing(on):
    out = chiso(on.env, "run", "--period", MONTH, CHISO_FAULT_KILL_AT="publish_before_replace")
    assert out.returncode == -signal.SIGKILL, out.stderr[-2000:]
    backend = open_warehouse(on.settings)
    with backend.published() as reader:
        assert reader.publication()["run_id"] == on.second
    assert [r["run_id"] for r in backend.publications()][-1] == on.second
    assert published_marts(on.settings) == on.second_marts


def test_rollback_restores_the_previous_publication(on):
    backend = open_warehouse(on.settings)
    assert backend.kept_versions()[-1] == on.first
    out = chiso(on.env, "rollback")
    assert out.returncode == 0, out.stderr
    assert f"is now run {on.first}" in out.stdout and f"rolled back from {on.second}" in out.stdout
    with backend.published() as reader:
        assert reader.publication()["run_id"] == on.first
    assert published_marts(on.settings) == on.first_marts
    assert backend.publications()[-1]["rollback_of"] == on.second
    status = chiso(on.env, "status")
    assert status.returncode == 0 and "(rollback)" in status.stdout
    assert f"published: run {on.first}, month {MONTH}" in status.stdout
    out = chiso(on.env, "rollback", "--to", "nonsense")
    assert out.returncode == 1 and "no kept version 'nonsense'" in out.stderr


@POSTGRES_ONLY
def test_on_postgresql_a_publication_never_waits_for_a_reader(on):
    """A BI session in the middle of a transaction on ``published`` does not hold up the
    schema swap; its next statement after its transaction sees the new publication. (On
    DuckDB readers hold the file they opened, which the swap replaces by rename.)"""
    import psycopg

    pg = on.settings.postgres
    reader = psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname)
    try:
        reader.execute("select count(*) from published.target_progress").fetchone()
        published = []
        worker = threading.Thread(target=lambda: published.append(_run(on.env)))
        worker.start()
        worker.join(timeout=300)
        assert published, "the publication waited for the reader's transaction"
        reader.rollback()
        seen = reader.execute("select run_id from published._publication").fetchone()[0]
        assert seen == published[0] == open_warehouse(on.settings).last_publication()["run_id"]
    finally:
        reader.close()


READ = (
    "select p.run_id, p.as_of_period, t.n, t.lo, t.hi from {schema}_publication as p, "
    "(select count(*) as n, min(as_of_period) as lo, max(as_of_period) as hi "
    "from {schema}target_progress) as t"
)
LONG = 4.0  # seconds a long read takes: it must start before the swap and end after it


# a reader of the published DuckDB file in a process of its own (DuckDB shares one open
# database per file within a process): it reads, waits LONG seconds on the same
# connection, reads again; prints when it had read first, its last answer, and when it ended
LONG_DUCKDB_READER = """
import json, sys, time
import duckdb
path, query, wait = sys.argv[1], sys.argv[2], float(sys.argv[3])
conn = duckdb.connect(path, read_only=True)
conn.execute(query).fetchone()
started = time.time()
time.sleep(wait)
answer = conn.execute(query).fetchone()
conn.close()
print(json.dumps([started, list(answer), time.time()]))
"""


def _readers(backend: str, settings: Settings):
    """A read as a BI tool makes one, on a connection of its own: duckdb-engine on the
    published file, read-only (Superset's NullPool), or the PostgreSQL driver; and a read
    lasting LONG seconds. Each returns (started, answer, ended), wall-clock times."""
    import sys
    import time

    if backend == "duckdb":
        from sqlalchemy import create_engine, text
        from sqlalchemy.pool import NullPool

        query = READ.format(schema="")
        url = f"duckdb:///{settings.published_path}?access_mode=read_only"
        engine = create_engine(url, poolclass=NullPool)

        def read():
            started = time.time()
            with engine.connect() as conn:
                answer = tuple(conn.execute(text(query)).fetchone())
            return started, answer, time.time()

        def long_read():
            argv = [sys.executable, "-c", LONG_DUCKDB_READER, str(settings.published_path)]
            out = subprocess.run(
                [*argv, query, str(LONG)], capture_output=True, text=True, check=True
            )
            started, answer, ended = json.loads(out.stdout)
            return started, tuple(answer), ended

        return read, long_read
    import psycopg

    pg = settings.postgres
    query = READ.format(schema="published.")
    sleep = f"(select pg_sleep({LONG}) as slept) as s"

    def on_postgres(sql: str):
        with psycopg.connect(host=pg.host, port=pg.port, user=pg.user, dbname=pg.dbname) as conn:
            started = time.time()
            answer = tuple(conn.execute(sql).fetchone())
        return started, answer, time.time()

    return (
        lambda: on_postgres(query),
        lambda: on_postgres(f"select r.*, s.slept from ({query}) as r, {sleep}"),
    )


def test_readers_see_only_whole_publications_while_a_month_is_published(on):
    """BI readers querying in a loop while ``chiso run`` publishes another month: every
    answer is one whole publication, the one before or the one after (its month in every
    row, its row count), never an error; a read under way when the swap happens ends on the
    publication it started on (a PostgreSQL statement that sleeps; a DuckDB connection
    opened before, read again after: it holds the file it opened), with three long readers
    staggered so one spans the swap."""
    import time

    read, long_read = _readers(on.backend, on.settings)
    before = read()[1][0]
    running, seen, long_reads, errors = threading.Event(), [], [], []

    def loop(how, into: list, delay: float = 0.0):
        time.sleep(delay)
        while running.is_set():
            try:
                into.append(how())
            except Exception as error:  # noqa: BLE001 (any error is the finding)
                errors.append(repr(error))

    running.set()
    readers = [threading.Thread(target=loop, args=(read, seen))] + [
        threading.Thread(target=loop, args=(long_read, long_reads, n * LONG / 3)) for n in range(3)
    ]
    for reader in readers:
        reader.start()
    try:
        out = chiso(on.env, "run", "--period", "2025-05")
        time.sleep(LONG + 1)  # the long reads in progress at the swap finish
    finally:
        running.clear()
        for reader in readers:
            reader.join(timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert not errors, errors[:3]
    after = read()[1][0]
    counts = {
        record["run_id"]: record["row_counts"]["target_progress"]
        for record in open_warehouse(on.settings).publications()
    }
    for _, (run_id, as_of, rows, lo, hi, *_), _ in seen + long_reads:
        assert (lo, hi, rows) == (as_of, as_of, counts[run_id]), run_id  # one publication
    assert {answer[0] for _, answer, _ in seen} == {before, after} and before != after
    # started while the old publication was still read, ended once the new one was
    last_old = max(start for start, answer, _ in seen if answer[0] == before)
    first_new = min(end for _, answer, end in seen if answer[0] == after)
    spanning = [answer for start, answer, end in long_reads if start < last_old and end > first_new]
    assert spanning and all(answer[0] == before for answer in spanning)
