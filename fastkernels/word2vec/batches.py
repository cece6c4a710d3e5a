"""Skip-gram pairs and CBOW windows from a corpus of token ids (and, re-exported from
:mod:`.tf_batches`, the TensorFlow tutorial's :func:`generate_batch`).

* :func:`skipgram_pairs`: every (centre, context) pair of the corpus with
  word2vec.c's reduced window, within sentences, into preallocated arrays: a
  parallel pass counts the pairs of each block of tokens, a prefix sum gives
  each block its output offset, and a second parallel pass fills;
* :func:`cbow_windows`: the same contexts grouped per centre, padded, for CBOW.

Randomness follows the package rule (``fastkernels._random``): the reduced
window of the token at position ``i`` is draw ``i`` of the seed's window stream
(:func:`reduced_window`, in :mod:`._draws`), so results do not depend on thread count,
block size or backend, and :func:`skipgram_pairs` and :func:`cbow_windows` agree for one seed.

The ``@device`` cores (:func:`reduced_window`, :func:`sentence_of`) and the
per-block kernels take plain arrays, so a compiled training loop can call them
without Python in between.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, device
from .._outputs import check_disjoint
from .._random import check_seed, seed_kept
from .._validate import INT64_MAX, check_allocation, check_flag, check_scalar
from . import _streams
from ._draws import reduced_window
from .corpus import as_corpus
from .tf_batches import generate_batch

#: Tokens per block of the parallel count and fill passes.
BLOCK = 1 << 16
#: Largest ``window`` of :func:`skipgram_pairs` / :func:`cbow_windows`: a reduced window is one
#: 32-bit draw (``below`` needs ``window < 2**32``) and offsets like ``i + 2 * window`` stay in int64.
MAX_WINDOW = (1 << 31) - 1


# -- whole-corpus skip-gram pairs and CBOW windows ------------------------------------


@device
def sentence_of(offsets, position):
    """Index ``s`` of the sentence holding ``position`` (``offsets[s] <= position < offsets[s + 1]``)."""
    lo = 0
    hi = offsets.size - 1
    while hi - lo > 1:  # invariant: offsets[lo] <= position < offsets[hi]
        mid = (lo + hi) // 2
        if offsets[mid] <= position:
            lo = mid
        else:
            hi = mid
    return lo


@device
def context_span(offsets, s, i, window, wkey, shrink):
    """``(left, right)``: contexts of the centre at ``i`` in sentence ``s`` on each side."""
    r = reduced_window(wkey, i, window, shrink)
    return min(i - offsets[s], r), min(offsets[s + 1] - 1 - i, r)


def _pair_count_body(ids, offsets, window, shrink, wkey, block, counts):
    n = ids.size
    for b in prange(counts.size):
        lo = b * block
        hi = min(lo + block, n)
        total = 0
        if lo < hi:
            s = sentence_of(offsets, lo)
            for i in range(lo, hi):
                while offsets[s + 1] <= i:
                    s += 1
                left, right = context_span(offsets, s, i, window, wkey, shrink)
                total += left + right
        counts[b] = total


def _pair_fill_body(ids, offsets, window, shrink, wkey, block, starts, centers, contexts):
    n = ids.size
    for b in prange(starts.size):
        lo = b * block
        hi = min(lo + block, n)
        pos = starts[b]
        end = starts[b + 1] if b + 1 < starts.size else centers.size  # this block's slice of the output
        if lo < hi:
            s = sentence_of(offsets, lo)
            for i in range(lo, hi):
                while offsets[s + 1] <= i:
                    s += 1
                left, right = context_span(offsets, s, i, window, wkey, shrink)
                c = ids[i]
                if pos + 2 * window <= end and i + window < n:
                    # Fixed trip counts: the reduced windows are random, so loops bounded by
                    # left/right would mispredict their exits at every centre. Each side writes
                    # a full window; the right side overwrites the left's surplus and the next
                    # centre the rest (reads stay inside ids, writes inside this block's slice).
                    for q in range(2 * window):
                        centers[pos + q] = c
                    for q in range(window):
                        contexts[pos + q] = ids[i - left + q]
                    for q in range(window):
                        contexts[pos + left + q] = ids[i + 1 + q]
                else:  # the block's last centres: exact writes
                    for j in range(i - left, i + right + 1):
                        if j != i:
                            centers[pos] = c
                            contexts[pos] = ids[j]
                            pos += 1
                    continue
                pos += left + right


def _cbow_body(ids, offsets, window, shrink, wkey, block, contexts, n_context):
    n = ids.size
    n_blocks = (n + block - 1) // block
    for b in prange(n_blocks):
        lo = b * block
        hi = min(lo + block, n)
        s = sentence_of(offsets, lo)
        for i in range(lo, hi):
            while offsets[s + 1] <= i:
                s += 1
            left, right = context_span(offsets, s, i, window, wkey, shrink)
            k = 0
            for j in range(i - left, i + right + 1):
                if j != i:
                    contexts[i, k] = ids[j]
                    k += 1
            n_context[i] = k
            for q in range(k, contexts.shape[1]):
                contexts[i, q] = -1


_pair_count = dict(zip(("cpu", "parallel"), cpu_kernels(_pair_count_body)))
_pair_fill = dict(zip(("cpu", "parallel"), cpu_kernels(_pair_fill_body)))
_cbow = dict(zip(("cpu", "parallel"), cpu_kernels(_cbow_body)))


def window_key(seed) -> np.int64:
    """The stream key :func:`reduced_window` uses for ``seed`` (for compiled training loops)."""
    return _streams.purpose_key(seed, _streams.WINDOW)


def _window_args(corpus, window, shrink_windows, seed):
    """Validated ``(corpus, window, shrink)``; the seed is checked here (even where no draw is
    needed) but its key is derived by the caller, after every other check."""
    corpus = as_corpus(corpus)
    window = check_scalar(window, "window", integer=True, lo=1, hi=MAX_WINDOW)
    shrink_windows = check_flag(shrink_windows, "shrink_windows")
    check_seed(seed)
    return corpus, window, bool(shrink_windows)


def pair_counts(corpus, window=5, *, shrink_windows=True, seed=None, backend="auto", block=BLOCK):
    """Number of skip-gram pairs per block of ``block`` tokens (the count pass of
    :func:`skipgram_pairs`); ``.sum()`` is the total. Arguments as there.

    Raises
    ------
    TypeError, ValueError
        As :func:`skipgram_pairs`; ``block`` not an int >= 1.
    """
    corpus, window, shrink = _window_args(corpus, window, shrink_windows, seed)
    block = check_scalar(block, "block", integer=True, lo=1, hi=INT64_MAX)
    be = resolve_backend(backend, work=corpus.n_tokens)
    counts = np.empty(max(1, -(-corpus.n_tokens // block)), np.int64)
    block = min(block, max(1, corpus.n_tokens))  # same counts; keeps b * block inside int64
    _pair_count["cpu" if be == "cuda" else be](corpus.ids, corpus.offsets, np.int64(window), shrink,
                                               window_key(seed), np.int64(block), counts)
    return counts


def _check_out(out, corpus):
    """Validate ``out=(centers, contexts)``: two writeable C-contiguous 1-D int32 arrays, disjoint
    from each other and from the corpus arrays (their length is checked once the pairs are counted)."""
    if not isinstance(out, tuple) or len(out) != 2:
        got = f"a tuple of {len(out)}" if isinstance(out, tuple) else type(out).__name__
        raise TypeError(f"out must be a tuple (centers, contexts) of two int32 arrays, got {got}")
    for name, a in zip(("out[0]", "out[1]"), out):
        if not isinstance(a, np.ndarray) or a.dtype != np.int32 or a.ndim != 1:
            what = f"{a.ndim}-D {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
            raise TypeError(f"{name} must be a 1-D int32 numpy array, got {what}")
        if not a.flags.c_contiguous or not a.flags.writeable:
            raise ValueError(f"{name} must be C-contiguous and writeable")
    if np.shares_memory(out[0], out[1]):
        raise ValueError("out[0] and out[1] must not overlap")
    for name, a in zip(("out[0]", "out[1]"), out):
        check_disjoint(a, name, corpus=corpus.ids, offsets=corpus.offsets)


def skipgram_pairs(corpus, window=5, *, shrink_windows=True, seed=None, out=None, backend="auto"):
    """Every (centre, context) skip-gram pair of a corpus.

    For the token at position ``i`` of a sentence, the contexts are the tokens
    of the same sentence within ``r`` positions, ``r`` its reduced window;
    pairs come centre by centre, contexts left to right.

    Parameters
    ----------
    corpus : Corpus or array_like of int
        Token ids with sentence boundaries (an array is one sentence). Subsample
        and drop unknown words first: windows then stretch over them.
    window : int >= 1
        Maximum distance between centre and context (gensim's ``window=5``).
    shrink_windows : bool
        Draw each centre's window uniformly from [1, window] (word2vec.c,
        gensim's default); False uses ``window`` everywhere.
    seed : None, int or numpy.random.Generator
        Seeds the reduced windows (same seed, same pairs on every backend and
        thread count).
    out : tuple of two int32 arrays, optional
        Buffers to fill (each at least ``n_pairs`` long, e.g. sized once with some
        slack and reused every epoch); the results are views of their first
        ``n_pairs`` elements. Saves allocating, and on Linux first touching,
        hundreds of MB per call on large corpora. Host backends only.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    centers, contexts : ndarray of int32, shape (n_pairs,)

    Raises
    ------
    TypeError
        Non-integer ids (floats are never truncated), ``window`` or
        ``shrink_windows`` of the wrong type, ``out`` not a pair of 1-D int32
        arrays, a bad ``seed`` (checked even when no draw is needed).
    ValueError
        ``window`` outside ``[1, MAX_WINDOW]``, a malformed corpus, ``out`` too
        short, read-only, strided or overlapping the corpus or each other, more
        pairs than this machine's memory holds (all checked before anything is
        written; a ``Generator`` seed is left as it was).

    Examples
    --------
    >>> from fastkernels.word2vec import skipgram_pairs
    >>> c, x = skipgram_pairs([0, 1, 2], window=1, shrink_windows=False)
    >>> list(zip(c.tolist(), x.tolist()))
    [(0, 1), (1, 0), (1, 2), (2, 1)]
    """
    corpus, window, shrink = _window_args(corpus, window, shrink_windows, seed)
    if out is not None:
        _check_out(out, corpus)
    be = resolve_backend(backend, work=corpus.n_tokens * window)
    if be == "cuda" and out is not None:
        if backend != "auto":
            raise ValueError("out= is for host backends; the cuda backend allocates its own buffers")
        be = "parallel"  # "auto" with out=: stay on the host, where out is
    with seed_kept(seed):
        wkey = window_key(seed)
        if be == "cuda":
            return load_cuda("fastkernels.word2vec._batches_cuda").skipgram_pairs(corpus.ids, corpus.offsets, window, shrink,
                                                                         wkey)
        n_blocks = max(1, -(-corpus.n_tokens // BLOCK))
        counts = np.empty(n_blocks, np.int64)
        _pair_count[be](corpus.ids, corpus.offsets, np.int64(window), shrink, wkey, np.int64(BLOCK), counts)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        total = int(counts.sum())
        if out is not None:
            for name, a in zip(("out[0]", "out[1]"), out):
                if a.size < total:
                    raise ValueError(f"{name} holds {a.size} pairs but this corpus gives {total}")
            centers, contexts = out[0][:total], out[1][:total]
        else:
            check_allocation(total, 8, "window", what="pairs")
            centers = np.empty(total, np.int32)
            contexts = np.empty(total, np.int32)
    _pair_fill[be](corpus.ids, corpus.offsets, np.int64(window), shrink, wkey, np.int64(BLOCK), starts,
                   centers, contexts)
    return centers, contexts


def cbow_windows(corpus, window=5, *, shrink_windows=True, seed=None, backend="auto"):
    """The context window of every token, for CBOW: row ``i`` holds the contexts
    :func:`skipgram_pairs` pairs with token ``i`` (same seed, same windows).

    Parameters
    ----------
    corpus, window, shrink_windows, seed, backend
        As in :func:`skipgram_pairs`.

    Returns
    -------
    centers : ndarray of int32, shape (n_tokens,)
        The corpus ids (a copy).
    contexts : ndarray of int32, shape (n_tokens, 2 * window)
        Context ids left to right, padded with -1.
    n_context : ndarray of int32, shape (n_tokens,)
        Contexts per row (0 for a one-word sentence; word2vec.c skips those).

    Raises
    ------
    TypeError, ValueError
        As :func:`skipgram_pairs`; also ``n_tokens * 2 * window`` slots beyond this
        machine's memory (checked before allocating).

    Examples
    --------
    >>> from fastkernels.word2vec import cbow_windows
    >>> _, ctx, n = cbow_windows([0, 1, 2], window=1, shrink_windows=False)
    >>> ctx.tolist(), n.tolist()
    ([[1, -1], [0, 2], [1, -1]], [1, 2, 1])
    """
    corpus, window, shrink = _window_args(corpus, window, shrink_windows, seed)
    n = corpus.n_tokens
    check_allocation(n * (2 * window + 2), 4, "window", what="context slots")
    be = resolve_backend(backend, work=n * window)
    wkey = window_key(seed)
    if be == "cuda":
        return load_cuda("fastkernels.word2vec._batches_cuda").cbow_windows(corpus.ids, corpus.offsets, window, shrink, wkey)
    contexts = np.empty((n, 2 * window), np.int32)
    n_context = np.empty(n, np.int32)
    _cbow[be](corpus.ids, corpus.offsets, np.int64(window), shrink, wkey, np.int64(BLOCK), contexts, n_context)
    return corpus.ids.copy(), contexts, n_context


__all__ = ["cbow_windows", "context_span", "generate_batch", "pair_counts", "reduced_window", "sentence_of",
           "skipgram_pairs", "window_key"]
