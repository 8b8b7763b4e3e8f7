"""The math an env's kernels use, and the modes that fix how it is computed.

An env writes its step and observation once, taking every operation whose bits depend on
how it is computed from here: ``sin(m, x)``, ``cos(m, x)``, ``square(m, x)`` (numpy's
scalar ``x ** 2``, the C library's ``pow``) and ``remainder(m, a, b)`` (numpy's float
``%``).  Each returns ``(value, ok)``.  ``m`` is a *mode*, an instance of one of the classes
below; its type is known when numba compiles, so a kernel holds the code of its own mode
and nothing of the others:

* :class:`Libm` -- what gymnasium computes, one value at a time: the C library's ``sin``,
  ``cos`` and ``pow`` (called where a cheap check cannot prove ``x * x`` is its answer),
  numpy's ``%``.  ``ok`` is always True.  The reference every other exact mode is redone on.
* :class:`GlibcLanes` -- the same bits as vector code, for lanes stepped side by side: glibc's
  own ``sin``/``cos`` operations (:mod:`envs_native._glibc_trig`, where the C library is that
  code: :func:`envs_native._glibc_trig.matches_libm`), ``x * x`` where it is provably
  ``pow``'s answer, the remainder by one fused multiply-add.  No call, no branch; ``ok`` is
  False where the value is not certainly gymnasium's, and the engine redoes that lane's
  step in :class:`Libm`.
* :class:`GlibcPowLanes` -- :class:`GlibcLanes` with every square computed as glibc's FMA
  build of ``pow`` computes it (:mod:`envs_native._glibc_pow`, table gathers included, where
  :func:`envs_native._glibc_pow.matches_libm_pow` shows the C library is that code), so that
  no square is redone: for an env with many squares a step (``EnvSpec.pow_lanes``).
* :class:`CertifiedLanes` -- as :class:`GlibcLanes` where the C library is not glibc's FMA
  build: ``sin``/``cos`` as double-doubles, certified against glibc's error bound
  (:mod:`envs_native._sincos`).
* :class:`GlibcBounded`, :class:`CertifiedBounded` -- the lanes with ``square`` as ``x * x``
  always (``ok`` True): each square within one ULP of ``pow``'s.  For an env whose
  planner hook proves what that does to a return (``EnvSpec.reward_bound``).
* :class:`Fast` -- fastcem's opt-in fast mode: polynomial ``sin``/``cos``
  (:mod:`envs_native._fastmath`, within 2 ULP), ``x * x``, no checks (``ok`` always True).
  Not bit-identical to gymnasium.

A mode whose ``ok`` is always True says so as a constant (:data:`CERTAIN`), and the engine's
redo path compiles away.  Also here: :func:`clip` (``np.clip``'s rule, NaN passing through)
and :func:`weak` (a Python float meeting a float32 under NumPy 2's promotion rules).
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import types
from numba.extending import overload

from ._fastmath import fast_sincos
from ._glibc_pow import glibc_square, matches_libm_pow
from ._glibc_trig import glibc_cos, glibc_sin, matches_libm
from ._jit import forward, inline, jit, overload_options
from ._libm import fma, libm_powf2, pow2, square_fast
from ._npy_trig32 import libm_cosf, libm_sinf, matches_numpy, npy_cosf, npy_sinf
from ._sincos import exact_sincos

__all__ = [
    "CERTAIN", "MODES", "CertifiedBounded", "CertifiedLanes", "Fast", "GlibcBounded", "GlibcLanes", "GlibcPowLanes",
    "Libm",
    "bounded_mode", "clip", "cos", "exact_lanes", "is_float32", "np_cos32", "np_sin32", "remainder", "sin",
    "square", "weak", "wrap",
]


class _Mode(NamedTuple):
    """A mode is an empty named tuple (numba passes it by type, so a kernel compiled for one
    mode holds nothing of another); its class constants name the math it uses.  They live on
    subclasses because a NamedTuple's own class body may only declare fields."""


class Libm(_Mode):
    """The C library, one value at a time: gymnasium's own arithmetic (``ok`` always True)."""

    __slots__ = ()
    TRIG = "libm"
    SQUARE = "pow"
    REMAINDER = "exact"


class GlibcLanes(_Mode):
    """Exact lanes where the C library is glibc's FMA build of ``s_sin.c``."""

    __slots__ = ()
    TRIG = "glibc"
    SQUARE = "checked"
    REMAINDER = "checked"


class GlibcPowLanes(_Mode):
    """:class:`GlibcLanes` with every square computed as glibc's ``pow(x, 2.0)`` computes it
    (:mod:`envs_native._glibc_pow`), where the C library is that code: no square redone."""

    __slots__ = ()
    TRIG = "glibc"
    SQUARE = "glibc"
    REMAINDER = "checked"


class CertifiedLanes(_Mode):
    """Exact lanes elsewhere: ``sin``/``cos`` certified against glibc's error bound."""

    __slots__ = ()
    TRIG = "certified"
    SQUARE = "checked"
    REMAINDER = "checked"


class GlibcBounded(_Mode):
    """:class:`GlibcLanes` with ``x * x`` squares (within one ULP of ``pow``'s)."""

    __slots__ = ()
    TRIG = "glibc"
    SQUARE = "product"
    REMAINDER = "checked"


class CertifiedBounded(_Mode):
    """:class:`CertifiedLanes` with ``x * x`` squares (within one ULP of ``pow``'s)."""

    __slots__ = ()
    TRIG = "certified"
    SQUARE = "product"
    REMAINDER = "checked"


class Fast(_Mode):
    """The opt-in fast mode: polynomials and products, no checks; not bit-identical."""

    __slots__ = ()
    TRIG = "fast"
    SQUARE = "product"
    REMAINDER = "fast"


MODES = (Libm, GlibcLanes, GlibcPowLanes, CertifiedLanes, GlibcBounded, CertifiedBounded, Fast)
#: Modes whose every value is final (``ok`` is the constant True).
CERTAIN = (Libm, Fast)


def exact_lanes(squares: bool = False) -> GlibcLanes | GlibcPowLanes | CertifiedLanes:
    """The exact lane mode for this process's C library (checked once per process); with
    ``squares``, the one that computes squares as glibc's ``pow`` where the C library is that
    code (:func:`envs_native._glibc_pow.matches_libm_pow`)."""
    if not matches_libm():
        return CertifiedLanes()
    return GlibcPowLanes() if squares and matches_libm_pow() else GlibcLanes()


def bounded_mode() -> GlibcBounded | CertifiedBounded:
    """:func:`exact_lanes` with ``x * x`` squares."""
    return GlibcBounded() if matches_libm() else CertifiedBounded()


def _mode(m: types.Type) -> Any:
    cls = getattr(m, "instance_class", None)
    return cls if cls in MODES else None


# Overload bodies are compiled into their callers, which carry the cache; numba compares the
# parameters of a typing function and its implementation, so neither is annotated.
_INLINE = overload_options()


@inline
def _libm_sin(x: float) -> tuple[float, bool]:
    return math.sin(x), True


@inline
def _libm_cos(x: float) -> tuple[float, bool]:
    return math.cos(x), True


@inline
def _certified_sin(x: float) -> tuple[float, bool]:
    _, s, ok = exact_sincos(x)
    return s, ok


@inline
def _certified_cos(x: float) -> tuple[float, bool]:
    c, _, ok = exact_sincos(x)
    return c, ok


@inline
def _fast_sin(x: float) -> tuple[float, bool]:
    return fast_sincos(x)[1], True


@inline
def _fast_cos(x: float) -> tuple[float, bool]:
    return fast_sincos(x)[0], True


_SIN = {"libm": _libm_sin, "glibc": glibc_sin, "certified": _certified_sin, "fast": _fast_sin}
_COS = {"libm": _libm_cos, "glibc": glibc_cos, "certified": _certified_cos, "fast": _fast_cos}


@forward
def sin(m, x):
    """``(sin x, ok)`` in mode ``m``: where ``ok``, the C library's ``sin x``."""
    mode = _mode(m)
    return None if mode is None else (_SIN[mode.TRIG], (1,))


@forward
def cos(m, x):
    """``(cos x, ok)`` in mode ``m``: where ``ok``, the C library's ``cos x``."""
    mode = _mode(m)
    return None if mode is None else (_COS[mode.TRIG], (1,))


@inline
def _product_square(x: Any) -> tuple[Any, bool]:
    return x * x, True


@inline
def _pow_square(x: float) -> tuple[float, bool]:
    return pow2(x), True


@inline
def _powf_square(x: Any) -> tuple[Any, bool]:
    return libm_powf2(x), True


_SQUARES = {"product": _product_square, "pow": _pow_square, "checked": square_fast, "glibc": glibc_square}


@forward
def square(m, x):
    """``(x ** 2, ok)`` as numpy computes it for a scalar: float64 ``pow(x, 2.0)``, float32
    ``powf(x, 2.0f)`` (neither always ``x * x``)."""
    mode = _mode(m)
    if mode is None:
        return None
    if x == types.float32:
        # The C library's powf, called: float32 squares come from a VectorEnv fed float32
        # actions, never from the lanes' hot loop.
        return (_product_square if mode.SQUARE == "product" else _powf_square), (1,)
    return _SQUARES[mode.SQUARE], (1,)


# remainder_fast handles |a| below this many multiples of b: there the quotient is exact in
# a double, and its rounded value is at most one off.
_MAX_QUOTIENT = 2.0**20


@inline
def remainder_fast(a: float, b: float) -> tuple[float, bool]:
    """``(a % b, ok)`` (numpy's float remainder) without a call or a branch, for ``b > 0`` and
    ``|a| < 2**20 b``; ``ok`` is False elsewhere (and for NaN).

    numpy's remainder is ``m = fmod(a, b)``, then ``m + b`` if ``m`` and ``b`` differ in sign,
    or ``+0.0`` if ``m`` is zero.  ``fmod(a, b)`` is exactly representable, so with the right
    integer quotient ``n`` one fused multiply-add ``|a| - n b`` gives it exactly;
    ``floor(|a| / b)`` is that quotient or one off (when the division rounds across an
    integer), which shows as a result outside ``[0, b)`` and is corrected.
    """
    mag = abs(a)
    n = np.floor(mag / b)
    r = fma(-n, b, mag)
    r = fma(-(n - 1.0), b, mag) if r < 0.0 else r
    r = fma(-(n + 1.0), b, mag) if r >= b else r
    fm = -r if a < 0.0 else r  # fmod takes the sign of the dividend
    # Two-way selects, one after the other: LLVM turns a nested conditional (a three-way
    # join) into branches, and a loop with branches does not vectorize.
    value = fm if fm > 0.0 else 0.0
    value = fm + b if fm < 0.0 else value
    return value, (mag < _MAX_QUOTIENT * b) & (b > 0.0)


@jit
def remainder_exact(a: float, b: float) -> float:
    """numpy's ``a % b`` for floats: :func:`remainder_fast` where it applies, else numba's
    ``%`` (the same algorithm as numpy's: ``fmod``, then the correction)."""
    value, ok = remainder_fast(a, b)
    return value if ok else a % b


@inline
def _exact_remainder(a: float, b: float) -> tuple[float, bool]:
    return remainder_exact(a, b), True


@inline
def _fast_remainder(a: float, b: float) -> tuple[float, bool]:
    return remainder_fast(a, b)[0], True


_REMAINDERS = {"exact": _exact_remainder, "checked": remainder_fast, "fast": _fast_remainder}


@forward
def remainder(m, a, b):
    """``(a % b, ok)`` with numpy's float remainder (the sign of the divisor; ``b > 0``)."""
    mode = _mode(m)
    return None if mode is None else (_REMAINDERS[mode.REMAINDER], (1, 2))


@inline
def clip(v: Any, low: Any, high: Any) -> Any:
    """``np.clip``'s rule for one value (``low <= high``): NaN passes through (both
    comparisons are false).  Two-way selects one after the other (see :func:`remainder_fast`)."""
    v = low if v < low else v
    return high if v > high else v


def weak(value: float, like: Any) -> Any:  # pragma: no cover - compiled only
    """The Python float ``value`` as NumPy 2 uses it beside ``like`` (NEP 50's weak scalar):
    a float32 beside a float32, else a float64.  ``weak(0.001, u) * u`` is gymnasium's
    ``0.001 * u`` whatever ``u``'s dtype."""
    raise NotImplementedError


@overload(weak, **_INLINE)
def _ol_weak(value, like):
    if like == types.float32:
        return lambda value, like: np.float32(value)
    return lambda value, like: np.float64(value)


def is_float32(x: Any) -> bool:  # pragma: no cover - compiled only
    """Whether ``x`` is a float32 (a constant when compiled): an env's step follows NumPy 2's
    promotion rules for an action of either dtype."""
    raise NotImplementedError


@overload(is_float32, **_INLINE)
def _ol_is_float32(x):
    yes = x == types.float32
    return lambda x: yes


def np_sin32(m: Any, x: Any) -> tuple[Any, bool]:  # pragma: no cover - compiled only
    """``(np.sin(np.float32(x)), ok)``: numpy's own float32 ``sin`` (its SIMD routine, not the
    C library's ``sinf``; :mod:`envs_native._npy_trig32`).  gymnasium meets it where a state
    is float32 (Acrobot's reset observation), once an episode, so the lane modes leave it to
    the scalar redo (``ok`` False there)."""
    raise NotImplementedError


def np_cos32(m: Any, x: Any) -> tuple[Any, bool]:  # pragma: no cover - compiled only
    """``(np.cos(np.float32(x)), ok)``; see :func:`np_sin32`."""
    raise NotImplementedError


def _np_trig32(which: int) -> Any:
    def typer(m, x):
        mode = _mode(m)
        if mode is None:
            return None
        if mode.TRIG == "libm":
            # numpy's SIMD routine where numpy runs it (AVX2 + FMA3 and up); elsewhere numpy
            # calls the C library's sinf/cosf.  Decided once per process, when compiling.
            simd = matches_numpy()
            if which == 1:
                sinf = npy_sinf if simd else libm_sinf
                return lambda m, x: (sinf(np.float32(x)), True)
            cosf = npy_cosf if simd else libm_cosf
            return lambda m, x: (cosf(np.float32(x)), True)
        if mode.TRIG == "fast":
            return lambda m, x: (np.float32(fast_sincos(np.float64(np.float32(x)))[which]), True)
        return lambda m, x: (np.float32(0.0), False)

    return typer


overload(np_sin32, **_INLINE)(_np_trig32(1))
overload(np_cos32, **_INLINE)(_np_trig32(0))


def wrap(m: Any, x: float, low: float, high: float) -> tuple[float, bool]:  # pragma: no cover - compiled only
    """``(value, ok)`` of gymnasium's classic-control ``wrap(x, low, high)``: ``x - (high -
    low)`` while above ``high``, then ``x + (high - low)`` while below ``low``, one rounding a
    turn.  The lane modes take two turns each way as selects (no loop, so lanes vectorize)
    and say ``ok`` False when more were needed; :class:`Libm` loops; :class:`Fast` takes the
    rest in one reduction (not gymnasium's roundings)."""
    raise NotImplementedError


@inline
def _wrap_twice(x: float, low: float, high: float) -> tuple[float, bool]:
    diff = high - low
    x = x - diff if x > high else x
    x = x - diff if x > high else x
    ok = not (x > high)
    x = x + diff if x < low else x
    x = x + diff if x < low else x
    return x, ok & (not (x < low))


@inline
def _wrap_loop(x: float, low: float, high: float) -> float:
    diff = high - low
    while x > high:
        x = x - diff
    while x < low:
        x = x + diff
    return x


@overload(wrap, **_INLINE)
def _ol_wrap(m, x, low, high):
    mode = _mode(m)
    if mode is None:
        return None
    if mode is Libm:
        return lambda m, x, low, high: (_wrap_loop(x, low, high), True)
    if mode is Fast:

        def fast_wrap(m, x, low, high):
            value, ok = _wrap_twice(x, low, high)
            rest = low + remainder_fast(x - low, high - low)[0]
            return (value if ok else rest), True

        return fast_wrap
    return lambda m, x, low, high: _wrap_twice(x, low, high)
