"""The Cross-Entropy Method with a diagonal Gaussian, as an ask/tell optimizer.

By default it is exactly the reference's algorithm (the multiprocessing ``cem.py``): the mean starts
from ``U(0, 1)`` and the std at 1; each epoch samples ``N(mean, diag(std**2 + extra_var))``
with ``extra_var = max(1 - epoch / extra_decay_time, 0) * extra_std**2`` (extra exploration
noise that decays linearly to zero, Szita & Lőrincz 2006, "Learning Tetris Using the Noisy
Cross-Entropy Method"), keeps the ``int(population * elite_frac)`` best candidates, and refits
the mean and the std (``ddof=0``) to them.

The optimizer only sees arrays: returns (maximised) come from whatever evaluates the
candidates, usually :func:`fastcem.evaluate`; :func:`fastcem.train` is the whole loop.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._checks import as_float_array, check_finite, check_int, check_real
from .selection import elite_indices

__all__ = ["CEM", "HISTORY_COLUMNS", "as_generator"]

#: The reference's history columns, in its order.
HISTORY_COLUMNS = ("epoch", "avg_rew", "std_rew", "avg_elites", "std_elites")


def as_generator(seed: object, name: str = "seed") -> np.random.Generator:
    """``np.random.default_rng(seed)`` for None, a non-negative int, a ``SeedSequence``, a
    ``BitGenerator`` or a ``Generator`` (used as is, not copied); a clear error otherwise."""
    if isinstance(seed, (bool, np.bool_)) or not (
        seed is None
        or isinstance(seed, (numbers.Integral, np.random.SeedSequence, np.random.BitGenerator, np.random.Generator))
    ):
        raise TypeError(
            f"{name} must be None, a non-negative int, a numpy SeedSequence, BitGenerator or Generator; "
            f"got {type(seed).__name__}"
        )
    if isinstance(seed, numbers.Integral) and seed < 0:
        raise ValueError(f"{name} must be a non-negative int, got {seed}")
    return np.random.default_rng(seed)  # type: ignore[arg-type]


class CEM:
    """Cross-Entropy Method over ``dim`` real parameters (returns are maximised).

    Parameters
    ----------
    dim : int
        Number of parameters (for a linear policy, :func:`fastcem.policy_dim`).
    population : int
        Candidates per epoch (the reference's ``batch_size``), at least 2.
    elite_frac : float
        Fraction kept as elites, in ``(0, 1]``; ``int(population * elite_frac)`` must be >= 1.
    mean : array_like, shape (dim,), optional
        Initial mean.  None (the reference's choice) draws it from ``U(0, 1)`` with the optimizer's
        generator, before any sample.
    std : float or array_like, shape (dim,)
        Initial standard deviation, >= 0.
    extra_std, extra_decay_time : float
        Extra exploration noise: ``extra_std**2`` is added to the variance, scaled by
        ``max(1 - epoch / extra_decay_time, 0)``.  ``extra_std=0`` turns it off.
    alpha : float
        Smoothing of the refit, in ``[0, 1)``: ``mean = alpha * mean + (1 - alpha) * elite_mean``
        and the same for the variance, as in PETS (Chua et al. 2018) and mbrl-lib's
        ``CEMOptimizer``.  0 (default) is the reference's plain refit.
    min_std : float
        A floor on the refitted std, >= 0, as MuJoCo MPC's cross-entropy planner keeps
        (``std_min``) so that the search never collapses to a point.  0 (default): none.
    seed : None, int, SeedSequence, BitGenerator or Generator
        Source of all the optimizer's random numbers (``np.random.default_rng(seed)``).

    Notes
    -----
    ``ask`` draws ``standard_normal((population, dim))`` from the generator and returns
    ``mean + z * sqrt(std**2 + extra_var)``: the diagonal covariance is applied per
    coordinate, never as a dense ``multivariate_normal``.  The epoch advances in ``tell``.
    """

    def __init__(
        self,
        dim: int,
        *,
        population: int = 4096,
        elite_frac: float = 0.2,
        mean: ArrayLike | None = None,
        std: ArrayLike = 1.0,
        extra_std: float = 2.0,
        extra_decay_time: float = 10,
        alpha: float = 0.0,
        min_std: float = 0.0,
        seed: Any = None,
    ) -> None:
        self.dim = check_int(dim, "dim", minimum=1)
        self.population = check_int(population, "population", minimum=2)
        self.elite_frac = check_real(elite_frac, "elite_frac", low=0.0, high=1.0, low_open=True)
        self.num_elite = int(self.population * self.elite_frac)
        if self.num_elite < 1:
            raise ValueError(
                f"elite_frac * population = {self.elite_frac} * {self.population} rounds down to 0 elites; "
                f"raise elite_frac to at least {1 / self.population:.3g} or the population"
            )
        self.extra_std = check_real(extra_std, "extra_std", low=0.0)
        self.extra_decay_time = check_real(extra_decay_time, "extra_decay_time", low=0.0, low_open=True)
        self.alpha = check_real(alpha, "alpha", low=0.0, high=1.0, high_open=True)
        self.min_std = check_real(min_std, "min_std", low=0.0)
        self._rng = as_generator(seed)

        std_arr = as_float_array(std, "std")
        if np.ndim(std) == 0:  # as_float_array makes scalars 1-D
            std_arr = np.full(self.dim, std_arr[0])
        if std_arr.shape != (self.dim,):
            raise ValueError(f"std must be a number or have shape ({self.dim},), got shape {std_arr.shape}")
        check_finite(std_arr, "std")
        if (std_arr < 0).any():
            raise ValueError(f"std must be >= 0, got {std_arr.min()}")
        if mean is None:
            mean_arr = self._rng.uniform(size=self.dim)
        else:
            mean_arr = as_float_array(mean, "mean").copy()
            if mean_arr.shape != (self.dim,):
                raise ValueError(f"mean must have shape ({self.dim},), got shape {mean_arr.shape}")
            check_finite(mean_arr, "mean")
        self.mean: NDArray[np.float64] = mean_arr
        self.std: NDArray[np.float64] = std_arr.copy()
        self.epoch = 0
        self.best_theta: NDArray[np.float64] | None = None
        self.best_return = -np.inf
        self.elites: NDArray[np.float64] = np.empty((0, self.dim))
        self.elite_returns: NDArray[np.float64] = np.empty(0)
        self._history: list[tuple[int, float, float, float, float]] = []

    @property
    def extra_var(self) -> float:
        """The extra variance added in this epoch: ``max(1 - epoch / extra_decay_time, 0) * extra_std**2``."""
        return max(1.0 - self.epoch / self.extra_decay_time, 0) * self.extra_std**2

    def ask(self) -> NDArray[np.float64]:
        """Sample this epoch's candidates, shape ``(population, dim)``."""
        scale = np.sqrt(self.std**2 + self.extra_var)
        return self.mean + self._rng.standard_normal((self.population, self.dim)) * scale

    def tell(self, thetas: ArrayLike, returns: ArrayLike) -> None:
        """Refit to the elites of ``thetas`` by their ``returns`` (higher is better).

        ``thetas`` must be ``(population, dim)`` and ``returns`` ``(population,)``, finite.
        The elites are the ``num_elite`` best (ties to the lower index, as the reference's
        ``heapq.nlargest``); the new mean and std (``ddof=0``) are theirs, smoothed by
        ``alpha`` and floored by ``min_std`` when those are set.  The history gains a row,
        and ``best_theta``/``best_return`` follow the best return seen (a later epoch's
        candidate replaces an equal earlier one: it comes from a more refined distribution).
        """
        x = as_float_array(thetas, "thetas")
        if x.shape != (self.population, self.dim):
            raise ValueError(
                f"thetas must have shape (population, dim) = ({self.population}, {self.dim}), got shape {x.shape}"
            )
        check_finite(x, "thetas")
        r = as_float_array(returns, "returns")
        if r.shape != (self.population,):
            raise ValueError(f"returns must have shape (population,) = ({self.population},), got shape {r.shape}")
        check_finite(r, "returns")
        self._refit(x, r)

    def _refit(self, thetas: NDArray[np.float64], returns: NDArray[np.float64]) -> None:
        """``tell`` on checked arrays."""
        idx = elite_indices(returns, self.num_elite)
        elites = thetas[idx]
        elite_returns = returns[idx]
        mean = elites.mean(axis=0)
        std = elites.std(axis=0)
        if self.alpha > 0.0:
            mean = self.alpha * self.mean + (1.0 - self.alpha) * mean
            std = np.sqrt(self.alpha * self.std**2 + (1.0 - self.alpha) * std**2)
        if self.min_std > 0.0:
            std = np.maximum(std, self.min_std)
        self.mean, self.std = mean, std
        self.elites, self.elite_returns = elites, elite_returns
        if elite_returns[0] >= self.best_return:
            self.best_return = float(elite_returns[0])
            self.best_theta = elites[0].copy()
        self._history.append((
            self.epoch,
            float(np.mean(returns)),
            float(np.std(returns)),
            float(np.mean(elite_returns)),
            float(np.std(elite_returns)),
        ))
        self.epoch += 1

    @property
    def history(self) -> dict[str, NDArray[Any]]:
        """One row per ``tell``: the reference's columns ``epoch, avg_rew, std_rew, avg_elites,
        std_elites`` as arrays (``pandas.DataFrame(es.history)`` makes a table)."""
        rows = self._history
        out: dict[str, NDArray[Any]] = {"epoch": np.array([row[0] for row in rows], dtype=np.int64)}
        for j, name in enumerate(HISTORY_COLUMNS[1:], start=1):
            out[name] = np.array([row[j] for row in rows], dtype=np.float64)
        return out

    def __repr__(self) -> str:
        return (
            f"CEM(dim={self.dim}, population={self.population}, elite_frac={self.elite_frac}, "
            f"epoch={self.epoch}, best_return={self.best_return})"
        )
