"""The 8-3-8 autoencoder: eight one-hot patterns squeezed through three hidden units.

The classic backprop demonstration (seed 001, section 8): the network must invent a
3-unit code for 8 patterns. Prints the learned hidden codes (close to a binary code)
and plots them (autoencoder_838.png).

    python examples/autoencoder_838.py [--epochs 3000]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import fastkernels as fk  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--epochs", type=int, default=3000,
                   help="training epochs (full-batch Adam steps over the 8 patterns)")
    p.add_argument("--out", default="autoencoder_838.png", help="output figure (PNG)")
    args = p.parse_args()

    patterns = np.eye(8, dtype=np.float32)
    ae = fk.nn.MLP([8, 3, 8], "sigmoid", "sigmoid", epochs=args.epochs, batch_size=8, optimizer="adam", lr=0.05,
                   seed=1)
    ae.fit(patterns, patterns)
    recon = ae.predict_proba(patterns)
    codes = fk.nn.dense_forward(patterns, ae.params[("W", 0)], ae.params[("b", 0)], "sigmoid")[0]
    print("pattern -> hidden code -> reconstructed correctly?")
    for i in range(8):
        print(f"  {i}  {np.round(codes[i], 2)}  {bool(np.argmax(recon[i]) == i)}")
    print(f"final loss {ae.loss_curve_[-1]:.4f}")

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(8, 3.5))
    im = a1.imshow(codes, cmap="gray_r", vmin=0, vmax=1)
    a1.set(title="hidden codes (3 units)", xlabel="hidden unit", ylabel="input pattern (one-hot index)",
           xticks=range(3), yticks=range(8))
    fig.colorbar(im, ax=a1, label="hidden activation (sigmoid, 0 to 1)")
    a2.semilogy(ae.loss_curve_)
    a2.set(title="training loss", xlabel="epoch", ylabel="binary cross-entropy")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
