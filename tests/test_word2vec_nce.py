"""The TF tutorial's NCE model (:mod:`fastkernels.word2vec.nce`): its loss and update against a
NumPy reference with finite differences, the tutorial's loss curve, continuation and bad input."""

import numpy as np
import pytest

from fastkernels._random import stream_key
from fastkernels.word2vec import NCEWord2Vec, Vocabulary, generate_batch
from fastkernels.word2vec import nce as nce_mod
from fastkernels.word2vec._train_reference import nce_loss_reference
from fastkernels.word2vec.sampling import log_uniform_unique


def _log_uniform_ids(v, n, seed=0):
    """Ids distributed as the log-uniform sampler assumes (a frequency-sorted Zipfian corpus)."""
    u = np.random.default_rng(seed).random(n)
    return np.clip(np.exp(u * np.log(v + 1.0)).astype(np.int64) - 1, 0, v - 1)


def _step_inputs(model, data, step, batch_size, num_skips, skip_window, num_sampled):
    """The batch and the sample set the model's step ``step`` uses (the same draws, from Python)."""
    v = model.embeddings.shape[0]
    seed = int(stream_key(model._key, nce_mod._BATCH)) & ((1 << 63) - 1)
    batch, labels, _ = generate_batch(data, batch_size, num_skips, skip_window, 0, n_batches=step + 1, seed=seed)
    x, y = batch[step].astype(np.int64), labels[step, :, 0].astype(np.int64)
    sampled = np.empty(num_sampled, np.int64)
    seen = np.full(1 << max(4, (2 * num_sampled - 1).bit_length()), -1, np.int64)
    tries = log_uniform_unique(stream_key(stream_key(model._key, nce_mod._NCE), step), v, sampled, seen)

    def logq(c):
        p = np.log1p(1.0 / (np.asarray(c, np.float64) + 1.0)) / np.log(v + 1.0)
        return np.log(p * num_sampled if tries == num_sampled else -np.expm1(tries * np.log1p(-p)))

    return x, y, sampled, logq(y), logq(sampled)


def test_loss_and_update_match_numpy_and_finite_differences():
    v, d, bsz, ns = 30, 4, 8, 5
    data = _log_uniform_ids(v, 200, seed=1)
    model = NCEWord2Vec(v, d, seed=3)
    model.embeddings *= 0.3  # moderate logits: the finite differences stay accurate
    params = [model.embeddings.astype(np.float64), model.nce_weights.astype(np.float64),
              model.nce_biases.astype(np.float64)]
    x, y, sampled, lq_true, lq_s = _step_inputs(model, data, 0, bsz, 2, 1, ns)

    def loss(p):
        return nce_loss_reference(p[0], p[1], p[2], x, y, sampled, lq_true, lq_s)

    lr = 1e-2
    got = model.train(data, 1, batch_size=bsz, num_skips=2, skip_window=1, num_sampled=ns, learning_rate=lr)
    assert got[0] == pytest.approx(loss(params), rel=1e-5)
    h = 1e-6
    for p, new in zip(params, (model.embeddings, model.nce_weights, model.nce_biases)):
        grad = np.zeros_like(p)
        flat, g = p.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            old = flat[i]
            flat[i] = old + h
            up = loss(params)
            flat[i] = old - h
            down = loss(params)
            flat[i] = old
            g[i] = (up - down) / (2 * h)
        np.testing.assert_allclose(new, p - lr * grad, atol=2e-6)  # SGD on the rows the batch used, only


def test_initial_loss_and_curve_follow_the_tutorial():
    """The tutorial prints 288.3 at step 0 (text8, V = 50 000, d = 128, 64 samples); on Zipfian ids
    the digest's NumPy re-implementation gives 255-325. The loss then falls steeply (113 at 2000)."""
    v = 50_000
    data = _log_uniform_ids(v, 200_000)
    model = NCEWord2Vec(v, seed=1)
    first = model.train(data, 20)
    assert 255 <= first[0] <= 325 and 200 <= first.mean() <= 350
    small = NCEWord2Vec(2000, 32, seed=1)
    losses = small.train(_log_uniform_ids(2000, 100_000), 600, num_sampled=16)
    curve = NCEWord2Vec.average_losses(losses, every=200)
    assert [s for s, _ in curve] == [0, 200, 400]
    assert curve[2][1] < 0.5 * curve[0][1]


def test_continuation_and_seed():
    v = 200
    data = _log_uniform_ids(v, 5000)
    a = NCEWord2Vec(v, 16, seed=4)
    la = np.concatenate([a.train(data, 7, num_sampled=8), a.train(data, 5, num_sampled=8)])
    b = NCEWord2Vec(v, 16, seed=4)
    lb = b.train(data, 12, num_sampled=8)
    np.testing.assert_array_equal(la, lb)
    np.testing.assert_array_equal(a.embeddings, b.embeddings)
    assert a.step == b.step == 12 and a.index == b.index == 12 * 64
    c = NCEWord2Vec(v, 16, seed=5)
    assert not np.array_equal(c.train(data, 12, num_sampled=8), lb)


def test_calls_longer_than_one_chunk(monkeypatch):
    monkeypatch.setattr(nce_mod, "_CALL_STEPS", 3)
    data = _log_uniform_ids(100, 3000)
    a = NCEWord2Vec(100, 8, seed=2)
    la = a.train(data, 10, num_sampled=4)
    monkeypatch.setattr(nce_mod, "_CALL_STEPS", 2000)
    b = NCEWord2Vec(100, 8, seed=2)
    np.testing.assert_array_equal(la, b.train(data, 10, num_sampled=4))


def test_initial_parameters():
    m = NCEWord2Vec(1000, 64, seed=1)
    assert m.embeddings.dtype == m.nce_weights.dtype == np.float32
    assert -1 <= m.embeddings.min() < -0.99 and 0.99 < m.embeddings.max() < 1
    assert np.abs(m.nce_weights).max() <= 2 / 8 and m.nce_weights.std() == pytest.approx(0.88 / 8, rel=0.05)
    assert not m.nce_biases.any()


def test_average_losses_is_the_tutorials_printout():
    losses = np.arange(7.0)
    assert NCEWord2Vec.average_losses(losses, every=3) == [(0, 0.0), (3, 2.0), (6, 5.0)]


def test_wv_needs_a_vocabulary():
    vocab = Vocabulary(["a", "b", "c", "d"], [4, 3, 2, 1])
    m = NCEWord2Vec(vocab, 4, seed=1)
    m.train(np.array([0, 1, 2, 3, 0, 1, 0, 2] * 4), 3, batch_size=4, num_sampled=2)
    assert m.wv["a"].shape == (4,) and np.shares_memory(m.wv.vectors, m.embeddings)
    with pytest.raises(ValueError, match="Vocabulary"):
        NCEWord2Vec(4, 4).wv


@pytest.mark.bad_input
@pytest.mark.parametrize("call, match", [
    (lambda m, d: m.train(np.array([0, 1, 50, 2]), 1, batch_size=2, num_sampled=2), "data"),
    (lambda m, d: m.train(np.array([0, 1, -1, 2]), 1, batch_size=2, num_sampled=2), "data"),
    (lambda m, d: m.train(d, 1, num_sampled=11), "num_sampled"),
    (lambda m, d: m.train(d, 0, num_sampled=3), "num_steps"),
    (lambda m, d: m.train(d, 1, num_sampled=3, learning_rate=0.0), "learning_rate"),
    (lambda m, d: m.train(d, 1, num_sampled=3, learning_rate=np.nan), "learning_rate"),
    (lambda m, d: m.train(d, 1, batch_size=3, num_skips=2, num_sampled=3), "batch_size"),
    (lambda m, d: m.train(d.astype(float), 1, num_sampled=3), "data"),
])
def test_bad_input_raises_and_leaves_the_model_unchanged(call, match):
    data = _log_uniform_ids(10, 500)
    m = NCEWord2Vec(10, 4, seed=1)
    m.train(data, 2, batch_size=8, num_sampled=3)
    before = [m.embeddings.copy(), m.nce_weights.copy(), m.nce_biases.copy(), m.step, m.index]
    with pytest.raises((ValueError, TypeError), match=match):
        call(m, data)
    for a, b in zip(before[:3], (m.embeddings, m.nce_weights, m.nce_biases)):
        np.testing.assert_array_equal(a, b)
    assert (m.step, m.index) == tuple(before[3:])


@pytest.mark.bad_input
@pytest.mark.parametrize("args, match", [((0,), "vocabulary_size"), ((10, 0), "embedding_size"),
                                         ((1.5,), "vocabulary_size"), ((10, 2**40), "embedding_size")])
def test_bad_construction(args, match):
    with pytest.raises((ValueError, TypeError), match=match):
        NCEWord2Vec(*args)
