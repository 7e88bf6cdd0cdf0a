"""What every command group shares: exit codes and argument types."""

from __future__ import annotations

import argparse
from datetime import date

from warehouse.errors import EXIT_BUG, EXIT_FAILED, EXIT_OK, EXIT_USAGE
from warehouse.periods import PeriodError, check_period

__all__ = ["EXIT_BUG", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "day", "period", "portal_period"]


def period(text: str) -> str:
    """An argparse type: a 'YYYY-MM' month."""
    try:
        return check_period(text)
    except PeriodError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def portal_period(text: str) -> str:
    """A month, or a year (YYYY) for the portal's yearly index."""
    if len(text) == 4 and text.isdigit():
        return text
    return period(text)


def day(text: str) -> date:
    """An argparse type: a 'YYYY-MM-DD' day."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"give a day as YYYY-MM-DD, got {text!r}") from None
