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
import itertools
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass
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


STAGE_SUFFIX = ".stage"  # a copy a reader worker made, not landed yet (a hidden name)
_staged_count = itertools.count()


@dataclass(frozen=True)
class Staged:
    """A valid inbox file's bytes and sidecar, written by the reader worker beside where
    they land (hidden names ending in ``.stage``); :meth:`LandingArea.land` renames them
    into place in the order the files were received, or removes them."""

    copy: Path
    sidecar: Path


def _sidecar_text(
    sha256: str, original_name: str, unit_code: str | None, period: str, received: datetime | None
) -> str:
    meta = {
        "sha256": sha256,
        "original_name": original_name,
        "unit_code": unit_code,
        "period": period,
        "received_at": (received or datetime.now(UTC)).isoformat(timespec="microseconds"),
    }
    return json.dumps(meta, ensure_ascii=False, indent=2) + "\n"


def stage(
    data: bytes,
    landing_root: Path,
    period: str,
    sha256: str,
    original_name: str,
    unit_code: str | None,
    received: datetime,
) -> Staged:
    """Write a file's bytes (read-only) and its sidecar next to their landing place, for
    the run's process to rename into place: the copying leaves the run's process, the
    decision (first received wins) stays with it. Not on disk until the batch's flush."""
    folder = landing_root / period
    folder.mkdir(parents=True, exist_ok=True)
    token = f"{sha256}.{os.getpid()}.{next(_staged_count)}"
    copy, sidecar = folder / f".{token}{STAGE_SUFFIX}", folder / f".{token}.meta{STAGE_SUFFIX}"
    with open(copy, "wb") as handle:
        handle.write(data)
    copy.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    text = _sidecar_text(sha256, original_name, unit_code, period, received)
    sidecar.write_text(text, encoding="utf-8")
    return Staged(copy, sidecar)


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
        staged: Staged | None = None,
    ) -> tuple[Path, bool]:
        """Copy ``source`` into the landing area (read-only) with a sidecar of its origin:
        original name, sender unit, period and when it was received (``received``, default
        now; written once: the same bytes sent again keep their first receipt). With
        ``durable=False`` the copy is on disk only after the caller's :func:`flush_to_disk`.
        ``staged``: the copy and sidecar a reader worker wrote (:func:`stage`), renamed into
        place instead of copying, or removed when these bytes had landed before.

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
        if is_new and staged is not None:
            os.replace(staged.copy, target)
            names.add(name)
            kill_point("landing_mid_copy")  # the copy in place, its sidecar not yet
        elif is_new:
            _atomic_copy(source, target, durable, folder_made=True)
            target.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
            names.add(name)
        elif staged is not None:
            os.unlink(staged.copy)
        sidecar = f"{name}.meta.json"
        if sidecar not in names:
            if staged is not None:
                os.replace(staged.sidecar, target.with_name(sidecar))
            else:
                text = _sidecar_text(sha256, original_name, unit_code, period, received)
                _atomic_write_text(target.with_name(sidecar), text, folder_made=True)
            names.add(sidecar)
        elif staged is not None:  # the first receipt's sidecar stays
            os.unlink(staged.sidecar)
        return target, is_new

    def remove_stale_stages(self) -> int:
        """Remove the staged copies a stopped run left (never landed: their originals are
        still in the inbox, and are read again); the number removed."""
        removed = 0
        for folder in self.root.glob("*/") if self.root.exists() else ():
            for name in os.listdir(folder):
                if name.endswith(STAGE_SUFFIX):
                    (folder / name).unlink()
                    removed += 1
        return removed


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
