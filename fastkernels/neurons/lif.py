"""Leaky integrate-and-fire populations: exact, Euler, RK4, Euler-Maruyama and event-driven.

Model (per neuron ``i``; time in ms)::

    tau_m dv/dt   = (v_rest - v) + R (I(t) - w) + sigma sqrt(2 tau_m) xi(t)   (v frozen while refractory
    tau_w dw/dt   = -w                                                          if freeze_refractory)
    tau_t dvt/dt  = v_threshold - vt
    spike when v > vt and not refractory:  v <- v_reset,  vt += threshold_jump,  w += adaptation_jump

``sigma`` scales the white noise ``xi`` so that it matches Brian2's
``sigma * xi * tau**-0.5`` term: Euler-Maruyama adds ``sigma sqrt(dt / tau_m) N(0, 1)``.

Every integrator is one affine map per step, written with per-neuron
*propagators* computed once in NumPy::

    v' = v_inf + a (v - v_inf) + c w + s N(0,1),   v_inf = v_rest + R I,   w' = p_w w,   vt' = v_threshold + (vt - v_threshold) p_t

* ``exact``: ``a = exp(-dt/tau_m)`` and ``c = -R (dt/tau_m) exp(-dt/tau_m) exprel(dt/tau_m - dt/tau_w)``
  (``exprel(x) = (e^x - 1)/x``: correct when ``tau_w == tau_m``); the noise is the exact OU
  increment ``sigma sqrt((1 - exp(-2 dt/tau_m)) / 2)``.
* ``euler``: ``a = 1 - dt/tau_m``, ``c = -R dt/tau_m``; with ``sigma`` it is Euler-Maruyama.
* ``rk4``: RK4 of a linear system with inputs constant over the step is the degree-4 Taylor
  polynomial of the exact propagator, so ``a``, ``c``, ``p_w``, ``p_t`` are those polynomials.
* ``event``: exact update plus the analytic threshold-crossing time inside the step and
  fractional refractory time, so the rate equals the analytic :func:`lif_rate` at any ``dt``.

The per-step schedule is Brian2's: the refractory flag is computed at the start of the step,
the state is updated (``v`` held while refractory when ``freeze_refractory``), the threshold is
tested on the updated state, a spike is recorded with the step's start time ``k dt``, and reset
runs. ``refractory_mode="steps"`` counts the refractory period in whole steps (current Brian2:
``k - k_spike >= timestep(tau_ref)``); ``"legacy_float"`` compares ``t - t_spike > tau_ref``
in float64 seconds, as Brian2 before 2.6 did and as the spike times printed in the Brian2
tutorial were produced.

The grid methods run on the population engine (:mod:`fastkernels.neurons._engine`: time loop,
inputs, noise, the synaptic ring, spike recording, traces, resumption and the result), with the
LIF's step loops, Poisson staging and trace hooks from :mod:`fastkernels.neurons._lif_kernels`
(which also holds the step coefficients, the step function shared with CUDA and the event-driven
kernel, the one LIF kernel outside the engine).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, fields

import numpy as np

from .._backend import load_cuda, resolve_backend
from .._random import resolve_seed, seed_kept
from .._validate import check_cast_range, check_flag, check_scalar
from . import _driver, _params
from ._engine import Run, count_spikes, cpu_launch, population_backend, population_kernels, synaptic_ring
from ._layout import BLOCK, blocked, unblocked_rows
from ._lif_kernels import (  # noqa: F401  (the kernels' layout and limits, re-exported)
    A, C, DVT, DW, FLUSH, IN, JMP, JW, LAM, LIMIT, N_PARAMS, N_STATE, POISSON_STREAM, PT, PW, R, REF, REFSTEPS,
    SINCE, SINCE_MAX, SN, STATE_NAMES, TAU, TREF, V, VRESET, VREST, VT, VT0, W, XI, event_cpu, event_parallel,
    event_advance, first_bad, free_legacy, lif_step, propagators, step_loop)
from ._params import check_finite_result, check_mode, field_array, per_neuron, refractory_steps, whole
from .inputs import input_range
from .result import SimulationResult

METHODS = ("exact", "euler", "rk4", "event")

#: Bytes every run allocates per neuron at least (state, input, first spike buffers): a larger
#: population than fits in memory is refused up front.
MIN_BYTES_PER_NEURON = 128
#: Most input spikes a neuron may receive per step on average (``poisson_inputs * poisson_rate * dt``):
#: the Poisson draw's count must stay an exact integer.
MAX_POISSON_PER_STEP = 1e15
#: Most spikes one neuron may fire within one step of the event-driven method.
MAX_EVENT_SPIKES_PER_STEP = 1 << 16


@dataclass
class LIF:
    """Leaky integrate-and-fire neuron parameters (scalars, or arrays of one value per neuron).

    The defaults are the seeds' normalised form (v in units of the threshold:
    rest 0, threshold 1, reset 0, with the lecture notes' ``tau_m = 20 ms``,
    ``tau_ref = 2 ms``); :meth:`physical` gives a millivolt parameterisation.

    Parameters
    ----------
    tau_m : float or array, ms
        Membrane time constant (> 0).
    v_rest, v_reset, v_threshold : float or array
        Resting potential, reset value, threshold (its resting value when it adapts); same
        units as ``v`` (dimensionless or mV).
    tau_ref : float or array, ms
        Absolute refractory period (>= 0).
    resistance : float or array
        Input resistance ``R``: ``R * I`` has the units of ``v`` (1 for the normalised form,
        MOhm with I in nA for mV).
    sigma : float or array
        Noise amplitude in units of ``v`` (Brian2's ``sigma * xi * tau_m**-0.5`` term); 0 is deterministic.
    threshold_jump : float or array
        Added to the threshold at each spike (adaptive threshold; 0 disables).
    tau_threshold : float or array, ms
        Time constant of the threshold's relaxation back to ``v_threshold``.
    adaptation_jump : float or array
        Added to the adaptation current ``w`` (units of ``I``) at each spike (0 disables).
    tau_adaptation : float or array, ms
        Decay time constant of ``w``.
    poisson_inputs : int or array
        Independent Poisson spike trains driving each neuron (Brian2's ``PoissonInput``); 0 disables.
    poisson_rate : float or array, Hz
        Rate of each input train.
    poisson_weight : float or array
        Jump of ``v`` per input spike (units of ``v``), applied after the threshold test.
    freeze_refractory : bool
        Hold ``v`` at its reset value while refractory (Brian2's ``(unless refractory)``);
        otherwise ``v`` keeps integrating and only spiking is blocked.
    refractory_mode : {"steps", "legacy_float"}
        How the end of the refractory period is decided (see the module docstring).
    """

    tau_m: object = 20.0
    v_rest: object = 0.0
    v_reset: object = 0.0
    v_threshold: object = 1.0
    tau_ref: object = 2.0
    resistance: object = 1.0
    sigma: object = 0.0
    threshold_jump: object = 0.0
    tau_threshold: object = 100.0
    adaptation_jump: object = 0.0
    tau_adaptation: object = 100.0
    poisson_inputs: object = 0
    poisson_rate: object = 0.0
    poisson_weight: object = 0.0
    freeze_refractory: bool = True
    refractory_mode: str = "steps"

    @classmethod
    def physical(cls, **overrides) -> "LIF":
        """A cortical LIF in mV and ms: rest and reset -65 mV, threshold -50 mV,
        ``tau_m`` 20 ms, ``tau_ref`` 2 ms, R = 10 MOhm (so ``I`` is in nA)."""
        base = dict(tau_m=20.0, v_rest=-65.0, v_reset=-65.0, v_threshold=-50.0, tau_ref=2.0, resistance=10.0)
        base.update(overrides)
        return cls(**base)

    @classmethod
    def numeric_fields(cls) -> tuple:
        """Names of the parameters that may be scalars or per-neuron arrays."""
        return tuple(f.name for f in fields(cls) if f.name not in ("freeze_refractory", "refractory_mode"))

    def arrays(self, n: int) -> dict:
        """Every numeric parameter validated and broadcast to ``(n,)`` float64.

        Raises
        ------
        TypeError
            ``n`` not an int; a field that is not a number or 1-D array of numbers (bool, str,
            complex, object), ``freeze_refractory`` not a bool.
        ValueError
            ``n < 1`` or too large for memory; a field that is NaN or infinite, an array of
            another length than ``n``, a time constant <= 0, a negative ``tau_ref``, ``sigma``,
            ``poisson_inputs`` or ``poisson_rate``, fractional ``poisson_inputs``, an unknown
            ``refractory_mode``. The field is named.
        """
        n = _params.check_n(n, MIN_BYTES_PER_NEURON)
        positive = {"tau_m", "tau_threshold", "tau_adaptation"}
        nonneg = {"tau_ref", "sigma", "poisson_inputs", "poisson_rate"}
        out = _params.model_fields(self, self.numeric_fields(), n, positive=positive, nonneg=nonneg)
        whole(out["poisson_inputs"], "poisson_inputs")
        check_flag(self.freeze_refractory, "freeze_refractory")
        check_mode(self.refractory_mode)
        return out

    def _fields(self, *names):
        values = [field_array(getattr(self, name), name) for name in names]
        try:
            np.broadcast_shapes(*(v.shape for v in values))
        except ValueError:
            raise ValueError(f"{', '.join(names)} have different lengths "
                             f"({', '.join(str(v.shape) for v in values)})") from None
        return values

    def _rate_curve_setup(self, n: int, dt, method):
        """``(simulator, dt, method)`` for :func:`~fastkernels.neurons.firing_rate_curve`: dt 0.1 ms;
        ``"event"`` when deterministic and frozen while refractory (exact rates), else ``"exact"``."""
        if method is None:
            deterministic = not self.adapts and not np.any(per_neuron(self.sigma, "sigma", n) > 0)
            method = "event" if deterministic and check_flag(self.freeze_refractory, "freeze_refractory") \
                else "exact"
        return simulate_lif, 0.1 if dt is None else dt, method

    def _rate_counts(self, n: int, duration, dt, *, transient, method, backend, **kwargs):
        """The spikes per neuron over ``[transient, duration)`` from the count-only kernels (no
        spikes recorded and sorted: the f-I curve's serial tail), or None where they do not run
        (the event method, the cuda backend: :func:`~fastkernels.neurons.firing_rate_curve`
        then counts a recorded run's spikes)."""
        if method == "event" or {"count_only", "count_from", "syn"} & kwargs.keys():
            return None  # (run_lif's own keywords: the simulator refuses them by name)
        try:
            work = int(n * float(duration) / float(dt))
        except (TypeError, ValueError, ZeroDivisionError, OverflowError):
            return None  # a bad dt: the simulator names it
        if resolve_backend(backend, work=work) == "cuda":
            return None
        return run_lif(self, n, duration, dt, method=method, backend=backend, count_only=True, count_from=transient,
                       **kwargs)

    @property
    def has_poisson_input(self) -> bool:
        """Whether any neuron receives Poisson input trains (``poisson_inputs * poisson_rate * poisson_weight != 0``)."""
        k, rate, weight = self._fields("poisson_inputs", "poisson_rate", "poisson_weight")
        with np.errstate(over="ignore", under="ignore"):
            return bool(np.any(k * rate * weight != 0))

    @property
    def adapts(self) -> bool:
        """Whether the threshold or the adaptation current jumps at spikes."""
        jt, jw = self._fields("threshold_jump", "adaptation_jump")
        return bool(np.any(jt != 0) or np.any(jw != 0))


def _max_spikes_per_step(p: dict, i_lo: np.ndarray, i_hi: np.ndarray, dt: float) -> int:
    """Bound on spikes one neuron can emit in one step of the event-driven method, from the
    largest asymptotic potential it sees (inputs between ``i_lo`` and ``i_hi``; ``resistance``
    may be negative). Refuses (``ValueError``) more than :data:`MAX_EVENT_SPIKES_PER_STEP`."""
    vinf = p["v_rest"] + np.maximum(p["resistance"] * i_lo, p["resistance"] * i_hi)
    fires = vinf > p["v_threshold"]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        climb = np.where(fires & (p["v_reset"] < p["v_threshold"]),
                         p["tau_m"] * np.log((vinf - p["v_reset"]) / (vinf - p["v_threshold"])), 0.0)
    isi = np.where(fires, p["tau_ref"] + climb, np.inf)
    if (isi <= 0).any():
        i = int(np.flatnonzero(isi <= 0)[0])
        raise ValueError(f"method='event' needs tau_ref > 0 or v_reset < v_threshold (neuron {i} would fire "
                         "infinitely often)")
    i = int(np.argmin(isi))
    shortest = float(isi[i])
    if not np.isfinite(shortest):
        return 2
    bound = 2 + math.floor(dt / shortest)
    if bound > MAX_EVENT_SPIKES_PER_STEP:
        raise ValueError(f"method='event': neuron {i} could fire {bound} times in one step of dt = {dt} ms "
                         f"(interspike interval tau_ref + climb = {shortest:.4g} ms at its largest input I); at "
                         f"most {MAX_EVENT_SPIKES_PER_STEP} per step: lengthen tau_ref, reduce I or dt")
    return int(bound)


PARAM_ORDER = ("a", "c", "pw", "pt", "v_rest", "resistance", "v_threshold", "v_reset", "threshold_jump",
                "adaptation_jump", "s", "tau_m", "ref_steps", "tau_ref", "poisson_lambda", "poisson_weight")
STATE_ORDER = ("v", "v_threshold", "w", "since", "ref_left", "xi", "input", "jump")


def simulate_lif(model: LIF, n: int, duration: float, dt: float = 0.1, *, I=None, v0=None, initial=None,
                 method: str = "exact", seed=None, record=None, record_every: int = 1, t_start: float = 0.0,
                 dtype=np.float64, backend: str = "auto") -> SimulationResult:
    """Simulate ``n`` independent LIF neurons for ``duration`` ms.

    Parameters
    ----------
    model : LIF
        Parameters (scalars or ``(n,)`` arrays).
    n : int
        Number of neurons.
    duration : float, ms
        Simulated time; a whole number of steps.
    dt : float, ms
        Time step (Brian2's default 0.1 ms).
    I : None, float, array or callable
        Input current (``R * I`` has the units of ``v``); a scalar, ``(n,)`` per neuron,
        ``(n_steps, 1)`` shared series, ``(n_steps, n)`` or a function of ``t`` (ms);
        see :func:`fastkernels.neurons.inputs.as_input`.
    v0 : float or (n,) array, optional
        Initial membrane potential (default ``v_rest``).
    initial : dict, optional
        A previous result's ``final_state``: continues that run (overrides ``v0`` and ``t_start``).
    method : {"exact", "euler", "rk4", "event"}
        Integrator (see the module docstring). Noise (``sigma > 0``) needs ``exact`` or ``euler``;
        ``event`` needs a plain LIF (no noise, no adaptation) with ``freeze_refractory``.
    seed : None, int or numpy.random.Generator
        Noise seed; neuron ``i`` draws from its own stream, so results do not depend on the
        backend or thread count.
    record : None, True, int, sequence of int, str or sequence of str
        What is traced: neurons (True: all; an id or ids) or, as Brian2's
        ``StateMonitor(group, "v", record=True)``, variable names (``"v"``, ``["v", "w"]``) of
        every neuron. Neurons alone trace ``v``, plus ``v_threshold`` and ``w`` when the model
        adapts (:attr:`LIF.adapts`); a name asks for that variable whatever the model. Memory goes
        to the variables up to the last one asked for, in the order ``v``, ``v_threshold``, ``w``
        (``"v"``: one trace per neuron, not three).
    record_every : int
        Trace stride in steps.
    t_start : float, ms
        Time of the first step (inputs given as functions see ``t_start + k dt``).
    dtype : {float64, float32}
        State precision (float64 is the default for neuron integration).
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    SimulationResult

    Raises
    ------
    TypeError
        ``model`` not a :class:`LIF`; a parameter field, ``I``, ``v0``, ``n``, ``record``,
        ``record_every``, ``dtype`` or ``seed`` of the wrong type (bools, strings, objects and
        complex values are never numbers; ``record`` mixing names and ids); ``initial`` not a
        previous result's final state.
    ValueError
        Every other bad value, before anything runs, naming the argument or the parameter field:
        NaN or infinite values anywhere; ``n < 1``; ``dt <= 0``; a ``duration`` that is not a
        whole number of steps or more than 2**53 steps (``t_start`` or ``initial['step']`` beyond
        step +-2**53); per-neuron arrays of the wrong length; time constants <= 0, negative
        ``tau_ref``/``sigma``/Poisson fields; ``tau_ref`` of 2**23 steps or more; more than 1e15
        Poisson input spikes per step; ``v0``, ``v_reset`` or an initial ``v`` beyond the state
        limit +-1e9; ``v_rest + resistance * I`` or a step propagator that overflows (e.g.
        ``tau_m`` subnormal); for ``dtype=float32`` values beyond the float32 range; an unknown
        ``method``/``backend``/``refractory_mode``; noise, Poisson input or adaptation with a
        method that does not support them; for ``method="event"`` more than 65536 spikes of a
        neuron in one step; a population (``n``) or traces (``record`` x samples) too large for
        this machine's memory (:func:`fastkernels._validate.max_bytes`); ``record`` naming a
        variable other than ``v``, ``v_threshold``, ``w``.
    SimulationError
        ``v`` became NaN or exceeded 1e9 after the step's reset (e.g. Euler with ``dt > 2 tau_m``,
        a drive far below ``v_rest``); names the step and neuron. A drive that carries ``v`` past
        the threshold within a step, however large, is a spike.
    BackendUnavailableError
        ``backend="cuda"`` without a usable GPU.
    """
    return run_lif(model, n, duration, dt, I=I, v0=v0, initial=initial, method=method, seed=seed,
                   record=record, record_every=record_every, t_start=t_start, dtype=dtype, backend=backend)


def run_lif(model, n, duration, dt=0.1, *, I=None, v0=None, initial=None, method="exact", seed=None, record=None,
            record_every=1, t_start=0.0, dtype=np.float64, backend="auto", count_only=False, count_from=0.0,
            syn=None):
    """:func:`simulate_lif`; ``count_only=True`` (grid methods on the CPU backends) runs the same
    kernel machinery without recording spikes and returns only the spikes per neuron, ``(n,)``
    int64 (what the ``lif_population`` benchmark's "count only" bound times and what
    :func:`~fastkernels.neurons.firing_rate_curve` counts), of the spikes at times
    ``>= t_start + count_from`` (ms; the spikes a recorded run would keep there). ``syn``: the
    engine's synaptic ring, ``(d, n)`` float64 (grid methods on the CPU backends; see
    :mod:`fastkernels.neurons._engine`)."""
    if not isinstance(model, LIF):
        raise TypeError(f"model must be a fastkernels.neurons.LIF, got {type(model).__name__}")
    record, variables = _params.record_variables(record, STATE_NAMES)
    run = Run(n, duration, dt, dtype, method, METHODS, record_every, t_start, seed, backend,
              bytes_per_neuron=MIN_BYTES_PER_NEURON)
    n, n_steps, dt, dtype, record_every = run.n, run.n_steps, run.dt, run.dtype, run.record_every
    prep_key = _prepared_key(model, dt, method, dtype)
    prepared = _PREPARED.get(prep_key) if prep_key is not None else None
    if prepared is None:
        p, uniform, noisy, dynamics, poisson = lif_parameters(model, n, dt, method)
    else:  # checked and computed by an earlier run of the same uniform model, step, method and dtype
        p, uniform, noisy, dynamics, poisson, P, ref_s = prepared
    k0 = run.start(None if initial is None else _initial_step(initial))
    state = {"v": np.broadcast_to(p["v_rest"], (n,)) if v0 is None else per_neuron(v0, "v0", n, limit=LIMIT),
             "v_threshold": np.broadcast_to(p["v_threshold"], (n,)), "since": np.full(n, SINCE_MAX)}
    if initial is not None:
        for name, kw in (("v", dict(limit=LIMIT)), ("v_threshold", {}), ("w", {}), ("since", dict(nonneg=True)),
                         ("ref_left", dict(nonneg=True))):
            if name in initial:
                state[name] = per_neuron(initial[name], f"initial[{name!r}]", n, **kw)
        if "since" in initial:
            state["since"] = np.minimum(state["since"], SINCE_MAX)  # saturates there in the kernels
    k1 = run.k1
    count_from = check_scalar(count_from, "count_from", lo=0)
    k_from = k0 + _steps_before(count_from, k0, dt, k1 - k0)
    rows, common = run.inputs(I, dtype)
    if syn is not None and method == "event":
        raise ValueError("syn (a synaptic input ring) needs a grid method, not method='event'")
    # float64 whatever dtype: the ring is added to the input row as the input matrix's values are.
    syn = synaptic_ring(syn, n, np.float64)
    _check_drive(p, rows, common, dtype)
    if prepared is None:
        lif_propagators(p, dt, method, noisy, dynamics)
        if dtype == np.float32:
            for name in PARAM_ORDER:
                check_cast_range(np.asarray(p[name], dtype=np.float64), dtype, _PARAM_NAMES.get(name, name))
    if dtype == np.float32:
        for name, value in state.items():
            check_cast_range(np.asarray(value, dtype=np.float64), dtype, "v0" if name == "v" and initial is None
                              else f"initial[{name!r}]")
    varied = method == "event" or (not uniform and any(np.ptp(p[name]) != 0 for name in PARAM_ORDER))
    legacy = model.refractory_mode == "legacy_float"
    if variables is None:  # the threshold and w are traced when they move (they are constants otherwise)
        variables = STATE_NAMES if dynamics else STATE_NAMES[:1]
    # The kernels write the first traces.shape[0] trace rows: those up to the last variable asked for.
    n_traced = _params.traced_prefix(variables, STATE_NAMES)
    rec, n_rows = run.record(record, n_traced, dtype.itemsize)
    max_per_step = _max_spikes_per_step(p, *input_range(rows, common), dt) if method == "event" else 1
    backend = population_backend(backend, n * n_steps, n)
    # Fresh blocked copies: the kernels never write the caller's arrays. Uniform parameters
    # travel as one block whose first column the kernels read as scalars.
    if prepared is None:
        P = blocked(p, PARAM_ORDER, n if varied else 1, dtype)
        ref_s = p["tau_ref"] * 1e-3 if varied else p["tau_ref"][:1] * 1e-3
        if prep_key is not None and uniform:
            _remember(prep_key, (p, uniform, noisy, dynamics, poisson, P, ref_s))
    S = blocked(state, STATE_ORDER, n, dtype)
    traces = np.zeros((n_traced, rec.size, n_rows), dtype=dtype)
    with seed_kept(seed):
        key = resolve_seed(seed) if noisy or poisson else np.int64(0)
        out = _run_lif(model, n, k0, k1, dt, method, backend, S, P, ref_s, rows, common, syn, key, legacy, noisy,
                       dynamics, poisson, varied, max_per_step, rec, record_every, traces, count_only, k_from)
    if count_only:
        return out
    final = dict(zip(STATE_ORDER[:5], unblocked_rows(S, 5, n)))
    return run.result(*out, rec, n_rows, {name: traces[STATE_NAMES.index(name)] for name in variables}, final)


#: Checked parameters, step coefficients and parameter block of uniform models (every field a
#: plain Python number), by :func:`_prepared_key`: a sweep of short runs of one model (an f-I
#: curve's calls, a Dask map) skips ~0.15 ms of its ~0.4 ms setup. The kernels never write them;
#: the parameter dict's arrays are read-only. At most :data:`_PREPARED_MAX`, oldest out first.
_PREPARED: dict = {}
_PREPARED_LOCK = threading.Lock()
_PREPARED_MAX = 32
_FIELD_NAMES = tuple(f.name for f in fields(LIF))
_PLAIN = (float, int, bool, str)


def _prepared_key(model, dt, method, dtype):
    """The key of an :class:`LIF` (not a subclass, whose own fields it would miss) whose every field
    is a plain float, int, bool or str: each field's type and ``repr`` (exact: ``repr`` round-trips
    a float, ``-0.0`` included), ``dt``, ``method`` and ``dtype``; None for any other model
    (per-neuron arrays, NumPy scalars)."""
    if type(model) is not LIF:
        return None
    values = []
    for name in _FIELD_NAMES:
        v = getattr(model, name)
        if type(v) not in _PLAIN:
            return None
        values.append((type(v), repr(v)))
    return tuple(values), repr(dt), method, dtype


def _remember(key, prepared):
    for a in prepared[0].values():
        a.flags.writeable = False
    with _PREPARED_LOCK:  # runs in several threads (a Dask worker's) may add at once
        while len(_PREPARED) >= _PREPARED_MAX:
            del _PREPARED[next(iter(_PREPARED))]
        _PREPARED[key] = prepared


def lif_parameters(model: LIF, n: int, dt: float, method: str):
    """The checked parameters of ``n`` neurons of ``model`` for a run of step ``dt`` and ``method``.

    Returns ``(p, uniform, noisy, dynamics, poisson)``: ``p`` maps each parameter (and
    ``poisson_lambda``, ``ref_steps``) to a float64 array, ``(1,)`` when every parameter is a
    scalar (``uniform``) else ``(n,)``; the flags say which features the run needs. Shared by
    :func:`run_lif` and the network simulator (:mod:`fastkernels.networks`).
    """
    # Every parameter a scalar: propagators are computed once, not for n equal copies.
    uniform = method != "event" and all(_ndim(getattr(model, name)) == 0 for name in model.numeric_fields())
    p = model.arrays(1 if uniform else n)
    if (np.abs(p["v_reset"]) > LIMIT).any():
        i = int(np.flatnonzero(np.abs(p["v_reset"]) > LIMIT)[0])
        raise ValueError(f"v_reset must lie within +-{LIMIT:g} (the state limit of v); entry {i} is {p['v_reset'][i]}")
    noisy = bool((p["sigma"] > 0).any())
    if noisy and method not in ("exact", "euler"):
        raise ValueError(f"noise (sigma > 0) needs method='exact' or 'euler' (Euler-Maruyama), got {method!r}")
    dynamics = bool(np.any(p["threshold_jump"] != 0) or np.any(p["adaptation_jump"] != 0))
    with np.errstate(over="ignore", under="ignore"):
        poisson = bool(np.any(p["poisson_inputs"] * p["poisson_rate"] * p["poisson_weight"] != 0))
        p["poisson_lambda"] = p["poisson_inputs"] * p["poisson_rate"] * dt * 1e-3  # mean input spikes per step
    if poisson and not (p["poisson_lambda"] <= MAX_POISSON_PER_STEP).all():
        i = int(np.flatnonzero(~(p["poisson_lambda"] <= MAX_POISSON_PER_STEP))[0])
        raise ValueError(f"poisson_inputs * poisson_rate * dt (mean input spikes per step) must be at most "
                         f"{MAX_POISSON_PER_STEP:g}; entry {i} is {p['poisson_lambda'][i]:.4g}")
    if method == "event":
        if dynamics or noisy or poisson:
            raise ValueError("method='event' supports the plain LIF only (no noise, Poisson input, threshold or "
                             "adaptation jumps)")
        if not model.freeze_refractory:
            raise ValueError("method='event' needs freeze_refractory=True")
    p["ref_steps"] = refractory_steps(p["tau_ref"], dt, SINCE_MAX).astype(np.float64)
    return p, uniform, noisy, dynamics, poisson


def lif_propagators(p: dict, dt: float, method: str, noisy: bool, dynamics: bool) -> None:
    """Add the step coefficients of ``method`` (:func:`._lif_kernels.propagators`) to ``p``; refuses
    (``ValueError``) coefficients that are not finite, naming the parameters behind them."""
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # checked just below
        p.update(propagators(p, dt, method))
    coeffs = {"tau_m and dt (the step propagator of v)": p["a"]}
    if noisy:
        coeffs["sigma, tau_m and dt (the noise amplitude)"] = p["s"]
    if dynamics:
        coeffs.update({"resistance, tau_m, tau_adaptation and dt (the coupling of w into v)": p["c"],
                       "tau_adaptation and dt (the decay of w)": p["pw"],
                       "tau_threshold and dt (the decay of the threshold)": p["pt"]})
    check_finite_result(coeffs, f"{method} method's coefficients")


#: The user-facing parameters behind each kernel coefficient (for the float32 range check).
_PARAM_NAMES = {"a": "tau_m", "c": "resistance", "pw": "tau_adaptation", "pt": "tau_threshold", "s": "sigma",
                "ref_steps": "tau_ref", "poisson_lambda": "poisson_rate"}


def _check_drive(p, rows, common, dtype):
    """Refuse inputs whose sum or asymptotic potential ``v_rest + resistance * I`` overflows ``dtype``."""
    top = float(np.finfo(dtype).max)
    with np.errstate(over="ignore", invalid="ignore"):
        i_max = max(abs(float(rows.min())), abs(float(rows.max()))) + \
            max(abs(float(common.min())), abs(float(common.max())))
        bound = float(np.abs(p["resistance"]).max()) * i_max + float(np.abs(p["v_rest"]).max())
        if i_max <= top and bound <= top:  # the usual case: a few reductions, no per-neuron pass
            return
        i_lo, i_hi = input_range(rows, common)
        drive = np.maximum(np.abs(p["resistance"] * i_lo), np.abs(p["resistance"] * i_hi)) + np.abs(p["v_rest"])
        drive = np.maximum(drive, np.maximum(np.abs(i_lo), np.abs(i_hi)))  # the input sum itself
    if not (drive <= top).all():
        i = int(np.flatnonzero(~(drive <= top))[0])
        raise ValueError(f"v_rest + resistance * I overflows {dtype.name} (neuron {i}: I up to "
                         f"{max(abs(i_lo[i]), abs(i_hi[i])):.4g}, resistance "
                         f"{p['resistance'][i % p['resistance'].size]:.4g})")


def _ndim(x) -> int:
    try:
        return np.ndim(x)
    except Exception:  # ragged or odd: arrays(n) names the field
        return -1


def _initial_step(initial):
    if not isinstance(initial, dict) or not {"v", "step"} <= set(initial):
        raise TypeError("initial must be the final_state dict of a previous LIF result (keys 'v', 'step', ...)")
    return initial["step"]


def grid_kernels(per_neuron, dynamics, noisy, legacy, freeze, poisson=False, count=False):
    """The (serial, parallel) engine kernels of the grid methods for one feature combination
    (compiled lazily; ``count``: the count-only variant, see :func:`._engine.count_spikes`)."""
    flags = (bool(per_neuron), bool(dynamics), bool(noisy), bool(legacy), bool(freeze), bool(poisson), bool(count))
    if flags not in _GRID:
        tag = "".join("1" if f else "0" for f in flags[:6]) + ("c" if flags[6] else "")
        loop, trace, stage, options = step_loop(tag, *flags)
        _GRID[flags] = population_kernels("lif_" + tag, (loop,), first_bad, XI, n_traced=3, stepped=True,
                                          trace=trace, stage=stage, count=flags[6], options=options)
    return _GRID[flags]


def _steps_before(span: float, k0: int, dt: float, n_steps: int) -> int:
    """How many of the steps ``k0 .. k0 + n_steps - 1`` of a run fall less than ``span`` ms after
    its start, with spike times (``k dt``) and the start (``k0 dt``) computed as the kernels and
    :class:`SimulationResult` compute them."""
    end = k0 * dt + span
    j = min(n_steps, max(0, math.ceil(span / dt)))
    while j > 0 and (k0 + j - 1) * dt >= end:
        j -= 1
    while j < n_steps and (k0 + j) * dt < end:
        j += 1
    return j


_GRID = {}  # flags of grid_kernels -> (serial, parallel)


def _run_lif(model, n, k0, k1, dt, method, backend, S, P, ref_s, rows, common, syn, key, legacy, noisy, dynamics,
             poisson, varied, max_per_step, rec, record_every, traces, count_only, k_from=None):
    if count_only:
        if method == "event" or backend == "cuda":
            raise ValueError("count_only runs the grid methods on the CPU backends only")
        serial, parallel = grid_kernels(varied, dynamics, noisy, legacy, model.freeze_refractory, poisson, count=True)
        kern = parallel if backend == "parallel" else serial
        k_from = k0 if k_from is None else k_from
        if k_from > k0:  # the transient: integrated, its spikes not counted
            count_spikes(kern, S, P, rows, common, syn, key, noisy, 0, k0, k_from, dt, rec, record_every, traces, ref_s)
        return count_spikes(kern, S, P, rows, common, syn, key, noisy, 0, k0, k1, dt, rec, record_every, traces, ref_s,
                            k_from=k_from)
    if backend == "cuda":
        if syn.shape[0]:
            raise ValueError("a synaptic ring (syn) runs on the CPU backends only for the LIF")
        cu = load_cuda("fastkernels.neurons._cuda")
        launch, finish = cu.lif_launcher(S, P, ref_s, rows, common, key, k0, dt, legacy, model.freeze_refractory,
                                         noisy, dynamics, poisson, varied, method, max_per_step, rec, record_every,
                                         traces)
        if method == "event":
            times, ids = _driver.run(launch, units=n, k0=k0, k1=k1, per_step=1, dt=dt,
                                     max_spikes_per_step=max_per_step, buffers=1,
                                     capacity=cu.buffer_capacity(n, max_per_step))
        else:
            times, ids = _driver.run_raster(launch, units=S.shape[0], k0=k0, k1=k1, dt=dt, parallel=True,
                                            device=True)
        finish()
        return times, ids
    if method == "event":  # the one kernel outside the engine (see its docstring)
        kern = event_parallel if backend == "parallel" else event_cpu
        rec_lo = _driver.record_ranges(rec, n, BLOCK)

        def launch(k_begin, k_end, spk_t, spk_i, spk_n, err):
            kern(S, P, rows, common, k_begin, k_end, k0, dt, max_per_step, spk_t, spk_i, spk_n, err,
                 rec, rec_lo, record_every, traces)
        return _driver.run(launch, units=S.shape[0], k0=k0, k1=k1, per_step=min(n, BLOCK), dt=dt,
                           max_spikes_per_step=max_per_step)
    serial, parallel = grid_kernels(varied, dynamics, noisy, legacy, model.freeze_refractory, poisson)
    launch = cpu_launch(parallel if backend == "parallel" else serial, S, P, rows, common, syn, key, noisy, 0, k0,
                        dt, rec, record_every, traces, ref_s)
    return _driver.run_raster(launch, units=S.shape[0], k0=k0, k1=k1, dt=dt, parallel=backend == "parallel")
