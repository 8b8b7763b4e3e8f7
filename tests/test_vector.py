"""``fastcem.make_vec`` / ``gymnasium.make_vec("fastcem/...")``: the same bits as gymnasium's
``SyncVectorEnv`` step for step, across autoresets, for resets with and without seeds,
options and masks; its generators, spec, pickling, arguments and frames."""

from __future__ import annotations

import copy
import pickle
import sys
from typing import NamedTuple

import gymnasium as gym
import numpy as np
import pytest
from conftest import GYM_ONLY_ID

import envs_native
import fastcem
from envs_native import ENV_IDS, Discrete, EnvSpec, cartpole, env_info

# The native envs that gymnasium has too (fastcem/<id>); not a made-up env another test module
# registers in this process.
GYM_IDS = [env_id for env_id in ENV_IDS if f"fastcem/{env_id}" in gym.registry]

# Reset options of each env with gymnasium's meaning (a narrower or shifted range).
OPTIONS = {
    "CartPole-v0": {"low": -0.2, "high": 0.1},
    "CartPole-v1": {"low": -0.2, "high": 0.1},
    "Pendulum-v1": {"x_init": 0.5, "y_init": 0.25},
    "Acrobot-v1": {"low": -0.3, "high": 0.3},
    "MountainCar-v0": {"low": -0.55, "high": -0.45},
    "MountainCarContinuous-v0": {"high": -0.5},
}
# Env kwargs that gymnasium's constructors take too.
KWARGS = {
    "CartPole-v0": {"sutton_barto_reward": True},
    "CartPole-v1": {"sutton_barto_reward": True},
    "Pendulum-v1": {"g": 9.81},
    "MountainCar-v0": {"goal_velocity": 0.01},
    "MountainCarContinuous-v0": {"goal_velocity": 0.01},
}


def pair(env_id: str, n: int, **kwargs):
    """fastcem's vector env and gymnasium's ``SyncVectorEnv``, made alike."""
    return (gym.make_vec(f"fastcem/{env_id}", num_envs=n, **kwargs),
            gym.make_vec(env_id, num_envs=n, vectorization_mode="sync", **kwargs))


def random_actions(env_id: str, n: int, rng: np.random.Generator) -> np.ndarray:
    space = env_info(env_id).spec.action
    if isinstance(space, Discrete):
        return rng.integers(0, space.n, n)
    return rng.uniform(1.25 * space.low, 1.25 * space.high, (n, 1)).astype(rng.choice([np.float32, np.float64]))


def same(got, want, where: object = "") -> None:
    """The outputs of ``reset`` (obs, info) or ``step`` (obs, rewards, flags, info): the same
    dtypes and bits."""
    for g, w in zip(got[:-1], want[:-1], strict=True):
        assert np.asarray(g).dtype == np.asarray(w).dtype, where
        assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), where


def steps(native, reference, env_id: str, count: int, rng: np.random.Generator) -> int:
    """Step both ``count`` times with the same random actions; the number of episodes ended."""
    ended = 0
    for t in range(count):
        actions = random_actions(env_id, native.num_envs, rng)
        got = native.step(actions)
        same(got, reference.step(actions), t)
        ended += int((got[2] | got[3]).sum())
    return ended


def test_list_seeds_reset_with_fresh_entropy_and_make_vec():
    env = fastcem.make_vec("Pendulum-v1", 3)
    a, _ = env.reset(seed=[1, 2, 3])
    b, _ = gym.make_vec("Pendulum-v1", num_envs=3, vectorization_mode="sync").reset(seed=[1, 2, 3])
    assert a.tobytes() == b.tobytes()
    c, _ = env.reset()
    d, _ = env.reset()
    assert c.tobytes() != d.tobytes()
    env.close()


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_unseeded_resets_continue_each_sub_envs_generator(env_id, rng):
    # The example, on every env: reset(seed=7) then reset() is reproducible, and it is
    # SyncVectorEnv's; then steps with autoresets, unseeded resets past the states drawn ahead
    # (RESET_BATCH), a list with None (those sub-envs continue) and a list of new seeds.
    def first_unseeded(env):
        env.reset(seed=7)
        return env.reset()[0]

    assert first_unseeded(pair(env_id, 2)[0]).tobytes() == first_unseeded(pair(env_id, 2)[0]).tobytes()
    native, reference = pair(env_id, 3, max_episode_steps=4)
    same(native.reset(seed=7), reference.reset(seed=7))
    same(native.reset(), reference.reset())
    assert steps(native, reference, env_id, 9, rng) >= 6  # each sub-env truncated at least twice
    for r in range(40):
        same(native.reset(), reference.reset(), r)
    same(native.reset(seed=[11, None, 13]), reference.reset(seed=[11, None, 13]))
    steps(native, reference, env_id, 6, rng)
    same(native.reset(seed=[None, None, 5]), reference.reset(seed=[None, None, 5]))
    steps(native, reference, env_id, 6, rng)


def test_np_random_and_np_random_seed_are_sync_vector_envs(rng):
    native, reference = pair("CartPole-v1", 3, max_episode_steps=5)
    fresh = fastcem.make_vec("CartPole-v1", 4).np_random_seed
    assert len(set(fresh)) == 4 and all(isinstance(s, int) for s in fresh)  # gymnasium: a seed each
    same(native.reset(seed=42), reference.reset(seed=42))
    assert native.np_random_seed == reference.np_random_seed == (42, 43, 44)
    same(native.reset(), reference.reset())
    assert native.np_random_seed == (42, 43, 44)  # a reset without a seed keeps it
    steps(native, reference, "CartPole-v1", 12, rng)
    # The generators are where gymnasium's are (states drawn ahead are put back), and draws
    # from them move the next resets as they do in gymnasium.
    for mine, theirs in zip(native.np_random, reference.np_random, strict=True):
        assert mine.bit_generator.state == theirs.bit_generator.state
        assert mine.random() == theirs.random()
    steps(native, reference, "CartPole-v1", 12, rng)
    same(native.reset(), reference.reset())
    assert isinstance(native.np_random, tuple) and len(native.np_random) == 3


def test_spec_survives_copies_json_and_make_vec():
    for env_id in GYM_IDS:
        spec = gym.spec(f"fastcem/{env_id}")
        assert spec.vector_entry_point == f"fastcem.vector:{env_id}"
        assert copy.deepcopy(spec) == spec and pickle.loads(pickle.dumps(spec)) == spec
        assert gym.envs.registration.EnvSpec.from_json(spec.to_json()) == spec
    env = gym.make_vec("fastcem/CartPole-v1", num_envs=3, sutton_barto_reward=True, max_episode_steps=50)
    again = gym.make_vec(env.spec)
    assert again.spec == env.spec and type(again) is type(env) and again.max_episode_steps == 50
    assert again.params == env.params and again.num_envs == 3
    assert gym.envs.registration.EnvSpec.from_json(env.spec.to_json()) == env.spec
    with pytest.raises(AttributeError, match="NoSuchEnv-v0"):
        getattr(fastcem.vector, "NoSuchEnv-v0")


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "Acrobot-v1"])
def test_pickled_and_copied_envs_continue_bit_for_bit(env_id, rng):
    env = gym.make_vec(f"fastcem/{env_id}", num_envs=5, max_episode_steps=6)
    env.reset(seed=3)
    for _ in range(8):
        env.step(random_actions(env_id, 5, rng))
    copies = [copy.deepcopy(env), pickle.loads(pickle.dumps(env))]
    assert all(c.spec == env.spec for c in copies)
    for t in range(40):  # past the states drawn ahead for autoresets
        actions = random_actions(env_id, 5, rng)
        want = env.step(actions)
        for c in copies:
            same(c.step(actions), want, t)
    want = env.reset()
    for c in copies:
        same(c.reset(), want)


@pytest.mark.parametrize("env_id", sorted(KWARGS))
def test_env_kwargs_and_max_episode_steps_pass_through_make_vec(env_id, rng):
    native, reference = pair(env_id, 4, max_episode_steps=13, **KWARGS[env_id])
    assert native.params == env_info(env_id).spec.default_params(**KWARGS[env_id])
    assert native.max_episode_steps == 13
    same(native.reset(seed=5), reference.reset(seed=5))
    assert steps(native, reference, env_id, 40, rng) >= 8  # truncations at 13 steps (and terminations)
    direct = fastcem.make_vec(env_id, 4, max_episode_steps=13, **KWARGS[env_id])
    assert direct.params == native.params and direct.spec is None


def test_bad_make_vec_arguments():
    with pytest.raises(TypeError, match="takes no argument 'gravity'; its env kwargs: g"):
        fastcem.make_vec("Pendulum-v1", 2, gravity=9.81)
    with pytest.raises(TypeError, match="'sutton_barto'"):
        gym.make_vec("fastcem/CartPole-v1", num_envs=2, sutton_barto=True)
    with pytest.raises(TypeError, match="sutton_barto_reward must be a bool"):
        fastcem.make_vec("CartPole-v1", 2, sutton_barto_reward=1)
    with pytest.raises(ValueError, match="max_episode_steps must be >= 1, got 0"):
        fastcem.make_vec("CartPole-v1", 2, max_episode_steps=0)
    with pytest.raises(TypeError, match="max_episode_steps must be an int"):
        gym.make_vec("fastcem/CartPole-v1", num_envs=2, max_episode_steps=2.5)
    with pytest.raises(ValueError, match="render_mode must be None or 'rgb_array', got 'human'"):
        fastcem.make_vec("CartPole-v1", 2, render_mode="human")


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCar-v0",
                                    "MountainCarContinuous-v0"])
def test_frames_are_sync_vector_envs(env_id, rng):
    # Pendulum draws the last torque too: a sub-env that stepped is drawn as gymnasium draws it.
    native, reference = pair(env_id, 2, max_episode_steps=2, render_mode="rgb_array")
    assert native.render_mode == "rgb_array" and native.metadata["render_fps"] == reference.metadata["render_fps"]
    native.reset(seed=1)
    reference.reset(seed=1)
    for t in range(4):  # a step, the truncation, the autoreset, a step
        got, want = native.render(), reference.render()
        assert isinstance(got, tuple) and len(got) == 2
        for g, w in zip(got, want, strict=True):
            assert g.dtype == np.uint8 and g.shape == w.shape and g.tobytes() == w.tobytes(), t
        actions = random_actions(env_id, 2, rng)
        native.step(actions)
        reference.step(actions)
    native.close()
    reference.close()


def test_render_without_a_mode_or_pygame(monkeypatch):
    env = fastcem.make_vec("CartPole-v1", 2)
    env.reset(seed=0)
    with pytest.warns(UserWarning, match="without specifying any render mode"):
        assert env.render() is None
    monkeypatch.setitem(sys.modules, "pygame", None)  # `import pygame` raises ImportError
    with pytest.raises(gym.error.DependencyNotInstalled, match=r'pip install "fastcem\[video\]"'):
        fastcem.make_vec("CartPole-v1", 2, render_mode="rgb_array")


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_reset_options_are_gymnasiums(env_id, rng):
    # For that reset only (autoresets draw from the default range), seeded or continuing the
    # generators (states drawn ahead are put back first); unknown keys are ignored.
    options = OPTIONS[env_id]
    native, reference = pair(env_id, 3, max_episode_steps=3)
    same(native.reset(seed=2, options=options), reference.reset(seed=2, options=options))
    steps(native, reference, env_id, 7, rng)
    same(native.reset(options=options), reference.reset(options=options))
    steps(native, reference, env_id, 4, rng)
    same(native.reset(options={**options, "unknown": 1}), reference.reset(options={**options, "unknown": 1}))
    same(native.reset(options={"unknown": 1}), reference.reset(options={"unknown": 1}))
    steps(native, reference, env_id, 4, rng)


def test_bad_reset_options_change_nothing(rng):
    native, reference = pair("CartPole-v1", 3)
    same(native.reset(seed=1), reference.reset(seed=1))
    for options, error, match in [({"low": "a"}, ValueError, "reset option 'low' must be a number, got 'a'"),
                                  ({"low": 0.2}, ValueError, r"low \(0.2\) must not be above high \(0.05\)"),
                                  ({"high": float("inf")}, ValueError, "'high' must be finite"),
                                  ([("low", 0.1)], TypeError, "options must be a dict")]:
        with pytest.raises(error, match=match):
            native.reset(seed=9, options=options)
    with pytest.raises(ValueError, match="x_init and y_init must be >= 0"):
        fastcem.make_vec("Pendulum-v1", 2).reset(options={"y_init": -1.0})
    same(native.reset(), reference.reset())  # the failed resets moved no generator
    steps(native, reference, "CartPole-v1", 5, rng)


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_reset_mask_is_sync_vector_envs(env_id, rng):
    # Sub-envs outside the mask keep their state, step count and flags: one that had just
    # ended is still autoreset by the next step.
    native, reference = pair(env_id, 4, max_episode_steps=5)
    same(native.reset(seed=[0, 1, 2, 3]), reference.reset(seed=[0, 1, 2, 3]))
    steps(native, reference, env_id, 3, rng)
    mask = np.array([True, False, True, False])
    same(native.reset(seed=[7, 7, 7, 7], options={"reset_mask": mask}),
         reference.reset(seed=[7, 7, 7, 7], options={"reset_mask": mask.copy()}))
    steps(native, reference, env_id, 2, rng)  # sub-envs 1 and 3 truncate (step 5), 0 and 2 do not
    assert native._truncated.tolist() == [False, True, False, True]
    mask = np.array([True, True, False, False])
    same(native.reset(options={"reset_mask": mask}), reference.reset(options={"reset_mask": mask.copy()}))
    steps(native, reference, env_id, 6, rng)
    options = {"reset_mask": mask, **OPTIONS[env_id]}
    same(native.reset(options=options), reference.reset(options=dict(options)))
    assert "reset_mask" in options  # the caller's dict is left as it was
    steps(native, reference, env_id, 3, rng)


class _NoOptionsParams(NamedTuple):
    dt: float


def test_a_spec_with_reset_options_needs_sample_states_that_takes_them():
    # Refused before its kernels compile (nothing is registered, nothing cached).
    spec = EnvSpec(ids={"NoOptions-v0": 10}, params=_NoOptionsParams, default_params=lambda: _NoOptionsParams(0.1),
                   dynamics=cartpole.dynamics, observation=cartpole.observation, state_dim=4, obs_dim=4,
                   action=Discrete(2), sample_states=lambda rng, size: cartpole.sample_states(rng, size),
                   mirrors="", reset_options=("low", "high"))
    with pytest.raises(TypeError, match=r"reset_options names \['low', 'high'\], so spec.sample_states must take"):
        envs_native.register(spec)
    assert "NoOptions-v0" not in envs_native.ENV_IDS
    with pytest.raises(TypeError, match="reset_options must be a tuple of str"):
        EnvSpec(**{**spec.__dict__, "reset_options": ["low"]})


def test_bad_reset_masks():
    env = fastcem.make_vec("CartPole-v1", 3)
    with pytest.raises(ValueError, match="first reset must reset every sub-env"):
        env.reset(options={"reset_mask": np.array([True, False, True])})
    env.reset(options={"reset_mask": np.array([True, True, True])})
    for mask, error, match in [(np.array([True]), ValueError, r"shape \(3,\), got \(1,\)"),
                               (np.array([[True, True, True]]), ValueError, r"got \(1, 3\)"),
                               (np.array([False, False, False]), ValueError, "at least one"),
                               (np.array([1, 1, 0]), TypeError, "bool array of shape \\(3,\\), got dtype int64"),
                               ([True, True, False], TypeError, "got list")]:
        with pytest.raises(error, match=match):
            env.reset(options={"reset_mask": mask})


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


@pytest.mark.parametrize("env_id, action", [("CartPole-v1", 0), ("CartPole-v1", np.int64(1)), ("Pendulum-v1", 0.5),
                                            ("MountainCar-v0", 2)])
def test_a_scalar_action_is_a_type_error(env_id, action):
    # gymnasium's SyncVectorEnv raises TypeError (it cannot iterate over a scalar); the message
    # says what a batch is.
    env = fastcem.make_vec(env_id, 3)
    env.reset(seed=0)
    with pytest.raises(TypeError, match=r"actions must be a batch, 3 .*shape \(3,.*; got the scalar"):
        env.step(action)


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
    with pytest.raises(TypeError, match="seed must be None, an int or a list of 2 seeds"):
        env.reset(seed="12")
    with pytest.raises(ValueError, match="seed must be a non-negative int, got -1"):
        env.reset(seed=-1)
    with pytest.raises(TypeError, match=r"seed\[1\] must be a non-negative int, got float"):
        env.reset(seed=[1, 2.0])


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
        for g, w in zip(native.step(actions)[:4], reference.step(actions)[:4], strict=True):
            assert np.asarray(g).tobytes() == np.asarray(w).tobytes(), t
    assert np.float32(1 + 2**-12) ** 2 != np.float32(1 + 2**-12) * np.float32(1 + 2**-12)
