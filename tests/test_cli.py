"""The ``fastcem`` command line: it runs, and user errors give one line and a non-zero exit."""

from __future__ import annotations

import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fastcem", *args], capture_output=True, text=True, timeout=300)


def test_demo_runs():
    res = run("demo", "--population", "64", "--seed", "1")
    assert res.returncode == 0, res.stderr
    assert "CartPole-v1: 64 linear policies" in res.stdout
    assert "episodes/s" in res.stdout


def test_no_command_runs_the_demo():
    res = run("--help")
    assert res.returncode == 0 and "demo" in res.stdout


@pytest.mark.parametrize("args", [
    ("demo", "--env", "Acrobot-v1"),
    ("demo", "--population", "0"),
    ("demo", "--seed", "-4"),
    ("demo", "--episodes", "x"),
    ("demo", "--num-threads", "999"),
    ("demo", "--bogus"),
    ("nope",),
])
def test_user_errors_exit_nonzero_with_one_line(args):
    res = run(*args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "error" in lines[0] and "Traceback" not in res.stderr
