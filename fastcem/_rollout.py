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
from numba.core import cgutils
from numba.extending import intrinsic, overload

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


def env_trig(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The env's C-library calls for ``state`` (``cos``/``sin`` of the angle)."""
    raise NotImplementedError


def env_trig_lane(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """``(env_trig(state), ok)`` of the exact mode as vector code; where ``ok`` is False,
    call ``env_trig``."""
    raise NotImplementedError


def env_trig_glibc(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """:func:`env_trig_lane` from ``envs_native._glibc_trig``, for ``params.glibc_trig``."""
    raise NotImplementedError


def env_trig_step_glibc(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """:func:`env_trig_glibc` where the observation is not needed, only the step's part."""
    raise NotImplementedError


def env_trig_fast(state: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """``env_trig(state)`` of the fast mode."""
    raise NotImplementedError


def env_step(state: Any, action: Any, trig: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """``(next_state, reward, terminated)`` of the env that ``params`` belongs to, given ``env_trig(state)``."""
    raise NotImplementedError


def env_step_lane(state: Any, action: Any, trig: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """``(next_state, reward, terminated, exact)``: ``env_step`` without slow paths; where
    ``exact`` is False the reward must come from ``env_step``."""
    raise NotImplementedError


def env_lanes(params: Any) -> Any:  # pragma: no cover - compiled only
    """How many episodes a policy-rollout worker steps side by side for this env (a constant)."""
    raise NotImplementedError


def env_observe(state: Any, trig: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The float32 observation tuple of ``state``, given ``env_trig(state)``."""
    raise NotImplementedError


def state_of(states: Any, k: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The state tuple held in column ``k`` of a ``(state_dim, lanes)`` array."""
    raise NotImplementedError


def policy_action(weights: Any, k: Any, obs: Any, params: Any) -> Any:  # pragma: no cover
    """Action of the seed's linear policy in column ``k`` of ``weights``: argmax for discrete
    envs, clipped torque for Pendulum."""
    raise NotImplementedError


def _overload_trig(stub: Any, name: str, takes_params: bool) -> None:
    """Give ``stub(state, params)`` the body ``<env>.<name>(state, params)`` (or
    ``<env>.<name>(state)`` for the variants that need no params), ``<env>`` the module that
    ``params`` belongs to."""

    def typer(state, params):  # noqa: ANN
        env = _env_of(params)
        if env is None:
            return None
        fn = getattr(env, name)
        if takes_params:
            return lambda state, params: fn(state, params)
        return lambda state, params: fn(state)

    overload(stub, jit_options=_OVERLOAD_OPTIONS, inline="always")(typer)


for _stub, _name, _takes_params in ((env_trig, "trig", True), (env_trig_lane, "trig_lane", True),
                                    (env_trig_glibc, "trig_glibc", False),
                                    (env_trig_step_glibc, "trig_step_glibc", False),
                                    (env_trig_fast, "trig_fast", False)):
    _overload_trig(_stub, _name, _takes_params)


@overload(env_step, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_step(state, action, trig, params):  # noqa: ANN
    env = _env_of(params)
    if env is None:
        return None
    step_trig = env.step_trig
    return lambda state, action, trig, params: step_trig(state, action, trig, params)


@overload(env_step_lane, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_step_lane(state, action, trig, params):  # noqa: ANN
    env = _env_of(params)
    if env is None:
        return None
    step_lane = env.step_lane
    return lambda state, action, trig, params: step_lane(state, action, trig, params)


@overload(env_lanes, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_lanes(params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        return lambda params: LANES
    if env is pendulum:
        # Pendulum's episodes all run 200 steps and its step is a longer chain of dependent
        # operations (sin, then the dynamics): twice the lanes keep more of them in flight.
        return lambda params: 2 * LANES
    return None


@overload(env_observe, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_env_observe(state, trig, params):  # noqa: ANN
    env = _env_of(params)
    if env is None:
        return None
    observe_trig = env.observe_trig
    return lambda state, trig, params: observe_trig(state, trig)


@overload(state_of, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_state_of(states, k, params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        return lambda states, k, params: (states[0, k], states[1, k], states[2, k], states[3, k])
    if env is pendulum:
        return lambda states, k, params: (states[0, k], states[1, k])
    return None


@jit(inline="always")
def affine(weights: np.ndarray, k: int, obs: Any, j: int, act_dim: int) -> float:
    """``b_j + sum_i obs_i * W_ij`` for ``theta = weights[:, k]``, in float64, ``i`` ascending.

    ``W = theta[:obs_dim * act_dim].reshape(obs_dim, act_dim)`` and ``b = theta[obs_dim *
    act_dim:]``, the seed's layout.  The parameters are held parameter-major (one column per
    lane) so that lanes side by side read consecutive memory, which LLVM vectorizes.
    """
    s = obs[0] * weights[j, k]
    for i in range(1, len(obs)):
        s += obs[i] * weights[i * act_dim + j, k]
    return weights[len(obs) * act_dim + j, k] + s


@jit(inline="always")
def argmax_action(weights: np.ndarray, k: int, obs: Any, num_actions: int) -> int:
    """``argmax(y)`` with numpy's rules: the first maximum, or the first NaN if there is one.

    Written with selects instead of early returns, so that lanes vectorize."""
    best = 0
    y_best = affine(weights, k, obs, 0, num_actions)
    seen_nan = y_best != y_best
    for j in range(1, num_actions):
        y = affine(weights, k, obs, j, num_actions)
        take = (not seen_nan) and ((y != y) or (y > y_best))
        best = j if take else best
        y_best = y if take else y_best
        seen_nan = seen_nan or (y != y)
    return best


@overload(policy_action, jit_options=_OVERLOAD_OPTIONS, inline="always")
def _ol_policy_action(weights, k, obs, params):  # noqa: ANN
    env = _env_of(params)
    if env is cartpole:
        num_actions = cartpole.NUM_ACTIONS
        return lambda weights, k, obs, params: argmax_action(weights, k, obs, num_actions)
    if env is pendulum:

        def impl(weights, k, obs, params):  # type: ignore[no-untyped-def]
            # The seed clips to the action space's bounds, [-max_torque, max_torque]; NaN
            # passes through, as with np.clip.
            y = affine(weights, k, obs, 0, 1)
            if y < -params.max_torque:
                return -params.max_torque
            if y > params.max_torque:
                return params.max_torque
            return y

        return impl
    return None


# --- a shared job counter ----------------------------------------------------------------


@intrinsic
def _fetch_add(typingctx, counter, amount):  # type: ignore[no-untyped-def]  # noqa: ANN
    """Atomically add ``amount`` to ``counter[0]`` (an int64 array) and return its old value."""
    if not (isinstance(counter, types.Array) and counter.dtype == types.int64 and amount == types.int64):
        return None
    sig = types.int64(counter, amount)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, signature.args[0], ary, [context.get_constant(types.intp, 0)])
        return builder.atomic_rmw("add", ptr, args[1], "monotonic")

    return sig, codegen


@jit(inline="always")
def _next_job(queue: np.ndarray, cursor: np.ndarray, num_jobs: int) -> int:
    """The next job for this worker, or -1: jobs are taken from the shared ``queue`` counter
    ``CHUNK`` at a time and handed out from ``cursor = [next, end]``."""
    if cursor[0] == cursor[1]:
        start = _fetch_add(queue, np.int64(CHUNK))
        cursor[0] = min(start, num_jobs)
        cursor[1] = min(start + CHUNK, num_jobs)
    if cursor[0] == cursor[1]:
        return -1
    job = cursor[0]
    cursor[0] += 1
    return job


# --- lockstep lanes ----------------------------------------------------------------------

# Each worker steps LANES episodes side by side (Pendulum twice as many, :func:`env_lanes`),
# structure-of-arrays (one column per lane): first sin/cos of every lane as vector code:
# glibc's own operations where the C library is that code (envs_native._glibc_trig),
# elsewhere values proved to be the C library's bits and the C library itself for the few
# lanes not proved (envs_native._sincos); then the rest of the step -- observation, policy,
# dynamics, reward, termination -- as one loop over the lanes without branches or calls,
# which LLVM turns into vector instructions.  Elementwise IEEE operations give the same bits
# in a vector register as in a scalar one (fast-math stays off: no fused multiply-adds), so
# each lane computes exactly what ``play_lane`` and gymnasium compute.  A lane whose episode
# ends takes the next job; once the queue is empty and at most a quarter of the lanes are
# left, they are finished one by one instead of dragging the whole block along.
LANES = 16
# Jobs taken from the shared counter at once: one atomic per CHUNK episodes.
CHUNK = 16


@jit(inline="always")
def _load_lane(
    k: int,
    job: int,
    thetas: np.ndarray,
    init_states: np.ndarray,
    lane_cand: np.ndarray,
    lane_ep: np.ndarray,
    states: np.ndarray,
    weights: np.ndarray,
) -> None:
    """Put job ``job`` (candidate ``job // E``, episode ``job % E``) in lane ``k``."""
    num_episodes = init_states.shape[1]
    p = job // num_episodes
    e = job - p * num_episodes
    lane_cand[k] = p
    lane_ep[k] = e
    row = init_states[0 if init_states.shape[0] == 1 else p, e]
    for i in range(states.shape[0]):
        states[i, k] = row[i]
    for i in range(weights.shape[0]):
        weights[i, k] = thetas[p, i]


@jit(inline="always")
def _store(states: np.ndarray, k: int, state: Any) -> None:
    for i in range(len(state)):
        states[i, k] = state[i]


@jit
def play_lane(
    weights: np.ndarray, k: int, states: np.ndarray, params: Any, total: float, steps: int, max_steps: int
) -> float:
    """Finish the episode in lane ``k`` (its state in ``states[:, k]``, ``total`` earned in
    ``steps`` steps so far) one step at a time; returns the episode's return."""
    state = state_of(states, k, params)
    while True:
        trig = env_trig(state, params)
        action = policy_action(weights, k, env_observe(state, trig, params), params)
        state, reward, terminated = env_step(state, action, trig, params)
        total += reward
        steps += 1
        if terminated or steps == max_steps:
            return total


@jit(inline="always")
def _put_trig(trig0: np.ndarray, trig1: np.ndarray, trig_ok: np.ndarray, k: int, result: Any) -> bool:
    """Store lane ``k``'s ``(trig, ok)``; returns whether the lane is left to the C library."""
    (c, s), ok = result
    trig0[k] = c
    trig1[k] = s
    trig_ok[k] = ok
    return not ok


@jit(inline="always")
def lane_trig(states: np.ndarray, params: Any, trig0: np.ndarray, trig1: np.ndarray, trig_ok: np.ndarray,
              lanes: int, observed: bool = True) -> None:
    """``trig0[k], trig1[k] = env_trig(state of lane k)`` for the ``lanes`` lanes (a constant
    of the caller, so that LLVM knows the trip count): first as one vector loop
    (:func:`env_trig_lane`), then the C library for the few lanes it leaves.  The fast
    mode's loop is a separate one, so that each vectorizes on its own.  ``observed=False``
    (a constant): only what the step uses is computed (a planning rollout)."""
    any_slow = False
    if params.fast:
        for k in range(lanes):
            trig = env_trig_fast(state_of(states, k, params), params)
            trig0[k] = trig[0]
            trig1[k] = trig[1]
    elif params.glibc_trig and not observed:
        for k in range(lanes):
            any_slow |= _put_trig(trig0, trig1, trig_ok, k, env_trig_step_glibc(state_of(states, k, params), params))
    elif params.glibc_trig:
        for k in range(lanes):
            any_slow |= _put_trig(trig0, trig1, trig_ok, k, env_trig_glibc(state_of(states, k, params), params))
    else:
        for k in range(lanes):
            any_slow |= _put_trig(trig0, trig1, trig_ok, k, env_trig_lane(state_of(states, k, params), params))
    if any_slow:
        for k in range(lanes):
            if not trig_ok[k]:
                trig = env_trig(state_of(states, k, params), params)
                trig0[k] = trig[0]
                trig1[k] = trig[1]


@jit(inline="always")
def redo_rewards(
    prev_states: np.ndarray,
    actions: np.ndarray,
    trig0: np.ndarray,
    trig1: np.ndarray,
    params: Any,
    inexact: np.ndarray,
    rewards: np.ndarray,
    lanes: int,
) -> None:
    """Redo, one by one, the lane steps (of the first ``lanes``) whose reward needs a slow
    path (a libm call), from the lane's state before the step, its action and its
    :func:`env_trig`."""
    for k in range(lanes):
        if inexact[k]:
            state = state_of(prev_states, k, params)
            rewards[k] = env_step(state, actions[k], (trig0[k], trig1[k]), params)[1]


@jit
def _worker(
    thetas: np.ndarray,
    init_states: np.ndarray,
    params: Any,
    max_steps: int,
    queue: np.ndarray,
    returns: np.ndarray,
) -> None:
    """Play jobs from ``queue`` until there are none, writing each episode's return to
    ``returns[candidate, episode]``."""
    num_jobs = returns.shape[0] * returns.shape[1]
    lanes = env_lanes(params)
    cursor = np.zeros(2, dtype=np.int64)
    # Zeros, not np.empty: an idle lane keeps stepping, and garbage could be a subnormal
    # number, which is slow.
    states = np.zeros((init_states.shape[2], lanes))
    weights = np.zeros((thetas.shape[1], lanes))
    prev_states = np.zeros_like(states)
    trig0 = np.zeros(lanes)
    trig1 = np.zeros(lanes)
    trig_ok = np.zeros(lanes, dtype=np.bool_)
    lane_reward = np.zeros(lanes)
    lane_inexact = np.zeros(lanes, dtype=np.bool_)
    lane_action = np.zeros(lanes)
    lane_ret = np.zeros(lanes)
    lane_steps = np.zeros(lanes, dtype=np.int64)
    lane_cand = np.zeros(lanes, dtype=np.int64)
    lane_ep = np.zeros(lanes, dtype=np.int64)
    lane_done = np.zeros(lanes, dtype=np.bool_)
    live = np.zeros(lanes, dtype=np.bool_)
    num_live = 0
    for k in range(lanes):
        job = _next_job(queue, cursor, num_jobs)
        if job < 0:
            break
        _load_lane(k, job, thetas, init_states, lane_cand, lane_ep, states, weights)
        live[k] = True
        num_live += 1
    queue_empty = num_live < lanes
    while num_live > 0:
        if queue_empty and num_live <= lanes // 4:
            for k in range(lanes):
                if live[k]:
                    returns[lane_cand[k], lane_ep[k]] = play_lane(
                        weights, k, states, params, lane_ret[k], lane_steps[k], max_steps
                    )
            return
        lane_trig(states, params, trig0, trig1, trig_ok, lanes)
        any_done = False
        any_inexact = False
        for k in range(lanes):
            state = state_of(states, k, params)
            trig = (trig0[k], trig1[k])
            action = policy_action(weights, k, env_observe(state, trig, params), params)
            next_state, reward, terminated, exact = env_step_lane(state, action, trig, params)
            if not exact:  # constant True for envs without slow paths: compiled away
                _store(prev_states, k, state)
                lane_action[k] = action
            _store(states, k, next_state)
            lane_reward[k] = reward
            # An idle lane's steps do not count (its zero state would always look inexact).
            inexact = (not exact) & live[k]
            lane_inexact[k] = inexact
            any_inexact |= inexact
            lane_steps[k] += 1
            done = terminated | (lane_steps[k] == max_steps)
            lane_done[k] = done
            any_done |= done
        if any_inexact:
            redo_rewards(prev_states, lane_action, trig0, trig1, params, lane_inexact, lane_reward, lanes)
        for k in range(lanes):
            lane_ret[k] += lane_reward[k]
        if not any_done:
            continue
        for k in range(lanes):
            if not (lane_done[k] and live[k]):
                continue
            returns[lane_cand[k], lane_ep[k]] = lane_ret[k]
            lane_ret[k] = 0.0
            lane_steps[k] = 0
            job = -1 if queue_empty else _next_job(queue, cursor, num_jobs)
            if job >= 0:
                _load_lane(k, job, thetas, init_states, lane_cand, lane_ep, states, weights)
            else:
                queue_empty = True
                live[k] = False
                num_live -= 1
                states[:, k] = 0.0
                weights[:, k] = 0.0


@jit(parallel=True)
def evaluate_population(
    thetas: np.ndarray,
    init_states: np.ndarray,
    params: Any,
    max_steps: int,
    num_workers: int,
    out: np.ndarray,
) -> None:
    """``out[p]`` = mean return of ``thetas[p]`` over the episodes starting at ``init_states``.

    ``init_states`` is ``(1 or P, E, state_dim)``: one set of start states shared by every
    candidate, or one per candidate.  ``num_workers`` workers (one per thread) take the
    ``P * E`` episodes from a shared counter, so a thread whose episodes end early takes
    more.  Each episode's return depends only on its own candidate and start state, and the
    mean adds a candidate's returns in episode order, so the result is the same bits
    whichever thread plays which episode, for any thread count.
    """
    num_candidates = thetas.shape[0]
    num_episodes = init_states.shape[1]
    returns = np.empty((num_candidates, num_episodes))
    queue = np.zeros(1, dtype=np.int64)
    for _ in prange(num_workers):
        _worker(thetas, init_states, params, max_steps, queue, returns)
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
    weights = theta.reshape(-1, 1)
    state = state_of(init_state.reshape(-1, 1), 0, params)
    ret = 0.0
    terminated = False
    t = 0
    while True:
        # One call site of each inlined env function (numba's IR checks trip on two).
        trig = env_trig(state, params)
        obs = env_observe(state, trig, params)
        _store(states.T, t, state)
        _store(observations.T, t, obs)
        if terminated or t == max_steps:
            return ret, t, terminated
        action = policy_action(weights, 0, obs, params)
        actions[t] = action
        state, reward, terminated = env_step(state, action, trig, params)
        rewards[t] = reward
        ret += reward
        t += 1


@jit
def linear_action(theta: np.ndarray, obs: np.ndarray, params: Any) -> Any:
    """The action of the linear policy ``theta`` (1-D) for one observation array: the same
    compiled arithmetic as the rollouts, for driving an env from Python (a real gymnasium
    env in :mod:`fastcem._gym`)."""
    return policy_action(theta.reshape(-1, 1), 0, obs, params)


@jit
def linear_outputs(theta: np.ndarray, obs: np.ndarray, act_dim: int) -> np.ndarray:
    """``obs @ W + b`` of the linear policy ``theta`` (1-D) for a 1-D float32 observation of
    any length, in the documented order: the affine map of every rollout here, for envs
    without native kernels (``fastcem.evaluate_gym``)."""
    weights = theta.reshape(-1, 1)
    out = np.empty(act_dim)
    for j in range(act_dim):
        out[j] = affine(weights, 0, obs, j, act_dim)
    return out
