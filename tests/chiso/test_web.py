"""The units' pages (chiso/web), served by ``chiso serve`` over real HTTP on the demo's
published data: a clerk in headless Chromium (Debian's, driven by Playwright) opens the
unit's link, downloads the template, sends a broken file and sees the bad cell, sends the
corrected one and gets a receipt, and the next pipeline run loads it; a province's page of
who has not reported; and every way in that must be refused, with nothing written."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from tests.helpers.postgres_server import free_port
from tests.helpers.project import VENV_BIN
from tests.helpers.runs import chiso_environment

pytestmark = pytest.mark.slow

PROVINCE = "20"
DEMO_PROVINCES = "20,08,14"  # the demo's (the default)
MAX_BYTES = 256 * 1024  # the server's CHISO_MAX_FILE_BYTES (0.25 MB): a template is ~7 KB
PER_HOUR = 4  # its CHISO_WEB_UPLOADS_PER_HOUR
# screenshots of each page, for docs/images (CHISO_SCREENSHOTS=docs/images to refresh them)
SCREENSHOTS = os.environ.get("CHISO_SCREENSHOTS")


class Site:
    def __init__(self, url: str, env: dict, data: Path):
        self.url, self.env, self.data = url, env, data

    def chiso(self, *arguments: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [str(VENV_BIN / "chiso"), *arguments], env=self.env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    def links(self, unit: str | None = None, province: str = PROVINCE) -> dict[str, str]:
        """``chiso units links``: unit code (or '' for the province's page) -> link."""
        arguments = ["units", "links", "--province", province]
        out = self.chiso(*arguments, *(["--unit", unit] if unit else [])).stdout
        return {row["unit_code"]: row["link"] for row in csv.DictReader(io.StringIO(out))}

    def written(self) -> dict[str, int]:
        """What the pages can write: the inbox's files, the uploads log's lines."""
        inbox = self.data / "inbox"
        log = self.data / "web" / "uploads.jsonl"
        return {
            "inbox": len(list(inbox.iterdir())) if inbox.exists() else 0,
            "uploads": len(log.read_text().splitlines()) if log.exists() else 0,
        }


@pytest.fixture(scope="module")
def site(demo, tmp_path_factory):
    data = Path(shutil.copytree(demo.data, tmp_path_factory.mktemp("web") / "data"))
    port = free_port()
    env = chiso_environment(
        data,
        CHISO_PROVINCES=DEMO_PROVINCES,
        CHISO_WEB_BASE_URL=f"http://127.0.0.1:{port}",
        CHISO_MAX_FILE_BYTES=str(MAX_BYTES),
        CHISO_WEB_UPLOADS_PER_HOUR=str(PER_HOUR),
    )
    log = open(data.parent / "serve.log", "w")  # noqa: SIM115 (open while it serves)
    server = subprocess.Popen(
        [str(VENV_BIN / "chiso"), "serve", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(f"{url}/healthz", timeout=2).close()
            break
        except OSError:
            assert server.poll() is None, (data.parent / "serve.log").read_text()
            time.sleep(0.2)
    yield Site(url, env, data)
    server.terminate()
    server.wait(timeout=30)
    log.close()


def fill(template: Path, out: Path, numerator_c9: int = 8) -> Path:
    """The template as a clerk fills it: reporter, date, 8 of 10 on every row (C9 as said)."""
    book = openpyxl.load_workbook(template)
    sheet = book.worksheets[0]
    sheet["B5"], sheet["B6"] = "Nguyễn Thị Lan", "06/12/2026"
    for row in range(9, sheet.max_row + 1):
        if sheet.cell(row, 1).value:
            sheet.cell(row, 3).value, sheet.cell(row, 4).value = 8, 10
    sheet["C9"] = numerator_c9
    book.save(out)
    return out


def test_a_clerk_checks_sends_and_follows_a_report_in_a_browser(site, tmp_path):
    from playwright.sync_api import sync_playwright

    from chiso.report import chromium

    link = site.links("20.SNV")["20.SNV"]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium(), args=["--no-sandbox", "--disable-gpu"]
        )
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(link)
        assert "Sở Nội vụ" in page.inner_text("header")
        # the demo's published figures: the unit's targets and its reporting history
        assert page.locator("#progress tr").count() > 1
        assert "2025-09" in page.inner_text("#history")
        _screenshot(page, "web-unit")

        with page.expect_download() as download:
            page.click("#template-xlsx")
        template = tmp_path / download.value.suggested_filename
        download.value.save_as(template)
        assert template.name.startswith("bao-cao_20.SNV_")

        page.set_input_files("input[name=file]", str(fill(template, tmp_path / "bad.xlsx", 50)))
        page.click("#send-button")
        assert "chưa hợp lệ" in page.inner_text("#verdict")
        problems = page.inner_text("#problems")
        assert "C9" in problems and "tử số 50 lớn hơn mẫu số 10" in problems
        assert "numerator 50 is greater than denominator 10" in problems
        _screenshot(page, "web-verdict-broken")

        page.goto(link)
        good = fill(template, tmp_path / "good.xlsx")
        page.set_input_files("input[name=file]", str(good))
        page.click("#send-button")
        assert "hợp lệ, đã nhận" in page.inner_text("#verdict")
        sha256 = hashlib.sha256(good.read_bytes()).hexdigest()
        assert page.inner_text("#receipt-sha256") == sha256
        period = page.inner_text("#receipt-period")
        _screenshot(page, "web-receipt")

        page.goto(link)  # its history has both files, the broken one said as such
        sent = page.inner_text("#sent")
        assert sent.count("bad.xlsx") == 1 and sent.count("good.xlsx") == 1
        browser.close()

    # the next pipeline run loads the corrected file; the broken one is quarantined
    site.chiso("run", "--period", "2025-09")
    import duckdb

    conn = duckdb.connect(str(site.data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        loaded = conn.execute(
            "select period from raw.unit_report_files where file_sha256 = ?", [sha256]
        ).fetchall()
    finally:
        conn.close()
    assert loaded == [(period,)]
    assert any(path.name.endswith("_bad.xlsx") for path in (site.data / "quarantine").rglob("*"))


def test_the_province_page_lists_who_has_not_reported_with_the_reminder(site):
    """In the demo, one unit of Bắc Ninh (08) has not sent September 2025: its province's
    page lists it, with the overdue reminder it was sent."""
    from playwright.sync_api import sync_playwright

    from chiso.report import chromium

    site.chiso("calendar", "remind", "--on", "2025-10-20")  # the overdue reminders
    (path,) = (site.data / "reminders").glob("2025-10-20_*.json")
    reminders = [
        reminder
        for reminder in json.loads(path.read_text())["reminders"]
        if (reminder["period"], reminder["province_code"]) == ("2025-09", "08")
    ]
    assert reminders, "the demo leaves a unit of 08 without its September report"
    link = site.links(province="08")[""]
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{link}?period=2025-09")
        table = page.inner_text("#not-reported")
        _screenshot(page, "web-province")
        page.goto(f"{link}?period=2025-13")  # a month that is none: said, not a crash
        assert "2025-13" in page.inner_text("#refusal-en")
        browser.close()
    for reminder in reminders:
        assert reminder["unit_code"] in table
        assert " ".join(reminder["message_vi"].split()) in " ".join(table.split())


def _screenshot(page, name: str) -> None:
    if SCREENSHOTS:
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


# -- what must be refused --------------------------------------------------------------------


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def _send(link: str, name: str, data: bytes) -> tuple[int, str]:
    """A multipart upload as any HTTP client may send it (a browser would strip a path)."""
    boundary = "chisoboundary7d93"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(
        f"{link}/send",
        data=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, answer.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def _template(site: Site, link: str) -> bytes:
    with urllib.request.urlopen(f"{link}/template?period=2026-11", timeout=30) as answer:
        return answer.read()


def test_a_wrong_an_expired_or_a_revoked_link_is_refused(site):
    from chiso.web.links import UNIT, Links
    from warehouse.settings import load_settings

    link = site.links("20.STP")["20.STP"]
    assert _get(link)[0] == 200
    tampered = link[:-3] + ("abc" if not link.endswith("abc") else "xyz")
    status, text = _get(tampered)
    assert status == 403 and "Đường dẫn không hợp lệ" in text and "This link is not valid" in text

    os.environ["CHISO_DATA_DIR"] = str(site.data)  # the server's link key
    long_ago = datetime.now(UTC) - timedelta(days=400)
    token = Links(load_settings()).issue(UNIT, "20.STP", PROVINCE, now=long_ago)
    status, text = _get(f"{site.url}/u/{token}")
    assert status == 403 and "đã hết hạn" in text and "expired on" in text

    site.chiso("units", "revoke", link)
    status, text = _get(link)
    assert status == 403 and "đã bị thu hồi" in text and "revoked" in text
    assert _get(site.links("20.STP")["20.STP"])[0] == 200  # a new link works


def test_one_units_link_neither_reads_nor_sends_anothers_data(site, tmp_path):
    mine, theirs = site.links("20.STC")["20.STC"], site.links("20.SCT")["20.SCT"]
    status, page = _get(mine)
    assert status == 200 and "20.STC" in page and "20.SCT" not in page
    # the province's page is not a unit's: a unit's link does not open it
    assert _get(f"{site.url}/p/{mine.rsplit('/', 1)[1]}")[0] == 403

    their_file = _template(site, theirs)
    before = site.written()
    status, text = _send(mine, "report.xlsx", their_file)
    assert status == 403 and "20.SCT" in text and "không phải đơn vị của bạn" in text
    assert site.written() == before


@pytest.mark.parametrize(
    ("name", "size", "status", "said"),
    [
        ("big.xlsx", MAX_BYTES + 1, 413, "quá giới hạn"),
        ("../../outside.xlsx", 1000, 400, "đường dẫn thư mục"),
        ("..\\outside.xlsx", 1000, 400, "đường dẫn thư mục"),
        ("/etc/cron.d/x.xlsx", 1000, 400, "đường dẫn thư mục"),
    ],
)
def test_an_oversized_file_or_a_path_in_its_name_is_refused_and_nothing_written(
    site, name, size, status, said
):
    link = site.links("20.VP")["20.VP"]
    before = site.written()
    answer, text = _send(link, name, os.urandom(size))
    assert (answer, said in text) == (status, True), text[-500:]
    assert site.written() == before
    assert not (site.data.parent / "outside.xlsx").exists()


def test_a_flood_of_uploads_is_refused_past_the_hourly_limit(site):
    link = site.links("20.SCT")["20.SCT"]
    blank = _template(site, link)
    for _ in range(PER_HOUR):
        assert _send(link, "blank.xlsx", blank)[0] == 200
    before = site.written()
    status, text = _send(link, "blank.xlsx", blank)
    assert status == 429 and f"tối đa {PER_HOUR}" in text and f"at most {PER_HOUR}" in text
    assert site.written() == before
