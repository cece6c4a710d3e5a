"""Contract tests of fastkernels.word2vec (docs/CONTRACT.md, word2vec section).

Every public function and method is driven with generated bad and edge inputs:

* a bad input raises TypeError/ValueError naming the argument (FileNotFoundError/OSError naming
  the file for files that cannot be opened, KeyError naming the word for an absent word:
  ``Vocabulary.index``/``get_count`` and every KeyedVectors lookup);
* after an error the caller's arrays, ``out=`` buffers, Vocabulary/NegativeSampler/Corpus/
  KeyedVectors objects, a Word2Vec model (vectors, syn1neg, epoch_losses), a matplotlib Axes, the
  files on disk and a ``numpy.random.Generator`` seed are unchanged;
* a call that returns on edge input agrees with a plain Python/NumPy reference.

The corpora are tiny: each example costs microseconds to a few milliseconds (a Word2Vec model
of SENTS trains one epoch in about a millisecond once its kernels are compiled).
"""

from __future__ import annotations

import collections
import io
import itertools
import math
import os
import tempfile

import numpy as np
import pytest
from hypothesis import assume, event, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fastkernels.word2vec as w2v
from fastkernels._random import uniform
from fastkernels.word2vec import (
    Corpus,
    KeyedVectors,
    NCEWord2Vec,
    NegativeSampler,
    Vocabulary,
    Word2Vec,
    cbow_windows,
    evaluate_word_analogies,
    evaluate_word_pairs,
    generate_batch,
    keep_probability,
    load_word2vec_format,
    log_uniform_candidates,
    log_uniform_probability,
    pair_counts,
    plot_words,
    project_2d,
    read_corpus,
    save_word2vec_format,
    skipgram_pairs,
    subsample,
)
from fastkernels.word2vec._reference import brute_force_pairs
from fastkernels.word2vec.batches import (
    MAX_WINDOW,
    reduced_window,
    window_key,
)
from fastkernels.word2vec.sampling import MAX_RANGE
from fastkernels.word2vec.subsample import subsample_key
from fastkernels.word2vec.tf_batches import MAX_SKIP_WINDOW

from .harness import (
    Snapshot,
    bad_scalars,
    bad_seeds,
    corrupt_bytes,
    fails_cleanly,
    layout_variants,
    odd_float_arrays,
    raises_naming,
    state_of,
    wrong_dtype_arrays,
)

COVERS = {
    "Corpus", "Corpus.sentence", "Corpus.sentence_lengths", "Corpus.max_id", "Corpus.split_sentences",
    "Corpus.n_tokens", "Corpus.n_sentences",
    "NegativeSampler", "NegativeSampler.sample", "NegativeSampler.n_words",
    "Vocabulary", "Vocabulary.build", "Vocabulary.from_counts", "Vocabulary.index", "Vocabulary.word",
    "Vocabulary.encode", "Vocabulary.decode", "Vocabulary.save", "Vocabulary.load", "Vocabulary.total",
    "Vocabulary.unk_id",
    "Vocabulary.get_count", "Vocabulary.key_to_index", "Vocabulary.index_to_key",
    "cbow_windows", "generate_batch", "keep_probability", "log_uniform_candidates", "log_uniform_probability",
    "pair_counts", "read_corpus", "skipgram_pairs", "subsample",
    "Word2Vec", "Word2Vec.build_vocab", "Word2Vec.train", "Word2Vec.get_latest_training_loss", "Word2Vec.wv",
    "KeyedVectors", "KeyedVectors.vectors", "KeyedVectors.vector_size", "KeyedVectors.get_index",
    "KeyedVectors.get_vector", "KeyedVectors.fill_norms", "KeyedVectors.get_normed_vectors",
    "KeyedVectors.add_vectors", "KeyedVectors.similarity", "KeyedVectors.distance", "KeyedVectors.n_similarity",
    "KeyedVectors.rank", "KeyedVectors.most_similar", "KeyedVectors.similar_by_key", "KeyedVectors.similar_by_word",
    "KeyedVectors.similar_by_vector", "KeyedVectors.most_similar_cosmul", "KeyedVectors.doesnt_match",
    "KeyedVectors.evaluate_word_pairs", "KeyedVectors.evaluate_word_analogies", "KeyedVectors.save_word2vec_format",
    "KeyedVectors.load_word2vec_format", "KeyedVectors.save", "KeyedVectors.load",
    "evaluate_word_pairs", "evaluate_word_analogies", "save_word2vec_format", "load_word2vec_format", "plot_words",
    "project_2d",
    "NCEWord2Vec", "NCEWord2Vec.train", "NCEWord2Vec.average_losses", "NCEWord2Vec.wv",
}

INT64_MAX = 2**63 - 1
ID_DTYPES = (np.int32, np.int64)
VOCAB = Vocabulary(["the", "cat", "sat", "on", "mat"], [5, 3, 2, 2, 1])
SAMPLER = NegativeSampler([5, 3, 2, 2, 1, 0])
WORDS = ["a", "b", "c", "dd", "e\u00e9", "the", "x y"]  # "x y": a token-list word holding a space
CLEAR = (TypeError, ValueError)


def vocab_state(v):
    """What a Vocabulary shows its users (its lookup caches are rebuilt on demand)."""
    return state_of({"words": v.words, "counts": v.counts, "unk": v.unk, "encoding": v.encoding})


def gen_state(gen):
    return gen.bit_generator.state


# -- strategies ---------------------------------------------------------------------------


def id_arrays(n_words, *, min_size=0, max_size=12):
    return st.sampled_from(ID_DTYPES).flatmap(
        lambda dt: hnp.arrays(dt, st.integers(min_size, max_size), elements=st.integers(0, n_words - 1)))


@st.composite
def corpora(draw, n_words=6, max_sentences=4, max_len=7):
    lengths = draw(st.lists(st.integers(0, max_len), min_size=0, max_size=max_sentences))
    n = sum(lengths)
    ids = draw(hnp.arrays(draw(st.sampled_from(ID_DTYPES)), n, elements=st.integers(0, n_words - 1)))
    return Corpus(ids, np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64))


def sentences_of(corpus):
    return [corpus.ids[corpus.offsets[s]:corpus.offsets[s + 1]].tolist() for s in range(corpus.n_sentences)]


# -- references -----------------------------------------------------------------------------


def ref_pairs(corpus, window, shrink, seed):
    """(centre, context) pairs by definition: same sentence, distance <= the centre's reach."""
    key = window_key(seed)
    reaches = [int(reduced_window(key, i, window, shrink)) for i in range(corpus.n_tokens)]
    return brute_force_pairs(sentences_of(corpus), window, reaches)


def ref_keep_probability(c, sample, formula, total):
    """The three formulas written without 1 / r (which overflows for subnormal r)."""
    c = np.asarray(c, np.float64)
    total = c.sum() if total is None else total
    if sample == 0:
        return np.ones(c.size)
    t = sample * total if sample < 1 else sample
    out = np.ones(c.size)
    for w, cw in enumerate(c.tolist()):
        if cw == 0:
            continue
        r = float(t) / cw  # Python floats: inf on overflow, no warning
        p = {"word2vec": math.sqrt(r) + r, "paper": math.sqrt(r), "fasttext": math.sqrt(r) + r}[formula]
        out[w] = min(p, 1.0)
    return out


def ref_parse_vocab(data: bytes, encoding="utf-8"):
    """The documented 'word count' rules, in plain Python: (words, counts) or None if invalid."""
    words, counts = [], []
    for line in data.split(b"\n"):
        if b"\x00" in line:
            return None
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 2 or not parts[1].isdigit() or int(parts[1]) > INT64_MAX:
            return None
        try:
            w = parts[0].decode(encoding, "surrogateescape")
            w.encode(encoding, "surrogateescape")  # a word the vocabulary can encode again
        except UnicodeError:
            return None
        if w in words:
            return None
        words.append(w)
        counts.append(int(parts[1]))
    if not words or sum(counts) > INT64_MAX:
        return None
    return words, counts


def ref_vocab(sentences, min_count, max_size, unk):
    """Counter by first occurrence, sorted by count (ties: first seen), as documented."""
    counts = collections.Counter(itertools.chain.from_iterable(sentences))
    order = sorted(counts, key=lambda w: -counts[w])  # stable: dict order is first occurrence
    if unk is not None:
        order = [w for w in order if w != unk]
    order = [w for w in order if counts[w] >= min_count]
    if max_size is not None:
        order = order[: max_size - (1 if unk is not None else 0)]
    words, kept = list(order), [counts[w] for w in order]
    if unk is not None:
        words = [unk] + words
        kept = [sum(counts.values()) - sum(kept)] + kept
    return words, kept


_TMP = tempfile.TemporaryDirectory(prefix="fk_w2v_contract_")  # removed when the interpreter exits
_FILES = itertools.count()


def path_of(data: bytes):
    p = os.path.join(_TMP.name, f"f{next(_FILES)}.txt")
    with open(p, "wb") as f:
        f.write(data)
    return p


# -- meta ---------------------------------------------------------------------------------


def test_covers_every_public_name():
    names = set()
    for name in w2v.__all__:
        obj = getattr(w2v, name)
        names.add(name)
        if isinstance(obj, type):
            names |= {f"{name}.{m}" for m in vars(obj) if not m.startswith("_")}
    assert names == COVERS


# -- ids: dtypes, ranges, layouts -------------------------------------------------------------

ID_CALLS = {
    "generate_batch": (lambda ids, seed=0: generate_batch(ids, 2, 2, 1, seed=seed), "data", 2**31),
    "skipgram_pairs": (lambda ids, seed=0: skipgram_pairs(ids, 2, seed=seed), "corpus", 2**31 - 1),
    "cbow_windows": (lambda ids, seed=0: cbow_windows(ids, 2, seed=seed), "corpus", 2**31 - 1),
    "pair_counts": (lambda ids, seed=0: pair_counts(ids, 2, seed=seed), "corpus", 2**31 - 1),
    "subsample": (lambda ids, seed=0: subsample(ids, np.full(6, 0.5), seed=seed), "corpus", 6),
    "NegativeSampler.sample": (lambda ids, seed=0: SAMPLER.sample(_len(ids), 2, exclude=ids, seed=seed), "exclude", 6),
    "log_uniform_candidates": (lambda ids, seed=0: log_uniform_candidates(ids, 2, 6, seed=seed), "true_classes", 6),
    "log_uniform_probability": (lambda ids, seed=0: log_uniform_probability(ids, 6), "classes", 6),
    "Vocabulary.decode": (lambda ids, seed=0: VOCAB.decode(ids), "ids", 5),
    "Corpus": (lambda ids, seed=0: Corpus(ids), "ids", 2**31 - 1),
    "Corpus offsets": (lambda ids, seed=0: Corpus(np.zeros(3, np.int32), ids), "offsets", None),
}


def _len(ids):
    return len(ids) if hasattr(ids, "__len__") else 3


def _float_like_ids():
    return st.one_of(
        st.lists(st.floats(0, 4, exclude_min=True).filter(lambda x: x != int(x)), min_size=3, max_size=6),
        st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=3, max_size=6),  # whole floats: still refused
        st.lists(st.booleans(), min_size=3, max_size=6),
        wrong_dtype_arrays((6,), accept=ID_DTYPES),
        st.sampled_from([None, "012", b"012", object(), [[0, 1], [2]], [0, 1, 2**64]]),
    )


@pytest.mark.parametrize("name", sorted(ID_CALLS))
@given(ids=_float_like_ids(), seed=st.sampled_from([0, "gen"]))
def test_id_arguments_refuse_non_integers(name, ids, seed):
    call, arg, _ = ID_CALLS[name]
    if ids is None and name in ("NegativeSampler.sample", "Corpus offsets"):
        return  # exclude=None, offsets=None: the documented defaults
    gen = np.random.default_rng(1) if seed == "gen" else None
    before = gen_state(gen) if gen else None
    if isinstance(ids, np.ndarray):
        fails_cleanly(lambda: call(ids, seed=gen or 0), arg, ids=ids)
    else:
        raises_naming(lambda: call(ids, seed=gen or 0), arg)
    if gen:
        assert gen_state(gen) == before


@pytest.mark.parametrize("name", sorted(n for n in ID_CALLS if ID_CALLS[n][2] is not None))
@given(dtype=st.sampled_from(ID_DTYPES), where=st.integers(0, 2),
       bad=st.sampled_from([-1, -(2**31), "limit", 2**31 - 1, 2**31, INT64_MAX, -INT64_MAX - 1]))
def test_id_arguments_refuse_out_of_range(name, dtype, where, bad):
    call, arg, limit = ID_CALLS[name]
    value = limit if bad == "limit" else bad
    assume(value < 0 or value >= limit)
    assume(np.iinfo(dtype).min <= value <= np.iinfo(dtype).max)
    ids = np.array([0, 1, 2, 1, 0, 1], dtype)
    ids[where] = value  # inside the first window that generate_batch reads
    gen = np.random.default_rng(3)
    before = gen_state(gen)
    fails_cleanly(lambda: call(ids, seed=gen), arg, ids=ids)
    assert gen_state(gen) == before


def _result_equal(a, b):
    if isinstance(a, tuple):
        return len(a) == len(b) and all(_result_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, Corpus):
        return _result_equal((a.ids, a.offsets), (b.ids, b.offsets))
    if isinstance(a, np.ndarray):
        return a.dtype == np.asarray(b).dtype and np.array_equal(a, b)
    return a == b


@pytest.mark.parametrize("name", sorted(n for n in ID_CALLS if n != "Corpus offsets"))
@given(ids=id_arrays(5, min_size=3, max_size=10))
def test_id_layouts_give_the_same_result(name, ids):
    call, _, _ = ID_CALLS[name]
    want = call(ids)
    for kind, variant in layout_variants(ids).items():
        snap = Snapshot(ids=variant)
        assert _result_equal(call(variant), want), kind
        snap.assert_unchanged()


FLOAT_CALLS = {  # float array arguments: any layout gives the result of the contiguous array
    "subsample keep": lambda x: subsample(CORP, x, seed=3),
    "keep_probability counts": lambda x: keep_probability(x, 1e-1),
    "NegativeSampler counts": lambda x: NegativeSampler(x).probabilities,
}


@pytest.mark.parametrize("name", sorted(FLOAT_CALLS))
@given(x=st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: hnp.arrays(dt, 6, elements=st.floats(0.25, 1, width=np.dtype(dt).itemsize * 8))))
def test_float_layouts_give_the_same_result(name, x):
    if name == "keep_probability counts" and x.dtype == np.float32:
        raises_naming(lambda: keep_probability(x), "counts")  # counts are int32/int64/float64 there
        return
    want = FLOAT_CALLS[name](x)
    for kind, variant in layout_variants(x).items():
        if kind == "list" and x.dtype == np.float32:
            continue  # a list holds Python floats: the float64 values, not the float32 array
        snap = Snapshot(x=variant)
        assert _result_equal(FLOAT_CALLS[name](variant), want), kind
        snap.assert_unchanged()


# -- integer and bool arguments ------------------------------------------------------------

DATA = np.array([3, 1, 4, 1, 5, 0, 2, 4, 1, 3], np.int64)
CORP = Corpus(DATA, [0, 4, 4, 10])
TOKENS = [["the", "cat", "sat"], ["on", "the", "mat"]]

INT_ARGS = {
    ("generate_batch", "batch_size"): lambda v: generate_batch(DATA, v, 1, 1, seed=0),
    ("generate_batch", "num_skips"): lambda v: generate_batch(DATA, 4, v, 2, seed=0),
    ("generate_batch", "skip_window"): lambda v: generate_batch(DATA, 2, 1, v, seed=0),
    ("generate_batch", "index"): lambda v: generate_batch(DATA, 2, 1, 1, v, seed=0),
    ("generate_batch", "n_batches"): lambda v: generate_batch(DATA, 2, 1, 1, n_batches=v, seed=0),
    ("skipgram_pairs", "window"): lambda v: skipgram_pairs(CORP, v, seed=0),
    ("cbow_windows", "window"): lambda v: cbow_windows(CORP, v, seed=0),
    ("pair_counts", "window"): lambda v: pair_counts(CORP, v, seed=0),
    ("pair_counts", "block"): lambda v: pair_counts(CORP, 2, block=v, seed=0),
    ("NegativeSampler.sample", "n"): lambda v: SAMPLER.sample(v, 2, seed=0),
    ("NegativeSampler.sample", "k"): lambda v: SAMPLER.sample(2, v, seed=0),
    ("NegativeSampler.sample", "start"): lambda v: SAMPLER.sample(2, 2, start=v, seed=0),
    ("log_uniform_candidates", "num_sampled"): lambda v: log_uniform_candidates([0], v, 10, seed=0),
    ("log_uniform_candidates", "range_max"): lambda v: log_uniform_candidates([0], 1, v, seed=0),
    ("log_uniform_probability", "range_max"): lambda v: log_uniform_probability([0], v),
    ("Vocabulary.build", "min_count"): lambda v: Vocabulary.build(TOKENS, min_count=v),
    ("Vocabulary.build", "max_size"): lambda v: Vocabulary.build(TOKENS, min_count=1, max_size=v),
    ("Vocabulary.build", "chunk_bytes"): lambda v: Vocabulary.build(b"a b", min_count=1, chunk_bytes=v),
    ("Vocabulary.from_counts", "min_count"): lambda v: Vocabulary.from_counts({"a": 2}, min_count=v),
    ("Vocabulary.from_counts", "max_size"): lambda v: Vocabulary.from_counts({"a": 2}, min_count=1, max_size=v),
    ("read_corpus", "min_count"): lambda v: read_corpus(TOKENS, min_count=v),
    ("read_corpus", "max_size"): lambda v: read_corpus(TOKENS, min_count=1, max_size=v),
    ("read_corpus", "max_sentence_length"): lambda v: read_corpus(TOKENS, min_count=1, max_sentence_length=v),
    ("read_corpus", "chunk_bytes"): lambda v: read_corpus(io.BytesIO(b"a b\nc"), min_count=1, chunk_bytes=v),
    ("Vocabulary.word", "i"): lambda v: VOCAB.word(v),
    ("Corpus.sentence", "s"): lambda v: CORP.sentence(v),
    ("Corpus.split_sentences", "max_length"): lambda v: CORP.split_sentences(v),
    ("Corpus", "n_words"): lambda v: Corpus(DATA, n_words=v),
}
#: Arguments for which a huge int is a valid "no limit": the call must then equal the unlimited one.
NO_LIMIT = {
    ("Vocabulary.build", "max_size"): lambda: Vocabulary.build(TOKENS, min_count=1),
    ("Vocabulary.from_counts", "max_size"): lambda: Vocabulary.from_counts({"a": 2}, min_count=1),
    ("read_corpus", "max_size"): lambda: read_corpus(TOKENS, min_count=1),
    ("read_corpus", "max_sentence_length"): lambda: read_corpus(TOKENS, min_count=1),
    ("Corpus.split_sentences", "max_length"): lambda: CORP,
    ("Corpus", "n_words"): lambda: Corpus(DATA),
}
NONE_OK = {("generate_batch", "n_batches"), ("Vocabulary.build", "max_size"), ("Vocabulary.from_counts", "max_size"),
           ("read_corpus", "max_size"), ("read_corpus", "max_sentence_length"), ("Corpus", "n_words")}


@pytest.mark.parametrize("fn, arg", sorted(INT_ARGS))
@given(value=st.one_of(bad_scalars(integer=True), st.sampled_from([-1, 2**63, 2**64, -(2**63) - 1, 2**200])))
def test_integer_arguments_refuse_bad_values(fn, arg, value):
    if value is None and (fn, arg) in NONE_OK or (arg == "s" and type(value) is int and value == -1):
        return  # the documented default; a negative sentence index counts from the end
    before = vocab_state(VOCAB)
    snap = Snapshot(sampler=SAMPLER, corpus=CORP, data=DATA)
    if (fn, arg) in NO_LIMIT and isinstance(value, int) and value >= 2**63:
        assert _result_equal(INT_ARGS[fn, arg](value), NO_LIMIT[fn, arg]())
    else:
        raises_naming(lambda: INT_ARGS[fn, arg](value), arg)
    snap.assert_unchanged()
    assert vocab_state(VOCAB) == before


BOOL_ARGS = {
    ("generate_batch", "backtrack"): lambda v: generate_batch(DATA, 2, 1, 1, backtrack=v, seed=0),
    ("skipgram_pairs", "shrink_windows"): lambda v: skipgram_pairs(CORP, 2, shrink_windows=v, seed=0),
    ("cbow_windows", "shrink_windows"): lambda v: cbow_windows(CORP, 2, shrink_windows=v, seed=0),
    ("pair_counts", "shrink_windows"): lambda v: pair_counts(CORP, 2, shrink_windows=v, seed=0),
    ("log_uniform_candidates", "unique"): lambda v: log_uniform_candidates([0], 2, 10, unique=v, seed=0),
}


@pytest.mark.parametrize("fn, arg", sorted(BOOL_ARGS))
# 0 and 1 are accepted: the package's one flag rule (fastkernels._validate.check_flag) takes bool,
# numpy bool and the integers 0 and 1
@given(value=st.sampled_from([2, -1, "yes", "", None, [True], np.array([True, False]), 1.0, np.nan]))
def test_bool_arguments_refuse_non_bools(fn, arg, value):
    raises_naming(lambda: BOOL_ARGS[fn, arg](value), arg)


CHOICE_ARGS = {
    ("keep_probability", "formula"): lambda v: keep_probability([1, 2], formula=v),
    ("Vocabulary.encode", "unknown"): lambda v: VOCAB.encode(["the"], unknown=v),
    ("read_corpus", "unknown"): lambda v: read_corpus(TOKENS, VOCAB, unknown=v),
    ("skipgram_pairs", "backend"): lambda v: skipgram_pairs(CORP, 2, backend=v, seed=0),
    ("generate_batch", "backend"): lambda v: generate_batch(DATA, 2, 1, 1, backend=v, seed=0),
    ("subsample", "backend"): lambda v: subsample(CORP, np.ones(6), backend=v, seed=0),
    ("NegativeSampler.sample", "backend"): lambda v: SAMPLER.sample(2, 2, backend=v, seed=0),
    ("read_corpus", "encoding"): lambda v: read_corpus(TOKENS, min_count=1, encoding=v),
    ("Vocabulary.build", "encoding"): lambda v: Vocabulary.build(TOKENS, min_count=1, encoding=v),
    ("Vocabulary", "encoding"): lambda v: Vocabulary(["a"], [1], encoding=v),
    ("Vocabulary.load", "encoding"): lambda v: Vocabulary.load(path_of(b"a 1\n"), encoding=v),
    ("Vocabulary.build", "ties"): lambda v: Vocabulary.build(TOKENS, min_count=1, ties=v),
    ("Vocabulary.from_counts", "ties"): lambda v: Vocabulary.from_counts({"a": 2}, min_count=1, ties=v),
    ("read_corpus", "ties"): lambda v: read_corpus(TOKENS, min_count=1, ties=v),
}


@pytest.mark.parametrize("fn, arg", sorted(CHOICE_ARGS))
@given(value=st.sampled_from([None, 3, "", "nope", ["cpu"], b"utf-8", "utf-16", "utf-32-be", "rot13", "CPU"]))
def test_choice_arguments_refuse_unknown_values(fn, arg, value):
    if arg == "unknown" and value is None:
        return  # None is the documented default
    if arg == "encoding" and value is None:
        value = "utf-16"
    raises_naming(lambda: CHOICE_ARGS[fn, arg](value), arg)


# -- seeds ---------------------------------------------------------------------------------

SEEDED = {  # calls that need no random draw at all: the seed must still be checked
    "generate_batch": lambda s: generate_batch(DATA, 2, 2, 1, seed=s),
    "skipgram_pairs": lambda s: skipgram_pairs(CORP, 1, shrink_windows=False, seed=s),
    "cbow_windows": lambda s: cbow_windows(CORP, 1, shrink_windows=False, seed=s),
    "pair_counts": lambda s: pair_counts(CORP, 1, shrink_windows=False, seed=s),
    "subsample": lambda s: subsample(CORP, np.ones(6), seed=s),
    "NegativeSampler.sample": lambda s: SAMPLER.sample(0, 2, seed=s),
    "log_uniform_candidates": lambda s: log_uniform_candidates([0], 1, 1, seed=s),
}


@pytest.mark.parametrize("name", sorted(SEEDED))
@given(seed=bad_seeds())
def test_bad_seeds_are_refused_even_when_nothing_is_drawn(name, seed):
    snap = Snapshot(sampler=SAMPLER, corpus=CORP, data=DATA)
    raises_naming(lambda: SEEDED[name](seed), "seed")
    snap.assert_unchanged()


@pytest.mark.parametrize("name", sorted(SEEDED))
@given(seed=st.one_of(st.integers(0, 2**70), st.sampled_from([np.int64(3), np.uint64(2**64 - 1), None])))
def test_any_non_negative_int_seed_is_accepted(name, seed):
    SEEDED[name](seed)


FAILING_WITH_A_SEED = {  # each raises; errors found before and after the key is drawn
    "generate_batch bad id": (lambda g: generate_batch(np.array([0, -4, 1, 2]), 2, 2, 1, seed=g), "data"),
    "generate_batch bad backend": (lambda g: generate_batch(DATA, 2, 2, 1, seed=g, backend="gpu"), "backend"),
    "skipgram_pairs short out": (  # found after the pairs are counted, with the key already drawn
        lambda g: skipgram_pairs(CORP, 2, seed=g, out=(np.zeros(1, np.int32), np.zeros(1, np.int32))), "out[0]"),
    "skipgram_pairs bad window": (lambda g: skipgram_pairs(CORP, 0, seed=g), "window"),
    "cbow_windows huge": (lambda g: cbow_windows(np.zeros(10**4, np.int32), MAX_WINDOW, seed=g), "window"),
    "pair_counts bad block": (lambda g: pair_counts(CORP, 2, seed=g, block=0), "block"),
    "subsample bad backend": (lambda g: subsample(CORP, np.ones(6), seed=g, backend="gpu"), "backend"),
    "subsample bad keep": (lambda g: subsample(CORP, np.full(6, 2.0), seed=g), "keep"),
    "sample bad backend": (lambda g: SAMPLER.sample(3, 2, seed=g, backend="x"), "backend"),
    "sample exclude p=1": (lambda g: NegativeSampler([1, 0]).sample(1, 2, exclude=[0], seed=g), "exclude"),
    "log_uniform bad classes": (lambda g: log_uniform_candidates([10], 2, 10, seed=g), "true_classes"),
}


@pytest.mark.parametrize("case", sorted(FAILING_WITH_A_SEED))
@given(seed=st.integers(0, 2**64))
def test_a_failed_call_leaves_a_generator_seed_alone(case, seed):
    call, arg = FAILING_WITH_A_SEED[case]
    gen = np.random.default_rng(seed)
    before = gen_state(gen)
    raises_naming(lambda: call(gen), arg)
    assert gen_state(gen) == before


# -- sizes that cannot fit, int64 extremes ----------------------------------------------------

HUGE = {  # name: (call, argument, smallest value refused on any machine)
    "generate_batch batch_size": (lambda v: generate_batch(DATA, v, 1, 1, seed=0), "batch_size", 0),
    "generate_batch n_batches": (lambda v: generate_batch(DATA, 2, 1, 1, n_batches=v, seed=0), "n_batches", 0),
    "generate_batch skip_window": (lambda v: generate_batch(DATA, 2, 1, v, seed=0), "skip_window", 0),
    "skipgram_pairs window": (lambda v: skipgram_pairs(CORP, v, seed=0), "window", 0),
    "cbow_windows window": (lambda v: cbow_windows(CORP, v, seed=0), "window", 0),
    "pair_counts window": (lambda v: pair_counts(CORP, v, seed=0), "window", 0),
    "sample n": (lambda v: SAMPLER.sample(v, 10**6, seed=0), "n", 0),
    "sample k": (lambda v: SAMPLER.sample(10**6, v, seed=0), "k", 0),
    "sample start": (lambda v: SAMPLER.sample(2, 2, start=v, seed=0), "start", INT64_MAX - 1),
    "log_uniform num_sampled": (lambda v: log_uniform_candidates([0], v, MAX_RANGE, seed=0), "num_sampled", 0),
    "log_uniform num_sampled with replacement": (
        lambda v: log_uniform_candidates([0], v, 10, unique=False, seed=0), "num_sampled", 0),
    "log_uniform range_max": (lambda v: log_uniform_candidates([0], 2, v, seed=0), "range_max", MAX_RANGE + 1),
    "log_uniform_probability range_max": (lambda v: log_uniform_probability([0], v), "range_max", MAX_RANGE + 1),
    "read_corpus chunk_bytes": (lambda v: read_corpus(io.BytesIO(b"a"), min_count=1, chunk_bytes=v),
                                "chunk_bytes", 0),
}


@pytest.mark.parametrize("case", sorted(HUGE))
@given(value=st.sampled_from([10**12, 10**15, 2**62, INT64_MAX, 2**63, 2**64, 10**30]))
def test_sizes_beyond_memory_or_int64_are_refused_up_front(case, value):
    call, arg, refused_from = HUGE[case]
    if value < refused_from:
        call(value)  # a valid (large) value: it runs
        return
    exc = raises_naming(lambda: call(value), arg, "n * k")
    msg = str(exc)
    assert any(w in msg for w in ("memory", "addressed", "must be <=", "int64", "cannot be drawn")), msg


def test_huge_cbow_windows_name_the_limit():
    exc = raises_naming(lambda: cbow_windows(np.zeros(1000, np.int32), MAX_WINDOW, seed=0), "window")
    assert "memory" in str(exc)
    exc = raises_naming(lambda: generate_batch(DATA, 2, 1, MAX_SKIP_WINDOW + 1, seed=0), "skip_window")
    assert str(MAX_SKIP_WINDOW) in str(exc)


# -- generate_batch against the tutorial's definition ---------------------------------------------


@given(data=id_arrays(50, min_size=3, max_size=30), skip_window=st.integers(1, 4), per_centre=st.integers(1, 8),
       centres=st.integers(1, 5), index=st.integers(0, 100), n_batches=st.one_of(st.none(), st.integers(1, 3)),
       backtrack=st.booleans(), seed=st.integers(0, 2**64))
def test_generate_batch_matches_the_tutorial_definition(data, skip_window, per_centre, centres, index, n_batches,
                                                        backtrack, seed):
    n, span = data.size, 2 * skip_window + 1
    num_skips = min(per_centre, 2 * skip_window)
    batch_size = num_skips * centres
    if span > n:
        fails_cleanly(lambda: generate_batch(data, batch_size, num_skips, skip_window, index, seed=seed), "data",
                      data=data)
        return
    batch, labels, nxt = generate_batch(data, batch_size, num_skips, skip_window, index, n_batches=n_batches,
                                        seed=seed, backtrack=backtrack)
    nb = n_batches or 1
    step = centres + (0 if backtrack else span)
    assert nxt == index + nb * step
    batch, labels = batch.reshape(nb, batch_size), labels.reshape(nb, batch_size)
    for b in range(nb):
        for c in range(centres):
            pos = index + b * step + c  # the window's first position
            window = [int(data[(pos + j) % n]) for j in range(span)]
            centre = window.pop(skip_window)
            rows = slice(c * num_skips, (c + 1) * num_skips)
            assert (batch[b, rows] == centre).all()
            got = collections.Counter(labels[b, rows].tolist())
            assert not got - collections.Counter(window)  # distinct slots of the window, never the centre
            if num_skips == 2 * skip_window:
                assert got == collections.Counter(window)


# -- skip-gram pairs, CBOW windows, pair counts ----------------------------------------------------


@given(corpus=corpora(), window=st.integers(1, 4), shrink=st.booleans(), seed=st.integers(0, 2**32))
def test_pairs_windows_and_counts_match_the_definition(corpus, window, shrink, seed):
    want = ref_pairs(corpus, window, shrink, seed)
    snap = Snapshot(corpus=corpus)
    c, x = skipgram_pairs(corpus, window, shrink_windows=shrink, seed=seed)
    assert list(zip(c.tolist(), x.tolist())) == want
    assert int(pair_counts(corpus, window, shrink_windows=shrink, seed=seed, block=3).sum()) == len(want)
    centres, ctx, n_ctx = cbow_windows(corpus, window, shrink_windows=shrink, seed=seed)
    assert centres.tolist() == corpus.ids.tolist() and ctx.shape == (corpus.n_tokens, 2 * window)
    flat = [(int(centres[i]), int(v)) for i in range(corpus.n_tokens) for v in ctx[i, : n_ctx[i]]]
    assert flat == want and (ctx[np.arange(2 * window)[None, :] >= n_ctx[:, None]] == -1).all()
    snap.assert_unchanged()


@given(corpus=corpora(), slack=st.integers(0, 5), shift=st.integers(-3, 3), kind=st.sampled_from(
    ["good", "short", "overlap corpus", "same", "alias", "readonly", "strided", "int64", "2-D", "list", "one",
     "three", "overlap offsets"]))
def test_skipgram_out_buffers(corpus, slack, shift, kind):
    want = skipgram_pairs(corpus, 2, shrink_windows=False)
    n_pairs = want[0].size
    a, b = np.full(n_pairs + slack, -7, np.int32), np.full(n_pairs + slack, -7, np.int32)
    if kind == "good":
        c, x = skipgram_pairs(corpus, 2, shrink_windows=False, out=(a, b))
        assert _result_equal((c, x), want) and (n_pairs == 0 or np.shares_memory(c, a))
        assert (a[n_pairs:] == -7).all() and (b[n_pairs:] == -7).all()  # the slack is untouched
        return
    ids = corpus.ids
    if kind in ("overlap corpus", "overlap offsets"):
        src = ids if kind == "overlap corpus" else corpus.offsets.view(np.int32)
        base = np.full(src.size + n_pairs + slack + 8, -7, np.int32)
        base[4:4 + src.size] = src
        inner = base[4:4 + src.size]
        if kind == "overlap corpus":
            corpus = Corpus(inner, corpus.offsets)
        else:
            corpus = Corpus(ids, inner.view(np.int64))
        start = max(0, 4 + shift)
        a = base[start:start + n_pairs + slack]
        assume(a.size >= 1 and inner.size and np.shares_memory(a, inner))
        out, names = (a, b), ("out[0]", "corpus", "offsets")
    elif kind == "short":
        assume(n_pairs > 0)
        out, names = (a[: n_pairs - 1], b), ("out[0]",)
    elif kind == "same":
        assume(a.size >= 1)
        out, names = (a, a), ("out[0]", "out[1]", "out")
    elif kind == "alias":
        assume(a.size >= 2)
        out, names = (a, a[1:]), ("out[0]", "out[1]", "out")
    elif kind == "readonly":
        a.flags.writeable = False
        out, names = (a, b), ("out[0]",)
    elif kind == "strided":
        assume(n_pairs >= 1)
        out, names = (np.zeros(2 * n_pairs + 2, np.int32)[::2], b), ("out[0]",)
    elif kind == "int64":
        out, names = (a, b.astype(np.int64)), ("out[1]",)
    elif kind == "2-D":
        out, names = (a[None, :], b), ("out[0]",)
    elif kind == "list":
        out, names = [a, b], ("out",)
    elif kind == "one":
        out, names = a, ("out",)
    else:
        out, names = (a, b, b.copy()), ("out",)
    buffers = {f"buf{i}": o for i, o in enumerate(out if isinstance(out, (tuple, list)) else [out])}
    fails_cleanly(lambda: skipgram_pairs(corpus, 2, shrink_windows=False, out=out), *names,
                  corpus=corpus, **buffers)


# -- subsampling and keep probabilities ---------------------------------------------------------


def _edge_floats(lo, hi, dtype=np.float64):
    """Valid floats in [lo, hi] leaning to the edges (0, -0.0, subnormals, the bounds)."""
    tiny, top = float(np.finfo(dtype).smallest_subnormal), float(np.finfo(dtype).max)
    edges = [x for x in (0.0, -0.0, tiny, 1e-300, 1e-30, 0.5, 1.0, 1e30, 1e300, top)
             if lo <= x <= hi and (x == 0 or tiny <= abs(x) <= top)]
    top = min(hi, top)
    return st.one_of(st.sampled_from(edges), st.floats(lo, top, width=np.dtype(dtype).itemsize * 8))


def _valid_or_odd(shape, lo, hi):
    """Mostly valid arrays (values in [lo, hi] of either float dtype), sometimes odd ones."""
    valid = st.sampled_from([np.float64, np.float32]).flatmap(
        lambda dt: hnp.arrays(dt, shape, elements=_edge_floats(lo, hi, dt)))
    return st.one_of(valid, valid, valid, odd_float_arrays(shape, dtype=np.float64),
                     odd_float_arrays(shape, dtype=np.float32))


@given(corpus=corpora(n_words=5), keep=_valid_or_odd((5,), 0.0, 1.0), seed=st.integers(0, 2**40))
def test_subsample_keep_edges(corpus, keep, seed):
    if not (np.isfinite(keep).all() and ((keep >= 0) & (keep <= 1)).all()):
        event("refused")
        fails_cleanly(lambda: subsample(corpus, keep, seed=seed), "keep", corpus=corpus, keep=keep)
        return
    event("subsampled")
    got = subsample(corpus, keep, seed=seed)
    key = subsample_key(seed)
    mask = np.array([uniform(key, i) < float(keep[w]) for i, w in enumerate(corpus.ids)], bool)
    assert got.ids.tolist() == corpus.ids[mask].tolist()
    assert got.offsets.tolist() == np.concatenate([[0], np.cumsum(mask)])[corpus.offsets].tolist()


@given(keep=st.one_of(wrong_dtype_arrays((5,), accept=(np.float32, np.float64)),
                      st.sampled_from([[], np.zeros((5, 1)), np.zeros(0), "0.5", None, [[0.5] * 5]])))
def test_subsample_refuses_bad_keep(keep):
    fails_cleanly(lambda: subsample(CORP, keep, seed=0), "keep", corpus=CORP)


@given(counts=_valid_or_odd((4,), 0.0, 1e308).map(lambda a: a.astype(np.float64)), sample=st.one_of(
    st.sampled_from([0.0, 1e-300, 5e-324, 1e-3, 0.5, 1.0, 7.0, 1e308]), _edge_floats(0, 1e308),
    st.sampled_from([1e-5, 1e-3, 0.01]), bad_scalars()),
       formula=st.sampled_from(["word2vec", "paper", "fasttext"]),
       total=st.one_of(st.none(), st.none(), _edge_floats(5e-324, 1e308),
                       st.sampled_from([0.0, -1.0, np.inf, np.nan, "1"])))
def test_keep_probability_edges(counts, sample, formula, total):
    call = lambda: keep_probability(counts, sample, formula=formula, total=total)
    bad_counts = not np.isfinite(counts).all() or (counts < 0).any()
    bad_sample = not isinstance(sample, float) or not math.isfinite(sample) or sample < 0
    bad_total = total is not None and (not isinstance(total, float) or not math.isfinite(total) or total <= 0)
    with np.errstate(over="ignore"):
        sum_overflows = total is None and not bad_counts and not np.isfinite(counts.sum())
    if bad_counts or bad_sample or bad_total or sum_overflows:
        names = ("counts",) * int(bad_counts or sum_overflows) + ("sample",) * int(bad_sample) + \
            ("total",) * int(bad_total)
        event("refused")
        fails_cleanly(call, *names, counts=counts)
        return
    event("computed")
    p = call()
    want = ref_keep_probability(counts, sample, formula, total)
    assert p.dtype == np.float64 and ((p >= 0) & (p <= 1)).all()
    np.testing.assert_allclose(p, want, rtol=1e-12, atol=0)


@given(counts=st.one_of(wrong_dtype_arrays((3,), accept=(np.int32, np.int64, np.float64)),
                        st.sampled_from([[], [[1, 2]], None, "12", [1, -1], [2**64]])))
def test_keep_probability_refuses_bad_counts(counts):
    fails_cleanly(lambda: keep_probability(counts), "counts")


# -- negative sampling ------------------------------------------------------------------------


@given(counts=_valid_or_odd((4,), 0.0, 1e308)
       | hnp.arrays(np.int64, 4, elements=st.sampled_from([0, 1, 7, 10**6, INT64_MAX, INT64_MAX, -1])),
       exponent=st.one_of(st.sampled_from([0.75, 0.75, 0.0, 1.0, -0.5, 50.0, -50.0, 1e308, -1e308, 5e-324]),
                          st.floats(-3, 3), st.floats(-3, 3), bad_scalars()))
def test_negative_sampler_construction(counts, exponent):
    call = lambda: NegativeSampler(counts, ns_exponent=exponent)
    c = counts.astype(np.float64)
    if not np.isfinite(c).all() or (c < 0).any() or not (c > 0).any():
        event("bad counts")
        fails_cleanly(call, "counts", counts=counts)
        return
    if not isinstance(exponent, float) or not math.isfinite(exponent):
        event("bad exponent")
        fails_cleanly(call, "ns_exponent", counts=counts)
        return
    with np.errstate(over="ignore", under="ignore"):
        w = np.where(c > 0, np.exp(exponent * np.log(np.where(c > 0, c, 1.0))), 0.0)
        total = w.sum()
    event("built" if np.isfinite(total) and total > 0 else "refused")
    if not np.isfinite(total) or total == 0:
        fails_cleanly(call, "counts", "ns_exponent", counts=counts)
        return
    s = call()
    np.testing.assert_allclose(s.probabilities, w / total, rtol=1e-12, atol=1e-300)
    assert s.n_words == 4 and s.table.dtype == np.int64
    draws = s.sample(50, 3, seed=1)
    assert draws.dtype == np.int32 and (s.probabilities[draws] > 0).all()  # zero-probability words never drawn


@given(counts=st.one_of(wrong_dtype_arrays((3,), accept=(np.int32, np.int64, np.float32, np.float64)),
                        st.sampled_from([[], [[1, 2]], None, "12", [0, 0], [1, -1]])))
def test_negative_sampler_refuses_bad_counts(counts):
    raises_naming(lambda: NegativeSampler(counts), "counts")


@given(n=st.integers(0, 12), k=st.integers(1, 4), start=st.integers(0, 2**62), seed=st.integers(0, 2**64),
       exclude=st.one_of(st.none(), st.just("ids")), dtype=st.sampled_from(ID_DTYPES), data=st.data())
def test_negative_sample_rows(n, k, start, seed, exclude, dtype, data):
    ex = None if exclude is None else data.draw(hnp.arrays(dtype, n, elements=st.integers(0, 4)))
    snap = Snapshot(sampler=SAMPLER, exclude=ex)
    out = SAMPLER.sample(n, k, exclude=ex, seed=seed, start=start)
    snap.assert_unchanged()
    assert out.shape == (n, k) and out.dtype == np.int32
    assert ((out >= 0) & (out < 5)).all()  # word 5 has count 0
    if ex is not None:
        assert (out != ex[:, None]).all()
    if n >= 2:  # rows are streams start + i: any chunking gives the same rows
        tail = SAMPLER.sample(n - 1, k, exclude=None if ex is None else ex[1:], seed=seed, start=start + 1)
        assert np.array_equal(tail, out[1:])


@given(kind=st.sampled_from(["shape", "2-D", "float", "bool", "range", "neg", "uint", "object", "p=1"]),
       seed=st.integers(0, 9))
def test_negative_sample_refuses_bad_exclude(kind, seed):
    s = SAMPLER
    ex = {"shape": np.zeros(2, np.int64), "2-D": np.zeros((3, 1), np.int64), "float": np.zeros(3),
          "bool": np.zeros(3, bool), "range": np.array([0, 6, 1]), "neg": np.array([0, -1, 1]),
          "uint": np.zeros(3, np.uint32), "object": np.zeros(3, object), "p=1": np.zeros(3, np.int64)}[kind]
    if kind == "p=1":
        s = NegativeSampler([1, 0, 0])
    snap = Snapshot(sampler=s, exclude=ex)
    raises_naming(lambda: s.sample(3, 2, exclude=ex, seed=seed), "exclude")
    snap.assert_unchanged()


# -- log-uniform sampler ---------------------------------------------------------------------------


@given(range_max=st.sampled_from([1, 2, 3, 10, 1000, 2**40, MAX_RANGE]), data=st.data())
def test_log_uniform_probability_formula(range_max, data):
    classes = data.draw(hnp.arrays(st.sampled_from(ID_DTYPES), st.integers(0, 6),
                                   elements=st.integers(0, min(range_max, 2**31) - 1)))
    p = log_uniform_probability(classes, range_max)
    want = [math.log1p(1 / (c + 1)) / math.log(range_max + 1) for c in classes.tolist()]
    np.testing.assert_allclose(p, want, rtol=1e-9)


@given(range_max=st.integers(1, 50), num_sampled=st.integers(1, 60), unique=st.booleans(),
       seed=st.integers(0, 2**64), data=st.data())
def test_log_uniform_candidates(range_max, num_sampled, unique, seed, data):
    true = data.draw(hnp.arrays(np.int64, st.tuples(st.integers(0, 3), st.integers(1, 2)),
                                elements=st.integers(0, range_max - 1)))
    call = lambda: log_uniform_candidates(true, num_sampled, range_max, unique=unique, seed=seed)
    if unique and num_sampled > range_max:
        fails_cleanly(call, "num_sampled", "range_max", true=true)
        return
    sampled, t_exp, s_exp = call()
    assert sampled.shape == (num_sampled,) and t_exp.shape == true.shape and s_exp.shape == sampled.shape
    assert ((sampled >= 0) & (sampled < range_max)).all()
    p = log_uniform_probability(sampled, range_max)
    pt = log_uniform_probability(true, range_max)
    if not unique:
        np.testing.assert_allclose(s_exp, num_sampled * p, rtol=1e-12)
        np.testing.assert_allclose(t_exp, num_sampled * pt, rtol=1e-12)
        return
    assert np.unique(sampled).size == num_sampled
    if (s_exp == num_sampled * p).all():  # every draw was new: tries == num_sampled
        np.testing.assert_allclose(t_exp, num_sampled * pt, rtol=1e-12)
        return
    i = int(np.argmin(s_exp))  # 1 - (1 - p)**T with one T for every class: read T where it is exact
    assume(0 < p[i] < 1 and s_exp[i] < 0.5)
    T = float(np.log1p(-s_exp[i]) / np.log1p(-p[i]))
    assert abs(T - round(T)) < 1e-6 * T and round(T) >= num_sampled
    np.testing.assert_allclose(s_exp, -np.expm1(round(T) * np.log1p(-p)), rtol=1e-9)
    np.testing.assert_allclose(t_exp, -np.expm1(round(T) * np.log1p(-pt)), rtol=1e-9)


# -- Vocabulary ---------------------------------------------------------------------------------

sentence_lists = st.lists(st.lists(st.sampled_from(WORDS), max_size=6), max_size=5)


@given(sentences=sentence_lists, min_count=st.integers(1, 3), max_size=st.one_of(st.none(), st.integers(2, 6)),
       unk=st.sampled_from([None, "UNK", "a"]), how=st.sampled_from(["build", "read_corpus", "from_counts"]))
def test_vocabulary_matches_counting_by_hand(sentences, min_count, max_size, unk, how):
    words, counts = ref_vocab(sentences, min_count, max_size, unk)
    if how == "from_counts":
        call = lambda: Vocabulary.from_counts(
            collections.Counter(itertools.chain.from_iterable(sentences)), min_count=min_count, max_size=max_size,
            unk=unk)
    elif how == "build":
        call = lambda: Vocabulary.build(sentences, min_count=min_count, max_size=max_size, unk=unk)
    else:
        call = lambda: read_corpus(sentences, min_count=min_count, max_size=max_size, unk=unk)
    if not any(sentences) or not words:
        raises_naming(call, "counts", "corpus", "vocabulary", "min_count", "source")
        return
    got = call()
    v = got[1] if how == "read_corpus" else got
    assert v.words == words and v.counts.tolist() == counts and v.unk == unk
    assert v.total == sum(counts) and v.unk_id == (0 if unk else None) and len(v) == len(words)
    if how == "read_corpus":
        corpus = got[0]
        flat = [t for s in sentences for t in s]
        kept = [t if t in v.words else unk for t in flat if unk is not None or t in v.words]
        assert v.decode(corpus.ids) == kept
        assert corpus.offsets[0] == 0 and corpus.offsets[-1] == corpus.n_tokens
        assert (corpus.sentence_lengths() > 0).all()


@given(case=st.sampled_from(["str words", "None words", "int word", "empty word", "dup", "no words", "float counts",
                             "bool counts", "neg counts", "big count", "uint big", "sum overflow", "shape",
                             "unk first", "unk type", "unencodable", "surrogate", "counts object"]))
def test_vocabulary_constructor_refuses(case):
    words, counts, kw, names = ["a", "b"], [2, 1], {}, ("words",)
    if case == "str words":
        words = "ab"
    elif case == "None words":
        words = None
    elif case == "int word":
        words = ["a", 3]
    elif case == "empty word":
        words = ["a", ""]
    elif case == "dup":
        words = ["a", "a"]
    elif case == "no words":
        words, counts = [], []
    elif case == "float counts":
        counts, names = [2.0, 1.5], ("counts",)
    elif case == "bool counts":
        counts, names = [True, False], ("counts",)
    elif case == "neg counts":
        counts, names = [2, -1], ("counts",)
    elif case == "big count":
        counts, names = [2, 2**64], ("counts",)
    elif case == "uint big":
        counts, names = np.array([2, 2**64 - 1], np.uint64), ("counts",)
    elif case == "sum overflow":
        counts, names = [INT64_MAX, 1], ("counts",)
    elif case == "shape":
        counts, names = [[2, 1]], ("counts",)
    elif case == "counts object":
        counts, names = [object(), 1], ("counts",)
    elif case == "unk first":
        kw, names = {"unk": "b"}, ("unk",)
    elif case == "unk type":
        kw, names = {"unk": 3}, ("unk",)
    elif case == "unencodable":
        words, kw = ["a", "\u20ac"], {"encoding": "latin-1"}
    elif case == "surrogate":
        words = ["a", "\ud800"]
    raises_naming(lambda: Vocabulary(words, counts, **kw), *names)


@given(counts=st.sampled_from([[("a", 1)], ["a"], "a", None, 3, {1: 2}, {b"a": 2}, {"": 2}, {"a": 1.5}, {"a": True},
                               {"a": -1}, {"a": 2**64}, {"a": "3"}, {}, {"a": None}]))
def test_from_counts_refuses_bad_mappings(counts):
    raises_naming(lambda: Vocabulary.from_counts(counts), "counts")


@given(tokens=st.lists(st.sampled_from(["the", "cat", "sat", "on", "mat", "dog", "UNK"]), max_size=8),
       unknown=st.sampled_from([None, "drop", "error"]))
def test_encode_decode(tokens, unknown):
    before = vocab_state(VOCAB)
    known = [t for t in tokens if t in VOCAB]
    if unknown in (None, "error") and len(known) < len(tokens):
        exc = raises_naming(lambda: VOCAB.encode(tokens, unknown=unknown), "unknown", "word")
        assert repr(next(t for t in tokens if t not in VOCAB)) in str(exc)
    else:
        ids = VOCAB.encode(tokens, unknown=unknown)
        assert ids.dtype == np.int32 and ids.tolist() == [VOCAB.words.index(t) for t in known]
        assert VOCAB.decode(ids) == known
        assert VOCAB.decode(ids.reshape(-1, 1)) == [[t] for t in known]
        for i in ids.tolist():
            assert VOCAB.word(i) == VOCAB.words[i] and VOCAB.index(VOCAB.words[i]) == i
    assert vocab_state(VOCAB) == before


@given(tokens=st.sampled_from([["the", 3], ["the", ""], ["a\x00b"], ["\u20ac"], ["\ud800"], "the cat",
                               [b"the"], None, 5, (t for t in ["the"])]))
def test_encode_refuses_bad_tokens(tokens):
    v = Vocabulary(["the", "cat"], [2, 1], encoding="latin-1")
    before = vocab_state(v)
    raises_naming(lambda: v.encode(tokens), "tokens", "token", "sentence")
    assert vocab_state(v) == before


@given(word=st.sampled_from([None, 3, b"the", ["the"], 1.5, np.array(["the"])]))
def test_index_refuses_non_str_and_keyerror_for_absent(word):
    raises_naming(lambda: VOCAB.index(word), "word")
    with pytest.raises(KeyError, match="'zebra'"):
        VOCAB.index("zebra")


# -- save / load -----------------------------------------------------------------------------------


@given(words=st.lists(st.text(st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1,
                              max_size=5), min_size=1, max_size=6, unique=True),
       counts=st.data(), unk=st.booleans())
def test_save_load_round_trip(words, counts, unk):
    words = [w for w in words if w.isprintable() and not any(c.isspace() for c in w)]
    assume(words)
    if unk:
        words = ["UNK", *[w for w in words if w != "UNK"]]
    c = counts.draw(st.lists(st.integers(0, 2**40), min_size=len(words), max_size=len(words)))
    v = Vocabulary(words, c, unk="UNK" if unk else None)
    p = path_of(b"")
    v.save(p)
    assert Vocabulary.load(p, unk=v.unk) == v


@given(seed=st.integers(0, 2**32), extra=st.binary(max_size=24), encoding=st.sampled_from(["utf-8", "latin-1",
                                                                                          "utf-7", "ascii"]))
def test_load_damaged_files(seed, extra, encoding):
    good = b"the 5\ncat 3\n\xff\xfe 2\nsat 1\n"
    for data in corrupt_bytes(good, seed) + [extra, good + extra, extra + good]:
        p = path_of(data)
        want = ref_parse_vocab(data, encoding)
        event("refused" if want is None else "loaded")
        if want is None:
            exc = raises_naming(lambda p=p: Vocabulary.load(p, encoding=encoding), p, errors=(ValueError,))
            assert p in str(exc)
        else:
            v = Vocabulary.load(p, encoding=encoding)
            assert (v.words, v.counts.tolist()) == want


@given(path=st.sampled_from([None, 3, 2.5, ["a"], b"\x00"]))
def test_load_save_refuse_bad_paths(path):
    if isinstance(path, bytes):  # a path with NUL: Python's own ValueError
        raises_naming(lambda: Vocabulary.load(path), "path", "null", "NUL", "embedded")
        return
    raises_naming(lambda: Vocabulary.load(path), "path")
    raises_naming(lambda: VOCAB.save(path), "path")


def test_load_missing_file_names_it():
    p = os.path.join(tempfile.mkdtemp(), "missing.txt")
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        Vocabulary.load(p)
    with pytest.raises(FileNotFoundError, match="missing.txt"):
        read_corpus(p)


@given(word=st.sampled_from(["new york", "tab\there", "nul\x00", "line\nbreak"]))
def test_save_refuses_what_load_could_not_read(word):
    v = Vocabulary(["a", word], [1, 1])
    p = os.path.join(tempfile.mkdtemp(), "v.txt")
    raises_naming(lambda: v.save(p), "word")
    assert not os.path.exists(p)


# -- read_corpus -----------------------------------------------------------------------------------


@given(text=st.binary(max_size=40) | st.lists(st.sampled_from([b"a", b"bb", b" ", b"\n", b"\t", b"\r\n", b"\xff",
                                                                b"\x00", b"caf\xc3\xa9"]), max_size=15).map(b"".join),
       form=st.sampled_from(["bytes", "path", "file", "memoryview", "bytearray"]),
       chunk=st.sampled_from([1, 3, 1 << 20]), encoding=st.sampled_from(["utf-8", "latin-1", "ascii"]))
def test_read_corpus_bytes_match_whitespace_splitting(text, form, chunk, encoding):
    source = {"bytes": lambda: text, "path": lambda: path_of(text), "file": lambda: io.BytesIO(text),
              "memoryview": lambda: memoryview(text), "bytearray": lambda: bytearray(text)}[form]()
    lines = [line.split() for line in text.split(b"\n")]
    tokens = [t for line in lines for t in line]
    try:
        want = [t.decode(encoding, "surrogateescape") for t in tokens]
    except UnicodeError:
        want = None
    call = lambda: read_corpus(source, min_count=1, chunk_bytes=chunk, encoding=encoding)
    magic = w2v._scan.binary_kind(text[:16])
    if not tokens or want is None or magic:
        event("refused")
        raises_naming(call, "source", "corpus")
        return
    event("read")
    corpus, v = call()
    assert v.decode(corpus.ids) == want
    assert np.diff(corpus.offsets).tolist() == [len(line) for line in lines if line]


@given(source=st.sampled_from([None, 3, 2.5, np.arange(3), Corpus([0, 1]), [["a"], None], [["a"], "ab"], ["a", 1],
                               [b"a"], [["a", ""]], [["a\x00b"]], "definitely/not/a/file.txt"]))
def test_read_corpus_refuses_bad_sources(source):
    errors = CLEAR + (FileNotFoundError,)
    raises_naming(lambda: read_corpus(source, min_count=1), "source", "sentence", "tokens", errors=errors)


@given(kind=st.sampled_from(["gzip", "zip", "npy", "xz", "bz2", "zstd"]), form=st.sampled_from(["path", "bytes",
                                                                                                 "file"]))
def test_read_corpus_refuses_compressed_files(kind, form):
    import bz2
    import gzip
    import lzma

    text = b"the cat sat on the mat\n" * 3
    data = {"gzip": lambda: gzip.compress(text), "zip": lambda: b"PK\x03\x04" + text, "xz": lambda: lzma.compress(text),
            "npy": lambda: b"\x93NUMPY\x01\x00" + text, "bz2": lambda: bz2.compress(text),
            "zstd": lambda: b"\x28\xb5\x2f\xfd" + text}[kind]()
    source = {"path": lambda: path_of(data), "bytes": lambda: data, "file": lambda: io.BytesIO(data)}[form]()
    raises_naming(lambda: read_corpus(source, min_count=1), "source")
    raises_naming(lambda: Vocabulary.build(source if form != "file" else io.BytesIO(data), min_count=1), "source")


@given(kind=st.sampled_from(["text mode wrong encoding", "read returns int", "read returns None", "read returns list"]))
def test_read_corpus_file_objects_that_misbehave(kind):
    class Reader:
        def __init__(self, value):
            self.value = value

        def read(self, n):
            return self.value

    source = {"text mode wrong encoding": lambda: io.TextIOWrapper(io.BytesIO(b"caf\xe9 x\n" * 4), encoding="utf-8"),
              "read returns int": lambda: Reader(5), "read returns None": lambda: Reader(None),
              "read returns list": lambda: Reader([b"a b"])}[kind]()
    raises_naming(lambda: read_corpus(source, min_count=1), "source")


@given(vocab=st.sampled_from([3, "vocab.txt", {"a": 1}, None]), encoding=st.sampled_from(["utf-8", "latin-1"]))
def test_read_corpus_with_a_given_vocabulary(vocab, encoding):
    if vocab is None:
        corpus, v = read_corpus(TOKENS, VOCAB, encoding="utf-8")
        assert v is VOCAB and v.decode(corpus.ids) == [t for s in TOKENS for t in s]
        if encoding != "utf-8":
            raises_naming(lambda: read_corpus(TOKENS, VOCAB, encoding=encoding), "encoding")
        return
    raises_naming(lambda: read_corpus(TOKENS, vocab), "vocab")


@given(tokens=st.lists(st.lists(st.sampled_from(["the", "cat", "dog", "\u20ac", 3, ""]), max_size=4), max_size=3),
       unknown=st.sampled_from(["error", "drop", "unk"]))
def test_read_corpus_failures_leave_the_vocabulary_alone(tokens, unknown):
    before = vocab_state(VOCAB)
    try:
        corpus, v = read_corpus(tokens, VOCAB, unknown=unknown)
    except CLEAR as exc:
        assert any(w in str(exc) for w in ("unknown", "token", "tokens", "sentence")), exc
    else:
        flat = [t for s in tokens for t in s]
        assert v is VOCAB and v.decode(corpus.ids) == [t for t in flat if t in VOCAB]
    assert vocab_state(VOCAB) == before


# -- Corpus -------------------------------------------------------------------------------------


@given(corpus=corpora(), s=st.integers(-6, 6), max_length=st.integers(1, 8))
def test_corpus_methods(corpus, s, max_length):
    snap = Snapshot(corpus=corpus)
    sents = sentences_of(corpus)
    assert corpus.n_tokens == sum(map(len, sents)) and corpus.n_sentences == len(sents) == len(corpus)
    assert corpus.sentence_lengths().tolist() == [len(x) for x in sents]
    assert corpus.max_id() == (max(corpus.ids.tolist()) if corpus.n_tokens else -1)
    if -len(sents) <= s < len(sents):
        assert corpus.sentence(s).tolist() == sents[s]
    else:
        raises_naming(lambda: corpus.sentence(s), "s")
    split = corpus.split_sentences(max_length)
    want = [x[i:i + max_length] for x in sents for i in range(0, max(len(x), 1), max_length)]
    assert sentences_of(split) == want
    snap.assert_unchanged()


@given(kind=st.sampled_from(["start", "end", "decreasing", "2-D", "float", "uint", "empty", "object"]))
def test_corpus_refuses_bad_offsets(kind):
    offsets = {"start": [1, 3], "end": [0, 2], "decreasing": [0, 2, 1, 3], "2-D": [[0, 3]],
               "float": [0.0, 3.0], "uint": np.array([0, 3], np.uint64), "empty": np.zeros(0, np.int64),
               "object": np.array([0, None], object)}[kind]
    ids = np.array([0, 1, 2])
    fails_cleanly(lambda: Corpus(ids, offsets), "offsets", ids=ids)


# -- Vocabulary: gensim's names ------------------------------------------------------------------


def fails_with_unknown(fn, key, **objects):
    """``fn()`` raises KeyError whose message names ``key`` (a word's repr, or a row number);
    ``objects`` are unchanged."""
    snap = Snapshot(**objects)
    with pytest.raises(KeyError) as info:
        fn()
    msg = info.value.args[0]
    assert (repr(key) if isinstance(key, str) else str(key)) in msg, msg
    snap.assert_unchanged()


@given(word=st.one_of(st.sampled_from([None, 3, 1.5, b"the", ["the"], np.array(["the"]), True]),
                      st.text(max_size=4)))
def test_get_count_and_gensim_maps(word):
    before = vocab_state(VOCAB)
    assert VOCAB.index_to_key == VOCAB.words
    assert VOCAB.key_to_index == {w: i for i, w in enumerate(VOCAB.words)}
    assert VOCAB.key_to_index is VOCAB.key_to_index  # built once, cached
    if not isinstance(word, str):
        raises_naming(lambda: VOCAB.get_count(word), "word")
    elif word in VOCAB.key_to_index:
        assert VOCAB.get_count(word) == int(VOCAB.counts[VOCAB.words.index(word)])
    else:
        fails_with_unknown(lambda: VOCAB.get_count(word), word)
    for w, c in zip(VOCAB.words, VOCAB.counts.tolist()):
        assert VOCAB.get_count(w) == c and type(VOCAB.get_count(w)) is int
    assert vocab_state(VOCAB) == before


# -- Word2Vec ----------------------------------------------------------------------------------

SENTS = [["the", "cat", "sat", "on", "the", "mat"], ["the", "dog", "sat"], ["a", "cat", "and", "a", "dog", "ran"]]
#: Options of a model that trains in about a millisecond: bit reproducible (one worker), no subsampling.
FAST = dict(vector_size=4, window=2, min_count=1, negative=2, sample=0.0, epochs=1, workers=1, progress=False)


class Recorder:
    """A callback that records the epochs it saw: a refused call must call it for none."""

    def __init__(self):
        self.calls = []

    def on_epoch_begin(self, model):
        self.calls.append("begin")

    def on_epoch_end(self, model):
        self.calls.append("end")


class HookNotCallable:
    on_epoch_begin = 3

    def on_epoch_end(self, model):
        pass


def tiny_model(**kw):
    return Word2Vec(SENTS, **{**FAST, **kw})


def model_state(m):
    """What a failed call must leave alone: the vectors, syn1neg, the losses, the epoch count (the
    draws continue from it) and the vocabulary."""
    return state_of({"vectors": m.vectors, "syn1neg": m.syn1neg, "epoch_losses": list(m.epoch_losses),
                     "epochs_trained": m._epochs_trained,
                     "vocab": None if m.vocab is None else vocab_state(m.vocab)})


_INT_BAD = [0, -1, 1.5, 2.0, np.float64(3.0), True, np.bool_(True), "1", None, [1], np.array([1, 2]), np.nan,
            np.inf, 1 + 2j, object(), -(2**63) - 1]
_FLOAT_BAD = [np.nan, np.inf, -np.inf, True, np.bool_(False), "0.1", None, [0.1], np.array([0.1, 0.2]), 1 + 2j,
              object()]
_FLAG_BAD = [2, -1, "yes", "", None, [True], np.array([True, False]), 1.0, np.nan]

#: option: values refused by the constructor, before anything is read or built
W2V_BAD = {
    "vector_size": _INT_BAD,
    "window": _INT_BAD + [MAX_WINDOW + 1, 2**63, 2**64],
    "min_count": _INT_BAD,
    "max_vocab_size": [v for v in _INT_BAD if v is not None],
    "sample": _FLOAT_BAD + [-1e-3, -1e308],
    "sg": _FLAG_BAD,
    "negative": _INT_BAD + [2**62, 2**64, 10**30],
    "ns_exponent": _FLOAT_BAD,
    "cbow_mean": _FLAG_BAD,
    "alpha": _FLOAT_BAD + [0.0, -0.0, -0.025, 1e-5],  # 1e-5: below min_alpha's default 1e-4
    "min_alpha": _FLOAT_BAD + [-1e-4, 0.5],  # 0.5: above alpha's default 0.025
    "epochs": _INT_BAD,
    "seed": [-1, 1.5, 2.0, "0", b"0", [0], np.array([1, 2]), True, object(), np.random.RandomState(0), -(2**200)],
    "workers": _INT_BAD,
    "compute_loss": _FLAG_BAD,
    "callbacks": ["ab", b"ab", 3, object(), [object()], [HookNotCallable()], [Recorder(), None]],
    "max_sentence_length": _INT_BAD,
    "progress": ["yes", "", None, 2, -1, 2.5, np.array([1, 2]), "AUTO", ["auto"]],
    "vocab": ["x", 3, {"the": 1}, ["the"], Vocabulary(["the", "cat"], [0, 0])],
    "backend": ["gpu", "", None, 1, "CPU", ["cpu"]],
}
#: option: values that can only be refused once the sentences are read (then before anything is built)
W2V_BAD_WITH_DATA = {
    "min_count": [7, 2**64],  # the vocabulary would be empty
    "ns_exponent": [1e308],  # count ** 1e308 overflows
    "epochs": [2**61, 2**64],  # epochs * tokens does not fit the int64 position counter
    "vector_size": [10**12, 2**62, 2**64, 10**30],  # the vectors cannot fit in memory
}


def _w2v_cases(table):
    return [pytest.param(o, v, id=f"{o}-{i}") for o, vs in table.items() for i, v in enumerate(vs)]


@pytest.mark.parametrize("option, value", _w2v_cases(W2V_BAD))
def test_word2vec_refuses_bad_options_before_building_anything(option, value):
    rec, gen = Recorder(), np.random.default_rng(5)
    kw = {**FAST, "callbacks": [rec], "seed": gen, option: value}
    before = gen_state(gen)
    raises_naming(lambda: Word2Vec(SENTS, **kw), option)
    raises_naming(lambda: Word2Vec(**kw), option)  # nothing to read: refused as early
    assert rec.calls == []
    if option != "seed":
        assert gen_state(gen) == before  # the seed is drawn only when the vectors are made


@pytest.mark.parametrize("option, value", _w2v_cases(W2V_BAD_WITH_DATA))
def test_word2vec_refuses_options_that_do_not_fit_the_data(option, value):
    rec, gen = Recorder(), np.random.default_rng(5)
    kw = {**FAST, "callbacks": [rec], "seed": gen, option: value}
    before = gen_state(gen)
    exc = raises_naming(lambda: Word2Vec(SENTS, **kw), option)
    assert rec.calls == [] and gen_state(gen) == before
    model = Word2Vec(**kw)  # nothing to check against yet
    if option == "epochs":
        model.build_vocab(SENTS)
        snap = model_state(model)
        raises_naming(lambda: model.train(SENTS), option)
    else:
        snap = model_state(model)
        raises_naming(lambda: model.build_vocab(SENTS), option)
        assert model.vocab is None and model.vectors is None
    assert model_state(model) == snap and rec.calls == []
    if option == "vector_size":  # refused before allocating, by the size it would need
        assert any(w in str(exc) for w in ("memory", "addressed")), exc


def test_huge_vector_size_is_refused_before_allocating():
    import tracemalloc

    tracemalloc.start()
    try:
        for d in (10**12, 2**62, 2**200):  # beyond any machine's memory
            raises_naming(lambda: Word2Vec(SENTS, **{**FAST, "vector_size": d}), "vector_size")
            raises_naming(lambda: Word2Vec(vocab=VOCAB, **{**FAST, "vector_size": d}), "vector_size")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 50 * 2**20, f"{peak} bytes allocated before the refusal"


#: option: edge values that are accepted; "same" ones must give the model of the default value
W2V_EDGE_SAME = {
    "max_vocab_size": [2**31, 2**63, 2**64, 10**30],
    "max_sentence_length": [6, 2**31, 2**63, 2**64],  # 6: the longest sentence of SENTS
    "vector_size": [np.int32(4), np.array(4)],
    "min_alpha": [np.float64(1e-4)],
    "sg": [np.bool_(False), 0],
    "compute_loss": [np.bool_(False), 0],
    "callbacks": [None, (), iter([])],
    "progress": [False, np.bool_(False), 0],
}


@pytest.mark.parametrize("option, value", _w2v_cases(W2V_EDGE_SAME))
def test_word2vec_edge_options_equal_their_plain_value(option, value):
    want = tiny_model()
    got = tiny_model(**{option: value})
    assert got.vocab == want.vocab
    np.testing.assert_array_equal(got.vectors, want.vectors)
    np.testing.assert_array_equal(got.syn1neg, want.syn1neg)


@pytest.mark.parametrize("workers", [2, 3, 64, 2**40, 2**64, np.int64(5)])
def test_more_workers_than_threads_is_fine(workers):
    import numba

    threads = numba.get_num_threads()
    model = tiny_model(workers=workers, epochs=2)
    assert model.workers == workers and numba.get_num_threads() == threads
    assert model.vectors.shape == (len(model.vocab), 4) and np.isfinite(model.vectors).all()
    assert np.isfinite(model.syn1neg).all() and model.syn1neg.any() and len(model.epoch_losses) == 2


@pytest.mark.parametrize("value", [MAX_WINDOW, 1000])
def test_the_largest_window_trains(value):
    model = tiny_model(window=value, sg=1)
    assert np.isfinite(model.vectors).all() and model.syn1neg.any()


@given(seed=st.one_of(st.integers(0, 2**70), st.sampled_from([np.int64(3), np.uint64(2**64 - 1), "gen"])),
       sg=st.booleans(), cbow_mean=st.booleans(), window=st.integers(1, 3), negative=st.integers(1, 3),
       vector_size=st.integers(1, 5), sample=st.sampled_from([0.0, 1e-3, 0.5, 1e308, 5e-324]),
       epochs=st.integers(1, 2), alpha=st.sampled_from([1e-6, 0.025, 0.1]), compute_loss=st.booleans(),
       min_alpha=st.sampled_from([0.0, 1e-7]))
def test_word2vec_runs_are_seeded_finite_and_consistent(seed, sg, cbow_mean, window, negative, vector_size, sample,
                                                        epochs, alpha, compute_loss, min_alpha):
    opts = dict(FAST, sg=sg, cbow_mean=cbow_mean, window=window, negative=negative, vector_size=vector_size,
                sample=sample, epochs=epochs, alpha=alpha, min_alpha=min_alpha, compute_loss=compute_loss)
    seeds = [np.random.default_rng(9) for _ in range(3)] if seed == "gen" else [seed] * 3
    rec = Recorder()
    a = Word2Vec(SENTS, seed=seeds[0], callbacks=[rec], **opts)
    b = Word2Vec(SENTS, seed=seeds[1], **opts)
    c = Word2Vec(seed=seeds[2], **opts)  # build_vocab + train: the constructor's steps
    corpus = c.build_vocab(SENTS)
    trained, raw = c.train(corpus)
    assert raw == epochs * corpus.n_tokens and 0 <= trained <= raw
    assert rec.calls == ["begin", "end"] * epochs
    n = len(a.vocab)
    for m in (a, b, c):
        assert m.vectors.shape == m.syn1neg.shape == (n, vector_size)
        assert m.vectors.dtype == m.syn1neg.dtype == np.float32
        np.testing.assert_array_equal(m.vectors, a.vectors)
        np.testing.assert_array_equal(m.syn1neg, a.syn1neg)
        assert np.isfinite(m.vectors).all() and np.isfinite(m.syn1neg).all()
        assert len(m.epoch_losses) == epochs
        losses = np.array(m.epoch_losses)
        assert np.array_equal(losses, np.array(a.epoch_losses), equal_nan=True)
        if compute_loss:
            assert (np.isnan(losses) | (losses >= 0)).all()  # NaN only for an epoch with no example
            if sample == 0:
                assert np.isfinite(losses).all()
        else:
            assert np.isnan(losses).all()
        latest = m.get_latest_training_loss()
        assert latest == losses[-1] or (math.isnan(latest) and math.isnan(losses[-1]))
    wv = a.wv
    assert wv.index_to_key == a.vocab.words and np.shares_memory(wv.vectors, a.vectors)


def test_get_latest_training_loss_and_wv_before_and_after_training():
    fresh = Word2Vec(**FAST)
    assert math.isnan(fresh.get_latest_training_loss())
    snap = model_state(fresh)
    raises_naming(lambda: fresh.wv, "vectors", "build_vocab")
    raises_naming(lambda: fresh.train(SENTS), "build_vocab", "vocabulary")
    assert model_state(fresh) == snap
    fresh.build_vocab(SENTS)
    assert math.isnan(fresh.get_latest_training_loss()) and fresh.epoch_losses == []
    assert fresh.wv.most_similar("the", topn=2)  # the initial vectors answer queries already
    model = tiny_model(compute_loss=True, epochs=3)
    assert model.get_latest_training_loss() == model.epoch_losses[-1] > 0
    snap = model_state(model)
    raises_naming(lambda: model.train([["zebra"]]), "sentences")
    assert model_state(model) == snap and model.get_latest_training_loss() == model.epoch_losses[-1]
    model.train(SENTS, compute_loss=False, epochs=1)
    assert math.isnan(model.get_latest_training_loss()) and len(model.epoch_losses) == 4


def _gzip_bytes():
    import gzip

    return gzip.compress(b"the cat sat\n" * 3)


_MISSING = os.path.join(_TMP.name, "no-such-corpus.txt")
#: case: (call on a trained model, argument names, errors)
TRAIN_FAILS = {
    "epochs 0": (lambda m: m.train(SENTS, epochs=0), "epochs"),
    "epochs -1": (lambda m: m.train(SENTS, epochs=-1), "epochs"),
    "epochs 1.5": (lambda m: m.train(SENTS, epochs=1.5), "epochs"),
    "epochs 2.0": (lambda m: m.train(SENTS, epochs=2.0), "epochs"),
    "epochs True": (lambda m: m.train(SENTS, epochs=True), "epochs"),
    "epochs str": (lambda m: m.train(SENTS, epochs="2"), "epochs"),
    "epochs nan": (lambda m: m.train(SENTS, epochs=np.nan), "epochs"),
    "epochs int64 overflow": (lambda m: m.train(SENTS, epochs=2**60), "epochs"),
    "epochs 2**64": (lambda m: m.train(SENTS, epochs=2**64), "epochs"),
    "alpha 0": (lambda m: m.train(SENTS, alpha=0.0), "alpha"),
    "alpha -1": (lambda m: m.train(SENTS, alpha=-1.0), "alpha"),
    "alpha nan": (lambda m: m.train(SENTS, alpha=np.nan), "alpha"),
    "alpha inf": (lambda m: m.train(SENTS, alpha=np.inf), "alpha"),
    "alpha bool": (lambda m: m.train(SENTS, alpha=True), "alpha"),
    "alpha str": (lambda m: m.train(SENTS, alpha="0.1"), "alpha"),
    "alpha below the model's min_alpha": (lambda m: m.train(SENTS, alpha=1e-5), "alpha"),
    "min_alpha above alpha": (lambda m: m.train(SENTS, alpha=0.01, min_alpha=0.02), "min_alpha"),
    "min_alpha nan": (lambda m: m.train(SENTS, min_alpha=np.nan), "min_alpha"),
    "min_alpha negative": (lambda m: m.train(SENTS, min_alpha=-1e-4), "min_alpha"),
    "compute_loss 2": (lambda m: m.train(SENTS, compute_loss=2), "compute_loss"),
    "compute_loss str": (lambda m: m.train(SENTS, compute_loss="yes"), "compute_loss"),
    "progress str": (lambda m: m.train(SENTS, progress="yes"), "progress"),
    "progress array": (lambda m: m.train(SENTS, progress=np.array([1, 2])), "progress"),
    "callbacks str": (lambda m: m.train(SENTS, callbacks="ab"), "callbacks"),
    "callbacks object": (lambda m: m.train(SENTS, callbacks=object()), "callbacks"),
    "callbacks [object]": (lambda m: m.train(SENTS, callbacks=[object()]), "callbacks"),
    "callbacks hook not callable": (lambda m: m.train(SENTS, callbacks=[HookNotCallable()]), "callbacks"),
    "no known word": (lambda m: m.train([["zebra", "unicorn"], ["yak"]]), "sentences"),
    "no known word, bytes": (lambda m: m.train(b"zebra unicorn\nyak\n"), "sentences"),
    "no sentence": (lambda m: m.train([]), "sentences"),
    "empty sentences": (lambda m: m.train([[], []]), "sentences"),
    "Corpus id outside": (lambda m: m.train(Corpus(np.array([0, 99], np.int32))), "sentences"),
    "Corpus id near int32 max": (lambda m: m.train(Corpus(np.array([2**31 - 2, 0], np.int32))), "sentences"),
    "Corpus id = n_words": (lambda m: m.train(Corpus(np.arange(len(m.vocab) + 1))), "sentences"),
    "Corpus empty": (lambda m: m.train(Corpus(np.zeros(0, np.int32))), "sentences"),
    "sentences None": (lambda m: m.train(None), "sentences"),
    "sentences int": (lambda m: m.train(3), "sentences"),
    "sentences array": (lambda m: m.train(np.arange(3)), "sentences"),
    "sentences bad token": (lambda m: m.train([["the", 3]]), "sentences"),
    "sentences empty token": (lambda m: m.train([["the", ""]]), "sentences"),
    "sentences NUL token": (lambda m: m.train([["the", "a\x00b"]]), "sentences"),
    "sentences gzip": (lambda m: m.train(_gzip_bytes()), "sentences"),
    "sentences missing file": (lambda m: m.train(_MISSING), "no-such-corpus.txt"),
}


@pytest.mark.parametrize("case", sorted(TRAIN_FAILS))
def test_a_failed_train_leaves_the_model_unchanged(case):
    call, name = TRAIN_FAILS[case]
    rec = Recorder()
    model = tiny_model(callbacks=[rec], compute_loss=True, epochs=2)
    rec.calls.clear()
    snap = model_state(model)
    raises_naming(lambda: call(model), name, errors=CLEAR + (FileNotFoundError,))
    assert model_state(model) == snap and rec.calls == []
    model.train(SENTS)  # and the model still trains, from where it was
    assert len(model.epoch_losses) == 4 and rec.calls == ["begin", "end"] * 2


BUILD_FAILS = {
    "None": (None, "sentences"), "int": (3, "sentences"), "empty": ([], "sentences"), "empty sentences": ([[]], "sentences"),
    "bad token": ([["the", 3]], "sentences"), "gzip": (_gzip_bytes(), "sentences"),
    "Corpus": (Corpus(np.array([0, 1], np.int32)), "sentences"), "str not a file": ("the cat sat", "the cat sat"),
}


@pytest.mark.parametrize("case", sorted(BUILD_FAILS))
def test_a_failed_build_vocab_leaves_the_model_unchanged(case):
    sentences, name = BUILD_FAILS[case]
    for model in (tiny_model(), Word2Vec(**FAST)):
        snap = model_state(model)
        raises_naming(lambda: model.build_vocab(sentences), name, errors=CLEAR + (FileNotFoundError,))
        assert model_state(model) == snap


@given(seed=st.integers(0, 2**64), case=st.sampled_from(["bad sentences", "no vocabulary words", "bad option",
                                                         "vector_size", "Corpus outside", "Corpus without vocab"]))
def test_a_refused_model_leaves_a_generator_seed_alone(seed, case):
    gen = np.random.default_rng(seed)
    before = gen_state(gen)
    kw = dict(FAST, seed=gen)
    call, name = {
        "bad sentences": (lambda: Word2Vec([["the", None]], **kw), "sentences"),
        "no vocabulary words": (lambda: Word2Vec([["zebra"]], vocab=VOCAB, **kw), "sentences"),
        "bad option": (lambda: Word2Vec(SENTS, **dict(kw, progress="no")), "progress"),
        "vector_size": (lambda: Word2Vec(SENTS, **dict(kw, vector_size=2**50)), "vector_size"),
        "Corpus outside": (lambda: Word2Vec(Corpus(np.array([0, 5], np.int32)), vocab=VOCAB, **kw), "sentences"),
        "Corpus without vocab": (lambda: Word2Vec(Corpus(np.array([0, 1], np.int32)), **kw), "sentences"),
    }[case]
    raises_naming(call, name)
    assert gen_state(gen) == before


def test_a_diverging_learning_rate_is_reported():
    with pytest.raises(ValueError, match="alpha"):
        Word2Vec(SENTS * 5, **{**FAST, "alpha": 1e30, "epochs": 3})
    model = Word2Vec(SENTS * 5, **FAST)
    before = (model.vectors.copy(), model.syn1neg.copy(), list(model.epoch_losses))
    with pytest.raises(ValueError, match="diverged"):
        model.train(SENTS * 5, alpha=1e30, epochs=3)
    np.testing.assert_array_equal(model.vectors, before[0])  # undone
    np.testing.assert_array_equal(model.syn1neg, before[1])
    assert model.epoch_losses == before[2]


# -- KeyedVectors -----------------------------------------------------------------------------

KV_WORDS = ["the", "cat", "sat", "on", "zero", "caf\u00e9", "x y"]  # "x y": no word2vec file can hold it
KV_VECTORS = np.array([[1, 0, 0], [0.9, 0.1, 0], [0, 1, 0], [0, 0.5, 0.5], [0, 0, 0], [-1, 0.2, 0], [0.3, 0.3, -0.3]],
                      np.float32)
D = KV_VECTORS.shape[1]
F32_MAX = float(np.finfo(np.float32).max)


def make_kv():
    kv = KeyedVectors(KV_VECTORS, KV_WORDS)
    kv.fill_norms()  # the cached norms are part of what a failed call must leave alone
    return kv


def ref_cos(a, b):
    """Cosine in float64 with each vector scaled by its largest entry first (0 for a zero vector)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if not a.any() or not b.any():
        return 0.0
    a, b = a / np.abs(a).max(), b / np.abs(b).max()
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


@given(vectors=st.one_of(odd_float_arrays((3, 2), dtype=np.float32), odd_float_arrays((3, 2), dtype=np.float64),
                         wrong_dtype_arrays((3, 2), accept=(np.float32, np.float64))),
       copy=st.booleans())
def test_keyed_vectors_take_finite_float_vectors_only(vectors, copy):
    words = ["a", "b", "c"]
    call = lambda: KeyedVectors(vectors, words, copy=copy)
    if vectors.dtype not in (np.float32, np.float64):
        fails_cleanly(call, "vectors", vectors=vectors)
        return
    with np.errstate(over="ignore", invalid="ignore"):
        as32 = vectors.astype(np.float32)
        norms = np.sqrt((vectors.astype(np.float64) ** 2).sum(axis=1))
    if not (np.isfinite(vectors).all() and np.isfinite(as32).all() and (norms <= F32_MAX).all()):
        event("refused")
        fails_cleanly(call, "vectors", vectors=vectors)
        return
    event("built")
    snap = Snapshot(vectors=vectors)
    kv = call()
    snap.assert_unchanged()
    assert kv.vectors.dtype == np.float32 and kv.vectors.flags.c_contiguous and kv.vector_size == 2
    np.testing.assert_array_equal(kv.vectors, as32)
    if copy:
        assert not np.shares_memory(kv.vectors, vectors)
    for i in range(3):  # cosines of edge values (huge, subnormal, -0.0) are still cosines
        for j in range(3):
            np.testing.assert_allclose(kv.similarity(i, j), ref_cos(as32[i], as32[j]), atol=2e-6)
    unit = kv.get_normed_vectors()
    lengths = np.linalg.norm(unit.astype(np.float64), axis=1)
    assert np.allclose(lengths[as32.any(axis=1)], 1, atol=1e-6) and not unit[~as32.any(axis=1)].any()
    assert not np.shares_memory(unit, kv.vectors)


KV_BAD_CONSTRUCTION = {
    "rows != words": (np.zeros((3, 2), np.float32), ["a", "b"], {}, "vectors"),
    "1-D": (np.zeros(3, np.float32), ["a", "b", "c"], {}, "vectors"),
    "3-D": (np.zeros((2, 1, 2), np.float32), ["a", "b"], {}, "vectors"),
    "no column": (np.zeros((2, 0), np.float32), ["a", "b"], {}, "vectors"),
    "ints": (np.zeros((2, 2), np.int64), ["a", "b"], {}, "vectors"),
    "object": (np.zeros((2, 2), object), ["a", "b"], {}, "vectors"),
    "ragged": ([[1.0, 2.0], [3.0]], ["a", "b"], {}, "vectors"),
    "None vectors": (None, ["a"], {}, "vectors"),
    "norm beyond float32": (np.full((1, 2), 3e38, np.float32), ["a"], {}, "vectors"),
    "float64 beyond float32": (np.array([[1e39, 0.0]]), ["a"], {}, "vectors"),
    "str words": (np.zeros((2, 2), np.float32), "ab", {}, "words"),
    "bytes words": (np.zeros((2, 2), np.float32), b"ab", {}, "words"),
    "None words": (np.zeros((2, 2), np.float32), None, {}, "words"),
    "int word": (np.zeros((2, 2), np.float32), ["a", 3], {}, "words"),
    "bytes word": (np.zeros((2, 2), np.float32), ["a", b"b"], {}, "words"),
    "empty word": (np.zeros((2, 2), np.float32), ["a", ""], {}, "words"),
    "duplicate": (np.zeros((2, 2), np.float32), ["a", "a"], {}, "words"),
    "no words": (np.zeros((0, 2), np.float32), [], {}, "words"),
    "copy str": (np.zeros((1, 2), np.float32), ["a"], {"copy": "no"}, "copy"),
    "copy None": (np.zeros((1, 2), np.float32), ["a"], {"copy": None}, "copy"),
    "copy 2": (np.zeros((1, 2), np.float32), ["a"], {"copy": 2}, "copy"),
}


@pytest.mark.parametrize("case", sorted(KV_BAD_CONSTRUCTION))
def test_keyed_vectors_refuse_bad_construction(case):
    vectors, words, kw, name = KV_BAD_CONSTRUCTION[case]
    arrays = {"vectors": vectors} if isinstance(vectors, np.ndarray) else {}
    fails_cleanly(lambda: KeyedVectors(vectors, words, **kw), name, **arrays)


def test_keyed_vectors_from_a_vocabulary_and_copy_false():
    v = np.ascontiguousarray(KV_VECTORS[:5])
    kv = KeyedVectors(v, VOCAB, copy=False)
    assert kv.index_to_key == VOCAB.words and kv.index_to_key is not VOCAB.words and kv.vectors is v
    assert KeyedVectors(v.astype(np.float64), VOCAB, copy=False).vectors.dtype == np.float32


_TOPN_BAD = [-1, 1.5, 2.0, True, "3", np.nan, [1], np.array([1, 2]), 1 + 2j]
_RESTRICT_BAD = [0, -1, 1.5, True, "2", np.nan, [1], np.array([2])]
_VEC_BAD = {"long": np.ones(D + 1), "short": np.ones(D - 1), "nan": np.full(D, np.nan), "inf": np.full(D, np.inf),
            "zero": np.zeros(D), "-0.0": np.full(D, -0.0), "ints": np.ones(D, np.int64), "float16": np.ones(D, np.float16),
            "object": np.ones(D, object)}  # (a float64 query beyond float32's range is fine: only its direction counts)
_WS_BAD = {"str": "the", "empty": [], "int": 5, "generator": (w for w in ["the"]), "None item": [None],
           "float item": [1.5], "list item": [["the"]], "bytes item": [b"the"]}
_FIRST = {"most_similar": "positive", "most_similar_cosmul": "positive", "similar_by_key": "key",
          "similar_by_word": "key", "similar_by_vector": "vector"}  # the query argument of each search
_QUERY = {"most_similar": ["the"], "most_similar_cosmul": ["the"], "similar_by_key": "the", "similar_by_word": "the",
          "similar_by_vector": np.ones(D)}

#: case: (call on the KeyedVectors, argument names)
KV_BAD = {
    "get_index float": (lambda kv: kv.get_index(1.0), "key"),
    "get_index bool": (lambda kv: kv.get_index(True), "key"),
    "get_index None": (lambda kv: kv.get_index(None), "key"),
    "get_index bytes": (lambda kv: kv.get_index(b"the"), "key"),
    "get_index list": (lambda kv: kv.get_index(["the"]), "key"),
    "get_index array": (lambda kv: kv.get_index(np.array([1])), "key"),
    "get_vector None": (lambda kv: kv.get_vector(None), "key"),
    "get_vector norm str": (lambda kv: kv.get_vector("the", norm="yes"), "norm"),
    "get_vector norm 2": (lambda kv: kv.get_vector("the", norm=2), "norm"),
    "get_vector norm None": (lambda kv: kv.get_vector("the", norm=None), "norm"),
    "get_vector norm array": (lambda kv: kv.get_vector("the", norm=np.array([True])), "norm"),
    "fill_norms force str": (lambda kv: kv.fill_norms(force="yes"), "force"),
    "fill_norms force None": (lambda kv: kv.fill_norms(force=None), "force"),
    "fill_norms force 2": (lambda kv: kv.fill_norms(force=2), "force"),
    "vectors = wrong rows": (lambda kv: setattr(kv, "vectors", np.zeros((2, D), np.float32)), "vectors"),
    "vectors = nan": (lambda kv: setattr(kv, "vectors", np.full((7, D), np.nan, np.float32)), "vectors"),
    "vectors = ints": (lambda kv: setattr(kv, "vectors", np.ones((7, D), np.int32)), "vectors"),
    "vectors = 1-D": (lambda kv: setattr(kv, "vectors", np.ones(7 * D, np.float32)), "vectors"),
    "vectors = ragged": (lambda kv: setattr(kv, "vectors", [[1.0]] * 6 + [[1.0, 2.0]]), "vectors"),
    "vectors = norm beyond float32": (lambda kv: setattr(kv, "vectors", np.full((7, D), 3e38, np.float32)), "vectors"),
    "add_vectors keys None": (lambda kv: kv.add_vectors(None, np.ones((1, D))), "keys"),
    "add_vectors keys int": (lambda kv: kv.add_vectors([3], np.ones((1, D))), "keys"),
    "add_vectors keys bytes": (lambda kv: kv.add_vectors(b"new", np.ones((1, D))), "keys"),
    "add_vectors keys duplicate": (lambda kv: kv.add_vectors(["new", "new"], np.ones((2, D))), "keys"),
    "add_vectors keys empty word": (lambda kv: kv.add_vectors(["new", ""], np.ones((2, D))), "keys"),
    "add_vectors ragged one": (lambda kv: kv.add_vectors("new", [[1.0, 2.0], [3.0]]), "weights"),
    "add_vectors ragged many": (lambda kv: kv.add_vectors(["n", "m"], [[1.0, 2.0, 3.0], [3.0]]), "weights"),
    "add_vectors columns": (lambda kv: kv.add_vectors(["new", "the"], np.ones((2, D + 1))), "weights"),
    "add_vectors one, columns": (lambda kv: kv.add_vectors("new", np.ones(D + 1)), "weights"),
    "add_vectors rows": (lambda kv: kv.add_vectors(["new"], np.ones((2, D))), "weights"),
    "add_vectors nan": (lambda kv: kv.add_vectors(["new", "the"], np.array([[1.0] * D, [np.nan] * D]), replace=True),
                        "weights"),
    "add_vectors inf": (lambda kv: kv.add_vectors("new", np.full(D, np.inf)), "weights"),
    "add_vectors beyond float32": (lambda kv: kv.add_vectors("new", np.full(D, 1e300)), "weights"),
    "add_vectors norm beyond float32": (lambda kv: kv.add_vectors("new", np.full(D, 3e38, np.float32)), "weights"),
    "add_vectors ints": (lambda kv: kv.add_vectors("new", np.ones(D, np.int64)), "weights"),
    "add_vectors str": (lambda kv: kv.add_vectors("new", "abc"), "weights"),
    "add_vectors None": (lambda kv: kv.add_vectors(["new"], None), "weights"),
    "add_vectors replace str": (lambda kv: kv.add_vectors("the", np.ones(D), replace="yes"), "replace"),
    "add_vectors replace 2": (lambda kv: kv.add_vectors("the", np.ones(D), replace=2), "replace"),
    "setitem columns": (lambda kv: kv.__setitem__("the", np.ones(D + 2)), "weights"),
    "setitem ragged": (lambda kv: kv.__setitem__(["the", "cat"], [[1.0, 2.0, 3.0], [1.0]]), "weights"),
    "similarity w1 None": (lambda kv: kv.similarity(None, "the"), "w1"),
    "similarity w1 list": (lambda kv: kv.similarity(["the"], "cat"), "w1"),
    "similarity w2 float": (lambda kv: kv.similarity("the", 1.5), "w2"),
    "distance w1 bool": (lambda kv: kv.distance(True, "the"), "w1"),
    "distance w2 bytes": (lambda kv: kv.distance("the", b"cat"), "w2"),
    "rank key1 None": (lambda kv: kv.rank(None, "the"), "key1"),
    "rank key2 float": (lambda kv: kv.rank("the", 2.5), "key2"),
    **{f"n_similarity ws1 {k}": (lambda kv, v=v: kv.n_similarity(v, ["the"]), "ws1") for k, v in _WS_BAD.items()},
    **{f"n_similarity ws2 {k}": (lambda kv, v=v: kv.n_similarity(["the"], v), "ws2") for k, v in _WS_BAD.items()},
    **{f"doesnt_match {k}": (lambda kv, v=v: kv.doesnt_match(v), "words") for k, v in _WS_BAD.items()},
    "most_similar no query": (lambda kv: kv.most_similar(), "positive"),
    "most_similar empty lists": (lambda kv: kv.most_similar([], []), "positive"),
    "most_similar zero word": (lambda kv: kv.most_similar("zero"), "positive"),
    "most_similar cancelling": (lambda kv: kv.most_similar(["the"], ["the"]), "positive", "negative"),
    "most_similar zero weights": (lambda kv: kv.most_similar([("the", 0.0), ("cat", 0.0)]), "positive"),
    "most_similar set": (lambda kv: kv.most_similar({"the"}), "positive"),
    "most_similar generator": (lambda kv: kv.most_similar((w for w in ["the"])), "positive"),
    "most_similar bool": (lambda kv: kv.most_similar(True), "positive"),
    "most_similar 3-D": (lambda kv: kv.most_similar(np.ones((2, 2, D))), "positive"),
    "most_similar None item": (lambda kv: kv.most_similar([None]), "positive"),
    "most_similar nested list": (lambda kv: kv.most_similar([["the"]]), "positive"),
    "most_similar bad weight str": (lambda kv: kv.most_similar([("the", "x")]), "positive"),
    "most_similar bad weight nan": (lambda kv: kv.most_similar([("the", np.nan)]), "positive"),
    "most_similar bad weight inf": (lambda kv: kv.most_similar([("the", -np.inf)]), "positive"),
    "most_similar bad weight bool": (lambda kv: kv.most_similar([("the", True)]), "positive"),
    "most_similar negative None item": (lambda kv: kv.most_similar("the", [None]), "negative"),
    "most_similar negative bad weight": (lambda kv: kv.most_similar("the", [("cat", "1")]), "negative"),
    **{f"most_similar vector {k}": (lambda kv, v=v: kv.most_similar([v]), "positive") for k, v in _VEC_BAD.items()},
    **{f"most_similar negative vector {k}": (lambda kv, v=v: kv.most_similar("the", [v]), "negative")
       for k, v in _VEC_BAD.items()},
    "most_similar_cosmul no positive": (lambda kv: kv.most_similar_cosmul(negative=["the"]), "positive"),
    "most_similar_cosmul weights": (lambda kv: kv.most_similar_cosmul([("the", 1.0)]), "positive"),
    "most_similar_cosmul set": (lambda kv: kv.most_similar_cosmul({"the"}), "positive"),
    **{f"most_similar_cosmul vector {k}": (lambda kv, v=v: kv.most_similar_cosmul([v]), "positive")
       for k, v in _VEC_BAD.items()},
    **{f"similar_by_vector {k}": (lambda kv, v=v: kv.similar_by_vector(v), "vector") for k, v in _VEC_BAD.items()},
    "similar_by_vector 2-D": (lambda kv: kv.similar_by_vector(np.ones((2, D))), "vector"),
    "similar_by_vector str": (lambda kv: kv.similar_by_vector("the"), "vector"),
    "similar_by_vector None": (lambda kv: kv.similar_by_vector(None), "vector"),
    **{f"{m} key {k}": (lambda kv, m=m, v=v: getattr(kv, m)(v), "key")
       for m in ("similar_by_key", "similar_by_word") for k, v in {"float": 1.5, "None": None, "list": ["the"],
                                                                   "bytes": b"the", "bool": True}.items()},
    **{f"{m} topn {i}": (lambda kv, m=m, v=v: getattr(kv, m)(**{_FIRST[m]: _QUERY[m], "topn": v}), "topn")
       for m in ("most_similar", "most_similar_cosmul", "similar_by_key", "similar_by_word", "similar_by_vector")
       for i, v in enumerate(_TOPN_BAD)},
    **{f"{m} restrict_vocab {i}": (lambda kv, m=m, v=v: getattr(kv, m)(**{_FIRST[m]: _QUERY[m], "restrict_vocab": v}),
                                   "restrict_vocab")
       for m in ("most_similar", "most_similar_cosmul", "similar_by_key", "similar_by_word", "similar_by_vector")
       for i, v in enumerate(_RESTRICT_BAD)},
}


@pytest.mark.parametrize("case", sorted(KV_BAD))
def test_keyed_vectors_refuse_bad_arguments_and_change_nothing(case):
    call, *names = KV_BAD[case]
    kv = make_kv()
    fails_cleanly(lambda: call(kv), *names, kv=kv)
    assert kv.most_similar("the", topn=1)[0][0] == "cat"  # and it still answers


KV_LOOKUPS = {  # name: call with an unknown key
    "get_index": lambda kv, w: kv.get_index(w),
    "get_vector": lambda kv, w: kv.get_vector(w),
    "get_vector norm": lambda kv, w: kv.get_vector(w, norm=True),
    "getitem": lambda kv, w: kv[w],
    "getitem list": lambda kv, w: kv[["the", w]],
    "similarity w1": lambda kv, w: kv.similarity(w, "the"),
    "similarity w2": lambda kv, w: kv.similarity("the", w),
    "distance": lambda kv, w: kv.distance("the", w),
    "n_similarity ws1": lambda kv, w: kv.n_similarity(["the", w], ["cat"]),
    "n_similarity ws2": lambda kv, w: kv.n_similarity(["the"], [w]),
    "rank key1": lambda kv, w: kv.rank(w, "the"),
    "rank key2": lambda kv, w: kv.rank("the", w),
    "most_similar": lambda kv, w: kv.most_similar(["the", w]),
    "most_similar negative": lambda kv, w: kv.most_similar("the", [w]),
    "most_similar weighted": lambda kv, w: kv.most_similar([(w, 2.0)]),
    "most_similar_cosmul": lambda kv, w: kv.most_similar_cosmul(["the"], [w]),
    "similar_by_key": lambda kv, w: kv.similar_by_key(w),
    "similar_by_word": lambda kv, w: kv.similar_by_word(w),
    "doesnt_match": lambda kv, w: kv.doesnt_match(["the", "cat", w]),
    "project_2d": lambda kv, w: project_2d(kv, ["the", w]),
}


@pytest.mark.parametrize("name", sorted(KV_LOOKUPS))
@given(word=st.one_of(st.text(min_size=1, max_size=6).filter(lambda w: w not in KV_WORDS),
                      st.sampled_from(["The", "cat ", "caf\u00e9\u0301", "x  y", "", -1, 7, 2**70, np.int64(-3)])))
def test_unknown_keys_raise_keyerror_naming_them(name, word):
    kv = make_kv()
    if name == "project_2d" and not isinstance(word, str):  # it takes words, not rows
        fails_cleanly(lambda: KV_LOOKUPS[name](kv, word), "words", kv=kv)
        return
    fails_with_unknown(lambda: KV_LOOKUPS[name](kv, word), word, kv=kv)


@given(k=st.integers(-300, 300), which=st.integers(0, 6), data=st.data())
def test_query_vectors_and_weights_of_any_scale_give_the_same_answer(k, which, data):
    """A query vector (or weight) scaled by 10**k, huge or subnormal, has the same direction."""
    kv = make_kv()
    assume(KV_VECTORS[which].any())
    v = KV_VECTORS[which].astype(np.float64)
    want = kv.most_similar(positive=[v], topn=None)
    np.testing.assert_allclose(kv.most_similar(positive=[v * 10.0**k], topn=None), want, atol=1e-6)
    np.testing.assert_allclose(kv.similar_by_vector(v * 10.0**k, topn=None), want, atol=1e-6)
    np.testing.assert_allclose(kv.most_similar_cosmul(positive=[v * 10.0**k], topn=None),
                               kv.most_similar_cosmul(positive=[v], topn=None), atol=1e-6)
    a, b = data.draw(st.floats(0.1, 10)), data.draw(st.floats(0.1, 10))
    scale = 10.0 ** data.draw(st.integers(-300, 307))
    got = kv.most_similar(positive=[("the", a * scale), ("on", b * scale)], topn=None)
    np.testing.assert_allclose(got, kv.most_similar(positive=[("the", a), ("on", b)], topn=None), atol=1e-6)


@given(topn=st.one_of(st.none(), st.integers(0, 12), st.sampled_from([2**31, 2**63, 2**70])),
       restrict=st.one_of(st.none(), st.integers(1, 9), st.sampled_from([2**63, 2**70])), cosmul=st.booleans(),
       data=st.data())
def test_most_similar_topn_and_restrict_vocab_edges(topn, restrict, cosmul, data):
    kv = make_kv()
    query = data.draw(st.lists(st.sampled_from(["the", "cat", "sat", "on", "caf\u00e9"]), min_size=1, max_size=2,
                               unique=True))
    call = kv.most_similar_cosmul if cosmul else kv.most_similar
    scores = call(query, topn=None, restrict_vocab=restrict)
    r = len(kv) if restrict is None else min(restrict, len(kv))
    assert scores.shape == (r,) and scores.dtype == np.float32 and np.isfinite(scores).all()
    got = call(query, topn=topn, restrict_vocab=restrict)
    if topn is None:
        np.testing.assert_array_equal(got, scores)
        return
    rows = [i for i in range(r) if kv.index_to_key[i] not in query]
    order = sorted(rows, key=lambda i: (-scores[i], i))[:topn]
    assert [w for w, _ in got] == [kv.index_to_key[i] for i in order]
    assert [s for _, s in got] == [float(scores[i]) for i in order]


def test_similarities_of_zero_and_edge_vectors():
    kv = make_kv()
    assert kv.similarity("zero", "the") == 0.0 and kv.distance("zero", "the") == 1.0
    assert kv.n_similarity(["zero"], ["the"]) == 0.0 and kv.doesnt_match(["zero"]) == "zero"
    assert not kv.get_vector("zero", norm=True).any()
    big = KeyedVectors(np.array([[1e20, 1e20], [1e-30, 0.0], [2e38, 2e38], [0.0, 3e-39]], np.float32), list("abcd"))
    for w in "abcd":  # every non-zero vector is its own nearest: float32 norms of these overflowed or vanished
        assert big.similarity(w, w) == pytest.approx(1.0, abs=1e-6)
        np.testing.assert_allclose(np.linalg.norm(big.get_vector(w, norm=True)), 1.0, atol=1e-6)
    assert big.n_similarity(["c", "c", "c"], ["a"]) == pytest.approx(1.0, abs=1e-6)
    assert big.most_similar("a", topn=1)[0] == ("c", pytest.approx(1.0, abs=1e-6))
    assert big.rank("a", "c") == 1


def test_get_vector_is_a_read_only_view_and_fill_norms_refreshes():
    kv = make_kv()
    row = kv.get_vector("cat")
    assert not row.flags.writeable and np.shares_memory(row, kv.vectors)
    with pytest.raises(ValueError):
        row[0] = 5
    kv.vectors[1] *= 2  # changed in place: norms are stale until forced
    stale = kv.norms.copy()
    kv.fill_norms()
    np.testing.assert_array_equal(kv.norms, stale)
    kv.fill_norms(force=True)
    np.testing.assert_allclose(kv.norms, np.linalg.norm(kv.vectors, axis=1), rtol=1e-6)
    assert kv.vector_size == D and kv.get_index(np.int64(2)) == 2 and kv.get_index("zz", default=-1) == -1


@given(keys=st.lists(st.sampled_from(["the", "cat", "new", "newer", "caf\u00e9", "x y"]), min_size=1, max_size=4,
                     unique=True), replace=st.booleans(), single=st.booleans())
def test_add_vectors_matches_a_dict_of_rows(keys, replace, single):
    kv = make_kv()
    if single:
        keys = keys[:1]
    weights = np.arange(len(keys) * D, dtype=np.float64).reshape(len(keys), D) + 1
    want = dict(zip(KV_WORDS, KV_VECTORS))
    for k, w in zip(keys, weights):
        if k not in want or replace:
            want[k] = w.astype(np.float32)
    if single:
        kv.add_vectors(keys[0], weights[0], replace=replace)
    else:
        kv.add_vectors(keys, weights, replace=replace)
    assert kv.index_to_key == list(want) and kv.key_to_index == {w: i for i, w in enumerate(want)}
    np.testing.assert_array_equal(kv.vectors, np.array(list(want.values())))
    assert kv.norms is None and kv.vector_size == D
    np.testing.assert_array_equal(KV_VECTORS, make_kv().vectors)  # the module's array was copied, not changed


# -- files: word2vec.c's text and binary formats, the versioned npz --------------------------------

_SAVABLE = [w for w in KV_WORDS if " " not in w]


def _savable_kv():
    return KeyedVectors(KV_VECTORS[[KV_WORDS.index(w) for w in _SAVABLE]], _SAVABLE)


def _sentinel_path():
    """A path holding an existing file: a refused save must leave it as it was."""
    return path_of(b"sentinel\n")


class _Foreign:
    """Something shaped like gensim's KeyedVectors, with whatever vectors it is given."""

    def __init__(self, words, vectors):
        self.index_to_key, self.vectors = list(words), np.asarray(vectors)
        self.key_to_index = {w: i for i, w in enumerate(words)}


SAVE_BAD = {  # case: (call(path), argument names)
    "kv method path None": (lambda p: _savable_kv().save_word2vec_format(None), "path"),
    "kv method path int": (lambda p: _savable_kv().save_word2vec_format(3), "path"),
    "kv method binary str": (lambda p: _savable_kv().save_word2vec_format(p, binary="yes"), "binary"),
    "kv method binary 2": (lambda p: _savable_kv().save_word2vec_format(p, binary=2), "binary"),
    "kv method binary None": (lambda p: _savable_kv().save_word2vec_format(p, binary=None), "binary"),
    "kv method word with a space": (lambda p: make_kv().save_word2vec_format(p), "word"),
    "kv method word with a space, binary": (lambda p: make_kv().save_word2vec_format(p, binary=True), "word"),
    "function kv None": (lambda p: save_word2vec_format(None, p), "kv"),
    "function kv array": (lambda p: save_word2vec_format(KV_VECTORS, p), "kv"),
    "function kv Vocabulary": (lambda p: save_word2vec_format(VOCAB, p), "kv"),
    "function path list": (lambda p: save_word2vec_format(_savable_kv(), [p]), "path"),
    "function binary str": (lambda p: save_word2vec_format(_savable_kv(), p, binary="no"), "binary"),
    **{f"function word {w!r}": (lambda p, w=w: save_word2vec_format(KeyedVectors(np.ones((2, 2), np.float32),
                                                                                 ["ok", w]), p), "word")
       for w in ["a b", "tab\there", "line\nbreak", "nul\x00", "cr\r", "vt\x0b", "\ud800"]},
    "function vectors nan (foreign object)": (lambda p: save_word2vec_format(_Foreign(["a"], [[np.nan, 1.0]]), p),
                                              "vectors"),
    "function vectors beyond float32": (lambda p: save_word2vec_format(_Foreign(["a"], [[1e300, 1.0]]), p),
                                        "vectors"),
    "function vectors shape": (lambda p: save_word2vec_format(_Foreign(["a", "b"], [[1.0, 1.0]]), p), "vectors"),
    "function vectors ints": (lambda p: save_word2vec_format(_Foreign(["a"], [[1, 2]]), p), "vectors"),
    "npz path None": (lambda p: make_kv().save(None), "path"),
    "npz path int": (lambda p: make_kv().save(7), "path"),
}


@pytest.mark.parametrize("case", sorted(SAVE_BAD))
def test_refused_saves_write_nothing(case):
    call, name = SAVE_BAD[case]
    p = _sentinel_path()
    fails_cleanly(lambda: call(p), name)
    with open(p, "rb") as f:
        assert f.read() == b"sentinel\n"


def test_saves_to_unopenable_paths_name_them():
    folder = tempfile.mkdtemp(dir=_TMP.name)
    for call in (lambda p: make_kv().save(p), lambda p: _savable_kv().save_word2vec_format(p)):
        with pytest.raises(OSError, match=os.path.basename(folder)):
            call(folder)  # a directory
        with pytest.raises(FileNotFoundError, match="missing"):
            call(os.path.join(folder, "missing", "kv.txt"))


_FILE_WORD = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=" \t\n\v\f\r\x00"),
                     min_size=1, max_size=4)


@given(words=st.lists(_FILE_WORD, min_size=1, max_size=5, unique=True), d=st.integers(1, 3), data=st.data(),
       binary=st.booleans(), limit=st.one_of(st.none(), st.integers(1, 6), st.just(2**70)))
def test_word2vec_files_round_trip_exactly(words, d, data, binary, limit):
    edge = st.sampled_from([0.0, -0.0, 1e-45, -1.17e-38, 3e-39, 1e30, -1e30, 0.1, 1 / 3])
    vectors = data.draw(hnp.arrays(np.float32, (len(words), d),
                                   elements=edge | st.floats(-1e6, 1e6, width=32)))
    kv = KeyedVectors(vectors, words)
    p = path_of(b"")
    if data.draw(st.booleans()):
        kv.save_word2vec_format(p, binary=binary)
    else:
        save_word2vec_format(kv, p, binary=binary)
    loaded = (load_word2vec_format if data.draw(st.booleans()) else KeyedVectors.load_word2vec_format)(
        p, binary=binary, limit=limit)
    m = len(words) if limit is None else min(limit, len(words))
    assert loaded.index_to_key == words[:m]
    assert loaded.vectors.tobytes() == vectors[:m].tobytes()  # bit-exact, -0.0 and subnormals included


@given(words=st.lists(st.text(min_size=1, max_size=4), min_size=1, max_size=5, unique=True), d=st.integers(1, 3),
       data=st.data())
def test_npz_round_trips_any_words_exactly(words, d, data):
    vectors = data.draw(hnp.arrays(np.float32, (len(words), d), elements=st.floats(-1e6, 1e6, width=32)))
    kv = KeyedVectors(vectors, words)
    p = path_of(b"")
    kv.save(p)
    back = KeyedVectors.load(p)
    assert back.index_to_key == words and back.vectors.tobytes() == vectors.tobytes()


def _good_files():
    kv = _savable_kv()
    out = {}
    for kind in ("text", "binary", "npz"):
        p = path_of(b"")
        if kind == "npz":
            kv.save(p)
        else:
            kv.save_word2vec_format(p, binary=kind == "binary")
        with open(p, "rb") as f:
            out[kind] = f.read()
    return out


GOOD_FILES = _good_files()
_LOADERS = {"text": lambda p: load_word2vec_format(p),
            "binary": lambda p: KeyedVectors.load_word2vec_format(p, binary=True),
            "npz": lambda p: KeyedVectors.load(p)}


@given(kind=st.sampled_from(["text", "binary", "npz"]), seed=st.integers(0, 2**32), extra=st.binary(max_size=24))
def test_damaged_files_are_refused_naming_them_or_read_whole(kind, seed, extra):
    good = GOOD_FILES[kind]
    n, d = len(_SAVABLE), D
    for data in corrupt_bytes(good, seed) + [good + extra, extra + good, good[:-1], good + b"\n" + good]:
        p = path_of(data)
        try:
            kv = _LOADERS[kind](p)
        except ValueError as exc:
            assert p in str(exc), exc
            event("refused")
            continue
        event("read")
        assert isinstance(kv, KeyedVectors) and np.isfinite(kv.vectors).all()
        assert len(set(kv.index_to_key)) == len(kv) and all(kv.index_to_key)
        if kind == "npz":  # checksummed: what is read is what was saved
            assert kv.index_to_key == _SAVABLE and kv.vectors.tobytes() == _savable_kv().vectors.tobytes()
        else:  # the header's shape (a damaged float may read as another finite float)
            assert kv.vectors.shape == (n, d)


@pytest.mark.parametrize("data, binary", [
    (b"", False), (b"\n", False), (b"2 3\n", False), (b"1 3\na 1 2\n", False), (b"1 3\na 1 2 3 4\n", False),
    (b"1 3\na 1 2 nan\n", False), (b"1 3\na 1 2 inf\n", False), (b"1 3\na 1 2 1e39\n", False),
    (b"1 3\na 1 2 0x10\n", False), (b"1 3\na 1 2 1_0\n", False), (b"1 2\na \xd9\xa1 1\n", False),
    (b"2 1\na 1\na 2\n", False), (b"1 1\na 1\nb 2\n", False), (b"1 1\na 1", False), (b"0 3\n", False),
    (b"-1 3\n", False), (b"1 0\n", False), (b"99999999999 99999999999\n", False), (b"1 99999999999999\n", False),
    (b"x y\n", False), (b"1 1 1\n", False), (b"1\n", False), (b"1 1\n\xff 1\n", False), (b"1 1\n 1\n", False),
    (b"1 2\na " + np.array([1, np.nan], "<f4").tobytes(), True),
    (b"1 2\na " + np.array([1, np.inf], "<f4").tobytes(), True),
    (b"1 2\na " + np.array([1, 2], "<f4").tobytes()[:5], True),
    (b"1 2\na " + np.array([1, 2], "<f4").tobytes() + b"\nb", True),
    (b"2 1\na " + np.array([1], "<f4").tobytes() + b"a " + np.array([1], "<f4").tobytes(), True),
    (b"1 3\na 1 2 3\n", True),  # a text file read as binary
    (b"1 99999999999999\n", True), (b"", True),
])
def test_malformed_word2vec_files_name_the_file(data, binary):
    p = path_of(data)
    exc = raises_naming(lambda: load_word2vec_format(p, binary=binary), p, errors=(ValueError,))
    assert "Traceback" not in str(exc)


_READ_BAD = {  # option: (values, name)
    "binary": ([2, "yes", None, [True], 1.0], "binary"),
    "limit": ([0, -1, 1.5, 2.0, True, "2", np.nan, [1]], "limit"),
    "encoding": ([3, None, "bogus", "rot13", "base64", b"utf8", ["utf8"]], "encoding"),
    "unicode_errors": ([3, None, "bogus", b"strict"], "unicode_errors"),
}


@pytest.mark.parametrize("option, value", [pytest.param(o, v, id=f"{o}-{i}") for o, (vs, _) in _READ_BAD.items()
                                           for i, v in enumerate(vs)])
def test_load_word2vec_format_refuses_bad_options(option, value):
    p = path_of(GOOD_FILES["text"])
    raises_naming(lambda: load_word2vec_format(p, **{option: value}), option)
    raises_naming(lambda: KeyedVectors.load_word2vec_format(p, **{option: value}), option)


@given(path=st.sampled_from([None, 3, 2.5, ["a"], b"\x00", "definitely/not/here.txt"]),
       loader=st.sampled_from(["function", "method", "npz"]))
def test_loads_refuse_bad_paths(path, loader):
    call = {"function": lambda: load_word2vec_format(path), "method": lambda: KeyedVectors.load_word2vec_format(path),
            "npz": lambda: KeyedVectors.load(path)}[loader]
    if isinstance(path, str):
        with pytest.raises(FileNotFoundError, match="here.txt"):
            call()
        return
    raises_naming(call, "path", "null", "NUL", "embedded")


@given(encoding=st.sampled_from(["utf-8", "latin-1", "utf-16", "utf-32", "ascii"]),
       errors=st.sampled_from(["strict", "replace", "ignore", "surrogateescape"]))
def test_words_that_do_not_decode_are_named_or_read_by_the_handler(encoding, errors):
    p = path_of(b"3 1\ncaf\xc3\xa9 1\n\xff 2\nx\xfe 3\n")
    try:
        kv = load_word2vec_format(p, encoding=encoding, unicode_errors=errors)
    except ValueError as exc:
        assert p in str(exc), exc
        event("refused")
        return
    event("read")
    assert len(kv) == 3 and all(kv.index_to_key) and kv.vectors.ravel().tolist() == [1, 2, 3]


# -- evaluation -------------------------------------------------------------------------------------

PAIRS = path_of("# comment\nword1\tword2\tscore\nthe\tcat\t8\ncat\tsat\t3\nsat\ton\t5\ncaf\u00e9\tthe\t1\n"
                "the\tunknown\t2\n".encode())
ANALOGIES = path_of(b": one\nthe cat sat on\ncat the on sat\n: two\nthe sat cat on\nthe zz cat on\n")


def _pairs_call(kind):
    return (lambda kv, *a, **k: evaluate_word_pairs(kv, *a, **k)) if kind == "function" else \
        (lambda kv, *a, **k: kv.evaluate_word_pairs(*a, **k))


def _analogies_call(kind):
    return (lambda kv, *a, **k: evaluate_word_analogies(kv, *a, **k)) if kind == "function" else \
        (lambda kv, *a, **k: kv.evaluate_word_analogies(*a, **k))


EVAL_BAD = {  # case: (call(kv, evaluate), argument names)
    "file path None": (lambda kv, ev: ev(kv, None), "FILE"),  # FILE: the file's argument, pairs or analogies
    "file path int": (lambda kv, ev: ev(kv, 3), "FILE"),
    "file path list": (lambda kv, ev: ev(kv, [PAIRS]), "FILE"),
    "restrict_vocab 0": (lambda kv, ev: ev(kv, ev.file, restrict_vocab=0), "restrict_vocab"),
    "restrict_vocab -1": (lambda kv, ev: ev(kv, ev.file, restrict_vocab=-1), "restrict_vocab"),
    "restrict_vocab 1.5": (lambda kv, ev: ev(kv, ev.file, restrict_vocab=1.5), "restrict_vocab"),
    "restrict_vocab bool": (lambda kv, ev: ev(kv, ev.file, restrict_vocab=True), "restrict_vocab"),
    "restrict_vocab nan": (lambda kv, ev: ev(kv, ev.file, restrict_vocab=np.nan), "restrict_vocab"),
    "case_insensitive 2": (lambda kv, ev: ev(kv, ev.file, case_insensitive=2), "case_insensitive"),
    "case_insensitive str": (lambda kv, ev: ev(kv, ev.file, case_insensitive="yes"), "case_insensitive"),
    "case_insensitive None": (lambda kv, ev: ev(kv, ev.file, case_insensitive=None), "case_insensitive"),
    "dummy4unknown 2": (lambda kv, ev: ev(kv, ev.file, dummy4unknown=2), "dummy4unknown"),
    "dummy4unknown None": (lambda kv, ev: ev(kv, ev.file, dummy4unknown=None), "dummy4unknown"),
    "encoding int": (lambda kv, ev: ev(kv, ev.file, encoding=3), "encoding"),
    "encoding None": (lambda kv, ev: ev(kv, ev.file, encoding=None), "encoding"),
    "encoding bogus": (lambda kv, ev: ev(kv, ev.file, encoding="bogus"), "encoding"),
    "encoding rot13": (lambda kv, ev: ev(kv, ev.file, encoding="rot13"), "encoding"),
    "encoding utf-16 without BOM": (lambda kv, ev: ev(kv, ev.file, encoding="utf-16"), "encoding"),
    "encoding utf-32 without BOM": (lambda kv, ev: ev(kv, ev.file, encoding="utf-32"), "encoding"),
    "binary file": (lambda kv, ev: ev(kv, path_of(GOOD_FILES["binary"])), "encoding"),
    "empty file": (lambda kv, ev: ev(kv, path_of(b"")), "pairs", "questions"),
}
PAIRS_BAD = {
    "delimiter empty": (lambda kv, ev: ev(kv, PAIRS, delimiter=""), "delimiter"),
    "delimiter int": (lambda kv, ev: ev(kv, PAIRS, delimiter=3), "delimiter"),
    "delimiter None": (lambda kv, ev: ev(kv, PAIRS, delimiter=None), "delimiter"),
    "delimiter bytes": (lambda kv, ev: ev(kv, PAIRS, delimiter=b"\t"), "delimiter"),
    "all pairs unknown": (lambda kv, ev: ev(kv, path_of(b"zz\tyy\t1\nyy\tzz\t2\n")), "pairs"),
    "one usable pair": (lambda kv, ev: ev(kv, path_of(b"the\tcat\t1\nzz\tyy\t2\n")), "pairs"),
    "no score": (lambda kv, ev: ev(kv, path_of(b"the\tcat\tx\ncat\tsat\ty\n")), "pairs"),
}
ANALOGIES_BAD = {
    "no section": (lambda kv, ev: ev(kv, path_of(b"the cat sat on\n")), "analogies", "section"),
    "no question": (lambda kv, ev: ev(kv, path_of(b": one\n: two\nthe cat\n")), "analogies", "questions"),
}


@pytest.mark.parametrize("kind", ["function", "method"])
@pytest.mark.parametrize("what, case", [("pairs", c) for c in sorted({**EVAL_BAD, **PAIRS_BAD})]
                         + [("analogies", c) for c in sorted({**EVAL_BAD, **ANALOGIES_BAD})])
def test_evaluation_refuses_bad_arguments_and_files(what, case, kind):
    ev = _pairs_call(kind) if what == "pairs" else _analogies_call(kind)
    ev.file = PAIRS if what == "pairs" else ANALOGIES
    call, *names = {**EVAL_BAD, **(PAIRS_BAD if what == "pairs" else ANALOGIES_BAD)}[case]
    names = [what if n == "FILE" else n for n in names]
    kv = make_kv()
    exc = fails_cleanly(lambda: call(kv, ev), *names, kv=kv)
    if case in ("binary file", "empty file", "all pairs unknown", "one usable pair", "no score", "no section",
                "no question"):
        assert _TMP.name in str(exc)  # the file is named


@pytest.mark.parametrize("what", ["pairs", "analogies"])
@pytest.mark.parametrize("kv", [None, 3, KV_VECTORS, VOCAB, _Foreign(["the", "cat"], [[1.0, 0.0]]),
                                _Foreign(["the", "cat"], [[1.0, np.nan], [0.0, 1.0]]), _Foreign(["the"], [1.0, 2.0]),
                                _Foreign(["the", "cat"], [[1, 0], [0, 1]]), _Foreign(["the", "cat"], np.zeros((2, 0)))],
                         ids=["None", "int", "array", "Vocabulary", "rows", "nan", "1-D", "ints", "no columns"])
def test_evaluation_refuses_what_is_not_word_vectors(what, kv):
    ev = evaluate_word_pairs if what == "pairs" else evaluate_word_analogies
    raises_naming(lambda: ev(kv, PAIRS if what == "pairs" else ANALOGIES), "kv")


@given(lines=st.lists(st.sampled_from(["the\tcat\t8", "cat\tsat\t3", "sat\ton\tnan", "on\tthe\tinf", "zero\tthe\t2",
                                       "the\tthe\t1e308", "x y\tcat\t-1e308", "caf\u00e9\tsat\t0", "# the\tcat\t1",
                                       "the\tcat", "\t\t", "the\tcat\t1\t2", "THE\tCat\t4", "zz\tthe\t5", "",
                                       "the\tzero\t-0.0"]), max_size=9),
       restrict=st.one_of(st.none(), st.integers(1, 8)), ci=st.booleans(), dummy=st.booleans())
def test_evaluate_word_pairs_on_odd_files(lines, restrict, ci, dummy):
    p = path_of("\n".join(lines).encode())
    kv = make_kv()
    snap = Snapshot(kv=kv)
    try:
        (pearson, spearman, oov) = evaluate_word_pairs(kv, p, restrict_vocab=restrict, case_insensitive=ci,
                                                       dummy4unknown=dummy)
    except ValueError as exc:
        assert p in str(exc) and "usable word pairs" in str(exc), exc
        event("refused")
        snap.assert_unchanged()
        return
    event("evaluated")
    snap.assert_unchanged()
    for r, pv in (pearson, spearman):
        assert math.isnan(r) or -1 - 1e-9 <= r <= 1 + 1e-9
        assert math.isnan(pv) or 0 <= pv <= 1
    assert 0 <= oov <= 100


@given(questions=st.lists(st.tuples(*[st.sampled_from(["the", "cat", "sat", "on", "zero", "caf\u00e9", "THE", "zz"])]
                                    * 4), min_size=1, max_size=8),
       sections=st.integers(1, 3), restrict=st.one_of(st.none(), st.integers(1, 8)), ci=st.booleans(),
       dummy=st.booleans())
def test_evaluate_word_analogies_counts_every_question_once(questions, sections, restrict, ci, dummy):
    text = "".join(f": s{k}\n" + "".join(" ".join(q) + "\n" for q in questions[k::sections]) for k in range(sections))
    kv = make_kv()
    snap = Snapshot(kv=kv)
    score, result = evaluate_word_analogies(kv, path_of(text.encode()), restrict_vocab=restrict, case_insensitive=ci,
                                            dummy4unknown=dummy)
    snap.assert_unchanged()
    r = len(kv) if restrict is None else min(restrict, len(kv))
    known = {w.upper() if ci else w for w in KV_WORDS[:r]}
    norm = [tuple(w.upper() if ci else w for w in q) for q in questions]
    counted = [q for q in norm if dummy or all(w in known for w in q)]
    total = result[-1]
    assert result[-1]["section"] == "Total accuracy" and len(result) == sections + 1
    assert sorted(total["correct"] + total["incorrect"]) == sorted(counted)
    assert score == (len(total["correct"]) / len(counted) if counted else 0.0)
    assert all(all(w in known for w in q) for q in total["correct"])


# -- projection and the word map ---------------------------------------------------------------------


_PROJECT_BAD = {  # case: (call, argument names)
    "method str": (lambda: project_2d(KV_VECTORS, method="PCA"), "method"),
    "method None": (lambda: project_2d(KV_VECTORS, method=None), "method"),
    "method int": (lambda: project_2d(KV_VECTORS, method=1), "method"),
    **{f"seed {i}": (lambda s=s: project_2d(KV_VECTORS, seed=s), "seed")
       for i, s in enumerate([-1, 1.5, "0", b"0", [0], np.array([1, 2]), True, object(), np.random.RandomState(0)])},
    **{f"tsne seed {i}": (lambda s=s: project_2d(KV_VECTORS, method="tsne", seed=s), "seed")
       for i, s in enumerate([-1, "0", True])},
    "tsne two vectors": (lambda: project_2d(KV_VECTORS[:2], method="tsne"), "tsne"),
    "vectors ints": (lambda: project_2d(np.ones((3, 2), np.int64)), "kv_or_vectors"),
    "vectors 1-D": (lambda: project_2d(np.ones(3)), "kv_or_vectors"),
    "vectors 3-D": (lambda: project_2d(np.ones((2, 2, 2))), "kv_or_vectors"),
    "vectors nan": (lambda: project_2d(np.array([[1.0, np.nan], [0.0, 1.0]])), "kv_or_vectors"),
    "vectors inf": (lambda: project_2d(np.array([[1.0, np.inf], [0.0, 1.0]])), "kv_or_vectors"),
    "vectors empty": (lambda: project_2d(np.zeros((0, 3))), "kv_or_vectors"),
    "vectors no column": (lambda: project_2d(np.zeros((3, 0))), "kv_or_vectors"),
    "vectors None": (lambda: project_2d(None), "kv_or_vectors"),
    "vectors str": (lambda: project_2d("the"), "kv_or_vectors"),
    "words with an array": (lambda: project_2d(KV_VECTORS, ["the"]), "words"),
    "words str": (lambda: project_2d(make_kv(), "the"), "words"),
    "words int": (lambda: project_2d(make_kv(), 3), "words"),
    "words empty": (lambda: project_2d(make_kv(), []), "words"),
    "words None item": (lambda: project_2d(make_kv(), ["the", None]), "words"),
    "words row number": (lambda: project_2d(make_kv(), [0, 1]), "words"),
}


@pytest.mark.parametrize("case", sorted(_PROJECT_BAD))
def test_project_2d_refuses_bad_arguments(case):
    call, name = _PROJECT_BAD[case]
    fails_cleanly(call, name, vectors=KV_VECTORS)


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_a_refused_projection_leaves_a_generator_seed_alone(method):
    gen = np.random.default_rng(3)
    before = gen_state(gen)
    raises_naming(lambda: project_2d(np.array([[1.0, np.nan], [0.0, 1.0]]), method=method, seed=gen), "kv_or_vectors")
    raises_naming(lambda: project_2d(make_kv(), ["the", 3], method=method, seed=gen), "words")
    raises_naming(lambda: project_2d(KV_VECTORS[:2], method="tsne", seed=gen), "tsne")
    assert gen_state(gen) == before


@given(x=hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 3)),
                    elements=st.integers(-16, 16).map(lambda v: v / 8)),
       k=st.one_of(st.integers(-1070, 1020), st.sampled_from([-1070, 1020])),
       seed=st.one_of(st.integers(0, 2**70), st.just("gen")))
def test_pca_is_exact_under_power_of_two_scaling(x, k, seed):
    """Huge (2**1020) and subnormal (2**-1070) vectors project as their scaled copies: the mean of
    huge values does not overflow, and tiny ones keep their digits."""
    gen = np.random.default_rng(1) if seed == "gen" else seed
    before = gen_state(gen) if seed == "gen" else None
    want = project_2d(x, seed=gen)
    assert want.shape == (x.shape[0], 2) and np.isfinite(want).all()
    got = project_2d(x * 2.0**k, seed=gen)
    np.testing.assert_array_equal(got, want * 2.0**k)
    if seed == "gen":  # PCA draws nothing
        assert gen_state(gen) == before
    xc = x - x.mean(axis=0)  # the coordinates are the centred rows on orthonormal axes: distances kept
    if x.shape[0] > 1 and np.linalg.matrix_rank(xc) <= 2:
        np.testing.assert_allclose(np.linalg.norm(want[:, None] - want[None], axis=-1),
                                   np.linalg.norm(xc[:, None] - xc[None], axis=-1), atol=1e-9)


def test_tsne_takes_any_non_negative_seed():
    xy = project_2d(KV_VECTORS[:4], method="tsne", seed=2**40)  # beyond scikit-learn's 32-bit random_state
    assert xy.shape == (4, 2) and np.isfinite(xy).all()


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    return plt, fig, ax


_PLOT_BAD = {  # case: (call(kv, ax), argument names)
    "kv array": (lambda kv, ax: plot_words(KV_VECTORS, ["the"], ax=ax), "kv"),
    "kv None": (lambda kv, ax: plot_words(None, ["the"], ax=ax), "kv"),
    "words None": (lambda kv, ax: plot_words(kv, None, ax=ax), "words"),
    "words str": (lambda kv, ax: plot_words(kv, "the", ax=ax), "words"),
    "words empty": (lambda kv, ax: plot_words(kv, [], ax=ax), "words"),
    "words int item": (lambda kv, ax: plot_words(kv, ["the", 3], ax=ax), "words"),
    "ax int": (lambda kv, ax: plot_words(kv, ["the"], ax=3), "ax"),
    "ax str": (lambda kv, ax: plot_words(kv, ["the"], ax="ax"), "ax"),
    "method": (lambda kv, ax: plot_words(kv, ["the", "cat"], method="umap", ax=ax), "method"),
    "seed": (lambda kv, ax: plot_words(kv, ["the", "cat"], ax=ax, seed="x"), "seed"),
    "path int": (lambda kv, ax: plot_words(kv, ["the", "cat"], path=3, ax=ax), "path"),
    "path suffix": (lambda kv, ax: plot_words(kv, ["the", "cat"], path=os.path.join(_TMP.name, "map.xyz"), ax=ax),
                    "path"),
    "path folder missing": (lambda kv, ax: plot_words(kv, ["the", "cat"], path=os.path.join(_TMP.name, "no", "m.png"),
                                                      ax=ax), "path"),
    "vectors of the words nan": (lambda kv, ax: plot_words(_Foreign(["a", "b"], [[1.0, np.nan], [0.0, 1.0]]),
                                                          ["a", "b"], ax=ax), "kv"),
}


@pytest.mark.parametrize("case", sorted(_PLOT_BAD))
def test_plot_words_refuses_before_drawing(case):
    call, name = _PLOT_BAD[case]
    plt, fig, ax = _axes()
    try:
        kv = make_kv()
        files = set(os.listdir(_TMP.name))
        fails_cleanly(lambda: call(kv, ax), name, errors=CLEAR + (FileNotFoundError,), kv=kv)
        assert not ax.collections and not ax.texts and not ax.get_xlabel()  # nothing drawn
        assert set(os.listdir(_TMP.name)) == files  # nothing written
    finally:
        plt.close(fig)


def test_plot_words_unknown_word_draws_nothing():
    plt, fig, ax = _axes()
    try:
        kv = make_kv()
        fails_with_unknown(lambda: plot_words(kv, ["the", "zebra"], ax=ax), "zebra", kv=kv)
        assert not ax.collections and not ax.texts
    finally:
        plt.close(fig)


def test_plot_words_draws_and_writes():
    plt, fig, ax = _axes()
    try:
        p = os.path.join(_TMP.name, "map.png")
        assert plot_words(make_kv(), ["the", "cat", "x y"], path=p, ax=ax, seed=np.uint64(2**64 - 1)) is ax
        assert len(ax.collections) == 1 and [t.get_text() for t in ax.texts] == ["the", "cat", "x y"]
        with open(p, "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    finally:
        plt.close(fig)


# -- NCEWord2Vec (the TF tutorial's model) ---------------------------------------------------------

NCE_DATA = np.array([0, 1, 0, 2, 3, 0, 1, 4, 0, 2, 1, 0, 3, 0, 1, 2], np.int64)
NCE_FAST = dict(batch_size=4, num_skips=2, skip_window=1, num_sampled=2)


def nce_model():
    m = NCEWord2Vec(5, 4, seed=1)
    m.train(NCE_DATA, 2, **NCE_FAST)
    return m


NCE_BAD_TRAIN = {
    "data": [NCE_DATA.astype(float), np.array([0, 1, 5, 2, 0]), np.array([0, -1, 2, 3]), "abc", [[0, 1], [2, 3]],
             np.array([0, 1], np.int64)],
    "num_steps": _INT_BAD,
    "batch_size": [0, -4, 3, 1.5, None, "4", 2**62],
    "num_skips": [0, 3, 1.5, None],
    "skip_window": [0, -1, 1.5, None],
    "num_sampled": [0, 6, -1, 1.5, None, True],
    "learning_rate": _FLOAT_BAD + [0.0, -1.0],
}


@pytest.mark.parametrize("option, value", _w2v_cases(NCE_BAD_TRAIN))
def test_nce_train_refuses_bad_input_and_leaves_the_model_unchanged(option, value):
    m = nce_model()
    before = state_of(m.__dict__)
    kw = dict(NCE_FAST)
    if option == "data":
        raises_naming(lambda: m.train(value, 1, **kw), "data", "span")
    elif option == "num_steps":
        raises_naming(lambda: m.train(NCE_DATA, value, **kw), option)
    else:
        kw[option] = value
        raises_naming(lambda: m.train(NCE_DATA, 1, **kw), option, "batch_size", "num_skips")
    assert state_of(m.__dict__) == before


@pytest.mark.parametrize("args", [(0,), (-3,), (1.5,), ("5",), (None,), (5, 0), (5, 1.5), (5, 2**50),
                                  (Vocabulary(["a"], [0]).__class__(["a"], [1]), None)])
def test_nce_construction_refuses_bad_sizes(args):
    raises_naming(lambda: NCEWord2Vec(*args), "vocabulary_size", "embedding_size")


def test_nce_model_api():
    m = nce_model()
    assert m.step == 2
    assert NCEWord2Vec.average_losses([3.0, 1.0, 2.0], every=2) == [(0, 3.0), (2, 1.5)]
    raises_naming(lambda: NCEWord2Vec.average_losses([1.0], every=0), "every")
    raises_naming(lambda: m.wv, "Vocabulary")
    v = NCEWord2Vec(VOCAB, 4, seed=1)
    assert v.wv.vectors.shape == (5, 4)
