"""Brian2's CUBA network (examples/CUBA.py; Brette et al. 2007, benchmark 2), redone with fastkernels.networks.

4000 LIF neurons (mV, ms) with two current-based receptors, ``ge`` (tau 5 ms) and ``gi``
(tau 10 ms): ``dv/dt = (ge + gi - (v - E_l)) / tau_m``. The first 80% are excitatory (a spike
adds 1.62 mV to ``ge`` of its targets), the rest inhibitory (adds -9 mV to ``gi``); every
ordered pair is connected with probability 0.02 (80 inputs per neuron). Without any external
input the network sustains asynchronous irregular firing at a few Hz (Brian2 2.9: about 5.6 Hz).

Brian2 writes ``NeuronGroup(4000, eqs, threshold='v > -50*mV', reset='v = -60*mV',
refractory=5*ms, method='exact')`` and ``Ce.connect('i < 3200', p=0.02)``; here that is a
``NeuronGroup(4000, LIF(...), receptors={...})`` and a ``bernoulli(...)`` projection per
population, all run in one compiled loop by ``Network.run``. Panels: a raster of a subset
(excitatory blue, inhibitory red) and the population rate, smoothed by a 5 ms flat window.
Writes cuba_network.png.

    python examples/cuba_network.py [--n 4000] [--duration 1000] [--seed 0] [--out cuba_network.png]
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.networks import (  # noqa: E402
    Current,
    Network,
    NeuronGroup,
    PopulationRateMonitor,
    SpikeMonitor,
    Synapses,
    bernoulli,
)
from fastkernels.neurons import LIF  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--n", type=int, default=4000,
                   help="number of neurons (80%% excitatory; connection probability 80 / n)")
    p.add_argument("--duration", type=float, default=1000.0, help="simulated time in ms (dt = 0.1 ms)")
    p.add_argument("--seed", type=int, default=0, help="seed of the initial v and of the connectivity")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"],
                   help="where Network.run runs: auto (the CPU, threads for large groups), cpu (serial), "
                        "parallel (threads), cuda (an NVIDIA GPU)")
    p.add_argument("--out", default="cuba_network.png", help="output figure (PNG)")
    args = p.parse_args()
    n = args.n
    n_exc = int(0.8 * n)
    p_connect = min(1.0, 80.0 / n)  # 0.02 at 4000 neurons: 80 synapses onto each neuron on average
    rng = np.random.default_rng(args.seed)

    t0 = time.perf_counter()
    # The neuron model, in mV and ms:
    #   tau_m = 20 ms          membrane time constant
    #   v_rest = -49 mV        the leak's reversal E_l: v relaxes towards it (above threshold!)
    #   v_threshold = -50 mV   a spike when v crosses it ...
    #   v_reset = -60 mV       ... then v is reset here ...
    #   tau_ref = 5 ms         ... and held there ("(unless refractory)" in Brian2's equations)
    model = LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0)
    # Receptors: postsynaptic currents (in mV) that decay exponentially and drive v, integrated
    # exactly together with v (Brian2's method="exact"): dge/dt = -ge / 5 ms, dgi/dt = -gi / 10 ms.
    G = NeuronGroup(n, model, receptors={"ge": Current(5.0), "gi": Current(10.0)},
                    v0=-60.0 + 10.0 * rng.random(n))  # v0 uniform between reset and threshold
    # Projections: each allowed (i, j) pair gets a synapse with probability p_connect, drawn
    # reproducibly from the seed (the same synapses on every backend and thread count). The
    # condition keeps the excitatory rows (i < n_exc) in one projection, the inhibitory in the other.
    exc = bernoulli(n, n, p_connect, condition=lambda i, j: i < n_exc, weight=60 * 0.27 / 10,  # 1.62 mV
                    seed=args.seed + 1)
    inh = bernoulli(n, n, p_connect, condition=lambda i, j: i >= n_exc, weight=-20 * 4.5 / 10,  # -9 mV
                    seed=args.seed + 2)
    # on_pre names the receptor a presynaptic spike jumps: ge += w, gi += w (no delays here).
    Se = Synapses(G, G, exc, on_pre="ge")
    Si = Synapses(G, G, inh, on_pre="gi")
    spikes, rate = SpikeMonitor(G), PopulationRateMonitor(G)
    net = Network(G, Se, Si, spikes, rate, dt=0.1)  # dt in ms, as Brian2's defaultclock.dt = 0.1 ms
    t_build = time.perf_counter() - t0

    t0 = time.perf_counter()
    net.run(args.duration, backend=args.backend)
    t_run = time.perf_counter() - t0

    mean_rate = spikes.num_spikes / n / (args.duration * 1e-3)
    print(f"{n} neurons ({n_exc} excitatory), {len(Se) + len(Si)} synapses, {args.duration:g} ms")
    print(f"{spikes.num_spikes} spikes: mean rate {mean_rate:.2f} Hz (Brian2 2.9 at 4000 neurons: ~5.6 Hz)")
    print(f"build {t_build:.2f} s, simulation {t_run:.2f} s (a first run on a fresh install also compiles the kernels)")

    # a subset for the raster: the first excitatory neurons and the first inhibitory ones
    n_show_e, n_show_i = min(n_exc, 400), min(n - n_exc, 100)
    t, i = spikes.t, spikes.i
    e_sel, i_sel = i < n_show_e, (i >= n_exc) & (i < n_exc + n_show_i)
    fig, ax = plt.subplots(2, 1, figsize=(10, 7), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    ax[0].plot(t[e_sel], i[e_sel], ".b", ms=1.5, label="excitatory")
    ax[0].plot(t[i_sel], i[i_sel] - n_exc + n_show_e, ".r", ms=1.5, label="inhibitory")
    ax[0].set(ylabel=f"neuron (first {n_show_e} exc., first {n_show_i} inh.)", ylim=(-1, n_show_e + n_show_i))
    fig.suptitle(f"CUBA: {n} neurons, {len(Se) + len(Si)} synapses, mean rate {mean_rate:.2f} Hz")
    # legends outside the data: above the raster, and in headroom above the rate trace
    ax[0].legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), ncol=2, markerscale=6, fontsize="small",
                 frameon=False, borderaxespad=0.2)
    smooth = rate.smooth_rate(5.0)
    ax[1].plot(rate.t, smooth, "-k", lw=1, label="population rate (5 ms window)")
    ax[1].axhline(mean_rate, color="gray", ls="--", lw=1, label=f"mean {mean_rate:.2f} Hz")
    ax[1].set(xlabel="time (ms)", ylabel="population rate (Hz)", xlim=(0, args.duration),
              ylim=(0, 1.45 * max(float(np.max(smooth, initial=0.0)), mean_rate, 1.0)))
    ax[1].legend(loc="upper right", ncol=2, fontsize="small")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
