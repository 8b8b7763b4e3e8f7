"""``fastcem.elite_indices`` gives exactly the reference's ``heapq.nlargest`` answer."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from naive import heapq_elites

import fastcem


def test_the_references_own_example():
    assert fastcem.elite_indices(np.array([5, 7, -2, 11]), 3).tolist() == [3, 1, 0]


@pytest.mark.parametrize("n", [1, 2, 15, 16, 17, 100, 4096, 20_000])
@pytest.mark.parametrize("kind", ["normal", "ties", "ascending", "descending", "organ pipe", "all equal"])
def test_matches_heapq(n, kind, rng):
    rewards = {
        "normal": rng.standard_normal(n),
        "ties": rng.integers(0, 4, n).astype(float),
        "ascending": np.arange(n, dtype=float),
        "descending": -np.arange(n, dtype=float),
        "organ pipe": -np.abs(np.arange(n) - n / 2.0),
        "all equal": np.full(n, 3.0),
    }[kind]
    for k in sorted({1, 2, n // 5, n // 2, n - 1, n} & set(range(1, n + 1))):
        got = fastcem.elite_indices(rewards, k)
        assert got.dtype == np.int64 and got.shape == (k,)
        assert got.tolist() == heapq_elites(rewards, k), (kind, n, k)


@given(
    rewards=hnp.arrays(np.float64, st.integers(1, 200), elements=st.floats(allow_nan=False)),
    data=st.data(),
)
def test_matches_heapq_on_any_values(rewards, data):
    # Includes inf, -inf, -0.0 == 0.0 ties and subnormals.
    k = data.draw(st.integers(1, len(rewards)))
    assert fastcem.elite_indices(rewards, k).tolist() == heapq_elites(rewards, k)


def test_integer_rewards_and_lists(rng):
    rewards = rng.integers(-5, 5, 300)
    assert fastcem.elite_indices(rewards, 60).tolist() == heapq_elites(rewards, 60)
    assert fastcem.elite_indices([1.0, 3.0, 3.0, 2.0], 2).tolist() == [1, 2]


def test_input_is_not_modified(rng):
    rewards = rng.standard_normal(1000)
    before = rewards.copy()
    fastcem.elite_indices(rewards, 100)
    assert rewards.tobytes() == before.tobytes()
