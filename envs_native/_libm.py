"""Squares exactly as numpy computes them for float64 scalars, and fast.

gymnasium's Pendulum squares numpy float64 scalars with ``x ** 2``, which numpy evaluates
with the C library's ``pow(x, 2.0)``.  glibc's ``pow`` is not correctly rounded: on x86-64
it differs from the correctly rounded ``x * x`` for about one square in a thousand.  So
``x * x`` is wrong, and so is numba's ``math.pow(x, 2.0)``: LLVM rewrites ``pow`` with a
constant exponent 2 into ``x * x``.

:func:`pow2` calls ``pow`` with the exponent hidden from LLVM behind an empty
inline-assembly statement, but only where it can matter.  glibc's ``pow``
(``sysdeps/ieee754/dbl-64/e_pow.c``) documents its error as ``ulperr_exp + |y log x| *
relerr_log * 2**53`` with ``ulperr_exp`` <= 0.511 ULP and ``relerr_log`` <= 1.5 * 2**-68.  For
``y = 2`` and squares between 2**-64 and 2**65 (``|log x| < 23``) that is below 0.5131 ULP,
so ``pow`` returns the correctly rounded ``x * x`` whenever the exact square lies more than
0.0131 ULP from a rounding midpoint.  The exact residual ``x*x - fl(x*x)`` comes from one
fused multiply-add; ``pow`` is called when the square is within 1/64 ULP of a midpoint
(1.19 times the margin needed, about 3% of squares; on this machine class ``pow`` was seen to
differ from ``x * x`` only within 0.007 ULP of a midpoint), for inexact squares just below a
power of two (whose lower neighbour is closer), and outside that range of magnitudes,
non-finite values included -- except zero, whose square ``pow`` returns exactly (+0).
``tests/test_envs_equivalence.py`` compares against numpy's own ``** 2`` over many values,
thousands of them next to midpoints.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import inline, jit


@intrinsic
def opaque(typingctx: object, x: types.Type) -> tuple[types.Signature, object] | None:
    """Return ``x`` (float64 or float32) unchanged through an empty asm statement, so LLVM
    cannot fold it."""
    if x not in (types.float64, types.float32):
        return None
    sig = x(x)
    width = 64 if x == types.float64 else 32

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        ity = ir.IntType(width)
        bits = builder.bitcast(args[0], ity)
        # "=r,0": the output is a general register tied to the input; the asm text is empty.
        # Portable to every LLVM target, unlike an "x" (SSE) constraint.
        out = builder.asm(ir.FunctionType(ity, [ity]), "", "=r,0", [bits], side_effect=False)
        return builder.bitcast(out, ir.DoubleType() if width == 64 else ir.FloatType())

    return sig, codegen


@intrinsic
def fma(typingctx: object, x: types.Type, y: types.Type, z: types.Type) -> tuple[types.Signature, object] | None:
    """``x * y + z`` with a single rounding (``llvm.fma``, one instruction on x86-64 with FMA)."""
    if not (x == y == z == types.float64):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        f64 = ir.DoubleType()
        fnty = ir.FunctionType(f64, [f64, f64, f64])
        fn = builder.module.declare_intrinsic("llvm.fma", [f64], fnty)
        return builder.call(fn, args)

    return sig, codegen


# A float type and the integer type of its bits, both ways.
_INT_OF = {types.float64: types.int64, types.float32: types.int32}
_FLOAT_OF = {i: f for f, i in _INT_OF.items()}


@intrinsic
def bits(typingctx: object, x: types.Type) -> tuple[types.Signature, object] | None:
    """The IEEE-754 bit pattern of a float64 as an int64 (of a float32 as an int32)."""
    if x not in _INT_OF:
        return None
    out = _INT_OF[x]

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        return builder.bitcast(args[0], ir.IntType(out.bitwidth))

    return out(x), codegen


@intrinsic
def from_bits(typingctx: object, b: types.Type) -> tuple[types.Signature, object] | None:
    """The float64 with the given IEEE-754 bit pattern, an int64 (the float32 of an int32)."""
    if b not in _FLOAT_OF:
        return None
    out = _FLOAT_OF[b]

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        return builder.bitcast(args[0], ir.DoubleType() if out == types.float64 else ir.FloatType())

    return out(b), codegen


@jit
def libm_pow2(x: float) -> float:
    """The C library's ``pow(x, 2.0)``, always called."""
    return math.pow(x, opaque(2.0))


@jit
def libm_powf2(x: np.float32) -> np.float32:
    """The C library's ``powf(x, 2.0f)``: numpy's ``x ** 2`` for a float32 scalar, which is not
    always ``x * x`` either (glibc's ``powf`` is not correctly rounded)."""
    return math.pow(x, opaque(np.float32(2.0)))  # type: ignore[return-value]  # float32 when compiled


_MANTISSA = (1 << 52) - 1
# Biased exponents of the squares handled without pow: 2**-64 <= x*x < 2**65.
_MIN_EXP = 1023 - 64
_MAX_EXP = 1023 + 64
# Residuals at least this many ULPs from zero are within 1/64 ULP of a midpoint.
_NEAR_MIDPOINT = 0.5 - 1 / 64


@inline
def square_fast(x: float) -> tuple[float, bool]:
    """``(x * x, ok)``: ``ok`` says that ``x * x`` is what ``pow(x, 2.0)`` returns.

    No branches and no calls, so that it vectorizes; where ``ok`` is False the caller must
    use :func:`pow2`.
    """
    hi = x * x
    pattern = bits(hi)
    exponent = (pattern >> 52) & 0x7FF
    lo = fma(x, x, -hi)  # exact: x*x == hi + lo
    ulp = from_bits((exponent - 52) << 52)
    in_range = (exponent >= _MIN_EXP) & (exponent <= _MAX_EXP)
    below_power_of_two = ((pattern & _MANTISSA) == 0) & (lo != 0.0)
    return hi, (in_range & ~below_power_of_two & (abs(lo) < _NEAR_MIDPOINT * ulp)) | (x == 0.0)


@jit
def pow2(x: float) -> float:
    """``x ** 2`` exactly as numpy computes it for a float64 scalar (the C library's ``pow``)."""
    hi, ok = square_fast(x)
    return hi if ok else libm_pow2(x)
