"""The provincial Digital Transformation Index (DTI), from a CSV export of its tables.

The ministry publishes DTI once a year as tables on its pages; teams keep them as CSV (the
layout of ``bang_1.csv``: TinhThanh, DTI_Tong, DTI_ChinhQuyenSo, DTI_KinhTeSo, DTI_XaHoiSo,
HaTangSo, Nam; scores 0..1 with '.' decimals). DTI ranks the 63 pre-2025 provinces, whose
names are spelled in several ways ("TP. Đà Nẵng", "Đăk Lăk"): each is matched to its
statistics-office code, and a name that matches none stops the load naming it.
"""

from __future__ import annotations

from ingest.exports import Export, ExportError, province_code, unmatched
from ingest.parsing import ParseError, parse_number
from warehouse import raw_schema

SOURCE = "dti_scores"
PILLARS = {  # export column -> raw column
    "DTI_Tong": "dti_total",
    "DTI_ChinhQuyenSo": "digital_government",
    "DTI_KinhTeSo": "digital_economy",
    "DTI_XaHoiSo": "digital_society",
    "HaTangSo": "digital_infrastructure",
}
COLUMNS = ("TinhThanh", *PILLARS, "Nam")

DDL = raw_schema.DTI  # warehouse/raw_schema.py: every raw table


def parse(rows: list[dict[str, str]], period: str) -> list[tuple]:
    values, missing, seen = [], [], {}
    for number, row in enumerate(rows, start=2):
        name = row["TinhThanh"].strip()
        code = province_code(name, "pre_2025", missing)
        if code is None:
            continue
        year = row["Nam"].strip()
        if not (year.isdigit() and 2015 <= int(year) <= 2100):
            raise ExportError(f"dòng {number}: năm '{year}' sai; line {number}: bad year '{year}'")
        if (code, year) in seen:
            raise ExportError(
                f"dòng {number}: '{name}' năm {year} trùng dòng {seen[code, year]}; "
                f"line {number}: '{name}' {year} repeats line {seen[code, year]}"
            )
        seen[code, year] = number
        scores = []
        for column in PILLARS:
            try:
                score = parse_number(row[column], decimal_point=True)
            except ParseError as error:
                raise ExportError(f"dòng {number}, {column}: {error}") from None
            if score is not None and not 0 <= score <= 1:
                raise ExportError(
                    f"dòng {number}, {column}: {score} ngoài 0..1; line {number}: outside 0..1"
                )
            scores.append(score)
        values.append((number, name, code, int(year), *scores))
    if missing:
        raise unmatched(
            missing, "tên tỉnh không có trong danh mục; province names not in the pre-2025 list"
        )
    return values


EXPORT = Export(SOURCE, COLUMNS, DDL, parse)
