"""The demo's marts, row by row, as they were when last reviewed (marts.json beside this
file: each mart's row count and a digest of its sorted rows, the columns a run stamps left
out). A refactoring of the dbt project, or of the code that loads what it reads, leaves
every mart as it was; a change meant to change marts records them again in the same
commit (``python -m tests.helpers.marts <the demo's published file>``), so its review
shows which marts moved. test_backends.py shows PostgreSQL publishes the same rows as
DuckDB: together, the marts hold on both engines."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.marts import digests

RECORDED = Path(__file__).with_name("marts.json")


@pytest.mark.slow
def test_every_mart_of_the_demo_is_as_recorded(demo):
    recorded = json.loads(RECORDED.read_text(encoding="utf-8"))
    found = digests(demo.published)
    assert sorted(found) == sorted(recorded), "marts added or gone: record them again"
    moved = {
        mart: {"recorded": recorded[mart], "now": found[mart]}
        for mart in recorded
        if found[mart] != recorded[mart]
    }
    assert not moved, f"these marts changed: {json.dumps(moved, indent=1)}"
