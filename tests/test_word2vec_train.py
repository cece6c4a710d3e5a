"""word2vec training (fastkernels.word2vec.Word2Vec): the updates against finite differences, the
compiled epoch against the NumPy reference, planted clusters, reproducibility, Hogwild, bad input."""

import math

import numpy as np
import pytest
from numba import njit

from fastkernels.word2vec import Corpus, NegativeSampler, Vocabulary
from fastkernels.word2vec._sgns import SIGMOID, cbow_centre, draw_noise, sg_pair, sigmoid_clipped
from fastkernels.word2vec._train import epoch_kernels
from fastkernels.word2vec._train_reference import train_epoch_reference
from fastkernels.word2vec.model import Word2Vec


def _clusters(n_topics=4, per_topic=12, n_sent=600, length=12, seed=0):
    """Sentences each drawn from one topic's words: ``(sentences, topic of each word)``."""
    rng = np.random.default_rng(seed)
    words = [[f"t{k}w{i}" for i in range(per_topic)] for k in range(n_topics)]
    sentences = [list(rng.choice(words[rng.integers(n_topics)], length)) for _ in range(n_sent)]
    topic = {w: k for k in range(n_topics) for w in words[k]}
    return sentences, topic


def _top5_in_cluster(model, topic):
    v = model.vectors / np.linalg.norm(model.vectors, axis=1, keepdims=True)
    sim = v @ v.T
    np.fill_diagonal(sim, -np.inf)
    words = model.vocab.words
    hits = 0
    for i, w in enumerate(words):
        top = np.argsort(-sim[i])[:5]
        hits += sum(topic[words[j]] == topic[w] for j in top)
    return hits / (5 * len(words))


# ------------------------------------------------------------------ the updates
@njit
def _sg_once(syn0, syn1neg, table, centre, context, alpha, negative, work):
    noise = np.empty(max(negative, 1), np.int64)
    draw_noise(syn1neg, table, 12345, 0, negative, noise)
    return sg_pair(syn0, syn1neg, centre, context, alpha, negative, noise, work, True)


@njit
def _cbow_once(syn0, syn1neg, table, words, alpha, negative, mean, work):
    return cbow_centre(syn0, syn1neg, table, words, 0, words.size, 1, alpha, negative, 12345, mean, work,
                       np.empty(max(negative, 1), np.int64), True)


def _one_noise_table(v, word):
    """An alias table that always draws ``word`` (the noise words of the test are known)."""
    counts = np.zeros(v)
    counts[word] = 1.0
    return NegativeSampler(counts, ns_exponent=1.0).table


def _loss_sg(u, vc, vn, negative):
    return np.logaddexp(0, -u @ vc) + negative * np.logaddexp(0, u @ vn)


def _fd(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for k in range(x.size):
        e = np.zeros_like(x)
        e[k] = eps
        g[k] = (f(x + e) - f(x - e)) / (2 * eps)
    return g


# The updates use word2vec.c's sigmoid table (1000 entries over [-6, 6]): their error against the
# exact gradient is bounded by the table's step times the sigmoid's slope (1/4).
TABLE_ERR = 12.0 / 1000 * 0.25 + 1e-6


def test_sigmoid_table_is_word2vec_c():
    i = np.arange(1000)
    e = np.exp((i / 1000 * 2 - 1) * 6.0)
    np.testing.assert_allclose(SIGMOID, e / (e + 1), rtol=1e-6)


@pytest.mark.parametrize("negative", [1, 3])
def test_sg_pair_update_is_the_gradient(negative):
    rng = np.random.default_rng(1)
    d, alpha = 8, 1e-4
    syn0 = (rng.standard_normal((4, d)) * 0.3).astype(np.float32)
    syn1 = (rng.standard_normal((4, d)) * 0.3).astype(np.float32)
    centre, context, noise = 1, 2, 3
    table = _one_noise_table(4, noise)
    u, vc, vn = (x.astype(np.float64) for x in (syn0[context], syn1[centre], syn1[noise]))
    a0, a1 = syn0.copy(), syn1.copy()
    loss = _sg_once(syn0, syn1, table, centre, context, np.float32(alpha), negative, np.zeros((2, d), np.float32))
    assert loss == pytest.approx(_loss_sg(u, vc, vn, negative), rel=1e-5)
    gu = _fd(lambda x: _loss_sg(x, vc, vn, negative), u)
    gc = _fd(lambda x: _loss_sg(u, x, vn, negative), vc)
    gn = _fd(lambda x: _loss_sg(u, vc, x, negative), vn)
    scale = alpha * TABLE_ERR * (1 + negative) * max(np.abs(u).max(), np.abs(vc).max(), np.abs(vn).max())
    np.testing.assert_allclose((syn0[context] - a0[context]), -alpha * gu, atol=scale + 1e-9)
    np.testing.assert_allclose((syn1[centre] - a1[centre]), -alpha * gc, atol=scale + 1e-9)
    np.testing.assert_allclose((syn1[noise] - a1[noise]), -alpha * gn, atol=scale + 1e-9)
    # the other rows did not move
    np.testing.assert_array_equal(syn0[[0, 1, 3]], a0[[0, 1, 3]])
    np.testing.assert_array_equal(syn1[[0, 2]], a1[[0, 2]])


def test_sg_noise_word_equal_to_the_target_is_skipped():
    d = 4
    syn0 = np.full((3, d), 0.1, np.float32)
    syn1 = np.full((3, d), 0.2, np.float32)
    table = _one_noise_table(3, 1)  # every noise draw is the centre itself
    b0, b1 = syn0.copy(), syn1.copy()
    _sg_once(syn0, syn1, table, 1, 2, np.float32(0.1), 5, np.zeros((2, d), np.float32))
    # only the positive example: g = (1 - s(f)) alpha
    g = (1 - SIGMOID[int((4 * 0.02 + 6) * 1000 / 12)]) * np.float32(0.1)
    np.testing.assert_allclose(syn1[1], b1[1] + g * b0[2], rtol=1e-6)
    np.testing.assert_allclose(syn0[2], b0[2] + g * b1[1], rtol=1e-6)


def test_sigmoid_argument_is_clipped_not_skipped():
    """word2vec.c: beyond +-6 the sigmoid is 1 or 0 and the update still happens (gensim skips it)."""
    d = 2
    syn0 = np.array([[0, 0], [0, 0], [4.0, 0]], np.float32)
    syn1 = np.array([[0, 0], [-4.0, 0], [0, 0]], np.float32)  # f = -16: a wrong, confident prediction
    table = _one_noise_table(3, 0)
    _sg_once(syn0, syn1, table, 1, 2, np.float32(0.5), 0, np.zeros((2, d), np.float32))
    # g = (1 - 0) * 0.5: syn1[1] += 0.5 * syn0[2], syn0[2] += 0.5 * old syn1[1]
    np.testing.assert_allclose(syn1[1], [-2.0, 0.0])
    np.testing.assert_allclose(syn0[2], [2.0, 0.0])


@njit
def _sigmoid(f):
    return sigmoid_clipped(f)


def test_sigmoid_of_nan_and_inf_stays_in_the_table():
    """A diverging run feeds NaN dot products: the table is never indexed out of range."""
    assert _sigmoid(np.float32(np.nan)) == 0.0
    assert _sigmoid(np.float32(np.inf)) == 1.0 and _sigmoid(np.float32(-np.inf)) == 0.0
    assert _sigmoid(np.float32(5.999)) == SIGMOID[-1] and _sigmoid(np.float32(-5.999)) == SIGMOID[0]


@pytest.mark.parametrize("mean", [True, False])
def test_cbow_update_is_the_gradient(mean):
    rng = np.random.default_rng(2)
    d, alpha, negative = 6, 1e-4, 2
    syn0 = (rng.standard_normal((5, d)) * 0.3).astype(np.float32)
    syn1 = (rng.standard_normal((5, d)) * 0.3).astype(np.float32)
    words = np.array([0, 1, 2], np.int32)  # centre words[1] = 1, contexts 0 and 2
    noise = 4
    table = _one_noise_table(5, noise)
    ctx = syn0[[0, 2]].astype(np.float64)
    vc, vn = syn1[1].astype(np.float64), syn1[noise].astype(np.float64)

    def h_of(c0, c2):
        h = c0 + c2
        return h / 2 if mean else h

    def loss(c0, c2, vc_, vn_):
        h = h_of(c0, c2)
        return np.logaddexp(0, -h @ vc_) + negative * np.logaddexp(0, h @ vn_)

    b0, b1 = syn0.copy(), syn1.copy()
    got = _cbow_once(syn0, syn1, table, words, np.float32(alpha), negative, mean, np.zeros((2, d), np.float32))
    assert got == pytest.approx(loss(ctx[0], ctx[1], vc, vn), rel=1e-4)  # the 2nd noise term sees the 1st update
    g0 = _fd(lambda x: loss(x, ctx[1], vc, vn), ctx[0])
    gc = _fd(lambda x: loss(ctx[0], ctx[1], x, vn), vc)
    tol = alpha * TABLE_ERR * 3 * 2 * max(np.abs(ctx).max(), np.abs(vc).max(), np.abs(vn).max()) + 1e-9
    # word2vec.c / gensim: each context vector moves by the error with respect to h (the mean's 1/2
    # is not applied to it; gensim's sum mode divides the error by the count instead)
    expect0 = -alpha * g0 * (2 if mean else 1) / (1 if mean else 2)
    np.testing.assert_allclose(syn0[0] - b0[0], expect0, atol=tol)
    np.testing.assert_allclose(syn0[2] - b0[2], syn0[0] - b0[0], atol=1e-7)  # the same error (float32 sums)
    np.testing.assert_allclose(syn1[1] - b1[1], -alpha * gc, atol=tol)


# ------------------------------------------------------------------ the epoch against NumPy
@pytest.mark.parametrize("sg, sample, mean", [(1, 0.0, 1), (1, 1e-2, 1), (0, 1e-2, 1), (0, 0.0, 0)])
def test_epoch_equals_numpy_reference(sg, sample, mean):
    sentences, _ = _clusters(n_sent=40, length=9, seed=3)
    model = Word2Vec(None, vector_size=8, window=3, negative=3, min_count=1, sample=sample, sg=sg, cbow_mean=mean,
                     epochs=1, workers=1, seed=5, compute_loss=True, progress=False)
    corpus = model.build_vocab(sentences)
    syn0, syn1 = model.vectors.copy(), model.syn1neg.copy()
    skey, wkey, nkey = model._epoch_keys(0)
    ref_loss, ref_kept, ref_ex = train_epoch_reference(
        corpus.ids, corpus.offsets, model._keep, sample > 0, syn0, syn1, model._sampler.table, 3, 3, sg, mean,
        0.025, 1e-4, 0, corpus.n_tokens, skey, wkey, nkey, loss=True)
    trained, raw = model.train(corpus)
    assert raw == corpus.n_tokens and trained == ref_kept
    if sample:
        assert trained < raw
    np.testing.assert_allclose(model.vectors, syn0, rtol=0, atol=2e-6)
    np.testing.assert_allclose(model.syn1neg, syn1, rtol=0, atol=2e-6)
    assert model.epoch_losses[0] == pytest.approx(ref_loss / ref_ex, rel=1e-5)


def test_split_sentences_train_as_separate_sentences():
    """A sentence longer than max_sentence_length is cut into pieces (windows never cross a cut),
    not truncated: the same as training on the pieces given as sentences."""
    rng = np.random.default_rng(4)
    vocab = Vocabulary([f"w{i}" for i in range(10)], np.arange(10, 0, -1))
    ids = rng.integers(0, 10, 25).astype(np.int32)
    kw = dict(vocab=vocab, vector_size=4, window=4, negative=2, sample=0, sg=1, epochs=1, workers=1, seed=2,
              progress=False)
    a = Word2Vec(None, max_sentence_length=10, **kw)
    a.train(Corpus(ids))
    b = Word2Vec(None, **kw)
    b.train(Corpus(ids, [0, 10, 20, 25]))
    c = Word2Vec(None, **kw)
    c.train(Corpus(ids))
    np.testing.assert_array_equal(a.vectors, b.vectors)
    assert not np.array_equal(a.vectors, c.vectors)


# ------------------------------------------------------------------ the model
@pytest.fixture(scope="module")
def clusters():
    return _clusters()


@pytest.mark.parametrize("sg", [1, 0])
def test_planted_clusters_are_found(clusters, sg):
    sentences, topic = clusters
    model = Word2Vec(sentences, vector_size=16, window=4, min_count=1, sample=0, sg=sg, epochs=5, workers=1,
                     seed=1, compute_loss=True, progress=False)
    assert _top5_in_cluster(model, topic) >= 0.9
    assert model.epoch_losses[-1] < model.epoch_losses[0]
    assert all(np.isfinite(model.epoch_losses))


def test_workers_1_is_bit_reproducible_and_seeded(clusters):
    sentences, _ = clusters
    kw = dict(vector_size=8, window=3, min_count=1, sg=1, epochs=2, workers=1, progress=False)
    a = Word2Vec(sentences, seed=3, **kw)
    b = Word2Vec(sentences, seed=3, **kw)
    c = Word2Vec(sentences, seed=4, **kw)
    np.testing.assert_array_equal(a.vectors, b.vectors)
    np.testing.assert_array_equal(a.syn1neg, b.syn1neg)
    assert not np.array_equal(a.vectors, c.vectors)


def test_hogwild_matches_serial_statistically(clusters):
    sentences, topic = clusters
    kw = dict(vector_size=16, window=4, min_count=1, sample=0, sg=1, epochs=3, seed=1, compute_loss=True,
              progress=False)
    one = Word2Vec(sentences, workers=1, **kw)
    two = Word2Vec(sentences, workers=2, **kw)
    assert two.epoch_losses[-1] == pytest.approx(one.epoch_losses[-1], rel=0.05)
    assert _top5_in_cluster(two, topic) >= 0.9


def test_train_continues_and_drops_unknown_words(clusters):
    sentences, _ = clusters
    model = Word2Vec(sentences[:100], vector_size=8, min_count=1, epochs=1, workers=1, seed=1, progress=False)
    before = model.vectors.copy()
    calls = []

    class CB:
        def on_epoch_end(self, m):
            calls.append(m._epochs_trained)

    trained, raw = model.train([s + ["never-seen"] for s in sentences[100:110]], epochs=2, callbacks=[CB()])
    assert raw == 2 * sum(w in model.vocab for s in sentences[100:110] for w in s)  # unknown words dropped
    assert calls == [2, 3] and len(model.epoch_losses) == 3
    assert not np.array_equal(before, model.vectors)


def test_initial_vectors_are_gensims_range():
    model = Word2Vec(None, vocab=Vocabulary(["a", "b", "c"], [3, 2, 1]), vector_size=50, progress=False)
    assert model.vectors.dtype == np.float32 and model.vectors.shape == (3, 50)
    assert np.abs(model.vectors).max() <= 1 / 50 and np.abs(model.vectors).max() > 0.9 / 50  # gensim 4: [-1, 1) / d
    assert not model.syn1neg.any()


@pytest.mark.parametrize("kw, match", [
    (dict(vector_size=0), "vector_size"), (dict(window=0), "window"), (dict(negative=0), "negative"),
    (dict(negative=-1), "negative"), (dict(alpha=0.0), "alpha"), (dict(min_alpha=0.5), "min_alpha"),
    (dict(epochs=0), "epochs"), (dict(workers=0), "workers"), (dict(sample=-1e-3), "sample"),
    (dict(min_count=0), "min_count"), (dict(sg=2), "sg"), (dict(alpha=math.nan), "alpha"),
    (dict(max_sentence_length=0), "max_sentence_length"), (dict(progress="yes"), "progress"),
    (dict(backend="gpu"), "backend"), (dict(backend=None), "backend"),
])
def test_bad_options_raise_naming_them(kw, match):
    with pytest.raises((ValueError, TypeError), match=match):
        Word2Vec([["a", "b"]], min_count=kw.pop("min_count", 1), **kw)


def test_bad_input_leaves_the_model_unchanged(clusters):
    sentences, _ = clusters
    model = Word2Vec(sentences[:50], vector_size=8, min_count=1, epochs=1, workers=1, seed=1, progress=False)
    snap = (model.vectors.copy(), model.syn1neg.copy(), list(model.epoch_losses))
    with pytest.raises(ValueError, match="no word of the vocabulary"):
        model.train([["unknown", "words"]])
    with pytest.raises(ValueError, match="epochs"):
        model.train(sentences[:5], epochs=0)
    with pytest.raises(TypeError, match="callbacks"):
        model.train(sentences[:5], callbacks=[object()])
    with pytest.raises(ValueError, match="outside the vocabulary"):
        model.train(Corpus(np.array([0, 10_000], np.int32)))
    np.testing.assert_array_equal(model.vectors, snap[0])
    np.testing.assert_array_equal(model.syn1neg, snap[1])
    assert model.epoch_losses == snap[2]
    with pytest.raises(ValueError, match="empty"):
        Word2Vec([["a", "b"]], min_count=5)
    with pytest.raises(ValueError, match="vocab="):
        Word2Vec(Corpus(np.array([0, 1], np.int32)))
    with pytest.raises(ValueError, match="no vocabulary"):
        Word2Vec(None).train([["a"]])


def test_backend_choice(clusters):
    """"cpu" is the serial kernel whatever ``workers``; "auto" follows ``workers`` on a corpus of more
    than one thread chunk (serial on one: nothing to share); "cuda" without a GPU fails before
    anything is read or built."""
    sentences, _ = clusters
    kw = dict(vector_size=8, window=3, min_count=1, sg=1, epochs=1, seed=2, progress=False)
    serial = Word2Vec(sentences[:60], workers=1, **kw)
    forced = Word2Vec(sentences[:60], workers=2, backend="cpu", **kw)
    np.testing.assert_array_equal(serial.vectors, forced.vectors)
    from fastkernels.word2vec._train import CHUNK_TOKENS

    big = CHUNK_TOKENS + 1
    assert forced._backend(big) == "cpu" and Word2Vec(workers=2)._backend(big) == "parallel"
    assert Word2Vec(workers=2)._backend(CHUNK_TOKENS) == "cpu"
    assert Word2Vec(workers=1, backend="parallel")._backend(10) == "parallel"
    # why "auto" may run one chunk serially: the parallel kernel's run of it is the serial one's
    # (one thread takes the only chunk; no Hogwild race). Within float32 rounding, not to the bit:
    # the two builds may vectorise the fastmath dot products differently on another ISA.
    assert sum(len(x) for x in sentences[:60]) <= CHUNK_TOKENS
    par = Word2Vec(sentences[:60], workers=2, backend="parallel", **kw)
    np.testing.assert_allclose(par.vectors, serial.vectors, rtol=1e-5, atol=1e-6)
    from fastkernels._backend import cuda_available

    if not cuda_available():
        from fastkernels import BackendUnavailableError

        with pytest.raises(BackendUnavailableError, match="cuda"):
            Word2Vec(sentences[:60], backend="cuda", **kw)


def test_serial_and_parallel_kernels_of_both_architectures_share_one_body():
    codes = {k.py_func.__code__.co_code for pair in epoch_kernels for k in pair}
    assert len(epoch_kernels) == 2 and len(codes) == 1
    # each architecture binds its own sentence loop, compiled with only its branch
    sentences = [pair[0].py_func.__globals__["_sentence"] for pair in epoch_kernels]
    assert [f.py_func.__globals__["_SG"] for f in sentences] == [False, True]


def test_threads_take_chunks_in_turn_and_cover_every_sentence_once():
    """The epoch cuts the sentences into chunks (about CHUNK_TOKENS tokens) and thread ``k`` of ``nt``
    trains chunks ``k, k + nt, ...``: run serially with ``nt = 3`` (stripes one after another),
    every sentence is trained exactly once (the same survivors and examples as ``nt = 1``)."""
    from fastkernels.word2vec.model import _call_cuts

    sentences, _ = _clusters(n_sent=60, length=9, seed=3)
    model = Word2Vec(None, vector_size=8, window=3, negative=3, min_count=1, sg=1, epochs=1, workers=1, seed=5,
                     progress=False)
    corpus = model.build_vocab(sentences)
    serial = epoch_kernels[1][0]  # skip-gram, serial build
    chunks = _call_cuts(corpus.offsets, 40)
    assert chunks.size > 4
    runs = []
    for nt in (1, 3):
        syn0, syn1 = model.vectors.copy(), model.syn1neg.copy()
        loss_out = np.zeros(corpus.n_sentences)
        kept_out = np.zeros((corpus.n_sentences, 2), np.int64)
        skey, wkey, nkey = model._epoch_keys(0)
        serial(corpus.ids, corpus.offsets, chunks, nt, model._keep, False, syn0, syn1, model._sampler.table, 3, 3,
               True, 0.025, 1e-4, 0, corpus.n_tokens, skey, wkey, nkey, False, loss_out, kept_out)
        runs.append((kept_out, syn0))
    np.testing.assert_array_equal(runs[0][0], runs[1][0])
    np.testing.assert_array_equal(runs[0][0][:, 0], np.diff(corpus.offsets))  # no subsampling: every token
    assert not np.array_equal(runs[0][1], runs[1][1])  # another order of the same examples
