"""``fastcem.CEM``: by default exactly the reference's algorithm (the NumPy oracle in naive.py),
and its documented options."""

from __future__ import annotations

import numpy as np
import pytest
from naive import NaiveCEM

import fastcem


def quadratic_returns(thetas: np.ndarray) -> np.ndarray:
    """A smooth test objective, maximised at (1, 2, ..., dim)."""
    target = np.arange(1, thetas.shape[1] + 1)
    return -((thetas - target) ** 2).sum(axis=1)


@pytest.mark.parametrize("population, elite_frac", [(4096, 0.2), (50, 0.1), (7, 1.0)])
def test_default_cem_is_the_references_algorithm(population, elite_frac):
    es = fastcem.CEM(6, population=population, elite_frac=elite_frac, seed=3)
    naive = NaiveCEM(6, population, elite_frac, 2.0, 10, np.random.default_rng(3))
    assert es.mean.tobytes() == naive.means.tobytes()
    for _ in range(13):  # past the extra noise's decay time
        thetas = es.ask()
        assert thetas.tobytes() == naive.ask().tobytes()
        returns = np.round(quadratic_returns(thetas), 1)  # rounded: plenty of ties
        es.tell(thetas, returns)
        naive.tell(thetas, returns)
        assert es.mean.tobytes() == naive.means.tobytes()
        assert es.std.tobytes() == naive.stds.tobytes()
    for key, column in naive.history.items():
        assert es.history[key].tolist() == column, key
    assert list(es.history) == ["epoch", "avg_rew", "std_rew", "avg_elites", "std_elites"]
    assert es.history["epoch"].dtype == np.int64


def test_extra_noise_decays_linearly_to_zero():
    es = fastcem.CEM(3, population=10, extra_std=2.0, extra_decay_time=4, seed=0)
    seen = []
    for _ in range(6):
        seen.append(es.extra_var)
        thetas = es.ask()
        es.tell(thetas, quadratic_returns(thetas))
    assert seen == [4.0, 3.0, 2.0, 1.0, 0.0, 0.0]


def test_samples_have_the_documented_distribution():
    es = fastcem.CEM(3, population=200_000, mean=[1.0, -2.0, 0.5], std=[0.5, 1.0, 2.0], extra_std=1.5, seed=1)
    thetas = es.ask()
    expected_std = np.sqrt(np.array([0.5, 1.0, 2.0]) ** 2 + 1.5**2)
    # 200k samples: the standard errors are ~0.2% of the std.
    np.testing.assert_allclose(thetas.mean(axis=0), [1.0, -2.0, 0.5], atol=0.02)
    np.testing.assert_allclose(thetas.std(axis=0), expected_std, rtol=0.01)
    assert abs(np.corrcoef(thetas.T)[0, 1]) < 0.01


def test_cem_solves_a_quadratic():
    es = fastcem.CEM(5, population=500, seed=2)
    for _ in range(40):
        thetas = es.ask()
        es.tell(thetas, quadratic_returns(thetas))
    np.testing.assert_allclose(es.mean, np.arange(1, 6), atol=1e-3)
    assert es.best_return > -1e-4 and es.epoch == 40


def test_refit_is_mean_and_ddof0_std_of_the_elites():
    thetas = np.arange(20.0).reshape(10, 2)
    returns = np.arange(10.0)
    es = fastcem.CEM(2, population=10, elite_frac=0.3, seed=0)
    es.tell(thetas, returns)
    elites = thetas[[9, 8, 7]]
    assert es.elites.tolist() == elites.tolist() and es.elite_returns.tolist() == [9.0, 8.0, 7.0]
    assert es.mean.tolist() == elites.mean(axis=0).tolist()
    assert es.std.tolist() == elites.std(axis=0, ddof=0).tolist()


def test_alpha_smooths_mean_and_variance():
    thetas = np.arange(20.0).reshape(10, 2)
    returns = np.arange(10.0)
    es = fastcem.CEM(2, population=10, elite_frac=0.3, mean=[0.0, 0.0], std=[1.0, 3.0], alpha=0.25, seed=0)
    es.tell(thetas, returns)
    elites = thetas[[9, 8, 7]]
    np.testing.assert_allclose(es.mean, 0.75 * elites.mean(axis=0))
    np.testing.assert_allclose(es.std**2, 0.25 * np.array([1.0, 9.0]) + 0.75 * elites.var(axis=0))


def test_min_std_floors_the_refit():
    es = fastcem.CEM(2, population=10, min_std=0.5, seed=0)
    es.tell(np.ones((10, 2)), np.arange(10.0))  # identical elites: std 0
    assert es.std.tolist() == [0.5, 0.5]
    plain = fastcem.CEM(2, population=10, seed=0)
    plain.tell(np.ones((10, 2)), np.arange(10.0))
    assert plain.std.tolist() == [0.0, 0.0]


def test_best_follows_the_best_return_later_epochs_win_ties():
    es = fastcem.CEM(1, population=4, elite_frac=0.5, seed=0)
    es.tell(np.array([[1.0], [2.0], [3.0], [4.0]]), np.array([0.0, 5.0, 5.0, 1.0]))
    assert es.best_return == 5.0 and es.best_theta.tolist() == [2.0]  # ties: lower index
    es.tell(np.array([[9.0], [8.0], [7.0], [6.0]]), np.array([4.0, 3.0, 2.0, 1.0]))
    assert es.best_return == 5.0 and es.best_theta.tolist() == [2.0]
    es.tell(np.array([[10.0], [11.0], [12.0], [13.0]]), np.array([5.0, 5.0, 0.0, 0.0]))
    assert es.best_theta.tolist() == [10.0]


def test_seed_forms_and_determinism():
    a = fastcem.CEM(4, population=8, seed=5).ask()
    assert a.tobytes() == fastcem.CEM(4, population=8, seed=5).ask().tobytes()
    assert a.tobytes() == fastcem.CEM(4, population=8, seed=np.random.default_rng(5)).ask().tobytes()
    assert a.tobytes() == fastcem.CEM(4, population=8, seed=np.random.SeedSequence(5)).ask().tobytes()
    assert a.tobytes() != fastcem.CEM(4, population=8, seed=6).ask().tobytes()
    given = fastcem.CEM(2, mean=[3.0, 4.0], std=0.0, extra_std=0.0, population=5, seed=0).ask()
    assert given.tolist() == [[3.0, 4.0]] * 5
