"""pytest-benchmark: one planning decision of the issue's Pendulum planner (H = 30, N = 1000,
top 100, 5 iterations), native model; ``python -m pytest benchmarks --benchmark-only``."""

from __future__ import annotations

import numpy as np

import fastcem


def test_plan_decision_pendulum(benchmark):
    benchmark.group = "plan"
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=1000, top_k=100, num_iters=5,
                                 action_bounds=(-2.0, 2.0), seed=0)
    state = np.array([np.pi, 0.0])
    planner.plan(state)  # compile or load outside the timing
    benchmark(planner.plan, state)
    benchmark.extra_info["decisions_per_s"] = 1.0 / benchmark.stats.stats.median
