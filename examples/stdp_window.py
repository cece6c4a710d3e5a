"""The STDP learning window: the analytic curve and 100 spike pairs run through a fastkernels Network.

Pair-based STDP (the Brian2 tutorial's Part II, seed 000): a pair with ``Delta t = t_post - t_pre``
changes the weight by ``W(Delta t) = A_pre exp(-Delta t / tau_pre)`` for ``Delta t >= 0``
(potentiation) and ``A_post exp(Delta t / tau_post)`` for ``Delta t < 0`` (depression), with
tau_pre = tau_post = 20 ms, A_pre = 0.01, A_post = -1.05 A_pre. ``STDP().window(dt)`` is that curve.

The tutorial's check: 100 presynaptic generators spike at ``i * 50 / 99`` ms, 100 postsynaptic
ones at ``(99 - i) * 50 / 99`` ms, one synapse ``i -> i`` each (``one_to_one``), weights from 0
and unbounded. The network keeps the two traces (``a_pre``, ``a_post``) and applies Brian2's
``on_pre``/``on_post`` updates, so each final weight is one pair's ``W``: the dots lie on the
curve, off it only by the 0.1 ms quantisation of the spike times (at most 3.2e-5). Writes
stdp_window.png.

    python examples/stdp_window.py [--pairs 100] [--tmax 50] [--out stdp_window.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.networks import (  # noqa: E402
    STDP,
    Network,
    SpikeGeneratorGroup,
    Synapses,
    one_to_one,
)


def first_step_after(t_ms, dt=0.1):
    """Brian2's ``threshold='t > tspike'``: the spike comes in the first step ``k`` with
    ``k dt > tspike`` (compared in seconds, as Brian2 does, so the grid's float rounding is the same)."""
    ts, h = np.asarray(t_ms) * 1e-3, dt * 1e-3
    k = np.floor(ts / h).astype(np.int64)
    k = np.where((k - 1) * h > ts, k - 1, k)
    return np.where(k * h > ts, k, k + 1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--pairs", type=int, default=100, help="number of pre/post pairs (N in the tutorial), >= 2")
    p.add_argument("--tmax", type=float, default=50.0, help="ms: Delta t runs from +tmax (pair 0) to -tmax (the last pair)")
    p.add_argument("--out", default="stdp_window.png", help="output figure (PNG)")
    args = p.parse_args()
    n, tmax, dt = args.pairs, args.tmax, 0.1

    # the tutorial's rule without clipping: w_min = -inf, w_max = inf (the default clips to [0, 0.01])
    rule = STDP(tau_pre=20.0, tau_post=20.0, A_pre=0.01, w_min=-np.inf, w_max=np.inf)  # A_post = -0.0105

    # pair i: pre at i tmax/(n-1), post at (n-1-i) tmax/(n-1)
    i = np.arange(n)
    t_pre, t_post = i * tmax / (n - 1), (n - 1 - i) * tmax / (n - 1)
    pre = SpikeGeneratorGroup(n, i, first_step_after(t_pre, dt) * dt)
    post = SpikeGeneratorGroup(n, i, first_step_after(t_post, dt) * dt)
    # on_pre=None: the spikes only drive plasticity (generators have no membrane to jump)
    S = Synapses(pre, post, one_to_one(n, weight=0.0), on_pre=None, stdp=rule)
    Network(pre, post, S, dt=dt).run(tmax + 1.0)

    delta_t = t_post - t_pre  # the nominal time differences, before quantisation to the grid
    deviation = np.abs(S.weight - rule.window(delta_t)).max()
    print(f"{n} pairs, Delta t from {delta_t[0]:+.1f} to {delta_t[-1]:+.1f} ms")
    print(f"w[0] = {S.weight[0]:.6g} (Delta t = {delta_t[0]:+.2f} ms), w[{n // 2 - 1}] = {S.weight[n // 2 - 1]:.6g}, "
          f"w[{n // 2}] = {S.weight[n // 2]:.6g}, w[{n - 1}] = {S.weight[-1]:.6g}")
    print(f"sum of w = {S.weight.sum():.7f}; window integral A_pre tau_pre + A_post tau_post = {rule.integral:.4f} ms")
    print(f"max |w - W(Delta t)| = {deviation:.3g} (spike times on the 0.1 ms grid; tutorial: <= 3.2e-5)")

    d = np.linspace(-tmax, tmax, 2001)
    fig, ax = plt.subplots(1, 2, figsize=(11, 4.2))
    ax[0].plot(d, rule.window(d), "-k", lw=1.2, label="STDP().window(Delta t)")
    ax[0].plot(delta_t, S.weight, "o", ms=3.5, mfc="none", label=f"{n} pairs through Network.run")
    ax[0].axhline(0, color="gray", lw=0.8)
    ax[0].axvline(0, color="gray", lw=0.8)
    ax[0].set(xlabel="Delta t = t_post - t_pre (ms)", ylabel="Delta w", ylim=(rule.A_post * 1.1, -rule.A_post * 1.1),
              title="STDP learning window")
    ax[0].legend(fontsize="small")
    ax[1].plot(delta_t, (S.weight - rule.window(delta_t)) * 1e6, "o", ms=3)
    ax[1].axhline(0, color="gray", lw=0.8)
    ax[1].set(xlabel="Delta t (ms)", ylabel="w - W(Delta t)  (x 1e-6)",
              title=f"quantisation to the 0.1 ms grid: max {deviation:.2g}")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
