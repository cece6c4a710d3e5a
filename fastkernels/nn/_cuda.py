"""CUDA kernels of :mod:`fastkernels.nn` (imported only for ``backend="cuda"``).

Softmax family: one block per row (grid-stride over rows). Each thread folds
its strided columns into an online ``(max, sum of exp)`` pair in one coalesced
pass, the pairs are merged by a tree reduction in shared
memory, and a second coalesced pass writes the row. Accumulation is in
float64 for both dtypes, like the CPU kernels.
"""

import math

import numpy as np
from numba import cuda, float64

from .. import _launch as launch_config
from .._launch import DeviceIO, grid_1d, row_threads
from .._validate import as_output
from .losses import bce_element

_MAX_THREADS = 512  # shared-memory size per block: 2 x 4 KiB


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


@cuda.jit(device=True, inline=True)
def _block_sum2(a, b, sa, sb):
    """Sums of ``a`` and ``b`` over the block (tree reduction, power-of-two block)."""
    tid = cuda.threadIdx.x
    sa[tid] = a
    sb[tid] = b
    cuda.syncthreads()
    stride = cuda.blockDim.x // 2
    while stride > 0:
        if tid < stride:
            sa[tid] += sa[tid + stride]
            sb[tid] += sb[tid + stride]
        cuda.syncthreads()
        stride //= 2
    a = sa[0]
    b = sb[0]
    cuda.syncthreads()
    return a, b


@cuda.jit(device=True, inline=True)
def _lse_inv(m, s):
    """(log s, 1/s) of a row's stats; NaN for undefined rows (max +inf or all -inf)."""
    if m == math.inf or not s > 0:  # also avoids log(0) and 1/0, which raise in the simulator
        return math.nan, math.nan
    return math.log(s), 1.0 / s


@cuda.jit(device=True, inline=True)
def _undefined_row(loss, g, r, want_grad):
    """NaN loss and gradient for a row with NaN, +inf or only -inf logits (as the CPU)."""
    if cuda.threadIdx.x == 0:
        loss[r] = math.nan
    if want_grad:
        for j in range(cuda.threadIdx.x, g.shape[1], cuda.blockDim.x):
            g[r, j] = math.nan


@cuda.jit
def _sce_index_rows(x, y, w, ignore, eps, scale, want_grad, loss, g):
    """Softmax-cross-entropy rows with class-id targets; see ``losses`` for the algebra."""
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_cols = x.shape[1]
    eps_c = eps / n_cols
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        t = y[r]
        if t == ignore:  # the same branch for the whole block: no divergent syncthreads
            if tid == 0:
                loss[r] = 0.0
            if want_grad:
                for j in range(tid, n_cols, nt):
                    g[r, j] = 0.0
            continue
        m, s = _row_stats(x, r, sm, ss)
        lse, inv_s = _lse_inv(m, s)
        if math.isnan(lse):  # NaN, +inf or all -inf in the row (block-uniform branch)
            _undefined_row(loss, g, r, want_grad)
            continue
        wt = float64(w[t])
        nll = -wt * ((float64(x[r, t]) - m) - lse)
        sw = 0.0
        if eps > 0:
            swx = 0.0
            for j in range(tid, n_cols, nt):
                v = float64(x[r, j])
                if v > -math.inf:
                    sw += w[j]
                    swx += w[j] * (v - m)
            sw, swx = _block_sum2(sw, swx, sm, ss)
            row_loss = (1 - eps) * nll + eps_c * (sw * lse - swx)
        else:
            row_loss = nll
        big_a = (1 - eps) * wt + eps_c * sw
        if tid == 0:
            loss[r] = row_loss
        if want_grad:
            c1 = scale * big_a * inv_s
            for j in range(tid, n_cols, nt):
                v = float64(x[r, j])
                gj = c1 * math.exp(v - m) if v > -math.inf else 0.0
                if v > -math.inf:
                    gj -= scale * eps_c * w[j]
                if j == t:
                    gj -= scale * (1 - eps) * wt
                g[r, j] = gj


@cuda.jit
def _sce_prob_rows(x, tp, w, eps, scale, want_grad, loss, g):
    """Softmax-cross-entropy rows with probability targets."""
    sm = cuda.shared.array(_MAX_THREADS, float64)
    ss = cuda.shared.array(_MAX_THREADS, float64)
    n_cols = x.shape[1]
    eps_c = eps / n_cols
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for r in range(cuda.blockIdx.x, x.shape[0], cuda.gridDim.x):
        m, s = _row_stats(x, r, sm, ss)
        lse, inv_s = _lse_inv(m, s)
        if math.isnan(lse):
            _undefined_row(loss, g, r, want_grad)
            continue
        big_a = 0.0
        big_b = 0.0
        for j in range(tid, n_cols, nt):
            v = float64(x[r, j])
            a = w[j] * ((1 - eps) * tp[r, j] + (eps_c if v > -math.inf else 0.0))
            big_a += a
            if a != 0:
                big_b += a * (v - m)
        big_a, big_b = _block_sum2(big_a, big_b, sm, ss)
        if tid == 0:
            loss[r] = big_a * lse - big_b
        if want_grad:
            c1 = scale * big_a * inv_s
            for j in range(tid, n_cols, nt):
                v = float64(x[r, j])
                a = w[j] * ((1 - eps) * tp[r, j] + (eps_c if v > -math.inf else 0.0))
                p = math.exp(v - m) if v > -math.inf else 0.0
                g[r, j] = c1 * p - scale * a


def softmax_cross_entropy(x, t, w, ignore, eps, scale, out, want_grad, probs):
    """Per-row losses (host float64 array) and the gradient (host or device) of
    validated ``(N, C)`` logits; ``out`` is None or an ``(N, C)`` buffer."""
    io = DeviceIO(x, t, out)
    n, c = (int(d) for d in x.shape)
    d_x, d_t, d_w = io.input(x), io.input(t), io.input(w)
    d_loss = io.cuda.device_array(n, dtype=np.float64)
    d_g = io.output(out, (n, c), x.dtype) if want_grad else io.cuda.device_array((1, 1), dtype=x.dtype)
    if n:
        blocks, threads = _launch(n, c)
        if probs:
            _sce_prob_rows[blocks, threads](d_x, d_t, d_w, eps, scale, want_grad, d_loss, d_g)
        else:
            _sce_index_rows[blocks, threads](d_x, d_t, d_w, ignore, eps, scale, want_grad, d_loss, d_g)
    rows = d_loss.copy_to_host()
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


def elementwise_loss(kind, a, b, params, scale, store_elem, want_grad, out):
    """("bce" | "mse") on validated (R, C) arrays: (per-block sums on the host, elementwise
    losses or a dummy, gradient or a dummy); device inputs give device outputs."""
    io = DeviceIO(a, b, out)
    shape = tuple(int(d) for d in a.shape)
    d_a, d_b = io.input(a), io.input(b)
    d_elem = io.cuda.device_array(shape if store_elem else (1, 1), dtype=a.dtype)
    d_g = io.output(out, shape, a.dtype) if want_grad else io.cuda.device_array((1, 1), dtype=a.dtype)
    n = shape[0] * shape[1]
    blocks, threads = grid_1d(n, row_threads(n, _MAX_THREADS))
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
    return max(1, min(n_rows, launch_config.MAX_BLOCKS)), row_threads(n_cols, _MAX_THREADS)  # read at call time


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
        loss = types.Array(types.float64, 1, "C")
        for ids in (types.int32, types.int64):
            sigs.append((_sce_index_rows, (rows, types.Array(ids, 1, "C"), vec, types.int64, types.float64,
                                           types.float64, types.boolean, loss, rows)))
        sigs.append((_sce_prob_rows, (rows, rows, vec, types.float64, types.float64, types.boolean, loss, rows)))
        b = types.boolean
        sigs.append((_bce_elems, (rows, rows, rows, b, vec, types.float64, b, b, rows, rows, loss)))
        sigs.append((_mse_elems, (rows, rows, types.float64, b, b, rows, rows, loss)))
    return sigs
