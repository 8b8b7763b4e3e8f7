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


_THETA_LIMIT = 12 * 2 * math.pi / 360
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
}
