"""The vocabulary: words, their counts, id <-> word maps, encode/decode, save/load.

Two ways to bound a vocabulary, both sorted by descending count with ties in
order of first occurrence (what ``collections.Counter.most_common`` gives, so
the TF tutorial's ids are reproduced) or, with ``ties="gensim"``, the word seen
last first (gensim 4's ``sort_by_descending_frequency``: ``Word2Vec`` uses it, so
its ids are gensim's):

* **drop rare words** (word2vec.c, gensim; ``unk=None``): words seen fewer than
  ``min_count`` times, or beyond the ``max_size`` most frequent, are not in the
  vocabulary and are removed from the corpus before windows are built;
* **UNK at id 0** (the TensorFlow tutorial; ``unk="UNK"``): those words map to
  id 0, whose count is the number of replaced tokens. The tutorial's 50 000-word
  vocabulary is ``Vocabulary.build(words, max_size=50_000, min_count=1, unk="UNK")``.

Counting runs in one compiled pass over the raw bytes (see ``_tokens``), cut
into one piece per thread whose tables are merged in order. On the shared
2-core development machine a 10 M-token Zipf corpus (100 k words) takes about
1 s on one thread, 2.8-3.3 times faster than ``collections.Counter`` on
``str.split()`` of the same text.
"""

from __future__ import annotations

import numbers
import os

import numpy as np

from .._validate import INT64_MAX, as_index_array, check_choice, check_scalar
from ._scan import CHUNK_BYTES, UNKNOWN_POLICIES, check_encoding, scan_source
from ._tokens import SEP_NUL, separator_table
from ._vocab_file import path_arg, read_word_counts, write_word_counts
from ._word_table import WordTable


def _int64_counts(counts, name: str, n: int) -> np.ndarray:
    """``counts`` as a fresh 1-D int64 array of length ``n``, refusing floats, bools, negative
    values and integers an int64 cannot hold (never wrapped)."""
    try:
        arr = np.asarray(counts)
    except (ValueError, TypeError):  # ragged nested lists and the like
        raise TypeError(f"{name} must be an array of integers, got {type(counts).__name__}") from None
    if arr.dtype.kind == "O" and arr.size and all(
            isinstance(v, numbers.Integral) and not isinstance(v, (bool, np.bool_)) for v in arr.ravel()):
        big = next((i for i, v in enumerate(arr.ravel()) if not -INT64_MAX - 1 <= int(v) <= INT64_MAX), None)
        if big is not None:
            raise ValueError(f"{name}[{big}] = {int(arr.ravel()[big])} does not fit in an int64 (max {INT64_MAX})")
        arr = arr.astype(np.int64)
    if arr.dtype.kind not in "iu" and not (arr.size == 0 and arr.dtype.kind == "f"):
        raise TypeError(f"{name} must be integers, got dtype {arr.dtype.name}")
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > INT64_MAX:
        i = int(np.argmax(arr.ravel() > INT64_MAX))
        raise ValueError(f"{name}[{i}] = {int(arr.ravel()[i])} does not fit in an int64 (max {INT64_MAX})")
    if arr.ndim > 1 or arr.size != n:
        raise ValueError(f"{name} must have shape ({n},), got {np.shape(arr)}")
    arr = arr.astype(np.int64).reshape(-1)
    if (arr < 0).any():
        i = int(np.argmax(arr < 0))
        raise ValueError(f"{name} must be non-negative; {name}[{i}] = {arr[i]}")
    return arr


#: Orders of words with equal counts (see :meth:`Vocabulary.build`).
TIES = ("first", "gensim")


def check_words(words, name: str = "words") -> list:
    """``words`` (an iterable of str) as a list of distinct non-empty str; TypeError/ValueError naming ``name``."""
    words = list(words)
    for i, w in enumerate(words):
        if not isinstance(w, str):
            raise TypeError(f"{name} must be str; {name}[{i}] is {type(w).__name__} {w!r}")
        if not w:
            raise ValueError(f"{name} must be non-empty; {name}[{i}] is ''")
    if len(set(words)) != len(words):
        seen = set()
        dup = next(w for w in words if w in seen or seen.add(w))
        raise ValueError(f"{name} must be distinct; {dup!r} appears more than once")
    return words


def exact_total(counts) -> int:
    """The sum of non-negative int64 ``counts`` as a Python int (no wrap-around)."""
    counts = np.asarray(counts, np.int64)
    return (int((counts >> 32).sum()) << 32) + int((counts & 0xFFFFFFFF).sum())


def _encode_error(word: str, encoding: str):
    """Why ``word`` cannot be encoded with ``encoding`` (and surrogateescape), or None."""
    try:
        word.encode(encoding, "surrogateescape")
    except UnicodeEncodeError as exc:
        return exc.reason
    return None


class Vocabulary:
    """Words with their counts, ids ``0..len-1`` in list order.

    Usually made by :meth:`build`, :func:`read_corpus`, :meth:`from_counts` or
    :meth:`load`; the constructor takes the final word list as is.

    Parameters
    ----------
    words : sequence of str
        Distinct, non-empty words; position = id. (Words read from text may hold
        any byte but ASCII whitespace; token lists cannot hold NUL.)
    counts : array_like of int, shape (len(words),)
        Non-negative counts (int64).
    unk : str, optional
        The word standing for every out-of-vocabulary token; must be ``words[0]``.
    encoding : str
        ASCII-compatible codec used to turn text bytes into words.

    Attributes
    ----------
    words : list of str
    counts : ndarray of int64 (read-only)
    unk : str or None
    unk_id : int or None
        0 when ``unk`` is set.
    encoding : str

    Raises
    ------
    TypeError
        ``words`` not a sequence of str (a single str is refused), non-integer counts
        (floats and bools are never truncated), ``unk`` not a str.
    ValueError
        No words, duplicate or empty words, a word ``encoding`` cannot encode, negative
        counts or counts beyond int64 (never wrapped), counts summing beyond int64, length
        mismatch, ``unk`` not first, an unknown or non-ASCII-compatible ``encoding``.
    """

    def __init__(self, words, counts, *, unk=None, encoding="utf-8"):
        if isinstance(words, (str, bytes)) or not hasattr(words, "__iter__"):
            raise TypeError(f"words must be a sequence of str, got {type(words).__name__}")
        words = check_words(words)
        if not words:
            raise ValueError("words must not be empty (a vocabulary has at least one word)")
        encoding = check_encoding(encoding)
        try:
            "".join(words).encode(encoding, "surrogateescape")
        except UnicodeEncodeError:
            i, reason = next((i, r) for i, r in ((i, _encode_error(w, encoding)) for i, w in enumerate(words)) if r)
            raise ValueError(f"words must be encodable with encoding {encoding!r}; words[{i}] = {words[i]!r} is not "
                             f"({reason})") from None
        counts = _int64_counts(counts, "counts", len(words))
        total = exact_total(counts)
        if total > INT64_MAX:
            raise ValueError(f"counts sum to {total}, more than an int64 holds ({INT64_MAX}); "
                             "the corpus size (Vocabulary.total) must be countable")
        if unk is not None:
            if not isinstance(unk, str) or not unk:
                raise TypeError(f"unk must be a non-empty str or None, got {unk!r}")
            if words[0] != unk:
                raise ValueError(f"unk={unk!r} must be the first word (id 0), got {words[:1]}")
        self.words = words
        self.counts = counts
        self.counts.flags.writeable = False
        self.unk = unk
        self.encoding = encoding
        self._index = None
        self._table = None
        self._objects = None

    # -- construction ---------------------------------------------------------------

    @staticmethod
    def _check_options(min_count, max_size, unk, encoding="utf-8", ties="first"):
        check_choice(ties, "ties", TIES)
        min_count = check_scalar(min_count, "min_count", integer=True, lo=1)
        if max_size is not None:
            max_size = check_scalar(max_size, "max_size", integer=True, lo=2 if unk is not None else 1)
        if unk is not None and (not isinstance(unk, str) or not unk or "\x00" in unk):
            raise TypeError(f"unk must be a non-empty str (e.g. 'UNK') or None, got {unk!r}")
        check_encoding(encoding)
        if unk is not None and _encode_error(unk, encoding):
            raise ValueError(f"unk={unk!r} cannot be encoded with encoding {encoding!r} "
                             f"({_encode_error(unk, encoding)})")
        return min_count, max_size, unk, ties

    @staticmethod
    def _select(counts, min_count, max_size, unk, unk_raw, ties="first"):
        """Raw ids kept, most frequent first, ties by raw id: the word seen first first
        (``ties="first"``) or last first (``"gensim"``).

        ``unk_raw`` is the raw id of the UNK word itself when it occurs (it is
        never ranked: its tokens count towards UNK), else -1.
        """
        if ties == "gensim":  # gensim's sort_by_descending_frequency: lexsort((-index, -count))
            order = np.lexsort((-np.arange(counts.size), -counts))
        else:
            order = np.argsort(-counts, kind="stable")
        if unk_raw >= 0:
            order = order[order != unk_raw]
        order = order[counts[order] >= min_count]
        if max_size is not None:
            order = order[: max_size - (1 if unk is not None else 0)]
        return order

    @classmethod
    def _finish(cls, order, counts, words, unk, encoding):
        base = 1 if unk is not None else 0
        remap = np.full(counts.size, 0 if unk is not None else -1, np.int32)
        remap[order] = np.arange(base, base + order.size, dtype=np.int32)
        kept = counts[order]
        if unk is not None:
            left_out = exact_total(counts) - exact_total(kept)  # exact: int64 sums could wrap
            if left_out > INT64_MAX:
                raise ValueError(f"counts of the words left out sum to {left_out}, more than the UNK word's int64 "
                                 f"count holds ({INT64_MAX})")
            kept = np.concatenate([np.array([left_out], np.int64), kept])
            words = [unk, *words]
        if not words:
            raise ValueError("the vocabulary would be empty: no word occurs min_count times "
                             f"(most frequent count {int(counts.max()) if counts.size else 0})")
        return cls(words, kept, unk=unk, encoding=encoding), remap

    @classmethod
    def _from_table(cls, table, min_count, max_size, unk, ties="first", *, encoding):
        counts = table.counts.copy()
        if counts.size == 0:
            raise ValueError("the corpus is empty: no tokens to count")
        unk_raw = -1 if unk is None else _lookup_one(table, unk, encoding)
        order = cls._select(counts, min_count, max_size, unk, unk_raw, ties)
        try:
            words = table.words(order, encoding)
        except UnicodeError as exc:  # stateful codecs (utf-7, iso2022, ...) refuse some bytes even escaped
            raise ValueError(f"source holds bytes that encoding {encoding!r} cannot decode ({exc}); "
                             "pass the text's real encoding=") from None
        return cls._finish(order, counts, words, unk, encoding)

    @classmethod
    def build(cls, source, *, min_count=5, max_size=None, unk=None, ties="first", chunk_bytes=CHUNK_BYTES,
              encoding="utf-8",
              backend="auto"):
        """Count the words of ``source`` and keep the frequent ones.

        Parameters
        ----------
        source : path, file object, bytes, list of str, or iterable of lists of str
            As in :func:`read_corpus` (files are streamed in chunks).
        min_count : int >= 1
            Words seen fewer times are left out (5 as in gensim and word2vec.c; the
            TF tutorial keeps everything: 1).
        max_size : int, optional
            Keep at most this many words, the UNK word included (the tutorial's
            50 000); ties at the cut go to the word seen first.
        ties : {"first", "gensim"}
            Order of words with equal counts: the one seen first first (``collections.Counter.
            most_common``, the TF tutorial), or last first (gensim 4's order, which ``Word2Vec``
            uses, so a gensim user's indices line up).
        unk : str, optional
            Tutorial mode: this word gets id 0 and the count of every left-out
            token (its own occurrences in the text included).
        chunk_bytes : int
            Bytes read per chunk from a file.
        encoding : str
            ASCII-compatible codec of the text.
        backend : {"auto", "cpu", "parallel", "cuda"}
            As in :func:`read_corpus`: "parallel" counts pieces of each chunk on
            Numba's threads and merges them in order (same vocabulary).

        Returns
        -------
        Vocabulary

        Raises
        ------
        ValueError
            Empty corpus, empty result, bad options, an ``unk`` the encoding cannot
            encode. (See :func:`read_corpus` for source errors.)
        TypeError
            Options of the wrong type.

        Examples
        --------
        >>> from fastkernels.word2vec import Vocabulary
        >>> v = Vocabulary.build([["a", "b", "a"], ["c", "a", "b"]], min_count=2, unk="UNK")
        >>> v.words, v.counts.tolist()
        (['UNK', 'a', 'b'], [1, 3, 2])
        """
        opts = cls._check_options(min_count, max_size, unk, encoding, ties)
        table = WordTable()
        scan_source(source, table, insert=True, count_only=True, chunk_bytes=chunk_bytes, encoding=encoding,
                    backend=backend)
        return cls._from_table(table, *opts, encoding=encoding)[0]

    @classmethod
    def from_counts(cls, counts, *, min_count=5, max_size=None, unk=None, ties="first", encoding="utf-8"):
        """A vocabulary from a ``{word: count}`` mapping (e.g. a ``collections.Counter``);
        ties are broken by the mapping's order. Options and defaults as in :meth:`build`
        (``min_count=5``, as gensim's ``build_vocab_from_freq`` with its default model).

        Raises
        ------
        TypeError
            ``counts`` not a mapping, a key that is not a str, a count that is not an int.
        ValueError
            An empty mapping or result, empty words, negative counts, counts beyond int64.
        """
        min_count, max_size, unk, ties = cls._check_options(min_count, max_size, unk, encoding, ties)
        if not hasattr(counts, "items"):
            raise TypeError(f"counts must be a mapping word -> count, got {type(counts).__name__}")
        words = list(counts.keys())
        if not words:
            raise ValueError("counts is empty")
        for w in words:
            if not isinstance(w, str):
                raise TypeError(f"counts keys must be str (the words); got {type(w).__name__} {w!r}")
            if not w:
                raise ValueError("counts keys must be non-empty words; got ''")
        values = _int64_counts(list(counts.values()), "counts", len(words))
        unk_raw = words.index(unk) if unk is not None and unk in counts else -1
        order = cls._select(values, min_count, max_size, unk, unk_raw, ties)
        return cls._finish(order, values, [words[i] for i in order], unk, encoding)[0]

    # -- maps ----------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.words)

    @property
    def unk_id(self):
        """Id of the UNK word (0), or None without one."""
        return 0 if self.unk is not None else None

    @property
    def total(self) -> int:
        """Sum of the counts: tokens in the encoded corpus (every token in UNK mode)."""
        return int(self.counts.sum())

    def _lookup(self):
        if self._index is None:
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def __contains__(self, word) -> bool:
        return word in self._lookup()

    def index(self, word: str) -> int:
        """Id of ``word``; KeyError naming it when absent (no UNK fallback).

        Raises
        ------
        KeyError
            ``word`` is not in the vocabulary.
        TypeError
            ``word`` is not a str.
        """
        if not isinstance(word, str):
            raise TypeError(f"word must be a str, got {type(word).__name__} {word!r}")
        try:
            return self._lookup()[word]
        except KeyError:
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def word(self, i: int) -> str:
        """Word with id ``i`` (an int in ``[0, len(self))``; TypeError/ValueError otherwise)."""
        i = check_scalar(i, "i", integer=True, lo=0, hi=len(self.words) - 1)
        return self.words[i]

    # -- gensim's names (KeyedVectors.key_to_index / index_to_key / get_vecattr) -----------

    @property
    def key_to_index(self) -> dict:
        """``{word: id}`` (gensim's name; built once and cached: do not modify it)."""
        return self._lookup()

    @property
    def index_to_key(self) -> list:
        """The words in id order (gensim's name for :attr:`words`; do not modify it)."""
        return self.words

    def __getitem__(self, word: str) -> int:
        """``vocab[word]``: the id of ``word``, as :meth:`index` (KeyError naming an absent word)."""
        return self.index(word)

    def get_count(self, word: str) -> int:
        """Count of ``word`` (gensim's ``get_vecattr(word, "count")``).

        Raises
        ------
        KeyError
            ``word`` is not in the vocabulary.
        TypeError
            ``word`` is not a str.
        """
        return int(self.counts[self.index(word)])

    def _lookup_table(self):
        """Byte-level hash table whose ids are this vocabulary's ids (built once)."""
        if self._table is None:
            table = WordTable(max(16, len(self.words)))
            encoded = [w.encode(self.encoding, "surrogateescape") for w in self.words]
            starts = np.zeros(len(encoded) + 1, np.int64)
            np.cumsum([len(b) for b in encoded], out=starts[1:])
            ids = table.insert_words(np.frombuffer(b"".join(encoded), np.uint8), starts,
                                     np.zeros(len(encoded), np.int64))
            if table.n_words != len(self.words):
                raise ValueError(f"words are not distinct once encoded with {self.encoding!r}")
            assert (ids == np.arange(len(ids))).all()
            self._table = table
        return self._table

    def encode(self, tokens, *, unknown=None) -> np.ndarray:
        """Ids of a sequence of str tokens.

        Parameters
        ----------
        tokens : sequence of str
        unknown : {"unk", "drop", "error"}, optional
            Out-of-vocabulary tokens become the UNK id, are removed, or raise
            ``ValueError`` naming the first. Default "unk" with an UNK word, else "error".

        Returns
        -------
        ndarray of int32

        Raises
        ------
        TypeError
            ``tokens`` not a sequence (a single str is refused) or a token not a str.
        ValueError
            An unknown token under "error", empty or NUL-holding tokens, tokens the
            vocabulary's encoding cannot encode, a bad ``unknown``.
        """
        policy = check_choice(unknown, "unknown", UNKNOWN_POLICIES) if unknown is not None else (
            "unk" if self.unk is not None else "error")
        if policy == "unk" and self.unk is None:
            raise ValueError("unknown='unk' needs a vocabulary with an UNK word")
        if isinstance(tokens, str) or not hasattr(tokens, "__len__"):
            raise TypeError(f"tokens must be a sequence of str, got {type(tokens).__name__}")
        tokens = list(tokens)
        if not tokens:
            return np.zeros(0, np.int32)
        ids, _, _ = scan_source(tokens, self._lookup_table(), insert=False, encoding=self.encoding)
        unknown_mask = ids < 0
        if unknown_mask.any():
            if policy == "error":
                i = int(np.argmax(unknown_mask))
                raise ValueError(f"unknown word {tokens[i]!r} at position {i} "
                                 f"({int(unknown_mask.sum())} unknown tokens in all)")
            ids = np.where(unknown_mask, 0, ids).astype(np.int32) if policy == "unk" else ids[~unknown_mask]
        return ids

    def decode(self, ids):
        """Words of an id array (nested lists for a multi-dimensional array, a str for a single id).

        Raises
        ------
        TypeError
            ``ids`` not integers (floats are never truncated, bools are refused).
        ValueError
            An id outside ``[0, len(self))``.
        """
        ids = as_index_array(ids, "ids", n=len(self.words), ndim=None)
        if hasattr(ids, "copy_to_host"):
            ids = ids.copy_to_host()
        if self._objects is None:
            self._objects = np.array(self.words, dtype=object)
        words = self._objects[ids]
        return words if ids.ndim == 0 else words.tolist()

    # -- files ---------------------------------------------------------------------

    def save(self, path) -> None:
        """Write word2vec.c's vocabulary format: one ``word count`` line per word, in id order.

        This is an interchange format (word2vec.c's ``-save-vocab``/``-read-vocab``): plain
        text with no checksum, so :meth:`load` validates it line by line instead.

        Raises
        ------
        TypeError
            ``path`` is not a path.
        ValueError
            A word containing whitespace or NUL (the format cannot hold it); nothing is written.
        """
        write_word_counts(path, self.words, self.counts, self.encoding)

    @classmethod
    def load(cls, path, *, unk=None, encoding="utf-8"):
        """Read a ``word count`` file (word2vec.c's ``-save-vocab``; ids in line order).

        The format has no header or checksum, so every line is checked: exactly a word and a
        count of ASCII digits that fits an int64, no NUL byte, a word that ``encoding``
        decodes (undecodable bytes of ASCII-compatible codecs such as UTF-8 are kept by
        ``surrogateescape``, as :func:`read_corpus` keeps them), no word twice, and at least
        one word. Blank lines are skipped.

        Parameters
        ----------
        path : str or os.PathLike
        unk : str, optional
            The UNK word of a tutorial-mode vocabulary (must be on the first line).
        encoding : str

        Raises
        ------
        ValueError
            A damaged or foreign file: the message names the file and, for a bad line, its
            number (malformed line, negative or non-numeric count, a count beyond int64, a NUL
            byte, undecodable bytes, a duplicate word, no words at all), or ``unk`` not first.
        TypeError
            ``path`` is not a path, ``unk`` is not a str.
        FileNotFoundError, IsADirectoryError, PermissionError
            The file cannot be opened (Python's own errors, which name it).
        """
        where = path_arg(path)
        check_encoding(encoding)
        if unk is not None and (not isinstance(unk, str) or not unk):
            raise TypeError(f"unk must be a non-empty str or None, got {unk!r}")
        words, counts = read_word_counts(where, encoding)
        try:
            return cls(words, np.array(counts, np.int64), unk=unk, encoding=encoding)
        except ValueError as exc:  # unk not first, counts summing beyond int64
            raise ValueError(f"{os.fsdecode(where)}: {exc}") from None

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.words == other.words and np.array_equal(self.counts, other.counts) and self.unk == other.unk

    __hash__ = None

    def __repr__(self) -> str:
        unk = f", unk={self.unk!r}" if self.unk is not None else ""
        return f"Vocabulary(n_words={len(self)}, total={self.total}{unk})"


def _lookup_one(table, word, encoding):
    """Raw id of ``word`` in ``table``, or -1 (``word`` is encodable: see ``_check_options``)."""
    buf = np.frombuffer(word.encode(encoding, "surrogateescape"), np.uint8)
    ids, _, _, _ = table.scan(buf, final=True, sep=separator_table(SEP_NUL), insert=False, count_only=False)
    return int(ids[0]) if ids.size == 1 else -1


__all__ = ["Vocabulary"]
