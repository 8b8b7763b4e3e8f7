"""Measure ``fastcem.evaluate`` and print its table (``--write-readme`` writes it where its markers are).

    python benchmarks/evaluate_throughput.py [--write-readme]
"""

from __future__ import annotations

import sys
from pathlib import Path

import numba

sys.path.insert(0, str(Path(__file__).parent))
from common import (
    balancing_cartpole,
    cold_and_warm_first_result,
    machine,
    pendulum_population,
    steps_per_second,
    table_script,
)

SECTION = "evaluate-benchmark"


def table() -> str:
    threads = sorted({1, numba.config.NUMBA_NUM_THREADS})
    rows = ["| env (P = 4096, full-length episodes) | " + " | ".join(f"{t} thread{'s' * (t > 1)}" for t in threads)
            + f" | speed-up 1 → {threads[-1]} |", "|---|" + "---:|" * (len(threads) + 1)]
    for env_id, make in (("CartPole-v1", balancing_cartpole), ("Pendulum-v1", pendulum_population)):
        rates = [steps_per_second(env_id, make(), t) for t in threads]
        cells = " | ".join(f"{r / 1e6:.1f}M steps/s" for r in rates)
        rows.append(f"| {env_id} | {cells} | {rates[-1] / rates[0]:.2f}× |")
    cold, warm = cold_and_warm_first_result()
    rows += ["", f"Fresh process, `import fastcem` to first `evaluate` result: {cold:.2f} s with a cold "
             f"compile cache, {warm:.2f} s with a warm one.", "", f"Measured on: {machine()}."]
    return "\n".join(rows)


def main() -> None:
    table_script(__doc__, SECTION, table)


if __name__ == "__main__":
    main()
