"""Benchmark cases of :mod:`fastkernels.word2vec` (see :mod:`fastkernels.bench.registry`).

One table of cases: the inputs and adapters are in :mod:`._bench_inputs`, the NumPy
baselines in :mod:`._reference` (shared with the tests), the output checks in
:mod:`._bench_checks`. Inputs: a synthetic Zipf corpus (10 M tokens in the "quick" and
"full" profiles) and, when gensim is installed, the real text it ships (``head500``).
Each baseline is the vectorised NumPy code a good user would write; ``generate_batch`` is
also timed against the TF tutorial's own Python/deque generator as a peer.
"""

from __future__ import annotations

from ..bench.registry import Case, cpu_only, register
from . import _bench_checks as chk
from . import _bench_inputs as inp
from . import _reference as ref
from .batches import cbow_windows, skipgram_pairs
from .sampling import log_uniform_candidates

CASES = [
    Case(
        name="vocab_build",
        area="word2vec",
        description="count words of raw text and sort them (vs collections.Counter on str.split())",
        make_inputs=lambda corpus="zipf", n_tokens=0: (inp.text(corpus, n_tokens),),
        kernel=inp.fk_vocabulary,
        baseline=ref.counter_vocabulary,
        sizes=inp.sizes([dict(n_tokens=3000)], [dict(n_tokens=10_000_000)], head500={}),
        label=inp.label,
        check=chk.check_vocabulary,
    ),
    Case(
        name="skipgram_pairs",
        area="word2vec",
        description="all skip-gram pairs, window 5 shrunk per centre as word2vec.c, within sentences",
        make_inputs=inp.pairs_inputs,
        kernel=lambda c, window, wkey, out, backend: skipgram_pairs(c, window, seed=0, out=out, backend=backend),
        baseline=lambda c, window, wkey, out: ref.numpy_skipgram_pairs(c.ids, c.offsets, window, wkey),
        sizes=inp.sizes([dict(n_tokens=2000), dict(n_tokens=2000, reuse=True)],
                        [dict(n_tokens=10_000_000), dict(n_tokens=10_000_000, reuse=True)], head500={}),
        label=lambda corpus="zipf", n_tokens=0, reuse=False: (
            inp.label(corpus, n_tokens) + (" (out= reused)" if reuse else "")),
        check=chk.check_pairs,
        unsupported=lambda backend, reuse=False, **size: (
            "out= is for host backends" if reuse and backend == "cuda" else None),
    ),
    Case(
        name="cbow_windows",
        area="word2vec",
        description="every token's context row for CBOW (window 5 shrunk as word2vec.c, padded with -1)",
        make_inputs=inp.cbow_inputs,
        kernel=lambda c, window, wkey, backend: cbow_windows(c, window, seed=0, backend=backend),
        baseline=lambda c, window, wkey: ref.numpy_cbow_windows(c.ids, c.offsets, window, wkey),
        sizes=inp.sizes([dict(n_tokens=2000)], [dict(n_tokens=10_000_000)], head500={}),
        label=inp.label,
        check=chk.check_exact,
    ),
    Case(
        name="generate_batch",
        area="word2vec",
        description="TF tutorial generate_batch(128, num_skips=2, skip_window=1): one call, and 1000 batches per call",
        make_inputs=inp.batch_inputs,
        kernel=inp.fk_batches,
        baseline=inp.numpy_batches,
        sizes=inp.sizes([dict(n_batches=1, n_tokens=500), dict(n_batches=7, n_tokens=500)],
                        [dict(n_batches=1, n_tokens=10_000_000), dict(n_batches=1000, n_tokens=10_000_000)],
                        head500=dict(n_batches=1000)),
        label=lambda n_batches, corpus="zipf", n_tokens=0: inp.label(corpus, n_tokens, batches=n_batches),
        peers={"tutorial (Python deque)": inp.tutorial_batches},
        check=chk.check_batches,
    ),
    Case(
        name="negative_sampling",
        area="word2vec",
        description="k=5 negatives per row from unigram^0.75 (alias table) vs Generator.choice(p=...)",
        make_inputs=inp.sampler_inputs,
        kernel=lambda sampler, n, k, backend: sampler.sample(n, k, seed=0, backend=backend),
        baseline=ref.numpy_negatives,
        sizes=inp.sizes([dict(n=4000, n_tokens=2000, n_words=20)], [dict(n=1_000_000, n_tokens=10_000_000)],
                        head500=dict(n=1_000_000)),
        label=lambda n, k=5, corpus="zipf", n_tokens=0, n_words=50_000: (
            f"{n:,}x{k} from {'head500' if corpus == 'head500' else f'{n_words:,}'} words"),
        check=chk.check_same_distribution,
    ),
    Case(
        name="subsample",
        area="word2vec",
        description="drop frequent words' tokens (word2vec keep probability, sample=1e-3)",
        make_inputs=inp.subsample_inputs,
        kernel=inp.fk_subsample,
        baseline=ref.numpy_subsample,
        sizes=inp.sizes([dict(n_tokens=20_000)], [dict(n_tokens=10_000_000)], head500={}),
        label=inp.label,
        check=chk.check_subsample,
    ),
    Case(
        name="log_uniform_candidates",
        area="word2vec",
        description="tf.nn.nce_loss's log-uniform candidate sampler: 64 distinct of 50k (one training step), "
                    "1M with replacement",
        make_inputs=inp.log_uniform_inputs,
        # no backend argument: one serial compiled call (a candidate set is too small to split)
        kernel=lambda true, num_sampled, range_max, unique, backend: log_uniform_candidates(
            true, num_sampled, range_max, unique=unique, seed=0, backend=backend),
        baseline=ref.numpy_log_uniform_candidates,
        sizes={"test": [dict(num_sampled=16, range_max=100), dict(num_sampled=2000, range_max=100, unique=False)],
               "quick": [dict(num_sampled=64), dict(num_sampled=1_000_000, unique=False)],
               "full": [dict(num_sampled=64), dict(num_sampled=4096), dict(num_sampled=10_000_000, unique=False)]},
        label=lambda num_sampled, range_max=50_000, unique=True: (
            f"{num_sampled:,} of {range_max:,} classes, {'distinct' if unique else 'with replacement'}"),
        check=chk.check_log_uniform,
        unsupported=cpu_only,
    ),
]

for _case in CASES:
    register(_case)

from . import _bench_train  # noqa: E402, F401  (registers word2vec_train)
from . import _bench_nce  # noqa: E402, F401  (registers word2vec_nce)
