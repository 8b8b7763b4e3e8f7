"""The native kernels against gymnasium's own envs, step by step and reset by reset, with ``==``.

States are injected into ``gymnasium.make(id).unwrapped`` and both sides step from the same
float64 state with the same action (the gymnax test pattern); hypothesis draws states near
and past the termination limits, speeds past Pendulum's clip, torques outside ±2 and angles
far outside [-pi, pi].
"""

from __future__ import annotations

import math
from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest
from hypothesis import given
from numba import njit
from hypothesis import strategies as st

import envs_native
from envs_native import cartpole, pendulum
from envs_native._libm import libm_pow2, pow2
from envs_native.modes import remainder_fast

THETA_LIMIT = 12 * 2 * math.pi / 360


def near(*points: float, spread: float) -> st.SearchStrategy[float]:
    """Floats within ``spread`` of any of ``points``, the points themselves included."""
    return st.one_of(
        st.sampled_from(points),
        *[st.floats(p - spread, p + spread, allow_nan=False) for p in points],
    )


cart_x = st.one_of(near(-2.4, 2.4, spread=0.05), st.floats(-5, 5, allow_nan=False))
cart_theta = st.one_of(near(-THETA_LIMIT, THETA_LIMIT, spread=0.01), st.floats(-4, 4, allow_nan=False))
velocity = st.floats(-50, 50, allow_nan=False)


@pytest.fixture(scope="module")
def gym_cartpole():
    env = gym.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    return env


@pytest.fixture(scope="module")
def gym_pendulum():
    env = gym.make("Pendulum-v1").unwrapped
    env.reset(seed=0)
    return env


def assert_same_bits(native: np.ndarray, reference: np.ndarray) -> None:
    assert native.dtype == reference.dtype
    assert native.tobytes() == reference.tobytes(), (native, reference)


@pytest.mark.parametrize("integrator", ["euler", "semi-implicit euler"])
@pytest.mark.parametrize("sutton_barto", [False, True])
@given(x=cart_x, x_dot=velocity, theta=cart_theta, theta_dot=velocity, action=st.sampled_from([0, 1]))
def test_cartpole_step_matches_gymnasium(gym_cartpole, integrator, sutton_barto, x, x_dot, theta, theta_dot, action):
    env = gym_cartpole
    env.kinematics_integrator = integrator
    env._sutton_barto_reward = sutton_barto
    state = np.array([x, x_dot, theta, theta_dot])
    env.state = state.copy()
    env.steps_beyond_terminated = None  # a fresh env: the kernel's step has no memory
    obs, reward, terminated, truncated, _ = env.step(action)

    params = cartpole.default_params(sutton_barto_reward=sutton_barto, kinematics_integrator=integrator)
    next_state, native_reward, native_terminated = cartpole.step(state, action, params)

    assert_same_bits(next_state, env.state)
    assert native_reward == reward
    assert native_terminated == terminated
    assert_same_bits(cartpole.observe(next_state), obs)


@given(
    th=st.one_of(
        st.floats(-4, 4, allow_nan=False),
        st.floats(-1e4, 1e4, allow_nan=False),
        near(*(k * math.pi for k in range(-7, 8)), spread=1e-9),
    ),
    thdot=st.one_of(near(-8.0, 8.0, spread=0.5), st.floats(-30, 30, allow_nan=False)),
    torque=st.one_of(near(-2.0, 2.0, spread=0.1), st.floats(-10, 10, allow_nan=False)),
)
def test_pendulum_step_matches_gymnasium(gym_pendulum, th, thdot, torque):
    env = gym_pendulum
    state = np.array([th, thdot])
    env.state = state.copy()
    obs, reward, terminated, truncated, _ = env.step(np.array([torque]))

    next_state, native_reward, native_terminated = pendulum.step(state, torque, pendulum.default_params())

    assert_same_bits(next_state, env.state)
    assert native_reward == reward
    assert native_terminated is terminated is False
    assert_same_bits(pendulum.observe(next_state), obs)


@pytest.mark.parametrize("g", [10.0, 9.81, 3.7])
def test_pendulum_gravity_matches_gymnasium(g, rng):
    env = gym.make("Pendulum-v1", g=g).unwrapped
    env.reset(seed=0)
    params = pendulum.default_params(g=g)
    for _ in range(200):
        state = rng.uniform([-10, -10], [10, 10])
        torque = float(rng.uniform(-3, 3))
        env.state = state.copy()
        _, reward, _, _, _ = env.step(np.array([torque]))
        next_state, native_reward, _ = pendulum.step(state, torque, params)
        assert_same_bits(next_state, env.state)
        assert native_reward == reward


@njit
def _remainder_fast_applies(a):  # noqa: ANN001, ANN202
    return remainder_fast(a, 2 * np.pi)[1]


def test_pendulum_angle_normalize_matches_numpy_far_from_zero(rng):
    # The fmod-free path (a fused multiply-add with a corrected quotient) for |x + pi| below
    # 2**20 turns, numba's float % beyond, against numpy's %.  Values next to multiples of
    # 2 pi are where the rounded quotient is one off.
    turns = rng.integers(-2**21, 2**21, 5_000) * (2 * np.pi) - np.pi
    xs = np.concatenate([
        rng.uniform(-1e8, 1e8, 20_000),
        rng.uniform(-100, 100, 20_000),
        turns, np.nextafter(turns, np.inf), np.nextafter(turns, -np.inf),
        [k * np.pi for k in range(-9, 10)],
        [-np.pi, np.pi, 0.0, -0.0, 3 * np.pi, -3 * np.pi, 1e300, -1e300, 5e-324],
    ])
    for x in xs:
        x = np.float64(x)
        expected = ((x + np.pi) % (2 * np.pi)) - np.pi
        assert np.float64(pendulum.angle_normalize(x)).tobytes() == expected.tobytes(), x
    assert all(_remainder_fast_applies(np.float64(x) + np.pi) for x in xs[20_000:40_000])


def test_pow2_is_numpys_scalar_square(rng):
    # numpy squares a float64 scalar with libm pow, which differs from x * x at times; the
    # fast path must agree with it everywhere, in particular where x * x does not.
    xs = np.concatenate([
        rng.uniform(-10, 10, 100_000),
        rng.normal(0, 1e-3, 20_000),
        np.exp(rng.uniform(-700, 700, 20_000)),
        [0.0, -0.0, 1.0, 2.0, 0.5, 1e-160, 1e160, 1e300, np.inf, -np.inf, 2.0**-600],
    ])
    with np.errstate(over="ignore"):
        ref = np.array([np.float64(x) ** 2 for x in xs])
        products = xs * xs
    fast = np.array([pow2(x) for x in xs])
    assert fast.tobytes() == ref.tobytes()
    assert np.count_nonzero(products != ref) > 0, "expected libm pow to differ from x * x somewhere"
    assert np.array([libm_pow2(x) for x in xs[:5000]]).tobytes() == ref[:5000].tobytes()


@pytest.mark.parametrize("env_id, module", [("CartPole-v1", cartpole), ("Pendulum-v1", pendulum)])
def test_reset_state_matches_gymnasium(env_id, module):
    env = gym.make(env_id)
    for seed in [*range(300), 2**31 - 1, 2**63, 10**30]:
        obs, _ = env.reset(seed=seed)
        state = module.reset_state(seed)
        assert_same_bits(state, env.unwrapped.state)
        assert_same_bits(module.observe(state), obs)


def test_max_episode_steps_are_gymnasiums():
    for env_id in envs_native.ENV_IDS:
        assert envs_native.max_episode_steps(env_id) == gym.spec(env_id).max_episode_steps
    assert [envs_native.max_episode_steps(i) for i in envs_native.ENV_IDS] == [200, 500, 200]


def test_derived_constants_are_computed_not_typed():
    p = cartpole.default_params()
    assert p.total_mass == p.masspole + p.masscart
    assert p.polemass_length == p.masspole * p.length
    env = gym.make("CartPole-v1").unwrapped
    for name in ("gravity", "masscart", "masspole", "total_mass", "length", "polemass_length",
                 "force_mag", "tau", "theta_threshold_radians", "x_threshold"):
        assert getattr(p, name) == getattr(env, name), name


def test_kernels_reject_a_state_of_the_wrong_size():
    with pytest.raises(ValueError, match="4 values"):
        cartpole.step(np.zeros(3), 0, cartpole.default_params())
    with pytest.raises(ValueError, match="2 values"):
        pendulum.observe(np.zeros(1))


def test_default_params_reject_bad_values():
    with pytest.raises(ValueError, match="kinematics_integrator"):
        cartpole.default_params(kinematics_integrator="rk4")
    with pytest.raises(TypeError, match="sutton_barto_reward"):
        cartpole.default_params(sutton_barto_reward="yes")
    with pytest.raises(ValueError, match="finite"):
        pendulum.default_params(g=float("nan"))
    with pytest.raises(TypeError, match="g must be"):
        pendulum.default_params(g="10")
    with pytest.raises(ValueError, match="non-negative"):
        cartpole.reset_state(-1)


def test_pow2_next_to_rounding_midpoints(rng):
    """Where pow can differ from x * x: squares close to halfway between two doubles, on both
    sides of the 1/64-ULP line where pow2 stops trusting x * x.  The distance to the midpoint
    comes from exact rational arithmetic."""
    xs = rng.uniform(-9, 9, 60_000)
    hi = xs * xs
    ulp = np.spacing(hi)
    half = Fraction(1, 2)
    near = np.array([
        x for x, h, u in zip(xs, hi, ulp)
        if half - abs(Fraction(x) ** 2 - Fraction(h)) / Fraction(u) < Fraction(3, 64)
    ])
    assert len(near) > 3000  # ~1/10.7 of the sample: within 3/64 ULP of a midpoint
    near = np.concatenate([near, [0.0, -0.0]])
    ref = np.array([np.float64(x) ** 2 for x in near])
    assert np.array([pow2(x) for x in near]).tobytes() == ref.tobytes()
    assert np.count_nonzero(near * near != ref) > 0, "expected pow to differ from x * x next to midpoints"
