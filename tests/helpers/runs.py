"""Running chiso as a user does: its environment, and the demo (the README's main job)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from tests.helpers.project import TEST_PROVINCES, VENV_BIN


def chiso_environment(data_dir: Path, **settings: str) -> dict[str, str]:
    """This process's environment without any CHISO_ setting, then the data directory, the
    tests' provinces and ``settings``: what a user's shell would hand ``chiso``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data_dir)
    env["CHISO_PROVINCES"] = TEST_PROVINCES
    env.update(settings)
    return env


def run_demo(data_dir: Path) -> Path:
    """``chiso demo`` as a user runs it, into ``data_dir``; returns the published file."""
    return run_demo_into(data_dir).published


@dataclass(frozen=True)
class Demo:
    data: Path  # the data directory the demo ran in
    published: Path
    stdout: str


def run_demo_into(data_dir: Path) -> Demo:
    """``chiso demo`` as a user runs it, into ``data_dir``."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith("CHISO_")}
    env["CHISO_DATA_DIR"] = str(data_dir)
    out = subprocess.run([str(VENV_BIN / "chiso"), "demo"], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    return Demo(data_dir, data_dir / "published" / "chiso.duckdb", out.stdout)
