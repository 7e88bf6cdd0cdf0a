"""Child servers chiso starts and stops (Superset for ``chiso bi``; Airflow in benchmarks)."""

from __future__ import annotations

import os
import signal
import subprocess


def stop_group(process: subprocess.Popen, grace: float) -> None:
    """Stop a child started with ``start_new_session=True`` and everything it started:
    SIGTERM to its process group, SIGKILL after ``grace`` seconds."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
