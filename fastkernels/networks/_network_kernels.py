"""The compiled network run (CPU): the whole time loop of a :class:`~.network.Network` in one call.

Time outside, neurons inside, as a network needs (a step's spikes reach other neurons before
the next step): per step ``k`` (``t_k = k dt``), in Brian2's schedule order (``start``,
``groups``, ``thresholds``, ``synapses``, ``resets``):

1. *start*: the state monitor samples ``v`` and the receptors of its neurons (the values at
   ``t_k``, as Brian2's ``StateMonitor`` records in ``when="start"``);
2. *groups*: per block of :data:`~fastkernels.neurons._layout.BLOCK` neurons, the drive
   ``I_ext + sum_r coef_r g_r`` (``g_r`` at ``t_k``) is staged into the block's input row and the
   receptors decay exactly (``g_r *= decay_r``); the neuron model's own step loop (the population
   engine's, :func:`fastkernels.neurons._lif_kernels.step_loop`: the same code a
   ``simulate_lif`` run executes) integrates the block, tests the threshold and resets;
3. *thresholds*: the step's spikes (neurons ascending, then spike generators) are appended to
   the spike buffer;
4. *synapses*: every synapse of a spiking source adds its weight to its target receptor row
   (``0``: ``v`` itself, ``1..``: the receptors) of its postsynaptic neuron, now when its delay
   is 0 steps, else into the ring slot of step ``k + delay``; then the slot of step ``k`` is
   applied. A ``v`` jump onto a neuron that spiked in this step is dropped (Brian2 applies
   ``on_pre`` before the reset, which overwrites it); a refractory neuron receives it.

Propagation is serial and in a fixed order (spikes ascending, synapses in CSR order), so the
result does not depend on the thread count; the ``"parallel"`` build runs the neuron update of
each step with ``prange`` over blocks.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import cpu_kernels, jit, specialise
from .._random import normal, stream_key
from ..neurons._driver import emit_spikes
from ..neurons._layout import BLOCK, ROW
from ..neurons._lif_kernels import FLUSH, IN, SINCE_MAX, V, XI, first_bad, step_loop

__all__ = ["network_kernels"]


def _update_template(b, n, S, P, xb, iext, G, coef, decay, fired, nsp_b, key, k, dt):
    """Stage block ``b``'s drive, decay its receptors and step its neurons once (``_LOOP``)."""
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    sb = S[b].reshape(-1)
    pb = P[b if P.shape[0] > 1 else 0].reshape(-1)
    xbb = xb[lo:lo + m] if xb.shape[0] > 1 else xb[0:1]
    inp = sb[IN * ROW:IN * ROW + m]
    # Uniform values travel as one column (read as scalars: the loops stream only the state).
    if iext.shape[0] > 1:
        for j in range(m):
            inp[j] = iext[lo + j]
    else:
        c = iext[0]
        for j in range(m):
            inp[j] = c
    for r in range(G.shape[0]):
        g = G[r, lo:lo + m]
        if coef.shape[1] > 1:
            cr = coef[r, lo:lo + m]
            dr = decay[r, lo:lo + m]
            for j in range(m):
                x = g[j]
                inp[j] += cr[j] * x
                y = x * dr[j]
                g[j] = y if abs(y) >= FLUSH else 0.0
        else:
            c = coef[r, 0]
            d = decay[r, 0]
            for j in range(m):
                x = g[j]
                inp[j] += c * x
                y = x * d
                g[j] = y if abs(y) >= FLUSH else 0.0
    if _NOISY:  # noqa: F821
        for j in range(m):
            sb[XI * ROW + j] = normal(stream_key(key, lo + j), k)
    _STAGE(sb, pb, key, k, lo, m)  # noqa: F821
    flags = fired[b * ROW:(b + 1) * ROW]
    nsp, nbad = _LOOP(sb, pb, inp, 0.0, flags, m, dt, k, xbb)  # noqa: F821
    nsp_b[b] = nsp
    if nbad:
        return lo + first_bad(sb, m)
    return -1


def _blocks_template(n, S, P, xb, iext, G, coef, decay, fired, nsp_b, bad, key, k, dt):
    """Every block's update (``prange`` in the parallel build; the same compiled update either way,
    so the two builds agree to the last bit). ``np.int64(b)``: a ``prange`` index is unsigned."""
    for b in prange(S.shape[0]):
        bad[b] = _UPDATE(np.int64(b), n, S, P, xb, iext, G, coef, decay, fired, nsp_b, key, k, dt)  # noqa: F821


def _run_template(n, S, P, xb, iext, G, coef, decay, key, k_begin, k_end, k0, dt,
                  gen_k, gen_id, gen_pos, src_lo, src_hi, rec_row, tgt_lo, ip_off, syn_off, indptr, post, weight,
                  dsteps, ring, spk_t, spk_i, spk_n, rec, stride, traces, err):
    """Run from ``k_begin[0]`` to ``k_end`` (or until the spike buffer could overflow); see the module docstring.

    ``S``/``P``/``xb``: the neuron model's blocked state, parameters and float64 row (as the
    population engine lays them out); ``iext`` ``(n,)`` constant drive; ``G`` ``(n_receptors, n)``,
    ``coef``/``decay`` ``(n_receptors, n)`` or ``(n_receptors, 1)`` (uniform; ``iext`` likewise ``(1,)``); ``gen_k``/``gen_id`` the spike generators' (step, source id) pairs
    sorted by step, ``gen_pos[0]`` the next one; projection ``p`` reads sources ``src_lo[p] ..
    src_hi[p]`` (neurons ``0..n-1``, generators from ``n``), targets receptor row ``rec_row[p]``
    of neurons ``tgt_lo[p] + post``, its CSR at ``indptr[ip_off[p]:]`` and synapses from
    ``syn_off[p]``; ``ring`` ``(R, 1 + n_receptors, n)``. Spikes go to ``spk_t[0]``/``spk_i[0]``
    (``spk_n[0]`` of them); ``err`` gets ``(step, neuron)`` of a bad state.
    """
    nb = S.shape[0]
    cap = spk_t.shape[1]
    n_proj = src_lo.shape[0]
    n_slots = ring.shape[0]
    delayed = n_slots > 1
    fired = np.zeros(nb * ROW, dtype=np.uint8)
    words = fired.view(np.uint64)
    nsp_b = np.zeros(nb, dtype=np.int64)
    bad = np.full(nb, -1, dtype=np.int64)
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
                traces[0, q, row] = S[i // BLOCK, V, i % BLOCK]
                for r in range(G.shape[0]):
                    traces[1 + r, q, row] = G[r, i]
        # groups: the neuron update, block by block
        _BLOCKS(n, S, P, xb, iext, G, coef, decay, fired, nsp_b, bad, key, k, dt)  # noqa: F821
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
            if nsp_b[b]:
                cnt = emit_spikes(fired[b * ROW:(b + 1) * ROW], words[b * ROW // 8:(b + 1) * ROW // 8], nsp_b[b],
                                  min(n, b * BLOCK + BLOCK) - b * BLOCK, b * BLOCK, t, 0, spk_t, spk_i, cnt)
        for q in range(gp, g_end):
            spk_t[0, cnt] = t
            spk_i[0, cnt] = gen_id[q]
            cnt += 1
        gp = g_end
        # synapses: propagation in a fixed order
        for q in range(c0, cnt):
            src = spk_i[0, q]
            for p in range(n_proj):
                if src < src_lo[p] or src >= src_hi[p]:
                    continue
                r = rec_row[p]
                off = tgt_lo[p]
                base = ip_off[p] + src - src_lo[p]
                s0 = syn_off[p] + indptr[base]
                s1 = syn_off[p] + indptr[base + 1]
                if delayed:
                    for s in range(s0, s1):
                        ring[(k + dsteps[s]) % n_slots, r, off + post[s]] += weight[s]
                elif r == 0:
                    for s in range(s0, s1):
                        i = off + post[s]
                        if fired[(i // BLOCK) * ROW + i % BLOCK] == 0:
                            S[i // BLOCK, V, i % BLOCK] += weight[s]
                else:
                    for s in range(s0, s1):
                        G[r - 1, off + post[s]] += weight[s]
        if delayed:
            slot = k % n_slots
            for i in range(n):
                x = ring[slot, 0, i]
                if x != 0.0:
                    if fired[(i // BLOCK) * ROW + i % BLOCK] == 0:
                        S[i // BLOCK, V, i % BLOCK] += x
                    ring[slot, 0, i] = 0.0
            for r in range(G.shape[0]):
                for i in range(n):
                    G[r, i] += ring[slot, 1 + r, i]
                    ring[slot, 1 + r, i] = 0.0
        # the next step's flags start clear
        for q in range(c0, cnt):
            i = spk_i[0, q]
            if i < n:
                fired[(i // BLOCK) * ROW + i % BLOCK] = 0
        k += 1
    k_begin[0] = k
    spk_n[0] = cnt
    gen_pos[0] = gp


_KERNELS = {}


def network_kernels(per_neuron, dynamics, noisy, legacy, freeze, poisson):
    """The (serial, parallel) network run kernels around the LIF step loop of one feature
    combination (the flags of :func:`fastkernels.neurons._lif_kernels.step_loop`)."""
    flags = (bool(per_neuron), bool(dynamics), bool(noisy), bool(legacy), bool(freeze), bool(poisson))
    if flags not in _KERNELS:
        tag = "".join("1" if f else "0" for f in flags)
        loop, _trace, stage, options = step_loop("net" + tag, *flags, False)
        update = jit(specialise(_update_template, f"_net_update_{tag}", _LOOP=loop, _NOISY=flags[2],
                                _STAGE=stage if stage is not None else _no_stage), **options)
        blocks = cpu_kernels(specialise(_blocks_template, f"_net_blocks_{tag}", _UPDATE=update))
        _KERNELS[flags] = tuple(jit(specialise(_run_template, f"_net_run_{tag}_{kind}", _BLOCKS=fn))
                                for kind, fn in zip(("serial", "parallel"), blocks))
    return _KERNELS[flags]


@jit
def _no_stage(sb, pb, key, k, lo, m):
    """No staging (the LIF variant has no Poisson input)."""


#: ``since`` of a neuron that has never spiked (free whatever its refractory period).
NEVER = SINCE_MAX
