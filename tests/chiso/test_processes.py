"""Stopping a child server and everything it started (chiso/processes.py)."""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

from chiso.processes import stop_group


def test_a_grandchild_that_outlives_its_parent_and_ignores_sigterm_is_killed(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    script = f"(trap '' TERM; echo $BASHPID > {pid_file}; sleep 60) & sleep 0.3"
    process = subprocess.Popen(["bash", "-c", script], start_new_session=True)
    process.wait(timeout=10)  # the parent is gone, its child is not
    grandchild = int(pid_file.read_text())
    os.kill(grandchild, 0)
    started = time.monotonic()
    stop_group(process, grace=1)
    assert time.monotonic() - started < 10
    time.sleep(0.2)
    stat = Path(f"/proc/{grandchild}/stat")
    state = stat.read_text().split()[2] if stat.exists() else "gone"
    assert state in ("gone", "Z")  # killed (a zombie until init reaps it)
