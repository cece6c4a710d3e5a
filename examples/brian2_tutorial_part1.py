"""The Brian2 tutorial's Part I (Neurons), redone with fastkernels.neurons.

Each panel is one of the tutorial's examples (numbers N1-N11 as in the notes): a user
following that tutorial can switch to this package line by line. Brian2 writes
``NeuronGroup(N, 'dv/dt = (v0 - v)/tau : 1 (unless refractory)', threshold='v > 1',
reset='v = 0', refractory=5*ms, method='exact')``; here that is
``simulate_lif(LIF(tau_m=10, v_threshold=1, v_reset=0, tau_ref=5), N, duration, dt=0.1, I=v0)``
(``freeze_refractory=True`` is "(unless refractory)"). Writes brian2_tutorial_part1.png.

    python examples/brian2_tutorial_part1.py [--out brian2_tutorial_part1.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.neurons import LIF, lif_rate, plots, simulate_lif  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--duration", type=float, default=1000.0,
                   help="simulated time in ms of the I-f curves N9-N10 (rates are spikes / duration)")
    p.add_argument("--out", default="brian2_tutorial_part1.png", help="output figure (PNG)")
    args = p.parse_args()
    fig, ax = plt.subplots(2, 3, figsize=(14, 7.5))

    # N2: dv/dt = (1 - v)/tau, exact integration, against the analytic solution
    r = simulate_lif(LIF(tau_m=10, v_threshold=2.0, tau_ref=0), 1, 30.0, I=1.0, record=0)
    ax[0, 0].plot(r.trace_times, r.traces["v"][0], "-b", lw=2, label="fastkernels")
    ax[0, 0].plot(r.trace_times, 1 - np.exp(-r.trace_times / 10), "--r", lw=2, label="analytic: 1 - exp(-t / 10 ms)")
    ax[0, 0].set(title="N2: relaxation, tau = 10 ms", xlabel="time (ms)", ylabel="v")
    ax[0, 0].legend()

    # N3: dv/dt = (sin(2 pi 100 Hz t) - v)/tau, Euler, v(0) = 5
    r = simulate_lif(LIF(tau_m=10, v_threshold=1e3, tau_ref=0), 1, 60.0, I=lambda t: np.sin(2 * np.pi * 0.1 * t),
                     v0=5.0, method="euler", record=0)
    plots.trace(r, "v", ax[0, 1], label_neurons=False)
    ax[0, 1].set(title="N3: 100 Hz sinusoidal input (Euler, v(0) = 5)")

    # N4 / N6 / N7: threshold, reset and the two kinds of refractoriness
    for model, style, name in ((LIF(tau_m=10, v_threshold=0.8, tau_ref=0), "-", "N4: tau = 10 ms, no refractoriness"),
                               (LIF(tau_m=10, v_threshold=0.8, tau_ref=5), "--", "N6: tau = 10 ms, 5 ms frozen"),
                               (LIF(tau_m=5, v_threshold=0.8, tau_ref=15, freeze_refractory=False,
                                    refractory_mode="legacy_float"), ":", "N7: tau = 5 ms, 15 ms not frozen")):
        r = simulate_lif(model, 1, 50.0, I=1.0, record=0)
        spikes = ", ".join(f"{s:.1f}" for s in r.spike_times)
        ax[0, 2].plot(r.trace_times, r.traces["v"][0], style, label=f"{name}; spikes at {spikes} ms")
    ax[0, 2].axhline(0.8, color="gray", lw=0.8)  # the threshold
    ax[0, 2].set(title="N4-N7: spikes and refractoriness (threshold 0.8)", xlabel="time (ms)", ylabel="v",
                 ylim=(-0.05, 1.45))  # headroom for the legend above the traces
    ax[0, 2].legend(fontsize="x-small", loc="upper left")

    # N8: 100 neurons with random initial v
    r = simulate_lif(LIF(tau_m=10, tau_ref=0), 100, 50.0, I=2.0, v0=np.random.default_rng(0).uniform(0, 1, 100))
    plots.raster(r, ax[1, 0], ms=2)
    ax[1, 0].set(title="N8: random initial state")

    # N9 / N10: the I-f curve, without and with noise (sigma * xi * tau**-0.5, Euler-Maruyama)
    n = 100
    v0 = np.arange(n) * 3.0 / (n - 1)
    det = simulate_lif(LIF(tau_m=10, tau_ref=5), n, args.duration, I=v0)
    noisy = simulate_lif(LIF(tau_m=10, tau_ref=5, sigma=0.2), n, args.duration, I=v0, method="euler", seed=1)
    ax[1, 1].plot(v0, det.rates, "o", ms=3, label="N9: deterministic")
    ax[1, 1].plot(v0, noisy.rates, "s", ms=4, mfc="none", label="N10: noisy, sigma = 0.2")  # hollow: N9 shows through
    ax[1, 1].plot(v0, lif_rate(v0, 10, 5), "-k", lw=1, label="analytic: tau = 10 ms, 5 ms refractory")
    ax[1, 1].set(title=f"N9-N10: I-f curves ({n} neurons, {args.duration:g} ms)",
                 xlabel="v0 (drive; threshold 1)", ylabel="rate (Hz)",
                 ylim=(-5, 1.4 * max(det.rates.max(), noisy.rates.max(), 1.0)))  # headroom for the legend
    ax[1, 1].legend(fontsize="small", loc="upper left")

    # N11: adaptive threshold, 1000 noisy neurons in mV; population rate in 1 ms bins
    model = LIF(tau_m=10, v_rest=-70, v_reset=-70, v_threshold=-50, tau_ref=5, sigma=10.0, threshold_jump=5.0,
                tau_threshold=100.0, freeze_refractory=False)  # no "(unless refractory)" in these equations
    r = simulate_lif(model, 1000, 100.0, I=40.0, v0=np.random.default_rng(2).uniform(-70, -50, 1000),
                     method="euler", seed=2)
    t, rate = r.population_rate(bin_ms=1.0)
    ax[1, 2].bar(t, rate, width=1.0)
    ax[1, 2].set(title=f"N11: adaptive threshold ({r.spike_times.size} spikes)", xlabel="time (ms)",
                 ylabel="rate of the 1000 neurons (Hz, 1 ms bins)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
