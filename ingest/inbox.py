"""Ingest stage for unit report files: inbox -> landing or quarantine -> raw schema.

1. Every file in the inbox is read and validated. A valid file is copied, read-only and
   content-addressed, into the landing area; a rejected one goes to the quarantine with its
   error report. Only then is it removed from the inbox, so a crash loses nothing.
2. Every landed file not yet in ``raw.unit_report_files`` is re-hashed (a changed landed
   file is reported, never loaded) and loaded in one transaction.

Re-running is safe: the same bytes land once and load once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.landing import land, quarantine, received_at, sha256_file
from ingest.registry import refresh as refresh_registry
from ingest.sources.unit_files import Problem, Report, read_received
from warehouse import calendar
from warehouse.backends import raw_connection
from warehouse.faults import kill_point
from warehouse.periods import previous_month
from warehouse.raw import ensure_raw_schema, insert_rows, load_rejections
from warehouse.settings import Settings

SOURCE = "unit_files"


class IngestError(RuntimeError):
    """Ingestion found something it must not load (e.g. a landed file that changed)."""


@dataclass
class IngestSummary:
    received: int = 0
    landed: int = 0
    duplicates: int = 0  # received again, byte for byte: kept once
    quarantined: list[str] = field(default_factory=list)
    loaded_files: int = 0
    loaded_rows: int = 0
    already_loaded: int = 0
    integrity_errors: list[str] = field(default_factory=list)  # changed on disk: stop
    not_loadable: list[str] = field(default_factory=list)  # landed, fails today's rules
    warnings: list[str] = field(default_factory=list)  # loaded, but worth a look
    waiting: list[str] = field(default_factory=list)  # hidden files left for a later run

    def line(self) -> str:
        return (
            f"{self.received} received, {self.landed} landed, {self.duplicates} duplicate, "
            f"{len(self.quarantined)} quarantined; {self.loaded_files} files / "
            f"{self.loaded_rows} rows loaded, {self.already_loaded} already loaded, "
            f"{len(self.not_loadable)} not loadable, {len(self.warnings)} warning(s)"
            + (f", {len(self.waiting)} hidden file(s) waiting" if self.waiting else "")
        )


HIDDEN_GRACE = timedelta(hours=1)  # a hidden file this old is no upload still under way


def _inbox_files(inbox: Path) -> tuple[list[Path], list[Path]]:
    """The inbox's report files in the order they were received (then by name), and its
    hidden ones: names starting with '.' (an upload under way, or a file a clerk's system
    hid) or '~$' (Excel's lock file of an open workbook)."""
    if not inbox.exists():
        return [], []
    files = [path for path in inbox.iterdir() if path.is_file()]
    files.sort(key=lambda path: (received_at(path), path.name))
    hidden = [path for path in files if path.name.startswith((".", "~$"))]
    return [path for path in files if path not in hidden], hidden


def hidden_file_problem(name: str) -> Problem:
    if name.startswith("~$"):
        return Problem(
            "đây là tệp khóa tạm của Excel (tạo ra khi sổ tính đang mở), không phải báo cáo; "
            "hãy đóng sổ tính và gửi chính tệp báo cáo",
            "this is Excel's temporary lock file (made while a workbook is open), not a "
            "report; close the workbook and send the report file itself",
        )
    return Problem(
        "tên tệp bắt đầu bằng dấu chấm (tệp ẩn) nên không được đọc; hãy đổi tên tệp, bỏ "
        "dấu chấm ở đầu, rồi gửi lại",
        "the file name starts with '.' (a hidden file), so it is not read; rename it "
        "without the leading dot and send it again",
    )


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of a moment where the instance is (settings.timezone)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


def _landed_files(landing: Path) -> list[Path]:
    if not landing.exists():
        return []
    return sorted(
        path
        for path in landing.glob("*/*")
        if path.is_file() and not path.name.startswith(".") and not path.name.endswith(".json")
    )


_VALUE_COLUMNS = (
    "file_sha256, source_row, source_file_name, unit_code, period, sent_on, indicator_code, "
    "numerator, denominator, reported_value, note, load_id, received_at, sheet"
)
_FILE_COLUMNS = (
    "file_sha256, source_file_name, landed_path, file_format, unit_code, period, reporter, "
    "sent_on, row_count, load_id, loaded_at, received_at, sheet"
)


LOAD_BATCH_FILES = 500  # files per transaction: one commit costs ~10 ms in DuckDB
JUMP_POINTS = 30.0  # a ratio moving more than this many points in a month is implausible
JUMP_FACTOR = 3.0  # a denominator growing or shrinking more than this is implausible


def _known_figures(conn) -> dict[tuple[str, str, str], tuple[float | None, float | None]]:
    """(unit, indicator, month) -> (percent, denominator) of the submission that counts
    (``raw.unit_report_submissions``, the one place that rule is written)."""
    rows = conn.execute(
        "select unit_code, indicator_code, period, "
        "100.0 * numerator / nullif(denominator, 0), denominator "
        "from raw.unit_report_submissions where submission_rank = 1"
    ).fetchall()
    return {(r[0], r[1], r[2]): (r[3], r[4]) for r in rows}


def jump_warnings(report: Report, known: dict) -> list[Problem]:
    """Warnings (the file is still loaded) for figures far from the unit's previous month."""
    warnings = []
    previous = previous_month(report.period)
    for row in report.rows:
        before = known.get((report.unit_code, row.indicator_code, previous))
        if not before or row.numerator is None or not row.denominator:
            continue
        percent, denominator = 100 * row.numerator / row.denominator, row.denominator
        if before[0] is not None and abs(percent - before[0]) > JUMP_POINTS:
            warnings.append(
                Problem(
                    f"tỷ lệ thay đổi bất thường so với kỳ {previous}: "
                    f"{before[0]:.1f}% → {percent:.1f}%",
                    f"implausible change against {previous}: {before[0]:.1f}% → {percent:.1f}%",
                    row.cells.get("numerator"),
                    "warning",
                )
            )
        if before[1] and not 1 / JUMP_FACTOR <= denominator / before[1] <= JUMP_FACTOR:
            warnings.append(
                Problem(
                    f"mẫu số thay đổi bất thường so với kỳ {previous}: "
                    f"{before[1]:g} → {denominator:g}",
                    f"implausible denominator against {previous}: {before[1]:g} → {denominator:g}",
                    row.cells.get("denominator"),
                    "warning",
                )
            )
    return warnings


def _value_rows(report: Report, sha256: str, received_at: str | None) -> list[tuple]:
    load_id = f"{SOURCE}-{sha256[:16]}"
    return [
        (
            sha256,
            row.source_row,
            report.file_name,
            report.unit_code,
            report.period,
            report.sent_on,
            row.indicator_code,
            row.numerator,
            row.denominator,
            row.value,
            row.note,
            load_id,
            received_at,
            report.sheet,
        )
        for row in report.rows
    ]


def _file_row(report: Report, sha256: str, landed: Path, received_at: str | None) -> tuple:
    return (
        sha256,
        report.file_name,
        str(landed),
        report.file_format,
        report.unit_code,
        report.period,
        report.reporter,
        report.sent_on,
        len(report.rows),
        f"{SOURCE}-{sha256[:16]}",
        datetime.now(UTC),
        received_at,
        report.sheet,
    )


_USE_COLUMNS = "file_sha256, exception_id, unit_code, period, received_at, recorded_at"


@dataclass
class _Batch:
    files: list[tuple] = field(default_factory=list)
    values: list[tuple] = field(default_factory=list)
    uses: list[tuple] = field(default_factory=list)  # files loaded through an exception


def _load_batch(conn, batch: _Batch, summary: IngestSummary) -> _Batch:
    """Insert a batch of files, their figures and the exceptions they came through in one
    transaction (all or nothing); an empty batch to fill next."""
    if not batch.files:
        return batch
    conn.execute("begin transaction")
    try:
        insert_rows(conn, "raw.unit_report_values", _VALUE_COLUMNS.split(", "), batch.values)
        insert_rows(conn, "raw.unit_report_files", _FILE_COLUMNS.split(", "), batch.files)
        insert_rows(conn, "raw.reporting_exception_uses", _USE_COLUMNS.split(", "), batch.uses)
        kill_point("ingest_mid_batch")
        conn.execute("commit")
    except BaseException:
        conn.execute("rollback")
        raise
    summary.loaded_files += len(batch.files)
    summary.loaded_rows += len(batch.values)
    return _Batch()


def _reject(
    settings: Settings,
    path: Path,
    report: Report,
    problems: list[Problem],
    sha256: str | None = None,
    received: datetime | None = None,
) -> Path:
    return quarantine(
        path,
        settings.quarantine_dir / SOURCE,
        sha256 or sha256_file(path),
        path.name,
        problems,
        report.sheet,
        unit_code=report.unit_code,
        period=report.period,
        received=received or received_at(path),
    )


def _to_load(landing: Path, loaded: set[str], summary: IngestSummary, log) -> list[tuple]:
    """The landed files not yet in raw, with their sidecars, in the order they were
    received (so a correction's jump warnings compare with the file it corrects); a landed
    file whose bytes changed is reported, never loaded."""
    out = []
    for landed in _landed_files(landing):
        sha256 = landed.name.split(".")[0]
        if sha256 in loaded:
            summary.already_loaded += 1
            continue
        if sha256_file(landed) != sha256:
            summary.integrity_errors.append(str(landed))
            log(f"  INTEGRITY: {landed} no longer matches its sha256; not loaded")
            continue
        meta = json.loads(landed.with_name(landed.name + ".meta.json").read_text(encoding="utf-8"))
        out.append((landed, meta))
    out.sort(key=lambda item: (item[1].get("received_at") or "", item[0].name))
    return out


def ingest_inbox(
    settings: Settings, log: Callable[[str], None] = print, take_inbox: bool = True
) -> IngestSummary:
    """The inbox's files -> landing or quarantine, then every landed file not yet loaded ->
    raw. ``take_inbox=False`` does only the second part (the Airflow pipeline: the inbox
    belongs to the unit-files DAG, which emits the Asset when it loads something)."""
    settings.ensure_dirs()
    landing = settings.landing_dir / SOURCE
    summary = IngestSummary()
    conn = raw_connection(settings)
    try:
        ensure_raw_schema(conn)
        registry = refresh_registry(conn, settings.provinces)
        granted = calendar.exceptions(conn)
        # reports read from the inbox in this run, by sha256, with the exception they use
        parsed: dict[str, tuple[Report, calendar.LockException | None]] = {}
        waiting, hidden = _inbox_files(settings.inbox_dir) if take_inbox else ([], [])
        for path in hidden:
            if datetime.now(UTC) - received_at(path) < HIDDEN_GRACE:
                summary.waiting.append(path.name)
                log(f"  waiting: {path.name} is hidden (an upload under way?); not read yet")
                continue
            summary.received += 1
            _reject(settings, path, Report(path.name, ""), [hidden_file_problem(path.name)])
            summary.quarantined.append(path.name)
            log(f"  quarantined hidden file {path.name}")
            path.unlink()
        for path in waiting:
            summary.received += 1
            sha256 = sha256_file(path)
            received = received_at(path)
            report, exception = read_received(
                path, path.name, registry, local_day(received, settings.timezone), granted
            )
            if report.is_valid:
                _, is_new = land(
                    path,
                    landing,
                    report.period,
                    sha256,
                    path.name,
                    report.unit_code,
                    received=received,
                )
                kill_point("ingest_after_landing")
                parsed.setdefault(sha256, (report, exception))  # the same bytes: the first name
                for warning in report.warnings:  # said for every file received, duplicates too
                    summary.warnings.append(f"{path.name}: {warning}")
                    log(f"  warning {path.name}: {warning}")
                if is_new:
                    summary.landed += 1
                else:
                    summary.duplicates += 1
            else:
                folder = _reject(settings, path, report, report.problems, sha256, received)
                summary.quarantined.append(path.name)
                log(f"  quarantined {path.name} -> {folder}")
                for problem in report.errors[:5]:
                    log(f"    {problem}")
            path.unlink()
        load_rejections(conn, settings.quarantine_dir / SOURCE)
        rows = conn.execute("select file_sha256 from raw.unit_report_files").fetchall()
        loaded = {row[0] for row in rows}
        batch = _Batch()
        known = _known_figures(conn)
        for landed, meta in _to_load(landing, loaded, summary, log):
            sha256 = landed.name.split(".")[0]
            received_on = (
                local_day(datetime.fromisoformat(meta["received_at"]), settings.timezone)
                if meta.get("received_at")
                else date.today()
            )
            report, exception = parsed.get(sha256) or read_received(
                landed, meta["original_name"], registry, received_on, granted
            )
            if not report.is_valid:  # the catalog or registry changed since it landed
                summary.not_loadable.append(str(landed))
                log(f"  {report.file_name} ({landed.name}) no longer validates: {report.errors[0]}")
                continue
            for warning in jump_warnings(report, known):
                summary.warnings.append(f"{report.file_name}: {warning}")
                log(f"  warning {report.file_name}: {warning}")
            for row in report.rows:
                percent = (
                    100 * row.numerator / row.denominator
                    if row.numerator is not None and row.denominator
                    else None
                )
                known[(report.unit_code, row.indicator_code, report.period)] = (
                    percent,
                    row.denominator,
                )
            batch.files.append(_file_row(report, sha256, landed, meta.get("received_at")))
            batch.values += _value_rows(report, sha256, meta.get("received_at"))
            if exception is not None:
                batch.uses.append(
                    (
                        sha256,
                        exception.exception_id,
                        report.unit_code,
                        report.period,
                        meta.get("received_at"),
                        datetime.now(UTC),
                    )
                )
            if len(batch.files) >= LOAD_BATCH_FILES:
                batch = _load_batch(conn, batch, summary)
        _load_batch(conn, batch, summary)
    finally:
        conn.close()
    return summary
