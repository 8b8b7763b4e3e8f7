"""Every registered env against gymnasium, with ``==``: one suite, parametrized over the
registry (``envs_native.ENV_IDS``), with each env's edge cases from ``env_cases.CASES``.

* its ``step`` from injected states (the gymnax test pattern; hypothesis draws states near
  and past the limits) and its ``observe``, under every env-kwargs configuration;
* ``reset_state`` per seed, and the TimeLimit;
* whole episodes through ``evaluate(..., reset_seeds=...)``, ``rollout`` and ``gym_policy``;
* the exact lane modes agreeing with each other, and every mode deterministic across thread
  counts;
* ``make_vec`` against ``SyncVectorEnv`` across autoresets and truncations;
* the planner's native model against gymnasium rollouts of the same plans.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from env_cases import CASES
from hypothesis import given, settings
from hypothesis import strategies as st
from naive import make_env

import envs_native
import fastcem
from envs_native import Discrete, env_info
from envs_native._glibc_pow import matches_libm_pow
from envs_native.modes import CertifiedLanes, Fast, GlibcLanes, GlibcPowLanes, Libm
from fastcem import _rollout
from fastcem.planning import env_action

# Every registered env that gymnasium has too (a test may register a made-up one).
ENV_IDS = [env_id for env_id in envs_native.ENV_IDS if env_id in gym.registry]
CONFIGS = [(env_id, kwargs) for env_id in ENV_IDS for kwargs in CASES[env_info(env_id).spec.name].kwargs]


def cases(env_id: str):
    return CASES[env_info(env_id).spec.name]


def module(env_id: str):
    return getattr(envs_native, env_info(env_id).spec.name)


def assert_same_bits(native: np.ndarray, reference: np.ndarray) -> None:
    assert native.dtype == reference.dtype
    assert native.tobytes() == reference.tobytes(), (native, reference)


def gym_action(action: object, env_id: str) -> object:
    """The action as a gymnasium user passes it: an int, or an array for a Box (float32 for
    a float32 action, as ``action_space.sample()`` gives, else float64)."""
    if env_info(env_id).discrete:
        return action
    return np.array([action], dtype=np.float32 if isinstance(action, np.float32) else np.float64)


def population(env_id: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Random policies (short, uneven episodes) and, where the env has them, long ones."""
    dim = fastcem.policy_dim(env_id)
    thetas = rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((n, dim))
    long = cases(env_id).long_policies
    if long is not None:
        thetas[: n // 2] = long(n // 2, rng)
    return thetas


@pytest.mark.parametrize("env_id, env_kwargs", CONFIGS)
def test_step_and_observe_match_gymnasium(env_id, env_kwargs):
    env = make_env(env_id, env_kwargs).unwrapped
    mod = module(env_id)
    params = mod.default_params(**(env_kwargs or {}))
    c = cases(env_id)

    @settings(max_examples=300)
    @given(state=c.states, action=c.actions)
    def check(state, action):
        env.reset(seed=0)  # a fresh env: the kernel's step has no memory
        env.state = state.copy()
        obs, reward, terminated, _, _ = env.step(gym_action(action, env_id))
        next_state, native_reward, native_terminated = mod.step(state, action, params)
        assert_same_bits(next_state, np.asarray(env.state))
        assert native_reward == reward
        assert native_terminated == terminated
        assert_same_bits(mod.observe(next_state), obs)

    check()


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_reset_state_and_time_limit_match_gymnasium(env_id):
    env = gym.make(env_id)
    mod = module(env_id)
    for seed in [*range(300), 2**31 - 1, 2**63, 10**30]:
        obs, _ = env.reset(seed=seed)
        state = mod.reset_state(seed)
        assert_same_bits(state, np.asarray(env.unwrapped.state))
        assert_same_bits(mod.observe(state), obs)
    assert envs_native.max_episode_steps(env_id) == gym.spec(env_id).max_episode_steps


def gym_episode(theta: np.ndarray, env_id: str, seed: int, env_kwargs: dict | None) -> tuple[float, int, bool, bool]:
    """``(return, steps, terminated, truncated)`` of a gymnasium episode played with
    ``fastcem.gym_policy``; rewards added in step order."""
    env = make_env(env_id, env_kwargs)
    policy = fastcem.gym_policy(theta, env_id)
    obs, _ = env.reset(seed=seed)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(obs))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            env.close()
            return total, steps, terminated, truncated


@pytest.mark.parametrize("env_id, env_kwargs", CONFIGS)
def test_evaluate_equals_gymnasium_episodes(env_id, env_kwargs, rng):
    thetas = population(env_id, 16, rng)
    seeds = rng.integers(0, 2**31, size=len(thetas))
    truncated_seen = False
    for theta, seed in zip(thetas, seeds, strict=True):
        expected, steps, terminated, truncated = gym_episode(theta, env_id, int(seed), env_kwargs)
        got = fastcem.evaluate(theta, env_id, reset_seeds=[int(seed)], env_kwargs=env_kwargs)
        assert got.shape == (1,)
        assert got[0] == expected, (theta, seed)
        traj = fastcem.rollout(theta, env_id, int(seed), env_kwargs=env_kwargs)
        assert (len(traj), traj.terminated, traj.truncated) == (steps, terminated, truncated)
        assert traj.episode_return == expected
        truncated_seen |= truncated
    # Every configuration must include episodes that run into the TimeLimit.
    assert truncated_seen


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_rollout_replays_through_step(env_id, rng):
    mod = module(env_id)
    params = mod.default_params()
    theta = population(env_id, 2, rng)[0]
    traj = fastcem.rollout(theta, env_id, 5)
    assert traj.gym_state(0).tobytes() == mod.reset_state(5).tobytes()
    for t in range(len(traj)):
        assert traj.observations[t].tobytes() == mod.observe(traj.gym_state(t)).tobytes()
        action = traj.actions[t].item()
        nxt, reward, _ = mod.step(traj.gym_state(t), int(action) if env_info(env_id).discrete else action, params)
        assert nxt.tobytes() == traj.gym_state(t + 1).tobytes()
        assert reward == traj.rewards[t]


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_exact_lane_modes_agree_and_every_mode_is_deterministic(env_id, rng):
    """glibc's operations (with checked squares, and with glibc's pow emulated where the C
    library is that code) and the certified values (the path elsewhere) give the same returns
    as the C library one lane at a time; each mode gives the same bits for any number of
    workers."""
    info = env_info(env_id)
    thetas = population(env_id, 300, rng)
    starts = info.spec.kernel_states(info.spec.sample_states(rng, (300, 2)))
    params = info.spec.default_params()
    results = {}
    pow_lanes = (GlibcPowLanes(),) if matches_libm_pow() else ()
    for mode in (Libm(), GlibcLanes(), *pow_lanes, CertifiedLanes(), Fast()):
        runs = []
        for workers in (1, 3):
            out = np.empty(300)
            _rollout.evaluate_population(thetas, starts, params, mode, info.max_episode_steps, workers, out)
            runs.append(out.tobytes())
        assert runs[0] == runs[1], mode
        results[type(mode).__name__] = runs[0]
    assert results["Libm"] == results["GlibcLanes"] == results["CertifiedLanes"]
    assert results.get("GlibcPowLanes", results["Libm"]) == results["Libm"]


def _vector_actions(env_id: str, obs: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    space = env_info(env_id).spec.action
    if isinstance(space, Discrete):
        # Mostly a policy whose episodes run long (so that they reach the TimeLimit), at
        # times a random action (so that others end early).
        policy = fastcem.gym_policy(population(env_id, 2, np.random.default_rng(0))[0], env_id)
        steer = np.array([policy(o) for o in obs], dtype=np.int64)
        return np.where(rng.random(n) < 0.1, rng.integers(0, space.n, n), steer)
    # float64 (a policy's) or float32 (action_space.sample()'s) actions: both dtypes' arithmetic.
    return rng.uniform(1.25 * space.low, 1.25 * space.high, (n, 1)).astype(rng.choice([np.float32, np.float64]))


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_vector_env_is_sync_vector_env_across_autoresets(env_id, rng):
    n = 20  # two blocks of 16 lanes, the second partial
    steps = 3 * envs_native.max_episode_steps(env_id) + 1
    reference = gym.make_vec(env_id, num_envs=n, vectorization_mode="sync")
    native = gym.make_vec(f"fastcem/{env_id}", num_envs=n)
    assert isinstance(native, fastcem.NativeVectorEnv)
    assert native.single_observation_space == reference.single_observation_space
    assert native.action_space == reference.action_space and native.observation_space == reference.observation_space
    obs_ref, _ = reference.reset(seed=21)
    obs, info = native.reset(seed=21)
    assert obs.dtype == np.float32 and obs.tobytes() == obs_ref.tobytes() and info == {}
    truncations = 0
    for t in range(steps):
        actions = _vector_actions(env_id, obs, n, rng)
        got = native.step(actions)
        want = reference.step(actions)
        for g, w in zip(got[:4], want[:4], strict=True):
            assert np.asarray(g).dtype == np.asarray(w).dtype and np.asarray(g).tobytes() == np.asarray(w).tobytes(), t
        obs = got[0]
        truncations += int(got[3].sum())
    assert truncations > 0  # the TimeLimit and its autoreset happened


@pytest.mark.parametrize("env_id", ENV_IDS)
def test_planner_native_model_returns_are_gymnasium_rollouts(env_id, rng):
    info = env_info(env_id)
    space = info.spec.action
    bounds = (-1.0, 1.0) if isinstance(space, Discrete) else (1.25 * space.low, 1.25 * space.high)
    planner = fastcem.CEMPlanner(env_id, plan_horizon=40, num_candidates=50, top_k=5, action_bounds=bounds, seed=1)
    state = info.spec.reset_state(7)
    actions = rng.uniform(*bounds, size=(50, 40, 1))
    model = planner._model
    prepared = model.prepare((state,))
    bounded_mode, model.bounded_mode = model.bounded_mode, None
    try:
        native = model.score(prepared, actions, None)  # every value checked: gymnasium's own
    finally:
        model.bounded_mode = bounded_mode
    returns = model.score(prepared, actions, None)
    _, scale, floor = model.rollout_mode(prepared, 40)
    if scale < 0:
        assert returns.tobytes() == native.tobytes()
    else:  # the env's reward_bound: within it, and the elites the exact ones
        assert (np.abs(returns - native) <= scale * np.abs(returns) + floor).all()
        assert model.elites(prepared, actions, returns.copy(), 5).tolist() == fastcem.elite_indices(native, 5).tolist()
    env = gym.make(env_id).unwrapped
    for n in range(50):
        env.reset(seed=0)
        env.state = state.copy()
        total = 0.0
        for t in range(40):
            _, reward, terminated, _, _ = env.step(env_action(float(actions[n, t, 0]), space))
            total += float(reward)
            if terminated:
                break
        assert native[n] == total, n


def test_every_registered_env_has_cases():
    names = {env_info(env_id).spec.name for env_id in ENV_IDS}
    assert names <= set(CASES), names - set(CASES)


@given(seed=st.integers(0, 2**32 - 1))
@settings(max_examples=30)
def test_gym_policy_takes_the_compiled_actions(seed):
    rng = np.random.default_rng(seed)
    for env_id in ENV_IDS:
        theta = population(env_id, 2, rng)[1]
        expected, *_ = gym_episode(theta, env_id, seed, None)
        assert fastcem.evaluate(theta, env_id, reset_seeds=[seed])[0] == expected
