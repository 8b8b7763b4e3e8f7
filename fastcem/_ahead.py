"""Compiling on the second core: a forked process compiles some of a first run's kernels into
numba's cache while this one compiles the others.

numba compiles on one core, and a first ``fastcem cartpole`` spends most of its time doing so.
Its kernels are not one chain: the population kernel calls the one-lane finisher
(:func:`fastcem._rollout.play_lane`), which it links as finished code, and the elite
selection comes after the first epoch.  :class:`Ahead` forks a process that compiles such
kernels, each for the one signature the run will need, and writes them to numba's cache; this
process marks each as compiled elsewhere (:func:`envs_native._jit.compiled_elsewhere`), and
when it comes to one (a call, or a kernel being compiled that calls it) it waits for the
other process to finish that one, then loads it from the cache instead of compiling it too.

Whatever becomes of the other process, this one goes on as without it: a kernel it did not
cache (it failed, was killed, or ran out of time) is compiled here.  The kernels are the same
code either way (numba's cache holds what numba compiled), so the results are the same bits.

Forking is safe only in a process with one thread and a C library that allows it: the
second process is used on Linux, in a process with no other thread; elsewhere everything is
compiled here, one kernel after the other.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import select
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

from envs_native._jit import cacheable, cached, compiled_elsewhere, forget_elsewhere

#: The longest this process waits for the other, in seconds from the fork: more than its
#: kernels take to compile on a slow machine; then this one compiles what is left itself.
WAIT_SECONDS = 60.0


def can_fork() -> bool:
    """Whether :class:`Ahead` may fork here: Linux, and no thread but this one."""
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class Ahead:
    """Compile ``kernels`` (``(dispatcher, argument types)`` pairs, in the order this process
    will need them) in a forked process, those numba's cache does not hold yet (and can hold).

    Use as a context manager around the code that compiles the rest: on entry the other
    process starts (if there is anything to compile and :func:`can_fork`); on exit this one
    stops waiting for it, and kills it if it is still running.  This process waits
    :data:`WAIT_SECONDS` at most in all: then it kills the other and compiles the rest itself."""

    def __init__(self, kernels: Sequence[tuple[Any, tuple[Any, ...]]]) -> None:
        self.todo = [(kernel, tuple(sig)) for kernel, sig in kernels
                     if cacheable(kernel) and not cached(kernel, tuple(sig))]
        self._pid: int | None = None
        self._pipe: int | None = None
        self._done = 0
        self._deadline = 0.0

    @property
    def started(self) -> bool:
        """Whether the other process was started."""
        return self._pid is not None

    def __enter__(self) -> Ahead:
        if not self.todo or not can_fork():
            return self
        # No KeyboardInterrupt between the fork and the bookkeeping: the child must never run
        # this process's code, nor this one lose track of the child.
        mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            read, write = os.pipe()
            pid = os.fork()
            if pid == 0:  # pragma: no cover - the child's coverage is not collected
                try:
                    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent ends it
                    signal.pthread_sigmask(signal.SIG_SETMASK, mask)
                    os.close(read)
                    _compile(self.todo, write)
                finally:
                    # At once, with no Python clean-up: the buffered output and the exit
                    # handlers are the parent's.
                    os._exit(0)
            os.close(write)
            self._pid, self._pipe = pid, read
            self._deadline = time.monotonic() + WAIT_SECONDS
            for n, (kernel, sig) in enumerate(self.todo, start=1):
                compiled_elsewhere(kernel, sig, functools.partial(self.wait, n))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
        return self

    def wait(self, count: int) -> bool:
        """Wait until the other process has cached its first ``count`` kernels; False if it
        ended, or the time ran out (it is then killed), before that."""
        poller = select.poll()
        while self._done < count:
            if self._pipe is None:
                return False
            poller.register(self._pipe, select.POLLIN)
            left = self._deadline - time.monotonic()
            if left <= 0 or not poller.poll(left * 1000):
                self._stop()
                return False
            news = os.read(self._pipe, 64)
            if not news:  # it exited (done, or failed)
                self._close_pipe()
                return self._done >= count
            self._done += len(news)
        return True

    def _close_pipe(self) -> None:
        if self._pipe is not None:
            os.close(self._pipe)
            self._pipe = None

    def _stop(self) -> None:
        """Stop waiting for the other process, and end it if it still runs."""
        forget_elsewhere()
        self._close_pipe()
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError, ChildProcessError):
                if os.waitpid(self._pid, os.WNOHANG) == (0, 0):
                    os.kill(self._pid, signal.SIGKILL)
                    os.waitpid(self._pid, 0)
            self._pid = None

    def __exit__(self, *exc: object) -> None:
        self._stop()


def _compile(todo: Sequence[tuple[Any, tuple[Any, ...]]], pipe: int) -> None:  # pragma: no cover
    """The forked process's work: compile each kernel (numba writes it to its cache), telling
    the parent after each by a byte on ``pipe``."""
    gc.disable()  # it ends soon; collections would only copy the parent's memory
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    for kernel, sig in todo:
        kernel.compile(sig)
        os.write(pipe, b".")
