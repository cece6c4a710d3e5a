"""The NumPy network reference (``fastkernels.networks._reference``): the contract the compiled
network simulator follows, checked against the Brian2 tutorial's reference values (notes/
seeds_000_004.md section 2, Y1-Y3), closed forms, a scalar event-by-event simulator written from
the contract, and conservation of the delivered weight."""

from __future__ import annotations

import math
from collections import defaultdict

import numpy as np
import pytest

from fastkernels.networks import Connectivity, bernoulli
from fastkernels.networks._reference import (
    COBA_PARAMS,
    CUBA_PARAMS,
    Receptor,
    coba_network,
    cuba_network,
    current_gain,
    ref_lif_network,
    run_spec,
)

DT = 0.1


def _tutorial(n_steps, weight, delay=None, synapse=True):
    """Brian2 tutorial part II: dv/dt = (I - v)/tau, threshold 1, reset 0, v_post += w."""
    n = 1 + len(weight)
    conn = Connectivity([0, len(weight)] + [len(weight)] * (n - 1), list(range(1, n)), weight=weight,
                        delay=delay, n_post=n)
    return ref_lif_network(n_steps, DT, tau_m=[10.0] + [100.0] * (n - 1), v_rest=0.0, v_reset=0.0,
                           v_threshold=1.0, v0=np.zeros(n), I_ext=[2.0] + [0.0] * (n - 1),
                           receptors=[Receptor("syn", "v")], projections=[(conn, "syn")] if synapse else [])


def _times(r, i):
    return np.round(r.t[r.i == i], 6).tolist()


def test_y1_simplest_synapse():
    r = _tutorial(1000, [0.2])
    assert _times(r, 0) == pytest.approx([6.9 + 7.0 * k for k in range(14)])
    assert _times(r, 1) == [42.0, 84.0]
    assert (r.i == 1).sum() == 2
    assert (_tutorial(1000, [0.2], synapse=False).i == 1).sum() == 0


def test_y2_per_synapse_weights_and_final_v():
    r = _tutorial(500, [0.2, 0.4])
    assert _times(r, 1) == [42.0]
    assert _times(r, 2) == [21.0, 42.0]
    np.testing.assert_allclose(r.v, [0.190325, 0.198010, 0.396020], atol=1e-6)


def test_y3_delays():
    r = _tutorial(500, [0.2, 0.4], delay=[2.0, 4.0])
    assert _times(r, 1) == [44.0]
    assert _times(r, 2) == [25.0, 46.0]


def test_spikes_ordered_by_step_then_neuron_and_counts():
    spec = cuba_network(200, seed=3)
    r = run_spec(spec, 100.0, record_counts=True)
    assert r.i.size > 0 and r.t.dtype == np.float64 and r.i.dtype == np.int64
    key = np.round(r.t / DT).astype(np.int64) * spec.n + r.i
    assert (np.diff(key) > 0).all()
    assert r.counts.shape == (1000,) and r.counts.sum() == r.i.size
    np.testing.assert_array_equal(np.bincount(np.round(r.t / DT).astype(np.int64), minlength=1000), r.counts)


# ---------------------------------------------------------------- integration
@pytest.mark.parametrize("tau_r", [5.0, 20.0, 20.0 + 1e-9, 37.0])
def test_exact_current_receptor_matches_closed_form(tau_r):
    tau_m, c, v0, g0, steps = 20.0, -49.0, -60.0, 3.0, 300
    r = ref_lif_network(steps, DT, tau_m=tau_m, v_rest=c, v_reset=-60.0, v_threshold=1e9, v0=[v0],
                        receptors=[Receptor("ge", "current", tau_r)], g0={"ge": g0})
    t = steps * DT
    if abs(tau_r - tau_m) < 1e-6:  # the limit (the general form cancels catastrophically here)
        v = c + (v0 - c) * math.exp(-t / tau_m) + g0 * t / tau_m * math.exp(-t / tau_m)
    else:
        A = g0 * tau_r / (tau_r - tau_m)
        v = c + (v0 - c - A) * math.exp(-t / tau_m) + A * math.exp(-t / tau_r)
    assert r.v[0] == pytest.approx(v, abs=1e-11 if tau_r != 20.0 + 1e-9 else 1e-9)  # limit off by O(1e-9)
    assert r.g["ge"][0] == pytest.approx(g0 * math.exp(-t / tau_r), rel=1e-12)


def test_current_gain_is_continuous_at_equal_time_constants():
    a = math.exp(-DT / 20.0)
    limit = DT / 20.0 * a / (1 - a)
    assert current_gain(20.0, 20.0, DT) == pytest.approx(limit, rel=1e-15)
    for eps in (1e-12, 1e-8, 1e-4):
        assert current_gain(20.0 + eps, 20.0, DT) == pytest.approx(limit, rel=1e-3 * eps + 1e-14)
    direct = 5.0 / (5.0 - 20.0) * (math.exp(-DT / 5.0) - a) / (1 - a)
    assert current_gain(5.0, 20.0, DT) == pytest.approx(direct, rel=1e-12)


def test_exact_current_receptor_converges_to_fine_euler():
    """The step is the exact solution: fine forward Euler of the same ODE approaches it."""
    r = ref_lif_network(100, DT, tau_m=20.0, v_rest=0.0, v_reset=0.0, v_threshold=1e9, v0=[1.0],
                        receptors=[Receptor("ge", "current", 5.0)], g0={"ge": 4.0})
    h, v, g = DT / 1000, 1.0, 4.0
    for _ in range(100 * 1000):
        v, g = v + h * (-v + g) / 20.0, g - h * g / 5.0
    assert r.v[0] == pytest.approx(v, rel=1e-4)


# ---------------------------------------------------------------- against a scalar event simulator
def _naive(n_steps, dt, P, v0, recs, projs, g0, method):
    """The contract written neuron by neuron and synapse by synapse, with an event queue."""
    n = len(v0)
    v = [float(x) for x in v0]
    g = {r.name: [float(x) for x in g0.get(r.name, np.zeros(n))] for r in recs if r.kind != "v"}
    kind = {r.name: r for r in recs}
    ref = [int((P["tau_ref"][i] + 1e-3 * dt) / dt) for i in range(n)]
    last, queue, spikes = [None] * n, defaultdict(list), []
    for k in range(n_steps):
        free = [last[i] is None or k - last[i] >= ref[i] for i in range(n)]
        for i in range(n):
            tm, c = P["tau_m"][i], P["v_rest"][i] + P["I_ext"][i]
            cur = [(g[r.name][i], r.tau) for r in recs if r.kind == "current"]
            cond = [(g[r.name][i], r.E_rev) for r in recs if r.kind == "conductance"]
            if method == "exact":
                a = math.exp(-dt / tm)
                new = c + (v[i] - c) * a + sum(x * tr / (tr - tm) * (math.exp(-dt / tr) - a) for x, tr in cur)
            elif method == "euler":
                new = v[i] + dt * (c - v[i] + sum(x for x, _ in cur) + sum(x * (e - v[i]) for x, e in cond)) / tm
            else:
                lam = 1 + sum(x for x, _ in cond)
                vinf = (c + sum(x for x, _ in cur) + sum(x * e for x, e in cond)) / lam
                new = vinf + (v[i] - vinf) * math.exp(-dt * lam / tm)
            if free[i]:
                v[i] = new
        for name, vals in g.items():
            tau = kind[name].tau
            g[name] = [x - dt * x / tau if method == "euler" else x * math.exp(-dt / tau) for x in vals]
        fired = [i for i in range(n) if free[i] and v[i] > P["v_threshold"][i]]
        for i in fired:
            spikes.append((k, i))
            for conn, name in projs:
                d = conn.delay_steps(dt)
                for s in range(conn.indptr[i], conn.indptr[i + 1]):
                    queue[k + int(d[s])].append((int(conn.post[s]), name, float(conn.weight[s])))
        for j, name, w in queue.pop(k, []):
            if kind[name].kind == "v":
                v[j] += w
            else:
                g[name][j] += w
        for i in fired:
            v[i], last[i] = P["v_reset"][i], k
    return spikes, np.array(v), {k: np.array(x) for k, x in g.items()}


@pytest.mark.parametrize("method", ["exact", "euler", "exponential_euler"])
def test_matches_scalar_event_simulator(method):
    rng = np.random.default_rng(7)
    n, steps = 24, 400
    P = dict(tau_m=rng.uniform(8, 20, n), v_rest=np.zeros(n), v_reset=rng.uniform(-0.2, 0.1, n),
             v_threshold=np.ones(n), tau_ref=rng.choice([0.0, 0.5, 1.0, 2.05], n), I_ext=rng.uniform(0.8, 1.6, n))
    recs = [Receptor("jump", "v"), Receptor("ge", "current", 3.0)]
    if method != "exact":
        recs += [Receptor("gi", "conductance", 7.0, -0.5), Receptor("gx", "conductance", 2.0, 4.0)]
    projs = [(bernoulli(n, n, 0.3, weight=rng.uniform(-0.1, 0.15, 1)[0], delay=rng.choice([0.0, 0.1, 0.35, 1.0]),
                        seed=1), "jump"),
             (Connectivity.from_dense(rng.uniform(0, 0.2, (n, n)) * (rng.random((n, n)) < 0.2),
                                      delay=rng.uniform(0, 1.5, (n, n))), "ge")]
    if method != "exact":
        projs += [(bernoulli(n, n, 0.2, weight=0.05, seed=2), "gi"), (bernoulli(n, n, 0.1, weight=0.02, seed=3), "gx")]
    g0 = {"ge": rng.uniform(0, 0.5, n)}
    v0 = rng.uniform(0, 1, n)
    r = ref_lif_network(steps, DT, v0=v0, receptors=recs, projections=projs, g0=g0, method=method,
                        R=1.0, **P)
    spikes, v, g = _naive(steps, DT, P, v0, recs, projs, g0, method)
    assert len(spikes) > 100
    assert list(zip(np.round(r.t / DT).astype(int).tolist(), r.i.tolist())) == spikes
    np.testing.assert_allclose(r.v, v, rtol=1e-9, atol=1e-12)
    for name in g:
        np.testing.assert_allclose(r.g[name], g[name], rtol=1e-9, atol=1e-12)


def test_refractory_neuron_takes_jumps_and_a_spiking_neuron_loses_them():
    # neuron 0 fires every ref_steps = 20 steps (huge drive); neuron 1 too, in lockstep, so the jump
    # 0 -> 1 (delay 0) reaches it in the step it spikes and is lost; 0 -> 2 reaches a neuron held
    # refractory by its long period after a first spike at step 0 (v0 > threshold).
    conn = Connectivity([0, 2, 2, 2], [1, 2], weight=[0.5, 0.25], n_post=3)
    r = ref_lif_network(100, DT, tau_m=10.0, v_rest=0.0, v_reset=0.0, v_threshold=1.0, v0=[0.0, 0.0, 2.0],
                        tau_ref=[2.0, 2.0, 1e4], I_ext=[1e6, 1e6, 0.0], receptors=[Receptor("j", "v")],
                        projections=[(conn, "j")])
    assert _times(r, 0) == _times(r, 1) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert _times(r, 2) == [0.0]
    # neuron 1 ends reset (every jump lost); neuron 2 lost the jump of step 0 (its own spike) and
    # kept the four it received while refractory, its v otherwise held
    assert r.v[1] == 0.0 and r.v[2] == pytest.approx(4 * 0.25)


# ---------------------------------------------------------------- conservation
def test_delivered_weight_is_conserved_at_the_right_step():
    """Every spike delivers its row's weights to the receptor at step k + delay_steps: the final
    ``g`` is the sum of the delivered weights, each decayed from its arrival step to the end."""
    spec = cuba_network(150, p=0.1, seed=5)
    exc = spec.projections[0][0]
    exc.delay = np.random.default_rng(0).uniform(0.0, 3.0, exc.n_synapses)
    steps = 800
    r = run_spec(spec, steps * DT)
    assert r.i.size > 50
    for (conn, name), rec in zip(spec.projections, spec.receptors):
        d = conn.delay_steps(DT) if conn.delay is not None else np.zeros(conn.n_synapses, dtype=np.int32)
        expected = np.zeros(spec.n)
        for k, i in zip(np.round(r.t / DT).astype(np.int64), r.i):
            s = np.arange(conn.indptr[i], conn.indptr[i + 1])
            arrive = k + d[s]
            ok = arrive < steps
            np.add.at(expected, conn.post[s][ok], conn.weight[s][ok] * np.exp(-(steps - 1 - arrive[ok]) * DT / rec.tau))
        np.testing.assert_allclose(r.g[name], expected, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- benchmark networks
@pytest.mark.parametrize("build", [cuba_network, coba_network])
def test_benchmark_networks_structure(build):
    spec = build(500, seed=11)
    P = CUBA_PARAMS if build is cuba_network else COBA_PARAMS
    (exc, e_name), (inh, i_name) = spec.projections
    assert (e_name, i_name) == ("ge", "gi") and spec.n == 500 and spec.dt == 0.1
    assert exc.out_degree()[400:].sum() == 0 and inh.out_degree()[:400].sum() == 0
    assert (exc.weight == P["w_e"]).all() and (inh.weight == P["w_i"]).all()
    mean_in = (exc.n_synapses + inh.n_synapses) / 500
    assert 75 < mean_in < 85  # p = 80 / n
    assert spec.method == ("exact" if build is cuba_network else "euler")
    again = build(500, seed=11)
    np.testing.assert_array_equal(again.v0, spec.v0)
    np.testing.assert_array_equal(again.projections[1][0].post, inh.post)
    assert not np.array_equal(build(500, seed=12).v0, spec.v0)
    if build is cuba_network:
        assert ((spec.v0 >= -60) & (spec.v0 <= -50)).all() and not spec.g0["ge"].any()
    else:
        assert abs(spec.v0.mean() + 65) < 1 and abs(spec.g0["gi"].mean() - 20) < 2


def test_cuba_network_is_active_at_a_few_hertz():
    r = run_spec(cuba_network(400, seed=2), 200.0)
    assert 2.0 < r.i.size / 400 / 0.2 < 15.0


# ---------------------------------------------------------------- bad input
def test_bad_arguments_are_named():
    c = Connectivity([0, 1, 1], [1], weight=0.2, n_post=2)
    base = dict(tau_m=10.0, v_rest=0.0, v_reset=0.0, v_threshold=1.0, v0=[0.0, 0.0])
    with pytest.raises(ValueError, match="method"):
        ref_lif_network(10, DT, method="rk4", **base)
    with pytest.raises(ValueError, match="exact"):
        ref_lif_network(10, DT, method="exact", receptors=[("g", "conductance", 5.0, 0.0)], **base)
    with pytest.raises(ValueError, match="targets receptor 'nope'"):
        ref_lif_network(10, DT, receptors=[("g", "current", 5.0)], projections=[(c, "nope")], **base)
    with pytest.raises(ValueError, match="n_pre=3"):
        ref_lif_network(10, DT, receptors=[("g", "v")], projections=[(Connectivity([0, 0, 0, 0], [], n_post=3), "g")],
                        **base)
    with pytest.raises(ValueError, match="g0"):
        ref_lif_network(10, DT, receptors=[("g", "v")], g0={"g": 1.0}, **base)
    with pytest.raises(ValueError, match="tau"):
        ref_lif_network(10, DT, receptors=[("g", "current", -1.0)], **base)
    with pytest.raises(ValueError, match="kind"):
        ref_lif_network(10, DT, receptors=[("g", "nmda", 5.0)], **base)
    with pytest.raises(ValueError, match="dt"):
        ref_lif_network(10, 0.0, **base)
    with pytest.raises(ValueError, match="tau_m"):
        ref_lif_network(10, DT, **dict(base, tau_m=[1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="whole number"):
        run_spec(cuba_network(10, seed=0), 1.05)
