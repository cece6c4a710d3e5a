"""Compile ahead of time: ``fk.warmup()`` and the threading-layer probe."""

from __future__ import annotations

import importlib
import time

import numpy as np
from numba import prange

from ._jit import jit

#: Areas with kernels to warm up; each package defines ``_warmup(backend, dtype)``.
AREAS = ("nn", "neurons", "word2vec")


@jit(parallel=True)
def _probe(x):
    s = 0.0
    for i in prange(x.size):
        s += x[i]
    return s


def probe_parallel() -> None:
    """Run one tiny parallel kernel so Numba picks (and reports) its threading layer."""
    _probe(np.ones(4))


def warmup(areas=None, *, backends=("cpu", "parallel"), dtypes=("float32", "float64"), verbose=False) -> dict:
    """Compile (or load from cache) the kernels of ``areas`` for ``backends`` x ``dtypes``.

    Call it once at start-up so the first real call does not pay compile latency.

    Parameters
    ----------
    areas : sequence of str, optional
        Subset of :data:`AREAS` (default all).
    backends : sequence of {"cpu", "parallel", "cuda"}
    dtypes : sequence of {"float32", "float64"}
    verbose : bool
        Print the seconds spent per area.

    Returns
    -------
    dict
        Seconds spent per area.
    """
    areas = AREAS if areas is None else tuple(areas)
    spent = {}
    for area in areas:
        if area not in AREAS:
            raise ValueError(f"unknown area {area!r}; known: {AREAS}")
        mod = importlib.import_module(f"fastkernels.{area}")
        t0 = time.perf_counter()
        for backend in backends:
            for dtype in dtypes:
                mod._warmup(backend, np.dtype(dtype))
        spent[area] = time.perf_counter() - t0
        if verbose:
            print(f"warmup {area}: {spent[area]:.2f} s")
    return spent
