"""Compile ahead of time: ``fk.warmup()`` and the threading-layer probe."""

from __future__ import annotations

import importlib
import time

from ._areas import AREAS
from ._backend import resolve_backend
from ._validate import check_dtype



def _names(value, name, *, strings_only=True) -> tuple:
    """A sequence argument as a tuple; a lone string is one name, not its characters."""
    if isinstance(value, str) or (not strings_only and not isinstance(value, (list, tuple))):
        value = (value,)
    try:
        value = tuple(value)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of names, got {type(value).__name__}") from None
    if strings_only and not all(isinstance(v, str) for v in value):
        raise TypeError(f"{name} must hold strings, got {value!r}")
    return value


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

    Raises
    ------
    ValueError
        An unknown area, backend or a dtype other than float32/float64 (all checked before
        anything compiles).
    TypeError
        ``areas``/``backends``/``dtypes`` not sequences of names.
    BackendUnavailableError
        ``"cuda"`` requested without a usable GPU.
    """
    areas = AREAS if areas is None else _names(areas, "areas")
    for area in areas:
        if area not in AREAS:
            raise ValueError(f"areas: unknown area {area!r}; known: {AREAS}")
    backends = _names(backends, "backends")
    for backend in backends:
        if backend not in ("cpu", "parallel", "cuda"):
            raise ValueError(f"backends: unknown backend {backend!r}; known: ('cpu', 'parallel', 'cuda')")
    if "cuda" in backends:
        resolve_backend("cuda")  # BackendUnavailableError before anything compiles
    dtypes = tuple(check_dtype(d, "dtypes") for d in _names(dtypes, "dtypes", strings_only=False))
    spent = {}
    for area in areas:
        mod = importlib.import_module(f"fastkernels.{area}")
        t0 = time.perf_counter()
        for backend in backends:
            for dtype in dtypes:
                mod._warmup(backend, dtype)
        spent[area] = time.perf_counter() - t0
        if verbose:
            print(f"warmup {area}: {spent[area]:.2f} s")
    return spent
