"""The math the env kernels are built from, against numpy and the C library with ``==``
(numpy's float remainder, numpy's scalar ``** 2``), and the envs' constants and argument
checks.  Each env's steps, observations and resets against gymnasium are in
``test_conformance.py``."""

from __future__ import annotations

from fractions import Fraction

import gymnasium as gym
import numpy as np
import pytest
from numba import njit

from envs_native import cartpole, pendulum
from envs_native._libm import libm_pow2, pow2
from envs_native.modes import remainder_fast


@njit
def _remainder_fast_applies(a):
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
        x for x, h, u in zip(xs, hi, ulp, strict=True)
        if half - abs(Fraction(x) ** 2 - Fraction(h)) / Fraction(u) < Fraction(3, 64)
    ])
    assert len(near) > 3000  # ~1/10.7 of the sample: within 3/64 ULP of a midpoint
    near = np.concatenate([near, [0.0, -0.0]])
    ref = np.array([np.float64(x) ** 2 for x in near])
    assert np.array([pow2(x) for x in near]).tobytes() == ref.tobytes()
    assert np.count_nonzero(near * near != ref) > 0, "expected pow to differ from x * x next to midpoints"
