"""Online public-service provision per province, from the portal's table as exported.

The National Public Service Portal publishes, per province, how many administrative
procedures there are, how many are eligible to be offered fully online (toàn trình), and
how many are offered fully online, partly online, or not online. The export teams keep
(layout of ``dichvucong_clean.csv``) is dirty the way real exports are: a spreadsheet read
the thousands separator as a decimal point ("2.154" = 2154, "1.29" = 1290): counts are read
by :func:`ingest.parsing.parse_count`, and every row must add up (total = full + partial +
none) or the file is refused naming the line. A province listed twice is loaded as is and
flagged in staging (the mart uses neither row): the export does not say which is right.
"""

from __future__ import annotations

from ingest.exports import Export, ExportError, province_code, unmatched
from ingest.parsing import ParseError, parse_count
from warehouse import raw_schema

SOURCE = "portal_provision"
COUNTS = {  # export column -> raw column
    "So_TTHC": "procedures",
    "so_tthc_du_dieu_kien_cung_cap_dvc_toan_trinh": "eligible_full_online",
    "so_tthc_da_cung_cap_dvc_truc_tuyen_toan_trinh": "offered_full_online",
    "so_tthc_da_cung_cap_dvc_truc_tuyen_mot_phan": "offered_partly_online",
    "so_tthc_chua_cung_cap_dvctt": "not_online",
}
COLUMNS = ("TinhThanh", *COUNTS)

DDL = raw_schema.PROVISION  # warehouse/raw_schema.py: every raw table


def parse(rows: list[dict[str, str]], period: str) -> list[tuple]:
    values, missing = [], []
    for number, row in enumerate(rows, start=2):
        name = row["TinhThanh"].strip()
        code = province_code(name, "post_2025", missing)
        if code is None:
            continue
        counts = {}
        for column, field in COUNTS.items():
            try:
                counts[field] = parse_count(row[column], lost_zeros=True)
            except ParseError as error:
                raise ExportError(f"dòng {number}, {column}: {error}") from None
        total = counts["procedures"]
        parts = tuple(
            counts[key] for key in ("offered_full_online", "offered_partly_online", "not_online")
        )
        if None not in parts and total is not None and sum(parts) != total:
            raise ExportError(
                f"dòng {number} ({name}): {' + '.join(map(str, parts))} ≠ {total} thủ tục; "
                f"line {number}: full + partial + none = {sum(parts)}, not the total {total}"
            )
        if None not in (counts["eligible_full_online"], total) and (
            counts["eligible_full_online"] > total
        ):
            raise ExportError(
                f"dòng {number} ({name}): số đủ điều kiện lớn hơn tổng; "
                f"line {number}: more eligible than procedures"
            )
        values.append((number, period, name, code, *counts.values()))
    if missing:
        raise unmatched(
            missing, "tên tỉnh không có trong danh mục; province names not in the post-2025 list"
        )
    return values


EXPORT = Export(SOURCE, COLUMNS, DDL, parse)
