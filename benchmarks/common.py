"""Populations and measurements shared by the benchmark suite and the README script."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

import numpy as np

import fastcem

P = 4096


def balancing_cartpole(n: int = P, seed: int = 0) -> np.ndarray:
    """CartPole policies that keep the pole up for the whole TimeLimit from almost every start."""
    rng = np.random.default_rng(seed)
    theta = np.zeros((n, 10))
    theta[:, 1::2][:, :4] = [0.1, 0.5, 5.0, 1.0]
    return theta + 0.05 * rng.standard_normal((n, 10))


def pendulum_population(n: int = P, seed: int = 0) -> np.ndarray:
    """Any Pendulum policy plays the full 200 steps."""
    return np.random.default_rng(seed).standard_normal((n, 4))


def env_steps(env_id: str, thetas: np.ndarray, returns: np.ndarray) -> int:
    """Steps played: CartPole earns 1 per step; Pendulum episodes always run 200 steps."""
    if env_id.startswith("CartPole"):
        return int(returns.sum())
    return len(thetas) * fastcem.max_episode_steps(env_id)


def steps_per_second(env_id: str, thetas: np.ndarray, num_threads: int, repeats: int = 7) -> float:
    """Median env-steps/s of ``evaluate`` over ``repeats`` calls (after one warm-up call)."""
    returns = fastcem.evaluate(thetas, env_id, seed=0, num_threads=num_threads)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fastcem.evaluate(thetas, env_id, seed=0, num_threads=num_threads)
        times.append(time.perf_counter() - start)
    return env_steps(env_id, thetas, returns) / float(np.median(times))


_FIRST_CALL = (
    "import time; t0 = time.perf_counter(); import numpy as np, fastcem;"
    "fastcem.evaluate(np.zeros((64, 10)), 'CartPole-v1', seed=0);"
    "print(time.perf_counter() - t0)"
)


def first_result_seconds(cache_dir: str) -> float:
    """Seconds from a fresh interpreter's ``import fastcem`` to its first ``evaluate`` result."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def cold_and_warm_first_result() -> tuple[float, float]:
    """(cold compile cache, warm compile cache) import-to-first-result seconds."""
    with tempfile.TemporaryDirectory() as cache:
        return first_result_seconds(cache), first_result_seconds(cache)
