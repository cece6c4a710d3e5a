"""CUDA twin of the word2vec training epoch (:mod:`._train`); imported only for ``backend="cuda"``.

The vectors stay on the GPU for a whole :meth:`Word2Vec.train` call; each epoch is two launches
and one small copy back (per-sentence loss and counts, a finiteness flag):

1. ``_keep_kernel``, a block per sentence: subsampling with the CPU's draws
   (:func:`._draws.keep_token`, draw ``t`` of the epoch's stream for corpus position ``t``); the
   survivors are compacted in order by a shared-memory scan, in place at the sentence's raw offset
   (``words``/``where`` buffers the size of the corpus), so step 2 needs no host round trip;
2. ``_train_kernel``, a block (a *team*, one warp by default) per work item = ``CHUNK`` consecutive
   centres of one sentence (the windows still reach across item boundaries). The team splits the
   ``d`` components of every vector (thread ``k mod T``: coalesced row reads and writes), so each
   thread only ever touches its own components of ``syn0``, ``syn1neg`` and the work rows; the one
   exchange is the dot product, reduced through a double-buffered shared-memory slot (one barrier
   per dot product; the simulator the tests run under has no warp shuffles). Blocks update the
   shared vectors without locks: Hogwild across items, as word2vec.c is across threads.

Semantics equal the CPU epoch (:mod:`._train`): the same reduced windows, noise words (draws of
``stream_key(noise key, t)``: pair slot ``q`` uses ``q negative ..``), skipped noise equal to the
target, word2vec.c's clipped sigmoid table, per-sentence learning rate and loss in float64. Run
with one item per block in item order (as the simulator does), the vectors equal the serial CPU
result up to float32 rounding of the dot products' summation order, which the tests check.
"""

from __future__ import annotations

import numpy as np
from numba import cuda, float32, int64

from .. import _launch
from .._random import stream_key
from ._draws import keep_token, reduced_window
from ._sampling_cuda import alias_draw
from ._sgns import sigmoid_clipped, softplus
from ._tilescan_cuda import MAX_TILE, tile_scan

#: Threads per work item (a warp: its barrier is cheap, and 100-300 components split 4-10 a thread).
TEAM = 32
#: Centres per work item: ~N/16 items keep every SM busy on any real corpus.
CHUNK = 16


@cuda.jit
def _keep_kernel(ids, offsets, keep, sample, skey, words, where, kept):
    """Subsampled survivors of each sentence, in order, at its raw offset; ``kept[s, 0]`` their count."""
    buf = cuda.shared.array(MAX_TILE, int64)
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    for s in range(cuda.blockIdx.x, offsets.size - 1, cuda.gridDim.x):
        start = offsets[s]
        end = offsets[s + 1]
        m = int64(0)
        for base in range(start, end, nt):  # every thread runs the same trips: the scan syncs the block
            t = base + tid
            ok = 0
            w = 0
            if t < end:
                w = ids[t]
                if (not sample) or keep_token(keep[w], skey, t):
                    ok = 1
            pre, tot = tile_scan(ok, buf)
            if ok:
                words[start + m + pre] = w
                where[start + m + pre] = t
            m += tot
        if tid == 0:
            kept[s, 0] = m
            kept[s, 1] = 0


@cuda.jit(device=True, inline=True)
def _team_dot(a, b, d, part, slot, tid, nt):
    """``a . b`` over ``d`` components, the same value in every thread of the team."""
    s = float32(0.0)
    for k in range(tid, d, nt):
        s += a[k] * b[k]
    part[slot * nt + tid] = s
    cuda.syncthreads()  # slot alternates, so the previous dot's readers are done with this one
    f = float32(0.0)
    for r in range(nt):
        f += part[slot * nt + r]
    return f


@cuda.jit(device=True, inline=True)
def _team_output(l1, out, label, alpha, work, d, part, slot, tid, nt, loss):
    """:func:`._sgns._output_step` by a team: ``work += g out``, ``out += g l1``; the example's
    loss term (thread 0, when ``loss``)."""
    f = _team_dot(l1, out, d, part, slot, tid, nt)
    g = (float32(label) - sigmoid_clipped(f)) * alpha
    for k in range(tid, d, nt):
        x = out[k]
        work[k] += g * x
        out[k] = x + g * l1[k]
    if loss and tid == 0:
        return softplus(-f) if label else softplus(f)
    return 0.0


@cuda.jit(device=True, inline=True)
def _team_targets(l1, syn1neg, centre, table, nk, first, negative, alpha, work, d, part, slot, tid, nt, loss):
    """The target ``centre`` and noise draws ``first .. first + negative - 1`` of ``nk`` against
    ``l1``; returns (loss, next slot)."""
    acc = _team_output(l1, syn1neg[centre], 1, alpha, work, d, part, slot, tid, nt, loss)
    slot = 1 - slot
    for r in range(negative):
        t = alias_draw(table, nk, first + r)  # every thread draws the same word: no exchange
        if t != centre:
            acc += _team_output(l1, syn1neg[t], 0, alpha, work, d, part, slot, tid, nt, loss)
            slot = 1 - slot
    return acc, slot


@cuda.jit
def _train_kernel(words, where, offsets, kept, item_sentence, item_first, chunk, syn0, syn1neg, table, window,
                  negative, sg, cbow_mean, alpha0, min_alpha, done, total, wkey, nkey, loss, loss_out):
    sh = cuda.shared.array(0, float32)  # [2 T partial sums | d work | d error]
    tid = cuda.threadIdx.x
    nt = cuda.blockDim.x
    d = syn0.shape[1]
    part = sh[:2 * nt]
    work = sh[2 * nt:2 * nt + d]
    err = sh[2 * nt + d:2 * nt + 2 * d]
    slot = 0
    for it in range(cuda.blockIdx.x, item_sentence.size, cuda.gridDim.x):
        s = item_sentence[it]
        start = offsets[s]
        m = kept[s, 0]
        i0 = item_first[it]
        if i0 >= m:
            continue
        i1 = min(m, i0 + chunk)
        alpha = float32(alpha0 - (alpha0 - min_alpha) * ((done + start) / total))
        acc = 0.0
        n_ex = int64(0)
        for i in range(i0, i1):
            centre = words[start + i]
            pos = where[start + i]
            b = reduced_window(wkey, pos, window, True)
            lo = max(int64(0), i - b)
            hi = min(m, i + b + 1)
            nk = stream_key(nkey, pos)
            if sg:
                for j in range(lo, hi):
                    if j != i:
                        q = j - i + window if j < i else j - i + window - 1  # the CPU's context slot
                        l1 = syn0[words[start + j]]
                        for k in range(tid, d, nt):
                            work[k] = 0.0
                        a, slot = _team_targets(l1, syn1neg, centre, table, nk, q * negative, negative, alpha,
                                                work, d, part, slot, tid, nt, loss)
                        acc += a
                        for k in range(tid, d, nt):
                            l1[k] += work[k]
                n_ex += hi - lo - 1
            elif hi - lo > 1:
                inv = float32(1.0) / float32(hi - lo - 1)
                for k in range(tid, d, nt):
                    h = float32(0.0)
                    for mm in range(lo, hi):
                        if mm != i:
                            h += syn0[words[start + mm], k]
                    work[k] = h * inv if cbow_mean else h
                    err[k] = 0.0
                a, slot = _team_targets(work, syn1neg, centre, table, nk, 0, negative, alpha, err, d, part, slot,
                                        tid, nt, loss)
                acc += a
                for k in range(tid, d, nt):
                    e = err[k] if cbow_mean else err[k] * inv
                    for mm in range(lo, hi):
                        if mm != i:
                            syn0[words[start + mm], k] += e
                n_ex += 1
        if tid == 0:
            cuda.atomic.add(loss_out, s, acc)
            cuda.atomic.add(kept, (s, 1), n_ex)


@cuda.jit
def _nonfinite(a, b, flag):
    """``flag[0] = 1`` when ``a`` or ``b`` holds a NaN or an infinity (a diverged run)."""
    d = a.shape[1]
    for i in range(cuda.grid(1), a.shape[0] * d, cuda.gridsize(1)):  # consecutive threads, consecutive values
        r = i // d
        c = i - r * d
        if not (abs(a[r, c]) < np.inf and abs(b[r, c]) < np.inf):
            flag[0] = 1


# -- host driver ------------------------------------------------------------------------


def work_items(offsets, chunk=CHUNK):
    """``(sentence, first centre)`` of every work item: ``ceil(len / chunk)`` per sentence (raw
    length: an item past the survivors has nothing to do)."""
    lengths = np.diff(offsets)
    per = -(-lengths // chunk)
    sentence = np.repeat(np.arange(lengths.size, dtype=np.int32), per)
    first = (np.arange(sentence.size) - np.repeat(np.cumsum(per) - per, per)) * chunk
    return sentence, first.astype(np.int64)


class DeviceTrainer:
    """The corpus, the vectors and the scratch of one :meth:`Word2Vec.train` call on the GPU."""

    def __init__(self, corpus, keep, syn0, syn1neg, table, *, team=None, chunk=None):
        team = TEAM if team is None else team  # read at call time: the tests shrink them
        chunk = CHUNK if chunk is None else chunk
        n = corpus.n_tokens
        self.d_ids = cuda.to_device(corpus.ids)
        self.d_offsets = cuda.to_device(corpus.offsets)
        self.d_keep = cuda.to_device(keep)
        self.d_table = cuda.to_device(table)
        self.d_syn0 = cuda.to_device(syn0)
        self.d_syn1neg = cuda.to_device(syn1neg)
        self.d_words = cuda.device_array(max(n, 1), np.int32)
        self.d_where = cuda.device_array(max(n, 1), np.int64)
        n_sent = corpus.offsets.size - 1
        self.d_kept = cuda.device_array((n_sent, 2), np.int64)
        self.d_loss = cuda.device_array(n_sent, np.float64)
        self.d_flag = cuda.device_array(1, np.int32)
        sentence, first = work_items(corpus.offsets, chunk)
        self.d_item_sentence, self.d_item_first = cuda.to_device(sentence), cuda.to_device(first)
        self.n_sent, self.n_items, self.team, self.chunk = n_sent, sentence.size, team, chunk
        self.d = syn0.shape[1]

    def epoch(self, sample, window, negative, sg, cbow_mean, alpha0, min_alpha, done, total, skey, wkey, nkey, loss):
        """One epoch on the device; returns ``(loss per sentence, kept (n, 2), finite)`` on the host."""
        launch = _launch  # read at call time: the tests shrink the launch sizes
        self.d_loss.copy_to_device(np.zeros(self.n_sent))
        self.d_flag.copy_to_device(np.zeros(1, np.int32))
        blocks = max(1, min(launch.MAX_BLOCKS, self.n_sent))
        _keep_kernel[blocks, min(launch.THREADS_PER_BLOCK, MAX_TILE)](
            self.d_ids, self.d_offsets, self.d_keep, sample, np.int64(skey), self.d_words, self.d_where, self.d_kept)
        if self.n_items:
            blocks = max(1, min(launch.MAX_BLOCKS, self.n_items))
            shmem = 4 * (2 * self.team + 2 * self.d)
            _train_kernel[blocks, self.team, 0, shmem](
                self.d_words, self.d_where, self.d_offsets, self.d_kept, self.d_item_sentence, self.d_item_first,
                np.int64(self.chunk), self.d_syn0, self.d_syn1neg, self.d_table, np.int64(window),
                np.int64(negative), sg, cbow_mean, np.float64(alpha0), np.float64(min_alpha), np.int64(done),
                np.int64(total), np.int64(wkey), np.int64(nkey), loss, self.d_loss)
        blocks, threads = launch.grid_1d(self.d_syn0.size)
        _nonfinite[blocks, threads](self.d_syn0, self.d_syn1neg, self.d_flag)
        return self.d_loss.copy_to_host(), self.d_kept.copy_to_host(), not self.d_flag.copy_to_host()[0]

    def copy_to_host(self, syn0, syn1neg):
        """Write the device vectors into the host arrays ``syn0`` and ``syn1neg`` (in place)."""
        self.d_syn0.copy_to_host(syn0)
        self.d_syn1neg.copy_to_host(syn1neg)


def ptx_signatures():
    """Every (kernel, argument types) the trainer launches; CI compiles each to PTX."""
    from numba import types

    i32, i64, f32, f64 = (types.Array(t, 1, "C") for t in (types.int32, types.int64, types.float32, types.float64))
    i64_2, f32_2 = types.Array(types.int64, 2, "C"), types.Array(types.float32, 2, "C")
    I, F, B = types.int64, types.float64, types.boolean
    return [
        (_keep_kernel, (i32, i64, f64, B, I, i32, i64, i64_2)),
        (_train_kernel, (i32, i64, i64, i64_2, i32, i64, I, f32_2, f32_2, i64, I, I, B, B, F, F, I, I, I, I, B, f64)),
        (_nonfinite, (f32_2, f32_2, types.Array(types.int32, 1, "C"))),
    ]
