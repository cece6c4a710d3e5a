"""The per-example updates of word2vec training with negative sampling, as ``@device`` helpers
shared by the CPU epoch kernels (and, compiled by numba-cuda, their CUDA twins).

Both follow word2vec.c (and gensim's ``word2vec_inner``) operation for operation, in float32:

* skip-gram (:func:`sg_pair`): the *context* word's input vector ``l1 = syn0[c]`` predicts the
  centre word ``w`` against ``negative`` noise words drawn from the unigram^0.75 table; each
  output row ``syn1neg[t]`` moves by ``g l1`` and the input row by the sum of ``g syn1neg[t]``
  (taken before the row moved), ``g = (label - sigmoid(l1 . syn1neg[t])) alpha``;
* CBOW (:func:`cbow_centre`): the mean (``cbow_mean``) or sum of the window's input vectors
  predicts the centre; the accumulated error goes back to every context word (divided by the
  context count for the sum, as word2vec.c does not and gensim does: see the function).

The sigmoid is word2vec.c's table (1000 entries over ``[-6, 6]``); an argument beyond
``+-MAX_EXP`` is clipped to sigmoid 1 or 0 as word2vec.c does (gensim 4 skips that update
instead). A noise word equal to the target is skipped, not redrawn (word2vec.c, gensim).
"""

from __future__ import annotations

import math

import numpy as np

from .._jit import device
from .._simd import prefetch
from .sampling import alias_draw

#: word2vec.c's sigmoid table: ``EXP_TABLE_SIZE`` entries over ``[-MAX_EXP, MAX_EXP]``.
MAX_EXP = 6.0
EXP_TABLE_SIZE = 1000


def _sigmoid_table() -> np.ndarray:
    x = (np.arange(EXP_TABLE_SIZE) / EXP_TABLE_SIZE * 2.0 - 1.0) * MAX_EXP
    e = np.exp(x)
    return (e / (e + 1.0)).astype(np.float32)


#: ``SIGMOID[i] = sigmoid((2 i / 1000 - 1) 6)`` in float32, as word2vec.c's ``expTable``.
SIGMOID = _sigmoid_table()
_SCALE = EXP_TABLE_SIZE / MAX_EXP / 2.0


@device
def sigmoid_clipped(f):
    """word2vec.c's ``sigmoid(f)``: the table entry, 1 above ``MAX_EXP`` and 0 below ``-MAX_EXP``
    (and for NaN, which a diverging run produces: never an index outside the table)."""
    if f >= MAX_EXP:
        return np.float32(1.0)
    if not (f > -MAX_EXP):
        return np.float32(0.0)
    return SIGMOID[int((f + MAX_EXP) * _SCALE)]


@device
def softplus(z):
    """``log(1 + e^z)`` in float64 without overflow: one term of the negative-sampling loss."""
    z = np.float64(z)
    return max(z, 0.0) + math.log1p(math.exp(-abs(z)))


@device
def dot(a, ra, b, rb, d):
    """``a[ra] . b[rb]`` over ``d`` float32 components (rows of two (V, d) matrices)."""
    s = np.float32(0.0)
    for k in range(d):
        s += a[ra, k] * b[rb, k]
    return s


@device
def _output_step(l1, row, syn1neg, t, label, alpha, work, d, loss):
    """One output word ``t`` (``label`` 1: the target, 0: noise) against the input ``l1`` (row ``row``
    of ``l1``): accumulates ``g syn1neg[t]`` into ``work`` and moves ``syn1neg[t]`` by ``g l1[row]``.
    Returns the example's loss term (0.0 unless ``loss``)."""
    f = dot(l1, row, syn1neg, t, d)
    g = (np.float32(label) - sigmoid_clipped(f)) * alpha
    for k in range(d):  # one pass: the row's old value feeds the error, then moves
        x = syn1neg[t, k]
        work[k] += g * x
        syn1neg[t, k] = x + g * l1[row, k]
    if loss:
        return softplus(-f) if label else softplus(f)
    return 0.0


@device
def prefetch_row(a, r):
    """Prefetch row ``r`` of the float32 matrix ``a`` (a cache line per 16 values)."""
    for k in range(0, a.shape[1], 16):
        prefetch(a, r, k)


@device
def draw_noise(syn1neg, table, nkey, counter0, negative, noise):
    """Draws ``counter0 .. counter0 + negative - 1`` of the noise stream ``nkey`` into ``noise``,
    prefetching their output rows (used a little later: their fetches overlap the work between)."""
    for q in range(negative):
        t = alias_draw(table, nkey, counter0 + q)
        noise[q] = t
        prefetch_row(syn1neg, t)


@device
def sg_pair(syn0, syn1neg, centre, context, alpha, negative, noise, work, loss):
    """Skip-gram with negative sampling on one (centre, context) pair: ``syn0[context]`` predicts
    ``centre`` and the ``negative`` noise words ``noise`` (:func:`draw_noise`). Returns the pair's
    loss (0.0 unless ``loss``)."""
    d = syn0.shape[1]
    for k in range(d):
        work[0, k] = 0.0
    total = _output_step(syn0, context, syn1neg, centre, 1, alpha, work[0], d, loss)
    for q in range(negative):
        t = noise[q]
        if t != centre:
            total += _output_step(syn0, context, syn1neg, t, 0, alpha, work[0], d, loss)
    for k in range(d):
        syn0[context, k] += work[0, k]
    return total


@device
def cbow_centre(syn0, syn1neg, table, words, lo, hi, i, alpha, negative, nkey, cbow_mean, work, noise, loss):
    """CBOW with negative sampling for the centre ``words[i]`` and its context ``words[lo:hi]``
    (without ``i``): the context vectors' mean (``cbow_mean``) or sum ``h`` predicts the centre and
    ``negative`` noise words (draws ``0 .. negative - 1`` of ``nkey``); the error ``e`` is added to
    every context word's vector (``e / count`` for the sum, as gensim does). ``work`` is ``(2, d)``:
    row 0 holds ``h``, row 1 ``e``. Returns the centre's loss (0.0 unless ``loss``)."""
    d = syn0.shape[1]
    centre = words[i]
    count = hi - lo - 1
    if count <= 0:
        return 0.0
    draw_noise(syn1neg, table, nkey, 0, negative, noise)  # fetched while the context is summed
    for k in range(d):
        work[0, k] = 0.0
        work[1, k] = 0.0
    for m in range(lo, hi):
        if m != i:
            c = words[m]
            for k in range(d):
                work[0, k] += syn0[c, k]
    inv = np.float32(1.0) / np.float32(count)
    if cbow_mean:
        for k in range(d):
            work[0, k] *= inv
    total = _output_step(work, 0, syn1neg, centre, 1, alpha, work[1], d, loss)
    for q in range(negative):
        t = noise[q]
        if t != centre:
            total += _output_step(work, 0, syn1neg, t, 0, alpha, work[1], d, loss)
    if not cbow_mean:
        for k in range(d):
            work[1, k] *= inv
    for m in range(lo, hi):
        if m != i:
            c = words[m]
            for k in range(d):
                syn0[c, k] += work[1, k]
    return total


__all__ = ["EXP_TABLE_SIZE", "MAX_EXP", "SIGMOID", "cbow_centre", "dot", "draw_noise", "prefetch_row", "sg_pair", "sigmoid_clipped",
           "softplus"]
