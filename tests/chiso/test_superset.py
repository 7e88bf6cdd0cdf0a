"""Apache Superset with chiso's dashboards, for real: ``./setup.sh bi`` installs Superset
into its own environment and imports bi/superset/assets; ``chiso bi serve`` runs it over
the published DuckDB file of the demo (with two months of snapshots, so the trend has
points). Every chart's data, as Superset's REST API serves it from the chart's saved query,
equals what the marts hold; every dashboard renders in Debian's Chromium without an error
tile; an edited chart is put back by the next import, and a chart that fails shows the
error tile the render check looks for.

Screenshots for the docs:
``CHISO_SCREENSHOTS=docs/images pytest tests/chiso/test_superset.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pytest
import yaml

from tests.helpers.postgres_server import free_port, fresh_database
from tests.helpers.project import PROJECT_ROOT, VENV_BIN
from tests.helpers.runs import chiso_environment

pytestmark = pytest.mark.slow

ASSETS = PROJECT_ROOT / "bi" / "superset" / "assets"

PROVINCE = """left join dim_admin_unit as pa on pa.level = 'province'
    and pa.scheme = 'post_2025' and pa.province_code = {table}.province_code"""


def label(kind: str, code: str) -> str:
    return f"(select label_vi from dim_label where kind = '{kind}' and code = {code})"


# What each chart must show, asked of the marts directly (not through the datasets' SQL)
EXPECTED = {
    "tinh_trang_thai_theo_tru_cot": f"""
        select {label("pillar", "p.pillar")}, sum(achieved_count), sum(on_track_count),
            sum(needs_acceleration_count), sum(off_track_count), sum(falling_short_count),
            sum(insufficient_data_count), sum(no_report_count)
        from province_pillar_overview as p group by all""",
    "tinh_dien_bien_trang_thai": f"""
        select snapshot_period, {label("status", "h.status")}, count(*)
        from target_progress_history as h group by all""",
    "tinh_so_lieu_bat_thuong": f"""
        select pa.name_vi, o.unit_name_vi, i.name_vi, o.previous_period, o.previous_value,
            o.period, o.value, o.follow_up_vi
        from figure_outliers as o join dim_indicator as i using (indicator_code)
        {PROVINCE.format(table="o")} where o.is_outlier""",
    "tinh_so_lieu_dinh_chinh": f"""
        select pa.name_vi, u.unit_name_vi, i.name_vi, r.period, r.old_value, r.new_value,
            r.new_received_at, r.new_file_name
        from figure_revisions as r join dim_unit as u using (unit_code)
        join dim_indicator as i using (indicator_code) {PROVINCE.format(table="u")}""",
    "thi_dua_bang_xep_hang": f"""
        select pa.name_vi, {label("unit_group", "s.unit_group")}, group_rank, unit_name_vi,
            score, previous_group_rank, rank_change, achieved_count, on_track_count,
            needs_acceleration_count, off_track_count, falling_short_count, no_report_count
        from unit_scorecard as s {PROVINCE.format(table="s")}
        where period = (select max(period) from unit_scorecard)""",
    "thi_dua_diem_theo_nhom": f"""
        select {label("unit_group", "s.unit_group")}, pa.name_vi, avg(score)
        from unit_scorecard as s {PROVINCE.format(table="s")}
        where period = (select max(period) from unit_scorecard) group by all""",
    "bao_cao_theo_thang": """
        select period, sum(on_time_count), sum(late_count), sum(rejected_only_count),
            sum(missing_count)
        from reporting_rates group by all""",
    "bao_cao_theo_nhom": f"""
        select period, pa.name_vi, {label("unit_group", "r.unit_group")}, sum(expected_count),
            sum(on_time_count), sum(late_count), sum(rejected_only_count), sum(missing_count)
        from reporting_rates as r {PROVINCE.format(table="r")} group by all""",
    "bao_cao_don_vi_chua_gui": f"""
        select pa.name_vi, {label("unit_group", "c.unit_group")}, unit_name_vi, period,
            due_on, {label("reporting_status", "c.reporting_status")}, days_late
        from reporting_completeness as c {PROVINCE.format(table="c")}
        where reporting_status in ('missing', 'rejected_only')""",
    "chi_tieu_trang_thai": f"""
        select {label("status", "p.status")}, count(*) from target_progress as p group by all""",
    "chi_tieu_tung_don_vi": f"""
        select pa.name_vi, {label("unit_group", "p.unit_group")}, u.unit_name_vi,
            latest_period, latest_value, target_value, deadline_on,
            {label("status", "p.status")}, explanation_vi
        from target_progress as p left join dim_unit as u using (unit_code)
        {PROVINCE.format(table="p")}""",
}


@dataclass(frozen=True)
class Running:
    url: str
    password: str
    published: Path
    env: dict[str, str]


def chiso(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    out = subprocess.run([str(VENV_BIN / "chiso"), *args], env=env, capture_output=True, text=True)
    assert out.returncode == 0, (args, out.stdout[-2000:], out.stderr[-3000:])
    return out


@pytest.fixture(scope="module")
def superset(demo, tmp_path_factory):
    data = Path(shutil.copytree(demo.data, tmp_path_factory.mktemp("superset") / "data"))
    port = free_port()
    env = chiso_environment(data, CHISO_SUPERSET_URL=f"http://127.0.0.1:{port}")
    del env["CHISO_PROVINCES"]  # the demo's: the default provinces
    # two monthly snapshots, read back into target_progress_history: the trend's points
    for month in ("2025-08", "2025-09"):
        chiso(env, "run", "--period", month)
        chiso(env, "snapshot", "--period", month)
    chiso(env, "run", "--period", "2025-09")
    setup = subprocess.run(
        ["./setup.sh", "bi"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True
    )
    assert setup.returncode == 0, (setup.stdout[-3000:], setup.stderr[-3000:])
    assert "11 charts in 4 dashboards imported" in setup.stdout
    with open(data / "serve.log", "w") as log:  # the child keeps its own descriptor
        serve = subprocess.Popen(
            [str(VENV_BIN / "chiso"), "bi", "serve"], env=env, stdout=log,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + 240
    while "Ctrl-C stops it" not in (data / "serve.log").read_text():
        assert serve.poll() is None and time.monotonic() < deadline, (
            data / "serve.log"
        ).read_text()[-3000:]
        time.sleep(0.5)
    password = (data / "superset" / "admin.password").read_text().strip()
    yield Running(env["CHISO_SUPERSET_URL"], password, data / "published" / "chiso.duckdb", env)
    os.killpg(serve.pid, signal.SIGTERM)
    serve.wait(timeout=60)
    log.close()
    assert (
        subprocess.run(["pgrep", "-f", f"127.0.0.1 -p {port}"], capture_output=True).returncode == 1
    )


@pytest.fixture
def client(superset):
    from chiso.bi import Superset

    session = Superset(superset.url, "admin", superset.password)
    yield session
    session.close()


def comparable(value):
    """A value as Superset's JSON gives it: dates and times in epoch milliseconds, numbers
    rounded (sums are added in another order)."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return round(value.timestamp() * 1000)
    if isinstance(value, date):
        return round(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp() * 1000)
    if isinstance(value, float | int) and not isinstance(value, bool):
        return round(float(value), 6)
    return value


def rows_of(rows) -> list[tuple]:
    return sorted((tuple(comparable(v) for v in row) for row in rows), key=repr)


def assert_charts_show(client, published: Path) -> dict[str, list[dict]]:
    """Every chart's data as Superset serves it equals the same figures asked of the marts
    in ``published`` directly; returns the served rows by chart."""
    charts = {row["uuid"]: row for row in client.listed("chart")}
    assert len(charts) == len(EXPECTED)
    served_by_chart = {}
    connection = duckdb.connect(str(published), read_only=True)
    try:
        for path in sorted((ASSETS / "charts").glob("*.yaml")):
            key, config = path.stem, yaml.safe_load(path.read_text(encoding="utf-8"))
            served = client.chart_data(charts[config["uuid"]]["id"])
            expected = connection.execute(EXPECTED[key]).fetchall()
            assert served or not expected, key
            assert rows_of(tuple(row.values()) for row in served) == rows_of(expected), key
            served_by_chart[key] = served
    finally:
        connection.close()
    return served_by_chart


def test_every_chart_shows_what_the_marts_hold(superset, client):
    served = assert_charts_show(client, superset.published)
    # the trend has both snapshot months
    months = {row["snapshot_period"] for row in served["tinh_dien_bien_trang_thai"]}
    assert months == {"2025-08", "2025-09"}
    assert all(served[key] for key in EXPECTED if key != "tinh_so_lieu_bat_thuong")


def test_every_chart_label_of_a_code_is_the_marts_label(superset):
    """The charts name statuses and reporting states as dim_label does (seed labels.csv,
    the one place labels are written), so a dashboard and the monthly report agree."""
    connection = duckdb.connect(str(superset.published), read_only=True)
    labels = {
        code: label_vi
        for code, label_vi in connection.execute(
            "select code, label_vi from dim_label where kind in ('status', 'reporting_status')"
        ).fetchall()
    }
    connection.close()
    counted = {  # the counts the marts keep per status, and the statuses each one counts
        "achieved_count": ["achieved"],
        "on_track_count": ["on_track"],
        "needs_acceleration_count": ["needs_acceleration"],
        "off_track_count": ["off_track"],
        "insufficient_data_count": ["insufficient_data"],
        "no_report_count": ["no_report"],
        "on_time_count": ["received_on_time"],
        "late_count": ["received_late"],
        "rejected_only_count": ["rejected_only"],
        "missing_count": ["missing"],
    }
    seen = 0
    for path in (ASSETS / "charts").glob("*.yaml"):
        params = yaml.safe_load(path.read_text(encoding="utf-8"))["params"]
        for metric in params.get("metrics") or []:
            column = metric["sqlExpression"].removeprefix("SUM(").removesuffix(")")
            if column in counted:
                assert metric["label"] == labels[counted[column][0]], (path.name, column)
                seen += 1
    assert seen >= 10


def render(url: str, password: str, slugs, screenshots: Path | None = None) -> dict[str, dict]:
    """Each dashboard in headless Chromium (Debian's): its chart tiles, the text of any
    error tile, and the row count each table shows, once every chart has loaded."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from playwright.sync_api import sync_playwright

    from chiso.report import chromium

    found = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="vi-VN")
        page.goto(f"{url}/login/")
        page.fill("#username", "admin")
        page.fill("#password", password)
        page.keyboard.press("Enter")
        page.wait_for_url("**/superset/welcome/**", timeout=60_000)
        for slug in slugs:
            for attempt in (1, 2):  # a page Superset was slow to lay out is asked again
                page.goto(f"{url}/superset/dashboard/{slug}/?standalone=1")
                try:
                    page.wait_for_selector(".dashboard-component-chart-holder", timeout=60_000)
                    break
                except PlaywrightTimeout:
                    if attempt == 2:
                        raise
            page.wait_for_load_state("networkidle", timeout=120_000)
            loading = page.locator(".dashboard-component-chart-holder .loading")
            deadline = time.monotonic() + 60
            while loading.count() and time.monotonic() < deadline:
                time.sleep(0.5)
            holders = page.locator(".dashboard-component-chart-holder")
            errors = page.locator('.dashboard-component-chart-holder [role="alert"]')
            found[slug] = {
                "tiles": holders.count(),
                "drawn": page.locator(
                    ".dashboard-component-chart-holder :is(canvas, table, .ant-empty, "
                    '[data-test="chart-container"] svg)'
                ).count(),
                "errors": [errors.nth(i).inner_text() for i in range(errors.count())],
                "records": [  # a table's search box: "10138 records..."
                    int(box.get_attribute("placeholder").split()[0])
                    for box in page.locator('input[placeholder$="records..."]').all()
                ],
            }
            if screenshots:
                page.screenshot(path=str(screenshots / f"superset-{slug}.png"), full_page=True)
        browser.close()
    return found


def dashboards() -> dict[str, int]:
    """slug -> how many charts the code's dashboard holds."""
    out = {}
    for path in (ASSETS / "dashboards").glob("*.yaml"):
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
        charts = [c for c in config["position"].values() if isinstance(c, dict)]
        out[config["slug"]] = sum(1 for c in charts if c.get("type") == "CHART")
    return out


def test_every_dashboard_renders_in_chromium_without_an_error_tile(superset):
    folder = os.environ.get("CHISO_SCREENSHOTS")
    expected = dashboards()
    found = render(superset.url, superset.password, expected, Path(folder) if folder else None)
    for slug, charts in expected.items():
        assert found[slug]["errors"] == [], (slug, found[slug]["errors"])
        assert found[slug]["tiles"] == charts, slug
        assert found[slug]["drawn"] >= charts, (slug, found[slug])
    # "one target" opens on the target that reaches the most units (its filter is required,
    # ordered by row count): that target's units only
    connection = duckdb.connect(str(superset.published), read_only=True)
    first = connection.execute(
        "select count(*) as n from target_progress group by target_id order by n desc limit 1"
    ).fetchone()[0]
    connection.close()
    assert found["chiso-chi-tieu"]["records"] == [first]


def test_an_edited_chart_is_put_back_by_the_next_import_and_a_failing_one_is_seen(superset, client):
    """Dashboards are code: an edit made in Superset's UI lasts until the next import. And
    the render check sees a chart that fails: here, one whose metric names no column."""
    title = "Điểm bình quân theo nhóm đơn vị"
    chart = next(row for row in client.listed("chart") if row["slice_name"] == title)
    params = json.loads(client.get(f"/api/v1/chart/{chart['id']}")["result"]["params"])
    params["metrics"][0]["sqlExpression"] = "AVG(no_such_column)"
    edited = client.http.put(
        f"/api/v1/chart/{chart['id']}",
        json={"params": json.dumps(params), "slice_name": "sửa tay"},
    )
    assert edited.status_code == 200, edited.text
    broken = render(superset.url, superset.password, ["chiso-thi-dua"])["chiso-thi-dua"]
    assert len(broken["errors"]) == 1 and "no_such_column" in broken["errors"][0]

    out = chiso(superset.env, "bi", "import")
    assert "11 charts in 4 dashboards imported" in out.stdout
    restored = client.get(f"/api/v1/chart/{chart['id']}")["result"]
    assert restored["slice_name"] == title
    assert "no_such_column" not in restored["params"]
    assert len(client.listed("chart")) == len(EXPECTED)  # overwritten, not added beside
    assert (
        render(superset.url, superset.password, ["chiso-thi-dua"])["chiso-thi-dua"]["errors"] == []
    )


def test_a_wrong_password_is_refused_with_what_to_set(superset):
    env = {**superset.env, "CHISO_SUPERSET_PASSWORD": "not-the-password"}
    out = subprocess.run(
        [str(VENV_BIN / "chiso"), "bi", "import"], env=env, capture_output=True, text=True
    )
    assert out.returncode != 0
    assert "refused the login of 'admin'" in out.stderr
    assert "CHISO_SUPERSET_PASSWORD" in out.stderr and "Traceback" not in out.stderr


def test_the_same_dashboards_read_the_postgresql_warehouse(
    superset, client, demo, pg_server, tmp_path
):
    """With CHISO_WAREHOUSE=postgres, ``chiso bi import`` points the same datasets at schema
    ``published`` as a login in chiso_reader (its password sent, never shown back): every
    chart shows what the demo's marts hold (the two warehouses publish the same rows)."""
    import psycopg

    pg = fresh_database(pg_server, "superset_bi")
    secret = "bi-secret-4e1f"
    env = chiso_environment(
        tmp_path / "data", CHISO_WAREHOUSE="postgres", CHISO_SUPERSET_URL=superset.url,
        CHISO_SUPERSET_PASSWORD=superset.password, CHISO_BI_PG_USER="superset_bi",
        CHISO_BI_PG_PASSWORD=secret, **pg,
    )  # fmt: skip
    del env["CHISO_PROVINCES"]  # the demo's: the default provinces
    try:
        chiso(env, "demo")
        with psycopg.connect(
            host=pg["CHISO_PG_HOST"], port=int(pg["CHISO_PG_PORT"]), user=pg["CHISO_PG_USER"],
            dbname=pg["CHISO_PG_DBNAME"], autocommit=True,
        ) as conn:  # fmt: skip
            conn.execute("drop role if exists superset_bi")
            conn.execute(f"create role superset_bi login password '{secret}' in role chiso_reader")
        out = chiso(env, "bi", "import")
        assert "11 charts in 4 dashboards imported" in out.stdout and secret not in out.stdout
        database = next(row for row in client.listed("database") if row["database_name"] == "chiso")
        shown = client.get(f"/api/v1/database/{database['id']}/connection")["result"]
        assert shown["backend"] == "postgresql" and "superset_bi" in shown["sqlalchemy_uri"]
        assert secret not in json.dumps(shown)
        assert_charts_show(client, demo.published)
    finally:  # the DuckDB file again, for the module's other tests
        chiso(superset.env, "bi", "import")
