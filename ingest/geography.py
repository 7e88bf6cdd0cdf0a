"""Find an administrative unit by code or name, the way people write them.

Codes come with or without leading zeros ("5977", "05977", 5977.0 from a spreadsheet);
names in NFC or NFD Unicode, in any case, with or without their prefix ("TP. Lạng Sơn",
"Thành phố Lạng Sơn", "tỉnh Lạng Sơn"). A code or name is only meaningful in a scheme:
the post-2025 scheme reuses old commune codes for other communes. Accents are kept:
"Hà Nam" and "Hà Nậm" are different places.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from warehouse.errors import BilingualError

SCHEMES = ("pre_2025", "post_2025")
CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}
LEVEL_VI = {"province": "tỉnh", "district": "huyện", "commune": "xã"}
# longest first, so "thành phố" goes before "thành"
_PREFIXES = sorted(
    [
        "tỉnh",
        "thành phố",
        "thủ đô",
        "tp.",
        "tp",
        "huyện",
        "quận",
        "thị xã",
        "tx.",
        "tx",
        "xã",
        "phường",
        "thị trấn",
        "tt.",
        "tt",
        "đặc khu",
        "ubnd",
        "ủy ban nhân dân",
        "uỷ ban nhân dân",
    ],
    key=len,
    reverse=True,
)


class AdminUnitNotFound(BilingualError, LookupError):
    """No unit, or more than one, matches; ``.vi`` and ``.en`` say which."""


@dataclass(frozen=True)
class AdminUnit:
    scheme: str
    level: str
    code: str
    name_vi: str
    province_code: str

    @property
    def admin_unit_id(self) -> str:
        return f"{self.scheme}-{self.level}-{self.code}"


_TONE_MARKS = "\u0300\u0301\u0303\u0309\u0323"  # huyền, sắc, ngã, hỏi, nặng
# spellings seen in real exports for the same name ("Đăk Lăk" for "Đắk Lắk")
_SPELLINGS = {"đăk": "đắk", "lăk": "lắk"}


def _fold_tones(word: str) -> str:
    """'hoà' and 'hòa', 'Thuỵ' and 'Thụy' (old and new tone placement) -> one key: the
    tone mark moved to the end of the word. Vowel shapes (ă, â, ơ, ...) stay."""
    decomposed = unicodedata.normalize("NFD", _SPELLINGS.get(word, word))
    tones = "".join(char for char in decomposed if char in _TONE_MARKS)
    return "".join(char for char in decomposed if char not in _TONE_MARKS) + tones


def normalise_name(text: str) -> str:
    """A comparison key: case-folded, one space, no administrative prefix ("UBND tỉnh",
    "TP."), old and new tone placement alike ("Khánh Hoà" = "Khánh Hòa")."""
    name = " ".join(unicodedata.normalize("NFC", str(text)).casefold().split())
    stripped = True
    while stripped:  # "UBND tỉnh Đồng Tháp": two prefixes
        stripped = False
        for prefix in _PREFIXES:
            if name.startswith(prefix + " ") or (prefix.endswith(".") and name.startswith(prefix)):
                name, stripped = name[len(prefix) :].strip(), True
                break
    return " ".join(_fold_tones(word) for word in name.split())


def normalise_code(code: object, level: str) -> str:
    """'5977', '05977', 5977, 5977.0 -> '05977' for a commune (2/3/5 digits by level)."""
    text = str(code).strip()
    if re.fullmatch(r"\d+(\.0+)?", text):
        return text.split(".")[0].zfill(CODE_WIDTH[level])
    raise AdminUnitNotFound(
        f"mã '{code}' không phải là mã đơn vị hành chính",
        f"'{code}' is not an administrative code",
    )


@cache
def _units() -> tuple[AdminUnit, ...]:
    from ingest.sources.admin_units import library_tables

    tables = library_tables()
    units: dict[str, AdminUnit] = {}
    for province, p_name, district, d_name, _, commune, c_name, _, _ in tables[
        "admin_units_legacy"
    ]:
        for unit in (
            AdminUnit("pre_2025", "province", province, p_name, province),
            AdminUnit("pre_2025", "district", district, d_name, province),
            AdminUnit("pre_2025", "commune", commune, c_name, province) if commune else None,
        ):
            if unit:
                units[unit.admin_unit_id] = unit
    for province, p_name, commune, c_name, _, _ in tables["admin_units_2025"]:
        for unit in (
            AdminUnit("post_2025", "province", province, p_name, province),
            AdminUnit("post_2025", "commune", commune, c_name, province),
        ):
            units[unit.admin_unit_id] = unit
    return tuple(units.values())


@cache
def _code_index() -> dict[tuple[str, str, str], AdminUnit]:
    return {(unit.scheme, unit.level, unit.code): unit for unit in _units()}


def by_code(code: object, scheme: str, level: str) -> AdminUnit:
    unit = _code_index().get((scheme, level, normalise_code(code, level)))
    if unit is not None:
        return unit
    raise AdminUnitNotFound(
        f"không có {LEVEL_VI[level]} mã '{code}' trong danh mục {scheme}",
        f"no {level} with code '{code}' in the {scheme} scheme",
    )


@cache
def _name_index(scheme: str, level: str) -> dict[str, tuple[AdminUnit, ...]]:
    index: dict[str, list[AdminUnit]] = {}
    for unit in _units():
        if (unit.scheme, unit.level) == (scheme, level):
            index.setdefault(normalise_name(unit.name_vi), []).append(unit)
    return {key: tuple(units) for key, units in index.items()}


def by_name(name: str, scheme: str, level: str, province_code: str | None = None) -> AdminUnit:
    matches = [
        unit
        for unit in _name_index(scheme, level).get(normalise_name(name), ())
        if province_code is None or unit.province_code == province_code
    ]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AdminUnitNotFound(
            f"không tìm thấy {LEVEL_VI[level]} tên '{name}' trong danh mục {scheme}",
            f"no {level} named '{name}' in the {scheme} scheme",
        )
    listed = ", ".join(f"{unit.name_vi} ({unit.code})" for unit in matches[:5])
    raise AdminUnitNotFound(
        f"tên '{name}' ứng với {len(matches)} đơn vị: {listed}; cần mã tỉnh",
        f"'{name}' matches {len(matches)} units: {listed}; give the province",
    )
