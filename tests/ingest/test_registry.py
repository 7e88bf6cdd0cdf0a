"""The registry of reporting units, built from the field library and the departments seed."""

from __future__ import annotations

from datetime import date

import pytest

from ingest.registry import RegistryError, built_in, merged_provinces
from ingest.sources.admin_units import library_tables

SEEDED = ("20", "08", "14")


@pytest.fixture(scope="module")
def registry():
    return built_in(SEEDED)


def test_districts_and_communes_of_both_schemes_come_from_the_library(registry):
    tables = library_tables()
    for served in SEEDED:
        olds = set(merged_provinces(served))
        units = registry.in_province(served)
        districts = {u.admin_unit_id for u in units if u.group == "district"}
        old_communes = {
            u.admin_unit_id for u in units if u.group == "commune" and u.scheme == "pre_2025"
        }
        new_communes = {
            u.admin_unit_id for u in units if u.group == "commune" and u.scheme == "post_2025"
        }
        legacy = [row for row in tables["admin_units_legacy"] if row[0] in olds]
        assert districts == {f"pre_2025-district-{row[2]}" for row in legacy}
        assert old_communes == {f"pre_2025-commune-{row[5]}" for row in legacy if row[5]}
        assert new_communes == {
            f"post_2025-commune-{row[2]}" for row in tables["admin_units_2025"] if row[0] == served
        }
    assert len([u for u in registry.in_province("20") if u.group == "district"]) == 11


def test_tuyen_quang_brings_ha_giang_until_30_june_2025(registry):
    assert merged_provinces("08") == ["02", "08"]
    ha_giang = registry.units["02"]
    assert (ha_giang.valid_to, ha_giang.successor_code) == (date(2025, 6, 30), "08")
    ha_giang_units = [u for u in registry.in_province("08") if u.province_code == "02"]
    assert {u.group for u in ha_giang_units} == {"province", "department", "district", "commune"}
    assert all(u.valid_to == date(2025, 6, 30) for u in ha_giang_units if u.group != "department")
    assert all(not u.exists_in("2025-07") for u in ha_giang_units)


def test_every_old_commune_ends_in_june_2025_and_names_a_new_commune_of_its_province(registry):
    for unit in registry.units.values():
        if unit.group == "commune" and unit.scheme == "pre_2025":
            successor = registry.units[unit.successor_code]
            assert unit.valid_to == date(2025, 6, 30) and unit.exists_in("2025-06")
            assert successor.scheme == "post_2025" and successor.valid_from == date(2025, 7, 1)
            assert successor.served_province_code == unit.served_province_code
            assert unit.code.count(".") == 2  # <province>.<district>.<commune>
    # the new scheme reuses old commune codes for other communes: the codes stay apart
    assert registry.units["20.178.05977"].name_vi == "Phường Vĩnh Trại"
    assert registry.units["20.05977"].name_vi == "Phường Đông Kinh"


def test_merged_departments_end_on_28_february_2025_and_name_their_successor(registry):
    merged = [
        u
        for u in registry.units.values()
        if u.group == "department" and u.valid_to == date(2025, 2, 28)
    ]
    assert {u.code.split(".")[1] for u in merged} >= {"STTTT", "SKHDT", "STNMT", "SGTVT"}
    for unit in merged:
        successor = registry.units[unit.successor_code]
        assert successor.group == "department" and successor.exists_in("2025-03")
        assert successor.province_code == unit.province_code
    new = registry.units["20.SNNMT"]
    assert new.valid_from == date(2025, 3, 1) and not new.exists_in("2025-02")
    after = [
        u for u in registry.in_province("20") if u.group == "department" and u.exists_in("2025-09")
    ]
    before = [
        u for u in registry.in_province("20") if u.group == "department" and u.exists_in("2025-01")
    ]
    assert len(after) < len(before)


def test_a_province_that_is_not_post_2025_is_refused_with_the_setting_to_fix():
    with pytest.raises(RegistryError, match="CHISO_PROVINCES"):
        built_in(("02",))  # Hà Giang is no post-2025 province
