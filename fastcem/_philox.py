"""Counter-based random numbers for compiled parallel code: Philox4x32-10.

Philox (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3",
the generator behind Random123, cuRAND, JAX and TensorFlow) maps a 128-bit counter and a
64-bit key to 128 random bits with ten rounds of multiplications and xors.  Number ``j`` of a
stream is a pure function of ``(key, j)``, so any thread can make any of them: the noise a
planner draws is the same whichever thread draws it, for any thread count, without a
generator state to share or split.  ``tests/test_planning.py`` checks Random123's published
known-answer vectors.

Normal deviates come from pairs of uniforms by Box and Muller's transform, with polynomial
``log``/``sin``/``cos``, so that a loop of them is vector code.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from envs_native._fastmath import fast_log, quadrant_turn, sincos_kernel
from envs_native._jit import inline, jit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_LOW32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_2, _3, _4, _5, _6, _7, _8, _9 = (np.uint64(i) for i in range(2, 10))
_2_POW_M32 = 2.0**-32
_LOW30 = np.uint64(0x3FFFFFFF)
_30 = np.uint64(30)
_2_POW_29 = 2.0**29
_PIO2_2_POW_M30 = 0.5 * math.pi * 2.0**-30


@inline
def _round(
    c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    p0 = _M0 * c0
    p1 = _M1 * c2
    return (p1 >> _32) ^ c1 ^ k0, p1 & _LOW32, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW32


@inline
def philox4x32_10(
    c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Philox4x32-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(k0, k1)``; every
    word a 32-bit value held in a uint64 (products of two 32-bit words fit in 64 bits).

    The ten rounds are written out: a loop over them would stay a loop inside the caller's
    loop over lanes, which LLVM then does not vectorize."""
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, k0, k1)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _W0) & _LOW32, (k1 + _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _2 * _W0) & _LOW32, (k1 + _2 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _3 * _W0) & _LOW32, (k1 + _3 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _4 * _W0) & _LOW32, (k1 + _4 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _5 * _W0) & _LOW32, (k1 + _5 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _6 * _W0) & _LOW32, (k1 + _6 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _7 * _W0) & _LOW32, (k1 + _7 * _W1) & _LOW32)
    c0, c1, c2, c3 = _round(c0, c1, c2, c3, (k0 + _8 * _W0) & _LOW32, (k1 + _8 * _W1) & _LOW32)
    return _round(c0, c1, c2, c3, (k0 + _9 * _W0) & _LOW32, (k1 + _9 * _W1) & _LOW32)


@inline
def _radius(word: np.uint64) -> float:
    """``sqrt(-2 log u)`` for the uniform ``u = (word + 1/2) / 2**32`` in (0, 1)."""
    return math.sqrt(-2.0 * fast_log((float(np.int64(word)) + 0.5) * _2_POW_M32))


@inline
def _angle(word: np.uint64) -> tuple[float, float]:
    """``(cos, sin)`` of a uniform angle: the top two bits of ``word`` pick the quarter turn,
    the other 30 an angle in ``[-pi/4, pi/4)`` (no reduction needed)."""
    r = (float(np.int64(word & _LOW30)) - _2_POW_29) * _PIO2_2_POW_M30
    c, s = sincos_kernel(r)
    return quadrant_turn(c, s, np.int64(word >> _30))


@inline
def normal_quad(j: np.uint64, stream: np.uint64, k0: np.uint64, k1: np.uint64) -> tuple[float, float, float, float]:
    """Normal deviates ``4j .. 4j + 3`` of stream ``stream`` under the key: block ``j`` of
    the stream, its four 32-bit words two uniform pairs, each made a pair of independent
    normals by Box and Muller's transform.  No branch and no call (``log``, ``sin`` and
    ``cos`` are polynomials, within 1 ULP), so a loop over lanes vectorizes.
    The uniforms ``(word + 1/2) / 2**32`` bound the deviates by ``sqrt(66 log 2)``, about 6.76."""
    w0, w1, w2, w3 = philox4x32_10(j & _LOW32, j >> _32, stream & _LOW32, stream >> _32, k0, k1)
    r0 = _radius(w0)
    c0, s0 = _angle(w1)
    r1 = _radius(w2)
    c1, s1 = _angle(w3)
    return r0 * c0, r0 * s0, r1 * c1, r1 * s1


@jit(parallel=True)
def fill_normals(out: np.ndarray, stream: np.uint64, k0: np.uint64, k1: np.uint64) -> None:
    """Fill the 1-D ``out`` with normal deviates ``0, 1, ...`` of ``stream``."""
    n = out.shape[0]
    quads = (n + 3) // 4
    for j in prange(quads):
        z = normal_quad(np.uint64(j), stream, k0, k1)
        for i in range(4):
            if 4 * j + i < n:
                out[4 * j + i] = z[i]
