"""Fit a regression MLP (linear output, MSE) and plot the fit: a template for curve fitting.

Learns y = sin(3x) * exp(-x^2 / 2) + noise on x in [-3, 3] with a tanh MLP trained
with Adam, holding out a validation split with early stopping. Shows the fit against
the truth, the residuals and the loss curves (mlp_regression.png), and prints R^2.

    python examples/mlp_regression.py [--hidden 64 64] [--epochs 300] [--noise 0.1]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastkernels as fk  # noqa: E402


def target(x):
    return np.sin(3 * x) * np.exp(-x ** 2 / 2)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--hidden", type=int, nargs="+", default=[64, 64],
                   help="sizes of the hidden tanh layers, e.g. --hidden 64 64")
    p.add_argument("--epochs", type=int, default=300,
                   help="most training epochs (early stopping after 30 without validation gain)")
    p.add_argument("--lr", type=float, default=3e-3, help="Adam learning rate")
    p.add_argument("--noise", type=float, default=0.1, help="standard deviation of the Gaussian noise on y")
    p.add_argument("--out", default="mlp_regression.png", help="output figure (PNG)")
    args = p.parse_args()

    rng = np.random.default_rng(0)
    x = rng.uniform(-3, 3, (2000, 1)).astype(np.float32)  # inputs: (samples, features)
    y = (target(x[:, 0]) + args.noise * rng.standard_normal(len(x))).astype(np.float32)  # a 1-D target
    x_val = rng.uniform(-3, 3, (400, 1)).astype(np.float32)
    y_val = (target(x_val[:, 0]) + args.noise * rng.standard_normal(len(x_val))).astype(np.float32)

    model = fk.nn.MLP([1, *args.hidden, 1], activation="tanh", output="linear", epochs=args.epochs, batch_size=64,
                      optimizer="adam", lr=args.lr, early_stopping=30, seed=0)
    model.fit(x, y, validation_data=(x_val, y_val))
    hist = model.history_
    grid = np.linspace(-3, 3, 400, dtype=np.float32)[:, None]
    pred = model.predict(grid)  # shape (400,): the model was fit on a 1-D target
    print(f"{model.n_iter_} epochs; validation R^2 = {model.score(x_val, y_val):.3f} "
          f"(noise floor: R^2 <= {1 - args.noise ** 2 / np.var(y_val):.3f})")

    fig, ax = plt.subplots(1, 3, figsize=(14, 4))
    ax[0].plot(x[:, 0], y, ".", ms=2, alpha=0.3, label="training data")
    ax[0].plot(grid[:, 0], target(grid[:, 0]), "-k", label="truth")
    ax[0].plot(grid[:, 0], pred, "-r", label="MLP")
    ax[0].set(xlabel="x", ylabel="y", title="fit")
    ax[0].legend(fontsize="small")
    res = model.predict(x_val) - y_val
    ax[1].plot(x_val[:, 0], res, ".", ms=3)
    ax[1].axhline(0, color="k", lw=0.5)
    ax[1].set(xlabel="x", ylabel="prediction - target", title="validation residuals")
    ax[2].semilogy(hist["loss"], label="training")
    ax[2].semilogy(hist["val_loss"], label="validation")
    ax[2].set(xlabel="epoch", ylabel="MSE", title="loss")
    ax[2].legend()
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
