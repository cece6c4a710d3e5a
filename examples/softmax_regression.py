"""Softmax regression trained with the fused softmax-cross-entropy kernel.

A template for any classifier's output layer: logits = X @ W.T + b, then one
call returns the loss and dL/dlogits, and the weight gradients are two matmuls.
Uses scikit-learn's digits when installed (pip install "fastkernels[bench]"),
else three synthetic Gaussian classes. Writes softmax_regression.png.

    python examples/softmax_regression.py [--epochs 60] [--smoothing 0.1] [--backend parallel]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastkernels as fk  # noqa: E402


def load_data(rng):
    try:
        from sklearn.datasets import load_digits

        d = load_digits()
        X, y, name = d.data.astype(np.float32) / 16.0, d.target, "digits (8x8)"
    except ImportError:
        centres = rng.standard_normal((3, 20)) * 0.5
        y = rng.integers(0, 3, 1500)
        X, name = (centres[y] + rng.standard_normal((1500, 20))).astype(np.float32), "synthetic blobs"
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    n_test = len(y) // 4
    return X[n_test:], y[n_test:], X[:n_test], y[:n_test], name


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=int, default=60, help="passes over the training set")
    p.add_argument("--lr", type=float, default=0.5, help="SGD learning rate (on the batch-mean loss)")
    p.add_argument("--batch", type=int, default=64, help="mini-batch size (samples)")
    p.add_argument("--smoothing", type=float, default=0.05, help="label smoothing of the training loss, in [0, 1)")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"],
                   help="where the kernels run: auto (picks by size), cpu (serial), parallel (threads), "
                        "cuda (an NVIDIA GPU)")
    p.add_argument("--out", default="softmax_regression.png", help="output figure (PNG)")
    args = p.parse_args()

    rng = np.random.default_rng(0)
    Xtr, ytr, Xte, yte, name = load_data(rng)
    n_classes = int(ytr.max()) + 1
    W = np.zeros((n_classes, Xtr.shape[1]), np.float32)  # (out, in), like torch.nn.Linear
    b = np.zeros(n_classes, np.float32)
    dlogits = np.empty((args.batch, n_classes), np.float32)  # reused gradient buffer

    history = []
    for epoch in range(args.epochs):
        order = rng.permutation(len(ytr))
        total = 0.0
        for start in range(0, len(order) - args.batch + 1, args.batch):
            idx = order[start:start + args.batch]
            logits = Xtr[idx] @ W.T + b
            loss, g = fk.nn.softmax_cross_entropy(logits, ytr[idx], label_smoothing=args.smoothing,
                                                  out=dlogits, backend=args.backend)
            W -= args.lr * (g.T @ Xtr[idx])  # dL/dW = dlogits.T @ X
            b -= args.lr * g.sum(axis=0)
            total += float(loss) * len(idx)
        test_loss = fk.nn.softmax_cross_entropy(Xte @ W.T + b, yte, return_grad=False)
        acc = np.mean((Xte @ W.T + b).argmax(axis=1) == yte)
        history.append((total / len(ytr), float(test_loss), acc))
        if epoch % 10 == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch:3d}  train loss {history[-1][0]:.4f}  test loss {test_loss:.4f}  test acc {acc:.3f}")

    h = np.array(history)
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 3.5))
    a1.plot(h[:, 0], label=f"train (label smoothing {args.smoothing})")
    a1.plot(h[:, 1], label="test")
    a1.set(xlabel="epoch", ylabel="cross-entropy", title=f"softmax regression on {name}")
    a1.legend()
    a2.plot(h[:, 2])
    a2.set(xlabel="epoch", ylabel="test accuracy", ylim=(0, 1))
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"final test accuracy {h[-1, 2]:.3f}; wrote {args.out}")


if __name__ == "__main__":
    main()
