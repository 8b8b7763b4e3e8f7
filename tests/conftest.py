from __future__ import annotations

import os

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Each example steps gymnasium once: cheap, so many examples; derandomized in CI so that a run
# is reproducible.
settings.register_profile("default", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", parent=settings.get_profile("default"), derandomize=True)
settings.load_profile("ci" if os.environ.get("CI") else "default")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(12345)


# A gymnasium env that fastcem has no native kernels for (every classic-control env has
# them): gymnasium's Pendulum under another id.
GYM_ONLY_ID = "GymOnlyPendulum-v1"
if GYM_ONLY_ID not in gym.registry:
    gym.register(GYM_ONLY_ID, entry_point="gymnasium.envs.classic_control.pendulum:PendulumEnv", max_episode_steps=200)
