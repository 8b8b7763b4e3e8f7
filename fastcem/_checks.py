"""Argument checks for the public layer.

Every public function converts and checks its input here, in Python, before any compiled
code runs: a kernel never sees an array of the wrong shape (they do not bounds-check), a
non-finite value where a finite one is needed, or a count it could loop on forever.
"""

from __future__ import annotations

import inspect
import numbers
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray

from envs_native import EnvInfo


def check_int(value: object, name: str, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int; a TypeError if it is not an integer, ValueError if out of range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {type(value).__name__}")
    value = int(value)
    if minimum is not None and value < minimum:
        bound = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
        raise ValueError(f"{name} must be {bound}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be between {minimum} and {maximum}, got {value}")
    return value


def check_real(value: object, name: str, *, low: float, high: float = np.inf,
                low_open: bool = False, high_open: bool = False) -> float:
    """A finite real number in the interval described by ``low``/``high`` (open or closed)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {type(value).__name__}")
    x = float(value)
    above = x > low if low_open else x >= low
    below = x < high if high_open else x <= high
    if not (np.isfinite(x) and above and below):
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open or high == np.inf else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value}")
    return x


def check_num_threads(num_threads: object) -> int | None:
    """None, or a thread count between 1 and numba's maximum (``NUMBA_NUM_THREADS``)."""
    if num_threads is None:
        return None
    return check_int(num_threads, "num_threads", 1, numba.config.NUMBA_NUM_THREADS)


def as_float_array(value: object, name: str) -> NDArray[np.float64]:
    """``value`` as a C-contiguous float64 array; TypeError for non-numeric data."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # ragged nested lists and the like
        raise TypeError(f"{name} must be a numeric array: {exc}") from None
    if arr.dtype == np.bool_ or arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold real numbers (int or float), got dtype {arr.dtype}")
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_finite(arr: NDArray[np.float64], name: str) -> None:
    if not np.isfinite(arr).all():
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = f" (first at index {tuple(int(i) for i in bad)})" if arr.ndim else ""
        raise ValueError(f"{name} must be finite; found NaN or inf{where}")


def as_thetas(thetas: object, dim: int, env_id: str, what: str = "(obs_dim + 1) * act_dim") -> NDArray[np.float64]:
    """``(P, dim)`` float64 parameters from a ``(P, dim)`` or ``(dim,)`` array; ``what`` says
    how ``dim`` follows from the policy, for the message."""
    arr = as_float_array(thetas, "thetas")
    given = arr.shape
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2 or arr.shape[1] != dim:
        raise ValueError(
            f"thetas must have shape (P, {dim}) or ({dim},) for {env_id} "
            f"(policy_dim = {what} = {dim}); got shape {given}"
        )
    check_finite(arr, "thetas")
    return arr


def env_params(info: EnvInfo, env_kwargs: object) -> Any:
    """The env's params for ``env_kwargs`` (keyword arguments of its ``default_params``)."""
    if env_kwargs is None:
        return info.spec.default_params()
    if not isinstance(env_kwargs, dict):
        raise TypeError(f"env_kwargs must be a dict or None, got {type(env_kwargs).__name__}")
    accepted = list(inspect.signature(info.spec.default_params).parameters)
    unknown = [k for k in env_kwargs if k not in accepted]
    if unknown:
        raise ValueError(
            f"env_kwargs has {unknown!r}, which {info.env_id} does not take; it takes {accepted}"
        )
    return info.spec.default_params(**env_kwargs)


def fast_mode(fast: object) -> bool:
    """The ``fast`` flag as a bool (TypeError for anything else)."""
    if not isinstance(fast, (bool, np.bool_)):
        raise TypeError(f"fast must be a bool, got {type(fast).__name__}")
    return bool(fast)
