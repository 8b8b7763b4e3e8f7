"""How an env describes itself to the engine, and the registry of env ids.

An env is one module: its constants (a ``Params`` NamedTuple and ``default_params``), its
reset distribution, and two kernels written once in gymnasium's order of operations, with
the math of :mod:`envs_native.modes`::

    @env_kernel
    def dynamics(state, action, params, m):   # -> (next_state, reward, terminated, ok)
    @env_kernel
    def observation(state, params, m):        # -> (obs, ok)

``state`` and ``next_state`` are tuples of floats, ``obs`` a tuple of float32, ``m`` the
mode, ``ok`` whether every value is certainly gymnasium's (``modes`` says when it is not).
The module ends with an :class:`EnvSpec` passed to :func:`register`; from then on its ids
work wherever an env id does.  The engine (``fastcem``) finds an env's kernels from the
type of its params, so a kernel is compiled for one env, one mode and one policy at a time.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._jit import inline, interleave_only_if, jit
from ._seeding import generator_for_reset_seed

__all__ = ["Box", "Discrete", "EnvInfo", "EnvSpec", "env_info", "env_kernel", "register", "registered_ids",
           "reset_bounds", "reset_option", "spec_of_params"]


@jit
def rounded(state: NDArray[Any]) -> NDArray[np.float32]:
    """A new float32 array of ``state`` rounded: the observation of the envs whose
    observation is their state (gymnasium's ``np.array(state, dtype=np.float32)``)."""
    out = np.empty(state.shape[0], dtype=np.float32)
    for i in range(state.shape[0]):
        out[i] = np.float32(state[i])
    return out


def env_kernel(fn: Callable[..., Any]) -> Any:
    """The decorator of an env's ``dynamics`` and ``observation``: the project's numba options,
    cached, and always inlined by LLVM into the engine's loops (a call in a loop over lanes
    stops it from becoming vector code)."""
    return inline(fn)


@dataclass(frozen=True)
class Discrete:
    """``gymnasium.spaces.Discrete(n)``: actions ``0 .. n - 1`` (ints)."""

    n: int

    def __post_init__(self) -> None:
        if not isinstance(self.n, int) or self.n < 1:
            raise ValueError(f"Discrete needs n >= 1, got {self.n!r}")


@dataclass(frozen=True)
class Box:
    """``gymnasium.spaces.Box(low, high, shape)`` of actions (floats); the policies clip to
    ``[low, high]``.  fastcem's kernels take one-dimensional boxes of one value."""

    low: float
    high: float
    shape: tuple[int, ...] = (1,)
    #: What the values are, for messages ("torques").
    name: str = "actions"

    def __post_init__(self) -> None:
        if self.shape != (1,):
            raise ValueError(f"Box actions of shape (1,) are supported, got {self.shape}")
        if not (math.isfinite(self.low) and math.isfinite(self.high) and self.low < self.high):
            raise ValueError(f"Box needs finite low < high, got {self.low}, {self.high}")


@dataclass(frozen=True)
class EnvSpec:
    """Everything the engine knows of an env.

    Parameters
    ----------
    ids : mapping of str to int
        The env ids and gymnasium's TimeLimit (``max_episode_steps``) of each.
    params : type
        The ``Params`` NamedTuple class; the engine finds the env from its type.
    default_params : callable
        ``default_params(**env_kwargs) -> Params`` (gymnasium's constructor arguments).
    dynamics, observation : numba dispatchers
        The kernels (see the module's docstring), decorated with :func:`env_kernel`.
    state_dim, obs_dim : int
        Sizes of the state and observation tuples.
    action : Discrete or Box
        The action space.
    sample_states : callable
        ``sample_states(rng, shape) -> (*shape, state_dim)`` float64 states from gymnasium's
        reset distribution; ``reset_state(seed)`` is one of them drawn as
        ``env.reset(seed=seed)`` draws it.  An env with ``reset_options`` also takes them:
        ``sample_states(rng, shape, options)``.
    mirrors : str
        The gymnasium file the module mirrors.
    float32_states : bool
        Whether gymnasium's state is float32 at times (Acrobot's after ``reset``,
        MountainCarContinuous's after a step), which NumPy 2's promotion rules make part of
        the arithmetic.  The kernels' state tuple then ends with one more value, 1.0 while the
        state is float32 and 0.0 while it is float64: ``dynamics`` and ``observation`` read it
        and ``dynamics`` sets it (:meth:`kernel_states` adds it from an array's dtype).
    exact_lanes : bool
        Whether the exact mode steps lanes side by side as vector code (the default), or
        one at a time in the C library's arithmetic (:class:`envs_native.modes.Libm`): for
        an env whose step holds so much ``sin``/``cos`` that the lanes' branch-free versions,
        which LLVM may leave scalar where table lookups are slow, cost more than the C
        library's (Acrobot: 22 a step).  A tuning constant; the bits are the same.
    pow_lanes : bool
        Whether the exact lanes compute squares as glibc's ``pow`` does
        (:class:`envs_native.modes.GlibcPowLanes`, where the C library is that code) rather
        than as ``x * x`` where that is provably ``pow``'s answer, the lane's step redone
        where it is not (1 square in 32).  A tuning constant for an env with many squares a
        step (Acrobot: 12, a third of its steps redone otherwise); the bits are the same.
    interleave : bool
        Whether LLVM interleaves two blocks of lanes in the env's lane loops where the CPU has
        AVX-512 (``envs_native._jit.INTERLEAVE``; the default, 3-15% faster for a short step),
        or leaves it to its cost model: a step so long that two blocks do not fit in the
        registers spills (Acrobot: 7-10% slower interleaved).  A tuning constant; the bits are
        the same.
    lanes : int
        Episodes a policy-rollout worker steps side by side (a tuning constant: more lanes
        keep more independent operations in flight and spread the step's bookkeeping, but
        leave a longer tail when the queue runs dry).
    reset_options : tuple of str
        The keys of gymnasium's ``env.reset(options=...)`` that the env's reset reads
        (CartPole's ``("low", "high")``, Pendulum's ``("x_init", "y_init")``).  Given any of
        them, ``sample_states(rng, shape, options)`` draws as gymnasium's ``reset`` draws with
        those options (the same values from the same generator); other keys are ignored, as
        gymnasium's resets ignore them.  Empty (the default): the env takes no options.
    reward_bound : callable, optional
        The planner's hook: ``reward_bound(state, horizon, params)`` returns ``(scale,
        floor)`` if returns of ``horizon`` steps from ``state`` rolled out in a bounded mode
        (:class:`envs_native.modes.GlibcBounded`) are within ``scale * |R| + floor`` of the
        exact ones, else None.
    """

    ids: Mapping[str, int]
    params: type
    default_params: Callable[..., Any]
    dynamics: Any
    observation: Any
    state_dim: int
    obs_dim: int
    action: Discrete | Box
    sample_states: Callable[..., NDArray[Any]]
    mirrors: str
    float32_states: bool = False
    exact_lanes: bool = True
    pow_lanes: bool = False
    interleave: bool = True
    lanes: int = 16
    reward_bound: Callable[[NDArray[np.float64], int, Any], tuple[float, float] | None] | None = None
    reset_options: tuple[str, ...] = ()
    name: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.lanes, int) or not 1 <= self.lanes <= 64:
            # The population workers keep one bit a lane in a uint64.
            raise ValueError(f"lanes must be an int from 1 to 64, got {self.lanes!r}")
        if not (isinstance(self.reset_options, tuple) and all(isinstance(k, str) for k in self.reset_options)):
            raise TypeError(f"reset_options must be a tuple of str, got {self.reset_options!r}")

    @property
    def discrete(self) -> bool:
        return isinstance(self.action, Discrete)

    @property
    def act_dim(self) -> int:
        """Outputs of a policy: one per action for ``Discrete`` (argmax), one per dimension for ``Box``."""
        return self.action.n if isinstance(self.action, Discrete) else int(np.prod(self.action.shape))

    def reset_state(self, seed: int, options: Mapping[str, Any] | None = None) -> NDArray[Any]:
        """Exactly the state of ``env.reset(seed=seed, options=options)``, with its dtype."""
        return self.sample_states_with(generator_for_reset_seed(seed), (), options)

    def reset_options_of(self, options: Mapping[str, Any] | None) -> dict[str, Any] | None:
        """The entries of gymnasium's reset ``options`` that this env reads (None if none:
        the default distribution), checked by drawing no state with them, so that a bad value
        is a ``ValueError`` before any generator moves."""
        if options is None:
            return None
        if not isinstance(options, Mapping):
            raise TypeError(f"options must be a dict or None, got {type(options).__name__}")
        mine = {key: options[key] for key in self.reset_options if key in options}
        if not mine:
            return None
        self.sample_states(np.random.default_rng(0), 0, mine)
        return mine

    def sample_states_with(self, rng: np.random.Generator, shape: Any,
                           options: Mapping[str, Any] | None = None) -> NDArray[Any]:
        """``sample_states(rng, shape)``, with gymnasium's reset ``options`` where the env reads
        any (:meth:`reset_options_of`)."""
        mine = self.reset_options_of(options)
        if mine is None:
            return self.sample_states(rng, shape)
        return self.sample_states(rng, shape, mine)

    def exact_mode(self) -> Any:
        """The mode of this env's exact kernels (see ``exact_lanes``)."""
        from .modes import Libm, exact_lanes

        return exact_lanes(self.pow_lanes) if self.exact_lanes else Libm()

    @property
    def kernel_state_dim(self) -> int:
        """Values of the kernels' state tuple: ``state_dim``, and the float32 flag if any."""
        return self.state_dim + int(self.float32_states)

    def kernel_states(self, states: ArrayLike) -> NDArray[np.float64]:
        """gymnasium states (``(..., state_dim)``, float64 or float32) as the kernels hold
        them: float64, with the float32 flag appended where the env has one."""
        arr = np.asarray(states)
        out = np.ascontiguousarray(arr, dtype=np.float64)
        if self.float32_states:
            flag = np.full((*out.shape[:-1], 1), 1.0 if arr.dtype == np.float32 else 0.0)
            out = np.concatenate([out, flag], axis=-1)
        return out

    def gym_state(self, row: ArrayLike) -> NDArray[Any]:
        """A kernel state (``(kernel_state_dim,)``) as gymnasium holds it, with its dtype."""
        row = np.asarray(row, dtype=np.float64)
        if self.float32_states and row[self.state_dim] != 0.0:
            return row[: self.state_dim].astype(np.float32)
        return row[: self.state_dim].copy()


def reset_option(options: Mapping[str, Any] | None, key: str, default: float) -> float:
    """The reset option ``key`` as a float, ``default`` without it: gymnasium's
    ``options.get(key) if key in options else default`` then ``verify_number_and_cast``
    (``float(value)``).  Not finite is an error here (numpy's ``uniform`` would raise an
    ``OverflowError`` for the range)."""
    if options is None or key not in options:
        return float(default)
    value = options[key]
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"reset option {key!r} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise ValueError(f"reset option {key!r} must be finite, got {value!r}")
    return number


def reset_bounds(options: Mapping[str, Any] | None, default_low: float, default_high: float) -> tuple[float, float]:
    """The bounds ``(low, high)`` of a uniform reset: the options ``low`` and ``high`` where
    given, the defaults where not (gymnasium's ``classic_control.utils.maybe_parse_reset_bounds``)."""
    if options is None:
        return default_low, default_high
    low = reset_option(options, "low", default_low)
    high = reset_option(options, "high", default_high)
    if low > high:
        raise ValueError(f"reset options: low ({low}) must not be above high ({high})")
    return low, high


@dataclass(frozen=True)
class EnvInfo:
    """One registered env id: its spec and its TimeLimit."""

    env_id: str
    spec: EnvSpec
    max_episode_steps: int

    @property
    def state_dim(self) -> int:
        return self.spec.state_dim

    @property
    def obs_dim(self) -> int:
        return self.spec.obs_dim

    @property
    def act_dim(self) -> int:
        return self.spec.act_dim

    @property
    def discrete(self) -> bool:
        return self.spec.discrete


_REGISTRY: dict[str, EnvInfo] = {}
_BY_PARAMS: dict[type, EnvSpec] = {}


def register(spec: EnvSpec, *, check: bool = True) -> None:
    """Make ``spec``'s ids known to fastcem (``evaluate``, ``rollout``, ``train``,
    ``CEMPlanner``, ``make_vec``, ...).  An id registered twice is an error unless it is the
    same spec.

    With ``check`` (the default), ``dynamics`` and ``observation`` are compiled once here for
    the spec's types, in the C-library mode, and what they return is checked against the
    spec, so that a mistake is a ``TypeError``/``ValueError`` now rather than a numba error
    at the first ``evaluate`` (and a spec with ``reset_options`` has its ``sample_states``
    called with options once).  fastcem's own envs skip it (their tests check them, and it
    would add to the first run's compile time)."""
    if not isinstance(spec, EnvSpec):
        raise TypeError(f"spec must be an EnvSpec, got {type(spec).__name__}")
    if not isinstance(spec.action, (Discrete, Box)):
        raise TypeError("spec.action must be envs_native.Discrete or envs_native.Box, "
                        f"got {type(spec.action).__name__}")
    for name in ("state_dim", "obs_dim"):
        value = getattr(spec, name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"spec.{name} must be an int >= 1, got {value!r}")
    for name in ("default_params", "sample_states"):
        if not callable(getattr(spec, name)):
            raise TypeError(f"spec.{name} must be callable")
    if not spec.ids:
        raise ValueError("spec.ids must name at least one env id")
    for env_id, steps in spec.ids.items():
        if not isinstance(env_id, str) or not isinstance(steps, int) or steps < 1:
            raise ValueError(f"spec.ids must map env ids (str) to TimeLimits (int >= 1), got {env_id!r}: {steps!r}")
        old = _REGISTRY.get(env_id)
        if old is not None and old.spec is not spec:
            raise ValueError(f"env id {env_id!r} is already registered")
    known = _BY_PARAMS.get(spec.params)
    if known is not None and known is not spec:
        raise ValueError(f"params class {spec.params.__name__} already belongs to another env")
    if not (isinstance(spec.params, type) and issubclass(spec.params, tuple) and hasattr(spec.params, "_fields")):
        raise TypeError("spec.params must be a NamedTuple class")
    if check:
        if spec.reset_options:
            try:
                spec.sample_states(np.random.default_rng(0), 0, {})
            except TypeError as exc:
                raise TypeError(f"spec.reset_options names {list(spec.reset_options)}, so spec.sample_states must take "
                                f"them: sample_states(rng, shape, options) ({exc})") from None
        _check_kernels(spec)
    _BY_PARAMS[spec.params] = spec
    for env_id, steps in spec.ids.items():
        _REGISTRY[env_id] = EnvInfo(env_id, spec, steps)


def _check_kernels(spec: EnvSpec) -> None:
    """Compile ``spec``'s kernels for its types and check what they return."""
    from numba import typeof, types
    from numba.core.registry import CPUDispatcher

    from .modes import Libm

    for name in ("dynamics", "observation"):
        if not isinstance(getattr(spec, name), CPUDispatcher):
            raise TypeError(f"spec.{name} must be a compiled kernel: decorate it with @envs_native.env_kernel")
    params = spec.default_params()
    if type(params) is not spec.params:
        raise TypeError(f"spec.default_params() must return a {spec.params.__name__}, got {type(params).__name__}")
    state = types.UniTuple(types.float64, spec.kernel_state_dim)
    action = types.int64 if isinstance(spec.action, Discrete) else types.float64
    mode = typeof(Libm())
    where = f"{spec.name or spec.params.__module__}"
    try:
        spec.dynamics.compile((state, action, typeof(params), mode))
        spec.observation.compile((state, typeof(params), mode))
    except Exception as exc:  # numba's typing errors, reported in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TypeError(f"{where}: dynamics(state, action, params, m) and observation(state, params, m) must compile "
                        f"for a state tuple of {spec.kernel_state_dim} floats and a "
                        f"{'int' if action == types.int64 else 'float'} action: {first}") from None
    out = spec.dynamics.overloads[(state, action, typeof(params), mode)].signature.return_type
    if not (isinstance(out, types.BaseTuple) and len(out) == 4):
        raise ValueError(f"{where}: dynamics must return (next_state, reward, terminated, ok), got {out}")
    nxt, reward, terminated, ok = out.types
    if not (isinstance(nxt, types.BaseTuple) and len(nxt) == spec.kernel_state_dim
            and all(isinstance(t, (types.Float, types.Integer)) for t in nxt.types)):
        raise ValueError(f"{where}: dynamics' next_state must be a tuple of {spec.kernel_state_dim} floats "
                         f"(state_dim), got {nxt}")
    if not isinstance(reward, (types.Float, types.Integer)) or isinstance(reward, types.Boolean):
        raise ValueError(f"{where}: dynamics' reward must be a float, got {reward}")
    if not (isinstance(terminated, types.Boolean) and isinstance(ok, types.Boolean)):
        raise ValueError(f"{where}: dynamics' terminated and ok must be bools, got {terminated} and {ok}")
    obs = spec.observation.overloads[(state, typeof(params), mode)].signature.return_type
    if not (isinstance(obs, types.BaseTuple) and len(obs) == 2 and isinstance(obs.types[0], types.BaseTuple)
            and len(obs.types[0]) == spec.obs_dim and isinstance(obs.types[1], types.Boolean)):
        raise ValueError(f"{where}: observation must return (obs, ok) with a tuple of {spec.obs_dim} values "
                         f"(obs_dim), got {obs}")


def registered_ids() -> tuple[str, ...]:
    """Every registered env id, in registration order."""
    return tuple(_REGISTRY)


def env_info(env_id: str) -> EnvInfo:
    """The :class:`EnvInfo` of ``env_id``; a clear error for anything else."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str, one of {list(_REGISTRY)}; got {type(env_id).__name__}")
    try:
        return _REGISTRY[env_id]
    except KeyError:
        raise ValueError(f"unknown env_id {env_id!r}; known env ids: {', '.join(_REGISTRY)}") from None


def spec_of_params(cls: type) -> EnvSpec | None:
    """The spec whose ``Params`` class is ``cls`` (None if none is)."""
    return _BY_PARAMS.get(cls)


def _interleave_allowed(arg_types: tuple[Any, ...]) -> bool:
    """False for a kernel of an env that says ``interleave=False`` (found by its params type
    among the kernel's argument types)."""
    for t in arg_types:
        cls = getattr(t, "instance_class", None)
        spec = _BY_PARAMS.get(cls) if isinstance(cls, type) else None
        if spec is not None and not spec.interleave:
            return False
    return True


interleave_only_if(_interleave_allowed)
