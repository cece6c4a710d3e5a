"""generate_batch, the TF tutorial's mini-batch generator (fastkernels.word2vec.tf_batches)."""

import random

import numba
import numpy as np
import pytest
from scipy import stats

from fastkernels import num_threads
from fastkernels.word2vec import generate_batch
from fastkernels.word2vec._reference import tutorial_generate_batch
from fastkernels.word2vec.tf_batches import MAX_SKIP_WINDOW

SAMPLE_IDS = [5239, 3084, 12, 6, 195, 2, 3137, 46, 59, 156]  # seed 000: data[:10] of text8
THREADS = [1, 2] if numba.config.NUMBA_NUM_THREADS >= 2 else [1]


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


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
def test_generate_batch_empty_data_names_the_span():
    with pytest.raises(ValueError, match="data has 0 ids, fewer than the span"):
        generate_batch([], 4, 2, 1)


@pytest.mark.bad_input
@pytest.mark.parametrize("kw, name", [({"batch_size": 10**15, "num_skips": 1}, "batch_size"),
                                      ({"batch_size": 4, "num_skips": 1, "n_batches": 10**15},
                                       "n_batches \\* batch_size")])
def test_generate_batch_beyond_memory_is_refused(kw, name):
    with pytest.raises(ValueError, match=f"{name} asks for .* pairs"):
        generate_batch(np.arange(8), skip_window=1, seed=0, **kw)


@pytest.mark.bad_input
def test_generate_batch_limits():
    with pytest.raises(ValueError, match=f"skip_window must be <= {MAX_SKIP_WINDOW}"):
        generate_batch(np.arange(8), 4, 2, 2**31, seed=0)
    data = np.zeros(2**20, np.int32)  # without backtrack each batch moves on by a span of 2**20 words
    with pytest.raises(ValueError, match="reaches 2\\*\\*39"):
        generate_batch(data, 2, 2, 2**19 - 1, index=2**38, n_batches=2**18, seed=0, backtrack=False)


@pytest.mark.bad_input
def test_first_bad_id_is_found_like_the_batches_read_it(rng):
    for _ in range(30):
        n = int(rng.integers(5, 40))
        data = rng.integers(0, 9, n)
        bad = rng.choice(n, int(rng.integers(1, 4)), replace=False)
        data[bad] = -1 - np.arange(bad.size)
        w = int(rng.integers(1, n // 2))  # every slot of a window is drawn: num_skips = 2 * skip_window
        kw = {"batch_size": 2 * w * int(rng.integers(1, 4)), "num_skips": 2 * w, "skip_window": w,
              "index": int(rng.integers(0, 3 * n)), "n_batches": int(rng.integers(1, 5)),
              "backtrack": bool(rng.integers(2))}
        span, per_batch = 2 * w + 1, kw["batch_size"] // (2 * w)
        step = per_batch + (0 if kw["backtrack"] else span)
        reads = [(kw["index"] + b * step + j) % n for b in range(kw["n_batches"])
                 for j in range(per_batch + span - 1)]
        first = next((p for p in reads if data[p] < 0), None)
        if first is None:
            generate_batch(data, seed=0, **kw)
            continue
        with pytest.raises(ValueError, match=rf"found {data[first]} at position {first}$"):
            generate_batch(data, seed=0, **kw)
