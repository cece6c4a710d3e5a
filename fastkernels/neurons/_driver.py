"""The time loop shared by every neuron model: blocks, spike recording, traces, errors.

CPU kernels split the population into blocks of :data:`BLOCK` neurons (small
enough that a block's state and parameters stay in L1) and run the *time loop
outside the neuron loop*: each step updates a whole block with one
branch-free, vectorisable loop. ``prange`` runs blocks on threads.

Two ways to record spikes:

* The block kernels of the grid methods (every engine model) write a *bit raster*: per
  block and step, the spike count and, when it is not 0, one bit per neuron
  (:func:`raster_spikes`; the CUDA grid kernels fill the same layout with atomic ORs and
  adds). :func:`run_raster` runs them in windows of steps that fit in
  :data:`RASTER_BYTES` and decodes each window in parallel (:func:`decode_raster`) straight
  into (time, neuron) order: no spike is sorted, merged or copied twice. On the 100 000-neuron
  LIF case recording then costs ~1.3x the kernel that only counts, where per-block buffers
  merged and sorted afterwards cost ~1.6x.
* Kernels that emit several spikes of a neuron per step, at continuous times (the LIF's
  event-driven method, on the CPU and on CUDA), write spike buffers. Neurons are independent, so
  each unit (a block, or on the GPU a neuron) may stop early when its buffer fills and resume
  later from its own step: the kernel takes ``k_begin`` (one resume step per unit), runs up to
  ``k_end`` or until its buffer is full, and writes back where it stopped. :func:`run` calls it
  until every unit has reached ``k_end``, moving spikes out of the per-unit buffers after each
  call (into one staging array, grown from the observed rate), growing the buffers while units
  stop early, and orders them at the end (:func:`order_spikes`).

No dense ``n_steps x n`` matrix is ever allocated. Buffers, rasters and staging arrays up to
:data:`POOL_BYTES` are kept for the next run (fresh ones cost page faults); the results are
always fresh arrays.
"""

from __future__ import annotations

import contextlib
import contextvars
import math
import sys

import numpy as np

from numba import prange

from .._backend import get_num_threads
from .._jit import cpu_kernels, device, jit
from .._random import normal, stream_key
from .._simd import nonzero_bits64, trailing_zeros
from .._validate import check_allocation, check_scalar, max_bytes
from ._layout import BLOCK  # noqa: F401  (re-exported: the block size the CPU kernels use)

#: Flag words are read as uint64: the byte of neuron ``8q + j`` sits at bit ``8j`` (little
#: endian) or ``8 (7 - j)`` (big endian). A compile-time constant.
_BIG_ENDIAN = sys.byteorder == "big"
#: Spike-buffer capacity per block, in "whole block spikes" (steps at full rate): the first
#: launch's, and the most it grows to.
FIRST_BUFFER_STEPS = 4
BUFFER_STEPS = 64
#: Spike buffers never grow past this fraction of the machine's memory (they start smaller).
BUFFER_MEMORY_FRACTION = 8
#: Bytes a recorded spike costs at the peak of a run: its time and id in the chunks, the
#: concatenated arrays and the sort's copies.
SPIKE_BYTES = 48
#: Spike buffers up to this size (times and ids together) are kept for the next run: fresh
#: buffers of a few MB cost more in page faults (taken by the kernel's threads) than writing
#: the spikes into them; a 100 000-neuron LIF run took ~1.4x as long with fresh buffers.
POOL_BYTES = 32 << 20
#: The kept buffers, ``(times, ids)`` flat arrays: the spike buffers, and the staging arrays the
#: spikes are gathered into before their ordering (which writes the result to fresh arrays).
#: A run pops them (two runs never share one) and puts them back at its end.
_POOL = []
_STAGE = []


#: Bit raster of the CPU block kernels (:func:`raster_spikes`): uint64 words per block and step,
#: and the most bytes one window of steps may take (rasters and counts of every block).
RASTER_WORDS = BLOCK // 64
RASTER_BYTES = 16 << 20
#: The kept raster buffers (one pair: a run pops it and puts it back).
_RASTER = []


#: The global index of neuron 0 of the runs started in this context (:func:`neuron_offset`).
_OFFSET = contextvars.ContextVar("fastkernels_neuron_offset", default=0)


@contextlib.contextmanager
def neuron_offset(offset):
    """Number the neurons of the runs started inside from ``offset``: their random streams only.

    A population of ``n`` neurons run inside ``with neuron_offset(lo):`` draws the noise and
    Poisson input of its neuron ``i`` from the streams of neuron ``lo + i`` (stream ``lo + i``
    and ``POISSON_STREAM + lo + i``), so slices ``[lo, hi)`` of a population, each run on its
    own (on another process or machine), draw exactly what the whole population's run draws:
    their merged spikes equal the whole run's bit for bit. Spike ids, traces and the result
    stay local (``0 .. n-1``); a :class:`SimulationError` names the global neuron.

    The offset is a context variable (one per thread and per asyncio task), honoured by the
    CPU kernels (the engine's grid methods; the event-driven LIF draws nothing). A CUDA run
    started under a non-zero offset is refused (``ValueError``): its kernels number neurons
    by their thread index. Used by :mod:`fastkernels.distributed`.

    Raises
    ------
    TypeError, ValueError
        ``offset`` not an int >= 0.
    """
    offset = check_scalar(offset, "offset", integer=True, lo=0)
    token = _OFFSET.set(int(offset))
    try:
        yield int(offset)
    finally:
        _OFFSET.reset(token)


def current_offset() -> int:
    """The neuron offset of this context (0 outside :func:`neuron_offset`)."""
    return _OFFSET.get()


def _spike_buffers(pool, slots):
    """Flat ``(times, ids)`` buffers of at least ``slots`` entries: ``pool`` (a pair or None) when
    it is large enough, else fresh ones."""
    if pool is not None and pool[0].size >= slots:
        return pool
    return np.empty(slots, dtype=np.float64), np.empty(slots, dtype=np.int64)


@device
def stage_inputs(inp, xi, rows, common, key, k, k0, lo, m, noisy, off):
    """Prepare step ``k`` of the block of neurons ``lo .. lo + m``; returns the input common to all.

    A per-step input matrix (``rows`` with more than one row) is copied, plus the common
    series, into the block's own row ``inp`` (the hot loop then reads one buffer); with
    ``noisy`` each neuron's standard normal draw of this step goes to ``xi`` (neuron ``i``
    uses stream ``off + i``, counter ``k``: the same draws on every backend; ``off`` is the
    run's :func:`neuron_offset`, 0 for a whole population).
    """
    ic = common[k - k0 if common.shape[0] > 1 else 0]
    if rows.shape[0] > 1:
        for j in range(m):
            inp[j] = rows[k - k0, lo + j] + ic
        ic = 0.0
    if noisy:
        for j in range(m):
            xi[j] = normal(stream_key(key, off + lo + j), k)
    return ic


@jit(inline="always")
def flag_bits(flags, start):
    """A uint64 whose bit ``j`` says ``flags[start + j] != 0`` (``j < 64``; ``flags`` a C-contiguous
    uint8, int32 or int64 array): :func:`fastkernels._simd.nonzero_bits64`, a vector compare and bit
    cast, or a loop on big-endian machines (``_BIG_ENDIAN`` is a compile-time constant)."""
    if _BIG_ENDIAN:
        acc = np.uint64(0)
        for j in range(64):
            acc |= np.uint64(flags[start + j] != 0) << np.uint64(j)
        return acc
    return nonzero_bits64(flags, start)


@jit(inline="always")
def emit_word(w, lo, t, u, spk_t, spk_i, cnt):
    """Append the spikes of one word of a raster (:func:`raster_spikes`) at time ``t`` to buffer
    ``u``: neuron ``lo + j`` for each set bit ``j`` of ``w``, in id order. The caller has checked
    that ``spk_t[u]``/``spk_i[u]`` hold 64 more spikes after ``cnt``. Returns the new count."""
    while w != 0:
        spk_t[u, cnt] = t
        spk_i[u, cnt] = lo + np.int64(trailing_zeros(w))
        cnt += 1
        w &= w - np.uint64(1)
    return cnt


@jit(inline="always")
def raster_spikes(flags, nsp, r, b, raster, counts):
    """Store block ``b``'s spikes of one step in row ``r`` of its window: ``counts[b, r] = nsp`` and,
    when it is not 0, the step's flags (``(ROW,)`` uint8, int32 or int64, 0 or 1 per neuron) packed to bits, neuron
    ``j``'s at bit ``j % 64`` of ``raster[b, r * RASTER_WORDS + j // 64]``.

    Four vector compares and bit casts a step (:func:`fastkernels._simd.nonzero_bits64`, ~35 ns
    here) in place of a scan of the flags for the spiking neurons and two stores per spike into
    buffers that must later be merged and sorted: the order (time, then neuron) is the raster's
    own, read out by :func:`decode_raster`.
    """
    counts[b, r] = nsp
    if nsp:
        base = r * RASTER_WORDS
        for g in range(RASTER_WORDS):
            raster[b, base + g] = flag_bits(flags, 64 * g)


#: Rows of a window one decode pass walks block by block: their output (~16 bytes a spike) stays in
#: the core's cache while every block adds its spikes to it.
DECODE_TILE = 128


def _decode_template(raster, counts, nk, k_first, dt, n_chunks, cur, n, out_t, out_i):
    """The ``n`` spikes of ``nk`` rows of a window (row ``r``: step ``k_first + r``), written sorted by
    time, then id, to ``out_t``/``out_i``: row ``r``'s from index ``cur[r]`` (its first slot, from
    the per-row counts: :func:`row_starts`; the kernel advances it). The caller sizes the outputs
    for ``cur[0] + n + 8 * n_chunks`` (the last slots: spill, see below). The rows are split into
    ``n_chunks`` ranges (``prange``).

    Each range goes in tiles of :data:`DECODE_TILE` rows, block by block within a tile: a block's
    rows are contiguous in the raster, and the tile's output stays in cache (block-major over the
    whole range wrote each spike to a cold line: 6.7 ms against 5.2 for 470 655 spikes, serial).
    A word's first spike is written without a branch: a silent word (most of them) writes to its
    chunk's spill slot past the end, so only words with two or more spikes take the loop (2.8 ms
    against 3.5 on two threads). The row starts come in from NumPy: a prefix sum in here (and its
    ``np.zeros``) cost ~0.35 s of every neuron model's first call in compiling.
    """
    units = counts.shape[0]
    per = (nk + n_chunks - 1) // n_chunks
    end = cur[0] + n
    for c in prange(n_chunks):
        # 8 spill slots a chunk (one cache line of int64) past the window's spikes: chunks never
        # write the same line (the next window's spikes overwrite them)
        spill = end + 8 * c
        r_end = min(nk, (c + 1) * per)
        for r0 in range(c * per, r_end, DECODE_TILE):
            for b in range(units):
                for r in range(r0, min(r_end, r0 + DECODE_TILE)):
                    live = counts[b, r] != 0  # a silent row's words were never written
                    t = (k_first + r) * dt  # as the spike buffers stored it: k dt
                    pos = cur[r]
                    for g in range(RASTER_WORDS):
                        w = raster[b, r * RASTER_WORDS + g] if live else np.uint64(0)
                        lo = b * BLOCK + g * 64
                        hit = w != 0
                        dst = pos if hit else spill
                        out_t[dst] = t
                        out_i[dst] = lo + np.int64(trailing_zeros(w))
                        pos += hit
                        w &= w - np.uint64(1)
                        while w != 0:
                            out_t[pos] = t
                            out_i[pos] = lo + np.int64(trailing_zeros(w))
                            pos += 1
                            w &= w - np.uint64(1)
                    cur[r] = pos


def row_starts(counts, nk: int, base: int):
    """``(cur, n)``: each of the first ``nk`` raster rows' first output slot (``base`` plus the spikes of
    the rows before it, ``(nk,)`` int64) and the rows' spike total, from the blocks' per-row counts."""
    per_row = counts[:, :nk].sum(axis=0, dtype=np.int64)
    cur = np.empty(nk, dtype=np.int64)
    cur[0] = base
    np.cumsum(per_row[:-1], out=cur[1:])
    cur[1:] += base
    return cur, int(cur[-1] - base + per_row[-1])


def raise_bad_state(err, dt: float, offset: int = 0, member: str = "neuron") -> None:
    """Raise :class:`SimulationError` for the earliest bad state a launch reported in ``err``
    (``(units, 2)`` int64 rows of ``(step, local index)``, ``-1`` where none), naming the
    ``member``'s global index (``offset`` added); return when there is none."""
    bad = err[:, 0] >= 0
    if not bad.any():
        return
    u = int(np.flatnonzero(bad)[np.argmin(err[bad, 0])])
    step, index = int(err[u, 0]), int(err[u, 1]) + offset
    raise SimulationError(f"the state of {member} {index} became NaN or ran away at step {step} "
                          f"(t = {step * dt:g} ms); reduce dt or check the parameters and inputs",
                          step, step * dt, index)


#: ``decode_raster[parallel]``: :func:`_decode_template` serial and parallel.
decode_raster = cpu_kernels(_decode_template)


def _no_device_offset(offset: int) -> None:
    """Refuse a CUDA run under a non-zero :func:`neuron_offset` (its kernels number neurons by thread)."""
    if offset:
        raise ValueError(f"a neuron offset ({offset}: a slice of a population) runs on the CPU backends only; "
                         "the CUDA kernels number neurons by their thread index: pass backend='cpu' or 'parallel'")


def run_raster(launch, *, units: int, k0: int, k1: int, dt: float, parallel: bool, device: bool = False):
    """Drive a block kernel (CPU, or CUDA with ``device``) that records spikes as a bit raster;
    return ``(times, neurons)`` sorted by time then neuron.

    The run goes in windows of steps: ``launch(k_begin, k_end, raster, counts, err)`` takes every
    block from the window's first step ``k_begin[b]`` to ``k_end``, storing each step's spikes
    in the block's rows (:func:`raster_spikes`); the window is then decoded in parallel
    (:func:`decode_raster`). A window is as many steps as fit in :data:`RASTER_BYTES` (36 bytes per
    block and step), so memory stays bounded on any run length, and no spike is ever sorted:
    the raster is already in (time, neuron) order. ``err`` ``(units, 2)`` int64 receives
    ``(step, neuron)`` of a NaN or runaway state, as for :func:`run` (raising
    :class:`SimulationError`, the neuron named by its global index under :func:`neuron_offset`).
    ``device``: ``launch`` runs a CUDA kernel (:mod:`._cuda`), which fills the same raster on the GPU.
    """
    offset = current_offset()
    if device:
        _no_device_offset(offset)
    per_step = units * (RASTER_WORDS * 8 + 4)
    window = int(max(1, min(k1 - k0, RASTER_BYTES // per_step)))
    pool = _RASTER.pop() if _RASTER else None
    if pool is not None and pool[1].shape[0] == units and pool[1].shape[1] >= window:
        raster, counts = pool
    else:
        raster = np.empty((units, window * RASTER_WORDS), dtype=np.uint64)
        counts = np.empty((units, window), dtype=np.int32)
    err = np.full((units, 2), -1, dtype=np.int64)
    k_begin = np.full(units, k0, dtype=np.int64)
    decode = decode_raster[1 if parallel else 0]
    chunks = get_num_threads() if parallel else 1  # each chunk walks every block: no more than threads
    # Every window decodes straight into one pair of outputs, sized from the rate so far (a long
    # run's windows were concatenated at the end: for 4.7 M spikes a serial 76 MB copy and its
    # page faults, ~15% of the run on 2 threads).
    out_t = np.empty(0, dtype=np.float64)
    out_i = np.empty(0, dtype=np.int64)
    recorded = 0
    k = k0
    while k < k1:
        k_end = min(k + window, k1)
        launch(k_begin, k_end, raster, counts, err)
        raise_bad_state(err, dt, offset)
        nk = k_end - k
        c = max(1, min(chunks, nk))
        cur, got = row_starts(counts, nk, recorded)
        need = recorded + got
        check_allocation(need, SPIKE_BYTES, "n x duration (the spikes recorded so far)", what="spikes")
        if need + 8 * c > out_t.size:
            # the rest of the run at the rate so far, plus an eighth: a second growth is rare
            expect = need + (k1 - k_end) * need // (k_end - k0)
            size = (max(expect + expect // 8, 2 * out_t.size) if k_end < k1 else need) + 8 * c
            out_t, out_i = _grown(out_t, recorded, size), _grown(out_i, recorded, size)
        decode(raster, counts, nk, k, dt, c, cur, got, out_t, out_i)
        recorded = need
        k = k_end
    if raster.nbytes <= POOL_BYTES and not _RASTER:
        _RASTER.append((raster, counts))
    if out_t.size > recorded + recorded // 4 + 64:  # an overestimated rate: give the slack back
        return out_t[:recorded].copy(), out_i[:recorded].copy()
    return out_t[:recorded], out_i[:recorded]


def _grown(arr: np.ndarray, used: int, size: int) -> np.ndarray:
    """A fresh ``(size,)`` array of ``arr``'s dtype holding its first ``used`` values."""
    out = np.empty(size, dtype=arr.dtype)
    out[:used] = arr[:used]
    return out


class SimulationError(RuntimeError):
    """A state variable became NaN or ran away (an unstable step size, a bad parameter).

    Attributes
    ----------
    step : int
        Time step at which it happened.
    time : float
        ``step * dt`` in ms.
    neuron : int
        Index of the first offending neuron in that step.
    """

    def __init__(self, message, step, time, neuron):
        super().__init__(message)
        self.step, self.time, self.neuron = step, time, neuron


@jit
def _gather(spk_t, spk_i, spk_n, out_t, out_i, pos):
    """Append every unit's buffered spikes to ``out_*`` at ``pos``; empty the buffers."""
    for b in range(spk_n.shape[0]):
        c = spk_n[b]
        for j in range(c):
            out_t[pos + j] = spk_t[b, j]
            out_i[pos + j] = spk_i[b, j]
        pos += c
        spk_n[b] = 0
    return pos


@jit
def _counting_order(key, n_keys, idx):
    """The entries ``idx`` stably sorted by ``key[idx]`` (keys in ``[0, n_keys)``): a counting sort."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for s in idx:
        start[key[s] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    out = np.empty_like(idx)
    for s in idx:
        k = key[s]
        out[start[k]] = s
        start[k] += 1
    return out


@jit
def _unit_segments(seg):
    """Spikes gathered launch by launch (``seg[l, u]``: spikes of unit ``u`` in launch ``l``) as
    ``(starts, lengths)`` of contiguous segments listed unit by unit, launch by launch: the
    order in which each unit emitted them."""
    n_launch, n_units = seg.shape
    src = np.empty((n_launch, n_units), dtype=np.int64)
    o = 0
    for lc in range(n_launch):
        for u in range(n_units):
            src[lc, u] = o
            o += seg[lc, u]
    starts = np.empty(n_launch * n_units, dtype=np.int64)
    lengths = np.empty_like(starts)
    r = 0
    for u in range(n_units):
        for lc in range(n_launch):
            starts[r] = src[lc, u]
            lengths[r] = seg[lc, u]
            r += 1
    return starts, lengths


@jit
def _merge_sort_pairs(out_t, out_i, lo, hi):
    """Sort ``out_*[lo:hi]`` by (time, id): a bottom-up merge sort through one scratch buffer.
    (Written out: two ``np.argsort(kind="mergesort")`` and fancy indexing took 15 s to compile.)"""
    n = hi - lo
    tt, ii = np.empty(n, out_t.dtype), np.empty(n, out_i.dtype)
    bt, bi = np.empty(n, out_t.dtype), np.empty(n, out_i.dtype)
    for q in range(n):  # plain loops: slice copies and assignments cost seconds of compilation
        tt[q], ii[q] = out_t[lo + q], out_i[lo + q]
    width = 1
    while width < n:
        for left in range(0, n, 2 * width):
            mid, right = min(left + width, n), min(left + 2 * width, n)
            a, b = left, mid
            for o in range(left, right):
                if b >= right or (a < mid and (tt[a] < tt[b] or (tt[a] == tt[b] and ii[a] <= ii[b]))):
                    bt[o], bi[o] = tt[a], ii[a]
                    a += 1
                else:
                    bt[o], bi[o] = tt[b], ii[b]
                    b += 1
        tt, bt = bt, tt
        ii, bi = bi, ii
        width *= 2
    for q in range(n):
        out_t[lo + q], out_i[lo + q] = tt[q], ii[q]


@jit
def _sort_bin(out_t, out_i, lo, hi):
    """Order ``out_*[lo:hi]`` by (time, id): an insertion sort, one comparison per spike when the
    bin arrives in order (grid methods); for large bins, a pass that returns when they arrive in
    order, else a merge sort (continuous times of event-driven spikes), where insertion would be
    quadratic."""
    if hi - lo > 64:
        q = lo + 1  # already in order (grid methods: one time, ids ascending)?
        while q < hi and (out_t[q - 1] < out_t[q] or (out_t[q - 1] == out_t[q] and out_i[q - 1] <= out_i[q])):
            q += 1
        if q < hi:
            _merge_sort_pairs(out_t, out_i, lo, hi)
        return
    for q in range(lo + 1, hi):
        t, i = out_t[q], out_i[q]
        r = q - 1
        while r >= lo and (out_t[r] > t or (out_t[r] == t and out_i[r] > i)):
            out_t[r + 1] = out_t[r]
            out_i[r + 1] = out_i[r]
            r -= 1
        out_t[r + 1] = t
        out_i[r + 1] = i


@jit
def _bin_sort(times, ids, starts, lengths, t0, inv_dt, n_steps):
    """Spikes visited segment by segment, stably counting-sorted into bins of width ``1 / inv_dt``,
    then sorted by (time, id) inside each bin (:func:`_sort_bin`)."""
    key = np.empty(times.size, dtype=np.int64)
    start = np.zeros(n_steps + 1, dtype=np.int64)
    for g in range(starts.size):
        for s in range(starts[g], starts[g] + lengths[g]):
            k = int((times[s] - t0) * inv_dt + 1e-6)  # monotone in time: bins never invert the order
            k = min(max(k, 0), n_steps - 1)
            key[s] = k
            start[k + 1] += 1
    for k in range(n_steps):
        start[k + 1] += start[k]
    out_t = np.empty_like(times)
    out_i = np.empty_like(ids)
    for g in range(starts.size):
        for s in range(starts[g], starts[g] + lengths[g]):
            k = key[s]
            r = start[k]
            out_t[r] = times[s]
            out_i[r] = ids[s]
            start[k] = r + 1
    lo = 0
    for k in range(n_steps):  # start[k] is now the end of bin k
        _sort_bin(out_t, out_i, lo, start[k])
        lo = start[k]
    return out_t, out_i


def order_spikes(times, ids, t0, dt, n_steps, n_ids=0, seg=None):
    """Spikes sorted by time, then id: a stable counting sort into bins of width ``dt`` of the
    spikes visited so that each bin receives them in id order, then a sort inside each bin that
    costs one comparison per spike when a bin's spikes share a time (O(spikes + bins) for grid
    methods; O(b log b) per bin of b continuous times).

    ``seg`` (launches x units counts) says the spikes were gathered launch by launch from units
    that each emit in (time, id) order: visiting them unit by unit is enough. Else ``n_ids`` > 0
    (the bound on the ids) first orders them by id with one more counting pass; with neither,
    the given order is visited and the in-bin sort does the rest.
    """
    if seg is not None:
        starts, lengths = _unit_segments(seg)
    else:
        if n_ids > 0:
            idx = _counting_order(ids, n_ids, np.arange(times.size))
            times, ids = times[idx], ids[idx]
        starts, lengths = np.zeros(1, dtype=np.int64), np.full(1, times.size, dtype=np.int64)
    n_steps = int(n_steps)
    if n_steps > max(times.size, 1):
        # Fewer spikes than steps: one bin per spike on average (wider bins, still in time order)
        # instead of an n_steps-long count array that a long sparse run could not allocate.
        bins = max(times.size, 1)
        return _bin_sort(times, ids, starts, lengths, float(t0), bins / (n_steps * dt), bins)
    return _bin_sort(times, ids, starts, lengths, float(t0), 1.0 / dt, n_steps)


def n_trace_rows(n_steps: int, stride: int) -> int:
    """Rows a trace recorded every ``stride`` steps over ``n_steps`` steps holds (steps 0, stride, ...)."""
    return 0 if n_steps <= 0 else (n_steps - 1) // stride + 1


def record_ranges(record: np.ndarray, n: int, block: int) -> np.ndarray:
    """Offsets into the sorted ``record`` index list, one range per block: ``(n_blocks + 1,)`` int64."""
    edges = np.arange(0, math.ceil(n / block) + 1, dtype=np.int64) * block
    return np.searchsorted(record, edges).astype(np.int64)


def run(launch, *, units: int, k0: int, k1: int, per_step: int, dt: float, max_spikes_per_step: int = 1,
        capacity: int | None = None, buffers: int | None = None, names=("neuron", "n")):
    """Drive a model kernel from step ``k0`` to ``k1``; return ``(times, neurons)`` sorted by time then neuron.

    Parameters
    ----------
    launch : callable
        ``launch(k_begin, k_end, spk_t, spk_i, spk_n, err)`` runs the kernel once. ``k_begin``
        (``(units,)`` int64) holds each unit's resume step and is updated in place; a unit
        stops before a step whose spikes might not fit its buffer. ``spk_t`` (float64 ms),
        ``spk_i`` (int64 neuron ids) are ``(units, capacity)``, ``spk_n`` ``(units,)`` int64
        counts. ``err`` ``(units, 2)`` int64 receives ``(step, neuron)`` of a NaN or runaway
        state (``-1`` when none).
    units : int
        Independent units (CPU blocks, or neurons on the GPU).
    per_step : int
        Most neurons a unit holds (``BLOCK`` on the CPU, 1 on the GPU).
    max_spikes_per_step : int
        Most spikes one neuron can emit in one step (1 for grid methods).
    capacity : int, optional
        Fixed buffer slots per unit (default: ``FIRST_BUFFER_STEPS`` steps of every neuron firing,
        grown while units stop early, up to ``BUFFER_STEPS`` steps or, beyond that, to
        :data:`POOL_BYTES` for all buffers together).
    buffers : int, optional
        Spike buffers (default one per unit; the event-driven CUDA LIF shares one through an atomic counter).
    names : (str, str)
        What a unit's members are called and the argument that sets their number, for errors.

    Raises
    ------
    SimulationError
        A unit reported a NaN or runaway state (naming the neuron's global index under
        :func:`neuron_offset`).
    ValueError
        The spike buffers, or the spikes recorded so far, cannot fit in memory (names ``names[1]``);
        a CUDA launch (shared ``buffers``) under a non-zero :func:`neuron_offset`.
    """
    offset = current_offset()
    if buffers is not None:
        _no_device_offset(offset)
    need = per_step * max_spikes_per_step
    fixed = capacity is not None
    # Small buffers first, grown from the observed rate: a buffer of BUFFER_STEPS steps for
    # every unit is tens of MB that the OS must zero on first touch, which costs more than
    # the simulation itself when the neurons fire sparsely.
    cap = max(capacity, need) if fixed else need * FIRST_BUFFER_STEPS
    k_begin = np.full(units, k0, dtype=np.int64)
    nbuf = units if buffers is None else buffers
    budget = max(need, max_bytes() // (BUFFER_MEMORY_FRACTION * 16 * nbuf))  # slots per buffer
    if not fixed:
        cap = max(need, min(cap, budget))
    check_allocation(nbuf * cap, 16, f"{names[1]} (spike buffers of {nbuf} x {cap} slots)", what="slots")
    recorded = 0
    flat = _spike_buffers(_POOL.pop() if _POOL else None, nbuf * cap)
    spk_t = flat[0][:nbuf * cap].reshape(nbuf, cap)
    spk_i = flat[1][:nbuf * cap].reshape(nbuf, cap)
    spk_n = np.zeros(nbuf, dtype=np.int64)
    err = np.full((units, 2), -1, dtype=np.int64)
    stage = _STAGE.pop() if _STAGE else None
    staged = 0
    seg = []
    while True:
        before = k_begin.copy()
        launch(k_begin, k1, spk_t, spk_i, spk_n, err)
        raise_bad_state(err, dt, offset, names[0])
        written = spk_n.copy()
        if nbuf == units:
            seg.append(written)
        total = int(written.sum())
        recorded += total
        check_allocation(recorded, SPIKE_BYTES, f"{names[1]} x duration (the spikes recorded so far)",
                         what="spikes")
        if stage is None or stage[0].size < staged + total:
            # Room for the spikes so far plus, at this call's rate, those of the steps left.
            done = max(int((k_begin - before).sum()), 1)
            guess = staged + total + int(1.1 * total * float((k1 - k_begin).sum()) / done)
            room = max(guess, 2 * (0 if stage is None else stage[0].size))
            grown = _spike_buffers(None, max(staged + total, min(room, max_bytes() // SPIKE_BYTES), 1))
            if staged:
                grown[0][:staged] = stage[0][:staged]
                grown[1][:staged] = stage[1][:staged]
            stage = grown
        staged = _gather(spk_t, spk_i, spk_n, stage[0], stage[1], staged)
        if (k_begin >= k1).all():
            break
        # Buffers grow to BUFFER_STEPS steps of full firing, or further while all of them together
        # stay within POOL_BYTES: a few busy blocks (a 1000-neuron f-I curve has four) then finish
        # in one more launch instead of dozens, each waiting for the block that filled first.
        most = min(max(need * BUFFER_STEPS, POOL_BYTES // (16 * nbuf)), budget)
        if not fixed and nbuf == units and cap < most:
            # Room for the busiest unit's remaining steps at its rate so far (x1.25), at least double.
            rate = written / np.maximum(k_begin - before, 1)
            want = int(1.25 * float((rate * (k1 - k_begin)).max())) + need
            cap = max(need, min(max(want, 2 * cap), most))
            flat = _spike_buffers(flat, nbuf * cap)  # the spikes in the old one are gathered
            spk_t = flat[0][:nbuf * cap].reshape(nbuf, cap)
            spk_i = flat[1][:nbuf * cap].reshape(nbuf, cap)
    if flat[0].size * 16 <= POOL_BYTES and not _POOL:
        _POOL.append(flat)
    times, ids = stage[0][:staged], stage[1][:staged]
    # Units finish at different calls: restore (time, neuron) order like a spike monitor.
    # order_spikes writes fresh arrays: the staging ones are never returned.
    n_steps = max(k1 - k0, 1)
    if nbuf == units:  # one buffer per unit, each written in (time, id) order
        out = order_spikes(times, ids, k0 * dt, dt, n_steps, seg=np.stack(seg))
    else:
        out = order_spikes(times, ids, k0 * dt, dt, n_steps, n_ids=units * per_step)
    if stage[0].size * 16 <= POOL_BYTES and not _STAGE:
        _STAGE.append(stage)
    return out
