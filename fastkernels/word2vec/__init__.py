"""word2vec: vocabulary, corpus encoding, subsampling, skip-gram batches and pairs, CBOW
windows, negative and log-uniform sampling, and :class:`Word2Vec` training (skip-gram and
CBOW with negative sampling, gensim's names and defaults).

The pipeline a skip-gram trainer runs, each step one compiled call::

    corpus, vocab = read_corpus("text8", min_count=5)          # stream, count, encode
    kept = subsample(corpus, keep_probability(vocab, 1e-3), seed=1)
    centers, contexts = skipgram_pairs(kept, window=5, seed=1)  # word2vec.c's reduced windows
    negatives = NegativeSampler(vocab).sample(centers.size, 5, exclude=contexts, seed=1)

plus the TF tutorial's ``generate_batch`` and ``log_uniform_candidates`` (the
sampler of ``tf.nn.nce_loss``). Every random step takes ``seed`` and gives the
same result on ``"cpu"``, ``"parallel"`` (any thread count) and ``"cuda"``.

For compiled training loops the per-token cores are plain ``@device``
functions over arrays: :func:`batches.reduced_window`,
:func:`batches.context_span`, :func:`subsample.keep_token`,
:func:`sampling.draw_negative`, :func:`sampling.log_uniform_unique`, with their
stream keys from :func:`batches.window_key`, :func:`subsample.subsample_key`
and :func:`sampling.negative_key`.
"""

import numpy as np

from .batches import cbow_windows, pair_counts, skipgram_pairs
from .corpus import Corpus
from .reading import read_corpus
from .sampling import NegativeSampler, log_uniform_candidates, log_uniform_probability
from .subsample import keep_probability, subsample
from .tf_batches import generate_batch
from .evaluation import evaluate_word_analogies, evaluate_word_pairs
from .formats import save_word2vec_format
from .keyed_vectors import KeyedVectors, load_word2vec_format
from .model import Word2Vec
from .nce import NCEWord2Vec
from .projection import plot_words, project_2d
from .vocab import Vocabulary

__all__ = ["Corpus", "KeyedVectors", "NCEWord2Vec", "NegativeSampler", "Vocabulary", "Word2Vec", "cbow_windows",
           "evaluate_word_analogies", "evaluate_word_pairs", "generate_batch", "keep_probability",
           "load_word2vec_format", "log_uniform_candidates", "log_uniform_probability", "pair_counts", "plot_words",
           "project_2d", "read_corpus", "save_word2vec_format", "skipgram_pairs", "subsample"]


def _warmup(backend, dtype):
    """Compile this area's kernels for one backend (see ``fk.warmup``).

    The kernels work on integer ids, so ``dtype`` does not select anything; the
    id arrays are warmed as int32 (a Corpus) and int64 (NumPy's default).
    """
    from ._tokens import SEP_WHITESPACE, separator_table
    from ._word_table import PartTables, WordTable

    corpus, vocab = read_corpus([["a", "b", "a", "c"], ["b", "a"]], min_count=1)
    read_corpus(b"a b\nc a", vocab)
    vocab.encode(["a", "b"])
    # more words than the smallest table holds: the tables grow (a real corpus's do)
    many = np.frombuffer(" ".join(f"w{i}" for i in range(40)).encode(), np.uint8)
    WordTable(16).scan(many, final=True, sep=separator_table(SEP_WHITESPACE), insert=True, count_only=False)
    if backend != "cpu":  # the parallel text scan (real inputs are large enough to take it)
        WordTable(16).scan_parallel(many, final=True, sep=separator_table(SEP_WHITESPACE), insert=True,
                                    count_only=False, n_parts=2, parts=PartTables(1, 16))
    kept = subsample(corpus, keep_probability(vocab, 0.3), seed=0, backend=backend)
    skipgram_pairs(kept, 2, seed=0, backend=backend)
    cbow_windows(kept, 2, seed=0, backend=backend)
    if backend != "cuda":
        for ids in (corpus.ids, corpus.ids.astype(np.int64)):
            generate_batch(ids, 4, 2, 1, seed=0, backend=backend)
    sampler = NegativeSampler(vocab)
    sampler.sample(3, 2, seed=0, backend=backend)
    sampler.sample(3, 2, exclude=np.array([0, 1, 2], np.int32), seed=0, backend=backend)
    log_uniform_candidates([0, 1], 2, 3, seed=0)
    log_uniform_candidates([0, 1], 2, 3, unique=False, seed=0)
    # training: the serial or Hogwild epoch of each architecture, or the GPU's; and the tutorial's NCE steps (CPU)
    for sg in (0, 1):
        Word2Vec([["a", "b", "a", "c"], ["b", "a"]], vector_size=4, min_count=1, epochs=1, progress=False, sg=sg,
                 workers=1 if backend == "cpu" else 2, backend=backend)
    if backend != "cuda":
        NCEWord2Vec(4, 4, seed=0).train(np.array([0, 1, 2, 3, 0, 1, 0, 2]), 1, batch_size=4, num_sampled=2)
