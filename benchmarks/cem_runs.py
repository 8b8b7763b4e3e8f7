"""Time the reference's whole CEM runs with ``fastcem.train`` and score what they learn in gymnasium;
print the two tables and a command-line example (``--write-readme`` writes them where their markers are,
in README.md or docs/*.md).

    python benchmarks/cem_runs.py [--repeats 7] [--seeds 10] [--write-readme]

Whole runs: the median over ``--repeats`` seeds of one ``train`` call's wall time, after a
warm-up call per run (so compilation is excluded), and of the part of its epoch loop spent
outside ``fastcem.evaluate`` (sampling, elite selection, refit, bookkeeping).

Quality: for seeds ``0 .. --seeds - 1``, the best candidate (and, for Pendulum, the final
mean) scored on 100 fresh gymnasium episodes per seed, next to the reference's figures.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

import fastcem
import fastcem.training
from fastcem._gym import gym_returns, sequential_mean

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    WRITE_HELP,
    P,
    check_sections,
    machine,
    replace_sections,
    train_env_steps,
)

RUNS_SECTION, QUALITY_SECTION, CLI_SECTION = "cem-runs", "cem-quality", "cli-example"
#: README's command-line example.
CLI_EXAMPLE = ("cartpole", "--seed", "0")
#: The reference's experiments: env and epochs, ``batch_size=P``.
RUNS: tuple[tuple[str, int], ...] = (("CartPole-v1", 8), ("CartPole-v0", 8), ("Pendulum-v1", 15))
#: Wall-time targets of the issues (#3: CEM, #5: the push), in seconds.
TARGETS = {"CartPole-v1": ((0.040, "#3"), (0.030, "#5")), "Pendulum-v1": ((0.100, "#5"),)}
WARMUP_SEED = 12345
EPISODES = 100  # fresh gymnasium episodes per scored policy
SOLVED = 475.0  # CartPole-v1's "solved" mean return, the issue's criterion for a seed
SOLVED_SEEDS = "at least 9 of 10"
REFERENCE = ("CartPole-v0: the elites reach the 200 cap by epoch 5; Pendulum-v0: population about −880 "
             "and elites about −70 at epoch 14")


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only the tables)."""
    print(message, file=sys.stderr, flush=True)


@contextmanager
def evaluate_timer() -> Iterator[list[float]]:
    """Patch ``fastcem.training.evaluate`` to add the seconds of every call to the yielded list."""
    inner = fastcem.training.evaluate
    spent: list[float] = []

    def timed(*args: Any, **kwargs: Any) -> NDArray[np.float64]:
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - start)

    fastcem.training.evaluate = timed  # type: ignore[assignment]
    try:
        yield spent
    finally:
        fastcem.training.evaluate = inner  # type: ignore[assignment]


@dataclass(frozen=True)
class RunTiming:
    """Medians over the timed runs of one experiment."""

    env_id: str
    epochs: int
    wall: float
    episodes_per_s: float
    steps_per_s: float
    overhead: float


def time_run(env_id: str, epochs: int, repeats: int) -> RunTiming:
    """Time ``train(env_id, epochs=epochs, batch_size=P, seed=s)`` for seeds ``0 .. repeats - 1``."""
    fastcem.train(env_id, epochs=epochs, batch_size=P, seed=WARMUP_SEED)  # compile, outside the timing
    walls, episodes, steps, overheads = [], [], [], []
    for seed in range(repeats):
        with evaluate_timer() as spent:
            start = time.perf_counter()
            result = fastcem.train(env_id, epochs=epochs, batch_size=P, seed=seed)
            wall = time.perf_counter() - start
        walls.append(wall)
        episodes.append(result.episodes / wall)
        steps.append(train_env_steps(result) / wall)
        overheads.append(result.wall_time - sum(spent))  # the epoch loop's own time, without setup
    progress(f"timed {env_id} {epochs}×{P}: median {np.median(walls) * 1e3:.1f} ms over {repeats} runs")
    return RunTiming(env_id, epochs, float(np.median(walls)), float(np.median(episodes)),
                     float(np.median(steps)), float(np.median(overheads)))


def rate(x: float) -> str:
    """A rate with a k/M suffix."""
    return f"{x / 1e6:.1f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def runs_table(timings: Sequence[RunTiming], repeats: int, command: str) -> str:
    """The whole-runs table and its notes."""
    rows = [f"| run (P = {P}) | wall time | episodes/s | env steps/s | loop overhead | target (issue): verdict |",
            "|---|---:|---:|---:|---:|---|"]
    for t in timings:
        verdict = "; ".join(
            f"≤ {target * 1e3:.0f} ms ({issue}): {'met' if t.wall <= target else 'not met'}"
            for target, issue in TARGETS.get(t.env_id, ())
        ) or "—"
        rows.append(f"| {t.env_id}, {t.epochs} epochs | {t.wall * 1e3:.1f} ms | {rate(t.episodes_per_s)} | "
                    f"{rate(t.steps_per_s)} | {t.overhead * 1e3:.2f} ms ({t.overhead / t.epochs * 1e3:.3f} ms/epoch) "
                    f"| {verdict} |")
    return "\n".join(rows + [
        "",
        f"One `fastcem.train(env_id, epochs=…, batch_size={P}, seed=s)` call, median over seeds "
        f"s = 0 … {repeats - 1}, after a warm-up call per run (compilation excluded).  Loop overhead is "
        "the epoch loop's time (`TrainResult.wall_time`) minus the time inside `fastcem.evaluate`: sampling, "
        "elite selection, refit and bookkeeping.  Env steps: CartPole earns 1 per step (the population mean "
        "return × P, summed over epochs); Pendulum runs 200 per episode.",
        "",
        f"Measured on: {machine()}.  Reproduce with `{command}`.",
    ])


@dataclass(frozen=True)
class SeedQuality:
    """What one seed's runs learned."""

    seed: int
    cartpole_v1: float
    cartpole_v0_epoch: int | None
    pendulum_pop: float
    pendulum_elites: float
    pendulum_best: float
    pendulum_mean: float


def gym_mean(theta: NDArray[np.float64], env_id: str, reset_seeds: NDArray[np.int64]) -> float:
    """The mean return of ``theta`` over real gymnasium episodes from ``reset_seeds``."""
    return sequential_mean(gym_returns(theta, env_id, reset_seeds))


def first_capped_epoch(result: fastcem.TrainResult) -> int | None:
    """The first epoch whose elites' mean return is the TimeLimit cap, or None."""
    cap = fastcem.max_episode_steps(result.env_id)
    hits = np.flatnonzero(result.history["avg_elites"] >= cap)
    return int(result.history["epoch"][hits[0]]) if hits.size else None


def score_seed(seed: int) -> SeedQuality:
    """Train the reference's experiments with ``seed`` and score them on fresh gymnasium episodes."""
    reset_seeds = np.random.default_rng(10**6 + seed).integers(2**31, size=EPISODES)
    epochs = dict(RUNS)
    cartpole = fastcem.train("CartPole-v1", epochs=epochs["CartPole-v1"], batch_size=P, seed=seed)
    v0 = fastcem.train("CartPole-v0", epochs=epochs["CartPole-v0"], batch_size=P, seed=seed)
    pendulum = fastcem.train("Pendulum-v1", epochs=epochs["Pendulum-v1"], batch_size=P, seed=seed)
    return SeedQuality(
        seed=seed,
        cartpole_v1=gym_mean(cartpole.best_theta, "CartPole-v1", reset_seeds),
        cartpole_v0_epoch=first_capped_epoch(v0),
        pendulum_pop=float(pendulum.history["avg_rew"][-1]),
        pendulum_elites=float(pendulum.history["avg_elites"][-1]),
        pendulum_best=gym_mean(pendulum.best_theta, "Pendulum-v1", reset_seeds),
        pendulum_mean=gym_mean(pendulum.mean, "Pendulum-v1", reset_seeds),
    )


def quality_table(scores: Sequence[SeedQuality], command: str) -> str:
    """The per-seed quality table, its medians and the reference's figures."""
    epochs = dict(RUNS)
    last = epochs["Pendulum-v1"] - 1
    cap = fastcem.max_episode_steps("CartPole-v0")
    rows = [f"| seed | CartPole-v1: best θ, gym mean | CartPole-v0: first epoch elites = {cap} | "
            f"Pendulum-v1 epoch {last}: population | elites | best θ, gym mean | final mean, gym mean |",
            "|---:|---:|---:|---:|---:|---:|---:|"]

    def epoch(e: float | None) -> str:
        return f"not by {epochs['CartPole-v0'] - 1}" if e is None or not np.isfinite(e) else f"{e:g}"

    for s in scores:
        rows.append(f"| {s.seed} | {s.cartpole_v1:.1f} | {epoch(s.cartpole_v0_epoch)} | {s.pendulum_pop:.1f} | "
                    f"{s.pendulum_elites:.1f} | {s.pendulum_best:.1f} | {s.pendulum_mean:.1f} |")

    def median(get: Callable[[SeedQuality], float | None]) -> float:
        return float(np.median([np.inf if get(s) is None else get(s) for s in scores]))

    rows.append(f"| median | {median(lambda s: s.cartpole_v1):.1f} | {epoch(median(lambda s: s.cartpole_v0_epoch))} | "
                f"{median(lambda s: s.pendulum_pop):.1f} | {median(lambda s: s.pendulum_elites):.1f} | "
                f"{median(lambda s: s.pendulum_best):.1f} | {median(lambda s: s.pendulum_mean):.1f} |")
    solved = sum(s.cartpole_v1 >= SOLVED for s in scores)
    return "\n".join(rows + [
        "",
        f"CartPole-v1 ({epochs['CartPole-v1']} epochs × {P}): {solved} of {len(scores)} seeds score ≥ {SOLVED:g} "
        f"(the issue's criterion: {SOLVED_SEEDS}).  Gym means are over {EPISODES} fresh gymnasium episodes per "
        f"seed, reset seeds `np.random.default_rng(10**6 + seed).integers(2**31, size={EPISODES})`; CartPole-v0 "
        f"and Pendulum-v1 run {epochs['CartPole-v0']} and {last + 1} epochs × {P}; epochs are numbered from 0.",
        "",
        f"The reference's published figures: {REFERENCE}.  Reproduce with `{command}`.",
    ])


def cli_example() -> str:
    """A real run of ``fastcem cartpole --seed 0``, as README shows it."""
    res = subprocess.run([sys.executable, "-m", "fastcem", *CLI_EXAMPLE], capture_output=True, text=True, check=True)
    return "\n".join([
        "```text",
        f"$ fastcem {' '.join(CLI_EXAMPLE)}",
        res.stdout.rstrip(),
        "```",
        "",
        "(one run on the machine of the tables below, written by `benchmarks/cem_runs.py`; timings vary).",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per experiment (default 7)")
    parser.add_argument("--seeds", type=int, default=10, help="seeds scored for quality (default 10)")
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    args = parser.parse_args()
    if args.repeats < 1 or args.seeds < 1:
        parser.error("--repeats and --seeds must be at least 1")
    if args.write_readme:
        check_sections(RUNS_SECTION, QUALITY_SECTION, CLI_SECTION)  # fail before measuring, not after
    command = f"python benchmarks/cem_runs.py --repeats {args.repeats} --seeds {args.seeds}"
    load = os.getloadavg()[0]
    if load > 0.5:
        progress(f"warning: 1-minute load average {load:.2f} before timing; other processes slow the runs down")
    runs = runs_table([time_run(env_id, epochs, args.repeats) for env_id, epochs in RUNS], args.repeats, command)
    scores = []
    for seed in range(args.seeds):
        scores.append(score_seed(seed))
        progress(f"scored seed {seed + 1}/{args.seeds}")
    quality = quality_table(scores, command)
    example = cli_example()
    print(runs, quality, example, sep="\n\n")
    if args.write_readme:
        replace_sections({RUNS_SECTION: runs, QUALITY_SECTION: quality, CLI_SECTION: example})


if __name__ == "__main__":
    main()
