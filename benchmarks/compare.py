"""Compare fastcem with the reference (ADGEfficiency/cem's ``cem.py`` in gymnasium, ``reference_cem.py``)
and gymnasium's vector envs in one session; print the tables and write the plot
(``--write-readme`` also puts them into the ``compare`` section, in README.md or docs/*.md).

    python benchmarks/compare.py [--quick] [--plot benchmarks/throughput.png] [--write-readme]

* Population evaluation, env-steps/s, at P = 256, 4096 and 65536 on three tasks (see
  ``baselines.TASKS``): ``fastcem.evaluate`` with 2 threads (and 1 at P = 4096); the reference's
  way, a ``Pool(2)`` mapping its ``evaluate_theta`` (a fresh env per episode) over the first
  ``min(P, N)`` candidates; gymnasium's vector env with the policy batched in numpy
  (``CartPoleVectorEnv``, or ``SyncVectorEnv`` for Pendulum at P <= 4096, over a bounded number
  of batch steps).  The bounds are in the table.
* The reference's whole runs: ``fastcem.train`` against the reference's ``run_cem(num_process=2)``
  with the same epochs and batch size (``--quick`` runs smaller ones, and says so).
* Import to first result from a cold and a warm compile cache, planner decisions/s, and
  ``evaluate`` on 1 and 2 threads.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import redirect_stdout
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fastcem

sys.path.insert(0, str(Path(__file__).parent))
from baselines import (
    NUM_PROCESS,
    TASKS,
    gymnax_available,
    gymnax_evaluator,
    make_vector_env,
    reference_evaluate,
    vector_env_kind,
    vector_evaluate,
)
from common import (
    ROOT,
    WRITE_HELP,
    cold_and_warm_first_result,
    machine,
    peak_memory_ratio,
    replace_sections,
    section_files,
    steps_per_second,
    train_env_steps,
)
from reference_cem import run_cem

SECTION = "compare"
SIZES = (256, 4096, 65536)
THREADS = 2
PLOT = Path(__file__).resolve().parent / "throughput.png"
#: SyncVectorEnv steps Python envs one by one (~85k steps/s here): larger P would take minutes.
SYNC_MAX_P = 4096
TRAIN_REPEATS = 5  # fastcem.train runs per whole-run row (median); the reference runs once
PLAN_CALLS = 50
PLAN_ROUNDS = 7


@dataclass(frozen=True)
class Budget:
    """How much of the slow libraries' work is timed."""

    reference_episodes: int  # the reference scores the first min(P, this) candidates
    sync_batch_steps: int  # SyncVectorEnv batch steps timed when P > 256 (all sub-envs run them)
    runs: tuple[tuple[str, int, int], ...]  # whole runs: (env id, epochs, batch size)


FULL = Budget(2048, 50, (("CartPole-v1", 8, 4096), ("Pendulum-v1", 15, 4096)))
QUICK = Budget(512, 20, (("CartPole-v1", 4, 1024), ("Pendulum-v1", 3, 512)))


@dataclass(frozen=True)
class Cell:
    """A measured rate (env steps per second) and what was timed, when not everything."""

    rate: float
    timed: str = ""


def progress(message: str) -> None:
    """A progress line on stderr (stdout carries only the tables)."""
    print(message, file=sys.stderr, flush=True)


def warn_if_busy(seconds: float = 1.0) -> None:
    """Warn on stderr when other processes take CPU time now (sampled over ``seconds``): fastcem's
    threads wait for each other, so a competing process slows its 2-thread figures down most."""
    before = cpu_seconds_of_others()
    time.sleep(seconds)
    taken = cpu_seconds_of_others() - before
    if taken > 0.1 * seconds:  # NaN (no /proc/stat) compares false
        progress(f"warning: other processes are using {taken / seconds:.1f} CPUs; they slow the runs down")


def cpu_seconds_of_others() -> float:
    """CPU seconds the whole machine has been busy (``/proc/stat``) less those of this process
    and its reaped children (the reference's workers, the first-result subprocesses); NaN
    where ``/proc/stat`` is missing.  Its growth over a run is what other processes took."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return float("nan")
    busy = sum(int(x) for i, x in enumerate(fields[:8]) if i != 3 and i != 4)  # all but idle and iowait
    return busy / os.sysconf("SC_CLK_TCK") - sum(os.times()[:4])


def time_steps(play: Callable[[], int], rounds: int) -> float:
    """Env-steps/s of ``play`` (which returns the steps it played): median over ``rounds`` calls."""
    times, steps = [], 0
    for _ in range(rounds):
        start = time.perf_counter()
        steps = play()
        times.append(time.perf_counter() - start)
    return steps / float(np.median(times))


def rate(x: float) -> str:
    """A rate with a k/M suffix."""
    return f"{x / 1e6:.1f}M" if x >= 1e6 else f"{x / 1e3:.1f}k" if x < 1e5 else f"{x / 1e3:.0f}k"


def ratio(x: float) -> str:
    """A speed-up factor."""
    return f"{x:,.0f}×" if x >= 10 else f"{x:.1f}×"


# ---------------------------------------------------------------- population evaluation


@dataclass(frozen=True)
class EvalRow:
    """One task at one population size."""

    task: str
    size: int
    fastcem: Cell
    fastcem_fast: Cell
    fastcem_1: Cell | None
    reference: Cell
    vector: Cell | None
    gymnax: Cell | None


def measure_row(task: str, size: int, budget: Budget) -> EvalRow:
    """Time the three ways of scoring a population of ``size`` candidates on ``task``."""
    env_id, make, _ = TASKS[task]
    thetas = make(size)
    repeats = 31 if size <= 256 else 7
    fast = Cell(steps_per_second(env_id, thetas, THREADS, repeats=repeats))
    fast_mode = Cell(steps_per_second(env_id, thetas, THREADS, repeats=repeats, fast=True))
    fast_1 = Cell(steps_per_second(env_id, thetas, 1)) if size == 4096 else None

    n_ref = min(size, budget.reference_episodes)
    subset = thetas[:n_ref]
    reference = Cell(time_steps(lambda: reference_evaluate(subset, env_id), rounds=3 if n_ref <= 256 else 1),
                     "" if n_ref == size else f"first {n_ref:,} episodes")

    vector: Cell | None = None
    kind = vector_env_kind(env_id)
    if kind != "sync" or size <= SYNC_MAX_P:
        env = make_vector_env(env_id, size)  # made once, outside the timing, as a user would
        cap = None if kind != "sync" or size <= 256 else budget.sync_batch_steps
        vector = Cell(time_steps(lambda: vector_evaluate(env, thetas, seed=0, max_batch_steps=cap),
                                 rounds=3 if size <= 4096 else 1),
                      "" if cap is None else f"first {cap} of {fastcem.max_episode_steps(env_id)} batch steps")
        env.close()
    jax_env: Cell | None = None
    if gymnax_available():
        play = gymnax_evaluator(env_id, thetas)
        play()  # compile outside the timing
        jax_env = Cell(time_steps(play, rounds=3))
    progress(f"evaluate {task} P={size}: fastcem {rate(fast.rate)} (fast mode {rate(fast_mode.rate)}), "
             f"reference {rate(reference.rate)}, vector env {'—' if vector is None else rate(vector.rate)}, "
             f"gymnax {'—' if jax_env is None else rate(jax_env.rate)} steps/s")
    return EvalRow(task, size, fast, fast_mode, fast_1, reference, vector, jax_env)


def cell(c: Cell | None) -> str:
    if c is None:
        return "—"
    return rate(c.rate) + (f" ({c.timed})" if c.timed else "")


def eval_table(rows: Sequence[EvalRow], budget: Budget) -> str:
    """The evaluation-throughput table and its notes."""
    lines = [f"| env-steps/s | P | fastcem, {THREADS} threads | fastcem fast mode | reference, Pool({NUM_PROCESS}) "
             "| gymnasium vector env | gymnax (JAX) | fastcem ÷ reference | fastcem ÷ vector env | fastcem ÷ gymnax |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for i, r in enumerate(rows):
        fast = cell(r.fastcem) + (f" (1 thread: {rate(r.fastcem_1.rate)})" if r.fastcem_1 else "")
        vs_vector = "—" if r.vector is None else ratio(r.fastcem.rate / r.vector.rate)
        vs_gymnax = "—" if r.gymnax is None else ratio(r.fastcem.rate / r.gymnax.rate)
        label = TASKS[r.task][2] if i == 0 or rows[i - 1].task != r.task else ""
        lines.append(f"| {label} | {r.size:,} | {fast} | {cell(r.fastcem_fast)} | {cell(r.reference)} | "
                     f"{cell(r.vector)} | {cell(r.gymnax)} | {ratio(r.fastcem.rate / r.reference.rate)} | "
                     f"{vs_vector} | {vs_gymnax} |")
    gymnax = ("gymnax: its JAX envs (`gymnax.make(env_id)`, float32), `vmap`-ed over the population and "
              "stepped in one `jax.jit`-compiled `lax.scan` with the linear policy in JAX, the first "
              "episode's steps counted, compilation excluded (extra `gymnax`)." if gymnax_available()
              else "gymnax (JAX) is not installed, so its column is empty (`pip install -e .[gymnax]`).")
    lines += [
        "",
        "Env steps are the steps of one episode per candidate (CartPole earns 1 per step; Pendulum runs 200).  "
        f"fastcem: `fastcem.evaluate(thetas, env_id, seed=0, num_threads={THREADS})` (exact: bit-identical to "
        "gymnasium; fast mode: `fast=True`, polynomial sin/cos), the median of repeated calls "
        f"after a warm-up.  Ratios are the exact mode's.  Reference: a `Pool({NUM_PROCESS})` created and mapped over "
        "the candidates' "
        "`evaluate_theta` (a fresh `gymnasium.make` per episode), as in one epoch of the reference; for P > "
        f"{budget.reference_episodes:,} only the first {budget.reference_episodes:,} candidates are played.  "
        "Gymnasium vector env: `gymnasium.make_vec(env_id, num_envs=P)`, made once outside the timing, reset and "
        "stepped with the linear policy computed for the whole batch in numpy; CartPole uses gymnasium's numpy "
        "`CartPoleVectorEnv`, stepped until every sub-env's first episode has ended, and only steps of sub-envs "
        "still in their first episode are counted (finished ones are reset and stepped along uncounted); "
        "Pendulum has no batched env in gymnasium, so `SyncVectorEnv` (P Python envs stepped in turn), "
        f"at P ≤ {SYNC_MAX_P:,} only, and for P > 256 over its first {budget.sync_batch_steps} batch steps, "
        f"which all P sub-envs play.  {gymnax}",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- whole runs and the rest


@dataclass(frozen=True)
class RunRow:
    """One of the reference's whole runs, by both programs."""

    env_id: str
    epochs: int
    batch_size: int
    fastcem_wall: float
    fastcem_fast_wall: float
    fastcem_elites: float
    reference_wall: float
    reference_elites: float


def measure_run(env_id: str, epochs: int, batch_size: int) -> RunRow:
    """``fastcem.train`` (median over seeds, after a warm-up) and one ``run_cem`` of the same size."""
    fastcem.train(env_id, epochs=epochs, batch_size=batch_size, seed=12345)  # compile outside the timing
    walls, results = [], []
    for seed in range(TRAIN_REPEATS):
        start = time.perf_counter()
        results.append(fastcem.train(env_id, epochs=epochs, batch_size=batch_size, seed=seed))
        walls.append(time.perf_counter() - start)
    first = results[0]
    fastcem.train(env_id, epochs=epochs, batch_size=batch_size, seed=12345, fast=True)
    fast_walls = []
    for seed in range(TRAIN_REPEATS):
        start = time.perf_counter()
        fastcem.train(env_id, epochs=epochs, batch_size=batch_size, seed=seed, fast=True)
        fast_walls.append(time.perf_counter() - start)
    progress(f"fastcem.train {env_id} {epochs}×{batch_size}: median {np.median(walls) * 1e3:.1f} ms "
             f"({train_env_steps(first, batch_size) / np.median(walls) / 1e6:.1f}M steps/s); now the reference")
    np.random.seed(0)  # noqa: NPY002 -- the reference draws from numpy's global RNG
    with redirect_stdout(sys.stderr):  # its epoch lines are progress here
        history, wall = run_cem(env_id, epochs=epochs, batch_size=batch_size, num_process=NUM_PROCESS)
    return RunRow(env_id, epochs, batch_size, float(np.median(walls)), float(np.median(fast_walls)),
                  float(first.history["avg_elites"][-1]), wall, float(history["avg_elites"][-1]))


def seconds(x: float) -> str:
    return f"{x * 1e3:.1f} ms" if x < 1 else f"{x:.2f} s" if x < 10 else f"{x:.1f} s"


def plan_decisions_per_second() -> float:
    """Decisions/s of the issue's Pendulum planner: the median over ``PLAN_ROUNDS`` rounds of
    ``PLAN_CALLS`` calls, after a warm-up (one round is about 50 ms, short enough for a
    hiccup of the machine to show)."""
    planner = fastcem.CEMPlanner("Pendulum-v1", plan_horizon=30, num_candidates=1000, top_k=100, num_iters=5,
                                 action_bounds=(-2.0, 2.0), seed=0)
    state = np.array([np.pi, 0.0])
    planner.plan(state)  # compile or load outside the timing
    rates = []
    for _ in range(PLAN_ROUNDS):
        start = time.perf_counter()
        for _ in range(PLAN_CALLS):
            planner.plan(state)
        rates.append(PLAN_CALLS / (time.perf_counter() - start))
    return float(np.median(rates))


def other_table(runs: Sequence[RunRow], first_result: tuple[float, float], plans: float,
                threads: tuple[float, float], full: bool) -> str:
    """Whole runs, first result, planning and threads."""
    cold, warm = first_result
    one, two = threads
    lines = [f"| | fastcem | reference (`run_cem`, Pool({NUM_PROCESS})) | fastcem ÷ reference |",
             "|---|---:|---:|---:|"]
    for r in runs:
        lines.append(f"| whole run: {r.env_id}, {r.epochs} epochs × {r.batch_size:,} | {seconds(r.fastcem_wall)} "
                     f"(fast mode {seconds(r.fastcem_fast_wall)}) | {seconds(r.reference_wall)} | "
                     f"{ratio(r.reference_wall / r.fastcem_wall)} |")
    lines += [
        f"| fresh process, `import fastcem` to first `evaluate` result | {cold:.2f} s cold cache, {warm:.2f} s warm "
        "| — | — |",
        f"| planner decisions/s (Pendulum-v1, H = 30, N = 1000, top 100, 5 iterations) | {plans:,.0f} | — | — |",
        f"| `evaluate` env-steps/s, CartPole-v1 balancing, P = 4,096: 1 → {THREADS} threads | {rate(one)} → "
        f"{rate(two)} ({two / one:.2f}×) | — | — |",
        "",
        "Whole runs: the same epochs and batch size for both"
        + ("" if full else " (`--quick`: smaller than the reference's 8 × 4096 and 15 × 4096)")
        + f"; fastcem is the median of `fastcem.train(…, seed=s)` for s = 0 … {TRAIN_REPEATS - 1} after a warm-up "
        "call (compilation excluded, see the next row), the reference one `run_cem(…, num_process="
        f"{NUM_PROCESS})` after `np.random.seed(0)`.  Last epoch's elite mean return, fastcem (seed 0) / reference: "
        + "; ".join(f"{r.env_id} {r.fastcem_elites:.1f} / {r.reference_elites:.1f}" for r in runs)
        + " (one run each: Pendulum's differ a lot from seed to seed, see Quality).  The cold-cache first result "
        f"includes compiling the kernels (about {cold - warm:.1f} s).  The planner's rate is the median of "
        f"{PLAN_ROUNDS} rounds of {PLAN_CALLS} `plan` calls from the state (π, 0), after a warm-up call.",
    ]
    return "\n".join(lines)


# ---------------------------------------------------------------- the push's targets


def targets_table(rows: Sequence[EvalRow], runs: Sequence[RunRow], memory: float, full: bool) -> str:
    """Issue 5's targets (2 threads, P = 4096) with what this run measured."""

    def at(task: str) -> EvalRow:
        return next(r for r in rows if r.task == task and r.size == 4096)

    balancing, epoch0, pendulum = at("cartpole-balancing"), at("cartpole-epoch0"), at("pendulum-epoch0")
    assert balancing.fastcem_1 is not None
    items: list[tuple[str, str, bool]] = [
        ("exact mode, CartPole-v1 (balancing) ≥ 200M steps/s", rate(balancing.fastcem.rate),
         balancing.fastcem.rate >= 200e6),
        ("exact mode, Pendulum-v1 ≥ 100M steps/s", rate(pendulum.fastcem.rate), pendulum.fastcem.rate >= 100e6),
        ("fast mode, CartPole-v1 (balancing) ≥ 300M steps/s", rate(balancing.fastcem_fast.rate),
         balancing.fastcem_fast.rate >= 300e6),
        ("fast mode, Pendulum-v1 ≥ 200M steps/s", rate(pendulum.fastcem_fast.rate),
         pendulum.fastcem_fast.rate >= 200e6),
        ("random epoch-0 CartPole population ≥ 120M steps/s", rate(epoch0.fastcem.rate), epoch0.fastcem.rate >= 120e6),
        ("1 → 2 threads ≥ 1.9×", f"{balancing.fastcem.rate / balancing.fastcem_1.rate:.2f}×",
         balancing.fastcem.rate / balancing.fastcem_1.rate >= 1.9),
        ("evaluating 1M candidates peaks below 2 × the theta array above the baseline", f"{memory:.2f} ×",
         memory < 2.0),
    ]
    if full:
        limits = {"CartPole-v1": 0.030, "Pendulum-v1": 0.100}
        for r in runs:
            for mode, wall in (("exact", r.fastcem_wall), ("fast mode", r.fastcem_fast_wall)):
                items.append((f"`train` {r.env_id}, {r.epochs} × {r.batch_size:,} ≤ {limits[r.env_id] * 1e3:.0f} ms "
                              f"({mode})", seconds(wall), wall <= limits[r.env_id]))
    lines = ["| target (issue 5; 2 threads, P = 4,096) | measured | |", "|---|---:|---|"]
    lines += [f"| {name} | {value} | {'met' if ok else '**not met**'} |" for name, value, ok in items]
    return "\n".join(lines)


# ---------------------------------------------------------------- plot and main


def plot(rows: Sequence[EvalRow], path: Path) -> None:
    """Log-log env-steps/s against P, one panel per task, one line per library."""
    from matplotlib.figure import Figure

    tasks = list(dict.fromkeys(r.task for r in rows))
    fig = Figure(figsize=(4.2 * len(tasks), 4.2), layout="constrained")
    axes = fig.subplots(1, len(tasks), sharey=True, squeeze=False)[0]
    for ax, task in zip(axes, tasks, strict=True):
        mine = [r for r in rows if r.task == task]
        series: list[tuple[str, str, Callable[[EvalRow], Cell | None]]] = [
            (f"fastcem, {THREADS} threads", "o-", lambda r: r.fastcem),
            (f"fastcem fast mode, {THREADS} threads", "v--", lambda r: r.fastcem_fast),
            ("fastcem, 1 thread", "D", lambda r: r.fastcem_1),
            (f"reference, Pool({NUM_PROCESS})", "s-", lambda r: r.reference),
            ("gymnasium vector env", "^-", lambda r: r.vector),
            ("gymnax (JAX)", "x-", lambda r: r.gymnax),
        ]
        for label, style, get in series:
            pts = [(r.size, c) for r in mine if (c := get(r)) is not None]
            if not pts:
                continue
            (line,) = ax.plot([p for p, _ in pts], [c.rate for _, c in pts], style, label=label)
            for size, c in pts:
                if c.timed:  # only part of the work timed: a hollow marker
                    ax.plot(size, c.rate, style[0], color=line.get_color(), markerfacecolor="white")
        ax.set(xscale="log", yscale="log", xlabel="population size P", title=TASKS[task][2].replace(" (", "\n("))
        ax.title.set_fontsize(9)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("env steps per second")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=4, fontsize=9)
    fig.suptitle("One episode per candidate, linear policies; hollow markers: a bounded part of the work timed "
                 "(see the table)", fontsize=9)
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="time fewer reference episodes and vector-env steps, and smaller whole runs")
    parser.add_argument("--plot", type=Path, default=PLOT,
                        help=f"the PNG to write (default {PLOT.relative_to(ROOT)})")
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    args = parser.parse_args()
    # The page holding the section (README.md or docs/*.md; checked before measuring, not after):
    # the plot's link is relative to it.  A printed table's link is relative to the repository.
    page = section_files(SECTION)[SECTION] if args.write_readme else ROOT / "README.md"
    budget = QUICK if args.quick else FULL
    warn_if_busy()
    started = time.perf_counter()
    others_before = cpu_seconds_of_others()

    first_result = cold_and_warm_first_result()
    progress(f"first result: {first_result[0]:.2f} s cold, {first_result[1]:.2f} s warm")
    rows = [measure_row(task, size, budget) for task in TASKS for size in SIZES]
    balancing = next(r for r in rows if r.task == "cartpole-balancing" and r.size == 4096)
    assert balancing.fastcem_1 is not None
    plans = plan_decisions_per_second()
    progress(f"planner: {plans:,.0f} decisions/s")
    runs = [measure_run(*run) for run in budget.runs]
    memory = peak_memory_ratio()
    progress(f"evaluating 1M candidates: peak {memory:.2f} x the theta array")

    others = cpu_seconds_of_others() - others_before
    if others > 0.05 * (time.perf_counter() - started):  # NaN (no /proc/stat) compares false
        progress(f"warning: other processes used {others:.1f} CPU-seconds while this ran; the figures may be low")
    plot(rows, args.plot)
    progress(f"wrote {args.plot}; measuring took {time.perf_counter() - started:.0f} s")
    command = "python benchmarks/compare.py" + (" --quick" if args.quick else "")
    text = "\n".join([
        eval_table(rows, budget),
        "",
        f"![throughput vs population]({Path(os.path.relpath(args.plot.resolve(), page.parent)).as_posix()})",
        "",
        other_table(runs, first_result, plans, (balancing.fastcem_1.rate, balancing.fastcem.rate), not args.quick),
        "",
        targets_table(rows, runs, memory, not args.quick),
        "",
        f"Measured on: {machine()}.  Reproduce with `{command}`.",
    ])
    print(text)
    if args.write_readme:
        replace_sections({SECTION: text})


if __name__ == "__main__":
    main()
