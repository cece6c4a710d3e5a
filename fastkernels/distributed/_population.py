"""One neuron population chunked by neurons across Dask workers, merged into one result.

Each task simulates the neurons ``[lo, hi)`` under :func:`fastkernels.neurons._driver.neuron_offset`
``(lo)``: neuron ``lo + j`` draws its noise and Poisson input from its global streams, so the merged
spikes, traces and final state equal the single-machine run's bit for bit.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import math

import numpy as np

from ..neurons._driver import SimulationError, neuron_offset
from ..neurons._params import check_run
from ..neurons.result import SimulationResult
from ._cluster import (MIN_SLICE, TaskFailure, check_chunk, check_client, check_flag, check_threads, n_threads,
                       numba_threads, require_distributed, show_progress, using_client)


class SlicedInput:
    """A callable input ``I(t)`` restricted to the neurons ``[lo, hi)`` of an ``n``-neuron population
    (a ``(n_steps, n)`` result is cut to its columns; shared series pass through)."""

    def __init__(self, fn, lo, hi, n):
        self.fn, self.lo, self.hi, self.n = fn, lo, hi, n

    def __call__(self, t):
        out = self.fn(t)
        arr = np.asarray(out)
        if arr.ndim == 2 and arr.shape[1] == self.n and self.n > 1:
            return arr[:, self.lo:self.hi]
        return out


def _per_neuron(value, n) -> bool:
    return isinstance(value, (np.ndarray, list, tuple)) and np.ndim(value) == 1 and len(value) == n


def _slice_value(value, lo, hi, n):
    return np.asarray(value)[lo:hi] if _per_neuron(value, n) else value


def _slice_input(I, lo, hi, n):
    if callable(I):
        return SlicedInput(I, lo, hi, n)
    if I is None or np.ndim(I) == 0:
        return I
    arr = np.asarray(I)
    if arr.ndim == 1 and arr.shape[0] == n:
        return arr[lo:hi]
    if arr.ndim == 2 and arr.shape[1] == n and n > 1:
        return arr[:, lo:hi]
    return I  # a shared (n_steps, 1) series, or a shape the simulator refuses


def _slice_record(record, lo, hi, n):
    if record is None or record is False:
        return None
    if record is True:
        return True
    if isinstance(record, str) or (isinstance(record, (list, tuple)) and any(isinstance(r, str) for r in record)):
        return record  # variable names: those variables of every neuron, as record=True
    rec = np.unique(np.atleast_1d(np.asarray(record, dtype=np.int64)))
    local = rec[(rec >= lo) & (rec < hi)] - lo
    return local if local.size else None


def _slice_kwargs(kwargs, lo, hi, n):
    out = {}
    for k, v in kwargs.items():
        if k == "I":
            out[k] = _slice_input(v, lo, hi, n)
        elif k == "record":
            out[k] = _slice_record(v, lo, hi, n)
        elif k == "initial" and isinstance(v, dict):
            out[k] = {name: _slice_value(x, lo, hi, n) for name, x in v.items()}
        else:
            out[k] = _slice_value(v, lo, hi, n)
    return out


def _slice_model(model, lo, hi, n):
    if not dataclasses.is_dataclass(model) or isinstance(model, type):
        return model
    changes = {f.name: np.asarray(getattr(model, f.name))[lo:hi] for f in dataclasses.fields(model)
               if _per_neuron(getattr(model, f.name), n)}
    return dataclasses.replace(model, **changes) if changes else model


def run_slice(simulate, model, m, duration, dt_args, kwargs, lo, threads):
    """Simulate one slice on a worker: ``("ok", result, generator state or None)`` or ``("error", TaskFailure)``."""
    try:
        with numba_threads(threads), neuron_offset(lo):
            res = simulate(model, m, duration, *dt_args, **kwargs)
    except Exception as exc:
        return "error", TaskFailure.capture(exc)
    seed = kwargs.get("seed")
    return "ok", res, seed.bit_generator.state if isinstance(seed, np.random.Generator) else None


def merge_results(parts, n) -> SimulationResult:
    """The :class:`SimulationResult` of the whole population from its slices' ``(lo, result)``, in order."""
    first = parts[0][1]
    times = np.concatenate([r.spike_times for _, r in parts])
    ids = np.concatenate([r.spike_neurons + lo for lo, r in parts])
    order = np.lexsort((ids, times))
    final = {}
    for name, value in first.final_state.items():
        if isinstance(value, np.ndarray) and value.ndim >= 1 and value.shape[0] == first.n:
            final[name] = np.concatenate([r.final_state[name] for _, r in parts])
        else:
            final[name] = value
    return SimulationResult(
        spike_times=times[order], spike_neurons=ids[order], n=n, t_start=first.t_start, duration=first.duration,
        dt=first.dt, trace_neurons=np.concatenate([r.trace_neurons + lo for lo, r in parts]).astype(np.int64),
        trace_times=first.trace_times,
        traces={name: np.concatenate([r.traces[name] for _, r in parts]) for name in first.traces},
        final_state=final)


def _validation_kwargs(kwargs, n_steps):
    """``kwargs`` for a zero-duration run that checks everything but the time series' length."""
    out = dict(kwargs)
    I = kwargs.get("I")
    if callable(I):
        out["I"] = None
    elif I is not None and np.ndim(I) == 2 and np.shape(I)[0] != 1:
        if np.shape(I)[0] != n_steps:
            raise ValueError(f"I has {np.shape(I)[0]} rows; a time series needs one per step ({n_steps})")
        out["I"] = np.asarray(I)[:0]
    if isinstance(kwargs.get("seed"), np.random.Generator):
        out["seed"] = copy.deepcopy(kwargs["seed"])
    return out


def simulate_population(simulate, model, n, duration, dt=None, *, client=None, chunk=None, progress=False,
                        numba_threads=1, **kwargs) -> SimulationResult:
    """Simulate ``n`` neurons with ``simulate`` split into slices of neurons across Dask workers.

    The merged result equals ``simulate(model, n, duration, dt, **kwargs)`` on one machine bit for
    bit (spikes, traces, final state): each slice keys its noise and Poisson streams by the
    neurons' global indices.

    Parameters
    ----------
    simulate : callable
        :func:`~fastkernels.neurons.simulate_lif`, :func:`~fastkernels.neurons.simulate_hh` or
        :func:`~fastkernels.neurons.simulate_izhikevich`.
    model : LIF, HH or Izhikevich
        Fields that are ``(n,)`` arrays are sliced with the neurons.
    n : int
        Population size.
    duration, dt : float, ms
        As for ``simulate`` (``dt`` None: its default).
    client : dask.distributed.Client, optional
        Default: the current client, else a temporary ``LocalCluster``.
    chunk : int, optional
        Neurons per task; default ``ceil(n / Dask threads)``, at least 1024.
    progress : bool
        Dask's progress bar while the slices run.
    numba_threads : int or None
        Numba threads per task (default 1); None leaves the worker's setting.
    **kwargs
        Passed to ``simulate``: per-neuron arrays (``I`` as ``(n,)`` or ``(n_steps, n)``, ``v0``,
        ``initial``'s arrays) and callables ``I(t)`` returning ``(n_steps, n)`` are sliced; ``record``
        holds global indices. ``seed``: an int (or None: one fresh key for all slices) or a
        Generator (advanced as the single run would). ``backend``: "cpu", "parallel" or "auto"
        (then "cpu" with one Numba thread per task, else "parallel"); "cuda" is refused.

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError, ValueError
        What ``simulate`` refuses (checked on the client by a zero-duration run, before anything is
        submitted), ``simulate`` not a simulator (no ``dt`` parameter), bad ``n``/``client``/``chunk``/
        ``progress``/``numba_threads``, ``backend="cuda"``.
    SimulationError
        A slice's state ran away (naming the global neuron; the earliest step of all slices).
    ImportError
        Dask is not installed.
    """
    require_distributed()
    check_client(client)
    try:
        params = inspect.signature(simulate).parameters if callable(simulate) else {}
    except (TypeError, ValueError):  # a builtin without a signature
        params = {}
    if "dt" not in params:
        raise TypeError(f"simulate must be a fastkernels.neurons simulate_* function (model, n, duration, dt, ...), "
                        f"got {getattr(simulate, '__name__', type(simulate).__name__)}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise TypeError(f"n must be an int, got {type(n).__name__}")
    n = int(n)
    if n < 1:
        raise ValueError(f"n must be >= 1, got {n}")
    chunk = check_chunk(chunk)
    check_flag(progress, "progress")
    threads = check_threads(numba_threads)
    backend = kwargs.get("backend", "auto")
    if isinstance(backend, str) and backend == "cuda":
        raise ValueError("backend='cuda' cannot run a slice of a population (the CUDA kernels number neurons by "
                         "thread); use 'cpu', 'parallel' or 'auto'")
    if isinstance(backend, str) and backend == "auto":
        kwargs["backend"] = "cpu" if threads == 1 else "parallel"
    dt_args = () if dt is None else (dt,)
    dt_eff = params["dt"].default if dt is None else dt
    n_steps = check_run(1, duration, dt_eff, np.float64, bytes_per_neuron=1)[1]
    if "seed" not in kwargs or kwargs["seed"] is None:
        kwargs["seed"] = int(np.random.SeedSequence().generate_state(1, np.uint64)[0] >> np.uint64(1))
    simulate(model, n, 0.0, *dt_args, **_validation_kwargs(kwargs, n_steps))  # every check, nothing run
    with using_client(client) as c:
        size = chunk or max(MIN_SLICE, math.ceil(n / n_threads(c)))
        futures = [c.submit(run_slice, simulate, _slice_model(model, lo, min(n, lo + size), n), min(n, lo + size) - lo,
                            duration, dt_args, _slice_kwargs(kwargs, lo, min(n, lo + size), n), lo, threads, pure=False)
                   for lo in range(0, n, size)]
        show_progress(futures, progress)
        outs = c.gather(futures)
    errors = [o[1] for o in outs if o[0] == "error"]
    if errors:
        sim = [e for e in errors if e.type_name == "SimulationError" and "step" in e.fields]
        if sim:
            e = min(sim, key=lambda e: (e.fields["step"], e.fields["neuron"]))
            raise SimulationError(e.message, e.fields["step"], e.fields["time"], e.fields["neuron"])
        raise errors[0].exception()
    seed = kwargs["seed"]
    if isinstance(seed, np.random.Generator):
        states = [o[2] for o in outs if o[2] != seed.bit_generator.state]
        if states:
            seed.bit_generator.state = states[0]
    return merge_results([(lo, o[1]) for lo, o in zip(range(0, n, size), outs)], n)
