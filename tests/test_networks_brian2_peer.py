"""The Brian2 peer of the network cases (``fastkernels.networks._brian2_peer``) against the NumPy
reference (``fastkernels.networks._reference``).

The module imports without Brian2 and its factory then raises ImportError; that test runs
everywhere. The rest need Brian2 (a peer environment; the project's own has none) and run small
networks (1000 neurons, 200 ms; 500 neurons, 50 ms) in Brian2's runtime mode with the NumPy
target (no compiler; ~10 s each). Brian2 gets the same synapses and initial state, so the two
simulations do the same arithmetic up to rounding: they agree spike for spike until rounding
differences, amplified by the network's chaos, move a threshold crossing. Measured: identical
per-neuron counts at 4000 neurons over 1 s for both CUBA and COBA (cpp_standalone); the checks
below allow for divergence late in the run (rates within 10%).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from fastkernels.networks._brian2_peer import network_peer
from fastkernels.networks._reference import NetworkSpec, Receptor, coba_network, cuba_network, run_spec

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pyparsing", "ignore::DeprecationWarning:brian2")


def test_factory_raises_importerror_without_brian2(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2", None)
    for mode in ("cpp_standalone", "runtime"):
        with pytest.raises(ImportError, match="brian2"):
            network_peer(mode)


@pytest.fixture(scope="module")
def peer():
    pytest.importorskip("brian2")
    return network_peer("runtime", codegen_target="numpy")


@pytest.mark.parametrize("build", [cuba_network, coba_network])
def test_rates_match_brian2(peer, build):
    spec = build(1000, seed=4)
    ref = np.bincount(run_spec(spec, 200.0).i, minlength=spec.n)
    counts, seconds = peer(spec, 2000)
    assert counts.shape == (spec.n,) and counts.dtype == np.int64 and seconds > 0
    rate_ref, rate_b2 = ref.sum() / spec.n / 0.2, counts.sum() / spec.n / 0.2
    assert rate_ref > 1.0
    assert rate_b2 == pytest.approx(rate_ref, rel=0.1)
    assert (counts == ref).mean() > 0.5  # the same arithmetic: mostly spike for spike


@pytest.mark.parametrize("build", [cuba_network, coba_network])
def test_first_milliseconds_are_identical(peer, build):
    spec = build(500, seed=9)
    ref = np.bincount(run_spec(spec, 50.0).i, minlength=spec.n)
    counts, _ = peer(spec, 500)
    assert ref.sum() > 0
    np.testing.assert_array_equal(counts, ref)


def test_delays_v_jumps_and_per_synapse_weights(peer):
    """The tutorial's Y3 (delays, per-synapse weights, a "v" receptor) through Brian2."""
    from fastkernels.networks import Connectivity

    conn = Connectivity([0, 2, 2, 2], [1, 2], weight=[0.2, 0.4], delay=[2.0, 4.0], n_post=3)
    spec = NetworkSpec("Y3", 3, 0.1, dict(tau_m=100.0, v_rest=0.0, v_reset=0.0, v_threshold=1.0, tau_ref=0.0,
                                          R=1.0, I_ext=0.0), (Receptor("syn", "v"),), ((conn, "syn"),),
                       np.array([0.0, 0.0, 0.0]), {}, "exact", "Brian2 tutorial part II")
    # neuron 0 needs I = 2 with tau 10 ms, which the peer's scalar parameters cannot give; start it
    # above threshold instead so that it fires at step 0 and drives the others through the delays
    spec = spec._replace(v0=np.array([1.5, 0.9, 0.5]))
    ref = run_spec(spec, 10.0)
    counts, _ = peer(spec, 100)
    np.testing.assert_array_equal(counts, np.bincount(ref.i, minlength=3))
    assert ref.t.tolist() == [0.0, pytest.approx(2.1)]
    assert counts.tolist() == [1, 1, 0]  # 0.88 + 0.2 at 2 ms crosses 1; 0.48 + 0.4 at 4 ms does not
