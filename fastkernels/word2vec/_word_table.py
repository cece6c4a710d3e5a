"""The growable word tables over the compiled tokenizer of :mod:`._tokens`: :class:`WordTable`
(one word -> id hash table with counts, grown between compiled scans) and :class:`PartTables`
(the per-thread tables of a parallel scan, merged in order).
"""

from __future__ import annotations

import numpy as np

from ._tokens import (
    ARENA_USED,
    N_ENDS,
    N_IDS,
    N_WORDS,
    OPEN,
    POS,
    count_line_ends,
    gather_words,
    grow,
    grow_parts,
    insert_words,
    next_separator,
    scan,
    scan_parts,
)


class WordTable:
    """Growable word -> id hash table with counts (ids in order of first insertion)."""

    def __init__(self, capacity: int = 1 << 12):
        cap = 1 << max(4, int(capacity - 1).bit_length())
        self.slots = np.zeros((2 * cap, 2), np.int64)
        self.info = np.zeros((cap, 4), np.int64)
        self.arena = np.empty(8 * cap, np.uint8)
        self.meta = np.zeros(6, np.int64)

    @property
    def n_words(self) -> int:
        return int(self.meta[N_WORDS])

    def reserve(self, n_words: int, n_bytes: int = 0):
        """Grow now to hold ``n_words`` words and ``n_bytes`` of word bytes (fewer pauses
        of a parallel scan, which stops every piece to grow a table)."""
        while self.info.shape[0] < n_words:
            self.slots, self.info, self.arena = grow(self.slots, self.info, self.arena,
                                                      np.int64(self.info.shape[0]), np.int64(0))
        if n_bytes > self.arena.size:
            self.slots, self.info, self.arena = grow(self.slots, self.info, self.arena, np.int64(0),
                                                      np.int64(n_bytes))

    @property
    def counts(self) -> np.ndarray:
        """Counts of the words in id order (a copy)."""
        return self.info[: self.n_words, 2].copy()

    def scan(self, buf, *, final, sep, insert, count_only, token_base=0, open_sentence=False):
        """Run :func:`scan` on ``buf`` (uint8 array).

        Returns ``(ids, ends, consumed, open_sentence)``, or ``(n_ids, n_ends,
        consumed, open_sentence)`` when ``count_only``.
        """
        ids = np.empty(buf.size // 2 + 1 if not count_only else 1, np.int32)
        ends = np.empty(int(count_line_ends(buf, sep)) + 1 if not count_only else 1, np.int64)
        meta = self.meta
        meta[N_IDS] = meta[N_ENDS] = meta[POS] = 0
        meta[OPEN] = int(open_sentence)
        self.slots, self.info, self.arena = scan(buf, final, sep, insert, count_only, self.slots, self.info,
                                                 self.arena, meta, ids, ends, np.int64(token_base))
        n_ids, n_ends, consumed, open_sentence = int(meta[N_IDS]), int(meta[N_ENDS]), int(meta[POS]), bool(meta[OPEN])
        if count_only:
            return n_ids, n_ends, consumed, open_sentence
        return ids[:n_ids], ends[:n_ends], consumed, open_sentence

    def scan_parallel(self, buf, *, final, sep, insert, count_only, n_parts, parts, token_base=0):
        """Scan ``buf`` in ``n_parts`` pieces on Numba's threads; same results as :meth:`scan`.

        With ``insert``, piece 0 counts straight into this table and piece ``p``
        into table ``p - 1`` of ``parts`` (:class:`PartTables`, reset here), merged
        into this one afterwards in piece order, so ids stay in order of first
        occurrence. Look-ups share this table read-only. A sentence may come out
        followed by an empty one at a piece boundary (an end equal to the previous
        end); callers drop those.

        Returns ``(ids, ends, consumed, open_sentence)`` like :meth:`scan`
        (``(n_ids, n_ends, consumed, open_sentence)`` when ``count_only``).
        """
        n = buf.size
        cuts = [0]
        for k in range(1, n_parts):
            c = min(int(next_separator(buf, sep, np.int64(k * n // n_parts))) + 1, n)
            cuts.append(max(c, cuts[-1]))
        cuts.append(n)
        bounds = np.array(cuts, np.int64)
        if count_only:
            ids, ends = np.empty(1, np.int32), np.empty(1, np.int64)
            id_off = end_off = np.zeros(n_parts + 1, np.int64)
        else:
            id_off = np.concatenate([[0], np.cumsum(np.diff(bounds) // 2 + 1)]).astype(np.int64)
            line_ends = int(count_line_ends(buf, sep))  # sentence ends a piece can record
            end_off = np.arange(n_parts + 1, dtype=np.int64) * (line_ends + 1)
            ids, ends = np.empty(int(id_off[-1]), np.int32), np.empty(int(end_off[-1]), np.int64)
        guess = min(1 << 17, n // 256)  # words a piece may meet: size the tables once, not by doubling
        if insert:
            self.reserve(self.n_words + guess)
        parts.reset(n_parts - 1 if insert else 0, guess)
        metas = np.zeros((n_parts, 6), np.int64)
        metas[0] = self.meta
        if not insert:
            metas[:] = self.meta  # every piece reads the main table
        metas[:, N_IDS] = metas[:, N_ENDS] = metas[:, POS] = 0
        metas[:, OPEN] = 1  # a piece may continue the previous piece's sentence
        todo = np.ones(n_parts, np.bool_)
        while True:
            scan_parts(buf, bounds, final, final, sep, insert, count_only, self.slots, self.info, self.arena,
                       parts.slots, parts.info, parts.arena, metas, ids, id_off, ends, end_off, todo)
            if not todo.any():
                break
            left = bounds[1:] - bounds[:-1] - metas[:, POS]
            if todo[0]:
                self.slots, self.info, self.arena = grow(self.slots, self.info, self.arena, metas[0, N_WORDS],
                                                          metas[0, ARENA_USED] + left[0])
            if todo[1:].any():
                parts.slots, parts.info, parts.arena = grow_parts(parts.slots, parts.info, parts.arena, metas,
                                                                   int(left[1:].max()))
        if insert:
            self.meta[:] = metas[0]
        n_ids, n_ends = metas[:, N_IDS].tolist(), metas[:, N_ENDS].tolist()
        consumed = int(bounds[-2] + metas[-1, POS])
        open_sentence = bool(metas[-1, OPEN])
        gmaps = [None] + [parts.merge_into(k, metas[k + 1], self) for k in range(n_parts - 1)] if insert else None
        if count_only:
            return sum(n_ids), sum(n_ends), consumed, open_sentence
        out_ids, out_ends, base = [], [], token_base
        for p in range(n_parts):
            local = ids[id_off[p]:id_off[p] + n_ids[p]]
            out_ids.append(gmaps[p][local] if insert and p > 0 else local)
            out_ends.append(ends[end_off[p]:end_off[p] + n_ends[p]] + base)
            base += n_ids[p]
        return np.concatenate(out_ids), np.concatenate(out_ends), consumed, open_sentence

    def insert_words(self, src, src_starts, counts):
        """Add words given as bytes ``src`` (uint8) cut at ``src_starts`` (int64, one more
        than words) with ``counts`` (int64); returns their ids (int32)."""
        ids = np.empty(src_starts.size - 1, np.int32)
        self.slots, self.info, self.arena = insert_words(src, src_starts, counts, self.slots, self.info,
                                                         self.arena, self.meta, ids)
        return ids

    def words(self, order, encoding: str = "utf-8") -> list:
        """The words ``order`` (an int array of ids) as ``str`` (undecodable bytes kept by
        ``surrogateescape``, so ``word.encode(encoding, "surrogateescape")`` gives the bytes back)."""
        order = np.ascontiguousarray(order, np.int64)
        if order.size == 0:
            return []
        arena = self.arena[: self.meta[ARENA_USED]]
        if not (arena == 0).any():  # NUL-free: one join, one decode, one split
            joined = gather_words(self.arena, self.info, order, np.uint8(0)).tobytes()
            return joined.decode(encoding, "surrogateescape").split("\x00")
        info = self.info
        return [arena[info[w, 0]:info[w, 0] + info[w, 1]].tobytes().decode(encoding, "surrogateescape") for w in order]


class PartTables:
    """The word tables of pieces 1.. of a parallel scan, stacked with one capacity."""

    def __init__(self, n: int, capacity: int = 1 << 12):
        cap = 1 << max(4, int(capacity - 1).bit_length())
        self.slots = np.zeros((n, 2 * cap, 2), np.int64)
        self.info = np.zeros((n, cap, 4), np.int64)
        self.arena = np.empty((n, 8 * cap), np.uint8)

    def reset(self, n: int, capacity: int = 0):
        """Forget every word (keeping the capacity), with room for at least ``n`` tables of
        ``capacity`` words."""
        if n > self.slots.shape[0] or capacity > self.info.shape[1]:
            self.__init__(max(n, self.slots.shape[0]), max(capacity, self.info.shape[1]))
        elif n:
            self.slots[:n] = 0

    def merge_into(self, k: int, meta, table: WordTable):
        """Add table ``k``'s words and counts (``meta`` its counters) to ``table`` in id order;
        returns their ids there."""
        n, used = int(meta[N_WORDS]), int(meta[ARENA_USED])
        info = self.info[k]
        src_starts = np.append(info[:n, 0], used).astype(np.int64)
        return table.insert_words(self.arena[k, :used], src_starts, info[:n, 2].copy())
