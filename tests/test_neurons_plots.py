"""Plots of neuron populations (fastkernels.neurons.plots): raster, trace and fi_curve."""

import numpy as np
import pytest
from contract.harness import raises_naming as _raises_naming

from fastkernels.neurons import LIF, simulate_lif


def test_plots_draw(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    from fastkernels.neurons import plots

    r = simulate_lif(LIF(tau_m=10), 5, 50.0, 0.1, I=np.linspace(1, 3, 5), record=[0, 4], backend="cpu")
    ax = plots.raster(r)
    assert len(ax.lines) == 1 and ax.lines[0].get_xdata().size == r.spike_times.size
    ax = plots.trace(r, "v")
    assert len(ax.lines) == 2
    ax = plots.fi_curve([1, 2], [0, 10], analytic=([1, 2], [0, 9]))
    assert len(ax.lines) == 2
    with pytest.raises(ValueError, match="variable"):
        plots.trace(r, "u")


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
def test_plots_refuse_bad_arguments_by_name():
    import matplotlib

    matplotlib.use("Agg")
    from fastkernels.neurons import plots

    r = simulate_lif(LIF(), 3, 10.0, 0.1, I=2.0, record=[0], backend="cpu")
    _raises_naming(lambda: plots.raster(None), "result")  # AttributeError before
    _raises_naming(lambda: plots.raster(r, neurons=["a"]), "neurons")  # silently drew nothing
    _raises_naming(lambda: plots.raster(r, neurons=[5]), "neurons")
    _raises_naming(lambda: plots.trace(r, ["v"]), "variable")  # unhashable list
    _raises_naming(lambda: plots.fi_curve([1.0, 2.0], [1.0]), "inputs")
    _raises_naming(lambda: plots.fi_curve([1.0], [1.0], analytic=([1.0],)), "analytic")  # IndexError
