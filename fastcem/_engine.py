"""The engine: one lane stepper for every loop that steps a native env.

It knows no env by name.  A kernel gets the env's params and a mode
(:mod:`envs_native.modes`); the env is found from the params' type
(:func:`envs_native.spec.spec_of_params`) when numba types the kernel, and its ``dynamics``
and ``observation`` are inlined into the loop.  So each kernel is compiled for one env, one
mode and one actor (where actions come from), and holds nothing of the others.

:func:`step_lanes` steps ``lanes`` episodes side by side, structure-of-arrays (one column
per lane): observation, action, dynamics, reward and termination as one loop without
branches or calls, which LLVM turns into vector instructions.  Elementwise IEEE operations
give the same bits in a vector register as in a scalar one (fast-math stays off), so a lane
computes what gymnasium computes wherever the mode says ``ok``; a lane whose step is not
certainly exact is redone in :class:`~envs_native.modes.Libm`, the C library one value at a
time.  The actor says where actions come from: a linear policy of the observation
(:class:`PolicyActor`), a plan (:class:`PlanActor`) or given actions (:class:`GivenActor`).
Policy rollouts, planning rollouts, the vector env and recording all step through it.

Numba notes.  Every piece is a ``forceinline`` function (LLVM's ``alwaysinline``): compiled
once per signature and inlined by LLVM, so it may be called from any number of places (numba's
own IR inlining allows one call site per kernel and re-types the callee at each).  Dispatch on
types uses ``@overload`` whose implementations are compiled into their callers, which carry
the cache; numba compares the parameters of a typing function and its implementation, so
neither is annotated.  Where the dispatch only picks a piece to call, or a constant, it is an
intrinsic (``envs_native._jit.forward``, ``constant``): no function of its own to compile.
"""

from __future__ import annotations

import itertools
from typing import Any, NamedTuple

import numpy as np
from llvmlite import ir
from numba import typeof, types
from numba.core import cgutils
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic, overload

from envs_native._jit import constant, forward, inline, inline_noalias, jit, optimize_alone, overload_options
from envs_native.modes import CERTAIN, Libm, clip
from envs_native.spec import Box, Discrete, EnvSpec, spec_of_params

from .mlp import relu_ops, relu_ops32, tanh_ops, tanh_ops32

INLINE = overload_options()


def _spec(params: types.Type) -> EnvSpec | None:
    cls = getattr(params, "instance_class", None)
    return spec_of_params(cls) if isinstance(cls, type) else None


# --- the env, found from its params' type -------------------------------------------------


def state_of(states: Any, k: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The state tuple held in column ``k`` of a ``(state_dim, lanes)`` array."""
    raise NotImplementedError


def policy_action(weights: Any, k: Any, obs: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The action of the linear policy in column ``k`` of ``weights``: the argmax of its
    outputs for a ``Discrete`` space, its output clipped to the bounds for a ``Box``."""
    raise NotImplementedError


def plan_action(value: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The env action of a plan value: for ``Discrete(n)`` the number of the thresholds
    ``-1 + 2 j / n`` (``j = 1 .. n - 1``) it exceeds (``Discrete(2)``: 1 where ``value > 0``);
    for a ``Box`` the value itself (the env clips it)."""
    raise NotImplementedError


@forward
def env_dynamics(state, action, params, mode):
    """``(next_state, reward, terminated, ok)`` of the env that ``params`` belongs to."""
    spec = _spec(params)
    return None if spec is None else spec.dynamics


@forward
def env_observation(state, params, mode):
    """``(obs, ok)`` of the env that ``params`` belongs to."""
    spec = _spec(params)
    return None if spec is None else spec.observation


_STATE_READERS: dict[int, Any] = {}


def _state_reader(dim: int) -> Any:
    """``lambda states, k, params: (states[0, k], ..., states[dim - 1, k])``."""
    if dim not in _STATE_READERS:
        items = ", ".join(f"states[{i}, k]" for i in range(dim))
        namespace: dict[str, Any] = {}
        exec(f"def read(states, k, params):\n    return ({items},)\n", namespace)
        _STATE_READERS[dim] = namespace["read"]
    return _STATE_READERS[dim]


@overload(state_of, **INLINE)
def _ol_state_of(states, k, params):
    spec = _spec(params)
    if spec is None:
        return None
    return _state_reader(spec.kernel_state_dim)


def spec_lanes(params: types.Type) -> int | None:
    """The ``lanes`` of the env whose params type is ``params``, or None."""
    spec = _spec(params)
    return None if spec is None else spec.lanes


@inline
def affine(weights: np.ndarray, k: int, obs: Any, j: int, act_dim: int) -> float:
    """``b_j + sum_i obs_i * W_ij`` for ``theta = weights[:, k]``, in float64, ``i`` ascending.

    ``W = theta[:obs_dim * act_dim].reshape(obs_dim, act_dim)`` and ``b = theta[obs_dim *
    act_dim:]``, the reference's layout.  numpy's ``obs @ W + b`` may round differently
    (BLAS can fuse multiply-adds and reorder the sum), and a one-bit change can flip an
    action, so the order is fixed.  The parameters are held parameter-major (one column per
    lane) so that lanes side by side read consecutive memory, which LLVM vectorizes.
    """
    s = obs[0] * weights[j, k]
    for i in range(1, len(obs)):
        s += obs[i] * weights[i * act_dim + j, k]
    return weights[len(obs) * act_dim + j, k] + s


@inline
def argmax_step(j: int, y: float, best: int, y_best: float, seen_nan: bool) -> tuple[int, float, bool]:
    """One output of an argmax with numpy's rules (the first maximum, or the first NaN):
    ``(best, y_best, seen_nan)`` after output ``j`` is ``y``.  Selects, not branches."""
    take = (j == 0) or ((not seen_nan) and ((y != y) or (y > y_best)))
    return (j if take else best), (y if take else y_best), seen_nan or (y != y)


@inline
def argmax_action(weights: np.ndarray, k: int, obs: Any, num_actions: int) -> int:
    """``argmax(y)`` with numpy's rules: the first maximum, or the first NaN if there is one.
    Written with selects instead of early returns, so that lanes vectorize."""
    # Typed starting values: literal ones would have numba compile argmax_step twice, for the
    # literal types of the first call and the loop's.
    best: Any = np.int64(0)
    y_best = 0.0
    seen_nan: Any = np.bool_(False)
    for j in range(num_actions):
        best, y_best, seen_nan = argmax_step(j, affine(weights, k, obs, j, num_actions), best, y_best, seen_nan)
    return best


@overload(policy_action, **INLINE)
def _ol_policy_action(weights, k, obs, params):
    spec = _spec(params)
    if spec is None:
        return None
    space = spec.action
    if isinstance(space, Discrete):
        n = space.n
        return lambda weights, k, obs, params: argmax_action(weights, k, obs, n)
    low, high = float(space.low), float(space.high)
    # np.clip to the action space's bounds; NaN passes through.
    return lambda weights, k, obs, params: clip(affine(weights, k, obs, 0, 1), low, high)


@overload(plan_action, **INLINE)
def _ol_plan_action(value, params):
    spec = _spec(params)
    if spec is None:
        return None
    space = spec.action
    if isinstance(space, Discrete):
        n = space.n

        def discrete(value, params):
            a = 0
            for j in range(1, n):
                a += value > -1.0 + 2.0 * j / n
            return a

        return discrete
    assert isinstance(space, Box)
    return lambda value, params: value


# --- actors: where a lane's action comes from ---------------------------------------------


class PolicyActor(NamedTuple):
    """The linear policy in column ``k`` of ``weights`` (``(policy_dim, lanes)``)."""

    weights: np.ndarray


class PlanActor(NamedTuple):
    """Plan value ``values[t, k]`` (``(horizon, lanes)``) at step ``t``."""

    values: np.ndarray
    t: int


# The planner's rollouts ran 2.5 times slower with their pieces optimized only in the kernel
# (envs_native._jit._optimize_pieces_once), the policy rollouts faster: measured both ways.
optimize_alone(PlanActor.__name__)


class GivenActor(NamedTuple):
    """``actions[first + k]``: actions given from outside (a vector env's)."""

    actions: np.ndarray
    first: int


class Tanh(NamedTuple):
    """The MLP's hidden activation :func:`fastcem.mlp.tanh_ops` (a type: compiled in)."""


class Relu(NamedTuple):
    """The MLP's hidden activation ``max(x, 0)`` (a type: compiled in)."""


#: Bytes of weights a network worker keeps for its lanes, at most (half of a 1 MiB L2 cache,
#: all of a 512 KiB one): each lane reads its own candidate's weights every step.
_NETWORK_WORKING_SET = 2**19


def network_lanes(weight_bytes: int) -> int:
    """Lanes of a network worker whose candidates have ``weight_bytes`` of weights each: 32
    for small networks, fewer as their weights grow, at least 8.  More lanes spread a step's
    fixed costs (the observation, the env's step, a worker's bookkeeping) over more episodes;
    their weights must stay in the L2 cache (a (64, 64) network on Pendulum: 16 lanes in float32,
    8 in float64, whose 16 lanes were 25% slower, measured)."""
    lanes = 32
    while lanes > 8 and lanes * weight_bytes > _NETWORK_WORKING_SET:
        lanes //= 2
    return lanes


#: Units whose sums a worker computes at once (:func:`mlp_forward_lanes`).
_UNIT_GROUP = 4


def column_order(sizes: tuple[int, ...]) -> np.ndarray:
    """The order of a network's parameters in ``MLPActor.columns``: per layer, the weights of
    units ``j0 .. j0 + 3`` (then of each remaining unit alone) input by input, ``W[0, j0 ..
    j0 + 3], W[1, j0 .. j0 + 3], ...``, then the biases.  A group of units is one contiguous
    block that :func:`mlp_forward_lanes` reads front to back (in ``theta``'s order the group's
    rows lie a layer's width apart: 64 streams a few hundred bytes long, which the caches'
    prefetchers follow badly; measured 1.5 times slower for 64 x 64 units)."""
    order: list[int] = []
    off = 0
    for n_in, n_out in itertools.pairwise(sizes):
        j0 = 0
        while j0 < n_out:
            group = _UNIT_GROUP if j0 + _UNIT_GROUP <= n_out else 1
            order.extend(off + i * n_out + j0 + u for i in range(n_in) for u in range(group))
            j0 += group
        off += n_in * n_out
        order.extend(range(off, off + n_out))
        off += n_out
    return np.array(order, dtype=np.int64)


class MLPActor(NamedTuple):
    """The networks of the lanes: lane ``k``'s parameters (``theta``: each layer's ``W``, ``in x
    out`` row-major, then ``b``) in column ``k`` of ``columns`` (``(num_params, lanes)``, float32
    or float64, the network's type), in the order :func:`column_order` gives (row ``r`` holds
    ``theta[order[r]]``); ``sizes`` the widths from input to output; ``x``, ``y`` (``width *
    lanes``, the columns' type; unit ``j`` of lane ``k`` at ``j * lanes + k``) and ``actions``
    (``lanes``) scratch; ``lanes`` a tuple of that many zeros, which makes the lane count a
    constant of the compiled code (:func:`lane_count`)."""

    columns: np.ndarray
    order: np.ndarray
    sizes: np.ndarray
    x: np.ndarray
    y: np.ndarray
    actions: np.ndarray
    activation: Any
    lanes: tuple[int, ...]  # as many zeros as lanes: their count is part of the type, a constant


def _tuple_length(marker: types.Type) -> int | None:
    return marker.count if isinstance(marker, types.UniTuple) else (0 if marker == types.Tuple(()) else None)


def mlp_lanes(actor: types.Type) -> int | None:
    """The lanes of an :class:`MLPActor` type (its ``lanes`` marker's length), or None."""
    if getattr(actor, "instance_class", None) is not MLPActor:
        return None
    return _tuple_length(actor.types[MLPActor._fields.index("lanes")])


@constant
def lane_count(actor):
    """An :class:`MLPActor`'s lanes (a constant)."""
    return mlp_lanes(actor)


def act(actor: Any, k: Any, obs: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """Lane ``k``'s action."""
    raise NotImplementedError


def activate(activation: Any, v: Any) -> Any:  # pragma: no cover - compiled only
    """The hidden layers' activation, in ``v``'s type."""
    raise NotImplementedError


@overload(activate, **INLINE)
def _ol_activate(activation, v):
    cls = getattr(activation, "instance_class", None)
    single = v == types.float32
    if cls is Tanh:
        return (lambda activation, v: tanh_ops32(v)) if single else (lambda activation, v: tanh_ops(v))
    if cls is Relu:
        return (lambda activation, v: relu_ops32(v)) if single else (lambda activation, v: relu_ops(v))
    return None


@inline
def _u(i: int) -> Any:
    """An index as uint64: numba adds no negative-index wraparound (whose select would hide
    from LLVM that a loop reads consecutive memory), and no view is made (making one
    touches its reference count, an atomic operation)."""
    return np.uint64(i)


#: AVX vectors (256 bits) of the network types.
_VECTORS = {types.float64: ir.VectorType(ir.DoubleType(), 4), types.float32: ir.VectorType(ir.FloatType(), 8)}


def _flat(a: types.Type, dtype: types.Type) -> bool:
    """A 1-D C-contiguous array of ``dtype``, writable or not (``columns`` may be read-only)."""
    return isinstance(a, types.Array) and a.dtype == dtype and a.ndim == 1 and a.layout == "C"


@intrinsic
def weighted_sums(typingctx, y, y0, y_unit, x, x0, x_in, w, w0, w_in, w_unit, n_in, units, lanes):
    """Sums of products of lanes side by side, held in vector registers: for ``u < units`` (a
    literal) and ``m <`` the length of the tuple ``lanes`` (its type's; a multiple of 4), ``y[y0 + u y_unit
    + m] = x[x0 + m] w[w0 + u w_unit + m] + x[x0 + x_in + m] w[w0 + w_in + u w_unit + m] + ...``
    over ``n_in`` inputs, ``i`` ascending; float32 or float64 (all three arrays one type).
    Products and sums are separate IEEE operations (no fused multiply-add), so each sum has
    the bits of the scalar loop.  Written as LLVM vector code because LLVM keeps the sums in
    memory otherwise: it cannot prove that ``y`` and ``w`` do not overlap, so each product
    costs a load and a store of ``y`` (twice the time, measured)."""
    indices = (y0, y_unit, x0, x_in, w0, w_in, w_unit, n_in)
    dtype = getattr(y, "dtype", None)
    per_unit = _tuple_length(lanes)
    if not (dtype in _VECTORS and isinstance(units, types.IntegerLiteral) and per_unit
            and _flat(x, dtype) and _flat(w, dtype) and _flat(y, dtype) and y.mutable
            and all(isinstance(a, types.Integer) for a in indices)):
        return None
    vec = _VECTORS[dtype]
    count = units.literal_value
    if per_unit % vec.count:
        return None
    width = per_unit // vec.count
    sig = types.void(y, y0, y_unit, x, x0, x_in, w, w0, w_in, w_unit, n_in, units, lanes)

    def codegen(context, builder, signature, args):
        y_start, y_step, x_start, x_step, w_start, w_step, w_unit_step, inputs = (
            context.cast(builder, args[n], signature.args[n], types.int64) for n in (1, 2, 4, 5, 7, 8, 9, 10))
        i64 = ir.IntType(64)
        y_data, x_data, w_data = (context.make_array(signature.args[n])(context, builder, args[n]).data
                                  for n in (0, 3, 6))
        align = 4 if dtype == types.float32 else 8

        def at(data, index, offset):  # the vector at data[index + offset]
            return builder.bitcast(builder.gep(data, [builder.add(index, ir.Constant(i64, offset))]),
                                   vec.as_pointer())

        def inputs_at(index):  # x[index + m] for each vector of lanes
            return [builder.load(at(x_data, index, vec.count * v), align=align) for v in range(width)]

        def weights_at(row):  # w[row + u w_unit + m] for each (u, vector of lanes)
            return [[builder.load(at(w_data, builder.add(row, builder.mul(ir.Constant(i64, u), w_unit_step)),
                                     vec.count * v), align=align) for v in range(width)] for u in range(count)]

        first = inputs_at(x_start)
        sums = []
        for row in weights_at(w_start):  # the first term is the product alone, as the scalar loop's
            for v in range(width):
                slot = cgutils.alloca_once(builder, vec)
                builder.store(builder.fmul(first[v], row[v]), slot)
                sums.append(slot)
        with cgutils.for_range_slice(builder, ir.Constant(i64, 1), inputs, ir.Constant(i64, 1), i64) as (i, _):
            xi = inputs_at(builder.add(x_start, builder.mul(i, x_step)))
            ws = weights_at(builder.add(w_start, builder.mul(i, w_step)))
            for u in range(count):
                for v in range(width):
                    slot = sums[u * width + v]
                    builder.store(builder.fadd(builder.load(slot), builder.fmul(xi[v], ws[u][v])), slot)
        for u in range(count):
            base = builder.add(y_start, builder.mul(ir.Constant(i64, u), y_step))
            for v in range(width):
                builder.store(builder.load(sums[u * width + v]), at(y_data, base, vec.count * v), align=align)
        return context.get_dummy_value()

    return sig, codegen


@inline
def mlp_forward(actor: MLPActor, k: int) -> Any:
    """Lane ``k``'s network alone, on its inputs (``actor.x[i * lanes + k]``); returns the
    buffer holding its outputs (at ``[j * lanes + k]``).  Each unit is ``b_j + (x_0 W_0j + x_1
    W_1j + ...)``, ``i`` ascending, in the network's type: the sums of
    :func:`mlp_forward_lanes`, one at a time (recording an episode; a worker's last lanes)."""
    x = actor.x
    y = actor.y
    sizes = actor.sizes
    lanes = actor.actions.shape[0]
    w = actor.columns.reshape(-1)  # parameter r of lane k at r * lanes + k
    layers = sizes.shape[0] - 1
    off = 0
    for layer in range(layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        bias = off + n_in * n_out
        j0 = 0
        while j0 < n_out:
            group = _UNIT_GROUP if j0 + _UNIT_GROUP <= n_out else 1
            for u in range(group):
                row = off + j0 * n_in + u
                v = x[_u(k)] * w[_u(row * lanes + k)]
                for i in range(1, n_in):
                    v += x[_u(i * lanes + k)] * w[_u((row + i * group) * lanes + k)]
                y[_u((j0 + u) * lanes + k)] = v
            j0 += group
        add_bias(actor.activation, layer < layers - 1, y, k, lanes, w, bias * lanes + k, lanes, n_out)
        off = bias + n_out
        x, y = y, x
    return x


@inline
def add_bias(activation: Any, hidden: bool, y: np.ndarray, y0: int, y_step: int, w: np.ndarray, w0: int,
             w_step: int, count: int) -> None:
    """A layer's last step, ``y[y0 + m y_step] = b + y[y0 + m y_step]`` with ``b = w[w0 + m
    w_step]`` for ``m < count``, then the activation if the layer is ``hidden``: every lane's
    units at once (steps 1) or one lane's (steps ``lanes``)."""
    if hidden:
        for m in range(count):
            y[_u(y0 + m * y_step)] = activate(activation, w[_u(w0 + m * w_step)] + y[_u(y0 + m * y_step)])
    else:
        for m in range(count):
            y[_u(y0 + m * y_step)] = w[_u(w0 + m * w_step)] + y[_u(y0 + m * y_step)]


@inline
def mlp_forward_lanes(actor: MLPActor) -> Any:
    """Every lane's network at once, layer by layer, on inputs ``actor.x[i * lanes + k]``;
    returns the buffer holding the outputs at ``[j * lanes + k]``.  The same sums as
    :func:`mlp_forward` (so the same bits), with the lanes side by side: a unit's sums for
    the lanes are vector registers, 4 units at a time, reading the lanes'
    weights from ``actor.columns`` (a parameter's values for the lanes contiguous, a group of units'
    weights one block: :func:`column_order`).  No chain of dependent adds is longer than a
    layer's inputs, and a narrow output layer runs as fast as a wide one."""
    x = actor.x
    y = actor.y
    sizes = actor.sizes
    lanes = lane_count(actor)
    w = actor.columns.reshape(-1)
    layers = sizes.shape[0] - 1
    off = 0
    for layer in range(layers):
        n_in = sizes[layer]
        n_out = sizes[layer + 1]
        bias = off + n_in * n_out
        j0 = 0
        while j0 + _UNIT_GROUP <= n_out:
            weighted_sums(y, j0 * lanes, lanes, x, 0, lanes, w, (off + j0 * n_in) * lanes, _UNIT_GROUP * lanes,
                          lanes, n_in, _UNIT_GROUP, actor.lanes)
            j0 += _UNIT_GROUP
        while j0 < n_out:
            weighted_sums(y, j0 * lanes, lanes, x, 0, lanes, w, (off + j0 * n_in) * lanes, lanes, lanes, n_in,
                          1, actor.lanes)
            j0 += 1
        add_bias(actor.activation, layer < layers - 1, y, 0, 1, w, bias * lanes, 1, n_out * lanes)
        off = bias + n_out
        x, y = y, x
    return x


def mlp_action(outputs: Any, first: Any, step: Any, params: Any) -> Any:  # pragma: no cover - compiled only
    """The action of the network outputs ``outputs[first + j * step]``, as the linear policy
    maps its outputs: the first maximum (or NaN) for ``Discrete``, clipped for ``Box`` (a
    float32 output taken at its float64 value)."""
    raise NotImplementedError


@overload(mlp_action, **INLINE)
def _ol_mlp_action(outputs, first, step, params):
    spec = _spec(params)
    if spec is None:
        return None
    space = spec.action
    if isinstance(space, Discrete):
        n = space.n

        def discrete(outputs, first, step, params):
            best = 0
            y_best = 0.0
            seen_nan = False
            for j in range(n):
                best, y_best, seen_nan = argmax_step(j, np.float64(outputs[first + j * step]), best, y_best, seen_nan)
            return best

        return discrete
    low, high = float(space.low), float(space.high)
    return lambda outputs, first, step, params: clip(np.float64(outputs[first]), low, high)


@inline
def load_inputs(actor: MLPActor, first: int, step: int, obs: Any) -> None:
    """``obs`` (float32) into ``actor.x[first + i * step]``, in the network's type."""
    for i in range(len(obs)):
        actor.x[first + i * step] = obs[i]


@overload(act, **INLINE)
def _ol_act(actor, k, obs, params):
    cls = getattr(actor, "instance_class", None)
    if cls is MLPActor:

        def one_lane(actor, k, obs, params):
            lanes = actor.actions.shape[0]
            load_inputs(actor, k, lanes, obs)
            return mlp_action(mlp_forward(actor, k), k, lanes, params)

        return one_lane
    if cls is PolicyActor:
        return lambda actor, k, obs, params: policy_action(actor.weights, k, obs, params)
    if cls is PlanActor:
        return lambda actor, k, obs, params: plan_action(actor.values[actor.t, k], params)
    if cls is GivenActor:
        return lambda actor, k, obs, params: actor.actions[actor.first + k]
    return None


def load_weights(actor: Any, weights: Any, k: Any, thetas: Any, p: Any) -> None:  # pragma: no cover - compiled only
    """Copy candidate ``thetas[p]`` to column ``k`` of ``weights`` (``(num_params, lanes)``) in
    the order the actor reads it: as it is for the linear policy, :func:`column_order`'s for a
    network."""
    raise NotImplementedError


@overload(load_weights, **INLINE)
def _ol_load_weights(actor, weights, k, thetas, p):
    cls = getattr(actor, "instance_class", None)
    if cls is PolicyActor:

        def in_order(actor, weights, k, thetas, p):
            for i in range(weights.shape[0]):
                weights[i, k] = thetas[p, i]

        return in_order
    if cls is MLPActor:

        def reordered(actor, weights, k, thetas, p):
            order = actor.order
            for i in range(weights.shape[0]):
                weights[i, k] = thetas[p, order[i]]

        return reordered
    return None


@constant
def uses_observation(actor):
    """Whether the actor reads the observation (a constant: where it does not, the
    observation's code and its exactness flag are dead and LLVM drops them)."""
    return getattr(actor, "instance_class", None) in (PolicyActor, MLPActor)


@constant
def certain(mode):
    """Whether every value of ``mode`` is final (a constant: the redo path compiles away)."""
    return getattr(mode, "instance_class", None) in CERTAIN


def one_at_a_time(mode: Any) -> Any:  # pragma: no cover - compiled only
    """The mode a lane stepped alone takes: ``mode`` itself where its every value is final
    (:class:`~envs_native.modes.Libm`, :class:`~envs_native.modes.Fast`: the same bits alone
    as in the lanes), else :class:`~envs_native.modes.Libm` (a lane mode's exact bits)."""
    raise NotImplementedError


@overload(one_at_a_time, **INLINE)
def _ol_one_at_a_time(mode):
    if getattr(mode, "instance_class", None) in CERTAIN:
        return lambda mode: mode
    return lambda mode: Libm()


@intrinsic
def with_columns(typingctx, a, n):
    """The 2-D C-contiguous array ``a`` with ``n`` (which must be ``a.shape[1]``) as its column
    count: the same data, its row stride ``n`` items.  Where ``n`` is a constant of the
    kernel, so are the array's strides, and a loop over lanes addresses every row of it from
    one register with constant offsets, as it does an array the kernel made itself; with the
    column count read from the array, each row's address is computed and held apart, and
    CartPole's lane loop ran out of registers (20 reloads a step).  Unchecked: the caller
    compares ``n`` with ``a.shape[1]`` first."""
    if not (isinstance(a, types.Array) and a.ndim == 2 and a.layout == "C" and isinstance(n, types.Integer)):
        return None

    def codegen(context, builder, signature, args):
        array_type = signature.args[0]
        source = context.make_array(array_type)(context, builder, args[0])
        view = context.make_array(array_type)(context, builder)
        columns = context.cast(builder, args[1], signature.args[1], types.intp)
        itemsize = context.get_constant(types.intp, context.get_abi_sizeof(context.get_data_type(array_type.dtype)))
        rows = cgutils.unpack_tuple(builder, source.shape)[0]
        context.populate_array(view, data=source.data, shape=cgutils.pack_array(builder, [rows, columns]),
                               strides=cgutils.pack_array(builder, [builder.mul(columns, itemsize), itemsize]),
                               itemsize=source.itemsize, meminfo=source.meminfo, parent=source.parent)
        return impl_ret_borrowed(context, builder, array_type, view._getvalue())

    return a(a, n), codegen


@inline
def lane_view(a: np.ndarray, lanes: int) -> np.ndarray:
    """:func:`with_columns` of lane buffer ``a`` (``(rows, lanes)``), checked: a buffer made
    for another lane count than the compiled one (a stale cache) is an error, not a write
    past its end."""
    if a.shape[1] != lanes:
        raise ValueError("lane buffers and compiled lane count differ: clear numba's cache")
    return with_columns(a, lanes)


def with_lanes(actor: Any, weights: Any) -> Any:  # pragma: no cover - compiled only
    """``actor`` reading its parameters from ``weights`` (the same array as its own, seen
    through :func:`with_columns`): a linear policy's; any other actor unchanged."""
    raise NotImplementedError


@overload(with_lanes, **INLINE)
def _ol_with_lanes(actor, weights):
    if getattr(actor, "instance_class", None) is PolicyActor:
        return lambda actor, weights: PolicyActor(weights)
    return lambda actor, weights: actor


# --- the stepper ----------------------------------------------------------------------------


@inline
def advance(state: Any, k: int, actor: Any, params: Any, mode: Any) -> Any:
    """One step of lane ``k`` from ``state``: ``(next_state, reward, terminated, ok, action)``,
    ``ok`` False where the mode could not certify a value the step depends on."""
    obs, ok_obs = env_observation(state, params, mode)
    action = act(actor, k, obs, params)
    next_state, reward, terminated, ok = env_dynamics(state, action, params, mode)
    return next_state, reward, terminated, ok & (ok_obs | (not uses_observation(actor))), action


@inline
def store(states: np.ndarray, k: int, values: Any) -> None:
    """``states[:, k] = values`` (a tuple)."""
    for i in range(len(values)):
        states[i, k] = values[i]


@inline_noalias
def step_lanes(states, next_states, actor, params, mode, lanes, live, rewards, terminated, redo):
    """Step the first ``lanes`` lanes of ``states`` (``(state_dim, >= lanes)``, one column a
    lane; ``lanes`` a constant of the caller, so that LLVM knows the trip count) once, in
    ``mode``, writing each lane's next state to ``next_states`` (the same shape), its reward
    and ``terminated``.  Lanes that are not ``live`` step too (they hold zeros or a finished
    episode) but are never redone; ``redo`` is scratch the shape of ``live``.

    The next states go to another array, which the caller swaps with ``states`` for the next
    step: a loop that reads and writes the same array needs LLVM's runtime overlap checks
    between its rows, which fail, and the scalar copy of the loop runs instead of the vector
    one (and copying back costs a tenth of a CartPole step).

    No two of the arrays (the actor's included) may share memory: the piece is compiled
    ``noalias`` (:func:`envs_native._jit.inline_noalias`), which spares the lane loop LLVM's
    overlap checks between every row it writes and every other row it touches, run each
    time the loop starts."""
    any_redo = False
    for k in range(lanes):
        next_state, reward, term, ok, _ = advance(state_of(states, k, params), k, actor, params, mode)
        store(next_states, k, next_state)
        rewards[k] = reward
        terminated[k] = term
        again = (not ok) & live[k]
        redo[k] = again
        any_redo |= again
    if not certain(mode) and any_redo:
        for k in range(lanes):
            if redo[k]:
                redo_lane(states, next_states, k, actor, params, rewards, terminated)


def redo_signature(states: np.ndarray, actor: Any, params: Any, rewards: np.ndarray,
                   terminated: np.ndarray) -> tuple[types.Type, ...]:
    """The argument types :func:`step_lanes` passes :func:`redo_lane` for lanes like ``states``
    (and their next states), ``actor``, ``params``, ``rewards`` and ``terminated``: what the
    command line compiles ahead (:mod:`fastcem._ahead`)."""
    lanes = typeof(states)
    return (lanes, lanes, types.int64, typeof(actor), typeof(params), typeof(rewards), typeof(terminated))


@jit(called=True)
def redo_lane(states, next_states, k, actor, params, rewards, terminated):
    """Lane ``k``'s step of :func:`step_lanes` again, in the C library's arithmetic (a value the
    lanes' mode could not certify).  A kernel of its own, called: the lane kernels inline the
    stepper, and compiling (and optimizing) the rare scalar path into each of them cost a
    first run time for nothing; the command line compiles it in its second process."""
    next_state, reward, term, _, _ = advance(state_of(states, k, params), k, actor, params, Libm())
    store(next_states, k, next_state)
    rewards[k] = reward
    terminated[k] = term



@inline
def _network_step(states, next_states, actor, params, mode, lanes, live, rewards, terminated, redo):
    """:func:`step_policy` for a network."""
    if lanes != lane_count(actor):
        raise ValueError("a network steps all its lanes")
    n = lane_count(actor)
    any_redo = False
    for k in range(n):
        obs, ok = env_observation(state_of(states, k, params), params, mode)
        load_inputs(actor, k, n, obs)
        redo[k] = not ok
        any_redo |= not ok
    if not certain(mode) and any_redo:
        for k in range(n):
            if redo[k]:
                obs = env_observation(state_of(states, k, params), params, Libm())[0]
                load_inputs(actor, k, n, obs)
    outputs = mlp_forward_lanes(actor)
    for k in range(n):
        actor.actions[k] = mlp_action(outputs, k, n, params)
    step_lanes(states, next_states, GivenActor(actor.actions, np.int64(0)), params, mode, n, live, rewards,
               terminated, redo)


@forward
def step_policy(states, next_states, actor, params, mode, lanes, live, rewards, terminated, redo):
    """:func:`step_lanes` for a policy actor.  The linear policy is computed inside the lane
    loop; a network is computed layer by layer with the lanes innermost (a loop over its
    units inside the lane loop would not vectorize): the observations first (a lane the mode
    cannot certify recomputed in the C library's), the network, then the dynamics with the
    actions given."""
    cls = getattr(actor, "instance_class", None)
    return step_lanes if cls is PolicyActor else _network_step if cls is MLPActor else None
