"""The neuron driver (fastkernels.neurons._driver): spikes gathered from every block in (time, neuron)
order by order_spikes, spike buffers that fill, resume and grow, and the buffers it keeps between runs."""

import threading

import numpy as np
import pytest

from fastkernels.neurons import LIF, _driver, simulate_lif


@pytest.mark.parametrize("first, most", [(1, 1), (1, 64)])
@pytest.mark.parametrize("method", ["exact", "event"])
def test_spikes_sorted_and_buffers_resume(monkeypatch, method, first, most):
    # (1, 1): every block stops each time its buffer fills, then resumes; (1, 64): the buffers grow.
    monkeypatch.setattr(_driver, "FIRST_BUFFER_STEPS", first)
    monkeypatch.setattr(_driver, "BUFFER_STEPS", most)
    if most == 1:  # no growth past BUFFER_STEPS within the pooled memory either
        monkeypatch.setattr(_driver, "POOL_BYTES", 0)
    I = np.linspace(0.5, 4, 700)
    small = simulate_lif(LIF(tau_m=10, tau_ref=1), 700, 200.0, 0.1, I=I, method=method, backend="parallel")
    monkeypatch.setattr(_driver, "FIRST_BUFFER_STEPS", 4096)  # one launch
    big = simulate_lif(LIF(tau_m=10, tau_ref=1), 700, 200.0, 0.1, I=I, method=method, backend="cpu")
    np.testing.assert_array_equal(small.spike_times, big.spike_times)
    np.testing.assert_array_equal(small.spike_neurons, big.spike_neurons)
    order = np.lexsort((big.spike_neurons, big.spike_times))
    assert np.array_equal(order, np.arange(order.size))


def test_order_spikes_sorts_by_time_then_id_in_every_visiting_mode():
    rng = np.random.default_rng(3)
    times = np.round(rng.uniform(0, 50, 4000), 1)  # many ties inside a bin, as on a grid
    times[::7] += 0.03  # and some continuous times
    ids = rng.integers(0, 300, times.size)
    ref = np.lexsort((ids, times))
    for kw in ({}, {"n_ids": 300}):
        t, i = _driver.order_spikes(times, ids, 0.0, 0.1, 501, **kw)
        np.testing.assert_array_equal(t, times[ref])
        np.testing.assert_array_equal(i, ids[ref])
    # gathered launch by launch from 3 units that each emit in (time, id) order
    unit = ids % 3
    seg, parts = [], []
    for lc, (lo, hi) in enumerate([(0, 20), (20, 35), (35, 51)]):
        counts = []
        for u in range(3):
            sel = np.flatnonzero((unit == u) & (times >= lo) & (times < hi))
            sel = sel[np.lexsort((ids[sel], times[sel]))]
            parts.append(sel)
            counts.append(sel.size)
        seg.append(counts)
    order = np.concatenate(parts)
    t, i = _driver.order_spikes(times[order], ids[order], 0.0, 0.1, 511, seg=np.array(seg))
    np.testing.assert_array_equal(t, times[ref])
    np.testing.assert_array_equal(i, ids[ref])


def test_order_spikes_offset_start_bin_edges_and_crowded_bins():
    rng = np.random.default_rng(5)
    t0, dt, n_steps = 1e5, 0.1, 40
    k = rng.integers(0, n_steps, 3000)
    frac = rng.choice([0.0, 1e-12, 0.5, 1 - 1e-12], k.size)
    times = t0 + (k + frac) * dt
    times[:1500] = t0 + (7 + rng.uniform(0, 1, 1500)) * dt  # one bin of 1500 continuous times
    ids = rng.integers(0, 50, times.size)
    ref = np.lexsort((ids, times))
    for kw in ({}, {"n_ids": 50}):
        t, i = _driver.order_spikes(times, ids, t0, dt, n_steps, **kw)
        np.testing.assert_array_equal(t, times[ref])
        np.testing.assert_array_equal(i, ids[ref])
    t, i = _driver.order_spikes(times[:0], ids[:0], t0, dt, n_steps)
    assert t.size == i.size == 0


def test_order_spikes_large_bins_in_order_or_nearly_so():
    rng = np.random.default_rng(7)
    n_steps, dt = 30, 0.1
    k = np.repeat(np.arange(n_steps), 200)  # 200 spikes per bin: past the insertion-sort size
    ids = np.concatenate([np.sort(rng.choice(5000, 200, replace=False)) for _ in range(n_steps)])
    times = k * dt
    swapped = ids.copy()
    swapped[[1198, 1199]] = swapped[[1199, 1198]]  # bin 5 in order but for its last pair
    cont = times + np.where(k == 9, rng.uniform(0, dt, k.size), 0.0)  # bin 9: continuous times
    for t_in, i_in in ((times, ids), (times, swapped), (cont, ids)):
        ref = np.lexsort((i_in, t_in))
        t, i = _driver.order_spikes(t_in, i_in, 0.0, dt, n_steps)
        np.testing.assert_array_equal(t, t_in[ref])
        np.testing.assert_array_equal(i, i_in[ref])


def test_kept_spike_buffers_never_leak_into_results_or_between_threads():
    model = LIF(tau_m=10.0, tau_ref=2.0)
    inputs = [np.random.default_rng(s).uniform(0.5, 2.0, 700) for s in range(4)]
    ref = [simulate_lif(model, 700, 30.0, 0.1, I=I, backend="cpu") for I in inputs]
    kept = [(r.spike_times.copy(), r.spike_neurons.copy()) for r in ref]
    simulate_lif(model, 700, 30.0, 0.1, I=2.5, backend="cpu")  # reuses the kept buffers
    for r, (t, i) in zip(ref, kept):  # earlier results untouched
        np.testing.assert_array_equal(r.spike_times, t)
        np.testing.assert_array_equal(r.spike_neurons, i)
    out = [None] * 8

    def work(j):
        out[j] = simulate_lif(model, 700, 30.0, 0.1, I=inputs[j % 4], backend="cpu")

    threads = [threading.Thread(target=work, args=(j,)) for j in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for j, r in enumerate(out):
        np.testing.assert_array_equal(r.spike_times, kept[j % 4][0])
        np.testing.assert_array_equal(r.spike_neurons, kept[j % 4][1])


# ---------------------------------------------------------------- issue 13: reliability regressions

@pytest.mark.bad_input
def test_long_sparse_runs_sort_spikes_without_a_bin_per_step():
    # order_spikes allocated one int64 per step: 8 TB for 1e12 steps with a handful of spikes
    times = np.array([3e10, 1.0, 3e10, 5.5])
    ids = np.array([1, 0, 0, 2])
    t, i = _driver.order_spikes(times, ids, 0.0, 0.1, 10**12)
    np.testing.assert_array_equal(t, [1.0, 5.5, 3e10, 3e10])
    np.testing.assert_array_equal(i, [0, 2, 0, 1])


# ---------------------------------------------------------------- the bit raster of the CPU block kernels

@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("window_bytes", [1, 3 * 36 * 7])  # one step a window; 7 steps of 3 blocks
def test_raster_windows_give_the_run_of_one_window(monkeypatch, backend, window_bytes):
    # 700 neurons: 3 blocks, the last partial; inputs from silent to firing at every step the
    # refractory period allows, so rows hold no spike, some, and every neuron of a block.
    I = np.linspace(0.5, 40.0, 700)
    model = LIF(tau_m=10, tau_ref=0.1)
    one = simulate_lif(model, 700, 30.0, 0.1, I=I, backend=backend)
    monkeypatch.setattr(_driver, "RASTER_BYTES", window_bytes)
    monkeypatch.setattr(_driver, "_RASTER", [])
    many = simulate_lif(model, 700, 30.0, 0.1, I=I, backend=backend)
    np.testing.assert_array_equal(one.spike_times, many.spike_times)
    np.testing.assert_array_equal(one.spike_neurons, many.spike_neurons)
    order = np.lexsort((one.spike_neurons, one.spike_times))
    assert np.array_equal(order, np.arange(order.size))
    counts = np.bincount(one.spike_neurons, minlength=700)
    assert counts[0] == 0 and counts[-1] == counts.max() >= 100  # silent, and firing every refractory period
    # the spikes are the count-only kernel's, neuron by neuron
    from fastkernels.neurons.lif import run_lif
    np.testing.assert_array_equal(counts, run_lif(model, 700, 30.0, 0.1, I=I, backend=backend, count_only=True))


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
def test_raster_outputs_sized_from_a_rate_that_falls_are_trimmed(monkeypatch, backend):
    # Every neuron starts above threshold and then relaxes without input: all spikes in the first
    # window, whose rate sizes the outputs for the whole run; the slack is given back at the end.
    model = LIF(tau_m=10, tau_ref=2.0)
    one = simulate_lif(model, 700, 30.0, 0.1, v0=2.0, backend=backend)
    monkeypatch.setattr(_driver, "RASTER_BYTES", 3 * 36 * 2)  # 2 steps a window
    monkeypatch.setattr(_driver, "_RASTER", [])
    many = simulate_lif(model, 700, 30.0, 0.1, v0=2.0, backend=backend)
    assert many.spike_times.size == 700
    np.testing.assert_array_equal(one.spike_times, many.spike_times)
    np.testing.assert_array_equal(one.spike_neurons, many.spike_neurons)
    assert many.spike_times.base is None and many.spike_neurons.base is None  # copies, not views of the slack


def test_raster_spike_times_are_k_dt_and_continue_across_runs():
    I = np.linspace(1.0, 3.0, 300)
    model = LIF(tau_m=10, tau_ref=2.0)
    whole = simulate_lif(model, 300, 40.0, 0.1, I=I, backend="parallel")
    first = simulate_lif(model, 300, 17.3, 0.1, I=I, backend="parallel")
    rest = simulate_lif(model, 300, 22.7, 0.1, I=I, initial=first.final_state, backend="cpu")
    np.testing.assert_array_equal(np.concatenate([first.spike_times, rest.spike_times]), whole.spike_times)
    np.testing.assert_array_equal(np.concatenate([first.spike_neurons, rest.spike_neurons]), whole.spike_neurons)
    steps = np.round(whole.spike_times / 0.1).astype(np.int64)
    np.testing.assert_array_equal(whole.spike_times, steps * 0.1)


def test_raster_buffers_kept_between_runs_of_other_sizes():
    # the kept raster fits one population's blocks; a run of another size must not read it
    model = LIF(tau_m=10, tau_ref=1.0)
    for n in (300, 1000, 40, 1000):
        I = np.linspace(0.5, 4.0, n)
        res = simulate_lif(model, n, 20.0, 0.1, I=I, backend="parallel")
        from fastkernels.neurons.lif import run_lif
        np.testing.assert_array_equal(res.counts, run_lif(model, n, 20.0, 0.1, I=I, backend="cpu", count_only=True))


@pytest.mark.parametrize("parallel", [0, 1])
@pytest.mark.parametrize("n_chunks", [1, 3])
def test_decode_writes_each_window_from_its_row_starts(parallel, n_chunks):
    # 2 blocks x 9 steps: rows with no spike hold garbage (never written by the kernels), others a
    # few random bits; spikes land after `base` earlier ones, in (step, neuron) order, and the spill
    # slots past the end are the only other slots written.
    rng = np.random.default_rng(3)
    units, nk, base, k_first, dt = 2, 9, 5, 40, 0.1
    bits = rng.random((units, nk, 256)) < 0.05
    bits[0, 2] = bits[1, 2] = False  # a silent step
    bits[1, 7] = True  # a full row
    counts = bits.sum(axis=2).astype(np.int32)
    words = np.packbits(bits, axis=2, bitorder="little").view("<u8").astype(np.uint64)  # (units, nk, 4)
    words[counts == 0] = rng.integers(1, 2**63, size=(int((counts == 0).sum()), 4), dtype=np.uint64)
    raster = words.reshape(units, nk * 4)
    cur, n = _driver.row_starts(counts, nk, base)
    assert n == counts.sum() and cur[0] == base and cur[-1] == base + counts[:, :-1].sum()
    size = base + n + 8 * n_chunks
    out_t, out_i = np.full(size, -1.0), np.full(size, -1, dtype=np.int64)
    _driver.decode_raster[parallel](raster, counts, nk, k_first, dt, n_chunks, cur, n, out_t, out_i)
    steps, ids = np.nonzero(bits.transpose(1, 0, 2).reshape(nk, units * 256))
    np.testing.assert_array_equal(out_t[base:base + n], (k_first + steps) * dt)
    np.testing.assert_array_equal(out_i[base:base + n], ids)
    assert (out_t[:base] == -1).all() and (out_i[:base] == -1).all()
