"""Per-neuron parameters: scalars or arrays, validated and broadcast to ``(n,)``."""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_choice, check_positive, check_scalar

#: ``refractory_mode`` values; see :class:`fastkernels.neurons.LIF`.
REFRACTORY_MODES = ("steps", "legacy_float")


def per_neuron(value, name: str, n: int, *, positive=False, nonneg=False, allow_inf=False) -> np.ndarray:
    """``value`` (scalar or ``(n,)``) as a float64 ``(n,)`` array, checked finite (and > 0 / >= 0)."""
    arr = np.asarray(as_array(value, name, dtypes=(np.float64, np.float32, np.int64, np.int32)), dtype=np.float64)
    if arr.ndim == 0:
        arr = np.full(n, float(arr))
    elif arr.shape != (n,):
        raise ValueError(f"{name} must be a scalar or have one value per neuron, shape ({n},); got shape {arr.shape}")
    bad = np.isnan(arr) if allow_inf else ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{name} must be finite; entry {int(np.flatnonzero(bad)[0])} is {arr[bad][0]}")
    if positive and (arr <= 0).any():
        raise ValueError(f"{name} must be > 0; entry {int(np.flatnonzero(arr <= 0)[0])} is {arr[arr <= 0][0]}")
    if nonneg and (arr < 0).any():
        raise ValueError(f"{name} must be >= 0; entry {int(np.flatnonzero(arr < 0)[0])} is {arr[arr < 0][0]}")
    return arr


def check_run(n, duration, dt, dtype):
    """Validate the population size, run length and step; return ``(n, n_steps, dt, dtype)``.

    ``duration`` must be a whole number of steps (to 1e-9 relative), as in Brian2.
    """
    n = check_scalar(n, "n", integer=True, lo=1)
    dt = check_positive(dt, "dt")
    duration = check_scalar(duration, "duration", lo=0)
    steps = duration / dt
    n_steps = int(round(steps))
    if abs(steps - n_steps) > 1e-9 * max(1.0, steps):
        raise ValueError(f"duration ({duration} ms) must be a whole number of steps of dt = {dt} ms")
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"dtype must be float32 or float64, got {dtype.name}")
    return n, n_steps, dt, dtype


def refractory_steps(tau_ref: np.ndarray, dt: float) -> np.ndarray:
    """Refractory periods in whole steps, Brian2's ``timestep(tau_ref, dt)``: ``int((tau_ref + 1e-3 dt) / dt)``."""
    return ((tau_ref + 1e-3 * dt) / dt).astype(np.int64)


def check_mode(mode):
    return check_choice(mode, "refractory_mode", REFRACTORY_MODES)


def as_record(record, n: int) -> np.ndarray:
    """Neurons whose state is traced: None/False (none), True (all), an int or a list of ids; sorted unique int64."""
    if record is None or record is False:
        return np.empty(0, dtype=np.int64)
    if record is True:
        return np.arange(n, dtype=np.int64)
    ids = np.atleast_1d(np.asarray(record))
    if ids.dtype.kind not in "iu":
        raise TypeError(f"record must be True, an int or a sequence of neuron ids, got dtype {ids.dtype.name}")
    ids = ids.astype(np.int64).ravel()
    if ids.size and (ids.min() < 0 or ids.max() >= n):
        bad = ids[(ids < 0) | (ids >= n)][0]
        raise ValueError(f"record holds neuron id {bad}, outside [0, {n})")
    return np.unique(ids)
