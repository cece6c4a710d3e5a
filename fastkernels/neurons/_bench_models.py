"""Benchmark cases of the Hodgkin-Huxley and Izhikevich populations (see :mod:`fastkernels.bench.registry`).

* ``hh_population``: 10 000 HH neurons at dt = 0.1 ms with exponential Euler, against the
  same integrator written as an honest vectorised NumPy time loop. (RK4 and forward Euler are
  unstable for HH at dt = 0.1 ms: the simulator raises ``SimulationError`` there, which is why
  Brian2's HH examples use exponential Euler at that step.)
* ``hh_population_rk4``: the same population with RK4 at dt = 0.01 ms (the digest's reference
  integrator) against vectorised NumPy RK4.
* ``hh_single_vs_solve_ivp``: one neuron at 10 uA/cm^2 (RK4, dt = 0.01 ms) against
  ``scipy.integrate.solve_ivp`` (RK45, rtol 1e-6, atol 1e-8, spikes as events).
* ``izhikevich_population``: 10 000 regular-spiking Izhikevich neurons with the 2003 paper's
  scheme (two forward-Euler half steps of ``v``, then ``u``) at dt = 0.5 ms, against the same
  scheme as an honest vectorised NumPy time loop. (At the paper's dt = 1 ms the scheme
  amplifies rounding: see :func:`_check_izh_counts`.)

The three population cases time the same run in float32 beside the float64 kernel (the
"float32" column: ``dtype=np.float32``, so the state, the parameters and every operation of the
step are float32; not checked against NumPy, as float32 rounding moves a few spikes).

Each case checks spike counts: the population cases allow a few neurons one spike apart
(ulp-level differences between ``exp_poly`` and NumPy's ``exp``, or the kernels' fused
multiply-adds, can move a spike across the end of the run, or across the threshold of a
neuron sitting at its onset current).
"""

from __future__ import annotations

import numpy as np

from ..bench.registry import Case, register
from ._bench_peers import brian2_peers
from ._brian2_peer import hh_population_peer
from .hh import HH, simulate_hh
from ._reference import hh_derivatives, hh_exp_euler, hh_rest_state, hh_rk4, izhikevich_euler
from .izhikevich import Izhikevich, simulate_izhikevich

DT_COARSE, DT_FINE = 0.1, 0.01
I_RANGE = (0.0, 20.0)  # uA/cm^2: silent, onset (6.2-6.3) and regular firing up to ~86 Hz


def _population_inputs(n, steps):
    return (np.random.default_rng(0).uniform(*I_RANGE, n), steps)


def numpy_hh_exp_euler(I, steps, dt=DT_COARSE):
    """The honest vectorised NumPy exponential-Euler HH loop; returns spike counts per neuron."""
    return hh_exp_euler(I, steps, dt, exact=False)


def numpy_hh_rk4(I, steps, dt=DT_FINE):
    """The honest vectorised NumPy RK4 HH loop; returns spike counts per neuron."""
    return hh_rk4(I, steps, dt, exact=False)


def _float32(simulate):
    """A bound: ``simulate(I, steps, backend, dtype)``'s spike counts with ``dtype=np.float32``."""

    def run(I, steps, backend):
        return simulate(I, steps, backend, np.float32)

    return run


def _hh_exp_euler(I, steps, backend, dtype=np.float64):
    return simulate_hh(HH(), I.size, steps * DT_COARSE, DT_COARSE, I=I, method="exponential_euler", dtype=dtype,
                       backend=backend).counts


def _hh_rk4(I, steps, backend, dtype=np.float64):
    return simulate_hh(HH(), I.size, steps * DT_FINE, DT_FINE, I=I, method="rk4", dtype=dtype, backend=backend).counts


def _hh_exp_euler_float32():
    """the same run with dtype=float32 (float32 state and step arithmetic), same backend"""
    return _float32(_hh_exp_euler)


def _hh_rk4_float32():
    """the same run with dtype=float32 (float32 state and step arithmetic), same backend"""
    return _float32(_hh_rk4)


def _check_counts(out, ref):
    """Spike counts equal, except at most 0.2% of neurons (at least 1) one spike apart."""
    out, ref = np.asarray(out), np.asarray(ref)
    diff = np.abs(out - ref)
    if diff.max(initial=0) > 1 or np.count_nonzero(diff) > max(1, ref.size // 500):
        raise AssertionError(f"{np.count_nonzero(diff)} of {ref.size} neurons differ, by up to {diff.max()} spikes")


register(Case(
    name="hh_population",
    area="neurons",
    description="HH population, exponential Euler, dt 0.1 ms, I ~ U(0, 20) uA/cm2 (spike counts)",
    make_inputs=_population_inputs,
    kernel=_hh_exp_euler,
    baseline=numpy_hh_exp_euler,
    sizes={"test": [dict(n=200, steps=100)],
           "quick": [dict(n=10_000, steps=1000)],
           "full": [dict(n=10_000, steps=10_000)]},
    label=lambda n, steps: f"{n} neurons x {steps} steps, dt 0.1",
    check=_check_counts,
    work=lambda n, steps: {"updates": n * steps},
    peers=brian2_peers(hh_population_peer),  # the case's inputs (I in uA/cm2, steps) are the peer's
    bounds={"float32": _hh_exp_euler_float32},
))

register(Case(
    name="hh_population_rk4",
    area="neurons",
    description="HH population, RK4, dt 0.01 ms, I ~ U(0, 20) uA/cm2 (spike counts)",
    make_inputs=_population_inputs,
    kernel=_hh_rk4,
    baseline=numpy_hh_rk4,
    sizes={"test": [dict(n=200, steps=300)],
           "quick": [dict(n=10_000, steps=1000)],
           "full": [dict(n=10_000, steps=100_000)]},
    label=lambda n, steps: f"{n} neurons x {steps} steps, dt 0.01",
    check=_check_counts,
    work=lambda n, steps: {"updates": n * steps},
    bounds={"float32": _hh_rk4_float32},
))


# ---------------------------------------------------------------- one neuron vs solve_ivp
def _single_inputs(duration):
    return (10.0, duration)


def scipy_hh(I, duration, rtol=1e-6, atol=1e-8):
    """One HH neuron with ``scipy.integrate.solve_ivp`` (RK45); spikes are upward 0 mV crossings (events)."""
    from scipy.integrate import solve_ivp

    def rhs(t, y):
        return hh_derivatives(*y, I, exact=False)

    def crossing(t, y):
        return y[0]

    crossing.direction = 1.0
    y0 = [float(x[0]) for x in hh_rest_state(1, exact=False)]
    with np.errstate(over="ignore", invalid="ignore"):  # rejected trial steps may overflow exp; harmless
        sol = solve_ivp(rhs, (0.0, duration), y0, method="RK45", rtol=rtol, atol=atol, events=crossing)
    return np.array([sol.t_events[0].size])


def _check_single(out, ref):
    if abs(int(out[0]) - int(ref[0])) > 1:
        raise AssertionError(f"{int(out[0])} spikes, solve_ivp gives {int(ref[0])}")


register(Case(
    name="hh_single_vs_solve_ivp",
    area="neurons",
    description="one HH neuron at 10 uA/cm2, RK4 dt 0.01 ms (serial kernel) vs scipy solve_ivp RK45 (spike count)",
    make_inputs=_single_inputs,
    kernel=lambda I, duration, backend: simulate_hh(HH(), 1, duration, DT_FINE, I=I, method="rk4",
                                                    backend="cpu" if backend == "parallel" else backend).counts,
    baseline=scipy_hh,
    sizes={"test": [dict(duration=20.0)],
           "quick": [dict(duration=200.0)],
           "full": [dict(duration=1000.0)]},
    label=lambda duration: f"1 neuron x {duration:g} ms",
    check=_check_single,
    work=lambda duration: {"updates": int(round(duration / DT_FINE))},
))


# ---------------------------------------------------------------- Izhikevich population
_RS = Izhikevich.regular_spiking()
DT_IZH = 0.5  # ms: the paper's scheme at half its step (see _check_izh_counts)
I_IZH = (0.0, 20.0)  # mV/ms: silent, onset (~3.8) and tonic firing up to ~43 Hz


def _izh_inputs(n, steps):
    return (np.random.default_rng(0).uniform(*I_IZH, n), steps)


def numpy_izhikevich(I, steps, dt=DT_IZH, a=_RS.a, b=_RS.b, c=_RS.c, d=_RS.d, v_peak=_RS.v_peak):
    """The honest vectorised NumPy loop of the paper's scheme; returns spike counts per neuron
    (:func:`fastkernels.neurons._reference.izhikevich_euler`)."""
    return izhikevich_euler(I, steps, dt, a, b, c, d, v_peak)


def _izhikevich(I, steps, backend, dtype=np.float64):
    return simulate_izhikevich(_RS, I.size, steps * DT_IZH, DT_IZH, I=I, method="euler", dtype=dtype,
                               backend=backend).counts


def _izhikevich_float32():
    """the same run with dtype=float32 (float32 state and step arithmetic), same backend"""
    return _float32(_izhikevich)


def _check_izh_counts(out, ref):
    """As the HH cases: equal spike counts, except at most 0.2% of neurons one spike apart.

    The kernel contracts to fused multiply-adds, so its states differ from NumPy's by ulps, and
    this scheme amplifies such differences: the step that crosses ``v_peak`` overshoots by a
    steep (two nested quadratics) function of the ``v`` it starts from, and ``u``'s update in
    that step sees the overshoot, so every spike stretches the gap. At dt 0.5 ms
    the gap grows over ~1 s (NumPy against itself with ``I`` one ulp larger: 0 of 10 000 neurons
    differ after 500 ms, 19% by up to 6 spikes after 5 s; at the paper's dt = 1 ms, 22% differ
    after 1 s). The sizes keep runs at 500 ms, where at most a neuron or two differs by one spike.
    """
    _check_counts(out, ref)


register(Case(
    name="izhikevich_population",
    area="neurons",
    description="Izhikevich RS population, the paper's half-step Euler, dt 0.5 ms, I ~ U(0, 20) (spike counts)",
    make_inputs=_izh_inputs,
    kernel=_izhikevich,
    baseline=numpy_izhikevich,
    # Longer runs, not more steps, would need a statistical check (see _check_izh_counts).
    sizes={"test": [dict(n=200, steps=200)],
           "quick": [dict(n=10_000, steps=1000)],
           "full": [dict(n=100_000, steps=1000)]},
    label=lambda n, steps: f"{n} neurons x {steps} steps, dt 0.5",
    check=_check_izh_counts,
    work=lambda n, steps: {"updates": n * steps},
    bounds={"float32": _izhikevich_float32},
))
