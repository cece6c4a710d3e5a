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

import fastkernels as fk  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--hidden", type=int, nargs="+", default=[64])
    p.add_argument("--epochs", type=int, default=40)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--dropout", type=float, default=0.0)
    p.add_argument("--batch-norm", action="store_true")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"])
    p.add_argument("--out", default="mlp_digits.png")
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
    axes[0].plot(hist["loss"], label="train")
    axes[0].plot(hist["val_loss"], label="validation")
    axes[0].set(xlabel="epoch", ylabel="cross-entropy", title="loss")
    axes[0].legend()
    axes[1].plot(hist["accuracy"], label="train")
    axes[1].plot(hist["val_accuracy"], label="validation")
    axes[1].set(xlabel="epoch", ylabel="accuracy", title="accuracy", ylim=(0.5, 1.01))
    axes[1].legend()
    im = axes[2].imshow(confusion, cmap="Blues")
    for i in range(10):
        for j in range(10):
            if confusion[i, j]:
                axes[2].text(j, i, confusion[i, j], ha="center", va="center", fontsize=7,
                             color="white" if confusion[i, j] > confusion.max() / 2 else "black")
    axes[2].set(xlabel="predicted", ylabel="true", title=f"test confusion (accuracy {acc:.3f})",
                xticks=range(10), yticks=range(10))
    fig.colorbar(im, ax=axes[2], fraction=0.046)
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
