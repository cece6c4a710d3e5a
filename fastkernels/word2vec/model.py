"""``Word2Vec``: skip-gram and CBOW training with negative sampling, gensim's names and defaults.

>>> from fastkernels.word2vec import Word2Vec
>>> model = Word2Vec(sentences, vector_size=100, window=5, min_count=5, sg=1, workers=2, seed=1)
>>> model.vectors.shape, model.epoch_losses        # (words, 100) float32; per-epoch mean loss
>>> model.train(more_sentences)                     # continue on new text (same vocabulary)

The epoch kernels (:mod:`._train`) and per-example updates (:mod:`._sgns`) follow word2vec.c;
the draws (subsampling, windows, noise words, initial vectors) are counter-based streams keyed
by (seed, epoch, corpus position), so ``workers=1`` is bit reproducible for a seed and more
workers (Hogwild: threads share the vectors without locks, as word2vec.c and gensim do) differ
from it only through their races.
"""

from __future__ import annotations

import math
import time

import numba
import numpy as np

from .._backend import check_backend, load_cuda, resolve_backend
from .._progress import ProgressBar, check_progress
from .._random import check_seed, random_uniform, resolve_seed, stream_key
from .._validate import check_allocation, check_flag, check_scalar
from . import _streams
from ._train import CHUNK_TOKENS, epoch_kernels
from .batches import MAX_WINDOW
from .corpus import Corpus
from .reading import read_corpus
from .sampling import NegativeSampler
from .subsample import keep_probability
from .vocab import Vocabulary

#: Longer sentences are cut into pieces of this many tokens (gensim's MAX_SENTENCE_LEN), not truncated.
MAX_SENTENCE_LENGTH = 10_000
#: Sentences per compiled call: the progress bar and callbacks advance between calls.
_CALL_TOKENS = 1 << 20
_INIT = 0x494E4954  # "INIT": the initial vectors' stream
_INT63 = (1 << 63) - 1
#: train() keeps a copy of the vectors (to undo a diverging run) when both matrices fit in this.
UNDO_MAX_BYTES = 1 << 30


class Word2Vec:
    """Word embeddings trained with skip-gram (``sg=1``) or CBOW (``sg=0``) and negative sampling.

    Parameters
    ----------
    sentences : iterable of lists of str, path, bytes or Corpus, optional
        The training text (see :func:`~.reading.read_corpus` for the forms); when given, the
        vocabulary is built from it and the model trained for ``epochs`` epochs. A :class:`Corpus`
        of ids needs ``vocab``.
    vocab : Vocabulary, optional
        Use this vocabulary instead of building one (``min_count``/``max_vocab_size`` then unused).
    vector_size : int >= 1
        Dimension of the word vectors (default 100).
    window : int >= 1
        Maximum distance between the centre and a context word; each centre uses a window drawn
        uniformly from ``1..window`` (word2vec.c's reduced window).
    min_count : int >= 1
        Words rarer than this are dropped before training (default 5).
    max_vocab_size : int, optional
        Keep only the most frequent words.
    sample : float >= 0
        Subsampling threshold of frequent words (word2vec.c's formula; 0 disables).
    sg : {0, 1}
        1: skip-gram; 0: CBOW (gensim's default).
    negative : int >= 1
        Noise words per positive example (hierarchical softmax is not implemented).
    ns_exponent : float
        Exponent of the noise distribution ``count ** ns_exponent`` (0.75).
    cbow_mean : {0, 1}
        CBOW input: 1 the mean of the context vectors, 0 their sum.
    alpha, min_alpha : float
        Learning rate, decayed linearly from ``alpha`` to ``min_alpha`` over all epochs of a
        :meth:`train` call (by corpus position: thread-independent).
    epochs : int >= 1
        Passes over the corpus (default 5).
    seed : int or numpy.random.Generator
        Seed of every draw (initial vectors, subsampling, windows, noise words). A Generator is
        drawn from once, when the vectors are first initialised (a refused call draws nothing).
    workers : int >= 1
        Threads. 1: the serial kernel, bit reproducible; more: Hogwild (lock-free shared updates,
        like word2vec.c and gensim), at most Numba's thread count.
    compute_loss : bool
        Also accumulate the negative-sampling loss (``-log s(u.v) - sum log s(-u.n)``) in float64;
        :attr:`epoch_losses` gets its mean per training example (pair for skip-gram, centre for
        CBOW). Costs two transcendental functions per dot product.
    callbacks : sequence
        Objects with optional ``on_epoch_begin(model)`` / ``on_epoch_end(model)`` methods.
    max_sentence_length : int
        Longer sentences are cut into pieces of this many tokens (default 10 000, as gensim).
    progress : {"auto", True, False}
        A progress bar with words/s on stderr ("auto": for runs that look longer than 5 s).
    backend : {"auto", "cpu", "parallel", "cuda"}
        ``"auto"`` (default): the CPU, serial for ``workers=1`` or a corpus of one thread chunk
        (at most 10 000 tokens: a second thread would have nothing to take, and a first small run
        would compile the parallel kernel for nothing) and parallel otherwise; it never picks the
        GPU, whose Hogwild run is not bit reproducible. ``"cpu"``: serial whatever
        ``workers``; ``"parallel"``: ``workers`` threads; ``"cuda"``: the GPU, the vectors resident
        there for each :meth:`train` call and copied back at its end (and before each
        ``on_epoch_end`` callback); a block per 16 centres of a sentence, Hogwild across blocks.

    Attributes
    ----------
    vectors : ndarray, shape (n_words, vector_size), float32
        The input vectors (gensim's ``wv.vectors``); row ``i`` is ``vocab.words[i]``.
    syn1neg : ndarray, shape (n_words, vector_size), float32
        The output vectors of negative sampling.
    vocab : Vocabulary
    epoch_losses : list of float
        Mean loss per example of each epoch trained (NaN when ``compute_loss`` is off).
    words_per_second : float
        Raw corpus tokens per second of the last :meth:`train` call (compile time excluded).
    """

    def __init__(self, sentences=None, *, vocab=None, vector_size=100, window=5, min_count=5, max_vocab_size=None,
                 sample=1e-3, sg=0, negative=5, ns_exponent=0.75, cbow_mean=1, alpha=0.025, min_alpha=1e-4,
                 epochs=5, seed=1, workers=3, compute_loss=False, callbacks=(), max_sentence_length=MAX_SENTENCE_LENGTH,
                 progress="auto", backend="auto"):
        self.vector_size = check_scalar(vector_size, "vector_size", integer=True, lo=1)
        self.window = check_scalar(window, "window", integer=True, lo=1, hi=MAX_WINDOW)
        self.min_count = check_scalar(min_count, "min_count", integer=True, lo=1)
        self.max_vocab_size = None if max_vocab_size is None else check_scalar(max_vocab_size, "max_vocab_size",
                                                                               integer=True, lo=1)
        self.sample = check_scalar(sample, "sample", lo=0.0)
        self.sg = int(check_flag(sg, "sg"))
        self.negative = check_scalar(negative, "negative", integer=True, lo=1)
        check_allocation(self.negative, 8, "negative", what="noise-word ids per sentence")
        self.ns_exponent = check_scalar(ns_exponent, "ns_exponent")
        self.cbow_mean = int(check_flag(cbow_mean, "cbow_mean"))
        self.alpha, self.min_alpha = _check_alphas(alpha, min_alpha)
        self.epochs = check_scalar(epochs, "epochs", integer=True, lo=1)
        self.seed = check_seed(seed)
        self._key = None  # drawn from the seed when the vectors are first initialised
        self.workers = check_scalar(workers, "workers", integer=True, lo=1)
        self.compute_loss = check_flag(compute_loss, "compute_loss")
        self.callbacks = _check_callbacks(callbacks)
        self.max_sentence_length = check_scalar(max_sentence_length, "max_sentence_length", integer=True, lo=1)
        self.progress = check_progress(progress)
        self.backend = check_backend(backend)
        if backend == "cuda":
            resolve_backend("cuda")  # no GPU: fail before the corpus is read
        if vocab is not None and not isinstance(vocab, Vocabulary):
            raise TypeError(f"vocab must be a Vocabulary, got {type(vocab).__name__}")
        self.vocab = None
        self.vectors = None
        self.syn1neg = None
        self.epoch_losses = []
        self.words_per_second = math.nan
        self._epochs_trained = 0
        self._sampler = None
        self._keep = None
        if sentences is not None:  # every check before anything is built (or the seed drawn)
            corpus, built = self._encode(sentences, build=vocab is None, vocab=vocab)
            _check_trainable(corpus, self.epochs)
            self._set_vocab(vocab if built is None else built)
            self.train(corpus)
        elif vocab is not None:
            self._set_vocab(vocab)

    # -- vocabulary ---------------------------------------------------------------------

    def build_vocab(self, sentences):
        """Build the vocabulary from ``sentences`` (``min_count``, ``max_vocab_size``) and initialise
        the vectors (gensim 4's: uniform in ``[-1, 1) / vector_size``, twice word2vec.c's range, seeded; output
        vectors zero). Returns the encoded :class:`Corpus`."""
        corpus, vocab = self._encode(sentences, build=True)
        self._set_vocab(vocab)
        return corpus

    def _encode(self, sentences, *, build, vocab=None):
        """``(corpus, built vocabulary or None)``: ``sentences`` encoded with ``vocab`` (default the
        model's), or counted into a new vocabulary when ``build``. Changes nothing."""
        vocab = self.vocab if vocab is None else vocab
        if isinstance(sentences, Corpus):
            if build or vocab is None:
                raise ValueError("sentences is a Corpus of ids, which needs its vocabulary: pass vocab= (or give "
                                 "token lists or a path)")
            ids = sentences.ids
            if ids.size and int(ids.max()) >= len(vocab):
                raise ValueError(f"sentences holds id {int(ids.max())}, outside the vocabulary of {len(vocab)} words")
            return sentences.split_sentences(self.max_sentence_length), None
        if not build and vocab is None:
            raise ValueError("the model has no vocabulary yet: call build_vocab() (or pass sentences= to Word2Vec)")
        try:
            if build:
                return read_corpus(sentences, min_count=self.min_count, max_size=self.max_vocab_size, ties="gensim",
                                   max_sentence_length=self.max_sentence_length)
            corpus, _ = read_corpus(sentences, vocab=vocab, unknown="drop", max_sentence_length=self.max_sentence_length)
            return corpus, None
        except (TypeError, ValueError) as exc:  # read_corpus names its own argument, "source"
            raise (TypeError if isinstance(exc, TypeError) else ValueError)(f"sentences: {exc}") from exc

    def _set_vocab(self, vocab):
        n, d = len(vocab), self.vector_size
        check_allocation(2 * n * d, 4, "vector_size", what="float32 values (vectors and syn1neg)")
        if not vocab.counts.any():
            raise ValueError("vocab has no word with a positive count: the noise distribution would be empty")
        sampler = NegativeSampler(vocab, self.ns_exponent)
        keep = keep_probability(vocab, self.sample) if self.sample > 0 else np.ones(n)
        if self._key is None:
            self._key = resolve_seed(self.seed)
        init = random_uniform(n * d, low=-1.0 / d, high=1.0 / d, seed=int(stream_key(self._key, _INIT)) & _INT63,
                              dtype=np.float32, backend="cpu")
        self.vocab = vocab
        self.vectors = init.reshape(n, d)
        self.syn1neg = np.zeros((n, d), np.float32)
        self._sampler, self._keep = sampler, np.ascontiguousarray(keep, np.float64)
        self._epochs_trained = 0
        self.epoch_losses = []

    # -- training -----------------------------------------------------------------------

    def train(self, sentences, *, epochs=None, alpha=None, min_alpha=None, compute_loss=None, callbacks=None,
              progress=None):
        """Train on ``sentences`` (token lists, a path, bytes, or a :class:`Corpus` of this vocabulary's
        ids) for ``epochs`` epochs (default: the model's), the rate decaying from ``alpha`` to
        ``min_alpha``; words outside the vocabulary are dropped before the windows are built.
        Continues from the current vectors; the draws continue the model's epoch count.

        Returns
        -------
        (trained, raw) : tuple of int
            Tokens that survived subsampling (summed over epochs) and raw tokens (likewise).
        """
        if self.vocab is None:
            raise ValueError("the model has no vocabulary yet: call build_vocab() (or pass sentences= to Word2Vec)")
        epochs = self.epochs if epochs is None else check_scalar(epochs, "epochs", integer=True, lo=1)
        a0, a1 = _check_alphas(self.alpha if alpha is None else alpha, self.min_alpha if min_alpha is None else min_alpha)
        loss = self.compute_loss if compute_loss is None else check_flag(compute_loss, "compute_loss")
        cbs = self.callbacks if callbacks is None else _check_callbacks(callbacks)
        progress = self.progress if progress is None else check_progress(progress)
        corpus, _ = self._encode(sentences, build=False)
        _check_trainable(corpus, epochs)
        n_tok = corpus.n_tokens
        backend = self._backend(n_tok)
        threads = 1 if backend == "cpu" else min(self.workers, numba.config.NUMBA_NUM_THREADS)
        table = self._sampler.table
        bar = ProgressBar(epochs * n_tok, progress)
        trained = 0
        clock = [0.0, 0]  # seconds and raw tokens of the calls that cannot have compiled

        def tick(e, first, dt, tokens, done):
            """Count one compiled call (``first``: the call's first sentence) and advance the bar."""
            if e or first:  # the very first call may have compiled: rates from the rest
                clock[0] += dt
                clock[1] += tokens
            rate = clock[1] / clock[0] if clock[0] > 0 else math.nan
            left = (epochs * n_tok - done) / rate if rate == rate and rate > 0 else 0.0
            bar.update(done, left, f"{rate / 1e3:8.0f}k words/s" if rate == rate else "")

        old = numba.get_num_threads()
        # what a diverging run (NaN/inf vectors: too large a rate) is undone to, when it fits
        snap = ((self.vectors.copy(), self.syn1neg.copy(), list(self.epoch_losses), self._epochs_trained)
                if 2 * self.vectors.nbytes <= UNDO_MAX_BYTES else None)
        gpu = None
        if backend == "cuda":  # the vectors stay on the device for the whole call
            gpu = load_cuda("fastkernels.word2vec._train_cuda").DeviceTrainer(corpus, self._keep, self.vectors,
                                                                               self.syn1neg, table)
        try:
            if backend == "parallel":
                numba.set_num_threads(threads)
            for e in range(epochs):
                for cb in cbs:
                    getattr(cb, "on_epoch_begin", lambda m: None)(self)
                skey, wkey, nkey = self._epoch_keys(self._epochs_trained)
                args = (self.sample > 0, self.window, self.negative, self.sg == 1, self.cbow_mean == 1, a0, a1,
                        e * n_tok, epochs * n_tok, skey, wkey, nkey, loss)
                if gpu is None:
                    loss_out, kept_out = self._cpu_epoch(corpus, table, backend, args, lambda *a: tick(e, *a))
                    finite = np.isfinite(self.vectors).all() and np.isfinite(self.syn1neg).all()
                else:
                    t0 = time.perf_counter()
                    loss_out, kept_out, finite = gpu.epoch(*args)
                    tick(e, 0, time.perf_counter() - t0, n_tok, (e + 1) * n_tok)
                    if finite and cbs:  # callbacks read the host vectors
                        gpu.copy_to_host(self.vectors, self.syn1neg)
                if not finite:
                    self._diverged(snap, e, a0)
                n_ex = int(kept_out[:, 1].sum())
                trained += int(kept_out[:, 0].sum())
                self.epoch_losses.append(float(loss_out.sum() / n_ex) if loss and n_ex else math.nan)
                self._epochs_trained += 1
                for cb in cbs:
                    getattr(cb, "on_epoch_end", lambda m: None)(self)
            if gpu is not None:
                gpu.copy_to_host(self.vectors, self.syn1neg)
        finally:
            bar.close()
            numba.set_num_threads(old)
        self.words_per_second = clock[1] / clock[0] if clock[0] > 0 else math.nan
        return trained, epochs * n_tok

    def _cpu_epoch(self, corpus, table, backend, args, tick):
        """One epoch on the CPU in calls of about ``_CALL_TOKENS`` tokens, each reported as
        ``tick(first sentence, seconds, tokens, corpus positions done in the call)``; returns
        ``(loss per sentence, kept (n, 2))``."""
        sample, window, negative, sg, *rest = args  # the architecture picks the kernel, not an argument
        kernel = epoch_kernels[sg][backend == "parallel"]
        offsets = corpus.offsets
        done = args[7]  # corpus positions of the earlier epochs
        cuts = _call_cuts(offsets, _CALL_TOKENS)
        loss_out = np.zeros(offsets.size - 1)
        kept_out = np.zeros((offsets.size - 1, 2), np.int64)
        nt = 1 if backend == "cpu" else numba.get_num_threads()
        for a, b in zip(cuts[:-1], cuts[1:]):
            part = offsets[a:b + 1]
            chunks = _call_cuts(part - part[0], CHUNK_TOKENS)  # the threads' chunks, as gensim's jobs
            t0 = time.perf_counter()
            kernel(corpus.ids, part, chunks, nt, self._keep, sample, self.vectors, self.syn1neg, table, window, negative,
                   *rest, loss_out[a:b], kept_out[a:b])
            tick(int(a), time.perf_counter() - t0, int(offsets[b] - offsets[a]), done + int(offsets[b]))
        return loss_out, kept_out

    def _backend(self, n_tokens):
        """``"cpu"``, ``"parallel"`` or ``"cuda"`` for this model's ``backend`` and ``workers`` and a
        corpus of ``n_tokens``."""
        if self.backend == "auto":
            return "cpu" if self.workers == 1 or n_tokens <= CHUNK_TOKENS else "parallel"
        return resolve_backend(self.backend)

    def _diverged(self, snap, e, alpha):
        """Undo a diverged :meth:`train` call (when its snapshot was kept) and raise."""
        if snap is not None:
            self.vectors[:] = snap[0]
            self.syn1neg[:] = snap[1]
            self.epoch_losses, self._epochs_trained = snap[2], snap[3]
            what = "the model is back to its state before this train() call"
        else:
            what = f"the vectors (over {UNDO_MAX_BYTES >> 20} MiB, not kept) are left as they are: rebuild the model"
        raise ValueError(f"training diverged in epoch {e + 1} of this call: vectors became NaN or infinite; alpha "
                         f"({alpha}) is too large for this corpus; {what}")

    def _epoch_keys(self, g):
        """``(subsampling, window, noise)`` stream keys of the model's epoch ``g`` (counted over every
        :meth:`train` call)."""
        return tuple(stream_key(stream_key(self._key, p), g)
                     for p in (_streams.SUBSAMPLE, _streams.WINDOW, _streams.NEGATIVE))

    def get_latest_training_loss(self) -> float:
        """Mean loss per example of the last epoch (gensim's name; NaN without ``compute_loss``)."""
        return self.epoch_losses[-1] if self.epoch_losses else math.nan

    @property
    def wv(self):
        """The trained vectors as :class:`~.keyed_vectors.KeyedVectors` (sharing :attr:`vectors`)."""
        from .keyed_vectors import KeyedVectors

        if self.vectors is None:
            raise ValueError("the model has no vectors yet: build its vocabulary or train it first")
        return KeyedVectors(self.vectors, self.vocab, copy=False)

    def __repr__(self) -> str:
        n = 0 if self.vocab is None else len(self.vocab)
        return (f"Word2Vec(vocab={n}, vector_size={self.vector_size}, {'skip-gram' if self.sg else 'CBOW'}, "
                f"window={self.window}, negative={self.negative}, epochs trained={self._epochs_trained})")


def _check_alphas(alpha, min_alpha):
    alpha = check_scalar(alpha, "alpha", lo=0.0, lo_open=True)
    min_alpha = check_scalar(min_alpha, "min_alpha", lo=0.0)
    if min_alpha > alpha:
        raise ValueError(f"min_alpha must be <= alpha (the rate decays from alpha to min_alpha), got alpha={alpha!r}, "
                         f"min_alpha={min_alpha!r}")
    return alpha, min_alpha


def _check_trainable(corpus, epochs):
    """Refuse a corpus with no token, or more corpus positions than the epoch kernel counts (int64)."""
    n_tok = corpus.n_tokens
    if n_tok == 0:
        raise ValueError("sentences hold no word of the vocabulary: nothing to train on")
    if epochs * n_tok > _INT63:
        raise ValueError(f"epochs={epochs} over {n_tok} tokens is {epochs * n_tok} corpus positions, more than the "
                         f"training counter holds (2**63 - 1)")


def _check_callbacks(callbacks):
    if callbacks is None:
        return ()
    if not hasattr(callbacks, "__iter__") or isinstance(callbacks, (str, bytes)):
        raise TypeError(f"callbacks must be a sequence of callback objects, got {type(callbacks).__name__}")
    callbacks = tuple(callbacks)
    for i, cb in enumerate(callbacks):
        if not (callable(getattr(cb, "on_epoch_begin", None)) or callable(getattr(cb, "on_epoch_end", None))):
            raise TypeError(f"callbacks[{i}] has neither an on_epoch_begin nor an on_epoch_end method")
        for hook in ("on_epoch_begin", "on_epoch_end"):
            if hasattr(cb, hook) and not callable(getattr(cb, hook)):
                raise TypeError(f"callbacks[{i}].{hook} is {type(getattr(cb, hook)).__name__}, not a method")
    return callbacks


def _call_cuts(offsets, tokens):
    """Sentence indices cutting the corpus into calls of about ``tokens`` tokens (whole sentences)."""
    n = offsets.size - 1
    targets = np.arange(tokens, int(offsets[-1]), tokens)
    cuts = np.searchsorted(offsets, targets)
    return np.unique(np.concatenate([[0], np.clip(cuts, 0, n), [n]])).astype(np.int64)


__all__ = ["MAX_SENTENCE_LENGTH", "Word2Vec"]
