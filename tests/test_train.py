"""``fastcem.train``: the same numbers as the documented ask/tell loop, early stopping,
results saved and read back, and the quality the reference's CartPole run promises."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from naive import gym_episode

import fastcem


def ask_tell_loop(env_id, *, epochs, batch_size, episodes=1, seed, crn=False, **options):
    """The loop ``train``'s docstring spells out, with the public API only."""
    cem_seq, eval_seq = np.random.SeedSequence(seed).spawn(2)
    es = fastcem.CEM(fastcem.policy_dim(env_id), population=batch_size, seed=cem_seq, **options)
    eval_rng = np.random.default_rng(eval_seq)
    for _ in range(epochs):
        thetas = es.ask()
        if crn:
            reset_seeds = eval_rng.integers(2**32, size=episodes)
            returns = fastcem.evaluate(thetas, env_id, episodes=episodes, reset_seeds=reset_seeds)
        else:
            returns = fastcem.evaluate(thetas, env_id, episodes=episodes, seed=eval_rng)
        es.tell(thetas, returns)
    return es


@pytest.mark.parametrize("env_id, epochs, episodes, crn, options", [
    ("CartPole-v1", 4, 1, False, {}),
    ("CartPole-v0", 3, 2, True, {"alpha": 0.1, "min_std": 0.05}),
    ("Pendulum-v1", 3, 2, False, {"elite_frac": 0.1, "extra_std": 1.0, "extra_decay_time": 2}),
])
def test_train_equals_the_ask_tell_loop(env_id, epochs, episodes, crn, options):
    result = fastcem.train(env_id, epochs=epochs, batch_size=256, episodes=episodes, seed=11,
                           common_random_numbers=crn, **options)
    es = ask_tell_loop(env_id, epochs=epochs, batch_size=256, episodes=episodes, seed=11, crn=crn, **options)
    assert result.mean.tobytes() == es.mean.tobytes()
    assert result.std.tobytes() == es.std.tobytes()
    assert result.best_theta.tobytes() == es.best_theta.tobytes() and result.best_return == es.best_return
    assert result.elites.tobytes() == es.elites.tobytes()
    for key, column in es.history.items():
        assert result.history[key].tobytes() == column.tobytes(), key
    assert result.epochs == epochs and result.episodes == epochs * 256 * episodes


def test_same_bits_for_any_thread_count():
    one = fastcem.train("CartPole-v1", epochs=3, batch_size=512, seed=4, num_threads=1)
    two = fastcem.train("CartPole-v1", epochs=3, batch_size=512, seed=4, num_threads=2)
    assert one.mean.tobytes() == two.mean.tobytes() and one.std.tobytes() == two.std.tobytes()


def test_common_random_numbers_score_every_candidate_on_the_same_episodes():
    # With CRN, two identical candidates get identical returns; with independent episodes
    # they (almost surely) do not.
    seen = {}
    for crn in (False, True):
        es_returns = []

        def callback(stats, es_returns=es_returns):
            es_returns.append(stats.std_rew)

        fastcem.train("CartPole-v1", epochs=1, batch_size=64, seed=0, std=0.0, extra_std=0.0,
                      mean=np.full(10, 0.3), common_random_numbers=crn, callback=callback)
        seen[crn] = es_returns[0]
    assert seen[True] == 0.0 and seen[False] > 0.0


def test_callback_gets_each_epoch_and_can_stop():
    calls = []

    def callback(stats):
        calls.append(stats)
        return stats.epoch == 2

    result = fastcem.train("CartPole-v1", epochs=8, batch_size=128, seed=0, callback=callback)
    assert [s.epoch for s in calls] == [0, 1, 2] and result.epochs == 3
    assert isinstance(calls[0], fastcem.EpochStats)
    assert [s.avg_elites for s in calls] == result.history["avg_elites"].tolist()
    assert all(b.elapsed >= a.elapsed for a, b in itertools.pairwise(calls))
    assert calls[-1].best_return == result.best_return


@pytest.mark.parametrize("suffix", [".npz", ".json"])
def test_result_round_trips_without_pickle(tmp_path, suffix):
    result = fastcem.train("Pendulum-v1", epochs=2, batch_size=64, seed=1)
    path = tmp_path / f"run{suffix}"
    result.save(path)
    back = fastcem.load_result(path)
    for name in ("mean", "std", "best_theta", "elites", "elite_returns"):
        assert getattr(back, name).tobytes() == getattr(result, name).tobytes(), name
    assert back.best_return == result.best_return and back.env_id == "Pendulum-v1"
    assert back.wall_time == result.wall_time and back.episodes == result.episodes
    for key, column in result.history.items():
        assert back.history[key].tobytes() == column.tobytes(), key


@pytest.mark.parametrize("seed", [0, 1])
def test_cartpole_run_balances_on_fresh_gymnasium_episodes(seed):
    """The reference's CartPole run (8 epochs x 4096) on CartPole-v1: the best theta averages
    >= 475 over 100 fresh gymnasium episodes (benchmarks/cem_runs.py checks 10 seeds)."""
    result = fastcem.train("CartPole-v1", epochs=8, seed=seed)
    reset_seeds = np.random.default_rng(10_000 + seed).integers(2**31, size=100)
    returns = [gym_episode(result.best_theta, "CartPole-v1", int(s))[0] for s in reset_seeds]
    assert np.mean(returns) >= 475
