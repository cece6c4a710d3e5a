"""Analysis of neuron populations (fastkernels.neurons.analysis): lif_rate, firing_rate_curve and their
arguments."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import LIF, firing_rate_curve, lif_rate, population_rate


@pytest.mark.bad_input
def test_bad_analysis_input():
    with pytest.raises(ValueError, match="reset"):
        lif_rate(2.0, 20, 2, threshold=1.0, reset=1.5)
    with pytest.raises(ValueError, match="transient"):
        firing_rate_curve(LIF(), [2.0], duration=10.0, transient=10.0)
    with pytest.raises(ValueError, match="bin_ms"):
        population_rate(np.zeros(1), 1, 0, 1, bin_ms=0)


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
@pytest.mark.parametrize("v, threshold, reset", [(1.0 + 1e-15, 1.0, 1.0 - 1e308), (1.7e308, -1e308, -1.7e308),
                                                 (1e308, 1e307, -1e308)])
def test_lif_rate_at_extreme_magnitudes(v, threshold, reset):
    # the ratio or the differences overflowed to inf: a silent rate of 0 Hz
    import math
    from fractions import Fraction

    ratio = (Fraction(v) - Fraction(reset)) / (Fraction(v) - Fraction(threshold))
    expect = 1000.0 / (2.0 + 20.0 * (math.log(ratio.numerator) - math.log(ratio.denominator)))
    got = lif_rate(np.array([v]), 20.0, 2.0, threshold=threshold, reset=reset)[0]
    assert got == pytest.approx(expect, rel=1e-12)


@pytest.mark.bad_input
def test_firing_rate_curve_names_its_own_arguments():
    _raises_naming(lambda: firing_rate_curve(LIF(), []), "inputs")  # named n, the simulator's argument
    _raises_naming(lambda: firing_rate_curve(LIF(), np.ones((2, 2))), "inputs")
    _raises_naming(lambda: firing_rate_curve(LIF(sigma="x"), [1.0]), "sigma")
    _raises_naming(lambda: firing_rate_curve(LIF(freeze_refractory=2), [1.0]), "freeze_refractory")


# ---------------------------------------------------------------- the LIF's counting path (issue 14)

def _recorded_rates(model, inputs, duration, transient, **kw):
    from fastkernels.neurons import simulate_lif
    res = simulate_lif(model, inputs.size, duration, 0.1, I=inputs, **kw)
    keep = res.spike_times >= res.t_start + transient
    return np.bincount(res.spike_neurons[keep], minlength=inputs.size) / ((duration - transient) * 1e-3)


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("transient", [0.0, 0.05, 0.1, 0.15, 33.3, 49.9])
@pytest.mark.parametrize("model, kw", [
    (LIF(tau_m=20.0, tau_ref=2.0), dict(method="exact")),
    (LIF(tau_m=20.0, tau_ref=2.0, sigma=0.3), dict(method="exact", seed=3)),
    (LIF(tau_m=np.linspace(5.0, 20.0, 300), threshold_jump=0.1), dict(method="euler")),
])
def test_lif_rate_curve_counts_what_a_recorded_run_keeps(model, kw, transient, backend):
    # The f-I curve of a grid-method LIF counts with the count-only kernels (no spikes recorded):
    # the same spikes, to the step, as a recorded run's times past the transient.
    inputs = np.linspace(0.5, 5.0, 300)
    got = firing_rate_curve(model, inputs, duration=50.0, dt=0.1, transient=transient, backend=backend, **kw)
    ref = _recorded_rates(model, inputs, 50.0, transient, backend=backend, **kw)
    np.testing.assert_array_equal(got, ref)
    assert got.sum() > 0


def test_lif_rate_curve_counting_path_keeps_the_simulators_checks():
    # run_lif's own keywords are not firing_rate_curve's: refused by the simulator, by name
    with pytest.raises(TypeError, match="count_only"):
        firing_rate_curve(LIF(), [2.0], duration=10.0, method="exact", count_only=True)
    _raises_naming(lambda: firing_rate_curve(LIF(), [2.0], duration=10.0, dt=0.0, method="exact"), "dt")
    _raises_naming(lambda: firing_rate_curve(LIF(), [2.0], duration=10.0, dt=float("nan"), method="exact"), "dt")
