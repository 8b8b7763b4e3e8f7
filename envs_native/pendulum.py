"""Pendulum-v1 as pure numba kernels, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/pendulum.py`` (``PendulumEnv``, gymnasium 1.x).  The
state is gymnasium's float64 ``env.unwrapped.state`` ``(theta, theta_dot)``; the observation
is ``(cos theta, sin theta, theta_dot)`` rounded to float32.

Exactness notes:

* gymnasium squares numpy scalars with ``** 2``, i.e. with the C library's ``pow``, which is
  not always ``x * x``; :func:`envs_native._libm.pow2` makes the same call.
* The cost uses ``angle_normalize(th) = ((th + pi) % (2 pi)) - pi`` with numpy's float
  remainder (the sign of the divisor); numba's float ``%`` is the same algorithm (``fmod``,
  then a correction), checked far outside ``[-pi, pi]`` by the tests.
* The cost is computed from the pre-step state and the clipped torque, as in gymnasium.
* Torques are clipped to ``[-max_torque, max_torque]`` and speeds to ``[-max_speed,
  max_speed]`` with NaN passing through, as ``np.clip`` does.
"""

from __future__ import annotations

import math
import numbers
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._libm import pow2
from ._seeding import generator_for_reset_seed

STATE_DIM = 2
OBS_DIM = 3
ACTION_DIM = 1
RESET_HIGH = np.array([np.pi, 1.0])  # gymnasium's DEFAULT_X, DEFAULT_Y


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
    l = 1.0  # noqa: E741
    # The coefficients are gymnasium's sub-expressions, evaluated left to right as there.
    return Params(
        max_speed=8.0,
        max_torque=2.0,
        dt=0.05,
        g=float(g),
        m=m,
        l=l,
        gravity_coef=3 * g / (2 * l),
        torque_coef=3.0 / (m * l**2),
    )


@jit
def _clip(v: float, low: float, high: float) -> float:
    # np.clip's semantics, NaN included (both comparisons are false for NaN).
    if v < low:
        return low
    if v > high:
        return high
    return v


@jit
def angle_normalize(x: float) -> float:
    """gymnasium's ``angle_normalize``: ``((x + pi) % (2 * pi)) - pi`` with numpy's ``%``.

    numpy's float remainder is ``m = fmod(a, b)``, then ``m + b`` if ``m`` and ``b`` differ in
    sign, or ``+0.0`` if ``m`` is zero.  For ``|a| < b``, ``fmod(a, b)`` is exactly ``a``, so the
    common case needs no ``fmod`` call; the others take numba's ``%``, the same algorithm.
    """
    a = x + np.pi
    b = 2 * np.pi
    if -b < a < b:
        if a > 0.0:
            m = a
        elif a < 0.0:
            m = a + b
        else:
            m = 0.0
    else:
        m = a % b
    return m - np.pi


@jit(inline="always")
def trig(state: tuple[float, float]) -> tuple[float, float]:
    """``(cos theta, sin theta)``: the C-library calls that the observation and the step share.

    Kept apart so that a lockstep rollout can make them for all its lanes first (see
    ``envs_native.cartpole.trig``); :func:`step_tuple` and :func:`observe_tuple` call it.
    """
    return math.cos(state[0]), math.sin(state[0])


@jit(inline="always")
def step_trig(
    state: tuple[float, float], action: float, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float], float, bool]:
    """One step from a state tuple given its :func:`trig`: ``(next_state, reward,
    terminated)``; never terminates."""
    th, thdot = state
    p = params
    u = _clip(action, -p.max_torque, p.max_torque)
    costs = pow2(angle_normalize(th)) + 0.1 * pow2(thdot) + 0.001 * pow2(u)
    newthdot = thdot + (p.gravity_coef * trig[1] + p.torque_coef * u) * p.dt
    newthdot = _clip(newthdot, -p.max_speed, p.max_speed)
    newth = th + newthdot * p.dt
    return (newth, newthdot), -costs, False


@jit(inline="always")
def step_tuple(
    state: tuple[float, float], action: float, params: Params
) -> tuple[tuple[float, float], float, bool]:
    """One step from a state tuple: ``(next_state, reward, terminated)``; never terminates."""
    return step_trig(state, action, trig(state), params)


@jit(inline="always")
def observe_trig(state: tuple[float, float], trig: tuple[float, float]) -> tuple[np.float32, ...]:
    """The float32 observation ``(cos theta, sin theta, theta_dot)`` given :func:`trig`."""
    return (np.float32(trig[0]), np.float32(trig[1]), np.float32(state[1]))


@jit(inline="always")
def observe_tuple(state: tuple[float, float]) -> tuple[np.float32, ...]:
    """The float32 observation ``(cos theta, sin theta, theta_dot)`` of a state tuple."""
    return observe_trig(state, trig(state))


@jit
def step(state: NDArray[np.float64], action: float, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``PendulumEnv.step`` on the float64 state ``(theta, theta_dot)``.

    ``action`` is the torque as a float64 (gymnasium's ``u[0]``), clipped to ±``max_torque``.
    Returns ``(next_state, reward, terminated)`` with ``terminated`` always False; the episode
    ends only by the TimeLimit.
    """
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (theta, theta_dot)")
    s, reward, terminated = step_tuple((state[0], state[1]), action, params)
    out = np.empty(STATE_DIM, dtype=np.float64)
    out[0], out[1] = s
    return out, reward, terminated


@jit
def observe(state: NDArray[np.float64]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: float32 ``(cos theta, sin theta, theta_dot)``."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (theta, theta_dot)")
    o = observe_tuple((state[0], state[1]))
    out = np.empty(OBS_DIM, dtype=np.float32)
    out[0], out[1], out[2] = o
    return out


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...]) -> NDArray[np.float64]:
    """Initial states from gymnasium's reset distribution, ``U(-(pi, 1), (pi, 1))``."""
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(low=-RESET_HIGH, high=RESET_HIGH, size=shape + (STATE_DIM,))


def reset_state(seed: int) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("Pendulum-v1").reset(seed=seed)``."""
    return sample_states(generator_for_reset_seed(seed), ())
