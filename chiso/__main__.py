"""``python -m chiso`` is the ``chiso`` command."""

from chiso.cli import run

run()
