"""Corpora sharded in files: word counts and skip-gram pair counts per shard on the workers, merged.

The shards are read as if concatenated in the order given, each ending a sentence (a file that
does not end with a newline still ends its last sentence). Word counts keep the order of first
occurrence across that concatenation, which is what :meth:`Vocabulary.build` breaks ties by,
so :func:`build_vocabulary` equals ``Vocabulary.build`` (and :func:`~fastkernels.word2vec.read_corpus`'s
vocabulary) of the concatenated text for every option (``min_count``, ``max_size``, ``unk``,
``ties``). Counts merge in a tree on the workers (fan-in 8), so the client receives one table.
"""

from __future__ import annotations

import os

import numpy as np

from .._validate import check_allocation, check_choice, check_scalar
from ..word2vec._scan import CHUNK_BYTES, UNKNOWN_POLICIES, check_encoding, scan_source
from ..word2vec._word_table import WordTable
from ..word2vec.reading import read_corpus
from ..word2vec.vocab import Vocabulary
from ._cluster import check_client, check_flag, identity, require_distributed, show_progress, using_client

#: Shard tables merged per task of the tree reduction.
FAN_IN = 8


def check_shards(shards) -> list:
    """``shards`` as a list of paths (str), each an existing file (``TypeError``/``FileNotFoundError``)."""
    if isinstance(shards, (str, bytes, os.PathLike)):
        shards = [shards]
    try:
        shards = list(shards)
    except TypeError:
        raise TypeError(f"shards must be a sequence of file paths, got {type(shards).__name__}") from None
    if not shards:
        raise ValueError("shards is empty: give at least one file")
    out = []
    for i, s in enumerate(shards):
        if not isinstance(s, (str, os.PathLike)):
            raise TypeError(f"shards[{i}] must be a file path, got {type(s).__name__}")
        path = os.fsdecode(os.fspath(s))  # a str: a bytes path would be read as the corpus text itself
        if not os.path.isfile(path):
            raise FileNotFoundError(f"shards[{i}] = {path!r} is not an existing file (the paths must be visible "
                                    "to the client and to every worker, e.g. on a shared file system)")
        out.append(path)
    return out


def check_chunk_bytes(chunk_bytes):
    """``chunk_bytes`` as the reader checks it (an int >= 1 whose chunk, carry and ids fit in memory),
    on the client, before any shard is sent."""
    chunk_bytes = check_scalar(chunk_bytes, "chunk_bytes", integer=True, lo=1)
    check_allocation(chunk_bytes, 4, "chunk_bytes", what="bytes")
    return chunk_bytes


def shard_counts(path: str, encoding: str, chunk_bytes: int):
    """One shard's ``(words, counts)`` in order of first occurrence (runs on a worker)."""
    table = WordTable()
    scan_source(path, table, insert=True, count_only=True, chunk_bytes=chunk_bytes, encoding=encoding, backend="cpu")
    return table.words(np.arange(table.n_words), encoding), table.counts


def merge_counts(*tables):
    """Tables ``(words, counts)`` merged in order: a word's count is the sum, its position its first."""
    merged = {}
    for words, counts in tables:
        for w, c in zip(words, counts.tolist()):
            merged[w] = merged.get(w, 0) + c
    return list(merged), np.fromiter(merged.values(), np.int64, len(merged))


def _tree(c, futures):
    while len(futures) > 1:
        futures = [c.submit(merge_counts, *futures[i:i + FAN_IN], pure=False) if len(futures[i:i + FAN_IN]) > 1
                   else futures[i] for i in range(0, len(futures), FAN_IN)]
    return futures[0]


def count_words(shards, *, client=None, encoding="utf-8", chunk_bytes=CHUNK_BYTES, progress=False) -> dict:
    """Word counts of the files ``shards`` (read as if concatenated), counted per file on the workers.

    Parameters
    ----------
    shards : sequence of path
        Whitespace-separated text files, visible to the client and the workers.
    client : dask.distributed.Client, optional
        Default: the current client, else a temporary ``LocalCluster``.
    encoding : str
        ASCII-compatible codec of the text.
    chunk_bytes : int
        Bytes read per chunk of a file.
    progress : bool
        Dask's progress bar over the per-file tasks.

    Returns
    -------
    dict
        Word -> count, in order of first occurrence (pass it to :meth:`Vocabulary.from_counts`).

    Raises
    ------
    TypeError, FileNotFoundError, ValueError
        A bad ``shards`` list, ``encoding``, ``chunk_bytes``, ``client`` or ``progress`` (before
        anything is submitted); what the reader refuses in a file (from the worker, naming the file).
    """
    words, counts = _count(shards, client, encoding, chunk_bytes, progress)
    return dict(zip(words, counts.tolist()))


def _count(shards, client, encoding, chunk_bytes, progress):
    require_distributed()
    check_client(client)
    shards = check_shards(shards)
    check_encoding(encoding)
    chunk_bytes = check_chunk_bytes(chunk_bytes)
    check_flag(progress, "progress")
    with using_client(client) as c:
        futures = [c.submit(shard_counts, path, encoding, chunk_bytes, pure=False) for path in shards]
        show_progress(futures, progress)
        return c.gather(_tree(c, futures))


def build_vocabulary(shards, *, min_count=5, max_size=None, unk=None, ties="first", encoding="utf-8",
                     chunk_bytes=CHUNK_BYTES, client=None, progress=False) -> Vocabulary:
    """:meth:`Vocabulary.build` of the files ``shards`` (as if concatenated), counted on the workers.

    Equals ``Vocabulary.build(concatenated_text, ...)`` for the same options (see the module
    docstring). Options as in :meth:`~fastkernels.word2vec.Vocabulary.build`; ``client``,
    ``progress`` as in :func:`count_words`.

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        Bad options or shards (before anything is submitted), an empty corpus or result.
    """
    Vocabulary._check_options(min_count, max_size, unk, encoding, ties)
    words, counts = _count(shards, client, encoding, chunk_bytes, progress)
    if not words:
        raise ValueError("the corpus is empty: no tokens to count")
    return Vocabulary.from_counts(dict(zip(words, counts.tolist())), min_count=min_count, max_size=max_size, unk=unk,
                                  ties=ties, encoding=encoding)


def shard_pairs(path, vocab, window, unknown, max_sentence_length, chunk_bytes):
    """One shard's co-occurrence counts within ``window`` (a ``scipy.sparse.csr_matrix``; on a worker)."""
    from scipy import sparse

    corpus, _ = read_corpus(path, vocab, unknown=unknown, max_sentence_length=max_sentence_length,
                            chunk_bytes=chunk_bytes, encoding=vocab.encoding)
    v = len(vocab)
    ids = corpus.ids.astype(np.int64)
    lengths = np.diff(corpus.offsets)
    sent = np.repeat(np.arange(corpus.offsets.size - 1), lengths)
    out = sparse.csr_matrix((v, v), dtype=np.int64)
    # no pair is farther apart than the longest sentence: a huge window costs no more than that
    for d in range(1, min(window, int(lengths.max(initial=1)) - 1) + 1):
        same = sent[d:] == sent[:-d]
        a, b = ids[:-d][same], ids[d:][same]
        ones = np.ones(2 * a.size, np.int64)
        out = out + sparse.csr_matrix((ones, (np.concatenate([a, b]), np.concatenate([b, a]))), shape=(v, v))
    return out


def merge_pairs(*mats):
    out = mats[0]
    for m in mats[1:]:
        out = out + m
    return out


def count_pairs(shards, vocab, *, window=5, unknown=None, max_sentence_length=None, chunk_bytes=CHUNK_BYTES,
                client=None, progress=False):
    """Skip-gram pair counts of the files ``shards``: how often word ``c`` has word ``x`` within
    ``window`` positions of the same sentence (full windows, no subsampling).

    Equals the counts of :func:`~fastkernels.word2vec.skipgram_pairs` ``(corpus, window,
    shrink_windows=False)`` over the shards' corpora concatenated (sentences never cross files).
    Reduced windows (``shrink_windows=True``) draw from a stream keyed by the global token
    position, which a shard does not know: they are not offered.

    Parameters
    ----------
    shards : sequence of path
    vocab : Vocabulary
        E.g. from :func:`build_vocabulary`; tokens outside it follow ``unknown`` (as in
        :func:`~fastkernels.word2vec.read_corpus`).
    window : int >= 1
    unknown, max_sentence_length, chunk_bytes
        As in :func:`~fastkernels.word2vec.read_corpus`.
    client, progress
        As in :func:`count_words`.

    Returns
    -------
    scipy.sparse.csr_matrix, int64, shape (len(vocab), len(vocab))
        Symmetric; row = centre id, column = context id.

    Raises
    ------
    TypeError, ValueError, FileNotFoundError
        Bad ``vocab``, ``window``, shards, ``unknown`` (``"unk"`` needs a vocabulary with an UNK word),
        ``max_sentence_length``, ``chunk_bytes``, ``client`` or ``progress`` (before anything is
        submitted); what the reader refuses in a file (from the worker, naming the file).
    """
    require_distributed()
    check_client(client)
    if not isinstance(vocab, Vocabulary):
        raise TypeError(f"vocab must be a fastkernels.word2vec.Vocabulary, got {type(vocab).__name__}")
    if isinstance(window, bool) or not isinstance(window, (int, np.integer)):
        raise TypeError(f"window must be an int, got {type(window).__name__}")
    if window < 1:
        raise ValueError(f"window must be >= 1, got {window}")
    shards = check_shards(shards)
    if unknown is not None:
        check_choice(unknown, "unknown", UNKNOWN_POLICIES)
        if unknown == "unk" and vocab.unk is None:
            raise ValueError("unknown='unk' needs a vocabulary built with unk='UNK' (or another UNK word)")
    if max_sentence_length is not None:
        max_sentence_length = check_scalar(max_sentence_length, "max_sentence_length", integer=True, lo=1)
    chunk_bytes = check_chunk_bytes(chunk_bytes)
    check_flag(progress, "progress")
    with using_client(client) as c:
        held = c.submit(identity, vocab, pure=False)
        futures = [c.submit(shard_pairs, path, held, int(window), unknown, max_sentence_length, chunk_bytes,
                            pure=False) for path in shards]
        show_progress(futures, progress)
        while len(futures) > 1:
            futures = [c.submit(merge_pairs, *futures[i:i + FAN_IN], pure=False) if len(futures[i:i + FAN_IN]) > 1
                       else futures[i] for i in range(0, len(futures), FAN_IN)]
        return c.gather(futures[0])
