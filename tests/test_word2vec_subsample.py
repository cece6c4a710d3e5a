"""Keep probabilities and subsampling (fastkernels.word2vec.subsample)."""

import numba
import numpy as np
import pytest
from scipy import stats

from fastkernels import num_threads
from fastkernels.word2vec import (
    Corpus,
    keep_probability,
    subsample,
)

THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]


# -- subsampling ----------------------------------------------------------------------


def test_keep_probability_formulas():
    counts = np.array([1000, 100, 10, 1, 0])
    total = 1_000_000
    t = 1e-3 * total
    c = counts[:4].astype(float)
    np.testing.assert_allclose(keep_probability(counts, 1e-3, total=total)[:4],
                               np.minimum(1, (np.sqrt(c / t) + 1) * t / c))
    paper = keep_probability(np.array([1_000, 999_000]), 1e-5, formula="paper")
    assert abs(1 - paper[0] - 0.9) < 1e-12  # the seed's example: f = 0.1 %, t = 1e-5 -> discard 0.9
    np.testing.assert_allclose(keep_probability(counts, 50, formula="fasttext")[:3],
                               np.minimum(1, np.sqrt(50 / c[:3]) + 50 / c[:3]))
    assert keep_probability(counts, 1e-3)[-1] == 1.0  # count 0 is kept
    assert (keep_probability(counts, 0) == 1).all()
    assert keep_probability(counts, 2.0)[0] == keep_probability(counts, 2.0 / counts.sum())[0]  # absolute form


def test_subsampling_frequencies_match_keep_probability():
    rng = np.random.default_rng(0)
    counts = np.array([40_000, 20_000, 8_000, 2_000, 500])
    ids = rng.permutation(np.repeat(np.arange(5), counts))
    keep = keep_probability(counts, 1e-2)
    kept = subsample(Corpus(ids), keep, seed=1)
    got = np.bincount(kept.ids, minlength=5)
    for w in range(5):  # each word: kept count ~ Binomial(count, keep)
        p = keep[w]
        if p < 1:
            z = (got[w] - counts[w] * p) / np.sqrt(counts[w] * p * (1 - p))
            assert abs(z) < 4, (w, z)
        else:
            assert got[w] == counts[w]
    expected = counts * keep
    assert stats.chisquare(got, expected * got.sum() / expected.sum()).pvalue > 1e-3


@pytest.mark.parametrize("threads", THREADS)
def test_subsample_keeps_order_and_sentences_and_is_reproducible(threads, rng):
    lengths = rng.integers(0, 40, 300)
    corpus = Corpus(rng.integers(0, 20, lengths.sum()), np.concatenate([[0], np.cumsum(lengths)]))
    keep = rng.random(20)
    a = subsample(corpus, keep, seed=3, backend="cpu")
    with num_threads(threads):
        b = subsample(corpus, keep, seed=3, backend="parallel")
    np.testing.assert_array_equal(a.ids, b.ids)
    np.testing.assert_array_equal(a.offsets, b.offsets)
    assert a.n_sentences == corpus.n_sentences
    for s in range(corpus.n_sentences):
        it = iter(corpus.sentence(s).tolist())
        assert all(x in it for x in a.sentence(s).tolist())  # kept tokens: a subsequence of their sentence
    # the kept tokens are those whose draw falls below keep[id]
    from fastkernels._random import uniform
    from fastkernels.word2vec.subsample import subsample_key

    key = subsample_key(3)
    mask = np.array([uniform(key, i) < keep[w] for i, w in enumerate(corpus.ids)])
    np.testing.assert_array_equal(a.ids, corpus.ids[mask])
    np.testing.assert_array_equal(a.offsets, np.concatenate([[0], np.cumsum(mask)])[corpus.offsets])


@pytest.mark.bad_input
def test_bad_input():
    data = np.arange(10)
    with pytest.raises(ValueError, match=r"keep must lie in \[0, 1\]"):
        subsample(data, np.full(10, 1.5))
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 5\)"):
        subsample(data, np.ones(5))
    with pytest.raises(ValueError, match="finite"):
        subsample(data, np.full(10, np.nan))
    with pytest.raises(ValueError, match="formula"):
        keep_probability([1, 2], formula="linear")
    with pytest.raises(ValueError, match="sample must be >= 0"):
        keep_probability([1, 2], -1e-3)
    with pytest.raises(ValueError, match="counts must be non-negative"):
        keep_probability([1, -2])


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
def test_keep_probability_of_counts_summing_beyond_float64():
    with pytest.raises(ValueError, match="counts sum beyond the float64 range"):
        keep_probability([1e308, 1e308], 1e-3)  # was: all ones (t = inf)
    r = 1e-3 * 1.7e308 / 1e308  # with the total given, the same counts are fine
    np.testing.assert_allclose(keep_probability([1e308, 1e308], 1e-3, total=1.7e308), np.sqrt(r) + r, rtol=1e-12)


@pytest.mark.bad_input
def test_keep_probability_where_one_over_r_overflows():
    # t / c = 1e-310 (subnormal): 1 / r was inf, giving p = 1 instead of ~1e-155
    p = keep_probability(np.array([1e300, 1.0]), 1e-10, total=1.0)
    r = 1e-10 / np.array([1e300, 1.0])
    np.testing.assert_allclose(p, np.sqrt(r) + r, rtol=1e-12)
    assert keep_probability(np.array([1e300]), 1e-300, total=1e-300)[0] == 0.0  # r == 0: was NaN


@pytest.mark.bad_input
def test_subsample_refuses_a_corpus_whose_ids_were_made_negative():
    c = Corpus([0, 1, 2])
    c.ids[1] = -1  # the arrays are the user's to write; a negative id read keep[-1]
    with pytest.raises(ValueError, match=r"corpus ids must lie in \[0, 3\); found -1 at position 1"):
        subsample(c, np.ones(3), seed=0)
