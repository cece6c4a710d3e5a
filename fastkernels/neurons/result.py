"""What a simulation returns: spikes as (time, neuron) pairs, counts, traces, final state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validate import as_array, check_allocation, check_positive, check_scalar


@dataclass
class SimulationResult:
    """Spikes, state traces and final state of one run.

    The spikes are also readable in Brian2's vocabulary (a result holds what a Brian2
    ``SpikeMonitor`` and ``StateMonitor`` on the whole group would); both names give the same
    arrays:

    ==========================  ======================================  ==========================
    fastkernels                 Brian2                                  what
    ==========================  ======================================  ==========================
    ``spike_times``             ``spike_mon.t`` (``t``)                 spike times, ms
    ``spike_neurons``           ``spike_mon.i`` (``i``)                 neuron of each spike
    ``(spike_neurons, ...)``    ``spike_mon.it`` (``it``)               the pair ``(i, t)``
    ``counts``                  ``spike_mon.count`` (``count``)         spikes per neuron, (n,)
    ``spike_times.size``        ``spike_mon.num_spikes``                total spikes
    ``spike_trains()``          ``spike_mon.spike_trains()``            ``{neuron: times}``, all n
    ``spike_train(i)``          ``spike_mon.spike_trains()[i]``         times of neuron ``i``
    ``trace_times``             ``state_mon.t``                         sample times, ms
    ``traces["v"]``             ``state_mon.v``                         (m, n_samples)
    ``trace_neurons``           ``state_mon.record``                    traced neurons
    ``record="v"`` (simulate)   ``StateMonitor(G, "v", record=True)``   trace ``v`` of all
    ==========================  ======================================  ==========================

    Times are plain floats in ms (Brian2's carry units: ``spike_mon.t / ms``).

    Attributes
    ----------
    spike_times : ndarray, shape (n_spikes,), float64
        Spike times in ms, sorted by time then neuron (grid methods report the
        start ``k * dt`` of the step in which the threshold was crossed, as Brian2 does;
        the event-driven LIF reports the interpolated crossing time, which rounding may put at
        the run's end ``t_start + duration`` itself when a refractory period ends there).
    spike_neurons : ndarray, shape (n_spikes,), int64
        Index of the neuron of each spike.
    n : int
        Population size.
    t_start, duration, dt : float
        First step time, simulated time and step, in ms.
    trace_neurons : ndarray, shape (m,), int64
        Neurons whose state was recorded.
    trace_times : ndarray, shape (n_rows,), float64
        Times (ms) of the recorded samples: the state at the *start* of each recorded step.
    traces : dict of str -> ndarray, shape (m, n_rows)
        ``traces["v"][j]`` is the trace of neuron ``trace_neurons[j]``; the variables are those
        ``record`` asked for (see the simulate function).
    final_state : dict of str -> ndarray
        State at the end of the run (pass as ``initial=`` to continue it).
    """

    spike_times: np.ndarray
    spike_neurons: np.ndarray
    n: int
    t_start: float
    duration: float
    dt: float
    trace_neurons: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    trace_times: np.ndarray = field(default_factory=lambda: np.empty(0))
    traces: dict = field(default_factory=dict)
    final_state: dict = field(default_factory=dict)

    @property
    def counts(self) -> np.ndarray:
        """Spikes per neuron, ``(n,)`` int64."""
        return np.bincount(self.spike_neurons, minlength=self.n).astype(np.int64, copy=False)

    # Brian2's SpikeMonitor names for the same data (see the class docstring)
    @property
    def t(self) -> np.ndarray:
        """Spike times, ms: :attr:`spike_times` under Brian2's name (``SpikeMonitor.t``, without units)."""
        return self.spike_times

    @property
    def i(self) -> np.ndarray:
        """Neuron of each spike: :attr:`spike_neurons` under Brian2's name (``SpikeMonitor.i``)."""
        return self.spike_neurons

    @property
    def it(self) -> tuple:
        """The pair ``(i, t)``, as Brian2's ``SpikeMonitor.it``."""
        return self.spike_neurons, self.spike_times

    @property
    def count(self) -> np.ndarray:
        """Spikes per neuron, ``(n,)`` int64: :attr:`counts` under Brian2's name (``SpikeMonitor.count``)."""
        return self.counts

    @property
    def num_spikes(self) -> int:
        """Total number of spikes, as Brian2's ``SpikeMonitor.num_spikes``."""
        return int(self.spike_times.size)

    @property
    def rates(self) -> np.ndarray:
        """Mean firing rate of each neuron over the run, in Hz (spikes / s), ``(n,)``; NaN for a run
        of zero duration (no time to fire in)."""
        if self.duration == 0:
            return np.full(self.n, np.nan)
        return self.counts / (self.duration * 1e-3)

    def spike_train(self, i: int) -> np.ndarray:
        """Spike times (ms) of neuron ``i``.

        Raises
        ------
        TypeError
            ``i`` not an int (floats and bools included).
        ValueError
            ``i`` outside ``[0, n)``.
        """
        i = check_scalar(i, "i", integer=True)
        if not 0 <= i < self.n:
            raise ValueError(f"neuron index i must be in [0, {self.n}), got {i}")
        return self.spike_times[self.spike_neurons == i]

    def spike_trains(self) -> dict:
        """Spike times (ms) of every neuron, ``{i: times}`` for ``i`` in ``0 .. n-1`` (an empty array
        for a silent neuron), as Brian2's ``SpikeMonitor.spike_trains()``.

        The dict is ordered by neuron: ``list(result.spike_trains().values())`` is the list of
        trains (what this method returned in fastkernels 0.1).
        """
        order = np.argsort(self.spike_neurons, kind="stable")
        splits = np.cumsum(self.counts)[:-1]
        return dict(enumerate(np.split(self.spike_times[order], splits)))

    def population_rate(self, bin_ms: float = 1.0):
        """Population rate histogram: ``(bin_centres_ms, rate_hz)``.

        The rate of a bin is ``spikes / (n * bin width)``: spikes per neuron per second
        (the seed's histogram divides by ``dt`` instead of the bin width, 10x too high at
        1 ms bins and dt = 0.1 ms; see the digest of seed 000, N11). A run of zero duration
        gives empty arrays.

        Raises
        ------
        TypeError, ValueError
            A ``bin_ms`` that is not a positive finite number, or so narrow that the bins cannot
            fit in memory (see :func:`fastkernels.neurons.population_rate`).
        """
        return population_rate(self.spike_times, self.n, self.t_start, self.t_start + self.duration, bin_ms)

    def isi(self) -> np.ndarray:
        """All inter-spike intervals (ms) pooled over neurons."""
        return np.concatenate([np.diff(s) for s in self.spike_trains().values()] or [np.empty(0)])


def population_rate(spike_times, n: int, t_start: float, t_stop: float, bin_ms: float = 1.0):
    """Population rate histogram ``(bin_centres_ms, rate_hz)``: spikes per neuron per second in each bin.

    Parameters
    ----------
    spike_times : (k,) array, ms
        Spike times (any order); those outside ``[t_start, t_stop]`` are not counted.
    n : int
        Population size.
    t_start, t_stop : float, ms
        The window, ``t_start <= t_stop`` (an empty window gives empty arrays).
    bin_ms : float, ms
        Bin width: bins start at ``t_start`` and the window is rounded to the nearest whole
        number of bins (one bin of width ``t_stop - t_start`` when that is below half a bin).

    Raises
    ------
    TypeError
        ``spike_times`` not numbers, ``n`` not an int, a scalar argument not a real number.
    ValueError
        NaN or infinite values, ``spike_times`` not 1-D, ``n < 1``, ``bin_ms <= 0``,
        ``t_stop < t_start``, more bins than fit in memory, or bins too narrow to tell apart at
        the window's magnitude in float64.
    """
    bin_ms = check_positive(bin_ms, "bin_ms")
    n = check_scalar(n, "n", integer=True, lo=1)
    t_start = check_scalar(t_start, "t_start")
    t_stop = check_scalar(t_stop, "t_stop", lo=t_start)
    times = as_array(spike_times, "spike_times", dtypes=(np.float64, np.float32, np.int64, np.int32), ndim=1,
                     finite=True)
    if t_stop == t_start:
        return np.empty(0), np.empty(0)
    bins = (t_stop - t_start) / bin_ms
    check_allocation(bins + 2, 32, "(t_stop - t_start) / bin_ms", what="bins")
    edges = np.arange(t_start, t_stop + 0.5 * bin_ms, bin_ms)
    if edges.size < 2:
        edges = np.array([t_start, t_stop])
    if not (np.diff(edges) > 0).all():
        raise ValueError(f"bin_ms = {bin_ms!r} is too narrow to tell bins apart in float64 at t_start = {t_start!r}, "
                         f"t_stop = {t_stop!r}")
    counts, edges = np.histogram(times, bins=edges)
    widths = np.diff(edges)
    return 0.5 * (edges[1:] + edges[:-1]), counts / (n * widths * 1e-3)
