"""Word-vector files (fastkernels.word2vec.formats): word2vec.c's text and binary formats and the
package's .npz; round trips, the exact byte layout, gensim interchange, damaged and foreign files."""

import struct

import numpy as np
import pytest

from fastkernels._io import save_npz
from fastkernels.word2vec import formats
from fastkernels.word2vec.formats import read_word2vec_format, save_word2vec_format, write_word2vec_format
from fastkernels.word2vec.keyed_vectors import KeyedVectors, load_word2vec_format

WORDS = ["the", "cat", "sat", "</s>", "caf\u00e9", "\u732b", "x" * 60]


def make_kv(n=len(WORDS), d=5, seed=2):
    rng = np.random.default_rng(seed)
    vectors = (rng.standard_normal((n, d)) * 10.0 ** rng.integers(-6, 4, (n, d))).astype(np.float32)
    vectors[0, 0] = -0.0
    vectors[1, 1] = np.float32(1e-40)  # a subnormal
    return KeyedVectors(vectors, WORDS[:n] if n <= len(WORDS) else [f"w{i}" for i in range(n)])


def same(a, b):
    return a.index_to_key == b.index_to_key and np.array_equal(a.vectors, b.vectors) and \
        np.array_equal(np.signbit(a.vectors), np.signbit(b.vectors))


@pytest.mark.parametrize("binary", [False, True])
def test_word2vec_round_trip_is_exact(tmp_path, binary):
    kv = make_kv()
    path = tmp_path / "v.txt"
    kv.save_word2vec_format(path, binary=binary)
    back = KeyedVectors.load_word2vec_format(path, binary=binary)
    assert same(back, kv) and back.vectors.dtype == np.float32 and back.vectors.flags.c_contiguous
    assert same(load_word2vec_format(str(path), binary), kv)
    save_word2vec_format(kv, tmp_path / "w.txt", binary=binary)
    assert (tmp_path / "w.txt").read_bytes() == path.read_bytes()
    three = KeyedVectors.load_word2vec_format(path, binary=binary, limit=3)
    assert three.index_to_key == WORDS[:3] and np.array_equal(three.vectors, kv.vectors[:3])
    assert same(KeyedVectors.load_word2vec_format(path, binary=binary, limit=100), kv)


def test_the_byte_layouts_are_word2vec_cs(tmp_path):
    v = np.array([[1.5, -2.0], [0.25, 3.0e-8]], np.float32)
    write_word2vec_format(tmp_path / "b.bin", ["a", "\u00e9"], v, binary=True)
    assert (tmp_path / "b.bin").read_bytes() == (b"2 2\na " + struct.pack("<2f", 1.5, -2.0) + b"\n\xc3\xa9 "
                                                 + struct.pack("<2f", 0.25, 3.0e-8) + b"\n")
    write_word2vec_format(tmp_path / "t.txt", ["a", "\u00e9"], v)
    assert (tmp_path / "t.txt").read_bytes() == b"2 2\na 1.5 -2\n\xc3\xa9 0.25 2.99999989e-08\n"


def test_readers_take_what_other_writers_write(tmp_path):
    # word2vec.c's text: "%lf " numbers with a trailing space; gensim's binary: no newline after a vector
    (tmp_path / "c.txt").write_bytes(b"2 3\nthe 0.100000 -0.200000 0.300000 \nof 1.000000 2.000000 3.000000 \n")
    words, vectors = read_word2vec_format(tmp_path / "c.txt")
    assert words == ["the", "of"]
    np.testing.assert_array_equal(vectors, np.array([[0.1, -0.2, 0.3], [1, 2, 3]], np.float32))
    body = b"".join(w + b" " + struct.pack("<3f", *r) for w, r in ((b"the", (1, 2, 3)), (b"of", (4, 5, 6))))
    (tmp_path / "g.bin").write_bytes(b"2 3\n" + body)
    words, vectors = read_word2vec_format(tmp_path / "g.bin", binary=True)
    assert words == ["the", "of"] and vectors.tolist() == [[1, 2, 3], [4, 5, 6]]
    # words word2vec.c cut inside a UTF-8 character: strict refuses, 'replace' reads
    (tmp_path / "cut.txt").write_bytes(b"1 1\nab\xc3 1.0\n")
    with pytest.raises(ValueError, match="cut.txt, line 2.*cannot be decoded"):
        read_word2vec_format(tmp_path / "cut.txt")
    assert read_word2vec_format(tmp_path / "cut.txt", unicode_errors="replace")[0] == ["ab\ufffd"]
    (tmp_path / "l1.txt").write_bytes("1 1\ncaf\u00e9 2\n".encode("latin-1"))
    assert read_word2vec_format(tmp_path / "l1.txt", encoding="latin-1")[0] == ["caf\u00e9"]


def test_undecodable_words_round_trip_with_surrogateescape(tmp_path):
    word = b"ab\xff".decode("utf-8", "surrogateescape")  # as read_corpus keeps such bytes
    kv = KeyedVectors(np.ones((2, 2)), [word, "ok"])
    kv.save_word2vec_format(tmp_path / "s.bin", binary=True)
    back = KeyedVectors.load_word2vec_format(tmp_path / "s.bin", binary=True, unicode_errors="surrogateescape")
    assert back.index_to_key == [word, "ok"]
    kv.save(tmp_path / "s.npz")
    assert same(KeyedVectors.load(tmp_path / "s.npz"), kv)


def test_npz_round_trip_is_exact_and_versioned(tmp_path):
    kv = make_kv(n=300, d=7)
    path = tmp_path / "kv.npz"
    kv.save(path)
    back = KeyedVectors.load(path)
    assert same(back, kv) and back.vectors.flags.c_contiguous
    kv2 = make_kv()
    kv2.save(str(tmp_path / "noext"))  # the name is used as given
    assert same(KeyedVectors.load(tmp_path / "noext"), kv2)
    with np.load(path, allow_pickle=False) as f:
        assert str(f["__format__"]) == formats.NPZ_FORMAT and int(f["__version__"]) == formats.NPZ_VERSION
        assert f["words_utf8"].dtype == np.uint8 and f["word_offsets"].dtype == np.int64


# -- gensim interchange -----------------------------------------------------------------------


@pytest.mark.parametrize("binary", [False, True])
def test_files_move_between_gensim_and_fastkernels(tmp_path, binary):
    gensim_models = pytest.importorskip("gensim.models")
    kv = make_kv()
    ours = tmp_path / "ours"
    kv.save_word2vec_format(ours, binary=binary)
    g = gensim_models.KeyedVectors.load_word2vec_format(str(ours), binary=binary)
    assert g.index_to_key == kv.index_to_key and np.array_equal(g.vectors, kv.vectors)
    theirs = tmp_path / "theirs"
    g.save_word2vec_format(str(theirs), binary=binary)
    assert same(KeyedVectors.load_word2vec_format(theirs, binary=binary), kv)
    assert same(KeyedVectors.load_word2vec_format(theirs, binary=binary, limit=2), KeyedVectors(kv.vectors[:2],
                                                                                                 WORDS[:2]))
    save_word2vec_format(g, tmp_path / "via", binary=binary)  # gensim's KeyedVectors through our writer
    assert same(KeyedVectors.load_word2vec_format(tmp_path / "via", binary=binary), kv)


# -- damaged and foreign files ----------------------------------------------------------------


def text_and_binary(tmp_path):
    kv = make_kv()
    kv.save_word2vec_format(tmp_path / "good.txt")
    kv.save_word2vec_format(tmp_path / "good.bin", binary=True)
    return (tmp_path / "good.txt").read_bytes(), (tmp_path / "good.bin").read_bytes()


@pytest.mark.bad_input
def test_truncated_files_are_refused_at_every_cut(tmp_path):
    text, binary = text_and_binary(tmp_path)
    for data, is_binary in ((text, False), (binary, True)):
        for cut in range(0, len(data) - 1):
            if data[cut - 1:cut] == b"\n" and not is_binary:
                continue  # a text file cut at a line end is only detectably short when lines are missing
            p = tmp_path / f"cut{cut}"
            p.write_bytes(data[:cut])
            with pytest.raises(ValueError, match=f"cut{cut}"):
                read_word2vec_format(p, binary=is_binary)
        for k in range(1, len(WORDS)):  # text cut at line ends: missing lines
            p = tmp_path / "short.txt"
            p.write_bytes(b"".join(text.splitlines(keepends=True)[:k]))
            with pytest.raises(ValueError, match="short.txt"):
                read_word2vec_format(p)


@pytest.mark.bad_input
@pytest.mark.parametrize("data, binary, match", [
    (b"", False, "header"),
    (b"hello world\n", False, "header"),
    (b"3\n", False, "header"),
    (b"3 2 1\na 1 2\n", False, "header"),
    (b"-3 2\n", False, "header"),
    (b"0 2\n", False, ">= 1"),
    (b"2 0\n", False, ">= 1"),
    (b"1 2", False, "header"),
    (b"99999999999999 1000\na 1\n", False, "header"),
    (b"2 2\na 1 2\nb 1\n", False, "line 3: expected a word and 2 numbers, got 1"),
    (b"2 2\na 1 2\nb 1 2 3\n", False, "line 3"),
    (b"2 2\na 1 2\nb\n", False, "line 3"),
    (b"2 2\na 1 2\nb 1 x\n", False, "line 3: value 2 is b'x'"),
    (b"2 2\na 1 2\nb 1 nan\n", False, "line 3.*not a finite"),
    (b"2 2\na 1 2\nb 1 1e39\n", False, "line 3.*not a finite float32"),
    (b"2 2\na 1 2\na 3 4\n", False, "line 3: duplicate word 'a'"),
    (b"1 2\na 1 2\nb 3 4\n", False, "more lines"),
    (b"1 2\na \x00\x00\x80?\x00\x00\x00@\n", False, "binary=True"),
    (b"2 2\na 1.0 2.0\nb 3.0 4.0\n", True, "binary=False"),
    (b"1 2\na " + struct.pack("<2f", 1, np.nan) + b"\n", True, "not finite"),
    (b"2 1\na " + struct.pack("<f", 1) + b"\na " + struct.pack("<f", 2), True, "duplicate word 'a'"),
    (b"1 1\na " + struct.pack("<f", 1) + b"\nb " + struct.pack("<f", 2), True, "bytes remain"),
    (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", True, "header"),
])
def test_damaged_or_foreign_word2vec_files(tmp_path, data, binary, match):
    p = tmp_path / "bad.vec"
    p.write_bytes(data)
    with pytest.raises(ValueError, match=match) as info:
        KeyedVectors.load_word2vec_format(p, binary=binary)
    assert "bad.vec" in str(info.value)


@pytest.mark.bad_input
def test_npz_damaged_foreign_or_newer_files(tmp_path):
    kv = make_kv()
    good = tmp_path / "good.npz"
    kv.save(good)
    data = good.read_bytes()
    cases = {
        "random.npz": (np.random.default_rng(0).bytes(200), "not a readable"),
        "truncated.npz": (data[: len(data) // 2], "not a readable"),
        "text.npz": (b"2 2\na 1 2\n", "not a readable"),
    }
    for name, (content, match) in cases.items():
        (tmp_path / name).write_bytes(content)
    np.savez(tmp_path / "foreign.npz", vectors=np.ones((2, 2), np.float32))
    cases["foreign.npz"] = (None, "not a fastkernels.KeyedVectors file")
    arrays = {"vectors": kv.vectors, "words_utf8": np.frombuffer(b"".join(w.encode() for w in WORDS), np.uint8),
              "word_offsets": np.cumsum([0] + [len(w.encode()) for w in WORDS]).astype(np.int64)}
    save_npz(tmp_path / "newer.npz", formats.NPZ_FORMAT, formats.NPZ_VERSION + 1, arrays)
    cases["newer.npz"] = (None, "version 2")
    save_npz(tmp_path / "mlp.npz", "fastkernels.MLP", 1, arrays)
    cases["mlp.npz"] = (None, "expected fastkernels.KeyedVectors")
    save_npz(tmp_path / "offsets.npz", formats.NPZ_FORMAT, 1, {**arrays, "word_offsets": arrays["word_offsets"][::-1]})
    cases["offsets.npz"] = (None, "word_offsets")
    save_npz(tmp_path / "dup.npz", formats.NPZ_FORMAT, 1, {**arrays, "words_utf8": np.frombuffer(
        b"a" * int(arrays["word_offsets"][-1]), np.uint8)})
    cases["dup.npz"] = (None, "distinct")
    save_npz(tmp_path / "nan.npz", formats.NPZ_FORMAT, 1, {**arrays, "vectors": np.full_like(kv.vectors, np.nan)})
    cases["nan.npz"] = (None, "finite")
    save_npz(tmp_path / "f64.npz", formats.NPZ_FORMAT, 1, {**arrays, "vectors": kv.vectors.astype(np.float64)})
    cases["f64.npz"] = (None, "float32")
    tampered = bytearray(data)
    i = bytes(tampered).find(kv.vectors[2].tobytes())
    if i >= 0:  # stored uncompressed: flip a bit of a vector; the checksum notices
        tampered[i] ^= 1
        (tmp_path / "tampered.npz").write_bytes(bytes(tampered))
        cases["tampered.npz"] = (None, "CRC|checksum")
    for name, (_, match) in cases.items():
        with pytest.raises(ValueError, match=match) as info:
            KeyedVectors.load(tmp_path / name)
        assert name in str(info.value)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load(tmp_path / "missing.npz")


@pytest.mark.bad_input
def test_refused_writes_write_nothing(tmp_path):
    kv = KeyedVectors(np.ones((2, 2)), ["ok", "two words"])
    for binary in (False, True):
        with pytest.raises(ValueError, match="'two words' contains whitespace"):
            kv.save_word2vec_format(tmp_path / "x", binary=binary)
        assert not (tmp_path / "x").exists()
    with pytest.raises(ValueError, match="NUL"):
        KeyedVectors(np.ones((1, 2)), ["a\x00b"]).save_word2vec_format(tmp_path / "x")
    with pytest.raises(ValueError, match="UTF-8"):
        KeyedVectors(np.ones((1, 2)), ["\ud800"]).save_word2vec_format(tmp_path / "x")
    assert not (tmp_path / "x").exists()
    with pytest.raises(TypeError, match="binary"):
        make_kv().save_word2vec_format(tmp_path / "x", binary="yes")
    with pytest.raises(TypeError, match="path"):
        make_kv().save_word2vec_format(None)
    with pytest.raises(TypeError, match="kv"):
        save_word2vec_format(np.ones((2, 2)), tmp_path / "x")
    assert not (tmp_path / "x").exists()


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, exc, match", [
    (dict(limit=0), ValueError, "limit"),
    (dict(limit=1.5), TypeError, "limit"),
    (dict(binary=None), TypeError, "binary"),
    (dict(encoding="nope"), ValueError, "encoding"),
    (dict(encoding=8), TypeError, "encoding"),
    (dict(unicode_errors="nope"), ValueError, "unicode_errors"),
])
def test_bad_reader_options(tmp_path, kwargs, exc, match):
    make_kv().save_word2vec_format(tmp_path / "v.txt")
    with pytest.raises(exc, match=match):
        KeyedVectors.load_word2vec_format(tmp_path / "v.txt", **kwargs)
    with pytest.raises(FileNotFoundError):
        KeyedVectors.load_word2vec_format(tmp_path / "missing.txt")
