"""Compiled rollouts of linear and network policies on the native envs: the population
kernel and the recorder, both stepping through :func:`fastcem._engine.step_lanes`.

The kernels are compiled per env (the type of its params), per mode
(:mod:`envs_native.modes`) and per policy; nothing is allocated per step.  The linear
policy acts on the float32 observation a gymnasium user sees, its affine map in float64 in
one fixed order (:func:`fastcem._engine.affine`).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import typeof, types
from numba.extending import intrinsic

from envs_native._jit import constant, inline, jit, smaller
from envs_native.modes import CERTAIN, Libm
from envs_native.spec import spec_of_params

from ._engine import (
    GivenActor,
    MLPActor,
    PolicyActor,
    Relu,
    Tanh,
    advance,
    column_order,
    env_observation,
    lane_view,
    load_weights,
    mlp_lanes,
    network_lanes,
    one_at_a_time,
    redo_lane,
    redo_signature,
    spec_lanes,
    state_of,
    step_policy,
    store,
    with_lanes,
)
from ._parallel import exhaust, fetch_add, run_workers
from .mlp import MLP

# --- a shared job counter ----------------------------------------------------------------


@inline
def barrier(sync: np.ndarray, target: int) -> None:
    """Arrive at a barrier of workers on ``sync[0]`` and wait until ``target`` arrivals have
    been counted (the ``b``-th barrier of ``W`` workers: ``target = W * b``)."""
    fetch_add(sync, np.int64(1))
    while fetch_add(sync, np.int64(0)) < target:
        pass


@intrinsic
def trailing_zeros(typingctx, x):
    """The number of trailing zero bits of a nonzero uint64 (``llvm.cttz``): the index of its
    lowest set bit."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.cttz(args[0], ir.Constant(ir.IntType(1), 1))

    return types.int64(types.uint64), codegen


@inline
def _next_job(queue: np.ndarray, cursor: np.ndarray, num_jobs: int) -> int:
    """The next job for this worker, or -1: jobs are taken from the shared ``queue`` counter
    ``CHUNK`` at a time and handed out from ``cursor = [next, end]``."""
    if cursor[0] == cursor[1]:
        start = fetch_add(queue, np.int64(CHUNK))
        cursor[0] = smaller(start, num_jobs)
        cursor[1] = smaller(start + CHUNK, num_jobs)
    if cursor[0] == cursor[1]:
        return -1
    job = cursor[0]
    cursor[0] += 1
    return job


# --- lockstep lanes ----------------------------------------------------------------------

# Each worker steps policy_lanes(actor, params) episodes side by side (fastcem._engine.step_lanes).  A
# lane whose episode ends takes the next job; once the queue is empty and at most a quarter of
# the lanes are left, they are finished one by one instead of dragging the whole block along.
# Jobs taken from the shared counter at once: one atomic per CHUNK episodes.
CHUNK = 16


@inline
def _load_lane(k: int, job: int, thetas: np.ndarray, init_states: np.ndarray, lane_cand: np.ndarray,
               lane_ep: np.ndarray, states: np.ndarray, weights: np.ndarray, actor: Any) -> None:
    """Put job ``job`` (candidate ``job // E``, episode ``job % E``) in lane ``k``."""
    num_episodes = init_states.shape[1]
    p = job // num_episodes
    e = job - p * num_episodes
    lane_cand[k] = p
    lane_ep[k] = e
    row = init_states[0 if init_states.shape[0] == 1 else p, e]
    for i in range(states.shape[0]):
        states[i, k] = row[i]
    load_weights(actor, weights, k, thetas, p)


@jit(called=True)
def play_lane(actor: Any, k: int, states: np.ndarray, params: Any, mode: Any, total: float, steps: int,
              max_steps: int) -> float:
    """Finish the episode in lane ``k`` (its state in ``states[:, k]``, ``total`` earned in
    ``steps`` steps so far) one step at a time in the lanes' arithmetic
    (:func:`~fastcem._engine.one_at_a_time`); returns its return.  Which episodes a worker
    finishes here depends on timing, so their bits must be the lanes' (the fast mode's
    included)."""
    state = state_of(states, k, params)
    scalar = one_at_a_time(mode)
    while True:
        state, reward, terminated, _, _ = advance(state, k, actor, params, scalar)
        total += reward
        steps += 1
        if terminated or steps == max_steps:
            return total


class Workspace(NamedTuple):
    """One worker's lane buffers (one column per lane), allocated by the caller: a kernel
    that allocates compiles numba's allocation code for every array type."""

    states: np.ndarray  # (state_dim, lanes)
    scratch: np.ndarray  # (state_dim, lanes)
    weights: np.ndarray  # (policy_dim, lanes)
    rewards: np.ndarray
    returns: np.ndarray
    terminated: np.ndarray  # bool
    redo: np.ndarray  # bool
    live: np.ndarray  # bool
    steps: np.ndarray  # int64
    candidate: np.ndarray  # int64
    episode: np.ndarray  # int64
    cursor: np.ndarray  # int64, (2,)

    @classmethod
    def new(cls, state_dim: int, policy_dim: int, lanes: int, policy: MLP | None = None) -> Workspace:
        """Buffers for ``lanes`` lanes; the policy's parameters (``weights``) in float64 for
        the linear policy (None), in a network's type for a network."""
        weight_type = np.float64 if policy is None else policy.np_dtype
        # Zeros, not np.empty: an idle lane keeps stepping, and garbage could be a subnormal
        # number, which is slow.
        f, b, i = np.float64, np.bool_, np.int64
        return cls(np.zeros((state_dim, lanes)), np.zeros((state_dim, lanes)),
                   np.zeros((policy_dim, lanes), weight_type),
                   np.zeros(lanes, f), np.zeros(lanes, f), np.zeros(lanes, b), np.zeros(lanes, b), np.zeros(lanes, b),
                   np.zeros(lanes, i), np.zeros(lanes, i), np.zeros(lanes, i), np.zeros(2, i))


@constant
def policy_lanes(actor, params):
    """Episodes a worker steps side by side with this policy (a constant): the env's lanes
    for the linear policy; the network's (:func:`fastcem._engine.network_lanes`)."""
    if getattr(actor, "instance_class", None) is MLPActor:
        return mlp_lanes(actor)
    return spec_lanes(params)


@constant
def tail_lanes(actor, params):
    """Live lanes at most of which a worker with no more jobs finishes one at a time (a
    constant): a quarter of the linear policy's lanes, where one vector step costs what
    that many scalar steps do; none for a network, whose lanes side by side cost about what
    one lane alone does (each reads its own weights either way)."""
    if getattr(actor, "instance_class", None) is MLPActor:
        return 0
    lanes = spec_lanes(params)
    return None if lanes is None else lanes // 4


@jit
def _worker(thetas: np.ndarray, init_states: np.ndarray, params: Any, mode: Any, max_steps: int,
            queue: np.ndarray, returns: np.ndarray, ws: Workspace, actor: Any) -> None:
    """Play jobs from ``queue`` until there are none, writing each episode's return to
    ``returns[candidate, episode]``; ``ws`` holds ``policy_lanes(actor, params)`` lanes and
    ``actor`` the policy of ``ws.weights``."""
    num_jobs = returns.shape[0] * returns.shape[1]
    lanes = policy_lanes(actor, params)
    if ws.live.shape[0] != lanes:
        # The lane count is compiled in; a stale cached kernel must not write past the buffers
        # (lane_view checks the 2-D ones).
        raise ValueError("workspace and compiled lane count differ: clear numba's cache")
    states = lane_view(ws.states, lanes)
    next_states = lane_view(ws.scratch, lanes)
    weights = lane_view(ws.weights, lanes)
    actor = with_lanes(actor, weights)
    live = ws.live
    terminated = ws.terminated
    lane_ret = ws.returns
    lane_steps = ws.steps
    num_live = 0
    for k in range(lanes):
        job = _next_job(queue, ws.cursor, num_jobs)
        if job < 0:
            break
        _load_lane(k, job, thetas, init_states, ws.candidate, ws.episode, states, weights, actor)
        live[k] = True
        num_live += 1
    queue_empty = num_live < lanes
    while num_live > 0 and not (queue_empty and num_live <= tail_lanes(actor, params)):
        step_policy(states, next_states, actor, params, mode, lanes, live, ws.rewards, terminated, ws.redo)
        states, next_states = next_states, states
        # The live lanes whose episode ended, as bits: short episodes end lanes at most steps,
        # and visiting only those beats scanning all the lanes.
        ended = np.uint64(0)
        for k in range(lanes):
            lane_ret[k] += ws.rewards[k]
            lane_steps[k] += 1
            done = terminated[k] | (lane_steps[k] == max_steps)
            ended |= np.uint64(done & live[k]) << np.uint64(k)
        while ended != 0:
            k = trailing_zeros(ended)
            ended &= ended - np.uint64(1)
            returns[ws.candidate[k], ws.episode[k]] = lane_ret[k]
            lane_ret[k] = 0.0
            lane_steps[k] = 0
            job = -1 if queue_empty else _next_job(queue, ws.cursor, num_jobs)
            if job >= 0:
                _load_lane(k, job, thetas, init_states, ws.candidate, ws.episode, states, weights, actor)
            else:
                queue_empty = True
                live[k] = False
                num_live -= 1
                for i in range(states.shape[0]):
                    states[i, k] = 0.0
                for i in range(weights.shape[0]):
                    weights[i, k] = 0.0
    # The last few lanes, one at a time.  After the lane loop in the source, so that numba
    # compiles the stepper first and play_lane last: the command line compiles that one in
    # its second process meanwhile (fastcem._ahead).
    for k in range(lanes):
        if live[k]:
            returns[ws.candidate[k], ws.episode[k]] = play_lane(actor, k, states, params, mode, lane_ret[k],
                                                                lane_steps[k], max_steps)


def make_actor(policy: MLP | None, ws: Workspace, obs_dim: int, act_dim: int, discrete: bool) -> Any:
    """The actor of ``policy`` (None: the linear one) in workspace ``ws``, whose ``weights``
    hold each lane's parameters in its column (a network's in its type, in
    :func:`~fastcem._engine.column_order`), with the scratch it needs."""
    if policy is None:
        return PolicyActor(ws.weights)
    sizes = np.array(policy.sizes(obs_dim, act_dim), dtype=np.int64)
    lanes = ws.live.shape[0]
    width = int(sizes.max())
    actions = np.zeros(lanes, dtype=np.int64 if discrete else np.float64)
    dtype = policy.np_dtype
    if ws.weights.dtype != dtype:
        raise TypeError(f"the workspace holds {ws.weights.dtype} weights, the network computes in {policy.dtype}")
    return MLPActor(ws.weights, column_order(tuple(sizes)), sizes, np.zeros(lanes * width, dtype),
                    np.zeros(lanes * width, dtype), actions, Tanh() if policy.activation == "tanh" else Relu(),
                    (0,) * lanes)


def worker_lanes(policy: MLP | None, lanes: int, obs_dim: int, act_dim: int) -> int:
    """Lanes of a worker: the env's ``lanes`` for the linear policy, the network's
    (:func:`fastcem._engine.network_lanes`) for a network."""
    if policy is None:
        return lanes
    return network_lanes(policy.num_params(obs_dim, act_dim) * np.dtype(policy.np_dtype).itemsize)


def ahead_kernels(params: Any, mode: Any, policy: MLP | None = None) -> list[tuple[Any, tuple[types.Type, ...]]]:
    """The kernels :func:`evaluate_population`'s worker links for ``params``' env, ``mode`` and
    ``policy``, with the argument types it passes them, in the order numba comes to them: the
    lane redo (:func:`fastcem._engine.redo_lane`, none in a mode whose every value is final)
    and :func:`play_lane`.  The command line compiles them in a second process ahead of the
    worker (:mod:`fastcem._ahead`)."""
    spec = spec_of_params(type(params))
    if spec is None:
        raise TypeError(f"params must be a registered env's parameters, got {type(params).__name__}")
    lanes = worker_lanes(policy, spec.lanes, spec.obs_dim, spec.act_dim)
    ws = Workspace.new(1, 1, lanes, policy)
    actor = make_actor(policy, ws, spec.obs_dim, spec.act_dim, spec.discrete)
    play = (play_lane, (typeof(actor), types.int64, typeof(ws.states), typeof(params), typeof(mode), types.float64,
                        types.int64, types.int64))
    if type(mode) in CERTAIN:
        return [play]
    # A network's lanes step with the actions it computed (fastcem._engine._network_step).
    stepping = actor if policy is None else GivenActor(actor.actions, np.int64(0))
    return [(redo_lane, redo_signature(ws.states, stepping, params, ws.rewards, ws.redo)), play]


def evaluate_population(thetas: np.ndarray, init_states: np.ndarray, params: Any, mode: Any, max_steps: int,
                        num_workers: int, out: np.ndarray, policy: MLP | None = None) -> None:
    """``out[p]`` = mean return of ``thetas[p]`` over the episodes starting at ``init_states``,
    stepped in ``mode``.

    ``init_states`` is ``(1 or P, E, state_dim)``: one set of start states shared by every
    candidate, or one per candidate.  ``num_workers`` workers (``nogil`` kernels on as many
    threads) take the ``P * E`` episodes from a shared counter, so a thread whose episodes
    end early takes more.  Each episode's return depends only on its own candidate and start
    state, and the mean adds a candidate's returns in episode order, so the result is the
    same bits whichever thread plays which episode, for any thread count.
    """
    spec = spec_of_params(type(params))
    if spec is None:
        raise TypeError(f"params must be a registered env's parameters, got {type(params).__name__}")
    returns = np.empty((thetas.shape[0], init_states.shape[1]))
    queue = np.zeros(1, dtype=np.int64)
    lanes = worker_lanes(policy, spec.lanes, spec.obs_dim, spec.act_dim)

    # A worker per ``lanes`` episodes at most: starting a thread costs about 0.1 ms, more than
    # a small population's episodes.
    workers = min(num_workers, -(-returns.size // lanes))
    # Every worker's buffers are made here, before any starts, so that no worker holds the
    # GIL making its own while another waits to start.
    spaces = [Workspace.new(init_states.shape[2], thetas.shape[1], lanes, policy) for _ in range(workers)]
    actors = [make_actor(policy, ws, spec.obs_dim, spec.act_dim, spec.discrete) for ws in spaces]

    def work(w: int) -> None:
        _worker(thetas, init_states, params, mode, max_steps, queue, returns, spaces[w], actors[w])

    run_workers(workers, work, abort=lambda: exhaust(queue))
    total = returns[:, 0].copy()
    for e in range(1, returns.shape[1]):
        total += returns[:, e]
    out[:] = total / returns.shape[1]


@jit
def record_episode(actor: Any, init_state: np.ndarray, params: Any, mode: Any, max_steps: int,
                   states: np.ndarray, observations: np.ndarray, actions: np.ndarray,
                   rewards: np.ndarray) -> tuple[float, int, bool]:
    """Play one episode of the policy ``theta`` (1-D) in ``mode`` (a step it cannot certify
    taken in the C library's), writing every step to the arrays.

    ``states`` and ``observations`` have ``max_steps + 1`` rows (the last is the final
    state), ``actions`` and ``rewards`` ``max_steps``.  Returns ``(return, steps,
    terminated)``; the arithmetic is that of the population kernel's lanes.
    """
    state = state_of(init_state.reshape(-1, 1), np.int64(0), params)
    ret = 0.0
    terminated = False
    t = np.int64(0)
    while True:
        store(states.T, t, state)
        obs, ok = env_observation(state, params, mode)
        if not ok:
            obs = env_observation(state, params, Libm())[0]
        store(observations.T, t, obs)
        if terminated or t == max_steps:
            return ret, t, terminated
        next_state, reward, terminated, ok, action = advance(state, np.int64(0), actor, params, mode)
        if not ok:
            next_state, reward, terminated, _, action = advance(state, np.int64(0), actor, params, Libm())
        state = next_state
        actions[t] = action
        rewards[t] = reward
        ret += reward
        t += 1
