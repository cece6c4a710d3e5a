"""The compiled epoch of word2vec training (CPU): every sentence of the corpus once.

The sentences come in chunks of about :data:`CHUNK_TOKENS` tokens (whole sentences); with ``nt``
threads (``prange`` over them in the parallel build: Hogwild, threads update the shared vectors
without locks, as word2vec.c and gensim do) thread ``k`` trains chunks ``k, k + nt, k + 2 nt, ...``
in order, so the threads advance through the corpus side by side, as gensim's workers take its
10 000-word jobs in order. (Splitting the sentences into ``nt`` contiguous halves instead trains
the two halves at once; on head500 with 2 threads that cost 0.03 of wordsim353 Spearman, 0.354
against 0.389 over four seeds, at the same speed; single sentences interleaved cost 25% speed, the
threads then sharing hot rows.) The serial build (``nt = 1``) trains the corpus in order. Per sentence:

1. subsampling: token ``t`` (corpus position) survives with its word's keep probability, draw
   ``t`` of the epoch's subsampling stream (:func:`._draws.keep_token`); the survivors form the
   sentence the windows see (word2vec.c and gensim drop before windowing);
2. the learning rate decays linearly with the corpus position: ``alpha`` for the sentence
   starting at ``t`` in epoch ``e`` of ``E`` is ``alpha0 - (alpha0 - min_alpha) (e N + t) / (E N)``;
3. the centre at survivor index ``i`` (corpus position ``t``) gets word2vec.c's reduced window
   ``b`` in ``[1, window]`` (draw ``t`` of the epoch's window stream); skip-gram trains every
   (centre, context) pair of it, CBOW the centre once; the noise words of the centre at ``t`` are
   draws of the stream ``stream_key(noise key, t)``: pair ``q`` of the centre (its context slot)
   uses draws ``q negative ..``.

Every draw depends on (seed, epoch, corpus position), never on thread scheduling, so the serial
build is bit reproducible and the parallel one differs from it only through Hogwild's races.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import FASTMATH, cpu_kernels, jit, specialise
from ._draws import keep_token, reduced_window
from .._random import stream_key
from ._sgns import cbow_centre, draw_noise, prefetch_row, sg_pair


#: Tokens per chunk of sentences a thread takes at a time (gensim's job size, MAX_WORDS_IN_BATCH).
CHUNK_TOKENS = 10_000


def _epoch_body(ids, offsets, chunks, nt, keep, sample, syn0, syn1neg, table, window, negative, cbow_mean, alpha0,
                min_alpha, done, total, skey, wkey, nkey, loss, loss_out, kept_out):
    """One epoch; ``loss_out[s]`` (float64) gets sentence ``s``'s summed loss (when ``loss``) and
    ``kept_out[s]`` its survivors and training examples (pairs, or centres with a context).
    ``chunks``: sentence indices cutting the sentences into chunks (first 0, last the count);
    ``nt``: threads (1 in the serial build); the architecture is the variant's own (:data:`epoch_kernels`);
    ``done``: corpus positions trained before this epoch (``e N``);
    ``total``: ``E N``."""
    for th in prange(nt):
        for g in range(th, chunks.size - 1, nt):
            for s in range(chunks[g], chunks[g + 1]):
                _sentence(s, ids, offsets, keep, sample, syn0, syn1neg, table, window, negative, cbow_mean, alpha0,
                          min_alpha, done, total, skey, wkey, nkey, loss, loss_out, kept_out)


def _sentence_template(s, ids, offsets, keep, sample, syn0, syn1neg, table, window, negative, cbow_mean, alpha0,
                       min_alpha, done, total, skey, wkey, nkey, loss, loss_out, kept_out):
    """Sentence ``s`` of the epoch: subsampling, then every centre's examples."""
    d = syn0.shape[1]
    start = offsets[s]
    end = offsets[s + 1]
    words = np.empty(end - start, np.int32)
    where = np.empty(end - start, np.int64)
    m = 0
    for t in range(start, end):
        w = ids[t]
        if (not sample) or keep_token(keep[w], skey, t):
            words[m] = w
            where[m] = t
            m += 1
    kept_out[s, 0] = m
    alpha = np.float32(alpha0 - (alpha0 - min_alpha) * ((done + start) / total))
    work = np.empty((2, d), np.float32)
    noise = np.empty(max(negative, 1), np.int64)
    acc = 0.0
    n_ex = 0
    for i in range(m):
        b = reduced_window(wkey, where[i], window, True)
        lo = max(0, i - b)
        hi = min(m, i + b + 1)
        nk = stream_key(nkey, where[i])  # the centre's noise stream
        if i + 1 < m:  # the next centre's output row is fetched during this one
            prefetch_row(syn1neg, words[i + 1])
        if _SG:  # a compile-time constant: each variant compiles one architecture
            for j in range(lo, hi):
                if j + 1 < hi:  # and the next context's input row during this pair
                    prefetch_row(syn0, words[j + 1])
                if j != i:
                    q = j - i + window if j < i else j - i + window - 1  # the context slot, 0 .. 2 window - 1
                    draw_noise(syn1neg, table, nk, q * negative, negative, noise)
                    acc += sg_pair(syn0, syn1neg, words[i], words[j], alpha, negative, noise, work, loss)
            n_ex += hi - lo - 1
        elif hi - lo > 1:
            acc += cbow_centre(syn0, syn1neg, table, words, lo, hi, i, alpha, negative, nk, cbow_mean, work, noise, loss)
            n_ex += 1
    loss_out[s] = acc
    kept_out[s, 1] = n_ex


#: Module-level definitions of the names each variant binds (:func:`specialise`).
_SG = True
_sentence = None


def _variant(sg: int):
    sentence = jit(specialise(_sentence_template, f"_sentence_sg{sg}", _SG=bool(sg)), fastmath=FASTMATH)
    return cpu_kernels(specialise(_epoch_body, f"_epoch_body_sg{sg}", _sentence=sentence), fastmath=FASTMATH)


#: ``epoch_kernels[sg][parallel]``: the epoch kernels of CBOW (``sg = 0``) and skip-gram (``1``), serial and
#: parallel (float32 vectors; fastmath: the dot products vectorise). One function per architecture
#: halves the first call's compile (the sentence loop compiled both: ~9 s of a first Word2Vec call).
epoch_kernels = (_variant(0), _variant(1))

__all__ = ["epoch_kernels"]
