"""Byte-level tokenizer and word hash table: the compiled core of vocabulary
counting and corpus encoding.

Text is scanned as raw bytes. In *whitespace* mode a token is a maximal run of
bytes other than ASCII whitespace (space, ``\\t``, ``\\n``, ``\\v``, ``\\f``,
``\\r``) and ``\\n`` ends a sentence, which is how word2vec.c reads its training
file (Python's ``str.split()`` also splits on Unicode spaces such as U+00A0;
tokenize such text yourself and pass token lists). In *NUL* mode, used for
token lists joined with ``"\\0"``, only the NUL byte separates tokens, so a
token may contain spaces.

Each distinct token gets an id in order of first occurrence and a count.
Layout (looking a token up is bound by cache and TLB misses on large
vocabularies, so the probed table is kept small):

* ``slots`` (int64, shape (2**k, 2), load factor <= 1/2): open addressing with
  linear probing over 16-byte slots ``(hash_hi32 << 32 | id + 1, prefix)``,
  0 when empty, ``prefix`` the word's first 8 bytes;
* ``info`` (int64, shape (capacity, 4)): ``start, length, count, hash`` per id;
* ``arena`` (uint8): the words' bytes back to back (compared only past byte 8).

A 16-byte slot halves the table of a 32-byte record holding everything:
measured on a 10 M-token Zipf corpus (100 k words), 0.78 s instead of 1.11 s.

The hot loop (:func:`_scan_run`) never reallocates: when the table is full it
returns, :func:`scan` grows the arrays and resumes. (Reassigning array
variables inside a Numba loop costs reference counting on every iteration.)
"""

from __future__ import annotations

import numpy as np
from numba import prange

from .._jit import device, jit
from .._random import mix64

SEP_WHITESPACE = 0
SEP_NUL = 1

_FNV_OFFSET = np.uint64(0xCBF29CE484222325)
_FNV_PRIME = np.uint64(0x100000001B3)
_LOW32 = np.int64(0xFFFFFFFF)

# meta[] fields: counters carried between calls
N_WORDS, ARENA_USED, N_IDS, N_ENDS, OPEN, POS = range(6)


def separator_table(mode: int) -> np.ndarray:
    """``uint8[256]``: 0 for token bytes, 1 for separators, 2 for a separator that ends a sentence."""
    table = np.zeros(256, np.uint8)
    if mode == SEP_WHITESPACE:
        table[[9, 11, 12, 13, 32]] = 1
        table[10] = 2
    else:
        table[0] = 1
    return table


_HIGH32 = ~_LOW32


@device
def _find(slots, info, arena, buf, i, length, hs, pre):
    """``(slot, id)`` of the word ``buf[i:i + length]`` (hash ``hs``, first 8 bytes ``pre``);
    id -1 when absent, and then ``slot`` is the empty slot where it would go."""
    mask = slots.shape[0] - 1
    s = np.int64(mix64(np.uint64(hs)) & np.uint64(mask))
    tag = hs & _HIGH32
    while True:
        e = slots[s, 0]
        if e == 0:
            return s, -1
        if (e & _HIGH32) == tag and slots[s, 1] == pre:
            w = (e & _LOW32) - 1
            if info[w, 1] == length:
                same = True
                a0 = info[w, 0]
                for k in range(8, length):
                    if arena[a0 + k] != buf[i + k]:
                        same = False
                        break
                if same:
                    return s, w
        s = (s + 1) & mask


@device
def _fits(slots, info, arena, n_words, arena_used, length):
    """Whether one more word of ``length`` bytes fits without growing."""
    return n_words + 1 <= info.shape[0] and 2 * (n_words + 1) <= slots.shape[0] and arena_used + length <= arena.size


@device
def _insert(slots, info, arena, s, w, buf, i, length, hs, pre, arena_used):
    """Store word ``w`` = ``buf[i:i + length]`` in empty slot ``s``; returns the new arena size."""
    for k in range(length):
        arena[arena_used + k] = buf[i + k]
    info[w, 0] = arena_used
    info[w, 1] = length
    info[w, 2] = 0
    info[w, 3] = hs
    slots[s, 0] = (hs & _HIGH32) | (w + 1)
    slots[s, 1] = pre
    return arena_used + length


@device
def _hash_bytes(buf, i, j):
    """(hash, prefix) of ``buf[i:j]``, as the scan computes them."""
    h = _FNV_OFFSET
    prefix = np.uint64(0)
    for k in range(i, j):
        b = np.uint64(buf[k])
        h = (h ^ b) * _FNV_PRIME
        if k - i < 8:
            prefix |= b << np.uint64(8 * (k - i))
    return np.int64(h), np.int64(prefix)


@jit
def _scan_run(buf, complete, close, sep, insert, count_only, slots, info, arena, meta, ids, ends, token_base):
    """Scan from ``meta[POS]`` until the end of ``buf`` or until the table is full.

    ``complete``: a token running to the end of ``buf`` is whole; ``close``: an
    open sentence ends with ``buf``. Returns True when done, False when the
    table must grow first.
    """
    n = buf.size
    n_words = meta[N_WORDS]
    arena_used = meta[ARENA_USED]
    n_ids = meta[N_IDS]
    n_ends = meta[N_ENDS]
    open_sentence = meta[OPEN] != 0
    i = meta[POS]
    done = True
    while i < n:
        c = sep[buf[i]]
        if c != 0:
            if c == 2 and open_sentence:
                if not count_only:
                    ends[n_ends] = token_base + n_ids
                n_ends += 1
                open_sentence = False
            i += 1
            continue
        j = i
        h = _FNV_OFFSET
        prefix = np.uint64(0)
        while j < n and sep[buf[j]] == 0:  # hash while finding the token's end
            b = np.uint64(buf[j])
            h = (h ^ b) * _FNV_PRIME
            if j - i < 8:
                prefix |= b << np.uint64(8 * (j - i))
            j += 1
        if j == n and not complete:
            break  # possibly cut: left for the next buffer
        length = j - i
        hs = np.int64(h)
        s, found = _find(slots, info, arena, buf, i, length, hs, np.int64(prefix))
        if found == -1 and insert:
            if not _fits(slots, info, arena, n_words, arena_used, length):
                done = False
                break  # grow, then rescan this token
            found = n_words
            arena_used = _insert(slots, info, arena, s, found, buf, i, length, hs, np.int64(prefix), arena_used)
            n_words += 1
        if insert and found >= 0:
            info[found, 2] += 1
        if not count_only:
            ids[n_ids] = found
        n_ids += 1
        open_sentence = True
        i = j
    if done and close and open_sentence:
        if not count_only:
            ends[n_ends] = token_base + n_ids
        n_ends += 1
        open_sentence = False
    meta[N_WORDS] = n_words
    meta[ARENA_USED] = arena_used
    meta[N_IDS] = n_ids
    meta[N_ENDS] = n_ends
    meta[OPEN] = 1 if open_sentence else 0
    meta[POS] = i
    return done


@jit
def _insert_run(src, src_starts, counts, slots, info, arena, meta, ids):
    """Add words ``src[src_starts[r]:src_starts[r + 1]]`` (adding ``counts[r]`` to their
    counts), from word ``meta[POS]`` on; ``ids[r]`` receives each word's id.
    Returns True when done, False when the table must grow first."""
    n_words = meta[N_WORDS]
    arena_used = meta[ARENA_USED]
    r = meta[POS]
    done = True
    while r < src_starts.size - 1:
        i = src_starts[r]
        length = src_starts[r + 1] - i
        hs, pre = _hash_bytes(src, i, i + length)
        s, found = _find(slots, info, arena, src, i, length, hs, pre)
        if found == -1:
            if not _fits(slots, info, arena, n_words, arena_used, length):
                done = False
                break
            found = n_words
            arena_used = _insert(slots, info, arena, s, found, src, i, length, hs, pre, arena_used)
            n_words += 1
        info[found, 2] += counts[r]
        ids[r] = found
        r += 1
    meta[N_WORDS] = n_words
    meta[ARENA_USED] = arena_used
    meta[POS] = r
    return done


@jit(inline="always")
def _copy_into(dst, src):
    """``dst[:src.size] = src`` for 1-D arrays, as a loop: a slice assignment would compile Numba's
    shape-checking error path (string formatting, seconds of compile time) for nothing."""
    for i in range(src.size):
        dst[i] = src[i]


@jit
def grow(slots, info, arena, n_words, need_arena):
    """Table arrays with room for one more word and ``need_arena`` bytes."""
    if n_words + 1 > info.shape[0]:
        grown = np.zeros((2 * info.shape[0], 4), np.int64)
        _copy_into(grown.reshape(grown.size), info.reshape(info.size))
        info = grown
    if 2 * (n_words + 1) > slots.shape[0]:
        slots = _rehash(slots, info, 2 * slots.shape[0])
    if need_arena > arena.size:
        grown_arena = np.empty(max(2 * arena.size, need_arena), np.uint8)
        _copy_into(grown_arena, arena)
        arena = grown_arena
    return slots, info, arena


@jit(inline="always")
def _rehash(slots, info, n_slots):
    """The slots moved into a fresh table of ``n_slots`` (a power of two)."""
    grown = np.zeros((n_slots, 2), np.int64)
    mask = n_slots - 1
    for r in range(slots.shape[0]):
        e = slots[r, 0]
        if e != 0:
            s = np.int64(mix64(np.uint64(info[(e & _LOW32) - 1, 3])) & np.uint64(mask))
            while grown[s, 0] != 0:
                s = (s + 1) & mask
            grown[s, 0] = e
            grown[s, 1] = slots[r, 1]
    return grown


def scan(buf, final, sep, insert, count_only, slots, info, arena, meta, ids, ends, token_base):
    """Tokenize ``buf`` and look each token up in (or add it to) the word table.

    Parameters
    ----------
    buf : uint8[:]
        Bytes to scan.
    final : bool
        The last buffer of the input: a token running to the end of ``buf`` is
        complete. Otherwise scanning stops before the last, possibly cut, token.
    sep : uint8[256]
        :func:`separator_table`.
    insert : bool
        Add unseen tokens to the table and count every token; when False the
        table is only read (counts untouched) and an unseen token gets id -1.
    count_only : bool
        Count tokens but do not write ``ids`` / ``ends``.
    slots, info, arena : arrays
        The table (see the module docstring); grown copies are returned.
    meta : int64[6]
        ``n_words, arena_used`` (kept), ``n_ids, n_ends, open_sentence, pos``
        (per buffer: the caller zeroes ``n_ids, n_ends, pos``).
    ids : int32[:]
        Receives one id per token (length >= tokens in ``buf``).
    ends : int64[:]
        Receives, for each sentence closed in ``buf``, the global index one past
        its last token.
    token_base : int
        Tokens emitted before this buffer (global index of its first token).

    Returns
    -------
    tuple
        ``(slots, info, arena)``, possibly grown. ``meta[5]`` (pos) bytes of
        ``buf`` were consumed; the rest must be prepended to the next buffer.

    No validation: the caller sizes ``ids`` and ``ends``.

    The loop around the compiled scan is Python's (a table grows a few times in a whole corpus):
    compiled, it cost ~0.4 s of a first call, and compiled in :func:`grow` whether a table grew or
    not (~0.9 s: a small corpus never grows its first table).
    """
    while not _scan_run(buf, final, final, sep, insert, count_only, slots, info, arena, meta, ids, ends, token_base):
        slots, info, arena = grow(slots, info, arena, meta[N_WORDS], meta[ARENA_USED] + (buf.size - meta[POS]))
    return slots, info, arena


def _scan_parts_body(buf, bounds, complete, close, sep, insert, count_only, slots, info, arena,
                     part_slots, part_info, part_arena, metas, ids, id_off, ends, end_off, todo):
    n_parts = bounds.size - 1
    for p in prange(n_parts):
        if todo[p]:
            last = p == n_parts - 1
            whole = complete or bounds[p + 1] < buf.size  # a piece ending before the buffer ends on a separator
            piece = buf[bounds[p]:bounds[p + 1]]
            if p == 0 or not insert:  # piece 0 counts into the main table; look-ups all share it
                # np.int64(0): a literal token base would compile _scan_run a second time
                done = _scan_run(piece, whole, close and last, sep, insert, count_only, slots, info, arena,
                                 metas[p], ids[id_off[p]:], ends[end_off[p]:], np.int64(0))
            else:
                done = _scan_run(piece, whole, close and last, sep, insert, count_only, part_slots[p - 1],
                                 part_info[p - 1], part_arena[p - 1], metas[p], ids[id_off[p]:],
                                 ends[end_off[p]:], np.int64(0))
            todo[p] = not done


#: Parallel scan of a buffer cut into pieces at separators: piece ``p`` reads
#: ``buf[bounds[p]:bounds[p + 1]]``; piece 0 counts into the main table, piece
#: ``p > 0`` into part table ``p - 1`` (look-ups all read the main table); each
#: writes its local ids and sentence ends at ``id_off[p]`` / ``end_off[p]``.
#: Pieces whose table filled up stay ``todo`` for the caller to grow.
scan_parts = jit(_scan_parts_body, parallel=True)


@jit
def grow_parts(part_slots, part_info, part_arena, metas, need_arena):
    """Part tables (stacked, one capacity) with room for one more word each and ``need_arena`` bytes."""
    n = part_slots.shape[0]
    words = 0
    used = 0
    for k in range(n):
        words = max(words, metas[k + 1, N_WORDS])
        used = max(used, metas[k + 1, ARENA_USED])
    if words + 1 > part_info.shape[1]:
        grown = np.zeros((n, 2 * part_info.shape[1], 4), np.int64)
        for k in range(n):
            _copy_into(grown[k].reshape(grown.shape[1] * 4), part_info[k].reshape(part_info.shape[1] * 4))
        part_info = grown
    if 2 * (words + 1) > part_slots.shape[1]:
        grown_slots = np.zeros((n, 2 * part_slots.shape[1], 2), np.int64)
        for k in range(n):
            grown_slots[k] = _rehash(part_slots[k], part_info[k], 2 * part_slots.shape[1])
        part_slots = grown_slots
    if used + need_arena > part_arena.shape[1]:
        grown_arena = np.empty((n, max(2 * part_arena.shape[1], used + need_arena)), np.uint8)
        for k in range(n):
            _copy_into(grown_arena[k], part_arena[k])
        part_arena = grown_arena
    return part_slots, part_info, part_arena


@jit
def count_line_ends(buf, sep):
    """Bytes of ``buf`` that end a sentence (a bound on the sentences it closes)."""
    k = 0
    for b in buf:
        k += sep[b] == 2
    return k


@jit
def next_separator(buf, sep, start):
    """First index >= ``start`` holding a separator byte, or ``buf.size``."""
    i = start
    while i < buf.size and sep[buf[i]] == 0:
        i += 1
    return i


def insert_words(src, src_starts, counts, slots, info, arena, meta, ids):
    """Add the words ``src[src_starts[r]:src_starts[r + 1]]`` with counts ``counts[r]``;
    ``ids[r]`` receives their ids. Returns the (possibly grown) ``(slots, info, arena)``. The loop
    is Python's, as in :func:`scan`."""
    meta[POS] = 0
    while not _insert_run(src, src_starts, counts, slots, info, arena, meta, ids):
        r = meta[POS]
        slots, info, arena = grow(slots, info, arena, meta[N_WORDS],
                                   meta[ARENA_USED] + src_starts[src_starts.size - 1] - src_starts[r])
    return slots, info, arena


@jit
def gather_words(arena, info, order, sep_byte):
    """Bytes of words ``order`` joined by ``sep_byte`` (one buffer to decode at once)."""
    total = order.size - 1 if order.size else 0
    for w in order:
        total += info[w, 1]
    out = np.empty(max(total, 0), np.uint8)
    p = 0
    for r in range(order.size):
        if r:
            out[p] = sep_byte
            p += 1
        w = order[r]
        a0 = info[w, 0]
        for k in range(info[w, 1]):
            out[p] = arena[a0 + k]
            p += 1
    return out
