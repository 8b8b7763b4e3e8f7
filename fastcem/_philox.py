"""Counter-based random numbers for compiled parallel code: Philox4x32-10.

Philox (Salmon, Moraes, Dror & Shaw 2011, "Parallel random numbers: as easy as 1, 2, 3",
the generator behind Random123, cuRAND, JAX and TensorFlow) maps a 128-bit counter and a
64-bit key to 128 random bits with ten rounds of multiplications and xors.  Number ``j`` of a
stream is a pure function of ``(key, j)``, so any thread can make any of them: the noise a
planner draws is the same whichever thread draws it, for any thread count, without a
generator state to share or split.  ``tests/test_planning.py`` checks Random123's published
known-answer vectors.

Normal deviates come from pairs of uniforms by Marsaglia's polar method.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from envs_native._jit import jit

_M0 = np.uint64(0xD2511F53)
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_LOW32 = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_2_POW_M31 = 2.0**-31


@jit
def philox4x32_10(
    c0: np.uint64, c1: np.uint64, c2: np.uint64, c3: np.uint64, k0: np.uint64, k1: np.uint64
) -> tuple[np.uint64, np.uint64, np.uint64, np.uint64]:
    """Philox4x32-10 of the counter ``(c0, c1, c2, c3)`` under the key ``(k0, k1)``; every
    word a 32-bit value held in a uint64 (products of two 32-bit words fit in 64 bits)."""
    for r in range(10):
        if r > 0:
            k0 = (k0 + _W0) & _LOW32
            k1 = (k1 + _W1) & _LOW32
        p0 = _M0 * c0
        p1 = _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _LOW32, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW32
    return c0, c1, c2, c3


@jit
def normal_pair(j: np.uint64, stream: np.uint64, k0: np.uint64, k1: np.uint64) -> tuple[float, float]:
    """Normal deviates ``2j`` and ``2j + 1`` (``j < 2**32``) of stream ``stream`` under the key.

    Marsaglia's polar method: a point uniform in the square, accepted inside the unit disc
    (probability pi/4), scaled to a pair of independent normals; no sine or cosine, so about
    twice as fast as Box-Muller.  One Philox block gives two tries (32-bit coordinates); the
    counter's second word numbers the blocks a pair needed, so every pair is still a pure
    function of ``(key, stream, j)``.
    """
    block = np.uint64(0)
    while True:
        w0, w1, w2, w3 = philox4x32_10(j & _LOW32, block, stream & _LOW32, stream >> _32, k0, k1)
        for a, b in ((w0, w1), (w2, w3)):
            x = float(np.int64(a)) * _2_POW_M31 - 1.0  # signed conversion: one instruction on x86
            y = float(np.int64(b)) * _2_POW_M31 - 1.0
            s = x * x + y * y
            if 0.0 < s < 1.0:
                f = math.sqrt(-2.0 * math.log(s) / s)
                return x * f, y * f
        block += np.uint64(1)


@jit(parallel=True)
def fill_normals(out: np.ndarray, stream: np.uint64, k0: np.uint64, k1: np.uint64) -> None:
    """Fill the 1-D ``out`` with normal deviates ``0, 1, ...`` of ``stream``."""
    n = out.shape[0]
    for j in prange((n + 1) // 2):
        z0, z1 = normal_pair(np.uint64(j), stream, k0, k1)
        out[2 * j] = z0
        if 2 * j + 1 < n:
            out[2 * j + 1] = z1
