"""A ready-made vectorized sweep function: the firing rate of one neuron per grid point."""

from __future__ import annotations

import dataclasses
import inspect

import numpy as np


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
        ``model`` not a neuron model instance.
    ValueError
        ``backend`` "cuda" or "auto" (the CUDA kernels ignore the neuron offset a chunk runs under).
    """

    __fastkernels_vectorized__ = True

    def __init__(self, model, *, I=0.0, duration=1000.0, dt=None, transient=0.0, method=None, backend="cpu",
                 **kwargs):
        if isinstance(model, type) or not callable(getattr(model, "_rate_curve_setup", None)) \
                or not dataclasses.is_dataclass(model):
            raise TypeError(f"model must be a fastkernels.neurons LIF, HH or Izhikevich, got {type(model).__name__}")
        if backend not in ("cpu", "parallel"):
            raise ValueError(f"backend must be 'cpu' or 'parallel' for a sweep (the CUDA kernels do not take a "
                             f"neuron offset), got {backend!r}")
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
        sizes = {np.size(v) for v in [I, *fields.values()] if v is not None}
        if len(sizes) > 1:
            raise ValueError(f"the per-point arrays have different lengths {sorted(sizes)}")
        n = sizes.pop() if sizes else 1
        model = dataclasses.replace(self.model, **{k: np.asarray(v, dtype=np.float64) for k, v in fields.items()})
        inputs = np.broadcast_to(np.asarray(self.I if I is None else I, dtype=np.float64), (n,))
        return firing_rate_curve(model, inputs, seed=seed, backend=self.backend, **self.options)
