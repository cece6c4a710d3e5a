"""CUDA twins of the public random fillers in :mod:`fastkernels._random`.

Imported only through :func:`fastkernels._backend.load_cuda`. The kernels call
the same ``device`` helpers as the CPU code, so outputs are bit-identical.
"""

import numpy as np
from numba import cuda

from ._launch import grid_1d
from ._random import normal, stream_key, uniform


@cuda.jit
def _fill_uniform(out, key, low, high):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, out.size, stride):  # grid-stride: coalesced, any launch size
        out[i] = low + (high - low) * uniform(stream_key(key, i), 0)


@cuda.jit
def _fill_normal(out, key, mean, std):
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, out.size, stride):
        out[i] = mean + std * normal(stream_key(key, i), 0)


def fill(kind, size, key, dtype, a, b):
    """Fill a new host array of ``size`` values on the GPU (see ``_random._fill``)."""
    out = cuda.device_array(size, dtype=dtype)
    if size:
        kernel = _fill_uniform if kind == "uniform" else _fill_normal
        blocks, threads = grid_1d(size)
        kernel[blocks, threads](out, np.int64(key), a, b)
    return out.copy_to_host()


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    for dt in (types.float32, types.float64):
        out = types.Array(dt, 1, "C")
        sigs += [(_fill_uniform, (out, types.int64, types.float64, types.float64)),
                 (_fill_normal, (out, types.int64, types.float64, types.float64))]
    return sigs
