"""Contract tests of fastkernels.neurons (docs/CONTRACT.md): every public function and method driven with
generated bad and edge inputs.

A bad input must raise TypeError/ValueError naming the argument (or the parameter field), leave the
caller's arrays, models and random generators unchanged, and be refused before anything runs; a call
that returns on edge input must give a self-consistent result (spikes sorted, inside the run, ids in
range, states finite and within the documented limits) or match a reference (the analytic LIF rate,
plain formulas); a state that blows up during a run raises SimulationError. Populations are tiny and
runs a few steps long, so the module runs in well under a minute with a warm Numba cache.
"""

import dataclasses
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from fastkernels.neurons import (HH, LIF, Izhikevich, SimulationError, SimulationResult, firing_rate_curve,
                                 isi_stats, lif_rate, plots, poisson_spike_trains, population_rate, simulate_hh,
                                 simulate_izhikevich, simulate_lif, temperature_factor)

from .harness import (Snapshot, bad_scalars, bad_seeds, fails_cleanly, layout_variants, odd_float_arrays,
                      raises_naming, wrong_dtype_arrays)

COVERS = {
    "simulate_lif", "simulate_hh", "simulate_izhikevich",
    "LIF", "LIF.physical", "LIF.numeric_fields", "LIF.arrays", "LIF.has_poisson_input", "LIF.adapts",
    "HH", "HH.modern", "HH.hh1952", "HH.arrays", "HH.rates", "HH.steady_state",
    "Izhikevich", "Izhikevich.regular_spiking", "Izhikevich.fast_spiking", "Izhikevich.chattering",
    "Izhikevich.intrinsically_bursting", "Izhikevich.arrays",
    "SimulationError", "SimulationResult", "SimulationResult.counts", "SimulationResult.rates",
    "SimulationResult.spike_train", "SimulationResult.spike_trains", "SimulationResult.population_rate",
    "SimulationResult.isi",
    "firing_rate_curve", "lif_rate", "isi_stats", "population_rate", "poisson_spike_trains", "temperature_factor",
    "plots", "plots.raster", "plots.trace", "plots.fi_curve",
}

N = 3
# kind -> (model class, simulator, dt, steps, methods, state limit of v, a valid input)
MODELS = {
    "lif": (LIF, simulate_lif, 0.1, 10, ("exact", "euler", "rk4", "event"), 1e9, 1.5),
    "hh": (HH, simulate_hh, 0.01, 10, ("rk4", "euler", "exponential_euler"), 1e3, 10.0),
    "izh": (Izhikevich, simulate_izhikevich, 0.1, 10, ("euler", "rk4"), 1e9, 10.0),
}
KINDS = sorted(MODELS)
NUMERIC_FIELDS = {
    "lif": LIF.numeric_fields(),
    "hh": tuple(f.name for f in dataclasses.fields(HH)),
    "izh": tuple(f.name for f in dataclasses.fields(Izhikevich)),
}


class ModelSnapshot:
    """A model's fields before a call: arrays by value, anything else by identity (an object()
    field does not survive the harness's pickling copy)."""

    def __init__(self, model):
        self.model = model
        self.saved = {f.name: (getattr(model, f.name), np.array(getattr(model, f.name), copy=True)
                               if isinstance(getattr(model, f.name), np.ndarray) else None)
                      for f in dataclasses.fields(model)}

    def assert_unchanged(self):
        for name, (obj, arr) in self.saved.items():
            now = getattr(self.model, name)
            assert now is obj, f"model.{name} was replaced"
            if arr is not None:
                assert arr.dtype == now.dtype and np.array_equal(arr, now, equal_nan=arr.dtype.kind in "fc"), name


def not_none(strategy):
    return strategy.filter(lambda x: x is not None)


def run(kind, model=None, **kw):
    cls, sim, dt, steps, methods, _, I = MODELS[kind]
    args = dict(n=N, duration=steps * dt, dt=dt, I=I, backend="cpu")
    args.update(kw)
    return sim(cls() if model is None else model, args.pop("n"), args.pop("duration"), args.pop("dt"), **args)


def assert_consistent(res, kind, n=N):
    """A result that was returned must be self-consistent: never a silent wrong answer."""
    limit = MODELS[kind][5]
    assert isinstance(res, SimulationResult) and res.n == n
    t, i = res.spike_times, res.spike_neurons
    assert t.dtype == np.float64 and i.dtype == np.int64 and t.shape == i.shape
    assert np.isfinite(t).all()
    assert ((i >= 0) & (i < n)).all()
    order = np.lexsort((i, t))
    assert (order == np.arange(t.size)).all(), "spikes not sorted by (time, neuron)"
    end = res.t_start + res.duration
    assert (t >= res.t_start).all() and (t <= end + 1e-9 * max(1.0, abs(end))).all()
    assert res.counts.sum() == t.size
    for name, value in res.final_state.items():
        if name == "step":
            continue
        assert np.isfinite(value).all(), name
    assert (np.abs(res.final_state["v"]) <= limit).all()
    for name, tr in res.traces.items():
        assert np.isfinite(tr).all(), name


# ---------------------------------------------------------------- simulate_*: run arguments

@pytest.mark.parametrize("kind", KINDS)
@given(arg=st.sampled_from(["n", "duration", "dt", "record_every", "t_start"]), data=st.data())
def test_simulate_bad_scalar_arguments_refused(kind, arg, data):
    integer = arg in ("n", "record_every")
    bad = data.draw(bad_scalars(integer=integer))
    if arg == "t_start" and isinstance(bad, float) and math.isinf(bad):
        pass  # refused as well
    I = np.linspace(1.0, 2.0, N) * MODELS[kind][6]
    model = MODELS[kind][0]()
    fails_cleanly(lambda: run(kind, model, I=I, **{arg: bad}), arg, I=I, model=model)


@pytest.mark.parametrize("kind", KINDS)
@given(case=st.sampled_from([("n", 0), ("n", -1), ("n", 10**12), ("n", 2**62), ("n", 2**70),
                             ("dt", 0.0), ("dt", -0.1), ("dt", 5e-324), ("duration", -1.0), ("duration", 1e300),
                             ("duration", 0.15), ("record_every", 0), ("t_start", 1e300), ("t_start", -1e300)]))
def test_simulate_out_of_range_and_huge_run_arguments_refused_up_front(kind, case):
    arg, value = case
    kw = {arg: value}
    if arg == "duration" and value == 0.15:
        kw["dt"] = 0.1  # not a whole number of steps
    exc = raises_naming(lambda: run(kind, **kw), arg)
    if arg == "n" and value > 10**6:
        assert "memory" in str(exc) or "addressed" in str(exc)


@pytest.mark.parametrize("kind", KINDS)
@given(arg=st.sampled_from(["method", "backend", "dtype"]),
       bad=st.sampled_from([None, "nope", 1, ["cpu"], True, "float16", np.int32, object(), "CPU", "gpu"]))
def test_simulate_bad_names_refused(kind, arg, bad):
    if arg == "dtype" and bad in ("nope",):
        pass
    raises_naming(lambda: run(kind, **{arg: bad}), arg)


@pytest.mark.parametrize("kind", KINDS)
@given(seed=bad_seeds())
def test_seed_refused_even_when_no_noise_is_simulated(kind, seed):
    raises_naming(lambda: run(kind, seed=seed), "seed")


@pytest.mark.parametrize("kind", KINDS)
def test_a_failed_call_leaves_a_generator_seed_unchanged(kind):
    cls = MODELS[kind][0]
    noisy = cls(sigma=0.5)
    gen = np.random.default_rng(7)
    before = gen.bit_generator.state
    raises_naming(lambda: run(kind, noisy, seed=gen, method="euler", record=[N]), "record")
    assert gen.bit_generator.state == before
    # a run that blows up after drawing its key: the generator is restored too
    huge = cls(sigma=1e300)
    with pytest.raises(SimulationError):
        run(kind, huge, seed=gen, method="euler")
    assert gen.bit_generator.state == before
    run(kind, noisy, seed=gen, method="euler")  # a successful call draws one key
    assert gen.bit_generator.state != before


# ---------------------------------------------------------------- simulate_*: parameter fields

def wrong_field_values():
    return st.one_of(bad_scalars(), st.sampled_from([np.array([1.0, 2.0]), np.ones((N, 1)), np.ones(N, bool),
                                                     np.ones(N, np.complex128), [[1.0] * N], np.array(["a"] * N),
                                                     np.array([1.0, np.nan, 1.0]), np.uint64(2**63)]))


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_bad_parameter_field_refused_by_every_user(kind, data):
    field = data.draw(st.sampled_from(NUMERIC_FIELDS[kind]))
    bad = data.draw(wrong_field_values())
    cls = MODELS[kind][0]
    model = cls(**{field: bad})
    I = np.full(N, MODELS[kind][6])
    snap = ModelSnapshot(model)
    fails_cleanly(lambda: run(kind, model, I=I), field, I=I)
    raises_naming(lambda: model.arrays(N), field)
    raises_naming(lambda: firing_rate_curve(model, [1.0, 2.0, 3.0], duration=1.0), field)
    snap.assert_unchanged()


@given(field=st.sampled_from(["freeze_refractory", "refractory_mode"]),
       bad=st.sampled_from([None, 1, 0, "yes", "float", ["steps"], np.array([True]), object()]))
def test_lif_flag_fields_refused(field, bad):
    # The shared flag rule (fastkernels._validate.check_flag) accepts the integers 0 and 1.
    assume(not (field == "freeze_refractory" and type(bad) is int))
    model = LIF(**{field: bad})
    snap = ModelSnapshot(model)
    raises_naming(lambda: run("lif", model), field)
    raises_naming(lambda: model.arrays(2), field)
    snap.assert_unchanged()


EDGE_VALUES = [1e308, -1e308, 1e300, -1e300, 5e-324, 1e-300, 3.5e38, 1e39, 0.0, -0.0, 1e12, -1e12,
               float(2**63 - 1), 2**62, -1e9]


@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_edge_parameter_magnitudes_are_refused_or_give_a_consistent_result(kind, data):
    """Any finite value: refused naming the field (or the derived quantity it breaks), or a
    SimulationError when the state blows up, or a result that is self-consistent."""
    field = data.draw(st.sampled_from(NUMERIC_FIELDS[kind]))
    value = data.draw(st.sampled_from(EDGE_VALUES))
    methods = MODELS[kind][4]
    method = data.draw(st.sampled_from(methods))
    dtype = data.draw(st.sampled_from([np.float64, np.float32]))
    model = MODELS[kind][0](**{field: value})
    if kind == "izh" and field in ("c", "v_peak"):
        model = dataclasses.replace(model, c=min(value, -65.0) if field == "c" else -65.0)
    snap = ModelSnapshot(model)
    try:
        res = run(kind, model, method=method, dtype=dtype, seed=1, record=True)
    except SimulationError as exc:
        assert exc.step >= 0 and 0 <= exc.neuron < N
    except (TypeError, ValueError) as exc:
        msg = str(exc)
        assert field in msg or "I" in msg or "method" in msg or "noise" in msg, msg
    else:
        assert_consistent(res, kind)
    snap.assert_unchanged()


@pytest.mark.parametrize("kind", ["hh", "izh"])
@given(data=st.data())
def test_float32_parameters_beyond_its_range_are_refused(kind, data):
    """HH and Izhikevich integrate in float32 for ``dtype=float32``: a parameter beyond float32's range is
    refused up front, naming the field (directly, through a derived coefficient or a limit), never turned
    into inf. (C_m enters the kernels as 1 / C_m: it is drawn as the inverse, a tiny capacitance.)"""
    field = data.draw(st.sampled_from(NUMERIC_FIELDS[kind]))
    value = data.draw(st.sampled_from([3.5e38, -3.5e38, 1e39, -1e39, 1e300, -1e308]))
    if field == "C_m":
        value = 1.0 / value
    model = MODELS[kind][0](**{field: value})
    snap = ModelSnapshot(model)
    raises_naming(lambda: run(kind, model, dtype=np.float32, method="euler"), field)
    snap.assert_unchanged()


@pytest.mark.parametrize("kind", ["hh", "izh"])
def test_float32_runs_integrate_in_float32(kind):
    """dtype=float32: the state, traces and final state are float32, spike times float64; the run is the
    same on the serial and parallel backends, bit for bit."""
    a = run(kind, dtype=np.float32, record=True, duration=400 * MODELS[kind][2], backend="cpu")
    b = run(kind, dtype=np.float32, record=True, duration=400 * MODELS[kind][2], backend="parallel")
    assert_consistent(a, kind)
    assert a.spike_times.dtype == np.float64 and a.spike_times.size > 0
    for name, value in a.final_state.items():
        if name != "step":
            assert value.dtype == np.float32
            np.testing.assert_array_equal(value, b.final_state[name])
    assert all(tr.dtype == np.float32 for tr in a.traces.values())
    np.testing.assert_array_equal(a.spike_times, b.spike_times)


@pytest.mark.parametrize("method", ["exact", "euler", "rk4", "event"])
@given(I=st.sampled_from([1e9, 1e12, 1e20, 1e100, 1e300, 1.7e308]), dtype=st.sampled_from([np.float64, np.float32]))
def test_lif_huge_drive_spikes_at_every_allowed_step(method, I, dtype):
    if dtype == np.float32 and I > 3.4e38:
        raises_naming(lambda: run("lif", I=I, method=method, dtype=dtype, duration=6.0), "I")
        return
    res = run("lif", I=I, method=method, dtype=dtype, duration=6.0)  # tau_ref 2 ms: fires at 0, 2, 4 ms
    assert_consistent(res, "lif")
    if method == "event":  # continuous times just after 0, 2, 4 ms (a crossing at the end may round to 6.0)
        assert np.allclose(res.spike_train(0)[:3], [0.0, 2.0, 4.0], atol=1e-6)
    else:
        np.testing.assert_array_equal(res.spike_train(0), [0.0, 2.0, 4.0])


@pytest.mark.parametrize("kind", KINDS)
@given(I=st.sampled_from([-1e12, 1e12, -1e308, 1e308]), method=st.sampled_from(["a", "b"]))
def test_runaway_states_raise_simulation_error(kind, I, method):
    methods = MODELS[kind][4]
    method = methods[0] if method == "a" else methods[1]
    if kind == "lif" and I > 0:
        assert_consistent(run(kind, I=I, method=method), kind)  # a spike, not a runaway
        return
    with pytest.raises(SimulationError) as info:
        run(kind, I=np.array([1.0, I, 1.0]), method=method)
    assert info.value.neuron == 1 and info.value.step == 0 and info.value.time == 0.0


# ---------------------------------------------------------------- simulate_*: arrays

@pytest.mark.parametrize("kind", KINDS)
@given(data=st.data())
def test_bad_input_current_refused(kind, data):
    n_steps = MODELS[kind][3]
    bad = data.draw(st.one_of(
        wrong_dtype_arrays((N,), accept=(np.float64, np.float32, np.int64, np.int32)),
        not_none(bad_scalars()).filter(lambda x: not isinstance(x, list)),
        st.sampled_from([np.ones(N + 1), np.ones((n_steps + 1, N)), np.ones((n_steps, N, 1)), np.ones((2, N)),
                         [1.0, [2.0, 3.0]], lambda t: "abc", lambda t: np.ones(5), lambda t: t * np.nan,
                         lambda t: [object()] * t.size, lambda t: np.ones((t.size, N + 1)), np.array(1e39)]),
    ))
    if isinstance(bad, np.ndarray) and bad.shape == () and bad == 1e39:
        raises_naming(lambda: run(kind, I=bad, dtype=np.float32), "I")  # beyond float32 in a float32 run
        return
    snap = Snapshot(I=bad) if isinstance(bad, np.ndarray) else None
    raises_naming(lambda: run(kind, I=bad), "I")
    if snap:
        snap.assert_unchanged()


@pytest.mark.parametrize("kind", KINDS)
@given(I=st.one_of(odd_float_arrays((N,), dtype=np.float64), odd_float_arrays((N,), dtype=np.float32),
                   st.sampled_from([np.full(N, np.iinfo(np.int64).max), np.full(N, np.iinfo(np.int64).min),
                                    np.array([0, 2**31 - 1, -(2**31)], np.int32), np.zeros((MODELS["lif"][3], 1)),
                                    np.full((1, N), 1e308)])))
def test_odd_input_values_refused_or_simulated(kind, I):
    snap = Snapshot(I=I)
    if not np.isfinite(I).all():
        raises_naming(lambda: run(kind, I=I), "I")
    else:
        try:
            res = run(kind, I=I)
        except SimulationError:
            pass  # e.g. 1.8e308 drives HH and Izhikevich out of range at once
        else:
            assert_consistent(res, kind)
    snap.assert_unchanged()


@pytest.mark.parametrize("kind", KINDS)
@given(which=st.sampled_from(["readonly", "fortran", "strided", "list"]))
def test_input_layouts_give_the_contiguous_result(kind, which):
    n_steps = MODELS[kind][3]
    I = np.linspace(0.5, 2.0, n_steps * N).reshape(n_steps, N) * MODELS[kind][6]
    ref = run(kind, I=I)
    got = run(kind, I=layout_variants(I)[which])
    np.testing.assert_array_equal(got.spike_times, ref.spike_times)
    np.testing.assert_array_equal(got.final_state["v"], ref.final_state["v"])


@pytest.mark.parametrize("kind", KINDS)
@given(which=st.sampled_from(["readonly", "fortran", "strided", "list"]), data=st.data())
def test_per_neuron_parameter_layouts_give_the_contiguous_result(kind, which, data):
    field = {"lif": "tau_m", "hh": "g_K", "izh": "d"}[kind]
    values = {"lif": np.array([5.0, 10.0, 20.0]), "hh": np.array([36.0, 30.0, 40.0]), "izh": np.array([8.0, 2.0, 4.0])}
    base = values[kind]
    cls = MODELS[kind][0]
    I = np.array([1.0, 2.0, 3.0]) * MODELS[kind][6]
    ref = run(kind, cls(**{field: base}), I=I, duration=50 * MODELS[kind][2])
    variant = layout_variants(base)[which]
    model = cls(**{field: variant})
    snap = Snapshot(variant=variant)
    got = run(kind, model, I=I, duration=50 * MODELS[kind][2])
    snap.assert_unchanged()
    np.testing.assert_array_equal(got.spike_times, ref.spike_times)
    np.testing.assert_array_equal(got.final_state["v"], ref.final_state["v"])


@pytest.mark.parametrize("kind", KINDS)
def test_cuda_backend_without_a_gpu_is_a_documented_error(kind):
    import fastkernels as fk

    if fk.cuda_available():
        pytest.skip("a GPU (or the simulator) is present")
    gen = np.random.default_rng(1)
    before = gen.bit_generator.state
    with pytest.raises(fk.BackendUnavailableError):
        run(kind, MODELS[kind][0](sigma=0.1), method="euler", seed=gen, backend="cuda")
    assert gen.bit_generator.state == before


@pytest.mark.parametrize("kind", KINDS)
@given(arg=st.sampled_from(["v0", "u0"]), data=st.data())
def test_bad_initial_potential_refused(kind, arg, data):
    if arg == "u0" and kind != "izh":
        arg = "v0"
    limit = MODELS[kind][5]
    bad = data.draw(st.one_of(not_none(bad_scalars()), st.sampled_from([np.ones(N + 1), np.ones((N, 1)), 2 * limit,
                                                               [0.0, -2 * limit, 0.0], np.array(["x"] * N)])))
    snap = Snapshot(bad=bad) if isinstance(bad, np.ndarray) else None
    raises_naming(lambda: run(kind, **{arg: bad}), arg)
    if snap:
        snap.assert_unchanged()


@pytest.mark.parametrize("kind", KINDS)
@given(bad=st.sampled_from([
    [1, 2], "state", 5, {"v": 0.0}, {"step": 0}, {"v": np.nan, "u": 0.0, "step": 0}, {"v": 0.0, "u": 0.0, "step": 2.5},
    {"v": 0.0, "u": 0.0, "step": 2**62}, {"v": 0.0, "u": 0.0, "step": "1"}, {"v": [0.0, 0.0], "u": 0.0, "step": 0},
    {"v": 1e15, "u": 0.0, "step": 0}, {"v": 0.0, "u": 0.0, "step": True}]))
def test_bad_initial_state_refused(kind, bad):
    snap = Snapshot(bad=bad)
    raises_naming(lambda: run(kind, initial=bad), "initial")
    snap.assert_unchanged()


@pytest.mark.parametrize("kind", KINDS)
def test_continuing_from_a_final_state_equals_one_long_run(kind):
    whole = run(kind, duration=20 * MODELS[kind][2], I=np.array([1.0, 2.0, 3.0]) * MODELS[kind][6])
    first = run(kind, duration=10 * MODELS[kind][2], I=np.array([1.0, 2.0, 3.0]) * MODELS[kind][6])
    snap = Snapshot(state=first.final_state)
    second = run(kind, initial=first.final_state, I=np.array([1.0, 2.0, 3.0]) * MODELS[kind][6])
    snap.assert_unchanged()
    np.testing.assert_array_equal(np.concatenate([first.spike_times, second.spike_times]), whole.spike_times)
    np.testing.assert_array_equal(second.final_state["v"], whole.final_state["v"])


@pytest.mark.parametrize("kind", KINDS)
@given(bad=st.sampled_from([1.5, "0", [0.5], [N], [-1], object(), {"a": 1}, np.array([True]), 2**64, [2**63],
                            np.array([[0, N]]), np.float64(1.0), [None], "V", ["v", 0], ["v", "nope"], ("v", None)]))
def test_bad_record_refused(kind, bad):
    raises_naming(lambda: run(kind, record=bad), "record")


@pytest.mark.parametrize("kind", KINDS)
@given(record=st.sampled_from([True, np.True_, False, None, 0, [2, 0, 2], np.array([1], np.uint8), [], np.int64(2),
                               "v", ["v"], ("v", "v")]),
       every=st.sampled_from([1, 3, 10, 2**40, 2**63 - 1]))
def test_record_forms_and_strides(kind, record, every):
    res = run(kind, record=record, record_every=every)
    assert_consistent(res, kind)
    if isinstance(record, (str, tuple)) or (isinstance(record, list) and record and isinstance(record[0], str)):
        assert list(res.traces) == ["v"] and res.trace_neurons.tolist() == list(range(N))  # Brian2's record="v"
    steps = MODELS[kind][3]
    rows = (steps - 1) // min(every, steps) + 1
    for tr in res.traces.values():
        assert tr.shape == (res.trace_neurons.size, rows)
    assert res.trace_times.shape == (rows,)


@pytest.mark.parametrize("kind", KINDS)
def test_huge_traces_and_callable_grids_refused_up_front(kind):
    exc = raises_naming(lambda: run(kind, n=1000, duration=1e9, dt=0.01, record=True), "record")
    assert "memory" in str(exc)
    exc = raises_naming(lambda: run(kind, n=1, duration=1e13, dt=0.01, I=lambda t: np.ones_like(t)), "dt")
    assert "memory" in str(exc)


def test_lif_tau_ref_beyond_the_step_counter_refused():
    for tau_ref in (1e300, 1e6, [2.0, 1e300, 2.0], float(2**63)):
        model = LIF(tau_ref=tau_ref)
        for method in ("exact", "event"):
            exc = fails_cleanly(lambda: run("lif", model, method=method), "tau_ref", model=model)
            assert "8388608" in str(exc)


@given(lam=st.sampled_from([(10**15, 1e6), (1e300, 1e300), (1e20, 1.0)]))
def test_lif_poisson_input_beyond_an_exact_count_refused(lam):
    model = LIF(poisson_inputs=lam[0], poisson_rate=lam[1], poisson_weight=0.01)
    raises_naming(lambda: run("lif", model, seed=0), "poisson_inputs", "poisson_rate")


@given(tau_ref=st.sampled_from([1e-9, 1e-7, 0.0]), v_reset=st.sampled_from([0.0, 0.99]))
def test_lif_event_method_refuses_more_spikes_per_step_than_it_can_hold(tau_ref, v_reset):
    model = LIF(tau_ref=tau_ref, v_reset=v_reset)
    raises_naming(lambda: run("lif", model, I=1e9, method="event"), "tau_ref", "I")


@given(R=st.sampled_from([-1.0, -2.0]), I=st.sampled_from([-3.0, -5.0]))
def test_lif_event_method_with_negative_resistance_matches_the_analytic_rate(R, I):
    model = LIF(resistance=R, tau_ref=0.5)
    res = run("lif", model, I=I, method="event", n=1, duration=200.0, dt=1.0)
    assert_consistent(res, "lif", n=1)
    expect = lif_rate(R * I, tau_m=20.0, tau_ref=0.5)
    assert abs(res.rates[0] - expect) <= 1000 / 200.0 + 1e-9


# ---------------------------------------------------------------- model classes and their methods

@pytest.mark.parametrize("cls", [LIF, HH, Izhikevich])
@given(n=st.one_of(bad_scalars(integer=True), st.sampled_from([0, -3, 10**13, 2**63])))
def test_arrays_bad_n_refused(cls, n):
    raises_naming(lambda: cls().arrays(n), "n")


@pytest.mark.parametrize("cls", [LIF, HH, Izhikevich])
@given(n=st.integers(1, 5))
def test_arrays_broadcast_and_leave_the_model_alone(cls, n):
    model = cls()
    snap = Snapshot(model=model)
    out = model.arrays(n)
    snap.assert_unchanged()
    assert all(v.shape == (n,) and v.dtype == np.float64 and np.isfinite(v).all() for v in out.values())


@given(factory=st.sampled_from([LIF.physical, HH.modern, HH.hh1952, Izhikevich.regular_spiking,
                                Izhikevich.fast_spiking, Izhikevich.chattering, Izhikevich.intrinsically_bursting]),
       bad=st.sampled_from([np.nan, "x", True, [1.0, 2.0, 3.0, 4.0]]))
def test_presets_take_overrides_and_refuse_unknown_or_bad_ones(factory, bad):
    raises_naming(lambda: factory(no_such_field=1.0), "no_such_field")
    default = factory()
    field = next(f.name for f in dataclasses.fields(default) if isinstance(getattr(default, f.name), float))
    model = factory(**{field: bad})
    raises_naming(lambda: model.arrays(3), field)
    assert default.arrays(2)  # the presets themselves are valid


@given(field=st.sampled_from(["poisson_inputs", "poisson_rate", "poisson_weight", "threshold_jump",
                              "adaptation_jump"]), bad=wrong_field_values())
def test_lif_properties_validate_their_fields(field, bad):
    model = LIF(**{field: bad})
    prop = "adapts" if "jump" in field else "has_poisson_input"
    if isinstance(bad, (list, np.ndarray)) and np.size(bad) in (2, 3) and np.asarray(bad).dtype.kind == "f" \
            and np.isfinite(np.asarray(bad, dtype=float)).all() and np.ndim(bad) == 1:
        getattr(model, prop)  # a per-neuron array on its own is fine
        return
    raises_naming(lambda: getattr(model, prop), field)


def test_lif_numeric_fields_and_properties():
    assert set(LIF.numeric_fields()) == {f.name for f in dataclasses.fields(LIF)} - {"freeze_refractory",
                                                                                     "refractory_mode"}
    assert not LIF().has_poisson_input and not LIF().adapts
    assert LIF(poisson_inputs=[0, 2], poisson_rate=5.0, poisson_weight=0.1).has_poisson_input
    assert LIF(adaptation_jump=[0.0, 0.1]).adapts


@given(V=st.one_of(bad_scalars().filter(lambda v: not isinstance(v, (list, np.ndarray))), st.sampled_from([["a"], np.array([-65.0, np.nan]), 2500.0, -2500.0, 1e308,
                                                    np.ones(3, bool)])))
def test_hh_rates_refuse_bad_potentials(V):
    model = HH()
    raises_naming(lambda: model.rates(V), "V")
    raises_naming(lambda: model.steady_state(V), "V")


@given(field=st.sampled_from(["V_shift", "phi"]), bad=st.sampled_from([np.nan, "x", -1.0, 0.0, np.inf, 1e308,
                                                                        [1.0, 2.0]]))
def test_hh_rates_refuse_bad_shift_and_phi(field, bad):
    if field == "V_shift" and bad in (-1.0, 0.0):
        return  # valid shifts
    model = HH(**{field: bad})
    raises_naming(lambda: model.rates(np.zeros(3)), field, "V")


@given(V=st.lists(st.floats(-2000, 2000), min_size=1, max_size=5), phi=st.sampled_from([0.5, 1.0, 3.0, 1e10]),
       shift=st.sampled_from([0.0, -65.0]))
def test_hh_rates_are_finite_and_match_the_formulas(V, phi, shift):
    V = np.array(V)
    assume((np.abs(V + shift) <= 2000).all())
    model = HH(phi=phi, V_shift=shift)
    rates = model.rates(V)
    assert all(np.isfinite(r).all() and (r >= 0).all() for r in rates)
    u = V + shift
    with np.errstate(all="ignore"):
        ref_bm = 4.0 * np.exp(-(u + 65.0) / 18.0) * phi
    np.testing.assert_allclose(rates[1], ref_bm, rtol=1e-12)
    for g in model.steady_state(V):
        assert np.isfinite(g).all() and ((g >= 0) & (g <= 1)).all()


@given(arg=st.sampled_from(["celsius", "q10", "reference"]), bad=bad_scalars())
def test_temperature_factor_bad_arguments_refused(arg, bad):
    raises_naming(lambda: temperature_factor(**{"celsius": 20.0, arg: bad}), arg)


@given(celsius=st.one_of(st.floats(-1e308, 1e308), st.sampled_from([1e308, -1e308, 6500.0, -6500.0])),
       q10=st.sampled_from([0.5, 1.0, 3.0, 1e300]))
def test_temperature_factor_is_the_formula_or_refused(celsius, q10):
    try:
        phi = temperature_factor(celsius, q10)
    except ValueError as exc:
        assert "celsius" in str(exc)
        assert q10 != 1.0 or not math.isfinite(celsius - 6.3)
    else:
        assert 0.0 < phi < math.inf
        assert phi == q10 ** ((celsius - 6.3) / 10.0)


# ---------------------------------------------------------------- analysis functions

@given(arg=st.sampled_from(["tau_m", "tau_ref", "threshold", "reset"]), bad=bad_scalars())
def test_lif_rate_bad_parameters_refused(arg, bad):
    raises_naming(lambda: lif_rate(2.0, **{arg: bad}), arg)


@given(drive=st.one_of(wrong_dtype_arrays((3,), accept=(np.float64, np.float32, np.int64, np.int32)),
                       odd_float_arrays((3,), dtype=np.float64), st.sampled_from(["a", None, [1.0, "b"]])))
def test_lif_rate_drive_refused_or_the_analytic_value(drive):
    snap = Snapshot(drive=drive)
    if not (isinstance(drive, np.ndarray) and drive.dtype == np.float64 and np.isfinite(drive).all()):
        raises_naming(lambda: lif_rate(drive), "drive")
        snap.assert_unchanged()
        return
    rates = lif_rate(drive)
    snap.assert_unchanged()
    for v, r in zip(drive, rates):
        assert r == 0.0 if v <= 1.0 else abs(r - reference_rate(v, 20.0, 2.0, 1.0, 0.0)) <= 1e-12 * r + 1e-300


def reference_rate(v, tau_m, tau_ref, threshold, reset):
    """The analytic rate with the logarithm of the exact rational ratio."""
    ratio = (Fraction(v) - Fraction(reset)) / (Fraction(v) - Fraction(threshold))
    log = math.log1p(float(ratio - 1)) if ratio < 2 else math.log(ratio.numerator) - math.log(ratio.denominator)
    return 1000.0 / (tau_ref + tau_m * log)


@given(v=st.sampled_from([1e308, 1.7e308, 1e300, 5.0, 1.0 + 1e-15]),
       threshold=st.sampled_from([1.0, -1e308, 1e307]), gap=st.sampled_from([1.0, 1e308, 1e-300]))
def test_lif_rate_at_extreme_magnitudes_matches_exact_arithmetic(v, threshold, gap):
    reset = threshold - gap
    assume(reset < threshold and math.isfinite(reset))
    r = lif_rate(np.array([v]), tau_m=20.0, tau_ref=2.0, threshold=threshold, reset=reset)[0]
    if v <= threshold:
        assert r == 0.0
    else:
        assert abs(r - reference_rate(v, 20.0, 2.0, threshold, reset)) <= 1e-12 * r + 1e-300


@given(arg=st.sampled_from(["spike_times", "n", "t_start", "t_stop", "bin_ms"]), data=st.data())
def test_population_rate_bad_arguments_refused(arg, data):
    good = dict(spike_times=np.array([0.5, 1.5]), n=2, t_start=0.0, t_stop=2.0, bin_ms=1.0)
    if arg == "spike_times":
        bad = data.draw(st.one_of(wrong_dtype_arrays((2,), accept=(np.float64, np.float32, np.int64, np.int32)),
                                  st.sampled_from([np.array([np.nan, 1.0]), np.ones((2, 2)), "ab", None])))
    else:
        bad = data.draw(bad_scalars(integer=arg == "n"))
    good[arg] = bad
    raises_naming(lambda: population_rate(**good), arg)


@given(case=st.sampled_from([dict(t_stop=-1.0), dict(bin_ms=1e-300), dict(t_start=-1e308, t_stop=1e308),
                             dict(t_start=1e20, t_stop=1e20 + 1e6, bin_ms=1.0), dict(n=0)]))
def test_population_rate_impossible_windows_refused(case):
    args = dict(spike_times=np.array([0.5]), n=1, t_start=0.0, t_stop=2.0, bin_ms=1.0)
    args.update(case)
    raises_naming(lambda: population_rate(**args), *case)


@given(times=st.lists(st.floats(0, 10), max_size=20), bin_ms=st.sampled_from([0.5, 1.0, 3.0, 20.0]),
       n=st.integers(1, 4))
def test_population_rate_counts_every_spike_of_the_window(times, bin_ms, n):
    times = np.array(times)
    centres, rate = population_rate(times, n, 0.0, 10.0, bin_ms)
    assert np.isfinite(rate).all() and (rate >= 0).all() and centres.shape == rate.shape
    # documented rule: bins of bin_ms from t_start, the window rounded to whole bins
    edges = np.arange(0.0, 10.0 + 0.5 * bin_ms, bin_ms)
    if edges.size < 2:
        edges = np.array([0.0, 10.0])
    np.testing.assert_allclose(centres, 0.5 * (edges[1:] + edges[:-1]))
    inside = ((times >= edges[0]) & (times <= edges[-1])).sum()
    assert round(float((rate * n * np.diff(edges) * 1e-3).sum())) == inside
    e_c, e_r = population_rate(times, n, 3.0, 3.0, bin_ms)
    assert e_c.size == 0 and e_r.size == 0


@given(bad=st.sampled_from([None, {}, [np.array([1.0])], "result", np.zeros(3), object()]))
def test_isi_stats_refuses_what_is_not_a_result(bad):
    raises_naming(lambda: isi_stats(bad), "result")


def test_isi_stats_match_numpy():
    res = run("lif", I=np.array([1.2, 2.0, 3.0]), duration=100.0)
    st_ = isi_stats(res)
    for i in range(N):
        d = np.diff(res.spike_train(i))
        if d.size:
            assert st_["mean_isi"][i] == d.mean()
    np.testing.assert_array_equal(st_["pooled"], res.isi())


@given(data=st.data())
def test_firing_rate_curve_bad_arguments_refused(data):
    arg = data.draw(st.sampled_from(["model", "inputs", "duration", "transient", "seed", "backend", "kw"]))
    kw = dict(model=LIF(), inputs=[1.5, 2.0], duration=10.0)
    if arg == "model":
        kw["model"] = data.draw(st.sampled_from([None, "lif", object(), LIF]))
    elif arg == "inputs":
        kw["inputs"] = data.draw(st.sampled_from([[], np.ones((2, 2)), ["a"], [np.nan], np.ones(2, bool), None]))
    elif arg == "duration":
        kw["duration"] = data.draw(st.one_of(bad_scalars(), st.sampled_from([0.0, -5.0])))
    elif arg == "transient":
        kw["transient"] = data.draw(st.one_of(bad_scalars(), st.sampled_from([-1.0, 10.0, 11.0])))
    elif arg == "seed":
        kw["seed"] = data.draw(bad_seeds())
    elif arg == "backend":
        kw["backend"] = data.draw(st.sampled_from(["gpu", None, 3]))
    else:
        kw["no_such_kw"] = 1
        arg = "no_such_kw"
    model = kw.pop("model")
    inputs = kw.pop("inputs")
    names = (arg, "transient") if arg == "duration" else (arg, "duration") if arg == "transient" else (arg,)
    raises_naming(lambda: firing_rate_curve(model, inputs, **kw), *names)


@given(drives=st.lists(st.floats(0.5, 6.0), min_size=1, max_size=4), tau_ref=st.sampled_from([0.0, 1.0, 2.5]))
def test_firing_rate_curve_of_the_lif_is_the_analytic_rate(drives, tau_ref):
    duration = 300.0
    rates = firing_rate_curve(LIF(tau_ref=tau_ref), drives, duration=duration, backend="cpu")
    expect = lif_rate(np.array(drives), tau_m=20.0, tau_ref=tau_ref)
    # event-driven: exact crossing times, so counts differ from the analytic rate by at most one spike
    assert (np.abs(rates - expect) <= 1000.0 / duration + 1e-9).all(), (rates, expect)


# ---------------------------------------------------------------- Poisson trains

@given(arg=st.sampled_from(["rate", "n", "duration", "t_start", "seed", "backend"]), data=st.data())
def test_poisson_spike_trains_bad_arguments_refused(arg, data):
    kw = dict(rate=10.0, n=3, duration=10.0, seed=0)
    if arg == "rate":
        bad = data.draw(st.one_of(bad_scalars(), st.sampled_from([-1.0, [1.0, -1.0, 1.0], np.ones(4), np.ones((3, 1)),
                                                                  np.ones(3, bool), [1.0, np.inf, 1.0]])))
    elif arg == "n":
        bad = data.draw(st.one_of(bad_scalars(integer=True), st.sampled_from([0, 10**13, 2**63])))
    elif arg == "seed":
        bad = data.draw(bad_seeds())
    elif arg == "backend":
        bad = data.draw(st.sampled_from(["cuda", "gpu", None, 1]))
    else:
        bad = data.draw(st.one_of(bad_scalars(), st.sampled_from([1e308] if arg == "t_start" else [-1.0, 1e308])))
    kw[arg] = bad
    snap = Snapshot(bad=bad) if isinstance(bad, np.ndarray) else None
    raises_naming(lambda: poisson_spike_trains(kw.pop("rate"), kw.pop("n"), kw.pop("duration"), **kw), arg)
    if snap:
        snap.assert_unchanged()


@given(rate=st.sampled_from([1e12, 1e300, 1.7e308]), duration=st.sampled_from([1e6, 1e3, 1e300]))
def test_poisson_spike_trains_refuse_absurd_rates_up_front(rate, duration):
    gen = np.random.default_rng(3)
    before = gen.bit_generator.state
    exc = raises_naming(lambda: poisson_spike_trains(rate, 2, duration, seed=gen), "rate", "duration")
    assert "memory" in str(exc) or "addressed" in str(exc)
    assert gen.bit_generator.state == before


@given(rate=st.sampled_from([0.0, 5e-324, 1e-300, 1.0, 100.0]), n=st.integers(1, 4),
       duration=st.sampled_from([0.0, 1e-9, 5.0, 100.0]), t_start=st.sampled_from([0.0, -50.0, 1e6]))
def test_poisson_spike_trains_edge_values_give_sorted_trains_inside_the_window(rate, n, duration, t_start):
    if duration > 0 and np.spacing(abs(t_start) + duration) > 1e-3 * duration:
        raises_naming(lambda: poisson_spike_trains(rate, n, duration, t_start=t_start, seed=1), "t_start")
        return  # the times would not resolve the window
    t, i = poisson_spike_trains(rate, n, duration, t_start=t_start, seed=1)
    assert t.shape == i.shape and t.dtype == np.float64 and i.dtype == np.int64
    assert ((i >= 0) & (i < n)).all() and np.isfinite(t).all()
    assert (t >= t_start).all() and (t <= t_start + duration).all()
    assert (np.lexsort((i, t)) == np.arange(t.size)).all()
    if rate * duration < 1e-6:
        assert t.size == 0


# ---------------------------------------------------------------- SimulationResult and SimulationError

@pytest.fixture(scope="module")
def result():
    return run("lif", I=np.array([1.2, 2.0, 3.0]), duration=50.0, record=[0, 2])


@given(i=st.one_of(bad_scalars(integer=True), st.sampled_from([-1, N, 2**63, "0"])))
def test_spike_train_bad_index_refused(result, i):
    raises_naming(lambda: result.spike_train(i), "i")


@given(bin_ms=st.one_of(bad_scalars(), st.sampled_from([0.0, -1.0, 1e-300])))
def test_result_population_rate_bad_bin_refused(result, bin_ms):
    snap = Snapshot(result=result)
    raises_naming(lambda: result.population_rate(bin_ms), "bin_ms")
    snap.assert_unchanged()


@given(bin_ms=st.sampled_from([0.1, 1.0, 7.0, 50.0, 1000.0]))
def test_result_methods_are_self_consistent(result, bin_ms):
    counts = result.counts
    assert counts.sum() == result.spike_times.size
    np.testing.assert_array_equal(result.rates, counts / (result.duration * 1e-3))
    trains = result.spike_trains()
    assert isinstance(trains, dict) and list(trains) == list(range(result.n))  # Brian2's {neuron: times}
    for i, tr in trains.items():
        np.testing.assert_array_equal(tr, result.spike_train(i))
    np.testing.assert_array_equal(result.isi(), np.concatenate([np.diff(t) for t in trains.values()]))
    # Brian2's names for the same arrays
    assert result.t is result.spike_times and result.i is result.spike_neurons
    assert result.it[0] is result.i and result.it[1] is result.t
    np.testing.assert_array_equal(result.count, counts)
    assert result.num_spikes == result.spike_times.size == counts.sum()
    centres, rate = result.population_rate(bin_ms)
    assert np.isfinite(rate).all() and centres.shape == rate.shape


def test_zero_duration_result_is_empty_not_nan_laden():
    res = run("lif", duration=0.0, record=True)
    assert_consistent(res, "lif")
    assert res.spike_times.size == 0 and res.counts.tolist() == [0] * N
    assert np.isnan(res.rates).all()  # no time to fire in: undefined, documented
    c, r = res.population_rate(1.0)
    assert c.size == 0 and r.size == 0
    assert all(t.size == 0 for t in res.spike_trains().values()) and res.isi().size == 0
    assert res.num_spikes == 0 and res.count.tolist() == [0] * N and len(res.spike_trains()) == N


def test_simulation_error_carries_step_time_and_neuron():
    with pytest.raises(SimulationError) as info:
        run("lif", LIF(tau_m=[10, 10, 0.01], v_threshold=[1, 1, 1e12]), I=0.5, v0=[0, 0, 1.0], method="euler",
            duration=5.0)
    e = info.value
    assert isinstance(e, RuntimeError) and e.neuron == 2 and e.step > 0 and e.time == pytest.approx(e.step * 0.1)
    assert "neuron 2" in str(e)


# ---------------------------------------------------------------- plots

@pytest.fixture(scope="module")
def mpl():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@given(case=st.sampled_from([
    ("raster", "result", dict(result=None)), ("raster", "result", dict(result="r")),
    ("raster", "neurons", dict(neurons=[N])), ("raster", "neurons", dict(neurons=["a"])),
    ("raster", "neurons", dict(neurons=[0.5])), ("raster", "ms", dict(ms=-1.0)), ("raster", "ms", dict(ms="big")),
    ("raster", "color", dict(color="not-a-colour")), ("raster", "ax", dict(ax="axes")),
    ("trace", "variable", dict(variable="u")), ("trace", "variable", dict(variable=["v"])),
    ("trace", "result", dict(result=3)), ("trace", "label_neurons", dict(label_neurons="yes")),
    ("trace", "ax", dict(ax=object())),
    ("fi_curve", "inputs", dict(inputs=["a", "b"])), ("fi_curve", "rates", dict(rates=[1.0])),
    ("fi_curve", "analytic", dict(analytic=([1.0, 2.0],))), ("fi_curve", "analytic", dict(analytic=[[1.0], [1.0, 2.0]])),
    ("fi_curve", "xlabel", dict(xlabel=3)), ("fi_curve", "label", dict(label=None)),
    ("fi_curve", "inputs", dict(inputs=np.ones((2, 2)))),
]))
def test_plots_refuse_bad_arguments_before_drawing(mpl, result, case):
    fn, arg, kw = case
    before = len(mpl.get_fignums())
    if fn == "fi_curve":
        args = dict(inputs=[1.0, 2.0], rates=[0.0, 10.0])
        args.update(kw)
        raises_naming(lambda: plots.fi_curve(args.pop("inputs"), args.pop("rates"), **args), arg)
    else:
        args = dict(result=result)
        args.update(kw)
        raises_naming(lambda: getattr(plots, fn)(args.pop("result"), **args), arg)
    assert len(mpl.get_fignums()) == before  # nothing drawn


@given(neurons=st.sampled_from([None, [0], [2, 0], np.array([1], np.int32), []]))
def test_plots_draw_valid_input(mpl, result, neurons):
    ax = plots.raster(result, neurons=neurons)
    keep = np.isin(result.spike_neurons, [] if neurons is None else neurons) if neurons is not None else \
        np.ones(result.spike_neurons.size, bool)
    assert ax.lines[-1].get_xdata().size == keep.sum()
    ax = plots.trace(result, "v", ax=ax)
    ax = plots.fi_curve([1, 2, 3], [0.0, np.nan, 5.0], ax=ax, analytic=([1, 2], [0, 1]))
    mpl.close("all")
