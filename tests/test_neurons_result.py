"""Simulation results (fastkernels.neurons.result): SimulationResult's methods and population_rate."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import (HH, LIF, Izhikevich, isi_stats, population_rate, simulate_hh, simulate_izhikevich,
                                 simulate_lif)


def test_population_rate_divides_by_bin_width():
    t, rate = population_rate(np.array([0.5, 0.6, 1.5]), 2, 0.0, 2.0, bin_ms=1.0)
    np.testing.assert_allclose(t, [0.5, 1.5])
    np.testing.assert_allclose(rate, [1000.0, 500.0])  # 2 spikes / (2 neurons * 1 ms)


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
def test_population_rate_refuses_windows_it_cannot_bin():
    # division by a zero-width bin (inf/NaN), and NumPy's "Maximum allowed size exceeded"
    c, r = population_rate(np.array([1.0]), 1, 2.0, 2.0)
    assert c.size == 0 and r.size == 0
    _raises_naming(lambda: population_rate(np.array([1.0]), 1, 0.0, 1e300), "bin_ms")
    _raises_naming(lambda: population_rate(np.array([1.0]), 1, 1e20, 1e20 + 1e6), "bin_ms")
    _raises_naming(lambda: population_rate(np.array([1.0]), 1, 2.0, 1.0), "t_stop")
    _raises_naming(lambda: population_rate(np.array([np.nan]), 1, 0.0, 1.0), "spike_times")
    _raises_naming(lambda: population_rate(["a"], 1, 0.0, 1.0), "spike_times")


@pytest.mark.bad_input
def test_result_methods_validate_and_handle_zero_duration():
    r = simulate_lif(LIF(), 3, 0.0, 0.1, I=2.0, backend="cpu")
    assert np.isnan(r.rates).all()  # 0 / 0 with a RuntimeWarning before: now documented NaN
    c, rate = r.population_rate()
    assert c.size == 0 and rate.size == 0
    for bad, err in (("a", TypeError), (1.5, TypeError), (True, TypeError), (3, ValueError), (-1, ValueError)):
        with pytest.raises(err, match="i"):
            r.spike_train(bad)
    with pytest.raises(TypeError, match="result"):
        isi_stats({"spike_times": []})


# ---------------------------------------------------------------- issue 18: Brian2's vocabulary


def test_brian2_names_read_the_same_spikes():
    r = simulate_lif(LIF(), 4, 50.0, I=np.array([0.5, 1.2, 2.0, 3.0]), backend="cpu")
    assert r.num_spikes == r.spike_times.size > 0 and isinstance(r.num_spikes, int)
    assert r.t is r.spike_times and r.i is r.spike_neurons
    i, t = r.it
    assert i is r.i and t is r.t
    np.testing.assert_array_equal(r.count, r.counts)
    assert r.count.dtype == np.int64 and r.count[0] == 0  # I = 0.5 < threshold: silent


def test_spike_trains_is_a_dict_of_every_neuron_as_brian2():
    r = simulate_lif(LIF(), 4, 50.0, I=np.array([0.5, 1.2, 2.0, 3.0]), backend="cpu")
    trains = r.spike_trains()
    assert isinstance(trains, dict) and list(trains) == [0, 1, 2, 3]
    assert trains[0].size == 0  # a silent neuron is a key with an empty train, as Brian2's
    for q, times in trains.items():
        np.testing.assert_array_equal(times, r.t[r.i == q])
    as_list = list(trains.values())  # the list form, neuron by neuron
    assert [a.size for a in as_list] == r.count.tolist()


def test_record_by_variable_name():
    kw = dict(I=np.array([1.5, 2.0]), backend="cpu")
    r = simulate_lif(LIF(), 2, 10.0, record="v", **kw)
    assert list(r.traces) == ["v"] and r.traces["v"].shape == (2, 100) and r.trace_neurons.tolist() == [0, 1]
    full = simulate_lif(LIF(adaptation_jump=0.1, threshold_jump=0.2), 2, 10.0, record=True, **kw)
    assert list(full.traces) == ["v", "v_threshold", "w"]
    some = simulate_lif(LIF(adaptation_jump=0.1, threshold_jump=0.2), 2, 10.0, record=["w", "v"], **kw)
    assert list(some.traces) == ["w", "v"]
    np.testing.assert_array_equal(some.traces["w"], full.traces["w"])
    # nothing adapts: record=True traces v only (v_threshold and w are constants); a name still asks for one
    plain = simulate_lif(LIF(), 2, 10.0, record=True, **kw)
    assert list(plain.traces) == ["v"]
    np.testing.assert_array_equal(plain.traces["v"], r.traces["v"])
    assert (simulate_lif(LIF(), 2, 10.0, record="v_threshold", **kw).traces["v_threshold"] == 1.0).all()
    hh = simulate_hh(HH(), 2, 2.0, dt=0.01, I=10.0, record=["m", "h"], backend="cpu")
    assert list(hh.traces) == ["m", "h"] and hh.traces["m"].shape == (2, 200)
    izh = simulate_izhikevich(Izhikevich(), 2, 2.0, I=10.0, record="u", backend="cpu")
    assert list(izh.traces) == ["u"]


@pytest.mark.parametrize("sim, record, rows", [
    ("lif", "v", 1), ("lif", True, 1), ("lif", ["w"], 3), ("lif_adapt", True, 3), ("lif_event", "v", 1),
    ("hh", "v", 1), ("hh", "m", 2), ("hh", ["n", "v"], 4), ("hh", True, 4), ("izh", "v", 1), ("izh", "u", 2)])
def test_record_by_name_allocates_only_the_traced_prefix(monkeypatch, sim, record, rows):
    # The kernels write the first traces.shape[0] trace rows: recording "v" keeps one row in memory
    # (not every state variable's, filtered afterwards), and the values match a full recording.
    from fastkernels.neurons import _engine

    seen = []
    check = _engine.check_traces
    monkeypatch.setattr(_engine, "check_traces", lambda n_vars, *a: (seen.append(n_vars), check(n_vars, *a)))
    run = {"lif": lambda rec: simulate_lif(LIF(), 3, 5.0, I=[1.2, 1.5, 2.0], record=rec, backend="cpu"),
           "lif_adapt": lambda rec: simulate_lif(LIF(adaptation_jump=0.1, threshold_jump=0.2), 3, 5.0,
                                                 I=[1.2, 1.5, 2.0], record=rec, backend="cpu"),
           "lif_event": lambda rec: simulate_lif(LIF(), 3, 5.0, I=[1.2, 1.5, 2.0], method="event", record=rec,
                                                 backend="cpu"),
           "hh": lambda rec: simulate_hh(HH(), 3, 2.0, dt=0.01, I=[5.0, 10.0, 20.0], record=rec, backend="cpu"),
           "izh": lambda rec: simulate_izhikevich(Izhikevich(), 3, 5.0, I=[5.0, 10.0, 20.0], record=rec,
                                                  backend="cpu")}[sim]
    part = run(record)
    assert seen == [rows]
    full = run(True)
    for name, trace in part.traces.items():
        assert trace.shape == (3, full.trace_times.size)
        if name in full.traces:  # the same run on the same machine: the same values
            np.testing.assert_array_equal(trace, full.traces[name])
        else:  # record=True leaves out w when nothing adapts: it stays 0
            assert sim == "lif" and name == "w" and (trace == 0.0).all()


@pytest.mark.bad_input
def test_record_names_that_are_not_variables_are_refused():
    for bad, err in (("x", ValueError), (["v", 0], TypeError), ("m", ValueError), (["v", None], TypeError)):
        with pytest.raises(err, match="record"):
            simulate_lif(LIF(), 2, 1.0, I=1.5, record=bad, backend="cpu")
    with pytest.raises(ValueError, match="'v', 'u'"):
        simulate_izhikevich(Izhikevich(), 2, 1.0, I=10.0, record="w", backend="cpu")
