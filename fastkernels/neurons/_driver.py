"""The time loop shared by every neuron model: blocks, spike buffers, traces, errors.

CPU kernels split the population into blocks of :data:`BLOCK` neurons (small
enough that a block's state and parameters stay in L1) and run the *time loop
outside the neuron loop*: each step updates a whole block with one
branch-free, vectorisable loop. ``prange`` runs blocks on threads.

Neurons of a population are independent, so each block (or, on the GPU, each
neuron) may stop early when its spike buffer fills, and resume later from its
own step: a model kernel takes ``k_begin`` (one resume step per block or
neuron), runs up to ``k_end`` or until its buffer is full, and writes back
where it stopped. :func:`run` calls the kernel until every unit has reached
``k_end``, moving spikes from the per-unit buffers into one growable record
between calls. No dense ``n_steps x n`` matrix is ever allocated.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import device, jit
from .._random import normal, stream_key

#: Neurons per CPU block. Kernels freeze it as a compile-time constant and Numba's cache does
#: not notice edits of another module: clear ``__pycache__/*.nb[ic]`` after changing it.
BLOCK = 256
#: Initial spike-buffer capacity per block, in "whole block spikes" (steps at full rate).
BUFFER_STEPS = 64


@device
def stage_inputs(inp, xi, rows, common, key, k, k0, lo, m, noisy):
    """Prepare step ``k`` of the block of neurons ``lo .. lo + m``; returns the input common to all.

    A per-step input matrix (``rows`` with more than one row) is copied, plus the common
    series, into the block's own row ``inp`` (the hot loop then reads one buffer); with
    ``noisy`` each neuron's standard normal draw of this step goes to ``xi`` (neuron ``i``
    uses stream ``i``, counter ``k``: the same draws on every backend).
    """
    ic = common[k - k0 if common.shape[0] > 1 else 0]
    if rows.shape[0] > 1:
        for j in range(m):
            inp[j] = rows[k - k0, lo + j] + ic
        ic = 0.0
    if noisy:
        for j in range(m):
            xi[j] = normal(stream_key(key, lo + j), k)
    return ic


@device
def emit_spikes(flags, words, m, lo, t, b, spk_t, spk_i, cnt):
    """Append one step's spikes of block ``b`` (``flags[j]`` set: neuron ``lo + j`` fired) at time ``t``.

    ``words`` is a uint64 view of ``flags``: eight neurons are skipped per test when silent.
    The caller has checked that the buffer ``spk_t[b]``/``spk_i[b]`` holds ``m`` more spikes
    after ``cnt``. Returns the new count.
    """
    for q8 in range((m + 7) // 8):
        if words[q8] != 0:
            for j in range(8 * q8, min(8 * q8 + 8, m)):
                if flags[j]:
                    spk_t[b, cnt] = t
                    spk_i[b, cnt] = lo + j
                    cnt += 1
    return cnt


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
def order_spikes(times, ids, t0, dt, n_steps):
    """Spikes sorted by time, then neuron: a counting sort into bins of width ``dt`` (O(spikes + bins)), then an
    insertion sort inside each step, which is already in order unless blocks resumed."""
    key = np.empty(times.size, dtype=np.int64)
    start = np.zeros(n_steps + 1, dtype=np.int64)
    for s in range(times.size):
        k = int((times[s] - t0) / dt + 1e-6)
        k = min(max(k, 0), n_steps - 1)
        key[s] = k
        start[k + 1] += 1
    for k in range(n_steps):
        start[k + 1] += start[k]
    out_t = np.empty_like(times)
    out_i = np.empty_like(ids)
    fill = start[:-1].copy()
    for s in range(times.size):
        k = key[s]
        out_t[fill[k]] = times[s]
        out_i[fill[k]] = ids[s]
        fill[k] += 1
    for k in range(n_steps):
        for s in range(start[k] + 1, start[k + 1]):
            t, i = out_t[s], out_i[s]
            r = s - 1
            while r >= start[k] and (out_t[r] > t or (out_t[r] == t and out_i[r] > i)):
                out_t[r + 1] = out_t[r]
                out_i[r + 1] = out_i[r]
                r -= 1
            out_t[r + 1] = t
            out_i[r + 1] = i
    return out_t, out_i


def n_trace_rows(n_steps: int, stride: int) -> int:
    """Rows a trace recorded every ``stride`` steps over ``n_steps`` steps holds (steps 0, stride, ...)."""
    return 0 if n_steps <= 0 else (n_steps - 1) // stride + 1


def record_ranges(record: np.ndarray, n: int, block: int) -> np.ndarray:
    """Offsets into the sorted ``record`` index list, one range per block: ``(n_blocks + 1,)`` int64."""
    edges = np.arange(0, math.ceil(n / block) + 1, dtype=np.int64) * block
    return np.searchsorted(record, edges).astype(np.int64)


def run(launch, *, units: int, k0: int, k1: int, per_step: int, dt: float, max_spikes_per_step: int = 1,
        capacity: int | None = None, buffers: int | None = None, names=("neuron",)):
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
        Buffer slots per unit (default ``BUFFER_STEPS`` steps of every neuron firing).
    buffers : int, optional
        Spike buffers (default one per unit; the CUDA kernels share one through an atomic counter).
    """
    need = per_step * max_spikes_per_step
    cap = max(capacity or need * BUFFER_STEPS, need)
    k_begin = np.full(units, k0, dtype=np.int64)
    nbuf = units if buffers is None else buffers
    spk_t = np.empty((nbuf, cap), dtype=np.float64)
    spk_i = np.empty((nbuf, cap), dtype=np.int64)
    spk_n = np.zeros(nbuf, dtype=np.int64)
    err = np.full((units, 2), -1, dtype=np.int64)
    out_t = np.empty(max(1024, units * 16), dtype=np.float64)
    out_i = np.empty_like(out_t, dtype=np.int64)
    pos = 0
    while True:
        launch(k_begin, k1, spk_t, spk_i, spk_n, err)
        bad = err[:, 0] >= 0
        if bad.any():
            u = int(np.flatnonzero(bad)[np.argmin(err[bad, 0])])
            step, neuron = int(err[u, 0]), int(err[u, 1])
            raise SimulationError(
                f"the state of {names[0]} {neuron} became NaN or ran away at step {step} "
                f"(t = {step * dt:g} ms); reduce dt or check the parameters and inputs",
                step, step * dt, neuron)
        total = int(spk_n.sum())
        if pos + total > out_t.size:
            grow = max(2 * out_t.size, pos + total)
            out_t = np.resize(out_t, grow)
            out_i = np.resize(out_i, grow)
        pos = _gather(spk_t, spk_i, spk_n, out_t, out_i, pos)
        if (k_begin >= k1).all():
            break
    # Units finish at different calls: restore (time, neuron) order like a spike monitor.
    return order_spikes(out_t[:pos], out_i[:pos], k0 * dt, dt, max(k1 - k0, 1))
