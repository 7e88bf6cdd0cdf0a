"""One run at a time: DuckDB admits one writer, and a half-built warehouse must not be read.

The lock is an ``flock`` on ``<data>/chiso.lock``: the kernel drops it when the holder dies,
so a killed run never leaves a stale lock behind. The file names the holder, for the
message a second run prints.
"""

from __future__ import annotations

import fcntl
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from warehouse.errors import ChisoError


class LockedError(ChisoError):
    pass


@contextmanager
def run_lock(path: Path, what: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="utf-8") as handle:  # held for the whole run
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            raise LockedError(
                f"another chiso run holds the warehouse lock {path} ({holder}); "
                "wait for it to finish and try again"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()} on {socket.gethostname()}: {what} ({sys.argv[0]})\n")
        handle.flush()
        yield
