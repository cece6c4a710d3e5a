"""Raster, trace and f-I plots of simulation results (matplotlib, imported on first use).

Every function validates its arguments before drawing (a refused call draws nothing) and
returns the ``matplotlib.axes.Axes`` it drew on.
"""

from __future__ import annotations

import numpy as np

from .._validate import as_array, as_index_array, check_positive

_NUMBERS = (np.float64, np.float32, np.int64, np.int32)


def _axes(ax):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots()
    return ax


def _check_ax(ax):
    if ax is not None and not (hasattr(ax, "plot") and hasattr(ax, "set_xlabel")):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")


def _check_result(result):
    from .result import SimulationResult

    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be a fastkernels.neurons.SimulationResult, got {type(result).__name__}")


def _check_str(value, name):
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, got {type(value).__name__} {value!r}")


def raster(result, ax=None, *, neurons=None, ms: float = 1.0, color="k"):
    """Spike raster (time in ms against neuron index) of a :class:`SimulationResult`.

    Parameters
    ----------
    result : SimulationResult
    ax : matplotlib.axes.Axes, optional
        Drawn on (default: a new figure's).
    neurons : sequence of int, optional
        Only these neurons (ids in ``[0, result.n)``).
    ms : float
        Marker size (> 0).
    color : matplotlib color

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    TypeError
        ``result`` not a SimulationResult, ``ax`` not an Axes, ``neurons`` not integers,
        ``ms`` not a number.
    ValueError
        ``neurons`` out of range or not 1-D, ``ms`` not positive and finite, ``color`` not a
        matplotlib color.
    """
    _check_result(result)
    _check_ax(ax)
    if neurons is not None:
        neurons = as_index_array(neurons, "neurons", n=result.n, ndim=None)
        neurons = np.asarray(neurons).ravel()
    ms = check_positive(ms, "ms")
    from matplotlib.colors import is_color_like

    if not is_color_like(color):
        raise ValueError(f"color must be a matplotlib color, got {color!r}")
    ax = _axes(ax)
    t, i = result.spike_times, result.spike_neurons
    if neurons is not None:
        keep = np.isin(i, neurons)
        t, i = t[keep], i[keep]
    ax.plot(t, i, ".", ms=ms, color=color)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("neuron")
    if result.duration > 0:
        ax.set_xlim(result.t_start, result.t_start + result.duration)
    return ax


def trace(result, variable: str = "v", ax=None, *, label_neurons: bool = True):
    """Recorded traces of ``variable`` (e.g. ``"v"``) against time, one line per recorded neuron.

    Raises
    ------
    TypeError
        ``result`` not a SimulationResult, ``variable`` not a str, ``ax`` not an Axes,
        ``label_neurons`` not a bool.
    ValueError
        ``variable`` not one of the result's traces.
    """
    _check_result(result)
    _check_str(variable, "variable")
    if variable not in result.traces:
        raise ValueError(f"variable must be one of {sorted(result.traces)}, got {variable!r}")
    _check_ax(ax)
    if not isinstance(label_neurons, (bool, np.bool_)):
        raise TypeError(f"label_neurons must be a bool, got {label_neurons!r}")
    ax = _axes(ax)
    for j, i in enumerate(result.trace_neurons):
        ax.plot(result.trace_times, result.traces[variable][j], label=f"neuron {i}" if label_neurons else None)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel(variable)
    if label_neurons and result.trace_neurons.size:
        ax.legend(fontsize="small")
    return ax


def _curve(x, y, xname, yname):
    x = as_array(x, xname, dtypes=_NUMBERS)
    y = as_array(y, yname, dtypes=_NUMBERS)
    if x.ndim > 1 or y.ndim > 1 or np.size(x) != np.size(y):
        raise ValueError(f"{xname} and {yname} must be 1-D of the same length, got shapes {x.shape} and {y.shape}")
    return np.atleast_1d(x), np.atleast_1d(y)


def fi_curve(inputs, rates, ax=None, *, analytic=None, xlabel: str = "input", label: str = "simulated"):
    """Firing rate (Hz) against input, optionally with an analytic curve ``(inputs, rates)``.

    NaN rates (e.g. from :func:`isi_stats` with too few spikes) are left as gaps.

    Raises
    ------
    TypeError
        Non-numeric ``inputs``/``rates``, ``analytic`` not a pair of arrays, ``ax`` not an Axes,
        ``xlabel``/``label`` not strings.
    ValueError
        ``inputs`` and ``rates`` (or the two arrays of ``analytic``) not 1-D of one length.
    """
    inputs, rates = _curve(inputs, rates, "inputs", "rates")
    if analytic is not None:
        if not isinstance(analytic, (tuple, list)) or len(analytic) != 2:
            raise TypeError(f"analytic must be a pair (inputs, rates) of arrays, got {type(analytic).__name__}")
        analytic = _curve(analytic[0], analytic[1], "analytic[0]", "analytic[1]")
    _check_ax(ax)
    _check_str(xlabel, "xlabel")
    _check_str(label, "label")
    ax = _axes(ax)
    ax.plot(inputs, rates, "o", ms=3, label=label)
    if analytic is not None:
        ax.plot(analytic[0], analytic[1], "-r", label="analytic")
        ax.legend(fontsize="small")
    ax.set_xlabel(xlabel)
    ax.set_ylabel("rate (Hz)")
    return ax

