"""The TensorFlow word2vec tutorial's model (seed 000, lines 1541-1682): skip-gram mini-batches from
``generate_batch``, ``tf.nn.nce_loss`` with one shared set of log-uniform samples per batch, and
plain SGD at rate 1.0 on the batch-mean loss, compiled.

>>> from fastkernels.word2vec import NCEWord2Vec
>>> model = NCEWord2Vec(50_000, seed=1)              # the tutorial's sizes: embeddings 50 000 x 128
>>> losses = model.train(data, num_steps=100_001)     # one float64 loss per batch
>>> model.average_losses(losses)                      # the tutorial's printout: step 0, then means of 2000

What ``nce_loss`` computes per batch (TF's source, see the digest ``seeds_000_004.md`` section 4.6):
``S``, ``num_sampled`` distinct classes drawn from the log-uniform distribution
``P(c) = log((c + 2) / (c + 1)) / log(V + 1)`` (ids sorted by decreasing frequency), shared by the
batch; with ``Q`` their expected counts (``1 - (1 - P)^T`` after ``T`` draws),
``s_true = e . W[y] + b[y] - log Q(y)``, ``s_j = e . W[S_j] + b[S_j] - log Q(S_j)``,
``loss = softplus(-s_true) + sum_j softplus(s_j)`` (a sampled class equal to ``y`` still counts as
noise: ``remove_accidental_hits=False``); the batch loss is the mean. Gradients are taken at the
batch's parameters and then applied (a mini-batch step, not per-example SGD), to the rows used.
"""

from __future__ import annotations

import math

import numpy as np

from .._blas import blas_functions, gemm
from .._jit import FASTMATH, device, jit
from .._random import check_seed, resolve_seed, stream_key
from .._validate import as_array, check_allocation, check_scalar
from .sampling import MAX_RANGE, log_uniform_unique
from .corpus import Corpus
from .tf_batches import generate_batch

_NCE = 0x4E434520  # "NCE ": the per-step sample sets
_INIT = 0x494E4954  # "INIT": the initial parameters
_BATCH = 0x42415443  # "BATC": the batches' context draws
#: Batches generated per compiled call (the tutorial's 128 pairs: 1 MiB of ids).
_CALL_STEPS = 2000


@device
def _softplus_sigmoid(z):
    """``(log(1 + e^z), 1 / (1 + e^-z))`` in float64 from one exponential, without overflow."""
    z = np.float64(z)
    e = math.exp(-abs(z))
    r = 1.0 / (1.0 + e)
    return max(z, 0.0) + math.log1p(e), (r if z >= 0 else e * r)


@jit(fastmath=FASTMATH)
def _nce_steps(batches, labels, emb, w, b, num_sampled, lr, key, step0, losses, sampled, seen, logq_s,
               e, ws, wt, z, g, ge, gw_s, gt_b, fns):
    """SGD on ``batches.shape[0]`` consecutive batches; ``losses[s]`` gets batch ``s``'s mean loss.

    Per step the batch's rows are gathered (``e`` = emb[x] (B, d), ``ws`` = w[S] (S, d), ``wt`` =
    w[y] (B, d)) and the three products are GEMMs through NumPy's BLAS (:mod:`fastkernels._blas`):
    the noise logits ``z = e ws^T`` (B, S), then with ``g`` = d loss / d z (B, S) the input
    gradients ``ge = g ws`` (B, d) and the sampled rows' gradients ``gw_s = g^T e`` (S, d). All
    float32 scratch (``gt_b`` (B,): the true classes' derivatives) but ``logq_s`` (S,) float64; ``fns``: :func:`~fastkernels._blas.blas_functions`."""
    n_steps, bsz = batches.shape
    v, d = emb.shape
    log_range = math.log(v + 1.0)
    inv_b = 1.0 / bsz
    for s in range(n_steps):
        tries = log_uniform_unique(stream_key(key, step0 + s), v, sampled, seen)
        for j in range(num_sampled):
            p = math.log1p(1.0 / (sampled[j] + 1.0)) / log_range
            q = p * num_sampled if tries == num_sampled else -math.expm1(tries * math.log1p(-p))
            logq_s[j] = math.log(q)
            c = sampled[j]
            for k in range(d):
                ws[j, k] = w[c, k]
        for i in range(bsz):
            x = batches[s, i]
            y = labels[s, i]
            for k in range(d):
                e[i, k] = emb[x, k]
                wt[i, k] = w[y, k]
        gemm(fns, False, True, 1.0, e, ws, 0.0, z)
        acc = 0.0
        for i in range(bsz):  # the loss and its derivatives, at the batch's parameters
            y = labels[s, i]
            p = math.log1p(1.0 / (y + 1.0)) / log_range
            q = p * num_sampled if tries == num_sampled else -math.expm1(tries * math.log1p(-p))
            f = np.float32(0.0)
            for k in range(d):
                f += e[i, k] * wt[i, k]
            zt = f + b[y] - math.log(q)
            sp, sig = _softplus_sigmoid(zt)
            acc += sp - zt  # softplus(-z) = softplus(z) - z
            gt = np.float32((sig - 1.0) * inv_b)  # d loss / d s_true
            gt_b[i] = gt
            for k in range(d):
                wt[i, k] = gt * e[i, k]  # wt now holds the true rows' gradients
                ge[i, k] = gt * w[y, k]
            for j in range(num_sampled):
                sp, sig = _softplus_sigmoid(z[i, j] + b[sampled[j]] - logq_s[j])
                acc += sp
                g[i, j] = np.float32(sig * inv_b)  # d loss / d s_j
        losses[s] = acc * inv_b
        gemm(fns, False, False, 1.0, g, ws, 1.0, ge)  # ge += g ws
        gemm(fns, True, False, 1.0, g, e, 0.0, gw_s)
        # apply (IndexedSlices SGD: repeated rows get every slice)
        for j in range(num_sampled):
            c = sampled[j]
            gb = np.float32(0.0)
            for i in range(bsz):
                gb += g[i, j]
            b[c] -= np.float32(lr) * gb
            for k in range(d):
                w[c, k] -= np.float32(lr) * gw_s[j, k]
        for i in range(bsz):
            x = batches[s, i]
            y = labels[s, i]
            for k in range(d):
                emb[x, k] -= np.float32(lr) * ge[i, k]
                w[y, k] -= np.float32(lr) * wt[i, k]
            b[y] -= np.float32(lr) * gt_b[i]


class NCEWord2Vec:
    """Skip-gram trained as the TensorFlow tutorial does: NCE loss, shared log-uniform samples, SGD.

    Parameters
    ----------
    vocabulary_size : int or Vocabulary
        Number of words ``V`` (ids sorted by decreasing frequency, as the log-uniform sampler
        assumes; a :class:`~.vocab.Vocabulary` gives its size and words for :attr:`wv`).
    embedding_size : int >= 1
        ``d`` (the tutorial's 128).
    seed : int or numpy.random.Generator
        Seed of the initial parameters, the batches' context draws and the sample sets.

    Attributes
    ----------
    embeddings : ndarray (V, d) float32
        The input vectors, initialised uniform in ``[-1, 1)`` as the tutorial does.
    nce_weights : ndarray (V, d) float32
        Output vectors, truncated normal (sd ``1 / sqrt(d)``, redrawn beyond 2 sd) as TF's.
    nce_biases : ndarray (V,) float32
        Output biases, zero.
    step : int
        Batches trained; :meth:`train` continues from it (the corpus position too).
    """

    def __init__(self, vocabulary_size, embedding_size=128, *, seed=1):
        from .vocab import Vocabulary

        self.vocab = vocabulary_size if isinstance(vocabulary_size, Vocabulary) else None
        v = len(self.vocab) if self.vocab is not None else check_scalar(vocabulary_size, "vocabulary_size",
                                                                       integer=True, lo=1, hi=MAX_RANGE)
        if v < 1:
            raise ValueError("vocabulary_size: the vocabulary is empty")
        d = check_scalar(embedding_size, "embedding_size", integer=True, lo=1)
        check_allocation(2 * v * d, 4, "embedding_size", what="float32 parameters")
        self._key = resolve_seed(check_seed(seed))
        rng = np.random.default_rng(int(stream_key(self._key, _INIT)) & ((1 << 63) - 1))
        self.embeddings = rng.uniform(-1.0, 1.0, (v, d)).astype(np.float32)
        w = rng.standard_normal((v, d))
        bad = np.abs(w) > 2.0
        while bad.any():  # TF's truncated normal: redraw beyond two standard deviations
            w[bad] = rng.standard_normal(int(bad.sum()))
            bad = np.abs(w) > 2.0
        self.nce_weights = (w / math.sqrt(d)).astype(np.float32)
        self.nce_biases = np.zeros(v, np.float32)
        self.step = 0
        self.index = 0

    def train(self, data, num_steps, *, batch_size=128, num_skips=2, skip_window=1, num_sampled=64,
              learning_rate=1.0):
        """Run ``num_steps`` SGD steps on batches of ``data`` (from where the last call stopped).

        Parameters
        ----------
        data : Corpus or array_like of int, shape (n,)
            Token ids in ``[0, V)`` (the tutorial's ``data``; sentence boundaries are ignored).
        num_steps : int >= 1
        batch_size, num_skips, skip_window : int
            As :func:`~.tf_batches.generate_batch` (the tutorial: 128, 2, 1).
        num_sampled : int in [1, V]
            Noise classes per batch (64).
        learning_rate : float > 0
            SGD rate on the batch-mean loss (1.0).

        Returns
        -------
        ndarray of float64, shape (num_steps,)
            Each batch's mean NCE loss, computed before its update (what ``session.run`` returns).
        """
        v, d = self.embeddings.shape
        num_steps = check_scalar(num_steps, "num_steps", integer=True, lo=1)
        num_sampled = check_scalar(num_sampled, "num_sampled", integer=True, lo=1, hi=v)
        lr = check_scalar(learning_rate, "learning_rate", lo=0.0, lo_open=True)
        ids = data.ids if isinstance(data, Corpus) else as_array(data, "data", dtypes=(np.int32, np.int64), ndim=1)
        if ids.size and (int(ids.max()) >= v or int(ids.min()) < 0):
            bad = int(ids.max()) if int(ids.max()) >= v else int(ids.min())
            raise ValueError(f"data holds id {bad}, outside the vocabulary of {v} words")
        # generate_batch validates the rest (span, batch_size, num_skips, skip_window): its first
        # call happens before any parameter moves
        data = ids
        first = min(num_steps, _CALL_STEPS)
        batches, labels, nxt = generate_batch(data, batch_size, num_skips, skip_window, self.index,
                                              n_batches=first, seed=int(stream_key(self._key, _BATCH)) & ((1 << 63) - 1))
        check_allocation(batch_size * (num_sampled + 3 * d) + 2 * num_sampled * d, 4, "batch_size",
                         what="float32 scratch")
        losses = np.empty(num_steps)
        sampled = np.empty(num_sampled, np.int64)
        seen = np.full(1 << max(4, (2 * num_sampled - 1).bit_length()), -1, np.int64)
        logq = np.empty(num_sampled)
        e, wt, ge = (np.empty((batch_size, d), np.float32) for _ in range(3))
        ws, gw_s = np.empty((num_sampled, d), np.float32), np.empty((num_sampled, d), np.float32)
        z, g = np.empty((batch_size, num_sampled), np.float32), np.empty((batch_size, num_sampled), np.float32)
        gt_b = np.empty(batch_size, np.float32)
        fns = blas_functions()
        done = 0
        while True:
            n = batches.shape[0]
            ids = batches.astype(np.int64)
            lab = labels[:, :, 0].astype(np.int64)
            _nce_steps(ids, lab, self.embeddings, self.nce_weights, self.nce_biases, num_sampled, lr,
                       stream_key(self._key, _NCE), np.int64(self.step), losses[done:done + n], sampled, seen,
                       logq, e, ws, wt, z, g, ge, gw_s, gt_b, fns)
            done += n
            self.step += n
            self.index = nxt
            if done == num_steps:
                return losses
            batches, labels, nxt = generate_batch(data, batch_size, num_skips, skip_window, self.index,
                                                  n_batches=min(num_steps - done, _CALL_STEPS),
                                                  seed=int(stream_key(self._key, _BATCH)) & ((1 << 63) - 1))

    @staticmethod
    def average_losses(losses, every=2000):
        """The tutorial's printout: ``[(step, average)]`` with step 0's single loss, then the mean of
        each following ``every`` losses (steps ``every, 2 every, ...``)."""
        losses = np.asarray(losses, np.float64)
        every = check_scalar(every, "every", integer=True, lo=1)
        out = [(0, float(losses[0]))] if losses.size else []
        for s in range(every, losses.size, every):
            out.append((s, float(losses[s - every + 1:s + 1].mean())))
        return out

    @property
    def wv(self):
        """The embeddings as :class:`~.keyed_vectors.KeyedVectors` (needs a Vocabulary; shares memory)."""
        from .keyed_vectors import KeyedVectors

        if self.vocab is None:
            raise ValueError("the model was built from a vocabulary size: pass a Vocabulary to NCEWord2Vec for wv")
        return KeyedVectors(self.embeddings, self.vocab, copy=False)


__all__ = ["NCEWord2Vec"]
