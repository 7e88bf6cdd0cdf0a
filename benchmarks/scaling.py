"""How the national benchmark's costs grow with the data: exponents and a log–log plot.

``python -m benchmarks national --scale 1,4,national --plot docs/scaling.svg`` runs the
scales one after another on the same machine and ends with the exponent of each cost
against the figures between successive scales (1.0: the cost grows as the data; the goal is
at most that), and draws each cost against the figures on log–log axes as an SVG file.
"""

from __future__ import annotations

import math
from html import escape

# (label, where it is in one scale's result)
COSTS = (
    ("dbt build", ("build", "seconds")),
    ("gate (first publication)", ("gate", "seconds")),
    ("SQL floor", ("floor", "seconds")),
    ("first publication, end to end", ("first_run", "seconds")),
    ("monthly run, end to end", ("monthly_run", "seconds")),
    ("monthly run: ingest", ("monthly_run", "stages", "ingest")),
)
COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b")


def _cost(result: dict, path: tuple[str, ...]) -> float | None:
    value: object = result
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return float(value) if isinstance(value, int | float) and value > 0 else None


def growth(results: list[dict]) -> list[dict]:
    """For each pair of successive scales: the ratio of figures and, per cost, the ratio of
    times and the exponent log(time ratio) / log(figures ratio)."""
    rows = []
    for small, large in zip(results, results[1:], strict=False):
        figures = large["figures"] / small["figures"]
        row: dict = {
            "from": str(small["scale"]),
            "to": str(large["scale"]),
            "figures_ratio": round(figures, 2),
        }
        for label, path in COSTS:
            before, after = _cost(small, path), _cost(large, path)
            if before and after and figures > 1:
                row[label] = {
                    "time_ratio": round(after / before, 2),
                    "exponent": round(math.log(after / before) / math.log(figures), 2),
                }
        rows.append(row)
    return rows


def loglog_svg(results: list[dict], width: int = 640, height: int = 420) -> str:
    """Each cost against the figures, both axes logarithmic, one line per cost, with a
    dashed line of slope 1 (cost growing as the data) through the first build."""
    left, right, top, bottom = 70, 210, 20, 50
    points = {
        label: [
            (result["figures"], cost)
            for result in results
            if (cost := _cost(result, path)) is not None
        ]
        for label, path in COSTS
    }
    xs = [x for series in points.values() for x, _ in series]
    ys = [y for series in points.values() for _, y in series]
    if not xs:
        raise ValueError("no timings to plot")
    x0, x1 = math.floor(math.log10(min(xs))), math.ceil(math.log10(max(xs)))
    y0, y1 = math.floor(math.log10(min(ys))), math.ceil(math.log10(max(ys)))
    x1, y1 = max(x1, x0 + 1), max(y1, y0 + 1)
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(x: float) -> float:
        return left + (math.log10(x) - x0) / (x1 - x0) * plot_w

    def py(y: float) -> float:
        return top + plot_h - (math.log10(y) - y0) / (y1 - y0) * plot_h

    body = [
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#999"/>'
    ]
    for power in range(x0, x1 + 1):
        x = px(10**power)
        body.append(
            f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" stroke="#eee"/>'
        )
        body.append(
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle">10^{power}</text>'
        )
    for power in range(y0, y1 + 1):
        y = py(10**power)
        body.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" stroke="#eee"/>'
        )
        body.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{10**power:g} s</text>'
        )
    body.append(
        f'<text x="{left + plot_w / 2}" y="{height - 12}" text-anchor="middle">'
        "figures in the warehouse (60 months)</text>"
    )
    build = points[COSTS[0][0]]
    if build:
        (fx, fy) = build[0]
        ex = max(xs)
        body.append(
            f'<line x1="{px(fx):.1f}" y1="{py(fy):.1f}" x2="{px(ex):.1f}" '
            f'y2="{py(fy * ex / fx):.1f}" stroke="#555" stroke-dasharray="4 3"/>'
        )
    legend_y = top + 10
    for (label, series), colour in zip(points.items(), COLOURS, strict=True):
        if not series:
            continue
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in series)
        body.append(f'<polyline points="{line}" fill="none" stroke="{colour}" stroke-width="2"/>')
        body += [
            f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill="{colour}"/>' for x, y in series
        ]
        body.append(
            f'<rect x="{width - right + 12}" y="{legend_y - 8}" width="10" height="10" '
            f'fill="{colour}"/>'
        )
        body.append(f'<text x="{width - right + 28}" y="{legend_y + 1}">{escape(label)}</text>')
        legend_y += 18
    body.append(
        f'<line x1="{width - right + 12}" y1="{legend_y - 3}" x2="{width - right + 22}" '
        f'y2="{legend_y - 3}" stroke="#555" stroke-dasharray="4 3"/>'
    )
    body.append(f'<text x="{width - right + 28}" y="{legend_y + 1}">slope 1 (as the data)</text>')
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">'
        + "".join(body)
        + "</svg>\n"
    )
