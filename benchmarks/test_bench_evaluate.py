"""pytest-benchmark suite for population evaluation (not part of the normal test run).

    python -m pytest benchmarks --benchmark-only

Each benchmark records env-steps/s in ``extra_info``.
"""

from __future__ import annotations

import numba
import pytest
from common import (
    balancing_cartpole,
    cold_and_warm_first_result,
    env_steps,
    pendulum_population,
)

import fastcem

THREADS = sorted({1, numba.config.NUMBA_NUM_THREADS})
POPULATIONS = {"CartPole-v1": balancing_cartpole, "Pendulum-v1": pendulum_population}


@pytest.mark.parametrize("num_threads", THREADS)
@pytest.mark.parametrize("env_id", list(POPULATIONS))
def test_evaluate_throughput(benchmark, env_id, num_threads):
    benchmark.group = f"evaluate {env_id} P=4096"
    thetas = POPULATIONS[env_id]()
    returns = fastcem.evaluate(thetas, env_id, seed=0, num_threads=num_threads)
    benchmark.pedantic(fastcem.evaluate, args=(thetas, env_id), kwargs={"seed": 0, "num_threads": num_threads},
                       rounds=7, iterations=1)
    steps = env_steps(env_id, thetas, returns)
    benchmark.extra_info["env_steps_per_s"] = steps / benchmark.stats.stats.median


def test_first_result_latency(benchmark):
    benchmark.group = "compile"
    cold, warm = benchmark.pedantic(cold_and_warm_first_result, rounds=1, iterations=1)
    benchmark.extra_info["cold_cache_s"] = cold
    benchmark.extra_info["warm_cache_s"] = warm
