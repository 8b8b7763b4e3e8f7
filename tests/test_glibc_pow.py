"""glibc's ``pow(x, 2.0)`` ported to vector code (``envs_native._glibc_pow``) against numpy.

numpy squares a float64 scalar (``np.float64(x) ** 2``) with the C library's ``pow``.  Where
``glibc_square`` says ``ok`` its value must be numpy's bit for bit: over millions of
arguments of every magnitude, and over tens of thousands whose squares lie next to rounding
midpoints, where glibc's ``pow`` is not the correctly rounded ``x * x`` (it differs from it
for about four in ten of them) and every fused multiply-add of glibc's build shows.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from numba import njit

from envs_native._glibc_pow import (
    check_arguments,
    glibc_square,
    glibc_square_py,
    matches_libm_pow,
    near_midpoint_mantissas,
)
from envs_native._libm import libm_pow2


@njit(cache=True)
def _vector(x):  # type: ignore[no-untyped-def]
    value = np.empty_like(x)
    ok = np.empty(x.shape, dtype=np.bool_)
    for i in range(x.shape[0]):
        value[i], ok[i] = glibc_square(x[i])
    return value, ok


def _numpy_squares(x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        return np.array([v ** 2 for v in x], dtype=np.float64)  # v is a numpy float64 scalar


def _assert_matches_where_ok(x: np.ndarray) -> np.ndarray:
    """Compare with numpy where ok; return ok."""
    value, ok = _vector(x)
    ref = _numpy_squares(x)
    bad = ok & (value.view(np.uint64) != ref.view(np.uint64))
    assert not bad.any(), [(float(v).hex(), float(a).hex(), float(b).hex())
                           for v, a, b in zip(x[bad][:5], value[bad][:5], ref[bad][:5], strict=True)]
    return ok


def _handled(x: np.ndarray) -> np.ndarray:
    """Where glibc_square promises an answer: every normal x whose square is normal and
    finite, and zero."""
    ax = np.abs(x)
    return ((ax >= 2.0**-511) & (ax < 2.0**512)) | (x == 0.0)


def _log_uniform(rng: np.random.Generator, lo: float, hi: float, n: int) -> np.ndarray:
    x = np.exp2(rng.uniform(lo, hi, n))
    return np.where(rng.random(n) < 0.5, -x, x)


def _near_midpoints(rng: np.random.Generator, n: int, max_d: int, lo_exp: int = -560,
                    hi_exp: int = 460) -> np.ndarray:
    """``n`` doubles whose squares lie within ``max_d * 2**-52`` ULP of a rounding midpoint."""
    d = rng.integers(-max_d // 8, max_d // 8, n) * 8 + 1
    m = near_midpoint_mantissas(d, rng.random(n) < 0.5).astype(np.float64)
    x = m * np.exp2(rng.integers(lo_exp, hi_exp, n).astype(np.float64))
    return np.where(rng.random(n) < 0.5, -x, x)


def _midpoint_distance(x: float) -> Fraction:
    """Distance of the exact ``x * x`` from the nearest rounding midpoint, in ULPs of the
    rounded square."""
    exact = Fraction(x) ** 2
    hi = x * x
    below = hi if Fraction(hi) <= exact else np.nextafter(hi, 0.0)
    above = np.nextafter(below, np.inf)
    mid = (Fraction(below) + Fraction(above)) / 2
    return abs(exact - mid) / (Fraction(above) - Fraction(below))


def test_matches_the_c_library():
    assert matches_libm_pow()
    x = check_arguments()
    ok = _assert_matches_where_ok(x)
    assert np.array_equal(ok, _handled(x))
    assert np.array([libm_pow2(v) for v in x]).tobytes() == _numpy_squares(x).tobytes()


@pytest.mark.parametrize("kind", ["unit", "hundred", "log-uniform", "bits"])
def test_random_arguments(rng, kind):
    n = 500_000
    if kind == "unit":
        x = rng.random(n)
    elif kind == "hundred":
        x = rng.uniform(0.0, 100.0, n)
    elif kind == "log-uniform":
        x = _log_uniform(rng, -500.0, 500.0, n)
    else:
        x = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, n, dtype=np.int64,
                         endpoint=True).view(np.float64)
    ok = _assert_matches_where_ok(x)
    assert np.array_equal(ok, _handled(x))
    if kind != "bits":
        assert ok.mean() >= 0.999


def test_negative_arguments(rng):
    x = np.concatenate([rng.uniform(0.0, 100.0, 200_000), _log_uniform(rng, -511.0, 511.0, 200_000)])
    x = np.abs(x)
    v_pos, ok_pos = _vector(x)
    ok_neg = _assert_matches_where_ok(-x)
    v_neg, _ = _vector(-x)
    assert np.array_equal(ok_pos, ok_neg)
    assert v_pos.tobytes() == v_neg.tobytes()


def test_next_to_rounding_midpoints(rng):
    """Squares within 1e-3 ULP of a midpoint (and much closer: down to 2**-52 ULP), at every
    exponent: where glibc's pow and x * x part ways."""
    x = np.concatenate([
        _near_midpoints(rng, 20_000, 2**42),   # within 1e-3 ULP
        _near_midpoints(rng, 20_000, 2**24),   # within 4e-9 ULP
        _near_midpoints(rng, 20_000, 2**42, -74, -44),  # |x| in [2**-22, 2**9): the envs' range
    ])
    for v in x[::600]:
        assert _midpoint_distance(float(v)) < Fraction(1, 1000)
    ok = _assert_matches_where_ok(x)
    assert ok.all()
    with np.errstate(all="ignore"):
        products = x * x
    assert np.count_nonzero(products != _numpy_squares(x)) > 10_000


def test_not_just_the_product(rng):
    x = rng.uniform(-10.0, 10.0, 200_000)
    value, ok = _vector(x)
    assert ok.all()
    assert np.count_nonzero(value != x * x) > 50  # ~1 in 1000


EDGES = [
    0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 0.5, 3.0,
    5e-324, -5e-324, 2.0**-1074 * 12345, 2.0**-1023, 2.0**-1022, -2.0**-1022,
    np.nextafter(2.0**-1022, 1.0), 2.0**-600, 2.0**-538, 2.0**-537, 2.0**-512, 2.0**-511,
    -2.0**-511, np.nextafter(2.0**-511, 0.0), np.nextafter(2.0**-511, 1.0), 2.0**-369, 2.0**-368,
    2.0**368, 2.0**369, 2.0**370, 2.0**511, -2.0**511, np.nextafter(2.0**512, 0.0), 2.0**512,
    -2.0**512, 2.0**700, 1.7976931348623157e308, -1.7976931348623157e308,
    np.inf, -np.inf, np.nan, -np.nan,
    np.nextafter(1.0, 2.0), np.nextafter(1.0, 0.0), np.sqrt(2.0), np.sqrt(0.5),
]


@pytest.mark.parametrize("x", EDGES, ids=[float(v).hex() for v in EDGES])
def test_edge_cases(x):
    value, ok = glibc_square_py(x)
    with np.errstate(all="ignore"):
        ref = np.float64(x) ** 2
    assert not ok or np.float64(value).view(np.uint64) == ref.view(np.uint64)
    ax = abs(x)
    if ax != ax or ax == np.inf or 0.0 < ax < 2.0**-1022:
        assert not ok  # not ported: the caller calls the C library
    if x == 0.0 or 2.0**-511 <= ax < 2.0**512:
        assert ok


def test_vectorized_loop_agrees_with_the_scalar_wrapper(rng):
    x = np.concatenate([_log_uniform(rng, -520.0, 520.0, 2000), np.array(EDGES)])
    value, ok = _vector(x)
    for v, a, o in zip(x, value, ok, strict=True):
        b, p = glibc_square_py(v)
        assert p == o
        assert not o or np.float64(a).tobytes() == np.float64(b).tobytes()
