"""Monthly snapshots (append-only, hashed) and CSV/Parquet exports of the published marts."""

from __future__ import annotations

import csv
import json
import os
import shutil

import duckdb
import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def data(demo, tmp_path, monkeypatch):
    copy = tmp_path / "data"
    shutil.copytree(demo.data / "published", copy / "published")
    for name in list(os.environ):
        if name.startswith("CHISO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHISO_DATA_DIR", str(copy))
    from warehouse.settings import load_settings

    settings = load_settings()
    settings.ensure_dirs()
    return settings


def test_snapshot_round_trip_and_tampering_is_named(data):
    from chiso.snapshot import snapshot, verify

    folder = snapshot(data, "2025-09", log=lambda _: None)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["period"] == "2025-09" and manifest["row_counts"]["target_progress"] > 0
    assert set(manifest["files"]) == {f"{t}.parquet" for t in manifest["row_counts"]}
    assert verify(data) == []
    victim = folder / "target_progress.parquet"
    victim.chmod(0o644)
    raw = bytearray(victim.read_bytes())
    raw[100] ^= 0xFF  # one byte
    victim.write_bytes(bytes(raw))
    assert verify(data) == [f"{victim}: changed (sha256 differs from the manifest)"]


def test_a_month_made_again_is_a_no_op_or_refused_and_force_keeps_the_old(data):
    from chiso.snapshot import SnapshotError, snapshot

    first = snapshot(data, "2025-09", log=lambda _: None)
    created = json.loads((first / "manifest.json").read_text())["created_at"]
    messages = []
    snapshot(data, "2025-09", log=messages.append)
    assert "nothing to do" in messages[0]
    assert json.loads((first / "manifest.json").read_text())["created_at"] == created

    conn = duckdb.connect(str(data.published_path))  # a corrected publication, same month
    conn.execute("update target_progress set status = 'on_track' where status = 'off_track'")
    conn.close()
    with pytest.raises(SnapshotError, match="never overwritten: use --force"):
        snapshot(data, "2025-09", log=lambda _: None)
    messages = []
    snapshot(data, "2025-09", force=True, log=messages.append)
    kept = [p.name for p in data.snapshot_dir.iterdir() if ".superseded-" in p.name]
    assert len(kept) == 1 and "kept at" in messages[0]


def test_a_month_that_is_not_published_is_refused(data):
    from chiso.snapshot import SnapshotError, snapshot

    with pytest.raises(SnapshotError, match="as of 2025-09, not 2025-06"):
        snapshot(data, "2025-06", log=lambda _: None)


def test_csv_export_escapes_formulas_but_not_negative_numbers(data, tmp_path):
    from chiso.snapshot import export

    conn = duckdb.connect(str(data.published_path))
    conn.execute("update dim_unit set note = '=HYPERLINK(\"http://x\")' where unit_code = '20.STP'")
    conn.close()
    paths = {p.stem: p for p in export(data, tmp_path / "csv")}
    with open(paths["dim_unit"], encoding="utf-8-sig", newline="") as handle:
        rows = {row["unit_code"]: row for row in csv.DictReader(handle)}
    assert rows["20.STP"]["note"] == '\'=HYPERLINK("http://x")'
    with open(paths["target_progress"], encoding="utf-8-sig", newline="") as handle:
        gaps = [row["gap_to_target"] for row in csv.DictReader(handle) if row["gap_to_target"]]
    assert any(gap.startswith("-") for gap in gaps)  # numbers stay numbers
    parquet = export(data, tmp_path / "pq", "parquet")
    assert {p.suffix for p in parquet} == {".parquet"}
