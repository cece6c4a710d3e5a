"""The networks area's benchmark cases: the CUBA and COBA networks of Brette et al. (2007).

Each case runs one network (:func:`._reference.cuba_network`, :func:`._reference.coba_network`)
for 1 s of biological time with fastkernels' :class:`~.network.Network`, against the NumPy
reference (:func:`._reference.ref_lif_network`, the same network and schedule) and, where Brian2
is importable, against Brian2 (:mod:`._brian2_peer`: its simulation time alone; the neurons'
three columns: cpp_standalone, cpp_standalone with OpenMP on fastkernels' thread count, runtime).
The synapses and initial state are built with the inputs (untimed); every contender simulates
the same ones from the same state, and each check is spike counts per neuron, spike for spike
(:func:`_check_counts`). Throughput counts neuron updates plus synaptic events.
"""

from __future__ import annotations

import numpy as np

from .._jit import FASTMATH, jit
from ..bench.registry import Case, register
from ..neurons import LIF
from ..neurons._bench_peers import brian2_peers
from ._brian2_peer import network_peer
from ._reference import coba_network, cuba_network, run_spec
from .groups import Conductance, Current, NeuronGroup
from .monitors import SpikeMonitor
from .network import Network
from .synapses import Synapses


def spec_network(spec, *, seed=None):
    """``(network, group, spike monitor)``: the :class:`~._reference.NetworkSpec` ``spec`` as a
    fastkernels :class:`~.network.Network` (same parameters, synapses and initial state)."""
    p = spec.params
    model = LIF(tau_m=p["tau_m"], v_rest=p["v_rest"], v_reset=p["v_reset"], v_threshold=p["v_threshold"],
                tau_ref=p["tau_ref"], resistance=p["R"])
    receptors = {r.name: Current(r.tau) if r.kind == "current" else Conductance(r.tau, r.E_rev)
                 for r in spec.receptors}
    G = NeuronGroup(spec.n, model, receptors=receptors, v0=spec.v0, I=p["I_ext"], method=spec.method)
    for name, g0 in spec.g0.items():
        G.g[name][:] = g0
    M = SpikeMonitor(G)
    syns = [Synapses(G, G, conn, on_pre=target) for conn, target in spec.projections]
    return Network(G, *syns, M, dt=spec.dt, seed=seed), G, M


# ---------------------------------------------------------------- the floor
@jit(fastmath=FASTMATH)
def _floor_loop(v, ge, gi, since, steps, conductance, a, vinf, ce, ci, de, di, ee, ei, vt, vr, ref_steps):
    """The least neuron update either network needs, per step: ``v``, two receptors, a refractory
    counter, threshold and reset (one loop over flat arrays, no blocks, no spike list, no NaN
    check, no propagation); returns the spike count. CUBA: ``v' = vinf + a (v - vinf) + ce ge + ci gi``
    (the exact step's form); COBA: the Euler step ``v' = v + a (vinf - v) + ce ge (ee - v) + ci gi (ei - v)``."""
    n = v.shape[0]
    total = 0
    for _k in range(steps):
        for j in range(n):
            s = since[j] + 1.0
            free = s >= ref_steps
            x = v[j]
            if conductance:
                vn = x + a * (vinf - x) + ce * ge[j] * (ee - x) + ci * gi[j] * (ei - x)
            else:
                vn = vinf + a * (x - vinf) + ce * ge[j] + ci * gi[j]
            ge[j] *= de
            gi[j] *= di
            vn = vn if free else x
            sp = free & (vn > vt)
            v[j] = vr if sp else vn
            since[j] = 0.0 if sp else s
            total += sp
    return total


def _update_floor():
    """the neuron update alone, hand-written at its leanest (this machine's floor)

    A 20-line Numba loop over flat float64 arrays doing the least per-neuron work either network
    needs each step (``v``, two receptors, refractory counter, threshold, reset; the step's
    coefficients from the spec, not checked against the reference) and nothing else: no
    propagation, spike list, blocks or state checks. Its time bounds what any float64 CPU
    network run of the same size can reach on this machine (serial)."""
    def floor(spec, steps, backend):
        p = spec.params
        conductance = spec.receptors[0].kind == "conductance"
        h = spec.dt / p["tau_m"]
        a = h if conductance else float(np.exp(-h))
        te, ti = spec.receptors[0].tau, spec.receptors[1].tau
        de, di = (1.0 - spec.dt / te, 1.0 - spec.dt / ti) if conductance else (np.exp(-spec.dt / te),
                                                                                 np.exp(-spec.dt / ti))
        E = [getattr(r, "E_rev", 0.0) or 0.0 for r in spec.receptors]
        return _floor_loop(spec.v0.copy(), spec.g0["ge"].copy(), spec.g0["gi"].copy(), np.full(spec.n, 1e9), steps,
                           conductance, a, p["v_rest"], h, h, de, di, E[0], E[1], p["v_threshold"], p["v_reset"],
                           round(p["tau_ref"] / spec.dt))

    return floor


# ---------------------------------------------------------------- the cases
DT = 0.1  # ms, the builders' default
# Synaptic events of the reference run of each (network, n, steps), recorded by the baseline for
# the throughput column (the baseline always runs before the work is counted).
_EVENTS: dict = {}


def _inputs(builder):
    """``make_inputs(n, duration)``: the network (synapses and initial state, seed 0) and its steps.
    Building the connectivity happens here, untimed; each timed call builds only the Network objects."""
    def make(n, duration):
        spec = builder(n, seed=0)
        return spec, int(round(duration / spec.dt))

    return make


def _backend(backend):
    """The ``Network.run`` backend of a bench run's ``backend``.

    ``"parallel"`` runs ``"auto"``: the network's own choice with the run's threads, which runs on
    threads from :data:`~.network.PARALLEL_MIN_NEURONS` neurons (at 4000 neurons two parallel
    regions a step cost about what they save: 8.1 against 7.8 us a step on 2 threads), as a user's
    ``net.run`` does. ``"auto"`` never picks the GPU: on the cuda backend the case runs the same
    way (as the neurons' count-only bound runs parallel there), so ``--backend cuda`` reports a
    CPU time for it.
    """
    return "cpu" if backend == "cpu" else "auto"


def fk_network(spec, steps, backend):
    """fastkernels: ``spec`` as a :class:`~.network.Network` (fresh state each call), run for
    ``steps`` steps; spike counts per neuron."""
    net, _G, M = spec_network(spec)
    net.run(steps * spec.dt, backend=_backend(backend), progress=False)
    return M.count


def numpy_network(spec, steps):
    """The NumPy reference (:func:`._reference.run_spec`: a Python time loop, array operations over
    all neurons per step, CSR rows gathered and summed with ``np.bincount``); spike counts per neuron."""
    ref = run_spec(spec, steps * spec.dt)
    counts = np.bincount(ref.i, minlength=spec.n)
    out_degree = sum(np.diff(conn.indptr) for conn, _ in spec.projections)
    _EVENTS[(spec.name, spec.n, steps)] = int(counts @ out_degree)
    return counts


#: Populations of at least this many neurons run long enough (1 s) for the networks' chaos to
#: amplify a last-bit difference into different spikes: their check falls back to the mean rate.
CHAOTIC_NEURONS = 1000
#: Relative tolerance of that fallback (the rate of two samples of the same network state).
RATE_RTOL = 0.02


def _check_counts(out, ref):
    """Spike counts per neuron equal to the reference's; for the long runs of large networks, equal
    or the same mean rate within :data:`RATE_RTOL`.

    The networks are chaotic (balanced excitation and inhibition): a last-bit difference in one
    neuron's ``v`` grows until it moves a threshold crossing, after which two runs are different
    samples of the same asynchronous irregular state (equal statistics, not equal spikes). The
    kernel rounds as LLVM contracts ``a * b + c`` into fused multiply-adds, NumPy does not; on
    the AVX2 machine this was measured on the counts were equal neuron for neuron at every size
    (200 x 50 ms, 4000 and 40 000 x 1 s), but a machine or library that rounds one operation
    differently may only reproduce the statistics, so at :data:`CHAOTIC_NEURONS` neurons and more
    a difference passes when the mean rates agree. The short test size must match exactly.
    """
    out = np.asarray(out)
    if out.shape != ref.shape:
        raise AssertionError(f"counts of shape {out.shape}, the reference's are {ref.shape}")
    differ = np.flatnonzero(out != ref)
    if not differ.size:
        return
    rel = abs(out.mean() - ref.mean()) / max(ref.mean(), 1e-300)
    if ref.size >= CHAOTIC_NEURONS and rel <= RATE_RTOL:
        return
    raise AssertionError(f"{differ.size} of {ref.size} neurons' spike counts differ from the reference "
                         f"(first: neuron {differ[0]}, {out[differ[0]]} against {ref[differ[0]]}); mean rate "
                         f"{out.mean():.4f} against {ref.mean():.4f} spikes per neuron ({rel:.2%} apart)")


def _work(name):
    """Neuron updates (neurons x steps) plus synaptic events (the reference run's spikes times
    their out-degrees), as ``"updates"``."""
    def work(n, duration):
        steps = int(round(duration / DT))
        return {"updates": n * steps + _EVENTS.get((name, n, steps), 0)}

    return work


def _label(n, duration):
    return f"{n} neurons x {duration / 1e3:g} s"


_SIZES = {"test": [dict(n=200, duration=50.0)],
          "quick": [dict(n=4000, duration=1000.0)],
          "full": [dict(n=4000, duration=1000.0), dict(n=40_000, duration=1000.0)]}

register(Case(
    name="cuba_network",
    area="networks",
    description="Brian2's CUBA network (Brette et al. 2007): LIF, current synapses, 80 inputs per neuron, "
                "exact update, dt 0.1 ms (spike counts; updates = neuron steps + synaptic events)",
    make_inputs=_inputs(cuba_network),
    kernel=fk_network,
    baseline=numpy_network,
    sizes=_SIZES,
    label=_label,
    check=_check_counts,
    work=_work("CUBA"),
    peers=brian2_peers(network_peer),
    bounds={"update floor": _update_floor},
))

register(Case(
    name="coba_network",
    area="networks",
    description="the COBA network (Brette et al. 2007): LIF, conductance synapses, 80 inputs per neuron, "
                "forward Euler, dt 0.1 ms (spike counts; updates = neuron steps + synaptic events)",
    make_inputs=_inputs(coba_network),
    kernel=fk_network,
    baseline=numpy_network,
    sizes=_SIZES,
    label=_label,
    check=_check_counts,
    work=_work("COBA"),
    peers=brian2_peers(network_peer),
    bounds={"update floor": _update_floor},
))
