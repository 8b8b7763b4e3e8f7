"""The crew that runs the engine's workers (fastcem._parallel.run_workers): every worker of a
call runs at once (some meet at barriers), errors reach the caller, and calls made while
the crew is busy still run their workers side by side."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from fastcem import _parallel

# A worker that waits at a barrier longer than this has no partner running: a failure, not a hang.
TIMEOUT = 30.0


def meeting(n: int, seen: list[int]) -> object:
    """Work for ``n`` workers that must all be running at once to get past the barrier."""
    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def work(w: int) -> None:
        barrier.wait()
        seen.append(w)

    return work


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_workers_run_at_once(n: int) -> None:
    for _ in range(20):  # the crew's threads serve call after call
        seen: list[int] = []
        _parallel.run_workers(n, meeting(n, seen))
        assert sorted(seen) == list(range(n))


def test_errors_reach_the_caller_and_the_crew_goes_on() -> None:
    def work(w: int) -> None:
        if w == 1:
            raise ValueError("worker 1 failed")

    with pytest.raises(ValueError, match="worker 1 failed"):
        _parallel.run_workers(2, work)
    seen: list[int] = []
    _parallel.run_workers(2, meeting(2, seen))
    assert sorted(seen) == [0, 1]


def test_a_call_while_the_crew_is_busy_runs_its_workers_side_by_side() -> None:
    inner: list[int] = []

    def outer(w: int) -> None:
        if w == 0:  # the crew is busy with this call: the nested one starts threads of its own
            _parallel.run_workers(2, meeting(2, inner))

    _parallel.run_workers(2, outer)
    assert sorted(inner) == [0, 1]


def test_spin_until_reads_another_threads_store() -> None:
    flags = np.zeros(32, dtype=np.int64)
    _parallel._spin_until(flags, -1, 16, 0, 0)  # compiled before the timing below matters
    setter = threading.Timer(0.05, lambda: flags.__setitem__(16, 7))
    setter.start()
    value = 0
    while value < 7:  # each call spins a bounded number of turns
        value = _parallel._spin_until(flags, 0, 16, 7, 1 << 20)
    setter.join()
    assert value == 7
    assert flags[0] >= 1  # and counted its arrival first
