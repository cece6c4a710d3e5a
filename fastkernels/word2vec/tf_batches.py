"""The TensorFlow tutorial's skip-gram mini-batch generator, compiled.

:func:`generate_batch` is seed 000's ``generate_batch(batch_size, num_skips, skip_window)``
with the same asserts and output, minus its two flaws: the corpus position is passed in and
returned instead of kept in a global, and no words are skipped between calls (the seed's
version advances ``span`` words too far each call; later TF versions back-track, as this does;
``backtrack=False`` restores the seed). Its plain-Python reference is
:func:`fastkernels.word2vec._reference.tutorial_generate_batch`.

The contexts of a centre are draws ``p * 2**24 + 0, 1, ...`` of the seed's batch stream, ``p``
its window's corpus position, so results do not depend on thread count or on how batches are
split into calls.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._backend import resolve_backend
from .._jit import cpu_kernels
from .._random import below, seed_kept
from .._validate import as_array, check_allocation, check_flag, check_scalar
from . import _streams
from .corpus import Corpus

_INT32_MAX = np.iinfo(np.int32).max
#: Largest ``skip_window`` of :func:`generate_batch`: the ``2 * skip_window`` context slots are
#: numbered in the int32 label buffer and drawn by one 32-bit draw.
MAX_SKIP_WINDOW = (1 << 30) - 1


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


__all__ = ["MAX_INDEX", "MAX_SKIP_WINDOW", "generate_batch"]
