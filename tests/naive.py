"""Slow, readable oracles the compiled path must match.

* :func:`gym_episode` plays a real gymnasium episode with the linear policy.
* :func:`numpy_episode` is a plain-NumPy re-statement of gymnasium's CartPole and Pendulum
  steps (numpy float64 scalars, as gymnasium computes them), for start states that
  gymnasium cannot be asked for, such as ``evaluate(..., seed=...)``'s.

Both apply the policy with the documented summation order, in Python floats.
"""

from __future__ import annotations

import heapq
import math

import gymnasium as gym
import numpy as np

CARTPOLE_IDS = ("CartPole-v0", "CartPole-v1")


def ordered_affine(theta: np.ndarray, obs: np.ndarray, act_dim: int) -> list[float]:
    """``y_j = b_j + (((o_0 W_0j + o_1 W_1j) + o_2 W_2j) + ...)`` in float64."""
    obs_dim = len(obs)
    out = []
    for j in range(act_dim):
        s = float(obs[0]) * float(theta[j])
        for i in range(1, obs_dim):
            s += float(obs[i]) * float(theta[i * act_dim + j])
        out.append(float(theta[obs_dim * act_dim + j]) + s)
    return out


def policy(theta: np.ndarray, obs: np.ndarray, env_id: str):
    """The reference's linear policy: argmax (ties to 0) for CartPole, clipped torque for Pendulum."""
    if env_id in CARTPOLE_IDS:
        y = ordered_affine(theta, obs, 2)
        return int(np.argmax(y))
    (y,) = ordered_affine(theta, obs, 1)
    return np.array([min(max(y, -2.0), 2.0)])


def make_env(env_id: str, env_kwargs: dict | None = None) -> gym.Env:
    """``gymnasium.make`` with fastcem's env_kwargs (the integrator is an attribute there)."""
    kwargs = dict(env_kwargs or {})
    # Attributes of the unwrapped env in gymnasium, arguments of default_params in fastcem.
    attributes = {k: kwargs.pop(k) for k in ("kinematics_integrator", "book_or_nips", "dt") if k in kwargs}
    env = gym.make(env_id, **kwargs)
    for name, value in attributes.items():
        setattr(env.unwrapped, name, value)
    return env


def gym_episode(theta: np.ndarray, env_id: str, reset_seed: int, env_kwargs: dict | None = None):
    """``(return, steps, terminated, truncated)`` of one gymnasium episode; rewards added in order."""
    env = make_env(env_id, env_kwargs)
    obs, _ = env.reset(seed=reset_seed)
    total, steps = 0.0, 0
    while True:
        obs, reward, terminated, truncated, _ = env.step(policy(theta, obs, env_id))
        total += float(reward)
        steps += 1
        if terminated or truncated:
            env.close()
            return total, steps, terminated, truncated


def numpy_episode(theta: np.ndarray, env_id: str, state: np.ndarray, max_steps: int) -> float:
    """The return from ``state``, stepping gymnasium's equations on numpy float64 scalars."""
    s = [np.float64(v) for v in state]
    total = 0.0
    for _ in range(max_steps):
        if env_id in CARTPOLE_IDS:
            obs = np.array(s, dtype=np.float32)
            x, x_dot, theta_, theta_dot = s
            force = 10.0 if policy(theta, obs, env_id) == 1 else -10.0
            total_mass = 0.1 + 1.0
            pml = 0.1 * 0.5
            costheta, sintheta = np.cos(theta_), np.sin(theta_)
            temp = (force + pml * np.square(theta_dot) * sintheta) / total_mass
            thetaacc = (9.8 * sintheta - costheta * temp) / (
                0.5 * (4.0 / 3.0 - 0.1 * np.square(costheta) / total_mass)
            )
            xacc = temp - pml * thetaacc * costheta / total_mass
            x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * xacc
            theta_, theta_dot = theta_ + 0.02 * theta_dot, theta_dot + 0.02 * thetaacc
            s = [x, x_dot, theta_, theta_dot]
            total += 1.0
            limit = 12 * 2 * math.pi / 360
            if x < -2.4 or x > 2.4 or theta_ < -limit or theta_ > limit:
                break
        else:
            th, thdot = s
            obs = np.array([np.cos(th), np.sin(th), thdot], dtype=np.float32)
            u = np.clip(policy(theta, obs, env_id), -2.0, 2.0)[0]
            norm = ((th + np.pi) % (2 * np.pi)) - np.pi
            costs = norm**2 + 0.1 * thdot**2 + 0.001 * (u**2)
            newthdot = thdot + (3 * 10.0 / (2 * 1.0) * np.sin(th) + 3.0 / (1.0 * 1.0**2) * u) * 0.05
            newthdot = np.clip(newthdot, -8, 8)
            s = [th + newthdot * 0.05, newthdot]
            total += float(-costs)
    return total


def balancing_cartpole_thetas(n: int, rng: np.random.Generator) -> np.ndarray:
    """CartPole policies around a PD controller that keeps the pole up for the whole TimeLimit
    from most starts: push right when ``0.1 x + 0.5 x_dot + 5 theta + 1 theta_dot > 0``."""
    theta = np.zeros((n, 10))
    theta[:, 1::2][:, :4] = [0.1, 0.5, 5.0, 1.0]  # W[:, 1]
    return theta + 0.05 * rng.standard_normal((n, 10))


def heapq_elites(rewards: np.ndarray, k: int) -> list[int]:
    """The reference's ``get_elite_indicies``."""
    return heapq.nlargest(k, range(len(rewards)), rewards.take)


class NaiveCEM:
    """The reference's CEM loop body written out plainly: heapq elites, mean/std of the elites,
    ``N(mean, diag(std**2 + extra_cov))`` sampled as mean + z * sqrt(diagonal) from the same
    generator calls as ``fastcem.CEM`` documents (uniform mean, then one standard_normal
    block per epoch)."""

    def __init__(self, dim: int, population: int, elite_frac: float, extra_std: float,
                 extra_decay_time: float, rng: np.random.Generator) -> None:
        self.rng = rng
        self.population, self.num_elite = population, int(population * elite_frac)
        self.extra_std, self.extra_decay_time = extra_std, extra_decay_time
        self.means = rng.uniform(size=dim)
        self.stds = np.ones(dim)
        self.epoch = 0
        self.history: dict[str, list] = {k: [] for k in ("epoch", "avg_rew", "std_rew", "avg_elites", "std_elites")}

    def ask(self) -> np.ndarray:
        extra_cov = max(1.0 - self.epoch / self.extra_decay_time, 0) * self.extra_std**2
        cov_diagonal = np.array(self.stds**2) + extra_cov
        z = self.rng.standard_normal((self.population, len(self.means)))
        return self.means + z * np.sqrt(cov_diagonal)

    def tell(self, thetas: np.ndarray, rewards: np.ndarray) -> None:
        indices = heapq_elites(rewards, self.num_elite)
        elites = thetas[indices]
        self.means = elites.mean(axis=0)
        self.stds = elites.std(axis=0)
        for key, value in (("epoch", self.epoch), ("avg_rew", np.mean(rewards)), ("std_rew", np.std(rewards)),
                           ("avg_elites", np.mean(rewards[indices])), ("std_elites", np.std(rewards[indices]))):
            self.history[key].append(value)
        self.epoch += 1
