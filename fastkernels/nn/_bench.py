"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from .losses import softmax_cross_entropy
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


def _label(rows, cols, dtype="float32"):
    return f"{rows}x{cols} {'f32' if dtype == 'float32' else 'f64'}"


register(Case(
    name="softmax",
    area="nn",
    description="row softmax over the last axis (forward)",
    make_inputs=lambda rows, cols, dtype="float32": (_logits(rows, cols, dtype),),
    kernel=lambda x, backend: softmax(x, backend=backend),
    baseline=numpy_softmax,
    sizes={
        "test": [dict(rows=7, cols=33), dict(rows=3, cols=5, dtype="float64")],
        "quick": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000)],
        "full": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000),
                 dict(rows=8192, cols=1000, dtype="float64"), dict(rows=4096, cols=50_000)],
    },
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
    sizes={
        "test": [dict(rows=9, cols=31), dict(rows=3, cols=5, dtype="float64")],
        "quick": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000)],
        "full": [dict(rows=8192, cols=1000), dict(rows=256, cols=50_000),
                 dict(rows=8192, cols=1000, dtype="float64"), dict(rows=4096, cols=50_000)],
    },
    label=_label,
    peers={"torch": _torch_softmax_cross_entropy},
    rtol=1e-4,
    atol=1e-8,
    # memory roofline: read the logits once, write the gradient once
    work=lambda rows, cols, dtype="float32": {"bytes": 2 * rows * cols * np.dtype(dtype).itemsize},
))
