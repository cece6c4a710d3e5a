"""Corpus input: text files streamed in chunks, in-memory text, token lists, or
token ids with sentence boundaries, all ending as a :class:`Corpus`.

A :class:`Corpus` is the flat form every compiled kernel reads (gensim's
``corpus_file`` idea): ``ids``, int32 token ids back to back, and ``offsets``,
int64 sentence boundaries, sentence ``s`` being ``ids[offsets[s]:offsets[s + 1]]``.
Context windows never cross a sentence boundary.

Text is split on ASCII whitespace and each line is a sentence (word2vec.c's
reading rule); blank lines give no sentence. A file is read ``chunk_bytes`` at a
time, so text8 (one 100 MB line of 17 M tokens) is never held as Python strings.
"""

from __future__ import annotations

import os

import numpy as np

from .._validate import as_array, as_index_array, check_scalar

_MAX_ID = np.iinfo(np.int32).max


class Corpus:
    """Token ids and sentence boundaries of a corpus.

    Parameters
    ----------
    ids : array_like of int32 or int64, shape (n_tokens,)
        Token ids, non-negative and below ``n_words`` when given (and below 2**31).
        Stored as int32 (copied when given as int64 or as a list).
    offsets : array_like of int, shape (n_sentences + 1,), optional
        Sentence boundaries: ``offsets[0] == 0``, non-decreasing,
        ``offsets[-1] == n_tokens``. Empty sentences are allowed. Default: the
        whole corpus is one sentence (the TF tutorial's view of text8).
    n_words : int, optional
        Vocabulary size, to check ``ids`` against.

    Attributes
    ----------
    ids : ndarray of int32, shape (n_tokens,)
    offsets : ndarray of int64, shape (n_sentences + 1,)

    Raises
    ------
    TypeError
        Non-integer ids or offsets (floats are never truncated, bools are refused).
    ValueError
        An id out of range, or offsets that are not boundaries of ``ids``.

    Examples
    --------
    >>> from fastkernels.word2vec import Corpus
    >>> c = Corpus([3, 1, 2, 0, 1], offsets=[0, 3, 5])
    >>> c.n_sentences, c.sentence(1).tolist()
    (2, [0, 1])
    """

    def __init__(self, ids, offsets=None, *, n_words=None):
        n = _MAX_ID if n_words is None else check_scalar(n_words, "n_words", integer=True, lo=1)
        ids = as_index_array(ids, "ids", n=min(n, _MAX_ID), ndim=1)
        self.ids = ids if ids.dtype == np.int32 else ids.astype(np.int32)
        if offsets is None:
            offsets = np.array([0, ids.size] if ids.size else [0], np.int64)
        offsets = as_array(offsets, "offsets", dtypes=(np.int32, np.int64), ndim=1)
        offsets = offsets if offsets.dtype == np.int64 else offsets.astype(np.int64)
        if offsets.size == 0 or offsets[0] != 0 or offsets[-1] != ids.size:
            raise ValueError(
                f"offsets must start at 0 and end at len(ids) = {ids.size}, got "
                f"{offsets[:1].tolist()} ... {offsets[-1:].tolist()}")
        steps = np.diff(offsets)
        if (steps < 0).any():
            i = int(np.argmax(steps < 0))
            raise ValueError(f"offsets must be non-decreasing; offsets[{i + 1}] = {offsets[i + 1]} "
                         f"< offsets[{i}] = {offsets[i]}")
        self.offsets = offsets

    @property
    def n_tokens(self) -> int:
        """Number of tokens."""
        return int(self.ids.size)

    @property
    def n_sentences(self) -> int:
        """Number of sentences (empty ones included)."""
        return int(self.offsets.size - 1)

    def __len__(self) -> int:
        return self.n_sentences

    def sentence(self, s: int) -> np.ndarray:
        """Ids of sentence ``s`` (a view; negative ``s`` counts from the end; TypeError/ValueError
        naming ``s`` for a non-int or one out of range)."""
        s = check_scalar(s, "s", integer=True, lo=-self.n_sentences, hi=self.n_sentences - 1)
        s %= self.n_sentences
        return self.ids[self.offsets[s]:self.offsets[s + 1]]

    def __iter__(self):
        for s in range(self.n_sentences):
            yield self.ids[self.offsets[s]:self.offsets[s + 1]]

    def sentence_lengths(self) -> np.ndarray:
        """Tokens per sentence, int64 of shape (n_sentences,)."""
        return np.diff(self.offsets)

    def max_id(self) -> int:
        """Largest id (-1 for an empty corpus)."""
        return int(self.ids.max()) if self.ids.size else -1

    def split_sentences(self, max_length: int) -> "Corpus":
        """A corpus whose sentences longer than ``max_length`` are cut into pieces of
        ``max_length`` tokens (the last piece shorter), like gensim's 10 000-word and
        word2vec.c's 1000-word limits, but explicit."""
        max_length = check_scalar(max_length, "max_length", integer=True, lo=1)
        return Corpus(self.ids, split_offsets(self.offsets, max_length))

    def __repr__(self) -> str:
        return f"Corpus(n_tokens={self.n_tokens}, n_sentences={self.n_sentences})"


def split_offsets(offsets, max_length):
    lengths = np.diff(offsets)
    if lengths.size == 0 or lengths.max() <= max_length:
        return offsets
    pieces = np.maximum(1, -(-lengths // max_length))
    first = np.repeat(offsets[:-1], pieces)
    k = np.arange(first.size) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    starts = first + k * max_length
    return np.append(starts, offsets[-1])


def as_corpus(data, name: str = "corpus", *, n_words=None) -> Corpus:
    """A :class:`Corpus` from a Corpus (checked against ``n_words``) or a 1-D id array (one sentence).

    Errors name ``name`` (the caller's argument), never an internal one.
    """
    if isinstance(data, Corpus):
        if n_words is not None and data.ids.size:
            ids = data.ids
            lo, hi = int(ids.min()), int(ids.max())
            if lo < 0 or hi >= n_words:
                bad = int(np.argmax((ids < 0) | (ids >= n_words)))
                raise ValueError(f"{name} ids must lie in [0, {n_words}); found {int(ids[bad])} at position {bad}")
        return data
    if isinstance(data, (str, bytes, os.PathLike)):
        raise TypeError(f"{name} must be a Corpus or an int array of ids; read text with read_corpus() first")
    n = _MAX_ID if n_words is None else min(n_words, _MAX_ID)
    ids = as_index_array(data, f"{name} ids", n=n, ndim=1)
    corpus = Corpus.__new__(Corpus)  # one sentence, ids checked above
    corpus.ids = ids if ids.dtype == np.int32 else ids.astype(np.int32)
    corpus.offsets = np.array([0, ids.size] if ids.size else [0], np.int64)
    return corpus


__all__ = ["Corpus", "as_corpus"]
