"""Deterministic sample lists of schools and health facilities, as provinces keep them.

For each province the instance serves, built from its real communes (the administrative-
unit library): in every pre-2025 commune a preschool, a primary school and, in most, a
lower-secondary school, two upper-secondary schools per pre-2025 district; a health station
per pre-2025 commune, a health centre per district and the provincial hospitals. About the
size of the provinces' own lists (Lạng Sơn: about 600 schools and 220 health facilities).
Each unit sits in the post-2025 commune that took over its pre-2025 commune, given by code
and by name as clerks write it. The same provinces always give the same bytes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from ingest.geography import normalise_name
from ingest.registry import Registry, Unit, built_in, with_members
from ingest.template import write_csv

GROUPS = ("school", "health_facility")
HEADINGS = [
    "Mã đơn vị (code)",
    "Tên đơn vị (name)",
    "Mã xã (commune code)",
    "Xã (commune)",
    "Ngày bắt đầu (valid from)",
    "Ngày kết thúc (valid to)",
]
HOSPITALS = ["Bệnh viện Đa khoa tỉnh", "Bệnh viện Y dược cổ truyền", "Bệnh viện Phục hồi chức năng"]


def _pick(*parts: str) -> int:
    return int.from_bytes(hashlib.sha256("|".join(parts).encode()).digest()[:4], "big")


def _short(name: str) -> str:
    """'Phường Tam Thanh' -> 'Tam Thanh' (the name a school takes)."""
    words = name.split()
    for prefix in ("Thị trấn", "Phường", "Xã"):
        if name.startswith(prefix + " "):
            return name[len(prefix) + 1 :]
    return " ".join(words)


def list_rows(province: str, group: str, base: Registry | None = None) -> list[list[str]]:
    """The rows (code, name, commune code, commune name, from, to) of one sample list."""
    base = base or built_in((province,))
    units = base.in_province(province)
    old_communes = sorted(
        (u for u in units if u.group == "commune" and u.scheme == "pre_2025"),
        key=lambda u: u.code,
    )
    districts = sorted((u for u in units if u.group == "district"), key=lambda u: u.code)
    rows: list[list[str]] = []

    def add(code: str, name: str, commune: Unit) -> None:
        new = commune.code.rsplit(".", 1)[-1]
        rows.append([code, name, new, commune.name_vi, "", ""])

    def successor(unit: Unit) -> Unit:
        return base.units[unit.successor_code] if unit.successor_code else unit

    if group == "school":
        for commune in old_communes:
            place, number = _short(commune.name_vi), commune.code.rsplit(".", 1)[-1]
            target = successor(commune)
            add(f"MN{number}", f"Trường Mầm non {place}", target)
            add(f"TH{number}", f"Trường Tiểu học {place}", target)
            if _pick("thcs", commune.code) % 10 < 7:
                add(f"THCS{number}", f"Trường Trung học cơ sở {place}", target)
        for district in districts:
            seat = next(
                (successor(c) for c in old_communes if c.parent_code == district.code), None
            )
            if seat is None:
                continue
            number = district.code.rsplit(".", 1)[-1]
            place = _short(district.name_vi.replace("Huyện ", "").replace("Thành phố ", ""))
            add(f"THPT{number}A", f"Trường Trung học phổ thông {place}", seat)
            add(f"THPT{number}B", f"Trường Phổ thông dân tộc nội trú {place}", seat)
    elif group == "health_facility":
        for commune in old_communes:
            number = commune.code.rsplit(".", 1)[-1]
            add(f"TYT{number}", f"Trạm Y tế {commune.name_vi}", successor(commune))
        for district in districts:
            seat = next(
                (successor(c) for c in old_communes if c.parent_code == district.code), None
            )
            if seat is not None:
                number = district.code.rsplit(".", 1)[-1]
                add(f"TTYT{number}", f"Trung tâm Y tế {district.name_vi}", seat)
        capital = min(
            (u for u in units if u.group == "commune" and u.scheme == "post_2025"),
            key=lambda u: u.code,
        )
        for number, name in enumerate(HOSPITALS, start=1):
            add(f"BV{number:02d}", name, capital)
    else:
        raise ValueError(f"no sample list for group {group!r}")
    return rows


def write_lists(out_dir: Path, provinces: tuple[str, ...]) -> list[tuple[Path, str, str]]:
    """Write every sample list as CSV; return (path, group, province) for each."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for province in provinces:
        for group in GROUPS:
            path = out_dir / f"danh_sach_{group}_{province}.csv"
            write_csv([HEADINGS, *list_rows(province, group)], path)
            written.append((path, group, province))
    return written


def sample_registry(provinces: tuple[str, ...]) -> Registry:
    """The registry as it is once the sample lists are imported (for the sample files)."""
    members = []
    for province in provinces:
        base = built_in((province,))
        by_name = {
            (normalise_name(u.name_vi), u.code.rsplit(".", 1)[-1]): u.code
            for u in base.in_province(province)
            if u.group == "commune" and u.scheme == "post_2025"
        }
        for group in GROUPS:
            for code, name, commune_code, commune_name, _, _ in list_rows(province, group, base):
                members.append(
                    Unit(
                        code=f"{province}.{code}",
                        name_vi=name,
                        group=group,
                        province_code=province,
                        served_province_code=province,
                        parent_code=by_name.get((normalise_name(commune_name), commune_code)),
                        source="unit_list",
                    )
                )
    return with_members(provinces, members)
