"""The vocabulary: words, their counts, id <-> word maps, encode/decode, save/load.

Two ways to bound a vocabulary, both sorted by descending count with ties in
order of first occurrence (what ``collections.Counter.most_common`` gives, so
the TF tutorial's ids are reproduced; gensim's ``sorted_vocab`` leaves the order
of ties undefined):

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

import os

import numpy as np

from .._validate import as_index_array, check_choice, check_scalar
from ._tokens import SEP_NUL, WordTable, separator_table
from .corpus import CHUNK_BYTES, UNKNOWN_POLICIES, _check_encoding, scan_source

_WHITESPACE = frozenset(" \t\n\v\f\r")


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
        A word that is not a str, or non-integer counts.
    ValueError
        Duplicate or empty words, negative counts, length mismatch, ``unk`` not first.
    """

    def __init__(self, words, counts, *, unk=None, encoding="utf-8"):
        words = list(words)
        for i, w in enumerate(words):
            if not isinstance(w, str):
                raise TypeError(f"words must be str; words[{i}] is {type(w).__name__} {w!r}")
            if not w:
                raise ValueError(f"words must be non-empty; words[{i}] is ''")
        if len(set(words)) != len(words):
            seen = set()
            dup = next(w for w in words if w in seen or seen.add(w))
            raise ValueError(f"words must be distinct; {dup!r} appears more than once")
        counts = np.asarray(counts)
        if counts.dtype.kind not in "iu" and not (counts.size == 0 and counts.dtype.kind == "f"):
            raise TypeError(f"counts must be integers, got dtype {counts.dtype.name}")
        counts = counts.astype(np.int64).reshape(-1) if counts.ndim <= 1 else counts
        if counts.ndim != 1 or counts.size != len(words):
            raise ValueError(f"counts must have shape ({len(words)},), got {np.shape(counts)}")
        if (counts < 0).any():
            i = int(np.argmax(counts < 0))
            raise ValueError(f"counts must be non-negative; counts[{i}] = {counts[i]} for {words[i]!r}")
        if unk is not None:
            if not isinstance(unk, str) or not unk:
                raise TypeError(f"unk must be a non-empty str or None, got {unk!r}")
            if not words or words[0] != unk:
                raise ValueError(f"unk={unk!r} must be the first word (id 0), got {words[:1]}")
        self.words = words
        self.counts = counts
        self.counts.flags.writeable = False
        self.unk = unk
        self.encoding = _check_encoding(encoding)
        self._index = None
        self._table = None
        self._objects = None

    # -- construction ---------------------------------------------------------------

    @staticmethod
    def _check_options(min_count, max_size, unk):
        min_count = check_scalar(min_count, "min_count", integer=True, lo=1)
        if max_size is not None:
            max_size = check_scalar(max_size, "max_size", integer=True, lo=2 if unk is not None else 1)
        if unk is not None and (not isinstance(unk, str) or not unk or "\x00" in unk):
            raise TypeError(f"unk must be a non-empty str (e.g. 'UNK') or None, got {unk!r}")
        return min_count, max_size, unk

    @staticmethod
    def _select(counts, min_count, max_size, unk, unk_raw):
        """Raw ids kept, most frequent first, ties by raw id (first occurrence).

        ``unk_raw`` is the raw id of the UNK word itself when it occurs (it is
        never ranked: its tokens count towards UNK), else -1.
        """
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
            kept = np.concatenate([[counts.sum() - kept.sum()], kept])
            words = [unk, *words]
        if not words:
            raise ValueError("the vocabulary would be empty: no word occurs min_count times "
                             f"(most frequent count {int(counts.max()) if counts.size else 0})")
        return cls(words, kept, unk=unk, encoding=encoding), remap

    @classmethod
    def _from_table(cls, table, min_count, max_size, unk, *, encoding):
        counts = table.counts.copy()
        if counts.size == 0:
            raise ValueError("the corpus is empty: no tokens to count")
        unk_raw = -1 if unk is None else _lookup_one(table, unk, encoding)
        order = cls._select(counts, min_count, max_size, unk, unk_raw)
        return cls._finish(order, counts, table.words(order, encoding), unk, encoding)

    @classmethod
    def build(cls, source, *, min_count=5, max_size=None, unk=None, chunk_bytes=CHUNK_BYTES, encoding="utf-8",
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
            Empty corpus, empty result, bad options. (See :func:`read_corpus` for
            source errors.)

        Examples
        --------
        >>> from fastkernels.word2vec import Vocabulary
        >>> v = Vocabulary.build([["a", "b", "a"], ["c", "a", "b"]], min_count=2, unk="UNK")
        >>> v.words, v.counts.tolist()
        (['UNK', 'a', 'b'], [1, 3, 2])
        """
        opts = cls._check_options(min_count, max_size, unk)
        table = WordTable()
        scan_source(source, table, insert=True, count_only=True, chunk_bytes=chunk_bytes, encoding=encoding,
                    backend=backend)
        return cls._from_table(table, *opts, encoding=encoding)[0]

    @classmethod
    def from_counts(cls, counts, *, min_count=1, max_size=None, unk=None, encoding="utf-8"):
        """A vocabulary from a ``{word: count}`` mapping (e.g. a ``collections.Counter``);
        ties are broken by the mapping's order. Options as in :meth:`build`."""
        min_count, max_size, unk = cls._check_options(min_count, max_size, unk)
        if not hasattr(counts, "items"):
            raise TypeError(f"counts must be a mapping word -> count, got {type(counts).__name__}")
        words = list(counts.keys())
        values = np.asarray(list(counts.values()))
        if values.size and values.dtype.kind not in "iu":
            raise TypeError(f"counts must be integers, got dtype {values.dtype.name}")
        values = values.astype(np.int64)
        if (values < 0).any():
            raise ValueError("counts must be non-negative")
        if values.size == 0:
            raise ValueError("counts is empty")
        unk_raw = words.index(unk) if unk is not None and unk in counts else -1
        order = cls._select(values, min_count, max_size, unk, unk_raw)
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
        """Id of ``word``; KeyError naming it when absent (no UNK fallback)."""
        try:
            return self._lookup()[word]
        except (KeyError, TypeError):
            raise KeyError(f"word {word!r} is not in the vocabulary") from None

    def word(self, i: int) -> str:
        """Word with id ``i``."""
        i = check_scalar(i, "i", integer=True, lo=0, hi=len(self.words) - 1)
        return self.words[i]

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

    def decode(self, ids) -> list:
        """Words of an id array (nested lists for a multi-dimensional array)."""
        ids = np.asarray(ids) if not isinstance(ids, np.ndarray) else ids
        ids = as_index_array(ids, "ids", n=len(self.words), ndim=None)
        if self._objects is None:
            self._objects = np.array(self.words, dtype=object)
        return self._objects[ids].tolist()

    # -- files ---------------------------------------------------------------------

    def save(self, path) -> None:
        """Write word2vec.c's vocabulary format: one ``word count`` line per word, in id order.

        Raises
        ------
        ValueError
            A word containing whitespace (the format cannot hold it).
        """
        for w in self.words:
            if not _WHITESPACE.isdisjoint(w):
                raise ValueError(f"word {w!r} contains whitespace; the 'word count' format cannot store it")
        text = "".join(f"{w} {c}\n" for w, c in zip(self.words, self.counts.tolist()))
        with open(os.fspath(path), "wb") as f:
            f.write(text.encode(self.encoding, "surrogateescape"))

    @classmethod
    def load(cls, path, *, unk=None, encoding="utf-8"):
        """Read a ``word count`` file (word2vec.c's ``-save-vocab``; ids in line order).

        Parameters
        ----------
        path : str or os.PathLike
        unk : str, optional
            The UNK word of a tutorial-mode vocabulary (must be on the first line).
        encoding : str

        Raises
        ------
        ValueError
            A malformed line (named by number), duplicate words, ``unk`` not first.
        """
        _check_encoding(encoding)
        words, counts = [], []
        with open(os.fspath(path), "rb") as f:
            for lineno, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 2 or not parts[1].isdigit():
                    raise ValueError(f"{os.fspath(path)}, line {lineno}: expected 'word count', got {line[:80]!r}")
                words.append(parts[0].decode(encoding, "surrogateescape"))
                counts.append(int(parts[1]))
        return cls(words, np.array(counts, np.int64), unk=unk, encoding=encoding)

    def __eq__(self, other) -> bool:
        if not isinstance(other, Vocabulary):
            return NotImplemented
        return self.words == other.words and np.array_equal(self.counts, other.counts) and self.unk == other.unk

    __hash__ = None

    def __repr__(self) -> str:
        unk = f", unk={self.unk!r}" if self.unk is not None else ""
        return f"Vocabulary(n_words={len(self)}, total={self.total}{unk})"


def _lookup_one(table, word, encoding):
    """Raw id of ``word`` in ``table``, or -1."""
    buf = np.frombuffer(word.encode(encoding, "surrogateescape"), np.uint8)
    ids, _, _, _ = table.scan(buf, final=True, sep=separator_table(SEP_NUL), insert=False, count_only=False)
    return int(ids[0]) if ids.size == 1 else -1


__all__ = ["Vocabulary"]
