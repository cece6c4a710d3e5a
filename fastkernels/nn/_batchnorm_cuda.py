"""CUDA twin of :mod:`fastkernels.nn.batchnorm`.

Column statistics use a block per 32-column tile: a warp reads 32 consecutive
columns of one row (coalesced) and the block's warps walk interleaved rows, their
partial sums reduced through shared memory. The
statistics kernel also updates the running statistics and writes
``1/sqrt(var + eps)``, so a forward pass is two kernels and no host round trip.
"""

import math

import numpy as np
from numba import cuda, float64

from .. import _launch as launch_config
from .._launch import DeviceIO, grid_1d


_COLS = 32  # columns per block: a warp reads 32 consecutive columns of one row (coalesced)
_MAX_SLICES = 32  # row slices per block (blockDim.y), reduced through shared memory


def column_launch(c):
    """``(blocks, (32, slices))`` of :func:`_stats` / :func:`_grad_sums`: a block per 32-column
    tile, its ``slices`` warps walking interleaved rows, so even a few hundred columns keep
    many warps busy. Read at call time (tests shrink ``THREADS_PER_BLOCK``)."""
    slices = max(1, min(_MAX_SLICES, launch_config.THREADS_PER_BLOCK // _COLS))
    tiles = -(-c // _COLS)
    return max(1, min(tiles, launch_config.MAX_BLOCKS)), (_COLS, slices)


@cuda.jit(device=True, inline=True)
def _slice_sum(buf, tx, ny):
    """Sum of ``buf[0:ny, tx]`` (the row slices' partial sums of one column)."""
    t = 0.0
    for q in range(ny):
        t += buf[q, tx]
    return t


@cuda.jit
def _stats(x, rm, rv, momentum, eps, training, mean, inv_std):
    """Column mean and 1/sqrt(var + eps), two-pass (no cancellation); updates the running
    statistics in training. Launch with :func:`column_launch`."""
    sa = cuda.shared.array((_MAX_SLICES, _COLS), float64)
    n, c = x.shape
    tx, ty, ny = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.y
    for tile in range(cuda.blockIdx.x, (c + _COLS - 1) // _COLS, cuda.gridDim.x):  # same trip count per block
        j = tile * _COLS + tx
        s = 0.0
        if training and j < c:
            for i in range(ty, n, ny):
                s += float64(x[i, j])
        sa[ty, tx] = s
        cuda.syncthreads()
        mu = _slice_sum(sa, tx, ny) / n if training else 0.0  # evaluation may see n = 0
        cuda.syncthreads()  # every thread read the sums before the buffer is reused
        q = 0.0
        if training and j < c:
            for i in range(ty, n, ny):
                d = float64(x[i, j]) - mu
                q += d * d
        sa[ty, tx] = q
        cuda.syncthreads()
        if ty == 0 and j < c:
            if training:
                var = _slice_sum(sa, tx, ny) / n
                rm[j] = (1 - momentum) * rm[j] + momentum * mu
                rv[j] = (1 - momentum) * rv[j] + momentum * var * n / (n - 1)
            else:
                mu = float64(rm[j])
                var = float64(rv[j])
            mean[j] = mu
            inv_std[j] = 1.0 / math.sqrt(var + eps)
        cuda.syncthreads()


@cuda.jit
def _normalise(x, mean, inv_std, gamma, beta, store_xhat, xhat, y):
    c = x.shape[1]
    for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        i = k // c
        j = k - i * c
        h = (x[i, j] - mean[j]) * inv_std[j]
        if store_xhat:
            xhat[i, j] = h
        y[i, j] = gamma[j] * h + beta[j]


@cuda.jit
def _grad_sums(dy, xhat, sdy, sdyx):
    """Column sums of ``dy`` and ``dy * xhat``. Launch with :func:`column_launch`."""
    sa = cuda.shared.array((_MAX_SLICES, _COLS), float64)
    sb = cuda.shared.array((_MAX_SLICES, _COLS), float64)
    n, c = dy.shape
    tx, ty, ny = cuda.threadIdx.x, cuda.threadIdx.y, cuda.blockDim.y
    for tile in range(cuda.blockIdx.x, (c + _COLS - 1) // _COLS, cuda.gridDim.x):
        j = tile * _COLS + tx
        a = 0.0
        b = 0.0
        if j < c:
            for i in range(ty, n, ny):
                g = float64(dy[i, j])
                a += g
                b += g * xhat[i, j]
        sa[ty, tx] = a
        sb[ty, tx] = b
        cuda.syncthreads()
        if ty == 0 and j < c:
            sdy[j] = _slice_sum(sa, tx, ny)
            sdyx[j] = _slice_sum(sb, tx, ny)
        cuda.syncthreads()


@cuda.jit
def _dx(dy, xhat, inv_std, gamma, sdy, sdyx, dx):
    n, c = dy.shape
    for k in range(cuda.grid(1), dy.size, cuda.gridsize(1)):
        i = k // c
        j = k - i * c
        dx[i, j] = gamma[j] * inv_std[j] / n * (n * dy[i, j] - sdy[j] - xhat[i, j] * sdyx[j])


def forward(x, gamma, beta, running_mean, running_var, training, momentum, eps):
    """(y, (xhat or None, inv_std)) on the device; host running statistics are updated in place."""
    io = DeviceIO(x, running_mean)
    n, c = (int(d) for d in x.shape)
    d_x, d_g, d_b = io.input(x), io.input(gamma), io.input(beta)
    d_rm, d_rv = io.input(running_mean), io.input(running_var)
    d_mean = io.cuda.device_array(c, np.float64)
    d_inv = io.cuda.device_array(c, np.float64)
    d_y = io.cuda.device_array((n, c), x.dtype)
    d_xhat = io.cuda.device_array((n, c) if training else (1, 1), x.dtype)
    if c:
        blocks, threads = column_launch(c)
        _stats[blocks, threads](d_x, d_rm, d_rv, momentum, eps, training, d_mean, d_inv)
    if n * c:
        blocks, threads = grid_1d(n * c)
        _normalise[blocks, threads](d_x, d_mean, d_inv, d_g, d_b, training, d_xhat, d_y)
    if not io.is_device(running_mean) and training:
        d_rm.copy_to_host(running_mean)
        d_rv.copy_to_host(running_var)
    xhat = io.result(d_xhat, None) if training else None
    return io.result(d_y, None), (xhat, io.result(d_inv, None))


@cuda.jit
def cast(src, dst):
    """``dst[j] = src[j]`` in ``dst``'s dtype (the float64 column sums into a gradient)."""
    for j in range(cuda.grid(1), dst.size, cuda.gridsize(1)):
        dst[j] = src[j]


def backward(dy, xhat, inv_std, gamma):
    """``(dx, dgamma, dbeta)``: device arrays when an input is one (no host copy), else host arrays."""
    io = DeviceIO(dy, xhat)
    n, c = (int(d) for d in dy.shape)
    d_dy, d_xhat, d_inv, d_g = io.input(dy), io.input(xhat), io.input(inv_std), io.input(gamma)
    d_sdy = io.cuda.device_array(c, np.float64)
    d_sdyx = io.cuda.device_array(c, np.float64)
    d_dx = io.cuda.device_array((n, c), dy.dtype)
    if c:
        blocks, threads = column_launch(c)
        _grad_sums[blocks, threads](d_dy, d_xhat, d_sdy, d_sdyx)
    if n * c:
        blocks, threads = grid_1d(n * c)
        _dx[blocks, threads](d_dy, d_xhat, d_inv, d_g, d_sdy, d_sdyx, d_dx)
    if io.on_host:
        return d_dx.copy_to_host(), d_sdyx.copy_to_host().astype(dy.dtype), d_sdy.copy_to_host().astype(dy.dtype)
    d_dgamma, d_dbeta = io.cuda.device_array(c, dy.dtype), io.cuda.device_array(c, dy.dtype)
    if c:
        cast[grid_1d(c)](d_sdyx, d_dgamma)
        cast[grid_1d(c)](d_sdy, d_dbeta)
    return d_dx, d_dgamma, d_dbeta


def ptx_signatures():
    from numba import types

    f, b = types.float64, types.boolean
    v64 = types.Array(f, 1, "C")
    sigs = []
    for dt in (types.float32, types.float64):
        m, v = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        sigs += [(_stats, (m, v, v, f, f, b, v64, v64)), (_normalise, (m, v64, v64, v, v, b, m, m)),
                 (_grad_sums, (m, m, v64, v64)), (_dx, (m, m, v64, v, v64, v64, m)), (cast, (v64, v))]
    return sigs
