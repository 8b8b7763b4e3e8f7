"""CEM over action sequences (planning) and receding-horizon control (MPC).

The default is the reference planner (the CEM planner notebook): sample ``num_candidates``
sequences of ``plan_horizon`` actions from ``N(mean, std)``, clamp them to ``action_bounds``,
score them with the model, refit mean and std on the ``top_k`` best (std with ``ddof=1``, as
torch's ``std``, plus 1e-5), repeat ``num_iters`` times, return the first action of the mean.
Between calls the plan is warm-started: the previous mean shifted by one step, the new last
step from the initial distribution, as PETS and mbrl-lib do (``warm_start=False`` restarts
every call, as the reference planner did).

A model is one of:

* an env id (``"CartPole-v1"``, ``"Pendulum-v1"``, ...): the exact native dynamics and
  rewards of ``envs_native``, all candidates rolled out in one parallel compiled kernel
  (Pendulum's returns to within a proven bound, with the plans that the bound leaves in
  doubt rolled out exactly: the elites are those of gymnasium's returns, see
  :class:`_NativeModel`); the reference planner's algorithm runs its iterations in one compiled call.
  ``plan(state)`` takes the env's float64 internal state (``env.unwrapped.state``).  CartPole
  is discrete: a plan value > 0 means action 1 (push right), else 0; Pendulum's is the torque.
* a pair ``(dynamics, reward)`` of numba ``@njit`` functions, compiled into the same kind of
  parallel rollout: ``dynamics(state, action, next_state)`` writes the next state into
  ``next_state`` (1-D float64 arrays of ``state_dim``, ``action`` of ``action_dim``; both
  sizes are given to the planner, which checks every state before the kernel runs) and
  ``reward(state, action, next_state)`` returns the step's reward.  ``plan(state)``.
* any object with ``evaluate_rollout(*args, actions)`` returning ``(N,)`` returns for
  ``actions`` of shape ``(N, H, action_dim)`` -- the reference planner's interface; ``plan(*args)``.

Returns are maximised.  Noise comes from Philox streams (:mod:`fastcem._philox`) keyed by the
planner's seed and numbered by call and iteration, so a plan is the same for any thread count.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
from numba import njit, prange, typeof, types
from numba.core.registry import CPUDispatcher
from numpy.typing import ArrayLike, NDArray

from envs_native import Box, Discrete, EnvInfo, env_info
from envs_native.modes import CERTAIN, Fast, bounded_mode

from . import _plan_rollout
from ._checks import (
    as_float_array,
    check_finite,
    check_int,
    check_num_threads,
    check_real,
    fast_mode,
)
from ._engine import PlanActor, redo_lane, redo_signature
from ._parallel import exhaust, num_workers, run_workers, threads
from .evaluation import FAST_STATE_LIMIT
from .selection import select_elites
from .training import seed_sequence

__all__ = ["CEMPlanner", "MPCResult", "mpc"]

# The reference planner's std floor after each refit.
STD_EPS = 1e-5


class _Noise(NamedTuple):
    """How the first ``num_sampled`` plans of a batch are drawn: ``N(mean, std)`` clamped to
    ``[low, high]``, from Philox stream ``stream`` of ``key`` (all arrays flattened over the
    plan, ``H * A`` entries)."""

    num_sampled: int
    mean: NDArray[np.float64]
    std: NDArray[np.float64]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    stream: np.uint64
    key: tuple[np.uint64, np.uint64]
    num_threads: int | None

    def fill(self, actions: NDArray[np.float64]) -> None:
        """Draw the plans into ``actions[:num_sampled]``."""
        out = actions[: self.num_sampled].reshape(self.num_sampled, -1)
        with threads(self.num_threads):
            _plan_rollout.sample_actions(self.mean, self.std, self.low, self.high, self.stream, *self.key, out)


class _NativeModel:
    """An env id as the model: the exact native dynamics and rewards.

    The rollouts run as lanes in the exact lane mode (:mod:`envs_native.modes`), or in the
    fast mode.  An env may offer a cheaper exact route, its ``reward_bound`` hook
    (``envs_native.spec.EnvSpec``): rolled out in a bounded mode (``x * x`` squares, the
    dynamics exact), its returns are within a proven ``scale |R| + floor`` of gymnasium's
    (Pendulum: :func:`envs_native.pendulum.reward_bound`), and where two plans come closer
    than that, :func:`fastcem._plan_rollout.certify_elites` computes their exact returns, so
    the elites, their order and the best return are those of the exact returns (the tests
    compare with the checked rollout)."""

    def __init__(self, info: EnvInfo, fast: bool) -> None:
        self.info = info
        self.params = info.spec.default_params()
        self.fast = fast
        self.mode = Fast() if fast else info.spec.exact_mode()
        self.bounded_mode = None if fast or info.spec.reward_bound is None else bounded_mode()
        self.action_dim = 1

    def prepare(self, args: tuple[Any, ...]) -> NDArray[np.float64]:
        state = _one_state(args, self.info.state_dim, f"the state of {self.info.env_id}")
        if self.fast and (np.abs(state) > FAST_STATE_LIMIT).any():
            raise ValueError(f"fast=True needs states within ±{FAST_STATE_LIMIT:g}; use the exact mode")
        if np.asarray(args[0]).dtype == np.float32:  # gymnasium computes with its dtype
            state = state.astype(np.float32)
        return self.info.spec.kernel_states(state)

    def rollout_mode(self, state: NDArray[np.float64], horizon: int) -> tuple[Any, float, float]:
        """``(mode, scale, floor)``: the mode a batch from ``state`` is rolled out in, and the
        bound its returns are known to (``scale < 0``: exact)."""
        reward_bound = self.info.spec.reward_bound
        if self.bounded_mode is not None and reward_bound is not None:
            bound = reward_bound(state, horizon, self.params)
            if bound is not None:
                return self.bounded_mode, bound[0], bound[1]
        return self.mode, -1.0, 0.0

    def score(
        self, state: NDArray[np.float64], actions: NDArray[np.float64], noise: _Noise | None,
    ) -> NDArray[np.float64]:
        """The returns of ``actions`` (``(N, H, 1)``), their first plans drawn by ``noise`` in the
        same parallel kernel that rolls them out; within the env's bound of the exact ones in a
        bounded mode (:meth:`elites` makes the choice exact)."""
        if not actions.flags.c_contiguous:  # the kernel writes the plans it draws through a view
            raise ValueError("actions must be C-contiguous")
        out = np.empty(actions.shape[0])
        if noise is None:
            empty = np.empty(actions.shape[1])
            noise = _Noise(0, empty, empty, empty, empty, np.uint64(0), (np.uint64(0), np.uint64(0)), None)
        mode, _, _ = self.rollout_mode(state, actions.shape[1])
        _plan_rollout.native_returns(state, noise.mean, noise.std, noise.low, noise.high, noise.stream, *noise.key,
                                     noise.num_sampled, self.params, mode, num_workers(None),
                                     actions.reshape(actions.shape[0], -1), out)
        return out

    def elites(self, state: NDArray[np.float64], actions: NDArray[np.float64], returns: NDArray[np.float64],
               top_k: int) -> NDArray[np.int64]:
        """The ``top_k`` best plans by their exact returns, best first (``returns`` from
        :meth:`score`; the elites' returns that decide are made exact in place)."""
        idx = np.empty(top_k, dtype=np.int64)
        _, scale, floor = self.rollout_mode(state, actions.shape[1])
        _plan_rollout.select_plans(state, actions.reshape(actions.shape[0], -1), returns, top_k, idx, self.params,
                                   scale, floor)
        return idx


_COMPILED_ROLLOUTS: dict[tuple[Any, Any], Any] = {}


def _compiled_rollout(dynamics: Any, reward: Any) -> Any:
    """The parallel rollout kernel of a user model, compiled once per pair of functions (the
    functions are compile-time constants of the kernel, so LLVM can inline them)."""
    key = (dynamics, reward)
    if key not in _COMPILED_ROLLOUTS:

        @njit(parallel=True, fastmath=False, error_model="numpy", nogil=True)
        def rollout(state, actions, out):  # type: ignore[no-untyped-def]
            for n in prange(actions.shape[0]):
                s = state.copy()
                nxt = np.empty_like(state)
                total = 0.0
                for t in range(actions.shape[1]):
                    a = actions[n, t]
                    dynamics(s, a, nxt)
                    total += reward(s, a, nxt)
                    s, nxt = nxt, s
                out[n] = total

        _COMPILED_ROLLOUTS[key] = rollout
    return _COMPILED_ROLLOUTS[key]


def _select(prepared: Any, actions: NDArray[np.float64], returns: NDArray[np.float64], top_k: int) -> NDArray[np.int64]:
    """The ``top_k`` best plans, best first (:func:`fastcem.elite_indices`' order)."""
    idx = np.empty(top_k, dtype=np.int64)
    select_elites(returns, top_k, idx)
    return idx


class _CompiledModel:
    """A ``(dynamics, reward)`` pair of numba functions as the model."""

    elites = staticmethod(_select)

    def __init__(self, dynamics: Any, reward: Any, action_dim: int | None, state_dim: int | None) -> None:
        if action_dim is None or state_dim is None:
            raise ValueError("action_dim and state_dim are required with a (dynamics, reward) model: the "
                             "compiled rollout must know the sizes of the arrays it hands your functions")
        self.kernel = _compiled_rollout(dynamics, reward)
        self.action_dim = action_dim
        self.state_dim = state_dim

    def prepare(self, args: tuple[Any, ...]) -> NDArray[np.float64]:
        return _one_state(args, self.state_dim, f"the model's state (state_dim={self.state_dim})")

    def score(
        self, state: NDArray[np.float64], actions: NDArray[np.float64], noise: _Noise | None,
    ) -> NDArray[np.float64]:
        if noise is not None:
            noise.fill(actions)
        out = np.empty(actions.shape[0])
        self.kernel(state, actions, out)
        if not np.isfinite(out).all():
            raise ValueError("the model's reward returned NaN or inf for some sequence")
        return out


class _PythonModel:
    """Any object with ``evaluate_rollout(*args, actions)`` (the reference planner's interface)."""

    elites = staticmethod(_select)

    def __init__(self, model: Any, action_dim: int | None) -> None:
        if action_dim is None:
            raise ValueError("action_dim is required with an evaluate_rollout model")
        self.model = model
        self.action_dim = action_dim

    def prepare(self, args: tuple[Any, ...]) -> tuple[Any, ...]:
        return args

    def score(self, args: tuple[Any, ...], actions: NDArray[np.float64], noise: _Noise | None) -> NDArray[np.float64]:
        if noise is not None:
            noise.fill(actions)
        raw = self.model.evaluate_rollout(*args, actions)
        if hasattr(raw, "detach"):  # a torch tensor
            raw = raw.detach().cpu()
        out = np.asarray(raw, dtype=np.float64)
        if out.shape != (actions.shape[0],):
            raise ValueError(
                f"evaluate_rollout must return shape ({actions.shape[0]},), one return per sequence; "
                f"got shape {out.shape}"
            )
        if not np.isfinite(out).all():
            raise ValueError("evaluate_rollout returned NaN or inf")
        return out


def _one_state(args: tuple[Any, ...], size: int | None, what: str) -> NDArray[np.float64]:
    if len(args) != 1:
        raise TypeError(f"plan() takes the state as its one argument for this model, got {len(args)} arguments")
    state = as_float_array(args[0], "state")
    if state.ndim != 1 or (size is not None and state.shape[0] != size):
        want = f"({size},)" if size is not None else "1-D"
        raise ValueError(f"state must be {what}, shape {want}; got shape {np.shape(args[0])}")
    check_finite(state, "state")
    return state


def _make_model(model: Any, action_dim: int | None, state_dim: int | None, fast: bool) -> Any:
    if isinstance(model, str):
        info = env_info(model)
        if action_dim not in (None, 1):
            raise ValueError(f"action_dim must be 1 for {info.env_id} (one plan value per step), got {action_dim}")
        return _NativeModel(info, fast)
    if fast:
        raise ValueError("fast=True applies to an env id model (the native kernels) only")
    if isinstance(model, tuple) and len(model) == 2 and all(isinstance(f, CPUDispatcher) for f in model):
        return _CompiledModel(model[0], model[1], action_dim, state_dim)
    if callable(getattr(model, "evaluate_rollout", None)):
        return _PythonModel(model, action_dim)
    raise TypeError(
        "model must be an env id, a (dynamics, reward) pair of numba @njit functions, or an object with "
        f"evaluate_rollout(*args, actions); got {type(model).__name__}"
    )


def _colored_noise(beta: float, shape: tuple[int, int, int], rng: np.random.Generator) -> NDArray[np.float64]:
    """Gaussian noise with power spectrum ``1 / f**beta`` along the time axis (axis 1) and unit
    variance: Timmer & König (1995), as iCEM samples it (the ``colorednoise`` package's
    ``powerlaw_psd_gaussian``): random Fourier coefficients scaled by ``f**(-beta/2)``, real at
    f = 0 and at the Nyquist frequency, normalised by the exact std, not each sample's."""
    horizon = shape[1]
    freqs = np.fft.rfftfreq(horizon)
    scale = freqs.copy()
    scale[scale < 1.0 / horizon] = 1.0 / horizon  # the lowest frequency stands in for f = 0
    scale = scale ** (-beta / 2.0)
    # The exact std of every output: the real coefficients at f = 0 (and at the Nyquist
    # frequency, even horizons) have variance 2 * scale**2 and enter once, the others twice as
    # much through the conjugate half.  (colorednoise's formula is this for long signals
    # only; for a horizon of 10 it is 8% off.)
    variance = 2.0 * scale[0] ** 2
    if horizon % 2 == 0:
        variance += 2.0 * scale[-1] ** 2 + 4.0 * np.sum(scale[1:-1] ** 2)
    else:
        variance += 4.0 * np.sum(scale[1:] ** 2)
    sigma = np.sqrt(variance) / horizon
    spec_shape = (shape[0], shape[2], len(freqs))
    real = rng.standard_normal(spec_shape) * scale
    imag = rng.standard_normal(spec_shape) * scale
    if horizon % 2 == 0:
        imag[..., -1] = 0.0
        real[..., -1] *= np.sqrt(2.0)
    imag[..., 0] = 0.0
    real[..., 0] *= np.sqrt(2.0)
    noise = np.fft.irfft(real + 1j * imag, n=horizon, axis=-1) / sigma
    return np.moveaxis(noise, -1, 1)  # (N, A, H) -> (N, H, A)


def _moments(actions: NDArray[np.float64], idx: NDArray[np.int64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``(mean, std)``: the bits of the reference planner's ``elites.mean(axis=0)`` and
    ``elites.std(axis=0, ddof=1)`` on ``elites = actions[idx]``.  numpy sums over the elites
    one after another, except for plans of one entry, which it sums pairwise (a contiguous
    axis); those take numpy itself."""
    if actions[0].size == 1:
        elites = actions[idx]
        return elites.mean(axis=0), elites.std(axis=0, ddof=1)
    mean = np.empty(actions.shape[1:])
    std = np.empty(actions.shape[1:])
    _plan_rollout.elite_moments(actions.reshape(len(actions), -1), idx, mean.reshape(-1), std.reshape(-1))
    return mean, std


class CEMPlanner:
    """Cross-Entropy Method over action sequences (returns are maximised).

    Parameters
    ----------
    model : str, (dynamics, reward) or object with ``evaluate_rollout``
        See the module docstring.
    plan_horizon, action_dim, num_candidates, top_k, num_iters, action_bounds
        The reference planner's parameters: sequences of ``plan_horizon`` steps of ``action_dim`` values,
        ``num_candidates`` per iteration, refit on the ``top_k`` best, ``num_iters``
        iterations, actions clamped to ``action_bounds = (low, high)`` (numbers or arrays of
        ``action_dim``).  ``action_dim`` is 1 for an env id.
    seed : None, int or SeedSequence
        Key of the noise.
    state_dim : int, optional
        The state's length, required with a ``(dynamics, reward)`` model.
    init_std : float or array, optional
        The initial std; default ``(high - low) / 4`` (the reference planner's 0.5 for (-1, 1), and PETS's
        and mbrl-lib's choice).  The initial mean is ``(low + high) / 2``.
    warm_start : bool
        Start each ``plan`` from the previous plan shifted by one step (default); False
        restarts from the initial distribution every call, as the reference planner did.
    alpha : float
        Smoothing of the refit, ``mean = alpha * mean + (1 - alpha) * elite_mean`` and the same
        for the variance (PETS, Chua et al. 2018; mbrl-lib's ``CEMOptimizer``).
    noise_beta : float
        Colored noise: exponent of the ``1 / f**beta`` power spectrum along the horizon
        (iCEM, Pinneri et al. 2020, who use 2-4); 0 is the reference planner's white noise.  Drawn with
        numpy's FFT from a ``Generator`` keyed like the white noise.
    keep_elites : float
        Fraction of the elites carried into the next iteration, and (shifted by one step)
        into the next call (iCEM).
    return_best : bool
        Return the first action of the best sequence seen in this call instead of the
        mean's (iCEM).
    population_decay : float
        iCEM's decay: iteration ``i`` samples ``max(num_candidates * decay**-i, 2 * top_k)``.
    std_tol : float
        Stop iterating when every std is below this (iCEM's early stop); 0: never.
    num_threads : int, optional
        Threads for the compiled kernels.
    fast : bool
        With an env id: :func:`fastcem.evaluate`'s opt-in fast mode for the model's rollouts
        (polynomial ``sin``/``cos``, ``x * x`` squares; no longer bit-identical to gymnasium).
    """

    def __init__(
        self,
        model: Any,
        plan_horizon: int = 10,
        action_dim: int | None = None,
        num_candidates: int = 1000,
        top_k: int = 100,
        num_iters: int = 5,
        action_bounds: tuple[ArrayLike, ArrayLike] = (-1.0, 1.0),
        seed: Any = None,
        *,
        state_dim: int | None = None,
        init_std: ArrayLike | None = None,
        warm_start: bool = True,
        alpha: float = 0.0,
        noise_beta: float = 0.0,
        keep_elites: float = 0.0,
        return_best: bool = False,
        population_decay: float = 1.0,
        std_tol: float = 0.0,
        num_threads: int | None = None,
        fast: bool = False,
    ) -> None:
        if action_dim is not None:
            action_dim = check_int(action_dim, "action_dim", minimum=1)
        if state_dim is not None:
            state_dim = check_int(state_dim, "state_dim", minimum=1)
        self._model = _make_model(model, action_dim, state_dim, fast_mode(fast))
        self.model = model
        self.action_dim = self._model.action_dim
        self.plan_horizon = check_int(plan_horizon, "plan_horizon", minimum=1)
        self.num_candidates = check_int(num_candidates, "num_candidates", minimum=2)
        self.top_k = check_int(top_k, "top_k", minimum=2)
        if self.top_k > self.num_candidates:
            raise ValueError(f"top_k must be <= num_candidates = {self.num_candidates}, got {self.top_k}")
        self.num_iters = check_int(num_iters, "num_iters", minimum=1, maximum=2**32 - 1)
        self.low, self.high = self._bounds(action_bounds)
        # The bounds of every entry of a plan, flattened for the sampling kernel.
        self._low_flat = np.tile(self.low, self.plan_horizon)
        self._high_flat = np.tile(self.high, self.plan_horizon)
        self.init_mean = np.broadcast_to((self.low + self.high) / 2.0, (self.plan_horizon, self.action_dim)).copy()
        if init_std is None:
            std = (self.high - self.low) / 4.0
        else:
            std = as_float_array(init_std, "init_std")
            check_finite(std, "init_std")
            if (std < 0).any() or std.size not in (1, self.action_dim):
                raise ValueError(f"init_std must be >= 0, a number or {self.action_dim} numbers")
        self.init_std = np.broadcast_to(std.reshape(-1), (self.plan_horizon, self.action_dim)).copy()
        if not isinstance(warm_start, (bool, np.bool_)) or not isinstance(return_best, (bool, np.bool_)):
            raise TypeError("warm_start and return_best must be bools")
        self.warm_start = bool(warm_start)
        self.return_best = bool(return_best)
        self.alpha = check_real(alpha, "alpha", low=0.0, high=1.0, high_open=True)
        self.noise_beta = check_real(noise_beta, "noise_beta", low=0.0)
        self.keep_elites = check_real(keep_elites, "keep_elites", low=0.0, high=1.0)
        self.population_decay = check_real(population_decay, "population_decay", low=1.0)
        self.std_tol = check_real(std_tol, "std_tol", low=0.0)
        self.num_threads = check_num_threads(num_threads)
        self._key = tuple(np.uint64(w) for w in seed_sequence(seed).generate_state(2, dtype=np.uint32))
        # Tests set this False to compare the compiled loop with the Python one.
        self._compile_loop = True
        self._calls = 0
        self.reset()

    def _bounds(self, bounds: Any) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        if not isinstance(bounds, Sequence) or len(bounds) != 2:
            raise TypeError("action_bounds must be a pair (low, high)")
        given = [as_float_array(b, "action_bounds") for b in bounds]
        if any(b.size not in (1, self.action_dim) for b in given):
            raise ValueError(f"action_bounds must be numbers or arrays of action_dim = {self.action_dim}")
        low, high = (np.broadcast_to(b.reshape(-1), (self.action_dim,)).copy() for b in given)
        if not (np.isfinite(low).all() and np.isfinite(high).all()):
            raise ValueError("action_bounds must be finite")
        if not (low < high).all():
            raise ValueError(f"action_bounds must have low < high, got low={low.tolist()}, high={high.tolist()}")
        return low, high

    def reset(self) -> None:
        """Forget the warm start (call between episodes)."""
        self._mean: NDArray[np.float64] | None = None
        self._kept: NDArray[np.float64] = np.empty((0, self.plan_horizon, self.action_dim))

    def _batch(self, prepared: Any, mean: NDArray[np.float64], std: NDArray[np.float64], num: int,
               kept: NDArray[np.float64], iteration: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``(actions, returns)``: ``num`` new plans of iteration ``iteration`` of this call,
        then the ``kept`` ones, and their returns.  White noise is drawn by the model's kernel
        (a native model's rollout kernel draws its own block of plans), colored noise here."""
        actions = np.empty((num + len(kept), self.plan_horizon, self.action_dim))
        if len(kept):
            actions[num:] = kept
        stream = self._call_stream() | np.uint64(iteration)
        noise = None
        if self.noise_beta > 0.0:
            rng = np.random.default_rng([int(k) for k in self._key] + [int(stream)])
            colored = _colored_noise(self.noise_beta, (num, self.plan_horizon, self.action_dim), rng)
            np.clip(mean + std * colored, self.low, self.high, out=actions[:num])
        else:
            noise = _Noise(num, mean.reshape(-1), std.reshape(-1), self._low_flat, self._high_flat, stream,
                           self._key, self.num_threads)
        if isinstance(self._model, _PythonModel):
            return actions, self._model.score(prepared, actions, noise)  # user code: may call fastcem itself
        with threads(self.num_threads):
            return actions, self._model.score(prepared, actions, noise)

    def plan(self, *args: Any) -> NDArray[np.float64]:
        """The first action of the planned sequence, shape ``(action_dim,)``."""
        prepared = self._model.prepare(args)
        if self.warm_start and self._mean is not None:
            mean = np.concatenate([self._mean[1:], self.init_mean[-1:]])
        else:
            mean = self.init_mean.copy()
        std = self.init_std.copy()
        kept = self._shifted_kept() if self.warm_start else self._kept[:0]
        if self._compiled_loop():
            return self._plan_compiled(prepared, mean, std)
        best_return, best_seq = -np.inf, mean
        for i in range(self.num_iters):
            num = max(int(self.num_candidates * self.population_decay ** (-i)), 2 * self.top_k)
            num = min(num, self.num_candidates)
            actions, returns = self._batch(prepared, mean, std, max(num - len(kept), 1), kept, i)
            top_k = min(self.top_k, len(returns))
            idx = self._model.elites(prepared, actions, returns, top_k)
            elite_mean, elite_std = _moments(actions, idx)
            elite_std += STD_EPS
            if returns[idx[0]] > best_return:
                best_return, best_seq = float(returns[idx[0]]), actions[idx[0]].copy()
            if self.alpha > 0.0:
                elite_mean = self.alpha * mean + (1.0 - self.alpha) * elite_mean
                elite_std = np.sqrt(self.alpha * std**2 + (1.0 - self.alpha) * elite_std**2)
            mean, std = elite_mean, elite_std
            kept = actions[idx[: math.ceil(self.keep_elites * top_k)]] if self.keep_elites > 0 else kept[:0]
            if self.std_tol > 0.0 and std.max() < self.std_tol:
                break
        self._mean = mean
        self._kept = kept
        self._calls += 1
        self.last_return = best_return
        return (best_seq if self.return_best else mean)[0].copy()

    def _call_stream(self) -> np.uint64:
        """This call's Philox streams: the call in the high 32-bit word of the stream number,
        the iteration (ORed in) in the low one."""
        return np.uint64((self._calls & 0xFFFFFFFF) << 32)

    def _compiled_loop(self) -> bool:
        """Whether :meth:`plan` runs as one compiled call: a native model with the reference planner's
        algorithm (white noise, no smoothing, kept elites or decay; the options are read at
        every call, as the Python loop reads them)."""
        return (self._compile_loop and isinstance(self._model, _NativeModel) and self.noise_beta == 0.0
                and self.keep_elites == 0.0 and self.population_decay == 1.0 and self.alpha == 0.0
                and self.plan_horizon * self.action_dim > 1)

    def _plan_compiled(self, state: NDArray[np.float64], mean: NDArray[np.float64],
                       std: NDArray[np.float64]) -> NDArray[np.float64]:
        """:meth:`plan`'s loop as one compiled call (:func:`fastcem._plan_rollout.plan_iterations`)
        for a native model with the reference planner's algorithm: the same bits, without the Python of
        every iteration."""
        model = self._model
        horizon = self.plan_horizon
        mode, scale, floor = model.rollout_mode(state, horizon)
        actions = np.empty((self.num_candidates, horizon))
        returns = np.empty(self.num_candidates)
        best_seq = mean.copy()  # the Python loop's start, should no return beat -inf
        mean = mean.copy()
        workers = num_workers(self.num_threads)
        sync = np.zeros(2 + self.num_iters, dtype=np.int64)
        best = np.full(1, -np.inf)
        flat_mean, flat_std, flat_best = mean.reshape(-1), std.reshape(-1), best_seq.reshape(-1)
        key, call = self._key, self._call_stream()

        def work(w: int) -> None:
            _plan_rollout.plan_iterations(
                w, workers, sync, state, flat_mean, flat_std, self._low_flat, self._high_flat, call, *key,
                self.num_iters, self.top_k, model.params, mode, scale, floor, STD_EPS, self.std_tol, actions, returns,
                flat_best, best, _plan_rollout.PlanWorkspace.new(state.shape[0], horizon))

        def abort() -> None:  # the other workers stop at their next barrier, with no block left
            sync[1] = 1
            exhaust(sync[2:])
            exhaust(sync[:1])

        run_workers(workers, work, abort)
        self._mean = mean
        self._calls += 1
        self.last_return = float(best[0])
        return (best_seq if self.return_best else mean)[0].copy()

    def _shifted_kept(self) -> NDArray[np.float64]:
        """The kept elites of the last call, one step on: the new last step is the initial mean."""
        if not len(self._kept):
            return self._kept
        tail = np.broadcast_to(self.init_mean[-1:], (len(self._kept), 1, self.action_dim))
        return np.concatenate([self._kept[:, 1:], tail], axis=1)


def compile_split(planner: CEMPlanner, state: ArrayLike) -> tuple[list[Any], list[Any]]:
    """The two halves of compiling ``planner``'s compiled loop from ``state``, as ``(kernel,
    argument types)`` pairs: the rollout worker, which the command line compiles in a second
    process (:mod:`fastcem._ahead`), and what it compiles first in this one: the worker's lane
    redo (:func:`fastcem._engine.redo_lane`, cached before the other process comes to it,
    which evens the halves), the elite selection and the refit; then the loop itself loads
    them all.  Nothing for a planner that does not run the compiled loop.
    ``tests/test_planning.py`` checks that the loop compiles them for these very types."""
    model = planner._model
    if not (planner._compiled_loop() and isinstance(model, _NativeModel)):
        return [], []
    prepared = model.prepare((state,))
    mode = model.rollout_mode(prepared, planner.plan_horizon)[0]
    actions, vector, idx = typeof(np.zeros((1, 1))), typeof(np.zeros(1)), typeof(np.zeros(1, dtype=np.int64))
    params = typeof(model.params)
    worker = (_plan_rollout._plan_worker, _plan_rollout.worker_signature(prepared, model.params, mode))
    refit = [(_plan_rollout.select_plans, (typeof(prepared), actions, vector, types.int64, idx, params, types.float64,
                                           types.float64)),
             (_plan_rollout.elite_moments, (actions, idx, vector, vector))]
    ws = _plan_rollout.PlanWorkspace.new(1, 1)
    redo_types = redo_signature(ws.states, PlanActor(ws.acts, np.int64(0)), model.params, ws.rewards, ws.terminated)
    redo = [] if type(mode) in CERTAIN else [(redo_lane, redo_types)]
    return [worker], redo + refit


def env_action(value: float, space: Discrete | Box) -> Any:
    """The gymnasium action of a plan value, as the native model's rollouts take it
    (:func:`fastcem._engine.plan_action`): for ``Discrete(n)`` the number of the thresholds
    ``-1 + 2 j / n`` it exceeds, for a ``Box`` the value as a float64 array (gymnasium does
    not cast it)."""
    if isinstance(space, Discrete):
        return int(sum(value > -1.0 + 2.0 * j / space.n for j in range(1, space.n)))
    return np.array([value], dtype=np.float64)


@dataclass(frozen=True)
class MPCResult:
    """Closed-loop episodes: ``returns`` per episode, the decisions made and the seconds spent
    planning (``decisions / plan_seconds`` is the planner's decisions per second)."""

    returns: NDArray[np.float64]
    decisions: int
    plan_seconds: float


def mpc(
    env_id: str,
    planner: CEMPlanner,
    episodes: int = 5,
    reset_seeds: ArrayLike | None = None,
    *,
    callback: Callable[[int, float], object] | None = None,
) -> NDArray[np.float64]:
    """Receding-horizon control in real gymnasium: each step, plan from the env's internal
    state (``env.unwrapped.state``), execute the first action, replan.

    The plant is ``gymnasium.make(env_id)``; the planner's model may be native, compiled or
    Python.  ``reset_seeds`` (default ``0 .. episodes-1``) seed each episode's reset;
    ``planner.reset()`` is called before each.  ``callback(episode, return)`` is called after
    each episode.  Returns the episodes' returns (rewards added in step order);
    :func:`mpc_run` also gives the planning time.
    """
    return mpc_run(env_id, planner, episodes, reset_seeds, callback=callback).returns


def mpc_run(
    env_id: str,
    planner: CEMPlanner,
    episodes: int = 5,
    reset_seeds: ArrayLike | None = None,
    *,
    callback: Callable[[int, float], object] | None = None,
) -> MPCResult:
    """:func:`mpc`, with the number of decisions and the seconds spent planning."""
    import gymnasium

    info = env_info(env_id)
    if not isinstance(planner, CEMPlanner):
        raise TypeError(f"planner must be a CEMPlanner, got {type(planner).__name__}")
    episodes = check_int(episodes, "episodes", minimum=1)
    if reset_seeds is None:
        seeds = list(range(episodes))
    else:
        seeds = [check_int(s, "reset_seeds", minimum=0) for s in np.asarray(reset_seeds).reshape(-1)]
    if len(seeds) != episodes:
        raise ValueError(f"reset_seeds must have {episodes} seeds (episodes={episodes}), got {len(seeds)}")
    env = gymnasium.make(env_id)
    returns = []
    decisions = 0
    plan_seconds = 0.0
    try:
        for e, s in enumerate(seeds):
            env.reset(seed=s)
            planner.reset()
            total = 0.0
            while True:
                # gymnasium's classic-control envs keep their state as an attribute.
                state = np.array(env.unwrapped.state, dtype=np.float64)  # type: ignore[attr-defined]
                start = time.perf_counter()
                action = planner.plan(state)
                plan_seconds += time.perf_counter() - start
                decisions += 1
                _, reward, terminated, truncated, _ = env.step(env_action(float(action[0]), info.spec.action))
                total += float(reward)
                if terminated or truncated:
                    break
            returns.append(total)
            if callback is not None:
                callback(e, total)
    finally:
        env.close()
    return MPCResult(np.array(returns), decisions, plan_seconds)
