"""Planning speed and quality: the issue's Pendulum setting and CartPole, with their table.

    python benchmarks/plan_runs.py [--episodes 20] [--write-readme]

* Decisions per second of ``CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=1000,
  top_k=100, num_iters=5, action_bounds=(-2, 2))`` over whole closed-loop episodes, next to a
  plain-NumPy CEM planner of the same size (the Pendulum model vectorised over candidates).
* The mean return of receding-horizon control in gymnasium over ``--episodes`` reset seeds
  (Pendulum), and whether CartPole-v1 balances for all 500 steps.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import fastcem

sys.path.insert(0, str(Path(__file__).parent))
from common import WRITE_HELP, machine, publish

SECTION = "plan-runs"
PENDULUM = {"plan_horizon": 30, "num_candidates": 1000, "top_k": 100, "num_iters": 5, "action_bounds": (-2.0, 2.0)}
CARTPOLE = {"plan_horizon": 30, "num_candidates": 1000, "top_k": 100, "num_iters": 5}
TARGET_DECISIONS, TARGET_RETURN = 1000, -160.0


def numpy_plan(state: np.ndarray, rng: np.random.Generator, horizon: int = 30, num: int = 1000, top_k: int = 100,
               iters: int = 5) -> float:
    """One decision of a plain-NumPy CEM planner on Pendulum's equations (vectorised over
    candidates; ``x * x`` squares, so not bit-exact): what the reference planner costs in numpy."""
    mean, std = np.zeros(horizon), np.full(horizon, 1.0)
    for _ in range(iters):
        actions = np.clip(mean + std * rng.standard_normal((num, horizon)), -2.0, 2.0)
        th, thdot = np.full(num, state[0]), np.full(num, state[1])
        total = np.zeros(num)
        for t in range(horizon):
            u = actions[:, t]
            norm = ((th + np.pi) % (2 * np.pi)) - np.pi
            total -= norm * norm + 0.1 * thdot * thdot + 0.001 * u * u
            thdot = np.clip(thdot + (15.0 * np.sin(th) + 3.0 * u) * 0.05, -8.0, 8.0)
            th = th + thdot * 0.05
        elites = actions[np.argsort(-total)[:top_k]]
        mean, std = elites.mean(axis=0), elites.std(axis=0, ddof=1) + 1e-5
    return float(mean[0])


def numpy_decisions_per_second(repeats: int = 30) -> float:
    rng = np.random.default_rng(0)
    state = np.array([np.pi, 0.0])
    numpy_plan(state, rng)
    start = time.perf_counter()
    for _ in range(repeats):
        numpy_plan(state, rng)
    return repeats / (time.perf_counter() - start)


def _verdict(rate: float, returns: np.ndarray) -> str:
    return (f"≥ {TARGET_DECISIONS} decisions/s: {'met' if rate >= TARGET_DECISIONS else 'not met'}; return ≥ "
            f"{TARGET_RETURN:g}: {'met' if returns.mean() >= TARGET_RETURN else 'not met'}")


def table(episodes: int) -> str:
    runs = {}
    for fast in (False, True):
        pendulum = fastcem.CEMPlanner("Pendulum-v1", seed=0, fast=fast, **PENDULUM)
        pendulum.plan(np.array([np.pi, 0.0]))  # compile or load outside the timing
        runs[fast] = fastcem.mpc_run("Pendulum-v1", pendulum, episodes, list(range(episodes)))
    cartpole = fastcem.CEMPlanner("CartPole-v1", seed=0, **CARTPOLE)
    cartpole.plan(np.zeros(4))  # compile or load outside the timing
    cart = fastcem.mpc_run("CartPole-v1", cartpole, 5, list(range(5)))
    baseline = numpy_decisions_per_second()
    balanced = int((cart.returns == 500.0).sum())
    rows = [
        "| planner (H = 30, N = 1000, top 100, 5 iterations) | decisions/s | closed-loop return in gymnasium "
        "| target |",
        "|---|---:|---:|---|",
    ]
    for fast, label in ((False, "exact native model"), (True, "native model, `fast=True`")):
        run = runs[fast]
        rate = run.decisions / run.plan_seconds
        rows.append(f"| fastcem, Pendulum-v1, {label} | {rate:,.0f} | {run.returns.mean():.1f} (mean of {episodes} "
                    f"reset seeds; worst {run.returns.min():.1f}) | {_verdict(rate, run.returns)} |")
    rate = runs[False].decisions / runs[False].plan_seconds
    fast_rate = runs[True].decisions / runs[True].plan_seconds
    rows += [
        f"| plain NumPy planner, Pendulum | {baseline:,.0f} | — | — |",
        f"| fastcem, CartPole-v1, native model | {cart.decisions / cart.plan_seconds:,.0f} | {balanced} of 5 episodes "
        f"balance for all 500 steps | all 500 steps: {'met' if balanced == 5 else 'not met'} |",
        "",
        f"fastcem / NumPy: {rate / baseline:.1f}× exact, {fast_rate / baseline:.1f}× fast.  The plant is gymnasium's "
        f"env, stepped at 20 Hz in real time for Pendulum, so {rate:,.0f} decisions/s is {rate / 20:.0f}× real time.",
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/plan_runs.py --episodes {episodes}`.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20, help="Pendulum episodes (default 20)")
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    args = parser.parse_args()
    publish(SECTION, lambda: table(args.episodes), args.write_readme)


if __name__ == "__main__":
    main()
