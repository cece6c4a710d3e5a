"""word2vec training on the GPU: with one block (items in item order, the CPU's order) the vectors
equal the serial CPU run's up to the float32 summation order of the dot products, and the per-epoch
loss and counts agree. Several blocks race Hogwild on a real GPU (the simulator runs them in turn)."""

import numpy as np
import pytest

from fastkernels import _launch
from fastkernels.word2vec import Word2Vec
from fastkernels.word2vec import _train_cuda


def _sentences(rng, lengths=(9, 0, 17, 1, 6)):
    words = [f"w{i}" for i in range(12)]
    p = 1.0 / np.arange(1, 13)
    p /= p.sum()
    return [list(rng.choice(words, size=k, p=p)) for k in lengths]


@pytest.fixture(autouse=True)
def small_teams(monkeypatch):
    """Teams of 8 threads (the simulator runs each as a Python thread) and items of 4 centres
    (several per sentence: windows reach across item edges)."""
    monkeypatch.setattr(_train_cuda, "TEAM", 8)
    monkeypatch.setattr(_train_cuda, "CHUNK", 4)


@pytest.mark.parametrize("sg, cbow_mean, d, team, sample, epochs",
                         [(1, 1, 8, 32, 0.0, 1), (1, 1, 20, 8, 0.05, 2), (0, 1, 20, 8, 0.0, 1), (0, 0, 5, 8, 0.05, 2)],
                         ids=["sg-d8-warp", "sg-d20-sample", "cbow-mean", "cbow-sum-sample"])
def test_training_matches_serial_cpu(sg, cbow_mean, d, team, sample, epochs, rng, monkeypatch):
    monkeypatch.setattr(_train_cuda, "TEAM", team)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 1)  # one block walks the items in order, as the CPU
    sentences = _sentences(rng)
    kw = dict(vector_size=d, window=3, min_count=1, sg=sg, cbow_mean=cbow_mean, negative=3, sample=sample,
              epochs=epochs, seed=5, compute_loss=True, progress=False)
    cpu = Word2Vec(sentences, backend="cpu", **kw)
    gpu = Word2Vec(sentences, backend="cuda", **kw)
    assert cpu.vocab.words == gpu.vocab.words
    np.testing.assert_allclose(gpu.vectors, cpu.vectors, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu.syn1neg, cpu.syn1neg, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(gpu.epoch_losses, cpu.epoch_losses, rtol=1e-5)
    assert np.abs(gpu.syn1neg).max() > 0  # it trained


def test_many_items_per_block_and_continued_training(rng, monkeypatch):
    """Grid-stride over items (fewer blocks than items) reorders the updates as Hogwild does: the
    result stays close to the CPU's, and train() continues on the device-trained vectors."""
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 2)
    sentences = _sentences(rng)
    kw = dict(vector_size=8, window=2, min_count=1, sg=1, negative=2, epochs=1, seed=3, progress=False)
    cpu = Word2Vec(sentences, backend="cpu", **kw)
    gpu = Word2Vec(sentences, backend="cuda", **kw)
    assert np.isfinite(gpu.vectors).all()
    np.testing.assert_allclose(gpu.vectors, cpu.vectors, atol=0.05)
    before = gpu.vectors.copy()
    trained, raw = gpu.train(sentences[:3], epochs=1)
    assert raw == sum(len(s) for s in sentences[:3]) and trained > 0
    assert not np.array_equal(before, gpu.vectors)


def test_callbacks_see_the_device_vectors(rng):
    seen = []

    class Snapshot:
        def on_epoch_end(self, model):
            seen.append(model.vectors.copy())

    sentences = _sentences(rng)
    m = Word2Vec(sentences[:3], vector_size=8, window=2, min_count=1, sg=0, negative=2, epochs=2, seed=3,
                 progress=False, backend="cuda", callbacks=[Snapshot()])
    assert len(seen) == 2 and not np.array_equal(seen[0], seen[1])
    np.testing.assert_array_equal(seen[1], m.vectors)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the simulator runs the overflow in NumPy
def test_divergence_is_undone(rng):
    sentences = _sentences(rng)
    m = Word2Vec(vector_size=8, window=2, min_count=1, sg=1, negative=2, epochs=1, seed=3, progress=False,
                 backend="cuda")
    m.build_vocab(sentences)
    before = m.vectors.copy()
    with pytest.raises(ValueError, match="diverged"):
        m.train(sentences, alpha=1e38, min_alpha=1e38)
    np.testing.assert_array_equal(m.vectors, before)
