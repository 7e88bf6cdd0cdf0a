"""A long stage's progress: a bar on a terminal, a line per quarter in a log."""

from __future__ import annotations

import io

from chiso.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_gets_a_line_per_quarter_and_never_one_per_item():
    lines: list[str] = []
    with Progress("ingest", lines.append) as progress:
        for done in range(1, 1001):
            progress(done, 1000, "files read")
    assert lines == [
        "  ingest: 250 of 1000 (files read)",
        "  ingest: 500 of 1000 (files read)",
        "  ingest: 750 of 1000 (files read)",
    ]


def test_a_terminal_gets_one_bar_redrawn_in_place_and_cleared():
    terminal = Terminal()
    with Progress("dbt build", print, stream=terminal) as progress:
        progress(1, 4, "stg_a")
        progress(4, 4, "target_progress")
    drawn = terminal.getvalue()
    assert "\n" not in drawn
    assert "dbt build [#######---------------------] 1/4 stg_a" in drawn
    assert "[############################] 4/4 target_progress" in drawn
    assert drawn.endswith("\r")


def test_output_that_is_not_the_terminal_gets_no_bar():
    lines: list[str] = []
    progress = Progress("dbt build", lines.append, stream=Terminal())
    progress(1, 2, "a")
    progress.close()
    assert lines == ["  dbt build: 1 of 2 (a)"]
