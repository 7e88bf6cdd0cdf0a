"""A throwaway PostgreSQL server for tests: its own cluster in a temporary folder, trust
authentication on 127.0.0.1, a free port; stopped and removed afterwards. Started the way
``CHISO_WAREHOUSE=postgres ./setup.sh run`` starts its local server
(:mod:`warehouse.backends.local_server`)."""

from __future__ import annotations

import shutil
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.backends.local_server import server_bin, start, stop

__all__ = ["free_port", "server_bin", "throwaway_server"]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def throwaway_server() -> Iterator[dict[str, str]]:
    """Yield the CHISO_PG_* settings of a fresh server with one database, ``chiso``."""
    folder = Path(tempfile.mkdtemp(prefix="chiso-pg-"))
    try:
        yield start(folder, free_port(), durable=False)
    finally:
        stop(folder, fast=True)
        shutil.rmtree(folder, ignore_errors=True)


def fresh_database(pg_env: dict[str, str], name: str) -> dict[str, str]:
    """A new, empty database on the session's server; returns its CHISO_PG_* settings."""
    import psycopg

    with psycopg.connect(
        host=pg_env["CHISO_PG_HOST"],
        port=int(pg_env["CHISO_PG_PORT"]),
        user=pg_env["CHISO_PG_USER"],
        dbname=pg_env["CHISO_PG_DBNAME"],
        autocommit=True,
    ) as conn:
        conn.execute(f'drop database if exists "{name}"')
        conn.execute(f'create database "{name}"')
    return {**pg_env, "CHISO_PG_DBNAME": name}
