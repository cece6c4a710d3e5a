"""Synapse groups and the :class:`Network` that runs groups, synapses and monitors together.

In the spirit of Brian2 without its equation strings (Brian2's ``examples/CUBA.py``)::

    lif = LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0)
    G = NeuronGroup(4000, lif, receptors={"ge": Current(5.0), "gi": Current(10.0)}, v0=v0)
    Ce = bernoulli(4000, 4000, 0.02, condition=lambda i, j: i < 3200, weight=1.62, seed=1)
    Ci = bernoulli(4000, 4000, 0.02, condition=lambda i, j: i >= 3200, weight=-9.0, seed=2)
    M = SpikeMonitor(G)
    net = Network(G, Synapses(G, G, Ce, on_pre="ge"), Synapses(G, G, Ci, on_pre="gi"), M)
    net.run(1000.0)

A run is one compiled call per chunk of steps (:mod:`._network_kernels`): the neuron update is
the population engine's own LIF step code, the propagation a CSR scatter in a fixed order.
Every state is a NumPy array the user may read and change between runs: ``G.v``, ``G.g[name]``,
``S.weight`` (the projection's :class:`~.connectivity.Connectivity`), ``S.delay``.
"""

from __future__ import annotations

import numba
import numpy as np

from .._backend import check_backend, resolve_backend
from .._progress import check_progress
from .._random import resolve_seed
from .._validate import check_dtype, check_positive
from ..neurons._params import MAX_STEP
from ._plan import Plan
from .groups import SOURCES, NeuronGroup
from .monitors import PopulationRateMonitor, SpikeMonitor, StateMonitor
from .synapses import Synapses

__all__ = ["Network", "Synapses"]

#: ``backend="auto"`` runs on threads from this many neurons: below it the two parallel regions
#: a step cost about what they save (CUBA on 2 threads against 1, AVX2: 8.1 against 7.8 us a step
#: at 4000 neurons, 13.1 against 17.2 at 8000, 52 against 89 at 40 000).
PARALLEL_MIN_NEURONS = 8000


_KINDS = (NeuronGroup, *SOURCES, Synapses, SpikeMonitor, StateMonitor, PopulationRateMonitor)


class Network:
    """Groups, synapses and monitors simulated together; :meth:`run` may be called again to continue.

    Parameters
    ----------
    *objects
        NeuronGroup, SpikeGeneratorGroup, PoissonGroup, Synapses and monitor objects (more with :meth:`add`).
    dt : float, ms
        Time step (> 0), default 0.1 ms.
    dtype : {float64, float32}
        Working precision of the state, the weights and the delay ring (float32: twice the SIMD
        lanes; spike times stay float64). The groups' arrays stay float64 between runs.
    seed : None, int or numpy.random.Generator
        Key of the noise and Poisson-input streams (neuron ``i`` of the network, counting groups
        in the order they were added, uses stream ``i``, counter ``step``): the same seed gives
        the same run on every backend and thread count, and a continued run draws on.

    Attributes
    ----------
    t : float, ms
        Time reached (``step * dt``).
    step : int
        Steps run so far.
    """

    def __init__(self, *objects, dt=0.1, seed=None, dtype=np.float64):
        self.dt = check_positive(dt, "dt")
        self.dtype = check_dtype(dtype)
        self._key = resolve_seed(seed)
        self.objects = []
        self.step = 0
        self._pending = None  # (ring, step): delayed effects not yet delivered
        self.add(*objects)

    @property
    def t(self) -> float:
        return self.step * self.dt

    def add(self, *objects) -> None:
        """Add objects (groups, synapses, monitors); each may be added once."""
        for q, obj in enumerate(objects):
            if not isinstance(obj, _KINDS):
                raise TypeError(f"a Network holds groups, synapses and monitors, got {type(obj).__name__}")
            if any(obj is o for o in self.objects):
                raise ValueError(f"{obj!r} is already in the network")
            if any(obj is o for o in objects[:q]):
                raise ValueError(f"{obj!r} is given twice; each object may be added once")
        self.objects.extend(objects)

    def _of(self, kind):
        return [o for o in self.objects if isinstance(o, kind)]

    # ------------------------------------------------------------------ run
    def run(self, duration, *, backend="auto", progress="auto"):
        """Advance the network by ``duration`` ms (``round(duration / dt)`` steps).

        Parameters
        ----------
        duration : float, ms
            ``> 0``.
        backend : {"auto", "cpu", "parallel", "cuda"}
            ``"parallel"`` runs each step on threads, each owning a contiguous range of neurons
            (their update, then the synaptic effects onto them, in a fixed order: the result is
            the same for any thread count). ``"cuda"`` runs the whole call on the GPU
            (LIF, HH or Izhikevich groups; :mod:`._network_cuda`: a thread per neuron, a warp per spiking source's
            synapse row with atomic adds, STDP on the device; spikes come back in the CPU's
            order, states equal to rounding). ``"auto"``: the CPU, parallel from
            :data:`PARALLEL_MIN_NEURONS` neurons (it never picks the GPU: the per-step kernel
            launches are not yet measured against the CPU loop).
        progress : "auto", bool
            A text progress bar on stderr: always, never, or when the run is estimated to take
            more than :data:`fastkernels._progress.PROGRESS_AFTER_S` seconds.

        Raises
        ------
        ValueError
            Bad ``duration`` (or one that takes the network past 2**53 steps), a synapse or monitor
            whose group is not in the network, a group state changed to a wrong shape, dtype or
            non-finite value (or deleted), a negative delay, a delay ring beyond memory,
            groups whose LIF models differ in ``freeze_refractory`` or ``refractory_mode``.
        SimulationError
            A neuron's state became NaN or ran away; the network is left as before the call.
        """
        duration = check_positive(duration, "duration")
        steps = duration / self.dt  # a Python float: inf, not an error, when it overflows
        if not self.step + steps <= MAX_STEP:
            raise ValueError(f"duration = {duration!r} ms is {steps:.4g} steps of dt = {self.dt!r} ms; a network runs "
                             f"at most {MAX_STEP:.4g} steps in all (it has run {self.step})")
        n_steps = int(round(steps))
        if n_steps < 1:
            raise ValueError(f"duration must be at least half a step (dt = {self.dt} ms), got {duration}")
        check_backend(backend)
        check_progress(progress)
        plan = Plan(self)
        if backend == "cuda":
            resolve_backend("cuda")  # BackendUnavailableError without a usable GPU
        if backend == "auto":
            backend = "parallel" if plan.n >= PARALLEL_MIN_NEURONS and numba.get_num_threads() > 1 else "cpu"
        times, ids, traces = plan.execute(self.step, self.step + n_steps, backend, progress)
        plan.commit(self.step, self.step + n_steps, times, ids, traces)
        self.step += n_steps
        self._pending = (plan.ring, self.step) if plan.ring.shape[0] > 1 and plan.ring.any() else None
