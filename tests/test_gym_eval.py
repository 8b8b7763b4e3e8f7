"""``fastcem.evaluate_gym``: any gymnasium env through any pool, exactly ``evaluate`` on the
native envs; ``train`` on it."""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from multiprocessing import get_context

import numpy as np
import pytest
from conftest import GYM_ONLY_ID

import fastcem


def population(env_id, n, rng):
    dim = fastcem.policy_dim(env_id)
    return rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))


@pytest.fixture(scope="module")
def process_pool():
    with get_context("spawn").Pool(2) as pool:
        yield pool


@pytest.mark.parametrize("env_id", fastcem.ENV_IDS)
def test_equals_evaluate_on_native_envs_through_any_pool(env_id, process_pool, rng):
    thetas = population(env_id, 30, rng)
    expected = fastcem.evaluate(thetas, env_id, episodes=2, reset_seeds=[11, 12])
    assert fastcem.evaluate_gym(thetas, env_id, episodes=2, reset_seeds=[11, 12]).tolist() == expected.tolist()
    assert fastcem.evaluate_gym(thetas, env_id, episodes=2, reset_seeds=[11, 12], pool=process_pool,
                                chunksize=4).tolist() == expected.tolist()
    with ThreadPoolExecutor(2) as executor:
        got = fastcem.evaluate_gym(thetas, env_id, episodes=2, reset_seeds=[11, 12], pool=executor, chunksize=7)
    assert got.tolist() == expected.tolist()


def test_process_pool_executor_and_seeded_draws(rng):
    thetas = population("CartPole-v1", 20, rng)
    serial = fastcem.evaluate_gym(thetas, "CartPole-v1", seed=5, episodes=3)
    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as executor:
        pooled = fastcem.evaluate_gym(thetas, "CartPole-v1", seed=5, episodes=3, pool=executor)
    assert pooled.tolist() == serial.tolist()
    assert fastcem.evaluate_gym(thetas, "CartPole-v1", seed=6, episodes=3).tolist() != serial.tolist()


def constant_push(theta, obs):
    """A user policy (module level, so that it pickles)."""
    return 2 if theta[0] > 0 else 0


def test_any_env_and_a_user_policy(rng):
    dim = fastcem.gym_policy_dim("Acrobot-v1")
    assert dim == (6 + 1) * 3
    returns = fastcem.evaluate_gym(rng.standard_normal((3, dim)), "Acrobot-v1", seed=0)
    assert returns.shape == (3,) and (returns <= 0).all() and (returns >= -500).all()
    assert fastcem.gym_policy_dim("MountainCarContinuous-v0") == 3
    pushes = fastcem.evaluate_gym(np.array([[1.0], [-1.0]]), "MountainCar-v0", seed=0, policy=constant_push)
    assert pushes.tolist() == [-200.0, -200.0]


def test_train_through_a_pool_is_the_loop_with_evaluate_gym(process_pool):
    result = fastcem.train("CartPole-v1", epochs=2, batch_size=40, seed=3, pool=process_pool)
    cem_seq, eval_seq = np.random.SeedSequence(3).spawn(2)
    es = fastcem.CEM(10, population=40, seed=cem_seq)
    eval_rng = np.random.default_rng(eval_seq)
    for _ in range(2):
        thetas = es.ask()
        es.tell(thetas, fastcem.evaluate_gym(thetas, "CartPole-v1", seed=eval_rng))
    assert result.mean.tolist() == es.mean.tolist() and result.best_return == es.best_return


def test_train_on_an_env_without_native_kernels():
    result = fastcem.train(GYM_ONLY_ID, epochs=2, batch_size=20, seed=0)
    assert result.best_theta.shape == (4,) and result.epochs == 2 and result.env_id == GYM_ONLY_ID


@pytest.mark.parametrize("kwargs, error, match", [
    ({"pool": object()}, TypeError, "pool must have a map method"),
    ({"reset_seeds": [1, 2]}, ValueError, "reset_seeds must have 1 seeds"),
    ({"reset_seeds": [1], "seed": 2}, ValueError, "at most one of seed and reset_seeds"),
    ({"seed": -1}, ValueError, "seed must be a non-negative"),
    ({"episodes": 0}, ValueError, "episodes must be >= 1"),
    ({"chunksize": 0}, ValueError, "chunksize must be >= 1"),
    ({"policy": 3}, TypeError, "policy must be callable"),
])
def test_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastcem.evaluate_gym(np.zeros((2, 10)), "CartPole-v1", **kwargs)


def test_bad_envs_and_shapes():
    with pytest.raises(ValueError, match="gymnasium cannot make"):
        fastcem.evaluate_gym(np.zeros(10), "NoSuchEnv-v0")
    with pytest.raises(ValueError, match=r"observation space Discrete.*Box observation space"):
        fastcem.evaluate_gym(np.zeros(10), "FrozenLake-v1")
    with pytest.raises(ValueError, match=r"shape \(P, 10\)"):
        fastcem.evaluate_gym(np.zeros((2, 9)), "CartPole-v1")
    with pytest.raises(ValueError, match="finite"):
        fastcem.evaluate_gym(np.full(10, np.nan), "CartPole-v1")
    with pytest.raises(TypeError, match="pool must have a map method"):
        fastcem.train("CartPole-v1", pool="no")
    with pytest.raises(ValueError, match="native envs only"):
        fastcem.train(GYM_ONLY_ID, fast=True)
