"""The index-766 connector (both portal APIs) against a local HTTP server answering with
the real samples of ../shared/realdata, and its faults."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse

import duckdb
import pytest
from werkzeug import Request, Response

from ingest.http import FetchError, post
from ingest.sources import portal_766
from tests.helpers.project import VENV_BIN, shared_folder

NEW, OLD = portal_766.NEW_PATH, portal_766.OLD_PATH
AN_GIANG = "398126"  # the portal's agency ID of UBND tỉnh An Giang


@pytest.fixture(scope="module")
def new_answer() -> bytes:
    folder = shared_folder("realdata") / "dvcqg_newapi_crawler766"
    return (folder / "service-results_national_year2026_20260917.json").read_bytes()


@pytest.fixture(scope="module")
def old_sheets() -> dict[str, list[dict]]:
    """The old API's rows as the portal returned them (dumped to Excel unchanged)."""
    import openpyxl

    path = shared_folder("realdata") / "dvcqg_766_angiang_xlsx" / "bao_cao_T10_2025.xlsx"
    book = openpyxl.load_workbook(path, read_only=True)
    sheets = {}
    for name in ("Điểm tháng", "Sở Ban", "Xã Phường"):
        header, *rows = book[name].iter_rows(values_only=True)
        sheets[name] = [dict(zip(header, row, strict=True)) for row in rows]
    return sheets


@pytest.fixture
def portal(settings, httpserver, monkeypatch):
    monkeypatch.setenv("CHISO_PORTAL_BASE_URL", httpserver.url_for(""))
    monkeypatch.setenv("CHISO_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("CHISO_HTTP_TIMEOUT", "1")
    monkeypatch.setenv("CHISO_HTTP_MIN_INTERVAL", "0")
    monkeypatch.setenv("CHISO_PORTAL_PAGE_SIZE", "50")
    from warehouse.settings import load_settings

    return load_settings()


def old_api(sheets, page_size=50, tamper=None):
    """A handler answering rest.jsp like the portal: provinces for p_tinh_id 0, a
    province's departments and communes for its agency ID, page by page."""

    def handler(request: Request) -> Response:
        params = json.loads(urllib.parse.parse_qs(request.get_data(as_text=True))["params"][0])
        assert params["service"] == portal_766.OLD_SERVICE and params["pageSize"] == page_size
        if params["p_tinh_id"] == 0:
            rows = sheets["Điểm tháng"]
        else:
            assert params["p_tinh_id"] == AN_GIANG
            rows = sheets["Sở Ban"] + sheets["Xã Phường"]
        start = (params["pageIndex"] - 1) * page_size
        body = json.dumps(rows[start : start + page_size], ensure_ascii=False).encode()
        if tamper:
            body = tamper(params, body)
        return Response(body, content_type="application/json")

    return handler


def answers(folder) -> list:
    return [path for path in folder.glob("*.json") if not path.name.endswith(".meta.json")]


def raw_rows(settings, table="raw.portal_766_scores", exclude=("load_id", "loaded_at")):
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        columns = [c for c in conn.table(table).columns if c not in exclude]
        return conn.execute(f"select {', '.join(columns)} from {table} order by all").fetchall()
    finally:
        conn.close()


def load(settings, folder) -> int:
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        return portal_766.load(conn, folder, settings)
    finally:
        conn.close()


def test_new_api_year_is_landed_as_is_and_loaded_once(portal, httpserver, new_answer):
    request = portal_766.new_request(2026)
    httpserver.expect_oneshot_request(NEW, method="POST", json=request.params).respond_with_data(
        new_answer, content_type="application/json"
    )
    folder = portal_766.fetch(portal, request, log=lambda _: None)
    (landed,) = answers(folder)
    assert landed.read_bytes() == new_answer and not landed.stat().st_mode & 0o222
    meta = json.loads(landed.with_name(landed.name + ".meta.json").read_text())
    assert meta["http_status"] == 200 and meta["params"] == request.params and meta["fetched_at"]
    assert load(portal, folder) == 34
    assert load(portal, folder) == 0  # the same answer loads once
    rows = raw_rows(portal)
    assert len({row[5] for row in rows}) == 34  # every H code mapped to a province
    dong_thap = [row for row in rows if row[3] == "H20"][0]
    assert dong_thap[5:14] == ("82", 68.32, 24.71, 11.45, 17.72, 8.83, 6.22, 14.45, 9.65)
    national = {
        (row[4], row[5], row[6]): row[7] for row in raw_rows(portal, "raw.portal_766_national")
    }
    assert national["onlineDossier", "ONLINE", None] == 11_122_091
    assert national["onlineDossier", "OTHER", None] == 600_732
    assert national["onlineProvision", "FULL", None] == 390
    assert national["onTimePct", "national", "2026-01"] == 58.79
    assert ("averageScore", "national", "2026-12") not in national  # future months are null


def test_old_api_provinces_departments_and_communes_page_by_page(portal, httpserver, old_sheets):
    httpserver.expect_request(OLD, method="POST").respond_with_handler(old_api(old_sheets))
    provinces = portal_766.fetch(portal, portal_766.old_request(2025, 10), log=lambda _: None)
    an_giang = portal_766.fetch(
        portal, portal_766.old_request(2025, 10, AN_GIANG), log=lambda _: None
    )
    assert len(answers(provinces)) == 1  # 34 rows < one page of 50
    assert len(answers(an_giang)) == 3  # 117 rows: 50 + 50 + 17
    assert load(portal, provinces) == 34 and load(portal, an_giang) == 117
    conn = duckdb.connect(str(portal.warehouse_path))
    kinds = dict(
        conn.execute(
            "select unit_kind, count(*) from raw.portal_766_scores group by all"
        ).fetchall()
    )
    provinces_mapped = conn.execute(
        "select count(distinct province_code) from raw.portal_766_scores "
        "where unit_kind = 'province' and ckmb is not null and mdsh is not null "
        "and total_score is not null"
    ).fetchone()[0]
    lang_son = conn.execute(
        "select department_code, province_code, total_score, national_rank, period "
        "from raw.portal_766_scores where agency_id = '417489'"
    ).fetchone()
    sub_units = conn.execute(
        "select distinct province_code from raw.portal_766_scores where unit_kind <> 'province'"
    ).fetchall()
    conn.close()
    assert kinds == {"province": 34, "department": 15, "commune": 102}
    assert provinces_mapped == 34
    # the long agency form of the code ("000.00.00.H37") maps like "H37"
    assert lang_son == ("000.00.00.H37", "20", 85.95, 18, "2025-10")
    assert sub_units == [("91",)]


def test_reparsing_the_landing_area_gives_identical_raw_rows(
    portal, httpserver, old_sheets, new_answer
):
    httpserver.expect_request(OLD).respond_with_handler(old_api(old_sheets))
    httpserver.expect_request(NEW).respond_with_data(new_answer)
    for request in (portal_766.old_request(2025, 10, AN_GIANG), portal_766.new_request(2026)):
        load(portal, portal_766.fetch(portal, request, log=lambda _: None))
    before = raw_rows(portal), raw_rows(portal, "raw.portal_766_national")
    conn = duckdb.connect(str(portal.warehouse_path))
    assert portal_766.reload(conn, portal) == 117 + 34
    conn.close()
    assert (raw_rows(portal), raw_rows(portal, "raw.portal_766_national")) == before


def test_5xx_then_200_is_retried(portal, httpserver, new_answer):
    httpserver.expect_ordered_request(NEW).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(NEW).respond_with_data("busy", status=500)
    httpserver.expect_ordered_request(NEW).respond_with_data(new_answer)
    messages: list[str] = []
    folder = portal_766.fetch(portal, portal_766.new_request(2026), log=messages.append)
    assert load(portal, folder) == 34
    assert len(messages) == 2 and "HTTP 503" in messages[0] and "backoff" in messages[0]


def test_429_with_retry_after_is_waited_for(portal, httpserver, new_answer):
    httpserver.expect_ordered_request(NEW).respond_with_data(
        "slow down", status=429, headers={"Retry-After": "1"}
    )
    httpserver.expect_ordered_request(NEW).respond_with_data(new_answer)
    messages: list[str] = []
    started = time.monotonic()
    portal_766.fetch(portal, portal_766.new_request(2026), log=messages.append)
    assert time.monotonic() - started >= 1.0
    assert "HTTP 429" in messages[0] and "in 1 s (Retry-After)" in messages[0]


def test_a_retry_after_beyond_the_cap_is_not_waited(portal, httpserver):
    httpserver.expect_oneshot_request(NEW).respond_with_data(
        "", status=503, headers={"Retry-After": "86400"}
    )
    with pytest.raises(FetchError, match="Retry-After 86400 s exceeds"):
        portal_766.fetch(portal, portal_766.new_request(2026), log=lambda _: None)


def test_a_timeout_is_retried_then_named(portal, httpserver):
    import threading

    released = threading.Event()

    def too_slow(_request):
        released.wait(1.5)  # the client's timeout is 1 s
        return Response("{}")

    httpserver.expect_request(NEW).respond_with_handler(too_slow)
    messages: list[str] = []
    try:
        with pytest.raises(FetchError, match="timed out after 3 attempts"):
            portal_766.fetch(portal, portal_766.new_request(2026), log=messages.append)
    finally:  # answer the requests still queued at the (single-threaded) server
        released.set()
        time.sleep(0.3)
    assert len(messages) == 2
    assert not (portal.landing_dir / "portal_766").exists()


def test_a_client_error_is_not_retried_and_says_so(portal, httpserver):
    httpserver.expect_oneshot_request(NEW).respond_with_data("no", status=404)
    with pytest.raises(FetchError, match="HTTP 404 \\(not retried\\)"):
        portal_766.fetch(portal, portal_766.new_request(2026), log=lambda _: None)


def assert_quarantined_not_loaded(settings, period: str, pages: int) -> dict:
    assert not (settings.landing_dir / "portal_766").exists()
    (folder,) = (settings.quarantine_dir / "portal_766" / period).iterdir()
    kept = answers(folder)
    assert len(kept) == pages
    assert not settings.warehouse_path.exists() or not raw_rows(settings)
    return json.loads(kept[0].with_name(kept[0].name + ".meta.json").read_text())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b"<!DOCTYPE html><html><head><title>B\xe1\xba\xa3o tr\xc3\xac h\xe1\xbb\x87 th\xe1"
            b"\xbb\x91ng</title></head><body>...</body></html>",
            "HTML page, not JSON; the page says: 'Bảo trì hệ thống'",
        ),
        (
            "<html><head><title> </title><style>h1 {}</style></head><body><div><h1>Hệ thống "
            "đang bảo trì</h1><p>Vui lòng quay lại sau.</p></div></body></html>".encode(),
            "HTML page, not JSON; the page says: 'Hệ thống đang bảo trì'",
        ),
        (b"<html><body><p>Service  Unavailable</p></body></html>", "says: 'Service Unavailable'"),
        (b'{"code": "OK", "message": "", "data": {"evaluation": [{"departm', "not complete JSON"),
        (
            json.dumps({"code": "ERR", "message": "Hệ thống bận", "data": None}).encode(),
            "code 'ERR': 'Hệ thống bận'",
        ),
    ],
    ids=["html-page-with-200", "maintenance-heading", "html-text", "truncated-json", "error-code"],
)
def test_a_bad_new_api_answer_is_quarantined_not_landed(portal, httpserver, body, message):
    httpserver.expect_oneshot_request(NEW).respond_with_data(body, status=200)
    with pytest.raises(portal_766.PortalError, match=message):
        portal_766.fetch(portal, portal_766.new_request(2026), log=lambda _: None)
    meta = assert_quarantined_not_loaded(portal, "2026", pages=1)
    assert meta["http_status"] == 200 and meta["error"]


def test_a_renamed_field_is_named_and_the_whole_request_is_quarantined(
    portal, httpserver, old_sheets
):
    def rename_on_page_3(params, body):
        if params["pageIndex"] == 3:
            return body.replace(b'"TONG_SCORE"', b'"TONG_DIEM"')
        return body

    handler = old_api(old_sheets, tamper=rename_on_page_3)
    httpserver.expect_request(OLD).respond_with_handler(handler)
    drift = "lacks TONG_SCORE and has new field TONG_DIEM"
    with pytest.raises(portal_766.PortalError, match=drift):
        portal_766.fetch(portal, portal_766.old_request(2025, 10, AN_GIANG), log=lambda _: None)
    assert_quarantined_not_loaded(portal, "2025-10", pages=3)  # pages 1-2 were fine: kept too


def test_an_unknown_portal_code_stops_the_load_naming_it_and_a_reparse_recovers(
    portal, httpserver, new_answer, tmp_path, monkeypatch
):
    answer = new_answer.replace(b'"H37"', b'"H99"')
    httpserver.expect_oneshot_request(NEW).respond_with_data(answer)
    folder = portal_766.fetch(portal, portal_766.new_request(2026), log=lambda _: None)
    with pytest.raises(portal_766.PortalError, match="'H99' \\(UBND tỉnh Lạng Sơn\\) has no"):
        load(portal, folder)
    assert not raw_rows(portal)  # nothing partial
    # the crosswalk is fixed (here: a copy of the dbt project with H99 added): re-parse
    import shutil

    project = tmp_path / "dbt_project"
    shutil.copytree(portal.dbt_project_dir / "seeds", project / "seeds")
    seed = project / "seeds" / "portal_provinces.csv"
    seed.write_text(seed.read_text().replace("H37,", "H99,"))
    monkeypatch.setenv("CHISO_DBT_PROJECT_DIR", str(project))
    from warehouse.settings import load_settings

    conn = duckdb.connect(str(portal.warehouse_path))
    assert portal_766.reload(conn, load_settings()) == 34
    conn.close()


def test_an_endless_answer_is_cut_off_at_the_size_bound(portal, httpserver):
    def endless(_request):
        def stream():
            while True:
                yield b" " * 65536
                time.sleep(0.001)

        return Response(stream(), content_type="application/json")

    httpserver.expect_request(NEW).respond_with_handler(endless)
    url = portal.portal_base_url.rstrip("/") + NEW
    with pytest.raises(FetchError, match="exceeds 2,000,000 bytes"):
        post(url, json_body={}, timeout=5, max_bytes=2_000_000, attempts=1)


def test_requests_are_spaced_politely(httpserver):
    httpserver.expect_request("/polite").respond_with_data("[]")
    url = httpserver.url_for("/polite")
    started = time.monotonic()
    for _ in range(3):
        post(url, json_body={}, min_interval=0.3, attempts=1)
    assert time.monotonic() - started >= 0.6


def test_chiso_ingest_portal_fetches_the_configured_requests(
    portal, httpserver, new_answer, old_sheets
):
    httpserver.expect_request(NEW).respond_with_data(new_answer)
    httpserver.expect_request(OLD).respond_with_handler(old_api(old_sheets))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env.update(
        CHISO_DATA_DIR=str(portal.data_dir),
        CHISO_PORTAL_BASE_URL=httpserver.url_for(""),
        CHISO_HTTP_MIN_INTERVAL="0",
        CHISO_PORTAL_PAGE_SIZE="50",
        CHISO_PORTAL_SUB_UNITS="H01",
    )
    chiso = [str(VENV_BIN / "chiso"), "ingest", "portal"]
    out = subprocess.run([*chiso, "--period", "2025-10"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "[3/3] old API 2025-10" in out.stdout
    assert "landed 3 answers; 185 score rows loaded" in out.stdout  # 34 + 34 + 117
    again = subprocess.run([*chiso, "--period", "2025-10"], env=env, capture_output=True, text=True)
    assert "0 score rows loaded" in again.stdout  # the same answers: nothing new
    reparse = subprocess.run([*chiso, "--reparse"], env=env, capture_output=True, text=True)
    assert "185 score rows" in reparse.stdout, reparse.stderr
