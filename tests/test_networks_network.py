"""Network.run: the Brian2 tutorial's synapse examples (Y1-Y3), exact receptor integration,
conservation, continuation, thread-count independence, monitors and bad input."""

import numpy as np
import pytest
from test_networks_stdp import (
    B2_CASES,
    B2_I,
    B2_J,
    B2_POST_I,
    B2_POST_K,
    B2_PRE_I,
    B2_PRE_K,
    B2_W0,
    first_step_after,
)

from fastkernels import networks as nw
from fastkernels.networks._bench import spec_network
from fastkernels.networks._reference import coba_network, cuba_network, run_spec
from fastkernels.neurons import HH, LIF, Izhikevich, simulate_hh, simulate_izhikevich
from fastkernels.neurons._driver import SimulationError


def tutorial_group(I, tau):
    """The tutorial's ``dv/dt = (I - v) / tau``, threshold 1, reset 0, no refractoriness, exact."""
    return nw.NeuronGroup(len(I), LIF(tau_m=np.asarray(tau, dtype=float), tau_ref=0.0), I=I, v0=0.0)


def chain(delay=None, weight=(0.2, 0.4)):
    G = tutorial_group([2.0, 0.0, 0.0], [10.0, 100.0, 100.0])
    c = nw.Connectivity.from_arrays([0, 0], [1, 2], weight=list(weight), delay=delay, n_pre=3, n_post=3)
    return G, nw.Synapses(G, G, c, on_pre="v")


def test_y1_simplest_synapse():
    G = tutorial_group([2.0, 0.0], [10.0, 100.0])
    S = nw.Synapses(G, G, nw.Connectivity.from_arrays([0], [1], weight=0.2, n_pre=2, n_post=2))
    M = nw.SpikeMonitor(G)
    nw.Network(G, S, M).run(100.0)
    trains = M.spike_trains()
    np.testing.assert_allclose(trains[0], 6.9 + 7.0 * np.arange(14), atol=1e-9)
    np.testing.assert_allclose(trains[1], [42.0, 84.0], atol=1e-9)
    # without the synapse neuron 1 never fires
    G = tutorial_group([2.0, 0.0], [10.0, 100.0])
    M = nw.SpikeMonitor(G)
    nw.Network(G, M).run(100.0)
    assert M.count.tolist() == [14, 0]


def test_y2_weights_and_final_v():
    G, S = chain()
    M = nw.SpikeMonitor(G)
    nw.Network(G, S, M).run(50.0)
    trains = M.spike_trains()
    np.testing.assert_allclose(trains[1], [42.0], atol=1e-9)
    np.testing.assert_allclose(trains[2], [21.0, 42.0], atol=1e-9)
    np.testing.assert_allclose(G.v, [0.190325, 0.198010, 0.396020], atol=5e-7)


def test_y3_delays_and_when_the_jumps_show():
    G, S = chain(delay=[2.0, 4.0])
    M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, [1, 2])
    nw.Network(G, S, M, St).run(50.0)
    trains = M.spike_trains()
    np.testing.assert_allclose(trains[1], [44.0], atol=1e-9)
    np.testing.assert_allclose(trains[2], [25.0, 46.0], atol=1e-9)
    # presynaptic spike at 6.9 ms: the jumps appear in the samples at 9.0 and 11.0 ms
    first = [St.t[np.flatnonzero(St.v[q] > 0)[0]] for q in range(2)]
    np.testing.assert_allclose(first, [9.0, 11.0], atol=1e-9)


def test_current_receptor_is_integrated_exactly():
    """A neuron at rest hit by one spike: v(t) = w tau_s/(tau_s - tau_m) (e^(-t/tau_s) - e^(-t/tau_m)) (Brian2's
    ``method="exact"`` solution of the linear pair), sampled exactly at every step."""
    tau_m, tau_s, w = 20.0, 5.0, 2.0
    for tau in (tau_s, tau_m):  # the general form and the tau_s == tau_m limit
        G = nw.NeuronGroup(1, LIF(tau_m=tau_m, v_threshold=1e6), receptors={"ge": nw.Current(tau)}, v0=0.0)
        src = nw.SpikeGeneratorGroup(1, [0], [1.0])
        S = nw.Synapses(src, G, nw.Connectivity.from_arrays([0], [0], weight=w, n_pre=1, n_post=1), on_pre="ge")
        St = nw.StateMonitor(G, True)
        nw.Network(G, src, S, St).run(40.0)
        t = St.t - 1.1  # the spike of step 10 lands in the synapses slot: g jumps at t = 1.1 ms
        after = t >= 0
        if tau == tau_m:
            want = w * (t / tau_m) * np.exp(-t / tau_m)
        else:
            want = w * tau / (tau - tau_m) * (np.exp(-t / tau) - np.exp(-t / tau_m))
        np.testing.assert_allclose(St.v[0][after], want[after], rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(St.ge[0][after], w * np.exp(-t[after] / tau), rtol=1e-12)
        assert not St.v[0][~after].any()


def test_every_spike_is_delivered_once_per_synapse_at_its_step():
    """Integrators that never leak nor fire: each target's v is the sum of what reached it."""
    rng = np.random.default_rng(3)
    n_src, n_tgt, dt = 20, 30, 0.1
    times = np.round(rng.uniform(0, 40, 200), 1)
    ids = rng.integers(0, n_src, 200)
    keep = np.unique(np.round(times / dt).astype(int) * n_src + ids, return_index=True)[1]
    times, ids = times[keep], ids[keep]
    src = nw.SpikeGeneratorGroup(n_src, ids, times)
    conn = nw.bernoulli(n_src, n_tgt, 0.3, weight=1.0, seed=4)
    conn.weight = rng.normal(size=conn.n_synapses)
    conn.delay = rng.integers(0, 30, conn.n_synapses) * dt
    G = nw.NeuronGroup(n_tgt, LIF(tau_m=1e300, v_threshold=1e8), v0=0.0)
    St = nw.StateMonitor(G, True)
    nw.Network(src, G, nw.Synapses(src, G, conn), St, dt=dt).run(50.0)
    # the expected trace: a jump at step k + d is seen from the sample of step k + d + 1 on
    want = np.zeros((n_tgt, 500))
    k = np.round(times / dt).astype(int)
    for kk, i in zip(k, ids):
        for s in range(conn.indptr[i], conn.indptr[i + 1]):
            arrive = kk + int(conn.delay_steps(dt)[s])
            if arrive + 1 < 500:
                want[conn.post[s], arrive + 1:] += conn.weight[s]
    np.testing.assert_allclose(St.v, want, atol=1e-9)


def small_network(seed=0, n=300, noise=0.0):
    rng = np.random.default_rng(seed)
    G = nw.NeuronGroup(n, LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0, sigma=noise),
                       receptors={"ge": nw.Current(5.0), "gi": nw.Current(10.0)}, v0=-60.0 + 10.0 * rng.random(n))
    ne = int(0.8 * n)
    ce = nw.bernoulli(n, n, 0.1, condition=lambda i, j: i < ne, weight=1.62, seed=seed + 1)
    ce.delay = rng.integers(0, 20, ce.n_synapses) * 0.1
    ci = nw.bernoulli(n, n, 0.1, condition=lambda i, j: i >= ne, weight=-9.0, seed=seed + 2)
    return G, [nw.Synapses(G, G, ce, on_pre="ge"), nw.Synapses(G, G, ci, on_pre="gi")]


@pytest.mark.parametrize("noise", [0.0, 2.0])
def test_a_continued_run_equals_one_run(noise):
    def go(durations, backend="cpu"):
        G, syns = small_network(noise=noise)
        M = nw.SpikeMonitor(G)
        net = nw.Network(G, *syns, M, seed=7)
        for d in durations:
            net.run(d, backend=backend)
        return M, G

    (M1, G1), (M2, G2) = go([100.0]), go([30.0, 50.0, 20.0])
    assert M1.num_spikes > 50
    np.testing.assert_array_equal(M1.i, M2.i)
    np.testing.assert_array_equal(M1.t, M2.t)
    np.testing.assert_array_equal(G1.v, G2.v)
    np.testing.assert_array_equal(G1.g["ge"], G2.g["ge"])
    # the threaded neuron update gives the same run
    M3, G3 = go([100.0], backend="parallel")
    np.testing.assert_array_equal(M1.i, M3.i)
    np.testing.assert_array_equal(G1.v, G3.v)


def test_state_is_numpy_arrays_the_user_may_change():
    G, syns = small_network()
    v = G.v
    net = nw.Network(G, *syns)
    net.run(10.0)
    assert G.v is v and net.t == pytest.approx(10.0) and net.step == 100
    G.v[:] = -60.0  # silence everyone: nothing fires for a while
    G.g["ge"][:] = 0.0
    G.g["gi"][:] = 0.0
    M = nw.SpikeMonitor(G)
    net.add(M)
    net.run(1.0)
    assert M.num_spikes == 0


def test_monitors_agree():
    G, syns = small_network()
    M, R = nw.SpikeMonitor(G), nw.PopulationRateMonitor(G)
    nw.Network(G, *syns, M, R).run(50.0)
    assert R.rate.shape == (500,)
    np.testing.assert_allclose(R.rate.sum() * G.n * 1e-4, M.num_spikes)
    assert M.count.sum() == M.num_spikes
    assert np.all(np.diff(M.t) >= 0)


def test_cuba_rate():
    """The CUBA network (Brian2's examples/CUBA.py) fires at a few Hz (Brian2 2.9: ~5.6 Hz)."""
    n, ne = 4000, 3200
    rng = np.random.default_rng(0)
    G = nw.NeuronGroup(n, LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0),
                       receptors={"ge": nw.Current(5.0), "gi": nw.Current(10.0)}, v0=-60.0 + 10.0 * rng.random(n))
    ce = nw.bernoulli(n, n, 0.02, condition=lambda i, j: i < ne, weight=1.62, seed=1)
    ci = nw.bernoulli(n, n, 0.02, condition=lambda i, j: i >= ne, weight=-9.0, seed=2)
    M = nw.SpikeMonitor(G)
    nw.Network(G, nw.Synapses(G, G, ce, on_pre="ge"), nw.Synapses(G, G, ci, on_pre="gi"), M).run(1000.0)
    assert 4.0 < M.num_spikes / n < 8.0


def test_bad_input_is_refused_by_name():
    G = tutorial_group([2.0, 0.0], [10.0, 100.0])
    H = tutorial_group([0.0], [10.0])
    c = nw.Connectivity.from_arrays([0], [1], weight=0.2, n_pre=2, n_post=2)
    with pytest.raises(ValueError, match="groups have 2 and 1"):
        nw.Synapses(G, H, c)
    with pytest.raises(ValueError, match="on_pre"):
        nw.Synapses(G, G, c, on_pre="ge")
    with pytest.raises(TypeError, match="connectivity"):
        nw.Synapses(G, G, np.eye(2))
    with pytest.raises(ValueError, match="reserved"):
        nw.NeuronGroup(2, receptors={"v": nw.Current(5.0)})
    with pytest.raises(ValueError, match="tau"):
        nw.Current(-1.0)
    with pytest.raises(ValueError, match="times"):
        nw.SpikeGeneratorGroup(2, [0, 1], [1.0])
    with pytest.raises(ValueError, match="indices"):
        nw.SpikeGeneratorGroup(2, [0, 2], [1.0, 2.0])
    with pytest.raises(ValueError, match="twice"):
        nw.Network(G, nw.SpikeGeneratorGroup(2, [0, 0], [1.0, 1.01])).run(5.0)
    with pytest.raises(ValueError, match="at least one NeuronGroup, SpikeGeneratorGroup or PoissonGroup"):
        nw.Network(nw.Synapses(G, G, c)).run(1.0)
    net = nw.Network(H, nw.Synapses(G, G, c))
    with pytest.raises(ValueError, match="not in the network"):
        net.run(1.0)
    net = nw.Network(G)
    for bad, match in ((0.0, "duration"), (-1.0, "duration"), (float("nan"), "duration")):
        with pytest.raises(ValueError, match=match):
            net.run(bad)
    with pytest.raises(ValueError, match="backend"):
        net.run(1.0, backend="gpu")
    with pytest.raises(ValueError, match="progress"):
        net.run(1.0, progress="yes")
    with pytest.raises(ValueError, match="progress"):
        net.run(1.0, progress=2)
    with pytest.raises(ValueError, match="already"):
        net.add(G)
    G.v = np.zeros(3)
    with pytest.raises(ValueError, match=r"\.v must"):
        net.run(1.0)
    G.v = np.array([0.0, np.nan])
    with pytest.raises(ValueError, match=r"\.v must be finite"):
        net.run(1.0)
    assert net.step == 0


def test_a_failed_run_leaves_the_network_unchanged():
    G = nw.NeuronGroup(2, LIF(v_threshold=1e300, v_reset=0.0, tau_ref=0.0), receptors={"ge": nw.Current(5.0)},
                       v0=0.0)
    src = nw.SpikeGeneratorGroup(1, [0], [2.0])
    S = nw.Synapses(src, G, nw.Connectivity.from_arrays([0], [1], weight=1e300, n_pre=1, n_post=2), on_pre="ge")
    M = nw.SpikeMonitor(G)
    net = nw.Network(G, src, S, M)
    net.run(1.0)
    v, ge = G.v.copy(), G.g["ge"].copy()
    with pytest.raises(SimulationError, match="neuron 1"):
        net.run(10.0)
    np.testing.assert_array_equal(G.v, v)
    np.testing.assert_array_equal(G.g["ge"], ge)
    assert net.step == 10 and M.num_spikes == 0


@pytest.mark.parametrize("build", [cuba_network, coba_network])
def test_spike_for_spike_against_the_numpy_reference(build):
    spec = build(400, seed=3)
    net, G, M = spec_network(spec)
    net.run(200.0)
    ref = run_spec(spec, 200.0)
    assert ref.i.size > 100
    np.testing.assert_array_equal(M.i, ref.i)
    np.testing.assert_allclose(M.t, ref.t, atol=1e-9)
    np.testing.assert_allclose(G.v, ref.v, rtol=1e-9, atol=1e-9)
    for name in ref.g:
        np.testing.assert_allclose(G.g[name], ref.g[name], rtol=1e-9, atol=1e-12)


# -- plasticity through Network.run: the same references as the kernels' tests --------------------


def generators(ids, steps, n, dt=0.1):
    return nw.SpikeGeneratorGroup(n, ids, np.asarray(steps) * dt)


def test_stdp_demo_through_the_network():
    """Seed 000 lines 1209-1259: pre at 10.1 ms, post at 20.1 ms; final w = 0.01 e^(-1/2)."""
    G = generators([0, 1], [101, 201], 2)
    S = nw.Synapses(G, G, nw.Connectivity.from_arrays([0], [1], weight=0.0, n_pre=2, n_post=2), on_pre=None,
                    stdp=nw.STDP())
    net = nw.Network(G, S)
    net.run(30.0)
    assert S.weight[0] == pytest.approx(0.006065306597126334, rel=1e-12)  # Brian2 2.9
    assert S.a_pre[0] == pytest.approx(0.01 * np.exp(-19.9 / 20), rel=1e-12)  # at t = 30.0 ms
    assert S.a_post[1] == pytest.approx(-0.0105 * np.exp(-9.9 / 20), rel=1e-12)


def test_stdp_hundred_pairs_through_the_network():
    n, tmax = 100, 50.0
    i = np.arange(n)
    tg, th = i * tmax / (n - 1), (n - 1 - i) * tmax / (n - 1)
    G, H = generators(i, first_step_after(tg), n), generators(i, first_step_after(th), n)
    rule = nw.STDP(w_min=-np.inf, w_max=np.inf)
    S = nw.Synapses(G, H, nw.one_to_one(n, weight=0.0), on_pre=None, stdp=rule)
    nw.Network(G, H, S).run(tmax + 1.0)
    brian2 = [0.0008208499862389881, 0.009753099120283328, -0.010240754076297496, -0.0008618924855509374]
    np.testing.assert_allclose(S.weight[[0, 49, 50, 99]], brian2, rtol=1e-12)
    assert np.abs(S.weight - rule.window(th - tg)).max() <= 3.2e-5
    assert (np.sign(S.weight) == np.sign(th - tg)).all()


@pytest.mark.parametrize("bounds", list(B2_CASES))
def test_stdp_matches_brian2_with_clipping(bounds):
    """Brian2 2.9's weights for a 4 -> 3 network (a doubled synapse, a same-step pre/post pair)."""
    pre, post = generators(B2_PRE_I, B2_PRE_K, 4), generators(B2_POST_I, B2_POST_K, 3)
    conn = nw.Connectivity.from_arrays(B2_I, B2_J, weight=B2_W0, n_pre=4, n_post=3)
    rule = nw.STDP(A_pre=0.0005, A_post=-0.000525, w_min=bounds[0], w_max=bounds[1])
    S = nw.Synapses(pre, post, conn, on_pre=None, stdp=rule)
    nw.Network(pre, post, S).run(40.0)
    np.testing.assert_allclose(S.weight, B2_CASES[bounds], rtol=1e-12, atol=1e-18)


def test_stdp_learns_in_a_driven_network_and_refuses_delays():
    """Plastic excitatory input onto LIF neurons: weights move within [0, w_max], the run continues
    identically in pieces, and a projection with delays is refused."""
    def build():
        src = nw.SpikeGeneratorGroup(50, np.tile(np.arange(50), 20), np.repeat(np.arange(20) * 10.0, 50) +
                                     np.tile(np.arange(50) * 0.1, 20))
        G = nw.NeuronGroup(10, LIF(tau_m=10.0, tau_ref=2.0), v0=0.0)
        S = nw.Synapses(src, G, nw.all_to_all(50, 10, weight=0.05), on_pre="v", stdp=nw.STDP(w_max=0.1))
        return nw.Network(src, G, S), S
    (net1, S1), (net2, S2) = build(), build()
    net1.run(200.0)
    net2.run(70.0)
    net2.run(130.0)
    assert not np.allclose(S1.weight, 0.05) and S1.weight.min() >= 0 and S1.weight.max() <= 0.1
    np.testing.assert_array_equal(S1.weight, S2.weight)
    S1.delay = 1.0
    with pytest.raises(ValueError, match="STDP needs a projection without delays"):
        net1.run(1.0)


# -- HH and Izhikevich groups: the engine's own step loops, with receptors staged around them ----


@pytest.mark.parametrize("model, simulate, dt, method", [(HH(), simulate_hh, 0.01, "exponential_euler"),
                                                         (HH(), simulate_hh, 0.01, "rk4"),
                                                         (Izhikevich(), simulate_izhikevich, 0.1, "euler")])
def test_engine_models_run_as_the_population_engine_does(model, simulate, dt, method):
    """Without synapses a group of the model steps exactly as ``simulate_*`` does (the same loop)."""
    I = np.linspace(5.0, 15.0, 40)
    ref = simulate(model, 40, 30.0, dt, I=I, method=method, backend="cpu")
    G = nw.NeuronGroup(40, model, I=I, method=method)
    M = nw.SpikeMonitor(G)
    nw.Network(G, M, dt=dt).run(30.0)
    assert ref.spike_times.size > 20
    np.testing.assert_array_equal(M.i, ref.spike_neurons)
    np.testing.assert_allclose(M.t, ref.spike_times, atol=1e-9)
    for name in ref.final_state:
        if name in G.state:
            np.testing.assert_allclose(G.state[name], ref.final_state[name], rtol=1e-12, atol=1e-12)


def test_hh_with_conductance_synapses():
    """Excitatory conductance input drives an HH neuron to fire, inhibitory input does not; the
    conductance decays exactly between inputs."""
    src = nw.SpikeGeneratorGroup(1, np.zeros(10, int), 5.0 + 2.0 * np.arange(10))
    G = nw.NeuronGroup(2, HH(), receptors={"ge": nw.Conductance(5.0, 0.0), "gi": nw.Conductance(10.0, -80.0)})
    conn = nw.Connectivity.from_arrays([0], [0], weight=0.5, n_pre=1, n_post=2)
    conn_i = nw.Connectivity.from_arrays([0], [1], weight=0.5, n_pre=1, n_post=2)
    M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, True)
    nw.Network(src, G, nw.Synapses(src, G, conn, on_pre="ge"), nw.Synapses(src, G, conn_i, on_pre="gi"), M, St,
               dt=0.01).run(40.0)
    assert M.count[0] >= 1 and M.count[1] == 0
    after = St.t >= 23.01  # the last input lands in the step of 23.0 ms
    t = St.t[after] - 23.01
    last = St.ge[0][after][0]
    np.testing.assert_allclose(St.ge[0][after], last * np.exp(-t / 5.0), rtol=1e-9)
    assert St.v[1].max() < -64.9 and St.v[1][-1] < -68.0  # inhibition hyperpolarises (rest: -65 mV)


@pytest.mark.parametrize("order", [1, 2])
def test_psc_filter_of_order_n_is_integrated_exactly(order):
    """Seed 001 l.340: h(t) = k t^n e^(-t/tau) as n + 1 cascaded stages; one spike of weight w gives
    s_n(t) = w (t/tau)^n e^(-t/tau) / n!, and v follows the exact solution of the linear system."""
    from math import factorial

    from scipy.linalg import expm

    tau_m, tau, w = 20.0, 5.0, 3.0
    G = nw.NeuronGroup(1, LIF(tau_m=tau_m, v_threshold=1e6), receptors={"s": nw.Current(tau, order=order)}, v0=0.0)
    src = nw.SpikeGeneratorGroup(1, [0], [1.0])
    St = nw.StateMonitor(G, True)
    nw.Network(G, src, nw.Synapses(src, G, nw.Connectivity.from_arrays([0], [0], weight=w, n_pre=1, n_post=1),
                                    on_pre="s"), St).run(40.0)
    t = St.t - 1.1
    after = t >= 0
    np.testing.assert_allclose(St.s[0][after], w * (t[after] / tau) ** order * np.exp(-t[after] / tau) /
                               factorial(order), rtol=1e-9, atol=1e-15)
    m = order + 2
    A = np.zeros((m, m))
    A[0, 0], A[0, -1] = -1 / tau_m, 1 / tau_m
    for st in range(1, m):
        A[st, st] = -1 / tau
        if st > 1:
            A[st, st - 1] = 1 / tau
    x0 = np.zeros(m)
    x0[1] = w
    want = np.array([(expm(A * tt) @ x0)[0] for tt in t[after]])
    np.testing.assert_allclose(St.v[0][after], want, rtol=1e-9, atol=1e-12)
    assert G.g["s"].shape == (order + 1, 1)


def test_psc_filter_bad_order_and_method():
    with pytest.raises(ValueError, match="order"):
        nw.Current(5.0, order=-1)
    with pytest.raises(ValueError, match="order"):
        nw.Current(5.0, order=9)
    G = nw.NeuronGroup(1, LIF(), receptors={"s": nw.Current(5.0, order=1)}, method="euler")
    with pytest.raises(ValueError, match="order > 0 needs"):
        nw.Network(G).run(1.0)


def test_bench_check_is_exact_for_short_runs_and_statistical_for_chaotic_ones():
    from fastkernels.networks._bench import _check_counts

    ref = np.full(2000, 5)
    _check_counts(ref.copy(), ref)
    moved = ref.copy()
    moved[0], moved[1] = 6, 4  # the same rate, other spikes: a chaotic run's rounding
    _check_counts(moved, ref)
    with pytest.raises(AssertionError, match="differ"):
        _check_counts(ref + 1, ref)  # 20% faster: a different network
    with pytest.raises(AssertionError, match="differ"):
        _check_counts(moved[:200], ref[:200])  # short runs must match exactly
    with pytest.raises(AssertionError, match="shape"):
        _check_counts(ref[:10], ref)


def test_more_bad_input_is_refused_by_name():
    G = nw.NeuronGroup(3, LIF())
    with pytest.raises(ValueError, match="dt"):
        nw.Network(G, dt=0.0)
    with pytest.raises(ValueError, match="dtype"):
        nw.Network(G, dtype=np.int32)
    with pytest.raises(TypeError, match="Network holds"):
        nw.Network(G, "G")
    with pytest.raises(ValueError, match="E_rev"):
        nw.Conductance(5.0, float("nan"))
    with pytest.raises(ValueError, match="needs method='euler'"):
        nw.NeuronGroup(2, LIF(), receptors={"ge": nw.Conductance(5.0, 0.0)}, method="exact")
    with pytest.raises(TypeError, match="receptors"):
        nw.NeuronGroup(2, LIF(), receptors={"ge": 5.0})
    with pytest.raises(ValueError, match="identifiers"):
        nw.NeuronGroup(2, LIF(), receptors={"g e": nw.Current(5.0)})
    with pytest.raises(TypeError, match="model"):
        nw.NeuronGroup(2, "LIF")
    with pytest.raises(ValueError, match="method"):
        nw.NeuronGroup(2, HH(), method="exact")
    with pytest.raises(ValueError, match="record"):
        nw.StateMonitor(G, [5])
    with pytest.raises(ValueError, match="every"):
        nw.StateMonitor(G, True, every=0)
    with pytest.raises(TypeError, match="group"):
        nw.SpikeMonitor(np.zeros(3))
    with pytest.raises(ValueError, match="width"):
        nw.PopulationRateMonitor(G).smooth_rate(0.0)
    src = nw.SpikeGeneratorGroup(2, [0], [1.0])
    with pytest.raises(TypeError, match="target"):
        nw.Synapses(G, src, nw.Connectivity.from_arrays([0], [0], n_pre=3, n_post=2))
    with pytest.raises(TypeError, match="stdp"):
        nw.Synapses(G, G, nw.Connectivity.from_arrays([0], [1], n_pre=3, n_post=3), stdp={"A_pre": 0.01})
    with pytest.raises(ValueError, match="times"):
        nw.SpikeGeneratorGroup(2, [0], [-1.0])
    G.v[0] = np.nan  # a state set to NaN between runs is refused before anything runs
    net = nw.Network(G)
    with pytest.raises(ValueError, match="finite"):
        net.run(1.0)
    assert net.step == 0


def test_progress_takes_numpy_bools_and_0_1_as_every_flag():
    net = nw.Network(nw.NeuronGroup(3, LIF(tau_m=10.0, tau_ref=2.0), I=1.5))
    net.run(0.5, progress=np.False_)
    net.run(0.5, progress=0)
    assert net.step == 10


def test_flush_period():
    """The steps between two flushes of the network state: a value at FLUSH (1e-30) decayed that many
    steps keeps a 2x margin on the exponent above the smallest normal number."""
    from fastkernels.networks._network_kernels import FLUSH_EVERY, flush_period

    assert flush_period([np.full(3, 0.98), [0.995]], np.float64) == FLUSH_EVERY
    assert flush_period([], np.float64) == FLUSH_EVERY
    assert flush_period([[np.exp(-20.0)]], np.float64) == 15  # ln(2.2e-308 / 1e-30) / 2 = -319.7
    assert flush_period([[np.exp(-1.0)]], np.float32) == 9  # ln(1.2e-38 / 1e-30) / 2 = -9.13
    assert flush_period([[1.0], [np.exp(-400.0)]], np.float64) == 1
    assert flush_period([[0.0]], np.float64) == 1
    assert flush_period([[-np.exp(-1.0)]], np.float32) == 9  # an unstable Euler factor: its size counts


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_decaying_state_is_flushed_not_denormal(dtype, backend):
    """v relaxing to v_rest = 0 and a fast receptor (tau = dt) decay past FLUSH: every few steps the
    network flushes them, so no state value is ever denormal (100x slower arithmetic); the neurons
    whose values were never that small keep them."""
    G = nw.NeuronGroup(300, LIF(tau_m=1.0, v_rest=0.0, v_threshold=10.0, tau_ref=0.0),
                       receptors={"ge": nw.Current(0.1)}, v0=np.linspace(0.5, 1.0, 300))
    G.g["ge"][:] = 1.0
    net = nw.Network(G, dt=0.1, dtype=dtype)
    tiny = np.finfo(dtype).tiny
    for _ in range(3):  # 100, 200 and 300 steps: each run ends on a different flush phase
        net.run(10.0, backend=backend, progress=False)
        for x in (G.v, G.g["ge"]):
            assert not ((x != 0) & (np.abs(x) < tiny)).any()
    assert (G.g["ge"] == 0).all()  # e^-300: flushed
    assert (G.v > 1e-15).all()  # v after 300 steps of e^-0.1 each: ~e^-30 v0, above FLUSH: kept
    net.run(100.0, backend=backend, progress=False)  # e^-130 v0 < FLUSH, and below float32's range
    assert (G.v == 0).all() and (G.g["ge"] == 0).all()


def test_threads_own_their_neurons_and_give_the_same_run():
    """The parallel build shares the blocks among the threads, each updating its blocks and applying
    the synaptic effects onto its own neurons: v jumps (dropped onto a neuron spiking in the step),
    delayed and immediate receptor effects and Poisson input crossing the shares give the serial
    run's spikes and states bit for bit, for 1 and 2 threads (3 blocks: uneven shares)."""
    from fastkernels import num_threads

    def go(backend, threads):
        G, syns = small_network(n=700)
        P = nw.PoissonGroup(50, 40.0)
        jumps = nw.Synapses(G, G, nw.bernoulli(700, 700, 0.02, weight=0.5, seed=9), on_pre="v")
        feed = nw.Synapses(P, G, nw.bernoulli(50, 700, 0.1, weight=2.0, seed=10), on_pre="ge")
        M = nw.SpikeMonitor(G)
        net = nw.Network(G, P, *syns, jumps, feed, M, seed=3)
        with num_threads(threads):
            net.run(60.0, backend=backend, progress=False)
        return M, G

    M0, G0 = go("cpu", 1)
    assert M0.num_spikes > 200 and len(set(M0.i // 256)) == 3
    import numba

    for threads in sorted({1, min(2, numba.config.NUMBA_NUM_THREADS)}):
        M, G = go("parallel", threads)
        np.testing.assert_array_equal(M.i, M0.i)
        np.testing.assert_array_equal(M.t, M0.t)
        for a, b in ((G.v, G0.v), (G.g["ge"], G0.g["ge"]), (G.g["gi"], G0.g["gi"])):
            np.testing.assert_array_equal(a, b)
