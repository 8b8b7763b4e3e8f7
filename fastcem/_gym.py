"""Linear policies in real gymnasium envs: scoring a result the way a gymnasium user would,
and recording a video of it.

The policy's action comes from the same compiled code as :func:`fastcem.evaluate` uses;
everything else (reset, step, TimeLimit, rewards) is gymnasium's own.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from .mlp import MLP
from .policies import gym_policy


def play(env: Any, theta: NDArray[np.float64], env_id: str, reset_seed: int, policy: MLP | None = None) -> float:
    """Play one episode of ``theta`` (the linear policy, or ``policy``) in the gymnasium env
    ``env`` from ``reset(seed=reset_seed)``; the rewards are added in step order."""
    act = gym_policy(theta, env_id, policy=policy)
    obs, _ = env.reset(seed=int(reset_seed))
    total = 0.0
    while True:
        obs, reward, terminated, truncated, _ = env.step(act(obs))
        total += float(reward)
        if terminated or truncated:
            return total


def sequential_mean(values: Iterable[float]) -> float:
    """The mean with the values added in order, as :func:`fastcem.evaluate` averages episodes
    (numpy's ``mean`` sums pairwise, and Python 3.12's ``sum`` compensates)."""
    total = 0.0
    count = 0
    for v in values:
        total += float(v)
        count += 1
    return total / count


def gym_returns(theta: NDArray[np.float64], env_id: str, reset_seeds: Iterable[int],
                policy: MLP | None = None) -> NDArray[np.float64]:
    """The return of ``theta`` (the linear policy, or ``policy``) in ``gymnasium.make(env_id)``
    for each reset seed."""
    import gymnasium

    env = gymnasium.make(env_id)
    try:
        return np.array([play(env, theta, env_id, s, policy) for s in reset_seeds])
    finally:
        env.close()


VIDEO_EXTRA_HINT = "install the rendering extra: pip install 'fastcem[video]'"


def check_video_support() -> None:
    """Raise ImportError naming the missing package if videos cannot be rendered and written."""
    for package in ("pygame", "moviepy"):
        if importlib.util.find_spec(package) is None:
            raise ImportError(f"recording a video needs {package}; {VIDEO_EXTRA_HINT}")


def record_video(theta: NDArray[np.float64], env_id: str, folder: str | os.PathLike[str], reset_seed: int,
                 policy: MLP | None = None) -> float:
    """Record one episode of ``theta`` with gymnasium's ``RecordVideo`` into ``folder``; returns its return."""
    check_video_support()
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        # Headless: frames are drawn off-screen anyway; without this SDL complains on stderr
        # that it has no display to open.
        os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    import gymnasium
    from gymnasium.wrappers import RecordVideo

    env = RecordVideo(
        gymnasium.make(env_id, render_mode="rgb_array"),
        video_folder=os.fspath(folder),
        name_prefix=f"fastcem-{env_id}",
        episode_trigger=lambda episode: True,
        disable_logger=True,
    )
    try:
        return play(env, theta, env_id, reset_seed, policy)
    finally:
        env.close()
