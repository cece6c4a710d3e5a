"""Input currents for neuron populations: constant, per neuron, time-varying, functions of time.

Kernels read the input of neuron ``i`` at step ``k`` as ``rows[r, i] + common[c]``
with ``r = k`` when ``rows`` has one row per step (else 0) and likewise ``c``:
a per-neuron constant, a time series shared by all neurons and a full
``(n_steps, n)`` matrix all reach the kernel without being expanded to
``n_steps x n``. Inputs are piecewise constant over a step (sampled at the
step start ``t_k = k * dt``), which is also what the exact, RK4 and
event-driven integrators assume.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import resolve_backend
from .._jit import cpu_kernels
from .._random import resolve_seed, seed_kept, stream_key, uniform_open0
from .._validate import check_cast_range, as_array, check_allocation, check_scalar
from ._driver import order_spikes


def as_input(I, name: str, *, n: int, n_steps: int, t0: float, dt: float, dtype):
    """Normalise a user's input into ``(rows, common)`` arrays of ``dtype``.

    Parameters
    ----------
    I : None, float, array_like or callable
        * ``None`` or a scalar: the same constant for every neuron;
        * shape ``(n,)`` or ``(1, n)``: one constant per neuron;
        * shape ``(n_steps, 1)``: a time series shared by every neuron;
        * shape ``(n_steps, n)``: one time series per neuron;
        * a callable ``I(t)`` taking the step-start times ``t`` (ms, shape ``(n_steps,)``) and
          returning one of the two time-series shapes or a ``(n_steps,)`` shared series.
    n, n_steps : int
        Population size and number of steps of the run.
    t0, dt : float
        Time of the first step and the step (ms), for callables.

    Returns
    -------
    rows : ndarray, shape (1, n) or (n_steps, n)
    common : ndarray, shape (1,) or (n_steps,)

    Raises
    ------
    TypeError
        Not a number, array of numbers or callable (bool, complex, str and object values included),
        or a callable returning something else.
    ValueError
        A shape other than those above, NaN or infinite values, values beyond the float32 range
        for ``dtype=float32``, or a callable's time grid that cannot fit in memory.
    """
    if callable(I):
        check_allocation(n_steps, 16, "duration / dt (the time grid of a callable I)", what="steps")
        t = t0 + dt * np.arange(n_steps, dtype=np.float64)
        out = I(t)
        try:
            val = np.asarray(out, dtype=np.float64)
        except Exception:
            raise TypeError(f"{name}(t) must return an array of numbers, got {type(out).__name__}") from None
        if np.asarray(out).dtype.kind not in "iuf":
            raise TypeError(f"{name}(t) must return an array of numbers, got dtype {np.asarray(out).dtype.name}")
        if val.ndim == 1:
            if val.shape != (n_steps,):
                raise ValueError(f"{name}(t) returned shape {val.shape}; expected ({n_steps},), ({n_steps}, 1) or ({n_steps}, {n})")
            val = val[:, None]
        elif val.ndim != 2 or val.shape[0] != n_steps or val.shape[1] not in (1, n):
            raise ValueError(f"{name}(t) returned shape {val.shape}; expected ({n_steps},), ({n_steps}, 1) or ({n_steps}, {n})")
        I = val
    if I is None:
        I = 0.0
    arr = as_array(I, name, dtypes=(np.float64, np.float32, np.int64, np.int32), finite=True)
    if arr.dtype.kind == "f":
        check_cast_range(arr, dtype, name)  # 1e308 into a float32 run would become inf
    arr = np.asarray(arr, dtype=dtype)
    zero_rows, zero_common = np.zeros((1, n), dtype=dtype), np.zeros(1, dtype=dtype)
    if arr.ndim == 0:
        return np.full((1, n), arr, dtype=dtype), zero_common
    if arr.ndim == 1:
        if arr.shape[0] != n:
            raise ValueError(
                f"{name} has shape {arr.shape}: a 1-D input holds one value per neuron ({n},); "
                f"pass a time series shared by all neurons as shape ({n_steps}, 1)")
        return np.ascontiguousarray(arr[None, :]), zero_common
    if arr.ndim == 2:
        steps, cols = arr.shape
        if steps == 1 and cols == n:
            return np.ascontiguousarray(arr), zero_common
        if steps == n_steps and cols == 1:
            return zero_rows, np.ascontiguousarray(arr[:, 0])
        if steps == n_steps and cols == n:
            return np.ascontiguousarray(arr), zero_common
    raise ValueError(
        f"{name} has shape {arr.shape}; expected a scalar, ({n},), (1, {n}), ({n_steps}, 1) or ({n_steps}, {n}) "
        f"for {n} neurons and {n_steps} steps")


def input_range(rows: np.ndarray, common: np.ndarray):
    """Smallest and largest input each neuron receives during the run: two ``(n,)`` float64 arrays
    (for spike-count bounds and overflow checks)."""
    if rows.shape[0] == 1:  # per-neuron constants: one copy serves both bounds
        r = rows[0].astype(np.float64)
        return r + float(common.min()), r + float(common.max())
    lo = rows.min(axis=0).astype(np.float64) + float(common.min())
    hi = rows.max(axis=0).astype(np.float64) + float(common.max())
    return lo, hi


def _poisson_body(rate_ms, duration, key, counts, offsets, times, ids, fill):
    # Neuron i's intervals are -log(U)/rate from its own stream: the count pass and the fill
    # pass draw the same numbers, so any thread split gives the same trains.
    for i in prange(rate_ms.shape[0]):
        if rate_ms[i] <= 0.0:
            counts[i] = 0
            continue
        skey = stream_key(key, i)
        t = 0.0
        c = 0
        pos = offsets[i]
        while True:
            t += -math.log(uniform_open0(skey, c)) / rate_ms[i]
            if t >= duration:
                break
            if fill:
                times[pos + c] = t
                ids[pos + c] = i
            c += 1
        counts[i] = c


_poisson_cpu, _poisson_parallel = cpu_kernels(_poisson_body)


def poisson_spike_trains(rate, n: int, duration: float, *, t_start: float = 0.0, seed=None, backend: str = "auto"):
    """Independent homogeneous Poisson spike trains in continuous time.

    Parameters
    ----------
    rate : float or (n,) array, Hz
        Rate of each train (>= 0).
    n : int
        Number of trains.
    duration : float, ms
    t_start : float, ms
        Time of the first possible spike.
    seed : None, int or numpy.random.Generator
        Train ``i`` draws from its own stream: the result does not depend on the thread count.
    backend : {"auto", "cpu", "parallel"}

    Returns
    -------
    times : ndarray, float64, ms
    neurons : ndarray, int64
        Spikes sorted by time (then train), the same format as a simulation's spikes.

    Raises
    ------
    TypeError
        ``n`` not an int, ``rate``/``duration``/``t_start`` not numbers, a wrong ``seed`` type.
    ValueError
        ``n < 1``; a negative, NaN or infinite ``rate`` (or one of the wrong length); a negative
        or infinite ``duration``; ``t_start + duration`` not finite; an unknown ``backend`` or
        ``"cuda"``; a negative ``seed``. Also, up front, trains whose expected spike count
        (``sum(rate) * duration``, plus a 10-sigma margin) cannot fit in memory
        (:func:`fastkernels._validate.max_bytes`), and an ``n`` too large for memory.
    """
    from ._params import check_common, per_neuron

    check_common(seed, backend)
    n = check_scalar(n, "n", integer=True, lo=1)
    check_allocation(n, 40, "n", what="trains")
    duration = check_scalar(duration, "duration", lo=0)
    t_start = check_scalar(t_start, "t_start")
    if not math.isfinite(t_start + duration):
        raise ValueError(f"t_start + duration must be finite, got {t_start!r} + {duration!r}")
    if duration > 0 and np.spacing(abs(t_start) + duration) > 1e-3 * duration:
        raise ValueError(f"t_start = {t_start!r} ms is too large for duration = {duration!r} ms: spike times "
                         "t_start + t would lose their resolution in float64 (need a float64 spacing at "
                         "|t_start| + duration of at most 1e-3 * duration)")
    rate_ms = per_neuron(rate, "rate", n, nonneg=True) * 1e-3
    with np.errstate(over="ignore"):
        expected = float(rate_ms.sum()) * duration
    # Result (times, ids) and the sort's temporaries: ~40 bytes a spike. The count is Poisson:
    # a 10-sigma margin above the mean is never exceeded in practice.
    check_allocation(expected + 10.0 * math.sqrt(expected) + 10.0, 40, "rate * duration", what="expected spikes")
    backend = resolve_backend(backend, work=int(expected) + n, cpu_only="poisson_spike_trains")
    with seed_kept(seed):
        return _poisson_trains(rate_ms, n, duration, t_start, seed, backend)


def _poisson_trains(rate_ms, n, duration, t_start, seed, backend):
    kern = _poisson_parallel if backend == "parallel" else _poisson_cpu
    key = resolve_seed(seed)
    counts = np.zeros(n, dtype=np.int64)
    empty_t, empty_i = np.empty(0), np.empty(0, dtype=np.int64)
    kern(rate_ms, duration, key, counts, counts, empty_t, empty_i, False)
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    times = np.empty(int(counts.sum()))
    ids = np.empty(times.size, dtype=np.int64)
    kern(rate_ms, duration, key, counts, offsets, times, ids, True)
    if times.size:
        # Times are uniform over the run: a counting sort into ~4 spikes per bin, then a sort by
        # (time, train) inside each bin: O(spikes), 3x faster than np.lexsort.
        bins = max(1, times.size // 4)
        times, ids = order_spikes(times, ids, 0.0, duration / bins, bins)
    return times + t_start, ids
