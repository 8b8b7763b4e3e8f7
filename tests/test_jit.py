"""The project's numba hooks (``envs_native._jit``) keep results and do what they say."""

from __future__ import annotations

import re

import numpy as np

from envs_native._jit import jit


@jit(called=True)
def _called_sum(a: np.ndarray) -> float:
    total = 0.0
    for x in a:
        total += x
    return total


@jit
def _plain_sum(a: np.ndarray) -> float:
    total = 0.0
    for x in a:
        total += x
    return total


@jit
def _twice_called(a: np.ndarray) -> float:
    return _called_sum(a) + _called_sum(a[1:])


@jit
def _twice_plain(a: np.ndarray) -> float:
    return _plain_sum(a) + _plain_sum(a[1:])


def _calls_in_body(kernel: object, callee: str) -> int:
    """How many calls to a function named like ``callee`` the body of ``kernel``'s compiled
    function has, in its final (optimized, linked) LLVM IR."""
    (ir,) = kernel.inspect_llvm().values()  # type: ignore[attr-defined]
    name = kernel.py_func.__name__  # type: ignore[attr-defined]
    bodies = re.split(r"^(?=define )", ir, flags=re.M)
    (body,) = [b for b in bodies if b.startswith("define") and name in b.split("\n", 1)[0]
               and "cpython" not in b.split("\n", 1)[0]]
    return len(re.findall(rf"call [^\n]*{callee}", body))


def test_called_kernel_is_linked_late_and_called() -> None:
    a = np.arange(10.0)
    assert _twice_called(a) == _twice_plain(a) == 45.0 + 45.0
    # A plain callee is inlined into its caller's optimized code; a ``called=True`` one is
    # linked in after the caller is optimized, and called.
    assert _calls_in_body(_twice_plain, "_plain_sum") == 0
    assert _calls_in_body(_twice_called, "_called_sum") == 2
