"""Speed of two checkouts side by side, for a change to a hot loop:

    git worktree add ../before <commit>
    python benchmarks/side_by_side.py ../before . [--rounds 5]

Each round runs the same measurements (``evaluate`` on both envs in both modes, ``train``,
the exact planner; public API only) in a fresh process for each checkout in turn, with its
own ``PYTHONPATH`` and numba cache, and the table gives the medians over the rounds and
their ratio.  Interleaving the two matters on a machine whose speed drifts from one minute
to the next: a single run of each says little.
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

MEASURE = r'''
import json, sys, time
import numpy as np
sys.path.insert(0, sys.argv[1] + "/benchmarks")
import fastcem
from common import balancing_cartpole, pendulum_population, steps_per_second
out = {}
for env, th in (("CartPole-v1", balancing_cartpole()), ("Pendulum-v1", pendulum_population())):
    for fast in (False, True):
        out[f"evaluate {env} {'fast' if fast else 'exact'}, M steps/s"] = (
            steps_per_second(env, th, 2, repeats=9, fast=fast) / 1e6)
for env in ("CartPole-v1", "Pendulum-v1"):
    fastcem.train(env, epochs=1, batch_size=64, seed=0)
    times = []
    for r in range(5):
        t = time.perf_counter()
        fastcem.train(env, epochs=8, batch_size=4096, seed=r)
        times.append(time.perf_counter() - t)
    out[f"train {env} 8 x 4096, ms"] = 1e3 * float(np.median(times))
planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=1000, top_k=100, num_iters=5,
                             action_bounds=(-2.0, 2.0), seed=0, warm_start=False)
state = np.array([np.pi, 0.0])
planner.plan(state)
rates = []
for _ in range(7):
    t = time.perf_counter()
    for _ in range(50):
        planner.plan(state)
    rates.append(50 / (time.perf_counter() - t))
out["planner Pendulum exact, decisions/s"] = float(np.median(rates))
print(json.dumps(out))
'''


def _measure(checkout: Path, cache: str) -> dict[str, float]:
    env = {**os.environ, "PYTHONPATH": str(checkout), "NUMBA_CACHE_DIR": cache}
    out = subprocess.run([sys.executable, "-c", MEASURE, str(checkout)], env=env, cwd=checkout, check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path, help="the checkout to compare against (a git worktree)")
    parser.add_argument("after", type=Path, help="the checkout with the change")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default %(default)s)")
    args = parser.parse_args()
    checkouts = {"before": args.before.resolve(), "after": args.after.resolve()}
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in checkouts}
    with tempfile.TemporaryDirectory() as before_cache, tempfile.TemporaryDirectory() as after_cache:
        caches = {"before": before_cache, "after": after_cache}
        for name, path in checkouts.items():  # compile outside the rounds
            _measure(path, caches[name])
        for r in range(args.rounds):
            for name, path in checkouts.items():
                rows[name].append(_measure(path, caches[name]))
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    print("| 2 threads, P = 4096 | before | after | after / before |\n|---|---:|---:|---:|")
    for key in rows["before"][0]:
        before = statistics.median(row[key] for row in rows["before"])
        after = statistics.median(row[key] for row in rows["after"])
        print(f"| {key} | {before:.1f} | {after:.1f} | {after / before:.2f} |")
    print(f"\nMedians of {args.rounds} interleaved rounds; for times (ms) lower is better.")


if __name__ == "__main__":
    main()
