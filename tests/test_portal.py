"""The portal connector against a local HTTP server answering with the real response."""

from __future__ import annotations

import json
import time

import duckdb
import pytest
from werkzeug import Response

from ingest.http import FetchError
from ingest.sources import portal_766
from tests.conftest import shared_folder

PATH = portal_766.PATH


@pytest.fixture(scope="module")
def real_answer() -> bytes:
    folder = shared_folder("realdata") / "dvcqg_newapi_crawler766"
    return (folder / "service-results_national_year2026_20260917.json").read_bytes()


@pytest.fixture
def portal(settings, httpserver, monkeypatch):
    monkeypatch.setenv("CHISO_PORTAL_BASE_URL", httpserver.url_for(""))
    monkeypatch.setenv("CHISO_HTTP_BACKOFF", "0.01")
    monkeypatch.setenv("CHISO_HTTP_TIMEOUT", "2")
    from warehouse.settings import load_settings

    return load_settings()


def test_a_year_of_scores_is_fetched_landed_and_loaded(portal, httpserver, real_answer):
    httpserver.expect_oneshot_request(
        PATH, method="POST", json=portal_766.request_body(2026)
    ).respond_with_data(real_answer, content_type="application/json")
    landed = portal_766.fetch(portal, 2026, log=lambda _: None)
    assert landed.read_bytes() == real_answer  # the raw answer, kept as it came
    assert landed.parent.name == "2026" and not landed.stat().st_mode & 0o222
    conn = duckdb.connect(str(portal.warehouse_path))
    assert portal_766.load(conn, landed) == 34
    assert portal_766.load(conn, landed) == 0  # the same answer loads once
    rows = conn.execute(
        "select count(*), count(province_code), count(distinct province_code) "
        "from raw.portal_766_scores"
    ).fetchone()
    dong_thap = conn.execute(
        "select province_code, total_score, ckmb, mdsh from raw.portal_766_scores "
        "where department_code = 'H20'"
    ).fetchone()
    conn.close()
    assert rows == (34, 34, 34)  # every portal code mapped to a statistics-office province
    assert dong_thap == ("82", 68.32, 11.45, 9.65)


def test_transient_failures_are_retried(portal, httpserver, real_answer):
    httpserver.expect_ordered_request(PATH).respond_with_data("busy", status=503)
    httpserver.expect_ordered_request(PATH).respond_with_data("busy", status=502)
    httpserver.expect_ordered_request(PATH).respond_with_data(real_answer)
    messages: list[str] = []
    landed = portal_766.fetch(portal, 2026, log=messages.append)
    assert landed.exists() and len(messages) == 2 and "HTTP 503" in messages[0]


def test_a_client_error_is_not_retried_and_says_so(portal, httpserver):
    httpserver.expect_oneshot_request(PATH).respond_with_data("no", status=404)
    with pytest.raises(FetchError, match="HTTP 404 \\(not retried\\)"):
        portal_766.fetch(portal, 2026, log=lambda _: None)


def test_an_error_answer_is_quarantined_not_landed(portal, httpserver):
    answer = json.dumps({"code": "ERR", "message": "Hệ thống bận", "data": None})
    httpserver.expect_oneshot_request(PATH).respond_with_data(answer)
    with pytest.raises(portal_766.PortalError, match="code 'ERR': 'Hệ thống bận'"):
        portal_766.fetch(portal, 2026, log=lambda _: None)
    assert not (portal.landing_dir / "portal_766").exists()
    folder = portal.quarantine_dir / "portal_766" / "2026"
    (kept,) = [p for p in folder.glob("*.json") if not p.name.endswith(".meta.json")]
    assert json.loads(kept.with_name(kept.name + ".meta.json").read_text())["error"]


def test_an_endless_answer_is_cut_off_at_the_size_bound(portal, httpserver):
    def endless(_request):
        def stream():
            while True:
                yield b" " * 65536
                time.sleep(0.001)

        return Response(stream(), content_type="application/json")

    from ingest.http import post_json

    httpserver.expect_request(PATH).respond_with_handler(endless)
    url = portal.portal_base_url.rstrip("/") + PATH
    with pytest.raises(FetchError, match="exceeds 2,000,000 bytes"):
        post_json(url, {}, timeout=5, max_bytes=2_000_000, attempts=1)


def test_chiso_fetch_portal_against_the_local_server(portal, httpserver, real_answer, tmp_path):
    import os
    import subprocess

    from tests.conftest import VENV_BIN

    httpserver.expect_oneshot_request(PATH).respond_with_data(real_answer)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env.update(CHISO_DATA_DIR=str(portal.data_dir), CHISO_PORTAL_BASE_URL=httpserver.url_for(""))
    out = subprocess.run(
        [str(VENV_BIN / "chiso"), "fetch-portal", "--year", "2026"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "34 score rows loaded into raw.portal_766_scores" in out.stdout
