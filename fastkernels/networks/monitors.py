"""Monitors: what a :class:`~.network.Network` records of its groups while it runs.

Each monitor accumulates over successive ``Network.run`` calls, as Brian2's do:

* :class:`SpikeMonitor`: every spike of a group, ``t`` (ms) and ``i`` (index in the group),
  ordered by step then index;
* :class:`StateMonitor`: ``v`` and the receptors of chosen neurons, sampled at the start of
  every ``every``-th step (Brian2's ``when="start"``);
* :class:`PopulationRateMonitor`: a group's population rate per step (Hz).
"""

from __future__ import annotations

import math

import numpy as np

from .._validate import INT64_MAX, check_positive, check_scalar
from ..neurons._params import as_record
from .groups import SOURCES, NeuronGroup

__all__ = ["PopulationRateMonitor", "SpikeMonitor", "StateMonitor"]


def _check_source(group, kinds=(NeuronGroup, *SOURCES)):
    if not isinstance(group, kinds):
        names = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"group must be a {names}, got {type(group).__name__}")
    return group


class SpikeMonitor:
    """Records every spike of ``group``, with Brian2's ``SpikeMonitor`` names.

    Attributes
    ----------
    t : ndarray, float64, ms
        Spike times.
    i : ndarray, int64
        Index of the spiking neuron in its group.
    it : tuple
        The pair ``(i, t)``.
    count : ndarray, int64, shape (n,)
        Spikes per neuron.
    num_spikes : int
        Spikes recorded.
    """

    def __init__(self, group):
        self.group = _check_source(group)
        self._t, self._i = [], []

    def _add(self, t, i):
        self._t.append(t)
        self._i.append(i)

    @property
    def t(self) -> np.ndarray:
        return np.concatenate(self._t) if self._t else np.empty(0)

    @property
    def i(self) -> np.ndarray:
        return np.concatenate(self._i) if self._i else np.empty(0, dtype=np.int64)

    @property
    def it(self) -> tuple:
        return self.i, self.t

    @property
    def count(self) -> np.ndarray:
        return np.bincount(self.i, minlength=self.group.n).astype(np.int64)

    @property
    def num_spikes(self) -> int:
        return int(sum(a.size for a in self._i))

    def spike_trains(self) -> dict:
        """Spike times (ms) of every neuron of the group, ``{index: times}`` for ``index`` in
        ``0 .. n-1`` (an empty array for a silent neuron), as Brian2's ``SpikeMonitor.spike_trains()``."""
        t, i = self.t, self.i
        order = np.argsort(i, kind="stable")
        splits = np.cumsum(np.bincount(i, minlength=self.group.n))[:-1]
        return dict(enumerate(np.split(t[order], splits)))


class StateMonitor:
    """Samples ``v`` and the receptors of some neurons of ``group``.

    Parameters
    ----------
    group : NeuronGroup
    record : True, int or sequence of int
        Neurons to record (True: all).
    every : int
        Sample every ``every``-th step (>= 1).

    Attributes
    ----------
    t : ndarray, float64, ms
        Sample times.
    v : ndarray, float64, shape (n_recorded, n_samples)
        Membrane potential; each receptor likewise in :attr:`values` (and as an attribute of its name).
    record : ndarray of int64
        The recorded neurons (sorted).
    """

    def __init__(self, group, record=True, *, every=1):
        self.group = _check_source(group, (NeuronGroup,))
        self.record = as_record(record, group.n)
        self.every = check_scalar(every, "every", integer=True, lo=1, hi=INT64_MAX)
        self._t, self._x = [], []

    @property
    def variables(self) -> tuple:
        return ("v",) + tuple(self.group.receptors)

    def _add(self, t, x):
        self._t.append(t)
        self._x.append(x)

    @property
    def t(self) -> np.ndarray:
        return np.concatenate(self._t) if self._t else np.empty(0)

    @property
    def values(self) -> dict:
        """``{variable: (n_recorded, n_samples) array}``."""
        if not self._x:
            return {name: np.empty((self.record.size, 0)) for name in self.variables}
        x = np.concatenate(self._x, axis=2)
        return {name: x[r] for r, name in enumerate(self.variables)}

    def __getattr__(self, name):
        if name.startswith("_") or name in ("group", "record", "every"):
            raise AttributeError(name)
        values = self.values
        if name in values:
            return values[name]
        raise AttributeError(f"StateMonitor has no attribute {name!r} (recorded: {', '.join(values)})")


class PopulationRateMonitor:
    """The population rate of ``group`` per step: ``spikes in the step / (n dt)``, in Hz.

    Attributes
    ----------
    t : ndarray, float64, ms
        Step times.
    rate : ndarray, float64, Hz
    """

    def __init__(self, group):
        self.group = _check_source(group)
        self._t, self._r = [], []

    def _add(self, t, r):
        self._t.append(t)
        self._r.append(r)

    @property
    def t(self) -> np.ndarray:
        return np.concatenate(self._t) if self._t else np.empty(0)

    @property
    def rate(self) -> np.ndarray:
        return np.concatenate(self._r) if self._r else np.empty(0)

    def smooth_rate(self, width: float) -> np.ndarray:
        """The rate smoothed by a flat window of ``width`` ms (Brian2's ``smooth_rate(window="flat")``)."""
        width = check_positive(width, "width")
        t, rate = self.t, self.rate
        n = rate.size
        if n < 2:
            return rate.copy()
        w = width / float(t[1] - t[0])  # a Python float: inf, not a warning, when it overflows
        if not w < 2 * n + 1:  # every window holds the whole recording (and the zeros around it)
            k = float(round(w) | 1) if math.isfinite(w) else math.inf  # odd, as below
            return np.full(n, float(rate.sum()) / k)
        k = max(1, int(round(w)))
        k += 1 - k % 2  # odd, centred
        if k <= n:
            return np.convolve(rate, np.ones(k) / k, mode="same")
        # a window longer than the recording: the centred n values of the full convolution (numpy's
        # mode="same" would return k of them)
        return np.convolve(rate, np.ones(k) / k, mode="full")[(k - 1) // 2:(k - 1) // 2 + n]
