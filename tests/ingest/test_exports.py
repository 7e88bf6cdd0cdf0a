"""CSV exports users bring: the DTI tables and the portal's provision table (real samples)."""

from __future__ import annotations

import os
import subprocess

import duckdb
import pytest

from ingest import exports
from ingest.sources import dti, provision
from tests.helpers.project import VENV_BIN, shared_folder


@pytest.fixture(scope="module")
def haui():
    return shared_folder("realdata") / "dti_766_pmnm_haui"


def ingest(settings, export, path, period):
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        return exports.ingest_export(conn, export, path, period, settings)
    finally:
        conn.close()


def query(settings, sql):
    conn = duckdb.connect(str(settings.warehouse_path))
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_dti_2022_to_2024_for_63_provinces_each_mapped_to_a_code(settings, haui):
    landed, rows = ingest(settings, dti.EXPORT, haui / "bang_1.csv", "undated")
    assert rows == 189 and landed.read_bytes() == (haui / "bang_1.csv").read_bytes()
    assert ingest(settings, dti.EXPORT, haui / "bang_1.csv", "undated")[1] == 0  # once
    per_year = query(
        settings,
        "select year, count(distinct province_code), min(dti_total) > 0, max(dti_total) <= 1 "
        "from raw.dti_scores group by year order by year",
    )
    assert per_year == [(2022, 63, True, True), (2023, 63, True, True), (2024, 63, True, True)]
    da_nang = query(
        settings,
        "select province_code, dti_total, digital_infrastructure from raw.dti_scores "
        "where province_name = 'TP. Đà Nẵng' and year = 2022",
    )
    assert da_nang == [("48", 0.8002, 0.8253)]  # pre-2025 code of Đà Nẵng


def test_an_unknown_province_name_is_named_and_the_file_quarantined(settings, haui, tmp_path):
    text = (haui / "bang_1.csv").read_text(encoding="utf-8-sig")
    bad = tmp_path / "dti.csv"
    bad.write_text(text.replace("Quảng Ninh,", "Quảng Ninhh,", 1), encoding="utf-8")
    with pytest.raises(exports.ExportError, match="'Quảng Ninhh'"):
        ingest(settings, dti.EXPORT, bad, "undated")
    assert not (settings.landing_dir / "dti_scores").exists()
    (kept,) = (settings.quarantine_dir / "dti_scores" / "undated").glob("*.csv")
    assert kept.read_bytes() == bad.read_bytes()


def test_provision_counts_repaired_and_checked(settings, haui):
    _, rows = ingest(settings, provision.EXPORT, haui / "dichvucong_clean.csv", "2025-10")
    assert rows == 34
    khanh_hoa = query(
        settings,
        "select province_code, procedures, eligible_full_online, offered_full_online, "
        "offered_partly_online, not_online from raw.portal_provision "
        "where province_name = 'Khánh Hòa'",
    )
    # "2.168,1.068,593,1.29,285": 1.29 lost its zero; 593 + 1290 + 285 = 2168
    assert khanh_hoa == [("56", 2168, 1068, 593, 1290, 285)]
    assert query(
        settings,
        "select count(*) from raw.portal_provision "
        "where offered_full_online + offered_partly_online + not_online <> procedures",
    ) == [(0,)]
    assert query(
        settings, "select province_code from raw.portal_provision where province_name = 'Đăk Lăk'"
    ) == [("66",)]


def test_a_provision_row_that_does_not_add_up_is_named(settings, haui, tmp_path):
    text = (haui / "dichvucong_clean.csv").read_text(encoding="utf-8-sig")
    bad = tmp_path / "provision.csv"
    bad.write_text(text.replace("Lai Châu,2.154,", "Lai Châu,2.155,"), encoding="utf-8")
    with pytest.raises(exports.ExportError, match="line 2: full \\+ partial \\+ none = 2154"):
        ingest(settings, provision.EXPORT, bad, "2025-10")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"TinhThanh,Nam\nA,2022\n", "missing column DTI_Tong"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        (b"TinhThanh,DTI_Tong,DTI_ChinhQuyenSo,DTI_KinhTeSo,DTI_XaHoiSo,HaTangSo,Nam\n", "no data"),
    ],
    ids=["missing-column", "not-utf8", "no-rows"],
)
def test_unreadable_exports_are_refused_clearly(settings, tmp_path, content, message):
    bad = tmp_path / "x.csv"
    bad.write_bytes(content)
    with pytest.raises(exports.ExportError, match=message):
        ingest(settings, dti.EXPORT, bad, "undated")


def test_chiso_ingest_dti_and_reparse(settings, haui):
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(settings.data_dir)
    chiso = [str(VENV_BIN / "chiso"), "ingest"]
    out = subprocess.run(
        [*chiso, "dti", "--file", str(haui / "bang_1.csv")], env=env, capture_output=True, text=True
    )
    assert out.returncode == 0 and "189 rows loaded into raw.dti_scores" in out.stdout, out.stderr
    before = query(settings, "select * exclude (loaded_at) from raw.dti_scores order by all")
    out = subprocess.run([*chiso, "dti", "--reparse"], env=env, capture_output=True, text=True)
    assert "189 rows in raw.dti_scores" in out.stdout, out.stderr
    after = query(settings, "select * exclude (loaded_at) from raw.dti_scores order by all")
    assert after == before
    out = subprocess.run(
        [*chiso, "provision", "--file", str(haui / "dichvucong_clean.csv")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 2 and "give --period" in out.stderr
