"""docker-compose.yml and the Dockerfile cannot be started here (no Docker engine), so
this checks they agree with the project: what they copy exists, the settings they set
exist, and what they install is pinned in the lock."""

from __future__ import annotations

import re
import tomllib

import yaml

from tests.conftest import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
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


def test_compose_runs_the_airflow_3_services_on_postgres():
    services = COMPOSE["services"]
    assert {
        "postgres",
        "airflow-init",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    } <= set(services)
    for name, service in services.items():
        if name.startswith("airflow"):
            assert service["build"] == "."
            env = service["environment"]
            assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://")
            assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/chiso/dags"
            assert "chiso-data:/opt/chiso/data" in service["volumes"]


def test_the_optional_warehouse_service_matches_what_chiso_connects_to():
    services = COMPOSE["services"]
    warehouse = services["warehouse-postgres"]
    assert warehouse["profiles"] == ["warehouse"]
    assert warehouse["image"].startswith("postgres:")
    env = services["airflow-scheduler"]["environment"]
    assert env["CHISO_PG_HOST"] == "warehouse-postgres"
    assert env["CHISO_PG_USER"] == warehouse["environment"]["POSTGRES_USER"]
    assert env["CHISO_PG_DBNAME"] == warehouse["environment"]["POSTGRES_DB"]
    assert "warehouse-data" in COMPOSE["volumes"]


def test_every_chiso_setting_the_deployment_sets_exists():
    names = set(re.findall(r"CHISO_[A-Z_]+", yaml.safe_dump(COMPOSE) + DOCKERFILE))
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
