"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from .losses import mse, sigmoid_binary_cross_entropy, softmax_cross_entropy
from .rowwise import softmax


def _logits(rows, cols, dtype="float32", seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((rows, cols), dtype=np.float64) * 3.0).astype(dtype)


def numpy_softmax(x):
    """The honest NumPy row softmax: shift by the row max, exp in place, normalise in place."""
    e = x - x.max(axis=1, keepdims=True)
    np.exp(e, out=e)
    e /= e.sum(axis=1, keepdims=True)
    return e


def _torch_softmax():
    import torch  # noqa: F401  (ImportError -> peer skipped)

    import numba

    torch.set_num_threads(numba.get_num_threads())
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
    import torch

    import numba

    torch.set_num_threads(numba.get_num_threads())

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
