"""National-scale benchmark of the build: ``python -m benchmarks national --scale 1 --months 60``.

A synthetic country derived from the real unit geography: the 34 post-2025 provinces, each
province as a unit, 20 departments per province, every one of the 3,321 communes, a school
for every second commune and a health facility for every third; the targets Lạng Sơn set
for its province, departments, communes, schools and health facilities, set by every
province; a figure for every ratio indicator a unit's group reports, every month. ``scale``
multiplies the departments, schools and health facilities (0.1: every tenth; 4: four of
each); communes are sampled below 1x but never copied above it (a copy would be a commune
without an administrative unit, which the registry refuses). Figures go straight into the
raw tables (the file-ingest path has its own benchmark, ``python -m benchmarks ingest``),
deterministically (hashes, no random state).

Measured, each in a fresh process whose whole tree's peak memory is sampled while it runs
(benchmarks/memory.py: a stage past CHISO_MEMORY_BUDGET is stopped and reported, a missed
goal): the dbt build (seeds, 29
models, every dbt test), the gate's Great Expectations suites on the candidate, and the
floor: the core transformations as one hand-written DuckDB SQL script over the same raw
tables (latest submission per unit, indicator and month; ratio values from numerator and
denominator; each target's series, baseline, latest, six-month trend, pace and status).
Then the real pipeline (``chiso run``), each run in its own process: the first publication
of the 60 months (``--full-refresh``: every month built, as on a new warehouse); the next
month's report files (one per unit, half xlsx, half csv) through the inbox, the monthly run
(the incremental models build the changed months); the same month rebuilt in full from raw
(``--full-refresh``, gated against the audited publication); the monthly close: snapshot,
then report.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.memory import MiB, available_memory, run_sampled
from warehouse.periods import next_month
from warehouse.settings import PROJECT_ROOT, load_settings

GROUPS = ("province", "department", "commune", "school", "health_facility")
# the synthetic country's units: the registry has the real provinces and communes, the
# departments through the seed, and imports the others as lists
UNITS_FILE = "bench_units.csv"
UNIT_COLUMNS = [
    "unit_code", "unit_name_vi", "unit_group", "parent_unit_code", "province_code", "scheme",
    "admin_unit_id", "valid_from_on", "valid_to_on", "note",
]  # fmt: skip
DEPARTMENTS_PER_PROVINCE = 20
TEMPLATE_PROVINCE = "20"  # Lạng Sơn's targets, set by every province
# ``--scale national``: the country's reporting units once schools and health facilities
# report as the seeds ask. 34 provinces and 3,321 communes are the post-July-2025 units of
# the administrative library (vietnamadminunits, Resolution 202/2025/QH15 and the communes'
# resolutions); about 14 departments per province after the March 2025 reorganisation of
# provincial departments; some 44,000 schools and 11,000 health facilities (the issue
# "National scale for real": schools from preschool to upper secondary, commune health
# stations and hospitals), spread over the communes in turn.
NATIONAL = {"departments_per_province": 14, "school": 44_000, "health_facility": 11_000}
REJECTED_EVERY = 33  # about 3 % of a month's files come with an error ...
CORRECTED_EVERY = 50  # ... and 2 % are sent again, corrected, a week later
# the disk a benchmark takes, per figure: the national run of 2026-12-02 (22.8 M figures over
# 60 months, 58,831 units: 6.5 figures a unit and month, fewer at smaller scales, whose
# groups report fewer indicators) wrote about 15 GB beside its generated raw tables
FIGURES_PER_UNIT_MONTH = 6.5
GENERATED_BYTES_PER_FIGURE = 150
RUN_BYTES_PER_FIGURE = 700
HELD_SHOWN = 6  # the processes a stage's peak is broken down into (largest first)


def parse_scale(text: str) -> float | str:
    """``--scale``: a number (0.1, 1, 4: multiples of the 1x country) or ``national``."""
    if text == "national":
        return text
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"--scale {text!r}: give a number (0.1, 1, 4) or 'national'") from None
    if value <= 0:
        raise ValueError(f"--scale {text!r}: give a number above 0")
    return value


def _spread(items: list, total: int) -> list[tuple[int, object]]:
    """(copy number, item) for ``total`` units over ``items`` in turn."""
    return [(number // len(items), items[number % len(items)]) for number in range(total)]


def _copies(items: list, scale: float) -> list[tuple[int, object]]:
    """(copy number, item): every n-th item below 1x, k copies of each at k x."""
    if scale < 1:
        step = round(1 / scale)
        return [(0, item) for item in items[::step]]
    return [(copy, item) for item in items for copy in range(round(scale))]


def served_provinces() -> str:
    """CHISO_PROVINCES for the synthetic country: the 34 post-2025 provinces."""
    from ingest.sources.admin_units import library_tables

    return ",".join(sorted({row[0] for row in library_tables()["admin_units_2025"]}))


def _register(conn, workdir: Path) -> None:
    """The synthetic units the registry does not have, as imported lists."""
    from ingest.registry import built_in, ensure_tables, refresh

    provinces = tuple(served_provinces().split(","))
    known = built_in(provinces).units
    with open(workdir / UNITS_FILE, encoding="utf-8", newline="") as handle:
        rows = [  # departments come from the bench's seed, provinces and communes are known
            row
            for row in csv.DictReader(handle)
            if row["unit_code"] not in known and row["unit_group"] != "department"
        ]
    ensure_tables(conn)
    conn.execute("delete from raw.unit_list_members")
    conn.executemany(
        "insert into raw.unit_list_members values (?, ?, ?, ?, ?, ?, ?, ?, 'bench', 'bench')",
        [
            [
                row["unit_code"],
                f"{row['province_code']}.{row['unit_group']}",
                row["unit_name_vi"],
                row["unit_group"],
                row["province_code"],
                None,
                row["valid_from_on"] or None,
                None,
            ]
            for row in rows
        ],
    )
    previous = os.environ.get("CHISO_DBT_PROJECT_DIR")
    os.environ["CHISO_DBT_PROJECT_DIR"] = str(workdir / "dbt_project")  # its departments
    try:
        refresh(conn, provinces)  # raw.unit_registry, as an ingest would leave it
    finally:
        if previous is None:
            del os.environ["CHISO_DBT_PROJECT_DIR"]
        else:
            os.environ["CHISO_DBT_PROJECT_DIR"] = previous


def prepare(workdir: Path, scale: float | str) -> dict[str, int]:
    """A copy of the dbt project whose targets are national at ``scale``, and the
    synthetic country's units (``bench_units.csv``)."""
    from ingest.sources.admin_units import library_tables

    project = workdir / "dbt_project"
    shutil.copytree(
        PROJECT_ROOT / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs")
    )
    seeds = project / "seeds"
    rows = library_tables()["admin_units_2025"]
    provinces = sorted({(row[0], row[1]) for row in rows})
    communes = sorted((row[0], row[2], row[3]) for row in rows)
    units: list[list[str]] = []
    for code, name in provinces:
        units.append([code, f"UBND {name}", "province", "", code, "", "", "2008-01-01", "", ""])
        departments = (
            [(0, number) for number in range(NATIONAL["departments_per_province"])]
            if scale == "national"
            else _copies(list(range(DEPARTMENTS_PER_PROVINCE)), scale)
        )
        for copy, number in departments:
            unit = f"{code}.D{number:02d}{'' if not copy else f'x{copy}'}"
            units.append([unit, f"Sở {number} {name}", "department", code, code])
            units[-1] += ["", "", "2008-01-01", "", ""]
    # communes are sampled below 1x but never copied above it: the country has 3,321, and a
    # copy would be a commune without its administrative unit (the registry's test fails)
    commune_scale = 1 if scale == "national" else min(scale, 1)
    for copy, (province, commune, name) in _copies(communes, commune_scale):
        suffix = "" if not copy else f"x{copy}"
        units.append(
            [f"{province}.{commune}{suffix}", name, "commune", province, province, "post_2025"]
            + [f"post_2025-commune-{commune}", "2025-07-01", "", ""]
        )
    for group, every in (("school", 2), ("health_facility", 3)):
        spread = (
            _spread(communes, NATIONAL[group])
            if scale == "national"
            else _copies(communes[::every], scale)
        )
        for copy, (province, commune, name) in spread:
            code = f"{province}.{group[0].upper()}{commune}{'' if not copy else f'x{copy}'}"
            units.append([code, f"{group} {name}", group, province, province])
            units[-1] += ["", "", "2008-01-01", "", ""]
    _rewrite(workdir / UNITS_FILE, units, UNIT_COLUMNS)
    _rewrite(  # the departments the registry builds, in place of the seed provinces' own
        seeds / "departments.csv",
        [
            [unit[4], unit[0].split(".", 1)[1], unit[1], "2008-01-01", "", "", ""]
            for unit in units
            if unit[2] == "department"
        ],
    )
    with open(seeds / "targets.csv", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        template = [row for row in reader if row[3] == TEMPLATE_PROVINCE and row[4] in GROUPS]
    targets = [
        [f"{row[0]}__{code}", f"{row[1]}__{code}", row[2], code, *row[4:]]
        for code, _ in provinces
        for row in template
    ]
    responsible = header.index("responsible_unit")
    for target in targets:  # each province's first synthetic department reports them
        target[responsible] = "D00" if target[responsible] else ""
    _rewrite(seeds / "targets.csv", targets, header)
    with open(seeds / "documents.csv", encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader)
        documents = [row for row in reader if row[5] == TEMPLATE_PROVINCE]
    copies = [  # each province's copy of the plans, so targets and documents agree
        [f"{row[0]}__{code}", *row[1:5], code, *row[6:]]
        for code, _ in provinces
        for row in documents
    ]
    _rewrite(seeds / "documents.csv", copies, header)
    counts = {group: sum(unit[2] == group for unit in units) for group in GROUPS}
    return counts | {"targets": len(targets)}


def _rewrite(path: Path, rows: list[list[str]], header: list[str] | None = None) -> None:
    if header is None:
        with open(path, encoding="utf-8", newline="") as handle:
            header = next(csv.reader(handle))
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def generate_raw(workdir: Path, months: int, end: str = "2025-09") -> int:
    """Every unit's figures for ``months`` months up to ``end``, straight into raw."""
    from ingest.sources import admin_units, dti, portal_766, provision, snapshots
    from warehouse.backends.duckdb import connect
    from warehouse.calendar import load_deadlines
    from warehouse.raw import ensure_raw_schema

    seeds = workdir / "dbt_project" / "seeds"
    warehouse = workdir / "data" / "warehouse" / "chiso.duckdb"
    conn = connect(warehouse)
    try:
        ensure_raw_schema(conn)
        admin_units.load(conn)
        _register(conn, workdir)
        for ddl in (portal_766.DDL, dti.DDL, provision.DDL, snapshots.DDL):
            conn.execute(ddl)
        conn.execute(
            f"""
            create temp table units as
            select unit_code, unit_group, province_code,
                   cast(coalesce(nullif(valid_from_on, ''), '1900-01-01') as date) as valid_from
            from read_csv('{workdir / UNITS_FILE}', all_varchar = true);
            create temp table reported as
            select distinct t.province_code, t.unit_group, t.indicator_code
            from read_csv('{seeds / "targets.csv"}', all_varchar = true) as t
            join read_csv('{seeds / "indicators.csv"}', all_varchar = true) as i
                using (indicator_code)
            where i.measured_by in ('unit_report', 'both') and i.kind = 'ratio';
            create temp table months as
            select strftime(date '{end}-01' - to_months(range), '%Y-%m') as period,
                   {months} - 1 - range as month_index
            from range({months});
            create temp table figures as
            select
                md5(u.unit_code || '|' || m.period) as file_sha256,
                row_number() over (
                    partition by u.unit_code, m.period order by r.indicator_code
                ) + 8 as source_row,
                u.unit_code, m.period, r.indicator_code, m.month_index,
                100 + hash(u.unit_code || r.indicator_code) % 800 as denominator,
                35 + hash(r.indicator_code || u.unit_code) % 35 as start_rate,
                (hash(u.unit_code || '~' || r.indicator_code) % 100) / 100.0 as slope,
                (hash(u.unit_code || r.indicator_code || m.period) % 50) / 10.0 - 2.5 as noise
            from units as u
            join reported as r
                on u.province_code = r.province_code and u.unit_group = r.unit_group
            cross join months as m
            where cast(m.period || '-01' as date) >= u.valid_from;
            """
        )
        now = "now()"
        conn.execute(
            f"""
            insert into raw.unit_report_values (file_sha256, source_row, source_file_name,
                unit_code, period, sent_on, indicator_code, numerator, denominator,
                reported_value, note, load_id, received_at, sheet)
            select file_sha256, source_row, 'bench_' || unit_code || '_' || period || '.csv',
                unit_code, period, cast(period || '-05' as date) + interval 1 month,
                indicator_code,
                floor(denominator * least(99.5, greatest(1,
                    start_rate + slope * month_index + noise)) / 100),
                denominator, null, null, 'bench-' || left(file_sha256, 16), {now}, null
            from figures;
            insert into raw.unit_report_files (file_sha256, source_file_name, landed_path,
                file_format, unit_code, period, reporter, sent_on, row_count, load_id,
                loaded_at, received_at, sheet)
            select file_sha256, any_value('bench_' || unit_code || '_' || period || '.csv'),
                'bench', 'csv', any_value(unit_code), any_value(period), null,
                cast(any_value(period) || '-05' as date) + interval 1 month, count(*),
                'bench-' || left(file_sha256, 16), {now}, {now}, null
            from figures group by file_sha256;
            """
        )
        _portal_answers(conn, seeds)
        provinces = conn.execute("select distinct province_code from units").fetchall()
        load_deadlines(conn, tuple(sorted(row[0] for row in provinces)))
        return conn.execute("select count(*) from raw.unit_report_values").fetchone()[0]
    finally:
        conn.close()


def _portal_answers(conn, seeds: Path) -> None:
    """What the daily portal DAG would have loaded for the same months: index 766 scores of
    the 34 provinces and of each province's departments (one answer per request), and the
    national monthly figures."""
    conn.execute(
        f"""
        create temp table portal_units as
        select portal_code as code, province_code, province_name_vi as name,
               'province' as unit_kind, portal_code as request
        from read_csv('{seeds / "portal_provinces.csv"}', all_varchar = true)
        where province_code is not null
        union all
        select p.portal_code || '.' || lpad(cast(d.range + 1 as varchar), 2, '0'),
               p.province_code, 'Sở ' || (d.range + 1) || ' ' || p.province_name_vi,
               'department', p.portal_code || '.departments'
        from read_csv('{seeds / "portal_provinces.csv"}', all_varchar = true) as p
        cross join range({DEPARTMENTS_PER_PROVINCE}) as d
        where p.province_code is not null;
        insert into raw.portal_766_scores (file_sha256, period_kind, period, department_code,
            department_name, province_code, total_score, score_delta, ckmb, tdgq, clgq, tttt,
            mdhl, mdsh, load_id, loaded_at, api, unit_kind, agency_id, national_rank,
            request_key, fetched_at)
        select md5(u.request || '|' || m.period), 'month', m.period, u.code, u.name,
               u.province_code, 60 + hash(u.code || m.period) % 35, 0,
               10 + hash(u.code || 'a' || m.period) % 8, 12 + hash(u.code || 'b') % 8,
               8 + hash(u.code || 'c' || m.period) % 4, 6 + hash(u.code || 'd') % 4,
               12 + hash(u.code || 'e' || m.period) % 6, 12 + hash(u.code || 'f') % 6,
               'bench-portal-' || m.period, now(), 'old', u.unit_kind, null, null,
               u.request || '|' || m.period, now()
        from portal_units as u cross join months as m;
        insert into raw.portal_766_national (file_sha256, request_key, period_kind, period,
            measure, category, month, value, percent, load_id, loaded_at, fetched_at)
        select md5('national|' || m.period), 'national|' || m.period, 'month', m.period,
               measure, category, m.period, 1000 + hash(measure || category || m.period) % 9000,
               hash(category || m.period) % 100, 'bench-portal-' || m.period, now(), now()
        from months as m
        cross join (values ('onlineDossier', 'online'), ('onlineDossier', 'offline'),
                           ('onlineProvision', 'full'), ('onlineProvision', 'partial'))
            as c(measure, category);
        """
    )


FLOOR_SQL = """
create or replace temp table latest as
select * from ({submissions}) as submissions where submission_rank = 1;
create or replace temp table observations as
select l.unit_code, l.indicator_code, l.period,
       cast(l.period || '-01' as date) + interval 1 month - interval 1 day as measured_on,
       100.0 * l.numerator / nullif(l.denominator, 0) as value,
       extract(year from cast(l.period || '-01' as date)) * 12
       + extract(month from cast(l.period || '-01' as date)) as month_index
from latest l join indicators i using (indicator_code) where i.kind = 'ratio';
create or replace temp table series as
select t.target_id, u.unit_code, o.value, o.measured_on, o.month_index, t.comparator,
       t.target_value, t.deadline_on,
       row_number() over (partition by t.target_id, u.unit_code order by o.measured_on) as n,
       row_number() over (partition by t.target_id, u.unit_code
                          order by o.measured_on desc) as back
from targets t
join units u on u.unit_group = t.unit_group and u.province_code = t.province_code
join observations o on o.unit_code = u.unit_code and o.indicator_code = t.indicator_code
where o.measured_on <= least(t.deadline_on, date '{as_of_end}');
create or replace temp table progress as
select target_id, unit_code, count(*) as points,
       max(case when n = 1 then value end) as baseline,
       max(case when back = 1 then value end) as latest,
       max(case when n = 1 then measured_on end) as t0,
       max(case when back = 1 then measured_on end) as t1,
       any_value(target_value) as goal, any_value(deadline_on) as deadline,
       case when count(case when back <= 6 then value end) >= 2 then
           regr_slope(case when back <= 6 then value end, case when back <= 6 then month_index end)
       end as trend
from series group by target_id, unit_code;
create or replace temp table status as
select *, (latest - baseline) / nullif(goal - baseline, 0)
          / nullif(datediff('day', t0, t1) / nullif(datediff('day', t0, deadline), 0), 0) as pace,
       case when latest >= goal then 'achieved'
            when points < 2 then 'insufficient_data'
            when (latest - baseline) / nullif(goal - baseline, 0)
                 / nullif(datediff('day', t0, t1) / nullif(datediff('day', t0, deadline), 0), 0)
                 >= 0.95 then 'on_track'
            else 'behind' end as status
from progress;
"""


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _build(period: str) -> dict:
    from warehouse.backends import open_warehouse
    from warehouse.settings import load_settings

    settings = load_settings()
    started = time.monotonic()
    result = open_warehouse(settings).build(period)
    failed = [t.name for t in result.tests if t.status in ("fail", "error")]
    return {
        "seconds": time.monotonic() - started,
        "peak_mib": _peak_mib(),
        "models": result.models_built,
        "failed_tests": failed,
        **_node_profile(settings.dbt_target_dir / "run_results.json"),
    }


def _node_profile(run_results: Path, slowest: int = 12) -> dict:
    """dbt's own account of a build: node time per kind (seeds, models, tests), dbt's
    elapsed time (the rest of the build is its start-up and parse) and the slowest nodes."""
    results = json.loads(run_results.read_text(encoding="utf-8"))
    by_kind: dict[str, float] = {}
    for node in results["results"]:
        kind = node["unique_id"].split(".")[0]
        by_kind[kind] = by_kind.get(kind, 0.0) + node["execution_time"]
    ranked = sorted(results["results"], key=lambda node: -node["execution_time"])
    return {
        "dbt_elapsed_seconds": results["elapsed_time"],
        "node_seconds": {kind: round(seconds, 2) for kind, seconds in by_kind.items()},
        "slowest_nodes": [
            [node["unique_id"].split(".", 2)[-1], round(node["execution_time"], 2)]
            for node in ranked[:slowest]
        ],
    }


def _gate(period: str) -> dict:
    """The gate as a run pays it: Great Expectations is imported before (the pipeline's
    SuiteRunner imports it on the other core while dbt builds); the candidate copy is
    timed on its own (the pipeline counts it in the build stage)."""
    import great_expectations  # noqa: F401

    from chiso.pipeline import write_candidate
    from expectations.frames import run_suites
    from expectations.suites import load_suites, suite_parameters
    from warehouse.backends import open_warehouse
    from warehouse.budget import gate_budget
    from warehouse.settings import load_settings

    settings = load_settings()
    backend = open_warehouse(settings)
    started = time.monotonic()
    candidate = write_candidate(backend, "bench", period)
    copied = time.monotonic() - started
    first, tables = backend.candidate_facts(candidate)
    checks = run_suites(
        Path(candidate.location),
        load_suites(),
        suite_parameters(first, tables, period, None),
        budget=gate_budget(settings),  # a first publication's: every month, in batches
    )
    return {
        "seconds": time.monotonic() - started - copied,
        "candidate_seconds": copied,
        "peak_mib": _peak_mib(),
        "blocking_failures": [c.check for c in checks if not c.passed and c.tier == "blocking"],
        "rows": sum(candidate.row_counts.values()),
    }


def _floor(period: str) -> dict:
    import calendar

    import duckdb

    from warehouse.budget import run_budget
    from warehouse.raw import submissions_query
    from warehouse.settings import load_settings

    settings = load_settings()
    seeds = settings.dbt_project_dir / "seeds"
    year, month = map(int, period.split("-"))
    as_of_end = f"{period}-{calendar.monthrange(year, month)[1]:02d}"
    started = time.monotonic()
    # within DuckDB's share of the budget, as dbt's build is: a floor with more memory
    # would not be the same work
    limits = run_budget(settings).duckdb_settings()
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True, config=limits)
    conn.execute(
        f"""
        create temp table indicators as
            select * from read_csv('{seeds / "indicators.csv"}', all_varchar = true);
        create temp table units as
            select * from read_csv('{settings.data_dir.parent / UNITS_FILE}', all_varchar = true);
        create temp table targets as
            select target_id, indicator_code, province_code, unit_group, comparator,
                   cast(target_value as double) as target_value,
                   cast(deadline_on as date) as deadline_on
            from read_csv('{seeds / "targets.csv"}', all_varchar = true);
        """
    )
    submissions = submissions_query(settings.dbt_project_dir)
    conn.execute(FLOOR_SQL.format(as_of_end=as_of_end, submissions=submissions))
    rows = conn.execute("select count(*) from status").fetchone()[0]
    conn.close()
    return {"seconds": time.monotonic() - started, "peak_mib": _peak_mib(), "rows": rows}


def _pandas(period: str) -> dict:
    """The floor's transformations as a team would write them in pandas: raw rows read
    from the warehouse into a DataFrame, the same steps with merges and group-bys."""
    import calendar

    import duckdb
    import pandas as pd

    from warehouse.settings import load_settings

    settings = load_settings()
    seeds = settings.dbt_project_dir / "seeds"
    year, month = map(int, period.split("-"))
    as_of_end = pd.Timestamp(f"{period}-{calendar.monthrange(year, month)[1]:02d}")
    started = time.monotonic()
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    raw = conn.sql(
        "select unit_code, indicator_code, period, numerator, denominator, received_at, "
        "sent_on, file_sha256 from raw.unit_report_values"
    ).df()
    conn.close()
    indicators = pd.read_csv(seeds / "indicators.csv", dtype=str)
    units = pd.read_csv(settings.data_dir.parent / UNITS_FILE, dtype=str)
    targets = pd.read_csv(seeds / "targets.csv", dtype=str, parse_dates=["deadline_on"])
    targets["target_value"] = targets["target_value"].astype(float)
    latest = raw.sort_values(
        ["received_at", "sent_on", "file_sha256"], ascending=False, na_position="last"
    ).drop_duplicates(["unit_code", "indicator_code", "period"])
    ratios = indicators.loc[indicators["kind"] == "ratio", ["indicator_code"]]
    observed = latest.merge(ratios, on="indicator_code")
    observed["value"] = (
        100 * observed["numerator"] / observed["denominator"].where(observed["denominator"] != 0)
    )
    observed["measured_on"] = pd.to_datetime(observed["period"] + "-01") + pd.offsets.MonthEnd(0)
    series = (
        targets[
            [
                "target_id",
                "indicator_code",
                "province_code",
                "unit_group",
                "target_value",
                "deadline_on",
            ]
        ]
        .merge(
            units[["unit_code", "unit_group", "province_code"]], on=["unit_group", "province_code"]
        )
        .merge(
            observed[["unit_code", "indicator_code", "value", "measured_on"]],
            on=["unit_code", "indicator_code"],
        )
    )
    series = series[series["measured_on"] <= series["deadline_on"].clip(upper=as_of_end)]
    series = series.sort_values("measured_on")
    grouped = series.groupby(["target_id", "unit_code"])
    progress = grouped.agg(
        points=("value", "size"),
        baseline=("value", "first"),
        latest=("value", "last"),
        t0=("measured_on", "first"),
        t1=("measured_on", "last"),
        goal=("target_value", "first"),
        deadline=("deadline_on", "first"),
    )
    elapsed = (progress["t1"] - progress["t0"]).dt.days / (
        (progress["deadline"] - progress["t0"]).dt.days
    ).where(lambda days: days != 0)
    gap = (progress["goal"] - progress["baseline"]).where(lambda g: g != 0)
    progress["pace"] = (
        (progress["latest"] - progress["baseline"]) / gap / elapsed.where(elapsed != 0)
    )
    recent = series[grouped.cumcount(ascending=False) < 6].copy()  # six-month trend
    recent["x"] = recent["measured_on"].dt.year * 12 + recent["measured_on"].dt.month
    recent["xy"], recent["xx"] = recent["x"] * recent["value"], recent["x"] ** 2
    sums = recent.groupby(["target_id", "unit_code"]).agg(
        n=("x", "size"), sx=("x", "sum"), sy=("value", "sum"), sxy=("xy", "sum"), sxx=("xx", "sum")
    )
    spread = (sums["n"] * sums["sxx"] - sums["sx"] ** 2).where(lambda v: v != 0)
    progress["trend"] = (sums["n"] * sums["sxy"] - sums["sx"] * sums["sy"]) / spread
    progress["status"] = "behind"
    progress.loc[progress["pace"] >= 0.95, "status"] = "on_track"
    progress.loc[progress["points"] < 2, "status"] = "insufficient_data"
    progress.loc[progress["latest"] >= progress["goal"], "status"] = "achieved"
    return {"seconds": time.monotonic() - started, "peak_mib": _peak_mib(), "rows": len(progress)}


def _inbox(period: str) -> dict:
    """The month's report files in the inbox, as units send them: one per unit, half xlsx,
    half csv, every indicator its group reports, each ratio's series continued (the month
    before's denominator, its numerator up by 0–2); about 3 % with an error (a numerator
    above its denominator: quarantined) and 2 % sent again a week later with one figure
    corrected."""
    import zlib
    from datetime import timedelta

    from ingest.template import report_rows, report_workbook, save_workbook, write_csv
    from warehouse import reference
    from warehouse.backends.duckdb import connect
    from warehouse.periods import previous_month
    from warehouse.settings import load_settings

    settings = load_settings()
    conn = connect(settings.warehouse_path, read_only=True)
    try:
        before = {
            (unit, code): (numerator, denominator)
            for unit, code, numerator, denominator in conn.execute(
                "select unit_code, indicator_code, numerator, denominator "
                "from raw.unit_report_values "
                "where period = ? and denominator > 0 and numerator is not null",
                [previous_month(period)],
            ).fetchall()
        }
    finally:
        conn.close()
    settings.inbox_dir.mkdir(parents=True, exist_ok=True)
    year, month = map(int, period.split("-"))
    sent = "05/" + "/".join(reversed(next_month(period).split("-")))
    # received on the day sent, 09:00 in Hà Nội: a month of 2025 is locked by now
    due_year, due_month = map(int, next_month(period).split("-"))
    received = datetime(due_year, due_month, 5, 2, tzinfo=UTC)
    started = time.monotonic()
    files = rejected = corrected = continued = 0
    with open(settings.data_dir.parent / UNITS_FILE, encoding="utf-8", newline="") as handle:
        units = sorted(csv.DictReader(handle), key=lambda row: row["unit_code"])
    catalog: dict[tuple[str, str], list] = {}  # (group, province) -> indicators
    for number, unit in enumerate(units):
        key = (unit["unit_group"], unit["province_code"])
        if key not in catalog:
            catalog[key] = reference.indicators_for_group(*key)
        indicators = catalog[key]
        if not indicators:
            continue
        header = {
            "unit_code": unit["unit_code"],
            "unit_name": unit["unit_name_vi"],
            "period": f"{month:02d}/{year}",
            "reporter": "Nguyễn Văn An",
            "sent_on": sent,
        }
        figures = []
        for indicator in indicators:
            seed = zlib.crc32(f"{unit['unit_code']}|{indicator.code}".encode())
            denominator = 100 + seed % 800
            last = before.get((unit["unit_code"], indicator.code))
            if indicator.kind == "ratio" and last is not None:
                numerator, denominator = int(last[0]), int(last[1])
                numerator = min(denominator, numerator + seed % 3)
                figures.append((indicator, max(numerator, 1), denominator))
                continued += 1
            elif indicator.kind == "ratio":
                figures.append((indicator, denominator * (60 + seed % 39) // 100, denominator))
            else:
                figures.append((indicator, None, None, 10 + seed % 90))
        ratio = next((i for i, f in enumerate(figures) if f[0].kind == "ratio"), None)
        versions = [(figures, received, "")]
        if ratio is not None and number % REJECTED_EVERY == 7:  # a mistyped numerator
            indicator, _, denominator = figures[ratio]
            versions = [
                (_with(figures, ratio, (indicator, denominator + 1, denominator)), received, "")
            ]
            rejected += 1
        elif ratio is not None and number % CORRECTED_EVERY == 11:  # resent, one figure fixed
            indicator, numerator, denominator = figures[ratio]
            fixed = _with(figures, ratio, (indicator, numerator - 1, denominator))
            versions.append((fixed, received + timedelta(days=7), "_ban_sua"))
            corrected += 1
        for version, arrived, suffix in versions:
            rows = report_rows(header, version)
            name = f"{unit['unit_code']}_{period}{suffix}"
            if number % 2:
                path = settings.inbox_dir / f"{name}.csv"
                write_csv(rows, path)
            else:
                path = settings.inbox_dir / f"{name}.xlsx"
                save_workbook(report_workbook(rows), path)
            os.utime(path, (arrived.timestamp(), arrived.timestamp()))  # the day it came
            files += 1
    return {
        "files": files,
        "rejected": rejected,
        "corrected": corrected,
        "continued_series": continued,
        "seconds": time.monotonic() - started,
    }


def _with(figures: list, index: int, figure: tuple) -> list:
    return [figure if number == index else item for number, item in enumerate(figures)]


def _read_floor(period: str) -> dict:
    """The floor of ingestion: the month's inbox files opened and every cell read, nothing
    else (python-calamine for workbooks, the csv module for csv), one process per core."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from warehouse.settings import load_settings

    settings = load_settings()
    paths = sorted(str(path) for path in settings.inbox_dir.iterdir())
    workers = settings.ingest_workers
    started = time.monotonic()
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        cells = sum(pool.map(_read_cells, [paths[n::workers] for n in range(workers)]))
    return {
        "files": len(paths),
        "workers": workers,
        "cells": cells,
        "seconds": time.monotonic() - started,
        "peak_mib": _peak_mib(),
    }


def _read_cells(paths: list[str]) -> int:
    import python_calamine

    cells = 0
    for path in paths:
        if path.endswith(".csv"):
            with open(path, encoding="utf-8-sig", newline="") as handle:
                cells += sum(len(row) for row in csv.reader(handle))
            continue
        workbook = python_calamine.CalamineWorkbook.from_path(path)
        for name in workbook.sheet_names:
            for row in workbook.get_sheet_by_name(name).to_python(skip_empty_area=False):
                cells += len(row)
        workbook.close()
    return cells


def _run(period: str, full_refresh: bool = False) -> dict:
    """``chiso run`` for the month: ingest the inbox, dbt build (the incremental models
    by month, or in full), gate, publish."""
    from chiso.pipeline import run
    from warehouse.settings import load_settings

    started = time.monotonic()
    summary = run(period, load_settings(), log=lambda line: None, full_refresh=full_refresh)
    ingest = next((line for line in summary.lines if " received" in line), "")
    return {
        "seconds": time.monotonic() - started,
        "stages": summary.stage_seconds,
        "peak_mib": _peak_mib(),
        "published_rows": sum(summary.published_rows.values()),
        "ingest": ingest.strip(),
    }


def _run_in_full(period: str) -> dict:
    """``chiso run --full-refresh``: every month of every model built again from raw."""
    return _run(period, full_refresh=True)


def _close(period: str) -> dict:
    """The monthly close as its DAG runs it: the snapshot of the published month (Parquet,
    hashed), then the report (``chiso.tasks.report``: HTML, and its PDF by Chromium
    when installed), each timed."""
    from chiso import tasks
    from chiso.snapshot import snapshot
    from warehouse.settings import load_settings

    started = time.monotonic()
    snapshot(load_settings(), period, log=lambda line: None)
    snapshotted = time.monotonic()
    tasks.report(period)
    return {
        "snapshot_seconds": snapshotted - started,
        "report_seconds": time.monotonic() - snapshotted,
        "peak_mib": _peak_mib(),
    }


def _child(kind: str, workdir: Path, period: str) -> dict:
    env = dict(os.environ, CHISO_DATA_DIR=str(workdir / "data"))
    env["CHISO_DBT_PROJECT_DIR"] = str(workdir / "dbt_project")
    env["CHISO_PROVINCES"] = served_provinces()
    code = (
        "import json, benchmarks.national as b; "
        f"print('RESULT ' + json.dumps(b._{kind}({period!r})))"
    )
    budget = load_settings(env).memory_budget
    out, sampler = run_sampled([sys.executable, "-c", code], env, limit=budget)
    if sampler.over_limit:  # recorded, and the benchmark goes on with the next stage
        missed = (
            f"bench {kind} passed the memory budget (CHISO_MEMORY_BUDGET={budget // MiB} MiB): "
            f"its processes held {sampler.peak_mib:.0f} MiB at once; stopped, a missed goal"
        )
        print(f"  {missed}; held by: {sampler.held[:HELD_SHOWN]}", flush=True)
        return {
            "missed": missed,
            "peak_mib": round(sampler.peak_mib, 1),
            "held_mib": sampler.held[:HELD_SHOWN],
            "seconds": None,
        }
    lines = [line for line in out.stdout.splitlines() if line.startswith("RESULT ")]
    if out.returncode != 0 or not lines:
        raise RuntimeError(
            f"bench {kind} failed (exit code {out.returncode}): {out.stderr[-3000:]}"
        )
    result = json.loads(lines[-1][len("RESULT ") :])
    # the stage's whole process tree, sampled while it ran (its own ru_maxrss beside it)
    result["process_peak_mib"] = result.get("peak_mib")
    result["peak_mib"] = round(sampler.peak_mib, 1)
    result["held_mib"] = sampler.held[:HELD_SHOWN]  # each process's share of that peak
    return result


def _took(result: dict) -> str:
    return "missed its budget" if "missed" in result else f"{result['seconds']:.1f} s"


def _stage(run: dict, name: str) -> float | None:
    return run.get("stages", {}).get(name)


def _ratio(part: float | None, whole: float | None) -> float | None:
    """``part / whole``; None when a stage that gives either missed its budget."""
    return part / whole if part is not None and whole else None


def fingerprint(scale: float | str, months: int, end: str) -> str:
    """What the generated data depends on: this generator, the seeds and the ingest code
    it runs, the raw tables' schema, and its arguments. Data made with the same
    fingerprint is reused."""
    digest = hashlib.sha256(f"{scale}|{months}|{end}".encode())
    files = [
        Path(__file__),
        PROJECT_ROOT / "warehouse" / "raw_schema.py",
        *sorted((PROJECT_ROOT / "dbt_project" / "seeds").rglob("*.csv")),
        *sorted((PROJECT_ROOT / "ingest").rglob("*.py")),
    ]
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def footprint(counts: dict[str, int], months: int) -> dict[str, int]:
    """The disk a benchmark at a scale takes, by what, from its units (before any figure
    is made): :data:`FIGURES_PER_UNIT_MONTH` bounds the figures."""
    figures = int(sum(counts[group] for group in GROUPS) * months * FIGURES_PER_UNIT_MONTH)
    return {
        "the generated country, twice (kept, and the copy the runs work on)": 2
        * figures
        * GENERATED_BYTES_PER_FIGURE,
        "the runs' marts, candidates, snapshots and DuckDB's spill": figures * RUN_BYTES_PER_FIGURE,
    }


def check_room(needs: dict[str, int], folder: Path, budget: int) -> None:
    """Refuse to start a benchmark the disk of ``folder`` or the machine's free memory has
    no room for (the stages may each take ``budget``)."""
    from warehouse.budget import check_disk, show

    available = available_memory()
    if available < budget:
        raise RuntimeError(
            f"the machine has {show(available)} of memory available and the benchmark's "
            f"stages may each take CHISO_MEMORY_BUDGET={show(budget)}: stop what else runs, "
            "or lower CHISO_MEMORY_BUDGET; nothing was started"
        )
    check_disk(needs, load_settings().disk_reserve, folder)


def generated(folder: Path, scale: float | str, months: int, end: str) -> tuple[Path, dict]:
    """The synthetic country at ``scale`` in ``folder``: made once (with the disk it needs
    checked first), then reused while :func:`fingerprint` is unchanged; data an older
    generator made is removed. Returns its directory and what making it measured."""
    fingerprinted = f"country-{scale}-{months}m-{end}-"
    made = folder / (fingerprinted + fingerprint(scale, months, end))
    if (made / "generated.json").exists():
        print(f"scale {scale}: the data generated in {made} (same generator): reused", flush=True)
        return made, json.loads((made / "generated.json").read_text(encoding="utf-8"))
    for stale in folder.glob(fingerprinted + "*"):  # another generator's, or unfinished
        shutil.rmtree(stale)
    partial = made.with_name(made.name + ".partial")
    partial.mkdir(parents=True)
    print(f"scale {scale}: registry and targets ...", flush=True)
    counts = prepare(partial, scale)
    check_room(footprint(counts, months), folder, load_settings().memory_budget)
    print(f"  {counts}; generating {months} months of figures ...", flush=True)
    started = time.monotonic()
    figures = generate_raw(partial, months, end)
    record = {"units": counts, "figures": figures, "seconds": time.monotonic() - started}
    (partial / "generated.json").write_text(json.dumps(record), encoding="utf-8")
    os.replace(partial, made)
    return made, record


def bench_national(
    scale: float | str = 1.0,
    months: int = 60,
    end: str = "2025-09",
    folder: Path | None = None,
    keep: bool = False,
    full: bool = True,
) -> dict:
    """Every measurement at ``scale``. Everything is written under ``folder`` (a new
    temporary one when not given): the generated country, reused by a later run given the
    same folder while the generator is unchanged, and a copy of it the stages work on.
    At the end the folder's content is removed, unless ``keep``. ``full=False`` leaves out
    the rebuild of the same month and the monthly close (the test suite's quick pass;
    both are tested on their own elsewhere)."""
    owned = folder is None
    folder = Path(tempfile.mkdtemp(prefix="chiso-national-")) if owned else folder
    folder.mkdir(parents=True, exist_ok=True)
    workdir = folder / f"run-{scale}-{months}m-{end}"
    made = None
    try:
        made, record = generated(folder, scale, months, end)
        counts, figures, generate_seconds = record["units"], record["figures"], record["seconds"]
        from warehouse.budget import folder_bytes

        check_room(
            {
                "a copy of the generated country": folder_bytes(made),
                "the runs' marts, candidates, snapshots and DuckDB's spill": figures
                * RUN_BYTES_PER_FIGURE,
            },
            folder,
            load_settings().memory_budget,
        )
        shutil.rmtree(workdir, ignore_errors=True)
        shutil.copytree(made, workdir)
        print(f"  {figures:,} figures ({generate_seconds:.1f} s to make); dbt build ...")
        build = _child("build", workdir, end)
        print(f"  build {_took(build)}; gate ...", flush=True)
        gate = _child("gate", workdir, end)
        print(f"  gate {_took(gate)}; floor (hand-written SQL) ...", flush=True)
        floor = _child("floor", workdir, end)
        print(f"  floor {_took(floor)}; the same in pandas ...", flush=True)
        in_pandas = _child("pandas", workdir, end)
        print(f"  pandas {_took(in_pandas)}; chiso run for {end} (first publication) ...")
        first = _child("run_in_full", workdir, end)  # as a first build: every month
        following = next_month(end)
        print(f"  run {_took(first)}; {following}'s report files ...", flush=True)
        inbox = _child("inbox", workdir, following)
        print(f"  {inbox['files']:,} files; the floor: reading them, nothing else ...")
        read_floor = _child("read_floor", workdir, following)
        print(f"  read floor {_took(read_floor)}; chiso run for {following} ...")
        monthly = _child("run", workdir, following)
        print(f"  monthly run {_took(monthly)}", flush=True)
        rebuild = close = None
        if full:
            print("  the same month rebuilt in full (--full-refresh) ...", flush=True)
            rebuild = _child("run_in_full", workdir, following)  # every month from raw
            print(f"  rebuild {_took(rebuild)}; monthly close ...", flush=True)
            published = any("missed" not in run for run in (first, monthly, rebuild))
            close = (
                _child("close", workdir, following)
                if published
                else {"missed": "nothing to close: every run before it missed its budget"}
            )
            if "missed" not in close:
                print(
                    f"  snapshot {close['snapshot_seconds']:.1f} s, "
                    f"report {close['report_seconds']:.1f} s"
                )
        # this scale's own: its generated country and the run's copy (other scales' kept data
        # may share the folder)
        disk = folder_bytes(made) + folder_bytes(workdir)
        stages = [build, gate, floor, in_pandas, first, inbox, read_floor, monthly, rebuild, close]
    finally:
        if not keep:
            shutil.rmtree(workdir, ignore_errors=True)
            if made is not None:
                shutil.rmtree(made, ignore_errors=True)
            if owned:
                shutil.rmtree(folder, ignore_errors=True)
    return {
        "scale": scale,
        "months": months,
        "units": counts,
        "figures": figures,
        "generate_seconds": generate_seconds,
        "disk_bytes": disk,
        "build": build,
        "gate": gate,
        "floor": floor,
        "pandas": in_pandas,
        "first_run": first,
        "inbox": inbox,
        "read_floor": read_floor,
        "monthly_run": monthly,
        "rebuild_run": rebuild,
        "monthly_close": close,
        "build_to_floor": _ratio(build.get("seconds"), floor.get("seconds")),
        "ingest_files_per_second": _ratio(inbox.get("files"), _stage(monthly, "ingest")),
        "ingest_to_read_floor": _ratio(_stage(monthly, "ingest"), read_floor.get("seconds")),
        "gate_share_of_build": _ratio(gate.get("seconds"), build.get("seconds")),
        "missed": [result["missed"] for result in stages if result and "missed" in result],
    }
