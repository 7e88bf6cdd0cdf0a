"""Lineage: what each stage of the pipeline read and wrote, as datasets named the way
OpenLineage names them. The functions Airflow tasks call (:mod:`chiso.tasks`) hand them to
a :data:`Sink`; the DAGs pass the one that sends them through Airflow's OpenLineage
provider, on when ``[openlineage] transport`` is set (docs/DEPLOYMENT.md). Each task
names:

- ingest: the inbox it emptied and every report file it loaded (as landed, immutable), then
  the ``raw`` tables it writes (report files and figures, the reference sources);
- build: dbt's sources (``raw``) in, every seed and model dbt built out, and the candidate's
  tables: the names dbt's own lineage gives them, as cosmos' dbt tasks send them in
  ``chiso_pipeline_models``;
- candidate (model by model): the marts in, the candidate's tables out;
- gate: the candidate's tables in, its report out;
- publish: the candidate's tables in, the published tables out (what BI tools read);
- snapshot: the published tables in, the snapshot's files out.

Tables are named by the backend (``duckdb://<file>`` or ``postgres://host:port``, then
``database.schema.table``), files by path in namespace ``file``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from warehouse.backends import Candidate, Dataset, Warehouse
from warehouse.settings import Settings

FILES = "file"  # OpenLineage's namespace for a local (or shared) file system


# where a task sends what it read and wrote: (inputs, outputs)
Sink = Callable[[list[Dataset], list[Dataset]], None]


def ignore(inputs: list[Dataset], outputs: list[Dataset]) -> None:
    """The sink outside Airflow (the CLI): lineage is not recorded."""


def file_dataset(path: Path | str) -> Dataset:
    return Dataset(FILES, str(path))


def ddl_tables(ddl: str) -> list[str]:
    """The tables a module's DDL creates, ``schema.table``, in order."""
    return re.findall(r"create table if not exists (\w+)\.(\w+)", ddl, flags=re.IGNORECASE)


def report_file_datasets(
    settings: Settings, warehouse: Warehouse, loaded: list[str], took_inbox: bool
) -> tuple[list[Dataset], list[Dataset]]:
    """What an ingest of report files read (the inbox, each file loaded, as landed) and
    wrote (the ``raw`` tables of report files and their figures)."""
    from warehouse.raw_schema import UNIT_FILES

    inputs = [file_dataset(settings.inbox_dir)] if took_inbox else []
    inputs += [file_dataset(path) for path in loaded]
    # and a row per file loaded through a reporting exception (warehouse/calendar.py)
    written = ddl_tables(UNIT_FILES) + [("raw", "reporting_exception_uses")]
    return inputs, [warehouse.dataset(schema, table) for schema, table in written]


def reference_datasets(warehouse: Warehouse) -> list[Dataset]:
    """The ``raw`` tables of the reference sources every build reads (administrative units,
    the reporting calendar, earlier snapshots), written by the pipeline's ingest."""
    from warehouse.raw_schema import ADMIN_UNITS, CALENDAR, SNAPSHOTS

    written = ADMIN_UNITS + CALENDAR + SNAPSHOTS
    return [warehouse.dataset(schema, table) for schema, table in ddl_tables(written)]


def dbt_datasets(settings: Settings, warehouse: Warehouse) -> tuple[list[Dataset], list[Dataset]]:
    """dbt's sources (read) and the seeds and models it builds (written), from its
    manifest, with the names dbt's lineage gives them."""
    manifest = json.loads((settings.dbt_target_dir / "manifest.json").read_text("utf-8"))
    inputs = [
        warehouse.dataset(source["schema"], source["identifier"])
        for source in manifest["sources"].values()
    ]
    outputs = [
        warehouse.dataset(node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] in ("model", "seed")
        and node["config"].get("materialized") != "ephemeral"
    ]
    return inputs, outputs


def marts_datasets(warehouse: Warehouse, candidate: Candidate) -> list[Dataset]:
    """The marts a candidate was set aside from."""
    from warehouse.backends.base import MARTS_SCHEMA

    return [warehouse.dataset(MARTS_SCHEMA, table) for table in sorted(candidate.row_counts)]


def candidate_datasets(warehouse: Warehouse, candidate: Candidate) -> list[Dataset]:
    return [warehouse.candidate_dataset(candidate, t) for t in sorted(candidate.row_counts)]


def published_datasets(warehouse: Warehouse, tables: Iterable[str]) -> list[Dataset]:
    return [warehouse.published_dataset(table) for table in sorted(tables)]
