"""``fastcem.CEMPlanner`` and ``fastcem.mpc``: the seed's planner, its three kinds of model,
exact native rollouts, thread-independent noise, receding-horizon control in gymnasium."""

from __future__ import annotations

import numpy as np
import pytest
from naive import make_env
from numba import njit

import fastcem
from fastcem._philox import fill_normals, philox4x32_10

U = np.uint64

# Random123's published known-answer vectors for Philox4x32-10 (its tests/kat_vectors).
PHILOX_KAT = [
    ((0, 0, 0, 0), (0, 0), (0x6627E8D5, 0xE169C58D, 0xBC57AC4C, 0x9B00DBD8)),
    ((0xFFFFFFFF,) * 4, (0xFFFFFFFF,) * 2, (0x408F276D, 0x41C83B0E, 0xA20BC7C6, 0x6D5451FD)),
    ((0x243F6A88, 0x85A308D3, 0x13198A2E, 0x03707344), (0xA4093822, 0x299F31D0),
     (0xD16CFE09, 0x94FDCCEB, 0x5001E420, 0x24126EA1)),
]


@pytest.mark.parametrize("counter, key, expected", PHILOX_KAT)
def test_philox_known_answers(counter, key, expected):
    out = philox4x32_10(*(U(c) for c in counter), *(U(k) for k in key))
    assert tuple(int(w) for w in out) == expected


def test_normals_are_standard_and_thread_independent():
    one, two = np.empty(200_001), np.empty(200_001)
    with fastcem._parallel.threads(1):
        fill_normals(one, U(5), U(1), U(2))
    with fastcem._parallel.threads(2):
        fill_normals(two, U(5), U(1), U(2))
    assert one.tobytes() == two.tobytes()
    assert abs(one.mean()) < 0.01 and abs(one.std() - 1) < 0.01 and abs(np.mean(one**4) - 3) < 0.05


class Recorder:
    """The seed's DummyModel (returns -sum of squared actions), keeping what it was asked."""

    def __init__(self):
        self.calls = []

    def evaluate_rollout(self, h, s, actions):
        self.calls.append(actions.copy())
        return -(actions**2).sum(axis=(1, 2))


def test_default_is_the_seeds_refit():
    model = Recorder()
    planner = fastcem.CEMPlanner(model, plan_horizon=6, action_dim=2, num_candidates=200, top_k=20, num_iters=4,
                                 warm_start=False, seed=0)
    action = planner.plan("h", "s")
    assert len(model.calls) == 4 and all(a.shape == (200, 6, 2) for a in model.calls)
    assert all(a.min() >= -1.0 and a.max() <= 1.0 for a in model.calls)
    # First iteration: N(0, 0.5) clamped to (-1, 1), the seed's initial distribution.
    first = model.calls[0]
    assert abs(first.mean()) < 0.02 and abs(first.std() - 0.5) < 0.03
    # The returned action is the first step of the top-k mean of the last iteration (torch's
    # topk and mean, numpy here).
    last = model.calls[-1]
    returns = -(last**2).sum(axis=(1, 2))
    elites = last[np.argsort(-returns, kind="stable")[:20]]
    assert action.tolist() == elites.mean(axis=0)[0].tolist()
    # The objective's optimum is 0.
    assert np.abs(action).max() < 0.05


@pytest.mark.parametrize("env_id, bounds", [("CartPole-v1", (-1.0, 1.0)), ("Pendulum-v1", (-2.5, 2.5))])
def test_native_model_returns_are_gymnasium_rollouts(env_id, bounds, rng):
    info = __import__("envs_native").env_info(env_id)
    planner = fastcem.CEMPlanner(env_id, plan_horizon=40, num_candidates=50, top_k=5, action_bounds=bounds, seed=1)
    state = info.module.reset_state(7)
    actions = rng.uniform(*bounds, size=(50, 40, 1))
    native = planner._model.returns((state,), actions)
    env = make_env(env_id).unwrapped
    for n in range(50):
        env.reset(seed=0)
        env.state = state.copy()
        total = 0.0
        for t in range(40):
            a = actions[n, t, 0]
            _, reward, terminated, _, _ = env.step(int(a > 0) if info.discrete else np.array([a]))
            total += float(reward)
            if terminated:
                break
        assert native[n] == total, n


@njit
def double_integrator(state, action, next_state):
    next_state[0] = state[0] + 0.1 * state[1]
    next_state[1] = state[1] + 0.1 * action[0]


@njit
def distance_cost(state, action, next_state):
    return -(next_state[0] ** 2 + 0.1 * next_state[1] ** 2 + 0.01 * action[0] ** 2)


def test_compiled_user_model(rng):
    planner = fastcem.CEMPlanner((double_integrator, distance_cost), plan_horizon=20, action_dim=1,
                                 num_candidates=400, top_k=40, action_bounds=(-2.0, 2.0), seed=3)
    # The compiled rollout sums the user's rewards along each sequence.
    actions = rng.uniform(-2, 2, size=(30, 20, 1))
    state = np.array([1.0, 0.0])
    got = planner._model.returns((state,), actions)
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


def test_options_change_the_search_and_keep_its_shape():
    for options in ({"alpha": 0.3}, {"noise_beta": 2.0}, {"keep_elites": 0.3}, {"return_best": True},
                    {"population_decay": 1.5}, {"std_tol": 10.0}):
        model = Recorder()
        planner = fastcem.CEMPlanner(model, plan_horizon=8, action_dim=1, num_candidates=300, top_k=30,
                                     num_iters=3, seed=0, **options)
        planner.plan(None, None)
        sizes = [len(a) for a in model.calls]
        if "population_decay" in options:
            assert sizes == [300, 200, 133]
        elif "std_tol" in options:
            assert sizes == [300]  # stopped after the first iteration
        else:
            assert sizes == [300, 300, 300]
    # Colored noise with beta = 2 is smoother along the horizon than white noise.
    white, red = Recorder(), Recorder()
    fastcem.CEMPlanner(white, plan_horizon=30, action_dim=1, num_candidates=500, num_iters=1, seed=0).plan(None, None)
    fastcem.CEMPlanner(red, plan_horizon=30, action_dim=1, num_candidates=500, num_iters=1, seed=0,
                       noise_beta=2.0).plan(None, None)
    roughness = [np.abs(np.diff(m.calls[0][:, :, 0], axis=1)).mean() for m in (white, red)]
    assert roughness[1] < 0.5 * roughness[0]


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


@pytest.mark.parametrize("kwargs, error, match", [
    ({"action_bounds": (1.0, -1.0)}, ValueError, "low < high"),
    ({"action_bounds": (-np.inf, 1.0)}, ValueError, "finite"),
    ({"action_bounds": (-1.0,)}, TypeError, "pair"),
    ({"top_k": 2000}, ValueError, "top_k must be <= num_candidates"),
    ({"top_k": 1}, ValueError, "top_k must be >= 2"),
    ({"plan_horizon": 0}, ValueError, "plan_horizon must be >= 1"),
    ({"num_iters": 0}, ValueError, "num_iters must be >= 1"),
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
        fastcem.CEMPlanner("Acrobot-v1")
    with pytest.raises(TypeError, match="model must be an env id"):
        fastcem.CEMPlanner(42)
    with pytest.raises(ValueError, match="action_dim is required"):
        fastcem.CEMPlanner(Recorder())
    planner = fastcem.CEMPlanner("Pendulum-v1", num_candidates=20, top_k=2)
    with pytest.raises(ValueError, match=r"shape \(2,\)"):
        planner.plan(np.zeros(4))
    with pytest.raises(ValueError, match="state must be finite"):
        planner.plan(np.array([np.nan, 0.0]))

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
        """What the seed's torch model returns, as far as the planner is concerned."""

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
