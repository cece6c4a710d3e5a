"""Regression tests of issue 13 (reliability) in the word2vec area: every defect a review found,
each failing before its fix. The property tests of the same contract are in
tests/contract/test_word2vec.py."""

import gzip
import io

import numpy as np
import pytest

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
from fastkernels.word2vec.batches import MAX_SKIP_WINDOW, MAX_WINDOW
from fastkernels.word2vec.sampling import MAX_RANGE

pytestmark = pytest.mark.bad_input

FLOAT_IDS = [0.9, 1.7, 2.2, 0.1, 1.5, 2.9, 0.4, 1.0]
VOCAB = Vocabulary(["a", "b", "c"], [5, 3, 2])
SAMPLER = NegativeSampler([5, 3, 2])


# -- 1. float ids are refused, never truncated ------------------------------------------

ID_CALLS = {
    "generate_batch": (lambda ids: generate_batch(ids, 4, 2, 1, seed=0), "data"),
    "skipgram_pairs": (lambda ids: skipgram_pairs(ids, 2, seed=0), "corpus"),
    "cbow_windows": (lambda ids: cbow_windows(ids, 2, seed=0), "corpus"),
    "pair_counts": (lambda ids: pair_counts(ids, 2, seed=0), "corpus"),
    "subsample": (lambda ids: subsample(ids, np.ones(3), seed=0), "corpus"),
    "NegativeSampler.sample": (lambda ids: SAMPLER.sample(len(ids), 2, exclude=ids, seed=0), "exclude"),
    "log_uniform_candidates": (lambda ids: log_uniform_candidates(ids, 2, 5, seed=0), "true_classes"),
    "log_uniform_probability": (lambda ids: log_uniform_probability(ids, 5), "classes"),
    "Vocabulary.decode": (lambda ids: VOCAB.decode(ids), "ids"),
    "Corpus": (lambda ids: Corpus(ids), "ids"),
    "Corpus offsets": (lambda ids: Corpus([0, 1, 2], offsets=[0.0, 1.5, 3.0]), "offsets"),
}


@pytest.mark.parametrize("name", sorted(ID_CALLS))
@pytest.mark.parametrize("form", ["list", "array"])
def test_float_ids_are_refused_not_truncated(name, form):
    call, arg = ID_CALLS[name]
    ids = FLOAT_IDS if form == "list" else np.array(FLOAT_IDS)
    with pytest.raises(TypeError, match=rf"{arg}\b.*dtype int32 or int64, got float64"):
        call(ids)


def test_read_corpus_refuses_id_arrays_and_float_tokens():
    with pytest.raises(TypeError, match="already token ids"):
        read_corpus(np.array(FLOAT_IDS))
    with pytest.raises(TypeError, match="tokens must be str; sentence 0, token 0 is float"):
        read_corpus([FLOAT_IDS], min_count=1)


def test_id_errors_name_the_callers_argument():
    with pytest.raises(ValueError, match=r"corpus ids must lie in"):
        subsample([0, 3], np.ones(3))
    with pytest.raises(TypeError, match=r"^corpus ids must have dtype"):
        skipgram_pairs([True, False], 1)


def test_decode_of_an_empty_list_and_of_a_single_id():
    assert VOCAB.decode([]) == []  # was: TypeError (np.asarray([]) is float64)
    assert VOCAB.decode(1) == "b" and VOCAB.decode(np.int64(2)) == "c"  # was: AttributeError


def test_generate_batch_empty_data_names_the_span():
    with pytest.raises(ValueError, match="data has 0 ids, fewer than the span"):
        generate_batch([], 4, 2, 1)


# -- 2. damaged vocabulary files and corpora ---------------------------------------------

DAMAGED = {
    "empty": (b"", "empty vocabulary file"),
    "blank lines only": (b"\n  \n\t\n", "empty vocabulary file"),
    "count beyond int64": (b"a 3\nb 99999999999999999999999\n", "line 2: count 9+ does not fit in an int64"),
    "negative count": (b"a -1\n", "line 1: expected 'word count' with a non-negative integer count"),
    "non-ASCII digits": ("a \u0661\u0662\n".encode(), "line 1: expected 'word count'"),
    "NUL byte": (b"a 1\nb\x00c 2\n", "line 2: NUL byte"),
    "binary garbage": (bytes(range(256)) * 2, "line 1: NUL byte"),
    "npz": (b"PK\x03\x04" + b"\x00" * 60, "line 1: NUL byte"),
    "duplicates": (b"a 1\nb 2\na 3\n", r"line 3: duplicate word 'a' \(first on line 1\)"),
    "three fields": (b"a 1 2\n", "line 1: expected 'word count'"),
    "counts summing beyond int64": (b"a 9223372036854775807\nb 1\n", "counts sum to"),
}


@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_load_refuses_damaged_files_naming_the_file(tmp_path, case):
    data, match = DAMAGED[case]
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as exc:
        Vocabulary.load(path)
    assert str(path) in str(exc.value)


def test_load_refuses_bytes_a_strict_codec_cannot_decode(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"a 1\n+\xff 2\n")  # UTF-7 fails on these even with surrogateescape
    with pytest.raises(ValueError, match=r"line 2: word .* cannot be decoded with encoding 'utf-7'"):
        Vocabulary.load(path, encoding="utf-7")
    # under UTF-8 undecodable bytes are kept (surrogateescape), so a saved vocabulary round-trips
    path.write_bytes(b"a 1\n\xff\xfe 2\n")
    assert Vocabulary.load(path).words == ["a", "\udcff\udcfe"]


def test_load_and_save_paths_of_the_wrong_type():
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        Vocabulary.load(None)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        VOCAB.save(3.5)
    with pytest.raises(TypeError, match="unk must be"):
        Vocabulary.load("/nonexistent", unk=3)  # checked before the file is opened


def test_save_refuses_words_load_would_refuse(tmp_path):
    v = Vocabulary(["a", "b\x00c"], [2, 1])  # a NUL-holding word, as text may give
    with pytest.raises(ValueError, match="whitespace or NUL"):
        v.save(tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.parametrize("kind, data", [("gzip", gzip.compress(b"the cat sat\n")),
                                        ("zip archive", b"PK\x03\x04" + b"\x14" * 40),
                                        ("NumPy .npy", b"\x93NUMPY\x01\x00v\x00{'descr': '<f8'}"),
                                        ("bzip2", b"BZh91AY&SY" + b"\x01" * 20)])
def test_read_corpus_refuses_compressed_or_binary_files(tmp_path, kind, data):
    path = tmp_path / "corpus.txt.gz"
    path.write_bytes(data)
    for source in (str(path), path, data, io.BytesIO(data)):
        with pytest.raises(ValueError, match=f"source.* is an? {kind}"):
            read_corpus(source, min_count=1)
    with pytest.raises(ValueError, match=kind):
        Vocabulary.build(path, min_count=1)
    with pytest.raises(ValueError, match=kind):  # the first bytes are checked however small the chunks
        read_corpus(path, min_count=1, chunk_bytes=1)


def test_read_corpus_text_that_looks_like_a_magic_number_is_fine():
    _, v = read_corpus(b"BZh9 is a word\n", min_count=1)
    assert v.words[0] == "BZh9"


def test_read_corpus_file_object_errors_name_the_source(tmp_path):
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"caf\xe9 au lait\n" * 3)
    with open(path, encoding="utf-8") as f, pytest.raises(ValueError, match="source .*reading it as text failed"):
        read_corpus(f, min_count=1)

    class Weird:
        def read(self, n):
            return 42

    with pytest.raises(TypeError, match=r"source .*read\(\) must return bytes or str, got int"):
        read_corpus(Weird(), min_count=1)


def test_undecodable_or_unencodable_text_is_a_clear_error():
    with pytest.raises(ValueError, match="source holds bytes that encoding 'utf-7' cannot decode"):
        read_corpus(b"+\xff a", min_count=1, encoding="utf-7")
    with pytest.raises(ValueError, match="tokens must be encodable with encoding 'latin-1'; sentence 0, token 1"):
        read_corpus([["a", "\u20ac"]], min_count=1, encoding="latin-1")
    with pytest.raises(ValueError, match="tokens must be encodable with encoding 'utf-8'; token 0"):
        VOCAB.encode(["\ud800"])
    with pytest.raises(ValueError, match="unk='\u20ac' cannot be encoded with encoding 'latin-1'"):
        Vocabulary.build([["a"]], min_count=1, unk="\u20ac", encoding="latin-1")
    with pytest.raises(ValueError, match="source .*character '\u20ac' cannot be encoded"):
        read_corpus(io.StringIO("a \u20ac\n"), min_count=1, encoding="latin-1")


def test_vocabulary_refuses_what_it_could_not_encode_save_or_count():
    with pytest.raises(ValueError, match="words must be encodable .*words\\[1\\] = '\u20ac'"):
        Vocabulary(["a", "\u20ac"], [1, 1], encoding="latin-1")
    with pytest.raises(ValueError, match="words must not be empty"):
        Vocabulary([], [])
    with pytest.raises(TypeError, match="words must be a sequence of str, got str"):
        Vocabulary("ab", [1, 2])
    with pytest.raises(TypeError, match="words must be a sequence of str, got NoneType"):
        Vocabulary(None, [1])
    with pytest.raises(ValueError, match=r"counts\[0\] = 18446744073709551615 does not fit in an int64"):
        Vocabulary(["a"], np.array([2**64 - 1], np.uint64))  # was: wrapped to -1
    with pytest.raises(ValueError, match=r"counts\[1\] = 18446744073709551616 does not fit"):
        Vocabulary(["a", "b"], [1, 2**64])
    with pytest.raises(ValueError, match="counts sum to 9223372036854775808"):
        Vocabulary(["a", "b"], [2**62, 2**62])  # was: total == -2**63
    with pytest.raises(ValueError, match="left out sum to"):
        Vocabulary.from_counts({"a": 2**62, "b": 2**62, "c": 2**62}, unk="UNK", max_size=2)
    with pytest.raises(ValueError, match=r"counts\[0\] = 18446744073709551616 does not fit"):
        Vocabulary.from_counts({"a": 2**64})
    with pytest.raises(TypeError, match="counts keys must be str"):
        Vocabulary.from_counts({1: 3})


def test_index_of_a_non_str_is_a_type_error():
    with pytest.raises(TypeError, match="word must be a str, got int"):
        VOCAB.index(1)
    with pytest.raises(KeyError, match="'zz'"):
        VOCAB.index("zz")


def test_chunk_bytes_beyond_memory_is_refused_up_front(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b\n")
    with pytest.raises(ValueError, match="chunk_bytes asks for .* more than this machine's memory"):
        read_corpus(path, min_count=1, chunk_bytes=2**40)  # was: MemoryError from f.read
    with pytest.raises(ValueError, match="chunk_bytes asks for .* more than can be addressed"):
        read_corpus(path, min_count=1, chunk_bytes=2**70)


# -- 3. huge sizes refused up front, int64 extremes ----------------------------------------

@pytest.mark.parametrize("fn", [skipgram_pairs, cbow_windows, pair_counts])
@pytest.mark.parametrize("window", [MAX_WINDOW + 1, 2**40, 2**63 - 1, 2**64])
def test_window_beyond_the_32_bit_draw_is_refused(fn, window):
    # 2**40 silently never shrank (the 32-bit draw overflowed); 2**63 - 1 crashed skipgram_pairs
    with pytest.raises(ValueError, match=f"window must be <= {MAX_WINDOW}"):
        fn([0, 1, 2], window, seed=0)


def test_cbow_windows_beyond_memory_is_refused_before_allocating():
    with pytest.raises(ValueError, match="window asks for .* context slots .* more than this machine's memory"):
        cbow_windows(np.zeros(1000, np.int32), MAX_WINDOW, seed=0)


def test_skipgram_pairs_beyond_memory_is_refused_before_allocating():
    ids = np.zeros(300_000, np.int32)  # one sentence: 9e10 pairs without shrinking
    with pytest.raises(ValueError, match="window asks for 9e\\+10 pairs .* more than this machine's memory"):
        skipgram_pairs(ids, 300_000, shrink_windows=False, seed=0)


@pytest.mark.parametrize("kw, name", [({"batch_size": 10**15, "num_skips": 1}, "batch_size"),
                                      ({"batch_size": 4, "num_skips": 1, "n_batches": 10**15},
                                       "n_batches \\* batch_size")])
def test_generate_batch_beyond_memory_is_refused(kw, name):
    with pytest.raises(ValueError, match=f"{name} asks for .* pairs"):
        generate_batch(np.arange(8), skip_window=1, seed=0, **kw)


def test_generate_batch_limits():
    with pytest.raises(ValueError, match=f"skip_window must be <= {MAX_SKIP_WINDOW}"):
        generate_batch(np.arange(8), 4, 2, 2**31, seed=0)
    data = np.zeros(2**20, np.int32)  # without backtrack each batch moves on by a span of 2**20 words
    with pytest.raises(ValueError, match="reaches 2\\*\\*39"):
        generate_batch(data, 2, 2, 2**19 - 1, index=2**38, n_batches=2**18, seed=0, backtrack=False)


def test_negative_sampler_sizes_and_start():
    with pytest.raises(ValueError, match=r"n \* k asks for 1e\+18 negatives"):
        SAMPLER.sample(10**12, 10**6, seed=0)
    with pytest.raises(ValueError, match="start must be <= "):
        SAMPLER.sample(2, 2, start=2**63, seed=0)  # was: OverflowError
    with pytest.raises(ValueError, match="start must be <= 9223372036854775805"):
        SAMPLER.sample(2, 2, start=2**63 - 1, seed=0)  # start + row would wrap
    assert SAMPLER.sample(2, 2, start=2**63 - 3, seed=0).shape == (2, 2)


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


def test_pair_counts_block_at_the_int64_edge():
    assert pair_counts([0, 1, 2], 1, shrink_windows=False, block=2**63 - 1).tolist() == [4]
    with pytest.raises(ValueError, match="block must be <="):
        pair_counts([0, 1, 2], 1, block=2**64)  # was: OverflowError


# -- 4. malformed arguments ----------------------------------------------------------------

@pytest.mark.parametrize("out", [np.zeros(10, np.int32), [np.zeros(10, np.int32)] * 2,
                                 (np.zeros(10, np.int32),) * 3, (np.zeros(10, np.int32),)])
def test_skipgram_out_of_the_wrong_shape(out):
    with pytest.raises(TypeError, match="out must be a tuple \\(centers, contexts\\) of two int32 arrays"):
        skipgram_pairs([0, 1, 2], 1, out=out, seed=0)


# -- 5. seeds ----------------------------------------------------------------------------

@pytest.mark.parametrize("call", [lambda s: skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: cbow_windows([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: pair_counts([0, 1, 2], 1, shrink_windows=False, seed=s),
                                  lambda s: subsample([0, 1], [1.0, 1.0], seed=s),
                                  lambda s: SAMPLER.sample(0, 2, seed=s),
                                  lambda s: generate_batch(np.arange(4), 2, 1, 1, seed=s)])
@pytest.mark.parametrize("seed", ["0", 1.5, -1, True, [0]])
def test_bad_seed_raises_even_when_nothing_is_drawn(call, seed):
    with pytest.raises((TypeError, ValueError), match="seed"):
        call(seed)


def test_a_generator_seed_is_left_as_it_was_by_a_call_that_raises():
    gen = np.random.default_rng(7)
    before = gen.bit_generator.state
    with pytest.raises(ValueError, match="found -3 at position 4"):
        generate_batch(np.array([0, 1, 2, 3, -3, 5, 6, 7]), 4, 2, 1, 2, seed=gen)
    assert gen.bit_generator.state == before
    with pytest.raises(ValueError, match="out\\[0\\] holds 2 pairs"):
        skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=gen, out=(np.zeros(2, np.int32),
                                                                          np.zeros(9, np.int32)))
    assert gen.bit_generator.state == before
    generate_batch(np.arange(8), 4, 2, 1, seed=gen)  # a call that succeeds does draw
    assert gen.bit_generator.state != before


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


# -- 6. out= overlapping an input -----------------------------------------------------------

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


def test_out_with_auto_stays_on_the_host(monkeypatch):
    from fastkernels.word2vec import batches

    monkeypatch.setattr(batches, "resolve_backend", lambda backend, **kw: "cuda")  # a GPU machine, large work
    out = (np.zeros(9, np.int32), np.zeros(9, np.int32))
    c, _ = skipgram_pairs([0, 1, 2], 1, shrink_windows=False, seed=0, out=out)
    assert np.shares_memory(c, out[0]) and c.tolist() == [0, 1, 1, 2]
    with pytest.raises(ValueError, match="out= is for host backends"):
        skipgram_pairs([0, 1, 2], 1, seed=0, out=out, backend="cuda")


# -- silent wrong results found on the way ------------------------------------------------

def test_keep_probability_of_counts_summing_beyond_float64():
    with pytest.raises(ValueError, match="counts sum beyond the float64 range"):
        keep_probability([1e308, 1e308], 1e-3)  # was: all ones (t = inf)
    r = 1e-3 * 1.7e308 / 1e308  # with the total given, the same counts are fine
    np.testing.assert_allclose(keep_probability([1e308, 1e308], 1e-3, total=1.7e308), np.sqrt(r) + r, rtol=1e-12)


def test_keep_probability_where_one_over_r_overflows():
    # t / c = 1e-310 (subnormal): 1 / r was inf, giving p = 1 instead of ~1e-155
    p = keep_probability(np.array([1e300, 1.0]), 1e-10, total=1.0)
    r = 1e-10 / np.array([1e300, 1.0])
    np.testing.assert_allclose(p, np.sqrt(r) + r, rtol=1e-12)
    assert keep_probability(np.array([1e300]), 1e-300, total=1e-300)[0] == 0.0  # r == 0: was NaN


def test_negative_sampler_weights_that_all_underflow():
    with pytest.raises(ValueError, match="underflows to 0 for every word"):
        NegativeSampler([1e-320, 1e-320], ns_exponent=1000)  # was: NaN probabilities


def test_subsample_refuses_a_corpus_whose_ids_were_made_negative():
    c = Corpus([0, 1, 2])
    c.ids[1] = -1  # the arrays are the user's to write; a negative id read keep[-1]
    with pytest.raises(ValueError, match=r"corpus ids must lie in \[0, 3\); found -1 at position 1"):
        subsample(c, np.ones(3), seed=0)


def test_no_warning_leaks_from_refused_exponents():
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match="overflows"):
            NegativeSampler([1, 2], ns_exponent=1e308)
        with pytest.raises(ValueError, match="float64 range"):
            keep_probability([1e308, 1e308])


def test_an_int_source_is_never_read_as_a_file_descriptor():
    with pytest.raises(TypeError, match="source must be"):
        read_corpus(0)
