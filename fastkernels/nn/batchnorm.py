"""Batch normalisation over the batch axis of (N, C) activations, with running
statistics, and its backward pass.

Forward (training): ``mu = mean(x)``, ``var = mean((x - mu)**2)`` per column,
``xhat = (x - mu) / sqrt(var + eps)``, ``y = gamma xhat + beta``; the running
statistics move by ``momentum`` towards ``mu`` and the *unbiased* variance, as
``torch.nn.BatchNorm1d`` does. Evaluation normalises with the running
statistics. Backward (the derivation, not seed 003's printed one, which is
wrong; see the notes):
``dx = gamma / (N sqrt(var + eps)) * (N dy - sum(dy) - xhat * sum(dy xhat))``,
``dgamma = sum(dy xhat)``, ``dbeta = sum(dy)``.

Column sums run over blocks of 64 columns (one block per task, rows walked in
order, so reads stay contiguous) and accumulate in float64. Each task calls a
separately compiled function with local accumulators: Numba's parallel lowering of
a ``prange`` body does not vectorise its inner loops, and accumulating straight into
the output arrays kept them in memory (3.5x slower at 2048x256).
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, jit
from .._outputs import as_output, check_disjoint
from .._validate import FLOAT_DTYPES, host_values, as_array, check_flag, check_scalar

_BLOCK = 64


@jit
def _sums_block(a, b, c0, c1, sa, sab):
    """Columns ``c0:c1`` of :func:`_column_sums_body`, rows in order (as before: same sums, bit
    for bit). Compiled on its own and accumulating in local arrays, so the column loop
    vectorises (Numba's parallel lowering of a prange body does not vectorise inner loops)."""
    n = a.shape[0]
    w = c1 - c0
    acc = np.zeros(w)
    accb = np.zeros(w)
    with_b = b.shape[0] == n
    for i in range(n):
        ai = a[i, c0:c1]
        for j in range(w):
            acc[j] += ai[j]
        if with_b:
            bi = b[i, c0:c1]
            for j in range(w):
                accb[j] += np.float64(ai[j]) * bi[j]
    sa[c0:c1] = acc
    sab[c0:c1] = accb


@jit
def _centred_sq_block(x, mean, c0, c1, var):
    """Columns ``c0:c1`` of :func:`_centred_sq_body` (see :func:`_sums_block`)."""
    w = c1 - c0
    acc = np.zeros(w)
    m = mean[c0:c1].copy()
    for i in range(x.shape[0]):
        xi = x[i, c0:c1]
        for j in range(w):
            d = xi[j] - m[j]
            acc[j] += d * d
    var[c0:c1] = acc


def _column_sums_body(a, b, sa, sab):
    """sa[j] = sum_i a[i, j]; sab[j] = sum_i a[i, j] * b[i, j] (if b has rows, else 0)."""
    c = a.shape[1]
    for blk in prange((c + _BLOCK - 1) // _BLOCK):
        c0 = np.int64(blk) * _BLOCK
        _sums_block(a, b, c0, min(c0 + _BLOCK, c), sa, sab)


def _centred_sq_body(x, mean, var):
    """var[j] = sum_i (x[i, j] - mean[j])**2 (two-pass variance: no cancellation)."""
    c = x.shape[1]
    for blk in prange((c + _BLOCK - 1) // _BLOCK):
        c0 = np.int64(blk) * _BLOCK
        _centred_sq_block(x, mean, c0, min(c0 + _BLOCK, c), var)


def _normalise_body(x, mean, inv_std, gamma, beta, xhat, y):
    for i in prange(x.shape[0]):
        for j in range(x.shape[1]):
            h = (x[i, j] - mean[j]) * inv_std[j]
            if xhat.shape[0] == x.shape[0]:
                xhat[i, j] = h
            y[i, j] = gamma[j] * h + beta[j]


def _dx_body(dy, xhat, inv_std, gamma, sdy, sdyx, dx):
    n = dy.shape[0]
    for i in prange(n):
        for j in range(dy.shape[1]):
            dx[i, j] = gamma[j] * inv_std[j] / n * (n * dy[i, j] - sdy[j] - xhat[i, j] * sdyx[j])


#: :func:`batchnorm_forward`'s default momentum and eps, the settings the MLP trains with (CPU and CUDA).
BN_MOMENTUM, BN_EPS = 0.1, 1e-5

_column_sums = dict(zip(("cpu", "parallel"), cpu_kernels(_column_sums_body)))
_centred_sq = dict(zip(("cpu", "parallel"), cpu_kernels(_centred_sq_body)))
_normalise = dict(zip(("cpu", "parallel"), cpu_kernels(_normalise_body)))
_dx = dict(zip(("cpu", "parallel"), cpu_kernels(_dx_body)))


def batchnorm_forward(x, gamma, beta, running_mean, running_var, *, training=True, momentum=0.1, eps=1e-5,
                      backend="auto"):
    """Batch-normalise the columns of ``x``.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (N, C)
    gamma, beta : array_like of shape (C,), x's dtype
        Scale and shift.
    running_mean, running_var : ndarray of shape (C,), x's dtype
        Updated in place when ``training`` (never copied); used when not.
    training : bool
        Batch statistics (training) or running statistics (evaluation).
    momentum : float in [0, 1]
        ``running = (1 - momentum) running + momentum batch``.
    eps : float
        Added to the variance (> 0).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    y : ndarray of shape (N, C)
    cache : tuple
        ``(xhat, inv_std)`` for :func:`batchnorm_backward` (``xhat`` only in training).

    Raises
    ------
    TypeError
        ``x`` not a float32/float64 array, other arrays of another dtype, ``running_*``
        not arrays, ``training`` not a bool.
    ValueError
        Training with N < 2 (no variance), shape mismatches, bad momentum/eps, a negative
        ``running_var``, running statistics that are read-only, strided or share memory
        with each other or an input. Nothing is updated when the call raises.

    Notes
    -----
    NaN or inf in a column of ``x`` makes that column of ``y`` NaN in training (the batch
    statistics are NaN) and, as in torch, moves NaN into that column's running statistics;
    other columns are unaffected. In evaluation a NaN entry stays in its own element.
    """
    x = as_array(x, "x", dtypes=FLOAT_DTYPES, ndim=2)
    n, c = x.shape
    gamma = as_array(gamma, "gamma", dtypes=(x.dtype,), shape=(c,))
    beta = as_array(beta, "beta", dtypes=(x.dtype,), shape=(c,))
    running_mean = as_output(running_mean, "running_mean", dtype=x.dtype, shape=(c,))
    running_var = as_output(running_var, "running_var", dtype=x.dtype, shape=(c,))
    check_disjoint(running_mean, "running_mean", x=x, gamma=gamma, beta=beta, running_var=running_var)
    check_disjoint(running_var, "running_var", x=x, gamma=gamma, beta=beta)
    rv = host_values(running_var)
    if (rv < 0).any():  # NaN passes (and propagates); a negative variance has no square root
        j = int(np.argmax(rv < 0))
        raise ValueError(f"running_var must be non-negative, got {float(rv[j])!r} at index {j}")
    momentum = check_scalar(momentum, "momentum", lo=0.0, hi=1.0)
    eps = check_scalar(eps, "eps", lo=0.0, lo_open=True)
    training = check_flag(training, "training")
    if training and n < 2:
        raise ValueError(f"x must have at least 2 rows for batch normalisation in training (batch statistics), got {n}")
    be = resolve_backend(backend, work=x.size, arrays=(x,))
    return batchnorm_forward_validated(x, gamma, beta, running_mean, running_var, training, momentum, eps, be)


def batchnorm_forward_validated(x, gamma, beta, running_mean, running_var, training, momentum, eps, be):
    """:func:`batchnorm_forward` on validated arguments and a resolved backend ``be`` (internal callers)."""
    if be == "cuda":
        return load_cuda("fastkernels.nn._batchnorm_cuda").forward(
            x, gamma, beta, running_mean, running_var, training, momentum, eps)
    n, c = x.shape
    y = np.empty_like(x)
    if not training:
        inv_std = (1.0 / np.sqrt(running_var.astype(np.float64) + eps))
        _normalise[be](x, running_mean.astype(np.float64), inv_std, gamma, beta, np.empty((0, 0), x.dtype), y)
        return y, (None, inv_std)
    mean = np.empty(c)
    var = np.empty(c)
    _column_sums[be](x, np.empty((0, 0), x.dtype), mean, var)
    mean /= n
    _centred_sq[be](x, mean, var)
    var /= n
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = np.empty_like(x)
    _normalise[be](x, mean, inv_std, gamma, beta, xhat, y)
    running_mean *= 1 - momentum
    running_mean += (momentum * mean).astype(x.dtype)
    running_var *= 1 - momentum
    running_var += (momentum * var * n / (n - 1)).astype(x.dtype)
    return y, (xhat, inv_std)


def batchnorm_backward(dy, cache, gamma, *, backend="auto"):
    """Gradients of :func:`batchnorm_forward` (training mode).

    Parameters
    ----------
    dy : array_like, shape (N, C)
        Gradient with respect to ``y``.
    cache : tuple
        The second value of :func:`batchnorm_forward` with ``training=True``.
    gamma : array_like of shape (C,)

    Returns
    -------
    dx : ndarray (N, C)
    dgamma, dbeta : ndarray (C,)
        New arrays; nothing given is written.

    Raises
    ------
    TypeError
        ``cache`` not the pair :func:`batchnorm_forward` returns; arrays of the wrong dtype.
    ValueError
        The cache of an evaluation-mode forward pass; shape mismatches.
    """
    if not isinstance(cache, (tuple, list)) or len(cache) != 2:
        raise TypeError(f"cache must be the (xhat, inv_std) pair batchnorm_forward returned, "
                        f"got {type(cache).__name__}")
    xhat, inv_std = cache
    if xhat is None:
        raise ValueError("batchnorm_backward needs the cache of a training-mode forward pass")
    xhat = as_array(xhat, "cache[0]", dtypes=FLOAT_DTYPES, ndim=2)
    n, c = xhat.shape
    dy = as_array(dy, "dy", dtypes=(xhat.dtype,), shape=(n, c))
    gamma = as_array(gamma, "gamma", dtypes=(xhat.dtype,), shape=(c,))
    inv_std = as_array(inv_std, "cache[1]", dtypes=(np.float64,), shape=(c,))
    be = resolve_backend(backend, work=dy.size, arrays=(dy, xhat))
    return batchnorm_backward_validated(dy, xhat, inv_std, gamma, be)


def batchnorm_backward_validated(dy, xhat, inv_std, gamma, be):
    """:func:`batchnorm_backward` on validated arguments (the cache unpacked) and a resolved
    backend ``be`` (internal callers)."""
    if be == "cuda":
        return load_cuda("fastkernels.nn._batchnorm_cuda").backward(dy, xhat, inv_std, gamma)
    c = dy.shape[1]
    sdy = np.empty(c)
    sdyx = np.empty(c)
    _column_sums[be](dy, xhat, sdy, sdyx)
    dx = np.empty_like(dy)
    _dx[be](dy, xhat, inv_std, gamma, sdy, sdyx, dx)
    return dx, sdyx.astype(dy.dtype), sdy.astype(dy.dtype)
