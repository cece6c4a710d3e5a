"""A ready-made vectorized sweep function: the firing rate of one neuron per grid point."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np

from .._validate import check_positive, check_scalar


def _numbers(value, name):
    """A grid column as float64: ints and floats only (bools, strings, objects refused, never cast)."""
    try:
        arr = np.asarray(value)
    except Exception:  # ragged nesting
        arr = np.empty(0, dtype=object)
    if arr.dtype.kind not in "iuf":
        raise TypeError(f"{name} must hold numbers (int or float), got {type(value).__name__} of dtype {arr.dtype}")
    return arr.astype(np.float64)


class PopulationRates:
    """A vectorized sweep function: the firing rate (Hz) of one neuron per grid point.

    ``PopulationRates(model, ...)(I=..., tau_m=..., ...)`` sets each named field of ``model`` (an
    LIF, HH or Izhikevich) to the per-point array, drives neuron ``i`` with ``I[i]`` and returns
    :func:`fastkernels.neurons.firing_rate_curve`'s rates: one population call per chunk.

    Parameters
    ----------
    model : LIF, HH or Izhikevich
        Values of the fields the grid does not set.
    I : float
        Input of every neuron when the grid has no ``I``.
    duration, dt, transient, method
        As in :func:`~fastkernels.neurons.firing_rate_curve`.
    backend : {"cpu", "parallel"}
        Backend of each chunk's call (default "cpu": Dask's threads are the parallelism).
    **kwargs
        Passed to the simulator (``dtype``, ``v0``, ...).

    Raises
    ------
    TypeError
        ``model`` not a neuron model instance; ``seed`` among the options (``sweep`` passes it).
    ValueError
        ``backend`` "cuda" or "auto" (the CUDA kernels ignore the neuron offset a chunk runs under).
    TypeError, ValueError
        ``duration`` (> 0), ``transient`` (>= 0, < ``duration``), ``dt``, ``I``, ``method``, the
        model's fields and ``kwargs`` as the simulator refuses them: all checked here, when the
        function is made (a zero-duration run of one neuron), not in every chunk on the workers.
    """

    __fastkernels_vectorized__ = True

    def __init__(self, model, *, I=0.0, duration=1000.0, dt=None, transient=0.0, method=None, backend="cpu",
                 **kwargs):
        if isinstance(model, type) or not callable(getattr(model, "_rate_curve_setup", None)) \
                or not dataclasses.is_dataclass(model):
            raise TypeError(f"model must be a fastkernels.neurons LIF, HH or Izhikevich, got {type(model).__name__}")
        if not isinstance(backend, str) or backend not in ("cpu", "parallel"):
            raise ValueError(f"backend must be 'cpu' or 'parallel' for a sweep (the CUDA kernels do not take a "
                             f"neuron offset), got {backend!r}")
        if "seed" in kwargs:
            raise TypeError("seed is not an option of PopulationRates: pass seed= to sweep, which gives each chunk "
                            "its seed")
        duration_ms = check_positive(duration, "duration")
        transient_ms = check_scalar(transient, "transient", lo=0)
        if transient_ms >= duration_ms:
            raise ValueError(f"transient ({transient_ms} ms) must be shorter than duration ({duration_ms} ms)")
        # every other option as firing_rate_curve's simulator reads it, once here instead of in every chunk
        from ..neurons._params import check_run

        simulate, dt_eff, method_eff = model._rate_curve_setup(1, dt, method)
        check_run(1, duration_ms, dt_eff, np.float64, bytes_per_neuron=1)
        simulate(model, 1, 0.0, dt_eff, I=I, method=method_eff, seed=0, backend="cpu", **kwargs)
        self.model, self.I, self.backend = model, I, backend
        self.options = dict(duration=duration, dt=dt, transient=transient, method=method, **kwargs)
        numeric = getattr(type(model), "numeric_fields", None)
        self.fields = tuple(numeric() if callable(numeric) else (f.name for f in dataclasses.fields(model)))

    @property
    def __name__(self):
        return f"PopulationRates({type(self.model).__name__})"

    @property
    def __signature__(self):
        P = inspect.Parameter
        params = [P("I", P.KEYWORD_ONLY, default=None), P("seed", P.KEYWORD_ONLY, default=None)]
        params += [P(f, P.KEYWORD_ONLY, default=None) for f in self.fields]
        return inspect.Signature(params)

    def __call__(self, *, I=None, seed=None, **fields):
        from ..neurons import firing_rate_curve

        unknown = sorted(set(fields) - set(self.fields))
        if unknown:
            raise ValueError(f"unknown model field(s) {unknown}; {type(self.model).__name__} has {list(self.fields)}")
        fields = {k: _numbers(v, k) for k, v in fields.items()}
        given = list(fields.values()) if I is None else [_numbers(I, "I"), *fields.values()]
        I = _numbers(self.I, "I") if I is None else given[0]
        sizes = {v.size for v in given}
        if len(sizes) > 1:
            raise ValueError(f"the per-point arrays have different lengths {sorted(sizes)}")
        n = sizes.pop() if sizes else 1
        model = dataclasses.replace(self.model, **fields)
        inputs = np.broadcast_to(I, (n,))
        return firing_rate_curve(model, inputs, seed=seed, backend=self.backend, **self.options)
