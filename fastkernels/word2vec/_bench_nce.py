"""Benchmark case of the TF tutorial's NCE model (:class:`~.nce.NCEWord2Vec`), registered by :mod:`._bench`.

``steps`` SGD steps of the tutorial (batches of 128 pairs from ``generate_batch``, 64 shared
log-uniform noise classes, rate 1.0) on Zipf-distributed ids over ``V`` words. The baseline is
the same steps in vectorised NumPy (:func:`._train_reference.nce_step_numpy`: gathers, two small
GEMMs, ``np.add.at`` scatters), fed the same batches and sample sets; each timed call starts from
the same initial parameters. Both sides do the three products of a step as GEMMs through NumPy's
BLAS (its threads); the kernel saves the gathers', scatters' and elementwise passes' temporaries
and Python's per-operation overhead. Its own loops are serial on every backend: a step is one
mini-batch, too little to split across threads.
"""

from __future__ import annotations

import numpy as np

from .._random import stream_key
from ..bench.registry import Case, register
from . import nce as _nce
from ._train_reference import nce_step_numpy
from .sampling import log_uniform_unique
from .tf_batches import generate_batch

BATCH, SKIPS, WINDOW, SAMPLED = 128, 2, 1, 64


class _State:
    def __init__(self, v, d, steps):
        u = np.random.default_rng(0).random(max(20 * steps * BATCH // SKIPS, 1000))
        self.data = np.clip(np.exp(u * np.log(v + 1.0)).astype(np.int64) - 1, 0, v - 1)
        self.model = _nce.NCEWord2Vec(v, d, seed=1)
        self.init = (self.model.embeddings.copy(), self.model.nce_weights.copy(), self.model.nce_biases.copy())
        self.steps = steps
        seed = int(stream_key(self.model._key, _nce._BATCH)) & ((1 << 63) - 1)
        batch, labels, _ = generate_batch(self.data, BATCH, SKIPS, WINDOW, 0, n_batches=steps, seed=seed)
        self.x, self.y = batch.astype(np.int64), labels[:, :, 0].astype(np.int64)
        self.sets = []  # (sampled, log Q sampled, log Q true) of each step: the model's own draws
        seen = np.full(256, -1, np.int64)
        key = stream_key(self.model._key, _nce._NCE)
        for s in range(steps):
            sampled = np.empty(SAMPLED, np.int64)
            tries = log_uniform_unique(stream_key(key, s), v, sampled, seen)
            self.sets.append((sampled, _logq(sampled, v, tries), _logq(self.y[s], v, tries)))

    def reset(self):
        m = self.model
        for a, b in zip((m.embeddings, m.nce_weights, m.nce_biases), self.init):
            a[:] = b
        m.step, m.index = 0, 0
        return m


def _logq(c, v, tries):
    p = np.log1p(1.0 / (np.asarray(c, np.float64) + 1.0)) / np.log(v + 1.0)
    return np.log(p * SAMPLED if tries == SAMPLED else -np.expm1(tries * np.log1p(-p)))


def make_inputs(v=1000, d=16, steps=5):
    return (_State(v, d, steps),)


def fk_steps(state, backend):
    m = state.reset()
    losses = m.train(state.data, state.steps, batch_size=BATCH, num_skips=SKIPS, skip_window=WINDOW,
                     num_sampled=SAMPLED, learning_rate=1.0)
    return losses, m.embeddings.copy()


def numpy_steps(state):
    emb, w, b = (a.copy() for a in state.init)
    losses = np.empty(state.steps)
    for s, (sampled, lq_s, lq_t) in enumerate(state.sets):
        losses[s] = nce_step_numpy(emb, w, b, state.x[s], state.y[s], sampled, lq_t, lq_s, np.float32(1.0))
    return losses, emb


def check_steps(out, ref):
    """The same losses (float32 parameters, another summation order) and embeddings."""
    np.testing.assert_allclose(out[0], ref[0], rtol=1e-3)
    np.testing.assert_allclose(out[1], ref[1], rtol=1e-3, atol=1e-3)


register(Case(
    name="word2vec_nce",
    area="word2vec",
    description="the TF tutorial's NCE steps (batch 128, 64 shared log-uniform samples, SGD) vs vectorised NumPy",
    make_inputs=make_inputs,
    kernel=fk_steps,
    baseline=numpy_steps,
    sizes={"test": [dict(v=1000, d=16, steps=5)], "quick": [dict(v=50_000, d=128, steps=200)],
           "full": [dict(v=50_000, d=128, steps=2000)]},
    label=lambda v, d, steps: f"V {v}, d {d}, {steps} steps of 128 pairs",
    check=check_steps,
    work=lambda v, d, steps: {"flops": steps * 6 * BATCH * (SAMPLED + 1) * d},
))
