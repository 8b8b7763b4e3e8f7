"""The ``fastcem`` command line (also ``python -m fastcem``).

For now one job, ``fastcem demo``: evaluate a population of linear policies on a native env
and print how fast and how well it went.  User errors exit with status 2 and one line.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from . import ENV_IDS, evaluate, max_episode_steps, policy_dim


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # One line, no usage dump, no traceback.
        self.exit(2, f"{self.prog}: error: {message}\n")


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a non-negative integer, got {value}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="fastcem", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    demo = sub.add_parser("demo", help="evaluate a random population of linear policies")
    demo.add_argument("--env", default="CartPole-v1", choices=ENV_IDS, help="env id (default %(default)s)")
    demo.add_argument("--population", type=_positive_int, default=4096, help="candidates (default %(default)s)")
    demo.add_argument("--episodes", type=_positive_int, default=1, help="episodes per candidate (default %(default)s)")
    demo.add_argument("--seed", type=_seed, default=0, help="random seed (default %(default)s)")
    demo.add_argument("--num-threads", type=_positive_int, default=None, help="threads (default: all)")
    return parser


def _demo(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(args.seed)
    # The seed's epoch-0 distribution: mean U(0, 1), std sqrt(1 + extra_std**2) = sqrt(5).
    dim = policy_dim(args.env)
    thetas = rng.uniform(size=dim) + np.sqrt(5.0) * rng.standard_normal((args.population, dim))
    evaluate(thetas[:2], args.env, seed=args.seed, num_threads=args.num_threads)  # compile or load
    start = time.perf_counter()
    returns = evaluate(thetas, args.env, episodes=args.episodes, seed=args.seed, num_threads=args.num_threads)
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
        args = parser.parse_args(["demo", *(argv or [])])
    try:
        return _demo(args)
    except (ValueError, TypeError) as exc:
        print(f"fastcem: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
