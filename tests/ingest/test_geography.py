"""Administrative units and the crosswalk, checked against the real lists in ../shared."""

from __future__ import annotations

import csv
import unicodedata

import pytest

from ingest.geography import AdminUnitNotFound, by_code, by_name, normalise_name
from ingest.sources.admin_units import build_tables
from tests.helpers.project import shared_folder


@pytest.fixture(scope="module")
def tables():
    return build_tables("test")


@pytest.fixture(scope="module")
def realdata():
    return shared_folder("realdata") / "admin_units_vietnamadminunits"


def _rows(folder, name):
    with open(folder / name, encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_pre_2025_scheme_matches_the_statistics_office_list(tables, realdata):
    legacy = tables["admin_units_legacy"]
    communes = _rows(realdata, "danhmuchanhchinh.gso.gov.vn_ward_2025-07-18.csv")
    districts = _rows(realdata, "danhmuchanhchinh.gso.gov.vn_district_2025-07-18.csv")
    assert len({row[0] for row in legacy}) == len({r["Mã TP"] for r in communes}) == 63
    assert {row[2] for row in legacy} == {r["Mã"] for r in districts}
    assert len(districts) == 696
    ours = {row[5] for row in legacy if row[5]}
    assert ours == {r["Mã"] for r in communes}
    assert len(ours) == 10035


def test_post_2025_scheme_matches_the_published_list(tables, realdata):
    current = tables["admin_units_2025"]
    provinces = _rows(realdata, "sapnhap.bando.com.vn_province_2025-07-17.csv")
    wards = _rows(realdata, "2025_34-province-3221-ward_with_location.csv")
    assert len({row[0] for row in current}) == len(provinces) == 34
    assert {row[2] for row in current} == {r["wardCode"].zfill(5) for r in wards}
    assert len(current) == 3321


def test_commune_crosswalk_matches_the_published_conversion(tables, realdata):
    published = _rows(realdata, "convert_legacy_2025_simple.csv")

    def old_code(row):  # codes there are unpadded floats ("1.0"); islands have none
        return str(int(float(row["wardCode"]))).zfill(5) if row["wardCode"] else None

    theirs = {(old_code(r), r["newWardCode"], r["isDividedWard"] == "True") for r in published}
    ours = {(row[2], row[4], row[5]) for row in tables["admin_unit_crosswalk"]}
    assert ours == theirs


def _successors(tables, old_code):
    return sorted(
        (new, divided, default)
        for _, _, old, _, new, divided, default, _ in tables["admin_unit_crosswalk"]
        if old == old_code
    )


def test_a_code_names_different_communes_before_and_after(tables):
    # Lạng Sơn: old 05977 (Phường Vĩnh Trại), 05980 (Phường Đông Kinh) and 05992 (Xã Mai
    # Pha) went whole into the new 05977, which is Phường Đông Kinh: same code, other unit
    for old in ("05977", "05980", "05992"):
        assert _successors(tables, old) == [("05977", False, True)]
    names_before = {row[6] for row in tables["admin_units_legacy"] if row[5] == "05977"}
    names_after = {row[3] for row in tables["admin_units_2025"] if row[2] == "05977"}
    assert (names_before, names_after) == ({"Phường Vĩnh Trại"}, {"Phường Đông Kinh"})


def test_a_divided_commune_maps_to_several_with_one_main_successor(tables):
    # Hà Nội: Phường Cống Vị (00007) was divided between Giảng Võ (00025) and Ngọc Hà (00008)
    successors = _successors(tables, "00007")
    assert [new for new, *_ in successors] == ["00008", "00025"]
    assert all(divided for _, divided, _ in successors)
    assert sum(default for *_, default in successors) == 1
    divided = {}
    for _, _, old, _, _new, is_divided, default, _ in tables["admin_unit_crosswalk"]:
        if is_divided:
            divided.setdefault(old, []).append(default)
    assert divided and all(sum(flags) == 1 and len(flags) > 1 for flags in divided.values())


def test_tuyen_quang_absorbed_ha_giang(tables):
    into_08 = {old for old, new, _ in tables["admin_province_crosswalk"] if new == "08"}
    assert into_08 == {"02", "08"}
    assert len(tables["admin_province_crosswalk"]) == 63
    assert len({new for _, new, _ in tables["admin_province_crosswalk"]}) == 34


# --- finding units by code and by name -------------------------------------------------


@pytest.mark.parametrize("code", ["5977", "05977", 5977, 5977.0, "5977.0", " 05977 "])
def test_codes_with_and_without_leading_zeros_resolve_alike(code):
    assert by_code(code, "post_2025", "commune").name_vi == "Phường Đông Kinh"
    assert by_code(code, "pre_2025", "commune").name_vi == "Phường Vĩnh Trại"


@pytest.mark.parametrize(
    "name", ["Tỉnh Lạng Sơn", "tỉnh Lạng Sơn", "LẠNG SƠN", "Lạng  Sơn", "Lạng Sơn"]
)
def test_province_names_resolve_with_or_without_prefix(name):
    assert by_name(name, "pre_2025", "province").code == "20"
    assert by_name(name, "post_2025", "province").code == "20"


def test_nfd_names_and_city_prefixes_resolve_to_the_same_district():
    nfd = unicodedata.normalize("NFD", "Thành phố Lạng Sơn")
    assert nfd != "Thành phố Lạng Sơn"
    for name in (nfd, "TP. Lạng Sơn", "TP Lạng Sơn", "thành phố lạng sơn"):
        unit = by_name(name, "pre_2025", "district", province_code="20")
        assert (unit.code, unit.admin_unit_id) == ("178", "pre_2025-district-178")


def test_accents_are_not_dropped():
    assert normalise_name("Huyện Hà Nam") != normalise_name("Huyện Hà Nậm")


def test_a_name_that_matches_nothing_is_an_error_naming_it():
    with pytest.raises(AdminUnitNotFound) as error:
        by_name("Huyện Cao Lộc", "post_2025", "district")
    assert "'Huyện Cao Lộc'" in str(error.value) and "no district named" in str(error.value)
    with pytest.raises(AdminUnitNotFound, match="không tìm thấy"):
        by_name("Xứ Lạng Mới", "post_2025", "commune", province_code="20")


def test_an_ambiguous_name_lists_the_candidates():
    with pytest.raises(AdminUnitNotFound, match="give the province"):
        by_name("Xã Tân Thành", "pre_2025", "commune")
