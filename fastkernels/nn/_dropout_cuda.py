"""CUDA twin of :mod:`fastkernels.nn.dropout`: the same counter-based mask, bit for bit."""

import numpy as np
from numba import cuda

from .._launch import DeviceIO, grid_1d
from .dropout import keep_scale


@cuda.jit
def _dropout(x, key, p, y):
    for k in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        y[k] = x[k] * keep_scale(key, k, p)


def dropout(x, key, p, out):
    io = DeviceIO(x, out)
    shape = tuple(x.shape)
    n = int(np.prod(shape))
    d_x = io.input(x)
    d_y = io.output(out, shape, x.dtype)
    if n:
        blocks, threads = grid_1d(n)
        _dropout[blocks, threads](d_x.reshape(n), np.int64(key), p, d_y.reshape(n))
    return io.result(d_y, out)


def ptx_signatures():
    from numba import types

    return [(_dropout, (types.Array(dt, 1, "C"), types.int64, types.float64, types.Array(dt, 1, "C")))
            for dt in (types.float32, types.float64)]
