"""MountainCar-v0, bit-identical to gymnasium.

Mirrors ``gymnasium/envs/classic_control/mountain_car.py`` (``MountainCarEnv``, gymnasium
1.x), Moore's (1990) car in a valley.  The state is gymnasium's float64 ``env.unwrapped.state``
``(position, velocity)``; the observation is that state rounded to float32.

Exactness: the step is gymnasium's, operation for operation -- ``velocity + ((action - 1) *
force + cos(3 * position) * (-gravity))`` with the C library's ``cos`` (``math.cos``), the
two ``np.clip``s (NaN passes through), the left wall that stops the car, and termination at
the goal.  gymnasium's state stays float64 throughout (``np.clip`` of float64 scalars), so a
state given as float32 is taken at its float64 value.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from ._jit import jit
from ._seeding import generator_for_reset_seed
from .modes import Libm, clip, cos
from .spec import Discrete, EnvSpec, env_kernel, register, reset_bounds, rounded

STATE_DIM = 2
OBS_DIM = 2
NUM_ACTIONS = 3
RESET_LOW = -0.6
RESET_HIGH = -0.4


class Params(NamedTuple):
    """MountainCar constants (gymnasium's attributes of the same names)."""

    min_position: float
    max_position: float
    max_speed: float
    goal_position: float
    goal_velocity: float
    force: float
    gravity: float


def default_params(goal_velocity: float = 0) -> Params:
    """gymnasium's MountainCar constants; ``goal_velocity`` is gymnasium's argument (the
    velocity the car must have at the goal)."""
    if isinstance(goal_velocity, (bool, np.bool_)) or not isinstance(goal_velocity, numbers.Real):
        raise TypeError(f"goal_velocity must be a real number, got {type(goal_velocity).__name__}")
    if not np.isfinite(goal_velocity):
        raise ValueError(f"goal_velocity must be finite, got {goal_velocity}")
    return Params(
        min_position=-1.2,
        max_position=0.6,
        max_speed=0.07,
        goal_position=0.5,
        goal_velocity=float(goal_velocity),
        force=0.001,
        gravity=0.0025,
    )


@env_kernel
def dynamics(state: tuple[float, float], action: int, p: Params,
             m: Any) -> tuple[tuple[float, float], float, bool, bool]:
    """gymnasium's ``step`` from a state tuple: ``(next_state, reward, terminated, ok)``;
    ``action`` 0 pushes left, 1 not at all, 2 right."""
    position, velocity = state
    c, ok = cos(m, 3 * position)
    velocity = velocity + ((action - 1) * p.force + c * (-p.gravity))
    velocity = clip(velocity, -p.max_speed, p.max_speed)
    position = position + velocity
    position = clip(position, p.min_position, p.max_position)
    # The left wall stops the car (gymnasium sets the int 0: the same float value).
    velocity = 0.0 if (position == p.min_position) & (velocity < 0) else velocity
    terminated = (position >= p.goal_position) & (velocity >= p.goal_velocity)
    return (position, velocity), -1.0, terminated, ok


@env_kernel
def observation(state: tuple[float, float], p: Params, m: Any) -> tuple[tuple[Any, ...], bool]:
    """The float32 observation: the state rounded."""
    return (np.float32(state[0]), np.float32(state[1])), True


@jit
def step(state: NDArray[np.float64], action: int, params: Params) -> tuple[NDArray[np.float64], float, bool]:
    """gymnasium's ``MountainCarEnv.step`` on the state ``(position, velocity)``:
    ``(next_state, reward, terminated)``, ``next_state`` a new float64 array equal bit for
    bit to ``env.unwrapped.state`` after ``env.step(action)``."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (position, velocity)")
    s, reward, terminated, _ = dynamics((np.float64(state[0]), np.float64(state[1])), action, params, Libm())
    return np.array(s), reward, terminated


@jit
def observe(state: NDArray[np.float64]) -> NDArray[np.float32]:
    """gymnasium's observation of ``state``: the state rounded to float32."""
    if state.shape[0] != STATE_DIM:
        raise ValueError("state must have 2 values (position, velocity)")
    return rounded(state)


def sample_states(rng: np.random.Generator, size: int | tuple[int, ...],
                  options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Initial states from gymnasium's reset distribution: ``(U(-0.6, -0.4), 0)``, or
    ``(U(low, high), 0)`` with the reset options ``low``/``high`` (``env.reset(options=...)``)."""
    low, high = reset_bounds(options, RESET_LOW, RESET_HIGH)
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    states = np.zeros((*shape, STATE_DIM))
    states[..., 0] = rng.uniform(low=low, high=high, size=shape)
    return states


def reset_state(seed: int, options: Mapping[str, Any] | None = None) -> NDArray[np.float64]:
    """Exactly the state of ``gymnasium.make("MountainCar-v0").reset(seed=seed, options=options)``."""
    return sample_states(generator_for_reset_seed(seed), (), options)


SPEC = EnvSpec(
    ids={"MountainCar-v0": 200},
    params=Params,
    default_params=default_params,
    dynamics=dynamics,
    observation=observation,
    state_dim=STATE_DIM,
    obs_dim=OBS_DIM,
    action=Discrete(NUM_ACTIONS),
    sample_states=sample_states,
    mirrors="gymnasium/envs/classic_control/mountain_car.py",
    reset_options=("low", "high"),
    lanes=64,
    name="mountain_car",
)
register(SPEC, check=False)  # the conformance tests check it
