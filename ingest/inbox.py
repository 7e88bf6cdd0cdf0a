"""Ingest stage for unit report files: inbox -> landing or quarantine -> raw schema.

1. Landed files not yet in ``raw.unit_report_files`` (a run stopped between landing and
   loading) are read again and loaded.
2. The inbox, a batch at a time in the order the files were received: every file is read
   and validated (in worker processes, :mod:`ingest.readers`). A valid file is copied,
   read-only and content-addressed, into the landing area; a rejected one goes to the
   quarantine with its error report. Once the batch's copies are on disk its files leave
   the inbox, so a crash loses nothing; then its new landed files are loaded in one
   transaction.

Every landed file is re-hashed before it loads (a changed landed file is reported, never
loaded). Re-running is safe: the same bytes land once and load once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest.landing import LandingArea, flush_to_disk, quarantine, received_at, sha256_file
from ingest.readers import Read, Readers, Request, local_day
from ingest.registry import refresh as refresh_registry
from ingest.sources.unit_files import Problem, Report
from warehouse import calendar
from warehouse.backends import raw_connection
from warehouse.errors import ChisoError
from warehouse.faults import kill_point
from warehouse.periods import previous_month
from warehouse.raw import ensure_raw_schema, insert_rows, load_rejections, submissions_query
from warehouse.settings import Settings
from warehouse.transaction import transaction

SOURCE = "unit_files"


class IngestError(ChisoError):
    """Ingestion found something it must not load (e.g. a landed file that changed)."""


@dataclass
class IngestSummary:
    received: int = 0
    landed: int = 0
    duplicates: int = 0  # received again, byte for byte: kept once
    quarantined: list[str] = field(default_factory=list)
    loaded_files: int = 0
    loaded_rows: int = 0
    loaded: list[str] = field(default_factory=list)  # the landed paths of the files loaded
    already_loaded: int = 0
    integrity_errors: list[str] = field(default_factory=list)  # changed on disk: stop
    not_loadable: list[str] = field(default_factory=list)  # landed, fails today's rules
    warnings: list[str] = field(default_factory=list)  # loaded, but worth a look
    waiting: list[str] = field(default_factory=list)  # hidden files left for a later run
    workers: int = 1  # processes that read the files (1: this one)

    def line(self) -> str:
        return (
            f"{self.received} received"
            + (f" (read by {self.workers} worker processes)" if self.workers > 1 else "")
            + f", {self.landed} landed, {self.duplicates} duplicate, "
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
_LANDED_PATH = _FILE_COLUMNS.split(", ").index("landed_path")


LOAD_BATCH_FILES = 500  # files per transaction: one commit costs ~10 ms in DuckDB
JUMP_POINTS = 30.0  # a ratio moving more than this many points in a month is implausible
JUMP_FACTOR = 3.0  # a denominator growing or shrinking more than this is implausible


class _KnownFigures:
    """(unit, indicator, month) -> (percent, denominator) of the submission that counts
    (dbt's macro ``unit_report_submissions``, the one place that rule is written), read a
    month at a time when a report first asks for it (memory grows with the months loaded,
    not with the history); the run's own loads are added as they go."""

    def __init__(self, conn, dbt_project_dir: Path) -> None:
        self.conn = conn
        self.submissions = submissions_query(dbt_project_dir)
        self.figures: dict[tuple[str, str, str], tuple[float | None, float | None]] = {}
        self.months: set[str] = set()

    def get(self, key: tuple[str, str, str]) -> tuple[float | None, float | None] | None:
        month = key[2]
        if month not in self.months:
            self.months.add(month)
            rows = self.conn.execute(
                "select unit_code, indicator_code, period, "
                "100.0 * numerator / nullif(denominator, 0), denominator "
                f"from ({self.submissions}) as submissions "
                "where submission_rank = 1 and period = ?",
                [month],
            ).fetchall()
            for row in rows:
                self.figures.setdefault((row[0], row[1], row[2]), (row[3], row[4]))
        return self.figures.get(key)

    def __setitem__(self, key: tuple[str, str, str], value) -> None:
        self.figures[key] = value


def jump_warnings(report: Report, known) -> list[Problem]:
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
    with transaction(conn):
        insert_rows(conn, "raw.unit_report_values", _VALUE_COLUMNS.split(", "), batch.values)
        insert_rows(conn, "raw.unit_report_files", _FILE_COLUMNS.split(", "), batch.files)
        insert_rows(conn, "raw.reporting_exception_uses", _USE_COLUMNS.split(", "), batch.uses)
        kill_point("ingest_mid_batch")
    summary.loaded_files += len(batch.files)
    summary.loaded_rows += len(batch.values)
    summary.loaded.extend(row[_LANDED_PATH] for row in batch.files)
    return _Batch()


def _reject(
    settings: Settings,
    path: Path,
    report: Report,
    problems: list[Problem],
    sha256: str | None = None,
    received: datetime | None = None,
) -> Path:
    """Quarantine an inbox file with its problems (on disk at the batch's flush)."""
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
        durable=False,
    )


def _to_load(landing: Path, loaded: set[str], summary: IngestSummary, log) -> list[tuple]:
    """The landed files not yet in raw, with their sidecars, in the order they were
    received (so a correction's jump warnings compare with the file it corrects). A landed
    file without its sidecar is a run stopped between the two writes: its original is still
    in the inbox, and lands again below."""
    out = []
    for landed in _landed_files(landing):
        sha256 = landed.name.split(".")[0]
        if sha256 in loaded:
            summary.already_loaded += 1
            continue
        sidecar = landed.with_name(landed.name + ".meta.json")
        if sidecar.exists():
            out.append((landed, json.loads(sidecar.read_text(encoding="utf-8"))))
    out.sort(key=lambda item: (item[1].get("received_at") or "", item[0].name))
    return out


class _Loader:
    """Landed files -> raw, in the order given, ``LOAD_BATCH_FILES`` to a transaction: each
    re-hashed first (a landed file whose bytes changed is reported, never loaded) and its
    figures held against the unit's previous month (jump warnings)."""

    def __init__(
        self, conn, summary: IngestSummary, loaded: set[str], log, dbt_project_dir: Path
    ) -> None:
        self.conn, self.summary, self.loaded, self.log = conn, summary, loaded, log
        self.known = _KnownFigures(conn, dbt_project_dir)
        self.batch = _Batch()

    def add(
        self,
        landed: Path,
        received: str | None,
        report: Report,
        exception: calendar.LockGrant | None,
        hashed: bool = False,
    ) -> None:
        """``hashed``: ``landed`` holds the very bytes hashed when they were read (staged
        by the reader and renamed into place in this run), so it is not hashed again."""
        sha256 = landed.name.split(".")[0]
        if sha256 in self.loaded:
            return
        if not hashed and sha256_file(landed) != sha256:
            self.summary.integrity_errors.append(str(landed))
            self.log(f"  INTEGRITY: {landed} no longer matches its sha256; not loaded")
            return
        if not report.is_valid:  # the catalog or registry changed since it landed
            self.summary.not_loadable.append(str(landed))
            self.log(
                f"  {report.file_name} ({landed.name}) no longer validates: {report.errors[0]}"
            )
            return
        self.loaded.add(sha256)
        for warning in jump_warnings(report, self.known):
            self.summary.warnings.append(f"{report.file_name}: {warning}")
            self.log(f"  warning {report.file_name}: {warning}")
        for row in report.rows:
            percent = (
                100 * row.numerator / row.denominator
                if row.numerator is not None and row.denominator
                else None
            )
            self.known[(report.unit_code, row.indicator_code, report.period)] = (
                percent,
                row.denominator,
            )
        self.batch.files.append(_file_row(report, sha256, landed, received))
        self.batch.values += _value_rows(report, sha256, received)
        if exception is not None:
            self.batch.uses.append(
                (
                    sha256,
                    exception.exception_id,
                    report.unit_code,
                    report.period,
                    received,
                    datetime.now(UTC),
                )
            )
        if len(self.batch.files) >= LOAD_BATCH_FILES:
            self.flush()

    def flush(self) -> None:
        self.batch = _load_batch(self.conn, self.batch, self.summary)


def _receipt(landed: Path, received: datetime, is_new: bool) -> str:
    """When the landed bytes were first received: this file's receipt if it brought them,
    else the sidecar's (written once)."""
    if is_new:
        return received.isoformat(timespec="microseconds")
    sidecar = landed.with_name(landed.name + ".meta.json")
    return json.loads(sidecar.read_text(encoding="utf-8")).get("received_at")


def ingest_inbox(
    settings: Settings,
    log: Callable[[str], None] = print,
    take_inbox: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
) -> IngestSummary:
    """Landed files not loaded yet (a run stopped between landing and loading), then the
    inbox's files -> landing or quarantine -> raw, a batch at a time. ``take_inbox=False``
    does only the first part (the Airflow pipeline: the inbox belongs to the unit-files
    DAG, which emits the Asset when it loads something).

    Files are read in worker processes (``settings.ingest_workers``), every write is made
    here in the order the files were received; a batch's copies are put on disk together
    before any of its files leaves the inbox. ``progress`` hears of each file read (else a
    line is logged per batch)."""
    settings.ensure_dirs()
    landing = settings.landing_dir / SOURCE
    summary = IngestSummary()
    with closing(raw_connection(settings)) as conn:
        ensure_raw_schema(conn)
        registry = refresh_registry(conn, settings.provinces)
        granted = calendar.exceptions(conn)
        rows = conn.execute("select file_sha256 from raw.unit_report_files").fetchall()
        loader = _Loader(conn, summary, {row[0] for row in rows}, log, settings.dbt_project_dir)
        with Readers(settings, registry, granted, stage_in=landing) as readers:
            leftovers = _to_load(landing, loader.loaded, summary, log)
            requests = [
                Request(landed, meta["original_name"], _received_on(meta, settings.timezone))
                for landed, meta in leftovers
            ]
            for (landed, meta), read in zip(leftovers, readers.read(requests), strict=True):
                loader.add(landed, meta.get("received_at"), read.report, read.exception)
            loader.flush()
            if take_inbox:
                _take_inbox(settings, readers, loader, summary, log, progress)
            summary.workers = readers.used
        load_rejections(conn, settings.quarantine_dir / SOURCE)
    return summary


def _received_on(meta: dict, timezone: str) -> date:
    received = meta.get("received_at")
    return local_day(datetime.fromisoformat(received), timezone) if received else date.today()


def _take_inbox(
    settings: Settings,
    readers: Readers,
    loader: _Loader,
    summary: IngestSummary,
    log,
    progress: Callable[[int, int, str], None] | None = None,
) -> None:
    landing = LandingArea(settings.landing_dir / SOURCE)
    if stale := landing.remove_stale_stages():
        log(f"  removed {stale} staged cop(ies) a stopped run left (their files are read again)")
    waiting, hidden = _inbox_files(settings.inbox_dir)
    for path in hidden:
        if datetime.now(UTC) - received_at(path) < HIDDEN_GRACE:
            summary.waiting.append(path.name)
            log(f"  waiting: {path.name} is hidden (an upload under way?); not read yet")
            continue
        summary.received += 1
        _reject(settings, path, Report(path.name, ""), [hidden_file_problem(path.name)])
        flush_to_disk()
        summary.quarantined.append(path.name)
        log(f"  quarantined hidden file {path.name}")
        path.unlink()
    with ThreadPoolExecutor(1, thread_name_prefix="inbox-unlink") as unlinker:
        _take_files(waiting, landing, readers, loader, summary, settings, unlinker, log, progress)


def _unlink_all(paths: list[Path]) -> None:
    for path in paths:
        path.unlink()


def _take_files(
    waiting: list[Path],
    landing: LandingArea,
    readers: Readers,
    loader: _Loader,
    summary: IngestSummary,
    settings: Settings,
    unlinker: ThreadPoolExecutor,
    log,
    progress: Callable[[int, int, str], None] | None = None,
) -> None:
    """The inbox's files, a batch at a time; a flushed batch's originals are removed by
    ``unlinker``'s thread (an unlink costs up to half a millisecond in a large folder, and
    releases the GIL) while the next batch is read and landed."""
    taken: list[Path] = []  # landed or quarantined, on disk at the batch's flush
    to_load: list[tuple[Path, str | None, Read, bool]] = []
    removing: Future | None = None
    reads = readers.read([Request(path, path.name) for path in waiting])
    for number, read in enumerate(reads, 1):
        path, report, sha256 = read.request.path, read.report, read.sha256
        assert sha256 is not None and read.received is not None
        summary.received += 1
        if report.is_valid:
            landed, is_new = landing.land(
                path,
                report.period,
                sha256,
                path.name,
                report.unit_code,
                received=read.received,
                durable=False,
                staged=read.staged,
            )
            kill_point("ingest_after_landing")
            for warning in report.warnings:  # said for every file received, duplicates too
                summary.warnings.append(f"{path.name}: {warning}")
                log(f"  warning {path.name}: {warning}")
            if is_new:
                summary.landed += 1
            else:
                summary.duplicates += 1
            hashed = is_new and read.staged is not None
            to_load.append((landed, _receipt(landed, read.received, is_new), read, hashed))
        else:
            folder = _reject(settings, path, report, report.problems, sha256, read.received)
            summary.quarantined.append(path.name)
            log(f"  quarantined {path.name} -> {folder}")
            for problem in report.errors[:5]:
                log(f"    {problem}")
        taken.append(path)
        if len(taken) >= LOAD_BATCH_FILES or number == len(waiting):
            flush_to_disk()  # the batch's copies are on disk: now its originals may go
            if removing is not None:
                removing.result()  # the previous batch's are gone (or its error is raised)
            removing = unlinker.submit(_unlink_all, taken)
            for landed, received, done, hashed in to_load:  # the same bytes twice: the first
                loader.add(landed, received, done.report, done.exception, hashed)
            loader.flush()
            taken, to_load = [], []
            if progress is None and len(waiting) >= LOAD_BATCH_FILES:
                log(f"  {number} of {len(waiting)} files read, {summary.loaded_files} loaded")
        if progress is not None:
            progress(number, len(waiting), "files read")
    if removing is not None:
        removing.result()
