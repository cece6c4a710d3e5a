"""Reading a corpus: :func:`read_corpus` scans a source (see :mod:`._scan`), builds or applies
a :class:`~.vocab.Vocabulary` and returns a :class:`~.corpus.Corpus` of token ids.
"""

from __future__ import annotations

import numpy as np

from .._validate import check_choice, check_scalar
from ._scan import CHUNK_BYTES, UNKNOWN_POLICIES, describe_token, scan_source
from ._word_table import WordTable
from .corpus import Corpus, split_offsets
from .vocab import Vocabulary


def _apply_unknown(ids, offsets, policy, unk_id, describe):
    """Replace (-1) unknown ids by ``unk_id``, drop them, or raise; empty sentences are removed."""
    unknown = ids < 0
    if unknown.any():
        if policy == "error":
            raise ValueError(f"unknown word {describe(int(np.argmax(unknown)))!r} (and {int(unknown.sum()) - 1} more "
                             "unknown tokens); pass unknown='drop' or build the vocabulary with unk='UNK'")
        if policy == "unk":
            ids[unknown] = unk_id
        else:
            kept = np.concatenate([[0], np.cumsum(~unknown)])
            offsets = kept[offsets]
            ids = ids[~unknown]
    nonempty = np.diff(offsets) > 0
    if not nonempty.all():
        offsets = np.concatenate([[0], offsets[1:][nonempty]]).astype(np.int64)
    return ids, offsets


def read_corpus(source, vocab=None, *, min_count=5, max_size=None, unk=None, ties="first", unknown=None,
                max_sentence_length=None, chunk_bytes=CHUNK_BYTES, encoding="utf-8", backend="auto"):
    """Read a corpus into token ids, building its vocabulary in the same pass if none is given.

    Parameters
    ----------
    source : path, file object, bytes, list of str, or iterable of lists of str
        A whitespace-separated text file (one sentence per line, streamed
        ``chunk_bytes`` at a time), a binary/text file object, text as bytes, a
        flat token list (one sentence: the TF tutorial's ``words``), or an
        iterable of token lists (gensim's ``sentences``). Tokens in lists may hold
        any character but NUL and must be non-empty.
    vocab : Vocabulary, optional
        Encode with this vocabulary. Default: build one from ``source`` with
        ``min_count``, ``max_size`` and ``unk`` (see :meth:`Vocabulary.build`).
    min_count, max_size, unk, ties
        Vocabulary options when ``vocab`` is None (see :meth:`Vocabulary.build`).
    unknown : {"unk", "drop", "error"}, optional
        What happens to tokens outside the vocabulary: replaced by the UNK id,
        removed before any window is built (word2vec.c and gensim: windows then
        stretch over them), or an error naming the first. Default: "unk" when the
        vocabulary has an UNK word, else "drop".
    max_sentence_length : int, optional
        Cut longer sentences into pieces of this many tokens. Default: no limit.
    chunk_bytes : int
        Bytes read per chunk from a file.
    encoding : str
        ASCII-compatible codec of the text (words are decoded with
        ``surrogateescape``, so undecodable bytes survive a round trip).
    backend : {"auto", "cpu", "parallel", "cuda"}
        "parallel" cuts each chunk into one piece per thread, counts the pieces
        in parallel and merges them in order (same result as "cpu"); "cuda"
        uses the CPU threads too (text is tokenized on the host).

    Returns
    -------
    corpus : Corpus
        int32 ids and int64 sentence offsets; sentences left empty are removed.
    vocab : Vocabulary
        The vocabulary used (built or given).

    Raises
    ------
    FileNotFoundError
        A str or path source that is not a file (other ``OSError`` such as
        ``PermissionError`` come from opening it and name it too).
    TypeError
        A source of the wrong kind (token ids, a number, ...), a token that is not
        a str, a file object whose ``read()`` returns neither bytes nor str, options
        of the wrong type.
    ValueError
        A compressed or binary file (gzip, zip, bzip2, xz, zstd, 7z, ``.npy``, HDF5:
        recognised by its first bytes), text the ``encoding`` cannot decode or tokens
        it cannot encode, a text-mode file object that fails to decode, empty or
        NUL-holding tokens, an empty corpus when building a vocabulary, unknown words
        with ``unknown="error"``, bad options, a ``chunk_bytes`` beyond this machine's
        memory. Every message names the source (and the token's position).

    Examples
    --------
    >>> from fastkernels.word2vec import read_corpus
    >>> corpus, vocab = read_corpus(b"the cat sat on the mat\\nthe end", min_count=1)
    >>> vocab.words[:3], corpus.ids.tolist(), corpus.offsets.tolist()
    (['the', 'cat', 'sat'], [0, 1, 2, 3, 0, 4, 0, 5], [0, 6, 8])
    """
    if unknown is not None:
        check_choice(unknown, "unknown", UNKNOWN_POLICIES)
    if max_sentence_length is not None:
        max_sentence_length = check_scalar(max_sentence_length, "max_sentence_length", integer=True, lo=1)
    if vocab is None:
        opts = Vocabulary._check_options(min_count, max_size, unk, encoding, ties)
        table = WordTable()
        raw, offsets, n_tokens = scan_source(source, table, insert=True, chunk_bytes=chunk_bytes, encoding=encoding,
                                             backend=backend)
        vocab, remap = Vocabulary._from_table(table, *opts, encoding=encoding)
        ids = remap[raw]
    else:
        if not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        if encoding != vocab.encoding:
            raise ValueError(f"encoding {encoding!r} differs from the vocabulary's {vocab.encoding!r}")
        ids, offsets, n_tokens = scan_source(source, vocab._lookup_table(), insert=False,
                                             chunk_bytes=chunk_bytes, encoding=encoding, backend=backend)
    policy = unknown or ("unk" if vocab.unk is not None else "drop")
    if policy == "unk" and vocab.unk is None:
        raise ValueError("unknown='unk' needs a vocabulary built with unk='UNK' (or another UNK word)")

    def describe(i):
        return describe_token(source, i, encoding)

    ids, offsets = _apply_unknown(ids, offsets, policy, 0, describe)
    corpus = Corpus.__new__(Corpus)  # ids and offsets are valid by construction
    corpus.ids, corpus.offsets = ids.astype(np.int32, copy=False), offsets
    if max_sentence_length is not None:
        corpus.offsets = split_offsets(corpus.offsets, max_sentence_length)
    return corpus, vocab


__all__ = ["read_corpus"]
