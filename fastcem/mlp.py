"""Feed-forward network policies: :class:`MLP`, the same bits compiled and in numpy.

``MLP(hidden=(64, 64), activation="tanh")`` maps the float32 observation (taken as float64)
through ``len(hidden)`` hidden layers and an output layer, ``theta`` holding each layer's
``W`` (``in x out``, row-major) then its ``b``, input layer first.  The output layer maps to
actions as the linear policy does (argmax for ``Discrete``, clip to the bounds for ``Box``),
and ``MLP(hidden=())`` *is* the linear policy.

Exactness.  Every unit is ``b_j + (((x_0 W_0j + x_1 W_1j) + x_2 W_2j) + ...)``, summed in
that order with no fused multiply-add, as the linear policy's affine map.  The activation
is a fixed sequence of IEEE operations (:func:`tanh_ops`), so the compiled lanes
(:mod:`fastcem._engine`) and the numpy callable (:func:`fastcem.gym_policy`) compute the same
bits; numpy's and the C library's ``tanh`` are not used, since neither is vector code the
lanes could share.  :func:`tanh_ops` is within :data:`TANH_MAX_ULP` units in the last place of
the C library's ``tanh`` (``math.tanh``) over the finite doubles
(``tests/test_mlp.py`` checks it); ``relu(x)`` is ``x if x > 0 else 0.0``.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import NDArray

from envs_native._jit import inline
from envs_native._libm import bits, from_bits

__all__ = ["ACTIVATIONS", "DTYPES", "MLP", "TANH32_MAX_ULP", "TANH_MAX_ULP", "tanh_numpy", "tanh_numpy32",
           "tanh_ops", "tanh_ops32"]

ACTIVATIONS = ("tanh", "relu")
#: The types a network computes in: float32 (the default, as the JAX and PyTorch evolution
#: strategy libraries run their networks) or float64.
DTYPES = ("float32", "float64")
#: The tested bound of :func:`tanh_ops` against the C library's ``tanh``, in ULP.
TANH_MAX_ULP = 4
#: The bound of :func:`tanh_ops32` against the C library's ``tanh`` rounded to float32, in
#: float32 ULP: checked on every finite float32 once (the largest distance, 2 ULP, first at
#: 0.000116), on a sample in the tests.
TANH32_MAX_ULP = 2

# exp(y) = 2**k * exp(r), r = y - k ln 2 in [-ln2/2, ln2/2]: ln 2 in two parts (fdlibm's),
# the high part with trailing zeros so that k * _LN2_HI is exact for the k that occur.
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
_INV_LN2 = 1.44269504088896338700e+00
# 1/n! for n = 2 .. 13: P(r) = C[0] + C[1] r + ... + C[11] r**11, with exp(r) = 1 + r + r**2 P(r).
_C = tuple(1.0 / math.factorial(n) for n in range(2, 14))
# tanh(x) rounds to 1 for |x| > 19.07; beyond 2|x| = 44 the formula is not evaluated.
_SATURATE = 44.0
_MAGIC = 6755399441055744.0  # 1.5 * 2**52
_MAGIC_BITS = np.int64(0x4338000000000000)  # its bit pattern

# The same in float32 (numpy scalars, so that the compiled code and numpy stay in float32):
# ln 2 in two parts, the high part with 9 trailing zero bits (fdlibm's expf), 1/n! for n = 2
# .. 7 (the Taylor remainder of expm1 at ln 2 / 2 is below 2**-26 relative).
_F32 = np.float32
_LN2_HI32 = _F32(float.fromhex("0x1.62e400p-1"))
_LN2_LO32 = _F32(float.fromhex("0x1.7f7d1cp-20"))
_INV_LN2_32 = _F32(_INV_LN2)
_C32 = tuple(_F32(c) for c in _C[:6])
_ONE32, _TWO32, _ZERO32 = _F32(1.0), _F32(2.0), _F32(0.0)
_SATURATE32 = _F32(_SATURATE)
_MAGIC32 = _F32(12582912.0)  # 1.5 * 2**23
_MAGIC32_BITS = np.int32(0x4B400000)
_ABS32 = np.int32(0x7FFFFFFF)
_SIGN32 = np.int32(-(2**31))


@dataclass(frozen=True)
class MLP:
    """A feed-forward network policy: ``hidden`` layer widths, ``activation`` ``"tanh"`` or
    ``"relu"`` on the hidden layers, a linear output layer mapped to actions as the linear
    policy's outputs are.  ``MLP(hidden=())`` is the linear policy."""

    hidden: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    dtype: str = "float32"

    def __post_init__(self) -> None:
        hidden = self.hidden
        if isinstance(hidden, (str, bytes)) or not isinstance(hidden, Sequence):
            raise TypeError(f"hidden must be a sequence of layer widths (ints), got {type(hidden).__name__}")
        for h in hidden:
            if isinstance(h, (bool, np.bool_)) or not isinstance(h, numbers.Integral) or h < 1:
                raise ValueError(f"hidden must hold positive ints (layer widths), got {list(hidden)!r}")
        object.__setattr__(self, "hidden", tuple(int(h) for h in hidden))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {ACTIVATIONS}, got {self.activation!r}")
        if self.dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {DTYPES}, got {self.dtype!r}")

    @property
    def np_dtype(self) -> type[np.floating[Any]]:
        """The numpy type the hidden and output layers compute in."""
        return np.float32 if self.dtype == "float32" else np.float64

    @property
    def is_linear(self) -> bool:
        return not self.hidden

    def sizes(self, obs_dim: int, act_dim: int) -> tuple[int, ...]:
        """Widths from the input to the output: ``(obs_dim, *hidden, act_dim)``."""
        return (obs_dim, *self.hidden, act_dim)

    def num_params(self, obs_dim: int, act_dim: int) -> int:
        """Length of ``theta``: ``sum((n_in + 1) * n_out)`` over the layers."""
        s = self.sizes(obs_dim, act_dim)
        return sum((a + 1) * b for a, b in itertools.pairwise(s))

    def to_dict(self) -> dict[str, Any]:
        return {"hidden": list(self.hidden), "activation": self.activation, "dtype": self.dtype}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> MLP:
        # A result saved before networks had a dtype was computed in float64.
        return cls(hidden=tuple(d["hidden"]), activation=str(d["activation"]), dtype=str(d.get("dtype", "float64")))


def as_policy(policy: object) -> MLP | None:
    """``policy`` checked: None (the linear policy) or an :class:`MLP`; an ``MLP`` without
    hidden layers is the linear policy (None)."""
    if policy is None:
        return None
    if not isinstance(policy, MLP):
        raise TypeError(f"policy must be None (the linear policy) or fastcem.MLP(...), got {type(policy).__name__}")
    return None if policy.is_linear else policy


# --- the activation, compiled -------------------------------------------------------------


def _expm1(r: Any) -> Any:
    """``expm1(r)`` for ``|r| <= ln 2 / 2`` by its Taylor polynomial to ``r**13`` in Estrin's
    scheme (pairs of terms, then pairs of pairs: a dependent chain of 6 products and 4 sums,
    not Horner's 13 of each), on a float or elementwise on a numpy array, the same operations either way:
    :func:`tanh_ops` (compiled) and :func:`tanh_numpy` both take it."""
    r2 = r * r
    r4 = r2 * r2
    a0 = _C[0] + _C[1] * r
    a1 = _C[2] + _C[3] * r
    a2 = _C[4] + _C[5] * r
    a3 = _C[6] + _C[7] * r
    a4 = _C[8] + _C[9] * r
    a5 = _C[10] + _C[11] * r
    p = ((a0 + a1 * r2) + (a2 + a3 * r2) * r4) + (a4 + a5 * r2) * (r4 * r4)
    p = 1.0 + r * p
    q = r * p
    return q


_expm1_lanes = inline(_expm1)


@inline
def tanh_ops(x: float) -> float:
    """``tanh(x)`` from ``expm1(2|x|)`` by a fixed sequence of IEEE operations (no branches,
    no calls: lanes vectorize): ``k = floor(2|x| / ln 2 + 1/2)``, ``r = 2|x| - k ln 2`` (two
    parts), ``q = expm1(r)`` (:func:`_expm1`), ``e = (2**k - 1) + 2**k q``, ``tanh = e /
    (e + 2)`` with the sign of ``x``; 1 beyond ``2|x| = 44``.  Within :data:`TANH_MAX_ULP` ULP
    of the C library's ``tanh``."""
    y = 2.0 * abs(x)
    big = y > _SATURATE
    y = 0.0 if big else y  # keeps k in range (and NaN as NaN)
    kf = np.floor(y * _INV_LN2 + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    q = _expm1_lanes(r)
    # 2**k from k's bits: k + 1.5 * 2**52 holds k in its low mantissa bits (an exact add for
    # 0 <= k < 2**31), so no float-to-int conversion (AVX2 has none for int64: it would stop
    # the lanes from vectorizing).
    scale = from_bits((bits(kf + _MAGIC) - _MAGIC_BITS + np.int64(1023)) << np.int64(52))
    e = (scale - 1.0) + scale * q
    t = e / (e + 2.0)
    t = 1.0 if big else t
    return math.copysign(t, x)


def _expm1_32(r: Any) -> Any:
    """``expm1(r)`` for ``|r| <= ln 2 / 2`` in float32: its Taylor polynomial to ``r**7`` by
    Horner's rule, on a float32 or elementwise on a float32 array, the same operations either
    way (:func:`tanh_ops32` and :func:`tanh_numpy32` both take it)."""
    c = _C32
    p = ((((c[5] * r + c[4]) * r + c[3]) * r + c[2]) * r + c[1]) * r + c[0]
    # r plus a small correction: the rounding of the correction barely shows in the sum.
    return r + (r * r) * p


_expm1_32_lanes = inline(_expm1_32)


@inline
def tanh_ops32(x: np.float32) -> np.float32:
    """:func:`tanh_ops` in float32 operations: ``k = 2|x| / ln 2`` rounded, ``r = 2|x| -
    k ln 2`` (two parts), ``q = expm1(r)`` (:func:`_expm1_32`), ``e = (2**k - 1) + 2**k q``,
    ``tanh = e / (e + 2)`` with the sign of ``x``; 1 beyond ``2|x| = 44``.  Within
    :data:`TANH32_MAX_ULP` float32 ULP of the C library's ``tanh`` rounded to float32."""
    y = _TWO32 * abs(x)
    big = y > _SATURATE32
    y = _ZERO32 if big else y
    # k = y / ln 2 rounded to the nearest integer by adding 1.5 * 2**23 (which leaves k in the
    # low mantissa bits) and taking it away again: no call to floorf, so lanes vectorize.
    shifted = y * _INV_LN2_32 + _MAGIC32
    kf = shifted - _MAGIC32
    r = (y - kf * _LN2_HI32) - kf * _LN2_LO32
    q = _expm1_32_lanes(r)
    scale = from_bits(np.int32((bits(shifted) - _MAGIC32_BITS + np.int32(127)) << np.int32(23)))
    e = (scale - _ONE32) + scale * q
    t = e / (e + _TWO32)
    t = _ONE32 if big else t
    return from_bits(np.int32((bits(t) & _ABS32) | (bits(x) & _SIGN32)))


@inline
def relu_ops(x: float) -> float:
    """``x if x > 0 else 0.0`` (NaN gives 0.0)."""
    return x if x > 0.0 else 0.0


@inline
def relu_ops32(x: np.float32) -> np.float32:
    """:func:`relu_ops` in float32."""
    return x if x > _ZERO32 else _ZERO32


# --- the same in numpy, for the gymnasium-side policy -------------------------------------


def tanh_numpy(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """:func:`tanh_ops` elementwise in numpy: the same operations, so the same bits."""
    x = np.asarray(x, dtype=np.float64)
    y = 2.0 * np.abs(x)
    big = y > _SATURATE
    y = np.where(big, 0.0, y)
    kf = np.floor(y * _INV_LN2 + 0.5)
    r = (y - kf * _LN2_HI) - kf * _LN2_LO
    q = _expm1(r)
    with np.errstate(invalid="ignore"):
        scale = np.ldexp(1.0, np.nan_to_num(kf).astype(np.int64))
    e = (scale - 1.0) + scale * q
    t = e / (e + 2.0)
    t = np.where(big, 1.0, t)
    return np.copysign(t, x)


def tanh_numpy32(x: NDArray[np.float32]) -> NDArray[np.float32]:
    """:func:`tanh_ops32` elementwise in numpy: the same float32 operations, so the same bits."""
    x = np.asarray(x, dtype=np.float32)
    with np.errstate(over="ignore"):  # 2|x| beyond float32's range is inf: saturated, as compiled
        y = _TWO32 * np.abs(x)
    big = y > _SATURATE32
    y = np.where(big, _ZERO32, y)
    shifted = y * _INV_LN2_32 + _MAGIC32
    kf = shifted - _MAGIC32
    r = (y - kf * _LN2_HI32) - kf * _LN2_LO32
    q = _expm1_32(r)
    with np.errstate(invalid="ignore"):
        scale = np.ldexp(_ONE32, np.nan_to_num(kf).astype(np.int32))
    e = (scale - _ONE32) + scale * q
    t = e / (e + _TWO32)
    t = np.where(big, _ONE32, t)
    return np.copysign(t, x)


def relu_numpy(x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
    return np.where(x > 0, x, np.zeros((), dtype=x.dtype))


class Layers(NamedTuple):
    """``theta`` cut into its layers: ``(W, b)`` per layer, ``W`` as ``in x out``."""

    weights: list[NDArray[np.float64]]
    biases: list[NDArray[np.float64]]


def split(theta: NDArray[np.float64], sizes: Sequence[int], dtype: Any = np.float64) -> Layers:
    """``theta``'s layers, rounded to ``dtype``."""
    ws, bs, off = [], [], 0
    for n_in, n_out in itertools.pairwise(sizes):
        ws.append(np.asarray(theta[off : off + n_in * n_out], dtype=np.float64).astype(dtype).reshape(n_in, n_out))
        off += n_in * n_out
        bs.append(np.asarray(theta[off : off + n_out], dtype=np.float64).astype(dtype))
        off += n_out
    return Layers(ws, bs)


def forward_numpy(layers: Layers, activation: str, obs: Any) -> NDArray[np.floating[Any]]:
    """The network's outputs for one observation, in the compiled lanes' order and in the
    layers' dtype: per unit, ``b_j + (x_0 W_0j + x_1 W_1j + ...)`` summed from ``i = 0`` up
    (numpy's elementwise ``*`` and ``+`` round each operation alone), the activation after each
    hidden layer."""
    dtype = layers.weights[0].dtype
    act: Callable[[Any], NDArray[Any]] = relu_numpy
    if activation == "tanh":
        act = tanh_numpy32 if dtype == np.float32 else tanh_numpy
    x: NDArray[Any] = np.asarray(obs, dtype=np.float32).reshape(-1).astype(dtype)
    last = len(layers.weights) - 1
    for n, (w, b) in enumerate(zip(layers.weights, layers.biases, strict=True)):
        s = x[0] * w[0]
        for i in range(1, w.shape[0]):
            s = s + x[i] * w[i]
        x = b + s
        if n < last:
            x = act(x)
    return x
