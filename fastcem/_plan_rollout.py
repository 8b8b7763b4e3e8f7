"""Compiled kernels of the CEM planner: sampling action sequences, scoring them with the
native envs' exact dynamics and rewards (the sampling fused into the rollout, block by
block, so that a batch is one parallel call), and the refit on the elites."""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import prange
from numba.extending import overload

from envs_native import cartpole, pendulum
from envs_native._jit import jit

from ._philox import normal_quad
from ._rollout import (_OVERLOAD_OPTIONS, _env_of, _fetch_add, _store, env_step, env_step_lane, env_trig, lane_trig,
                       redo_rewards, state_of)
from .selection import select_elites


# Candidates a planning worker rolls out side by side: twice the policy rollouts' LANES (as
# Pendulum's), so that more independent steps are in flight.
LANES = 32


@jit(inline="always")
def sample_lanes(
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    stream: np.uint64,
    k0: np.uint64,
    k1: np.uint64,
    first: int,
    acts: np.ndarray,
) -> None:
    """``acts[i, k] = clip(mean[i] + std[i] * z[i], low[i], high[i])`` for candidate ``first +
    k`` (``k < LANES``), ``z`` its normal deviates: candidate ``n`` takes the Philox blocks
    from ``n * ceil(size / 4)`` on (``size`` the entries of a plan, ``H * A``), whichever
    thread draws them, so its numbers depend neither on the thread count nor on how many
    candidates there are.  ``acts`` is ``(4 * ceil(size / 4), LANES)``, lane-major, so that
    both loops are vector code across the lanes."""
    size = mean.shape[0]
    quads = acts.shape[0] // 4
    for q in range(quads):
        for k in range(LANES):
            z0, z1, z2, z3 = normal_quad(np.uint64((first + k) * quads + q), stream, k0, k1)
            acts[4 * q, k] = z0
            acts[4 * q + 1, k] = z1
            acts[4 * q + 2, k] = z2
            acts[4 * q + 3, k] = z3
    for i in range(size):
        for k in range(LANES):
            acts[i, k] = min(max(mean[i] + std[i] * acts[i, k], low[i]), high[i])


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
    """``out[n]``: candidate ``n``'s plan from stream ``stream`` (:func:`sample_lanes`), all
    arrays flattened over the plan: ``mean``, ``std``, ``low``, ``high`` have ``H * A``
    entries, ``out`` is ``(N, H * A)``."""
    size = out.shape[1]
    for b in prange(-(-out.shape[0] // LANES)):
        acts = np.empty((4 * ((size + 3) // 4), LANES))
        first = b * LANES
        sample_lanes(mean, std, low, high, stream, k0, k1, first, acts)
        for k in range(min(LANES, out.shape[0] - first)):
            for i in range(size):
                out[first + k, i] = acts[i, k]


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
def _plan_worker(
    state: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    stream: np.uint64,
    k0: np.uint64,
    k1: np.uint64,
    num_sampled: int,
    params: Any,
    queue: np.ndarray,
    actions: np.ndarray,
    out: np.ndarray,
) -> None:
    """Take blocks of ``LANES`` candidates from ``queue`` until there are none: sample the
    block's plans (:func:`sample_lanes`; candidates from ``num_sampled`` on are given in
    ``actions`` instead), write them to ``actions``, and roll them out side by side in lanes
    as ``fastcem._rollout`` does for policies -- the C-library calls lane by lane, the rest as
    one branch-free vectorised loop, slow-path rewards redone per lane.  A lane's return
    adds its rewards in step order and stops at termination, exactly as a single rollout
    does."""
    num_candidates, horizon = actions.shape
    num_blocks = -(-num_candidates // LANES)
    # Zeros, not np.empty: a spare lane steps too, and garbage could be a slow subnormal.
    acts = np.zeros((4 * ((horizon + 3) // 4), LANES))
    states = np.zeros((state.shape[0], LANES))
    prev_states = np.zeros_like(states)
    lane_action = np.zeros(LANES)
    trig0 = np.zeros(LANES)
    trig1 = np.zeros(LANES)
    trig_ok = np.zeros(LANES, dtype=np.bool_)
    rewards = np.zeros(LANES)
    inexact = np.zeros(LANES, dtype=np.bool_)
    terminated = np.zeros(LANES, dtype=np.bool_)
    alive = np.zeros(LANES, dtype=np.bool_)
    totals = np.zeros(LANES)
    start = state_of(state.reshape(-1, 1), 0, params)
    while True:
        b = _fetch_add(queue, np.int64(1))
        if b >= num_blocks:
            return
        first = b * LANES
        num = min(LANES, num_candidates - first)
        if first < num_sampled:
            sample_lanes(mean, std, low, high, stream, k0, k1, first, acts)
        for k in range(num):
            n = first + k
            if n < num_sampled:
                for t in range(horizon):
                    actions[n, t] = acts[t, k]
            else:
                for t in range(horizon):
                    acts[t, k] = actions[n, t]
        for k in range(LANES):
            _store(states, k, start)
            alive[k] = True
            totals[k] = 0.0
        for t in range(horizon):
            lane_trig(states, params, trig0, trig1, trig_ok, LANES, False)
            any_inexact = False
            for k in range(LANES):
                s = state_of(states, k, params)
                action = env_action(acts[t, k], params)
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
                redo_rewards(prev_states, lane_action, trig0, trig1, params, inexact, rewards, LANES)
            for k in range(LANES):
                totals[k] = totals[k] + rewards[k] if alive[k] else totals[k]
                alive[k] = alive[k] & ~terminated[k]
        for k in range(num):
            out[first + k] = totals[k]


@jit(parallel=True)
def native_returns(
    state: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    stream: np.uint64,
    k0: np.uint64,
    k1: np.uint64,
    num_sampled: int,
    params: Any,
    num_workers: int,
    actions: np.ndarray,
    out: np.ndarray,
) -> None:
    """Sample and score a batch of plans under the native env's exact dynamics and rewards.

    ``actions`` is ``(N, H)`` (one plan value per step): its first ``num_sampled`` rows are
    drawn here from ``N(mean, std)`` clamped to ``[low, high]`` (stream ``stream`` of the
    key, :func:`sample_lanes`), the others are given.  ``out[n]`` is the return of plan ``n``
    from the float64 ``state``, stopping where the env terminates; plan values become env
    actions by :func:`env_action`.  ``num_workers`` workers (one per thread) take blocks of
    candidates from a shared counter; a block's numbers do not depend on which worker takes
    it, so the result is the same for any thread count."""
    queue = np.zeros(1, dtype=np.int64)
    for _ in prange(num_workers):
        _plan_worker(state, mean, std, low, high, stream, k0, k1, num_sampled, params, queue, actions, out)


@jit
def exact_return(state: np.ndarray, plan: np.ndarray, params: Any) -> float:
    """The return of one plan (``(H,)``) from ``state`` under the env's exact step, one step
    at a time as gymnasium takes them (the C library's ``sin``/``cos`` and ``pow``)."""
    s = state_of(state.reshape(-1, 1), 0, params)
    total = 0.0
    for t in range(plan.shape[0]):
        s, reward, terminated = env_step(s, env_action(plan[t], params), env_trig(s, params), params)
        total += reward
        if terminated:
            break
    return total


@jit(inline="always")
def _slack(returns: np.ndarray, known: np.ndarray, scale: float, floor: float, n: int) -> float:
    return 0.0 if known[n] else scale * abs(returns[n]) + floor


@jit(inline="always")
def _ranked(returns: np.ndarray, known: np.ndarray, scale: float, floor: float, a: int, b: int) -> bool:
    """Whether ``a`` is sure to rank before ``b`` (``a`` before ``b`` in ``returns`` order):
    their intervals do not meet, or both returns are exact."""
    return (known[a] & known[b]) or (
        returns[a] - _slack(returns, known, scale, floor, a) > returns[b] + _slack(returns, known, scale, floor, b))


@jit
def _same_plan(actions: np.ndarray, returns: np.ndarray, a: int, b: int) -> bool:
    """Whether ``a`` and ``b`` are the same plan with the same return: then their exact
    returns tie too, and the lower index ranks first either way.  (Called only where
    :func:`_ranked` is not sure, so that the hot loops do not pass the array.)"""
    if returns[a] != returns[b]:
        return False
    for t in range(actions.shape[1]):
        if actions[a, t] != actions[b, t]:
            return False
    return True


@jit
def certify_elites(
    state: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    scale: float,
    floor: float,
    top_k: int,
    idx: np.ndarray,
    params: Any,
) -> int:
    """The ``top_k`` best plans, best first, of the exact returns, given ``returns`` within
    ``scale * |return| + floor`` of them (``actions`` ``(N, H)``, ``params`` the env's exact
    ones): writes ``idx`` as :func:`fastcem.selection.select_elites` would on the exact
    returns.  Ranks are taken from ``returns``; wherever two neighbours in that ranking, or
    the last elite and any other plan, lie closer than their bounds (and are not the same
    plan), both are computed exactly (:func:`exact_return`, written back to ``returns``) and
    the ranking taken again.
    The best plan's return is made exact too.  Returns how many were computed."""
    n = returns.shape[0]
    known = np.zeros(n, dtype=np.bool_)
    elite = np.zeros(n, dtype=np.bool_)
    settled = 0
    while True:
        select_elites(returns, top_k, idx)
        unsure = np.zeros(n, dtype=np.bool_)
        for j in range(top_k - 1):
            if not _ranked(returns, known, scale, floor, idx[j], idx[j + 1]) and not _same_plan(
                    actions, returns, idx[j], idx[j + 1]):
                unsure[idx[j]] = True
                unsure[idx[j + 1]] = True
        for j in range(top_k):
            elite[idx[j]] = True
        last = idx[top_k - 1]
        for c in range(n):
            if not elite[c] and not _ranked(returns, known, scale, floor, last, c) and not _same_plan(
                    actions, returns, last, c):
                unsure[last] = True
                unsure[c] = True
        for j in range(top_k):
            elite[idx[j]] = False
        todo = 0
        for c in range(n):
            if unsure[c] and not known[c]:
                returns[c] = exact_return(state, actions[c], params)
                known[c] = True
                todo += 1
        settled += todo
        if todo == 0:
            break
    # The order above holds for any returns within the bounds, the best's exact one too.
    if not known[idx[0]]:
        returns[idx[0]] = exact_return(state, actions[idx[0]], params)
        settled += 1
    return settled


@jit
def select_plans(
    state: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    top_k: int,
    idx: np.ndarray,
    exact_params: Any,
    bounded: bool,
) -> None:
    """``idx``: the ``top_k`` best plans, best first, by their exact returns.  ``returns``
    are exact, or with ``bounded`` within ``(2 H + 16) 2**-52 |return| + H 2**-1000`` of the
    exact ones (``H = actions.shape[1]``; see ``fastcem.planning._NativeModel``), settled by
    :func:`certify_elites` under ``exact_params``."""
    if bounded:
        horizon = actions.shape[1]
        certify_elites(state, actions, returns, (2 * horizon + 16) * 2.0**-52, horizon * 2.0**-1000, top_k, idx,
                       exact_params)
    else:
        select_elites(returns, top_k, idx)


@jit
def elite_moments(actions: np.ndarray, idx: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
    """The seed's refit on the elites ``actions[idx]`` (``actions`` flattened to ``(N, H *
    A)``): ``mean`` and ``std`` (``ddof=1``), each the bits numpy's ``mean(axis=0)`` and
    ``std(axis=0, ddof=1)`` give on the stacked elites when ``H * A > 1``: sums over the
    elites in ``idx`` order, the variance from the squared deviations from the mean.  (A
    single column numpy sums pairwise: ``fastcem.planning._moments`` leaves that case to
    numpy.)"""
    top_k = idx.shape[0]
    size = actions.shape[1]
    for i in range(size):
        mean[i] = actions[idx[0], i]
    for e in range(1, top_k):
        for i in range(size):
            mean[i] += actions[idx[e], i]
    for i in range(size):
        mean[i] /= top_k
        d = actions[idx[0], i] - mean[i]
        std[i] = d * d
    for e in range(1, top_k):
        for i in range(size):
            d = actions[idx[e], i] - mean[i]
            std[i] += d * d
    for i in range(size):
        std[i] = np.sqrt(std[i] / (top_k - 1))


@jit
def plan_iterations(
    state: np.ndarray,
    mean: np.ndarray,
    std: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    call: np.uint64,
    k0: np.uint64,
    k1: np.uint64,
    num_iters: int,
    top_k: int,
    params: Any,
    exact_params: Any,
    bounded: bool,
    std_eps: float,
    std_tol: float,
    num_workers: int,
    actions: np.ndarray,
    returns: np.ndarray,
    best_seq: np.ndarray,
) -> float:
    """``fastcem.CEMPlanner.plan``'s iterations for a native model with white noise and the
    seed's refit (no smoothing, no kept elites, no decay) in one call: iteration ``i`` draws
    ``N`` plans from stream ``call | i`` and scores them (:func:`native_returns`, with
    ``params``), picks the ``top_k`` elites (:func:`select_plans`), refits ``mean`` and
    ``std`` in place (:func:`elite_moments`, std plus ``std_eps``), keeps the best plan in
    ``best_seq`` (left as given if no return beats -inf), and stops early when every std is
    below ``std_tol`` (if positive).  Returns the best return.  The same operations as the
    Python loop, so the same bits (the tests compare)."""
    size = mean.shape[0]
    idx = np.empty(top_k, dtype=np.int64)
    new_mean = np.empty(size)
    new_std = np.empty(size)
    best = -np.inf
    for i in range(num_iters):
        native_returns(state, mean, std, low, high, call | np.uint64(i), k0, k1, actions.shape[0], params,
                       num_workers, actions, returns)
        select_plans(state, actions, returns, top_k, idx, exact_params, bounded)
        elite_moments(actions, idx, new_mean, new_std)
        if returns[idx[0]] > best:
            best = returns[idx[0]]
            for j in range(size):
                best_seq[j] = actions[idx[0], j]
        top = -np.inf
        for j in range(size):
            mean[j] = new_mean[j]
            std[j] = new_std[j] + std_eps
            top = max(top, std[j])
        if std_tol > 0.0 and top < std_tol:
            break
    return best
