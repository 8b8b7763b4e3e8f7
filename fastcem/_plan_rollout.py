"""Compiled kernels of the CEM planner: sampling action sequences, and scoring them with the
native envs' exact dynamics and rewards."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange
from numba.extending import overload

from envs_native import cartpole, pendulum
from envs_native._jit import jit

from ._philox import normal_pair
from ._rollout import LANES, _OVERLOAD_OPTIONS, _env_of, _store, env_step_lane, lane_trig, redo_rewards, state_of


@jit(parallel=True)
def sample_actions(
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    stream: np.uint64,
    k0: np.uint64,
    k1: np.uint64,
    out: np.ndarray,
) -> None:
    """``out[n] = clip(mean + std * z[n], low, high)`` for ``z`` the normal deviates of Philox
    stream ``stream``, all arrays flattened over the plan: ``mean``, ``std``, ``low``,
    ``high`` have ``H * A`` entries, ``out`` is ``(N, H * A)``.  Candidate ``n`` uses the
    deviate pairs from ``n * ceil(H * A / 2)`` on, whichever thread draws them, so its
    numbers do not depend on the thread count or on how many candidates there are."""
    size = out.shape[1]
    pairs = (size + 1) // 2
    for n in prange(out.shape[0]):
        for q in range(pairs):
            z0, z1 = normal_pair(np.uint64(n * pairs + q), stream, k0, k1)
            i = 2 * q
            out[n, i] = min(max(mean[i] + std[i] * z0, low[i]), high[i])
            if i + 1 < size:
                out[n, i + 1] = min(max(mean[i + 1] + std[i + 1] * z1, low[i + 1]), high[i + 1])


def env_action(plan_value: float, params: Any) -> Any:  # pragma: no cover - compiled only
    """The env's action for a plan value: CartPole 1 (push right) where it is > 0, else 0;
    Pendulum the value itself, a torque (the env clips it to its bounds)."""
    raise NotImplementedError


@overload(env_action, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_action(plan_value, params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        return lambda plan_value, params: 1 if plan_value > 0.0 else 0
    if env is pendulum:
        return lambda plan_value, params: plan_value
    return None


@jit
def _plan_block(state: np.ndarray, actions: np.ndarray, first: int, params: Any, out: np.ndarray) -> None:
    """``out[n]`` for the candidates ``first ..`` (up to ``LANES`` of them), stepped side by
    side in lanes as ``fastcem._rollout`` does for policies: the C-library calls lane by
    lane, the rest as one branch-free vectorised loop, slow-path rewards redone per lane.
    A lane's return adds its rewards in step order and stops at termination, exactly as a
    single rollout does."""
    num = min(LANES, actions.shape[0] - first)
    rows = np.empty(LANES, dtype=np.int64)
    states = np.empty((state.shape[0], LANES))
    for k in range(LANES):
        rows[k] = first + min(k, num - 1)  # spare lanes repeat the last candidate, unused
        states[:, k] = state
    prev_states = np.zeros_like(states)
    lane_action = np.zeros(LANES)
    trig0 = np.empty(LANES)
    trig1 = np.empty(LANES)
    trig_ok = np.zeros(LANES, dtype=np.bool_)
    rewards = np.empty(LANES)
    inexact = np.zeros(LANES, dtype=np.bool_)
    terminated = np.zeros(LANES, dtype=np.bool_)
    alive = np.ones(LANES, dtype=np.bool_)
    totals = np.zeros(LANES)
    for t in range(actions.shape[1]):
        lane_trig(states, params, trig0, trig1, trig_ok)
        any_inexact = False
        for k in range(LANES):
            s = state_of(states, k, params)
            action = env_action(actions[rows[k], t, 0], params)
            nxt, reward, term, exact = env_step_lane(s, action, (trig0[k], trig1[k]), params)
            if not exact:  # constant True for envs without slow paths: compiled away
                _store(prev_states, k, s)
                lane_action[k] = action
            _store(states, k, nxt)
            rewards[k] = reward
            terminated[k] = term
            lane_inexact = (not exact) & (k < num)  # spare lanes do not count
            inexact[k] = lane_inexact
            any_inexact |= lane_inexact
        if any_inexact:
            redo_rewards(prev_states, lane_action, trig0, trig1, params, inexact, rewards)
        for k in range(LANES):
            totals[k] = totals[k] + rewards[k] if alive[k] else totals[k]
            alive[k] = alive[k] & ~terminated[k]
    for k in range(num):
        out[first + k] = totals[k]


@jit(parallel=True)
def native_returns(state: np.ndarray, actions: np.ndarray, params: Any, out: np.ndarray) -> None:
    """``out[n]``: the return of the plan ``actions[n]`` (``(N, H, 1)``) from the float64
    ``state`` under the native env's exact dynamics and rewards, stopping where the env
    terminates; the plan values become env actions by :func:`env_action`."""
    num_blocks = -(-actions.shape[0] // LANES)
    for b in prange(num_blocks):
        _plan_block(state, actions, b * LANES, params, out)
