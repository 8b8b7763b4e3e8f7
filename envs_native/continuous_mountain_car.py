"""MountainCarContinuous-v0, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/continuous_mountain_car.py``
(``Continuous_MountainCarEnv``, gymnasium 1.x).  The state is gymnasium's
``env.unwrapped.state`` ``(position, velocity)``: float64 after ``reset``, float32 after every
step (gymnasium stores ``np.array([position, velocity], dtype=np.float32)``).  The
observation is the state rounded to float32.

Exactness is mostly a matter of dtypes.  gymnasium computes with numpy scalars of the
state's dtype, the action's dtype (float32 from ``action_space.sample()``, float64 from a
policy's array) and Python floats, under NumPy 2's promotion rules (NEP 50): a Python float
beside a float32 becomes a float32 -- in arithmetic and in comparisons -- and a float32
beside a float64 becomes a float64.  ``min``/``max`` and the ``if`` clamps replace a value
by a Python float, which changes the dtype of what follows.  So the step below tracks, for
each value, whether it is a float32 (``*_is32``) or a float64 numpy scalar (``*_is64``; a
Python float is neither), and computes each operation as gymnasium's dtypes make numpy
compute it.  A float32 operation is done in float64 and rounded to float32: for ``+ - *``
of float32 operands that is the float32 result (53 >= 2 * 24 + 2 bits, so the double
rounding is innocuous).  The state's dtype is the kernels' float32 flag
(``EnvSpec.float32_states``).  The reward's ``math.pow(action, 2)`` is the C library's
``pow`` of the unclipped action (exactly ``a * a`` for a float32 action).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._seeding import generator_for_reset_seed
from .modes import Libm, cos, is_float32, square
from .mountain_car import sample_states  # the same reset as MountainCar's (float64 (U(-0.6, -0.4), 0))
from .spec import Box, EnvSpec, env_kernel, register, rounded

STATE_DIM = 2
OBS_DIM = 2


class Params(NamedTuple):
    """MountainCarContinuous constants (gymnasium's attributes of the same names)."""

    min_action: float
    max_action: float
    min_position: float
    max_position: float
    max_speed: float
    goal_position: float
    goal_velocity: float
    power: float


def default_params(goal_velocity: float = 0) -> Params:
    """gymnasium's MountainCarContinuous constants; ``goal_velocity`` is gymnasium's argument."""
    if isinstance(goal_velocity, (bool, np.bool_)) or not isinstance(goal_velocity, numbers.Real):
        raise TypeError(f"goal_velocity must be a real number, got {type(goal_velocity).__name__}")
    if not np.isfinite(goal_velocity):
        raise ValueError(f"goal_velocity must be finite, got {goal_velocity}")
    return Params(
        min_action=-1.0,
        max_action=1.0,
        min_position=-1.2,
        max_position=0.6,
        max_speed=0.07,
        goal_position=0.45,
        goal_velocity=float(goal_velocity),
        power=0.0015,
    )


@env_kernel
def r32(x: float) -> float:
    """``x`` rounded to float32, as a float64."""
    return np.float64(np.float32(x))


@env_kernel
def dynamics(state: tuple[float, float, float], action: Any, p: Params,
             m: Any) -> tuple[tuple[float, float, float], float, bool, bool]:
    """gymnasium's ``step`` from ``(position, velocity, float32 flag)``: ``(next_state, reward,
    terminated, ok)``; ``action`` is ``action[0]``, float32 or float64."""
    position, velocity, flag = state
    s32 = flag != 0.0
    a = np.float64(action)
    a32 = is_float32(action)
    # force = min(max(a, min_action), max_action): the action itself, or a Python float bound.
    below = (r32(p.min_action) if a32 else p.min_action) > a
    force = p.min_action if below else a
    above = (p.max_action if below else (r32(p.max_action) if a32 else p.max_action)) < force
    force = p.max_action if above else force
    kept = not (below | above)
    force32 = a32 & kept
    force64 = (not a32) & kept
    # velocity += force * power - 0.0025 * math.cos(3 * position)
    fp = r32(force * r32(p.power)) if force32 else force * p.power
    c, ok = cos(m, r32(3 * position) if s32 else 3 * position)
    c = 0.0025 * c  # a Python float
    d = r32(fp - r32(c)) if force32 else fp - c
    # d is a float32 if force was, a float64 scalar if force was, else a Python float.
    vel_is32 = s32 & (not force64)
    velocity = r32(velocity + r32(d)) if vel_is32 else velocity + d
    vel_is64 = not vel_is32  # np.float64 (from a float64 state or operand)
    # if velocity > max_speed: velocity = max_speed (a Python float); likewise below.
    high = velocity > (r32(p.max_speed) if vel_is32 else p.max_speed)
    velocity = p.max_speed if high else velocity
    vel_is32 = vel_is32 & (not high)
    vel_is64 = vel_is64 & (not high)
    low = velocity < (r32(-p.max_speed) if vel_is32 else -p.max_speed)
    velocity = -p.max_speed if low else velocity
    vel_is32 = vel_is32 & (not low)
    vel_is64 = vel_is64 & (not low)
    # position += velocity
    pos_is32 = s32 & (not vel_is64)
    position = r32(position + r32(velocity)) if pos_is32 else position + velocity
    high = position > (r32(p.max_position) if pos_is32 else p.max_position)
    position = p.max_position if high else position
    pos_is32 = pos_is32 & (not high)
    low = position < (r32(p.min_position) if pos_is32 else p.min_position)
    position = p.min_position if low else position
    pos_is32 = pos_is32 & (not low)
    wall = (position == (r32(p.min_position) if pos_is32 else p.min_position)) & (velocity < 0)
    velocity = 0.0 if wall else velocity
    vel_is32 = vel_is32 & (not wall)
    terminated = (position >= (r32(p.goal_position) if pos_is32 else p.goal_position)) & (
        velocity >= (r32(p.goal_velocity) if vel_is32 else p.goal_velocity)
    )
    # reward = 0 (100.0 at the goal); reward -= math.pow(action[0], 2) * 0.1
    if a32:
        sq, ok_sq = a * a, True  # exact: a float32's square fits a double
    else:
        sq, ok_sq = square(m, a)
    reward = (100.0 if terminated else 0.0) - sq * 0.1
    return (r32(position), r32(velocity), 1.0), reward, terminated, ok & ok_sq


@env_kernel
def observation(state: tuple[float, float, float], p: Params, m: Any) -> tuple[tuple[Any, ...], bool]:
    """The float32 observation: the state rounded."""
    return (np.float32(state[0]), np.float32(state[1])), True


@jit
def step(state: NDArray[Any], action: Any, params: Params) -> tuple[NDArray[np.float32], float, bool]:
    """gymnasium's ``Continuous_MountainCarEnv.step`` on the state ``(position, velocity)``
    (float64 after ``reset``, float32 after a step; the dtype is part of the arithmetic):
    ``(next_state, reward, terminated)``, ``next_state`` a new float32 array equal bit for
    bit to ``env.unwrapped.state``.  ``action`` is the force (gymnasium's ``action[0]``; a
    float32 one computes as gymnasium computes with a float32 action array)."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (position, velocity)")
    flag = 1.0 if is_float32(state[0]) else 0.0
    s, reward, terminated, _ = dynamics((np.float64(state[0]), np.float64(state[1]), flag), action, params, Libm())
    return np.array([np.float32(s[0]), np.float32(s[1])]), reward, terminated


@jit
def observe(state: NDArray[Any]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: the state rounded to float32."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (position, velocity)")
    return rounded(state)


def reset_state(seed: int, options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("MountainCarContinuous-v0").reset(seed=seed, options=options)``."""
    return sample_states(generator_for_reset_seed(seed), (), options)


SPEC = EnvSpec(
    ids={"MountainCarContinuous-v0": 999},
    params=Params,
    default_params=default_params,
    dynamics=dynamics,
    observation=observation,
    state_dim=STATE_DIM,
    obs_dim=OBS_DIM,
    action=Box(-1.0, 1.0, name="forces"),
    sample_states=sample_states,
    mirrors="gymnasium/envs/classic_control/continuous_mountain_car.py",
    reset_options=("low", "high"),
    float32_states=True,
    lanes=64,
    name="continuous_mountain_car",
)
register(SPEC, check=False)  # the conformance tests check it
