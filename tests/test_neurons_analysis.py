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
