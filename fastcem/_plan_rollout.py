"""Compiled kernels of the CEM planner: sampling action sequences, scoring them with the
native envs' exact dynamics and rewards (the sampling fused into the rollout, block by
block, so that a batch is one parallel call), and the refit on the elites."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numba import typeof, types

from envs_native._jit import inline, jit, larger, new_array, smaller
from envs_native.modes import Libm

from ._engine import PlanActor, advance, lane_view, state_of, step_lanes, store
from ._parallel import exhaust, run_workers
from ._philox import normal_quad
from ._rollout import barrier, fetch_add
from .selection import select_elites

# Candidates a planning worker rolls out side by side: twice the policy rollouts' LANES (as
# Pendulum's), so that more independent steps are in flight.
LANES = 32


@inline
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
            acts[i, k] = smaller(larger(mean[i] + std[i] * acts[i, k], low[i]), high[i])


@jit
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
    acts = np.empty((4 * ((size + 3) // 4), LANES))
    for b in range(-(-out.shape[0] // LANES)):
        first = b * LANES
        sample_lanes(mean, std, low, high, stream, k0, k1, first, acts)
        for k in range(smaller(LANES, out.shape[0] - first)):
            for i in range(size):
                out[first + k, i] = acts[i, k]


class PlanWorkspace(NamedTuple):
    """A planning worker's lane buffers, allocated by the caller (see
    ``fastcem._rollout.Workspace``)."""

    acts: np.ndarray  # (4 * ceil(horizon / 4), LANES)
    states: np.ndarray  # (state_dim, LANES)
    scratch: np.ndarray  # (state_dim, LANES)
    rewards: np.ndarray
    totals: np.ndarray
    terminated: np.ndarray  # bool
    redo: np.ndarray  # bool
    live: np.ndarray  # bool
    alive: np.ndarray  # bool

    @classmethod
    def new(cls, state_dim: int, horizon: int) -> PlanWorkspace:
        # Zeros, not np.empty: a spare lane steps too, and garbage could be a slow subnormal.
        b = np.bool_
        return cls(np.zeros((4 * ((horizon + 3) // 4), LANES)), np.zeros((state_dim, LANES)),
                   np.zeros((state_dim, LANES)), np.zeros(LANES), np.zeros(LANES), np.zeros(LANES, b),
                   np.zeros(LANES, b), np.zeros(LANES, b), np.zeros(LANES, b))


def worker_signature(state: np.ndarray, params: Any, mode: Any) -> tuple[types.Type, ...]:
    """The argument types for which :func:`plan_iterations` compiles :func:`_plan_worker`
    (from the kernel state ``state``, ``params``' env, in ``mode``)."""
    vector = typeof(np.zeros(1))
    return (typeof(state), vector, vector, vector, vector, types.uint64, types.uint64, types.uint64, types.int64,
            typeof(params), typeof(mode), typeof(np.zeros(1, dtype=np.int64)), typeof(np.zeros((1, 1))), vector,
            typeof(PlanWorkspace.new(1, 1)))


@jit(called=True)
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
    mode: Any,
    queue: np.ndarray,
    actions: np.ndarray,
    out: np.ndarray,
    ws: PlanWorkspace,
) -> None:
    """Take blocks of ``LANES`` candidates from ``queue`` until there are none: sample the
    block's plans (:func:`sample_lanes`; candidates from ``num_sampled`` on are given in
    ``actions`` instead), write them to ``actions``, and roll them out side by side
    (:func:`fastcem._engine.step_lanes`, plan values made env actions by
    :func:`fastcem._engine.plan_action`).  A lane's return adds its rewards in step order and
    stops at termination, exactly as a single rollout does."""
    num_candidates, horizon = actions.shape
    num_blocks = -(-num_candidates // LANES)
    acts = lane_view(ws.acts, LANES)
    states = lane_view(ws.states, LANES)
    next_states = lane_view(ws.scratch, LANES)
    rewards = ws.rewards
    terminated = ws.terminated
    live = ws.live
    alive = ws.alive
    totals = ws.totals
    start = state_of(state.reshape(-1, 1), np.int64(0), params)
    while True:
        b = fetch_add(queue, np.int64(1))
        if b >= num_blocks:
            return
        first = b * LANES
        num = smaller(LANES, num_candidates - first)
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
            store(states, k, start)
            live[k] = k < num  # spare lanes are never redone
            alive[k] = True
            totals[k] = 0.0
        for t in range(horizon):
            step_lanes(states, next_states, PlanActor(acts, t), params, mode, LANES, live, rewards, terminated, ws.redo)
            states, next_states = next_states, states
            for k in range(LANES):
                totals[k] = totals[k] + rewards[k] if alive[k] else totals[k]
                alive[k] = alive[k] & ~terminated[k]
        for k in range(num):
            out[first + k] = totals[k]


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
    mode: Any,
    num_workers: int,
    actions: np.ndarray,
    out: np.ndarray,
) -> None:
    """Sample and score a batch of plans under the native env's exact dynamics and rewards.

    ``actions`` is ``(N, H)`` (one plan value per step): its first ``num_sampled`` rows are
    drawn here from ``N(mean, std)`` clamped to ``[low, high]`` (stream ``stream`` of the
    key, :func:`sample_lanes`), the others are given.  ``out[n]`` is the return of plan ``n``
    from the float64 ``state``, stopping where the env terminates; plan values become env
    actions by :func:`fastcem._engine.plan_action`; ``mode`` is the rollouts' mode
    (:mod:`envs_native.modes`).  ``num_workers`` workers (``nogil`` kernels on as many
    threads) take blocks of candidates from a shared counter; a block's numbers do not
    depend on which worker takes it, so the result is the same for any thread count."""
    queue = np.zeros(1, dtype=np.int64)
    run_workers(num_workers, lambda _: _plan_worker(state, mean, std, low, high, stream, k0, k1, num_sampled,
                                                     params, mode, queue, actions, out,
                                                     PlanWorkspace.new(state.shape[0], actions.shape[1])),
                abort=lambda: exhaust(queue))


@jit(called=True)
def exact_return(state: np.ndarray, plan: np.ndarray, params: Any) -> float:
    """The return of one plan (``(H,)``) from ``state`` in the C library's mode, one step at
    a time as gymnasium takes them."""
    s = state_of(state.reshape(-1, 1), np.int64(0), params)
    values = plan.reshape(-1, 1)
    total = 0.0
    for t in range(plan.shape[0]):
        s, reward, terminated, _, _ = advance(s, np.int64(0), PlanActor(values, t), params, Libm())
        total += reward
        if terminated:
            break
    return total


@inline
def _slack(returns: np.ndarray, known: np.ndarray, scale: float, floor: float, n: int) -> float:
    return 0.0 if known[n] else scale * abs(returns[n]) + floor


@inline
def _ranked(returns: np.ndarray, known: np.ndarray, scale: float, floor: float, a: int, b: int) -> bool:
    """Whether ``a`` is sure to rank before ``b`` (``a`` before ``b`` in ``returns`` order):
    their intervals do not meet, or both returns are exact."""
    return (known[a] & known[b]) or (
        returns[a] - _slack(returns, known, scale, floor, a) > returns[b] + _slack(returns, known, scale, floor, b))


@inline
def _same_plan(actions: np.ndarray, returns: np.ndarray, a: int, b: int) -> bool:
    """Whether ``a`` and ``b`` are the same plan with the same return: then their exact
    returns tie too, and the lower index ranks first either way.  (Called only where
    :func:`_ranked` is not sure, so that the hot loops do not pass the array.)"""
    if returns[a] != returns[b]:
        return False
    for t in range(actions.shape[1]):  # noqa: SIM110 -- compiled, and numba compiles no generator here
        if actions[a, t] != actions[b, t]:
            return False
    return True


@jit(called=True)
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
    # new_array and loops, not np.zeros (see new_array).
    known = new_array(n, np.bool_)
    elite = new_array(n, np.bool_)
    unsure = new_array(n, np.bool_)
    for i in range(n):
        known[i] = False
        elite[i] = False
    settled = 0
    while True:
        select_elites(returns, top_k, idx)
        for i in range(n):
            unsure[i] = False
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


@jit(called=True)
def select_plans(
    state: np.ndarray,
    actions: np.ndarray,
    returns: np.ndarray,
    top_k: int,
    idx: np.ndarray,
    params: Any,
    scale: float,
    floor: float,
) -> None:
    """``idx``: the ``top_k`` best plans, best first, by their exact returns.  ``returns``
    are exact (``scale < 0``), or within ``scale |return| + floor`` of the exact ones (the
    env's ``reward_bound``), settled by :func:`certify_elites`."""
    if scale >= 0.0:
        certify_elites(state, actions, returns, scale, floor, top_k, idx, params)
    else:
        select_elites(returns, top_k, idx)


@jit(called=True)
def elite_moments(actions: np.ndarray, idx: np.ndarray, mean: np.ndarray, std: np.ndarray) -> None:
    """The reference planner's refit on the elites ``actions[idx]`` (``actions`` flattened to ``(N, H *
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
    worker: int,
    num_workers: int,
    sync: np.ndarray,
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
    mode: Any,
    scale: float,
    floor: float,
    std_eps: float,
    std_tol: float,
    actions: np.ndarray,
    returns: np.ndarray,
    best_seq: np.ndarray,
    best: np.ndarray,
    ws: PlanWorkspace,
) -> None:
    """Worker ``worker`` of ``num_workers`` (each a thread running this kernel) of
    ``fastcem.CEMPlanner.plan``'s iterations for a native model with white noise and the
    reference planner's refit (no smoothing, no kept elites, no decay): iteration ``i`` draws ``N``
    plans from stream ``call | i`` and scores them (every worker takes blocks of
    candidates, :func:`_plan_worker`, in ``mode``); then worker 0 alone picks the ``top_k``
    elites (:func:`select_plans` with the bound ``scale``, ``floor``), refits ``mean`` and
    ``std`` in place (:func:`elite_moments`, std plus ``std_eps``), keeps the best plan in
    ``best_seq`` and its return in ``best[0]`` (left as given if no return beats -inf), and
    stops early when every std is below ``std_tol`` (if positive).  The workers meet at a
    barrier after the rollouts and after the refit (``sync``: ``[barrier count, stop flag,
    block queue of iteration 0, 1, ...]``, zeros).  The same operations as the Python loop,
    so the same bits (the tests compare)."""
    size = mean.shape[0]
    idx = new_array(top_k, np.int64)
    new_mean = new_array(size, np.float64)
    new_std = new_array(size, np.float64)
    met = 0
    for i in range(num_iters):
        _plan_worker(state, mean, std, low, high, call | np.uint64(i), k0, k1, actions.shape[0], params, mode,
                     sync[2 + i:3 + i], actions, returns, ws)
        met += 1
        barrier(sync, num_workers * met)
        if worker == 0:
            select_plans(state, actions, returns, top_k, idx, params, scale, floor)
            elite_moments(actions, idx, new_mean, new_std)
            if returns[idx[0]] > best[0]:
                best[0] = returns[idx[0]]
                for j in range(size):
                    best_seq[j] = actions[idx[0], j]
            top = -np.inf
            for j in range(size):
                mean[j] = new_mean[j]
                std[j] = new_std[j] + std_eps
                top = larger(top, std[j])
            sync[1] = std_tol > 0.0 and top < std_tol
        met += 1
        barrier(sync, num_workers * met)
        if sync[1]:
            break
