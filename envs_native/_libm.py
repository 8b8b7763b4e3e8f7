"""Squares exactly as numpy computes them for float64 scalars, and fast.

gymnasium's Pendulum squares numpy float64 scalars with ``x ** 2``, which numpy evaluates
with the C library's ``pow(x, 2.0)``.  glibc's ``pow`` is not correctly rounded: on x86-64
it differs from the correctly rounded ``x * x`` for about one square in a thousand.  So
``x * x`` is wrong, and so is numba's ``math.pow(x, 2.0)``: LLVM rewrites ``pow`` with a
constant exponent 2 into ``x * x``.

:func:`pow2` calls ``pow`` with the exponent hidden from LLVM behind an empty
inline-assembly statement, but only where it can matter.  glibc documents the worst-case
error of ``pow`` as 0.54 ULP (``sysdeps/ieee754/dbl-64/e_pow.c``), so its result is the
correctly rounded ``x * x`` whenever the exact square lies more than 0.04 ULP from a
rounding midpoint.  The exact residual ``x*x - fl(x*x)`` comes from one fused multiply-add;
``pow`` is called when the square is within 1/8 ULP of a midpoint (three times the margin
needed, about a quarter of all squares), and for powers of two (whose lower neighbour is
closer), tiny, huge and non-finite squares.  ``tests/test_envs_equivalence.py`` compares
against numpy's own ``** 2`` over millions of values, midpoint cases included.
"""

from __future__ import annotations

import math

from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import jit


@intrinsic
def _opaque(typingctx: object, x: types.Type) -> tuple[types.Signature, object] | None:
    """Return ``x`` unchanged through an empty asm statement, so LLVM cannot fold it."""
    if x != types.float64:
        return None
    sig = types.float64(types.float64)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        i64 = ir.IntType(64)
        bits = builder.bitcast(args[0], i64)
        # "=r,0": the output is a general register tied to the input; the asm text is empty.
        # Portable to every LLVM target, unlike an "x" (SSE) constraint.
        out = builder.asm(ir.FunctionType(i64, [i64]), "", "=r,0", [bits], side_effect=False)
        return builder.bitcast(out, ir.DoubleType())

    return sig, codegen


@intrinsic
def _fma(typingctx: object, x: types.Type, y: types.Type, z: types.Type) -> tuple[types.Signature, object] | None:
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


@intrinsic
def _bits(typingctx: object, x: types.Type) -> tuple[types.Signature, object] | None:
    """The IEEE-754 bit pattern of a float64 as an int64."""
    if x != types.float64:
        return None

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        return builder.bitcast(args[0], ir.IntType(64))

    return types.int64(types.float64), codegen


@intrinsic
def _from_bits(typingctx: object, b: types.Type) -> tuple[types.Signature, object] | None:
    """The float64 with the given IEEE-754 bit pattern."""
    if b != types.int64:
        return None

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        return builder.bitcast(args[0], ir.DoubleType())

    return types.float64(types.int64), codegen


@jit
def libm_pow2(x: float) -> float:
    """The C library's ``pow(x, 2.0)``, always called."""
    return math.pow(x, _opaque(2.0))


_MANTISSA = (1 << 52) - 1
_MIN_EXP = 64  # squares below 2**-959: the residual could be subnormal, so inexact
_MAX_EXP = 2000  # squares above 2**977, and inf/NaN (2047)


@jit
def pow2(x: float) -> float:
    """``x ** 2`` exactly as numpy computes it for a float64 scalar (the C library's ``pow``)."""
    hi = x * x
    bits = _bits(hi)
    exponent = (bits >> 52) & 0x7FF
    if exponent < _MIN_EXP or exponent > _MAX_EXP or (bits & _MANTISSA) == 0:
        return libm_pow2(x)
    lo = _fma(x, x, -hi)  # exact: x*x == hi + lo
    ulp = _from_bits((exponent - 52) << 52)
    if abs(lo) >= 0.375 * ulp:  # within 1/8 ULP of a midpoint
        return libm_pow2(x)
    return hi
