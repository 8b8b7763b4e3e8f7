"""Bad input to the public API: a clear ValueError/TypeError before any compiled code runs."""

from __future__ import annotations

import numba
import numpy as np
import pytest

import fastcem

GOOD = np.zeros((3, 10))


@pytest.mark.parametrize(
    "thetas, error, match",
    [
        (np.zeros((3, 9)), ValueError, r"shape \(P, 10\)"),
        (np.zeros(11), ValueError, r"shape \(P, 10\)"),
        (np.zeros((2, 3, 10)), ValueError, r"shape \(P, 10\)"),
        (np.float64(1.0), ValueError, r"shape \(P, 10\)"),
        (np.full((3, 10), np.nan), ValueError, "finite"),
        (np.where(np.eye(3, 10) > 0, np.inf, 0.0), ValueError, "finite"),
        (np.array([["a"] * 10]), TypeError, "real numbers"),
        (np.zeros((3, 10), dtype=complex), TypeError, "real numbers"),
        (np.zeros((3, 10), dtype=bool), TypeError, "real numbers"),
        ([[1, 2], [3]], TypeError, "numeric array"),
        (None, TypeError, "real numbers"),
    ],
)
def test_bad_thetas(thetas, error, match):
    with pytest.raises(error, match=match):
        fastcem.evaluate(thetas, "CartPole-v1", seed=0)


@pytest.mark.parametrize("env_id, error", [("CartPole-v2", ValueError), ("LunarLander-v3", ValueError),
                                           (None, TypeError), (1, TypeError)])
def test_unknown_env_id_lists_the_known_ones(env_id, error):
    with pytest.raises(error, match=r"CartPole-v0.*CartPole-v1.*Pendulum-v1"):
        fastcem.evaluate(GOOD, env_id)
    with pytest.raises(error):
        fastcem.policy_dim(env_id)


@pytest.mark.parametrize("episodes, error", [(0, ValueError), (-2, ValueError), (1.5, TypeError), ("2", TypeError),
                                             (True, TypeError), (None, TypeError)])
def test_bad_episodes(episodes, error):
    with pytest.raises(error, match="episodes"):
        fastcem.evaluate(GOOD, "CartPole-v1", episodes=episodes, seed=0)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"seed": -1}, ValueError, "seed must be a non-negative"),
    ({"seed": 1.0}, TypeError, "seed must be"),
    ({"seed": "1"}, TypeError, "seed must be"),
    ({"reset_seeds": [-3]}, ValueError, "reset_seeds must be a non-negative"),
    ({"reset_seeds": [1.5]}, TypeError, "reset_seeds must be"),
    ({"reset_seeds": [1, 2]}, ValueError, "1-D sequence of 1 ints"),
    ({"reset_seeds": [[1]]}, ValueError, "1-D sequence"),
    ({"reset_seeds": 3}, ValueError, "1-D sequence"),
    ({"episodes": 3, "reset_seeds": [1, 2]}, ValueError, "3 ints"),
    ({"seed": 1, "reset_seeds": [1]}, ValueError, "at most one of seed, reset_seeds and init_states"),
    ({"seed": 1, "init_states": np.zeros((1, 4))}, ValueError, "at most one"),
    ({"init_states": np.zeros((1, 3))}, ValueError, "init_states must have shape"),
    ({"init_states": np.zeros((2, 4))}, ValueError, "init_states must have shape"),
    ({"init_states": np.zeros((2, 1, 4))}, ValueError, "init_states must have shape"),
    ({"init_states": np.full((1, 4), np.inf)}, ValueError, "init_states must be finite"),
    ({"init_states": [["x"] * 4]}, TypeError, "init_states must hold real numbers"),
    ({"num_threads": 0}, ValueError, "num_threads must be between 1 and"),
    ({"num_threads": numba.config.NUMBA_NUM_THREADS + 1}, ValueError, "num_threads must be between 1 and"),
    ({"num_threads": 1.0}, TypeError, "num_threads must be an int"),
    ({"env_kwargs": {"g": 9.8}}, ValueError, "does not take; it takes"),
    ({"env_kwargs": {"kinematics_integrator": "rk4"}}, ValueError, "kinematics_integrator"),
    ({"env_kwargs": [("sutton_barto_reward", True)]}, TypeError, "env_kwargs must be a dict"),
])
def test_bad_keyword_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastcem.evaluate(GOOD, "CartPole-v1", **kwargs)


def test_bad_pendulum_env_kwargs():
    with pytest.raises(ValueError, match="does not take"):
        fastcem.evaluate(np.zeros(4), "Pendulum-v1", seed=0, env_kwargs={"sutton_barto_reward": True})
    with pytest.raises(ValueError, match="finite"):
        fastcem.evaluate(np.zeros(4), "Pendulum-v1", seed=0, env_kwargs={"g": np.inf})


def test_bad_rollout_arguments():
    with pytest.raises(ValueError, match="one parameter vector"):
        fastcem.rollout(np.zeros((2, 10)), "CartPole-v1", 0)
    with pytest.raises(ValueError, match="reset_seed must be a non-negative"):
        fastcem.rollout(np.zeros(10), "CartPole-v1", -1)
    with pytest.raises(ValueError, match="finite"):
        fastcem.rollout(np.full(4, np.nan), "Pendulum-v1", 0)


def test_failed_call_leaves_thread_setting_alone():
    before = numba.get_num_threads()
    with pytest.raises(ValueError):
        fastcem.evaluate(np.zeros((3, 9)), "CartPole-v1", num_threads=1)
    assert numba.get_num_threads() == before


# --- elite selection, CEM and train -------------------------------------------------


@pytest.mark.parametrize("rewards, k, error, match", [
    (np.array([1.0, np.nan, 2.0]), 1, ValueError, r"NaN \(first at index 1\)"),
    (np.zeros(3), 0, ValueError, "k must be between 1 and 3"),
    (np.zeros(3), 4, ValueError, "k must be between 1 and 3"),
    (np.zeros(3), 1.0, TypeError, "k must be an int"),
    (np.zeros(0), 1, ValueError, "must not be empty"),
    (np.zeros((2, 2)), 1, ValueError, "1-D"),
    (np.array(["a", "b"]), 1, TypeError, "real numbers"),
])
def test_bad_elite_indices(rewards, k, error, match):
    with pytest.raises(error, match=match):
        fastcem.elite_indices(rewards, k)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"population": 1}, ValueError, "population must be >= 2"),
    ({"population": 2.5}, TypeError, "population must be an int"),
    ({"elite_frac": 0.0}, ValueError, r"elite_frac must be a finite number in \(0, 1\]"),
    ({"elite_frac": 1.2}, ValueError, r"elite_frac must be a finite number in \(0, 1\]"),
    ({"elite_frac": np.nan}, ValueError, "elite_frac"),
    ({"elite_frac": "0.2"}, TypeError, "elite_frac must be a real number"),
    ({"population": 10, "elite_frac": 0.05}, ValueError, "rounds down to 0 elites"),
    ({"std": -1.0}, ValueError, "std must be >= 0"),
    ({"std": [1.0, -0.1, 1.0]}, ValueError, "std must be >= 0"),
    ({"std": [1.0, 1.0]}, ValueError, r"std must be a number or have shape \(3,\)"),
    ({"std": np.inf}, ValueError, "std must be finite"),
    ({"mean": [0.0, 1.0]}, ValueError, r"mean must have shape \(3,\)"),
    ({"mean": [0.0, np.nan, 1.0]}, ValueError, "mean must be finite"),
    ({"extra_std": -2.0}, ValueError, "extra_std"),
    ({"extra_decay_time": 0}, ValueError, "extra_decay_time"),
    ({"alpha": 1.0}, ValueError, r"alpha must be a finite number in \[0, 1\)"),
    ({"min_std": -0.1}, ValueError, "min_std"),
    ({"seed": -1}, ValueError, "seed must be a non-negative int"),
    ({"seed": 1.5}, TypeError, "seed must be None, a non-negative int"),
])
def test_bad_cem_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastcem.CEM(3, **kwargs)


def test_bad_cem_dim():
    with pytest.raises(ValueError, match="dim must be >= 1"):
        fastcem.CEM(0)


@pytest.mark.parametrize("thetas, returns, match", [
    (np.zeros((10, 4)), np.zeros(10), r"thetas must have shape \(population, dim\) = \(10, 3\)"),
    (np.zeros((9, 3)), np.zeros(9), r"thetas must have shape \(population, dim\) = \(10, 3\)"),
    (np.zeros((10, 3)), np.zeros(9), r"returns must have shape \(population,\) = \(10,\)"),
    (np.zeros((10, 3)), np.zeros((10, 1)), r"returns must have shape"),
    (np.zeros((10, 3)), np.r_[np.zeros(9), np.nan], "returns must be finite"),
    (np.zeros((10, 3)), np.r_[np.zeros(9), -np.inf], "returns must be finite"),
    (np.full((10, 3), np.inf), np.zeros(10), "thetas must be finite"),
])
def test_bad_tell(thetas, returns, match):
    es = fastcem.CEM(3, population=10, seed=0)
    before = (es.mean.copy(), es.std.copy())
    with pytest.raises(ValueError, match=match):
        es.tell(thetas, returns)
    assert es.epoch == 0 and es.mean.tolist() == before[0].tolist() and es.std.tolist() == before[1].tolist()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"epochs": 0}, ValueError, "epochs must be >= 1"),
    ({"epochs": 2.0}, TypeError, "epochs must be an int"),
    ({"batch_size": 1}, ValueError, "population must be >= 2"),
    ({"episodes": 0}, ValueError, "episodes must be >= 1"),
    ({"seed": -3}, ValueError, "seed must be >= 0"),
    ({"callback": 3}, TypeError, "callback must be callable"),
    ({"common_random_numbers": 1}, TypeError, "common_random_numbers must be a bool"),
    ({"env_kwargs": {"g": 3.0}}, ValueError, "does not take"),
    ({"num_threads": 0}, ValueError, "num_threads must be between 1 and"),
])
def test_bad_train_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastcem.train("CartPole-v1", **kwargs)


def test_train_unknown_env_id():
    with pytest.raises(ValueError, match="gymnasium cannot make 'NoSuchEnv-v0'"):
        fastcem.train("NoSuchEnv-v0")
    with pytest.raises(TypeError, match="env_id must be a str"):
        fastcem.train(3)


def test_bad_result_paths(tmp_path):
    with pytest.raises(ValueError, match=r"must end in \.npz or \.json"):
        fastcem.load_result(tmp_path / "run.pkl")
