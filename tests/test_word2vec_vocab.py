"""Vocabulary building, corpus reading (files streamed in chunks, bytes, token lists), encode/decode, save/load."""

import collections
import io

import numpy as np
import pytest

from fastkernels.word2vec import Corpus, Vocabulary, read_corpus


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


def zipf_words(rng, n_tokens, n_words=300):
    """Tokens with Zipf-like counts and many ties among rare words."""
    p = 1.0 / np.arange(1, n_words + 1)
    ids = rng.choice(n_words, n_tokens, p=p / p.sum())
    names = np.array([f"w{i}" for i in rng.permutation(n_words)], dtype=object)
    return names[ids].tolist()


def test_known_counts_sorted_with_ties_in_first_occurrence_order(rng):
    want = {"the": 50, "of": 20, "cat": 7, "dog": 7, "emu": 7, "fox": 3, "gnu": 1}
    tokens = [w for w, c in want.items() for _ in range(c)]
    rng.shuffle(tokens)
    first_seen = {}
    for i, w in enumerate(tokens):
        first_seen.setdefault(w, i)
    v = Vocabulary.build(tokens, min_count=1)
    expected = sorted(want, key=lambda w: (-want[w], first_seen[w]))
    assert v.words == expected
    assert v.counts.tolist() == [want[w] for w in expected]
    assert v.total == len(tokens) and len(v) == 7
    v3 = Vocabulary.build(tokens, min_count=3)
    assert v3.words == expected[:-1]
    v2 = Vocabulary.build(tokens, min_count=1, max_size=3)
    assert v2.words == expected[:3]


def test_matches_counter_most_common_exactly(rng):
    words = zipf_words(rng, 20_000)
    v = Vocabulary.build(words, min_count=1)
    mc = collections.Counter(words).most_common()
    assert v.words == [w for w, _ in mc]
    assert v.counts.tolist() == [c for _, c in mc]


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


def test_matches_gensim_vocabulary():
    gensim = pytest.importorskip("gensim")
    from gensim.models import Word2Vec

    rng = np.random.default_rng(3)
    sents = [zipf_words(rng, int(n)) for n in rng.integers(1, 40, 200)]
    model = Word2Vec(vector_size=4, min_count=3, workers=1)
    model.build_vocab(sents)
    v = Vocabulary.build(sents, min_count=3)
    # same words and counts; gensim orders ties by an unstable argsort, so only counts are ordered alike
    assert set(v.words) == set(model.wv.index_to_key)
    assert v.counts.tolist() == [model.wv.get_vecattr(w, "count") for w in v.words]
    assert v.counts.tolist() == [model.wv.get_vecattr(w, "count") for w in model.wv.index_to_key]
    assert gensim.__version__


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
    from fastkernels.word2vec import corpus as corpus_mod

    monkeypatch.setattr(corpus_mod, "PARALLEL_MIN_BYTES", 8)  # tiny inputs still split into pieces
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


def test_encode_decode_and_unknown_policies():
    v = Vocabulary.build([["a", "b", "a", "c"]], min_count=1)
    assert v.encode(["c", "a"]).tolist() == [2, 0]
    assert v.decode(np.array([[0, 2], [1, 1]])) == [["a", "c"], ["b", "b"]]
    assert v.encode(["a", "zz", "b"], unknown="drop").tolist() == [0, 1]
    with pytest.raises(ValueError, match="'zz' at position 1"):
        v.encode(["a", "zz"])
    u = Vocabulary.build([["a", "b", "a", "c"]], min_count=2, unk="UNK")
    assert u.encode(["c", "a", "q"]).tolist() == [0, 1, 0]
    assert v.index("b") == 1 and v.word(2) == "c" and "a" in v and "q" not in v
    assert v.encode([]).dtype == np.int32


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


def test_save_load_roundtrip(tmp_path):
    text = "the cat sat on the mat caf\u00e9".encode() + b" \xff\xfe odd"
    c, v = read_corpus(text, min_count=1)
    v.save(tmp_path / "vocab.txt")
    assert (tmp_path / "vocab.txt").read_bytes().splitlines()[0] == b"the 2"
    w = Vocabulary.load(tmp_path / "vocab.txt")
    assert w == v
    np.testing.assert_array_equal(read_corpus(text, w)[0].ids, c.ids)  # undecodable bytes round-trip
    u = Vocabulary.build([["a", "b", "a"]], min_count=2, unk="UNK")
    u.save(tmp_path / "u.txt")
    assert Vocabulary.load(tmp_path / "u.txt", unk="UNK") == u


def test_from_counts_and_constructor():
    v = Vocabulary.from_counts(collections.Counter({"x": 2, "y": 5, "z": 2, "w": 1}), min_count=2)
    assert v.words == ["y", "x", "z"] and v.counts.tolist() == [5, 2, 2]
    u = Vocabulary.from_counts({"x": 2, "y": 5, "w": 1}, min_count=2, unk="UNK")
    assert u.words == ["UNK", "y", "x"] and u.counts.tolist() == [1, 5, 2]
    assert repr(u) == "Vocabulary(n_words=3, total=8, unk='UNK')"


def test_corpus_sentences_and_views():
    c = Corpus(np.array([3, 1, 2, 0, 1], np.int64), [0, 3, 3, 5], n_words=4)
    assert c.ids.dtype == np.int32 and c.n_sentences == 3 and len(c) == 3
    assert [s.tolist() for s in c] == [[3, 1, 2], [], [0, 1]]
    assert c.sentence(-1).tolist() == [0, 1] and c.sentence_lengths().tolist() == [3, 0, 2]
    assert Corpus([]).n_sentences == 0 and Corpus([1, 2]).offsets.tolist() == [0, 2]


@pytest.mark.bad_input
def test_bad_input(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.build(b"  \n \n", min_count=1)
    with pytest.raises(ValueError, match="empty"):
        Vocabulary.build([], min_count=1)
    with pytest.raises(ValueError, match="would be empty"):
        Vocabulary.build([["a", "b"]], min_count=2)
    with pytest.raises(ValueError, match="min_count"):
        Vocabulary.build([["a"]], min_count=0)
    with pytest.raises(ValueError, match="max_size"):
        Vocabulary.build([["a"]], min_count=1, max_size=1, unk="UNK")
    with pytest.raises(TypeError, match="unk"):
        Vocabulary.build([["a"]], unk=3)
    with pytest.raises(TypeError, match="sentence 1, token 0 is int"):
        Vocabulary.build([["a"], [3]])
    with pytest.raises(ValueError, match="non-empty"):
        Vocabulary.build([["a", ""]])
    with pytest.raises(ValueError, match="NUL"):
        Vocabulary.build([["a", "b\x00c"]])
    with pytest.raises(TypeError, match="list of str tokens"):
        Vocabulary.build([["a"], "bc"])
    with pytest.raises(FileNotFoundError, match="not an existing file"):
        read_corpus(str(tmp_path / "missing.txt"))
    with pytest.raises(TypeError, match="already token ids"):
        read_corpus(np.arange(3))
    with pytest.raises(TypeError, match="source must be"):
        read_corpus(42)
    with pytest.raises(ValueError, match="encoding"):
        read_corpus(b"a", encoding="utf-16")
    with pytest.raises(ValueError, match="distinct"):
        Vocabulary(["a", "b", "a"], [1, 1, 1])
    with pytest.raises(ValueError, match="non-negative"):
        Vocabulary(["a"], [-1])
    with pytest.raises(TypeError, match="integers"):
        Vocabulary(["a"], [1.5])
    with pytest.raises(ValueError, match="first word"):
        Vocabulary(["a", "UNK"], [1, 1], unk="UNK")
    v = Vocabulary(["a", "b"], [2, 1])
    with pytest.raises(KeyError, match="'zz'"):
        v.index("zz")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 2\)"):
        v.decode([0, 2])
    with pytest.raises(ValueError, match="whitespace"):
        Vocabulary(["new york"], [1]).save(tmp_path / "v.txt")
    (tmp_path / "bad.txt").write_text("a 1\nb x\n")
    with pytest.raises(ValueError, match="line 2"):
        Vocabulary.load(tmp_path / "bad.txt")
    with pytest.raises(ValueError, match=r"ids must lie in \[0, 3\)"):
        Corpus([0, 3], n_words=3)
    with pytest.raises(ValueError, match="offsets must start at 0"):
        Corpus([0, 1], [0, 1])
    with pytest.raises(ValueError, match="non-decreasing"):
        Corpus([0, 1, 2], [0, 2, 1, 3])
    with pytest.raises(TypeError):
        Corpus([0.5, 1.0])
    with pytest.raises(ValueError, match="unknown='unk'"):
        read_corpus(b"a b", Vocabulary(["a"], [1]), unknown="unk")
