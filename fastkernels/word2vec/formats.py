"""Files of word vectors: word2vec.c's text and binary formats, and fastkernels' own ``.npz``.

word2vec.c's formats (what ``-output`` writes, what gensim's ``load_word2vec_format`` reads):

* **text** (``binary=False``): a header line ``"n_words vector_size"``, then one line per word,
  ``"word v1 v2 ... vd"``, each ending with a newline (so a file cut inside a number is found). Numbers are written with 9 significant digits (``%.9g``), which
  every float32 survives exactly, so a text round trip is exact too.
* **binary** (``binary=True``): the same header line, then per word its bytes, one space, ``d``
  little-endian float32 (``4 d`` bytes) and a newline, as word2vec.c writes it. The reader also
  takes gensim's files, which leave the newline out.

Words are UTF-8 (undecodable bytes kept by ``surrogateescape`` on writing, as the vocabulary
keeps them) and hold no ASCII whitespace or NUL: a word the format cannot hold is refused
before anything is written.

The readers check the whole file as they go: a missing or malformed header, a line with the
wrong number of values, a non-number, a non-finite value, a duplicate word, a file that ends
early or holds more than its header announces each raise one ``ValueError`` that names the
file and the place, and nothing is built from a file that fails.

fastkernels' own format (:meth:`KeyedVectors.save` / :meth:`KeyedVectors.load`) is a
versioned ``.npz`` through :mod:`fastkernels._io` (format name, version and checksum inside,
read with ``allow_pickle=False``): ``vectors`` (float32, (n, d)), the words as one UTF-8 blob
``words_utf8`` (uint8) and their boundaries ``word_offsets`` (int64, (n + 1,)).

These functions read and write plain ``(words, vectors)``; :class:`KeyedVectors` wraps them
(``KeyedVectors.load_word2vec_format`` returns one).
"""

from __future__ import annotations

import codecs
import os

import numpy as np

from .._io import load_npz, npz_entry, save_npz
from .._validate import check_allocation, check_flag, check_scalar
from ._vocab_file import path_arg

NPZ_FORMAT = "fastkernels.KeyedVectors"
NPZ_VERSION = 1
_NPZ_VERSIONS = frozenset({1})
_UNSAVABLE = frozenset(" \t\n\v\f\r\x00")
_ASCII_SPACE = b" \t\n\v\f\r"
_TEXT_BYTES = frozenset(b"0123456789.-+eE \t\n\r")
_F32_MAX = float(np.finfo(np.float32).max)
_BLOCK = 4096  # lines parsed per np.loadtxt call
_CHUNK = 1 << 20  # bytes read at a time from a binary file
_HEADER_MAX = 4096  # a header line longer than this is not a header


def _encode_words(words) -> list:
    """Each word as UTF-8 bytes, after checking the format can hold every one (nothing is
    written otherwise)."""
    out = []
    for i, w in enumerate(words):
        if not isinstance(w, str) or not w:
            raise ValueError(f"word {i} ({w!r}) is not a non-empty str; the word2vec format cannot store it")
        if not _UNSAVABLE.isdisjoint(w):
            raise ValueError(f"word {w!r} contains whitespace or NUL; the word2vec format cannot store it")
        try:
            out.append(w.encode("utf-8", "surrogateescape"))
        except UnicodeEncodeError as exc:
            raise ValueError(f"word {w!r} cannot be written as UTF-8 ({exc.reason})") from None
    return out


def _as_f32_matrix(vectors, n_words) -> np.ndarray:
    """``vectors`` as little-endian float32, after checking the readers would take them back: the
    shape, and finite values within the float32 range (nothing is written otherwise)."""
    vectors = np.asarray(vectors)
    if vectors.ndim != 2 or vectors.shape[0] != n_words or vectors.shape[1] < 1 or vectors.dtype.kind != "f":
        raise ValueError(f"vectors must be a float array of shape ({n_words}, d >= 1), got "
                         f"{vectors.dtype.name} {vectors.shape}")
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(vectors) | (np.abs(vectors) > _F32_MAX)
    if bad.any():
        r, c = np.unravel_index(int(np.argmax(bad)), vectors.shape)
        raise ValueError(f"vectors[{r}, {c}] is {vectors[r, c]!r}, not a finite float32: the file could not be read "
                         "back")
    return np.ascontiguousarray(vectors, dtype="<f4")


def write_word2vec_format(path, words, vectors, binary=False) -> None:
    """Write ``words`` and their ``vectors`` in word2vec.c's text or binary format.

    Parameters
    ----------
    path : str or os.PathLike
    words : sequence of str, length n
        No ASCII whitespace or NUL inside a word.
    vectors : ndarray of float, shape (n, d)
        Written as float32.
    binary : bool

    Raises
    ------
    TypeError
        ``path`` is not a path, ``binary`` not a bool.
    ValueError
        A word the format cannot hold, vectors of the wrong shape; nothing is written.
    """
    where = path_arg(path)
    binary = check_flag(binary, "binary")
    encoded = _encode_words(words)
    vectors = _as_f32_matrix(vectors, len(encoded))
    n, d = vectors.shape
    fmt = " ".join(["%.9g"] * d)
    with open(where, "wb") as f:
        f.write(f"{n} {d}\n".encode("ascii"))
        for start in range(0, n, _BLOCK):
            block = vectors[start:start + _BLOCK]
            if binary:
                parts = [w + b" " + row.tobytes() + b"\n" for w, row in zip(encoded[start:], block)]
            else:
                parts = [w + b" " + (fmt % tuple(row)).encode("ascii") + b"\n"
                         for w, row in zip(encoded[start:], block.tolist())]
            f.write(b"".join(parts))


def save_word2vec_format(kv, path, binary=False) -> None:
    """Write a :class:`KeyedVectors` (or anything with ``index_to_key`` and ``vectors``, gensim's
    KeyedVectors included) in word2vec.c's format; see :func:`write_word2vec_format`."""
    if not (hasattr(kv, "index_to_key") and hasattr(kv, "vectors")):
        raise TypeError(f"kv must be a KeyedVectors (with index_to_key and vectors), got {type(kv).__name__}")
    write_word2vec_format(path, kv.index_to_key, kv.vectors, binary=binary)


def _check_codec(encoding, unicode_errors):
    if not isinstance(encoding, str):
        raise TypeError(f"encoding must be a str, got {type(encoding).__name__} {encoding!r}")
    try:
        codecs.lookup(encoding)
        b"a".decode(encoding, "ignore")  # a text codec ('rot13', 'base64': LookupError on decoding)
    except LookupError:
        raise ValueError(f"encoding must name a text codec, got {encoding!r}") from None
    if not isinstance(unicode_errors, str):
        raise TypeError(f"unicode_errors must be a str, got {type(unicode_errors).__name__} {unicode_errors!r}")
    try:
        codecs.lookup_error(unicode_errors)
    except LookupError:
        raise ValueError(f"unicode_errors must name an error handler ('strict', 'replace', 'ignore', ...), "
                         f"got {unicode_errors!r}") from None


def _header(f, where, limit):
    line = f.readline(_HEADER_MAX)
    parts = line.split()
    if not line.endswith(b"\n") or len(parts) != 2 or not all(p.isdigit() for p in parts):
        raise ValueError(f"{where}: not a word2vec-format file: the first line must be the header "
                         f"'n_words vector_size', got {line[:80]!r}")
    n, d = int(parts[0]), int(parts[1])
    if n < 1 or d < 1:
        raise ValueError(f"{where}: the header announces {n} words of size {d}; both must be >= 1")
    m = n if limit is None else min(n, limit)
    try:
        check_allocation(m * d, 4, f"the header's {m} x {d} vectors", what="float32 values")
    except ValueError as exc:
        raise ValueError(f"{where}: {exc} (a damaged header?)") from None
    return n, d, m


def _decode(word, where, encoding, unicode_errors, at):
    try:
        w = word.decode(encoding, unicode_errors)
    except UnicodeError as exc:
        raise ValueError(f"{where}, {at}: word {word[:40]!r} cannot be decoded with encoding {encoding!r} ({exc}); "
                         "unicode_errors='replace' or 'ignore' reads it anyway") from None
    if not w:
        raise ValueError(f"{where}, {at}: the word is empty once decoded")
    return w


def _check_values(block, where, first, name_of):
    """Raise naming the first non-finite or beyond-float32 value of a parsed block."""
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(block) | (np.abs(block) > _F32_MAX)
    if bad.any():
        r, c = divmod(int(np.argmax(bad)), block.shape[1])
        raise ValueError(f"{where}, {name_of(first + r)}: value {c + 1} is {block[r, c]!r}, not a finite float32")


def _parse_text_block(rests, d, where, first_line):
    """(len(rests), d) float64 values of text lines (``first_line`` is the file line of rests[0])."""
    try:
        block = np.loadtxt([r.decode("latin-1") for r in rests], dtype=np.float64, comments=None, ndmin=2)
        if block.shape == (len(rests), d):
            return block
    except ValueError:
        pass
    for i, rest in enumerate(rests):  # find the culprit for the message
        at, fields = f"line {first_line + i}", rest.split()
        hint = " (a binary file? pass binary=True)" if any(b < 9 or 13 < b < 32 for b in rest) else ""
        if len(fields) != d:
            raise ValueError(f"{where}, {at}: expected a word and {d} numbers, got {len(fields)} numbers{hint}")
        for j, v in enumerate(fields):
            try:
                float(v)
            except ValueError:
                raise ValueError(f"{where}, {at}: value {j + 1} is {v[:40]!r}, not a number{hint}") from None
    raise ValueError(f"{where}, lines {first_line}-{first_line + len(rests) - 1}: not parseable as numbers")


def _read_text(f, where, n, d, m, encoding, unicode_errors):
    words, vectors, seen = [], np.empty((m, d), np.float32), {}
    for start in range(0, m, _BLOCK):
        rests = []
        for k in range(start, min(m, start + _BLOCK)):
            line = f.readline()
            if not line:
                raise ValueError(f"{where}: the file ends after {k} of the {n} vectors its header announces "
                                 "(truncated?)")
            if not line.endswith(b"\n"):
                raise ValueError(f"{where}, line {k + 2}: the file ends inside this line (truncated? every line "
                                 "ends with a newline)")
            parts = line.split(None, 1)
            if len(parts) < 2:
                raise ValueError(f"{where}, line {k + 2}: expected a word and {d} numbers, got {line[:80]!r}")
            w = _decode(parts[0], where, encoding, unicode_errors, f"line {k + 2}")
            if w in seen:
                raise ValueError(f"{where}, line {k + 2}: duplicate word {w!r} (first on line {seen[w] + 2})")
            seen[w] = k
            words.append(w)
            rests.append(parts[1])
        block = _parse_text_block(rests, d, where, start + 2)
        _check_values(block, where, start, lambda r: f"line {r + 2} (word {words[r]!r})")
        vectors[start:start + len(rests)] = block
    if m == n:
        while True:
            rest = f.read(_CHUNK)
            if not rest:
                break
            if rest.strip():
                raise ValueError(f"{where}: more lines than the {n} vectors its header announces "
                                 "(a damaged header, or not a word2vec text file?)")
    return words, vectors


class _Buffer:
    """Bytes of a binary file read ``_CHUNK`` at a time."""

    def __init__(self, f):
        self.f, self.buf, self.pos, self.eof = f, b"", 0, False

    def _more(self) -> bool:
        if self.eof:
            return False
        data = self.f.read(_CHUNK)
        if not data:
            self.eof = True
            return False
        self.buf = self.buf[self.pos:] + data
        self.pos = 0
        return True

    def skip_space(self) -> bool:
        """Skip ASCII whitespace; False at the end of the file."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _ASCII_SPACE:
                self.pos += 1
            if self.pos < len(self.buf) or not self._more():
                return self.pos < len(self.buf)

    def until_space(self):
        """Bytes up to the next b' ' (consumed), or None at the end of the file."""
        while True:
            i = self.buf.find(b" ", self.pos)
            if i >= 0:
                out, self.pos = self.buf[self.pos:i], i + 1
                return out
            if not self._more():
                return None

    def take(self, k):
        while len(self.buf) - self.pos < k:
            if not self._more():
                return None
        out, self.pos = self.buf[self.pos:self.pos + k], self.pos + k
        return out


def _read_binary(f, where, n, d, m, encoding, unicode_errors):
    words, vectors, seen, buf = [], np.empty((m, d), np.float32), {}, _Buffer(f)
    for k in range(m):
        at = f"word {k + 1}"
        word = buf.until_space() if buf.skip_space() else None
        raw = buf.take(4 * d) if word is not None else None
        if raw is None:
            raise ValueError(f"{where}: the file ends inside the {k + 1}th of the {n} vectors its header announces "
                             "(truncated, or not a binary word2vec file?)")
        w = _decode(word, where, encoding, unicode_errors, at)
        if w in seen:
            raise ValueError(f"{where}, {at}: duplicate word {w!r} (first as word {seen[w] + 1})")
        row = np.frombuffer(raw, "<f4")
        if k == 0 and _TEXT_BYTES.issuperset(raw):
            raise ValueError(f"{where}: the first vector's bytes are text ({raw[:40]!r}): a text word2vec file? "
                             "pass binary=False")
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(row).all()
        if not finite:
            c = int(np.argmax(~np.isfinite(row)))
            raise ValueError(f"{where}, {at} ({w!r}): value {c + 1} is {row[c]!r}, not finite (damaged, or not "
                             "a binary word2vec file of float32?)")
        seen[w] = k
        words.append(w)
        vectors[k] = row
    if m == n and buf.skip_space():
        raise ValueError(f"{where}: bytes remain after the {n} vectors its header announces (a damaged header, "
                         "or not a binary word2vec file? a text one needs binary=False)")
    return words, vectors


def read_word2vec_format(path, binary=False, limit=None, encoding="utf8", unicode_errors="strict"):
    """Read a word2vec.c text or binary file, checking it whole.

    Parameters
    ----------
    path : str or os.PathLike
    binary : bool
        The binary format (else text).
    limit : int, optional
        Read only the first ``limit`` vectors (the rest of the file is not read or checked).
    encoding : str
        Codec of the words (word2vec.c writes the corpus' bytes; UTF-8 usually).
    unicode_errors : str
        Decoding error handler: ``'strict'`` raises; ``'replace'``/``'ignore'`` read words that
        word2vec.c cut in the middle of a multi-byte character.

    Returns
    -------
    words : list of str, length m
    vectors : ndarray of float32, shape (m, d)
        ``m`` is the header's count, or ``limit`` when smaller.

    Raises
    ------
    ValueError
        A truncated, damaged or foreign file (the message names the file and the line or word),
        a duplicate word, a bad ``limit``/``encoding``/``unicode_errors``.
    TypeError
        Arguments of the wrong type.
    FileNotFoundError, IsADirectoryError, PermissionError
        The file cannot be opened (Python's own errors, which name it).
    """
    where = os.fsdecode(path_arg(path))
    binary = check_flag(binary, "binary")
    if limit is not None:
        limit = check_scalar(limit, "limit", integer=True, lo=1)
    _check_codec(encoding, unicode_errors)
    with open(where, "rb") as f:
        n, d, m = _header(f, where, limit)
        read = _read_binary if binary else _read_text
        return read(f, where, n, d, m, encoding, unicode_errors)


def write_npz(path, words, vectors) -> None:
    """Write ``words`` and ``vectors`` (float32, (n, d)) in fastkernels' versioned ``.npz``."""
    where = path_arg(path)
    encoded = []
    for w in words:
        if not isinstance(w, str) or not w:
            raise ValueError(f"words must be non-empty str, got {w!r}")
        encoded.append(w.encode("utf-8", "surrogatepass"))
    vectors = _as_f32_matrix(vectors, len(encoded))
    offsets = np.zeros(len(encoded) + 1, np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    save_npz(where, NPZ_FORMAT, NPZ_VERSION, {"vectors": vectors, "word_offsets": offsets,
                                              "words_utf8": np.frombuffer(b"".join(encoded), np.uint8)})


def read_npz(path):
    """``(words, vectors)`` of a file written by :func:`write_npz`, checked whole.

    Raises
    ------
    ValueError
        Not such a file, another format or a newer version, a checksum mismatch, inconsistent
        entries; the message names the file.
    """
    where = os.fsdecode(path_arg(path))
    arrays = load_npz(where, NPZ_FORMAT, _NPZ_VERSIONS)
    vectors = npz_entry(arrays, "vectors", where, kind="f", shape=(None, None), dtype=np.float32)
    blob = npz_entry(arrays, "words_utf8", where, kind="u", shape=(None,), dtype=np.uint8)
    offsets = npz_entry(arrays, "word_offsets", where, kind="i", shape=(vectors.shape[0] + 1,), dtype=np.int64)
    if offsets[0] != 0 or offsets[-1] != blob.size or (np.diff(offsets) <= 0).any():
        raise ValueError(f"{where}: entry 'word_offsets' does not cut 'words_utf8' into non-empty words")
    data = blob.tobytes()
    try:
        words = [data[a:b].decode("utf-8", "surrogatepass") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    except UnicodeDecodeError as exc:
        raise ValueError(f"{where}: entry 'words_utf8' is not UTF-8 ({exc})") from None
    return words, vectors


__all__ = ["NPZ_FORMAT", "NPZ_VERSION", "read_npz", "read_word2vec_format", "save_word2vec_format", "write_npz",
           "write_word2vec_format"]
