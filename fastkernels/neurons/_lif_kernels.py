"""The LIF kernels: the step function shared by CPU and CUDA, the grid methods' step loops for
the population engine and the event-driven kernel (see :mod:`fastkernels.neurons.lif` for the
model and the methods).

The grid methods run on the engine (:mod:`fastkernels.neurons._engine`); their step loops are
variants of one template, :func:`_loop_template`, whose feature flags are globals bound as
compile-time constants (:func:`fastkernels._jit.specialise`), one variant per combination
actually used (:func:`step_loop`). The event-driven method keeps its own kernel (several spikes
per neuron and step at exact crossing times: not a fixed-step block loop).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from .._jit import FASTMATH, cpu_kernels, device, jit, specialise
from .._precision import like, tally, tally_zero
from .._random import poisson as poisson_count, stream_key
from .._simd import inline_hint, prefer_wide_vectors
from ._layout import BLOCK, ROW

# Parameter rows.
A, C, PW, PT, VREST, R, VT0, VRESET, DVT, DW, SN, TAU, REFSTEPS, TREF, LAM, JW = range(16)
N_PARAMS = 16
# State rows: membrane potential, threshold, adaptation current, steps since the last spike
# (an integer held in a float, saturating at SINCE_MAX), refractory time left (event method),
# this step's noise draw, input (copied into the block so the hot loop reads one buffer) and
# Poisson-input jump.
V, VT, W, SINCE, REF, XI, IN, JMP = range(8)
N_STATE = 8
STATE_NAMES = ("v", "v_threshold", "w")
#: Poisson-input draws of neuron i use stream POISSON_STREAM + i (noise uses stream i).
POISSON_STREAM = 1 << 40
SINCE_MAX = float(1 << 23)  # exact in float32; a neuron this long silent is free whatever tau_ref
#: |v| above this (in the model's units) after the step's reset is a runaway state; a v carried
#: past the threshold, however far, is a spike. Initial states and ``v_reset`` must lie within it.
LIMIT = 1e9
#: Decaying differences below this are flushed to 0 (denormal arithmetic is ~100x slower).
FLUSH = 1e-30


# ------------------------------------------------------------------ step coefficients (host)
def _exprel(x):
    """``(exp(x) - 1) / x`` without cancellation near 0 (float64 arrays)."""
    x = np.asarray(x, dtype=np.float64)
    small = np.abs(x) < 1e-6
    safe = np.where(small, 1.0, x)
    return np.where(small, 1.0 + x / 2.0 + x * x / 6.0, np.expm1(safe) / safe)


def _taylor4(x):
    return 1.0 + x + x * x / 2.0 + x ** 3 / 6.0 + x ** 4 / 24.0


def propagators(p: dict, dt: float, method: str) -> dict:
    """Per-neuron step coefficients ``a, c, p_w, p_t, s`` for ``method`` (float64 ``(n,)`` each)."""
    h, hw, ht = dt / p["tau_m"], dt / p["tau_adaptation"], dt / p["tau_threshold"]
    res = p["resistance"]
    if method in ("exact", "event"):
        a = np.exp(-h)
        with np.errstate(over="ignore", invalid="ignore"):
            c = -res * h * np.exp(-h) * _exprel(h - hw)
            # exp(-h) exprel(h - hw) is 0 * inf when dt is many time constants: the same value as
            # (exp(-hw) - exp(-h)) / (h - hw), used only where the first form failed.
            alt = -res * h * ((np.exp(-hw) - np.exp(-h)) / np.where(h == hw, 1.0, h - hw))
            c = np.where(np.isfinite(c) | (h == hw), c, alt)
        pw, pt = np.exp(-hw), np.exp(-ht)
        s = p["sigma"] * np.sqrt(-np.expm1(-2.0 * h) / 2.0)
    elif method == "euler":
        a = 1.0 - h
        c, pw, pt = -res * h, 1.0 - hw, 1.0 - ht
        s = p["sigma"] * np.sqrt(h)
    else:  # rk4: Taylor polynomials of the exact propagator of the upper-triangular (v, w) system
        a, pw, pt = _taylor4(-h), _taylor4(-hw), _taylor4(-ht)
        x, z = -h, -hw
        off = np.zeros_like(h)  # sum_k (1/k!) sum_j x^j z^(k-1-j): the (v, w) entry of T4(M) / (-res h)
        for k, fact in ((1, 1.0), (2, 2.0), (3, 6.0), (4, 24.0)):
            off += sum(x ** j * z ** (k - 1 - j) for j in range(k)) / fact
        c = -res * h * off
        s = np.zeros_like(h)
    return dict(a=a, c=c, pw=pw, pt=pt, s=s)


# ------------------------------------------------------------------ step
@device
def lif_step(v, vt, w, since, free, drive, xi, jump, a, c, pw, pt, vrest, res, vt0, vreset, jump_t, jump_w, sn,
                   freeze, dynamics, flush):
    """One step of one neuron, given whether it is out of its refractory period (``free``).

    ``since`` is the number of steps since its last spike, counting this one. ``dynamics``
    (a compile-time constant in the kernels) switches the threshold and adaptation
    variables on; without it they are never read. ``jump`` (Poisson input) is added after the
    threshold test, like an ``on_pre`` synaptic effect in Brian2: a neuron that spikes is reset
    instead, a refractory one still receives it. Shared by the CPU blocks and the CUDA kernel.
    Returns ``(v, vt, w, since, spiked, bad)``; ``bad`` flags a NaN or runaway ``v`` (|v| > LIMIT after the reset).
    ``flush`` (a compile-time constant) flushes ``v``'s relaxation below :data:`FLUSH` to 0 in every
    step; the networks' loop leaves it out and flushes its state every few steps instead
    (``fastkernels.networks._network_kernels.flush_period``).
    """
    vinf = vrest + res * drive
    dv = (v - vinf) * a  # relaxation form: no drift over long runs
    if flush:  # decaying differences would otherwise crawl through denormals
        dv = dv if abs(dv) >= like(dv, FLUSH) else like(dv, 0.0)
    vn = vinf + dv + sn * xi
    if dynamics:
        vn += c * w
        wn = pw * w
        wn = wn if abs(wn) >= like(wn, FLUSH) else like(wn, 0.0)
        dvt = (vt - vt0) * pt
        vtn = vt0 + (dvt if abs(dvt) >= like(dvt, FLUSH) else like(dvt, 0.0))
    else:
        wn = w
        vtn = vt0
    vn = v if (freeze & (not free)) else vn
    spiked = free & (vn > vtn)
    # Selects, not branches: the CPU caller vectorises this across a block of neurons.
    # A drive that carries v far past threshold within one step is a spike, not a runaway:
    # only the v that is stored (not reset) is tested, the one the CPU kernels' search for the
    # bad neuron finds (testing vn before the reset flagged steps that search could not place).
    bad = (not (abs(vn + jump) <= like(vn, LIMIT))) & (not spiked)
    if dynamics:
        return (vreset if spiked else vn + jump), (vtn + jump_t if spiked else vtn), \
            (wn + jump_w if spiked else wn), (like(since, 0.0) if spiked else since), spiked, bad
    return (vreset if spiked else vn + jump), vtn, wn, (like(since, 0.0) if spiked else since), spiked, bad


@device
def flushed(x):
    """``x``, or 0 when ``|x|`` is below :data:`FLUSH` (a decaying value would otherwise crawl through
    denormals, ~100x slower)."""
    return x if abs(x) >= like(x, FLUSH) else like(x, 0.0)


@device
def product(a, b):
    """``a * b``: the CPU's product for :func:`free_legacy_template` (unfused: the legacy kernels
    compile without fastmath)."""
    return a * b


#: The product :func:`free_legacy_template`'s clones bind (this definition only names it).
_MUL = product


def free_legacy_template(since, k, dt_s, ref_s):
    """Brian2's pre-2.6 rule: ``t - t_spike > tau_ref`` in float64 seconds, ``t = k dt``, each product
    rounded on its own: ``_MUL`` is :func:`product` on the CPU and ``dmul_rn`` on the GPU, whose
    compiler would otherwise fuse one into the subtraction and move a spike by a step."""
    return _MUL(float(k), dt_s) - _MUL(k - since, dt_s) > ref_s


free_legacy = device(specialise(free_legacy_template, "free_legacy", _MUL=product))


#: Synaptic receptor rows (networks): receptor ``r``'s value is state row ``RECEPTOR_ROW + r``, its
#: drive coefficient, decay factor and reversal potential are parameter rows
#: ``RECEPTOR_PARAM + 3 r + (0, 1, 2)``. Current receptors come first, then conductances.
RECEPTOR_ROW = N_STATE
RECEPTOR_PARAM = N_PARAMS
#: Most receptor rows one loop variant carries (their uniform coefficients are loaded once, as scalars).
MAX_RECEPTORS = 4

#: Feature flags of the step loops: each variant binds its own values (:func:`step_loop`);
#: these module-level ones are only the names' definitions.
_PER_NEURON = _DYNAMICS = _NOISY = _LEGACY = _FREEZE = _POISSON = _COUNT = False
_N_CUR = _N_COND = 0
_REASSOC = True
_CHAIN = (0, 0, 0, 0)
_FLUSH = True


@device
def _RECEPTORS(sb, pb, j, v, rc):  # noqa: N802  (the name every variant binds; none here)
    return like(v, 0.0)  # in v's precision: a float64 0.0 carried a float32 loop into float64


@device
def _receptor_drive(sb, pb, j, v, r, current, per_neuron, c, e):
    """Receptor row ``r``'s drive on neuron ``j`` at the step's start: ``c g``, or ``c g (E - v)`` for a
    conductance (``c``, ``e`` the uniform coefficients unless ``per_neuron``)."""
    x = sb[(RECEPTOR_ROW + r) * ROW + j]
    if per_neuron:
        c = pb[(RECEPTOR_PARAM + 3 * r) * ROW + j]
        e = pb[(RECEPTOR_PARAM + 3 * r + 2) * ROW + j]
    return c * x if current else c * x * (e - v)


@device
def _receptor_decay(sb, pb, j, r, pos, per_neuron, d, h, flush):
    """Row ``r``'s value after the step: ``d (g_r + sum_{i=1..pos} h^i / i! g_{r-i})``, where ``pos``
    is the row's stage in a filter chain (0: a first-order receptor; the rows before it are the
    chain's earlier stages, still at their old values: rows are updated from the last) and ``h``
    (``dt / tau``) sits in the row's third coefficient; flushed to 0 below :data:`FLUSH` when ``flush``."""
    if per_neuron:
        d = pb[(RECEPTOR_PARAM + 3 * r + 1) * ROW + j]
        h = pb[(RECEPTOR_PARAM + 3 * r + 2) * ROW + j]
    acc = sb[(RECEPTOR_ROW + r) * ROW + j]
    f = like(acc, 1.0)
    for i in range(1, pos + 1):  # a compile-time trip count: unrolled
        f = f * h / like(acc, i)
        acc += f * sb[(RECEPTOR_ROW + r - i) * ROW + j]
    y = acc * d
    sb[(RECEPTOR_ROW + r) * ROW + j] = y if (not flush) or abs(y) >= like(y, FLUSH) else like(y, 0.0)


def _receptors_template(sb, pb, j, v, rc):
    """Neuron ``j``'s synaptic drive from its receptor rows (values at the step's start), which
    then decay: ``sum coef g`` over current receptors plus ``sum coef g (E - v)`` over
    conductances; a filter chain's stages feed the next (``_CHAIN``: each row's stage). ``rc``:
    the uniform coefficients ``(coef, decay, E or h) x MAX_RECEPTORS``. Written out per row
    (constant indices, constant flags): straight-line code the loop vectorises."""
    syn = like(v, 0.0)
    if _N_CUR + _N_COND > 0:
        syn += _receptor_drive(sb, pb, j, v, 0, _N_CUR > 0, _PER_NEURON, rc[0], rc[2])
    if _N_CUR + _N_COND > 1:
        syn += _receptor_drive(sb, pb, j, v, 1, _N_CUR > 1, _PER_NEURON, rc[3], rc[5])
    if _N_CUR + _N_COND > 2:
        syn += _receptor_drive(sb, pb, j, v, 2, _N_CUR > 2, _PER_NEURON, rc[6], rc[8])
    if _N_CUR + _N_COND > 3:
        syn += _receptor_drive(sb, pb, j, v, 3, _N_CUR > 3, _PER_NEURON, rc[9], rc[11])
    if _N_CUR + _N_COND > 3:
        _receptor_decay(sb, pb, j, 3, _CHAIN[3], _PER_NEURON, rc[10], rc[11], _FLUSH)
    if _N_CUR + _N_COND > 2:
        _receptor_decay(sb, pb, j, 2, _CHAIN[2], _PER_NEURON, rc[7], rc[8], _FLUSH)
    if _N_CUR + _N_COND > 1:
        _receptor_decay(sb, pb, j, 1, _CHAIN[1], _PER_NEURON, rc[4], rc[5], _FLUSH)
    if _N_CUR + _N_COND > 0:
        _receptor_decay(sb, pb, j, 0, _CHAIN[0], _PER_NEURON, rc[1], rc[2], _FLUSH)
    return syn


def _loop_template(sb, pb, drive, ic, flags, m, dt, k, xb):
    """Step the ``m`` neurons of one block once (the engine's stepped loop); returns ``(spikes, bad states)``.

    A template: the feature flags are globals bound as compile-time constants by
    :func:`step_loop` (``_PER_NEURON``: parameters differ across neurons, else ``pb`` is the one
    uniform block and its first column is read once as scalars, so the hot loop streams only
    ``v``, the spike counter and the input; ``_DYNAMICS``: adaptive threshold or adaptation
    current; ``_NOISY``: white noise; ``_LEGACY``/``_FREEZE``: the refractory rules, ``xb`` the
    refractory period in float64 seconds; ``_POISSON``: Poisson input jumps, staged by
    :func:`_stage_template`; ``_COUNT``: ``flags`` is the block's int64 spike counts, added
    to). Constants fold away, so each variant's loop holds only what it uses.
    """
    inline_hint()  # LLVM inlines it into the caller (Numba's own inlining recompiles it at every site)
    prefer_wide_vectors()
    dt_s = dt * 1e-3
    # Uniform parameters: loaded once (the loop's stores could alias them otherwise).
    a0, c0, pw0, pt0 = pb[A * ROW], pb[C * ROW], pb[PW * ROW], pb[PT * ROW]
    vrest0, res0, vt00, vreset0 = pb[VREST * ROW], pb[R * ROW], pb[VT0 * ROW], pb[VRESET * ROW]
    jt0, jw0, sn0, rst0, rs0 = pb[DVT * ROW], pb[DW * ROW], pb[SN * ROW], pb[REFSTEPS * ROW], xb[0]
    # Receptors' uniform coefficients (a tuple of scalars: read once, not per neuron).
    zp = like(pb, 0.0)
    rc = (pb[RECEPTOR_PARAM * ROW] if _N_CUR + _N_COND > 0 else zp,
          pb[(RECEPTOR_PARAM + 1) * ROW] if _N_CUR + _N_COND > 0 else zp,
          pb[(RECEPTOR_PARAM + 2) * ROW] if _N_CUR + _N_COND > 0 else zp,
          pb[(RECEPTOR_PARAM + 3) * ROW] if _N_CUR + _N_COND > 1 else zp,
          pb[(RECEPTOR_PARAM + 4) * ROW] if _N_CUR + _N_COND > 1 else zp,
          pb[(RECEPTOR_PARAM + 5) * ROW] if _N_CUR + _N_COND > 1 else zp,
          pb[(RECEPTOR_PARAM + 6) * ROW] if _N_CUR + _N_COND > 2 else zp,
          pb[(RECEPTOR_PARAM + 7) * ROW] if _N_CUR + _N_COND > 2 else zp,
          pb[(RECEPTOR_PARAM + 8) * ROW] if _N_CUR + _N_COND > 2 else zp,
          pb[(RECEPTOR_PARAM + 9) * ROW] if _N_CUR + _N_COND > 3 else zp,
          pb[(RECEPTOR_PARAM + 10) * ROW] if _N_CUR + _N_COND > 3 else zp,
          pb[(RECEPTOR_PARAM + 11) * ROW] if _N_CUR + _N_COND > 3 else zp)
    # Constants and the step's common input in the state's precision: a float64 one would carry a
    # float32 loop into float64 (half the lanes, and conversions): float32 state ran 1.35x slower
    # than float64 while it did. (``like`` is a no-op for float64: its results are unchanged.)
    one, zero, smax, icw = like(sb, 1.0), like(sb, 0.0), like(sb, SINCE_MAX), like(sb, ic)
    # The spike and bad-state counts of a float32 loop are float32 (exact: at most BLOCK; see
    # ``tally``), where reassociation lets LLVM vectorise their sums; int otherwise.
    nsp = tally_zero(sb) if _REASSOC else 0
    nbad = tally_zero(sb) if _REASSOC else 0
    for j in range(m):  # the hot loop: straight-line selects, vectorised across neurons
        since = sb[SINCE * ROW + j] + one  # = k - k_spike, saturating (a select: min() would not vectorise)
        since = since if since < smax else smax
        if _LEGACY:
            free = free_legacy(since, k, dt_s, xb[j] if _PER_NEURON else rs0)
        else:
            free = since >= (pb[REFSTEPS * ROW + j] if _PER_NEURON else rst0)
        dj = drive[j] + icw
        if _N_CUR + _N_COND > 0:  # a network's receptors (variants without them never see this)
            dj += _RECEPTORS(sb, pb, j, sb[V * ROW + j], rc)  # noqa: F821
        if _PER_NEURON:
            vn, vtn, wn, s_, sp, bad = lif_step(
                sb[V * ROW + j], sb[VT * ROW + j] if _DYNAMICS else zero, sb[W * ROW + j] if _DYNAMICS else zero,
                since, free, dj, sb[XI * ROW + j] if _NOISY else zero,
                sb[JMP * ROW + j] if _POISSON else zero, pb[A * ROW + j], pb[C * ROW + j], pb[PW * ROW + j],
                pb[PT * ROW + j], pb[VREST * ROW + j], pb[R * ROW + j], pb[VT0 * ROW + j], pb[VRESET * ROW + j],
                pb[DVT * ROW + j], pb[DW * ROW + j], pb[SN * ROW + j], _FREEZE, _DYNAMICS, _FLUSH)
        else:
            vn, vtn, wn, s_, sp, bad = lif_step(
                sb[V * ROW + j], sb[VT * ROW + j] if _DYNAMICS else zero, sb[W * ROW + j] if _DYNAMICS else zero,
                since, free, dj, sb[XI * ROW + j] if _NOISY else zero,
                sb[JMP * ROW + j] if _POISSON else zero, a0, c0, pw0, pt0, vrest0, res0, vt00, vreset0, jt0, jw0,
                sn0, _FREEZE, _DYNAMICS, _FLUSH)
        sb[V * ROW + j] = vn
        if _DYNAMICS:
            sb[VT * ROW + j] = vtn
            sb[W * ROW + j] = wn
        sb[SINCE * ROW + j] = s_
        if _COUNT:
            flags[j] += sp
        else:
            flags[j] = sp
        nsp = tally(sb, nsp, sp) if _REASSOC else nsp + sp
        nbad = tally(sb, nbad, bad) if _REASSOC else nbad + bad
    return int(nsp), int(nbad)


def _stage_template(sb, pb, key, k, lo, m):
    """The engine's staging hook of the Poisson variants: this step's input jumps into the ``JMP`` row."""
    for j in range(m):
        q = j if _PER_NEURON else 0
        sb[JMP * ROW + j] = poisson_count(stream_key(key, POISSON_STREAM + lo + j), k, pb[LAM * ROW + q]) * \
            pb[JW * ROW + q]


def _trace_template(sb, pb, j, traces, r, row):
    """The engine's trace hook: ``v``, ``v_threshold``, ``w`` (the resting threshold and 0 when they do
    not evolve), the first ``traces.shape[0]`` of them."""
    traces[0, r, row] = sb[V * ROW + j]
    if traces.shape[0] > 1:
        traces[1, r, row] = sb[VT * ROW + j] if _DYNAMICS else pb[VT0 * ROW + (j if _PER_NEURON else 0)]
    if traces.shape[0] > 2:
        traces[2, r, row] = sb[W * ROW + j] if _DYNAMICS else 0.0


@jit(inline="always")
def first_bad(sb, m):
    """The first neuron of a block whose ``v`` is NaN or beyond LIMIT (0 if none: the block's first)."""
    for j in range(m):
        if not (abs(sb[V * ROW + j]) <= LIMIT):
            return j
    return 0


def step_loop(tag, per_neuron, dynamics, noisy, legacy, freeze, poisson, count, n_cur=0, n_cond=0, chain=(0, 0, 0, 0),
              reassoc=True, flush=True):
    """``(loop, trace, stage, options)`` of one feature combination, for the engine's
    :func:`~fastkernels.neurons._engine.population_kernels` (``stage`` None without Poisson input).
    ``n_cur``/``n_cond``: receptor rows (current, then conductance) whose drive the loop adds and
    which it decays (a network's; see :data:`RECEPTOR_ROW`), at most :data:`MAX_RECEPTORS`;
    ``chain``: each row's stage in a filter chain (0 for first-order receptors).

    Fast-math (FMA contraction, no signed zeros) except under the legacy rule, whose float
    comparison must round exactly as Brian2's did; ``options`` carries that to the engine's
    block function too (it inlines the input staging and the noise draws). ``reassoc=False``
    leaves out reassociation (the networks' loop, inlined into a serial and a parallel build
    that must round alike). ``flush=False`` leaves out the per-step flushes of ``v``'s relaxation
    and of the receptors (the networks' loop, whose caller flushes the state every
    ``flush_period`` steps instead: ~13% of a CUBA step on AVX2).
    """
    options = {"fastmath": False if legacy else FASTMATH if reassoc else FASTMATH - {"reassoc"}}
    flags = {"_PER_NEURON": per_neuron, "_DYNAMICS": dynamics, "_NOISY": noisy, "_LEGACY": legacy, "_FREEZE": freeze,
             "_POISSON": poisson, "_COUNT": count, "_FLUSH": flush, "_REASSOC": reassoc and not legacy}
    if not flush:
        tag += "_nf"
    if n_cur + n_cond:
        if n_cur + n_cond > MAX_RECEPTORS:
            raise ValueError(f"at most {MAX_RECEPTORS} receptors per neuron, got {n_cur + n_cond}")
        chain = tuple(chain) + (0,) * (MAX_RECEPTORS - len(chain))
        tag += f"_r{n_cur}{n_cond}" + ("_c" + "".join(map(str, chain)) if any(chain) else "")
        flags.update(_N_CUR=n_cur, _N_COND=n_cond, _CHAIN=chain)
        flags["_RECEPTORS"] = jit(specialise(_receptors_template, "_lif_receptors_" + tag, **flags), inline="always",
                                  **options)
    # Inlined by LLVM into the engine's block function or the network's update (its inline_hint):
    # a call per block and step costs ~15% of this loop's few instructions per neuron.
    loop = jit(specialise(_loop_template, "_lif_loop_" + tag, **flags), **options)
    trace = jit(specialise(_trace_template, "_lif_trace_" + tag, **flags))
    stage = jit(specialise(_stage_template, "_lif_stage_" + tag, **flags), **options) if poisson else None
    return loop, trace, stage, options


@device
def event_advance(v, ref_left, rem, vinf, tau, vth, vreset, tau_ref):
    """Consume up to ``rem`` ms of one neuron's step: returns ``(v, ref_left, rem_after, t_spike_offset)``.

    ``t_spike_offset`` is the time (ms, from the point where ``rem`` was measured) of the
    spike that ended this stretch, or -1.0 when the stretch reached the end of the step.
    """
    if ref_left >= rem:  # refractory for the rest of the step: v held at reset
        return v, ref_left - rem, 0.0, -1.0
    used = ref_left
    if v > vth:  # above threshold (initial condition): fire at once
        tc = 0.0
    elif vinf > vth:
        tc = tau * math.log((vinf - v) / (vinf - vth))
    else:
        tc = math.inf
    if tc <= rem - used:
        return vreset, tau_ref, rem - used - tc, used + tc
    return vinf + (v - vinf) * math.exp(-(rem - used) / tau), 0.0, 0.0, -1.0


def _event_body(S, P, rows, common, k_begin, k_end, k0, dt, max_per_step, spk_t, spk_i, spk_n, err,
                rec, rec_lo, stride, traces):
    n = rows.shape[1]
    cap = spk_t.shape[1]
    for b in prange(k_begin.shape[0]):
        lo = b * BLOCK
        m = min(n, lo + BLOCK) - lo
        cnt = spk_n[b]
        k = k_begin[b]
        while k < k_end:
            if cnt + m * max_per_step > cap:
                break
            if (k - k0) % stride == 0:
                row = (k - k0) // stride
                for r in range(rec_lo[b], rec_lo[b + 1]):
                    j = rec[r] - lo
                    traces[0, r, row] = S[b, V, j]
                    if traces.shape[0] > 1:
                        traces[1, r, row] = P[b, VT0, j]
                    if traces.shape[0] > 2:
                        traces[2, r, row] = 0.0
            ic = common[k - k0 if common.shape[0] > 1 else 0]
            rr = k - k0 if rows.shape[0] > 1 else 0
            t0 = k * dt
            failed = False
            for j in range(m):
                vinf = P[b, VREST, j] + P[b, R, j] * (rows[rr, lo + j] + ic)
                v, ref_left, rem = S[b, V, j], S[b, REF, j], dt
                emitted = 0
                while rem > 0.0:
                    v, ref_left, rem_after, t_off = event_advance(v, ref_left, rem, vinf, P[b, TAU, j],
                                                                  P[b, VT0, j], P[b, VRESET, j], P[b, TREF, j])
                    if t_off >= 0.0:
                        if emitted == max_per_step:
                            failed = True
                            break
                        spk_t[b, cnt] = t0 + (dt - rem) + t_off
                        spk_i[b, cnt] = lo + j
                        cnt += 1
                        emitted += 1
                    rem = rem_after
                S[b, V, j], S[b, REF, j] = v, ref_left
                if failed or not (abs(v) <= LIMIT):
                    err[b, 0] = k
                    err[b, 1] = lo + j
                    failed = True
                    break
            if failed:
                break
            k += 1
        k_begin[b] = k
        spk_n[b] = cnt


event_cpu, event_parallel = cpu_kernels(_event_body)
