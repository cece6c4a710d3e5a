"""Hodgkin-Huxley populations against the reference table of notes/seed_001.md (sections 2.1 and 6),
plain NumPy / SciPy references, and the package's invariants (backends, noise, bad input)."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import SimulationError
from fastkernels.neurons._reference import hh_derivatives, hh_rates, hh_rk4
from fastkernels.neurons.hh import HH, alpha_h, alpha_m, alpha_n, beta_h, beta_m, beta_n, simulate_hh, \
    temperature_factor

# The digest's table: RK4, dt = 0.01 ms, 300 ms from rest with gates at steady state, spikes =
# upward crossings of 0 mV, steady rate from the spikes after 100 ms.
TABLE_I = np.array([-10, -5, 0, 2, 3, 5, 6.0, 6.2, 6.3, 7, 10, 15, 20, 50])
TABLE_COUNTS = [0, 0, 0, 0, 1, 1, 2, 3, 16, 18, 21, 24, 26, 35]
TABLE_RATES = {6.3: 52.4, 7: 58.3, 10: 68.3, 15: 78.7, 20: 86.5, 50: 117.0}
#: Rate tolerance (Hz): the table prints one decimal; spike times are quantised to dt = 0.01 ms.
RATE_TOL = 0.1


def reference_rates(V):
    """The modern rate functions written plainly in NumPy, stacked ``(6, ...)``."""
    return np.array(hh_rates(V))


def numpy_rk4(I, steps, dt, v0=-65.0):
    """Plain vectorised NumPy RK4 of the modern HH set; returns (V trace (steps + 1, n), spike steps)."""
    return hh_rk4(I, steps, dt, v0, record=True)


@pytest.fixture(scope="module")
def table_run():
    return simulate_hh(HH(), TABLE_I.size, 300.0, 0.01, I=TABLE_I, record=True, record_every=1, backend="cpu")


def test_reference_table_spike_counts(table_run):
    assert table_run.counts.tolist() == TABLE_COUNTS


def test_reference_table_rates_and_type_ii_onset(table_run):
    late = {}
    for i, current in enumerate(TABLE_I):
        s = table_run.spike_train(i)
        late[float(current)] = s[s >= 100.0]
    # No sustained firing at 6.2, sustained firing at 6.3 (a jump from 0 to ~52 Hz).
    assert late[6.2].size == 0 and late[6.0].size == 0
    assert late[6.3].size >= 5
    for current, rate in TABLE_RATES.items():
        measured = 1000.0 / np.mean(np.diff(late[current]))
        assert abs(measured - rate) < RATE_TOL, (current, measured)


def test_reference_table_rest_and_hyperpolarisation(table_run):
    v_end = table_run.final_state["v"]
    settled = {-10: -87.68, -5: -71.97, 0: -65.00}
    for current, v in settled.items():
        i = int(np.flatnonzero(TABLE_I == current)[0])
        assert round(v_end[i], 2) == v
        trace = table_run.traces["v"][i]
        assert trace.max() <= -65.0 + 1e-2  # hyperpolarised or resting: never above rest
    i2 = int(np.flatnonzero(TABLE_I == 2)[0])
    assert v_end[i2] == pytest.approx(-63.5, abs=0.05)  # subthreshold


def test_reference_spike_shape(table_run):
    i3, i10 = int(np.flatnonzero(TABLE_I == 3)[0]), int(np.flatnonzero(TABLE_I == 10)[0])
    assert table_run.traces["v"][i3].max() == pytest.approx(37.5, abs=0.1)  # single onset spike
    v10 = table_run.traces["v"][i10]
    # The onset spike peaks at ~+40 mV; the repetitive ones at ~+30 mV; AHP ~-75 mV.
    assert v10.max() == pytest.approx(40.3, abs=0.3)
    late = v10[table_run.trace_times >= 100.0]
    assert late.min() == pytest.approx(-75.0, abs=0.3)
    assert 29.0 < late.max() < 32.0


def test_steady_state_gates_at_rest():
    m, h, n = HH().steady_state(-65.0)
    assert (m, h, n) == (pytest.approx(0.05293, abs=5e-6), pytest.approx(0.59612, abs=5e-6),
                         pytest.approx(0.31768, abs=5e-6))
    r = simulate_hh(HH(), 1, 0.01, 0.01, record=0, backend="cpu")
    assert [r.traces[g][0, 0] for g in "mhn"] == [m, h, n]  # the run starts at steady state


def test_removable_singularities_are_exact():
    assert alpha_m(-40.0) == 1.0
    assert alpha_n(-55.0) == 0.1
    am, _, _, _, an, _ = HH().rates(np.array([-40.0, -55.0]))
    assert am[0] == 1.0 and an[1] == 0.1
    # Continuous through the singular points and the Taylor/closed-form switch (|x| = 0.1).
    for v0, k in ((-40.0, 0), (-55.0, 4)):
        v = v0 + np.array([-1.0000001, -0.9999999, -1e-6, -1e-12, 1e-12, 1e-6, 0.9999999, 1.0000001])
        np.testing.assert_allclose(HH().rates(v)[k], reference_rates(v)[k], rtol=1e-14)
    r = simulate_hh(HH(), 2, 5.0, 0.01, v0=[-40.0, -55.0], backend="cpu")
    assert np.isfinite(r.final_state["v"]).all()


def test_rates_match_numpy_to_1e_14_and_the_scalar_helpers():
    v = np.concatenate([np.linspace(-200, 150, 70001), [-40.0 + 1e-9, -55.0 - 1e-9]])
    got = np.array(HH().rates(v))
    ref = reference_rates(v)
    rel = np.abs(got - ref) / np.abs(ref)
    assert rel.max() < 2e-14  # exp_poly-based, two exponentials and one division per call
    for k, fn in enumerate((alpha_m, beta_m, alpha_h, beta_h, alpha_n, beta_n)):
        for x in (-90.0, -40.5, -10.0, 30.0):
            assert fn(x) == pytest.approx(reference_rates(x)[k], rel=1e-14)


def test_phi_scales_rates_and_temperature_factor():
    assert temperature_factor(16.3) == pytest.approx(3.0)
    assert temperature_factor(6.3) == 1.0
    slow = np.array(HH().rates(-50.0))
    fast = np.array(HH(phi=3.0).rates(-50.0))
    np.testing.assert_allclose(fast, 3 * slow, rtol=1e-15)
    assert HH(phi=3.0).steady_state(-50.0) == pytest.approx(HH().steady_state(-50.0), rel=1e-15)


def test_1952_set_is_the_modern_one_shifted_by_65_mV():
    I = np.array([0.0, 3.0, 10.0])
    a = simulate_hh(HH(), 3, 50.0, 0.01, I=I, record=True, backend="cpu")
    b = simulate_hh(HH.hh1952(), 3, 50.0, 0.01, I=I, record=True, backend="cpu")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_allclose(b.traces["v"], a.traces["v"] + 65.0, atol=1e-9)
    for g in "mhn":
        np.testing.assert_allclose(b.traces[g], a.traces[g], atol=1e-11)
    p = HH.hh1952()
    assert (p.E_Na, p.E_K, p.E_L, p.V_rest) == (115.0, -12.0, 10.613, 0.0)


def test_matches_plain_numpy_rk4():
    I = np.array([0.0, 4.0, 8.0, 15.0, 40.0])
    steps, dt = 3000, 0.01
    r = simulate_hh(HH(), I.size, steps * dt, dt, I=I, record=True, backend="cpu")
    vs, crossings = numpy_rk4(I, steps, dt)
    np.testing.assert_allclose(r.traces["v"], vs[:-1].T, rtol=0, atol=1e-8)
    np.testing.assert_allclose(r.final_state["v"], vs[-1], rtol=0, atol=1e-8)
    k, i = np.nonzero(crossings)
    order = np.lexsort((i, k))
    np.testing.assert_allclose(r.spike_times, k[order] * dt, atol=1e-12)
    np.testing.assert_array_equal(r.spike_neurons, i[order])
    assert r.spike_times.size >= 4


def test_matches_solve_ivp():
    scipy_integrate = pytest.importorskip("scipy.integrate")

    def rhs(t, y):
        return list(hh_derivatives(*y, 10.0))

    y0 = [-65.0, *(float(g[0]) for g in HH().steady_state([-65.0]))]
    sol = scipy_integrate.solve_ivp(rhs, (0, 30.0), y0, method="DOP853", rtol=1e-11, atol=1e-11, t_eval=[10.0, 30.0])
    r = simulate_hh(HH(), 1, 30.0, 0.01, I=10.0, record=0, record_every=1000, backend="cpu")
    assert r.traces["v"][0, 1] == pytest.approx(sol.y[0, 0], abs=1e-5)  # V(10 ms), mid-run
    assert r.final_state["v"][0] == pytest.approx(sol.y[0, 1], abs=1e-5)


def test_spikes_are_stamped_with_the_step_start():
    r = simulate_hh(HH(), 1, 40.0, 0.01, I=10.0, record=0, backend="cpu")
    v = np.append(r.traces["v"][0], r.final_state["v"][0])
    k = np.rint(r.spike_times / 0.01).astype(int)
    assert k.size >= 2
    assert np.all(v[k] <= 0.0) and np.all(v[k + 1] > 0.0)


def _error(method, dt):
    """|V(4 ms)| error against RK4 at dt = 0.0025 ms, from an off-equilibrium state."""
    init = {"v": -60.0, "m": 0.1, "h": 0.5, "n": 0.35, "step": 0}
    t_end = 4.0  # through the upstroke of the first spike: all four variables move
    ref = simulate_hh(HH(), 1, t_end, 0.0025, I=10.0, initial=dict(init), method="rk4", backend="cpu")
    r = simulate_hh(HH(), 1, t_end, dt, I=10.0, initial=dict(init), method=method, backend="cpu")
    return abs(r.final_state["v"][0] - ref.final_state["v"][0])


def test_convergence_orders():
    r1, r2 = _error("rk4", 0.04), _error("rk4", 0.02)
    assert 13 < r1 / r2 < 19  # fourth order
    e1, e2 = _error("euler", 0.01), _error("euler", 0.005)
    assert 1.7 < e1 / e2 < 2.3  # first order
    x1, x2 = _error("exponential_euler", 0.01), _error("exponential_euler", 0.005)
    assert 1.7 < x1 / x2 < 2.3


def test_exponential_euler_is_stable_where_rk4_blows_up():
    r = simulate_hh(HH(), 1, 300.0, 0.1, I=10.0, method="exponential_euler", backend="cpu")
    late = r.spike_times[r.spike_times >= 100]
    assert 1000 / np.mean(np.diff(late)) == pytest.approx(68.3, rel=0.06)  # first order: a few % at dt = 0.1
    with pytest.raises(SimulationError, match="neuron 2") as info:
        simulate_hh(HH(), 3, 50.0, 0.1, I=[0.0, 0.0, 10.0], method="rk4", backend="cpu")
    assert info.value.neuron == 2 and info.value.step > 0


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("method", ["rk4", "exponential_euler"])
def test_cpu_and_parallel_are_bit_identical(method, dtype):
    rng = np.random.default_rng(3)
    n = 300  # three blocks, the last one ragged
    model = HH(g_Na=rng.uniform(100, 130, n), E_L=rng.uniform(-56, -53, n), phi=rng.uniform(0.8, 1.2, n))
    kw = {"I": rng.uniform(0, 25, n), "method": method, "record": [0, 150, 299], "dtype": dtype}
    a = simulate_hh(model, n, 20.0, 0.02, backend="cpu", **kw)
    b = simulate_hh(model, n, 20.0, 0.02, backend="parallel", **kw)
    assert a.spike_times.size > 100
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    for key in "vmhn":
        assert a.final_state[key].dtype == dtype and a.traces[key].dtype == dtype
        np.testing.assert_array_equal(a.final_state[key], b.final_state[key])
        np.testing.assert_array_equal(a.traces[key], b.traces[key])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("threads", [1, 2])
def test_noise_is_reproducible_across_backends_and_threads(threads, dtype):
    import fastkernels as fk

    model = HH(sigma=2.0)
    I = np.full(200, 5.0)  # below the onset of repetitive firing: noise makes the spikes
    kw = {"I": I, "method": "euler", "dtype": dtype}
    a = simulate_hh(model, 200, 40.0, 0.02, seed=7, backend="cpu", **kw)
    with fk.num_threads(threads):
        b = simulate_hh(model, 200, 40.0, 0.02, seed=7, backend="parallel", **kw)
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    np.testing.assert_array_equal(a.final_state["v"], b.final_state["v"])
    c = simulate_hh(model, 200, 40.0, 0.02, seed=8, backend="cpu", **kw)
    assert not np.array_equal(a.final_state["v"], c.final_state["v"])
    # Different neurons draw different noise: identical inputs, different trajectories.
    assert np.unique(a.final_state["v"]).size == 200


def test_noise_variance_matches_euler_maruyama():
    # With the channels switched off, V is a Brownian motion plus drift: Var V(t) = sigma^2 t / C^2.
    model = HH(g_Na=0.0, g_K=0.0, g_L=0.0, sigma=1.5, C_m=2.0, V_threshold=1e6)
    r = simulate_hh(model, 4000, 10.0, 0.05, method="euler", seed=1, backend="parallel")
    assert np.var(r.final_state["v"]) == pytest.approx(1.5 ** 2 * 10.0 / 4.0, rel=0.08)
    assert np.mean(r.final_state["v"]) == pytest.approx(-65.0, abs=0.05)


def test_continue_a_run_with_initial_state():
    I = np.array([6.5, 10.0, 30.0])
    whole = simulate_hh(HH(), 3, 60.0, 0.01, I=I, backend="cpu")
    first = simulate_hh(HH(), 3, 25.0, 0.01, I=I, backend="cpu")
    second = simulate_hh(HH(), 3, 35.0, 0.01, I=I, initial=first.final_state, backend="cpu")
    np.testing.assert_allclose(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    np.testing.assert_array_equal(second.final_state["v"], whole.final_state["v"])
    assert second.t_start == pytest.approx(25.0)


def test_time_varying_input_and_shared_series_agree():
    steps = 2000
    step_current = lambda t: np.where(t >= 5.0, 10.0, 0.0)  # noqa: E731
    a = simulate_hh(HH(), 2, steps * 0.01, 0.01, I=step_current, backend="cpu")
    series = step_current(np.arange(steps) * 0.01)[:, None]
    b = simulate_hh(HH(), 2, steps * 0.01, 0.01, I=np.repeat(series, 2, axis=1), backend="cpu")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    assert a.spike_times.min() > 5.0 and a.counts.tolist() == [1, 1]  # the onset spike ~2 ms after the step


# ---------------------------------------------------------------- float32 integration (issue 14)

def test_float32_reproduces_the_reference_table():
    # The digest's table (RK4, dt 0.01 ms, 300 ms) integrated in float32: the same spike counts
    # and steady rates within the table's rounding.
    r = simulate_hh(HH(), TABLE_I.size, 300.0, 0.01, I=TABLE_I, dtype=np.float32, backend="cpu")
    assert r.final_state["v"].dtype == np.float32 and r.spike_times.dtype == np.float64
    assert r.counts.tolist() == TABLE_COUNTS
    for i, current in enumerate(TABLE_I):
        if float(current) in TABLE_RATES:
            s = r.spike_train(i)
            late = s[s >= 100.0]
            assert abs(1000.0 / np.mean(np.diff(late)) - TABLE_RATES[float(current)]) < RATE_TOL, current


@pytest.mark.parametrize("dt, method", [(0.01, "rk4"), (0.1, "exponential_euler")])
def test_float32_rate_curve_within_one_spike_of_float64(dt, method):
    from fastkernels.neurons import firing_rate_curve

    inputs = [0.0, 5.0, 6.2, 6.3, 10.0, 20.0, 50.0]
    kw = {"duration": 400.0, "transient": 100.0, "dt": dt, "method": method, "backend": "cpu"}
    single = firing_rate_curve(HH(), inputs, dtype=np.float32, **kw)
    double = firing_rate_curve(HH(), inputs, **kw)
    assert np.abs(single - double).max() * 0.3 <= 1.0 + 1e-9  # spikes in the 300 ms counted
    np.testing.assert_array_equal(single > 0, double > 0)  # the same onset of sustained firing
    if method == "rk4":
        assert single[2] == 0.0 < single[3]  # between 6.2 and 6.3, as in the table


@pytest.mark.parametrize("dt, method", [(0.01, "rk4"), (0.01, "euler"), (0.05, "exponential_euler")])
def test_float32_traces_follow_float64(dt, method):
    # Over a short run (each neuron through at most its first spike or two) the float32 state
    # stays within float32 rounding amplified by the dynamics (observed: V 2e-3 mV, gates 2e-5).
    I = np.array([0.0, 4.0, 8.0, 15.0, 40.0])
    a = simulate_hh(HH(), 5, 10.0, dt, I=I, method=method, record=True, backend="cpu")
    b = simulate_hh(HH(), 5, 10.0, dt, I=I, method=method, record=True, dtype=np.float32, backend="cpu")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_allclose(b.traces["v"], a.traces["v"], rtol=0, atol=1e-2)
    for g in "mhn":
        np.testing.assert_allclose(b.traces[g], a.traces[g], rtol=0, atol=1e-4)


def test_float32_rates_match_numpy():
    from fastkernels.neurons.hh import rates_kernel

    def rates32(v):
        v = np.asarray(v, dtype=np.float32)
        out = np.empty((6, v.size), dtype=np.float32)
        rates_kernel(v, np.zeros_like(v), np.ones_like(v), out)
        return out

    # A few float32 ulps (beta_m and alpha_h are w^40 and w^36 of one exponential: ~40 ulps).
    v = np.concatenate([np.linspace(-290, 150, 44001), [-40.0, -55.0, -40.0 + 1e-3, -55.0 - 1e-3]])
    got = rates32(v)
    ref = reference_rates(v.astype(np.float32).astype(np.float64))
    assert (np.abs(got - ref) / ref).max() < 1e-5
    # The singular points are exact, and the closed form meets its Taylor branch continuously.
    assert alpha_m(np.float32(-40.0)) == 1.0 and alpha_n(np.float32(-55.0)) == np.float32(0.1)
    for v0, k in ((-40.0, 0), (-55.0, 4)):
        near = v0 + np.array([-1.0001, -0.9999, -1e-3, 1e-3, 0.9999, 1.0001])
        np.testing.assert_allclose(rates32(near)[k], reference_rates(near.astype(np.float32).astype(np.float64))[k],
                                   rtol=1e-6)  # ~8 float32 ulps
    # Far below rest float32 caps the one growing exponential: finite rates down to -1600 mV, and
    # alpha_m, beta_h, alpha_n stay negligible next to beta_m, alpha_h, beta_n.
    deep = np.linspace(-1600, -290, 1001)
    got = rates32(deep).astype(np.float64)
    assert np.isfinite(got).all()
    ref = reference_rates(deep)
    for slow, fast in ((0, 1), (3, 2), (4, 5)):
        assert (np.abs(got[slow] - ref[slow]) <= 1e-6 * ref[fast]).all()


def test_float32_continues_a_run_exactly():
    I = np.array([6.5, 10.0, 30.0])
    kw = {"I": I, "dtype": np.float32, "backend": "cpu"}
    whole = simulate_hh(HH(), 3, 60.0, 0.01, **kw)
    first = simulate_hh(HH(), 3, 25.0, 0.01, **kw)
    second = simulate_hh(HH(), 3, 35.0, 0.01, initial=first.final_state, **kw)
    np.testing.assert_array_equal(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    for key in "vmhn":
        np.testing.assert_array_equal(second.final_state[key], whole.final_state[key])


@pytest.mark.bad_input
def test_float32_runaway_state_raises_naming_step_and_neuron():
    with pytest.raises(SimulationError, match="neuron 2") as info:
        simulate_hh(HH(), 3, 50.0, 0.1, I=[0.0, 0.0, 10.0], method="rk4", dtype=np.float32, backend="cpu")
    assert info.value.neuron == 2 and info.value.step > 0
    with pytest.raises(SimulationError) as info:
        simulate_hh(HH(), 3, 0.1, 0.01, I=[10.0, 1e30, 10.0], dtype=np.float32, backend="parallel")
    assert info.value.neuron == 1 and info.value.step == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    ({"model": HH(g_Na=1e39)}, "g_Na"), ({"model": HH(E_L=-1e39)}, "E_L"), ({"model": HH(phi=3.5e38)}, "phi"),
    ({"model": HH(C_m=1e-39)}, "C_m"), ({"model": HH(sigma=1e38), "method": "euler"}, "sigma"),
    ({"I": 1e39}, "I"), ({"I": np.array([10.0, -1e300, 10.0])}, "I"),
])
def test_float32_refuses_values_beyond_its_range(kwargs, name):
    args = {"I": 10.0, **kwargs}
    model = args.pop("model", HH())
    snapshot = repr(model)
    _raises_naming(lambda: simulate_hh(model, 3, 0.1, 0.01, dtype=np.float32, backend="cpu", **args), name)
    assert repr(model) == snapshot
    try:  # float64 takes the same values (and may find the state running away)
        simulate_hh(model, 3, 0.1, 0.01, backend="cpu", **args)
    except SimulationError:
        pass


def test_record_stride_and_times():
    r = simulate_hh(HH(), 4, 10.0, 0.01, I=10.0, record=[3, 1], record_every=10, backend="cpu")
    assert r.trace_neurons.tolist() == [1, 3]
    assert r.traces["v"].shape == (2, 100) and set(r.traces) == {"v", "m", "h", "n"}
    np.testing.assert_allclose(r.trace_times, np.arange(100) * 0.1)


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, err, match", [
    (dict(dt=0.0), ValueError, "dt"),
    (dict(dt=-0.01), ValueError, "dt"),
    (dict(duration=1.005), ValueError, "whole number of steps"),
    (dict(n=0), ValueError, "n must"),
    (dict(model=HH(C_m=0.0)), ValueError, "C_m"),
    (dict(model=HH(C_m=-1.0)), ValueError, "C_m"),
    (dict(model=HH(g_Na=-120.0)), ValueError, "g_Na"),
    (dict(model=HH(g_K=[36.0, 36.0])), ValueError, "g_K"),
    (dict(model=HH(g_L=np.array([0.3, -0.1, 0.3]))), ValueError, "g_L"),
    (dict(model=HH(E_L=np.nan)), ValueError, "E_L"),
    (dict(model=HH(phi=0.0)), ValueError, "phi"),
    (dict(model=HH(sigma=-1.0)), ValueError, "sigma"),
    (dict(model=HH(sigma=1.0), method="rk4"), ValueError, "noise"),
    (dict(I=np.array([1.0, np.nan, 1.0])), ValueError, "I"),
    (dict(I=np.ones(5)), ValueError, "one value per neuron"),
    (dict(method="rk45"), ValueError, "method"),
    (dict(v0=[-65.0, np.inf, -65.0]), ValueError, "v0"),
    (dict(v0=[-65.0, -65.0]), ValueError, "v0"),
    (dict(initial={"m": 0.1}), TypeError, "initial"),
    (dict(record=[3]), ValueError, "record"),
    (dict(record_every=0), ValueError, "record_every"),
    (dict(dtype=np.int64), TypeError, "dtype"),
    (dict(model="hh"), TypeError, "HH"),
    (dict(backend="gpu"), ValueError, "backend"),
])
def test_bad_input(kwargs, err, match):
    args = dict(model=HH(), n=3, duration=1.0, dt=0.01, I=np.array([1.0, 2.0, 3.0]))
    args.update(kwargs)
    user_I = args["I"].copy()
    model = args.pop("model")
    snapshot = repr(model)
    with pytest.raises(err, match=match):
        simulate_hh(model, args.pop("n"), args.pop("duration"), args.pop("dt"), **{"backend": "cpu", **args})
    np.testing.assert_array_equal(args["I"], user_I)  # a failed call leaves user data unchanged
    assert repr(model) == snapshot


@pytest.mark.bad_input
def test_bad_helper_input():
    with pytest.raises(ValueError, match="V must be finite"):
        HH().rates([np.nan])
    with pytest.raises(ValueError, match="broadcast"):
        HH(phi=[1.0, 2.0]).rates(np.zeros(3))
    with pytest.raises(ValueError, match="q10"):
        temperature_factor(20.0, q10=0.0)


def test_firing_rate_curve_of_hh_shows_the_type_ii_jump():
    from fastkernels.neurons import firing_rate_curve

    # Counts over [100, 400) ms: rate = spikes / 0.3 s, within one spike of the table's ISI rates.
    rates = firing_rate_curve(HH(), [6.2, 6.3, 10.0, 20.0], duration=400.0, transient=100.0, backend="cpu")
    assert rates[0] == 0.0
    for r, current in zip(rates[1:], (6.3, 10.0, 20.0)):
        assert abs(r - TABLE_RATES[current]) <= 1 / 0.3 + RATE_TOL, (current, r)
    # The coarse default for dt = 0.1 ms is exponential Euler (RK4 would blow up there).
    coarse = firing_rate_curve(HH(), [10.0], duration=400.0, dt=0.1, transient=100.0, backend="cpu")
    assert coarse[0] == pytest.approx(TABLE_RATES[10.0], rel=0.08)


def test_firing_rate_curve_rejects_other_models():
    from fastkernels.neurons import firing_rate_curve

    with pytest.raises(TypeError, match="LIF, HH or Izhikevich"):
        firing_rate_curve(object(), [1.0])


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
@pytest.mark.parametrize("seed", ["0", 1.5, -1, [0], True])
def test_wrong_seed_refused_without_noise(seed):
    _raises_naming(lambda: simulate_hh(HH(), 2, 0.1, 0.01, I=10.0, seed=seed, backend="cpu"), "seed")


@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["rk4", "euler", "exponential_euler"])
@pytest.mark.parametrize("I", [1e12, -1e12, 1e308])
def test_huge_input_raises_simulation_error_naming_the_neuron(method, I):
    with pytest.raises(SimulationError) as info:
        simulate_hh(HH(), 3, 0.1, 0.01, I=[10.0, I, 10.0], method=method, backend="cpu")
    assert info.value.neuron == 1 and info.value.step == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("celsius, q10", [(1e5, 3.0), (1e308, 3.0), (-1e308, 3.0), (1e308, 1e300)])
def test_temperature_factor_out_of_range_is_refused(celsius, q10):
    # 3 ** 1e4 raised a bare OverflowError; 3 ** -1e307 gave 0, not a usable phi
    _raises_naming(lambda: temperature_factor(celsius, q10), "celsius")


@pytest.mark.bad_input
@pytest.mark.parametrize("V", [["a"], -2500.0, -1e4, 2500.0, np.array([-65.0, -1e5]), True, np.ones(2, bool)])
def test_rates_refuse_potentials_outside_their_accurate_range(V):
    # ["a"] raised NumPy's conversion error; -1e4 mV gave NaN rates and -2500 mV alpha_m = 0
    _raises_naming(lambda: HH().rates(V), "V")
    _raises_naming(lambda: HH().steady_state(V), "V")


@pytest.mark.bad_input
def test_rates_refuse_a_phi_that_overflows_them_and_bad_fields():
    _raises_naming(lambda: HH(phi=1e308).rates(0.0), "phi")
    _raises_naming(lambda: HH(V_shift="a").rates(0.0), "V_shift")
    _raises_naming(lambda: HH(phi=[1.0, np.nan]).rates(0.0), "phi")


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    (dict(v0=5e3), "v0"), (dict(model=HH(V_rest=1e4)), "V_rest"), (dict(model=HH(V_shift=-1e4)), "V_shift"),
    (dict(initial={"v": -65.0, "step": 0, "m": 1e6}), "initial['m']"), (dict(initial={"v": 1e4, "step": 0}), "initial"),
    (dict(initial={"v": -65.0, "step": 2**62}), "initial"), (dict(t_start=1e300), "t_start"),
    (dict(dt=5e-324), "duration"), (dict(n=10**12), "n"), (dict(record_every=2**64), "record_every"),
    (dict(I=lambda t: ["x"] * t.size), "I"), (dict(record=[1.5]), "record"), (dict(dtype=None), "dtype"),
    (dict(dtype="nope"), "dtype"),
])
def test_out_of_range_state_and_run_arguments_are_refused_up_front(kwargs, name):
    args = dict(model=HH(), n=2, duration=0.1, dt=0.01, I=10.0)
    args.update(kwargs)
    _raises_naming(lambda: simulate_hh(args.pop("model"), args.pop("n"), args.pop("duration"), args.pop("dt"),
                                       backend="cpu", **args), name)
