"""Benchmark cases of :mod:`fastkernels.neurons` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from .analysis import firing_rate_curve
from .lif import LIF, simulate_lif

TAU, TREF, DT = 10.0, 2.0, 0.1


def _lif_inputs(n, steps):
    return (np.random.default_rng(0).uniform(0.5, 2.0, n), steps)


def numpy_lif(I, steps, tau=TAU, tau_ref=TREF, dt=DT, threshold=1.0, reset=0.0):
    """The honest vectorised NumPy LIF time loop (exact update, Brian2 schedule): spike counts per neuron."""
    n = I.size
    v = np.zeros(n)
    a = np.exp(-dt / tau)
    since = np.full(n, 1 << 30)
    ref_steps = int((tau_ref + 1e-3 * dt) / dt)
    counts = np.zeros(n, dtype=np.int64)
    vn = np.empty(n)
    for _ in range(steps):
        since += 1
        free = since >= ref_steps
        np.subtract(v, I, out=vn)
        vn *= a
        vn += I
        np.copyto(v, vn, where=free)
        spiked = np.flatnonzero(free & (v > threshold))  # the (time, neuron) record a monitor keeps
        v[spiked] = reset
        since[spiked] = 0
        counts[spiked] += 1
    return counts


def _check_counts(out, ref):
    np.testing.assert_array_equal(out, ref)


register(Case(
    name="lif_population",
    area="neurons",
    description="LIF population, exact update, refractory 2 ms, dt 0.1 ms (spike counts)",
    make_inputs=_lif_inputs,
    kernel=lambda I, steps, backend: simulate_lif(LIF(tau_m=TAU, tau_ref=TREF), I.size, steps * DT, DT, I=I,
                                                  backend=backend).counts,
    baseline=numpy_lif,
    sizes={"test": [dict(n=300, steps=50)],
           "quick": [dict(n=100_000, steps=1000)],
           "full": [dict(n=100_000, steps=10_000)]},
    label=lambda n, steps: f"{n} neurons x {steps} steps",
    check=_check_counts,
    work=lambda n, steps: {"updates": n * steps},
))


def _fi_inputs(n, duration):
    return (np.linspace(0.5, 5.0, n), duration)


def numpy_fi_curve(v_in, duration, tau=20.0, tau_ref=2.0, dt=DT):
    """The f-I curve the NumPy way: one neuron per input, the same vectorised time loop, rate in Hz."""
    return numpy_lif(v_in, int(round(duration / dt)), tau=tau, tau_ref=tau_ref, dt=dt) / (duration * 1e-3)


register(Case(
    name="lif_fi_curve",
    area="neurons",
    description="LIF f-I curve: one neuron per input value, exact update, dt 0.1 ms (rates)",
    make_inputs=_fi_inputs,
    kernel=lambda v_in, duration, backend: firing_rate_curve(LIF(tau_m=20.0, tau_ref=2.0), v_in, duration=duration,
                                                             dt=DT, method="exact", backend=backend),
    baseline=numpy_fi_curve,
    sizes={"test": [dict(n=50, duration=20.0)],
           "quick": [dict(n=1000, duration=1000.0)],
           "full": [dict(n=1000, duration=1000.0)]},
    label=lambda n, duration: f"{n} inputs x {duration:g} ms",
    check=_check_counts,
    work=lambda n, duration: {"updates": n * int(round(duration / DT))},
))


from . import _bench_models  # noqa: F401,E402  (HH and Izhikevich cases)
