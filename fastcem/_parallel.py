"""Running a ``parallel=True`` kernel with a given number of threads."""

from __future__ import annotations

import threading

import numba

# numba's "workqueue" threading layer (used when neither TBB nor OpenMP is found) aborts the
# interpreter if two Python threads launch parallel kernels at once.  The kernels use every
# core anyway, so launches are simply serialised.
# Re-entrant: a user's Python model called from inside fastcem may call fastcem again.
_LAUNCH_LOCK = threading.RLock()


class threads:  # noqa: N801 -- used as a function: ``with threads(n):``
    """Launch parallel kernels inside with ``num_threads`` threads (None: numba's current
    setting); the previous setting is restored afterwards, even on error.  A class rather
    than a generator: it is entered on every planning iteration, and this is cheaper."""

    __slots__ = ("num_threads", "previous")

    def __init__(self, num_threads: int | None) -> None:
        self.num_threads = num_threads
        self.previous: int | None = None

    def __enter__(self) -> None:
        _LAUNCH_LOCK.acquire()
        if self.num_threads is not None:
            try:
                self.previous = numba.get_num_threads()
                numba.set_num_threads(self.num_threads)
            except BaseException:
                _LAUNCH_LOCK.release()
                raise

    def __exit__(self, *exc: object) -> None:
        try:
            if self.previous is not None:
                numba.set_num_threads(self.previous)
        finally:
            _LAUNCH_LOCK.release()
