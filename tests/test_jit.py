"""The project's numba hooks (``envs_native._jit``) keep results and do what they say."""

from __future__ import annotations

import gc
import os
import re
import subprocess
import sys
from pathlib import Path

import numba
import numpy as np
import pytest
from numba import types
from numba.extending import overload

from envs_native._jit import collector_paused, constant, forward, jit, larger, new_array, smaller


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


_CACHED_MODULE = '''
import numpy as np
from envs_native._jit import jit


@jit(called=True)
def inner(a):
    total = 0.0
    for x in a:
        total += x * x
    return total


@jit
def outer(a):
    return inner(a) + inner(a[::2])
'''


def test_called_kernel_in_a_cached_caller_loads_alone(tmp_path: Path) -> None:
    """A caller compiled with a late-linked callee is cached with the callee's code inside: a
    fresh process loads the caller from the cache and runs it without ever compiling or loading
    the callee on its own."""
    (tmp_path / "late_mod.py").write_text(_CACHED_MODULE)
    script = """
import numpy as np, late_mod
print(late_mod.outer(np.arange(7.0)), sum(late_mod.outer.stats.cache_hits.values()), len(late_mod.inner.overloads))
"""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path(__file__).parents[1])])}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env,
                           cwd=tmp_path) for _ in range(2)]
    for res in runs:
        assert res.returncode == 0, res.stderr
    first, second = (res.stdout.split() for res in runs)
    expected = float(sum(x * x for x in range(7)) + sum(x * x for x in range(0, 7, 2)))
    assert float(first[0]) == float(second[0]) == expected
    assert (first[1], second[1]) == ("0", "1")  # compiled, then loaded from the cache
    assert second[2] == "0"  # the callee was never compiled or loaded on its own


_collector_on_while_typing: list[bool] = []


def _note_collector(x: float) -> None:
    """Called from a kernel: notes, while numba types that kernel (once per type of ``x``),
    whether the collector is on."""


@overload(_note_collector)
def _ol_note_collector(x):  # type: ignore[no-untyped-def]
    _collector_on_while_typing.append(gc.isenabled())
    return lambda x: None


def _noting(x: float) -> float:
    _note_collector(x)
    return x + 1


def test_kernels_compile_with_the_collector_paused_and_leave_it_as_it_was():
    assert gc.isenabled()
    _collector_on_while_typing.clear()
    assert jit(_noting, cache=False)(1.0) == 2.0
    assert _collector_on_while_typing == [False]
    assert gc.isenabled()
    # A pause around a compile: the compile's own pause ends inside it, and the collector
    # comes back on with the outer one only.
    with collector_paused():
        assert jit(_noting, cache=False)(2) == 3
        assert not gc.isenabled()
    assert gc.isenabled()
    # A collector the caller turned off stays off.
    gc.disable()
    try:
        assert jit(_noting, cache=False)(np.int32(3)) == 4
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert _collector_on_while_typing == [False, False, False]


@jit(cache=False)
def _doubled(x):  # type: ignore[no-untyped-def]
    return 2 * x


@jit(cache=False)
def _negated(x):  # type: ignore[no-untyped-def]
    return -x


@forward
def _by_type(flag, x):  # type: ignore[no-untyped-def]
    """Doubles a float, negates an int; the first argument only picks (it is not passed)."""
    if isinstance(x, types.Float):
        return _doubled, (1,)
    if isinstance(x, types.Integer):
        return _negated, (1,)
    return None


@constant
def _width(x):  # type: ignore[no-untyped-def]
    if isinstance(x, types.Integer):
        return 1
    return 8 if x == types.float64 else 4 if x == types.float32 else None


def _forwarded(x):  # type: ignore[no-untyped-def]
    return _by_type(True, x), _width(x)


def test_forward_calls_the_piece_its_argument_types_pick_and_constant_is_a_literal():
    kernel = jit(_forwarded, cache=False)
    assert kernel(1.5) == (3.0, 8)
    assert kernel(np.float32(1.5)) == (np.float32(3.0), 4)
    assert kernel(3) == (-3, 1)
    # A literal of the kernel: the compiled signature returns it typed as a literal.
    assert str(kernel.nopython_signatures[0].return_type) == "Tuple(float64, Literal[int](8))"


def _literal_three() -> tuple[int, int]:
    return _by_type(False, 3), _width(3)


def _width_only(x):  # type: ignore[no-untyped-def]
    return _width(x)


@constant
def _not_a_number(x):  # type: ignore[no-untyped-def]
    return 1.5


def _gives_a_float(x):  # type: ignore[no-untyped-def]
    return _not_a_number(x)


def test_forward_takes_literal_arguments():
    assert jit(_literal_three, cache=False)() == (-3, 1)


def test_forward_and_constant_without_a_choice_fail_to_type():
    with pytest.raises(numba.core.errors.TypingError):
        jit(_forwarded, cache=False)(np.complex128(1))
    with pytest.raises(numba.core.errors.TypingError):
        jit(_width_only, cache=False)(np.complex128(1))
    with pytest.raises(TypeError, match="not an int or a bool"):
        jit(_gives_a_float, cache=False)(1.0)


def _filled(n, value):  # type: ignore[no-untyped-def]
    ints = new_array(n, np.int64)
    floats = new_array(n, np.float64)
    flags = new_array(n, np.bool_)
    for i in range(n):
        ints[i] = i
        floats[i] = value
        flags[i] = i % 2 == 0
    return ints, floats, flags


def test_new_array_is_np_empty_of_the_type_asked():
    ints, floats, flags = jit(_filled, cache=False)(5, 1.5)
    assert ints.dtype == np.int64 and ints.tolist() == [0, 1, 2, 3, 4]
    assert floats.dtype == np.float64 and floats.tolist() == [1.5] * 5
    assert flags.dtype == np.bool_ and flags.tolist() == [True, False, True, False, True]
    assert jit(_filled, cache=False)(0, 1.0)[0].shape == (0,)
    with pytest.raises(ValueError, match="negative dimensions not allowed"):
        jit(_filled, cache=False)(-1, 1.0)


def _both(a, b):  # type: ignore[no-untyped-def]
    return smaller(a, b), larger(a, b)


def test_smaller_and_larger_are_numbas_min_and_max_bit_for_bit():
    ours = jit(_both, cache=False)
    numbas = jit(lambda a, b: (min(a, b), max(a, b)), cache=False)
    values = [np.nan, -np.inf, -1.0, -0.0, 0.0, 2.5, np.inf]
    for a in values:
        for b in values:
            got, want = ours(a, b), numbas(a, b)
            assert np.array(got).tobytes() == np.array(want).tobytes(), (a, b, got, want)
            assert np.array(got).tobytes() == np.array((min(a, b), max(a, b))).tobytes(), (a, b)
    assert ours(3, 7) == (3, 7) and ours(np.int64(9), 4) == (4, 9)
