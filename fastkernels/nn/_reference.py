"""Plain NumPy references of :mod:`fastkernels.nn`, shared by the tests and the benchmarks.

Two kinds, both written with NumPy/SciPy only (never with the package's kernels):

* float64 *references* (``ref_*``) that state the documented semantics, non-finite
  values included, for the tests to compare against;
* the *honest baselines* (``numpy_*``, ``NumpyAdam``...) of :mod:`fastkernels.nn._bench`:
  the vectorised NumPy code a good user would write (in-place updates, no float64
  upcast), which ``fastkernels bench`` and ``benchmarks/`` time and check against.

Importing this module compiles nothing and is never done by ``import fastkernels``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

# -- float64 references ---------------------------------------------------------------


def _f64(a):
    return np.asarray(a, np.float64)


def ref_rows(x, kind):
    """softmax / log_softmax / logsumexp over the last axis in float64, with the documented
    non-finite rows: NaN anywhere, a +inf, or all -inf -> NaN softmax rows; logsumexp is scipy's."""
    x = _f64(x)
    with np.errstate(all="ignore"):
        if kind == "logsumexp":
            return special.logsumexp(x, axis=-1) if x.shape[-1] else np.full(x.shape[:-1], -np.inf)
        bad = np.isnan(x).any(-1) | np.isposinf(x).any(-1) | np.isneginf(x).all(-1)
        res = special.log_softmax(x, axis=-1) if kind == "log_softmax" else special.softmax(x, axis=-1)
        res[bad] = np.nan
    return res


def ref_softmax_family(x):
    """(softmax, log_softmax, logsumexp) of ``x`` over the last axis, float64 (:func:`ref_rows`)."""
    return ref_rows(x, "softmax"), ref_rows(x, "log_softmax"), ref_rows(x, "logsumexp")


def _xlogp(a, logp):
    """a * logp with 0 * -inf = 0 (a masked class that the target does not use)."""
    return np.where(a != 0, a * np.where(a != 0, logp, 0.0), 0.0)


def ref_softmax_cross_entropy(x, target, *, weight=None, ignore_index=-100, label_smoothing=0.0, reduction="mean"):
    """torch.nn.functional.cross_entropy semantics in float64: class ids (with ``ignore_index``) or
    probability targets, class ``weight``, ``label_smoothing``; the log-softmax of :func:`ref_rows`."""
    x = _f64(x)
    n, c = x.shape
    logp = ref_rows(x, "log_softmax")
    w = np.ones(c) if weight is None else _f64(weight)
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


def ref_sce_rows(x, t):
    """Per-row softmax cross-entropy losses (class ids ``t``, :func:`ref_softmax_cross_entropy`) and
    the gradient of their sum, float64."""
    g = np.exp(ref_rows(x, "log_softmax"))
    g[np.arange(len(t)), t] -= 1
    return ref_softmax_cross_entropy(x, t, reduction="none"), g


def _reduced(elements, reduction):
    """An elementwise loss reduced as torch does: ``"none"``, ``"sum"`` or ``"mean"``."""
    if reduction == "none":
        return elements
    return elements.sum() if reduction == "sum" else elements.mean()


def ref_sigmoid_binary_cross_entropy(z, t, *, weight=None, pos_weight=None, reduction="mean"):
    """torch.nn.functional.binary_cross_entropy_with_logits semantics in float64."""
    z = _f64(z)
    w = 1.0 if weight is None else _f64(weight)
    pw = 1.0 if pos_weight is None else _f64(pos_weight)
    return _reduced(w * (pw * t * np.logaddexp(0, -z) + (1 - t) * np.logaddexp(0, z)), reduction)


def ref_mse(a, b, *, reduction="mean"):
    """torch.nn.functional.mse_loss semantics in float64."""
    return _reduced((_f64(a) - b) ** 2, reduction)


def ref_act(z, name, alpha=0.01):
    """Activation ``name`` of ``z`` in float64; NaN stays NaN for every activation (relu included)."""
    z = _f64(z)
    with np.errstate(all="ignore"):
        if name == "relu":
            return np.where(z <= 0, 0.0, z)
        if name == "leaky_relu":
            return np.where(z <= 0, alpha * z, z)
        if name == "sigmoid":
            return special.expit(z)
        if name == "tanh":
            return np.tanh(z)
        if name == "softplus":
            return np.where(np.isnan(z), np.nan, np.logaddexp(0.0, z))
        if name == "gelu":
            return 0.5 * z * special.erfc(-z / math.sqrt(2))  # erfc: exact in the negative tail
        return z


def ref_act_grad(name, cache, alpha=0.01):
    """f' from the cache: Z for softplus/gelu, A for the others (the kernels' contract), float64."""
    c = _f64(cache)
    return {
        "identity": lambda: np.ones_like(c), "relu": lambda: (c > 0).astype(float),
        "leaky_relu": lambda: np.where(c > 0, 1.0, alpha), "sigmoid": lambda: c * (1 - c),
        "tanh": lambda: 1 - c * c, "softplus": lambda: special.expit(c),
        "gelu": lambda: special.ndtr(c) + c * np.exp(-0.5 * c * c) / np.sqrt(2 * np.pi),
    }[name]()


def ref_dense_forward(X, W, b, name, alpha=0.01):
    """``(f(Z), Z)`` with ``Z = X @ W.T + b``, float64."""
    z = _f64(X) @ _f64(W).T + _f64(b)
    return ref_act(z, name, alpha), z


def ref_dense_backward(dA, X, W, cache, name, alpha=0.01):
    """``(dX, dW, db)`` of a dense layer from its cache (:func:`ref_act_grad`), float64."""
    dz = _f64(dA) * ref_act_grad(name, cache, alpha)
    return dz @ _f64(W), dz.T @ _f64(X), dz.sum(axis=0)


# -- honest NumPy baselines of the benchmarks ------------------------------------------


def numpy_softmax(x):
    """The honest NumPy row softmax: shift by the row max, exp in place, normalise in place."""
    e = x - x.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def numpy_logsumexp(x):
    """The honest NumPy logsumexp: scipy.special.logsumexp's max shift, vectorised over rows."""
    m = x.max(axis=1)
    e = x - m[:, None]
    np.exp(e, out=e)
    s = e.sum(axis=1)
    np.log(s, out=s)
    s += m
    return s


def numpy_log_softmax(x):
    """The honest NumPy log-softmax: shift by the row max, one exp temporary, subtract log-sums in place."""
    s = x - x.max(axis=1, keepdims=True)
    e = np.exp(s)
    s -= np.log(e.sum(axis=1, keepdims=True))
    return s


def numpy_softmax_cross_entropy(x, y):
    """The honest NumPy fused loss + gradient: one exp pass, in-place updates."""
    n = x.shape[0]
    rows = np.arange(n)
    m = x.max(axis=1, keepdims=True)
    e = x - m
    np.exp(e, out=e)
    s = e.sum(axis=1, keepdims=True)
    loss = np.mean(np.log(s[:, 0]) - (x[rows, y] - m[:, 0]))
    e /= s
    e[rows, y] -= 1
    e /= n
    return loss, e


def numpy_sigmoid_bce(z, t):
    """Stable NumPy BCE from logits: softplus(z) - z t, gradient (sigmoid(z) - t) / n."""
    n = z.size
    loss = np.mean(np.logaddexp(0, z) - z * t)
    return loss, (special.expit(z) - t) / n


def numpy_mse(a, b):
    """NumPy mean squared error and its gradient ``2 (a - b) / n`` (in place on the difference)."""
    d = a - b
    n = d.size
    loss = np.vdot(d, d) / n
    d *= 2.0 / n
    return loss, d


def numpy_dropout(x, p, rng):
    """The honest NumPy inverted dropout: one uniform draw per element, mask and scale.

    Returns ``(y, x, p)``: masks differ by RNG, so the benchmark checks the output's
    structure against the input instead of comparing it to this ``y``.
    """
    y = x * (rng.random(x.shape, dtype=x.dtype) >= p)
    y /= 1 - p
    return y, x, p


def numpy_gelu(z):
    """The honest NumPy exact GELU, ``z Phi(z) = z (1 + erf(z / sqrt 2)) / 2``: scipy's erf, in place."""
    t = z * np.asarray(1 / np.sqrt(2), dtype=z.dtype)
    special.erf(t, out=t)
    t += 1
    t *= z
    t *= 0.5
    return t


def numpy_dense_relu(X, W, b):
    """The honest NumPy layer: one GEMM, in-place bias add and ReLU."""
    Z = X @ W.T
    Z += b
    np.maximum(Z, 0, out=Z)
    return Z


def numpy_dense_relu_backward(dA, X, W, A):
    """NumPy backward of a ReLU layer from its output ``A``: ``(dX, dW, db)``."""
    dZ = dA * (A > 0)
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def numpy_batchnorm(x, gamma, beta, dy, rm, rv, momentum=0.1, eps=1e-5):
    """The honest NumPy training-mode batch norm, forward then backward (torch's backward).

    Forward: batch mean and biased variance per column, normalise, scale and shift,
    move the running mean ``rm`` and unbiased variance ``rv`` (in place) by the momentum.
    Backward: ``dx = gamma / (N sqrt(var + eps)) (N dy - sum(dy) - xhat sum(dy xhat))``.
    Returns ``(y, dx, dgamma, dbeta)``.
    """
    n = x.shape[0]
    mu = x.mean(axis=0)
    xhat = x - mu
    var = np.mean(xhat * xhat, axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    xhat *= inv_std
    y = xhat * gamma
    y += beta
    rm *= 1 - momentum
    rm += momentum * mu
    rv *= 1 - momentum
    rv += (momentum * n / (n - 1)) * var
    dbeta = dy.sum(axis=0)
    dgamma = np.sum(dy * xhat, axis=0)
    dx = n * dy
    dx -= dbeta
    dx -= xhat * dgamma
    dx *= gamma * inv_std / n
    return y, dx, dgamma, dbeta


class NumpyAdam:
    """The honest NumPy Adam step: in-place updates and one preallocated temporary."""

    def __init__(self, p, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        self.p, self.lr, self.b1, self.b2, self.eps = p, lr, b1, b2, eps
        self.m, self.v, self.tmp, self.t = np.zeros_like(p), np.zeros_like(p), np.empty_like(p), 0

    def step(self, g):
        self.t += 1
        m, v, tmp = self.m, self.v, self.tmp
        m *= self.b1
        np.multiply(g, 1 - self.b1, out=tmp)
        m += tmp
        v *= self.b2
        np.multiply(g, g, out=tmp)
        tmp *= 1 - self.b2
        v += tmp
        np.divide(v, 1 - self.b2**self.t, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - self.b1**self.t)
        self.p -= tmp
        return self.p


class NumpySGD:
    """The honest NumPy SGD step with momentum and L2 decay: in place, one preallocated temporary.

    ``g' = g + wd p``; ``v = mu v + g'``; ``p -= lr v`` (torch.optim.SGD's rule).
    """

    def __init__(self, p, lr=0.01, mu=0.9, wd=5e-4):
        self.p, self.lr, self.mu, self.wd = p, lr, mu, wd
        self.v, self.tmp = np.zeros_like(p), np.empty_like(p)

    def step(self, g):
        v, tmp = self.v, self.tmp
        np.multiply(self.p, self.wd, out=tmp)
        tmp += g
        v *= self.mu
        v += tmp
        np.multiply(v, self.lr, out=tmp)
        self.p -= tmp
        return self.p


def numpy_clip_grad_norm(grads, max_norm):
    """The honest NumPy global-norm clip of ``grads`` in place: one ``vdot`` per array, then an
    in-place scale. Returns ``(norm, *grads)``."""
    total = np.sqrt(sum(float(np.vdot(g, g)) for g in grads))
    if total > max_norm:
        c = max_norm / total
        for g in grads:
            g *= c
    return (total, *grads)


class NumpyMLP:
    """The honest NumPy training loop of ../shared/peers/torch_mlp.py (ReLU MLP, SGD + momentum)."""

    def __init__(self, params, lr=0.01, mu=0.9):
        self.P = [p.copy() for p in params]  # W1, b1, W2, b2, ... with W stored (in, out)
        self.V = [np.zeros_like(p) for p in self.P]
        self.lr, self.mu = lr, mu

    def epoch(self, X, y, batch):
        P, n_layers = self.P, len(self.P) // 2
        for i in range(0, len(X), batch):
            x, yy = X[i:i + batch], y[i:i + batch]
            n = len(x)
            acts, zs = [x], []
            for k in range(n_layers):
                z = acts[-1] @ P[2 * k] + P[2 * k + 1]
                zs.append(z)
                acts.append(np.maximum(z, 0) if k < n_layers - 1 else z)
            z = acts[-1] - acts[-1].max(1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(1, keepdims=True)
            d = p
            d[np.arange(n), yy] -= 1
            d /= n
            grads = [None] * len(P)
            for k in reversed(range(n_layers)):
                grads[2 * k] = acts[k].T @ d
                grads[2 * k + 1] = d.sum(0)
                if k:
                    d = (d @ P[2 * k].T) * (zs[k - 1] > 0)
            for p_, v_, g_ in zip(P, self.V, grads):
                v_ *= self.mu
                v_ -= self.lr * g_
                p_ += v_
        return P
