"""Plain NumPy/SciPy references, written for clarity, never for speed."""

import numpy as np
from scipy import special


def _xlogp(a, logp):
    """a * logp with 0 * -inf = 0 (a masked class that the target does not use)."""
    return np.where(a != 0, a * np.where(a != 0, logp, 0.0), 0.0)


def softmax_cross_entropy(x, target, *, weight=None, ignore_index=None, label_smoothing=0.0, reduction="mean"):
    """torch.nn.functional.cross_entropy semantics, in float64, one-hot and all."""
    x = np.asarray(x, np.float64)
    n, c = x.shape
    logp = special.log_softmax(x, axis=1)
    w = np.ones(c) if weight is None else np.asarray(weight, np.float64)
    target = np.asarray(target)
    if target.dtype.kind == "f":
        t = (1 - label_smoothing) * target + label_smoothing / c
        per_row = -_xlogp(w * t, logp).sum(axis=1)
        denom = n
    else:
        valid = np.ones(n, bool) if ignore_index is None else target != ignore_index
        onehot = np.zeros((n, c))
        onehot[np.flatnonzero(valid), target[valid]] = 1.0
        t = (1 - label_smoothing) * onehot + label_smoothing / c
        per_row = np.where(valid, -_xlogp(w * t, logp).sum(axis=1), 0.0)
        denom = w[target[valid]].sum()
    if reduction == "none":
        return per_row
    if reduction == "sum":
        return per_row.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        return per_row.sum() / denom


def sigmoid_binary_cross_entropy(z, t, *, weight=None, pos_weight=None, reduction="mean"):
    z = np.asarray(z, np.float64)
    w = 1.0 if weight is None else np.asarray(weight, np.float64)
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, np.float64)
    le = w * (pw * t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z))
    return {"none": le, "sum": le.sum(), "mean": le.mean()}[reduction]


def mse(a, b, *, reduction="mean"):
    le = (np.asarray(a, np.float64) - b) ** 2
    return {"none": le, "sum": le.sum(), "mean": le.mean()}[reduction]
