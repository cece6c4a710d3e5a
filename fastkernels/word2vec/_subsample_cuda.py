"""CUDA kernels of :mod:`fastkernels.word2vec.subsample` (count-scan-fill of the kept tokens, see
:mod:`._tilescan_cuda`); imported only for ``backend="cuda"``.

The scalar cores are the CPU kernels' own ``device`` helpers (:mod:`._draws`); the few helpers
that read arrays are repeated here as CUDA device functions, because the CUDA simulator cannot
pass its device arrays into CPU-jitted code. With one seed the GPU gives exactly the CPU's
output, which the tests check element for element. Kernels are grid-stride loops over tokens
(or tiles), coalesced in their index reads and writes.
"""

import numpy as np
from numba import cuda, int64

from .._launch import grid_1d
from ._draws import keep_token
from ._tilescan_cuda import MAX_TILE, launch, scan_offsets, tile_scan


@cuda.jit
def _keep_scan(ids, keep, skey, excl, tile_sums):
    buf = cuda.shared.array(MAX_TILE, int64)
    n = ids.size
    tile = cuda.blockDim.x
    for t in range(cuda.blockIdx.x, tile_sums.size, cuda.gridDim.x):
        i = t * tile + cuda.threadIdx.x
        v = 0
        if i < n and keep_token(keep[ids[i]], skey, i):
            v = 1
        e, total = tile_scan(v, buf)
        if i < n:
            excl[i] = e
        if cuda.threadIdx.x == 0:
            tile_sums[t] = total


@cuda.jit
def _keep_fill(ids, keep, skey, excl, tile_off, out_ids):
    tile = cuda.blockDim.x
    for i in range(cuda.grid(1), ids.size, cuda.gridsize(1)):
        if keep_token(keep[ids[i]], skey, i):
            out_ids[tile_off[i // tile] + excl[i]] = ids[i]


@cuda.jit
def _keep_offsets(offsets, n, total, excl, tile_off, tile, out_offsets):
    for s in range(cuda.grid(1), offsets.size, cuda.gridsize(1)):
        p = offsets[s]
        out_offsets[s] = total if p == n else tile_off[p // tile] + excl[p]


# -- host driver ------------------------------------------------------------------------


def subsample(ids, offsets, keep, skey):
    """Host driver of :func:`fastkernels.word2vec.subsample` on the GPU; returns (ids, offsets)."""
    n = ids.size
    if n == 0:
        return np.zeros(0, np.int32), np.zeros_like(offsets)
    d_ids, d_keep = cuda.to_device(ids), cuda.to_device(keep)
    blocks, threads = launch(n)
    n_tiles = -(-n // threads)
    excl = cuda.device_array(n, np.int64)
    tile_sums = cuda.device_array(n_tiles, np.int64)
    _keep_scan[blocks, threads](d_ids, d_keep, np.int64(skey), excl, tile_sums)
    tile_off, total = scan_offsets(tile_sums)
    out_ids = cuda.device_array(total, np.int32)
    if total:
        _keep_fill[blocks, threads](d_ids, d_keep, np.int64(skey), excl, tile_off, out_ids)
    out_off = cuda.device_array(offsets.size, np.int64)
    b2, t2 = grid_1d(offsets.size)
    _keep_offsets[b2, t2](cuda.to_device(offsets), np.int64(n), np.int64(total), excl, tile_off,
                          np.int64(threads), out_off)
    return out_ids.copy_to_host(), out_off.copy_to_host()


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    i32, i64, f64 = (types.Array(t, 1, "C") for t in (types.int32, types.int64, types.float64))
    return [
        (_keep_scan, (i32, f64, types.int64, i64, i64)),
        (_keep_fill, (i32, f64, types.int64, i64, i64, i32)),
        (_keep_offsets, (i64, types.int64, types.int64, i64, i64, types.int64, i64)),
    ]
