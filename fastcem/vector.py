"""A gymnasium ``VectorEnv`` on the native kernels: ``fastcem.make_vec`` and
``gymnasium.make_vec("fastcem/CartPole-v1", num_envs=...)``.

All sub-envs step in one compiled call, as lanes (threads share them from 1,024 sub-envs on).  The semantics are ``SyncVectorEnv``'s over
``gymnasium.make(env_id)`` envs, step for step: next-step autoreset (a sub-env that ended is
reset by the following ``step``, which returns its first observation with reward 0 and
neither flag), the TimeLimit's truncation, and seeding (``reset(seed=s)`` seeds sub-env
``i`` with ``s + i``; later resets continue each sub-env's own generator, as gymnasium's
``env.reset()`` does).  Observations, rewards, terminations and truncations are the same
bits (a test runs both side by side across autoresets).

Pendulum's torques may be float64 or float32 (``action_space.sample()`` gives float32): with
float32 ones gymnasium computes the torque's square and term in float32 (``powf``), and so
does this env.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from numpy.typing import NDArray

from envs_native import Discrete, EnvInfo, env_info
from envs_native._jit import jit
from envs_native._seeding import check_seed, generator_for_reset_seed
from envs_native.modes import Libm

from ._checks import check_int, check_num_threads
from ._engine import GivenActor, env_observation, state_of, step_lanes, store
from ._parallel import num_workers, run_workers

__all__ = ["NativeVectorEnv", "make_vec"]

# Reset states drawn at once per sub-env.
RESET_BATCH = 16
# Sub-envs stepped side by side by one thread.
LANES = 16
# Blocks of LANES sub-envs per thread before a second thread is worth starting.
PARALLEL_BLOCKS = 64


@jit
def _step_block(states: np.ndarray, actions: np.ndarray, resetting: np.ndarray, params: Any, mode: Any,
                max_steps: int, elapsed: np.ndarray, observations: np.ndarray, rewards: np.ndarray,
                terminated: np.ndarray, truncated: np.ndarray, first: int, lanes: np.ndarray,
                next_lanes: np.ndarray, block_actions: np.ndarray, lane_rewards: np.ndarray,
                lane_terminated: np.ndarray, redo: np.ndarray, live: np.ndarray) -> None:
    """Sub-envs ``first .. first + LANES - 1`` (those that exist): step the ones not
    ``resetting`` as lanes (:func:`fastcem._engine.step_lanes`), then observe every one.
    The lane buffers are the caller's, reused from block to block."""
    num = min(LANES, states.shape[0] - first)
    for k in range(LANES):
        live[k] = False  # a spare lane of the last block steps what it holds, unused
    for k in range(num):
        i = first + k
        for d in range(states.shape[1]):
            lanes[d, k] = states[i, d]
        block_actions[k] = actions[i]
        live[k] = not resetting[i]
    step_lanes(lanes, next_lanes, GivenActor(block_actions, np.int64(0)), params, mode, LANES, live, lane_rewards,
               lane_terminated, redo)
    for k in range(num):
        i = first + k
        if resetting[i]:  # already given its reset state: reward 0, no flags
            rewards[i] = 0.0
            terminated[i] = False
            truncated[i] = False
            elapsed[i] = 0
        else:
            for d in range(states.shape[1]):
                states[i, d] = next_lanes[d, k]
            rewards[i] = lane_rewards[k]
            terminated[i] = lane_terminated[k]
            elapsed[i] += 1
            truncated[i] = elapsed[i] >= max_steps
        state = state_of(states.T, i, params)
        obs, ok = env_observation(state, params, mode)
        if not ok:
            obs = env_observation(state, params, Libm())[0]
        store(observations.T, i, obs)


@jit
def vector_step(states: np.ndarray, actions: np.ndarray, resetting: np.ndarray, params: Any, mode: Any,
                max_steps: int, elapsed: np.ndarray, observations: np.ndarray, rewards: np.ndarray,
                terminated: np.ndarray, truncated: np.ndarray, first_block: int, end_block: int) -> None:
    """One ``SyncVectorEnv`` step of the sub-envs in blocks ``first_block .. end_block - 1``
    of ``LANES``: the ones ``resetting`` (already given their reset state) report reward 0
    and no flags, the others step, count towards the TimeLimit and truncate at it; then
    every one is observed."""
    # Zeros, not np.empty: a spare lane steps too, and garbage could be a slow subnormal.
    lanes = np.zeros((states.shape[1], LANES))
    next_lanes = np.zeros_like(lanes)
    block_actions = np.zeros(LANES, dtype=actions.dtype)
    lane_rewards = np.zeros(LANES)
    lane_terminated = np.zeros(LANES, dtype=np.bool_)
    redo = np.zeros(LANES, dtype=np.bool_)
    live = np.zeros(LANES, dtype=np.bool_)
    for b in range(first_block, end_block):
        _step_block(states, actions, resetting, params, mode, max_steps, elapsed, observations, rewards, terminated,
                    truncated, b * LANES, lanes, next_lanes, block_actions, lane_rewards, lane_terminated, redo, live)


class NativeVectorEnv(VectorEnv):  # type: ignore[misc]
    """``num_envs`` copies of a native env as one ``VectorEnv``."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}

    def __init__(self, env_id: str, num_envs: int, num_threads: int | None = None) -> None:
        self.info = env_info(env_id)
        self.num_envs = check_int(num_envs, "num_envs", minimum=1)
        self.num_threads = check_num_threads(num_threads)
        self.render_mode = None
        self.params = self.info.spec.default_params()
        self._mode = self.info.spec.exact_mode()
        self.single_observation_space, self.single_action_space = _spaces(self.info)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self._states = np.zeros((self.num_envs, self.info.spec.kernel_state_dim))
        self._observations = np.zeros((self.num_envs, self.info.obs_dim), dtype=np.float32)
        self._rewards = np.zeros(self.num_envs)
        self._terminated = np.zeros(self.num_envs, dtype=np.bool_)
        self._truncated = np.zeros(self.num_envs, dtype=np.bool_)
        self._elapsed = np.zeros(self.num_envs, dtype=np.int64)
        self._rngs: list[np.random.Generator] = []
        self._reset_buffer = np.zeros((self.num_envs, RESET_BATCH, self.info.spec.kernel_state_dim))
        self._cursor = np.full(self.num_envs, RESET_BATCH, dtype=np.int64)

    def _reset_envs(self, which: NDArray[np.intp]) -> None:
        """Give the sub-envs ``which`` their next reset state.  Each sub-env's states are drawn
        from its own generator ``RESET_BATCH`` at a time: one ``uniform`` call for many draws
        gives the same numbers as many calls, and saves a Python call per reset."""
        empty = which[self._cursor[which] == RESET_BATCH]
        for i in empty:
            self._reset_buffer[i] = self.info.spec.kernel_states(self.info.spec.sample_states(self._rngs[i], RESET_BATCH))
        self._cursor[empty] = 0
        self._states[which] = self._reset_buffer[which, self._cursor[which]]
        self._cursor[which] += 1

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reset every sub-env; ``seed`` as ``SyncVectorEnv`` takes it (an int ``s`` seeds
        sub-env ``i`` with ``s + i``)."""
        if options:
            raise ValueError(f"options are not supported by {type(self).__name__}, got {options!r}")
        if seed is None:
            seeds: list[int | None] = [None] * self.num_envs
        elif isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
            seeds = [int(seed) + i for i in range(self.num_envs)]
        else:
            seeds = list(seed)  # type: ignore[arg-type]
            if len(seeds) != self.num_envs:
                raise ValueError(f"seed must be an int or {self.num_envs} seeds, got {len(seeds)}")
        self._rngs = [generator_for_reset_seed(check_seed(s, "seed")) if s is not None else
                      np.random.default_rng() for s in seeds]
        self._cursor[:] = RESET_BATCH  # drop states drawn from the previous generators
        self._reset_envs(np.arange(self.num_envs))
        self._run(np.zeros(self.num_envs, dtype=np.int64 if self.info.discrete else np.float64),
                  np.ones(self.num_envs, dtype=np.bool_))
        return self._observations.copy(), {}

    def _actions(self, actions: Any) -> NDArray[Any]:
        """The batch of actions as the kernel takes it, checked against the action space."""
        arr = np.asarray(actions)
        n = self.num_envs
        space = self.info.spec.action
        if isinstance(space, Discrete):
            if arr.shape != (n,) or arr.dtype.kind not in "iu" or ((arr < 0) | (arr >= space.n)).any():
                values = ", ".join(map(str, range(space.n))) if space.n <= 4 else f"0, ..., {space.n - 1}"
                raise ValueError(f"actions must be {n} ints in {{{values}}}, shape ({n},); got shape {arr.shape}, "
                                 f"dtype {arr.dtype}")
            return np.ascontiguousarray(arr, dtype=np.int64)
        if arr.shape != (n, 1) or arr.dtype.kind not in "iuf" or arr.dtype == np.float16:
            raise ValueError(f"actions must be {n} {space.name}, shape ({n}, 1), ints, float32 or float64; "
                             f"got shape {arr.shape}, dtype {arr.dtype}")
        # float32 actions stay float32: gymnasium computes with them in float32 where NumPy 2's
        # rules say so, and so does the env's kernel (envs_native.modes.weak).
        return np.ascontiguousarray(arr[:, 0], dtype=np.float32 if arr.dtype == np.float32 else np.float64)

    def step(self, actions: Any) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_],
                                          NDArray[np.bool_], dict[str, Any]]:
        """Step every sub-env in one compiled call; those that ended last step are reset instead."""
        if not self._rngs:
            raise RuntimeError("call reset() before step()")
        acts = self._actions(actions)
        resetting = self._terminated | self._truncated  # next-step autoreset
        self._reset_envs(np.flatnonzero(resetting))
        self._run(acts, resetting)
        return (self._observations.copy(), self._rewards.copy(), self._terminated.copy(), self._truncated.copy(), {})

    def _run(self, actions: NDArray[Any], resetting: NDArray[np.bool_]) -> None:
        blocks = -(-self.num_envs // LANES)
        # Threads only for many sub-envs: handing work to a thread costs about 0.1 ms, a
        # block of 16 sub-envs a microsecond or two.
        workers = min(num_workers(self.num_threads), blocks // PARALLEL_BLOCKS) or 1

        def work(w: int) -> None:
            vector_step(self._states, actions, resetting, self.params, self._mode, self.info.max_episode_steps,
                        self._elapsed, self._observations, self._rewards, self._terminated, self._truncated,
                        w * blocks // workers, (w + 1) * blocks // workers)

        run_workers(workers, work)

    def close_extras(self, **kwargs: Any) -> None:
        return None


def _spaces(info: EnvInfo) -> tuple[gymnasium.spaces.Space, gymnasium.spaces.Space]:
    """gymnasium's observation and action spaces of ``info``'s env; for an env gymnasium does
    not have (a user's), the spaces its spec describes: unbounded float32 observations, and
    ``Discrete(n)`` or a float32 ``Box`` of actions."""
    if info.env_id in gymnasium.registry:
        single = gymnasium.make(info.env_id)
        spaces = single.observation_space, single.action_space
        single.close()
        return spaces
    space = info.spec.action
    obs = gymnasium.spaces.Box(-np.inf, np.inf, (info.obs_dim,), dtype=np.float32)
    if isinstance(space, Discrete):
        return obs, gymnasium.spaces.Discrete(space.n)
    return obs, gymnasium.spaces.Box(space.low, space.high, space.shape, dtype=np.float32)


def make_vec(env_id: str, num_envs: int, *, num_threads: int | None = None) -> NativeVectorEnv:
    """A gymnasium ``VectorEnv`` of ``num_envs`` native ``env_id`` envs (see the module)."""
    return NativeVectorEnv(env_id, num_envs, num_threads=num_threads)


def _from_registry(env_id: str, num_envs: int, max_episode_steps: int | None = None,
                   num_threads: int | None = None) -> NativeVectorEnv:
    """``gymnasium.make_vec``'s entry point for ``fastcem/<env id>``."""
    if max_episode_steps not in (None, env_info(env_id).max_episode_steps):
        raise ValueError(f"fastcem/{env_id} has the TimeLimit {env_info(env_id).max_episode_steps}, "
                         f"got max_episode_steps={max_episode_steps}")
    return NativeVectorEnv(env_id, num_envs, num_threads=num_threads)


def register() -> None:
    """Register ``fastcem/<id>`` for ``gymnasium.make_vec`` for every native env id that
    gymnasium has too (``fastcem/CartPole-v1``, ...; done when fastcem is imported;
    ``gymnasium.make`` of these ids gives gymnasium's own env)."""
    from envs_native import ENV_IDS

    for env_id in ENV_IDS:
        name = f"fastcem/{env_id}"
        if name not in gymnasium.registry and env_id in gymnasium.registry:
            gymnasium.register(
                id=name,
                entry_point=gymnasium.spec(env_id).entry_point,
                vector_entry_point=partial(_from_registry, env_id),
                max_episode_steps=env_info(env_id).max_episode_steps,
            )
