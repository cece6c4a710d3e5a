"""Benchmark cases of :mod:`fastkernels.neurons` (see :mod:`fastkernels.bench.registry`)."""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, cpu_only, register
from ._bench_peers import brian2_peers
from ._brian2_peer import lif_population_peer
from ._reference import lif_exact_counts
from .analysis import firing_rate_curve
from .inputs import poisson_spike_trains
from .lif import LIF, run_lif, simulate_lif

TAU, TREF, DT = 10.0, 2.0, 0.1


def _lif_inputs(n, steps):
    return (np.random.default_rng(0).uniform(0.5, 2.0, n), steps)


def numpy_lif(I, steps, tau=TAU, tau_ref=TREF, dt=DT, threshold=1.0, reset=0.0):
    """The honest vectorised NumPy LIF time loop (exact update, Brian2 schedule): spike counts per neuron."""
    return lif_exact_counts(I, steps, tau, tau_ref, dt, threshold, reset)


def _check_counts(out, ref):
    np.testing.assert_array_equal(out, ref)


def _lif_count_only():
    """the same LIF kernel without spike recording, per-neuron counts only (same backend)

    The same integration, kernel machinery and input as the case's kernel, but each block adds
    its spikes to per-neuron counts instead of recording (time, neuron) pairs: no spike buffers,
    gathering or time ordering. On the cuda backend (no count-only kernel there) it runs parallel.
    """
    model = LIF(tau_m=TAU, tau_ref=TREF)

    def count_only(I, steps, backend):
        backend = backend if backend in ("cpu", "parallel") else "parallel"
        return run_lif(model, I.size, steps * DT, DT, I=I, backend=backend, count_only=True)

    return count_only


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
    peers=brian2_peers(lif_population_peer),
    bounds={"count only": _lif_count_only},
    thread_scaling=True,
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
    thread_scaling=True,
))


def _poisson_inputs(n, duration, rate=20.0):
    return (rate, n, duration)


def numpy_poisson_trains(rate, n, duration, rng=None):
    """The honest NumPy Poisson trains: a Poisson count per train, then that many uniform times.

    Exact in continuous time (given its count, a homogeneous Poisson train's spikes are
    uniform on the interval), fully vectorised, and the same format as the kernel's: spike times
    (ms) and train ids sorted by time, then train. (Per-step Bernoulli draws would put spikes on
    a time grid; exponential intervals need a cumulative sum over a padded matrix and a retry
    for the trains that fall short.) Returns the times, the ids and the parameters for the check.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    counts = rng.poisson(rate * 1e-3 * duration, n)
    ids = np.repeat(np.arange(n, dtype=np.int64), counts)
    times = rng.uniform(0.0, duration, ids.size)
    order = np.lexsort((ids, times))
    return times[order], ids[order], dict(rate=rate, n=n, duration=duration)


def _check_poisson(out, ref):
    """Same format as the baseline, and Poisson statistics (the random streams differ).

    Times float64 and ids int64 of one length, sorted by time then train, inside
    ``[0, duration)`` and ``[0, n)``; per-train counts with mean ``rate * duration`` and variance
    equal to it (Poisson), each within 5 standard errors; spike times uniform over the run
    (10 bins, chi-square below 45 for 9 degrees of freedom: p ~ 1e-6).
    """
    times, ids = out[0], out[1]  # the baseline's own output also carries its parameters
    p = ref[2]
    n, duration = p["n"], p["duration"]
    lam = p["rate"] * 1e-3 * duration
    for a, r in zip((times, ids), ref[:2]):
        if a.dtype != r.dtype or a.ndim != 1:
            raise AssertionError(f"output {a.dtype} {a.shape}, baseline {r.dtype} {r.shape}")
    if times.size != ids.size:
        raise AssertionError(f"{times.size} times but {ids.size} ids")
    if times.size and (times.min() < 0.0 or times.max() >= duration or ids.min() < 0 or ids.max() >= n):
        raise AssertionError("spike times or train ids out of range")
    dt, di = np.diff(times), np.diff(ids)
    if (dt < 0).any() or ((dt == 0) & (di <= 0)).any():
        raise AssertionError("spikes not sorted by time, then train")
    counts = np.bincount(ids, minlength=n)
    mean, var = counts.mean(), counts.var(ddof=1)
    if abs(mean - lam) > 5 * np.sqrt(lam / n):
        raise AssertionError(f"mean spikes per train {mean:.4f}, expected {lam:g}")
    if abs(var - lam) > 5 * np.sqrt((lam + 2 * lam * lam) / n):  # SE of a Poisson sample variance
        raise AssertionError(f"count variance {var:.4f}, a Poisson train's is its mean {lam:g}")
    hist = np.bincount((times * (10 / duration)).astype(np.int64), minlength=10)
    expected = times.size / 10
    chi2 = ((hist - expected) ** 2 / expected).sum()
    if chi2 > 45.0:
        raise AssertionError(f"spike times not uniform over the run: chi-square {chi2:.1f} (10 bins)")


register(Case(
    name="poisson_spike_trains",
    area="neurons",
    description="independent Poisson spike trains at 20 Hz (continuous time, sorted by time) vs Poisson counts + "
                "uniform times",
    make_inputs=_poisson_inputs,
    kernel=lambda rate, n, duration, backend: poisson_spike_trains(rate, n, duration, seed=0, backend=backend),
    baseline=numpy_poisson_trains,
    sizes={"test": [dict(n=200, duration=100.0)],
           "quick": [dict(n=10_000, duration=1000.0)],
           "full": [dict(n=100_000, duration=1000.0)]},
    label=lambda n, duration, rate=20.0: f"{n} trains x {duration / 1e3:g} s at {rate:g} Hz",
    check=_check_poisson,
    unsupported=cpu_only,
))


from . import _bench_models  # noqa: F401,E402  (HH and Izhikevich cases, registered after these)
