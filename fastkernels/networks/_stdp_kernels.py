"""Kernels behind :mod:`fastkernels.networks.stdp`: pair-based STDP with per-neuron traces.

One projection's plasticity state is four arrays: ``x_pre`` (``n_pre``, float64) and ``x_post``
(``n_post``, float64), the traces ``a_pre``/``a_post`` of Brian2's synapse model, and ``k_pre`` /
``k_post`` (int64), the step at which each trace was last written. Traces are event-driven: a
trace is read as ``x * exp(-(k - k_last) * dt / tau)`` at step ``k`` and written back only when
its neuron spikes, so a step costs nothing for silent neurons. With all-to-all pairing and one
``A_pre``/``A_post`` per projection, every synapse of presynaptic neuron ``i`` carries the same
``a_pre`` and every synapse onto ``j`` the same ``a_post``: per-neuron traces give Brian2's
per-synapse ``(event-driven)`` results (to rounding) in ``O(n_pre + n_post)`` memory instead of
``O(n_synapses)``. This holds while a presynaptic spike reaches all synapses of its row at the same
step (no delays, or one delay per presynaptic neuron applied to the ``pre_spikes`` passed in).

Per step ``k`` the run loop calls, in Brian2's order (its ``pre`` pathway runs before ``post``)::

    propagate(pre_spikes)                       # v_post += w, with the weights BEFORE plasticity
    stdp_on_pre(k, pre_spikes, n_pre_spikes, ...)   # apre += A_pre; w = clip(w + apost)
    stdp_on_post(k, post_spikes, n_post_spikes, ...) # apost += A_post; w = clip(w + apre)

so a pre and a post spike in the same step count as ``Delta t = 0+``: ``w += A_pre``.

``params`` is the float64 array of :meth:`fastkernels.networks.STDP.kernel_params`:
``[A_pre, A_post, dt / tau_pre, dt / tau_post, w_min, w_max]`` (index constants below).
Weights may be float32 or float64; each update is computed in float64 and rounded once into the
weight dtype. Kernels are serial and deterministic; they are race-free by construction if
parallelised over spikes (rows of distinct spiking pre neurons, and columns of distinct spiking
post neurons, are disjoint synapse sets, and each pathway writes only its own side's traces).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit

A_PRE, A_POST, C_PRE, C_POST, W_MIN, W_MAX = range(6)
N_PARAMS = 6

#: Traces smaller than this (the smallest normal float64) are flushed to 0: no denormals.
TINY = 2.2250738585072014e-308
#: Decay exponents beyond this underflow to 0 anyway (exp(-746) == 0).
_MAX_EXPONENT = 745.0


@jit
def decayed_trace(x, k_last, k, c):
    """Trace ``x`` written at step ``k_last``, read at step ``k >= k_last``: ``x exp(-(k - k_last) c)``
    with ``c = dt / tau``; values below :data:`TINY` in magnitude read as 0."""
    e = (k - k_last) * c
    if e > _MAX_EXPONENT:
        return 0.0
    v = x * math.exp(-e)
    if abs(v) < TINY:
        return 0.0
    return v


@jit
def clip_weight(w, lo, hi):
    """``min(max(w, lo), hi)`` (Brian2's ``clip``; NaN stays NaN, infinite bounds mean none)."""
    if w < lo:
        return lo
    if w > hi:
        return hi
    return w


@jit
def stdp_on_pre(k, pre_spikes, n_pre_spikes, indptr, post, weight, x_pre, k_pre, x_post, k_post, params):
    """Presynaptic pathway of step ``k`` (Brian2 ``on_pre``: ``apre += A_pre; w = clip(w + apost)``).

    The run loop propagates the same spikes (``v_post += w``) *before* this call, so delivery
    uses the weights of the previous step.

    Parameters
    ----------
    k : int
        The step (``t = k * dt``); non-decreasing from call to call.
    pre_spikes : int32 or int64 array
        Spiking presynaptic ids (ascending); the first ``n_pre_spikes`` entries are read.
    n_pre_spikes : int
        Number of spikes this step.
    indptr, post : int64 (n_pre + 1,), int32 (n_synapses,)
        CSR by presynaptic neuron (:class:`~fastkernels.networks.Connectivity`).
    weight : float32 or float64 (n_synapses,)
        Weights, updated in place.
    x_pre, k_pre : float64 (n_pre,), int64 (n_pre,)
        Presynaptic traces and their last-update steps; the spiking entries are updated.
    x_post, k_post : float64 (n_post,), int64 (n_post,)
        Postsynaptic traces (read only).
    params : float64 (6,)
        ``[A_pre, A_post, dt / tau_pre, dt / tau_post, w_min, w_max]``.
    """
    a_pre = params[A_PRE]
    c_pre = params[C_PRE]
    c_post = params[C_POST]
    lo = params[W_MIN]
    hi = params[W_MAX]
    for n in range(n_pre_spikes):
        i = pre_spikes[n]
        x_pre[i] = decayed_trace(x_pre[i], k_pre[i], k, c_pre) + a_pre
        k_pre[i] = k
        for s in range(indptr[i], indptr[i + 1]):
            j = post[s]
            a = decayed_trace(x_post[j], k_post[j], k, c_post)
            weight[s] = clip_weight(np.float64(weight[s]) + a, lo, hi)


@jit
def stdp_on_post(k, post_spikes, n_post_spikes, indptr_post, syn, pre, weight, x_pre, k_pre, x_post, k_post, params):
    """Postsynaptic pathway of step ``k`` (Brian2 ``on_post``: ``apost += A_post; w = clip(w + apre)``).

    Runs after :func:`stdp_on_pre` of the same step, so ``apre`` already holds this step's pre spikes.

    Parameters
    ----------
    k : int
        The step.
    post_spikes : int32 or int64 array
        Spiking postsynaptic ids (ascending); the first ``n_post_spikes`` entries are read.
    n_post_spikes : int
        Number of spikes this step.
    indptr_post, syn, pre : int64 (n_post + 1,), int64 (n_synapses,), int32 (n_synapses,)
        Synapses by postsynaptic neuron, from :func:`by_post`.
    weight : float32 or float64 (n_synapses,)
        Weights (indexed by synapse id, as in the CSR), updated in place.
    x_pre, k_pre : float64 (n_pre,), int64 (n_pre,)
        Presynaptic traces (read only).
    x_post, k_post : float64 (n_post,), int64 (n_post,)
        Postsynaptic traces and their last-update steps; the spiking entries are updated.
    params : float64 (6,)
        As in :func:`stdp_on_pre`.
    """
    a_post = params[A_POST]
    c_pre = params[C_PRE]
    c_post = params[C_POST]
    lo = params[W_MIN]
    hi = params[W_MAX]
    for n in range(n_post_spikes):
        j = post_spikes[n]
        x_post[j] = decayed_trace(x_post[j], k_post[j], k, c_post) + a_post
        k_post[j] = k
        for q in range(indptr_post[j], indptr_post[j + 1]):
            i = pre[q]
            s = syn[q]
            a = decayed_trace(x_pre[i], k_pre[i], k, c_pre)
            weight[s] = clip_weight(np.float64(weight[s]) + a, lo, hi)


@jit
def stdp_step(k, pre_spikes, n_pre_spikes, post_spikes, n_post_spikes, indptr, post, indptr_post, syn, pre,
         weight, x_pre, k_pre, x_post, k_post, params):
    """Both pathways of step ``k`` in Brian2's order: :func:`stdp_on_pre`, then :func:`stdp_on_post`
    (propagation of ``pre_spikes`` comes before this call)."""
    stdp_on_pre(k, pre_spikes, n_pre_spikes, indptr, post, weight, x_pre, k_pre, x_post, k_post, params)
    stdp_on_post(k, post_spikes, n_post_spikes, indptr_post, syn, pre, weight, x_pre, k_pre, x_post, k_post, params)


@jit
def traces_at(k, x, k_last, c, out):
    """Write every trace of ``x`` (last written at ``k_last``) as read at step ``k`` into ``out``
    (float64, same length); the state is not changed. ``c = dt / tau``."""
    for i in range(x.size):
        out[i] = decayed_trace(x[i], k_last[i], k, c)


@jit
def by_post(indptr, post, n_post):
    """Synapses grouped by postsynaptic neuron: the transpose of the CSR (a stable counting sort).

    Parameters
    ----------
    indptr : int64 (n_pre + 1,)
        Row starts of the CSR by presynaptic neuron.
    post : int32 (n_synapses,)
        Postsynaptic id of each synapse, all in ``[0, n_post)``.
    n_post : int
        Size of the postsynaptic population.

    Returns
    -------
    indptr_post : int64 (n_post + 1,)
        Column starts: the synapses onto ``j`` are entries ``indptr_post[j]:indptr_post[j + 1]``.
    syn : int64 (n_synapses,)
        Their synapse ids, ascending within each column.
    pre : int32 (n_synapses,)
        Their presynaptic ids (``pre[q]`` is the row of ``syn[q]``).
    """
    n_syn = post.size
    indptr_post = np.zeros(n_post + 1, np.int64)
    for s in range(n_syn):
        indptr_post[post[s] + 1] += 1
    for j in range(n_post):
        indptr_post[j + 1] += indptr_post[j]
    fill = indptr_post[:-1].copy()
    syn = np.empty(n_syn, np.int64)
    pre = np.empty(n_syn, np.int32)
    for i in range(indptr.size - 1):
        for s in range(indptr[i], indptr[i + 1]):
            j = post[s]
            q = fill[j]
            syn[q] = s
            pre[q] = i
            fill[j] = q + 1
    return indptr_post, syn, pre
