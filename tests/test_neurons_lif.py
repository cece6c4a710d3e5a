"""LIF populations against the reference values of the seeds' digests (notes/seeds_000_004.md
section 1, notes/seed_001.md section 2.2) and against plain NumPy references."""

import dataclasses

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import (
    LIF,
    SimulationError,
    firing_rate_curve,
    isi_stats,
    lif_rate,
    simulate_lif,
)
from fastkernels.neurons._reference import lif_exact_counts
from fastkernels.neurons.lif import run_lif

BACKENDS = ["cpu", "parallel"]

# N9 spike counts in 1000 ms (Brian2 2.9 = NumPy reference), current and legacy refractory rules.
N9_STEPS = [0] * 34 + [24, 29, 33, 36, 39, 42, 44, 47, 49, 51, 53, 55, 57, 58, 60, 62, 64, 65, 66, 68, 69, 71, 72,
                       73, 74, 76, 77, 79, 80, 81, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 95, 96, 97,
                       98, 99, 100, 101, 101, 102, 103, 103, 104, 105, 105, 106, 108, 108, 109, 109, 110, 110, 111]
N9_LEGACY = [0] * 34 + [24, 29, 33, 36, 39, 42, 44, 47, 49, 51, 53, 55, 57, 58, 60, 62, 63, 65, 66, 68, 69, 71, 72,
                        73, 74, 76, 77, 79, 80, 80, 82, 83, 84, 85, 86, 87, 88, 89, 90, 91, 92, 93, 94, 95, 95, 96, 97,
                        98, 99, 100, 101, 101, 102, 103, 103, 104, 105, 105, 106, 107, 107, 109, 109, 110, 110, 111]


def test_n1_exact_relaxation_matches_brian2():
    r = simulate_lif(LIF(tau_m=10, tau_ref=0, v_threshold=2.0), 1, 100.0, 0.1, I=1.0, v0=0.0, backend="cpu")
    assert r.final_state["v"][0] == 0.9999546000702376  # Brian2's printed value, bit for bit


def test_n2_trace_equals_analytic():
    r = simulate_lif(LIF(tau_m=10, tau_ref=0, v_threshold=2.0), 1, 30.0, 0.1, I=1.0, record=0, backend="cpu")
    assert r.traces["v"].shape == (1, 300)
    np.testing.assert_allclose(r.traces["v"][0], 1 - np.exp(-r.trace_times / 10), rtol=0, atol=5e-15)


def test_n3_euler_with_time_varying_input():
    sine = lambda t: np.sin(2 * np.pi * 0.1 * t)  # 100 Hz with t in ms
    r = simulate_lif(LIF(tau_m=10, tau_ref=0, v_threshold=1e3), 1, 60.0, 0.1, I=sine, v0=5.0, method="euler",
                     record=0, backend="cpu")
    v = r.traces["v"][0]
    for k, ref in ((100, 1.7308195884511288), (200, 0.5341938283673157), (300, 0.09619009977597948),
                   (599, -0.14512042110236006)):
        assert abs(v[k] - ref) < 1e-13


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("threshold, reset, expected", [
    (0.8, 0.0, [16.0, 32.1, 48.2]),                        # N4, printed in the seed
    (0.6, 0.1, [9.1, 17.3, 25.5, 33.7, 41.9]),             # N5
    (0.6, -0.3, [9.1, 20.9, 32.7, 44.5]),                  # N5
])
def test_n4_n5_threshold_and_reset(backend, threshold, reset, expected):
    r = simulate_lif(LIF(tau_m=10, v_threshold=threshold, v_reset=reset, tau_ref=0), 1, 50.0, 0.1, I=1.0,
                     backend=backend)
    np.testing.assert_allclose(r.spike_times, expected, atol=1e-9)


@pytest.mark.parametrize("mode", ["steps", "legacy_float"])
def test_n6_frozen_refractory(mode):
    r = simulate_lif(LIF(tau_m=10, v_threshold=0.8, tau_ref=5, refractory_mode=mode), 1, 50.0, 0.1, I=1.0,
                     record=0, backend="cpu")
    np.testing.assert_allclose(r.spike_times, [16.0, 37.0], atol=1e-9)
    v = r.traces["v"][0]
    assert np.all(v[161:210] == 0.0) and v[211] > 0  # held at reset for 5 ms after the spike at 16.0 ms


@pytest.mark.parametrize("mode, expected", [("legacy_float", [8.0, 23.1, 38.2]), ("steps", [8.0, 23.0, 38.0])])
def test_n7_refractory_without_freezing_both_rules(mode, expected):
    m = LIF(tau_m=5, v_threshold=0.8, tau_ref=15, freeze_refractory=False, refractory_mode=mode)
    r = simulate_lif(m, 1, 50.0, 0.1, I=1.0, backend="cpu")
    np.testing.assert_allclose(r.spike_times, expected, atol=1e-9)


def test_n8_population_isi_is_seven_ms():
    v0 = np.random.default_rng(0).uniform(0, 1, 100)
    r = simulate_lif(LIF(tau_m=10, tau_ref=0), 100, 50.0, 0.1, I=2.0, v0=v0, backend="parallel")
    assert set(r.counts.tolist()) <= {7, 8}
    isi = np.round(r.isi(), 9)
    assert np.all(isi == 7.0)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("mode, expected", [("steps", N9_STEPS), ("legacy_float", N9_LEGACY)])
def test_n9_if_curve_counts_match_brian2(backend, mode, expected):
    n = 100
    r = simulate_lif(LIF(tau_m=10, tau_ref=5, refractory_mode=mode), n, 1000.0, 0.1, I=np.arange(n) * 3.0 / (n - 1),
                     backend=backend)
    assert r.counts.tolist() == expected


@pytest.mark.parametrize("n", [1, 255, 256, 257, 600])
def test_uniform_parameters_match_the_per_neuron_path(n):
    # Scalar parameters take a fast path (propagators computed once); the same values given per neuron must
    # give bit-identical spikes, traces and final state.
    I = np.linspace(0.8, 3.0, n)
    kw = dict(I=I, record=[0, n - 1], seed=3)
    for model, extra in ((LIF(tau_m=10.0, tau_ref=2.0, sigma=0.05), {}),
                         (LIF(tau_m=10.0, threshold_jump=0.2, adaptation_jump=0.1), {"method": "euler"})):
        a = simulate_lif(model, n, 30.0, 0.1, **kw, **extra)
        arr = dataclasses.replace(model, tau_m=np.full(n, 10.0))
        b = simulate_lif(arr, n, 30.0, 0.1, **kw, **extra)
        np.testing.assert_array_equal(a.spike_times, b.spike_times)
        np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
        np.testing.assert_array_equal(a.traces["v"], b.traces["v"])
        for name in ("v", "v_threshold", "w", "since"):
            np.testing.assert_array_equal(a.final_state[name], b.final_state[name])


def test_matches_numpy_reference_with_per_neuron_parameters():
    rng = np.random.default_rng(1)
    n, steps, dt = 300, 800, 0.1
    tau = rng.uniform(5, 30, n)
    I = rng.uniform(0.5, 3, n)
    ref = np.rint(rng.uniform(0, 4, n) / dt) * dt
    r = simulate_lif(LIF(tau_m=tau, tau_ref=ref), n, steps * dt, dt, I=I, backend="parallel")
    # plain NumPy time loop with the same schedule
    np.testing.assert_array_equal(r.counts, lif_exact_counts(I, steps, tau, ref, dt))


def test_event_method_matches_analytic_rate_at_coarse_dt():
    v_in = np.array([1.001, 1.01, 1.1, 1.5, 2.0, 5.0, 10.0])
    r = simulate_lif(LIF(tau_m=20, tau_ref=2), v_in.size, 3000.0, 1.0, I=v_in, method="event", backend="cpu")
    rate = isi_stats(r)["rate_isi"]
    np.testing.assert_allclose(rate, lif_rate(v_in, 20, 2), rtol=0, atol=1e-6)
    np.testing.assert_allclose(lif_rate([1.5, 2, 5, 10], 20, 2), [41.714907, 63.040002, 154.729995, 243.474262],
                               atol=1e-6)
    assert lif_rate([0.5, 1.0], 20, 2).tolist() == [0.0, 0.0]


def test_grid_methods_overestimate_rate_by_order_dt():
    naive = firing_rate_curve(LIF(tau_m=20, tau_ref=2), [2.0], duration=2000.0, dt=1.0, method="euler")
    fine = firing_rate_curve(LIF(tau_m=20, tau_ref=2), [2.0], duration=2000.0, dt=0.1, method="exact")
    g = lif_rate(2.0, 20, 2)
    assert naive[0] > fine[0] >= g - 1 and abs(naive[0] - g) / g < 0.1


def test_convergence_orders():
    # v and the adaptation current w are coupled; compare with the exact propagator at t = 20 ms.
    m = LIF(tau_m=10, v_threshold=1e6, tau_ref=0, adaptation_jump=1.0, tau_adaptation=15, resistance=2.0)
    init = {"v": 0.5, "w": 0.8, "step": 0}

    def err(method, dt):
        ex = simulate_lif(m, 1, 20.0, dt, I=1.0, initial=dict(init), method="exact", backend="cpu")
        r = simulate_lif(m, 1, 20.0, dt, I=1.0, initial=dict(init), method=method, backend="cpu")
        return abs(r.final_state["v"][0] - ex.final_state["v"][0])

    e1, e2 = err("euler", 0.2), err("euler", 0.1)
    assert 1.8 < e1 / e2 < 2.2
    r1, r2 = err("rk4", 0.4), err("rk4", 0.2)
    assert 14 < r1 / r2 < 18


def test_equal_time_constants_stay_finite_and_exact():
    m = LIF(tau_m=10, tau_adaptation=10, adaptation_jump=1.0, v_threshold=1e6, resistance=1.0)
    r = simulate_lif(m, 1, 10.0, 0.1, I=0.0, initial={"v": 0.0, "w": 1.0, "step": 0}, backend="cpu")
    t = 10.0
    assert r.final_state["v"][0] == pytest.approx(-t / 10 * np.exp(-t / 10), rel=1e-12)  # -R w0 (t/tau) e^(-t/tau)


def test_adaptive_threshold_n11_rate_falls():
    N = 1000
    # the tutorial's equations carry no "(unless refractory)": v integrates while refractory
    m = LIF(tau_m=10, v_rest=-70, v_reset=-70, v_threshold=-50, tau_ref=5, sigma=10.0, threshold_jump=5.0,
            tau_threshold=100.0, freeze_refractory=False)
    v0 = np.random.default_rng(2).uniform(-70, -50, N)
    r = simulate_lif(m, N, 100.0, 0.1, I=40.0, v0=v0, method="euler", seed=2, backend="parallel")
    _, rate = r.population_rate(bin_ms=10.0)
    # Brian2 seed(2): 6760 spikes, 10 ms bins [122, 93, 75, 68, 63, 57, 52, 50, 51, 45] sp/s (other RNG here)
    assert 6550 < r.spike_times.size < 6970
    np.testing.assert_allclose(rate, [122, 93, 75, 68, 63, 57, 52, 50, 51, 45], atol=12)


@pytest.mark.parametrize("threads", [1, 2])
def test_noise_is_reproducible_across_backends_and_threads(threads):
    import fastkernels as fk

    m = LIF(tau_m=10, tau_ref=2, sigma=0.3)
    a = simulate_lif(m, 600, 50.0, 0.1, I=0.9, method="euler", seed=11, backend="cpu")
    with fk.num_threads(threads):
        b = simulate_lif(m, 600, 50.0, 0.1, I=0.9, method="euler", seed=11, backend="parallel")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    np.testing.assert_array_equal(a.spike_neurons, b.spike_neurons)
    c = simulate_lif(m, 600, 50.0, 0.1, I=0.9, method="euler", seed=12, backend="cpu")
    assert not np.array_equal(a.spike_neurons, c.spike_neurons)


def test_n10_noise_makes_subthreshold_neurons_fire():
    n = 100
    v0 = np.arange(n) * 3.0 / (n - 1)
    r = simulate_lif(LIF(tau_m=10, tau_ref=5, sigma=0.2), n, 1000.0, 0.1, I=v0, method="euler", seed=1,
                     backend="parallel")
    sub = r.counts[:33]
    assert 5 <= np.count_nonzero(sub) <= 30  # Brian2 seed(1): 15 of 33
    assert np.all(r.counts[v0 < 0.5] == 0) and 100 <= r.counts[-1] <= 125


def test_exact_noise_has_stationary_variance():
    r = simulate_lif(LIF(tau_m=10, sigma=0.5, v_threshold=1e6, tau_ref=0), 4000, 60.0, 0.1, I=0.0, seed=5,
                     backend="parallel")
    assert np.var(r.final_state["v"]) == pytest.approx(0.5 ** 2 / 2, rel=0.1)


def test_continue_a_run_with_initial_state():
    m = LIF(tau_m=10, tau_ref=5)
    whole = simulate_lif(m, 3, 100.0, 0.1, I=[1.2, 2.0, 3.0], backend="cpu")
    first = simulate_lif(m, 3, 40.0, 0.1, I=[1.2, 2.0, 3.0], backend="cpu")
    second = simulate_lif(m, 3, 60.0, 0.1, I=[1.2, 2.0, 3.0], initial=first.final_state, backend="cpu")
    np.testing.assert_allclose(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    assert second.t_start == pytest.approx(40.0)


def test_float32_state_gives_same_spikes_on_simple_runs():
    a = simulate_lif(LIF(tau_m=10, tau_ref=5), 20, 200.0, 0.1, I=np.linspace(1.1, 3, 20), backend="cpu")
    b = simulate_lif(LIF(tau_m=10, tau_ref=5), 20, 200.0, 0.1, I=np.linspace(1.1, 3, 20), dtype=np.float32,
                     backend="cpu")
    assert np.abs(a.counts - b.counts).max() <= 1
    assert b.final_state["v"].dtype == np.float32


def test_euler_instability_raises_naming_step_and_neuron():
    with pytest.raises(SimulationError, match="neuron 2") as info:
        simulate_lif(LIF(tau_m=[10, 10, 0.01], v_threshold=[1, 1, 1e12]), 3, 50.0, 0.1, I=0.5, v0=[0, 0, 1.0],
                     method="euler", backend="cpu")
    assert info.value.neuron == 2 and info.value.step > 0


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, err, match", [
    (dict(dt=0.0), ValueError, "dt"),
    (dict(dt=-0.1), ValueError, "dt"),
    (dict(duration=1.05), ValueError, "whole number of steps"),
    (dict(n=0), ValueError, "n must"),
    (dict(model=LIF(tau_m=0.0)), ValueError, "tau_m"),
    (dict(model=LIF(tau_m=[10.0, 20.0])), ValueError, "tau_m"),
    (dict(model=LIF(tau_ref=-1.0)), ValueError, "tau_ref"),
    (dict(model=LIF(v_threshold=np.nan)), ValueError, "v_threshold"),
    (dict(I=np.array([1.0, np.nan, 1.0])), ValueError, "I"),
    (dict(I=np.ones(5)), ValueError, "one value per neuron"),
    (dict(I=np.ones((7, 3))), ValueError, "I has shape"),
    (dict(method="rk5"), ValueError, "method"),
    (dict(model=LIF(sigma=0.1), method="rk4"), ValueError, "noise"),
    (dict(model=LIF(adaptation_jump=0.1), method="event"), ValueError, "event"),
    (dict(model=LIF(refractory_mode="float")), ValueError, "refractory_mode"),
    (dict(record=[5]), ValueError, "record"),
    (dict(record_every=0), ValueError, "record_every"),
    (dict(dtype=np.int32), TypeError, "dtype"),
    (dict(model="lif"), TypeError, "LIF"),
    (dict(v0=[0.0, 1.0]), ValueError, "v0"),
])
def test_bad_input(kwargs, err, match):
    args = dict(model=LIF(), n=3, duration=1.0, dt=0.1, I=1.5)
    args.update(kwargs)
    user_I = args["I"].copy() if isinstance(args["I"], np.ndarray) else None
    with pytest.raises(err, match=match):
        simulate_lif(args.pop("model"), args.pop("n"), args.pop("duration"), args.pop("dt"), backend="cpu", **args)
    if user_I is not None:
        np.testing.assert_array_equal(args["I"], user_I)  # a failed call leaves user data unchanged


def test_poisson_input_shot_noise_matches_campbell():
    # 100 trains at 10 Hz, jump 0.01, tau 10 ms: mean N r w tau = 0.1, variance N r w^2 tau / 2 = 5e-4
    m = LIF(tau_m=10, tau_ref=0, v_threshold=1e9, poisson_inputs=100, poisson_rate=10.0, poisson_weight=0.01)
    a = simulate_lif(m, 3000, 150.0, 0.1, I=0.0, seed=1, backend="parallel")
    v = a.final_state["v"]
    assert v.mean() == pytest.approx(0.1, rel=0.03) and v.var() == pytest.approx(5e-4, rel=0.1)
    b = simulate_lif(m, 3000, 150.0, 0.1, I=0.0, seed=1, backend="cpu")
    np.testing.assert_array_equal(a.final_state["v"], b.final_state["v"])


def test_poisson_input_drives_spikes_and_respects_reset():
    m = LIF(tau_m=10, tau_ref=2, poisson_inputs=50, poisson_rate=40.0, poisson_weight=0.1)
    r = simulate_lif(m, 200, 200.0, 0.1, I=0.0, seed=4, backend="cpu")
    assert r.spike_times.size > 0 and np.all(np.diff(r.spike_times) >= 0)


@pytest.mark.bad_input
def test_bad_poisson_input():
    from fastkernels.neurons import poisson_spike_trains

    with pytest.raises(ValueError, match="poisson_inputs"):
        simulate_lif(LIF(poisson_inputs=1.5, poisson_rate=10, poisson_weight=0.1), 2, 1.0, 0.1, backend="cpu")
    with pytest.raises(ValueError, match="poisson_rate"):
        simulate_lif(LIF(poisson_inputs=1, poisson_rate=-10, poisson_weight=0.1), 2, 1.0, 0.1, backend="cpu")
    with pytest.raises(ValueError, match="rate"):
        poisson_spike_trains([1.0, -1.0], 2, 10.0)
    with pytest.raises(ValueError, match="event"):
        simulate_lif(LIF(poisson_inputs=1, poisson_rate=10, poisson_weight=0.1), 2, 1.0, 0.1, method="event")


def test_sweeping_parameters_never_recompiles():
    from fastkernels.neurons import lif

    simulate_lif(LIF(tau_m=10.0), 8, 1.0, 0.1, I=1.5, backend="cpu")
    serial, _ = lif.grid_kernels(False, False, False, False, True, False)
    before = len(serial.signatures)
    for tau in (5.0, 12.5, 30.0):
        for I in (0.5, 2.0):
            simulate_lif(LIF(tau_m=tau, tau_ref=tau / 5), 8, 1.0, 0.1, I=I, backend="cpu")
    assert len(serial.signatures) == before


@pytest.mark.parametrize("mode, freeze, adapt", [("steps", True, False), ("legacy_float", False, True)])
def test_per_neuron_parameters_equal_separate_uniform_runs(mode, freeze, adapt):
    taus, refs, I = [5.0, 10.0, 20.0], [1.0, 2.5, 4.0], [1.5, 2.0, 3.0]
    extra = dict(threshold_jump=0.2, adaptation_jump=0.3) if adapt else {}
    both = simulate_lif(LIF(tau_m=taus, tau_ref=refs, freeze_refractory=freeze, refractory_mode=mode, **extra), 3,
                        100.0, 0.1, I=I, backend="cpu")
    for i in range(3):
        one = simulate_lif(LIF(tau_m=taus[i], tau_ref=refs[i], freeze_refractory=freeze, refractory_mode=mode,
                               **extra), 1, 100.0, 0.1, I=I[i], backend="cpu")
        np.testing.assert_array_equal(both.spike_train(i), one.spike_times)


# ---------------------------------------------------------------- the private count-only mode
# (the lif_population benchmark's "count only" bound)

@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("model, kw", [
    (LIF(tau_m=10.0, tau_ref=2.0), {}),
    (LIF(tau_m=10.0, tau_ref=2.0, sigma=0.3), dict(seed=4)),
    (LIF(tau_m=np.linspace(5.0, 20.0, 600), tau_ref=2.0, threshold_jump=0.1, adaptation_jump=0.2), {}),
])
def test_count_only_counts_equal_the_recorded_spikes(model, kw, backend):
    n = 600  # three blocks, the last one partial
    I = np.random.default_rng(0).uniform(0.5, 2.0, n)
    ref = simulate_lif(model, n, 50.0, 0.1, I=I, backend=backend, **kw)
    counts = run_lif(model, n, 50.0, 0.1, I=I, backend=backend, count_only=True, **kw)
    assert counts.dtype == np.int64 and counts.shape == (n,)
    assert counts.sum() > 0
    np.testing.assert_array_equal(counts, ref.counts)


def test_count_only_refuses_the_event_method_and_cuda():
    with pytest.raises(ValueError, match="count_only"):
        run_lif(LIF(), 10, 1.0, 0.1, I=1.5, method="event", backend="cpu", count_only=True)


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
@pytest.mark.parametrize("method", ["exact", "euler", "rk4"])
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("I", [1e10, 1e12, 1e100, 1e308])
def test_huge_drive_spikes_at_every_allowed_step(method, backend, I):
    # The step's runaway test read v before the reset, while the kernel looked for the bad neuron
    # after it: the step was dropped without an error, with its spike. Now a spike, every 2 ms.
    r = simulate_lif(LIF(), 2, 6.0, 0.1, I=I, method=method, backend=backend)
    np.testing.assert_array_equal(r.spike_times, [0.0, 0.0, 2.0, 2.0, 4.0, 4.0])
    np.testing.assert_array_equal(r.spike_neurons, [0, 1, 0, 1, 0, 1])
    assert np.isfinite(r.final_state["v"]).all()


@pytest.mark.bad_input
def test_huge_drive_spikes_with_the_event_method_and_noise():
    r = simulate_lif(LIF(), 2, 6.0, 0.1, I=1e12, method="event", backend="cpu")
    np.testing.assert_allclose(r.spike_train(0), [0.0, 2.0, 4.0], atol=1e-9)
    r = simulate_lif(LIF(sigma=0.1), 2, 6.0, 0.1, I=1e12, seed=1, backend="cpu")
    np.testing.assert_array_equal(r.spike_train(1), [0.0, 2.0, 4.0])


@pytest.mark.bad_input
@pytest.mark.parametrize("I", [-1e12, -1e308])
def test_huge_negative_drive_raises_simulation_error(I):
    with pytest.raises(SimulationError) as info:
        simulate_lif(LIF(), 3, 1.0, 0.1, I=[1.0, I, 1.0], backend="cpu")
    assert info.value.neuron == 1 and info.value.step == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("tau_ref", [1e300, 1e6, [2.0, 1e300], float(2**63)])
@pytest.mark.parametrize("method", ["exact", "event"])
def test_tau_ref_whose_step_count_overflows_is_refused(tau_ref, method):
    # 1e300 ms went through an invalid cast to int64 (a RuntimeWarning) and was then ignored.
    model = LIF(tau_ref=tau_ref)
    exc = _raises_naming(lambda: simulate_lif(model, 2, 1.0, 0.1, I=2.0, method=method, backend="cpu"), "tau_ref")
    assert "8388608" in str(exc)


@pytest.mark.bad_input
@pytest.mark.parametrize("seed", ["0", 1.5, -1, [0], True, np.random.RandomState(0)])
def test_wrong_seed_refused_without_noise(seed):
    _raises_naming(lambda: simulate_lif(LIF(), 2, 1.0, 0.1, I=2.0, seed=seed, backend="cpu"), "seed")
    _raises_naming(lambda: firing_rate_curve(LIF(), [1.5], duration=10.0, seed=seed), "seed")


@pytest.mark.bad_input
def test_failed_call_leaves_a_generator_seed_unchanged():
    gen = np.random.default_rng(5)
    before = gen.bit_generator.state
    with pytest.raises(ValueError, match="record"):
        simulate_lif(LIF(sigma=0.2), 2, 1.0, 0.1, seed=gen, record=[7], backend="cpu")
    with pytest.raises(SimulationError):
        simulate_lif(LIF(sigma=1e300), 2, 1.0, 0.1, seed=gen, backend="cpu")
    assert gen.bit_generator.state == before


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    (dict(n=10**12), "n"), (dict(n=2**70), "n"), (dict(duration=1e300), "duration"), (dict(dt=5e-324), "duration"),
    (dict(t_start=1e300), "t_start"), (dict(initial={"v": 0.0, "step": 2**62}), "initial"),
    (dict(record_every=2**64), "record_every"), (dict(n=1000, duration=1e9, dt=0.01, record=True), "record"),
    (dict(duration=1e13, dt=0.01, I=lambda t: np.ones_like(t)), "duration"),
])
def test_sizes_and_step_counts_that_cannot_work_are_refused_up_front(kwargs, name):
    # int overflows, NumPy's "array is too big" and MemoryError before; now a ValueError naming the limit
    args = dict(n=2, duration=1.0, dt=0.1, I=2.0)
    args.update(kwargs)
    _raises_naming(lambda: simulate_lif(LIF(), args.pop("n"), args.pop("duration"), args.pop("dt"), backend="cpu",
                                        **args), name)


@pytest.mark.bad_input
@pytest.mark.parametrize("kwargs, name", [
    (dict(I=1e39), "I"), (dict(model=LIF(v_threshold=1e39)), "v_threshold"),
    (dict(model=LIF(resistance=1e38), I=10.0), "resistance"), (dict(v0=1e10), "v0"),
])
def test_float32_runs_refuse_values_the_cast_would_make_infinite(kwargs, name):
    args = dict(model=LIF(), I=2.0, dtype=np.float32)
    args.update(kwargs)
    _raises_naming(lambda: simulate_lif(args.pop("model"), 2, 1.0, 0.1, backend="cpu", **args), name)


@pytest.mark.bad_input
@pytest.mark.parametrize("model, method, name", [
    (LIF(tau_m=5e-324), "euler", "tau_m"), (LIF(tau_m=1e-100), "rk4", "tau_m"),
    (LIF(poisson_inputs=1e300, poisson_rate=1e300, poisson_weight=0.1), "exact", "poisson_rate"),
    (LIF(v_reset=-1e10), "exact", "v_reset"),
])
def test_parameters_that_break_the_integration_are_refused(model, method, name):
    _raises_naming(lambda: simulate_lif(model, 2, 1.0, 0.1, I=2.0, method=method, seed=0, backend="cpu"), name)


@pytest.mark.bad_input
def test_exact_coupling_stays_finite_when_dt_spans_many_time_constants():
    # c = -R h exp(-h) exprel(h - hw) was 0 * inf = NaN (a SimulationError) for tau_m << dt
    r = simulate_lif(LIF(tau_m=1e-3, adaptation_jump=0.5, tau_adaptation=50.0), 1, 50.0, 1.0, I=0.5, backend="cpu")
    assert np.isfinite(r.final_state["v"]).all() and np.isfinite(r.final_state["w"]).all()
    # v follows its fixed point v_rest + R (I - w) at once: with w decaying from its start at 0, v = I
    assert r.final_state["v"][0] == pytest.approx(0.5, abs=1e-12)


@pytest.mark.bad_input
def test_event_method_refuses_more_spikes_per_step_than_its_buffers_hold():
    # fired more than the 65536 the bound was silently capped at: a SimulationError after
    # allocating 1 GiB of buffers per block
    _raises_naming(lambda: simulate_lif(LIF(tau_ref=1e-7), 1, 1.0, 0.1, I=1e9, method="event", backend="cpu"),
                   "tau_ref")


@pytest.mark.bad_input
def test_event_method_bounds_spikes_with_a_negative_resistance():
    # the bound used the largest input only: with R < 0 the smallest input drives hardest
    I = np.tile([[5.0], [-5.0]], (5, 1))
    r = simulate_lif(LIF(resistance=-1.0, tau_ref=0.01), 1, 1000.0, 100.0, I=I, method="event", backend="cpu")
    per_step = np.bincount((r.spike_times // 100).astype(int), minlength=10)
    assert per_step[1::2].min() > 2 and per_step[0] == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("record", [1.5, "0", [0.5], 2**64, np.array([True]), [None]])
def test_malformed_record_names_the_argument(record):
    _raises_naming(lambda: simulate_lif(LIF(), 2, 1.0, 0.1, I=2.0, record=record, backend="cpu"), "record")


@pytest.mark.bad_input
def test_record_accepts_numpy_bools_and_empty_lists():
    r = simulate_lif(LIF(), 2, 1.0, 0.1, I=2.0, record=np.True_, backend="cpu")
    assert r.trace_neurons.tolist() == [0, 1]
    assert simulate_lif(LIF(), 2, 1.0, 0.1, I=2.0, record=[], backend="cpu").trace_neurons.size == 0


@pytest.mark.bad_input
@pytest.mark.parametrize("field, bad", [("poisson_inputs", [1, 2, 3]), ("threshold_jump", "x"),
                                        ("adaptation_jump", np.nan)])
def test_model_properties_name_a_bad_field(field, bad):
    model = LIF(**{field: bad}, poisson_rate=[1.0, 2.0]) if field == "poisson_inputs" else LIF(**{field: bad})
    prop = "has_poisson_input" if field.startswith("poisson") else "adapts"
    _raises_naming(lambda: getattr(model, prop), field)
    _raises_naming(lambda: model.arrays("3"), "n")


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("kind", ["plain", "per_neuron_noisy_poisson_adapting"])
def test_synaptic_ring_equals_the_same_input_as_a_matrix(backend, kind):
    # The engine's synaptic hook on the LIF (what spiking networks build on): a (n_steps, n) ring
    # of per-step input, added to the drive before the threshold test, gives bit for bit the run
    # with that input as an (n_steps, n) input matrix.
    n, steps = 300, 400
    per_step = np.random.default_rng(3).uniform(0.0, 2.5, (steps, n))
    extra = {} if kind == "plain" else dict(tau_m=np.linspace(8.0, 20.0, n), sigma=0.2, threshold_jump=0.1,
                                            adaptation_jump=0.05, poisson_inputs=5, poisson_rate=40.0,
                                            poisson_weight=0.05)
    model = LIF(**{"tau_m": 10.0, **extra})
    kw = dict(seed=5, record=[0, 255, 299], backend=backend)
    ref = run_lif(model, n, steps * 0.1, 0.1, I=per_step, **kw)
    got = run_lif(model, n, steps * 0.1, 0.1, syn=per_step, **kw)
    assert ref.spike_times.size > 0
    np.testing.assert_array_equal(got.spike_times, ref.spike_times)
    np.testing.assert_array_equal(got.spike_neurons, ref.spike_neurons)
    assert set(got.traces) == set(ref.traces) == ({"v"} if kind == "plain" else {"v", "v_threshold", "w"})
    for name in ("v", "v_threshold", "w"):
        if name in ref.traces:
            np.testing.assert_array_equal(got.traces[name], ref.traces[name])
        np.testing.assert_array_equal(got.final_state[name], ref.final_state[name])
    counts = run_lif(model, n, steps * 0.1, 0.1, syn=per_step, count_only=True, seed=5, backend=backend)
    np.testing.assert_array_equal(counts, ref.counts)


def test_synaptic_ring_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match="syn"):
        run_lif(LIF(), 4, 1.0, 0.1, syn=np.zeros((2, 3)), backend="cpu")
    with pytest.raises(ValueError, match="syn"):
        run_lif(LIF(), 4, 1.0, 0.1, syn=np.zeros((2, 4)), method="event", backend="cpu")


def test_a_uniform_models_prepared_parameters_are_reused_only_for_the_same_values():
    from fastkernels.neurons import lif as lif_module

    lif_module._PREPARED.clear()
    I = np.linspace(0.5, 3.0, 40)
    model = LIF(tau_m=10.0, tau_ref=2.0)
    first = simulate_lif(model, 40, 50.0, 0.1, I=I, backend="cpu")
    assert len(lif_module._PREPARED) == 1
    again = simulate_lif(model, 40, 50.0, 0.1, I=I, backend="cpu")  # from the cache: the same run
    np.testing.assert_array_equal(again.spike_times, first.spike_times)
    np.testing.assert_array_equal(again.spike_neurons, first.spike_neurons)
    model.tau_m = 20.0  # a changed field is a new key, never a stale hit
    slower = simulate_lif(model, 40, 50.0, 0.1, I=I, backend="cpu")
    fresh = simulate_lif(LIF(tau_m=20.0, tau_ref=2.0), 40, 50.0, 0.1, I=I, backend="cpu")
    np.testing.assert_array_equal(slower.counts, fresh.counts)
    assert slower.counts.sum() < first.counts.sum() and len(lif_module._PREPARED) == 2
    # -0.0 and 0.0 differ in their last bit: two keys
    keys = {lif_module._prepared_key(LIF(v_reset=x), 0.1, "exact", np.dtype(np.float64)) for x in (0.0, -0.0)}
    assert len(keys) == 2
    # per-neuron arrays and NumPy scalars are not cached; neither is a model that fails its checks
    assert lif_module._prepared_key(LIF(tau_m=np.float64(10.0)), 0.1, "exact", np.dtype(np.float64)) is None
    assert lif_module._prepared_key(LIF(tau_m=np.full(3, 10.0)), 0.1, "exact", np.dtype(np.float64)) is None

    @dataclasses.dataclass
    class Shifted(LIF):  # a subclass may add fields the key would not see
        shift: float = 0.0

    assert lif_module._prepared_key(Shifted(), 0.1, "exact", np.dtype(np.float64)) is None
    for _ in range(2):
        with pytest.raises(ValueError, match="tau_m"):
            simulate_lif(LIF(tau_m=-1.0), 4, 1.0, 0.1)
    assert len(lif_module._PREPARED) == 2
    # the cached parameters are read-only, and the cache is bounded
    assert not any(a.flags.writeable for a in next(iter(lif_module._PREPARED.values()))[0].values())
    for k in range(lif_module._PREPARED_MAX + 3):
        simulate_lif(LIF(tau_m=5.0 + k), 2, 0.2, 0.1, backend="cpu")
    assert len(lif_module._PREPARED) == lif_module._PREPARED_MAX
