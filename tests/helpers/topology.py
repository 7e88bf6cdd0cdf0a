"""Airflow's production topology, as docker-compose.yml describes it, started natively for
the tests (no Docker engine here): a PostgreSQL cluster holding Airflow's metadata database
and the warehouse, Redis from Debian as the broker, the API server, scheduler, DAG
processor, triggerer and the Celery workers, each its own process with the environment
its compose service gets.

Each service's environment is the compose file's ``x-airflow-common`` environment with the
secrets filled in and each service's host name (``postgres``, ``redis``, ...) replaced by
127.0.0.1 and the port it listens on here. What Docker would give each container and one
machine cannot is added (``NATIVE``): a host name per service ("machine", through Airflow's
``[core] hostname_callable``), its own log server port; and two timings are shortened so a
lost worker is noticed in seconds, not minutes. The warehouse's connection is not in the
environment: the test stores it in Airflow's metadata database through the REST API, as an
operator would, and the warehouse accepts only its password.
"""

from __future__ import annotations

import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import psutil
import yaml

from benchmarks.airflow import BIN, Airflow, AirflowError, wait_healthy
from tests.helpers.postgres_server import free_port
from warehouse.backends.local_server import start, stop
from warehouse.settings import PROJECT_ROOT

COMPOSE_FILE = PROJECT_ROOT / "docker-compose.yml"
IMAGE_ROOT = "/opt/chiso"  # where the Dockerfile puts the project
REDIS_SERVER = "/usr/bin/redis-server"  # Debian's redis-server, installed by ./setup.sh
CONNECTION_ID = "chiso_warehouse"
SERVICES = ("airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer")


def compose() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def interpolated(value: str, env: dict[str, str]) -> str:
    """What docker compose makes of ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}``."""

    def one(match: re.Match) -> str:
        name, op, rest = match.group(1), match.group(2), match.group(3)
        if name in env:
            return env[name]
        assert op == ":-", f"{name} has no value and no default"
        return rest

    return re.sub(r"\$\{([A-Z_]+)(?:(:-|:\?)([^}]*))?\}", one, value)


def machine_name() -> str:
    """``[core] hostname_callable`` of every process started here: the name of the machine
    it plays (TOPOLOGY_MACHINE), as each compose service runs on a host of its own."""
    return os.environ.get("TOPOLOGY_MACHINE") or socket.getfqdn()


def service_environment(addresses: dict[str, str], secret: dict[str, str], data: Path) -> dict:
    """The compose file's Airflow environment for this machine: ``addresses`` maps a
    service's ``name:port`` to where it listens here; the image's paths become the
    checkout's and ``data``."""
    env = {}
    for name, value in compose()["x-airflow-common"]["environment"].items():
        value = interpolated(str(value), secret)
        for service, address in addresses.items():
            value = re.sub(rf"(?<=[/@]){re.escape(service)}(?=/|$)", address, value)
        for folder in ("dags", "plugins"):
            value = value.replace(f"{IMAGE_ROOT}/{folder}", str(PROJECT_ROOT / folder))
        env[name] = value.replace(f"{IMAGE_ROOT}/data", str(data))
    return env


@dataclass
class Service:
    name: str
    machine: str
    process: subprocess.Popen
    log: Path
    env: dict[str, str]

    def processes(self) -> list[psutil.Process]:
        """The service's process and every process under it (a task's supervisor and the
        task itself set a process group of their own, so a group kill would miss them)."""
        try:
            root = psutil.Process(self.process.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def lose_machine(self) -> None:
        """What a worker machine's power cut leaves: every process on it SIGKILLed at once."""
        for process in self.processes():
            with suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        for process in self.processes():
            with suppress(psutil.NoSuchProcess):
                process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.lose_machine()
        for process in self.processes():  # a straggler outliving its parent
            process.kill()

    def tail(self, chars: int = 3000) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-chars:]


@dataclass
class Topology:
    airflow: Airflow
    env: dict[str, str]  # what an operator's shell on one of the machines has
    services: dict[str, Service]
    warehouse: dict[str, str]  # CHISO_PG_* of the warehouse, its password among them
    home: Path
    data: Path
    api_port: int

    @property
    def workers(self) -> dict[str, Service]:
        return {s.machine: s for s in self.services.values() if s.name == "airflow-worker"}

    def add_warehouse_connection(self) -> None:
        """The warehouse as the Airflow connection ``chiso_warehouse``, in the metadata
        database (encrypted with the Fernet key), through the REST API."""
        self.airflow.call(
            "POST",
            "/api/v2/connections",
            {
                "connection_id": CONNECTION_ID,
                "conn_type": "postgres",
                "host": self.warehouse["CHISO_PG_HOST"],
                "port": int(self.warehouse["CHISO_PG_PORT"]),
                "login": self.warehouse["CHISO_PG_USER"],
                "password": self.warehouse["CHISO_PG_PASSWORD"],
                "schema": self.warehouse["CHISO_PG_DBNAME"],
            },
        )

    def logs(self) -> Iterator[Path]:
        """Every log the topology wrote: Airflow's task and component logs, each service's."""
        yield from (path for path in self.home.rglob("*.log") if path.is_file())


def _secrets() -> dict[str, str]:
    from cryptography.fernet import Fernet

    return {
        "POSTGRES_PASSWORD": secrets.token_hex(8),
        "CHISO_PG_PASSWORD": "wh-" + secrets.token_hex(12),
        "AIRFLOW_JWT_SECRET": secrets.token_hex(32),
        "AIRFLOW_FERNET_KEY": Fernet.generate_key().decode(),
    }


def _postgres(folder: Path, secret: dict[str, str]) -> dict[str, str]:
    """The cluster of services ``postgres`` and ``warehouse-postgres`` (one server here):
    database ``airflow`` of role ``airflow``, and the warehouse ``chiso`` whose role
    ``chiso`` must give its password over TCP (the rest stays trusted, as in the tests'
    other clusters)."""
    import psycopg

    pg = start(folder, free_port(), durable=False)
    port = int(pg["CHISO_PG_PORT"])
    with psycopg.connect(host="127.0.0.1", port=port, user="chiso", autocommit=True) as conn:
        conn.execute("create role airflow login")
        conn.execute("create database airflow owner airflow")
        password = secret["CHISO_PG_PASSWORD"]
        conn.execute(f"alter role chiso password '{password}'")
        hba = folder / "data" / "pg_hba.conf"
        rule = "host chiso chiso 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rule + hba.read_text(encoding="utf-8"), encoding="utf-8")
        conn.execute("select pg_reload_conf()")
    return pg | {"CHISO_PG_PASSWORD": secret["CHISO_PG_PASSWORD"]}


def _redis(folder: Path) -> tuple[subprocess.Popen, int]:
    port = free_port()
    process = subprocess.Popen(
        [
            REDIS_SERVER,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(folder),
        ],  # fmt: skip
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    for _ in range(100):
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process, port
        time.sleep(0.1)
    process.kill()
    raise AirflowError(f"redis-server did not listen on {port}")


def _healthy(airflow_url: str, services: dict[str, Service], timeout: float) -> None:
    """The API server's health endpoint says the metadata database, scheduler, DAG
    processor and triggerer are healthy."""

    def alive() -> None:
        for service in services.values():
            if service.process.poll() is not None:
                raise AirflowError(f"{service.machine} exited:\n{service.tail()}")

    parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
    wait_healthy(airflow_url, parts, alive, timeout, "the topology")


def health_check(service: Service, published_port: int) -> subprocess.CompletedProcess:
    """Run the service's compose health check on this machine, with its environment
    (``localhost:8080`` is where the API server listens inside its container)."""
    test = compose()["services"][service.name]["healthcheck"]["test"]
    kind, *command = test
    if kind == "CMD-SHELL":
        command = ["bash", "-c", command[0].replace("$$", "$")]
    command = [part.replace("localhost:8080", f"127.0.0.1:{published_port}") for part in command]
    return subprocess.run(command, env=service.env, capture_output=True, text=True, timeout=120)


@contextmanager
def celery_topology(
    root: Path, provinces: str, dotenv: dict[str, str] | None = None, timeout: float = 300
) -> Iterator[Topology]:
    """The compose file's services on this machine, under ``root``, until the block ends;
    ``dotenv``: what an operator puts in ``.env`` beside the secrets (made here)."""
    compose_file = compose()
    secret = _secrets() | (dotenv or {})
    home, data = root / "airflow", root / "data"
    home.mkdir(parents=True)
    with ExitStack() as stack:
        # not under pytest's private tmp_path: the postgres system user must reach it
        pg_folder = Path(tempfile.mkdtemp(prefix="chiso-topology-pg-"))
        stack.callback(shutil.rmtree, pg_folder, True)
        pg = _postgres(pg_folder, secret)
        stack.callback(stop, pg_folder, True)
        redis, redis_port = _redis(root)
        stack.callback(redis.kill)
        api_port = free_port()
        address = {
            "postgres:5432": f"127.0.0.1:{pg['CHISO_PG_PORT']}",
            "warehouse-postgres:5432": f"127.0.0.1:{pg['CHISO_PG_PORT']}",
            "redis:6379": f"127.0.0.1:{redis_port}",
            "airflow-apiserver:8080": f"127.0.0.1:{api_port}",
        }
        base = {k: v for k, v in os.environ.items() if not k.startswith(("CHISO_", "AIRFLOW"))}
        env = base | service_environment(address, secret, data)
        # the warehouse's connection is stored in the metadata database by the test instead
        env.pop("AIRFLOW_CONN_CHISO_WAREHOUSE")
        env |= {
            "AIRFLOW_HOME": str(home),
            "CHISO_PROVINCES": provinces,
            "PATH": f"{BIN}:{env.get('PATH', '')}",
            "PYTHONPATH": str(PROJECT_ROOT),  # for hostname_callable
            # NATIVE: what each container would have on its own
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.machine_name",
            "AIRFLOW__API__PORT": str(api_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
            # NATIVE: a lost task noticed after 20 s (not 300), retried 1 s later (not 300)
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "20",
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "1",
            "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",  # no network here
            "SCARF_ANALYTICS": "false",
        }
        init = compose_file["services"]["airflow-init"]
        done = subprocess.run(
            [*init["entrypoint"], *init["command"]], env=env, capture_output=True, text=True
        )
        if done.returncode != 0:
            raise AirflowError(f"airflow-init failed: {(done.stderr or done.stdout)[-3000:]}")
        plan = [(name, name.removeprefix("airflow-"), []) for name in SERVICES]
        worker = compose_file["services"]["airflow-worker"]
        for n in range(1, worker["deploy"]["replicas"] + 1):
            machine = f"worker-{n}"
            plan.append(("airflow-worker", machine, ["--celery-hostname", f"celery@{machine}"]))
        services: dict[str, Service] = {}
        for name, machine, extra in plan:
            own = env | {
                "TOPOLOGY_MACHINE": machine,
                "HOSTNAME": machine,  # what the compose health checks name the host by
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            }
            log = home / f"{machine}.log"
            with open(log, "w") as output:
                command = ["airflow", *compose_file["services"][name]["command"], *extra]
                process = subprocess.Popen(
                    command, env=own, stdout=output, stderr=subprocess.STDOUT, cwd=root
                )
            services[machine] = Service(name, machine, process, log, own)
            stack.callback(services[machine].stop)
        url = f"http://127.0.0.1:{api_port}"
        _healthy(url, services, timeout)
        for service in services.values():  # the workers take a moment more to be ready
            started = time.monotonic()
            while (check := health_check(service, api_port)).returncode != 0:
                if time.monotonic() - started > timeout or service.process.poll() is not None:
                    raise AirflowError(
                        f"{service.machine}'s health check {shlex.join(check.args)} failed: "
                        f"{(check.stderr or check.stdout)[-2000:]}\n{service.tail()}"
                    )
                time.sleep(3)
        airflow = Airflow(url, home)
        airflow.login()
        yield Topology(airflow, env, services, pg, home, data, api_port)
