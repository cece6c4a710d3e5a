"""CUDA kernels of :mod:`fastkernels.nn.cross_entropy` (imported only for ``backend="cuda"``).

Softmax-cross-entropy runs a group of threads per row in the two layouts of
:mod:`fastkernels.nn._rowwise_cuda` (row groups for short rows, a block per long
row), whose online ``(max, sum of exp)`` reduction and launch it shares, then
writes the gradient in a second coalesced pass. Accumulation is in float64 for
both dtypes, like the CPU kernels.
"""

import math

import numpy as np
from numba import cuda, float64

from .._launch import DeviceIO
from ._rowwise_cuda import MAX_THREADS, group_sum2, lse_inv, row_groups, row_launch, row_stats


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
    sm = cuda.shared.array(MAX_THREADS, float64)
    ss = cuda.shared.array(MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    eps_c = eps / n_cols
    lane, slot, first, step = row_groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        t = y[r] if active else ignore
        counted = active and t != ignore  # an ignored row reads no logits
        m, s = row_stats(x, r, n_cols if counted else 0, lane, group, sm, ss)
        lse, inv_s = lse_inv(m, s)
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
            sw, swx = group_sum2(sw, swx, lane, group, sm, ss)
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
    sm = cuda.shared.array(MAX_THREADS, float64)
    ss = cuda.shared.array(MAX_THREADS, float64)
    n_rows, n_cols = x.shape
    eps_c = eps / n_cols
    lane, slot, first, step = row_groups(group)
    for r0 in range(first, n_rows, step):
        r = r0 + slot
        active = r < n_rows
        m, s = row_stats(x, r, n_cols if active else 0, lane, group, sm, ss)
        lse, inv_s = lse_inv(m, s)
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
        big_a, big_b = group_sum2(big_a, big_b, lane, group, sm, ss)
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
        blocks, threads, group = row_launch(n, c)
        if probs:
            _sce_prob_rows[blocks, threads](d_x, d_t, d_w, eps, scale, want_grad, d_loss, d_g, group)
        else:
            _sce_index_rows[blocks, threads](d_x, d_t, d_w, ignore, eps, scale, want_grad, d_loss, d_g, group)
    rows = d_loss.copy_to_host() if rows_out is None else None
    return rows, (io.result(d_g, out) if want_grad else None)


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    group = types.int64  # threads per row, both layouts
    for dt in (types.float32, types.float64):
        rows, vec = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        loss = types.Array(types.float64, 1, "C")
        for ids in (types.int32, types.int64):
            sigs.append((_sce_index_rows, (rows, types.Array(ids, 1, "C"), vec, types.int64, types.float64,
                                           types.float64, types.boolean, loss, rows, group)))
        sigs.append((_sce_prob_rows, (rows, rows, vec, types.float64, types.float64, types.boolean, loss, rows,
                                      group)))
    return sigs
