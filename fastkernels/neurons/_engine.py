"""The population engine (CPU): one time loop, inputs, noise, spike recording, traces, resumption, results.

A model module supplies only its equations: a :class:`Population` naming its state rows
(traced, returned as the final state), its parameter rows and its per-method step loops, plus
the host-side checks of its parameters and initial state. The engine owns everything else:

* the run-level arguments, checked in the package's order (:class:`Run`: ``n``, ``duration``,
  ``dt``, ``dtype``, ``method``, ``record_every``, ``t_start``, ``seed``, ``backend``), the first
  step of a continued run (:meth:`Run.start`) and the input (:meth:`Run.inputs`);
* the blocked layout (:mod:`._layout`: the model's state rows, then the engine's rows
  ``xi`` (this step's noise draw) and ``input`` (this step's per-neuron drive));
* the compiled time loop (:func:`population_kernels`: time outside, a branch-free loop across
  a block of neurons inside, ``prange`` over blocks), the noise streams, spike recording
  (a bit raster per block and step, :func:`._driver.raster_spikes`), traces and the search
  for a bad state;
* the host driver (:func:`._driver.run_raster`: windows of steps, each raster decoded in
  parallel into (time, neuron) order; the CUDA kernels fill the same raster on the device),
  the CUDA launch (:func:`._cuda.model_launcher`) and the :class:`SimulationResult`.

Precision
---------
A model lists the dtypes it integrates in (:attr:`Population.dtypes`). A run whose ``dtype`` is
among them works in it throughout: the blocked state and parameters, the input rows, the
synaptic ring and the traces are of that dtype, and so is every operation of the step (a
float32 step runs on twice the SIMD lanes of a float64 one). Otherwise the run works in
float64 and ``dtype`` is only the precision of the returned traces and final state. What
stays float64 in a float32 run: the host-side derived coefficients (``1 / C_m``,
``sigma / sqrt(dt)``, computed in float64 by the model, then rounded once), ``dt`` itself
(rounded to the working precision once per block for the step; spike times ``k dt`` and trace
times stay float64), and the noise draws (the float64 counter-based stream of
:mod:`fastkernels._random`, rounded as they are stored in the ``xi`` row), so a float32 run
draws the same noise as a float64 one. Values beyond the working precision's range
(parameters, derived coefficients, initial state, inputs, the ring) are refused before the run.
Step functions write their constants once for both precisions with
:func:`fastkernels._precision.like` and :func:`~fastkernels._precision.per_precision`.

Model interface
---------------
``loops``: one jitted function per method, ``loop(sb, pb, drive, ic, flags, m, dt) -> (spikes,
bad)``, stepping the ``m`` neurons of one block once: ``sb``/``pb`` are the block's state and
parameter rows flattened (row ``r`` of neuron ``j`` at ``r * ROW + j``), ``drive[j] + ic`` is
neuron ``j``'s input of the step, the noise draw is state row ``len(state)`` (``xi``); it writes
the new state and ``flags[j]`` (spiked), and counts spikes and bad states (in int32 counters:
the loop's widest type sets its vector width). ``drive``, ``ic`` and ``dt`` arrive in the
precision of ``sb`` (the run's working dtype): a loop that keeps its constants in that precision
(:func:`~fastkernels._precision.like`) compiles to pure float32 code for a float32 run, and one that calls
:func:`~fastkernels._precision.out_of_line_if_float32` stays a call in the float32 block kernel. ``first_bad(sb, m)``
returns the first neuron of the block in a bad state (``-1`` if none), for the error message.
:func:`population_kernels` binds them as compile-time constants (:func:`fastkernels._jit.specialise`),
so each model gets its own branch-free kernel with one compile per backend and working dtype
(Numba specialises the one serial and one parallel dispatcher by the dtype of ``S``).

Optional parts of the interface (keyword arguments of :func:`population_kernels`; the LIF uses
them all, HH and Izhikevich none):

* *stepped loops* (``stepped=True``): ``loop(sb, pb, drive, ic, flags, m, dt, k, xb)`` also gets
  the step index ``k`` and ``xb``, the block's slice of the run's ``extra`` float64 row (``(n,)``,
  or ``(1,)`` read as a scalar): per-neuron values the loop needs at full precision whatever the
  state's dtype (the LIF's refractory period in seconds for its legacy float rule);
* *uniform parameters*: ``P`` with one block whose first column the loop reads as scalars (the
  engine hands every block ``P[0]`` when ``P`` has one block; the model's loop variant knows);
* *internal state rows*: ``n_state`` rows precede ``xi`` and ``input``, of which the first
  ``n_traced`` are traced (the rest, and any rows after ``input``, are the model's own);
  ``trace(sb, pb, j, traces, r, row)`` writes neuron ``j``'s traced values (default: the first
  ``n_traced`` state rows), e.g. a parameter for a state variable the variant does not evolve;
* a *staging hook* ``stage(sb, pb, key, k, lo, m)`` run each step after the input is staged and
  before the step loop (the LIF draws its Poisson input jumps there);
* *count-only kernels* (``count=True``): no spike recording; ``spk_i`` is ``(units, ROW)`` int64
  and the loop receives the block's row of it as ``flags`` and adds its spikes to it;
* *compile options* of the variant (``options``, e.g. ``fastmath``) for the block function, so
  what the engine inlines there (input staging, noise draws) rounds as the model's loops do.

The LIF's event-driven method (exact threshold-crossing times, several spikes per neuron per
step) is the one kernel outside the engine: its loop is per neuron over sub-step events, not a
fixed-time step of a block, so it keeps its own kernel in :mod:`._lif_kernels`.

Synaptic input (the hook networks build on)
-------------------------------------------
The kernels take ``syn``, a ``(d, n)`` ring of per-step input (``d = 0``: none) in the run's working
dtype (a float32 run adds float32 synaptic input, on the CPU and on CUDA alike). When
``d > 0`` neuron ``i``'s drive at step ``k`` is ``I(t_k)[i] + syn[k % d, i]``: it is added to the
input row before the model's step, hence before the threshold test, like a current-based
synapse's ``on_pre`` effect arriving at the step's start. A network with minimum delay ``d``
steps runs the kernel ``d`` steps at a time (``k_end``), between calls clearing the ring slots
it consumed and scattering the new spikes into the slots of their arrival steps. With ``d = 0``
(every simulator today) nothing is read and the input path is unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, jit, specialise
from .._precision import int_flags, like
from .._random import resolve_seed, seed_kept
from .._simd import prefer_wide_vectors
from .._validate import check_cast_range, check_choice, check_scalar
from . import _driver, _params
from ._driver import raster_spikes, stage_inputs
from ._layout import BLOCK, ROW, blocked, unblocked, unblocked_rows
from ._params import as_record, check_common, check_run, check_traces, first_step, traced_prefix
from .inputs import as_input
from .result import SimulationResult

FLOAT64 = np.dtype(np.float64)


#: The raster counts a count-only kernel is handed (and never touches).
_NO_RASTER_COUNTS = np.zeros((1, 1), dtype=np.int32)

#: The ``extra`` row of a model that needs none.
NO_EXTRA = np.zeros(1, dtype=np.float64)


@dataclass(frozen=True)
class Population:
    """What a model gives the engine.

    Attributes
    ----------
    name : str
        The key of the model's CUDA kernel in :data:`fastkernels.neurons._cuda.KERNELS`.
    methods : tuple of str
        Integrators; a method's code is its index (the ``method`` argument of the kernels).
    state : tuple of str
        State rows, in kernel order: all are traced and returned as the final state.
    params : tuple of str
        Parameter rows, in kernel order (keys of the dict given to :func:`simulate`).
    kernels : tuple of (serial, parallel)
        One pair per method code, from :func:`method_kernels`.
    cost : int
        Cost of one neuron update relative to an LIF's (for the ``"auto"`` backend choice).
    dtypes : tuple of numpy.dtype
        The working precisions the model's step code supports (see the module docstring);
        a run of another ``dtype`` works in float64.
    labels : dict
        For error messages: the user-facing name behind a parameter or state row (``"inv_c"``
        -> ``"C_m (1 / C_m)"``); rows not listed are named as they are.
    loops : tuple
        The step loops behind ``kernels`` (one per method code), for other time loops that step
        the model (:mod:`fastkernels.networks`).
    first_bad : function
        The model's ``first_bad(sb, m)``.
    """

    name: str
    methods: tuple
    state: tuple
    params: tuple
    kernels: tuple
    cost: int = 1
    dtypes: tuple = (FLOAT64,)
    labels: dict = field(default_factory=dict, hash=False)
    loops: tuple = field(default=(), hash=False)
    first_bad: object = field(default=None, hash=False)

    def working_dtype(self, dtype) -> np.dtype:
        """The precision a run of result dtype ``dtype`` integrates in: ``dtype`` when supported, else float64."""
        dtype = np.dtype(dtype)
        return dtype if dtype in self.dtypes else FLOAT64


# ------------------------------------------------------------------ compiled time loop
@jit(inline="always")
def _add_synaptic(inp, rows, syn, k, lo, m):
    """Fold step ``k``'s synaptic input (ring slot ``k % d``) into the block's input row."""
    d = k % syn.shape[0]
    if rows.shape[0] > 1:  # the row already holds this step's input
        for j in range(m):
            inp[j] += syn[d, lo + j]
    else:
        for j in range(m):
            inp[j] = rows[0, lo + j] + syn[d, lo + j]



def _trace_rows(sb, pb, j, traces, r, row):
    """The default trace: state rows ``0 .. _N_TRACED - 1`` of neuron ``j`` into ``traces[:, r, row]``,
    the first ``traces.shape[0]`` of them (a run that records only the first variables allocates
    only theirs)."""
    for q in range(min(_N_TRACED, traces.shape[0])):  # noqa: F821
        traces[q, r, row] = sb[q * ROW + j]


@jit(inline="always")
def no_stage(sb, pb, key, k, lo, m):
    """The staging hook of a model that needs none."""


def _block_template(b, S, P, rows, common, syn, key, noisy, method, k_begin, k_end, k0, dt, spk_i, spk_n, err,
                    rec, rec_lo, stride, traces, extra, off):
    """Advance block ``b`` from its step ``k_begin[b]`` to ``k_end`` (or to a bad state).

    Recording kernels store each step's spikes in the block's rows of the window's bit raster
    (``spk_i``, uint64) and their number in ``spk_n`` (int32), row ``k - k_begin[b]``
    (:func:`._driver.raster_spikes`); count-only kernels add them to ``spk_i[b]`` (int64 counts)
    and leave ``spk_n`` alone.

    Time loop outside, the model's vectorised neuron loop of the method inside. ``noisy`` and
    ``method`` are run-time arguments: one compiled kernel serves every configuration (the
    branch is taken once per block and step, never per neuron). ``P`` holds one block per
    block of neurons, or one block for all (uniform parameters). ``_N_STATE`` (the rows before
    ``xi`` and ``input``), the step loops ``_L0``..``_L2`` (``_SINGLE``: one loop for all),
    ``_FIRST_BAD``, ``_TRACE``, ``_STAGE`` and ``_COUNT`` are compile-time constants of each model's clone. Plain loops get the step's
    common input and ``dt`` in the precision of ``S``; stepped ones ``dt`` in float64 (spike times ``k dt`` stay float64).
    ``off`` is the global index of neuron 0 (:func:`._driver.neuron_offset`): the noise and the staging
    hook's draws of neuron ``lo + j`` use its global index ``off + lo + j``; ids, traces and errors stay local.
    """
    prefer_wide_vectors()  # the step loops LLVM inlines here keep their vector width
    n = rows.shape[1]
    synaptic = syn.shape[0] > 0
    varying = rows.shape[0] > 1 or synaptic
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    sb = S[b].reshape(-1)
    pb = P[b if P.shape[0] > 1 else 0].reshape(-1)
    xb = extra[lo:lo + m] if extra.shape[0] > 1 else extra[0:1]
    inp = sb[(_N_STATE + 1) * ROW:(_N_STATE + 1) * ROW + m]  # noqa: F821
    xi = sb[_N_STATE * ROW:_N_STATE * ROW + m]  # noqa: F821
    drive = inp if varying else rows[0, lo:lo + m]
    # Spike flags of one step, 0/1, as wide as the state's floats (int_flags: the loops keep
    # their lanes; uint8 flags cost the LIF ~20% of its step in narrowing shuffles on AVX2), or
    # bytes for a model whose step is long enough that the narrowing is free (``_NARROW``: HH's
    # float64 RK4 ran 5% slower with int64 flags). Count-only kernels hand the loop the block's
    # spike counts instead.
    if _NARROW:  # noqa: F821
        flags = np.zeros(ROW, dtype=np.uint8)
    else:
        flags = int_flags(sb, ROW)
    fl = spk_i[b] if _COUNT else flags  # noqa: F821
    dts = like(sb, dt)  # the step's dt in the working precision
    k = k_begin[b]
    first = k  # the window's first step: raster row k - first
    while k < k_end:
        if rec_lo[b + 1] > rec_lo[b] and (k - k0) % stride == 0:
            row = (k - k0) // stride
            for r in range(rec_lo[b], rec_lo[b + 1]):
                _TRACE(sb, pb, rec[r] - lo, traces, r, row)  # noqa: F821
        # Plain loops get the common input in the working precision; stepped loops (the LIF's)
        # as staged (float64), rounded to the state's precision inside the loop.
        ic_staged = stage_inputs(inp, xi, rows, common, key, k, k0, lo, m, noisy, off)
        ic = like(sb, ic_staged)
        if synaptic:
            _add_synaptic(inp, rows, syn, k, lo, m)
        _STAGE(sb, pb, key, k, off + lo, m)  # noqa: F821  (draws keyed by the global index)
        # The model's step loop of this method (``_L0``.. ``_L2``: compile-time constants).
        if _STEPPED:  # noqa: F821  (loops that take the step and the float64 row: the LIF's)
            if _SINGLE or method == 0:  # one loop for every method (bound once: an inlined loop is compiled once)  # noqa: F821
                nsp, nbad = _L0(sb, pb, drive, ic_staged, fl, m, dt, k, xb)  # noqa: F821
            elif method == 1:
                nsp, nbad = _L1(sb, pb, drive, ic_staged, fl, m, dt, k, xb)  # noqa: F821
            else:
                nsp, nbad = _L2(sb, pb, drive, ic_staged, fl, m, dt, k, xb)  # noqa: F821
        elif _SINGLE or method == 0:  # noqa: F821
            nsp, nbad = _L0(sb, pb, drive, ic, fl, m, dts)  # noqa: F821
        elif method == 1:
            nsp, nbad = _L1(sb, pb, drive, ic, fl, m, dts)  # noqa: F821
        else:
            nsp, nbad = _L2(sb, pb, drive, ic, fl, m, dts)  # noqa: F821
        if nbad:
            j = _FIRST_BAD(sb, m)  # noqa: F821
            if j >= 0:
                err[b, 0] = k
                err[b, 1] = lo + j
            break
        if not _COUNT:  # noqa: F821
            raster_spikes(flags, nsp, k - first, b, spk_i, spk_n)
        k += 1
    k_begin[b] = k


def _blocks_template(S, P, rows, common, syn, key, noisy, method, k_begin, k_end, k0, dt, spk_i, spk_n, err,
                     rec, rec_lo, stride, traces, extra, off):
    """Every block, ``prange`` over blocks in the parallel build (each block compiled on its own:
    Numba's parallel lowering does not vectorise a prange body's inner loops, a called function
    is vectorised). ``np.int64(b)``: a ``prange`` index is unsigned in the parallel build, and the
    block function would otherwise be compiled a second time for a ``uint64`` argument."""
    for b in prange(k_begin.shape[0]):
        _BLOCK_FN(np.int64(b), S, P, rows, common, syn, key, noisy, method, k_begin, k_end, k0, dt,  # noqa: F821
                  spk_i, spk_n, err, rec, rec_lo, stride, traces, extra, off)


def population_kernels(name: str, loops, first_bad, n_state: int, *, n_traced=None, stepped=False, trace=None,
                       stage=None, count=False, narrow_flags=False, options=None) -> tuple:
    """The (serial, parallel) kernels of one model: the engine's time loop around its step loops.

    Each dispatcher compiles once per working dtype of the arrays it is called with (float64,
    and float32 for a model whose loops keep to the state's precision).

    Parameters
    ----------
    name : str
        Prefix of the compiled functions' names (each variant has its own cache entry).
    loops : sequence of 1 to 3 jitted functions
        The step loop of each method code (see the module docstring); one loop serves every
        method. Each loop marks itself ``alwaysinline`` for LLVM (:func:`fastkernels._simd.inline_hint`):
        a call per block and step would cost ~15% of the LIF's few instructions per neuron, and
        Numba's own inlining (``inline="always"``) recompiled the loop's IR at every call site
        (19 s of a network kernel's 28 s compile; 2 s this way).
    first_bad : jitted function
        ``first_bad(sb, m)``: the first neuron of a block in a bad state, or -1.
    n_state : int
        Number of model state rows before the engine's ``xi`` and ``input`` rows.
    n_traced : int, optional
        How many of them the default trace writes (default ``n_state``).
    stepped : bool
        The loops take ``(..., dt, k, xb)`` (else ``(..., dt)``).
    trace, stage : jitted functions, optional
        The trace writer and the staging hook (see the module docstring).
    count : bool
        The count-only kernels (no spike recording; the loops add to per-neuron counts).
    narrow_flags : bool
        The loops store each step's spike flags as bytes (``uint8``), not as integers as wide as
        the state's floats: for a step so long that narrowing the flags costs nothing (HH), where
        the wide stores cost time (HH's float64 RK4: 5% of its run).
    options : dict, optional
        Compile options of the block function (default the package's).
    """
    loops = tuple(loops) + (loops[-1],) * (3 - len(loops))
    if trace is None:
        trace = jit(specialise(_trace_rows, f"_{name}_trace", _N_TRACED=n_state if n_traced is None else n_traced))
    single = all(f is loops[0] for f in loops)
    block = jit(specialise(_block_template, f"_{name}_block", _L0=loops[0], _L1=loops[1], _L2=loops[2], _SINGLE=single,
                           _STEPPED=bool(stepped),
                           _FIRST_BAD=first_bad, _N_STATE=n_state, _TRACE=trace,
                           _STAGE=no_stage if stage is None else stage, _COUNT=bool(count),
                           _NARROW=bool(narrow_flags)), **(options or {}))
    return cpu_kernels(specialise(_blocks_template, f"_{name}_blocks", _BLOCK_FN=block))


def method_kernels(name: str, loops, first_bad, n_state: int, **kwargs) -> tuple:
    """``((serial, parallel), ...)``, one pair per method code: :func:`population_kernels` around
    each step loop alone (``kwargs`` as there), named ``{name}{code}``.

    A run compiles only its method's kernel: one block kernel holding every method's loop
    compiled all of them at a call's first use (HH: its three integrators, ~6 s of a first
    ``simulate_hh``). Dispatchers compile lazily, so building the pairs costs nothing.
    """
    return tuple(population_kernels(f"{name}{code}", (loop,), first_bad, n_state, **kwargs)
                 for code, loop in enumerate(loops))


# ------------------------------------------------------------------ host side
class Run:
    """The run-level arguments of one ``simulate_*`` call, checked in the package's order.

    Construction checks ``seed``, ``backend``, ``n``, ``duration``, ``dt``, ``dtype``,
    ``method``, ``record_every`` and ``t_start``; :meth:`start` fixes the first step (a continued
    run's ``initial['step']``), :meth:`inputs` the input, :meth:`result` packages the outcome.
    """

    def __init__(self, n, duration, dt, dtype, method, methods, record_every, t_start, seed, backend, *,
                 bytes_per_neuron: int):
        check_common(seed, backend)
        self.n, self.n_steps, self.dt, self.dtype = check_run(n, duration, dt, dtype,
                                                              bytes_per_neuron=bytes_per_neuron)
        check_choice(method, "method", methods)
        self.method, self.code = method, methods.index(method)
        self.record_every = _params.stride(record_every, self.n_steps)
        self.t_start = check_scalar(t_start, "t_start")
        self.seed, self.backend = seed, backend
        self.k0 = self.k1 = None

    def start(self, initial_step=None) -> int:
        """Fix the first step ``k0`` (``round(t_start / dt)``, or a continued run's ``initial['step']``)."""
        self.k0 = first_step(self.t_start, self.dt, self.n_steps, initial_step)
        self.t_start = self.k0 * self.dt
        self.k1 = self.k0 + self.n_steps
        return self.k0

    def inputs(self, I, dtype=np.float64):
        """``(rows, common)``: the input as the kernels read it (:func:`.inputs.as_input`), in ``dtype``
        (an engine model passes its working dtype, :meth:`Population.working_dtype`; values beyond
        a float32 ``dtype`` are refused, naming ``I``)."""
        self.rows, self.common = as_input(I, "I", n=self.n, n_steps=self.n_steps, t0=self.t_start, dt=self.dt,
                                          dtype=dtype)
        return self.rows, self.common

    def record(self, record, n_vars: int, itemsize: int):
        """``(rec, n_rows)``: the traced neurons (sorted) and samples per trace, refused when too large."""
        rec = as_record(record, self.n)
        n_rows = _driver.n_trace_rows(self.n_steps, self.record_every)
        check_traces(n_vars, rec, n_rows, itemsize)
        return rec, n_rows

    def result(self, times, ids, rec, n_rows, traces: dict, final: dict) -> SimulationResult:
        """The :class:`SimulationResult` (``final`` gains the next run's first ``step``)."""
        final["step"] = self.k1
        return SimulationResult(
            spike_times=times, spike_neurons=ids, n=self.n, t_start=self.t_start, duration=self.n_steps * self.dt,
            dt=self.dt, trace_neurons=rec, trace_times=(self.k0 + np.arange(n_rows) * self.record_every) * self.dt,
            traces=traces, final_state=final)


def population_backend(backend: str, work: int, n: int) -> str:
    """:func:`fastkernels._backend.resolve_backend` for a population of ``n`` neurons: ``"auto"``
    never picks ``"parallel"`` for one block (threads would have nothing to share, and a
    small first run would compile the parallel kernels, seconds, for nothing)."""
    resolved = resolve_backend(backend, work=work)
    return "cpu" if backend == "auto" and resolved == "parallel" and n <= BLOCK else resolved


def synaptic_ring(syn, n: int, dtype) -> np.ndarray:
    """The synaptic input ring a kernel reads: ``syn`` as a C-contiguous ``(d, n)`` array of ``dtype``
    (``None``: the empty ring, no synaptic input); values beyond ``dtype``'s range are refused."""
    dtype = np.dtype(dtype)
    if syn is None:
        return np.zeros((0, 1), dtype=dtype)
    syn = np.asarray(syn)
    if syn.ndim != 2 or syn.shape[1] != n:
        raise ValueError(f"syn must have shape (d, {n}), got {syn.shape}")
    if syn.dtype.kind == "f" and syn.size and dtype.itemsize < syn.dtype.itemsize:
        check_cast_range(syn.astype(np.float64, copy=False), dtype, "syn")
    return np.ascontiguousarray(syn, dtype=dtype)


def simulate(model: Population, run: Run, p: dict, state: dict, noisy: bool, record, syn=None, variables=None):
    """Run ``model`` for ``run`` from ``state`` with parameters ``p`` (``(n,)`` float64 rows each).

    The integration runs in ``model.working_dtype(run.dtype)`` (see the module docstring):
    ``run.dtype`` itself when the model supports it, else float64, with ``run.dtype`` then
    setting only the precision of the returned traces and final state. ``p``, ``state`` and the
    input (:meth:`Run.inputs`) are rounded to it once, after a check that refuses values beyond
    its range (naming the parameter, through :attr:`Population.labels`; the input is normally
    already in the working dtype). ``syn``: the synaptic input ring, ``(d, n)`` (see the module
    docstring; default none), converted to the working dtype. ``variables``: the names of the
    state variables the result must trace (default all); the run traces the prefix of
    ``model.state`` that holds them (:func:`._params.traced_prefix`).

    Raises
    ------
    ValueError
        A parameter, initial state, input or ``syn`` value beyond the working precision's range;
        ``syn`` of the wrong shape; traces too large for memory.
    """
    n, dtype = run.n, run.dtype
    work = model.working_dtype(dtype)
    syn = synaptic_ring(syn, n, work)
    if work.itemsize < 8:
        checks = [(p[name], model.labels.get(name, name)) for name in model.params]
        checks += [(state[name], model.labels.get(name, f"the initial {name!r}")) for name in model.state
                   if name in state]
        checks += [(run.rows, "I"), (run.common, "I")]
        top = float(np.finfo(work).max)
        for arr, name in checks:
            arr = np.asarray(arr)
            # two reductions for the usual case (everything is finite here, checked by the model)
            if arr.size and arr.dtype.kind == "f" and not (-top <= arr.min() and arr.max() <= top):
                check_cast_range(arr.astype(np.float64, copy=False), work, name)
    run.rows, run.common = (np.ascontiguousarray(a, dtype=work) for a in (run.rows, run.common))
    # Traces are kept in the working dtype, plus a copy when the result's dtype differs.
    n_traced = traced_prefix(variables, model.state)
    rec, n_rows = run.record(record, n_traced, work.itemsize + (0 if dtype == work else dtype.itemsize))
    backend = population_backend(run.backend, model.cost * n * run.n_steps, n)
    # Fresh blocked copies: the kernels never write the caller's arrays.
    P = blocked(p, model.params, n, work)
    S = blocked(state, model.state + ("xi", "input"), n, work)
    traces = np.zeros((n_traced, rec.size, n_rows), dtype=work)
    with seed_kept(run.seed):
        key = resolve_seed(run.seed) if noisy else np.int64(0)
        times, ids = _launch(model, run, backend, S, P, syn, key, noisy, rec, traces)
    final = dict(zip(model.state, unblocked_rows(S, len(model.state), n).astype(dtype, copy=False)))
    return run.result(times, ids, rec, n_rows,
                      {name: traces[i].astype(dtype, copy=False) for i, name in enumerate(model.state[:n_traced])},
                      final)


def _launch(model, run, backend, S, P, syn, key, noisy, rec, traces):
    k0, k1, dt, code, stride = run.k0, run.k1, run.dt, run.code, run.record_every
    rows, common = run.rows, run.common
    if backend == "cuda":
        cu = load_cuda("fastkernels.neurons._cuda")
        launch, finish = cu.model_launcher(model.name, len(model.state) + 2, len(model.params), S, P, rows, common,
                                           syn, key, k0, dt, code, noisy, rec, stride, traces)
        times, ids = _driver.run_raster(launch, units=S.shape[0], k0=k0, k1=k1, dt=dt, parallel=True, device=True)
        finish()
        return times, ids
    serial, parallel = model.kernels[code]
    launch = cpu_launch(parallel if backend == "parallel" else serial, S, P, rows, common, syn, key, noisy, code, k0, dt,
                        rec, stride, traces)
    return _driver.run_raster(launch, units=S.shape[0], k0=k0, k1=k1, dt=dt, parallel=backend == "parallel")


def cpu_launch(kern, S, P, rows, common, syn, key, noisy, code, k0, dt, rec, stride, traces, extra=NO_EXTRA):
    """The ``launch(k_begin, k_end, spk_i, spk_n, err)`` :func:`._driver.run_raster` calls for a CPU
    kernel of :func:`population_kernels` (``extra``: the stepped loops' float64 row). The kernel
    numbers the neurons' random streams from the context's :func:`._driver.neuron_offset`."""
    rec_lo = _driver.record_ranges(rec, rows.shape[1], BLOCK)
    off = np.int64(_driver.current_offset())

    def launch(k_begin, k_end, spk_i, spk_n, err):
        kern(S, P, rows, common, syn, key, noisy, code, k_begin, k_end, k0, dt, spk_i, spk_n, err, rec, rec_lo,
             stride, traces, extra, off)

    return launch


def count_spikes(kern, S, P, rows, common, syn, key, noisy, code, k0, k1, dt, rec, stride, traces, extra=NO_EXTRA,
                 k_from=None):
    """Run a count-only kernel (``population_kernels(..., count=True)``) from step ``k_from`` (default
    the run's first step ``k0``, which indexes the inputs) to ``k1`` in one launch: the spikes of each
    neuron, ``(n,)`` int64; raises :class:`._driver.SimulationError` on a bad state (naming the
    neuron's global index under :func:`._driver.neuron_offset`)."""
    n, units = rows.shape[1], S.shape[0]
    k_begin = np.full(units, k0 if k_from is None else k_from, dtype=np.int64)
    counts = np.zeros((units, ROW), dtype=np.int64)
    err = np.full((units, 2), -1, dtype=np.int64)
    cpu_launch(kern, S, P, rows, common, syn, key, noisy, code, k0, dt, rec, stride, traces, extra)(
        k_begin, k1, counts, _NO_RASTER_COUNTS, err)
    _driver.raise_bad_state(err, dt, _driver.current_offset())
    return unblocked(counts[:, None, :], 0, n)
