"""The national benchmark's growth table and log–log plot, on timings given by hand."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from benchmarks.scaling import COSTS, growth, loglog_svg


def _result(scale, figures, build, gate, ingest=None):
    result = {"scale": scale, "figures": figures, "build": {"seconds": build}}
    result["gate"] = {"seconds": gate}
    if ingest is not None:
        result["monthly_run"] = {"seconds": ingest + build, "stages": {"ingest": ingest}}
    return result


def test_the_exponent_is_the_slope_of_time_against_figures():
    runs = [_result(1, 1_000_000, 10.0, 2.0, 5.0), _result(4, 4_000_000, 20.0, 8.0, 20.0)]
    (row,) = growth(runs)
    assert (row["from"], row["to"], row["figures_ratio"]) == ("1", "4", 4.0)
    assert row["dbt build"] == {"time_ratio": 2.0, "exponent": 0.5}
    assert row["gate (first publication)"]["exponent"] == pytest.approx(1.0)
    assert row["monthly run: ingest"]["exponent"] == pytest.approx(1.0)
    assert "SQL floor" not in row  # not measured: left out, never guessed


def test_the_plot_draws_each_measured_cost_on_log_axes():
    runs = [
        _result(1, 1e6, 10.0, 2.0),
        _result(4, 4e6, 20.0, 8.0),
        _result("national", 1.5e7, 60, 40),
    ]
    svg = ET.fromstring(loglog_svg(runs))
    lines = svg.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 2  # build and gate; nothing drawn for what was not measured
    labels = [text.text for text in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert COSTS[0][0] in labels and "10^6" in labels and "slope 1 (as the data)" in labels
    build = [tuple(map(float, p.split(","))) for p in lines[0].get("points").split()]
    assert build[0][0] < build[1][0] < build[2][0] and build[0][1] > build[2][1]  # up and right
