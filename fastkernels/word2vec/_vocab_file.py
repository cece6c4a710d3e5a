"""word2vec.c's vocabulary file format (``-save-vocab`` / ``-read-vocab``): one ``word count``
line per word, in id order, written and validated line by line for
:meth:`~.vocab.Vocabulary.save` and :meth:`~.vocab.Vocabulary.load`.
"""

from __future__ import annotations

import os

from .._validate import INT64_MAX

_WHITESPACE = frozenset(" \t\n\v\f\r")
_UNSAVABLE = _WHITESPACE | {"\x00"}


def path_arg(path, name: str = "path"):
    try:
        return os.fspath(path)
    except TypeError:
        raise TypeError(f"{name} must be a str or os.PathLike file path, got {type(path).__name__} {path!r}") from None


def write_word_counts(path, words, counts, encoding):
    """Write ``word count`` lines (after checking every word is storable; nothing is written otherwise)."""
    where = path_arg(path)
    for w in words:
        if not _UNSAVABLE.isdisjoint(w):
            raise ValueError(f"word {w!r} contains whitespace or NUL; the 'word count' format cannot store it")
    text = "".join(f"{w} {c}\n" for w, c in zip(words, counts.tolist()))
    data = text.encode(encoding, "surrogateescape")
    with open(where, "wb") as f:
        f.write(data)


def read_word_counts(where, encoding):
    """``(words, counts)`` of a ``word count`` file, every line checked (see :meth:`Vocabulary.load`)."""
    words, counts, first_line = [], [], {}
    with open(where, "rb") as f:
        for lineno, line in enumerate(f, 1):
            at = f"{os.fsdecode(where)}, line {lineno}"
            if b"\x00" in line:
                raise ValueError(f"{at}: NUL byte; not a 'word count' text file (binary or another format?)")
            parts = line.split()
            if not parts:
                continue
            if len(parts) != 2:
                raise ValueError(f"{at}: expected 'word count', got {line[:80]!r}")
            word, count = parts
            if not count.isdigit():  # bytes.isdigit: ASCII digits only, so no sign
                raise ValueError(f"{at}: expected 'word count' with a non-negative integer count, "
                                 f"got {line[:80]!r}")
            c = int(count)
            if c > INT64_MAX:
                raise ValueError(f"{at}: count {count[:40].decode()} does not fit in an int64 (max {INT64_MAX})")
            try:
                w = word.decode(encoding, "surrogateescape")
            except UnicodeError as exc:
                raise ValueError(f"{at}: word {word[:40]!r} cannot be decoded with encoding {encoding!r} "
                                 f"({exc})") from None
            if w in first_line:
                raise ValueError(f"{at}: duplicate word {w!r} (first on line {first_line[w]})")
            first_line[w] = lineno
            words.append(w)
            counts.append(c)
    if not words:
        raise ValueError(f"{os.fsdecode(where)}: empty vocabulary file (no 'word count' lines)")
    return words, counts
