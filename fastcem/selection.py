"""Elite selection: the indices of the ``k`` largest rewards, best first.

The answer is defined to be ``heapq.nlargest(k, range(n), rewards.take)``, what the reference's
``get_elite_indicies`` returns: rewards in descending order, equal rewards in ascending
index order.  That is a strict total order on ``(reward, -index)``, so the k best form one
well-defined set and its order is unique.

The compiled kernel does not sort all ``n`` rewards.  An introselect (quickselect with a
median-of-three pivot, falling back to heapsort on a range when the recursion runs too deep,
as ``std::nth_element`` does) moves the ``k`` best to the front in expected O(n), and a
heapsort orders those ``k`` in O(k log k).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import typeof, types
from numpy.typing import ArrayLike, NDArray

from envs_native._jit import inline, jit, new_array

from ._checks import as_float_array, check_int

__all__ = ["elite_indices"]

# Ranges this short are finished by insertion sort: fewer comparisons than partitioning.
_SMALL = 16


@inline
def _better(rewards: np.ndarray, a: int, b: int) -> bool:
    """Whether candidate ``a`` ranks before ``b``: a larger reward, or an equal one and a lower index."""
    ra = rewards[a]
    rb = rewards[b]
    return ra > rb or (ra == rb and a < b)


@inline
def _swap(idx: np.ndarray, i: int, j: int) -> None:
    t = idx[i]
    idx[i] = idx[j]
    idx[j] = t


@inline
def _insertion_sort(rewards: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> None:
    """Order ``idx[lo..hi]`` best first."""
    for i in range(lo + 1, hi + 1):
        item = idx[i]
        j = i - 1
        while j >= lo and _better(rewards, item, idx[j]):
            idx[j + 1] = idx[j]
            j -= 1
        idx[j + 1] = item


@inline
def _sift_down(rewards: np.ndarray, idx: np.ndarray, lo: int, root: int, end: int) -> None:
    """Restore the heap below ``root`` in ``idx[lo..end]`` (offsets from ``lo``); the worst on top."""
    while True:
        child = 2 * root + 1
        if lo + child > end:
            return
        if lo + child + 1 <= end and _better(rewards, idx[lo + child], idx[lo + child + 1]):
            child += 1
        if _better(rewards, idx[lo + root], idx[lo + child]):
            _swap(idx, lo + root, lo + child)
            root = child
        else:
            return


@inline
def _heapsort(rewards: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> None:
    """Order ``idx[lo..hi]`` best first in O(m log m): a heap with the worst on top, whose top
    is moved to the end repeatedly."""
    m = hi - lo + 1
    for root in range(m // 2 - 1, -1, -1):
        _sift_down(rewards, idx, lo, root, hi)
    for end in range(hi, lo, -1):
        _swap(idx, lo, end)
        _sift_down(rewards, idx, lo, np.int64(0), end - 1)


@inline
def _partition(rewards: np.ndarray, idx: np.ndarray, lo: int, hi: int) -> int:
    """Partition ``idx[lo..hi]`` (at least 3 entries) around a median-of-three pivot.

    Returns the pivot's final position ``p``: entries before it rank better, entries after
    it worse.  The first and last entries of the median-of-three act as sentinels, so the
    scans need no bounds checks.
    """
    mid = lo + (hi - lo) // 2
    if _better(rewards, idx[mid], idx[lo]):
        _swap(idx, lo, mid)
    if _better(rewards, idx[hi], idx[lo]):
        _swap(idx, lo, hi)
    if _better(rewards, idx[hi], idx[mid]):
        _swap(idx, mid, hi)
    pivot = idx[mid]
    _swap(idx, mid, hi - 1)
    i = lo
    j = hi - 1
    while True:
        i += 1
        while _better(rewards, idx[i], pivot):
            i += 1
        j -= 1
        while _better(rewards, pivot, idx[j]):
            j -= 1
        if i >= j:
            break
        _swap(idx, i, j)
    _swap(idx, i, hi - 1)
    return i


@jit(called=True)
def select_elites(rewards: np.ndarray, k: int, out: np.ndarray) -> None:
    """Write the indices of the ``k`` best of ``rewards`` (1-D, no NaN, ``1 <= k <= n``) to
    ``out``, best first."""
    n = rewards.shape[0]
    # Plain loops rather than np.arange, np.log2 and slice assignment: each numpy function a
    # kernel uses adds noticeably to its compile time.
    idx = new_array(n, np.int64)
    for i in range(n):
        idx[i] = i
    if k < n:
        # Introselect: narrow [lo, hi] around the boundary between the k-th and (k+1)-th
        # best, allowing 2*log2(n) partitions before giving up on the pivots.
        lo = np.int64(0)  # not the literal 0: numba would compile each helper for it too
        hi = n - 1
        depth = 0
        m = n
        while m > 0:
            depth += 2
            m >>= 1
        while True:
            if hi - lo + 1 <= _SMALL:
                _insertion_sort(rewards, idx, lo, hi)
                break
            if depth == 0:
                _heapsort(rewards, idx, lo, hi)
                break
            depth -= 1
            p = _partition(rewards, idx, lo, hi)
            if p == k or p == k - 1:
                break
            if p > k:
                hi = p - 1
            else:
                lo = p + 1
    # idx[:k] now holds the k best in some order.
    if k <= _SMALL:
        _insertion_sort(rewards, idx, np.int64(0), k - 1)
    else:
        _heapsort(rewards, idx, np.int64(0), k - 1)
    for i in range(k):
        out[i] = idx[i]


def select_signature() -> tuple[Any, ...]:
    """The argument types for which :func:`elite_indices` compiles :func:`select_elites` on
    float rewards (the command line compiles it ahead, :mod:`fastcem._ahead`)."""
    return (typeof(np.zeros(1)), types.int64, typeof(np.zeros(1, np.int64)))


def elite_indices(rewards: ArrayLike, k: int) -> NDArray[np.int64]:
    """Indices of the ``k`` largest rewards, best first; equal rewards by ascending index.

    The same answer as ``heapq.nlargest(k, range(n), rewards.take)`` (the reference's elite
    selection), computed by a compiled partial selection in expected O(n + k log k).

    Parameters
    ----------
    rewards : array_like, shape (n,)
        Real values; higher is better.  ``inf`` and ``-inf`` are ordinary values, NaN is an error.
    k : int
        How many, ``1 <= k <= n``.

    Returns
    -------
    ndarray, shape (k,), int64
    """
    arr = np.asarray(rewards)
    if arr.dtype.kind in "iu" and arr.size and (arr.dtype.kind == "i" or arr.max() <= np.iinfo(np.int64).max):
        # Integers stay integers (the kernel compiles for int64 too): above 2**53 a float64
        # would merge neighbours that heapq tells apart.
        arr = np.ascontiguousarray(arr, dtype=np.int64)
    else:
        arr = as_float_array(rewards, "rewards")
    if arr.ndim != 1:
        raise ValueError(f"rewards must be 1-D, got shape {arr.shape}")
    if arr.shape[0] == 0:
        raise ValueError("rewards must not be empty")
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        raise ValueError(f"rewards must not contain NaN (first at index {int(np.argmax(np.isnan(arr)))})")
    k = check_int(k, "k", 1, arr.shape[0])
    out = np.empty(k, dtype=np.int64)
    select_elites(arr, k, out)
    return out
