"""CUDA kernels of :mod:`fastkernels.word2vec.sampling` (negatives from the alias table, one
thread per entry); imported only for ``backend="cuda"``. The alias table (12 bytes a word) stays in L2.

The scalar cores are the CPU kernels' own ``device`` helpers (:mod:`._draws`); the few helpers
that read arrays are repeated here as CUDA device functions, because the CUDA simulator cannot
pass its device arrays into CPU-jitted code. With one seed the GPU gives exactly the CPU's
output, which the tests check element for element. Kernels are grid-stride loops over tokens
(or tiles), coalesced in their index reads and writes.
"""

import numpy as np
from numba import cuda, float64, int64, uint64

from .._launch import DeviceIO, grid_1d
from .._random import random_u64, stream_key
from ._draws import MAX_TRIES


@cuda.jit(device=True, inline=True)
def alias_draw(table, skey, counter):
    """As :func:`fastkernels.word2vec.sampling.alias_draw`."""
    v = table.size
    x = float64(random_u64(skey, counter) >> uint64(11)) * (v * (1.0 / 9007199254740992.0))
    c = min(int64(x), v - 1)
    e = table[c]
    if int64((x - c) * 4294967296.0) < (e & 0xFFFFFFFF):
        return c
    return e >> 32


@cuda.jit(device=True, inline=True)
def draw_negative(table, skey, j, k, excluded):
    """As :func:`fastkernels.word2vec.sampling.draw_negative`."""
    w = alias_draw(table, skey, j)
    a = 1
    while w == excluded and a < MAX_TRIES:
        w = alias_draw(table, skey, j + a * k)
        a += 1
    return w


@cuda.jit
def _negatives(table, nkey, start, exclude, use_exclude, out):
    k = out.shape[1]
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):  # one thread per entry: coalesced writes
        i = t // k
        j = t - i * k
        x = exclude[i] if use_exclude else -1
        out[i, j] = draw_negative(table, stream_key(nkey, start + i), j, k, x)


# -- host driver ------------------------------------------------------------------------


def negatives(table, nkey, start, exclude, n, k):
    """Host driver of :meth:`NegativeSampler.sample` on the GPU: a device ``exclude``
    gives a device result, otherwise a host array."""
    io = DeviceIO(exclude)
    d_out = cuda.device_array((n, k), np.int32)
    if n:
        d_ex = io.input(exclude) if exclude is not None else cuda.device_array(1, np.int32)
        blocks, threads = grid_1d(n * k)
        d_table = table if hasattr(table, "copy_to_host") else cuda.to_device(table)
        _negatives[blocks, threads](d_table, np.int64(nkey), np.int64(start), d_ex,
                                    exclude is not None, d_out)
    return d_out.copy_to_host() if io.on_host else d_out


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    i32, i64 = (types.Array(t, 1, "C") for t in (types.int32, types.int64))
    ctx = types.Array(types.int32, 2, "C")
    return [(_negatives, (i64, types.int64, types.int64, ex, types.boolean, ctx)) for ex in (i32, i64)]
