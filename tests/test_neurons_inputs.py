"""Neuron inputs (fastkernels.neurons.inputs): input currents of every shape a simulation takes, and
poisson_spike_trains."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import LIF, simulate_lif


def test_time_varying_matrix_input_and_shared_series_agree():
    n, steps = 5, 200
    series = np.sin(np.arange(steps) * 0.05)[:, None] * 2 + 1.5
    a = simulate_lif(LIF(tau_m=10), n, steps * 0.1, 0.1, I=series, backend="cpu")
    b = simulate_lif(LIF(tau_m=10), n, steps * 0.1, 0.1, I=np.repeat(series, n, axis=1), backend="cpu")
    np.testing.assert_array_equal(a.spike_times, b.spike_times)
    assert a.spike_times.size > 0


def test_poisson_spike_trains_statistics_and_reproducibility():
    from fastkernels.neurons import poisson_spike_trains

    t, i = poisson_spike_trains(20.0, 2000, 1000.0, seed=3, backend="parallel")
    t2, i2 = poisson_spike_trains(20.0, 2000, 1000.0, seed=3, backend="cpu")
    np.testing.assert_array_equal(t, t2)
    counts = np.bincount(i, minlength=2000)
    assert counts.mean() == pytest.approx(20.0, rel=0.03) and counts.var() == pytest.approx(20.0, rel=0.1)
    isi = np.diff(t[i == 0])
    assert np.all(isi > 0) and t.min() >= 0 and t.max() < 1000
    rates = np.array([0.0, 50.0])
    t3, i3 = poisson_spike_trains(rates, 2, 100.0, seed=1)
    assert not np.any(i3 == 0)
    # sorted by time then train (a bucket sort, checked against lexsort of the same spikes)
    order = np.lexsort((i, t))
    np.testing.assert_array_equal(t[order], t)
    np.testing.assert_array_equal(i[order], i)
    t4, _ = poisson_spike_trains(20.0, 3, 50.0, t_start=100.0, seed=3)
    assert t4.min() >= 100.0 and t4.max() < 150.0


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
def test_poisson_spike_trains_refuses_absurd_rates_up_front():
    from fastkernels.neurons import poisson_spike_trains

    # ran until memory was exhausted: the expected spike count is checked against memory first
    for rate, duration in ((1e12, 1e6), (1e300, 1e300), (1.7e308, 10.0)):
        exc = _raises_naming(lambda: poisson_spike_trains(rate, 2, duration, seed=0), "rate")
        assert "memory" in str(exc) or "addressed" in str(exc)
    _raises_naming(lambda: poisson_spike_trains(1.0, 10**13, 10.0, seed=0), "n")
    _raises_naming(lambda: poisson_spike_trains(1.0, 2, 10.0, t_start=1e308, seed=0), "t_start")
    _raises_naming(lambda: poisson_spike_trains(1.0, 2, 10.0, seed="x"), "seed")


@pytest.mark.bad_input
def test_callable_and_malformed_inputs_name_the_argument():
    for bad in (lambda t: ["a"] * t.size, lambda t: [object()] * t.size, lambda t: np.ones(t.size, bool),
                [1.0, [2.0, 3.0]], {"I": 1.0}, "1.0"):
        _raises_naming(lambda: simulate_lif(LIF(), 2, 1.0, 0.1, I=bad, backend="cpu"), "I")
