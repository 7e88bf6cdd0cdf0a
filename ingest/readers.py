"""Report files read and validated in worker processes, one per core.

Reading a report (opening the workbook, finding the sheet and header, parsing and checking
every figure, the calendar's lock) is pure: it writes nothing. So the inbox hands it to a
pool of worker processes and keeps every write to itself, in the order the files were
received: landing, quarantine, the raw load and the crash points stay in one process, as
they were before the reading moved out. Results come back in the order asked, a bounded
number of files ahead of the caller, so memory grows with the batch, not with the month.

Few files (a clerk's one upload) are read in the caller's process: starting the workers
(a new interpreter each, ``spawn``: never a fork of a process holding a warehouse
connection) costs about half a second. As in every program that uses ``spawn``, a script
that ingests must keep its work under ``if __name__ == "__main__":``: each worker imports
the script's file again (the ``chiso`` command, Airflow's processes and pytest do).
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.landing import received_at, sha256_file
from ingest.registry import Registry
from ingest.sources.unit_files import Report, read_received
from warehouse.calendar import LockException

FILES_PER_TASK = 16  # one round trip to a worker per 16 files: its cost is then noise
TASKS_AHEAD = 4  # per worker: enough to keep it busy, few enough to bound memory
MIN_FILES_FOR_WORKERS = 2 * FILES_PER_TASK  # below this the workers' start-up is not worth it


def local_day(moment: datetime, timezone: str) -> date:
    """The calendar day of a moment where the instance is (settings.timezone)."""
    return moment.astimezone(ZoneInfo(timezone)).date()


@dataclass(frozen=True)
class Request:
    """One file to read. ``received_on`` None: an inbox file, received when its mtime says
    (and hashed here, beside the reading); else a landed file, hashed again at its load."""

    path: Path
    name: str
    received_on: date | None = None


@dataclass(frozen=True)
class Read:
    request: Request
    report: Report
    exception: LockException | None  # the lock exception that let it in, if one did
    sha256: str | None = None  # inbox files only
    received: datetime | None = None  # inbox files only


@dataclass(frozen=True)
class _Context:
    registry: Registry
    granted: tuple[LockException, ...]
    timezone: str


_worker_context: _Context | None = None  # a worker's, set once when it starts


def _start_worker(context: _Context) -> None:
    global _worker_context
    _worker_context = context
    threading.Thread(target=_exit_with_parent, daemon=True).start()


def _exit_with_parent() -> None:
    """A worker outlives no killed inbox run: it would hold the run's stdout open (a caller
    waiting for its end would wait for ever) and sit idle."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)


def _read(request: Request, context: _Context) -> Read:
    if request.received_on is not None:
        report, exception = read_received(
            request.path,
            request.name,
            context.registry,
            request.received_on,
            list(context.granted),
        )
        return Read(request, report, exception)
    sha256, received = sha256_file(request.path), received_at(request.path)
    report, exception = read_received(
        request.path,
        request.name,
        context.registry,
        local_day(received, context.timezone),
        list(context.granted),
    )
    return Read(request, report, exception, sha256, received)


def _read_task(requests: list[Request]) -> list[Read]:
    assert _worker_context is not None, "a reader worker was started without its context"
    return [_read(request, _worker_context) for request in requests]


class Readers:
    """``with Readers(workers, registry, granted, timezone) as readers: readers.read(...)``;
    the worker processes start at the first large read and stop with the block."""

    def __init__(
        self, workers: int, registry: Registry, granted: list[LockException], timezone: str
    ) -> None:
        self.workers = workers
        self.context = _Context(registry, tuple(granted), timezone)
        self._pool: ProcessPoolExecutor | None = None
        self.used = 1  # the processes that have read files: this one, or the workers

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, *exc_info) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def read(self, requests: Sequence[Request]) -> Iterator[Read]:
        """Each request's reading, in the order given."""
        if self.workers < 2 or len(requests) < MIN_FILES_FOR_WORKERS:
            for request in requests:
                yield _read(request, self.context)
            return
        pool = self._start()
        pending: deque[Future] = deque()
        tasks = (
            list(requests[start : start + FILES_PER_TASK])
            for start in range(0, len(requests), FILES_PER_TASK)
        )
        for task in tasks:
            pending.append(pool.submit(_read_task, task))
            if len(pending) >= self.workers * TASKS_AHEAD:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()

    def _start(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self.used = self.workers
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_worker,
                initargs=(self.context,),
            )
        return self._pool
