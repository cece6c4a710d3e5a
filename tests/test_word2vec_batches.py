"""Skip-gram pairs and CBOW windows (fastkernels.word2vec.batches)."""

import numba
import numpy as np
import pytest
from scipy import stats

from fastkernels import num_threads
from fastkernels.word2vec import (
    Corpus,
    cbow_windows,
    pair_counts,
    skipgram_pairs,
)
from fastkernels.word2vec._reference import brute_force_pairs
from fastkernels.word2vec.batches import MAX_WINDOW, reduced_window, window_key

THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]


# -- skip-gram pairs and CBOW windows ------------------------------------------------------


def test_quick_brown_fox_has_30_pairs_with_window_2():
    words = "the quick brown fox jumped over the lazy dog".split()
    ids = {w: i for i, w in enumerate(dict.fromkeys(words))}
    data = np.array([ids[w] for w in words])
    centers, contexts = skipgram_pairs(data, window=2, shrink_windows=False)
    want = brute_force_pairs([data.tolist()], 2)
    assert len(want) == 30 and list(zip(centers.tolist(), contexts.tolist())) == want
    assert pair_counts(data, 2, shrink_windows=False).sum() == 30


def _corpus(rng, n_sent=40):
    lengths = rng.integers(0, 25, n_sent)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    return Corpus(rng.integers(0, 30, offsets[-1]), offsets)


@pytest.mark.parametrize("window", [1, 2, 5])
@pytest.mark.parametrize("shrink", [False, True])
def test_pairs_equal_brute_force_within_sentences(window, shrink, rng):
    corpus = _corpus(rng)
    key = window_key(123)
    reaches = [reduced_window(key, i, window, shrink) for i in range(corpus.n_tokens)]
    want = brute_force_pairs([s.tolist() for s in corpus], window, reaches)
    centers, contexts = skipgram_pairs(corpus, window, shrink_windows=shrink, seed=123)
    assert list(zip(centers.tolist(), contexts.tolist())) == want
    assert pair_counts(corpus, window, shrink_windows=shrink, seed=123, block=7).sum() == len(want)
    ids, ctx, n = cbow_windows(corpus, window, shrink_windows=shrink, seed=123)
    np.testing.assert_array_equal(ids, corpus.ids)
    assert (ctx[np.arange(2 * window) >= n[:, None]] == -1).all()
    rebuilt = [(int(c), int(x)) for c, row, k in zip(ids, ctx, n) for x in row[:k]]
    assert rebuilt == want


@pytest.mark.parametrize("block", [1, 7, 64])
def test_pairs_are_exact_across_block_boundaries(block, rng, monkeypatch):
    # The fill kernel writes full windows and lets the next centre overwrite the surplus,
    # except near the end of each block's output slice: small blocks put many centres there.
    import fastkernels.word2vec.batches as batches

    corpus = _corpus(rng, n_sent=30)
    key = window_key(9)
    reaches = [reduced_window(key, i, 4, True) for i in range(corpus.n_tokens)]
    want = brute_force_pairs([s.tolist() for s in corpus], 4, reaches)
    monkeypatch.setattr(batches, "BLOCK", block)
    for backend in ("cpu", "parallel"):
        centers, contexts = skipgram_pairs(corpus, 4, seed=9, backend=backend)
        assert list(zip(centers.tolist(), contexts.tolist())) == want


def test_reduced_windows_are_uniform_on_1_to_window():
    key = window_key(5)
    r = np.array([reduced_window(key, i, 5, True) for i in range(20_000)])
    assert r.min() == 1 and r.max() == 5
    assert stats.chisquare(np.bincount(r)[1:]).pvalue > 1e-3


@pytest.mark.parametrize("threads", THREADS)
def test_pairs_same_seed_same_output_across_backends_and_threads(threads, rng):
    lengths = rng.integers(1, 3000, 60)
    corpus = Corpus(rng.integers(0, 1000, lengths.sum()), np.concatenate([[0], np.cumsum(lengths)]))
    want = skipgram_pairs(corpus, 5, seed=4, backend="cpu")
    want_cbow = cbow_windows(corpus, 5, seed=4, backend="cpu")
    with num_threads(threads):
        got = skipgram_pairs(corpus, 5, seed=4, backend="parallel")
        got_cbow = cbow_windows(corpus, 5, seed=4, backend="parallel")
    for a, b in zip(want + want_cbow, got + got_cbow):
        np.testing.assert_array_equal(a, b)
    other = skipgram_pairs(corpus, 5, seed=5, backend="cpu")
    assert other[0].size != want[0].size or not np.array_equal(other[1], want[1])


def test_out_buffers_are_filled_and_reused(rng):
    corpus = _corpus(rng)
    want = skipgram_pairs(corpus, 3, seed=2)
    bufs = (np.full(want[0].size + 10, -7, np.int32), np.full(want[0].size + 10, -7, np.int32))
    got = skipgram_pairs(corpus, 3, seed=2, out=bufs)
    assert all(np.shares_memory(g, b) for g, b in zip(got, bufs))
    for a, b, buf in zip(want, got, bufs):
        np.testing.assert_array_equal(a, b)
        assert (buf[a.size:] == -7).all()
    with pytest.raises(ValueError, match="holds 3 pairs"):
        skipgram_pairs(corpus, 3, seed=2, out=(np.zeros(3, np.int32), np.zeros(3, np.int32)))
    with pytest.raises(TypeError, match="int32"):
        skipgram_pairs(corpus, 3, seed=2, out=(np.zeros(10**4), np.zeros(10**4)))
    same = np.zeros(10**4, np.int32)
    with pytest.raises(ValueError, match="overlap"):
        skipgram_pairs(corpus, 3, seed=2, out=(same, same))


def test_edge_corpora():
    assert skipgram_pairs(Corpus([]), 3)[0].size == 0
    assert skipgram_pairs(Corpus([4, 5], [0, 1, 2]), 3)[0].size == 0  # one-word sentences
    ids, ctx, n = cbow_windows(Corpus([4, 5], [0, 1, 2]), 2)
    assert ctx.shape == (2, 4) and (ctx == -1).all() and n.tolist() == [0, 0]


@pytest.mark.bad_input
def test_bad_input():
    data = np.arange(10)
    with pytest.raises(ValueError, match="window must be >= 1"):
        skipgram_pairs(data, 0)
    with pytest.raises(ValueError, match="window must be >= 1"):
        cbow_windows(data, 0)
    with pytest.raises(TypeError, match="shrink_windows"):
        skipgram_pairs(data, 2, shrink_windows="yes")
    with pytest.raises(ValueError, match="ids must lie in"):
        skipgram_pairs(np.array([0, -1, 2]), 2)
    with pytest.raises(TypeError, match="read_corpus"):
        skipgram_pairs("some text", 2)


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
@pytest.mark.parametrize("fn", [skipgram_pairs, cbow_windows, pair_counts])
@pytest.mark.parametrize("window", [MAX_WINDOW + 1, 2**40, 2**63 - 1, 2**64])
def test_window_beyond_the_32_bit_draw_is_refused(fn, window):
    # 2**40 silently never shrank (the 32-bit draw overflowed); 2**63 - 1 crashed skipgram_pairs
    with pytest.raises(ValueError, match=f"window must be <= {MAX_WINDOW}"):
        fn([0, 1, 2], window, seed=0)


@pytest.mark.bad_input
def test_cbow_windows_beyond_memory_is_refused_before_allocating():
    with pytest.raises(ValueError, match="window asks for .* context slots .* more than this machine's memory"):
        cbow_windows(np.zeros(1000, np.int32), MAX_WINDOW, seed=0)


@pytest.mark.bad_input
def test_skipgram_pairs_beyond_memory_is_refused_before_allocating():
    ids = np.zeros(300_000, np.int32)  # one sentence: 9e10 pairs without shrinking
    with pytest.raises(ValueError, match="window asks for 9e\\+10 pairs .* more than this machine's memory"):
        skipgram_pairs(ids, 300_000, shrink_windows=False, seed=0)


@pytest.mark.bad_input
def test_pair_counts_block_at_the_int64_edge():
    assert pair_counts([0, 1, 2], 1, shrink_windows=False, block=2**63 - 1).tolist() == [4]
    with pytest.raises(ValueError, match="block must be <="):
        pair_counts([0, 1, 2], 1, block=2**64)  # was: OverflowError


@pytest.mark.bad_input
@pytest.mark.parametrize("out", [np.zeros(10, np.int32), [np.zeros(10, np.int32)] * 2,
                                 (np.zeros(10, np.int32),) * 3, (np.zeros(10, np.int32),)])
def test_skipgram_out_of_the_wrong_shape(out):
    with pytest.raises(TypeError, match="out must be a tuple \\(centers, contexts\\) of two int32 arrays"):
        skipgram_pairs([0, 1, 2], 1, out=out, seed=0)


@pytest.mark.bad_input
def test_out_overlapping_the_corpus_is_refused():
    base = np.zeros(20, np.int32)
    base[:3] = [0, 1, 2]
    ids = base[:3]
    with pytest.raises(ValueError, match="out\\[0\\] overlaps the memory of corpus"):
        skipgram_pairs(ids, 1, shrink_windows=False, out=(base[2:11], np.zeros(9, np.int32)))
    assert base[:3].tolist() == [0, 1, 2]
    corpus = Corpus(ids)
    with pytest.raises(ValueError, match="out\\[1\\] is the memory of corpus"):
        skipgram_pairs(corpus, 1, shrink_windows=False, out=(np.zeros(9, np.int32), corpus.ids))
    offsets = np.zeros(8, np.int64)
    offsets[:2] = [0, 3]
    with pytest.raises(ValueError, match="out\\[0\\] overlaps the memory of offsets"):
        skipgram_pairs(Corpus([0, 1, 2], offsets[:2]), 1, out=(offsets.view(np.int32)[:10], np.zeros(10, np.int32)))


@pytest.mark.bad_input
def test_out_with_auto_stays_on_the_host(monkeypatch):
    from fastkernels.word2vec import batches

    monkeypatch.setattr(batches, "resolve_backend", lambda backend, **kw: "cuda")  # a GPU machine, large work
    out = (np.zeros(9, np.int32), np.zeros(9, np.int32))
    c, _ = skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=0, out=out)
    assert np.shares_memory(c, out[0]) and c.tolist() == [0, 1, 1, 2]
    with pytest.raises(ValueError, match="out= is for host backends"):
        skipgram_pairs([0, 1, 2], 1, seed=0, out=out, backend="cuda")
