"""numba's port of numpy's float32 ``np.sin``/``np.cos`` (``envs_native._npy_trig32``)
against numpy itself, bit for bit.

Results are compared as uint32 bit patterns, so that -0.0 and NaNs (numpy returns
0x7fc00000 for a NaN argument but the C library's 0xffc00000 for an infinite one) must match
exactly.  About a million random arguments over several magnitudes, and the edge cases:
signed zeros, subnormals, the thresholds where numpy hands over to the C library, arguments
nearest multiples of pi/2, the largest float32, infinities and NaNs.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from numba import njit

from envs_native._npy_trig32 import matches_numpy, npy_cosf, npy_sinf


def _numpy_dispatches_fma_loop() -> bool:
    """Whether numpy picks the loop the port mirrors: its X86_V3 (AVX2 + FMA3) or X86_V4
    build of ``loops_trigonometric``.  Decided from numpy's CPU features, not from
    :func:`matches_numpy`, so that a wrong port fails here instead of being skipped."""
    from numpy._core._multiarray_umath import __cpu_features__

    return bool(__cpu_features__.get("X86_V3") or __cpu_features__.get("X86_V4"))


pytestmark = pytest.mark.skipif(not _numpy_dispatches_fma_loop(),
                                reason="numpy does not run its AVX2/FMA3 float32 sin/cos loop here")

F32 = np.finfo(np.float32)
MAX_SIN = np.float32(117435.992)
MAX_COS = np.float32(71476.0625)


@njit(cache=True)
def _port(x):
    s = np.empty_like(x)
    c = np.empty_like(x)
    for i in range(x.shape[0]):
        s[i] = npy_sinf(x[i])
        c[i] = npy_cosf(x[i])
    return s, c


def _check(x: np.ndarray) -> None:
    x = np.ascontiguousarray(x, dtype=np.float32)
    x = np.concatenate([x, -x])
    s, c = _port(x)
    with np.errstate(invalid="ignore"):
        s_ref = np.sin(x)
        c_ref = np.cos(x)
    for name, got, ref in (("sin", s, s_ref), ("cos", c, c_ref)):
        bad = np.nonzero(got.view(np.uint32) != ref.view(np.uint32))[0]
        assert bad.size == 0, (
            f"{name}: {bad.size} of {x.size} differ, first at x={x[bad[0]]!r} "
            f"(0x{x.view(np.uint32)[bad[0]]:08x}): port 0x{got.view(np.uint32)[bad[0]]:08x}, "
            f"numpy 0x{ref.view(np.uint32)[bad[0]]:08x}"
        )


def _neighbours(x: np.ndarray, ulps: int) -> np.ndarray:
    """``x`` and the float32 values up to ``ulps`` steps above and below (positive finite x)."""
    pattern = np.asarray(x, dtype=np.float32).view(np.int32).astype(np.int64)
    steps = np.arange(-ulps, ulps + 1)
    out = (pattern[:, None] + steps[None, :]).ravel()
    out = out[(out >= 0) & (out <= F32.max.view(np.int32))]
    return out.astype(np.int32).view(np.float32)


@pytest.mark.parametrize("scale", [1.0, 100.0, 1e5, 1e30])
def test_random_uniform(scale: float) -> None:
    rng = np.random.default_rng(int(math.log10(scale)) + 1)
    _check(rng.uniform(0.0, scale, 100_000).astype(np.float32))


def test_random_log_uniform() -> None:
    """Every binade from the subnormals to 2**128, equally."""
    rng = np.random.default_rng(7)
    _check(np.exp2(rng.uniform(-149.0, 128.0, 100_000)).astype(np.float32))


def test_random_bit_patterns() -> None:
    """Any 32 bits: half of them NaNs, infinities or beyond the thresholds."""
    rng = np.random.default_rng(8)
    _check(rng.integers(0, 2**32, 200_000, dtype=np.uint64).astype(np.uint32).view(np.float32))


def test_reduction_range() -> None:
    """Densely over numpy's own range (the C library takes over beyond it)."""
    rng = np.random.default_rng(9)
    _check(rng.uniform(0.0, float(MAX_SIN) * 1.01, 200_000).astype(np.float32))


def test_zeros_and_subnormals() -> None:
    rng = np.random.default_rng(10)
    subnormal = rng.integers(1, 2**23, 10_000).astype(np.uint32).view(np.float32)
    special = np.array([0.0, F32.smallest_subnormal, F32.tiny, np.nextafter(F32.tiny, np.float32(0.0))],
                       dtype=np.float32)
    small = np.exp2(np.arange(-149, 0, dtype=np.float64)).astype(np.float32)
    _check(np.concatenate([special, subnormal, _neighbours(small, 2)[1:]]))


def test_zero_signs() -> None:
    """sin(-0) = -0 and cos(-0) = 1, and the sign of every zero result."""
    for x in (np.float32(0.0), np.float32(-0.0)):
        assert np.float32(npy_sinf(x)).view(np.uint32) == np.sin(x).view(np.uint32)
        assert np.float32(npy_cosf(x)).view(np.uint32) == np.cos(x).view(np.uint32)


def test_thresholds() -> None:
    """Either side of 117435.992f (sin) and 71476.0625f (cos), where numpy's loop calls the
    C library's sinf/cosf instead."""
    _check(_neighbours(np.array([MAX_SIN, MAX_COS]), 64))


def test_multiples_of_half_pi() -> None:
    """The float32 values nearest k pi/2, where the reduction cancels most, and their
    neighbours: for every k up to past the thresholds, and beyond at random."""
    k = np.arange(0, 80_000, dtype=np.float64)
    rng = np.random.default_rng(11)
    k = np.concatenate([k, np.floor(np.exp2(rng.uniform(17.0, 127.0, 5_000)))])
    _check(_neighbours((k * (np.pi / 2)).astype(np.float32), 3))
    # also the nearest multiples of pi/4 (the quadrant's rounding boundary)
    _check(_neighbours((np.arange(1, 300_000, 2) * (np.pi / 4)).astype(np.float32), 1))


def test_large_and_non_finite() -> None:
    finite = _neighbours(np.array([F32.max, 2.0**24, 2.0**64, 1e30], dtype=np.float32), 8)
    nans = np.array([0x7FC00000, 0x7F800001, 0x7FBFFFFF, 0x7FFFFFFF, 0x7FC12345], dtype=np.uint32).view(np.float32)
    _check(np.concatenate([finite, np.array([np.inf], dtype=np.float32), nans]))


def test_nan_and_inf_bits() -> None:
    """numpy's loop returns its own NaN (0x7fc00000) for any NaN; an infinity goes to the
    C library, whose NaN is glibc's default (negative) one."""
    x = np.array([np.nan, -np.nan, np.inf, -np.inf], dtype=np.float32)
    x[1] = np.uint32(0xFFC00000).view(np.float32)
    s, c = _port(x)
    with np.errstate(invalid="ignore"):
        assert np.array_equal(s.view(np.uint32), np.sin(x).view(np.uint32))
        assert np.array_equal(c.view(np.uint32), np.cos(x).view(np.uint32))
    assert s.view(np.uint32)[0] == c.view(np.uint32)[1] == 0x7FC00000


def test_scalar_calls_match_numpy_scalars() -> None:
    """Called from Python on numpy float32 scalars, as gymnasium's Acrobot does (numpy's
    scalar call runs the same loop on one element)."""
    rng = np.random.default_rng(12)
    values = list(rng.uniform(-np.pi, np.pi, 2_000).astype(np.float32))
    values += [np.float32(v) for v in (0.0, -0.0, 1e-40, 71476.0625, 71476.07, 117435.992, 117436.0, 3e38, np.inf)]
    with np.errstate(invalid="ignore"):
        for x in values:
            assert np.float32(npy_sinf(x)).view(np.uint32) == np.sin(x).view(np.uint32), x
            assert np.float32(npy_cosf(x)).view(np.uint32) == np.cos(x).view(np.uint32), x


def test_differs_from_double_cos() -> None:
    """The port is needed: numpy's float32 cos is not the rounded double cos."""
    x = np.random.default_rng(13).uniform(-np.pi, np.pi, 10_000).astype(np.float32)
    _, c = _port(x)
    assert np.any(c != np.cos(x.astype(np.float64)).astype(np.float32))


def test_matches_numpy() -> None:
    assert matches_numpy() is True
