"""The reference: ADGEfficiency/cem's multiprocessing ``cem.py``, ported from gym to gymnasium, which
``benchmarks/compare.py`` times fastcem against.

    python benchmarks/reference_cem.py cartpole --num_process 2 --epochs 8 --batch_size 4096
    python benchmarks/reference_cem.py pendulum --epochs 15

Only the gym -> gymnasium API changed: ``reset`` returns ``(obs, info)``, ``step`` returns five
values and ``done = terminated or truncated``; ``cartpole`` is CartPole-v1 and ``pendulum``
Pendulum-v1 (the reference's CartPole-v0 and Pendulum-v0; ``--env`` picks another id).  Everything
else is the reference's: a fresh ``gymnasium.make(env_id)`` per evaluated candidate, a new
``Pool(num_process)`` every epoch mapping ``evaluate_theta`` over the candidates, the elites
picked with ``heapq.nlargest``, candidates drawn with ``np.random.multivariate_normal`` from
the diagonal covariance, and the reference's per-epoch line and ``expt took`` line.  The policy is
the contract's linear one in plain numpy (``obs @ W + b``; argmax for CartPole, clipped to
the action bounds for Pendulum).  The reference's plotting of the history and its monitor (video)
option were dropped: they are not part of the timed loop.
"""

from __future__ import annotations

import argparse
import heapq
import time
from functools import partial
from multiprocessing import Pool
from typing import Any

import gymnasium
import numpy as np
from numpy.typing import NDArray

#: The reference's experiment names, as gymnasium ids.
ENVS = {"cartpole": "CartPole-v1", "pendulum": "Pendulum-v1"}
#: The reference's history columns.
HISTORY_COLUMNS = ("epoch", "avg_rew", "std_rew", "avg_elites", "std_elites")


def setup_env(env_id: str) -> tuple[gymnasium.Env[Any, Any], int, int]:
    """A new env, its observation size and its action size (actions for a discrete space)."""
    env = gymnasium.make(env_id)
    obs_shape = env.observation_space.shape[0]
    space = env.action_space
    act_shape = int(space.n) if isinstance(space, gymnasium.spaces.Discrete) else space.shape[0]
    return env, obs_shape, act_shape


class LinearPolicy:
    """The reference's deterministic linear policy: ``y = obs @ W + b``; argmax of ``y`` for a
    discrete action space, ``y`` clipped to the bounds for a box."""

    def __init__(self, env: gymnasium.Env[Any, Any], theta: NDArray[np.float64]) -> None:
        obs_dim = env.observation_space.shape[0]
        self.discrete = isinstance(env.action_space, gymnasium.spaces.Discrete)
        act_dim = int(env.action_space.n) if self.discrete else env.action_space.shape[0]
        self.W = theta[: obs_dim * act_dim].reshape(obs_dim, act_dim)
        self.b = theta[obs_dim * act_dim:]
        if not self.discrete:
            self.low, self.high = env.action_space.low, env.action_space.high

    def act(self, observation: NDArray[np.float32]) -> Any:
        y = observation @ self.W + self.b
        if self.discrete:
            return int(y.argmax())
        return np.clip(y, self.low, self.high)


def setup_policy(env: gymnasium.Env[Any, Any], theta: NDArray[np.float64]) -> LinearPolicy:
    """The reference's ``setup_policy``: the linear policy of ``theta`` for ``env``'s spaces."""
    return LinearPolicy(env, theta)


def get_elite_indicies(num_elite: int, rewards: NDArray[np.float64]) -> list[int]:
    """The reference's elite selection (spelling kept): indices of the ``num_elite`` best rewards."""
    return heapq.nlargest(num_elite, range(len(rewards)), rewards.take)


def evaluate_theta(theta: NDArray[np.float64], env_id: str, monitor: bool = False) -> float:
    """The return of one episode of ``theta``'s policy in a fresh env (``monitor`` is kept for
    the reference's signature and ignored: its video recording was dropped)."""
    env, _, _ = setup_env(env_id)
    policy = setup_policy(env, theta)
    done = False
    observation, _ = env.reset()
    rewards = []
    while not done:
        action = policy.act(observation)
        next_observation, reward, terminated, truncated, _ = env.step(action)
        done = terminated or truncated
        rewards.append(reward)
        observation = next_observation
    env.close()
    return float(sum(rewards))


def run_cem(
    env_id: str,
    epochs: int = 10,
    batch_size: int = 4096,
    elite_frac: float = 0.2,
    extra_std: float = 2.0,
    extra_decay_time: float = 10,
    num_process: int = 4,
) -> tuple[dict[str, list[float]], float]:
    """The reference's CEM loop; prints a line per epoch and ``expt took``, returns the history (the
    reference's columns) and the wall time in seconds (the whole call, as the reference's timer)."""
    start = time.time()
    num_elite = int(batch_size * elite_frac)
    _env, obs_shape, act_shape = setup_env(env_id)
    theta_dim = (obs_shape + 1) * act_shape
    means = np.random.uniform(size=theta_dim)
    stds = np.ones(theta_dim)
    history: dict[str, list[float]] = {name: [] for name in HISTORY_COLUMNS}
    for epoch in range(epochs):
        extra_cov = max(1.0 - epoch / extra_decay_time, 0) * extra_std**2
        thetas = np.random.multivariate_normal(
            mean=means, cov=np.diag(np.array(stds**2) + extra_cov), size=batch_size
        )
        with Pool(num_process) as p:
            rewards = p.map(partial(evaluate_theta, env_id=env_id), thetas)
        rewards = np.array(rewards)
        indicies = get_elite_indicies(num_elite, rewards)
        elites = thetas[indicies]
        means = elites.mean(axis=0)
        stds = elites.std(axis=0)
        row = (epoch, np.mean(rewards), np.std(rewards), np.mean(rewards[indicies]), np.std(rewards[indicies]))
        for name, value in zip(HISTORY_COLUMNS, row, strict=True):
            history[name].append(float(value))
        print("epoch {} - {:2.1f} {:2.1f} pop - {:2.1f} {:2.1f} elites".format(*row))
    wall = time.time() - start
    print(f"expt took {wall:2.1f} seconds")
    return history, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("env", choices=sorted(ENVS), help="the reference's experiment")
    parser.add_argument("--env", dest="env_id", default=None, help="a gymnasium id instead of the experiment's")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch_size", type=int, default=4096)
    parser.add_argument("--elite_frac", type=float, default=0.2)
    parser.add_argument("--extra_std", type=float, default=2.0)
    parser.add_argument("--extra_decay_time", type=float, default=10)
    parser.add_argument("--num_process", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None, help="np.random.seed(seed) first (default: unseeded)")
    args = parser.parse_args()
    if args.seed is not None:
        np.random.seed(args.seed)
    run_cem(args.env_id or ENVS[args.env], epochs=args.epochs, batch_size=args.batch_size,
            elite_frac=args.elite_frac, extra_std=args.extra_std, extra_decay_time=args.extra_decay_time,
            num_process=args.num_process)


if __name__ == "__main__":
    main()
