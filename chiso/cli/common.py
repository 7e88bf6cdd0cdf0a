"""What every command group shares: exit codes and argument types."""

from __future__ import annotations

import argparse

from warehouse.periods import PeriodError, check_period

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


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
