"""pytest-benchmark suite for the reference's whole CEM runs with ``fastcem.train`` (not part of the
normal test run).

    python -m pytest benchmarks --benchmark-only

A warm-up run first, so compilation is excluded.  Each benchmark records episodes/s and
env-steps/s in ``extra_info``.
"""

from __future__ import annotations

import pytest
from common import P, train_env_steps

import fastcem

#: The reference's experiments: epochs per env, ``batch_size=P``.
EPOCHS = {"CartPole-v1": 8, "Pendulum-v1": 15}


@pytest.mark.parametrize("env_id", list(EPOCHS))
def test_train_whole_run(benchmark, env_id):
    benchmark.group = "train"
    kwargs = {"epochs": EPOCHS[env_id], "batch_size": P, "seed": 0}
    fastcem.train(env_id, **{**kwargs, "seed": 1})  # warm-up: compile outside the timing
    result = benchmark.pedantic(fastcem.train, args=(env_id,), kwargs=kwargs, rounds=5, iterations=1)
    median = benchmark.stats.stats.median
    benchmark.extra_info["episodes_per_s"] = result.episodes / median
    benchmark.extra_info["env_steps_per_s"] = train_env_steps(result) / median
