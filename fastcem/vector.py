"""A gymnasium ``VectorEnv`` on the native kernels: ``fastcem.make_vec`` and
``gymnasium.make_vec("fastcem/CartPole-v1", num_envs=...)``.

All sub-envs step in one compiled call, as lanes (threads share them from 1,024 sub-envs
on).  The semantics are ``SyncVectorEnv``'s over ``gymnasium.make(env_id)`` envs, step for
step, and a test runs both side by side:

* next-step autoreset: a sub-env that ended is reset by the following ``step``, which
  returns its first observation with reward 0 and neither flag; the TimeLimit's truncation
  (``max_episode_steps``, the registered one unless given);
* seeding: ``reset(seed=s)`` seeds sub-env ``i`` with ``s + i``, ``reset(seed=[s0, None,
  ...])`` reseeds the sub-envs given a seed, and a sub-env given none (``reset()``, a
  ``None`` in the list, every autoreset) continues its own generator, as gymnasium's
  ``env.reset()`` does; ``np_random`` and ``np_random_seed`` are the sub-envs' generators
  and seeds, as ``SyncVectorEnv`` gives them;
* ``reset(options=...)``: the env's own options with gymnasium's meaning (CartPole's, Acrobot's
  and the MountainCars' ``low``/``high``, Pendulum's ``x_init``/``y_init``: the env module's
  ``sample_states``), for that reset only, as ``SyncVectorEnv`` passes them; and
  ``SyncVectorEnv``'s ``reset_mask`` (reset only the sub-envs it marks);
* ``make_vec``'s arguments: the env's own kwargs (``sutton_barto_reward``, ``g``, ...),
  ``max_episode_steps`` and ``render_mode="rgb_array"``, whose frames gymnasium's own
  renderer draws (pygame: the ``video`` extra).

Observations, rewards, terminations and truncations are the same bits.  Pendulum's torques
may be float64 or float32 (``action_space.sample()`` gives float32): with float32 ones
gymnasium computes the torque's square and term in float32 (``powf``), and so does this env.

gymnasium's registry names the vector entry point of ``fastcem/<id>`` as the string
``"fastcem.vector:<id>"``: the attribute ``<id>`` of this module is ``make_vec`` for that id
(a module ``__getattr__``).  A spec holding a string compares equal once copied, pickles and
saves as JSON, which a spec holding a function does not.  The env itself pickles by its env
id and arguments, its states and its generators (the kernels are looked up again).
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import gymnasium
import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from numpy.typing import NDArray

from envs_native import Discrete, EnvInfo, env_info
from envs_native._jit import jit, smaller
from envs_native._seeding import check_seed, generator_for_reset_seed
from envs_native.modes import Libm
from envs_native.spec import registered_ids

from ._checks import check_int, check_num_threads
from ._engine import GivenActor, env_observation, lane_view, state_of, step_lanes, store
from ._parallel import num_workers, run_workers

__all__ = ["NativeVectorEnv", "make_vec"]

# Reset states drawn at once per sub-env: a batch costs a Python call and a copy of the
# generator's state (to put unused states back, see NativeVectorEnv._rewind), about 8 us.
RESET_BATCH = 32
# Sub-envs stepped side by side by one thread.
LANES = 16
# Blocks of LANES sub-envs per thread before a second thread is worth starting.
PARALLEL_BLOCKS = 64
RENDER_MODES = ("rgb_array",)


@jit
def _step_block(states: np.ndarray, actions: np.ndarray, resetting: np.ndarray, params: Any, mode: Any,
                max_steps: int, elapsed: np.ndarray, observations: np.ndarray, rewards: np.ndarray,
                terminated: np.ndarray, truncated: np.ndarray, first: int, lanes: np.ndarray,
                next_lanes: np.ndarray, block_actions: np.ndarray, lane_rewards: np.ndarray,
                lane_terminated: np.ndarray, redo: np.ndarray, live: np.ndarray) -> None:
    """Sub-envs ``first .. first + LANES - 1`` (those that exist): step the ones not
    ``resetting`` as lanes (:func:`fastcem._engine.step_lanes`), then observe every one.
    The lane buffers are the caller's, reused from block to block."""
    num = smaller(LANES, states.shape[0] - first)
    for k in range(LANES):
        live[k] = False  # a spare lane of the last block steps what it holds, unused
    for k in range(num):
        i = first + k
        for d in range(states.shape[1]):
            lanes[d, k] = states[i, d]
        block_actions[k] = actions[i]
        live[k] = not resetting[i]
    step_lanes(lane_view(lanes, LANES), lane_view(next_lanes, LANES), GivenActor(block_actions, np.int64(0)), params,
               mode, LANES, live, lane_rewards, lane_terminated, redo)
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


class NativeVectorEnv(VectorEnv):
    """``num_envs`` copies of a native env as one ``VectorEnv`` (see the module).

    Parameters
    ----------
    env_id : str
        A native env id (``envs_native.ENV_IDS``).
    num_envs : int
        Sub-envs, >= 1.
    num_threads : int, optional
        Threads that share the sub-envs (from 1,024 sub-envs on); None: numba's setting.
    max_episode_steps : int, optional
        The TimeLimit; None: the env's registered one (CartPole-v1 500, ...).
    render_mode : {None, "rgb_array"}
        ``"rgb_array"``: :meth:`render` returns one frame a sub-env, drawn by gymnasium's own
        env (needs pygame: ``pip install "fastcem[video]"``).
    **env_kwargs
        The env's own arguments, as ``gymnasium.make`` takes them (``sutton_barto_reward``
        for CartPole, ``g`` for Pendulum, ...: the keyword arguments of its ``default_params``).
    """

    # gymnasium's VectorEnv declares metadata as an instance attribute, so it is not a ClassVar.
    metadata: dict[str, Any] = {  # noqa: RUF012 -- see above
        "autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": list(RENDER_MODES)}

    def __init__(self, env_id: str, num_envs: int, num_threads: int | None = None, *,
                 max_episode_steps: int | None = None, render_mode: str | None = None, **env_kwargs: Any) -> None:
        self.info = env_info(env_id)
        self.env_id = self.info.env_id
        self.num_envs = check_int(num_envs, "num_envs", minimum=1)
        self.num_threads = check_num_threads(num_threads)
        self.max_episode_steps = (self.info.max_episode_steps if max_episode_steps is None
                                  else check_int(max_episode_steps, "max_episode_steps", minimum=1))
        self.env_kwargs = dict(env_kwargs)
        self.params = _params(self.info, self.env_kwargs)
        self._mode = self.info.spec.exact_mode()
        self.single_observation_space, self.single_action_space, render_fps = _spaces(self.info)
        self.observation_space = gymnasium.vector.utils.batch_space(self.single_observation_space, self.num_envs)
        self.action_space = gymnasium.vector.utils.batch_space(self.single_action_space, self.num_envs)
        self.render_mode = _check_render_mode(render_mode, self.info)
        self.metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP,
                         "render_modes": list(RENDER_MODES) if self.info.env_id in gymnasium.registry else [],
                         "render_fps": render_fps}
        n, dim = self.num_envs, self.info.spec.kernel_state_dim
        self._states = np.zeros((n, dim))
        self._observations = np.zeros((n, self.info.obs_dim), dtype=np.float32)
        self._rewards = np.zeros(n)
        self._terminated = np.zeros(n, dtype=np.bool_)
        self._truncated = np.zeros(n, dtype=np.bool_)
        self._elapsed = np.zeros(n, dtype=np.int64)
        self._started = False
        # Each sub-env's generator and seed, None until it is reset (or its np_random is read).
        self._rngs: list[np.random.Generator | None] = [None] * n
        self._seeds: list[int | None] = [None] * n
        # States drawn ahead for resets, RESET_BATCH a sub-env, the next one at the cursor; and
        # each generator's state before that batch was drawn (to put unused states back).
        self._reset_buffer = np.zeros((n, RESET_BATCH, dim))
        self._cursor = np.full(n, RESET_BATCH, dtype=np.int64)
        self._batch_starts: list[dict[str, Any]] = [{} for _ in range(n)]
        self._frames = _Frames(self.info, n) if self.render_mode is not None else None

    # --- generators ---------------------------------------------------------------------

    def _reset_envs(self, which: NDArray[np.intp]) -> None:
        """Give the sub-envs ``which`` their next reset state.  Each sub-env's states are drawn
        from its own generator ``RESET_BATCH`` at a time: one ``uniform`` call for many draws
        gives the same numbers as many calls, and saves a Python call per reset."""
        spec = self.info.spec
        empty = which[self._cursor[which] == RESET_BATCH]
        for i in empty:
            rng = self._rngs[i]
            self._batch_starts[i] = rng.bit_generator.state
            self._reset_buffer[i] = spec.kernel_states(spec.sample_states(rng, RESET_BATCH))
        self._cursor[empty] = 0
        self._states[which] = self._reset_buffer[which, self._cursor[which]]
        self._cursor[which] += 1

    def _rewind(self, i: int) -> np.random.Generator:
        """Sub-env ``i``'s generator where gymnasium's would be: the states drawn ahead and not
        used yet are put back (the generator goes back to before the batch, and draws again
        the states used since)."""
        rng = self._rngs[i]
        if rng is None:
            rng, self._seeds[i] = _unseeded()
            self._rngs[i] = rng
            return rng
        used = int(self._cursor[i])
        if used < RESET_BATCH:
            rng.bit_generator.state = self._batch_starts[i]
            if used:
                self.info.spec.sample_states(rng, used)
            self._cursor[i] = RESET_BATCH
        return rng

    @property  # type: ignore[misc]  # read-only, as SyncVectorEnv's
    def np_random(self) -> tuple[np.random.Generator, ...]:  # type: ignore[override]
        """The sub-envs' generators, as ``SyncVectorEnv.np_random`` gives them (a sub-env not
        reset yet gets an unseeded one), each where gymnasium's would be: draws from them
        before the next ``step`` or ``reset`` move the sub-envs' next resets as in gymnasium.
        (Autoresets draw their states ahead, a batch at a time: a generator kept and drawn
        from later draws after those.)"""
        return tuple(self._rewind(i) for i in range(self.num_envs))

    @property
    def np_random_seed(self) -> tuple[int, ...]:  # type: ignore[override]
        """The sub-envs' seeds, as ``SyncVectorEnv.np_random_seed`` gives them: ``(s, s + 1,
        ...)`` after ``reset(seed=s)``; an unseeded generator's entropy otherwise."""
        for i in range(self.num_envs):
            if self._rngs[i] is None:
                self._rngs[i], self._seeds[i] = _unseeded()
        return tuple(self._seeds)  # type: ignore[arg-type]

    def _seed_list(self, seed: Any) -> list[int | None]:
        """``reset``'s ``seed`` as one seed (or None) a sub-env, as ``SyncVectorEnv`` reads it."""
        n = self.num_envs
        if seed is None:
            return [None] * n
        if isinstance(seed, numbers.Integral) and not isinstance(seed, (bool, np.bool_)):
            first = check_seed(seed, "seed")
            return [first + i for i in range(n)]
        if isinstance(seed, (str, bytes)) or not isinstance(seed, (Sequence, np.ndarray)):
            raise TypeError(f"seed must be None, an int or a list of {n} seeds (ints or None), "
                            f"got {type(seed).__name__}")
        seeds = list(seed)
        if len(seeds) != n:
            raise ValueError(f"seed must be an int or {n} seeds, got {len(seeds)}")
        return [None if s is None else check_seed(s, f"seed[{i}]") for i, s in enumerate(seeds)]

    def _reset_mask(self, mask: Any) -> NDArray[np.intp]:
        """The sub-envs ``options["reset_mask"]`` resets (all of them without one)."""
        n = self.num_envs
        if mask is None:
            return np.arange(n)
        if not isinstance(mask, np.ndarray) or mask.dtype != np.bool_:
            got = f"dtype {mask.dtype}" if isinstance(mask, np.ndarray) else type(mask).__name__
            raise TypeError(f"options['reset_mask'] must be a numpy bool array of shape ({n},), got {got}")
        if mask.shape != (n,):
            raise ValueError(f"options['reset_mask'] must have shape ({n},), got {mask.shape}")
        if not mask.any():
            raise ValueError("options['reset_mask'] must mark at least one sub-env to reset, got none")
        if not self._started and not mask.all():
            raise ValueError("the first reset must reset every sub-env: options['reset_mask'] must be all True")
        return np.flatnonzero(mask)

    # --- the VectorEnv ------------------------------------------------------------------

    def reset(self, *, seed: int | list[int | None] | None = None,
              options: dict[str, Any] | None = None) -> tuple[NDArray[np.float32], dict[str, Any]]:
        """Reset the sub-envs, as ``SyncVectorEnv`` does.

        ``seed``: an int ``s`` seeds sub-env ``i`` with ``s + i``; a list gives each sub-env
        its seed, None for one that continues its generator; None continues them all.
        ``options``: the env's reset options (gymnasium's meaning, for this reset only; other
        keys are ignored, as gymnasium's envs ignore them), and ``reset_mask``, a bool array
        of the sub-envs to reset (the others keep their state, flags and step count).
        """
        seeds = self._seed_list(seed)
        if options is not None and not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        options = dict(options or {})
        which = self._reset_mask(options.pop("reset_mask", None))
        spec = self.info.spec
        env_options = spec.reset_options_of(options)  # checked before any generator moves
        for i in which:
            if seeds[i] is not None:
                self._rngs[i], self._seeds[i] = generator_for_reset_seed(seeds[i]), seeds[i]
                self._cursor[i] = RESET_BATCH  # drop states drawn from the previous generator
            elif self._rngs[i] is None:
                self._rngs[i], self._seeds[i] = _unseeded()
        if env_options is None:
            self._reset_envs(which)
        else:
            for i in which:
                self._states[i] = spec.kernel_states(spec.sample_states(self._rewind(i), (), env_options))
        kept = np.ones(self.num_envs, dtype=np.bool_)
        kept[which] = False
        flags = self._terminated[kept], self._truncated[kept], self._elapsed[kept]
        # Every sub-env is observed; one not reset keeps its state, so its observation too.
        self._run(np.zeros(self.num_envs, dtype=np.int64 if self.info.discrete else np.float64),
                  np.ones(self.num_envs, dtype=np.bool_))
        self._terminated[kept], self._truncated[kept], self._elapsed[kept] = flags
        if self._frames is not None:
            self._frames.stepped[which] = False
        self._started = True
        return self._observations.copy(), {}

    def _actions(self, actions: Any) -> NDArray[Any]:
        """The batch of actions as the kernel takes it, checked against the action space."""
        arr = np.asarray(actions)
        n = self.num_envs
        space = self.info.spec.action
        if isinstance(space, Discrete):
            if arr.shape != (n,) or arr.dtype.kind not in "iu" or ((arr < 0) | (arr >= space.n)).any():
                values = ", ".join(map(str, range(space.n))) if space.n <= 4 else f"0, ..., {space.n - 1}"
                expected = f"{n} ints in {{{values}}}, shape ({n},)"
                _not_a_batch(arr, expected)
                raise ValueError(f"actions must be {expected}; got shape {arr.shape}, dtype {arr.dtype}")
            return np.ascontiguousarray(arr, dtype=np.int64)
        if arr.shape != (n, 1) or arr.dtype.kind not in "iuf" or arr.dtype == np.float16:
            expected = f"{n} {space.name}, shape ({n}, 1), ints, float32 or float64"
            _not_a_batch(arr, expected)
            raise ValueError(f"actions must be {expected}; got shape {arr.shape}, dtype {arr.dtype}")
        # float32 actions stay float32: gymnasium computes with them in float32 where NumPy 2's
        # rules say so, and so does the env's kernel (envs_native.modes.weak).
        return np.ascontiguousarray(arr[:, 0], dtype=np.float32 if arr.dtype == np.float32 else np.float64)

    def step(self, actions: Any) -> tuple[NDArray[np.float32], NDArray[np.float64], NDArray[np.bool_],
                                          NDArray[np.bool_], dict[str, Any]]:
        """Step every sub-env in one compiled call; those that ended last step are reset instead."""
        if not self._started:
            raise RuntimeError("call reset() before step()")
        acts = self._actions(actions)
        resetting = self._terminated | self._truncated  # next-step autoreset
        if self._frames is not None:
            self._frames.before_step(self._states, acts, resetting)
        if resetting.any():  # most steps of long episodes: skip the indexing (microseconds)
            self._reset_envs(np.flatnonzero(resetting))
        self._run(acts, resetting)
        return (self._observations.copy(), self._rewards.copy(), self._terminated.copy(), self._truncated.copy(), {})

    def _run(self, actions: NDArray[Any], resetting: NDArray[np.bool_]) -> None:
        blocks = -(-self.num_envs // LANES)
        # Threads only for many sub-envs: handing work to a thread costs about 0.1 ms, a
        # block of 16 sub-envs a microsecond or two.
        workers = min(num_workers(self.num_threads), blocks // PARALLEL_BLOCKS) or 1

        def work(w: int) -> None:
            vector_step(self._states, actions, resetting, self.params, self._mode, self.max_episode_steps,
                        self._elapsed, self._observations, self._rewards, self._terminated, self._truncated,
                        w * blocks // workers, (w + 1) * blocks // workers)

        run_workers(workers, work)

    def render(self) -> tuple[NDArray[np.uint8], ...] | None:
        """One RGB frame a sub-env (``render_mode="rgb_array"``), drawn by gymnasium's env as
        ``SyncVectorEnv``'s sub-envs draw them; without a render mode, a warning and None (as
        gymnasium)."""
        if self._frames is None:
            gymnasium.logger.warn(
                "You are calling render method without specifying any render mode. You can specify the "
                f'render_mode at initialization, e.g. gym.make_vec("fastcem/{self.env_id}", render_mode="rgb_array")')
            return None
        if not self._started:
            raise RuntimeError("call reset() before render()")
        return self._frames.render(self._states)

    def close_extras(self, **kwargs: Any) -> None:
        if self._frames is not None:
            self._frames.close()

    # --- pickling -----------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # The env is its id, arguments, states and generators; the spec (compiled kernels) and
        # the exact mode (a property of the machine) are looked up again where it is unpickled.
        state = self.__dict__.copy()
        for key in ("info", "params", "_mode"):
            del state[key]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.info = env_info(self.env_id)
        self.params = _params(self.info, self.env_kwargs)
        self._mode = self.info.spec.exact_mode()


class _Frames:
    """The sub-envs' frames for ``render_mode="rgb_array"``, drawn by one gymnasium env of the
    same id.  What a frame shows can depend on more than the state (Pendulum draws the last
    torque), so a sub-env that stepped last is replayed: the gymnasium env is put in its state
    before the step and steps with its action, then is given the state this env holds (the
    same bits); one reset last is drawn just after a reset, as gymnasium draws it."""

    def __init__(self, info: EnvInfo, num_envs: int) -> None:
        self.info = info
        self.env: Any = None
        self.before = np.zeros((num_envs, info.spec.kernel_state_dim))
        self.actions: NDArray[Any] | None = None
        self.stepped = np.zeros(num_envs, dtype=np.bool_)

    def before_step(self, states: NDArray[np.float64], actions: NDArray[Any], resetting: NDArray[np.bool_]) -> None:
        self.before[:] = states
        self.actions = actions.copy()
        np.logical_not(resetting, out=self.stepped)

    def render(self, states: NDArray[np.float64]) -> tuple[NDArray[np.uint8], ...]:
        if self.env is None:
            self.env = gymnasium.make(self.info.env_id, render_mode="rgb_array", disable_env_checker=True).unwrapped
        env, spec = self.env, self.info.spec
        frames = []
        for i in range(len(states)):
            env.reset()
            if self.stepped[i]:
                assert self.actions is not None
                env.state = spec.gym_state(self.before[i])
                env.step(int(self.actions[i]) if spec.discrete else self.actions[i:i + 1].copy())
            env.state = spec.gym_state(states[i])
            frames.append(env.render())
        return tuple(frames)

    def close(self) -> None:
        if self.env is not None:
            self.env.close()
            self.env = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "env": None}  # pygame's surfaces do not pickle; drawn again


def _unseeded() -> tuple[np.random.Generator, int]:
    """An unseeded generator and its seed, as gymnasium's ``seeding.np_random()`` makes them."""
    seq = np.random.SeedSequence()
    return np.random.Generator(np.random.PCG64(seq)), int(seq.entropy)  # type: ignore[arg-type]


def _not_a_batch(arr: NDArray[Any], expected: str) -> None:
    """A scalar where a batch of actions is expected is a ``TypeError``, as ``SyncVectorEnv``
    raises it (it cannot iterate over it)."""
    if arr.ndim == 0:
        raise TypeError(f"actions must be a batch, {expected}; got the scalar {arr.item()!r}")


def _params(info: EnvInfo, env_kwargs: dict[str, Any]) -> Any:
    """The env's params for its keyword arguments (those of its ``default_params``)."""
    accepted = list(inspect.signature(info.spec.default_params).parameters)
    unknown = [k for k in env_kwargs if k not in accepted]
    if unknown:
        takes = ", ".join(accepted) if accepted else "none"
        raise TypeError(f"{info.env_id} takes no argument {', '.join(map(repr, unknown))}; its env kwargs: {takes} "
                        "(and make_vec's num_threads, max_episode_steps, render_mode)")
    return info.spec.default_params(**env_kwargs)


def _check_render_mode(render_mode: object, info: EnvInfo) -> str | None:
    """``render_mode``: None, or ``"rgb_array"`` where gymnasium has the env and pygame is there."""
    if render_mode is None:
        return None
    if render_mode not in RENDER_MODES:
        raise ValueError(f"render_mode must be None or 'rgb_array', got {render_mode!r}")
    if info.env_id not in gymnasium.registry:
        raise ValueError(f"render_mode='rgb_array' draws with gymnasium's own env, and gymnasium has no {info.env_id}")
    try:
        import pygame  # noqa: F401 -- only whether it imports
    except ImportError:
        raise gymnasium.error.DependencyNotInstalled(
            "render_mode='rgb_array' draws with gymnasium's renderer, which needs pygame: "
            'pip install "fastcem[video]"') from None
    return str(render_mode)


def _spaces(info: EnvInfo) -> tuple[gymnasium.spaces.Space, gymnasium.spaces.Space, int | None]:
    """gymnasium's observation and action spaces of ``info``'s env and its ``render_fps``; for
    an env gymnasium does not have (a user's), the spaces its spec describes: unbounded float32
    observations, and ``Discrete(n)`` or a float32 ``Box`` of actions."""
    if info.env_id in gymnasium.registry:
        single = gymnasium.make(info.env_id)
        spaces = single.observation_space, single.action_space, single.metadata.get("render_fps")
        single.close()
        return spaces
    space = info.spec.action
    obs = gymnasium.spaces.Box(-np.inf, np.inf, (info.obs_dim,), dtype=np.float32)
    if isinstance(space, Discrete):
        return obs, gymnasium.spaces.Discrete(space.n), None
    return obs, gymnasium.spaces.Box(space.low, space.high, space.shape, dtype=np.float32), None


def make_vec(env_id: str, num_envs: int, *, num_threads: int | None = None, max_episode_steps: int | None = None,
             render_mode: str | None = None, **env_kwargs: Any) -> NativeVectorEnv:
    """A gymnasium ``VectorEnv`` of ``num_envs`` native ``env_id`` envs (see the module and
    :class:`NativeVectorEnv`): ``make_vec("CartPole-v1", 64, sutton_barto_reward=True)``."""
    return NativeVectorEnv(env_id, num_envs, num_threads, max_episode_steps=max_episode_steps,
                           render_mode=render_mode, **env_kwargs)


def __getattr__(name: str) -> Any:
    # "fastcem.vector:<env id>", the registered vector entry points (see the module).
    if name in registered_ids():
        return partial(make_vec, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def register() -> None:
    """Register ``fastcem/<id>`` for ``gymnasium.make_vec`` for every native env id that
    gymnasium has too (``fastcem/CartPole-v1``, ...; done when fastcem is imported;
    ``gymnasium.make`` of these ids gives gymnasium's own env)."""
    for env_id in registered_ids():
        name = f"fastcem/{env_id}"
        if name not in gymnasium.registry and env_id in gymnasium.registry:
            gymnasium.register(
                id=name,
                entry_point=gymnasium.spec(env_id).entry_point,
                vector_entry_point=f"{__name__}:{env_id}",
                max_episode_steps=env_info(env_id).max_episode_steps,
            )
