"""LIF neurons: the Brian2 tutorial's I-f curve and the lecture notes' tuning curve G, redone with fastkernels.

A template for population runs: one neuron per input value, the whole time loop
in one compiled kernel, spikes back as (time, neuron) pairs. Panels: a raster
of 100 neurons driven by v0 = i * 3 / 99 (Brian2 tutorial, N9), their rates
against the analytic curve, the event-driven integrator matching G exactly at
dt = 1 ms against forward Euler's O(dt) excess, and one membrane trace.
Writes lif_fi_curve.png.

    python examples/lif_fi_curve.py [--duration 1000] [--backend parallel] [--out lif_fi_curve.png]
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.neurons import LIF, firing_rate_curve, lif_rate, simulate_lif  # noqa: E402


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--duration", type=float, default=1000.0,
                   help="simulated time in ms of each run (rates are spikes / duration)")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"],
                   help="where the simulations run: auto (picks by size), cpu (serial), parallel (threads), "
                        "cuda (an NVIDIA GPU)")
    p.add_argument("--out", default="lif_fi_curve.png", help="output figure (PNG)")
    args = p.parse_args()

    # Brian2 tutorial N9: tau 10 ms, threshold 1, reset 0, refractory 5 ms (v frozen), dt 0.1 ms.
    n = 100
    v0 = np.arange(n) * 3.0 / (n - 1)
    model = LIF(tau_m=10.0, tau_ref=5.0)
    res = simulate_lif(model, n, args.duration, 0.1, I=v0, record=[99], backend=args.backend)
    print(f"{res.spike_times.size} spikes; neuron 99 (v0 = 3) fires {res.counts[99]} times in {args.duration:g} ms")

    # Lecture-notes tuning curve G (tau_m 20 ms, tau_ref 2 ms): event-driven vs Euler at dt = 1 ms.
    drive = np.linspace(0.5, 10, 60)
    cfg = LIF(tau_m=20.0, tau_ref=2.0)
    event = firing_rate_curve(cfg, drive, duration=args.duration, dt=1.0, method="event", backend=args.backend)
    euler = firing_rate_curve(cfg, drive, duration=args.duration, dt=1.0, method="euler", backend=args.backend)

    fig, ax = plt.subplots(2, 2, figsize=(10, 7))
    ax[0, 0].plot(res.spike_times, res.spike_neurons, ".k", ms=1)
    ax[0, 0].set(xlabel="time (ms)", ylabel="neuron i (v0 = 3 i / 99)", ylim=(-1, n),  # 0-33 (v0 < 1) stay silent
                 xlim=(0, args.duration), title="raster (Brian2 tutorial N9)")
    ax[0, 1].plot(v0, lif_rate(v0, 10.0, 5.0), "-r", label="analytic (tau = 10 ms, refractory 5 ms)")
    ax[0, 1].plot(v0, res.rates, "o", ms=3, label=f"simulated ({args.duration:g} ms)")
    ax[0, 1].set(xlabel="v0 (drive; threshold 1)", ylabel="rate (Hz)", title="I-f curve")
    ax[0, 1].legend(loc="lower right")
    ax[1, 0].plot(drive, lif_rate(drive, 20.0, 2.0), "-k", label="G (analytic)")
    ax[1, 0].plot(drive, event, "o", ms=3, label="event-driven, dt = 1 ms")
    ax[1, 0].plot(drive, euler, "x", ms=3, label="Euler, dt = 1 ms")
    ax[1, 0].set(xlabel="v_in (drive; threshold 1)", ylabel="rate (Hz)", title="tuning curve G (tau = 20 ms, refractory 2 ms)")
    ax[1, 0].legend(loc="lower right")
    ax[1, 1].plot(res.trace_times[:1000], res.traces["v"][0][:1000])
    ax[1, 1].set(xlabel="time (ms)", ylabel="v (threshold 1)", title="neuron 99 (v0 = 3), first 100 ms")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
