"""CUDA kernels of :mod:`fastkernels.word2vec.batches`: skip-gram pairs (count-scan-fill, see
:mod:`._tilescan_cuda`) and CBOW windows; imported only for ``backend="cuda"``.

The scalar cores are the CPU kernels' own ``device`` helpers (:mod:`._draws`); the few helpers
that read arrays are repeated here as CUDA device functions, because the CUDA simulator cannot
pass its device arrays into CPU-jitted code. With one seed the GPU gives exactly the CPU's
output, which the tests check element for element. Kernels are grid-stride loops over tokens
(or tiles), coalesced in their index reads and writes.
"""

import numpy as np
from numba import cuda, int64

from .._launch import grid_1d
from .._validate import check_allocation
from ._draws import reduced_window
from ._tilescan_cuda import MAX_TILE, launch, scan_offsets, tile_scan


@cuda.jit(device=True, inline=True)
def sentence_of(offsets, position):
    """As :func:`fastkernels.word2vec.batches.sentence_of` (binary search over offsets)."""
    lo = 0
    hi = offsets.size - 1
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if offsets[mid] <= position:
            lo = mid
        else:
            hi = mid
    return lo


@cuda.jit(device=True, inline=True)
def context_span(offsets, s, i, window, wkey, shrink):
    """As :func:`fastkernels.word2vec.batches.context_span`."""
    r = reduced_window(wkey, i, window, shrink)
    return min(i - offsets[s], r), min(offsets[s + 1] - 1 - i, r)


@cuda.jit
def _pair_scan(ids, offsets, window, shrink, wkey, excl, tile_sums):
    buf = cuda.shared.array(MAX_TILE, int64)
    n = ids.size
    tile = cuda.blockDim.x
    for t in range(cuda.blockIdx.x, tile_sums.size, cuda.gridDim.x):  # uniform per block: syncthreads is safe
        i = t * tile + cuda.threadIdx.x
        v = 0
        if i < n:
            s = sentence_of(offsets, i)
            left, right = context_span(offsets, s, i, window, wkey, shrink)
            v = left + right
        e, total = tile_scan(v, buf)
        if i < n:
            excl[i] = e
        if cuda.threadIdx.x == 0:
            tile_sums[t] = total


@cuda.jit
def _pair_fill(ids, offsets, window, shrink, wkey, excl, tile_off, centers, contexts):
    n = ids.size
    tile = cuda.blockDim.x
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        s = sentence_of(offsets, i)
        left, right = context_span(offsets, s, i, window, wkey, shrink)
        pos = tile_off[i // tile] + excl[i]
        c = ids[i]
        for j in range(i - left, i + right + 1):
            if j != i:
                centers[pos] = c
                contexts[pos] = ids[j]
                pos += 1


@cuda.jit
def _cbow(ids, offsets, window, shrink, wkey, contexts, n_context):
    for i in range(cuda.grid(1), ids.size, cuda.gridsize(1)):
        s = sentence_of(offsets, i)
        left, right = context_span(offsets, s, i, window, wkey, shrink)
        k = 0
        for j in range(i - left, i + right + 1):
            if j != i:
                contexts[i, k] = ids[j]
                k += 1
        n_context[i] = k
        for q in range(k, contexts.shape[1]):
            contexts[i, q] = -1


# -- host drivers -----------------------------------------------------------------------


def skipgram_pairs(ids, offsets, window, shrink, wkey):
    """Host driver of :func:`fastkernels.word2vec.skipgram_pairs` on the GPU (host in, host out)."""
    n = ids.size
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    d_ids, d_off = cuda.to_device(ids), cuda.to_device(offsets)
    blocks, threads = launch(n)
    n_tiles = -(-n // threads)
    excl = cuda.device_array(n, np.int64)
    tile_sums = cuda.device_array(n_tiles, np.int64)
    _pair_scan[blocks, threads](d_ids, d_off, np.int64(window), shrink, np.int64(wkey), excl, tile_sums)
    tile_off, total = scan_offsets(tile_sums)
    check_allocation(total, 8, "window", what="pairs")  # before allocating (host and device)
    centers = cuda.device_array(total, np.int32)
    contexts = cuda.device_array(total, np.int32)
    if total:
        _pair_fill[blocks, threads](d_ids, d_off, np.int64(window), shrink, np.int64(wkey), excl, tile_off,
                                    centers, contexts)
    return centers.copy_to_host(), contexts.copy_to_host()


def cbow_windows(ids, offsets, window, shrink, wkey):
    """Host driver of :func:`fastkernels.word2vec.cbow_windows` on the GPU."""
    n = ids.size
    contexts = np.empty((n, 2 * window), np.int32)
    n_context = np.empty(n, np.int32)
    if n:
        d_ctx = cuda.device_array((n, 2 * window), np.int32)
        d_n = cuda.device_array(n, np.int32)
        blocks, threads = grid_1d(n)
        _cbow[blocks, threads](cuda.to_device(ids), cuda.to_device(offsets), np.int64(window), shrink,
                               np.int64(wkey), d_ctx, d_n)
        d_ctx.copy_to_host(contexts)
        d_n.copy_to_host(n_context)
    return ids.copy(), contexts, n_context


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    i32, i64 = (types.Array(t, 1, "C") for t in (types.int32, types.int64))
    ctx = types.Array(types.int32, 2, "C")
    return [
        (_pair_scan, (i32, i64, types.int64, types.boolean, types.int64, i64, i64)),
        (_pair_fill, (i32, i64, types.int64, types.boolean, types.int64, i64, i64, i32, i32)),
        (_cbow, (i32, i64, types.int64, types.boolean, types.int64, ctx, i32)),
    ]
