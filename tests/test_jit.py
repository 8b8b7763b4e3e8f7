"""The project's numba hooks (``envs_native._jit``) keep results and do what they say."""

from __future__ import annotations

import re

import numpy as np

from envs_native._jit import jit


def _sum(a: np.ndarray) -> float:
    total = 0.0
    for x in a:
        total += x
    return total


# Uncached, so that every run compiles what it inspects.
_called_sum = jit(_sum, called=True, cache=False)
_plain_sum = jit(_sum, cache=False)


@jit(cache=False)
def _twice_called(a: np.ndarray) -> float:
    return _called_sum(a) + _called_sum(a[1:])


@jit(cache=False)
def _twice_plain(a: np.ndarray) -> float:
    return _plain_sum(a) + _plain_sum(a[1:])


def _calls_in_body(kernel: object, callee: str) -> int:
    """How many calls to a function named like ``callee`` the body of ``kernel``'s compiled
    function has, in its final (optimized, linked) LLVM IR."""
    (ir,) = kernel.inspect_llvm().values()  # type: ignore[attr-defined]
    name = kernel.py_func.__name__  # type: ignore[attr-defined]
    # The function itself, not its Python (``cpython``) or C (``cfunc.``) wrapper.
    (body,) = [b for b in re.split(r"^(?=define )", ir, flags=re.M)
               if re.match(rf"define [^\n]*@_ZN\d+test_jit\d+{name}", b)]
    return len(re.findall(rf"call [^\n]*{callee}", body))


def test_called_kernel_is_linked_late_and_called() -> None:
    a = np.arange(10.0)
    assert _twice_called(a) == _twice_plain(a) == 45.0 + 45.0
    # A plain callee is inlined into its caller's optimized code; a ``called=True`` one is
    # linked in after the caller is optimized, and called.
    assert _calls_in_body(_twice_plain, "_sum") == 0
    assert _calls_in_body(_twice_called, "_sum") == 2
