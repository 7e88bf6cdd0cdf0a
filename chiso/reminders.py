"""Reminders to report: in each reporting window, the units that owe a report and have not
sent it, each with a Vietnamese message ready to send.

A unit is reminded twice for a period at most: a few days before the report is due
(``BEFORE_DUE_DAYS``) and once it is overdue (``OVERDUE_DAYS`` after the due day, until
``OVERDUE_UNTIL_DAYS``); the due days are the reporting calendar's
(:mod:`warehouse.calendar`). What a unit owes is what ``reporting_completeness`` counts: a
unit that exists that month, of a group its province sets targets for measured from unit
reports, as often as the calendar says; what it sent is what the inbox accepted
(``raw.unit_report_files``), a rejected file is said as such.

Each run writes its reminders to ``<data>/reminders/<day>_<time>.json`` and POSTs each, as
JSON, to ``CHISO_ALERT_WEBHOOK`` when it is set; a reminder sent (or written, without a
webhook) is recorded in ``raw.reminders_sent`` and never sent again. Each carries a
``reminder_id`` (unit, period, stage) so a receiver can drop the one repeat a crash between
the POST and the record could cause.
"""

from __future__ import annotations

import hashlib
import json
import urllib.request
from collections.abc import Callable
from contextlib import closing
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta

from ingest.readers import local_day
from ingest.registry import Registry, Unit, from_warehouse
from warehouse import calendar, raw_schema, reference
from warehouse.backends import raw_connection
from warehouse.errors import ChisoError
from warehouse.periods import months, previous_month
from warehouse.raw import ensure_raw_schema, insert_rows, table_columns
from warehouse.settings import Settings
from warehouse.transaction import transaction

BEFORE_DUE_DAYS = 3  # the first reminder, this many days before the due day
OVERDUE_DAYS = 1  # the second, once the report is this many days late ...
OVERDUE_UNTIL_DAYS = 30  # ... until this many (then the report lists it, no reminder)

DDL = raw_schema.REMINDERS  # warehouse/raw_schema.py: every raw table


class ReminderError(ChisoError):
    """Some reminders could not be posted (they are sent again on the next run)."""


@dataclass(frozen=True)
class Reminder:
    reminder_id: str
    unit_code: str
    unit_name_vi: str
    province_code: str
    unit_group: str
    period: str
    due_on: str
    stage: str  # before_due or overdue
    indicators_vi: list[str]
    rejected_file: str | None
    message_vi: str

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class ReminderRun:
    on: date
    path: str | None = None
    sent: list[Reminder] = field(default_factory=list)
    already_sent: int = 0
    failed: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"reminders on {self.on}: {len(self.sent)} sent, {self.already_sent} already sent"
            + (f", {len(self.failed)} FAILED" if self.failed else "")
            + (f" -> {self.path}" if self.path else "")
        )


def _stage(on: date, due_on: date) -> str | None:
    if due_on - timedelta(days=BEFORE_DUE_DAYS) <= on <= due_on:
        return "before_due"
    if due_on + timedelta(days=OVERDUE_DAYS) <= on <= due_on + timedelta(days=OVERDUE_UNTIL_DAYS):
        return "overdue"
    return None


def _vi_day(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def _message(unit: Unit, period: str, due_on: date, on: date, indicators, rejected, hint) -> str:
    month = f"{period[5:]}/{period[:4]}"
    if on <= due_on:
        left = (due_on - on).days
        deadline = f"hạn gửi {_vi_day(due_on)}" + (f" (còn {left} ngày)" if left else " (hôm nay)")
    else:
        deadline = f"hạn gửi {_vi_day(due_on)}, đã quá hạn {(on - due_on).days} ngày"
    if rejected:
        state = (
            f"đơn vị đã gửi báo cáo kỳ {month} nhưng tệp bị trả lại ({rejected}); đề nghị sửa "
            "theo thông báo lỗi và gửi lại"
        )
    else:
        state = f"chiso chưa nhận được báo cáo chỉ số chuyển đổi số kỳ {month} của đơn vị"
    names = "; ".join(indicators)
    return (
        f"Kính gửi {unit.name_vi}: {state}, {deadline}. Cần báo cáo {len(indicators)} chỉ "
        f"tiêu: {names}. Mẫu báo cáo: {hint}. Trân trọng cảm ơn."
    )


def _template_hint(settings: Settings, unit: Unit, period: str) -> str:
    if settings.template_url:
        return settings.template_url
    return (
        f"cơ quan tổng hợp số liệu gửi kèm mẫu của nhóm đơn vị (tạo bằng lệnh chiso template "
        f"--group {unit.group} --period {period} --out bao_cao.xlsx)"
    )


def owed_reports(registry: Registry, province: str, period: str) -> list[Unit]:
    """The units of a served province that owe a report for the month: they exist that
    month, their group reports figures a target in the province measures, as often as
    the calendar says (the rule reporting_completeness applies)."""
    reports: dict[tuple[str, str], bool] = {}  # (group, scheme province) -> has indicators
    owed = []
    for unit in registry.units.values():
        if unit.served_province_code != province or not unit.exists_in(period):
            continue
        rule = calendar.schedule(unit.served_province_code, unit.group)
        if rule is None or not rule.owes(period):
            continue
        key = (unit.group, unit.province_code)
        if key not in reports:
            reports[key] = bool(reference.indicators_for_group(*key))
        if reports[key]:
            owed.append(unit)
    return sorted(owed, key=lambda unit: unit.code)


def due_reminders(settings: Settings, on: date, conn) -> list[Reminder]:
    """Every reminder the calendar calls for on day ``on`` (sent before or not)."""
    registry = from_warehouse(conn, settings.provinces)
    # received by the day asked for, where chiso is (a day in the past sees its own inbox)
    received = {
        (unit_code, period)
        for unit_code, period, received_at in conn.execute(
            "select unit_code, period, received_at from raw.unit_report_files"
        ).fetchall()
        if received_at is None or local_day(received_at, settings.timezone) <= on
    }
    rejected = {}
    if table_columns(conn, "raw", "unit_report_quarantine"):
        for unit_code, period, error, received_at in conn.execute(
            "select unit_code, period, first_error_vi, received_at "
            "from raw.unit_report_quarantine "
            "where unit_code is not null and period is not null order by received_at"
        ).fetchall():
            if received_at is None or local_day(received_at, settings.timezone) <= on:
                rejected[(unit_code, period)] = error
    this_month = f"{on.year:04d}-{on.month:02d}"
    periods = months(previous_month(previous_month(this_month)), this_month)
    out = []
    for province in settings.provinces:
        for period in periods:
            for unit in owed_reports(registry, province, period):
                due_on = calendar.schedule(province, unit.group).due_on(period)
                stage = _stage(on, due_on)
                if stage is None or (unit.code, period) in received:
                    continue
                indicators = [
                    i.name_vi
                    for i in reference.indicators_for_group(unit.group, unit.province_code)
                ]
                error = rejected.get((unit.code, period))
                key = f"{unit.code}|{period}|{stage}"
                out.append(
                    Reminder(
                        reminder_id=hashlib.sha256(key.encode()).hexdigest()[:16],
                        unit_code=unit.code,
                        unit_name_vi=unit.name_vi,
                        province_code=province,
                        unit_group=unit.group,
                        period=period,
                        due_on=due_on.isoformat(),
                        stage=stage,
                        indicators_vi=indicators,
                        rejected_file=error,
                        message_vi=_message(
                            unit,
                            period,
                            due_on,
                            on,
                            indicators,
                            error,
                            _template_hint(settings, unit, period),
                        ),
                    )
                )
    return out


def _post(url: str, reminder: Reminder, timeout: float) -> None:
    request = urllib.request.Request(
        url,
        data=json.dumps(
            {"kind": "chiso_reminder", **reminder.to_json()}, ensure_ascii=False
        ).encode("utf-8"),
        headers={"Content-Type": "application/json; charset=utf-8"},
        method="POST",
    )
    urllib.request.urlopen(request, timeout=timeout).close()


def send_reminders(settings: Settings, on: date, log: Callable[[str], None] = print) -> ReminderRun:
    """Write and send the reminders due on day ``on`` that were not sent before."""
    result = ReminderRun(on)
    with closing(raw_connection(settings)) as conn:
        ensure_raw_schema(conn)
        conn.execute(DDL)
        sent = {
            row[0] for row in conn.execute("select reminder_id from raw.reminders_sent").fetchall()
        }
        due = due_reminders(settings, on, conn)
        fresh = [reminder for reminder in due if reminder.reminder_id not in sent]
        result.already_sent = len(due) - len(fresh)
        # one file per run, the reminders it sends (none: an empty list, still a record)
        settings.reminders_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        path = settings.reminders_dir / f"{on.isoformat()}_{stamp}.json"
        payload = {
            "on": on.isoformat(),
            "already_sent": result.already_sent,
            "reminders": [reminder.to_json() for reminder in fresh],
        }
        path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
        result.path = str(path)
        for reminder in fresh:
            delivered = "file"
            if settings.alert_webhook:
                try:
                    _post(settings.alert_webhook, reminder, settings.http_timeout)
                except OSError as error:
                    result.failed.append(f"{reminder.unit_code} {reminder.period}: {error}")
                    continue
                delivered = "webhook"
            with transaction(conn):
                insert_rows(
                    conn,
                    "raw.reminders_sent",
                    ["reminder_id", "unit_code", "period", "stage", "sent_at", "delivered_to"],
                    [
                        (
                            reminder.reminder_id,
                            reminder.unit_code,
                            reminder.period,
                            reminder.stage,
                            datetime.now(UTC),
                            delivered,
                        )
                    ],
                )
            result.sent.append(reminder)
    log(result.line())
    if result.failed:
        raise ReminderError(
            f"{len(result.failed)} reminder(s) could not be posted (sent again next run): "
            + "; ".join(result.failed[:5])
        )
    return result
