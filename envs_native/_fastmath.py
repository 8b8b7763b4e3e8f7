"""``sin``, ``cos`` and ``log`` without the C library: fastcem's opt-in fast mode, and the
planner's normal deviates.

The C library's ``sin``/``cos`` are what gymnasium gets, so the exact modes compute their
bits (:mod:`envs_native._glibc_trig`, :mod:`envs_native._sincos`, or the C library one
lane at a time).  The fast mode trades the last bit for cheaper vector code: Cody-Waite
reduction by pi/2 in three parts, then fdlibm's minimax polynomials on [-pi/4, pi/4] (Sun
Microsystems' ``k_sin.c``/``k_cos.c``, the kernels behind most C libraries' ``sin``/``cos``),
the quadrant picked with selects.  No branch, no call, no table: LLVM turns a loop of them
into vector instructions.

Accuracy, checked by ``tests/test_envs_equivalence.py`` against the C library: within 2 ULP
for ``|x| < 2**19 * pi / 2`` (1 ULP below 100), except right at the zeros of ``sin`` and
``cos`` (multiples of pi/2), where the error is below 1e-27 absolute; beyond that range the
reduction loses bits.
"""

from __future__ import annotations

import numpy as np

from ._jit import inline
from ._libm import bits, from_bits

_INV_PIO2 = 6.36619772367581382433e-01
# pi/2 split in three parts of 33 bits: n * part is exact for |n| < 2**20.
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21
# Adding and subtracting 1.5 * 2**52 rounds a double to the nearest integer.
_TO_INT = 6755399441055744.0

# fdlibm k_sin.c and k_cos.c.
_S1 = -1.66666666666666324348e-01
_S2 = 8.33333333332248946124e-03
_S3 = -1.98412698298579493134e-04
_S4 = 2.75573137070700676789e-06
_S5 = -2.50507602534068634195e-08
_S6 = 1.58969099521155010221e-10
_C1 = 4.16666666666666019037e-02
_C2 = -1.38888888888741095749e-03
_C3 = 2.48015872894767294178e-05
_C4 = -2.75573143513906633035e-07
_C5 = 2.08757232129817482790e-09
_C6 = -1.13596475577881948265e-11

#: |x| below this keeps fast_sincos within 2 ULP.
FAST_TRIG_LIMIT = 2.0**19 * np.pi / 2


@inline
def sincos_kernel(r: float) -> tuple[float, float]:
    """``(cos r, sin r)`` for ``|r| <= pi/4`` (fdlibm's polynomials), within 1 ULP."""
    z = r * r
    s = r + (z * r) * (_S1 + z * (_S2 + z * (_S3 + z * (_S4 + z * (_S5 + z * _S6)))))
    hz = 0.5 * z
    w = 1.0 - hz
    c = w + (((1.0 - w) - hz) + (z * z) * (_C1 + z * (_C2 + z * (_C3 + z * (_C4 + z * (_C5 + z * _C6))))))
    return c, s


@inline
def quadrant_turn(c: float, s: float, quadrant: np.int64) -> tuple[float, float]:
    """``(cos, sin)`` of ``x + quadrant * pi/2`` from ``(cos x, sin x)``, with one-level
    selects (nested ones become branches, which do not vectorise)."""
    swap = (quadrant & 1) == 1
    sv = c if swap else s
    cv = s if swap else c
    sin_x = -sv if (quadrant & 2) == 2 else sv
    cos_x = -cv if ((quadrant + 1) & 2) == 2 else cv
    return cos_x, sin_x


@inline
def fast_sincos(x: float) -> tuple[float, float]:
    """``(cos x, sin x)`` within 2 ULP for ``|x| < FAST_TRIG_LIMIT``, as vectorisable code."""
    fn = (x * _INV_PIO2 + _TO_INT) - _TO_INT
    r = ((x - fn * _PIO2_1) - fn * _PIO2_2) - fn * _PIO2_3
    c, s = sincos_kernel(r)
    return quadrant_turn(c, s, np.int64(fn))


# fdlibm e_log.c: ln 2 in two parts (the high one with 32 trailing zero bits) and the minimax
# polynomial of (log(1 + f) - f + f**2 / 2) in s = f / (2 + f).
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_LG1 = 6.666666666666735130e-01
_LG2 = 3.999999999940941908e-01
_LG3 = 2.857142874366239149e-01
_LG4 = 2.222219843214978396e-01
_LG5 = 1.818357216161805012e-01
_LG6 = 1.531383769920937332e-01
_LG7 = 1.479819860511658591e-01
_SQRT2_MANTISSA = 0x6A09E667F3BCD  # the mantissa bits of sqrt(2)
_EXP_ONE = 0x3FF0000000000000


@inline
def fast_log(x: float) -> float:
    """``log x`` within 1 ULP for normal positive ``x`` (fdlibm's ``e_log.c`` without its
    special cases: zero, negative, subnormal and non-finite ``x`` give garbage), as
    vectorisable code: ``x = 2**k m`` with ``m`` in ``[sqrt(2)/2, sqrt(2))``, then ``log m``
    from a polynomial in ``s = (m - 1) / (m + 1)``."""
    pattern = bits(x)
    mantissa = pattern & 0xFFFFFFFFFFFFF
    # Mantissas above sqrt(2)'s are taken as m / 2 with the exponent one higher.
    above = np.int64(mantissa > _SQRT2_MANTISSA)
    k = ((pattern >> 52) - 1023) + above
    m = from_bits(mantissa | (_EXP_ONE - (above << 52)))
    f = m - 1.0
    s = f / (2.0 + f)
    z = s * s
    w = z * z
    t1 = w * (_LG2 + w * (_LG4 + w * _LG6))
    t2 = z * (_LG1 + w * (_LG3 + w * (_LG5 + w * _LG7)))
    r = t2 + t1
    hfsq = 0.5 * f * f
    dk = float(k)
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)
