"""The crew that runs the engine's workers (fastcem._parallel.run_workers): every worker of a
call runs at once (some meet at barriers), the call returns only when all are done, errors
reach the caller, a failed call aborts the others, and calls made while the crew is busy
still run their workers side by side."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

from fastcem import _parallel

# A worker that waits at a barrier longer than this has no partner running: a failure, not a hang.
TIMEOUT = 30.0


def finishes(call: Callable[[], object]) -> BaseException | None:
    """Run ``call`` on a thread of its own; fail the test if it has not returned within
    :data:`TIMEOUT` (instead of hanging the suite).  Returns what it raised, if anything."""
    raised: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as exc:
            raised.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT)
    assert not thread.is_alive(), "run_workers did not return"
    return raised[0] if raised else None


def meeting(n: int, seen: list[int], after: float = 0.0) -> Callable[[int], None]:
    """Work for ``n`` workers that must all be running at once to get past the barrier; each
    then takes ``after`` seconds more before it says it is done."""
    barrier = threading.Barrier(n, timeout=TIMEOUT)

    def work(w: int) -> None:
        barrier.wait()
        time.sleep(after)
        seen.append(w)

    return work


@pytest.mark.parametrize("n", [1, 2, 3, 5])
def test_workers_run_at_once_and_the_call_waits_for_all(n: int) -> None:
    for after in (0.0, 0.0, 0.05):  # the crew's threads serve call after call; some take long
        seen: list[int] = []
        work = meeting(n, seen, after)
        assert finishes(lambda work=work: _parallel.run_workers(n, work)) is None
        assert sorted(seen) == list(range(n))


def test_errors_reach_the_caller_and_the_crew_goes_on() -> None:
    def work(w: int) -> None:
        if w == 1:
            raise ValueError("worker 1 failed")

    raised = finishes(lambda: _parallel.run_workers(2, work))
    assert isinstance(raised, ValueError) and "worker 1 failed" in str(raised)
    seen: list[int] = []
    assert finishes(lambda: _parallel.run_workers(2, meeting(2, seen))) is None
    assert sorted(seen) == [0, 1]


@pytest.mark.parametrize("busy", [False, True], ids=["crew", "own threads"])
def test_a_failing_caller_aborts_the_others_and_waits_for_them(busy: bool) -> None:
    stop = threading.Event()
    done: list[int] = []

    def work(w: int) -> None:
        if w == 0:
            raise RuntimeError("worker 0 failed")
        # A worker at a barrier: it would wait for worker 0 for ever, but for the abort.
        assert stop.wait(TIMEOUT)
        time.sleep(0.05)
        done.append(w)

    def call() -> None:
        _parallel.run_workers(3, work, abort=stop.set)

    if busy:  # the crew is taken: the call starts threads of its own
        raised = finishes(lambda: _parallel.run_workers(2, lambda w: call() if w == 0 else None))
    else:
        raised = finishes(call)
    assert isinstance(raised, RuntimeError)
    assert sorted(done) == [1, 2]  # returned only once the others were done


def test_a_call_while_the_crew_is_busy_runs_its_workers_side_by_side() -> None:
    inner: list[int] = []

    def outer(w: int) -> None:
        if w == 0:  # the crew is busy with this call: the nested one starts threads of its own
            _parallel.run_workers(2, meeting(2, inner))

    assert finishes(lambda: _parallel.run_workers(2, outer)) is None
    assert sorted(inner) == [0, 1]


def test_spin_until_sees_another_threads_store_while_it_spins() -> None:
    flags = np.zeros(32, dtype=np.int64)
    _parallel._spin_until(flags, 0, 16, 0, 0)  # compiled before the timing below
    assert flags[0] == 1  # it counted its arrival first
    setter = threading.Timer(0.05, lambda: flags.__setitem__(16, 7))
    start = time.perf_counter()
    setter.start()
    # One call, turns enough for far longer than the test: a load hoisted out of the loop
    # would spin them all.
    value = _parallel._spin_until(flags, -1, 16, 7, 1 << 40)
    setter.join()
    assert value == 7
    assert time.perf_counter() - start < 10.0


def test_exhaust_empties_a_job_counter() -> None:
    queue = np.zeros(3, dtype=np.int64)
    _parallel.exhaust(queue[1:])
    assert queue[0] == 0 and (queue[1:] == _parallel.EXHAUSTED).all()
