"""Hodgkin-Huxley populations: RK4, forward Euler (Euler-Maruyama with noise) and exponential Euler.

Model (per neuron; V in mV, t in ms, currents in uA/cm^2, conductances in mS/cm^2,
capacitance in uF/cm^2)::

    C_m dV/dt = I(t) - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) + sigma xi(t)
    dx/dt     = phi (alpha_x(u) (1 - x) - beta_x(u) x),   x in {m, h, n},   u = V + V_shift

with the rate functions (1/ms) of the modern convention (Dayan & Abbott 2001; Gerstner et al.,
*Neuronal Dynamics*; rest -65 mV)::

    alpha_m = 0.1 (u + 40) / (1 - exp(-(u + 40)/10))     beta_m = 4 exp(-(u + 65)/18)
    alpha_h = 0.07 exp(-(u + 65)/20)                      beta_h = 1 / (1 + exp(-(u + 35)/10))
    alpha_n = 0.01 (u + 55) / (1 - exp(-(u + 55)/10))    beta_n = 0.125 exp(-(u + 65)/80)

``alpha_m`` and ``alpha_n`` have removable singularities at u = -40 and -55 mV (limits 1.0 and
0.1 per ms). Both are written as ``x / (1 - exp(-x))`` (the reciprocal of ``exprel(-x)``),
evaluated with a branch-free select between the closed form and its Taylor series
``1 + x/2 + x^2/12 - x^4/720 + x^6/30240 - x^8/1209600`` for ``|x| < 0.1``: exact at the
singular voltages, relative error below 2e-14 everywhere (tested against NumPy). The kernels
evaluate all six rates with two exponentials and one division (:func:`rates`). The 1952
convention (voltages measured from rest, rest 0 mV) is the same model shifted by 65 mV:
:meth:`HH.hh1952` sets ``V_shift = -65`` so the same rate code serves both.

Integrators (``dt`` in ms; the input is held constant over a step):

* ``rk4``: classic fourth-order Runge-Kutta on the 4-D system (the reference: the digest's
  table was computed with it at ``dt = 0.01`` ms).
* ``euler``: forward Euler; with ``sigma > 0`` it is Euler-Maruyama,
  ``V += dt/C_m (...) + sigma sqrt(dt)/C_m N(0, 1)`` (one stream per neuron).
* ``exponential_euler``: Rush-Larsen. Each gate relaxes exactly towards ``x_inf`` with
  ``tau_x = 1/(phi (alpha_x + beta_x))`` at the voltage of the step start, and ``V`` relaxes
  exactly towards the reversal potential of the total conductance (the gates held), as
  Brian2's ``exponential_euler`` does. Both are written ``x + dt f (1 - exp(-z)) / z`` with
  ``z = dt / tau`` (a Taylor series for small ``z``), finite when a conductance is 0. First
  order, but stable at ``dt = 0.1`` ms, where RK4 and Euler blow up (``SimulationError``).

Spikes are upward crossings of ``V_threshold``: a spike is recorded in step ``k`` when
``V(k dt) <= V_threshold < V((k+1) dt)``, with the time ``k dt`` of the *step start* (Brian2's
convention for grid methods; the crossing itself lies in ``[k dt, (k+1) dt)``). HH needs no
reset or refractory period: the dynamics produce both.

The equations and step loops live in :mod:`fastkernels.neurons._hh_kernels` (re-exported here);
the population engine (:mod:`fastkernels.neurons._engine`) runs them: time loop outside, a
branch-free loop across a block of neurons inside, vectorised by LLVM; ``exp`` is the
vectorisable polynomial of :mod:`fastkernels._exp`. One compiled kernel per working dtype serves
every method and option (they are run-time arguments, branched on once per block and step).
The CUDA kernel runs the same step function (cloned with the hardware ``exp``: ``exp_poly``
does not compile for CUDA) in one thread per neuron.

Precision: ``dtype=float64`` (the default) integrates in float64; ``dtype=float32`` keeps the
state, the parameters, the input and every operation of the step in float32 (twice the SIMD
lanes: about twice as fast on the CPU; see :mod:`fastkernels.neurons._hh_kernels` for the few
float32-specific clamps). Derived coefficients (``1/C_m``, ``sigma/sqrt(dt)``) are computed in
float64 and rounded once; ``dt`` is rounded once (``dt/2`` and ``dt/6`` are then formed in
float32); the noise draws come from the float64 stream (the same draws as a float64 run); spike
and trace times stay float64 ``k dt``. Firing rates agree with float64 to within one spike per
neuron on the reference cases (the digest's table and f-I curves reproduce exactly), ``V`` to
~1e-2 mV over the first spikes, but spike times may drift apart by a step over long runs. The
float32 rates are finite for ``V + V_shift`` above about -1630 mV (float64: -2000 mV); beyond,
a float32 run raises SimulationError.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from .._validate import as_array, check_choice, check_positive, check_scalar
from . import _params
from ._engine import Population, Run, method_kernels, simulate
from ._hh_kernels import (  # noqa: F401  (the equations, the layout and the limits, re-exported)
    DEVICE_CHAIN, EK, EL, ENA, EULER, EXP_EULER, GATE_LIMIT, GK, GL, GNA, H, IN, INVC, M, METHODS,
    MIN_BYTES_PER_NEURON, N, N_PARAMS, N_STATE, PHI, RATE_FUNCTIONS, RK4, SHIFT, SN, STATE_NAMES, TINY, U_LIMIT,
    V_LIMIT, VTH, XI, STEP_LOOPS, first_bad, loop_euler, loop_exp_euler, loop_rk4, rates_kernel, alpha_h, alpha_m,
    alpha_n, beta_h, beta_m, beta_n, conductances, cuda_rate_functions, cuda_step, derivatives, hh_step, rates,
    relax_factor, taylor_x_over_1mexp, x_over_1mexp)
from ._params import field_array, per_neuron
from .result import SimulationResult

@dataclass
class HH:
    """Hodgkin-Huxley neuron parameters (scalars, or arrays of one value per neuron).

    The defaults are the modern parameter set (Dayan & Abbott; Gerstner et al.), resting at
    -65.00 mV; :meth:`hh1952` gives Hodgkin & Huxley's original convention (rest 0 mV).

    Parameters
    ----------
    C_m : float or array, uF/cm^2
        Membrane capacitance (> 0).
    g_Na, g_K, g_L : float or array, mS/cm^2
        Maximal sodium, potassium and leak conductances (>= 0).
    E_Na, E_K, E_L : float or array, mV
        Reversal potentials.
    V_rest : float or array, mV
        Default initial potential of :func:`simulate_hh` (gates start at steady state there).
        The resting potential proper is where the currents balance: -65.00 mV for the defaults.
    V_threshold : float or array, mV
        Spike detection threshold: a spike is an upward crossing.
    V_shift : float or array, mV
        The rate functions are evaluated at ``V + V_shift`` (0 for the modern convention,
        -65 for the 1952 convention).
    phi : float or array
        Temperature factor multiplying every gate rate (> 0); ``3 ** ((T - 6.3) / 10)`` at
        T degrees Celsius, see :func:`temperature_factor`.
    sigma : float or array, uA/cm^2 ms^(1/2)
        White-noise current amplitude (>= 0): ``C_m dV = (...) dt + sigma dW``; needs
        ``method="euler"`` (Euler-Maruyama).
    """

    C_m: object = 1.0
    g_Na: object = 120.0
    g_K: object = 36.0
    g_L: object = 0.3
    E_Na: object = 50.0
    E_K: object = -77.0
    E_L: object = -54.387
    V_rest: object = -65.0
    V_threshold: object = 0.0
    V_shift: object = 0.0
    phi: object = 1.0
    sigma: object = 0.0

    @classmethod
    def modern(cls, **overrides) -> "HH":
        """The modern parameter set (rest -65 mV, spikes detected at 0 mV); same as ``HH()``."""
        return cls(**overrides)

    @classmethod
    def hh1952(cls, **overrides) -> "HH":
        """Hodgkin & Huxley's 1952 convention: V is the depolarisation from rest (rest 0 mV).

        E_Na = 115, E_K = -12, E_L = 10.613 mV, the same conductances and capacitance, rates
        shifted by 65 mV (``V_shift = -65``) and spikes detected at 65 mV (the modern 0 mV), so
        every trajectory is the modern one plus 65 mV.
        """
        base = dict(E_Na=115.0, E_K=-12.0, E_L=10.613, V_rest=0.0, V_threshold=65.0, V_shift=-65.0)
        base.update(overrides)
        return cls(**base)

    def _rate_curve_setup(self, n: int, dt, method):
        """``(simulator, dt, method)`` for :func:`~fastkernels.neurons.firing_rate_curve`: dt 0.01 ms;
        RK4 up to dt 0.025 ms, else exponential Euler (RK4 is unstable at coarser steps)."""
        dt = 0.01 if dt is None else dt
        if method is None:
            method = "rk4" if check_positive(dt, "dt") <= 0.025 else "exponential_euler"
        return simulate_hh, dt, method

    def arrays(self, n: int) -> dict:
        """Every parameter validated and broadcast to ``(n,)`` float64.

        Raises
        ------
        TypeError
            ``n`` not an int; a field that is not a number or 1-D array of numbers.
        ValueError
            ``n < 1`` or too large for memory; a NaN or infinite field, an array of another
            length than ``n``, ``C_m`` or ``phi`` <= 0, a negative conductance or ``sigma``,
            ``|V_shift|`` or ``|V_rest|`` above 1000 mV. The field is named.
        """
        n = _params.check_n(n, MIN_BYTES_PER_NEURON)
        positive = {"C_m", "phi"}
        nonneg = {"g_Na", "g_K", "g_L", "sigma"}
        return _params.model_fields(self, tuple(f.name for f in fields(self)), n, positive=positive, nonneg=nonneg,
                                    limits=_LIMITS)

    def rates(self, V):
        """Gate rates at membrane potential ``V`` (mV), in 1/ms, including ``phi`` and ``V_shift``.

        Parameters
        ----------
        V : float or array_like, mV

        Returns
        -------
        tuple of 6 ndarrays (floats for a scalar ``V`` and scalar parameters)
            ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)``, each the shape of ``V``
            (broadcast with per-neuron ``V_shift``/``phi``), computed by the kernels' own code.

        Raises
        ------
        TypeError
            ``V``, ``V_shift`` or ``phi`` not numbers (bool, str, complex, object).
        ValueError
            NaN or infinite values, ``phi <= 0``, ``V`` not broadcasting with per-neuron
            ``V_shift``/``phi``, ``|V + V_shift|`` above 2000 mV (the rate functions' accurate
            range), or a ``phi`` so large that a rate overflows.
        """
        v, shift, phi = self._broadcast(V)
        out = np.empty((6, v.size))
        rates_kernel(v.ravel(), shift.ravel(), phi.ravel(), out)
        if not np.isfinite(out).all():
            i = int(np.flatnonzero(~np.isfinite(out).all(axis=0))[0])
            raise ValueError(f"phi = {phi.ravel()[i]!r} is too large: the gate rates overflow at V = {v.ravel()[i]!r}")
        if v.ndim == 0:
            return tuple(float(x[0]) for x in out)
        return tuple(out[i].reshape(v.shape) for i in range(6))

    def steady_state(self, V):
        """Steady-state gates ``(m_inf, h_inf, n_inf)`` at ``V`` (mV): ``alpha / (alpha + beta)``."""
        am, bm, ah, bh, an, bn = self.rates(V)
        return am / (am + bm), ah / (ah + bh), an / (an + bn)

    def _broadcast(self, V):
        v = np.asarray(as_array(V, "V", dtypes=(np.float64, np.float32, np.int64, np.int32)), dtype=np.float64)
        if not np.isfinite(v).all():
            raise ValueError("V must be finite")
        shift = field_array(self.V_shift, "V_shift")
        phi = field_array(self.phi, "phi")
        if not (phi > 0).all():
            raise ValueError(f"phi must be > 0, got {phi.ravel()[np.flatnonzero(phi.ravel() <= 0)[0]]}")
        try:
            v, shift, phi = np.broadcast_arrays(v, shift, phi)
        except ValueError:
            raise ValueError(f"V of shape {v.shape} does not broadcast with the per-neuron V_shift/phi "
                             f"of shapes {shift.shape}, {phi.shape}") from None
        u = v + shift
        if not (np.abs(u) <= U_LIMIT).all():
            i = int(np.flatnonzero(~(np.abs(u) <= U_LIMIT).ravel())[0])
            raise ValueError(f"V + V_shift must lie within +-{U_LIMIT:g} mV, where the rate functions are accurate; "
                             f"got V = {v.ravel()[i]!r}, V_shift = {shift.ravel()[i]!r}")
        return v.copy(), shift.copy(), phi.copy()  # C-contiguous copies of the broadcast views


#: Magnitude limits of HH fields (mV): the initial potential within the runaway limit, and a rate
#: shift that keeps ``V + V_shift`` in the rate functions' accurate range while |V| <= V_LIMIT.
_LIMITS = {"V_rest": V_LIMIT, "V_shift": U_LIMIT - V_LIMIT}


def temperature_factor(celsius: float, q10: float = 3.0, reference: float = 6.3) -> float:
    """The gate-rate factor ``phi = q10 ** ((celsius - reference) / 10)`` (HH's squid axon: 6.3 C, Q10 = 3).

    Raises
    ------
    TypeError
        An argument that is not a real number (bools included).
    ValueError
        NaN or infinite arguments, ``q10 <= 0``, or arguments whose factor overflows float64 or
        underflows to 0 (not a usable ``phi``), naming ``celsius`` and the factor's range.
    """
    celsius = check_scalar(celsius, "celsius")
    q10 = check_scalar(q10, "q10", lo=0, lo_open=True)
    reference = check_scalar(reference, "reference")
    exponent = (celsius - reference) / 10.0
    try:
        phi = float(q10 ** exponent) if math.isfinite(exponent) else math.inf
    except OverflowError:
        phi = math.inf
    if not (0.0 < phi < math.inf):
        raise ValueError(f"celsius = {celsius!r} (reference {reference!r}, q10 {q10!r}) gives a factor "
                         f"q10 ** {exponent:.4g} outside float64's positive range (1e-308 .. 1.8e308)")
    return phi


# ------------------------------------------------------------------ API
PARAM_ORDER = ("inv_c", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "V_threshold", "V_shift", "phi", "sn")
#: What the population engine runs: state rows V, M, H, N (then the engine's XI, IN), parameter
#: rows INVC..SN, one step loop per method code, in float64 or float32. One HH update costs ~20
#: LIF updates.
POPULATION = Population("hh", METHODS, STATE_NAMES, PARAM_ORDER,
                        method_kernels("hh", STEP_LOOPS, first_bad, 4, narrow_flags=True), loops=STEP_LOOPS,
                        first_bad=first_bad, cost=20, dtypes=(np.dtype(np.float64), np.dtype(np.float32)),
                        labels={"inv_c": "C_m (1 / C_m)", "sn": "sigma and dt (the noise current)",
                                "v": "v0 or initial['v']", "m": "initial['m']", "h": "initial['h']",
                                "n": "initial['n']"})


def _initial_state(model, p, n, v0, initial):
    """Initial ``v, m, h, n`` (each ``(n,)`` float64) from ``v0`` or a previous final state (a dict
    already checked by :func:`_initial_step`), refused beyond the runaway limits."""
    if initial is not None:
        v = per_neuron(initial["v"], "initial['v']", n, limit=V_LIMIT)
    else:
        v = p["V_rest"] if v0 is None else per_neuron(v0, "v0", n, limit=V_LIMIT)
    gates = HH(V_shift=p["V_shift"], phi=p["phi"]).steady_state(v)
    state = {"v": v}
    for name, g in zip(("m", "h", "n"), gates):
        state[name] = per_neuron(initial[name], f"initial[{name!r}]", n, limit=GATE_LIMIT / 3) \
            if initial is not None and name in initial else g
    return state


def _initial_step(initial):
    if not isinstance(initial, dict) or "v" not in initial or "step" not in initial:
        raise TypeError("initial must be the final_state dict of a previous HH result (keys 'v', 'm', 'h', "
                        "'n', 'step')")
    return initial["step"]


def simulate_hh(model: HH, n: int, duration: float, dt: float = 0.01, *, I=None, v0=None, initial=None,
                method: str = "rk4", seed=None, record=None, record_every: int = 1, t_start: float = 0.0,
                dtype=np.float64, backend: str = "auto") -> SimulationResult:
    """Simulate ``n`` independent Hodgkin-Huxley neurons for ``duration`` ms.

    Parameters
    ----------
    model : HH
        Parameters (scalars or ``(n,)`` arrays).
    n : int
        Number of neurons.
    duration : float, ms
        Simulated time; a whole number of steps.
    dt : float, ms
        Time step (default 0.01 ms, the reference table's). RK4 and Euler need ``dt`` <= ~0.05 ms
        (they blow up at 0.1 ms: ``SimulationError``); exponential Euler is stable at 0.1 ms.
    I : None, float, array or callable, uA/cm^2
        Input current density: a scalar, ``(n,)`` per neuron, ``(n_steps, 1)`` shared series,
        ``(n_steps, n)`` or a function of ``t`` (ms); held constant over each step
        (see :func:`fastkernels.neurons.inputs.as_input`).
    v0 : float or (n,) array, mV, optional
        Initial potential (default ``model.V_rest``); the gates start at their steady state there.
    initial : dict, optional
        A previous result's ``final_state`` (``v``, ``m``, ``h``, ``n``, ``step``): continues
        that run (overrides ``v0`` and ``t_start``). Missing gates start at steady state.
    method : {"rk4", "euler", "exponential_euler"}
        Integrator (see the module docstring). Noise (``sigma > 0``) needs ``"euler"``.
    seed : None, int or numpy.random.Generator
        Noise seed; neuron ``i`` draws from its own stream, so results do not depend on the
        backend or thread count.
    record : None, True, int, sequence of int, str or sequence of str
        What is traced, sampled at step starts: neurons (True: all; an id or ids), every variable
        (``v``, ``m``, ``h``, ``n``); or, as Brian2's ``StateMonitor(group, "v", record=True)``, variable
        names (``"v"`` or a list of them) of every neuron. Memory goes to the variables up to the
        last one asked for, in the order above (``"v"``: one trace per neuron, not four).
    record_every : int
        Trace stride in steps.
    t_start : float, ms
        Time of the first step (inputs given as functions see ``t_start + k dt``).
    dtype : {float64, float32}
        Precision of the integration, the traces and the final state (see the module docstring):
        ``float32`` runs every operation of the step in float32, about twice as fast on the CPU,
        with firing rates within one spike per neuron of float64 on the reference cases.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    SimulationResult
        Spikes (upward crossings of ``V_threshold``, stamped with the step start ``k dt``),
        traces ``v`` (mV), ``m``, ``h``, ``n`` of shape ``(len(record), n_rows)`` and the final state.

    Raises
    ------
    TypeError
        ``model`` not an :class:`HH`; a parameter field, ``I``, ``v0``, ``n``, ``record``,
        ``record_every``, ``dtype`` or ``seed`` of the wrong type (bools, strings, objects and
        complex values are never numbers; ``record`` mixing names and ids); ``initial`` not a previous
        result's final state.
    ValueError
        Every other bad value, before anything runs, naming the argument or the parameter field:
        NaN or infinite values; ``n < 1``; ``dt <= 0``; a ``duration`` that is not a whole number
        of steps or more than 2**53 steps (``t_start`` or ``initial['step']`` beyond step
        +-2**53); per-neuron arrays of the wrong length; ``C_m``/``phi`` <= 0, negative
        conductances or ``sigma``; ``v0``, ``V_rest`` or an initial ``v`` beyond +-1000 mV, initial
        gates beyond +-333; ``|V_shift|`` above 1000 mV; noise with a method other than Euler; an
        unknown ``method``/``backend``; for ``dtype=float32``, a parameter, ``1 / C_m``,
        ``sigma / sqrt(dt)`` or input beyond float32's range (+-3.4e38); a population (``n``) or
        traces (``record`` x samples) too large for this machine's memory
        (:func:`fastkernels._validate.max_bytes`);
        ``record`` naming a variable the model does not have.
    SimulationError
        A state became NaN or ran away (|V| > 1e3 mV, e.g. RK4 or Euler at ``dt`` >= 0.1 ms, or an
        input far beyond the physiological range); names the step and the neuron.
    BackendUnavailableError
        ``backend="cuda"`` without a usable GPU.
    """
    if not isinstance(model, HH):
        raise TypeError(f"model must be a fastkernels.neurons.HH, got {type(model).__name__}")
    record, variables = _params.record_variables(record, STATE_NAMES)
    run = Run(n, duration, dt, dtype, method, METHODS, record_every, t_start, seed, backend,
              bytes_per_neuron=MIN_BYTES_PER_NEURON)
    n, dt = run.n, run.dt
    p, noisy = _parameters(model, n, method)
    run.start(None if initial is None else _initial_step(initial))
    state = _initial_state(model, p, n, v0, initial)
    # The kernels integrate in ``dtype``; derived coefficients are computed here in float64, and
    # the engine rounds them (and refuses those beyond float32's range).
    run.inputs(I, POPULATION.working_dtype(run.dtype))
    _coefficients(p, dt)
    res = simulate(POPULATION, run, p, state, noisy, record, variables=variables)
    return res if variables is None else _params.select_traces(res, variables)


def _parameters(model, n, method):
    p = model.arrays(n)
    noisy = bool((p["sigma"] > 0).any())
    if noisy and method != "euler":
        raise ValueError(f"noise (sigma > 0) needs method='euler' (Euler-Maruyama), got {method!r}")
    return p, noisy


def _coefficients(p, dt):
    with np.errstate(over="ignore", divide="ignore"):  # checked just below
        p["inv_c"] = 1.0 / p["C_m"]
        p["sn"] = p["sigma"] / math.sqrt(dt)  # noise current density held over one step
    _params.check_finite_result({"C_m (1 / C_m)": p["inv_c"], "sigma and dt (the noise current)": p["sn"]},
                                "HH coefficients")


def population_setup(model: HH, n: int, dt: float, method: str, v0=None):
    """``(p, state, noisy)`` of ``n`` neurons of ``model`` for the engine's loops (:data:`POPULATION`):
    the checked parameters with the derived coefficients, the initial ``v`` (``v0``, default
    ``V_rest``) with its steady-state gates, and whether noise is on. Shared with the network
    simulator (:mod:`fastkernels.networks`)."""
    if not isinstance(model, HH):
        raise TypeError(f"model must be a fastkernels.neurons.HH, got {type(model).__name__}")
    check_choice(method, "method", METHODS)
    p, noisy = _parameters(model, n, method)
    state = _initial_state(model, p, n, v0, None)
    _coefficients(p, dt)
    return p, state, noisy
