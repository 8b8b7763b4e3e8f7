"""Pendulum-v1 as pure numba kernels, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/pendulum.py`` (``PendulumEnv``, gymnasium 1.x).  The
state is gymnasium's float64 ``env.unwrapped.state`` ``(theta, theta_dot)``; the observation
is ``(cos theta, sin theta, theta_dot)`` rounded to float32.

Exactness notes:

* gymnasium squares numpy scalars with ``** 2``, i.e. with the C library's ``pow``, which is
  not always ``x * x``; :func:`envs_native._libm.pow2` makes the same call.
* ``sin``/``cos`` are the C library's; lockstep lanes compute glibc's own operations
  (:mod:`envs_native._glibc_trig`, where ``params.glibc_trig``) or certified values
  (:mod:`envs_native._sincos`) instead of calling it.
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

from ._fastmath import fast_sincos
from ._glibc_trig import glibc_cos, glibc_sin, matches_libm
from ._sincos import exact_sincos
from ._jit import jit
from ._libm import _fma, libm_powf2, pow2, square_fast
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
    fast: bool  # fastcem's opt-in fast mode: polynomial sin/cos, x * x squares
    float32_actions: bool  # torques arrive as float32 (a VectorEnv fed float32 actions)
    glibc_trig: bool  # the C library's sin/cos are envs_native._glibc_trig's: lanes use that
    # fastcem's planner: x * x squares in the cost with the dynamics exact, so each reward is
    # within a known bound of gymnasium's (fastcem.planning makes its choices exact from it)
    bounded_rewards: bool


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
        fast=False,
        float32_actions=False,
        glibc_trig=matches_libm(),
        bounded_rewards=False,
    )


@jit
def _clip(v: float, low: float, high: float) -> float:
    # np.clip's semantics, NaN included (both comparisons are false for NaN).
    if v < low:
        return low
    if v > high:
        return high
    return v


# angle_normalize_fast handles |x + pi| below this many turns: there the quotient is exact
# in a double, and its rounded value is at most one off.
_MAX_TURNS = 2.0**20


@jit(inline="always")
def angle_normalize_fast(x: float) -> tuple[float, bool]:
    """``(angle_normalize(x), ok)`` without a call or a branch, for ``|x + pi|`` below 2**20
    turns; ``ok`` is False elsewhere (and for NaN), where :func:`angle_normalize` is needed.

    numpy's float remainder is ``m = fmod(a, b)``, then ``m + b`` if ``m`` and ``b`` differ in
    sign, or ``+0.0`` if ``m`` is zero.  ``fmod(a, b)`` is exactly representable, so with
    the right integer quotient ``n`` one fused multiply-add ``a - n * b`` gives it exactly;
    ``floor(|a| / b)`` is that quotient or one off (when the division rounds across an
    integer), which shows as a result outside ``[0, b)`` and is corrected.
    """
    a = x + np.pi
    b = 2 * np.pi
    mag = abs(a)
    n = np.floor(mag / b)
    r = _fma(-n, b, mag)
    r = _fma(-(n - 1.0), b, mag) if r < 0.0 else r
    r = _fma(-(n + 1.0), b, mag) if r >= b else r
    fm = -r if a < 0.0 else r  # fmod takes the sign of the dividend
    m = fm + b if fm < 0.0 else (fm if fm > 0.0 else 0.0)
    return m - np.pi, mag < _MAX_TURNS * b


@jit
def angle_normalize(x: float) -> float:
    """gymnasium's ``angle_normalize``: ``((x + pi) % (2 * pi)) - pi`` with numpy's ``%``.

    The common case takes :func:`angle_normalize_fast`; the others numba's ``%``, the same
    algorithm as numpy's.
    """
    y, ok = angle_normalize_fast(x)
    return y if ok else ((x + np.pi) % (2 * np.pi)) - np.pi


@jit(inline="always")
def trig(state: tuple[float, float], params: Params) -> tuple[float, float]:
    """``(cos theta, sin theta)``: the C-library calls that the observation and the step
    share (polynomials in fast mode).

    Kept apart so that a lockstep rollout can make them for all its lanes first (see
    ``envs_native.cartpole.trig``); :func:`step_tuple` calls it.
    """
    if params.fast:
        return trig_fast(state)
    return math.cos(state[0]), math.sin(state[0])


@jit(inline="always")
def trig_lane(state: tuple[float, float], params: Params) -> tuple[tuple[float, float], bool]:
    """``(trig, ok)``: the exact mode's :func:`trig` as vector code for lockstep lanes (no
    call, no branch); where ``ok`` is False the lane must call :func:`trig` (see
    :mod:`envs_native._sincos`)."""
    c, s, ok = exact_sincos(state[0])
    return (c, s), ok


@jit(inline="always")
def trig_glibc(state: tuple[float, float]) -> tuple[tuple[float, float], bool]:
    """:func:`trig_lane` where the C library is glibc's code (``params.glibc_trig``): the
    same operations as vector code, ``ok`` False only beyond ``|theta| = 105414336``."""
    c, ok_c = glibc_cos(state[0])
    s, ok_s = glibc_sin(state[0])
    return (c, s), ok_c & ok_s


@jit(inline="always")
def trig_step_glibc(state: tuple[float, float]) -> tuple[tuple[float, float], bool]:
    """:func:`trig_glibc` for a step without an observation: the step needs only ``sin``, so
    ``cos`` is left at 0."""
    s, ok = glibc_sin(state[0])
    return (0.0, s), ok


@jit(inline="always")
def trig_fast(state: tuple[float, float]) -> tuple[float, float]:
    """The fast mode's :func:`trig`."""
    return fast_sincos(state[0])


@jit(inline="always")
def _dynamics(th: float, thdot: float, u: float, trig: tuple[float, float], p: Params) -> tuple[float, float]:
    return _dynamics_torque(th, thdot, p.torque_coef * u, trig, p)


@jit(inline="always")
def _dynamics_torque(th: float, thdot: float, torque: float, trig: tuple[float, float],
                     p: Params) -> tuple[float, float]:
    """gymnasium's update given its torque term ``3.0 / (m * l**2) * u``."""
    newthdot = thdot + (p.gravity_coef * trig[1] + torque) * p.dt
    newthdot = _clip(newthdot, -p.max_speed, p.max_speed)
    return th + newthdot * p.dt, newthdot


@jit(inline="always")
def step_trig(
    state: tuple[float, float], action: float, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float], float, bool]:
    """One step from a state tuple given its :func:`trig`: ``(next_state, reward,
    terminated)``; never terminates."""
    if params.fast or params.bounded_rewards:
        next_state, reward, terminated, _ = step_lane(state, action, trig, params)
        return next_state, reward, terminated
    if params.float32_actions:
        return _step_float32_torque(state, action, trig, params)
    th, thdot = state
    u = _clip(action, -params.max_torque, params.max_torque)
    costs = pow2(angle_normalize(th)) + 0.1 * pow2(thdot) + 0.001 * pow2(u)
    return _dynamics(th, thdot, u, trig, params), -costs, False


@jit
def _step_float32_torque(
    state: tuple[float, float], action: float, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float], float, bool]:
    """The step when gymnasium gets the torque as a float32 array: ``np.clip`` keeps it
    float32, and numpy (NEP 50) computes ``u ** 2`` (the C library's ``powf``),
    ``0.001 * (u ** 2)`` and ``3.0 / (m * l**2) * u`` in float32 before they meet float64."""
    th, thdot = state
    u = np.float32(action)
    bound = np.float32(params.max_torque)
    u = -bound if u < -bound else (bound if u > bound else u)
    cost_u = np.float32(0.001) * libm_powf2(u)
    costs = pow2(angle_normalize(th)) + 0.1 * pow2(thdot) + np.float64(cost_u)
    torque = np.float64(np.float32(params.torque_coef) * u)
    return _dynamics_torque(th, thdot, torque, trig, params), -costs, False


@jit(inline="always")
def step_lane(
    state: tuple[float, float], action: float, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float], float, bool, bool]:
    """:func:`step_trig` with the cost's angle wrap and squares on their fast paths only, so
    that lanes vectorize: ``(next_state, reward, terminated, exact)``.  Where ``exact`` is
    False (about one step in eleven) the reward must be taken from :func:`step_trig`; the
    next state is always right (the cost does not enter the dynamics).  In fast mode this
    is the step, and ``exact`` is always True; so with ``bounded_rewards``, whose squares are
    ``x * x`` too (the angle wrap must be on its fast path: ``|theta|`` below 2**20 turns)."""
    th, thdot = state
    u = _clip(action, -params.max_torque, params.max_torque)
    angle, ok_angle = angle_normalize_fast(th)
    if params.fast or params.bounded_rewards:  # the same squares, with no checks to make
        costs = angle * angle + 0.1 * (thdot * thdot) + 0.001 * (u * u)
        exact = True
    else:
        sq_angle, ok0 = square_fast(angle)
        sq_thdot, ok1 = square_fast(thdot)
        sq_u, ok2 = square_fast(u)
        costs = sq_angle + 0.1 * sq_thdot + 0.001 * sq_u
        exact = ok_angle & ok0 & ok1 & ok2
    return _dynamics(th, thdot, u, trig, params), -costs, False, exact


@jit(inline="always")
def step_tuple(
    state: tuple[float, float], action: float, params: Params
) -> tuple[tuple[float, float], float, bool]:
    """One step from a state tuple: ``(next_state, reward, terminated)``; never terminates."""
    return step_trig(state, action, trig(state, params), params)


@jit(inline="always")
def observe_trig(state: tuple[float, float], trig: tuple[float, float]) -> tuple[np.float32, ...]:
    """The float32 observation ``(cos theta, sin theta, theta_dot)`` given :func:`trig`."""
    return (np.float32(trig[0]), np.float32(trig[1]), np.float32(state[1]))


@jit(inline="always")
def observe_tuple(state: tuple[float, float]) -> tuple[np.float32, ...]:
    """The float32 observation ``(cos theta, sin theta, theta_dot)`` of a state tuple."""
    return observe_trig(state, (math.cos(state[0]), math.sin(state[0])))


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
