"""The ``fastcem`` command line (also ``python -m fastcem``).

``fastcem cartpole`` and ``fastcem pendulum`` rerun the reference's experiments (its ``cem.py
cartpole --epochs 8 --batch_size 4096`` and ``cem.py pendulum --epochs 15``): one line per epoch
in the reference's format, the wall time, then the three best policies scored on fresh episodes in
real gymnasium.  ``fastcem train ENV_ID`` does the same on any native env id.  ``fastcem plan
pendulum`` (or ``cartpole``) runs receding-horizon CEM planning in gymnasium.  ``fastcem demo``
times one population evaluation.  User errors exit with status 2 and one line on stderr, never a
traceback.  The help text (``DESCRIPTION`` and each command's) is plain text, with an example.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numba
import numpy as np

from envs_native import env_info
from envs_native._jit import cached

from . import CEM, ENV_IDS, elite_indices, evaluate, evaluation, max_episode_steps, policy_dim
from ._ahead import Ahead
from ._gym import check_video_support, gym_returns, record_video, sequential_mean
from ._parallel import crew_kernels, num_workers, start_crew
from ._rollout import ahead_kernels
from .mlp import ACTIVATIONS, DTYPES, MLP
from .planning import CEMPlanner, compile_split, mpc_run
from .plotting import check_plot_support, plot_history
from .selection import select_elites, select_signature
from .training import EpochStats, TrainResult, check_result_path, seed_sequence, train

DESCRIPTION = """\
The Cross-Entropy Method for control, compiled and parallel, with the same numbers
gymnasium gives.  The reference is the multiprocessing cem.py of ADGEfficiency/cem:
fastcem cartpole and fastcem pendulum rerun its experiments."""

EPILOG = """\
examples:
  fastcem cartpole                       the reference's cem.py cartpole --epochs 8
  fastcem train Acrobot-v1 --seed 0      CEM on any native env id
  fastcem train Pendulum-v1 --hidden 16  a network policy: one hidden layer of 16 tanh units
  fastcem plan pendulum --episodes 2     receding-horizon CEM planning, played in gymnasium
  fastcem demo --env Pendulum-v1         time one evaluation of 4096 policies

Run fastcem COMMAND --help for a command's options."""

# The reference's number of best thetas scored after training.
NUM_BEST = 3
# `fastcem plan`: env ids and action bounds (Pendulum's torque limits; CartPole's plan value
# is a sign).
PLAN_ENVS = {"pendulum": ("Pendulum-v1", (-2.0, 2.0)), "cartpole": ("CartPole-v1", (-1.0, 1.0))}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, no usage dump, no traceback.
        self.exit(2, f"{self.prog}: error: {message}\n")


class UserError(Exception):
    """A problem with what the user asked for: reported in one line, exit status 2."""


def _number(kind: Callable[[str], float], description: str, ok: Callable[[float], bool]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {description}, got {text!r}") from None
        if not ok(value):
            raise argparse.ArgumentTypeError(f"expected {description}, got {text}")
        return value

    return parse


_positive_int = _number(int, "a positive integer", lambda v: v >= 1)
_seed = _number(int, "a non-negative integer", lambda v: v >= 0)
_population = _number(int, "an integer >= 2", lambda v: v >= 2)
_fraction = _number(float, "a number in (0, 1]", lambda v: 0 < v <= 1)
_non_negative = _number(float, "a finite number >= 0", lambda v: math.isfinite(v) and v >= 0)
_positive = _number(float, "a finite number > 0", lambda v: math.isfinite(v) and v > 0)


def _widths(text: str) -> tuple[int, ...]:
    """``--hidden``: comma-separated positive ints (``64,64``); empty or ``none`` for none."""
    if text.strip().lower() in ("", "none"):
        return ()
    try:
        widths = tuple(int(t) for t in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated layer widths like 64,64, got {text!r}") from None
    if any(w < 1 for w in widths):
        raise argparse.ArgumentTypeError(f"layer widths must be positive, got {text!r}")
    return widths


def _add_threads(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--num-threads", "--num_process", dest="num_threads", type=_positive_int, default=None,
                        help="threads (default: all; the reference's --num_process is accepted)")


#: ``fastcem train ENV_ID``'s defaults where the reference's settings (8 epochs, initial std 1,
#: one episode per candidate) are not the ones that work; benchmarks/classic_control.py
#: measures them.
TRAIN_SETTINGS: dict[str, dict[str, Any]] = {
    "Pendulum-v1": {"epochs": 15},
    # The velocity (about ±0.07) drives the good policies, the position (about ±1) and the
    # biases do not: a wide initial std on the velocity's weights (the middle row of W).
    "MountainCar-v0": {"epochs": 40, "episodes": 10, "elite_frac": 0.05,
                       "init_std": (3.0, 3.0, 3.0, 100.0, 100.0, 100.0, 3.0, 3.0, 3.0)},
    "MountainCarContinuous-v0": {"init_std": 30.0},
}
TRAIN_DEFAULTS: dict[str, Any] = {"epochs": 8, "init_std": 1.0, "episodes": 1, "elite_frac": 0.2}


def _command(sub: argparse._SubParsersAction, name: str, summary: str, example: str) -> argparse.ArgumentParser:
    """A subcommand whose --help shows ``summary`` and one example (plain text)."""
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=summary, description=summary[0].upper() + summary[1:] + ".",
        epilog=f"example:\n  {example}", formatter_class=argparse.RawDescriptionHelpFormatter)
    return parser


def _add_experiment(sub: argparse._SubParsersAction, name: str, env_ids: tuple[str, ...], epochs: int) -> None:
    p = _command(sub, name, f"the reference's {name} experiment: CEM over linear policies on {env_ids[0]}",
                 f"fastcem {name} --seed 0 --plot history.png")
    p.add_argument("--env", default=env_ids[0], choices=env_ids, help="env id (default %(default)s)")
    p.add_argument("--epochs", type=_positive_int, default=epochs, help="epochs (default %(default)s)")
    _add_cem_options(p, init_std=1.0, episodes=1)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = _command(sub, "train", "CEM over linear or network policies on any native env id",
                 "fastcem train MountainCar-v0 --seed 0 --out run.npz")
    p.add_argument("env", choices=ENV_IDS, metavar="ENV_ID", help=f"a native env id: {', '.join(ENV_IDS)}")
    p.add_argument("--epochs", type=_positive_int, default=None,
                   help="epochs (default: 8, or the env's setting that works: " +
                   ", ".join(f"{k} {v['epochs']}" for k, v in TRAIN_SETTINGS.items() if "epochs" in v) + ")")
    _add_cem_options(p, init_std=None, episodes=None)


def _add_cem_options(p: argparse.ArgumentParser, init_std: float | None, episodes: int | None) -> None:
    env_note = "" if init_std is not None else " (default: the env's setting, see fastcem.cli.TRAIN_SETTINGS)"
    p.add_argument("--batch-size", "--batch_size", dest="batch_size", type=_population, default=4096,
                   help="candidates per epoch (default %(default)s)")
    p.add_argument("--elite-frac", "--elite_frac", dest="elite_frac", type=_fraction,
                   default=None if init_std is None else 0.2,
                   help="fraction kept as elites" + (env_note or " (default %(default)s)"))
    p.add_argument("--extra-std", "--extra_std", dest="extra_std", type=_non_negative, default=2.0,
                   help="extra exploration std at epoch 0 (default %(default)s)")
    p.add_argument("--extra-decay-time", "--extra_decay_time", dest="extra_decay_time", type=_positive, default=10.0,
                   help="epochs over which the extra noise decays to 0 (default %(default)g)")
    p.add_argument("--episodes", type=_positive_int, default=episodes,
                   help="episodes per candidate" + (env_note or " (default %(default)s)"))
    p.add_argument("--init-std", type=_positive, default=init_std,
                   help="the search distribution's initial std" + (env_note or " (default %(default)s)"))
    p.add_argument("--seed", type=_seed, default=None, help="random seed (default: fresh, and printed)")
    p.add_argument("--hidden", type=_widths, default=(),
                   help="a network policy's hidden layer widths, e.g. 64,64 (default: none, the linear policy)")
    p.add_argument("--activation", choices=ACTIVATIONS, default="tanh",
                   help="the hidden layers' activation (default %(default)s)")
    p.add_argument("--dtype", choices=DTYPES, default="float32",
                   help="the type a network computes in (default %(default)s)")
    _add_threads(p)
    p.add_argument("--fast", action="store_true",
                   help="opt-in fast mode for training (polynomial sin/cos; not bit-identical to gymnasium)")
    p.add_argument("--eval-episodes", type=_positive_int, default=10,
                   help="fresh gymnasium episodes scoring each of the best thetas at the end (default %(default)s)")
    p.add_argument("--plot", metavar="PATH", help="write the history plot (png, pdf, svg; needs matplotlib)")
    p.add_argument("--out", metavar="PATH", help="save mean, std, best theta and history (.npz or .json)")
    p.add_argument("--record-video", metavar="DIR", help="record the best policy with gymnasium's RecordVideo")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fastcem", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_experiment(sub, "cartpole", ("CartPole-v1", "CartPole-v0"), 8)
    _add_experiment(sub, "pendulum", ("Pendulum-v1",), 15)
    _add_train(sub)
    plan = _command(sub, "plan", "receding-horizon CEM planning (MPC) with the native model, played in gymnasium",
                    "fastcem plan pendulum --episodes 2 --horizon 30")
    plan.add_argument("env", choices=sorted(PLAN_ENVS), help="which env")
    plan.add_argument("--horizon", type=_positive_int, default=30, help="plan horizon (default %(default)s)")
    plan.add_argument("--candidates", type=_population, default=1000,
                      help="sequences per iteration (default %(default)s)")
    plan.add_argument("--top-k", "--top_k", dest="top_k", type=_population, default=100,
                      help="elites refit on (default %(default)s)")
    plan.add_argument("--iters", type=_positive_int, default=5,
                      help="CEM iterations per decision (default %(default)s)")
    plan.add_argument("--episodes", type=_positive_int, default=5, help="closed-loop episodes (default %(default)s)")
    plan.add_argument("--seed", type=_seed, default=0,
                      help="planner seed; episode e resets with seed + e (default %(default)s)")
    plan.add_argument("--fast", action="store_true",
                      help="opt-in fast mode for the model (polynomial sin/cos; not bit-identical to gymnasium)")
    _add_threads(plan)
    demo = _command(sub, "demo", "time one evaluation of a random population of linear policies",
                    "fastcem demo --env Pendulum-v1 --population 65536")
    demo.add_argument("--env", default="CartPole-v1", choices=ENV_IDS, help="env id (default %(default)s)")
    demo.add_argument("--population", type=_positive_int, default=4096, help="candidates (default %(default)s)")
    demo.add_argument("--episodes", type=_positive_int, default=1, help="episodes per candidate (default %(default)s)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default %(default)s)")
    _add_threads(demo)
    return parser


class _CompileNotice:
    """Say once on stderr that kernels are being compiled, if loading them takes more than
    ``after`` seconds (a first run compiles; later runs load numba's cache in a fraction of
    a second), so that nobody takes the wait for a hang.

    ``ahead``: kernels (with their argument types) to compile on the second core, in a process
    forked on entering (:class:`fastcem._ahead.Ahead`), while this one compiles the others.
    When one of them is not in the cache, this is a first run for certain: the notice shows at
    once (the C library's self-check, before this, took a second already)."""

    def __init__(self, what: str, after: float = 1.0,
                 ahead: Sequence[tuple[Any, tuple[Any, ...]]] = ()) -> None:
        self._message = f"fastcem: compiling kernels for {what} (first run only)"
        self._ahead = Ahead(ahead)
        self._timer = threading.Timer(after, self._notice)
        self._timer.daemon = True

    def _notice(self) -> None:
        print(self._message, file=sys.stderr, flush=True)

    def __enter__(self) -> _CompileNotice:
        self._ahead.__enter__()  # forks: before the timer's thread starts
        if self._ahead.todo:
            self._notice()
            return self
        try:
            self._timer.start()
        except BaseException:
            self._ahead.__exit__()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        self._ahead.__exit__(*exc)


def _threads(requested: int | None) -> int | None:
    """The thread count to use: more than numba has (the reference's ``--num_process 6`` on a
    smaller machine) runs with all of them, and says so."""
    available = numba.config.NUMBA_NUM_THREADS
    if requested is not None and requested > available:
        print(f"fastcem: note: {requested} threads requested, {available} available; using {available}",
              file=sys.stderr)
        return available
    return requested


def _check_output_path(path: str, flag: str) -> None:
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UserError(f"{flag}: directory {parent!r} does not exist")


def _check_outputs(args: argparse.Namespace) -> None:
    """Everything the outputs need, checked before a possibly long run."""
    try:
        if args.out is not None:
            check_result_path(args.out)
            _check_output_path(args.out, "--out")
        if args.plot is not None:
            check_plot_support()
            _check_output_path(args.plot, "--plot")
        if args.record_video is not None:
            check_video_support()
    except (ImportError, ValueError) as exc:
        raise UserError(str(exc)) from None


def _progress(total: int) -> object:
    """A progress bar on stderr for runs that last more than two seconds, when it is a terminal."""
    from tqdm import tqdm

    return tqdm(total=total, unit="epoch", delay=2.0, disable=not sys.stderr.isatty(), leave=False)


def _train_defaults(args: argparse.Namespace) -> None:
    """Fill ``fastcem train``'s unset options with the env's settings."""
    settings = {**TRAIN_DEFAULTS, **TRAIN_SETTINGS.get(args.env, {})}
    for name, value in settings.items():
        if getattr(args, name) is None:
            setattr(args, name, np.array(value) if isinstance(value, tuple) else value)


def _experiment(args: argparse.Namespace) -> int:
    _train_defaults(args)
    _check_outputs(args)
    env_id = args.env
    policy = MLP(args.hidden, args.activation, args.dtype) if args.hidden else None
    # The optimizer's own checks (an elite count that rounds to 0), before anything is printed.
    CEM(policy_dim(env_id, policy), population=args.batch_size, elite_frac=args.elite_frac, std=args.init_std,
        extra_std=args.extra_std, extra_decay_time=args.extra_decay_time)
    num_threads = _threads(args.num_threads)
    seeds = seed_sequence(args.seed)
    # Compile, or load from numba's cache, before the clock starts.
    start = time.perf_counter()
    # The second core compiles the kernels the population kernel calls (the lane redo, the
    # one-lane finisher) and the elite selection, which come after the lane loop in this
    # process's order (the mode first: its self-check).
    mode = evaluation.mode_of(env_id, args.fast)
    ahead = [*ahead_kernels(env_info(env_id).spec.default_params(), mode, policy), (select_elites, select_signature()),
             *crew_kernels(num_workers(num_threads))]
    with _CompileNotice(env_id, ahead=ahead):
        evaluate(np.zeros((2, policy_dim(env_id, policy))), env_id, seed=0, num_threads=num_threads, fast=args.fast,
                 policy=policy)
        elite_indices(np.zeros(2), 1)
        start_crew(num_workers(num_threads))
    load_seconds = time.perf_counter() - start

    total = args.epochs * args.batch_size * args.episodes
    print(f"expt of {total} total episodes on {env_id} ({args.epochs} epochs x {args.batch_size} candidates x "
          f"{args.episodes} episode{'s' if args.episodes > 1 else ''}), seed {seeds.entropy}")
    bar = _progress(args.epochs)
    with bar:  # type: ignore[attr-defined]

        def report(s: EpochStats) -> None:
            bar.write(f"epoch {s.epoch} - {s.avg_rew:2.1f} {s.std_rew:2.1f} pop - "  # type: ignore[attr-defined]
                      f"{s.avg_elites:2.1f} {s.std_elites:2.1f} elites", file=sys.stdout)
            bar.update()  # type: ignore[attr-defined]

        result = train(
            env_id, epochs=args.epochs, batch_size=args.batch_size, elite_frac=args.elite_frac,
            extra_std=args.extra_std, extra_decay_time=args.extra_decay_time, episodes=args.episodes, std=args.init_std,
            seed=seeds, num_threads=num_threads, callback=report, fast=args.fast, policy=policy,
        )
    print(f"expt took {result.wall_time:.3f} seconds ({result.episodes / result.wall_time:,.0f} episodes/s; "
          f"compiling or loading the kernels took {load_seconds:.2f} s before)")
    _write_outputs(args, result)
    return _score(args, result, seeds)


def _write_outputs(args: argparse.Namespace, result: TrainResult) -> None:
    if args.out is not None:
        result.save(args.out)
        print(f"wrote {args.out}")
    if args.plot is not None:
        plot_history(result.history, args.plot, env_id=result.env_id, episodes=result.episodes,
                     seconds=result.wall_time)
        print(f"wrote {args.plot}")


def _score(args: argparse.Namespace, result: TrainResult, seeds: np.random.SeedSequence) -> int:
    """Score the best thetas in real gymnasium on fresh reset seeds, as the reference did with its
    Monitor, and check that the native kernels give the same returns."""
    best = result.elites[:NUM_BEST]
    # train spawns children 0 and 1 of the random seed's SeedSequence; the scoring episodes come from child 2.
    reset_seeds = np.random.default_rng(seeds.spawn(3)[2]).integers(2**31, size=args.eval_episodes)
    n = args.eval_episodes
    print(f"epochs done - evaluating {len(best)} best thetas on {n} fresh gymnasium episode{'s' if n > 1 else ''} each")
    scores = [sequential_mean(gym_returns(theta, result.env_id, reset_seeds, result.policy)) for theta in best]
    episodes = f"{n} episode{'s' if n > 1 else ''}"
    print(f"best rewards - [{', '.join(f'{s:.1f}' for s in scores)}] mean across {episodes} each")
    native = evaluate(best, result.env_id, episodes=n, reset_seeds=reset_seeds, policy=result.policy)
    if native.tolist() != scores:
        print(f"fastcem: error: the native kernels gave {native.tolist()}, gymnasium {scores}", file=sys.stderr)
        return 1
    if args.record_video is not None:
        ret = record_video(best[0], result.env_id, args.record_video, int(reset_seeds[0]), result.policy)
        print(f"recorded the best theta (return {ret:.1f}) to {args.record_video}")
    return 0


def _plan(args: argparse.Namespace) -> int:
    env_id, bounds = PLAN_ENVS[args.env]
    planner = CEMPlanner(env_id, plan_horizon=args.horizon, num_candidates=args.candidates, top_k=args.top_k,
                         num_iters=args.iters, action_bounds=bounds, seed=args.seed,
                         num_threads=_threads(args.num_threads), fast=args.fast)
    # Compile, or load from numba's cache, before the clock starts: the rollout worker on the
    # second core, the refit here, then the loop that calls both.
    start = env_info(env_id).spec.reset_state(0)
    there, here = compile_split(planner, start)
    here = [*here, *crew_kernels(num_workers(planner.num_threads))]
    with _CompileNotice(f"planning on {env_id}", ahead=there):
        for kernel, sig in here:
            if not cached(kernel, sig):
                kernel.compile(sig)
        planner.plan(start)
    print(f"{env_id}: CEM planner, horizon {args.horizon}, {args.candidates} candidates, top {args.top_k}, "
          f"{args.iters} iterations, warm start{', fast mode' if args.fast else ''}; gymnasium plays the plant")

    def report(episode: int, ret: float) -> None:
        print(f"episode {episode} (reset seed {args.seed + episode}) - return {ret:.1f}", flush=True)

    seeds = [args.seed + e for e in range(args.episodes)]
    result = mpc_run(env_id, planner, args.episodes, seeds, callback=report)
    print(f"mean return {result.returns.mean():.1f} over {args.episodes} episode{'s' if args.episodes > 1 else ''}; "
          f"{result.decisions} decisions at {result.decisions / result.plan_seconds:,.0f} decisions/s")
    return 0


def _demo(args: argparse.Namespace) -> int:
    num_threads = _threads(args.num_threads)
    rng = np.random.default_rng(args.seed)
    # The reference's epoch-0 distribution: mean U(0, 1), std sqrt(1 + extra_std**2) = sqrt(5).
    dim = policy_dim(args.env)
    thetas = rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((args.population, dim))
    with _CompileNotice(args.env):
        evaluate(thetas[:2], args.env, seed=args.seed, num_threads=num_threads)  # compile or load
    start = time.perf_counter()
    returns = evaluate(thetas, args.env, episodes=args.episodes, seed=args.seed, num_threads=num_threads)
    seconds = time.perf_counter() - start
    episodes = args.population * args.episodes
    print(f"{args.env}: {args.population} linear policies x {args.episodes} episode(s), "
          f"TimeLimit {max_episode_steps(args.env)}")
    print(f"returns: mean {returns.mean():.1f}, std {returns.std():.1f}, best {returns.max():.1f}")
    print(f"{episodes} episodes in {seconds * 1e3:.1f} ms ({episodes / seconds:,.0f} episodes/s)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return {"demo": _demo, "plan": _plan}.get(args.command, _experiment)(args)
    except (UserError, ValueError, TypeError) as exc:
        print(f"fastcem: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"fastcem: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("fastcem: interrupted", file=sys.stderr)
        return 130


def run() -> None:
    """The ``fastcem`` command (and ``python -m fastcem``): :func:`main`, then exit with its code,
    without Python's last garbage collections at exit.  Those would take the compiler's object
    graphs (numba's typing and LLVM objects) apart one finalizer at a time: 0.3 s after a run
    that loaded its kernels, 0.5 s after one that compiled them, for a process that ends anyway.
    Output streams are still flushed, and files the run wrote are closed by then."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
