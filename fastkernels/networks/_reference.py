"""Plain NumPy reference of a LIF network, imported by both the tests and the benchmarks.

:func:`ref_lif_network` is one LIF population with any number of recurrent projections
(:class:`~fastkernels.networks.Connectivity`) onto receptors, written the way a good NumPy user
writes it: a Python time loop, array operations over all neurons per step, the step's spikes
from ``np.flatnonzero``, their CSR rows gathered by index arithmetic (``np.repeat``) and summed
per target with ``np.bincount``. It shares no code with the compiled simulator and is the
contract that simulator follows, step by step.

:func:`cuba_network` and :func:`coba_network` build the two benchmark networks (Brette et al.
2007, benchmarks 2 and 1) as a :class:`NetworkSpec`: everything a simulator needs, at any size
``n`` with 80 synapses per neuron on average. :func:`run_spec` runs one with the reference.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .._validate import check_choice, check_positive, check_scalar
from ..neurons._params import MAX_STEP, per_neuron, refractory_steps
from .connectivity import Connectivity
from .rules import bernoulli

__all__ = ["COBA_PARAMS", "CUBA_PARAMS", "NetworkSpec", "Receptor", "RefResult", "coba_network", "cuba_network",
           "ref_lif_network", "run_spec"]

KINDS = ("v", "current", "conductance")
METHODS = ("auto", "exact", "euler", "exponential_euler")
_NEVER = -(2 ** 62)  # "last spike" of a neuron that never spiked: never refractory


class Receptor(NamedTuple):
    """Where a projection's weights go.

    ``kind``: ``"v"`` (``v += w`` on arrival; no state), ``"current"`` (``dg/dt = -g/tau``, ``g``
    in units of ``v``, adds ``g`` to the drive of ``v``: Brian2's CUBA ``ge``) or
    ``"conductance"`` (``dg/dt = -g/tau``, ``g`` dimensionless relative to the leak, adds
    ``g (E_rev - v)``: the COBA ``ge``). ``tau`` in ms (not for ``"v"``), ``E_rev`` in the units of
    ``v`` (``"conductance"`` only).
    """

    name: str
    kind: str
    tau: float | None = None
    E_rev: float | None = None


class RefResult(NamedTuple):
    """What :func:`ref_lif_network` returns.

    ``t`` (ms, float64) and ``i`` (int64): one entry per spike, ordered by step then neuron id,
    ``t = k dt`` for a spike of step ``k``; ``v`` (n,): final potentials; ``g``: final value of
    each stateful receptor by name, (n,) each; ``counts``: spikes per step (n_steps,) int64 when
    asked for, else None.
    """

    t: np.ndarray
    i: np.ndarray
    v: np.ndarray
    g: dict
    counts: np.ndarray | None


def _receptors(receptors):
    out, names = [], set()
    for r in receptors:
        r = Receptor(*r) if not isinstance(r, Receptor) else r
        check_choice(r.kind, f"receptor {r.name!r} kind", KINDS)
        if not isinstance(r.name, str) or r.name in names:
            raise ValueError(f"receptor names must be distinct strings, got {r.name!r} twice or not a str")
        names.add(r.name)
        if r.kind == "v":
            if r.tau is not None or r.E_rev is not None:
                raise ValueError(f"receptor {r.name!r} of kind 'v' takes no tau or E_rev")
        else:
            check_positive(r.tau, f"receptor {r.name!r} tau")
            if r.kind == "conductance":
                check_scalar(r.E_rev, f"receptor {r.name!r} E_rev")
            elif r.E_rev is not None:
                raise ValueError(f"receptor {r.name!r} of kind 'current' takes no E_rev")
        out.append(r)
    return out


def _gather(indptr, spikes):
    """Synapse indices of the rows ``spikes`` of a CSR structure, row after row."""
    starts = indptr[spikes]
    lens = indptr[spikes + 1] - starts
    total = int(lens.sum())
    if total == 0:
        return None
    offsets = np.cumsum(lens) - lens
    return np.arange(total, dtype=np.int64) + np.repeat(starts - offsets, lens)


def current_gain(tau_r, tau_m, dt):
    """``K_r``: the weight of a current receptor's start value in the exact step's ``vinf``.

    ``tau_r / (tau_r - tau_m) (exp(-dt/tau_r) - exp(-dt/tau_m)) / (1 - exp(-dt/tau_m))``, computed
    as ``(dt/tau_m) a / (1 - a) exprel(dt (tau_r - tau_m) / (tau_m tau_r))`` with
    ``a = exp(-dt/tau_m)``, which has no cancellation and is ``(dt/tau_m) a / (1 - a)`` at
    ``tau_r == tau_m``. Shapes broadcast; times in ms.
    """
    tau_m = np.asarray(tau_m, dtype=np.float64)
    a = np.exp(-dt / tau_m)
    x = dt * (tau_r - tau_m) / (tau_m * tau_r)
    with np.errstate(invalid="ignore", divide="ignore"):
        exprel = np.where(x == 0.0, 1.0, np.expm1(x) / np.where(x == 0.0, 1.0, x))
    return (dt / tau_m) * a / -np.expm1(-dt / tau_m) * exprel


def ref_lif_network(n_steps, dt, *, tau_m, v_rest, v_reset, v_threshold, v0, tau_ref=0.0, R=1.0, I_ext=0.0,
                    receptors=(), projections=(), g0=None, method="auto", record_counts=False):
    """Simulate one LIF population with recurrent projections onto receptors (NumPy reference).

    ``dv/dt = (-(v - v_rest) + R I_ext + sum_current g + sum_conductance g (E_rev - v)) / tau_m``
    while not refractory; ``dg/dt = -g / tau`` for every stateful receptor. Each step ``k``
    (``t_k = k dt``) runs Brian2's schedule: state update, threshold, synapses, reset.

    1. Refractoriness (Brian2's ``(unless refractory)``): a neuron that spiked at step ``ks`` is
       refractory at step ``k`` while ``k - ks < ref_steps``, ``ref_steps = int((tau_ref + 1e-3
       dt) / dt)`` (Brian2's ``timestep``); its ``v`` is held, its receptors keep decaying.
    2. State update, from the values at the step's start, by ``method``:

       * ``"exact"`` (no conductance receptors; Brian2's ``method="exact"``, the CUBA case):
         ``v_new = vinf + (v - vinf) a``, ``a = exp(-dt/tau_m)``, ``vinf = v_rest + R I_ext +
         sum_r K_r g_r`` with ``K_r`` from :func:`current_gain` (the exact solution of the
         linear system over the step); ``g *= exp(-dt/tau)``.
       * ``"euler"`` (Brian2's ``method="euler"``, its default for the non-linear COBA system
         and the method of its COBA example): ``v_new = v + dt dv/dt``, ``g_new = g - dt g / tau``
         (every variable, current receptors included, takes a forward Euler step).
       * ``"exponential_euler"``: ``v`` exact with all receptors frozen at their start values,
         ``v_new = vinf + (v - vinf) exp(-dt (1 + G) / tau_m)``, ``G = sum_conductance g``,
         ``vinf = (v_rest + R I_ext + sum_current g + sum_conductance g E_rev) / (1 + G)``;
         ``g *= exp(-dt/tau)`` (what Brian2's ``method="exponential_euler"`` does).
       * ``"auto"``: ``"exact"`` without conductance receptors, else ``"euler"``.
    3. Threshold: ``spiked = not refractory and v_new > v_threshold``; spike time ``k dt``.
    4. Synapses: a spike of step ``k`` adds ``weight[s]`` of each synapse ``s`` in its row to the
       receptor of ``post[s]`` at step ``k + delay_steps[s]`` (Brian2's rounding,
       :meth:`Connectivity.delay_steps`; delay 0: this step). Everything arriving at ``k`` is
       applied now: ``g += w``, or ``v += w`` for ``"v"`` receptors (refractory neurons too).
       Arrivals due after the last step are dropped.
    5. Reset: ``v = v_reset`` for the spiking neurons (a ``"v"`` jump reaching a neuron in the
       step it spikes is lost, as in Brian2); their refractory period starts.

    Parameters
    ----------
    n_steps : int
        Number of steps, ``>= 0``.
    dt : float
        Time step, ms, ``> 0``.
    tau_m, tau_ref : float or array_like, shape (n,)
        Membrane time constant (ms, ``> 0``) and refractory period (ms, ``>= 0``).
    v_rest, v_reset, v_threshold : float or array_like, shape (n,)
        Resting, reset and threshold potentials (mV, or any unit of ``v``).
    v0 : array_like, shape (n,)
        Initial potentials; ``n = len(v0)``.
    R, I_ext : float or array_like, shape (n,)
        Resistance and constant external current; only ``R * I_ext`` (units of ``v``) is used.
    receptors : sequence of Receptor (or ``(name, kind, tau, E_rev)`` tuples)
    projections : sequence of (Connectivity, str)
        Recurrent projections (``n_pre == n_post == n``) and the name of the receptor they hit.
    g0 : None or dict of str to float or array_like, shape (n,)
        Initial value of stateful receptors by name (missing: 0).
    method : {"auto", "exact", "euler", "exponential_euler"}
    record_counts : bool
        Also return the population's spike count of each step.

    Returns
    -------
    RefResult
        ``(t, i, v, g, counts)``.

    Raises
    ------
    TypeError, ValueError
        A bad argument (named): shapes, non-positive ``dt``/``tau``, unknown receptor kinds or
        names, ``method="exact"`` with conductance receptors, projections of the wrong size.

    Examples
    --------
    The Brian2 tutorial's first synapse: neuron 0 (``I = 2``) drives neuron 1 by ``v += 0.2``.

    >>> from fastkernels.networks import Connectivity
    >>> c = Connectivity([0, 1, 1], [1], weight=0.2, n_post=2)
    >>> r = ref_lif_network(1000, 0.1, tau_m=[10.0, 100.0], v_rest=0.0, v_reset=0.0, v_threshold=1.0,
    ...                     v0=[0.0, 0.0], I_ext=[2.0, 0.0], receptors=[("syn", "v")], projections=[(c, "syn")])
    >>> r.t[r.i == 1].round(1).tolist()
    [42.0, 84.0]
    """
    n_steps = check_scalar(n_steps, "n_steps", integer=True, lo=0, hi=MAX_STEP)
    dt = check_positive(dt, "dt")
    v = np.array(v0, dtype=np.float64)
    if v.ndim != 1 or v.size < 1 or not np.isfinite(v).all():
        raise ValueError(f"v0 must be a non-empty 1-D array of finite values, got shape {v.shape}")
    n = v.size
    tau_m = per_neuron(tau_m, "tau_m", n, positive=True)
    v_rest, v_reset, v_th = (per_neuron(x, nm, n) for x, nm in
                             ((v_rest, "v_rest"), (v_reset, "v_reset"), (v_threshold, "v_threshold")))
    ref_steps = refractory_steps(per_neuron(tau_ref, "tau_ref", n, nonneg=True), dt, float(2 ** 62))
    drive = per_neuron(R, "R", n) * per_neuron(I_ext, "I_ext", n)
    recs = _receptors(receptors)
    method = check_choice(method, "method", METHODS)
    has_cond = any(r.kind == "conductance" for r in recs)
    if method == "auto":
        method = "euler" if has_cond else "exact"
    if method == "exact" and has_cond:
        raise ValueError("method='exact' cannot integrate conductance receptors: use 'euler' or 'exponential_euler'")

    state = [r for r in recs if r.kind != "v"]
    row = {r.name: k for k, r in enumerate(state)}
    n_rows = len(state) + 1  # the last row of the arrival buffer is the "v" jumps
    g = np.zeros((len(state), n))
    for name, val in (g0 or {}).items():
        if name not in row:
            raise ValueError(f"g0 names {name!r}, which is not a stateful receptor ({sorted(row)})")
        g[row[name]] = per_neuron(val, f"g0[{name!r}]", n)
    kind_of = {r.name: r.kind for r in recs}
    projs, max_d = [], 0
    for p, item in enumerate(projections):
        conn, name = item
        if not isinstance(conn, Connectivity):
            raise TypeError(f"projections[{p}] must be (Connectivity, receptor name), got {type(conn).__name__}")
        if conn.n_pre != n or conn.n_post != n:
            raise ValueError(f"projections[{p}] must connect the {n} neurons to themselves, got "
                             f"n_pre={conn.n_pre}, n_post={conn.n_post}")
        if name not in kind_of:
            raise ValueError(f"projections[{p}] targets receptor {name!r}; receptors are {sorted(kind_of)}")
        d = None if conn.delay is None else conn.delay_steps(dt).astype(np.int64)
        if d is not None and d.size:
            max_d = max(max_d, int(d.max()))
        projs.append((conn.indptr, conn.post, conn.weight.astype(np.float64), d,
                      n_rows - 1 if kind_of[name] == "v" else row[name]))

    # Per-step constants.
    taus = np.array([r.tau for r in state]).reshape(-1, 1)
    cur = np.array([r.kind == "current" for r in state], dtype=bool)
    cond = ~cur
    e_rev = np.array([r.E_rev if r.kind == "conductance" else 0.0 for r in state]).reshape(-1, 1)
    decay = np.exp(-dt / taus)  # "euler" steps g by g - dt g / tau instead, as Brian2 writes it
    a = np.exp(-dt / tau_m)
    gain = current_gain(taus[cur], tau_m, dt) if method == "exact" else None
    base = v_rest + drive

    buf = np.zeros((max_d + 1, n_rows, n))  # arrivals, by step modulo max_d + 1
    dirty = np.zeros(max_d + 1, dtype=bool)
    last = np.full(n, _NEVER, dtype=np.int64)
    times, ids = [], []
    counts = np.zeros(n_steps, dtype=np.int64) if record_counts else None
    for k in range(n_steps):
        free = (k - last) >= ref_steps
        # 1-2. state update from the step's start values
        if method == "exact":
            vinf = base + (gain * g[cur]).sum(axis=0) if gain.size else base
            vn = vinf + (v - vinf) * a
        elif method == "euler":
            dv = base - v + g[cur].sum(axis=0) + (g[cond] * (e_rev[cond] - v)).sum(axis=0)
            vn = v + dt * dv / tau_m
        else:
            gc = g[cond]
            lam = 1.0 + gc.sum(axis=0)
            vinf = (base + g[cur].sum(axis=0) + (gc * e_rev[cond]).sum(axis=0)) / lam
            vn = vinf + (v - vinf) * np.exp(-dt * lam / tau_m)
        np.copyto(v, vn, where=free)
        if method == "euler":
            g -= dt * g / taus
        else:
            g *= decay
        # 3. threshold
        spikes = np.flatnonzero(free & (v > v_th))
        # 4. synapses: this step's spikes into the arrival buffer, then everything due now
        slot = k % (max_d + 1)
        if spikes.size:
            times.append(np.full(spikes.size, k, dtype=np.int64))
            ids.append(spikes)
            if counts is not None:
                counts[k] = spikes.size
            for indptr, post, weight, d, r in projs:
                idx = _gather(indptr, spikes)
                if idx is None:
                    continue
                tgt, w = post[idx], weight[idx]
                if d is None:
                    buf[slot, r] += np.bincount(tgt, w, minlength=n)
                    dirty[slot] = True
                    continue
                dd = d[idx]
                for u in np.unique(dd):
                    if k + u >= n_steps:
                        break
                    sel = dd == u
                    s = (k + u) % (max_d + 1)
                    buf[s, r] += np.bincount(tgt[sel], w[sel], minlength=n)
                    dirty[s] = True
        if dirty[slot]:
            g += buf[slot, :-1]
            v += buf[slot, -1]
            buf[slot] = 0.0
            dirty[slot] = False
        # 5. reset
        v[spikes] = v_reset[spikes]
        last[spikes] = k
    t = np.concatenate(times) * dt if times else np.empty(0)
    i = np.concatenate(ids).astype(np.int64) if ids else np.empty(0, dtype=np.int64)
    return RefResult(t, i, v, {r.name: g[row[r.name]].copy() for r in state}, counts)


# ---------------------------------------------------------------- benchmark networks
class NetworkSpec(NamedTuple):
    """A network ready to simulate: ``ref_lif_network(n_steps, spec.dt, **spec.kwargs())``.

    ``params``: the LIF parameters (``tau_m``, ``v_rest``, ``v_reset``, ``v_threshold``,
    ``tau_ref``, ``R``, ``I_ext``; ms and mV); ``receptors``: tuple of :class:`Receptor`;
    ``projections``: tuple of ``(Connectivity, receptor name)``; ``v0`` (n,) mV and ``g0``
    (dict name -> (n,)): the initial state; ``method``: the integrator; ``source``: where the
    network comes from.
    """

    name: str
    n: int
    dt: float
    params: dict
    receptors: tuple
    projections: tuple
    v0: np.ndarray
    g0: dict
    method: str
    source: str

    def kwargs(self) -> dict:
        """Keyword arguments of :func:`ref_lif_network` (all but ``n_steps`` and ``dt``)."""
        return dict(self.params, v0=self.v0, receptors=self.receptors, projections=self.projections,
                    g0=self.g0, method=self.method)


#: Brian2's ``examples/CUBA.py`` (Brette et al. 2007, benchmark 2): ms and mV; weights in mV.
CUBA_PARAMS = dict(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0, R=1.0, I_ext=0.0,
                   tau_e=5.0, tau_i=10.0, w_e=60 * 0.27 / 10, w_i=-20 * 4.5 / 10)
#: Brian's COBA example (Brette et al. 2007, benchmark 1; brian-team/brian ``examples/COBA.py``
#: and its Brian2 port ``examples/COBA.py``, ``method='euler'``): ms and mV; conductances and
#: weights relative to the leak conductance.
COBA_PARAMS = dict(tau_m=20.0, v_rest=-60.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0, R=1.0, I_ext=0.0,
                   tau_e=5.0, tau_i=10.0, E_e=0.0, E_i=-80.0, w_e=6.0 / 10.0, w_i=67.0 / 10.0)
_LIF_KEYS = ("tau_m", "v_rest", "v_reset", "v_threshold", "tau_ref", "R", "I_ext")


def _ei_projections(n, p, w_e, w_i, seed):
    """Excitatory rows ``i < int(0.8 n)`` and inhibitory rows ``i >= int(0.8 n)``, each pair
    (self-pairs included, as Brian2's ``connect('i<3200', p=0.02)``) drawn with probability
    ``p``; both span all ``n`` rows (the other rows empty)."""
    n_e = int(0.8 * n)
    s_e, s_i, s_v = np.random.SeedSequence(seed).spawn(3)
    ce = bernoulli(n_e, n, p, weight=w_e, seed=np.random.default_rng(s_e))
    ci = bernoulli(n - n_e, n, p, weight=w_i, seed=np.random.default_rng(s_i))
    last_e = ce.indptr[-1]
    exc = Connectivity(np.concatenate([ce.indptr, np.full(n - n_e, last_e)]), ce.post, ce.weight, n_post=n)
    inh = Connectivity(np.concatenate([np.zeros(n_e, dtype=np.int64), ci.indptr]), ci.post, ci.weight, n_post=n)
    return exc, inh, np.random.default_rng(s_v)


def _size(n, p):
    n = check_scalar(n, "n", integer=True, lo=2)
    p = min(1.0, 80.0 / n) if p is None else check_scalar(p, "p", lo=0, hi=1)
    return n, p


def cuba_network(n=4000, *, p=None, seed=0, dt=0.1) -> NetworkSpec:
    """Brian2's CUBA benchmark network (``examples/CUBA.py`` in brian-team/brian2; Brette et al.
    2007, benchmark 2, after Vogels & Abbott 2005), at any size.

    ``n`` LIF neurons, ``dv/dt = (ge + gi - (v - E_l)) / tau_m`` (unless refractory), ``tau_m``
    20 ms, ``E_l`` -49 mV, threshold ``v > -50 mV``, reset -60 mV, refractory 5 ms; current
    receptors ``ge`` (tau 5 ms) and ``gi`` (10 ms), in mV; the first ``int(0.8 n)`` neurons
    excitatory (``ge += 1.62 mV``), the rest inhibitory (``gi += -9 mV``), each pair connected
    with probability ``p`` (self-pairs allowed); ``v0 = V_r + U(0, 1) (V_t - V_r)``,
    ``ge = gi = 0``; exact integration.

    Parameters
    ----------
    n : int
        Neurons, ``>= 2``; 4000 in the example.
    p : float, optional
        Connection probability; default ``min(1, 80 / n)`` (0.02 at 4000: 80 inputs per neuron).
    seed : int or None
        Seeds the synapses (:func:`~fastkernels.networks.bernoulli`) and ``v0``
        (``numpy.random.default_rng``), through ``numpy.random.SeedSequence(seed).spawn(3)``.
    dt : float
        Time step, ms (0.1 in the example).

    Returns
    -------
    NetworkSpec
    """
    n, p = _size(n, p)
    P = CUBA_PARAMS
    exc, inh, rng = _ei_projections(n, p, P["w_e"], P["w_i"], seed)
    v0 = P["v_reset"] + rng.random(n) * (P["v_threshold"] - P["v_reset"])
    receptors = (Receptor("ge", "current", P["tau_e"]), Receptor("gi", "current", P["tau_i"]))
    return NetworkSpec("CUBA", n, float(dt), {k: P[k] for k in _LIF_KEYS}, receptors, ((exc, "ge"), (inh, "gi")),
                       v0, {"ge": np.zeros(n), "gi": np.zeros(n)}, "exact", "brian-team/brian2 examples/CUBA.py")


def coba_network(n=4000, *, p=None, seed=0, dt=0.1) -> NetworkSpec:
    """The COBA benchmark network (Brette et al. 2007, benchmark 1, after Vogels & Abbott 2005)
    as in Brian's example ``examples/COBA.py`` (brian-team/brian, and its Brian2 port), at any size.

    ``dv/dt = (-(v - E_l) + ge (E_e - v) + gi (E_i - v)) / tau_m`` (unless refractory), ``tau_m``
    20 ms, ``E_l`` -60 mV, ``E_e`` 0 mV, ``E_i`` -80 mV, threshold ``v > -50 mV``, reset -60 mV,
    refractory 5 ms; conductance receptors ``ge`` (tau 5 ms) and ``gi`` (10 ms) relative to the
    leak; excitatory ``ge += 0.6`` (6 nS / 10 nS) from the first ``int(0.8 n)`` neurons,
    inhibitory ``gi += 6.7`` (67 nS / 10 nS) from the rest, each pair with probability ``p``;
    ``v0 = -65 + 5 N(0, 1)`` mV, ``ge0 = 4 + 1.5 N(0, 1)``, ``gi0 = 20 + 12 N(0, 1)`` (the
    example's start; a few are negative); forward Euler (``method="euler"``, as in the example).

    Parameters
    ----------
    n, p, seed, dt
        As in :func:`cuba_network`.

    Returns
    -------
    NetworkSpec
    """
    n, p = _size(n, p)
    P = COBA_PARAMS
    exc, inh, rng = _ei_projections(n, p, P["w_e"], P["w_i"], seed)
    v0 = P["v_rest"] - 5.0 + 5.0 * rng.standard_normal(n)
    g0 = {"ge": 4.0 + 1.5 * rng.standard_normal(n), "gi": 20.0 + 12.0 * rng.standard_normal(n)}
    receptors = (Receptor("ge", "conductance", P["tau_e"], P["E_e"]),
                 Receptor("gi", "conductance", P["tau_i"], P["E_i"]))
    return NetworkSpec("COBA", n, float(dt), {k: P[k] for k in _LIF_KEYS}, receptors, ((exc, "ge"), (inh, "gi")),
                       v0, g0, "euler", "brian-team/brian examples/COBA.py (Brian2 port: method='euler')")


def run_spec(spec: NetworkSpec, duration=1000.0, *, record_counts=False) -> RefResult:
    """Run ``spec`` for ``duration`` ms (a whole number of steps) with :func:`ref_lif_network`."""
    duration = check_scalar(duration, "duration", lo=0)
    n_steps = int(round(duration / spec.dt))
    if abs(n_steps * spec.dt - duration) > 1e-9 * max(1.0, duration):
        raise ValueError(f"duration ({duration} ms) must be a whole number of steps of dt = {spec.dt} ms")
    return ref_lif_network(n_steps, spec.dt, record_counts=record_counts, **spec.kwargs())
