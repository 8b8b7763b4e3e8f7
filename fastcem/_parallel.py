"""Running a ``parallel=True`` kernel with a given number of threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numba

# numba's "workqueue" threading layer (used when neither TBB nor OpenMP is found) aborts the
# interpreter if two Python threads launch parallel kernels at once.  The kernels use every
# core anyway, so launches are simply serialised.
# Re-entrant: a user's Python model called from inside fastcem may call fastcem again.
_LAUNCH_LOCK = threading.RLock()


@contextmanager
def threads(num_threads: int | None) -> Iterator[None]:
    """Launch parallel kernels inside with ``num_threads`` threads (None: numba's current
    setting); the previous setting is restored afterwards, even on error."""
    with _LAUNCH_LOCK:
        if num_threads is None:
            yield
            return
        previous = numba.get_num_threads()
        numba.set_num_threads(num_threads)
        try:
            yield
        finally:
            numba.set_num_threads(previous)
