"""The layout's rules, read from the code itself: dependencies point down, and the settings
module is the only reader of the environment."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# higher imports lower, never the reverse; the two middle packages never import each other
# (plugins/ is wiring, as dags/ is: Airflow's API server mounts chiso's pages from it)
LAYERS = {"dags": 3, "plugins": 3, "chiso": 2, "ingest": 1, "expectations": 1, "warehouse": 0}
RUNTIME = ("chiso", "ingest", "expectations", "warehouse")


def _modules(*packages: str) -> list[Path]:
    return sorted(path for package in packages for path in (ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level package) of every import in the module, wherever it is written
    (an import inside a function is still a dependency)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name.split(".")[0]) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return found


def _package(path: Path) -> str:
    return path.relative_to(ROOT).parts[0]


def test_every_import_points_down():
    wrong = []
    for path in _modules(*LAYERS):
        here = _package(path)
        for line, target in _imports(path):
            if target == here or target not in LAYERS and target != "benchmarks":
                continue
            allowed = target != "benchmarks" and LAYERS[target] < LAYERS[here]
            if here == "dags" and target == "warehouse":
                allowed = True  # DAG files may read the settings module
            if not allowed:
                wrong.append(f"{path.relative_to(ROOT)}:{line} imports {target}")
    assert not wrong, "imports that point up or sideways:\n" + "\n".join(wrong)


def test_dag_files_import_only_the_application_and_the_settings():
    for path in _modules("dags"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("warehouse"):
                assert node.module == "warehouse.settings", f"{path.name}: {node.module}"


def test_the_runtime_never_imports_airflow_the_dags_or_the_benchmarks():
    wrong = [
        f"{path.relative_to(ROOT)}:{line} imports {target}"
        for path in _modules(*RUNTIME)
        for line, target in _imports(path)
        if target in ("airflow", "cosmos", "dags", "benchmarks", "tests")
    ]
    assert not wrong, "\n".join(wrong)


def test_the_layer_check_catches_an_upward_import(tmp_path, monkeypatch):
    """The check itself can fail: a foundation module that imports the application."""
    fake = tmp_path / "warehouse"
    fake.mkdir()
    (fake / "bad.py").write_text("def f():\n    from chiso import pipeline\n", encoding="utf-8")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError, match="warehouse/bad.py:2 imports chiso"):
        test_every_import_points_down()


def test_only_the_settings_module_reads_the_environment():
    readers = []
    for path in _modules(*RUNTIME, "dags"):
        if path == ROOT / "warehouse" / "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr in ("environ", "getenv")
                or isinstance(node, ast.Name)
                and node.id in ("environ", "getenv")
            ):
                readers.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not readers, "read the environment outside warehouse/settings.py:\n" + "\n".join(readers)


def test_the_province_is_a_setting_not_a_literal():
    """A province code written into the runtime (outside the sample generators) would make
    every instance serve that province."""
    wrong = []
    for path in _modules(*RUNTIME, "dags"):
        if "samples" in path.parts or path.name == "settings.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "20":
                wrong.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not wrong, "\n".join(wrong)


# the foundation's modules: settings, periods, calendar, lock, faults, errors, bilingual
# text, reference seeds, the backends, raw DDL and the build/publish machinery
FOUNDATION = {
    "__init__", "settings", "periods", "calendar", "lock", "faults", "errors", "bilingual",
    "reference", "raw", "raw_schema", "build", "backends", "transaction", "budget",
}  # fmt: skip


def test_the_foundation_holds_no_application_feature():
    """The report, the snapshots and their diff, and the catalog check are the
    application's (chiso/): warehouse/ holds what every package stands on, nothing else."""
    held = {path.relative_to(ROOT / "warehouse").parts[0].removesuffix(".py")
            for path in _modules("warehouse")}  # fmt: skip
    assert held <= FOUNDATION, f"not the foundation's: {sorted(held - FOUNDATION)}"
    for feature in ("report", "snapshot", "snapshot_diff", "catalog"):
        assert (ROOT / "chiso" / feature).exists() or (ROOT / "chiso" / f"{feature}.py").exists()
    named = [
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path in _modules("warehouse")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom)
        and any(
            part in ("report", "snapshot", "snapshot_diff", "catalog")
            for part in (node.module or "").split(".")
        )  # fmt: skip
    ]
    assert not named, "\n".join(named)


ENGINE_MODULES = ("duckdb", "psycopg", "psycopg2")
ENGINE_NAMES = ("duckdb", "postgres", "postgresql")
# where the engine is chosen (the settings) or is the subject (the backends)
ENGINE_HOMES = ("warehouse/backends/", "warehouse/settings.py")
# a module still to make engine-neutral would be listed here (none is): the test fails
# when one of them is neutral, so the list only shrinks
NOT_YET_NEUTRAL: set[str] = set()


def _engine_named(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [
                f"{node.lineno}: import {alias.name}"
                for alias in node.names
                if alias.name.split(".")[0] in ENGINE_MODULES
            ]
        elif isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] in ENGINE_MODULES or node.module in (
                "warehouse.backends.duckdb",
                "warehouse.backends.postgres",
            ):
                found.append(f"{node.lineno}: from {node.module}")
        elif (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.lower() in ENGINE_NAMES
        ):
            found.append(f"{node.lineno}: {node.value!r}")
    return found


def test_nothing_outside_the_backends_names_an_engine():
    """The pipeline never asks which engine it runs on: what differs is a method or a
    capability of the backend (warehouse/backends/), chosen once by the settings."""
    wrong, neutral = [], []
    for path in _modules(*RUNTIME, "dags", "plugins"):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith(ENGINE_HOMES):
            continue
        found = _engine_named(path)
        if found and relative not in NOT_YET_NEUTRAL:
            wrong += [f"{relative}:{line}" for line in found]
        elif not found and relative in NOT_YET_NEUTRAL:
            neutral.append(relative)
    assert not wrong, "name the engine in warehouse/backends/ only:\n" + "\n".join(wrong)
    assert not neutral, f"engine-neutral now, take them off NOT_YET_NEUTRAL: {neutral}"


def test_the_engine_check_sees_a_branch_on_the_engine(tmp_path):
    module = tmp_path / "bad.py"
    module.write_text(
        "import duckdb\n\ndef f(settings):\n    return settings.warehouse == 'postgres'\n",
        encoding="utf-8",
    )
    assert _engine_named(module) == ["1: import duckdb", "4: 'postgres'"]


def test_the_tests_mirror_the_packages_and_the_docs_list_every_test_file():
    """tests/<folder>/ tests the package or folder of that name; docs/DEVELOPING.md says
    what each test file proves."""
    tests = ROOT / "tests"
    folders = {p.name for p in tests.iterdir() if p.is_dir() and p.name != "__pycache__"}
    assert folders - {"helpers"} <= {p.name for p in ROOT.iterdir() if p.is_dir()}, folders
    assert not list(tests.glob("helpers/test_*.py")), "helpers hold no tests"
    docs = (ROOT / "docs" / "DEVELOPING.md").read_text(encoding="utf-8")
    unlisted = [
        str(path.relative_to(tests))
        for path in sorted(tests.rglob("test_*.py"))
        if f"| `{path.relative_to(tests)}` |" not in docs
    ]
    assert unlisted == [], f"say in docs/DEVELOPING.md what these prove: {unlisted}"
