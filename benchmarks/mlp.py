"""Network policies (``fastcem.MLP``): throughput of ``evaluate`` against a batched numpy MLP
rollout and gymnax with a JAX MLP (where the ``gymnax`` extra is installed) in one run, the
peak memory of a large population, and what limits the figure (``--write-readme`` writes the
tables where their markers are, in README.md or docs/*.md).

    python benchmarks/mlp.py [--write-readme]

* Pendulum-v1, ``MLP((64, 64), "tanh")``, P = 4096 random networks (std 0.1), 200-step
  episodes; CartPole-v1, ``MLP((16,), "tanh")``, P = 4096 networks drawn around a trained
  balancing one (episodes mostly of 500 steps).  ``fastcem.evaluate`` with 2 threads, median
  of 5 calls.
* numpy: the same networks batched over the population (``einsum`` per layer) stepping a
  numpy-vectorized copy of the env's dynamics, every candidate at once (the way one would
  write it without fastcem; not gymnasium's bits), over the first 50 steps.
* gymnax: ``jax.jit`` of a ``lax.scan`` over the steps of the ``vmap``-ed env and MLP.
* Memory: a fresh process evaluating P = 65,536 candidates of ``MLP((64, 64))`` on Pendulum,
  its peak resident memory above the interpreter's after a first small call, next to the
  size of the parameters themselves.
* What limits it, measured on the same machine in the same run: every step reads each
  candidate's weights once (8 bytes a weight, no reuse within a step) and computes one
  ``tanh`` per hidden unit.  A row's cache bandwidth is that of ``THREADS`` threads each
  summing a working set the size of its worker's (8 lanes' weights: in L1 or L2 by their
  size) over and over; the ``tanh`` rate that of
  ``fastcem.mlp.tanh_ops`` over an L1-resident array, per thread times ``THREADS``.  The
  ceiling is ``1 / (weight bytes / bandwidth + tanhs / tanh rate)`` env steps/s per second of
  ``THREADS`` threads: the two costs added, the env's own step left out.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

import fastcem
from envs_native import env_info
from fastcem import MLP
from fastcem._parallel import run_workers
from fastcem._rollout import worker_lanes
from fastcem.mlp import split, tanh_numpy, tanh_numpy32, tanh_ops, tanh_ops32

sys.path.insert(0, str(Path(__file__).parent))
from baselines import gymnax_available
from common import WRITE_HELP, check_sections, machine, replace_sections

SECTION, QUALITY_SECTION = "mlp-benchmark", "mlp-quality"
DOCS = Path(__file__).resolve().parent.parent / "docs"
#: The settings of the quality table: what worked (mean 0 instead of the reference's U(0, 1),
#: a small std, several episodes per candidate, a small elite fraction).
QUALITY: dict[str, tuple[MLP, dict[str, Any], int, float]] = {
    "CartPole-v1": (MLP((16,), "tanh"), {"epochs": 20, "std": 0.3, "extra_std": 0.3, "episodes": 5,
                                         "elite_frac": 0.1}, 10, 475.0),
    "Pendulum-v1": (MLP((16,), "tanh"), {"epochs": 60, "std": 1.0, "extra_std": 1.0, "episodes": 10,
                                         "elite_frac": 0.05}, 5, -250.0),
}
P = 4096
THREADS = 2
TARGETS = {"Pendulum-v1": 5e6, "CartPole-v1": 40e6}
NUMPY_STEPS = 50


def rate(x: float) -> str:
    return f"{x / 1e6:.2f}M" if x >= 1e6 else f"{x / 1e3:.0f}k"


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def populations() -> list[tuple[str, MLP, np.ndarray]]:
    """The rows: each env's network in the default type (float32, the targets' rows), then
    the same candidates in float64."""
    rng = np.random.default_rng(0)
    pend = MLP((64, 64), "tanh")
    pend_thetas = 0.1 * rng.standard_normal((P, fastcem.policy_dim("Pendulum-v1", pend)))
    cart = MLP((16,), "tanh")
    trained = fastcem.train("CartPole-v1", epochs=8, batch_size=P, seed=0, policy=cart)
    cart_thetas = trained.mean + 0.05 * rng.standard_normal((P, fastcem.policy_dim("CartPole-v1", cart)))
    return [(env_id, net, thetas) for env_id, default, thetas in
            (("Pendulum-v1", pend, pend_thetas), ("CartPole-v1", cart, cart_thetas))
            for net in (default, MLP(default.hidden, default.activation, "float64"))]


def name(policy: MLP) -> str:
    dtype = "" if policy.dtype == "float32" else f", dtype={policy.dtype!r}"
    return f"`MLP({policy.hidden}, {policy.activation!r}{dtype})`"


def steps_of(env_id: str, thetas: np.ndarray, policy: MLP) -> int:
    if env_id == "CartPole-v1":
        return int(fastcem.evaluate(thetas, env_id, seed=0, policy=policy).sum())  # 1 per step
    return len(thetas) * fastcem.max_episode_steps(env_id)


def fastcem_rate(env_id: str, thetas: np.ndarray, policy: MLP) -> float:
    steps = steps_of(env_id, thetas, policy)
    times = []
    for _ in range(5):
        start = time.perf_counter()
        fastcem.evaluate(thetas, env_id, seed=0, policy=policy, num_threads=THREADS)
        times.append(time.perf_counter() - start)
    return steps / float(np.median(times))


def _numpy_forward(layers: list[tuple[np.ndarray, np.ndarray]], obs: np.ndarray) -> np.ndarray:
    dtype = layers[0][0].dtype
    x = obs.astype(dtype)
    for n, (w, b) in enumerate(layers):
        x = np.einsum("pi,pij->pj", x, w) + b
        if n < len(layers) - 1:
            x = tanh_numpy32(x) if dtype == np.float32 else tanh_numpy(x)
    return x


def numpy_rate(env_id: str, thetas: np.ndarray, policy: MLP) -> float:
    """Env-steps/s of the numpy batched rollout (dynamics vectorized over the population)."""
    info = env_info(env_id)
    act_dim = info.act_dim
    sizes = policy.sizes(info.obs_dim, act_dim)
    per = [split(t, sizes, policy.np_dtype) for t in thetas]
    layers = [(np.stack([p.weights[n] for p in per]), np.stack([p.biases[n] for p in per]))
              for n in range(len(sizes) - 1)]
    rng = np.random.default_rng(0)
    start = time.perf_counter()
    if env_id == "Pendulum-v1":
        th, thdot = rng.uniform(-np.pi, np.pi, P), rng.uniform(-1, 1, P)
        for _ in range(NUMPY_STEPS):
            obs = np.stack([np.cos(th), np.sin(th), thdot], axis=1).astype(np.float32)
            u = np.clip(_numpy_forward(layers, obs)[:, 0], -2.0, 2.0)
            thdot = np.clip(thdot + (3 * 10.0 / 2 * np.sin(th) + 3.0 * u) * 0.05, -8, 8)
            th = th + thdot * 0.05
    else:
        s = rng.uniform(-0.05, 0.05, (P, 4))
        for _ in range(NUMPY_STEPS):
            a = _numpy_forward(layers, s.astype(np.float32)).argmax(axis=1)
            force = np.where(a == 1, 10.0, -10.0)
            cos, sin = np.cos(s[:, 2]), np.sin(s[:, 2])
            temp = (force + 0.05 * s[:, 3] ** 2 * sin) / 1.1
            thacc = (9.8 * sin - cos * temp) / (0.5 * (4 / 3 - 0.1 * cos**2 / 1.1))
            xacc = temp - 0.05 * thacc * cos / 1.1
            s = s + 0.02 * np.stack([s[:, 1], xacc, s[:, 3], thacc], axis=1)
    return P * NUMPY_STEPS / (time.perf_counter() - start)


def gymnax_rate(env_id: str, thetas: np.ndarray, policy: MLP) -> str:
    if not gymnax_available():
        return "not installed"
    import gymnax
    import jax
    import jax.numpy as jnp

    env, params = gymnax.make(env_id)
    info = env_info(env_id)
    sizes = policy.sizes(info.obs_dim, info.act_dim)
    per = [split(t, sizes) for t in thetas]
    layers = [(jnp.asarray(np.stack([p.weights[n] for p in per])), jnp.asarray(np.stack([p.biases[n] for p in per])))
              for n in range(len(sizes) - 1)]
    steps = int(params.max_steps_in_episode)
    reset = jax.vmap(env.reset, in_axes=(0, None))
    step = jax.vmap(env.step, in_axes=(0, 0, 0, None))
    discrete = info.discrete

    def forward(obs: Any) -> Any:
        x = obs
        for n, (w, b) in enumerate(layers):
            x = jnp.einsum("pi,pij->pj", x, w) + b
            if n < len(layers) - 1:
                x = jnp.tanh(x)
        return jnp.argmax(x, axis=-1) if discrete else jnp.clip(x[:, 0], -2.0, 2.0)

    @jax.jit
    def play(key: Any) -> Any:
        key, sub = jax.random.split(key)
        obs, state = reset(jax.random.split(sub, P), params)

        def body(carry: Any, _: Any) -> Any:
            obs, state, alive, count, total, key = carry
            key, sub = jax.random.split(key)
            out = step(jax.random.split(sub, P), state, forward(obs), params)
            done = out[3] | out[4] if len(out) == 6 else out[3]
            total = total + jnp.where(alive, out[2], 0.0)
            return (out[0], out[1], alive & ~done, count + alive, total, key), None

        init = (obs, state, jnp.ones(P, dtype=bool), jnp.zeros(P, dtype=jnp.int32), jnp.zeros(P), key)
        (_, _, _, count, total, _), _ = jax.lax.scan(body, init, None, length=steps)
        # The returns are an output too: Pendulum's episode lengths do not depend on the
        # physics or the network, and XLA drops what no output needs.
        return count.sum(), total

    key = jax.random.PRNGKey(0)
    play(key)[1].block_until_ready()  # compile
    start = time.perf_counter()
    count, total = play(key)
    total.block_until_ready()
    n = int(count)
    return rate(n / (time.perf_counter() - start))


_PEAK = (
    "import re, sys, numpy as np, fastcem;"
    "hwm = lambda: int(re.search(r'VmHWM:\\s*(\\d+)', open('/proc/self/status').read()).group(1));"
    "p = fastcem.MLP((64, 64));"
    "fastcem.evaluate(np.zeros((64, fastcem.policy_dim('Pendulum-v1', p))), 'Pendulum-v1', seed=0, policy=p);"
    "base = hwm();"
    "thetas = 0.1 * np.random.default_rng(0).standard_normal((65536, fastcem.policy_dim('Pendulum-v1', p)));"
    "fastcem.evaluate(thetas, 'Pendulum-v1', seed=0, policy=p);"
    "print((hwm() - base) * 1024 / thetas.nbytes, thetas.nbytes)"
)


def peak_memory() -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", _PEAK], capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), int(out[1])


@njit(nogil=True, fastmath=True)
def _stream(data: np.ndarray, repeats: int) -> float:
    """Read ``data`` ``repeats`` times (a sum the compiler may reorder: only the reads matter)."""
    total = 0.0
    for _ in range(repeats):
        for i in range(data.shape[0]):
            total += data[i]
    return total


@njit(nogil=True, error_model="numpy")
def _tanhs(x: np.ndarray, out: np.ndarray, repeats: int) -> None:
    for r in range(repeats):
        for i in range(x.shape[0]):
            out[i] = tanh_ops(x[i] + r * 1e-3)


@njit(nogil=True, error_model="numpy")
def _tanhs32(x: np.ndarray, out: np.ndarray, repeats: int) -> None:
    step = np.float32(1e-3)
    for r in range(repeats):
        shift = np.float32(r) * step
        for i in range(x.shape[0]):
            out[i] = tanh_ops32(x[i] + shift)


def _per_second(work: Callable[[int], None], units: float) -> float:
    """``units`` of ``work`` on each of ``THREADS`` threads at once, per second (best of 5)."""
    best = np.inf
    for _ in range(5):
        start = time.perf_counter()
        run_workers(THREADS, work)
        best = min(best, time.perf_counter() - start)
    return THREADS * units / best


def cache_bandwidth(nbytes: int) -> float:
    """Bytes/s that ``THREADS`` threads read from working sets of ``nbytes`` each (a worker's:
    the weights of its lanes' candidates)."""
    buffers = [np.random.default_rng(w).standard_normal(nbytes // 8) for w in range(THREADS)]
    repeats = max(1, int(2e8 // buffers[0].size))
    _stream(buffers[0], 1)
    return _per_second(lambda w: _stream(buffers[w], repeats), buffers[0].nbytes * repeats)


def tanh_rate(dtype: Any) -> float:
    """``tanh_ops`` (float64) or ``tanh_ops32`` (float32) per second on ``THREADS`` threads (64
    values at a time, in L1)."""
    kernel = _tanhs32 if dtype == np.float32 else _tanhs
    xs = [np.random.default_rng(w).standard_normal(64).astype(dtype) for w in range(THREADS)]
    outs = [np.empty(64, dtype) for _ in range(THREADS)]
    repeats = 200_000
    kernel(xs[0], outs[0], 1)
    return _per_second(lambda w: kernel(xs[w], outs[w], repeats), 64 * repeats)


def limit_row(env_id: str, policy: MLP, measured: float, tanhs: float) -> str:
    """The ceiling of one row: its weights read at the bandwidth measured on its own working set
    (its lanes' candidates' weights: in L1 or L2 by their size), plus its ``tanh``s."""
    info = env_info(env_id)
    weights = policy.num_params(info.obs_dim, info.act_dim)
    size = np.dtype(policy.np_dtype).itemsize
    lanes = worker_lanes(policy, 0, info.obs_dim, info.act_dim)
    working_set = lanes * size * weights
    bandwidth = cache_bandwidth(working_set)
    units = sum(policy.hidden) if policy.activation == "tanh" else 0
    ceiling = 1 / (size * weights / bandwidth + units / tanhs)
    progress(f"{env_id} {policy.dtype}: {bandwidth / 1e9:.1f} GB/s from a working set of {working_set / 1024:.0f} KiB")
    return (f"| {env_id}, {name(policy)} | {weights:,} ({size * weights / 1024:.1f} KiB) "
            f"| {lanes} × {size * weights / 1024:.1f} KiB at {bandwidth / 1e9:.0f} GB/s | {units} | "
            f"{rate(ceiling)} steps/s | {rate(measured)} steps/s | {measured / ceiling:.0%} |")


def table() -> str:
    rows = ["| env, policy (P = 4096) | fastcem | numpy batched | fastcem / numpy | gymnax + JAX MLP | "
            "target: verdict |", "|---|---:|---:|---:|---:|---|"]
    measured = []
    nets = populations()
    for env_id, policy, thetas in nets:
        ours = fastcem_rate(env_id, thetas, policy)
        measured.append(ours)
        base = numpy_rate(env_id, thetas, policy)
        # gymnax's networks compute in float32: the column for the float32 rows.
        jax_cell = gymnax_rate(env_id, thetas, policy) if policy.dtype == "float32" else "—"
        target = TARGETS[env_id] if policy == MLP(policy.hidden, policy.activation) else None
        verdict = "—" if target is None else f"≥ {rate(target)}: {'met' if ours >= target else 'not met'}"
        rows.append(f"| {env_id}, {name(policy)} | {rate(ours)} steps/s | {rate(base)} | {ours / base:.1f}× | "
                    f"{jax_cell} | {verdict} |")
        progress(rows[-1])
    ratio, nbytes = peak_memory()
    tanhs = {dtype: tanh_rate(dtype) for dtype in (np.float32, np.float64)}
    progress(f"tanh {tanhs[np.float32] / 1e9:.2f} G/s float32, {tanhs[np.float64] / 1e9:.2f} G/s float64 "
             f"({THREADS} threads)")
    limits = ["| env, policy | weights read a step | a worker's weights, read at | tanh a step | ceiling | fastcem | "
              "of the ceiling |", "|---|---:|---:|---:|---:|---:|---:|"]
    limits += [limit_row(env_id, policy, ours, tanhs[policy.np_dtype])
               for (env_id, policy, _), ours in zip(nets, measured, strict=True)]
    return "\n".join(rows + [
        "",
        f"Env steps/s, {THREADS} threads.  numpy batched: the same networks (in the same type) over the whole "
        f"population with `einsum` and a numpy copy of the dynamics, {NUMPY_STEPS} steps (not gymnasium's bits).  "
        f"Peak memory of `evaluate` on P = 65,536 `MLP((64, 64))` Pendulum candidates: {ratio:.2f}× the "
        f"parameters' {nbytes / 2**20:.0f} MiB above the interpreter's.",
        "",
        "What limits it: every step reads each candidate's weights once and computes one `tanh` per hidden "
        f"unit.  Measured in this run on {THREADS} threads: the bytes/s read from a worker's working set "
        "(its lanes' candidates' weights: 32 lanes of a small network, fewer of a large one), and "
        f"{tanhs[np.float32] / 1e9:.2f}G float32 `tanh`s/s (`fastcem.mlp.tanh_ops32`), "
        f"{tanhs[np.float64] / 1e9:.2f}G float64 ones (`tanh_ops`), in L1.  The ceiling adds the two costs of a "
        "step and leaves out the env's own:",
        "",
        *limits,
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/mlp.py`.",
    ])


def quality_table() -> str:
    """Train each env's network with its settings for seeds 0 .. n - 1; score the best
    candidate and the final mean on 100 fresh gymnasium episodes; plot seed 0's history."""
    from fastcem._gym import gym_returns, sequential_mean
    from fastcem.plotting import plot_history

    rows = ["| env, policy | settings | seeds | best θ: median [min, max] | final mean: median [min, max] | "
            "goal | seeds reaching it: best / mean | train time |", "|---|---|---:|---:|---:|---:|---|---:|"]
    for env_id, (policy, settings, seeds, goal) in QUALITY.items():
        best, final, times = [], [], []
        for seed in range(seeds):
            start = time.perf_counter()
            result = fastcem.train(env_id, batch_size=P, seed=seed, policy=policy,
                                   mean=np.zeros(fastcem.policy_dim(env_id, policy)), **settings)
            times.append(time.perf_counter() - start)
            reset_seeds = np.random.default_rng(10_000 + seed).integers(2**31, size=100)
            best.append(sequential_mean(gym_returns(result.best_theta, env_id, reset_seeds, policy)))
            final.append(sequential_mean(gym_returns(result.mean, env_id, reset_seeds, policy)))
            progress(f"{env_id} seed {seed}: best {best[-1]:.1f}, mean {final[-1]:.1f}, {times[-1]:.1f} s")
            if seed == 0:
                plot_history(result.history, DOCS / f"mlp-{env_id.split('-')[0].lower()}.png", env_id=env_id,
                             episodes=result.episodes, seconds=result.wall_time)

        def summary(xs: list[float]) -> str:
            return f"{np.median(xs):.1f} [{min(xs):.1f}, {max(xs):.1f}]"

        setting = ", ".join(f"{k} {v}" for k, v in settings.items())
        rows.append(f"| {env_id}, {name(policy)} | initial mean 0, {setting}, "
                    f"P = {P} | {seeds} | {summary(best)} | {summary(final)} | ≥ {goal:g} | "
                    f"{sum(b >= goal for b in best)} / {sum(f >= goal for f in final)} of {seeds} | "
                    f"{np.median(times):.1f} s |")
    return "\n".join(rows + [
        "",
        "Each run's best candidate (`best_theta`) and final mean scored on 100 fresh gymnasium episodes.  The "
        "learning curves of seed 0 (`docs/mlp-cartpole.png`, `docs/mlp-pendulum.png`) are `fastcem.plotting`'s "
        "history plots.",
        "",
        f"Measured on: {machine()}.  Reproduce with `python benchmarks/mlp.py --quality`.",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quality", action="store_true", help="also the quality table (trains; a few minutes)")
    parser.add_argument("--write-readme", action="store_true", help=WRITE_HELP)
    args = parser.parse_args()
    sections = [SECTION] + ([QUALITY_SECTION] if args.quality else [])
    if args.write_readme:
        check_sections(*sections)
    texts = {SECTION: table()}
    if args.quality:
        texts[QUALITY_SECTION] = quality_table()
    for text in texts.values():
        print(text)
    if args.write_readme:
        replace_sections(texts)


if __name__ == "__main__":
    main()
