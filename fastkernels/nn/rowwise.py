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
from .._jit import cpu_kernels
from .._outputs import as_output, check_disjoint
from .._validate import FLOAT_DTYPES, as_array
from ._rows import as_rows, exp_shift_sum, exp_shift_sum_nostore, row_max

# -- CPU kernels (serial and parallel builds of one body) ---------------------------
# Per row: an integer-keyed max, one pass of polynomial exp (stored for softmax),
# one scaling pass. A row of 1000 floats stays in L1 between passes, so memory
# traffic is one read and one write of the array.


def _softmax_body(x, out, log):
    for r in prange(x.shape[0]):
        row = x[r]
        o = out[r]
        m = row_max(row)
        if math.isinf(m):  # all -inf, or a +inf entry: undefined, as in torch
            o[:] = np.nan
        elif log:
            # (x - m) - log(s), not x - (m + log(s)): for |m| ~ 1e4 in float32 the
            # latter rounds m + log(s) to 1e-3
            lse = math.log(exp_shift_sum_nostore(row, m))
            for j in range(row.size):
                o[j] = (row[j] - m) - lse
        else:
            inv = 1 / exp_shift_sum(row, m, o)
            for j in range(row.size):
                o[j] *= inv


def _logsumexp_body(x, out):
    for r in prange(x.shape[0]):
        row = x[r]
        if row.size == 0:
            out[r] = -np.inf
            continue
        m = row_max(row)
        out[r] = m if math.isinf(m) else m + math.log(exp_shift_sum_nostore(row, m))


_softmax = dict(zip(("cpu", "parallel"), cpu_kernels(_softmax_body)))
_logsumexp = dict(zip(("cpu", "parallel"), cpu_kernels(_logsumexp_body)))


# -- public API --------------------------------------------------------------------


def _prepare(x, name="x"):
    x = as_array(x, name, dtypes=FLOAT_DTYPES)
    if x.ndim == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    return x


def _softmax_common(x, out, backend, log):
    x = _prepare(x)
    if out is not None:
        out = as_output(out, "out", dtype=x.dtype, shape=x.shape)
        check_disjoint(out, "out", allow_same=("x",), x=x)  # each row is read whole before it is written
    be = resolve_backend(backend, work=x.size, arrays=(x, out))
    if be == "cuda":
        return load_cuda("fastkernels.nn._rowwise_cuda").softmax(x, out, log)
    if out is None:
        out = np.empty_like(x)
    if x.size:
        _softmax[be](as_rows(x), as_rows(out), log)
    return out


def softmax(x, *, out=None, backend="auto"):
    """Softmax over the last axis, computed stably.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., C)
        Logits. ``-inf`` entries get probability 0.
    out : ndarray, optional
        Buffer of ``x``'s shape and dtype, C-contiguous, written in place. It may be ``x``
        itself (in-place softmax); any other overlap with ``x`` is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (..., C), dtype of ``x``
        Rows that sum to 1. NaN rows where ``x`` has NaN, ``+inf``, or only ``-inf``
        (other rows are unaffected).

    Raises
    ------
    TypeError
        ``x`` not a float32/float64 array (ints, bool, complex and object arrays are not
        cast), ``out`` not an array or of another dtype.
    ValueError
        ``x`` 0-dimensional; ``out`` of the wrong shape, read-only, not C-contiguous, or
        overlapping ``x`` other than exactly.

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
        Buffer of ``x``'s shape and dtype, C-contiguous, written in place. It may be ``x``
        itself; any other overlap with ``x`` is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (..., C), dtype of ``x``
        NaN rows where ``x`` has NaN, ``+inf``, or only ``-inf``.

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax`.
    """
    return _softmax_common(x, out, backend, True)


def logsumexp(x, *, out=None, backend="auto"):
    """``log(sum(exp(x)))`` over the last axis, without overflow.

    Parameters
    ----------
    x : array_like of float32 or float64, shape (..., C)
    out : ndarray, optional
        Buffer of shape ``x.shape[:-1]`` and ``x``'s dtype, written in place; it must not
        overlap ``x``.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    ndarray, shape (...), dtype of ``x``
        ``-inf`` for empty or all ``-inf`` rows, ``+inf`` if a row has ``+inf``,
        NaN if it has NaN (as ``scipy.special.logsumexp``).

    Raises
    ------
    TypeError
        ``x`` not a float32/float64 array, ``out`` of another dtype.
    ValueError
        ``x`` 0-dimensional; ``out`` of the wrong shape, read-only, not C-contiguous, or
        overlapping ``x``.
    """
    x = _prepare(x)
    if out is not None:
        out = as_output(out, "out", dtype=x.dtype, shape=x.shape[:-1])
        check_disjoint(out, "out", x=x)
    be = resolve_backend(backend, work=x.size, arrays=(x, out))
    if be == "cuda":
        return load_cuda("fastkernels.nn._rowwise_cuda").logsumexp(x, out)
    if out is None:
        out = np.empty(x.shape[:-1], dtype=x.dtype)
    if out.size:
        _logsumexp[be](as_rows(x), out.reshape(-1))
    return out
