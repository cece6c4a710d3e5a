"""Hodgkin-Huxley populations: RK4, forward Euler (Euler-Maruyama with noise) and exponential Euler.

Model (per neuron; V in mV, t in ms, currents in uA/cm^2, conductances in mS/cm^2,
capacitance in uF/cm^2)::

    C_m dV/dt = I(t) - g_Na m^3 h (V - E_Na) - g_K n^4 (V - E_K) - g_L (V - E_L) + sigma xi(t)
    dx/dt     = phi (alpha_x(u) (1 - x) - beta_x(u) x),   x in {m, h, n},   u = V + V_shift

with the rate functions (1/ms) of the modern convention (Dayan & Abbott 2001; Gerstner et al.,
*Neuronal Dynamics*; rest -65 mV)::

    alpha_m = 0.1 (u + 40) / (1 - exp(-(u + 40)/10))     beta_m = 4 exp(-(u + 65)/18)
    alpha_h = 0.07 exp(-(u + 65)/20)                      beta_h = 1 / (1 + exp(-(u + 35)/10))
    alpha_n = 0.01 (u + 55) / (1 - exp(-(u + 55)/10))    beta_n = 0.125 exp(-(u + 65)/80)

``alpha_m`` and ``alpha_n`` have removable singularities at u = -40 and -55 mV (limits 1.0 and
0.1 per ms). Both are written as ``x / (1 - exp(-x))`` (the reciprocal of ``exprel(-x)``),
evaluated with a branch-free select between the closed form and its Taylor series
``1 + x/2 + x^2/12 - x^4/720 + x^6/30240 - x^8/1209600`` for ``|x| < 0.1``: exact at the
singular voltages, relative error below 2e-14 everywhere (tested against NumPy). The kernels
evaluate all six rates with two exponentials and one division (:func:`rates`). The 1952
convention (voltages measured from rest, rest 0 mV) is the same model shifted by 65 mV:
:meth:`HH.hh1952` sets ``V_shift = -65`` so the same rate code serves both.

Integrators (``dt`` in ms; the input is held constant over a step):

* ``rk4``: classic fourth-order Runge-Kutta on the 4-D system (the reference: the digest's
  table was computed with it at ``dt = 0.01`` ms).
* ``euler``: forward Euler; with ``sigma > 0`` it is Euler-Maruyama,
  ``V += dt/C_m (...) + sigma sqrt(dt)/C_m N(0, 1)`` (one stream per neuron).
* ``exponential_euler``: Rush-Larsen. Each gate relaxes exactly towards ``x_inf`` with
  ``tau_x = 1/(phi (alpha_x + beta_x))`` at the voltage of the step start, and ``V`` relaxes
  exactly towards the reversal potential of the total conductance (the gates held), as
  Brian2's ``exponential_euler`` does. Both are written ``x + dt f (1 - exp(-z)) / z`` with
  ``z = dt / tau`` (a Taylor series for small ``z``), finite when a conductance is 0. First
  order, but stable at ``dt = 0.1`` ms, where RK4 and Euler blow up (``SimulationError``).

Spikes are upward crossings of ``V_threshold``: a spike is recorded in step ``k`` when
``V(k dt) <= V_threshold < V((k+1) dt)``, with the time ``k dt`` of the *step start* (Brian2's
convention for grid methods; the crossing itself lies in ``[k dt, (k+1) dt)``). HH needs no
reset or refractory period: the dynamics produce both.

CPU kernels use the blocked layout of :mod:`fastkernels.neurons.lif` (time loop outside, a
branch-free loop across a block of neurons inside, vectorised by LLVM; ``exp`` is the
vectorisable polynomial of :mod:`fastkernels._exp`). One compiled kernel serves every method
and option (they are run-time arguments, branched on once per block and step) and both result
dtypes (integration is always float64). The CUDA kernel runs the same step function (cloned
with the hardware ``exp``: ``exp_poly`` does not compile for CUDA) in one thread per neuron.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np
from numba import prange

from .._backend import load_cuda, resolve_backend
from .._exp import exp_shifted_f64
from .._jit import FASTMATH, cpu_kernels, device, jit, retarget, specialise
from .._random import resolve_seed, seed_kept
from .._simd import inline_hint, no_hint, prefer_wide_vectors
from .._validate import as_array, check_choice, check_scalar
from . import _driver, _params
from ._driver import emit_spikes, stage_inputs
from ._params import (as_record, check_common, check_run, check_traces, field_array, first_step, per_neuron)
from .inputs import as_input
from .lif import ROW, blocked, unblocked
from .result import SimulationResult

METHODS = ("rk4", "euler", "exponential_euler")
RK4, EULER, EXP_EULER = 0, 1, 2
BLOCK = _driver.BLOCK
# State rows of the blocked layout: V, the gates, this step's noise draw and input.
V, M, H, N, XI, IN = range(6)
N_STATE = 6
STATE_NAMES = ("v", "m", "h", "n")
# Parameter rows: 1/C_m, conductances, reversal potentials, spike threshold, rate shift,
# temperature factor, noise current scale sigma/sqrt(dt).
INVC, GNA, GK, GL, ENA, EK, EL, VTH, SHIFT, PHI, SN = range(11)
N_PARAMS = 11
#: |V| above this (mV) is a runaway state (an unstable step, a bad parameter); the rate
#: functions' shared denominator stays finite below it.
V_LIMIT = 1e3
#: |m| + |h| + |n| above this is a runaway state (gates live in [0, 1]).
GATE_LIMIT = 1e3
#: Gates below this are taken as 0 before m^3 and n^4 (which would reach denormals, ~100x slower).
TINY = 1e-30
#: |V + V_shift| (mV) within which the rate functions are accurate (below about -2400 mV their
#: shared denominator overflows: alpha_m underflows to 0, then turns NaN below about -3600 mV);
#: ``V_shift`` is limited to +-(U_LIMIT - V_LIMIT) in simulations.
U_LIMIT = 2e3
#: Bytes every run allocates per neuron at least (see :data:`fastkernels.neurons.lif.MIN_BYTES_PER_NEURON`).
MIN_BYTES_PER_NEURON = 128
# exp(-1.5) and exp(0.5): alpha_n and beta_h reuse alpha_m's exponential.
_EXP_M15 = math.exp(-1.5)
_EXP_P05 = math.exp(0.5)
# Taylor coefficients of x / (1 - exp(-x)) = sum_k B_k (-x)^k / k! (Bernoulli numbers).
_T2, _T4, _T6, _T8 = 1.0 / 12.0, -1.0 / 720.0, 1.0 / 30240.0, -1.0 / 1209600.0
# Taylor coefficients of (1 - exp(-z)) / z = sum_k (-z)^k / (k + 1)!.
_R2, _R3, _R4, _R5, _R6, _R7, _R8 = (1.0 / 6.0, -1.0 / 24.0, 1.0 / 120.0, -1.0 / 720.0, 1.0 / 5040.0,
                                     -1.0 / 40320.0, 1.0 / 362880.0)


@dataclass
class HH:
    """Hodgkin-Huxley neuron parameters (scalars, or arrays of one value per neuron).

    The defaults are the modern parameter set (Dayan & Abbott; Gerstner et al.), resting at
    -65.00 mV; :meth:`hh1952` gives Hodgkin & Huxley's original convention (rest 0 mV).

    Parameters
    ----------
    C_m : float or array, uF/cm^2
        Membrane capacitance (> 0).
    g_Na, g_K, g_L : float or array, mS/cm^2
        Maximal sodium, potassium and leak conductances (>= 0).
    E_Na, E_K, E_L : float or array, mV
        Reversal potentials.
    V_rest : float or array, mV
        Default initial potential of :func:`simulate_hh` (gates start at steady state there).
        The resting potential proper is where the currents balance: -65.00 mV for the defaults.
    V_threshold : float or array, mV
        Spike detection threshold: a spike is an upward crossing.
    V_shift : float or array, mV
        The rate functions are evaluated at ``V + V_shift`` (0 for the modern convention,
        -65 for the 1952 convention).
    phi : float or array
        Temperature factor multiplying every gate rate (> 0); ``3 ** ((T - 6.3) / 10)`` at
        T degrees Celsius, see :func:`temperature_factor`.
    sigma : float or array, uA/cm^2 ms^(1/2)
        White-noise current amplitude (>= 0): ``C_m dV = (...) dt + sigma dW``; needs
        ``method="euler"`` (Euler-Maruyama).
    """

    C_m: object = 1.0
    g_Na: object = 120.0
    g_K: object = 36.0
    g_L: object = 0.3
    E_Na: object = 50.0
    E_K: object = -77.0
    E_L: object = -54.387
    V_rest: object = -65.0
    V_threshold: object = 0.0
    V_shift: object = 0.0
    phi: object = 1.0
    sigma: object = 0.0

    @classmethod
    def modern(cls, **overrides) -> "HH":
        """The modern parameter set (rest -65 mV, spikes detected at 0 mV); same as ``HH()``."""
        return cls(**overrides)

    @classmethod
    def hh1952(cls, **overrides) -> "HH":
        """Hodgkin & Huxley's 1952 convention: V is the depolarisation from rest (rest 0 mV).

        E_Na = 115, E_K = -12, E_L = 10.613 mV, the same conductances and capacitance, rates
        shifted by 65 mV (``V_shift = -65``) and spikes detected at 65 mV (the modern 0 mV), so
        every trajectory is the modern one plus 65 mV.
        """
        base = dict(E_Na=115.0, E_K=-12.0, E_L=10.613, V_rest=0.0, V_threshold=65.0, V_shift=-65.0)
        base.update(overrides)
        return cls(**base)

    def arrays(self, n: int) -> dict:
        """Every parameter validated and broadcast to ``(n,)`` float64.

        Raises
        ------
        TypeError
            ``n`` not an int; a field that is not a number or 1-D array of numbers.
        ValueError
            ``n < 1`` or too large for memory; a NaN or infinite field, an array of another
            length than ``n``, ``C_m`` or ``phi`` <= 0, a negative conductance or ``sigma``,
            ``|V_shift|`` or ``|V_rest|`` above 1000 mV. The field is named.
        """
        n = _params.check_n(n, MIN_BYTES_PER_NEURON)
        positive = {"C_m", "phi"}
        nonneg = {"g_Na", "g_K", "g_L", "sigma"}
        return {f.name: per_neuron(getattr(self, f.name), f.name, n, positive=f.name in positive,
                                   nonneg=f.name in nonneg, limit=_LIMITS.get(f.name)) for f in fields(self)}

    def rates(self, V):
        """Gate rates at membrane potential ``V`` (mV), in 1/ms, including ``phi`` and ``V_shift``.

        Parameters
        ----------
        V : float or array_like, mV

        Returns
        -------
        tuple of 6 ndarrays (floats for a scalar ``V`` and scalar parameters)
            ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)``, each the shape of ``V``
            (broadcast with per-neuron ``V_shift``/``phi``), computed by the kernels' own code.

        Raises
        ------
        TypeError
            ``V``, ``V_shift`` or ``phi`` not numbers (bool, str, complex, object).
        ValueError
            NaN or infinite values, ``phi <= 0``, ``V`` not broadcasting with per-neuron
            ``V_shift``/``phi``, ``|V + V_shift|`` above 2000 mV (the rate functions' accurate
            range), or a ``phi`` so large that a rate overflows.
        """
        v, shift, phi = self._broadcast(V)
        out = np.empty((6, v.size))
        _rates_kernel(v.ravel(), shift.ravel(), phi.ravel(), out)
        if not np.isfinite(out).all():
            i = int(np.flatnonzero(~np.isfinite(out).all(axis=0))[0])
            raise ValueError(f"phi = {phi.ravel()[i]!r} is too large: the gate rates overflow at V = {v.ravel()[i]!r}")
        if v.ndim == 0:
            return tuple(float(x[0]) for x in out)
        return tuple(out[i].reshape(v.shape) for i in range(6))

    def steady_state(self, V):
        """Steady-state gates ``(m_inf, h_inf, n_inf)`` at ``V`` (mV): ``alpha / (alpha + beta)``."""
        am, bm, ah, bh, an, bn = self.rates(V)
        return am / (am + bm), ah / (ah + bh), an / (an + bn)

    def _broadcast(self, V):
        v = np.asarray(as_array(V, "V", dtypes=(np.float64, np.float32, np.int64, np.int32)), dtype=np.float64)
        if not np.isfinite(v).all():
            raise ValueError("V must be finite")
        shift = field_array(self.V_shift, "V_shift")
        phi = field_array(self.phi, "phi")
        if not (phi > 0).all():
            raise ValueError(f"phi must be > 0, got {phi.ravel()[np.flatnonzero(phi.ravel() <= 0)[0]]}")
        try:
            v, shift, phi = np.broadcast_arrays(v, shift, phi)
        except ValueError:
            raise ValueError(f"V of shape {v.shape} does not broadcast with the per-neuron V_shift/phi "
                             f"of shapes {shift.shape}, {phi.shape}") from None
        u = v + shift
        if not (np.abs(u) <= U_LIMIT).all():
            i = int(np.flatnonzero(~(np.abs(u) <= U_LIMIT).ravel())[0])
            raise ValueError(f"V + V_shift must lie within +-{U_LIMIT:g} mV, where the rate functions are accurate; "
                             f"got V = {v.ravel()[i]!r}, V_shift = {shift.ravel()[i]!r}")
        return v.copy(), shift.copy(), phi.copy()  # C-contiguous copies of the broadcast views


#: Magnitude limits of HH fields (mV): the initial potential within the runaway limit, and a rate
#: shift that keeps ``V + V_shift`` in the rate functions' accurate range while |V| <= V_LIMIT.
_LIMITS = {"V_rest": V_LIMIT, "V_shift": U_LIMIT - V_LIMIT}


def temperature_factor(celsius: float, q10: float = 3.0, reference: float = 6.3) -> float:
    """The gate-rate factor ``phi = q10 ** ((celsius - reference) / 10)`` (HH's squid axon: 6.3 C, Q10 = 3).

    Raises
    ------
    TypeError
        An argument that is not a real number (bools included).
    ValueError
        NaN or infinite arguments, ``q10 <= 0``, or arguments whose factor overflows float64 or
        underflows to 0 (not a usable ``phi``), naming ``celsius`` and the factor's range.
    """
    celsius = check_scalar(celsius, "celsius")
    q10 = check_scalar(q10, "q10", lo=0, lo_open=True)
    reference = check_scalar(reference, "reference")
    exponent = (celsius - reference) / 10.0
    try:
        phi = float(q10 ** exponent) if math.isfinite(exponent) else math.inf
    except OverflowError:
        phi = math.inf
    if not (0.0 < phi < math.inf):
        raise ValueError(f"celsius = {celsius!r} (reference {reference!r}, q10 {q10!r}) gives a factor "
                         f"q10 ** {exponent:.4g} outside float64's positive range (1e-308 .. 1.8e308)")
    return phi


# ------------------------------------------------------------------ rate functions
@device
def _exp(x):
    """``exp(x)`` for the rate functions: exp_poly's float64 polynomial (< 1.5 ulp), vectorisable.

    :func:`fastkernels._exp.exp_shifted_f64` (no overflow handling, exact 0 below -707) with
    ``x`` capped at 700: every argument here is below that while |V| < 7000 mV. Called directly,
    not through the ``exp_poly`` overload (inlining that overload more than once per function
    trips a Numba IR warning). The CUDA clones replace it with ``math.exp``.
    """
    return exp_shifted_f64(x if x < 700.0 else 700.0)


@device
def taylor_x_over_1mexp(x):
    """Taylor series of ``x / (1 - exp(-x))`` at 0 through ``x^8``: truncation error < 3e-18 for ``|x| < 0.1``."""
    x2 = x * x
    return 1.0 + 0.5 * x + x2 * (_T2 + x2 * (_T4 + x2 * (_T6 + x2 * _T8)))


@device
def x_over_1mexp(x, emx):
    """``x / (1 - exp(-x))`` given ``emx = exp(-x)``: exactly 1 at ``x = 0``, relative error < 1e-14.

    A select (not a branch) between the closed form and :func:`taylor_x_over_1mexp` for ``|x| < 0.1``.
    """
    big = x / (1.0 - emx)  # NaN at x = 0: the select discards it
    return taylor_x_over_1mexp(x) if abs(x) < 0.1 else big


@device
def relax_factor(z, emz):
    """``(1 - exp(-z)) / z`` given ``emz = exp(-z)`` without the division, as ``(numerator, denominator)``.

    For ``|z| < 0.1`` the numerator is its Taylor series through ``z^8`` (error < 3e-16) and the
    denominator 1, so a caller can share one reciprocal among several factors.
    """
    taylor = 1.0 + z * (-0.5 + z * (_R2 + z * (_R3 + z * (_R4 + z * (_R5 + z * (_R6 + z * (_R7 + z * _R8)))))))
    small = abs(z) < 0.1
    return (taylor if small else 1.0 - emz), (1.0 if small else z)


@device
def alpha_m(u):
    """``0.1 (u + 40) / (1 - exp(-(u + 40)/10))`` in 1/ms (u in mV, modern convention); ``alpha_m(-40) = 1``."""
    x = (u + 40.0) * 0.1
    return x_over_1mexp(x, _exp(-x))


@device
def beta_m(u):
    """``4 exp(-(u + 65)/18)`` in 1/ms."""
    return 4.0 * _exp((u + 65.0) * (-1.0 / 18.0))


@device
def alpha_h(u):
    """``0.07 exp(-(u + 65)/20)`` in 1/ms."""
    return 0.07 * _exp((u + 65.0) * -0.05)


@device
def beta_h(u):
    """``1 / (1 + exp(-(u + 35)/10))`` in 1/ms."""
    return 1.0 / (1.0 + _exp((u + 35.0) * -0.1))


@device
def alpha_n(u):
    """``0.01 (u + 55) / (1 - exp(-(u + 55)/10))`` in 1/ms; ``alpha_n(-55) = 0.1``."""
    x = (u + 55.0) * 0.1
    return 0.1 * x_over_1mexp(x, _exp(-x))


@device
def beta_n(u):
    """``0.125 exp(-(u + 65)/80)`` in 1/ms."""
    return 0.125 * _exp((u + 65.0) * (-1.0 / 80.0))


@jit
def rates(u):
    """All six rates (1/ms) at ``u = V + V_shift`` (mV), before ``phi``: two exponentials and one division.

    ``exp(-(u+55)/10)`` and ``exp(-(u+35)/10)`` are ``e10 = exp(-(u+40)/10)`` times constants;
    ``exp(-(u+65)/80)``, ``/20`` and ``/18`` are the powers 9, 36 and 40 of ``w = exp(-(u+65)/720)``
    (relative error < 1e-14). The three quotients share one reciprocal; a denominator whose
    quotient takes the Taylor branch is replaced by 1, so the product is never 0 (and it stays
    finite for |u| < 1000 mV). Returns ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)``.
    """
    inline_hint()
    xm = (u + 40.0) * 0.1
    xn = (u + 55.0) * 0.1
    e10 = _exp(-xm)
    w = _exp((u + 65.0) * (-1.0 / 720.0))
    w2 = w * w
    w4 = w2 * w2
    w8 = w4 * w4
    w32 = (w8 * w8) * (w8 * w8)
    tm = abs(xm) < 0.1
    tn = abs(xn) < 0.1
    dm = 1.0 if tm else 1.0 - e10
    dn = 1.0 if tn else 1.0 - e10 * _EXP_M15
    dh = 1.0 + e10 * _EXP_P05
    r = 1.0 / (dm * dn * dh)
    am = taylor_x_over_1mexp(xm) if tm else xm * (dn * dh) * r
    an = 0.1 * (taylor_x_over_1mexp(xn) if tn else xn * (dm * dh) * r)
    bh = dm * dn * r
    ah = 0.07 * (w32 * w4)
    bn = 0.125 * (w8 * w)
    bm = 4.0 * (w32 * w8)
    return am, bm, ah, bh, an, bn


@jit
def conductances(m, h, n, gna, gk):
    """Open sodium and potassium conductances ``g_Na m^3 h`` and ``g_K n^4`` (mS/cm^2); tiny gates count as 0."""
    inline_hint()
    mm = m if abs(m) >= TINY else 0.0
    nn = n if abs(n) >= TINY else 0.0
    n2 = nn * nn
    return gna * (mm * mm * mm) * h, gk * (n2 * n2)


@jit
def derivatives(v, m, h, n, drive, invc, gna, gk, gl, ena, ek, el, shift, phi):
    """Slopes and relaxation rates at one state.

    Returns ``(dV/dt, dm/dt, dh/dt, dn/dt, G/C_m, phi (alpha_m + beta_m), phi (alpha_h + beta_h),
    phi (alpha_n + beta_n))`` in mV/ms and 1/ms (``drive`` in uA/cm^2, ``G`` the total
    conductance); the last four are the inverse time constants exponential Euler needs.
    """
    inline_hint()
    am, bm, ah, bh, an, bn = rates(v + shift)
    gna_, gk_ = conductances(m, h, n, gna, gk)
    dv = (drive - gna_ * (v - ena) - gk_ * (v - ek) - gl * (v - el)) * invc
    sm, sh, sn = am + bm, ah + bh, an + bn
    return (dv, phi * (am - sm * m), phi * (ah - sh * h), phi * (an - sn * n), (gl + gna_ + gk_) * invc, phi * sm,
            phi * sh, phi * sn)


@jit
def _finish(v, vn, mn, hn, nn, vth):
    """``(V, m, h, n, spiked, bad)``: an upward threshold crossing; NaN or runaway state."""
    inline_hint()
    spiked = (v <= vth) & (vn > vth)
    ok = (abs(vn) <= V_LIMIT) & (abs(mn) + abs(hn) + abs(nn) <= GATE_LIMIT)
    return vn, mn, hn, nn, spiked, not ok


@jit
def hh_step(v, m, h, n, drive, xi, invc, gna, gk, gl, ena, ek, el, vth, shift, phi, sn, dt, method):
    """One step of one neuron by ``method`` (RK4, EULER or EXP_EULER); shared by the CPU and CUDA kernels.

    ``drive`` (uA/cm^2) is held over the step; ``xi`` is a standard normal draw that
    ``sn = sigma / sqrt(dt)`` turns into a noise current (Euler-Maruyama; ``sn`` is 0 for the
    other methods). The stages are a loop around one call of :func:`derivatives` (one stage
    for Euler and exponential Euler, four for RK4): LLVM unrolls it in the CPU kernels, which
    fix ``method`` at compile time and still vectorise across neurons, while Numba and
    numba-cuda compile the derivatives once per kernel instead of six times (seconds of
    compile time each). Returns ``(V, m, h, n, spiked, bad)``.
    """
    inline_hint()
    i_ = drive + sn * xi
    hdt = 0.5 * dt
    kv = km = kh = kn = 0.0  # the last stage's slopes
    sv = sm = sh = sn_ = 0.0  # RK4: k1 + 2 k2 + 2 k3 + k4
    gv = rm = rh = rn = 0.0  # inverse time constants (exponential Euler)
    for s in range(4 if method == RK4 else 1):
        c = 0.0 if s == 0 else (dt if s == 3 else hdt)
        w = 1.0 if (s == 0) | (s == 3) else 2.0
        kv, km, kh, kn, gv, rm, rh, rn = derivatives(v + c * kv, m + c * km, h + c * kh, n + c * kn, i_, invc, gna,
                                                     gk, gl, ena, ek, el, shift, phi)
        sv += w * kv
        sm += w * km
        sh += w * kh
        sn_ += w * kn
    if method == RK4:
        dt6 = dt / 6.0
        vn, mn, hn, nn = v + dt6 * sv, m + dt6 * sm, h + dt6 * sh, n + dt6 * sn_
    elif method == EXP_EULER:
        # Rush-Larsen: x + dt f (1 - e^-z) / z == x_inf + (x - x_inf) e^-z with z = dt / tau, the
        # coefficients frozen at the step start; the four quotients share one reciprocal.
        zv, zm, zh, zn = dt * gv, dt * rm, dt * rh, dt * rn
        pv, qv = relax_factor(zv, _exp(-zv))
        pm, qm = relax_factor(zm, _exp(-zm))
        ph, qh = relax_factor(zh, _exp(-zh))
        pn, qn = relax_factor(zn, _exp(-zn))
        qvm, qhn = qv * qm, qh * qn
        r = dt / (qvm * qhn)
        vn, mn = v + kv * pv * (qm * qhn) * r, m + km * pm * (qv * qhn) * r
        hn, nn = h + kh * ph * (qvm * qn) * r, n + kn * pn * (qvm * qh) * r
    else:  # forward Euler (Euler-Maruyama)
        vn, mn, hn, nn = v + dt * kv, m + dt * km, h + dt * kh, n + dt * kn
    return _finish(v, vn, mn, hn, nn, vth)


#: What :func:`cuda_step` clones for CUDA, callees first.
DEVICE_CHAIN = ("rates", "conductances", "derivatives", "_finish", "hh_step")


@jit
def _rates_kernel(v, shift, phi, out):
    for i in range(v.size):
        am, bm, ah, bh, an, bn = rates(v[i] + shift[i])
        p = phi[i]
        out[0, i], out[1, i], out[2, i] = p * am, p * bm, p * ah
        out[3, i], out[4, i], out[5, i] = p * bh, p * an, p * bn


def cuda_step():
    """:func:`hh_step` for CUDA (hardware ``exp``): the same source as the CPU's."""
    return retarget(globals(), DEVICE_CHAIN, _exp=math.exp, inline_hint=no_hint)["hh_step"]


RATE_FUNCTIONS = ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n")


def cuda_rate_functions() -> dict:
    """:func:`alpha_m` ... :func:`beta_n` for user CUDA kernels: ``{name: device function}`` (hardware ``exp``).

    The helpers above call the CPU's vectorisable ``exp``; these clones are the same source
    for ``@cuda.jit`` code, with the singularities handled identically.
    """
    return retarget(globals(), RATE_FUNCTIONS, _exp=math.exp)


# ------------------------------------------------------------------ CPU kernels
def _loop_template(sb, pb, drive, ic, flags, m, dt):
    """Step the ``m`` neurons of one block once; returns ``(spikes, bad states)``.

    ``sb``/``pb`` are the block's state and parameter rows, flattened: every access is
    ``row * ROW + j`` off one base pointer, so LLVM proves the rows independent and
    vectorises the loop across neurons without runtime alias checks. A template: the
    kernels use clones with the method code as the global ``_METHOD``.
    """
    prefer_wide_vectors()
    nsp = 0
    nbad = 0
    for j in range(m):  # the hot loop: straight-line code, vectorised across neurons
        vn, mn, hn, nn, sp, bad = hh_step(
            sb[V * ROW + j], sb[M * ROW + j], sb[H * ROW + j], sb[N * ROW + j], drive[j] + ic, sb[XI * ROW + j],
            pb[INVC * ROW + j], pb[GNA * ROW + j], pb[GK * ROW + j], pb[GL * ROW + j], pb[ENA * ROW + j],
            pb[EK * ROW + j], pb[EL * ROW + j], pb[VTH * ROW + j], pb[SHIFT * ROW + j], pb[PHI * ROW + j],
            pb[SN * ROW + j], dt, _METHOD)  # noqa: F821 (a compile-time constant of the clones)
        sb[V * ROW + j] = vn
        sb[M * ROW + j] = mn
        sb[H * ROW + j] = hn
        sb[N * ROW + j] = nn
        flags[j] = sp
        nsp += sp
        nbad += bad
    return nsp, nbad


# One vectorised step loop per method (each compiled on its own, called once per block and step).
_LOOPS = tuple(jit(specialise(_loop_template, "_hh_loop_" + name, _METHOD=code), fastmath=FASTMATH)
               for code, name in enumerate(METHODS))
_loop_rk4, _loop_euler, _loop_exp_euler = _LOOPS


@jit
def _block(b, S, P, rows, common, key, noisy, method, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err, rec, rec_lo,
           stride, traces):
    """Advance block ``b`` from its step ``k_begin[b]`` to ``k_end`` (or until its spike buffer is full).

    Time loop outside, neurons inside (:func:`_loop_template`). ``noisy`` and ``method`` are
    run-time arguments: one compiled kernel serves every configuration (the branch is taken
    once per block and step, never per neuron). Parameters are always per neuron (HH is
    compute-bound: reading them costs little).
    """
    n = rows.shape[1]
    cap = spk_t.shape[1]
    varying = rows.shape[0] > 1
    lo = b * BLOCK
    m = min(n, lo + BLOCK) - lo
    sb = S[b].reshape(-1)
    pb = P[b].reshape(-1)
    inp, xi = sb[IN * ROW:IN * ROW + m], sb[XI * ROW:XI * ROW + m]
    drive = inp if varying else rows[0, lo:lo + m]
    # Spike flags of one step, scanned eight at a time through a uint64 view.
    flags = np.zeros(ROW, dtype=np.uint8)
    words = flags.view(np.uint64)
    cnt = spk_n[b]
    k = k_begin[b]
    while k < k_end:
        if cnt + m > cap:
            break
        if rec_lo[b + 1] > rec_lo[b] and (k - k0) % stride == 0:
            row = (k - k0) // stride
            for r in range(rec_lo[b], rec_lo[b + 1]):
                j = rec[r] - lo
                for q in range(4):
                    traces[q, r, row] = sb[q * ROW + j]  # rows V, M, H, N
        ic = stage_inputs(inp, xi, rows, common, key, k, k0, lo, m, noisy)
        if method == RK4:
            nsp, nbad = _loop_rk4(sb, pb, drive, ic, flags, m, dt)
        elif method == EULER:
            nsp, nbad = _loop_euler(sb, pb, drive, ic, flags, m, dt)
        else:
            nsp, nbad = _loop_exp_euler(sb, pb, drive, ic, flags, m, dt)
        if nbad:
            for j in range(m):
                g = abs(sb[M * ROW + j]) + abs(sb[H * ROW + j]) + abs(sb[N * ROW + j])
                if not ((abs(sb[V * ROW + j]) <= V_LIMIT) & (g <= GATE_LIMIT)):
                    err[b, 0] = k
                    err[b, 1] = lo + j
                    break
            break
        if nsp:
            cnt = emit_spikes(flags, words, nsp, m, lo, k * dt, b, spk_t, spk_i, cnt)
        k += 1
    k_begin[b] = k
    spk_n[b] = cnt


def _blocks(S, P, rows, common, key, noisy, method, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err, rec, rec_lo,
            stride, traces):
    """Every block, ``prange`` over blocks in the parallel build (each block is compiled on its own).

    ``np.int64(b)``: a ``prange`` index is unsigned in the parallel build, and ``_block`` would
    otherwise be compiled a second time for a ``uint64`` argument.
    """
    for b in prange(k_begin.shape[0]):
        _block(np.int64(b), S, P, rows, common, key, noisy, method, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err,
               rec, rec_lo, stride, traces)


#: The (serial, parallel) kernels: one compile each, whatever the method, options and result dtype.
_blocks_cpu, _blocks_parallel = cpu_kernels(_blocks)


# ------------------------------------------------------------------ API
_PARAM_ORDER = ("inv_c", "g_Na", "g_K", "g_L", "E_Na", "E_K", "E_L", "V_threshold", "V_shift", "phi", "sn")
_STATE_ORDER = ("v", "m", "h", "n", "xi", "input")  # the blocked rows V, M, H, N, XI, IN


def _initial_state(model, p, n, v0, initial):
    """Initial ``v, m, h, n`` (each ``(n,)`` float64) from ``v0`` or a previous final state (a dict
    already checked by :func:`_initial_step`), refused beyond the runaway limits."""
    if initial is not None:
        v = per_neuron(initial["v"], "initial['v']", n, limit=V_LIMIT)
    else:
        v = p["V_rest"] if v0 is None else per_neuron(v0, "v0", n, limit=V_LIMIT)
    gates = HH(V_shift=p["V_shift"], phi=p["phi"]).steady_state(v)
    state = {"v": v}
    for name, g in zip(("m", "h", "n"), gates):
        state[name] = per_neuron(initial[name], f"initial[{name!r}]", n, limit=GATE_LIMIT / 3) \
            if initial is not None and name in initial else g
    return state


def _initial_step(initial):
    if not isinstance(initial, dict) or "v" not in initial or "step" not in initial:
        raise TypeError("initial must be the final_state dict of a previous HH result (keys 'v', 'm', 'h', "
                        "'n', 'step')")
    return initial["step"]


def simulate_hh(model: HH, n: int, duration: float, dt: float = 0.01, *, I=None, v0=None, initial=None,
                method: str = "rk4", seed=None, record=None, record_every: int = 1, t_start: float = 0.0,
                dtype=np.float64, backend: str = "auto") -> SimulationResult:
    """Simulate ``n`` independent Hodgkin-Huxley neurons for ``duration`` ms.

    Parameters
    ----------
    model : HH
        Parameters (scalars or ``(n,)`` arrays).
    n : int
        Number of neurons.
    duration : float, ms
        Simulated time; a whole number of steps.
    dt : float, ms
        Time step (default 0.01 ms, the reference table's). RK4 and Euler need ``dt`` <= ~0.05 ms
        (they blow up at 0.1 ms: ``SimulationError``); exponential Euler is stable at 0.1 ms.
    I : None, float, array or callable, uA/cm^2
        Input current density: a scalar, ``(n,)`` per neuron, ``(n_steps, 1)`` shared series,
        ``(n_steps, n)`` or a function of ``t`` (ms); held constant over each step
        (see :func:`fastkernels.neurons.inputs.as_input`).
    v0 : float or (n,) array, mV, optional
        Initial potential (default ``model.V_rest``); the gates start at their steady state there.
    initial : dict, optional
        A previous result's ``final_state`` (``v``, ``m``, ``h``, ``n``, ``step``): continues
        that run (overrides ``v0`` and ``t_start``). Missing gates start at steady state.
    method : {"rk4", "euler", "exponential_euler"}
        Integrator (see the module docstring). Noise (``sigma > 0``) needs ``"euler"``.
    seed : None, int or numpy.random.Generator
        Noise seed; neuron ``i`` draws from its own stream, so results do not depend on the
        backend or thread count.
    record : None, True, int or sequence of int
        Neurons whose state (``v``, ``m``, ``h``, ``n``) is traced, sampled at step starts.
    record_every : int
        Trace stride in steps.
    t_start : float, ms
        Time of the first step (inputs given as functions see ``t_start + k dt``).
    dtype : {float64, float32}
        Precision of the returned traces and final state. The integration itself always runs in
        float64: the step's arithmetic is float64 anyway (float32 storage would only add rounding),
        and one compiled kernel serves both.
    backend : {"auto", "cpu", "parallel", "cuda"}

    Returns
    -------
    SimulationResult
        Spikes (upward crossings of ``V_threshold``, stamped with the step start ``k dt``),
        traces ``v`` (mV), ``m``, ``h``, ``n`` of shape ``(len(record), n_rows)`` and the final state.

    Raises
    ------
    TypeError
        ``model`` not an :class:`HH`; a parameter field, ``I``, ``v0``, ``n``, ``record``,
        ``record_every``, ``dtype`` or ``seed`` of the wrong type (bools, strings, objects and
        complex values are never numbers); ``initial`` not a previous result's final state.
    ValueError
        Every other bad value, before anything runs, naming the argument or the parameter field:
        NaN or infinite values; ``n < 1``; ``dt <= 0``; a ``duration`` that is not a whole number
        of steps or more than 2**53 steps (``t_start`` or ``initial['step']`` beyond step
        +-2**53); per-neuron arrays of the wrong length; ``C_m``/``phi`` <= 0, negative
        conductances or ``sigma``; ``v0``, ``V_rest`` or an initial ``v`` beyond +-1000 mV, initial
        gates beyond +-333; ``|V_shift|`` above 1000 mV; noise with a method other than Euler; an
        unknown ``method``/``backend``; a population (``n``) or traces (``record`` x samples) too
        large for this machine's memory (:func:`fastkernels._validate.max_bytes`).
    SimulationError
        A state became NaN or ran away (|V| > 1e3 mV, e.g. RK4 or Euler at ``dt`` >= 0.1 ms, or an
        input far beyond the physiological range); names the step and the neuron.
    BackendUnavailableError
        ``backend="cuda"`` without a usable GPU.
    """
    if not isinstance(model, HH):
        raise TypeError(f"model must be a fastkernels.neurons.HH, got {type(model).__name__}")
    check_common(seed, backend)
    n, n_steps, dt, dtype = check_run(n, duration, dt, dtype, bytes_per_neuron=MIN_BYTES_PER_NEURON)
    check_choice(method, "method", METHODS)
    record_every = _params.stride(record_every, n_steps)
    t_start = check_scalar(t_start, "t_start")
    p = model.arrays(n)
    noisy = bool((p["sigma"] > 0).any())
    if noisy and method != "euler":
        raise ValueError(f"noise (sigma > 0) needs method='euler' (Euler-Maruyama), got {method!r}")
    k0 = first_step(t_start, dt, n_steps, None if initial is None else _initial_step(initial))
    state = _initial_state(model, p, n, v0, initial)
    t_start = k0 * dt
    k1 = k0 + n_steps
    # The kernels integrate in float64 whatever ``dtype`` (it sets the precision of the results).
    rows, common = as_input(I, "I", n=n, n_steps=n_steps, t0=t_start, dt=dt, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore"):  # checked just below
        p["inv_c"] = 1.0 / p["C_m"]
        p["sn"] = p["sigma"] / math.sqrt(dt)  # noise current density held over one step
    _params.check_finite_result({"C_m (1 / C_m)": p["inv_c"], "sigma and dt (the noise current)": p["sn"]},
                                "HH coefficients")
    code = METHODS.index(method)
    rec = as_record(record, n)
    n_rows = _driver.n_trace_rows(n_steps, record_every)
    check_traces(4, rec, n_rows, 8 + dtype.itemsize)
    # One HH update costs ~20 LIF updates: leave the serial kernel sooner.
    backend = resolve_backend(backend, work=20 * n * n_steps)
    # Fresh blocked copies: the kernels never write the caller's arrays.
    P = blocked(p, _PARAM_ORDER, n, np.float64)
    S = blocked(state, _STATE_ORDER, n, np.float64)
    traces = np.zeros((4, rec.size, n_rows), dtype=np.float64)
    with seed_kept(seed):
        key = resolve_seed(seed) if noisy else np.int64(0)
        times, ids = _run_hh(n, k0, k1, dt, code, noisy, backend, S, P, rows, common, key, rec, record_every, traces)
    final = {name: unblocked(S, r, n).astype(dtype, copy=False) for r, name in enumerate(STATE_NAMES)}
    final["step"] = k1
    return SimulationResult(
        spike_times=times, spike_neurons=ids, n=n, t_start=t_start, duration=n_steps * dt, dt=dt,
        trace_neurons=rec, trace_times=(k0 + np.arange(n_rows) * record_every) * dt,
        traces={name: traces[i].astype(dtype, copy=False) for i, name in enumerate(STATE_NAMES)}, final_state=final)


def _run_hh(n, k0, k1, dt, code, noisy, backend, S, P, rows, common, key, rec, record_every, traces):
    if backend == "cuda":
        cu = load_cuda("fastkernels.neurons._cuda")
        launch, finish = cu.hh_launcher(S, P, rows, common, key, k0, dt, code, noisy, rec, record_every, traces)
        times, ids = _driver.run(launch, units=n, k0=k0, k1=k1, per_step=1, dt=dt, buffers=1,
                                 capacity=cu.buffer_capacity(n, 1))
        finish()
    else:
        kern = _blocks_parallel if backend == "parallel" else _blocks_cpu
        rec_lo = _driver.record_ranges(rec, n, BLOCK)

        def launch(k_begin, k_end, spk_t, spk_i, spk_n, err):
            kern(S, P, rows, common, key, noisy, code, k_begin, k_end, k0, dt, spk_t, spk_i, spk_n, err, rec, rec_lo,
                 record_every, traces)

        times, ids = _driver.run(launch, units=S.shape[0], k0=k0, k1=k1, per_step=min(n, BLOCK), dt=dt)
    return times, ids
