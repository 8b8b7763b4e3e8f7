"""The history plot of a CEM run, as the reference's ``plot_history`` drew it: the mean return of
the population and of the elites per epoch, each with a band of one standard deviation, and
the episodes played and seconds taken in the title.  Needs matplotlib (``fastcem[plot]``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

PLOT_EXTRA_HINT = "install it with: pip install 'fastcem[plot]'"


def check_plot_support() -> None:
    """Raise ImportError with the install hint if matplotlib is missing."""
    try:
        import matplotlib  # noqa: F401 -- only whether it imports
    except ImportError:
        raise ImportError(f"plotting needs matplotlib; {PLOT_EXTRA_HINT}") from None


def plot_history(
    history: Mapping[str, Any],
    path: str | os.PathLike[str],
    *,
    env_id: str,
    episodes: int,
    seconds: float,
) -> None:
    """Write the plot of ``history`` (the reference's columns, see ``CEM.history``) to ``path``;
    the format follows the file's extension (``.png``, ``.pdf``, ``.svg``, ...)."""
    check_plot_support()
    # The object-oriented API without pyplot: no GUI backend, no global figure state.
    from matplotlib.figure import Figure

    epoch = np.asarray(history["epoch"])
    fig = Figure(figsize=(7, 4.5), layout="constrained")
    ax = fig.add_subplot()
    for prefix, label, color in (("rew", "population", "tab:blue"), ("elites", "elites", "tab:orange")):
        avg = np.asarray(history[f"avg_{prefix}"])
        std = np.asarray(history[f"std_{prefix}"])
        ax.plot(epoch, avg, color=color, marker="o", label=f"{label} mean")
        ax.fill_between(epoch, avg - std, avg + std, color=color, alpha=0.25, label=f"{label} ± 1 std")
    ax.set_xlabel("epoch")
    ax.set_ylabel("episode return")
    ax.set_title(f"{env_id}: {episodes:,} episodes in {seconds:.2f} s")
    ax.legend(loc="best")
    ax.grid(alpha=0.3)
    fig.savefig(path)
