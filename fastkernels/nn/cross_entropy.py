"""Fused, numerically stable softmax + cross-entropy and its gradient.

One call returns ``(loss, grad)``: the gradient is written in the same pass over
the logits that computes the loss (seed 002: "always fuse softmax and
cross-entropy for numerical stability"; the gradient of the fused loss is
``softmax(z) - t``). Class-id or probability targets, label smoothing,
``ignore_index`` (-100 by default) and class weights follow
``torch.nn.functional.cross_entropy``, as do its shapes: (N, C), (C,) and
(N, C, d1, ...) logits (the class axis moved last into rows for the kernels).
:func:`cross_entropy` is the loss alone with torch's positional signature.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import is_device_array, load_cuda, resolve_backend
from .._jit import FASTMATH, cpu_kernels, jit
from .._outputs import as_output, check_disjoint
from .._simd import prefer_wide_vectors
from .._validate import (
    FLOAT_DTYPES,
    INDEX_DTYPES,
    host_values,
    numba_view,
    as_array,
    as_index_array,
    check_choice,
    check_flag,
    check_scalar,
)
from ._checks import REDUCTIONS, check_non_negative, legacy_reduction
from ._rows import exp_shift_sum, exp_shift_sum_nostore, row_max

# -- softmax-cross-entropy: CPU kernels ------------------------------------------------
#
# Row i with log-probabilities lp = (x - m) - log(s), s = sum exp(x - m), is charged
#   loss_i = -sum_c a_ic lp_c      and     dloss_i/dx_ij = A_i p_j - a_ij,   A_i = sum_c a_ic,
# where a_ic = w_c [(1 - eps) t_ic + eps / C] (t one-hot for class ids). The gradient
# buffer first receives exp(x - m) from the sum pass, then is scaled in place, so a row
# (4 KB for C = 1000) is read from memory once and written once.


@jit(fastmath=FASTMATH)
def _masked_weight_sums(row, m, w):
    """(sum w_c, sum w_c (x_c - m)) over the classes whose logit is not -inf."""
    prefer_wide_vectors()
    sw = row.dtype.type(0)
    swx = row.dtype.type(0)
    for j in range(row.size):
        keep = row[j] > -np.inf
        sw += w[j] if keep else 0
        swx += w[j] * (row[j] - m) if keep else 0
    return sw, swx


@jit(fastmath=FASTMATH)
def _scale_grad_uniform(g, c1, c2, w, row):
    """g = g * c1 - c2 * w  (c2 term only on unmasked classes)."""
    prefer_wide_vectors()
    for j in range(g.size):
        g[j] = g[j] * c1 - (c2 * w[j] if row[j] > -np.inf else 0)


@jit(fastmath=FASTMATH)
def _scale(g, c1):
    """g *= c1."""
    prefer_wide_vectors()
    for j in range(g.size):
        g[j] *= c1


def _sce_index_body(x, y, w, ignore, eps, scale, loss, g, want_grad):
    n_classes = x.shape[1]
    for i in prange(x.shape[0]):
        t = y[i]
        if t == ignore:
            loss[i] = 0.0
            if want_grad:
                g[i, :] = 0
            continue
        row = x[i]
        m = row_max(row)
        s = exp_shift_sum(row, m, g[i]) if want_grad else exp_shift_sum_nostore(row, m)
        lse = math.log(s)
        wt = w[t]
        nll = -wt * ((row[t] - m) - lse)
        if eps > 0:
            sw, swx = _masked_weight_sums(row, m, w)
            loss[i] = (1 - eps) * nll + eps / n_classes * (sw * lse - swx)
            big_a = (1 - eps) * wt + eps / n_classes * sw
        else:
            loss[i] = nll
            big_a = wt
        if want_grad:
            gi = g[i]
            if eps > 0:
                _scale_grad_uniform(gi, scale * big_a / s, scale * eps / n_classes, w, row)
            else:
                _scale(gi, scale * big_a / s)
            gi[t] -= scale * (1 - eps) * wt


@jit(fastmath=FASTMATH)
def _prob_sums(row, m, tr, w, eps_c, keep_eps):
    """(A, B) = (sum a_c, sum a_c (x_c - m)) with a_c = w_c((1-eps) t_c + eps/C [x_c > -inf])."""
    prefer_wide_vectors()
    big_a = row.dtype.type(0)
    big_b = row.dtype.type(0)
    for j in range(row.size):
        a = w[j] * (keep_eps * tr[j] + (eps_c if row[j] > -np.inf else 0))
        big_a += a
        big_b += a * (row[j] - m) if a != 0 else 0  # 0 * -inf would be NaN
    return big_a, big_b


@jit(fastmath=FASTMATH)
def _prob_grad(g, c1, scale, tr, w, eps_c, keep_eps, row):
    """g = g * c1 - scale * a  (a as in _prob_sums)."""
    prefer_wide_vectors()
    for j in range(g.size):
        a = w[j] * (keep_eps * tr[j] + (eps_c if row[j] > -np.inf else 0))
        g[j] = g[j] * c1 - scale * a


def _sce_prob_body(x, t, w, eps, scale, loss, g, want_grad):
    eps_c = eps / x.shape[1]
    for i in prange(x.shape[0]):
        row = x[i]
        tr = t[i]
        m = row_max(row)
        s = exp_shift_sum(row, m, g[i]) if want_grad else exp_shift_sum_nostore(row, m)
        lse = math.log(s)
        big_a, big_b = _prob_sums(row, m, tr, w, eps_c, 1 - eps)
        loss[i] = big_a * lse - big_b
        if want_grad:
            _prob_grad(g[i], scale * big_a / s, scale, tr, w, eps_c, 1 - eps, row)


_sce_index = dict(zip(("cpu", "parallel"), cpu_kernels(_sce_index_body)))
_sce_prob = dict(zip(("cpu", "parallel"), cpu_kernels(_sce_prob_body)))


_INT64 = np.iinfo(np.int64)


def _class_axis_last(a, c):
    """(N, C, d1, ...) -> C-contiguous (N * d1 * ..., C) rows (a copy)."""
    return np.ascontiguousarray(np.moveaxis(a, 1, -1)).reshape(-1, c)


def _validate_sce(logits, target, reduction, label_smoothing, ignore_index, weight, return_grad, out,
                  name="logits"):
    """Checks of :func:`softmax_cross_entropy`; ``name`` is what the logits are called in messages
    (``"input"`` for :func:`cross_entropy`). Returns ``x``, the logits as (rows, C) (a class-last
    copy for (N, C, d1, ...) logits), and ``t``, the targets as rows."""
    logits = as_array(logits, name, dtypes=FLOAT_DTYPES)
    if logits.ndim == 0:
        raise ValueError(f"{name} must have shape (N, C), (C,) or (N, C, d1, ...), got ()")
    single = logits.ndim == 1
    spatial = logits.ndim >= 3
    c = int(logits.shape[0 if single else 1])
    if c < 1:
        raise ValueError(f"{name} must have at least one class, got shape {tuple(logits.shape)}")
    if spatial and is_device_array(logits):
        raise ValueError(f"{name} of shape {tuple(logits.shape)} is a device array: (N, C, d1, ...) logits are "
                         "supported for host arrays only; move the class axis last and pass (rows, C)")
    n = 1 if single else math.prod(logits.shape) // c
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    eps = check_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0)
    return_grad = check_flag(return_grad, "return_grad")
    if ignore_index is not None:
        ignore_index = check_scalar(ignore_index, "ignore_index", integer=True, lo=int(_INT64.min),
                                    hi=int(_INT64.max))
    if weight is not None:
        weight = as_array(weight, "weight", dtypes=(logits.dtype,), shape=(c,), finite=True)
        check_non_negative(host_values(weight), "weight")
    # a CuPy/PyTorch target becomes a numba view first: its dtype is read before validation
    if isinstance(target, np.ndarray):
        t = target
    elif is_device_array(target):
        t = numba_view(target)
    else:
        try:
            t = np.asarray(target)
        except Exception as exc:
            raise TypeError(f"target must be array-like, got {type(target).__name__}") from exc
        if t.size == 0 and t.dtype.kind == "f" and t.ndim < logits.ndim:
            t = t.astype(np.int64)  # an empty list: no class ids
    if t.dtype.kind == "f":  # class probabilities
        if ignore_index is not None and ignore_index >= 0:  # torch: a negative one is allowed and unused
            raise ValueError(f"ignore_index={ignore_index} is only supported with integer class targets, not "
                             "probabilities (pass a negative one, such as the default -100, or None)")
        ignore_index = None
        t = as_array(t, "target", dtypes=(logits.dtype,), shape=tuple(logits.shape), finite=True)
        check_non_negative(host_values(t), "target probabilities")
        t_given, t = t, (_class_axis_last(t, c) if spatial else t.reshape(n, c))
    elif t.dtype.kind in "iu":
        if t.dtype not in INDEX_DTYPES:
            tv = host_values(t)
            if t.dtype.kind == "u" and tv.size and tv.max() > _INT64.max:  # the int64 cast would wrap it
                raise ValueError(f"target must lie in [0, {c}); found {int(tv.max())}")
            t = tv.astype(np.int64)
        want = () if single else tuple(logits.shape[:1]) + tuple(logits.shape[2:])
        if tuple(t.shape) != want:
            raise ValueError(f"target must have shape {want} to match {name} {tuple(logits.shape)} (class ids; "
                             f"probabilities take the shape of {name}), got {tuple(t.shape)}")
        t = as_index_array(t, "target", n=c, ndim=None, allow=ignore_index)
        t_given, t = t, t.reshape(n)
    else:
        raise TypeError(f"target must be integer class ids (int32/int64) or float probabilities, got dtype {t.dtype.name}")
    if out is not None:
        out = as_output(out, "out", dtype=logits.dtype, shape=tuple(logits.shape))
        # refused, not supported: the kernels write exp(x - max) into the gradient buffer and then
        # read the row's logits again (the target's logit, the label-smoothing mask)
        check_disjoint(out, "out", logits=logits, target=t_given, weight=weight)
    x = logits.reshape(1, -1) if single else (_class_axis_last(logits, c) if spatial else logits)
    return logits, x, t, reduction, eps, ignore_index, weight, return_grad, out, single


def softmax_cross_entropy(logits, target, weight=None, *, reduction="mean", label_smoothing=0.0, ignore_index=-100,
                          return_grad=True, out=None, backend="auto"):
    """Fused, numerically stable softmax + cross-entropy and its gradient.

    The fast path for training: one pass over the logits returns the loss and its
    gradient. Options and defaults follow ``torch.nn.functional.cross_entropy``
    (``weight`` is its third positional argument, ``ignore_index`` defaults to -100);
    :func:`cross_entropy` is the loss alone with torch's signature.

    Parameters
    ----------
    logits : array_like of float32 or float64, shape (N, C), (C,) or (N, C, d1, ...)
        Unnormalised scores, the class axis second as in torch (first for (C,)).
        ``-inf`` masks a class (probability 0). NaN in a row propagates: that row's
        loss and gradient are NaN. (N, C, d1, ...) logits are copied class-last
        into (N * d1 * ..., C) rows (host arrays only).
    target : array_like
        Either class ids, int32 or int64 of shape (N,) ((N, d1, ...) for
        (N, C, d1, ...) logits, a scalar for (C,) logits) in ``[0, C)`` or equal to
        ``ignore_index``, or class probabilities of the logits' dtype and shape,
        non-negative (rows need not sum to 1).
    weight : array_like of shape (C,), optional
        Non-negative per-class weights, the logits' dtype.
    reduction : {"mean", "sum", "none"}
        "mean" divides by the summed weight of the non-ignored targets' classes
        (by the number of rows for probability targets), "sum" adds, "none" returns
        the per-sample losses.
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: ``(1 - eps) t + eps / C``.
        Masked (``-inf``) classes are left out of the uniform part (torch would
        return inf or NaN there).
    ignore_index : int or None, default -100
        Class id whose samples contribute zero loss and zero gradient (and are left
        out of the "mean" denominator); None ignores nothing. Only integer targets
        use it: with probability targets a negative value (the default) is accepted
        and unused, a non-negative one is refused (as torch).
    return_grad : bool
        Also return the gradient of the returned loss (of ``loss.sum()`` for "none").
    out : ndarray, optional
        Gradient buffer of the logits' shape and dtype, reused across calls. It must not
        overlap ``logits``, ``target`` or ``weight``: ``out=logits`` is refused (the kernel
        writes the gradient while it still reads the row's logits).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    loss : scalar of the logits' dtype, or ndarray for "none"
        "none" gives shape (N,) ((N, d1, ...) for (N, C, d1, ...) logits, () for (C,)).
        "mean" of an empty batch, or of a batch whose targets are all ignored, is
        NaN (torch's convention); "sum" of it is 0. A row whose logits hold NaN or
        ``+inf`` (or are all ``-inf``) has a NaN loss and a NaN gradient row, so NaN
        reaches "mean" and "sum"; an ignored row reads no logits.
    dlogits : ndarray of the logits' shape and layout, only when ``return_grad``
        ``scale * (A_i softmax(x_i) - a_i)`` with ``a_i`` the (weighted, smoothed)
        target: ``softmax - onehot`` over N for the plain mean.

    Raises
    ------
    TypeError
        Non-float logits, target of the wrong dtype (bool, complex, object), mixed
        precision, ``return_grad`` not a bool, ``out`` not an array of the logits' dtype.
    ValueError
        Shape mismatch, class id out of range (other than ``ignore_index``), negative or
        non-finite probabilities or weights, bad reduction, label_smoothing or ignore_index
        (beyond int64, or non-negative with probability targets); ``out`` of the wrong shape,
        read-only, strided or overlapping an input. Nothing is written to ``out`` when the
        call raises.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> loss, g = fk.nn.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(float(loss), 6), g[0].round(3).tolist()
    (1.386294, [-0.375, 0.125, 0.125, 0.125])
    >>> loss = fk.nn.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, -100]), return_grad=False)
    >>> round(float(loss), 6)  # the -100 label is ignored (torch's default ignore_index)
    1.386294
    """
    logits, x, t, reduction, eps, ignore, weight, return_grad, out, single = _validate_sce(
        logits, target, reduction, label_smoothing, ignore_index, weight, return_grad, out)
    be = resolve_backend(backend, work=x.size, arrays=(logits, target, out))
    if logits.ndim < 3:
        return softmax_cross_entropy_validated(logits, x, t, reduction, eps, ignore, weight, return_grad, out,
                                               single, be)
    # (N, C, d1, ...): the kernels run on the class-last rows; results go back to torch's layout
    res = softmax_cross_entropy_validated(x, x, t, reduction, eps, ignore, weight, return_grad, None, False, be)
    loss, g = res if return_grad else (res, None)
    shape = tuple(logits.shape)
    if reduction == "none":
        loss = loss.reshape(shape[:1] + shape[2:])
    if not return_grad:
        return loss
    g = np.moveaxis(g.reshape(shape[:1] + shape[2:] + shape[1:2]), -1, 1)
    if out is None:
        return loss, np.ascontiguousarray(g)
    np.copyto(out, g)
    return loss, out


def cross_entropy(input, target, weight=None, size_average=None, ignore_index=-100, reduce=None,
                  reduction="mean", label_smoothing=0.0, *, backend="auto"):
    """Cross-entropy loss of logits, with the signature of ``torch.nn.functional.cross_entropy``.

    Returns only the loss: code written for torch runs unchanged, positional
    arguments included. For training, :func:`softmax_cross_entropy` returns the loss
    and its gradient from the same pass (it runs the same kernels).

    Parameters
    ----------
    input : array_like of float32 or float64, shape (N, C), (C,) or (N, C, d1, ...)
        Logits (unnormalised scores), the class axis second as in torch.
    target : array_like
        Class ids of shape (N,), (N, d1, ...) or () (int32/int64, in ``[0, C)`` or
        equal to ``ignore_index``), or class probabilities of ``input``'s shape and dtype.
    weight : array_like of shape (C,), optional
        Non-negative per-class weights, ``input``'s dtype.
    size_average, reduce : bool, optional
        torch's deprecated pair: when either is given it overrides ``reduction``
        (``reduce=False`` -> "none", else ``size_average=False`` -> "sum", else "mean")
        and a ``UserWarning`` says which ``reduction`` to use, as torch does.
    ignore_index : int or None, default -100
        Class id whose samples are left out of the loss and of the "mean" denominator.
    reduction : {"mean", "sum", "none"}
    label_smoothing : float in [0, 1]
    backend : {"auto", "cpu", "parallel", "cuda"}
        Keyword-only (not in torch's signature).

    Returns
    -------
    loss : scalar of ``input``'s dtype, or ndarray of shape (N,) / (N, d1, ...) for "none"

    Raises
    ------
    TypeError, ValueError
        As :func:`softmax_cross_entropy`, naming ``input`` for the logits; ``size_average``
        or ``reduce`` not a bool.

    See Also
    --------
    softmax_cross_entropy : the fused loss-and-gradient call; the details of every option.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> x = np.zeros((2, 3, 4, 5), np.float32)          # (N, C, H, W)
    >>> y = np.zeros((2, 4, 5), np.int64); y[0, 0, 0] = -100
    >>> round(float(fk.nn.cross_entropy(x, y)), 6), fk.nn.cross_entropy(x, y, reduction="none").shape
    (1.098612, (2, 4, 5))
    """
    reduction = legacy_reduction(size_average, reduce, reduction)
    logits, x, t, reduction, eps, ignore, weight, _, _, single = _validate_sce(
        input, target, reduction, label_smoothing, ignore_index, weight, False, None, name="input")
    be = resolve_backend(backend, work=x.size, arrays=(logits, target))
    loss = softmax_cross_entropy_validated(x if logits.ndim >= 3 else logits, x, t, reduction, eps, ignore, weight,
                                           False, None, single, be)
    if reduction == "none" and logits.ndim >= 3:
        loss = loss.reshape(tuple(logits.shape[:1]) + tuple(logits.shape[2:]))
    return loss


def softmax_cross_entropy_validated(logits, x, t, reduction, eps, ignore, weight, return_grad, out, single, be):
    """:func:`softmax_cross_entropy` on what :func:`_validate_sce` returns (``x`` the (N, C)
    view of ``logits``, ``t`` class ids (N,) or probabilities (N, C)) and a resolved backend
    ``be``: the entry point of internal callers (the MLP)."""
    n, c = x.shape
    probs = t.ndim == 2
    w = np.ones(c, x.dtype) if weight is None else weight
    if reduction == "mean":
        if probs:
            denom = float(n)
        else:
            tv = host_values(t)  # device targets: boolean indexing needs host values
            if weight is None:
                denom = float(n if ignore is None else n - np.count_nonzero(tv == ignore))
            else:
                valid = tv if ignore is None else tv[tv != ignore]
                denom = float(host_values(w)[valid].sum(dtype=np.float64))
        scale = 1.0 / denom if denom != 0 else 0.0  # nothing counted: zero gradient, NaN loss
    else:
        scale = 1.0
    if be == "cuda":
        rows, g = load_cuda("fastkernels.nn._cross_entropy_cuda").softmax_cross_entropy(
            x, t, w, -1 if ignore is None or probs else ignore, eps, scale,
            None if out is None else out.reshape(n, c), return_grad, probs)
    else:
        rows = np.empty(n, np.float64)
        g = (np.empty_like(x) if out is None else out.reshape(n, c)) if return_grad else np.empty((1, 1), x.dtype)
        ign = np.int64(ignore) if ignore is not None else np.int64(-1)  # -1 never matches a valid id
        if probs:
            _sce_prob[be](x, t, w, eps, scale, rows, g, return_grad)
        else:
            # int32 ids widened on the host (N values, a copy of the user's array): the row kernels
            # then compile for one id type (a serial and a parallel kernel per float dtype fewer)
            _sce_index[be](x, t.astype(np.int64, copy=False), w, ign, eps, scale, rows, g, return_grad)
    loss = _reduce(rows, reduction, x.dtype, n if probs else None, scale, single)
    if not return_grad:
        return loss
    if out is not None:
        return loss, out
    return loss, (g.reshape(logits.shape) if hasattr(g, "reshape") else g)


def _reduce(rows, reduction, dtype, n, scale, single):
    """Per-row float64 losses -> the returned loss in the logits' dtype."""
    if reduction == "none":
        res = rows.astype(dtype)
        return res.reshape(()) if single else res
    total = rows.sum()
    if reduction == "sum":
        return dtype.type(total)
    if scale == 0.0:  # empty batch or every target ignored: 0/0, as torch
        return dtype.type(np.nan)
    return dtype.type(total * scale)


