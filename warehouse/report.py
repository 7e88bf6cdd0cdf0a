"""The monthly report: one self-contained HTML page in Vietnamese, charts as inline SVG.

Read from the published file (what BI tools see), so the report shows exactly what passed
the gate. No script, no font or chart library from the network: every chart is SVG drawn
here, so the page opens offline, prints, and turns into PDF with headless Chromium.

Sections: status counts per pillar; each provincial target's figures against the straight
trajectory from its baseline to its target; the emulation ranking per unit group; units
that have not reported; the province's index-766 trend against the national average;
corrections to past months received since the month began; the figures to check with
their units (outliers); the province's own targets, each with the sentence that explains
its status (an overridden status marked, with who decided and why).
"""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from warehouse import reference
from warehouse.errors import ChisoError
from warehouse.settings import Settings

STATUS_COLOUR = {
    "achieved": "#1a7f37",
    "maintain": "#57ab5a",
    "on_track": "#2f81f7",
    "needs_acceleration": "#d29922",
    "off_track": "#e16f24",
    "deteriorating": "#cf222e",
    "not_achieved": "#8b0000",
    "insufficient_data": "#8c959f",
    "no_report": "#d0d7de",
    "unit_abolished": "#eaeef2",
    "no_units_registered": "#ffffff",
}
E = html.escape


def _status_vi() -> dict[str, str]:
    return reference.labels("status")


class ReportError(ChisoError):
    """The report cannot be made (nothing published, or not for that month)."""


@dataclass
class Chart:
    key: str
    title: str
    svg: str


def _svg(key: str, width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" data-chart="{key}" role="img" aria-label="{E(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        + "".join(body)
        + "</svg>"
    )


def _status_by_pillar(rows: list[tuple]) -> str:
    """Stacked horizontal bars: per pillar, targets × units by status."""
    pillars: dict[str, dict[str, int]] = {}
    for pillar, status, count in rows:
        pillars.setdefault(pillar, {})[status] = count
    width, left, bar, gap = 720, 130, 22, 10
    height = 40 + len(pillars) * (bar + gap) + 40
    body = []
    most = max((sum(counts.values()) for counts in pillars.values()), default=1)
    for index, (pillar, counts) in enumerate(sorted(pillars.items())):
        y = 20 + index * (bar + gap)
        body.append(
            f'<text x="{left - 8}" y="{y + 15}" text-anchor="end">'
            f"{E(reference.labels('pillar').get(pillar, pillar))}</text>"
        )
        x = left
        for status in _status_vi():
            if counts.get(status):
                w = (width - left - 60) * counts[status] / most
                body.append(
                    f'<rect class="datum" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{STATUS_COLOUR[status]}"><title>{E(_status_vi()[status])}: '
                    f"{counts[status]}</title></rect>"
                )
                x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(counts.values())}</text>')
    legend_y = height - 18
    x = left
    for status, name in _status_vi().items():
        body.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{STATUS_COLOUR[status]}"/><text x="{x + 13}" y="{legend_y}">{E(name)}</text>'
        )
        x += 14 + 6.2 * len(name)
        if x > width - 90:
            break
    return _svg("status-by-pillar", width, height, body, "Tình trạng theo trụ cột")


def _line_chart(
    key: str,
    series: dict[str, list[tuple[int, float]]],
    colours: dict[str, str],
    x_labels: dict[int, str],
    label: str,
    y_range: tuple[float, float] | None = None,
    dashed: tuple[str, ...] = (),
    width: int = 340,
    height: int = 190,
) -> str:
    points = [p for values in series.values() for p in values]
    if not points:
        return _svg(key, width, 40, ['<text x="10" y="25">Chưa có số liệu</text>'], label)
    xs = [x for x, _ in points]
    low, high = y_range or (min(y for _, y in points), max(y for _, y in points))
    if high == low:
        high = low + 1
    x0, x1, top, bottom = 44, width - 26, 12, height - 30

    def sx(x: float) -> float:
        return x0 + (x1 - x0) * (x - min(xs)) / ((max(xs) - min(xs)) or 1)

    def sy(y: float) -> float:
        return bottom - (bottom - top) * (y - low) / (high - low)

    body = [
        f'<line x1="{x0}" y1="{bottom}" x2="{x1}" y2="{bottom}" stroke="#8c959f"/>',
        f'<line x1="{x0}" y1="{top}" x2="{x0}" y2="{bottom}" stroke="#8c959f"/>',
        f'<text x="{x0 - 4}" y="{sy(high) + 4:.1f}" text-anchor="end">{high:g}</text>',
        f'<text x="{x0 - 4}" y="{sy(low) + 4:.1f}" text-anchor="end">{low:g}</text>',
    ]
    for x, text in x_labels.items():
        body.append(
            f'<text x="{sx(x):.1f}" y="{bottom + 16}" text-anchor="middle">{E(text)}</text>'
        )
    for name, values in series.items():
        path = " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in sorted(values))
        dash = ' stroke-dasharray="5,4"' if name in dashed else ""
        body.append(
            f'<polyline class="datum" points="{path}" fill="none" stroke="{colours[name]}" '
            f'stroke-width="2"{dash}><title>{E(name)}</title></polyline>'
        )
        if len(values) == 1:
            ((x, y),) = values
            body.append(
                f'<circle class="datum" cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" '
                f'fill="{colours[name]}"/>'
            )
    return _svg(key, width, height, body, label)


def _month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _bars(key: str, rows: list[tuple[str, float, str]], label: str, maximum: float = 100) -> str:
    width, left, bar, gap = 720, 300, 16, 6
    height = 10 + len(rows) * (bar + gap) + 10
    body = []
    for index, (name, value, colour) in enumerate(rows):
        y = 10 + index * (bar + gap)
        w = (width - left - 60) * max(value, 0) / maximum
        body.append(f'<text x="{left - 8}" y="{y + 12}" text-anchor="end">{E(name)}</text>')
        body.append(
            f'<rect class="datum" x="{left}" y="{y}" width="{max(w, 1):.1f}" height="{bar}" '
            f'fill="{colour}"><title>{E(name)}: {value:g}</title></rect>'
        )
        body.append(f'<text x="{left + w + 6:.1f}" y="{y + 12}">{value:g}</text>')
    return _svg(key, width, height, body, label)


def build_report(settings: Settings, period: str, province_code: str) -> str:
    """The report's HTML for ``period`` and one province, from what is published."""
    from warehouse.backends import WarehouseError, open_warehouse

    try:
        with open_warehouse(settings).published() as conn:
            return _build(conn, period, province_code, settings.timezone)
    except WarehouseError as error:
        raise ReportError(str(error)) from None


def _build(conn, period: str, province_code: str, timezone: str) -> str:
    as_of = conn.execute("select max(as_of_period) from target_progress").fetchone()[0]
    if as_of != period:
        raise ReportError(
            f"the published marts are as of {as_of}, not {period}: run "
            f"chiso run --period {period} (or report {as_of})"
        )
    province = conn.execute(
        "select name_vi from dim_admin_unit where scheme = 'post_2025' and level = 'province' "
        "and code = ?",
        [province_code],
    ).fetchone()
    province_name = province[0] if province else f"tỉnh {province_code}"
    charts = [
        Chart(
            "status-by-pillar",
            "Tình trạng thực hiện chỉ tiêu theo trụ cột",
            _status_by_pillar(
                conn.execute(
                    "select i.pillar, p.status, count(*) from target_progress p "
                    "join dim_indicator i on p.indicator_code = i.indicator_code "
                    "where p.province_code = ? group by 1, 2",
                    [province_code],
                ).fetchall()
            ),
        )
    ]
    counts = conn.execute(
        "select status, count(distinct target_id), count(*) from target_progress "
        "where province_code = ? group by status",
        [province_code],
    ).fetchall()
    charts += _trajectories(conn, province_code)
    charts += _rankings(conn, province_code, period)
    charts.append(_portal_trend(conn, province_code))
    missing = conn.execute(
        "select unit_name_vi, period, reporting_status, days_late from reporting_completeness "
        "where province_code = ? and reporting_status in ('missing', 'rejected_only') "
        "and period = ? order by days_late desc, unit_name_vi",
        [province_code, period],
    ).fetchall()
    ended = conn.execute(
        "select ended.unit_name_vi, ended.valid_to_on, successor.unit_name_vi "
        "from dim_unit as ended join dim_unit as successor "
        "on ended.successor_unit_code = successor.unit_code "
        "where ended.served_province_code = ? and ended.unit_group in ('department', 'province') "
        "and ended.valid_to_on < cast(? as date) order by ended.valid_to_on, 1",
        [province_code, f"{period}-01"],
    ).fetchall()
    published_at = conn.publication()["built_at"]
    follow_up = _follow_up(conn, period, province_code, timezone)
    return _page(province_name, period, charts, missing, published_at, counts, ended, follow_up)


def _follow_up(conn, period: str, province_code: str, timezone: str) -> list[str]:
    """The sections after the charts: revisions, outliers, explained targets (a
    publication made before these marts existed has none of them)."""
    if "figure_outliers" not in conn.tables:
        return []
    revisions = conn.execute(
        "select u.unit_name_vi, i.name_vi, r.period, r.change_kind, r.old_value, r.new_value, "
        "r.new_received_at from fct_figure_revisions r "
        "join dim_unit u on r.unit_code = u.unit_code "
        "join dim_indicator i on r.indicator_code = i.indicator_code "
        "where u.served_province_code = ? and r.is_counting and r.period < ? "
        "and r.new_received_at >= cast(? as date) order by r.period, 1, 2",
        [province_code, period, f"{period}-01"],
    ).fetchall()
    outliers = conn.execute(
        "select o.unit_name_vi, i.name_vi, o.follow_up_vi from figure_outliers o "
        "join dim_indicator i on o.indicator_code = i.indicator_code "
        "where o.province_code = ? and o.is_outlier order by 1, 2",
        [province_code],
    ).fetchall()
    explained = conn.execute(
        "select i.name_vi, p.status, p.is_status_overridden, p.computed_status, p.explanation_vi "
        "from target_progress p join dim_indicator i on p.indicator_code = i.indicator_code "
        "where p.province_code = ? and (p.unit_group = 'province' or p.is_status_overridden) "
        "order by p.is_status_overridden desc, p.deadline_on, 1",
        [province_code],
    ).fetchall()
    return [_revisions(revisions, period, timezone), _outliers(outliers), _explained(explained)]


def _revisions(rows: list[tuple], period: str, timezone: str) -> str:
    """Corrections received since the month began; the day received where chiso is."""
    from zoneinfo import ZoneInfo

    change_vi = {"revised": "sửa", "withdrawn": "rút", "added": "bổ sung"}

    def shown(value) -> str:
        return "—" if value is None else f"{value:.1f}".replace(".", ",")

    body = (
        "".join(
            f"<tr><td>{E(unit)}</td><td>{E(indicator)}</td><td>{owed[5:]}/{owed[:4]}</td>"
            f"<td>{change_vi[kind]}</td><td class=num>{shown(old)} → {shown(new)}</td>"
            f"<td>{received.astimezone(ZoneInfo(timezone)):%d/%m/%Y}</td></tr>"
            for unit, indicator, owed, kind, old, new, received in rows
        )
        or "<tr><td colspan=6>Không có số liệu tháng trước được sửa.</td></tr>"
    )
    return (
        '<section id="revisions"><h2>6. Sửa đổi số liệu các tháng trước</h2>'
        f"<p>Bản sửa nhận từ 01/{period[5:]}/{period[:4]} cho các kỳ trước; bản nhận sau "
        "cùng được tính.</p><table><thead><tr><th>Đơn vị</th><th>Chỉ tiêu</th><th>Kỳ</th>"
        "<th></th><th>Cũ → mới</th><th>Ngày nhận</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )


def _outliers(rows: list[tuple]) -> str:
    items = "".join(
        f"<li><b>{E(unit)}</b> — {E(indicator)}: {E(line)}</li>" for unit, indicator, line in rows
    )
    return (
        '<section id="outliers"><h2>7. Số liệu cần đơn vị kiểm tra lại</h2>'
        + (f"<ul>{items}</ul>" if items else "<p>Không có số liệu bất thường kỳ này.</p>")
        + "<p class=meta>So với lịch sử của chính chuỗi số liệu (mức thay đổi hằng tháng và "
        "khoảng thường gặp); chỉ để kiểm tra, không tự loại số liệu.</p></section>"
    )


def _explained(rows: list[tuple]) -> str:
    labels = _status_vi()
    body = (
        "".join(
            f'<tr data-status="{status}"{" class=overridden" if overridden else ""}>'
            f"<td>{E(indicator)}</td><td>{E(labels.get(status, status))}"
            + (
                f" <b>(điều chỉnh; tính toán: {E(labels.get(computed, computed))})</b>"
                if overridden
                else ""
            )
            + f"</td><td>{E(explanation)}</td></tr>"
            for indicator, status, overridden, computed, explanation in rows
        )
        or "<tr><td colspan=3>Không có chỉ tiêu cấp tỉnh.</td></tr>"
    )
    return (
        '<section id="explained"><h2>8. Chỉ tiêu cấp tỉnh: tình trạng và lý do</h2>'
        "<table><thead><tr><th>Chỉ tiêu</th><th>Tình trạng</th><th>Vì sao</th></tr></thead>"
        f"<tbody>{body}</tbody></table></section>"
    )


def _trajectories(conn, province_code: str) -> list[Chart]:
    rows = conn.execute(
        "select p.target_id, p.unit_code, i.name_vi, p.baseline_period, p.baseline_value, "
        "p.target_value, p.deadline_on, p.status, i.kind from target_progress p "
        "join dim_indicator i using (indicator_code) "
        "where p.unit_code = ? and p.observation_count >= 2 and not p.is_deadline_passed "
        "order by p.deadline_on, p.target_id",
        [province_code],
    ).fetchall()
    charts = []
    for target_id, unit_code, name, base_period, base_value, goal, deadline, status, kind in rows:
        figures = conn.execute(
            "select period, value from fct_indicator_observations where unit_code = ? "
            "and is_selected and indicator_code = (select indicator_code from dim_target "
            "where target_id = ?) and period >= ? order by period",
            [unit_code, target_id, base_period],
        ).fetchall()
        deadline_period = f"{deadline.year:04d}-{deadline.month:02d}"
        start, end = _month_index(base_period), _month_index(deadline_period)
        series = {
            "Số liệu": [(_month_index(p), v) for p, v in figures],
            "Lộ trình": [(start, base_value), (end, goal)],
        }
        svg = _line_chart(
            f"trajectory-{target_id}",
            series,
            {"Số liệu": STATUS_COLOUR[status], "Lộ trình": "#57606a"},
            {start: base_period, end: deadline_period},
            f"{name}: số liệu so với lộ trình",
            y_range=(0, 100) if kind == "ratio" else None,
            dashed=("Lộ trình",),
        )
        charts.append(Chart("trajectory", f"{name} — {_status_vi()[status]}", svg))
    return charts


def _rankings(conn, province_code: str, period: str) -> list[Chart]:
    rows = conn.execute(
        "select unit_group, unit_name_vi, score from unit_scorecard "
        "where province_code = ? and period = ? order by unit_group, group_rank",
        [province_code, period],
    ).fetchall()
    groups: dict[str, list[tuple[str, float, str]]] = {}
    for group, name, score in rows:
        groups.setdefault(group, []).append((name, score, "#2f81f7"))
    return [
        Chart(
            "ranking",
            f"Xếp hạng thi đua — {reference.labels('unit_group').get(group, group)}",
            _bars(f"ranking-{group}", bars, f"Điểm thi đua {group}"),
        )
        for group, bars in groups.items()
    ]


def _portal_trend(conn, province_code: str) -> Chart:
    rows = conn.execute(
        "select period, avg(total_score) filter (where province_code = ?), avg(total_score) "
        "from portal_766_scores where period_kind = 'month' and unit_kind = 'province' "
        "group by period order by period",
        [province_code],
    ).fetchall()
    series = {
        "Tỉnh": [(_month_index(p), own) for p, own, _ in rows if own is not None],
        "Trung bình cả nước": [(_month_index(p), avg) for p, _, avg in rows],
    }
    labels = (
        {_month_index(rows[0][0]): rows[0][0], _month_index(rows[-1][0]): rows[-1][0]}
        if rows
        else {}
    )
    svg = _line_chart(
        "portal-766-trend",
        series,
        {"Tỉnh": "#cf222e", "Trung bình cả nước": "#57606a"},
        labels,
        "Chỉ số 766 theo tháng",
        y_range=(0, 100),
        dashed=("Trung bình cả nước",),
        width=720,
        height=220,
    )
    return Chart("portal-766-trend", "Chỉ số phục vụ người dân, doanh nghiệp (766) theo tháng", svg)


def _status_table(counts: list[tuple[str, int, int]]) -> str:
    """Targets and (target, unit) pairs by status, every status the catalog labels, in its
    order: a target with no registered unit is counted, never left out."""
    by_status = {status: (targets, pairs) for status, targets, pairs in counts}
    rows = "".join(
        f'<tr data-status="{status}"><td>{E(label)}</td>'
        f"<td class=num>{by_status.get(status, (0, 0))[0]}</td>"
        f"<td class=num>{by_status.get(status, (0, 0))[1]}</td></tr>"
        for status, label in _status_vi().items()
    )
    return (
        '<table class="status-counts"><thead><tr><th>Tình trạng</th><th>Chỉ tiêu</th>'
        f"<th>Lượt đơn vị × chỉ tiêu</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _successors(ended: list[tuple]) -> str:
    """Units that ceased (not ranked after they ceased) and the unit that took over."""
    if not ended:
        return ""
    items = "".join(
        f"<li>{E(name)} (đến {valid_to:%d/%m/%Y}) → {E(successor)}</li>"
        for name, valid_to, successor in ended
    )
    return (
        '<div class="successors"><p>Đơn vị đã kết thúc hoạt động, không xếp hạng từ sau ngày '
        f"kết thúc; đơn vị kế thừa:</p><ul>{items}</ul></div>"
    )


def _page(
    province: str,
    period: str,
    charts: list[Chart],
    missing,
    published_at,
    counts,
    ended=(),
    follow_up=(),
) -> str:
    month = f"{period[5:7]}/{period[:4]}"
    sections = []
    grouped: dict[str, list[Chart]] = {}
    for chart in charts:
        grouped.setdefault(chart.key, []).append(chart)
    headings = {
        "status-by-pillar": "1. Tình trạng thực hiện chỉ tiêu",
        "trajectory": "2. Chỉ tiêu cấp tỉnh so với lộ trình",
        "ranking": "3. Xếp hạng thi đua",
        "portal-766-trend": "5. Chỉ số 766",
    }
    for key in ("status-by-pillar", "trajectory", "ranking"):
        figures = (
            "".join(
                f"<figure><figcaption>{E(c.title)}</figcaption>{c.svg}</figure>"
                for c in grouped.get(key, [])
            )
            or "<p>Chưa có chỉ tiêu đang thực hiện có đủ số liệu.</p>"
        )
        layout = "grid" if key == "trajectory" else "column"
        table = _status_table(counts) if key == "status-by-pillar" else ""
        note = _successors(list(ended)) if key == "ranking" else ""
        sections.append(
            f'<section id="{key}"><h2>{headings[key]}</h2>{table}'
            f'<div class="{layout}">{figures}</div>{note}</section>'
        )
    table = (
        "".join(
            f"<tr><td>{E(name)}</td><td>{E(STATUS_MISSING.get(status, status))}</td>"
            f"<td class=num>{days}</td></tr>"
            for name, _, status, days in missing
        )
        or "<tr><td colspan=3>Tất cả đơn vị đã báo cáo.</td></tr>"
    )
    sections.append(
        '<section id="not-reported"><h2>4. Đơn vị chưa báo cáo kỳ này</h2>'
        "<table><thead><tr><th>Đơn vị</th><th>Tình trạng</th><th>Số ngày trễ</th></tr></thead>"
        f"<tbody>{table}</tbody></table></section>"
    )
    portal = grouped["portal-766-trend"][0]
    sections.append(
        f'<section id="portal-766-trend"><h2>{headings["portal-766-trend"]}</h2>'
        f"<figure><figcaption>{E(portal.title)}</figcaption>{portal.svg}</figure>"
        "</section>"
    )
    sections += follow_up
    return f"""<!DOCTYPE html>
<html lang="vi"><head><meta charset="utf-8">
<title>Báo cáo chuyển đổi số tháng {month} — {E(province)}</title>
<style>
body {{ font-family: sans-serif; margin: 24px auto; max-width: 760px; color: #1f2328; }}
h1 {{ font-size: 22px; }} h2 {{ font-size: 17px; border-bottom: 1px solid #d0d7de; }}
.grid {{ display: flex; flex-wrap: wrap; gap: 12px; }}
figure {{ margin: 0 0 12px 0; max-width: 740px; }} .grid figure {{ width: 350px; }}
figcaption {{ font-size: 12px; font-weight: bold; }}
table {{ border-collapse: collapse; width: 100%; font-size: 13px; }}
td, th {{ border-bottom: 1px solid #d0d7de; padding: 4px; text-align: left; }}
.num {{ text-align: right; }} .meta {{ color: #57606a; font-size: 12px; }}
tr.overridden td {{ background: #fff8c5; }}
</style></head><body>
<h1>Báo cáo chuyển đổi số tháng {month} — {E(province)}</h1>
<p class="meta">Số liệu đã qua kiểm tra chất lượng, công bố lúc {E(str(published_at))}.
Digital-transformation report, {period}: published marts only.</p>
{"".join(sections)}
</body></html>
"""


STATUS_MISSING = {"missing": "Chưa gửi", "rejected_only": "Đã gửi, bị trả lại (xem lỗi)"}


def write_report(settings: Settings, period: str, out_dir: Path, province_code: str) -> Path:
    """``<out>/bao_cao_<province>_<period>.html`` (written whole, then renamed in)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"bao_cao_{province_code}_{period}.html"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(build_report(settings, period, province_code), encoding="utf-8")
    tmp.replace(target)
    return target


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def _headless(*arguments: str) -> subprocess.CompletedProcess:
    browser = chromium()
    if browser is None:
        raise ReportError("this needs Chromium (apt-get install chromium); the HTML is written")
    # a profile of its own: two at once must not meet in one (the second would hand its
    # page to the first and exit); no background connections (none reach out of here)
    with tempfile.TemporaryDirectory(
        prefix="chiso-chromium-", ignore_cleanup_errors=True
    ) as profile:
        try:
            return _run_browser(browser, profile, arguments)
        except subprocess.CalledProcessError as error:
            raise ReportError(
                f"Chromium failed (exit {error.returncode}): {error.stderr.strip()[-500:]}"
            ) from None
        except (OSError, subprocess.TimeoutExpired) as error:
            raise ReportError(f"Chromium could not run: {error}") from None


def _run_browser(browser: str, profile: str, arguments: tuple[str, ...]):
    return subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            *arguments,
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )


def to_png(html_path: Path, width: int = 800, height: int = 3400) -> Path:
    """A screenshot of the report (headless Chromium), beside the HTML."""
    png = html_path.with_suffix(".png")
    _headless(
        f"--window-size={width},{height}", f"--screenshot={png}", html_path.resolve().as_uri()
    )
    return png


def to_pdf(html_path: Path) -> Path:
    """Print the report to PDF with headless Chromium (Debian's chromium package)."""
    pdf = html_path.with_suffix(".pdf")
    _headless("--no-pdf-header-footer", f"--print-to-pdf={pdf}", html_path.resolve().as_uri())
    return pdf


def to_pdfs(html_paths: list[Path]) -> list[Path]:
    """:func:`to_pdf` for several reports, one Chromium per core at a time (a report's
    print is about a second and a half of one core: 34 provinces took 89 s one by one)."""
    workers = max(1, min(len(html_paths), len(os.sched_getaffinity(0))))
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(to_pdf, html_paths))
