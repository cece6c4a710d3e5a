"""Plain Python / NumPy references of :mod:`fastkernels.word2vec`, shared by the tests and the benchmarks.

Two kinds:

* the seeds' own code (seed 000, the TensorFlow word2vec tutorial), restored where the seed's
  text extraction lost lines: :func:`tutorial_generate_batch`, :func:`tutorial_build_dataset`,
  :func:`counter_vocabulary`; and definitions written the obvious way
  (:func:`brute_force_pairs`, :func:`alias_distribution`);
* the honest vectorised NumPy a good user would write, the benchmarks' baselines
  (``numpy_*``). Where the kernels' draws can be reproduced (reduced windows), the baselines
  use the same counter-based draws so outputs compare exactly.

Nothing here is compiled and nothing imports the kernels.
"""

from __future__ import annotations

import collections
import random

import numpy as np

# -- the seed's code ------------------------------------------------------------------------


def tutorial_generate_batch(data, data_index, batch_size, num_skips, skip_window, backtrack=False):
    """Seed 000's ``generate_batch`` with its lost lines restored; ``data_index`` passed explicitly.

    The seed prints the tutorial's generator without its three ``append`` lines (the two
    ``buffer.append(data[data_index])`` and ``targets_to_avoid.append(target)``); they are
    restored from the upstream tutorial. ``data_index`` is passed in and returned instead of
    kept in a global. ``backtrack=False`` is the seed's version, which skips ``span`` words
    between calls; ``backtrack=True`` steps back ``span`` words at the end, as later TF
    versions (and :func:`fastkernels.word2vec.generate_batch`) do. Randomness is Python's
    ``random.randint``, as in the seed.
    """
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


def tutorial_build_dataset(words, vocabulary_size):
    """Seed 000's build_dataset with its lost lines restored (the reference of UNK mode)."""
    count = [["UNK", -1]]
    count.extend(collections.Counter(words).most_common(vocabulary_size - 1))
    dictionary = {}
    for word, _ in count:
        dictionary[word] = len(dictionary)
    data = []
    unk_count = 0
    for word in words:
        if word in dictionary:
            index = dictionary[word]
        else:
            index = 0
            unk_count += 1
        data.append(index)
    count[0][1] = unk_count
    return data, count, dictionary


def counter_vocabulary(text):
    """The tutorial's counting (``collections.Counter(words).most_common()``) from the same bytes."""
    mc = collections.Counter(text.decode("utf-8", "surrogateescape").split()).most_common()
    return [w for w, _ in mc], np.array([c for _, c in mc], np.int64)


# -- definitions -----------------------------------------------------------------------------


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


def alias_distribution(table):
    """The exact distribution an alias table encodes: column c gives c w.p. thr/2**32, else its alias."""
    n = table.size
    thr = (table & 0xFFFFFFFF) / 2.0**32
    alias = table >> 32
    p = thr / n
    np.add.at(p, alias, (1 - thr) / n)
    return p


# -- vectorised NumPy baselines ----------------------------------------------------------------

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def mix64(z):
    """SplitMix64's finaliser on a uint64 array."""
    z = (z ^ (z >> np.uint64(30))) * _M1
    z = (z ^ (z >> np.uint64(27))) * _M2
    return z ^ (z >> np.uint64(31))


def numpy_reduced_windows(n, window, wkey):
    """word2vec.c's reduced windows for positions ``0..n-1``, the same draws as the kernels
    (SplitMix64 of the window stream, vectorised), so outputs can be compared exactly."""
    key = np.array(wkey, np.int64).view(np.uint64)
    z = mix64(key + np.arange(1, n + 1, dtype=np.uint64) * _GOLDEN)
    return window - (((z >> np.uint64(32)) * np.uint64(window)) >> np.uint64(32)).astype(np.int64)


def numpy_skipgram_pairs(ids, offsets, window, wkey):
    """Honest NumPy pairs: one masked gather per distance and side (order differs from the kernel's)."""
    n = ids.size
    reach = numpy_reduced_windows(n, window, wkey)
    sent = np.repeat(np.arange(offsets.size - 1, dtype=np.int32), np.diff(offsets))
    centers, contexts = [], []
    for d in range(1, window + 1):
        same = sent[:-d] == sent[d:]
        right = np.flatnonzero(same & (reach[:-d] >= d))  # centre i, context i + d
        left = np.flatnonzero(same & (reach[d:] >= d)) + d  # centre i, context i - d
        centers += [ids[right], ids[left]]
        contexts += [ids[right + d], ids[left - d]]
    return np.concatenate(centers), np.concatenate(contexts)


def numpy_cbow_windows(ids, offsets, window, wkey, chunk=1 << 16):
    """Honest NumPy CBOW rows: each centre's context span from its sentence bounds and reduced
    window (the same draws as the kernels), then a broadcast gather of all ``2 * window`` slots
    (slot ``k`` holds the ``k``-th context left to right, skipping the centre) and the padding.

    Positions are int32 like the ids, and the gather runs over blocks of ``chunk`` rows so its
    temporaries stay in cache: on 10 M tokens (2 cores) that is 0.95 s, against 1.6 s for one
    strided column pass per slot and 2.6 s for one broadcast over the whole corpus.
    """
    n = ids.size
    reach = numpy_reduced_windows(n, window, wkey).astype(np.int32)
    pos = np.arange(n, dtype=np.int32)
    off = offsets.astype(np.int32)
    lengths = np.diff(off)
    left = np.minimum(pos - np.repeat(off[:-1], lengths), reach)
    right = np.minimum(np.repeat(off[1:], lengths) - 1 - pos, reach)
    n_context = left + right
    first = pos - left
    padded = np.concatenate([ids, np.full(2 * window, -1, ids.dtype)])  # slots past a span read in bounds
    slot = np.arange(2 * window, dtype=np.int32)
    contexts = np.empty((n, 2 * window), np.int32)
    for a in range(0, n, chunk):
        b = a + chunk
        contexts[a:b] = padded[first[a:b, None] + slot + (slot >= left[a:b, None])]
        contexts[a:b][slot >= n_context[a:b, None]] = -1
    return ids.copy(), contexts, n_context


def numpy_generate_batches(data, n_batches, batch_size, num_skips, skip_window, index, rng):
    """Honest NumPy: every centre of ``n_batches`` at once, distinct contexts by a random
    permutation of the window slots per centre (argsort of uniforms)."""
    n = data.size
    starts = index + np.arange(n_batches * (batch_size // num_skips))
    centre = data[(starts + skip_window) % n]
    slots = rng.random((starts.size, 2 * skip_window)).argsort(axis=1)[:, :num_skips]
    slots += slots >= skip_window  # skip the centre
    labels = data[(starts[:, None] + slots) % n]
    return np.repeat(centre, num_skips).astype(np.int32), labels.reshape(-1).astype(np.int32)


def numpy_negatives(sampler, n, k, rng=None):
    """``numpy.random.Generator.choice(V, size=(n, k), p=...)``."""
    rng = np.random.default_rng(0) if rng is None else rng
    return rng.choice(sampler.n_words, size=(n, k), p=sampler.probabilities)


def numpy_subsample(corpus, keep, rng=None):
    """Honest NumPy: one uniform per token, a boolean gather, offsets by a cumulative sum."""
    rng = np.random.default_rng(0) if rng is None else rng
    mask = rng.random(corpus.n_tokens) < keep[corpus.ids]
    kept = np.zeros(corpus.offsets.size, np.int64)
    csum = np.concatenate([[0], np.cumsum(mask)])
    kept[:] = csum[corpus.offsets]
    return corpus.ids[mask], kept


def log_uniform_p(classes, range_max):
    """TF's log-uniform probability of each class."""
    return np.log1p(1.0 / (classes + 1.0)) / np.log(range_max + 1.0)


def expected_counts(p, tries, num_sampled):
    """TF's expected counts: ``num_sampled * p`` when no draw was rejected, else ``1 - (1 - p) ** tries``."""
    return p * num_sampled if tries == num_sampled else -np.expm1(tries * np.log1p(-p))


def numpy_log_uniform_candidates(true, num_sampled, range_max, unique, rng=None):
    """Honest NumPy log-uniform sampling, TF's ``floor(exp(u * log(range_max + 1))) - 1`` vectorised.

    Without ``unique``: one vectorised draw. With it, TF draws until ``num_sampled`` distinct
    classes came up; vectorised, that is drawing a block, keeping first occurrences
    (``np.unique(return_index=True)``) and drawing a block as large again until enough are
    distinct; the number of tries is the position of the ``num_sampled``-th first occurrence.
    Returns TF's outputs plus the parameters for the check.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    log_range = np.log(range_max + 1.0)

    def draw(m):
        return np.minimum(np.exp(rng.random(m) * log_range).astype(np.int64) - 1, range_max - 1)

    if unique:
        drawn = draw(2 * num_sampled)
        while True:
            _, first = np.unique(drawn, return_index=True)
            if first.size >= num_sampled:
                break
            drawn = np.concatenate([drawn, draw(drawn.size)])
        first.sort()
        sampled, tries = drawn[first[:num_sampled]], int(first[num_sampled - 1]) + 1
    else:
        sampled, tries = draw(num_sampled), num_sampled
    return (sampled, expected_counts(log_uniform_p(true, range_max), tries, num_sampled),
            expected_counts(log_uniform_p(sampled, range_max), tries, num_sampled),
            dict(true=true, num_sampled=num_sampled, range_max=range_max, unique=unique))
