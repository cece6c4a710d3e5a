"""Kernels behind the connectivity rules of :mod:`fastkernels.networks.connectivity`.

Every random rule works row by row (a presynaptic neuron, or a postsynaptic one for fixed
in-degree): row ``r`` draws only from stream ``stream_key(rule_key, r)`` of
:mod:`fastkernels._random`, where ``rule_key = stream_key(key, RULE)`` separates the rules, so
one seed reused for two projections of different rules gives unrelated draws. Nothing depends
on how rows are split across threads: the serial and ``prange`` twins give the same synapses bit
for bit. Rules with a variable number of synapses per row run twice with the same draws: a
count pass (row lengths, hence ``indptr``) and a fill pass (the post indices), so no dense
matrix of uniforms and no over-allocated buffer is ever built.

Bernoulli rows use geometric skips: the gap to the next success among the row's allowed
positions is ``floor(log(u) / log(1 - p))`` for ``u`` uniform in (0, 1], one draw per synapse
(plus one to end the row) instead of one per pair. Fixed-degree rows (``K`` distinct of ``m``,
sorted) run such a pass a little below ``K / m`` and top it up (or, rarely, thin it) with a
few exact draws without replacement: O(K) per row, no sort of the whole row.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import cpu_kernels, jit
from .._random import stream_key, uniform, uniform_open0

BERNOULLI = 0x42455231  # "BER1": rule keys, one per rule
FIXED_OUT = 0x464F5554  # "FOUT"
FIXED_IN = 0x46494E31  # "FIN1"
DISTANCE = 0x44495354  # "DIST"


def rule_key(key, rule: int) -> np.int64:
    """The key of one rule's streams under the user's resolved ``key``."""
    return stream_key(np.int64(key), rule)


# -- row geometry --------------------------------------------------------------------------


@jit(inline="always")
def row_span(i, n_post, k, self_ok):
    """Allowed posts of row ``i``: ``m`` positions starting at ``lo``, with ``skip`` (``i``
    itself when self-connections are excluded and ``i`` lies in the span, else -1) left out.
    ``k < 0``: every post; ``k >= 0``: the neighbourhood ``|i - j| <= k``."""
    lo = 0
    hi = n_post
    if k >= 0:
        lo = max(i - k, 0)
        hi = min(i + k + 1, n_post)
        lo = min(lo, hi)
    m = hi - lo
    skip = -1
    if not self_ok and lo <= i < hi:
        skip = i
        m -= 1
    return lo, m, skip


@jit(inline="always")
def position_to_post(lo, t, skip):
    """Post index of allowed position ``t`` (positions skip ``skip`` when it is >= 0)."""
    j = lo + t
    if skip >= 0 and j >= skip:
        j += 1
    return j


def _fill_body(out, value):
    for s in prange(out.size):
        out[s] = value


_fill = dict(zip(("cpu", "parallel"), cpu_kernels(_fill_body)))


def constant(n, value, dtype, backend):
    """A fresh array of ``n`` copies of ``value``, written by the backend's threads (the first
    touch of a large fresh array costs more than the writes: threads share it)."""
    out = np.empty(n, dtype=dtype)
    _fill[backend](out, value)
    return out


# -- Bernoulli: geometric skips, count pass and fill pass with the same draws ---------------


@jit(inline="always")
def _gap(skey, c, lp, room):
    """The geometric gap of draw ``c`` (``floor(log(u) / lp)``, ``lp = log(1 - p)``), or -1 when it
    reaches ``room`` (no further success in the row). The gap is compared as a float before its
    conversion to an integer: at a tiny ``p`` it exceeds the int64 range (Numba's ``math.floor``
    returns an int64, which would wrap negative), and a NaN (``p`` so small that ``lp`` is 0)
    ends the row too."""
    g = math.log(uniform_open0(skey, c)) / lp
    if not g < room:
        return np.int64(-1)
    return np.int64(math.floor(g))


@jit(inline="always")
def _bernoulli_row(skey, lo, m, skip, p, lp, out, start, fill):
    """Row synapses among ``m`` allowed positions, each present with probability ``p``.
    ``lp = log(1 - p)``. Draw ``c`` decides the gap before success ``c``. Returns the count;
    writes the posts at ``out[start:]`` when ``fill``."""
    if m <= 0:
        return 0
    if p >= 1.0:
        if fill:
            for t in range(m):
                out[start + t] = position_to_post(lo, t, skip)
        return m
    n = 0
    pos = -1
    c = 0
    while True:
        gap = _gap(skey, c, lp, m - 1 - pos)
        c += 1
        if gap < 0:
            return n
        pos += 1 + gap
        if fill:
            out[start + n] = position_to_post(lo, pos, skip)
        n += 1


def _bernoulli_body(key, n_pre, n_post, p, k, self_ok, fill, indptr, post):
    lp = math.log1p(-p) if p < 1.0 else -np.inf
    for i in prange(n_pre):
        lo, m, skip = row_span(i, n_post, k, self_ok)
        n = _bernoulli_row(stream_key(key, i), lo, m, skip, p, lp, post, indptr[i], fill)
        if not fill:
            indptr[i + 1] = n


_bernoulli = dict(zip(("cpu", "parallel"), cpu_kernels(_bernoulli_body)))


def bernoulli_structure(backend, key, n_pre, n_post, p, k, self_ok, check):
    """``(indptr, post)`` of a Bernoulli rule. ``check(n_synapses)`` runs between the passes
    (the memory check of the caller) and may raise; nothing is allocated for the posts before."""
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    post = np.empty(0, dtype=np.int32)
    kern = _bernoulli[backend]
    kern(key, n_pre, n_post, p, k, self_ok, False, indptr, post)
    np.cumsum(indptr, out=indptr)
    check(int(indptr[-1]))
    post = np.empty(int(indptr[-1]), dtype=np.int32)
    kern(key, n_pre, n_post, p, k, self_ok, True, indptr, post)
    return indptr, post


# -- fixed degree: sampling without replacement, sorted ---------------------------------------


#: Counter offsets of a fixed-degree row's fix-up draws (the geometric draws count from 0).
_ADD = 1 << 40
_DROP = 1 << 41


@jit(inline="always")
def _draw_index(skey, c, m):
    """Uniform integer in [0, m) from 53-bit draw ``c`` (bias below m / 2**53)."""
    return min(np.int64(uniform(skey, c) * m), m - 1)


@jit
def _complement(ex, m, out):
    """The sorted values of [0, m) missing from sorted ``ex``, into ``out``."""
    e = 0
    n = 0
    for v in range(m):
        if e < ex.size and ex[e] == v:
            e += 1
        else:
            out[n] = v
            n += 1


@jit
def _sample_dedupe(skey, c0, m, out):
    """``out.size <= m / 2`` distinct sorted integers of [0, m), uniform over subsets, from draws
    ``c0, c0 + 1, ...``: i.i.d. draws, sorted and deduplicated, topped up with fresh draws until
    distinct (the first K distinct values of an i.i.d. sequence form a uniform K-subset, and a
    top-up never draws more values than are missing). O(K log K)."""
    size = out.size
    have = 0
    c = c0
    while have < size:
        for t in range(have, size):
            out[t] = _draw_index(skey, c, m)
            c += 1
        out.sort()
        have = 1
        for t in range(1, size):
            if out[t] != out[have - 1]:
                out[have] = out[t]
                have += 1


@jit
def _sample_small(skey, c0, m, out):
    """As :func:`_sample_dedupe` for any ``out.size <= m`` (above half, the complement is
    sampled): the few values a fix-up needs. Recursion is avoided on purpose: Numba's on-disk
    cache reloads recursive functions into crashing code."""
    if 2 * out.size > m:
        ex = np.empty(m - out.size, dtype=np.int64)
        _sample_dedupe(skey, c0, m, ex)
        _complement(ex, m, out)
    else:
        _sample_dedupe(skey, c0, m, out)


@jit
def _sample_bernoulli_fixup(skey, m, out):
    """``K = out.size <= m / 2`` distinct sorted integers of [0, m), uniform over K-subsets, in O(K).

    A Bernoulli(p) pass (geometric skips, draws 0, 1, ...) with ``p m`` three standard
    deviations below ``K`` selects ``C`` values, sorted; then ``K - C`` values of the ``m - C``
    unselected ones are added (draws from ``_ADD``), or, rarely, ``C - K`` of the selected are
    dropped (draws from ``_DROP``, the Bernoulli draws replayed). A Bernoulli set of a given size
    is a uniform subset of that size, and adding (dropping) a uniform subset of its complement
    (of itself) keeps it uniform."""
    size = out.size
    mean = size - 3.0 * math.sqrt(size * (1.0 - size / m)) - 1.0
    n = 0
    if mean > 0.0:
        lp = math.log1p(-mean / m)
        pos = -1
        c = 0
        while True:
            gap = _gap(skey, c, lp, m - 1 - pos)
            c += 1
            if gap < 0:
                break
            pos += 1 + gap
            if n < size:
                out[n] = pos
            n += 1
    if n > size:  # drop n - size of the n selected, by rank, and replay the draws
        drop = np.empty(n - size, dtype=np.int64)
        _sample_small(skey, np.int64(_DROP), np.int64(n), drop)  # np.int64: literals would type more variants
        lp = math.log1p(-mean / m)
        pos = -1
        d = 0
        w = 0
        for c in range(n):
            pos += 1 + np.int64(math.floor(math.log(uniform_open0(skey, c)) / lp))
            if d < drop.size and drop[d] == c:
                d += 1
            else:
                out[w] = pos
                w += 1
    elif n < size:  # add size - n of the unselected, by rank among them, then merge
        add = np.empty(size - n, dtype=np.int64)
        _sample_small(skey, np.int64(_ADD), np.int64(m - n), add)
        s = 0
        for a in range(add.size):  # rank among the unselected -> value
            while s < n and out[s] <= add[a] + s:
                s += 1
            add[a] += s
        x = n - 1
        y = add.size - 1
        for w in range(size - 1, -1, -1):  # merge from the back, in place
            if y < 0:
                break
            if x >= 0 and out[x] > add[y]:
                out[w] = out[x]
                x -= 1
            else:
                out[w] = add[y]
                y -= 1


@jit
def _sample_sorted(skey, m, out):
    """``out.size <= m`` distinct sorted integers of [0, m), uniform over subsets, in O(K): the
    Bernoulli-and-fix-up sampler, on the complement above half of ``m``."""
    if 2 * out.size > m:
        ex = np.empty(m - out.size, dtype=np.int64)
        _sample_bernoulli_fixup(skey, m, ex)
        _complement(ex, m, out)
    else:
        _sample_bernoulli_fixup(skey, m, out)


def _fixed_degree_body(key, n_rows, n_other, degree, self_ok, out):
    """Row ``r`` picks ``degree`` distinct indices of [0, n_other) (without ``r`` itself unless
    ``self_ok``), sorted, into ``out[r * degree:(r + 1) * degree]``."""
    for r in prange(n_rows):
        excl = (not self_ok) and r < n_other
        m = n_other - 1 if excl else n_other
        seg = out[r * degree:(r + 1) * degree]
        _sample_sorted(stream_key(key, r), m, seg)
        if excl:
            for t in range(degree):
                if seg[t] >= r:
                    seg[t] += 1


_fixed_degree = dict(zip(("cpu", "parallel"), cpu_kernels(_fixed_degree_body)))


@jit
def _transpose_columns(cols, degree, n_post, indptr, post):
    """CSR by pre from ``cols`` (post ``j``'s pres at ``cols[j * degree:(j + 1) * degree]``):
    a counting sort in ascending ``j``, so each row's posts come out sorted."""
    for t in range(cols.size):
        indptr[cols[t] + 1] += 1
    for r in range(indptr.size - 1):
        indptr[r + 1] += indptr[r]
    fill = indptr[:-1].copy()
    for j in range(n_post):
        for t in range(j * degree, (j + 1) * degree):
            r = cols[t]
            post[fill[r]] = j
            fill[r] += 1


def fixed_out_structure(backend, key, n_pre, n_post, degree, self_ok):
    """``(indptr, post)``: every pre has ``degree`` distinct posts."""
    post = np.empty(n_pre * degree, dtype=np.int32)
    _fixed_degree[backend](key, n_pre, n_post, degree, self_ok, post)
    return np.arange(n_pre + 1, dtype=np.int64) * degree, post


def fixed_in_structure(backend, key, n_pre, n_post, degree, self_ok):
    """``(indptr, post)``: every post has ``degree`` distinct pres (sampled per post in
    parallel, then transposed serially: a counting sort, O(synapses))."""
    cols = np.empty(n_post * degree, dtype=np.int32)
    _fixed_degree[backend](key, n_post, n_pre, degree, self_ok, cols)
    indptr = np.zeros(n_pre + 1, dtype=np.int64)
    post = np.empty(cols.size, dtype=np.int32)
    _transpose_columns(cols, degree, n_post, indptr, post)
    return indptr, post


# -- distance-dependent probability and weight --------------------------------------------


@jit(inline="always")
def _sq_distance(a, b, i, j):
    d2 = 0.0
    for t in range(a.shape[1]):
        d = a[i, t] - b[j, t]
        d2 += d * d
    return d2


def _distance_body(key, pre_pos, post_pos, p_max, inv_p, self_ok, w_max, inv_w, fill, indptr, post, weight):
    """Candidates at rate ``p_max`` by geometric skips (draws ``2c``), each kept with
    probability ``exp(-d^2 inv_p)`` (draw ``2c + 1``, only when ``inv_p > 0``); kept synapses get
    ``w_max exp(-d^2 inv_w)``. With ``p_max = 1`` every pair is a candidate (no gap draws)."""
    n_post = post_pos.shape[0]
    lp = math.log1p(-p_max) if p_max < 1.0 else -np.inf
    for i in prange(pre_pos.shape[0]):
        skey = stream_key(key, i)
        lo, m, skip = row_span(i, n_post, -1, self_ok)
        start = indptr[i]
        n = 0
        pos = -1
        c = 0
        while m > 0:
            if p_max < 1.0:
                gap = _gap(skey, 2 * c, lp, m - 1 - pos)
                if gap < 0:
                    break
                pos += 1 + gap
            else:
                pos += 1
                if pos >= m:
                    break
            j = position_to_post(lo, pos, skip)
            d2 = _sq_distance(pre_pos, post_pos, i, j)
            keep = inv_p == 0.0 or uniform(skey, 2 * c + 1) < math.exp(-d2 * inv_p)
            c += 1
            if keep:
                if fill:
                    post[start + n] = j
                    weight[start + n] = w_max * math.exp(-d2 * inv_w)
                n += 1
        if not fill:
            indptr[i + 1] = n


_distance = dict(zip(("cpu", "parallel"), cpu_kernels(_distance_body)))


def distance_structure(backend, key, pre_pos, post_pos, p_max, inv_p, self_ok, w_max, inv_w, dtype, check):
    """``(indptr, post, weight)`` of the distance rule; ``check(n_synapses)`` runs between passes."""
    indptr = np.zeros(pre_pos.shape[0] + 1, dtype=np.int64)
    kern = _distance[backend]
    none_i, none_w = np.empty(0, dtype=np.int32), np.empty(0, dtype=dtype)
    kern(key, pre_pos, post_pos, p_max, inv_p, self_ok, w_max, inv_w, False, indptr, none_i, none_w)
    np.cumsum(indptr, out=indptr)
    n = int(indptr[-1])
    check(n)
    post, weight = np.empty(n, dtype=np.int32), np.empty(n, dtype=dtype)
    kern(key, pre_pos, post_pos, p_max, inv_p, self_ok, w_max, inv_w, True, indptr, post, weight)
    return indptr, post, weight


# -- a user's condition, evaluated on the host over candidate pairs --------------------------

#: Candidate pairs handed to a condition callable per call (bounds its temporary arrays).
CONDITION_CHUNK = 1 << 20


def filter_pairs(indptr, post, condition, name="condition"):
    """Keep the synapses where ``condition(i, j)`` is true; the callable gets equal-length int64
    arrays of candidate pairs, a chunk of whole rows at a time, and must return a bool array of
    that length (or a bool scalar). Returns the new ``(indptr, post)``."""
    n_pre = indptr.size - 1
    keep = np.empty(post.size, dtype=np.bool_)
    r0 = 0
    while r0 < n_pre:
        r1 = int(np.searchsorted(indptr, indptr[r0] + CONDITION_CHUNK, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n_pre)
        a, b = int(indptr[r0]), int(indptr[r1])
        if b > a:
            i = np.repeat(np.arange(r0, r1, dtype=np.int64), np.diff(indptr[r0:r1 + 1]))
            keep[a:b] = _condition_result(condition(i, post[a:b].astype(np.int64)), b - a, name)
        r0 = r1
    kept = np.zeros(post.size + 1, dtype=np.int64)
    np.cumsum(keep, out=kept[1:])
    new_indptr = kept[indptr]  # kept synapses before each row start
    return new_indptr, post[keep]


def _condition_result(res, n, name):
    if isinstance(res, (bool, np.bool_)):
        return np.full(n, bool(res))
    if not isinstance(res, np.ndarray):
        raise TypeError(f"{name} must return a bool array (or a bool), got {type(res).__name__}")
    if res.dtype != np.bool_:
        raise TypeError(f"{name} must return a bool array, got dtype {res.dtype.name}")
    if res.ndim == 0:
        return np.full(n, bool(res))
    if res.shape != (n,):
        raise ValueError(f"{name} must return one bool per candidate pair, shape ({n},), got {res.shape}")
    return res


@jit
def allowed_pairs(n_pre, n_post, k, self_ok):
    """Number of (i, j) pairs a Bernoulli rule may connect (its candidates at p = 1)."""
    total = 0
    for i in range(n_pre):
        total += max(row_span(i, n_post, k, self_ok)[1], 0)
    return total
