"""Progress of a long stage. On a terminal, a bar redrawn in place; otherwise (a log file,
an Airflow task log) a line at each quarter of the work, so a long stage still says how far
it is without a line per item."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

BAR_WIDTH = 28
QUARTERS = 4


class Progress:
    """Call with (done, total, what) as work finishes; use as a context manager (or call
    ``close()``) so the bar is cleared before the next line."""

    def __init__(
        self, label: str, log: Callable[[str], None] = print, stream: TextIO | None = None
    ):
        self.label = label
        self.log = log
        self.stream = stream if stream is not None else sys.stdout
        # a bar only when the lines go to the terminal's own stream
        self.live = log is print and bool(getattr(self.stream, "isatty", lambda: False)())
        self.drawn = 0  # characters of the bar on the line now
        self.quarter = 0  # quarters said as lines so far
        self.done = 0
        self.total = 0

    def __call__(self, done: int, total: int, what: str = "") -> None:
        self.done, self.total = max(self.done, done), max(self.total, total)
        if not self.total:
            return
        if self.live:
            self._draw(what)
            return
        quarter = QUARTERS * min(self.done, self.total) // self.total
        if quarter > self.quarter and quarter < QUARTERS:  # the last is the stage's own line
            self.quarter = quarter
            self.log(f"  {self.label}: {self.done} of {self.total} ({what})")

    def _draw(self, what: str) -> None:
        filled = BAR_WIDTH * min(self.done, self.total) // self.total
        bar = "#" * filled + "-" * (BAR_WIDTH - filled)
        line = f"  {self.label} [{bar}] {self.done}/{self.total} {what}"[:100]
        self.stream.write("\r" + line.ljust(self.drawn))
        self.stream.flush()
        self.drawn = len(line)

    def close(self) -> None:
        if self.live and self.drawn:
            self.stream.write("\r" + " " * self.drawn + "\r")
            self.stream.flush()
            self.drawn = 0

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
