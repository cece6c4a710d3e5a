"""The blocked layout every CPU neuron kernel sees: ``(n_blocks, rows, ROW)`` arrays.

A population is split into blocks of :data:`BLOCK` neurons (small enough that a block's state
and parameters stay in L1). State and parameters travel as ``(n_blocks, n_rows, ROW)`` arrays:
the rows of one block sit a compile-time constant apart, so LLVM proves the per-neuron loads
and stores independent and vectorises the step loop without runtime alias checks.
"""

from __future__ import annotations

import math

import numpy as np

#: Neurons per CPU block. Kernels freeze it as a compile-time constant and Numba's cache does
#: not notice edits of another module: clear ``__pycache__/*.nb[ic]`` after changing it.
BLOCK = 256
#: Row stride inside a block: not a power of two, or the rows' addresses would collide modulo
#: 4 KiB and every load would wait on an unrelated store (4K aliasing: measured 8x slower).
ROW = BLOCK + 8


def n_blocks(n: int) -> int:
    """Blocks a population of ``n`` neurons takes (at least one)."""
    return max(1, math.ceil(n / BLOCK))


def blocked(rows_by_name: dict, order: tuple, n: int, dtype) -> np.ndarray:
    """Pack per-neuron ``(n,)`` rows (or ``(1,)`` rows, broadcast) into the kernels'
    ``(n_blocks, len(order), ROW)`` layout (padded rows), without an intermediate copy.
    Names of ``order`` missing from ``rows_by_name`` are zero rows."""
    nb = n_blocks(n)
    full, rem = divmod(n, BLOCK)
    out = np.zeros((nb, len(order), ROW), dtype=dtype)
    for r, name in enumerate(order):
        if name in rows_by_name:
            row = np.asarray(rows_by_name[name])
            if row.size == 1:  # a uniform row: one value, no broadcast view
                out[:full, r, :BLOCK] = row.flat[0]
                if rem:
                    out[full, r, :rem] = row.flat[0]
                continue
            src = np.broadcast_to(row[:n], (n,))
            out[:full, r, :BLOCK] = src[:full * BLOCK].reshape(full, BLOCK)
            if rem:
                out[full, r, :rem] = src[full * BLOCK:]
    return out


def unblocked(arr: np.ndarray, row: int, n: int) -> np.ndarray:
    """Row ``row`` of a blocked array as a plain, fresh ``(n,)`` array (one copy: a full last block
    copies in one pass, else the full blocks and the last one's ``n % BLOCK`` neurons)."""
    out = np.empty(n, dtype=arr.dtype)
    full, rem = divmod(n, BLOCK)
    out[:full * BLOCK].reshape(full, BLOCK)[:] = arr[:full, row, :BLOCK]
    if rem:
        out[full * BLOCK:] = arr[full, row, :rem]
    return out


def unblocked_rows(arr: np.ndarray, rows: int, n: int, per_neuron: bool = True) -> np.ndarray:
    """The first ``rows`` rows of a blocked array as one fresh ``(rows, n)`` array (the CUDA layout,
    and a run's final state); ``per_neuron=False`` broadcasts each row's first value (uniform
    parameters). One allocation and two strided copies: a fresh array per row (a 100 000-neuron
    run's five state rows) cost 10x more, in page faults, than the copying itself."""
    out = np.empty((rows, n), dtype=arr.dtype)
    if not per_neuron:
        out[:] = arr[0, :rows, :1]
        return out
    full, rem = divmod(n, BLOCK)
    out[:, :full * BLOCK].reshape(rows, full, BLOCK)[:] = arr[:full, :rows, :BLOCK].transpose(1, 0, 2)
    if rem:
        out[:, full * BLOCK:] = arr[full, :rows, :rem]
    return out


def reblock(arr: np.ndarray, flat: np.ndarray, n: int) -> None:
    """Write ``flat`` (``(rows, n)``, the CUDA layout) back into the first rows of the blocked ``arr``."""
    for r in range(flat.shape[0]):
        row = arr[:, r, :BLOCK].reshape(-1)
        row[:n] = flat[r]
        arr[:, r, :BLOCK] = row.reshape(arr.shape[0], BLOCK)
