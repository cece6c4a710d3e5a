"""Contract tests of fastkernels.word2vec (docs/CONTRACT.md, word2vec section).

Every public function and method is driven with generated bad and edge inputs:

* a bad input raises TypeError/ValueError naming the argument (FileNotFoundError/OSError naming
  the file for files that cannot be opened, KeyError for ``Vocabulary.index`` of an absent word);
* after an error the caller's arrays, ``out=`` buffers, Vocabulary/NegativeSampler/Corpus objects
  and a ``numpy.random.Generator`` seed are unchanged;
* a call that returns on edge input agrees with a plain Python/NumPy reference.

The corpora are tiny: each example costs microseconds to a few milliseconds.
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
    NegativeSampler,
    Vocabulary,
    cbow_windows,
    generate_batch,
    keep_probability,
    log_uniform_candidates,
    log_uniform_probability,
    pair_counts,
    read_corpus,
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
    "cbow_windows", "generate_batch", "keep_probability", "log_uniform_candidates", "log_uniform_probability",
    "pair_counts", "read_corpus", "skipgram_pairs", "subsample",
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
    ("Vocabulary.from_counts", "max_size"): lambda v: Vocabulary.from_counts({"a": 2}, max_size=v),
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
    ("Vocabulary.from_counts", "max_size"): lambda: Vocabulary.from_counts({"a": 2}),
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
