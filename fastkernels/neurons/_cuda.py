"""CUDA kernels of :mod:`fastkernels.neurons`: one thread per neuron, the time loop inside.

Imported only for ``backend="cuda"``. A thread keeps its neuron's state and
parameters in registers for the whole run; per step it reads one input value
(coalesced across the warp: neuron ``i`` is thread ``i``). The grid methods
record spikes as the CPU kernels do, in a bit raster of one window of steps
(:func:`raster_mark`: an atomic OR of the neuron's bit, an atomic add to its
block's count); the host driver (:func:`fastkernels.neurons._driver.run_raster`)
copies each window back and decodes it into (time, neuron) order, with no sort
and no buffer that can fill. The event-driven LIF, whose spike times are
continuous, reserves slots in one shared spike buffer with an atomic counter; a
thread whose reservation fails stops *before* committing that step and records
where it stopped, and the host driver (:func:`fastkernels.neurons._driver.run`)
empties the buffer and relaunches, so no spike is lost and none is duplicated.
The step itself is :func:`fastkernels.neurons._lif_kernels.lif_step`, the same
device function the CPU kernels inline, and noise comes from the same
counter-based streams, so results match the CPU backend.
"""

from __future__ import annotations

import numpy as np
from numba import config, cuda, types
from numba.cuda import libdevice

from .. import _launch
from .._jit import specialise
from .._random import normal, poisson as poisson_count, stream_key
from ._driver import RASTER_WORDS
from ._layout import BLOCK, reblock, unblocked_rows
from ._lif_kernels import (A, C, DVT, DW, JW, LAM, N_PARAMS, N_STATE, POISSON_STREAM, PT, PW, R, REF, REFSTEPS, SINCE,
                  SINCE_MAX, SN, TAU, TREF, V, VRESET, VREST, VT, VT0, W, event_advance,
                  free_legacy_template, lif_step)


# ---------------------------------------------------------------- shared device helpers
# CUDA device functions inlined at the Numba IR level (``inline="always"``): ``compile_ptx``
# checks them without a GPU, and the simulator runs them as Python.
@cuda.jit(device=True, inline="always")
def drive_at(rows, common, syn, k, k0, i):
    """Neuron ``i``'s input at step ``k``: ``I(t_k)`` plus the synaptic ring's slot ``k % d``
    (``d = syn.shape[0]``, 0 for none), summed in the CPU engine's order."""
    ic = common[k - k0 if common.shape[0] > 1 else 0]
    if syn.shape[0] == 0:
        return rows[k - k0 if rows.shape[0] > 1 else 0, i] + ic
    s = syn[k % syn.shape[0], i]
    if rows.shape[0] > 1:
        return (rows[k - k0, i] + ic) + s
    return (rows[0, i] + s) + ic


if config.ENABLE_CUDASIM:
    def _mul_rn(a, b):
        """The simulator runs Python floats: a product is rounded on its own."""
        return a * b
else:
    _mul_rn = libdevice.dmul_rn

#: The CPU's legacy refractory rule (``free_legacy``) with products NVVM never fuses: FMA contraction
#: is on by default there and moved a spike by a step on an H200.
free_legacy_rn = cuda.jit(device=True, inline="always")(
    specialise(free_legacy_template, "free_legacy_rn", _MUL=_mul_rn))


#: 32-bit words of one block's raster row: the CPU's uint64 words as little-endian halves.
RASTER_HALVES = 2 * RASTER_WORDS


@cuda.jit(device=True, inline="always")
def raster_mark(raster, counts, i, r):
    """Record neuron ``i``'s spike in row ``r`` of the window: the CPU kernels' bit raster
    (:func:`fastkernels.neurons._driver.raster_spikes`) seen as uint32 halves, bit ``j % 32`` of
    ``raster[b, r * RASTER_HALVES + j // 32]`` for ``b, j = divmod(i, BLOCK)`` (a uint64 word's low
    half first), and one more in ``counts[b, r]``. Atomic OR and add: no slot to reserve, no order
    to restore, and the warps need not step in lockstep."""
    b = i // BLOCK
    j = i - b * BLOCK
    cuda.atomic.or_(raster, (b, r * RASTER_HALVES + j // 32), np.uint32(1 << (j & 31)))
    cuda.atomic.add(counts, (b, r), 1)


@cuda.jit(device=True, inline="always")
def mark_bad(bad, i, k):
    """Neuron ``i``'s state went bad at step ``k``: keep its block's earliest ``(step, neuron)``
    as one key, ``k * BLOCK + j`` (``j = i % BLOCK``), with an atomic min (:func:`bad_rows` decodes it)."""
    b = i // BLOCK
    cuda.atomic.min(bad, b, k * BLOCK + (i - b * BLOCK))


#: A block with no bad state in :func:`mark_bad`'s keys.
NO_BAD = np.iinfo(np.int64).max


def bad_rows(bad, err):
    """:func:`mark_bad`'s keys (host ``(units,)`` int64) as the driver's ``err`` rows ``(step, neuron)``."""
    hit = bad != NO_BAD
    b = np.flatnonzero(hit)
    err[hit, 0] = bad[hit] // BLOCK
    err[hit, 1] = b * BLOCK + bad[hit] % BLOCK


@cuda.jit
def _zero(a):
    """``a[...] = 0`` for a C-contiguous 2-D device array (a window's raster or counts)."""
    w = a.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for q in range(start, a.shape[0] * w, step):
        a[q // w, q - (q // w) * w] = 0


@cuda.jit
def _lif_grid(S, P, ref_s, rows, common, key, kw, k_end, k0, dt, legacy, freeze, noisy, dynamics, poisson,
              raster, counts, bad_at, rec_pos, stride, traces):
    n = S.shape[1]
    dt_s = dt * 1e-3
    start, step = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, step):
        v, vt, w, sc = S[V, i], S[VT, i], S[W, i], S[SINCE, i]
        a, c, pw, pt = P[A, i], P[C, i], P[PW, i], P[PT, i]
        vrest, res, vt0, vreset = P[VREST, i], P[R, i], P[VT0, i], P[VRESET, i]
        jt, jw, sn, rst, rs = P[DVT, i], P[DW, i], P[SN, i], P[REFSTEPS, i], ref_s[i]
        lam, pw_in = P[LAM, i], P[JW, i]
        rp = rec_pos[i]
        skey = stream_key(key, i)
        pkey = stream_key(key, POISSON_STREAM + i)
        k = kw
        while k < k_end:
            if rp >= 0 and (k - k0) % stride == 0:
                row = (k - k0) // stride
                traces[0, rp, row] = v
                if traces.shape[0] > 1:
                    traces[1, rp, row] = vt if dynamics else vt0
                if traces.shape[0] > 2:
                    traces[2, rp, row] = w if dynamics else 0.0
            drive = rows[k - k0 if rows.shape[0] > 1 else 0, i] + common[k - k0 if common.shape[0] > 1 else 0]
            xi = normal(skey, k) if noisy else 0.0
            jump = poisson_count(pkey, k, lam) * pw_in if poisson else 0.0
            since = sc + 1.0
            since = since if since < SINCE_MAX else SINCE_MAX
            if legacy:
                free = free_legacy_rn(since, k, dt_s, rs)
            else:
                free = since >= rst
            vn, vtn, wn, s_, sp, bad = lif_step(v, vt, w, since, free, drive, xi, jump, a, c, pw, pt, vrest,
                                                      res, vt0, vreset, jt, jw, sn, freeze, dynamics, True)
            if bad:
                mark_bad(bad_at, i, k)
                break
            if sp:
                raster_mark(raster, counts, i, k - kw)
            v, vt, w, sc = vn, vtn, wn, s_
            k += 1
        S[V, i], S[VT, i], S[W, i], S[SINCE, i] = v, vt, w, sc


@cuda.jit
def _lif_event(S, P, rows, common, k_begin, k_end, k0, dt, max_per_step, spk_t, spk_i, spk_n, err, rec_pos,
               stride, traces):
    n = S.shape[1]
    cap = spk_t.shape[1]
    start, step = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, step):
        v, ref_left = S[V, i], S[REF, i]
        tau, vrest, res, vth, vreset, tref = P[TAU, i], P[VREST, i], P[R, i], P[VT0, i], P[VRESET, i], P[TREF, i]
        rp = rec_pos[i]
        k = k_begin[i]
        while k < k_end:
            if rp >= 0 and (k - k0) % stride == 0:
                row = (k - k0) // stride
                traces[0, rp, row] = v
                if traces.shape[0] > 1:
                    traces[1, rp, row] = vth
                if traces.shape[0] > 2:
                    traces[2, rp, row] = 0.0
            vinf = vrest + res * (rows[k - k0 if rows.shape[0] > 1 else 0, i]
                                  + common[k - k0 if common.shape[0] > 1 else 0])
            # Pass 1 counts this step's spikes, so the slots are reserved at once (all or none).
            v1, r1, rem, e = v, ref_left, dt, 0
            while rem > 0.0 and e <= max_per_step:
                v1, r1, rem_after, t_off = event_advance(v1, r1, rem, vinf, tau, vth, vreset, tref)
                if t_off >= 0.0:
                    e += 1
                rem = rem_after
            if e > max_per_step or not (abs(v1) <= 1e9):
                err[i, 0] = k
                err[i, 1] = i
                break
            if e > 0:
                slot = cuda.atomic.add(spk_n, 0, e)
                if slot + e > cap:
                    # The host reads the first min(count, cap) slots: mark the part of this
                    # reservation that fits as empty (id -1) instead of leaving garbage there.
                    for q in range(slot, min(slot + e, cap)):
                        spk_i[0, q] = -1
                    break
                rem = dt
                while rem > 0.0:  # pass 2: the same arithmetic, writing the spike times
                    v, ref_left, rem_after, t_off = event_advance(v, ref_left, rem, vinf, tau, vth, vreset, tref)
                    if t_off >= 0.0:
                        spk_t[0, slot] = k * dt + (dt - rem) + t_off
                        spk_i[0, slot] = i
                        slot += 1
                    rem = rem_after
            else:
                v, ref_left = v1, r1
            k += 1
        S[V, i], S[REF, i] = v, ref_left
        k_begin[i] = k


def buffer_capacity(n: int, max_per_step: int) -> int:
    """Slots of the shared device spike buffer: ~64 steps of every neuron firing, 1..16 Mi slots."""
    return int(min(max(n * max_per_step * 64, 1024), 1 << 24))


def lif_launcher(S, P, ref_s, rows, common, key, k0, dt, legacy, freeze, noisy, dynamics, poisson, per_neuron,
                 method, max_per_step, rec, stride, traces):
    """``launch``/``finish`` for :func:`fastkernels.neurons.simulate_lif` (see :func:`_population_launcher`):
    :func:`._driver.run` drives the event method's, :func:`._driver.run_raster` the grid methods'."""
    d_ref = _launch.to_device(np.broadcast_to(np.asarray(ref_s, dtype=np.float64), (rows.shape[1],)).copy())

    def call(grid, d_S, d_P, d_rows, d_common, start, k_end, spikes, d_err, d_rec, d_traces):
        if method == "event":
            _lif_event[grid](d_S, d_P, d_rows, d_common, start, k_end, k0, dt, max_per_step, *spikes, d_err,
                             d_rec, stride, d_traces)
        else:
            _lif_grid[grid](d_S, d_P, d_ref, d_rows, d_common, key, start, k_end, k0, dt, legacy, freeze, noisy,
                            dynamics, poisson, *spikes, d_err, d_rec, stride, d_traces)

    return _population_launcher(call, S, P, N_STATE, N_PARAMS, rows, common, rec, traces, per_neuron,
                                raster=method != "event")


#: Argument types of a window's device raster and counts.
RASTER, COUNTS = types.uint32[:, ::1], types.int32[:, ::1]


def ptx_signatures():
    f64, i64, b1 = types.float64, types.int64, types.boolean
    out = []
    for f in (types.float32, types.float64):
        m2, m3 = f[:, ::1], f[:, :, ::1]
        out.append((_lif_grid, (m2, m2, f64[::1], m2, f[::1], i64, i64, i64, i64, f64, b1, b1, b1, b1, b1,
                                RASTER, COUNTS, i64[::1], i64[::1], i64, m3)))
        out.append((_lif_event, (m2, m2, m2, f[::1], i64[::1], i64, i64, f64, i64, f64[:, ::1], i64[:, ::1],
                                 i64[::1], i64[:, ::1], i64[::1], i64, m3)))
    out += [(_zero, (RASTER,)), (_zero, (COUNTS,))]
    return out


# ---------------------------------------------------------------- the population engine on CUDA
# One thread per neuron with the time loop inside, as for the LIF grid kernel. The step is the
# CPU kernels' own step function, cloned for CUDA (hh.cuda_step / izhikevich.cuda_steps: the
# same source with the hardware exp, inlined). The method is a run-time argument: the branch
# is uniform across a warp, and one kernel per model keeps compile time down. What every model
# kernel shares is here: the drive (input plus the synaptic ring of fastkernels.neurons._engine),
# the raster writer (above) and the launcher.
#
# Precision: the kernels run in the dtype of S (the engine's working dtype, float64 or float32).
# ``real = S.dtype.type`` casts the three float64 inputs of a step to it once: dt (rounded once
# per thread, as on the CPU), the noise draw (the float64 stream, as on the CPU) and the drive;
# the step functions keep their constants in the arguments' precision (``like``), so a float32
# kernel's step is pure float32 (``expf``; tests/test_ptx.py checks its PTX for f64 ops). The
# casts of the step's results are no-ops when compiled; under the CUDA simulator, where the
# jitted step returns Python floats, they keep the state float32.
from . import _hh_kernels as _hh  # noqa: E402
from . import izhikevich as _izh  # noqa: E402

hh_step_cuda = _hh.cuda_step()
izh_euler_step_cuda, izh_rk4_step_cuda = _izh.cuda_steps()


@cuda.jit
def _hh_grid(S, P, rows, common, syn, key, kw, k_end, k0, dt, method, noisy, raster, counts, bad_at, rec_pos,
             stride, traces):
    n = S.shape[1]
    real = S.dtype.type  # the working precision
    dts = real(dt)
    start, step = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, step):
        v, m, h, g = S[_hh.V, i], S[_hh.M, i], S[_hh.H, i], S[_hh.N, i]
        invc, gna, gk, gl = P[_hh.INVC, i], P[_hh.GNA, i], P[_hh.GK, i], P[_hh.GL, i]
        ena, ek, el, vth = P[_hh.ENA, i], P[_hh.EK, i], P[_hh.EL, i], P[_hh.VTH, i]
        shift, phi, sn = P[_hh.SHIFT, i], P[_hh.PHI, i], P[_hh.SN, i]
        rp = rec_pos[i]
        skey = stream_key(key, i)
        k = kw
        while k < k_end:
            if rp >= 0 and (k - k0) % stride == 0:
                row = (k - k0) // stride
                traces[0, rp, row] = v
                if traces.shape[0] > 1:
                    traces[1, rp, row] = m
                if traces.shape[0] > 2:
                    traces[2, rp, row] = h
                if traces.shape[0] > 3:
                    traces[3, rp, row] = g
            xi = real(normal(skey, k) if noisy else 0.0)
            vn, mn, hn, gn, sp, bad = hh_step_cuda(v, m, h, g, real(drive_at(rows, common, syn, k, k0, i)), xi, invc, gna,
                                               gk, gl, ena, ek, el, vth, shift, phi, sn, dts, method)
            if bad:
                mark_bad(bad_at, i, k)
                break
            if sp:
                raster_mark(raster, counts, i, k - kw)
            v, m, h, g = real(vn), real(mn), real(hn), real(gn)
            k += 1
        S[_hh.V, i], S[_hh.M, i], S[_hh.H, i], S[_hh.N, i] = v, m, h, g


@cuda.jit
def _izh_grid(S, P, rows, common, syn, key, kw, k_end, k0, dt, method, noisy, raster, counts, bad_at,
              rec_pos, stride, traces):
    n = S.shape[1]
    real = S.dtype.type  # the working precision
    dts = real(dt)
    start, step = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, n, step):
        v, u = S[_izh.V, i], S[_izh.U, i]
        a, b, c, d = P[_izh.A, i], P[_izh.B, i], P[_izh.C, i], P[_izh.D, i]
        vpeak, sn = P[_izh.VPEAK, i], P[_izh.SN, i]
        rp = rec_pos[i]
        skey = stream_key(key, i)
        k = kw
        while k < k_end:
            if rp >= 0 and (k - k0) % stride == 0:
                row = (k - k0) // stride
                traces[0, rp, row] = v
                if traces.shape[0] > 1:
                    traces[1, rp, row] = u
            drive = real(drive_at(rows, common, syn, k, k0, i))
            xi = real(normal(skey, k) if noisy else 0.0)
            if method == _izh.EULER:
                vn, un, sp, bad = izh_euler_step_cuda(v, u, drive, xi, a, b, c, d, vpeak, sn, dts)
            else:
                vn, un, sp, bad = izh_rk4_step_cuda(v, u, drive, xi, a, b, c, d, vpeak, sn, dts)
            if bad:
                mark_bad(bad_at, i, k)
                break
            if sp:
                raster_mark(raster, counts, i, k - kw)
            v, u = real(vn), real(un)
            k += 1
        S[_izh.V, i], S[_izh.U, i] = v, u


#: The CUDA kernel of each engine model (:attr:`fastkernels.neurons._engine.Population.name`).
KERNELS = {"hh": _hh_grid, "izhikevich": _izh_grid}


def _population_launcher(call, S, P, n_state, n_params, rows, common, rec, traces, per_neuron=True, raster=True):
    """Device copies of a population run and the ``launch``/``finish`` pair the host driver calls.

    ``S``/``P`` arrive in the CPU's blocked layout and travel as one row per variable
    (``(rows, n)``), so neuron ``i``'s loads coalesce across a warp (uniform parameters,
    ``per_neuron=False``, are broadcast). ``call(grid, d_S, d_P, d_rows, d_common, start, k_end,
    spikes, d_err, d_rec, d_traces)`` launches the model's kernel; ``finish`` copies the final
    state back into ``S`` (blocked) and the traces into ``traces``.

    ``raster=True`` (grid methods): ``launch(k_begin, k_end, raster, counts, err)`` for
    :func:`._driver.run_raster`; ``start`` is the window's first step and ``spikes`` the
    window's device raster (uint32 halves of the host's uint64 words) and counts, zeroed on the
    device before each window and copied back after it, and ``d_err`` the blocks' :func:`mark_bad`
    keys. ``raster=False`` (the event-driven LIF):
    ``launch(k_begin, k_end, spk_t, spk_i, spk_n, err)`` for :func:`._driver.run`; ``start`` is the
    device copy of ``k_begin`` and ``spikes`` the shared buffer ``(d_t, d_i, d_n)``.
    """
    n = rows.shape[1]
    d_S = _launch.to_device(unblocked_rows(S, n_state, n))
    d_P = _launch.to_device(unblocked_rows(P, n_params, n, per_neuron))
    d_rows, d_common = _launch.to_device(rows), _launch.to_device(common)
    rec_pos = np.full(n, -1, dtype=np.int64)
    rec_pos[rec] = np.arange(rec.size)
    d_rec = _launch.to_device(rec_pos)
    d_traces = _launch.to_device(traces)
    grid = _launch.spread_1d(n)  # a thread runs a neuron's whole time loop: use every SM even for small n
    window = []  # the device raster and counts, allocated at the first window

    def launch_raster(k_begin, k_end, raster, counts, err):
        host = raster.view(np.uint32)
        if not window or window[0].shape != host.shape:
            window[:] = cuda.device_array(host.shape, np.uint32), cuda.device_array(counts.shape, np.int32)
        d_raster, d_counts = window
        for a in window:
            _zero[_launch.grid_1d(a.size)](a)
        d_bad = _launch.to_device(np.full(err.shape[0], NO_BAD, dtype=np.int64))
        call(grid, d_S, d_P, d_rows, d_common, int(k_begin[0]), k_end, (d_raster, d_counts), d_bad, d_rec, d_traces)
        bad_rows(d_bad.copy_to_host(), err)
        d_counts.copy_to_host(counts)
        d_raster.copy_to_host(host)
        k_begin[:] = k_end

    def launch_buffer(k_begin, k_end, spk_t, spk_i, spk_n, err):
        d_kb, d_n, d_err = _launch.to_device(k_begin), _launch.to_device(spk_n), _launch.to_device(err)
        d_t, d_i = cuda.device_array(spk_t.shape, np.float64), cuda.device_array(spk_i.shape, np.int64)
        call(grid, d_S, d_P, d_rows, d_common, d_kb, k_end, (d_t, d_i, d_n), d_err, d_rec, d_traces)
        d_kb.copy_to_host(k_begin)
        d_err.copy_to_host(err)
        m = min(int(d_n.copy_to_host()[0]), spk_t.shape[1])  # reservations past the end were not written
        spk_n[0] = 0
        if m:
            t, i = d_t[0, :m].copy_to_host(), d_i[0, :m].copy_to_host()
            kept = i >= 0  # the event kernel marks a reservation cut by the end of the buffer with -1
            spk_n[0] = int(kept.sum())
            spk_t[0, :spk_n[0]] = t[kept]
            spk_i[0, :spk_n[0]] = i[kept]

    def finish():
        reblock(S, d_S.copy_to_host(), n)
        d_traces.copy_to_host(traces)

    return (launch_raster if raster else launch_buffer), finish


def model_launcher(name, n_state, n_params, S, P, rows, common, syn, key, k0, dt, method, noisy, rec, stride, traces):
    """``launch``/``finish`` of an engine model's kernel (:data:`KERNELS`; ``method``: a method code,
    ``n_state`` counting the engine's ``xi`` and ``input`` rows), for :func:`._driver.run_raster`. The
    kernel runs in the dtype of ``S`` (the engine's working dtype), which ``P``, ``rows``, ``common``,
    ``syn`` and ``traces`` share."""
    kernel = KERNELS[name]
    d_syn = _launch.to_device(np.ascontiguousarray(syn, dtype=S.dtype))

    def call(grid, d_S, d_P, d_rows, d_common, start, k_end, spikes, d_err, d_rec, d_traces):
        kernel[grid](d_S, d_P, d_rows, d_common, d_syn, key, start, k_end, k0, dt, method, noisy, *spikes, d_err,
                     d_rec, stride, d_traces)

    return _population_launcher(call, S, P, n_state, n_params, rows, common, rec, traces)


_rate_fns = _hh.cuda_rate_functions()
_alpha_m, _beta_m, _alpha_h, _beta_h, _alpha_n, _beta_n = (_rate_fns[name] for name in _hh.RATE_FUNCTIONS)


@cuda.jit
def _hh_rate_table(V, out):
    """``out[:, i]`` = the six HH rates (modern convention, 1/ms) at ``V[i]`` (mV): the device helpers on the GPU."""
    start, step = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, V.shape[0], step):
        u = V[i]
        out[0, i], out[1, i], out[2, i] = _alpha_m(u), _beta_m(u), _alpha_h(u)
        out[3, i], out[4, i], out[5, i] = _beta_h(u), _alpha_n(u), _beta_n(u)


def hh_rate_table(V):
    """The six HH rates at ``V`` (host float64 ``(k,)``, mV) computed on the device: ``(6, k)`` host array."""
    V = np.ascontiguousarray(V, dtype=np.float64)
    out = cuda.device_array((6, V.size), np.float64)
    blocks, threads = _launch.grid_1d(max(V.size, 1))
    _hh_rate_table[blocks, threads](_launch.to_device(V), out)
    return out.copy_to_host()


_lif_ptx_signatures = ptx_signatures


def model_signature(dtype):
    """The argument types of :data:`KERNELS` for a run working in ``dtype`` (a Numba float type)."""
    f64, i64, b1 = types.float64, types.int64, types.boolean
    m2, m3 = dtype[:, ::1], dtype[:, :, ::1]
    return (m2, m2, m2, dtype[::1], m2, i64, i64, i64, i64, f64, i64, b1, RASTER, COUNTS, i64[::1], i64[::1], i64,
            m3)


def ptx_signatures():
    """Every kernel of this module with its signatures, for ``compile_ptx`` (float32 and float64)."""
    out = _lif_ptx_signatures()
    for f in (types.float32, types.float64):
        sig = model_signature(f)
        out += [(_hh_grid, sig), (_izh_grid, sig), (_hh_rate_table, (f[::1], f[:, ::1]))]
    return out
