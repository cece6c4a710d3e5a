"""Rates, tuning curves and spike-train statistics."""

from __future__ import annotations

import numpy as np

from .._validate import as_array, check_positive, check_scalar
from ._params import check_common, per_neuron
from .result import SimulationResult, population_rate  # noqa: F401  (population_rate: re-exported)


def lif_rate(drive, tau_m: float = 20.0, tau_ref: float = 2.0, threshold: float = 1.0, reset: float = 0.0):
    """Analytic steady-state rate of the LIF (the lecture notes' tuning curve ``G``), in Hz.

    ``G(v) = 1 / (tau_ref + tau_m ln((v - reset) / (v - threshold)))`` for a constant drive
    ``v = v_rest + R I`` above threshold, else 0; with ``reset = 0`` and ``threshold = 1`` this is
    the notes' ``1 / (tau_ref - tau_m ln(1 - 1/v))``.

    Parameters
    ----------
    drive : float or array
        Asymptotic potential ``v_rest + R I`` (units of ``v``).
    tau_m, tau_ref : float, ms
    threshold, reset : float
        Same units as ``drive``; ``reset < threshold``.

    Returns
    -------
    ndarray
        Rate in Hz, the shape of ``drive`` (0 below threshold; an interspike interval beyond
        float64's range gives 0 Hz, its limit).

    Raises
    ------
    TypeError
        ``drive`` not numbers (bool, str, complex, object arrays), a scalar argument not a real number.
    ValueError
        NaN or infinite values, ``tau_m <= 0``, ``tau_ref < 0``, ``reset >= threshold``.
    """
    tau_m = check_positive(tau_m, "tau_m")
    tau_ref = check_scalar(tau_ref, "tau_ref", lo=0)
    threshold = check_scalar(threshold, "threshold")
    reset = check_scalar(reset, "reset", hi=threshold, hi_open=True)
    v = np.asarray(as_array(drive, "drive", dtypes=(np.float64, np.float32, np.int64, np.int32), finite=True),
                   dtype=np.float64)
    out = np.zeros_like(v)
    fire = v > threshold
    vf = v[fire]
    with np.errstate(over="ignore", invalid="ignore"):
        ratio = (vf - reset) / (vf - threshold)
        # A ratio (or difference) beyond float64's range, near 1e308 or a drive a hair above
        # threshold: the difference of the logarithms of the halved differences instead.
        wide = ~np.isfinite(ratio)
        log_ratio = np.log(np.where(wide, 1.0, ratio))
        if wide.any():
            w = vf[wide]
            log_ratio[wide] = np.log(w / 2 - reset / 2) - np.log(w / 2 - threshold / 2)
        out[fire] = 1000.0 / (tau_ref + tau_m * log_ratio)
    return out


def isi_stats(result) -> dict:
    """Inter-spike-interval statistics of a :class:`~fastkernels.neurons.SimulationResult`.

    Returns
    -------
    dict
        ``mean_isi`` (ms, per neuron, NaN with < 2 spikes), ``cv`` (coefficient of variation
        per neuron), ``rate_isi`` (Hz, 1000 / mean ISI) and ``pooled`` (all ISIs, ms).

    Raises
    ------
    TypeError
        ``result`` not a :class:`~fastkernels.neurons.SimulationResult`.
    """
    if not isinstance(result, SimulationResult):
        raise TypeError(f"result must be a fastkernels.neurons.SimulationResult, got {type(result).__name__}")
    trains = result.spike_trains()
    mean = np.full(result.n, np.nan)
    cv = np.full(result.n, np.nan)
    for i, s in trains.items():
        if s.size >= 2:
            d = np.diff(s)
            mean[i] = d.mean()
            cv[i] = d.std() / d.mean() if d.size >= 2 and d.mean() > 0 else np.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = 1000.0 / mean
    return {"mean_isi": mean, "cv": cv, "rate_isi": rate, "pooled": result.isi()}


def firing_rate_curve(model, inputs, *, duration: float = 1000.0, dt: float | None = None, transient: float = 0.0,
                      method: str | None = None, seed=None, backend: str = "auto", **kwargs):
    """Firing rate against input (the f-I or tuning curve): one neuron per input value, simulated in parallel.

    Parameters
    ----------
    model : LIF, HH or Izhikevich
        Model parameters (scalars).
    inputs : (k,) array
        Input values ``I`` (the model's input units: uA/cm^2 for HH); neuron ``i`` receives
        ``inputs[i]`` for the whole run.
    duration : float, ms
        Simulated time per neuron.
    dt : float, ms, optional
        Time step; default 0.1 ms for LIF and Izhikevich, 0.01 ms for HH.
    transient : float, ms
        Spikes before this time are ignored (let the state settle; HH and Izhikevich
        neurons start from rest and adapt).
    method : str, optional
        Integrator. Defaults: LIF ``"event"`` when deterministic and frozen while refractory
        (exact rates at any ``dt``), else ``"exact"``; HH ``"rk4"`` for ``dt <= 0.025`` ms,
        else ``"exponential_euler"`` (RK4 is unstable at coarser steps); Izhikevich ``"euler"``.
    **kwargs
        Passed to the simulator (``v0``, ``dtype``, ...).

    Returns
    -------
    ndarray, shape (k,)
        Rates in Hz over ``[transient, duration)``.

    Raises
    ------
    TypeError
        ``model`` not an LIF, HH or Izhikevich; ``inputs`` not numbers; an unknown keyword in
        ``kwargs``; any wrong type the simulator refuses (named).
    ValueError
        ``inputs`` empty, not 1-D, NaN or infinite; ``duration <= 0``; ``transient`` negative or
        not shorter than ``duration``; any bad value the simulator refuses (named).
    SimulationError
        As the simulator raises it.
    """
    setup = getattr(model, "_rate_curve_setup", None)
    if isinstance(model, type) or not callable(setup):
        raise TypeError(f"model must be a fastkernels.neurons LIF, HH or Izhikevich, got {type(model).__name__}")
    check_common(seed, backend)
    inputs = as_array(inputs, "inputs", dtypes=(np.float64, np.float32, np.int64, np.int32), finite=True)
    if inputs.ndim > 1:
        raise ValueError(f"inputs must be a scalar or 1-D, got shape {inputs.shape}")
    if inputs.size == 0:
        raise ValueError("inputs must hold at least one input value")
    inputs = per_neuron(np.atleast_1d(inputs), "inputs", inputs.size)
    transient = check_scalar(transient, "transient", lo=0)
    duration = check_positive(duration, "duration")
    if transient >= duration:
        raise ValueError(f"transient ({transient} ms) must be shorter than duration ({duration} ms)")
    # Each model class says which simulator runs it and its defaults (dt, method): the models
    # sit above this module, so it never imports them.
    simulate, dt, method = setup(inputs.size, dt, method)
    # A model that counts without recording (the LIF's grid methods on the CPU) skips the spike
    # buffers and their sort, the serial tail of a recorded run.
    counter = getattr(model, "_rate_counts", None)
    counts = None if counter is None else counter(inputs.size, duration, dt, I=inputs, transient=transient,
                                                  method=method, seed=seed, backend=backend, **kwargs)
    if counts is None:
        res = simulate(model, inputs.size, duration, dt, I=inputs, method=method, seed=seed, backend=backend, **kwargs)
        keep = res.spike_times >= res.t_start + transient
        counts = np.bincount(res.spike_neurons[keep], minlength=inputs.size)
    return counts / ((duration - transient) * 1e-3)
