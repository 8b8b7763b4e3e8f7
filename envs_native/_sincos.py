"""The C library's ``sin`` and ``cos``, bit for bit, as vector code, where that can be proved.

The exact kernels must return what gymnasium gets from ``math.sin``/``math.cos`` (and numpy
from ``np.sin``/``np.cos`` on float64 scalars): glibc's ``sin``/``cos``.  A call per lane
keeps a lockstep loop from vectorizing, and costs as much as the rest of a step.  glibc's
results are not correctly rounded, so a correctly rounded polynomial is not enough; but they
are correctly rounded *except near a rounding midpoint*, by an amount this module bounds
from glibc's algorithm.  :func:`exact_sincos` computes ``sin x`` and ``cos x`` to about 2**-66
relative in double-double arithmetic (a table of ``sin``/``cos`` at multiples of 1/128 and
short Taylor polynomials) and returns their rounding together with a flag: where
the flag is True, the exact value lies farther from a midpoint than glibc's error, so glibc
returns that rounding too; where it is False (a few percent of arguments), the caller calls
the C library.

glibc's ``sin``/``cos`` (``sysdeps/ieee754/dbl-64/s_sin.c``, the IBM Accurate Mathematical
Library as simplified in glibc 2.28) end in one rounding, ``H + C`` with ``H`` a table value
(or the reduced argument) and ``C`` a small correction computed in a few double operations:

* ``do_sin`` with ``|a| < 0.126``: ``a + t`` with ``t`` a Taylor polynomial of about
  ``-a**3 / 6``, computed with at most five roundings, so ``|error| <= 1.5 u |a|**3``
  (``u = 2**-53``, a margin of 1.75 on the rounding count);
* the table paths (``do_sin`` above 0.126 and ``do_cos``, after rounding the argument to a
  multiple ``xi`` of 1/128 with remainder ``r``): ``sn + cor`` or ``cs + cor`` with ``sn``,
  ``cs`` the table's ``sin xi``, ``cos xi`` and ``cor`` about ``cs * r`` or ``-sn * r``.
  The roundings of ``r`` (when there is a tail), of the sine polynomial, of the product and
  of ``cor`` give ``|error| <= 3 u cs |r| + u r**2`` (``do_sin``) and ``4 u sn |r| + u
  r**2`` (``do_cos``) plus terms below ``2**-69``; bounded here by ``4 u cs |r| + u r**2 +
  2**-64`` and ``5 u sn |r| + 2 u r**2 + 2**-64``.

Which path glibc takes depends on ``|x|`` (below 0.855469, up to 2.426265, beyond: its own
reduction by pi/2) and is reproduced to pick the bound.  glibc 2.28 and later on x86-64 pick
an FMA build of the same code at run time; fused operations only remove roundings, so the
bound holds for both builds.  ``tests/test_exact_sincos.py`` compares with the C library
over millions of arguments, the ones nearest midpoints included.  Arguments beyond
``2**19 pi / 2``, non-finite ones, and ones whose reduced argument is within ``2**-15`` of
a multiple of pi/2 (where the reduction used here loses bits) are always flagged.
"""

from __future__ import annotations

import decimal

import numpy as np

from ._jit import inline
from ._libm import fma

_INV_PIO2 = 6.36619772367581382433e-01
# pi/2 in three parts of 33 bits (fdlibm's): n * part is exact for |n| < 2**20.
_PIO2_1 = 1.57079632673412561417e00
_PIO2_2 = 6.07710050630396597660e-11
_PIO2_3 = 2.02226624871116645580e-21
_TO_INT = 6755399441055744.0  # 1.5 * 2**52: adding and subtracting it rounds to an integer
_LIMIT = 2.0**19 * 1.5707963267948966
_MIN_REDUCED = 2.0**-15
#: :func:`exact_sincos_small` flags every ``|x|`` from here on.
SMALL_LIMIT = 0.78

_U = 2.0**-53
# The bound on this module's own error, relative: the analysis gives about 2**-66, and 2**-68
# is the largest seen against 200-bit mpmath on 90,000 arguments.
_OWN = 2.0**-64
# glibc's path boundaries (s_sin.c compares the high word of |x|).
_SIN_TINY = 2.0**-26  # sin(x) = x below
_COS_TINY = 2.0**-27  # cos(x) = 1 below
_SMALL = 0.85546875  # 0x3feb6000 00000000
_MID = float.fromhex("0x1.368fd00000000p+1")  # 0x400368fd 00000000, about 2.426265
_TAYLOR = 0.126
_HP0 = 1.5707963267948966  # glibc's hp0: pi/2 rounded

# Taylor coefficients for |r| <= 1/256: sin r = r + r**3 (S1 + r**2 (S2 + r**2 S3)) and
# 1 - cos r = r**2 (C1 + r**2 (C2 + r**2 C3)), each truncated below 2**-80.
_S1 = -1.0 / 6.0
_S2 = 1.0 / 120.0
_S3 = -1.0 / 5040.0
_C1 = 0.5
_C2 = -1.0 / 24.0
_C3 = 1.0 / 720.0

_STEPS = 128  # the table holds sin and cos of j / 128, glibc's grid


def _table(steps: int, count: int) -> np.ndarray:
    """Rows ``(sin hi, sin lo, cos hi, cos lo)`` of ``j / steps``, ``j = 0 .. count - 1``, as
    double-doubles to about 2**-106, from 40-digit Taylor series in :mod:`decimal`."""
    ctx = decimal.Context(prec=45)
    rows = np.zeros((count, 4))
    for j in range(count):
        x = ctx.divide(decimal.Decimal(j), decimal.Decimal(steps))
        sin = cos = decimal.Decimal(0)
        term = decimal.Decimal(1)  # x**k / k!
        for k in range(60):
            if k % 4 == 0:
                cos = ctx.add(cos, term)
            elif k % 4 == 1:
                sin = ctx.add(sin, term)
            elif k % 4 == 2:
                cos = ctx.subtract(cos, term)
            else:
                sin = ctx.subtract(sin, term)
            term = ctx.divide(ctx.multiply(term, x), decimal.Decimal(k + 1))
        for col, value in ((0, sin), (2, cos)):
            hi = float(value)  # correctly rounded
            rows[j, col] = hi
            rows[j, col + 1] = float(ctx.subtract(value, decimal.Decimal(hi)))
    return rows


_TABLE = _table(_STEPS, 102)  # j / 128 up to 0.789, past pi/4 + 1/256


@inline
def _two_sum(a: float, b: float) -> tuple[float, float]:
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


@inline
def _fast_two_sum(a: float, b: float) -> tuple[float, float]:
    """``a + b`` as a double-double, for ``|a| >= |b|`` (or ``a == 0``)."""
    s = a + b
    return s, b - (s - a)


@inline
def _glibc_errors(a: float) -> tuple[float, float]:
    """Bounds on glibc's error beyond its final rounding for the reduced argument ``|a|``:
    ``(do_sin, do_cos)`` (see the module's docstring).  ``xi`` is glibc's table point, and
    ``xi`` and ``1 - 0.4 xi**2`` bound its ``sin xi`` and ``cos xi`` from above.  Where glibc
    leaves its Taylor path at 0.126, the table bound (remainder near 0.001) exceeds the
    Taylor one, so it covers an argument that falls on either side."""
    xi = ((a * 128.0 + _TO_INT) - _TO_INT) * (1.0 / 128.0)
    r = abs(a - xi)
    rr = r * r
    taylor = (1.5 * _U) * (a * a * a) + 2.0**-66 * a
    table_sin = (4.0 * _U) * ((1.0 - 0.4 * xi * xi) * r) + _U * rr + 2.0**-64
    table_cos = (5.0 * _U) * (xi * r) + (2.0 * _U) * rr + 2.0**-64
    return (taylor if a < _TAYLOR - 1e-4 else table_sin), table_cos


@inline
def _certified(hi: float, lo: float, err: float) -> bool:
    """Whether every value within ``err`` of ``hi + lo`` rounds to ``hi`` (``hi`` being the
    rounding of ``hi + lo``).  Rounding is monotonic, so the two ends decide; ``err`` is
    widened by a part in 2**20 so that the ends' own rounding and ties cannot matter."""
    e = err * (1.0 + 2.0**-20) + _OWN * abs(hi)
    return (hi + (lo + e) == hi) & (hi + (lo - e) == hi)


@inline
def _kernel(ah: float, al: float) -> tuple[float, float, float, float]:
    """``(cos hi, cos lo, sin hi, sin lo)`` of the double-double ``a = ah + al``, ``|a| <=
    pi/4 + 2**-8``, within about 2**-66 relative."""
    # Table point j / 128 nearest |a|, and the remainder r = |a| - j / 128 (exact) plus the
    # tail rl.
    sign = -1.0 if ah < 0.0 else 1.0
    aa = abs(ah)
    j = (aa * _STEPS + _TO_INT) - _TO_INT
    rh = aa - j * (1.0 / _STEPS)
    rl = sign * al
    jj = max(min(np.int64(j), _TABLE.shape[0] - 1), 0)  # clamped: NaN, inf and huge |x| too
    sn = _TABLE[jj, 0]
    ssn = _TABLE[jj, 1]
    cs = _TABLE[jj, 2]
    ccs = _TABLE[jj, 3]
    # sin r = rh + rl + s3 and cos r = 1 - c2, with s3 and c2 small.
    rr = rh * rh
    s3 = rh * rr * (_S1 + rr * (_S2 + rr * _S3))
    c2 = rr * (_C1 + rr * (_C2 + rr * _C3)) + rh * rl
    # sin |a| = (sn + ssn) cos r + (cs + ccs) sin r and cos |a| = (cs + ccs) cos r -
    # (sn + ssn) sin r: the leading product exact, the rest below 2**-7 of the result.
    p = cs * rh
    sin_h, t = _two_sum(sn, p)
    sin_l = t + (fma(cs, rh, -p) + (((ssn + cs * rl) + ccs * rh) + (cs * s3 - sn * c2)))
    sin_h, sin_l = _fast_two_sum(sin_h, sin_l)
    q = sn * rh
    cos_h, t = _two_sum(cs, -q)
    cos_l = t + (fma(-sn, rh, q) + (((ccs - sn * rl) - ssn * rh) - (sn * s3 + cs * c2)))
    cos_h, cos_l = _fast_two_sum(cos_h, cos_l)
    return cos_h, cos_l, sign * sin_h, sign * sin_l


@inline
def sincos_dd(x: float) -> tuple[float, float, float, float, int, float]:
    """``(cos hi, cos lo, sin hi, sin lo, n, |a|)``: ``cos x`` and ``sin x`` as
    double-doubles (within about 2**-66 relative for ``|x| < 2**19 pi / 2``, unless the
    reduced argument ``a = x - n pi / 2`` is below 2**-15 with ``n != 0``)."""
    # a = x - n pi/2 as a double-double (exact for n == 0).
    fn = (x * _INV_PIO2 + _TO_INT) - _TO_INT
    r1 = x - fn * _PIO2_1  # exact (Sterbenz) for |n| < 2**20
    ah, al = _two_sum(r1, -(fn * _PIO2_2))
    al = al - fn * _PIO2_3
    ah, al = _fast_two_sum(ah, al)
    cos_h, cos_l, sin_h, sin_l = _kernel(ah, al)
    # Back to x by the quadrant, with one-level selects (they vectorize).
    quadrant = np.int64(fn)
    swap = (quadrant & 1) == 1
    s_h = cos_h if swap else sin_h
    s_l = cos_l if swap else sin_l
    c_h = sin_h if swap else cos_h
    c_l = sin_l if swap else cos_l
    neg_s = (quadrant & 2) == 2
    neg_c = ((quadrant + 1) & 2) == 2
    s_h = -s_h if neg_s else s_h
    s_l = -s_l if neg_s else s_l
    c_h = -c_h if neg_c else c_h
    c_l = -c_l if neg_c else c_l
    return c_h, c_l, s_h, s_l, quadrant, abs(ah)


@inline
def _finish(x: float, c_h: float, c_l: float, s_h: float, s_l: float, err_c: float,
            err_s: float) -> tuple[float, float, bool]:
    """``(cos x, sin x, ok)`` from the double-doubles and glibc's error bounds; below 2**-26
    glibc's ``sin x`` is ``x`` and below 2**-27 its ``cos x`` is 1, with no call needed."""
    ax = abs(x)
    ok_s = _certified(s_h, s_l, err_s) | (ax < _SIN_TINY)
    ok_c = _certified(c_h, c_l, err_c) | (ax < _COS_TINY)
    s_h = x if ax < _SIN_TINY else s_h
    c_h = 1.0 if ax < _COS_TINY else c_h
    return c_h, s_h, ok_s & ok_c


@inline
def exact_sincos(x: float) -> tuple[float, float, bool]:
    """``(cos x, sin x, ok)``: where ``ok``, the two values are bit for bit those of the C
    library (glibc); elsewhere the caller must call it.  No branches or calls: a loop of
    these vectorizes."""
    c_h, c_l, s_h, s_l, quadrant, aa = sincos_dd(x)
    ax = abs(x)
    # glibc's path for each, and its reduced argument |a| there.
    small = ax < _SMALL
    mid = (ax >= _SMALL) & (ax < _MID)
    g_a = abs(_HP0 - ax) if mid else aa
    g_a = ax if small else g_a
    err_sin_kernel, err_cos_kernel = _glibc_errors(g_a)
    odd = (quadrant & 1) == 1
    sin_by_sin = small | ((~mid) & (~odd))
    cos_by_sin = (~small) & (mid | odd)
    err_s = (err_sin_kernel if sin_by_sin else err_cos_kernel) + 2.0**-90
    err_c = (err_sin_kernel if cos_by_sin else err_cos_kernel) + 2.0**-90
    c, s, ok = _finish(x, c_h, c_l, s_h, s_l, err_c, err_s)
    in_range = (ax < _LIMIT) & ((quadrant == 0) | (aa >= _MIN_REDUCED))
    return c, s, ok & in_range


@inline
def exact_sincos_small(x: float) -> tuple[float, float, bool]:
    """:func:`exact_sincos` for angles that stay small (a cart-pole's), with ``ok`` False
    beyond ``|x| < SMALL_LIMIT``: no reduction by pi/2, so fewer operations."""
    c_h, c_l, s_h, s_l = _kernel(x, 0.0)
    # glibc: sin by do_sin (Taylor below 0.126), cos by do_cos, both on x itself.
    err_s, err_c = _glibc_errors(abs(x))
    c, s, ok = _finish(x, c_h, c_l, s_h, s_l, err_c, err_s)
    return c, s, ok & (abs(x) < SMALL_LIMIT)
