"""The Brian2 tutorial's Part II (Synapses), redone with fastkernels.networks.

Each panel is one of the tutorial's examples (numbers Y1-Y3, C1-C9 as in the notes on seed 000),
so a user following that tutorial can switch line by line. The tutorial's neurons,
``NeuronGroup(N, 'dv/dt = (I - v)/tau : 1', threshold='v > 1', reset='v = 0', method='exact')``
with per-neuron ``I`` and ``tau``, are ``NeuronGroup(N, LIF(tau_m=tau, tau_ref=0), I=I)``;
``Synapses(G, G, 'w : 1', on_pre='v_post += w')`` with ``S.connect(i=0, j=[1, 2])`` is
``Synapses(G, G, Connectivity.from_arrays([0, 0], [1, 2], weight=w, delay=d, ...), on_pre="v")``;
the connection rules (``condition='abs(i - j) < 4 and i != j'``, ``p=0.2``, distance-dependent
``p`` and ``w``) are :func:`neighbourhood`, :func:`bernoulli` and :func:`gaussian_distance`; and the
STDP synapse with ``on_pre``/``on_post`` trace updates is ``Synapses(..., stdp=STDP())``.
Writes brian2_tutorial_part2.png.

    python examples/brian2_tutorial_part2.py [--seed 0] [--out brian2_tutorial_part2.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.networks import (  # noqa: E402
    STDP,
    Connectivity,
    Network,
    NeuronGroup,
    SpikeGeneratorGroup,
    SpikeMonitor,
    StateMonitor,
    Synapses,
    bernoulli,
    gaussian_distance,
    neighbourhood,
)
from fastkernels.neurons import LIF  # noqa: E402


def tutorial_group(I, tau):
    """``dv/dt = (I - v)/tau``, threshold 1, reset 0, no refractoriness, exact integration, v(0) = 0."""
    return NeuronGroup(len(I), LIF(tau_m=np.asarray(tau, dtype=float), tau_ref=0.0), I=I, v0=0.0)


def run_traces(G, S, duration):
    """Run ``G`` and ``S`` for ``duration`` ms; ``(StateMonitor of every neuron, spike trains)``."""
    M, spikes = StateMonitor(G, True), SpikeMonitor(G)
    Network(G, S, M, spikes).run(duration)
    trains = spikes.spike_trains()
    return M, [np.round(trains[q], 1).tolist() for q in range(G.n)]  # every neuron is a key, as in Brian2


def plot_traces(ax, M, title, labels, colours=("b", "g", "r")):
    """One trace per neuron, labelled ``neuron q: <labels[q]>``, with the threshold v = 1 drawn."""
    for q in range(M.v.shape[0]):
        ax.plot(M.t, M.v[q], "-" + colours[q], lw=1.5 if q else 1.0, label=f"neuron {q}: {labels[q]}")
    ax.axhline(1.0, color="gray", lw=0.8, ls=":")
    ax.set(title=title, xlabel="time (ms)", ylabel="v (threshold 1)", ylim=(-0.05, 1.6))  # room for the legend
    ax.legend(fontsize="x-small", loc="upper right")


def spike_list(train):
    """``[42.0, 84.0]`` -> ``"42.0, 84.0"`` (``"none"`` when empty), for titles and prints."""
    return ", ".join(f"{t:.1f}" for t in train) or "none"


def visualise_connectivity(ax, c, title, style="-k"):
    """The tutorial's ``visualise_connectivity``: sources at x = 0, targets at x = 1, a line per synapse."""
    for i, j in zip(c.i, c.j):
        ax.plot([0, 1], [i, j], style, lw=0.8)
    ax.plot(np.zeros(c.n_pre), np.arange(c.n_pre), "ok", ms=6)
    ax.plot(np.ones(c.n_post), np.arange(c.n_post), "ok", ms=6)
    ax.set(xticks=[0, 1], xticklabels=["source", "target"], xlim=(-0.1, 1.1), ylim=(-1, max(c.n_pre, c.n_post)),
           ylabel="neuron index", title=title)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--seed", type=int, default=0, help="seed of the random connectivity rules (C1, C9)")
    p.add_argument("--out", default="brian2_tutorial_part2.png", help="output figure (PNG)")
    args = p.parse_args()
    fig, ax = plt.subplots(3, 3, figsize=(15, 12))

    # Y1: the simplest synapse. Neuron 0 (I = 2, tau 10 ms) fires regularly, each spike adds 0.2 to
    # the v of neuron 1 (I = 0, tau 100 ms), which reaches threshold only thanks to the synapse.
    G = tutorial_group([2.0, 0.0], [10.0, 100.0])
    S = Synapses(G, G, Connectivity.from_arrays([0], [1], weight=0.2, n_pre=2, n_post=2), on_pre="v")
    M, trains = run_traces(G, S, 100.0)
    print(f"Y1: neuron 1 spikes at {trains[1]} ms (tutorial: [42.0, 84.0]); neuron 0 {len(trains[0])} times")
    plot_traces(ax[0, 0], M, f"Y1: simplest synapse (neuron 1 spikes at {spike_list(trains[1])} ms)",
                ["I = 2, tau = 10 ms", "I = 0, tau = 100 ms, w = 0.2 from neuron 0"])

    # Y2: per-synapse weights, S.w = 'j * 0.2' for the synapses 0 -> 1 and 0 -> 2
    j = np.array([1, 2])
    G = tutorial_group([2.0, 0.0, 0.0], [10.0, 100.0, 100.0])
    S = Synapses(G, G, Connectivity.from_arrays([0, 0], j, weight=j * 0.2, n_pre=3, n_post=3), on_pre="v")
    M, trains = run_traces(G, S, 50.0)
    print(f"Y2: neuron 1 spikes at {trains[1]}, neuron 2 at {trains[2]} ms (tutorial: [42.0], [21.0, 42.0])")
    plot_traces(ax[0, 1], M, "Y2: weights w = j * 0.2",
                ["I = 2, tau = 10 ms", "I = 0, tau = 100 ms, w = 0.2", "I = 0, tau = 100 ms, w = 0.4"])

    # Y3: the same with axonal delays, S.delay = 'j * 2 * ms'
    G = tutorial_group([2.0, 0.0, 0.0], [10.0, 100.0, 100.0])
    S = Synapses(G, G, Connectivity.from_arrays([0, 0], j, weight=j * 0.2, delay=j * 2.0, n_pre=3, n_post=3),
                 on_pre="v")
    M, trains = run_traces(G, S, 50.0)
    print(f"Y3: neuron 1 spikes at {trains[1]}, neuron 2 at {trains[2]} ms (tutorial: [44.0], [25.0, 46.0])")
    plot_traces(ax[0, 2], M, "Y3: delays j * 2 ms",
                ["I = 2, tau = 10 ms", "w = 0.2, delay = 2 ms", "w = 0.4, delay = 4 ms"])

    # C1 / C4: connection rules on 10 neurons, drawn the tutorial's way
    c1 = bernoulli(10, 10, 0.2, condition="i != j", seed=args.seed)  # connect(condition='i != j', p=0.2)
    c4 = neighbourhood(10, 10, 3)  # connect(condition='abs(i - j) < 4 and i != j')
    print(f"C1: Bernoulli p = 0.2 without self-connections: {c1.n_synapses} synapses (expected 18 on average)")
    print(f"C4: |i - j| < 4, i != j: {c4.n_synapses} synapses (tutorial: 48)")
    visualise_connectivity(ax[1, 0], c1, f"C1: i != j, p = 0.2 ({c1.n_synapses} synapses)")
    visualise_connectivity(ax[1, 1], c4, f"C4: |i - j| < 4, i != j ({c4.n_synapses} synapses)")
    ax[1, 2].plot(c4.i, c4.j, "o", ms=9, mfc="none", label="C4: |i - j| < 4, i != j")
    ax[1, 2].plot(c1.i, c1.j, "xk", ms=6, label="C1: i != j, p = 0.2")
    ax[1, 2].set(xlim=(-1, 10), ylim=(-1, 11.5), yticks=range(10), xticks=range(10), xlabel="source neuron index",
                 ylabel="target neuron index", title="connectivity matrices")  # the rows above 9: the legend
    ax[1, 2].legend(fontsize="x-small", loc="upper center", ncol=2)

    # C7 / C9: 30 neurons 50 um apart; weight (C7) and also probability (C9) fall off with distance
    # as exp(-(x_pre - x_post)^2 / (2 width^2)), width = N / 4 * spacing = 375 um
    x = np.arange(30) * 50.0
    width = 30 / 4.0 * 50.0
    c7 = gaussian_distance(x, sigma=None, weight_max=1.0, weight_sigma=width, self_connections=False)
    c9 = gaussian_distance(x, sigma=width, p_max=1.0, weight_max=1.0, weight_sigma=width, self_connections=False,
                           seed=args.seed)
    d = x[:, None] - x[None, :]
    expected_c9 = np.exp(-d ** 2 / (2 * width ** 2)).sum() - 30
    print(f"C7: {c7.n_synapses} synapses, w in [{c7.weight.min():.4e}, {c7.weight.max():.5f}] "
          f"(tutorial: 870, [5.6677e-04, 0.99115])")
    print(f"C9: {c9.n_synapses} synapses (expected {expected_c9:.2f} on average)")
    ax[2, 0].scatter(x[c7.i], x[c7.j], s=c7.weight * 20, c="k")
    ax[2, 0].set(title="C7: all pairs, weight by distance (size = w)", xlabel="source x (um)", ylabel="target x (um)")
    ax[2, 1].scatter(x[c9.i], x[c9.j], s=c9.weight * 20, c="k")
    ax[2, 1].set(title=f"C9: probability and weight by distance ({c9.n_synapses} synapses)",
                 xlabel="source x (um)", ylabel="target x (um)")

    # STDP, two neurons: the presynaptic one fires at 10.1 ms, the postsynaptic one at 20.1 ms (the
    # tutorial's threshold 't > (1 + i) * 10 * ms'). Synapse traces are not monitored by a
    # StateMonitor: run 0.1 ms at a time and read S.weight, S.a_pre and S.a_post after each run.
    G = SpikeGeneratorGroup(2, [0, 1], [10.1, 20.1])
    S = Synapses(G, G, Connectivity.from_arrays([0], [1], weight=0.0, n_pre=2, n_post=2), on_pre=None,
                 stdp=STDP())  # tau 20 ms, A_pre 0.01, A_post -0.0105, w clipped to [0, 0.01]
    net = Network(G, S)
    t, w, a_pre, a_post = [0.0], [0.0], [0.0], [0.0]
    while net.t < 30.0 - 1e-9:
        net.run(0.1, progress=False)
        t.append(net.t)
        w.append(S.weight[0])
        a_pre.append(S.a_pre[0])  # every synapse of presynaptic neuron 0 shares its trace
        a_post.append(S.a_post[1])  # every synapse onto neuron 1 likewise
    print(f"STDP: final w = {w[-1]:.12f} (0.01 e^-0.5 = {0.01 * np.exp(-0.5):.12f}); at 29.9 ms (Brian2's last "
          f"StateMonitor sample) a_pre = {a_pre[-2]:.10f}, a_post = {a_post[-2]:.10f} "
          f"(tutorial: 0.0037157669, -0.0064325771)")
    ax[2, 2].plot(t, a_pre, label="a_pre")
    ax[2, 2].plot(t, a_post, label="a_post")
    ax[2, 2].plot(t, w, "-k", lw=2, label="w")
    ax[2, 2].axhline(0, color="gray", lw=0.8)
    ax[2, 2].set(title="STDP: pre at 10.1 ms, post at 20.1 ms", xlabel="time (ms)",
                 ylabel="trace / weight (w clipped to [0, 0.01])")
    ax[2, 2].legend(fontsize="small")

    fig.tight_layout()
    fig.savefig(args.out, dpi=90)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
