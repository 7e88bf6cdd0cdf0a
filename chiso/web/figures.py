"""What the pages show from the published marts: read as BI tools read them (the published
file read-only, or schema ``published``), so a page never waits on a run and never sees
half a month. Each query names its unit or province: a unit's page reads its own rows."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

from warehouse.backends import PublishError, open_warehouse
from warehouse.settings import Settings


@dataclass
class UnitFigures:
    as_of_period: str | None = None
    progress: list[dict] = field(default_factory=list)  # target × this unit, latest
    ranking: dict | None = None  # the scorecard's row of the latest month
    reporting: list[dict] = field(default_factory=list)  # month owed, latest first
    corrections: dict[str, int] = field(default_factory=dict)  # period -> figures changed
    unreadable: bool = False  # the published marts could not be read just now


def _rows(cursor) -> list[dict]:
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


PROGRESS = """
select p.target_id, p.indicator_code, i.name_vi as indicator_vi, p.comparator,
       p.target_value, p.deadline_on, p.latest_period, p.latest_value, p.status,
       p.explanation_vi
from target_progress as p
inner join dim_indicator as i on i.indicator_code = p.indicator_code
where p.unit_code = ?
order by p.deadline_on, p.target_id
"""

RANKING = """
select period, score, group_rank, group_size, previous_group_rank, rank_change,
       targets_judged, achieved_count, on_track_count
from unit_scorecard
where unit_code = ?
order by period desc
limit 1
"""

REPORTING = """
select period, due_on, reporting_status, days_late, accepted_file_count,
       rejected_file_count, first_received_on, through_exception
from reporting_completeness
where unit_code = ?
order by period desc
limit 24
"""

CORRECTIONS = """
select period, count(*) as changed
from figure_revisions
where unit_code = ?
group by period
"""

MISSING = """
select unit_code, unit_name_vi, unit_group, due_on, reporting_status, days_late,
       rejected_file_count
from reporting_completeness
where province_code = ? and period = ? and reporting_status in ('missing', 'rejected_only')
order by unit_group, unit_code
"""

PERIODS = """
select distinct period from reporting_completeness
where province_code = ? and reporting_status <> 'not_yet_due'
order by period desc
limit 24
"""


def unit_figures(settings: Settings, unit_code: str) -> UnitFigures:
    """The unit's latest progress, ranking, reporting and corrections; empty before the
    first publication."""
    try:
        with open_warehouse(settings).published() as reader:
            as_of = reader.publication().get("as_of_period")
            return UnitFigures(
                as_of_period=as_of,
                progress=_rows(reader.execute(PROGRESS, [unit_code])),
                ranking=next(iter(_rows(reader.execute(RANKING, [unit_code]))), None),
                reporting=_rows(reader.execute(REPORTING, [unit_code])),
                corrections={
                    row["period"]: row["changed"]
                    for row in _rows(reader.execute(CORRECTIONS, [unit_code]))
                },
            )
    except PublishError:
        return UnitFigures()
    except Exception:  # the warehouse down: the page still lets the unit send its file
        logging.getLogger("chiso.web").exception("the published marts could not be read")
        return UnitFigures(unreadable=True)


def not_reported(settings: Settings, province: str, period: str | None) -> tuple[str, list, list]:
    """Who owes ``period``'s report in a province and has not sent it (or sent only files
    that were rejected), each with the latest reminder sent; the month (default: the latest
    one due) and the months to choose from."""
    try:
        with open_warehouse(settings).published() as reader:
            periods = [row["period"] for row in _rows(reader.execute(PERIODS, [province]))]
            period = period or (periods[0] if periods else None)
            rows = _rows(reader.execute(MISSING, [province, period])) if period else []
    except PublishError:
        return period or "", [], []
    sent = reminders_sent(settings)
    for row in rows:
        row["reminder"] = sent.get((row["unit_code"], period))
    return period or "", periods, rows


def reminders_sent(settings: Settings) -> dict[tuple[str, str], dict]:
    """The latest reminder written for each unit and month (``<data>/reminders/``)."""
    latest: dict[tuple[str, str], dict] = {}
    folder = settings.data_dir / "reminders"
    for path in sorted(folder.glob("*.json")) if folder.exists() else []:
        for reminder in json.loads(path.read_text(encoding="utf-8")).get("reminders", []):
            latest[(reminder["unit_code"], reminder["period"])] = reminder
    return latest
