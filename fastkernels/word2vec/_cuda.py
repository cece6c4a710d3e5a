"""CUDA kernels of :mod:`fastkernels.word2vec` (imported only for ``backend="cuda"``).

The scalar cores are the CPU kernels' own ``device`` helpers (random streams,
reduced windows, subsampling draws); the few helpers that read arrays
(sentence lookup, alias draw) are repeated here as CUDA device functions,
because the CUDA simulator cannot pass its device arrays into CPU-jitted
code. With one seed the GPU gives exactly the CPU's output, which the tests
check element for element.

Variable-length output (pairs, subsampled tokens) is a count-scan-fill:

1. *scan*: one thread per token computes its count (pairs, or 1 if kept), and
   each block turns its tile of ``blockDim.x`` tokens into exclusive in-tile
   offsets (a shared-memory scan) plus the tile total;
2. the tile totals (``n / blockDim.x`` numbers) go to the host once, which
   sizes the output and returns tile offsets: the only host round trip, and
   it is not in a loop;
3. *fill*: one thread per token writes its items at tile offset + in-tile
   offset, so a warp writes one contiguous stretch of the output.

All kernels are grid-stride loops over tokens (or tiles), coalesced in their
index reads and writes; the alias table (12 bytes a word) stays in L2.
The in-block scan uses shared memory, not warp shuffles, because the CUDA
simulator the tests run under has no ``shfl_*_sync``.
"""

import numpy as np
from numba import cuda, float64, int64, uint64

from .._launch import DeviceIO, grid_1d
from .._random import random_u64, stream_key
from .._validate import check_allocation
from .batches import reduced_window
from .sampling import MAX_TRIES
from .subsample import keep_token

_MAX_TILE = 1024  # shared memory of one scan: 8 KiB; threads per block must not exceed it


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


@cuda.jit(device=True, inline=True)
def _tile_scan(v, buf):
    """Exclusive prefix sum of ``v`` over the block, and the block total (Hillis-Steele)."""
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    buf[tid] = v
    cuda.syncthreads()
    step = 1
    while step < nt:
        x = buf[tid - step] if tid >= step else 0
        cuda.syncthreads()
        buf[tid] += x
        cuda.syncthreads()
        step *= 2
    incl = buf[tid]
    total = buf[nt - 1]
    cuda.syncthreads()  # everyone has read before the next tile reuses buf
    return incl - v, total


@cuda.jit
def _pair_scan(ids, offsets, window, shrink, wkey, excl, tile_sums):
    buf = cuda.shared.array(_MAX_TILE, int64)
    n = ids.size
    tile = cuda.blockDim.x
    for t in range(cuda.blockIdx.x, tile_sums.size, cuda.gridDim.x):  # uniform per block: syncthreads is safe
        i = t * tile + cuda.threadIdx.x
        v = 0
        if i < n:
            s = sentence_of(offsets, i)
            left, right = context_span(offsets, s, i, window, wkey, shrink)
            v = left + right
        e, total = _tile_scan(v, buf)
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


@cuda.jit
def _keep_scan(ids, keep, skey, excl, tile_sums):
    buf = cuda.shared.array(_MAX_TILE, int64)
    n = ids.size
    tile = cuda.blockDim.x
    for t in range(cuda.blockIdx.x, tile_sums.size, cuda.gridDim.x):
        i = t * tile + cuda.threadIdx.x
        v = 0
        if i < n and keep_token(keep[ids[i]], skey, i):
            v = 1
        e, total = _tile_scan(v, buf)
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


@cuda.jit
def _negatives(table, nkey, start, exclude, use_exclude, out):
    k = out.shape[1]
    for t in range(cuda.grid(1), out.size, cuda.gridsize(1)):  # one thread per entry: coalesced writes
        i = t // k
        j = t - i * k
        x = exclude[i] if use_exclude else -1
        out[i, j] = draw_negative(table, stream_key(nkey, start + i), j, k, x)


# -- host drivers -----------------------------------------------------------------------


def _launch(n):
    blocks, threads = grid_1d(n)
    if threads > _MAX_TILE:
        raise ValueError(f"THREADS_PER_BLOCK={threads} exceeds {_MAX_TILE}, the scan kernels' shared memory")
    return blocks, threads


def _scan_offsets(tile_sums):
    """Tile offsets on the device and the grand total (the one host round trip)."""
    sums = tile_sums.copy_to_host()
    off = np.zeros(sums.size, np.int64)
    np.cumsum(sums[:-1], out=off[1:])
    return cuda.to_device(off), int(sums.sum())


def skipgram_pairs(ids, offsets, window, shrink, wkey):
    """Host driver of :func:`fastkernels.word2vec.skipgram_pairs` on the GPU (host in, host out)."""
    n = ids.size
    if n == 0:
        return np.zeros(0, np.int32), np.zeros(0, np.int32)
    d_ids, d_off = cuda.to_device(ids), cuda.to_device(offsets)
    blocks, threads = _launch(n)
    n_tiles = -(-n // threads)
    excl = cuda.device_array(n, np.int64)
    tile_sums = cuda.device_array(n_tiles, np.int64)
    _pair_scan[blocks, threads](d_ids, d_off, np.int64(window), shrink, np.int64(wkey), excl, tile_sums)
    tile_off, total = _scan_offsets(tile_sums)
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


def subsample(ids, offsets, keep, skey):
    """Host driver of :func:`fastkernels.word2vec.subsample` on the GPU; returns (ids, offsets)."""
    n = ids.size
    if n == 0:
        return np.zeros(0, np.int32), np.zeros_like(offsets)
    d_ids, d_keep = cuda.to_device(ids), cuda.to_device(keep)
    blocks, threads = _launch(n)
    n_tiles = -(-n // threads)
    excl = cuda.device_array(n, np.int64)
    tile_sums = cuda.device_array(n_tiles, np.int64)
    _keep_scan[blocks, threads](d_ids, d_keep, np.int64(skey), excl, tile_sums)
    tile_off, total = _scan_offsets(tile_sums)
    out_ids = cuda.device_array(total, np.int32)
    if total:
        _keep_fill[blocks, threads](d_ids, d_keep, np.int64(skey), excl, tile_off, out_ids)
    out_off = cuda.device_array(offsets.size, np.int64)
    b2, t2 = grid_1d(offsets.size)
    _keep_offsets[b2, t2](cuda.to_device(offsets), np.int64(n), np.int64(total), excl, tile_off,
                          np.int64(threads), out_off)
    return out_ids.copy_to_host(), out_off.copy_to_host()


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

    i32, i64, f64 = (types.Array(t, 1, "C") for t in (types.int32, types.int64, types.float64))
    ctx = types.Array(types.int32, 2, "C")
    sigs = [
        (_pair_scan, (i32, i64, types.int64, types.boolean, types.int64, i64, i64)),
        (_pair_fill, (i32, i64, types.int64, types.boolean, types.int64, i64, i64, i32, i32)),
        (_cbow, (i32, i64, types.int64, types.boolean, types.int64, ctx, i32)),
        (_keep_scan, (i32, f64, types.int64, i64, i64)),
        (_keep_fill, (i32, f64, types.int64, i64, i64, i32)),
        (_keep_offsets, (i64, types.int64, types.int64, i64, i64, types.int64, i64)),
    ]
    for ex in (i32, i64):
        sigs.append((_negatives, (i64, types.int64, types.int64, ex, types.boolean, ctx)))
    return sigs
