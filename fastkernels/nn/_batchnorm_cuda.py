"""CUDA twin of :mod:`fastkernels.nn.batchnorm`.

Column statistics use one thread per column walking the rows: at each row,
consecutive threads read consecutive columns, so loads are coalesced. The
statistics kernel also updates the running statistics and writes
``1/sqrt(var + eps)``, so a forward pass is two kernels and no host round trip.
"""

import math

import numpy as np
from numba import cuda, float64

from .._launch import DeviceIO, grid_1d


@cuda.jit
def _stats(x, rm, rv, momentum, eps, training, mean, inv_std):
    n, c = x.shape
    for j in range(cuda.grid(1), c, cuda.gridsize(1)):
        if training:
            s = 0.0
            for i in range(n):
                s += float64(x[i, j])
            mu = s / n
            q = 0.0
            for i in range(n):
                d = float64(x[i, j]) - mu
                q += d * d
            var = q / n
            rm[j] = (1 - momentum) * rm[j] + momentum * mu
            rv[j] = (1 - momentum) * rv[j] + momentum * var * n / (n - 1)
        else:
            mu = float64(rm[j])
            var = float64(rv[j])
        mean[j] = mu
        inv_std[j] = 1.0 / math.sqrt(var + eps)


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
    n, c = dy.shape
    for j in range(cuda.grid(1), c, cuda.gridsize(1)):
        a = 0.0
        b = 0.0
        for i in range(n):
            g = float64(dy[i, j])
            a += g
            b += g * xhat[i, j]
        sdy[j] = a
        sdyx[j] = b


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
        blocks, threads = grid_1d(c)
        _stats[blocks, threads](d_x, d_rm, d_rv, momentum, eps, training, d_mean, d_inv)
    if n * c:
        blocks, threads = grid_1d(n * c)
        _normalise[blocks, threads](d_x, d_mean, d_inv, d_g, d_b, training, d_xhat, d_y)
    if not io.is_device(running_mean) and training:
        d_rm.copy_to_host(running_mean)
        d_rv.copy_to_host(running_var)
    xhat = io.result(d_xhat, None) if training else None
    return io.result(d_y, None), (xhat, io.result(d_inv, None))


def backward(dy, xhat, inv_std, gamma):
    io = DeviceIO(dy, xhat)
    n, c = (int(d) for d in dy.shape)
    d_dy, d_xhat, d_inv, d_g = io.input(dy), io.input(xhat), io.input(inv_std), io.input(gamma)
    d_sdy = io.cuda.device_array(c, np.float64)
    d_sdyx = io.cuda.device_array(c, np.float64)
    d_dx = io.cuda.device_array((n, c), dy.dtype)
    if c:
        blocks, threads = grid_1d(c)
        _grad_sums[blocks, threads](d_dy, d_xhat, d_sdy, d_sdyx)
    if n * c:
        blocks, threads = grid_1d(n * c)
        _dx[blocks, threads](d_dy, d_xhat, d_inv, d_g, d_sdy, d_sdyx, d_dx)
    sdyx, sdy = d_sdyx.copy_to_host().astype(dy.dtype), d_sdy.copy_to_host().astype(dy.dtype)
    return io.result(d_dx, None), sdyx, sdy


def ptx_signatures():
    from numba import types

    f, b = types.float64, types.boolean
    v64 = types.Array(f, 1, "C")
    sigs = []
    for dt in (types.float32, types.float64):
        m, v = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        sigs += [(_stats, (m, v, v, f, f, b, v64, v64)), (_normalise, (m, v64, v64, v, v, b, m, m)),
                 (_grad_sums, (m, m, v64, v64)), (_dx, (m, m, v64, v, v64, v64, m))]
    return sigs
