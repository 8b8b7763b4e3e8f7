"""CartPole-v0 / CartPole-v1 as pure numba kernels, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/cartpole.py`` (``CartPoleEnv``, gymnasium 1.x), the
cart-pole of Barto, Sutton & Anderson (1983).  The state is gymnasium's float64
``env.unwrapped.state`` ``(x, x_dot, theta, theta_dot)``; the observation is that state
rounded to float32, exactly what ``env.step`` returns.

Exactness rests on three things: every arithmetic operation is written in gymnasium's order
(``a * b * c`` is ``(a * b) * c``), no fast-math (no fused multiply-add, no reassociation),
and ``sin``/``cos`` are the C library's, which numpy also calls for float64 scalars.
``tests/test_envs_equivalence.py`` checks all of it against gymnasium with ``==``.

The rollout kernels step a state held as a tuple of floats (``step_tuple``), which LLVM
keeps in registers; ``step`` is the array-in, array-out form of the same arithmetic.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._fastmath import fast_sincos
from ._glibc_trig import glibc_cos, glibc_sin, matches_libm
from ._sincos import exact_sincos_small
from ._jit import jit
from ._seeding import generator_for_reset_seed

STATE_DIM = 4
OBS_DIM = 4
NUM_ACTIONS = 2
RESET_LOW = -0.05
RESET_HIGH = 0.05
INTEGRATORS = ("euler", "semi-implicit euler")


class Params(NamedTuple):
    """CartPole constants; build them with :func:`default_params` so derived ones agree."""

    gravity: float
    masscart: float
    masspole: float
    total_mass: float
    length: float
    polemass_length: float
    force_mag: float
    tau: float
    theta_threshold_radians: float
    x_threshold: float
    semi_implicit: bool
    sutton_barto_reward: bool
    fast: bool  # fastcem's opt-in fast mode: polynomial sin/cos (see envs_native._fastmath)
    glibc_trig: bool  # the C library's sin/cos are envs_native._glibc_trig's: lanes use that


def default_params(
    sutton_barto_reward: bool = False, kinematics_integrator: str = "euler"
) -> Params:
    """gymnasium's CartPole constants.

    Parameters
    ----------
    sutton_barto_reward : bool
        gymnasium's ``sutton_barto_reward`` option: reward 0 per step and -1 when the pole
        falls, instead of 1 per step.
    kinematics_integrator : {"euler", "semi-implicit euler"}
        gymnasium's ``kinematics_integrator`` attribute (``"semi-implicit"`` is accepted too).
    """
    if not isinstance(sutton_barto_reward, (bool, np.bool_)):
        raise TypeError(
            f"sutton_barto_reward must be a bool, got {type(sutton_barto_reward).__name__}"
        )
    if kinematics_integrator == "semi-implicit":
        kinematics_integrator = "semi-implicit euler"
    if kinematics_integrator not in INTEGRATORS:
        raise ValueError(
            f"kinematics_integrator must be one of {INTEGRATORS}, got {kinematics_integrator!r}"
        )
    gravity = 9.8
    masscart = 1.0
    masspole = 0.1
    length = 0.5  # half the pole's length
    # Derived constants are computed as gymnasium computes them, never typed in.
    return Params(
        gravity=gravity,
        masscart=masscart,
        masspole=masspole,
        total_mass=masspole + masscart,
        length=length,
        polemass_length=masspole * length,
        force_mag=10.0,
        tau=0.02,
        theta_threshold_radians=12 * 2 * math.pi / 360,
        x_threshold=2.4,
        semi_implicit=kinematics_integrator != "euler",
        sutton_barto_reward=bool(sutton_barto_reward),
        fast=False,
        glibc_trig=matches_libm(),
    )


@jit(inline="always")
def trig(state: tuple[float, float, float, float], params: Params) -> tuple[float, float]:
    """``(cos theta, sin theta)``: the step's C-library calls (polynomials in fast mode).

    They are kept apart from the rest of the step so that a lockstep rollout can make them
    for all its lanes first and run everything else as vector code (LLVM cannot vectorize a
    loop that calls ``sin``); :func:`step_tuple` is the two put together.
    """
    if params.fast:
        return trig_fast(state)
    return math.cos(state[2]), math.sin(state[2])


@jit(inline="always")
def trig_lane(state: tuple[float, float, float, float], params: Params) -> tuple[tuple[float, float], bool]:
    """``(trig, ok)``: the exact mode's :func:`trig` as vector code for lockstep lanes (no
    call, no branch); where ``ok`` is False the lane must call :func:`trig` (see
    :mod:`envs_native._sincos`)."""
    c, s, ok = exact_sincos_small(state[2])
    return (c, s), ok


@jit(inline="always")
def trig_glibc(state: tuple[float, float, float, float]) -> tuple[tuple[float, float], bool]:
    """:func:`trig_lane` where the C library is glibc's code (``params.glibc_trig``): the
    same operations as vector code, ``ok`` False only beyond ``|theta| = 105414336``."""
    c, ok_c = glibc_cos(state[2])
    s, ok_s = glibc_sin(state[2])
    return (c, s), ok_c & ok_s


#: The step needs both ``cos`` and ``sin``.
trig_step_glibc = trig_glibc


@jit(inline="always")
def trig_fast(state: tuple[float, float, float, float]) -> tuple[float, float]:
    """The fast mode's :func:`trig`."""
    return fast_sincos(state[2])


@jit(inline="always")
def step_trig(
    state: tuple[float, float, float, float], action: int, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float, float, float], float, bool]:
    """One step from a state tuple given its :func:`trig`: ``(next_state, reward, terminated)``."""
    x, x_dot, theta, theta_dot = state
    costheta, sintheta = trig
    p = params
    force = p.force_mag if action == 1 else -p.force_mag
    temp = (force + p.polemass_length * (theta_dot * theta_dot) * sintheta) / p.total_mass
    thetaacc = (p.gravity * sintheta - costheta * temp) / (
        p.length * (4.0 / 3.0 - p.masspole * (costheta * costheta) / p.total_mass)
    )
    xacc = temp - p.polemass_length * thetaacc * costheta / p.total_mass
    if p.semi_implicit:
        x_dot = x_dot + p.tau * xacc
        x = x + p.tau * x_dot
        theta_dot = theta_dot + p.tau * thetaacc
        theta = theta + p.tau * theta_dot
    else:
        x = x + p.tau * x_dot
        x_dot = x_dot + p.tau * xacc
        theta = theta + p.tau * theta_dot
        theta_dot = theta_dot + p.tau * thetaacc
    # Non-short-circuit ``|``: four compares and no branches, so lanes vectorize.
    terminated = (
        (x < -p.x_threshold)
        | (x > p.x_threshold)
        | (theta < -p.theta_threshold_radians)
        | (theta > p.theta_threshold_radians)
    )
    # The reward of a step that has not been taken past termination: gymnasium's
    # ``steps_beyond_terminated is None`` branch.  Rollouts stop at termination.
    if p.sutton_barto_reward:
        reward = -1.0 if terminated else 0.0
    else:
        reward = 1.0
    return (x, x_dot, theta, theta_dot), reward, terminated


@jit(inline="always")
def step_lane(
    state: tuple[float, float, float, float], action: int, trig: tuple[float, float], params: Params
) -> tuple[tuple[float, float, float, float], float, bool, bool]:
    """:func:`step_trig` for lockstep lanes, ``(next_state, reward, terminated, exact)``; the
    step has no slow path, so ``exact`` is always True (see ``envs_native.pendulum.step_lane``)."""
    state, reward, terminated = step_trig(state, action, trig, params)
    return state, reward, terminated, True


@jit(inline="always")
def step_tuple(
    state: tuple[float, float, float, float], action: int, params: Params
) -> tuple[tuple[float, float, float, float], float, bool]:
    """One step from a state tuple: ``(next_state, reward, terminated)``."""
    return step_trig(state, action, trig(state, params), params)


@jit(inline="always")
def observe_trig(state: tuple[float, float, float, float], trig: tuple[float, float]) -> tuple[np.float32, ...]:
    """The float32 observation of a state tuple (CartPole's needs no :func:`trig`)."""
    return (
        np.float32(state[0]),
        np.float32(state[1]),
        np.float32(state[2]),
        np.float32(state[3]),
    )


@jit(inline="always")
def observe_tuple(state: tuple[float, float, float, float]) -> tuple[np.float32, ...]:
    """The float32 observation of a state tuple."""
    return observe_trig(state, (0.0, 0.0))


@jit
def step(state: NDArray[np.float64], action: int, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``CartPoleEnv.step`` on the float64 state ``(x, x_dot, theta, theta_dot)``.

    Returns ``(next_state, reward, terminated)``; ``next_state`` is a new float64 array equal,
    bit for bit, to ``env.unwrapped.state`` after ``env.step(action)``.  ``action`` 1 pushes
    right, anything else left (gymnasium asserts ``action in {0, 1}``).  The reward is that of
    an env that had not terminated before this step.
    """
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (x, x_dot, theta, theta_dot)")
    s, reward, terminated = step_tuple((state[0], state[1], state[2], state[3]), action, params)
    out = np.empty(STATE_DIM, dtype=np.float64)
    out[0], out[1], out[2], out[3] = s
    return out, reward, terminated


@jit
def observe(state: NDArray[np.float64]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: the state rounded to float32."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (x, x_dot, theta, theta_dot)")
    out = np.empty(OBS_DIM, dtype=np.float32)
    for i in range(OBS_DIM):
        out[i] = np.float32(state[i])
    return out


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...]) -> NDArray[np.float64]:
    """Initial states from gymnasium's reset distribution, ``U(-0.05, 0.05)`` per entry."""
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(low=RESET_LOW, high=RESET_HIGH, size=shape + (STATE_DIM,))


def reset_state(seed: int) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("CartPole-v1").reset(seed=seed)``."""
    return sample_states(generator_for_reset_seed(seed), ())
