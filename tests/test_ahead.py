"""The command line's second process (``fastcem._ahead``) and the numba hooks it relies on
(``envs_native._jit``: ``cached``, ``compiled_elsewhere``, cache saves one at a time).

Forking and numba's cache are per process: each test runs a script in a fresh Python with a
cache directory of its own."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from numba import types

from envs_native import _jit
from envs_native._jit import jit

ROOT = Path(__file__).parents[1]

_MODULE = '''
from envs_native._jit import jit


@jit
def add(a, b):
    return a + b


@jit(called=True)
def inner(a):
    return a * 2.0


@jit
def outer(a):
    return inner(a) + 1.0
'''

_PREAMBLE = """
import os, sys, threading, time
from numba import types
import kern
from envs_native._jit import cached
from fastcem._ahead import Ahead
sig = (types.float64, types.float64)
"""


def _run(tmp_path: Path, script: str) -> list[str]:
    (tmp_path / "kern.py").write_text(_MODULE)
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "cache"),
           "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    res = subprocess.run([sys.executable, "-c", _PREAMBLE + script], capture_output=True, text=True, timeout=300,
                         env=env, cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    return res.stdout.split()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the second process is forked on Linux only")
def test_the_second_process_caches_a_kernel_and_this_one_loads_it(tmp_path):
    out = _run(tmp_path, """
print(cached(kern.add, sig))
with Ahead([(kern.add, sig)]) as ahead:
    print(ahead.started, ahead.wait(1), cached(kern.add, sig))
    print(kern.add(1.0, 2.0), sum(kern.add.stats.cache_hits.values()), sum(kern.add.stats.cache_misses.values()))
with Ahead([(kern.add, sig)]) as again:  # cached now: nothing to do
    print(again.started, len(again.todo))
""")
    assert out == ["False", "True", "True", "True", "3.0", "1", "0", "False", "0"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the second process is forked on Linux only")
def test_a_callee_compiled_elsewhere_is_loaded_while_its_caller_compiles(tmp_path):
    # The command line's case: this process compiles the caller, and numba, typing it, comes
    # to the callee, which the other process compiles; this one waits for it and loads it.
    out = _run(tmp_path, """
one = (types.float64,)
waits = []
with Ahead([(kern.inner, one)]) as ahead:
    wait = ahead.wait
    ahead.wait = lambda n: waits.append(n) or wait(n)
    from envs_native import _jit
    _jit.compiled_elsewhere(kern.inner, one, lambda: ahead.wait(1))  # through the patched wait
    print(kern.outer(2.0), waits, sum(kern.inner.stats.cache_hits.values()),
          sum(kern.inner.stats.cache_misses.values()))
""")
    assert out == ["5.0", "[1]", "1", "0"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the second process is forked on Linux only")
def test_a_failed_second_process_leaves_the_kernel_to_this_one(tmp_path):
    # numba cannot type a + b for a float and a tuple: the child fails and exits.
    out = _run(tmp_path, """
bad = (types.float64, types.UniTuple(types.float64, 2))
with Ahead([(kern.add, bad)]) as ahead:
    t = time.monotonic()
    print(ahead.started, ahead.wait(1), time.monotonic() - t < 30, cached(kern.add, bad))
    print(kern.add(1.0, 2.0), sum(kern.add.stats.cache_misses.values()))
""")
    assert out == ["True", "False", "True", "False", "3.0", "1"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the second process is forked on Linux only")
def test_the_second_process_never_outlives_the_first(tmp_path):
    out = _run(tmp_path, """
import types as pytypes
from fastcem import _ahead

class Slow:  # a cached 'kernel' whose compile takes a minute
    _cache = pytypes.SimpleNamespace(_cache_file=None)

    def compile(self, sig):
        time.sleep(60)

def gone(pid):
    try:
        os.kill(pid, 0)
        return False
    except ProcessLookupError:
        return True

with Ahead([(Slow(), ())]) as ahead:
    pid = ahead._pid
print(ahead.started, gone(pid))
_ahead.WAIT_SECONDS = 0.2
with Ahead([(Slow(), ()), (Slow(), ())]) as ahead:
    pid = ahead._pid
    t = time.monotonic()
    # Out of time: the other process is ended, and the second wait returns at once.
    print(ahead.wait(1), gone(pid), ahead.wait(2), time.monotonic() - t < 10)
""")
    assert out == ["False", "True", "False", "True", "False", "True"]


def test_no_second_process_beside_another_thread(tmp_path):
    # Forking a process with threads is unsafe: everything is compiled here instead.
    out = _run(tmp_path, """
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
with Ahead([(kern.add, sig)]) as ahead:
    print(ahead.started, len(ahead.todo), kern.add(1.0, 2.0))
stop.set()
""")
    assert out == ["False", "1", "3.0"]


_SAVER = """
import sys
from numba.core import caching
import envs_native._jit  # its cache save
w = int(sys.argv[1])
cache = caching.IndexDataCacheFile(sys.argv[2], "f", ("stamp", 1))
for i in range(150):
    cache.save(("key", w, i), ("data", w, i))
"""


def test_saves_from_several_processes_keep_every_entry(tmp_path):
    """numba's save picks the first data file name its index does not hold: processes saving
    at once to one index would lose entries and swap data files.  Each save is whole here."""
    from numba.core import caching

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    savers = [subprocess.Popen([sys.executable, "-c", _SAVER, str(w), str(tmp_path)], env=env) for w in range(4)]
    assert [p.wait(timeout=300) for p in savers] == [0] * 4
    cache = caching.IndexDataCacheFile(str(tmp_path), "f", ("stamp", 1))
    assert all(cache.load(("key", w, i)) == ("data", w, i) for w in range(4) for i in range(150))
    assert len(list(tmp_path.glob("f.*.nbc"))) == 4 * 150


@jit
def _kernel(x):  # type: ignore[no-untyped-def]
    return x + 1


def test_a_kernel_compiled_elsewhere_is_waited_for_once_and_only_for_its_signature():
    waits: list[str] = []
    _jit.compiled_elsewhere(_kernel, (types.int64,), lambda: waits.append("int"))
    _jit.compiled_elsewhere(_kernel, (types.complex128,), lambda: waits.append("complex"))
    assert _kernel(1) == 2 and _kernel(2) == 3
    assert _kernel(1.5) == 2.5
    assert waits == ["int"]
    _jit.forget_elsewhere()
    assert _kernel(1j) == 1 + 1j
    assert waits == ["int"]


def test_a_wait_that_fails_leaves_the_compile_to_this_process():
    def broken() -> None:
        raise ValueError("no")

    _jit.compiled_elsewhere(_kernel, (types.int16,), broken)
    assert _kernel(np.int16(4)) == 5


def test_cached_is_false_where_it_cannot_tell():
    assert not _jit.cached(object(), (types.int64,))
    assert not _jit.cacheable(object()) and _jit.cacheable(_kernel)


def test_a_save_goes_on_unlocked_where_the_file_system_cannot_lock(tmp_path, monkeypatch):
    import errno
    import fcntl

    from numba.core import caching

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    cache = caching.IndexDataCacheFile(str(tmp_path), "f", ("stamp", 1))
    cache.save("key", "data")
    assert cache.load("key") == "data"
