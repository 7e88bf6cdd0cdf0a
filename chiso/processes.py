"""Child servers chiso starts and stops (Superset for ``chiso bi``; Airflow in benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from contextlib import suppress


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def stop_group(process: subprocess.Popen, grace: float) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started,
    what outlives the child included: SIGTERM to its process group, SIGKILL to whatever of
    the group is left after ``grace`` seconds."""
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        process.poll()  # reaps the child: a zombie still counts in its group
        if not _group_alive(process.pid):
            return
        time.sleep(0.2)
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
