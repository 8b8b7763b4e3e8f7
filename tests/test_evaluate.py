"""``fastcem.evaluate`` and ``fastcem.rollout`` against gymnasium episodes and a NumPy oracle."""

from __future__ import annotations

import os
import subprocess
import sys

import numba
import numpy as np
import pytest
from naive import balancing_cartpole_thetas, numpy_episode, ordered_affine
from numba import njit

import fastcem
from envs_native import Discrete, cartpole, max_episode_steps
from envs_native.modes import exact_lanes
from fastcem import _rollout
from fastcem._engine import affine
from fastcem.policies import LinearPolicy


def population(env_id: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random policies (short, uneven episodes) and, for CartPole, balancing ones."""
    dim = fastcem.policy_dim(env_id)
    thetas = rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))
    if env_id.startswith("CartPole"):
        thetas[: n // 2] = balancing_cartpole_thetas(n // 2, rng)
    return thetas


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_evaluate_matches_numpy_oracle_from_seeded_states(env_id, rng):
    thetas = population(env_id, 12, rng)
    episodes = 3
    got = fastcem.evaluate(thetas, env_id, episodes=episodes, seed=7)
    # The same start states, drawn as the contract says: default_rng(seed), reset distribution.
    module = cartpole if env_id.startswith("CartPole") else __import__("envs_native").pendulum
    states = module.sample_states(np.random.default_rng(7), (len(thetas), episodes))
    for p, theta in enumerate(thetas):
        rets = [numpy_episode(theta, env_id, states[p, e], max_episode_steps(env_id)) for e in range(episodes)]
        total = 0.0
        for r in rets:
            total += r
        assert got[p] == total / episodes
    # ... and init_states with those states gives the same bits.
    assert fastcem.evaluate(thetas, env_id, episodes=episodes, init_states=states).tobytes() == got.tobytes()


def test_shared_init_states_equal_reset_seeds(rng):
    thetas = population("CartPole-v1", 20, rng)
    seeds = [3, 1, 4]
    states = np.stack([cartpole.reset_state(s) for s in seeds])
    a = fastcem.evaluate(thetas, "CartPole-v1", episodes=3, reset_seeds=seeds)
    b = fastcem.evaluate(thetas, "CartPole-v1", episodes=3, init_states=states)
    assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_same_bits_for_any_thread_and_worker_count(env_id, rng):
    thetas = population(env_id, 1000, rng)
    one = fastcem.evaluate(thetas, env_id, episodes=2, seed=11, num_threads=1)
    two = fastcem.evaluate(thetas, env_id, episodes=2, seed=11, num_threads=2)
    assert one.tobytes() == two.tobytes()
    # Which worker and lane plays an episode does not enter the arithmetic either.
    info = __import__("envs_native").env_info(env_id)
    starts = info.spec.sample_states(np.random.default_rng(11), (1000, 2))
    params = info.spec.default_params()
    for workers in (1, 3, 7):
        out = np.empty(1000)
        _rollout.evaluate_population(thetas, starts, params, exact_lanes(), info.max_episode_steps, workers, out)
        assert out.tobytes() == one.tobytes()


def test_same_bits_across_processes(rng):
    code = (
        "import numpy as np, fastcem;"
        "t = np.random.default_rng(5).normal(size=(300, 10));"
        "print(fastcem.evaluate(t, 'CartPole-v1', seed=9, episodes=2).tobytes().hex())"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    here = fastcem.evaluate(np.random.default_rng(5).normal(size=(300, 10)), "CartPole-v1", seed=9, episodes=2)
    assert out == here.tobytes().hex()


def test_num_threads_is_restored():
    before = numba.get_num_threads()
    fastcem.evaluate(np.zeros(10), "CartPole-v1", seed=0, num_threads=1)
    assert numba.get_num_threads() == before


def test_seed_draws_independent_states_per_candidate_and_episode():
    thetas = np.tile(balancing_cartpole_thetas(1, np.random.default_rng(0)), (64, 1))
    pend = np.zeros((64, 4))
    # Identical policies score differently only because their start states differ.
    assert len(np.unique(fastcem.evaluate(pend, "Pendulum-v1", seed=3))) == 64
    again = fastcem.evaluate(thetas, "CartPole-v1", seed=3)
    assert fastcem.evaluate(thetas, "CartPole-v1", seed=3).tobytes() == again.tobytes()


def test_input_forms_are_converted(rng):
    theta = population("CartPole-v1", 4, rng)
    ref = fastcem.evaluate(theta, "CartPole-v1", reset_seeds=[2])
    as_f32 = theta.astype(np.float32)
    assert fastcem.evaluate(as_f32, "CartPole-v1", reset_seeds=[2]).tobytes() == fastcem.evaluate(
        as_f32.astype(np.float64), "CartPole-v1", reset_seeds=[2]).tobytes()
    fortran = np.asfortranarray(theta)
    strided = np.repeat(theta, 2, axis=0)[::2]
    for form in (fortran, strided, theta.tolist()):
        assert fastcem.evaluate(form, "CartPole-v1", reset_seeds=[2]).tobytes() == ref.tobytes()
    ints = np.round(theta).astype(np.int32)
    assert fastcem.evaluate(ints, "CartPole-v1", reset_seeds=[2]).tobytes() == fastcem.evaluate(
        ints.astype(np.float64), "CartPole-v1", reset_seeds=[2]).tobytes()
    assert fastcem.evaluate(np.empty((0, 10)), "CartPole-v1", seed=0).shape == (0,)


def test_rollout_records_the_episode():
    theta = balancing_cartpole_thetas(1, np.random.default_rng(1))[0]
    traj = fastcem.rollout(theta, "CartPole-v1", 5)
    assert traj.truncated and not traj.terminated and len(traj) == 500
    assert traj.states.shape == (501, 4) and traj.observations.shape == (501, 4)
    assert traj.states[0].tobytes() == cartpole.reset_state(5).tobytes()
    assert traj.observations.dtype == np.float32
    assert traj.observations.tobytes() == traj.states.astype(np.float32).tobytes()
    params = cartpole.default_params()
    for t in range(len(traj)):
        nxt, reward, _ = cartpole.step(traj.states[t], int(traj.actions[t]), params)
        assert nxt.tobytes() == traj.states[t + 1].tobytes()
        assert reward == traj.rewards[t]


@njit
def _compiled_affine(theta, o0, o1, o2, o3):
    weights = theta.reshape(-1, 1)
    out = np.empty(2)
    for j in range(2):
        out[j] = affine(weights, 0, (o0, o1, o2, o3), j, 2)
    return out


def test_blas_matmul_may_differ_from_the_documented_order(rng):
    """Why the affine map's order is documented: numpy's ``obs @ W + b`` goes to BLAS, which may
    fuse multiply-adds and sum in another order, so it can differ in the last bit."""
    obs = rng.standard_normal((20_000, 4)).astype(np.float32)
    theta = rng.standard_normal(10)
    w, b = theta[:8].reshape(4, 2), theta[8:]
    differs = 0
    for o in obs:
        ordered = ordered_affine(theta, o, 2)
        compiled = _compiled_affine(theta, o[0], o[1], o[2], o[3]).tolist()
        assert compiled == ordered  # the compiled map is the documented order, always
        assert LinearPolicy(theta, 4, Discrete(2)).outputs(o) == ordered  # and so is the Python one
        differs += (o.astype(np.float64) @ w + b).tolist() != ordered
    if differs == 0:
        pytest.skip("this numpy/BLAS build computed obs @ W + b in the documented order")
    assert differs > 0


def test_ahead_kernels_are_what_the_worker_compiles(tmp_path):
    """The command line compiles the worker's called kernels ahead for ``ahead_kernels``'
    types; the population kernel must link those very signatures, or a first run compiles
    them twice.  (A fresh process and cache: a kernel loaded from the cache compiles no callee.)"""
    script = """
import numpy as np, fastcem
from envs_native import env_info
from fastcem import _rollout, evaluation
for env_id, fast, policy in [("CartPole-v1", False, None), ("Pendulum-v1", True, None),
                             ("Pendulum-v1", False, fastcem.MLP((4,))),
                             ("CartPole-v1", False, fastcem.MLP((3,), dtype="float64"))]:
    fastcem.evaluate(np.zeros((3, fastcem.policy_dim(env_id, policy))), env_id, seed=0, fast=fast, policy=policy)
    params = env_info(env_id).spec.default_params()
    kernels = _rollout.ahead_kernels(params, evaluation.mode_of(env_id, fast), policy)
    print([k.py_func.__name__ for k, _ in kernels], all(sig in k.overloads for k, sig in kernels))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines() == ["['redo_lane', 'play_lane'] True", "['play_lane'] True",
                                       "['redo_lane', 'play_lane'] True", "['redo_lane', 'play_lane'] True"]


def test_select_signature_is_what_elite_indices_compiles():
    from fastcem import selection

    fastcem.elite_indices(np.arange(5.0), 2)
    assert selection.select_signature() in selection.select_elites.overloads
