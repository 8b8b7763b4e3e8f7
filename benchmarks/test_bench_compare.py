"""pytest-benchmark: population evaluation by fastcem, the reference (its ``Pool`` over a
fresh gymnasium env per episode), gymnasium's vector envs and gymnax's JAX envs (when the
``gymnax`` extra is installed), grouped by task and size;
``python -m pytest benchmarks --benchmark-only``.

The reference and the vector envs time a bounded amount of work (the first
``REFERENCE_EPISODES`` candidates; ``SYNC_BATCH_STEPS`` batch steps of ``SyncVectorEnv``), so
compare ``extra_info["env_steps_per_s"]`` across a group, not the times.  P = 65536 only for
fastcem.  ``benchmarks/compare.py`` prints the same comparison as a table.
"""

from __future__ import annotations

import pytest
from baselines import (
    TASKS,
    gymnax_available,
    gymnax_evaluator,
    make_vector_env,
    reference_evaluate,
    vector_env_kind,
    vector_evaluate,
)
from common import env_steps

import fastcem

THREADS = 2
REFERENCE_EPISODES = 256
SYNC_BATCH_STEPS = 20
CASES = [
    pytest.param(task, size, library, id=f"{task}-P{size}-{library}")
    for task in TASKS
    for size in (256, 4096, 65536)
    for library in ("fastcem", "reference", "gym_vector", "gymnax")
    if size <= 4096 or library in ("fastcem", "gymnax")
]


@pytest.mark.parametrize(("task", "size", "library"), CASES)
def test_evaluate_compare(benchmark, task, size, library):
    env_id, make, _ = TASKS[task]
    benchmark.group = f"evaluate-{task}-P{size}"
    thetas = make(size)
    if library == "fastcem":
        returns = fastcem.evaluate(thetas, env_id, seed=0, num_threads=THREADS)  # compile outside the timing
        benchmark.pedantic(fastcem.evaluate, args=(thetas, env_id), kwargs={"seed": 0, "num_threads": THREADS},
                           rounds=7, iterations=1)
        steps = env_steps(env_id, thetas, returns)
    elif library == "gymnax":
        if not gymnax_available():
            pytest.skip("gymnax is not installed (pip install -e .[gymnax])")
        play = gymnax_evaluator(env_id, thetas)
        play()  # compile outside the timing
        steps = benchmark.pedantic(play, rounds=3, iterations=1)
    elif library == "reference":
        steps = benchmark.pedantic(reference_evaluate, args=(thetas[:REFERENCE_EPISODES], env_id),
                                   rounds=1, iterations=1)
    else:
        env = make_vector_env(env_id, size)
        cap = SYNC_BATCH_STEPS if vector_env_kind(env_id) == "sync" else None
        steps = benchmark.pedantic(vector_evaluate, args=(env, thetas), kwargs={"seed": 0, "max_batch_steps": cap},
                                   rounds=3 if cap is None else 1, iterations=1)
        env.close()
    benchmark.extra_info["env_steps"] = steps
    benchmark.extra_info["env_steps_per_s"] = steps / benchmark.stats.stats.median
