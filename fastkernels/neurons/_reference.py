"""Plain NumPy references of the neuron models, imported by both the tests and the benchmarks.

Each is the model written the way a NumPy user would: vectorised across neurons, a Python
time loop, the package's schedule (update, threshold test on the updated state, spike stamped
with the step start ``k dt``, reset). They share no code with the kernels. Used as baselines by
:mod:`fastkernels.neurons._bench` / :mod:`fastkernels.neurons._bench_models` and as references
by ``tests/test_neurons_*.py``.
"""

from __future__ import annotations

import numpy as np

# The modern HH parameter set (Dayan & Abbott; the defaults of fastkernels.neurons.HH).
HH_PARAMS = dict(C_m=1.0, g_Na=120.0, g_K=36.0, g_L=0.3, E_Na=50.0, E_K=-77.0, E_L=-54.387)


# ---------------------------------------------------------------- LIF
def lif_exact_counts(I, steps, tau=10.0, tau_ref=2.0, dt=0.1, threshold=1.0, reset=0.0):
    """Vectorised NumPy LIF time loop (exact update, Brian2's schedule, rest 0): spike counts per neuron.

    ``tau`` and ``tau_ref`` (ms) may be scalars or per-neuron arrays; the refractory period is
    ``floor(tau_ref / dt + 1e-3)`` whole steps (Brian2's ``timestep``).
    """
    I = np.asarray(I, dtype=np.float64)
    n = I.size
    v = np.zeros(n)
    a = np.exp(-dt / np.asarray(tau, dtype=np.float64))
    since = np.full(n, 1 << 30)
    ref_steps = np.floor((np.asarray(tau_ref, dtype=np.float64) + 1e-3 * dt) / dt).astype(np.int64)
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


# ---------------------------------------------------------------- Hodgkin-Huxley
def hh_rates(V, exact=True):
    """The modern HH rate functions (1/ms) at ``V`` (mV): ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)``.

    ``exact``: ``expm1`` and the limits 1.0 and 0.1 at the removable singularities -40 and -55 mV
    (the tests' accuracy reference); otherwise ``x / (1 - exp(-x))`` as a NumPy user writes it
    (NumPy's SIMD ``exp``: the benchmarks' baseline, inaccurate only within ~1e-6 mV of the
    singular points, and several times faster than the scalar ``expm1``).
    """
    V = np.asarray(V, dtype=np.float64)
    if not exact:
        return (0.1 * (V + 40.0) / (1.0 - np.exp(-(V + 40.0) / 10.0)), 4.0 * np.exp(-(V + 65.0) / 18.0),
                0.07 * np.exp(-(V + 65.0) / 20.0), 1.0 / (1.0 + np.exp(-(V + 35.0) / 10.0)),
                0.01 * (V + 55.0) / (1.0 - np.exp(-(V + 55.0) / 10.0)), 0.125 * np.exp(-(V + 65.0) / 80.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        am = np.where(V == -40, 1.0, 0.1 * (V + 40) / -np.expm1(-(V + 40) / 10))
        an = np.where(V == -55, 0.1, 0.01 * (V + 55) / -np.expm1(-(V + 55) / 10))
    return am, 4 * np.exp(-(V + 65) / 18), 0.07 * np.exp(-(V + 65) / 20), 1 / (1 + np.exp(-(V + 35) / 10)), \
        an, 0.125 * np.exp(-(V + 65) / 80)


def hh_rest_state(n, v0=-65.0, exact=True):
    """``(v, m, h, n)``: ``n`` neurons at ``v0`` (mV) with the gates at their steady state there."""
    v = np.full(n, float(v0))
    am, bm, ah, bh, an, bn = hh_rates(v, exact)
    return v, am / (am + bm), ah / (ah + bh), an / (an + bn)


def hh_derivatives(v, m, h, n, I, p=HH_PARAMS, exact=True):
    """``(dV/dt, dm/dt, dh/dt, dn/dt)`` of the modern HH model (``I`` in uA/cm^2; ``exact``: see :func:`hh_rates`)."""
    am, bm, ah, bh, an, bn = hh_rates(v, exact)
    n2 = n * n
    dv = (I - p["g_Na"] * (m * m * m) * h * (v - p["E_Na"]) - p["g_K"] * (n2 * n2) * (v - p["E_K"])
          - p["g_L"] * (v - p["E_L"])) / p["C_m"]
    return dv, am * (1.0 - m) - bm * m, ah * (1.0 - h) - bh * h, an * (1.0 - n) - bn * n


def hh_rk4(I, steps, dt, v0=-65.0, record=False, exact=True):
    """Vectorised NumPy RK4 of the modern HH set from rest at ``v0``; spikes are upward 0 mV crossings.

    Returns spike counts per neuron, or with ``record`` ``(V trace (steps + 1, n), crossings (steps, n))``.
    ``exact``: the rate functions' form (see :func:`hh_rates`).
    """
    I = np.asarray(I, dtype=np.float64)
    y = hh_rest_state(I.size, v0, exact)
    p = HH_PARAMS
    counts = np.zeros(I.size, dtype=np.int64)
    vs = [y[0]]
    half = 0.5 * dt
    for _ in range(steps):
        k1 = hh_derivatives(*y, I, p, exact)
        k2 = hh_derivatives(*(a + half * b for a, b in zip(y, k1)), I, p, exact)
        k3 = hh_derivatives(*(a + half * b for a, b in zip(y, k2)), I, p, exact)
        k4 = hh_derivatives(*(a + dt * b for a, b in zip(y, k3)), I, p, exact)
        new = tuple(a + dt / 6.0 * (b + 2.0 * (c + d) + e) for a, b, c, d, e in zip(y, k1, k2, k3, k4))
        if record:
            vs.append(new[0])
        else:
            counts += (y[0] <= 0.0) & (new[0] > 0.0)
        y = new
    if record:
        vs = np.array(vs)
        return vs, (vs[:-1] <= 0) & (vs[1:] > 0)
    return counts


def hh_exp_euler(I, steps, dt=0.1, p=HH_PARAMS, exact=True):
    """Vectorised NumPy exponential-Euler (Rush-Larsen) HH loop from rest; spike counts per neuron
    (``exact``: the rate functions' form, see :func:`hh_rates`)."""
    I = np.asarray(I, dtype=np.float64)
    v, m, h, n = hh_rest_state(I.size, exact=exact)
    counts = np.zeros(I.size, dtype=np.int64)
    for _ in range(steps):
        am, bm, ah, bh, an, bn = hh_rates(v, exact)
        gna = p["g_Na"] * (m * m * m) * h
        n2 = n * n
        gk = p["g_K"] * (n2 * n2)
        g = gna + gk + p["g_L"]
        v_inf = (gna * p["E_Na"] + gk * p["E_K"] + p["g_L"] * p["E_L"] + I) / g
        vn = v_inf + (v - v_inf) * np.exp(-dt * g / p["C_m"])
        sm, sh, sn = am + bm, ah + bh, an + bn
        m = am / sm + (m - am / sm) * np.exp(-dt * sm)
        h = ah / sh + (h - ah / sh) * np.exp(-dt * sh)
        n = an / sn + (n - an / sn) * np.exp(-dt * sn)
        counts += (v <= 0.0) & (vn > 0.0)
        v = vn
    return counts


# ---------------------------------------------------------------- Izhikevich
def izhikevich_euler(I, steps, dt, a, b, c, d, v_peak=30.0):
    """Vectorised NumPy loop of Izhikevich (2003)'s scheme from ``v = -65``, ``u = b v``; spike counts.

    Two forward-Euler half steps of ``v``, then ``u`` with the new ``v``; threshold, count and
    reset in the same step (the package's schedule: the paper's MATLAB loop tests ``v >= 30`` at
    the top of the next iteration, which only labels the spike one step later).
    """
    I = np.asarray(I, dtype=np.float64)
    v = np.full(I.size, -65.0)
    u = b * v
    hdt = 0.5 * dt
    counts = np.zeros(I.size, dtype=np.int64)
    for _ in range(steps):
        v1 = v + hdt * ((0.04 * v + 5.0) * v + 140.0 - u + I)
        v = v1 + hdt * ((0.04 * v1 + 5.0) * v1 + 140.0 - u + I)
        u = u + dt * (a * (b * v - u))
        spiked = v >= v_peak
        v[spiked] = c
        u[spiked] += d
        counts += spiked
    return counts
