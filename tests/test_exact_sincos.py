"""The vector sin/cos of the exact kernels (``envs_native._sincos``) against the C library.

Where ``exact_sincos`` says ``ok``, its values must be the C library's bit for bit; the
test samples the angles the envs reach, glibc's path boundaries, multiples of pi/2, and
the arguments nearest rounding midpoints, where glibc's result is not the correctly rounded
one and only the error bound keeps the flag honest.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from envs_native._glibc_trig import glibc_cos, glibc_sin, matches_libm
from envs_native._sincos import SMALL_LIMIT, exact_sincos, exact_sincos_small, sincos_dd


@njit(cache=True)
def _vector(x, small):
    c = np.empty_like(x)
    s = np.empty_like(x)
    ok = np.empty(x.shape, dtype=np.bool_)
    for i in range(x.shape[0]):
        if small:
            c[i], s[i], ok[i] = exact_sincos_small(x[i])
        else:
            c[i], s[i], ok[i] = exact_sincos(x[i])
    return c, s, ok


@njit(cache=True)
def _libm(x):
    c = np.empty_like(x)
    s = np.empty_like(x)
    for i in range(x.shape[0]):
        c[i] = math.cos(x[i])
        s[i] = math.sin(x[i])
    return c, s


@njit(cache=True)
def _residuals(x):
    # |lo| / ulp(hi) of the double-double sin and cos: near 0.5 means near a midpoint.
    out = np.empty((x.shape[0], 2))
    for i in range(x.shape[0]):
        c_h, c_l, s_h, s_l, _, _ = sincos_dd(x[i])
        out[i, 0] = abs(c_l) / np.spacing(abs(c_h))
        out[i, 1] = abs(s_l) / np.spacing(abs(s_h))
    return out


def _check(x, small=False):
    c, s, ok = _vector(x, small)
    lc, ls = _libm(x)
    assert c[ok].tobytes() == lc[ok].tobytes()
    assert s[ok].tobytes() == ls[ok].tobytes()
    return ok


def _boundaries():
    # glibc's path boundaries in s_sin.c, 2**-26 and 2**-27, and pi/2 multiples.
    edges = [2.0**-27, 2.0**-26, 0.126, 0.85546875, float.fromhex("0x1.368fd00000000p+1"), 0.78, np.pi / 4]
    edges += [k * np.pi / 2 for k in range(1, 80)]
    out = []
    for e in edges:
        v = np.float64(e)
        for _ in range(40):
            out += [v, -v]
            v = np.nextafter(v, np.inf)
        v = np.float64(e)
        for _ in range(40):
            v = np.nextafter(v, -np.inf)
            out += [v, -v]
    return np.array(out)


@pytest.mark.parametrize("low, high", [(-0.25, 0.25), (-4.0, 4.0), (-120.0, 120.0), (-1e5, 1e5), (-1e-7, 1e-7)])
def test_certified_values_are_the_c_librarys(low, high, rng):
    ok = _check(rng.uniform(low, high, 400_000))
    # The bound leaves a few percent to the C library, not more.
    assert ok.mean() > 0.93


def test_certified_values_at_path_boundaries_and_multiples_of_half_pi():
    x = _boundaries()
    _check(x)
    _check(x[np.abs(x) < 1.0], small=True)


def test_certified_values_next_to_rounding_midpoints(rng):
    """Where glibc's error decides: values within 1/16 ULP of a midpoint (about one in
    eight), the ones certified among them included; glibc is seen to differ from the
    correctly rounded value there."""
    x = rng.uniform(-60.0, 60.0, 2_000_000)
    res = _residuals(x)
    near = x[(res > 0.5 - 1 / 16).any(axis=1)]
    assert len(near) > 100_000
    ok = _check(near)
    assert 0.3 < ok.mean() < 0.95
    c, s, _ = _vector(near, False)
    lc, ls = _libm(near)
    assert np.count_nonzero((c != lc) | (s != ls)) > 100, "expected glibc to round otherwise near midpoints"


def test_small_variant_agrees_and_flags_large_angles(rng):
    x = rng.uniform(-1.0, 1.0, 200_000)
    ok = _check(x, small=True)
    assert not ok[np.abs(x) >= SMALL_LIMIT].any()
    assert ok[np.abs(x) < 0.25].mean() > 0.93


def test_non_finite_and_huge_arguments_are_flagged():
    x = np.array([np.nan, np.inf, -np.inf, 1e300, -1e300, 2.0**60, 1e7])
    for small in (False, True):
        assert not _vector(x, small)[2].any()
    # Zero and the tiny arguments keep their sign and need no call.
    c, s, ok = _vector(np.array([0.0, -0.0, 5e-324, -1e-300]), False)
    assert ok.all()
    assert s.tobytes() == np.array([0.0, -0.0, 5e-324, -1e-300]).tobytes()
    assert (c == 1.0).all()


# --- envs_native._glibc_trig: glibc's own operations -------------------------------------

needs_glibc = pytest.mark.skipif(not matches_libm(), reason="the C library is not glibc's FMA build of s_sin.c")


@njit(cache=True)
def _glibc(x):
    c = np.empty_like(x)
    s = np.empty_like(x)
    ok = np.empty(x.shape, dtype=np.bool_)
    for i in range(x.shape[0]):
        s[i], ok_s = glibc_sin(x[i])
        c[i], ok_c = glibc_cos(x[i])
        ok[i] = ok_s & ok_c
    return c, s, ok


def _check_glibc(x):
    c, s, ok = _glibc(x)
    lc, ls = _libm(x)
    assert c[ok].tobytes() == lc[ok].tobytes()
    assert s[ok].tobytes() == ls[ok].tobytes()
    return ok


@needs_glibc
@pytest.mark.parametrize("low, high", [(0.0, 1e-7), (0.0, 0.126), (0.126, 0.86), (0.85, 2.43), (2.4, 120.0),
                                       (120.0, 105414336.0)])
def test_glibc_port_is_the_c_library(low, high, rng):
    x = rng.uniform(low, high, 500_000) * rng.choice([-1.0, 1.0], 500_000)
    assert _check_glibc(x).all()


@needs_glibc
def test_glibc_port_at_path_boundaries_and_next_to_midpoints(rng):
    """Every path switch of s_sin.c and the arguments whose sin or cos lies within 1/16 ULP
    of a rounding midpoint, where a single rounding more or less would show."""
    assert _check_glibc(_boundaries()).all()
    x = rng.uniform(-60.0, 60.0, 2_000_000)
    near = x[(_residuals(x) > 0.5 - 1 / 16).any(axis=1)]
    assert len(near) > 100_000
    assert _check_glibc(near).all()


def test_glibc_port_flags_what_it_does_not_cover():
    x = np.array([np.nan, np.inf, -np.inf, 1e300, 105414350.0, -2.0**60])
    assert not _glibc(x)[2].any()
    c, s, ok = _glibc(np.array([0.0, -0.0, 5e-324, -1e-300]))
    assert ok.all()
    assert s.tobytes() == np.array([0.0, -0.0, 5e-324, -1e-300]).tobytes()
    assert (c == 1.0).all()


