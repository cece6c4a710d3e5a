"""Benchmark cases of :mod:`fastkernels.nn` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
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
