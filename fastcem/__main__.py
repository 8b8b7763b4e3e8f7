"""``python -m fastcem``: the same as the ``fastcem`` command."""

import sys

from .cli import main

sys.exit(main())
