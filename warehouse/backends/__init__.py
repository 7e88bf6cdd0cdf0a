"""The warehouse backends: one interface (:class:`~warehouse.backends.base.Warehouse`), a
DuckDB and a PostgreSQL implementation, chosen by ``CHISO_WAREHOUSE``."""

from __future__ import annotations

from warehouse.backends.base import (
    Candidate,
    Dataset,
    PublishedReader,
    PublishError,
    Warehouse,
    WarehouseError,
)
from warehouse.settings import Settings

__all__ = [
    "FILE_ROW_HASH",
    "Candidate",
    "Dataset",
    "PublishError",
    "PublishedReader",
    "Warehouse",
    "WarehouseError",
    "file_engine",
    "open_warehouse",
    "raw_connection",
    "read_candidate",
]


def open_warehouse(settings: Settings) -> Warehouse:
    """The backend the settings choose (nothing is connected until it is used)."""
    if settings.warehouse == "postgres":
        from warehouse.backends.postgres import PostgresWarehouse

        return PostgresWarehouse(settings)
    from warehouse.backends.duckdb import DuckDBWarehouse

    return DuckDBWarehouse(settings)


def raw_connection(settings: Settings):
    """A connection to the configured warehouse's ``raw`` schema, for loaders."""
    return open_warehouse(settings).raw()


FILE_ROW_HASH = "hash(t)"  # a row's hash in a candidate file (DuckDB's hash)


def file_engine():
    """An engine of its own, in memory, for local files (the snapshots' Parquet), whichever
    warehouse chiso runs on; the caller closes it."""
    import duckdb

    return duckdb.connect()


def read_candidate(path, baseline=None, config=None):
    """A candidate file, its baseline and its raw rows, for the gate's frames path (the file
    backend's candidates: warehouse.backends.duckdb.read_candidate)."""
    from warehouse.backends.duckdb import read_candidate as read

    return read(path, baseline, config)
