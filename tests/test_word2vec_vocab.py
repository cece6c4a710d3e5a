"""Vocabulary: building and counting, encode/decode, from_counts, save/load (fastkernels.word2vec.vocab)."""

import collections

import numpy as np
import pytest

from fastkernels.word2vec import Vocabulary, read_corpus

VOCAB = Vocabulary(["a", "b", "c"], [5, 3, 2])


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


# -- regressions of issue 13 (reliability): each failed before its fix ----------

@pytest.mark.bad_input
def test_decode_of_an_empty_list_and_of_a_single_id():
    assert VOCAB.decode([]) == []  # was: TypeError (np.asarray([]) is float64)
    assert VOCAB.decode(1) == "b" and VOCAB.decode(np.int64(2)) == "c"  # was: AttributeError


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


@pytest.mark.bad_input
@pytest.mark.parametrize("case", sorted(DAMAGED))
def test_load_refuses_damaged_files_naming_the_file(tmp_path, case):
    data, match = DAMAGED[case]
    path = tmp_path / "vocab.txt"
    path.write_bytes(data)
    with pytest.raises(ValueError, match=match) as exc:
        Vocabulary.load(path)
    assert str(path) in str(exc.value)


@pytest.mark.bad_input
def test_load_refuses_bytes_a_strict_codec_cannot_decode(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_bytes(b"a 1\n+\xff 2\n")  # UTF-7 fails on these even with surrogateescape
    with pytest.raises(ValueError, match=r"line 2: word .* cannot be decoded with encoding 'utf-7'"):
        Vocabulary.load(path, encoding="utf-7")
    # under UTF-8 undecodable bytes are kept (surrogateescape), so a saved vocabulary round-trips
    path.write_bytes(b"a 1\n\xff\xfe 2\n")
    assert Vocabulary.load(path).words == ["a", "\udcff\udcfe"]


@pytest.mark.bad_input
def test_load_and_save_paths_of_the_wrong_type():
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        Vocabulary.load(None)
    with pytest.raises(TypeError, match="path must be a str or os.PathLike"):
        VOCAB.save(3.5)
    with pytest.raises(TypeError, match="unk must be"):
        Vocabulary.load("/nonexistent", unk=3)  # checked before the file is opened


@pytest.mark.bad_input
def test_save_refuses_words_load_would_refuse(tmp_path):
    v = Vocabulary(["a", "b\x00c"], [2, 1])  # a NUL-holding word, as text may give
    with pytest.raises(ValueError, match="whitespace or NUL"):
        v.save(tmp_path / "v.txt")
    assert not (tmp_path / "v.txt").exists()


@pytest.mark.bad_input
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


@pytest.mark.bad_input
def test_index_of_a_non_str_is_a_type_error():
    with pytest.raises(TypeError, match="word must be a str, got int"):
        VOCAB.index(1)
    with pytest.raises(KeyError, match="'zz'"):
        VOCAB.index("zz")


def test_ties_in_gensims_order():
    """ties="gensim": equal counts ordered with the word seen last first (gensim 4's
    lexsort((-index, -count))); the default keeps Counter.most_common's order."""
    tokens = [["b", "a", "c", "a", "d", "c", "b", "e"]]
    assert Vocabulary.build(tokens, min_count=1).words == ["b", "a", "c", "d", "e"]
    assert Vocabulary.build(tokens, min_count=1, ties="gensim").words == ["c", "a", "b", "e", "d"]
    assert Vocabulary.from_counts({"x": 2, "y": 3, "z": 2}, min_count=1, ties="gensim").words == ["y", "z", "x"]
    assert Vocabulary.from_counts({"x": 4, "y": 5}).words == ["y"]  # min_count=5, as build (and gensim)
    assert Vocabulary.build(tokens, min_count=2, ties="gensim", unk="UNK").words == ["UNK", "c", "a", "b"]


def test_word2vec_vocabulary_lines_up_with_gensims():
    gensim = pytest.importorskip("gensim")
    from gensim.test.utils import datapath

    from fastkernels.word2vec import Word2Vec

    with open(datapath("lee_background.cor"), encoding="utf8") as f:
        sentences = [line.split() for line in f]
    g = gensim.models.Word2Vec(min_count=5)
    g.build_vocab(sentences)
    m = Word2Vec(None, min_count=5, progress=False)
    m.build_vocab(sentences)
    assert m.vocab.words == g.wv.index_to_key
    assert m.vocab.counts.tolist() == [g.wv.get_vecattr(w, "count") for w in g.wv.index_to_key]
