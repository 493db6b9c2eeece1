"""``python -m mockserver``."""

import sys

from .tools.cli import main

sys.exit(main())
