"""Brian2 peer of the network benchmark cases (CUBA and COBA, :mod:`fastkernels.networks._reference`).

:func:`network_peer` returns ``peer(spec, steps)``: Brian2 simulating the network a
:class:`~fastkernels.networks._reference.NetworkSpec` describes, for ``steps`` steps of
``spec.dt``, with exactly the same synapses (each projection's ``Connectivity.i``/``j`` passed to
``Synapses.connect(i=..., j=...)``, weights and delays copied) and the same initial state
(``spec.v0``, ``spec.g0``), a ``SpikeMonitor`` on every neuron, and returns a
:class:`~fastkernels.neurons._brian2_peer.PeerTiming` ``(counts, seconds)``: spikes per neuron
(``(n,)`` int64) and Brian2's own measure of the simulation time.

The modes, their timing and the device handling are those of
:mod:`fastkernels.neurons._brian2_peer` (this module reuses its ``make_peer``):
``"cpp_standalone"`` times the C++ program's run alone (``device._last_run_time``), in a build
directory kept by the peer; ``"runtime"`` times ``Network.run`` (Cython, or ``codegen_target``).
Brian2 is imported only when the factory is called.

The model, in Brian2's terms (CUBA: Brian2's ``examples/CUBA.py``; COBA: Brian's COBA example)::

    dv/dt = (-(v - v_rest) + I_drive + ge + gi) / tau_m : volt (unless refractory)   # CUBA
    dv/dt = (-(v - v_rest) + I_drive + ge*(E_ge - v) + gi*(E_gi - v)) / tau_m : volt (unless refractory)  # COBA
    dge/dt = -ge / tau_ge : volt (current) or 1 (conductance), same for gi

threshold ``v > v_threshold``, reset ``v = v_reset``, ``refractory = tau_ref``, ``method`` from
the spec (``"exact"`` for CUBA, ``"euler"`` for COBA), ``on_pre`` ``ge_post += w`` (a constant
when every weight of the projection is equal, else a per-synapse ``w``); ``"v"`` receptors are
``v_post += w``. ``I_drive = R * I_ext`` (mV).
"""

from __future__ import annotations

import numpy as np

from ..neurons._brian2_peer import MODES, PeerTiming, make_peer

__all__ = ["MODES", "PeerTiming", "network_peer"]

_METHODS = {"exact": "exact", "euler": "euler", "exponential_euler": "exponential_euler"}


def _scalar(params, key):
    a = np.asarray(params[key], dtype=np.float64)
    if a.ndim != 0:
        raise ValueError(f"the Brian2 network peer takes scalar LIF parameters; {key} is an array")
    return float(a)


def _equations(spec):
    """Brian2 model equations and namespace (without units) for ``spec``."""
    drive = _scalar(spec.params, "R") * _scalar(spec.params, "I_ext")
    terms = ["-(v - v_rest)", "I_drive"]
    eqs, ns = [], {"I_drive": drive}
    for r in spec.receptors:
        if r.kind == "v":
            continue
        if r.name in ("v", "I_drive", "v_rest", "tau_m") or not r.name.isidentifier():
            raise ValueError(f"receptor name {r.name!r} cannot be a Brian2 variable here")
        unit = "volt" if r.kind == "current" else "1"
        eqs.append(f"d{r.name}/dt = -{r.name} / tau_{r.name} : {unit}")
        ns[f"tau_{r.name}"] = r.tau
        if r.kind == "current":
            terms.append(r.name)
        else:
            terms.append(f"{r.name} * (E_{r.name} - v)")
            ns[f"E_{r.name}"] = r.E_rev
    return "\n".join([f"dv/dt = ({' + '.join(terms)}) / tau_m : volt (unless refractory)"] + eqs), ns


def network_peer(mode: str = "cpp_standalone", *, codegen_target: str | None = None, threads: int = 0):
    """Brian2 on a network case: ``peer(spec, steps) -> PeerTiming(counts, seconds)``.

    Parameters
    ----------
    mode : {"cpp_standalone", "runtime"}
        As in :func:`fastkernels.neurons._brian2_peer.lif_population_peer`.
    codegen_target : str, optional
        Runtime mode's code-generation target (``"numpy"``, ``"cython"``).
    threads : int
        cpp_standalone's OpenMP threads (0: none).

    Returns
    -------
    callable
        ``peer(spec, steps)``: ``spec`` a :class:`~fastkernels.networks._reference.NetworkSpec`
        with scalar LIF parameters, ``steps`` the number of steps of ``spec.dt`` (ms).

    Raises
    ------
    ImportError
        Brian2 missing (or, for ``"cpp_standalone"``, a C++ compiler).
    ValueError
        A bad ``mode``/``threads``/``codegen_target``; later, a spec the peer cannot write
        (per-neuron LIF parameters, an unknown method).
    """
    current = {}

    def build(b2, v0, steps):
        spec = current["spec"]
        ms, mV = b2.ms, b2.mV
        dt = spec.dt * ms
        method = _METHODS.get(spec.method)
        if method is None:
            raise ValueError(f"the Brian2 network peer cannot integrate with method {spec.method!r}")
        model, raw = _equations(spec)
        # units: time constants in ms, potentials (I_drive, reversal potentials) in mV
        ns = {k: x * ms if k.startswith("tau_") else x * mV for k, x in raw.items()}
        ns.update(v_rest=_scalar(spec.params, "v_rest") * mV, tau_m=_scalar(spec.params, "tau_m") * ms,
                  v_th=_scalar(spec.params, "v_threshold") * mV, v_r=_scalar(spec.params, "v_reset") * mV)
        G = b2.NeuronGroup(spec.n, model, threshold="v > v_th", reset="v = v_r",
                           refractory=_scalar(spec.params, "tau_ref") * ms, method=method, dt=dt, namespace=ns,
                           name="fk_net")
        G.v = v0 * mV
        kinds = {r.name: r.kind for r in spec.receptors}
        for name, val in spec.g0.items():
            setattr(G, name, np.asarray(val, dtype=np.float64) * (mV if kinds[name] == "current" else 1.0))
        objects = [G]
        for p, (conn, name) in enumerate(spec.projections):
            dimensionless = kinds[name] == "conductance"
            unit = 1.0 if dimensionless else mV
            target = "v_post" if kinds[name] == "v" else f"{name}_post"
            w = np.asarray(conn.weight, dtype=np.float64)
            if w.size and (w == w[0]).all():
                S = b2.Synapses(G, G, on_pre=f"{target} += w_syn", dt=dt, namespace={"w_syn": w[0] * unit},
                                name=f"fk_net_syn{p}")
                per_synapse = False
            else:
                S = b2.Synapses(G, G, "w_syn : " + ("1" if dimensionless else "volt") + " (constant)",
                                on_pre=f"{target} += w_syn", dt=dt, name=f"fk_net_syn{p}")
                per_synapse = True
            S.connect(i=conn.i, j=conn.j.astype(np.int32))
            if per_synapse:
                S.w_syn = w * unit
            if conn.delay is not None:
                S.delay = np.asarray(conn.delay) * ms
            objects.append(S)
        mon = b2.SpikeMonitor(G, name="fk_net_spikes")
        objects.append(mon)
        return tuple(objects), mon, steps * dt

    inner = make_peer(mode, build, codegen_target, threads)

    def peer(spec, steps):
        current["spec"] = spec
        try:
            return inner(np.asarray(spec.v0, dtype=np.float64), steps)
        finally:
            current.clear()

    peer.mode = mode
    peer.directory = getattr(inner, "directory", None)
    peer.inner = inner  # keeps the build directory alive with the peer
    return peer
