"""The TensorFlow word2vec tutorial's run (seed 000), compiled: skip-gram batches from
generate_batch, tf.nn.nce_loss with 64 shared log-uniform samples per batch, SGD at rate 1.0.

Prints the tutorial's average loss every 2000 steps and the nearest neighbours of frequent words,
and plots the loss curve beside the values the tutorial printed on text8 (word2vec_nce.png).
The tutorial's corpus is text8 (http://mattmahoney.net/dc/text8.zip, 17M tokens, one line); pass
it with --corpus. By default it trains on gensim's head500 Wikipedia sample when gensim is
installed, else on Zipf-distributed ids (whose loss curve only is meaningful).

    python examples/word2vec_nce.py [--corpus text8] [--steps 20001] [--out word2vec_nce.png]
"""

import argparse
import importlib.util
import os
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels import word2vec as w2v  # noqa: E402

#: The tutorial's printed averages on text8 (step: loss), seed 000 lines 1684-1746.
TUTORIAL = {0: 288.3, 2000: 113.4, 4000: 52.6, 6000: 33.4, 8000: 23.7, 10000: 18.1,
            92000: 4.71, 94000: 4.63, 96000: 4.73, 98000: 4.63, 100000: 4.70}


def head500():
    spec = importlib.util.find_spec("gensim")
    if spec is None:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "test", "test_data", "head500.noblanks.cor")
    return path if os.path.isfile(path) else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="whitespace text file (text8 for the tutorial's own run)")
    ap.add_argument("--steps", type=int, default=20001, help="SGD steps of 128 pairs (the tutorial: 100001)")
    ap.add_argument("--vocabulary-size", type=int, default=50000, help="most frequent words kept, the rest UNK")
    ap.add_argument("--out", default="word2vec_nce.png", help="the loss-curve figure (PNG)")
    args = ap.parse_args()

    source = args.corpus or head500()
    if source:  # the tutorial's vocabulary: the most frequent words, everything else UNK (id 0)
        corpus, vocab = w2v.read_corpus(source, min_count=1, max_size=args.vocabulary_size - 1, unk="UNK")
        data, size = corpus.ids, vocab
        print(f"{source}: {corpus.n_tokens} tokens, {len(vocab)} words")
    else:
        v = args.vocabulary_size
        u = np.random.default_rng(0).random(1_000_000)
        data, size = np.clip(np.exp(u * np.log(v + 1.0)).astype(np.int64) - 1, 0, v - 1), v
        print(f"no corpus: {data.size} Zipf-distributed ids over {v} words")

    model = w2v.NCEWord2Vec(size, embedding_size=128, seed=1)
    t0 = time.perf_counter()
    losses = model.train(data, args.steps, batch_size=128, num_skips=2, skip_window=1, num_sampled=64,
                         learning_rate=1.0)
    dt = time.perf_counter() - t0
    curve = model.average_losses(losses, every=2000)
    for step, loss in curve:
        print(f"Average loss at step {step}: {loss:.3f}")
    print(f"{args.steps} steps in {dt:.1f} s ({dt / args.steps * 1e3:.2f} ms a step, compile included)")

    if source:
        wv = model.wv
        for word in [w for w in ("one", "four", "city", "war", "he", "was") if w in wv][:4]:
            print(f"nearest to {word}: " + ", ".join(w for w, _ in wv.most_similar(word, topn=8)))

    fig, ax = plt.subplots(figsize=(6.4, 4))
    x = np.arange(losses.size)
    window = min(200, losses.size)
    smooth = np.convolve(losses, np.ones(window) / window, mode="valid")
    ax.plot(x, losses, color="0.8", lw=0.5, label="loss of each batch")
    ax.plot(x[window - 1:], smooth, color="C0", label=f"running mean of {window} batches")
    ax.plot(*zip(*[(s, l) for s, l in curve]), "o", color="C0", ms=4, label="average every 2000 steps (this run)")
    ax.plot(*zip(*TUTORIAL.items()), "s", color="C3", ms=4, label="the tutorial's printout (text8)")
    ax.set_yscale("log")
    ax.set_xlabel("SGD step (batch of 128 pairs)")
    ax.set_ylabel("NCE loss per example")
    ax.set_title("TF tutorial's word2vec (NCE, 64 log-uniform samples)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
