"""The ``fastcem`` command line: the reference's experiments, their outputs, and user errors that
give one line and a non-zero exit."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import fastcem
from fastcem import cli

EPOCH_LINE = re.compile(r"^epoch (\d+) - (-?\d+\.\d) (\d+\.\d) pop - (-?\d+\.\d) (\d+\.\d) elites$")


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "fastcem", *args], capture_output=True, text=True, timeout=300)


def test_cartpole_prints_the_references_lines_and_scores_in_gymnasium(tmp_path):
    out = tmp_path / "run.json"
    res = run("cartpole", "--epochs", "3", "--batch_size", "512", "--seed", "5", "--eval-episodes", "3",
              "--out", str(out))
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].startswith("expt of 1536 total episodes on CartPole-v1") and lines[0].endswith("seed 5")
    epochs = [EPOCH_LINE.match(line) for line in lines[1:4]]
    assert all(epochs), lines[1:4]
    # The printed statistics are the run's history (the same seed gives the same run).
    result = fastcem.load_result(out)
    expected = fastcem.train("CartPole-v1", epochs=3, batch_size=512, seed=5)
    assert result.mean.tobytes() == expected.mean.tobytes()
    for m, avg in zip(epochs, expected.history["avg_elites"], strict=True):
        assert m.group(4) == f"{avg:.1f}"
    assert lines[4].startswith("expt took ") and "seconds" in lines[4]
    assert lines[-2] == "epochs done - evaluating 3 best thetas on 3 fresh gymnasium episodes each"
    assert re.fullmatch(r"best rewards - \[\d+\.\d, \d+\.\d, \d+\.\d\] mean across 3 episodes each", lines[-1])
    assert _without_compile_notice(res.stderr) == ""


@pytest.mark.parametrize("env_id", ["Acrobot-v1", "MountainCarContinuous-v0"])
def test_train_runs_any_native_env_id(env_id, tmp_path):
    out = tmp_path / "run.npz"
    code = cli.main(["train", env_id, "--epochs", "2", "--batch-size", "64", "--seed", "3", "--eval-episodes", "2",
                     "--init-std", "2.5", "--out", str(out)])
    assert code == 0
    expected = fastcem.train(env_id, epochs=2, batch_size=64, seed=3, std=2.5)
    assert fastcem.load_result(out).mean.tobytes() == expected.mean.tobytes()


def test_train_fills_in_the_envs_settings():
    args = cli.build_parser().parse_args(["train", "Pendulum-v1"])
    cli._train_defaults(args)
    assert (args.epochs, args.episodes, args.init_std) == (15, 1, 1.0)
    args = cli.build_parser().parse_args(["train", "Pendulum-v1", "--epochs", "3"])
    cli._train_defaults(args)
    assert args.epochs == 3


def _without_compile_notice(stderr: str) -> str:
    """stderr less the notice a run prints while it compiles (whether it does depends on
    numba's cache)."""
    return "".join(line for line in stderr.splitlines(keepends=True)
                   if not line.startswith("fastcem: compiling kernels for "))


def test_a_run_that_compiles_says_so_once(tmp_path):
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    cold = subprocess.run([sys.executable, "-m", "fastcem", "demo", "--population", "64"], capture_output=True,
                          text=True, timeout=300, env=env)
    assert cold.returncode == 0, cold.stderr
    # Once, on one line, and nothing else on stderr.
    assert cold.stderr == "fastcem: compiling kernels for CartPole-v1 (first run only)\n"


def test_a_first_run_compiles_the_selection_in_a_second_process(tmp_path):
    """``fastcem train`` cold: the second process writes the elite selection to the cache while
    the first compiles the rollouts, and the first loads it from there."""
    env = {**__import__("os").environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    script = ("import sys; from fastcem import cli, selection\n"
              "code = cli.main(sys.argv[1:])\n"
              "stats = selection.select_elites.stats\n"
              "print(sum(stats.cache_hits.values()), sum(stats.cache_misses.values()))\n"
              "sys.exit(code)")
    res = subprocess.run([sys.executable, "-c", script, "train", "MountainCar-v0", "--epochs", "1", "--batch-size",
                          "64", "--eval-episodes", "1", "--seed", "0"], capture_output=True, text=True, timeout=300,
                         env=env)
    assert res.returncode == 0, res.stderr
    assert res.stdout.splitlines()[-1] == "1 0", res.stdout  # loaded from the cache, not compiled


def test_the_command_exits_with_mains_code_and_without_the_last_collections(tmp_path):
    """``run`` (the ``fastcem`` command) passes main's exit code on, with the output complete, and
    freezes the garbage collector first (Python's collections at exit would cost 0.3-0.5 s)."""
    script = ("import atexit, gc, sys\n"
              "from fastcem import cli\n"
              "atexit.register(lambda: print('frozen', gc.get_freeze_count() > 0))\n"
              "sys.argv = ['fastcem', *sys.argv[1:]]\n"
              "cli.run()")
    ok = subprocess.run([sys.executable, "-c", script, "demo", "--population", "16"], capture_output=True, text=True,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].startswith("CartPole-v1: 16 linear policies")
    assert ok.stdout.splitlines()[-1] == "frozen True"
    bad = subprocess.run([sys.executable, "-c", script, "cartpole", "--out", str(tmp_path / "no" / "r.json")],
                         capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2
    assert bad.stderr.startswith("fastcem: error: --out") and len(bad.stderr.splitlines()) == 1, bad.stderr


def test_pendulum_plot_npz_and_video(tmp_path):
    plot, out, videos = tmp_path / "history.png", tmp_path / "run.npz", tmp_path / "videos"
    res = run("pendulum", "--epochs", "2", "--batch-size", "128", "--seed", "0", "--eval-episodes", "1",
              "--plot", str(plot), "--out", str(out), "--record-video", str(videos))
    assert res.returncode == 0, res.stderr
    assert sum(bool(EPOCH_LINE.match(line)) for line in res.stdout.splitlines()) == 2
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert fastcem.load_result(out).epochs == 2
    (video,) = videos.glob("*.mp4")
    assert video.stat().st_size > 1000


def test_plan_prints_each_episode_and_the_decision_rate():
    res = run("plan", "cartpole", "--episodes", "2", "--horizon", "40", "--candidates", "200", "--top-k", "20",
              "--iters", "3", "--seed", "3")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[1] == "episode 0 (reset seed 3) - return 500.0"
    assert lines[2] == "episode 1 (reset seed 4) - return 500.0"
    assert re.fullmatch(r"mean return 500\.0 over 2 episodes; 1000 decisions at [\d,]+ decisions/s", lines[3])


def test_num_process_beyond_the_machine_uses_all_threads(capsys):
    assert cli.main(["demo", "--population", "16", "--num_process", "999"]) == 0
    assert "999 threads requested" in capsys.readouterr().err


def test_bare_command_prints_help(capsys):
    assert cli.main([]) == 0
    assert "cartpole" in capsys.readouterr().out


@pytest.mark.parametrize("command", [[], ["cartpole"], ["pendulum"], ["train"], ["plan"], ["demo"]])
def test_help_is_plain_text_with_an_example_that_parses(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command, "--help"])
    assert exit_.value.code == 0
    text = capsys.readouterr().out
    assert "``" not in text and ":class:" not in text and "the seed" not in text
    heading = "examples:" if not command else "example:"
    assert heading in text
    # An example's command ends where its explanation (two spaces further on) begins.
    examples = [re.split(r"\s{2,}", line.strip())[0].split() for line in text.split(heading)[1].splitlines()
                if line.startswith("  fastcem ")]
    assert examples
    for example in examples:
        # Each example is a valid command line: it parses (its options exist and take its values).
        assert cli.build_parser().parse_args(example[1:]).command == example[1]


@pytest.mark.parametrize("missing", ["matplotlib", "moviepy"])
def test_missing_extra_says_how_to_install_it(monkeypatch, capsys, tmp_path, missing):
    import importlib.util

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == missing else real_find_spec(name, *a))
    monkeypatch.setitem(sys.modules, "matplotlib", None if missing == "matplotlib" else sys.modules.get("matplotlib"))
    flag = ["--plot", str(tmp_path / "p.png")] if missing == "matplotlib" else ["--record-video", str(tmp_path)]
    assert cli.main(["cartpole", "--epochs", "1", *flag]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "pip install 'fastcem[" in err[0]


@pytest.mark.parametrize("args", [
    ("cartpole", "--env", "Acrobot-v1"),
    ("pendulum", "--env", "CartPole-v1"),
    ("cartpole", "--epochs", "0"),
    ("cartpole", "--batch-size", "1"),
    ("cartpole", "--batch-size", "4"),  # 0.2 * 4 rounds down to 0 elites
    ("cartpole", "--elite-frac", "0"),
    ("cartpole", "--elite-frac", "1.5"),
    ("cartpole", "--extra-std", "-1"),
    ("cartpole", "--extra-std", "nan"),
    ("cartpole", "--extra-decay-time", "0"),
    ("cartpole", "--seed", "-4"),
    ("cartpole", "--episodes", "x"),
    ("cartpole", "--num-threads", "0"),
    ("cartpole", "--out", "run.pickle"),
    ("cartpole", "--out", "/no/such/dir/run.npz"),
    ("cartpole", "--plot", "/no/such/dir/p.png"),
    ("cartpole", "--bogus"),
    ("demo", "--population", "0"),
    ("train", "LunarLander-v3"),
    ("train", "Acrobot-v1", "--init-std", "0"),
    ("train",),
    ("plan", "acrobot"),
    ("plan", "pendulum", "--top-k", "5000"),
    ("plan", "pendulum", "--horizon", "0"),
    ("nope",),
])
def test_user_errors_exit_2_with_one_line(args, capsys):
    try:
        code = cli.main(list(args))
    except SystemExit as exit_:  # argparse's own errors exit from inside main
        code = exit_.code
    assert code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], captured.err
    assert "Traceback" not in captured.err and captured.out == ""


def test_user_error_through_the_console_entry_point():
    res = run("cartpole", "--elite_frac", "2")
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr


def test_demo_runs():
    res = run("demo", "--population", "64", "--seed", "1")
    assert res.returncode == 0, res.stderr
    assert "CartPole-v1: 64 linear policies" in res.stdout and "episodes/s" in res.stdout
    assert np.isfinite(float(re.search(r"mean (-?[\d.]+)", res.stdout).group(1)))


@pytest.mark.parametrize("tty", [True, False])
def test_progress_bar_only_on_a_terminal_and_after_two_seconds(monkeypatch, tty):
    monkeypatch.setattr(sys.stderr, "isatty", lambda: tty)
    bar = cli._progress(8)
    with bar:
        assert bar.disable is (not tty) and bar.total == 8
        if tty:
            assert bar.delay == 2.0
