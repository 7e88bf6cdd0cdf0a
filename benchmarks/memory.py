"""A stage's peak memory, the whole process tree's: the stage's process and everything it
starts (dbt's threads live in it, but the gate's worker, the ingest's readers and
Chromium are children of their own), their resident sizes summed, sampled while it runs.

``ru_maxrss`` cannot tell this: it is one process's peak (RUSAGE_CHILDREN, the largest
reaped child's, and only once reaped), so the children a stage starts and the sum of
what runs at once were missing from the figures before."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from contextlib import suppress
from pathlib import Path

PAGE = os.sysconf("SC_PAGE_SIZE")
MiB = 1 << 20


def _children() -> dict[int, list[int]]:
    """Every process's children, from /proc (one pass)."""
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone since the listing
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])  # the name may hold spaces
        tree.setdefault(parent, []).append(int(entry.name))
    return tree


def _label(pid: int) -> str:
    """A process as the breakdown names it: its command line, cut short (a worker's
    ``python -c`` names what it imports)."""
    try:
        words = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return f"pid {pid}"
    words = [word.decode(errors="replace") for word in words if word]
    if not words:
        return f"pid {pid}"
    text = " ".join([Path(words[0]).name, *words[1:]])  # the interpreter's name, not path
    return (text[:97] + "...") if len(text) > 100 else text


def tree_processes(root: int) -> dict[int, int]:
    """Bytes resident in ``root`` and each of its descendants now, by process id."""
    tree, held, waiting = _children(), {}, [root]
    while waiting:
        pid = waiting.pop()
        try:
            held[pid] = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        waiting.extend(tree.get(pid, []))
    return held


class PeakSampler:
    """Samples a process tree's resident size every ``every`` seconds while it runs; with
    ``limit`` (bytes), stops the tree (its process group) at the first sample above it.
    ``held`` is the breakdown of the largest sample: each process's MiB, largest first
    (where a stage holds its memory: the run's process, the gate's worker, the readers)."""

    def __init__(self, root: int, every: float = 0.25, limit: int | None = None) -> None:
        self.root, self.every, self.limit = root, every, limit
        self.peak = 0
        self.held: list[tuple[str, float]] = []
        self.over_limit = False
        self.seconds = 0.0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._done.is_set():
            held = tree_processes(self.root)
            total = sum(held.values())
            if total > self.peak:
                self.peak = total
                ranked = sorted(held.items(), key=lambda item: -item[1])
                self.held = [(_label(pid), round(size / MiB, 1)) for pid, size in ranked]
            if self.limit is not None and self.peak > self.limit and not self.over_limit:
                self.over_limit = True
                with suppress(ProcessLookupError):  # it ended meanwhile
                    os.killpg(os.getpgid(self.root), signal.SIGKILL)
            self._done.wait(self.every)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._done.set()
        self._thread.join()

    @property
    def peak_mib(self) -> float:
        return self.peak / MiB


def run_sampled(
    args: list[str], env: dict[str, str], limit: int | None = None
) -> tuple[subprocess.CompletedProcess, PeakSampler]:
    """Run ``args`` in a process group of its own, its tree's peak sampled (and the tree
    stopped when it passes ``limit`` bytes)."""
    started = time.monotonic()
    child = subprocess.Popen(
        args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True,
    )  # fmt: skip
    with PeakSampler(child.pid, limit=limit) as sampler:
        stdout, stderr = child.communicate()
    sampler.seconds = time.monotonic() - started
    return subprocess.CompletedProcess(args, child.returncode, stdout, stderr), sampler


def available_memory() -> int:
    """Bytes the machine can give now without swapping (/proc/meminfo's MemAvailable)."""
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no MemAvailable in /proc/meminfo")
