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
from .batches import generate_batch, skipgram_pairs, window_key
from .corpus import Corpus, read_corpus
from .sampling import NegativeSampler
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
