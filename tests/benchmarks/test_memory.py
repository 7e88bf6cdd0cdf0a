"""A stage's peak memory is its whole process tree's (benchmarks/memory.py): a child's
memory counts, and a tree past its limit is stopped."""

from __future__ import annotations

import os
import sys

from benchmarks.memory import MiB, run_sampled

# a process that starts a child holding 300 MiB for 1.5 s, and holds little itself
CHILD = "import time; b = bytearray(300 * 1024 * 1024); time.sleep(1.5)"
PARENT = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {CHILD!r}])"


def test_the_peak_is_the_whole_trees_and_a_tree_past_its_limit_is_stopped():
    result, sampler = run_sampled([sys.executable, "-c", PARENT], dict(os.environ))
    assert result.returncode == 0
    assert sampler.peak >= 300 * MiB and not sampler.over_limit
    assert sampler.peak < 600 * MiB and sampler.seconds >= 1.5
    # the peak broken down by process: the child holds it, named by its command line
    (largest, held), *others = sampler.held
    assert largest.startswith("python") and "bytearray(300" in largest
    assert held >= 300 and all(size < 100 for _, size in others)

    result, sampler = run_sampled([sys.executable, "-c", PARENT], dict(os.environ), 200 * MiB)
    assert sampler.over_limit and result.returncode == -9  # stopped, not left to finish
    assert sampler.seconds < 1.5
