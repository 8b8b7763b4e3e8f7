"""gymnasium's own tests of vector envs, pointed at fastcem's vector envs.

Adapted from Farama-Foundation/Gymnasium at the tag v1.3.0 (commit
53bf3e9a884783eb72ad3fc8b15780914c97c3e1), the installed gymnasium's version:

* ``tests/vector/test_vector_env.py``, ``test_sync_vector_env.py``, ``test_autoreset_mode.py``,
  ``test_vector_wrapper.py`` (and, for what cannot apply, ``test_vector_env_info.py``,
  ``test_observation_mode.py``, ``test_async_vector_env.py``);
* ``tests/wrappers/vector/*.py``;
* ``tests/envs/registration/test_make_vec.py``;
* ``gymnasium/utils/env_checker.py``'s ``check_reset_seed_determinism``, in vector form.

Each test keeps its gymnasium name; where gymnasium builds a ``SyncVectorEnv`` /
``AsyncVectorEnv`` of ``make_env("CartPole-v1", i)``, the test builds
``gym.make_vec("fastcem/CartPole-v1", ...)``.  What changes besides is said next to it.  The
cases that cannot apply are listed in ``NOT_APPLICABLE`` with the reason, and reported as
skipped.  Then each of gymnasium's vector wrappers over fastcem is compared with the same
wrapper over ``SyncVectorEnv``: the same bits, step for step, across autoresets.
"""

from __future__ import annotations

import copy
import os
import re
import warnings
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
from gymnasium import VectorizeMode, wrappers
from gymnasium.spaces import Box, Discrete, MultiDiscrete
from gymnasium.vector import AsyncVectorEnv, AutoresetMode, SyncVectorEnv, VectorWrapper
from gymnasium.wrappers import TimeLimit, TransformObservation

import fastcem
from envs_native import ENV_IDS

NATIVE = fastcem.NativeVectorEnv
# The native envs that gymnasium has too (fastcem/<id>); not a made-up env another test module
# registers in this process.
GYM_IDS = [env_id for env_id in ENV_IDS if f"fastcem/{env_id}" in gym.registry]


def native(env_id: str = "CartPole-v1", num_envs: int = 1, **kwargs: Any) -> fastcem.NativeVectorEnv:
    return gym.make_vec(f"fastcem/{env_id}", num_envs=num_envs, **kwargs)


def sync(env_id: str = "CartPole-v1", num_envs: int = 1, **kwargs: Any) -> SyncVectorEnv:
    return gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="sync", **kwargs)


def identical(a: Any, b: Any) -> bool:
    """The same structure, types, dtypes and bits (gymnasium's ``data_equivalence(exact=True)``,
    with bytes in place of ``==`` so that NaN and -0.0 count)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(identical(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(identical(x, y) for x, y in zip(a, b))
    if isinstance(a, np.ndarray):
        if a.shape != b.shape or a.dtype != b.dtype:
            return False
        if a.dtype == object:
            return all(identical(x, y) for x, y in zip(a, b))
        return a.tobytes() == b.tobytes()
    if isinstance(a, (float, np.generic)):
        return np.asarray(a).tobytes() == np.asarray(b).tobytes()
    return bool(a == b)


# --- cases of gymnasium's tests that cannot apply ----------------------------------------------

LANES = "fastcem's sub-envs are lanes of one compiled kernel, not Python env objects (as in CartPoleVectorEnv)"
NEXT_STEP_ONLY = ("fastcem's vector env autoresets on the next step only (AutoresetMode.NEXT_STEP, as "
                  "CartPoleVectorEnv); gymnasium's make_vec refuses vector_kwargs (autoreset_mode) for a vector "
                  "entry point")
CUSTOM_ENV = "tests a custom gymnasium env (GenericTestEnv and the like); fastcem's vector envs are its native envs"
NOT_APPLICABLE = {
    # tests/vector/test_vector_env.py
    "test_vector_env.py::test_vector_env_equal[SAME_STEP]": NEXT_STEP_ONLY,
    "test_vector_env.py::test_vector_obs_action_spaces": CUSTOM_ENV + " with arbitrary spaces",
    "test_vector_env.py::test_final_obs_info": CUSTOM_ENV + " (final_obs of SAME_STEP); " + NEXT_STEP_ONLY,
    "test_vector_env.py::test_random_seeds_set_at_retrieval (second assert)":
        "make_env seeds each sub-env when it is made (seeds 0..n-1); a fastcem sub-env is seeded by reset only",
    # tests/vector/test_sync_vector_env.py
    "test_sync_vector_env.py::test_call_sync_vector_env": "call() on the sub-envs: " + LANES,
    "test_sync_vector_env.py::test_set_attr_sync_vector_env": "set_attr()/get_attr() on the sub-envs: " + LANES,
    "test_sync_vector_env.py::test_check_spaces_sync_vector_env": "mixes two env ids in one vector env",
    "test_sync_vector_env.py::test_custom_space_sync_vector_env": CUSTOM_ENV,
    "test_sync_vector_env.py::test_sync_vector_env_seed":
        "seeds each sub-env's own action space when it is made: " + LANES
        + " (the batched action space's seeding is test_sync_vector_determinism)",
    # tests/vector/test_autoreset_mode.py
    "test_autoreset_mode.py::test_autoreset_within_step": NEXT_STEP_ONLY,
    "test_autoreset_mode.py::test_autoreset_disabled": NEXT_STEP_ONLY,
    "test_autoreset_mode.py::test_autoreset_metadata[SAME_STEP, DISABLED]": NEXT_STEP_ONLY,
    "test_autoreset_mode.py::test_make_vec_autoreset": NEXT_STEP_ONLY,
    "test_autoreset_mode.py::test_same_step_final_obs": NEXT_STEP_ONLY,
    # tests/vector/test_vector_env_info.py, test_observation_mode.py, test_async_vector_env.py
    "test_vector_env_info.py::test_vector_add_info": "tests VectorEnv._add_info of gymnasium's base class",
    "test_vector_env_info.py::test_vector_return_info": CUSTOM_ENV + " returning infos",
    "test_observation_mode.py::*": "the observation_mode argument of SyncVectorEnv/AsyncVectorEnv",
    "test_async_vector_env.py::*": "AsyncVectorEnv's processes, shared memory, timeouts and errors",
    # tests/vector/test_vector_wrapper.py
    "test_vector_wrapper.py::test_vector_env_wrapper_attributes": "call()/set_attr() on the sub-envs: " + LANES,
    # tests/envs/registration/test_make_vec.py
    "test_make_vec.py::test_async_with_dynamically_registered_env":
        "registers gymnasium's CartPoleEnv and tests AsyncVectorEnv's start methods",
    "test_make_vec.py::test_make_vec_with_spec_additional_wrappers (first half)":
        "additional_wrappers of a single-env entry point (gymnasium's)",
    # tests/wrappers/vector/
    "test_dict_info_to_list.py::test_update_info": CUSTOM_ENV + " (ResetOptionAsInfo)",
    "test_dict_info_to_list.py::test_errors": CUSTOM_ENV + " (ResetOptionAsInfo)",
    "test_human_rendering.py::test_num_envs_screen_size[Ant-v4]": "MuJoCo's Ant, not a native env",
    "test_human_rendering.py::test_render_modes": "render_mode='rgb_array_list': fastcem renders 'rgb_array' "
                                                  "only, as CartPoleVectorEnv",
    "test_normalize_observation.py::test_normalization": CUSTOM_ENV + " (statistics of uniform random "
                                                         "observations); the exact comparison is below",
    "test_normalize_observation.py::test_wrapper_equivalence":
        "compares gymnasium's single-env wrapper with its vector one within a tolerance, over a custom env",
    "test_normalize_reward.py::*": CUSTOM_ENV + " with a custom reward, and gymnasium's single-env wrapper "
                                   "against its vector one within a tolerance; the exact comparison is below",
    "test_record_video.py::*[SAME_STEP, DISABLED]": NEXT_STEP_ONLY,
    "test_transform_action.py::test_warning_on_mismatched_single_action_space": CUSTOM_ENV + " (3-d Box actions)",
    "test_vector_wrappers.py::test_vector_wrapper_equivalence[DictObsEnv-v0, CarRacing-v3]":
        "Dict and image observations: fastcem's native envs have neither",
    "test_vector_wrappers.py::test_vector_wrapper_equivalence[SAME_STEP]": NEXT_STEP_ONLY,
    "test_vectorize_transform.py::test_vectorize_box_to_dict_action": CUSTOM_ENV,
    "test_vectorize_transform.py::test_vectorize_dict_to_box_obs":
        "wrappers= in async mode: gymnasium's own envs under the fastcem/ id (the vectorize wrappers over "
        "fastcem are compared below)",
    "wrappers.vector FilterObservation, GrayscaleObservation, ResizeObservation":
        "Dict and image observations: fastcem's native envs have neither",
}


@pytest.mark.parametrize("case", sorted(NOT_APPLICABLE))
def test_not_applicable(case):
    pytest.skip(NOT_APPLICABLE[case])


# --- tests/vector/test_vector_env.py --------------------------------------------------------------

@pytest.mark.parametrize("env_id", GYM_IDS)
def test_vector_env_equal(env_id):
    """AsyncVectorEnv against SyncVectorEnv there; fastcem's against SyncVectorEnv here, with
    ``==`` on bits (gymnasium compares with ``np.all(==)``), on every native env."""
    num_steps = 100
    fast_env = native(env_id, 4)
    sync_env = sync(env_id, 4)

    assert fast_env.num_envs == sync_env.num_envs
    assert fast_env.observation_space == sync_env.observation_space
    assert fast_env.single_observation_space == sync_env.single_observation_space
    assert fast_env.action_space == sync_env.action_space
    assert fast_env.single_action_space == sync_env.single_action_space

    fast_observations, fast_infos = fast_env.reset(seed=0)
    sync_observations, sync_infos = sync_env.reset(seed=0)
    assert identical(fast_observations, sync_observations)
    assert identical(fast_infos, sync_infos)

    fast_env.action_space.seed(0)
    for _ in range(num_steps):
        actions = fast_env.action_space.sample()
        assert actions in sync_env.action_space
        assert identical(fast_env.step(actions), sync_env.step(actions))

    fast_env.close()
    sync_env.close()


def test_random_seeding_basics():
    seed = 42
    vector_env = native("CartPole-v1", 4)
    vector_env.reset(seed=seed)
    assert vector_env.np_random_seed == tuple(seed + i for i in range(vector_env.num_envs))
    # resetting with seed=None means seed remains the same
    vector_env.reset(seed=None)
    assert vector_env.np_random_seed == tuple(seed + i for i in range(vector_env.num_envs))


def test_random_seeds_set_at_retrieval():
    """The first assert; the second needs sub-envs seeded when made (see NOT_APPLICABLE)."""
    vector_env = native("CartPole-v1", 4)
    assert len(set(vector_env.np_random_seed)) == vector_env.num_envs


def test_partial_reset():
    """``autoreset_mode=DISABLED`` there; fastcem's next-step autoreset here (no sub-env ends in
    three steps of CartPole)."""
    envs = native("CartPole-v1", 3)
    reset_obs, _ = envs.reset(seed=[0, 1, 2])

    envs.action_space.seed(123)
    envs.step(envs.action_space.sample())
    envs.step(envs.action_space.sample())
    step_obs, *_ = envs.step(envs.action_space.sample())

    reset_mask_obs, _ = envs.reset(seed=[0, 1, 0], options={"reset_mask": np.array([True, True, False])})
    assert np.all(reset_mask_obs[:2] == reset_obs[:2])
    assert np.all(reset_mask_obs[2] == step_obs[2])

    envs.close()


def test_partial_reset_failure():
    """gymnasium asserts (``AssertionError``); fastcem raises ``ValueError``/``TypeError`` that
    name ``options['reset_mask']``, with the same facts."""
    envs = native("CartPole-v1", 3)

    # Reset with all trues
    envs.reset(options={"reset_mask": np.array([True, True, True])})

    with pytest.raises(ValueError, match=re.escape("options['reset_mask'] must have shape (3,), got (1,)")):
        envs.reset(options={"reset_mask": np.array([True])})
    with pytest.raises(ValueError, match=re.escape("options['reset_mask'] must have shape (3,), got (4,)")):
        envs.reset(options={"reset_mask": np.array([True, True, False, False])})
    with pytest.raises(ValueError, match=re.escape("options['reset_mask'] must have shape (3,), got (1, 3)")):
        envs.reset(options={"reset_mask": np.array([[True, True, True]])})
    with pytest.raises(ValueError, match=re.escape("options['reset_mask'] must mark at least one sub-env")):
        envs.reset(options={"reset_mask": np.array([False, False, False])})
    with pytest.raises(TypeError, match=re.escape("options['reset_mask'] must be a numpy bool array of shape (3,), "
                                                  "got dtype int64")):
        envs.reset(options={"reset_mask": np.array([1, 1, 0])})
    with pytest.raises(TypeError, match=re.escape("got dtype float64")):
        envs.reset(options={"reset_mask": np.array([1.0, 1.0, 0.0])})


def test_action_count_compatibility():
    """Test that the number of actions is compatible with the number of environments."""
    num_envs = 4
    envs = native("CartPole-v1", num_envs)

    envs.reset()

    correct_actions = envs.action_space.sample()
    assert len(correct_actions) == num_envs

    obs, rewards, terminations, truncations, infos = envs.step(correct_actions)
    assert len(obs) == num_envs
    assert len(rewards) == num_envs
    assert len(terminations) == num_envs
    assert len(truncations) == num_envs

    with pytest.raises(ValueError):
        envs.step(correct_actions[: num_envs - 1])
    with pytest.raises(ValueError):
        envs.step(np.concatenate([correct_actions, correct_actions[:1]]))
    with pytest.raises(TypeError):
        envs.step(0)

    envs.close()


# --- tests/vector/test_sync_vector_env.py ---------------------------------------------------------

def test_create_sync_vector_env():
    """FrozenLake there (not a native env); CartPole here."""
    env = native("CartPole-v1", 8)
    env.close()
    assert env.num_envs == 8


def test_reset_sync_vector_env():
    env = native("CartPole-v1", 8)
    observations, infos = env.reset()
    env.close()

    assert isinstance(env.observation_space, Box)
    assert isinstance(observations, np.ndarray)
    assert observations.dtype == env.observation_space.dtype
    assert observations.shape == (8,) + env.single_observation_space.shape
    assert observations.shape == env.observation_space.shape


@pytest.mark.parametrize("use_single_action_space", [True, False])
@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_step_sync_vector_env(use_single_action_space, env_id):
    """FrozenLake there; CartPole (``Discrete`` actions, batched as ``MultiDiscrete``) and
    Pendulum (``Box``) here, whose observations are a ``Box``."""
    env = native(env_id, 8)
    env.reset()

    if env_id == "CartPole-v1":
        assert isinstance(env.single_action_space, Discrete)
        assert isinstance(env.action_space, MultiDiscrete)
    else:
        assert isinstance(env.single_action_space, Box) and isinstance(env.action_space, Box)

    if use_single_action_space:
        actions = [env.single_action_space.sample() for _ in range(8)]
    else:
        actions = env.action_space.sample()
    observations, rewards, terminations, truncations, _ = env.step(actions)

    env.close()

    assert isinstance(env.observation_space, Box)
    assert isinstance(observations, np.ndarray)
    assert observations.dtype == env.observation_space.dtype
    assert observations.shape == (8,) + env.single_observation_space.shape
    assert observations.shape == env.observation_space.shape

    assert isinstance(rewards, np.ndarray)
    assert isinstance(rewards[0], (float, np.floating))
    assert rewards.ndim == 1
    assert rewards.size == 8

    assert isinstance(terminations, np.ndarray)
    assert terminations.dtype == np.bool_
    assert terminations.ndim == 1
    assert terminations.size == 8

    assert isinstance(truncations, np.ndarray)
    assert truncations.dtype == np.bool_
    assert truncations.ndim == 1
    assert truncations.size == 8


def test_render_sync_vector():
    envs = native("CartPole-v1", 3, render_mode="rgb_array")
    assert envs.render_mode == "rgb_array"

    envs.reset()
    rendered_frames = envs.render()
    assert isinstance(rendered_frames, tuple)
    assert len(rendered_frames) == envs.num_envs
    assert all(isinstance(frame, np.ndarray) for frame in rendered_frames)
    envs.close()

    envs = native("CartPole-v1", 3)
    assert envs.render_mode is None


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_sync_vector_determinism(env_id, seed=123, n=3):
    """Every gymnasium env there; every native env here (the action space seeded by its
    ``seed`` instead of the sub-envs')."""
    env_1 = native(env_id, n)
    env_2 = native(env_id, n)
    env_1.action_space.seed(seed)
    env_2.action_space.seed(seed)
    assert env_1.action_space.np_random.bit_generator.state == env_2.action_space.np_random.bit_generator.state

    for _ in range(100):
        assert np.all(env_1.action_space.sample() == env_2.action_space.sample())

    env_1.close()
    env_2.close()


# --- tests/vector/test_autoreset_mode.py ----------------------------------------------------------

def test_autoreset_next_step():
    """gymnasium's counting env ends sub-envs after ``max_count`` steps; here the TimeLimit does
    (``max_episode_steps=2`` for every sub-env: one limit a vector env), and the observations
    are SyncVectorEnv's."""
    envs = native("CartPole-v1", 3, max_episode_steps=2)
    reference = sync("CartPole-v1", 3, max_episode_steps=2)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP

    obs, info = envs.reset(seed=0)
    assert identical(obs, reference.reset(seed=0)[0])
    assert info == {}

    expected = [([1, 1, 1], [False] * 3), ([1, 1, 1], [True] * 3), ([0, 0, 0], [False] * 3), ([1, 1, 1], [False] * 3)]
    for rewards_wanted, truncations_wanted in expected:
        obs, rewards, terminations, truncations, info = envs.step([1, 0, 1])
        assert identical(obs, reference.step([1, 0, 1])[0])
        assert np.all(rewards == rewards_wanted)
        assert np.all(terminations == [False, False, False])
        assert np.all(truncations == truncations_wanted)
        assert info == {}

    envs.close()


def test_autoreset_metadata():
    """For NEXT_STEP, the only mode (see NOT_APPLICABLE)."""
    envs = native("CartPole-v1", 2)
    assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    envs.close()


# --- tests/vector/test_vector_wrapper.py ----------------------------------------------------------

class DummyVectorWrapper(VectorWrapper):
    """Dummy Vector wrapper that contains a counter function to logging the number of times that reset is called."""

    def __init__(self, env):
        super().__init__(env)
        self.counter = 0

    def reset(self, *, seed=None, options=None):
        self.counter += 1
        return super().reset(seed=seed, options=options)


def test_vector_env_wrapper_inheritance():
    env = native("CartPole-v1")
    wrapped = DummyVectorWrapper(env)
    wrapped.reset()
    assert wrapped.counter == 1
    env.close()


def test_vector_env_metadata():
    env = native("CartPole-v1", 3)
    wrapped = DummyVectorWrapper(native("CartPole-v1", 3))

    assert env.metadata == wrapped.metadata
    env.metadata = {"render_modes": ["rgb_array"]}
    assert env.metadata != wrapped.metadata
    env.close()


# --- gymnasium/utils/env_checker.py: check_reset_seed_determinism, in vector form -----------------

def check_vector_reset_seed_determinism(env: gym.vector.VectorEnv) -> None:
    """``check_reset_seed_determinism`` with the vector env's generators (a tuple, one a
    sub-env, as ``SyncVectorEnv.np_random``) in place of ``env.unwrapped._np_random``."""
    obs_1, _ = env.reset(seed=123)
    assert obs_1 in env.observation_space
    seed_123_rng_1 = copy.deepcopy(env.np_random)

    obs_2, _ = env.reset()
    assert obs_2 in env.observation_space

    obs_3, _ = env.reset(seed=123)
    assert obs_3 in env.observation_space
    seed_123_rng_3 = copy.deepcopy(env.np_random)

    obs_4, _ = env.reset()
    assert obs_4 in env.observation_space

    if env.spec is not None and env.spec.nondeterministic is False:
        assert identical(obs_1, obs_3), "Using `env.reset(seed=123)` is non-deterministic"
        assert identical(obs_2, obs_4), "Using `env.reset(seed=123)` then `env.reset()` is non-deterministic"

    assert [r.bit_generator.state for r in seed_123_rng_1] == [r.bit_generator.state for r in seed_123_rng_3]

    obs_5, _ = env.reset(seed=456)
    assert obs_5 in env.observation_space
    assert all(r.bit_generator.state != r_1.bit_generator.state for r, r_1 in zip(env.np_random, seed_123_rng_1))


@pytest.mark.parametrize("env_id", GYM_IDS)
def test_check_reset_seed_determinism(env_id):
    check_vector_reset_seed_determinism(sync(env_id, 3))  # the check itself, on gymnasium's
    check_vector_reset_seed_determinism(native(env_id, 3))


# --- tests/envs/registration/test_make_vec.py -----------------------------------------------------

def test_make_vec_env_id():
    env = gym.make_vec("fastcem/CartPole-v1")
    assert isinstance(env, NATIVE)
    assert env.num_envs == 1
    env.close()


@pytest.mark.parametrize("num_envs", [1, 3, 10])
@pytest.mark.parametrize("vectorization_mode", ["vector_entry_point", "sync"])
def test_make_vec_num_envs(num_envs, vectorization_mode):
    """``async`` once, below (it starts processes)."""
    env = gym.make_vec("fastcem/CartPole-v1", num_envs=num_envs, vectorization_mode=vectorization_mode)
    assert env.num_envs == num_envs
    env.close()


def test_make_vec_vectorization_mode():
    """fastcem's ids: the default and ``vector_entry_point`` give fastcem's env; ``sync`` and
    ``async`` gymnasium's over gymnasium's env (the ids' entry point)."""
    env_spec = gym.spec("fastcem/CartPole-v1")
    assert env_spec is not None and env_spec.vector_entry_point is not None
    env = gym.make_vec("fastcem/CartPole-v1")
    assert isinstance(env, NATIVE)
    env.close()

    env = gym.make_vec("fastcem/CartPole-v1", vectorization_mode="vector_entry_point")
    assert isinstance(env, NATIVE)
    env.close()
    env = gym.make_vec("fastcem/CartPole-v1", vectorization_mode=VectorizeMode.VECTOR_ENTRY_POINT)
    assert isinstance(env, NATIVE)
    env.close()

    env = gym.make_vec("fastcem/CartPole-v1", num_envs=3, vectorization_mode="async")
    assert isinstance(env, AsyncVectorEnv) and env.num_envs == 3
    env.close()

    env = gym.make_vec("fastcem/CartPole-v1", vectorization_mode="sync")
    assert isinstance(env, SyncVectorEnv)
    env.close()
    env = gym.make_vec("fastcem/CartPole-v1", vectorization_mode=VectorizeMode.SYNC)
    assert isinstance(env, SyncVectorEnv)
    env.close()

    with pytest.raises(ValueError, match=re.escape(
            "Invalid vectorization mode: 'invalid', valid modes: ['async', 'sync', 'vector_entry_point']")):
        gym.make_vec("fastcem/CartPole-v1", vectorization_mode="invalid")
    with pytest.raises(ValueError, match=re.escape(
            "Invalid vectorization mode: 123, valid modes: ['async', 'sync', 'vector_entry_point']")):
        gym.make_vec("fastcem/CartPole-v1", vectorization_mode=123)


def test_make_vec_render_mode():
    envs = gym.make_vec("fastcem/CartPole-v1", vectorization_mode=VectorizeMode.VECTOR_ENTRY_POINT)
    assert envs.render_mode is None
    envs.close()

    envs = gym.make_vec("fastcem/CartPole-v1", render_mode="rgb_array",
                        vectorization_mode=VectorizeMode.VECTOR_ENTRY_POINT)
    assert envs.render_mode == "rgb_array"
    envs.close()


def has_wrapper(wrapped_env: gym.Env, wrapper_type: type) -> bool:
    """tests/wrappers/utils.py's ``has_wrapper``."""
    while isinstance(wrapped_env, gym.Wrapper):
        if isinstance(wrapped_env, wrapper_type):
            return True
        wrapped_env = wrapped_env.env
    return False


def test_make_vec_wrappers():
    """The sync half as there (fastcem's ids make gymnasium's sub-envs in sync mode); the vector
    entry point refuses ``wrappers``, as gymnasium's make_vec does for any."""
    env = gym.make_vec("fastcem/CartPole-v1", num_envs=2, vectorization_mode="sync")
    assert isinstance(env, SyncVectorEnv)
    assert len(env.envs) == 2

    sub_env = env.envs[0]
    assert isinstance(sub_env, gym.Env)
    assert sub_env.spec is not None
    if sub_env.spec.max_episode_steps is not None:
        assert has_wrapper(sub_env, TimeLimit)

    assert all(has_wrapper(sub_env, TransformObservation) is False for sub_env in env.envs)
    env.close()

    env = gym.make_vec(
        "fastcem/CartPole-v1", num_envs=2, vectorization_mode="sync",
        wrappers=[lambda _env: TransformObservation(_env, lambda obs: obs * 2, sub_env.observation_space)],
    )
    assert isinstance(env, SyncVectorEnv)
    assert all(has_wrapper(sub_env, TransformObservation) for sub_env in env.envs)
    env.close()

    with pytest.raises(gym.error.Error, match="Cannot use `vector_entry_point` vectorization mode with the wrappers"):
        gym.make_vec("fastcem/CartPole-v1", num_envs=2, wrappers=[wrappers.ClipReward])


MAKE_VEC_CASES = [
    {},
    {"num_envs": 3},
    {"vectorization_mode": "sync"},
    {"vectorization_mode": "vector_entry_point"},
    {"vectorization_mode": "sync", "vector_kwargs": {"copy": False}},
    {"vectorization_mode": "sync", "wrappers": (gym.wrappers.TimeAwareObservation,)},
    {"render_mode": "rgb_array"},
    {"vectorization_mode": "sync", "max_episode_steps": 5},
    {"max_episode_steps": 5},  # not in gymnasium's list: a TimeLimit through the vector entry point
    {"sutton_barto_reward": True},
    {"vectorization_mode": "sync", "sutton_barto_reward": True},
]


@pytest.mark.parametrize("by_spec", [False, True], ids=["id", "spec"])
@pytest.mark.parametrize("kwargs", MAKE_VEC_CASES, ids=[repr(k) for k in MAKE_VEC_CASES])
def test_make_vec_with_spec(by_spec, kwargs):
    env_id = gym.spec("fastcem/CartPole-v1") if by_spec else "fastcem/CartPole-v1"
    envs = gym.make_vec(env_id, **kwargs)
    assert envs.spec is not None
    recreated_envs = gym.make_vec(envs.spec)

    # Assert equivalence
    assert envs.spec == recreated_envs.spec
    assert envs.num_envs == recreated_envs.num_envs

    assert type(envs) is type(recreated_envs)

    assert envs.observation_space == recreated_envs.observation_space
    assert envs.single_observation_space == recreated_envs.single_observation_space
    assert envs.action_space == recreated_envs.action_space
    assert envs.single_action_space == recreated_envs.single_action_space

    assert envs.render_mode == recreated_envs.render_mode

    envs.close()
    recreated_envs.close()


def test_make_vec_with_spec_additional_wrappers():
    """The second half: a spec with fastcem's vector entry point and additional wrappers."""
    gym.register("TestEnv-v1", vector_entry_point="fastcem.vector:CartPole-v1",
                 additional_wrappers=(wrappers.ClipReward.wrapper_spec(min_reward=-0.5, max_reward=0.5),))
    try:
        with pytest.raises(gym.error.Error, match=re.escape(
                "Cannot use `vector_entry_point` vectorization mode with the additional_wrappers parameter in spec "
                "being not empty")):
            gym.make_vec("TestEnv-v1")
    finally:
        del gym.registry["TestEnv-v1"]


def test_missing_autoreset_mode_metadata():
    """fastcem's envs have the metadata: no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gym.make_vec("fastcem/CartPole-v1").close()
        gym.make_vec("fastcem/Pendulum-v1", num_envs=2).close()


# --- tests/wrappers/vector/ ----------------------------------------------------------------------

def test_usage_in_vector_env(num_envs: int = 3):
    """test_dict_info_to_list.py"""
    env = gym.make("CartPole-v1", disable_env_checker=True)
    vector_env = native("CartPole-v1", num_envs)

    wrappers.vector.DictInfoToList(vector_env)

    # gymnasium 1.3 asserts; 1.4 raises TypeError.
    with pytest.raises((AssertionError, TypeError)):
        wrappers.vector.DictInfoToList(env)


@pytest.mark.parametrize("num_envs", [1, 3, 9])
@pytest.mark.parametrize("screen_size", [None, (400, 300), (300, 600), (600, 600)])
def test_num_envs_screen_size(num_envs, screen_size, monkeypatch):
    """test_human_rendering.py, CartPole (its window on SDL's dummy video driver)."""
    pytest.importorskip("cv2", reason="gymnasium's HumanRendering needs opencv (gymnasium[other])")
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    envs = native("CartPole-v1", num_envs, render_mode="rgb_array")
    envs = wrappers.vector.HumanRendering(envs, screen_size=screen_size)

    assert envs.render_mode == "human"

    envs.reset()
    for _ in range(25):
        envs.step(envs.action_space.sample())
    envs.close()


def test_update_running_mean():
    """test_normalize_observation.py, on Pendulum (a 3-d Box of observations, as gymnasium's test env)."""
    env = native("Pendulum-v1", 2)
    env = wrappers.vector.NormalizeObservation(env)

    # Default value is True
    assert env.update_running_mean

    env.reset()
    for _ in range(100):
        env.step(env.action_space.sample())

    # Disable updating the running mean
    env.update_running_mean = False
    copied_rms_mean = np.copy(env.obs_rms.mean)
    copied_rms_var = np.copy(env.obs_rms.var)

    for _ in range(10):
        env.step(env.action_space.sample())

    assert np.all(copied_rms_mean == env.obs_rms.mean)
    assert np.all(copied_rms_var == env.obs_rms.var)

    # Re-enable updating the running mean
    env.update_running_mean = True

    for _ in range(10):
        env.step(env.action_space.sample())

    assert np.any(copied_rms_mean != env.obs_rms.mean)
    assert np.any(copied_rms_var != env.obs_rms.var)


def test_observation_space_and_dtype():
    """test_normalize_observation.py, on Pendulum."""
    vec_env = native("Pendulum-v1", 2)
    vec_env = wrappers.vector.NormalizeObservation(vec_env)

    assert vec_env.single_observation_space.dtype == np.float32
    assert np.all(vec_env.single_observation_space.low == -np.inf)
    assert np.all(vec_env.single_observation_space.high == np.inf)

    obs, _ = vec_env.reset(seed=123)
    assert obs.dtype == np.float32

    obs, *_ = vec_env.step(vec_env.action_space.sample())
    assert obs.dtype == np.float32


@pytest.mark.parametrize("num_envs", (1, 3))
def test_record_episode_statistics(num_envs, env_id="CartPole-v1", num_steps=100):
    """test_record_episode_statistics.py: the vector wrapper over fastcem's env against
    gymnasium's single-env wrapper in SyncVectorEnv (``==`` on bits)."""
    wrapper_vector_env = wrappers.vector.RecordEpisodeStatistics(native(env_id, num_envs))
    vector_wrapper_env = gym.make_vec(id=env_id, num_envs=num_envs, vectorization_mode="sync",
                                      wrappers=(gym.wrappers.RecordEpisodeStatistics,))

    assert wrapper_vector_env.action_space == vector_wrapper_env.action_space
    assert wrapper_vector_env.observation_space == vector_wrapper_env.observation_space
    assert wrapper_vector_env.single_action_space == vector_wrapper_env.single_action_space
    assert wrapper_vector_env.single_observation_space == vector_wrapper_env.single_observation_space

    assert wrapper_vector_env.num_envs == vector_wrapper_env.num_envs

    wrapper_vector_obs, wrapper_vector_info = wrapper_vector_env.reset(seed=123)
    vector_wrapper_obs, vector_wrapper_info = vector_wrapper_env.reset(seed=123)

    assert identical(wrapper_vector_obs, vector_wrapper_obs)
    assert identical(wrapper_vector_info, vector_wrapper_info)

    episodes = 0
    for _ in range(1, num_steps + 1):
        action = wrapper_vector_env.action_space.sample()
        wrapper_vector_obs, wrapper_vector_reward, wrapper_vector_terminated, wrapper_vector_truncated, \
            wrapper_vector_info = wrapper_vector_env.step(action)
        vector_wrapper_obs, vector_wrapper_reward, vector_wrapper_terminated, vector_wrapper_truncated, \
            vector_wrapper_info = vector_wrapper_env.step(action)

        assert identical(wrapper_vector_obs, vector_wrapper_obs)
        assert identical(wrapper_vector_reward, vector_wrapper_reward)
        assert identical(wrapper_vector_terminated, vector_wrapper_terminated)
        assert identical(wrapper_vector_truncated, vector_wrapper_truncated)

        if "episode" in wrapper_vector_info:
            episodes += 1
            wrapper_vector_time = wrapper_vector_info["episode"].pop("t")
            vector_wrapper_time = vector_wrapper_info["episode"].pop("t")
            assert wrapper_vector_time.shape == vector_wrapper_time.shape
            assert wrapper_vector_time.dtype == vector_wrapper_time.dtype

            vector_wrapper_info["episode"].pop("_l")
            vector_wrapper_info["episode"].pop("_r")
            vector_wrapper_info["episode"].pop("_t")

        assert identical(wrapper_vector_info, vector_wrapper_info)

    assert episodes > 0
    wrapper_vector_env.close()
    vector_wrapper_env.close()


def _mp4s(folder) -> set[str]:
    return {file for file in os.listdir(folder) if file.endswith(".mp4")}


def test_video_folder_and_filenames(tmp_path, name_prefix: str = "video-prefix", n_envs: int = 3):
    """test_record_video.py (NEXT_STEP; 3 sub-envs in place of 10, for time; the folder under
    pytest's tmp_path)."""
    video_folder = tmp_path / "custom_video_folder"
    envs = native("CartPole-v1", n_envs, render_mode="rgb_array")
    envs = wrappers.vector.RecordVideo(envs, video_folder=str(video_folder), name_prefix=name_prefix,
                                       episode_trigger=lambda x: x in [1, 4], step_trigger=lambda x: x in [0, 30],
                                       video_aspect_ratio=(1, 1))

    envs.reset(seed=123)
    envs.action_space.seed(123)
    for _ in range(150):
        envs.step(envs.action_space.sample())
    envs.close()

    assert _mp4s(video_folder) == {
        "video-prefix-step-0.mp4",  # step triggers
        "video-prefix-step-30.mp4",
        "video-prefix-episode-1.mp4",  # episode triggers
        "video-prefix-episode-4.mp4",
    }


@pytest.mark.parametrize("episodic_trigger", [None, lambda x: x in [0, 3, 5, 10, 12]], ids=["default", "custom"])
def test_episodic_trigger(episodic_trigger, tmp_path, n_envs=3):
    """test_record_video.py (NEXT_STEP; 3 sub-envs in place of 10, for time)."""
    envs = native("CartPole-v1", n_envs, render_mode="rgb_array")
    envs = wrappers.vector.RecordVideo(envs, str(tmp_path / "videos"), episode_trigger=episodic_trigger,
                                       video_aspect_ratio=(1, 1))
    envs.reset(seed=123)
    envs.action_space.seed(123)
    episode_count = 0
    for _ in range(199):
        _, _, terminations, truncations, _ = envs.step(envs.action_space.sample())
        if terminations[0] or truncations[0]:
            episode_count += 1
    envs.close()

    assert envs.episode_trigger is not None
    assert len(_mp4s(tmp_path / "videos")) == sum(envs.episode_trigger(i) for i in range(episode_count + 1))


def test_step_trigger(tmp_path, n_envs=3):
    """test_record_video.py (NEXT_STEP; 3 sub-envs in place of 10, for time)."""
    envs = native("CartPole-v1", n_envs, render_mode="rgb_array")
    envs = wrappers.vector.RecordVideo(envs, str(tmp_path / "videos"), step_trigger=lambda x: x % 100 == 0,
                                       video_aspect_ratio=(1, 1))
    envs.reset(seed=123)
    envs.action_space.seed(123)
    for _ in range(199):
        envs.step(envs.action_space.sample())
    envs.close()
    assert len(_mp4s(tmp_path / "videos")) == 2


def test_both_episodic_and_step_trigger(tmp_path, n_envs=3):
    """test_record_video.py (NEXT_STEP; 3 sub-envs in place of 10, for time)."""
    envs = native("CartPole-v1", n_envs, render_mode="rgb_array")
    envs = wrappers.vector.RecordVideo(envs, str(tmp_path / "videos"), step_trigger=lambda x: x == 100,
                                       episode_trigger=lambda x: x == 0 or x == 3, video_aspect_ratio=(1, 1))
    envs.reset(seed=123)
    envs.action_space.seed(123)
    for _ in range(199):
        envs.step(envs.action_space.sample())
    envs.close()
    assert len(_mp4s(tmp_path / "videos")) == 3


def test_video_length(tmp_path, video_length: int = 10, n_envs=3):
    """test_record_video.py (NEXT_STEP; 3 sub-envs in place of 10, for time)."""
    envs = native("CartPole-v1", n_envs, render_mode="rgb_array")
    envs = wrappers.vector.RecordVideo(envs, str(tmp_path / "videos"), step_trigger=lambda x: x == 0,
                                       video_length=video_length, video_aspect_ratio=(1, 1))

    envs.reset(seed=123)
    envs.action_space.seed(123)
    for _ in range(video_length):
        _, _, terminations, truncations, _ = envs.step(envs.action_space.sample())
        if terminations[0] or truncations[0]:
            break

    # check that the environment is still recording then take a step to take the number of steps > video length
    assert envs.recording
    envs.step(envs.action_space.sample())
    assert not envs.recording
    envs.close()

    assert len(_mp4s(tmp_path / "videos")) == 1


def test_action_space_from_single_action_space(n_envs: int = 5):
    """test_transform_action.py, on Pendulum's torques (a 1-d Box there is a 3-d one)."""
    vec_env = native("Pendulum-v1", n_envs)
    vec_env = wrappers.vector.TransformAction(vec_env, func=lambda x: x - 100,
                                              single_action_space=Box(low=np.float32(98), high=np.float32(102)))

    assert isinstance(vec_env.action_space, Box)
    assert vec_env.action_space.shape == (n_envs, 1)
    assert vec_env.action_space.dtype == np.float32
    assert (vec_env.action_space.low == np.full((n_envs, 1), 98, dtype=np.float32)).all()
    assert (vec_env.action_space.high == np.full((n_envs, 1), 102, dtype=np.float32)).all()

    assert isinstance(vec_env.single_action_space, Box)
    assert vec_env.single_action_space.shape == (1,)
    assert vec_env.single_action_space.dtype == np.float32
    vec_env.reset(seed=0)
    vec_env.step(vec_env.action_space.sample())


def test_transform(n_envs: int = 2):
    """test_transform_observation.py, on Pendulum's observations (in [-1, 1] x [-1, 1] x [-8, 8])."""
    vec_env = native("Pendulum-v1", n_envs)
    vec_env = wrappers.vector.TransformObservation(vec_env, func=lambda x: x + 100,
                                                   single_observation_space=vec_env.single_observation_space)

    obs, _ = vec_env.reset(seed=123)
    vec_env.observation_space.seed(123)
    vec_env.action_space.seed(123)

    assert (obs >= np.array([99, 99, 92], dtype=np.float32)).all()
    assert (obs <= np.array([101, 101, 108], dtype=np.float32)).all()

    obs, *_ = vec_env.step(vec_env.action_space.sample())

    assert (obs >= np.array([99, 99, 92], dtype=np.float32)).all()
    assert (obs <= np.array([101, 101, 108], dtype=np.float32)).all()


def test_observation_space_from_single_observation_space(n_envs: int = 5):
    """test_transform_observation.py, on Pendulum."""
    vec_env = native("Pendulum-v1", n_envs)
    high = np.array([1, 1, 8], dtype=np.float32)
    vec_env = wrappers.vector.TransformObservation(vec_env, func=lambda x: x + 100,
                                                   single_observation_space=Box(low=100 - high, high=100 + high))

    assert isinstance(vec_env.observation_space, Box)
    assert vec_env.observation_space.shape == (n_envs, 3)
    assert vec_env.observation_space.dtype == np.float32
    assert (vec_env.observation_space.low == np.array([100 - high] * n_envs, dtype=np.float32)).all()
    assert (vec_env.observation_space.high == np.array([100 + high] * n_envs, dtype=np.float32)).all()

    assert isinstance(vec_env.single_observation_space, Box)
    assert vec_env.single_observation_space.shape == (3,)
    assert (vec_env.single_observation_space.low == 100 - high).all()
    assert (vec_env.single_observation_space.high == 100 + high).all()


def test_warning_on_mismatched_single_observation_space(n_envs: int = 2):
    """test_transform_observation.py, on Pendulum."""
    vec_env = native("Pendulum-v1", n_envs)
    high = np.array([[1, 1, 8]] * n_envs, dtype=np.float32)
    with pytest.warns(Warning, match=r"the observation space and the batched single observation space don't match"):
        wrappers.vector.TransformObservation(vec_env, func=lambda x: x + 100,
                                             observation_space=Box(low=100 - high, high=100 + high))


@pytest.mark.parametrize("num_envs", (1, 3))
@pytest.mark.parametrize("env_id, wrapper_name, kwargs", [
    ("CartPole-v1", "FlattenObservation", {}),
    ("CartPole-v1", "RescaleObservation",
     {"min_obs": np.array([0, -np.inf, 0, -np.inf]), "max_obs": np.array([1, np.inf, 1, np.inf])}),
    ("MountainCarContinuous-v0", "ClipAction", {}),
    ("MountainCarContinuous-v0", "RescaleAction", {"min_action": 1, "max_action": 2}),
    ("CartPole-v1", "ClipReward", {"min_reward": -0.25, "max_reward": 0.75}),
])
def test_vector_wrapper_equivalence(num_envs, env_id, wrapper_name, kwargs, num_steps: int = 50):
    """test_vector_wrappers.py: the vector wrapper over fastcem's env against the single-env
    wrapper in SyncVectorEnv (NEXT_STEP; the native envs' cases)."""
    vector_wrapper = getattr(wrappers.vector, wrapper_name)
    wrapper_vector_env = vector_wrapper(native(env_id, num_envs), **kwargs)
    env_wrapper = getattr(wrappers, wrapper_name)
    vector_wrapper_env = gym.make_vec(id=env_id, num_envs=num_envs, vectorization_mode="sync",
                                      wrappers=(lambda env: env_wrapper(env, **kwargs),))

    assert wrapper_vector_env.action_space == vector_wrapper_env.action_space
    assert wrapper_vector_env.observation_space == vector_wrapper_env.observation_space
    assert wrapper_vector_env.single_action_space == vector_wrapper_env.single_action_space
    assert wrapper_vector_env.single_observation_space == vector_wrapper_env.single_observation_space
    assert wrapper_vector_env.num_envs == vector_wrapper_env.num_envs

    assert identical(wrapper_vector_env.reset(seed=123), vector_wrapper_env.reset(seed=123))
    for _ in range(num_steps):
        action = wrapper_vector_env.action_space.sample()
        assert identical(wrapper_vector_env.step(action), vector_wrapper_env.step(action))

    wrapper_vector_env.close()
    vector_wrapper_env.close()


def test_array_conversion_wrappers():
    """test_array_conversion.py tests ArrayConversion, JaxToNumpy, JaxToTorch and NumpyToTorch on a
    custom vector env; over fastcem's, they need array_api_compat (and jax or torch)."""
    pytest.importorskip("array_api_compat", reason="gymnasium's ArrayConversion wrappers need array_api_compat")
    torch = pytest.importorskip("torch", reason="NumpyToTorch needs torch")
    envs = wrappers.vector.NumpyToTorch(native("CartPole-v1", 3))
    obs, _ = envs.reset(seed=0)
    assert isinstance(obs, torch.Tensor)
    obs, reward, terminated, truncated, _ = envs.step(torch.tensor([0, 1, 0]))
    assert isinstance(reward, torch.Tensor) and terminated.dtype == torch.bool


# --- each of gymnasium's vector wrappers over fastcem against it over SyncVectorEnv ------------------

def _strip_times(out: Any) -> Any:
    """RecordEpisodeStatistics' episode times (wall clock) out of an info, wherever it is."""
    if isinstance(out, dict):
        return {k: _strip_times(v) for k, v in out.items() if k not in ("t", "_t")}
    if isinstance(out, (list, tuple)):
        return type(out)(_strip_times(v) for v in out)
    return out


def _identity_space(space):
    return space


WRAPPERS = {
    "VectorizeTransformObservation": ("Pendulum-v1", lambda e: wrappers.vector.VectorizeTransformObservation(
        e, wrapper=gym.wrappers.TransformObservation, func=lambda o: o * 2 - 1, observation_space=None)),
    "VectorizeTransformAction": ("Pendulum-v1", lambda e: wrappers.vector.VectorizeTransformAction(
        e, wrapper=gym.wrappers.TransformAction, func=lambda a: a * 0.5, action_space=None)),
    "VectorizeTransformReward": ("CartPole-v1", lambda e: wrappers.vector.VectorizeTransformReward(
        e, wrapper=gym.wrappers.TransformReward, func=lambda r: 2 * r - 1)),
    "DictInfoToList": ("CartPole-v1", lambda e: wrappers.vector.DictInfoToList(
        wrappers.vector.RecordEpisodeStatistics(e))),
    "TransformObservation": ("CartPole-v1", lambda e: wrappers.vector.TransformObservation(
        e, func=lambda o: o[:, ::-1] * 3, single_observation_space=e.single_observation_space)),
    "FlattenObservation": ("Pendulum-v1", wrappers.vector.FlattenObservation),
    "ReshapeObservation": ("CartPole-v1", lambda e: wrappers.vector.ReshapeObservation(e, shape=(2, 2))),
    "RescaleObservation": ("Pendulum-v1", lambda e: wrappers.vector.RescaleObservation(
        e, min_obs=np.float32(-1), max_obs=np.float32(1))),
    "DtypeObservation": ("CartPole-v1", lambda e: wrappers.vector.DtypeObservation(e, dtype=np.float64)),
    "NormalizeObservation": ("Pendulum-v1", wrappers.vector.NormalizeObservation),
    "TransformAction": ("CartPole-v1", lambda e: wrappers.vector.TransformAction(
        e, func=lambda a: 1 - a, single_action_space=e.single_action_space)),
    "ClipAction": ("Pendulum-v1", wrappers.vector.ClipAction),
    "RescaleAction": ("MountainCarContinuous-v0", lambda e: wrappers.vector.RescaleAction(
        e, min_action=np.float32(-3), max_action=np.float32(5))),
    "TransformReward": ("Pendulum-v1", lambda e: wrappers.vector.TransformReward(e, func=lambda r: r / 16 + 1)),
    "ClipReward": ("Pendulum-v1", lambda e: wrappers.vector.ClipReward(e, min_reward=-4.0, max_reward=-0.5)),
    "NormalizeReward": ("CartPole-v1", lambda e: wrappers.vector.NormalizeReward(e, gamma=0.9)),
    "RecordEpisodeStatistics": ("MountainCar-v0", wrappers.vector.RecordEpisodeStatistics),
}
# Stateful wrappers: their statistics are compared too.
STATE = {"NormalizeObservation": lambda w: (w.obs_rms.mean, w.obs_rms.var, w.obs_rms.count),
         "NormalizeReward": lambda w: (w.return_rms.mean, w.return_rms.var, w.return_rms.count, w.accumulated_reward),
         "RecordEpisodeStatistics": lambda w: (list(w.episode_returns), list(w.episode_lengths), w.episode_count)}


@pytest.mark.parametrize("name", sorted(WRAPPERS))
def test_vector_wrapper_over_fastcem_is_over_sync_vector_env(name, num_envs=3, num_steps=60):
    env_id, wrap = WRAPPERS[name]
    mine = wrap(native(env_id, num_envs, max_episode_steps=17))
    theirs = wrap(sync(env_id, num_envs, max_episode_steps=17))
    for attr in ("observation_space", "action_space", "single_observation_space", "single_action_space"):
        assert getattr(mine, attr) == getattr(theirs, attr), attr
    assert identical(mine.reset(seed=5), theirs.reset(seed=5))
    mine.action_space.seed(5)
    ended = 0
    for t in range(num_steps):
        action = mine.action_space.sample()
        got, want = mine.step(copy.deepcopy(action)), theirs.step(copy.deepcopy(action))
        assert identical(_strip_times(got), _strip_times(want)), t
        ended += int(np.sum(got[2] | got[3]))
        if name in STATE:
            assert identical(STATE[name](mine), STATE[name](theirs)), t
    assert ended >= num_envs * 3  # across autoresets
    assert identical(_strip_times(mine.reset()), _strip_times(theirs.reset()))
    mine.close()
    theirs.close()


@pytest.mark.parametrize("env_id", ["CartPole-v1", "Pendulum-v1"])
def test_record_video_over_fastcem_is_over_sync_vector_env(env_id, tmp_path):
    """RecordVideo's frames (the sub-envs side by side) are SyncVectorEnv's, across an autoreset."""
    recorders = []
    for kind, make in (("fastcem", native), ("sync", sync)):
        envs = make(env_id, 2, render_mode="rgb_array", max_episode_steps=4)
        recorders.append(wrappers.vector.RecordVideo(envs, str(tmp_path / kind), step_trigger=lambda x: x == 0,
                                                     video_length=1000, video_aspect_ratio=(1, 1)))
    for envs in recorders:
        envs.reset(seed=3)
    actions = np.random.default_rng(3)
    for t in range(7):
        action = recorders[0].action_space.sample() if env_id != "Pendulum-v1" else actions.uniform(-2, 2, (2, 1))
        for envs in recorders:
            envs.step(action)
    mine, theirs = (envs.recorded_frames for envs in recorders)
    assert len(mine) == len(theirs) >= 7  # a frame a step while recording
    assert all(a.tobytes() == b.tobytes() for a, b in zip(mine, theirs))
    for envs in recorders:
        envs.close()
    assert _mp4s(tmp_path / "fastcem") == _mp4s(tmp_path / "sync") == {"rl-video-step-0.mp4"}
