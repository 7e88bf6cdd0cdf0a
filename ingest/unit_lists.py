"""Lists of schools, health facilities and other units, imported into the registry.

A province keeps such lists in spreadsheets: ``chiso units import FILE --group school
--province 20`` reads one (xlsx or csv, a heading row, one unit per row), checks every row,
and imports it only if the whole file is valid. The list replaces the group's previous
list in that province: a new code is added, a changed name is a rename, a code no longer
listed is closed (its last day is the day before the list takes effect), never deleted.
Importing the same list again changes nothing. Each import that changes something is kept:
the file, read-only, in ``<data>/landing/unit_lists/``, and a row in ``raw.unit_list_imports``
with one row per change in ``raw.unit_list_changes``.

Columns (headings matched without accents or case; the English word is enough):

===========================  ========================================================
``Mã đơn vị`` (code)          required, unique in the file; the unit code is
                              ``<province>.<code>``
``Tên đơn vị`` (name)         required
``Mã xã`` (commune code)      the commune it is in: code or name (or both, which must
``Xã`` (commune)              agree), of the post-2025 scheme, or of the pre-2025 one
                              for a unit that closed before 1 July 2025
``Ngày bắt đầu`` (valid from) optional, dd/mm/yyyy
``Ngày kết thúc`` (valid to)  optional, dd/mm/yyyy
===========================  ========================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest import geography
from ingest.landing import land_bytes, sha256_file
from ingest.parsing import ParseError, normalize_label, parse_date
from ingest.registry import (
    LAST_PRE_2025_DAY,
    Registry,
    built_in,
    ensure_tables,
    from_warehouse,
    refresh,
)
from ingest.workbook import Sheet, read_workbook
from warehouse import raw_schema
from warehouse.bilingual import Message
from warehouse.errors import ChisoError
from warehouse.raw import insert_rows, table_columns
from warehouse.transaction import transaction

IMPORTED_GROUPS = ("school", "health_facility", "enterprise")
COLUMNS = {
    "code": ("Mã đơn vị", "code"),
    "name": ("Tên đơn vị", "name"),
    "commune_code": ("Mã xã", "commune code"),
    "commune_name": ("Xã", "commune"),
    "valid_from": ("Ngày bắt đầu", "valid from"),
    "valid_to": ("Ngày kết thúc", "valid to"),
}
_KEYS = {normalize_label(label): key for key, labels in COLUMNS.items() for label in labels}
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")
MAX_ROWS = 100_000

DDL = raw_schema.UNIT_LISTS  # warehouse/raw_schema.py: every raw table


class UnitListError(ChisoError, ValueError):
    """The list has problems; nothing was imported. ``problems`` names each by row and column."""

    def __init__(self, file_name: str, problems: list[RowProblem]):
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems[:50])
        more = f"\n  … {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{file_name}: {len(problems)} lỗi, không nhập đơn vị nào / {len(problems)} "
            f"problem(s), nothing imported:\n{lines}{more}"
        )


@dataclass(frozen=True)
class RowProblem:
    row: int | None  # the spreadsheet row (1-based); None for the file as a whole
    column: str | None  # the heading as the file writes it
    message: Message

    def _where(self, row: str, column: str) -> str:
        parts = [
            f"{row} {self.row}" if self.row else "",
            f"{column} '{self.column}'" if self.column else "",
        ]
        where = ", ".join(part for part in parts if part)
        return f"{where}: " if where else ""

    def __str__(self) -> str:
        return (
            f"{self._where('dòng', 'cột')}{self.message.vi}; "
            f"{self._where('row', 'column')}{self.message.en}"
        )


def _refused(path: Path, vi: str, en: str) -> UnitListError:
    """The whole file refused for one reason (not a row's)."""
    return UnitListError(path.name, [RowProblem(None, None, Message(vi, en))])


@dataclass
class ImportResult:
    import_id: str | None
    rows: int
    added: list[str] = field(default_factory=list)
    closed: list[str] = field(default_factory=list)
    renamed: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    reopened: list[str] = field(default_factory=list)

    @property
    def changes(self) -> int:
        return sum(
            len(part)
            for part in (self.added, self.closed, self.renamed, self.changed, self.reopened)
        )

    def line(self) -> str:
        if not self.changes:
            return f"{self.rows} units read; the registry already has this list: nothing changed"
        return (
            f"{self.rows} units read: {len(self.added)} added, {len(self.closed)} closed, "
            f"{len(self.renamed)} renamed, {len(self.changed)} changed, "
            f"{len(self.reopened)} reopened (import {self.import_id})"
        )


def _has_heading(rows: list[list[object]]) -> bool:
    return any(
        {"code", "name"} <= {_KEYS.get(normalize_label(cell)) for cell in row} for row in rows[:20]
    )


def _rows(path: Path) -> list[list[object]]:
    """The list's rows: the first sheet with its heading (any format a report file may
    have, read and checked by :mod:`ingest.workbook`)."""
    from warehouse.settings import load_settings

    settings = load_settings()
    try:
        workbook = read_workbook(
            path,
            path.name,
            settings.max_file_bytes,
            settings.max_xlsx_expanded_bytes,
            recognised=_has_heading,
        )
    except ParseError as exc:
        raise _refused(path, exc.vi, exc.en) from None
    sheets = [sheet for sheet in workbook.sheets if _has_heading(sheet.rows)]
    return (sheets or workbook.sheets or [Sheet(None, [])])[0].rows


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


@dataclass(frozen=True)
class Listed:
    """One valid row of a list."""

    row: int
    code: str
    name: str
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None


def read_list(
    path: Path, group: str, province: str, registry: Registry
) -> tuple[list[Listed], list[RowProblem]]:
    """Every row of a list, checked; the problems (empty when the whole list is valid)."""
    rows = _rows(path)
    problems: list[RowProblem] = []
    header_index = next(
        (
            index
            for index, row in enumerate(rows[:20])
            if {"code", "name"} <= {_KEYS.get(normalize_label(cell)) for cell in row}
        ),
        None,
    )
    if header_index is None:
        wanted = ", ".join(f"'{vi}' ({en})" for vi, en in COLUMNS.values())
        return [], [
            RowProblem(
                None,
                None,
                Message(
                    "không tìm thấy dòng tiêu đề có 'Mã đơn vị' và 'Tên đơn vị' trong 20 dòng "
                    f"đầu; các cột: {wanted}",
                    f"no heading row with 'Mã đơn vị' (code) and 'Tên đơn vị' (name) in the "
                    f"first 20 rows; the columns: {wanted}",
                ),
            )
        ]
    headings = rows[header_index]
    columns: dict[str, int] = {}
    for col, cell in enumerate(headings):
        key = _KEYS.get(normalize_label(cell))
        if key and key not in columns:
            columns[key] = col
    label = {key: _text(headings[col]) for key, col in columns.items()}
    if "commune_code" not in columns and "commune_name" not in columns:
        problems.append(
            RowProblem(
                header_index + 1,
                None,
                Message(
                    "thiếu cột 'Mã xã' hoặc 'Xã': mỗi đơn vị cần xã nơi đơn vị đặt trụ sở",
                    "no 'Mã xã' (commune code) or 'Xã' (commune) column: each unit needs its "
                    "commune",
                ),
            )
        )
        return [], problems
    listed: list[Listed] = []
    first_row: dict[str, int] = {}
    for index in range(header_index + 1, len(rows)):
        row = rows[index]
        number = index + 1

        def get(key: str, row: list[object] = row) -> object:
            col = columns.get(key)
            return row[col] if col is not None and col < len(row) else None

        if not any(_text(cell) for cell in row):
            continue
        if len(listed) + len(problems) > MAX_ROWS:
            problems.append(
                RowProblem(
                    number,
                    None,
                    Message(
                        f"danh sách dài quá {MAX_ROWS:,} dòng",
                        f"a list of more than {MAX_ROWS:,} rows",
                    ),
                )
            )
            break

        def problem(key: str, vi: str, en: str, number: int = number) -> None:
            problems.append(RowProblem(number, label.get(key), Message(vi, en)))

        before = len(problems)
        code, name = _text(get("code")), _text(get("name"))
        if not code:
            problem("code", "thiếu mã đơn vị", "the unit code is missing")
        elif not _CODE.fullmatch(code):
            problem(
                "code",
                f"mã '{code}' chỉ được gồm chữ, số, '.', '-', '_' (tối đa 40 ký tự)",
                f"code '{code}' may hold only letters, digits, '.', '-', '_' (40 at most)",
            )
        elif code in first_row:
            problem(
                "code",
                f"mã '{code}' trùng với dòng {first_row[code]}",
                f"code '{code}' repeats row {first_row[code]}",
            )
        else:
            first_row[code] = number
            clash = registry.get(f"{province}.{code}")
            if clash is not None and clash.group != group:
                problem(
                    "code",
                    f"mã '{province}.{code}' đã là của {clash.name_vi} (nhóm {clash.group})",
                    f"code '{province}.{code}' already names {clash.name_vi} ({clash.group})",
                )
        if not name:
            problem("name", "thiếu tên đơn vị", "the unit name is missing")
        dates: dict[str, date | None] = {}
        for key in ("valid_from", "valid_to"):
            try:
                dates[key] = parse_date(get(key))
            except ParseError as exc:
                dates[key] = None
                problem(key, exc.vi, exc.en)
        if dates["valid_from"] and dates["valid_to"] and dates["valid_from"] > dates["valid_to"]:
            problem(
                "valid_to",
                f"ngày kết thúc {dates['valid_to']:%d/%m/%Y} trước ngày bắt đầu "
                f"{dates['valid_from']:%d/%m/%Y}",
                f"valid to {dates['valid_to']:%d/%m/%Y} is before valid from "
                f"{dates['valid_from']:%d/%m/%Y}",
            )
        parent = _parent(get("commune_code"), get("commune_name"), dates["valid_to"], province)
        if isinstance(parent, tuple):
            problem(*parent)
            parent = None
        if len(problems) == before:
            listed.append(
                Listed(number, code, name, parent, dates["valid_from"], dates["valid_to"])
            )
    if not listed and not problems:
        problems.append(
            RowProblem(
                header_index + 1,
                None,
                Message("danh sách không có đơn vị nào", "the list holds no unit"),
            )
        )
    return listed, problems


def _parent(code: object, name: object, valid_to: date | None, province: str):
    """The registry code of a unit's commune, or (column key, vi, en) saying what is wrong."""
    scheme = "pre_2025" if valid_to and valid_to <= LAST_PRE_2025_DAY else "post_2025"
    found: dict[str, geography.AdminUnit] = {}
    try:
        if _text(code):
            found["commune_code"] = geography.by_code(_text(code), scheme, "commune")
        if _text(name):
            found["commune_name"] = geography.by_name(_text(name), scheme, "commune", province)
    except geography.AdminUnitNotFound as exc:
        key = "commune_name" if "commune_code" in found or not _text(code) else "commune_code"
        return key, exc.vi, exc.en
    if not found:
        return "commune_code", "thiếu xã (mã hoặc tên)", "the commune is missing (code or name)"
    units = {unit.admin_unit_id: unit for unit in found.values()}
    if len(units) > 1:
        by_code = found["commune_code"]
        return (
            "commune_name",
            f"mã xã {by_code.code} là {by_code.name_vi}, không phải '{_text(name)}'",
            f"commune code {by_code.code} is {by_code.name_vi}, not '{_text(name)}'",
        )
    unit = next(iter(units.values()))
    if scheme == "post_2025":
        if unit.province_code != province:
            return (
                "commune_code",
                f"xã {unit.name_vi} ({unit.code}) không thuộc tỉnh {province}",
                f"commune {unit.name_vi} ({unit.code}) is not in province {province}",
            )
        return f"{province}.{unit.code}"
    for candidate in built_in((province,)).in_province(province):
        if candidate.admin_unit_id == unit.admin_unit_id:
            return candidate.code
    return (
        "commune_code",
        f"xã {unit.name_vi} ({unit.code}, trước 2025) không thuộc tỉnh {province}",
        f"commune {unit.name_vi} ({unit.code}, pre-2025) is not in province {province}",
    )


def _current(conn, province: str, group: str) -> dict[str, tuple]:
    rows = conn.execute(
        "select unit_code, unit_name_vi, parent_unit_code, valid_from_on, valid_to_on, "
        "first_import_id from raw.unit_list_members where province_code = ? and unit_group = ?",
        [province, group],
    ).fetchall()
    return {row[0]: row[1:] for row in rows}


def import_list(
    conn,
    path: Path,
    group: str,
    province: str,
    provinces: tuple[str, ...],
    landing_dir: Path,
    effective_on: date | None = None,
) -> ImportResult:
    """Check a list and, if every row is valid, make it the group's list in the province.

    Raises :class:`UnitListError` naming every problem; then nothing is written."""
    if group not in IMPORTED_GROUPS:
        raise _refused(
            path,
            f"nhóm '{group}' không nhập từ danh sách; các nhóm: " + ", ".join(IMPORTED_GROUPS),
            f"group '{group}' is not imported from a list; the groups: "
            + ", ".join(IMPORTED_GROUPS),
        )
    if province not in provinces:
        raise _refused(
            path,
            f"tỉnh {province} không thuộc CHISO_PROVINCES ({', '.join(provinces)})",
            f"province {province} is not one this instance serves "
            f"(CHISO_PROVINCES={','.join(provinces)})",
        )
    effective_on = effective_on or datetime.now(UTC).date()
    ensure_tables(conn)
    conn.execute(DDL)
    registry = from_warehouse(conn, provinces)
    listed, problems = read_list(path, group, province, registry)
    if problems:
        raise UnitListError(path.name, problems)
    sha256 = sha256_file(path)
    import_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}_{province}_{group}"
    current = _current(conn, province, group)
    result = ImportResult(import_id, len(listed))
    members: list[tuple] = []
    changes: list[tuple] = []
    seen = set()
    for item in listed:
        unit_code = f"{province}.{item.code}"
        seen.add(unit_code)
        before = current.get(unit_code)
        first_import = before[4] if before else import_id
        if before is None:
            result.added.append(unit_code)
            changes.append((import_id, unit_code, "added", None, item.name))
        else:
            name, parent, valid_from, valid_to = before[:4]
            if name != item.name:
                result.renamed.append(unit_code)
                changes.append((import_id, unit_code, "renamed", name, item.name))
            if valid_to is not None and item.valid_to is None:
                result.reopened.append(unit_code)
                changes.append((import_id, unit_code, "reopened", str(valid_to), None))
            elif (parent, valid_from, valid_to) != (
                item.parent_code,
                item.valid_from,
                item.valid_to,
            ):
                result.changed.append(unit_code)
                changes.append(
                    (
                        import_id,
                        unit_code,
                        "changed",
                        f"{parent} {valid_from or ''}..{valid_to or ''}",
                        f"{item.parent_code} {item.valid_from or ''}..{item.valid_to or ''}",
                    )
                )
        members.append(
            (
                unit_code,
                f"{province}.{group}",
                item.name,
                group,
                province,
                item.parent_code,
                item.valid_from,
                item.valid_to,
                first_import,
                import_id,
            )
        )
    closing_day = effective_on - timedelta(days=1)
    for unit_code, (name, parent, valid_from, valid_to, first_import) in current.items():
        if unit_code in seen:
            continue
        if valid_to is None:
            result.closed.append(unit_code)
            changes.append((import_id, unit_code, "closed", None, closing_day.isoformat()))
            valid_to = closing_day
        members.append(
            (
                unit_code,
                f"{province}.{group}",
                name,
                group,
                province,
                parent,
                valid_from,
                valid_to,
                first_import,
                import_id,
            )
        )
    if not result.changes:
        return ImportResult(None, len(listed))
    land_bytes(
        path.read_bytes(),
        landing_dir / "unit_lists",
        sha256,
        path.suffix.lower(),
        {"original_name": path.name, "province_code": province, "unit_group": group},
    )
    with transaction(conn):
        conn.execute(
            "delete from raw.unit_list_members where province_code = ? and unit_group = ?",
            [province, group],
        )
        insert_rows(
            conn,
            "raw.unit_list_members",
            table_columns(conn, "raw", "unit_list_members"),
            members,
        )
        insert_rows(
            conn, "raw.unit_list_changes", table_columns(conn, "raw", "unit_list_changes"), changes
        )
        conn.execute("delete from raw.unit_list_imports where import_id = ?", [import_id])
        conn.execute(
            "insert into raw.unit_list_imports values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                import_id,
                province,
                group,
                path.name,
                sha256,
                datetime.now(UTC),
                effective_on,
                len(listed),
                len(result.added),
                len(result.closed),
                len(result.renamed),
                len(result.changed),
                len(result.reopened),
            ],
        )
    refresh(conn, provinces)
    return result
