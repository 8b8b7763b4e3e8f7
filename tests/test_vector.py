"""``fastcem.make_vec`` / ``gymnasium.make_vec("fastcem/...")``: the same bits as gymnasium's
``SyncVectorEnv`` step for step, across autoresets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fastcem
from conftest import GYM_ONLY_ID


def test_list_seeds_reset_with_fresh_entropy_and_make_vec():
    env = fastcem.make_vec("Pendulum-v1", 3)
    a, _ = env.reset(seed=[1, 2, 3])
    b, _ = gym.make_vec("Pendulum-v1", num_envs=3, vectorization_mode="sync").reset(seed=[1, 2, 3])
    assert a.tobytes() == b.tobytes()
    c, _ = env.reset()
    d, _ = env.reset()
    assert c.tobytes() != d.tobytes()
    env.close()


@pytest.mark.parametrize("env_id, actions, match", [
    ("CartPole-v1", np.zeros((3, 1), dtype=np.int64), r"shape \(3,\)"),
    ("CartPole-v1", np.array([0, 1, 2]), r"ints in \{0, 1\}"),
    ("CartPole-v1", np.array([0.0, 1.0, 0.0]), "ints"),
    ("Pendulum-v1", np.zeros(3), r"shape \(3, 1\)"),
    ("Pendulum-v1", np.array([["a"], ["b"], ["c"]]), "torques"),
])
def test_bad_actions(env_id, actions, match):
    env = fastcem.make_vec(env_id, 3)
    env.reset(seed=0)
    with pytest.raises(ValueError, match=match):
        env.step(actions)


def test_bad_construction_and_order():
    with pytest.raises(ValueError, match="num_envs must be >= 1"):
        fastcem.make_vec("CartPole-v1", 0)
    with pytest.raises(ValueError, match="CartPole-v0"):
        fastcem.make_vec(GYM_ONLY_ID, 2)
    env = fastcem.make_vec("CartPole-v1", 2)
    with pytest.raises(RuntimeError, match="reset"):
        env.step(np.zeros(2, dtype=np.int64))
    with pytest.raises(ValueError, match="seed must be an int or 2 seeds"):
        env.reset(seed=[1])


def test_pendulum_with_float32_actions_as_gymnasium_computes_them():
    # action_space.sample() gives float32 torques; gymnasium then squares them with powf and
    # scales them in float32.  1 + 2**-12 is a float32 whose powf square differs from x * x.
    n = 8
    reference = gym.make_vec("Pendulum-v1", num_envs=n, vectorization_mode="sync")
    native = fastcem.make_vec("Pendulum-v1", n)
    reference.action_space.seed(1)
    assert reference.reset(seed=4)[0].tobytes() == native.reset(seed=4)[0].tobytes()
    for t in range(400):
        actions = reference.action_space.sample()
        actions[0, 0] = np.float32(1 + 2**-12)
        actions[1, 0] = np.float32(2.0)
        assert actions.dtype == np.float32
        for g, w in zip(native.step(actions)[:4], reference.step(actions)[:4]):
            assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), t
    assert np.float32(1 + 2**-12) ** 2 != np.float32(1 + 2**-12) * np.float32(1 + 2**-12)
