"""Numba settings shared by every compiled kernel of ``envs_native`` and ``fastcem``.

They live in one place so that a kernel cannot quietly differ from the others:

* ``fastmath=False`` everywhere.  The kernels promise the same bits as gymnasium, and
  fast-math lets LLVM reassociate, contract ``a * b + c`` into a fused multiply-add and
  assume no NaN, each of which changes results in the last bit.
* ``error_model="numpy"``: float division by zero gives inf/nan as numpy does, with no
  Python-style zero-divisor branch in the hot loops.
* ``cache=True``: compiled code is written next to the sources (or to
  ``NUMBA_CACHE_DIR``) so a new process loads it instead of compiling.  Kernels that call
  each other are module-level functions, never closures or function arguments: a
  dispatcher passed as an argument is keyed by its address and never hits the cache.
* ``nogil=True``: a Python thread calling a kernel does not hold up the others.
* ``step_tuple``/``observe_tuple`` are inlined by numba (``inline="always"``) into the
  rollout loops: LLVM alone declines to inline Pendulum's step, and then cannot share one
  ``sin(theta)`` between the observation and the dynamics.
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from numba import njit

F = TypeVar("F", bound=Callable[..., Any])

JIT_OPTIONS: dict[str, Any] = {
    "cache": True,
    "fastmath": False,
    "error_model": "numpy",
    "nogil": True,
}


def jit(fn: F | None = None, **overrides: Any) -> Any:
    """``numba.njit`` with the project's settings; ``overrides`` (e.g. ``parallel=True``) win."""
    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return njit(**options)
    return njit(**options)(fn)
