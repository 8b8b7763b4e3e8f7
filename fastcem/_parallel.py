"""Running compiled work on several threads: ``parallel=True`` kernels with a given number
of threads (:class:`threads`), and ``nogil`` workers on Python threads (:func:`run_workers`)."""

from __future__ import annotations

import os
import platform
import threading
import time
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from llvmlite import ir
from numba import typeof, types
from numba.core import cgutils
from numba.extending import intrinsic

from envs_native._jit import jit

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
# LLVM optimising the worker's code once more inside it).  The engine's workers are plain
# ``nogil`` kernels run on the threads of a crew instead (:func:`run_workers`).
#
# Waking a thread that sleeps costs tens of microseconds here (a futex, and on a virtual
# machine an idle virtual CPU to rouse), once to start a worker and once more to wake the caller
# when it ends: with a thread pool that was a tenth of a planning call on 2 threads (the
# planner then ran 1.1 times faster on 2 threads than on 1).  The crew's threads spin instead,
# in compiled code with the GIL released (:func:`_spin_until`), for :data:`SPIN_SECONDS` after
# each task before they sleep, and the caller spins for their end the same way.


@intrinsic
def fetch_add(typingctx, counter, amount):
    """Atomically add ``amount`` to ``counter[0]`` (an int64 array) and return its old value.
    Sequentially consistent: no memory access moves across it (workers meeting at a barrier
    see each other's writes)."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64 and amount == types.int64):
        return None
    sig = types.int64(counter, amount)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, signature.args[0], ary, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", ptr, args[1], "seq_cst")

    return sig, codegen


@intrinsic
def _load(typingctx, counter):
    """``counter[0]`` (an int64 array), read atomically (acquire): a loop of these sees another
    thread's store, where LLVM would hoist a plain load out of it."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64):
        return None

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, signature.args[0], ary, [context.get_constant(types.intp, 0)])
        return builder.load_atomic(ptr, "acquire", 8)

    return types.int64(counter), codegen


_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


@intrinsic
def _pause(typingctx):
    """x86's ``pause``, the spin-wait hint (less power, no memory-order flush on leaving the
    loop); nothing elsewhere."""

    def codegen(context, builder, signature, args):
        if _X86:
            hint = cgutils.get_or_insert_function(builder.module, ir.FunctionType(ir.VoidType(), []),
                                                  "llvm.x86.sse2.pause")
            builder.call(hint, [])
        return context.get_dummy_value()

    return types.none(), codegen


@jit
def _spin_until(flags: np.ndarray, arrive: int, index: int, target: int, spins: int) -> int:
    """Add one to ``flags[arrive]`` (if ``arrive >= 0``), then wait for ``flags[index] >=
    target``, ``spins`` turns at most; returns ``flags[index]``."""
    if arrive >= 0:
        fetch_add(flags[arrive:arrive + 1], np.int64(1))
    slot = flags[index:index + 1]
    for _ in range(spins):
        value = _load(slot)
        if value >= target:
            return value
        _pause()
    return _load(slot)


#: How long a crew thread spins for its next task, and the caller for the end of one, before
#: sleeping: longer than the Python between a planner's calls or a training run's epochs.
SPIN_SECONDS = 2e-3
#: ``flags`` slots are this many int64 apart (128 bytes): no two threads write one cache line.
#: Thread ``w``'s slot holds the tasks given to it (``flags[w * _SLOT]``) and, 64 bytes on, the
#: tasks it has finished (``flags[w * _SLOT + _FINISHED]``); both only grow, so an arrival can
#: never be counted for another call.
_SLOT = 16
_FINISHED = 8


class _Crew:
    """Threads 1, 2, ... of :func:`run_workers`, started as needed; one call at a time."""

    def __init__(self) -> None:
        self.busy = threading.Lock()
        self.wake = threading.Condition()
        self.calls: list[int] = [0]  # calls[w]: tasks given to thread w (under ``wake``)
        self.threads: list[threading.Thread] = []
        self.flags = np.zeros(_SLOT * (max(1, numba.config.NUMBA_NUM_THREADS) + 1), dtype=np.int64)
        self.task: Callable[[int], object] = lambda w: None
        self.errors: list[BaseException] = []
        # Compiled (or loaded) here, not by a thread mid-task; then its turns timed (the
        # quickest of a few: a sample the thread was preempted in would spin far too little).
        _spin_until(self.flags, -1, 0, 0, 0)
        turns = 1024
        samples = []
        for _ in range(5):
            start = time.perf_counter()
            _spin_until(self.flags, -1, 0, 1, turns)
            samples.append(time.perf_counter() - start)
        self.spins = max(int(SPIN_SECONDS / max(min(samples) / turns, 1e-9)), 1)

    def _serve(self, w: int) -> None:
        seen = 0
        finished = -1
        while True:
            # Counted as finished only here, with the GIL released: the caller, spinning for
            # it, then takes the GIL without waiting for this thread.
            called = _spin_until(self.flags, finished, w * _SLOT, seen + 1, self.spins)
            finished = w * _SLOT + _FINISHED
            if called <= seen:
                with self.wake:
                    while self.calls[w] <= seen:
                        self.wake.wait()
            seen += 1
            try:
                self.task(w)
            except BaseException as exc:  # raised by the caller
                self.errors.append(exc)

    def _add_thread(self) -> None:
        w = len(self.threads) + 1
        if self.flags.shape[0] < _SLOT * (w + 1):
            self.flags = np.concatenate([self.flags, np.zeros(_SLOT * (w + 1), dtype=np.int64)])
        thread = threading.Thread(target=self._serve, args=(w,), name=f"fastcem-{w}", daemon=True)
        self.calls.append(0)
        try:
            thread.start()
        except BaseException:
            self.calls.pop()
            raise
        self.threads.append(thread)

    def run(self, num_workers: int, work: Callable[[int], object], abort: Callable[[], object] | None) -> None:
        while len(self.threads) < num_workers - 1:
            self._add_thread()
        self.task = work
        self.errors = []
        given: list[int] = []  # the threads given this task, each waited for below
        failure: BaseException | None = None
        try:
            with self.wake:
                for w in range(1, num_workers):
                    self.calls[w] += 1
                    given.append(w)
                    self.flags[w * _SLOT] = self.calls[w]
                self.wake.notify_all()
            work(0)
        except BaseException as exc:
            failure = exc
        spins, pause = self.spins, 5e-5

        def running() -> bool:
            nonlocal spins, pause
            w = given[-1]
            if _spin_until(self.flags, -1, w * _SLOT + _FINISHED, self.calls[w], spins) >= self.calls[w]:
                given.pop()
                return bool(given)
            # A long task: check now and then instead of keeping a core busy.
            time.sleep(pause)
            spins, pause = max(self.spins // 40, 1), min(2 * pause, 1e-3)
            return True

        _finish(running if given else lambda: False, failure, abort)
        if self.errors:
            raise self.errors[0]


#: A job counter set to this is empty for good (:func:`exhaust`), with room for every worker to
#: add its share to it again.
EXHAUSTED = 1 << 62


def exhaust(counter: np.ndarray) -> None:
    """Make the job counters ``counter`` (int64, taken from with :func:`fetch_add`) hand out
    no more jobs: a ``run_workers`` abort."""
    counter[...] = EXHAUSTED


def crew_kernels(num_workers: int) -> list[tuple[Any, tuple[Any, ...]]]:
    """The kernel :func:`run_workers` compiles on its first call with ``num_workers`` workers,
    with its argument types (none for one worker): what the command line compiles ahead
    (:mod:`fastcem._ahead`)."""
    if num_workers <= 1:
        return []
    return [(_spin_until, (typeof(np.zeros(1, dtype=np.int64)), types.int64, types.int64, types.int64, types.int64))]


def start_crew(num_workers: int) -> None:
    """Make the crew :func:`run_workers` needs for ``num_workers`` workers now (compiling or
    loading its kernel), rather than in the first call."""
    if num_workers > 1:
        _crew()


_CREW: _Crew | None = None
_CREW_LOCK = threading.Lock()


def _crew() -> _Crew:
    global _CREW
    with _CREW_LOCK:
        if _CREW is None:
            _CREW = _Crew()
        return _CREW


def _forget_crew() -> None:
    """In a forked child: the crew's threads are not there."""
    global _CREW, _CREW_LOCK
    _CREW, _CREW_LOCK = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_crew)


def run_workers(num_workers: int, work: Callable[[int], object], abort: Callable[[], object] | None = None) -> None:
    """Run ``work(w)`` for ``w = 0 .. num_workers - 1`` at once, one on this thread and the
    others on the crew's threads (``work`` must release the GIL to run in parallel: a
    ``nogil`` kernel); returns when all are done, raising the first error.  If ``work(0)``
    fails or waiting is interrupted (Ctrl-C), ``abort()`` is called to make the other workers
    end soon (stop taking jobs, pass their barriers), and they are waited for.

    One call at a time uses the crew; a call made meanwhile (from inside a worker, or from
    another thread) starts threads of its own: the workers must run at once, as some meet at
    barriers."""
    if num_workers <= 1:
        work(0)
        return
    crew = _crew()
    if not crew.busy.acquire(blocking=False):
        _run_on_new_threads(num_workers, work, abort)
        return
    try:
        crew.run(num_workers, work, abort)
    finally:
        crew.busy.release()


def _finish(running: Callable[[], bool], failure: BaseException | None, abort: Callable[[], object] | None) -> None:
    """Wait for a call's other workers, ``running()`` (a short wait) at a time until it says
    none is left, whatever happened: their tasks hold the caller's arrays.  After ``failure``
    (the caller's own worker failed) or an interruption (Ctrl-C) while waiting, ``abort()``
    first makes them stop soon (workers that meet at a barrier would wait there for the caller
    for ever).  Then raises that failure or interruption, if any."""
    aborted = False
    while True:
        try:
            if failure is not None and not aborted:
                aborted = True
                if abort is not None:
                    abort()
            if not running():
                break
        except BaseException as exc:  # a KeyboardInterrupt: raised once they are done
            failure = failure or exc
    if failure is not None:
        raise failure


def _run_on_new_threads(num_workers: int, work: Callable[[int], object], abort: Callable[[], object] | None) -> None:
    errors: list[BaseException] = []

    def serve(w: int) -> None:
        try:
            work(w)
        except BaseException as exc:  # raised by the caller
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in range(1, num_workers)]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    try:
        work(0)
    except BaseException as exc:
        failure = exc

    def running() -> bool:
        for thread in threads:
            thread.join(0.05)
        return any(thread.is_alive() for thread in threads)

    _finish(running, failure, abort)
    if errors:
        raise errors[0]


def num_workers(num_threads: int | None) -> int:
    """Workers for a call: ``num_threads``, or numba's current thread count."""
    return numba.get_num_threads() if num_threads is None else num_threads
