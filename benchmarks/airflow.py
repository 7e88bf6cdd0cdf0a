"""chiso under a real Airflow scheduler:
``python -m benchmarks airflow --mode runner|subprocess|watcher``.

Follows the README's "see it all in the Airflow UI" steps in a fresh ``AIRFLOW_HOME`` (db
migrate, the warehouse pool, the dbt manifest, ``airflow standalone`` with the venv's bin on
``PATH``), logs in through the REST API with the password standalone generated, unpauses a
DAG, triggers a run and polls it to the end, then reads every task instance's duration.
``dag.test()`` cannot drive cosmos' watcher mode (its sensors wait on a producer task
running beside them); this can. Used by the benchmark and by
``tests/test_airflow_standalone.py``; this module imports nothing of Airflow itself.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from chiso.processes import stop_group
from warehouse.settings import PROJECT_ROOT

BIN = Path(sys.executable).parent


class AirflowError(RuntimeError):
    pass


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Airflow:
    """A running ``airflow standalone`` and a logged-in REST client for it."""

    url: str
    home: Path
    token: str = ""

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        request = urllib.request.Request(
            f"{self.url}{path}",
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"}
            | ({"Authorization": f"Bearer {self.token}"} if self.token else {}),
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:
                return json.loads(answer.read() or b"{}")
        except urllib.error.HTTPError as error:
            detail = error.read().decode(errors="replace")[:500]
            raise AirflowError(f"{method} {path}: HTTP {error.code} {detail}") from None

    def login(self) -> None:
        """As a user would: ``admin`` and the password standalone wrote for it."""
        passwords = self.home / "simple_auth_manager_passwords.json.generated"
        password = json.loads(passwords.read_text(encoding="utf-8"))["admin"]
        self.token = self.call("POST", "/auth/token", {"username": "admin", "password": password})[
            "access_token"
        ]

    def dag_ids(self) -> list[str]:
        return sorted(dag["dag_id"] for dag in self.call("GET", "/api/v2/dags?limit=100")["dags"])

    def import_errors(self) -> list[dict]:
        return self.call("GET", "/api/v2/importErrors")["import_errors"]

    def unpause(self, dag_id: str) -> None:
        self.call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})

    def runs(self, dag_id: str) -> list[dict]:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns?limit=100")["dag_runs"]

    def task_instances(self, dag_id: str) -> list[dict]:
        """Every task instance of every run of ``dag_id``."""
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/~/taskInstances?limit=1000")[
            "task_instances"
        ]

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict:
        return self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")

    def tries(self, dag_id: str, run_id: str, task_id: str) -> list[dict]:
        """Every try of a task instance so far (state, hostname, pid, ...), first first."""
        answer = self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries"
        )
        return sorted(answer["task_instances"], key=lambda t: t["try_number"])

    def trigger(self, dag_id: str, conf: dict) -> str:
        """Unpause ``dag_id`` and trigger a run of it with ``conf``; return the run's id."""
        self.unpause(dag_id)
        run = self.call(
            "POST", f"/api/v2/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf}
        )
        return run["dag_run_id"]

    def run(self, dag_id: str, conf: dict, timeout: float = 900, log=print) -> dict:
        """Unpause ``dag_id``, trigger it with ``conf``, wait for it to end; return the run
        (with ``tasks``: each task instance's id, state and duration)."""
        return self.finished(dag_id, self.trigger(dag_id, conf), timeout, log)

    def first_run(self, dag_id: str, run_type: str, timeout: float = 900, log=print) -> dict:
        """Wait for the scheduler to start a run of ``run_type`` (scheduled,
        asset_triggered), then for it to end; return it as :meth:`run` does."""
        started = time.monotonic()
        while True:
            runs = [run for run in self.runs(dag_id) if run["run_type"] == run_type]
            if runs:
                left = timeout - (time.monotonic() - started)
                return self.finished(dag_id, runs[0]["dag_run_id"], left, log)
            if time.monotonic() - started > timeout:
                raise AirflowError(f"no {run_type} run of {dag_id} after {timeout:.0f} s")
            time.sleep(2)

    def finished(self, dag_id: str, run_id: str, timeout: float = 900, log=print) -> dict:
        started, state = time.monotonic(), None
        while state not in ("success", "failed"):
            if time.monotonic() - started > timeout:
                raise AirflowError(f"{dag_id} run {run_id} still {state} after {timeout:.0f} s")
            run = self.call("GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")
            if run["state"] != state:
                state = run["state"]
                log(f"  {dag_id}: {state} after {time.monotonic() - started:.0f} s")
            if state not in ("success", "failed"):
                time.sleep(2)
        tasks = self.call(
            "GET", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances?limit=1000"
        )["task_instances"]
        keep = ("task_id", "state", "duration", "start_date", "end_date", "try_number")
        run["tasks"] = [{name: t.get(name) for name in keep} for t in tasks]
        run["wall_seconds"] = time.monotonic() - started
        return run


def wait_healthy(
    url: str, parts: tuple[str, ...], alive: Callable[[], None], timeout: float, what: str
) -> None:
    """Poll Airflow's health endpoint until each of ``parts`` (metadatabase, scheduler,
    dag_processor, triggerer) is healthy; ``alive`` raises when a process it waits on has
    exited."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        alive()
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=5) as answer:
                health = json.loads(answer.read())
            if all(health.get(part, {}).get("status") == "healthy" for part in parts):
                return
        except (urllib.error.URLError, ConnectionError, TimeoutError, json.JSONDecodeError):
            pass
        time.sleep(2)
    raise AirflowError(f"{what} not healthy after {timeout:.0f} s")


@contextmanager
def standalone(
    airflow_home: Path, env: dict[str, str] | None = None, timeout: float = 240, log=print
) -> Iterator[Airflow]:
    """The README's steps, then ``airflow standalone`` on a free port until the block ends."""
    home = airflow_home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    environ = dict(os.environ) | (env or {})
    environ |= {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),  # chiso's pages
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        # the README's sizing: four LocalExecutor task processes per core (most wait on dbt)
        "AIRFLOW__CORE__PARALLELISM": str(4 * len(os.sched_getaffinity(0))),
        "AIRFLOW__API__PORT": str(port),
        # task processes report to the API server's execution API: on this port, not 8080
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # no network here
        "SCARF_ANALYTICS": "false",
        "PATH": f"{BIN}:{environ.get('PATH', '')}",
    }
    for step in (
        ["airflow", "db", "migrate"],
        ["airflow", "pools", "set", "chiso_warehouse", "1", "DuckDB has one writer"],
        ["chiso", "dbt-manifest"],
    ):
        done = subprocess.run(step, env=environ, capture_output=True, text=True)
        if done.returncode != 0:
            raise AirflowError(f"{' '.join(step)} failed: {done.stderr[-3000:]}")
    log_path = home / "standalone.log"
    with open(log_path, "w") as output:
        process = subprocess.Popen(
            ["airflow", "standalone"],
            env=environ,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its scheduler, processor, triggerer and api-server
        )
    url = f"http://127.0.0.1:{port}"
    try:
        started = time.monotonic()

        def alive() -> None:
            if process.poll() is not None:
                raise AirflowError(f"airflow standalone exited: {log_path.read_text()[-3000:]}")

        parts = ("metadatabase", "scheduler", "dag_processor")
        wait_healthy(url, parts, alive, timeout, "airflow standalone")
        log(f"  airflow standalone healthy on {url} after {time.monotonic() - started:.0f} s")
        client = Airflow(url, home)
        client.login()
        yield client
    finally:
        stop_group(process, grace=60)


def bench_airflow(mode: str, period: str = "2025-09") -> dict:
    """One run of ``chiso_pipeline_models`` with cosmos in ``mode``, under a real scheduler,
    on the demo's data in a temporary directory."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="chiso-airflow-") as folder:
        data = Path(folder) / "data"
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
        env |= {"CHISO_DATA_DIR": str(data), "CHISO_COSMOS_MODE": mode}
        print("chiso demo (the data the DAG rebuilds) ...", flush=True)
        demo = subprocess.run([str(BIN / "chiso"), "demo"], env=env, capture_output=True)
        if demo.returncode != 0:
            raise AirflowError(f"chiso demo failed: {demo.stderr.decode()[-2000:]}")
        with standalone(Path(folder) / "airflow", env) as airflow:
            run = airflow.run("chiso_pipeline_models", {"period": period})
    from datetime import datetime

    dbt_tasks = [t for t in run["tasks"] if t["task_id"].startswith("dbt.")]
    starts = [datetime.fromisoformat(t["start_date"]) for t in dbt_tasks if t["start_date"]]
    ends = [datetime.fromisoformat(t["end_date"]) for t in dbt_tasks if t["end_date"]]
    return {
        "mode": mode,
        "state": run["state"],
        "wall_seconds": run["wall_seconds"],
        "tasks": len(run["tasks"]),
        "dbt_tasks": len(dbt_tasks),
        "dbt_task_seconds": sum(t["duration"] or 0 for t in dbt_tasks),
        "dbt_span_seconds": (max(ends) - min(starts)).total_seconds() if starts else None,
        "failed": [t["task_id"] for t in run["tasks"] if t["state"] not in ("success", "skipped")],
    }
