"""The word2vec benchmark cases are registered (tests/test_bench.py validates and times every case) and
their NumPy baselines and checks agree with the kernels' semantics."""

import numpy as np
import pytest

from fastkernels.bench.registry import cases
from fastkernels.word2vec import Corpus, cbow_windows, skipgram_pairs
from fastkernels.word2vec import _bench_checks as chk
from fastkernels.word2vec import _bench_inputs as inp
from fastkernels.word2vec import _reference as reference
from fastkernels.word2vec.batches import window_key
from fastkernels.word2vec.sampling import log_uniform_candidates

CASES = cases(["word2vec"])


def test_cases_registered():
    assert {c.name for c in CASES} == {"vocab_build", "skipgram_pairs", "cbow_windows", "generate_batch",
                                       "negative_sampling", "subsample", "log_uniform_candidates", "word2vec_train",
                                       "word2vec_nce"}


def test_numpy_pairs_baseline_is_exact(rng):
    lengths = rng.integers(0, 30, 50)
    c = Corpus(rng.integers(0, 40, lengths.sum()), np.concatenate([[0], np.cumsum(lengths)]))
    got = skipgram_pairs(c, 4, seed=3)
    ref = reference.numpy_skipgram_pairs(c.ids, c.offsets, 4, window_key(3))
    order = np.lexsort(got[::-1]), np.lexsort(ref[::-1])
    np.testing.assert_array_equal(np.stack(got)[:, order[0]], np.stack(ref)[:, order[1]])


def test_numpy_cbow_baseline_is_exact(rng):
    for window in (1, 3, 5):
        lengths = rng.integers(0, 12, 60)  # empty and one-word sentences included
        c = Corpus(rng.integers(0, 40, lengths.sum()).astype(np.int32), np.concatenate([[0], np.cumsum(lengths)]))
        want = reference.numpy_cbow_windows(c.ids, c.offsets, window, window_key(window))
        chk.check_exact(cbow_windows(c, window, seed=window), want)


@pytest.mark.parametrize("num_sampled,range_max,unique", [(64, 50_000, True), (4096, 50_000, True),
                                                          (20, 20, True), (100_000, 1000, False)])
def test_log_uniform_baseline_and_kernel_pass_the_check(num_sampled, range_max, unique):
    true, m, r, u = inp.log_uniform_inputs(num_sampled, range_max, unique)
    ref = reference.numpy_log_uniform_candidates(true, m, r, u)
    chk.check_log_uniform(ref[:3], ref)
    chk.check_log_uniform(log_uniform_candidates(true, m, r, unique=u, seed=1), ref)


def test_log_uniform_check_rejects_wrong_samplers():
    true, m, r, u = inp.log_uniform_inputs(100_000, 1000, False)
    ref = reference.numpy_log_uniform_candidates(true, m, r, u)
    uniform = np.random.default_rng(0).integers(0, r, m)
    p = reference.log_uniform_p(uniform, r)
    with pytest.raises(AssertionError, match="log-uniform"):
        chk.check_log_uniform((uniform, ref[1], p * m), ref)
    with pytest.raises(AssertionError):
        chk.check_log_uniform((ref[0], ref[1] * 1.001, ref[2]), ref)
    true, m, r, u = inp.log_uniform_inputs(64, 50_000, True)
    ref = reference.numpy_log_uniform_candidates(true, m, r, u)
    with pytest.raises(AssertionError, match="repeated"):
        chk.check_log_uniform((np.repeat(ref[0][:32], 2), ref[1], np.repeat(ref[2][:32], 2)), ref)
    p = reference.log_uniform_p(ref[0], r)
    tries = 3 * m  # far too many draws for 64 distinct classes
    with pytest.raises(AssertionError, match="distinct classes on average"):
        chk.check_log_uniform((ref[0], reference.expected_counts(reference.log_uniform_p(true, r), tries, m),
                               reference.expected_counts(p, tries, m)), ref)


def test_checks_reject_wrong_outputs():
    with pytest.raises(AssertionError):
        chk.check_pairs((np.array([1, 2]), np.array([2, 1])), (np.array([1, 2]), np.array([2, 2])))
    with pytest.raises(AssertionError):
        chk.check_same_distribution(np.zeros(1000, np.int64), np.ones(1000, np.int64))
    data = np.arange(10)
    with pytest.raises(AssertionError, match="outside"):
        chk.check_batches((np.array([1, 1]), np.array([5, 0])), (np.array([1, 1]), None, data))
    ctx = (np.arange(4, dtype=np.int32), np.full((4, 2), -1, np.int32), np.zeros(4, np.int32))
    with pytest.raises(AssertionError, match="output 2"):
        chk.check_exact(ctx, (*ctx[:2], np.ones(4, np.int32)))
    with pytest.raises(AssertionError, match="int64"):
        chk.check_exact(ctx, (ctx[0].astype(np.int64), *ctx[1:]))
