"""fastcem: the Cross-Entropy Method for control, compiled and parallel, exact to gymnasium.

Returns are always maximised.  See ``evaluate`` for population evaluation of linear policies
on the native CartPole and Pendulum kernels (``envs_native``).
"""

from __future__ import annotations

from envs_native import ENV_IDS, max_episode_steps

from .evaluation import Trajectory, evaluate, policy_dim, rollout

__all__ = ["ENV_IDS", "Trajectory", "evaluate", "max_episode_steps", "policy_dim", "rollout"]
__version__ = "0.1.0"
