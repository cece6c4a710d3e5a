"""CUDA launch configuration, read by host code at call time.

Kernels never read these as globals (Numba would freeze them as compile-time
constants); host code passes the numbers into each launch, so tests can shrink
them to exercise ragged tails and grid-stride loops with tiny inputs.
"""

from __future__ import annotations

import math

import numpy as np

# 256 threads = 8 warps: enough to hide latency, small enough for 8 blocks per SM.
THREADS_PER_BLOCK = 256
# Grid-stride kernels need no more than a few waves of blocks; 132 SMs * 32 covers an H100.
MAX_BLOCKS = 4096


def grid_1d(n: int, threads: int | None = None) -> tuple[int, int]:
    """``(blocks, threads)`` for a grid-stride kernel over ``n`` items."""
    threads = threads or THREADS_PER_BLOCK
    return max(1, min(MAX_BLOCKS, math.ceil(n / threads))), threads


# Streaming multiprocessors assumed when spreading few long-running threads (an H100 SXM has 132).
SMS = 132


def spread_1d(n: int) -> tuple[int, int]:
    """``(blocks, threads)`` for ``n`` long-running threads (one neuron's whole time loop each).

    With few items, full 256-thread blocks would occupy a handful of SMs and leave the rest
    idle for the whole run; smaller blocks (down to one warp) spread the items over ``SMS``
    SMs. With many items this is :func:`grid_1d`.
    """
    threads = 32
    while threads < THREADS_PER_BLOCK and threads * SMS < n:
        threads *= 2
    threads = min(threads, THREADS_PER_BLOCK)
    return max(1, min(MAX_BLOCKS, math.ceil(n / threads))), threads


def row_threads(n_cols: int, limit: int = 1024) -> int:
    """Threads for a block-per-row kernel: a power of two >= 32 covering ``n_cols``,
    at most ``min(THREADS_PER_BLOCK, limit)`` (tree reductions need a power of two)."""
    cap = min(THREADS_PER_BLOCK, limit)
    t = 32
    while t < n_cols and 2 * t <= cap:
        t *= 2
    return t


def row_group(n_cols: int, cap: int = 32) -> int:
    """Threads per row when short rows share a block: the smallest power of two
    >= ``n_cols``, at most ``cap`` (a warp; a power of two dividing the block)."""
    g = 1
    while g < n_cols and 2 * g <= cap:
        g *= 2
    return g


def to_device(a):
    """``cuda.to_device(a)`` kept off numba-cuda's slow path: an array with a zero stride (a
    broadcast ``(1, n)`` row, which NumPy still flags contiguous) is copied to standard strides
    first. numba-cuda 0.30 walks such an array's extents one element at a time, twice per copy:
    0.24 s for a 100 000-neuron input row, most of a LIF run's 0.25 s on an H200."""
    from numba import cuda

    a = np.asarray(a)
    if a.size and 0 in a.strides:
        a = a.copy()
    return cuda.to_device(a)


class DeviceIO:
    """Host/device plumbing of one CUDA call.

    Host inputs are copied to the GPU once and results copied back; device
    inputs (numba device arrays or any ``__cuda_array_interface__`` object)
    stay on the GPU and the result is returned as a device array.
    """

    def __init__(self, *arrays):
        from numba import cuda

        from ._backend import is_device_array

        self.cuda = cuda
        self.is_device = is_device_array
        self.on_host = not any(is_device_array(a) for a in arrays if a is not None)

    def _device(self, x):
        if hasattr(x, "copy_to_host"):  # already a numba device array
            return x
        return self.cuda.as_cuda_array(x)  # CuPy, torch, ...: zero-copy view

    def input(self, x):
        """``x`` on the device (copied once if it is a host array)."""
        return self._device(x) if self.is_device(x) else to_device(x)

    def output(self, out, shape, dtype):
        """A device buffer for the result; ``out`` itself when it is a device array."""
        if out is not None and self.is_device(out):
            return self._device(out)
        return self.cuda.device_array(shape, dtype=dtype)

    def result(self, d_out, out):
        """What the caller gets: a host array (``out`` filled when given) or the device array."""
        if out is not None and not self.is_device(out):
            d_out.copy_to_host(out)
            return out
        return d_out.copy_to_host() if self.on_host else d_out
