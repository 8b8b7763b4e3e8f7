"""``evaluate_gym`` and ``train`` on a real Dask cluster (a LocalCluster on loopback, worker
processes), including a worker killed in the middle of a run."""

from __future__ import annotations

import contextlib
import os
import threading
import time

import numpy as np
import pytest
from naive import balancing_cartpole_thetas

import fastcem

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1",
                                  dashboard_address=None) as cluster, distributed.Client(cluster) as client:
        yield client


def test_evaluation_through_dask_equals_evaluate(client, rng):
    thetas = rng.uniform(size=10) + np.sqrt(5.0) * rng.standard_normal((64, 10))
    got = fastcem.evaluate_gym(thetas, "CartPole-v1", episodes=2, reset_seeds=[5, 6], pool=client.get_executor(),
                               chunksize=8)
    assert got.tolist() == fastcem.evaluate(thetas, "CartPole-v1", episodes=2, reset_seeds=[5, 6]).tolist()


def test_a_short_training_on_the_cluster(client):
    pooled = fastcem.train("Pendulum-v1", epochs=2, batch_size=32, seed=1, pool=client.get_executor())
    local = fastcem.train("Pendulum-v1", epochs=2, batch_size=32, seed=1, pool=_Serial())
    assert pooled.mean.tolist() == local.mean.tolist()
    assert pooled.history["avg_rew"].tolist() == local.history["avg_rew"].tolist()


class _Serial:
    """A pool that maps here: the same tasks as the cluster's, one after another."""

    def map(self, fn, iterable):
        return map(fn, iterable)


def test_a_worker_killed_mid_run_is_retried_not_lost(client, rng):
    # 500-step episodes, 300 tasks: seconds of work, while the kill comes as soon as the first task runs.
    thetas = balancing_cartpole_thetas(1500, rng)
    expected = fastcem.evaluate(thetas, "CartPole-v1", reset_seeds=[9])
    result = {}

    def run():
        result["returns"] = fastcem.evaluate_gym(thetas, "CartPole-v1", reset_seeds=[9], pool=client.get_executor(),
                                                 chunksize=5)

    worker = threading.Thread(target=run)
    worker.start()
    deadline = time.monotonic() + 60
    victim = None
    while victim is None and time.monotonic() < deadline:
        victim = next((w for w, keys in client.processing().items() if keys), None)
        time.sleep(0.01)
    assert victim is not None, "no task ever started on the cluster"
    assert worker.is_alive(), "the run ended before the kill; give it more work"
    with contextlib.suppress(Exception):  # the worker dies before it can answer
        client.run(os._exit, 1, workers=[victim])
    worker.join(timeout=120)
    assert not worker.is_alive()
    assert result["returns"].tolist() == expected.tolist()
