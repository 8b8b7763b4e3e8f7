"""Acrobot-v1, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/acrobot.py`` (``AcrobotEnv``, gymnasium 1.x), the
two-link swing-up of Sutton (1996) with the dynamics of Sutton & Barto's book
(``book_or_nips = "book"``) and one RK4 step of ``dt = 0.2`` per action.  The state is
gymnasium's ``env.unwrapped.state`` ``(theta1, theta2, dtheta1, dtheta2)``: float32 after
``reset`` (``uniform(...).astype(np.float32)``), float64 after a step.  The observation is
``(cos theta1, sin theta1, cos theta2, sin theta2, dtheta1, dtheta2)`` as float32.

Exactness notes:

* Every operation is in gymnasium's order: ``_dsdt``'s sums and products left to right with
  gymnasium's Python-float sub-expressions (``m1 * lc1**2``, ``2 * m2 * l1 * lc2``, ...)
  evaluated in Python as there, RK4's ``y0 + dt2 * k1`` and ``y0 + dt / 6.0 * (k1 + 2 * k2 +
  2 * k3 + k4)``, ``wrap``'s loops (:func:`envs_native.modes.wrap`) and ``bound``'s
  ``min(max(x, m), M)`` (NaN passing through, as :func:`envs_native.modes.clip`).
* ``cos``/``sin`` of float64 numpy scalars are numpy's float64 loops, which call the C
  library; ``dtheta2**2``, ``dtheta1**2`` and ``d2**2`` are numpy scalar powers, i.e. the C
  library's ``pow`` (:func:`envs_native.modes.square`).
* The reset observation takes ``cos``/``sin`` of float32 scalars: numpy's own float32
  routines (:func:`envs_native.modes.np_cos32`), not the C library's.  The state's dtype is
  the kernels' float32 flag (``EnvSpec.float32_states``); the dynamics compute in float64
  either way (``np.append`` of the float32 state and the torque is float64).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._seeding import generator_for_reset_seed
from .modes import Libm, clip, cos, is_float32, np_cos32, np_sin32, sin, square, wrap
from .spec import Discrete, EnvSpec, env_kernel, register, reset_bounds

STATE_DIM = 4
OBS_DIM = 6
NUM_ACTIONS = 3
RESET_LOW = -0.1
RESET_HIGH = 0.1
BOOK_OR_NIPS = ("book", "nips")


class Params(NamedTuple):
    """Acrobot constants: gymnasium's class attributes and ``_dsdt``'s Python-float
    sub-expressions, built by :func:`default_params`."""

    dt: float
    max_vel_1: float
    max_vel_2: float
    torques: tuple[float, float, float]  # AVAIL_TORQUE
    nips: bool  # book_or_nips == "nips"
    m2: float
    i2: float
    d1_base: float  # m1 * lc1**2
    d1_sq: float  # l1**2 + lc2**2
    d1_cos: float  # 2 * l1 * lc2
    d1_moi: tuple[float, float]  # I1, I2
    lc2_sq: float  # lc2**2
    l1_lc2: float  # l1 * lc2
    phi2_coef: float  # m2 * lc2 * g
    phi1_sq: float  # -m2 * l1 * lc2
    phi1_prod: float  # 2 * m2 * l1 * lc2
    phi1_cos: float  # (m1 * lc1 + m2 * l1) * g
    m2_l1_lc2: float  # m2 * l1 * lc2
    den: float  # m2 * lc2**2 + I2


def default_params(book_or_nips: str = "book", dt: float = 0.2) -> Params:
    """gymnasium's Acrobot constants.  ``book_or_nips`` and ``dt`` are the attributes of
    ``env.unwrapped`` of those names (the dynamics of the book, an RK4 step of 0.2 s)."""
    if book_or_nips not in BOOK_OR_NIPS:
        raise ValueError(f"book_or_nips must be one of {BOOK_OR_NIPS}, got {book_or_nips!r}")
    if isinstance(dt, (bool, np.bool_)) or not isinstance(dt, (int, float, np.floating, np.integer)):
        raise TypeError(f"dt must be a real number, got {type(dt).__name__}")
    if not (math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt must be finite and > 0, got {dt}")
    m1 = m2 = 1.0  # LINK_MASS_1, LINK_MASS_2
    l1 = 1.0  # LINK_LENGTH_1
    lc1 = lc2 = 0.5  # LINK_COM_POS_1, LINK_COM_POS_2
    i1 = i2 = 1.0  # LINK_MOI
    g = 9.8
    # Each coefficient is a sub-expression gymnasium evaluates on Python floats, evaluated here
    # the same way (left to right) so that it is the same double.
    return Params(
        dt=float(dt),
        max_vel_1=4 * math.pi,
        max_vel_2=9 * math.pi,
        torques=(-1.0, 0.0, 1.0),
        nips=book_or_nips == "nips",
        m2=m2,
        i2=i2,
        d1_base=m1 * lc1**2,
        d1_sq=l1**2 + lc2**2,
        d1_cos=2 * l1 * lc2,
        d1_moi=(i1, i2),
        lc2_sq=lc2**2,
        l1_lc2=l1 * lc2,
        phi2_coef=m2 * lc2 * g,
        phi1_sq=-m2 * l1 * lc2,
        phi1_prod=2 * m2 * l1 * lc2,
        phi1_cos=(m1 * lc1 + m2 * l1) * g,
        m2_l1_lc2=m2 * l1 * lc2,
        den=m2 * lc2**2 + i2,
    )


@env_kernel
def dsdt(theta1: float, theta2: float, dtheta1: float, dtheta2: float, a: float, p: Params,
         m: Any) -> tuple[tuple[float, float, float, float], bool]:
    """gymnasium's ``_dsdt``: ``((dtheta1, dtheta2, ddtheta1, ddtheta2), ok)`` for torque ``a``."""
    cos2, ok_c2 = cos(m, theta2)
    sin2, ok_s2 = sin(m, theta2)
    d1 = p.d1_base + p.m2 * (p.d1_sq + p.d1_cos * cos2) + p.d1_moi[0] + p.d1_moi[1]
    d2 = p.m2 * (p.lc2_sq + p.l1_lc2 * cos2) + p.i2
    c12, ok_c12 = cos(m, theta1 + theta2 - np.pi / 2.0)
    phi2 = p.phi2_coef * c12
    sq_dtheta2, ok_sq2 = square(m, dtheta2)
    c1, ok_c1 = cos(m, theta1 - np.pi / 2)
    phi1 = p.phi1_sq * sq_dtheta2 * sin2 - p.phi1_prod * dtheta2 * dtheta1 * sin2 + p.phi1_cos * c1 + phi2
    sq_d2, ok_sqd2 = square(m, d2)
    sq_dtheta1, ok_sq1 = square(m, dtheta1)
    # book: (a + d2 / d1 * phi1 - m2 * l1 * lc2 * dtheta1**2 * sin(theta2) - phi2) / (...);
    # nips leaves out the middle term.  A select, not a branch, so that lanes vectorize.
    num = a + d2 / d1 * phi1
    num = num if p.nips else num - p.m2_l1_lc2 * sq_dtheta1 * sin2
    ddtheta2 = (num - phi2) / (p.den - sq_d2 / d1)
    ddtheta1 = -(d2 * ddtheta2 + phi1) / d1
    ok = ok_c2 & ok_s2 & ok_c12 & ok_sq2 & ok_c1 & ok_sqd2 & ok_sq1
    return (dtheta1, dtheta2, ddtheta1, ddtheta2), ok


@env_kernel
def _euler(y: tuple[float, float, float, float], h: float,
           k: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``y + h * k`` elementwise (numpy's ``y0 + dt2 * k1``)."""
    return (y[0] + h * k[0], y[1] + h * k[1], y[2] + h * k[2], y[3] + h * k[3])


@env_kernel
def dynamics(state: tuple[float, float, float, float, float], action: int, p: Params,
             m: Any) -> tuple[tuple[float, float, float, float, float], float, bool, bool]:
    """gymnasium's ``step`` from ``(theta1, theta2, dtheta1, dtheta2, float32 flag)``:
    ``(next_state, reward, terminated, ok)``; ``action`` 0, 1, 2 applies torque -1, 0, +1."""
    y0 = (state[0], state[1], state[2], state[3])
    # AVAIL_TORQUE[a], as two-way selects (a nested conditional becomes branches in lanes).
    torque = p.torques[1] if action == 1 else p.torques[0]
    torque = p.torques[2] if action == 2 else torque
    # rk4(self._dsdt, s_augmented, [0, self.dt]): one step from t = 0 to dt.
    dt = p.dt - 0
    dt2 = dt / 2.0
    k1, ok1 = dsdt(y0[0], y0[1], y0[2], y0[3], torque, p, m)
    y1 = _euler(y0, dt2, k1)
    k2, ok2 = dsdt(y1[0], y1[1], y1[2], y1[3], torque, p, m)
    y2 = _euler(y0, dt2, k2)
    k3, ok3 = dsdt(y2[0], y2[1], y2[2], y2[3], torque, p, m)
    y3 = _euler(y0, dt, k3)
    k4, ok4 = dsdt(y3[0], y3[1], y3[2], y3[3], torque, p, m)
    h = dt / 6.0
    ns0 = y0[0] + h * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
    ns1 = y0[1] + h * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
    ns2 = y0[2] + h * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
    ns3 = y0[3] + h * (k1[3] + 2 * k2[3] + 2 * k3[3] + k4[3])
    ns0, ok_w0 = wrap(m, ns0, -np.pi, np.pi)
    ns1, ok_w1 = wrap(m, ns1, -np.pi, np.pi)
    ns2 = clip(ns2, -p.max_vel_1, p.max_vel_1)
    ns3 = clip(ns3, -p.max_vel_2, p.max_vel_2)
    c0, ok_t0 = cos(m, ns0)
    c10, ok_t1 = cos(m, ns1 + ns0)
    terminated = -c0 - c10 > 1.0
    reward = 0.0 if terminated else -1.0
    ok = ok1 & ok2 & ok3 & ok4 & ok_w0 & ok_w1 & ok_t0 & ok_t1
    return (ns0, ns1, ns2, ns3, 0.0), reward, terminated, ok


@env_kernel
def observation(state: tuple[float, float, float, float, float], p: Params,
                m: Any) -> tuple[tuple[Any, ...], bool]:
    """The float32 observation ``(cos theta1, sin theta1, cos theta2, sin theta2, dtheta1,
    dtheta2)``: float64 ``cos``/``sin`` rounded, or numpy's float32 ones of a float32 state."""
    theta1, theta2, dtheta1, dtheta2, flag = state
    c1, ok1 = cos(m, theta1)
    s1, ok2 = sin(m, theta1)
    c2, ok3 = cos(m, theta2)
    s2, ok4 = sin(m, theta2)
    c1f, okf1 = np_cos32(m, theta1)
    s1f, okf2 = np_sin32(m, theta1)
    c2f, okf3 = np_cos32(m, theta2)
    s2f, okf4 = np_sin32(m, theta2)
    f32 = flag != 0.0
    obs = (
        c1f if f32 else np.float32(c1),
        s1f if f32 else np.float32(s1),
        c2f if f32 else np.float32(c2),
        s2f if f32 else np.float32(s2),
        np.float32(dtheta1),
        np.float32(dtheta2),
    )
    ok = (okf1 & okf2 & okf3 & okf4) if f32 else (ok1 & ok2 & ok3 & ok4)
    return obs, ok


# The observation reads no constant; ``observe`` hands it the defaults (a compile-time constant).
_DEFAULTS = default_params()


@jit
def step(state: NDArray[Any], action: int, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``AcrobotEnv.step`` on the state ``(theta1, theta2, dtheta1, dtheta2)``
    (float32 after ``reset``, float64 after a step): ``(next_state, reward, terminated)``,
    ``next_state`` a new float64 array equal bit for bit to ``env.unwrapped.state``."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (theta1, theta2, dtheta1, dtheta2)")
    flag = 1.0 if is_float32(state[0]) else 0.0
    s = (np.float64(state[0]), np.float64(state[1]), np.float64(state[2]), np.float64(state[3]), flag)
    ns, reward, terminated, _ = dynamics(s, action, params, Libm())
    return np.array([ns[0], ns[1], ns[2], ns[3]]), reward, terminated


@jit
def observe(state: NDArray[Any]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state`` (numpy's float32 ``cos``/``sin`` for a float32 one)."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (theta1, theta2, dtheta1, dtheta2)")
    flag = 1.0 if is_float32(state[0]) else 0.0
    s = (np.float64(state[0]), np.float64(state[1]), np.float64(state[2]), np.float64(state[3]), flag)
    o, _ = observation(s, _DEFAULTS, Libm())
    return np.array(o)


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...],
                  options: Mapping[str, Any] | None = None) -> NDArray[np.float32]:
    """Initial states from gymnasium's reset distribution: ``U(-0.1, 0.1)`` per entry, or
    ``U(low, high)`` with the reset options ``low``/``high`` (``env.reset(options=...)``), as float32."""
    low, high = reset_bounds(options, RESET_LOW, RESET_HIGH)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(low=low, high=high, size=(*shape, STATE_DIM)).astype(np.float32)


def reset_state(seed: int, options: Mapping[str, Any] | None = None) -> NDArray[np.float32]:
    """Exactly the state of ``gymnasium.make("Acrobot-v1").reset(seed=seed, options=options)`` (float32)."""
    return sample_states(generator_for_reset_seed(seed), (), options)


SPEC = EnvSpec(
    ids={"Acrobot-v1": 500},
    params=Params,
    default_params=default_params,
    dynamics=dynamics,
    observation=observation,
    state_dim=STATE_DIM,
    obs_dim=OBS_DIM,
    action=Discrete(NUM_ACTIONS),
    sample_states=sample_states,
    mirrors="gymnasium/envs/classic_control/acrobot.py",
    reset_options=("low", "high"),
    float32_states=True,
    # 22 sin/cos a step (four RK4 stages of three cos and a sin, the termination test and the
    # observation) and 12 pow squares, of which one in 32 is too near a rounding midpoint for
    # x * x to be certainly pow's answer: with checked squares a third of the lanes' steps are
    # redone in the C library's mode.  Computing every square as glibc's pow does, in the
    # lanes (gathers from its tables, 8 lanes a vector), is 1.36 times faster on this AVX-512
    # machine (benchmarks/classic_control.py; docs/performance.md#classic-control).
    pow_lanes=True,
    # Its lane loop is long: two blocks of lanes interleaved spill registers (7-10% slower).
    interleave=False,
    # 32 lanes a worker: 5% faster than 64 (less of a tail when the queue runs dry; 16 no better).
    lanes=32,
    name="acrobot",
)
register(SPEC, check=False)  # the conformance tests check it
