"""CartPole-v0 / CartPole-v1, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/cartpole.py`` (``CartPoleEnv``, gymnasium 1.x), the
cart-pole of Barto, Sutton & Anderson (1983).  The state is gymnasium's float64
``env.unwrapped.state`` ``(x, x_dot, theta, theta_dot)``; the observation is that state
rounded to float32, exactly what ``env.step`` returns.

Exactness rests on every operation being written in gymnasium's order (``a * b * c`` is
``(a * b) * c``), no fast-math, and ``sin``/``cos`` being the C library's
(:mod:`envs_native.modes`).  The conformance tests check all of it against gymnasium with
``==``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._seeding import generator_for_reset_seed
from .modes import Libm, cos, sin
from .spec import Discrete, EnvSpec, env_kernel, register, reset_bounds, rounded

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


def default_params(sutton_barto_reward: bool = False, kinematics_integrator: str = "euler") -> Params:
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
        raise TypeError(f"sutton_barto_reward must be a bool, got {type(sutton_barto_reward).__name__}")
    if kinematics_integrator == "semi-implicit":
        kinematics_integrator = "semi-implicit euler"
    if kinematics_integrator not in INTEGRATORS:
        raise ValueError(f"kinematics_integrator must be one of {INTEGRATORS}, got {kinematics_integrator!r}")
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
    )


@env_kernel
def dynamics(state: tuple[float, float, float, float], action: int, p: Params,
             m: Any) -> tuple[tuple[float, float, float, float], float, bool, bool]:
    """gymnasium's ``step`` from a state tuple: ``(next_state, reward, terminated, ok)``.
    ``action`` 1 pushes right, anything else left; the reward is that of an env that had
    not terminated before this step (rollouts stop at termination)."""
    x, x_dot, theta, theta_dot = state
    costheta, ok_cos = cos(m, theta)
    sintheta, ok_sin = sin(m, theta)
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
    if p.sutton_barto_reward:
        reward = -1.0 if terminated else 0.0
    else:
        reward = 1.0
    return (x, x_dot, theta, theta_dot), reward, terminated, ok_cos & ok_sin


@env_kernel
def observation(state: tuple[float, float, float, float], p: Params, m: Any) -> tuple[tuple[Any, ...], bool]:
    """The float32 observation: the state rounded."""
    return (np.float32(state[0]), np.float32(state[1]), np.float32(state[2]), np.float32(state[3])), True


@jit
def step(state: NDArray[np.float64], action: int, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``CartPoleEnv.step`` on the float64 state ``(x, x_dot, theta, theta_dot)``:
    ``(next_state, reward, terminated)``, ``next_state`` a new array equal bit for bit to
    ``env.unwrapped.state`` after ``env.step(action)``."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (x, x_dot, theta, theta_dot)")
    s, reward, terminated, _ = dynamics((state[0], state[1], state[2], state[3]), action, params, Libm())
    return np.array(s), reward, terminated


@jit
def observe(state: NDArray[np.float64]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: the state rounded to float32."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 4 values (x, x_dot, theta, theta_dot)")
    return rounded(state)


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...],
                  options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Initial states from gymnasium's reset distribution, ``U(-0.05, 0.05)`` per entry, or
    ``U(low, high)`` with the reset options ``low``/``high`` (``env.reset(options=...)``)."""
    low, high = reset_bounds(options, RESET_LOW, RESET_HIGH)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(low=low, high=high, size=(*shape, STATE_DIM))


def reset_state(seed: int, options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("CartPole-v1").reset(seed=seed, options=options)``."""
    return sample_states(generator_for_reset_seed(seed), (), options)


SPEC = EnvSpec(
    ids={"CartPole-v0": 200, "CartPole-v1": 500},
    params=Params,
    default_params=default_params,
    dynamics=dynamics,
    observation=observation,
    state_dim=STATE_DIM,
    obs_dim=OBS_DIM,
    action=Discrete(NUM_ACTIONS),
    sample_states=sample_states,
    mirrors="gymnasium/envs/classic_control/cartpole.py",
    reset_options=("low", "high"),
    # Lanes stepped side by side by a worker: the step's bookkeeping outside the vector loop
    # is spread over more lanes (on one thread 64 lanes measured faster than 16 or 32).
    lanes=64,
    name="cartpole",
)
register(SPEC, check=False)  # the conformance tests check it
