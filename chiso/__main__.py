"""``python -m chiso`` is the ``chiso`` command."""

import sys

from chiso.cli import main

sys.exit(main())
