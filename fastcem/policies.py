"""Policies as plain Python callables for gymnasium: the same actions as the compiled rollouts.

The compiled rollouts evaluate the linear policy's affine map in float64 in one fixed order,
``y_j = b_j + (((o_0 W_0j + o_1 W_1j) + o_2 W_2j) + ...)`` (:func:`fastcem._engine.affine`),
without fused multiply-adds.  Python's floats are IEEE doubles and round each operation the
same way, so the same sums written here give the same bits; numpy's ``obs @ W + b`` would
not (BLAS may fuse and reorder).  ``tests/`` checks whole episodes against the compiled ones.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from envs_native import Box, Discrete, env_info

from ._checks import as_float_array, check_finite
from .mlp import MLP, as_policy, forward_numpy, split

__all__ = ["LinearMap", "LinearPolicy", "NetworkMap", "NetworkPolicy", "gym_policy"]


class LinearMap:
    """``obs -> obs @ W + b`` of the linear policy ``theta`` with ``act_dim`` outputs, in the
    compiled rollouts' order.  ``theta``'s layout: ``W = theta[:obs_dim *
    act_dim].reshape(obs_dim, act_dim)``, then ``b``."""

    def __init__(self, theta: NDArray[np.float64], obs_dim: int, act_dim: int) -> None:
        flat = [float(v) for v in theta]
        if len(flat) != (obs_dim + 1) * act_dim:
            raise ValueError(f"theta must have (obs_dim + 1) * act_dim = {(obs_dim + 1) * act_dim} values, "
                             f"got {len(flat)}")
        # Column j of W, then b_j.
        self._columns = [[flat[i * act_dim + j] for i in range(obs_dim)] for j in range(act_dim)]
        self._bias = flat[obs_dim * act_dim:]

    def outputs(self, obs: Any) -> list[float]:
        """``obs @ W + b`` in the compiled rollouts' order (``obs`` taken as float32)."""
        o = [float(v) for v in np.asarray(obs, dtype=np.float32).reshape(-1)]
        out = []
        for column, b in zip(self._columns, self._bias, strict=True):
            s = o[0] * column[0]
            for i in range(1, len(o)):
                s += o[i] * column[i]
            out.append(b + s)
        return out


class LinearPolicy(LinearMap):
    """``obs -> action`` of the linear policy ``theta`` for an action space: the argmax of
    ``obs @ W + b`` for ``Discrete`` (the first maximum, or the first NaN, as numpy's
    ``argmax``), ``clip(obs @ W + b, low, high)`` as a float64 array for a ``Box``.  ``theta``'s
    layout: ``W = theta[:obs_dim * act_dim].reshape(obs_dim, act_dim)``, then ``b``."""

    def __init__(self, theta: NDArray[np.float64], obs_dim: int, space: Discrete | Box) -> None:
        super().__init__(theta, obs_dim, space.n if isinstance(space, Discrete) else 1)
        self._space = space

    def __call__(self, obs: Any) -> Any:
        return map_outputs(self.outputs(obs), self._space)


class NetworkMap:
    """``obs ->`` the outputs of an :class:`fastcem.MLP` ``theta`` with ``act_dim`` outputs, in
    numpy, computing what the compiled lanes compute (:func:`fastcem.mlp.forward_numpy`)."""

    def __init__(self, theta: NDArray[np.float64], policy: MLP, obs_dim: int, act_dim: int) -> None:
        self._layers = split(theta, policy.sizes(obs_dim, act_dim), policy.np_dtype)
        self._activation = policy.activation

    def outputs(self, obs: Any) -> list[float]:
        # float(v): a float32 output taken at its float64 value, as the compiled lanes take it.
        return [float(v) for v in forward_numpy(self._layers, self._activation, obs)]


class NetworkPolicy(NetworkMap):
    """``obs -> action`` of an :class:`fastcem.MLP` ``theta`` for an action space: its
    outputs mapped to an action as :class:`LinearPolicy` maps its."""

    def __init__(self, theta: NDArray[np.float64], policy: MLP, obs_dim: int, space: Discrete | Box) -> None:
        super().__init__(theta, policy, obs_dim, space.n if isinstance(space, Discrete) else 1)
        self._space = space

    def __call__(self, obs: Any) -> Any:
        return map_outputs(self.outputs(obs), self._space)


def map_outputs(y: list[float], space: Discrete | Box) -> Any:
    """A policy's outputs as an action: the first maximum (or the first NaN, as numpy's
    ``argmax``) for ``Discrete``, the output clipped to the bounds (a float64 array) for ``Box``."""
    if isinstance(space, Discrete):
        best = 0
        for j in range(1, len(y)):
            if math.isnan(y[best]):
                break
            if math.isnan(y[j]) or y[j] > y[best]:
                best = j
        return best
    v = y[0]
    v = space.low if v < space.low else v
    v = space.high if v > space.high else v
    return np.array([v], dtype=np.float64)  # float64, as the native env takes it


def gym_policy(theta: ArrayLike, env_id: str, policy: MLP | None = None) -> Callable[[Any], Any]:
    """A plain callable ``obs -> action`` for gymnasium that takes exactly the actions the
    compiled rollouts take, so that ``evaluate(theta, env_id, policy=policy,
    reset_seeds=[s])[0]`` equals the return of a gymnasium episode from ``reset(seed=s)``
    played with it.  ``policy``: None (the linear policy) or an :class:`fastcem.MLP`."""
    info = env_info(env_id)
    mlp = as_policy(policy)
    arr = as_float_array(theta, "theta")
    dim = (info.obs_dim + 1) * info.act_dim if mlp is None else mlp.num_params(info.obs_dim, info.act_dim)
    if arr.shape != (dim,):
        raise ValueError(f"theta must have shape ({dim},) for {env_id}"
                         f"{'' if mlp is None else f' and {mlp}'}; got shape {arr.shape}")
    check_finite(arr, "theta")
    if mlp is None:
        return LinearPolicy(arr, info.obs_dim, info.spec.action)
    return NetworkPolicy(arr, mlp, info.obs_dim, info.spec.action)
