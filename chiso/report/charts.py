"""The report's charts, drawn as inline SVG (no chart library, nothing from the network):
data in, one ``<svg>`` element out, each mark a ``.datum`` with its value as a title."""

from __future__ import annotations

import html
from dataclasses import dataclass

from markupsafe import Markup

from warehouse import reference

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


@dataclass
class Chart:
    key: str  # the report's section it belongs to
    title: str
    svg: Markup


def status_vi() -> dict[str, str]:
    return reference.labels("status")


def month_index(period: str) -> int:
    return int(period[:4]) * 12 + int(period[5:7]) - 1


def _svg(key: str, width: int, height: int, body: list[str], label: str) -> Markup:
    return Markup(
        f'<svg class="chart" data-chart="{key}" role="img" aria-label="{E(label)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="sans-serif" font-size="11">'
        + "".join(body)
        + "</svg>"
    )


def status_by_pillar(rows: list[tuple]) -> Markup:
    """Stacked horizontal bars: per pillar, targets × units by status."""
    labels = status_vi()
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
        for status in labels:
            if counts.get(status):
                w = (width - left - 60) * counts[status] / most
                body.append(
                    f'<rect class="datum" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar}" '
                    f'fill="{STATUS_COLOUR[status]}"><title>{E(labels[status])}: '
                    f"{counts[status]}</title></rect>"
                )
                x += w
        body.append(f'<text x="{x + 6:.1f}" y="{y + 15}">{sum(counts.values())}</text>')
    legend_y = height - 18
    x = left
    for status, name in labels.items():
        body.append(
            f'<rect x="{x}" y="{legend_y - 9}" width="10" height="10" '
            f'fill="{STATUS_COLOUR[status]}"/><text x="{x + 13}" y="{legend_y}">{E(name)}</text>'
        )
        x += 14 + 6.2 * len(name)
        if x > width - 90:
            break
    return _svg("status-by-pillar", width, height, body, "Tình trạng theo trụ cột")


def line_chart(
    key: str,
    series: dict[str, list[tuple[int, float]]],
    colours: dict[str, str],
    x_labels: dict[int, str],
    label: str,
    y_range: tuple[float, float] | None = None,
    dashed: tuple[str, ...] = (),
    width: int = 340,
    height: int = 190,
) -> Markup:
    """Lines over months (x: :func:`month_index`); a series of one point is a dot."""
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


def bars(key: str, rows: list[tuple[str, float, str]], label: str, maximum: float = 100) -> Markup:
    """Horizontal bars, one per (name, value, colour), on a scale to ``maximum``."""
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
