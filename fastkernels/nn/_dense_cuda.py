"""CUDA kernels of the dense layer (``backend="cuda"``); the elementwise activation kernels
are in :mod:`fastkernels.nn._activations_cuda`.

Imported only through :func:`fastkernels._backend.load_cuda`; the CPU twin and
all argument checks live in :mod:`fastkernels.nn.dense` and
:mod:`fastkernels.nn.activations`. Weights are stored ``(out, in)`` like
``torch.nn.Linear``: ``Z = X @ W.T + b``, ``A = f(Z)``.

Tiled matmul
    The three products of a layer, ``X @ W.T`` (forward), ``dZ @ W`` (dX) and
    ``dZ.T @ X`` (dW), share one scheme. A block of ``TILE x ROWS`` = 32 x 8
    threads owns a 32 x 32 tile of the output and walks the contraction axis
    32 at a time. Each step stages a 32 x 32 tile of both operands in shared
    memory: lane ``tx`` of a warp reads element ``tx`` of a row of the operand
    *as it lies in memory*, so every global load is 32 consecutive elements
    (coalesced) whichever operand is transposed; operands read across their
    rows (``W`` in ``X @ W.T``, ``dZ`` in ``dZ.T @ X``) are transposed on the
    way into shared memory instead. Tiles are padded to 33 columns so the
    transposing stores and the column reads hit 32 different banks. Each thread
    then accumulates 4 outputs (rows ``ty, ty + 8, ty + 16, ty + 24`` of column
    ``tx``) in registers: per step of the contraction one conflict-free shared
    load of the ``B`` tile and 4 broadcast loads of the ``A`` tile feed 4 FMAs.
    Entries outside the operands are zero-filled, and the inner loop stops at
    the last valid contraction index of a ragged final tile (a block-uniform
    bound), so any ``N, M, K`` >= 1 works, primes included. Blocks walk the
    output tiles in a grid-stride loop (at most ``_launch.MAX_BLOCKS`` blocks);
    consecutive tiles share a row-tile of the left operand, which then stays
    in L2.

Precision
    The products accumulate in the input dtype, as GPUs do it: float32 inputs
    give float32 FMA chains (error ~ ``sqrt(K) * eps32`` relative to the
    magnitudes summed), float64 inputs float64 ones; ``db`` is part of the dW
    product and accumulates the same way. The CPU backend calls BLAS, which
    does the same; results differ from it by rounding only. The
    activation itself is evaluated in float64 by the shared scalar helpers
    :func:`~fastkernels.nn.activations.act_forward` /
    :func:`~fastkernels.nn.activations.act_grad` (compiled here as device
    functions), then rounded to the input dtype.

Epilogue fusion
    The forward kernel adds the bias, stores ``Z`` (only when the backward
    pass will need it: softplus, gelu) and stores ``A = f(Z)`` straight from
    the accumulator registers: ``Z`` is never re-read from memory and the
    stores of a warp are 32 consecutive elements of a row. The backward ``dW``
    kernel computes ``db`` in the same pass: it multiplies ``dZ.T`` by ``X``
    with a virtual column of ones appended (``[X | 1]``, column ``K`` reads as
    1 in the tile loader), so column ``K`` of its output is ``dZ.T @ 1 =
    db``, with no second read of ``dZ`` and no extra launch.

Expected speed (reasoned from the PTX, not yet timed on a GPU)
    The inner loop compiles to 5 shared loads (immediate offsets, unrolled by 4)
    per 4 FMAs and no local memory, so it is bound by shared-memory issue at
    roughly a quarter of the FP32 FMA peak: fine for the small and medium
    layers of an MLP, not cuBLAS. The next step would be 64 x 64 tiles with
    4 x 4 outputs per thread (8 loads per 16 FMAs).

What stays on the device
    Host inputs are copied to the GPU once and the results copied back once
    (:class:`fastkernels._launch.DeviceIO`); device inputs give device results.
    ``dZ = dA * f'(cache)`` is computed by an elementwise kernel into a device
    buffer that both backward matmuls read (for ``identity`` ``dZ`` is ``dA``
    itself and the kernel is skipped); nothing returns to the host between
    launches.
"""

import math

import numpy as np
from numba import cuda, float64

from .. import _launch
from .._launch import DeviceIO, grid_1d
from . import _activations_cuda as act_cuda
from ._activations_cuda import flat
from .activations import IDENTITY
from .activations import act_forward_cuda as act_forward

#: Output tile edge and contraction step; threads per block are (TILE, ROWS).
TILE = 32
#: Thread rows per block; each thread computes TILE // ROWS outputs of one column.
ROWS = 8
_PER = TILE // ROWS
_PAD = TILE + 1  # shared-memory row length: transposed stores and column reads avoid bank conflicts


# --------------------------------------------------------------------------- matmul building blocks


@cuda.jit(device=True, inline=True)
def _load_tile(src, s, row0, col0, transpose, ones_col):
    """Stage ``src[row0:row0+TILE, col0:col0+TILE]`` in shared memory ``s``.

    Lane ``tx`` reads column ``col0 + tx``, so each warp loads 32 consecutive
    elements of one row (coalesced). The tile lands as ``s[r, c]``, or as
    ``s[c, r]`` when ``transpose``. Entries outside ``src`` are 0, except that
    column ``ones_col`` (pass -1 for none) reads as 1 on ``src``'s rows.
    """
    tx = cuda.threadIdx.x
    n_rows = src.shape[0]
    n_cols = src.shape[1]
    c = col0 + tx
    for i in range(_PER):
        rr = cuda.threadIdx.y + ROWS * i
        r = row0 + rr
        si, sj = (tx, rr) if transpose else (rr, tx)
        if r < n_rows and c < n_cols:
            s[si, sj] = src[r, c]
        elif r < n_rows and c == ones_col:
            s[si, sj] = 1
        else:
            s[si, sj] = 0


@cuda.jit(device=True, inline=True)
def _fma_tile(sa, sb, depth, acc):
    """``acc[i] += sum_j sa[ty + ROWS i, j] * sb[j, tx]`` for ``j < depth``.

    ``sa`` reads are warp-wide broadcasts (one ``ty`` per warp), ``sb`` reads
    touch 32 consecutive words: no bank conflicts. ``depth`` is the same for the
    whole block.
    """
    tx = cuda.threadIdx.x
    ty = cuda.threadIdx.y
    j = 0
    while j < depth:  # a plain counted loop: LLVM unrolls it by 4 with immediate shared-memory offsets
        bv = sb[j, tx]
        for i in range(_PER):
            acc[i] += sa[ty + ROWS * i, j] * bv
        j += 1


@cuda.jit(device=True, inline=True)
def _tile_origin(t, col_tiles):
    """Top-left output element of output tile ``t`` (row-major order of tiles)."""
    tr = t // col_tiles
    return tr * TILE, (t - tr * col_tiles) * TILE


# --------------------------------------------------------------------------- kernels


@cuda.jit
def _dense_fwd(x, w, b, code, alpha, keep_z, z, a):
    """``z = x @ w.T + b`` (stored only when ``keep_z``) and ``a = f(z)``, tile by tile."""
    sa = cuda.shared.array((TILE, _PAD), x.dtype)
    sb = cuda.shared.array((TILE, _PAD), x.dtype)
    acc = cuda.local.array(_PER, x.dtype)  # fully unrolled: lives in registers
    n = x.shape[0]
    k = x.shape[1]
    m = w.shape[0]
    col_tiles = (m + TILE - 1) // TILE
    n_tiles = ((n + TILE - 1) // TILE) * col_tiles
    for t in range(cuda.blockIdx.x, n_tiles, cuda.gridDim.x):  # block-uniform trip count
        r0, c0 = _tile_origin(t, col_tiles)
        for i in range(_PER):
            acc[i] = 0
        for j0 in range(0, k, TILE):
            _load_tile(x, sa, r0, j0, False, -1)  # sa[r, j] = x[r0 + r, j0 + j]
            _load_tile(w, sb, c0, j0, True, -1)  # sb[j, c] = w[c0 + c, j0 + j]
            cuda.syncthreads()
            _fma_tile(sa, sb, min(TILE, k - j0), acc)
            cuda.syncthreads()  # everyone is done reading before the next tiles land
        c = c0 + cuda.threadIdx.x
        if c < m:
            bias = b[c]
            for i in range(_PER):
                r = r0 + cuda.threadIdx.y + ROWS * i
                if r < n:
                    v = acc[i] + bias
                    if keep_z:
                        z[r, c] = v
                    a[r, c] = act_forward(code, float64(v), alpha)


@cuda.jit
def _dense_dx(dz, w, dx):
    """``dx = dz @ w``: (N, M) @ (M, K); both operands staged as they lie in memory."""
    sa = cuda.shared.array((TILE, _PAD), dz.dtype)
    sb = cuda.shared.array((TILE, _PAD), dz.dtype)
    acc = cuda.local.array(_PER, dz.dtype)
    n = dz.shape[0]
    m = dz.shape[1]
    k = w.shape[1]
    col_tiles = (k + TILE - 1) // TILE
    n_tiles = ((n + TILE - 1) // TILE) * col_tiles
    for t in range(cuda.blockIdx.x, n_tiles, cuda.gridDim.x):
        r0, c0 = _tile_origin(t, col_tiles)
        for i in range(_PER):
            acc[i] = 0
        for j0 in range(0, m, TILE):
            _load_tile(dz, sa, r0, j0, False, -1)  # sa[r, j] = dz[r0 + r, j0 + j]
            _load_tile(w, sb, j0, c0, False, -1)  # sb[j, c] = w[j0 + j, c0 + c]
            cuda.syncthreads()
            _fma_tile(sa, sb, min(TILE, m - j0), acc)
            cuda.syncthreads()
        c = c0 + cuda.threadIdx.x
        if c < k:
            for i in range(_PER):
                r = r0 + cuda.threadIdx.y + ROWS * i
                if r < n:
                    dx[r, c] = acc[i]


@cuda.jit
def _dense_dw(dz, x, dw, db):
    """``[dw | db] = dz.T @ [x | 1]``: (M, N) @ (N, K + 1), contracting over the batch.

    Both operands are read along their rows (coalesced); ``dz``'s tile is
    transposed into shared memory. Output column ``K`` is the bias gradient.
    """
    sa = cuda.shared.array((TILE, _PAD), dz.dtype)
    sb = cuda.shared.array((TILE, _PAD), dz.dtype)
    acc = cuda.local.array(_PER, dz.dtype)
    n = dz.shape[0]
    m = dz.shape[1]
    k = x.shape[1]
    col_tiles = (k + 1 + TILE - 1) // TILE  # one extra column: the ones giving db
    n_tiles = ((m + TILE - 1) // TILE) * col_tiles
    for t in range(cuda.blockIdx.x, n_tiles, cuda.gridDim.x):
        r0, c0 = _tile_origin(t, col_tiles)
        for i in range(_PER):
            acc[i] = 0
        for j0 in range(0, n, TILE):
            _load_tile(dz, sa, j0, r0, True, -1)  # sa[r, j] = dz[j0 + j, r0 + r]
            _load_tile(x, sb, j0, c0, False, k)  # sb[j, c] = x[j0 + j, c0 + c], 1 at c == K
            cuda.syncthreads()
            _fma_tile(sa, sb, min(TILE, n - j0), acc)
            cuda.syncthreads()
        c = c0 + cuda.threadIdx.x
        for i in range(_PER):
            r = r0 + cuda.threadIdx.y + ROWS * i
            if r < m:
                if c < k:
                    dw[r, c] = acc[i]
                elif c == k:
                    db[r] = acc[i]


# --------------------------------------------------------------------------- host side


def _matmul_launch(out_rows, out_cols):
    """``(blocks, (TILE, ROWS))`` for a kernel walking the output's tiles."""
    tiles = math.ceil(out_rows / TILE) * math.ceil(out_cols / TILE)
    return max(1, min(_launch.MAX_BLOCKS, tiles)), (TILE, ROWS)


def dense_forward(X, W, b, code, alpha, keep_z, out):
    """Forward pass of a dense layer on the GPU: ``A = f(X @ W.T + b)``.

    Parameters
    ----------
    X : ndarray or device array, shape (N, K), float32 or float64, C-contiguous
        Inputs (validated by :func:`fastkernels.nn.dense_forward`).
    W : ndarray or device array, shape (M, K), X's dtype
        Weights, ``torch.nn.Linear`` layout.
    b : ndarray or device array, shape (M,), X's dtype, or None
        Bias; None means zero.
    code : int
        Activation code (:data:`fastkernels.nn.activations.CODES`).
    alpha : float
        ``leaky_relu`` slope.
    keep_z : bool
        Also return the pre-activation ``Z``.
    out : ndarray or device array of shape (N, M), or None
        Receives ``A``; must not alias ``X`` or ``W``.

    Returns
    -------
    A : ndarray or device array, shape (N, M)
        ``out`` when given; a device array when any input is one.
    Z : ndarray or device array, shape (N, M), or None
        ``X @ W.T + b`` when ``keep_z``, else None.
    """
    io = DeviceIO(X, W, b, out)
    n, k = (int(d) for d in tuple(X.shape))
    m = int(tuple(W.shape)[0])
    dtype = np.dtype(X.dtype)
    d_x, d_w = io.input(X), io.input(W)
    d_b = io.input(b) if b is not None else io.cuda.to_device(np.zeros(m, dtype))
    d_a = io.output(out, (n, m), dtype)
    d_z = io.cuda.device_array((n, m) if keep_z else (1, 1), dtype=dtype)
    if n and m:
        blocks, threads = _matmul_launch(n, m)
        _dense_fwd[blocks, threads](d_x, d_w, d_b, int(code), float(alpha), bool(keep_z), d_z, d_a)
    return io.result(d_a, out), (io.result(d_z, None) if keep_z else None)


def dense_backward(dA, X, W, cache, code, alpha, need_dx):
    """Backward pass of a dense layer on the GPU.

    ``dZ = dA * f'(cache)``, ``dW = dZ.T @ X``, ``db = dZ.sum(0)`` and, when
    ``need_dx``, ``dX = dZ @ W``. ``dZ`` stays on the device between the kernels.

    Parameters
    ----------
    dA : ndarray or device array, shape (N, M)
        Gradient with respect to the layer output.
    X : ndarray or device array, shape (N, K)
        The forward pass's input.
    W : ndarray or device array, shape (M, K)
        The weights.
    cache : ndarray or device array, shape (N, M), or None
        ``Z`` for softplus and gelu, ``A`` for the others (passed to
        :func:`~fastkernels.nn.activations.act_grad` as both ``z`` and ``a``);
        unused, and may be None, for identity.
    code : int
        Activation code; ``alpha`` its slope.
    need_dx : bool
        Compute ``dX``.

    Returns
    -------
    dX : ndarray or device array (N, K), or None
    dW : ndarray or device array (M, K)
    db : ndarray or device array (M,)
    """
    io = DeviceIO(dA, X, W, cache)
    n, k = (int(d) for d in tuple(X.shape))
    m = int(tuple(W.shape)[0])
    dtype = np.dtype(X.dtype)
    d_da, d_x, d_w = io.input(dA), io.input(X), io.input(W)
    if code == IDENTITY:
        d_dz = d_da  # f' = 1: dZ is dA, exactly
    else:
        d_cache = io.input(cache)
        d_dz = io.cuda.device_array((n, m), dtype=dtype)
        if n * m:
            blocks, threads = grid_1d(n * m)
            flat_cache = flat(d_cache)
            act_cuda.act_grad_flat[blocks, threads](flat(d_da), flat_cache, flat_cache, int(code), float(alpha),
                                            flat(d_dz))
    d_dw = io.cuda.device_array((m, k), dtype=dtype)
    d_db = io.cuda.device_array(m, dtype=dtype)
    if m:
        blocks, threads = _matmul_launch(m, k + 1)
        _dense_dw[blocks, threads](d_dz, d_x, d_dw, d_db)
    d_dx = None
    if need_dx:
        d_dx = io.cuda.device_array((n, k), dtype=dtype)
        if n and k:
            blocks, threads = _matmul_launch(n, k)
            _dense_dx[blocks, threads](d_dz, d_w, d_dx)
    dx = io.result(d_dx, None) if need_dx else None
    return dx, io.result(d_dw, None), io.result(d_db, None)


def ptx_signatures():
    """Every (kernel, argument types) the API launches; CI compiles each to PTX."""
    from numba import types

    sigs = []
    for dt in (types.float32, types.float64):
        mat, vec = types.Array(dt, 2, "C"), types.Array(dt, 1, "C")
        sigs += [
            (_dense_fwd, (mat, mat, vec, types.int64, types.float64, types.boolean, mat, mat)),
            (_dense_dx, (mat, mat, mat)),
            (_dense_dw, (mat, mat, mat, vec)),
        ]
    return sigs
