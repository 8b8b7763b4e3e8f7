"""Seeds to generators exactly as gymnasium makes them (``gymnasium.utils.seeding.np_random``)."""

from __future__ import annotations

import numbers

import numpy as np


def check_seed(seed: object, name: str = "seed") -> int:
    """Return ``seed`` as an int if it is a non-negative integer, else raise."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(f"{name} must be a non-negative int, got {type(seed).__name__}")
    if seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed}")
    return int(seed)


def generator_for_reset_seed(seed: int) -> np.random.Generator:
    """The generator gymnasium's ``env.reset(seed=seed)`` draws the initial state from."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(check_seed(seed))))
