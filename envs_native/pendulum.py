"""Pendulum-v1, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/pendulum.py`` (``PendulumEnv``, gymnasium 1.x).  The
state is gymnasium's float64 ``env.unwrapped.state`` ``(theta, theta_dot)``; the observation
is ``(cos theta, sin theta, theta_dot)`` rounded to float32.

Exactness notes:

* gymnasium squares numpy scalars with ``** 2``, i.e. with the C library's ``pow``, which is
  not always ``x * x``: :func:`envs_native.modes.square`.
* The cost uses ``angle_normalize(th) = ((th + pi) % (2 pi)) - pi`` with numpy's float
  remainder (the sign of the divisor): :func:`envs_native.modes.remainder`.
* The cost is computed from the pre-step state and the clipped torque, as in gymnasium.
* Torques are clipped to ``[-max_torque, max_torque]`` and speeds to ``[-max_speed,
  max_speed]`` with NaN passing through, as ``np.clip`` does.
* A float32 torque (a VectorEnv fed ``action_space.sample()``) stays float32 through
  ``np.clip``, and NumPy 2 computes ``u ** 2`` (``powf``), ``0.001 * u ** 2`` and ``3.0 /
  (m * l**2) * u`` in float32 before they meet float64: :func:`envs_native.modes.weak`.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._seeding import generator_for_reset_seed
from .modes import Libm, clip, cos, remainder, sin, square, weak
from .spec import Box, EnvSpec, env_kernel, register, reset_option

STATE_DIM = 2
OBS_DIM = 3
ACTION_DIM = 1
MAX_TORQUE = 2.0
DEFAULT_X = np.pi
DEFAULT_Y = 1.0
RESET_HIGH = np.array([DEFAULT_X, DEFAULT_Y])


class Params(NamedTuple):
    """Pendulum constants; build them with :func:`default_params` so derived ones agree."""

    max_speed: float
    max_torque: float
    dt: float
    g: float
    m: float
    l: float  # noqa: E741 -- gymnasium's name
    gravity_coef: float  # 3 * g / (2 * l)
    torque_coef: float  # 3.0 / (m * l**2)


def default_params(g: float = 10.0) -> Params:
    """gymnasium's Pendulum constants with gravity ``g`` (gymnasium's ``g`` argument)."""
    if isinstance(g, (bool, np.bool_)) or not isinstance(g, numbers.Real):
        raise TypeError(f"g must be a real number, got {type(g).__name__}")
    if not math.isfinite(g):
        raise ValueError(f"g must be finite, got {g}")
    m = 1.0
    l = 1.0  # noqa: E741 -- gymnasium's name
    # The coefficients are gymnasium's sub-expressions, evaluated left to right as there.
    return Params(
        max_speed=8.0,
        max_torque=MAX_TORQUE,
        dt=0.05,
        g=float(g),
        m=m,
        l=l,
        gravity_coef=3 * g / (2 * l),
        torque_coef=3.0 / (m * l**2),
    )


@env_kernel
def dynamics(state: tuple[float, float], action: Any, p: Params,
             m: Any) -> tuple[tuple[float, float], float, bool, bool]:
    """gymnasium's ``step`` from a state tuple: ``(next_state, reward, terminated, ok)``; the
    torque ``action`` (gymnasium's ``u[0]``, float64 or float32) is clipped; never terminates."""
    th, thdot = state
    u = clip(action, weak(-p.max_torque, action), weak(p.max_torque, action))
    wrapped, ok_wrap = remainder(m, th + np.pi, 2 * np.pi)
    sq_angle, ok_angle = square(m, wrapped - np.pi)
    sq_thdot, ok_thdot = square(m, thdot)
    sq_u, ok_u = square(m, u)
    costs = sq_angle + 0.1 * sq_thdot + weak(0.001, u) * sq_u
    sin_th, ok_sin = sin(m, th)
    newthdot = thdot + (p.gravity_coef * sin_th + weak(p.torque_coef, u) * u) * p.dt
    newthdot = clip(newthdot, -p.max_speed, p.max_speed)
    newth = th + newthdot * p.dt
    return (newth, newthdot), -costs, False, ok_wrap & ok_angle & ok_thdot & ok_u & ok_sin


@env_kernel
def observation(state: tuple[float, float], p: Params, m: Any) -> tuple[tuple[Any, ...], bool]:
    """The float32 observation ``(cos theta, sin theta, theta_dot)``."""
    c, ok_cos = cos(m, state[0])
    s, ok_sin = sin(m, state[0])
    return (np.float32(c), np.float32(s), np.float32(state[1])), ok_cos & ok_sin


# The observation reads no constant; ``observe`` hands it the defaults (a compile-time constant).
_DEFAULTS = default_params()


@jit
def angle_normalize(x: float) -> float:
    """gymnasium's ``angle_normalize``: ``((x + pi) % (2 * pi)) - pi`` with numpy's ``%``."""
    return remainder(Libm(), x + np.pi, 2 * np.pi)[0] - np.pi


@jit
def step(state: NDArray[np.float64], action: float, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``PendulumEnv.step`` on the float64 state ``(theta, theta_dot)``.

    ``action`` is the torque (gymnasium's ``u[0]``; a float32 one is computed with as
    gymnasium computes with a float32 action array), clipped to ±``max_torque``.  Returns
    ``(next_state, reward, terminated)`` with ``terminated`` always False; the episode ends
    only by the TimeLimit.
    """
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (theta, theta_dot)")
    s, reward, terminated, _ = dynamics((state[0], state[1]), action, params, Libm())
    return np.array(s), reward, terminated


@jit
def observe(state: NDArray[np.float64]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: float32 ``(cos theta, sin theta, theta_dot)``."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (theta, theta_dot)")
    o, _ = observation((state[0], state[1]), _DEFAULTS, Libm())
    return np.array(o)


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...],
                  options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Initial states from gymnasium's reset distribution, ``U(-(pi, 1), (pi, 1))``, or
    ``U(-(x, y), (x, y))`` with the reset options ``x_init``/``y_init`` (``env.reset(options=...)``)."""
    if options is None:
        high = RESET_HIGH
    else:
        high = np.array([reset_option(options, "x_init", DEFAULT_X), reset_option(options, "y_init", DEFAULT_Y)])
        if (high < 0).any():  # numpy's uniform would say "high - low < 0"
            raise ValueError(f"reset options x_init and y_init must be >= 0 (states are drawn from "
                             f"U(-x_init, x_init) and U(-y_init, y_init)), got {high[0]} and {high[1]}")
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(low=-high, high=high, size=(*shape, STATE_DIM))


def reset_state(seed: int, options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("Pendulum-v1").reset(seed=seed, options=options)``."""
    return sample_states(generator_for_reset_seed(seed), (), options)


# |theta| below which the planner's bounded rollouts apply: 2**19 turns, half the reach of
# the remainder's fast path (envs_native.modes.remainder_fast).
_BOUNDED_ANGLE = 2.0**20 * np.pi


def reward_bound(state: NDArray[np.float64], horizon: int, params: Params) -> tuple[float, float] | None:
    """The planner's hook (``EnvSpec.reward_bound``): returns rolled out with ``x * x`` squares
    (a bounded mode, the dynamics exact) are within ``scale |R| + floor`` of gymnasium's,
    ``(scale, floor) = ((2 H + 16) 2**-52, H 2**-1000)`` for ``H = horizon`` steps, as long
    as the angle stays within 2**19 turns (it moves at most ``max_speed * dt`` a step).

    Why: the costs are sums of squares, all >= 0, so a step's cost and the running return are
    monotone in the squares; a square is off by at most one ULP (glibc's ``pow`` is within
    one), which with the cost's three roundings moves a step's cost by at most about 8.3
    ``2**-53`` of itself, and each of the ``H`` additions of a return rounds within
    ``2**-53`` of the partial sum, about ``(H + 4.2) 2**-52 |R|`` in all; the bound is twice
    that, which also covers the roundings of the comparisons, and the floor covers squares
    that underflow.  The reward does not enter the dynamics, so the states are exact.
    """
    if abs(float(state[0])) + horizon * params.max_speed * params.dt < _BOUNDED_ANGLE:
        return (2 * horizon + 16) * 2.0**-52, horizon * 2.0**-1000
    return None


SPEC = EnvSpec(
    ids={"Pendulum-v1": 200},
    params=Params,
    default_params=default_params,
    dynamics=dynamics,
    observation=observation,
    state_dim=STATE_DIM,
    obs_dim=OBS_DIM,
    action=Box(-MAX_TORQUE, MAX_TORQUE, name="torques"),
    sample_states=sample_states,
    mirrors="gymnasium/envs/classic_control/pendulum.py",
    reset_options=("x_init", "y_init"),
    # Every episode runs 200 steps and a step is a long chain of dependent operations (sin,
    # then the dynamics): many lanes keep more of them in flight, and spread the step's
    # bookkeeping (on one thread 64 lanes measured a little faster than 32).
    lanes=64,
    reward_bound=reward_bound,
    name="pendulum",
)
register(SPEC, check=False)  # the conformance tests check it
