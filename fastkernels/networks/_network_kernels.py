"""The compiled network run (CPU): the whole time loop of a :class:`~.network.Network` in one call.

Time outside, neurons inside, as a network needs (a step's spikes reach other neurons before
the next step): per step ``k`` (``t_k = k dt``), in Brian2's schedule order (``start``,
``groups``, ``thresholds``, ``synapses``, ``resets``):

1. *start*: the state monitor samples ``v`` and the receptors of its neurons (the values at
   ``t_k``, as Brian2's ``StateMonitor`` records in ``when="start"``);
2. *groups*: per block of :data:`~fastkernels.neurons._layout.BLOCK` neurons, the neuron
   model's own step loop (the population engine's, :func:`fastkernels.neurons._lif_kernels.step_loop`:
   the code a ``simulate_lif`` run executes, in a variant with receptor rows) adds the drive
   ``I_ext + sum_r coef_r g_r`` (current receptors) ``+ sum_r coef_r g_r (E_r - v)`` (conductances;
   ``g_r`` and ``v`` at ``t_k``), decays the receptors (``g_r *= decay_r``), integrates ``v``,
   tests the threshold and resets, in one vectorised pass over the block;
3. *thresholds*: the step's spikes (neurons ascending, then spike generators) are appended to
   the spike buffer;
4. *synapses*: every synapse of a spiking source adds its weight to its target receptor row
   (``0``: ``v`` itself, ``1..``: the receptors) of its postsynaptic neuron, now when its delay
   is 0 steps, else into the ring slot of step ``k + delay``; then the slot of step ``k`` is
   applied. A ``v`` jump onto a neuron that spiked in this step is dropped (Brian2 applies
   ``on_pre`` before the reset, which overwrites it); a refractory neuron receives it. Then the
   plastic projections update their weights (STDP: Brian2's ``pre`` pathway, then ``post``).

Denormals: the update does not flush decaying values in every step (the population engine's
LIF loop does, at ~13% of a CUBA step); every :func:`flush_period` steps instead, right after
that step's update, the LIF's ``v`` and every receptor row below :data:`FLUSH` are set to 0.
The period is short enough that no value at or above ``FLUSH`` can decay into the denormal
range in between, and only values far below any state's resolution are affected.

Each target neuron receives its effects in one fixed order (spikes ascending, synapses in CSR
order), so the result does not depend on the thread count. The ``"parallel"`` build shares the
blocks among the threads in contiguous ranges (:func:`_share`) and runs two ``prange`` regions a
step over them: the update of the thread's blocks (whose spikes it packs to 32 bytes of bits per
block for the serial emit), then the propagation onto the thread's own neurons (each thread walks
every spike's synapses and applies those that land in its range). A block's state thus stays in
one core's cache: with the serial propagation and emit reading the flags, the 40 000-neuron CUBA
network ran slower on 2 threads than on one.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import FASTMATH, cpu_kernels, device, jit, specialise
from .._precision import int_flags, like
from .._random import normal, stream_key
from .._simd import inline_hint, prefer_wide_vectors
from ..neurons._driver import RASTER_WORDS, emit_word, raster_spikes
from ..neurons._layout import BLOCK, ROW
from ..neurons._lif_kernels import (
    FLUSH,
    MAX_RECEPTORS,
    RECEPTOR_ROW,
    XI,
    first_bad,
    flushed,
    step_loop,
)
from ._stdp_kernels import stdp_step

__all__ = ["network_kernels", "engine_network_kernels", "flush_period", "run_scratch"]

#: The most steps between two flushes of the network state.
FLUSH_EVERY = 64
#: ``log2(BLOCK)``: a neuron's block and lane by shifts (:func:`_at`).
BLOCK_SHIFT = BLOCK.bit_length() - 1
assert 1 << BLOCK_SHIFT == BLOCK


@jit
def _at(i, row, rs):
    """The flat index of neuron ``i``'s value in row ``row`` of a blocked array whose blocks hold
    ``rs`` values each (``rows * ROW``). Shifts and a mask, not ``//`` and ``%``: on signed
    integers those add sign fix-ups, which made the synapses' scatter 1.9x slower. Inlined by
    LLVM (inlining it at Numba's IR level at each of its call sites cost ~0.5 s of a first call)."""
    inline_hint()
    return (i >> BLOCK_SHIFT) * rs + row * ROW + (i & (BLOCK - 1))


def flush_period(decays, dtype) -> int:
    """Steps between two flushes of the network state (:data:`FLUSH_EVERY` at most): within that many
    steps, a value at or above :data:`FLUSH` multiplied by the per-step factors ``decays`` (the
    receptors' decay, the LIF's relaxation factor: any array-likes) stays above ``dtype``'s smallest
    normal number, with a 2x margin on the exponent."""
    d = min((float(np.min(np.abs(x))) for x in decays if np.size(x)), default=1.0)
    if d >= 1.0:
        return FLUSH_EVERY
    if d <= 0.0:
        return 1
    room = math.log(np.finfo(dtype).tiny / FLUSH) / 2  # < 0: the exponent range below FLUSH, halved
    return int(min(FLUSH_EVERY, max(1, room // math.log(d))))


def _flush_template(sb, m):
    """The flush of one block's state (see the module docstring): ``v`` if ``_FLUSH_V``, the
    ``_N_REC`` receptor rows from ``_RROW``."""
    if _FLUSH_V:  # noqa: F821
        for j in range(m):
            sb[j] = flushed(sb[j])  # row 0: v
    for r in range(_N_REC):  # noqa: F821
        for j in range(m):
            sb[(_RROW + r) * ROW + j] = flushed(sb[(_RROW + r) * ROW + j])  # noqa: F821


def _flusher(tag, rrow, n_rec, flush_v):
    return jit(specialise(_flush_template, f"_net_flush_{tag}", _RROW=rrow, _N_REC=n_rec, _FLUSH_V=flush_v),
               inline="always")


def _update_template(b, n, S, P, xb, iext, zero_row, fired, nsp_b, bits, key, k, dt, flush):
    """Step block ``b``'s neurons once with the model's loop (``_LOOP``: it also adds the receptors'
    drive and decays them), its spike count to ``nsp_b[b, 0]`` and its spikes as bits to ``bits[b]``
    (read by the serial emit: 32 bytes, not the block's 2 KB of flags, which stay in the cache of
    the core that owns the block), then flush its state if ``flush``; returns the first neuron in a
    bad state, or -1. ``S``/``P``: the blocked arrays with each block's rows flattened (``(blocks,
    rows * ROW)``, see :func:`_run_template`)."""
    inline_hint()  # LLVM inlines it into the block loops of both builds (see network_kernels)
    prefer_wide_vectors()  # the loop LLVM inlines here keeps its vector width
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    sb = S[b]
    pb = P[b if P.shape[0] > 1 else 0]
    xbb = xb[lo:lo + m] if xb.shape[0] > 1 else xb[0:1]
    # A per-neuron external input is read in place; a uniform one travels as the common input.
    per = iext.shape[0] > 1
    drive = iext[lo:lo + m] if per else zero_row[:m]
    ic = 0.0 if per else iext[0]
    if _NOISY:  # noqa: F821
        for j in range(m):
            sb[XI * ROW + j] = normal(stream_key(key, lo + j), k)
    _STAGE(sb, pb, key, k, lo, m)  # noqa: F821
    flags = fired[b * ROW:(b + 1) * ROW]
    if m == BLOCK:  # a full block: LLVM inlines the loop here with a constant trip count (6% faster);
        # np.int64: a literal would type a second signature, compiling the loop twice
        nsp, nbad = _LOOP(sb, pb, drive, ic, flags, np.int64(BLOCK), dt, k, xbb)  # noqa: F821
    else:
        nsp, nbad = _LOOP(sb, pb, drive, ic, flags, m, dt, k, xbb)  # noqa: F821
    raster_spikes(flags, nsp, 0, b, bits, nsp_b)
    if flush:
        _FLUSH_ROWS(sb, m)  # noqa: F821
    if nbad:
        return lo + first_bad(sb, m)
    return -1


def _engine_update_template(b, n, S, P, xb, iext, zero_row, fired, nsp_b, bits, key, k, dt, flush):
    """Block ``b``'s step for a model of the population engine without receptor rows in its loop
    (HH, Izhikevich): the drive ``I_ext + sum_r`` (receptor terms, as the LIF loop adds them) is
    staged into the block's input row, the receptors decay, then the model's loop of method
    ``_METHOD`` steps the block. State rows: the model's ``_N_STATE``, ``xi``, ``input``, then the
    receptors (``_RROW``); parameter rows: the model's, then ``(coef, decay, E)`` per receptor
    (``_RPAR``); ``_N_CUR`` current receptors come first, ``_N_REC`` in all. Spikes and flush as
    in :func:`_update_template`."""
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    sb = S[b]
    pb = P[b]
    inp = sb[(_N_STATE + 1) * ROW:(_N_STATE + 1) * ROW + m]  # noqa: F821
    per = iext.shape[0] > 1
    for j in range(m):
        inp[j] = iext[lo + j] if per else iext[0]
    for r in range(_N_REC):  # noqa: F821  (the drive, from every row's value at the step's start)
        for j in range(m):
            x = sb[(_RROW + r) * ROW + j]  # noqa: F821
            c = pb[(_RPAR + 3 * r) * ROW + j]  # noqa: F821
            if r < _N_CUR:  # noqa: F821
                inp[j] += c * x
            else:
                inp[j] += c * x * (pb[(_RPAR + 3 * r + 2) * ROW + j] - sb[j])  # noqa: F821  (row 0: v)
    for r in range(_N_REC - 1, -1, -1):  # noqa: F821  (then the decay, last row first: a filter's
        pos = _CHAIN[r]  # noqa: F821          later stages read the earlier ones' old values)
        for j in range(m):
            acc = sb[(_RROW + r) * ROW + j]  # noqa: F821
            f = 1.0
            for i in range(1, pos + 1):
                f = f * pb[(_RPAR + 3 * r + 2) * ROW + j] / i  # noqa: F821  (h = dt / tau)
                acc += f * sb[(_RROW + r - i) * ROW + j]  # noqa: F821
            sb[(_RROW + r) * ROW + j] = acc * pb[(_RPAR + 3 * r + 1) * ROW + j]  # noqa: F821
    if _NOISY:  # noqa: F821
        for j in range(m):
            sb[_N_STATE * ROW + j] = normal(stream_key(key, lo + j), k)  # noqa: F821
    flags = fired[b * ROW:(b + 1) * ROW]
    nsp, nbad = _LOOP(sb, pb, inp, like(sb, 0.0), flags, m, like(sb, dt))  # noqa: F821
    raster_spikes(flags, nsp, 0, b, bits, nsp_b)
    if flush:
        _FLUSH_ROWS(sb, m)  # noqa: F821
    if nbad:
        j = _FIRST_BAD(sb, m)  # noqa: F821
        return lo + (j if j >= 0 else 0)
    return -1


@device
def row_span(src, p, src_lo, src_hi, ip_off, syn_off, indptr):
    """``(s0, s1)``: the synapses of source ``src`` (a network-wide id) in projection ``p`` (the CSR
    arrays of every projection concatenated); an empty span when ``src`` is not one of ``p``'s
    sources. (The CUDA propagation spells the same lookup out: the simulator cannot pass its
    device arrays to a CPU-jitted helper.)"""
    if src < src_lo[p] or src >= src_hi[p]:
        return 0, 0
    b = ip_off[p] + src - src_lo[p]
    return syn_off[p] + indptr[b], syn_off[p] + indptr[b + 1]


def _state_row(x):
    """The state row of target ``x`` (0: ``v``; ``1 + r``: receptor ``r``, from the model's ``_RROW``)."""
    return 0 if x == 0 else _RROW + x - 1  # noqa: F821


@jit(inline="always")
def _share(nb, nt, t):
    """``(first, end)``: the blocks thread ``t`` of ``nt`` owns, in the update and in the propagation
    alike, so a block's state stays in one core's cache."""
    return (nb * t) // nt, (nb * (t + 1)) // nt


def _blocks_template(n, S, P, xb, iext, zero_row, fired, nsp_b, bits, bad, key, k, dt, flush, nt):
    """Every block's update, ``nt`` contiguous shares of blocks (:func:`_share`: ``prange`` over them
    in the parallel build; the same compiled update either way, so the two builds agree to the last
    bit). ``np.int64(b)``: a ``prange`` index is unsigned."""
    for t in prange(nt):
        b0, b1 = _share(S.shape[0], nt, t)
        for b in range(b0, b1):
            bad[b] = _UPDATE(np.int64(b), n, S, P, xb, iext, zero_row, fired, nsp_b, bits, key, k, dt,  # noqa: F821
                             flush)


def _propagate_template(nt, n, nb, c0, cnt, spk_i, src_lo, src_hi, rec_row, tgt_lo, ip_off, syn_off, indptr, post,
                        weight, dsteps, ring, slot, fired, S1, rs, n_rec):
    """The step's synaptic effects (see the module docstring), ``nt`` shares of target neurons
    (:func:`_share`: the blocks each thread updates; ``prange`` over them in the parallel build),
    each applied by one compiled call of :func:`_share_effects_template` (the parallel build's
    parfor then holds a call, not the whole walk: its compile went from 4.9 to 2.6 s for both
    precisions)."""
    for t in prange(nt):
        _SHARE_EFFECTS(np.int64(t), nt, n, nb, c0, cnt, spk_i, src_lo, src_hi, rec_row, tgt_lo, ip_off,  # noqa: F821
                       syn_off, indptr, post, weight, dsteps, ring, slot, fired, S1, rs, n_rec)


def _share_effects_template(t, nt, n, nb, c0, cnt, spk_i, src_lo, src_hi, rec_row, tgt_lo, ip_off, syn_off, indptr,
                            post, weight, dsteps, ring, slot, fired, S1, rs, n_rec):
    """Share ``t`` of ``nt`` of the step's synaptic effects: it walks every spike's synapses and
    applies those onto its own neurons, so each target sees its effects in one fixed order (spikes
    ascending, synapses in CSR order) whatever ``nt``. Then the ring slot of this step (``slot``)
    is applied to the share's neurons."""
    n_slots = ring.shape[0]
    delayed = n_slots > 1
    b0, b1 = _share(nb, nt, t)
    lo = b0 * BLOCK
    hi = min(n, b1 * BLOCK)
    for q in range(c0, cnt):
        src = spk_i[0, q]
        for p in range(src_lo.shape[0]):
            r = rec_row[p]
            s0, s1 = row_span(src, p, src_lo, src_hi, ip_off, syn_off, indptr)
            if r < 0 or s0 == s1:
                continue
            off = tgt_lo[p]
            if delayed:
                for s in range(s0, s1):
                    i = off + post[s]
                    if lo <= i < hi:
                        x = slot + dsteps[s]  # (k + delay) % n_slots without a division: delay < n_slots
                        ring[x - n_slots if x >= n_slots else x, r, i] += weight[s]
            elif r == 0:
                for s in range(s0, s1):
                    i = off + post[s]
                    if lo <= i < hi and fired[_at(i, 0, ROW)] == 0:
                        S1[_at(i, 0, rs)] += weight[s]
            else:
                sr = _ROW_OF(r)  # noqa: F821
                for s in range(s0, s1):
                    i = off + post[s]
                    if lo <= i < hi:
                        S1[_at(i, sr, rs)] += weight[s]
    if delayed:
        for i in range(lo, hi):
            x = ring[slot, 0, i]
            if x != 0.0:
                if fired[_at(i, 0, ROW)] == 0:
                    S1[_at(i, 0, rs)] += x
                ring[slot, 0, i] = 0.0
        for x in range(1, 1 + n_rec):
            sr = _ROW_OF(x)  # noqa: F821
            for i in range(lo, hi):
                S1[_at(i, sr, rs)] += ring[slot, x, i]
                ring[slot, x, i] = 0.0


def _run_template(n, S, P, xb, iext, n_rec, key, k_begin, k_end, k0, dt,
                  gen_k, gen_id, gen_pos, src_lo, src_hi, rec_row, tgt_lo, tgt_hi, ip_off, syn_off, indptr, post,
                  weight, dsteps, ring, plastic, pl_pre, pl_post, pl_ip, pl_syn, x_pre, k_pre, x_post, k_post,
                  indptr_post, syn, pre, pl_params, spk_t, spk_i, spk_n, rec, stride, traces, err, flush_every,
                  n_threads, scratch):
    """Run from ``k_begin[0]`` to ``k_end`` (or until the spike buffer could overflow); see the module docstring.

    ``S``/``P``/``xb``: the neuron model's blocked state, parameters and float64 row (as the
    population engine lays them out, with ``n_rec`` receptor rows from ``RECEPTOR_ROW`` and their
    coefficients from ``RECEPTOR_PARAM``); ``iext`` ``(n,)`` constant drive (``(1,)``: uniform); ``gen_k``/``gen_id`` the spike generators' (step, source id) pairs
    sorted by step, ``gen_pos[0]`` the next one; projection ``p`` reads sources ``src_lo[p] ..
    src_hi[p]`` (neurons ``0..n-1``, generators from ``n``), targets receptor row ``rec_row[p]``
    of neurons ``tgt_lo[p] + post``, its CSR at ``indptr[ip_off[p]:]`` and synapses from
    ``syn_off[p]`` (``rec_row[p] < 0``: no effect, plasticity only); ``ring`` ``(R, 1 + n_receptors, n)``.
    Plastic projections ``plastic[q]`` (STDP, :mod:`._stdp_kernels`) keep their traces in ``x_pre``
    / ``k_pre`` from ``pl_pre[q]`` and ``x_post`` / ``k_post`` from ``pl_post[q]``, their transpose in
    ``indptr_post`` from ``pl_ip[q]`` and ``syn`` / ``pre`` from ``pl_syn[q]``, their rule in
    ``pl_params[q]``; targets are ``tgt_lo[p] .. tgt_hi[p]`` (for the postsynaptic spikes). Spikes go to ``spk_t[0]``/``spk_i[0]``
    (``spk_n[0]`` of them); ``err`` gets ``(step, neuron)`` of a bad state. The state is flushed
    after the update of every step ``k`` that ``flush_every`` (:func:`flush_period`) divides. The
    parallel build shares the blocks among ``n_threads`` threads (the serial one ignores it).
    ``scratch``: the run's working arrays, fresh from :func:`run_scratch`.
    """
    nb = S.shape[0]
    cap = spk_t.shape[1]
    n_slots = ring.shape[0]
    fired, nsp_b, bits, bad, side_pre, side_post, zero_row = scratch
    # np.int64: a literal 1 would type the serial build's share function apart from the parallel one's
    nt = max(1, min(n_threads, nb)) if _THREADED else np.int64(1)  # noqa: F821
    # Each block's rows as one flat row, reshaped once: a reshape per block and step is a call to
    # Numba's C helper that LLVM cannot inline. ``S1``: the whole state flat (:func:`_at`).
    S_flat = S.reshape(nb, -1)
    P_flat = P.reshape(P.shape[0], -1)
    S1 = S.reshape(-1)
    rs = S.shape[1] * ROW
    cnt = spk_n[0]
    gp = gen_pos[0]
    k = k_begin[0]
    while k < k_end:
        g_end = gp
        while g_end < gen_k.shape[0] and gen_k[g_end] == k:
            g_end += 1
        if cnt + n + (g_end - gp) > cap:
            break
        # start: the state monitor
        if rec.shape[0] > 0 and (k - k0) % stride == 0:
            row = (k - k0) // stride
            for q in range(rec.shape[0]):
                i = rec[q]
                for x in range(1 + n_rec):
                    traces[x, q, row] = S1[_at(i, _ROW_OF(x), rs)]  # noqa: F821
        # groups: the neuron update, block by block
        _BLOCKS(n, S_flat, P_flat, xb, iext, zero_row, fired, nsp_b, bits, bad, key, k, dt,  # noqa: F821
                k % flush_every == 0, nt)
        stop = False
        for b in range(nb):
            if bad[b] >= 0:
                err[0] = k
                err[1] = bad[b]
                stop = True
                break
        if stop:
            break
        # thresholds: the step's spikes, neurons ascending, then the generators
        c0 = cnt
        t = k * dt
        for b in range(nb):
            if nsp_b[b, 0]:
                for g in range(RASTER_WORDS):
                    cnt = emit_word(bits[b, g], b * BLOCK + 64 * g, t, 0, spk_t, spk_i, cnt)
        for q in range(gp, g_end):
            spk_t[0, cnt] = t
            spk_i[0, cnt] = gen_id[q]
            cnt += 1
        gp = g_end
        # synapses: propagation in a fixed order, then this step's ring slot
        _PROPAGATE(nt, n, nb, c0, cnt, spk_i, src_lo, src_hi, rec_row, tgt_lo, ip_off, syn_off, indptr, post,  # noqa: F821
                   weight, dsteps, ring, k % n_slots, fired, S1, rs, n_rec)
        # plasticity (Brian2's order: after every pre pathway's effect, with the weights it used);
        # ``_PLASTIC``: compiled in only for networks with plastic projections (a constant branch:
        # Numba prunes it before typing, so a network without STDP never compiles the STDP code)
        if _PLASTIC:  # noqa: F821
            for q in range(plastic.shape[0]):
                p = plastic[q]
                npre = 0
                npost = 0
                for c in range(c0, cnt):
                    x = spk_i[0, c]
                    if src_lo[p] <= x < src_hi[p]:
                        side_pre[npre] = x - src_lo[p]
                        npre += 1
                    if tgt_lo[p] <= x < tgt_hi[p]:
                        side_post[npost] = x - tgt_lo[p]
                        npost += 1
                if npre + npost:
                    n_pre = src_hi[p] - src_lo[p]
                    n_post = tgt_hi[p] - tgt_lo[p]
                    ip = indptr[ip_off[p]:ip_off[p] + n_pre + 1]
                    s0 = syn_off[p]
                    s1 = s0 + ip[n_pre]
                    stdp_step(k, side_pre, npre, side_post, npost, ip, post[s0:s1], indptr_post[pl_ip[q]:pl_ip[q] + n_post + 1],
                              syn[pl_syn[q]:pl_syn[q] + s1 - s0], pre[pl_syn[q]:pl_syn[q] + s1 - s0], weight[s0:s1],
                              x_pre[pl_pre[q]:pl_pre[q] + n_pre], k_pre[pl_pre[q]:pl_pre[q] + n_pre],
                              x_post[pl_post[q]:pl_post[q] + n_post], k_post[pl_post[q]:pl_post[q] + n_post], pl_params[q])
        k += 1
    k_begin[0] = k
    spk_n[0] = cnt
    gen_pos[0] = gp


def run_scratch(S, n: int, n_gen: int) -> tuple:
    """The working arrays of one :func:`_run_template` call (made here, not in the kernel: each
    allocation compiled in there cost ~0.15 s of a network's first run): the step's spike flags
    (as wide as the state's floats: the step loops keep their lanes), each block's spike count,
    its spikes as bits and its first bad neuron, the plastic projections' pre and post spike
    lists (room for ``n`` neurons and ``n_gen`` generator spikes), a zero drive row."""
    nb = S.shape[0]
    return (int_flags(S, nb * ROW), np.zeros((nb, 1), dtype=np.int64), np.zeros((nb, RASTER_WORDS), dtype=np.uint64),
            np.full(nb, -1, dtype=np.int64), np.empty(max(1, n + n_gen), dtype=np.int64),
            np.empty(max(1, n + n_gen), dtype=np.int64), np.zeros(ROW, dtype=S.dtype))


_KERNELS = {}


def _run_kernels(tag, update, rrow):
    """``{plastic: (serial, parallel)}``: the run kernels around one block update, without and with
    the STDP code (compiling it costs ~3 s); receptor ``r`` is state row ``rrow + r``."""
    row_of = jit(specialise(_state_row, f"_net_row_{tag}", _RROW=rrow), inline="always")
    blocks = cpu_kernels(specialise(_blocks_template, f"_net_blocks_{tag}", _UPDATE=update))
    share = jit(specialise(_share_effects_template, f"_net_share_effects_{tag}", _ROW_OF=row_of))
    propagate = cpu_kernels(specialise(_propagate_template, f"_net_propagate_{tag}", _SHARE_EFFECTS=share))
    return {plastic: tuple(jit(specialise(_run_template, f"_net_run_{tag}{'_stdp' if plastic else ''}_{kind}",
                                          _BLOCKS=fn, _PROPAGATE=prop, _ROW_OF=row_of, _PLASTIC=plastic,
                                          _THREADED=kind == "parallel"))
                           for kind, fn, prop in zip(("serial", "parallel"), blocks, propagate))
            for plastic in (False, True)}


def network_kernels(per_neuron, dynamics, noisy, legacy, freeze, poisson, n_cur, n_cond, chain=(), plastic=False):
    """The (serial, parallel) network run kernels around the LIF step loop of one feature
    combination (the flags of :func:`fastkernels.neurons._lif_kernels.step_loop`, with ``n_cur``
    current and ``n_cond`` conductance receptor rows, ``chain`` each row's filter stage), with
    the STDP code when ``plastic``."""
    chain = tuple(chain) + (0,) * (MAX_RECEPTORS - len(chain))
    flags = (bool(per_neuron), bool(dynamics), bool(noisy), bool(legacy), bool(freeze), bool(poisson), int(n_cur),
             int(n_cond), chain)
    if flags not in _KERNELS:
        tag = "".join("1" if f else "0" for f in flags[:6]) + f"_{n_cur}{n_cond}" + \
            ("_c" + "".join(map(str, chain)) if any(chain) else "")
        loop, _trace, stage, options = step_loop("net" + tag, *flags[:6], False, n_cur, n_cond, chain, reassoc=False,
                                                 flush=False)
        # No reassociation: the update is compiled into the serial and the parallel build, which may
        # inline it differently; without ``reassoc`` both round alike (the same spikes and states).
        # Inlined into the block loop (a call per block and step measured 5% of the run) by LLVM,
        # from one compiled function: Numba's own inlining copied its IR into the serial and the
        # parallel block loops, whose parfor passes then walked it (the parallel block loop's
        # compile went from 5.3 to 2.4 s for both precisions).
        update = jit(specialise(_update_template, f"_net_update_{tag}", _LOOP=loop, _NOISY=flags[2],
                                _STAGE=stage if stage is not None else _no_stage,
                                _FLUSH_ROWS=_flusher(tag, RECEPTOR_ROW, n_cur + n_cond, True)), **options)
        _KERNELS[flags] = _run_kernels(tag, update, RECEPTOR_ROW)
    return _KERNELS[flags][bool(plastic)]


def engine_network_kernels(population, method_code, noisy, n_cur, n_cond, chain=(), plastic=False):
    """The (serial, parallel) network run kernels around an engine model's step loop
    (:class:`fastkernels.neurons._engine.Population`: HH, Izhikevich) for one method (with the
    STDP code when ``plastic``)."""
    chain = tuple(chain) + (0,) * (MAX_RECEPTORS - len(chain))
    key = (population.name, int(method_code), bool(noisy), int(n_cur), int(n_cond), chain)
    if key not in _KERNELS:
        tag = f"{population.name}_{method_code}{int(noisy)}_{n_cur}{n_cond}" + \
            ("_c" + "".join(map(str, chain)) if any(chain) else "")
        n_state = len(population.state)
        update = jit(specialise(_engine_update_template, f"_net_update_{tag}", _LOOP=population.loops[method_code],
                                _FIRST_BAD=population.first_bad, _NOISY=bool(noisy), _N_STATE=n_state,
                                _RROW=n_state + 2, _RPAR=len(population.params), _N_REC=n_cur + n_cond,
                                _N_CUR=n_cur, _CHAIN=chain,
                                _FLUSH_ROWS=_flusher(tag, n_state + 2, n_cur + n_cond, False)), fastmath=FASTMATH)
        _KERNELS[key] = _run_kernels(tag, update, n_state + 2)
    return _KERNELS[key][bool(plastic)]


@jit
def _no_stage(sb, pb, key, k, lo, m):
    """No staging (the LIF variant has no Poisson input)."""
