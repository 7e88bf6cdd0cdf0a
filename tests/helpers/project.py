"""Where the tests stand: the project, the virtual environment's programs, ../shared, and
the provinces tests serve."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SHARED = Path(os.environ.get("CHISO_SHARED_DIR", PROJECT_ROOT.parent / "shared"))
# Tests serve Lạng Sơn alone, to stay quick (conftest.py sets it for the session); the demo
# (the README's main job) serves the three seed provinces, and tests that need several say so.
TEST_PROVINCES = "20"


def shared_folder(name: str) -> Path:
    """A folder of ../shared (seed documents, real data); skip, with the reason, if absent."""
    folder = SHARED / name
    if not folder.is_dir():
        if os.environ.get("CHISO_REQUIRE_SHARED"):
            pytest.fail(f"{folder} is missing: ../shared sits beside the checkout")
        pytest.skip(f"{folder} is not beside this checkout (set CHISO_SHARED_DIR)")
    return folder
