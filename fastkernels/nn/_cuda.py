"""CUDA kernels of :mod:`fastkernels.nn` (imported only for ``backend="cuda"``).

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

import numpy as np
from numba import cuda, float64

from .. import _launch as launch_config
from .._launch import DeviceIO, grid_1d, row_group, row_threads
from .._validate import as_output
from .losses import bce_element

_MAX_THREADS = 512  # shared-memory size per block: 2 x 4 KiB
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
def _groups(group):
    """This thread's place for ``group`` threads per row (``group`` divides ``blockDim``).

    Returns ``(lane, slot, first, step)``: lane within the group, the group's row
    slot in the block, the block's first row and the grid-stride step over rows.
    """
    tid = cuda.threadIdx.x
    per_block = cuda.blockDim.x // group
    return tid % group, tid // group, cuda.blockIdx.x * per_block, cuda.gridDim.x * per_block


@cuda.jit(device=True, inline=True)
def _row_stats(x, r, n, lane, group, sm, ss):
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
def _group_sum2(a, b, lane, group, sa, sb):
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
def _block_sum2(a, b, sa, sb):
    """Sums of ``a`` and ``b`` over the block (power-of-two block)."""
    return _group_sum2(a, b, cuda.threadIdx.x, cuda.blockDim.x, sa, sb)


@cuda.jit(device=True, inline=True)
def _lse_inv(m, s):
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
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    lane, slot, first, step = _groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        n = n_cols if r < n_rows else 0
        m, s = _row_stats(x, r, n, lane, group, sm, ss)
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
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    lane, slot, first, step = _groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        m, s = _row_stats(x, r, n_cols if active else 0, lane, group, sm, ss)
        if active and lane == 0:
            # an infinite max is the result unless a NaN came with it (s is NaN)
            out[r] = m if math.isinf(m) and not math.isnan(s) else m + math.log(s)


@cuda.jit(device=True, inline=True)
def _fill_row(loss, g, r, value, want_grad, lane, group):
    """Loss and gradient of row ``r`` all ``value``: 0 for an ignored row, NaN for a row
    with NaN, +inf or only -inf logits (as the CPU)."""
    if lane == 0:
        loss[r] = value
    if want_grad:
        for j in range(lane, g.shape[1], group):
            g[r, j] = value


@cuda.jit
def _sce_index_rows(x, y, w, ignore, eps, scale, want_grad, loss, g, group):
    """Softmax-cross-entropy rows with class-id targets; see ``losses`` for the algebra."""
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    eps_c = eps / n_cols
    lane, slot, first, step = _groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        t = y[r] if active else ignore
        counted = active and t != ignore  # an ignored row reads no logits
        m, s = _row_stats(x, r, n_cols if counted else 0, lane, group, sm, ss)
        lse, inv_s = _lse_inv(m, s)
        ok = counted and not math.isnan(lse)  # not NaN, +inf or all -inf in the row
        sw = 0.0
        swx = 0.0
        if eps > 0:  # a kernel argument: every group reaches the syncs
            if ok:
                for j in range(lane, n_cols, group):
                    v = float64(x[r, j])
                    if v > -math.inf:
                        sw += w[j]
                        swx += w[j] * (v - m)
            sw, swx = _group_sum2(sw, swx, lane, group, sm, ss)
        if not active:
            continue  # past the last sync of this row slot: safe
        if not ok:
            _fill_row(loss, g, r, 0.0 if not counted else math.nan, want_grad, lane, group)
            continue
        wt = float64(w[t])
        nll = -wt * ((float64(x[r, t]) - m) - lse)
        row_loss = (1 - eps) * nll + eps_c * (sw * lse - swx) if eps > 0 else nll
        big_a = (1 - eps) * wt + eps_c * sw
        if lane == 0:
            loss[r] = row_loss
        if want_grad:
            c1 = scale * big_a * inv_s
            for j in range(lane, n_cols, group):
                v = float64(x[r, j])
                gj = c1 * math.exp(v - m) if v > -math.inf else 0.0
                if v > -math.inf:
                    gj -= scale * eps_c * w[j]
                if j == t:
                    gj -= scale * (1 - eps) * wt
                g[r, j] = gj


@cuda.jit
def _sce_prob_rows(x, tp, w, eps, scale, want_grad, loss, g, group):
    """Softmax-cross-entropy rows with probability targets."""
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    eps_c = eps / n_cols
    lane, slot, first, step = _groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        m, s = _row_stats(x, r, n_cols if active else 0, lane, group, sm, ss)
        lse, inv_s = _lse_inv(m, s)
        ok = active and not math.isnan(lse)
        big_a = 0.0
        big_b = 0.0
        if ok:
            for j in range(lane, n_cols, group):
                v = float64(x[r, j])
                a = w[j] * ((1 - eps) * tp[r, j] + (eps_c if v > -math.inf else 0.0))
                big_a += a
                if a != 0:
                    big_b += a * (v - m)
        big_a, big_b = _group_sum2(big_a, big_b, lane, group, sm, ss)
        if not active:
            continue  # past the last sync of this row slot: safe
        if not ok:
            _fill_row(loss, g, r, math.nan, want_grad, lane, group)
            continue
        if lane == 0:
            loss[r] = big_a * lse - big_b
        if want_grad:
            c1 = scale * big_a * inv_s
            for j in range(lane, n_cols, group):
                v = float64(x[r, j])
                a = w[j] * ((1 - eps) * tp[r, j] + (eps_c if v > -math.inf else 0.0))
                p = math.exp(v - m) if v > -math.inf else 0.0
                g[r, j] = c1 * p - scale * a


def softmax_cross_entropy(x, t, w, ignore, eps, scale, out, want_grad, probs, rows_out=None):
    """Per-row losses (host float64 array) and the gradient (host or device) of
    validated ``(N, C)`` logits; ``out`` is None or an ``(N, C)`` buffer.

    ``rows_out``, a float64 ``(N,)`` device array, receives the per-row losses on
    the device instead (no copy to the host; the returned rows are then None):
    training loops on the GPU sum them once per epoch.
    """
    io = DeviceIO(x, t, out)
    n, c = (int(d) for d in x.shape)
    d_x, d_t, d_w = io.input(x), io.input(t), io.input(w)
    d_loss = rows_out if rows_out is not None else io.cuda.device_array(n, dtype=np.float64)
    d_g = io.output(out, (n, c), x.dtype) if want_grad else io.cuda.device_array((1, 1), dtype=x.dtype)
    if n:
        blocks, threads, group = _launch(n, c)
        if probs:
            _sce_prob_rows[blocks, threads](d_x, d_t, d_w, eps, scale, want_grad, d_loss, d_g, group)
        else:
            _sce_index_rows[blocks, threads](d_x, d_t, d_w, ignore, eps, scale, want_grad, d_loss, d_g, group)
    rows = d_loss.copy_to_host() if rows_out is None else None
    return rows, (io.result(d_g, out) if want_grad else None)


@cuda.jit
def _bce_elems(z, t, w, w_full, pw, scale, want_grad, store_elem, elem, g, partial):
    """Sigmoid BCE elementwise over a (R, C) grid-stride range; per-block loss sums."""
    sa = cuda.shared.array(_MAX_THREADS, float64)
    sb = cuda.shared.array(_MAX_THREADS, float64)
    n_cols = z.shape[1]
    acc = 0.0
    for k in range(cuda.grid(1), z.size, cuda.gridsize(1)):  # flat index: coalesced
        i = k // n_cols
        j = k - i * n_cols
        ww = w[i, j] if w_full else w[0, j]
        le, dz = bce_element(float64(z[i, j]), float64(t[i, j]), float64(ww), float64(pw[j]))
        acc += le
        if store_elem:
            elem[i, j] = le
        if want_grad:
            g[i, j] = scale * dz
    acc, _ = _block_sum2(acc, 0.0, sa, sb)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = acc


@cuda.jit
def _mse_elems(a, b, scale, want_grad, store_elem, elem, g, partial):
    """Squared error elementwise over a (R, C) grid-stride range; per-block loss sums."""
    sa = cuda.shared.array(_MAX_THREADS, float64)
    sb = cuda.shared.array(_MAX_THREADS, float64)
    n_cols = a.shape[1]
    acc = 0.0
    for k in range(cuda.grid(1), a.size, cuda.gridsize(1)):
        i = k // n_cols
        j = k - i * n_cols
        d = float64(a[i, j]) - float64(b[i, j])
        acc += d * d
        if store_elem:
            elem[i, j] = d * d
        if want_grad:
            g[i, j] = 2.0 * scale * d
    acc, _ = _block_sum2(acc, 0.0, sa, sb)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = acc


def elementwise_launch(n):
    """``(blocks, threads)`` of :func:`_bce_elems` / :func:`_mse_elems` over ``n`` elements
    (one partial loss sum per block)."""
    return grid_1d(n, row_threads(n, _MAX_THREADS))


def elementwise_loss(kind, a, b, params, scale, store_elem, want_grad, out):
    """("bce" | "mse") on validated (R, C) arrays: (per-block sums on the host, elementwise
    losses or a dummy, gradient or a dummy); device inputs give device outputs."""
    io = DeviceIO(a, b, out)
    shape = tuple(int(d) for d in a.shape)
    d_a, d_b = io.input(a), io.input(b)
    d_elem = io.cuda.device_array(shape if store_elem else (1, 1), dtype=a.dtype)
    d_g = io.output(out, shape, a.dtype) if want_grad else io.cuda.device_array((1, 1), dtype=a.dtype)
    n = shape[0] * shape[1]
    blocks, threads = elementwise_launch(n)
    d_partial = io.cuda.device_array(blocks, dtype=np.float64)
    if n == 0:
        return np.zeros(1), (io.result(d_elem, None) if store_elem else None), (io.result(d_g, out) if want_grad else None)
    if kind == "bce":
        w, w_full, pw = params
        _bce_elems[blocks, threads](d_a, d_b, io.input(w), w_full, io.input(pw), scale, want_grad, store_elem,
                                    d_elem, d_g, d_partial)
    else:
        _mse_elems[blocks, threads](d_a, d_b, scale, want_grad, store_elem, d_elem, d_g, d_partial)
    elem = io.result(d_elem, None) if store_elem else None
    return d_partial.copy_to_host(), elem, (io.result(d_g, out) if want_grad else None)


def _launch(n_rows, n_cols):
    """``(blocks, threads, group)`` of a row kernel: ``group`` threads per row.

    Rows of at most ``GROUP_MAX_COLS`` columns share a block (just enough threads
    for the rows); longer rows get a block each. Launch settings are read at call
    time, so tests can shrink them.
    """
    if n_cols <= GROUP_MAX_COLS:
        group = row_group(n_cols)
        threads = row_threads(n_rows * group, _MAX_THREADS)
    else:
        threads = row_threads(n_cols, _MAX_THREADS)
        group = threads
    blocks = max(1, min(-(-n_rows // (threads // group)), launch_config.MAX_BLOCKS))
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
        blocks, threads, group = _launch(rows_x.shape[0], c)
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
        blocks, threads, group = _launch(n_rows, c)
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
        loss = types.Array(types.float64, 1, "C")
        for ids in (types.int32, types.int64):
            sigs.append((_sce_index_rows, (rows, types.Array(ids, 1, "C"), vec, types.int64, types.float64,
                                           types.float64, types.boolean, loss, rows, group)))
        sigs.append((_sce_prob_rows, (rows, rows, vec, types.float64, types.float64, types.boolean, loss, rows,
                                      group)))
        b = types.boolean
        sigs.append((_bce_elems, (rows, rows, rows, b, vec, types.float64, b, b, rows, rows, loss)))
        sigs.append((_mse_elems, (rows, rows, types.float64, b, b, rows, rows, loss)))
    return sigs
