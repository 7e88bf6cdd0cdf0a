"""A correction of a month already published, end to end: two monthly closes, each
snapshotted; the revision is in figure_revisions with both files, ``chiso snapshot
diff`` names it, and the next month's report shows it. The second close also carries a
status decided by seed status_overrides: marked in the marts and the report."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime

import duckdb
import pytest

from chiso.cli import main
from chiso.pipeline import run
from chiso.samples.report_files import generate
from chiso.snapshot import SnapshotError, snapshot
from chiso.snapshot_diff import diff
from ingest.sources.unit_files import read_report
from tests.helpers.clerk_files import received
from tests.helpers.data import set_csv_cell

pytestmark = pytest.mark.slow
QUIET = lambda _: None  # noqa: E731
OVERRIDDEN = "ls_kh226_2021__work_record_online_rate__department"
REASON = "số liệu tháng 7 đang được xác minh lại"
DECIDED_BY = "Hội đồng Thi đua - Khen thưởng tỉnh"


@pytest.fixture(scope="module")
def two_closes(tmp_path_factory):
    """August 2025 closed and snapshotted; then a department's July report corrected
    (received on 10 September), a status override added to the seeds, and September
    closed and snapshotted."""
    import os

    from tests.helpers.project import TEST_PROVINCES
    from warehouse.settings import load_settings

    root = tmp_path_factory.mktemp("revisions")
    saved = {k: v for k, v in os.environ.items() if k.startswith("CHISO_")}
    try:
        for name in saved:
            del os.environ[name]
        os.environ.update(CHISO_DATA_DIR=str(root / "data"), CHISO_PROVINCES=TEST_PROVINCES)
        settings = load_settings()
        settings.ensure_dirs()
        made = generate(root / "made", start="2025-05", end="2025-08")
        for path in made:
            shutil.copy2(path, settings.inbox_dir / path.name)
        run("2025-08", settings, log=QUIET)
        snapshot(settings, "2025-08", log=QUIET)

        july = next(
            p for p in made if p.name.startswith("bao_cao_20.S") and "2025-07.csv" in p.name
        )
        original = read_report(july)
        corrected = settings.inbox_dir / july.name.replace(".csv", " (ban sua).csv")
        first = original.rows[0]
        new_numerator = first.numerator - 7 if first.numerator >= 7 else first.numerator + 7
        set_csv_cell(july, corrected, "C9", str(new_numerator))
        received(corrected, datetime(2025, 9, 10, 3, tzinfo=UTC))
        project = root / "dbt_project"
        shutil.copytree(
            settings.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
        )
        with open(project / "seeds" / "status_overrides.csv", "a", encoding="utf-8") as seed:
            seed.write(
                f"{OVERRIDDEN},{original.unit_code},insufficient_data,{REASON},{DECIDED_BY},2025-10-02\n"
            )
        os.environ["CHISO_DBT_PROJECT_DIR"] = str(project)
        settings = load_settings()
        for path in generate(root / "sep", start="2025-09", end="2025-09"):
            shutil.copy2(path, settings.inbox_dir / path.name)
        run("2025-09", settings, log=QUIET)
        snapshot(settings, "2025-09", log=QUIET)
        yield settings, original, july.name, corrected.name, new_numerator
    finally:
        for name in [k for k in os.environ if k.startswith("CHISO_")]:
            del os.environ[name]
        os.environ.update(saved)


def test_the_revisions_mart_holds_the_correction_with_both_files(two_closes):
    settings, original, old_name, new_name, new_numerator = two_closes
    first = original.rows[0]
    conn = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        rows = conn.execute(
            "select unit_code, indicator_code, period, change_kind, old_numerator, "
            "new_numerator, old_denominator, new_denominator, old_file_name, new_file_name, "
            "old_received_at < new_received_at, is_counting, "
            "round(new_value, 6) = round(100.0 * new_numerator / new_denominator, 6) "
            "from figure_revisions"
        ).fetchall()
    finally:
        conn.close()
    assert (
        original.unit_code,
        first.indicator_code,
        "2025-07",
        "revised",
        first.numerator,
        new_numerator,
        first.denominator,
        first.denominator,
        old_name,
        new_name,
        True,
        True,
        True,
    ) in rows
    # the corrected file's other figures were sent again unchanged: no revision
    assert [r for r in rows if r[0] == original.unit_code and r[2] == "2025-07"] == [
        r for r in rows if r[1] == first.indicator_code and r[0] == original.unit_code
    ]


def test_the_gate_of_the_close_reads_the_corrected_month_and_the_as_of_month(two_closes):
    """September's gate re-checks row by row only what changed since August's publication:
    July (the correction) and September; the months in between are compared by their row
    counts and hashes."""
    settings, *_ = two_closes
    gate = json.loads((settings.gate_dir / "latest.json").read_text(encoding="utf-8"))
    assert gate["period"] == "2025-09" and gate["passed"]
    (ratio,) = [c for c in gate["checks"] if c["check"] == "ratio_numerator_le_denominator"]
    assert ratio["detail"] == (
        "passed (rows of the 2 of 5 period values changed since the last publication, which "
        "passed these checks: 2025-07, 2025-09)"
    )


def test_snapshot_diff_names_what_the_newer_close_changed_in_history(two_closes, capsys):
    settings, original, old_name, new_name, new_numerator = two_closes
    first = original.rows[0]
    result = diff(settings.snapshot_dir, "2025-08", "2025-09")
    revised = [
        r for r in result.figures if r[:3] == (original.unit_code, first.indicator_code, "2025-07")
    ]
    assert len(revised) == 1
    _, _, _, change, old_value, new_value, old_file, new_file = revised[0]
    assert change == "revised" and (old_file, new_file) == (old_name, new_name)
    assert old_value == pytest.approx(100 * first.numerator / first.denominator)
    assert new_value == pytest.approx(100 * new_numerator / first.denominator)
    # September's own figures are not history; every revised figure is of August or before
    assert all(r[2] <= "2025-08" for r in result.figures)
    # statuses and ranks: the two closes are a month apart, each difference is a real one
    assert all(old != new for *_, old, new in result.statuses)
    assert all(old != new for *_, old, new in result.ranks)

    assert main(["snapshot", "diff", "2025-08", "2025-09", "--limit", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("snapshot 2025-09 against 2025-08: ")
    assert f"{original.unit_code} | {first.indicator_code} | 2025-07 | revised" in out
    assert main(["snapshot", "diff", "2025-09", "2025-08"]) == 1
    assert "is not before" in capsys.readouterr().err
    with pytest.raises(
        SnapshotError, match=r"no snapshot of 2025-07 .*there are: 2025-08, 2025-09"
    ):
        diff(settings.snapshot_dir, "2025-07", "2025-09")


def test_snapshot_diff_reads_a_snapshot_made_before_its_marts_were_renamed(two_closes, tmp_path):
    """A snapshot from before docs/MARTS.md's "Names" holds fct_indicator_observations."""
    settings, *_ = two_closes
    copied = tmp_path / "snapshots"
    shutil.copytree(settings.snapshot_dir, copied)
    older = copied / "2025-08"
    (older / "indicator_observations.parquet").rename(older / "fct_indicator_observations.parquet")
    result = diff(copied, "2025-08", "2025-09")
    assert result.figures == diff(settings.snapshot_dir, "2025-08", "2025-09").figures != []


def test_an_override_is_marked_in_the_marts_and_the_report(two_closes, tmp_path):
    from chiso.report import write_report

    settings, original, *_ = two_closes
    conn = duckdb.connect(str(settings.published_path), read_only=True)
    try:
        ((status, computed, marked, explanation, scorecard),) = conn.execute(
            "select p.status, p.computed_status, p.is_status_overridden, p.explanation_vi, "
            "s.overridden_status_count from target_progress p "
            "join unit_scorecard s on p.unit_code = s.unit_code and s.period = p.as_of_period "
            "where p.target_id = ? and p.unit_code = ?",
            [OVERRIDDEN, original.unit_code],
        ).fetchall()
        others = conn.execute(
            "select count(*) from target_progress where is_status_overridden"
        ).fetchone()[0]
    finally:
        conn.close()
    assert (status, marked, scorecard, others) == ("insufficient_data", True, 1, 1)
    assert computed != "insufficient_data"  # five months of figures: never computed so
    assert explanation.endswith(
        f'Trạng thái được điều chỉnh thành "Chưa đủ số liệu" theo quyết định của {DECIDED_BY} '
        f"(02/10/2025): {REASON}."
    )
    page = write_report(settings, "2025-09", tmp_path, "20").read_text(encoding="utf-8")
    assert '<tr data-status="insufficient_data" class=overridden>' in page
    assert "(điều chỉnh; tính toán:" in page and REASON in page
    # the correction to July, received on 10 September, is in the revisions section
    revisions = page[page.index('id="revisions"') : page.index('id="outliers"')]
    assert "07/2025</td><td>sửa</td>" in revisions and "10/09/2025" in revisions
