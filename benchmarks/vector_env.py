"""The native ``VectorEnv`` against gymnasium's: env-steps/s of ``step`` with random actions.

    python benchmarks/vector_env.py [--write-readme]

fastcem's ``gymnasium.make_vec("fastcem/<id>")`` against gymnasium's numpy
``CartPoleVectorEnv`` (CartPole's ``vector_entry_point``) and ``SyncVectorEnv`` (the other
classic-control envs have no batched env in gymnasium), at 256 and 4096 sub-envs, autoresets
included.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import gymnasium as gym
import numpy as np

import fastcem  # noqa: F401  (registers the fastcem/ ids)

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, table_script

SECTION = "vector-env"
SIZES = (256, 4096)
REPEATS = 7


def steps_per_second(env: gym.vector.VectorEnv, steps: int, repeats: int, seed: int = 0) -> float:
    """Env-steps/s of ``steps`` batch steps with uniformly random actions (drawn beforehand),
    the best of ``repeats`` runs (the machine may be shared: the best run is the one least
    disturbed)."""
    env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    space = env.single_action_space
    if isinstance(space, gym.spaces.Discrete):
        actions = rng.integers(0, space.n, (steps, env.num_envs))
    else:
        actions = rng.uniform(space.low[0], space.high[0], (steps, env.num_envs, 1))
    env.step(actions[0])  # warm-up (compilation or loading)
    best = np.inf
    for _ in range(repeats):
        start = time.perf_counter()
        for a in actions:
            env.step(a)
        best = min(best, time.perf_counter() - start)
    return steps * env.num_envs / best


def table() -> str:
    rows = ["| env | sub-envs | fastcem `make_vec` | gymnasium vector env | fastcem ÷ gymnasium |",
            "|---|---:|---:|---:|---:|"]
    for env_id, mode, label in (("CartPole-v1", "vector_entry_point", "CartPoleVectorEnv"),
                                ("Pendulum-v1", "sync", "SyncVectorEnv"),
                                ("Acrobot-v1", "sync", "SyncVectorEnv"),
                                ("MountainCar-v0", "sync", "SyncVectorEnv"),
                                ("MountainCarContinuous-v0", "sync", "SyncVectorEnv")):
        for n in SIZES:
            mine = steps_per_second(gym.make_vec(f"fastcem/{env_id}", num_envs=n), 300, REPEATS)
            theirs = steps_per_second(gym.make_vec(env_id, num_envs=n, vectorization_mode=mode),
                                      *((300, REPEATS) if mode != "sync" else (max(10, 20_000 // n), 3)))
            ratio = mine / theirs
            rows.append(f"| {env_id} | {n:,} | {mine / 1e6:.1f}M steps/s | {theirs / 1e6:.2f}M steps/s ({label}) | "
                        + (f"{ratio:,.0f}× |" if ratio >= 10 else f"{ratio:.1f}× |"))
    return "\n".join(rows + ["", "Random actions, autoresets included; `step` returns copies of its arrays; "
                             f"the best of {REPEATS} runs of 300 steps (3 runs of SyncVectorEnv's fewer steps).  "
                             f"Measured on: {machine()}.  Reproduce with `python benchmarks/vector_env.py`."])


def main() -> None:
    table_script(__doc__, SECTION, table)


if __name__ == "__main__":
    main()
