"""Benchmark cases of :mod:`fastkernels.word2vec` (see :mod:`fastkernels.bench.registry`).

Inputs: a synthetic Zipf corpus (100 000 distinct words, counts ~ 1 / rank**1.05,
sentences of 1-199 tokens; 10 M tokens in the "quick" and "full" profiles,
generated once per process) and, when gensim is installed, the real text it
ships (``head500.noblanks.cor``, 331 k tokens of Wikipedia). Each baseline is
the vectorised NumPy code a good user would write; ``generate_batch`` is also
timed against the TF tutorial's own Python/deque generator as a peer.
"""

from __future__ import annotations

import collections
import functools
import importlib.util
import os
import random

import numpy as np

from ..bench.registry import Case, register
from .batches import cbow_windows, generate_batch, skipgram_pairs, window_key
from .corpus import Corpus, read_corpus
from .sampling import NegativeSampler, log_uniform_candidates
from .subsample import keep_probability, subsample
from .vocab import Vocabulary

# -- inputs ---------------------------------------------------------------------------------


@functools.lru_cache(maxsize=2)
def zipf_corpus(n_tokens, n_words=100_000, seed=0):
    """``(ids, offsets, words)``: a corpus whose word counts follow Zipf's law (exponent 1.05)."""
    rng = np.random.default_rng(seed)
    letters = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", np.uint8)
    seen = {}
    while len(seen) < n_words:
        lengths = rng.integers(2, 11, n_words)
        pool = rng.choice(letters, (n_words, 10))
        for row, n in zip(pool, lengths):
            seen.setdefault(row[:n].tobytes().decode(), None)
            if len(seen) == n_words:
                break
    words = list(seen)
    cdf = np.cumsum(1.0 / np.arange(1, n_words + 1) ** 1.05)
    ids = np.searchsorted(cdf, rng.random(n_tokens) * cdf[-1]).astype(np.int32)
    cuts = np.cumsum(rng.integers(1, 200, n_tokens // 50 + 2))
    offsets = np.concatenate([[0], cuts[cuts < n_tokens], [n_tokens]]).astype(np.int64)
    return ids, offsets, words


@functools.lru_cache(maxsize=2)
def zipf_text(n_tokens, seed=0):
    """The Zipf corpus as whitespace text, one sentence per line (bytes)."""
    ids, offsets, words = zipf_corpus(n_tokens, seed=seed)
    tokens = np.array(words, dtype=object)[ids].tolist()
    lines = [" ".join(tokens[a:b]) for a, b in zip(offsets[:-1], offsets[1:])]
    return ("\n".join(lines) + "\n").encode()


def head500_path():
    """gensim's ``head500.noblanks.cor`` (331 k tokens), or None without gensim (not imported)."""
    spec = importlib.util.find_spec("gensim")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "test", "test_data", "head500.noblanks.cor")
    return path if os.path.isfile(path) else None


@functools.lru_cache(maxsize=1)
def head500_corpus():
    corpus, vocab = read_corpus(head500_path(), min_count=5)
    return corpus, vocab


def _text(corpus="zipf", n_tokens=0):
    if corpus == "head500":
        with open(head500_path(), "rb") as f:
            return f.read()
    return zipf_text(n_tokens)


def _corpus(corpus="zipf", n_tokens=0):
    """A Corpus (ids + sentence offsets) and its word counts."""
    if corpus == "head500":
        c, vocab = head500_corpus()
        return c, vocab.counts
    ids, offsets, words = zipf_corpus(n_tokens)
    return Corpus(ids, offsets), np.bincount(ids, minlength=len(words))


def _label(corpus="zipf", n_tokens=0, **extra):
    name = "head500 (gensim)" if corpus == "head500" else f"zipf {n_tokens / 1e6:g}M tokens"
    return " ".join([name, *(f"{k}={v}" for k, v in extra.items())])


def _sizes(test, quick, full=None, head500=None):
    """Profiles; ``head500`` (extra size arguments) adds gensim's corpus when it is installed."""
    sizes = {"test": test, "quick": list(quick), "full": list(full if full is not None else quick)}
    if head500 is not None and head500_path() is not None:
        sizes["quick"].append(dict(corpus="head500", **head500))
        sizes["full"].append(dict(corpus="head500", **head500))
    return sizes


# -- vocabulary ---------------------------------------------------------------------------------


def counter_vocabulary(text):
    """The tutorial's counting (``collections.Counter(words).most_common()``) from the same bytes."""
    mc = collections.Counter(text.decode("utf-8", "surrogateescape").split()).most_common()
    return [w for w, _ in mc], np.array([c for _, c in mc], np.int64)


def _fk_vocabulary(text, backend):
    v = Vocabulary.build(text, min_count=1)
    return v.words, v.counts


def _check_vocabulary(out, ref):
    if out[0] != ref[0]:
        raise AssertionError("vocabulary words or their order differ from Counter.most_common")
    np.testing.assert_array_equal(out[1], ref[1])


register(Case(
    name="vocab_build",
    area="word2vec",
    description="count words of raw text and sort them (vs collections.Counter on str.split())",
    make_inputs=lambda corpus="zipf", n_tokens=0: (_text(corpus, n_tokens),),
    kernel=_fk_vocabulary,
    baseline=counter_vocabulary,
    sizes=_sizes([dict(n_tokens=3000)], [dict(n_tokens=10_000_000)], head500={}),
    label=_label,
    check=_check_vocabulary,
))


# -- skip-gram pairs ----------------------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix64(z):
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def numpy_reduced_windows(n, window, wkey):
    """word2vec.c's reduced windows for positions ``0..n-1``, the same draws as the kernels
    (SplitMix64 of the window stream, vectorised), so outputs can be compared exactly."""
    key = np.array(wkey, np.int64).view(np.uint64)
    z = _mix64(key + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)
    return window - (((z >> np.uint64(32)) * np.uint64(window)) >> np.uint64(32)).astype(np.int64)


def numpy_skipgram_pairs(ids, offsets, window, wkey):
    """Honest NumPy pairs: one masked gather per distance and side (order differs from the kernel's)."""
    n = ids.size
    reach = numpy_reduced_windows(n, window, wkey)
    sent = np.repeat(np.arange(offsets.size - 1, dtype=np.int32), np.diff(offsets))
    centers, contexts = [], []
    for d in range(1, window + 1):
        same = sent[:-d] == sent[d:]
        right = np.flatnonzero(same & (reach[:-d] >= d))  # centre i, context i + d
        left = np.flatnonzero(same & (reach[d:] >= d)) + d  # centre i, context i - d
        centers += [ids[right], ids[left]]
        contexts += [ids[right + d], ids[left - d]]
    return np.concatenate(centers), np.concatenate(contexts)


def _pair_digest(centers, contexts):
    """Order-free digest of a multiset of pairs: size, centre histogram, hash sum."""
    z = _mix64((centers.astype(np.uint64) << np.uint64(32)) | contexts.astype(np.uint64))
    return centers.size, np.bincount(centers), int(z.sum(dtype=np.uint64))


def _check_pairs(out, ref):
    a, b = _pair_digest(*out), _pair_digest(*ref)
    if a[0] != b[0] or a[2] != b[2] or not np.array_equal(a[1], b[1]):
        raise AssertionError(f"pairs differ from the NumPy baseline ({a[0]} vs {b[0]} pairs)")


def _pairs_inputs(corpus="zipf", n_tokens=0, reuse=False):
    c = _corpus(corpus, n_tokens)[0]
    out = None
    if reuse:  # buffers sized once (by a first call) and reused, as an epoch loop would
        n = skipgram_pairs(c, 5, seed=0)[0].size
        out = (np.empty(n, np.int32), np.empty(n, np.int32))
    return c, 5, window_key(0), out


register(Case(
    name="skipgram_pairs",
    area="word2vec",
    description="all skip-gram pairs, window 5 shrunk per centre as word2vec.c, within sentences",
    make_inputs=_pairs_inputs,
    kernel=lambda c, window, wkey, out, backend: skipgram_pairs(c, window, seed=0, out=out, backend=backend),
    baseline=lambda c, window, wkey, out: numpy_skipgram_pairs(c.ids, c.offsets, window, wkey),
    sizes=_sizes([dict(n_tokens=2000), dict(n_tokens=2000, reuse=True)],
                 [dict(n_tokens=10_000_000), dict(n_tokens=10_000_000, reuse=True)], head500={}),
    label=lambda corpus="zipf", n_tokens=0, reuse=False: _label(corpus, n_tokens) + (" (out= reused)" if reuse else ""),
    check=_check_pairs,
))


# -- CBOW windows ---------------------------------------------------------------------------------


def numpy_cbow_windows(ids, offsets, window, wkey, chunk=1 << 16):
    """Honest NumPy CBOW rows: each centre's context span from its sentence bounds and reduced
    window (the same draws as the kernels), then a broadcast gather of all ``2 * window`` slots
    (slot ``k`` holds the ``k``-th context left to right, skipping the centre) and the padding.

    Positions are int32 like the ids, and the gather runs over blocks of ``chunk`` rows so its
    temporaries stay in cache: on 10 M tokens (2 cores) that is 0.95 s, against 1.6 s for one
    strided column pass per slot and 2.6 s for one broadcast over the whole corpus.
    """
    n = ids.size
    reach = numpy_reduced_windows(n, window, wkey).astype(np.int32)
    pos = np.arange(n, dtype=np.int32)
    off = offsets.astype(np.int32)
    lengths = np.diff(off)
    left = np.minimum(pos - np.repeat(off[:-1], lengths), reach)
    right = np.minimum(np.repeat(off[1:], lengths) - 1 - pos, reach)
    n_context = left + right
    first = pos - left
    padded = np.concatenate([ids, np.full(2 * window, -1, ids.dtype)])  # slots past a span read in bounds
    slot = np.arange(2 * window, dtype=np.int32)
    contexts = np.empty((n, 2 * window), np.int32)
    for a in range(0, n, chunk):
        b = a + chunk
        contexts[a:b] = padded[first[a:b, None] + slot + (slot >= left[a:b, None])]
        contexts[a:b][slot >= n_context[a:b, None]] = -1
    return ids.copy(), contexts, n_context


def _check_exact(out, ref):
    """Every output equal to the baseline's, dtypes included."""
    for i, (o, r) in enumerate(zip(out, ref)):
        if o.dtype != r.dtype:
            raise AssertionError(f"output {i} is {o.dtype}, baseline {r.dtype}")
        np.testing.assert_array_equal(o, r, err_msg=f"output {i}")


def _cbow_inputs(corpus="zipf", n_tokens=0):
    return _corpus(corpus, n_tokens)[0], 5, window_key(0)


register(Case(
    name="cbow_windows",
    area="word2vec",
    description="every token's context row for CBOW (window 5 shrunk as word2vec.c, padded with -1)",
    make_inputs=_cbow_inputs,
    kernel=lambda c, window, wkey, backend: cbow_windows(c, window, seed=0, backend=backend),
    baseline=lambda c, window, wkey: numpy_cbow_windows(c.ids, c.offsets, window, wkey),
    sizes=_sizes([dict(n_tokens=2000)], [dict(n_tokens=10_000_000)], head500={}),
    label=_label,
    check=_check_exact,
))


# -- the TF tutorial's generate_batch --------------------------------------------------------------


def tutorial_generate_batch(data, data_index, batch_size, num_skips, skip_window):
    """Seed 000's generate_batch (lost lines restored, back-tracking as later TF versions),
    with ``data_index`` passed in and returned instead of a global."""
    assert batch_size % num_skips == 0
    assert num_skips <= 2 * skip_window
    batch = np.ndarray(shape=(batch_size), dtype=np.int32)
    labels = np.ndarray(shape=(batch_size, 1), dtype=np.int32)
    span = 2 * skip_window + 1
    buffer = collections.deque(maxlen=span)
    for _ in range(span):
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    for i in range(batch_size // num_skips):
        target = skip_window
        targets_to_avoid = [skip_window]
        for j in range(num_skips):
            while target in targets_to_avoid:
                target = random.randint(0, span - 1)
            targets_to_avoid.append(target)
            batch[i * num_skips + j] = buffer[skip_window]
            labels[i * num_skips + j, 0] = buffer[target]
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    data_index = (data_index + len(data) - span) % len(data)
    return batch, labels, data_index


def numpy_generate_batches(data, n_batches, batch_size, num_skips, skip_window, index, rng):
    """Honest NumPy: every centre of ``n_batches`` at once, distinct contexts by a random
    permutation of the window slots per centre (argsort of uniforms)."""
    n = data.size
    starts = index + np.arange(n_batches * (batch_size // num_skips))
    centre = data[(starts + skip_window) % n]
    slots = rng.random((starts.size, 2 * skip_window)).argsort(axis=1)[:, :num_skips]
    slots += slots >= skip_window  # skip the centre
    labels = data[(starts[:, None] + slots) % n]
    return np.repeat(centre, num_skips).astype(np.int32), labels.reshape(-1).astype(np.int32)


BATCH = dict(batch_size=128, num_skips=2, skip_window=1)  # the tutorial's hyper-parameters


def _batch_inputs(n_batches, corpus="zipf", n_tokens=0):
    return _corpus(corpus, n_tokens)[0].ids, n_batches


def _fk_batches(data, n_batches, backend):
    batch, labels, _ = generate_batch(data, index=0, n_batches=n_batches, seed=0, backend=backend, **BATCH)
    return batch.reshape(-1), labels.reshape(-1)


def _numpy_batches(data, n_batches):
    batch, labels = numpy_generate_batches(data, n_batches, index=0, rng=np.random.default_rng(0), **BATCH)
    return batch, labels, data


def _tutorial_batches():
    def run(data, n_batches):
        # the tutorial's data is a Python list; give it the part these batches read as one
        per = BATCH["batch_size"] // BATCH["num_skips"]
        data = data[: n_batches * per + 2 * BATCH["skip_window"] + 2].tolist()
        index, bs, ls = 0, [], []
        for _ in range(n_batches):
            batch, labels, index = tutorial_generate_batch(data, index, **BATCH)
            bs.append(batch)
            ls.append(labels[:, 0])
        return np.concatenate(bs), np.concatenate(ls)

    return run


def _check_batches(out, ref):
    """Centres equal the baseline's; every label lies in its centre's window (labels are random)."""
    batch, labels = out[0], out[1]
    data = ref[2]
    np.testing.assert_array_equal(batch, ref[0])
    w, ns = BATCH["skip_window"], BATCH["num_skips"]
    starts = np.arange(batch.size // ns)
    window = data[(starts[:, None] + np.delete(np.arange(2 * w + 1), w)) % data.size]
    ok = (labels.reshape(-1, ns)[:, :, None] == window[:, None, :]).any(axis=2)
    if not ok.all():
        raise AssertionError(f"{int((~ok).sum())} labels outside their centre's window")


register(Case(
    name="generate_batch",
    area="word2vec",
    description="TF tutorial generate_batch(128, num_skips=2, skip_window=1): one call, and 1000 batches per call",
    make_inputs=_batch_inputs,
    kernel=_fk_batches,
    baseline=_numpy_batches,
    sizes=_sizes([dict(n_batches=1, n_tokens=500), dict(n_batches=7, n_tokens=500)],
                 [dict(n_batches=1, n_tokens=10_000_000), dict(n_batches=1000, n_tokens=10_000_000)],
                 head500=dict(n_batches=1000)),
    label=lambda n_batches, corpus="zipf", n_tokens=0: _label(corpus, n_tokens, batches=n_batches),
    peers={"tutorial (Python deque)": _tutorial_batches},
    check=_check_batches,
))


# -- negative sampling --------------------------------------------------------------------------------


def _sampler_inputs(n, k=5, corpus="zipf", n_tokens=0, n_words=50_000):
    counts = _corpus(corpus, n_tokens)[1]
    counts = np.sort(counts)[::-1][:n_words] if corpus == "zipf" else counts
    return NegativeSampler(counts), n, k


def numpy_negatives(sampler, n, k, rng=None):
    """``numpy.random.Generator.choice(V, size=(n, k), p=...)``."""
    rng = np.random.default_rng(0) if rng is None else rng
    return rng.choice(sampler.n_words, size=(n, k), p=sampler.probabilities)


def _check_same_distribution(out, ref):
    """Two samples of one distribution: total variation distance within sampling noise."""
    out = out.copy_to_host() if hasattr(out, "copy_to_host") else np.asarray(out)
    m = max(int(out.max()), int(ref.max())) + 1
    p = np.bincount(out.ravel(), minlength=m) / out.size
    q = np.bincount(ref.ravel(), minlength=m) / ref.size
    tv = 0.5 * np.abs(p - q).sum()
    noise = np.sqrt(2.0 / out.size) * np.sqrt((p + q) / 2).sum()  # ~ E|p - q| summed over words
    if tv > 0.02 + 2 * noise:
        raise AssertionError(f"sample distributions differ: total variation {tv:.4f} (noise ~{noise:.4f})")


register(Case(
    name="negative_sampling",
    area="word2vec",
    description="k=5 negatives per row from unigram^0.75 (alias table) vs Generator.choice(p=...)",
    make_inputs=_sampler_inputs,
    kernel=lambda sampler, n, k, backend: sampler.sample(n, k, seed=0, backend=backend),
    baseline=numpy_negatives,
    sizes=_sizes([dict(n=4000, n_tokens=2000, n_words=20)], [dict(n=1_000_000, n_tokens=10_000_000)],
                 head500=dict(n=1_000_000)),
    label=lambda n, k=5, corpus="zipf", n_tokens=0, n_words=50_000: (
        f"{n:,}x{k} from {'head500' if corpus == 'head500' else f'{n_words:,}'} words"),
    check=_check_same_distribution,
))


# -- subsampling ------------------------------------------------------------------------------------


def numpy_subsample(corpus, keep, rng=None):
    """Honest NumPy: one uniform per token, a boolean gather, offsets by a cumulative sum."""
    rng = np.random.default_rng(0) if rng is None else rng
    mask = rng.random(corpus.n_tokens) < keep[corpus.ids]
    kept = np.zeros(corpus.offsets.size, np.int64)
    csum = np.concatenate([[0], np.cumsum(mask)])
    kept[:] = csum[corpus.offsets]
    return corpus.ids[mask], kept


def _subsample_inputs(corpus="zipf", n_tokens=0):
    c, counts = _corpus(corpus, n_tokens)
    return c, keep_probability(counts, 1e-3)


def _fk_subsample(corpus, keep, backend):
    kept = subsample(corpus, keep, seed=0, backend=backend)
    return kept.ids, kept.offsets


def _check_subsample(out, ref):
    _check_same_distribution(out[0], ref[0])
    n, m = out[0].size, ref[0].size
    if abs(n - m) > 6 * np.sqrt(max(n, m)) + 2:
        raise AssertionError(f"kept {n} tokens, baseline {m}")


register(Case(
    name="subsample",
    area="word2vec",
    description="drop frequent words' tokens (word2vec keep probability, sample=1e-3)",
    make_inputs=_subsample_inputs,
    kernel=_fk_subsample,
    baseline=numpy_subsample,
    sizes=_sizes([dict(n_tokens=20_000)], [dict(n_tokens=10_000_000)], head500={}),
    label=_label,
    check=_check_subsample,
))


# -- log-uniform candidates (the sampler of tf.nn.nce_loss) -----------------------------------------


def _log_uniform_inputs(num_sampled, range_max=50_000, unique=True):
    true = np.random.default_rng(0).integers(0, range_max, (128, 1))  # the tutorial's batch of labels
    return true, num_sampled, range_max, unique


def _log_uniform_p(classes, range_max):
    return np.log1p(1.0 / (classes + 1.0)) / np.log(range_max + 1.0)


def _expected_counts(p, tries, num_sampled):
    """TF's expected counts: ``num_sampled * p`` when no draw was rejected, else ``1 - (1 - p) ** tries``."""
    return p * num_sampled if tries == num_sampled else -np.expm1(tries * np.log1p(-p))


def numpy_log_uniform_candidates(true, num_sampled, range_max, unique, rng=None):
    """Honest NumPy log-uniform sampling, TF's ``floor(exp(u * log(range_max + 1))) - 1`` vectorised.

    Without ``unique``: one vectorised draw. With it, TF draws until ``num_sampled`` distinct
    classes came up; vectorised, that is drawing a block, keeping first occurrences
    (``np.unique(return_index=True)``) and drawing a block as large again until enough are
    distinct; the number of tries is the position of the ``num_sampled``-th first occurrence.
    Returns TF's outputs plus the parameters for the check.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    log_range = np.log(range_max + 1.0)

    def draw(m):
        return np.minimum(np.exp(rng.random(m) * log_range).astype(np.int64) - 1, range_max - 1)

    if unique:
        drawn = draw(2 * num_sampled)
        while True:
            _, first = np.unique(drawn, return_index=True)
            if first.size >= num_sampled:
                break
            drawn = np.concatenate([drawn, draw(drawn.size)])
        first.sort()
        sampled, tries = drawn[first[:num_sampled]], int(first[num_sampled - 1]) + 1
    else:
        sampled, tries = draw(num_sampled), num_sampled
    return (sampled, _expected_counts(_log_uniform_p(true, range_max), tries, num_sampled),
            _expected_counts(_log_uniform_p(sampled, range_max), tries, num_sampled),
            dict(true=true, num_sampled=num_sampled, range_max=range_max, unique=unique))


def _log_uniform_tries(sampled, expected, p, num_sampled):
    """The number of draws behind TF's expected counts (``num_sampled`` when none was rejected)."""
    if np.allclose(expected, p * num_sampled, rtol=1e-12, atol=0):
        return num_sampled
    i = int(np.argmin(p))  # the best-conditioned entry (frequent classes' counts saturate at 1)
    return int(np.rint(np.log1p(-expected[i]) / np.log1p(-p[i])))


def _check_log_uniform(out, ref):
    """Format, TF's expected counts exactly, and the log-uniform distribution (the streams differ).

    The number of draws ``T`` is read back from the sampled expected counts; both expected-count
    outputs must then equal TF's formulas to 1e-12, and with ``unique`` the classes be distinct
    with ``T`` consistent with them: T draws give ``sum_c 1 - (1 - P(c)) ** T`` distinct classes
    on average, which must be within 5 standard deviations of ``num_sampled``. The classes,
    binned into up to 20 bins of about equal log-uniform mass, must fit their expected counts
    (``num_sampled * P(bin)``, or the sum of ``1 - (1 - P(c)) ** T`` with ``unique``): chi-square
    below ``df + 6 sqrt(2 df) + 10`` (p ~ 1e-7; Poisson variances, so conservative for ``unique``).
    """
    sampled, true_expected, sampled_expected = out[:3]  # the baseline's own output carries more
    prm = ref[3]
    m, rmax = prm["num_sampled"], prm["range_max"]
    if sampled.dtype != np.int64 or sampled.shape != (m,):
        raise AssertionError(f"sampled is {sampled.dtype} {sampled.shape}, expected int64 ({m},)")
    if sampled.min() < 0 or sampled.max() >= rmax:
        raise AssertionError(f"classes outside [0, {rmax})")
    if true_expected.shape != prm["true"].shape or sampled_expected.shape != (m,):
        raise AssertionError("expected counts have the wrong shapes")
    p = _log_uniform_p(sampled, rmax)
    tries = _log_uniform_tries(sampled, sampled_expected, p, m)
    if tries < m or (tries > m and not prm["unique"]):
        raise AssertionError(f"expected counts imply {tries} draws for {m} classes")
    np.testing.assert_allclose(sampled_expected, _expected_counts(p, tries, m), rtol=1e-12, atol=0)
    np.testing.assert_allclose(true_expected, _expected_counts(_log_uniform_p(prm["true"], rmax), tries, m),
                               rtol=1e-12, atol=0)
    p_all = _log_uniform_p(np.arange(rmax), rmax)
    if prm["unique"]:
        if np.unique(sampled).size != m:
            raise AssertionError("unique=True gave repeated classes")
        q = -np.expm1(tries * np.log1p(-p_all))  # P(class c among T draws)
        if abs(q.sum() - m) > 5 * np.sqrt((q * (1 - q)).sum()) + 1:
            raise AssertionError(f"{tries} draws give {q.sum():.1f} distinct classes on average, not {m}")
    else:
        q = p_all * m
    n_bins = int(min(20, max(2, m // 5)))
    edges = np.unique(np.rint((rmax + 1.0) ** (np.arange(n_bins + 1) / n_bins) - 1).astype(np.int64))
    edges[-1] = rmax
    obs = np.histogram(sampled, bins=edges)[0]
    exp = np.add.reduceat(q, edges[:-1])
    chi2 = ((obs - exp) ** 2 / exp).sum()
    df = edges.size - 2
    if chi2 > df + 6 * np.sqrt(2 * df) + 10:
        raise AssertionError(f"classes do not follow the log-uniform distribution: chi-square {chi2:.1f}, {df} df")


register(Case(
    name="log_uniform_candidates",
    area="word2vec",
    description="tf.nn.nce_loss's log-uniform candidate sampler: 64 distinct of 50k (one training step), "
                "1M with replacement",
    make_inputs=_log_uniform_inputs,
    # no backend argument: one serial compiled call (a candidate set is too small to split)
    kernel=lambda true, num_sampled, range_max, unique, backend: log_uniform_candidates(
        true, num_sampled, range_max, unique=unique, seed=0, backend=backend),
    baseline=numpy_log_uniform_candidates,
    sizes={"test": [dict(num_sampled=16, range_max=100), dict(num_sampled=2000, range_max=100, unique=False)],
           "quick": [dict(num_sampled=64), dict(num_sampled=1_000_000, unique=False)],
           "full": [dict(num_sampled=64), dict(num_sampled=4096), dict(num_sampled=10_000_000, unique=False)]},
    label=lambda num_sampled, range_max=50_000, unique=True: (
        f"{num_sampled:,} of {range_max:,} classes, {'distinct' if unique else 'with replacement'}"),
    check=_check_log_uniform,
))
