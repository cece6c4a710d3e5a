"""Skip-gram training data from text: vocabulary, subsampling, pairs and negatives.

A template for the data side of word2vec. It reads a whitespace text file (default:
gensim's head500 Wikipedia sample when gensim is installed: 331k tokens, Porter-stemmed
("includ", "retriev") with stop words removed, so "the" is not its top word; else a
generated Zipf corpus), builds the vocabulary (min_count=5, as gensim), subsamples frequent words
(sample=1e-3), generates every skip-gram pair with word2vec.c's reduced windows and
5 negatives per pair from unigram^0.75, prints a few of each with timings, and plots
the word, subsampled and noise distributions against frequency rank
(word2vec_batches.png).

    python examples/word2vec_batches.py [--corpus FILE] [--window 5] [--negative 5] [--out word2vec_batches.png]
"""

import argparse
import importlib.util
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastkernels as fk  # noqa: E402
from fastkernels import word2vec as w2v  # noqa: E402


def default_corpus():
    """gensim's head500.noblanks.cor if gensim is installed, else None."""
    spec = importlib.util.find_spec("gensim")
    if spec is None:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "test", "test_data", "head500.noblanks.cor")
    return path if os.path.isfile(path) else None


def zipf_text(n_tokens=300_000, n_words=20_000, seed=0):
    """Whitespace text whose word counts follow Zipf's law, 1-40 words per line."""
    rng = np.random.default_rng(seed)
    words = np.array([f"w{i}" for i in range(n_words)], dtype=object)
    cdf = np.cumsum(1.0 / np.arange(1, n_words + 1))
    tokens = words[np.searchsorted(cdf, rng.random(n_tokens) * cdf[-1])].tolist()
    cuts = np.cumsum(rng.integers(1, 40, n_tokens)).tolist()
    lines = [" ".join(tokens[a:b]) for a, b in zip([0, *cuts], cuts) if a < n_tokens]
    return "\n".join(lines).encode()


def timed(label, fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    print(f"  {label:<34s} {1e3 * (time.perf_counter() - t0):8.1f} ms")
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", help="whitespace text file, one sentence per line (default: gensim's head500, "
                   "stemmed and without stop words)")
    p.add_argument("--window", type=int, default=5, help="largest context distance (reduced windows: 1..window)")
    p.add_argument("--negative", type=int, default=5, help="noise words per pair")
    p.add_argument("--sample", type=float, default=1e-3, help="subsampling threshold (0: keep every token)")
    p.add_argument("--seed", type=int, default=1, help="seed of every draw")
    p.add_argument("--out", default="word2vec_batches.png", help="the figure (PNG)")
    args = p.parse_args()

    source = args.corpus or default_corpus()
    if source is None:
        print("gensim is not installed: using a generated Zipf corpus")
        source = zipf_text()
    fk.warmup(["word2vec"], backends=("parallel",), dtypes=("float32",))  # compile (or load) once, up front
    gpu = fk.cuda_available()  # backend="auto" asks once (importing numba.cuda); do it before timing

    print(f"corpus: {source if isinstance(source, str) else 'generated'}  "
          f"({fk.get_num_threads()} threads, CUDA {'available' if gpu else 'not available'})")
    corpus, vocab = timed("read + count + encode", w2v.read_corpus, source, min_count=5)
    keep = w2v.keep_probability(vocab, args.sample)
    kept = timed(f"subsample (sample={args.sample:g})", w2v.subsample, corpus, keep, seed=args.seed)
    centers, contexts = timed(f"skip-gram pairs (window={args.window})", w2v.skipgram_pairs, kept, args.window,
                              seed=args.seed)
    sampler = w2v.NegativeSampler(vocab, ns_exponent=0.75)
    negatives = timed(f"negatives ({args.negative} per pair)", sampler.sample, centers.size, args.negative,
                      exclude=contexts, seed=args.seed)
    print(f"{len(vocab):,} words, {corpus.n_tokens:,} tokens in {corpus.n_sentences:,} sentences; "
          f"{kept.n_tokens:,} kept after subsampling; {centers.size:,} pairs")
    print("most frequent:", ", ".join(f"{w} {c}" for w, c in zip(vocab.words[:8], vocab.counts[:8])))
    print("pairs (centre -> context | negatives):")
    for i in range(0, min(centers.size, 40), 5):
        c, x = vocab.decode([centers[i], contexts[i]])
        print(f"  {c:>12s} -> {x:<12s} | {' '.join(vocab.decode(negatives[i]))}")

    # the TF tutorial's mini-batch generator (centre repeated num_skips times)
    batch, labels, index = w2v.generate_batch(corpus, batch_size=8, num_skips=2, skip_window=1, seed=args.seed)
    print("generate_batch:", [f"{a}->{b}" for a, b in zip(vocab.decode(batch), vocab.decode(labels[:, 0]))])
    sampled, _, expected = w2v.log_uniform_candidates(labels, min(8, len(vocab)), len(vocab), seed=args.seed)
    print("log-uniform candidates (NCE):", vocab.decode(sampled), "expected counts", expected.round(3).tolist())

    ranks = np.arange(1, len(vocab) + 1)
    kept_counts = np.bincount(kept.ids, minlength=len(vocab))
    neg_counts = np.bincount(negatives.ravel(), minlength=len(vocab))
    unigram = vocab.counts / vocab.total
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4.2))
    # left: what subsampling keeps of each word (the curves themselves overlap below rank ~100)
    frac = kept_counts / np.maximum(vocab.counts, 1)
    ax1.semilogx(ranks, frac, "o", ms=4, alpha=0.7, color="C1", label="kept / occurrences, this run")
    ax1.semilogx(ranks, np.minimum(keep, 1.0), color="C0", lw=1.5, label="keep probability (word2vec.c)")
    whole = np.flatnonzero(keep >= 1.0)  # words past this rank are never dropped: show a decade beyond
    right = min(len(vocab), 10 * (int(whole[0]) + 1)) if whole.size else len(vocab)
    ax1.set(xlabel="frequency rank", ylabel="fraction of occurrences kept", ylim=(0, 1.05), xlim=(0.8, max(right, 10)),
            title=f"subsampling, sample={args.sample:g} (words past rank {right // 10} are all kept)")
    ax1.legend(loc="lower right", fontsize=8)
    # right: the noise distribution against the corpus's, and how the drawn negatives follow it
    drawn = neg_counts / max(negatives.size, 1)
    ax2.loglog(ranks, unigram, color="0.5", lw=1, label="unigram (corpus)")
    ax2.loglog(ranks, drawn, ".", ms=2, alpha=0.4, color="C3", label=f"drawn negatives ({negatives.size:,})")
    ax2.loglog(ranks, sampler.probabilities, color="C2", lw=1.5, label="noise: unigram^0.75")
    lo = min(unigram.min(), sampler.probabilities[sampler.probabilities > 0].min())
    ax2.set(xlabel="frequency rank", ylabel="probability", title="negative sampling",
            ylim=(0.5 * lo, 2 * max(unigram.max(), sampler.probabilities.max())))
    ax2.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
