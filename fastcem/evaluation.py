"""Population evaluation of linear and network policies on the native envs: ``evaluate`` and
``rollout``.

Returns are undiscounted sums of rewards (maximised everywhere in fastcem), added in step
order, with episodes truncated at gymnasium's TimeLimit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from envs_native import EnvInfo, env_info
from envs_native._seeding import check_seed
from envs_native.modes import Fast, Libm

from . import _rollout
from ._checks import (
    as_float_array,
    as_thetas,
    check_finite,
    check_int,
    check_num_threads,
    env_params,
    fast_mode,
)
from ._parallel import num_workers
from .mlp import MLP, as_policy

__all__ = ["Trajectory", "evaluate", "policy_dim", "rollout"]

# Start states allowed in fast mode: an episode moves an angle by less than 100 radians
# (Pendulum: 200 steps of at most 8 rad/s * 0.05 s), so angles stay within the polynomial
# sin/cos's accurate range (FAST_TRIG_LIMIT, about 8e5).
FAST_STATE_LIMIT = 1e5


def policy_dim(env_id: str, policy: MLP | None = None) -> int:
    """Length of a policy's parameter vector on ``env_id``.

    The linear policy (``policy=None``): ``(obs_dim + 1) * act_dim``; CartPole: 10 (4
    observations, 2 actions), Pendulum-v1: 4 (3 observations, 1 torque).
    ``theta[:obs_dim * act_dim].reshape(obs_dim, act_dim)`` is ``W``, the rest is ``b``.
    An :class:`fastcem.MLP`: each layer's ``(n_in + 1) * n_out``, summed.
    """
    info = env_info(env_id)
    mlp = as_policy(policy)
    if mlp is None:
        return (info.obs_dim + 1) * info.act_dim
    return mlp.num_params(info.obs_dim, info.act_dim)


def _thetas(thetas: object, env_id: str, policy: MLP | None) -> NDArray[np.float64]:
    what = "(obs_dim + 1) * act_dim" if policy is None else f"the parameters of {policy}"
    return as_thetas(thetas, policy_dim(env_id, policy), env_id, what)


def _start_states(
    info: EnvInfo,
    num_candidates: int,
    episodes: int,
    seed: object,
    reset_seeds: object,
    init_states: object,
) -> NDArray[np.float64]:
    """``(1 or P, episodes, kernel_state_dim)`` start states, as the kernels hold them, from
    exactly one of the three sources."""
    sources = (("seed", seed), ("reset_seeds", reset_seeds), ("init_states", init_states))
    given = [name for name, v in sources if v is not None]
    if len(given) > 1:
        raise ValueError(f"give at most one of seed, reset_seeds and init_states; got {' and '.join(given)}")
    shape_hint = f"(episodes={episodes}, state_dim={info.state_dim})"
    if reset_seeds is not None:
        seeds = np.asarray(reset_seeds, dtype=object)
        if seeds.ndim != 1 or seeds.shape[0] != episodes:
            raise ValueError(
                f"reset_seeds must be a 1-D sequence of {episodes} ints, one per episode "
                f"(episodes={episodes}); got shape {seeds.shape}"
            )
        states = [info.spec.reset_state(check_seed(s, "reset_seeds")) for s in seeds]
        return info.spec.kernel_states(np.stack(states)[None])
    if init_states is not None:
        arr = as_float_array(init_states, "init_states")
        shape = arr.shape
        if np.asarray(init_states).dtype == np.float32:  # a float32 state is one of gymnasium's
            arr = arr.astype(np.float32)
        if arr.ndim == 2:
            arr = arr[None]
        if arr.ndim != 3 or arr.shape[0] not in (1, num_candidates) or arr.shape[1:] != (episodes, info.state_dim):
            raise ValueError(
                f"init_states must have shape {shape_hint} or (P={num_candidates}, "
                f"{episodes}, {info.state_dim}) for {info.env_id}; got {shape}"
            )
        check_finite(arr, "init_states")
        return info.spec.kernel_states(arr)
    if isinstance(seed, np.random.Generator):
        rng = seed
    else:
        rng = np.random.default_rng(None if seed is None else check_seed(seed))
    return info.spec.kernel_states(info.spec.sample_states(rng, (num_candidates, episodes)))


def evaluate(
    thetas: ArrayLike,
    env_id: str,
    *,
    episodes: int = 1,
    seed: int | np.random.Generator | None = None,
    reset_seeds: ArrayLike | None = None,
    init_states: ArrayLike | None = None,
    num_threads: int | None = None,
    env_kwargs: dict[str, Any] | None = None,
    fast: bool = False,
    policy: MLP | None = None,
) -> NDArray[np.float64]:
    """Mean episode return of each policy in a population (higher is better).

    Parameters
    ----------
    thetas : array_like, shape (P, policy_dim) or (policy_dim,)
        Policy parameters (see :func:`policy_dim`); any real dtype, converted to float64.
    env_id : str
        A registered env id (``envs_native.ENV_IDS``).
    episodes : int
        Episodes per candidate; the result is their mean return.
    seed : int or numpy.random.Generator, optional
        Start states drawn from ``np.random.default_rng(seed)`` with gymnasium's reset
        distribution, independently for every candidate and episode.  A ``Generator`` is
        drawn from directly (and advanced), so a loop can pass one generator every epoch.
    reset_seeds : sequence of int, shape (episodes,), optional
        Every candidate plays the same episodes; episode ``e`` starts exactly where
        gymnasium's ``env.reset(seed=reset_seeds[e])`` does.
    init_states : array_like, shape (episodes, state_dim) or (P, episodes, state_dim), optional
        Explicit start states, as gymnasium holds them (float64, or float32 where gymnasium's
        state is float32 at times, which changes its arithmetic).  With none of the three, start states are drawn from
        fresh entropy, as gymnasium's ``reset()`` without a seed.
    num_threads : int, optional
        Threads for this call (default: numba's setting); the previous setting is restored.
    env_kwargs : dict, optional
        Keyword arguments of the env's ``default_params`` (CartPole: ``sutton_barto_reward``,
        ``kinematics_integrator``; Pendulum: ``g``; Acrobot: ``book_or_nips``, ``dt``; the
        MountainCars: ``goal_velocity``).
    fast : bool
        Opt-in fast mode, no longer bit-identical to gymnasium: ``sin``/``cos`` from
        polynomials (within 2 ULP of the C library's, :mod:`envs_native._fastmath`) and
        Pendulum's squares as ``x * x`` (numpy's ``** 2`` calls ``pow``, which differs in
        the last bit about once in a thousand), so that the whole step runs as vector code.
        Still deterministic: the same bits for any thread count.  The tested bound:
        CartPole returns (episode lengths) equal to the exact mode's for at least 99.9% of a
        large population, Pendulum returns within 1e-9 relative.
    policy : fastcem.MLP, optional
        A network policy instead of the linear one (``None``); see :class:`fastcem.MLP`.

    Returns
    -------
    ndarray, shape (P,), float64
        Mean undiscounted return per candidate.  With ``reset_seeds=[s]`` it equals, bit for
        bit, the return of a gymnasium episode from ``reset(seed=s)`` under the same policy
        with its affine map summed in the documented order (``fastcem._rollout``), the
        rewards added in step order.  The same inputs give the same bits for any
        ``num_threads``.
    """
    info = env_info(env_id)
    params = env_params(info, env_kwargs)
    mlp = as_policy(policy)
    arr = _thetas(thetas, env_id, mlp)
    episodes = check_int(episodes, "episodes", minimum=1)
    nthreads = check_num_threads(num_threads)
    starts = _start_states(info, arr.shape[0], episodes, seed, reset_seeds, init_states)
    mode = mode_of(env_id, fast)
    # Far from any state an episode reaches: beyond it the polynomial sin/cos lose bits.
    if fast and (np.abs(starts[..., : info.state_dim]) > FAST_STATE_LIMIT).any():
        raise ValueError(f"fast=True needs start states within ±{FAST_STATE_LIMIT:g}; use the exact mode")
    out = np.empty(arr.shape[0], dtype=np.float64)
    if arr.shape[0]:
        _rollout.evaluate_population(arr, starts, params, mode, info.max_episode_steps, num_workers(nthreads), out,
                                     mlp)
    return out


def mode_of(env_id: str, fast: bool) -> Any:
    """The mode :func:`evaluate` steps ``env_id`` in: the fast one, or the env's exact one (for
    the lanes, found by a self-check of this process's C library, once)."""
    return Fast() if fast_mode(fast) else env_info(env_id).spec.exact_mode()


@dataclass(frozen=True)
class Trajectory:
    """One episode, step by step.

    ``states[t]`` and ``observations[t]`` are the state (its values, as float64) and the
    float32 observation before action ``actions[t]``, which earned ``rewards[t]``; the last
    row of each is the final state.  ``terminated``/``truncated`` follow gymnasium's meaning.
    ``float32_states[t]`` says whether gymnasium holds state ``t`` as float32 (Acrobot's
    first, MountainCarContinuous's after the first); :meth:`gym_state` gives it so.
    """

    states: NDArray[np.float64]
    observations: NDArray[np.float32]
    actions: NDArray[Any]
    rewards: NDArray[np.float64]
    terminated: bool
    truncated: bool
    float32_states: NDArray[np.bool_]

    def gym_state(self, t: int) -> NDArray[Any]:
        """State ``t`` as gymnasium's ``env.unwrapped.state`` holds it, with its dtype."""
        return self.states[t].astype(np.float32 if self.float32_states[t] else np.float64)

    @property
    def episode_return(self) -> float:
        """The undiscounted return, rewards added in step order (what :func:`evaluate` gives)."""
        total = 0.0
        for r in self.rewards:
            total += float(r)
        return total

    def __len__(self) -> int:
        return len(self.rewards)


def rollout(
    theta: ArrayLike, env_id: str, reset_seed: int, env_kwargs: dict[str, Any] | None = None,
    policy: MLP | None = None,
) -> Trajectory:
    """Play one episode of the policy ``theta`` (linear, or ``policy``) from
    ``env.reset(seed=reset_seed)``.

    The same compiled episode as :func:`evaluate`, recording every state, observation,
    action and reward for inspection.
    """
    info = env_info(env_id)
    params = env_params(info, env_kwargs)
    mlp = as_policy(policy)
    arr = _thetas(theta, env_id, mlp)
    if arr.shape[0] != 1:
        raise ValueError(f"theta must be one parameter vector of length {arr.shape[1]}, got shape {np.shape(theta)}")
    start = info.spec.kernel_states(info.spec.reset_state(check_seed(reset_seed, "reset_seed")))
    n = info.max_episode_steps
    states = np.zeros((n + 1, info.spec.kernel_state_dim))
    observations = np.zeros((n + 1, info.obs_dim), dtype=np.float32)
    actions = np.zeros(n, dtype=np.int64 if info.discrete else np.float64)
    rewards = np.zeros(n)
    ws = _rollout.Workspace.new(info.spec.kernel_state_dim, arr.shape[1], 1, mlp)
    actor = _rollout.make_actor(mlp, ws, info.obs_dim, info.act_dim, info.discrete)
    ws.weights[:, 0] = arr[0] if mlp is None else arr[0][actor.order]
    _, steps, terminated = _rollout.record_episode(actor, start, params, Libm(), n, states, observations, actions,
                                                   rewards)
    return Trajectory(
        states=states[: steps + 1, : info.state_dim],
        observations=observations[: steps + 1],
        actions=actions[:steps],
        rewards=rewards[:steps],
        terminated=bool(terminated),
        truncated=bool(not terminated and steps == n),
        float32_states=states[: steps + 1, info.state_dim] != 0.0 if info.spec.float32_states
        else np.zeros(steps + 1, dtype=np.bool_),
    )
