"""The engine takes any registered env: a made-up one (``toy_env.py``) runs through
``evaluate``, ``rollout``, the planner and ``gym_policy`` with no change to fastcem, and
gives the returns of the same step written in Python.

It runs in a child process with a numba cache of its own: a kernel compiled for an env's
types is written to that kernel's cache index, and every process that later reads the index
must be able to import the env's module (see ``docs/design.md``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
import toy_env

import envs_native
from envs_native import Box, Discrete, EnvSpec

CHILD = r'''
import numpy as np
import toy_env
import envs_native
import fastcem

def python_return(theta, state, steps):
    policy = fastcem.gym_policy(theta, "Toy-v0")
    s = (float(state[0]), float(state[1]))
    total = 0.0
    for _ in range(steps):
        action = float(policy(np.array(s, dtype=np.float32))[0])
        s, reward, terminated = toy_env.python_step(s, action, toy_env.default_params())
        total += reward
        if terminated:
            break
    return total

assert "Toy-v0" in envs_native.ENV_IDS and fastcem.policy_dim("Toy-v0") == 3
thetas = np.random.default_rng(12345).normal(0.0, 2.0, (40, 3))
returns = fastcem.evaluate(thetas, "Toy-v0", reset_seeds=[3])
start = toy_env.SPEC.reset_state(3)
assert returns.tolist() == [python_return(t, start, 50) for t in thetas]
assert len(set(returns.tolist())) > 10  # not a degenerate env
traj = fastcem.rollout(thetas[0], "Toy-v0", 3)
assert traj.episode_return == returns[0]
one = fastcem.evaluate(thetas, "Toy-v0", seed=1, episodes=3, num_threads=1)
assert one.tobytes() == fastcem.evaluate(thetas, "Toy-v0", seed=1, episodes=3, num_threads=2).tobytes()
planner = fastcem.CEMPlanner("Toy-v0", plan_horizon=10, num_candidates=64, top_k=8, seed=0)
assert planner.plan(start).shape == (1,)
result = fastcem.train("Toy-v0", epochs=2, batch_size=64, seed=0)
assert result.best_theta.shape == (3,)
venv = fastcem.make_vec("Toy-v0", 3)
obs, _ = venv.reset(seed=3)
assert obs.tobytes() == np.array([toy_env.SPEC.reset_state(s) for s in (3, 4, 5)], dtype=np.float32).tobytes()
state = (float(toy_env.SPEC.reset_state(3)[0]), float(toy_env.SPEC.reset_state(3)[1]))
obs, rewards, *_ = venv.step(np.full((3, 1), 0.25))
assert rewards[0] == toy_env.python_step(state, 0.25, toy_env.default_params())[1]
print("ok")
'''


def test_a_registered_env_runs_through_the_engine(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr
    # The kernels' cache index now names toy_env's types.  A process that cannot import
    # toy_env still loads (or compiles) its own kernels from that cache.
    env["PYTHONPATH"] = os.environ.get("PYTHONPATH", "")
    other = "import numpy as np, fastcem; print(fastcem.evaluate(np.zeros((2, 10)), 'CartPole-v1', seed=0))"
    res = subprocess.run([sys.executable, "-c", other], env=env, capture_output=True, text=True, timeout=600,
                         cwd=tmp_path)
    assert res.returncode == 0 and "toy_env" not in res.stderr, res.stderr


class _Params2(NamedTuple):
    dt: float
    limit: float


def test_bad_specs_are_refused():
    kwargs = {"ids": {"Bad-v0": 10}, "params": toy_env.Params, "default_params": toy_env.default_params,
                  "dynamics": toy_env.dynamics, "observation": toy_env.observation, "state_dim": 2, "obs_dim": 2,
                  "action": Box(-1.0, 1.0), "sample_states": toy_env.sample_states, "mirrors": ""}
    with pytest.raises(ValueError, match="lanes"):
        EnvSpec(**{**kwargs, "lanes": 65})
    with pytest.raises(ValueError, match="already belongs"):
        envs_native.register(EnvSpec(**kwargs))  # toy_env's Params are taken
    with pytest.raises(ValueError, match="already registered"):
        envs_native.register(EnvSpec(**{**kwargs, "ids": {"CartPole-v1": 500}}))
    with pytest.raises(ValueError, match="TimeLimits"):
        envs_native.register(EnvSpec(**{**kwargs, "ids": {"Bad-v0": 0}, "params": _Params2}))
    with pytest.raises(TypeError, match="env_kernel"):
        envs_native.register(EnvSpec(**{**kwargs, "params": _Params2, "dynamics": toy_env.python_step}))
    with pytest.raises(TypeError, match=r"Discrete or envs_native\.Box"):
        envs_native.register(EnvSpec(**{**kwargs, "params": _Params2, "action": "continuous"}))
    assert "Bad-v0" not in envs_native.ENV_IDS
    with pytest.raises(ValueError, match="n >= 1"):
        Discrete(0)
    with pytest.raises(ValueError, match="low < high"):
        Box(1.0, -1.0)


BAD_KERNELS = r"""
import numpy as np, pytest
from typing import NamedTuple
import envs_native, toy_env
from envs_native import Box, EnvSpec, env_kernel

class P(NamedTuple):
    dt: float
    limit: float

@env_kernel
def three_values(state, action, p, m):
    return state, 0.0, False

@env_kernel
def wrong_size(state, action, p, m):
    return (state[0],), 0.0, False, True

@env_kernel
def wrong_obs(state, p, m):
    return (np.float32(state[0]),), True

@env_kernel
def does_not_type(state, action, p, m):
    return state.nope, 0.0, False, True

base = dict(ids={"Bad-v0": 10}, params=P, default_params=lambda: P(0.1, 1.5), dynamics=toy_env.dynamics,
            observation=toy_env.observation, state_dim=2, obs_dim=2, action=Box(-1.0, 1.0),
            sample_states=toy_env.sample_states, mirrors="")
for changes, error, match in [
    ({"dynamics": three_values}, ValueError, "must return .next_state, reward, terminated, ok."),
    ({"dynamics": wrong_size}, ValueError, "tuple of 2 floats"),
    ({"observation": wrong_obs}, ValueError, "tuple of 2 values"),
    ({"dynamics": does_not_type}, TypeError, "must compile"),
    ({"default_params": lambda: (0.1, 1.5)}, TypeError, "must return a P"),
]:
    with pytest.raises(error, match=match):
        envs_native.register(EnvSpec(**{**base, **changes}))
    assert "Bad-v0" not in envs_native.ENV_IDS
envs_native.register(EnvSpec(**base))  # the same spec, right: accepted
assert "Bad-v0" in envs_native.ENV_IDS
print("ok")
"""


def test_bad_kernels_are_refused_at_registration(tmp_path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).parent), os.environ.get("PYTHONPATH", "")])}
    res = subprocess.run([sys.executable, "-c", BAD_KERNELS], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0 and res.stdout.strip() == "ok", res.stderr


def test_interleaving_follows_the_env_spec() -> None:
    """Kernels of an env whose spec says ``interleave=False`` (Acrobot's long step) compile
    without forced interleaving; the others with it (where the CPU has AVX-512)."""
    import numpy as np
    from numba import typeof

    from envs_native import acrobot, cartpole
    from envs_native.spec import _interleave_allowed

    lanes = typeof(np.zeros((4, 16)))
    assert not acrobot.SPEC.interleave and cartpole.SPEC.interleave
    assert _interleave_allowed((lanes, typeof(acrobot.default_params()))) is False
    assert _interleave_allowed((lanes, typeof(cartpole.default_params()))) is True
    assert _interleave_allowed((lanes,)) is True
