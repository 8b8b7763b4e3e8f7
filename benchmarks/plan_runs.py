"""Planning speed and quality: the issue's Pendulum setting and CartPole, with the README table.

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
from common import machine, publish  # noqa: E402

SECTION = "plan-runs"
PENDULUM = {"plan_horizon": 30, "num_candidates": 1000, "top_k": 100, "num_iters": 5, "action_bounds": (-2.0, 2.0)}
CARTPOLE = {"plan_horizon": 30, "num_candidates": 1000, "top_k": 100, "num_iters": 5}
TARGET_DECISIONS, TARGET_RETURN = 1000, -160.0


def numpy_plan(state: np.ndarray, rng: np.random.Generator, horizon: int = 30, num: int = 1000, top_k: int = 100,
               iters: int = 5) -> float:
    """One decision of a plain-NumPy CEM planner on Pendulum's equations (vectorised over
    candidates; ``x * x`` squares, so not bit-exact): what the seed's planner costs in numpy."""
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


def table(episodes: int) -> str:
    pendulum = fastcem.CEMPlanner("Pendulum-v1", seed=0, **PENDULUM)
    pendulum.plan(np.array([np.pi, 0.0]))  # compile or load outside the timing
    pend = fastcem.mpc_run("Pendulum-v1", pendulum, episodes, list(range(episodes)))
    cartpole = fastcem.CEMPlanner("CartPole-v1", seed=0, **CARTPOLE)
    cart = fastcem.mpc_run("CartPole-v1", cartpole, 5, list(range(5)))
    rate = pend.decisions / pend.plan_seconds
    baseline = numpy_decisions_per_second()
    balanced = int((cart.returns == 500.0).sum())
    rows = [
        "| planner (H = 30, N = 1000, top 100, 5 iterations) | decisions/s | closed-loop return in gymnasium | target |",
        "|---|---:|---:|---|",
        f"| fastcem, Pendulum-v1, native model | {rate:,.0f} | {pend.returns.mean():.1f} (mean of {episodes} reset "
        f"seeds; worst {pend.returns.min():.1f}) | ≥ {TARGET_DECISIONS} decisions/s: "
        f"{'met' if rate >= TARGET_DECISIONS else 'not met'}; return ≥ {TARGET_RETURN:g}: "
        f"{'met' if pend.returns.mean() >= TARGET_RETURN else 'not met'} |",
        f"| plain NumPy planner, Pendulum | {baseline:,.0f} | — | — |",
        f"| fastcem, CartPole-v1, native model | {cart.decisions / cart.plan_seconds:,.0f} | {balanced} of 5 episodes "
        f"balance for all 500 steps | all 500 steps: {'met' if balanced == 5 else 'not met'} |",
        "",
        f"fastcem / NumPy: {rate / baseline:.1f}×.  The plant is gymnasium's env, stepped at 20 Hz in real time "
        f"for Pendulum, so {rate:,.0f} decisions/s is {rate / 20:.0f}× real time.",
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/plan_runs.py --episodes {episodes}`.",
    ]
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=20, help="Pendulum episodes (default 20)")
    parser.add_argument("--write-readme", action="store_true", help="replace the table in README.md")
    args = parser.parse_args()
    publish(SECTION, lambda: table(args.episodes), args.write_readme)


if __name__ == "__main__":
    main()
