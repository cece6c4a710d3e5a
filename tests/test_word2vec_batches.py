"""generate_batch (the TF tutorial's), skip-gram pairs, CBOW windows and subsampling."""

import collections
import random

import numba
import numpy as np
import pytest
from scipy import stats

from fastkernels import num_threads
from fastkernels.word2vec import (
    Corpus,
    cbow_windows,
    generate_batch,
    keep_probability,
    pair_counts,
    skipgram_pairs,
    subsample,
)
from fastkernels.word2vec.batches import reduced_window, window_key

SAMPLE_IDS = [5239, 3084, 12, 6, 195, 2, 3137, 46, 59, 156]  # seed 000: data[:10] of text8
THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]


def tutorial_generate_batch(data, data_index, batch_size, num_skips, skip_window, backtrack):
    """Seed 000's generate_batch with its lost lines restored; ``data_index`` passed explicitly."""
    assert batch_size % num_skips == 0
    assert num_skips <= 2 * skip_window
    batch = np.ndarray(shape=(batch_size), dtype=np.int32)
    labels = np.ndarray(shape=(batch_size, 1), dtype=np.int32)
    span = 2 * skip_window + 1
    buffer = collections.deque(maxlen=span)
    for _ in range(span):
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    for i in range(batch_size // num_skips):
        target = skip_window
        targets_to_avoid = [skip_window]
        for j in range(num_skips):
            while target in targets_to_avoid:
                target = random.randint(0, span - 1)
            targets_to_avoid.append(target)
            batch[i * num_skips + j] = buffer[skip_window]
            labels[i * num_skips + j, 0] = buffer[target]
        buffer.append(data[data_index])
        data_index = (data_index + 1) % len(data)
    if backtrack:  # later TF versions; the seed's version skips span words per call
        data_index = (data_index + len(data) - span) % len(data)
    return batch, labels, data_index


def brute_force_pairs(sentences, window, reaches=None):
    """(centre, context) pairs by definition: same sentence, distance <= the centre's reach."""
    pairs, pos = [], 0
    for sent in sentences:
        for i, c in enumerate(sent):
            r = window if reaches is None else reaches[pos + i]
            for j, x in enumerate(sent):
                if j != i and abs(j - i) <= r:
                    pairs.append((c, x))
        pos += len(sent)
    return pairs


# -- generate_batch ---------------------------------------------------------------


def test_tutorial_printed_batch_on_its_sample_ids():
    batch, labels, index = generate_batch(SAMPLE_IDS, batch_size=8, num_skips=2, skip_window=1, seed=0)
    assert batch.tolist() == [3084, 3084, 12, 12, 6, 6, 195, 195]
    got = [set(labels[k:k + 2, 0].tolist()) for k in range(0, 8, 2)]
    assert got == [{12, 5239}, {6, 3084}, {12, 195}, {6, 2}]  # the seed's printed label pairs
    assert batch.dtype == labels.dtype == np.int32 and labels.shape == (8, 1) and index == 4
    random.seed(0)
    t_batch, t_labels, t_index = tutorial_generate_batch(SAMPLE_IDS, 0, 8, 2, 1, backtrack=True)
    assert t_batch.tolist() == batch.tolist() and t_index == index
    assert [set(t_labels[k:k + 2, 0].tolist()) for k in range(0, 8, 2)] == got


@pytest.mark.parametrize("batch_size,num_skips,skip_window", [(8, 2, 1), (12, 3, 2), (16, 4, 2), (10, 1, 3), (24, 6, 3)])
def test_invariants_against_the_tutorial(batch_size, num_skips, skip_window):
    data = np.random.default_rng(1).permutation(57)  # distinct ids: an id names its position
    pos_of = {int(v): i for i, v in enumerate(data)}
    index = 50  # wraps around the end
    batch, labels, nxt = generate_batch(data, batch_size, num_skips, skip_window, index, seed=3)
    random.seed(1)
    t_batch, _, t_index = tutorial_generate_batch(data.tolist(), index, batch_size, num_skips, skip_window, True)
    assert batch.tolist() == t_batch.tolist() and nxt % data.size == t_index
    n = data.size
    for k in range(batch_size // num_skips):
        rows = slice(k * num_skips, (k + 1) * num_skips)
        centre = (index + k + skip_window) % n
        assert (batch[rows] == data[centre]).all()  # each centre repeats num_skips times
        ctx = [pos_of[int(v)] for v in labels[rows, 0]]
        assert len(set(ctx)) == num_skips  # distinct contexts
        for p in ctx:
            d = (p - centre + n // 2) % n - n // 2
            assert 1 <= abs(d) <= skip_window  # inside the window, never the centre


def test_full_window_when_num_skips_is_twice_the_window():
    batch, labels, _ = generate_batch(np.arange(20), 12, 4, 2, 3, seed=5)
    for k in range(3):
        c = 3 + 2 + k
        assert sorted(labels[4 * k:4 * k + 4, 0].tolist()) == [c - 2, c - 1, c + 1, c + 2]


def test_consecutive_calls_skip_nothing_and_equal_one_big_call():
    data = np.random.default_rng(2).integers(0, 100, 200)
    b1, l1, i1 = generate_batch(data, 8, 2, 2, 0, seed=7)
    b2, l2, i2 = generate_batch(data, 8, 2, 2, i1, seed=7)
    bb, ll, ii = generate_batch(data, 8, 2, 2, 0, n_batches=2, seed=7)
    big, lbig, _ = generate_batch(data, 16, 2, 2, 0, seed=7)
    assert i1 == 4 and i2 == ii == 8
    np.testing.assert_array_equal(np.concatenate([b1, b2]), big)
    np.testing.assert_array_equal(np.concatenate([l1, l2]), lbig)
    np.testing.assert_array_equal(bb, np.stack([b1, b2]))
    np.testing.assert_array_equal(ll, np.stack([l1, l2]))
    assert b2[0] == data[i1 + 2]  # the next centre, no words skipped


def test_backtrack_false_reproduces_the_seed_quirk():
    _, _, index = generate_batch(SAMPLE_IDS, 8, 2, 1, seed=0, backtrack=False)
    assert index == 7
    random.seed(0)
    assert tutorial_generate_batch(SAMPLE_IDS, 0, 8, 2, 1, backtrack=False)[2] == 7
    batch, _, _ = generate_batch(SAMPLE_IDS, 8, 2, 1, index, seed=0, backtrack=False)
    assert batch[0] == SAMPLE_IDS[8]  # positions 5-7 were never centres


def test_later_passes_draw_fresh_contexts():
    data = np.arange(30)
    _, first, nxt = generate_batch(data, 30, 1, 3, 0, seed=1)
    _, second, _ = generate_batch(data, 30, 1, 3, nxt, seed=1)  # same centres, one pass later
    assert not np.array_equal(first, second)


def test_context_slots_are_uniform():
    _, labels, _ = generate_batch(np.arange(6010), 6000, 1, 3, 0, seed=11)
    offsets = labels[:, 0] - (np.arange(6000) + 3)
    freq = np.bincount(offsets + 3, minlength=7)
    assert freq[3] == 0
    assert stats.chisquare(np.delete(freq, 3)).pvalue > 1e-3


@pytest.mark.parametrize("threads", THREADS)
def test_generate_batch_same_seed_same_output_across_backends(threads):
    data = np.random.default_rng(3).integers(0, 50, 500).astype(np.int32)
    want = generate_batch(data, 64, 4, 3, 17, n_batches=5, seed=9, backend="cpu")
    with num_threads(threads):
        got = generate_batch(data, 64, 4, 3, 17, n_batches=5, seed=9, backend="parallel")
    for a, b in zip(want[:2], got[:2]):
        np.testing.assert_array_equal(a, b)
    assert want[2] == got[2]


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
    with pytest.raises(ValueError, match="skip_window must be >= 1"):
        generate_batch(data, 8, 2, 0)
    with pytest.raises(ValueError, match="num_skips must be <= 2 \\* skip_window"):
        generate_batch(data, 8, 4, 1)
    with pytest.raises(ValueError, match="multiple of num_skips"):
        generate_batch(data, 9, 2, 1)
    with pytest.raises(ValueError, match="fewer than the span"):
        generate_batch(data[:2], 8, 2, 1)
    with pytest.raises(ValueError, match="found -3 at position 4"):
        generate_batch(np.array([0, 1, 2, 3, -3, 5, 6, 7, 8, 9]), 8, 2, 1, 2)
    with pytest.raises(TypeError, match="data must have dtype"):
        generate_batch(data.astype(float), 8, 2, 1)
    with pytest.raises(ValueError, match="index must be >= 0"):
        generate_batch(data, 8, 2, 1, -1)
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
