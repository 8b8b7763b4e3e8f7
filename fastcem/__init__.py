"""fastcem: the Cross-Entropy Method for control, compiled and parallel, exact to gymnasium.

Returns are always maximised.  ``evaluate`` scores a population of linear (or ``MLP``)
policies on the native kernels of gymnasium's classic control and users' envs
(``envs_native``); ``CEM`` is the ask/tell optimizer and
``train`` the reference's whole experiment; ``elite_indices`` the compiled elite selection;
``CEMPlanner`` and ``mpc`` plan over action sequences and control in closed loop.
"""

from __future__ import annotations

from envs_native import ENV_IDS, max_episode_steps

from .cem import CEM
from .evaluation import Trajectory, evaluate, policy_dim, rollout
from .gym_eval import evaluate_gym, gym_policy_dim
from .mlp import MLP
from .planning import CEMPlanner, MPCResult, mpc, mpc_run
from .policies import gym_policy
from .selection import elite_indices
from .training import EpochStats, TrainResult, load_result, train
from .vector import NativeVectorEnv, make_vec
from .vector import register as _register_vector_envs

_register_vector_envs()

__all__ = [
    "CEM",
    "ENV_IDS",
    "MLP",
    "CEMPlanner",
    "EpochStats",
    "MPCResult",
    "NativeVectorEnv",
    "TrainResult",
    "Trajectory",
    "elite_indices",
    "evaluate",
    "evaluate_gym",
    "gym_policy",
    "gym_policy_dim",
    "load_result",
    "make_vec",
    "max_episode_steps",
    "mpc",
    "mpc_run",
    "policy_dim",
    "rollout",
    "train",
]
__version__ = "0.1.0"
