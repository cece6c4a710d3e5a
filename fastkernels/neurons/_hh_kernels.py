"""The Hodgkin-Huxley equations as kernels: rate functions, the step of every method, the CPU
step loops the population engine runs and their CUDA clones (see :mod:`fastkernels.neurons.hh`
for the model, the rate functions' accuracy and the integrators).

Every function here computes in the precision of its arguments: float64 or float32 (the
engine's working dtype). Constants are written with :func:`~fastkernels._precision.like`
(the literal in the arguments' precision) or, where the value itself depends on the precision,
:func:`~fastkernels._precision.per_precision`; a float32 step therefore contains no float64
operation (LLVM vectorises it 8 lanes wide on AVX2, 4 for float64). The float64 code is what it
was before float32 existed, to the bit. Float32 specifics (compile-time choices, through
:func:`per_precision` and :func:`~fastkernels._precision.is_float32`):

* ``exp`` is ``exp_shifted_f32`` (< 1.5 ulp, capped at 88 rather than 700), and :func:`rates`
  caps the one argument that grows with hyperpolarisation, ``-(u + 40)/10`` behind ``alpha_m``,
  ``alpha_n`` and ``beta_h``, at :data:`E10_CAP_F32`: their shared denominator (the cube of
  ``exp(-(u+40)/10)``) would overflow float32 below ``u = -340`` mV. So for ``u < -290`` mV those
  three rates (each below 1e-9 per ms there, and below float32 resolution next to ``beta_m``
  and ``alpha_h``) are slightly overestimated instead of NaN.
* Gates below :data:`TINY_F32` (1e-9, not 1e-30) count as 0 in ``m^3`` and ``n^4``: the powers of
  smaller float32 gates reach float32's denormals.
* Exponential Euler takes two reciprocals (one per pair of variables), not one: the product of
  the four relaxation factors overflows float32 far below rest.
* Range: the float32 rates are finite for ``u = V + V_shift`` above about -1630 mV (``beta_m =
  4 w^40`` overflows below), so a float32 state beyond that raises SimulationError; float64 is
  accurate within +-2000 mV (:data:`U_LIMIT`).
* Accuracy: the rates are within 1e-5 (relative) of float64 above -290 mV, mostly from the powers
  ``w^36`` and ``w^40`` (~40 float32 ulps); the singular points stay exact.
"""

from __future__ import annotations

import math

import numpy as np

from .._exp import exp_shifted_f32, exp_shifted_f64
from .._jit import FASTMATH, device, jit, retarget, specialise
from .._simd import inline_hint, no_hint, prefer_wide_vectors
from .._precision import is_float32, like, out_of_line_if_float32, per_precision
from ._layout import ROW

METHODS = ("rk4", "euler", "exponential_euler")
RK4, EULER, EXP_EULER = 0, 1, 2
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
#: The same for float32 steps (float32 denormals start at 1.2e-38: n^4 of a gate of 1e-9 is 1e-36).
TINY_F32 = 1e-9
#: Float32 steps cap ``-(u + 40)/10`` (the argument of the one exponential that grows with
#: hyperpolarisation) here, so the product of :func:`rates`' three denominators stays below
#: float32's maximum (it overflows near 29.6); exact for u >= -290 mV.
E10_CAP_F32 = 25.0
#: Largest argument of the float32 ``exp`` (``exp_shifted_f32`` is valid up to 88).
EXP_CAP_F32 = 88.0
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


# ------------------------------------------------------------------ rate functions
@jit
def _exp_capped(x, cap):
    """``exp(min(x, cap))`` in the precision of ``x``: exp_poly's polynomial (< 1.5 ulp), vectorisable.

    :func:`fastkernels._exp.exp_shifted_f64` or ``exp_shifted_f32`` (no overflow handling: valid
    up to 709 and 88, 0 below -707 and -86.5), chosen at compile time by :func:`is_float32` (not
    through the ``exp_shifted`` overload: inlining an overload more than once per function trips
    a Numba IR warning). The CUDA clones replace it with ``math.exp`` (``expf`` for float32).
    Compiled once per precision and inlined by LLVM (:func:`inline_hint`), not copied into each
    caller's Numba IR: ``hh_step`` calls it four times, ``rates`` twice (their compile went from 1.7 and
    0.7 s to 0.6 and 0.2 s, all of it in Numba's front end).
    """
    inline_hint()
    xc = x if x < cap else cap
    if is_float32(x):
        return like(x, exp_shifted_f32(xc))
    return like(x, exp_shifted_f64(xc))


@jit
def _exp(x):
    """``exp(x)`` for the rate functions: :func:`_exp_capped` at 700 (float64; every argument here is
    below that while |V| < 7000 mV) or :data:`EXP_CAP_F32`. The CUDA clones use ``math.exp``."""
    inline_hint()
    return _exp_capped(x, per_precision(x, EXP_CAP_F32, 700.0))


@device
def taylor_x_over_1mexp(x):
    """Taylor series of ``x / (1 - exp(-x))`` at 0 through ``x^8``: truncation error < 3e-18 for ``|x| < 0.1``."""
    x2 = x * x
    return like(x, 1.0) + like(x, 0.5) * x + x2 * (like(x, _T2) + x2 * (like(x, _T4) + x2 * (
        like(x, _T6) + x2 * like(x, _T8))))


@device
def x_over_1mexp(x, emx):
    """``x / (1 - exp(-x))`` given ``emx = exp(-x)``: exactly 1 at ``x = 0``, relative error < 1e-14.

    A select (not a branch) between the closed form and :func:`taylor_x_over_1mexp` for ``|x| < 0.1``.
    """
    big = x / (like(x, 1.0) - emx)  # NaN at x = 0: the select discards it
    return taylor_x_over_1mexp(x) if abs(x) < like(x, 0.1) else big


@device
def relax_factor(z, emz):
    """``(1 - exp(-z)) / z`` given ``emz = exp(-z)`` without the division, as ``(numerator, denominator)``.

    For ``|z| < 0.1`` the numerator is its Taylor series through ``z^8`` (error < 3e-16) and the
    denominator 1, so a caller can share one reciprocal among several factors.
    """
    one = like(z, 1.0)
    taylor = one + z * (like(z, -0.5) + z * (like(z, _R2) + z * (like(z, _R3) + z * (like(z, _R4) + z * (
        like(z, _R5) + z * (like(z, _R6) + z * (like(z, _R7) + z * like(z, _R8))))))))
    small = abs(z) < like(z, 0.1)
    return (taylor if small else one - emz), (one if small else z)


@device
def alpha_m(u):
    """``0.1 (u + 40) / (1 - exp(-(u + 40)/10))`` in 1/ms (u in mV, modern convention); ``alpha_m(-40) = 1``."""
    x = (u + like(u, 40.0)) * like(u, 0.1)
    return x_over_1mexp(x, _exp(-x))


@device
def beta_m(u):
    """``4 exp(-(u + 65)/18)`` in 1/ms."""
    return like(u, 4.0) * _exp((u + like(u, 65.0)) * like(u, -1.0 / 18.0))


@device
def alpha_h(u):
    """``0.07 exp(-(u + 65)/20)`` in 1/ms."""
    return like(u, 0.07) * _exp((u + like(u, 65.0)) * like(u, -0.05))


@device
def beta_h(u):
    """``1 / (1 + exp(-(u + 35)/10))`` in 1/ms."""
    one = like(u, 1.0)
    return one / (one + _exp((u + like(u, 35.0)) * like(u, -0.1)))


@device
def alpha_n(u):
    """``0.01 (u + 55) / (1 - exp(-(u + 55)/10))`` in 1/ms; ``alpha_n(-55) = 0.1``."""
    x = (u + like(u, 55.0)) * like(u, 0.1)
    return like(u, 0.1) * x_over_1mexp(x, _exp(-x))


@device
def beta_n(u):
    """``0.125 exp(-(u + 65)/80)`` in 1/ms."""
    return like(u, 0.125) * _exp((u + like(u, 65.0)) * like(u, -1.0 / 80.0))


@jit
def rates(u):
    """All six rates (1/ms) at ``u = V + V_shift`` (mV), before ``phi``: two exponentials and one division.

    ``exp(-(u+55)/10)`` and ``exp(-(u+35)/10)`` are ``e10 = exp(-(u+40)/10)`` times constants;
    ``exp(-(u+65)/80)``, ``/20`` and ``/18`` are the powers 9, 36 and 40 of ``w = exp(-(u+65)/720)``
    (relative error < 1e-14). The three quotients share one reciprocal; a denominator whose
    quotient takes the Taylor branch is replaced by 1, so the product is never 0 (and it stays
    finite for |u| < 1000 mV). Returns ``(alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)``.
    In float32 the argument of ``e10`` is capped at :data:`E10_CAP_F32` (see the module docstring).
    """
    inline_hint()
    one = like(u, 1.0)
    tenth = like(u, 0.1)
    xm = (u + like(u, 40.0)) * tenth
    xn = (u + like(u, 55.0)) * tenth
    e10 = _exp_capped(-xm, per_precision(u, E10_CAP_F32, 700.0))  # float64: _exp's own cap
    w = _exp((u + like(u, 65.0)) * like(u, -1.0 / 720.0))
    w2 = w * w
    w4 = w2 * w2
    w8 = w4 * w4
    w32 = (w8 * w8) * (w8 * w8)
    tm = abs(xm) < tenth
    tn = abs(xn) < tenth
    dm = one if tm else one - e10
    dn = one if tn else one - e10 * like(u, _EXP_M15)
    dh = one + e10 * like(u, _EXP_P05)
    r = one / (dm * dn * dh)
    am = taylor_x_over_1mexp(xm) if tm else xm * (dn * dh) * r
    an = tenth * (taylor_x_over_1mexp(xn) if tn else xn * (dm * dh) * r)
    bh = dm * dn * r
    ah = like(u, 0.07) * (w32 * w4)
    bn = like(u, 0.125) * (w8 * w)
    bm = like(u, 4.0) * (w32 * w8)
    return am, bm, ah, bh, an, bn


@jit
def conductances(m, h, n, gna, gk):
    """Open sodium and potassium conductances ``g_Na m^3 h`` and ``g_K n^4`` (mS/cm^2); tiny gates count as 0."""
    inline_hint()
    tiny = per_precision(m, TINY_F32, TINY)
    zero = like(m, 0.0)
    mm = m if abs(m) >= tiny else zero
    nn = n if abs(n) >= tiny else zero
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
    ok = (abs(vn) <= like(vn, V_LIMIT)) & (abs(mn) + abs(hn) + abs(nn) <= like(vn, GATE_LIMIT))
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
    compile time each). Every argument but ``method`` is of one precision, the step's.
    Returns ``(V, m, h, n, spiked, bad)``.
    """
    inline_hint()
    zero = like(v, 0.0)
    i_ = drive + sn * xi
    hdt = like(v, 0.5) * dt
    kv = km = kh = kn = zero  # the last stage's slopes
    sv = sm = sh = sn_ = zero  # RK4: k1 + 2 k2 + 2 k3 + k4
    gv = rm = rh = rn = zero  # inverse time constants (exponential Euler)
    for s in range(4 if method == RK4 else 1):
        c = zero if s == 0 else (dt if s == 3 else hdt)
        w = like(v, 1.0) if (s == 0) | (s == 3) else like(v, 2.0)
        kv, km, kh, kn, gv, rm, rh, rn = derivatives(v + c * kv, m + c * km, h + c * kh, n + c * kn, i_, invc, gna,
                                                     gk, gl, ena, ek, el, shift, phi)
        sv += w * kv
        sm += w * km
        sh += w * kh
        sn_ += w * kn
    if method == RK4:
        dt6 = dt / like(dt, 6.0)
        vn, mn, hn, nn = v + dt6 * sv, m + dt6 * sm, h + dt6 * sh, n + dt6 * sn_
    elif method == EXP_EULER:
        # Rush-Larsen: x + dt f (1 - e^-z) / z == x_inf + (x - x_inf) e^-z with z = dt / tau, the
        # coefficients frozen at the step start; the four quotients share one reciprocal (float32:
        # one per pair, as the product of the four z overflows float32 once the gate rates grow
        # huge, hundreds of mV below rest; a compile-time branch).
        zv, zm, zh, zn = dt * gv, dt * rm, dt * rh, dt * rn
        pv, qv = relax_factor(zv, _exp(-zv))
        pm, qm = relax_factor(zm, _exp(-zm))
        ph, qh = relax_factor(zh, _exp(-zh))
        pn, qn = relax_factor(zn, _exp(-zn))
        qvm, qhn = qv * qm, qh * qn
        if is_float32(v):
            rvm, rhn = dt / qvm, dt / qhn
            vn, mn = v + kv * pv * qm * rvm, m + km * pm * qv * rvm
            hn, nn = h + kh * ph * qn * rhn, n + kn * pn * qh * rhn
        else:
            r = dt / (qvm * qhn)
            vn, mn = v + kv * pv * (qm * qhn) * r, m + km * pm * (qv * qhn) * r
            hn, nn = h + kh * ph * (qvm * qn) * r, n + kn * pn * (qvm * qh) * r
    else:  # forward Euler (Euler-Maruyama)
        vn, mn, hn, nn = v + dt * kv, m + dt * km, h + dt * kh, n + dt * kn
    return _finish(v, vn, mn, hn, nn, vth)


@device
def _libm_exp_capped(x, cap):
    """What the CUDA clones call for :func:`_exp_capped`: ``math.exp`` (``expf`` for float32)."""
    return math.exp(x if x < cap else cap)


#: What :func:`cuda_step` clones for CUDA, callees first.
DEVICE_CHAIN = ("rates", "conductances", "derivatives", "_finish", "hh_step")


@jit
def rates_kernel(v, shift, phi, out):
    for i in range(v.size):
        am, bm, ah, bh, an, bn = rates(v[i] + shift[i])
        p = phi[i]
        out[0, i], out[1, i], out[2, i] = p * am, p * bm, p * ah
        out[3, i], out[4, i], out[5, i] = p * bh, p * an, p * bn


def cuda_step():
    """:func:`hh_step` for CUDA (hardware ``exp``): the same source as the CPU's."""
    return retarget(globals(), DEVICE_CHAIN, _exp=math.exp, _exp_capped=_libm_exp_capped,
                    inline_hint=no_hint)["hh_step"]


RATE_FUNCTIONS = ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n")


def cuda_rate_functions() -> dict:
    """:func:`alpha_m` ... :func:`beta_n` for user CUDA kernels: ``{name: device function}`` (hardware ``exp``).

    The helpers above call the CPU's vectorisable ``exp``; these clones are the same source
    for ``@cuda.jit`` code, with the singularities handled identically.
    """
    return retarget(globals(), RATE_FUNCTIONS, _exp=math.exp, _exp_capped=_libm_exp_capped)


# ------------------------------------------------------------------ CPU kernels
def _loop_template(sb, pb, drive, ic, flags, m, dt):
    """Step the ``m`` neurons of one block once; returns ``(spikes, bad states)``.

    In the precision of ``sb`` (``pb``, ``drive``, ``ic`` and ``dt`` share it: the engine's
    working dtype). ``sb``/``pb`` are the block's state and parameter rows, flattened: every access is
    ``row * ROW + j`` off one base pointer, so LLVM proves the rows independent and
    vectorises the loop across neurons without runtime alias checks. A template: the
    kernels use clones with the method code as the global ``_METHOD``.
    """
    prefer_wide_vectors()
    out_of_line_if_float32(sb)  # a call per block and step: inlined beside the other loops it ran slower
    # int32 counters: the loop's widest type sets the vector width (256 bits / 64 would give
    # float32 4 lanes, like float64; with 32-bit counters it gets 8).
    nsp = np.int32(0)
    nbad = np.int32(0)
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
        nsp = np.int32(nsp + sp)
        nbad = np.int32(nbad + bad)
    return nsp, nbad


# One vectorised step loop per method (each compiled on its own, called once per block and step).
STEP_LOOPS = tuple(jit(specialise(_loop_template, "_hh_loop_" + name, _METHOD=code), fastmath=FASTMATH)
               for code, name in enumerate(METHODS))
loop_rk4, loop_euler, loop_exp_euler = STEP_LOOPS


@jit
def first_bad(sb, m):
    """The first neuron of a block whose state ran away (|V| > V_LIMIT, gates beyond GATE_LIMIT, NaN), or -1."""
    for j in range(m):
        g = abs(sb[M * ROW + j]) + abs(sb[H * ROW + j]) + abs(sb[N * ROW + j])
        if not ((abs(sb[V * ROW + j]) <= like(sb, V_LIMIT)) & (g <= like(sb, GATE_LIMIT))):
            return j
    return -1
