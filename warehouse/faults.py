"""Fault injection for the crash tests: the process kills itself with SIGKILL at a named
point when CHISO_FAULT_KILL_AT names it. No cleanup, no exception handler, no flush runs:
what a power cut or an OOM kill leaves behind. Unset (always, outside tests), it costs one
dictionary lookup.

Points: landing_mid_copy (inside a copy, or between a staged copy and its sidecar),
ingest_after_landing, ingest_mid_batch, build_before_candidate, candidate_mid_write,
gate_before_verdict, publish_before_replace, snapshot_mid_write.
"""

from __future__ import annotations

import os
import signal

from warehouse.settings import fault_kill_point


def kill_point(name: str) -> None:
    if fault_kill_point() == name:
        os.kill(os.getpid(), signal.SIGKILL)
