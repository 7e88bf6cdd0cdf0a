"""docker-compose.yml and the Dockerfile cannot be started here (no Docker engine), so
this checks they agree with the project: what they copy exists, the settings they set
exist, and what they install is pinned in the lock (test_scale_out.py starts the compose
file's services natively)."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.helpers.project import PROJECT_ROOT
from tests.helpers.topology import COMPOSE_FILE, interpolated

COMPOSE_TEXT = COMPOSE_FILE.read_text(encoding="utf-8")
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
DOCKERFILE = (PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8")
# the one module that reads chiso's settings from the environment
SETTINGS = (PROJECT_ROOT / "warehouse" / "settings.py").read_text(encoding="utf-8")


def _lock() -> dict[str, str]:
    pins = {}
    for line in (PROJECT_ROOT / "constraints.txt").read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_compose_is_airflows_celery_topology_on_postgres():
    services = COMPOSE["services"]
    assert {
        "postgres",
        "redis",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-worker",
    } <= set(services)
    for name, service in services.items():
        if name.startswith("airflow"):
            assert service["build"] == "."
            env = service["environment"]
            assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
            assert env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://redis:")
            assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql://")
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
            assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/chiso/dags"
            # the landing area and inbox are shared by every worker
            assert "chiso-data:/opt/chiso/data" in service["volumes"]
        if name not in ("airflow-init", "superset-import"):  # one-shot jobs
            assert service["healthcheck"]["test"], f"{name} has no health check"
    worker = services["airflow-worker"]
    assert worker["command"] == ["celery", "worker"]
    assert worker["deploy"]["replicas"] >= 2
    for name in ("airflow-scheduler", "airflow-worker", "airflow-apiserver"):
        assert {"postgres", "redis", "warehouse-postgres"} <= set(services[name]["depends_on"])


def test_production_runs_the_postgres_warehouse_through_an_airflow_connection(monkeypatch):
    """The settings, given the worker's environment, connect to warehouse-postgres as the
    user and database that service creates."""
    from warehouse.settings import load_settings

    services = COMPOSE["services"]
    warehouse = services["warehouse-postgres"]
    assert "profiles" not in warehouse  # started by default
    assert warehouse["image"].startswith("postgres:")
    env = services["airflow-worker"]["environment"]
    assert not any(name.startswith("CHISO_PG_") for name in env)  # only the connection
    secrets = {"CHISO_PG_PASSWORD": "s3cret", "POSTGRES_PASSWORD": "m", "AIRFLOW_JWT_SECRET": "j"}
    for name in list(env) + ["CHISO_PG_HOST", "CHISO_PG_USER", "CHISO_WAREHOUSE"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        if name.startswith(("CHISO_", "AIRFLOW_CONN_")):
            monkeypatch.setenv(name, interpolated(str(value), secrets))
    settings = load_settings()
    assert settings.warehouse == "postgres"
    assert settings.postgres.host == "warehouse-postgres"
    assert settings.postgres.user == warehouse["environment"]["POSTGRES_USER"]
    assert settings.postgres.dbname == warehouse["environment"]["POSTGRES_DB"]
    assert settings.postgres.password == "s3cret"
    assert "s3cret" not in repr(settings)
    assert "warehouse-data" in COMPOSE["volumes"]


def test_env_example_lists_every_secret_the_compose_file_requires():
    required = set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE_TEXT))
    example = (PROJECT_ROOT / ".env.example").read_text(encoding="utf-8")
    listed = set(re.findall(r"^([A-Z_]+)=", example, flags=re.MULTILINE))
    optional = set(re.findall(r"\$\{([A-Z_]+):-\}", COMPOSE_TEXT))  # e.g. Superset's
    assert required <= listed and listed <= required | optional
    assert {"AIRFLOW_JWT_SECRET", "POSTGRES_PASSWORD", "CHISO_PG_PASSWORD"} <= required


def test_every_chiso_setting_the_deployment_sets_exists():
    names = set(re.findall(r"CHISO_[A-Z_]+", COMPOSE_TEXT + DOCKERFILE))
    assert names
    for name in names:
        assert f'"{name}"' in SETTINGS, f"{name} is not read by warehouse/settings.py"


def test_dockerfile_copies_what_exists_and_installs_from_the_lock():
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (PROJECT_ROOT / source).exists(), source
    assert 'pip install -c constraints.txt ".[postgres,celery]"' in DOCKERFILE
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    lock = _lock()
    project = pyproject["project"]
    requirements = project["dependencies"] + [
        req for extra in project["optional-dependencies"].values() for req in extra
    ]
    for requirement in requirements:
        name, version = requirement.split("==")
        assert lock.get(name.lower()) == version, f"{requirement} is not what the lock pins"


def test_superset_is_an_optional_profile_built_from_the_pins_chiso_bi_installs():
    """Superset runs only with ``--profile superset``; its image adds the drivers at the
    versions of bi/superset/requirements.txt, and the import job runs ``chiso bi import``
    with the settings chiso reads."""
    services = COMPOSE["services"]
    for name in ("superset", "superset-import"):
        assert services[name]["profiles"] == ["superset"]
    assert all("profiles" not in s for n, s in services.items() if not n.startswith("superset"))
    image = (PROJECT_ROOT / services["superset"]["build"] / "Dockerfile").read_text()
    pins = (PROJECT_ROOT / "bi" / "superset" / "requirements.txt").read_text()
    for driver in ("duckdb==", "duckdb-engine==", "psycopg2-binary=="):
        pinned = re.search(rf"^{re.escape(driver)}\S+", pins, flags=re.MULTILINE).group(0)
        assert pinned in image, pinned
    job = services["superset-import"]
    assert job["entrypoint"] == ["chiso"] and job["command"] == ["bi", "import"]
    assert job["environment"]["CHISO_SUPERSET_URL"] == "http://superset:8088"
    login = services["warehouse-postgres"]["volumes"][1].split(":")[0]
    assert (PROJECT_ROOT / login).exists()
