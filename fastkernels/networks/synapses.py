"""Synapse groups: one projection's connectivity, what a presynaptic spike does, and plasticity."""

from __future__ import annotations

import numpy as np

from .connectivity import Connectivity
from .groups import SOURCES, NeuronGroup, check_name
from .stdp import STDP

__all__ = ["Synapses"]


class Synapses:
    """The synapses of one projection from ``source`` to ``target``, what a spike does, and plasticity.

    Parameters
    ----------
    source : NeuronGroup, SpikeGeneratorGroup or PoissonGroup
    target : NeuronGroup, or a SpikeGeneratorGroup or PoissonGroup when ``on_pre`` is None
    connectivity : Connectivity
        ``n_pre == len(source)``, ``n_post == len(target)``; its ``weight`` and ``delay`` (ms,
        rounded to steps as Brian2 does, :meth:`Connectivity.delay_steps`) are read at each run.
    on_pre : str or None
        What a presynaptic spike does to the postsynaptic neuron: ``"v"`` (``v += w``) or the
        name of one of the target's receptors (``g += w``), ``delay`` steps later; None: nothing
        (a projection that only learns).
    stdp : STDP, optional
        Pair-based plasticity of the weights (:class:`~.stdp.STDP`: Brian2's ``on_pre``
        ``apre += A_pre; w = clip(w + apost, w_min, w_max)`` and ``on_post`` ``apost += A_post;
        w = clip(w + apre, ...)``, after the spike's own effect). Needs a projection without
        delays (the traces are per neuron). The weights learnt are written back into
        ``connectivity.weight`` after each run.

    Attributes
    ----------
    a_pre, a_post : ndarray, float64, shapes (n_pre,), (n_post,)
        With ``stdp``: each neuron's trace at the end of the last run (every synapse of a
        presynaptic neuron shares its ``a_pre``, every synapse onto a neuron its ``a_post``).
    """

    def __init__(self, source, target, connectivity, *, on_pre="v", stdp=None, name=None):
        if not isinstance(source, (NeuronGroup, *SOURCES)):
            raise TypeError(f"source must be a NeuronGroup, SpikeGeneratorGroup or PoissonGroup, got "
                            f"{type(source).__name__}")
        if not isinstance(target, NeuronGroup) and not (on_pre is None and isinstance(target, SOURCES)):
            raise TypeError(f"target must be a NeuronGroup (or a source group with on_pre=None), got "
                            f"{type(target).__name__}")
        if not isinstance(connectivity, Connectivity):
            raise TypeError(f"connectivity must be a fastkernels.networks.Connectivity, got "
                            f"{type(connectivity).__name__}")
        if connectivity.n_pre != source.n or connectivity.n_post != target.n:
            raise ValueError(f"connectivity is {connectivity.n_pre} x {connectivity.n_post} (pre x post) but the "
                             f"groups have {source.n} and {target.n} neurons")
        if stdp is not None and not isinstance(stdp, STDP):
            raise TypeError(f"stdp must be a fastkernels.networks.STDP, got {type(stdp).__name__}")
        key = None if on_pre is None else target.receptor_key(on_pre)
        name = check_name(name, f"synapses_{id(self):x}")
        self.key = key
        self.source, self.target, self.connectivity, self.on_pre, self.stdp = source, target, connectivity, on_pre, stdp
        self.name = name
        # plasticity state: traces and the step each was last written at (event-driven decay)
        self._x_pre, self._k_pre = np.zeros(source.n), np.zeros(source.n, dtype=np.int64)
        self._x_post, self._k_post = np.zeros(target.n), np.zeros(target.n, dtype=np.int64)
        self._step = 0

    @property
    def weight(self) -> np.ndarray:
        return self.connectivity.weight

    @weight.setter
    def weight(self, value):
        self.connectivity.weight = value

    @property
    def delay(self):
        return self.connectivity.delay

    @delay.setter
    def delay(self, value):
        self.connectivity.delay = value

    def _traces(self, x, k_last, tau, dt):
        with np.errstate(under="ignore"):
            return x * np.exp(-(self._step - k_last) * dt / tau)

    @property
    def a_pre(self) -> np.ndarray:
        return self._traces(self._x_pre, self._k_pre, self.stdp.tau_pre, self._dt) if self.stdp else np.zeros(0)

    @property
    def a_post(self) -> np.ndarray:
        return self._traces(self._x_post, self._k_post, self.stdp.tau_post, self._dt) if self.stdp else np.zeros(0)

    _dt = 0.1

    def __len__(self) -> int:
        return self.connectivity.n_synapses

    def __repr__(self) -> str:
        return f"Synapses({self.source.name} -> {self.target.name}, {len(self)} synapses, on_pre={self.on_pre!r})"
