"""The compiled network run on CUDA: the device twin of :mod:`._network_kernels`.

:func:`network_cuda` (LIF groups) and :func:`engine_network_cuda` (HH and Izhikevich groups, the
population engine's models) return, for one feature combination, a host function with the argument
list of the CPU kernel (``_network_kernels._run_template``) and its contract: run from
``k_begin[0]`` to ``k_end`` (or until the spike buffer could overflow), in Brian2's per-step
order (see that module's docstring), updating the same arrays in place. ``Plan.execute`` calls
it exactly as it calls the CPU kernel. Both kinds share everything but the neuron update (the
host loop :func:`_run`, the propagation, plasticity, ring, monitor and sorting kernels, which take
the first receptor state row ``rrow`` as an argument).

Data movement: one call copies the per-neuron state and parameters to the device once, in the
CUDA layout (one row per variable, ``(rows, n)``, so neuron ``i`` is thread ``i`` and a warp's
loads coalesce; uniform parameters travel as one column), with the synapses, the delay ring,
the plasticity state and the generator spikes; everything stays on the device for the whole
call, and the state, the ring, the learnt weights and traces, the spikes and the monitor's
samples are copied back at its end. Inside the time loop the host only launches kernels (it
never waits on the device): per step ``k``

0. *start* (sampled steps only): ``_sample`` copies ``v`` and the receptors of the monitored
   neurons into the trace buffer (the values at ``t_k``);
1. *groups + thresholds*: ``_update`` (specialised per feature combination, as the CPU loop
   is), one thread per neuron: the receptors' drive ``sum coef g`` (currents) and
   ``sum coef g (E - v)`` (conductances) from every row's value at the step's start, then their
   decay, last row first (``g *= decay``; a PSC filter chain's stage adds its predecessors'
   old values, ``sum_i h^i / i! g_(r-i)``, first), flushed below ``FLUSH``; the noise and
   Poisson draws (the same counter-based streams as the CPU); and
   :func:`~fastkernels.neurons._lif_kernels.lif_step`, the CPU's own step function. An engine
   model's update (:func:`_engine_update_kernel`, specialised per model, method and receptor
   set) stages the same receptor terms into the drive as ``_network_kernels._engine_update_template``
   does (the external input, then each receptor's term added in the working dtype), decays them
   alike, draws the noise, and calls the model's CUDA step of the method (``hh_step`` and the
   Izhikevich steps cloned for CUDA, :mod:`fastkernels.neurons._cuda`: the CPU loops' source with
   the hardware ``exp``); its ``bad`` flag is the CPU's bad-state test (``first_bad`` finds the
   same neuron). A spiking neuron sets its flag and appends its id to the step's segment of the
   device spike list with an atomic counter;
2. *synapses*: ``_propagate``, one warp per source that spiked in this step (the neurons', then
   this step's generator spikes, which it appends to the list; a grid-stride loop over warps),
   lanes striding over its CSR row: ``cuda.atomic.add`` into the target receptor row or ``v`` (skipping targets that spiked
   in this step: Brian2's reset overwrites that jump), or into the delay ring's slot of step
   ``k + delay``;
3. ``_stdp_pre`` then ``_stdp_post`` (plastic projections only), one warp per spike: Brian2's
   ``on_pre`` then ``on_post`` of :mod:`._stdp_kernels`, race-free by construction (a pre spike
   owns its row's synapses and its trace, a post spike its column's; the pathways are two
   launches, so ``on_post`` reads this step's ``apre``);
4. ``_apply_ring`` (delays only), one thread per neuron: the ring slot of step ``k`` is added
   (a ``v`` jump onto a neuron that spiked is dropped) and cleared.

Each kernel first checks a small device control array: once the spike list could overflow
(as the CPU loop checks, before the step) or a neuron's state went bad, every later kernel of
the call returns at once, and the host reads where the run stopped at the end of the call.
Three to five launches per step from the host loop is the simple design; a persistent kernel
with a grid-wide barrier between the phases (cooperative launch) would save the launch cost
(a few microseconds per kernel on an H100, more in numba-cuda's Python dispatch), at the price
of a grid limited to the co-resident blocks.

Spike order: the atomic appends of a step are unordered. At the end of the call ``_sort_steps``
sorts each step's neuron spikes (one block per step, a bitonic network in shared memory, in
global memory for a step with more than :data:`SORT_SHARED` spikes); the generator spikes follow
in their (step, id) order, so the list equals the CPU's: steps ascending, neurons ascending, then
the generators. Propagation and plasticity do not depend on the order within a step.

Precision and determinism: the update runs in the network's dtype with the CPU's types (the
same step function, the same receptor and noise casts; as on the CPU, a float32 LIF network's
drive and step counter are float64, an engine model's drive is in the working dtype), without fast-math (the CPU loop contracts to FMA, and so does
NVVM by default): states agree to rounding. Floating point atomics make the order of the
additions into one target within a step nondeterministic, so a neuron receiving several inputs
in one step (or several spikes into one ring slot) matches the CPU only to rounding, and a
membrane potential within rounding of the threshold may in rare cases spike on one backend and
not the other; the weights learnt by STDP are exact up to the device ``exp``. The engine models'
CPU loops compute ``exp`` with a vectorisable polynomial (< 1.5 ulp), the device steps with the
hardware's, so their states agree to rounding too (HH and Izhikevich amplify it in an upstroke).
(Under the
simulator the threads of a block interleave too: tests/cuda/test_networks_cuda.py compares
spikes exactly on small networks and states to a tolerance.)

Scope: LIF groups (:func:`~._network_kernels.network_kernels`) and the engine models' groups
(:func:`~._network_kernels.engine_network_kernels`). An engine model's state rows ``xi`` and
``input`` (the CPU's staging rows) are not written on the device: the draw and the drive stay in
registers. A call copies everything in and out, so
the caller should make its chunks long (``Plan.execute``'s adaptive chunks of about 0.25 s are);
arrays that do not change within a run (the synapses, parameters, generator spikes) could be
kept on the device across calls by the caller.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, types
from numba import int64 as _i64

from .. import _launch
from .._jit import device, retarget, specialise
from .._random import normal, stream_key
from .._random import poisson as poisson_count
from ..neurons import _hh_kernels as _hh
from ..neurons import izhikevich as _izh
from ..neurons._cuda import free_legacy_rn, hh_step_cuda, izh_euler_step_cuda, izh_rk4_step_cuda
from ..neurons._layout import BLOCK, reblock
from ..neurons._lif_kernels import (
    DVT,
    DW,
    JW,
    LAM,
    MAX_RECEPTORS,
    POISSON_STREAM,
    PT,
    PW,
    RECEPTOR_PARAM,
    RECEPTOR_ROW,
    REFSTEPS,
    SINCE,
    SINCE_MAX,
    SN,
    VRESET,
    VREST,
    VT,
    VT0,
    A,
    C,
    R,
    V,
    W,
    flushed,
    lif_step,
)
from . import _stdp_kernels as _stdp

__all__ = ["engine_network_cuda", "network_cuda"]

_dev_stdp = retarget(vars(_stdp), ("decayed_trace", "clip_weight"))
_decayed = _dev_stdp["decayed_trace"]
_clip = _dev_stdp["clip_weight"]

# The device control array: STOP (the spike list could overflow from step K_STOP on), BAD_K /
# BAD_I (the step and the lowest neuron whose state went bad; -1 / BIG: none).
STOP, K_STOP, BAD_K, BAD_I = range(4)
_N_CTL = 4
_BIG = np.iinfo(np.int64).max
#: Warp width (the propagation and plasticity kernels give each spike one warp; blocks are whole warps).
WARP = 32
#: A step's neuron spikes up to this many are sorted in shared memory (8 KiB of int64 ids).
SORT_SHARED = 1024


# ---------------------------------------------------------------- device helpers
# Scalar helpers are ``device`` functions (Numba IR inlined on the GPU; the simulator calls them
# as compiled CPU code, while it runs every call of a CUDA device function under a module lock).
@device
def _halt(stop, bad_k, k, base, need, dcap):
    """Whether step ``k`` must not run: 0 it runs; 1 the run stopped in an earlier step or a state
    went bad there; 2 the spike list (``base`` used of ``dcap``) lacks room for ``need`` more
    spikes: the run stops here (every thread of the step finds the same)."""
    if stop != 0 or (bad_k >= 0 and bad_k != k):
        return 1
    if base + need > dcap:
        return 2
    return 0


@device
def _state_row(x, rrow):
    """The state row of target ``x`` (0: ``v``, row 0 of every model; ``1 + r``: receptor ``r``, the
    model's receptor rows starting at ``rrow``)."""
    return V if x == 0 else rrow + x - 1


# ---------------------------------------------------------------- 1. the neuron update
_PER_NEURON = _DYNAMICS = _NOISY = _LEGACY = _FREEZE = _POISSON = False
_N_CUR = _N_COND = 0
_CHAIN = (0, 0, 0, 0)


@cuda.jit(device=True, inline="always")
def _decay_receptors(S, P, i, q, rrow, rpar, n_rec, chain):
    """Neuron ``i``'s receptor rows ``rrow ..`` after the step (parameter column ``q``, rows from
    ``rpar``: ``(coef, decay, E or h)`` each), last row first (a filter chain's stage reads the earlier
    stages' old values): ``decay (g_r + sum_m h^m / m! g_(r-m))``."""
    for rr in range(n_rec):
        r = n_rec - 1 - rr
        acc = S[rrow + r, i]
        if chain[r] > 0:
            h = P[rpar + 3 * r + 2, q]
            f = 1.0
            for m in range(1, chain[r] + 1):
                f = f * h / m
                acc += f * S[rrow + r - m, i]
        S[rrow + r, i] = acc * P[rpar + 3 * r + 1, q]


@cuda.jit(device=True, inline="always")
def _flush_receptors(S, i, rrow, n_rec):
    """Neuron ``i``'s receptor rows flushed (``_network_kernels.flush_period``)."""
    for r in range(n_rec):
        S[rrow + r, i] = flushed(S[rrow + r, i])


@cuda.jit(device=True, inline="always")
def _commit_spike(fired, ids, stepcnt, ctl, base, j, k, i, sp, bad):
    """Neuron ``i``'s outcome of step ``k``: its flag, its id appended to the step's list segment
    (room was checked before the step: ``n + ng`` slots), a bad state recorded (the lowest neuron)."""
    fired[i] = 1 if sp else 0
    if sp:
        ids[base + cuda.atomic.add(stepcnt, j, 1)] = i
    if bad:
        cuda.atomic.min(ctl, BAD_I, i)
        ctl[BAD_K] = k


@cuda.jit(device=True, inline="always")
def _update_halts(ctl, k, base, need, dcap):
    """Whether a neuron update of step ``k`` must return at once: the run stopped earlier, or the
    spike list could overflow in this step (then it records the stop, ``K_STOP = k``)."""
    h = _halt(ctl[STOP], ctl[BAD_K], k, base, need, dcap)
    if h == 2:
        ctl[K_STOP] = k
        ctl[STOP] = 1
    return h != 0


def _update_template(S, P, xb, iext, key, k, j, n, ng, dcap, dt, fired, stepcnt, seg, ids, ctl, flush):
    """Step ``k`` of every neuron (thread ``i``: neuron ``i``), as the CPU's ``_loop_template``
    with the receptor rows (without its per-step flushes), then ``v`` and the receptors flushed if
    ``flush``, as the CPU's network update does; spikes set ``fired[i]`` and go to the step's list
    segment. The feature flags are compile-time constants (:func:`_update_kernel`), the
    expressions the CPU's, so the step function sees the same argument types."""
    if _update_halts(ctl, k, seg[j], n + ng, dcap):
        return
    real = S.dtype.type
    dt_s = dt * 1e-3
    base = seg[j]
    per_i = iext.shape[0] > 1
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, stride):
        q = i if _PER_NEURON else 0
        since = S[SINCE, i] + 1.0  # = k - k_spike, saturating
        since = since if since < SINCE_MAX else SINCE_MAX
        if _LEGACY:
            free = free_legacy_rn(since, k, dt_s, xb[q])
        else:
            free = since >= P[REFSTEPS, q]
        v = S[V, i]
        dj = float(iext[i if per_i else 0])  # the CPU's drive + ic (float64)
        if _N_CUR + _N_COND > 0:
            syn = 0.0
            for r in range(_N_CUR + _N_COND):  # the drive, from every row's value at the step's start
                x = S[RECEPTOR_ROW + r, i]
                c = P[RECEPTOR_PARAM + 3 * r, q]
                syn += c * x if r < _N_CUR else c * x * (P[RECEPTOR_PARAM + 3 * r + 2, q] - v)
            _decay_receptors(S, P, i, q, RECEPTOR_ROW, RECEPTOR_PARAM, _N_CUR + _N_COND, _CHAIN)
            dj += syn
        # the CPU stages the draws into its state rows (the working dtype), then reads them
        xi = real(normal(stream_key(key, i), k)) if _NOISY else 0.0
        jump = real(poisson_count(stream_key(key, POISSON_STREAM + i), k, P[LAM, q]) * P[JW, q]) if _POISSON \
            else 0.0
        vn, vtn, wn, s_, sp, bad = lif_step(
            v, S[VT, i] if _DYNAMICS else 0.0, S[W, i] if _DYNAMICS else 0.0, since, free, dj, xi, jump,
            P[A, q], P[C, q], P[PW, q], P[PT, q], P[VREST, q], P[R, q], P[VT0, q], P[VRESET, q], P[DVT, q],
            P[DW, q], P[SN, q], _FREEZE, _DYNAMICS, False)
        S[V, i] = flushed(vn) if flush else vn
        if _DYNAMICS:
            S[VT, i] = vtn
            S[W, i] = wn
        S[SINCE, i] = s_
        if flush:
            _flush_receptors(S, i, RECEPTOR_ROW, _N_CUR + _N_COND)
        _commit_spike(fired, ids, stepcnt, ctl, base, j, k, i, sp, bad)


_UPDATES = {}


def _flags(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain):
    chain = tuple(int(c) for c in chain) + (0,) * (MAX_RECEPTORS - len(chain))
    return (bool(per_neuron), bool(dynamics), bool(noisy), bool(legacy), bool(freeze), bool(poisson), int(n_cur),
            int(n_cond), chain)


def _update_kernel(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain=()):
    """The ``_update`` kernel of one feature combination (built once, compiled per dtype on first launch)."""
    flags = _flags(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain)
    if flags not in _UPDATES:
        tag = "".join("1" if f else "0" for f in flags[:6]) + f"_{flags[6]}{flags[7]}"
        if any(flags[8]):
            tag += "_c" + "".join(map(str, flags[8]))
        fn = specialise(_update_template, f"_net_cuda_update_{tag}", _PER_NEURON=flags[0], _DYNAMICS=flags[1],
                        _NOISY=flags[2], _LEGACY=flags[3], _FREEZE=flags[4], _POISSON=flags[5], _N_CUR=flags[6],
                        _N_COND=flags[7], _CHAIN=flags[8])
        _UPDATES[flags] = cuda.jit(fn)
    return _UPDATES[flags]


# ---------------------------------------------------------------- 1'. the engine models' update
# HH and Izhikevich groups (the population engine's models, :class:`~fastkernels.neurons._engine.Population`):
# state rows the model's (``v`` first), then the engine's ``xi`` and ``input`` (the CPU's staging
# rows: the device keeps those values in registers and leaves the rows as they are), then the
# receptors from ``_RROW``; parameter rows the model's, then ``(coef, decay, E or h)`` per receptor
# from ``_RPAR``; always one column per neuron (the engine's loops read per-neuron rows).
_RROW = _RPAR = _N_REC = _METHOD = 0
_MODEL = _STEP = None
assert _hh.V == _izh.V == V == 0  # v is state row 0 of every model (the conductances' E - v, v jumps, traces)


def _engine_update_template(S, P, xb, iext, key, k, j, n, ng, dcap, dt, fired, stepcnt, seg, ids, ctl, flush):
    """Step ``k`` of every neuron of an engine model (thread ``i``: neuron ``i``), as the CPU's
    ``_network_kernels._engine_update_template``: the drive ``I_ext + sum_r`` (the receptors' terms
    added one by one in the working dtype, as the CPU adds them into its input row), the receptors'
    decay, the noise draw (rounded to the working dtype, as the CPU's ``xi`` row stores it), then
    ``_MODEL`` (the model's CUDA step of one method: it reads and writes the model's state rows and
    returns ``(spiked, bad)``), the receptors flushed if ``flush``. The signature is the LIF
    ``_update``'s (``xb`` unused), so :func:`_run` launches either."""
    if _update_halts(ctl, k, seg[j], n + ng, dcap):
        return
    real = S.dtype.type
    dts = real(dt)  # the CPU's like(sb, dt)
    base = seg[j]
    per_i = iext.shape[0] > 1
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, stride):
        d = iext[i if per_i else 0]  # the CPU's input row (the working dtype)
        if _N_REC > 0:
            v = S[V, i]
            for r in range(_N_REC):  # the drive, from every row's value at the step's start
                x = S[_RROW + r, i]
                c = P[_RPAR + 3 * r, i]
                if r < _N_CUR:
                    d += c * x
                else:
                    d += c * x * (P[_RPAR + 3 * r + 2, i] - v)
            _decay_receptors(S, P, i, i, _RROW, _RPAR, _N_REC, _CHAIN)
        xi = real(normal(stream_key(key, i), k)) if _NOISY else real(0.0)
        sp, bad = _MODEL(S, P, i, d, xi, dts)
        if flush:
            _flush_receptors(S, i, _RROW, _N_REC)
        _commit_spike(fired, ids, stepcnt, ctl, base, j, k, i, sp, bad)


def _hh_model_template(S, P, i, drive, xi, dt):
    """One HH step of neuron ``i`` by method ``_METHOD`` (the CPU loop's ``hh_step``, cloned for CUDA)."""
    vn, mn, hn, nn, sp, bad = hh_step_cuda(S[_hh.V, i], S[_hh.M, i], S[_hh.H, i], S[_hh.N, i], drive, xi,
                                       P[_hh.INVC, i], P[_hh.GNA, i], P[_hh.GK, i], P[_hh.GL, i], P[_hh.ENA, i],
                                       P[_hh.EK, i], P[_hh.EL, i], P[_hh.VTH, i], P[_hh.SHIFT, i], P[_hh.PHI, i],
                                       P[_hh.SN, i], dt, _METHOD)
    S[_hh.V, i] = vn
    S[_hh.M, i] = mn
    S[_hh.H, i] = hn
    S[_hh.N, i] = nn
    return sp, bad


def _izh_model_template(S, P, i, drive, xi, dt):
    """One Izhikevich step of neuron ``i`` (``_STEP``: the method's step function, cloned for CUDA)."""
    vn, un, sp, bad = _STEP(S[_izh.V, i], S[_izh.U, i], drive, xi, P[_izh.A, i], P[_izh.B, i], P[_izh.C, i],
                            P[_izh.D, i], P[_izh.VPEAK, i], P[_izh.SN, i], dt)
    S[_izh.V, i] = vn
    S[_izh.U, i] = un
    return sp, bad


def _model_step(name, method_code):
    """The device step of model ``name`` (:attr:`~fastkernels.neurons._engine.Population.name`) by one method."""
    if name == "hh":
        fn = specialise(_hh_model_template, f"_net_cuda_hh_{method_code}", _METHOD=int(method_code))
    elif name == "izhikevich":
        step = izh_euler_step_cuda if method_code == _izh.EULER else izh_rk4_step_cuda
        fn = specialise(_izh_model_template, f"_net_cuda_izh_{method_code}", _STEP=step)
    else:
        raise ValueError(f"no CUDA network step for the model {name!r}")
    return cuda.jit(device=True, inline="always")(fn)


def _engine_key(population, method_code, noisy, n_cur, n_cond, chain):
    chain = tuple(int(c) for c in chain) + (0,) * (MAX_RECEPTORS - len(chain))
    return (population.name, len(population.state), len(population.params), int(method_code), bool(noisy),
            int(n_cur), int(n_cond), chain)


def _engine_update_kernel(name, n_state, n_params, method_code, noisy, n_cur, n_cond, chain):
    """The ``_update`` kernel of an engine model, method and receptor set (compiled per dtype on first launch)."""
    key = (name, n_state, n_params, method_code, noisy, n_cur, n_cond, chain)
    if key not in _UPDATES:
        tag = f"{name}_{method_code}{int(noisy)}_{n_cur}{n_cond}" + ("_c" + "".join(map(str, chain)) if any(chain)
                                                                      else "")
        fn = specialise(_engine_update_template, f"_net_cuda_update_{tag}", _MODEL=_model_step(name, method_code),
                        _NOISY=noisy, _RROW=n_state + 2, _RPAR=n_params, _N_REC=n_cur + n_cond, _N_CUR=n_cur,
                        _CHAIN=chain)
        _UPDATES[key] = cuda.jit(fn)
    return _UPDATES[key]


# ---------------------------------------------------------------- 0. the state monitor
@cuda.jit
def _sample(S, rec, traces, row, n_x, rrow, ctl, seg, j, k, need, dcap):
    """``traces[x, q, row]`` = target row ``x`` of monitored neuron ``rec[q]`` at the step's start."""
    h = _halt(ctl[STOP], ctl[BAD_K], k, seg[j], need, dcap)
    if h:
        if h == 2:
            ctl[K_STOP] = k
            ctl[STOP] = 1
        return
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for q in range(start, rec.shape[0], stride):
        i = rec[q]
        for x in range(n_x):
            traces[x, q, row] = S[_state_row(x, rrow), i]


# ---------------------------------------------------------------- 2. propagation
@cuda.jit
def _propagate(S, ring, delayed, rrow, fired, ids, seg, stepcnt, ctl, gen_id, g0, ng, k, j, n_proj, src_lo, src_hi,
               rec_row, tgt_lo, ip_off, syn_off, indptr, post, weight, dsteps):
    """One warp per source that spiked in step ``k``; closes the step's list segment (receptor ``r``:
    state row ``rrow + r``)."""
    if ctl[STOP] != 0 or ctl[BAD_K] >= 0:  # stopped (this step's update went bad, or earlier)
        return
    base = seg[j]
    m = stepcnt[j]
    tid = cuda.grid(1)
    lanes = min(WARP, cuda.blockDim.x)  # a warp; the whole block when smaller (the simulator tests)
    lane = tid % lanes
    if tid == 0:
        seg[j + 1] = base + m + ng
    n_slots = ring.shape[0]
    for e in range(tid // lanes, m + ng, cuda.gridsize(1) // lanes):
        if e < m:
            src = ids[base + e]
        else:  # this step's generator spikes follow the neurons' (their order: by id)
            src = gen_id[g0 + e - m]
            if lane == 0:
                ids[base + e] = src
        for p in range(n_proj):
            if src < src_lo[p] or src >= src_hi[p]:
                continue
            r = rec_row[p]
            if r < 0:
                continue
            off = tgt_lo[p]
            b = ip_off[p] + src - src_lo[p]
            s0 = syn_off[p] + indptr[b]
            s1 = syn_off[p] + indptr[b + 1]
            if delayed:
                for s in range(s0 + lane, s1, lanes):
                    cuda.atomic.add(ring, ((k + dsteps[s]) % n_slots, r, off + post[s]), weight[s])
            elif r == 0:
                for s in range(s0 + lane, s1, lanes):
                    i = off + post[s]
                    if fired[i] == 0:
                        cuda.atomic.add(S, (V, i), weight[s])
            else:
                sr = rrow + r - 1
                for s in range(s0 + lane, s1, lanes):
                    cuda.atomic.add(S, (sr, off + post[s]), weight[s])


# ---------------------------------------------------------------- 3. plasticity
@cuda.jit
def _stdp_pre(ids, seg, ctl, k, j, plastic, src_lo, src_hi, ip_off, syn_off, indptr, post, weight, pl_pre, pl_post,
              x_pre, k_pre, x_post, k_post, pl_params):
    """Brian2's ``on_pre`` of every plastic projection: one warp per spiking presynaptic source."""
    if ctl[STOP] != 0 or ctl[BAD_K] >= 0:  # stopped (this step's update went bad, or earlier)
        return
    base = seg[j]
    tid = cuda.grid(1)
    lanes = min(WARP, cuda.blockDim.x)  # a warp; the whole block when smaller (the simulator tests)
    lane = tid % lanes
    for e in range(tid // lanes, seg[j + 1] - base, cuda.gridsize(1) // lanes):
        src = ids[base + e]
        for q in range(plastic.shape[0]):
            p = plastic[q]
            if src < src_lo[p] or src >= src_hi[p]:
                continue
            i = src - src_lo[p]
            c_post, lo, hi = pl_params[q, _stdp.C_POST], pl_params[q, _stdp.W_MIN], pl_params[q, _stdp.W_MAX]
            if lane == 0:  # this spike owns the trace (no other lane reads it here)
                a = pl_pre[q] + i
                x_pre[a] = _decayed(x_pre[a], k_pre[a], k, pl_params[q, _stdp.C_PRE]) + pl_params[q, _stdp.A_PRE]
                k_pre[a] = k
            b = ip_off[p] + i
            so = syn_off[p]
            for s in range(so + indptr[b] + lane, so + indptr[b + 1], lanes):
                jj = pl_post[q] + post[s]
                w = np.float64(weight[s]) + _decayed(x_post[jj], k_post[jj], k, c_post)
                weight[s] = _clip(w, lo, hi)


@cuda.jit
def _stdp_post(ids, seg, ctl, k, j, plastic, tgt_lo, tgt_hi, syn_off, weight, pl_pre, pl_post, pl_ip, pl_syn,
               indptr_post, syn, pre, x_pre, k_pre, x_post, k_post, pl_params):
    """Brian2's ``on_post`` (after every ``on_pre``): one warp per spiking postsynaptic neuron."""
    if ctl[STOP] != 0 or ctl[BAD_K] >= 0:  # stopped (this step's update went bad, or earlier)
        return
    base = seg[j]
    tid = cuda.grid(1)
    lanes = min(WARP, cuda.blockDim.x)  # a warp; the whole block when smaller (the simulator tests)
    lane = tid % lanes
    for e in range(tid // lanes, seg[j + 1] - base, cuda.gridsize(1) // lanes):
        tgt = ids[base + e]
        for q in range(plastic.shape[0]):
            p = plastic[q]
            if tgt < tgt_lo[p] or tgt >= tgt_hi[p]:
                continue
            jl = tgt - tgt_lo[p]
            c_pre, lo, hi = pl_params[q, _stdp.C_PRE], pl_params[q, _stdp.W_MIN], pl_params[q, _stdp.W_MAX]
            if lane == 0:
                a = pl_post[q] + jl
                x_post[a] = _decayed(x_post[a], k_post[a], k, pl_params[q, _stdp.C_POST]) + \
                    pl_params[q, _stdp.A_POST]
                k_post[a] = k
            b = pl_ip[q] + jl
            ps = pl_syn[q]
            for r in range(indptr_post[b] + lane, indptr_post[b + 1], lanes):
                i = pl_pre[q] + pre[ps + r]
                s = syn_off[p] + syn[ps + r]
                w = np.float64(weight[s]) + _decayed(x_pre[i], k_pre[i], k, c_pre)
                weight[s] = _clip(w, lo, hi)


# ---------------------------------------------------------------- 4. the delay ring
@cuda.jit
def _apply_ring(S, ring, fired, ctl, k, n, n_x, rrow):
    """Add the ring slot of step ``k`` to the state (a ``v`` jump onto a neuron that spiked is dropped), clear it."""
    if ctl[STOP] != 0 or ctl[BAD_K] >= 0:  # stopped (this step's update went bad, or earlier)
        return
    slot = k % ring.shape[0]
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, stride):
        x = ring[slot, 0, i]
        if x != 0.0:
            if fired[i] == 0:
                S[V, i] += x
            ring[slot, 0, i] = 0.0
        for r in range(1, n_x):
            S[rrow + r - 1, i] += ring[slot, r, i]
            ring[slot, r, i] = 0.0


# ---------------------------------------------------------------- the spike order
@cuda.jit(device=True, inline="always")
def _bitonic(buf, off, m, tid, nt):
    """Sort ``buf[off:off + m]`` ascending with the block's ``nt`` threads: the bitonic network
    whose merges all ascend (the first stage of each compares mirrored positions), over the next
    power of two; positions from ``m`` on act as +inf, which no comparator moves, so they are
    skipped. Every thread of the block must call it (it synchronises)."""
    size = 1
    while size < m:
        size *= 2
    half_n = size // 2
    kk = 2
    while kk <= size:
        h = kk // 2
        for t in range(tid, half_n, nt):
            blk = t // h
            o = t - blk * h
            a = off + blk * kk + o
            b = off + blk * kk + kk - 1 - o
            if b < off + m:
                x, y = buf[a], buf[b]
                if y < x:
                    buf[a], buf[b] = y, x
        cuda.syncthreads()
        h //= 2
        while h > 0:
            for t in range(tid, half_n, nt):
                a = off + (t // h) * 2 * h + t % h
                b = a + h
                if b < off + m:
                    x, y = buf[a], buf[b]
                    if y < x:
                        buf[a], buf[b] = y, x
            cuda.syncthreads()
            h //= 2
        kk *= 2


@cuda.jit
def _sort_steps(ids, seg, stepcnt, n_steps):
    """Sort each step's neuron spikes by id (one block per step)."""
    sh = cuda.shared.array(SORT_SHARED, _i64)
    tid, nt = cuda.threadIdx.x, cuda.blockDim.x
    for j in range(cuda.blockIdx.x, n_steps, cuda.gridDim.x):
        lo = seg[j]
        m = stepcnt[j]
        if m < 2:
            continue
        if m <= SORT_SHARED:
            for t in range(tid, m, nt):
                sh[t] = ids[lo + t]
            cuda.syncthreads()
            _bitonic(sh, 0, m, tid, nt)
            for t in range(tid, m, nt):
                ids[lo + t] = sh[t]
            cuda.syncthreads()  # before the next step reuses the shared buffer
        else:
            _bitonic(ids, lo, m, tid, nt)


# ---------------------------------------------------------------- the host side
def _flat(arr, n, rows, per_neuron=True):
    """Blocked ``(n_blocks, rows, ROW)`` -> the CUDA layout ``(rows, n)`` (one column when not
    ``per_neuron``); at least one column (a network of generators only has no neurons)."""
    if not per_neuron:
        return np.ascontiguousarray(arr[0, :rows, :1])
    out = np.zeros((rows, max(n, 1)), dtype=arr.dtype)
    out[:, :n] = arr[:, :rows, :BLOCK].transpose(1, 0, 2).reshape(rows, -1)[:, :n]
    return out


def _dev(a, dtype=None):
    """A device copy of ``a`` (C-contiguous, ``dtype``); an empty array travels as one zero element
    per empty axis (kernels get their real sizes as arguments)."""
    a = np.ascontiguousarray(a, dtype=dtype)
    if a.size == 0:
        a = np.zeros(tuple(max(1, d) for d in a.shape), dtype=a.dtype)
    return _launch.to_device(a)


def _warp_grid(n_items):
    """``(blocks, threads)`` giving up to ``n_items`` warps (a grid-stride loop covers the rest)."""
    return _launch.grid_1d(WARP * max(1, n_items))


def _run(update, per_neuron, rrow, n, S, P, xb, iext, n_rec, key, k_begin, k_end, k0, dt, gen_k, gen_id, gen_pos, src_lo,
         src_hi, rec_row, tgt_lo, tgt_hi, ip_off, syn_off, indptr, post, weight, dsteps, ring, plastic, pl_pre, pl_post,
         pl_ip, pl_syn, x_pre, k_pre, x_post, k_post, indptr_post, syn, pre, pl_params, spk_t, spk_i, spk_n, rec,
         stride, traces, err, flush_every, n_threads):
    """The host side of every device run: ``update`` is the neuron update kernel (the LIF's
    :func:`_update_kernel` or an engine model's :func:`_engine_update_kernel`, one signature),
    ``per_neuron`` whether ``P`` has a column per neuron, ``rrow`` the first receptor state row;
    the rest is the CPU run kernel's argument list (``_network_kernels._run_template``)."""
    kb, k_end, n, n_rec = int(k_begin[0]), int(k_end), int(n), int(n_rec)
    if kb >= k_end:
        return
    n_steps = k_end - kb
    n_x = 1 + n_rec
    cnt0 = int(spk_n[0])
    dcap = spk_t.shape[1] - cnt0
    dtype = S.dtype
    n_proj, n_plastic = src_lo.shape[0], plastic.shape[0]
    delayed = ring.shape[0] > 1
    key = np.int64(key)
    dt = float(dt)
    # -- the device copies (once per call)
    d_S = cuda.to_device(_flat(S, n, S.shape[1]))  # N_STATE rows, then the receptors
    d_P = cuda.to_device(_flat(P, n, P.shape[1], per_neuron))  # N_PARAMS rows, then (coef, decay, E or h) each
    d_xb = _dev(xb, np.float64)
    d_iext = _dev(iext, dtype)
    d_ring = _dev(ring, dtype)
    d_fired = cuda.to_device(np.zeros(max(n, 1), np.uint8))
    d_cnt = cuda.to_device(np.zeros(n_steps, np.int64))
    d_seg = cuda.to_device(np.zeros(n_steps + 1, np.int64))
    d_ids = cuda.device_array(max(dcap, 1), np.int64)
    d_ctl = cuda.to_device(np.array([0, -1, -1, _BIG], np.int64))
    d_gen = _dev(gen_id, np.int64)
    d_src_lo, d_src_hi, d_rows, d_tgt_lo, d_tgt_hi, d_ip_off, d_syn_off = (
        _dev(a, np.int64) for a in (src_lo, src_hi, rec_row, tgt_lo, tgt_hi, ip_off, syn_off))
    d_indptr, d_post = _dev(indptr, np.int64), _dev(post, np.int32)
    d_weight, d_dsteps = _dev(weight, dtype), _dev(dsteps, np.int32)
    if n_plastic:
        d_plastic, d_pl_pre, d_pl_post, d_pl_ip, d_pl_syn = (
            _dev(a, np.int64) for a in (plastic, pl_pre, pl_post, pl_ip, pl_syn))
        d_x_pre, d_k_pre = _dev(x_pre, np.float64), _dev(k_pre, np.int64)
        d_x_post, d_k_post = _dev(x_post, np.float64), _dev(k_post, np.int64)
        d_ipost, d_syn, d_pre = _dev(indptr_post, np.int64), _dev(syn, np.int64), _dev(pre, np.int32)
        d_params = _dev(pl_params, np.float64)
    # -- the host's schedule: generator spikes and sampled steps of each step (no device reads)
    gp0 = int(gen_pos[0])
    gk = np.asarray(gen_k)[gp0:]
    ks = np.arange(kb, k_end, dtype=np.int64)
    g_lo = gp0 + np.searchsorted(gk, ks, "left")
    g_n = gp0 + np.searchsorted(gk, ks, "right") - g_lo
    sampled = rec.shape[0] > 0 and traces.size > 0
    if sampled:
        rows = np.where((ks - k0) % stride == 0, (ks - k0) // stride, -1)
        hit = rows >= 0
        r0 = int(rows[hit][0]) if hit.any() else 0
        n_rows = int(hit.sum())
        d_rec = _dev(rec, np.int64)
        d_traces = cuda.device_array((n_x, rec.shape[0], max(n_rows, 1)), dtype)
        sample = _sample[_launch.grid_1d(rec.shape[0])]
    upd = update[_launch.grid_1d(max(n, 1))]
    w_grid = _warp_grid(n + (int(g_n.max()) if g_n.size else 0))
    prop = _propagate[w_grid]
    spre, spost = _stdp_pre[w_grid], _stdp_post[w_grid]
    apply = _apply_ring[_launch.grid_1d(max(n, 1))]
    # -- the time loop: launches only
    for j in range(n_steps):
        k = kb + j
        g0, ng = int(g_lo[j]), int(g_n[j])
        if sampled and rows[j] >= 0:
            sample(d_S, d_rec, d_traces, int(rows[j]) - r0, n_x, rrow, d_ctl, d_seg, j, k, n + ng, dcap)
        upd(d_S, d_P, d_xb, d_iext, key, k, j, n, ng, dcap, dt, d_fired, d_cnt, d_seg, d_ids, d_ctl, k % flush_every == 0)
        prop(d_S, d_ring, delayed, rrow, d_fired, d_ids, d_seg, d_cnt, d_ctl, d_gen, g0, ng, k, j, n_proj, d_src_lo,
             d_src_hi, d_rows, d_tgt_lo, d_ip_off, d_syn_off, d_indptr, d_post, d_weight, d_dsteps)
        if n_plastic:
            spre(d_ids, d_seg, d_ctl, k, j, d_plastic, d_src_lo, d_src_hi, d_ip_off, d_syn_off, d_indptr, d_post,
                 d_weight, d_pl_pre, d_pl_post, d_x_pre, d_k_pre, d_x_post, d_k_post, d_params)
            spost(d_ids, d_seg, d_ctl, k, j, d_plastic, d_tgt_lo, d_tgt_hi, d_syn_off, d_weight, d_pl_pre, d_pl_post,
                  d_pl_ip, d_pl_syn, d_ipost, d_syn, d_pre, d_x_pre, d_k_pre, d_x_post, d_k_post, d_params)
        if delayed:
            apply(d_S, d_ring, d_fired, d_ctl, k, n, n_x, rrow)
    # -- where the run stopped, the spikes in order, the state back to the host
    ctl = d_ctl.copy_to_host()
    bad = ctl[BAD_K] >= 0
    if bad:
        k_stop = int(ctl[BAD_K])
        err[0], err[1] = k_stop, ctl[BAD_I]
    elif ctl[STOP]:
        k_stop = int(ctl[K_STOP])
    else:
        k_stop = k_end
    done = k_stop - kb  # complete steps
    if done:
        _sort_steps[min(done, _launch.MAX_BLOCKS), _launch.THREADS_PER_BLOCK](d_ids, d_seg, d_cnt, done)
    seg = d_seg[:done + 1].copy_to_host()
    m = int(seg[done])
    if m:
        spk_i[0, cnt0:cnt0 + m] = d_ids[:m].copy_to_host()
        spk_t[0, cnt0:cnt0 + m] = np.repeat(ks[:done] * dt, np.diff(seg))
    spk_n[0] = cnt0 + m
    k_begin[0] = k_stop
    gen_pos[0] = gp0 + int(np.searchsorted(gk, k_stop, "left"))
    reblock(S, d_S.copy_to_host()[:, :n], n)
    if delayed and ring.size:
        d_ring.copy_to_host(ring)
    if n_plastic:
        weight[:] = d_weight.copy_to_host()[:weight.size]
        x_pre[:], k_pre[:] = d_x_pre.copy_to_host()[:x_pre.size], d_k_pre.copy_to_host()[:k_pre.size]
        x_post[:], k_post[:] = d_x_post.copy_to_host()[:x_post.size], d_k_post.copy_to_host()[:k_post.size]
    if sampled and n_rows:
        last = k_stop + 1 if bad else k_stop  # a bad step was sampled before its update
        got = int((hit & (ks < last)).sum())
        if got:
            traces[:, :, r0:r0 + got] = d_traces.copy_to_host()[:, :, :got]


_RUNS = {}


def _host_run(update, per_neuron, rrow):
    """The host function of one update kernel: the CPU run kernel's argument list, :func:`_run` behind it."""

    def run(n, S, P, xb, iext, n_rec, key, k_begin, k_end, k0, dt, gen_k, gen_id, gen_pos, src_lo, src_hi,
            rec_row, tgt_lo, tgt_hi, ip_off, syn_off, indptr, post, weight, dsteps, ring, plastic, pl_pre,
            pl_post, pl_ip, pl_syn, x_pre, k_pre, x_post, k_post, indptr_post, syn, pre, pl_params, spk_t, spk_i,
            spk_n, rec, stride, traces, err, flush_every, n_threads, scratch=None):
        # ``scratch``: the CPU kernel's working arrays; the device run keeps its own
        _run(update, per_neuron, rrow, n, S, P, xb, iext, n_rec, key, k_begin, k_end, k0, dt, gen_k, gen_id, gen_pos,
             src_lo, src_hi, rec_row, tgt_lo, tgt_hi, ip_off, syn_off, indptr, post, weight, dsteps, ring, plastic,
             pl_pre, pl_post, pl_ip, pl_syn, x_pre, k_pre, x_post, k_post, indptr_post, syn, pre, pl_params,
             spk_t, spk_i, spk_n, rec, stride, traces, err, flush_every, n_threads)

    run.__doc__ = _run_doc
    return run


def network_cuda(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain=()):
    """The CUDA network run of one feature combination (the flags of
    :func:`~._network_kernels.network_kernels`; ``chain``: each receptor row's stage in a filter
    chain, 0 for first-order receptors, as :func:`fastkernels.neurons._lif_kernels.step_loop`):
    a host function with the argument list of the CPU run kernel (``_network_kernels._run_template``)
    that updates the same arrays in place."""
    flags = _flags(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain)
    if flags not in _RUNS:
        _RUNS[flags] = _host_run(_update_kernel(*flags), flags[0], RECEPTOR_ROW)
    return _RUNS[flags]


def engine_network_cuda(population, method_code, noisy, n_cur, n_cond, chain=(), plastic=False):
    """The CUDA network run of an engine model's groups (:class:`fastkernels.neurons._engine.Population`:
    HH, Izhikevich) by one method: the device twin of
    :func:`~._network_kernels.engine_network_kernels` (the same arguments; ``plastic`` is accepted
    for the same call, the device run launches the STDP kernels when the network has plastic
    projections), a host function with the argument list of the CPU run kernel that updates the
    same arrays in place."""
    key = _engine_key(population, method_code, noisy, n_cur, n_cond, chain)
    if key not in _RUNS:
        _RUNS[key] = _host_run(_engine_update_kernel(*key), True, key[1] + 2)
    return _RUNS[key]


_run_doc = """Run the network on the device from ``k_begin[0]`` to ``k_end`` (or until the spike
buffer could overflow); the arguments and their updates are the CPU kernel's
(``_network_kernels._run_template``)."""


# ---------------------------------------------------------------- PTX checks
#: Feature combinations whose ``_update`` is compiled to PTX by tests/test_ptx.py (every kernel
#: variant shares the template; these cover each flag both ways and every receptor kind).
PTX_FLAGS = ((False, False, False, False, True, False, 2, 0),
             (True, True, True, True, False, True, 1, 1),
             (False, False, False, False, True, False, 0, 2),
             (False, False, False, False, True, False, 4, 0, (0, 1, 2, 0)))


#: Engine-model updates compiled to PTX, one per model and method the tests run, in one dtype each
#: (an HH update takes seconds to compile): ``(model, method code, noisy, n_cur, n_cond, chain,
#: dtype)``, together both receptor kinds, a filter chain, the noise and both precisions.
PTX_ENGINE = (("hh", 2, False, 2, 2, (0, 1), types.float32),  # exponential Euler
              ("hh", 0, False, 2, 2, (0, 1), types.float64),  # RK4
              ("izhikevich", 0, True, 1, 1, (), types.float32))  # Euler


def ptx_signatures():
    """Every kernel of this module with its signatures, for ``compile_ptx`` (float32 and float64)."""
    from ..neurons import hh

    f64, i64, i32, u8, b1 = types.float64, types.int64, types.int32, types.uint8, types.boolean
    v64, v32 = i64[::1], i32[::1]

    def update_sig(f):
        m2, vf = f[:, ::1], f[::1]
        return (m2, m2, f64[::1], vf, i64, i64, i64, i64, i64, i64, f64, u8[::1], v64, v64, v64, v64, b1)

    out = [(_sort_steps, (v64, v64, v64, i64))]
    pops = {"hh": hh.POPULATION, "izhikevich": _izh.POPULATION}
    for name, code, noisy, n_cur, n_cond, chain, f in PTX_ENGINE:
        out.append((_engine_update_kernel(*_engine_key(pops[name], code, noisy, n_cur, n_cond, chain)), update_sig(f)))
    for f in (types.float32, types.float64):
        m2, m3, vf = f[:, ::1], f[:, :, ::1], f[::1]
        for flags in PTX_FLAGS:
            out.append((_update_kernel(*flags), update_sig(f)))
        out.append((_sample, (m2, v64, m3, i64, i64, i64, v64, v64, i64, i64, i64, i64)))
        out.append((_propagate, (m2, m3, b1, i64, u8[::1], v64, v64, v64, v64, v64, i64, i64, i64, i64, i64, v64,
                                 v64, v64, v64, v64, v64, v64, v32, vf, v32)))
        out.append((_stdp_pre, (v64, v64, v64, i64, i64, v64, v64, v64, v64, v64, v64, v32, vf, v64, v64,
                                f64[::1], v64, f64[::1], v64, f64[:, ::1])))
        out.append((_stdp_post, (v64, v64, v64, i64, i64, v64, v64, v64, v64, vf, v64, v64, v64, v64, v64, v64,
                                 v32, f64[::1], v64, f64[::1], v64, f64[:, ::1])))
        out.append((_apply_ring, (m2, m3, u8[::1], v64, i64, i64, i64, i64)))
    return out
