"""Monthly snapshots (immutable, hashed) and file exports of the published marts.

``snapshot`` freezes the published file's marts for its month as Parquet files under
``<snapshots>/<YYYY-MM>/`` with a ``manifest.json`` (month, source run, code and catalog
versions, row counts, sha256 of every file). Snapshots are append-only: making the same
month again either produces the same bytes (a no-op) or is refused; ``force`` keeps the
old snapshot beside the new one. ``verify`` re-hashes every snapshot and names any file
that changed or went missing.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from warehouse.errors import ChisoError
from warehouse.faults import kill_point
from warehouse.settings import PROJECT_ROOT, Settings

MANIFEST = "manifest.json"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


class SnapshotError(ChisoError):
    pass


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _code_version() -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(PROJECT_ROOT), "describe", "--always", "--dirty"],
            capture_output=True,
            text=True,
            timeout=10,
        )
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except OSError:
        pass
    from importlib import metadata

    return metadata.version("chiso")


def _catalog_version(settings: Settings) -> str:
    digest = hashlib.sha256()
    for path in sorted((settings.dbt_project_dir / "seeds").glob("*.csv")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]


def _snapshot_tables(tables: list[str]) -> list[str]:
    """The published marts but those built from the snapshots themselves (a snapshot of
    them would change with every snapshot made)."""
    return [table for table in tables if not table.endswith("_history")]


def _write_parquet(settings: Settings, folder: Path) -> tuple[dict, dict]:
    """Every mart that is published as Parquet (rows in a stable order)."""
    from warehouse.backends import open_warehouse

    folder.mkdir(parents=True)
    with open_warehouse(settings).published() as reader:
        publication = reader.publication()
        counts = {}
        for table in _snapshot_tables(reader.tables):
            reader.write_parquet(table, folder / f"{table}.parquet")
            counts[table] = reader.execute(f'select count(*) from "{table}"').fetchone()[0]
    return {"run_id": publication["run_id"], "as_of_period": publication["as_of_period"]}, counts


def snapshot(settings: Settings, period: str, force: bool = False, log=print) -> Path:
    from warehouse.backends import open_warehouse

    if not open_warehouse(settings).has_published():
        raise SnapshotError("nothing is published yet: run chiso run --period YYYY-MM first")
    target = settings.snapshot_dir / period
    staging = settings.snapshot_dir / f".{period}.staging"
    shutil.rmtree(staging, ignore_errors=True)
    publication, counts = _write_parquet(settings, staging)
    kill_point("snapshot_mid_write")
    if publication["as_of_period"] != period:
        shutil.rmtree(staging)
        raise SnapshotError(
            f"the published file is as of {publication['as_of_period']}, not {period}: "
            f"run chiso run --period {period} first"
        )
    files = {path.name: _sha256(path) for path in sorted(staging.glob("*.parquet"))}
    if target.exists():
        old = json.loads((target / MANIFEST).read_text(encoding="utf-8"))
        if old["files"] == files:
            shutil.rmtree(staging)
            log(f"snapshot {period} already exists with the same bytes: nothing to do")
            return target
        if not force:
            shutil.rmtree(staging)
            raise SnapshotError(
                f"snapshot {period} exists and differs from the published marts "
                f"(source run {old['source_run_id']} vs {publication['run_id']}); it is never "
                "overwritten: use --force to keep it beside a new one"
            )
        kept = settings.snapshot_dir / f"{period}.superseded-{old['source_run_id']}"
        os.replace(target, kept)
        log(f"--force: the earlier snapshot of {period} is kept at {kept}")
    manifest = {
        "period": period,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "source_run_id": publication["run_id"],
        "code_version": _code_version(),
        "catalog_version": _catalog_version(settings),
        "row_counts": counts,
        "files": files,
    }
    (staging / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    for path in staging.iterdir():
        path.chmod(0o444)
    os.replace(staging, target)
    log(f"snapshot {period}: {len(files)} files, {sum(counts.values())} rows -> {target}")
    return target


def verify(settings: Settings) -> list[str]:
    """Every problem found re-hashing the snapshots (empty: all intact)."""
    problems = []
    folders = sorted(
        p for p in settings.snapshot_dir.glob("*") if p.is_dir() and not p.name.startswith(".")
    )
    for folder in folders:
        manifest_path = folder / MANIFEST
        if not manifest_path.exists():
            problems.append(f"{folder}: no {MANIFEST}")
            continue
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        for name, expected in manifest["files"].items():
            path = folder / name
            if not path.exists():
                problems.append(f"{path}: missing")
            elif _sha256(path) != expected:
                problems.append(f"{path}: changed (sha256 differs from the manifest)")
        extra = {p.name for p in folder.iterdir()} - set(manifest["files"]) - {MANIFEST}
        problems += [f"{folder / name}: not in the manifest" for name in sorted(extra)]
    return problems


def _escape(value: object) -> object:
    """Keep spreadsheet programs from reading a text cell as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def export(settings: Settings, out: Path, fmt: str = "csv") -> list[Path]:
    """Every published mart as CSV (UTF-8 with BOM, formula-safe) or Parquet files."""
    import csv

    from warehouse.backends import open_warehouse

    out.mkdir(parents=True, exist_ok=True)
    written = []
    with open_warehouse(settings).published() as reader:
        for table in reader.tables:
            target = out / f"{table}.{fmt}"
            if fmt == "parquet":
                reader.write_parquet(table, target)
            else:
                cursor = reader.rows(table)
                with open(target, "w", encoding="utf-8-sig", newline="") as handle:
                    writer = csv.writer(handle)
                    writer.writerow([c[0] for c in cursor.description])
                    while batch := cursor.fetchmany(10000):
                        writer.writerows([_escape(v) for v in row] for row in batch)
            written.append(target)
    return written
