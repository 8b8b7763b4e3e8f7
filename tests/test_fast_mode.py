"""The opt-in fast mode: polynomial sin/cos and x*x squares, tested against the exact mode
and the C library with the bounds ``fastcem.evaluate`` documents."""

from __future__ import annotations

import math

import numpy as np
import pytest
from naive import balancing_cartpole_thetas
from numba import njit

import fastcem
from envs_native._fastmath import FAST_TRIG_LIMIT, fast_sincos
from envs_native.modes import Fast, Libm
from fastcem import _rollout
from fastcem._engine import PolicyActor


@njit
def _fill(x, c, s):
    for i in range(x.shape[0]):
        c[i], s[i] = fast_sincos(x[i])


@pytest.mark.parametrize("limit, ulps", [(0.3, 1), (4.0, 1), (100.0, 1), (FAST_TRIG_LIMIT, 2)])
def test_fast_sincos_is_within_its_documented_ulps(limit, ulps, rng):
    x = rng.uniform(-limit, limit, 200_000)
    c, s = np.empty_like(x), np.empty_like(x)
    _fill(x, c, s)
    ref_c = np.array([math.cos(v) for v in x])
    ref_s = np.array([math.sin(v) for v in x])
    assert (np.abs(c - ref_c) <= ulps * np.spacing(np.abs(ref_c))).all()
    assert (np.abs(s - ref_s) <= ulps * np.spacing(np.abs(ref_s))).all()


def test_fast_sincos_at_the_zeros():
    x = np.arange(-400, 401) * (np.pi / 2)
    c, s = np.empty_like(x), np.empty_like(x)
    _fill(x, c, s)
    assert np.abs(c - np.cos(x)).max() < 1e-27 and np.abs(s - np.sin(x)).max() < 1e-27


def population(env_id, n, rng):
    dim = fastcem.policy_dim(env_id)
    thetas = rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))
    if env_id.startswith("CartPole"):
        thetas[: n // 2] = balancing_cartpole_thetas(n // 2, rng)
    return thetas


def test_cartpole_fast_mode_episode_lengths(rng):
    # A last-bit difference in sin/cos can tip a decision (an argmax between nearly equal
    # values, a state at a termination limit); on 8192 episodes that is at most a handful.
    thetas = population("CartPole-v1", 4096, rng)
    exact = fastcem.evaluate(thetas, "CartPole-v1", episodes=2, seed=3)
    fast = fastcem.evaluate(thetas, "CartPole-v1", episodes=2, seed=3, fast=True)
    assert np.mean(fast == exact) >= 0.999


def _trajectory(theta, env_id, seed, fast):
    info = __import__("envs_native").env_info(env_id)
    params = info.spec.default_params()
    n = info.max_episode_steps
    states = np.zeros((n + 1, info.state_dim))
    observations = np.zeros((n + 1, info.obs_dim), dtype=np.float32)
    actions = np.zeros(n, dtype=np.int64 if info.discrete else np.float64)
    rewards = np.zeros(n)
    actor = PolicyActor(np.ascontiguousarray(theta).reshape(-1, 1))
    _, steps, _ = _rollout.record_episode(actor, info.spec.reset_state(seed), params, Fast() if fast else Libm(), n,
                                          states, observations, actions, rewards)
    return states[: steps + 1], actions[:steps]


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_fast_mode_states_stay_within_1e12_until_a_decision_differs(env_id, rng):
    thetas = population(env_id, 100, rng)
    for i, theta in enumerate(thetas):
        s_exact, a_exact = _trajectory(theta, env_id, i, False)
        s_fast, a_fast = _trajectory(theta, env_id, i, True)
        n = min(len(a_exact), len(a_fast))
        same = np.flatnonzero(a_exact[:n] != a_fast[:n])
        upto = (same[0] if same.size else n) + 1
        scale = np.maximum(np.abs(s_exact[:upto]), 1.0)
        assert np.max(np.abs(s_fast[:upto] - s_exact[:upto]) / scale) <= 1e-12, i


def test_pendulum_fast_mode_is_within_its_bound_and_not_exact(rng):
    thetas = population("Pendulum-v1", 4096, rng)
    exact = fastcem.evaluate(thetas, "Pendulum-v1", episodes=2, seed=3)
    fast = fastcem.evaluate(thetas, "Pendulum-v1", episodes=2, seed=3, fast=True)
    assert np.max(np.abs(fast - exact) / np.abs(exact)) <= 1e-9
    assert (fast != exact).any()  # it is a different computation


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_fast_mode_is_deterministic_for_any_thread_and_worker_count(env_id, rng):
    thetas = population(env_id, 1000, rng)
    one = fastcem.evaluate(thetas, env_id, episodes=2, seed=5, num_threads=1, fast=True)
    two = fastcem.evaluate(thetas, env_id, episodes=2, seed=5, num_threads=2, fast=True)
    assert one.tobytes() == two.tobytes()
    info = __import__("envs_native").env_info(env_id)
    starts = info.spec.sample_states(np.random.default_rng(5), (1000, 2))
    params = info.spec.default_params()
    for workers in (3, 7):
        out = np.empty(1000)
        _rollout.evaluate_population(thetas, starts, params, Fast(), info.max_episode_steps, workers, out)
        assert out.tobytes() == one.tobytes()


def test_train_in_fast_mode():
    exact = fastcem.train("CartPole-v1", epochs=3, batch_size=512, seed=2)
    fast = fastcem.train("CartPole-v1", epochs=3, batch_size=512, seed=2, fast=True)
    assert fast.history["avg_rew"].tolist() == exact.history["avg_rew"].tolist()


def test_bad_fast_arguments():
    with pytest.raises(TypeError, match="fast must be a bool"):
        fastcem.evaluate(np.zeros(10), "CartPole-v1", seed=0, fast=1)
    with pytest.raises(ValueError, match="fast=True needs start states within"):
        fastcem.evaluate(np.zeros(4), "Pendulum-v1", init_states=[[1e7, 0.0]], fast=True)
    with pytest.raises(TypeError, match="fast must be a bool"):
        fastcem.train("CartPole-v1", fast="yes")


def test_planner_fast_mode():
    state = np.array([2.0, -1.0])
    exact = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=15, num_candidates=200, top_k=20, seed=1)
    fast = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=15, num_candidates=200, top_k=20, seed=1, fast=True)
    np.testing.assert_allclose(fast.plan(state), exact.plan(state), rtol=1e-6)
    with pytest.raises(ValueError, match="env id model"):
        fastcem.CEMPlanner(lambda: None, fast=True)


def test_a_workers_last_lanes_keep_the_fast_modes_arithmetic(rng):
    """With 70 Pendulum candidates (all 200 steps) a worker's 64 lanes finish together and the
    last 6 episodes run alone at the end, one at a time; with 64 candidates none do.  Alone
    or side by side, a fast-mode episode has the same bits."""
    thetas = population("Pendulum-v1", 70, rng)
    tail = fastcem.evaluate(thetas, "Pendulum-v1", reset_seeds=[5], num_threads=1, fast=True)
    lanes = fastcem.evaluate(thetas[6:], "Pendulum-v1", reset_seeds=[5], num_threads=1, fast=True)
    assert tail[64:].tobytes() == lanes[58:].tobytes()
    assert tail.tobytes() != fastcem.evaluate(thetas, "Pendulum-v1", reset_seeds=[5], num_threads=1).tobytes()
