"""numpy's own float32 ``np.sin`` and ``np.cos``, bit for bit, in numba.

gymnasium's Acrobot builds its reset observation with ``np.cos``/``np.sin`` of float32
scalars.  For float32, numpy does not call the C library's ``cosf``/``sinf`` (nor round the
double ``cos``): on x86-64 CPUs with AVX2 and FMA3 it runs its own SIMD loop, whose results
differ from the C library's (or from the rounded double ``cos``) for about one argument in
six.  This module is that loop, one lane at a time.

It mirrors ``simd_sincos_f32`` in ``numpy/_core/src/umath/loops_trigonometric.dispatch.cpp``
of numpy 2.4.6 (tag ``v2.4.6``, commit b832a09cf2a169c833dd2371e7c07aa00b293242; the file
is unchanged on numpy's main branch since), as numpy's wheel (built with GCC 14.2) runs it
for the ``X86_V3`` (AVX2 + FMA3) dispatch target, where ``NPY_SIMD_FMA3`` holds and
Highway's ``MulAdd`` is one fused multiply-add.  The ``X86_V4`` (AVX-512) build is the same
source, but only the ``X86_V3`` one was checked:

* NaN (any sign or payload) gives numpy's ``NPY_NANF``, the positive quiet NaN 0x7fc00000;
* ``|x| > 117435.992f`` for ``sin`` (``71476.0625f`` for ``cos``), infinities included, goes
  to ``npy_sinf``/``npy_cosf``, which on Linux are the C library's ``sinf``/``cosf``
  (whose NaN for an infinity is glibc's 0xffc00000);
* otherwise ``q = rint(x * 2/pi)`` (``x * 2/pi + 0x1.8p23f`` in one fused multiply-add --
  the compiler contracted the source's separate multiply and add -- then ``- 0x1.8p23f``),
  a Cody-Waite reduction ``r = x + q * (-pi/2)`` in three fused multiply-adds, a degree-8
  even polynomial for the cosine and a degree-9 odd one for the sine of ``r`` (Horner, fused
  multiply-adds), the sine's where the quadrant ``q`` (``q + 1`` for ``cos``) is even, then
  ``0 - result`` (not ``-result``: a zero comes out +0) where bit 1 of it is set.

On a CPU without AVX2/FMA3 (numpy's ``X86_V2`` baseline) numpy calls ``sinf``/``cosf`` for
every argument instead, and this module is not what numpy computes: :func:`matches_numpy`
compares the two in the running process.  ``tests/test_npy_trig32.py`` compares with numpy
on about a million arguments; all 2**32 float32 bit patterns agreed on the machine this was
written on.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

from ._jit import inline, jit
from ._libm import opaque


def _f32(hex_literal: str) -> np.float32:
    """A float32 constant written as a C hex-float literal, checked to be exact."""
    value = float.fromhex(hex_literal)
    single = np.float32(value)
    assert float(single) == value, hex_literal
    return single


# simd_sincos_f32's constants.
_TWO_OVER_PI = _f32("0x1.45f306p-1")
_PIO2_HIGH = _f32("-0x1.921fb0p+00")  # -pi/2 in three parts (codyw_pio2_*f)
_PIO2_MED = _f32("-0x1.5110b4p-22")
_PIO2_LOW = _f32("-0x1.846988p-48")
_RINT_MAGIC = _f32("0x1.800000p+23")  # adding and subtracting it rounds to an integer
_MAX_SIN = np.float32(117435.992)  # the C literal 117435.992f: 117435.9921875
_MAX_COS = np.float32(71476.0625)  # the C literal 71476.0625f, exact
# simd_cosine_poly_f32
_COS8 = _f32("0x1.98e616p-16")
_COS6 = _f32("-0x1.6c06dcp-10")
_COS4 = _f32("0x1.55553cp-05")
_COS2 = _f32("-0x1.000000p-01")
_COS0 = _f32("0x1.000000p+00")
# simd_sine_poly_f32
_SIN9 = _f32("0x1.7d3bbcp-19")
_SIN7 = _f32("-0x1.a06bbap-13")
_SIN5 = _f32("0x1.11119ap-07")
_SIN3 = _f32("-0x1.555556p-03")
_ZERO = np.float32(0.0)
_NANF = np.uint32(0x7FC00000).view(np.float32)  # NPY_NANF

assert float(_MAX_COS) == 71476.0625
assert float(_MAX_SIN) == 117435.9921875


@intrinsic
def fmaf(typingctx: object, x: types.Type, y: types.Type, z: types.Type) -> tuple[types.Signature, object] | None:
    """``x * y + z`` for float32 with a single rounding (``llvm.fma.f32``: one ``vfmadd`` on
    x86-64 with FMA, else the C library's correctly rounded ``fmaf``) -- Highway's
    ``MulAdd``."""
    if not (x == y == z == types.float32):
        return None
    sig = types.float32(types.float32, types.float32, types.float32)

    def codegen(context: object, builder: ir.IRBuilder, signature: object, args: list) -> ir.Value:
        f32 = ir.FloatType()
        fnty = ir.FunctionType(f32, [f32, f32, f32])
        fn = builder.module.declare_intrinsic("llvm.fma", [f32], fnty)
        return builder.call(fn, args)

    return sig, codegen


@jit
def libm_sinf(x: np.float32) -> np.float32:
    """The C library's ``sinf`` (numpy's ``npy_sinf``), always called: the argument is hidden
    from LLVM, which would otherwise fold a constant one with its own arithmetic."""
    return math.sin(opaque(x))  # type: ignore[return-value]  # float32 when compiled


@jit
def libm_cosf(x: np.float32) -> np.float32:
    """The C library's ``cosf`` (numpy's ``npy_cosf``), always called."""
    return math.cos(opaque(x))  # type: ignore[return-value]  # float32 when compiled


@inline
def _simd_sincos(x: np.float32, want_cos: bool) -> np.float32:
    """One lane of ``simd_sincos_f32`` for ``|x| <= 117435.992f`` (``cos``: ``71476.0625f``),
    ``x`` not NaN."""
    # The source says hn::Add(hn::Mul(x, two_over_pi), rint_cvt_magic), but GCC contracts
    # the two into one fused multiply-add in numpy's build (its default -ffp-contract=fast,
    # and Highway's AVX2 Mul/Add are plain vector arithmetic); rounding the product first
    # gives other bits for about 1 argument in 3,500.
    quadrant = fmaf(x, _TWO_OVER_PI, _RINT_MAGIC)
    quadrant = quadrant - _RINT_MAGIC
    # simd_range_reduction_f32
    r = fmaf(quadrant, _PIO2_HIGH, x)
    r = fmaf(quadrant, _PIO2_MED, r)
    r = fmaf(quadrant, _PIO2_LOW, r)
    r2 = r * r
    # simd_cosine_poly_f32
    c = fmaf(_COS8, r2, _COS6)
    c = fmaf(c, r2, _COS4)
    c = fmaf(c, r2, _COS2)
    c = fmaf(c, r2, _COS0)
    # simd_sine_poly_f32
    s = fmaf(_SIN9, r2, _SIN7)
    s = fmaf(s, r2, _SIN5)
    s = fmaf(s, r2, _SIN3)
    s = fmaf(s, r2, _ZERO)
    s = fmaf(s, r, r)
    # |quadrant| < 2**17: exact in int32 (hn::NearestInt).
    k = np.int32(quadrant) + np.int32(1 if want_cos else 0)
    result = s if (k & 1) == 0 else c
    return (_ZERO - result) if (k & 2) == 2 else result


@jit
def npy_sinf(x: np.float32) -> np.float32:
    """``np.sin`` of a float32, as numpy 2.4's AVX2/FMA3 loop computes it.  Called from
    Python, numba hands the float32 back as a Python float (the same value: wrap it in
    ``np.float32`` to get numpy's type)."""
    x = np.float32(x)
    if math.isnan(x):
        return _NANF
    if abs(x) <= _MAX_SIN:
        return _simd_sincos(x, False)
    return libm_sinf(x)


@jit
def npy_cosf(x: np.float32) -> np.float32:
    """``np.cos`` of a float32, as numpy 2.4's AVX2/FMA3 loop computes it (a Python float
    when called from Python, as :func:`npy_sinf`)."""
    x = np.float32(x)
    if math.isnan(x):
        return _NANF
    if abs(x) <= _MAX_COS:
        return _simd_sincos(x, True)
    return libm_cosf(x)


@jit
def _mismatches(x: np.ndarray, sin_ref: np.ndarray, cos_ref: np.ndarray) -> int:
    """How many of ``x`` get other bits from :func:`npy_sinf`/:func:`npy_cosf` than the
    references (numpy's, passed as uint32 bit patterns)."""
    bad = 0
    one = np.empty(1, dtype=np.float32)
    pattern = one.view(np.uint32)
    for i in range(x.shape[0]):
        one[0] = npy_sinf(x[i])
        same = pattern[0] == sin_ref[i]
        one[0] = npy_cosf(x[i])
        same &= pattern[0] == cos_ref[i]
        bad += not same
    return bad


def sample() -> np.ndarray:
    """A fixed set of float32 arguments that exercises every path of numpy's loop: seeded
    random ones over several magnitudes and bit patterns, and the edge cases (signed zeros,
    subnormals, both thresholds and their neighbours, multiples of pi/2, the largest finite
    value, infinities and NaNs)."""
    rng = np.random.default_rng(20260521)
    parts = [
        rng.uniform(-scale, scale, 1024).astype(np.float32) for scale in (1.0, 8.0, 1e3, 1.2e5, 1e9)
    ]
    parts.append(rng.integers(0, 2**32, 1024, dtype=np.uint64).astype(np.uint32).view(np.float32))
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, -np.nan, float(np.finfo(np.float32).max),
             float(np.finfo(np.float32).smallest_subnormal), float(np.finfo(np.float32).tiny)]
    edges += [k * math.pi / 2 for k in range(-64, 65)]
    edge = np.array(edges, dtype=np.float32)
    thresholds = np.array([_MAX_SIN, _MAX_COS], dtype=np.float32)
    steps = np.arange(-4, 5, dtype=np.int32)
    near = (thresholds.view(np.int32)[:, None] + steps[None, :]).ravel().view(np.float32)
    x = np.concatenate([*parts, edge, near])
    return np.concatenate([x, -x])


@functools.cache
def matches_numpy() -> bool:
    """Whether :func:`npy_sinf`/:func:`npy_cosf` give numpy's bits in this process, on the
    fixed :func:`sample` (about 13,000 arguments; cached).  False where numpy does not run
    the AVX2/FMA3 (or AVX-512) loop mirrored here, e.g. on a CPU without FMA3, where numpy
    calls ``sinf``/``cosf``."""
    x = sample()
    with np.errstate(invalid="ignore"):
        sin_ref = np.sin(x).view(np.uint32)
        cos_ref = np.cos(x).view(np.uint32)
    return bool(_mismatches(x, sin_ref, cos_ref) == 0)
