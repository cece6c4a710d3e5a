"""Hodgkin-Huxley spike train, its f-I curve (the type-II jump) and Izhikevich firing patterns.

A template for conductance-based populations: one neuron per input value, the whole time
loop in one compiled kernel, spikes back as (time, neuron) pairs. Panels: the membrane
potential and gates of one HH neuron at 10 uA/cm^2 (RK4, dt = 0.01 ms); the f-I curve of
the standard parameter set, which jumps from 0 to ~50 Hz between 6.2 and 6.3 uA/cm^2
(sustained firing starts at a finite rate: a type-II neuron), computed by RK4 at dt = 0.01 ms
and by exponential Euler at dt = 0.1 ms; and the four Izhikevich presets at a constant input.
Writes hh_spike_train.png.

    python examples/hh_spike_train.py [--duration 500] [--backend auto] [--out hh_spike_train.png]
"""

import argparse
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from fastkernels.neurons.hh import HH, simulate_hh  # noqa: E402
from fastkernels.neurons.izhikevich import Izhikevich, simulate_izhikevich  # noqa: E402


def steady_rates(res, transient):
    """Rate (Hz) of each neuron from its inter-spike intervals after ``transient`` ms (0 without two spikes)."""
    rates = np.zeros(res.n)
    for i, s in res.spike_trains().items():
        s = s[s >= transient]
        if s.size >= 2:
            rates[i] = 1000.0 / np.mean(np.diff(s))
    return rates


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--duration", type=float, default=500.0,
                   help="simulated ms per f-I point, > 150 (the first 100 ms are discarded)")
    p.add_argument("--backend", default="auto", choices=["auto", "cpu", "parallel", "cuda"],
                   help="where the simulations run: auto (picks by size), cpu (serial), parallel (threads), "
                        "cuda (an NVIDIA GPU)")
    p.add_argument("--out", default="hh_spike_train.png", help="output figure (PNG)")
    args = p.parse_args()
    if args.duration <= 150:
        p.error("--duration must exceed 150 ms (100 ms transient, then at least a few spikes)")

    model = HH()  # modern parameters: rest -65 mV, spikes = upward crossings of 0 mV
    t0 = time.perf_counter()
    train = simulate_hh(model, 1, 100.0, 0.01, I=10.0, record=0, backend=args.backend)
    print(f"HH at 10 uA/cm2: {train.counts[0]} spikes in 100 ms at {np.round(train.spike_times, 2)} ms "
          f"({time.perf_counter() - t0:.2f} s incl. compilation)")

    currents = np.union1d(np.linspace(0.0, 20.0, 101), [6.25, 6.3])  # resolve the jump
    t0 = time.perf_counter()
    rk4 = simulate_hh(model, currents.size, args.duration, 0.01, I=currents, backend=args.backend)
    t_rk4 = time.perf_counter() - t0
    t0 = time.perf_counter()
    expe = simulate_hh(model, currents.size, args.duration, 0.1, I=currents, method="exponential_euler",
                       backend=args.backend)
    t_exp = time.perf_counter() - t0
    f_rk4, f_exp = steady_rates(rk4, 100.0), steady_rates(expe, 100.0)
    onset = currents[np.argmax(f_rk4 > 0)]
    print(f"f-I curve, {currents.size} neurons x {args.duration:g} ms: RK4 dt 0.01 {t_rk4:.2f} s, exponential "
          f"Euler dt 0.1 {t_exp:.2f} s; sustained firing from {onset:.2f} uA/cm2 at {f_rk4[f_rk4 > 0][0]:.1f} Hz; "
          f"{f_rk4[np.argmin(abs(currents - 10))]:.1f} Hz at 10 uA/cm2 (reference 68.3)")

    presets = ["regular_spiking", "fast_spiking", "chattering", "intrinsically_bursting"]
    izh = {}
    for name in presets:
        izh[name] = simulate_izhikevich(getattr(Izhikevich, name)(), 1, 300.0, 0.1, I=10.0, record=0,
                                        backend=args.backend)
        print(f"Izhikevich {name}: {izh[name].counts[0]} spikes in 300 ms at I = 10 mV/ms")

    fig = plt.figure(figsize=(11, 8))
    grid = fig.add_gridspec(4, 2)
    ax = fig.add_subplot(grid[0, 0])
    ax.plot(train.trace_times, train.traces["v"][0], "k", lw=0.8)
    ax.set(ylabel="V (mV)", title="HH, I = 10 uA/cm2 (RK4, dt 0.01 ms)")
    ax = fig.add_subplot(grid[1, 0])
    for g in "mhn":
        ax.plot(train.trace_times, train.traces[g][0], lw=0.8, label=g)
    ax.set(xlabel="time (ms)", ylabel="gate (open fraction)", ylim=(0, 1.4), yticks=[0, 0.5, 1])
    ax.legend(loc="upper right", ncol=3, fontsize=8)  # in the headroom above 1
    ax = fig.add_subplot(grid[0:2, 1])
    ax.plot(currents, f_rk4, "o-", ms=3, label="RK4, dt 0.01 ms")
    ax.plot(currents, f_exp, "x", ms=4, label="exponential Euler, dt 0.1 ms")
    ax.axvspan(6.2, 6.3, color="r", alpha=0.3, label="onset 6.2-6.3 uA/cm2 (reference)")
    ax.set(xlabel="I (uA/cm2)", ylabel="steady rate (Hz)", title="f-I curve: a type-II jump")
    ax.legend(fontsize=8)
    for k, name in enumerate(presets):
        ax = fig.add_subplot(grid[2 + k // 2, k % 2])
        r = izh[name]
        ax.plot(r.trace_times, r.traces["v"][0], lw=0.7)
        ax.set(title=f"Izhikevich {name.replace('_', ' ')}, I = 10 mV/ms", ylim=(-85, 35), ylabel="v (mV)")
        if k >= 2:
            ax.set_xlabel("time (ms)")
    fig.tight_layout()
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
