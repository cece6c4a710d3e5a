"""Raster, trace and f-I plots of simulation results (matplotlib, imported on first use)."""

from __future__ import annotations

import numpy as np


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def raster(result, ax=None, *, neurons=None, ms: float = 1.0, color="k"):
    """Spike raster (time in ms against neuron index) of a :class:`SimulationResult`.

    Parameters
    ----------
    neurons : sequence of int, optional
        Only these neurons.
    Returns
    -------
    matplotlib.axes.Axes
    """
    ax = _axes(ax)
    t, i = result.spike_times, result.spike_neurons
    if neurons is not None:
        keep = np.isin(i, np.asarray(neurons))
        t, i = t[keep], i[keep]
    ax.plot(t, i, ".", ms=ms, color=color)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    ax.set_xlim(result.t_start, result.t_start + result.duration)
    return ax


def trace(result, variable: str = "v", ax=None, *, label_neurons: bool = True):
    """Recorded traces of ``variable`` (e.g. ``"v"``) against time, one line per recorded neuron."""
    if variable not in result.traces:
        raise ValueError(f"variable must be one of {sorted(result.traces)}, got {variable!r}")
    ax = _axes(ax)
    for j, i in enumerate(result.trace_neurons):
        ax.plot(result.trace_times, result.traces[variable][j], label=f"neuron {i}" if label_neurons else None)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(variable)
    if label_neurons and result.trace_neurons.size:
        ax.legend(fontsize="small")
    return ax


def fi_curve(inputs, rates, ax=None, *, analytic=None, xlabel: str = "input", label: str = "simulated"):
    """Firing rate (Hz) against input, optionally with an analytic curve ``(inputs, rates)``."""
    ax = _axes(ax)
    ax.plot(np.asarray(inputs), np.asarray(rates), "o", ms=3, label=label)
    if analytic is not None:
        ax.plot(np.asarray(analytic[0]), np.asarray(analytic[1]), "-r", label="analytic")
        ax.legend(fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate (Hz)")
    return ax
