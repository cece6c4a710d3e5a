"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from .activations import activation
from .batchnorm import batchnorm_backward, batchnorm_forward
from .dense import dense_backward, dense_forward
from .dropout import dropout
from .losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from .mlp import MLP
from .optim import SGD, Adam, clip_grad_norm
from .rowwise import log_softmax, logsumexp, softmax


def _logits(rows, cols, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, cols), dtype=np.float64) * 3.0).astype(dtype)


def numpy_softmax(x):
    """The honest NumPy row softmax: shift by the row max, exp in place, normalise in place."""
    e = x - x.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def _torch():
    """torch with as many threads as Numba (peers compare at the same thread count); an
    ImportError where torch is absent makes the runner skip the peer."""
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())
    return torch


def _torch_softmax():
    torch = _torch()
    return lambda x: torch.softmax(torch.from_numpy(x), dim=1).numpy()


# The shapes: a classifier batch (8192 x 1000) and vocabulary-sized rows (x 50 000).
ROW_SIZES = {
    "test": [dict(rows=9, cols=31), dict(rows=3, cols=5, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000),
             dict(rows=8192, cols=1000, dtype="float64"), dict(rows=4096, cols=50_000)],
}


def _label(rows, cols, dtype="float32"):
    return f"{rows}x{cols} {'f32' if dtype == 'float32' else 'f64'}"


register(Case(
    name="softmax",
    area="nn",
    description="row softmax over the last axis (forward)",
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),),
    kernel=lambda x, backend: softmax(x, backend=backend),
    baseline=numpy_softmax,
    sizes=ROW_SIZES,
    label=_label,
    peers={"torch": _torch_softmax},
    rtol=1e-4,
    atol=1e-7,
    # one read of the logits and one write of the probabilities
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


# logsumexp and log_softmax: the classifier batch (the quick shape); full adds the rest
LSE_SIZES = {"test": ROW_SIZES["test"], "quick": [dict(rows=8192, cols=1000)], "full": ROW_SIZES["full"]}


def numpy_logsumexp(x):
    """The honest NumPy logsumexp: scipy.special.logsumexp's max shift, vectorised over rows."""
    m = x.max(axis=1)
    e = x - m[:, None]
    np.exp(e, out=e)
    s = e.sum(axis=1)
    np.log(s, out=s)
    s += m
    return s


def _torch_logsumexp():
    torch = _torch()
    return lambda x: torch.logsumexp(torch.from_numpy(x), dim=1).numpy()


register(Case(
    name="logsumexp",
    area="nn",
    description="row logsumexp over the last axis",
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),),
    kernel=lambda x, backend: logsumexp(x, backend=backend),
    baseline=numpy_logsumexp,
    sizes=LSE_SIZES,
    label=_label,
    peers={"torch": _torch_logsumexp},
    rtol=1e-5,
    atol=1e-6,
    # one read of the logits (the per-row output is negligible)
    work=lambda rows, cols, dtype="float32": {"bytes": rows * (cols + 1) * np.dtype(dtype).itemsize},
))


def numpy_log_softmax(x):
    """The honest NumPy log-softmax: shift by the row max, one exp temporary, subtract log-sums in place."""
    s = x - x.max(axis=1, keepdims=True)
    e = np.exp(s)
    s -= np.log(e.sum(axis=1, keepdims=True))
    return s


def _torch_log_softmax():
    torch = _torch()
    return lambda x: torch.log_softmax(torch.from_numpy(x), dim=1).numpy()


register(Case(
    name="log_softmax",
    area="nn",
    description="row log-softmax over the last axis (forward)",
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),),
    kernel=lambda x, backend: log_softmax(x, backend=backend),
    baseline=numpy_log_softmax,
    sizes=LSE_SIZES,
    label=_label,
    peers={"torch": _torch_log_softmax},
    rtol=1e-5,
    # entries near 0 (a row's dominant logit) carry the float32 rounding of max and log-sum (|x| <~ 15)
    atol=1e-5,
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


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


def _torch_softmax_cross_entropy():
    torch = _torch()

    def run(x, y):
        xt = torch.from_numpy(x).requires_grad_(True)
        loss = torch.nn.functional.cross_entropy(xt, torch.from_numpy(y))
        loss.backward()
        return loss.item(), xt.grad.numpy()

    return run


def _classes(rows, cols, dtype="float32"):
    y = np.random.default_rng(1).integers(0, cols, rows)
    return _logits(rows, cols, dtype), y


register(Case(
    name="softmax_cross_entropy",
    area="nn",
    description="fused softmax-cross-entropy, loss + gradient (forward+backward), mean over class ids",
    make_inputs=_classes,
    kernel=lambda x, y, backend: softmax_cross_entropy(x, y, backend=backend),
    baseline=numpy_softmax_cross_entropy,
    sizes=ROW_SIZES,
    label=_label,
    peers={"torch": _torch_softmax_cross_entropy},
    rtol=1e-4,
    atol=1e-8,
    # memory roofline: read the logits once, write the gradient once
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


def numpy_sigmoid_bce(z, t):
    """Stable NumPy BCE from logits: softplus(z) - z t, gradient (sigmoid(z) - t) / n."""
    from scipy.special import expit

    n = z.size
    loss = np.mean(np.logaddexp(0, z) - z * t)
    return loss, (expit(z) - t) / n


def numpy_mse(a, b):
    d = a - b
    n = d.size
    loss = np.vdot(d, d) / n
    d *= 2.0 / n
    return loss, d


def _pair(rows, cols, dtype="float32", kind="bce"):
    z = _logits(rows, cols, dtype)
    rng = np.random.default_rng(2)
    t = (rng.random((rows, cols)) < 0.3).astype(dtype) if kind == "bce" else rng.standard_normal((rows, cols)).astype(dtype)
    return z, t


ELEMENTWISE_SIZES = {
    "test": [dict(rows=5, cols=7), dict(rows=2, cols=3, dtype="float64")],
    "quick": [dict(rows=8192, cols=1000)],
    "full": [dict(rows=8192, cols=1000), dict(rows=8192, cols=1000, dtype="float64")],
}

register(Case(
    name="sigmoid_binary_cross_entropy",
    area="nn",
    description="sigmoid BCE from logits, loss + gradient, mean",
    make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "bce"),
    kernel=lambda z, t, backend: sigmoid_binary_cross_entropy(z, t, backend=backend),
    baseline=numpy_sigmoid_bce,
    sizes=ELEMENTWISE_SIZES,
    label=_label,
    rtol=1e-4,
    atol=1e-9,
    work=lambda rows, cols, dtype="float32": {"bytes": 3 * rows * cols * np.dtype(dtype).itemsize},
))

register(Case(
    name="mse",
    area="nn",
    description="mean squared error, loss + gradient",
    make_inputs=lambda rows, cols, dtype="float32": _pair(rows, cols, dtype, "mse"),
    kernel=lambda a, b, backend: mse(a, b, backend=backend),
    baseline=numpy_mse,
    sizes=ELEMENTWISE_SIZES,
    label=_label,
    rtol=1e-4,
    atol=1e-9,
    work=lambda rows, cols, dtype="float32": {"bytes": 3 * rows * cols * np.dtype(dtype).itemsize},
))


# -- elementwise: dropout, activations ------------------------------------------------


# 4M elements (an activation batch of 4096 x 1024)
FLAT_SIZES = {
    "test": [dict(rows=6, cols=11), dict(rows=3, cols=4, dtype="float64")],
    "quick": [dict(rows=4096, cols=1024)],
    "full": [dict(rows=4096, cols=1024), dict(rows=4096, cols=1024, dtype="float64"), dict(rows=16384, cols=1024)],
}

DROPOUT_P = 0.5


def _dropout_inputs(rows, cols, dtype="float32", p=DROPOUT_P):
    x = np.random.default_rng(6).standard_normal((rows, cols)).astype(dtype)
    # the baseline's generator, made once: each call draws a fresh mask, as training does
    return x, p, np.random.default_rng(7)


def numpy_dropout(x, p, rng):
    """The honest NumPy inverted dropout: one uniform draw per element, mask and scale.

    Returns ``(y, x, p)``: masks differ by RNG, so :func:`_check_dropout` checks the
    output's structure against the input instead of comparing it to this ``y``.
    """
    y = x * (rng.random(x.shape, dtype=x.dtype) >= p)
    y /= 1 - p
    return y, x, p


def _check_dropout(out, ref):
    """Every element 0 or x / (1 - p), and the kept fraction within 5 sigma of 1 - p."""
    y, x, p = out
    y = np.asarray(y)
    assert y.shape == x.shape and y.dtype == x.dtype, f"{y.shape} {y.dtype}, expected {x.shape} {x.dtype}"
    scaled = x.astype(np.float64) / (1 - p)
    kept = y != 0
    # one float32 rounding each side (x / (1 - p) vs x * (1 / (1 - p)))
    tol = 4 * np.finfo(x.dtype).eps * np.abs(scaled)
    bad = kept & ~(np.abs(y - scaled) <= tol)
    assert not bad.any(), f"{bad.sum()} kept elements differ from x / (1 - p), e.g. {y[bad][:3]} vs {scaled[bad][:3]}"
    n = np.count_nonzero(x)  # an element with x == 0 gives 0 either way
    frac = np.count_nonzero(kept) / max(n, 1)
    sigma = np.sqrt(p * (1 - p) / max(n, 1))
    assert abs(frac - (1 - p)) <= 5 * sigma + 1e-12, f"kept fraction {frac:.4f}, expected {1 - p} +- {5 * sigma:.4f}"


def _torch_dropout():
    torch = _torch()

    def run(x, p, rng):
        return torch.nn.functional.dropout(torch.from_numpy(x), p, training=True).numpy(), x, p

    return run


register(Case(
    name="dropout",
    area="nn",
    description=f"inverted dropout forward, p = {DROPOUT_P} (masks differ by RNG: output checked structurally)",
    make_inputs=_dropout_inputs,
    kernel=lambda x, p, rng, backend: (dropout(x, p, seed=0, step=0, backend=backend), x, p),
    baseline=numpy_dropout,
    sizes=FLAT_SIZES,
    label=_label,
    peers={"torch": _torch_dropout},
    check=_check_dropout,
    # read x, write y (NumPy also writes and reads a mask and its uniforms)
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


def numpy_gelu(z):
    """The honest NumPy exact GELU, ``z Phi(z) = z (1 + erf(z / sqrt 2)) / 2``: scipy's erf, in place."""
    from scipy.special import erf

    t = z * np.asarray(1 / np.sqrt(2), dtype=z.dtype)
    erf(t, out=t)
    t += 1
    t *= z
    t *= 0.5
    return t


def _torch_gelu():
    torch = _torch()
    return lambda z: torch.nn.functional.gelu(torch.from_numpy(z)).numpy()


register(Case(
    name="activation",
    area="nn",
    description='activation(z, "gelu") forward, the exact erf form',
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype, seed=8),),
    kernel=lambda z, backend: activation(z, "gelu", backend=backend),
    baseline=numpy_gelu,
    sizes=FLAT_SIZES,
    label=_label,
    peers={"torch": _torch_gelu},
    rtol=1e-5,
    # for z < 0, 1 + erf cancels: against float64, scipy's float32 erf leaves 4.5e-7 absolute error,
    # torch's vectorised erf 1.3e-6 (near z = -3.5), fastkernels (float64 erfc) 2.4e-7; the tanh
    # approximation is off by ~1e-4
    atol=2e-6,
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))


# -- dense layers -------------------------------------------------------------------


def _dense_inputs(n, k, m, dtype="float32", backward=False):
    rng = np.random.default_rng(3)
    X = rng.standard_normal((n, k), dtype=np.float64).astype(dtype)
    W = (rng.standard_normal((m, k)) / np.sqrt(k)).astype(dtype)
    b = (rng.standard_normal(m) * 0.1).astype(dtype)
    if not backward:
        return X, W, b
    A = np.maximum(X @ W.T + b, 0)
    dA = rng.standard_normal((n, m)).astype(dtype)
    return dA, X, W, A


def numpy_dense_relu(X, W, b):
    """The honest NumPy layer: one GEMM, in-place bias add and ReLU."""
    Z = X @ W.T
    Z += b
    np.maximum(Z, 0, out=Z)
    return Z


def numpy_dense_relu_backward(dA, X, W, A):
    dZ = dA * (A > 0)
    return dZ @ W, dZ.T @ X, dZ.sum(axis=0)


def _torch_dense():
    torch = _torch()
    return lambda X, W, b: torch.relu(torch.nn.functional.linear(
        torch.from_numpy(X), torch.from_numpy(W), torch.from_numpy(b))).numpy()


def _gemm_alone_forward():
    """the bare BLAS GEMM(s) at the layer's shapes (NumPy's @); 0.85x or more: GEMMs within 85% of it

    Not checked against the baseline: it skips the bias and activation on purpose.
    """
    return lambda X, W, b: X @ W.T


def _gemm_alone_backward():
    """the bare BLAS GEMM(s) at the layer's shapes (NumPy's @); 0.85x or more: GEMMs within 85% of it

    Not checked against the baseline: it skips the bias and activation on purpose.
    """
    return lambda dA, X, W, A: (dA @ W, dA.T @ X)


def _dense_label(n, k, m, dtype="float32", backward=False):
    return f"{n}x{k} -> {m} {'f32' if dtype == 'float32' else 'f64'}"


DENSE_SIZES = {
    "test": [dict(n=7, k=5, m=3), dict(n=4, k=9, m=2, dtype="float64")],
    "quick": [dict(n=2048, k=784, m=256)],
    "full": [dict(n=2048, k=784, m=256), dict(n=8192, k=784, m=256), dict(n=128, k=256, m=256)],
}

register(Case(
    name="dense_forward",
    area="nn",
    description="dense layer forward, X @ W.T + b then ReLU (BLAS GEMM + fused epilogue)",
    make_inputs=_dense_inputs,
    kernel=lambda X, W, b, backend: dense_forward(X, W, b, "relu", backend=backend)[0],
    baseline=numpy_dense_relu,
    sizes=DENSE_SIZES,
    label=_dense_label,
    peers={"torch": _torch_dense},
    bounds={"GEMM alone": _gemm_alone_forward},
    rtol=1e-4,
    atol=1e-4,
    work=lambda n, k, m, dtype="float32", backward=False: {"flops": 2 * n * k * m},
))

register(Case(
    name="dense_backward",
    area="nn",
    description="dense layer backward through ReLU: dX, dW, db",
    make_inputs=lambda n, k, m, dtype="float32": _dense_inputs(n, k, m, dtype, backward=True),
    kernel=lambda dA, X, W, A, backend: dense_backward(dA, X, W, A, "relu", backend=backend),
    baseline=numpy_dense_relu_backward,
    sizes=DENSE_SIZES,
    label=_dense_label,
    bounds={"GEMM alone": _gemm_alone_backward},
    rtol=1e-4,
    atol=1e-3,
    work=lambda n, k, m, dtype="float32": {"flops": 4 * n * k * m},
))


# -- batch normalisation ------------------------------------------------------------------


BN_MOMENTUM, BN_EPS = 0.1, 1e-5


def _batchnorm_inputs(n, c, dtype="float32"):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((n, c)) * 2.0 + rng.standard_normal(c)).astype(dtype)
    gamma = (1.0 + 0.1 * rng.standard_normal(c)).astype(dtype)
    beta = (0.1 * rng.standard_normal(c)).astype(dtype)
    dy = rng.standard_normal((n, c)).astype(dtype)
    # each contender updates its own running statistics in place (keyed by contender)
    running = {}
    return x, gamma, beta, dy, running


def _running(running, who, c, dtype):
    if who not in running:
        running[who] = (np.zeros(c, dtype), np.ones(c, dtype))
    return running[who]


def numpy_batchnorm(x, gamma, beta, dy, running):
    """The honest NumPy training-mode batch norm, forward then backward (torch's backward).

    Forward: batch mean and biased variance per column, normalise, scale and shift,
    move the running mean and unbiased variance by the momentum. Backward:
    ``dx = gamma / (N sqrt(var + eps)) (N dy - sum(dy) - xhat sum(dy xhat))``.
    """
    n = x.shape[0]
    rm, rv = _running(running, "numpy", x.shape[1], x.dtype)
    mu = x.mean(axis=0)
    xhat = x - mu
    var = np.mean(xhat * xhat, axis=0)
    inv_std = 1 / np.sqrt(var + BN_EPS)
    xhat *= inv_std
    y = xhat * gamma
    y += beta
    rm *= 1 - BN_MOMENTUM
    rm += BN_MOMENTUM * mu
    rv *= 1 - BN_MOMENTUM
    rv += (BN_MOMENTUM * n / (n - 1)) * var
    dbeta = dy.sum(axis=0)
    dgamma = np.sum(dy * xhat, axis=0)
    dx = n * dy
    dx -= dbeta
    dx -= xhat * dgamma
    dx *= gamma * inv_std / n
    return y, dx, dgamma, dbeta


def _fk_batchnorm(x, gamma, beta, dy, running, backend):
    rm, rv = _running(running, "fastkernels", x.shape[1], x.dtype)
    y, cache = batchnorm_forward(x, gamma, beta, rm, rv, training=True, momentum=BN_MOMENTUM, eps=BN_EPS,
                                 backend=backend)
    return (y, *batchnorm_backward(dy, cache, gamma, backend=backend))


def _torch_batchnorm():
    torch = _torch()

    def run(x, gamma, beta, dy, running):
        if "torch" not in running:
            running["torch"] = (torch.zeros(x.shape[1], dtype=torch.from_numpy(x).dtype),
                                torch.ones(x.shape[1], dtype=torch.from_numpy(x).dtype))
        rm, rv = running["torch"]
        xt = torch.from_numpy(x).requires_grad_(True)
        gt = torch.from_numpy(gamma).requires_grad_(True)
        bt = torch.from_numpy(beta).requires_grad_(True)
        y = torch.nn.functional.batch_norm(xt, rm, rv, gt, bt, training=True, momentum=BN_MOMENTUM, eps=BN_EPS)
        dx, dgamma, dbeta = torch.autograd.grad(y, (xt, gt, bt), torch.from_numpy(dy))
        return y.detach().numpy(), dx.numpy(), dgamma.numpy(), dbeta.numpy()

    return run


def _check_batchnorm(out, ref):
    """y and dx to rtol 1e-4; dgamma and dbeta (column sums over N rows) to ``2 N eps`` absolute.

    NumPy's axis-0 sums add rows one by one in float32, so the baseline's dgamma and
    dbeta drift from the exact sums by up to ~N eps / 3 (3e-4 at N = 8192; fastkernels
    sums in float64 and is within 1e-5 of them); a wrong formula is off by O(1).
    """
    if len(out) != 4:
        raise AssertionError(f"{len(out)} outputs, expected (y, dx, dgamma, dbeta)")
    n = np.asarray(out[0]).shape[0]
    sum_atol = 2 * n * np.finfo(np.asarray(ref[0]).dtype).eps
    for name, o, r, rtol, atol in zip(("y", "dx", "dgamma", "dbeta"), out, ref,
                                      (1e-4, 1e-4, 1e-4, 1e-4), (1e-5, 1e-5, sum_atol, sum_atol)):
        np.testing.assert_allclose(np.asarray(o), np.asarray(r), rtol=rtol, atol=atol, err_msg=name)


register(Case(
    name="batchnorm",
    area="nn",
    description="batch norm over the batch axis, training mode: forward (running stats updated) + backward",
    make_inputs=_batchnorm_inputs,
    kernel=_fk_batchnorm,
    baseline=numpy_batchnorm,
    sizes={"test": [dict(n=9, c=5), dict(n=4, c=3, dtype="float64")], "quick": [dict(n=2048, c=256)],
           "full": [dict(n=2048, c=256), dict(n=8192, c=1024), dict(n=2048, c=256, dtype="float64")]},
    label=lambda n, c, dtype="float32": f"{n}x{c} {'f32' if dtype == 'float32' else 'f64'}",
    peers={"torch": _torch_batchnorm},
    check=_check_batchnorm,
    # read x; write y and the xhat cache; read dy and xhat; write dx
    work=lambda n, c, dtype="float32": {"bytes": 6 * n * c * np.dtype(dtype).itemsize},
))


# -- optimizers -------------------------------------------------------------------------


class _NumpyAdam:
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


def _fk_adam_step(opt, g, backend):
    opt.backend = backend
    opt.step([g])
    return opt.params[0]


def _adam_inputs(n, dtype="float32"):
    rng = np.random.default_rng(4)
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    # each contender steps its own copy from the same start: one step each is validated
    return (_NumpyAdam(p.copy()), Adam([p.copy()], lr=1e-3)), g


register(Case(
    name="adam_step",
    area="nn",
    description="one Adam update of a flat parameter buffer, in place",
    make_inputs=_adam_inputs,
    kernel=lambda opts, g, backend: _fk_adam_step(opts[1], g, backend),
    baseline=lambda opts, g: opts[0].step(g),
    sizes={"test": [dict(n=37), dict(n=5, dtype="float64")], "quick": [dict(n=1_000_000)],
           "full": [dict(n=1_000_000), dict(n=10_000_000)]},
    label=lambda n, dtype="float32": f"{n:,} params {'f32' if dtype == 'float32' else 'f64'}",
    rtol=1e-5,
    atol=1e-7,
    # read p, g, m, v; write p, m, v
    work=lambda n, dtype="float32": {"bytes": 7 * n * np.dtype(dtype).itemsize},
))


class _NumpySGD:
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


def _fk_sgd_step(opt, g, backend):
    opt.backend = backend
    opt.step([g])
    return opt.params[0]


def _sgd_inputs(n, dtype="float32"):
    rng = np.random.default_rng(10)
    p = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    # each contender steps its own copy from the same start: one step each is validated
    return (_NumpySGD(p.copy()), SGD([p.copy()], lr=0.01, momentum=0.9, weight_decay=5e-4)), g


register(Case(
    name="sgd_momentum_step",
    area="nn",
    description="one SGD update, momentum 0.9 and L2 weight decay 5e-4, of a flat parameter buffer, in place",
    make_inputs=_sgd_inputs,
    kernel=lambda opts, g, backend: _fk_sgd_step(opts[1], g, backend),
    baseline=lambda opts, g: opts[0].step(g),
    sizes={"test": [dict(n=37), dict(n=5, dtype="float64")], "quick": [dict(n=1_000_000)],
           "full": [dict(n=1_000_000), dict(n=10_000_000)]},
    label=lambda n, dtype="float32": f"{n:,} params {'f32' if dtype == 'float32' else 'f64'}",
    rtol=1e-5,
    atol=1e-7,
    # read p, g, v; write p, v
    work=lambda n, dtype="float32": {"bytes": 5 * n * np.dtype(dtype).itemsize},
))


CLIP_MAX_NORM = 1.0


def _clip_inputs(sizes, dtype="float32"):
    """The weight and bias gradients of an MLP with layer ``sizes``; global norm ~10, so they are clipped."""
    rng = np.random.default_rng(11)
    grads = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        grads += [(rng.standard_normal((b, a)) * 0.01).astype(dtype), (rng.standard_normal(b) * 0.01).astype(dtype)]
    # clipping is in place and a clipped set is not clipped again: every call first restores
    # its own working copy from `grads` (the same copy in both contenders), so each does the full clip
    return grads, [g.copy() for g in grads], [g.copy() for g in grads], CLIP_MAX_NORM


def _restore(work, grads):
    for w, g in zip(work, grads):
        np.copyto(w, g)


def numpy_clip_grad_norm(grads, fk_work, np_work, max_norm):
    """The honest NumPy global-norm clip: one ``vdot`` per array, then an in-place scale.

    Returns ``(norm, *clipped gradients)``.
    """
    _restore(np_work, grads)
    total = np.sqrt(sum(float(np.vdot(g, g)) for g in np_work))
    if total > max_norm:
        c = max_norm / total
        for g in np_work:
            g *= c
    return (total, *np_work)


def _fk_clip(grads, fk_work, np_work, max_norm, backend):
    # clip_grad_norm takes no backend: its norm and scale loops are serial
    _restore(fk_work, grads)
    return (clip_grad_norm(fk_work, max_norm), *fk_work)


def _clip_label(sizes, dtype="float32"):
    n = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return f"{n:,} grads in {2 * (len(sizes) - 1)} arrays {'f32' if dtype == 'float32' else 'f64'}"


register(Case(
    name="clip_grad_norm",
    area="nn",
    description="global L2-norm gradient clipping of an MLP's gradient arrays, in place (after a restoring copy)",
    make_inputs=_clip_inputs,
    kernel=_fk_clip,
    baseline=numpy_clip_grad_norm,
    sizes={"test": [dict(sizes=(5, 4, 3)), dict(sizes=(3, 2), dtype="float64")],
           "quick": [dict(sizes=(784, 1024, 192, 10))],
           "full": [dict(sizes=(784, 1024, 192, 10)), dict(sizes=(784, 4096, 1024, 10))]},
    label=_clip_label,
    rtol=1e-5,
    atol=1e-8,
    # restore (read + write), norm (read), scale (read + write)
    work=lambda sizes, dtype="float32": {"bytes": 5 * np.dtype(dtype).itemsize
                                         * sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))},
))


# -- MLP training epoch -----------------------------------------------------------------


class _NumpyMLP:
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


def _mlp_inputs(n, sizes, batch=128):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((n, sizes[0]), dtype=np.float32)
    y = rng.integers(0, sizes[-1], n)
    model = MLP(list(sizes), "relu", seed=0)
    params = []
    for k in range(len(sizes) - 1):
        params += [model.params[("W", k)].T.copy(), model.params[("b", k)].copy()]
    contenders = {"fastkernels": model, "numpy": _NumpyMLP(params), "params": params}
    return contenders, X, y, batch


def _fk_epoch(state, X, y, batch, backend):
    model = state["fastkernels"]
    # the model's "auto": batch-sized elementwise kernels serial, GEMMs on BLAS threads
    model.backend = "auto" if backend == "parallel" else backend
    model.fit(X, y, epochs=1, batch_size=batch, optimizer="sgd", lr=0.01, momentum=0.9, shuffle=False, verbose=False)
    return model.params[("W", 0)].T


def _torch_epoch():
    torch = _torch()

    def run(state, X, y, batch):
        if "torch" not in state:
            layers = []
            params = state["params"]
            for k in range(len(params) // 2):
                lin = torch.nn.Linear(*params[2 * k].shape)
                with torch.no_grad():
                    lin.weight.copy_(torch.from_numpy(params[2 * k].T.copy()))
                    lin.bias.copy_(torch.from_numpy(params[2 * k + 1]))
                layers += [lin, torch.nn.ReLU()]
            model = torch.nn.Sequential(*layers[:-1])
            state["torch"] = (model, torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9))
        model, opt = state["torch"]
        Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
        for i in range(0, len(X), batch):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(Xt[i:i + batch]), yt[i:i + batch]).backward()
            opt.step()
        return model[0].weight.detach().numpy().T

    return run


def _mlp_label(n, sizes, batch=128):
    return f"{'-'.join(map(str, sizes))} B={batch}, {n:,} samples"


register(Case(
    name="mlp_epoch",
    area="nn",
    description="one training epoch of a ReLU MLP, SGD + momentum 0.9, lr 0.01 (first-layer weights compared)",
    make_inputs=_mlp_inputs,
    kernel=_fk_epoch,
    baseline=lambda state, X, y, batch: state["numpy"].epoch(X, y, batch)[0],
    sizes={
        "test": [dict(n=300, sizes=(20, 16, 16, 5), batch=32)],
        "quick": [dict(n=12_800, sizes=(784, 256, 256, 10)), dict(n=12_800, sizes=(784, 64, 10), batch=32)],
        "full": [dict(n=60_000, sizes=(784, 256, 256, 10)), dict(n=60_000, sizes=(784, 64, 10), batch=32)],
    },
    label=_mlp_label,
    peers={"torch": _torch_epoch},
    # float32 training trajectories drift apart by ~1e-4 over 100 steps (torch vs NumPy too);
    # a wrong update rule is off by far more than this
    rtol=2e-3,
    atol=1e-3,
    work=lambda n, sizes, batch=128: {"flops": 6 * n * sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))},
))
