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

import codecs
import itertools
import os

import numba
import numpy as np

from .._backend import resolve_backend
from .._validate import as_array, as_index_array, check_allocation, check_choice, check_scalar
from ._tokens import SEP_NUL, SEP_WHITESPACE, PartTables, WordTable, separator_table

#: Bytes read per chunk when streaming a file (larger chunks mean fewer merges of
#: the per-thread tables; the chunk's ids take 2 bytes of memory per byte).
CHUNK_BYTES = 1 << 26
#: Tokens joined per compiled call when the input is token lists.
_TOKEN_BATCH = 1 << 20
_MAX_ID = np.iinfo(np.int32).max
UNKNOWN_POLICIES = ("unk", "drop", "error")


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
        return Corpus(self.ids, _split_offsets(self.offsets, max_length))

    def __repr__(self) -> str:
        return f"Corpus(n_tokens={self.n_tokens}, n_sentences={self.n_sentences})"


def _split_offsets(offsets, max_length):
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


# -- scanning sources -------------------------------------------------------------


def _check_encoding(encoding):
    try:
        ok = codecs.lookup(encoding) and " a\n".encode(encoding) == b" a\n"
    except (LookupError, TypeError):
        ok = False
    if not ok:
        raise ValueError(f"encoding must name an ASCII-compatible codec (utf-8, latin-1, ...), got {encoding!r}")
    return encoding


#: Bytes per thread below which a buffer is scanned serially.
PARALLEL_MIN_BYTES = 1 << 18


class _Scan:
    """Runs a :class:`WordTable` over one source; collects ids and sentence ends.

    With ``n_threads > 1``, buffers of at least ``PARALLEL_MIN_BYTES`` per thread
    are scanned in pieces in parallel (:meth:`WordTable.scan_parallel`).
    """

    def __init__(self, table, *, insert, count_only, chunk_bytes, encoding, n_threads=1, where="source"):
        self.table, self.insert, self.count_only = table, insert, count_only
        self.chunk_bytes, self.encoding = chunk_bytes, encoding
        self.where = where  # the source, as error messages name it
        self.n_threads = n_threads
        self.parts = PartTables(max(1, n_threads - 1)) if n_threads > 1 else None
        self.ids, self.ends = [], []
        self.n_tokens = 0

    def _run(self, buf, *, final, sep, open_sentence):
        n_parts = min(self.n_threads, buf.size // PARALLEL_MIN_BYTES)
        if n_parts > 1:
            out = self.table.scan_parallel(buf, final=final, sep=sep, insert=self.insert, count_only=self.count_only,
                                           n_parts=n_parts, parts=self.parts, token_base=self.n_tokens)
        else:
            out = self.table.scan(buf, final=final, sep=sep, insert=self.insert, count_only=self.count_only,
                                  token_base=self.n_tokens, open_sentence=open_sentence)
        if self.count_only:
            n_ids, _, consumed, open_sentence = out
        else:
            ids, ends, consumed, open_sentence = out
            n_ids = ids.size
            self.ids.append(ids)
            self.ends.append(ends)
        self.n_tokens += n_ids
        return consumed, open_sentence, n_ids

    def _read(self, f):
        """The next chunk of file object ``f`` as bytes (b"" at the end)."""
        try:
            data = f.read(self.chunk_bytes)
        except UnicodeDecodeError as exc:  # a text-mode file object holding bytes of another encoding
            raise ValueError(f"{self.where}: reading it as text failed ({exc}); open it in binary mode ('rb') "
                             "and pass encoding=") from None
        if isinstance(data, str):
            data = self._encode(data)
        elif data is None:  # a non-blocking raw stream with nothing ready
            raise ValueError(f"{self.where}: read() returned None (a non-blocking stream); pass a blocking file")
        elif not isinstance(data, (bytes, bytearray, memoryview)):
            raise TypeError(f"{self.where}: read() must return bytes or str, got {type(data).__name__}")
        return bytes(data) if not isinstance(data, bytes) else data

    def _encode(self, text):
        try:
            return text.encode(self.encoding, "surrogateescape")
        except UnicodeEncodeError as exc:
            raise ValueError(f"{self.where}: character {exc.object[exc.start:exc.end]!r} cannot be encoded with "
                             f"encoding {self.encoding!r} ({exc.reason})") from None

    def _check_head(self, head):
        kind = binary_kind(head)
        if kind is not None:
            raise ValueError(f"{self.where} is {kind}, not whitespace-separated text; decompress or convert it first")

    def stream(self, f):
        """Whitespace text from a binary (or text) file object, chunk by chunk."""
        sep = separator_table(SEP_WHITESPACE)
        carry = b""
        open_sentence = False
        head = b""  # the first bytes, however small the chunks, for the binary-format check
        while True:
            data = self._read(f)
            if head is not None:
                head += data[:16]
                if len(head) >= 16 or not data:
                    self._check_head(head)
                    head = None
            if not data:
                self._run(np.frombuffer(carry, np.uint8), final=True, sep=sep, open_sentence=open_sentence)
                return
            buf = carry + data if carry else data
            consumed, open_sentence, _ = self._run(np.frombuffer(buf, np.uint8), final=False, sep=sep,
                                                   open_sentence=open_sentence)
            carry = buf[consumed:]

    def text(self, data):
        """Whitespace text held in memory (bytes-like)."""
        buf = np.frombuffer(data, np.uint8)
        self._check_head(buf[:16].tobytes())
        if not self.count_only:  # the ids of a buffer: one int32 slot per two bytes
            check_allocation(buf.size // 2 + 1, 4, "source", what="token slots")
        self._run(buf, final=True, sep=separator_table(SEP_WHITESPACE), open_sentence=False)

    def token_lists(self, sentences, *, flat):
        """Token lists (``flat``: one list that is a single sentence), joined with NUL per batch."""
        sep = separator_table(SEP_NUL)
        if flat:
            batches = ((sentences[i:i + _TOKEN_BATCH],) for i in range(0, len(sentences), _TOKEN_BATCH))
        else:
            batches = _batched_sentences(iter(sentences))
        first_sentence = 0
        for batch in batches:
            lengths = []
            for k, sent in enumerate(batch):
                if isinstance(sent, (str, bytes)) or not hasattr(sent, "__len__"):
                    raise TypeError(f"sentence {first_sentence + k} must be a list of str tokens, got {type(sent).__name__}")
                lengths.append(len(sent))
            total = sum(lengths)
            if total == 0:
                first_sentence += len(batch)
                continue
            try:
                joined = "\x00".join(itertools.chain.from_iterable(batch))
            except TypeError:
                raise TypeError(_bad_token(batch, first_sentence, flat)) from None
            try:
                encoded = joined.encode(self.encoding, "surrogateescape")
            except UnicodeEncodeError:
                raise ValueError(_bad_token(batch, first_sentence, flat, self.encoding)) from None
            buf = np.frombuffer(encoded, np.uint8)
            before = self.n_tokens
            self._run(buf, final=True, sep=sep, open_sentence=False)
            if self.n_tokens - before != total:
                raise ValueError(_bad_token(batch, first_sentence, flat))
            if not self.count_only:
                # sentence ends from the lengths (the scan saw one NUL-joined "line")
                if flat:
                    self.ends[-1] = np.zeros(0, np.int64)
                else:
                    ends = before + np.cumsum(np.asarray(lengths, np.int64))
                    self.ends[-1] = ends[np.asarray(lengths) > 0]
            first_sentence += len(batch)
        if flat and not self.count_only and self.ends:
            # a flat token list is one sentence, however many batches it took
            self.ends = [np.array([self.n_tokens], np.int64)] if self.n_tokens else []

    def result(self):
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, np.int32)
        ends = np.concatenate(self.ends) if self.ends else np.zeros(0, np.int64)
        offsets = np.concatenate([[0], ends]).astype(np.int64)
        if offsets.size > 1 and not (np.diff(offsets) > 0).all():  # parallel pieces may repeat an end
            offsets = np.concatenate([[0], offsets[1:][np.diff(offsets) > 0]]).astype(np.int64)
        return ids, offsets


def _batched_sentences(it):
    while True:
        batch, n = [], 0
        for sent in it:
            batch.append(sent)
            n += len(sent) if hasattr(sent, "__len__") else 1
            if n >= _TOKEN_BATCH:
                break
        if not batch:
            return
        yield batch


def _bad_token(batch, first_sentence, flat, encoding=None):
    for k, sent in enumerate(batch):
        for j, tok in enumerate(sent):
            where = f"token {j}" if flat and len(batch) == 1 else f"sentence {first_sentence + k}, token {j}"
            if not isinstance(tok, str):
                return f"tokens must be str; {where} is {type(tok).__name__} {tok!r}"
            if not tok or "\x00" in tok:
                return f"tokens must be non-empty strings without NUL characters; {where} is {tok!r}"
            if encoding is not None:
                try:
                    tok.encode(encoding, "surrogateescape")
                except UnicodeEncodeError as exc:
                    return (f"tokens must be encodable with encoding {encoding!r}; {where} is {tok!r} "
                            f"({exc.reason})")
    return "tokens must be non-empty str without NUL characters"


#: Leading bytes of files that are certainly not text (a corpus passed still compressed, a NumPy file).
_MAGIC = ((b"\x1f\x8b", "a gzip file"), (b"PK\x03\x04", "a zip archive"), (b"PK\x05\x06", "a zip archive"),
          (b"\xfd7zXZ\x00", "an xz file"), (b"\x28\xb5\x2f\xfd", "a zstd file"),
          (b"7z\xbc\xaf\x27\x1c", "a 7z archive"),
          (b"\x93NUMPY", "a NumPy .npy file"), (b"\x89HDF\r\n\x1a\n", "an HDF5 file"))


def binary_kind(head: bytes):
    """What a file starting with ``head`` is when it is a known binary format (else None)."""
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            return kind
    if head[:3] == b"BZh" and head[3:4].isdigit() and head[4:10] == b"1AY&SY":
        return "a bzip2 file"
    return None


def scan_source(source, table, *, insert, count_only=False, chunk_bytes=CHUNK_BYTES, encoding="utf-8",
                backend="cpu"):
    """Tokenize ``source`` through ``table``; returns ``(ids, offsets, n_tokens)``.

    ``source`` is a path (str or os.PathLike), a binary or text file object,
    bytes, a flat list of str tokens (one sentence), or an iterable of token
    lists (one sentence each). ``backend="parallel"`` scans large buffers on
    Numba's threads (same result); "cuda" scans on the CPU threads too.
    """
    chunk_bytes = check_scalar(chunk_bytes, "chunk_bytes", integer=True, lo=1)
    check_allocation(chunk_bytes, 4, "chunk_bytes", what="bytes")  # the chunk, its carry and its ids
    _check_encoding(encoding)
    be = resolve_backend(backend, work=_source_bytes(source))
    n_threads = numba.get_num_threads() if be != "cpu" else 1
    scan = _Scan(table, insert=insert, count_only=count_only, chunk_bytes=chunk_bytes, encoding=encoding,
                 n_threads=n_threads)
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"source {path!r} is not an existing file (a str source is a path; pass text as bytes, "
                "e.g. text.encode(), or as token lists)")
        scan.where = f"source {path!r}"
        with open(path, "rb") as f:
            scan.stream(f)
    elif isinstance(source, (bytes, bytearray, memoryview)):
        scan.text(source)
    elif hasattr(source, "read"):
        scan.where = f"source (file object {getattr(source, 'name', type(source).__name__)!r})"
        scan.stream(source)
    elif isinstance(source, np.ndarray) or isinstance(source, Corpus):
        raise TypeError("source is already token ids: build a Corpus(ids, offsets) instead of reading it")
    else:
        try:
            it = iter(source)
        except TypeError:
            raise TypeError(
                "source must be a file path, a file object, bytes, a list of str tokens or an iterable "
                f"of token lists, got {type(source).__name__}") from None
        if isinstance(source, (list, tuple)):
            first = source[0] if len(source) else None
            items = source
        else:
            first = next(it, None)
            items = itertools.chain([first], it) if first is not None else []
        if isinstance(first, str):
            scan.token_lists(list(items) if not isinstance(items, (list, tuple)) else items, flat=True)
        else:
            scan.token_lists(items, flat=False)
    if count_only:
        return None, None, scan.n_tokens
    ids, offsets = scan.result()
    return ids, offsets, scan.n_tokens


def _source_bytes(source):
    """Rough size of ``source`` in bytes, for the "auto" backend choice."""
    if isinstance(source, (str, os.PathLike)) and os.path.isfile(source):
        return os.path.getsize(source)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return len(source)
    if isinstance(source, (list, tuple)):
        if source and isinstance(source[0], str):
            return 8 * len(source)
        sample = source[:1000]
        return 8 * sum(len(s) for s in sample if hasattr(s, "__len__")) * max(1, len(source) // max(1, len(sample)))
    return 1 << 30  # streams and iterators: assume large


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


def read_corpus(source, vocab=None, *, min_count=5, max_size=None, unk=None, unknown=None,
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
    min_count, max_size, unk
        Vocabulary options when ``vocab`` is None.
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
    from .vocab import Vocabulary

    if unknown is not None:
        check_choice(unknown, "unknown", UNKNOWN_POLICIES)
    if max_sentence_length is not None:
        max_sentence_length = check_scalar(max_sentence_length, "max_sentence_length", integer=True, lo=1)
    if vocab is None:
        opts = Vocabulary._check_options(min_count, max_size, unk, encoding)
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
        return _describe_token(source, i, encoding)

    ids, offsets = _apply_unknown(ids, offsets, policy, 0, describe)
    corpus = Corpus.__new__(Corpus)  # ids and offsets are valid by construction
    corpus.ids, corpus.offsets = ids.astype(np.int32, copy=False), offsets
    if max_sentence_length is not None:
        corpus.offsets = _split_offsets(corpus.offsets, max_sentence_length)
    return corpus, vocab


def _describe_token(source, i, encoding):
    """The ``i``-th token of ``source``, for an error message (re-reads the source)."""
    try:
        return _nth_token(source, i, encoding)
    except (UnicodeError, OSError, IndexError):
        return f"<token {i}>"


def _nth_token(source, i, encoding):
    if isinstance(source, (list, tuple)) and source and isinstance(source[0], str):
        return source[i]
    if isinstance(source, (list, tuple)):
        return list(itertools.chain.from_iterable(source))[i]
    if isinstance(source, (bytes, bytearray, memoryview)):
        return bytes(source).split()[i].decode(encoding, "surrogateescape")
    if isinstance(source, (str, os.PathLike)):
        with open(source, "rb") as f:
            for k, tok in enumerate(_iter_file_tokens(f)):
                if k == i:
                    return tok.decode(encoding, "surrogateescape")
    return f"<token {i}>"


def _iter_file_tokens(f):
    carry = b""
    while True:
        data = f.read(CHUNK_BYTES)
        if not data:
            yield from carry.split()
            return
        buf = carry + data
        parts = buf.split()
        if buf[-1:].isspace():
            yield from parts
            carry = b""
        else:
            yield from parts[:-1]
            carry = parts[-1] if parts else b""


__all__ = ["Corpus", "as_corpus", "read_corpus", "scan_source", "CHUNK_BYTES"]
