"""``train``: the reference's whole CEM experiment on a native env, and its result.

The loop is the ask/tell loop a user would write, ``CEM.ask`` -> :func:`fastcem.evaluate` ->
``CEM.tell``, with nothing else in it: the candidates of an epoch are evaluated by one call
of the compiled parallel kernel, the elites are picked by the compiled partial selection,
and the rest (sampling, refit, statistics) is a handful of vectorised numpy operations, so
the loop adds well under a millisecond per epoch to the evaluation itself (measured by
``benchmarks/cem_runs.py``).  Being that loop, it gives the same numbers as ask/tell for the
same seed by construction, and a test checks it.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from envs_native import env_info

from ._checks import check_int, check_num_threads, env_params, fast_mode
from .cem import CEM, HISTORY_COLUMNS
from .evaluation import evaluate, policy_dim
from .gym_eval import evaluate_gym, gym_policy_dim, is_native
from .mlp import MLP, as_policy

__all__ = ["EpochStats", "TrainResult", "check_result_path", "load_result", "seed_sequence", "train"]


@dataclass(frozen=True)
class EpochStats:
    """What ``train`` reports after each epoch: the history row, the best return so far and
    the seconds since the run started."""

    epoch: int
    avg_rew: float
    std_rew: float
    avg_elites: float
    std_elites: float
    best_return: float
    elapsed: float


@dataclass(frozen=True)
class TrainResult:
    """The outcome of :func:`train` (returns are maximised).

    ``mean``/``std`` are the final sampling distribution, ``elites`` the last epoch's elites
    best first (``elite_returns`` their returns), ``best_theta``/``best_return`` the best
    candidate seen, ``history`` one row per epoch in the reference's columns, ``wall_time`` the
    seconds the loop took (compilation included if it was the first call in the process).
    """

    env_id: str
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    best_theta: NDArray[np.float64]
    best_return: float
    elites: NDArray[np.float64]
    elite_returns: NDArray[np.float64]
    history: dict[str, NDArray[Any]] = field(repr=False)
    wall_time: float
    episodes: int
    """Episodes played in the whole run (epochs x batch_size x episodes per candidate)."""
    policy: MLP | None = None
    """The policy the parameters are for: None (the linear policy) or an :class:`fastcem.MLP`."""

    @property
    def epochs(self) -> int:
        return len(self.history["epoch"])

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the result to ``.npz`` (numpy) or ``.json``; :func:`load_result` reads either
        back without pickle."""
        fields = self._fields()
        kind = check_result_path(path)
        if kind == "npz":
            arrays: dict[str, Any] = {k: np.asarray(v) for k, v in fields.items()}
            np.savez(path, **arrays)
        else:
            with open(path, "w", encoding="utf-8") as fh:
                json.dump({k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in fields.items()}, fh, indent=1)

    def _fields(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "env_id": self.env_id, "mean": self.mean, "std": self.std, "best_theta": self.best_theta,
            "best_return": self.best_return, "elites": self.elites, "elite_returns": self.elite_returns,
            "wall_time": self.wall_time, "episodes": self.episodes,
            # The architecture, so that a saved run can be replayed: hidden widths (empty for
            # the linear policy), the activation and the type it computes in.
            "policy_hidden": np.asarray([] if self.policy is None else self.policy.hidden, dtype=np.int64),
            "policy_activation": "tanh" if self.policy is None else self.policy.activation,
            "policy_dtype": "float64" if self.policy is None else self.policy.dtype,
        }
        out.update({f"history_{k}": v for k, v in self.history.items()})
        return out


def check_result_path(path: str | os.PathLike[str]) -> str:
    """The format (``"npz"`` or ``"json"``) of a result file, from its extension."""
    suffix = os.path.splitext(os.fspath(path))[1].lower()
    if suffix not in (".npz", ".json"):
        raise ValueError(f"path must end in .npz or .json, got {os.fspath(path)!r}")
    return suffix[1:]


def load_result(path: str | os.PathLike[str]) -> TrainResult:
    """Read a :class:`TrainResult` written by ``TrainResult.save`` (``.npz`` or ``.json``)."""
    if check_result_path(path) == "npz":
        with np.load(path, allow_pickle=False) as data:
            raw: dict[str, Any] = {k: data[k] for k in data.files}
    else:
        with open(path, encoding="utf-8") as fh:
            raw = json.load(fh)
    history = {k: np.asarray(raw[f"history_{k}"], dtype=np.int64 if k == "epoch" else np.float64)
               for k in HISTORY_COLUMNS}
    return TrainResult(
        env_id=str(raw["env_id"]),
        mean=np.asarray(raw["mean"], dtype=np.float64),
        std=np.asarray(raw["std"], dtype=np.float64),
        best_theta=np.asarray(raw["best_theta"], dtype=np.float64),
        best_return=float(raw["best_return"]),
        elites=np.asarray(raw["elites"], dtype=np.float64),
        elite_returns=np.asarray(raw["elite_returns"], dtype=np.float64),
        history=history,
        wall_time=float(raw["wall_time"]),
        episodes=int(raw["episodes"]),
        policy=as_policy(MLP(hidden=tuple(int(h) for h in np.asarray(raw.get("policy_hidden", []), dtype=np.int64)),
                             activation=str(raw.get("policy_activation", "tanh")),
                             # A run saved before networks had a type computed in float64.
                             dtype=str(raw.get("policy_dtype", "float64")))),
    )


def seed_sequence(seed: object) -> np.random.SeedSequence:
    """``seed`` (None, a non-negative int or a SeedSequence) as a new ``SeedSequence``: a
    given one is copied, so that spawning from the result leaves it as it was and the same
    seed always gives the same children."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=seed.spawn_key, pool_size=seed.pool_size)
    if seed is not None:
        check_int(seed, "seed", minimum=0)
    return np.random.SeedSequence(seed)  # type: ignore[arg-type]


def train(
    env_id: str,
    *,
    epochs: int = 8,
    batch_size: int = 4096,
    elite_frac: float = 0.2,
    extra_std: float = 2.0,
    extra_decay_time: float = 10,
    episodes: int = 1,
    seed: int | np.random.SeedSequence | None = None,
    num_threads: int | None = None,
    callback: Callable[[EpochStats], object] | None = None,
    mean: ArrayLike | None = None,
    std: ArrayLike = 1.0,
    alpha: float = 0.0,
    min_std: float = 0.0,
    common_random_numbers: bool = False,
    env_kwargs: dict[str, Any] | None = None,
    fast: bool = False,
    pool: Any = None,
    policy: MLP | None = None,
) -> TrainResult:
    """Run CEM policy search with linear (or ``policy``) policies on a native env (returns
    are maximised).

    The reference's experiment: ``epochs`` rounds of sampling ``batch_size`` candidates, scoring
    each by its mean return over ``episodes`` episodes, and refitting to the elites.  The
    CEM options (``elite_frac`` ... ``min_std``) are those of :class:`CEM`.

    Parameters
    ----------
    env_id : str
        A native env (``envs_native.ENV_IDS``: gymnasium's classic control, users' envs), scored by the
        compiled kernels, or any gymnasium env id, scored by :func:`fastcem.evaluate_gym`.
    epochs : int
        Epochs to run (>= 1); ``callback`` may stop earlier.
    episodes : int
        Episodes per candidate per epoch.
    seed : None, int or SeedSequence
        Everything random follows from it.  The loop is, exactly::

            cem_seq, eval_seq = np.random.SeedSequence(seed).spawn(2)
            es = CEM(policy_dim(env_id), population=batch_size, ..., seed=cem_seq)
            eval_rng = np.random.default_rng(eval_seq)
            for epoch in range(epochs):
                thetas = es.ask()
                returns = evaluate(thetas, env_id, episodes=episodes, seed=eval_rng)
                # common_random_numbers=True: every candidate plays the same episodes,
                # returns = evaluate(thetas, env_id, episodes=episodes,
                #                    reset_seeds=eval_rng.integers(2**32, size=episodes))
                es.tell(thetas, returns)
    num_threads : int, optional
        Threads for the evaluation (default: numba's setting).
    callback : callable, optional
        Called with an :class:`EpochStats` after every epoch; a true return value stops
        the run after that epoch.
    common_random_numbers : bool
        Score all candidates of an epoch on the same episodes (the same reset seeds), so that
        their returns differ only through their parameters: the variance reduction of
        PEGASUS (Ng & Jordan 2000).  Off by default, as in the reference.
    env_kwargs : dict, optional
        Keyword arguments of the env's ``default_params`` (see :func:`fastcem.evaluate`).
    fast : bool
        :func:`fastcem.evaluate`'s opt-in fast mode (not bit-identical to gymnasium).
    policy : fastcem.MLP, optional
        A network policy instead of the linear one (the parameters are its weights).
    pool : object with ``map``, optional
        Score the candidates with :func:`fastcem.evaluate_gym` in real gymnasium through this
        pool (``multiprocessing.Pool``, an executor, a Dask client's executor); also the way
        to train on an env id without native kernels (then ``pool`` may be None: one process).
        The loop is the same, with ``evaluate_gym`` in place of ``evaluate``.

    Returns
    -------
    TrainResult
    """
    mlp = as_policy(policy)
    native = pool is None and is_native(env_id)
    if native:
        info = env_info(env_id)
        env_params(info, env_kwargs)  # unknown kwargs fail here, before any epoch
        dim = policy_dim(env_id, mlp)
    else:
        if env_kwargs is not None or fast:
            raise ValueError("env_kwargs and fast apply to the native envs only, not with a pool or another env id")
        dim = gym_policy_dim(env_id, mlp)
    epochs = check_int(epochs, "epochs", minimum=1)
    episodes = check_int(episodes, "episodes", minimum=1)
    check_num_threads(num_threads)
    fast_mode(fast)
    if pool is not None and not callable(getattr(pool, "map", None)):
        raise TypeError("pool must have a map method (multiprocessing.Pool, an Executor, ...), "
                        f"got {type(pool).__name__}")
    if not isinstance(common_random_numbers, (bool, np.bool_)):
        raise TypeError(f"common_random_numbers must be a bool, got {type(common_random_numbers).__name__}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable or None, got {type(callback).__name__}")
    cem_seq, eval_seq = seed_sequence(seed).spawn(2)
    es = CEM(
        dim, population=batch_size, elite_frac=elite_frac, mean=mean, std=std,
        extra_std=extra_std, extra_decay_time=extra_decay_time, alpha=alpha, min_std=min_std, seed=cem_seq,
    )
    eval_rng = np.random.default_rng(eval_seq)

    def score(thetas: NDArray[np.float64]) -> NDArray[np.float64]:
        starts: dict[str, Any] = (
            {"reset_seeds": eval_rng.integers(2**32, size=episodes)} if common_random_numbers else {"seed": eval_rng}
        )
        if native:
            return evaluate(thetas, env_id, episodes=episodes, num_threads=num_threads, env_kwargs=env_kwargs,
                            fast=fast, policy=mlp, **starts)
        return evaluate_gym(thetas, env_id, episodes=episodes, pool=pool, policy=mlp, **starts)

    start = time.perf_counter()
    for _ in range(epochs):
        thetas = es.ask()
        es.tell(thetas, score(thetas))
        if callback is not None:
            last = {name: column[-1].item() for name, column in es.history.items()}
            stats = EpochStats(**last, best_return=es.best_return, elapsed=time.perf_counter() - start)
            if callback(stats):
                break
    wall_time = time.perf_counter() - start
    assert es.best_theta is not None  # at least one epoch ran
    return TrainResult(
        env_id=env_id,
        mean=es.mean,
        std=es.std,
        best_theta=es.best_theta,
        best_return=es.best_return,
        elites=es.elites,
        elite_returns=es.elite_returns,
        history=es.history,
        wall_time=wall_time,
        episodes=es.epoch * batch_size * episodes,
        policy=mlp,
    )
