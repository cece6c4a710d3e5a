"""What a simulation returns: spikes as (time, neuron) pairs, counts, traces, final state."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class SimulationResult:
    """Spikes, state traces and final state of one run.

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
        ``traces["v"][j]`` is the trace of neuron ``trace_neurons[j]``.
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
        return np.bincount(self.spike_neurons, minlength=self.n)

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
        from .._validate import check_scalar

        i = check_scalar(i, "i", integer=True)
        if not 0 <= i < self.n:
            raise ValueError(f"neuron index i must be in [0, {self.n}), got {i}")
        return self.spike_times[self.spike_neurons == i]

    def spike_trains(self) -> list:
        """One array of spike times (ms) per neuron."""
        order = np.argsort(self.spike_neurons, kind="stable")
        splits = np.cumsum(self.counts)[:-1]
        return np.split(self.spike_times[order], splits)

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
        from .analysis import population_rate

        return population_rate(self.spike_times, self.n, self.t_start, self.t_start + self.duration, bin_ms)

    def isi(self) -> np.ndarray:
        """All inter-spike intervals (ms) pooled over neurons."""
        return np.concatenate([np.diff(s) for s in self.spike_trains()] or [np.empty(0)])
