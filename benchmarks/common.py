"""Populations and measurements shared by the benchmark suite and the scripts that write the
tables of README.md and docs/*.md.

A script's table goes between ``<!-- name:begin -->`` and ``<!-- name:end -->`` markers,
in whichever of README.md and docs/*.md holds them (:func:`section_files`): moving a table
to another page is moving its markers, and no script changes."""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import numba
import numpy as np

import fastcem

P = 4096
ROOT = Path(__file__).resolve().parent.parent
#: ``--help`` of every script's ``--write-readme``.
WRITE_HELP = "replace the script's tables in README.md or docs/*.md, wherever their markers are"


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


def _cpu() -> str:
    """The processor's model name (Linux) and LLVM's name for it, which says what numba compiles for."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import llvmlite.binding as llvm

    return f"{model} (LLVM: {llvm.get_host_cpu_name()})"


def machine() -> str:
    """The processor, CPU count, numba's threads and threading layer, Python and numba versions."""
    layer: str
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run yet in this process
        layer = "not yet chosen"
    return (f"{_cpu()}, {os.cpu_count()} CPUs, "
            f"{numba.config.NUMBA_NUM_THREADS} numba threads ({layer} threading layer), "
            f"Python {platform.python_version()}, numba {numba.__version__}")


def _markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:begin -->", f"<!-- {name}:end -->"


def _section(name: str) -> re.Pattern[str]:
    begin, end = _markers(name)
    return re.compile(re.escape(begin) + ".*?" + re.escape(end), flags=re.S)


def doc_files(root: Path = ROOT) -> list[Path]:
    """The files a generated section may live in: README.md and docs/*.md under ``root``."""
    return [root / "README.md", *sorted((root / "docs").glob("*.md"))]


def section_files(*names: str, files: Sequence[Path] | None = None) -> dict[str, Path]:
    """The file holding each section's ``<!-- name:begin -->`` ... ``<!-- name:end -->`` pair,
    looked up in ``files`` (default :func:`doc_files`).  Exits with a one-line message, writing
    nothing, if a section is in no file, in more than one, or twice in one."""
    files = doc_files() if files is None else list(files)
    texts = {path: path.read_text() for path in files if path.exists()}
    found: dict[str, Path] = {}
    problems = []
    for name in names:
        begin, end = _markers(name)
        counts = {path: n for path, text in texts.items() if (n := len(_section(name).findall(text)))}
        if len(counts) == 1 and set(counts.values()) == {1}:
            found[name] = next(iter(counts))
        elif not counts:
            problems.append(f"no {begin} ... {end} block in {' or '.join(_shown(p) for p in files)}")
        else:
            where = ", ".join(f"{n} in {_shown(p)}" for p, n in counts.items())
            problems.append(f"{begin} ... {end} blocks more than once ({where})")
    if problems:
        sys.exit(f"{'; '.join(problems)}; nothing written")
    return found


def _shown(path: Path) -> str:
    """``path`` relative to the repository, when it is in it."""
    try:
        return path.relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


def check_sections(*names: str, files: Sequence[Path] | None = None) -> None:
    """Exit with a one-line message unless each section's marker pair is in exactly one of
    README.md and docs/*.md, once (see :func:`section_files`)."""
    section_files(*names, files=files)


def replace_sections(sections: Mapping[str, str], files: Sequence[Path] | None = None) -> None:
    """Replace the text between ``<!-- name:begin -->`` and ``<!-- name:end -->`` with ``text``,
    for every ``name: text``, in whichever of README.md and docs/*.md holds the section; all or
    nothing (see :func:`section_files`)."""
    where = section_files(*sections, files=files)
    for path in dict.fromkeys(where.values()):
        doc = path.read_text()
        for name, text in sections.items():
            if where[name] != path:
                continue
            begin, end = _markers(name)
            match = _section(name).search(doc)
            assert match is not None  # checked above
            doc = f"{doc[:match.start()]}{begin}\n{text}\n{end}{doc[match.end():]}"
        path.write_text(doc)


def publish(section: str, measure: Callable[[], str], write_readme: bool) -> None:
    """Measure, print the table, and with ``write_readme`` put it in ``section`` of the page that
    holds it (whose markers are checked before measuring, not after)."""
    if write_readme:
        check_sections(section)
    text = measure()
    print(text)
    if write_readme:
        replace_sections({section: text})


def table_script(doc: str, section: str, measure: Callable[[], str]) -> None:
    """The ``main`` of a script with one table and no options but ``--write-readme``: ``doc``
    is the script's docstring (its first line the ``--help`` description)."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    publish(section, measure, parser.parse_args().write_readme)
