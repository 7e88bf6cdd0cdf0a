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

``content`` reads the marts into what the page shows, ``charts`` draws the SVG,
``templates/report.html`` lays the page out, ``browser`` prints it with Chromium.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from chiso.report.browser import ReportError, chromium, to_pdf, to_pdfs, to_png
from warehouse.settings import Settings

__all__ = ["ReportError", "build_report", "chromium", "to_pdf", "to_pdfs", "to_png", "write_report"]


@cache  # one Jinja environment for every province's report
def _template():
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return environment.get_template("report.html")


def build_report(settings: Settings, period: str, province_code: str) -> str:
    """The report's HTML for ``period`` and one province, from what is published."""
    from chiso.report import content
    from warehouse.backends import WarehouseError, open_warehouse

    try:
        with open_warehouse(settings).published() as conn:
            shown = content.read(conn, period, province_code, settings.timezone)
    except WarehouseError as error:
        raise ReportError(str(error)) from None
    return _template().render(vars(shown) | {"month": shown.month})


def write_report(settings: Settings, period: str, out_dir: Path, province_code: str) -> Path:
    """``<out>/bao_cao_<province>_<period>.html`` (written whole, then renamed in)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / f"bao_cao_{province_code}_{period}.html"
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(build_report(settings, period, province_code), encoding="utf-8")
    tmp.replace(target)
    return target
