"""gymnasium's classic control in fastcem: throughput against gymnasium's vector envs (and
gymnax's JAX envs where the ``gymnax`` extra is installed) in one run, and what CEM learns
on Acrobot and the MountainCars (``--write-readme`` writes the two tables where their markers are,
in README.md or docs/*.md).

    python benchmarks/classic_control.py [--seeds 10] [--quick] [--write-readme]

Throughput: ``fastcem.evaluate`` of the reference's epoch-0 population (P = 4096, mean
``U(0, 1)``, std ``sqrt(5)``), every candidate from ``reset(seed=0)``, 2 threads, exact and
fast mode, median of 7 calls; env steps counted from each candidate's episode length
(``fastcem.rollout``).  gymnasium: ``make_vec`` with the same policy batched in numpy (a
``SyncVectorEnv`` where gymnasium has no vectorized version), over the first 20 batch steps.
gymnax: one ``jax.jit``-compiled ``lax.scan`` of the ``vmap``-ed step (float32, not
gymnasium's arithmetic).

Quality: for seeds ``0 .. --seeds - 1``, ``fastcem.train`` with the reference's settings (8
epochs × 4096, one episode per candidate, initial mean ``U(0, 1)`` and std 1, extra std 2
decaying over 10 epochs, elite fraction 0.2) and, for the MountainCars, with the command
line's settings for them (``fastcem.cli.TRAIN_SETTINGS``); the best candidate and the final
mean each scored on 100 fresh episodes in gymnasium.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np

import fastcem
from fastcem._gym import gym_returns, sequential_mean
from fastcem.cli import TRAIN_SETTINGS

sys.path.insert(0, str(Path(__file__).parent))
from baselines import (
    gymnax_available,
    gymnax_evaluator,
    seed_epoch0_population,
    vector_env_kind,
    vector_evaluate,
)
from common import WRITE_HELP, P, check_sections, machine, replace_sections

SPEED_SECTION, QUALITY_SECTION = "classic-control-speed", "classic-control-quality"
ENVS = ("CartPole-v1", "Pendulum-v1", "Acrobot-v1", "MountainCar-v0", "MountainCarContinuous-v0")
#: The classic-control issue's targets, exact mode, P = 4096, 2 threads (steps/s).
TARGETS = {"Acrobot-v1": 20e6, "MountainCar-v0": 150e6, "MountainCarContinuous-v0": 150e6}
THREADS = 2
SYNC_BATCH_STEPS = 20
EPISODES = 100
THRESHOLDS = {env_id: gymnasium.spec(env_id).reward_threshold for env_id in ENVS}


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def rate(x: float) -> str:
    return f"{x / 1e6:.1f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def episode_steps(thetas: np.ndarray, env_id: str, reset_seed: int) -> int:
    """Steps of each candidate's episode from ``reset(seed=reset_seed)``, summed."""
    return sum(len(fastcem.rollout(theta, env_id, reset_seed)) for theta in thetas)


def evaluate_rate(env_id: str, thetas: np.ndarray, steps: int, fast: bool, repeats: int) -> float:
    fastcem.evaluate(thetas, env_id, reset_seeds=[0], num_threads=THREADS, fast=fast)  # compile or load
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fastcem.evaluate(thetas, env_id, reset_seeds=[0], num_threads=THREADS, fast=fast)
        times.append(time.perf_counter() - start)
    return steps / float(np.median(times))


def speed_table(quick: bool) -> str:
    size = 512 if quick else P
    repeats = 3 if quick else 7
    jax = gymnax_available()
    rows = [f"| env (P = {size}, the reference's epoch-0 population) | exact | fast | gymnasium vector env | "
            f"exact / gymnasium | gymnax (JAX) | target, exact: verdict |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for env_id in ENVS:
        thetas = seed_epoch0_population(env_id, size)
        steps = episode_steps(thetas, env_id, 0)
        exact = evaluate_rate(env_id, thetas, steps, False, repeats)
        fast = evaluate_rate(env_id, thetas, steps, True, repeats)
        kind = vector_env_kind(env_id)
        env = gymnasium.make_vec(env_id, num_envs=size, vectorization_mode=kind)
        cap = SYNC_BATCH_STEPS if kind == "sync" else None
        start = time.perf_counter()
        vector = vector_evaluate(env, thetas, seed=0, max_batch_steps=cap) / (time.perf_counter() - start)
        env.close()
        gymnax = "not installed"
        if jax:
            try:
                play = gymnax_evaluator(env_id, thetas)
                play()
                start = time.perf_counter()
                gymnax = rate(play() / (time.perf_counter() - start))
            except Exception as exc:  # an env gymnax does not have, or a JAX failure: say so
                gymnax = f"— ({type(exc).__name__})"
        target = TARGETS.get(env_id)
        verdict = "—" if target is None else f"≥ {rate(target)}: {'met' if exact >= target else 'not met'}"
        vector_note = "SyncVectorEnv" if kind == "sync" else "numpy-vectorized"
        rows.append(f"| {env_id} ({steps / size:.0f} steps/episode) | {rate(exact)} | {rate(fast)} | "
                    f"{rate(vector)} ({vector_note}) | {exact / vector:,.0f}× | {gymnax} | {verdict} |")
        progress(rows[-1])
    return "\n".join(rows + [
        "",
        f"Env steps/s of `fastcem.evaluate` ({THREADS} threads, every candidate from `reset(seed=0)`, median of "
        f"{repeats} calls) and of gymnasium's `make_vec` stepping the same linear policies batched in numpy "
        f"(a `SyncVectorEnv` over its first {SYNC_BATCH_STEPS} batch steps where gymnasium has no vectorized "
        "env).  gymnax computes in float32: not gymnasium's numbers.",
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/classic_control.py`.",
    ])


def gym_score(theta: np.ndarray, env_id: str, rng: np.random.Generator) -> float:
    return sequential_mean(gym_returns(theta, env_id, rng.integers(2**31, size=EPISODES)))


def quality_rows(env_id: str, settings: dict[str, Any], label: str, seeds: int, batch_size: int) -> list[str]:
    best, final, seconds = [], [], []
    kwargs = {k: v for k, v in settings.items() if k != "init_std"}
    std = np.array(settings.get("init_std", 1.0))
    for seed in range(seeds):
        start = time.perf_counter()
        result = fastcem.train(env_id, batch_size=batch_size, seed=seed, std=std, **kwargs)
        seconds.append(time.perf_counter() - start)
        rng = np.random.default_rng(10_000 + seed)
        best.append(gym_score(result.best_theta, env_id, rng))
        final.append(gym_score(result.mean, env_id, rng))
        progress(f"{env_id} {label} seed {seed}: best {best[-1]:.1f}, mean {final[-1]:.1f}, {seconds[-1]:.1f} s")
    threshold = THRESHOLDS[env_id]
    reached = [max(b, f) >= threshold for b, f in zip(best, final, strict=True)]

    def summary(xs: Sequence[float]) -> str:
        return f"{np.median(xs):.1f} [{min(xs):.1f}, {max(xs):.1f}]"

    setting = ", ".join(f"{k} {v}" for k, v in settings.items() if k != "init_std")
    if "init_std" in settings:
        setting += ("; " if setting else "") + f"initial std {settings['init_std']}"
    return [f"| {env_id} | {label}: {setting or 'as the reference'} | {summary(best)} | {summary(final)} | "
            f"{threshold:g} | {sum(b >= threshold for b in best)} / {sum(f >= threshold for f in final)} / "
            f"{sum(reached)} of {seeds} | {np.median(seconds):.1f} s |"]


REFERENCE_SETTINGS: dict[str, Any] = {"epochs": 8}


def quality_table(seeds: int, quick: bool) -> str:
    batch_size = 512 if quick else P
    rows = ["| env | settings | best θ: median [min, max] | final mean: median [min, max] | threshold | "
            "seeds reaching it: best / mean / either | train time |", "|---|---|---:|---:|---:|---|---:|"]
    rows += quality_rows("Acrobot-v1", REFERENCE_SETTINGS, "the reference's", seeds, batch_size)
    for env_id in ("MountainCar-v0", "MountainCarContinuous-v0"):
        rows += quality_rows(env_id, REFERENCE_SETTINGS, "the reference's", seeds, batch_size)
        rows += quality_rows(env_id, {**REFERENCE_SETTINGS, **TRAIN_SETTINGS[env_id]}, "fastcem train's", seeds,
                             batch_size)
    return "\n".join(rows + [
        "",
        f"`fastcem.train(env_id, batch_size={batch_size}, seed=s, ...)` for seeds s = 0 … {seeds - 1}; the best "
        f"candidate (`best_theta`) and the final mean each scored on {EPISODES} fresh gymnasium episodes.  "
        "Unlisted settings are the reference's (extra std 2 decaying over 10 epochs, elite fraction 0.2, "
        "initial mean U(0, 1), initial std 1, one episode per candidate).",
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/classic_control.py`.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10, help="training seeds per row (default %(default)s)")
    parser.add_argument("--quick", action="store_true", help="small populations (a smoke test, not for the docs)")
    parser.add_argument("--skip-quality", action="store_true", help="the throughput table only")
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    args = parser.parse_args()
    if args.write_readme:
        if args.quick:
            parser.error("--quick results do not go into the docs")
        check_sections(SPEED_SECTION, *(() if args.skip_quality else (QUALITY_SECTION,)))
    sections = {SPEED_SECTION: speed_table(args.quick)}
    print(sections[SPEED_SECTION])
    if not args.skip_quality:
        sections[QUALITY_SECTION] = quality_table(args.seeds, args.quick)
        print(sections[QUALITY_SECTION])
    if args.write_readme:
        replace_sections(sections)


if __name__ == "__main__":
    main()
