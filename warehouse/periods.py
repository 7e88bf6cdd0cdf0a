"""Reporting periods: months written 'YYYY-MM', and the arithmetic on them.

Every layer counts months (the pipeline, the gate's coverage checks, the backends, the
readers' jump warnings); this is the one place that does it."""

from __future__ import annotations

import re

from warehouse.errors import UsageError

_PERIOD_ISO = re.compile(r"^(\d{4})-(\d{1,2})$")


class PeriodError(UsageError, ValueError):
    """A period given on a command line or to a task is not a 'YYYY-MM' month."""


def check_period(text: str) -> str:
    """Validate a 'YYYY-MM' period given on a command line or to a task."""
    match = _PERIOD_ISO.match(text.strip())
    if not match or len(text.strip()) != 7 or not 1 <= int(match[2]) <= 12:
        raise PeriodError(f"period must be YYYY-MM (e.g. 2025-06), got {text!r}")
    return text.strip()


def months(first: str, last: str) -> list[str]:
    """Every 'YYYY-MM' from ``first`` to ``last``, both included."""
    year, month = map(int, first.split("-"))
    out = []
    while f"{year:04d}-{month:02d}" <= last:
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return out


def previous_month(period: str) -> str:
    """The 'YYYY-MM' before ``period``."""
    year, month = map(int, period.split("-"))
    return f"{year - 1:04d}-12" if month == 1 else f"{year:04d}-{month - 1:02d}"


def next_month(period: str) -> str:
    """The 'YYYY-MM' after ``period``."""
    year, month = map(int, period.split("-"))
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"
