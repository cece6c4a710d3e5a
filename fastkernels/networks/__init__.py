"""Spiking networks: synapse storage, connectivity rules, groups, synapses, monitors and ``Network.run``.

:class:`Connectivity` stores one projection's synapses by presynaptic neuron (CSR: int64 row
starts, int32 postsynaptic ids, float32/float64 weights, optional delays in ms). It is built on
the host, once, by :meth:`Connectivity.from_dense`, :meth:`Connectivity.from_arrays` or a rule:
:func:`all_to_all`, :func:`one_to_one`, :func:`neighbourhood`, :func:`bernoulli`,
:func:`fixed_out_degree`, :func:`fixed_in_degree`, :func:`gaussian_distance`; every simulation
backend reads the same structure. Random rules are reproducible: a seed gives the same synapses
on every backend and thread count.

A :class:`Network` runs :class:`NeuronGroup` s (LIF neurons with :class:`Current` receptors),
:class:`SpikeGeneratorGroup` s and :class:`PoissonGroup` s (sources), :class:`Synapses` (``on_pre``: jump ``v`` or a receptor, with
per-synapse delays) and monitors (:class:`SpikeMonitor`, :class:`StateMonitor`,
:class:`PopulationRateMonitor`) in one compiled loop, in Brian2's per-step order.
"""

from .connectivity import MAX_NEURONS, Connectivity
from .groups import Conductance, Current, NeuronGroup, PoissonGroup, SpikeGeneratorGroup
from .monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from .network import Network
from .rules import (
    all_to_all,
    bernoulli,
    fixed_in_degree,
    fixed_out_degree,
    gaussian_distance,
    neighbourhood,
    one_to_one,
)
from .stdp import STDP
from .synapses import Synapses

__all__ = ["MAX_NEURONS", "Conductance", "Connectivity", "Current", "Network", "NeuronGroup", "PoissonGroup",
           "PopulationRateMonitor", "STDP", "SpikeGeneratorGroup", "SpikeMonitor", "StateMonitor", "Synapses", "all_to_all", "bernoulli",
           "fixed_in_degree", "fixed_out_degree", "gaussian_distance", "neighbourhood", "one_to_one"]


def _warmup(backend, dtype):
    """Compile the connectivity kernels and the ``Network.run`` kernels of the two benchmark
    networks' kinds (CUBA: two current receptors, exact; COBA: two conductance receptors, Euler;
    uniform LIF parameters), each run for 1 ms on 8 neurons (called by :func:`fastkernels.warmup`).
    Building runs on the host and ``Network.run`` has no CUDA kernel, so ``"cuda"`` has nothing to
    compile here yet."""
    if backend == "cuda":
        return
    import numpy as np

    from ..neurons import LIF

    conn = bernoulli(8, 8, 0.5, seed=0, dtype=dtype, backend=backend)
    fixed_out_degree(8, 8, 3, seed=0, dtype=dtype, backend=backend)
    fixed_in_degree(8, 8, 3, seed=0, dtype=dtype, backend=backend)
    gaussian_distance(np.arange(8.0), sigma=2.0, p_max=0.5, weight_sigma=2.0, seed=0, dtype=dtype, backend=backend)
    model = LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0)
    for receptors, method in (({"ge": Current(5.0), "gi": Current(10.0)}, "exact"),
                              ({"ge": Conductance(5.0, 0.0), "gi": Conductance(10.0, -80.0)}, "euler")):
        G = NeuronGroup(8, model, receptors=receptors, v0=-49.5, method=method)
        net = Network(G, Synapses(G, G, conn, on_pre="ge"), Synapses(G, G, conn, on_pre="gi"), SpikeMonitor(G),
                      dtype=dtype)
        net.run(1.0, backend=backend, progress=False)
