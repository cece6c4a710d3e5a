"""word2vec CUDA kernels under the simulator: element-for-element equal to the CPU backend
(the counter-based streams make the draws identical)."""

import numpy as np
import pytest
from numba import cuda

from fastkernels.word2vec import Corpus, NegativeSampler, cbow_windows, skipgram_pairs, subsample


def _corpus(rng, lengths=(5, 0, 40, 1, 27, 3)):
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return Corpus(rng.integers(0, 15, offsets[-1]), offsets)


@pytest.mark.parametrize("shrink", [True, False])
def test_pairs_and_cbow_match_cpu(shrink, rng, threads_per_block):
    corpus = _corpus(rng)
    for want, got in [(skipgram_pairs(corpus, 3, shrink_windows=shrink, seed=1, backend="cpu"),
                       skipgram_pairs(corpus, 3, shrink_windows=shrink, seed=1, backend="cuda")),
                      (cbow_windows(corpus, 3, shrink_windows=shrink, seed=1, backend="cpu"),
                       cbow_windows(corpus, 3, shrink_windows=shrink, seed=1, backend="cuda"))]:
        for a, b in zip(want, got):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(a, b)


def test_subsample_matches_cpu(rng, threads_per_block):
    corpus = _corpus(rng, lengths=(30, 0, 0, 45, 2))
    keep = rng.random(15)
    a = subsample(corpus, keep, seed=2, backend="cpu")
    b = subsample(corpus, keep, seed=2, backend="cuda")
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.offsets, b.offsets)


def test_negatives_match_cpu_with_and_without_exclusion(rng, threads_per_block):
    s = NegativeSampler(rng.integers(0, 50, 12))
    ex = rng.integers(0, 12, 40)
    for exclude in (None, ex, ex.astype(np.int32)):
        want = s.sample(40, 3, exclude=exclude, seed=3, start=5, backend="cpu")
        got = s.sample(40, 3, exclude=exclude, seed=3, start=5, backend="cuda")
        np.testing.assert_array_equal(want, got)
    # the alias table went to the device once and stays out of pickles
    import pickle

    assert hasattr(s._device_table, "copy_to_host")
    again = pickle.loads(pickle.dumps(s))
    assert not hasattr(again, "_device_table")
    np.testing.assert_array_equal(again.sample(40, 3, seed=3, backend="cuda"), s.sample(40, 3, seed=3, backend="cpu"))


def test_device_exclude_gives_device_result(rng):
    s = NegativeSampler([5, 3, 2, 1])
    ex = np.array([0, 1, 2, 3, 0])
    got = s.sample(5, 2, exclude=cuda.to_device(ex), seed=1)
    assert hasattr(got, "copy_to_host")
    np.testing.assert_array_equal(got.copy_to_host(), s.sample(5, 2, exclude=ex, seed=1, backend="cpu"))


def test_empty_inputs_on_cuda():
    c, x = skipgram_pairs(Corpus([]), 2, backend="cuda")
    assert c.size == x.size == 0
    assert skipgram_pairs(Corpus([1, 2], [0, 1, 2]), 2, backend="cuda")[0].size == 0
    kept = subsample(Corpus([], [0, 0]), np.ones(3), seed=0, backend="cuda")
    assert kept.n_tokens == 0 and kept.offsets.tolist() == [0, 0]
    assert cbow_windows(Corpus([]), 2, backend="cuda")[1].shape == (0, 4)
    assert NegativeSampler([1, 2]).sample(0, 3, backend="cuda").shape == (0, 3)
