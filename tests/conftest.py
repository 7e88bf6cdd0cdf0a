"""The tests' fixtures (helpers live in tests/helpers/): every test gets its own data
directory; nothing touches ./data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.helpers.project import TEST_PROVINCES
from tests.helpers.runs import Demo, run_demo_into

# pytest-xdist runs each test module on one worker (--dist loadscope, setup.sh): a module's
# expensive fixtures (the pipeline runs of test_backends, test_crashes, test_dags, the image)
# are made once. (--dist loadgroup's xdist_group marks are lost with pytest 9: xdist writes
# them into Item._nodeid, which pytest 9 no longer reads.) The session's demo is made once
# per worker that runs a module using it.


def pytest_configure(config):
    """The provinces tests serve, for every chiso this session runs (tests that need
    several set them)."""
    os.environ["CHISO_PROVINCES"] = TEST_PROVINCES


@pytest.fixture(autouse=True)
def _environment_restored():
    """Whatever a test leaves in the environment is undone after it (an Airflow task's
    ``export_warehouse_environment`` under ``dag.test()``, a test's own settings): a later
    test on the same worker must not inherit them (its sample would depend on the order)."""
    saved = dict(os.environ)
    yield
    if os.environ != saved:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def settings(tmp_path, monkeypatch):
    """Settings pointing at a fresh data directory under the test's tmp_path."""
    from warehouse.settings import load_settings

    for name in list(os.environ):
        if name.startswith("CHISO_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("CHISO_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CHISO_PROVINCES", TEST_PROVINCES)
    settings = load_settings()
    settings.ensure_dirs()
    return settings


@pytest.fixture
def sample_inbox(settings):
    """The deterministic sample report files, written into the inbox."""
    from chiso.samples.report_files import generate

    return generate(settings.inbox_dir)


@pytest.fixture(scope="session")
def demo(tmp_path_factory) -> Demo:
    """One ``chiso demo`` for the session (the main job on the sample, September 2025).
    Read it; copy its data directory (``demo_copy``) to change anything."""
    return run_demo_into(tmp_path_factory.mktemp("demo") / "data")


@pytest.fixture
def demo_copy(demo, tmp_path) -> Path:
    """A data directory of this test's own, holding what the session's demo left."""
    import shutil

    return Path(shutil.copytree(demo.data, tmp_path / "data"))


@pytest.fixture(scope="session")
def pg_server():
    """One throwaway PostgreSQL cluster for the whole session (tests take a database each)."""
    from tests.helpers.postgres_server import server_bin, throwaway_server

    if server_bin() is None:
        pytest.fail("PostgreSQL server binaries not found: ./setup.sh installs them")
    with throwaway_server() as env:
        yield env
