"""Inputs of the word2vec benchmark cases (:mod:`fastkernels.word2vec._bench`) and the adapters
that run the kernels and baselines on them.

Inputs: a synthetic Zipf corpus (100 000 distinct words, counts ~ 1 / rank**1.05,
sentences of 1-199 tokens; 10 M tokens in the "quick" and "full" profiles,
generated once per process) and, when gensim is installed, the real text it
ships (``head500.noblanks.cor``, 331 k tokens of Wikipedia).
"""

from __future__ import annotations

import functools
import importlib.util
import os

import numpy as np

from ._reference import numpy_generate_batches, tutorial_generate_batch
from .batches import skipgram_pairs, window_key
from .corpus import Corpus
from .reading import read_corpus
from .sampling import NegativeSampler
from .subsample import keep_probability, subsample
from .tf_batches import generate_batch
from .vocab import Vocabulary

# -- corpora ---------------------------------------------------------------------------------


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


def text(corpus="zipf", n_tokens=0):
    if corpus == "head500":
        with open(head500_path(), "rb") as f:
            return f.read()
    return zipf_text(n_tokens)


def corpus_and_counts(corpus="zipf", n_tokens=0):
    """A Corpus (ids + sentence offsets) and its word counts."""
    if corpus == "head500":
        c, vocab = head500_corpus()
        return c, vocab.counts
    ids, offsets, words = zipf_corpus(n_tokens)
    return Corpus(ids, offsets), np.bincount(ids, minlength=len(words))


def label(corpus="zipf", n_tokens=0, **extra):
    name = "head500 (gensim)" if corpus == "head500" else f"zipf {n_tokens / 1e6:g}M tokens"
    return " ".join([name, *(f"{k}={v}" for k, v in extra.items())])


def sizes(test, quick, full=None, head500=None):
    """Profiles; ``head500`` (extra size arguments) adds gensim's corpus when it is installed."""
    out = {"test": test, "quick": list(quick), "full": list(full if full is not None else quick)}
    if head500 is not None and head500_path() is not None:
        out["quick"].append(dict(corpus="head500", **head500))
        out["full"].append(dict(corpus="head500", **head500))
    return out


# -- adapters: make_inputs(**size), kernel(*inputs, backend), baseline(*inputs) ---------------


def fk_vocabulary(data, backend):
    v = Vocabulary.build(data, min_count=1)
    return v.words, v.counts


def pairs_inputs(corpus="zipf", n_tokens=0, reuse=False):
    c = corpus_and_counts(corpus, n_tokens)[0]
    out = None
    if reuse:  # buffers sized once (by a first call) and reused, as an epoch loop would
        n = skipgram_pairs(c, 5, seed=0)[0].size
        out = (np.empty(n, np.int32), np.empty(n, np.int32))
    return c, 5, window_key(0), out


def cbow_inputs(corpus="zipf", n_tokens=0):
    return corpus_and_counts(corpus, n_tokens)[0], 5, window_key(0)


BATCH = dict(batch_size=128, num_skips=2, skip_window=1)  # the tutorial's hyper-parameters


def batch_inputs(n_batches, corpus="zipf", n_tokens=0):
    return corpus_and_counts(corpus, n_tokens)[0].ids, n_batches


def fk_batches(data, n_batches, backend):
    batch, labels, _ = generate_batch(data, index=0, n_batches=n_batches, seed=0, backend=backend, **BATCH)
    return batch.reshape(-1), labels.reshape(-1)


def numpy_batches(data, n_batches):
    batch, labels = numpy_generate_batches(data, n_batches, index=0, rng=np.random.default_rng(0), **BATCH)
    return batch, labels, data


def tutorial_batches():
    def run(data, n_batches):
        # the tutorial's data is a Python list; give it the part these batches read as one
        per = BATCH["batch_size"] // BATCH["num_skips"]
        data = data[: n_batches * per + 2 * BATCH["skip_window"] + 2].tolist()
        index, bs, ls = 0, [], []
        for _ in range(n_batches):
            batch, labels, index = tutorial_generate_batch(data, index, **BATCH, backtrack=True)
            bs.append(batch)
            ls.append(labels[:, 0])
        return np.concatenate(bs), np.concatenate(ls)

    return run


def sampler_inputs(n, k=5, corpus="zipf", n_tokens=0, n_words=50_000):
    counts = corpus_and_counts(corpus, n_tokens)[1]
    counts = np.sort(counts)[::-1][:n_words] if corpus == "zipf" else counts
    return NegativeSampler(counts), n, k


def subsample_inputs(corpus="zipf", n_tokens=0):
    c, counts = corpus_and_counts(corpus, n_tokens)
    return c, keep_probability(counts, 1e-3)


def fk_subsample(corpus, keep, backend):
    kept = subsample(corpus, keep, seed=0, backend=backend)
    return kept.ids, kept.offsets


def log_uniform_inputs(num_sampled, range_max=50_000, unique=True):
    true = np.random.default_rng(0).integers(0, range_max, (128, 1))  # the tutorial's batch of labels
    return true, num_sampled, range_max, unique
