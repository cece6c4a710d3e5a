"""CUDA kernels of :mod:`fastkernels.nn.rowwise` (imported only for ``backend="cuda"``), and the
row-reduction helpers that the softmax-cross-entropy kernels of :mod:`fastkernels.nn._losses_cuda`
share with them.

Softmax family (softmax, log-softmax, logsumexp, softmax-cross-entropy): a
group of ``G`` threads per row, grid-stride over rows, in one of two layouts:

- *row groups* (``C <= GROUP_MAX_COLS``): ``G`` is the smallest power of two
  >= C, at most a warp, and a block holds ``blockDim / G`` rows, so small class
  counts (C = 10) keep every thread of a block busy;
- *block per row* (larger C): ``G = blockDim``, one row per block.

One kernel body serves both (the group size is a kernel argument). Each thread
folds its columns (a group reads consecutive columns: coalesced) into an
online ``(max, sum of exp)`` pair, the group's pairs are merged by a tree
reduction over its slice of shared memory, and a second coalesced pass writes
the row. Accumulation is in float64 for both dtypes, like the CPU kernels.
"""

import math

from numba import cuda, float64

from .. import _launch
from .._launch import DeviceIO, row_group, row_threads
from .._outputs import as_output

MAX_THREADS = 512  # shared-memory size per block: 2 x 4 KiB
# Up to this many classes a row gets a group of <= 32 threads (<= 4 columns each) and
# a block holds several rows: blocks of one short row would leave most threads idle
# (C = 10 in a 32-thread block: 22 idle) and pay a block-wide reduction per row. Longer
# rows have the columns to keep a block of their own busy.
GROUP_MAX_COLS = 128


@cuda.jit(device=True, inline=True)
def _push(m, s, v):
    """Fold value ``v`` into the running (max, sum exp(x - max)) pair."""
    if v > m:
        s = s * math.exp(m - v) + 1.0
        m = v
    elif v == -math.inf:
        pass  # a masked entry adds exp(-inf) = 0
    elif v == m:  # also +inf == +inf, where exp(v - m) would be exp(NaN)
        s += 1.0
    else:
        s += math.exp(v - m)  # NaN propagates into s
    return m, s


@cuda.jit(device=True, inline=True)
def _merge(m1, s1, m2, s2):
    """Merge two (max, sum) pairs; a pair with max -inf contributes nothing but NaN."""
    if m2 > m1:
        m1, s1, m2, s2 = m2, s2, m1, s1
    if m2 == -math.inf:
        return m1, s1 + s2 * 0.0
    if m2 == m1:
        return m1, s1 + s2
    return m1, s1 + s2 * math.exp(m2 - m1)


@cuda.jit(device=True, inline=True)
def row_groups(group):
    """This thread's place for ``group`` threads per row (``group`` divides ``blockDim``).

    Returns ``(lane, slot, first, step)``: lane within the group, the group's row
    slot in the block, the block's first row and the grid-stride step over rows.
    """
    tid = cuda.threadIdx.x
    per_block = cuda.blockDim.x // group
    return tid % group, tid // group, cuda.blockIdx.x * per_block, cuda.gridDim.x * per_block


@cuda.jit(device=True, inline=True)
def row_stats(x, r, n, lane, group, sm, ss):
    """(max, sum exp(x[r, :n] - max)) of row ``r``, merged over the thread's group.

    Every thread of the block must call this (it syncs the block); a group with
    no row passes ``n = 0`` and gets (-inf, 0). Segmented tree reduction over the
    group's slice of shared memory (``group`` is a power of two). Warp shuffles
    would save the syncs, but the CUDA simulator we test under has no
    ``shfl_*_sync``, and this step is a small part of a row's cost.
    """
    tid = cuda.threadIdx.x
    m = -math.inf
    s = 0.0
    for j in range(lane, n, group):  # consecutive lanes read consecutive columns
        m, s = _push(m, s, float64(x[r, j]))
    sm[tid] = m
    ss[tid] = s
    cuda.syncthreads()
    stride = group // 2
    while stride > 0:
        if lane < stride:
            m, s = _merge(sm[tid], ss[tid], sm[tid + stride], ss[tid + stride])
            sm[tid] = m
            ss[tid] = s
        cuda.syncthreads()
        stride //= 2
    m = sm[tid - lane]
    s = ss[tid - lane]
    cuda.syncthreads()  # everyone has read before the next row reuses sm/ss
    return m, s


@cuda.jit(device=True, inline=True)
def group_sum2(a, b, lane, group, sa, sb):
    """Sums of ``a`` and ``b`` over the thread's group (every thread of the block calls it)."""
    tid = cuda.threadIdx.x
    sa[tid] = a
    sb[tid] = b
    cuda.syncthreads()
    stride = group // 2
    while stride > 0:
        if lane < stride:
            sa[tid] += sa[tid + stride]
            sb[tid] += sb[tid + stride]
        cuda.syncthreads()
        stride //= 2
    a = sa[tid - lane]
    b = sb[tid - lane]
    cuda.syncthreads()
    return a, b


@cuda.jit(device=True, inline=True)
def block_sum2(a, b, sa, sb):
    """Sums of ``a`` and ``b`` over the block (power-of-two block)."""
    return group_sum2(a, b, cuda.threadIdx.x, cuda.blockDim.x, sa, sb)


@cuda.jit(device=True, inline=True)
def lse_inv(m, s):
    """(log s, 1/s) of a row's stats; NaN for undefined rows (max +inf or all -inf)."""
    if m == math.inf or not s > 0:  # also avoids log(0) and 1/0, which raise in the simulator
        return math.nan, math.nan
    return math.log(s), 1.0 / s


# Row kernels: ``group`` threads per row (see the module docstring). The loop runs over the
# block's row slots, the same number of times in every group (each pass syncs the block);
# a group whose slot is past the last row reads nothing and writes nothing.


@cuda.jit
def _softmax_rows(x, out, log, group):
    """Softmax (or log-softmax) of each row."""
    sm = cuda.shared.array(MAX_THREADS, float64)
    ss = cuda.shared.array(MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    lane, slot, first, step = row_groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        n = n_cols if r < n_rows else 0
        m, s = row_stats(x, r, n, lane, group, sm, ss)
        undefined = math.isinf(m)  # all -inf, or a +inf entry
        lse = math.nan
        inv = math.nan
        if not undefined:  # s >= 1 here (or NaN), so log and 1/s are safe
            lse = math.log(s)
            inv = 1.0 / s
        for j in range(lane, n, group):
            if undefined:
                out[r, j] = math.nan
            elif log:
                out[r, j] = (x[r, j] - m) - lse  # as the CPU: m + lse rounds lse away for |m| ~ 1e4
            else:
                out[r, j] = math.exp(x[r, j] - m) * inv


@cuda.jit
def _logsumexp_rows(x, out, group):
    """logsumexp of each row."""
    sm = cuda.shared.array(MAX_THREADS, float64)
    ss = cuda.shared.array(MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    lane, slot, first, step = row_groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        m, s = row_stats(x, r, n_cols if active else 0, lane, group, sm, ss)
        if active and lane == 0:
            # an infinite max is the result unless a NaN came with it (s is NaN)
            out[r] = m if math.isinf(m) and not math.isnan(s) else m + math.log(s)


def row_launch(n_rows, n_cols):
    """``(blocks, threads, group)`` of a row kernel: ``group`` threads per row.

    Rows of at most ``GROUP_MAX_COLS`` columns share a block (just enough threads
    for the rows); longer rows get a block each. Launch settings are read at call
    time, so tests can shrink them.
    """
    if n_cols <= GROUP_MAX_COLS:
        group = row_group(n_cols)
        threads = row_threads(n_rows * group, MAX_THREADS)
    else:
        threads = row_threads(n_cols, MAX_THREADS)
        group = threads
    blocks = max(1, min(-(-n_rows // (threads // group)), _launch.MAX_BLOCKS))
    return blocks, threads, group


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
        blocks, threads, group = row_launch(rows_x.shape[0], c)
        _softmax_rows[blocks, threads](rows_x, rows_out, log, group)
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
        blocks, threads, group = row_launch(n_rows, c)
        _logsumexp_rows[blocks, threads](d_x.reshape(n_rows, c), d_out.reshape(n_rows), group)
    return io.result(d_out, out)


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    group = types.int64  # threads per row, both layouts
    for dt in (types.float32, types.float64):
        rows, vec = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        sigs += [(_softmax_rows, (rows, rows, types.boolean, group)), (_logsumexp_rows, (rows, vec, group))]
    return sigs
