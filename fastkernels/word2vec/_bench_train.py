"""Benchmark case of word2vec training (:class:`~.model.Word2Vec`), registered by :mod:`._bench`.

One epoch of skip-gram with negative sampling (gensim's defaults: 100 dimensions, window 5,
5 noise words, sample 1e-3) on a prefix of gensim's ``head500`` corpus (or a synthetic corpus
without gensim). The baseline is the straightforward NumPy loop (:mod:`._train_reference`: a
few vector operations per example), so the corpus is a prefix the loop trains in seconds; the
peer is gensim 4 with the same hyperparameters and thread count (``workers`` = the run's
threads). Each timed call trains from the same initial vectors.

The whole-corpus comparison with gensim (words/s at equal quality, wordsim353 and SimLex-999
Spearman, two seeds) is ``python -m fastkernels.word2vec._bench_train [head500|zipf] [workers]
[epochs]`` (minutes).
"""

from __future__ import annotations

import sys
import time

import numba
import numpy as np

from ..bench.registry import Case, register
from . import _bench_inputs as inp
from ._train_reference import train_epoch_reference
from .model import Word2Vec

#: gensim's defaults but skip-gram; one epoch per timed call.
PARAMS = dict(vector_size=100, window=5, negative=5, sample=1e-3, sg=1, epochs=1, alpha=0.025, min_alpha=1e-4)


def _sentences(corpus="synthetic", n_sentences=0):
    if corpus == "head500":
        with open(inp.head500_path(), encoding="utf8") as f:
            return [line.split() for line in f][:n_sentences]
    rng = np.random.default_rng(0)  # topics of 12 words each, 12-word sentences
    words = [[f"t{k}w{i}" for i in range(12)] for k in range(4)]
    return [list(rng.choice(words[rng.integers(4)], 12)) for _ in range(n_sentences)]


class _State:
    """The prepared run: a model with its vocabulary and initial vectors, the encoded corpus."""

    def __init__(self, corpus, n_sentences, min_count):
        self.sentences = _sentences(corpus, n_sentences)
        self.model = Word2Vec(None, **PARAMS, min_count=min_count, seed=1, progress=False)
        self.corpus = self.model.build_vocab(self.sentences)
        self.init = self.model.vectors.copy()
        self.min_count = min_count

    def reset(self, workers):
        m = self.model
        m.vectors[:] = self.init
        m.syn1neg[:] = 0.0
        m._epochs_trained = 0
        m.epoch_losses = []
        m.workers = workers
        return m


def make_inputs(corpus="synthetic", n_sentences=0, min_count=1):
    return (_State(corpus, n_sentences, min_count),)


def fk_train(state, backend):
    workers = 1 if backend == "cpu" else numba.get_num_threads()
    m = state.reset(workers)
    m.train(state.corpus)
    return "fastkernels", workers, m.vectors.copy(), state.init


def numpy_train(state):
    m = state.reset(1)
    syn0, syn1 = state.init.copy(), np.zeros_like(state.init)
    skey, wkey, nkey = m._epoch_keys(0)
    c = state.corpus
    train_epoch_reference(c.ids, c.offsets, m._keep, m.sample > 0, syn0, syn1, m._sampler.table, m.window,
                          m.negative, m.sg, m.cbow_mean, m.alpha, m.min_alpha, 0, c.n_tokens, skey, wkey, nkey)
    return "numpy", 1, syn0, state.init


def gensim_peer():
    """gensim 4 (Cython, BLAS), same hyperparameters and thread count; vocabulary built untimed."""
    from gensim.models import Word2Vec as GensimWord2Vec

    models = {}

    def train(state):
        key = id(state)
        if key not in models:
            g = GensimWord2Vec(**PARAMS, min_count=state.min_count, seed=1,
                               workers=numba.get_num_threads())
            g.build_vocab(state.sentences)
            models[key] = (g, g.wv.vectors.copy())
        g, init = models[key]
        g.wv.vectors[:] = init
        g.syn1neg[:] = 0.0
        g.train(state.sentences, total_examples=len(state.sentences), epochs=1)
        return "gensim", 0, g.wv.vectors.copy(), init

    return train


def check_training(out, ref):
    """The serial kernel reproduces the NumPy loop to float32 rounding; Hogwild (threads) moves the
    vectors as far as the loop does, and differs from it by much less than it moved them; gensim
    (its own draws and initial vectors) only has to be finite and trained."""
    who, workers, vectors, _ = out
    _, _, expect, init = ref
    if vectors.shape != expect.shape or not np.isfinite(vectors).all():
        raise AssertionError(f"{who}: vectors of shape {vectors.shape}, finite: {bool(np.isfinite(vectors).all())}")
    if who == "gensim":
        return
    if workers == 1:
        np.testing.assert_allclose(vectors, expect, rtol=0, atol=1e-5)
        return
    moved = np.linalg.norm(expect - init)
    apart = np.linalg.norm(vectors - expect)
    if not apart < 0.5 * moved:
        raise AssertionError(f"Hogwild vectors {apart:.3g} from the serial loop's, which moved {moved:.3g}")


def _work(corpus="synthetic", n_sentences=0, min_count=1):
    return {"words": sum(len(s) for s in _sentences(corpus, n_sentences))}


def _label(corpus="synthetic", n_sentences=0, min_count=1):
    name = "head500 (gensim)" if corpus == "head500" else "synthetic topics"
    return f"{name}, {n_sentences} sentences, skip-gram, 1 epoch"


_HEAD = inp.head500_path() is not None
register(Case(
    name="word2vec_train",
    area="word2vec",
    description="skip-gram negative-sampling training, one epoch (gensim's hyperparameters) vs the NumPy "
                "per-example loop and gensim",
    make_inputs=make_inputs,
    kernel=fk_train,
    baseline=numpy_train,
    sizes={"test": [dict(n_sentences=40)],
           "quick": [dict(corpus="head500", n_sentences=4, min_count=2)] if _HEAD else [dict(n_sentences=1000)],
           "full": [dict(corpus="head500", n_sentences=20, min_count=5)] if _HEAD else [dict(n_sentences=5000)]},
    label=_label,
    peers={"gensim": gensim_peer},
    check=check_training,
    work=_work,
))


def _zipf_sentences(n_tokens):
    ids, offsets, words = inp.zipf_corpus(n_tokens)
    tokens = np.array(words, dtype=object)[ids].tolist()
    return [tokens[a:b] for a, b in zip(offsets[:-1], offsets[1:])]


def compare_gensim(corpus="head500", seeds=(1, 2), workers=None, epochs=5, n_tokens=10_000_000, log=print):
    """Whole-corpus training, fastkernels against gensim at the same hyperparameters (skip-gram,
    ``epochs`` epochs, ``workers`` threads): mean raw words/s over ``seeds`` and, on ``head500``,
    wordsim353 / SimLex-999 Spearman (scored by gensim's evaluator for both). ``corpus="zipf"``:
    the synthetic ``n_tokens`` Zipf corpus (speed only: its words mean nothing). Returns
    ``{name: (words/s, wordsim353, simlex999)}`` (NaN scores for zipf)."""
    from gensim.models import KeyedVectors
    from gensim.models import Word2Vec as GensimWord2Vec
    from gensim.test.utils import datapath

    workers = workers or numba.get_num_threads()
    sentences = _sentences("head500", 500) if corpus == "head500" else _zipf_sentences(n_tokens)
    raw = sum(len(s) for s in sentences)
    kw = dict(PARAMS, epochs=epochs, min_count=5, workers=workers)

    def quality(words, vectors):
        if corpus != "head500":
            return (np.nan, np.nan)
        kv = KeyedVectors(vectors.shape[1])
        kv.add_vectors(words, vectors)
        return (kv.evaluate_word_pairs(datapath("wordsim353.tsv"))[1][0],
                kv.evaluate_word_pairs(datapath("simlex999.txt"))[1][0])

    Word2Vec(sentences[:20], **dict(kw, epochs=1, min_count=1), progress=False)  # compile
    rows = {"gensim": [], "fastkernels": []}
    for seed in seeds:
        g = GensimWord2Vec(**kw, seed=seed)
        g.build_vocab(sentences)
        t = time.perf_counter()
        g.train(sentences, total_examples=len(sentences), epochs=epochs)
        rows["gensim"].append((raw * epochs / (time.perf_counter() - t), *quality(g.wv.index_to_key, g.wv.vectors)))
        m = Word2Vec(None, **kw, seed=seed, progress=False)
        encoded = m.build_vocab(sentences)
        t = time.perf_counter()
        m.train(encoded)
        rows["fastkernels"].append((raw * epochs / (time.perf_counter() - t), *quality(m.vocab.words, m.vectors)))
    out = {k: tuple(np.mean(v, axis=0)) for k, v in rows.items()}
    for k, (wps, ws, sl) in out.items():
        log(f"{k:12s} {wps / 1e3:7.0f}k words/s  wordsim353 {ws:.3f}  simlex999 {sl:.3f}")
    log(f"{corpus} ({raw:,} tokens): fastkernels / gensim words/s {out['fastkernels'][0] / out['gensim'][0]:.2f}x "
        f"({workers} threads, {epochs} epochs, mean of seeds {list(seeds)})")
    return out


if __name__ == "__main__":  # python -m fastkernels.word2vec._bench_train [head500|zipf] [workers] [epochs]
    args = sys.argv[1:]
    compare_gensim(args[0] if args else "head500", workers=int(args[1]) if len(args) > 1 else None,
                   epochs=int(args[2]) if len(args) > 2 else 5)
