"""Spiking neuron populations: LIF, adaptive LIF, Hodgkin-Huxley and Izhikevich models.

Each model is a parameter dataclass; ``simulate_*`` runs a population of
independent neurons with the time loop inside one compiled kernel (CPU blocks
vectorised across neurons, or one CUDA thread per neuron) and returns a
:class:`SimulationResult` with spikes as (time, neuron) pairs, optional state
traces and the final state. Units: time in ms, voltages in mV (or the seeds'
dimensionless form), HH currents in uA/cm^2.
"""

from ._driver import SimulationError
from .lif import LIF, simulate_lif
from .result import SimulationResult

__all__ = ["LIF", "SimulationError", "SimulationResult", "simulate_lif"]
