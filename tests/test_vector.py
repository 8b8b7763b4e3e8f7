"""``fastcem.make_vec`` / ``gymnasium.make_vec("fastcem/...")``: the same bits as gymnasium's
``SyncVectorEnv`` step for step, across autoresets."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import fastcem


@pytest.mark.parametrize("env_id, steps", [("CartPole-v1", 1500), ("CartPole-v0", 600), ("Pendulum-v1", 700)])
def test_same_as_sync_vector_env_across_autoresets(env_id, steps, rng):
    n = 12
    reference = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync")
    native = gym.make_vec(f"fastcem/{env_id}", num_envs=n)
    assert isinstance(native, fastcem.NativeVectorEnv)
    assert native.single_observation_space == reference.single_observation_space
    assert native.action_space == reference.action_space and native.observation_space == reference.observation_space
    obs_ref, _ = reference.reset(seed=21)
    obs, info = native.reset(seed=21)
    assert obs.dtype == np.float32 and obs.tobytes() == obs_ref.tobytes() and info == {}
    ends = truncations = 0
    for t in range(steps):
        if env_id.startswith("CartPole"):
            # Mostly a balancing controller, so that episodes also reach the TimeLimit.
            push = (obs[:, 2] + 0.3 * obs[:, 3] > 0).astype(np.int64)
            actions = np.where(rng.random(n) < 0.1, rng.integers(0, 2, n), push)
        else:
            actions = rng.uniform(-2.5, 2.5, (n, 1))
        got = native.step(actions)
        want = reference.step(actions)
        for g, w in zip(got[:4], want[:4]):
            assert np.asarray(g).dtype == np.asarray(w).dtype and np.asarray(g).tobytes() == np.asarray(w).tobytes(), t
        obs = got[0]
        ends += int(got[2].sum())
        truncations += int(got[3].sum())
    assert ends + truncations >= n  # autoresets happened
    assert truncations > 0  # the TimeLimit too


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
        fastcem.make_vec("Acrobot-v1", 2)
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
