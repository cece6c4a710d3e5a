"""read_corpus: files streamed in chunks, bytes, token lists, parallel scans, unknown words (fastkernels.word2vec.reading)."""

import gzip
import io

import numpy as np
import pytest

from fastkernels.word2vec import Corpus, Vocabulary, read_corpus
from fastkernels.word2vec._reference import tutorial_build_dataset

FLOAT_IDS = [0.9, 1.7, 2.2, 0.1, 1.5, 2.9, 0.4, 1.0]


def zipf_words(rng, n_tokens, n_words=300):
    """Tokens with Zipf-like counts and many ties among rare words."""
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, n_tokens, p=p / p.sum())
    names = np.array([f"w{i}" for i in rng.permutation(n_words)], dtype=object)
    return names[ids].tolist()


def test_tutorial_unk_mode_equals_build_dataset(rng):
    words = zipf_words(rng, 5000)
    data, count, dictionary = tutorial_build_dataset(words, 50)
    corpus, v = read_corpus(words, min_count=1, max_size=50, unk="UNK")
    assert v.words == [w for w, _ in count] and v.counts.tolist() == [c for _, c in count]
    assert v.unk_id == 0 and v.index("UNK") == 0
    assert corpus.ids.tolist() == data
    assert corpus.offsets.tolist() == [0, len(words)]  # a flat token list is one sentence
    assert Vocabulary.build(words, min_count=1, max_size=50, unk="UNK") == v


def test_unk_word_occurring_in_text_counts_towards_unk():
    corpus, v = read_corpus([["UNK", "a", "a", "b", "UNK"]], min_count=2, unk="UNK")
    assert v.words == ["UNK", "a"] and v.counts.tolist() == [3, 2]
    assert corpus.ids.tolist() == [0, 1, 1, 0, 0]


def test_drop_mode_removes_rare_tokens_and_empty_sentences():
    sents = [["a", "b", "a"], ["rare"], ["c", "a", "rare2", "b"], []]
    corpus, v = read_corpus(sents, min_count=2)
    assert v.words == ["a", "b"]
    assert corpus.ids.tolist() == [0, 1, 0, 0, 1]
    assert corpus.offsets.tolist() == [0, 3, 5]


def _write(tmp_path, text):
    path = tmp_path / "corpus.txt"
    path.write_bytes(text)
    return path


TEXT = (b"the quick brown fox\njumped over the lazy dog\n\n  the end \r\n"
        b"caf\xc3\xa9 na\xefve \t bytes\x00inside tokens\nlast line without newline")


@pytest.mark.parametrize("chunk", [1, 3, 7, 64, 1 << 20])
def test_streaming_a_file_equals_reading_it_whole(tmp_path, chunk):
    path = _write(tmp_path, TEXT)
    whole_c, whole_v = read_corpus(TEXT, min_count=1)
    c, v = read_corpus(path, min_count=1, chunk_bytes=chunk)
    assert v == whole_v
    np.testing.assert_array_equal(c.ids, whole_c.ids)
    np.testing.assert_array_equal(c.offsets, whole_c.offsets)
    with open(path, "rb") as f:
        c2, v2 = read_corpus(f, min_count=1, chunk_bytes=chunk)
    assert v2 == v and np.array_equal(c2.ids, c.ids)
    assert Vocabulary.build(path, min_count=1, chunk_bytes=chunk) == v


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("chunk", [5, 64, 1 << 20])
def test_parallel_scan_equals_serial(monkeypatch, rng, threads, chunk):
    from fastkernels import num_threads
    from fastkernels.word2vec import _scan as scan_mod

    monkeypatch.setattr(scan_mod, "PARALLEL_MIN_BYTES", 8)  # tiny inputs still split into pieces
    lines = [" ".join(zipf_words(rng, int(n))) for n in rng.integers(0, 30, 60)]
    text = ("\n\n".join(lines[:20]) + "\n" + "  ".join(lines[20:])).encode()
    want_c, want_v = read_corpus(text, min_count=1, backend="cpu", chunk_bytes=chunk)
    with num_threads(threads):
        got_c, got_v = read_corpus(io.BytesIO(text), min_count=1, backend="parallel", chunk_bytes=chunk)
        again, _ = read_corpus(text, want_v, backend="parallel", chunk_bytes=chunk)
        v = Vocabulary.build(text, min_count=2, max_size=40, unk="UNK", backend="parallel", chunk_bytes=chunk)
    assert got_v == want_v and v == Vocabulary.build(text, min_count=2, max_size=40, unk="UNK", backend="cpu")
    for c in (got_c, again):
        np.testing.assert_array_equal(c.ids, want_c.ids)
        np.testing.assert_array_equal(c.offsets, want_c.offsets)


def test_text_tokenization_matches_python_split_for_ascii_whitespace(tmp_path):
    c, v = read_corpus(TEXT, min_count=1)
    lines = [line.split() for line in TEXT.split(b"\n") if line.split()]
    tokens = [t.decode("utf-8", "surrogateescape") for line in lines for t in line]
    assert v.decode(c.ids) == tokens
    assert np.diff(c.offsets).tolist() == [len(line) for line in lines]
    assert "café" in v and "bytes\x00inside" in v.words  # NUL is not whitespace in text


def test_one_long_line_in_small_chunks_like_text8(tmp_path, rng):
    words = zipf_words(rng, 30_000)
    text = " ".join(words).encode()
    path = _write(tmp_path, text)
    c, v = read_corpus(path, min_count=1, chunk_bytes=1000)
    assert c.n_sentences == 1 and c.n_tokens == len(words)
    assert v.decode(c.ids) == words
    c2, _ = read_corpus(path, vocab=v, chunk_bytes=777)
    np.testing.assert_array_equal(c2.ids, c.ids)


def test_text_file_object_and_token_lists_agree():
    sents = [["the", "cat"], ["sat", "on", "the", "mat"]]
    a, va = read_corpus(io.StringIO("the cat\nsat on the mat\n"), min_count=1)
    b, vb = read_corpus(sents, min_count=1)
    c, vc = read_corpus((s for s in sents), min_count=1)
    assert va == vb == vc
    for x in (b, c):
        np.testing.assert_array_equal(a.ids, x.ids)
        np.testing.assert_array_equal(a.offsets, x.offsets)


def test_tokens_may_contain_spaces_in_token_lists():
    c, v = read_corpus([["new york", "is", "new york"]], min_count=1)
    assert v.words == ["new york", "is"] and c.ids.tolist() == [0, 1, 0]


def test_read_with_existing_vocabulary():
    v = Vocabulary.build([["a", "b", "a", "c"]], min_count=1)
    c, same = read_corpus(b"c x a\nx\nb", v)
    assert same is v
    assert c.ids.tolist() == [2, 0, 1] and c.offsets.tolist() == [0, 2, 3]
    with pytest.raises(ValueError, match="unknown word 'x'"):
        read_corpus(b"c x a\nx\nb", v, unknown="error")


def test_max_sentence_length_splits_sentences():
    c, _ = read_corpus([list("abcdefg"), list("ab")], min_count=1, max_sentence_length=3)
    assert c.offsets.tolist() == [0, 3, 6, 7, 9]
    assert Corpus(np.arange(5), [0, 5]).split_sentences(2).offsets.tolist() == [0, 2, 4, 5]


@pytest.mark.bad_input
def test_bad_input(tmp_path):
    with pytest.raises(FileNotFoundError, match="not an existing file"):
        read_corpus(str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError, match="already token ids"):
        read_corpus(np.arange(3))
    with pytest.raises(TypeError, match="source must be"):
        read_corpus(42)
    with pytest.raises(ValueError, match="encoding"):
        read_corpus(b"a", encoding="utf-16")
    with pytest.raises(ValueError, match="unknown='unk'"):
        read_corpus(b"a b", Vocabulary(["a"], [1]), unknown="unk")


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
def test_read_corpus_refuses_id_arrays_and_float_tokens():
    with pytest.raises(TypeError, match="already token ids"):
        read_corpus(np.array(FLOAT_IDS))
    with pytest.raises(TypeError, match="tokens must be str; sentence 0, token 0 is float"):
        read_corpus([FLOAT_IDS], min_count=1)


@pytest.mark.bad_input
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


@pytest.mark.bad_input
def test_read_corpus_text_that_looks_like_a_magic_number_is_fine():
    _, v = read_corpus(b"BZh9 is a word\n", min_count=1)
    assert v.words[0] == "BZh9"


@pytest.mark.bad_input
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


@pytest.mark.bad_input
def test_chunk_bytes_beyond_memory_is_refused_up_front(tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(b"a b\n")
    with pytest.raises(ValueError, match="chunk_bytes asks for .* more than this machine's memory"):
        read_corpus(path, min_count=1, chunk_bytes=2**40)  # was: MemoryError from f.read
    with pytest.raises(ValueError, match="chunk_bytes asks for .* more than can be addressed"):
        read_corpus(path, min_count=1, chunk_bytes=2**70)


@pytest.mark.bad_input
def test_an_int_source_is_never_read_as_a_file_descriptor():
    with pytest.raises(TypeError, match="source must be"):
        read_corpus(0)
