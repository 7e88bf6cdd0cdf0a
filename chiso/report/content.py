"""What the monthly report shows, read from the published marts (what BI tools see, so the
report shows exactly what passed the gate): the template's context, values ready to show
(Vietnamese labels, dates as dd/mm/yyyy, numbers with a decimal comma)."""

from __future__ import annotations

from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from chiso.report import charts
from chiso.report.browser import ReportError
from chiso.report.charts import STATUS_COLOUR, Chart, month_index, status_vi
from warehouse import reference

MISSING_VI = {"missing": "Chưa gửi", "rejected_only": "Đã gửi, bị trả lại (xem lỗi)"}
CHANGE_VI = {"revised": "sửa", "withdrawn": "rút", "added": "bổ sung"}


@dataclass
class StatusCount:
    status: str
    label: str
    targets: int
    pairs: int  # (target, unit) pairs


@dataclass
class Revision:
    unit: str
    indicator: str
    period: str  # MM/YYYY
    change: str
    old: str
    new: str
    received: str  # dd/mm/YYYY where chiso is


@dataclass
class Explained:
    status: str
    indicator: str
    label: str
    computed: str | None  # the computed status's label, when a person overrode it
    explanation: str


@dataclass
class FollowUp:
    since: str
    revisions: list[Revision]
    outliers: list[tuple[str, str, str]]  # unit, indicator, what to check
    explained: list[Explained]


@dataclass
class Content:
    province: str
    period: str
    published_at: str
    status_counts: list[StatusCount]
    status_chart: Chart
    trajectories: list[Chart]
    rankings: list[Chart]
    portal: Chart
    missing: list[tuple[str, str, int]]  # unit, reporting status, days late
    successors: list[tuple[str, str, str]] = field(default_factory=list)
    follow_up: FollowUp | None = None

    @property
    def month(self) -> str:
        return f"{self.period[5:7]}/{self.period[:4]}"


def read(conn, period: str, province_code: str, timezone: str) -> Content:
    """The report of one province for ``period`` from an open published connection."""
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
    by_pillar = conn.execute(
        "select i.pillar, p.status, count(*) from target_progress p "
        "join dim_indicator i on p.indicator_code = i.indicator_code "
        "where p.province_code = ? group by 1, 2",
        [province_code],
    ).fetchall()
    counts = conn.execute(
        "select status, count(distinct target_id), count(*) from target_progress "
        "where province_code = ? group by status",
        [province_code],
    ).fetchall()
    missing = conn.execute(
        "select unit_name_vi, reporting_status, days_late from reporting_completeness "
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
    return Content(
        province=province[0] if province else f"tỉnh {province_code}",
        period=period,
        published_at=str(conn.publication()["built_at"]),
        status_counts=_status_counts(counts),
        status_chart=Chart(
            "status-by-pillar",
            "Tình trạng thực hiện chỉ tiêu theo trụ cột",
            charts.status_by_pillar(by_pillar),
        ),
        trajectories=_trajectories(conn, province_code),
        rankings=_rankings(conn, province_code, period),
        portal=_portal_trend(conn, province_code),
        missing=[(name, MISSING_VI.get(s, s), days) for name, s, days in missing],
        successors=[(name, f"{to:%d/%m/%Y}", successor) for name, to, successor in ended],
        follow_up=_follow_up(conn, period, province_code, timezone),
    )


def _status_counts(counts: list[tuple[str, int, int]]) -> list[StatusCount]:
    """Targets and (target, unit) pairs by status, every status the catalog labels, in its
    order: a target with no registered unit is counted, never left out."""
    by_status = {status: (targets, pairs) for status, targets, pairs in counts}
    return [
        StatusCount(status, label, *by_status.get(status, (0, 0)))
        for status, label in status_vi().items()
    ]


def _follow_up(conn, period: str, province_code: str, timezone: str) -> FollowUp | None:
    """The sections after the charts: revisions, outliers, explained targets (a
    publication made before these marts existed has none of them)."""
    if "figure_outliers" not in conn.tables:
        return None
    revisions = conn.execute(
        "select u.unit_name_vi, i.name_vi, r.period, r.change_kind, r.old_value, r.new_value, "
        "r.new_received_at from figure_revisions r "
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
    labels, zone = status_vi(), ZoneInfo(timezone)

    def shown(value) -> str:
        return "—" if value is None else f"{value:.1f}".replace(".", ",")

    return FollowUp(
        since=f"01/{period[5:]}/{period[:4]}",
        revisions=[
            Revision(
                unit,
                indicator,
                f"{owed[5:]}/{owed[:4]}",
                CHANGE_VI[kind],
                shown(old),
                shown(new),
                f"{received.astimezone(zone):%d/%m/%Y}",
            )
            for unit, indicator, owed, kind, old, new, received in revisions
        ],
        outliers=outliers,
        explained=[
            Explained(
                status,
                indicator,
                labels.get(status, status),
                labels.get(computed, computed) if overridden else None,
                explanation,
            )
            for indicator, status, overridden, computed, explanation in explained
        ],
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
    out = []
    for target_id, unit_code, name, base_period, base_value, goal, deadline, status, kind in rows:
        figures = conn.execute(
            "select period, value from indicator_observations where unit_code = ? "
            "and is_selected and indicator_code = (select indicator_code from dim_target "
            "where target_id = ?) and period >= ? order by period",
            [unit_code, target_id, base_period],
        ).fetchall()
        deadline_period = f"{deadline.year:04d}-{deadline.month:02d}"
        start, end = month_index(base_period), month_index(deadline_period)
        series = {
            "Số liệu": [(month_index(p), v) for p, v in figures],
            "Lộ trình": [(start, base_value), (end, goal)],
        }
        svg = charts.line_chart(
            f"trajectory-{target_id}",
            series,
            {"Số liệu": STATUS_COLOUR[status], "Lộ trình": "#57606a"},
            {start: base_period, end: deadline_period},
            f"{name}: số liệu so với lộ trình",
            y_range=(0, 100) if kind == "ratio" else None,
            dashed=("Lộ trình",),
        )
        out.append(Chart("trajectory", f"{name} — {status_vi()[status]}", svg))
    return out


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
            charts.bars(f"ranking-{group}", bars, f"Điểm thi đua {group}"),
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
        "Tỉnh": [(month_index(p), own) for p, own, _ in rows if own is not None],
        "Trung bình cả nước": [(month_index(p), avg) for p, _, avg in rows],
    }
    labels = (
        {month_index(rows[0][0]): rows[0][0], month_index(rows[-1][0]): rows[-1][0]} if rows else {}
    )
    svg = charts.line_chart(
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
