"""Scanning a corpus source through a :class:`~._word_table.WordTable`: files streamed in chunks,
in-memory text, token lists; what :func:`~.reading.read_corpus` and :meth:`~.vocab.Vocabulary.build` share.

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
from .._validate import check_allocation, check_scalar
from ._tokens import SEP_NUL, SEP_WHITESPACE, separator_table
from ._word_table import PartTables
from .corpus import Corpus

#: Bytes read per chunk when streaming a file (larger chunks mean fewer merges of
#: the per-thread tables; the chunk's ids take 2 bytes of memory per byte).
CHUNK_BYTES = 1 << 26
#: Tokens joined per compiled call when the input is token lists.
_TOKEN_BATCH = 1 << 20
UNKNOWN_POLICIES = ("unk", "drop", "error")


def check_encoding(encoding):
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
    check_encoding(encoding)
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


def describe_token(source, i, encoding):
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


__all__ = ["CHUNK_BYTES", "PARALLEL_MIN_BYTES", "UNKNOWN_POLICIES", "binary_kind", "scan_source"]
