"""Count-scan-fill on the GPU, shared by the word2vec CUDA kernels with variable-length output
(:mod:`._batches_cuda` pairs, :mod:`._subsample_cuda` kept tokens); imported only for ``backend="cuda"``.

1. *scan*: one thread per token computes its count (pairs, or 1 if kept), and
   each block turns its tile of ``blockDim.x`` tokens into exclusive in-tile
   offsets (a shared-memory scan) plus the tile total;
2. the tile totals (``n / blockDim.x`` numbers) go to the host once, which
   sizes the output and returns tile offsets: the only host round trip, and
   it is not in a loop;
3. *fill*: one thread per token writes its items at tile offset + in-tile
   offset, so a warp writes one contiguous stretch of the output.

The in-block scan uses shared memory, not warp shuffles, because the CUDA
simulator the tests run under has no ``shfl_*_sync``.
"""

import numpy as np
from numba import cuda

from .._launch import grid_1d

MAX_TILE = 1024  # shared memory of one scan: 8 KiB; threads per block must not exceed it


@cuda.jit(device=True, inline=True)
def tile_scan(v, buf):
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


def launch(n):
    blocks, threads = grid_1d(n)
    if threads > MAX_TILE:
        raise ValueError(f"THREADS_PER_BLOCK={threads} exceeds {MAX_TILE}, the scan kernels' shared memory")
    return blocks, threads


def scan_offsets(tile_sums):
    """Tile offsets on the device and the grand total (the one host round trip)."""
    sums = tile_sums.copy_to_host()
    off = np.zeros(sums.size, np.int64)
    np.cumsum(sums[:-1], out=off[1:])
    return cuda.to_device(off), int(sums.sum())


def ptx_signatures():
    """No kernels here (device functions and host helpers only; the kernels using them are listed
    by their own modules)."""
    return []
