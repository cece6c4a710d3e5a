"""Connectivity rules (fastkernels.networks.rules).

References: the Brian2 tutorial Part II as digested in notes/seeds_000_004.md section 2 (C1-C9:
synapse counts 90 / 48 / 10, the distance-weight extremes 5.6677e-4 and 0.99115, E[#syn] of C9
= 421.66).
"""

import math

import numpy as np
import pytest
from test_networks_connectivity import (  # the CSR checks, written once
    pairs,
    rows_ascending,
    same,
)

from fastkernels._backend import num_threads
from fastkernels.networks import (
    Connectivity,
    all_to_all,
    bernoulli,
    fixed_in_degree,
    fixed_out_degree,
    gaussian_distance,
    neighbourhood,
    one_to_one,
)
from fastkernels.networks import _connectivity_kernels as K

stats = pytest.importorskip("scipy.stats")


# -- the tutorial's references (C1-C9, Y2-Y3) --------------------------------------------------


def test_c3_p1_all_pairs_but_self_is_90():
    c = bernoulli(10, 10, 1.0, condition="i != j", seed=0)
    assert c.n_synapses == 90
    assert pairs(c) == {(i, j) for i in range(10) for j in range(10) if i != j}
    assert same(c, all_to_all(10, 10, self_connections=False))
    assert all_to_all(10, 10).n_synapses == 100


def test_c4_c5_neighbourhood_is_the_48_pairs():
    want = {(i, k) for i in range(10) for k in range(max(i - 3, 0), min(i + 4, 10)) if i != k}  # C5's generator
    assert len(want) == 48
    for c in (neighbourhood(10, 10, 3),
              bernoulli(10, 10, 1.0, condition="|i - j| <= k", k=3, self_connections=False),
              bernoulli(10, 10, 1.0, condition="abs(i-j)<=k", k=3, self_connections=False),
              bernoulli(10, 10, 1.0, condition=lambda i, j: (np.abs(i - j) < 4) & (i != j))):
        assert c.n_synapses == 48 and pairs(c) == want and rows_ascending(c)


def test_c6_one_to_one_is_10():
    c = one_to_one(10)
    assert c.n_synapses == 10 and np.array_equal(c.i, c.j) and c.n_pre == c.n_post == 10


def test_c1_c3_bernoulli_counts_average_p_n_n_minus_1():
    for p in (0.1, 0.2, 0.25, 0.5):
        counts = np.array([bernoulli(10, 10, p, condition="i != j", seed=s).n_synapses for s in range(400)])
        sd = np.sqrt(90 * p * (1 - p) / counts.size)
        assert abs(counts.mean() - 90 * p) < 4 * sd, (p, counts.mean())
    c = bernoulli(10, 10, 0.2, condition="i != j", seed=3)
    assert not (c.i == c.j).any()


X_UM = np.arange(30) * 50.0  # C7-C9: 30 neurons 50 um apart
WIDTH = 30 / 4.0 * 50.0  # 375 um


def test_c7_c8_distance_weights():
    c = gaussian_distance(X_UM, sigma=None, weight_sigma=WIDTH, self_connections=False)
    assert c.n_synapses == 870
    dx = X_UM[c.i] - X_UM[c.j]
    np.testing.assert_allclose(c.weight, np.exp(-dx**2 / (2 * WIDTH**2)), rtol=1e-15)
    np.testing.assert_allclose([c.weight.min(), c.weight.max()], [5.6677e-4, 0.99115], rtol=1e-4)
    c.weight[:] = 1 - np.exp(-dx**2 / (2 * WIDTH**2))  # C8: reversed, set in place
    np.testing.assert_allclose([c.weight.min(), c.weight.max()], [1 - 0.99115, 1 - 5.6677e-4], rtol=1e-3)


def test_c9_distance_probability_matches_its_formula():
    d2 = (X_UM[:, None] - X_UM[None, :]) ** 2
    p = np.exp(-d2 / (2 * WIDTH**2))
    np.fill_diagonal(p, 0)
    assert abs(p.sum() - 421.66) < 0.01
    hits = np.zeros((30, 30))
    counts = []
    for s in range(300):
        c = gaussian_distance(X_UM, sigma=WIDTH, weight_sigma=WIDTH, self_connections=False, seed=s)
        counts.append(c.n_synapses)
        hits[c.i, c.j] += 1
        dx = X_UM[c.i] - X_UM[c.j]
        np.testing.assert_allclose(c.weight, np.exp(-dx**2 / (2 * WIDTH**2)), rtol=1e-15)
    var = (p * (1 - p)).sum()
    assert abs(np.mean(counts) - p.sum()) < 4 * np.sqrt(var / len(counts))
    # per distance |i - j| = 1..29: hits against 300 * sum of p over those pairs
    lag = np.abs(np.subtract.outer(np.arange(30), np.arange(30)))
    obs = np.array([hits[lag == g].sum() for g in range(1, 30)])
    exp = np.array([300 * p[lag == g].sum() for g in range(1, 30)])
    big = exp > 20
    chi2 = (((obs - exp) ** 2 / exp)[big]).sum()
    assert stats.chi2.sf(chi2, big.sum()) > 1e-3


def test_y2_y3_weights_and_delays_from_arrays():
    c = Connectivity.from_arrays(0, [1, 2], n_pre=3, n_post=3)  # S.connect(i=0, j=[1, 2])
    c.weight = c.j * 0.2  # S.w = 'j * 0.2'
    c.delay = c.j * 2.0  # S.delay = 'j * 2 * ms'
    np.testing.assert_allclose(c.weight, [0.2, 0.4])
    assert c.delay_steps(0.1).tolist() == [20, 40] and c.delay_steps(0.1).dtype == np.int32


# -- statistics of the random rules ------------------------------------------------------------


def _chi2_counts(observed_counts, pmf_of):
    """Chi-square of a sample of counts against a pmf, pooling tails until each bin expects >= 5."""
    n = observed_counts.size
    kmax = int(observed_counts.max()) + 1
    ks = np.arange(kmax + 1)
    expected = n * pmf_of(ks)
    expected[-1] = n - expected[:-1].sum()  # upper tail
    obs = np.bincount(observed_counts, minlength=kmax + 1).astype(float)
    bins_o, bins_e, acc_o, acc_e = [], [], 0.0, 0.0
    for o, e in zip(obs, expected):
        acc_o, acc_e = acc_o + o, acc_e + e
        if acc_e >= 5:
            bins_o.append(acc_o)
            bins_e.append(acc_e)
            acc_o = acc_e = 0.0
    bins_o[-1] += acc_o
    bins_e[-1] += acc_e
    bins_o, bins_e = np.array(bins_o), np.array(bins_e)
    chi2 = ((bins_o - bins_e) ** 2 / bins_e).sum()
    return stats.chi2.sf(chi2, len(bins_o) - 1)


@pytest.mark.parametrize("p", [0.003, 0.05, 0.5, 0.97])
def test_bernoulli_row_counts_are_binomial(p):
    m = 400
    c = bernoulli(3000, m, p, seed=11)
    assert _chi2_counts(c.out_degree(), lambda k: stats.binom.pmf(k, m, p)) > 1e-3
    assert rows_ascending(c)
    # the posts are uniform over the row: chi-square of the posts in 20 bins
    h = np.bincount(c.post // (m // 20), minlength=20)
    assert stats.chisquare(h).pvalue > 1e-3


def test_bernoulli_without_self_and_in_neighbourhoods():
    c = bernoulli(500, 300, 0.3, condition="i != j", seed=2)
    assert not (c.i == c.j).any() and rows_ascending(c)
    c = bernoulli(300, 200, 0.5, condition="|i - j| <= k", k=7, self_connections=False, seed=5)
    assert (np.abs(c.i.astype(int) - c.j) <= 7).all() and not (c.i == c.j).any()
    span = np.array([min(i + 8, 200) - max(i - 7, 0) - (i < 200) for i in range(300)]).clip(0)
    assert _chi2_counts(c.out_degree()[span == 14], lambda k: stats.binom.pmf(k, 14, 0.5)) > 1e-3
    assert c.out_degree()[span == 0].sum() == 0  # rows beyond n_post + k have no neighbours


def test_bernoulli_callable_condition_filters_the_same_draws():
    def even(i, j):
        return (i + j) % 2 == 0

    a, b = bernoulli(200, 150, 0.2, seed=9), bernoulli(200, 150, 0.2, condition=even, seed=9)
    keep = (a.i.astype(int) + a.j) % 2 == 0
    assert np.array_equal(b.i, a.i[keep]) and np.array_equal(b.j, a.j[keep])
    full = bernoulli(40, 30, 1.0, condition=even, self_connections=False)
    assert pairs(full) == {(i, j) for i in range(40) for j in range(30) if (i + j) % 2 == 0 and i != j}
    assert bernoulli(5, 5, 1.0, condition=lambda i, j: np.bool_(False)).n_synapses == 0


def test_bernoulli_callable_is_called_in_chunks_of_whole_rows(monkeypatch):
    monkeypatch.setattr(K, "CONDITION_CHUNK", 64)
    calls = []

    def cond(i, j):
        calls.append((i.copy(), j.copy()))
        assert i.dtype == j.dtype == np.int64 and i.shape == j.shape
        return j < 20

    c = bernoulli(100, 40, 0.5, condition=cond, seed=1)
    assert len(calls) > 5
    assert np.array_equal(np.concatenate([i for i, _ in calls]), bernoulli(100, 40, 0.5, seed=1).i)
    assert (c.j < 20).all() and pairs(c) == {x for x in pairs(bernoulli(100, 40, 0.5, seed=1)) if x[1] < 20}


@pytest.mark.parametrize("rule", [fixed_out_degree, fixed_in_degree])
@pytest.mark.parametrize("degree", [0, 1, 7, 60, 99, 100])
def test_fixed_degree_exact_distinct_uniform(rule, degree):
    n_pre, n_post = (150, 100) if rule is fixed_out_degree else (100, 150)
    c = rule(n_pre, n_post, degree, seed=4)
    deg = c.out_degree() if rule is fixed_out_degree else c.in_degree()
    assert (deg == degree).all() and c.n_synapses == degree * 150
    assert rows_ascending(c)  # sorted, and no pair twice
    if 0 < degree < 100:
        other = c.in_degree() if rule is fixed_out_degree else c.out_degree()
        # each of the 150 rows picks 'degree' of 100 targets: a target's count is Binomial-like
        # (hypergeometric rows, independent): its mean is 150 * degree / 100
        assert abs(other.mean() - 1.5 * degree) < 1e-9
        assert stats.chisquare(other).pvalue > 1e-3
        assert abs(other.var() - 150 * degree / 100 * (1 - degree / 100)) < 0.35 * 1.5 * degree + 1


@pytest.mark.parametrize("rule", [fixed_out_degree, fixed_in_degree])
def test_fixed_degree_without_self(rule):
    c = rule(80, 80, 79, self_connections=False, seed=1)
    assert c.n_synapses == 80 * 79 and not (c.i == c.j).any() and rows_ascending(c)
    c = rule(80, 60, 12, self_connections=False, seed=2)
    assert not (c.i == c.j).any() and rows_ascending(c)


def test_fixed_degree_subsets_are_uniform():
    # all 10 subsets of size 2 of 5 posts, over 20 000 rows
    c = fixed_out_degree(20000, 5, 2, seed=8)
    code = c.post.reshape(-1, 2) @ np.array([5, 1])
    h = np.bincount(code, minlength=25)
    h = h[h > 0]
    assert h.size == 10 and stats.chisquare(h).pvalue > 1e-3
    c = fixed_out_degree(20000, 5, 3, seed=8)  # complement path (2 * 3 > 5)
    code = c.post.reshape(-1, 3) @ np.array([25, 5, 1])
    h = np.bincount(code)
    h = h[h > 0]
    assert h.size == 10 and stats.chisquare(h).pvalue > 1e-3


@pytest.mark.parametrize("k", [3, 20, 45])
def test_fixed_degree_smallest_post_follows_the_exact_law(k):
    # K of m = 60 (k = 20: Bernoulli pass then top-up; 45: the complement). For a uniform
    # K-subset, P(min >= x) = C(m - x, K) / C(m, K); the posts are sorted, so min = row[0].
    m, rows = 60, 20000
    c = fixed_out_degree(rows, m, k, seed=21)
    assert rows_ascending(c)
    mins = np.bincount(c.post[c.indptr[:-1]], minlength=m)
    sf = np.array([math.comb(m - x, k) / math.comb(m, k) for x in range(m + 1)])
    expected = rows * (sf[:-1] - sf[1:])
    ok = expected > 5
    chi2 = ((mins[ok] - expected[ok]) ** 2 / expected[ok]).sum()
    assert stats.chi2.sf(chi2, ok.sum() - 1) > 1e-3
    assert stats.chisquare(c.in_degree()).pvalue > 1e-3


# -- reproducibility ------------------------------------------------------------------------------

RULES = {
    "bernoulli": lambda **kw: bernoulli(700, 500, 0.07, condition="i != j", **kw),
    "neighbourhood": lambda **kw: bernoulli(700, 500, 0.4, condition="|i - j| <= k", k=30, **kw),
    "fixed_out": lambda **kw: fixed_out_degree(400, 300, 25, self_connections=False, **kw),
    "fixed_in": lambda **kw: fixed_in_degree(300, 400, 25, self_connections=False, **kw),
    "distance": lambda **kw: gaussian_distance(np.linspace(0, 10, 600).reshape(-1, 2), sigma=1.5, p_max=0.6,
                                               weight_sigma=2.0, **kw),
}


@pytest.mark.parametrize("rule", sorted(RULES))
def test_serial_equals_parallel_and_seeds(rule):
    make = RULES[rule]
    ref = make(seed=123, backend="cpu")
    assert ref.n_synapses > 1000
    for threads in (1, 2):
        with num_threads(threads):
            assert same(ref, make(seed=123, backend="parallel"))
    assert same(ref, make(seed=123, backend="auto"))
    assert same(ref, make(seed=123))
    assert not same(ref, make(seed=124, backend="cpu"))
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    assert same(make(seed=g1), make(seed=g2))
    assert not same(make(seed=g1), make(seed=np.random.default_rng(6)))


def test_rules_draw_from_distinct_streams():
    # one seed for two rules must not give correlated rows: the rule keys differ
    keys = {K.rule_key(np.int64(1), r) for r in (K.BERNOULLI, K.FIXED_OUT, K.FIXED_IN, K.DISTANCE)}
    assert len(keys) == 4


def test_deterministic_rules_leave_a_generator_alone():
    g = np.random.default_rng(1)
    state = g.bit_generator.state
    bernoulli(10, 10, 1.0, seed=g)
    bernoulli(10, 10, 0.0, seed=g)
    gaussian_distance(X_UM, sigma=None, seed=g)
    assert g.bit_generator.state == state
    bernoulli(10, 10, 0.5, seed=g)
    assert g.bit_generator.state != state


# -- bad input --------------------------------------------------------------------------------------


BAD = [
    (bernoulli, (10, 10, 1.5), {}, ValueError, "p"),
    (bernoulli, (10, 10, -0.1), {}, ValueError, "p"),
    (bernoulli, (10, 10, np.nan), {}, ValueError, "p"),
    (bernoulli, (10, 10, "0.1"), {}, TypeError, "p"),
    (bernoulli, (10.0, 10, 0.1), {}, TypeError, "n_pre"),
    (bernoulli, (10, -1, 0.1), {}, ValueError, "n_post"),
    (bernoulli, (True, 10, 0.1), {}, TypeError, "n_pre"),
    (bernoulli, (2**31, 10, 0.1), {}, ValueError, "n_pre"),
    (bernoulli, (10, 10, 0.1), {"condition": "i > j"}, ValueError, "condition"),
    (bernoulli, (10, 10, 0.1), {"condition": 3}, TypeError, "condition"),
    (bernoulli, (10, 10, 0.1), {"condition": "|i - j| <= k"}, ValueError, "k"),
    (bernoulli, (10, 10, 0.1), {"condition": "|i - j| <= k", "k": -1}, ValueError, "k"),
    (bernoulli, (10, 10, 0.1), {"condition": "|i - j| <= k", "k": 1.0}, TypeError, "k"),
    (bernoulli, (10, 10, 0.1), {"k": 2}, ValueError, "k"),
    (bernoulli, (10, 10, 0.1), {"self_connections": "no"}, TypeError, "self_connections"),
    (bernoulli, (10, 10, 0.1), {"seed": -1}, ValueError, "seed"),
    (bernoulli, (10, 10, 0.1), {"seed": "1"}, TypeError, "seed"),
    (bernoulli, (10, 10, 0.0), {"seed": 1.5}, TypeError, "seed"),
    (bernoulli, (10, 10, 0.1), {"weight": np.inf}, ValueError, "weight"),
    (bernoulli, (10, 10, 0.1), {"weight": [1.0, 2.0]}, TypeError, "weight"),
    (bernoulli, (10, 10, 0.1), {"weight": 1e39, "dtype": np.float32}, ValueError, "weight"),
    (bernoulli, (10, 10, 0.1), {"delay": -1.0}, ValueError, "delay"),
    (bernoulli, (10, 10, 0.1), {"delay": np.nan}, ValueError, "delay"),
    (bernoulli, (10, 10, 0.1), {"dtype": np.int32}, ValueError, "dtype"),
    (bernoulli, (10, 10, 0.1), {"dtype": None}, TypeError, "dtype"),
    (bernoulli, (10, 10, 0.1), {"backend": "cuda"}, ValueError, "bernoulli"),
    (bernoulli, (10, 10, 0.1), {"backend": "gpu"}, ValueError, "backend"),
    (bernoulli, (10, 10, 1.0), {"condition": lambda i, j: (i + j) % 2}, TypeError, "condition"),
    (bernoulli, (10, 10, 1.0), {"condition": lambda i, j: np.ones(3, bool)}, ValueError, "condition"),
    (bernoulli, (10, 10, 1.0), {"condition": lambda i, j: [True] * len(i)}, TypeError, "condition"),
    (bernoulli, (2**31 - 1, 2**31 - 1, 0.5), {}, ValueError, "n_pre \\* n_post \\* p"),
    (all_to_all, (2**31 - 1, 2**31 - 1), {}, ValueError, "n_pre \\* n_post"),
    (all_to_all, (10, 10), {"backend": "cuda"}, ValueError, "all_to_all"),
    (neighbourhood, (10, 10, -2), {}, ValueError, "k"),
    (one_to_one, (-1,), {}, ValueError, "n"),
    (one_to_one, (3,), {"delay": "1"}, TypeError, "delay"),
    (fixed_out_degree, (10, 10, 11), {}, ValueError, "degree"),
    (fixed_out_degree, (10, 10, 10), {"self_connections": False}, ValueError, "degree"),
    (fixed_in_degree, (10, 20, 11), {}, ValueError, "degree"),
    (fixed_in_degree, (10, 20, 2.0), {}, TypeError, "degree"),
    (fixed_in_degree, (10, 20, -1), {}, ValueError, "degree"),
    (fixed_out_degree, (2**31 - 1, 2**31 - 1, 2**30), {}, ValueError, "degree"),
    (gaussian_distance, ([0.0, 1.0],), {"sigma": 0.0}, ValueError, "sigma"),
    (gaussian_distance, ([0.0, 1.0],), {"sigma": 1e-200}, ValueError, "sigma"),
    (gaussian_distance, ([0.0, 1.0],), {"sigma": 1.0, "weight_sigma": -1.0}, ValueError, "weight_sigma"),
    (gaussian_distance, ([0.0, 1.0],), {"sigma": 1.0, "p_max": 2.0}, ValueError, "p_max"),
    (gaussian_distance, ([0, 1],), {"sigma": 1.0}, TypeError, "pre_positions"),
    (gaussian_distance, ([0.0, np.nan],), {"sigma": 1.0}, ValueError, "pre_positions"),
    (gaussian_distance, ([0.0, 1e200],), {"sigma": 1.0}, ValueError, "pre_positions"),
    (gaussian_distance, (np.zeros((2, 2, 2)),), {"sigma": 1.0}, ValueError, "pre_positions"),
    (gaussian_distance, (np.zeros((3, 2)), np.zeros((3, 3))), {"sigma": 1.0}, ValueError, "post_positions"),
    (gaussian_distance, ([0.0, 1.0],), {"sigma": 1.0, "weight_max": np.inf}, ValueError, "weight"),
]


@pytest.mark.bad_input
@pytest.mark.parametrize("fn, args, kwargs, exc, name", BAD, ids=[f"{b[0].__name__}-{b[4]}-{n}" for n, b in enumerate(BAD)])
def test_bad_rule_arguments_name_the_argument(fn, args, kwargs, exc, name):
    with pytest.raises(exc, match=name):
        fn(*args, **kwargs)


@pytest.mark.bad_input
def test_errors_leave_inputs_and_objects_unchanged():
    i, j, w = np.array([0, 1, 2]), np.array([1, 2, 5]), np.array([1.0, 2.0, 3.0])
    snap = [a.copy() for a in (i, j, w)]
    with pytest.raises(ValueError, match="j"):
        Connectivity.from_arrays(i, j, w, n_pre=3, n_post=3)
    assert all(np.array_equal(a, b) for a, b in zip((i, j, w), snap))
    c = bernoulli(20, 20, 0.5, seed=1, delay=1.0)
    w0, d0 = c.weight.copy(), c.delay.copy()
    for bad in (np.nan, np.ones(c.n_synapses + 1), "x"):
        with pytest.raises((TypeError, ValueError), match="weight"):
            c.weight = bad
        with pytest.raises((TypeError, ValueError), match="delay"):
            c.delay = bad
    assert np.array_equal(c.weight, w0) and np.array_equal(c.delay, d0)
    with pytest.raises(ValueError, match="delay"):
        c.delay = -np.ones(c.n_synapses)
    assert np.array_equal(c.delay, d0)
    # a Generator seed comes back as it was when the condition callable raises after the draws
    g = np.random.default_rng(3)
    state = g.bit_generator.state

    def boom(i, j):
        raise RuntimeError("user condition failed")

    with pytest.raises(RuntimeError, match="user condition"):
        bernoulli(10, 10, 0.5, condition=boom, seed=g)
    assert g.bit_generator.state == state
    with pytest.raises(TypeError, match="condition"):
        bernoulli(10, 10, 0.5, condition=lambda i, j: i, seed=g)
    assert g.bit_generator.state == state


def test_warmup_compiles_every_builder():
    """The warmup leaves the benchmark networks' run kernels compiled (one backend and precision
    here: every combination compiled eight network kernels, ~35 s of the suite; the others are
    compiled by the tests that use them), and has nothing to compile for CUDA."""
    import fastkernels.networks as nw
    from fastkernels.networks._network_kernels import network_kernels

    nw._warmup("cpu", np.dtype(np.float64))
    nw._warmup("cuda", np.dtype(np.float32))
    for n_cur, n_cond in ((2, 0), (0, 2)):  # CUBA, COBA
        serial, _parallel = network_kernels(False, False, False, False, True, False, n_cur, n_cond)
        assert serial.signatures
