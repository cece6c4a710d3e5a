"""The LIF grid kernels' private count-only mode (the ``lif_population`` benchmark's "count only"
bound), the spike ordering's fast path for large bins that arrive in order and the spike buffers
the driver keeps between runs."""

import threading

import numpy as np
import pytest

from fastkernels.neurons import LIF, _driver, simulate_lif
from fastkernels.neurons.lif import run_lif


@pytest.mark.parametrize("backend", ["cpu", "parallel"])
@pytest.mark.parametrize("model, kw", [
    (LIF(tau_m=10.0, tau_ref=2.0), {}),
    (LIF(tau_m=10.0, tau_ref=2.0, sigma=0.3), dict(seed=4)),
    (LIF(tau_m=np.linspace(5.0, 20.0, 600), tau_ref=2.0, threshold_jump=0.1, adaptation_jump=0.2), {}),
])
def test_count_only_counts_equal_the_recorded_spikes(model, kw, backend):
    n = 600  # three blocks, the last one partial
    I = np.random.default_rng(0).uniform(0.5, 2.0, n)
    ref = simulate_lif(model, n, 50.0, 0.1, I=I, backend=backend, **kw)
    counts = run_lif(model, n, 50.0, 0.1, I=I, backend=backend, count_only=True, **kw)
    assert counts.dtype == np.int64 and counts.shape == (n,)
    assert counts.sum() > 0
    np.testing.assert_array_equal(counts, ref.counts)


def test_count_only_refuses_the_event_method_and_cuda():
    with pytest.raises(ValueError, match="count_only"):
        run_lif(LIF(), 10, 1.0, 0.1, I=1.5, method="event", backend="cpu", count_only=True)


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
