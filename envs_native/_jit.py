"""Numba settings shared by every compiled kernel of ``envs_native`` and ``fastcem``.

They live in one place so that a kernel cannot quietly differ from the others:

* ``fastmath=False`` everywhere.  The kernels promise the same bits as gymnasium, and
  fast-math lets LLVM reassociate, contract ``a * b + c`` into a fused multiply-add and
  assume no NaN, each of which changes results in the last bit.
* ``error_model="numpy"``: float division by zero gives inf/nan as numpy does, with no
  Python-style zero-divisor branch in the hot loops.
* ``cache=True``: compiled code is written next to the sources (or to
  ``NUMBA_CACHE_DIR``) so a new process loads it instead of compiling.  Kernels that call
  each other are module-level functions, never closures or function arguments: a
  dispatcher passed as an argument is keyed by its address and never hits the cache.
* ``nogil=True``: a Python thread calling a kernel does not hold up the others.
* The pieces of a kernel (an env's dynamics and observation, the engine's stepper, the
  modes' math) are :func:`inline`: LLVM always inlines them, so a loop over lanes has no
  call left and vectorizes, and one ``sin(theta)`` serves the observation and the dynamics.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import itertools
import operator
import os
import pickle
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import llvmlite.binding as llvm
from llvmlite import ir
from numba import njit, types
from numba.core import caching, cgutils, config
from numba.core.codegen import get_host_cpu_features
from numba.core.compiler_lock import global_compiler_lock
from numba.core.registry import CPUDispatcher
from numba.extending import intrinsic

# A loop over lanes reads every row of the policy's parameters and of the state and writes
# every row of the next state; LLVM checks each written row against each read one for
# overlap before it runs the vector loop.  Acrobot's lanes (21 parameter rows, 5 state rows)
# need more such checks than LLVM's default limit of 128, above which it leaves the loop
# scalar (its remark: "too many memory checks needed").  The checks run once per loop, not
# per lane.  A process-wide LLVM option, read when a loop is compiled.
llvm.set_option("", "-vectorize-memory-check-threshold=1024")

# numba keeps one cache index per function, holding every signature compiled for it; a
# signature names its argument types, a user's env's params class among them, by module.
# A process that cannot import that module (another directory, another project) fails to
# read the index, and numba lets the error through: fastcem would crash on a kernel it only
# wanted to load.  Such an index is taken as stale instead (numba compiles and rewrites it).
_load_index = caching.IndexDataCacheFile._load_index


def _load_index_or_nothing(self: caching.IndexDataCacheFile) -> dict[Any, Any]:
    try:
        return _load_index(self)
    except (ImportError, AttributeError, pickle.UnpicklingError, EOFError, TypeError):
        return {}


if getattr(caching.IndexDataCacheFile._load_index, "__name__", "") != "_load_index_or_nothing":
    caching.IndexDataCacheFile._load_index = _load_index_or_nothing


def _save_one_at_a_time(self: caching.IndexDataCacheFile, key: Any, data: Any) -> None:
    """numba's ``IndexDataCacheFile.save``, one process at a time per cache directory, and the
    data written before the index names it.

    numba reads a function's index, picks the first data file name not in it, writes the
    index, then the data.  Two processes compiling the same function in two signatures at
    once (the command line's second process does, :mod:`fastcem._ahead`) could both pick the
    same name: one index entry lost, and the survivor's file holding the other signature's
    code, which numba would load for it.  Here a lock on the directory (POSIX ``flock``; none
    where there is no ``fcntl``) makes each save whole, and a process that finds an entry in
    an index finds its data.  Writes stay numba's own (a temporary file, then a rename)."""
    with _directory_locked(self._cache_path):
        overloads = self._load_index()
        data_name = overloads.get(key)
        if data_name is None:
            existing = set(overloads.values())
            data_name = next(name for name in map(self._data_name, itertools.count(1)) if name not in existing)
        self._save_data(data_name, data)
        if key not in overloads:
            overloads[key] = data_name
            self._save_index(overloads)


@contextlib.contextmanager
def _directory_locked(path: str) -> Iterator[None]:
    """An exclusive ``flock`` on a lock file in ``path`` for the duration; unlocked (as numba
    saves) where the platform has no ``fcntl``, the file cannot be opened, or the file system
    cannot lock (``ENOLCK`` on NFS without a lock daemon, some FUSE mounts)."""
    fd = None
    try:
        import fcntl

        # Read-only suffices for flock: a lock file another user made stays usable.
        fd = os.open(os.path.join(path, ".fastcem-save.lock"), os.O_RDONLY | os.O_CREAT, 0o666)
        fcntl.flock(fd, fcntl.LOCK_EX)
    except (ImportError, OSError):
        if fd is not None:
            os.close(fd)
            fd = None
    try:
        yield
    finally:
        if fd is not None:
            os.close(fd)  # releases the lock


# numba's internals the save uses; a numba without them saves as it does.
_SAVE_NEEDS = ("_data_name", "_save_data", "_save_index", "_load_index")
if all(hasattr(caching.IndexDataCacheFile, n) for n in _SAVE_NEEDS) and caching.IndexDataCacheFile.save is not \
        _save_one_at_a_time:
    caching.IndexDataCacheFile.save = _save_one_at_a_time

F = TypeVar("F", bound=Callable[..., Any])

JIT_OPTIONS: dict[str, Any] = {
    "cache": True,
    "fastmath": False,
    "error_model": "numpy",
    "nogil": True,
}


_collector_lock = threading.Lock()
_collector_pauses = 0
_collector_resumes = False


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the duration (back on after, if it was on).

    numba's compiler makes hundreds of thousands of short-lived objects, and the collector,
    run by their count, went through all of them and everything else again and again: 0.35 s
    of a first CartPole ``evaluate``'s 5.7 s compile, for some 30,000 cycles that free a few
    megabytes, which it collects after.  Nested and concurrent pauses end with the last one."""
    global _collector_pauses, _collector_resumes
    with _collector_lock:
        if _collector_pauses == 0:
            _collector_resumes = gc.isenabled()
            gc.disable()
        _collector_pauses += 1
    try:
        yield
    finally:
        with _collector_lock:
            _collector_pauses -= 1
            if _collector_pauses == 0 and _collector_resumes:
                gc.enable()


def _collector_after_fork() -> None:
    """In a child forked while another thread compiled: no pause is under way there."""
    global _collector_lock, _collector_pauses
    _collector_lock = threading.Lock()
    if _collector_pauses and _collector_resumes:
        gc.enable()
    _collector_pauses = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_collector_after_fork)


def _wide_registers() -> bool:
    """Whether numba compiles for a CPU with AVX-512 (32 vector registers): the host's, or the
    one ``NUMBA_CPU_FEATURES`` names."""
    features = config.CPU_FEATURES if config.CPU_FEATURES is not None else get_host_cpu_features()
    return "+avx512f" in features.split(",")


#: Vector iterations of a loop LLVM interleaves (0: its cost model's choice).  A lane loop's
#: step is long chains of dependent operations (CartPole's four divisions, the sin/cos
#: polynomials), and two blocks of lanes in flight at once fill the gaps: on this AVX-512 Xeon
#: evaluate ran 1.05-1.09 times faster, train 3-6% and the planner 7% (side by side, the same
#: bits).  Only with AVX-512's 32 vector registers: with 16, twice the live vectors of a long
#: step would spill.
INTERLEAVE = 2 if _wide_registers() else 0
_interleaving = 0  # nested compiles under way
_interleave_count = 0  # the option as the outermost one set it


def _interleave_anything(arg_types: tuple[Any, ...]) -> bool:
    return True


_interleave_allowed: Callable[[tuple[Any, ...]], bool] = _interleave_anything


def interleave_only_if(allowed: Callable[[tuple[Any, ...]], bool]) -> None:
    """Interleave the loops of a kernel only where ``allowed(argument types)`` (set by
    :mod:`envs_native.spec`: an env whose step is too long for two blocks of lanes to stay in
    registers says no)."""
    global _interleave_allowed
    _interleave_allowed = allowed


@contextlib.contextmanager
def _interleaved(arg_types: tuple[Any, ...]) -> Iterator[None]:
    """LLVM's ``-force-vector-interleave`` at :data:`INTERLEAVE` while this project's kernel of
    ``arg_types`` compiles (with what it calls), if :func:`interleave_only_if` allows it, and
    back to the cost model's choice after, for the other numba code of the process.  A
    process-wide option: callers hold numba's compiler lock."""
    global _interleaving, _interleave_count
    if _interleaving == 0:
        _interleave_count = INTERLEAVE if INTERLEAVE and _interleave_allowed(arg_types) else 0
        if _interleave_count:
            llvm.set_option("", f"-force-vector-interleave={_interleave_count}")
    _interleaving += 1
    try:
        yield
    finally:
        _interleaving -= 1
        if _interleaving == 0 and _interleave_count:
            llvm.set_option("", "-force-vector-interleave=0")
            _interleave_count = 0


class _Kernel(CPUDispatcher):
    """A dispatcher that compiles (or loads from the cache) with the garbage collector paused
    (:func:`collector_paused`) and LLVM interleaving lane loops (:func:`_interleaved`); numba
    calls ``_compile_for_args`` when a call finds no compiled code for its argument types."""

    def _compile_for_args(self, *args: Any, **kwargs: Any) -> Any:
        with collector_paused():
            return super()._compile_for_args(*args, **kwargs)

    def compile(self, sig: Any, *args: Any, **kwargs: Any) -> Any:
        wait = _ELSEWHERE.pop((id(self), _arg_types(sig)), None)
        if wait is not None:
            # Whatever goes wrong waiting, this process compiles the kernel itself.
            with contextlib.suppress(Exception):
                wait()
        with global_compiler_lock, collector_paused(), _interleaved(_arg_types(sig)):
            return super().compile(sig, *args, **kwargs)


def _arg_types(sig: Any) -> tuple[Any, ...]:
    """The argument types of a signature as ``Dispatcher.compile`` takes it (a tuple of types,
    or a ``Signature``)."""
    return tuple(getattr(sig, "args", sig))


#: Kernels another process is compiling into numba's cache, by (dispatcher id, argument
#: types): the function that waits for it (:func:`compiled_elsewhere`).
_ELSEWHERE: dict[tuple[int, tuple[Any, ...]], Callable[[], object]] = {}


def compiled_elsewhere(kernel: Any, sig: Any, wait: Callable[[], object]) -> None:
    """Say that another process is compiling ``kernel`` for ``sig`` into numba's cache: the
    first time this process would compile it (a call, or a kernel that calls it being
    compiled), it calls ``wait()`` first, then loads the cached code if there is some
    (:mod:`fastcem._ahead` runs that process)."""
    _ELSEWHERE[(id(kernel), _arg_types(sig))] = wait


def forget_elsewhere() -> None:
    """Forget every :func:`compiled_elsewhere`."""
    _ELSEWHERE.clear()


def cached(kernel: Any, sig: Any) -> bool:
    """Whether numba's cache holds ``kernel`` (a dispatcher) compiled for ``sig`` (a tuple of
    argument types), current for its source; False when that cannot be told."""
    try:
        cache = kernel._cache
        key = cache._index_key(_arg_types(sig), kernel.targetctx.codegen())
        return key in cache._cache_file._load_index()
    except Exception:
        return False


def cacheable(kernel: Any) -> bool:
    """Whether numba caches ``kernel`` (a dispatcher) on disk: not a ``cache=False`` one (code
    with no file, :func:`jit`)."""
    return hasattr(getattr(kernel, "_cache", None), "_cache_file")


#: The dispatchers of ``jit(called=True)`` kernels (see :func:`_link_called_late`).
_CALLED: list[Any] = []


def jit(fn: F | None = None, *, called: bool = False, **overrides: Any) -> Any:
    """``numba.njit`` with the project's settings; ``overrides`` (e.g. ``parallel=True``) win.

    ``called``: a kernel that other kernels call, never inline (a whole rollout worker, the
    planner's refit: each call does much work, and comes seldom); see :func:`_link_called_late`."""
    options = {**JIT_OPTIONS, **overrides}
    if fn is None:
        return lambda f: jit(f, called=called, **overrides)
    try:
        dispatcher = njit(**options)(fn)
    except RuntimeError as exc:
        # Code with no file to cache next to (``python -c``, ``exec``, a REPL) compiles
        # uncached: numba refuses ``cache=True`` there ("no locator available").
        if "no locator available" not in str(exc):
            raise
        dispatcher = njit(**{**options, "cache": False})(fn)
    dispatcher.__class__ = _Kernel
    if called:
        _CALLED.append(dispatcher)
    return dispatcher



PIECE_OPTIONS: dict[str, Any] = {"forceinline": True, "no_cpython_wrapper": True, "no_cfunc_wrapper": True}


#: Names of argument types whose pieces keep numba's optimization of their own
#: (:func:`optimize_alone`).
_OPTIMIZED_ALONE: set[str] = set()


def optimize_alone(type_name: str) -> None:
    """Let the pieces compiled for an argument of the type named ``type_name`` be optimized
    on their own as well, as numba does by default (see :func:`_optimize_pieces_once`)."""
    _OPTIMIZED_ALONE.add(type_name)


def _wrap_library_method(name: str, wrap: Callable[[Any], Any], needs: tuple[str, ...] = ()) -> None:
    """Replace numba's ``CPUCodeLibrary.<name>`` by ``wrap(original)``, once (a second call
    leaves it); nothing where this numba lacks that method or any of ``needs``, so that a numba
    without these internal hooks compiles as numba does."""
    from numba.core import codegen

    library: Any = getattr(codegen, "CPUCodeLibrary", None)
    original = getattr(library, name, None)
    if original is None or getattr(original, "_fastcem", False) or not all(hasattr(library, n) for n in needs):
        return
    replacement = wrap(original)
    replacement._fastcem = True
    setattr(library, name, replacement)


def _pieces_functions(module: Any) -> list[Any]:
    """The functions ``module`` defines if every one of them is always inlined (the module of a
    kernel's piece), else none."""
    # numba's reference-counting helpers (NRT_incref, ...) come along in every module.
    functions = [fn for fn in module.functions if not fn.is_declaration and not fn.name.startswith(("NRT_", "nrt_"))]
    piece = bool(functions) and all(b"alwaysinline" in b" ".join(fn.attributes) for fn in functions)
    return functions if piece else []


def _optimize_pieces_once() -> None:
    """Leave LLVM's module optimization of a library whose every function is always inlined
    (a kernel's piece) to the kernel it is inlined into.

    numba optimizes each compiled function's module at -O3 on its own, then again in every
    caller that links it in.  For a piece that first pass is thrown away (its code is only
    ever inlined), and it is not harmless: a piece optimized alone comes into the lane loop
    already rewritten for scalar code, and the loop vectorizes worse (the CartPole policy
    rollouts, exact mode: 18 -> 14.5 ms single-threaded, side by side).  Measured the other
    way for the planner's rollouts (2.5 times slower; the cause not found), whose actor's
    pieces are therefore still optimized alone (:func:`optimize_alone`).  A numba without
    this internal hook compiles as numba does."""

    def wrap(original: Any) -> Any:
        def optimize(self: Any) -> None:
            functions = _pieces_functions(self._final_module)
            if functions and not any(name in fn.name for fn in functions for name in _OPTIMIZED_ALONE):
                return
            original(self)

        return optimize

    _wrap_library_method("_optimize_final_module", wrap)


_optimize_pieces_once()


def _no_machine_code_for_pieces() -> None:
    """Give a kernel's pieces no machine code of their own: only their LLVM IR is ever used
    (inlined into the kernels that call them).

    numba hands every compiled library to LLVM's JIT, which generates its machine code, and
    caches that code; a piece has no Python wrapper and nothing ever calls its code, yet
    generating it took an eighth of a first ``fastcem cartpole`` (48 pieces, 1.3 of 11 s).
    A piece's library is finalized without the JIT here, and cached as LLVM bitcode (numba's
    other cache format, which it loads the same way).  A numba without these internal hooks
    compiles as numba does."""

    def wrap_finalize(finalize: Any) -> Any:
        def finalize_final_module(self: Any) -> None:
            if not _pieces_functions(self._final_module):
                finalize(self)
                return
            self._finalize_dynamic_globals()
            self._verify_declare_only_symbols()
            # The JIT gets the piece's environment pointers alone (numba sets them after
            # compiling; the kernels that inline the piece share them), no function.
            envs = ir.Module(name=f"{self._final_module.name}.env")
            for gv in self._final_module.global_variables:
                if gv.name.startswith("_ZN08NumbaEnv"):
                    env = ir.GlobalVariable(envs, ir.IntType(8).as_pointer(), name=gv.name)
                    env.linkage = "common"
                    env.initializer = ir.Constant(env.type.pointee, None)
            self._codegen._add_module(llvm.parse_assembly(str(envs)))
            self._codegen._engine.finalize_object()
            self._finalized = True

        return finalize_final_module

    def wrap_serialize(serialize: Any) -> Any:
        def serialize_using_object_code(self: Any) -> Any:
            if self._finalized and _pieces_functions(self._final_module):
                return self.serialize_using_bitcode()
            return serialize(self)

        return serialize_using_object_code

    # Both or neither: a piece finalized without the JIT has no object code to cache.
    needs = ("_finalize_final_module", "serialize_using_object_code", "_finalize_dynamic_globals",
             "_verify_declare_only_symbols", "serialize_using_bitcode")
    _wrap_library_method("serialize_using_object_code", wrap_serialize, needs)
    _wrap_library_method("_finalize_final_module", wrap_finalize, needs)


_no_machine_code_for_pieces()


def _link_called_late() -> None:
    """Link a ``jit(called=True)`` kernel into its callers after their own code is optimized.

    numba links every kernel a kernel calls into the caller's module, then optimizes the whole
    module at -O3, so that LLVM may inline the callee; the callee's code, optimized when it
    was compiled, is optimized again in every caller, and in every caller of that caller:
    the planning loop optimized its rollout worker and its refit again (the selection and the
    exact returns inside the refit a fourth time), half of the loop's own compile.  A kernel
    that does much work per call gains nothing from being inlined, so such a callee is linked
    in after the caller's own code is optimized, as the finished code it is (LLVM then calls
    it).  A numba without this internal hook compiles as numba does."""

    def wrap(finalize: Any) -> Any:
        def finalize_linking_called_late(self: Any) -> None:
            called = {id(cres.library) for d in _CALLED for cres in tuple(d.overloads.values())}
            everything = self._linking_libraries
            late = [lib for lib in everything if id(lib) in called]
            if not late:
                finalize(self)
                return
            # numba's finalize links the others and optimizes; its last step comes after the late links.
            self._linking_libraries = [lib for lib in everything if id(lib) not in called]
            reached: list[bool] = []
            self._finalize_final_module = lambda: reached.append(True)  # shadows the method for this call
            try:
                finalize(self)
            finally:
                del self._finalize_final_module
                self._linking_libraries = everything
            if not reached or self._finalized:
                # Linked late or not at all, a callee would be missing from the cached code.
                raise RuntimeError("this numba finalizes libraries in a way envs_native._jit does not know; "
                                   "remove _link_called_late")
            for lib in dict.fromkeys(late):
                self._reload_init.update(lib._reload_init)
                self._final_module.link_in(lib._get_module_for_linking(), preserve=True)
            self._final_module.verify()
            self._finalize_final_module()

        return finalize_linking_called_late

    _wrap_library_method("finalize", wrap, ("_finalize_final_module", "_get_module_for_linking"))


_link_called_late()

#: Numba's mangled names of the functions compiled from this project's modules, and of the
#: kernels' Python wrappers.
_OWN_NAMES = ("7fastcem", "11envs_native")
#: The function attribute by which LLVM picks vector registers up to 512 bits wide where the
#: CPU has them (it names no CPU feature, so the cache's key and other compiled code are unchanged).
_WIDE_VECTORS = '"prefer-vector-width"="512"'


def _prefer_wide_vectors() -> None:
    """Let LLVM vectorize this project's kernels with the CPU's widest vectors.

    On Intel CPUs with AVX-512 (Skylake-SP to Sapphire Rapids), LLVM's tuning prefers
    256-bit vectors: it uses 512-bit ones only in a function that asks for them with this
    attribute.  A lane loop's every operation is elementwise IEEE arithmetic, which gives the
    same bits in any register width, and on such a CPU it ran 1.2 to 1.4 times faster with them
    (CartPole and Pendulum, exact and fast, side by side).  AMD's Zen 4 and 5 use them already;
    a CPU without AVX-512 ignores the attribute.  Only functions compiled from fastcem and
    envs_native are marked (a user's env is inlined into them); a numba without this internal
    hook compiles as numba does."""

    def wrap(original: Any) -> Any:
        def add_ir_module(self: Any, ir_module: Any) -> None:
            for fn in ir_module.functions:
                if not fn.is_declaration and any(name in fn.name for name in _OWN_NAMES):
                    # FunctionAttributes.add takes only the attributes llvmlite knows by name.
                    set.add(fn.attributes, _WIDE_VECTORS)
            original(self, ir_module)

        return add_ir_module

    _wrap_library_method("add_ir_module", wrap)


_prefer_wide_vectors()


class _Piece(_Kernel):
    """A dispatcher compiled without a Python wrapper: called from Python it would jump into
    nothing, so it says what to do instead."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"{self.py_func.__module__}.{self.py_func.__qualname__} is a piece of compiled kernels: "
                        "call it from numba-compiled (@njit) code, not from Python")


def inline(fn: F) -> F:
    """The decorator of a kernel's pieces (an env's dynamics, the engine's stepper, the math of
    a mode): compiled once per signature as a function that LLVM always inlines
    (``forceinline``), so a loop over lanes stays free of calls and vectorizes.  numba's own
    IR inlining (``inline="always"``) gives the same code but re-types the piece at every
    call site: it made the population kernel take 28 s to compile instead of 4.  A piece is
    never called from Python, so numba makes no Python or C wrapper for it (which halves
    what compiling a small function costs)."""
    piece = jit(fn, **PIECE_OPTIONS)
    piece.__class__ = _Piece
    return piece


def inline_noalias(fn: F) -> F:
    """:func:`inline`, with every array argument declared ``noalias`` (numba's internal
    ``noalias`` flag, which ``njit`` does not take): the caller promises that no two of them
    share memory.  LLVM turns that into alias scopes where it inlines the piece, and a loop
    over lanes that reads some arrays and writes others vectorizes without checking at run
    time, every time it starts, that no written row overlaps any other (hundreds of compares
    before each CartPole step, a tenth of its time)."""
    piece: Any = inline(fn)
    compiler = piece._compiler
    customize = compiler._customize_flags

    def with_noalias(flags: Any) -> Any:
        flags = customize(flags)
        flags.noalias = True
        return flags

    compiler._customize_flags = with_noalias
    return piece


def overload_options() -> dict[str, Any]:
    """Keyword arguments of ``numba.extending.overload`` for a piece: always inlined, and no
    ``cache`` (the implementation is compiled into its callers, which carry the cache)."""
    return {"jit_options": {**{k: v for k, v in JIT_OPTIONS.items() if k != "cache"}, **PIECE_OPTIONS}}


def _forwarding(choose: Callable[..., Any], typingctx: Any, args: tuple[Any, ...]) -> Any:
    """The typing of a :func:`forward` call: ``(signature, codegen)``, or None."""
    chosen = choose(*args)
    if chosen is None:
        return None
    kernel, positions = chosen if isinstance(chosen, tuple) else (chosen, range(len(args)))
    fnty = types.Dispatcher(kernel)
    callee = fnty.get_call_type(typingctx, tuple(args[i] for i in positions), {})
    if callee is None:
        return None

    def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
        values = [context.cast(builder, llargs[i], signature.args[i], callee.args[n])
                  for n, i in enumerate(positions)]
        return context.get_function(fnty, callee)(builder, values)

    return callee.return_type(*args), codegen


def _typer_of(choose: Callable[..., Any], typing: Callable[..., Any]) -> Any:
    """``typing(typingctx, args)`` as an intrinsic's typer that takes ``choose``'s arguments
    (numba's intrinsics take fixed arguments: ``*args`` would reach them as one tuple)."""

    def typer(typingctx: Any, *args: Any) -> Any:
        return typing(typingctx, args)

    positional = inspect.Parameter.POSITIONAL_OR_KEYWORD
    names = ["typingctx", *inspect.signature(choose).parameters]
    typer.__signature__ = inspect.Signature([inspect.Parameter(n, positional) for n in names])  # type: ignore[attr-defined]
    typer.__name__ = typer.__qualname__ = choose.__name__
    typer.__doc__ = choose.__doc__
    return intrinsic(typer)


def forward(choose: Callable[..., Any]) -> Any:
    """A compiled function that calls a kernel's piece picked by its argument types, with no
    compiled function of its own in between (numba's ``@overload`` compiles the lambda it
    returns as one, some 25 ms of numba's pipeline each, and a kernel has dozens).

    ``choose(*argument_types)`` returns the piece, called with all the arguments, or
    ``(piece, positions)``, called with the arguments at ``positions``; or None where there is
    no such function for those types."""
    return _typer_of(choose, lambda typingctx, args: _forwarding(choose, typingctx, args))


def constant(choose: Callable[..., Any]) -> Any:
    """A compiled function whose value is ``choose(*argument_types)``, an int or a bool (None:
    no such function for those types): a literal of the kernel, as an ``@overload``
    returning a lambda of a constant gives, with no compiled function of its own."""

    def typing(typingctx: Any, args: tuple[Any, ...]) -> Any:
        value = choose(*args)
        if value is None:
            return None
        if not isinstance(value, (bool, int)):
            raise TypeError(f"{choose.__name__} gave {value!r}, not an int or a bool")
        result = types.literal(value)

        def codegen(context: Any, builder: Any, signature: Any, llargs: Any) -> Any:
            return context.get_constant(types.boolean if isinstance(value, bool) else types.int64, value)

        return result(*args), codegen

    return _typer_of(choose, typing)


@intrinsic
def new_array(typingctx: Any, shape: Any, dtype: Any) -> Any:
    """``np.empty(shape, dtype)`` in a kernel, for an int ``shape`` (1-D) and a numpy scalar
    type (``np.int64``, ``np.float64``, ``np.bool_``), emitted in the caller: numba's
    ``np.empty`` is an ``@overload`` whose implementation it compiles as a function of its
    own for each array type, some 80 ms each."""
    if not (isinstance(shape, types.Integer) and isinstance(dtype, types.NumberClass)):
        return None
    from numba.core.imputils import impl_ret_new_ref
    from numba.np.arrayobj import _empty_nd_impl

    array_type = types.Array(dtype.dtype, 1, "C")

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        size = context.cast(builder, args[0], signature.args[0], types.intp)
        negative = builder.icmp_signed("<", size, context.get_constant(types.intp, 0))
        with cgutils.if_unlikely(builder, negative):
            context.call_conv.return_user_exc(builder, ValueError, ("negative dimensions not allowed",))
        array = _empty_nd_impl(context, builder, array_type, [size])
        return impl_ret_new_ref(context, builder, array_type, array._getvalue())

    return array_type(shape, dtype), codegen


def _select(keep_second: Any) -> Any:
    """An intrinsic ``(a, b)`` giving ``b`` where ``keep_second(b, a)``, else ``a``: numba's (and
    Python's) ``max`` with ``operator.gt``, ``min`` with ``operator.lt``, NaN and ties included,
    emitted in the caller; numba compiles its ``min`` and ``max`` as functions of their own
    for each signature."""

    def typer(typingctx: Any, a: Any, b: Any) -> Any:
        common = typingctx.unify_types(a, b)
        if not isinstance(common, (types.Integer, types.Float)):
            return None

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            x = context.cast(builder, args[0], signature.args[0], common)
            y = context.cast(builder, args[1], signature.args[1], common)
            compare = context.get_function(keep_second, types.boolean(common, common))
            return builder.select(compare(builder, (y, x)), y, x)

        return common(a, b), codegen

    return intrinsic(typer)


#: ``min(a, b)`` and ``max(a, b)`` of two numbers, as numba computes them (see :func:`_select`).
smaller = _select(operator.lt)
larger = _select(operator.gt)
