"""The word2vec benchmark cases are registered (tests/test_bench.py validates and times every case) and
their NumPy baselines and checks agree with the kernels' semantics."""

import numpy as np
import pytest

from fastkernels.bench.registry import _CASES
from fastkernels.word2vec import Corpus, skipgram_pairs
from fastkernels.word2vec import _bench as wb
from fastkernels.word2vec.batches import window_key

CASES = [c for c in _CASES.values() if c.area == "word2vec"]


def test_cases_registered():
    assert {c.name for c in CASES} == {"vocab_build", "skipgram_pairs", "generate_batch", "negative_sampling",
                                       "subsample"}


def test_numpy_pairs_baseline_is_exact(rng):
    lengths = rng.integers(0, 30, 50)
    c = Corpus(rng.integers(0, 40, lengths.sum()), np.concatenate([[0], np.cumsum(lengths)]))
    got = skipgram_pairs(c, 4, seed=3)
    ref = wb.numpy_skipgram_pairs(c.ids, c.offsets, 4, window_key(3))
    order = np.lexsort(got[::-1]), np.lexsort(ref[::-1])
    np.testing.assert_array_equal(np.stack(got)[:, order[0]], np.stack(ref)[:, order[1]])


def test_checks_reject_wrong_outputs():
    with pytest.raises(AssertionError):
        wb._check_pairs((np.array([1, 2]), np.array([2, 1])), (np.array([1, 2]), np.array([2, 2])))
    with pytest.raises(AssertionError):
        wb._check_same_distribution(np.zeros(1000, np.int64), np.ones(1000, np.int64))
    data = np.arange(10)
    with pytest.raises(AssertionError, match="outside"):
        wb._check_batches((np.array([1, 1]), np.array([5, 0])), (np.array([1, 1]), None, data))
