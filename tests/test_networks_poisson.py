"""PoissonGroup: Brian2's Poisson sources (a Bernoulli trial per step with probability rate * dt).

Statistics are checked with fixed seeds against the binomial law; the draws are counter-based, so
the spikes do not depend on how a run is split into calls, on the thread count or on the other
sources; a network driven by a PoissonGroup equals the same network driven by a
SpikeGeneratorGroup replaying the spikes the PoissonGroup emitted.
"""

import numpy as np
import pytest
from scipy import stats

from fastkernels import networks as nw
from fastkernels.networks._sources import poisson_spikes, source_spikes
from fastkernels.neurons import LIF

DT = 0.1  # ms


def spikes(group, duration, seed=1, steps=None, backend="cpu"):
    M = nw.SpikeMonitor(group)
    net = nw.Network(group, M, seed=seed)
    for d in steps or [duration]:
        net.run(d, backend=backend, progress=False)
    return M


@pytest.mark.parametrize("rates", [20.0, "per-source"])
def test_counts_are_binomial(rates):
    """Each source's count over T is Binomial(T / dt, rate dt): the chi-square of the counts
    against their means and variances, over 2000 sources, and the total within 4 sigma."""
    n, steps = 2000, 10_000
    r = np.full(n, 20.0) if rates == 20.0 else np.linspace(0.0, 80.0, n)
    P = nw.PoissonGroup(n, 20.0 if rates == 20.0 else r)
    M = spikes(P, steps * DT, seed=7)
    p = r * DT * 1e-3
    mean, var = steps * p, steps * p * (1 - p)
    live = var > 0
    assert (M.count[~live] == 0).all()
    chi2 = float((((M.count - mean)[live]) ** 2 / var[live]).sum())
    assert stats.chi2.sf(chi2, live.sum()) > 1e-3 and stats.chi2.cdf(chi2, live.sum()) > 1e-3
    assert abs(M.count.sum() - mean.sum()) < 4 * np.sqrt(var.sum())
    assert M.t.size == M.count.sum() and np.all(np.diff(M.t) >= 0)


def test_one_rate_and_per_source_rates_follow_one_law():
    """The geometric-gap draw (one rate) and the per-source draw give the same interval law: the
    gaps between a source's spikes are geometric with mean 1 / p steps (KS test on both)."""
    n, steps, rate = 400, 20_000, 25.0
    p = rate * DT * 1e-3
    for rates in (rate, np.full(n, rate) + np.r_[1e-9, np.zeros(n - 1)]):  # the second is not uniform
        M = spikes(nw.PoissonGroup(n, rates), steps * DT, seed=3)
        k = np.rint(M.t / DT).astype(np.int64)
        gaps = np.concatenate([np.diff(k[M.i == j]) for j in range(n)])
        assert abs(gaps.mean() - 1 / p) < 4 * np.sqrt((1 - p) / p ** 2 / gaps.size)
        edges = np.array([1, 50, 100, 200, 400, 800, 1600, np.iinfo(np.int64).max])
        seen = np.histogram(gaps, edges)[0]
        expected = gaps.size * np.diff(stats.geom(p).cdf(edges - 1))
        assert stats.chisquare(seen, expected * seen.sum() / expected.sum()).pvalue > 1e-3


def test_the_same_seed_gives_the_same_spikes_however_the_run_is_split():
    whole = spikes(nw.PoissonGroup(50, 30.0), 200.0, seed=5)
    split = spikes(nw.PoissonGroup(50, 30.0), 200.0, seed=5, steps=[100.0, 57.3, 42.7])
    np.testing.assert_array_equal(split.i, whole.i)
    np.testing.assert_array_equal(split.t, whole.t)
    other = spikes(nw.PoissonGroup(50, 30.0), 200.0, seed=6)
    assert not (other.i.size == whole.i.size and np.array_equal(other.i, whole.i))
    par = spikes(nw.PoissonGroup(50, 30.0), 200.0, seed=5, backend="parallel")
    np.testing.assert_array_equal(par.i, whole.i)


def test_a_group_draws_the_same_spikes_whatever_else_is_in_the_network():
    """A group's streams are keyed by its first network id: with the same neurons before it, adding
    a generator after it or another Poisson group after it changes nothing."""
    G = nw.NeuronGroup(3, LIF())
    P = nw.PoissonGroup(40, 50.0)
    M = nw.SpikeMonitor(P)
    nw.Network(G, P, M, seed=9).run(50.0, progress=False)
    G2, P2, Q = nw.NeuronGroup(3, LIF()), nw.PoissonGroup(40, 50.0), nw.PoissonGroup(5, 100.0)
    M2 = nw.SpikeMonitor(P2)
    nw.Network(G2, P2, Q, M2, seed=9).run(50.0, progress=False)
    np.testing.assert_array_equal(M2.i, M.i)
    np.testing.assert_array_equal(M2.t, M.t)


def test_extreme_probabilities():
    """``rate * dt = 1``: a spike every step; rate 0: none; a source of a mixed group with rate 0 never fires."""
    M = spikes(nw.PoissonGroup(7, 1e4), 5.0)
    assert (M.count == 50).all()
    assert spikes(nw.PoissonGroup(7, 0.0), 5.0).num_spikes == 0
    M = spikes(nw.PoissonGroup(3, [0.0, 1e4, 0.0]), 5.0)
    np.testing.assert_array_equal(M.count, [0, 50, 0])


def test_rates_changed_between_runs_take_effect():
    P = nw.PoissonGroup(100, 100.0)
    M = nw.SpikeMonitor(P)
    net = nw.Network(P, M, seed=2)
    net.run(50.0, progress=False)
    n1 = M.num_spikes
    assert n1 > 0
    P.rates[:] = 0.0
    net.run(50.0, progress=False)
    assert M.num_spikes == n1
    P.rates = np.linspace(0.0, 200.0, 100)
    net.run(50.0, progress=False)
    late = M.i[M.t >= 100.0]
    assert late.size > 0 and late.min() > 0


def test_drives_a_network_as_its_recorded_spikes_do():
    """LIF neurons driven by a PoissonGroup (with delays) spike exactly as when driven by a
    SpikeGeneratorGroup replaying the PoissonGroup's recorded spikes."""
    model = LIF(tau_m=10.0, v_rest=-70.0, v_reset=-70.0, v_threshold=-50.0, tau_ref=2.0)

    def run(source, record=None):
        G = nw.NeuronGroup(100, model, v0=-70.0, receptors={"ge": nw.Current(5.0)})
        c = nw.bernoulli(1000, 100, 0.1, seed=0, weight=2.5)
        c.delay = np.random.default_rng(0).integers(0, 15, c.n_synapses) * DT
        S = nw.Synapses(source, G, c, on_pre="v")
        S2 = nw.Synapses(source, G, nw.bernoulli(1000, 100, 0.05, seed=1, weight=1.0), on_pre="ge")
        mons = [nw.SpikeMonitor(G)] + ([nw.SpikeMonitor(source)] if record else [])
        nw.Network(G, source, S, S2, *mons, seed=3).run(300.0, progress=False)
        return mons

    MG, MP = run(nw.PoissonGroup(1000, 10.0), record=True)
    assert MG.num_spikes > 100
    (MG2,) = run(nw.SpikeGeneratorGroup(1000, MP.i, MP.t))
    np.testing.assert_array_equal(MG2.i, MG.i)
    np.testing.assert_array_equal(MG2.t, MG.t)


def test_rate_monitor_of_a_poisson_group():
    P = nw.PoissonGroup(5000, 40.0)
    R = nw.PopulationRateMonitor(P)
    nw.Network(P, R, seed=4).run(100.0, progress=False)
    assert R.rate.shape == (1000,)
    assert abs(R.rate.mean() - 40.0) < 4 * np.sqrt(40.0 / (5000 * 0.1))


def test_source_spikes_merge_generators_and_poisson_draws_in_step_then_id_order():
    gen_k, gen_id = np.array([0, 2, 2, 5]), np.array([1, 0, 3, 2])
    p = np.full(6, 0.5)
    k, i = source_spikes(11, 1, 5, gen_k, gen_id, [(10, p)])
    pk, pi = poisson_spikes(11, 1, 5, 10, p)
    assert k.size == pk.size + 2
    assert np.all(np.diff(k * 100 + i) > 0)
    assert {(2, 0), (2, 3)} <= set(zip(k.tolist(), i.tolist()))
    assert (k >= 1).all() and (k < 5).all()


@pytest.mark.bad_input
def test_bad_input_is_refused_by_name():
    for n in (0, -1, 2.5):
        with pytest.raises((ValueError, TypeError), match="n"):
            nw.PoissonGroup(n, 10.0)
    with pytest.raises(ValueError, match="rates must be >= 0"):
        nw.PoissonGroup(3, [1.0, -1.0, 2.0])
    P = nw.PoissonGroup(3, [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="rates must be >= 0"):
        P.rates = [1.0, -1.0, 1.0]
    np.testing.assert_array_equal(P.rates, [1.0, 2.0, 3.0])  # a refused value is not kept
    for dt in (-0.1, 0.0, np.nan, "a"):
        with pytest.raises((ValueError, TypeError), match="dt"):
            P.probabilities(dt)
    with pytest.raises(ValueError, match="rates must be finite"):
        nw.PoissonGroup(3, np.nan)
    with pytest.raises(ValueError, match="shape"):
        nw.PoissonGroup(3, [1.0, 2.0])
    with pytest.raises(TypeError, match="rates"):
        nw.PoissonGroup(3, "fast")
    P = nw.PoissonGroup(3, 2e4)  # fine until run at dt = 0.1 ms
    M = nw.SpikeMonitor(P)
    net = nw.Network(P, M)
    with pytest.raises(ValueError, match="rates \\* dt must be <= 1"):
        net.run(1.0)
    assert net.step == 0 and M.num_spikes == 0
    P.rates[1] = np.inf  # changed in place to a bad value: refused at the run
    with pytest.raises(ValueError, match="finite"):
        net.run(1.0)
    P.rates[:] = -5.0
    with pytest.raises(ValueError, match=">= 0"):
        net.run(1.0)
    G = nw.NeuronGroup(3, LIF())
    with pytest.raises(TypeError, match="target"):
        nw.Synapses(G, P, nw.one_to_one(3), on_pre="v")
