"""Simulation results (fastkernels.neurons.result): SimulationResult's methods and population_rate."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import LIF, isi_stats, population_rate, simulate_lif


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
