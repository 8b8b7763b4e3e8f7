"""A made-up env registered the way any env is, to show that the engine takes it unchanged:
a damped point on a line, pushed by a clipped force, with a ``sin`` from the mode."""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

from envs_native import Box, EnvSpec, env_kernel, register
from envs_native.modes import clip, sin


class Params(NamedTuple):
    dt: float
    limit: float


def default_params() -> Params:
    return Params(dt=0.1, limit=1.5)


@env_kernel
def dynamics(state: Any, action: Any, p: Params, m: Any) -> Any:
    x, v = state
    u = clip(action, -1.0, 1.0)
    s, ok = sin(m, x)
    v = v + p.dt * (u - s)
    x = x + p.dt * v
    terminated = (x < -p.limit) | (x > p.limit)
    return (x, v), -(x * x), terminated, ok


@env_kernel
def observation(state: Any, p: Params, m: Any) -> Any:
    return (np.float32(state[0]), np.float32(state[1])), True


def sample_states(rng: np.random.Generator, size: Any) -> np.ndarray:
    shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size)
    return rng.uniform(-0.5, 0.5, size=(*shape, 2))


def python_step(state: tuple[float, float], action: float, p: Params) -> tuple[tuple[float, float], float, bool]:
    """The same step in Python floats (``math.sin`` is the C library's)."""
    x, v = state
    u = min(max(action, -1.0), 1.0)
    v = v + p.dt * (u - math.sin(x))
    x = x + p.dt * v
    return (x, v), -(x * x), x < -p.limit or x > p.limit


SPEC = EnvSpec(ids={"Toy-v0": 50}, params=Params, default_params=default_params, dynamics=dynamics,
               observation=observation, state_dim=2, obs_dim=2, action=Box(-1.0, 1.0), sample_states=sample_states,
               mirrors="tests/toy_env.py", lanes=8, name="toy")
register(SPEC)
