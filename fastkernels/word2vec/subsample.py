"""Subsampling of frequent words (Mikolov et al. 2013, as word2vec.c and gensim do it).

Each token of word ``w`` is kept with probability ``keep[w]``, decided by draw
``i`` (its position in the corpus) of one counter-based stream, so the kept
corpus depends only on the seed, never on the thread count or the backend.
Subsampling comes before any window is built, so windows stretch over the
dropped words (word2vec.c, gensim).

Keep probabilities, with ``c`` the word's count, ``T`` the total count and
``t = sample * T`` the threshold count (``t = sample`` when ``sample >= 1``,
gensim's absolute form):

* ``"word2vec"`` (default; word2vec.c and gensim): ``(sqrt(c / t) + 1) * t / c``;
* ``"paper"``: ``sqrt(t / c)``, i.e. discard with ``1 - sqrt(t / f)``, the paper's
  formula that seed 003 misprints as ``1 - t / f`` (its own example, a word at
  f = 0.1 % discarded with probability 0.9 under t = 1e-5, needs the square root);
* ``"fasttext"``: ``sqrt(t / c) + t / c``;

each capped at 1; a word of count 0 is always kept.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels
from .._validate import as_array, check_choice, check_scalar
from . import _streams
from ._draws import keep_token
from .corpus import Corpus, as_corpus

FORMULAS = ("word2vec", "paper", "fasttext")
_TINY = 1.0 / np.finfo(np.float64).max  # below it, 1 / r overflows to inf
#: Tokens per block of the parallel count and fill passes.
BLOCK = 1 << 16


def _counts_of(counts):
    from .vocab import Vocabulary

    if isinstance(counts, Vocabulary):
        return counts.counts
    # float64 first: the hint of a refused float dtype (float32, float16) must not suggest an int cast
    counts = as_array(counts, "counts", dtypes=(np.float64, np.int32, np.int64), ndim=1, finite=True)
    if counts.size == 0:
        raise ValueError("counts must not be empty")
    if (counts < 0).any():
        i = int(np.argmax(counts < 0))
        raise ValueError(f"counts must be non-negative; counts[{i}] = {counts[i]}")
    return counts


def keep_probability(counts, sample=1e-3, *, formula="word2vec", total=None):
    """Probability of keeping each word's tokens.

    Parameters
    ----------
    counts : Vocabulary or array_like of shape (n_words,)
        Word counts (int, or float64 for weights).
    sample : float >= 0
        Threshold ``t`` as a fraction of ``total`` (``1e-3`` as in gensim and
        word2vec.c; the seeds' ``1e-5`` with ``formula="paper"``), or, when >= 1,
        as an absolute count. 0 disables subsampling (all ones).
    formula : {"word2vec", "paper", "fasttext"}
        See the module docstring.
    total : float, optional
        Total token count; default ``counts.sum()`` (word2vec.c's ``train_words``).

    Returns
    -------
    ndarray of float64, shape (n_words,)
        In [0, 1] (0 only where ``t / c`` underflows to 0).

    Raises
    ------
    TypeError
        ``counts`` not int32/int64/float64 (bools refused), ``sample``/``total`` not real.
    ValueError
        ``counts`` empty, negative, NaN or infinite, or summing beyond the float64 range
        (pass ``total``); ``sample`` negative or not finite; ``total`` not positive and
        finite; an unknown ``formula``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.word2vec import keep_probability
    >>> # a word at 0.1 % of the corpus, t = 1e-5: discarded with probability 0.9
    >>> float(1 - keep_probability(np.array([1_000, 999_000]), 1e-5, formula="paper")[0])
    0.9
    """
    c = np.asarray(_counts_of(counts), np.float64)
    sample = check_scalar(sample, "sample", lo=0.0)
    check_choice(formula, "formula", FORMULAS)
    if total is None:
        with np.errstate(over="ignore"):
            total = float(c.sum())
        if not np.isfinite(total):
            raise ValueError("counts sum beyond the float64 range (the total count would be inf); "
                             "pass total= explicitly")
    else:
        total = check_scalar(total, "total", lo=0.0, lo_open=True)
    if sample == 0:
        return np.ones(c.size)
    t = sample * total if sample < 1 else sample
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        r = t / c
        if formula == "word2vec":
            p = (np.sqrt(1.0 / r) + 1.0) * r
            tiny = r < _TINY  # 1 / r overflows (or r is 0): the same value written without it
            if tiny.any():
                p[tiny] = np.sqrt(r[tiny]) + r[tiny]
        elif formula == "paper":
            p = np.sqrt(r)
        else:
            p = np.sqrt(r) + r
    p[c == 0] = 1.0
    return np.minimum(p, 1.0)


def _count_body(ids, keep, skey, block, counts):
    n = ids.size
    for b in prange(counts.size):
        lo = b * block
        hi = min(lo + block, n)
        c = 0
        for i in range(lo, hi):
            c += keep_token(keep[ids[i]], skey, i)  # branch-free: keep/drop is a coin flip
        counts[b] = c


def _fill_body(ids, offsets, keep, skey, block, starts, counts, out_ids, out_offsets):
    n = ids.size
    n_sent = offsets.size - 1
    for b in prange(starts.size):
        lo = b * block
        hi = min(lo + block, n)
        pos = starts[b]
        end = pos + counts[b]
        s = np.searchsorted(offsets, lo)  # first boundary at or after lo
        for i in range(lo, hi):
            while s <= n_sent and offsets[s] == i:
                out_offsets[s] = pos
                s += 1
            # branch-free compaction: always write, advance only when kept; the write
            # past this block's share (a dropped last token) is skipped
            if pos < end:
                out_ids[pos] = ids[i]
            pos += keep_token(keep[ids[i]], skey, i)


_count = dict(zip(("cpu", "parallel"), cpu_kernels(_count_body)))
_fill = dict(zip(("cpu", "parallel"), cpu_kernels(_fill_body)))


def subsample_key(seed) -> np.int64:
    """The stream key :func:`keep_token` uses for ``seed`` (for compiled training loops)."""
    return _streams.purpose_key(seed, _streams.SUBSAMPLE)


def subsample(corpus, keep, *, seed=None, backend="auto"):
    """Drop frequent words' tokens at random, keeping token ``i`` with probability ``keep[ids[i]]``.

    Parameters
    ----------
    corpus : Corpus or array_like of int
        Token ids (an array is one sentence).
    keep : array_like of float, shape (n_words,)
        Keep probabilities in [0, 1], from :func:`keep_probability`.
    seed : None, int or numpy.random.Generator
        Same seed, same result on every backend and thread count.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    Corpus
        The kept tokens, in order; sentences keep their indices (some may be empty).

    Raises
    ------
    TypeError
        ``keep`` not float32/float64, non-integer ids (floats are never truncated),
        a bad ``seed`` (checked even when every token is kept).
    ValueError
        ``keep`` empty, outside [0, 1] or not finite, ids outside ``[0, len(keep))``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.word2vec import Corpus, subsample
    >>> kept = subsample(Corpus([0, 1, 0, 2, 0]), np.array([0.0, 1.0, 1.0]), seed=0)
    >>> kept.ids.tolist()
    [1, 2]
    """
    keep = as_array(keep, "keep", dtypes=(np.float64, np.float32), ndim=1, finite=True)
    if keep.size == 0:
        raise ValueError("keep must not be empty")
    if ((keep < 0) | (keep > 1)).any():
        i = int(np.argmax((keep < 0) | (keep > 1)))
        raise ValueError(f"keep must lie in [0, 1]; keep[{i}] = {keep[i]}")
    keep = keep.astype(np.float64, copy=False)
    corpus = as_corpus(corpus, n_words=keep.size)
    be = resolve_backend(backend, work=corpus.n_tokens)
    skey = subsample_key(seed)  # after every check: a Generator seed is advanced only by a call that runs
    if be == "cuda":
        ids, offsets = load_cuda("fastkernels.word2vec._subsample_cuda").subsample(corpus.ids, corpus.offsets, keep, skey)
        return _trusted_corpus(ids, offsets)
    n_blocks = max(1, -(-corpus.n_tokens // BLOCK))
    counts = np.empty(n_blocks, np.int64)
    _count[be](corpus.ids, keep, skey, BLOCK, counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    total = int(counts.sum())
    out_ids = np.empty(total, np.int32)
    out_offsets = np.empty_like(corpus.offsets)
    _fill[be](corpus.ids, corpus.offsets, keep, skey, BLOCK, starts, counts, out_ids, out_offsets)
    out_offsets[corpus.offsets == corpus.n_tokens] = total
    return _trusted_corpus(out_ids, out_offsets)


def _trusted_corpus(ids, offsets):
    """A Corpus from arrays valid by construction (no re-validation)."""
    c = Corpus.__new__(Corpus)
    c.ids, c.offsets = ids, offsets
    return c


__all__ = ["FORMULAS", "keep_probability", "keep_token", "subsample", "subsample_key"]
