"""Train word2vec, query it, evaluate it and map it: the seeds' whole word2vec workflow.

Trains skip-gram with negative sampling (gensim's hyperparameters) on a whitespace text file
(default: gensim's head500 Wikipedia corpus when gensim is installed, else a generated corpus of
word clusters), prints the loss per epoch, the words/s, nearest neighbours of a few frequent
words and an analogy, scores the vectors on gensim's wordsim353 and SimLex-999 files when they
are there, saves them in word2vec.c's format, and plots a 2-D PCA map of chosen words
(word2vec_train.png).

    python examples/word2vec_train.py [--corpus FILE] [--epochs 5] [--workers 2] [--sg 1] [--out word2vec_train.png]
"""

import argparse
import importlib.util
import os
import tempfile

import matplotlib

matplotlib.use("Agg")
import numpy as np  # noqa: E402

from fastkernels import word2vec as w2v  # noqa: E402
from fastkernels.word2vec.projection import plot_words  # noqa: E402


def gensim_data(name):
    """A file of gensim's shipped test data (head500, wordsim353, ...), or None without gensim."""
    spec = importlib.util.find_spec("gensim")
    if spec is None:
        return None
    path = os.path.join(spec.submodule_search_locations[0], "test", "test_data", name)
    return path if os.path.isfile(path) else None


def cluster_sentences(n_topics=6, per_topic=15, n_sentences=3000, length=15, seed=0):
    """Sentences each drawn from one topic's words (``animal3``, ``city7``, ...): a corpus whose
    right answer is known (neighbours share the topic)."""
    rng = np.random.default_rng(seed)
    topics = ["animal", "city", "colour", "food", "sport", "tool"][:n_topics]
    words = [[f"{t}{i}" for i in range(per_topic)] for t in topics]
    return [list(rng.choice(words[rng.integers(n_topics)], length)) for _ in range(n_sentences)]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", help="whitespace text file, one sentence per line (default: gensim's head500, "
                    "stemmed and without stop words, else generated topic sentences)")
    ap.add_argument("--epochs", type=int, default=5, help="passes over the corpus")
    ap.add_argument("--workers", type=int, default=2, help="threads (1: bit reproducible; more: Hogwild)")
    ap.add_argument("--sg", type=int, default=1, choices=(0, 1), help="1 skip-gram, 0 CBOW")
    ap.add_argument("--out", default="word2vec_train.png", help="the 2-D map of chosen words (PNG)")
    args = ap.parse_args()

    source = args.corpus or gensim_data("head500.noblanks.cor")
    sentences = source if source else cluster_sentences()
    model = w2v.Word2Vec(sentences, vector_size=100, window=5, min_count=5, sample=1e-3, negative=5, sg=args.sg,
                         epochs=args.epochs, workers=args.workers, seed=1, compute_loss=True)
    print(model)
    print(f"{model.words_per_second / 1e3:.0f}k words/s; mean loss per example by epoch: "
          + ", ".join(f"{x:.3f}" for x in model.epoch_losses))

    wv = model.wv
    queries = [w for w in (["city", "music", "war", "king"] if source else ["animal0", "city0", "food0"]) if w in wv]
    for word in queries[:3]:
        near = ", ".join(f"{w} ({s:.2f})" for w, s in wv.most_similar(word, topn=6))
        print(f"nearest to {word!r}: {near}")
    a, b, c = ("man", "king", "woman") if source else ("animal1", "animal2", "city1")
    if all(w in wv for w in (a, b, c)):
        print(f"{a} : {b} :: {c} : {wv.most_similar(positive=[b, c], negative=[a], topn=3)}")

    for name in ("wordsim353.tsv", "simlex999.txt"):
        path = gensim_data(name)
        if path and source:
            (r, _), (rho, _), oov = wv.evaluate_word_pairs(path)
            print(f"{name}: Spearman {rho:.3f}, Pearson {r:.3f} ({oov:.0f}% of pairs out of vocabulary)")

    with tempfile.TemporaryDirectory() as tmp:  # word2vec.c's binary format (gensim and word2vec.c read it)
        path = os.path.join(tmp, "vectors.bin")
        wv.save_word2vec_format(path, binary=True)
        back = w2v.KeyedVectors.load_word2vec_format(path, binary=True)
        print(f"saved and reloaded {len(back)} vectors in word2vec.c's binary format "
              f"({os.path.getsize(path) / 1e6:.1f} MB)")

    chosen = [w for w in wv.index_to_key[:200] if w.isalpha()][20:60] if source else wv.index_to_key[::3]
    ax = plot_words(wv, chosen, path=args.out)
    ax.figure.suptitle(f"{'skip-gram' if args.sg else 'CBOW'} vectors, PCA of {len(chosen)} words")
    ax.figure.savefig(args.out, dpi=120)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
