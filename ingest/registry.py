"""The registry of reporting units: who reports, for which province, and when each existed.

Built, never typed, from three sources:

* the administrative-unit field library (`vietnamadminunits`): the province itself, the
  districts and communes of the pre-2025 scheme (until 30 June 2025) and the communes of the
  post-2025 scheme (from 1 July 2025), with each old commune's successors;
* the curated seed ``departments.csv``: the provincial departments before and after the
  1 March 2025 merger, each merged department with its successor;
* the lists a province keeps of its schools, health facilities and other units, imported
  with ``chiso units import`` (:mod:`ingest.unit_lists`) into ``raw.unit_list_members``.

An instance serves post-2025 provinces (``CHISO_PROVINCES``); each brings the pre-2025
provinces merged into it (Tuyên Quang brings Hà Giang until 30 June 2025). Unit codes:
``20`` the province, ``20.SNV`` a department, ``20.178`` a pre-2025 district,
``20.178.05977`` a pre-2025 commune, ``20.05977`` a post-2025 commune (the new scheme reuses
old commune codes for other communes, so the old ones carry their district), ``20.<code>``
an imported unit. A unit that ended names its successor where there is one (a divided
commune: the one the library marks as default). :func:`refresh` writes the registry into
``raw.unit_registry``, where the dbt models find it.
"""

from __future__ import annotations

from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from warehouse import raw_schema
from warehouse.errors import ChisoError
from warehouse.raw import insert_rows, table_columns
from warehouse.reference import read_seed
from warehouse.settings import dbt_project_dir
from warehouse.transaction import transaction

REORGANISED_ON = date(2025, 7, 1)  # communes of the new scheme from this day; districts end
LAST_PRE_2025_DAY = date(2025, 6, 30)
BUILT_IN_GROUPS = ("province", "department", "district", "commune")

DDL = raw_schema.REGISTRY  # warehouse/raw_schema.py: every raw table


@dataclass(frozen=True)
class Unit:
    """One reporting unit as the registry knows it."""

    code: str
    name_vi: str
    group: str
    province_code: str  # of its own scheme: Hà Giang's units keep 02 until they end
    served_province_code: str  # the post-2025 province of the instance it belongs to
    parent_code: str | None = None
    scheme: str | None = None
    admin_unit_id: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    successor_code: str | None = None
    source: str = "library"
    note: str | None = None

    def exists_in(self, period: str) -> bool:
        """Whether the unit existed at some day of a month ('YYYY-MM')."""
        first = self.valid_from.isoformat()[:7] if self.valid_from else "0000-00"
        last = self.valid_to.isoformat()[:7] if self.valid_to else "9999-99"
        return first <= period <= last

    def row(self) -> tuple:
        return (
            self.code,
            self.name_vi,
            self.group,
            self.parent_code,
            self.province_code,
            self.served_province_code,
            self.scheme,
            self.admin_unit_id,
            self.valid_from,
            self.valid_to,
            self.successor_code,
            self.source,
            self.note,
        )


@dataclass(frozen=True)
class Succession:
    predecessor: str
    successor: str
    effective_on: date
    is_default: bool
    source: str


class RegistryError(ChisoError, ValueError):
    """The registry's sources disagree (a duplicate code, a successor that is not a unit)."""


@dataclass
class Registry:
    units: dict[str, Unit]
    successions: list[Succession]

    def get(self, code: str | None) -> Unit | None:
        return self.units.get(code or "")

    def __contains__(self, code: object) -> bool:
        return code in self.units

    def in_province(self, province_code: str) -> list[Unit]:
        """The units an instance's province owns (its merged provinces' units too)."""
        return [u for u in self.units.values() if u.served_province_code == province_code]

    def counts(self) -> Counter:
        """(served province, group) -> number of units, every scheme and date together."""
        return Counter((u.served_province_code, u.group) for u in self.units.values())


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _council(province_name: str) -> str:
    """'Tỉnh Lạng Sơn' -> 'Ủy ban nhân dân tỉnh Lạng Sơn' (the province as a reporting unit)."""
    return f"Ủy ban nhân dân {province_name[0].lower()}{province_name[1:]}"


def merged_provinces(served: str) -> list[str]:
    """The pre-2025 provinces that form a post-2025 one ('08' -> ['02', '08'])."""
    from ingest.sources.admin_units import library_tables

    olds = sorted(
        old for old, new, _ in library_tables()["admin_province_crosswalk"] if new == served
    )
    if not olds:
        raise RegistryError(
            f"province {served!r} is not a post-2025 province of the administrative-unit "
            "library: set CHISO_PROVINCES to post-2025 codes (Lạng Sơn 20, Tuyên Quang 08, "
            "Sơn La 14)"
        )
    return olds


def _territorial(served: str) -> tuple[list[Unit], list[Succession]]:
    from ingest.sources.admin_units import library_tables

    tables = library_tables()
    olds = set(merged_provinces(served))
    units: dict[str, Unit] = {}
    successions: list[Succession] = []
    new_name = next(name for code, name, *_ in tables["admin_units_2025"] if code == served)
    for province, p_name, district, d_name, _, commune, c_name, _, _ in tables[
        "admin_units_legacy"
    ]:
        if province not in olds:
            continue
        if province not in units:
            ends = province != served
            units[province] = Unit(
                code=province,
                name_vi=_council(p_name),
                group="province",
                province_code=province,
                served_province_code=served,
                valid_to=LAST_PRE_2025_DAY if ends else None,
                successor_code=served if ends else None,
                note=f"Hợp nhất vào {new_name[0].lower()}{new_name[1:]} từ 01/7/2025."
                if ends
                else None,
            )
            if ends:
                successions.append(Succession(province, served, REORGANISED_ON, True, "library"))
        district_code = f"{province}.{district}"
        if district_code not in units:
            units[district_code] = Unit(
                code=district_code,
                name_vi=d_name,
                group="district",
                province_code=province,
                served_province_code=served,
                parent_code=province,
                scheme="pre_2025",
                admin_unit_id=f"pre_2025-district-{district}",
                valid_to=LAST_PRE_2025_DAY,
                note="Cấp huyện kết thúc hoạt động từ 01/7/2025.",
            )
        if commune:
            units[f"{district_code}.{commune}"] = Unit(
                code=f"{district_code}.{commune}",
                name_vi=c_name,
                group="commune",
                province_code=province,
                served_province_code=served,
                parent_code=district_code,
                scheme="pre_2025",
                admin_unit_id=f"pre_2025-commune-{commune}",
                valid_to=LAST_PRE_2025_DAY,
            )
    if served not in units:  # a province whose pre-2025 code went to another one
        units[served] = Unit(
            code=served,
            name_vi=_council(new_name),
            group="province",
            province_code=served,
            served_province_code=served,
            valid_from=REORGANISED_ON,
        )
    for province, _, commune, c_name, _, _ in tables["admin_units_2025"]:
        if province == served:
            units[f"{served}.{commune}"] = Unit(
                code=f"{served}.{commune}",
                name_vi=c_name,
                group="commune",
                province_code=served,
                served_province_code=served,
                parent_code=served,
                scheme="post_2025",
                admin_unit_id=f"post_2025-commune-{commune}",
                valid_from=REORGANISED_ON,
            )
    defaults: dict[str, str] = {}
    for old_p, old_d, old_c, new_p, new_c, _, is_default, _ in tables["admin_unit_crosswalk"]:
        if old_p in olds and old_c and new_p == served:
            old_code = f"{old_p}.{old_d}.{old_c}"
            successions.append(
                Succession(old_code, f"{served}.{new_c}", REORGANISED_ON, is_default, "library")
            )
            if is_default:
                defaults[old_code] = f"{served}.{new_c}"
    for old_code, new_code in defaults.items():
        unit = units[old_code]
        units[old_code] = Unit(**{**unit.__dict__, "successor_code": new_code})
    return list(units.values()), successions


def _departments(
    served: str, olds: list[str], seed_dir: Path
) -> tuple[list[Unit], list[Succession]]:
    units, successions = [], []
    for row in read_seed(seed_dir, "departments"):
        if row["province_code"] not in olds:
            continue
        code = f"{row['province_code']}.{row['department_code']}"
        successor = row["successor_code"] or None
        valid_to = _date(row["valid_to_on"])
        units.append(
            Unit(
                code=code,
                name_vi=row["department_name_vi"],
                group="department",
                province_code=row["province_code"],
                served_province_code=served,
                parent_code=row["province_code"],
                valid_from=_date(row["valid_from_on"]),
                valid_to=valid_to,
                successor_code=successor,
                source="departments",
                note=row["note"] or None,
            )
        )
        if successor and valid_to:
            successions.append(
                Succession(
                    code, successor, date.fromordinal(valid_to.toordinal() + 1), True, "departments"
                )
            )
    return units, successions


def built_in(provinces: tuple[str, ...]) -> Registry:
    """The registry without imported lists: provinces, departments, districts, communes."""
    return _built_in(tuple(provinces), dbt_project_dir() / "seeds")


@cache
def _built_in(provinces: tuple[str, ...], seed_dir: Path) -> Registry:
    units: list[Unit] = []
    successions: list[Succession] = []
    for served in provinces:
        territorial, links = _territorial(served)
        departments, merges = _departments(served, merged_provinces(served), seed_dir)
        units += territorial + departments
        successions += links + merges
    return _checked(units, successions)


def _checked(units: list[Unit], successions: list[Succession]) -> Registry:
    counts = Counter(unit.code for unit in units)
    duplicates = sorted(code for code, count in counts.items() if count > 1)
    if duplicates:
        raise RegistryError(f"unit codes defined twice in the registry: {duplicates[:10]}")
    by_code = {unit.code: unit for unit in units}
    dangling = sorted(
        {s.successor for s in successions if s.successor not in by_code}
        | {u.successor_code for u in units if u.successor_code and u.successor_code not in by_code}
    )
    if dangling:
        raise RegistryError(f"successors that are not units of the registry: {dangling[:10]}")
    return Registry(by_code, successions)


def _members(conn) -> list[Unit]:
    rows = conn.execute(
        "select unit_code, unit_name_vi, unit_group, province_code, parent_unit_code, "
        "valid_from_on, valid_to_on from raw.unit_list_members order by unit_code"
    ).fetchall()
    return [
        Unit(
            code=code,
            name_vi=name,
            group=group,
            province_code=province,
            served_province_code=province,
            parent_code=parent,
            valid_from=valid_from,
            valid_to=valid_to,
            source="unit_list",
        )
        for code, name, group, province, parent, valid_from, valid_to in rows
    ]


def ensure_tables(conn) -> None:
    conn.execute(DDL)


def refresh(conn, provinces: tuple[str, ...]) -> Registry:
    """Rebuild ``raw.unit_registry`` from the library, the departments seed and the
    imported lists, in one transaction; return the registry."""
    ensure_tables(conn)
    registry = from_warehouse(conn, provinces)
    with transaction(conn):
        conn.execute("delete from raw.unit_registry")
        insert_rows(
            conn,
            "raw.unit_registry",
            table_columns(conn, "raw", "unit_registry"),
            [unit.row() for unit in registry.units.values()],
        )
    return registry


def with_members(provinces: tuple[str, ...], members: list[Unit]) -> Registry:
    """The built-in registry plus imported units held in memory (the sample, a check)."""
    base = built_in(provinces)
    return _checked([*base.units.values(), *members], list(base.successions))


def from_warehouse(conn, provinces: tuple[str, ...]) -> Registry:
    """The built-in registry and the lists imported into this warehouse."""
    if not table_columns(conn, "raw", "unit_list_members"):
        return built_in(provinces)
    members = [u for u in _members(conn) if u.served_province_code in provinces]
    return with_members(provinces, members)


def for_settings(settings) -> Registry:
    """The registry of the configured warehouse (imported lists included), or the built-in
    one while there is no warehouse yet."""
    from warehouse.backends import open_warehouse

    backend = open_warehouse(settings)
    if not backend.exists():
        return built_in(settings.provinces)
    with closing(backend.raw()) as conn:
        return from_warehouse(conn, settings.provinces)


def default_registry() -> Registry:
    """The built-in registry of the provinces this instance serves (``CHISO_PROVINCES``)."""
    from warehouse.settings import load_settings

    return built_in(load_settings().provinces)
