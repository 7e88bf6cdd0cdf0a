"""Report files read and validated in worker processes, one per core.

Reading a report (opening the workbook, finding the sheet and header, parsing and checking
every figure, the calendar's lock) is pure: it writes nothing. So the inbox hands it to
worker processes and keeps every write to itself, in the order the files were received:
landing, quarantine, the raw load and the crash points stay in one process, as they were
before the reading moved out. Results come back in the order asked, a bounded number of
files ahead of the caller, so memory grows with the batch, not with the month.

The workers are interpreters of our own (``python -c`` importing this module), talking
pickles over their stdin and stdout: not ``multiprocessing``, whose ``spawn`` and
``forkserver`` import the caller's main script again in every worker (under Airflow that
is the ``airflow`` script, whose import fails inside a task, where the metadata database is
blocked) and whose ``fork`` would copy a process holding a warehouse connection. A worker
reads until its stdin ends, so it ends with the run that started it, killed or not.

Few files (a clerk's one upload) are read in the caller's process: starting the workers
costs about half a second.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import traceback
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import BinaryIO
from zoneinfo import ZoneInfo

from ingest.landing import Staged, received_at, sha256_file, stage
from ingest.registry import Registry
from ingest.sources.unit_files import Report, read_received
from warehouse.calendar import LockGrant
from warehouse.errors import ChisoError
from warehouse.settings import Settings

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
    exception: LockGrant | None  # the lock exception that let it in, if one did
    sha256: str | None = None  # inbox files only
    received: datetime | None = None  # inbox files only
    staged: Staged | None = None  # a valid inbox file's copy, ready to land


@dataclass(frozen=True)
class _Context:
    registry: Registry
    granted: tuple[LockGrant, ...]
    settings: Settings
    stage_in: Path | None  # the landing area valid inbox files are staged in, if any


def _read(request: Request, context: _Context) -> Read:
    settings, granted = context.settings, list(context.granted)
    path, name = request.path, request.name
    if request.received_on is not None:
        report, exception = read_received(
            path, name, context.registry, request.received_on, granted, settings
        )
        return Read(request, report, exception)
    received = received_at(path)
    # one read of the bytes: those hashed are those validated and those staged to land
    data = path.read_bytes() if path.stat().st_size <= settings.max_file_bytes else None
    sha256 = hashlib.sha256(data).hexdigest() if data is not None else sha256_file(path)
    received_on = local_day(received, settings.timezone)
    report, exception = read_received(
        path, name, context.registry, received_on, granted, settings, data
    )
    staged = None
    if data is not None and report.is_valid and context.stage_in is not None:
        assert report.period is not None
        staged = stage(
            data, context.stage_in, report.period, sha256, name, report.unit_code, received
        )
    return Read(request, report, exception, sha256, received, staged)


class ReaderError(ChisoError):
    """A worker failed: its traceback, or how it ended."""


def _serve() -> None:
    """A worker's life: the context, then lists of requests until stdin ends; each list
    answered with its reads, or with the error that stopped it. Anything printed goes to
    stderr: stdout carries only the answers."""
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    requests = sys.stdin.buffer
    try:
        context: _Context = pickle.load(requests)
        while True:
            try:
                task: list[Request] = pickle.load(requests)
            except EOFError:
                return
            try:
                answer = ("reads", [_read(request, context) for request in task])
            except Exception:  # a bug in reading: the caller raises it with this traceback
                answer = ("error", traceback.format_exc())
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
    except (BrokenPipeError, KeyboardInterrupt):  # the run that started it is gone
        return


class _Worker:
    def __init__(self) -> None:
        root = str(Path(__file__).resolve().parents[1])  # this very code, whatever the cwd
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                f"import sys; sys.path.insert(0, {root!r}); "
                "from ingest.readers import _serve; _serve()",
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.process.stdin is not None and self.process.stdout is not None
        self.requests: BinaryIO = self.process.stdin
        self.answers: BinaryIO = self.process.stdout

    def send(self, message: object) -> None:
        self.send_pickled(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))

    def send_pickled(self, message: bytes) -> None:
        self.requests.write(message)
        self.requests.flush()

    def receive(self) -> list[Read]:
        try:
            kind, value = pickle.load(self.answers)
        except EOFError:
            code = self.process.wait()
            raise ReaderError(
                f"a reader worker (pid {self.process.pid}) ended with exit code {code} "
                "before answering; its stderr is above"
            ) from None
        if kind == "error":
            raise ReaderError(f"a reader worker failed:\n{value}")
        return value

    def stop(self, kill: bool) -> None:
        if kill:
            self.process.kill()
        for stream in (self.requests, self.answers):
            with suppress(OSError):  # a pipe to a dead worker
                stream.close()
        self.process.wait()


class Readers:
    """``with Readers(settings, registry, granted) as readers: readers.read(...)``; the
    worker processes (``settings.ingest_workers``) start at the first large read and stop
    with the block. With ``stage_in`` (a landing area), each valid inbox file's copy and
    sidecar are staged there by the process that read it (:func:`ingest.landing.stage`)."""

    def __init__(
        self,
        settings: Settings,
        registry: Registry,
        granted: list[LockGrant],
        stage_in: Path | None = None,
    ) -> None:
        self.workers = settings.ingest_workers
        self.context = _Context(registry, tuple(granted), settings, stage_in)
        self._pool: list[_Worker] = []
        self._pending: deque[_Worker] = deque()  # workers owing an answer, in order asked
        self.used = 1  # the processes that have read files: this one, or the workers

    def __enter__(self) -> Readers:
        return self

    def __exit__(self, exc_type, *exc_info) -> None:
        for worker in self._pool:
            worker.stop(kill=exc_type is not None)  # on an error, unread answers are moot
        self._pool = []

    def read(self, requests: Sequence[Request]) -> Iterator[Read]:
        """Each request's reading, in the order given."""
        if self.workers < 2 or len(requests) < MIN_FILES_FOR_WORKERS:
            for request in requests:
                yield _read(request, self.context)
            return
        pool = self._start()
        pending = self._pending
        while pending:  # a read left unfinished by its caller: its answers are not this one's
            pending.popleft().receive()
        # task i goes to worker i mod n, which answers its tasks in the order sent
        for number, start in enumerate(range(0, len(requests), FILES_PER_TASK)):
            worker = pool[number % len(pool)]
            worker.send(list(requests[start : start + FILES_PER_TASK]))
            pending.append(worker)
            if len(pending) >= len(pool) * TASKS_AHEAD:
                yield from pending.popleft().receive()
        while pending:
            yield from pending.popleft().receive()

    def _start(self) -> list[_Worker]:
        if not self._pool:
            self.used = self.workers
            self._pool = [_Worker() for _ in range(self.workers)]  # all start at once
            context = pickle.dumps(self.context, protocol=pickle.HIGHEST_PROTOCOL)
            for worker in self._pool:
                worker.send_pickled(context)
        return self._pool
