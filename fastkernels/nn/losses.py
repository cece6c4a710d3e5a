"""Fused losses with their gradients: softmax-cross-entropy, sigmoid binary
cross-entropy from logits, and mean squared error.

Every loss returns ``(loss, grad)`` from one call: the gradient is written in
the same pass over the data that computes the loss (seed 002: "always fuse
softmax and cross-entropy for numerical stability"; the gradient of the fused
loss is ``softmax(z) - t``). Semantics follow ``torch.nn.functional``
(``cross_entropy``, ``binary_cross_entropy_with_logits``, ``mse_loss``) so
results can be checked against PyTorch option by option.

This module holds the elementwise losses (sigmoid BCE, MSE);
:func:`softmax_cross_entropy` lives in :mod:`fastkernels.nn.cross_entropy` and is
re-exported here. Each fused call has a loss-only twin with torch's name and
positional signature (:func:`cross_entropy`, :func:`binary_cross_entropy_with_logits`,
:func:`mse_loss`) for code ported from torch.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import FASTMATH, cpu_kernels, jit
from .._outputs import as_output, check_disjoint
from .._scalar import bce_element_simd
from .._simd import prefer_wide_vectors
from .._validate import FLOAT_DTYPES, host_values, as_array, check_choice, check_flag
from ._checks import REDUCTIONS, check_non_negative, first_bad, legacy_reduction
from ._rows import as_rows
from .cross_entropy import cross_entropy, softmax_cross_entropy

__all__ = ["softmax_cross_entropy", "cross_entropy", "sigmoid_binary_cross_entropy", "binary_cross_entropy_with_logits",
           "mse", "mse_loss", "REDUCTIONS"]

# -- elementwise losses: sigmoid binary cross-entropy and MSE ------------------------
# Kernels run over a 2-D (rows, C) view; per-row loss sums accumulate in float64, or
# the elementwise losses are stored when reduction="none".


# Row functions are compiled on their own (not inlined into the prange body: Numba's
# parallel lowering does not vectorise inner loops) with the shared fast-math set, so the
# float64 row sum may be reassociated and the loop vectorises.
@jit(fastmath=FASTMATH)
def _bce_row(z, t, w, pw, scale, elem, store_elem, g, want_grad):
    prefer_wide_vectors()
    acc = 0.0
    for j in range(z.shape[0]):
        le, dz = bce_element_simd(np.float64(z[j]), np.float64(t[j]), np.float64(w[j]), np.float64(pw[j]))
        acc += le
        if store_elem:
            elem[j] = le
        if want_grad:
            g[j] = scale * dz
    return acc


@jit(fastmath=FASTMATH)
def _mse_row(a, b, scale, elem, store_elem, g, want_grad):
    prefer_wide_vectors()
    acc = 0.0
    for j in range(a.shape[0]):
        d = np.float64(a[j]) - np.float64(b[j])
        acc += d * d
        if store_elem:
            elem[j] = d * d
        if want_grad:
            g[j] = 2.0 * scale * d
    return acc


def _bce_body(z, t, w, w_full, pw, scale, rows, elem, store_elem, g, want_grad):
    for i in prange(z.shape[0]):
        r = np.int64(i)  # the parfor index may be unsigned: keep the selects below integer
        rows[i] = _bce_row(z[r], t[r], w[r if w_full else 0], pw, scale, elem[r if store_elem else 0], store_elem,
                           g[r if want_grad else 0], want_grad)


def _mse_body(a, b, scale, rows, elem, store_elem, g, want_grad):
    for i in prange(a.shape[0]):
        r = np.int64(i)
        rows[i] = _mse_row(a[r], b[r], scale, elem[r if store_elem else 0], store_elem, g[r if want_grad else 0],
                           want_grad)


_bce_kernel = dict(zip(("cpu", "parallel"), cpu_kernels(_bce_body)))
_mse_kernel = dict(zip(("cpu", "parallel"), cpu_kernels(_mse_body)))


def _elementwise_result(rows, elem, g, shape, dtype, reduction, return_grad, out):
    n = int(np.prod(shape))
    if reduction == "none":
        loss = elem.reshape(shape)
    elif reduction == "sum":
        loss = dtype.type(rows.sum())
    else:
        loss = dtype.type(rows.sum() / n) if n else dtype.type(np.nan)
    if not return_grad:
        return loss
    return loss, (out if out is not None else g.reshape(shape))


def _elementwise_setup(a, b, name_a, name_b, reduction, return_grad, out):
    a = as_array(a, name_a, dtypes=FLOAT_DTYPES)
    b = as_array(b, name_b, dtypes=(a.dtype,), shape=tuple(a.shape))
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    return_grad = check_flag(return_grad, "return_grad")
    if out is not None:
        out = as_output(out, "out", dtype=a.dtype, shape=tuple(a.shape))
    return a, b, reduction, return_grad, out


def _buffers(a2, reduction, return_grad, out):
    rows = np.zeros(a2.shape[0], np.float64)  # zeros: an empty input runs no kernel
    elem = np.empty(a2.shape, a2.dtype) if reduction == "none" else np.empty((1, 1), a2.dtype)
    if return_grad:
        g = out.reshape(a2.shape) if out is not None else np.empty_like(a2)
    else:
        g = np.empty((1, 1), a2.dtype)
    return rows, elem, g


def sigmoid_binary_cross_entropy(logits, target, weight=None, *, reduction="mean", pos_weight=None,
                                 return_grad=True, out=None, backend="auto"):
    """Binary cross-entropy of ``sigmoid(logits)``, computed from the logits (stable form).

    ``loss = w * [pw * t * softplus(-z) + (1 - t) * softplus(z)]`` elementwise, the
    form of ``torch.nn.functional.binary_cross_entropy_with_logits``; no
    ``log(sigmoid)`` is ever formed, so logits of +-1e4 are fine. ``weight`` is the
    third positional argument, as in torch; :func:`binary_cross_entropy_with_logits`
    is the loss alone with torch's signature.

    Parameters
    ----------
    logits : array_like of float32 or float64, any shape
    target : array_like, the logits' shape and dtype
        Targets in [0, 1] (soft labels allowed).
    reduction : {"mean", "sum", "none"}
        "mean" divides by the number of elements.
    weight : array_like, optional
        Non-negative rescaling weight, of the logits' shape or of shape (C,) (last axis).
    pos_weight : array_like of shape (C,), optional
        Non-negative weight of positive targets per class (last axis).
    return_grad : bool
        Also return ``dloss/dlogits = scale * w * (sigmoid(z) (1 - t + pw t) - pw t)``.
    out : ndarray, optional
        Gradient buffer of the logits' shape and dtype. It may be ``logits`` itself (each
        element is read before its gradient is written); any other overlap with an input
        is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    loss : scalar, or ndarray of the logits' shape for "none"
        A NaN logit gives a NaN element loss and gradient (and so a NaN "mean"/"sum").
    dlogits : ndarray of the logits' shape, only when ``return_grad``

    Raises
    ------
    TypeError
        Non-float logits, target/weight/pos_weight of another dtype, ``return_grad`` not a
        bool, ``out`` not an array of the logits' dtype.
    ValueError
        Shape mismatch, target outside [0, 1] or NaN (the first bad value is named),
        negative or non-finite weights, bad reduction; ``out`` of the wrong shape,
        read-only, strided or overlapping an input other than exactly ``logits``.
    """
    z, t, w, w_full, pw, reduction, return_grad, out = _validate_bce(logits, target, weight, pos_weight, reduction,
                                                                     return_grad, out)
    be = resolve_backend(backend, work=z.size, arrays=(z, t, out))
    return sigmoid_binary_cross_entropy_validated(z, t, w, w_full, pw, reduction, return_grad, out, be)


def _validate_bce(logits, target, weight, pos_weight, reduction, return_grad, out, name="logits"):
    """Checks of :func:`sigmoid_binary_cross_entropy` (``name``: what the logits are called in messages)."""
    z, t, reduction, return_grad, out = _elementwise_setup(logits, target, name, "target", reduction,
                                                           return_grad, out)
    tv = host_values(t)  # copies a device array once, for the check only
    if tv.size:
        bad = ~((tv >= 0) & (tv <= 1))  # NaN fails both
        if bad.any():
            at, v = first_bad(tv, bad)
            raise ValueError(f"target must lie in [0, 1], got {float(v)!r} at index {at}")
    c = as_rows(z).shape[1]
    if weight is None:
        w, w_full = np.ones((1, c), z.dtype), False
    else:
        weight = as_array(weight, "weight", dtypes=(z.dtype,), finite=True)
        if tuple(weight.shape) == tuple(z.shape):
            w, w_full = as_rows(weight), True
        elif tuple(weight.shape) == (c,):
            w, w_full = weight.reshape(1, c), False
        else:
            raise ValueError(f"weight must have the shape of {name} {tuple(z.shape)} or ({c},), "
                             f"got {tuple(weight.shape)}")
        check_non_negative(host_values(weight), "weight")
    if pos_weight is None:
        pw = np.ones(c, z.dtype)
    else:
        pw = as_array(pos_weight, "pos_weight", dtypes=(z.dtype,), shape=(c,), finite=True)
        check_non_negative(host_values(pw), "pos_weight")
    if out is not None:  # each element is read before its gradient is written: out=logits works
        check_disjoint(out, "out", allow_same=("logits",), logits=z, target=t, weight=weight, pos_weight=pw)
    return z, t, w, w_full, pw, reduction, return_grad, out


def sigmoid_binary_cross_entropy_validated(z, t, w, w_full, pw, reduction, return_grad, out, be):
    """:func:`sigmoid_binary_cross_entropy` on validated arrays, the weights as the kernels
    read them (``w`` of shape (R, C) when ``w_full``, else (1, C); ``pw`` (C,)) and a resolved
    backend ``be``: the entry point of internal callers (the MLP)."""
    z2, t2 = as_rows(z), as_rows(t)
    scale = 1.0 / z.size if reduction == "mean" and z.size else 1.0
    if be == "cuda":
        rows, elem, g = load_cuda("fastkernels.nn._losses_cuda").elementwise_loss(
            "bce", z2, t2, (w, w_full, pw), scale, reduction == "none", return_grad,
            None if out is None else out.reshape(z2.shape))
    else:
        rows, elem, g = _buffers(z2, reduction, return_grad, out)
        if z.size:
            _bce_kernel[be](z2, t2, w, w_full, pw, scale, rows, elem, reduction == "none", g, return_grad)
    return _elementwise_result(rows, elem, g, z.shape, z.dtype, reduction, return_grad, out)


def mse(pred, target, *, reduction="mean", return_grad=True, out=None, backend="auto"):
    """Mean squared error ``(pred - target)**2`` and its gradient ``2 (pred - target) / n``.

    Parameters
    ----------
    pred, target : array_like of float32 or float64, same shape and dtype
    reduction : {"mean", "sum", "none"}
    return_grad : bool
        Also return ``dloss/dpred``.
    out : ndarray, optional
        Gradient buffer of ``pred``'s shape and dtype. It may be ``pred`` itself; any other
        overlap with ``pred`` or ``target`` is refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    loss : scalar, or ndarray of ``pred``'s shape for "none"
        NaN (or ``inf - inf``) in an element makes that element's loss and gradient NaN;
        "mean" of an empty array is NaN.
    dpred : ndarray, only when ``return_grad``

    Raises
    ------
    TypeError
        Non-float ``pred``, ``target`` of another dtype, ``return_grad`` not a bool,
        ``out`` not an array of ``pred``'s dtype.
    ValueError
        Shape mismatch, bad reduction; ``out`` of the wrong shape, read-only, strided or
        overlapping an input other than exactly ``pred``.
    """
    a, b, reduction, return_grad, out = _elementwise_setup(pred, target, "pred", "target", reduction, return_grad, out)
    if out is not None:  # each element is read before its gradient is written: out=pred works
        check_disjoint(out, "out", allow_same=("pred",), pred=a, target=b)
    be = resolve_backend(backend, work=a.size, arrays=(a, b, out))
    return mse_validated(a, b, reduction, return_grad, out, be)


def mse_validated(a, b, reduction, return_grad, out, be):
    """:func:`mse` on validated arrays and a resolved backend ``be`` (internal callers)."""
    a2, b2 = as_rows(a), as_rows(b)
    scale = 1.0 / a.size if reduction == "mean" and a.size else 1.0
    if be == "cuda":
        rows, elem, g = load_cuda("fastkernels.nn._losses_cuda").elementwise_loss(
            "mse", a2, b2, None, scale, reduction == "none", return_grad,
            None if out is None else out.reshape(a2.shape))
    else:
        rows, elem, g = _buffers(a2, reduction, return_grad, out)
        if a.size:
            _mse_kernel[be](a2, b2, scale, rows, elem, reduction == "none", g, return_grad)
    return _elementwise_result(rows, elem, g, a.shape, a.dtype, reduction, return_grad, out)


def binary_cross_entropy_with_logits(input, target, weight=None, size_average=None, reduce=None, reduction="mean",
                                     pos_weight=None, *, backend="auto"):
    """Binary cross-entropy from logits, with the signature of
    ``torch.nn.functional.binary_cross_entropy_with_logits``.

    Returns only the loss; :func:`sigmoid_binary_cross_entropy` returns the loss and its
    gradient from the same pass (same kernels, same options).

    Parameters
    ----------
    input : array_like of float32 or float64, any shape
        Logits.
    target : array_like, ``input``'s shape and dtype
        Targets in [0, 1].
    weight : array_like, optional
        Non-negative weight of ``input``'s shape or of shape (C,) (last axis).
    size_average, reduce : bool, optional
        torch's deprecated pair; when either is given it overrides ``reduction`` (with
        torch's ``UserWarning``).
    reduction : {"mean", "sum", "none"}
    pos_weight : array_like of shape (C,), optional
        Non-negative weight of positive targets per class (last axis).
    backend : {"auto", "cpu", "parallel", "cuda"}
        Keyword-only (not in torch's signature).

    Returns
    -------
    loss : scalar, or ndarray of ``input``'s shape for "none"

    Raises
    ------
    TypeError, ValueError
        As :func:`sigmoid_binary_cross_entropy`, naming ``input`` for the logits.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> round(float(fk.nn.binary_cross_entropy_with_logits(np.zeros(3), np.array([0.0, 1.0, 0.5]))), 6)
    0.693147
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    z, t, w, w_full, pw, reduction, _, _ = _validate_bce(input, target, weight, pos_weight, reduction, False, None,
                                                         name="input")
    be = resolve_backend(backend, work=z.size, arrays=(z, t))
    return sigmoid_binary_cross_entropy_validated(z, t, w, w_full, pw, reduction, False, None, be)


def mse_loss(input, target, size_average=None, reduce=None, reduction="mean", *, backend="auto"):
    """Mean squared error, with the signature of ``torch.nn.functional.mse_loss`` (without
    its recent ``weight``).

    Returns only the loss; :func:`mse` returns the loss and its gradient from one pass.

    Parameters
    ----------
    input, target : array_like of float32 or float64, same shape and dtype
        (No broadcasting: torch warns and broadcasts, this refuses a shape mismatch.)
    size_average, reduce : bool, optional
        torch's deprecated pair; when either is given it overrides ``reduction`` (with
        torch's ``UserWarning``).
    reduction : {"mean", "sum", "none"}
    backend : {"auto", "cpu", "parallel", "cuda"}
        Keyword-only (not in torch's signature).

    Returns
    -------
    loss : scalar, or ndarray of ``input``'s shape for "none"

    Raises
    ------
    TypeError, ValueError
        As :func:`mse`, naming ``input`` where :func:`mse` names ``pred``.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> float(fk.nn.mse_loss(np.array([1.0, 2.0]), np.array([0.0, 0.0])))
    2.5
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    a, b, reduction, _, _ = _elementwise_setup(input, target, "input", "target", reduction, False, None)
    be = resolve_backend(backend, work=a.size, arrays=(a, b))
    return mse_validated(a, b, reduction, False, None, be)
