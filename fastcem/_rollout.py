"""Compiled rollouts of linear policies on the native envs.

The same loops serve every env: the env is chosen at compile time from the type of its
params (``cartpole.Params`` or ``pendulum.Params``) through ``@overload``, so they are
specialised per env without passing functions as arguments (which would defeat numba's
cache).  A step works on a tuple of floats; nothing is allocated per step.

The linear policy acts on the float32 observation a gymnasium user sees.  Its affine map
is evaluated in float64 in one fixed order, ``y_j = b_j + (((o_0 W_0j + o_1 W_1j) + o_2 W_2j)
+ ...)``: numpy's ``obs @ W + b`` may round differently because BLAS can fuse multiply-adds
and reorder the sum, and a one-bit change in ``y`` can flip a CartPole action.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange, types
from numba.extending import overload

from envs_native import cartpole, pendulum
from envs_native._jit import JIT_OPTIONS, jit

# Overload bodies are compiled into their callers, which carry the cache; numba compares the
# parameters of a typing function and its implementation, annotations included, so neither
# is annotated.
_OVERLOAD_OPTIONS = {k: v for k, v in JIT_OPTIONS.items() if k != "cache"}


def _env_of(params: types.Type) -> Any:
    cls = getattr(params, "instance_class", None)
    if cls is cartpole.Params:
        return cartpole
    if cls is pendulum.Params:
        return pendulum
    return None


# --- env dispatch: Python stubs, given bodies for each params type by @overload ---------


def env_step(state: Any, action: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """``(next_state, reward, terminated)`` of the env that ``params`` belongs to."""
    raise NotImplementedError


def env_observe(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The float32 observation tuple of ``state``."""
    raise NotImplementedError


def state_from_row(row: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The state tuple held in a float64 array row."""
    raise NotImplementedError


def policy_action(thetas: Any, p: Any, obs: Any, params: Any) -> Any:  # pragma: no cover
    """Action of the seed's linear policy ``thetas[p]``: argmax for discrete envs, clipped torque for Pendulum."""
    raise NotImplementedError


@overload(env_step, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_step(state, action, params):  # noqa: ANN
    env = _env_of(params)
    if env is None:
        return None
    step_tuple = env.step_tuple
    return lambda state, action, params: step_tuple(state, action, params)


@overload(env_observe, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_observe(state, params):  # noqa: ANN
    env = _env_of(params)
    if env is None:
        return None
    observe_tuple = env.observe_tuple
    return lambda state, params: observe_tuple(state)


@overload(state_from_row, jit_options=_OVERLOAD_OPTIONS)
def _ol_state_from_row(row, params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        return lambda row, params: (row[0], row[1], row[2], row[3])
    if env is pendulum:
        return lambda row, params: (row[0], row[1])
    return None


@jit
def affine(thetas: np.ndarray, p: int, obs: Any, j: int, act_dim: int) -> float:
    """``b_j + sum_i obs_i * W_ij`` for ``theta = thetas[p]``, in float64, ``i`` ascending.

    ``W = theta[:obs_dim * act_dim].reshape(obs_dim, act_dim)`` and ``b = theta[obs_dim *
    act_dim:]``, the seed's layout.  The row is indexed, not sliced: a slice is a new array
    view whose reference count every thread would update atomically at every step.
    """
    s = obs[0] * thetas[p, j]
    for i in range(1, len(obs)):
        s += obs[i] * thetas[p, i * act_dim + j]
    return thetas[p, len(obs) * act_dim + j] + s


@jit
def argmax_action(thetas: np.ndarray, p: int, obs: Any, num_actions: int) -> int:
    """``argmax(y)`` with numpy's rules: the first maximum, or the first NaN if there is one."""
    best = 0
    y_best = affine(thetas, p, obs, 0, num_actions)
    if y_best != y_best:
        return 0
    for j in range(1, num_actions):
        y = affine(thetas, p, obs, j, num_actions)
        if y != y:
            return j
        if y > y_best:
            best = j
            y_best = y
    return best


@overload(policy_action, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_policy_action(thetas, p, obs, params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        num_actions = cartpole.NUM_ACTIONS
        return lambda thetas, p, obs, params: argmax_action(thetas, p, obs, num_actions)
    if env is pendulum:

        def impl(thetas, p, obs, params):  # type: ignore[no-untyped-def]
            # The seed clips to the action space's bounds, [-max_torque, max_torque].
            y = affine(thetas, p, obs, 0, 1)
            if y < -params.max_torque:
                return -params.max_torque
            if y > params.max_torque:
                return params.max_torque
            return y

        return impl
    return None


# --- the episode loop and the parallel population kernel ----------------------------

# Episodes stepped side by side per thread.  One CartPole step is a chain of ~90 cycles of
# latency (observation -> action -> two dependent divisions -> next state), so a single
# episode leaves most of a core idle; independent lanes let out-of-order execution overlap
# their chains.  Each lane's arithmetic is exactly that of ``record_episode``.
LANES = 8


@jit
def _store(row: np.ndarray, state: Any) -> None:
    for i in range(len(state)):
        row[i] = state[i]


@jit
def _play_jobs(
    thetas: np.ndarray,
    init_states: np.ndarray,
    params: Any,
    max_steps: int,
    first: int,
    stop: int,
    returns: np.ndarray,
) -> None:
    """Play jobs ``first .. stop-1`` (job ``j`` = candidate ``j // E``, episode ``j % E``) in
    ``LANES`` lockstep lanes, a finished lane taking the next job, and write each episode's
    return to ``returns[candidate, episode]``."""
    num_episodes = init_states.shape[1]
    shared = init_states.shape[0] == 1
    lanes = min(LANES, stop - first)
    # Per lane: its job, candidate and episode (kept, not recomputed: an integer division per
    # step costs more than the stores), return and steps so far, and state.
    lane_job = np.empty(lanes, dtype=np.int64)
    lane_cand = np.empty(lanes, dtype=np.int64)
    lane_ep = np.empty(lanes, dtype=np.int64)
    lane_ret = np.zeros(lanes)
    lane_steps = np.zeros(lanes, dtype=np.int64)
    lane_state = np.empty((lanes, init_states.shape[2]))
    for k in range(lanes):
        _start_job(k, first + k, num_episodes, shared, init_states, lane_job, lane_cand, lane_ep, lane_state)
    next_job = first + lanes
    active = lanes
    while active > 0:
        for k in range(lanes):
            if lane_job[k] < 0:
                continue
            p = lane_cand[k]
            state = state_from_row(lane_state[k], params)
            obs = env_observe(state, params)
            action = policy_action(thetas, p, obs, params)
            state, reward, terminated = env_step(state, action, params)
            lane_ret[k] += reward
            lane_steps[k] += 1
            if terminated or lane_steps[k] == max_steps:
                returns[p, lane_ep[k]] = lane_ret[k]
                lane_ret[k] = 0.0
                lane_steps[k] = 0
                if next_job < stop:
                    _start_job(k, next_job, num_episodes, shared, init_states, lane_job, lane_cand, lane_ep, lane_state)
                    next_job += 1
                else:
                    lane_job[k] = -1
                    active -= 1
            else:
                _store(lane_state[k], state)


@jit
def _start_job(
    k: int,
    job: int,
    num_episodes: int,
    shared: bool,
    init_states: np.ndarray,
    lane_job: np.ndarray,
    lane_cand: np.ndarray,
    lane_ep: np.ndarray,
    lane_state: np.ndarray,
) -> None:
    """Put job ``job`` (candidate ``job // E``, episode ``job % E``) in lane ``k``."""
    p = job // num_episodes
    e = job - p * num_episodes
    lane_job[k] = job
    lane_cand[k] = p
    lane_ep[k] = e
    lane_state[k, :] = init_states[0 if shared else p, e]


@jit(parallel=True)
def evaluate_population(
    thetas: np.ndarray,
    init_states: np.ndarray,
    params: Any,
    max_steps: int,
    block: int,
    out: np.ndarray,
) -> None:
    """``out[p]`` = mean return of ``thetas[p]`` over the episodes starting at ``init_states``.

    ``init_states`` is ``(1 or P, E, state_dim)``: one set of start states shared by every
    candidate, or one per candidate.  The ``P * E`` episodes are cut into blocks that the
    threads play in lanes; each episode's return depends only on its own candidate and
    start state, and the mean adds a candidate's returns in episode order, so the result is
    the same bits for any thread count or ``block`` (episodes per block, >= 1).
    """
    num_candidates = thetas.shape[0]
    num_episodes = init_states.shape[1]
    num_jobs = num_candidates * num_episodes
    returns = np.empty((num_candidates, num_episodes))
    num_blocks = -(-num_jobs // block)
    for b in prange(num_blocks):
        first = b * block
        _play_jobs(thetas, init_states, params, max_steps, first, min(first + block, num_jobs), returns)
    for p in prange(num_candidates):
        total = 0.0
        for e in range(num_episodes):
            total += returns[p, e]
        out[p] = total / num_episodes


@jit
def record_episode(
    theta: np.ndarray,
    init_state: np.ndarray,
    params: Any,
    max_steps: int,
    states: np.ndarray,
    observations: np.ndarray,
    actions: np.ndarray,
    rewards: np.ndarray,
) -> tuple[float, int, bool]:
    """Play one episode of the policy ``theta`` (1-D), writing every step to the arrays.

    ``states`` and ``observations`` have ``max_steps + 1`` rows (the last is the final
    state), ``actions`` and ``rewards`` ``max_steps``.  Returns ``(return, steps,
    terminated)``; the step arithmetic is that of the population kernel's lanes.
    """
    thetas = theta.reshape(1, -1)
    state = state_from_row(init_state, params)
    ret = 0.0
    terminated = False
    t = 0
    while t < max_steps and not terminated:
        obs = env_observe(state, params)
        action = policy_action(thetas, 0, obs, params)
        _store(states[t], state)
        _store(observations[t], obs)
        actions[t] = action
        state, reward, terminated = env_step(state, action, params)
        rewards[t] = reward
        ret += reward
        t += 1
    _store(states[t], state)
    _store(observations[t], env_observe(state, params))
    return ret, t, terminated


def block_size(num_jobs: int, num_threads: int) -> int:
    """Episodes per block: about eight blocks per thread, so that a thread whose episodes end
    early takes more blocks, and at least ``LANES``."""
    return max(LANES, -(-num_jobs // (8 * num_threads)))


@jit
def linear_action(theta: np.ndarray, obs: np.ndarray, params: Any) -> Any:
    """The action of the linear policy ``theta`` (1-D) for one observation array: the same
    compiled arithmetic as the rollouts, for driving an env from Python (a real gymnasium
    env in :mod:`fastcem._gym`)."""
    return policy_action(theta.reshape(1, -1), 0, obs, params)
