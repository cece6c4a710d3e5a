"""Row-wise softmax, log-softmax and logsumexp over the last axis.

These are the row kernels the losses build on. Each row is reduced to its max
``m`` and ``s = sum(exp(x - m))`` and then written as ``exp(x - m) / s`` or
``x - m - log(s)``, so no exponent ever overflows (logits of 1e4 are fine) and
``-inf`` entries (masked classes) give exactly 0 probability.

Non-finite rows follow NumPy/SciPy/torch: NaN anywhere in a row makes that
row's outputs NaN; a row whose max is ``+inf`` or that is entirely ``-inf`` has
NaN softmax and log-softmax, while its logsumexp is that infinity.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import FASTMATH, cpu_kernels, jit
from .._validate import FLOAT_DTYPES, as_array, as_output

# -- CPU kernels (serial and parallel builds of one body) ---------------------------


@jit(inline="always", fastmath=FASTMATH)
def _row_max_sum(row):
    """(max, sum(exp(row - max))) of one row in float64; NaN propagates into the sum."""
    m = -np.inf
    for j in range(row.size):
        if row[j] > m:
            m = row[j]
    s = 0.0
    if math.isinf(m):
        return m, s
    for j in range(row.size):
        s += math.exp(row[j] - m)
    return m, s


def _softmax_body(x, out, log):
    for r in prange(x.shape[0]):
        row = x[r]
        o = out[r]
        m, s = _row_max_sum(row)
        if math.isinf(m):  # all -inf, or a +inf entry: undefined, as in torch
            for j in range(row.size):
                o[j] = np.nan
        elif log:
            shift = m + math.log(s)
            for j in range(row.size):
                o[j] = row[j] - shift
        else:
            inv = 1.0 / s
            for j in range(row.size):
                o[j] = math.exp(row[j] - m) * inv


def _logsumexp_body(x, out):
    for r in prange(x.shape[0]):
        m, s = _row_max_sum(x[r])
        out[r] = m if math.isinf(m) else m + math.log(s)


_softmax = dict(zip(("cpu", "parallel"), cpu_kernels(_softmax_body, fastmath=FASTMATH)))
_logsumexp = dict(zip(("cpu", "parallel"), cpu_kernels(_logsumexp_body, fastmath=FASTMATH)))


# -- public API --------------------------------------------------------------------


def _prepare(x, name="x"):
    x = as_array(x, name, dtypes=FLOAT_DTYPES)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    return x


def _rows(x):
    """2-D (rows, C) view of a C-contiguous array."""
    return x.reshape(-1, x.shape[-1]) if x.ndim != 2 else x


def _softmax_common(x, out, backend, log):
    x = _prepare(x)
    be = resolve_backend(backend, work=x.size, arrays=(x, out))
    if be == "cuda":
        return load_cuda("fastkernels.nn._cuda").softmax(x, out, log)
    if out is None:
        out = np.empty_like(x)
    else:
        out = as_output(out, "out", dtype=x.dtype, shape=x.shape)
    if x.size:
        _softmax[be](_rows(x), _rows(out), log)
    return out


def softmax(x, *, out=None, backend="auto"):
    """Softmax over the last axis, computed stably.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., C)
        Logits. ``-inf`` entries get probability 0.
    out : ndarray, optional
        Buffer of ``x``'s shape and dtype, C-contiguous, written in place.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (..., C), dtype of ``x``
        Rows that sum to 1. NaN rows where ``x`` has NaN, ``+inf``, or only ``-inf``.

    Examples
    --------
    >>> import fastkernels as fk
    >>> fk.nn.softmax([[0.0, 0.0], [0.0, float("-inf")]]).tolist()
    [[0.5, 0.5], [1.0, 0.0]]
    """
    return _softmax_common(x, out, backend, False)


def log_softmax(x, *, out=None, backend="auto"):
    """Log-softmax over the last axis: ``x - logsumexp(x)``, without forming the softmax.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., C)
        Logits; ``-inf`` entries give ``-inf``.
    out : ndarray, optional
        Buffer of ``x``'s shape and dtype, C-contiguous, written in place.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (..., C), dtype of ``x``
    """
    return _softmax_common(x, out, backend, True)


def logsumexp(x, *, out=None, backend="auto"):
    """``log(sum(exp(x)))`` over the last axis, without overflow.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., C)
    out : ndarray, optional
        Buffer of shape ``x.shape[:-1]`` and ``x``'s dtype, written in place.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (...), dtype of ``x``
        ``-inf`` for empty or all ``-inf`` rows, ``+inf`` if a row has ``+inf``,
        NaN if it has NaN (as ``scipy.special.logsumexp``).
    """
    x = _prepare(x)
    be = resolve_backend(backend, work=x.size, arrays=(x, out))
    if be == "cuda":
        return load_cuda("fastkernels.nn._cuda").logsumexp(x, out)
    if out is None:
        out = np.empty(x.shape[:-1], dtype=x.dtype)
    else:
        out = as_output(out, "out", dtype=x.dtype, shape=x.shape[:-1])
    if out.size:
        _logsumexp[be](_rows(x), out.reshape(-1))
    return out
