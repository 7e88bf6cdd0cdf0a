"""The landing area (immutable raw files) and the quarantine (rejected files + reports).

Landing paths are content-addressed, ``landing/<source>/<period>/<sha256><suffix>``, so the
same bytes land once however often they are sent, and a landed file is never rewritten.
Every write goes through a temporary file and ``os.replace``: a crash leaves either the
whole file or none of it. A copy is on disk (fsync) before its name is: at once by default,
or, for a batch (``durable=False``), by one :func:`flush_to_disk` of the whole batch, which
the caller makes before it deletes any source.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
from datetime import UTC, datetime
from pathlib import Path

from warehouse.faults import kill_point

# the extensions a landed report file may have (ingest.workbook.SUFFIX_FORMATS' keys)
LANDED_SUFFIXES = (".xlsx", ".xls", ".xlsb", ".ods", ".csv")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _atomic_copy(
    source: Path, target: Path, durable: bool = True, folder_made: bool = False
) -> None:
    if not folder_made:
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    kill_point("landing_mid_copy")
    if durable:
        with open(tmp, "rb") as handle:
            os.fsync(handle.fileno())
    os.replace(tmp, target)


def flush_to_disk() -> None:
    """Put every file written so far on disk: one flush for a batch of copies, where an
    fsync each (about 1.5 ms apiece here) would bound the inbox to some 600 files a second.
    A power cut before it leaves the sources in place; a copy whose name reached the disk
    before its bytes is empty, and is copied again from its source (:func:`land`)."""
    os.sync()


def _atomic_write_text(target: Path, text: str, folder_made: bool = False) -> None:
    if not folder_made:
        target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, target)


def received_at(path: Path) -> datetime:
    """When a file in the inbox was received: its modification time there (a file copied
    in keeps the time it arrived), never later than now."""
    stamp = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    return min(stamp, datetime.now(UTC))


def safe_name(original_name: str) -> str:
    """A file name that cannot climb out of its folder or hide control characters."""
    name = re.sub(r"[\x00-\x1f\x7f/\\]", "_", original_name).strip(". ")
    return name or "unnamed"


class LandingArea:
    """One source's landing area as one run writes it: each month's folder is listed once
    (a set of names), not asked about file by file (a stat costs tens of microseconds
    here, and a file asks about seven names). Only the run holding the lock writes the
    landing area, so the listing stays true while the run lasts."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._names: dict[str, set[str]] = {}

    def _listing(self, period: str) -> set[str]:
        names = self._names.get(period)
        if names is None:
            folder = self.root / period
            folder.mkdir(parents=True, exist_ok=True)
            names = set(os.listdir(folder))
            self._names[period] = names
        return names

    def land(
        self,
        source: Path,
        period: str,
        sha256: str,
        original_name: str,
        unit_code: str | None = None,
        received: datetime | None = None,
        durable: bool = True,
    ) -> tuple[Path, bool]:
        """Copy ``source`` into the landing area (read-only) with a sidecar of its origin:
        original name, sender unit, period and when it was received (``received``, default
        now; written once: the same bytes sent again keep their first receipt). With
        ``durable=False`` the copy is on disk only after the caller's :func:`flush_to_disk`.

        Returns the landed path and whether it is new (False: these bytes had landed before).
        """
        names = self._listing(period)
        own = f"{sha256}{Path(original_name).suffix.lower()}"
        # the same bytes landed under another extension (an .xls sent again named .xlsx)
        # are the same file: kept and loaded once
        name = next(
            (n for n in (own, *(sha256 + suffix for suffix in LANDED_SUFFIXES)) if n in names),
            own,
        )
        target = self.root / period / name
        is_new = name not in names
        if not is_new and target.stat().st_size == 0 < source.stat().st_size:
            # a power cut between a batch's rename and its flush: these bytes never landed
            is_new = True
        if is_new:
            _atomic_copy(source, target, durable, folder_made=True)
            target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            names.add(name)
        sidecar = f"{name}.meta.json"
        if sidecar not in names:
            meta = {
                "sha256": sha256,
                "original_name": original_name,
                "unit_code": unit_code,
                "period": period,
                "received_at": (received or datetime.now(UTC)).isoformat(timespec="microseconds"),
            }
            text = json.dumps(meta, ensure_ascii=False, indent=2) + "\n"
            _atomic_write_text(target.with_name(sidecar), text, folder_made=True)
            names.add(sidecar)
        return target, is_new


def land_bytes(data: bytes, folder: Path, sha256: str, suffix: str, meta: dict) -> Path:
    """Keep an answer fetched from a source: content-addressed, read-only, with a sidecar
    saying where and when it came from (written once)."""
    target = folder / f"{sha256}{suffix}"
    if not target.exists():
        _atomic_write_bytes(target, data)
        target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    sidecar = target.with_name(target.name + ".meta.json")
    if not sidecar.exists():
        _atomic_write_text(sidecar, json.dumps(meta, ensure_ascii=False, indent=2) + "\n")
    return target


def _atomic_write_bytes(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, target)


def quarantine_folder(quarantine_root: Path, sha256: str, original_name: str) -> Path:
    """A rejected file's folder: its bytes and the name it came under, so the same bytes
    sent under two names (or every empty upload) keep an error report each."""
    name = hashlib.sha256(original_name.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return quarantine_root / f"{sha256[:24]}-{name}"


def quarantine(
    source: Path,
    quarantine_root: Path,
    sha256: str,
    original_name: str,
    problems: list,
    sheet: str | None = None,
    unit_code: str | None = None,
    period: str | None = None,
    received: datetime | None = None,
    durable: bool = True,
) -> Path:
    """Keep a rejected file with its error report (JSON for tools, text for people); the
    unit and period, when the file says them, let completeness show "sent, rejected"."""
    folder = quarantine_folder(quarantine_root, sha256, original_name)
    target = folder / safe_name(original_name)
    if not target.exists() or target.stat().st_size == 0 < source.stat().st_size:
        _atomic_copy(source, target, durable)
    report = {
        "file": original_name,
        "sha256": sha256,
        "unit_code": unit_code,
        "period": period,
        "received_at": (received or datetime.now(UTC)).isoformat(timespec="microseconds"),
        "errors": [
            {
                "sheet": sheet,
                "row": p.row,
                "cell": p.cell,
                "severity": p.severity,
                "vi": p.message_vi,
                "en": p.message_en,
            }
            for p in problems
        ],
    }
    errors_json = folder / "errors.json"
    if errors_json.exists():  # sent again: keep when it was first received
        report["received_at"] = json.loads(errors_json.read_text(encoding="utf-8")).get(
            "received_at", report["received_at"]
        )
    _atomic_write_text(errors_json, json.dumps(report, ensure_ascii=False, indent=2) + "\n")
    lines = [f"Tệp bị từ chối / file rejected: {original_name}", ""]
    lines += [f"- {problem.located(sheet)}" for problem in problems]
    _atomic_write_text(folder / "errors.txt", "\n".join(lines) + "\n")
    return folder
