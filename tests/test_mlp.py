"""Network policies (``fastcem.MLP``): the compiled rollouts take exactly the actions of the
numpy callable ``gym_policy``, on every native env; the activation's bound; the linear
policy as the network without hidden layers; determinism; saving; bad input."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numba import njit

import fastcem
from fastcem import MLP, _rollout, cli
from fastcem.mlp import TANH32_MAX_ULP, TANH_MAX_ULP, tanh_numpy, tanh_numpy32, tanh_ops, tanh_ops32

# Widths that take every path of a layer (4 units at a time, then one at a time), in both types,
# and every lane count of a worker (32 lanes of a small network, 16, 8 of a large one).
NETWORKS = [MLP((5,), "tanh"), MLP((8, 3), "relu", "float64"), MLP((37, 16), "tanh"), MLP((6,), "tanh", "float64"),
            MLP((70, 60), "tanh"), MLP((70, 60), "tanh", "float64")]


def test_workers_take_more_lanes_of_smaller_networks():
    sizes = [_rollout.worker_lanes(net, 0, 4, 2) for net in (MLP((16,)), MLP((64, 64)), MLP((64, 64), dtype="float64"))]
    assert sizes == [32, 16, 8]
    assert {_rollout.worker_lanes(net, 0, 4, 2) for net in NETWORKS} == {8, 16, 32}


def gym_return(theta: np.ndarray, env_id: str, seed: int, policy: MLP) -> float:
    env = gym.make(env_id)
    act = fastcem.gym_policy(theta, env_id, policy=policy)
    obs, _ = env.reset(seed=seed)
    total = 0.0
    while True:
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        total += float(reward)
        if terminated or truncated:
            env.close()
            return total


@pytest.mark.parametrize("env_id", fastcem.ENV_IDS)
@pytest.mark.parametrize("policy", NETWORKS, ids=str)
def test_evaluate_takes_the_actions_of_gym_policy(env_id, policy, rng):
    thetas = rng.normal(0.0, 1.0, (4, fastcem.policy_dim(env_id, policy)))
    seed = int(rng.integers(2**31))
    got = fastcem.evaluate(thetas, env_id, policy=policy, reset_seeds=[seed])
    assert got.tolist() == [gym_return(t, env_id, seed, policy) for t in thetas]
    traj = fastcem.rollout(thetas[0], env_id, seed, policy=policy)
    assert traj.episode_return == got[0]


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=10)
def test_gym_policy_contract_on_random_networks(seed):
    rng = np.random.default_rng(seed)
    policy = MLP(tuple(int(w) for w in rng.integers(1, 72, size=rng.integers(1, 3))), str(rng.choice(["tanh", "relu"])),
                 str(rng.choice(["float32", "float64"])))
    for env_id in ("CartPole-v1", "Pendulum-v1"):
        # Several candidates: lanes side by side (mlp_forward_lanes), and one alone at the end.
        thetas = rng.normal(0.0, 2.0, (5, fastcem.policy_dim(env_id, policy)))
        got = fastcem.evaluate(thetas, env_id, policy=policy, reset_seeds=[seed])
        assert got.tolist() == [gym_return(t, env_id, seed, policy) for t in thetas]


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "MountainCarContinuous-v0"])
def test_no_hidden_layers_is_the_linear_policy(env_id, rng):
    thetas = rng.normal(0.0, 2.0, (50, fastcem.policy_dim(env_id)))
    assert fastcem.policy_dim(env_id, MLP(())) == fastcem.policy_dim(env_id)
    linear = fastcem.evaluate(thetas, env_id, seed=3)
    assert fastcem.evaluate(thetas, env_id, seed=3, policy=MLP((), "relu")).tobytes() == linear.tobytes()


def test_read_only_thetas(rng):
    policy = MLP((37, 5), "tanh")
    thetas = rng.normal(0.0, 1.0, (20, fastcem.policy_dim("Pendulum-v1", policy)))
    frozen = thetas.copy()
    frozen.flags.writeable = False  # np.load(mmap_mode="r"), a JAX array's numpy view, ...
    got = fastcem.evaluate(frozen, "Pendulum-v1", seed=2, policy=policy)
    assert got.tobytes() == fastcem.evaluate(thetas, "Pendulum-v1", seed=2, policy=policy).tobytes()
    assert fastcem.rollout(frozen[0], "Pendulum-v1", 3, policy=policy).episode_return == fastcem.rollout(
        thetas[0], "Pendulum-v1", 3, policy=policy).episode_return


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_network_returns_are_the_same_for_any_thread_count(dtype, rng):
    policy = MLP((16, 16), "tanh", dtype)
    thetas = rng.normal(0.0, 1.0, (101, fastcem.policy_dim("Pendulum-v1", policy)))
    one = fastcem.evaluate(thetas, "Pendulum-v1", seed=5, episodes=2, num_threads=1, policy=policy)
    two = fastcem.evaluate(thetas, "Pendulum-v1", seed=5, episodes=2, num_threads=2, policy=policy)
    assert one.tobytes() == two.tobytes()
    fast1 = fastcem.evaluate(thetas, "Pendulum-v1", seed=5, num_threads=1, policy=policy, fast=True)
    fast2 = fastcem.evaluate(thetas, "Pendulum-v1", seed=5, num_threads=2, policy=policy, fast=True)
    assert fast1.tobytes() == fast2.tobytes()


@njit(fastmath=False, error_model="numpy")
def _tanh_lanes(x, out):
    for i in range(x.shape[0]):
        out[i] = tanh_ops(x[i])


def _ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance in units in the last place (same-sign finite doubles)."""
    return np.abs(a.view(np.int64) - b.view(np.int64))


def test_tanh_is_within_its_bound_of_the_c_library_and_the_same_compiled_and_in_numpy(rng):
    xs = np.concatenate([
        rng.uniform(-1, 1, 200_000), rng.uniform(-25, 25, 200_000),
        np.exp(rng.uniform(-700, 4, 200_000)) * rng.choice([-1.0, 1.0], 200_000),
        np.array([0.0, -0.0, 5e-324, -5e-324, 1e-300, 0.1733, 0.34657359, 19.0, 19.07, 22.0, 44.0, -44.0, 1e300,
                  np.inf, -np.inf]),
    ])
    compiled = np.empty_like(xs)
    _tanh_lanes(xs, compiled)
    assert compiled.tobytes() == tanh_numpy(xs).tobytes()
    reference = np.array([math.tanh(v) for v in xs])
    assert (np.sign(compiled) == np.sign(reference)).all()
    assert _ulps(compiled, reference).max() <= TANH_MAX_ULP
    assert math.copysign(1.0, compiled[xs.size - 14]) == -1.0  # tanh(-0.0) is -0.0
    nan = np.empty(1)
    _tanh_lanes(np.array([np.nan]), nan)
    assert np.isnan(nan[0]) and np.isnan(tanh_numpy(np.array([np.nan]))[0])


@njit(fastmath=False, error_model="numpy")
def _tanh32_lanes(x, out):
    for i in range(x.shape[0]):
        out[i] = tanh_ops32(x[i])


def test_float32_tanh_is_within_its_bound_and_the_same_compiled_and_in_numpy(rng):
    xs = np.concatenate([
        rng.uniform(-1, 1, 300_000), rng.uniform(-12, 12, 300_000),
        np.exp(rng.uniform(-100, 3, 300_000)) * rng.choice([-1.0, 1.0], 300_000),
        np.array([0.0, -0.0, 1e-45, -1e-45, 1e-30, 0.1733, 0.34657359, 9.0, 9.01, 10.0, 22.0, 44.0, -44.0, 3e38,
                  np.inf, -np.inf]),
    ]).astype(np.float32)
    compiled = np.empty_like(xs)
    _tanh32_lanes(xs, compiled)
    assert compiled.dtype == np.float32 and compiled.tobytes() == tanh_numpy32(xs).tobytes()
    # The reference: the C library's tanh of the same value, rounded to float32.
    reference = np.array([math.tanh(v) for v in xs.astype(np.float64)]).astype(np.float32)
    assert (np.sign(compiled) == np.sign(reference)).all()
    assert np.abs(compiled.view(np.int32).astype(np.int64) - reference.view(np.int32)).max() <= TANH32_MAX_ULP
    assert math.copysign(1.0, compiled[xs.size - 15]) == -1.0  # tanh(-0.0) is -0.0
    nan = np.empty(1, np.float32)
    _tanh32_lanes(np.array([np.nan], np.float32), nan)
    assert np.isnan(nan[0]) and np.isnan(tanh_numpy32(np.array([np.nan], np.float32))[0])


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_is_max_with_zero_in_the_networks_type(dtype, rng):
    policy = MLP((3,), "relu", dtype.__name__)
    # One hidden layer of 3 relu units feeding one output: compare with the numpy formula.
    theta = rng.normal(0.0, 1.0, fastcem.policy_dim("Pendulum-v1", policy))
    act = fastcem.gym_policy(theta, "Pendulum-v1", policy=policy)
    obs = np.array([0.3, -0.2, 1.5], dtype=np.float32)
    x = obs.astype(dtype)
    w = theta.astype(dtype)
    w1, b1 = w[:9].reshape(3, 3), w[9:12]
    w2, b2 = w[12:15], w[15]
    h = np.maximum(b1 + (x[0] * w1[0] + x[1] * w1[1] + x[2] * w1[2]), dtype(0))
    y = b2 + ((h[0] * w2[0] + h[1] * w2[1]) + h[2] * w2[2])
    assert y.dtype == dtype
    assert act(obs).tolist() == [min(max(float(y), -2.0), 2.0)]


def test_float32_and_float64_networks_differ_and_float32_rounds_theta(rng):
    """A float32 network is the float64 network of ``theta`` rounded to float32, computed in
    float32: its returns are not the float64 ones."""
    thetas = rng.normal(0.0, 1.0, (8, fastcem.policy_dim("Pendulum-v1", MLP((16,)))))
    single = fastcem.evaluate(thetas, "Pendulum-v1", seed=1, policy=MLP((16,)))
    double = fastcem.evaluate(thetas, "Pendulum-v1", seed=1, policy=MLP((16,), dtype="float64"))
    assert MLP((16,)).dtype == "float32"
    assert single.tolist() != double.tolist()
    rounded = thetas.astype(np.float32).astype(np.float64)
    assert fastcem.evaluate(rounded, "Pendulum-v1", seed=1, policy=MLP((16,))).tolist() == single.tolist()


def test_train_and_evaluate_gym_take_a_network_and_a_saved_run_keeps_it(tmp_path, rng):
    policy = MLP((4,), "tanh")
    result = fastcem.train("CartPole-v1", epochs=2, batch_size=64, seed=1, policy=policy)
    assert result.policy == policy and result.best_theta.shape == (fastcem.policy_dim("CartPole-v1", policy),)
    for name in ("run.npz", "run.json"):
        result.save(tmp_path / name)
        assert fastcem.load_result(tmp_path / name).policy == policy
    # A run saved before networks had a type computed in float64.
    assert MLP.from_dict({"hidden": [4], "activation": "tanh"}) == MLP((4,), "tanh", "float64")
    linear = fastcem.train("CartPole-v1", epochs=1, batch_size=64, seed=1)
    linear.save(tmp_path / "linear.npz")
    assert fastcem.load_result(tmp_path / "linear.npz").policy is None
    thetas = rng.normal(0.0, 1.0, (6, fastcem.policy_dim("CartPole-v1", policy)))
    expected = fastcem.evaluate(thetas, "CartPole-v1", reset_seeds=[4], policy=policy)
    assert fastcem.evaluate_gym(thetas, "CartPole-v1", reset_seeds=[4], policy=policy).tolist() == expected.tolist()
    assert fastcem.gym_policy_dim("CartPole-v1", policy) == fastcem.policy_dim("CartPole-v1", policy)


def test_command_line_trains_a_network(tmp_path, capsys):
    out = tmp_path / "run.json"
    code = cli.main(["cartpole", "--epochs", "1", "--batch-size", "64", "--seed", "0", "--eval-episodes", "1",
                     "--hidden", "4,3", "--activation", "relu", "--dtype", "float64", "--out", str(out)])
    assert code == 0, capsys.readouterr().err
    assert fastcem.load_result(out).policy == MLP((4, 3), "relu", "float64")


@pytest.mark.parametrize("make, error, match", [
    (lambda: MLP((64,), "sigmoid"), ValueError, "activation must be one of"),
    (lambda: MLP((64,), "tanh", "float16"), ValueError, "dtype must be one of"),
    (lambda: MLP((0,)), ValueError, "positive ints"),
    (lambda: MLP((3.5,)), ValueError, "positive ints"),
    (lambda: MLP(64), TypeError, "sequence of layer widths"),
    (lambda: fastcem.evaluate(np.zeros((2, 10)), "CartPole-v1", policy=MLP((4,))), ValueError,
     r"thetas must have shape \(P, 30\)"),
    (lambda: fastcem.evaluate(np.zeros((2, 10)), "CartPole-v1", policy="mlp"), TypeError, "policy must be None"),
    (lambda: fastcem.gym_policy(np.zeros(10), "CartPole-v1", policy=MLP((4,))), ValueError, r"shape \(30,\)"),
    (lambda: fastcem.evaluate_gym(np.zeros(10), "FrozenLake-v1", policy=MLP((4,))), ValueError, "observation space"),
])
def test_bad_networks_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


@pytest.mark.parametrize("args", [("cartpole", "--hidden", "4,x"), ("cartpole", "--hidden", "0"),
                                  ("cartpole", "--activation", "gelu"), ("cartpole", "--dtype", "half")])
def test_bad_network_options_exit_2_with_one_line(args, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(list(args))
    assert exit_.value.code == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
