"""``fastcem.CEMPlanner`` and ``fastcem.mpc``: the reference planner, its three kinds of model,
exact native rollouts, thread-independent noise, receding-horizon control in gymnasium."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import GYM_ONLY_ID
from numba import njit

import fastcem
from envs_native._fastmath import fast_log
from fastcem import planning
from fastcem._philox import fill_normals, philox4x32_10

U = np.uint64

# Random123's published known-answer vectors for Philox4x32-10 (its tests/kat_vectors).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@njit
def _philox(c0, c1, c2, c3, k0, k1):
    return philox4x32_10(c0, c1, c2, c3, k0, k1)


@pytest.mark.parametrize("counter, key, expected", PHILOX_KAT)
def test_philox_known_answers(counter, key, expected):
    out = _philox(*(U(c) for c in counter), *(U(k) for k in key))
    assert tuple(int(w) for w in out) == expected


def test_normals_are_standard_and_thread_independent():
    one, two = np.empty(200_001), np.empty(200_001)
    with fastcem._parallel.threads(1):
        fill_normals(one, U(5), U(1), U(2))
    with fastcem._parallel.threads(2):
        fill_normals(two, U(5), U(1), U(2))
    assert one.tobytes() == two.tobytes()
    assert abs(one.mean()) < 0.01 and abs(one.std() - 1) < 0.01 and abs(np.mean(one**4) - 3) < 0.05


@njit
def _logs(x, out):
    for i in range(x.shape[0]):
        out[i] = fast_log(x[i])


def test_the_noise_log_is_within_one_ulp(rng):
    x = np.concatenate([(rng.integers(0, 2**32, 500_000) + 0.5) * 2.0**-32, np.exp(rng.uniform(-700, 700, 100_000)),
                        [2.0**-32 * 0.5, 1.0 - 2.0**-33, np.sqrt(0.5), np.sqrt(2.0), 1.0, 2.0**-1022]])
    got = np.empty_like(x)
    _logs(x, got)
    assert (np.abs(got - np.log(x)) <= np.spacing(np.abs(np.log(x)))).all()


def test_a_native_model_draws_the_plans_the_sampler_draws():
    """The rollout kernel draws its own plans (sampling fused into the rollout); they are the
    sampler's, candidate by candidate, kept plans after them untouched."""
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=7, num_candidates=50, top_k=5, seed=2)
    h = 7
    noise = planning._Noise(37, np.linspace(-1, 1, h), np.full(h, 0.7), np.full(h, -1.5), np.full(h, 1.2), np.uint64(9),
                   (np.uint64(3), np.uint64(4)), None)
    fused = np.full((41, h, 1), 0.25)
    returns = planner._model.score(np.array([0.3, -0.2]), fused, noise)
    alone = np.full((41, h, 1), 0.25)
    noise.fill(alone)
    assert fused.tobytes() == alone.tobytes() and (fused[37:] == 0.25).all()
    assert returns.tolist() == planner._model.score(np.array([0.3, -0.2]), fused, None).tolist()


@pytest.mark.parametrize("shape", [(300, 6, 2), (300, 1, 1), (40, 3, 1)])
def test_the_refit_is_numpys(shape, rng):
    # (300, 1, 1): numpy sums a single column pairwise, not one elite after another.
    actions = rng.standard_normal(shape)
    returns = rng.standard_normal(shape[0]).round(1)  # ties too
    idx = planning._select(None, actions, returns, 40 if shape[0] > 40 else 20)
    assert idx.tolist() == fastcem.elite_indices(returns, len(idx)).tolist()
    mean, std = planning._moments(actions, idx)
    elites = actions[idx]
    assert mean.tobytes() == elites.mean(axis=0).tobytes() and std.tobytes() == elites.std(axis=0, ddof=1).tobytes()


class Recorder:
    """The reference planner's DummyModel (returns -sum of squared actions), keeping what it was asked."""

    def __init__(self):
        self.calls = []

    def evaluate_rollout(self, h, s, actions):
        self.calls.append(actions.copy())
        return -(actions**2).sum(axis=(1, 2))


def test_default_is_the_reference_planners_refit():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=6, action_dim=2, num_candidates=200, top_k=20, num_iters=4,
                                 warm_start=False, seed=0)
    action = planner.plan("h", "s")
    assert len(model.calls) == 4 and all(a.shape == (200, 6, 2) for a in model.calls)
    assert all(a.min() >= -1.0 and a.max() <= 1.0 for a in model.calls)
    # First iteration: N(0, 0.5) clamped to (-1, 1), the reference planner's initial distribution (within
    # four standard errors).
    first = model.calls[0]
    assert abs(first.mean()) < 4 * 0.5 / np.sqrt(first.size) and abs(first.std() - 0.5) < 0.03
    # The returned action is the first step of the top-k mean of the last iteration (torch's
    # topk and mean, numpy here).
    last = model.calls[-1]
    returns = -(last**2).sum(axis=(1, 2))
    elites = last[np.argsort(-returns, kind="stable")[:20]]
    assert action.tolist() == elites.mean(axis=0)[0].tolist()
    # The objective's optimum is 0: four iterations bring the plan well inside the initial std
    # of 0.5 (over 200 seeds the largest |action| was 0.15, and one in six exceeded 0.05).
    assert np.abs(action).max() < 0.2


def _checked_scores(planner, state, actions):
    """The native model's returns with every square checked (no bound): gymnasium's own."""
    model = planner._model
    bounded_mode, model.bounded_mode = model.bounded_mode, None
    try:
        return model.score(state, actions, None)
    finally:
        model.bounded_mode = bounded_mode


def test_elites_from_bounded_returns_are_the_exact_elites(rng):
    """Plans whose returns lie closer than the bound -- equal plans, plans one ULP apart, plans
    whose only difference is a square near a rounding midpoint -- are settled exactly: the
    elites, their order and the best return are those of the exact returns."""
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=400, top_k=40, seed=1)
    model = planner._model
    for _trial in range(6):
        state = np.array([rng.uniform(-np.pi, np.pi), rng.uniform(-8.0, 8.0)])
        actions = np.clip(rng.normal(0.0, 1.5, size=(400, 30, 1)), -2.0, 2.0)
        best = np.argsort(_checked_scores(planner, state, actions))[::-1]
        # Copies and next-float twins of plans around the boundary and at the top.
        for j, src in enumerate(list(best[35:45]) + list(best[:3])):
            dst = best[-1 - j]
            actions[dst] = actions[src]
            if j % 2:
                actions[dst, -1, 0] = np.nextafter(actions[src, -1, 0], 3.0)
        exact = _checked_scores(planner, state, actions)
        want = fastcem.elite_indices(exact, 40).tolist()
        returns = model.score(state, actions, None)
        idx = model.elites(state, actions, returns, 40)
        assert idx.tolist() == want
        assert returns[idx[0]] == exact[idx[0]]
        # The worst the bound allows: every return moved anywhere within it (ties broken the
        # wrong way, neighbours swapped), and the choice is still the exact one.
        scale, floor = (2 * 30 + 16) * 2.0**-52, 30 * 2.0**-1000
        moved = exact + rng.uniform(-1.0, 1.0, 400) * (scale * np.abs(exact) + floor)
        assert fastcem.elite_indices(moved, 40).tolist() != want
        idx = np.empty(40, dtype=np.int64)
        settled = planning._plan_rollout.certify_elites(state, actions.reshape(400, 30), moved, scale, floor, 40, idx,
                                                        model.params)
        assert idx.tolist() == want and moved[idx[0]] == exact[idx[0]]
        assert settled < 60  # only the close ones


def test_the_elites_are_certified_not_just_ranked():
    """A plan whose ``x * x`` return is off from gymnasium's, and a near copy whose returns
    tie with the first's exact one: ranked by the ``x * x`` returns they come out in the
    wrong order (an exact tie goes to the lower index), and the model's choice -- the one the
    compiled loop makes too (``select_plans``) -- must put them right."""
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=2, top_k=2, seed=1)
    model = planner._model
    state = np.array([2.0, 1.0])
    plans = np.clip(np.random.default_rng(0).normal(0.0, 1.5, (5000, 30, 1)), -2.0, 2.0)
    bounded = model.score(state, plans, None)
    exact = _checked_scores(planner, state, plans)
    p = np.nonzero(bounded != exact)[0][0]
    twins = np.repeat(plans[p][None], 400, axis=0)
    twins[:, 0, 0] += np.arange(1, 401) * np.spacing(plans[p, 0, 0])
    twin_exact = _checked_scores(planner, state, twins)
    q = np.nonzero((twin_exact == exact[p]) & (model.score(state, twins, None) == twin_exact))[0][0]
    first, second = (twins[q], plans[p]) if bounded[p] > exact[p] else (plans[p], twins[q])
    actions = np.stack([first, second])
    returns = model.score(state, actions, None)
    assert fastcem.elite_indices(returns, 2).tolist() == [1, 0]
    assert model.elites(state, actions, returns, 2).tolist() == [0, 1]


def test_equal_plans_are_not_rolled_out_again():
    """With a zero std every plan is the same: their returns tie exactly, in gymnasium's
    arithmetic too, so only the best is rolled out exactly (not all of them)."""
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=300, top_k=30, seed=1)
    state = np.array([1.0, 0.5])
    actions = np.full((300, 30), 0.7)
    returns = planner._model.score(state, actions.reshape(300, 30, 1), None)
    idx = np.empty(30, dtype=np.int64)
    settled = planning._plan_rollout.certify_elites(state, actions, returns, 76 * 2.0**-52, 30 * 2.0**-1000, 30, idx,
                                                    planner._model.params)
    assert idx.tolist() == list(range(30)) and settled == 1


def test_bounded_planning_plans_exactly_as_checked_planning(rng):
    states = np.column_stack([rng.uniform(-np.pi, np.pi, 12), rng.uniform(-8.0, 8.0, 12)])
    states[:3] = [[np.pi, 0.0], [0.0, 0.0], [4.0e6, 1.0]]  # the last beyond the bounded range
    plans = []
    for bounded in (True, False):
        planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=300, top_k=30,
                                     action_bounds=(-2.0, 2.0), seed=4)
        if not bounded:
            planner._model.bounded_mode = None
        plans.append([(planner.plan(s).tobytes(), planner.last_return) for s in states])
    assert plans[0] == plans[1]


@pytest.mark.parametrize("env_id, kwargs", [
    ("Pendulum-v1", {"action_bounds": (-2.0, 2.0)}),
    ("Pendulum-v1", {"return_best": True, "std_tol": 0.45, "warm_start": False}),
    ("Pendulum-v1", {"std_tol": 10.0}),  # stops after the first iteration
    ("CartPole-v1", {}),
])
def test_the_compiled_loop_plans_as_the_python_loop(env_id, kwargs, rng):
    info = __import__("envs_native").env_info(env_id)
    states = [info.spec.reset_state(s) for s in range(3)] + [rng.uniform(-0.2, 0.2, info.state_dim)]
    if env_id == "Pendulum-v1":
        states.append(np.array([0.3, 1e160]))  # every return -inf: nothing beats the start
    runs = []
    for compiled in (True, False):
        planner = fastcem.CEMPlanner(env_id, plan_horizon=20, num_candidates=200, top_k=20, seed=6, **kwargs)
        assert planner._compiled_loop()
        planner._compile_loop = compiled
        runs.append([(planner.plan(s).tobytes(), planner.last_return, planner._mean.tobytes()) for s in states])
    assert runs[0] == runs[1]


def test_options_set_after_construction_take_effect():
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=10, num_candidates=100, top_k=10, seed=1)
    state = np.array([1.0, 0.0])
    planner.alpha = 0.5
    assert not planner._compiled_loop()
    smoothed = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=10, num_candidates=100, top_k=10, seed=1, alpha=0.5)
    assert planner.plan(state).tobytes() == smoothed.plan(state).tobytes()


@njit
def double_integrator(state, action, next_state):
    next_state[0] = state[0] + 0.1 * state[1]
    next_state[1] = state[1] + 0.1 * action[0]


@njit
def distance_cost(state, action, next_state):
    return -(next_state[0] ** 2 + 0.1 * next_state[1] ** 2 + 0.01 * action[0] ** 2)


def test_compiled_user_model(rng):
    planner = fastcem.CEMPlanner((double_integrator, distance_cost), plan_horizon=20, action_dim=1,
                                 num_candidates=400, top_k=40, action_bounds=(-2.0, 2.0), seed=3, state_dim=2)
    # The compiled rollout sums the user's rewards along each sequence.
    actions = rng.uniform(-2, 2, size=(30, 20, 1))
    state = np.array([1.0, 0.0])
    got = planner._model.score(state, actions, None)
    for n in range(30):
        s, total = state.copy(), 0.0
        for t in range(20):
            nxt = np.empty(2)
            double_integrator(s, actions[n, t], nxt)
            total += distance_cost(s, actions[n, t], nxt)
            s = nxt
        assert got[n] == total
    # Closed loop on the model itself: the point is brought to the origin.
    s = state.copy()
    for _ in range(60):
        nxt = np.empty(2)
        double_integrator(s, planner.plan(s), nxt)
        s = nxt
    assert abs(s[0]) < 0.1 and abs(s[1]) < 0.3


def test_same_plan_for_any_thread_count():
    plans = []
    for n in (1, 2):
        planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=15, num_candidates=300, top_k=30,
                                     action_bounds=(-2.0, 2.0), seed=9, num_threads=n)
        state = np.array([2.0, -1.0])
        plans.append([planner.plan(state).tobytes() for _ in range(3)] + [planner._mean.tobytes()])
    assert plans[0] == plans[1]


def test_warm_start_shifts_the_previous_plan():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=5, action_dim=1, num_candidates=4000, top_k=400, num_iters=1,
                                 init_std=0.01, seed=0)
    planner._mean = np.array([[0.1], [0.2], [0.3], [0.4], [0.5]])  # as if planned before
    planner.plan(None, None)
    centre = model.calls[-1].mean(axis=0)[:, 0]
    np.testing.assert_allclose(centre, [0.2, 0.3, 0.4, 0.5, 0.0], atol=0.002)
    planner.reset()
    planner.plan(None, None)
    np.testing.assert_allclose(model.calls[-1].mean(axis=0)[:, 0], 0.0, atol=0.002)


def test_population_decay_and_early_stop_change_the_batch_sizes():
    for options, sizes in (({"population_decay": 1.5}, [300, 200, 133]), ({"std_tol": 10.0}, [300]), ({}, [300] * 3)):
        model = Recorder()
        fastcem.CEMPlanner(model, plan_horizon=8, action_dim=1, num_candidates=300, top_k=30, num_iters=3, seed=0,
                           **options).plan(None, None)
        assert [len(a) for a in model.calls] == sizes, options


def refit(actions, top_k):
    """The reference planner's refit of the recorded actions under the Recorder's objective."""
    returns = -(actions**2).sum(axis=(1, 2))
    elites = actions[np.argsort(-returns, kind="stable")[:top_k]]
    return elites, elites.mean(axis=0), elites.std(axis=0, ddof=1) + 1e-5


def test_alpha_smooths_the_refit():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=4, action_dim=1, num_candidates=2000, top_k=200, num_iters=2,
                                 alpha=0.5, init_std=0.01, seed=0)
    action = planner.plan(None, None)
    # Iteration 1's samples are centred on 0.5 * initial mean + 0.5 * elite mean of iteration 0.
    _, mean0, _std0 = refit(model.calls[0], 200)
    centre = model.calls[1].mean(axis=0)
    np.testing.assert_allclose(centre, 0.5 * 0.0 + 0.5 * mean0, atol=3 * 0.01 / np.sqrt(2000))
    _, mean1, _ = refit(model.calls[1], 200)
    smoothed_mean0 = 0.5 * mean0
    np.testing.assert_allclose(action, (0.5 * smoothed_mean0 + 0.5 * mean1)[0], rtol=1e-12)


def test_return_best_returns_the_best_sequence_seen():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=5, action_dim=1, num_candidates=50, top_k=5, num_iters=3,
                                 return_best=True, seed=0)
    action = planner.plan(None, None)
    everything = np.concatenate(model.calls)
    best = everything[np.argmax(-(everything**2).sum(axis=(1, 2)))]
    assert action.tolist() == best[0].tolist()


def test_keep_elites_carries_the_elites_forward_and_shifted():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=5, action_dim=1, num_candidates=40, top_k=10, num_iters=2,
                                 keep_elites=0.3, seed=0)
    planner.plan(None, None)
    first, second = model.calls
    elites0, _, _ = refit(first, 10)
    assert len(second) == 40 and second[-3:].tolist() == elites0[:3].tolist()
    elites1, _, _ = refit(second, 10)
    planner.plan(None, None)
    kept = model.calls[2][-3:]  # the next call starts with last call's elites, one step on
    assert kept[:, :-1].tolist() == elites1[:3, 1:].tolist() and (kept[:, -1] == 0.0).all()


@pytest.mark.parametrize("horizon", [2, 3, 10, 30])
def test_colored_noise_has_unit_variance_and_is_smoother(horizon):
    red, white = Recorder(), Recorder()
    for model, beta in ((red, 2.0), (white, 0.0)):
        fastcem.CEMPlanner(model, plan_horizon=horizon, action_dim=2, num_candidates=20_000, num_iters=1,
                           init_std=1.0, action_bounds=(-1e9, 1e9), noise_beta=beta, seed=0).plan(None, None)
    noise = red.calls[0]
    np.testing.assert_allclose(noise.var(axis=0), 1.0, rtol=0.1)
    assert abs(np.mean(noise**4) / np.mean(noise**2) ** 2 - 3.0) < 0.2  # Gaussian marginals
    if horizon >= 10:
        rough = [np.abs(np.diff(m.calls[0], axis=1)).mean() for m in (red, white)]
        assert rough[0] < 0.75 * rough[1]


def test_a_python_model_may_call_fastcem_itself():
    class Nested:
        def evaluate_rollout(self, actions):
            terminal = fastcem.evaluate(np.zeros(4), "Pendulum-v1", seed=0)[0]
            return -(actions**2).sum(axis=(1, 2)) + terminal

    action = fastcem.CEMPlanner(Nested(), plan_horizon=3, action_dim=1, num_candidates=20, top_k=2,
                                num_iters=1, seed=0).plan()
    assert action.shape == (1,)


def test_noise_streams_of_calls_and_iterations_do_not_collide():
    planner = fastcem.CEMPlanner(Recorder(), plan_horizon=3, action_dim=1, num_candidates=4, top_k=2, seed=0)
    mean, std, kept = np.zeros((3, 1)), np.ones((3, 1)), np.empty((0, 3, 1))
    late_iteration, _ = planner._batch(("h", "s"), mean, std, 4, kept, 1024)
    planner._calls = 1
    next_call, _ = planner._batch(("h", "s"), mean, std, 4, kept, 0)
    assert late_iteration.tolist() != next_call.tolist()


def test_seed_is_the_eighth_positional_argument():
    a = fastcem.CEMPlanner(Recorder(), 4, 1, 30, 3, 1, (-1.0, 1.0), 7).plan(None, None)
    b = fastcem.CEMPlanner(Recorder(), 4, 1, 30, 3, 1, (-1.0, 1.0), seed=7).plan(None, None)
    assert a.tolist() == b.tolist()


def test_mpc_cartpole_balances_for_the_whole_episode():
    planner = fastcem.CEMPlanner("CartPole-v1", plan_horizon=40, num_candidates=200, top_k=20, num_iters=3, seed=0)
    returns = fastcem.mpc("CartPole-v1", planner, episodes=2, reset_seeds=[3, 4])
    assert returns.tolist() == [500.0, 500.0]


def test_mpc_pendulum_swings_up_and_holds():
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=500, top_k=50, num_iters=5,
                                 action_bounds=(-2.0, 2.0), seed=0)
    result = fastcem.mpc_run("Pendulum-v1", planner, episodes=2, reset_seeds=[0, 1])
    assert result.decisions == 400 and result.plan_seconds > 0
    assert result.returns.mean() > -300  # a linear policy gets about -800 from random starts


@pytest.mark.parametrize("env_id", ["Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0"])
def test_mpc_plays_gymnasium_episodes_on_every_native_env(env_id):
    # Their rewards are sparse (-1 a step until a goal that short plans rarely reach), so
    # this checks the loop, not the control; the conformance suite checks the model's returns.
    planner = fastcem.CEMPlanner(env_id, plan_horizon=10, num_candidates=64, top_k=8, num_iters=2, seed=0)
    result = fastcem.mpc_run(env_id, planner, episodes=1, reset_seeds=[2])
    assert 1 <= result.decisions <= fastcem.max_episode_steps(env_id) and np.isfinite(result.returns).all()


@pytest.mark.parametrize("kwargs, error, match", [
    ({"action_bounds": (1.0, -1.0)}, ValueError, "low < high"),
    ({"action_bounds": (-np.inf, 1.0)}, ValueError, "finite"),
    ({"action_bounds": (-1.0,)}, TypeError, "pair"),
    ({"top_k": 2000}, ValueError, "top_k must be <= num_candidates"),
    ({"top_k": 1}, ValueError, "top_k must be >= 2"),
    ({"plan_horizon": 0}, ValueError, "plan_horizon must be >= 1"),
    ({"num_iters": 0}, ValueError, "num_iters must be between 1 and"),
    ({"action_dim": 2}, ValueError, "action_dim must be 1"),
    ({"alpha": 1.0}, ValueError, "alpha"),
    ({"population_decay": 0.5}, ValueError, "population_decay"),
    ({"seed": -1}, ValueError, "seed must be >= 0"),
])
def test_bad_planner_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        fastcem.CEMPlanner("Pendulum-v1", **kwargs)


def test_bad_models_and_states():
    with pytest.raises(ValueError, match="CartPole-v0"):
        fastcem.CEMPlanner(GYM_ONLY_ID)
    with pytest.raises(TypeError, match="model must be an env id"):
        fastcem.CEMPlanner(42)
    with pytest.raises(ValueError, match="action_dim is required"):
        fastcem.CEMPlanner(Recorder())
    planner = fastcem.CEMPlanner("Pendulum-v1", num_candidates=20, top_k=2)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        planner.plan(np.zeros(4))
    with pytest.raises(ValueError, match="state must be finite"):
        planner.plan(np.array([np.nan, 0.0]))
    with pytest.raises(ValueError, match="action_dim and state_dim are required"):
        fastcem.CEMPlanner((double_integrator, distance_cost), action_dim=1)
    compiled = fastcem.CEMPlanner((double_integrator, distance_cost), action_dim=1, state_dim=2, num_candidates=20,
                                  top_k=2)
    with pytest.raises(ValueError, match=r"state_dim=2\), shape \(2,\)"):
        compiled.plan(np.array([1.0]))
    fast = fastcem.CEMPlanner("Pendulum-v1", num_candidates=20, top_k=2, fast=True)
    with pytest.raises(ValueError, match="fast=True needs states within"):
        fast.plan(np.array([1e15, 0.0]))

    class WrongShape:
        def evaluate_rollout(self, actions):
            return np.zeros(3)

    class NaNs:
        def evaluate_rollout(self, actions):
            return np.full(len(actions), np.nan)

    with pytest.raises(ValueError, match=r"must return shape \(20,\)"):
        fastcem.CEMPlanner(WrongShape(), action_dim=1, num_candidates=20, top_k=2).plan()
    with pytest.raises(ValueError, match="NaN"):
        fastcem.CEMPlanner(NaNs(), action_dim=1, num_candidates=20, top_k=2).plan()


def test_python_model_may_return_a_torch_like_tensor():
    class Tensor:
        """What the reference planner's torch model returns, as far as the planner is concerned."""

        def __init__(self, values):
            self.values = values

        def detach(self):
            return self

        def cpu(self):
            return self

        def __array__(self, dtype=None, copy=None):
            return np.asarray(self.values, dtype=dtype)

    class TorchLike:
        def evaluate_rollout(self, h, s, actions):
            return Tensor(-(actions**2).sum(axis=(1, 2)))

    action = fastcem.CEMPlanner(TorchLike(), plan_horizon=5, action_dim=2, num_candidates=100, top_k=10,
                                seed=0).plan("h", "s")
    assert action.shape == (2,) and np.abs(action).max() < 0.1


def test_compile_split_names_what_the_planning_loop_compiles(tmp_path):
    """``fastcem plan`` compiles the loop's rollout worker in a second process and its refit
    first (``compile_split``); the loop must find those very signatures, or the first run
    compiles them once more.  (A fresh process and cache: a loop loaded from the cache
    compiles no callee.)"""
    script = """
import numpy as np, fastcem
from envs_native import env_info
from fastcem import planning
for env_id in ("Pendulum-v1", "CartPole-v1"):
    for fast in (False, True):
        planner = fastcem.CEMPlanner(env_id, plan_horizon=5, num_candidates=50, top_k=5, seed=0, fast=fast)
        state = np.asarray(env_info(env_id).spec.reset_state(0))
        there, here = planning.compile_split(planner, state)
        names = [k.py_func.__name__ for k, _ in there + here]
        planner.plan(state)
        redo = [] if fast else ["redo_lane"]
        print(names == ["_plan_worker", *redo, "select_plans", "elite_moments"],
              all(sig in kernel.overloads for kernel, sig in there + here))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=900, env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.split() == ["True"] * 8


def test_compile_split_is_empty_without_the_compiled_loop():
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=5, num_candidates=50, top_k=5, seed=0, noise_beta=1.0)
    assert planning.compile_split(planner, np.zeros(2)) == ([], [])
