"""Izhikevich populations: the 2003 paper's Euler scheme and RK4.

Model (Izhikevich 2003, "Simple model of spiking neurons"; v in mV, t in ms)::

    dv/dt = 0.04 v^2 + 5 v + 140 - u + I(t) + sigma xi(t)
    du/dt = a (b v - u)
    spike when v >= v_peak:  v <- c,  u <- u + d

``I`` (and ``u``) are in the model's own units, mV/ms: a constant ``I = 10`` makes the
regular-spiking preset fire tonically. Each step follows the package's schedule (update,
threshold, record the spike with the step's start time ``k dt``, reset), which is the paper's
loop order: its MATLAB code tests ``v >= 30`` at the top of the next iteration, so it labels
the same spike one step (``dt``) later.

Integrators (``dt`` in ms; the input is held constant over a step):

* ``euler``: the paper's scheme. ``v`` takes two forward-Euler half steps of ``dt/2`` ("for
  numerical stability"), then ``u += dt a (b v - u)`` with the *new* ``v``. At the paper's
  ``dt = 1`` ms this is its code line for line. With ``sigma > 0`` a noise current
  ``sigma xi / sqrt(dt)`` (``xi`` standard normal, one stream per neuron) is added to ``I``
  over the step: Euler-Maruyama, ``v`` gains ``sigma sqrt(dt) N(0, 1)``.
* ``rk4``: classic RK4 on ``(v, u)`` (deterministic only); the threshold is tested on the
  value at the end of the step, as for ``euler``.

The upstroke is a finite-time blow-up, so ``v`` may overshoot ``v_peak`` by a lot in the
step that crosses it (more so at large ``dt``); the reset discards it, but ``u``'s update in
that step sees it (as in the paper). A non-finite ``v`` or ``u``, or ``|u| > 1e9``, raises
:class:`~fastkernels.neurons.SimulationError` naming the step and the neuron.

The population engine (:mod:`fastkernels.neurons._engine`) runs it, as it runs HH: blocks of
neurons stepped with one branch-free loop (vectorised by LLVM) on the CPU, one thread per
neuron on CUDA, both calling
:func:`izh_step_euler` / :func:`izh_step_rk4`. The steps compute in the precision of their
arguments (the run's ``dtype``, float64 or float32: constants are written with
:func:`~fastkernels._precision.like`), so a float32 run is float32 throughout.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from .._jit import FASTMATH, jit, retarget, specialise
from .._simd import inline_hint, no_hint, prefer_wide_vectors
from . import _params
from .._precision import like, out_of_line_if_float32
from .._validate import check_choice
from ._engine import Population, Run, method_kernels, simulate
from ._layout import ROW
from ._params import check_finite_result, per_neuron
from .result import SimulationResult

METHODS = ("euler", "rk4")
EULER, RK4 = 0, 1
# State rows: v, u, this step's noise draw and input.
V, U, XI, IN = range(4)
N_STATE = 4
STATE_NAMES = ("v", "u")
# Parameter rows.
A, B, C, D, VPEAK, SN = range(6)
N_PARAMS = 6
#: |v| or |u| above this, or a non-finite v or u, is a runaway state.
LIMIT = 1e9
#: Bytes every run allocates per neuron at least (see :data:`fastkernels.neurons.lif.MIN_BYTES_PER_NEURON`).
MIN_BYTES_PER_NEURON = 128


@dataclass
class Izhikevich:
    """Izhikevich neuron parameters (scalars, or arrays of one value per neuron).

    The defaults are the regular-spiking (RS) cortical cell; the presets are the paper's.

    Parameters
    ----------
    a : float or array, 1/ms
        Rate of the recovery variable ``u``.
    b : float or array, dimensionless
        Sensitivity of ``u`` to ``v``.
    c : float or array, mV
        Reset value of ``v`` after a spike (below ``v_peak``).
    d : float or array, mV/ms
        Jump of ``u`` after a spike.
    v_peak : float or array, mV
        Spike cut-off (30 mV in the paper).
    sigma : float or array, mV ms^(-1/2)
        White-noise amplitude (>= 0): ``v`` gains ``sigma sqrt(dt) N(0, 1)`` per step; needs
        ``method="euler"``.
    """

    a: object = 0.02
    b: object = 0.2
    c: object = -65.0
    d: object = 8.0
    v_peak: object = 30.0
    sigma: object = 0.0

    @classmethod
    def regular_spiking(cls, **overrides) -> "Izhikevich":
        """RS: a = 0.02, b = 0.2, c = -65, d = 8; tonic spiking with adaptation (ISIs lengthen)."""
        return cls(**{**dict(a=0.02, b=0.2, c=-65.0, d=8.0), **overrides})

    @classmethod
    def fast_spiking(cls, **overrides) -> "Izhikevich":
        """FS: a = 0.1, b = 0.2, c = -65, d = 2; high-frequency spiking without adaptation."""
        return cls(**{**dict(a=0.1, b=0.2, c=-65.0, d=2.0), **overrides})

    @classmethod
    def chattering(cls, **overrides) -> "Izhikevich":
        """CH: a = 0.02, b = 0.2, c = -50, d = 2; fast rhythmic bursts (bimodal ISIs)."""
        return cls(**{**dict(a=0.02, b=0.2, c=-50.0, d=2.0), **overrides})

    @classmethod
    def intrinsically_bursting(cls, **overrides) -> "Izhikevich":
        """IB: a = 0.02, b = 0.2, c = -55, d = 4; an initial burst, then single spikes."""
        return cls(**{**dict(a=0.02, b=0.2, c=-55.0, d=4.0), **overrides})

    def _rate_curve_setup(self, n: int, dt, method):
        """``(simulator, dt, method)`` for :func:`~fastkernels.neurons.firing_rate_curve`: dt 0.1 ms, Euler."""
        return simulate_izhikevich, 0.1 if dt is None else dt, "euler" if method is None else method

    def arrays(self, n: int) -> dict:
        """Every parameter validated and broadcast to ``(n,)`` float64 (``c < v_peak``, ``sigma >= 0``).

        Raises
        ------
        TypeError
            ``n`` not an int; a field that is not a number or 1-D array of numbers.
        ValueError
            ``n < 1`` or too large for memory; a NaN or infinite field, an array of another length
            than ``n``, a negative ``sigma``, ``|c|`` beyond the state limit 1e9, ``c >= v_peak``.
            The field is named.
        """
        n = _params.check_n(n, MIN_BYTES_PER_NEURON)
        out = _params.model_fields(self, tuple(f.name for f in fields(self)), n, nonneg=("sigma",), limits={"c": LIMIT})
        bad = out["c"] >= out["v_peak"]
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"c (reset) must be below v_peak; neuron {i} has c = {out['c'][i]}, "
                             f"v_peak = {out['v_peak'][i]}")
        return out


# ------------------------------------------------------------------ step functions
@jit
def izh_rhs(v, u, drive, a, b):
    """``(dv/dt, du/dt)`` in mV/ms (``drive`` in mV/ms)."""
    inline_hint()
    return (like(v, 0.04) * v + like(v, 5.0)) * v + like(v, 140.0) - u + drive, a * (b * v - u)


@jit
def _izh_finish(vn, un, c, d, vpeak):
    """Threshold and reset: ``(v, u, spiked, bad)``."""
    inline_hint()
    spiked = vn >= vpeak
    v_out = c if spiked else vn
    u_out = un + d if spiked else un
    ok = (abs(v_out) <= like(vn, LIMIT)) & (abs(u_out) <= like(vn, LIMIT))
    return v_out, u_out, spiked, not ok


# Both steps share one signature: drive (mV/ms) held over the step; xi a standard normal draw
# and sn = sigma / sqrt(dt) its scale as a current (Euler only, 0 otherwise). Every argument is
# of one precision, the step's (float64 or float32).
@jit
def izh_step_euler(v, u, drive, xi, a, b, c, d, vpeak, sn, dt):
    """The 2003 paper's step: two half steps of ``v``, then ``u`` with the new ``v``; threshold and reset."""
    inline_hint()
    c004, c5, c140 = like(v, 0.04), like(v, 5.0), like(v, 140.0)
    hdt = like(v, 0.5) * dt
    i_ = drive + sn * xi
    v1 = v + hdt * ((c004 * v + c5) * v + c140 - u + i_)
    v2 = v1 + hdt * ((c004 * v1 + c5) * v1 + c140 - u + i_)
    return _izh_finish(v2, u + dt * (a * (b * v2 - u)), c, d, vpeak)


@jit
def izh_step_rk4(v, u, drive, xi, a, b, c, d, vpeak, sn, dt):
    """One classic RK4 step of ``(v, u)``; threshold and reset."""
    inline_hint()
    hdt = like(v, 0.5) * dt
    v1, u1 = izh_rhs(v, u, drive, a, b)
    v2, u2 = izh_rhs(v + hdt * v1, u + hdt * u1, drive, a, b)
    v3, u3 = izh_rhs(v + hdt * v2, u + hdt * u2, drive, a, b)
    v4, u4 = izh_rhs(v + dt * v3, u + dt * u3, drive, a, b)
    dt6 = dt / like(dt, 6.0)
    two = like(v, 2.0)
    return _izh_finish(v + dt6 * (v1 + two * (v2 + v3) + v4), u + dt6 * (u1 + two * (u2 + u3) + u4), c, d, vpeak)


#: Step function of each method code (EULER, RK4).
STEPS = (izh_step_euler, izh_step_rk4)


def cuda_steps() -> tuple:
    """The step functions of :data:`STEPS` for CUDA: the same source (see :func:`fastkernels._jit.retarget`)."""
    fns = retarget(globals(), ("izh_rhs", "_izh_finish", "izh_step_euler", "izh_step_rk4"), inline_hint=no_hint)
    return fns["izh_step_euler"], fns["izh_step_rk4"]


# ------------------------------------------------------------------ CPU kernels
def _loop_template(sb, pb, drive, ic, flags, m, dt):
    """Step the ``m`` neurons of one block once; returns ``(spikes, bad states)``.

    In the precision of ``sb`` (``pb``, ``drive``, ``ic`` and ``dt`` share it). Every access is
    ``row * ROW + j`` off the block's flattened state (``sb``) or parameters (``pb``), so LLVM
    vectorises the loop without runtime alias checks. A template: the kernels
    use clones with the method's step function as the global ``_STEP``.
    """
    prefer_wide_vectors()
    out_of_line_if_float32(sb)  # a call per block and step: inlined beside the other loops it ran slower
    # int32 counters: the loop's widest type sets the vector width (256 bits / 64 would give
    # float32 4 lanes, like float64; with 32-bit counters it gets 8).
    nsp = np.int32(0)
    nbad = np.int32(0)
    for j in range(m):  # the hot loop: straight-line selects, vectorised across neurons
        vn, un, sp, bad = _STEP(  # noqa: F821 (a global of the clones)
            sb[V * ROW + j], sb[U * ROW + j], drive[j] + ic, sb[XI * ROW + j], pb[A * ROW + j], pb[B * ROW + j],
            pb[C * ROW + j], pb[D * ROW + j], pb[VPEAK * ROW + j], pb[SN * ROW + j], dt)
        sb[V * ROW + j] = vn
        sb[U * ROW + j] = un
        flags[j] = sp
        nsp = np.int32(nsp + sp)
        nbad = np.int32(nbad + bad)
    return nsp, nbad


# One vectorised step loop per method (each compiled on its own, called once per block and step).
_LOOPS = tuple(jit(specialise(_loop_template, "_izh_loop_" + name, _STEP=step), fastmath=FASTMATH)
               for name, step in zip(METHODS, STEPS))
_loop_euler, _loop_rk4 = _LOOPS


@jit
def _first_bad(sb, m):
    """The first neuron of a block with ``v`` or ``u`` beyond LIMIT (or NaN), or -1."""
    for j in range(m):
        if not ((abs(sb[V * ROW + j]) <= like(sb, LIMIT)) & (abs(sb[U * ROW + j]) <= like(sb, LIMIT))):
            return j
    return -1


# ------------------------------------------------------------------ API
PARAM_ORDER = ("a", "b", "c", "d", "v_peak", "sn")
#: What the population engine runs: state rows V, U (then the engine's XI, IN), parameter rows
#: A..SN, one step loop per method code, in float64 or float32.
POPULATION = Population("izhikevich", METHODS, STATE_NAMES, PARAM_ORDER,
                        method_kernels("izh", _LOOPS, _first_bad, 2), loops=_LOOPS, first_bad=_first_bad,
                        dtypes=(np.dtype(np.float64), np.dtype(np.float32)),
                        labels={"sn": "sigma and dt (the noise current)", "v": "v0 or initial['v']",
                                "u": "u0 or initial['u']"})


def simulate_izhikevich(model: Izhikevich, n: int, duration: float, dt: float = 0.1, *, I=None, v0=None, u0=None,
                        initial=None, method: str = "euler", seed=None, record=None, record_every: int = 1,
                        t_start: float = 0.0, dtype=np.float64, backend: str = "auto") -> SimulationResult:
    """Simulate ``n`` independent Izhikevich neurons for ``duration`` ms.

    Parameters
    ----------
    model : Izhikevich
        Parameters (scalars or ``(n,)`` arrays).
    n : int
        Number of neurons.
    duration : float, ms
        Simulated time; a whole number of steps.
    dt : float, ms
        Time step (the paper used 1 ms with two 0.5 ms half steps for ``v``).
    I : None, float, array or callable, mV/ms
        Input: a scalar, ``(n,)`` per neuron, ``(n_steps, 1)`` shared series, ``(n_steps, n)``
        or a function of ``t`` (ms); held constant over each step.
    v0 : float or (n,) array, mV, optional
        Initial membrane potential (default -65 mV, as in the paper).
    u0 : float or (n,) array, optional
        Initial recovery variable (default ``b * v0``, as in the paper).
    initial : dict, optional
        A previous result's ``final_state`` (``v``, ``u``, ``step``): continues that run
        (overrides ``v0``, ``u0`` and ``t_start``).
    method : {"euler", "rk4"}
        Integrator (see the module docstring). Noise (``sigma > 0``) needs ``"euler"``.
    seed : None, int or numpy.random.Generator
        Noise seed; neuron ``i`` draws from its own stream, so results do not depend on the
        backend or thread count.
    record : None, True, int, sequence of int, str or sequence of str
        What is traced, sampled at step starts (after the reset of a
        spike in the previous step): neurons (True: all; an id or ids), every variable
        (``v``, ``u``); or, as Brian2's ``StateMonitor(group, "v", record=True)``, variable
        names (``"v"`` or a list of them) of every neuron; ``"v"`` alone keeps one trace per
        neuron in memory, not two.
    record_every : int
        Trace stride in steps.
    t_start : float, ms
        Time of the first step.
    dtype : {float64, float32}
        Precision of the integration, the traces and the final state. ``float32`` keeps the state,
        the parameters, the input and every operation of the step in float32 (twice the SIMD
        lanes). The upstroke amplifies rounding (a spike's overshoot feeds ``u``), so float32 and
        float64 runs part ways as two float64 runs whose inputs differ by 1e-7 do: spike counts
        agree within one spike per neuron on the usual cases (the presets' rate curves at
        dt = 0.1 ms agree exactly; at dt = 0.5 ms, 5% of a 10 000-neuron population ends 500 ms
        one spike apart), bursting cells near a change of burst length can differ by a few, and
        spike times drift apart over long runs. What stays float64: ``sigma / sqrt(dt)`` is
        computed in float64 then rounded, ``dt`` is rounded once, the noise draws come from the
        float64 stream (the same draws as a float64 run), and spike and trace times are float64
        ``k dt``. Values beyond float32's range are refused.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    SimulationResult
        Spikes (``v >= v_peak``, stamped with the step start ``k dt``), traces ``v`` (mV) and
        ``u`` of shape ``(len(record), n_rows)`` and the final state.

    Raises
    ------
    TypeError
        ``model`` not an :class:`Izhikevich`; a parameter field, ``I``, ``v0``, ``u0``, ``n``,
        ``record``, ``record_every``, ``dtype`` or ``seed`` of the wrong type (bools, strings,
        objects and complex values are never numbers; ``record`` mixing names and ids); ``initial`` not a
        previous result's final state.
    ValueError
        Every other bad value, before anything runs, naming the argument or the parameter field:
        NaN or infinite values; ``n < 1``; ``dt <= 0``; a ``duration`` that is not a whole number
        of steps or more than 2**53 steps (``t_start`` or ``initial['step']`` beyond step
        +-2**53); per-neuron arrays of the wrong length; ``c >= v_peak``; a negative ``sigma``;
        ``v0``, ``u0``, ``c`` or an initial state beyond the state limit +-1e9; noise with RK4; an
        unknown ``method``/``backend``; for ``dtype=float32``, a parameter, ``sigma / sqrt(dt)`` or
        input beyond float32's range (+-3.4e38); a population (``n``) or traces (``record`` x
        samples) too large for this machine's memory (:func:`fastkernels._validate.max_bytes`);
        ``record`` naming a variable the model does not have.
    SimulationError
        ``v`` or ``u`` became non-finite or exceeded 1e9 in magnitude after the step's reset (e.g.
        a ``dt`` far too large, or an input far beyond the model's range); names the step and the
        neuron.
    BackendUnavailableError
        ``backend="cuda"`` without a usable GPU.
    """
    if not isinstance(model, Izhikevich):
        raise TypeError(f"model must be a fastkernels.neurons.Izhikevich, got {type(model).__name__}")
    record, variables = _params.record_variables(record, STATE_NAMES)
    run = Run(n, duration, dt, dtype, method, METHODS, record_every, t_start, seed, backend,
              bytes_per_neuron=MIN_BYTES_PER_NEURON)
    n, dt = run.n, run.dt
    p = model.arrays(n)
    noisy = bool((p["sigma"] > 0).any())
    if noisy and method != "euler":
        raise ValueError(f"noise (sigma > 0) needs method='euler' (Euler-Maruyama), got {method!r}")
    if initial is not None:
        if not isinstance(initial, dict) or not {"v", "u", "step"} <= set(initial):
            raise TypeError("initial must be the final_state dict of a previous Izhikevich result (keys 'v', 'u', "
                            "'step')")
        state = {"v": per_neuron(initial["v"], "initial['v']", n, limit=LIMIT),
                 "u": per_neuron(initial["u"], "initial['u']", n, limit=LIMIT)}
        run.start(initial["step"])
    else:
        run.start()
        v = np.full(n, -65.0) if v0 is None else per_neuron(v0, "v0", n, limit=LIMIT)
        with np.errstate(over="ignore"):  # checked just below
            state = {"v": v, "u": p["b"] * v if u0 is None else per_neuron(u0, "u0", n, limit=LIMIT)}
        if not (np.abs(state["u"]) <= LIMIT).all():
            raise ValueError(f"b * v0 (the default u0) must lie within +-{LIMIT:g}; pass u0 or a smaller b")
    # The kernels integrate in ``dtype``; derived coefficients are computed here in float64, and
    # the engine rounds them (and refuses those beyond float32's range).
    run.inputs(I, POPULATION.working_dtype(run.dtype))
    _coefficients(p, dt)
    res = simulate(POPULATION, run, p, state, noisy, record, variables=variables)
    return res if variables is None else _params.select_traces(res, variables)


def _coefficients(p, dt):
    with np.errstate(over="ignore"):  # checked just below
        p["sn"] = p["sigma"] / math.sqrt(dt)  # noise current held over one step
    check_finite_result({"sigma and dt (the noise current)": p["sn"]}, "Izhikevich coefficients")


def population_setup(model: Izhikevich, n: int, dt: float, method: str, v0=None):
    """``(p, state, noisy)`` of ``n`` neurons of ``model`` for the engine's loops (:data:`POPULATION`):
    the checked parameters with the derived coefficient, ``v`` from ``v0`` (default -65 mV) and
    ``u = b v``, and whether noise is on. Shared with the network simulator (:mod:`fastkernels.networks`)."""
    if not isinstance(model, Izhikevich):
        raise TypeError(f"model must be a fastkernels.neurons.Izhikevich, got {type(model).__name__}")
    check_choice(method, "method", METHODS)
    p = model.arrays(n)
    noisy = bool((p["sigma"] > 0).any())
    if noisy and method != "euler":
        raise ValueError(f"noise (sigma > 0) needs method='euler' (Euler-Maruyama), got {method!r}")
    v = np.full(n, -65.0) if v0 is None else per_neuron(v0, "v0", n, limit=LIMIT)
    with np.errstate(over="ignore"):
        state = {"v": v, "u": p["b"] * v}
    if not (np.abs(state["u"]) <= LIMIT).all():
        raise ValueError(f"b * v0 (u's start) must lie within +-{LIMIT:g}")
    _coefficients(p, dt)
    return p, state, noisy
