"""Spiking neuron populations: LIF, adaptive LIF, Hodgkin-Huxley and Izhikevich models.

Each model is a parameter dataclass; ``simulate_*`` runs a population of
independent neurons with the time loop inside one compiled kernel (CPU blocks
vectorised across neurons, or one CUDA thread per neuron) and returns a
:class:`SimulationResult` with spikes as (time, neuron) pairs, optional state
traces and the final state. Units: time in ms, voltages in mV (or the seeds'
dimensionless form), HH currents in uA/cm^2.
"""

import numpy as _np

from ._driver import SimulationError
from . import plots
from .analysis import firing_rate_curve, isi_stats, lif_rate, population_rate
from .hh import HH, simulate_hh, temperature_factor
from .inputs import poisson_spike_trains
from .izhikevich import Izhikevich, simulate_izhikevich
from .lif import LIF, simulate_lif
from .result import SimulationResult

__all__ = ["HH", "Izhikevich", "LIF", "SimulationError", "SimulationResult", "firing_rate_curve", "isi_stats",
           "lif_rate", "plots", "poisson_spike_trains", "population_rate", "simulate_hh", "simulate_izhikevich",
           "simulate_lif", "temperature_factor"]


def _warmup(backend, dtype):
    """Compile the common kernels of each model, every integrator of HH and Izhikevich (called by
    :func:`fastkernels.warmup`)."""
    if backend == "cuda":
        simulate_lif(LIF(), 4, 1.0, 0.1, I=1.5, dtype=dtype, backend="cuda")
        simulate_hh(HH(), 4, 0.1, 0.01, I=10.0, dtype=dtype, backend="cuda")
        simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, dtype=dtype, backend="cuda")
        return
    for mode in ("steps", "legacy_float"):
        simulate_lif(LIF(refractory_mode=mode), 4, 1.0, 0.1, I=1.5, dtype=dtype, backend=backend)
    simulate_lif(LIF(), 4, 1.0, 0.1, I=_np.linspace(1, 2, 4), dtype=dtype, backend=backend)
    # One kernel per integrator (a run compiles its own method's only): warm each.
    for method in ("rk4", "euler", "exponential_euler"):
        simulate_hh(HH(), 4, 0.1, 0.01, I=10.0, method=method, dtype=dtype, backend=backend)
    for method in ("euler", "rk4"):
        simulate_izhikevich(Izhikevich(), 4, 1.0, 0.1, I=10.0, method=method, dtype=dtype, backend=backend)
