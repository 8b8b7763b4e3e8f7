"""Native numba kernels of gymnasium's CartPole and Pendulum, bit-identical to gymnasium.

One module per environment (``envs_native.cartpole``, ``envs_native.pendulum``), each with
``default_params``, ``step``, ``observe``, ``reset_state`` and ``sample_states``.  This package
imports nothing of ``fastcem``.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import ModuleType

from . import cartpole, pendulum

__all__ = ["ENV_IDS", "EnvInfo", "cartpole", "env_info", "max_episode_steps", "pendulum"]


@dataclass(frozen=True)
class EnvInfo:
    """What the rollout needs to know of a registered env id."""

    env_id: str
    module: ModuleType
    max_episode_steps: int  # gymnasium's TimeLimit for this id
    state_dim: int
    obs_dim: int
    act_dim: int  # outputs of the linear policy: actions for discrete envs, torques otherwise
    discrete: bool


_REGISTRY = {
    info.env_id: info
    for info in (
        EnvInfo("CartPole-v0", cartpole, 200, cartpole.STATE_DIM, cartpole.OBS_DIM, cartpole.NUM_ACTIONS, True),
        EnvInfo("CartPole-v1", cartpole, 500, cartpole.STATE_DIM, cartpole.OBS_DIM, cartpole.NUM_ACTIONS, True),
        EnvInfo("Pendulum-v1", pendulum, 200, pendulum.STATE_DIM, pendulum.OBS_DIM, pendulum.ACTION_DIM, False),
    )
}

ENV_IDS: tuple[str, ...] = tuple(_REGISTRY)


def env_info(env_id: str) -> EnvInfo:
    """The :class:`EnvInfo` of ``env_id``; a clear error for anything else."""
    if not isinstance(env_id, str):
        raise TypeError(f"env_id must be a str, one of {list(ENV_IDS)}; got {type(env_id).__name__}")
    try:
        return _REGISTRY[env_id]
    except KeyError:
        raise ValueError(f"unknown env_id {env_id!r}; known env ids: {', '.join(ENV_IDS)}") from None


def max_episode_steps(env_id: str) -> int:
    """gymnasium's TimeLimit for ``env_id``: 200 (CartPole-v0), 500 (CartPole-v1), 200 (Pendulum-v1)."""
    return env_info(env_id).max_episode_steps
