"""The monthly report, rendered in headless Chromium: every chart present and non-empty."""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from chiso.report import chromium
from tests.helpers.project import VENV_BIN

pytestmark = pytest.mark.slow

MEASURE = """<script>
for (const chart of document.querySelectorAll('svg.chart')) {
  let area = 0, marks = 0;
  for (const mark of chart.querySelectorAll('.datum')) {
    const box = mark.getBBox();
    area += Math.max(box.width, 1) * Math.max(box.height, 1);
    marks += 1;
  }
  chart.setAttribute('data-rendered', marks + ':' + Math.round(area));
}
</script>"""


def chiso(data, *arguments):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data)
    return subprocess.run(
        [str(VENV_BIN / "chiso"), *arguments], env=env, capture_output=True, text=True
    )


@pytest.mark.skipif(chromium() is None, reason="Chromium not installed (./setup.sh installs it)")
def test_the_report_renders_every_chart_non_empty_in_chromium(demo, tmp_path):
    out = chiso(demo.data, "report", "--period", "2025-09", "--out", str(tmp_path), "--pdf")
    assert out.returncode == 0, out.stderr
    page = (tmp_path / "bao_cao_20_2025-09.html").read_text(encoding="utf-8")
    assert (tmp_path / "bao_cao_20_2025-09.pdf").read_bytes().startswith(b"%PDF")
    # self-contained: nothing is fetched from anywhere
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page
    sections = ("status-by-pillar", "trajectory", "ranking", "not-reported", "portal-766")
    for section in (*sections, "revisions", "outliers", "explained"):
        assert f'id="{section}' in page
    # the sample's corrections to August, its mistyped September figure, every provincial
    # target with the sentence that explains its status
    revisions = page[page.index('id="revisions"') : page.index('id="outliers"')]
    assert "08/2025</td><td>sửa</td>" in revisions
    assert "Sở Xây dựng tỉnh Lạng Sơn</b>" in page[page.index('id="outliers"') :]
    assert "so với mục tiêu" in page[page.index('id="explained"') :]
    # one report per province served; its first section counts every target by status
    # (no_units_registered included, when a group has no unit: every status has its row)
    import duckdb

    conn = duckdb.connect(str(demo.published), read_only=True)
    expected = conn.execute(
        "select province_code, status, count(distinct target_id), count(*) "
        "from target_progress group by all"
    ).fetchall()
    conn.close()
    assert {row[0] for row in expected} == {"20", "08", "14"}
    for province in ("20", "08", "14"):
        html = (tmp_path / f"bao_cao_{province}_2025-09.html").read_text(encoding="utf-8")
        for _, status, targets, pairs in (row for row in expected if row[0] == province):
            assert re.search(
                rf'<tr data-status="{status}"><td>[^<]+</td><td class=num>{targets}</td>'
                rf"<td class=num>{pairs}</td></tr>",
                html,
            ), (province, status)
    lang_son = (tmp_path / "bao_cao_20_2025-09.html").read_text(encoding="utf-8")
    merged = (
        "<li>Sở Thông tin và Truyền thông tỉnh Lạng Sơn (đến 28/02/2025) → "
        "Sở Khoa học và Công nghệ tỉnh Lạng Sơn</li>"
    )
    assert merged in lang_son  # a unit that ceased names its successor, is not ranked

    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    dom = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--virtual-time-budget=5000",
            "--dump-dom",
            probe.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    rendered = dict(re.findall(r'data-chart="([^"]+)"[^>]*data-rendered="([^"]+)"', dom))
    charts = re.findall(r'data-chart="([^"]+)"', page)
    assert set(rendered) == set(charts) and len(charts) >= 5
    assert {"status-by-pillar", "portal-766-trend", "ranking-department"} <= set(charts)
    assert any(name.startswith("trajectory-") for name in charts)
    for chart, measure in rendered.items():
        marks, area = map(int, measure.split(":"))
        assert marks > 0 and area > 0, f"{chart} rendered empty"


def test_a_report_for_a_month_not_published_says_which_is(demo, tmp_path):
    out = chiso(demo.data, "report", "--period", "2025-08", "--out", str(tmp_path))
    assert out.returncode == 1
    assert "published marts are as of 2025-09, not 2025-08" in out.stderr
