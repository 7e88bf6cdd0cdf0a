"""The reporting calendar: due days and locks from the seed, a file for a locked period
quarantined with a message naming the lock, accepted through an exception (granted from
the CLI or in the seed), and every exception used recorded."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime, timedelta

import duckdb
import pytest

from chiso.cli import main
from ingest.inbox import ingest_inbox
from tests.helpers.clerk_cases import BY_NAME
from tests.helpers.clerk_files import received
from warehouse import calendar


def test_the_seed_sets_due_days_and_locks_per_group_and_province(tmp_path, monkeypatch):
    monthly = calendar.schedule("20", "district")
    assert monthly.due_on("2025-06") == date(2025, 7, 5)
    assert monthly.due_on("2025-12") == date(2026, 1, 5)
    assert monthly.accepted_until("2025-06") == date(2026, 1, 31)  # after the review
    yearly = calendar.schedule("08", "school")
    assert not yearly.owes("2025-06") and yearly.owes("2025-10")
    assert yearly.due_on("2025-10") == date(2025, 11, 20)
    # a province's own row overrides the row for every province
    project = tmp_path / "dbt_project"
    shutil.copytree(calendar.dbt_project_dir() / "seeds", project / "seeds")
    seed = project / "seeds" / "reporting_calendar.csv"
    seed.write_text(
        seed.read_text(encoding="utf-8") + "14,district,monthly,,1,10,2,29,,,Sơn La\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHISO_DBT_PROJECT_DIR", str(project))
    assert calendar.schedule("14", "district").due_on("2025-06") == date(2025, 7, 10)
    # 29 February where there is one, else the month's last day
    assert calendar.schedule("14", "district").accepted_until("2023-06") == date(2024, 2, 29)
    assert calendar.schedule("14", "district").accepted_until("2024-06") == date(2025, 2, 28)
    assert calendar.schedule("20", "district").due_on("2025-06") == date(2025, 7, 5)
    seed.write_text(
        seed.read_text(encoding="utf-8") + ",enterprise,yearly,,1,20,1,31,,,\n", encoding="utf-8"
    )
    calendar._schedules.cache_clear()
    with pytest.raises(calendar.CalendarError, match="line 10: frequency must be monthly"):
        calendar.schedule("20", "district")
    calendar._schedules.cache_clear()


def _june_report(folder, when: datetime):
    """District 20.178's June 2025 report, received at ``when``."""
    folder.mkdir(parents=True, exist_ok=True)
    return received(BY_NAME["format_csv"].build(folder), when)


def _rows(settings, sql: str) -> list[tuple]:
    conn = duckdb.connect(str(settings.warehouse_path), read_only=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_a_file_for_a_locked_period_is_quarantined_then_accepted_through_an_exception(
    settings, tmp_path, capsys
):
    now = datetime.now(UTC)
    # June 2025 was accepted until 31 January 2026; this file arrives today
    late = _june_report(tmp_path / "late", now - timedelta(minutes=5))
    shutil.copy2(late, settings.inbox_dir / "bao_cao_20.178_06-2025.csv")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.quarantined == ["bao_cao_20.178_06-2025.csv"] and summary.loaded_files == 0
    (folder,) = (settings.quarantine_dir / "unit_files").iterdir()
    (error,) = json.loads((folder / "errors.json").read_text(encoding="utf-8"))["errors"]
    assert error["cell"] == "B4"
    assert error["en"].startswith(
        "period 2025-06 is locked: its figures were accepted until 2026-01-31"
    )
    assert "kỳ báo cáo 06/2025 đã khóa sổ" in error["vi"] and "31/01/2026" in error["vi"]
    assert "ask the province's data office for an exception" in error["en"]

    # the clerk's own check says the same before sending
    assert main(["validate-file", str(late)]) == 1
    assert "period 2025-06 is locked" in capsys.readouterr().out

    # an exception is granted from the CLI; who and why are required
    until = (now + timedelta(days=10)).date().isoformat()
    grant = ["calendar", "grant", "--unit", "20.178", "--period", "2025-06", "--until", until]
    assert main([*grant, "--by", " ", "--reason", "x"]) == 2
    assert main(["calendar", "grant", "--unit", "20.999", "--period", "2025-06",
                 "--until", until, "--by", "a", "--reason", "b"]) == 2  # fmt: skip
    assert (
        main([*grant, "--by", "Sở KH&CN (Nguyễn Văn An)", "--reason", "sửa số liệu tháng 6"]) == 0
    )
    exception_id = f"cli-{now.year}-0001"
    assert f"granted {exception_id}: 20.178 may send 2025-06" in capsys.readouterr().out
    assert main(["validate-file", str(late)]) == 0
    out = capsys.readouterr().out
    assert f"accepted through exception {exception_id}" in out and "[warning]" in out

    shutil.copy2(late, settings.inbox_dir / "bao_cao_20.178_06-2025 (lan 2).csv")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.quarantined == [] and summary.loaded_files == 1
    assert any(f"through exception {exception_id}" in w for w in summary.warnings)
    assert _rows(
        settings,
        "select u.exception_id, u.unit_code, u.period, u.file_sha256 = f.file_sha256 "
        "from raw.reporting_exception_uses u join raw.unit_report_files f using (file_sha256)",
    ) == [(exception_id, "20.178", "2025-06", True)]
    assert main(["calendar", "exceptions"]) == 0
    assert "1 file(s)" in capsys.readouterr().out


def test_a_seed_exception_lets_a_late_file_in_until_its_last_day(settings, tmp_path, monkeypatch):
    project = tmp_path / "dbt_project"
    shutil.copytree(calendar.dbt_project_dir() / "seeds", project / "seeds")
    seed = project / "seeds" / "lock_exceptions.csv"
    seed.write_text(
        seed.read_text(encoding="utf-8")
        + "ls-2026-001,20.178,2025-06,2026-03-31,Sở KH&CN,2026-02-02,Số liệu tháng 6 sai đơn vị\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("CHISO_DBT_PROJECT_DIR", str(project))
    on_time = _june_report(tmp_path / "a", datetime(2026, 3, 30, 3, tzinfo=UTC))
    too_late = _june_report(tmp_path / "b", datetime(2026, 4, 1, 3, tzinfo=UTC))
    shutil.copy2(on_time, settings.inbox_dir / "a.csv")
    shutil.copy2(too_late, settings.inbox_dir / "b.csv")
    summary = ingest_inbox(settings, log=lambda _: None)
    assert summary.quarantined == ["b.csv"] and summary.loaded_files == 1
    assert _rows(settings, "select exception_id from raw.reporting_exception_uses") == [
        ("ls-2026-001",)
    ]


def test_a_scheduled_run_before_the_month_is_due_is_skipped_and_after_it_is_not(settings):
    """The pipeline's run on a slot: a month no report is due for yet, with no figure, is
    not built (NotDueYet, the task is skipped with the due day); once it is due, an empty
    month is left to the build, which fails on it and alerts."""
    from chiso.pipeline import EmptyMonth, NotDueYet, check_due, check_month_has_figures

    assert calendar.first_due_on(settings.provinces, "2026-10") == date(2026, 11, 5)
    with pytest.raises(NotDueYet, match="nothing to build for 2026-10 on 2026-11-04: the first"):
        check_due(settings, "2026-10", date(2026, 11, 4))
    check_due(settings, "2026-10", date(2026, 11, 5))  # due: the build decides
    with pytest.raises(EmptyMonth, match="no figures for 2026-10"):
        check_month_has_figures(settings, "2026-10")
