"""Negative sampling (unigram^0.75 alias table) and the TF log-uniform candidate sampler."""

import math

import numba
import numpy as np
import pytest
from scipy import stats

from fastkernels import num_threads
from fastkernels.word2vec import (
    NegativeSampler,
    Vocabulary,
    log_uniform_candidates,
    log_uniform_probability,
)
from fastkernels.word2vec._reference import alias_distribution
from fastkernels.word2vec.sampling import MAX_RANGE, build_alias

SAMPLER = NegativeSampler([5, 3, 2])

THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]
ZIPF = (10_000 / np.arange(1, 201)).astype(np.int64)


@pytest.mark.parametrize("exponent", [0.75, 1.0, 0.0, -0.5])
def test_alias_table_encodes_the_distribution(exponent):
    s = NegativeSampler(ZIPF, ns_exponent=exponent)
    want = ZIPF.astype(float) ** exponent
    np.testing.assert_allclose(s.probabilities, want / want.sum(), rtol=1e-12)
    np.testing.assert_allclose(alias_distribution(s.table), s.probabilities, atol=1e-9)


def test_alias_of_degenerate_distributions():
    np.testing.assert_allclose(alias_distribution(build_alias(np.array([1.0]))), [1.0], atol=1e-9)
    np.testing.assert_allclose(alias_distribution(build_alias(np.full(7, 1 / 7))), np.full(7, 1 / 7), atol=1e-9)
    np.testing.assert_allclose(alias_distribution(build_alias(np.array([0.0, 1.0, 0.0]))), [0, 1, 0], atol=1e-9)


@pytest.mark.parametrize("exponent", [0.75, 0.0])
def test_sample_frequencies_chi_square(exponent):
    s = NegativeSampler(ZIPF[:50], ns_exponent=exponent)
    draws = s.sample(40_000, 5, seed=2)
    assert draws.dtype == np.int32 and draws.shape == (40_000, 5)
    freq = np.bincount(draws.ravel(), minlength=50)
    assert stats.chisquare(freq, s.probabilities * draws.size).pvalue > 1e-3


def test_zero_counts_are_never_drawn_and_vocabulary_is_accepted():
    v = Vocabulary(["a", "b", "c", "d"], [5, 0, 3, 0])
    s = NegativeSampler(v)
    draws = s.sample(10_000, 3, seed=0)
    assert set(np.unique(draws).tolist()) == {0, 2}
    assert s.n_words == 4 and repr(s) == "NegativeSampler(n_words=4, ns_exponent=0.75)"


def test_exclusion_rejects_the_positive_word_only_where_it_collided():
    s = NegativeSampler(ZIPF[:20])
    n = 30_000
    positive = np.zeros(n, np.int64)  # the most frequent word, p ~ 0.14
    free = s.sample(n, 5, seed=4)
    excl = s.sample(n, 5, exclude=positive, seed=4)
    assert not (excl == 0).any()
    same = free != 0
    np.testing.assert_array_equal(excl[same], free[same])  # counter scheme: only collided entries change
    q = s.probabilities.copy()
    q[0] = 0
    freq = np.bincount(excl.ravel(), minlength=20)
    assert stats.chisquare(freq[1:], q[1:] / q.sum() * excl.size).pvalue > 1e-3  # renormalised without it


@pytest.mark.parametrize("threads", THREADS)
def test_same_seed_same_draws_across_backends_threads_and_chunks(threads):
    s = NegativeSampler(ZIPF)
    ex = np.random.default_rng(0).integers(0, 200, 5000).astype(np.int32)
    want = s.sample(5000, 7, exclude=ex, seed=9, backend="cpu")
    with num_threads(threads):
        got = s.sample(5000, 7, exclude=ex, seed=9, backend="parallel")
    np.testing.assert_array_equal(want, got)
    parts = [s.sample(b - a, 7, exclude=ex[a:b], seed=9, start=a, backend="cpu")
             for a, b in [(0, 1234), (1234, 4000), (4000, 5000)]]
    np.testing.assert_array_equal(np.concatenate(parts), want)
    assert not np.array_equal(s.sample(5000, 7, exclude=ex, seed=10, backend="cpu"), want)
    assert s.sample(0, 3, seed=1).shape == (0, 3)


def test_log_uniform_probabilities_and_draws():
    V = 1000
    p = log_uniform_probability(np.arange(V), V)
    np.testing.assert_allclose(p.sum(), 1.0, rtol=1e-12)
    assert p[0] == pytest.approx(math.log(2) / math.log(V + 1))
    counts = np.zeros(V, np.int64)
    for seed in range(40):
        sampled, _, _ = log_uniform_candidates([0], 1000, V, unique=False, seed=seed)
        counts += np.bincount(sampled, minlength=V)
    # pool the tail into 10 bins so every expected count is large
    edges = np.array([0, 1, 2, 3, 5, 8, 15, 30, 70, 200, V])
    obs = np.add.reduceat(counts, edges[:-1])
    exp = np.add.reduceat(p, edges[:-1]) * counts.sum()
    assert stats.chisquare(obs, exp).pvalue > 1e-3


def test_log_uniform_unique_and_expected_counts():
    V, k = 500, 64
    true = np.array([[0], [3], [499]])
    sampled, true_exp, samp_exp = log_uniform_candidates(true, k, V, seed=1)
    assert sampled.shape == (k,) and len(set(sampled.tolist())) == k
    assert true_exp.shape == true.shape and samp_exp.shape == (k,)
    # TF: with T draws needed, Q(c) = 1 - (1 - P(c)) ** T; recover T from one class and check all
    p_s = log_uniform_probability(sampled, V)
    tries = math.log1p(-samp_exp[0]) / math.log1p(-p_s[0])
    assert tries >= k and abs(tries - round(tries)) < 1e-6
    np.testing.assert_allclose(samp_exp, -np.expm1(round(tries) * np.log1p(-p_s)), rtol=1e-12)
    np.testing.assert_allclose(true_exp, -np.expm1(round(tries) * np.log1p(-log_uniform_probability(true, V))))
    s2, t2, e2 = log_uniform_candidates(true, k, V, unique=False, seed=1)
    np.testing.assert_allclose(e2, k * log_uniform_probability(s2, V))  # no rejection: num_sampled * P
    full, _, _ = log_uniform_candidates([0], 20, 20, seed=3)  # every class
    assert sorted(full.tolist()) == list(range(20))


@pytest.mark.bad_input
def test_bad_input():
    with pytest.raises(ValueError, match="non-negative"):
        NegativeSampler([3, -1])
    with pytest.raises(ValueError, match="positive entry"):
        NegativeSampler([0, 0])
    with pytest.raises(ValueError, match="empty"):
        NegativeSampler([])
    with pytest.raises(ValueError, match="finite"):
        NegativeSampler([1.0, np.inf])
    with pytest.raises(TypeError):
        NegativeSampler(["a", "b"])
    s = NegativeSampler([10, 5, 1])
    with pytest.raises(ValueError, match=r"exclude must lie in \[0, 3\)"):
        s.sample(2, 3, exclude=[0, 3])
    with pytest.raises(ValueError, match=r"exclude must have shape \(2,\)"):
        s.sample(2, 3, exclude=[0, 1, 2])
    with pytest.raises(ValueError, match="k must be >= 1"):
        s.sample(2, 0)
    with pytest.raises(ValueError, match="n must be >= 0"):
        s.sample(-1, 2)
    with pytest.raises(ValueError, match="probability"):
        NegativeSampler([1_000_000, 1, 0]).sample(1, 2, exclude=[0])
    with pytest.raises(ValueError, match="distinct classes"):
        log_uniform_candidates([0], 11, 10)
    with pytest.raises(ValueError, match=r"true_classes must lie in \[0, 10\)"):
        log_uniform_candidates([10], 2, 10)
    with pytest.raises(ValueError, match="range_max"):
        log_uniform_candidates([0], 2, 0)


def test_cores_compose_in_a_compiled_training_loop(rng):
    """A user's @njit loop calling the per-token cores reproduces skipgram_pairs + sample exactly."""
    from numba import njit

    from fastkernels._random import stream_key
    from fastkernels.word2vec import Corpus, skipgram_pairs, subsample
    from fastkernels.word2vec.batches import context_span, window_key
    from fastkernels.word2vec.sampling import draw_negative, negative_key
    from fastkernels.word2vec.subsample import keep_token, subsample_key

    @njit
    def loop(ids, offsets, keep, skey, window, wkey, table, nkey, k, centers, contexts, negatives):
        kept = np.empty(ids.size, np.int32)  # subsample sentence by sentence, then pairs + negatives
        new_off = np.zeros(offsets.size, np.int64)
        m = 0
        for s in range(offsets.size - 1):
            for i in range(offsets[s], offsets[s + 1]):
                if keep_token(keep[ids[i]], skey, i):
                    kept[m] = ids[i]
                    m += 1
            new_off[s + 1] = m
        pos = 0
        s = 0
        for i in range(m):
            while new_off[s + 1] <= i:
                s += 1
            left, right = context_span(new_off, s, i, window, wkey, True)
            for j in range(i - left, i + right + 1):
                if j != i:
                    centers[pos] = kept[i]
                    contexts[pos] = kept[j]
                    row = stream_key(nkey, pos)
                    for q in range(k):
                        negatives[pos, q] = draw_negative(table, row, q, k, kept[j])
                    pos += 1
        return pos

    lengths = rng.integers(0, 30, 40)
    corpus = Corpus(rng.integers(0, 50, lengths.sum()), np.concatenate([[0], np.cumsum(lengths)]))
    keep = rng.random(50)
    sampler = NegativeSampler(np.bincount(corpus.ids, minlength=50) + 1)
    kept = subsample(corpus, keep, seed=1)
    c, x = skipgram_pairs(kept, 4, seed=2)
    neg = sampler.sample(c.size, 3, exclude=x, seed=3)
    out = (np.empty(c.size, np.int32), np.empty(c.size, np.int32), np.empty((c.size, 3), np.int32))
    n = loop(corpus.ids, corpus.offsets, keep, subsample_key(1), 4, window_key(2), sampler.table, negative_key(3),
             3, *out)
    assert n == c.size
    for a, b in zip((c, x, neg), out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("num_sampled,range_max", [(50, 1000), (5000, 300), (70_000, 1000)])
def test_log_uniform_expected_counts_with_replacement_follow_the_formula(num_sampled, range_max):
    # fewer classes than draws use a table of P(c); many draws use the parallel kernel
    true = np.array([0, 5, range_max - 1])
    sampled, t_exp, s_exp = log_uniform_candidates(true, num_sampled, range_max, unique=False, seed=4)
    np.testing.assert_allclose(s_exp, num_sampled * log_uniform_probability(sampled, range_max), rtol=1e-14)
    np.testing.assert_allclose(t_exp, num_sampled * log_uniform_probability(true, range_max), rtol=1e-14)
    for backend in ("cpu", "parallel"):  # the same draws on either
        again, _, _ = log_uniform_candidates(true, num_sampled, range_max, unique=False, seed=4, backend=backend)
        np.testing.assert_array_equal(sampled, again)


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
def test_negative_sampler_sizes_and_start():
    with pytest.raises(ValueError, match=r"n \* k asks for 1e\+18 negatives"):
        SAMPLER.sample(10**12, 10**6, seed=0)
    with pytest.raises(ValueError, match="start must be <= "):
        SAMPLER.sample(2, 2, start=2**63, seed=0)  # was: OverflowError
    with pytest.raises(ValueError, match="start must be <= 9223372036854775805"):
        SAMPLER.sample(2, 2, start=2**63 - 1, seed=0)  # start + row would wrap
    assert SAMPLER.sample(2, 2, start=2**63 - 3, seed=0).shape == (2, 2)


@pytest.mark.bad_input
def test_log_uniform_limits():
    with pytest.raises(ValueError, match="num_sampled asks for"):
        log_uniform_candidates([0], 10**15, 10**16, seed=0)
    with pytest.raises(ValueError, match="num_sampled asks for"):
        log_uniform_candidates([0], 10**15, 10**16, unique=False, seed=0)
    for fn in (lambda: log_uniform_candidates([0], 3, 2**64, seed=0), lambda: log_uniform_probability([0], 2**64)):
        with pytest.raises(ValueError, match=f"range_max must be <= {MAX_RANGE}"):
            fn()  # was: OverflowError (candidates)
    with pytest.raises(TypeError, match="unique must be True or False"):
        log_uniform_candidates([0], 10, 5, unique="yes", seed=0)


@pytest.mark.bad_input
def test_negative_sampler_weights_that_all_underflow():
    with pytest.raises(ValueError, match="underflows to 0 for every word"):
        NegativeSampler([1e-320, 1e-320], ns_exponent=1000)  # was: NaN probabilities
