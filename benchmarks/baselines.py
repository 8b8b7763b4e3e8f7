"""What fastcem is compared with, shared by ``compare.py`` and ``test_bench_compare.py``: the
populations of the comparison, the reference's way of scoring a population (the seed's
``Pool`` over ``evaluate_theta``) and gymnasium's vector envs stepped with a batched policy.

Every helper returns the env steps it played, so that a caller timing it gets env-steps/s.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from functools import partial
from multiprocessing import Pool
from typing import Any

import gymnasium
import numpy as np
from common import balancing_cartpole, env_steps
from numpy.typing import NDArray
from reference_cem import evaluate_theta

import fastcem

#: Processes of the reference's ``Pool`` (the machine has 2 cores; fastcem runs 2 threads).
NUM_PROCESS = 2


def seed_epoch0_population(env_id: str, n: int, seed: int = 0) -> NDArray[np.float64]:
    """The seed's first epoch: mean ``U(0, 1)``, variance ``1 + extra_std**2 = 5`` per coordinate
    (``uniform(size=d) + sqrt(5) * normal((n, d))``); on CartPole mostly short, uneven episodes."""
    rng = np.random.default_rng(seed)
    dim = fastcem.policy_dim(env_id)
    return rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))


#: The comparison's tasks: name -> (env id, population maker, description).
TASKS: dict[str, tuple[str, Callable[[int], NDArray[np.float64]], str]] = {
    "cartpole-balancing": ("CartPole-v1", lambda n: balancing_cartpole(n),
                           "CartPole-v1, balancing policies (500-step episodes)"),
    "cartpole-epoch0": ("CartPole-v1", lambda n: seed_epoch0_population("CartPole-v1", n),
                        "CartPole-v1, the seed's epoch-0 population (short, uneven episodes)"),
    "pendulum-epoch0": ("Pendulum-v1", lambda n: seed_epoch0_population("Pendulum-v1", n),
                        "Pendulum-v1, the seed's epoch-0 population (200-step episodes)"),
}


def reference_evaluate(thetas: NDArray[np.float64], env_id: str, num_process: int = NUM_PROCESS) -> int:
    """Score ``thetas`` as one epoch of the reference does (a new ``Pool(num_process)`` mapping
    ``evaluate_theta``, a fresh ``gymnasium.make`` per episode); the env steps played."""
    with Pool(num_process) as p:
        returns = np.array(p.map(partial(evaluate_theta, env_id=env_id), thetas))
    return env_steps(env_id, thetas, returns)


def vector_env_kind(env_id: str) -> str:
    """The gymnasium vector env used for ``env_id``: the numpy-batched one where gymnasium has
    it (CartPole), else ``SyncVectorEnv`` (Python envs stepped in a loop)."""
    return "vector_entry_point" if gymnasium.spec(env_id).vector_entry_point else "sync"


def make_vector_env(env_id: str, num_envs: int) -> gymnasium.vector.VectorEnv[Any, Any, Any]:
    """``gymnasium.make_vec`` with :func:`vector_env_kind` (made once, reused across calls)."""
    return gymnasium.make_vec(env_id, num_envs=num_envs, vectorization_mode=vector_env_kind(env_id))


def vector_evaluate(env: gymnasium.vector.VectorEnv[Any, Any, Any], thetas: NDArray[np.float64],
                    seed: int = 0, max_batch_steps: int | None = None) -> int:
    """Play one episode per candidate in ``env`` (one sub-env per row of ``thetas``), the linear
    policy computed for the whole batch in numpy; the env steps counted.

    The batch is stepped until every sub-env's first episode has ended, or for
    ``max_batch_steps`` batch steps.  Only steps of sub-envs whose first episode is still
    running are counted: a finished sub-env is reset and stepped with the others (gymnasium's
    autoreset), and that work is not counted.
    """
    n = env.num_envs
    if len(thetas) != n:
        raise ValueError(f"{len(thetas)} candidates for {n} sub-envs")
    obs_dim = env.single_observation_space.shape[0]
    space = env.single_action_space
    discrete = isinstance(space, gymnasium.spaces.Discrete)
    act_dim = int(space.n) if discrete else space.shape[0]
    W = thetas[:, : obs_dim * act_dim].reshape(n, obs_dim, act_dim)
    b = thetas[:, obs_dim * act_dim:]
    obs, _ = env.reset(seed=seed)
    running = np.ones(n, dtype=bool)
    steps = 0
    batch_steps = 0
    while running.any() and (max_batch_steps is None or batch_steps < max_batch_steps):
        y = np.einsum("pi,pij->pj", obs, W) + b
        action = y.argmax(axis=1) if discrete else np.clip(y, space.low, space.high)
        obs, _, terminated, truncated, _ = env.step(action)
        steps += int(running.sum())
        running &= ~(terminated | truncated)
        batch_steps += 1
    return steps


def gymnax_available() -> bool:
    """Whether gymnax (JAX envs) is importable; the comparison leaves it out when it is not."""
    return importlib.util.find_spec("gymnax") is not None
