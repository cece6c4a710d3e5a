"""The CUDA network run (fastkernels.networks._network_cuda) under the simulator, against the CPU kernel.

Each network is built twice through the public API and run once on the CPU kernel
(``Network.run(backend="cpu")``) and once on the device (``backend="cuda"``): the same chunks,
buffer growth and commit. Spikes must be equal; states, traces and weights agree to rounding (the simulator is
deterministic, but the CPU loop contracts to FMA and the device adds with atomics). Networks stay
tiny (the simulator runs every CUDA thread as a Python thread): 32-thread blocks, 2-3 blocks.
"""

import numpy as np
import pytest

from fastkernels import _launch
from fastkernels import networks as nw
from fastkernels.networks import _network_cuda as NC
from fastkernels.networks._network_kernels import engine_network_kernels, network_kernels, run_scratch
from fastkernels.networks._plan import Plan
from fastkernels.neurons import HH, LIF, Izhikevich
from fastkernels.neurons._driver import SimulationError
from fastkernels.neurons._lif_kernels import RECEPTOR_ROW, SINCE, VT, V, W


@pytest.fixture(autouse=True)
def small_grid(monkeypatch):
    """One block of 8 threads per launch (a spike's lanes are then the block's 8; the simulator runs
    every CUDA thread as a Python thread and every block in turn): grid-stride loops and lane striding
    on tiny networks. Tests that need more blocks or whole warps say so."""
    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", 8)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 1)


def run_both(build, duration, monkeypatch, steps=None):
    """``build()`` -> (net, groups, synapses, spike monitors, state monitors), run on the CPU and the device."""
    out = []
    for backend in ("cpu", "cuda"):
        objs = build()
        for d in (steps or [duration]):
            objs[0].run(d, backend=backend, progress=False)
        out.append(objs)
    return out


def compare(cpu, dev, rtol=1e-10, atol=1e-10, min_spikes=20):
    (_n1, groups1, syns1, mons1, st1), (_n2, groups2, syns2, mons2, st2) = cpu, dev
    total = 0
    for m1, m2 in zip(mons1, mons2):
        np.testing.assert_array_equal(m2.i, m1.i)
        np.testing.assert_array_equal(m2.t, m1.t)
        total += m1.num_spikes
    assert total >= min_spikes
    for g1, g2 in zip(groups1, groups2):
        for name in g1.state:
            np.testing.assert_allclose(g2.state[name], g1.state[name], rtol=rtol, atol=atol, err_msg=name)
        for name in g1.g:
            np.testing.assert_allclose(g2.g[name], g1.g[name], rtol=rtol, atol=atol, err_msg=name)
    for s1, s2 in zip(syns1, syns2):
        np.testing.assert_allclose(s2.weight, s1.weight, rtol=rtol, atol=1e-15)
        if s1.stdp is not None:
            np.testing.assert_allclose(s2.a_pre, s1.a_pre, rtol=rtol, atol=1e-15)
            np.testing.assert_allclose(s2.a_post, s1.a_post, rtol=rtol, atol=1e-15)
    for m1, m2 in zip(st1, st2):
        np.testing.assert_array_equal(m2.t, m1.t)
        for name in m1.variables:
            np.testing.assert_allclose(getattr(m2, name), getattr(m1, name), rtol=rtol, atol=atol, err_msg=name)


# ---------------------------------------------------------------- the networks
def cuba(n=60, seed=0, delays=True, dtype=np.float64, order=0, w_e=1.62):
    """CUBA-like: current receptors (``ge`` a PSC filter chain of ``order`` + 1 stages when ``order``),
    80/20 excitatory/inhibitory, delays 0..1.9 ms, a state monitor."""
    def build():
        rng = np.random.default_rng(seed)
        G = nw.NeuronGroup(n, LIF(tau_m=20.0, v_rest=-49.0, v_reset=-60.0, v_threshold=-50.0, tau_ref=5.0),
                           receptors={"ge": nw.Current(5.0, order=order), "gi": nw.Current(10.0)},
                           v0=-60.0 + 10.0 * rng.random(n), I=rng.uniform(0.0, 10.0, n))
        ne = int(0.8 * n)
        ce = nw.bernoulli(n, n, 0.15, condition=lambda i, j: i < ne, weight=w_e, seed=seed + 1)
        ci = nw.bernoulli(n, n, 0.15, condition=lambda i, j: i >= ne, weight=-9.0, seed=seed + 2)
        if delays:
            ce.delay = rng.integers(0, 20, ce.n_synapses) * 0.1
            ci.delay = rng.integers(0, 5, ci.n_synapses) * 0.1
        syns = [nw.Synapses(G, G, ce, on_pre="ge"), nw.Synapses(G, G, ci, on_pre="gi")]
        M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, [0, 7, n - 1], every=3)
        return nw.Network(G, *syns, M, St, dtype=dtype), [G], syns, [M], [St]
    return build


def coba(n=60, seed=1, noise=0.0):
    """COBA-like: conductance receptors (euler), per-neuron tau_m (per-neuron parameters), optional noise."""
    def build():
        rng = np.random.default_rng(seed)
        G = nw.NeuronGroup(n, LIF(tau_m=rng.uniform(15.0, 25.0, n), v_rest=-60.0, v_reset=-60.0, v_threshold=-50.0,
                                  tau_ref=5.0, sigma=noise),
                           receptors={"ge": nw.Conductance(5.0, 0.0), "gi": nw.Conductance(10.0, -80.0)},
                           v0=-60.0 + 10.0 * rng.random(n), I=rng.uniform(5.0, 12.0, n), method="euler")
        G.g["ge"][:] = rng.uniform(0.0, 1.0, n)
        ne = int(0.8 * n)
        ce = nw.bernoulli(n, n, 0.15, condition=lambda i, j: i < ne, weight=0.6, seed=seed + 1)
        ci = nw.bernoulli(n, n, 0.15, condition=lambda i, j: i >= ne, weight=6.7, seed=seed + 2)
        syns = [nw.Synapses(G, G, ce, on_pre="ge"), nw.Synapses(G, G, ci, on_pre="gi")]
        M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, [3, 4])
        return nw.Network(G, *syns, M, St, seed=11), [G], syns, [M], [St]
    return build


def v_jumps():
    """Generators onto two groups with ``v`` jumps (no delays: a jump onto a neuron spiking in the same
    step is dropped), recurrent ``v`` synapses, a current receptor in one group only, adaptation."""
    def build():
        rng = np.random.default_rng(5)
        pairs = np.unique(rng.integers(0, 150, 60) * 8 + rng.integers(0, 8, 60))  # distinct (step, source)
        src = nw.SpikeGeneratorGroup(8, pairs % 8, (pairs // 8) * 0.1)
        A = nw.NeuronGroup(20, LIF(tau_m=10.0, tau_ref=1.0, threshold_jump=0.2, adaptation_jump=0.1), v0=0.0,
                           I=rng.uniform(0.5, 1.3, 20), receptors={"ge": nw.Current(3.0)})
        B = nw.NeuronGroup(10, LIF(tau_m=10.0, tau_ref=1.0, threshold_jump=0.2, adaptation_jump=0.1), v0=0.5)
        s1 = nw.Synapses(src, A, nw.bernoulli(8, 20, 0.4, weight=0.35, seed=2), on_pre="v")
        s2 = nw.Synapses(src, A, nw.bernoulli(8, 20, 0.3, weight=0.5, seed=3), on_pre="ge")
        s3 = nw.Synapses(A, B, nw.bernoulli(20, 10, 0.5, weight=0.3, seed=4), on_pre="v")
        s4 = nw.Synapses(B, A, nw.bernoulli(10, 20, 0.5, weight=-0.2, seed=5), on_pre="v")
        s5 = nw.Synapses(A, A, nw.bernoulli(20, 20, 0.2, weight=0.15, seed=6), on_pre="v")
        MA, MB, Ms = nw.SpikeMonitor(A), nw.SpikeMonitor(B), nw.SpikeMonitor(src)
        return nw.Network(src, A, B, s1, s2, s3, s4, s5, MA, MB, Ms), [A, B], [s1, s2, s3, s4, s5], [MA, MB, Ms], []
    return build


def stdp_pairs(n=20, tmax=10.0):
    """The seed's hundred-pair check, shrunk: G spikes at i tmax/(n-1), H at (n-1-i) tmax/(n-1), one-to-one."""
    def build():
        i = np.arange(n)
        tg, th = i * tmax / (n - 1), (n - 1 - i) * tmax / (n - 1)
        k_g, k_h = np.floor(tg / 0.1 + 1e-9).astype(int) + 1, np.floor(th / 0.1 + 1e-9).astype(int) + 1
        G, H = nw.SpikeGeneratorGroup(n, i, k_g * 0.1), nw.SpikeGeneratorGroup(n, i, k_h * 0.1)
        S = nw.Synapses(G, H, nw.one_to_one(n, weight=0.0), on_pre=None, stdp=nw.STDP(w_min=-np.inf, w_max=np.inf))
        M = nw.SpikeMonitor(H)
        return nw.Network(G, H, S, M), [], [S], [M], []
    return build


def stdp_driven():
    """Plastic ``v`` synapses from generators onto LIF neurons, plus plastic recurrent ones (clipped)."""
    def build():
        src = nw.SpikeGeneratorGroup(12, np.tile(np.arange(12), 4), np.repeat(np.arange(4) * 3.0, 12) +
                                     np.tile(np.arange(12) * 0.1, 4))
        G = nw.NeuronGroup(6, LIF(tau_m=10.0, tau_ref=1.0), v0=0.0, I=0.8)
        S = nw.Synapses(src, G, nw.all_to_all(12, 6, weight=0.12), on_pre="v", stdp=nw.STDP(w_max=0.2))
        R = nw.Synapses(G, G, nw.all_to_all(6, 6, weight=0.05, self_connections=False), on_pre="v",
                        stdp=nw.STDP(A_pre=0.02, w_max=0.1))
        M = nw.SpikeMonitor(G)
        return nw.Network(src, G, S, R, M), [G], [S, R], [M], []
    return build


# ---------------------------------------------------------------- the comparisons
def test_cuba_with_delays(monkeypatch):
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 2)  # atomics into the ring from two blocks
    cpu, dev = run_both(cuba(), 20.0, monkeypatch)
    compare(cpu, dev)


def test_cuba_continued_runs_carry_the_ring(monkeypatch):
    """Three runs in a row: the delayed effects in flight cross the calls (the ring is copied back)."""
    cpu, dev = run_both(cuba(n=40, seed=3), None, monkeypatch, steps=[4.0, 3.0, 5.0])
    compare(cpu, dev, min_spikes=10)


def test_psc_filter_chain(monkeypatch):
    """``ge`` a third-order chain (three receptor rows, each stage feeding the next), ``gi`` exponential."""
    cpu, dev = run_both(cuba(n=40, seed=4, order=2, w_e=8.0), 10.0, monkeypatch)
    compare(cpu, dev, min_spikes=10)
    assert np.abs(dev[1][0].g["ge"]).max(axis=1).min() > 0  # every stage carries input


def test_coba_per_neuron_parameters_and_noise(monkeypatch):
    cpu, dev = run_both(coba(noise=1.0), 15.0, monkeypatch)
    compare(cpu, dev)


@pytest.mark.parametrize("threads, blocks, duration", [(8, 1, 15.0), (32, 2, 6.0)], ids=["tpb8", "warps"])
def test_v_jumps_with_generators(threads, blocks, duration, monkeypatch):
    monkeypatch.setattr(_launch, "THREADS_PER_BLOCK", threads)
    monkeypatch.setattr(_launch, "MAX_BLOCKS", blocks)
    cpu, dev = run_both(v_jumps(), duration, monkeypatch)
    compare(cpu, dev)


def poisson_driven():
    """Poisson groups (one rate, and per-source rates) onto a LIF group's ``v`` and a receptor, with delays."""
    def build():
        P1 = nw.PoissonGroup(30, 40.0)
        P2 = nw.PoissonGroup(10, np.linspace(0.0, 200.0, 10))
        G = nw.NeuronGroup(12, LIF(tau_m=10.0, tau_ref=1.0), v0=0.0, receptors={"ge": nw.Current(3.0)})
        c1 = nw.bernoulli(30, 12, 0.4, weight=0.3, seed=2)
        c1.delay = 0.3
        s1 = nw.Synapses(P1, G, c1, on_pre="v")
        s2 = nw.Synapses(P2, G, nw.bernoulli(10, 12, 0.5, weight=0.8, seed=3), on_pre="ge")
        M, MP = nw.SpikeMonitor(G), nw.SpikeMonitor(P1)
        return nw.Network(P1, P2, G, s1, s2, M, MP, seed=4), [G], [s1, s2], [M, MP], []
    return build


def test_poisson_groups_drive_the_device_run_as_the_cpu(monkeypatch):
    cpu, dev = run_both(poisson_driven(), 30.0, monkeypatch, steps=[12.0, 18.0])
    compare(cpu, dev)


def test_stdp_pairs(monkeypatch):
    cpu, dev = run_both(stdp_pairs(), 11.0, monkeypatch)
    compare(cpu, dev, rtol=1e-12, min_spikes=20)
    assert np.count_nonzero(dev[2][0].weight) == 20


def test_stdp_driven_network(monkeypatch):
    cpu, dev = run_both(stdp_driven(), 12.0, monkeypatch)
    compare(cpu, dev, rtol=1e-12)
    w = dev[2][0].weight
    assert not np.allclose(w, 0.12) and w.min() >= 0.0 and w.max() <= 0.2


def test_float32_network(monkeypatch):
    """float32 state, weights and ring (the simulator's float32 arithmetic follows NumPy's promotion
    rules, not Numba's: states to float32 rounding)."""
    cpu, dev = run_both(cuba(n=30, seed=2, dtype=np.float32), 8.0, monkeypatch)
    compare(cpu, dev, rtol=1e-5, atol=1e-4, min_spikes=5)


def test_bad_state_raises_like_the_cpu():
    G = nw.NeuronGroup(2, LIF(v_threshold=1e300, v_reset=0.0, tau_ref=0.0), receptors={"ge": nw.Current(5.0)},
                       v0=0.0)
    src = nw.SpikeGeneratorGroup(1, [0], [0.2])
    S = nw.Synapses(src, G, nw.Connectivity.from_arrays([0], [1], weight=1e300, n_pre=1, n_post=2), on_pre="ge")
    M = nw.SpikeMonitor(G)
    net = nw.Network(G, src, S, M)
    with pytest.raises(SimulationError, match=r"neuron 1 .* step 3 "):
        net.run(1.0, backend="cuda", progress=False)
    assert net.step == 0 and M.num_spikes == 0


# ---------------------------------------------------------------- the raw kernel: stop and resume
def _kernel_args(plan, k_start, k_end, cap):
    """The CPU kernel's arguments as ``Plan.execute`` builds them (fresh copies of every array)."""
    rec = np.zeros(0, np.int64)
    traces = np.zeros((1 + plan.n_rec, 0, 0), dtype=plan.dtype)
    spk_t, spk_i = np.zeros((1, cap)), np.zeros((1, cap), dtype=np.int64)
    c = lambda a: np.array(a, copy=True)  # noqa: E731
    return [plan.n, c(plan.S), plan.P, plan.ref_s, plan.iext, plan.n_rec, plan.net._key, np.array([k_start]),
            k_end, k_start, plan.dt, plan.gen_k, plan.gen_id, np.array([np.searchsorted(plan.gen_k, k_start)]),
            plan.src_lo, plan.src_hi, plan.rows, plan.tgt, plan.tgt_hi, plan.ip_off, plan.syn_off, plan.indptr,
            plan.post, c(plan.weight), plan.dsteps, c(plan.ring), plan.plastic, plan.pl_pre, plan.pl_post, plan.pl_ip,
            plan.pl_syn, c(plan.x_pre), c(plan.k_pre), c(plan.x_post), c(plan.k_post), plan.ipost, plan.syn_ids,
            plan.pre_ids, plan.pl_params, spk_t, spk_i, np.zeros(1, np.int64), rec, 1, traces, np.full(2, -1),
            plan.flush_every, 1, run_scratch(plan.S, plan.n, plan.gen_k.size)]


def test_a_full_spike_buffer_stops_both_at_the_same_step():
    """A buffer of n + 12 slots: the run stops before a step that could overflow it, and resumes."""
    net = v_jumps()()[0]
    plan = Plan(net)
    flags = (plan.varied, plan.dynamics, plan.noisy, plan.legacy, plan.freeze, plan.poisson, plan.n_cur,
             plan.n_rec - plan.n_cur)
    cpu, dev = network_kernels(*flags)[0], NC.network_cuda(*flags)
    cap = plan.n + 12
    a, b = _kernel_args(plan, 0, 60, cap), _kernel_args(plan, 0, 60, cap)
    cpu(*a)
    dev(*b)
    assert 0 < a[7][0] < 60 and a[41][0] > 0
    for q in (7, 13, 41):  # k_begin, gen_pos, spk_n
        assert b[q][0] == a[q][0], q
    m = a[41][0]
    np.testing.assert_array_equal(b[40][0, :m], a[40][0, :m])
    np.testing.assert_array_equal(b[39][0, :m], a[39][0, :m])
    np.testing.assert_allclose(b[1], a[1], rtol=1e-12, atol=1e-12)
    # resume with the spikes moved out: the next stretch agrees too
    for args in (a, b):
        args[41][0] = 0
    cpu(*a)
    dev(*b)
    assert b[7][0] == a[7][0] and b[41][0] == a[41][0]
    np.testing.assert_array_equal(b[40][0, :a[41][0]], a[40][0, :a[41][0]])
    np.testing.assert_allclose(b[1][:, [V, VT, W, SINCE, RECEPTOR_ROW]], a[1][:, [V, VT, W, SINCE, RECEPTOR_ROW]],
                               rtol=1e-12, atol=1e-12)


# ---------------------------------------------------------------- the spike order
@pytest.mark.parametrize("shared", [NC.SORT_SHARED, 5], ids=["shared", "global"])
def test_sort_steps_orders_each_steps_neuron_spikes(shared, monkeypatch):
    from numba import cuda

    monkeypatch.setattr(NC, "SORT_SHARED", shared)  # the simulator reads the module global at run time
    rng = np.random.default_rng(0)
    counts = np.array([0, 1, 2, 7, 13, 32, 3])
    gens = np.array([0, 2, 0, 1, 0, 3, 1])
    seg = np.concatenate([[0], np.cumsum(counts + gens)])
    ids = np.empty(seg[-1], np.int64)
    want = ids.copy()
    for j, (m, g) in enumerate(zip(counts, gens)):
        x = rng.choice(100, m, replace=False)
        ids[seg[j]:seg[j] + m] = x
        ids[seg[j] + m:seg[j + 1]] = 100 + np.arange(g)
        want[seg[j]:seg[j + 1]] = np.concatenate([np.sort(x), 100 + np.arange(g)])
    d_ids = cuda.to_device(ids)
    NC._sort_steps[2, 32](d_ids, cuda.to_device(seg), cuda.to_device(counts.astype(np.int64)), counts.size)
    np.testing.assert_array_equal(d_ids.copy_to_host(), want)


# ---------------------------------------------------------------- layout
def test_device_layout_round_trip():
    """The CPU's blocked layout (two blocks and a ragged tail) to the device's rows and back."""
    from fastkernels.neurons._layout import BLOCK, blocked, reblock

    n = BLOCK + 37
    rows = {name: np.arange(n) + 1000.0 * r for r, name in enumerate("abc")}
    S = blocked(rows, tuple("abc"), n, np.float64)
    flat = NC._flat(S, n, 3)
    np.testing.assert_array_equal(flat, np.stack([rows[x] for x in "abc"]))
    np.testing.assert_array_equal(NC._flat(S, n, 3, per_neuron=False), flat[:, :1])
    back = np.zeros_like(S)
    reblock(back, flat, n)
    np.testing.assert_array_equal(back, S)


def test_more_neurons_than_a_cpu_block(monkeypatch):
    """300 neurons with per-neuron parameters (two CPU blocks): a few steps of a busy network (the
    feature flags of :func:`v_jumps`: one compiled CPU kernel for both)."""
    def build():
        rng = np.random.default_rng(9)
        n = 300
        G = nw.NeuronGroup(n, LIF(tau_m=rng.uniform(5.0, 10.0, n), tau_ref=0.3, threshold_jump=0.2,
                                  adaptation_jump=0.1), v0=rng.uniform(0.7, 1.0, n), I=1.2,
                           receptors={"ge": nw.Current(2.0)})
        S = nw.Synapses(G, G, nw.bernoulli(n, n, 0.02, weight=0.05, seed=1), on_pre="ge")
        M = nw.SpikeMonitor(G)
        return nw.Network(G, S, M), [G], [S], [M], []
    cpu, dev = run_both(build, 0.8, monkeypatch)
    compare(cpu, dev, min_spikes=10)


# ---------------------------------------------------------------- HH and Izhikevich groups
# The population engine's models (the device twin of ``engine_network_kernels``): the receptors'
# drive and decay staged around the model's own CUDA step, the LIF run's propagation, ring, STDP
# and spike order around them. The CPU loop's ``exp`` is a vectorisable polynomial, the device
# step's the hardware one (the simulator: libm), so states agree to rounding.
def hh_network(method, n=12, dtype=np.float64):
    """HH neurons with two conductance receptors (recurrent excitation and inhibition, delays) and a
    second-order PSC filter chain (``gs``, current) fed by generators with delays; a state monitor."""
    def build():
        rng = np.random.default_rng(21)
        src = nw.SpikeGeneratorGroup(4, np.arange(12) % 4, 0.5 + 0.25 * np.arange(12))
        G = nw.NeuronGroup(n, HH(), method=method, I=rng.uniform(15.0, 50.0, n),
                           receptors={"ge": nw.Conductance(3.0, 0.0), "gi": nw.Conductance(6.0, -80.0),
                                      "gs": nw.Current(1.0, order=1)})
        cs = nw.bernoulli(4, n, 0.5, weight=25.0, seed=1)
        cs.delay = rng.integers(0, 10, cs.n_synapses) * 0.05
        ce = nw.bernoulli(n, n, 0.3, condition=lambda i, j: i < n - 2, weight=0.4, seed=2)
        ce.delay = rng.integers(0, 6, ce.n_synapses) * 0.05
        ci = nw.bernoulli(n, n, 0.5, condition=lambda i, j: i >= n - 2, weight=0.2, seed=3)
        syns = [nw.Synapses(src, G, cs, on_pre="gs"), nw.Synapses(G, G, ce, on_pre="ge"),
                nw.Synapses(G, G, ci, on_pre="gi")]
        M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, [0, n - 1], every=2)
        return nw.Network(src, G, *syns, M, St, dt=0.05, dtype=dtype), [G], syns, [M], [St]
    return build


def izh_network(n=12, dtype=np.float64):
    """Izhikevich neurons (euler) with noise, a current and a conductance receptor, recurrent synapses
    with delays, and plastic generator synapses (STDP) onto the current receptor."""
    def build():
        rng = np.random.default_rng(22)
        src = nw.SpikeGeneratorGroup(6, np.arange(30) % 6, 1.0 + 0.6 * np.arange(30))
        G = nw.NeuronGroup(n, Izhikevich(sigma=3.0), I=rng.uniform(8.0, 20.0, n), v0=rng.uniform(-70.0, -50.0, n),
                           receptors={"ge": nw.Current(4.0), "gi": nw.Conductance(8.0, -80.0)})
        S = nw.Synapses(src, G, nw.bernoulli(6, n, 0.6, weight=4.0, seed=4), on_pre="ge",
                        stdp=nw.STDP(A_pre=0.5, w_max=8.0))
        ce = nw.bernoulli(n, n, 0.3, condition=lambda i, j: i < n - 3, weight=3.0, seed=5)
        ce.delay = rng.integers(0, 20, ce.n_synapses) * 0.1
        ci = nw.bernoulli(n, n, 0.5, condition=lambda i, j: i >= n - 3, weight=0.1, seed=6)
        ci.delay = 0.3
        syns = [S, nw.Synapses(G, G, ce, on_pre="ge"), nw.Synapses(G, G, ci, on_pre="gi")]
        M, St = nw.SpikeMonitor(G), nw.StateMonitor(G, [1, n - 2])
        return nw.Network(src, G, *syns, M, St, dt=0.1, seed=7, dtype=dtype), [G], syns, [M], [St]
    return build


@pytest.mark.parametrize("method, dtype, tol", [("exponential_euler", np.float64, (1e-9, 1e-9)),
                                                ("rk4", np.float64, (1e-9, 1e-9)),
                                                ("exponential_euler", np.float32, (1e-4, 1e-3))],
                         ids=["exponential_euler", "rk4", "exponential_euler-float32"])
def test_hh_network(method, dtype, tol, monkeypatch):
    """Float32: the step in float32 on both (the CPU's exp a polynomial within 1.5 ulp, the device's
    expf), states to float32 rounding amplified by the upstroke."""
    monkeypatch.setattr(_launch, "MAX_BLOCKS", 2)  # atomics into the ring from two blocks
    cpu, dev = run_both(hh_network(method, dtype=dtype), 14.0, monkeypatch)
    compare(cpu, dev, rtol=tol[0], atol=tol[1], min_spikes=20)
    assert np.abs(dev[1][0].g["gs"]).max(axis=1).min() > 0  # both stages of the chain carry input


def test_izhikevich_network_with_noise_delays_and_stdp(monkeypatch):
    cpu, dev = run_both(izh_network(), None, monkeypatch, steps=[6.0, 9.0])  # the ring crosses the calls
    compare(cpu, dev, rtol=1e-9, atol=1e-9, min_spikes=20)
    w = dev[2][0].weight
    assert not np.allclose(w, 4.0) and w.min() >= 0.0 and w.max() <= 8.0


@pytest.mark.parametrize("model", [HH(), Izhikevich()], ids=["hh", "izhikevich"])
def test_engine_bad_state_raises_like_the_cpu(model):
    """A huge current reaches neuron 1 in step 3 (the spike of step 2 lands in ``ge``, which drives the
    next step): the step's ``bad`` flag stops both backends there, naming the neuron, the network untouched."""
    for backend in ("cpu", "cuda"):
        G = nw.NeuronGroup(3, model, receptors={"ge": nw.Current(5.0)})
        src = nw.SpikeGeneratorGroup(1, [0], [0.2])
        S = nw.Synapses(src, G, nw.Connectivity.from_arrays([0], [1], weight=1e200, n_pre=1, n_post=3), on_pre="ge")
        M = nw.SpikeMonitor(G)
        net = nw.Network(G, src, S, M)
        with pytest.raises(SimulationError, match=r"neuron 1 .* step 3 "):
            net.run(1.0, backend=backend, progress=False)
        assert net.step == 0 and M.num_spikes == 0


def test_engine_full_spike_buffer_stops_both_at_the_same_step():
    """The raw run kernels of an HH network (generators, delays, a chain): a buffer of n + 6 slots stops
    both before the same step; the resumed stretch agrees too."""
    plan = Plan(hh_network("exponential_euler")()[0])
    flags = (plan.population, plan.code, plan.noisy, plan.n_cur, plan.n_rec - plan.n_cur, tuple(plan.chain))
    cpu, dev = engine_network_kernels(*flags)[0], NC.engine_network_cuda(*flags)
    n_state = len(plan.population.state)
    rows = list(range(n_state)) + list(range(n_state + 2, n_state + 2 + plan.n_rec))  # not the CPU's staging rows
    a, b = _kernel_args(plan, 0, 40, plan.n + 6), _kernel_args(plan, 0, 40, plan.n + 6)
    for _ in range(2):
        cpu(*a)
        dev(*b)
        m = a[41][0]
        assert 0 < a[7][0] < 40 and m > 0
        for q in (7, 13, 41):  # k_begin, gen_pos, spk_n
            assert b[q][0] == a[q][0], q
        np.testing.assert_array_equal(b[40][0, :m], a[40][0, :m])
        np.testing.assert_array_equal(b[39][0, :m], a[39][0, :m])
        np.testing.assert_allclose(b[1][:, rows], a[1][:, rows], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b[25], a[25], rtol=1e-12, atol=1e-12)  # the ring
        for args in (a, b):  # resume with the spikes moved out
            args[41][0] = 0


@pytest.mark.parametrize("model", ["lif", "hh"])
def test_decaying_state_is_flushed_in_the_same_steps(model):
    """A fast receptor (tau = dt / 2, flushed every 5 steps in float32) and, for the LIF, v relaxing to
    v_rest = 0 decay past FLUSH: both backends flush the same values in the same steps (exact
    zeros where the CPU has them) and never leave a denormal."""
    tiny = np.finfo(np.float32).tiny

    def build():
        if model == "lif":
            G = nw.NeuronGroup(10, LIF(tau_m=1.0, v_rest=0.0, v_threshold=10.0, tau_ref=0.0),
                               receptors={"ge": nw.Current(0.05)}, v0=np.linspace(0.5, 1.0, 10))
        else:
            G = nw.NeuronGroup(10, HH(), receptors={"ge": nw.Current(0.05)}, method="exponential_euler")
        G.g["ge"][:] = np.linspace(1.0, 2.0, 10)
        return nw.Network(G, dt=0.1, dtype=np.float32), G

    (net_c, Gc), (net_d, Gd) = build(), build()
    for n_steps in (7, 7, 30):  # runs ending between flushes, then past them
        net_c.run(n_steps * 0.1, backend="cpu", progress=False)
        net_d.run(n_steps * 0.1, backend="cuda", progress=False)
        for a, b in ((Gc.g["ge"], Gd.g["ge"]), (Gc.v, Gd.v)):
            np.testing.assert_array_equal(a == 0, b == 0)
            np.testing.assert_allclose(b, a, rtol=1e-5)
            assert not ((a != 0) & (np.abs(a) < tiny)).any()
    assert (Gc.g["ge"] == 0).all()
