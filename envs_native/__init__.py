"""Native numba kernels of gymnasium's envs, bit-identical to gymnasium.

One module per environment (``envs_native.cartpole``, ``pendulum``, ``acrobot``,
``mountain_car``, ``continuous_mountain_car``), each its
physics and nothing else: ``default_params``, ``dynamics`` and ``observation`` written once
with the math of :mod:`envs_native.modes`, ``step``/``observe`` callable from Python,
``reset_state``/``sample_states``, and an :class:`~envs_native.spec.EnvSpec` registered with
:func:`~envs_native.spec.register`.  This package imports nothing of ``fastcem``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

# Imported in the order ENV_IDS lists them (registration order).
from . import cartpole, pendulum  # isort: skip
from . import acrobot, mountain_car, continuous_mountain_car  # isort: skip
from .spec import (
    Box,
    Discrete,
    EnvInfo,
    EnvSpec,
    env_info,
    env_kernel,
    register,
    registered_ids,
)

__all__ = ["ENV_IDS", "Box", "Discrete", "EnvInfo", "EnvSpec", "acrobot", "cartpole", "continuous_mountain_car",
           "env_info", "env_kernel", "max_episode_steps", "mountain_car", "pendulum", "register"]


if TYPE_CHECKING:
    ENV_IDS: tuple[str, ...]


def __getattr__(name: str) -> object:
    # ENV_IDS follows the registry: an env registered later is listed too.
    if name == "ENV_IDS":
        return registered_ids()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def max_episode_steps(env_id: str) -> int:
    """gymnasium's TimeLimit for ``env_id`` (CartPole-v0 200, CartPole-v1 500, Pendulum-v1 200,
    Acrobot-v1 500, MountainCar-v0 200, MountainCarContinuous-v0 999)."""
    return env_info(env_id).max_episode_steps
