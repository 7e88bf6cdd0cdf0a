"""A file a unit sends through its page: refused at the door, or checked and put into the
inbox, exactly as a file copied there (the same checks, landing, quarantine, the same
bytes kept once).

Refused before anything is written: a name with a folder in it, a file over the size limit
(``CHISO_MAX_FILE_BYTES``), more files in the last hour than ``CHISO_WEB_UPLOADS_PER_HOUR``,
and a file that says it is another unit's. Anything else goes into the inbox, valid or not:
the page shows the verdict ``chiso validate-file`` gives, at once; a broken file is then
quarantined by the next ingest with its report, as every rejected file is, and a valid
one gets a receipt (its SHA-256, when it was received, its period). Every file that came
in is one line of ``<data>/web/uploads.jsonl``: the unit's history of sending, and what the
rate limit counts.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from ingest.landing import safe_name
from ingest.readers import local_day
from ingest.registry import Registry, built_in, for_settings
from ingest.sources.unit_files import read_received
from warehouse.calendar import exceptions, exceptions_for_settings
from warehouse.errors import BilingualError
from warehouse.lock import LockedError, run_lock
from warehouse.settings import Settings

REFERENCE_SECONDS = 300  # how long the pages keep the registry and the exceptions they read
_reference: dict = {}  # data directory -> (read at, registry, exceptions)


class UploadRefused(BilingualError):
    """A file refused before anything was written, with the HTTP status to answer."""

    def __init__(self, vi: str, en: str, status: int):
        super().__init__(vi, en)
        self.status = status


@dataclass(frozen=True)
class Finding:
    cell: str | None
    row: int | None
    severity: str
    vi: str
    en: str


@dataclass(frozen=True)
class Receipt:
    """What the page says of a file that came in, and the line kept in the uploads log."""

    unit_code: str
    file_name: str  # as the clerk named it
    stored_as: str  # its name in the inbox
    sha256: str
    received_at: str  # ISO, in the instance's time zone
    period: str | None
    valid: bool
    findings: list[Finding] = field(default_factory=list)
    sheet: str | None = None
    rows: int = 0

    @property
    def errors(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [finding for finding in self.findings if finding.severity != "error"]


def reference(settings: Settings) -> tuple[Registry, list]:
    """The unit registry (imported lists included) and the reporting exceptions, as the
    inbox reads them, kept for REFERENCE_SECONDS. Read under the run lock, never beside a
    run (DuckDB's file admits one process at a time); while a run holds it, the last read,
    or before any, the built-in registry and the calendar seed's exceptions."""
    key = str(settings.data_dir)
    kept = _reference.get(key)
    if kept and time.monotonic() - kept[0] < REFERENCE_SECONDS:
        return kept[1], kept[2]
    try:
        with run_lock(settings.lock_path, "chiso serve: reading the unit registry"):
            read = (time.monotonic(), for_settings(settings), exceptions_for_settings(settings))
    except LockedError:
        return (kept[1], kept[2]) if kept else (built_in(settings.provinces), exceptions())
    _reference[key] = read
    return read[1], read[2]


def _log_path(settings: Settings):
    return settings.web_dir / "uploads.jsonl"


def history(settings: Settings, unit_code: str) -> list[dict]:
    """The files a unit sent through its page, latest first."""
    path = _log_path(settings)
    if not path.exists():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    sent = [json.loads(line) for line in lines if line.strip()]
    return [entry for entry in reversed(sent) if entry["unit_code"] == unit_code]


def check_name(file_name: str) -> str:
    """The clerk's file name, or UploadRefused when it holds a folder (``../x``, ``a/b``,
    ``C:\\x``) or nothing at all."""
    if not file_name or any(part in file_name for part in ("/", "\\", "\x00")) or ".." in file_name:
        raise UploadRefused(
            "Tên tệp không được chứa đường dẫn thư mục (/, \\ hoặc ..). Hãy đổi tên tệp rồi "
            "gửi lại.",
            "The file name must not hold a folder path (/, \\ or ..). Rename the file and "
            "send it again.",
            400,
        )
    return file_name


def check_rate(settings: Settings, unit_code: str, now: datetime) -> None:
    limit = settings.web_uploads_per_hour
    since = now - timedelta(hours=1)
    sent = history(settings, unit_code)
    recent = [entry for entry in sent if datetime.fromisoformat(entry["received_at"]) > since]
    if len(recent) >= limit:
        raise UploadRefused(
            f"Đơn vị đã gửi {len(recent)} tệp trong một giờ qua (tối đa {limit}). Hãy đợi "
            "rồi gửi lại sau.",
            f"Your unit sent {len(recent)} files in the last hour (at most {limit}). Wait, "
            "then send again later.",
            429,
        )


def too_large(settings: Settings) -> UploadRefused:
    mib = settings.max_file_bytes / 1024 / 1024
    return UploadRefused(
        f"Tệp lớn hơn {mib:g} MB, quá giới hạn. Hãy gửi tệp theo mẫu, không kèm ảnh hay "
        "trang tính khác.",
        f"The file is larger than {mib:g} MB, over the limit. Send the template only, "
        "without pictures or other sheets.",
        413,
    )


def receive(settings: Settings, unit_code: str, file_name: str, data: bytes) -> Receipt:
    """Check a file a unit sent and put it into the inbox; UploadRefused when it cannot
    come in at all (nothing is written then)."""
    check_name(file_name)
    if len(data) > settings.max_file_bytes:
        raise too_large(settings)
    now = datetime.now(UTC)
    check_rate(settings, unit_code, now)
    registry, granted = reference(settings)
    received_on = local_day(now, settings.timezone)
    report, _ = read_received(
        settings.inbox_dir / file_name, file_name, registry, received_on, granted, settings, data
    )
    if report.unit_code and report.unit_code != unit_code:
        raise UploadRefused(
            f"Tệp này ghi mã đơn vị {report.unit_code}, không phải đơn vị của bạn "
            f"({unit_code}). Mỗi đơn vị chỉ gửi báo cáo của mình.",
            f"This file names unit {report.unit_code}, not yours ({unit_code}). Each unit "
            "sends its own report only.",
            403,
        )
    sha256 = hashlib.sha256(data).hexdigest()
    stored_as = f"{unit_code}_{now:%Y%m%dT%H%M%S}_{sha256[:8]}_{safe_name(file_name)}"
    _write_into_inbox(settings, stored_as, data)
    receipt = Receipt(
        unit_code=unit_code,
        file_name=file_name,
        stored_as=stored_as,
        sha256=sha256,
        received_at=now.astimezone(ZoneInfo(settings.timezone)).isoformat(timespec="seconds"),
        period=report.period,
        valid=report.is_valid,
        findings=[
            Finding(p.cell, p.row, p.severity, p.message_vi, p.message_en) for p in report.problems
        ],
        sheet=report.sheet,
        rows=len(report.rows),
    )
    _log(settings, receipt)
    return receipt


def _write_into_inbox(settings: Settings, name: str, data: bytes) -> None:
    """Hidden while it is written (the inbox leaves a file whose name starts with '.'
    for later), then renamed into place: an ingest never reads half a file."""
    inbox = settings.inbox_dir
    inbox.mkdir(parents=True, exist_ok=True)
    partial = inbox / f".upload-{secrets.token_hex(8)}"
    with open(partial, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, inbox / name)


def _log(settings: Settings, receipt: Receipt) -> None:
    entry = asdict(receipt)
    entry["findings"] = len(receipt.findings)
    entry["errors"] = len(receipt.errors)
    settings.web_dir.mkdir(parents=True, exist_ok=True)
    with open(_log_path(settings), "a", encoding="utf-8") as out:
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")
