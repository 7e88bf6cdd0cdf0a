"""Every clerk case through the reader: the exact cell, both languages, the figures read."""

from __future__ import annotations

import pytest

from ingest.sources.unit_files import read_report
from tests.helpers.clerk_cases import CASES, RECEIVED_ON, Case


def _said(problem) -> tuple:
    return problem.cell, problem.message_en, problem.message_vi


def check_report(case: Case, report) -> None:
    """What the reader (or the inbox, re-reading the file) must make of a case."""
    if case.rejected:
        assert not report.is_valid, f"{case.name} was accepted"
        located = [p for p in report.errors if p.cell == case.rejected.cell]
        assert located, f"{case.name}: no error at {case.rejected.cell}: {report.errors}"
        assert any(
            case.rejected.en in p.message_en and case.rejected.vi in p.message_vi for p in located
        ), [_said(p) for p in located]
        return
    assert report.errors == [], f"{case.name}: {[str(p) for p in report.errors]}"
    assert (report.unit_code, report.period, report.sheet) == (case.unit, case.period, case.sheet)
    for said in case.warnings:
        assert any(
            p.cell == said.cell and said.en in p.message_en and said.vi in p.message_vi
            for p in report.warnings
        ), [_said(p) for p in report.warnings]
    if not case.warnings:
        assert report.warnings == [], [str(p) for p in report.warnings]
    rows = {row.indicator_code: (row.numerator, row.denominator, row.value) for row in report.rows}
    for code, figures in case.figures.items():
        assert rows[code] == figures, (code, rows[code])


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_the_reader_gives_each_clerk_file_its_one_verdict(case, tmp_path):
    check_report(case, read_report(case.make(tmp_path), received_on=RECEIVED_ON))


def test_docs_report_files_lists_every_case_with_the_readers_own_message(tmp_path):
    from tests.helpers.clerk_cases import DOC, doc_block

    assert doc_block(tmp_path) in DOC.read_text(encoding="utf-8"), (
        "docs/REPORT_FILES.md is out of date: run python -m tests.helpers.clerk_cases"
    )
