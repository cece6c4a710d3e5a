"""Vectorisable per-row primitives shared by the softmax family and the losses.

Without SVML, LLVM vectorises neither ``math.exp`` nor a floating-point max
reduction (it keeps a serial ``vmaxss`` chain, ~4 cycles per element). So:

* :func:`row_max` maps each float to an integer with the same order
  (``bits ^ ((bits >> 31) & 0x7fffffff)``: IEEE floats order like
  sign-magnitude integers) and takes an integer max, which LLVM vectorises
  (``vpmaxsd``). A NaN with the sign bit clear sorts above ``+inf``, so such a
  row's max is NaN; any NaN still reaches the sum below through ``exp``.
* :func:`exp_shift_sum` uses :func:`fastkernels._exp.exp_shifted`, the polynomial
  exp specialised to ``x - max <= 0``.

The sums are compiled on their own with ``_jit.FASTMATH`` (its ``reassoc``
lets the reduction vectorise with per-lane partial sums) and are *not*
inlined: inlined code takes the caller's flags, and a caller compiled with
``reassoc`` may regroup ``(x - m) - lse`` into ``x - (m + lse)``, which loses
all precision for |m| ~ 1e4 in float32. A call per row costs nanoseconds. Being separate functions, they also
carry the 512-bit vector-width hint (:func:`fastkernels._simd.prefer_wide_vectors`).
Sums accumulate in the row's precision: float32 rows keep vector lanes of
float32 partial sums, whose relative error stays below ~1e-6 for rows of 10^5.
"""

import numpy as np
from numba import types
from numba.extending import overload

from .._exp import exp_shifted
from .._simd import bitcast_f32_to_i32, bitcast_f64_to_i64, bitcast_i32_to_f32, bitcast_i64_to_f64, prefer_wide_vectors
from .._jit import FASTMATH, jit

_M31 = np.int32(0x7FFFFFFF)
_S31 = np.int32(31)
_M63 = np.int64(0x7FFFFFFFFFFFFFFF)
_S63 = np.int64(63)


def as_rows(a):
    """2-D ``(rows, last axis)`` view of a C-contiguous array; a 0-d array is (1, 1).

    Works for empty arrays and for the CUDA simulator's arrays (whose shapes
    refuse negative indices, hence the plain tuple).
    """
    shape = tuple(a.shape)
    if not shape:
        return a.reshape(1, 1)
    if len(shape) == 2:
        return a
    return a.reshape(int(np.prod(shape[:-1])), shape[-1])


@jit(inline="always")
def _row_max_f32(row):
    b = bitcast_f32_to_i32(row[0])
    m = np.int32(b ^ ((b >> _S31) & _M31))
    for j in range(1, row.size):
        b = bitcast_f32_to_i32(row[j])
        k = np.int32(b ^ ((b >> _S31) & _M31))
        m = k if k > m else m
    return bitcast_i32_to_f32(np.int32(m ^ ((m >> _S31) & _M31)))


@jit(inline="always")
def _row_max_f64(row):
    b = bitcast_f64_to_i64(row[0])
    m = b ^ ((b >> _S63) & _M63)
    for j in range(1, row.size):
        b = bitcast_f64_to_i64(row[j])
        k = b ^ ((b >> _S63) & _M63)
        m = k if k > m else m
    return bitcast_i64_to_f64(m ^ ((m >> _S63) & _M63))


def row_max(row):
    """Max of a non-empty 1-D float row (NaN if a sign-clear NaN is present)."""
    return np.max(row)


@overload(row_max, inline="always")
def _row_max_overload(row):
    if isinstance(row, types.Array) and row.dtype == types.float32:
        return lambda row: _row_max_f32(row)
    if isinstance(row, types.Array) and row.dtype == types.float64:
        return lambda row: _row_max_f64(row)
    return None


@jit(fastmath=FASTMATH)
def exp_shift_sum(row, m, e):
    """Write ``e[j] = exp(row[j] - m)`` and return their sum (in the row's dtype)."""
    prefer_wide_vectors()
    s = row.dtype.type(0)
    for j in range(row.size):
        v = exp_shifted(row[j] - m)
        e[j] = v
        s += v
    return s


@jit(fastmath=FASTMATH)
def exp_shift_sum_nostore(row, m):
    """``sum(exp(row - m))`` without storing the terms."""
    prefer_wide_vectors()
    s = row.dtype.type(0)
    for j in range(row.size):
        s += exp_shifted(row[j] - m)
    return s
