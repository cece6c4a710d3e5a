"""Izhikevich populations: the 2003 paper's scheme transcribed in NumPy, the presets' firing
patterns, convergence, backends, noise and bad input."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import SimulationError
from fastkernels.neurons.izhikevich import Izhikevich, simulate_izhikevich

PRESETS = {
    "regular_spiking": (0.02, 0.2, -65.0, 8.0),
    "fast_spiking": (0.1, 0.2, -65.0, 2.0),
    "chattering": (0.02, 0.2, -50.0, 2.0),
    "intrinsically_bursting": (0.02, 0.2, -55.0, 4.0),
}


def paper_loop(a, b, c, d, I, steps):
    """Izhikevich (2003)'s MATLAB loop at 1 ms steps, in NumPy: returns (spike steps, neurons), v, u.

    The paper tests ``v >= 30`` at the top of iteration ``t``, on the ``v`` computed in
    iteration ``t - 1``; the package stamps that spike with the start of the step that produced
    it, so the spike found at iteration ``t`` is returned as step ``t - 1``.
    """
    v = np.full(a.size, -65.0)
    u = b * v
    ks, ids = [], []
    for t in range(steps + 1):
        fired = np.flatnonzero(v >= 30)
        ks += [t - 1] * fired.size
        ids += fired.tolist()
        v[fired] = c[fired]
        u[fired] = u[fired] + d[fired]
        if t == steps:
            break
        v = v + 0.5 * (0.04 * v ** 2 + 5 * v + 140 - u + I)
        v = v + 0.5 * (0.04 * v ** 2 + 5 * v + 140 - u + I)
        u = u + a * (b * v - u)
    return np.array(ks), np.array(ids), v, u


def test_euler_is_the_papers_scheme():
    # 100 steps: the quadratic upstroke amplifies ulp differences (FMA, operation order), so
    # over much longer runs a spike eventually lands one step apart.
    rng = np.random.default_rng(0)
    n = 20
    a, b = rng.uniform(0.02, 0.1, n), rng.uniform(0.2, 0.25, n)
    c, d = rng.uniform(-65, -50, n), rng.uniform(2, 8, n)
    I = rng.uniform(0, 15, n)
    r = simulate_izhikevich(Izhikevich(a=a, b=b, c=c, d=d), n, 100.0, 1.0, I=I, method="euler", backend="cpu")
    ks, ids, v, u = paper_loop(a, b, c, d, I, 100)
    order = np.lexsort((ids, ks))
    np.testing.assert_array_equal(r.spike_times, ks[order] * 1.0)
    np.testing.assert_array_equal(r.spike_neurons, ids[order])
    np.testing.assert_allclose(r.final_state["v"], v, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(r.final_state["u"], u, rtol=1e-6, atol=1e-6)
    assert r.spike_times.size > 30


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_have_the_papers_parameters(name):
    m = getattr(Izhikevich, name)()
    assert (m.a, m.b, m.c, m.d, m.v_peak) == (*PRESETS[name], 30.0)
    assert getattr(Izhikevich, name)(d=1.0).d == 1.0  # overrides


@pytest.fixture(scope="module")
def preset_runs():
    """One second of each preset at a constant input, dt = 0.1 ms."""
    out = {}
    for name, current in (("regular_spiking", 14.0), ("fast_spiking", 14.0), ("chattering", 10.0),
                          ("intrinsically_bursting", 10.0)):
        out[name] = np.diff(simulate_izhikevich(getattr(Izhikevich, name)(), 1, 1000.0, 0.1, I=current,
                                                backend="cpu").spike_times)
    return out


def test_regular_spiking_adapts_and_fast_spiking_does_not(preset_runs):
    rs, fs = preset_runs["regular_spiking"], preset_runs["fast_spiking"]
    assert np.all(np.diff(rs[:3]) > 0)  # ISIs lengthen after the onset
    assert rs[-1] / rs[0] > 4.0  # strong spike-frequency adaptation
    assert fs[-1] / fs[0] < 2.0  # weak
    assert 1000.0 / fs[-1] > 150.0 > 1000.0 / rs[-1]  # fast spiking fires far faster
    assert np.std(fs[-20:]) / np.mean(fs[-20:]) < 0.05  # and regularly


def test_chattering_bursts_have_bimodal_isis(preset_runs):
    isi = preset_runs["chattering"]
    short, long_ = isi[isi < 10.0], isi[isi > 30.0]
    assert short.size + long_.size == isi.size  # nothing in between: two modes
    assert short.size >= 3 * long_.size >= 30  # bursts of several spikes
    assert short.max() < 10.0 < 30.0 < long_.min()


def test_intrinsically_bursting_starts_with_a_burst_then_spikes_singly(preset_runs):
    isi = preset_runs["intrinsically_bursting"]
    assert np.all(isi[:2] < 6.0)
    assert np.all(isi[2:] > 25.0)


def test_subthreshold_input_does_not_fire_and_reset_is_applied():
    r = simulate_izhikevich(Izhikevich(), 2, 200.0, 0.1, I=[0.0, 10.0], record=True, backend="cpu")
    assert r.counts.tolist()[0] == 0 and r.counts[1] > 3
    v = r.traces["v"][1]
    assert v.max() < 30.0  # traces are sampled after the reset
    k = np.rint(r.spike_times / 0.1).astype(int)
    np.testing.assert_allclose(v[k[k + 1 < v.size] + 1], -65.0)  # v = c at the start of the next step


def _error(method, dt):
    """|v(20 ms)| error against RK4 at dt = 0.0025 ms while relaxing from -75 mV to rest (-70 mV)."""
    m = Izhikevich(v_peak=1e6)
    ref = simulate_izhikevich(m, 1, 20.0, 0.0025, I=0.0, v0=-75.0, method="rk4", backend="cpu")
    r = simulate_izhikevich(m, 1, 20.0, dt, I=0.0, v0=-75.0, method=method, backend="cpu")
    return abs(r.final_state["v"][0] - ref.final_state["v"][0])


def test_convergence_orders():
    r1, r2 = _error("rk4", 0.1), _error("rk4", 0.05)
    assert 14 < r1 / r2 < 18.5
    e1, e2 = _error("euler", 0.2), _error("euler", 0.1)
    assert 1.7 < e1 / e2 < 2.3


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cpu_and_parallel_are_bit_identical(dtype):
    rng = np.random.default_rng(5)
    n = 300
    m = Izhikevich(a=rng.uniform(0.02, 0.1, n), d=rng.uniform(2, 8, n), c=rng.uniform(-65, -50, n))
    kw = {"I": rng.uniform(0, 20, n), "record": [0, 299], "dtype": dtype}
    for method in ("euler", "rk4"):
        a = simulate_izhikevich(m, n, 100.0, 0.1, method=method, backend="cpu", **kw)
        b = simulate_izhikevich(m, n, 100.0, 0.1, method=method, backend="parallel", **kw)
        np.testing.assert_array_equal(a.spike_times, b.spike_times)
        np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
        np.testing.assert_array_equal(a.final_state["u"], b.final_state["u"])
        np.testing.assert_array_equal(a.traces["v"], b.traces["v"])
        assert a.spike_times.size > 500 and a.traces["v"].dtype == dtype


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
def test_noise_is_reproducible_across_backends_and_threads(threads, dtype):
    import fastkernels as fk

    m = Izhikevich(sigma=3.0)
    kw = {"I": 1.0, "v0": -70.0, "seed": 4, "dtype": dtype}
    a = simulate_izhikevich(m, 300, 200.0, 0.1, backend="cpu", **kw)
    with fk.num_threads(threads):
        b = simulate_izhikevich(m, 300, 200.0, 0.1, backend="parallel", **kw)
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_array_equal(a.final_state["v"], b.final_state["v"])
    c = simulate_izhikevich(m, 300, 200.0, 0.1, backend="cpu", **{**kw, "seed": 5})
    assert not np.array_equal(a.spike_neurons, c.spike_neurons)
    quiet = simulate_izhikevich(Izhikevich(), 300, 200.0, 0.1, I=1.0, v0=-70.0, dtype=dtype, backend="cpu")
    assert quiet.spike_times.size == 0 < a.spike_times.size  # the noise makes subthreshold cells fire


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_continue_a_run(dtype):
    I = np.array([5.0, 10.0, 20.0])
    kw = {"I": I, "dtype": dtype, "backend": "cpu"}
    whole = simulate_izhikevich(Izhikevich.chattering(), 3, 300.0, 0.1, **kw)
    first = simulate_izhikevich(Izhikevich.chattering(), 3, 120.0, 0.1, **kw)
    second = simulate_izhikevich(Izhikevich.chattering(), 3, 180.0, 0.1, initial=first.final_state, **kw)
    np.testing.assert_allclose(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    for key in "vu":
        assert second.final_state[key].dtype == dtype
        np.testing.assert_array_equal(second.final_state[key], whole.final_state[key])


# ---------------------------------------------------------------- float32 integration (issue 14)

def test_float32_rate_curves_within_one_spike_of_float64():
    from fastkernels.neurons import firing_rate_curve

    inputs = np.array([0.0, 4.0, 10.0, 20.0])
    for name in ("regular_spiking", "fast_spiking", "chattering", "intrinsically_bursting"):
        model = getattr(Izhikevich, name)()
        double = firing_rate_curve(model, inputs, duration=500.0, transient=100.0, backend="cpu")
        single = firing_rate_curve(model, inputs, duration=500.0, transient=100.0, dtype=np.float32, backend="cpu")
        assert np.abs(single - double).max() * 0.4 <= 1.0 + 1e-9, name  # spikes in the 400 ms counted


def test_float32_keeps_the_presets_firing_patterns():
    # The preset runs above in float32: the same spike counts (spike times may shift by a step or
    # so in the bursting cells, whose upstroke amplifies rounding).
    for name, current in (("regular_spiking", 14.0), ("fast_spiking", 14.0), ("chattering", 10.0),
                          ("intrinsically_bursting", 10.0)):
        model = getattr(Izhikevich, name)()
        double = simulate_izhikevich(model, 1, 1000.0, 0.1, I=current, backend="cpu").spike_times
        single = simulate_izhikevich(model, 1, 1000.0, 0.1, I=current, dtype=np.float32, backend="cpu").spike_times
        assert single.size == double.size, name
        assert np.abs(single - double).max() <= 2.0, name


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_float32_traces_follow_float64(method):
    I = np.array([0.0, 5.0, 10.0, 20.0])
    a = simulate_izhikevich(Izhikevich.chattering(), 4, 30.0, 0.1, I=I, method=method, record=True, backend="cpu")
    b = simulate_izhikevich(Izhikevich.chattering(), 4, 30.0, 0.1, I=I, method=method, record=True,
                            dtype=np.float32, backend="cpu")
    assert b.traces["v"].dtype == np.float32 and a.spike_times.size > 10
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_allclose(b.traces["v"], a.traces["v"], rtol=0, atol=2e-2)  # observed 3e-3 mV
    np.testing.assert_allclose(b.traces["u"], a.traces["u"], rtol=0, atol=1e-4)


@pytest.mark.bad_input
def test_float32_runaway_state_raises_naming_step_and_neuron():
    with pytest.raises(SimulationError, match="neuron 2") as info:
        simulate_izhikevich(Izhikevich(), 3, 100.0, 10.0, I=[0.0, 0.0, 1000.0], dtype=np.float32, backend="parallel")
    assert info.value.neuron == 2 and info.value.step >= 0
    with pytest.raises(SimulationError) as info:
        simulate_izhikevich(Izhikevich(), 3, 1.0, 0.1, I=[10.0, -1e30, 10.0], dtype=np.float32, backend="cpu")
    assert info.value.neuron == 1 and info.value.step == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    ({"model": Izhikevich(a=1e39)}, "a"), ({"model": Izhikevich(v_peak=1e39)}, "v_peak"),
    ({"model": Izhikevich(d=-3.5e38)}, "d"), ({"model": Izhikevich(sigma=2e38)}, "sigma"), ({"I": 1e39}, "I"),
    ({"I": lambda t: np.where(t > 0.5, -1e300, 0.0)}, "I"),
])
def test_float32_refuses_values_beyond_its_range(kwargs, name):
    args = {"I": 10.0, **kwargs}
    model = args.pop("model", Izhikevich())
    snapshot = repr(model)
    _raises_naming(lambda: simulate_izhikevich(model, 3, 1.0, 0.1, dtype=np.float32, backend="cpu", **args), name)
    assert repr(model) == snapshot
    try:  # float64 takes the same values (and may find the state running away)
        simulate_izhikevich(model, 3, 1.0, 0.1, backend="cpu", **args)
    except SimulationError:
        pass


def test_runaway_state_raises_naming_step_and_neuron():
    with pytest.raises(SimulationError, match="neuron 2") as info:
        simulate_izhikevich(Izhikevich(), 3, 100.0, 10.0, I=[0.0, 0.0, 1000.0], backend="cpu")
    assert info.value.neuron == 2 and info.value.step >= 0


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, err, match", [
    (dict(dt=0.0), ValueError, "dt"),
    (dict(dt=-0.5), ValueError, "dt"),
    (dict(model=Izhikevich(c=40.0)), ValueError, "c \\(reset\\)"),
    (dict(model=Izhikevich(a=[0.02, 0.1])), ValueError, "a must"),
    (dict(model=Izhikevich(b=np.nan)), ValueError, "b must be finite"),
    (dict(model=Izhikevich(sigma=-1.0)), ValueError, "sigma"),
    (dict(model=Izhikevich(sigma=1.0), method="rk4"), ValueError, "noise"),
    (dict(I=np.array([1.0, np.inf, 1.0])), ValueError, "I"),
    (dict(method="heun"), ValueError, "method"),
    (dict(v0=[-65.0, -65.0]), ValueError, "v0"),
    (dict(u0=np.array([0.0, np.nan, 0.0])), ValueError, "u0"),
    (dict(initial={"v": 0.0}), TypeError, "initial"),
    (dict(model=object()), TypeError, "Izhikevich"),
    (dict(dtype=np.float16), TypeError, "dtype"),
])
def test_bad_input(kwargs, err, match):
    args = dict(model=Izhikevich(), n=3, duration=1.0, dt=0.5, I=np.array([1.0, 2.0, 3.0]))
    args.update(kwargs)
    user_I = args["I"].copy()
    model = args.pop("model")
    snapshot = repr(model)
    with pytest.raises(err, match=match):
        simulate_izhikevich(model, args.pop("n"), args.pop("duration"), args.pop("dt"), **{"backend": "cpu", **args})
    np.testing.assert_array_equal(args["I"], user_I)
    assert repr(model) == snapshot


def test_firing_rate_curve_equals_counts_of_a_direct_run():
    from fastkernels.neurons import firing_rate_curve

    inputs = np.array([0.0, 4.0, 10.0, 20.0])
    model = Izhikevich.regular_spiking()
    rates = firing_rate_curve(model, inputs, duration=500.0, transient=100.0, backend="cpu")
    res = simulate_izhikevich(model, inputs.size, 500.0, 0.1, I=inputs, method="euler", backend="cpu")
    late = np.bincount(res.spike_neurons[res.spike_times >= 100.0], minlength=inputs.size)
    np.testing.assert_array_equal(rates, late / 0.4)
    assert rates[0] == 0.0 and np.all(np.diff(rates[1:]) > 0)  # silent at rest, monotone above rheobase


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
@pytest.mark.parametrize("seed", ["0", 1.5, -1, [0], True])
def test_wrong_seed_refused_without_noise(seed):
    _raises_naming(lambda: simulate_izhikevich(Izhikevich(), 2, 1.0, 0.1, I=10.0, seed=seed, backend="cpu"), "seed")


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["euler", "rk4"])
@pytest.mark.parametrize("I", [1e12, -1e12, 1e308])
def test_huge_input_raises_simulation_error_naming_the_neuron(method, I):
    with pytest.raises(SimulationError) as info:
        simulate_izhikevich(Izhikevich(), 3, 1.0, 0.1, I=[10.0, I, 10.0], method=method, backend="cpu")
    assert info.value.neuron == 1 and info.value.step == 0


@pytest.mark.bad_input
def test_failed_noisy_run_leaves_a_generator_seed_unchanged():
    gen = np.random.default_rng(11)
    before = gen.bit_generator.state
    with pytest.raises(SimulationError):
        simulate_izhikevich(Izhikevich(sigma=1e300), 2, 1.0, 0.1, seed=gen, backend="cpu")
    assert gen.bit_generator.state == before


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    (dict(v0=1e10), "v0"), (dict(u0=[0.0, -1e10]), "u0"), (dict(model=Izhikevich(c=-1e10)), "c"),
    (dict(model=Izhikevich(b=1e300)), "u0"), (dict(initial={"v": 0.0, "u": 1e12, "step": 0}), "initial['u']"),
    (dict(initial={"v": 0.0, "u": 0.0, "step": 2**62}), "initial"), (dict(t_start=-1e300), "t_start"),
    (dict(n=2**62), "n"), (dict(record_every=2**64), "record_every"), (dict(record="all"), "record"),
    (dict(model=Izhikevich(a="fast")), "a"), (dict(model=Izhikevich(d=[1.0, 2.0, 3.0])), "d"),
])
def test_out_of_range_state_and_run_arguments_are_refused_up_front(kwargs, name):
    args = dict(model=Izhikevich(), n=2, duration=1.0, dt=0.1, I=10.0)
    args.update(kwargs)
    _raises_naming(lambda: simulate_izhikevich(args.pop("model"), args.pop("n"), args.pop("duration"),
                                               args.pop("dt"), backend="cpu", **args), name)
