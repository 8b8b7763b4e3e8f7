"""Running compiled work on several threads: ``parallel=True`` kernels with a given number
of threads (:class:`threads`), and ``nogil`` workers on Python threads (:func:`run_workers`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

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


# --- workers on Python threads ---------------------------------------------------------------
#
# A compiled ``parallel=True`` kernel costs seconds of compiling (numba's parfor passes, and
# LLVM optimising the worker's code once more inside it).  Where a call is long enough that
# a few tens of microseconds of dispatch do not matter (a population evaluation), the
# engine's workers are plain ``nogil`` kernels started on Python threads instead.

_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=max(1, numba.config.NUMBA_NUM_THREADS - 1),
                                       thread_name_prefix="fastcem")
        return _POOL


def run_workers(num_workers: int, work: Callable[[int], object]) -> None:
    """Run ``work(w)`` for ``w = 0 .. num_workers - 1`` at once, one on this thread and the
    others on the pool's threads (``work`` must release the GIL to run in parallel: a
    ``nogil`` kernel); returns when all are done, raising the first error."""
    if num_workers <= 1:
        work(0)
        return
    futures = [_pool().submit(work, w) for w in range(1, num_workers)]
    try:
        work(0)
    finally:
        for f in futures:
            f.result()


def num_workers(num_threads: int | None) -> int:
    """Workers for a call: ``num_threads``, or numba's current thread count."""
    return numba.get_num_threads() if num_threads is None else num_threads
