"""The run's memory and disk budget: one setting, ``CHISO_MEMORY_BUDGET``, split across what
runs at once, and the disk a run needs, checked before it starts.

Memory. The build and the gate run one after the other, never side by side, so each may
take the budget: the build's DuckDB is closed before the candidate is copied (dbt-duckdb
would keep it open, its buffers resident). DuckDB gets :data:`DUCKDB_SHARE` of it as its
``memory_limit`` (it overshoots the limit somewhat, and the rest holds dbt's own Python,
the gate's worker waiting beside the build with Great Expectations imported, and the
ingest's readers beside the raw loads); beyond it, DuckDB spills into its own folder
beside the work warehouse (``<data>/warehouse/chiso.duckdb.tmp``). dbt builds two models
at once only when two of the largest fit in DuckDB's share side by side: a model over every
figure holds about :data:`BYTES_PER_FIGURE` bytes a figure, so a national month of some 14
million figures is built one model at a time on a budget of 12 GiB.

The gate, after the build, takes the budget in turn: its DuckDB reads get
:data:`GATE_DUCKDB_SHARE` (spilling into a folder of its own beside the build's), and the
rows Great Expectations checks in pandas come in batches of whole months holding at most
:data:`GATE_FRAMES_SHARE` of it, at :data:`FRAME_BYTES_PER_CELL` a cell: memory bounded by
the largest month, never by the history.

Disk. Before a run starts, the free space of the data directory must hold what the run
writes: the files waiting in the inbox (landed once each), a candidate beside the
published marts, DuckDB's spill, and ``CHISO_DISK_RESERVE`` left for everything else on
the machine. The spill is capped at what is left (``max_temp_directory_size``), so a
build that would need more fails as out of memory, naming the model, instead of filling
the disk.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from warehouse.errors import ChisoError
from warehouse.settings import GiB, MiB, machine_memory

if TYPE_CHECKING:
    from warehouse.settings import Settings

# of the budget, DuckDB's memory_limit: at 60 % a national run's tree passed a 6 GiB budget
# by 1-3 % (docs/BENCHMARKS.md, 2026-12-07)
DUCKDB_SHARE = 0.5
# bytes a figure takes in a model over every figure: an estimate from the national run that
# ran out of 4 GB building two such models side by side (docs/BENCHMARKS.md)
BYTES_PER_FIGURE = 300
MIN_SPILL = GiB  # the least spill room a run starts with
GATE_DUCKDB_SHARE = 0.25  # of the budget, the gate's DuckDB (aggregates, batches' rows)
GATE_FRAMES_SHARE = 0.5  # of the budget, the gate's frames and Great Expectations' copies
# bytes a cell of a checked frame takes, Great Expectations' masks and copies included: an
# estimate on the safe side (a string cell alone is about 60 bytes in pandas)
FRAME_BYTES_PER_CELL = 200


class DiskTooFull(ChisoError):
    """The data directory's disk has less free space than the run needs: nothing started."""


def show(size: float) -> str:
    """A size as people read it: 11.7 GiB, 640 MiB, 1024 TiB."""
    if size >= 1 << 40:
        return f"{size / (1 << 40):.0f} TiB"
    return f"{size / GiB:.1f} GiB" if size >= GiB else f"{size / MiB:.0f} MiB"


def duckdb_limits(memory: int, spill: int) -> dict[str, str]:
    """DuckDB's settings for ``memory`` bytes of memory and ``spill`` bytes of spill."""
    return {"memory_limit": f"{memory // MiB}MiB", "max_temp_directory_size": f"{spill // MiB}MiB"}


@dataclass(frozen=True)
class Budget:
    """What the run's DuckDB and dbt may take, from the budget and the figures to build."""

    total: int  # bytes, CHISO_MEMORY_BUDGET
    duckdb_memory: int  # DuckDB's memory_limit
    dbt_threads: int  # models dbt builds at once
    spill_dir: Path
    max_spill: int  # DuckDB's max_temp_directory_size

    def dbt_environment(self) -> dict[str, str]:
        """What dbt's profile reads (dbt_project/profiles.yml)."""
        limits = self.duckdb_settings()
        return {
            "CHISO_DBT_MEMORY_LIMIT": limits["memory_limit"],
            "CHISO_DBT_MAX_TEMP_SIZE": limits["max_temp_directory_size"],
            "CHISO_DBT_THREADS": str(self.dbt_threads),
        }

    def duckdb_settings(self) -> dict[str, str]:
        """DuckDB's share, for the run's own connections to the work warehouse (ingest's
        loads, the candidate's copy): what dbt's profile gets too."""
        return duckdb_limits(self.duckdb_memory, self.max_spill)

    def out_of_memory(self, models: list[str]) -> str:
        return (
            f"{', '.join(models)} ran out of memory: DuckDB may take "
            f"{show(self.duckdb_memory)} of CHISO_MEMORY_BUDGET={show(self.total)}, and spill "
            f"{show(self.max_spill)} into {self.spill_dir}. Raise CHISO_MEMORY_BUDGET (the "
            f"machine has {show(machine_memory())}; with less than {show(MIN_SPILL)} to spill "
            "into, free disk space), then run again"
        )


@dataclass(frozen=True)
class GateBudget:
    """What the gate's DuckDB reads and its pandas frames may take."""

    duckdb_memory: int
    frame_bytes: int
    spill_dir: Path
    max_spill: int

    def duckdb_config(self) -> dict[str, str]:
        """The gate's DuckDB connection settings."""
        return {
            **duckdb_limits(self.duckdb_memory, self.max_spill),
            "temp_directory": str(self.spill_dir),
        }

    def batch_rows(self, columns: int) -> int:
        """The rows of ``columns`` columns a batch may hold."""
        return max(1, self.frame_bytes // (max(columns, 1) * FRAME_BYTES_PER_CELL))

    def to_json(self) -> dict:
        return {**self.__dict__, "spill_dir": str(self.spill_dir)}

    @classmethod
    def from_json(cls, data: dict) -> GateBudget:
        return cls(**{**data, "spill_dir": Path(data["spill_dir"])})


def gate_budget(settings: Settings) -> GateBudget:
    """The gate's share of the run's budget; it spills into a folder of its own beside the
    build's (``chiso.duckdb.gate.tmp``), up to what the disk has free beyond the reserve."""
    return GateBudget(
        int(settings.memory_budget * GATE_DUCKDB_SHARE),
        int(settings.memory_budget * GATE_FRAMES_SHARE),
        settings.spill_dir.with_suffix(".gate.tmp"),
        max(spill_room(settings), MIN_SPILL),
    )


def plan(budget: int, spill_dir: Path, figures: int, free_for_spill: int) -> Budget:
    """Split ``budget`` bytes for a build over ``figures`` figures, with
    ``free_for_spill`` bytes of disk DuckDB may spill to."""
    duckdb_memory = int(budget * DUCKDB_SHARE)
    largest = figures * BYTES_PER_FIGURE
    threads = 2 if 2 * largest <= duckdb_memory else 1
    return Budget(budget, duckdb_memory, threads, spill_dir, max(free_for_spill, MIN_SPILL))


def run_budget(settings: Settings, figures: int = 0) -> Budget:
    """The budget of a run of these settings over ``figures`` figures: DuckDB may spill
    into what the disk has free beyond the reserve."""
    return plan(settings.memory_budget, settings.spill_dir, figures, spill_room(settings))


def spill_room(settings: Settings) -> int:
    """What the disk of the spill folders has free beyond CHISO_DISK_RESERVE, now."""
    return free_bytes(settings.spill_dir) - settings.disk_reserve


def free_bytes(path: Path) -> int:
    """Free space of the disk ``path`` is on (its nearest existing parent)."""
    while not path.exists():
        path = path.parent
    return shutil.disk_usage(path).free


def folder_bytes(path: Path) -> int:
    if not path.exists():
        return 0
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def check_disk(needs: dict[str, int], reserve: int, where: Path) -> None:
    """Refuse to start when the disk of ``where`` has less free than ``needs`` (what the
    run writes, by what), the least spill and ``reserve``. How much DuckDB may spill is
    decided when the build starts (:func:`run_budget`), from the disk free then."""
    free = free_bytes(where)
    wanted = sum(needs.values()) + MIN_SPILL + reserve
    if free < wanted:
        parts = ", ".join(f"{what} {show(size)}" for what, size in needs.items() if size)
        raise DiskTooFull(
            f"not enough free disk to start: {show(free)} free on the disk of {where}, the run "
            f"needs {show(wanted)} ({parts + ', ' if parts else ''}at least {show(MIN_SPILL)} "
            f"for DuckDB to spill to, and CHISO_DISK_RESERVE={show(reserve)} left for the rest "
            "of the machine). Free space there (old benchmark or data folders; fewer "
            "versions kept for `chiso rollback`, CHISO_KEEP_VERSIONS), or lower "
            "CHISO_DISK_RESERVE; nothing was started"
        )
