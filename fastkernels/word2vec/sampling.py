"""Negative sampling: the unigram^0.75 noise distribution (word2vec's) and the
log-uniform (Zipfian) candidate sampler of TensorFlow's ``nce_loss`` (seed 000).

**Which O(1) sampler.** :class:`NegativeSampler` uses Walker's alias method
(Vose's construction): one 64-bit draw picks a column and decides between the
column's word and its alias, so a draw is one table read. Measured here (2-core
x86-64, 5 M draws, Zipf counts), per draw:

=============================  ==========  =========
sampler                        50 k words  1 M words
=============================  ==========  =========
alias table (this)             4.3 ns      13.7 ns
word2vec.c table of 1e8 ints   21.7 ns     23.1 ns
cumulative table + bisection   99 ns       186 ns
numpy ``choice(p=...)``        129 ns      362 ns
=============================  ==========  =========

The alias table is also exact (the column comes from 53 random bits and the
threshold from the remaining fraction, so no modulo bias), takes 8 bytes per
word (word2vec.c's table takes 400 MB, gensim's cumulative table 4 bytes per
word but a binary search per draw) and is the same array on the GPU.

**Streams.** Row ``i`` of a call draws from stream ``(seed, start + i)``; its
column ``j`` uses counter ``j``, and a retry after hitting the excluded positive
word uses counter ``j + a * k`` (attempt ``a``). So entries that did not collide
are identical with and without ``exclude``, and results do not depend on
thread count, chunking (``start``) or backend.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._jit import cpu_kernels, device, jit
from .._random import check_seed, mix64, random_u64, stream_key, uniform
from .._validate import (
    INT64_MAX,
    as_array,
    as_index_array,
    check_allocation,
    check_flag,
    check_scalar,
)
from . import _streams
from ._draws import MAX_TRIES

_LOW32 = np.int64(0xFFFFFFFF)
_S11 = np.uint64(11)
_TWO_POW_M53 = 1.0 / 9007199254740992.0
_TWO_POW_32 = 4294967296.0
#: Largest probability an excluded word may have: 0.999 ** MAX_TRIES < 1e-28.
MAX_EXCLUDED_PROBABILITY = 0.999
#: Largest ``range_max`` of the log-uniform sampler: ``exp(U * log(range_max + 1))`` must
#: convert to an int64 class.
MAX_RANGE = 1 << 62


# -- alias table --------------------------------------------------------------------


def build_alias(p):
    """Vose's alias table of the distribution ``p`` (float64, sums to 1).

    Returns int64 entries ``alias << 32 | threshold``: column ``c`` yields ``c``
    when a uniform 32-bit fraction is below ``threshold`` and ``alias`` otherwise.
    Full columns alias to themselves, so the threshold never needs 2**32.
    """
    # the scaled column heights from NumPy: an array expression compiled in the kernel cost
    # ~0.2 s of a first Word2Vec or NegativeSampler
    return _alias_columns(p * p.size)


@jit
def _alias_columns(q):
    """:func:`build_alias`'s table from the column heights ``q = p n`` (float64, overwritten)."""
    n = q.size
    small = np.empty(n, np.int64)
    large = np.empty(n, np.int64)
    ns = 0
    nl = 0
    for i in range(n):
        if q[i] < 1.0:
            small[ns] = i
            ns += 1
        else:
            large[nl] = i
            nl += 1
    table = np.empty(n, np.int64)
    while ns > 0 and nl > 0:
        ns -= 1
        s = small[ns]
        nl -= 1
        big = large[nl]
        thr = np.int64(q[s] * _TWO_POW_32)
        table[s] = (big << 32) | min(thr, _LOW32)
        q[big] = (q[big] + q[s]) - 1.0
        if q[big] < 1.0:
            small[ns] = big
            ns += 1
        else:
            large[nl] = big
            nl += 1
    for r in range(nl):  # leftovers are full columns (q == 1 up to rounding)
        i = large[r]
        table[i] = (i << 32) | _LOW32
    for r in range(ns):
        i = small[r]
        table[i] = (i << 32) | _LOW32
    return table


@device
def alias_draw(table, skey, counter):
    """Word drawn from the alias ``table`` by draw ``counter`` of stream ``skey``.

    ``x = U * V`` with 53-bit ``U``: the column is ``floor(x)``, and the fraction
    ``x - floor(x)`` (``53 - log2 V`` bits) is compared with the column's threshold.
    """
    v = table.size
    x = np.float64(random_u64(skey, counter) >> _S11) * (v * _TWO_POW_M53)
    c = min(np.int64(x), v - 1)
    e = table[c]
    if np.int64((x - c) * _TWO_POW_32) < (e & _LOW32):
        return c
    return e >> 32


@device
def draw_negative(table, skey, j, k, excluded):
    """Column ``j`` (of ``k``) of a row whose stream is ``skey``, avoiding ``excluded``
    (pass -1 to allow every word) by redrawing with counters ``j + a * k``."""
    w = alias_draw(table, skey, j)
    a = 1
    while w == excluded and a < MAX_TRIES:
        w = alias_draw(table, skey, j + a * k)
        a += 1
    return w


def _negatives_body(table, nkey, start, exclude, use_exclude, out):
    k = out.shape[1]
    for i in prange(out.shape[0]):
        skey = stream_key(nkey, start + i)
        x = exclude[i] if use_exclude else -1
        for j in range(k):
            out[i, j] = draw_negative(table, skey, j, k, x)


_negatives = dict(zip(("cpu", "parallel"), cpu_kernels(_negatives_body)))


def negative_key(seed) -> np.int64:
    """The key whose stream ``stream_key(key, row)`` :func:`draw_negative` uses (for compiled loops)."""
    return _streams.purpose_key(seed, _streams.NEGATIVE)


class NegativeSampler:
    """Draws negative words with probability proportional to ``count ** ns_exponent``.

    Parameters
    ----------
    counts : Vocabulary or array_like of shape (n_words,)
        Word counts (int, or non-negative float weights). Words of count 0 are
        never drawn.
    ns_exponent : float
        0.75 as in word2vec and gensim; 1 samples by frequency, 0 uniformly,
        negative values favour rare words (gensim PR #2093).

    Attributes
    ----------
    probabilities : ndarray of float64, shape (n_words,)
        The noise distribution.
    table : ndarray of int64, shape (n_words,)
        The alias table (:func:`build_alias`), for compiled loops.

    Raises
    ------
    TypeError
        ``counts`` of another dtype (bools, objects), ``ns_exponent`` not real.
    ValueError
        Negative or non-finite counts, no positive count, empty counts, a
        non-finite ``ns_exponent``, weights ``count ** ns_exponent`` that overflow
        or all underflow to 0.

    Examples
    --------
    >>> import numpy as np
    >>> from fastkernels.word2vec import NegativeSampler
    >>> s = NegativeSampler(np.array([90, 9, 1]))
    >>> s.probabilities.round(3).tolist()
    [0.825, 0.147, 0.028]
    >>> s.sample(2, 3, exclude=[0, 1], seed=0).shape
    (2, 3)
    """

    def __init__(self, counts, ns_exponent=0.75):
        from .vocab import Vocabulary

        if isinstance(counts, Vocabulary):
            counts = counts.counts
        counts = as_array(counts, "counts", dtypes=(np.float64, np.float32, np.int32, np.int64), ndim=1,
                          finite=True)  # float64 first: a refused float16 is not told to become int32
        if counts.size == 0:
            raise ValueError("counts must not be empty")
        if (counts < 0).any():
            i = int(np.argmax(counts < 0))
            raise ValueError(f"counts must be non-negative; counts[{i}] = {counts[i]}")
        if not (counts > 0).any():
            raise ValueError("counts must have at least one positive entry")
        ns_exponent = check_scalar(ns_exponent, "ns_exponent")
        c = counts.astype(np.float64)
        w = np.zeros_like(c)
        pos = c > 0
        with np.errstate(over="ignore", under="ignore"):
            w[pos] = np.exp(ns_exponent * np.log(c[pos]))
            total = w.sum()
        if not np.isfinite(total):
            raise ValueError(f"counts ** ns_exponent overflows (ns_exponent={ns_exponent})")
        if total == 0:
            raise ValueError(f"counts ** ns_exponent underflows to 0 for every word (ns_exponent={ns_exponent}); "
                             "the noise distribution would be undefined")
        self.ns_exponent = ns_exponent
        self.probabilities = w / total
        self.table = build_alias(self.probabilities.copy())
        self.probabilities.flags.writeable = False
        self.table.flags.writeable = False

    @property
    def n_words(self) -> int:
        return int(self.table.size)

    def sample(self, n, k=5, *, exclude=None, seed=None, start=0, backend="auto"):
        """Draw an ``(n, k)`` array of negative words.

        Parameters
        ----------
        n : int >= 0
            Rows (one per positive pair).
        k : int >= 1
            Negatives per row (word2vec's ``negative=5``).
        exclude : array_like of int, shape (n,), optional
            Per-row word never drawn in that row (the positive word): a draw equal
            to it is redrawn. Its probability must be below 0.999.
        seed : None, int or numpy.random.Generator
        start : int >= 0
            Stream number of row 0: drawing rows ``[a, b)`` with ``start=a`` gives
            the rows ``a..b-1`` of one big call.
        backend : {"auto", "cpu", "parallel", "cuda"}
            A device ``exclude`` gives a device result.

        Returns
        -------
        ndarray of int32, shape (n, k)

        Raises
        ------
        TypeError
            ``n``, ``k``, ``start`` not ints, ``exclude`` not integers (floats are
            never truncated), a bad ``seed`` (checked even when ``n == 0``).
        ValueError
            ``exclude`` out of range, of the wrong length, or naming a word
            with probability >= 0.999; bad ``n``, ``k`` or ``start``; ``n * k``
            beyond this machine's memory, ``start + n`` beyond int64 (both refused
            before drawing).
        """
        n = check_scalar(n, "n", integer=True, lo=0)
        k = check_scalar(k, "k", integer=True, lo=1)
        check_allocation(n * k, 4, "n * k", what="negatives")
        start = check_scalar(start, "start", integer=True, lo=0, hi=INT64_MAX - n)  # row streams start + i
        check_seed(seed)
        if exclude is not None:
            exclude = as_index_array(exclude, "exclude", n=self.n_words, ndim=1, shape=(n,))
            ex_host = exclude.copy_to_host() if hasattr(exclude, "copy_to_host") else exclude
            if isinstance(exclude, np.ndarray) and exclude.dtype != np.int32:
                exclude = exclude.astype(np.int32)  # ids < n_words: one compiled variant (a row's worth of copy)
            if ex_host.size:
                worst = int(ex_host[np.argmax(self.probabilities[ex_host])])
                if self.probabilities[worst] >= MAX_EXCLUDED_PROBABILITY:
                    raise ValueError(f"exclude names word {worst}, whose probability {self.probabilities[worst]:.6f} "
                                     f"is >= {MAX_EXCLUDED_PROBABILITY}: other words could almost never be drawn")
        be = resolve_backend(backend, work=n * k, arrays=(exclude,) if exclude is not None else ())
        nkey = negative_key(seed)  # after every check: a Generator seed is advanced only by a call that runs
        if be == "cuda":
            gpu = load_cuda("fastkernels.word2vec._sampling_cuda")
            if getattr(self, "_device_table", None) is None:  # the table is read-only: copy it once
                self._device_table = gpu.cuda.to_device(self.table)
            return gpu.negatives(self._device_table, nkey, start, exclude, n, k)
        out = np.empty((n, k), np.int32)
        ex = exclude if exclude is not None else np.zeros(1, np.int32)
        _negatives[be](self.table, nkey, np.int64(start), ex, exclude is not None, out)
        return out

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_device_table", None)  # a device copy does not pickle; it is remade on demand
        return state

    def __repr__(self) -> str:
        return f"NegativeSampler(n_words={self.n_words}, ns_exponent={self.ns_exponent})"


# -- log-uniform (Zipfian) candidate sampler --------------------------------------------


@device
def log_uniform_draw(skey, counter, range_max, log_range):
    """Class ``floor(exp(U * log(range_max + 1))) - 1``, P(c) = log((c + 2) / (c + 1)) / log(range_max + 1)."""
    c = np.int64(math.exp(uniform(skey, counter) * log_range)) - 1
    return min(max(c, 0), range_max - 1)


@jit
def log_uniform_unique(skey, range_max, out, seen):
    """Fill ``out`` with distinct log-uniform classes; returns the draws it took.

    ``seen`` is scratch: an int64 array, a power of two >= 2 * out.size, all -1.
    It is left all -1 again. The caller guarantees ``out.size <= range_max``.
    """
    log_range = math.log(range_max + 1.0)
    mask = seen.size - 1
    tries = 0
    got = 0
    while got < out.size:
        c = log_uniform_draw(skey, tries, range_max, log_range)
        tries += 1
        s = np.int64(mix64(np.uint64(c)) & np.uint64(mask))
        while seen[s] != -1 and seen[s] != c:
            s = (s + 1) & mask
        if seen[s] == -1:
            seen[s] = c
            out[got] = c
            got += 1
    for r in range(out.size):  # clear only what was set
        c = out[r]
        s = np.int64(mix64(np.uint64(c)) & np.uint64(mask))
        while seen[s] != -1:
            seen[s] = -1
            s = (s + 1) & mask
    return tries


def _log_uniform_fill_body(skey, range_max, out, prob, table):
    """Draw ``r`` is counter ``r`` of the stream: the same classes on any thread count.
    ``table`` holds P(c) for every class when there are fewer classes than draws (a gather
    then replaces a log1p and a division per draw), else it is empty."""
    log_range = math.log(range_max + 1.0)
    for r in prange(out.size):
        c = log_uniform_draw(skey, r, range_max, log_range)
        out[r] = c
        prob[r] = table[c] if table.size else math.log1p(1.0 / (c + 1.0)) / log_range


_log_uniform_fill = dict(zip(("cpu", "parallel"), cpu_kernels(_log_uniform_fill_body)))


def _log_uniform_p(c, range_max):
    return np.log1p(1.0 / (np.asarray(c, np.float64) + 1.0)) / math.log(range_max + 1.0)


def log_uniform_probability(classes, range_max):
    """P(c) = (log(c + 2) - log(c + 1)) / log(range_max + 1) of the log-uniform sampler.

    Raises
    ------
    TypeError
        ``classes`` not integers (floats are never truncated), ``range_max`` not an int.
    ValueError
        ``range_max`` outside ``[1, MAX_RANGE]``, classes outside ``[0, range_max)``.
    """
    range_max = check_scalar(range_max, "range_max", integer=True, lo=1, hi=MAX_RANGE)
    return _log_uniform_p(as_index_array(classes, "classes", n=range_max, ndim=None), range_max)


def _expected_count(p, num_tries, num_sampled):
    """TensorFlow's ExpectedCountHelper: ``num_sampled * p`` when every draw was kept,
    else ``1 - (1 - p) ** num_tries`` (the chance the class was drawn at least once)."""
    if num_tries == num_sampled:
        return p * num_sampled
    return -np.expm1(num_tries * np.log1p(-p))


def log_uniform_candidates(true_classes, num_sampled, range_max, *, unique=True, seed=None, backend="auto"):
    """TensorFlow's ``log_uniform_candidate_sampler`` (the sampler of ``tf.nn.nce_loss``).

    Draws ``num_sampled`` classes from P(c) = log((c + 2) / (c + 1)) / log(range_max + 1),
    which suits ids sorted by decreasing frequency (the tutorial's vocabulary).

    Parameters
    ----------
    true_classes : array_like of int
        The batch's true classes (any shape), in ``[0, range_max)``; only their
        expected counts are computed (they are not excluded, as in TF).
    num_sampled : int >= 1
        Classes to draw (the tutorial's 64); at most ``range_max`` when ``unique``.
    range_max : int >= 1
        Number of classes.
    unique : bool
        Draw without replacement (TF's default for ``nce_loss``).
    seed : None, int or numpy.random.Generator
    backend : {"auto", "cpu", "parallel"}
        Threads for draws with replacement (the same classes on either); CPU only.

    Returns
    -------
    sampled : ndarray of int64, shape (num_sampled,)
    true_expected_count : ndarray of float64, shape of ``true_classes``
    sampled_expected_count : ndarray of float64, shape (num_sampled,)
        ``num_sampled * P(c)``, or with ``unique`` and ``T`` draws needed,
        ``1 - (1 - P(c)) ** T`` (TF's formulas; ``nce_loss`` subtracts their log
        from the logits).

    Raises
    ------
    TypeError
        ``true_classes`` not integers (floats are never truncated), ``num_sampled``,
        ``range_max`` not ints, ``unique`` not a bool, a bad ``seed``.
    ValueError
        ``num_sampled > range_max`` with ``unique``; classes out of range;
        ``range_max`` above ``MAX_RANGE``; ``num_sampled`` beyond this machine's
        memory (refused before allocating).
    """
    range_max = check_scalar(range_max, "range_max", integer=True, lo=1, hi=MAX_RANGE)
    num_sampled = check_scalar(num_sampled, "num_sampled", integer=True, lo=1)
    unique = check_flag(unique, "unique")
    if unique and num_sampled > range_max:
        raise ValueError(f"num_sampled={num_sampled} distinct classes cannot be drawn from range_max={range_max}")
    # the samples, their probabilities and expected counts, and (unique) a hash set of up to 4 slots each
    check_allocation(num_sampled, 56 if unique else 32, "num_sampled", what="samples")
    true = as_index_array(true_classes, "true_classes", n=range_max, ndim=None)
    be = resolve_backend(backend, work=num_sampled, cpu_only="log_uniform_candidates")
    skey = _streams.purpose_key(seed, _streams.LOG_UNIFORM)
    sampled = np.empty(num_sampled, np.int64)
    if unique:
        seen = np.full(1 << max(4, (2 * num_sampled - 1).bit_length()), -1, np.int64)
        tries = int(log_uniform_unique(skey, range_max, sampled, seen))
        p_sampled = _log_uniform_p(sampled, range_max)
    else:
        p_sampled = np.empty(num_sampled)
        table = _log_uniform_p(np.arange(range_max), range_max) if range_max < num_sampled else np.empty(0)
        _log_uniform_fill[be](skey, range_max, sampled, p_sampled, table)
        tries = num_sampled
    p_true = _log_uniform_p(true, range_max)  # validated above; the samples are in range by construction
    return sampled, _expected_count(p_true, tries, num_sampled), _expected_count(p_sampled, tries, num_sampled)


__all__ = ["MAX_TRIES", "NegativeSampler", "alias_draw", "build_alias", "draw_negative", "log_uniform_candidates",
           "log_uniform_draw", "log_uniform_probability", "log_uniform_unique", "negative_key"]
