"""Populations and measurements shared by the benchmark suite and the README script."""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path

import numba
import numpy as np

import fastcem

P = 4096
README = Path(__file__).resolve().parent.parent / "README.md"


def balancing_cartpole(n: int = P, seed: int = 0) -> np.ndarray:
    """CartPole policies that keep the pole up for the whole TimeLimit from almost every start."""
    rng = np.random.default_rng(seed)
    theta = np.zeros((n, 10))
    theta[:, 1::2][:, :4] = [0.1, 0.5, 5.0, 1.0]
    return theta + 0.05 * rng.standard_normal((n, 10))


def pendulum_population(n: int = P, seed: int = 0) -> np.ndarray:
    """Any Pendulum policy plays the full 200 steps."""
    return np.random.default_rng(seed).standard_normal((n, 4))


def env_steps(env_id: str, thetas: np.ndarray, returns: np.ndarray) -> int:
    """Steps played: CartPole earns 1 per step; Pendulum episodes always run 200 steps."""
    if env_id.startswith("CartPole"):
        return int(returns.sum())
    return len(thetas) * fastcem.max_episode_steps(env_id)


def steps_per_second(env_id: str, thetas: np.ndarray, num_threads: int, repeats: int = 7, fast: bool = False) -> float:
    """Median env-steps/s of ``evaluate`` over ``repeats`` calls (after one warm-up call);
    ``fast`` selects the opt-in fast mode."""
    returns = fastcem.evaluate(thetas, env_id, seed=0, num_threads=num_threads, fast=fast)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fastcem.evaluate(thetas, env_id, seed=0, num_threads=num_threads, fast=fast)
        times.append(time.perf_counter() - start)
    return env_steps(env_id, thetas, returns) / float(np.median(times))


# The high-water mark is the process's own VmHWM: ru_maxrss survives exec, so a child of a
# large process would start at its parent's size.
_PEAK_MEMORY = (
    "import re, sys, numpy as np, fastcem;"
    "hwm = lambda: int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1));"
    "fastcem.evaluate(np.zeros((64, 10)), 'CartPole-v1', seed=0);"
    "base = hwm();"
    "thetas = np.random.default_rng(0).standard_normal((int(sys.argv[1]), 10));"
    "fastcem.evaluate(thetas, 'CartPole-v1', seed=0);"
    "print((hwm() - base) * 1024 / thetas.nbytes)"
)


def peak_memory_ratio(num_candidates: int = 1_000_000) -> float:
    """In a fresh process: the peak memory of evaluating ``num_candidates`` CartPole policies
    (the theta array included) above the interpreter's after its first ``evaluate``, as a
    multiple of the theta array's size (Linux ``VmHWM``, in KiB).

    A first, small run fills numba's cache: compiling in the measured process would raise
    its high-water mark before the baseline is read, and hide the evaluation's peak."""
    subprocess.run([sys.executable, "-c", _PEAK_MEMORY, "64"], capture_output=True, check=True)
    out = subprocess.run([sys.executable, "-c", _PEAK_MEMORY, str(num_candidates)], capture_output=True,
                         text=True, check=True)
    ratio = float(out.stdout.strip())
    if ratio <= 0.0:
        raise RuntimeError(f"peak memory not measured: the high-water mark did not move ({ratio})")
    return ratio


_FIRST_CALL = (
    "import time; t0 = time.perf_counter(); import numpy as np, fastcem;"
    "fastcem.evaluate(np.zeros((64, 10)), 'CartPole-v1', seed=0);"
    "print(time.perf_counter() - t0)"
)


def first_result_seconds(cache_dir: str) -> float:
    """Seconds from a fresh interpreter's ``import fastcem`` to its first ``evaluate`` result."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    out = subprocess.run([sys.executable, "-c", _FIRST_CALL], env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip())


def cold_and_warm_first_result() -> tuple[float, float]:
    """(cold compile cache, warm compile cache) import-to-first-result seconds."""
    with tempfile.TemporaryDirectory() as cache:
        return first_result_seconds(cache), first_result_seconds(cache)


def train_env_steps(result: fastcem.TrainResult, batch_size: int = P) -> int:
    """Steps played by a one-episode-per-candidate ``train`` run: CartPole earns 1 per step, so
    an epoch plays its population mean return times ``batch_size``; Pendulum always runs 200."""
    if result.env_id.startswith("CartPole"):
        return round(float(result.history["avg_rew"].sum()) * batch_size)
    return result.episodes * fastcem.max_episode_steps(result.env_id)


def machine() -> str:
    """The processor, CPU count, numba's threads and threading layer, Python and numba versions."""
    layer: str
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        layer = "not yet chosen"
    return (f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
            f"{numba.config.NUMBA_NUM_THREADS} numba threads ({layer} threading layer), "
            f"Python {platform.python_version()}, numba {numba.__version__}")


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def _section(name: str) -> re.Pattern[str]:
    begin, end = _markers(name)
    return re.compile(re.escape(begin) + ".*?" + re.escape(end), flags=re.S)


def check_readme_sections(*names: str) -> None:
    """Exit with a one-line message if README.md lacks (or repeats) the marker pair of any section."""
    readme = README.read_text()
    problems = []
    for name in names:
        begin, end = _markers(name)
        n = len(_section(name).findall(readme))
        if n != 1:
            problems.append(f"{'no' if n == 0 else n} {begin} ... {end} block{'s' * (n > 1)}")
    if problems:
        sys.exit(f"README.md has {' and '.join(problems)}; nothing written")


def replace_readme_sections(sections: Mapping[str, str]) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` in README.md
    with ``text``, for every ``name: text``; all or nothing (see :func:`check_readme_sections`)."""
    check_readme_sections(*sections)
    readme = README.read_text()
    for name, text in sections.items():
        begin, end = _markers(name)
        match = _section(name).search(readme)
        assert match is not None  # checked above
        readme = f"{readme[:match.start()]}{begin}\n{text}\n{end}{readme[match.end():]}"
    README.write_text(readme)


def publish(section: str, measure: Callable[[], str], write_readme: bool) -> None:
    """Measure, print the table, and with ``write_readme`` put it in README's ``section``
    (whose markers are checked before measuring, not after)."""
    if write_readme:
        check_readme_sections(section)
    text = measure()
    print(text)
    if write_readme:
        replace_readme_sections({section: text})


def table_script(doc: str, section: str, measure: Callable[[], str]) -> None:
    """The ``main`` of a script with one README table and no options but ``--write-readme``:
    ``doc`` is the script's docstring (its first line the ``--help`` description)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true", help="replace the table in README.md")
    publish(section, measure, parser.parse_args().write_readme)

