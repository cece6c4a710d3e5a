"""Fused losses with their gradients: softmax-cross-entropy, sigmoid binary
cross-entropy from logits, and mean squared error.

Every loss returns ``(loss, grad)`` from one call: the gradient is written in
the same pass over the data that computes the loss (seed 002: "always fuse
softmax and cross-entropy for numerical stability"; the gradient of the fused
loss is ``softmax(z) - t``). Semantics follow ``torch.nn.functional``
(``cross_entropy``, ``binary_cross_entropy_with_logits``, ``mse_loss``) so
results can be checked against PyTorch option by option.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import is_device_array, load_cuda, resolve_backend
from .._exp import exp_poly
from .._jit import FASTMATH, cpu_kernels, device, jit
from .._log import log1p_unit
from .._simd import prefer_wide_vectors
from .._validate import (
    FLOAT_DTYPES,
    INDEX_DTYPES,
    _host_values,
    _numba_view,
    as_array,
    as_index_array,
    as_output,
    check_choice,
    check_disjoint,
    check_flag,
    check_scalar,
)
from ._rows import as_rows, exp_shift_sum, exp_shift_sum_nostore, row_max

REDUCTIONS = ("mean", "sum", "none")

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


# -- softmax-cross-entropy: API ------------------------------------------------------


def _first_bad(values, bad):
    """(index tuple, value) of the first True of ``bad`` in ``values``."""
    i = int(np.argmax(bad.ravel()))
    pos = tuple(int(p) for p in np.unravel_index(i, values.shape))
    return (pos[0] if len(pos) == 1 else pos), values.ravel()[i]


def _check_non_negative(values, name):
    bad = values < 0
    if bad.any():
        at, v = _first_bad(values, bad)
        raise ValueError(f"{name} must be non-negative, got {float(v)!r} at index {at}")


_INT64 = np.iinfo(np.int64)


def _validate_sce(logits, target, reduction, label_smoothing, ignore_index, weight, return_grad, out):
    logits = as_array(logits, "logits", dtypes=FLOAT_DTYPES)
    if logits.ndim not in (1, 2):
        raise ValueError(f"logits must have shape (N, C) or (C,), got {tuple(logits.shape)}")
    single = logits.ndim == 1
    x = logits.reshape(1, -1) if single else logits
    n, c = x.shape
    if c < 1:
        raise ValueError(f"logits must have at least one class, got shape {tuple(logits.shape)}")
    reduction = check_choice(reduction, "reduction", REDUCTIONS)
    eps = check_scalar(label_smoothing, "label_smoothing", lo=0.0, hi=1.0)
    return_grad = check_flag(return_grad, "return_grad")
    if ignore_index is not None:
        ignore_index = check_scalar(ignore_index, "ignore_index", integer=True, lo=int(_INT64.min),
                                    hi=int(_INT64.max))
    if weight is not None:
        weight = as_array(weight, "weight", dtypes=(x.dtype,), shape=(c,), finite=True)
        _check_non_negative(_host_values(weight), "weight")
    # a CuPy/PyTorch target becomes a numba view first: its dtype is read before validation
    if isinstance(target, np.ndarray):
        t = target
    elif is_device_array(target):
        t = _numba_view(target)
    else:
        try:
            t = np.asarray(target)
        except Exception as exc:
            raise TypeError(f"target must be array-like, got {type(target).__name__}") from exc
        if t.size == 0 and t.dtype.kind == "f" and t.ndim < logits.ndim:
            t = t.astype(np.int64)  # an empty list: no class ids
    if t.dtype.kind == "f":  # class probabilities
        if ignore_index is not None:
            raise ValueError("ignore_index is only supported with integer class targets, not probabilities")
        t = as_array(t, "target", dtypes=(x.dtype,), shape=tuple(logits.shape), finite=True)
        _check_non_negative(_host_values(t), "target probabilities")
        t = t.reshape(n, c)
    elif t.dtype.kind in "iu":
        if t.dtype not in INDEX_DTYPES:
            tv = _host_values(t)
            if t.dtype.kind == "u" and tv.size and tv.max() > _INT64.max:  # the int64 cast would wrap it
                raise ValueError(f"target must lie in [0, {c}); found {int(tv.max())}")
            t = tv.astype(np.int64)
        t = as_index_array(t, "target", n=c, ndim=0 if single else 1, allow=ignore_index)
        if not single and t.shape[0] != n:
            raise ValueError(f"target must have shape ({n},) to match logits {tuple(logits.shape)}, got {tuple(t.shape)}")
        t = t.reshape(n)
    else:
        raise TypeError(f"target must be integer class ids (int32/int64) or float probabilities, got dtype {t.dtype.name}")
    if out is not None:
        out = as_output(out, "out", dtype=x.dtype, shape=tuple(logits.shape))
        # refused, not supported: the kernels write exp(x - max) into the gradient buffer and then
        # read the row's logits again (the target's logit, the label-smoothing mask)
        check_disjoint(out, "out", logits=logits, target=t, weight=weight)
    return logits, x, t, reduction, eps, ignore_index, weight, return_grad, out, single


def softmax_cross_entropy(logits, target, *, reduction="mean", label_smoothing=0.0, ignore_index=None,
                          weight=None, return_grad=True, out=None, backend="auto"):
    """Fused, numerically stable softmax + cross-entropy and its gradient.

    Parameters
    ----------
    logits : array_like of float32 or float64, shape (N, C) or (C,)
        Unnormalised scores. ``-inf`` masks a class (probability 0). NaN in a row
        propagates: that row's loss and gradient are NaN.
    target : array_like
        Either class ids, int32 or int64 of shape (N,) (a scalar for (C,) logits)
        in ``[0, C)`` (or equal to ``ignore_index``), or class probabilities of the
        logits' dtype and shape, non-negative (rows need not sum to 1).
    reduction : {"mean", "sum", "none"}
        "mean" divides by the summed weight of the non-ignored targets' classes
        (by N for probability targets), "sum" adds, "none" returns per-row losses.
    label_smoothing : float in [0, 1]
        Mixes the target with the uniform distribution: ``(1 - eps) t + eps / C``.
        Masked (``-inf``) classes are left out of the uniform part (torch would
        return inf or NaN there).
    ignore_index : int, optional
        Class id whose rows contribute zero loss and zero gradient (and are left
        out of the "mean" denominator). Integer targets only.
    weight : array_like of shape (C,), optional
        Non-negative per-class weights, the logits' dtype.
    return_grad : bool
        Also return the gradient of the returned loss (of ``loss.sum()`` for "none").
    out : ndarray, optional
        Gradient buffer of the logits' shape and dtype, reused across calls. It must not
        overlap ``logits``, ``target`` or ``weight``: ``out=logits`` is refused (the kernel
        writes the gradient while it still reads the row's logits).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    loss : scalar of the logits' dtype, or ndarray of shape (N,) for "none"
        "mean" of an empty batch, or of a batch whose targets are all ignored, is
        NaN (torch's convention); "sum" of it is 0. A row whose logits hold NaN or
        ``+inf`` (or are all ``-inf``) has a NaN loss and a NaN gradient row, so NaN
        reaches "mean" and "sum"; an ignored row reads no logits.
    dlogits : ndarray of the logits' shape, only when ``return_grad``
        ``scale * (A_i softmax(x_i) - a_i)`` with ``a_i`` the (weighted, smoothed)
        target: ``softmax - onehot`` over N for the plain mean.

    Raises
    ------
    TypeError
        Non-float logits, target of the wrong dtype (bool, complex, object), mixed
        precision, ``return_grad`` not a bool, ``out`` not an array of the logits' dtype.
    ValueError
        Shape mismatch, class id out of range, negative or non-finite
        probabilities or weights, bad reduction, label_smoothing or ignore_index
        (beyond int64); ``out`` of the wrong shape, read-only, strided or overlapping an
        input. Nothing is written to ``out`` when the call raises.

    Examples
    --------
    >>> import numpy as np, fastkernels as fk
    >>> loss, g = fk.nn.softmax_cross_entropy(np.zeros((2, 4)), np.array([0, 3]))
    >>> round(float(loss), 6), g[0].round(3).tolist()
    (1.386294, [-0.375, 0.125, 0.125, 0.125])
    """
    logits, x, t, reduction, eps, ignore, weight, return_grad, out, single = _validate_sce(
        logits, target, reduction, label_smoothing, ignore_index, weight, return_grad, out)
    n, c = x.shape
    probs = t.ndim == 2
    w = np.ones(c, x.dtype) if weight is None else weight
    if reduction == "mean":
        if probs:
            denom = float(n)
        else:
            tv = _host_values(t)  # device targets: boolean indexing needs host values
            valid = tv if ignore is None else tv[tv != ignore]
            denom = float(valid.size) if weight is None else float(_host_values(w)[valid].sum(dtype=np.float64))
        scale = 1.0 / denom if denom != 0 else 0.0  # nothing counted: zero gradient, NaN loss
    else:
        scale = 1.0
    be = resolve_backend(backend, work=x.size, arrays=(logits, target, out))
    if be == "cuda":
        rows, g = load_cuda("fastkernels.nn._cuda").softmax_cross_entropy(
            x, t, w, -1 if ignore is None or probs else ignore, eps, scale,
            None if out is None else out.reshape(n, c), return_grad, probs)
    else:
        rows = np.empty(n, np.float64)
        g = (np.empty_like(x) if out is None else out.reshape(n, c)) if return_grad else np.empty((1, 1), x.dtype)
        ign = np.int64(ignore) if ignore is not None else np.int64(-1)  # -1 never matches a valid id
        if probs:
            _sce_prob[be](x, t, w, eps, scale, rows, g, return_grad)
        else:
            _sce_index[be](x, t, w, ign, eps, scale, rows, g, return_grad)
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


# -- elementwise losses: sigmoid binary cross-entropy and MSE ------------------------
# Kernels run over a 2-D (rows, C) view; per-row loss sums accumulate in float64, or
# the elementwise losses are stored when reduction="none".


@device
def bce_element(z, t, w, pw):
    """(loss, dloss/dz) of one logit: w [pw t softplus(-z) + (1 - t) softplus(z)].

    One ``exp`` and one ``log1p`` serve both softplus terms and the sigmoid:
    softplus(+-z) = max(+-z, 0) + log1p(exp(-|z|)), never overflowing. Shared by
    the CPU and CUDA kernels (a ``device`` helper compiles for both).
    """
    e = math.exp(-abs(z))
    l1p = math.log1p(e)
    loss = w * (pw * t * (max(-z, 0.0) + l1p) + (1.0 - t) * (max(z, 0.0) + l1p))
    sig = 1.0 / (1.0 + e) if z >= 0 else e / (1.0 + e)
    return loss, w * (sig * (1.0 - t + pw * t) - pw * t)


@device
def bce_element_simd(z, t, w, pw):
    """:func:`bce_element` written for the CPU loops: the polynomial ``exp`` and ``log1p``
    of :mod:`fastkernels._exp` / :mod:`fastkernels._log` and selects instead of ``max``, so
    LLVM vectorises the loop (libm calls would keep it scalar)."""
    e = exp_poly(-abs(z))
    l1p = log1p_unit(e)
    sp_neg = (-z if z < 0.0 else 0.0) + l1p  # softplus(-z)
    sp_pos = (z if z > 0.0 else 0.0) + l1p  # softplus(z)
    loss = w * (pw * t * sp_neg + (1.0 - t) * sp_pos)
    inv = 1.0 / (1.0 + e)
    sig = inv if z >= 0.0 else e * inv
    return loss, w * (sig * (1.0 - t + pw * t) - pw * t)


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


_bce = dict(zip(("cpu", "parallel"), cpu_kernels(_bce_body)))
_mse = dict(zip(("cpu", "parallel"), cpu_kernels(_mse_body)))


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


def sigmoid_binary_cross_entropy(logits, target, *, reduction="mean", weight=None, pos_weight=None,
                                 return_grad=True, out=None, backend="auto"):
    """Binary cross-entropy of ``sigmoid(logits)``, computed from the logits (stable form).

    ``loss = w * [pw * t * softplus(-z) + (1 - t) * softplus(z)]`` elementwise, the
    form of ``torch.nn.functional.binary_cross_entropy_with_logits``; no
    ``log(sigmoid)`` is ever formed, so logits of +-1e4 are fine.

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
    z, t, reduction, return_grad, out = _elementwise_setup(logits, target, "logits", "target", reduction,
                                                           return_grad, out)
    tv = _host_values(t)  # copies a device array once, for the check only
    if tv.size:
        bad = ~((tv >= 0) & (tv <= 1))  # NaN fails both
        if bad.any():
            at, v = _first_bad(tv, bad)
            raise ValueError(f"target must lie in [0, 1], got {float(v)!r} at index {at}")
    z2, t2 = as_rows(z), as_rows(t)
    c = z2.shape[1]
    if weight is None:
        w, w_full = np.ones((1, c), z.dtype), False
    else:
        weight = as_array(weight, "weight", dtypes=(z.dtype,), finite=True)
        if tuple(weight.shape) == tuple(z.shape):
            w, w_full = as_rows(weight), True
        elif tuple(weight.shape) == (c,):
            w, w_full = weight.reshape(1, c), False
        else:
            raise ValueError(f"weight must have the logits' shape {tuple(z.shape)} or ({c},), got {tuple(weight.shape)}")
        _check_non_negative(_host_values(weight), "weight")
    if pos_weight is None:
        pw = np.ones(c, z.dtype)
    else:
        pw = as_array(pos_weight, "pos_weight", dtypes=(z.dtype,), shape=(c,), finite=True)
        _check_non_negative(_host_values(pw), "pos_weight")
    if out is not None:  # each element is read before its gradient is written: out=logits works
        check_disjoint(out, "out", allow_same=("logits",), logits=z, target=t, weight=weight, pos_weight=pw)
    be = resolve_backend(backend, work=z.size, arrays=(z, t, out))
    scale = 1.0 / z.size if reduction == "mean" and z.size else 1.0
    if be == "cuda":
        rows, elem, g = load_cuda("fastkernels.nn._cuda").elementwise_loss(
            "bce", z2, t2, (w, w_full, pw), scale, reduction == "none", return_grad,
            None if out is None else out.reshape(z2.shape))
    else:
        rows, elem, g = _buffers(z2, reduction, return_grad, out)
        if z.size:
            _bce[be](z2, t2, w, w_full, pw, scale, rows, elem, reduction == "none", g, return_grad)
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
    a2, b2 = as_rows(a), as_rows(b)
    scale = 1.0 / a.size if reduction == "mean" and a.size else 1.0
    if be == "cuda":
        rows, elem, g = load_cuda("fastkernels.nn._cuda").elementwise_loss(
            "mse", a2, b2, None, scale, reduction == "none", return_grad,
            None if out is None else out.reshape(a2.shape))
    else:
        rows, elem, g = _buffers(a2, reduction, return_grad, out)
        if a.size:
            _mse[be](a2, b2, scale, rows, elem, reduction == "none", g, return_grad)
    return _elementwise_result(rows, elem, g, a.shape, a.dtype, reduction, return_grad, out)
