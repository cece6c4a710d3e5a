"""Skip-gram and CBOW training examples from a corpus of token ids.

Three generators:

* :func:`generate_batch`: the TensorFlow tutorial's mini-batch generator (seed
  000, ``generate_batch(batch_size, num_skips, skip_window)``) with the same
  asserts and output, minus its two flaws: the corpus position is passed in and
  returned instead of kept in a global, and no words are skipped between calls
  (the seed's version advances ``span`` words too far each call; later TF
  versions back-track, as this does; ``backtrack=False`` restores the seed);
* :func:`skipgram_pairs`: every (centre, context) pair of the corpus with
  word2vec.c's reduced window, within sentences, into preallocated arrays: a
  parallel pass counts the pairs of each block of tokens, a prefix sum gives
  each block its output offset, and a second parallel pass fills;
* :func:`cbow_windows`: the same contexts grouped per centre, padded, for CBOW.

Randomness follows the package rule (``fastkernels._random``): the reduced
window of the token at position ``i`` is draw ``i`` of the seed's window stream,
and the contexts of a ``generate_batch`` centre are draws ``p * 2**24 + 0, 1, ...``
of the seed's batch stream, ``p`` its window's corpus position, so results do not depend on thread count, block size or
backend, and :func:`skipgram_pairs` and :func:`cbow_windows` agree for one seed.

The ``@device`` cores (:func:`reduced_window`, :func:`sentence_of`) and the
per-block kernels take plain arrays, so a compiled training loop can call them
without Python in between.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, device
from .._random import below, check_seed, seed_kept
from .._validate import INT64_MAX, as_array, check_allocation, check_disjoint, check_flag, check_scalar
from . import _streams
from .corpus import Corpus, as_corpus

#: Tokens per block of the parallel count and fill passes.
BLOCK = 1 << 16
_INT32_MAX = np.iinfo(np.int32).max
#: Largest ``window`` of :func:`skipgram_pairs` / :func:`cbow_windows`: a reduced window is one
#: 32-bit draw (``below`` needs ``window < 2**32``) and offsets like ``i + 2 * window`` stay in int64.
MAX_WINDOW = (1 << 31) - 1
#: Largest ``skip_window`` of :func:`generate_batch`: the ``2 * skip_window`` context slots are
#: numbered in the int32 label buffer and drawn by one 32-bit draw.
MAX_SKIP_WINDOW = (1 << 30) - 1


# -- the TF tutorial's generate_batch ----------------------------------------------


#: Centres per parallel chunk of generate_batch (positions advance incrementally inside a chunk).
_CHUNK = 1024


def _as_ids(data, name):
    """A 1-D int32/int64 id array, values unchecked (the kernel checks the ids it reads: a pass
    over a whole corpus per batch would cost more than the batch). An empty list is an empty
    int64 array; floats (never truncated), bools and other dtypes are refused."""
    if isinstance(data, (list, tuple)) and len(data) == 0:
        return np.zeros(0, np.int64)
    return as_array(data, name, dtypes=(np.int32, np.int64), ndim=1)


def _batch_body(data, index, step, per_batch, num_skips, skip_window, bkey, batch, labels, bad):
    n = data.size
    two_w = 2 * skip_window
    n_centres = batch.size // num_skips
    for ch in prange((n_centres + _CHUNK - 1) // _CHUNK):
        c0 = ch * _CHUNK
        b = c0 // per_batch  # the only divisions of the chunk: positions advance below
        k = c0 - b * per_batch
        pos = index + b * step + k  # corpus position of the window start (unwrapped)
        start = pos % n
        for c in range(c0, min(c0 + _CHUNK, n_centres)):
            draw = pos << 24  # this centre's draws: counters pos * 2**24 + 0, 1, ...
            base = c * num_skips
            # num_skips distinct context slots out of the 2 * skip_window around the centre,
            # by rejection like the tutorial (labels holds the slot numbers for now); the
            # "already chosen" test is a bit mask when the slots fit in 64 bits (same draws)
            used = np.uint64(0)
            for j in range(num_skips):
                while True:
                    t = below(bkey, draw, two_w)
                    draw += 1
                    if two_w <= 64:
                        fresh = (used & (np.uint64(1) << np.uint64(t))) == 0
                    else:
                        fresh = True
                        for q in range(j):
                            if labels[base + q] == t:
                                fresh = False
                                break
                    if fresh:
                        break
                if two_w <= 64:
                    used |= np.uint64(1) << np.uint64(t)
                labels[base + j] = t
            i = start + skip_window  # the window wraps by subtraction (span <= n)
            centre = data[i - n if i >= n else i]
            if centre < 0 or centre > _INT32_MAX:
                bad[0] = 1
            for j in range(num_skips):
                t = labels[base + j]
                i = start + (t if t < skip_window else t + 1)  # skip the centre slot
                v = data[i - n if i >= n else i]
                if v < 0 or v > _INT32_MAX:
                    bad[0] = 1
                labels[base + j] = v
                batch[base + j] = centre
            # next centre: one position on, or on to the next batch's first window
            k += 1
            jump = 1
            if k == per_batch:
                k = 0
                jump = step - per_batch + 1
            pos += jump
            start += jump
            while start >= n:
                start -= n


_batch = dict(zip(("cpu", "parallel"), cpu_kernels(_batch_body)))


def _first_bad_id(data, index, n_batches, step, length):
    """(position, id) of the first id outside [0, 2**31) that the batches read: ``length``
    positions from ``index + b * step`` for each batch ``b`` (wrapping). Memory O(n_batches)."""
    n = data.size
    bad = np.flatnonzero((data < 0) | (data > _INT32_MAX))
    starts = (index + np.arange(n_batches, dtype=np.int64) * step) % n
    k = np.searchsorted(bad, starts)  # first bad position at or after each window start
    ahead = np.where(k < bad.size, bad[np.minimum(k, bad.size - 1)] - starts, bad[0] + n - starts)
    b = int(np.argmax(ahead < length))  # the first batch whose window reaches one
    p = int(bad[k[b]] if k[b] < bad.size else bad[0])
    return p, int(data[p])


#: Centres below which "parallel" runs the serial kernel (thread start-up would dominate).
SERIAL_BELOW = 4096
#: Largest ``index``: a centre's draws are counters ``position * 2**24 + k`` of a 64-bit stream.
MAX_INDEX = 1 << 38
#: Window positions (``index`` plus the positions a call advances) stay below this, so that
#: ``position * 2**24`` never leaves the int64 range.
_MAX_POSITION = 1 << 39


def generate_batch(data, batch_size, num_skips, skip_window, index=0, *, n_batches=None, seed=None,
                   backtrack=True, backend="auto"):
    """The TF tutorial's skip-gram mini-batch, compiled: ``batch_size // num_skips``
    consecutive centre words, each with ``num_skips`` distinct context words drawn
    uniformly from the ``skip_window`` words on each side.

    Parameters
    ----------
    data : Corpus or array_like of int32/int64, shape (n,)
        Token ids. Sentence boundaries are ignored and the window wraps from the
        end of the corpus to its start, as in the tutorial.
    batch_size : int
        Pairs per batch; a multiple of ``num_skips``.
    num_skips : int
        Contexts per centre, ``1 <= num_skips <= 2 * skip_window``.
    skip_window : int >= 1
        Words on each side of the centre (span ``2 * skip_window + 1 <= n``).
    index : int in [0, 2**38]
        Corpus position of the first window: the first centre is
        ``data[(index + skip_window) % n]``. Pass the returned ``next_index`` back.
    n_batches : int, optional
        Generate this many consecutive batches in one compiled call.
    seed : None, int or numpy.random.Generator
        The contexts of the window starting at position ``p`` are draws
        ``p * 2**24 + 0, 1, ...`` of the seed's stream: one seed gives the same batches however they are
        split into calls, on every backend. Since ``next_index`` is not reduced
        modulo ``n``, later passes over the corpus draw fresh contexts.
        ``None``: fresh randomness every call.
    backtrack : bool
        True (default): consecutive calls continue where the last centre left off.
        False: the seed 000 behaviour, which skips ``span`` words per call.
    backend : {"auto", "cpu", "parallel"}
        ``"parallel"`` runs fewer than :data:`SERIAL_BELOW` centres serially (same
        result); ``"cuda"`` runs on the CPU too (a batch is too small to ship).

    Returns
    -------
    batch : ndarray of int32, shape (batch_size,) or (n_batches, batch_size)
        Centre ids, each repeated ``num_skips`` times.
    labels : ndarray of int32, shape (batch_size, 1) or (n_batches, batch_size, 1)
        Context ids.
    next_index : int
        ``index + n_batches * batch_size // num_skips`` (plus ``span`` per batch
        without ``backtrack``); the corpus position is ``next_index % n``.

    Raises
    ------
    ValueError
        The tutorial's asserts (``batch_size % num_skips == 0``,
        ``num_skips <= 2 * skip_window``), ``skip_window`` outside
        ``[1, MAX_SKIP_WINDOW]``, a corpus shorter than the span, ids outside
        ``[0, 2**31)`` in the windows read, bad ``index``, ``n_batches * batch_size``
        pairs beyond this machine's memory (refused before allocating), positions
        past ``2**39``. A ``Generator`` seed is left as it was.
    TypeError
        Non-integer ids (floats are never truncated) or arguments, a bad ``seed``.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.word2vec import generate_batch
    >>> data = np.array([5239, 3084, 12, 6, 195, 2, 3137, 46, 59, 156])  # the tutorial's first ids
    >>> batch, labels, index = generate_batch(data, 8, 2, 1, seed=0)
    >>> batch.tolist(), sorted(labels[:2, 0].tolist()), index
    ([3084, 3084, 12, 12, 6, 6, 195, 195], [12, 5239], 4)
    """
    ids = data.ids if isinstance(data, Corpus) else _as_ids(data, "data")
    batch_size = check_scalar(batch_size, "batch_size", integer=True, lo=1)
    num_skips = check_scalar(num_skips, "num_skips", integer=True, lo=1)
    skip_window = check_scalar(skip_window, "skip_window", integer=True, lo=1, hi=MAX_SKIP_WINDOW)
    index = check_scalar(index, "index", integer=True, lo=0, hi=MAX_INDEX)
    backtrack = check_flag(backtrack, "backtrack")
    if batch_size % num_skips != 0:
        raise ValueError(f"batch_size must be a multiple of num_skips (batch_size % num_skips == 0); "
                         f"got batch_size={batch_size}, num_skips={num_skips}")
    if num_skips > 2 * skip_window:
        raise ValueError(f"num_skips must be <= 2 * skip_window = {2 * skip_window} (distinct contexts "
                         f"per centre); got num_skips={num_skips}")
    span = 2 * skip_window + 1
    if ids.size < span:
        raise ValueError(f"data has {ids.size} ids, fewer than the span 2 * skip_window + 1 = {span}")
    nb = 1 if n_batches is None else check_scalar(n_batches, "n_batches", integer=True, lo=1)
    check_allocation(nb * batch_size, 8, "batch_size" if n_batches is None else "n_batches * batch_size", what="pairs")
    per_batch = batch_size // num_skips
    step = per_batch if backtrack else per_batch + span
    if index + nb * step >= _MAX_POSITION:
        raise ValueError(f"index + n_batches * {step} = {index + nb * step} reaches 2**39: a window's draws are "
                         "keyed by its position * 2**24, which must stay in int64; start again from a lower index")
    be = resolve_backend(backend, work=nb * batch_size)
    if be == "cuda":
        be = "parallel"  # batches are small and their data is on the host: no GPU round trip
    if be == "parallel" and nb * per_batch < SERIAL_BELOW:
        be = "cpu"  # same result; a tiny batch is faster without starting threads
    with seed_kept(seed):
        bkey = _streams.purpose_key(seed, _streams.BATCH)
        batch = np.empty(nb * batch_size, np.int32)
        labels = np.empty(nb * batch_size, np.int32)
        bad = np.zeros(1, np.int64)
        _batch[be](ids, np.int64(index), np.int64(step), np.int64(per_batch), np.int64(num_skips),
                   np.int64(skip_window), bkey, batch, labels, bad)
        if bad[0]:
            p, v = _first_bad_id(ids, index, nb, step, per_batch + span - 1)
            raise ValueError(f"data ids must lie in [0, 2**31); found {v} at position {p}")
    next_index = index + nb * step
    if n_batches is None:
        return batch, labels.reshape(batch_size, 1), next_index
    return batch.reshape(nb, batch_size), labels.reshape(nb, batch_size, 1), next_index


# -- whole-corpus skip-gram pairs and CBOW windows ------------------------------------


@device
def reduced_window(wkey, position, window, shrink):
    """Effective window of the centre at ``position``: uniform in [1, window] when
    ``shrink`` (word2vec.c's ``window - b``, ``b = rand % window``), else ``window``."""
    if shrink:
        return window - below(wkey, position, window)
    return window


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
            return load_cuda("fastkernels.word2vec._cuda").skipgram_pairs(corpus.ids, corpus.offsets, window, shrink,
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
        return load_cuda("fastkernels.word2vec._cuda").cbow_windows(corpus.ids, corpus.offsets, window, shrink, wkey)
    contexts = np.empty((n, 2 * window), np.int32)
    n_context = np.empty(n, np.int32)
    _cbow[be](corpus.ids, corpus.offsets, np.int64(window), shrink, wkey, np.int64(BLOCK), contexts, n_context)
    return corpus.ids.copy(), contexts, n_context


__all__ = ["cbow_windows", "context_span", "generate_batch", "pair_counts", "reduced_window", "sentence_of",
           "skipgram_pairs", "window_key"]
