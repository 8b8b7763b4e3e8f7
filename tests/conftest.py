from __future__ import annotations

import os

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
