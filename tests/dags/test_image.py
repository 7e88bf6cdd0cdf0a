"""The production image builds: the Dockerfile's own steps, performed without a Docker engine.

The build context is copied through .dockerignore, as ``docker build`` sends it; the
``COPY`` lines put exactly that into an empty folder; the ``pip`` steps of ``RUN`` install
it into a fresh virtual environment; then what docker-compose.yml starts must work from
there: ``chiso --help``, every DAG file imports, and every command the compose file runs
answers ``--help``. A path the package or the compose file needs and the image lacks fails
here, as it would fail ``docker compose up``.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers.project import PROJECT_ROOT

pytestmark = pytest.mark.slow


def dockerfile_steps(text: str) -> list[tuple[str, str]]:
    """(instruction, arguments) of each step, continuation lines joined, comments dropped."""
    steps, pending = [], ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line.rstrip()
        if pending.endswith("\\"):
            pending = pending[:-1] + " "
            continue
        instruction, _, arguments = pending.strip().partition(" ")
        steps.append((instruction.upper(), arguments.strip()))
        pending = ""
    return steps


def dockerfile_env(arguments: str) -> dict[str, str]:
    return dict(item.split("=", 1) for item in shlex.split(arguments))


def ignored(relative: str, patterns: list[str]) -> bool:
    """Whether .dockerignore's patterns exclude a path (or a folder above it); ``**/``
    matches any depth, as in Docker's matcher. No ``!`` exceptions are used here."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    for pattern in patterns:
        candidates = [pattern]
        if pattern.startswith("**/"):
            candidates.append(pattern[3:])
            prefixes_or_names = prefixes + [p for p in parts]
        else:
            prefixes_or_names = prefixes
        for candidate in candidates:
            if any(fnmatch.fnmatchcase(path, candidate) for path in prefixes_or_names):
                return True
    return False


def build_context(root: Path) -> list[str]:
    """Every file docker build would send from ``root`` (relative paths)."""
    patterns = [
        line.strip().rstrip("/")
        for line in (root / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert not any(p.startswith("!") for p in patterns), "the test's matcher has no '!' rules"
    files = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder).relative_to(root).as_posix()
        here = "" if here == "." else here + "/"
        dirs[:] = [d for d in dirs if not ignored(here + d, patterns)]
        files += [here + n for n in names if not ignored(here + n, patterns)]
    return sorted(files)


def copy_step(arguments: str, context: list[str], workdir: Path) -> None:
    *sources, destination = shlex.split(arguments)
    target = workdir / destination if not destination.startswith("/") else Path(destination)
    assert not destination.startswith("/"), "COPY to an absolute path: map it in this test"
    for source in sources:
        source = source.rstrip("/")
        chosen = [f for f in context if source == "." or f == source or f.startswith(source + "/")]
        assert chosen, f"COPY {source}: nothing in the build context"
        for relative in chosen:
            inner = relative if source == "." else relative[len(source) :].lstrip("/")
            if len(sources) > 1 or destination.endswith("/") and source != ".":
                inner = Path(relative).name if inner == "" else inner
            path = target / inner if inner else target / Path(relative).name
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / relative, path)


def compose_commands(compose: dict) -> list[list[str]]:
    """Each command line the compose file's Airflow services run, as argv lists."""
    commands = []
    for service in compose["services"].values():
        if service.get("build") != ".":
            continue
        command, entrypoint = service.get("command"), service.get("entrypoint")
        if entrypoint == ["bash", "-c"]:
            for part in " ".join(command).split("&&"):
                commands.append(shlex.split(part))
        elif entrypoint:  # the image's other program: chiso bi import
            commands.append([*entrypoint, *(command or [])])
        elif command:
            commands.append(["airflow", *command])
    return commands


@pytest.fixture(scope="session")
def image(tmp_path_factory):
    """The Dockerfile's steps, performed once (the module's tests share one worker, and a
    module-scoped fixture is made again when xdist runs another module between them):
    returns (environment, workdir)."""
    root = tmp_path_factory.mktemp("image")
    steps = dockerfile_steps((PROJECT_ROOT / "Dockerfile").read_text(encoding="utf-8"))
    context = build_context(PROJECT_ROOT)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "CHISO_", "VIRT"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    workdir = None
    for instruction, arguments in steps:
        if instruction == "ENV":
            for name, value in dockerfile_env(arguments).items():
                # the image's absolute paths, moved under this test's folder
                env[name] = value.replace("/opt/", f"{root}/opt/")
        elif instruction == "WORKDIR":
            workdir = root / arguments.lstrip("/")
            workdir.mkdir(parents=True)
        elif instruction == "COPY":
            copy_step(arguments, context, workdir)
        elif instruction == "RUN" and arguments.startswith("pip "):
            # the pip cache only saves this test a download; the image keeps none
            step_env = {k: v for k, v in env.items() if k != "PIP_NO_CACHE_DIR"}
            done = subprocess.run(
                ["bash", "-c", arguments],
                cwd=workdir,
                env=step_env,
                capture_output=True,
                text=True,
                timeout=1200,
            )
            assert done.returncode == 0, f"RUN {arguments}\n{done.stdout[-3000:]}{done.stderr}"
    assert workdir is not None and (workdir / "pyproject.toml").exists()
    return env, workdir


def _run(env: dict, cwd: Path | str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def _airflow(env: dict, workdir: Path) -> dict:
    """What docker-compose.yml adds for Airflow: its home, the DAGs and plugins folders, no
    examples."""
    return dict(
        env,
        AIRFLOW_HOME=str(workdir.parent / "airflow"),
        AIRFLOW__CORE__DAGS_FOLDER=str(workdir / "dags"),
        AIRFLOW__CORE__PLUGINS_FOLDER=str(workdir / "plugins"),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
    )


def test_the_image_runs_chiso_from_what_it_copied(image):
    env, workdir = image
    done = _run(env, workdir, "chiso", "--help")
    assert done.returncode == 0, done.stderr
    assert "validate-file" in done.stdout
    # installed into the environment (from elsewhere than the workdir, which is on sys.path)
    where = _run(env, "/", "python", "-c", "import chiso, warehouse; print(chiso.__file__)")
    assert "site-packages" in where.stdout, where.stderr
    # the dbt project the settings point at is the image's own
    project = _run(
        env,
        workdir,
        "python",
        "-c",
        "from warehouse.settings import load_settings; print(load_settings().dbt_project_dir)",
    )
    assert Path(project.stdout.strip()) == workdir / "dbt_project"
    assert (workdir / "dbt_project" / "dbt_project.yml").exists()


def test_every_dag_file_imports_in_the_image(image):
    env, workdir = image
    expected = sorted(p.stem for p in (PROJECT_ROOT / "dags").glob("chiso_*.py"))
    # as the DAG processor loads a bundle: the folder on sys.path (for chiso_common)
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from airflow.dag_processing.dagbag import BundleDagBag\n"
        "bag = BundleDagBag(dag_folder=sys.argv[1], bundle_path=Path(sys.argv[1]))\n"
        "print(json.dumps({'errors': {k: str(v) for k, v in bag.import_errors.items()},"
        " 'dags': sorted(bag.dag_ids)}))\n"
    )
    env = _airflow(env, workdir)
    # the model-by-model DAG renders from dbt's manifest, which airflow-init writes first
    manifest = _run(env, "/", "chiso", "dbt-manifest")
    assert manifest.returncode == 0, manifest.stderr[-3000:]
    done = _run(env, "/", "python", "-c", script, str(workdir / "dags"))
    assert done.returncode == 0, done.stderr[-3000:]
    found = yaml.safe_load(done.stdout.strip().splitlines()[-1])
    assert found["errors"] == {}
    # every DAG file defines its DAG (the shared wiring module defines none)
    assert set(expected) - {"chiso_common"} <= set(found["dags"])


def test_every_command_the_compose_file_runs_exists_in_the_image(image):
    env, workdir = image
    env = _airflow(env, workdir)
    compose = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    commands = compose_commands(compose)
    assert ["airflow", "celery", "worker"] in commands
    assert any(argv[0] == "chiso" for argv in commands)
    for argv in commands:
        done = _run(env, workdir, *argv, "--help")
        assert done.returncode == 0, f"{' '.join(argv)} --help: {done.stderr[-2000:]}"
        assert re.search(r"usage:", done.stdout, re.IGNORECASE), argv


def test_the_api_server_of_the_image_loads_the_units_pages(image):
    """plugins/chiso_web.py, as the API server loads it from the image's plugins folder."""
    env, workdir = image
    done = _run(_airflow(env, workdir), workdir, "airflow", "plugins", "--output", "json")
    assert done.returncode == 0, done.stderr[-2000:]
    (plugin,) = [p for p in json.loads(done.stdout) if p["name"] == "chiso_web"]
    assert "/chiso" in json.dumps(plugin["fastapi_apps"])


def test_the_context_follows_dockerignore(tmp_path):
    """The matcher the image test copies with: folders, nested names, and file globs."""
    patterns = ["data", "**/__pycache__", "**/*.duckdb", "dbt_project/target"]
    assert ignored("data/inbox/x.csv", patterns)
    assert ignored("chiso/cli/__pycache__/x.pyc", patterns)
    assert ignored("chiso/x.duckdb", patterns)
    assert ignored("dbt_project/target/manifest.json", patterns)
    assert not ignored("dbt_project/models/x.sql", patterns)
    assert not ignored("chiso/data.py", patterns)
