"""What the conformance suite needs to know of each registered env beyond its spec: where its
edge cases are, which env kwargs to try, and policies whose episodes reach the TimeLimit.

A new env adds one :class:`EnvCases` entry here, keyed by its spec's ``name``; every test of
``test_conformance.py`` then runs on it unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from hypothesis import strategies as st
from naive import balancing_cartpole_thetas


def near(*points: float, spread: float) -> st.SearchStrategy[float]:
    """Floats within ``spread`` of any of ``points``, the points themselves included."""
    return st.one_of(st.sampled_from(points), *[st.floats(p - spread, p + spread, allow_nan=False) for p in points])


def either_dtype(states: st.SearchStrategy[tuple[float, ...]]) -> st.SearchStrategy[np.ndarray]:
    """States as float64 or float32 arrays (an env whose gymnasium state is float32 at times
    computes differently on one)."""
    return st.tuples(states, st.booleans()).map(lambda t: np.array(t[0], dtype=np.float32 if t[1] else np.float64))


def either_action_dtype(actions: st.SearchStrategy[float]) -> st.SearchStrategy[object]:
    """Box actions as float64 (a policy's array) or float32 (``action_space.sample()``)."""
    return st.tuples(actions, st.booleans()).map(lambda t: np.float32(t[0]) if t[1] else t[0])


@dataclass(frozen=True)
class EnvCases:
    """``states``: a strategy of float64 states (near the termination limits, past the clips,
    far outside the usual ranges); ``actions``: a strategy of actions; ``kwargs``: env kwargs
    configurations (``None`` is the default env); ``long_policies(n, rng)``: policies whose
    episodes often run into the TimeLimit (None: any policy does)."""

    states: st.SearchStrategy[np.ndarray]
    actions: st.SearchStrategy[object]
    kwargs: list[dict | None] = field(default_factory=lambda: [None])
    long_policies: Callable[[int, np.random.Generator], np.ndarray] | None = None


def idle_acrobot_thetas(n: int, rng: np.random.Generator) -> np.ndarray:
    """Acrobot policies that mostly apply no torque (action 1): the links hang, and the
    episode runs into the TimeLimit."""
    thetas = 1e-3 * rng.standard_normal((n, 7 * 3))
    thetas[:, 6 * 3 + 1] += 1.0
    return thetas


_THETA_LIMIT = 12 * 2 * math.pi / 360
_car_position = st.one_of(near(-1.2, 0.45, 0.5, 0.6, spread=1e-6), st.floats(-1.3, 0.7, allow_nan=False),
                          st.floats(-5, 5, allow_nan=False))
_car_velocity = st.one_of(near(-0.07, 0.0, 0.07, spread=1e-6), st.floats(-0.1, 0.1, allow_nan=False))
_velocity = st.floats(-50, 50, allow_nan=False)

CASES: dict[str, EnvCases] = {
    "cartpole": EnvCases(
        states=st.tuples(
            st.one_of(near(-2.4, 2.4, spread=0.05), st.floats(-5, 5, allow_nan=False)),
            _velocity,
            st.one_of(near(-_THETA_LIMIT, _THETA_LIMIT, spread=0.01), st.floats(-4, 4, allow_nan=False)),
            _velocity,
        ).map(np.array),
        actions=st.sampled_from([0, 1]),
        kwargs=[None, {"kinematics_integrator": "semi-implicit euler"}, {"sutton_barto_reward": True}],
        long_policies=balancing_cartpole_thetas,
    ),
    "pendulum": EnvCases(
        states=st.tuples(
            st.one_of(st.floats(-4, 4, allow_nan=False), st.floats(-1e4, 1e4, allow_nan=False),
                      near(*(k * math.pi for k in range(-7, 8)), spread=1e-9)),
            st.one_of(near(-8.0, 8.0, spread=0.5), st.floats(-30, 30, allow_nan=False)),
        ).map(np.array),
        actions=st.one_of(near(-2.0, 2.0, spread=0.1), st.floats(-10, 10, allow_nan=False)),
        kwargs=[None, {"g": 9.81}, {"g": 3.7}],
    ),
    "mountain_car": EnvCases(
        states=st.tuples(_car_position, _car_velocity).map(np.array),
        actions=st.sampled_from([0, 1, 2]),
        kwargs=[None, {"goal_velocity": 0.01}],
    ),
    "continuous_mountain_car": EnvCases(
        states=either_dtype(st.tuples(_car_position, _car_velocity)),
        actions=either_action_dtype(st.one_of(near(-1.0, 0.0, 1.0, spread=1e-3), st.floats(-3, 3, allow_nan=False))),
        kwargs=[None, {"goal_velocity": 0.01}],
    ),
    "acrobot": EnvCases(
        states=either_dtype(st.tuples(
            st.one_of(near(-math.pi, 0.0, math.pi, spread=0.05), st.floats(-10, 10, allow_nan=False)),
            st.one_of(near(-math.pi, 0.0, math.pi, spread=0.05), st.floats(-10, 10, allow_nan=False)),
            st.one_of(near(-4 * math.pi, 4 * math.pi, spread=0.5), st.floats(-30, 30, allow_nan=False)),
            st.one_of(near(-9 * math.pi, 9 * math.pi, spread=0.5), st.floats(-60, 60, allow_nan=False)),
        )),
        actions=st.sampled_from([0, 1, 2]),
        kwargs=[None, {"book_or_nips": "nips"}],
        long_policies=idle_acrobot_thetas,
    ),
}
