"""What a newer monthly snapshot changed against an older one.

Snapshots are frozen, so two of them say exactly what moved between two monthly closes:
figures of the months the older one already held that were revised, added late or
withdrawn (a correction, a late report); targets whose status changed; units whose rank
in their province and group changed. Read from the snapshots' Parquet files, never the
warehouse, so it works on any copy of the snapshot folder.
"""

from __future__ import annotations

import json
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from chiso.snapshot import MANIFEST, SnapshotError

# a figure counts as changed when its value moves by more than this (float noise)
VALUE_TOLERANCE = 1e-9


@dataclass
class SnapshotDiff:
    older: str
    newer: str
    figures: list[tuple] = field(default_factory=list)
    statuses: list[tuple] = field(default_factory=list)
    ranks: list[tuple] = field(default_factory=list)

    FIGURE_COLUMNS = (
        "unit_code", "indicator_code", "period", "change", "old_value", "new_value",
        "old_file", "new_file",
    )  # fmt: skip
    STATUS_COLUMNS = ("target_id", "unit_code", "old_status", "new_status")
    RANK_COLUMNS = ("unit_code", "unit_group", "province_code", "old_rank", "new_rank")

    def lines(self, limit: int | None = 20) -> list[str]:
        """The diff for people: counts first, then up to ``limit`` rows of each part."""
        out = [
            f"snapshot {self.newer} against {self.older}: {len(self.figures)} figure(s) of "
            f"months up to {self.older} changed, {len(self.statuses)} target status(es) "
            f"changed, {len(self.ranks)} unit(s) re-ranked"
        ]
        for title, columns, rows in (
            ("figures revised in history", self.FIGURE_COLUMNS, self.figures),
            ("statuses changed", self.STATUS_COLUMNS, self.statuses),
            ("units re-ranked", self.RANK_COLUMNS, self.ranks),
        ):
            if not rows:
                continue
            out.append(f"{title} ({len(rows)}):")
            out.append("  " + " | ".join(columns))
            for row in rows[:limit] if limit else rows:
                out.append("  " + " | ".join(_show(value) for value in row))
            if limit and len(rows) > limit:
                out.append(f"  ... {len(rows) - limit} more (--limit 0 lists all)")
        return out

    def as_json(self) -> str:
        def part(columns, rows):
            return [dict(zip(columns, row, strict=True)) for row in rows]

        return json.dumps(
            {
                "older": self.older,
                "newer": self.newer,
                "figures": part(self.FIGURE_COLUMNS, self.figures),
                "statuses": part(self.STATUS_COLUMNS, self.statuses),
                "ranks": part(self.RANK_COLUMNS, self.ranks),
            },
            ensure_ascii=False,
            indent=2,
            default=str,
        )


def _show(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def _folder(snapshot_dir: Path, period: str) -> Path:
    folder = snapshot_dir / period
    if not (folder / MANIFEST).exists():
        made = sorted(
            p.name for p in snapshot_dir.glob("*") if (p / MANIFEST).exists() and p.is_dir()
        )
        raise SnapshotError(
            f"no snapshot of {period} in {snapshot_dir} (there are: "
            f"{', '.join(made) or 'none'}); make it with chiso snapshot --period {period}"
        )
    return folder


def diff(snapshot_dir: Path, older: str, newer: str) -> SnapshotDiff:
    """What snapshot ``newer`` changed against snapshot ``older``."""
    from warehouse.backends import file_engine
    from warehouse.backends.base import RENAMED_MARTS

    formerly = {new: old for old, new in RENAMED_MARTS.items()}

    if older >= newer:
        raise SnapshotError(f"the older snapshot comes first: {older} is not before {newer}")
    old, new = _folder(snapshot_dir, older), _folder(snapshot_dir, newer)
    with closing(file_engine()) as conn:
        for name, folder in (("old", old), ("new", new)):
            for table in ("indicator_observations", "target_progress", "unit_scorecard"):
                path = folder / f"{table}.parquet"
                if not path.exists() and table in formerly:  # a snapshot from before its rename
                    path = folder / f"{formerly[table]}.parquet"
                if not path.exists():
                    raise SnapshotError(f"{folder} has no {table}.parquet")
                literal = str(path).replace("'", "''")  # a view cannot take a parameter
                conn.execute(
                    f"create view {name}_{table} as select * from read_parquet('{literal}')"
                )
        result = SnapshotDiff(older, newer)
        result.figures = conn.execute(
            f"""
            with o as (select * from old_indicator_observations where is_selected),
            n as (
                select * from new_indicator_observations
                where is_selected and period <= ?
            )
            select
                coalesce(n.unit_code, o.unit_code), coalesce(n.indicator_code, o.indicator_code),
                coalesce(n.period, o.period),
                case when o.unit_code is null then 'added'
                     when n.unit_code is null then 'withdrawn' else 'revised' end,
                o.value, n.value, o.source_file_name, n.source_file_name
            from o full outer join n
                on o.unit_code = n.unit_code and o.indicator_code = n.indicator_code
                and o.period = n.period
            where o.unit_code is null or n.unit_code is null
                or abs(coalesce(o.value, 0) - coalesce(n.value, 0)) > {VALUE_TOLERANCE}
                or (o.value is null) <> (n.value is null)
            order by 3, 1, 2
            """,
            [older],
        ).fetchall()
        result.statuses = conn.execute(
            """
            select n.target_id, n.unit_code, o.status, n.status
            from new_target_progress n
            join old_target_progress o
                on n.target_id = o.target_id and n.unit_code is not distinct from o.unit_code
            where n.status <> o.status
            order by 1, 2
            """
        ).fetchall()
        result.ranks = conn.execute(
            """
            select n.unit_code, n.unit_group, n.province_code, o.group_rank, n.group_rank
            from new_unit_scorecard n
            join old_unit_scorecard o on n.unit_code = o.unit_code
            where n.group_rank <> o.group_rank
            order by n.province_code, n.unit_group, n.group_rank
            """
        ).fetchall()
        return result
