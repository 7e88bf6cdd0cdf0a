"""Crash safety: the process is SIGKILLed at a point inside each stage (no exception
handler runs), then the same month is run again. The published file is always a complete
earlier or later publication, nothing accepted is lost or loaded twice, and the re-run
gives exactly the marts of an uninterrupted run."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import duckdb
import pytest

from chiso.samples.report_files import generate
from ingest.landing import sha256_file
from ingest.readers import MIN_FILES_FOR_WORKERS
from tests.helpers.data import table_contents
from tests.helpers.project import VENV_BIN
from tests.helpers.runs import chiso_environment

pytestmark = pytest.mark.slow


# Lạng Sơn and Sơn La: a month of their sample is enough files for the reader workers, which
# every kill below then runs beside
PROVINCES = ("20", "14")


def chiso(data: Path, *arguments: str, kill_at: str | None = None):
    env = chiso_environment(data, CHISO_DATA_DOCS="0", CHISO_PROVINCES=",".join(PROVINCES))
    if kill_at:
        env["CHISO_FAULT_KILL_AT"] = kill_at
    return subprocess.run(
        [str(VENV_BIN / "chiso"), *arguments], env=env, capture_output=True, text=True
    )


@pytest.fixture(scope="session")
def published_may(tmp_path_factory):
    """A data directory where May 2025 is published; June's files not yet sent."""
    data = tmp_path_factory.mktemp("crash") / "may"
    generate(data / "inbox", start="2025-03", end="2025-05", provinces=PROVINCES)
    out = chiso(data, "run", "--period", "2025-05")
    assert out.returncode == 0, out.stderr[-3000:]
    return data, table_contents(data / "published" / "chiso.duckdb")


@pytest.fixture(scope="session")
def june_uninterrupted(published_may, tmp_path_factory):
    data = tmp_path_factory.mktemp("crash") / "june"
    shutil.copytree(published_may[0], data)
    june = generate(data / "inbox", start="2025-06", end="2025-06", provinces=PROVINCES)
    out = chiso(data, "run", "--period", "2025-06")
    assert out.returncode == 0, out.stderr[-3000:]
    # the month is read by worker processes (as every kill below reads it), where the
    # machine has the cores for them
    assert len(june) >= MIN_FILES_FOR_WORKERS
    if len(os.sched_getaffinity(0)) > 1:
        assert "worker processes" in out.stdout, out.stdout[-2000:]
    return table_contents(data / "published" / "chiso.duckdb")


def raw_is_whole(data: Path, expected_files: int) -> None:
    conn = duckdb.connect(str(data / "warehouse" / "chiso.duckdb"), read_only=True)
    try:
        files, distinct = conn.execute(
            "select count(*), count(distinct file_sha256) from raw.unit_report_files"
        ).fetchone()
        values, keys = conn.execute(
            "select count(*), count(distinct (file_sha256, source_row)) from raw.unit_report_values"
        ).fetchone()
        orphans = conn.execute(
            "select count(*) from raw.unit_report_values v where not exists "
            "(select 1 from raw.unit_report_files f where f.file_sha256 = v.file_sha256)"
        ).fetchone()[0]
    finally:
        conn.close()
    assert files == distinct == expected_files  # nothing lost, nothing twice
    assert values == keys and orphans == 0


@pytest.mark.parametrize(
    "kill_at",
    [
        "landing_mid_copy",
        "ingest_after_landing",
        "ingest_mid_batch",
        "build_before_candidate",
        "candidate_mid_write",
        "gate_before_verdict",
        "publish_before_replace",
    ],
)
def test_a_run_killed_inside_a_stage_then_rerun_equals_an_uninterrupted_run(
    kill_at, published_may, june_uninterrupted, tmp_path
):
    may, may_contents = published_may
    data = tmp_path / "data"
    shutil.copytree(may, data)
    june_files = generate(data / "inbox", start="2025-06", end="2025-06", provinces=PROVINCES)
    loaded_before = len(list((data / "landing" / "unit_files").glob("*/*.meta.json")))

    killed = chiso(data, "run", "--period", "2025-06", kill_at=kill_at)
    assert killed.returncode == -signal.SIGKILL, (killed.stdout[-2000:], killed.stderr[-2000:])
    # readers still get the previous complete publication
    assert table_contents(data / "published" / "chiso.duckdb") == may_contents

    again = chiso(data, "run", "--period", "2025-06")
    assert again.returncode == 0, again.stderr[-3000:]
    assert table_contents(data / "published" / "chiso.duckdb") == june_uninterrupted
    raw_is_whole(data, loaded_before + len(june_files))


def test_a_snapshot_killed_midway_then_rerun_gives_the_same_bytes(published_may, tmp_path):
    may, _ = published_may
    clean, crashed = tmp_path / "clean", tmp_path / "crashed"
    shutil.copytree(may, clean)
    shutil.copytree(may, crashed)
    assert chiso(clean, "snapshot", "--period", "2025-05").returncode == 0

    killed = chiso(crashed, "snapshot", "--period", "2025-05", kill_at="snapshot_mid_write")
    assert killed.returncode == -signal.SIGKILL
    assert not (crashed / "snapshots" / "2025-05").exists()  # no half snapshot
    assert chiso(crashed, "snapshot", "verify").returncode == 0
    assert chiso(crashed, "snapshot", "--period", "2025-05").returncode == 0
    assert chiso(crashed, "snapshot", "verify").returncode == 0

    def parquet_hashes(data: Path) -> dict[str, str]:
        folder = data / "snapshots" / "2025-05"
        return {path.name: sha256_file(path) for path in sorted(folder.glob("*.parquet"))}

    assert parquet_hashes(crashed) == parquet_hashes(clean) != {}
