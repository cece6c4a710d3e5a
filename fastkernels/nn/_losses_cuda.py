"""CUDA kernels of :mod:`fastkernels.nn.losses` (imported only for ``backend="cuda"``).

Sigmoid binary cross-entropy and MSE run elementwise over a grid-stride range
(consecutive threads, consecutive elements) with per-block float64 loss sums
reduced in shared memory; the BCE element maths is
:func:`fastkernels._scalar.bce_element`, shared with the CPU.
"""

import numpy as np
from numba import cuda, float64

from .._launch import DeviceIO, grid_1d, row_threads
from .._scalar import bce_element
from ._rowwise_cuda import MAX_THREADS, block_sum2


@cuda.jit
def _bce_elems(z, t, w, w_full, pw, scale, want_grad, store_elem, elem, g, partial):
    """Sigmoid BCE elementwise over a (R, C) grid-stride range; per-block loss sums."""
    sa = cuda.shared.array(MAX_THREADS, float64)
    sb = cuda.shared.array(MAX_THREADS, float64)
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
    acc, _ = block_sum2(acc, 0.0, sa, sb)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = acc


@cuda.jit
def _mse_elems(a, b, scale, want_grad, store_elem, elem, g, partial):
    """Squared error elementwise over a (R, C) grid-stride range; per-block loss sums."""
    sa = cuda.shared.array(MAX_THREADS, float64)
    sb = cuda.shared.array(MAX_THREADS, float64)
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
    acc, _ = block_sum2(acc, 0.0, sa, sb)
    if cuda.threadIdx.x == 0:
        partial[cuda.blockIdx.x] = acc


def elementwise_launch(n):
    """``(blocks, threads)`` of :func:`_bce_elems` / :func:`_mse_elems` over ``n`` elements
    (one partial loss sum per block)."""
    return grid_1d(n, row_threads(n, MAX_THREADS))


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


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    for dt in (types.float32, types.float64):
        rows, vec = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        loss = types.Array(types.float64, 1, "C")
        b = types.boolean
        sigs.append((_bce_elems, (rows, rows, rows, b, vec, types.float64, b, b, rows, rows, loss)))
        sigs.append((_mse_elems, (rows, rows, types.float64, b, b, rows, rows, loss)))
    return sigs
