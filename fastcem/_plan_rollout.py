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
from ._rollout import _OVERLOAD_OPTIONS, _env_of, env_step, env_trig, state_of


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
    stream ``stream``: candidate ``n`` uses deviates ``n * H * A ...``, whichever thread
    draws them.  ``mean``, ``std`` are ``(H, A)``, ``low``/``high`` ``(A,)``, ``out`` ``(N, H, A)``."""
    num, horizon, dim = out.shape
    size = horizon * dim
    # Pairs of deviates: candidate n starts at pair n * ceil(size / 2), so that a candidate's
    # numbers do not depend on how many candidates there are.
    pairs = (size + 1) // 2
    for n in prange(num):
        for q in range(pairs):
            z0, z1 = normal_pair(np.uint64(n * pairs + q), stream, k0, k1)
            for i, z in ((2 * q, z0), (2 * q + 1, z1)):
                if i < size:
                    t = i // dim
                    a = i - t * dim
                    v = mean[t, a] + std[t, a] * z
                    out[n, t, a] = min(max(v, low[a]), high[a])


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
def _sequence_return(state: np.ndarray, actions: np.ndarray, n: int, params: Any) -> float:
    """The sum of the native env's rewards along ``actions[n]`` from ``state``, stopping
    where the env terminates (a function of its own: numba's parallel-loop analysis cannot
    see through the inlined step's tuples)."""
    s = state_of(state.reshape(-1, 1), 0, params)
    total = 0.0
    for t in range(actions.shape[1]):
        s, reward, terminated = env_step(s, env_action(actions[n, t, 0], params), env_trig(s, params), params)
        total += reward
        if terminated:
            break
    return total


@jit(parallel=True)
def native_returns(state: np.ndarray, actions: np.ndarray, params: Any, out: np.ndarray) -> None:
    """``out[n]``: the return of the plan ``actions[n]`` (``(N, H, 1)``) from the float64
    ``state`` under the native env's exact dynamics and rewards; the plan values become env
    actions by :func:`env_action`."""
    for n in prange(actions.shape[0]):
        out[n] = _sequence_return(state, actions, n, params)
