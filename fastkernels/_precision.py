"""Step code written once for float32 and float64: constants and choices that follow an argument's precision.

Numba types a bare literal (``0.04``) as float64, so ``0.04 * v`` with a float32 ``v`` is computed
in float64 and halves the SIMD lanes. These intrinsics, usable in ``@njit`` and CUDA device code,
let a kernel written once compile to pure float32 code for float32 arguments and stay
unchanged, to the bit, for float64 ones:

* :func:`like` ``(x, c)``: the constant ``c`` in the precision of ``x``;
* :func:`per_precision` ``(x, c32, c64)``: a constant whose value depends on the precision;
* :func:`is_float32` ``(x)``: a compile-time flag, for a branch that keeps one precision's code;
* :func:`out_of_line_if_float32` ``(x)``: keep the calling function a call (``noinline``) in
  float32 builds, where LLVM's inlining of a long step loop cost speed;
* :func:`int_flags` ``(x, n)``: zeroed integer flags as wide as ``x``'s floats.

Used by the neuron step loops (:mod:`fastkernels.neurons._hh_kernels`, ``izhikevich``) and the
population engine.
"""

from __future__ import annotations

import numpy as np
from numba import types
from numba.extending import intrinsic, overload


def _float_of(x):
    """The float type behind a float scalar or array type (float64 for integers, as NumPy promotes
    them), else None."""
    ty = x.dtype if isinstance(x, types.Array) else x
    if isinstance(ty, (types.Integer, types.Boolean)):
        return types.float64
    return ty if isinstance(ty, types.Float) else None


def _cast_codegen(index):
    def codegen(context, builder, sig, args):
        return context.cast(builder, args[index], sig.args[index], sig.return_type)

    return codegen


@intrinsic
def like(typingctx, x, c):
    """``c`` (a number) in the precision of ``x`` (a float scalar, or an array of floats; integers count
    as float64).

    How step code writes a constant once for both precisions: ``like(v, 0.04) * v`` is
    ``0.04 * v`` in a float64 step and ``np.float32(0.04) * v`` in a float32 one, where a bare
    ``0.04`` (a float64) would promote the float32 arithmetic to float64 and halve the SIMD
    lanes. A cast LLVM folds into the constant: a no-op for float64, so float64 code is unchanged
    to the bit. Works in ``@njit`` code and in CUDA device code (not from Python).
    """
    ty = _float_of(x)
    if ty is None or not isinstance(c, (types.Float, types.Integer, types.Boolean)):
        return None
    return ty(x, c), _cast_codegen(1)


@intrinsic
def out_of_line_if_float32(typingctx, x):
    """Mark the calling jitted function ``noinline`` for LLVM when ``x`` (an array) is float32; emits no code.

    For the step loops. The block function calls one of a model's (up to) three step loops per
    block and step; inlined, all three sit in one large function, and the float32
    exponential-Euler HH step ran at half its speed there (14.8 against 7.8 ns per neuron and
    step here; one call per step of 256 neurons costs nothing). Float64 loops stay inlined:
    out of line they would run ~9% faster, but the engine's loops are compiled with
    ``reassoc``/``contract`` fastmath, so LLVM regroups their arithmetic differently once
    inlined, and float64 results would change in their last bits.
    """
    if not (isinstance(x, types.Array) and x.dtype == types.float32):
        return types.void(x), lambda context, builder, sig, args: context.get_dummy_value()

    def codegen(context, builder, sig, args):
        attrs = builder.function.attributes
        if "alwaysinline" not in attrs and "noinline" not in attrs:
            attrs.add("noinline")
        return context.get_dummy_value()

    return types.void(x), codegen


@intrinsic
def is_float32(typingctx, x):
    """Whether ``x`` (a float scalar or array) is float32: a compile-time constant, so a branch on it
    keeps only the code of one precision (LLVM drops the other branch; both must type-check)."""
    ty = _float_of(x)
    if ty is None:
        return None

    def codegen(context, builder, sig, args):
        return context.get_constant(types.boolean, ty == types.float32)

    return types.boolean(x), codegen


@intrinsic
def per_precision(typingctx, x, c32, c64):
    """``c32`` when ``x`` (a float scalar or array) is float32, else ``c64``, in the precision of ``x``.

    For the few constants whose value depends on the precision (a clamp that keeps float32
    arithmetic in range, a flush-to-zero threshold above float32's denormals).
    """
    ty = _float_of(x)
    if ty is None or not all(isinstance(c, (types.Float, types.Integer)) for c in (c32, c64)):
        return None
    return ty(x, c32, c64), _cast_codegen(1 if ty == types.float32 else 2)


def int_flags(x, n):
    """``n`` zeroed integer flags as wide as the floats of ``x`` (int32 for a float32 array, else
    int64), for a vectorised loop that stores one flag per element: its widest type sets its
    lanes, so int64 flags would give a float32 loop float64's lane count (HH: 2.2x slower) and
    narrower ones cost shuffles to store (uint8 flags: ~20% of the LIF's step on AVX2)."""
    return np.zeros(n, dtype=np.int32 if np.asarray(x).dtype == np.float32 else np.int64)


@overload(int_flags)
def _int_flags(x, n):
    if _float_of(x) == types.float32:
        return lambda x, n: np.zeros(n, dtype=np.int32)
    return lambda x, n: np.zeros(n, dtype=np.int64)


def tally_zero(x):
    """The zero of a count kept beside ``x``'s floats in a vectorised loop (:func:`tally`): a float32
    0 for float32 ``x``, else an int 0 (compiled code only)."""
    raise NotImplementedError("tally_zero runs inside compiled code only")


@overload(tally_zero, inline="always")
def _tally_zero(x):
    if _float_of(x) == types.float32:
        return lambda x: np.float32(0.0)
    return lambda x: 0


def tally(x, acc, flag):
    """``acc + flag`` in :func:`tally_zero`'s type: a loop's widest type sets its lanes, and int64
    counts made LLVM vectorise a float32 loop 4 wide, as float64, not 8 (the LIF's spike and
    bad-state counts: float32 state ran 1.1x slower than float64, 1.7x faster with float32
    counts). Exact below 2**24 in float32; the sum is a reduction, so the loop needs fast-math
    reassociation to vectorise it (compiled code only)."""
    raise NotImplementedError("tally runs inside compiled code only")


@overload(tally, inline="always")
def _tally(x, acc, flag):
    if _float_of(x) == types.float32:
        return lambda x, acc, flag: acc + np.float32(flag)
    return lambda x, acc, flag: acc + flag
