"""CUDA kernels of :mod:`fastkernels.nn` (imported only for ``backend="cuda"``).

Softmax family: one block per row (grid-stride over rows). Each thread folds
its strided columns into an online ``(max, sum of exp)`` pair in one coalesced
pass, the pairs are merged by a tree reduction in shared
memory, and a second coalesced pass writes the row. Accumulation is in
float64 for both dtypes, like the CPU kernels.
"""

import math

from numba import cuda, float64

from .._launch import MAX_BLOCKS, DeviceIO, row_threads
from .._validate import as_output

_MAX_THREADS = 512  # shared-memory size per block: 2 x 4 KiB


@cuda.jit(device=True, inline=True)
def _push(m, s, v):
    """Fold value ``v`` into the running (max, sum exp(x - max)) pair."""
    if v > m:
        s = s * math.exp(m - v) + 1.0
        m = v
    elif v != -math.inf:
        s += math.exp(v - m)  # NaN propagates into s
    return m, s


@cuda.jit(device=True, inline=True)
def _merge(m1, s1, m2, s2):
    """Merge two (max, sum) pairs; a pair with max -inf contributes nothing but NaN."""
    if m2 > m1:
        m1, s1, m2, s2 = m2, s2, m1, s1
    if m2 == -math.inf:
        return m1, s1 + s2 * 0.0
    return m1, s1 + s2 * math.exp(m2 - m1)


@cuda.jit(device=True, inline=True)
def _row_stats(x, r, sm, ss):
    """(max, sum exp(x[r] - max)) of row ``r``, merged over the whole block.

    Tree reduction in shared memory (``blockDim.x`` is a power of two). Warp
    shuffles would save a few syncs, but the CUDA simulator we test under has
    no ``shfl_*_sync``, and this step is a small part of a row's cost.
    """
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    m = -math.inf
    s = 0.0
    for j in range(tid, x.shape[1], nt):  # consecutive threads read consecutive columns
        m, s = _push(m, s, float64(x[r, j]))
    sm[tid] = m
    ss[tid] = s
    cuda.syncthreads()
    stride = nt // 2
    while stride > 0:
        if tid < stride:
            m, s = _merge(sm[tid], ss[tid], sm[tid + stride], ss[tid + stride])
            sm[tid] = m
            ss[tid] = s
        cuda.syncthreads()
        stride //= 2
    m = sm[0]
    s = ss[0]
    cuda.syncthreads()  # everyone has read before the next row reuses sm/ss
    return m, s


@cuda.jit
def _softmax_rows(x, out, log):
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m, s = _row_stats(x, r, sm, ss)
        undefined = math.isinf(m)  # all -inf, or a +inf entry
        shift = math.nan
        inv = math.nan
        if not undefined:  # s >= 1 here (or NaN), so log and 1/s are safe
            shift = m + math.log(s)
            inv = 1.0 / s
        for j in range(cuda.threadIdx.x, x.shape[1], cuda.blockDim.x):
            if undefined:
                out[r, j] = math.nan
            elif log:
                out[r, j] = x[r, j] - shift
            else:
                out[r, j] = math.exp(x[r, j] - m) * inv


@cuda.jit
def _logsumexp_rows(x, out):
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m, s = _row_stats(x, r, sm, ss)
        if cuda.threadIdx.x == 0:
            out[r] = m if math.isinf(m) else m + math.log(s)


def _launch(n_rows, n_cols):
    return max(1, min(n_rows, MAX_BLOCKS)), row_threads(n_cols, _MAX_THREADS)


def softmax(x, out, log):
    """Softmax / log-softmax of the rows of ``x`` (validated host or device array)."""
    io = DeviceIO(x, out)
    shape = tuple(x.shape)
    if out is not None:
        as_output(out, "out", dtype=x.dtype, shape=shape)
    d_x = io.input(x)
    d_out = io.output(out, shape, x.dtype)
    if x.size:
        c = shape[-1]
        rows_x, rows_out = d_x.reshape(-1, c), d_out.reshape(-1, c)
        blocks, threads = _launch(rows_x.shape[0], c)
        _softmax_rows[blocks, threads](rows_x, rows_out, log)
    return io.result(d_out, out)


def logsumexp(x, out):
    """logsumexp of the rows of ``x`` (validated host or device array)."""
    io = DeviceIO(x, out)
    shape = tuple(x.shape)[:-1]
    if out is not None:
        as_output(out, "out", dtype=x.dtype, shape=shape)
    d_x = io.input(x)
    d_out = io.output(out, shape, x.dtype)
    n_rows = 1
    for n in shape:
        n_rows *= n
    if n_rows:
        c = x.shape[x.ndim - 1]
        blocks, threads = _launch(n_rows, c)
        _logsumexp_rows[blocks, threads](d_x.reshape(n_rows, c), d_out.reshape(n_rows))
    return io.result(d_out, out)


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    for dt in (types.float32, types.float64):
        rows, vec = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        sigs += [(_softmax_rows, (rows, rows, types.boolean)), (_logsumexp_rows, (rows, vec))]
    return sigs
