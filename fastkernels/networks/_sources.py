"""The spikes of a network's source groups for one stretch of steps (host side).

A run's kernels (CPU and CUDA alike) read the sources' spikes as one list of ``(step, id)``
pairs sorted by step, then id (``gen_k``, ``gen_id``). :func:`source_spikes` builds the list of
one chunk of steps: the :class:`~.groups.SpikeGeneratorGroup` spikes that fall in it and the
:class:`~.groups.PoissonGroup` spikes drawn for it. The draws are counter-based (a stream per
group and step), so a chunk's spikes do not depend on where the chunks start or on the backend.
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import jit
from .._random import stream_key, uniform, uniform_open0

#: Poisson group sources draw from stream ``POISSON_GROUP_STREAM + first id`` of the network's key
#: (neuron noise uses stream ``i``, the LIF's Poisson input ``1 << 40 + i``).
POISSON_GROUP_STREAM = 1 << 42


@jit
def _poisson_draw(key, k0, k1, lo, p, same, out_k, out_i):
    """Spikes of one Poisson group (network ids ``lo .. lo + n - 1``, spike probability ``p`` per
    step, ``(n,)``; ``same``: all equal) in steps ``k0 .. k1 - 1``, written to ``out_k``/``out_i``
    sorted by (step, id); returns their number, or -1 when ``out`` is too short.

    Per step ``k`` the stream ``stream_key(group key, k)``: with one probability ``q`` for the
    group, the gaps between spiking sources are geometric (``floor(log U / log(1 - q))``
    failures before each success, ``U`` in (0, 1]), one draw per spike plus one; else one
    uniform per source, ``u_j < p_j``.
    """
    n = p.shape[0]
    cap = out_k.shape[0]
    gkey = stream_key(key, POISSON_GROUP_STREAM + lo)
    c = 0
    if same:
        q = p[0]
        if q <= 0.0:
            return 0
        lq = math.log1p(-q)  # -inf at q = 1: every gap is 0
        for k in range(k0, k1):
            sk = stream_key(gkey, k)
            j = -1
            d = 0
            while True:
                gap = math.log(uniform_open0(sk, d)) / lq
                d += 1
                if gap >= n - j - 1:  # also catches a huge gap before its conversion to int
                    break
                j += 1 + int(gap)
                if c == cap:
                    return -1
                out_k[c] = k
                out_i[c] = lo + j
                c += 1
    else:
        for k in range(k0, k1):
            sk = stream_key(gkey, k)
            for j in range(n):
                if uniform(sk, j) < p[j]:
                    if c == cap:
                        return -1
                    out_k[c] = k
                    out_i[c] = lo + j
                    c += 1
    return c


def poisson_spikes(key, k0, k1, lo, p):
    """``(steps, ids)`` int64 of one Poisson group in steps ``k0 .. k1 - 1``, sorted by (step, id)."""
    same = bool(np.ptp(p) == 0)
    mean = float(p.sum()) * (k1 - k0)
    cap = int(mean + 8.0 * math.sqrt(mean) + 64)
    while True:
        out_k, out_i = np.empty(cap, np.int64), np.empty(cap, np.int64)
        c = _poisson_draw(key, k0, k1, lo, p, same, out_k, out_i)
        if c >= 0:
            return out_k[:c], out_i[:c]
        cap *= 2


def source_spikes(key, k0, k1, gen_k, gen_id, poissons):
    """The source spikes of steps ``k0 .. k1 - 1``: the generators' (``gen_k``/``gen_id``, sorted by
    step then id) in that range and each Poisson group's (``poissons``: ``(first id, p)`` pairs),
    merged, sorted by step then id."""
    a, b = np.searchsorted(gen_k, (k0, k1))
    ks, ids = [gen_k[a:b]], [gen_id[a:b]]
    for lo, p in poissons:
        k, i = poisson_spikes(key, k0, k1, lo, p)
        ks.append(k)
        ids.append(i)
    if len(ks) == 1:
        return ks[0], ids[0]
    k, i = np.concatenate(ks), np.concatenate(ids)
    order = np.lexsort((i, k))
    return k[order], i[order]
