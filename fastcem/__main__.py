"""``python -m fastcem``: the same as the ``fastcem`` command."""

from .cli import run

run()
