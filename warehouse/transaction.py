"""One transaction on a warehouse connection, whichever engine: the one way chiso writes
several statements that must land together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress


@contextmanager
def transaction(conn, begin: str = "begin transaction") -> Iterator:
    """``begin`` on entry, ``commit`` when the block ends, ``rollback`` when it raises
    (anything, an interrupt too); the block's error goes on, never one of the rollback's
    (a connection that died with the error cannot roll back, and needs not to)."""
    conn.execute(begin)
    try:
        yield conn
    except BaseException:
        with suppress(Exception):
            conn.execute("rollback")
        raise
    conn.execute("commit")
