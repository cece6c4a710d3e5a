"""A straightforward NumPy word2vec trainer: the tests' reference and the benchmark's baseline.

The same algorithm and draws as the compiled epoch (:mod:`._train`): a Python loop over
sentences, centres and (context, output word) examples, each update a few NumPy vector
operations in float32 (the loop a NumPy user writes from the word2vec paper). The draws come
from the same stream functions, called from Python, so on a small corpus it reproduces the
serial kernel to float32 rounding (the kernel's dot products sum in another order).
"""

from __future__ import annotations

import numpy as np

from .._random import stream_key
from ._draws import keep_token, reduced_window
from ._sgns import MAX_EXP, SIGMOID
from .sampling import alias_draw

_SCALE = SIGMOID.size / MAX_EXP / 2.0


def _sigmoid(f):
    if f >= MAX_EXP:
        return np.float32(1.0)
    if not (f > -MAX_EXP):  # and NaN
        return np.float32(0.0)
    return SIGMOID[int((f + MAX_EXP) * _SCALE)]


def _softplus(z):
    z = float(z)
    return max(z, 0.0) + np.log1p(np.exp(-abs(z)))


def _outputs(h, syn1neg, target, table, nkey, c0, negative, alpha, work, loss):
    """Target then noise words against the input ``h``; returns the loss (0 unless ``loss``)."""
    total = 0.0
    for q in range(negative + 1):
        if q == 0:
            t, label = target, 1.0
        else:
            t, label = int(alias_draw(table, nkey, c0 + q - 1)), 0.0
            if t == target:
                continue
        f = np.float32(h @ syn1neg[t])
        g = np.float32((np.float32(label) - _sigmoid(f)) * alpha)
        work += g * syn1neg[t]
        syn1neg[t] += g * h
        if loss:
            total += _softplus(-f) if label else _softplus(f)
    return total


def train_epoch_reference(ids, offsets, keep, sample, syn0, syn1neg, table, window, negative, sg, cbow_mean,
                          alpha0, min_alpha, done, total, skey, wkey, nkey, loss=False):
    """One epoch in place on ``syn0``/``syn1neg`` (arguments as the compiled epoch's);
    returns ``(loss sum, survivors, examples)``."""
    lsum, kept, examples = 0.0, 0, 0
    for s in range(offsets.size - 1):
        start, end = int(offsets[s]), int(offsets[s + 1])
        pos = [t for t in range(start, end) if not sample or keep_token(keep[ids[t]], skey, t)]
        words = ids[pos]
        kept += len(pos)
        alpha = np.float32(alpha0 - (alpha0 - min_alpha) * ((done + start) / total))
        for i, t in enumerate(pos):
            b = int(reduced_window(wkey, t, window, True))
            lo, hi = max(0, i - b), min(len(pos), i + b + 1)
            nk = stream_key(nkey, t)
            if sg:
                for j in range(lo, hi):
                    if j == i:
                        continue
                    q = j - i + window if j < i else j - i + window - 1
                    work = np.zeros(syn0.shape[1], np.float32)
                    lsum += _outputs(syn0[words[j]].copy(), syn1neg, int(words[i]), table, nk, q * negative,
                                     negative, alpha, work, loss)
                    syn0[words[j]] += work
                    examples += 1
            elif hi - lo > 1:
                ctx = [int(words[m]) for m in range(lo, hi) if m != i]
                h = syn0[ctx].sum(axis=0, dtype=np.float32)
                inv = np.float32(1.0) / np.float32(len(ctx))
                if cbow_mean:
                    h = h * inv
                work = np.zeros(syn0.shape[1], np.float32)
                lsum += _outputs(h, syn1neg, int(words[i]), table, nk, 0, negative, alpha, work, loss)
                if not cbow_mean:
                    work = work * inv
                for c in ctx:
                    syn0[c] += work
                examples += 1
    return lsum, kept, examples


__all__ = ["train_epoch_reference"]


def nce_loss_reference(emb, w, b, x, y, sampled, logq_true, logq_sampled):
    """``tf.nn.nce_loss`` of one batch, batch mean, in float64 NumPy (the tutorial's formula).

    ``x``, ``y``: (B,) centre and label ids; ``sampled``: (S,) shared noise classes with their
    ``log Q``; ``logq_true``: (B,). A sampled class equal to a label still counts as noise."""
    e = np.asarray(emb, np.float64)[x]
    wt, bt = np.asarray(w, np.float64), np.asarray(b, np.float64)
    s_true = np.einsum("bd,bd->b", e, wt[y]) + bt[y] - logq_true
    s_noise = e @ wt[sampled].T + bt[sampled] - logq_sampled
    return float((np.logaddexp(0.0, -s_true) + np.logaddexp(0.0, s_noise).sum(axis=1)).mean())


def nce_step_numpy(emb, w, b, x, y, sampled, logq_true, logq_sampled, lr):
    """One SGD step of the tutorial's NCE model in vectorised NumPy (float32 parameters, updated
    in place; what TF's IndexedSlices SGD does); returns the batch's mean loss. The benchmark's
    baseline: gathers, two small GEMMs for the logits and gradients, ``np.add.at`` scatters."""
    bsz = x.size
    e = emb[x]
    wy, ws = w[y], w[sampled]
    s_true = np.einsum("bd,bd->b", e, wy) + b[y] - logq_true
    s_noise = e @ ws.T + b[sampled] - logq_sampled
    loss = float((np.logaddexp(0.0, -s_true) + np.logaddexp(0.0, s_noise).sum(axis=1)).mean())
    gt = ((1.0 / (1.0 + np.exp(-s_true)) - 1.0) / bsz).astype(np.float32)
    gs = (1.0 / (1.0 + np.exp(-s_noise)) / bsz).astype(np.float32)
    ge = gt[:, None] * wy + gs @ ws
    np.add.at(w, y, -lr * gt[:, None] * e)
    np.add.at(w, sampled, -lr * (gs.T @ e))
    np.add.at(b, y, -lr * gt)
    np.add.at(b, sampled, -lr * gs.sum(axis=0))
    np.add.at(emb, x, -lr * ge)
    return loss
