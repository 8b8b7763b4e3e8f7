"""Speed of two checkouts side by side, for a change to a hot loop:

    git worktree add ../before <commit>
    python benchmarks/side_by_side.py ../before . [--processes 4] [--rounds 4] [--threads 1] [--only CartPole]

Each checkout runs in a process of its own (its own ``PYTHONPATH`` and numba cache).  The
driver asks the two in turn for one short measurement (``evaluate`` on both envs in both
modes, ``train``, the exact planner; public API only): before, after, after, before, ...
so that each pair of measurements is taken seconds apart; then both processes are replaced
by fresh ones, ``--processes`` times.  The table gives each side's median and the median of
the per-pair ratios.  On a machine whose speed drifts by 1.5x from one minute to the next, a
ratio of two measurements taken seconds apart is what says something; medians of runs
minutes apart do not.  A process can also run at one speed throughout, 1.5x off another
process of the same code started seconds later (seen here in both modes, with and without
address randomization), so a comparison takes several processes per side.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import IO

SERVER = r'''
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[2])  # this checkout's helpers (public API only) on both sides
import fastcem
from common import balancing_cartpole, env_steps, pendulum_population

THREADS = int(sys.argv[3])
THETAS = {"CartPole-v1": balancing_cartpole(), "Pendulum-v1": pendulum_population()}


def evaluate(env, fast):
    thetas = THETAS[env]
    returns = fastcem.evaluate(thetas, env, seed=0, num_threads=THREADS, fast=fast)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        fastcem.evaluate(thetas, env, seed=0, num_threads=THREADS, fast=fast)
        times.append(time.perf_counter() - t)
    return env_steps(env, thetas, returns) / min(times) / 1e6


def train(env):
    t = time.perf_counter()
    fastcem.train(env, epochs=8, batch_size=4096, seed=0, num_threads=THREADS)
    return 1e3 * (time.perf_counter() - t)


PLANNER = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=1000, top_k=100, num_iters=5,
                            action_bounds=(-2.0, 2.0), seed=0, warm_start=False, num_threads=THREADS)


def plan():
    state = np.array([np.pi, 0.0])
    t = time.perf_counter()
    for _ in range(20):
        PLANNER.plan(state)
    return 20 / (time.perf_counter() - t)


MEASUREMENTS = {}
for env in ("CartPole-v1", "Pendulum-v1"):
    for fast in (False, True):
        MEASUREMENTS[f"evaluate {env} {'fast' if fast else 'exact'}, M steps/s"] = (
            lambda env=env, fast=fast: evaluate(env, fast))
for env in ("CartPole-v1", "Pendulum-v1"):
    MEASUREMENTS[f"train {env} 8 x 4096, ms"] = lambda env=env: train(env)
MEASUREMENTS["planner Pendulum exact, decisions/s"] = plan

MEASUREMENTS = {name: m for name, m in MEASUREMENTS.items() if sys.argv[4] in name}
for measure in MEASUREMENTS.values():  # compile, and warm up
    measure()
print(json.dumps(list(MEASUREMENTS)), flush=True)
for line in sys.stdin:
    print(json.dumps(MEASUREMENTS[line.strip()]()), flush=True)
'''


class _Checkout:
    """A process measuring one checkout on request."""

    def __init__(self, path: Path, cache: str, threads: int, only: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(path), "NUMBA_CACHE_DIR": cache}
        argv = [sys.executable, "-c", SERVER, str(path), str(Path(__file__).parent), str(threads), only]
        self.process = subprocess.Popen(argv, env=env, cwd=path, text=True, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE)

    def _line(self) -> object:
        stdout: IO[str] = self.process.stdout  # type: ignore[assignment]
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the measuring process exited with {self.process.wait()}")
        return json.loads(line)

    def names(self) -> list[str]:
        names = self._line()
        assert isinstance(names, list)
        return names

    def measure(self, name: str) -> float:
        stdin: IO[str] = self.process.stdin  # type: ignore[assignment]
        stdin.write(name + "\n")
        stdin.flush()
        value = self._line()
        assert isinstance(value, float)
        return value

    def close(self) -> None:
        if self.process.stdin:
            self.process.stdin.close()
        self.process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the checkout to compare against (a git worktree)")
    parser.add_argument("after", type=Path, help="the checkout with the change")
    parser.add_argument("--processes", type=int, default=4,
                        help="fresh processes per side, one after another (default %(default)s)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="pairs of each measurement per process (default %(default)s)")
    parser.add_argument("--threads", type=int, default=2,
                        help="threads of evaluate, train and the planner (default %(default)s)")
    parser.add_argument("--only", default="", help="the measurements whose name contains this text")
    args = parser.parse_args()
    values: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as before_cache, tempfile.TemporaryDirectory() as after_cache:
        for p in range(args.processes):
            # One at a time: compiling both at once would compete for the 2 cores the measurements use.
            before = _Checkout(args.before.resolve(), before_cache, args.threads, args.only)
            names = before.names()
            after = _Checkout(args.after.resolve(), after_cache, args.threads, args.only)
            try:
                if after.names() != names:
                    raise SystemExit("the two checkouts' measuring processes differ")
                for n in names:
                    values.setdefault(n, {"before": [], "after": []})
                for r in range(args.rounds):
                    # Alternate which side goes first, so that neither is always measured warmer.
                    first = (r + p) % 2 == 0
                    order = ((before, "before"), (after, "after")) if first else ((after, "after"), (before, "before"))
                    for name in names:
                        for side, label in order:
                            values[name][label].append(side.measure(name))
            finally:
                before.close()
                after.close()
            print(f"processes {p + 1}/{args.processes} done", file=sys.stderr, flush=True)
    print(f"| {args.threads} threads, P = 4096 | before | after | after / before (median of pairs) | pairs' range |")
    print("|---|---:|---:|---:|---|")
    for name, sides in values.items():
        ratios = sorted(a / b for a, b in zip(sides["after"], sides["before"], strict=True))
        low, high = ratios[len(ratios) // 4], ratios[(3 * len(ratios)) // 4]
        print(f"| {name} | {statistics.median(sides['before']):.1f} | {statistics.median(sides['after']):.1f} | "
              f"{statistics.median(ratios):.2f} | {low:.2f}-{high:.2f} (quartiles) |")
    print(f"\n{args.processes} processes per side, {args.rounds} pairs of each measurement in each, the two sides "
          "measured seconds apart, in alternating order; for times (ms) lower is better.")


if __name__ == "__main__":
    main()
