"""The LIF kernels: the step function shared by CPU and CUDA, the grid-method block template and
the event-driven kernel (see :mod:`fastkernels.neurons.lif` for the model and the methods).

The grid kernels are variants of one template, :func:`_grid_block_template`, whose feature
flags are globals bound as compile-time constants (:func:`fastkernels._jit.specialise`), one
variant per combination actually used (:func:`grid_kernels`).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import FASTMATH, cpu_kernels, device, jit, specialise
from .._random import poisson as poisson_count, stream_key
from .._simd import prefer_wide_vectors
from ._driver import emit_spikes, stage_inputs
from ._layout import BLOCK, ROW

# Parameter rows.
A, C, PW, PT, VREST, R, VT0, VRESET, DVT, DW, SN, TAU, REFSTEPS, TREF, LAM, JW = range(16)
N_PARAMS = 16
# State rows: membrane potential, threshold, adaptation current, steps since the last spike
# (an integer held in a float, saturating at SINCE_MAX), refractory time left (event method),
# this step's noise draw, input (copied into the block so the hot loop reads one buffer) and
# Poisson-input jump.
V, VT, W, SINCE, REF, XI, IN, JMP = range(8)
N_STATE = 8
STATE_NAMES = ("v", "v_threshold", "w")
#: Poisson-input draws of neuron i use stream POISSON_STREAM + i (noise uses stream i).
POISSON_STREAM = 1 << 40
SINCE_MAX = float(1 << 23)  # exact in float32; a neuron this long silent is free whatever tau_ref
#: |v| above this (in the model's units) after the step's reset is a runaway state; a v carried
#: past the threshold, however far, is a spike. Initial states and ``v_reset`` must lie within it.
LIMIT = 1e9
#: Decaying differences below this are flushed to 0 (denormal arithmetic is ~100x slower).
FLUSH = 1e-30


@device
def lif_step(v, vt, w, since, free, drive, xi, jump, a, c, pw, pt, vrest, res, vt0, vreset, jump_t, jump_w, sn,
                   freeze, dynamics):
    """One step of one neuron, given whether it is out of its refractory period (``free``).

    ``since`` is the number of steps since its last spike, counting this one. ``dynamics``
    (a compile-time constant in the kernels) switches the threshold and adaptation
    variables on; without it they are never read. ``jump`` (Poisson input) is added after the
    threshold test, like an ``on_pre`` synaptic effect in Brian2: a neuron that spikes is reset
    instead, a refractory one still receives it. Shared by the CPU blocks and the CUDA kernel.
    Returns ``(v, vt, w, since, spiked, bad)``; ``bad`` flags a NaN or runaway ``v`` (|v| > LIMIT after the reset).
    """
    vinf = vrest + res * drive
    dv = (v - vinf) * a  # relaxation form: no drift over long runs
    dv = dv if abs(dv) >= FLUSH else 0.0  # decaying differences would otherwise crawl through denormals
    vn = vinf + dv + sn * xi
    if dynamics:
        vn += c * w
        wn = pw * w
        wn = wn if abs(wn) >= FLUSH else 0.0
        dvt = (vt - vt0) * pt
        vtn = vt0 + (dvt if abs(dvt) >= FLUSH else 0.0)
    else:
        wn = w
        vtn = vt0
    vn = v if (freeze & (not free)) else vn
    spiked = free & (vn > vtn)
    # Selects, not branches: the CPU caller vectorises this across a block of neurons.
    # A drive that carries v far past threshold within one step is a spike, not a runaway:
    # only the v that is stored (not reset) is tested, the one the CPU kernels' search for the
    # bad neuron finds (testing vn before the reset flagged steps that search could not place).
    bad = (not (abs(vn + jump) <= LIMIT)) & (not spiked)
    if dynamics:
        return (vreset if spiked else vn + jump), (vtn + jump_t if spiked else vtn), \
            (wn + jump_w if spiked else wn), (0.0 if spiked else since), spiked, bad
    return (vreset if spiked else vn + jump), vtn, wn, (0.0 if spiked else since), spiked, bad


@device
def free_legacy(since, k, dt_s, ref_s):
    """Brian2's pre-2.6 rule: ``t - t_spike > tau_ref`` in float64 seconds, ``t = k dt``."""
    return (k * dt_s - (k - since) * dt_s) > ref_s


#: Feature flags of :func:`_grid_block_template`: each variant binds its own values
#: (:func:`grid_kernels`); these module-level ones are only the names' definitions.
_PER_NEURON = _DYNAMICS = _NOISY = _LEGACY = _FREEZE = _POISSON = _COUNT = False


def _grid_block_template(b, S, P, ref_s, rows, common, key, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err, rec,
                         rec_lo, stride, traces):
    """Advance block ``b`` of the grid methods from step ``k_begin[b]`` to ``k_end`` (or a full buffer).

    A template: the feature flags are globals bound as compile-time constants by
    :func:`grid_kernels` (``_PER_NEURON``: parameters differ across neurons, else read once as
    scalars, so the hot loop streams only ``v``, the spike counter and the input; ``_DYNAMICS``:
    adaptive threshold or adaptation current; ``_NOISY``: white noise; ``_LEGACY``/``_FREEZE``:
    the refractory rules; ``_POISSON``: Poisson input trains; ``_COUNT``: no spike recording,
    ``spk_i[b, j]`` counts neuron ``lo + j``'s spikes instead, the buffer never fills). Constants
    fold away, so each variant's loop holds only what it uses.
    """
    prefer_wide_vectors()
    n = rows.shape[1]
    cap = spk_t.shape[1]
    dt_s = dt * 1e-3
    varying = rows.shape[0] > 1
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    # Row views, made once per block (a view costs reference counting): the rows of one
    # block sit a fixed distance apart in one buffer, so LLVM vectorises the step loop.
    sb = S[b].reshape(-1)
    pb = P[b if _PER_NEURON else 0].reshape(-1)
    v, vt, w = sb[V * ROW:V * ROW + m], sb[VT * ROW:VT * ROW + m], sb[W * ROW:W * ROW + m]
    sc, xi, inp = sb[SINCE * ROW:SINCE * ROW + m], sb[XI * ROW:XI * ROW + m], sb[IN * ROW:IN * ROW + m]
    jmp = sb[JMP * ROW:JMP * ROW + m]
    mp = m if _PER_NEURON else 1
    a_, c_ = pb[A * ROW:A * ROW + mp], pb[C * ROW:C * ROW + mp]
    pw_, pt_ = pb[PW * ROW:PW * ROW + mp], pb[PT * ROW:PT * ROW + mp]
    vrest_, res_ = pb[VREST * ROW:VREST * ROW + mp], pb[R * ROW:R * ROW + mp]
    vt0_, vreset_ = pb[VT0 * ROW:VT0 * ROW + mp], pb[VRESET * ROW:VRESET * ROW + mp]
    jt_, jw_ = pb[DVT * ROW:DVT * ROW + mp], pb[DW * ROW:DW * ROW + mp]
    sn_, rst_ = pb[SN * ROW:SN * ROW + mp], pb[REFSTEPS * ROW:REFSTEPS * ROW + mp]
    lam_, jw_in = pb[LAM * ROW:LAM * ROW + mp], pb[JW * ROW:JW * ROW + mp]
    rs_ = ref_s[lo:lo + m] if _PER_NEURON else ref_s[0:1]
    drive = inp if varying else rows[0, lo:lo + m]
    # Spike flags of one step, scanned eight at a time through a uint64 view.
    flags = np.zeros(ROW, dtype=np.uint8)
    words = flags.view(np.uint64)
    counts = spk_i[b]  # _COUNT: the block's spike counts
    cnt = spk_n[b]
    k = k_begin[b]
    while k < k_end:
        if not _COUNT and cnt + m > cap:
            break
        if rec_lo[b + 1] > rec_lo[b] and (k - k0) % stride == 0:
            row = (k - k0) // stride
            for r in range(rec_lo[b], rec_lo[b + 1]):
                j = rec[r] - lo
                traces[0, r, row] = v[j]
                traces[1, r, row] = vt[j] if _DYNAMICS else vt0_[j if _PER_NEURON else 0]
                traces[2, r, row] = w[j] if _DYNAMICS else 0.0
        ic = stage_inputs(inp, xi, rows, common, key, k, k0, lo, m, _NOISY)
        if _POISSON:
            for j in range(m):
                q = j if _PER_NEURON else 0
                jmp[j] = poisson_count(stream_key(key, POISSON_STREAM + lo + j), k, lam_[q]) * jw_in[q]
        nsp = 0
        nbad = 0
        for j in range(m):  # the hot loop: straight-line selects, vectorised across neurons
            q = j if _PER_NEURON else 0
            since = sc[j] + 1.0  # = k - k_spike, saturating (a select: min() would not vectorise)
            since = since if since < SINCE_MAX else SINCE_MAX
            if _LEGACY:
                free = free_legacy(since, k, dt_s, rs_[q])
            else:
                free = since >= rst_[q]
            vn, vtn, wn, s_, sp, bad = lif_step(
                v[j], vt[j] if _DYNAMICS else 0.0, w[j] if _DYNAMICS else 0.0, since, free, drive[j] + ic,
                xi[j] if _NOISY else 0.0, jmp[j] if _POISSON else 0.0, a_[q], c_[q], pw_[q], pt_[q], vrest_[q],
                res_[q], vt0_[q], vreset_[q], jt_[q], jw_[q], sn_[q], _FREEZE, _DYNAMICS)
            v[j] = vn
            if _DYNAMICS:
                vt[j] = vtn
                w[j] = wn
            sc[j] = s_
            if _COUNT:
                counts[j] += sp
            else:
                flags[j] = sp
            nsp += sp
            nbad += bad
        if nbad:
            err[b, 0] = k
            err[b, 1] = lo  # replaced by the first neuron out of range
            for j in range(m):
                if not (abs(v[j]) <= LIMIT):
                    err[b, 1] = lo + j
                    break
            break
        if nsp and not _COUNT:
            cnt = emit_spikes(flags, words, nsp, m, lo, k * dt, b, spk_t, spk_i, cnt)
        k += 1
    k_begin[b] = k
    spk_n[b] = cnt


def _grid_body(S, P, ref_s, rows, common, key, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err, rec, rec_lo,
               stride, traces):
    """Template of the grid kernel: one block per prange step (``_BLOCK_FN`` bound by :func:`grid_kernels`)."""
    for b in prange(k_begin.shape[0]):
        # int64: the parfor index is unsigned, which would compile the block function twice.
        _BLOCK_FN(np.int64(b), S, P, ref_s, rows, common, key, k_begin, k_end, k0, dt, spk_t, spk_i,  # noqa: F821
                  spk_n, err, rec, rec_lo, stride, traces)


_GRID = {}  # (per_neuron, dynamics, noisy, legacy, freeze, poisson, count) -> (serial, parallel), built on first use


def grid_kernels(per_neuron, dynamics, noisy, legacy, freeze, poisson=False, count=False):
    """The (serial, parallel) grid-method kernels for one feature combination (compiled lazily).

    ``count``: the count-only variant (no spike recording: ``spk_i`` is ``(units, ROW)`` int64
    per-neuron counts, added to; ``spk_t`` is not read), for measuring what recording costs.

    :func:`_grid_block_template` with the flags bound, compiled on its own (Numba's parallel
    lowering of a prange body does not vectorise inner loops, a called function is compiled and
    vectorised on its own), inside :func:`_grid_body`. Fast-math (FMA contraction, no signed
    zeros) except under the legacy rule, whose float comparison must round exactly as Brian2's did.
    """
    flags = (bool(per_neuron), bool(dynamics), bool(noisy), bool(legacy), bool(freeze), bool(poisson), bool(count))
    if flags not in _GRID:
        # The recording variants keep their names (and cache entries) of before the count flag.
        tag = "".join("1" if f else "0" for f in flags[:6]) + ("c" if flags[6] else "")
        block = jit(specialise(_grid_block_template, "_grid_block_" + tag, _PER_NEURON=flags[0], _DYNAMICS=flags[1],
                               _NOISY=flags[2], _LEGACY=flags[3], _FREEZE=flags[4], _POISSON=flags[5],
                               _COUNT=flags[6]),
                    fastmath=False if flags[3] else FASTMATH)
        _GRID[flags] = cpu_kernels(specialise(_grid_body, "_grid_body_" + tag, _BLOCK_FN=block))
    return _GRID[flags]


@device
def event_advance(v, ref_left, rem, vinf, tau, vth, vreset, tau_ref):
    """Consume up to ``rem`` ms of one neuron's step: returns ``(v, ref_left, rem_after, t_spike_offset)``.

    ``t_spike_offset`` is the time (ms, from the point where ``rem`` was measured) of the
    spike that ended this stretch, or -1.0 when the stretch reached the end of the step.
    """
    if ref_left >= rem:  # refractory for the rest of the step: v held at reset
        return v, ref_left - rem, 0.0, -1.0
    used = ref_left
    if v > vth:  # above threshold (initial condition): fire at once
        tc = 0.0
    elif vinf > vth:
        tc = tau * math.log((vinf - v) / (vinf - vth))
    else:
        tc = math.inf
    if tc <= rem - used:
        return vreset, tau_ref, rem - used - tc, used + tc
    return vinf + (v - vinf) * math.exp(-(rem - used) / tau), 0.0, 0.0, -1.0


def _event_body(S, P, rows, common, k_begin, k_end, k0, dt, max_per_step, spk_t, spk_i, spk_n, err,
                rec, rec_lo, stride, traces):
    n = rows.shape[1]
    cap = spk_t.shape[1]
    for b in prange(k_begin.shape[0]):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        cnt = spk_n[b]
        k = k_begin[b]
        while k < k_end:
            if cnt + m * max_per_step > cap:
                break
            if (k - k0) % stride == 0:
                row = (k - k0) // stride
                for r in range(rec_lo[b], rec_lo[b + 1]):
                    j = rec[r] - lo
                    traces[0, r, row] = S[b, V, j]
                    traces[1, r, row] = P[b, VT0, j]
                    traces[2, r, row] = 0.0
            ic = common[k - k0 if common.shape[0] > 1 else 0]
            rr = k - k0 if rows.shape[0] > 1 else 0
            t0 = k * dt
            failed = False
            for j in range(m):
                vinf = P[b, VREST, j] + P[b, R, j] * (rows[rr, lo + j] + ic)
                v, ref_left, rem = S[b, V, j], S[b, REF, j], dt
                emitted = 0
                while rem > 0.0:
                    v, ref_left, rem_after, t_off = event_advance(v, ref_left, rem, vinf, P[b, TAU, j],
                                                                  P[b, VT0, j], P[b, VRESET, j], P[b, TREF, j])
                    if t_off >= 0.0:
                        if emitted == max_per_step:
                            failed = True
                            break
                        spk_t[b, cnt] = t0 + (dt - rem) + t_off
                        spk_i[b, cnt] = lo + j
                        cnt += 1
                        emitted += 1
                    rem = rem_after
                S[b, V, j], S[b, REF, j] = v, ref_left
                if failed or not (abs(v) <= LIMIT):
                    err[b, 0] = k
                    err[b, 1] = lo + j
                    failed = True
                    break
            if failed:
                break
            k += 1
        k_begin[b] = k
        spk_n[b] = cnt


event_cpu, event_parallel = cpu_kernels(_event_body)
