"""STDP (fastkernels.networks.stdp and _stdp_kernels): the seed's demo and 100-pair check (digest
items 14-16), Brian2 2.9 runs with clipping, a per-synapse NumPy reference, by_post, parameters.

The kernels are driven directly, one step at a time, by a small Python loop (the run loop's job)."""

import dataclasses
import math

import numba
import numpy as np
import pytest

from fastkernels.networks import _stdp_kernels as K
from fastkernels.networks.stdp import STDP

DT = 0.1  # ms


def spikes_by_step(ids, steps, n_steps):
    """{step: ascending ids} -> list of int64 arrays, one per step."""
    out = [[] for _ in range(n_steps)]
    for i, k in zip(ids, steps):
        out[k].append(i)
    return [np.array(sorted(x), dtype=np.int64) for x in out]


def drive(rule, indptr, post, weight, n_post, pre_spikes, post_spikes, n_steps, dt=DT, fused=False):
    """Run the STDP kernels over ``n_steps`` steps; returns (weight, x_pre, k_pre, x_post, k_post)."""
    params = rule.kernel_params(dt)
    indptr_post, syn, pre = K.by_post(indptr, post, n_post)
    x_pre, k_pre = np.zeros(indptr.size - 1), np.zeros(indptr.size - 1, np.int64)
    x_post, k_post = np.zeros(n_post), np.zeros(n_post, np.int64)
    for k in range(n_steps):
        ps, qs = pre_spikes[k], post_spikes[k]
        if fused:
            K.stdp_step(k, ps, ps.size, qs, qs.size, indptr, post, indptr_post, syn, pre, weight,
                        x_pre, k_pre, x_post, k_post, params)
        else:
            K.stdp_on_pre(k, ps, ps.size, indptr, post, weight, x_pre, k_pre, x_post, k_post, params)
            K.stdp_on_post(k, qs, qs.size, indptr_post, syn, pre, weight, x_pre, k_pre, x_post, k_post, params)
    return weight, x_pre, k_pre, x_post, k_post


def csr(ii, jj, n_pre):
    """CSR of the pairs (ii, jj) in the given order (ii non-decreasing, jj ascending per row)."""
    indptr = np.zeros(n_pre + 1, np.int64)
    np.add.at(indptr, np.asarray(ii) + 1, 1)
    return np.cumsum(indptr), np.asarray(jj, np.int32)


def read(x, k_last, k, tau):
    out = np.empty_like(x)
    K.traces_at(k, x, k_last, DT / tau, out)
    return out


# -- the seed's examples ----------------------------------------------------------------------


def test_demo_two_neurons():
    """Seed 000 lines 1209-1259: pre at 10.1 ms, post at 20.1 ms, 30 ms (300 steps)."""
    rule = STDP()
    indptr, post = np.array([0, 1, 1], np.int64), np.array([1], np.int32)
    w, x_pre, k_pre, x_post, k_post = drive(rule, indptr, post, np.zeros(1), 2, spikes_by_step([0], [101], 300),
                                            spikes_by_step([1], [201], 300), 300)
    assert w[0] == pytest.approx(0.01 * math.exp(-0.5), rel=1e-12)
    assert w[0] == pytest.approx(0.006065306597126334, rel=1e-12)  # Brian2 2.9, event- and clock-driven
    # Brian2's clock-driven S.apre/S.apost after run(30 ms) hold the traces as the last step (k = 299) reads them
    assert read(x_pre, k_pre, 299, 20.0)[0] == pytest.approx(0.0037157669102204595, rel=1e-12)
    assert read(x_post, k_post, 299, 20.0)[1] == pytest.approx(-0.006432577138936377, rel=1e-12)
    assert read(x_pre, k_pre, 300, 20.0)[0] == pytest.approx(0.01 * math.exp(-19.9 / 20), rel=1e-12)  # t = 30.0 ms
    assert k_pre.tolist() == [101, 0] and k_post.tolist() == [0, 201]


def first_step_after(tspike_ms):
    """Brian2's ``threshold='t > tspike'``: the first step k with k * dt > tspike (t in seconds)."""
    ts = np.asarray(tspike_ms) * 1e-3
    k = np.floor(ts / 1e-4).astype(np.int64)
    k = np.where((k - 1) * 1e-4 > ts, k - 1, k)
    return np.where(k * 1e-4 > ts, k, k + 1)


def test_hundred_pairs_equal_the_window():
    """Seed 000 lines 1261-1305: G spikes at i tmax/(N-1), H at (N-1-i) tmax/(N-1), one-to-one, no clipping,
    run(tmax + 1 ms)."""
    n, tmax = 100, 50.0
    rule = STDP(w_min=-np.inf, w_max=np.inf)
    i = np.arange(n)
    tg, th = i * tmax / (n - 1), (n - 1 - i) * tmax / (n - 1)
    kg, kh = first_step_after(tg), first_step_after(th)
    assert kg[:5].tolist() == [1, 6, 11, 16, 21] and kg[-1] == 501 and kh[0] == 501  # as in Brian2 2.9
    steps = 510
    indptr, post = csr(i, i, n)
    w = drive(rule, indptr, post, np.zeros(n), n, spikes_by_step(i, kg, steps), spikes_by_step(i, kh, steps), steps)[0]
    # digest item 15 (5 digits) and Brian2 2.9's values (full precision)
    assert w[[0, 49, 50, 99]] == pytest.approx([8.2085e-4, 9.7531e-3, -1.02408e-2, -8.6189e-4], rel=6e-5)
    brian2 = [0.0008208499862389881, 0.009753099120283328, -0.010240754076297496, -0.0008618924855509374]
    np.testing.assert_allclose(w[[0, 49, 50, 99]], brian2, rtol=1e-12)
    np.testing.assert_allclose(w, rule.window((kh - kg) * DT), rtol=1e-12)  # exact on the step grid
    dev = np.abs(w - rule.window(th - tg)).max()
    assert dev <= 3.2e-5 and dev == pytest.approx(3.12547754952883e-05, rel=1e-9)
    assert (np.sign(w) == np.sign(th - tg)).all()


# -- Brian2 2.9 with clipping (numpy target, SpikeGeneratorGroup input; script in the report) -----

B2_PRE_I = [0] * 12 + [1] * 12 + [2] * 12 + [3] * 12
B2_PRE_K = [22, 89, 113, 119, 227, 243, 267, 305, 329, 349, 351, 367, 99, 108, 174, 188, 199, 202, 219, 230, 280,
            323, 388, 397, 13, 17, 44, 55, 173, 184, 202, 251, 320, 328, 365, 383, 1, 61, 78, 145, 192, 213, 244,
            264, 269, 282, 329, 343]
B2_POST_I = [0] * 12 + [1] * 12 + [2] * 12 + [0]
B2_POST_K = [35, 95, 143, 184, 200, 212, 239, 242, 256, 272, 285, 345, 147, 153, 173, 176, 217, 224, 231, 238, 253,
             269, 382, 399, 2, 5, 36, 52, 83, 118, 196, 212, 263, 346, 370, 397, 22]  # last: same step as pre 0
B2_I, B2_J = [0, 0, 0, 1, 1, 2, 2, 2, 3, 3], [0, 1, 1, 0, 2, 0, 1, 2, 1, 2]  # 0 -> 1 twice
B2_W0 = [0.0046395284237226225, 0.002761632438336319, 0.0009027624922445581, 0.0044202844709823495,
         0.0032078585261124037, 0.0028484713723690397, 0.0018814391806496007, 0.0020547764107856493,
         0.0011974460634092243, 0.00019028643345619546]
B2_CASES = {
    (0.0, 0.01): [0.0, 0.00626162405066575, 0.00626162405066575, 0.0028211020465382397, 0.0035190494139193127, 0.0,
                  0.003825163637520624, 0.0033266549712822973, 0.005286751651364484, 0.008781703684060931],
    (-0.002, 0.006): [-0.002, 0.00426162405066575, 0.00426162405066575, -0.0011788979534617591,
                      0.0015190494139193126, -0.002, 0.0006491484910557252, 0.0013266549712822972,
                      0.0032867516513644846, 0.006],
    (-np.inf, np.inf): [-0.00665970058450239, 0.000242339530159012, -0.0016165304159327489, 0.0008209529566349273,
                        -0.005485505014479114, 0.0027449284664636006, 0.005360941753943419, 0.0004265770086354071,
                        0.0009937104582884164, -0.003570951625666066],
}


@pytest.mark.parametrize("bounds", list(B2_CASES))
@pytest.mark.parametrize("fused", [False, True])
def test_brian2_clipped_network(bounds, fused):
    rule = STDP(A_pre=0.0005, A_post=-0.000525, w_min=bounds[0], w_max=bounds[1])
    indptr, post = csr(B2_I, B2_J, 4)
    w = drive(rule, indptr, post, np.array(B2_W0), 3, spikes_by_step(B2_PRE_I, B2_PRE_K, 400),
              spikes_by_step(B2_POST_I, B2_POST_K, 400), 400, fused=fused)[0]
    np.testing.assert_allclose(w, B2_CASES[bounds], rtol=1e-12, atol=1e-18)


@numba.njit
def _jitted_run(spikes_pre, n_pre_spikes, spikes_post, n_post_spikes, indptr, post, weight, n_post, params):
    """How a compiled run loop calls the kernels: one step at a time, spike buffers plus counts."""
    indptr_post, syn, pre = K.by_post(indptr, post, n_post)
    x_pre, k_pre = np.zeros(indptr.size - 1), np.zeros(indptr.size - 1, np.int64)
    x_post, k_post = np.zeros(n_post), np.zeros(n_post, np.int64)
    for k in range(n_pre_spikes.size):
        K.stdp_step(k, spikes_pre[k], n_pre_spikes[k], spikes_post[k], n_post_spikes[k], indptr, post,
                    indptr_post, syn, pre, weight, x_pre, k_pre, x_post, k_post, params)
    return weight


def test_callable_from_a_jitted_run_loop():
    def buffers(ids, steps, n):
        buf, cnt = np.full((400, n), -1, np.int32), np.zeros(400, np.int64)
        for k, row in enumerate(spikes_by_step(ids, steps, 400)):
            buf[k, :row.size], cnt[k] = row, row.size
        return buf, cnt

    rule = STDP(A_pre=0.0005, A_post=-0.000525, w_min=-np.inf, w_max=np.inf)
    indptr, post = csr(B2_I, B2_J, 4)
    w = _jitted_run(*buffers(B2_PRE_I, B2_PRE_K, 4), *buffers(B2_POST_I, B2_POST_K, 3), indptr, post,
                    np.array(B2_W0), 3, rule.kernel_params(DT))
    np.testing.assert_allclose(w, B2_CASES[(-np.inf, np.inf)], rtol=1e-12)


# -- a per-synapse reference (Brian2's event-driven semantics, written plainly) ------------------


def reference(rule, ii, jj, w, pre_spikes, post_spikes, n_steps, dtype):
    """Per-synapse traces with a per-synapse last-update time, each update rounded into ``dtype``."""
    w = np.array(w, dtype)
    apre, apost, last = np.zeros(len(ii)), np.zeros(len(ii)), np.zeros(len(ii), np.int64)

    def decay(s, k):
        apre[s] *= math.exp(-(k - last[s]) * DT / rule.tau_pre)
        apost[s] *= math.exp(-(k - last[s]) * DT / rule.tau_post)
        last[s] = k

    for k in range(n_steps):
        for s in np.flatnonzero(np.isin(ii, pre_spikes[k])):
            decay(s, k)
            apre[s] += rule.A_pre
            w[s] = dtype(min(max(float(w[s]) + apost[s], rule.w_min), rule.w_max))
        for s in np.flatnonzero(np.isin(jj, post_spikes[k])):
            decay(s, k)
            apost[s] += rule.A_post
            w[s] = dtype(min(max(float(w[s]) + apre[s], rule.w_min), rule.w_max))
    return w


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_against_per_synapse_reference(rng, dtype):
    n_pre, n_post, n_steps = 6, 5, 300
    dense = rng.integers(0, 3, (n_pre, n_post))  # 0, 1 or 2 synapses per pair
    ii, jj = np.nonzero(dense)
    ii, jj = np.repeat(ii, dense[ii, jj]), np.repeat(jj, dense[ii, jj])
    w0 = rng.uniform(0.0, 0.01, ii.size)
    pre_k = [np.flatnonzero(r) for r in rng.random((n_steps, n_pre)) < 0.04]
    post_k = [np.flatnonzero(r) for r in rng.random((n_steps, n_post)) < 0.04]
    rule = STDP(A_pre=0.002, w_min=0.001, w_max=0.008)
    indptr, post = csr(ii, jj, n_pre)
    w = drive(rule, indptr, post, w0.astype(dtype), n_post, pre_k, post_k, n_steps)[0]
    ref = reference(rule, ii, jj, w0, pre_k, post_k, n_steps, dtype)
    assert w.dtype == dtype
    assert not np.array_equal(ref, w0.astype(dtype)) and (ref == rule.w_max).any() and (ref == rule.w_min).any()
    if dtype == np.float64:
        np.testing.assert_allclose(w, ref, rtol=1e-12)
    else:  # traces differ from the reference's by rounding only: at most one float32 ulp apart
        np.testing.assert_array_max_ulp(w, ref, maxulp=1)


def test_int32_spike_ids_and_counts():
    """int32 ids work; only the first ``n`` entries of a spike buffer are read."""
    rule = STDP()
    indptr, post = np.array([0, 1], np.int64), np.array([0], np.int32)
    params, (ip, syn, pre) = rule.kernel_params(DT), K.by_post(indptr, post, 1)
    w, x, kl, y, kp = np.zeros(1, np.float32), np.zeros(1), np.zeros(1, np.int64), np.zeros(1), np.zeros(1, np.int64)
    buf = np.array([0, 99], np.int32)  # 99 is stale data beyond the count
    K.stdp_on_pre(5, buf, 1, indptr, post, w, x, kl, y, kp, params)
    K.stdp_on_post(15, buf, 1, ip, syn, pre, w, x, kl, y, kp, params)
    assert w[0] == np.float32(0.01 * math.exp(-1.0 / 20))  # rounded once into float32
    K.stdp_on_post(16, buf, 0, ip, syn, pre, w, x, kl, y, kp, params)
    assert kp[0] == 15


def test_clipping_to_w_max_and_w_min():
    indptr, post = np.array([0, 1], np.int64), np.array([0], np.int32)
    hi = drive(STDP(), indptr, post, np.array([0.0095], np.float32), 1, spikes_by_step([0], [1], 4),
               spikes_by_step([0], [2], 4), 4)[0]
    assert hi[0] == np.float32(0.01)
    lo = drive(STDP(w_min=-0.003), indptr, post, np.array([0.0]), 1, spikes_by_step([0], [3], 4),
               spikes_by_step([0], [1], 4), 4)[0]
    assert lo[0] == -0.003
    same = drive(STDP(), indptr, post, np.array([0.0]), 1, spikes_by_step([0], [2], 4),
                 spikes_by_step([0], [2], 4), 4)[0]
    assert same[0] == pytest.approx(STDP().window(0.0), rel=1e-15) == 0.01  # same step: W(0) = A_pre


def test_trace_decay_flushes_to_zero():
    assert K.decayed_trace(1e-300, 0, 10**6, 0.005) == 0.0
    assert K.decayed_trace(1e-300, 0, 10, 0.5) == pytest.approx(1e-300 * math.exp(-5.0), rel=1e-15)  # normal
    assert K.decayed_trace(-1e-300, 0, 40, 0.5) == 0.0  # -1e-300 e^-20 would be subnormal: flushed
    assert K.decayed_trace(0.01, 3, 3, 0.005) == 0.01
    assert K.decayed_trace(0.01, 0, 200, 0.005) == pytest.approx(0.01 * math.exp(-1.0), rel=1e-15)


# -- synapses by postsynaptic neuron -------------------------------------------------------------


@pytest.mark.parametrize("n_pre, n_post, p", [(7, 5, 0.4), (1, 9, 0.9), (5, 1, 0.5), (4, 6, 0.0)])
def test_by_post_matches_argsort(rng, n_pre, n_post, p):
    counts = (rng.random((n_pre, n_post)) < p) * rng.integers(1, 3, (n_pre, n_post))
    ii, jj = np.nonzero(counts)
    ii, jj = np.repeat(ii, counts[ii, jj]), np.repeat(jj, counts[ii, jj])
    indptr, post = csr(ii, jj, n_pre)
    indptr_post, syn, pre = K.by_post(indptr, post, n_post)
    order = np.argsort(post, kind="stable")
    assert indptr_post.dtype == np.int64 and syn.dtype == np.int64 and pre.dtype == np.int32
    np.testing.assert_array_equal(indptr_post, np.concatenate([[0], np.cumsum(np.bincount(post, minlength=n_post))]))
    np.testing.assert_array_equal(syn, order)
    np.testing.assert_array_equal(pre, ii[order])


# -- the rule's parameters and window ------------------------------------------------------------


def test_defaults_and_window_shape():
    rule = STDP()
    assert (rule.tau_pre, rule.tau_post, rule.A_pre, rule.w_min, rule.w_max) == (20.0, 20.0, 0.01, 0.0, 0.01)
    assert rule.A_post == pytest.approx(-0.0105, rel=1e-15)
    assert STDP(tau_post=10.0).A_post == pytest.approx(-0.021, rel=1e-15)
    assert STDP(A_post=-0.02).A_post == -0.02
    assert rule.window(0.0) == 0.01 and rule.window(-1e-12) == pytest.approx(-0.0105, rel=1e-12)
    d = np.array([-40.0, -20.0, 20.0, 40.0])
    np.testing.assert_allclose(rule.window(d), [-0.0105 * math.exp(-2), -0.0105 * math.exp(-1),
                                                0.01 * math.exp(-1), 0.01 * math.exp(-2)], rtol=1e-14)
    assert isinstance(rule.window(3), float) and rule.window([[1, 2]]).shape == (1, 2)
    assert math.isnan(rule.window(np.nan)) and rule.window(np.inf) == 0.0 and rule.window(-np.inf) == 0.0
    trapezoid = getattr(np, "trapezoid", None) or np.trapz  # numpy 1.x
    pos, neg = np.linspace(0.0, 400.0, 400_001), np.linspace(-400.0, -1e-300, 400_001)  # each side of the jump
    total = trapezoid(rule.window(pos), pos) + trapezoid(rule.window(neg), neg)
    assert total == pytest.approx(rule.integral, rel=1e-6)
    assert rule.integral < 0 and rule.integral == pytest.approx(-0.01, rel=1e-12)
    np.testing.assert_array_equal(rule.kernel_params(0.1), [0.01, rule.A_post, 0.005, 0.005, 0.0, 0.01])


@pytest.mark.parametrize("kwargs, exc, field", [
    ({"tau_pre": 0.0}, ValueError, "tau_pre"), ({"tau_post": -1.0}, ValueError, "tau_post"),
    ({"tau_pre": np.inf}, ValueError, "tau_pre"), ({"A_pre": np.nan}, ValueError, "A_pre"),
    ({"A_post": np.inf}, ValueError, "A_post"), ({"w_max": np.nan}, ValueError, "w_max"),
    ({"w_min": 0.02}, ValueError, "w_min"), ({"A_pre": "0.01"}, TypeError, "A_pre"),
    ({"tau_post": True}, TypeError, "tau_post"), ({"w_min": np.inf, "w_max": np.inf}, ValueError, "w_min"),
    ({"A_pre": 1e308, "tau_pre": 1e3}, ValueError, "A_post"),
])
def test_bad_parameters_name_the_field(kwargs, exc, field):
    with pytest.raises(exc, match=field):
        STDP(**kwargs)


def test_bad_dt_and_delta_t():
    with pytest.raises(ValueError, match="dt"):
        STDP().kernel_params(0.0)
    with pytest.raises(TypeError, match="delta_t"):
        STDP().window(["a"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        STDP().A_pre = 1.0
