"""The Brian2 peers of the neuron population cases (``fastkernels.neurons._brian2_peer``).

The module imports without Brian2 and its factories then raise ImportError (what the benchmark
registry expects of a peer that is not installed); those tests run everywhere. The rest run only
where Brian2 is installed (a peer environment: the project's own environment has none): tiny
populations in Brian2's runtime mode with the NumPy code-generation target (no compiler, no
Cython build, a few seconds), checking that Brian2 produces the same spike counts per neuron as
fastkernels on the same input. cpp_standalone is left to the benchmark itself (its compile takes
tens of seconds).
"""

from __future__ import annotations

import sys

import numpy as np
import pytest

from fastkernels.neurons import HH, LIF, simulate_hh, simulate_lif
from fastkernels.neurons._brian2_peer import (
    PeerTiming,
    hh_population_peer,
    lif_population_peer,
)

TAU, TREF, DT = 10.0, 2.0, 0.1

# Brian2 2.9 still calls pyparsing's camelCase names, deprecated since pyparsing 3.3.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:pyparsing", "ignore::DeprecationWarning:brian2")


def test_factories_raise_importerror_without_brian2(monkeypatch):
    monkeypatch.setitem(sys.modules, "brian2", None)  # `import brian2` now raises ImportError
    for factory in (lif_population_peer, hh_population_peer):
        for mode in ("cpp_standalone", "runtime"):
            with pytest.raises(ImportError, match="brian2"):
                factory(mode)


def test_bad_mode_is_refused():
    with pytest.raises(ValueError, match="mode"):
        lif_population_peer("standalone")
    with pytest.raises(ValueError, match="threads"):
        hh_population_peer("runtime", threads=2)


def test_hh_peer_refuses_models_it_does_not_write():
    with pytest.raises(ValueError, match="modern set"):
        hh_population_peer("runtime", model=HH(phi=2.0))


@pytest.fixture(scope="module")
def brian2():
    b2 = pytest.importorskip("brian2")
    b2.prefs.codegen.target = "numpy"  # overridden per peer below; keeps the global default harmless
    return b2


def _lif_counts(I, steps):
    return simulate_lif(LIF(tau_m=TAU, tau_ref=TREF), I.size, steps * DT, DT, I=I, backend="cpu").counts


def _hh_counts(I, steps):
    return simulate_hh(HH(), I.size, steps * DT, DT, I=I, method="exponential_euler", backend="cpu").counts


def test_lif_peer_matches_fastkernels(brian2):
    I = np.random.default_rng(0).uniform(0.5, 2.0, 200)  # the lif_population case's input
    steps = 300  # 30 ms: the first spike comes after 6.9 ms (I = 2) or never (I <= 1)
    peer = lif_population_peer("runtime", codegen_target="numpy")
    out = peer(I, steps)
    assert isinstance(out, PeerTiming)
    counts, seconds = out
    assert counts.dtype == np.int64 and counts.shape == (200,)
    assert seconds > 0
    ref = _lif_counts(I, steps)
    assert ref.sum() > 100 and (ref == 0).any()  # spikes, refractory periods and silent neurons
    np.testing.assert_array_equal(counts, ref)
    # A second call in the same process is an independent run on its own input.
    np.testing.assert_array_equal(peer(I[:50], 150).result, _lif_counts(I[:50], 150))


def test_hh_peer_matches_fastkernels(brian2):
    I = np.random.default_rng(0).uniform(0.0, 20.0, 200)  # the hh_population case's input
    steps = 200  # 20 ms: one or two spikes from the neurons above onset
    counts, seconds = hh_population_peer("runtime", codegen_target="numpy")(I, steps)
    ref = _hh_counts(I, steps)
    assert counts.dtype == np.int64 and seconds > 0
    assert ref.sum() > 100 and (ref == 0).any()  # silent and firing neurons
    np.testing.assert_array_equal(counts, ref)


def test_hh_peer_constant_current(brian2):
    I = np.full(20, 10.0)  # DESIGN.md's HH figure: 10 uA/cm2, 7 spikes in 100 ms
    counts, _ = hh_population_peer("runtime", codegen_target="numpy")(I, 1000)
    np.testing.assert_array_equal(counts, _hh_counts(I, 1000))
    assert (counts == 7).all()


def test_standalone_without_compiler_is_a_missing_peer(brian2, monkeypatch):
    import fastkernels.neurons._brian2_peer as bp

    monkeypatch.setattr(bp, "_compiler", lambda: None)
    with pytest.raises(ImportError, match="compiler"):
        bp.lif_population_peer("cpp_standalone")
