"""Compile time: what a user's first run costs, from an empty numba cache and from a full one,
next to the reference's whole run (``python benchmarks/compile_time.py [--write-readme]``).

* The command line's runs, each in a fresh process, all sharing one empty ``NUMBA_CACHE_DIR``
  in this order: ``fastcem cartpole``, then ``fastcem pendulum``, then ``fastcem plan pendulum
  --episodes 2`` (cold: each compiles what the ones before it did not), then the three again
  (warm: everything loads from the cache).  Wall time of the whole command, imports included;
  the median of three such sequences, each with a new empty cache (this machine's speed
  drifts by a third from one minute to the next).
* The reference's whole CartPole run (``cem.py cartpole --epochs 8 --batch_size 4096`` with 2
  processes, ``reference_cem.run_cem``), in a fresh process, in the same session.
* fastcem's own modules are byte-compiled first, as ``pip install`` does: a Python with
  ``PYTHONDONTWRITEBYTECODE`` set (this machine's) would otherwise compile their source on
  every import, 0.1 s a run that no installed copy pays.
* Each kernel family alone: a fresh process with its own empty cache times its first call
  after ``import fastcem`` (compiling, plus the one run it makes).
"""

from __future__ import annotations

import compileall
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from common import machine, table_script

SECTION = "compile-time"
HERE = Path(__file__).resolve().parent
COMMANDS = (
    ("`fastcem cartpole`", ["cartpole", "--seed", "0"], 5.0),
    ("`fastcem pendulum`", ["pendulum", "--seed", "0"], 6.0),
    ("`fastcem plan pendulum --episodes 2`", ["plan", "pendulum", "--episodes", "2"], 7.0),
)
FAMILIES = (
    ("policy rollouts, CartPole exact", "fastcem.evaluate(np.zeros((2, 10)), 'CartPole-v1', seed=0)"),
    ("policy rollouts, Pendulum exact", "fastcem.evaluate(np.zeros((2, 4)), 'Pendulum-v1', seed=0)"),
    ("policy rollouts, Pendulum fast", "fastcem.evaluate(np.zeros((2, 4)), 'Pendulum-v1', seed=0, fast=True)"),
    ("elite selection", "fastcem.elite_indices(np.zeros(2), 1)"),
    ("planner, Pendulum exact",
     "fastcem.CEMPlanner('Pendulum-v1', plan_horizon=30, seed=0).plan(np.array([1.0, 0.0]))"),
    ("vector env, Pendulum", "e = fastcem.make_vec('Pendulum-v1', 4); e.reset(seed=0); e.step(np.zeros((4, 1)))"),
)
REFERENCE = "from reference_cem import run_cem; run_cem('CartPole-v0', epochs=8, batch_size=4096, num_process=2)"


def _run(args: list[str], cache: str, cwd: Path | None = None) -> float:
    """Wall seconds of ``python args`` in a fresh process with ``NUMBA_CACHE_DIR=cache``."""
    env = {**os.environ, "NUMBA_CACHE_DIR": cache}
    start = time.perf_counter()
    subprocess.run([sys.executable, *args], env=env, cwd=cwd, check=True, capture_output=True)
    return time.perf_counter() - start


def _first_call(code: str) -> float:
    """Seconds of ``code``'s first run after ``import fastcem``, in a fresh process with an
    empty cache."""
    script = ("import time, numpy as np, fastcem\n"
              f"t = time.perf_counter()\n{code}\nprint(time.perf_counter() - t)")
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        out = subprocess.run([sys.executable, "-c", script], env=env, check=True, capture_output=True, text=True)
    return float(out.stdout.strip().splitlines()[-1])


def _byte_compile() -> None:
    """Write the ``.pyc`` files of fastcem's packages, as ``pip install`` does."""
    import envs_native
    import fastcem

    for package in (fastcem, envs_native):
        compileall.compile_dir(Path(package.__file__).parent, quiet=1)


def measure(repeats: int = 3) -> str:
    _byte_compile()
    colds, warms = [], []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as cache:
            colds.append([_run(["-m", "fastcem", *args], cache) for _, args, _ in COMMANDS])
            warms.append([_run(["-m", "fastcem", *args], cache) for _, args, _ in COMMANDS])
    cold, warm = np.median(colds, axis=0), np.median(warms, axis=0)
    with tempfile.TemporaryDirectory() as cache:
        reference = _run(["-c", REFERENCE], cache, cwd=HERE)
    lines = [
        f"Measured on {machine()}, each run a fresh process; the median of {repeats} sequences.",
        "",
        "| command (cold: empty numba cache, in this order) | cold | target | warm |",
        "|---|---:|---:|---:|",
    ]
    for (name, _, target), c, w in zip(COMMANDS, cold, warm, strict=True):
        lines.append(f"| {name} | {c:.1f} s | ≤ {target:.0f} s | {w:.1f} s |")
    lines.append(f"| the reference's whole CartPole run (`cem.py`, 2 processes) | {reference:.1f} s | | |")
    lines += ["", "| kernel family (fresh process, empty cache) | first call |", "|---|---:|"]
    for name, code in FAMILIES:
        lines.append(f"| {name} | {_first_call(code):.2f} s |")
    return "\n".join(lines)


if __name__ == "__main__":
    table_script(__doc__, SECTION, measure)
