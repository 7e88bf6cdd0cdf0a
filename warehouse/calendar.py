"""The reporting calendar: when each unit group's report for a period is due, until when
a file for it is accepted (the period's lock), and the exceptions people grant to a lock.

``seeds/reporting_calendar.csv`` is the one statement of the rules (per unit group, a row
with an empty province for every province, a row with a province code for one province):
a period's report is due on day ``due_day`` of the month ``due_months_after`` months after
it; the periods of a year are accepted until day ``lock_day`` of month ``lock_month`` of
the next year (after the emulation review), then locked. This module computes the dates;
the inbox refuses a file for a locked period, ``raw.reporting_deadlines`` (written at every
ingest) gives dbt the same dates, and the reminders count down to them.

An exception lets one unit send one period's file after the lock, until a day: a row of
``seeds/lock_exceptions.csv`` (reviewed with the project) or one granted with
``chiso calendar grant`` (kept in ``raw.reporting_exceptions``). Every file loaded through
an exception is recorded in ``raw.reporting_exception_uses``.
"""

from __future__ import annotations

import calendar as _days
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from pathlib import Path

from warehouse import raw_schema, reference
from warehouse.errors import EXIT_USAGE, ChisoError
from warehouse.periods import check_period, months
from warehouse.raw import insert_rows
from warehouse.settings import dbt_project_dir
from warehouse.transaction import transaction

DDL = raw_schema.CALENDAR  # warehouse/raw_schema.py: every raw table

FIRST_PERIOD = "2015-01"  # deadlines are written from here ...
YEARS_AHEAD = 2  # ... to December this many years after today


class CalendarError(ChisoError, ValueError):
    """A calendar or exception row that cannot be right (said with its row): fix the seed
    or the command's arguments."""

    exit_code = EXIT_USAGE


@dataclass(frozen=True)
class Schedule:
    """How one unit group reports in one province."""

    unit_group: str
    frequency: str  # monthly or yearly
    report_month: int | None  # yearly: the month the figures stand at
    due_months_after: int
    due_day: int
    lock_month: int
    lock_day: int

    def owes(self, period: str) -> bool:
        """Whether the group owes a report for the month."""
        return self.frequency == "monthly" or int(period[5:]) == self.report_month

    def due_on(self, period: str) -> date:
        return _day_in(period, self.due_months_after, self.due_day)

    def accepted_until(self, period: str) -> date:
        """The last day a file for the period is accepted without an exception."""
        year = int(period[:4]) + 1
        return date(year, self.lock_month, min(self.lock_day, _last_day(year, self.lock_month)))


def _last_day(year: int, month: int) -> int:
    return _days.monthrange(year, month)[1]


def _day_in(period: str, months_after: int, day: int) -> date:
    index = int(period[:4]) * 12 + int(period[5:]) - 1 + months_after
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day, _last_day(year, month + 1)))


def _int(row: dict[str, str], column: str, line: int) -> int:
    try:
        return int(row[column])
    except ValueError:
        raise CalendarError(
            f"seeds/reporting_calendar.csv line {line}: {column} must be a whole number, "
            f"got {row[column]!r}"
        ) from None


@cache
def _schedules(seed_dir: Path) -> dict[tuple[str, str], Schedule]:
    out = {}
    for index, row in enumerate(reference.read_seed(seed_dir, "reporting_calendar")):
        line = index + 2
        schedule = Schedule(
            unit_group=row["unit_group"],
            frequency=row["frequency"],
            report_month=_int(row, "report_month", line) if row["report_month"] else None,
            due_months_after=_int(row, "due_months_after", line),
            due_day=_int(row, "due_day", line),
            lock_month=_int(row, "lock_month", line),
            lock_day=_int(row, "lock_day", line),
        )
        if schedule.frequency not in ("monthly", "yearly") or (
            schedule.frequency == "yearly" and not 1 <= (schedule.report_month or 0) <= 12
        ):
            raise CalendarError(
                f"seeds/reporting_calendar.csv line {line}: frequency must be monthly, or "
                "yearly with a report_month from 1 to 12"
            )
        if not (1 <= schedule.lock_month <= 12 and 1 <= schedule.due_day <= 31):
            raise CalendarError(
                f"seeds/reporting_calendar.csv line {line}: due_day 1-31 and lock_month 1-12"
            )
        out[(row["province_code"].strip(), row["unit_group"])] = schedule
    return out


def schedule(province_code: str, unit_group: str) -> Schedule | None:
    """The province's own row for the group, else the row for every province."""
    rows = _schedules(dbt_project_dir() / "seeds")
    return rows.get((province_code, unit_group)) or rows.get(("", unit_group))


def unit_groups() -> list[str]:
    return sorted({group for _, group in _schedules(dbt_project_dir() / "seeds")})


def first_due_on(provinces: tuple[str, ...], period: str) -> date | None:
    """The earliest day any unit group of the provinces owes its report for the month
    (None when no group owes that month)."""
    days = [
        rule.due_on(period)
        for province in provinces
        for group in unit_groups()
        if (rule := schedule(province, group)) is not None and rule.owes(period)
    ]
    return min(days, default=None)


def deadlines(provinces: tuple[str, ...], first: str, last: str) -> list[tuple]:
    """(province, group, period, due_on, accepted_until) for every period a group owes."""
    out = []
    for province in provinces:
        for group in unit_groups():
            rule = schedule(province, group)
            if rule is None:
                continue
            for period in months(first, last):
                if rule.owes(period):
                    out.append(
                        (province, group, period, rule.due_on(period), rule.accepted_until(period))
                    )
    return out


def load_deadlines(conn, provinces: tuple[str, ...], today: date | None = None) -> str:
    """Rebuild ``raw.reporting_deadlines`` for the served provinces, in one transaction."""
    conn.execute(DDL)
    last = f"{(today or date.today()).year + YEARS_AHEAD}-12"
    rows = deadlines(provinces, FIRST_PERIOD, last)
    with transaction(conn):
        conn.execute("delete from raw.reporting_deadlines")
        insert_rows(
            conn,
            "raw.reporting_deadlines",
            ["province_code", "unit_group", "period", "due_on", "accepted_until"],
            rows,
        )
    return f"reporting calendar: {len(rows)} deadlines ({FIRST_PERIOD} to {last})"


@dataclass(frozen=True)
class LockGrant:
    """Leave for one unit to send one period's file after the lock, until a day."""

    exception_id: str
    unit_code: str
    period: str
    valid_until: date
    granted_by: str
    granted_on: date
    reason: str
    source: str  # seed or cli

    def covers(self, unit_code: str, period: str, received_on: date) -> bool:
        return (unit_code, period) == (self.unit_code, self.period) and (
            received_on <= self.valid_until
        )


_EXCEPTION_COLUMNS = [
    "exception_id",
    "unit_code",
    "period",
    "valid_until",
    "granted_by",
    "granted_on",
    "reason",
]


def _seed_exceptions(seed_dir: Path) -> list[LockGrant]:
    out = []
    for index, row in enumerate(reference.read_seed(seed_dir, "lock_exceptions")):
        try:
            check_period(row["period"])
            out.append(
                LockGrant(
                    exception_id=row["exception_id"],
                    unit_code=row["unit_code"],
                    period=row["period"],
                    valid_until=date.fromisoformat(row["valid_until"]),
                    granted_by=row["granted_by"],
                    granted_on=date.fromisoformat(row["granted_on"]),
                    reason=row["reason"],
                    source="seed",
                )
            )
        except ValueError as exc:
            raise CalendarError(f"seeds/lock_exceptions.csv line {index + 2}: {exc}") from None
    return out


def exceptions(conn=None) -> list[LockGrant]:
    """The seed's exceptions and, with a raw connection, those granted from the CLI."""
    out = _seed_exceptions(dbt_project_dir() / "seeds")
    if conn is not None:
        conn.execute(DDL)
        rows = conn.execute(
            f"select {', '.join(_EXCEPTION_COLUMNS)} from raw.reporting_exceptions "
            "order by granted_at"
        ).fetchall()
        out += [LockGrant(*row, source="cli") for row in rows]
    return out


def exceptions_for_settings(settings) -> list[LockGrant]:
    """The exceptions of the configured warehouse (the seed's alone while there is none)."""
    from warehouse.backends import open_warehouse

    backend = open_warehouse(settings)
    if not backend.exists():
        return exceptions()
    with closing(backend.raw()) as conn:
        return exceptions(conn)


def grant(
    conn,
    unit_code: str,
    period: str,
    valid_until: date,
    granted_by: str,
    reason: str,
    today: date | None = None,
) -> LockGrant:
    """Record an exception granted from the CLI; said back with its id."""
    check_period(period)
    if not granted_by.strip() or not reason.strip():
        raise CalendarError("an exception needs who granted it (--by) and why (--reason)")
    today = today or date.today()
    if valid_until < today:
        raise CalendarError(f"--until {valid_until.isoformat()} is already past")
    conn.execute(DDL)
    count = conn.execute("select count(*) from raw.reporting_exceptions").fetchone()[0]
    granted = LockGrant(
        exception_id=f"cli-{today.year}-{count + 1:04d}",
        unit_code=unit_code,
        period=period,
        valid_until=valid_until,
        granted_by=granted_by.strip(),
        granted_on=today,
        reason=reason.strip(),
        source="cli",
    )
    insert_rows(
        conn,
        "raw.reporting_exceptions",
        [*_EXCEPTION_COLUMNS, "granted_at"],
        [
            (
                granted.exception_id,
                granted.unit_code,
                granted.period,
                granted.valid_until,
                granted.granted_by,
                granted.granted_on,
                granted.reason,
                datetime.now(UTC),
            )
        ],
    )
    return granted


@dataclass(frozen=True)
class Lock:
    """What the calendar says of a file for a unit's period received on a day."""

    accepted_until: date
    exception: LockGrant | None  # the exception it came through, if locked

    @property
    def refused(self) -> bool:
        return self.exception is None


def lock_for(
    unit_code: str,
    province_code: str,
    unit_group: str,
    period: str,
    received_on: date,
    granted: list[LockGrant],
) -> Lock | None:
    """None while the period is open for the unit's group on the day received; else the
    lock, with the exception that lets the file in (the latest-running one), if any."""
    rule = schedule(province_code, unit_group)
    if rule is None or received_on <= rule.accepted_until(period):
        return None
    covering = [e for e in granted if e.covers(unit_code, period, received_on)]
    covering.sort(key=lambda e: (e.valid_until, e.exception_id))
    return Lock(rule.accepted_until(period), covering[-1] if covering else None)
