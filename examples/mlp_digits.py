"""Train an MLP on scikit-learn's handwritten digits and plot what a user checks.

A template for a classifier: standardised inputs, a ReLU MLP trained with Adam and
early stopping, loss and accuracy curves and a confusion matrix (mlp_digits.png).
Needs scikit-learn (pip install "fastkernels[bench]").

    python examples/mlp_digits.py [--hidden 64 64] [--epochs 40] [--dropout 0.1] [--batch-norm]
                                  [--backend cuda]   # train on the GPU (pip install "fastkernels[cuda]")
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

import fastkernels as fk  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="+", default=[64],
                   help="sizes of the hidden ReLU layers, e.g. --hidden 64 64")
    p.add_argument("--epochs", type=int, default=40,
                   help="most training epochs (early stopping after 5 without validation gain)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--dropout", type=float, default=0.0, help="dropout probability of the hidden units, in [0, 1)")
    p.add_argument("--batch-norm", action="store_true", help="batch normalisation after each hidden layer")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"],
                   help="where the kernels run: auto (picks by size), cpu (serial), parallel (threads), "
                        "cuda (an NVIDIA GPU)")
    p.add_argument("--out", default="mlp_digits.png", help="output figure (PNG)")
    args = p.parse_args()

    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(y))
    X, y = X[order].astype(np.float32) / 16.0, y[order]
    n_test, n_val = len(y) // 5, len(y) // 10
    Xte, yte = X[:n_test], y[:n_test]
    Xva, yva = X[n_test:n_test + n_val], y[n_test:n_test + n_val]
    Xtr, ytr = X[n_test + n_val:], y[n_test + n_val:]

    # a scikit-learn style estimator: hyper-parameters in the constructor, fit returns the model
    model = fk.nn.MLP([64, *args.hidden, 10], "relu", dropout=args.dropout, batch_norm=args.batch_norm,
                      epochs=args.epochs, batch_size=32, optimizer="adam", lr=args.lr, early_stopping=5,
                      verbose=True, seed=0, backend=args.backend)
    model.fit(Xtr, ytr, validation_data=(Xva, yva))
    hist = model.history_  # per-epoch loss and accuracy, training and validation
    acc = model.score(Xte, yte)
    print(f"test accuracy {acc:.3f}")

    pred = model.predict(Xte)
    confusion = np.zeros((10, 10), int)
    np.add.at(confusion, (yte, pred), 1)
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    epochs = np.arange(1, len(hist["loss"]) + 1)
    axes[0].plot(epochs, hist["loss"], label="train")
    axes[0].plot(epochs, hist["val_loss"], label="validation")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    axes[0].legend()
    axes[1].plot(epochs, hist["accuracy"], label="train")
    axes[1].plot(epochs, hist["val_accuracy"], label="validation")
    low = min(0.5, float(np.min(hist["accuracy"])), float(np.min(hist["val_accuracy"])))  # never clip a curve
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(low - 0.02, 1.01))
    axes[1].legend(loc="lower right")
    for a in axes[:2]:
        a.xaxis.set_major_locator(MaxNLocator(integer=True))
    im = axes[2].imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if confusion[i, j]:
                axes[2].text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                             color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    axes[2].set(xlabel="predicted", ylabel="true", title=f"test confusion (accuracy {acc:.3f})",
                xticks=range(10), yticks=range(10))
    fig.colorbar(im, ax=axes[2], fraction=0.046, label="test samples")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
