"""``evaluate_gym``: linear (or any) policies on any gymnasium env, in parallel through any
object with a ``map`` -- ``multiprocessing.Pool``, ``concurrent.futures`` executors,
``dask.distributed``'s ``Client.get_executor()``, ``ray.util.multiprocessing.Pool``.

The work is cut into chunks of candidates; a task plays every episode of its chunk in one
env, and a worker process keeps its env across tasks.  Results come back through ``map``,
which returns them in order, so a result is never partial or misordered: a task that fails
(a worker killed, an exception) makes ``map`` raise or retry, as the engine does.

On the native envs the linear policy (or an :class:`fastcem.MLP`) takes the actions
:func:`fastcem.evaluate`'s compiled rollouts take, and the result is exactly ``evaluate``'s
for the same ``reset_seeds`` (a test checks it on every native env).
"""

from __future__ import annotations

import math
import numbers
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

import envs_native
from envs_native._seeding import check_seed

from ._checks import as_float_array, check_finite, check_int
from .mlp import MLP, as_policy
from .policies import LinearMap, NetworkMap

__all__ = ["evaluate_gym", "gym_policy_dim"]

# A worker's envs, kept across tasks: making a gymnasium env costs far more than resetting it.
# Per thread: the tasks of a thread pool share the process, and an env must not be shared.
_WORKER = threading.local()


def _spaces(env_id: str) -> tuple[int, int, bool, NDArray[np.float64] | None, NDArray[np.float64] | None]:
    """``(obs_dim, act_dim, discrete, low, high)`` of a gymnasium env, or a clear error."""
    import gymnasium
    from gymnasium import spaces

    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str, got {type(env_id).__name__}")
    try:
        env = gymnasium.make(env_id)
    except gymnasium.error.Error as exc:
        raise ValueError(f"gymnasium cannot make {env_id!r}: {exc}") from None
    try:
        obs, act = env.observation_space, env.action_space
    finally:
        env.close()
    supported = ("the linear policy needs a Box observation space and a Discrete or 1-D Box action space "
                 "(or pass policy=...)")
    if not isinstance(obs, spaces.Box):
        raise ValueError(f"{env_id} has observation space {obs}; {supported}")
    obs_dim = int(np.prod(obs.shape))
    if isinstance(act, spaces.Discrete):
        return obs_dim, int(act.n), True, None, None
    if isinstance(act, spaces.Box) and len(act.shape) == 1:
        return obs_dim, int(act.shape[0]), False, act.low.astype(np.float64), act.high.astype(np.float64)
    raise ValueError(f"{env_id} has action space {act}; {supported}")


def gym_policy_dim(env_id: str, policy: MLP | None = None) -> int:
    """``(obs_dim + 1) * act_dim`` of the linear policy for any gymnasium env (Discrete
    actions: one output per action, argmax; Box actions: one per dimension, clipped), or the
    parameters of an :class:`fastcem.MLP` ``policy`` with those inputs and outputs."""
    obs_dim, act_dim, _, _, _ = _spaces(env_id)
    mlp = as_policy(policy)
    return (obs_dim + 1) * act_dim if mlp is None else mlp.num_params(obs_dim, act_dim)


def _linear_action(linear: Any, obs: Any, discrete: bool, low: NDArray[np.float64] | None,
                   high: NDArray[np.float64] | None) -> Any:
    """The linear policy's (or a network's) action from its outputs, computed in the
    compiled rollouts' order (:class:`fastcem.policies.LinearMap`, :func:`fastcem.mlp.forward_numpy`)."""
    y = np.array(linear.outputs(obs))
    if discrete:
        # numpy's argmax rules: the first maximum, or the first NaN.
        return int(np.argmax(y))
    # float64, as fastcem's native envs take it: gymnasium does not cast actions.
    return np.clip(y, low, high)


def _play_chunk(
    task: tuple[str, NDArray[np.float64], NDArray[np.int64], MLP | Callable[..., Any] | None],
) -> NDArray[np.float64]:
    """One task: every episode of a chunk of candidates, in one env kept by this worker.
    Returns each candidate's mean return (episodes added in order, rewards in step order)."""
    import gymnasium

    env_id, thetas, seeds, given = task
    network = given if isinstance(given, MLP) else None
    policy = None if isinstance(given, MLP) else given
    envs: dict[str, Any] = _WORKER.__dict__.setdefault("envs", {})
    env = envs.get(env_id)
    if env is None:
        env = envs[env_id] = gymnasium.make(env_id)
    if policy is None:
        obs_dim, act_dim, discrete, low, high = _spaces(env_id)
    out = np.empty(len(thetas))
    for p, theta in enumerate(thetas):
        if policy is None:  # once per candidate, not per step
            outputs = (LinearMap(theta, obs_dim, act_dim) if network is None
                       else NetworkMap(theta, network, obs_dim, act_dim))
        total = 0.0
        for s in seeds[p]:
            obs, _ = env.reset(seed=int(s))
            ret = 0.0
            while True:
                if policy is None:
                    action = _linear_action(outputs, obs, discrete, low, high)
                else:
                    action = policy(theta, obs)
                obs, reward, terminated, truncated, _ = env.step(action)
                ret += float(reward)
                if terminated or truncated:
                    break
            total += ret
        out[p] = total / seeds.shape[1]
    return out


def evaluate_gym(
    thetas: ArrayLike,
    env_id: str,
    *,
    reset_seeds: ArrayLike | None = None,
    seed: int | np.random.Generator | None = None,
    episodes: int = 1,
    policy: MLP | Callable[[NDArray[np.float64], Any], Any] | None = None,
    pool: Any = None,
    chunksize: int | None = None,
) -> NDArray[np.float64]:
    """Mean episode return of each policy on any gymnasium env (higher is better).

    Parameters
    ----------
    thetas : array_like, shape (P, dim) or (dim,)
        Linear-policy parameters (``dim = gym_policy_dim(env_id)``; the reference's layout, see
        :func:`fastcem.policy_dim`), or whatever ``policy`` takes.
    env_id : str
        Any id ``gymnasium.make`` knows.
    reset_seeds : sequence of int, shape (episodes,), optional
        Every candidate plays the episodes of ``env.reset(seed=s)``.
    seed : int or Generator, optional
        Otherwise each candidate's episodes get reset seeds drawn from
        ``np.random.default_rng(seed)`` (fresh entropy if None).
    episodes : int
        Episodes per candidate.
    policy : fastcem.MLP or callable, optional
        An :class:`fastcem.MLP` (its parameters in ``thetas``, computed as the compiled
        rollouts compute it), or ``policy(theta, obs) -> action`` instead of the linear
        policy; with a pool a callable must be picklable (a module-level function).
    pool : object with ``map``, optional
        Runs the tasks: ``multiprocessing.Pool``, a ``concurrent.futures`` executor,
        ``dask.distributed.Client.get_executor()``, ``ray.util.multiprocessing.Pool``.  None
        plays them here, one after another.
    chunksize : int, optional
        Candidates per task (default: about four tasks per worker when the pool says how
        many it has, else 64).
    """
    if isinstance(policy, MLP):
        policy = as_policy(policy)  # MLP(hidden=()) is the linear policy
    network = policy if isinstance(policy, MLP) else None
    info = _spaces(env_id) if policy is None or network is not None else None
    if policy is not None and network is None and not callable(policy):
        raise TypeError(f"policy must be callable or a fastcem.MLP, got {type(policy).__name__}")
    arr = as_float_array(thetas, "thetas")
    if arr.ndim == 1:
        arr = arr[None, :]
    if info is not None:
        dim = (info[0] + 1) * info[1] if network is None else network.num_params(info[0], info[1])
        if arr.ndim != 2 or arr.shape[1] != dim:
            what = "linear policy" if network is None else str(network)
            raise ValueError(f"thetas must have shape (P, {dim}) or ({dim},) for {env_id}'s {what}; "
                             f"got shape {np.shape(thetas)}")
    elif arr.ndim != 2:
        raise ValueError(f"thetas must be 2-D (P, dim) or 1-D, got shape {np.shape(thetas)}")
    check_finite(arr, "thetas")
    episodes = check_int(episodes, "episodes", minimum=1)
    if pool is not None and not callable(getattr(pool, "map", None)):
        raise TypeError("pool must have a map method (multiprocessing.Pool, an Executor, ...), "
                        f"got {type(pool).__name__}")
    num = arr.shape[0]
    if reset_seeds is not None:
        if seed is not None:
            raise ValueError("give at most one of seed and reset_seeds")
        given = np.asarray(reset_seeds, dtype=object).reshape(-1)
        if given.shape[0] != episodes:
            raise ValueError(f"reset_seeds must have {episodes} seeds, one per episode; got {given.shape[0]}")
        seeds = np.tile(np.array([check_seed(s, "reset_seeds") for s in given], dtype=np.int64), (num, 1))
    else:
        if seed is not None and not isinstance(seed, np.random.Generator):
            seed = check_seed(seed)
        seeds = np.random.default_rng(seed).integers(2**31, size=(num, episodes))
    if num == 0:
        return np.empty(0)
    if chunksize is None:
        workers = getattr(pool, "_processes", None) or getattr(pool, "_max_workers", None)
        chunksize = max(1, math.ceil(num / (4 * workers))) if isinstance(workers, numbers.Integral) else 64
    chunksize = check_int(chunksize, "chunksize", minimum=1)
    tasks = [(env_id, arr[i : i + chunksize], seeds[i : i + chunksize], policy) for i in range(0, num, chunksize)]
    results = list(map(_play_chunk, tasks) if pool is None else pool.map(_play_chunk, tasks))
    if len(results) != len(tasks) or any(np.shape(r) != (len(t[1]),) for r, t in zip(results, tasks, strict=True)):
        raise RuntimeError("the pool returned a partial result; no result is better than a wrong one")
    return np.concatenate(results)


def is_native(env_id: object) -> bool:
    """Whether ``env_id`` has native kernels (``fastcem.evaluate`` can score it)."""
    return isinstance(env_id, str) and env_id in envs_native.ENV_IDS  # registered so far, users' envs too
