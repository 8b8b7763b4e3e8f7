"""What fastcem is compared with, shared by ``compare.py`` and ``test_bench_compare.py``: the
populations of the comparison, the reference's way of scoring a population (the reference's
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
    """The reference's first epoch: mean ``U(0, 1)``, variance ``1 + extra_std**2 = 5`` per coordinate
    (``uniform(size=d) + sqrt(5) * normal((n, d))``); on CartPole mostly short, uneven episodes."""
    rng = np.random.default_rng(seed)
    dim = fastcem.policy_dim(env_id)
    return rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))


#: The comparison's tasks: name -> (env id, population maker, description).
TASKS: dict[str, tuple[str, Callable[[int], NDArray[np.float64]], str]] = {
    "cartpole-balancing": ("CartPole-v1", lambda n: balancing_cartpole(n),
                           "CartPole-v1, balancing policies (500-step episodes)"),
    "cartpole-epoch0": ("CartPole-v1", lambda n: seed_epoch0_population("CartPole-v1", n),
                        "CartPole-v1, the reference's epoch-0 population (short, uneven episodes)"),
    "pendulum-epoch0": ("Pendulum-v1", lambda n: seed_epoch0_population("Pendulum-v1", n),
                        "Pendulum-v1, the reference's epoch-0 population (200-step episodes)"),
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
    w = thetas[:, : obs_dim * act_dim].reshape(n, obs_dim, act_dim)
    b = thetas[:, obs_dim * act_dim:]
    obs, _ = env.reset(seed=seed)
    running = np.ones(n, dtype=bool)
    steps = 0
    batch_steps = 0
    while running.any() and (max_batch_steps is None or batch_steps < max_batch_steps):
        y = np.einsum("pi,pij->pj", obs, w) + b
        action = y.argmax(axis=1) if discrete else np.clip(y, space.low, space.high)
        obs, _, terminated, truncated, _ = env.step(action)
        steps += int(running.sum())
        running &= ~(terminated | truncated)
        batch_steps += 1
    return steps


def gymnax_available() -> bool:
    """Whether gymnax (JAX envs) is importable; the comparison leaves it out when it is not."""
    return importlib.util.find_spec("gymnax") is not None


def gymnax_evaluator(env_id: str, thetas: NDArray[np.float64], seed: int = 0) -> Callable[[], int]:
    """A call that plays one episode per candidate of ``thetas`` in gymnax's JAX version of
    ``env_id`` and returns the env steps played, the first call compiling it.

    The whole population is one ``jax.jit``-compiled ``lax.scan`` over the episode's steps of
    ``vmap``-ed ``env.step``, with the linear policy batched in JAX; only the steps of each
    candidate's first episode are counted (gymnax resets finished envs and steps them along),
    and their returns are computed too.
    JAX computes in float32 unless x64 is enabled, so this is not gymnasium's arithmetic."""
    import gymnax
    import jax
    import jax.numpy as jnp

    env, params = gymnax.make(env_id)
    space = gymnasium.make(env_id).action_space
    discrete = isinstance(space, gymnasium.spaces.Discrete)
    act_dim = int(space.n) if discrete else 1
    low, high = (0.0, 0.0) if discrete else (float(space.low[0]), float(space.high[0]))
    obs_dim = fastcem.policy_dim(env_id) // act_dim - 1
    n = thetas.shape[0]
    weights = jnp.asarray(thetas[:, : obs_dim * act_dim].reshape(n, obs_dim, act_dim), dtype=jnp.float32)
    bias = jnp.asarray(thetas[:, obs_dim * act_dim:], dtype=jnp.float32)
    num_steps = int(params.max_steps_in_episode)
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))

    @jax.jit
    def play(key: Any) -> Any:
        key, sub = jax.random.split(key)
        obs, state = reset(jax.random.split(sub, n), params)

        def body(carry: Any, _: Any) -> tuple[Any, None]:
            obs, state, alive, steps, total, key = carry
            y = jnp.einsum("pi,pij->pj", obs, weights) + bias
            action = jnp.argmax(y, axis=-1) if discrete else jnp.clip(y[:, 0], low, high)
            key, sub = jax.random.split(key)
            out = step(jax.random.split(sub, n), state, action, params)
            obs, state = out[0], out[1]
            # gymnax 1.x returns (obs, state, reward, terminated, truncated, info); 0.x one done.
            done = out[3] | out[4] if len(out) == 6 else out[3]
            steps = steps + alive
            total = total + jnp.where(alive, out[2], 0.0)
            return (obs, state, alive & ~done, steps, total, key), None

        init = (obs, state, jnp.ones(n, dtype=bool), jnp.zeros(n, dtype=jnp.int32), jnp.zeros(n), key)
        (_, _, _, steps, total, _), _ = jax.lax.scan(body, init, None, length=num_steps)
        # The returns are outputs too: Pendulum's episode lengths do not depend on its
        # physics, and XLA would drop the physics if only the step count were asked for.
        return steps.sum(), total

    key = jax.random.PRNGKey(seed)

    def run() -> int:
        steps, total = play(key)
        total.block_until_ready()
        return int(steps)

    return run
